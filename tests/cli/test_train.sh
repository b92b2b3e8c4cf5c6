#!/usr/bin/env bash
# Training in the trusted worker (issue 6), driven as an ML engineer and a
# data owner would: a private logistic regression on the pseudonymised
# patient features, charged to the data set's privacy budget (refused
# without one, refused when it would overspend, never charged twice); the
# Fashion-MNIST MLP from the Debian package, uploaded as IDX; a job killed
# mid-training resumed from its checkpoint to the very model an
# uninterrupted run gives; bad job files refused with line and column;
# nothing left behind by a refusal.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

unset VEIL_WORKER VEIL_TEE VEIL_TSM_ROOT
PY=$(python3 -c 'import sys; print(sys.executable)')
GEN=$VEIL_BUILD_ROOT/tools/veil-datagen
FM=/usr/share/datasets/fashion-mnist

new_ws "$T/ws" || exit 1
export VEIL_WORKSPACE=$T/ws
quietly() { veil "$@"; [ "$RC" -eq 0 ] || echo "# veil $* failed: $(err)"; }
count() { "$PY" -S -c "import sqlite3; print(sqlite3.connect('$T/ws/catalog.db').execute(\"$1\").fetchone()[0])"; }
nobjects() { find "$T/ws/objects" -type f | wc -l; }

MEAS=$("$VEIL_BIN" attest measure 2>/dev/null)
printf 'version: 1\ntee: [sim]\nallow_simulated: true\nmeasurements:\n  - %s\nmax_age: 5m\n' "$MEAS" >"$T/release.yaml"
quietly attest policy set "$T/release.yaml"
"$GEN" --rows 3000 --seed 5 -o "$T/patients.csv"
quietly data upload "$T/patients.csv" --name patients --owner clinic -c confidential
quietly features build "$SRC/examples/patients.pipeline.yaml" --input patients --output pf \
	--schema "$SRC/examples/patients.schema.yaml"
sed 's/dataset: patients-features/dataset: pf/; s/epochs: 15/epochs: 5/' "$SRC/examples/patients-dp.job.yaml" >"$T/dp.yaml"

# ==== 1. budgets decide before anything runs ====
before=$(nobjects)
veil train "$T/dp.yaml"
expect_fail "a private job on a data set without a budget is refused" "$E_DENIED" "pf@1 has no privacy budget"
check "... with the command that sets one" err_has "veil data budget set pf@1"
check "... and nothing is stored or charged" [ "$(nobjects)" -eq "$before" -a "$(count 'SELECT count(*) FROM budget_charges')" -eq 0 ]
veil data budget set pf --epsilon 0.5 --delta 1e-5
expect_rc "the owner sets a budget" 0
veil train "$T/dp.yaml"
expect_fail "a job asking epsilon 1 of a budget of 0.5 is refused with the figures" "$E_DENIED" "asks for epsilon 1 .* 0.5 of its 0.5 left"
check "... and is not charged" [ "$(count 'SELECT count(*) FROM budget_charges')" -eq 0 ]
veil data budget set pf --epsilon 2.5 --delta 1e-5
expect_rc "the owner raises it" 0
sed 's/  privacy:/  privacy_off:/' "$T/dp.yaml" | sed '/privacy_off:/,/max_grad_norm/d' >"$T/nodp.yaml"
veil train "$T/nodp.yaml"
expect_fail "a non-private job on a data set with a budget is refused" "$E_DENIED" "only private jobs"

# ==== 2. a private model ====
veil train "$T/dp.yaml" --json
expect_rc "the private logistic regression trains in the worker" 0
check "... its signed report: epsilon 1 at delta 1e-6, noise calibrated, test metrics" "$PY" -S -c "
import json; d=json.load(open('$T/out')); r=d['report']; p=r['privacy']
assert d['model']=='patients-dp' and d['version']==1, d
assert abs(p['epsilon']-1.0) < 1e-9 or p['epsilon'] <= 1.0, p
assert p['epsilon'] > 0.99 and p['delta']==1e-6 and p['noise_multiplier'] > 1 and p['accountant']=='rdp', p
assert r['rows']['train'] > 1000 and r['rows']['test'] > 300, r['rows']
m=r['metrics']; assert 0.5 < m['accuracy'] <= 1 and 'roc_auc' in m and len(m['confusion'])==2, m"
JOB=$("$PY" -S -c "import json; print(json.load(open('$T/out'))['job'])")
veil data budget show pf --json
check "budget show lists the charge: 1 of 2.5 spent by the job" "$PY" -S -c "
import json; b=json.load(open('$T/out'))
assert abs(b['epsilon_spent']-1.0) < 1e-6 and abs(b['epsilon_remaining']-1.5) < 1e-6, b
assert [c['job'] for c in b['charged']]==['$JOB'], b"
veil audit log
check "the charge is in the audit log, with the model it paid for" sh -c "grep -q 'privacy.charge' '$T/out' && grep -q 'model.create' '$T/out'"
check "the model version is in the catalog with its cost and its job" [ "$(count "SELECT count(*) FROM model_versions WHERE job_id='$JOB' AND epsilon > 0.99")" -eq 1 ]
check "lineage: the model was trained on pf@1 and made by the job" [ "$(count "SELECT count(*) FROM lineage_edges")" -ge 6 ]
check "the job succeeded and its checkpoints are gone" [ "$(count "SELECT count(*) FROM jobs WHERE id='$JOB' AND state='succeeded' AND ckpt_object_id IS NULL")" -eq 1 ]
check "its metric series is kept" [ "$(count "SELECT count(*) FROM job_metrics WHERE job_id='$JOB' AND name='epsilon'")" -eq 5 ]
check "a private run reports no per-batch training loss (the noise does not cover it)" [ "$(count "SELECT count(*) FROM job_metrics WHERE job_id='$JOB' AND name='loss'")" -eq 0 ]
veil train "$T/dp.yaml"
expect_rc "a second run fits in what is left" 0
veil train "$T/dp.yaml"
expect_fail "a third would spend 3 of 2.5: refused" "$E_DENIED" "has 0\.5[0-9]* of its 2\.5 left"

# A budgeted data set cannot be reached through test_dataset either.
"$GEN" --rows 600 --seed 9 -o "$T/mine.csv"
quietly data upload "$T/mine.csv" --name mine --owner clinic -c confidential
quietly features build "$SRC/examples/patients.pipeline.yaml" --input mine --output mf \
	--schema "$SRC/examples/patients.schema.yaml"
printf 'training_job:\n  name: peek\n  dataset: mf\n  test_dataset: pf\n  label: cardiac_event\n  exclude: [patient_id]\n  model: {type: logreg}\n  train: {epochs: 1, batch_size: 32, lr: 0.1}\n' >"$T/peek.yaml"
veil train "$T/peek.yaml"
expect_fail "a non-private job with a budgeted test data set is refused" "$E_DENIED" "pf@1 has a privacy budget"
# Tiny validation or test parts would release single rows' figures.
sed 's/validation_split: 0.1/validation_split: 0.004/' "$T/dp.yaml" >"$T/tiny.yaml"
veil data budget set pf --epsilon 20 --delta 1e-4
before=$(count 'SELECT count(*) FROM budget_charges')
veil train "$T/tiny.yaml"
expect_fail "a private job with a validation part of a few rows is refused" "$E_INVALID" "at least 100 rows"
check "... before anything was charged" [ "$(count 'SELECT count(*) FROM budget_charges')" -eq "$before" ]

# A tuning job: each trial is planned, charged and trained; the best by
# validation loss is kept, and the report has the table of all trials.
sed '/    lr: 0.5/d' "$T/dp.yaml" >"$T/tune.yaml"
printf '  tuning:\n    strategy: grid\n    metric: val_loss\n    space:\n      lr: [0.05, 0.5]\n' >>"$T/tune.yaml"
veil train "$T/tune.yaml" --json
expect_rc "a private tuning job over two learning rates trains" 0
check "... its report has both trials, each with its epsilon, and the best by validation loss" "$PY" -S -c "
import json; r=json.load(open('$T/out'))['report']; t=r['trials']
assert [round(x['lr'], 6) for x in t]==[0.05, 0.5] and all(0.99 < x['epsilon'] <= 1.0 for x in t), t
b=min(range(2), key=lambda i: t[i]['val_loss']); assert r['best_trial']==b, (r['best_trial'], t)
assert 1.99 < r['privacy']['job_epsilon'] <= 2.0, r['privacy']"
TJOB=$("$PY" -S -c "import json; print(json.load(open('$T/out'))['job'])")
check "... and each trial was charged on its own" [ "$(count "SELECT count(*) FROM budget_charges WHERE job_id='$TJOB' AND trial IN (1, 2)")" -eq 2 ]
TV=$(count "SELECT version FROM model_versions WHERE job_id='$TJOB'")
veil model inspect "patients-dp@$TV" --verify
check "... and model inspect --verify shows the table of trials, the best starred" sh -c "grep -q 'tuning: .*2 trials' '$T/out' && grep -Eq '^ +[01] \*' '$T/out'"

# ==== 3. bad job files ====
printf 'training_job:\n  name: x\n  dataset: pf\n  label: cardiac_event\n  model: {type: mlp, hidden: [8]}\n  train: {epochs: 1, batch_size: 0}\n' >"$T/bad.yaml"
veil train "$T/bad.yaml"
expect_fail "a batch of 0 is refused with its line" "$E_INVALID" "line 6"
printf 'training_job:\n  name: x\n  dataset: nosuch\n  label: y\n  model: {type: logreg}\n  train: {epochs: 1, batch_size: 8, lr: 0.1}\n' >"$T/missing.yaml"
veil train "$T/missing.yaml"
expect_fail "a missing data set is refused" "$E_NOTFOUND" "nosuch"
sed 's/label: cardiac_event/label: outcome/' "$T/dp.yaml" >"$T/nolabel.yaml"
before=$(count 'SELECT count(*) FROM budget_charges')
veil train "$T/nolabel.yaml"
expect_fail "a label the data does not have is refused by the worker" "$E_NOTFOUND" "no label column 'outcome'"
check "... before anything was charged" [ "$(count 'SELECT count(*) FROM budget_charges')" -eq "$before" ]
check "... and the job is recorded as failed" [ "$(count "SELECT count(*) FROM jobs WHERE state='failed'")" -ge 1 ]
sed 's/epsilon: 1.0 /epsilon: -1 /' "$T/dp.yaml" >"$T/negeps.yaml"
veil train "$T/negeps.yaml"
expect_fail "a negative epsilon is refused" "$E_INVALID" "epsilon"

# ==== 4. Fashion-MNIST, killed and resumed ====
for p in "train-images-idx3-ubyte fm-train" "train-labels-idx1-ubyte fm-train.labels" \
	"t10k-images-idx3-ubyte fm-test" "t10k-labels-idx1-ubyte fm-test.labels"; do
	set -- $p
	quietly data upload "$FM/$1.gz" --name "$2" --owner lab -c internal
done
cat >"$T/fm.yaml" <<'EOF'
training_job:
  name: fm
  dataset: fm-train
  test_dataset: fm-test
  model: {type: mlp, hidden: [64], activation: relu}
  train: {epochs: 2, batch_size: 256, optimizer: sgd, lr: 0.1, momentum: 0.9, seed: 3,
          validation_split: 0.1, checkpoint_every: 40}
  compute: {threads: 1}
EOF
veil train "$T/fm.yaml" --json
expect_rc "the Fashion-MNIST MLP trains from the Debian package's IDX files" 0
check "... to over 80% test accuracy on the 10 000 test images" "$PY" -S -c "
import json; r=json.load(open('$T/out'))['report']
assert r['rows']=={'train': 54000, 'validation': 6000, 'test': 10000}, r['rows']
assert r['metrics']['accuracy'] > 0.80 and r['classes']==10 and r['features']==784, r['metrics']['accuracy']"
FULL=$(count "SELECT v.sha256 FROM model_versions v JOIN models m ON m.id = v.model_id WHERE m.name='fm' AND v.version=1")

# The same job again, its worker killed once a checkpoint is stored.
"$VEIL_BIN" -q train "$T/fm.yaml" >"$T/kill.out" 2>"$T/kill.err" &
TP=$!
for _ in $(seq 1 300); do
	[ "$(count "SELECT count(*) FROM jobs WHERE name='fm' AND state='running' AND ckpt_object_id IS NOT NULL")" -ge 1 ] && break
	sleep 0.1
done
# only this veil's worker: other tests (and other people's runs) have theirs
pkill -KILL -P "$TP" -f "veil-worker" 2>/dev/null
wait $TP
KRC=$?
check "killing the worker mid-training fails the job" [ "$KRC" -ne 0 ]
KJOB=$(count "SELECT id FROM jobs WHERE name='fm' AND state='failed' ORDER BY created DESC LIMIT 1")
check "... which keeps its last checkpoint" [ "$(count "SELECT count(*) FROM jobs WHERE id='$KJOB' AND ckpt_object_id IS NOT NULL")" -eq 1 ]
KOBJ=$(count "SELECT ckpt_object_id FROM jobs WHERE id='$KJOB'")
KFILE=$T/ws/objects/${KOBJ:0:2}/${KOBJ:2}
flip_byte "$KFILE" 200
before=$(nobjects)
veil train --resume "$KJOB"
expect_fail "a damaged checkpoint is refused" "$E_CORRUPT" "."
check "... storing nothing, and the job keeps its checkpoint" [ "$(nobjects)" -eq "$before" -a "$(count "SELECT ckpt_object_id FROM jobs WHERE id='$KJOB' AND state='failed'")" = "$KOBJ" ]
flip_byte "$KFILE" 200
veil train --resume "$KJOB"
expect_rc "veil train --resume continues it" 0
RES=$(count "SELECT sha256 FROM model_versions WHERE job_id='$KJOB'")
check "... to the byte-identical model of the uninterrupted run" [ -n "$RES" -a "$RES" = "$FULL" ]
# veil itself killed outright: the job cannot say so, but its lock says it.
"$VEIL_BIN" -q train "$T/fm.yaml" >/dev/null 2>&1 &
TP=$!
for _ in $(seq 1 300); do
	[ "$(count "SELECT count(*) FROM jobs WHERE name='fm' AND state='running' AND ckpt_object_id IS NOT NULL")" -ge 1 ] && break
	sleep 0.1
done
IJOB=$(count "SELECT id FROM jobs WHERE name='fm' AND state='running' LIMIT 1")
kill -KILL $TP
wait $TP 2>/dev/null
check "a killed veil train leaves its job running in the catalog" [ -n "$IJOB" -a "$(count "SELECT state FROM jobs WHERE id='$IJOB'")" = running ]
veil job status "$IJOB"
check "... until job status finds nobody running it: interrupted, with why" sh -c "grep -q ': interrupted' '$T/out' && grep -q 'veil process running it stopped' '$T/out'"
veil job list --state interrupted --json
check "... and job list agrees" "$PY" -S -c "
import json; assert '$IJOB' in [j['id'] for j in json.load(open('$T/out'))]"
veil train --resume "$IJOB"
expect_rc "the interrupted job resumes" 0
check "... to the same model again" [ "$(count "SELECT sha256 FROM model_versions WHERE job_id='$IJOB'")" = "$FULL" ]
veil train --resume "$KJOB"
expect_fail "a finished job does not resume" "$E_INVALID" "only a failed or interrupted job resumes"
veil train --resume j-0000000000000000
expect_fail "an unknown job does not resume" "$E_NOTFOUND" "j-0000000000000000"

# ==== 4b. evaluation in the worker ====
veil model eval fm@1 --dataset fm-test --json
expect_rc "the Fashion-MNIST model is evaluated on the 10 000 test images" 0
check "... to the very figures its training report gave for the same test set" "$PY" -S -c "
import json, sqlite3
r=json.load(open('$T/out'))['report']; m=r['metrics']
s=json.loads(sqlite3.connect('$T/ws/catalog.db').execute(\"SELECT v.summary FROM model_versions v JOIN models n ON n.id=v.model_id WHERE n.name='fm' AND v.version=1\").fetchone()[0])
assert r['rows']==10000 and r['classes']==10 and r['features']==784, r
# the same model on the same rows; only the thread count may differ (last bits of a sum)
assert abs(m['accuracy']-s['metrics']['accuracy']) < 1e-9 and abs(m['log_loss']-s['metrics']['log_loss']) < 1e-6, (m, s['metrics'])
assert sum(map(sum, m['confusion']))==10000 and len(m['per_class'])==10, m['confusion']
assert [i['role'] for i in r['inputs']]==['model', 'test', 'test-labels'], r['inputs']"
EJOB=$("$PY" -S -c "import json; print(json.load(open('$T/out'))['job'])")
check "... recorded as a succeeded eval job of fm@1 with its figures" [ "$(count "SELECT count(*) FROM jobs WHERE id='$EJOB' AND kind='eval' AND state='succeeded' AND model_version_id IS NOT NULL")" -eq 1 -a "$(count "SELECT count(*) FROM job_metrics WHERE job_id='$EJOB' AND name='accuracy'")" -eq 1 ]
veil audit log
check "... and audited" grep -q 'model.evaluate' "$T/out"

# Held-out patients, prepared by the same pipeline, without a budget.
"$GEN" --rows 3000 --seed 8 -o "$T/held.csv"
quietly data upload "$T/held.csv" --name held --owner clinic -c confidential
quietly features build "$SRC/examples/patients.pipeline.yaml" --input held --output hf \
	--schema "$SRC/examples/patients.schema.yaml"
veil model eval patients-dp@1 --dataset hf
expect_rc "the private model is evaluated on held-out features" 0
check "... with accuracy, macro F1, ROC AUC and the confusion matrix" sh -c "grep -q 'accuracy:' '$T/out' && grep -q 'ROC AUC' '$T/out' && grep -q 'confusion' '$T/out'"
veil model inspect patients-dp@1
check "... and the lineage edge model -[evaluated_on]-> hf@1" grep -q 'evaluated_on dataset_version hf@1' "$T/out"

# Exact figures over a budgeted data set are for those who may read it.
veil principal create analyst
veil group create analysts
veil group add analysts analyst
printf 'Allow group analysts to use models in tenancy\nAllow group analysts to use datasets in tenancy\nAllow group analysts to use keys in tenancy\n' >"$T/an.policy"
veil policy apply "$T/an.policy" --name analysts
veil token issue analyst --expires 1d
AN=$(cat "$T/out")
VEIL_TOKEN=$AN veil model eval patients-dp --dataset pf
expect_fail "an analyst may not evaluate on a budgeted data set" "$E_DENIED" "pf@1 has a privacy budget"
check "... and is told what to do instead" err_has "held-out data set without a budget"
VEIL_TOKEN=$AN veil model eval patients-dp --dataset hf
expect_rc "... but may on held-out data without one" 0
veil model eval patients-dp --dataset pf --json
expect_rc "the owner's administrator, who may manage pf, evaluates on it" 0
PJOB=$("$PY" -S -c "import json; print(json.load(open('$T/out'))['job'])")
veil audit log
check "... and the audit event carries no figures" sh -c "! grep 'model.evaluate' '$T/out' | grep -q accuracy"
printf 'Allow group analysts to use models in tenancy\nAllow group analysts to use datasets in tenancy\nAllow group analysts to use keys in tenancy\nAllow group analysts to read jobs in tenancy\n' >"$T/an.policy"
veil policy apply "$T/an.policy" --name analysts
VEIL_TOKEN=$AN veil job status "$PJOB"
check "an analyst who may read the job sees its figures withheld" sh -c "grep -q 'withheld' '$T/out' && ! grep -q 'accuracy' '$T/out'"
veil job status "$PJOB"
check "... which its creator sees" grep -q 'accuracy' "$T/out"

# Bad input: data without the model's columns, a missing data set, no
# --dataset, a corrupted model.
before=$(count "SELECT count(*) FROM jobs WHERE kind='eval' AND state='failed'")
veil model eval patients-dp --dataset held
expect_fail "raw patients lack the model's feature columns" "$E_NOTFOUND" "has no column"
check "... and the job is recorded as failed" [ "$(count "SELECT count(*) FROM jobs WHERE kind='eval' AND state='failed'")" -eq $((before + 1)) ]
FJOB=$(count "SELECT id FROM jobs WHERE kind='eval' AND state='failed' LIMIT 1")
veil train --resume "$FJOB"
expect_fail "an evaluation does not resume as training" "$E_INVALID" "is an evaluation"
veil model eval patients-dp --dataset nosuch
expect_fail "a missing data set" "$E_NOTFOUND" "nosuch"
veil model eval patients-dp
expect_fail "no --dataset" "$E_USAGE" "--dataset"
veil model eval fm --dataset hf
expect_fail "an IDX model on a table" "$E_NOTFOUND" "hf@1: data set 1 has no label column 'label'"
MOBJ=$(count "SELECT v.object_id FROM model_versions v JOIN models n ON n.id=v.model_id WHERE n.name='patients-dp' AND v.version=1")
MFILE=$T/ws/objects/${MOBJ:0:2}/${MOBJ:2}
flip_byte "$MFILE" 200
veil model eval patients-dp@1 --dataset hf
expect_fail "a corrupted model object is refused" "$E_CORRUPT" "."
flip_byte "$MFILE" 200

# ==== 5. models and jobs ====
veil model list --json
check "model list shows both models with their cost" "$PY" -S -c "
import json; d={m['name']: m for m in json.load(open('$T/out'))}
assert d['patients-dp']['private'] is True and d['fm']['private'] is False, d
assert d['patients-dp']['classification']=='confidential' and d['fm']['classification']=='internal', d"
veil model inspect patients-dp@1
check "model inspect gives metrics, the DP guarantee and lineage" sh -c "grep -q 'RDP accountant' '$T/out' && grep -q 'trained_on dataset_version pf@1' '$T/out' && grep -q 'ROC AUC' '$T/out'"
veil model compare fm patients-dp
check "model compare puts them side by side with their privacy cost" sh -c "grep -q 'privacy (eps, delta)' '$T/out' && grep -q 'none' '$T/out'"
veil model inspect patients-dp@1 --verify
expect_rc "model inspect --verify checks the signed training report kept with the version" 0
check "... its signature, evidence and binding" grep -q 'verified: .*all check' "$T/out"
veil model inspect fm@1 --verify --json
check "... and --json gives the report and what verified it" "$PY" -S -c "
import json; d=json.load(open('$T/out'))
assert d['verified']['tee']=='sim' and d['verified']['simulated'] is True, d['verified']
assert d['report']['job']=='train' and d['report']['model']['sha256']==d['sha256'], d['report']['model']"
ROBJ=$(count "SELECT v.report_object_id FROM model_versions v JOIN models n ON n.id=v.model_id WHERE n.name='patients-dp' AND v.version=1")
RFILE=$T/ws/objects/${ROBJ:0:2}/${ROBJ:2}
flip_byte "$RFILE" 300
veil model inspect patients-dp@1 --verify
expect_fail "a damaged report envelope is refused" "$E_CORRUPT" "."
flip_byte "$RFILE" 300
"$PY" -S -c "
import sqlite3; db=sqlite3.connect('$T/ws/catalog.db')
fm=db.execute(\"SELECT v.report_object_id, v.report_dek_id, v.report_size, v.report_sha256 FROM model_versions v JOIN models n ON n.id=v.model_id WHERE n.name='fm' AND v.version=1\").fetchone()
p2=db.execute(\"SELECT v.report_object_id, v.report_dek_id, v.report_size, v.report_sha256 FROM model_versions v JOIN models n ON n.id=v.model_id WHERE n.name='patients-dp' AND v.version=2\").fetchone()
open('$T/p2.report', 'w').write(' '.join(map(str, p2)))
db.execute(\"UPDATE model_versions SET report_object_id=?, report_dek_id=?, report_size=?, report_sha256=? WHERE id=(SELECT v.id FROM model_versions v JOIN models n ON n.id=v.model_id WHERE n.name='patients-dp' AND v.version=2)\", fm)
db.commit()"
veil model inspect patients-dp@2 --verify
expect_fail "a catalog row pointed at another model's report is caught" "$E_CORRUPT" "describes another model or job file"
"$PY" -S -c "
import sqlite3; db=sqlite3.connect('$T/ws/catalog.db')
db.execute(\"UPDATE model_versions SET report_object_id=?, report_dek_id=?, report_size=?, report_sha256=? WHERE id=(SELECT v.id FROM model_versions v JOIN models n ON n.id=v.model_id WHERE n.name='patients-dp' AND v.version=2)\", tuple(open('$T/p2.report').read().split()))
db.commit()"
veil model inspect patients-dp@2 --verify
expect_rc "... and put back, it verifies" 0
veil model inspect nosuch
expect_fail "an unknown model" "$E_NOTFOUND" "nosuch"
veil job list --state failed --json
check "job list --state failed no longer lists the killed job, now resumed" "$PY" -S -c "
import json; assert '$KJOB' not in [j['id'] for j in json.load(open('$T/out'))]"
veil job status "$JOB"
check "job status gives the charge" sh -c "grep -q 'charged:     pf@1 epsilon' '$T/out'"
veil job log "$JOB" --json
check "job log has a point per epoch and series" "$PY" -S -c "
import json; m=json.load(open('$T/out'))['metrics']
eps=[p['value'] for p in m if p['name']=='epsilon']
assert len(eps)==5 and eps==sorted(eps) and eps[-1] <= 1.0, eps"
veil job status j-0123456789abcdef
expect_fail "an unknown job" "$E_NOTFOUND" "j-0123456789abcdef"

veil gc --dry-run
check "gc would take only what no model or job refers to (what the killed veil left half made)" "$PY" -S -c "
import sqlite3
db=sqlite3.connect('$T/ws/catalog.db')
keep=set(r[0] for r in db.execute('SELECT object_id FROM model_versions UNION SELECT dek_id FROM model_versions UNION SELECT report_object_id FROM model_versions UNION SELECT report_dek_id FROM model_versions UNION SELECT ckpt_object_id FROM jobs UNION SELECT ckpt_dek_id FROM jobs') if r[0])
gone=[l.split()[-1] for l in open('$T/out') if l.startswith('would')]
assert keep and not keep & set(gone), (keep & set(gone))
assert len(gone) <= 3, gone"
veil gc
check "gc clears the job locks (no job can run while it holds the workspace)" sh -c "[ -z \"\$(ls -A '$T/ws/running')\" ]"
check "... and after a real gc every model and kept checkpoint still has its object" "$PY" -S -c "
import os, sqlite3
db=sqlite3.connect('$T/ws/catalog.db')
ids=[r[0] for r in db.execute('SELECT object_id FROM model_versions UNION SELECT report_object_id FROM model_versions WHERE report_object_id IS NOT NULL UNION SELECT ckpt_object_id FROM jobs WHERE ckpt_object_id IS NOT NULL')]
assert ids and all(os.path.exists('$T/ws/objects/%s/%s' % (i[:2], i[2:])) for i in ids), ids"
veil train --resume "$KJOB"
expect_fail "... the resumed job finished, so it does not resume again" "$E_INVALID" "succeeded"

# ==== 5b. backup and restore keep what training made ====
veil backup "$T/bk"
expect_rc "a backup of the training workspace" 0
veil restore "$T/bk" "$T/rs"
expect_rc "... restores" 0
check "... with every model and checkpoint checked" err_has "models and checkpoints verified"
VEIL_WORKSPACE=$T/rs veil model eval fm@1 --dataset fm-test --json
expect_rc "the restored model evaluates in the restored workspace" 0
check "... to the same accuracy" "$PY" -S -c "
import json; r=json.load(open('$T/out'))['report']; assert r['rows']==10000 and r['metrics']['accuracy'] > 0.8, r"
cp -a "$T/bk" "$T/bk-nomodel"
rm "$T/bk-nomodel/objects/${MOBJ:0:2}/${MOBJ:2}"
veil restore "$T/bk-nomodel" "$T/rs2"
expect_fail "a backup that lost a model's object is refused" "$E_CORRUPT" "no object for model_version patients-dp@1"
check "... and leaves nothing behind" sh -c "! ls -d '$T'/rs2* 2>/dev/null"

# ==== 6. help ====
veil train --help
check "train --help says how budgets and resume work" out_has "--resume JOB_ID"
veil data budget show --help
expect_rc "budget show --help" 0

finish
