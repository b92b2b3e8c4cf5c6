#!/usr/bin/env bash
# Benchmarks, each printed beside a reference measured in the same run so
# the ratio means something on any machine (DESIGN.md section 8).
#
#   bench/run.sh [BUILD_DIR]                (default: build; `make bench` passes it)
#   bench/run.sh BUILD_DIR --train          only the training benchmark (last below)
#   bench/run.sh BUILD_DIR --dp-accuracy    only the DP-SGD accuracy recipe (minutes)
#
# The object container's seal and open throughput is set against OpenSSL's
# own AES-256-GCM speed on one core (`openssl speed`, 16 KiB blocks). The
# targets are >= 0.8 of that figure on one thread and > 1.5 on two. Then
# `veil data upload` and `download` of a 1 GiB file (VEIL_BENCH_MB to
# change it) are timed end to end against the same figure and against dd.
# This script reports; it never fails on a slow machine.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."

# Training: Fashion-MNIST, MLP 784-256-10 ReLU, batch 256, SGD lr 0.1
# momentum 0.9, inputs in [0, 1], on 1 and 2 threads: veil without DP,
# veil with DP-SGD (σ 1, C 1) and PyTorch (bench/torch_train.py, Debian's
# python3-torch: `scripts/deps.sh bench`), each for VEIL_BENCH_EPOCHS
# epochs (default 3; the test accuracy printed is after those epochs, not a
# trained model's). Figures are the fastest epoch: wall clock (samples/s)
# and process CPU time, each configuration the best of VEIL_BENCH_REPEAT
# interleaved runs (default 2). PyTorch gets its best thread settings: on 2
# threads both "torch 2 threads, OpenBLAS 1" (torch-2:1) and "torch 1,
# OpenBLAS 2" (torch-1:2) run (its own pool and OpenBLAS's together would
# oversubscribe the cores) and the faster counts. Targets (issue 6): veil non-private at least as fast
# as PyTorch; DP-SGD at most 1.3 times the non-private epoch.
train_bench() {
	local tbin="$build/bench/bench_train" epochs=${VEIL_BENCH_EPOCHS:-3} reps=${VEIL_BENCH_REPEAT:-2} torch=1
	if [ ! -x "$tbin" ]; then
		echo "bench: $tbin is missing; build it first: ninja -C $build bench/bench_train" >&2
		return 1
	fi
	if ! /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
		echo "bench: PyTorch is missing, so no reference figure: run scripts/deps.sh bench" >&2
		torch=0
	fi
	local t r s k b line settings nodp dp tb best
	for t in 1 2; do
		# "torch threads k : OpenBLAS threads b" settings tried for t threads
		settings="1:1"
		[ "$t" = 2 ] && settings="2:1 1:2"
		# Each configuration runs `reps` times, interleaved, and keeps its
		# fastest run: other work on the machine comes and goes.
		local all=""
		for r in $(seq "$reps"); do
			all+="$("$tbin" speed nodp "$t" "$epochs")"$'\n'
			all+="$("$tbin" speed dp "$t" "$epochs")"$'\n'
			if [ "$torch" = 1 ]; then
				for s in $settings; do
					k=${s%:*}
					b=${s#*:}
					line=$(OMP_NUM_THREADS=$k OPENBLAS_NUM_THREADS=$b /usr/bin/python3 bench/torch_train.py "$k" "$epochs")
					all+="${line/torch threads=$k/torch-$k:$b threads=$t}"$'\n'
				done
			fi
		done
		# the fastest line of each configuration; PyTorch's best setting
		best=$(printf '%s' "$all" | awk '{ e = $4; sub(/epoch_s=/, "", e); e += 0
				if (!($1 in best) || e < best[$1]) { best[$1] = e; line[$1] = $0 } }
			END { for (c in line) print line[c] }' | sort)
		echo "$best"
		nodp=$(grep '^veil-nodp' <<<"$best")
		dp=$(grep '^veil-dp' <<<"$best")
		tb=$(grep '^torch-' <<<"$best" | awk '{ e = $4; sub(/epoch_s=/, "", e)
				if (b == "" || e + 0 < b + 0) { b = e; l = $0 } } END { print l }' || true)
		awk -v n="$nodp" -v d="$dp" -v tl="$tb" -v t="$t" 'function f(line, key,   x) {
				x = substr(line, index(line, key "=") + length(key) + 1); sub(/ .*/, "", x); return x + 0 }
			BEGIN {
				ne = f(n, "epoch_s"); nc = f(n, "cpu_s"); de = f(d, "epoch_s"); dc = f(d, "cpu_s")
				r = de / ne
				met = (r <= 1.3) ? "met" : "NOT met"
				printf "threads=%d  dp/non-dp time per epoch %.2f (cpu %.2f)  (target <= 1.3: %s)\n", t, r, dc / nc, met
				if (tl != "") {
					split(tl, w, " ")
					s = f(tl, "epoch_s") / ne
					met = (s >= 1.0) ? "met" : "NOT met"
					printf "threads=%d  veil/torch speed %.2f (cpu %.2f), against %s  (target >= 1.0: %s)\n", t, s,
						f(tl, "cpu_s") / nc, w[1], met
				}
			}'
	done
}

# DP-SGD accuracy: the recipe that reaches the issue's target (>= 84% test
# accuracy at epsilon <= 3, delta = 1e-5), printing the test accuracy and the
# RDP accountant's epsilon after every epoch: MLP 784-256-10 with tanh
# (better than ReLU under DP here: 85.5% against 84.7%), batch 512 (Poisson,
# q = 512/60000), 40 epochs (4720 steps), SGD lr 0.1 momentum 0.9, C = 1,
# sigma calibrated to epsilon 3 (about 1.128). Runs with different dp_seeds
# gave 85.3-85.7%. One to a few minutes, so only on request.
dp_accuracy() {
	local tbin="$build/bench/bench_train"
	if [ ! -x "$tbin" ]; then
		echo "bench: $tbin is missing; build it first: ninja -C $build bench/bench_train" >&2
		return 1
	fi
	"$tbin" dp-accuracy
}

case "${2:-}" in
--train)
	echo "== training: Fashion-MNIST MLP, veil vs PyTorch =="
	train_bench
	exit 0
	;;
--dp-accuracy)
	echo "== DP-SGD accuracy on Fashion-MNIST (epsilon <= 3, delta 1e-5) =="
	dp_accuracy
	exit 0
	;;
'') ;;
*)
	echo "usage: bench/run.sh [BUILD_DIR [--train | --dp-accuracy]]" >&2
	exit 2
	;;
esac
bin="$build/bench/bench_container"
if [ ! -x "$bin" ]; then
	echo "bench: $bin is missing; build it first: ninja -C $build bench/bench_container" >&2
	exit 1
fi
if ! command -v openssl >/dev/null 2>&1; then
	echo "bench: the openssl command is needed for the reference figure (apt-get install openssl)" >&2
	exit 1
fi

echo "== object container (AES-256-GCM chunks) vs openssl speed =="
# The result line reads "AES-256-GCM   4273700.86k": thousands of bytes per second.
speed=$(openssl speed -evp aes-256-gcm -bytes 16384 -seconds 3 2>/dev/null | awk '/^AES-256-GCM/ { v = $2 } END { print v }')
speed=${speed%k}
if [ -z "$speed" ]; then
	echo "bench: could not read the 16384-byte figure from openssl speed" >&2
	exit 1
fi
ref=$(awk -v k="$speed" 'BEGIN { printf "%.1f", k / 1000 }')
printf '%-28s %10s MB/s\n' "openssl aes-256-gcm 16 KiB" "$ref"

"$bin" | while read -r op threads value unit; do
	case "$op" in
	'#'*) echo "$op $threads $value $unit"; continue ;;
	esac
	n=${threads#threads=}
	awk -v op="$op" -v n="$n" -v v="$value" -v ref="$ref" 'BEGIN {
		ratio = v / ref
		if (n == 1) { target = 0.8; met = ratio >= target; cmp = ">=" }
		else { target = 1.5; met = ratio > target; cmp = ">" }
		printf "%-28s %10.1f MB/s  ratio %.2f  (target %s %.1f: %s)\n", \
			"container " op " threads=" n, v, ratio, cmp, target, met ? "met" : "NOT met"
	}'
done

echo
echo "== veil data upload / download of a 1 GiB file, end to end =="
# Read, hash, encrypt, hash, write and fsync: compared with the same openssl
# figure and with dd copying the file on the same disk.
bench/bench_cli.sh "$build" "$ref" "${VEIL_BENCH_MB:-1024}"

echo
echo "== CSV reader vs wc -l on the same file =="
# The streaming CSV reader (parse, unquote, UTF-8 check) over a generated
# file of VEIL_BENCH_MB MiB (default 256), then the reader plus type
# inference on every field, each set against `wc -l` on the same file
# (newline counting with memchr: the floor for any reader). Best of 3,
# the file in the page cache for all of them.
csvbin="$build/bench/bench_csv"
if [ ! -x "$csvbin" ]; then
	echo "bench: $csvbin is missing; build it first: ninja -C $build bench/bench_csv" >&2
	exit 1
fi
csvdir=$(mktemp -d "${TMPDIR:-/tmp}/veil-bench-csv-XXXXXX")
trap 'rm -rf "$csvdir"' EXIT
csvmb=${VEIL_BENCH_MB:-256}
"$csvbin" gen "$csvdir/bench.csv" "$csvmb"
csvbytes=$(stat -c %s "$csvdir/bench.csv")
wc -l <"$csvdir/bench.csv" >/dev/null # into the page cache
wcbest=
for _ in 1 2 3; do
	t0=$(date +%s.%N)
	wc -l <"$csvdir/bench.csv" >/dev/null
	t1=$(date +%s.%N)
	wcbest=$(awk -v a="$t0" -v b="$t1" -v best="$wcbest" 'BEGIN { d = b - a; if (best == "" || d < best) best = d; print best }')
done
wcmbs=$(awk -v n="$csvbytes" -v d="$wcbest" 'BEGIN { printf "%.1f", n / 1e6 / d }')
printf '%-28s %10s MB/s  (%s MB file)\n' "wc -l" "$wcmbs" "$(awk -v n="$csvbytes" 'BEGIN { printf "%.0f", n / 1e6 }')"
"$csvbin" read "$csvdir/bench.csv" 3 | while read -r what mbs rows; do
	awk -v w="$what" -v v="$mbs" -v ref="$wcmbs" -v rows="$rows" 'BEGIN {
		label = (w == "read") ? "csv reader" : "csv reader + type inference"
		printf "%-28s %10.1f MB/s  ratio to wc -l %.3f  (%s rows)\n", label, v, v / ref, rows
	}'
done

echo
echo "== veil data validate + PII scan in the trusted worker, end to end =="
# Synthetic patients (tools/veil-datagen), VEIL_BENCH_MB MiB (default 1024),
# validated against examples/patients.schema.yaml with every value scanned,
# decryption in the worker included; set against `wc -l` and the worker's
# decrypt-and-hash `data verify` of the same data, in the same run.
bench/bench_worker_validate.sh "$build" "${VEIL_BENCH_MB:-1024}"

echo
echo "== validate + PII scan vs the CSV reader and wc -l =="
# Synthetic patients from veil-datagen (VEIL_BENCH_MB MiB, default 256)
# validated on one core against examples/patients.schema.yaml: every rule
# (five patterns, a unique column, bounds, allowed lists), the statistics,
# the PII scan of every value and duplicate rows; then the same file
# profiled (type inference instead of rules). Each is set against the CSV
# reader alone and `wc -l` on the same file in the same run; the issue's
# target is 200 MB/s per core for validate + scan. Best of 3, the file in
# the page cache; decryption is not included (the container's figure is
# above).
valbin="$build/bench/bench_validate"
gen="$build/tools/veil-datagen"
if [ ! -x "$valbin" ] || [ ! -x "$gen" ]; then
	echo "bench: $valbin or $gen is missing; build them first: ninja -C $build bench/bench_validate tools/veil-datagen" >&2
	exit 1
fi
"$gen" --size "$csvmb" --seed 1 -o "$csvdir/patients.csv"
patbytes=$(stat -c %s "$csvdir/patients.csv")
wc -l <"$csvdir/patients.csv" >/dev/null
wcbest=
for _ in 1 2 3; do
	t0=$(date +%s.%N)
	wc -l <"$csvdir/patients.csv" >/dev/null
	t1=$(date +%s.%N)
	wcbest=$(awk -v a="$t0" -v b="$t1" -v best="$wcbest" 'BEGIN { d = b - a; if (best == "" || d < best) best = d; print best }')
done
wcmbs=$(awk -v n="$patbytes" -v d="$wcbest" 'BEGIN { printf "%.1f", n / 1e6 / d }')
printf '%-28s %10s MB/s  (%s MB of patients)\n' "wc -l" "$wcmbs" "$(awk -v n="$patbytes" 'BEGIN { printf "%.0f", n / 1e6 }')"
"$valbin" "$csvdir/patients.csv" examples/patients.schema.yaml 3 | while read -r what mbs rows; do
	case "$what" in
	read) readmbs=$mbs ;;
	esac
	awk -v w="$what" -v v="$mbs" -v ref="$wcmbs" -v rd="$readmbs" -v rows="$rows" 'BEGIN {
		label = (w == "read") ? "csv reader" : (w == "validate") ? "validate + PII scan" : "profile + PII scan"
		line = sprintf("%-28s %10.1f MB/s  ratio to wc -l %.3f", label, v, v / ref)
		if (w != "read")
			line = line sprintf(", to the reader %.3f  (target 200 MB/s: %s)", v / rd, v >= 200 ? "met" : "NOT met")
		printf "%s  (%s rows)\n", line, rows
	}'
done

echo
echo "== training: Fashion-MNIST MLP, veil vs PyTorch =="
# See train_bench above; `bench/run.sh BUILD --dp-accuracy` runs the DP recipe.
train_bench
