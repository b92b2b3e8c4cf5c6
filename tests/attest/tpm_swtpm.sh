#!/usr/bin/env bash
# End to end against a software TPM (docs/formats/tpm-quote.md): starts a
# fresh swtpm in a scratch folder, makes an RSA and an ECC AK with
# tpm2-tools, extends PCR 16, quotes it with a fresh nonce and verifies the
# files tpm2_quote wrote with tpm_check (veil_tpm_quote_verify); then checks
# that another nonce, a changed PCR value, a changed message byte and
# another AK are each refused. Speaks TAP.
#
#   tests/attest/tpm_swtpm.sh PATH/TO/tpm_check
#
# swtpm listens on a TCP port on 127.0.0.1 (the swtpm TCTI of Debian 12's
# tpm2-tss cannot use a unix socket): a random one, tried again when taken,
# so parallel runs do not collide. swtpm runs in this script's process
# group and is killed on every exit (meson's timeout included); every tool
# call has its own timeout.
set -uo pipefail

check=${1:?usage: tpm_swtpm.sh PATH/TO/tpm_check}
case $check in /*) ;; *) check=$PWD/$check ;; esac # the checks run from the scratch folder
[ -x "$check" ] || { echo "Bail out! $check is not an executable"; exit 1; }
n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $1"
}
bail() {
	echo "Bail out! $1"
	exit 1
}

for tool in swtpm tpm2_createek tpm2_createak tpm2_pcrextend tpm2_quote tpm2_flushcontext openssl timeout; do
	command -v "$tool" >/dev/null || bail "$tool is missing: run scripts/deps.sh (swtpm swtpm-tools tpm2-tools)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/veil-tpm-XXXXXX")
swtpm_pid=
cleanup() {
	if [ -n "$swtpm_pid" ]; then
		kill "$swtpm_pid" 2>/dev/null
		wait "$swtpm_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# swtpm writes its pid file once its sockets are bound, and exits when a port is taken.
start_swtpm() {
	local try port
	for try in $(seq 30); do
		port=$((20000 + RANDOM % 40000))
		rm -rf "$work/state" && mkdir "$work/state"
		swtpm socket --tpm2 --tpmstate dir="$work/state" --flags not-need-init,startup-clear \
			--server type=tcp,port=$port,bindaddr=127.0.0.1 \
			--ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
			--pid file="$work/state/pid" --log file="$work/swtpm.log" &
		swtpm_pid=$!
		for _ in $(seq 50); do
			[ -s "$work/state/pid" ] && kill -0 "$swtpm_pid" 2>/dev/null && {
				export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
				return 0
			}
			kill -0 "$swtpm_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$swtpm_pid" 2>/dev/null
		wait "$swtpm_pid" 2>/dev/null
		swtpm_pid=
	done
	return 1
}

# A tool call with a time limit, then the transient objects flushed (no resource manager).
tpm() {
	timeout 30 "$@" >>"$work/tools.log" 2>&1 || return 1
	timeout 30 tpm2_flushcontext -t >>"$work/tools.log" 2>&1
}

# tpm_check's first line of output is the status name.
verify() {
	timeout 30 "$check" "$@" 2>>"$work/check.log" | head -1
}

flip() { # flip FILE OFFSET: xor one byte with 0x01
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

echo "1..12"
start_swtpm || bail "swtpm did not start: $(tail -3 "$work/swtpm.log" 2>/dev/null)"
cd "$work" || bail "cannot enter $work"
tpm tpm2_createek -c ek.ctx -G rsa -u ek.pub || bail "tpm2_createek failed: $(tail -3 tools.log)"
tpm tpm2_createak -C ek.ctx -c rsa.ctx -G rsa -g sha256 -s rsassa -u rsa.pem -f pem -n rsa.name ||
	bail "tpm2_createak (RSA) failed: $(tail -3 tools.log)"
tpm tpm2_createak -C ek.ctx -c ecc.ctx -G ecc -g sha256 -s ecdsa -u ecc.pem -f pem -n ecc.name ||
	bail "tpm2_createak (ECC) failed: $(tail -3 tools.log)"
data="veil swtpm test $$ $RANDOM"
tpm tpm2_pcrextend "16:sha256=$(printf '%s' "$data" | openssl dgst -sha256 -r | cut -c1-64)" ||
	bail "tpm2_pcrextend failed: $(tail -3 tools.log)"
# PCR 16 starts at zeros (resettable, and the TPM is fresh): extend = SHA-256(zeros || digest).
want16=$({
	head -c 32 /dev/zero
	printf '%s' "$data" | openssl dgst -sha256 -binary
} | openssl dgst -sha256 -r | cut -c1-64)
nonce=$(openssl rand -hex 32)

for ks in rsa:rsassa ecc:ecdsa; do
	k=${ks%%:*}
	if tpm tpm2_quote -c $k.ctx --scheme "${ks#*:}" -l sha256:0,16,23 -q "$nonce" -g sha256 \
		-m $k.msg -s $k.sig -o $k.pcrs -F values; then
		ok "$k: tpm2_quote over sha256:0,16,23 with a fresh nonce"
	else
		not_ok "$k: tpm2_quote failed: $(tail -3 tools.log)"
		continue
	fi
	out=$(timeout 30 "$check" $k.pem $k.msg $k.sig $k.pcrs "$nonce" values 2>>check.log)
	if [ "$(echo "$out" | head -1)" = ok ] && echo "$out" | grep -qx "pcr sha256:16 $want16"; then
		ok "$k: the quote verifies and PCR 16 is the value extended"
	else
		not_ok "$k: the quote does not verify (or PCR 16 is not $want16): $(echo "$out" | head -3) $(tail -1 check.log)"
	fi
	other=$(openssl rand -hex 32)
	st=$(verify $k.pem $k.msg $k.sig $k.pcrs "$other" values)
	[ "$st" = denied ] && ok "$k: another nonce is denied" || not_ok "$k: another nonce gave '$st', not denied"
	cp $k.pcrs bad.pcrs && flip bad.pcrs 40 # a byte of PCR 16
	st=$(verify $k.pem $k.msg $k.sig bad.pcrs "$nonce" values)
	[ "$st" = denied ] && ok "$k: a changed PCR value is denied" || not_ok "$k: a changed PCR value gave '$st'"
	cp $k.msg bad.msg && flip bad.msg 80 # in clockInfo: still a well-formed quote
	st=$(verify $k.pem bad.msg $k.sig $k.pcrs "$nonce" values)
	[ "$st" = auth ] && ok "$k: a changed message byte fails the signature" || not_ok "$k: a changed message byte gave '$st'"
done

# Another AK: each AK's quote fails with the other's key.
st=$(verify ecc.pem rsa.msg rsa.sig rsa.pcrs "$nonce" values)
[ "$st" = auth ] && ok "the RSA AK's quote fails with the ECC AK" || not_ok "another AK (ECC) gave '$st'"
tpm tpm2_createak -C ek.ctx -c rsa2.ctx -G rsa -g sha256 -s rsassa -u rsa2.pem -f pem -n rsa2.name ||
	bail "tpm2_createak (second RSA) failed: $(tail -3 tools.log)"
st=$(verify rsa2.pem rsa.msg rsa.sig rsa.pcrs "$nonce" values)
[ "$st" = auth ] && ok "the RSA AK's quote fails with another RSA AK" || not_ok "another RSA AK gave '$st'"

if [ $failed -ne 0 ]; then
	echo "# tools.log:"
	sed 's/^/#   /' tools.log | tail -20
	echo "# check.log:"
	sed 's/^/#   /' check.log | tail -20
fi
exit $failed
