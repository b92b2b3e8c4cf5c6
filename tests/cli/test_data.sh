#!/usr/bin/env bash
# Datasets end to end: upload, download, list, inspect, versions, tags,
# and every kind of bad input.
. "$(dirname "$0")/lib.sh"

new_ws "$T/ws" || exit 1
export VEIL_WORKSPACE="$T/ws"
# A small chunk size makes several chunks out of small files.
sed -i 's/chunk_size: [0-9]*/chunk_size: 1024/' "$T/ws/veil.yaml"

for size in 0 1 1023 1024 1025 3072 5000 100000; do
	rand_file "$T/in.$size" $size
	veil data upload "$T/in.$size" --name "d$size" --owner alice
	if [ $RC -ne 0 ]; then not_ok "upload $size bytes" "exit $RC"; continue; fi
	veil data download "d$size" -o "$T/back.$size"
	if [ $RC -eq 0 ] && cmp -s "$T/in.$size" "$T/back.$size"; then ok "round trip of $size bytes"; else
		not_ok "round trip of $size bytes" "exit $RC"; fi
done

check "no plaintext in the object folder" sh -c "! grep -rqF \"\$(head -c 64 '$T/in.100000' | od -An -tx1 | head -1)\" '$T/ws/objects'"
printf 'name,diagnosis\nAda Lovelace,secret-marker-7781\n' >"$T/plain.csv"
veil data upload "$T/plain.csv" --name patients --owner hospital --classification restricted \
	--tag source=ehr --tag year=2026
expect_rc "upload with classification and tags" 0
check "plaintext never reaches disk in the workspace" sh -c "! grep -rq secret-marker-7781 '$T/ws'"

veil data upload "$T/plain.csv" --name patients --owner hospital --json
expect_rc "a second upload makes version 2" 0
check "--json says version 2" sh -c "grep -q '\"version\": 2' '$T/out'"

veil data list
check "list shows patients" out_has "patients"
veil data list --json
check "list --json is JSON" python3 -c "import json,sys; d=json.load(open('$T/out')); assert any(x['name']=='patients' and x['version']==2 for x in d)"

veil data inspect patients@1 --json
check "inspect --json has the plaintext sha256" python3 -c "
import json,hashlib; d=json.load(open('$T/out'))
assert d['sha256']==hashlib.sha256(open('$T/plain.csv','rb').read()).hexdigest()
assert d['version']==1 and d['owner']=='hospital' and d['classification']=='restricted'
assert {'key':'source','value':'ehr'} in d['tags'] or d['tags'].get('source')=='ehr'
assert len(d['versions'])==2
assert any(e['relation']=='uploaded_from' for e in d['lineage'])"
veil data inspect patients
check "inspect shows the latest version" out_has "version[: ]+2"
check "inspect shows the lineage" out_has "uploaded_from"

veil data download patients@1 -o "$T/p1.csv"
check "download of an explicit version" cmp -s "$T/plain.csv" "$T/p1.csv"
veil data download patients@1 -o "$T/p1.csv"
expect_fail "download will not overwrite" $E_EXISTS "exists"
veil data download patients@1 -o "$T/p1.csv" --force
expect_rc "unless --force" 0
veil data download patients@1 -o - 
check "download to stdout" cmp -s "$T/plain.csv" "$T/out"

# progress bar: on a terminal (script(1) gives one), not when stderr is a file
rand_file "$T/prog" 3000000
VEIL_PROGRESS_AFTER=0 script -qec "'$VEIL_BIN' data upload '$T/prog' --name prog --owner alice" "$T/tty" >/dev/null
check "a progress bar on a terminal" grep -q "encrypting 100% \[=*\]" "$T/tty"
VEIL_PROGRESS_AFTER=0 veil data download prog -o "$T/prog.out"
check "no progress bar when stderr is not a terminal" sh -c "! grep -q encrypting '$T/err' && ! grep -q decrypting '$T/err'"
VEIL_PROGRESS_AFTER=off script -qec "'$VEIL_BIN' data download prog -o '$T/prog.out2'" "$T/tty2" >/dev/null
check "VEIL_PROGRESS_AFTER=off turns it off" sh -c "! grep -q decrypting '$T/tty2'"

# concurrent first uploads for a new owner all succeed (one creates the key)
for i in 1 2 3 4 5 6; do
	"$VEIL_BIN" data upload "$T/plain.csv" --name "race$i" --owner newcomer >"$T/race$i.out" 2>&1 &
done
wait
veil data list --json
check "six concurrent uploads for a new owner all land" python3 -c "
import json; d=json.load(open('$T/out')); assert sum(1 for x in d if x['name'].startswith('race'))==6, d"

# bad input
veil data upload "$T/missing" --name x --owner alice
expect_fail "missing input file" $E_NOTFOUND "missing"
veil data upload "$T/plain.csv" --owner alice
expect_fail "no --name" $E_USAGE "--name"
veil data upload "$T/plain.csv" --name x
expect_fail "no --owner" $E_USAGE "--owner"
veil data upload "$T/plain.csv" --name "../evil" --owner alice
expect_fail "bad dataset name" $E_INVALID "dataset name"
veil data upload "$T/plain.csv" --name x --owner "bad owner"
expect_fail "bad owner" $E_INVALID "owner"
veil data upload "$T/plain.csv" --name x --owner alice --classification secret
expect_fail "bad classification" $E_INVALID "classification"
veil data upload "$T/plain.csv" --name x --owner alice --tag novalue
expect_fail "bad tag" $E_INVALID "tag"
veil data upload "$T/ws" --name x --owner alice
expect_fail "a folder is not a file" $E_INVALID "not a regular file"
veil data upload "$T/plain.csv" --name patients --owner mallory
expect_fail "a dataset keeps its owner" $E_INVALID "owned by hospital"
veil data list --json
check "failed uploads left no dataset" python3 -c "import json; d=json.load(open('$T/out')); assert not any(x['name']=='x' for x in d)"
veil data download nosuch -o "$T/n"
expect_fail "unknown dataset" $E_NOTFOUND "no dataset named nosuch"
veil data download patients@9 -o "$T/n"
expect_fail "unknown version" $E_NOTFOUND "no version 9"
veil data download patients@x -o "$T/n"
expect_fail "bad version syntax" $E_INVALID "version"
veil data download patients
expect_fail "download needs -o" $E_USAGE "-o"
check "no stray output files" test ! -e "$T/n"
VEIL_PASSPHRASE="wrong wrong wrong" veil data download patients -o "$T/n"
expect_fail "wrong passphrase on download" $E_AUTH "wrong passphrase"
check "and no output" test ! -e "$T/n"

finish
