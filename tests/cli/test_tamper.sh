#!/usr/bin/env bash
# What an untrusted storage operator might do to stored objects, and what
# veil does about it: every change is refused, and no output appears.
. "$(dirname "$0")/lib.sh"

new_ws "$T/ws" || exit 1
export VEIL_WORKSPACE="$T/ws"
sed -i 's/chunk_size: [0-9]*/chunk_size: 1024/' "$T/ws/veil.yaml"
rand_file "$T/a" 4000
rand_file "$T/b" 4000
veil data upload "$T/a" --name a --owner o
veil data upload "$T/b" --name b --owner o

objpath() {
	local id
	id=$("$VEIL_BIN" data inspect "$1" --json | python3 -c "import json,sys;print(json.load(sys.stdin)['object_id'])")
	echo "$T/ws/objects/${id:0:2}/${id:2}"
}
A=$(objpath a)
B=$(objpath b)
cp "$A" "$T/A.good"
cp "$B" "$T/B.good"
size=$(stat -c %s "$A")
restore() { cp "$T/A.good" "$A"; cp "$T/B.good" "$B"; }
refused() {
	veil data download a -o "$T/out.a"
	if [ $RC -eq $E_CORRUPT ] && [ ! -e "$T/out.a" ] && err_has "tampered|damaged|modified|does not match"; then
		ok "$1"
	else
		not_ok "$1" "exit $RC, expected $E_CORRUPT and no output"
	fi
	rm -f "$T/out.a"
	restore
}

# single flipped bytes: header, first chunk, a tag, the last byte
for off in 0 9 20 40 80 100 1000 1100 2200 $((size - 1)); do
	printf '\x5a' | dd of="$A" bs=1 seek=$off conv=notrunc status=none
	cmp -s "$A" "$T/A.good" || refused "byte $off flipped"
	restore
done
truncate -s $((size - 1)) "$A"; refused "truncated by one byte"
truncate -s $((76 + 2 + 2 * 1040)) "$A"; refused "truncated at a chunk boundary"
truncate -s 0 "$A"; refused "emptied"
printf 'x' >>"$A"; refused "extended by one byte"
head -c 1040 /dev/zero >>"$A"; refused "extended by a chunk"
# swap chunks 0 and 1 (header length: 76 + key id length, read from offset 10)
hl=$(python3 -c "import sys;b=open('$A','rb').read();print(int.from_bytes(b[10:12],'big'))")
python3 - "$A" "$hl" <<'PY'
import sys
p, hl = sys.argv[1], int(sys.argv[2])
b = open(p, 'rb').read()
c = 1024 + 16
open(p, 'wb').write(b[:hl] + b[hl + c:hl + 2 * c] + b[hl:hl + c] + b[hl + 2 * c:])
PY
refused "two chunks swapped"
# chunk 1 of object b spliced into object a (same owner, same key wrapping)
python3 - "$A" "$B" "$hl" <<'PY'
import sys
a, b, hl = sys.argv[1], sys.argv[2], int(sys.argv[3])
x, y = open(a, 'rb').read(), open(b, 'rb').read()
c = 1024 + 16
open(a, 'wb').write(x[:hl + c] + y[hl + c:hl + 2 * c] + x[hl + 2 * c:])
PY
refused "a chunk from another object"
cp "$T/B.good" "$A"; refused "the whole object replaced by another one"
rm -f "$A" && mkfifo "$A"
timeout 20 "$VEIL_BIN" data download a -o "$T/out.a" >"$T/out" 2>"$T/err"; RC=$?
expect_fail "a FIFO planted in place of an object is refused at once, not waited on" $E_CORRUPT "not a regular file"
rm -f "$A"
veil data download a -o "$T/out.a"
expect_fail "a missing object is a clear error" $E_NOTFOUND "object|not found|no such"
restore
veil data download a -o "$T/out.a"
check "after repair the data reads back intact" cmp -s "$T/a" "$T/out.a"
# An edited catalog row pointing one owner's dataset at another owner's
# object and key (all four columns copied, so the object itself is intact).
rand_file "$T/bank" 3000
veil data upload "$T/bank" --name bankdata --owner bank
rand_file "$T/hosp" 3000
veil data upload "$T/hosp" --name hospdata --owner hospital
sqlite3 "$T/ws/catalog.db" "UPDATE dataset_versions SET (object_id, dek_id, sha256, size) =
  (SELECT object_id, dek_id, sha256, size FROM dataset_versions WHERE dataset_id =
     (SELECT id FROM datasets WHERE name='bankdata'))
  WHERE dataset_id = (SELECT id FROM datasets WHERE name='hospdata')"
veil data download hospdata -o "$T/stolen"
expect_fail "a catalog row naming another owner's key is refused" $E_CORRUPT "belongs to 'hospital'"
check "and releases nothing" test ! -e "$T/stolen"

veil audit log --json
check "failed downloads are audited" python3 -c "
import json; assert sum(1 for e in json.load(open('$T/out')) if e['action']=='data.download' and e['outcome']=='failed')>=10"

finish
