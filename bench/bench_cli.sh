#!/usr/bin/env bash
# Times `veil data upload` and `veil data download` of a 1 GiB file (or
# SIZE_MB) end to end — read, hash, encrypt, hash, write, fsync — and
# prints MB/s with two ratios: to the reference figure given as $2 (MB/s of
# `openssl speed -evp aes-256-gcm` at 16 KiB, measured by bench/run.sh in
# the same run) and to copying the same file with `dd conv=fsync` on the
# same disk (what the disk allows; upload and download both write the
# whole file, so this is usually the bound).
#
# usage: bench/bench_cli.sh BUILD_DIR OPENSSL_MBPS [SIZE_MB]
set -euo pipefail
build=$1
ref=$2
size_mb=${3:-1024}
veil="$(cd "$(dirname "$0")/.." && pwd)/$build/src/cli/veil"
work=$(mktemp -d /tmp/veil-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
export VEIL_PASSPHRASE="benchmark passphrase" VEIL_WORKSPACE="$work/ws"
"$veil" -q init "$work/ws" --kdf-log-n 14 --token-file "$work/admin.token"
export VEIL_TOKEN_FILE="$work/admin.token"
head -c $((size_mb * 1048576)) /dev/urandom >"$work/in"
sync

now() { date +%s.%N; }
rate() { python3 -c "print(f'{$size_mb * 1.048576 / ($2 - $1):.0f}')"; }
t0=$(now)
dd if="$work/in" of="$work/copy" bs=1M conv=fsync status=none
t1=$(now)
rm -f "$work/copy"
disk=$(rate "$t0" "$t1")
report() {
	python3 -c "print('%-34s %6.0f MB/s  ratio to openssl %.2f, to dd %.2f' % ('$1', $2, $2 / $ref, $2 / $disk))"
}
report "dd copy with fsync (reference)" "$disk"

t0=$(now)
"$veil" -q data upload "$work/in" --name bench --owner bench
t1=$(now)
"$veil" -q data download bench -o "$work/out"
t2=$(now)
cmp -s "$work/in" "$work/out" || { echo "bench: round trip mismatch" >&2; exit 1; }
report "veil data upload (${size_mb} MiB)" "$(rate "$t0" "$t1")"
report "veil data download (${size_mb} MiB)" "$(rate "$t1" "$t2")"

# The same object decrypted and checked inside the trusted worker (the
# simulated TEE): ciphertext streamed over the worker socket in 1 MiB
# frames, the key released after attestation. Its ratio to the download
# above is the cost of the process boundary; the first use also makes the
# workspace's simulated chain, so that is done before the clock starts.
printf 'version: 1\ntee: [sim]\nallow_simulated: true\nmeasurements: [%s]\nmax_age: 5m\n' \
	"$("$veil" attest measure 2>/dev/null)" >"$work/release.yaml"
"$veil" -q attest policy set "$work/release.yaml"
"$veil" -q attest evidence >/dev/null 2>&1
download=$(rate "$t1" "$t2")
t3=$(now)
"$veil" -q data verify bench >/dev/null 2>&1
t4=$(now)
verify=$(rate "$t3" "$t4")
python3 -c "print('%-34s %6.0f MB/s  ratio to openssl %.2f, to download %.2f' % ('veil data verify in the worker', $verify, $verify / $ref, $verify / $download))"

# The fixed cost of a command in a workspace: open, unlock the root (scrypt
# at 2^14 here), authenticate the token, decide, sign the decision into the
# audit log. Set against the same number of bare process starts (`veil
# version`) in the same run.
runs=${VEIL_BENCH_RUNS:-20}
t0=$(now)
for _ in $(seq "$runs"); do "$veil" version >/dev/null; done
t1=$(now)
for _ in $(seq "$runs"); do "$veil" -q data inspect bench >/dev/null; done
t2=$(now)
python3 -c "
base = ($t1 - $t0) / $runs * 1000; cmd = ($t2 - $t1) / $runs * 1000
print('%-34s %6.1f ms' % ('veil version (process start)', base))
print('%-34s %6.1f ms  ratio to a bare start %.1f' % ('veil data inspect (authz + audit)', cmd, cmd / base))"
