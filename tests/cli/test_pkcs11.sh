#!/usr/bin/env bash
# The HSM path end to end: a workspace whose root key lives in a SoftHSM2
# token (initialised here in a scratch folder), driven through the CLI.
. "$(dirname "$0")/lib.sh"

module=/usr/lib/softhsm/libsofthsm2.so
mkdir -p "$T/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" >"$T/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm2.conf"
softhsm2-util --init-token --free --label "veil ci #1" --so-pin 12345678 --pin 87654321 >/dev/null
check "a scratch SoftHSM2 token (its label has a space and a '#')" test $? -eq 0
export VEIL_PKCS11_PIN=87654321
unset VEIL_PASSPHRASE

veil init "$T/ws" --provider pkcs11 --pkcs11-module $module --pkcs11-token "veil ci #1" --token-file "$T/ws.token"
expect_rc "init with the root key in the token" 0
use_ws "$T/ws"
check "no sealed root file: the root is in the HSM" test ! -e "$T/ws/keys/root.sealed"
check "veil.yaml names the token, quoted" grep -q 'pkcs11_token: "veil ci #1"' "$T/ws/veil.yaml"
export VEIL_WORKSPACE="$T/ws"
rand_file "$T/f" 100000
veil data upload "$T/f" --name d --owner o
expect_rc "upload through the HSM-rooted KMS" 0
veil key rotate o --rewrap
expect_rc "rotation with rewrap" 0
veil data download d -o "$T/f.out"
check "round trip through the HSM path" cmp -s "$T/f" "$T/f.out"
VEIL_PKCS11_PIN=11111111 veil data download d -o "$T/f.bad"
expect_fail "a wrong PIN is refused" $E_AUTH "PIN"
check "no output on a wrong PIN" test ! -e "$T/f.bad"
veil audit verify
expect_rc "the audit log (signing key wrapped by the HSM root) verifies" 0
veil init "$T/ws2" --provider pkcs11 --pkcs11-module $module
expect_fail "pkcs11 needs a token label" $E_USAGE "pkcs11-token"
veil init "$T/ws3" --provider pkcs11 --pkcs11-module $module --pkcs11-token no-such-token
expect_fail "an unknown token is a clear error" $E_NOTFOUND "token"
check "and leaves nothing" test ! -e "$T/ws3"
veil init "$T/ws4" --provider pkcs11 --pkcs11-module /nonexistent.so --pkcs11-token "veil ci #1"
check "a missing module is a clear error" sh -c "[ $RC -ne 0 ] && grep -qi module '$T/err'"
# A workspace's veil.yaml must not be able to make veil load a library of
# someone else's choosing: a module in a folder anyone could write is refused.
mkdir -p "$T/evil" && chmod 777 "$T/evil" && cp "$(readlink -f $module)" "$T/evil/mod.so"
sed -i "s|pkcs11_module: .*|pkcs11_module: $T/evil/mod.so|" "$T/ws/veil.yaml"
veil data list
expect_fail "even a listing refuses it (every command records its decision, signed with a key the root protects)" 25 "refusing to load"
veil key list
expect_fail "a module outside root-owned folders is refused" 25 "refusing to load"

finish
