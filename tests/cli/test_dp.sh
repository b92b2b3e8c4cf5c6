#!/usr/bin/env bash
# veil dp epsilon and veil dp noise (docs/privacy.md): the published
# vectors through the command (TF Privacy's compute_dp_sgd_privacy_test.py
# Test0-1 with our orders: their ε differs only in the orders searched),
# JSON output, the noise → epsilon round trip, both ways of naming the run,
# and every bad input with its exit code and message. No workspace.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1 # no workspace anywhere above: the commands must not need one

# jget KEY: sets J to the value of KEY in the JSON on stdout ("null" for
# JSON null, "missing" when absent). The JSON is parsed by python3 (jq is
# not installed), started once as a coprocess: a python3 start costs
# seconds on a loaded machine.
coproc JSONP {
	python3 -u -c 'import json, sys
for line in sys.stdin:
    path, key = line.rstrip("\n").split("\t")
    try:
        d = json.load(open(path))
        v = d[key] if key in d else "missing"
        print("null" if v is None else (v if v == "missing" else repr(v)))
    except ValueError:
        print("invalid-json")'
}
jget() {
	printf '%s\t%s\n' "$T/out" "$1" >&"${JSONP[1]}"
	IFS= read -r J <&"${JSONP[0]}"
}
# Numbers are compared by awk, in doubles: close A B RTOL is |A - B| <= RTOL·|B|.
close() { awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; exit !(d <= r * m) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }

# ---- epsilon: the published vector, over the default orders ----
# TF Privacy Test0 (n 60000, batch 150, σ 1.3, 15 epochs, δ 1e-5) is
# ε 0.7242234026109595 at order 19 over TF's orders; the default orders
# hold 19 too, so the minimum is the same.
veil dp epsilon --sample-rate 0.0025 --steps 6000 --noise 1.3 --delta 1e-5 --json
expect_rc "epsilon: TF Privacy Test0 runs" 0
jget epsilon
check "epsilon: Test0's epsilon to 1e-9" close "$J" 0.7242234026109595 1e-9
jget order
check "epsilon: Test0's order 19" test "$J" = 19.0
jget accountant
check "epsilon: JSON names the accountant" test "$J" = "'rdp'"
jget steps
check "epsilon: JSON has the steps" test "$J" = 6000
jget noise_multiplier
check "epsilon: JSON has sigma" test "$J" = 1.3

veil dp epsilon --dataset-size 60000 --batch-size 150 --epochs 15 --noise 1.3 --delta 1e-5 --json
expect_rc "epsilon: the same run from the data set's size" 0
jget epsilon
check "epsilon: same epsilon from --dataset-size" close "$J" 0.7242234026109595 1e-9
jget sample_rate
check "epsilon: q = batch/n" close "$J" 0.0025 1e-15
jget steps
check "epsilon: steps = epochs x ceil(n/batch)" test "$J" = 6000
jget dataset_size
check "epsilon: JSON has the data set's size" test "$J" = 60000

# TF Privacy Test1 (n 100000, batch 100, σ 1.0, 30 epochs, δ 1e-7): 1.4154988495444842 at 13.
veil dp epsilon --dataset-size 100000 --batch-size 100 --epochs 30 --noise 1.0 --delta 1e-7 --json
jget epsilon
check "epsilon: TF Privacy Test1" close "$J" 1.4154988495444842 1e-9
jget order
check "epsilon: Test1's order 13" test "$J" = 13.0

# A last short batch counts as a step: ceil(60000/256) = 235 per epoch.
veil dp epsilon --dataset-size 60000 --batch-size 256 --epochs 20 --noise 1.0 --delta 1e-5 --json
jget steps
check "epsilon: 20 epochs of 235 steps" test "$J" = 4700

# Plain output: the epsilon rounded up, the order, the run.
veil dp epsilon --sample-rate 0.0025 --steps 6000 --noise 1.3 --delta 1e-5
expect_rc "epsilon: plain output" 0
check "epsilon: plain shows epsilon rounded up" out_has "^epsilon +0\.7242235$"
check "epsilon: plain shows the order" out_has "^order +19$"
check "epsilon: plain shows the steps" out_has "^steps +6000$"

veil dp epsilon --sample-rate 0.0025 --steps 6000 --noise 0 --delta 1e-5 --json
expect_rc "epsilon: sigma 0 is allowed" 0
jget epsilon
check "epsilon: sigma 0 is unbounded (JSON null)" test "$J" = null
check "epsilon: sigma 0 says so" err_has "no privacy"
veil dp epsilon --sample-rate 0 --steps 6000 --noise 1 --delta 1e-5 --json
jget epsilon
check "epsilon: q 0 spends nothing" test "$J" = 0.0

veil dp epsilon --sample-rate 0.01 --steps 1000 --noise 0.8 --delta 1e-5 --json
jget epsilon
e1=$J
veil dp epsilon --sample-rate 0.01 --steps 1000 --noise 1.6 --delta 1e-5 --json
jget epsilon
e2=$J
veil dp epsilon --sample-rate 0.01 --steps 4000 --noise 1.6 --delta 1e-5 --json
jget epsilon
e3=$J
check "epsilon: more noise, less epsilon" lt "$e2" "$e1"
check "epsilon: more steps, more epsilon" lt "$e2" "$e3"

# ---- noise: calibration, and the round trip ----
veil dp noise --sample-rate 0.0025 --steps 6000 --epsilon 0.7242234026109595 --delta 1e-5 --json
expect_rc "noise: Test0's epsilon back to its sigma" 0
jget noise_multiplier
check "noise: sigma is 1.3 to 1e-5" close "$J" 1.3 1e-5
jget noise_multiplier
check "noise: not below 1.3" le 1.3 "$J"

for run in "--sample-rate 0.0025 --steps 6000 --epsilon 1 --delta 1e-5" \
	"--dataset-size 60000 --batch-size 256 --epochs 20 --epsilon 3 --delta 1e-5" \
	"--sample-rate 0.01 --steps 100 --epsilon 0.5 --delta 1e-6" \
	"--sample-rate 1 --steps 1 --epsilon 2 --delta 1e-5"; do
	# shellcheck disable=SC2086
	veil dp noise $run --json
	jget target_epsilon
	target=$J
	jget noise_multiplier
	sigma=$J
	jget epsilon
	got=$J
	check "noise ($run): its epsilon is within the target" le "$got" "$target"
	# The printed sigma, given back to dp epsilon, meets the target too.
	# shellcheck disable=SC2001
	args=$(echo "$run" | sed 's/--epsilon [^ ]*/--noise '"$sigma"'/')
	# shellcheck disable=SC2086
	veil dp epsilon $args --json
	jget epsilon
	check "noise ($run): round trip through dp epsilon stays within the target" le "$J" "$target"
	# A sigma 1e-4 smaller misses it: the calibration is tight.
	smaller=$(awk -v s="$sigma" 'BEGIN { printf "%.17g", s * (1 - 1e-4) }')
	# shellcheck disable=SC2001
	args=$(echo "$run" | sed 's/--epsilon [^ ]*/--noise '"$smaller"'/')
	# shellcheck disable=SC2086
	veil dp epsilon $args --json
	jget epsilon
	check "noise ($run): sigma x (1 - 1e-4) misses the target" lt "$target" "$J"
done

veil dp noise --sample-rate 0.0025 --steps 6000 --epsilon 1 --delta 1e-5
expect_rc "noise: plain output" 0
check "noise: plain shows sigma" out_has "^noise +1\.09756[0-9]*$"
check "noise: plain shows the target as given" out_has "^target +1$"
veil dp noise --sample-rate 0 --steps 10 --epsilon 1 --delta 1e-5 --json
jget noise_multiplier
check "noise: q 0 needs none" test "$J" = 0.0

veil dp noise --sample-rate 1 --steps 1000000000000 --epsilon 0.000001 --delta 1e-9
expect_fail "noise: an unreachable target" "$E_INVALID" "no noise multiplier up to"
check "noise: the unreachable target has a hint" err_has "^hint: raise the target"

# ---- usage errors (exit 2) ----
veil dp epsilon --noise 1 --delta 1e-5
expect_fail "no run at all" "$E_USAGE" "missing --sample-rate and --steps \(or --dataset-size"
veil dp epsilon --sample-rate 0.1 --noise 1 --delta 1e-5
expect_fail "--sample-rate without --steps" "$E_USAGE" "missing --steps"
veil dp epsilon --steps 10 --noise 1 --delta 1e-5
expect_fail "--steps without --sample-rate" "$E_USAGE" "missing --sample-rate"
veil dp epsilon --dataset-size 100 --noise 1 --delta 1e-5
expect_fail "--dataset-size alone names both missing" "$E_USAGE" "missing --batch-size and --epochs"
veil dp epsilon --dataset-size 100 --batch-size 10 --noise 1 --delta 1e-5
expect_fail "--epochs missing" "$E_USAGE" "missing --epochs \("
veil dp noise --batch-size 10 --epochs 2 --epsilon 1 --delta 1e-5
expect_fail "--dataset-size missing" "$E_USAGE" "missing --dataset-size \("
veil dp epsilon --sample-rate 0.1 --steps 10 --dataset-size 100 --batch-size 10 --epochs 1 --noise 1 --delta 1e-5
expect_fail "both ways of naming the run" "$E_USAGE" "not both"
veil dp epsilon --sample-rate 0.1 --steps 10 --delta 1e-5
expect_fail "epsilon without --noise" "$E_USAGE" "missing --noise"
veil dp epsilon --sample-rate 0.1 --steps 10 --noise 1
expect_fail "epsilon without --delta" "$E_USAGE" "missing --delta"
veil dp noise --sample-rate 0.1 --steps 10 --delta 1e-5
expect_fail "noise without --epsilon" "$E_USAGE" "missing --epsilon"
veil dp noise --sample-rate 0.1 --steps 10 --epsilon 1
expect_fail "noise without --delta" "$E_USAGE" "missing --delta"
veil dp noise --sample-rate 0.1 --steps 10 --epsilon 1 --delta 1e-5 --noise 2
expect_fail "dp noise refuses --noise" "$E_USAGE" "not valid for 'veil dp noise'"
veil dp epsilon --sample-rate 0.1 --steps 10 --epsilon 1 --noise 1 --delta 1e-5
expect_fail "dp epsilon refuses --epsilon" "$E_USAGE" "not valid for 'veil dp epsilon'"
veil dp epsilon --sample-rate 0.1 --steps 10 --noise 1 --delta 1e-5 extra
expect_fail "a positional argument" "$E_USAGE" "unexpected argument 'extra'"
veil dp epsilon --bogus
expect_fail "an unknown option" "$E_USAGE" "unrecognized"

# Malformed numbers: each is a usage error naming the option and the text.
for bad in 1e999 1e-999 nan NaN inf -inf -0 +1 0x10 0X1p3 1.5x " 1" "1 " "" . e5 1e 1e+ 0.1.2 1,5 "1e5 "; do
	veil dp epsilon --sample-rate 0.1 --steps 10 --noise "$bad" --delta 1e-5
	expect_fail "--noise '$bad' is refused" "$E_USAGE" "--noise takes a decimal number"
done
for bad in nan -0 0x10 1e999; do
	veil dp noise --sample-rate 0.1 --steps 10 --epsilon "$bad" --delta 1e-5
	expect_fail "--epsilon '$bad' is refused" "$E_USAGE" "--epsilon takes a decimal number"
	veil dp epsilon --sample-rate "$bad" --steps 10 --noise 1 --delta 1e-5
	expect_fail "--sample-rate '$bad' is refused" "$E_USAGE" "--sample-rate takes a decimal number"
	veil dp epsilon --sample-rate 0.1 --steps 10 --noise 1 --delta "$bad"
	expect_fail "--delta '$bad' is refused" "$E_USAGE" "--delta takes a decimal number"
done
for bad in -1 -0 0x10 1e3 1.5 12abc 99999999999999999999999 ""; do
	veil dp epsilon --sample-rate 0.1 --steps "$bad" --noise 1 --delta 1e-5
	expect_fail "--steps '$bad' is refused" "$E_USAGE" "--steps takes a whole number"
done
veil dp epsilon --dataset-size 0x10 --batch-size 1 --epochs 1 --noise 1 --delta 1e-5
expect_fail "--dataset-size 0x10 is refused" "$E_USAGE" "--dataset-size takes a whole number"
veil dp epsilon --dataset-size 100 --batch-size -5 --epochs 1 --noise 1 --delta 1e-5
expect_fail "--batch-size -5 is refused" "$E_USAGE" "--batch-size takes a whole number"
veil dp epsilon --dataset-size 100 --batch-size 5 --epochs 2.5 --noise 1 --delta 1e-5
expect_fail "--epochs 2.5 is refused" "$E_USAGE" "--epochs takes a whole number"
# Well-formed numbers are accepted in their usual spellings.
veil dp epsilon --sample-rate .0025 --steps 006000 --noise 13e-1 --delta 0.00001 --json
jget epsilon
check "numbers: .0025, 006000, 13e-1 and 0.00001 are read as written" close "$J" \
	0.7242234026109595 1e-9

# ---- values out of range (exit 11) and over the limits (exit 24) ----
veil dp epsilon --sample-rate 1.5 --steps 10 --noise 1 --delta 1e-5
expect_fail "q above 1" "$E_INVALID" "sampling rate q must be a number from 0 to 1"
for d in 0 1 1.5; do
	veil dp epsilon --sample-rate 0.1 --steps 10 --noise 1 --delta $d
	expect_fail "delta $d" "$E_INVALID" "delta must be a number between 0 and 1"
done
veil dp noise --sample-rate 0.1 --steps 10 --epsilon 0 --delta 1e-5
expect_fail "target epsilon 0" "$E_INVALID" "target epsilon must be a finite number > 0"
veil dp epsilon --dataset-size 100 --batch-size 200 --epochs 1 --noise 1 --delta 1e-5
expect_fail "a batch larger than the data" "$E_INVALID" "batch size must be from 1 to the data set size \(100\)"
veil dp epsilon --dataset-size 0 --batch-size 1 --epochs 1 --noise 1 --delta 1e-5
expect_fail "an empty data set" "$E_INVALID" "data set size"
veil dp epsilon --dataset-size 100 --batch-size 10 --epochs 0 --noise 1 --delta 1e-5
expect_fail "zero epochs" "$E_INVALID" "epochs must be at least 1"
veil dp epsilon --sample-rate 0.1 --steps 1000000000001 --noise 1 --delta 1e-5
expect_fail "more than 10^12 steps" 24 "at most 1000000000000"
veil dp epsilon --dataset-size 1000000 --batch-size 1 --epochs 10000000 --noise 1 --delta 1e-5
expect_fail "epochs x steps over the limit" 24 "more than 1000000000000 steps"
# A usage error comes before a range error on the same line.
veil dp epsilon --dataset-size 100 --batch-size 200 --epochs 1 --noise 1
expect_fail "missing --delta is reported before the bad batch" "$E_USAGE" "missing --delta"

# ---- help and the command table ----
for c in "dp epsilon" "dp noise"; do
	# shellcheck disable=SC2086
	veil $c --help
	expect_rc "'veil $c --help' exits 0" 0
	check "'veil $c --help' gives exit codes" out_has "^Exit status: 0 done; 2 a missing"
done
veil dp
expect_rc "'veil dp' alone is a usage error" "$E_USAGE"
check "'veil dp' lists dp epsilon" out_has "^  dp epsilon "
check "'veil dp' lists dp noise" out_has "^  dp noise "
veil policy operations --json
check "policy operations lists dp epsilon" out_has "dp epsilon"

finish
