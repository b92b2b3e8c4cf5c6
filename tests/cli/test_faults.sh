#!/usr/bin/env bash
# Faults: a full disk, a file-size limit, and SIGKILL in the middle of an
# upload, a key rotation with rewrap, and a burst of audited commands.
# Afterwards the catalog, objects, keys and log must be consistent and
# `veil audit verify` must pass.
. "$(dirname "$0")/lib.sh"

consistent() {
	local ws=$1 what=$2
	VEIL_WORKSPACE="$ws" veil audit verify
	expect_rc "$what: audit log verifies" 0
	sqlite3 "$ws/catalog.db" "PRAGMA integrity_check" >"$T/ic" 2>&1
	check "$what: catalog integrity" grep -qx ok "$T/ic"
	# every live version decrypts to its recorded hash
	local bad=0 ref
	for ref in $(VEIL_WORKSPACE="$ws" "$VEIL_BIN" data list --json | python3 -c "
import json,sys
for d in json.load(sys.stdin):
    if d['state']=='live': print('%s@%d' % (d['name'], d['version']))"); do
		VEIL_WORKSPACE="$ws" "$VEIL_BIN" data download "$ref" -o - >/dev/null 2>"$T/err" || bad=1
	done
	check "$what: every recorded version decrypts" test $bad -eq 0
}

# ---- a file-size limit (an injected write failure that needs no root) ----
new_ws "$T/ws" || exit 1
export VEIL_WORKSPACE="$T/ws"
rand_file "$T/big" 3000000
(ulimit -f 1000; trap '' XFSZ; exec "$VEIL_BIN" data upload "$T/big" --name big --owner o) >"$T/out" 2>"$T/err"
RC=$?
expect_fail "upload past a file-size limit fails cleanly" $E_NOSPACE "space|too large|size limit"
check "no temp file is left in the object store" sh -c "[ -z \"\$(find '$T/ws/objects' -type f)\" ]"
veil data list --json
check "no dataset was recorded" python3 -c "import json; assert json.load(open('$T/out'))==[]"
rand_file "$T/small" 1000
veil data upload "$T/small" --name small --owner o
rand_file "$T/mid" 300000
veil data upload "$T/mid" --name mid --owner o
# stdout and stderr go through pipes: the limit must hit only the output file
(ulimit -f 100; trap '' XFSZ; exec "$VEIL_BIN" data download mid -o "$T/dl2") 2>&1 >/dev/null | cat >"$T/err"
RC=${PIPESTATUS[0]}
expect_fail "download to a full disk fails cleanly" $E_NOSPACE "space|size limit"
check "and leaves no partial output" sh -c "! ls '$T'/dl2 '$T'/.veil-tmp-* 2>/dev/null"
consistent "$T/ws" "after write failures"

# ---- a real full disk: a 4 MiB tmpfs (needs root; CI runs as root) ----
mkdir -p "$T/tiny"
if mount -t tmpfs -o size=4m tmpfs "$T/tiny" 2>/dev/null; then
	trap 'umount "$T/tiny" 2>/dev/null; rm -rf "$T"' EXIT
	VEIL_WORKSPACE= new_ws "$T/tiny/ws" || not_ok "init on tmpfs"
	VEIL_WORKSPACE="$T/tiny/ws" veil data upload "$T/big" --name big --owner o
	VEIL_WORKSPACE="$T/tiny/ws" veil data upload "$T/big" --name big2 --owner o
	expect_fail "upload to a full tmpfs fails with a clear message" $E_NOSPACE "No space left"
	check "no temp file is left behind" sh -c "[ -z \"\$(find '$T/tiny/ws/objects/tmp' -type f)\" ]"
	consistent "$T/tiny/ws" "after a full disk"
	umount "$T/tiny"
else
	# Not root here: the file-size limit above is the injected write failure.
	ok "tmpfs full-disk case needs root; covered by the file-size limit case above"
fi

# ---- SIGKILL during init (the slow part is the memory-hard KDF) ----
for target in "$T/initnew" "$T/initold"; do
	[ "$target" = "$T/initold" ] && mkdir -p "$target"
	"$VEIL_BIN" init "$target" --kdf-log-n 18 >/dev/null 2>&1 &
	pid=$!
	sleep 0.3
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	check "a killed init leaves no workspace at $(basename "$target")" test ! -e "$target/veil.yaml"
	VEIL_WORKSPACE= new_ws "$target"
	expect_rc "and init runs again there" 0
done

# ---- SIGKILL during uploads ----
new_ws "$T/k" || exit 1
export VEIL_WORKSPACE="$T/k"
rand_file "$T/mid" 20000000
for delay in 0.05 0.1 0.2 0.3 0.5; do
	"$VEIL_BIN" data upload "$T/mid" --name killed --owner o >/dev/null 2>&1 &
	pid=$!
	sleep $delay
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
done
consistent "$T/k" "after SIGKILL during uploads"

# ---- SIGKILL during rotation with rewrap ----
for i in $(seq 1 20); do "$VEIL_BIN" data upload "$T/small" --name "s$i" --owner o >/dev/null 2>&1; done
for delay in 0.01 0.05 0.1 0.2; do
	"$VEIL_BIN" key rotate o --rewrap >/dev/null 2>&1 &
	pid=$!
	sleep $delay
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
done
consistent "$T/k" "after SIGKILL during key rotation"
veil key rotate o --rewrap
expect_rc "rotation completes after the interruptions" 0

# ---- SIGKILL during a burst of audited commands ----
for delay in 0.02 0.05 0.1 0.15; do
	( for i in $(seq 1 50); do "$VEIL_BIN" key create "burst$delay-$i" >/dev/null 2>&1; done ) &
	pid=$!
	sleep $delay
	pkill -9 -P $pid 2>/dev/null
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
done
consistent "$T/k" "after SIGKILL during audit appends"
veil gc
expect_rc "gc cleans up after the killed processes" 0
consistent "$T/k" "after gc"
live_deks=$(sqlite3 "$T/k/keys/keys.db" "SELECT count(*) FROM deks WHERE destroyed IS NULL")
live_versions=$(sqlite3 "$T/k/catalog.db" "SELECT count(*) FROM dataset_versions WHERE state = 'live'")
check "gc shreds the data keys of killed uploads: one live key per live version ($live_deks/$live_versions)" \
	test "$live_deks" -eq "$live_versions"
check "and no temp file of a killed writer is left" sh -c "[ -z \"\$(find '$T/k/objects/tmp' -type f)\" ]"

finish
