#!/usr/bin/env bash
# The command itself: help for every command, usage errors, init, and how
# commands find (or fail to find) their workspace.
. "$(dirname "$0")/lib.sh"

veil --help
expect_rc "--help exits 0" 0
check "--help lists commands" out_has "data upload"

# Every command in the table answers --help with a usage line and exit 0.
cmds=$(sed -n 's/^  \([a-z][a-z -]*[a-z]\)  .*/\1/p' "$T/out" | sed 's/ *$//')
[ -n "$cmds" ] || not_ok "command list parsed"
while IFS= read -r c; do
	# shellcheck disable=SC2086
	veil $c --help
	if [ "$RC" -eq 0 ] && out_has "^usage: veil"; then ok "'veil $c --help' prints usage"; else
		not_ok "'veil $c --help' prints usage"; fi
done <<<"$cmds"

veil
expect_rc "no command: usage error" $E_USAGE
veil frobnicate
expect_fail "unknown command" $E_USAGE "not a veil command"
veil data
expect_rc "a group alone lists its subcommands and is a usage error" $E_USAGE
check "group help lists data upload" out_has "data upload"
veil data frob
expect_fail "unknown subcommand" $E_USAGE "not a veil command"
veil help data upload
check "veil help data upload" out_has "usage: veil data upload"
veil version
check "version prints OpenSSL" out_has "OpenSSL 3"
veil data list --bogus
expect_fail "unknown option" $E_USAGE "unrecognized|unknown"

# init
new_ws "$T/ws"
check "init creates veil.yaml" test -f "$T/ws/veil.yaml"
check "init creates the catalog" test -f "$T/ws/catalog.db"
check "init creates the sealed root" test -f "$T/ws/keys/root.sealed"
check "the sealed root is private" test "$(stat -c %a "$T/ws/keys/root.sealed")" = 600
check "init writes the log public key" test -f "$T/ws/audit/log.pub"
veil init "$T/ws" --kdf-log-n 10
expect_fail "init refuses an existing workspace" $E_EXISTS "already a veil workspace"
mkdir -p "$T/full" && echo x >"$T/full/file"
veil init "$T/full" --kdf-log-n 10
expect_fail "init refuses a non-empty folder" $E_EXISTS "not empty"
check "and leaves it alone" test "$(ls "$T/full")" = file
VEIL_PASSPHRASE=short veil init "$T/weak" --kdf-log-n 10
expect_fail "init refuses a short passphrase" $E_INVALID "passphrase"
check "a failed init leaves nothing behind" test ! -e "$T/weak"
veil init "$T/x" --kdf-log-n 99
expect_fail "init checks --kdf-log-n" $E_USAGE "kdf-log-n"
veil init "$T/x" --key-rotation soon
expect_fail "init checks --key-rotation" $E_INVALID "not a duration"
veil init "$T/x" --provider hsm
expect_fail "init checks --provider" $E_USAGE "provider"

# finding the workspace
cd "$T" || exit 1
veil data list
expect_fail "outside a workspace: clear error" $E_WORKSPACE "not inside a veil workspace"
check "with a hint" err_has "hint: .*veil init"
mkdir -p "$T/ws/deep/er"
(cd "$T/ws/deep/er" && "$VEIL_BIN" data list >"$T/out" 2>"$T/err"); RC=$?
expect_rc "found from a subfolder, like git" 0
VEIL_WORKSPACE="$T/ws" veil data list
expect_rc "found from VEIL_WORKSPACE" 0
veil --workspace "$T/ws" data list
expect_rc "found from --workspace before the command" 0
veil data list --workspace "$T/ws"
expect_rc "found from --workspace after the command" 0
veil data list --workspace "$T/nowhere"
expect_fail "a missing workspace" $E_WORKSPACE "cannot open the workspace"
mkdir -p "$T/fake" && echo "hello: world" >"$T/fake/veil.yaml"
veil data list --workspace "$T/fake"
expect_fail "a foreign folder with a veil.yaml" $E_WORKSPACE "not a veil workspace|workspace_id"
new_ws "$T/ws2"
cp "$T/ws2/veil.yaml" "$T/ws/veil.yaml.other"
cp "$T/ws/veil.yaml" "$T/ws/veil.yaml.mine"
cp "$T/ws2/veil.yaml" "$T/ws/veil.yaml"
veil data list --workspace "$T/ws"
expect_fail "a catalog from another workspace is refused" $E_WORKSPACE "another workspace"
cp "$T/ws/veil.yaml.mine" "$T/ws/veil.yaml"
use_ws "$T/ws"

# veil.yaml: a typo is an error, not a silent default; an unknown format is refused
cp "$T/ws/veil.yaml" "$T/veil.yaml.good"
sed -i 's/^key_rotation:/key_rotaton:/' "$T/ws/veil.yaml"
veil data list --workspace "$T/ws"
expect_fail "a misspelt setting is refused" $E_INVALID "unknown setting 'key_rotaton'"
cp "$T/veil.yaml.good" "$T/ws/veil.yaml"
sed -i '/^key_rotation:/d' "$T/ws/veil.yaml"
veil data list --workspace "$T/ws"
expect_fail "a missing key_rotation is refused too ('off' disables it explicitly)" $E_INVALID "no key_rotation"
cp "$T/veil.yaml.good" "$T/ws/veil.yaml"
sed -i 's/^format: 1/format: 99/' "$T/ws/veil.yaml"
veil data list --workspace "$T/ws"
expect_fail "a newer format is refused" 21 "format 99"
cp "$T/veil.yaml.good" "$T/ws/veil.yaml"

# wrong passphrase
VEIL_PASSPHRASE="not the passphrase" veil key list --workspace "$T/ws"
expect_fail "wrong passphrase" $E_AUTH "wrong passphrase"
echo "correct horse battery staple" >"$T/pass"
(unset VEIL_PASSPHRASE; VEIL_PASSPHRASE_FILE="$T/pass" "$VEIL_BIN" key list --workspace "$T/ws" >"$T/out" 2>"$T/err"); RC=$?
expect_rc "passphrase from VEIL_PASSPHRASE_FILE" 0
(unset VEIL_PASSPHRASE; "$VEIL_BIN" key list --workspace "$T/ws" </dev/null >"$T/out" 2>"$T/err"); RC=$?
expect_fail "no passphrase and no terminal: clear error" $E_AUTH "VEIL_PASSPHRASE"

# A workspace made before access control has no principal (simulated by
# emptying the access tables): nobody can act until the holder of the root
# key makes the first administrator, which works exactly once.
new_ws "$T/old" || exit 1
sqlite3 "$T/old/catalog.db" "DELETE FROM tokens; DELETE FROM group_members; DELETE FROM groups;
  DELETE FROM policies; DELETE FROM principals;"
(unset VEIL_TOKEN_FILE; "$VEIL_BIN" data list --workspace "$T/old" >"$T/out" 2>"$T/err"); RC=$?
expect_fail "no principal, no token: nothing works" $E_AUTH "no API token"
(unset VEIL_TOKEN_FILE; "$VEIL_BIN" principal create boss --first-admin --workspace "$T/old" >"$T/out" 2>"$T/err"); RC=$?
expect_rc "the root key holder makes the first administrator" 0
boss=$(cat "$T/out")
check "its token is printed once, on stdout" test ${#boss} -eq 118
VEIL_TOKEN=$boss veil data list --workspace "$T/old"
expect_rc "the new administrator can act" 0
VEIL_TOKEN=$boss veil policy show administrators --workspace "$T/old"
check "with the administrators policy" out_has "Allow group administrators to manage all-resources in tenancy"
(unset VEIL_TOKEN_FILE; "$VEIL_BIN" principal create mallory --first-admin --workspace "$T/old" >"$T/out" 2>"$T/err"); RC=$?
expect_fail "--first-admin is refused while an administrator can act" $E_DENIED "has an administrator who can act"
VEIL_TOKEN=$boss veil principal list --workspace "$T/old"
check "and made no principal" sh -c "! grep -q mallory '$T/out'"
VEIL_TOKEN=$boss veil audit log --workspace "$T/old"
check "the refusal is audited" out_has "access.decide +denied"

finish
