#!/usr/bin/env bash
# Writes the TPM 2.0 quote samples of this folder (README.md): a fresh
# swtpm, three AKs (RSA with RSASSA, RSA with RSA-PSS, ECC P-256 with
# ECDSA, all SHA-256) and one more RSA AK that signed nothing, PCR 16 and 23
# extended, and one quote per AK over sha256:0,1,16,23+sha1:16 with one
# fresh 32-byte nonce. Run once; the outputs are committed.
#
#   tests/attest/data/tpm/make-samples.sh [OUTDIR]     (default: this folder)
set -euo pipefail
out=$(cd "${1:-$(dirname "$0")}" && pwd)
work=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/state"
# A free port: swtpm refuses to start on a port in use, so try again.
for _ in $(seq 20); do
	port=$((20000 + RANDOM % 40000))
	if swtpm socket --tpm2 --tpmstate dir="$work/state" --flags not-need-init,startup-clear \
		--server type=tcp,port=$port,bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
		--daemon --pid file="$work/pid" --log file="$work/log" 2>/dev/null; then
		pid=$(cat "$work/pid")
		break
	fi
done
[ -n "$pid" ] || { echo "make-samples: swtpm did not start" >&2; exit 1; }
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
cd "$work"
q() { "$@" >/dev/null; tpm2_flushcontext -t; }   # no resource manager: flush transient objects
q tpm2_createek -c ek.ctx -G rsa -u ek.pub
q tpm2_createak -C ek.ctx -c rsa.ctx -G rsa -g sha256 -s rsassa -u rsa.pub -f pem -n rsa.name
q tpm2_createak -C ek.ctx -c pss.ctx -G rsa -g sha256 -s rsapss -u pss.pub -f pem -n pss.name
q tpm2_createak -C ek.ctx -c ecc.ctx -G ecc -g sha256 -s ecdsa -u ecc.pub -f pem -n ecc.name
q tpm2_createak -C ek.ctx -c other.ctx -G rsa -g sha256 -s rsassa -u other.pub -f pem -n other.name
tpm2_pcrextend 16:sha256=$(printf 'veil sample 16' | sha256sum | cut -d' ' -f1)
tpm2_pcrextend 23:sha256=$(printf 'veil sample 23' | sha256sum | cut -d' ' -f1)
head -c 32 /dev/urandom >nonce.bin
for ks in rsa:rsassa pss:rsapss ecc:ecdsa; do
	k=${ks%%:*}
	q tpm2_quote -c $k.ctx --scheme ${ks#*:} -l sha256:0,1,16,23+sha1:16 -q "$(xxd -p -c 64 nonce.bin)" -g sha256 \
		-m $k-quote.msg -s $k-quote.sig -o $k-pcrs.serialized -F serialized
	q tpm2_quote -c $k.ctx --scheme ${ks#*:} -l sha256:0,1,16,23+sha1:16 -q "$(xxd -p -c 64 nonce.bin)" -g sha256 \
		-m $k-quote2.msg -s $k-quote2.sig -o $k-pcrs.values -F values
	cp $k.pub "$out/$k-ak.pem"
	cp $k-quote.msg $k-quote.sig $k-pcrs.serialized $k-pcrs.values "$out/"
done
cp other.pub "$out/other-ak.pem"
cp nonce.bin "$out/"
echo "make-samples: wrote the samples to $out"
