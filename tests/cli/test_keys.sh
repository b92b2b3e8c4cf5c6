#!/usr/bin/env bash
# Key encryption keys: create, list, rotate with and without rewrap,
# retire, status against the rotation period, and old data always readable.
. "$(dirname "$0")/lib.sh"

new_ws "$T/ws" || exit 1
export VEIL_WORKSPACE="$T/ws"

veil key create bank
expect_rc "key create" 0
veil key create bank
expect_fail "a key name is unique" $E_EXISTS "exists|already"
veil key create "no good"
expect_fail "key names are checked" $E_INVALID "key name"
veil key create
expect_fail "key create needs a name" $E_USAGE "name"

rand_file "$T/a" 5000
veil data upload "$T/a" --name a --owner bank
veil key rotate bank
expect_rc "rotate without rewrap" 0
check "rotate says version 2" err_has "version 2"
veil key list --json
check "version 2 is current and one data key is on an old version" python3 -c "
import json; k=[x for x in json.load(open('$T/out')) if x['name']=='bank'][0]
assert k['current_version']==2 and k['deks']==1 and k['deks_on_old_versions']==1, k"
rand_file "$T/b" 3000
veil data upload "$T/b" --name b --owner bank
veil data download a -o "$T/a.out"
check "data from before the rotation still decrypts" cmp -s "$T/a" "$T/a.out"
veil key retire bank --version 4294967297
expect_fail "a version beyond 32 bits is refused, not wrapped around" $E_USAGE "from 1 to"
veil key retire bank --version 1
expect_fail "retire refuses a version still in use" $E_INVALID "rewrap|still"
check "and says how to fix it" err_has "rewrap"

objects_before=$(find "$T/ws/objects" -type f | sort | xargs sha256sum | sha256sum)
veil key rotate bank --rewrap
expect_rc "rotate --rewrap" 0
check "rewrap reports what it moved" err_has "Re-wrapped 2 data keys"
objects_after=$(find "$T/ws/objects" -type f | sort | xargs sha256sum | sha256sum)
check "rewrap does not touch the data" test "$objects_before" = "$objects_after"
veil key list --json
check "no data key is left on an old version" python3 -c "
import json; k=[x for x in json.load(open('$T/out')) if x['name']=='bank'][0]
assert k['current_version']==3 and k['deks_on_old_versions']==0, k"
veil key retire bank --version 1
expect_rc "retire after rewrap" 0
veil key retire bank --version 3
expect_fail "the current version cannot be retired" $E_INVALID "current"
for f in a b; do
	veil data download $f -o "$T/$f.out2"
	check "dataset $f readable after rotation, rewrap and retirement" cmp -s "$T/$f" "$T/$f.out2"
done

# A data key still wrapped under a retired version (forced, as a damaged
# key store would be): a clear key error, not garbage.
dek=$(python3 -c "import json,subprocess;print(json.loads(subprocess.run(['$VEIL_BIN','data','inspect','a','--json'],capture_output=True,text=True).stdout)['dek_id'])")
sqlite3 "$T/ws/keys/keys.db" "UPDATE deks SET kek_version=1 WHERE id='$dek'" 2>/dev/null ||
	not_ok "could force the key store (schema changed?)"
veil data download a -o "$T/a.bad"
expect_fail "a data key under a retired version is refused" $E_KEY "retired|version"
check "and nothing is written" test ! -e "$T/a.bad"

# status and the rotation period
veil key status
expect_rc "status is 0 when nothing is overdue" 0
sed -i 's/^key_rotation: .*/key_rotation: 1s/' "$T/ws/veil.yaml"
sleep 2
veil key status
expect_fail "status flags an overdue key and exits 1" $E_CHECK "overdue"
check "status names the key" out_has "bank.*OVERDUE"
veil key status --json
check "status --json marks it overdue" python3 -c "
import json; d=json.load(open('$T/out')); assert d['overdue']>=1 and any(k['overdue'] for k in d['keys'])"
veil key rotate bank
veil key status
check "the rotated key is no longer overdue" sh -c "! grep -q 'bank.*OVERDUE' '$T/out'"
sed -i 's/^key_rotation: .*/key_rotation: soon/' "$T/ws/veil.yaml"
veil key status
expect_fail "a bad key_rotation in veil.yaml is a clear error" $E_INVALID "key_rotation"

finish
