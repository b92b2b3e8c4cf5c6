#!/usr/bin/env bash
# The main job on the embedded default: a data owner creates a workspace,
# uploads sensitive records (encrypted on the client), inspects them,
# rotates keys, downloads and verifies, gives an ML engineer access that
# stops short of plaintext, lets attested worker code validate, scan and
# engineer features without the plaintext leaving it, checks the audit log
# and proves an event is in it, and takes a verified backup.
#
# usage: scripts/demo.sh [BUILD_DIR] [WORKSPACE_DIR]
# WORKSPACE_DIR defaults to a fresh temporary folder, kept for you to explore.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
veil="$here/$build/src/cli/veil"
[ -x "$veil" ] || { echo "demo: build first (make)" >&2; exit 1; }

ws=${2:-}
if [ -z "$ws" ]; then
	ws=$(mktemp -d /tmp/veil-demo-XXXXXX)
	rmdir "$ws"
fi
scratch=$(mktemp -d /tmp/veil-demo-files-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
# A demo passphrase; real users get a prompt (or use VEIL_PASSPHRASE_FILE).
export VEIL_PASSPHRASE=${VEIL_PASSPHRASE:-demo passphrase, not for production}
export VEIL_WORKSPACE="$ws"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ veil %s\n' "$*"; "$veil" "$@"; }

step "1. Create a workspace (sealed root key, catalog, audit log, first administrator)"
token="$ws.admin-token"
rm -f "$token"
printf '$ veil %s\n' "init $ws --kdf-log-n 14 --region eu-west --token-file $token"
"$veil" init "$ws" --kdf-log-n 14 --region eu-west --token-file "$token" 2>&1 | tee "$scratch/init.out"
# Every command acts as a principal: from here on, the administrator.
export VEIL_TOKEN_FILE="$token"
# An auditor keeps the log's public key outside the workspace.
logkey=$(sed -n 's/^Audit log public key: \([0-9a-f]*\)$/\1/p' "$scratch/init.out")

step "2. Make a small synthetic patient file (no real person in it)"
{
	echo "patient_id,name,birth_date,postcode,diagnosis,length_of_stay"
	for i in $(seq 1 2000); do
		printf 'P%05d,Patient %d,19%02d-%02d-%02d,%05d,code-%d,%d\n' "$i" "$i" $((40 + i % 60)) \
			$((1 + i % 12)) $((1 + i % 28)) $((10000 + (i * 7919) % 89999)) $((i % 17)) $((1 + i % 21))
	done
} >"$scratch/patients.csv"
wc -c "$scratch/patients.csv"

step "3. Upload it into the oncology compartment: encrypted here, before it is stored"
run compartment create clinical
run compartment create oncology --parent clinical
run data upload "$scratch/patients.csv" --name patients --owner st-mary-hospital --compartment oncology \
	--classification restricted --tag source=ehr --tag purpose=readmission-study
echo "The stored object is ciphertext: no record appears in it."
if grep -rq "Patient 1," "$ws/objects"; then echo "PLAINTEXT FOUND" >&2; exit 1; fi

step "4. A second version, and what the catalog knows"
sed 's/code-3/code-33/' "$scratch/patients.csv" >"$scratch/patients-v2.csv"
run data upload "$scratch/patients-v2.csv" --name patients --owner st-mary-hospital
run data list
run data inspect patients

step "5. Rotate the owner's key and re-wrap every data key (no data touched)"
run key rotate st-mary-hospital --rewrap
run key status

step "6. Download version 1 and check it is byte-for-byte the original"
run data download patients@1 -o "$scratch/back.csv"
cmp "$scratch/patients.csv" "$scratch/back.csv" && echo "identical"

step "7. Access control: an ML engineer may use the data, never take plaintext out"
run principal create dana
run group create ml-engineers
run group add ml-engineers dana
cat >"$scratch/oncology.policy" <<'POLICY'
# ML engineers work with oncology data inside the TEE; plaintext never leaves.
Allow group ml-engineers to use datasets in compartment oncology
  where target.region = request.region
Allow group ml-engineers to use keys in compartment oncology
Deny group ml-engineers to manage datasets in compartment oncology
POLICY
cat "$scratch/oncology.policy"
run policy apply "$scratch/oncology.policy" --compartment clinical
dana=$("$veil" token issue dana --expires 1d)
printf '$ VEIL_TOKEN=<dana> veil data download patients -o ...\n'
if VEIL_TOKEN=$dana "$veil" data download patients -o "$scratch/dana.csv"; then echo "NOT REFUSED" >&2; exit 1; fi
run policy explain --as dana --verb manage --resource datasets:patients || echo "(exit $?: denied)"

step "8. The trusted worker: data keys only for attested code"
echo "Dana's job runs in veil-worker (here in the simulated TEE, which says so)."
echo "Its measurement, and a key-release policy for the oncology compartment:"
run attest measure
measurement=$("$veil" attest measure 2>/dev/null)
cat >"$scratch/release.yaml" <<RELEASE
version: 1
tee: [sim]
allow_simulated: true   # a development machine: no SEV-SNP or TDX here
measurements: [$measurement]
debug: forbidden
vmpl: 0
max_age: 5m
RELEASE
cat "$scratch/release.yaml"
printf '$ VEIL_TOKEN=<dana> veil data verify patients   # before any release policy\n'
if VEIL_TOKEN=$dana "$veil" data verify patients; then echo "NOT REFUSED" >&2; exit 1; fi
run attest policy set "$scratch/release.yaml" --compartment oncology
printf '$ VEIL_TOKEN=<dana> veil data verify patients\n'
VEIL_TOKEN=$dana "$veil" data verify patients
echo "A worker that differs by one byte has another measurement, and gets no key:"
worker=$("$veil" attest measure --json 2>/dev/null | sed -n 's/.*"worker": "\(.*\)".*/\1/p')
cp "$worker" "$scratch/other-worker" && printf 'x' >>"$scratch/other-worker"
printf '$ VEIL_WORKER=other-worker VEIL_TOKEN=<dana> veil data verify patients\n'
if VEIL_WORKER=$scratch/other-worker VEIL_TOKEN=$dana "$veil" data verify patients; then
	echo "NOT REFUSED" >&2
	exit 1
fi
echo "Evidence from this machine's worker, verified offline against the policy:"
run attest evidence -o "$scratch/evidence.bin"
run attest verify "$scratch/evidence.bin" --tee sim --certs "$ws/attest/sim" --policy "$scratch/release.yaml"

step "9. What is in the data: validation, privacy scan and features, inside the worker"
echo "Realistic synthetic patients (tools/veil-datagen: every identifier is invented):"
"$here/$build/tools/veil-datagen" --rows 20000 --seed 2026 -o "$scratch/cohort.csv"
head -3 "$scratch/cohort.csv"
run data upload "$scratch/cohort.csv" --name cohort --owner st-mary-hospital --compartment oncology \
	--classification confidential
echo "Dana profiles it: the worker infers a schema and scans every value; she sees counts, not values."
printf '$ VEIL_TOKEN=<dana> veil data profile cohort -o cohort.schema.yaml\n'
VEIL_TOKEN=$dana "$veil" data profile cohort -o "$scratch/cohort.schema.yaml"
printf '$ VEIL_TOKEN=<dana> veil data validate cohort --schema examples/patients.schema.yaml\n'
VEIL_TOKEN=$dana "$veil" data validate cohort --schema "$here/examples/patients.schema.yaml"
echo "The scan tagged the version and raised the dataset to restricted (it holds direct identifiers):"
run data inspect cohort | grep -E 'classification|pii:'
echo "The report is signed by the attested worker; anyone can check it offline:"
run data report cohort --verify | head -5
echo "A compliance rule: no training on restricted data until its direct identifiers are gone."
printf 'compliance:\n  restricted_training: deidentified\n' >>"$ws/veil.yaml"
run data compliance cohort || echo "(exit $?: refused)"
echo "A feature pipeline (drop, pseudonymise, generalise, k-anonymity, impute, scale, one-hot):"
run features build "$here/examples/patients.pipeline.yaml" --input cohort --output cohort-features \
	--schema "$here/examples/patients.schema.yaml"
run data compliance cohort-features
echo "Each feature's mutual information with the label, from the signed build report:"
"$veil" data report cohort-features --json | python3 -c "
import json, sys
for f in json.load(sys.stdin)['build']['mutual_information']['features'][:6]:
    print('  %-22s %.4f bits' % (f['column'], f['bits']))"
echo "Lineage: output, input, fitted transform and pipeline, with the worker's measurement:"
run data inspect cohort-features | sed -n '/^lineage:/,$p'

step "10. A private model on the de-identified features, trained inside the worker"
echo "The owner gives the features a privacy budget: every private job on them together spends at most this."
run data budget set cohort-features --epsilon 4 --delta 1e-5
sed 's/dataset: patients-features/dataset: cohort-features/' "$here/examples/patients-dp.job.yaml" >"$scratch/cohort-dp.job.yaml"
echo "A logistic regression with DP-SGD: the worker calibrates the noise to epsilon 1 with the RDP accountant,"
echo "the run is charged to the budget before it trains, and the model comes back encrypted:"
run train "$scratch/cohort-dp.job.yaml"
run data budget show cohort-features
job=$("$veil" job list --json | python3 -c "import json, sys; print(json.load(sys.stdin)[0]['id'])")
run job log "$job" | head -6
echo "Held-out patients the model never saw, prepared by the same pipeline (no budget on them):"
"$here/$build/tools/veil-datagen" --rows 20000 --seed 2027 -o "$scratch/heldout.csv"
"$veil" -q data upload "$scratch/heldout.csv" --name heldout --owner st-mary-hospital \
	--compartment oncology --classification confidential
"$veil" -q features build "$here/examples/patients.pipeline.yaml" --input heldout --output heldout-features \
	--schema "$here/examples/patients.schema.yaml" >/dev/null
echo "The worker decrypts the model and the data, and signs the metrics; neither leaves it in plaintext:"
run model eval patients-dp --dataset heldout-features
echo "What the model is, what it cost, and where it came from:"
run model inspect patients-dp

step "11. Tampering is detected: flip one byte of a stored object"
obj=$("$veil" data inspect patients@2 --json | sed -n 's/.*"object_id": "\([0-9a-f]*\)".*/\1/p')
f="$ws/objects/${obj:0:2}/${obj:2}"
cp "$f" "$scratch/good-object"
python3 -c "
import sys
with open(sys.argv[1], 'r+b') as o:
    o.seek(200); b = o.read(1); o.seek(200); o.write(bytes([b[0] ^ 0xff]))" "$f" # any byte, always changed
if "$veil" data download patients@2 -o "$scratch/tampered.csv"; then echo "NOT DETECTED" >&2; exit 1; fi
[ ! -e "$scratch/tampered.csv" ] && echo "refused, and no partial output was written"
cp "$scratch/good-object" "$f"

step "12. The audit log: every change, key use and key release, in a signed Merkle tree"
run audit log
run audit verify
run audit proof inclusion 2 -o "$scratch/proof.json"
echo "An outside auditor checks it with the public key they kept from step 1, nothing else:"
run audit check-proof "$scratch/proof.json" --public-key "$logkey"
run audit verify --public-key "$logkey"

step "13. A consistent backup, restored and verified"
run backup "$scratch/backup"
run restore "$scratch/backup" "$scratch/restored"
VEIL_WORKSPACE="$scratch/restored" "$veil" audit verify

step "Done"
echo "Workspace kept at $ws (passphrase: \$VEIL_PASSPHRASE as set above;"
echo "administrator token: export VEIL_TOKEN_FILE=$token)."
