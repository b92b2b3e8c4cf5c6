#!/usr/bin/env bash
# Backup, restore and lifecycle: a snapshot of a live workspace that
# restores and verifies, and gc applying keep/expire rules with
# crypto-shredding.
. "$(dirname "$0")/lib.sh"

new_ws "$T/ws" || exit 1
export VEIL_WORKSPACE="$T/ws"
for i in 1 2 3 4; do
	rand_file "$T/v$i" $((1000 * i))
	veil data upload "$T/v$i" --name d --owner o
done
rand_file "$T/e" 500
veil data upload "$T/e" --name e --owner o

# backup while uploads run
( for i in 1 2 3; do "$VEIL_BIN" data upload "$T/e" --name busy --owner o >/dev/null 2>&1; done ) &
bg=$!
veil backup "$T/bk"
expect_rc "backup of a live workspace" 0
wait $bg
check "the backup has a manifest" test -f "$T/bk/MANIFEST"
check "the backup holds no passphrase or plaintext" sh -c "! grep -rqF '$VEIL_PASSPHRASE' '$T/bk'"
veil backup "$T/bk"
expect_fail "backup will not overwrite" $E_EXISTS "exists"
veil restore "$T/bk" "$T/restored/"
expect_rc "restore (a trailing slash on DIR is fine)" 0
VEIL_WORKSPACE="$T/restored" veil audit verify
expect_rc "the restored audit log verifies" 0
VEIL_WORKSPACE="$T/restored" veil data download d@2 -o "$T/r2"
check "restored data decrypts" cmp -s "$T/v2" "$T/r2"
cp -a "$T/bk" "$T/bk-bad"
obj=$(find "$T/bk-bad/objects" -type f | head -1)
flip_byte "$obj" 50
veil restore "$T/bk-bad" "$T/restored-bad"
expect_fail "a damaged backup is refused" $E_CORRUPT "modified|does not match"
check "and leaves nothing behind" sh -c "! ls -d '$T'/restored-bad* 2>/dev/null"
veil restore "$T/nothing" "$T/r3"
expect_fail "restoring a missing backup" $E_NOTFOUND "MANIFEST|backup"
# hostile backups
hostile() { rm -rf "$T/bh"; cp -a "$T/bk" "$T/bh"; }
hostile; rm "$T/bh/MANIFEST" && mkfifo "$T/bh/MANIFEST"
timeout 20 "$VEIL_BIN" restore "$T/bh" "$T/r4" >"$T/out" 2>"$T/err"; RC=$?
expect_fail "a MANIFEST that is a FIFO is refused, not waited on" $E_CORRUPT "not a regular file"
hostile; : >"$T/bh/MANIFEST"
veil restore "$T/bh" "$T/r4"
expect_fail "an empty MANIFEST is refused" $E_CORRUPT "empty"
hostile; grep -v "catalog.db" "$T/bk/MANIFEST" >"$T/bh/MANIFEST"
veil restore "$T/bh" "$T/r4"
expect_fail "a MANIFEST that leaves out a core file is refused" $E_CORRUPT "does not list catalog.db"
hostile; echo "secret" >"$T/outside"; ln -s "$T/outside" "$T/bh/keys/stolen"
veil restore "$T/bh" "$T/r4"
expect_fail "a symbolic link in a backup is refused" $E_CORRUPT "link"
hostile; echo x >"$T/bh/keys/extra"
veil restore "$T/bh" "$T/r4"
expect_fail "a file not in the MANIFEST is refused" $E_CORRUPT "not listed"
obj4=$("$VEIL_BIN" data inspect d@4 --json | python3 -c "import json,sys;print(json.load(sys.stdin)['object_id'])")
hostile; rm -f "$T/bh/objects/${obj4:0:2}/${obj4:2}"
veil restore "$T/bh" "$T/r4"
expect_fail "a backup missing an object is refused" $E_CORRUPT "no object for"
hostile; sqlite3 "$T/bh/keys/keys.db" "CREATE TRIGGER keep BEFORE UPDATE OF wrapped ON deks WHEN NEW.wrapped IS NULL BEGIN SELECT RAISE(IGNORE); END"
python3 - "$T/bh" <<'PY2'
import hashlib, sys
d = sys.argv[1]
lines = open(d + '/MANIFEST').read().splitlines()
out = []
for l in lines:
    if l.endswith('  keys/keys.db'):
        l = hashlib.sha256(open(d + '/keys/keys.db', 'rb').read()).hexdigest() + '  keys/keys.db'
    out.append(l)
open(d + '/MANIFEST', 'w').write('\n'.join(out) + '\n')
PY2
veil restore "$T/bh" "$T/r4"
expect_fail "a key store carrying a trigger (that would defeat shredding) is refused, even with a matching MANIFEST" $E_CORRUPT "trigger"
hostile; sqlite3 "$T/bh/catalog.db" "CREATE TRIGGER pub AFTER INSERT ON datasets BEGIN UPDATE datasets SET classification='public'; END"
veil restore "$T/bh" "$T/r4"
expect_fail "a catalog carrying a trigger is refused" $E_CORRUPT "trigger|modified"
check "no hostile backup left a workspace behind" sh -c "! ls -d '$T'/r4* 2>/dev/null"
VEIL_PASSPHRASE="wrong wrong wrong" veil restore "$T/bk" "$T/r5"
expect_fail "restore needs the workspace passphrase to check keys and log" $E_AUTH "wrong passphrase"

# lifecycle: keep the newest 2 versions
sed -i 's/keep_versions: 0/keep_versions: 2/' "$T/ws/veil.yaml"
veil gc --dry-run
check "dry run names what it would delete" out_has "would delete d@1"
veil data download d@1 -o "$T/d1"
check "a dry run deletes nothing" cmp -s "$T/v1" "$T/d1"
dek1=$("$VEIL_BIN" data inspect d@1 --json | python3 -c "import json,sys;print(json.load(sys.stdin)['dek_id'])")
obj1=$("$VEIL_BIN" data inspect d@1 --json | python3 -c "import json,sys;print(json.load(sys.stdin)['object_id'])")
cp "$T/ws/objects/${obj1:0:2}/${obj1:2}" "$T/obj1.copy"
veil gc
expect_rc "gc" 0
veil data download d@1 -o "$T/gone"
expect_fail "an expired version is gone" $E_NOTFOUND "no version 1|deleted"
veil data download d@4 -o "$T/d4"
check "the newest versions stay" cmp -s "$T/v4" "$T/d4"
veil data inspect d --json
check "versions 1 and 2 are marked deleted" python3 -c "
import json; v={x['version']:x['state'] for x in json.load(open('$T/out'))['versions']}
assert v[1]=='deleted' and v[2]=='deleted' and v[3]=='live' and v[4]=='live', v"
check "the data key of a deleted version is destroyed" sh -c \
	"sqlite3 '$T/ws/keys/keys.db' \"SELECT count(*) FROM deks WHERE id='$dek1' AND wrapped IS NULL\" | grep -qx 1"
check "the object of a deleted version is removed" test ! -e "$T/ws/objects/${obj1:0:2}/${obj1:2}"
# Someone kept a copy of the object and puts it and its catalog row back:
# the data key is gone, so the copy stays unreadable.
cp "$T/obj1.copy" "$T/ws/objects/${obj1:0:2}/${obj1:2}"
sqlite3 "$T/ws/catalog.db" "UPDATE dataset_versions SET state='live' WHERE object_id='$obj1'"
veil data download d@1 -o "$T/shredded"
expect_fail "crypto-shredding: a kept copy of a deleted object cannot be decrypted" $E_KEY "destroyed"
check "and nothing is written" test ! -e "$T/shredded"
sqlite3 "$T/ws/catalog.db" "UPDATE dataset_versions SET state='deleted' WHERE object_id='$obj1'"
VEIL_WORKSPACE="$T/restored" veil data download d@1 -o "$T/from-backup"
check "a backup taken before the deletion still holds it (documented)" cmp -s "$T/v1" "$T/from-backup"
veil audit log --json
check "each deletion is audited" python3 -c "
import json; a=[e['action'] for e in json.load(open('$T/out')) if e['resource'].startswith('d@') or e.get('detail',{}).get('dataset','').startswith('d@')]
assert a.count('data.delete')==2 and a.count('key.destroy')==2 and a.count('object.remove')>=2, a"
veil audit verify
expect_rc "the log still verifies after gc" 0

# unreferenced objects and temp files from killed writers
mkdir -p "$T/ws/objects/tmp"
echo junk >"$T/ws/objects/tmp/put-Ab12Cd"
veil gc
check "gc removes temp files left by killed writers" test ! -e "$T/ws/objects/tmp/put-Ab12Cd"

# A catalog copied back from before an upload must not make gc shred the
# newer version's key and object: the audit log still names them.
cp "$T/ws/catalog.db" "$T/catalog.old"
rm -f "$T/ws/catalog.db-wal" "$T/ws/catalog.db-shm"
rand_file "$T/late" 700
veil data upload "$T/late" --name late --owner o
cp "$T/ws/catalog.db" "$T/catalog.new"
cp "$T/catalog.old" "$T/ws/catalog.db"
rm -f "$T/ws/catalog.db-wal" "$T/ws/catalog.db-shm"
veil gc
check "gc with a stale catalog keeps what an upload event names" err_has "kept data key"
cp "$T/catalog.new" "$T/ws/catalog.db"
rm -f "$T/ws/catalog.db-wal" "$T/ws/catalog.db-shm"
veil data download late -o "$T/late.out"
check "so the newer version still decrypts once the catalog is put back" cmp -s "$T/late" "$T/late.out"

# expiry by age
sed -i 's/keep_versions: 2/keep_versions: 0/; s/expire_days: 0/expire_days: 1/' "$T/ws/veil.yaml"
sqlite3 "$T/ws/catalog.db" "UPDATE dataset_versions SET created = created - 3*86400 WHERE version = 1 AND dataset_id = (SELECT id FROM datasets WHERE name='e')" 2>/dev/null ||
	not_ok "could age a version (schema changed?)"
veil gc
veil data download e -o "$T/e.out"
expect_fail "a version older than expire_days is deleted" $E_NOTFOUND "e"
sed -i 's/expire_days: 1/expire_days: -1/' "$T/ws/veil.yaml"
veil gc
expect_fail "bad lifecycle values are a clear error" $E_INVALID "expire_days"

finish
