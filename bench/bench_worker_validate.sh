#!/usr/bin/env bash
# `veil data validate` end to end in the trusted worker (the simulated TEE):
# synthetic patients from tools/veil-datagen (SIZE_MB, default 1024) are
# uploaded, then validated against examples/patients.schema.yaml with the
# privacy scan of every value. The clock covers the whole command: start
# the worker, release the key after attestation, stream the ciphertext over
# the worker socket, decrypt, parse, validate, scan, sign the report, seal
# and record it. Set against `wc -l` of the same file in the same run (the
# floor of any reader), and against the worker's plain `data verify`
# (decrypt and hash only) of the same object.
#
# The worker parses on one thread while a second decrypts, so the figure
# is also given per core of CPU time used (user + system of the worker).
#
# usage: bench/bench_worker_validate.sh BUILD_DIR [SIZE_MB]
set -euo pipefail
build=$1
size_mb=${2:-1024}
root="$(cd "$(dirname "$0")/.." && pwd)"
veil="$root/$build/src/cli/veil"
gen="$root/$build/tools/veil-datagen"
work=$(mktemp -d /tmp/veil-bench-validate-XXXXXX)
trap 'rm -rf "$work"' EXIT
export VEIL_PASSPHRASE="benchmark passphrase" VEIL_WORKSPACE="$work/ws"
"$veil" -q init "$work/ws" --kdf-log-n 14 --token-file "$work/admin.token"
export VEIL_TOKEN_FILE="$work/admin.token"
"$gen" --size "$size_mb" --seed 5 -o "$work/patients.csv"
bytes=$(stat -c %s "$work/patients.csv")
"$veil" -q data upload "$work/patients.csv" --name patients --owner bench
printf 'version: 1\ntee: [sim]\nallow_simulated: true\nmeasurements: [%s]\nmax_age: 5m\n' \
	"$("$veil" attest measure 2>/dev/null)" >"$work/release.yaml"
"$veil" -q attest policy set "$work/release.yaml"
"$veil" -q attest evidence >/dev/null 2>&1 # makes the simulated chain before the clock starts

now() { date +%s.%N; }
wc -l <"$work/patients.csv" >/dev/null # into the page cache
t0=$(now)
wc -l <"$work/patients.csv" >/dev/null
t1=$(now)
wc=$(python3 -c "print($bytes / 1e6 / ($t1 - $t0))")

t0=$(now)
"$veil" -q data verify patients >/dev/null 2>&1
t1=$(now)
verify=$(python3 -c "print($bytes / 1e6 / ($t1 - $t0))")

# The worker is a child of veil: its CPU time is in the children's times.
times_before=$(python3 -c "import os; t=os.times(); print(t.children_user + t.children_system)")
t0=$(now)
/usr/bin/time -f '%U %S' -o "$work/cpu" "$veil" -q data validate patients \
	--schema "$root/examples/patients.schema.yaml" >/dev/null 2>"$work/err" ||
	{ cat "$work/err" >&2; exit 1; }
t1=$(now)
read -r user sys <"$work/cpu"
: "$times_before"
python3 - "$bytes" "$t0" "$t1" "$user" "$sys" "$wc" "$verify" <<'EOF'
import sys
n, t0, t1, user, sys_, wc, verify = (float(x) for x in sys.argv[1:])
mbs = n / 1e6 / (t1 - t0)
cores = (user + sys_) / (t1 - t0)
print('%-34s %8.0f MB/s  (%.0f MB file)' % ('wc -l (reference)', wc, n / 1e6))
print('%-34s %8.0f MB/s' % ('veil data verify in the worker', verify))
print('%-34s %8.0f MB/s  ratio to wc -l %.3f, to verify %.2f' % ('veil data validate + PII scan', mbs, mbs / wc, mbs / verify))
print('%-34s %8.0f MB/s  (%.2f cores busy; target >= 200)' % ('... per core of CPU used', mbs / cores, cores))
EOF
