#!/usr/bin/env bash
# A real fuzzing session (fuzz/README.md): builds the libFuzzer targets with
# clang, AddressSanitizer and UndefinedBehaviorSanitizer in build-fuzz (made
# on first use, libraries instrumented for coverage too), then runs each
# target for SECONDS (default 20) seeded with a scratch copy of its corpus,
# so the repository is never modified. Prints, per target, the executions
# and whether it found a crash; crashing inputs are kept in
# build-fuzz/crashes/<target>/. Exits non-zero if any target crashed.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     e.g. fuzz/run.sh 300, fuzz/run.sh 60 audit_proof
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-20}
[ $# -gt 0 ] && shift
case $secs in '' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS] [TARGET...]" >&2; exit 2 ;; esac

# target and the largest input worth trying for it
declare -A max_len=(
	[object_header]=4096 [object_open]=260 [yaml_config]=4096 [parse_small]=128
	[audit_proof]=8192 [audit_event]=4096 [audit_files]=4096 [sealed_root]=256 [policy]=4096
	[snp_report]=1400 [release_policy]=4096
	[tdx_quote]=8192
	[tpm_quote]=12000
	[snp_certtable]=8192
	[worker_frame]=4096
	[pii]=300
	[csv]=4096
	[schema]=4096
	[validate]=4096
	[idx]=4096
	[pipeline]=4096
	[safetensors]=4096
	[job]=4096
	[checkpoint]=1024
)
# libFuzzer dictionaries: tokens a mutation is unlikely to spell by chance
declare -A dicts=([audit_proof]=audit.dict [audit_event]=audit.dict [yaml_config]=yaml.dict [policy]=policy.dict [release_policy]=yaml.dict [schema]=yaml.dict [pipeline]=yaml.dict [safetensors]=safetensors.dict [job]=yaml.dict)
all=$(printf '%s\n' "${!max_len[@]}" | sort | tr '\n' ' ')
targets=${*:-$all}
for t in $targets; do
	[ -n "${max_len[$t]:-}" ] || { echo "fuzz/run.sh: no target '$t' (targets: $all)" >&2; exit 2; }
done

build=build-fuzz
if [ ! -f $build/build.ninja ]; then
	if ! out=$(CC=clang meson setup $build -Db_lundef=false -Db_sanitize=address,undefined \
		-Dc_args=-fsanitize=fuzzer-no-link -Dbuildtype=debugoptimized 2>&1); then
		echo "$out" >&2
		exit 1
	fi
fi
if ! out=$(ninja -C $build -j2 $(for t in $targets; do echo fuzz/fuzz_$t; done) 2>&1); then
	echo "$out" >&2
	echo "fuzz/run.sh: cannot build the targets (libFuzzer needs clang: see fuzz/README.md)" >&2
	exit 1
fi

# Memory-backed when possible: the file-reading targets write their input to disk on every run.
base=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
scratch=$(mktemp -d "$base/veil-fuzz-run-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch/tmp # the targets' own scratch folders go here too
mkdir -p "$TMPDIR"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
command -v llvm-symbolizer >/dev/null && export ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer)

crashed=0
printf '%-14s %12s  %s\n' target executions result
for t in $targets; do
	corpus=$scratch/corpus/$t
	art=$scratch/artifacts/$t
	mkdir -p "$corpus" "$art"
	cp fuzz/corpus/$t/* "$corpus"/
	log=$scratch/$t.log
	rc=0
	dict=()
	[ -n "${dicts[$t]:-}" ] && dict=(-dict="fuzz/${dicts[$t]}")
	$build/fuzz/fuzz_$t "$corpus" -max_total_time="$secs" -max_len="${max_len[$t]}" -timeout=20 \
		-artifact_prefix="$art/" -print_final_stats=1 "${dict[@]}" >"$log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	[ -n "$runs" ] || runs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
	if [ $rc -eq 0 ]; then
		printf '%-14s %12s  %s\n' "$t" "${runs:-?}" "no crash"
	else
		crashed=1
		mkdir -p $build/crashes/$t
		cp "$art"/* $build/crashes/$t/ 2>/dev/null || true
		cp "$log" $build/crashes/$t/fuzz.log
		printf '%-14s %12s  %s\n' "$t" "${runs:-?}" "CRASH (rc $rc): see $build/crashes/$t/"
		what='^==[0-9]+==ERROR|^SUMMARY|deadly signal|invariant broken|out-of-memory|timeout'
		grep -m1 -E "$what" "$log" | sed 's/^/    /' || true
	fi
done
exit $crashed
