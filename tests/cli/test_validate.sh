#!/usr/bin/env bash
# Validation, profiling and the privacy scan inside the trusted worker
# (issue 5), driven as a data owner would: synthetic patients are uploaded;
# `veil data profile` infers a schema; `veil data validate` checks the data
# against the example schema and against one it breaks; the signed reports
# are kept sealed, summarised in the catalog, tagged pii:*, raise the
# dataset's classification, and verify offline with `veil data report
# --verify`; no value of a sensitive column appears in any report; bad
# input (a schema that does not parse or names a missing column, a
# malformed CSV) is refused with its line and column and leaves nothing
# behind; gc keeps a live version's reports and shreds a deleted one's.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

unset VEIL_WORKER VEIL_TEE VEIL_TSM_ROOT
PY=$(python3 -c 'import sys; print(sys.executable)')
GEN=$VEIL_BUILD_ROOT/tools/veil-datagen
E_LIMIT=24

new_ws "$T/ws" || exit 1
export VEIL_WORKSPACE=$T/ws
quietly() { veil "$@"; [ "$RC" -eq 0 ] || echo "# veil $* failed: $(err)"; }
count_reports() { "$PY" -S -c "import sqlite3; print(sqlite3.connect('$T/ws/catalog.db').execute('select count(*) from reports').fetchone()[0])"; }

# A release policy that lets this build's worker have keys in the simulated TEE.
MEAS=$("$VEIL_BIN" attest measure 2>/dev/null)
printf 'version: 1\ntee: [sim]\nallow_simulated: true\nmeasurements:\n  - %s\nmax_age: 5m\n' "$MEAS" >"$T/release.yaml"
quietly attest policy set "$T/release.yaml"

"$GEN" --rows 3000 --seed 7 -o "$T/patients.csv"
quietly data upload "$T/patients.csv" --name patients --owner clinic -c internal

# ==== 1. profile ====
veil data profile patients -o "$T/inferred.yaml"
expect_rc "data profile succeeds" 0
check "... prints a summary with rows and personal data found" sh -c "grep -q 'rows: *3000' '$T/out' && grep -q 'personal data: .*email' '$T/out'"
check "... and warns that the TEE is simulated" err_has "simulated"
check "... writes a schema that names every column" "$PY" -S -c "
t=open('$T/inferred.yaml').read()
for c in ['patient_id','email','ssn','date_of_birth','age','bmi']: assert ('- name: '+c+'\n' in t) or ('- name: '+chr(34)+c+chr(34) in t), c
assert 'version: 1' in t"
veil data validate patients --schema "$T/inferred.yaml"
expect_rc "... and the data validates against the schema it inferred" 0
veil data profile patients -o -
check "-o - prints the schema on standard output" grep -q '^columns:' "$T/out"
veil data profile patients --json -o -
expect_fail "--json with -o - is a usage error" "$E_USAGE" "standard output"

# ==== 1b. an IDX data set (Fashion-MNIST, from scripts/deps.sh) ====
FM=/usr/share/datasets/fashion-mnist
quietly data upload "$FM/t10k-labels-idx1-ubyte.gz" --name fm-labels --owner clinic -c internal
quietly data upload "$FM/t10k-images-idx3-ubyte.gz" --name fm-images --owner clinic -c internal
veil data profile fm-labels --json
expect_rc "profile of gzipped IDX labels succeeds" 0
veil data report fm-labels --json
check "... 10000 labels, 10 balanced classes, no value listed" "$PY" -S -c "
import json; r=json.load(open('$T/out')); p=r['profile']
assert p['format']=='idx' and p['type']=='u8' and p['dims']==[10000] and p['items']==10000, p
assert p['classes']=={'distinct':10,'largest_share':0.1,'smallest_share':0.1}, p['classes']
assert r['summary']['rows']==10000 and r['summary']['pii']==[], r['summary']"
veil data profile fm-images --json
check "profile of the images: 10000 items of 28x28 u8" sh -c "[ $RC -eq 0 ] && grep -q '\"rows\": *10000' '$T/out'"
veil data report fm-images --json
check "... whose report gives the shape and pixel aggregates" "$PY" -S -c "
import json; p=json.load(open('$T/out'))['profile']
assert p['dims']==[10000,28,28] and p['values']==7840000 and 0 < p['mean'] < 255, p"
veil data validate fm-labels --schema "$SRC/examples/patients.schema.yaml"
expect_fail "validating IDX data against a schema says to profile it" "$E_INVALID" "IDX data"
veil data profile fm-labels -o "$T/none.yaml"
expect_fail "... and profile -o of IDX data says there is no schema to write" "$E_INVALID" "no schema to write"

# ==== 2. validate against the example schema ====
veil data validate patients --schema "$SRC/examples/patients.schema.yaml" --json
expect_rc "validate against examples/patients.schema.yaml passes" 0
check "... the summary: passed, 3000 rows, no violations, restricted, pii found" "$PY" -S -c "
import json; d=json.load(open('$T/out')); s=d['summary']
assert s['passed'] is True and s['rows']==3000 and s['violations']==0, s
assert s['classification']=='restricted', s
for c in ['email','ssn','phone','person-name','date-of-birth']: assert c in s['pii'], (c, s['pii'])
assert d['dataset']=='patients' and d['version']==1 and d['report']>=1, d"
veil data inspect patients --json
check "the version is tagged pii:* and the dataset is now restricted" "$PY" -S -c "
import json; d=json.load(open('$T/out')); s=json.dumps(d)
assert 'pii:email' in s and 'pii:ssn' in s, s[:400]
assert '\"restricted\"' in s, s[:400]"

# ==== 3. the report, offline ====
veil data report patients --verify
expect_rc "data report --verify checks signature, evidence and binding" 0
check "... and says so, simulated" sh -c "grep -q 'verified' '$T/out' && grep -q 'SIMULATED' '$T/out'"
veil data report patients --json --full
check "the envelope holds the report, signature, signing key and evidence" "$PY" -S -c "
import json; e=json.load(open('$T/out'))
assert e['format']=='veil-report-envelope' and e['version']==1, e.keys()
r=json.loads(e['report'])
assert r['format']=='veil-report' and r['job']=='validate' and r['worker']['measurement']=='$MEAS', r.keys()
assert len(e['signature'])==128 and len(e['signing_key'])==64 and e['attestation']['tee']=='sim', e['attestation'].keys()
open('$T/report.json','w').write(e['report'])"
# No raw value of a sensitive column may be in any report: take values
# straight from the CSV and look for each one in the report's bytes.
check "no e-mail, SSN, phone, name or birth date of the data is in the report" "$PY" -S -c "
import csv
rows=list(csv.DictReader(open('$T/patients.csv')))
rep=open('$T/report.json').read()
leaks=[(c,r[c]) for r in rows for c in ['email','ssn','phone','name','date_of_birth','patient_id'] if r[c] and r[c] in rep]
assert not leaks, leaks[:5]"

check "the catalog holds the seven reports so far" test "$(count_reports)" -eq 7

# ==== 4. a schema the data breaks ====
sed -e 's/    max: 90/    max: 60/' "$SRC/examples/patients.schema.yaml" >"$T/strict.yaml"
veil data validate patients --schema "$T/strict.yaml" --json
expect_rc "validation against a stricter schema fails with exit 1" "$E_CHECK"
check "... and its summary counts the violations" "$PY" -S -c "
import json; s=json.load(open('$T/out'))['summary']
assert s['passed'] is False and s['violations']>0, s"
veil data report patients --kind validate --full
veil data report patients --kind validate --json
check "age is sensitive: its max violations are counted, their records withheld (no value oracle)" "$PY" -S -c "
import json; v=json.load(open('$T/out'))['validation']['violations']
assert v['by_rule']['max']>0 and v['withheld']>0, v['by_rule']
assert not [x for x in v['list'] if x.get('column')=='age'], v['list'][:3]"
check "the worker redacts every column: no min or max anywhere in the report" "$PY" -S -c "
import json; r=json.load(open('$T/out'))
cols=r['validation']['columns']
assert all('min' not in c.get('stats',{}) and 'max' not in c.get('stats',{}) and c['sensitive'] for c in cols), cols[9]"
# The catalog's row is the host's; the signed report is the worker's.
"$PY" -S -c "import sqlite3; db=sqlite3.connect('$T/ws/catalog.db'); db.execute(\"update reports set passed=1, summary='{\\\"passed\\\":true}' where id=(select max(id) from reports)\"); db.commit()"
veil data report patients --kind validate
check "a catalog row edited to say passed still shows the signed verdict: failed" sh -c "[ $RC -eq 0 ] && grep -q 'failed' '$T/out' && ! grep -q 'passed$' '$T/out'"
# A row pointed at another report's envelope (here the first profile's) is caught.
cat >"$T/swap.py" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cols = 'object_id, dek_id, sha256, size, signer'
last = db.execute('select id, %s from reports order by id desc limit 1' % cols).fetchone()
if sys.argv[2] == 'swap':
    first = db.execute('select %s from reports order by id limit 1' % cols).fetchone()
    open(sys.argv[3], 'w').write(repr(last))
    db.execute('update reports set object_id=?, dek_id=?, sha256=?, size=?, signer=? where id=?', first + (last[0],))
else:
    saved = eval(open(sys.argv[3]).read())
    db.execute('update reports set object_id=?, dek_id=?, sha256=?, size=?, signer=? where id=?', saved[1:] + (saved[0],))
db.commit()
EOF
"$PY" -S "$T/swap.py" "$T/ws/catalog.db" swap "$T/saved-row"
veil data report patients --kind validate --verify
expect_fail "a report row swapped to another report's envelope is refused" "$E_CORRUPT" "describes other data"
"$PY" -S "$T/swap.py" "$T/ws/catalog.db" restore "$T/saved-row"
veil data report patients --kind validate --verify
expect_rc "... and verifies again once restored" 0

# ==== 5. bad input: clear errors, nothing stored ====
BEFORE=$(count_reports)
printf 'version: 1\ncolumns:\n  - name: age\n    type: integr\n' >"$T/bad.yaml"
veil data validate patients --schema "$T/bad.yaml"
expect_fail "a schema with an unknown type is refused with its line and column" "$E_INVALID" "bad.yaml: line 4, column"
printf 'version: 1\ncolumns:\n  - name: no_such_column\n    type: int\n' >"$T/missing.yaml"
veil data validate patients --schema "$T/missing.yaml"
expect_fail "a schema naming a column the file lacks is refused" "$E_INVALID" "no_such_column"
veil data validate patients --schema "$T/nope.yaml"
expect_fail "a missing schema file is not-found" "$E_NOTFOUND" "nope.yaml"
veil data validate patients
expect_fail "validate without --schema is a usage error that points at profile" "$E_USAGE" "data profile"
printf 'a,b\n1,"unbalanced\n' >"$T/broken.csv"
quietly data upload "$T/broken.csv" --name broken --owner clinic
veil data profile broken
expect_fail "a malformed CSV is refused with its line and column" "$E_INVALID" "line 2, column"
printf 'a,b\n1,2\n3\n' >"$T/ragged.csv"
quietly data upload "$T/ragged.csv" --name ragged --owner clinic
veil data validate ragged --schema "$T/inferred.yaml"
check "a ragged CSV is refused too" sh -c "[ $RC -ne 0 ] && [ $RC -ne 1 ]"
check "... and none of these stored a report" test "$(count_reports)" -eq "$BEFORE"
veil data validate nosuch --schema "$T/inferred.yaml"
expect_rc "an unknown dataset is not-found" "$E_NOTFOUND"

# ==== 6. the key release gate still holds ====
printf 'version: 1\ntee: [sim]\nallow_simulated: true\nmeasurements:\n  - %s\nmax_age: 5m\n' "$(printf 'ab%.0s' {1..48})" >"$T/deny.yaml"
quietly attest policy set "$T/deny.yaml"
veil data profile patients
expect_fail "a policy that does not allow this worker: no key, no report" "$E_DENIED" "measurement"
check "... and no report stored" test "$(count_reports)" -eq "$BEFORE"
quietly attest policy set "$T/release.yaml"

# ==== 7. a tampered report object is caught ====
OBJ=$("$PY" -S -c "import sqlite3; print(sqlite3.connect('$T/ws/catalog.db').execute('select object_id from reports order by id desc limit 1').fetchone()[0])")
OBJPATH=$T/ws/objects/${OBJ:0:2}/${OBJ:2}
check "the report's object is in the store" test -f "$OBJPATH"
cp "$OBJPATH" "$T/obj.bak"
flip_byte "$OBJPATH" 200
veil data report patients
expect_fail "a report object changed at rest does not open" "$E_CORRUPT" "damaged|tampered|authenticat"
cp "$T/obj.bak" "$OBJPATH"

# ==== 8. gc keeps reports of live versions, shreds those of deleted ones ====
veil gc
expect_rc "gc" 0
veil data report patients --verify
expect_rc "... and the live version's report still opens and verifies" 0
quietly data upload "$T/patients.csv" --name patients --owner clinic
sed -i 's/keep_versions: 0/keep_versions: 1/' "$T/ws/veil.yaml"
veil gc
check "after deleting the version gc removed its report objects" sh -c "[ ! -e '$OBJPATH' ]"
veil data report patients@1
expect_rc "... and the deleted version has no report to show" "$E_NOTFOUND"
sed -i 's/keep_versions: 1/keep_versions: 0/' "$T/ws/veil.yaml"

# ==== 9. the audit trail ====
veil audit log --json
check "validate, profile and report are audited, failures too" "$PY" -S -c "
import json; ev=json.load(open('$T/out')); a=[(e['action'],e['outcome']) for e in ev]
assert ('data.validate','ok') in a and ('data.profile','ok') in a and ('data.report','ok') in a, set(a)
assert ('data.validate','failed') in a or ('data.profile','failed') in a, set(a)"
veil audit verify
expect_rc "the audit log verifies" 0

veil data validate --help
check "data validate --help explains it" sh -c "[ $RC -eq 0 ] && grep -q 'schema' '$T/out'"
veil data profile --help
check "data profile --help explains it" sh -c "[ $RC -eq 0 ] && grep -q 'infer' '$T/out'"
veil data report --help
check "data report --help explains --verify" sh -c "[ $RC -eq 0 ] && grep -q -- '--verify' '$T/out'"

echo "1..$_n"
[ "$_failed" -eq 0 ]
