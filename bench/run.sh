#!/usr/bin/env bash
# Benchmarks, each printed beside a reference measured in the same run so
# the ratio means something on any machine (DESIGN.md section 8).
#
#   bench/run.sh [BUILD_DIR]      (default: build; `make bench` passes it)
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
