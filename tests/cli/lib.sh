# Shared helpers for the command-line tests: each test script sources this,
# drives the real `veil` binary in a scratch workspace as a user would, and
# reports TAP ("ok N - what") so meson counts every check.
set -u

VEIL_BIN=${VEIL_BIN:-${VEIL_BUILD_ROOT:?run through meson test}/src/cli/veil}
SRC=${VEIL_SOURCE_ROOT:?run through meson test}
T=$(mktemp -d /tmp/veil-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
export VEIL_PASSPHRASE="correct horse battery staple"
unset VEIL_WORKSPACE VEIL_PASSPHRASE_FILE VEIL_PKCS11_PIN VEIL_LOG VEIL_TOKEN VEIL_TOKEN_FILE
export HOME=$T # no user config leaks in
_n=0
_failed=0

ok() { _n=$((_n + 1)); echo "ok $_n - $1"; }
not_ok() {
	_n=$((_n + 1)); _failed=$((_failed + 1))
	echo "not ok $_n - $1"
	shift
	local l
	for l in "$@"; do printf '#   %s\n' "$l"; done
	printf '#   stdout: %s\n' "$(head -c 600 "$T/out" 2>/dev/null | tr '\n' '|')"
	printf '#   stderr: %s\n' "$(head -c 600 "$T/err" 2>/dev/null | tr '\n' '|')"
}

# veil ARGS...: runs veil; stdout in $T/out, stderr in $T/err, exit in $RC.
veil() {
	"$VEIL_BIN" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	return 0
}
out() { cat "$T/out"; }
err() { cat "$T/err"; }

# check DESC CONDITION...: ok if the command CONDITION succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc" "failed: $*"; fi
}
# expect_rc DESC CODE: the last veil exited with CODE.
expect_rc() {
	if [ "$RC" -eq "$2" ]; then ok "$1"; else not_ok "$1" "exit $RC, expected $2"; fi
}
# expect_fail DESC CODE PATTERN: exited with CODE and stderr matches PATTERN.
expect_fail() {
	if [ "$RC" -eq "$2" ] && grep -qiE -- "$3" "$T/err"; then
		ok "$1"
	else
		not_ok "$1" "exit $RC (expected $2), stderr should match /$3/"
	fi
}
out_has() { grep -qE -- "$1" "$T/out"; }
err_has() { grep -qiE -- "$1" "$T/err"; }

# Exit codes (docs/cli.md): 10 + veil_status.
E_INVALID=11 E_IO=13 E_NOSPACE=14 E_NOTFOUND=15 E_EXISTS=16 E_CORRUPT=17 E_AUTH=18 E_KEY=20
E_WORKSPACE=22 E_DENIED=25 E_INTERNAL=27
E_USAGE=2 E_CHECK=1

# new_ws DIR [init options]: a fresh workspace with a cheap KDF (tests only).
# The first administrator's token goes to DIR.token, and VEIL_TOKEN_FILE
# points at it, so later commands act as that administrator.
new_ws() {
	local dir=$1
	shift
	rm -f "$dir.token"
	"$VEIL_BIN" init "$dir" --kdf-log-n 10 --token-file "$dir.token" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	[ $RC -eq 0 ] || { echo "# init failed: $(cat "$T/err")"; return 1; }
	export VEIL_TOKEN_FILE="$dir.token"
}

# use_ws DIR: act as DIR's first administrator again (after new_ws of another).
use_ws() { export VEIL_TOKEN_FILE="$1.token"; }

# rand_file PATH BYTES: deterministic pseudo-random content.
rand_file() {
	head -c "$2" /dev/urandom >"$1"
}

finish() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
}

# flip_byte FILE OFFSET: changes the byte at OFFSET to another value (its
# bits inverted), so a test that damages a file always damages it.
flip_byte() {
	python3 -c "
import sys
p, o = sys.argv[1], int(sys.argv[2])
with open(p, 'r+b') as f:
    f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 0xff]))" "$1" "$2"
}
