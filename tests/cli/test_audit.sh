#!/usr/bin/env bash
# The audit log through the CLI: events for every change and key use,
# verification, proofs an outsider can check, and tampering detected.
. "$(dirname "$0")/lib.sh"

new_ws "$T/ws" || exit 1
export VEIL_WORKSPACE="$T/ws"
logkey=$(sed -n 's/^Audit log public key: \([0-9a-f]*\)$/\1/p' "$T/err")
check "init prints the log public key" test ${#logkey} -eq 64
rand_file "$T/f" 2000
veil data upload "$T/f" --name d --owner o
veil data download d -o "$T/f.out"
veil key rotate o --rewrap

veil audit log --json
check "events for init, key creation, upload, download, rotation" python3 -c "
import json; a=[e['action'] for e in json.load(open('$T/out'))]
for x in ['workspace.init','key.create','data.upload','data.download','key.rotate','key.rewrap']:
    assert x in a, (x, a)"
check "events carry the acting principal" python3 -c "
import json; assert all(e['actor'] == 'admin' for e in json.load(open('$T/out')))"
check "every access decision is an event" python3 -c "
import json; a=[e for e in json.load(open('$T/out')) if e['action']=='access.decide']
assert len(a) >= 5 and all(e['outcome']=='ok' and e['detail']['statement']['policy']=='administrators' for e in a), a"
veil audit log
check "plain log lists data.upload" out_has "data.upload"
veil audit log --since 2999-01-01 --json
check "--since filters" python3 -c "import json; assert json.load(open('$T/out'))==[]"
veil audit log --since yesterday
expect_fail "--since checks its argument" $E_INVALID "not a time"

veil audit verify
expect_rc "verify passes on an untouched log" 0
check "verify counts events" out_has "audit log OK: [0-9]+ events"
n=$(python3 -c "import json,subprocess;print(len(json.loads(subprocess.run(['$VEIL_BIN','audit','log','--json'],capture_output=True,text=True).stdout)))")

veil audit proof inclusion 2 -o "$T/inc.json"
expect_rc "inclusion proof" 0
veil audit check-proof "$T/inc.json" --public-key "$T/ws/audit/log.pub"
expect_rc "an outsider checks it with the public key file" 0
check "check-proof says what it proved" out_has "proof OK"
pub=$(cat "$T/ws/audit/log.pub")
(cd / && VEIL_WORKSPACE= "$VEIL_BIN" audit check-proof "$T/inc.json" --public-key "$pub" >"$T/out" 2>"$T/err"); RC=$?
expect_rc "check-proof needs no workspace, only the key as hex" 0
veil audit proof consistency 4 "$n" -o "$T/cons.json"
expect_rc "consistency proof" 0
veil audit check-proof "$T/cons.json" --public-key "$T/ws/audit/log.pub"
expect_rc "consistency proof checks" 0
veil audit proof inclusion 99999
expect_fail "proof of a missing event" $E_INVALID "99999|beyond|size"
veil audit proof sideways 1
expect_fail "unknown proof kind" $E_USAGE "inclusion or consistency"

# forged proofs
python3 - "$T/inc.json" "$T/forged.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
def flip(h): return ('0' if h[0] != '0' else '1') + h[1:]
s = json.dumps(p)
# change one hex digit of the first 64-hex-digit string that is not the signature
import re
m = [x for x in re.finditer(r'"([0-9a-f]{64})"', s)]
i = m[0].start(1)
s = s[:i] + flip(s[i:i+64]) + s[i+64:]
open(sys.argv[2], 'w').write(s)
PY
veil audit check-proof "$T/forged.json" --public-key "$T/ws/audit/log.pub"
check "a forged proof is rejected" test $RC -ne 0
new_ws "$T/other" || exit 1
veil audit check-proof "$T/inc.json" --public-key "$T/other/audit/log.pub"
expect_fail "a proof checked against another log's key is rejected" 18 "signature|REJECTED"
use_ws "$T/ws"

# tampering with the log files
cp -a "$T/ws/audit" "$T/audit.good"
leaves=$(ls "$T/ws/audit" | grep -v -e heads -e pub -e lock | head -1)
python3 - "$T/ws/audit/$leaves" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.find(b'data.upload')
b[i] = ord('D')
open(p, 'wb').write(bytes(b))
PY
veil audit verify
expect_fail "an edited event fails verification" $E_CHECK "leaf|modified"
rm -rf "$T/ws/audit" && cp -a "$T/audit.good" "$T/ws/audit"
veil audit verify
expect_rc "restored log verifies again" 0
truncate -s -10 "$T/ws/audit/leaves"
veil audit verify
expect_fail "committed events cut from the leaves file are reported" $E_CHECK "leaf|truncated|missing|short"
rm -rf "$T/ws/audit" && cp -a "$T/audit.good" "$T/ws/audit"
# A torn final head is what a crash during commit leaves: verify accepts the
# log up to the head before it (docs/formats/audit.md, crash semantics).
truncate -s -10 "$T/ws/audit/heads"
veil audit verify
expect_rc "a torn final head reads as an interrupted commit" 0
check "and verify says so" out_has "interrupted commit"
rm -rf "$T/ws/audit" && cp -a "$T/audit.good" "$T/ws/audit"

# Replacing the whole log (and its log.pub) with another workspace's is
# caught: the key store, or the auditor's own record of the key, pins it.
new_ws "$T/ws3" || exit 1
VEIL_WORKSPACE="$T/ws3" veil data upload "$T/f" --name other --owner o
use_ws "$T/ws"
mv "$T/ws/audit" "$T/audit.mine" && cp -a "$T/ws3/audit" "$T/ws/audit"
veil audit verify
expect_fail "a log replaced with another workspace's fails against the key store's key" $E_CHECK "signature|key|FAILED"
veil audit verify --public-key "$logkey"
expect_fail "and against the key printed at init" $E_CHECK "signature|key|FAILED"
rm -rf "$T/ws/audit" && mv "$T/audit.mine" "$T/ws/audit"
veil audit verify --public-key "$logkey"
expect_rc "the real log verifies against the key printed at init" 0

# A catalog row pointed at another version's object and key (same owner,
# so the download check cannot tell): the row no longer matches its event.
veil data upload "$T/f" --name twin --owner o
cp "$T/ws/catalog.db" "$T/catalog.good"
sqlite3 "$T/ws/catalog.db" "UPDATE dataset_versions SET (object_id, dek_id, sha256, size) =
  (SELECT object_id, dek_id, sha256, size FROM dataset_versions WHERE dataset_id = (SELECT id FROM datasets WHERE name='d'))
  WHERE dataset_id = (SELECT id FROM datasets WHERE name='twin')"
veil audit verify
expect_fail "a catalog row that differs from its upload event is caught" $E_CHECK "differs from its upload event"
cp "$T/catalog.good" "$T/ws/catalog.db"
rm -f "$T/ws/catalog.db-wal" "$T/ws/catalog.db-shm"
veil audit verify
expect_rc "the original catalog verifies again" 0

# A log cut back to before an upload: the catalog still names the version,
# which now has no upload event.
cp -a "$T/ws/audit" "$T/audit.full"
veil data upload "$T/f" --name late --owner o
rm -rf "$T/ws/audit" && cp -a "$T/audit.full" "$T/ws/audit"
veil audit verify
expect_fail "a log rolled back behind the catalog is caught" $E_CHECK "no upload event"
check "naming the version" err_has "late@1"

finish
