#!/usr/bin/env bash
# Feature engineering inside the trusted worker (issue 5), driven as a data
# owner would: `veil features build` fits examples/patients.pipeline.yaml on
# synthetic patients; the output and the fitted transform become new
# encrypted versions whose plaintext this process never held; the worker's
# signed report verifies offline and gives each feature's mutual
# information with the label; pseudonyms are keyed per compartment and
# stable across builds; lineage links input, pipeline, transform and output
# with the worker's measurement; the compliance rule refuses training on
# the restricted input and allows it on the de-identified output; bad
# pipelines are refused with line and column and leave nothing behind.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

unset VEIL_WORKER VEIL_TEE VEIL_TSM_ROOT
PY=$(python3 -c 'import sys; print(sys.executable)')
GEN=$VEIL_BUILD_ROOT/tools/veil-datagen
SCHEMA=$SRC/examples/patients.schema.yaml
PIPE=$SRC/examples/patients.pipeline.yaml

new_ws "$T/ws" || exit 1
export VEIL_WORKSPACE=$T/ws
quietly() { veil "$@"; [ "$RC" -eq 0 ] || echo "# veil $* failed: $(err)"; }
count() { "$PY" -S -c "import sqlite3; print(sqlite3.connect('$T/ws/catalog.db').execute(\"$1\").fetchone()[0])"; }
nobjects() { find "$T/ws/objects" -type f | wc -l; }

MEAS=$("$VEIL_BIN" attest measure 2>/dev/null)
printf 'version: 1\ntee: [sim]\nallow_simulated: true\nmeasurements:\n  - %s\nmax_age: 5m\n' "$MEAS" >"$T/release.yaml"
quietly attest policy set "$T/release.yaml"
"$GEN" --rows 4000 --seed 11 -o "$T/patients.csv"
quietly data upload "$T/patients.csv" --name patients --owner clinic -c restricted

# ==== 1. build ====
veil features build "$PIPE" --input patients --output features --schema "$SCHEMA" --json
expect_rc "features build with the example pipeline succeeds" 0
check "... output features@1 and transform features.transform@1, identifiers gone" "$PY" -S -c "
import json; d=json.load(open('$T/out')); s=d['summary']
assert d['output']=='features' and d['version']==1 and d['transform']=='features.transform', d
assert s['rows_in']==4000 and 0 < s['rows_out'] <= 4000 and s['rows_in']-s['rows_out']==s['rows_suppressed'], s
assert s['direct_identifiers_removed'] is True and s['pseudonymised'] is True, s"
veil data list --json
check "both new datasets are listed, restricted like their input, owned by its owner" "$PY" -S -c "
import json; d={x['name']:x for x in json.load(open('$T/out'))}
for n in ['features','features.transform']:
    assert d[n]['classification']=='restricted' and d[n]['owner']=='clinic', d[n]"

# ==== 2. the output, read back as its owner would ====
veil data download features -o "$T/features.csv"
expect_rc "the output downloads (decrypted here, by its owner's key)" 0
check "it has no direct identifier column and pseudonyms instead of ids" "$PY" -S -c "
import csv
r=list(csv.DictReader(open('$T/features.csv')))
cols=set(r[0].keys())
for c in ['name','ssn','phone','email','date_of_birth']: assert c not in cols, c
ids=set(x['patient_id'] for x in csv.DictReader(open('$T/patients.csv')))
assert all(x['patient_id'] not in ids and len(x['patient_id'])==32 for x in r), r[0]['patient_id']
assert 'cardiac_event' in cols and 'sex=F' in cols, sorted(cols)"
check "no name, e-mail or SSN of the input appears anywhere in the output" "$PY" -S -c "
import csv
out=open('$T/features.csv').read()
leaks=[v for x in csv.DictReader(open('$T/patients.csv')) for v in (x['email'],x['ssn'],x['name']) if v and v in out]
assert not leaks, leaks[:3]"
veil data download features.transform -o "$T/fitted.yaml"
check "the fitted transform is the pipeline with its parameters, and no key" sh -c "grep -q 'fitted' '$T/fitted.yaml' && grep -q 'standardize' '$T/fitted.yaml'"

# ==== 3. the report ====
veil data report features --verify --json
expect_rc "the build report verifies offline" 0
check "... and gives mutual information with the label for the features" "$PY" -S -c "
import json; r=json.load(open('$T/out'))
mi=r['build']['mutual_information']
assert mi['label']=='cardiac_event' and len(mi['features'])>10, mi
assert all(f['bits']>=0 for f in mi['features']), mi
k=[f for f in mi['features'] if f.get('key')]
assert [f['column'] for f in k]==['patient_id'] and mi['features'][-1]['column']=='patient_id', k
assert r['output']['sha256'] and r['dataset']['sha256'], r.keys()"
SHA_OUT=$("$PY" -S -c "import hashlib; print(hashlib.sha256(open('$T/features.csv','rb').read()).hexdigest())")
check "the report names exactly the output's SHA-256" grep -q "$SHA_OUT" "$T/out"

# ==== 4. lineage ====
veil data inspect features --json
check "lineage: output derived from input, transformed by the fitted transform, with the worker's measurement" "$PY" -S -c "
import json; d=json.load(open('$T/out')); e=d['lineage']
rel={(x['from'],x['relation'],x['to']):x for x in e}
assert ('features@1','derived_from','patients@1') in rel, rel.keys()
assert ('features@1','transformed_by','features.transform@1') in rel, rel.keys()
assert rel[('features@1','derived_from','patients@1')]['measurement']=='$MEAS', e"
veil data inspect features.transform --json
check "... the transform was fitted on the input, from the pipeline's SHA-256" "$PY" -S -c "
import json,hashlib; e=json.load(open('$T/out'))['lineage']
p='sha256:'+hashlib.sha256(open('$PIPE','rb').read()).hexdigest()
rel={(x['relation'],x['to']) for x in e}
assert ('fitted_on','patients@1') in rel and ('fitted_from',p) in rel, rel"

# ==== 5. pseudonyms are stable per compartment ====
veil features build "$PIPE" --input patients --output features --schema "$SCHEMA"
expect_rc "a second build makes features@2" 0
veil data download features@2 -o "$T/features2.csv"
check "the same compartment key gives the same pseudonyms" cmp -s "$T/features.csv" "$T/features2.csv"
check "one pseudonymisation key exists, kept under pseudonym.tenancy" test "$(count "select count(*) from meta where key='pseudonym.tenancy'")" -eq 1
veil gc
check "gc keeps the pseudonymisation key" sh -c "[ $RC -eq 0 ] && grep -q ' 0 unreferenced data keys destroyed' '$T/err'"
veil features build "$PIPE" --input patients --output features --schema "$SCHEMA"
veil data download features@3 -o "$T/features3.csv"
check "... also after gc" cmp -s "$T/features.csv" "$T/features3.csv"

# ==== 6. the compliance rule ====
veil data compliance patients
expect_rc "without a rule, training on the restricted input is allowed" 0
echo "compliance:" >>"$T/ws/veil.yaml"
echo "  restricted_training: deidentified" >>"$T/ws/veil.yaml"
veil data compliance patients
check "with restricted_training: deidentified, the restricted input is refused, with the reason" sh -c "[ $RC -eq 1 ] && grep -q 'refused' '$T/out' && grep -q 'no feature pipeline' '$T/out'"
veil data compliance features --json
check "... and the de-identified output is allowed, by its build report" "$PY" -S -c "
import json; d=json.load(open('$T/out')); assert d['allowed'] is True and 'report' in d['reason'], d"
printf 'version: 1\nlabel: cardiac_event\nsteps:\n  - drop: {columns: [ssn]}\n' >"$T/weak.yaml"
veil features build "$T/weak.yaml" --input patients --output weak --schema "$SCHEMA" --json
check "a pipeline that keeps e-mail and names says so in its report" "$PY" -S -c "
import json; s=json.load(open('$T/out'))['summary']; assert s['direct_identifiers_removed'] is False, s"
veil data compliance weak
check "... and its output is refused: identifiers left in" sh -c "[ $RC -eq 1 ] && grep -q 'left direct identifiers' '$T/out'"
# An identifier under an innocent name: the worker's value scan catches it.
sed '1s/,email,/,contact,/' "$T/patients.csv" >"$T/renamed.csv"
quietly data upload "$T/renamed.csv" --name renamed --owner clinic -c restricted
printf 'version: 1\nlabel: cardiac_event\nsteps:\n  - drop: {columns: [name, ssn, phone, date_of_birth]}\n  - pseudonymise: {columns: [patient_id]}\n' >"$T/sneaky.yaml"
veil features build "$T/sneaky.yaml" --input renamed --output sneaky --json
check "e-mails kept as 'contact' are found by value: identifiers left" "$PY" -S -c "
import json; s=json.load(open('$T/out'))['summary']; assert s['direct_identifiers_removed'] is False, s"
veil data compliance sneaky
check "... and training on it is refused" sh -c "[ $RC -eq 1 ] && grep -q 'left direct identifiers' '$T/out'"
"$PY" -S -c "import sqlite3; db=sqlite3.connect('$T/ws/catalog.db'); db.execute(\"update reports set summary='{\\\"direct_identifiers_removed\\\":true}' where kind='features'\"); db.commit()"
veil data compliance sneaky
check "... also after the catalog's summary is edited: the signed report decides" sh -c "[ $RC -eq 1 ] && grep -q 'left direct identifiers' '$T/out'"
veil data report features --json
check "the build report shows no learned value: every column counts only" "$PY" -S -c "
import json; r=json.load(open('$T/out')); n=0
for st in r['build']['steps']:
    for l in st.get('learned', []):
        n+=1; assert l.get('redacted') is True and not {'vocabulary','value','mean','min','edges'} & set(l), l
assert n>5, n
names=[f['column'] for f in r['build']['mutual_information']['features']]
assert not [x for x in names if '=' in x and '=#' not in x and not x.endswith('=other')], names"
sed -i 's/restricted_training: deidentified/restricted_training: sometimes/' "$T/ws/veil.yaml"
veil data list
expect_fail "a bad compliance setting is refused" "$E_INVALID" "restricted_training"
sed -i '/^compliance:/,$d' "$T/ws/veil.yaml"

# ==== 7. bad input: clear errors, nothing left behind ====
VERSIONS=$(count "select count(*) from dataset_versions")
OBJS=$(nobjects)
printf 'version: 1\nsteps:\n  - standardise: {columns: [bmi]}\n' >"$T/bad1.yaml"
veil features build "$T/bad1.yaml" --input patients --output x
expect_fail "an unknown step is refused with its line and column" "$E_INVALID" "bad1.yaml: line 3, column"
printf 'version: 1\nsteps:\n  - standardize: {columns: [no_such]}\n' >"$T/bad2.yaml"
veil features build "$T/bad2.yaml" --input patients --output x --schema "$SCHEMA"
expect_fail "a step on a column the data lacks is refused, naming it" "$E_INVALID" "no_such"
printf 'version: 1\nsteps:\n  - impute: {columns: [name], strategy: mean}\n' >"$T/bad3.yaml"
veil features build "$T/bad3.yaml" --input patients --output x --schema "$SCHEMA"
expect_fail "mean imputation of a text column is refused" "$E_INVALID" "name"
veil features build "$T/nope.yaml" --input patients --output x
expect_rc "a missing pipeline file is not-found" "$E_NOTFOUND"
veil features build "$PIPE" --input patients
expect_fail "--output is required" "$E_USAGE" "output"
veil features build "$PIPE" --input patients --output 'bad name'
expect_fail "a bad output name is refused" "$E_INVALID" "output"
veil features build "$PIPE" --input nosuch --output x
expect_rc "an unknown input is not-found" "$E_NOTFOUND"
check "none of these left a version" test "$(count "select count(*) from dataset_versions")" -eq "$VERSIONS"
check "... or an object" test "$(nobjects)" -eq "$OBJS"
veil gc --dry-run
check "... or a data key for gc to find" sh -c "! grep -q 'would destroy' '$T/out'"

# ==== 8. the audit trail ====
veil audit verify
expect_rc "the audit log verifies, outputs counted as derived versions" 0
veil audit log --json
check "each build is audited with its derived versions" "$PY" -S -c "
import json; ev=json.load(open('$T/out')); a=[(e['action'],e['outcome'],e['resource']) for e in ev]
assert ('data.derive','ok','features@1') in a and ('data.derive','ok','features.transform@1') in a, a[-10:]
assert ('features.build','ok','features@1') in a, a[-10:]
assert ('features.build','failed','patients@1') in a or any(x[0]=='features.build' and x[1]=='failed' for x in a), a[-10:]"

veil features build --help
check "features build --help explains it" sh -c "[ $RC -eq 0 ] && grep -q 'pseudonymisation' '$T/out'"
veil data compliance --help
check "data compliance --help explains the rule" sh -c "[ $RC -eq 0 ] && grep -q 'restricted_training' '$T/out'"

echo "1..$_n"
[ "$_failed" -eq 0 ]
