#!/usr/bin/env bash
# Identity and access control (issue 3), driven as users would drive it:
# principals, groups and tokens; every credential fault refused with exit 18
# and an audit event; policies applied, versioned and rejected with line and
# column; compartments and conditions deciding what each user may see and
# take out; data sovereignty in the policy and in the key manager; `policy
# explain`; and an access.decide event for every refused request.
. "$(dirname "$0")/lib.sh"

E_LIMIT=24 # docs/cli.md: an input exceeds a documented bound
# The interpreter itself, not a version manager's shim that costs half a
# second a call: this script runs Python for ~100 checks.
PY=$(python3 -c 'import sys; print(sys.executable)')
TOKEN_RE='^vt1_[0-9a-f]{32}_[0-9a-f]{16}_[0-9a-f]{64}$'

# as FILE ARGS...: veil acting with the token in FILE (and no other).
as() {
	local f=$1
	shift
	env -u VEIL_TOKEN VEIL_TOKEN_FILE="$f" "$VEIL_BIN" "$@" >"$T/out" 2>"$T/err"
	RC=$?
}
# bare [VEIL_X=V...] ARGS...: veil with no credential in the environment
# except the assignments given.
bare() {
	local envs=()
	while [ $# -gt 0 ] && [[ $1 == VEIL_*=* ]]; do
		envs+=("$1")
		shift
	done
	env -u VEIL_TOKEN -u VEIL_TOKEN_FILE "${envs[@]}" "$VEIL_BIN" "$@" >"$T/out" 2>"$T/err"
	RC=$?
}
# user NAME [create options]: a principal with a token in $T/NAME.tok.
user() {
	local n=$1
	shift
	"$VEIL_BIN" principal create "$n" "$@" >/dev/null 2>"$T/err" &&
		"$VEIL_BIN" token issue "$n" --output "$T/$n.tok" >/dev/null 2>>"$T/err" ||
		not_ok "set up principal $n" "$(cat "$T/err")"
}
# quietly ARGS...: veil as the current administrator, for set-up steps
# that must work (a failure is reported, not ignored).
quietly() {
	"$VEIL_BIN" "$@" >/dev/null 2>"$T/qerr" || not_ok "set-up: veil $*" "$(cat "$T/qerr")"
}
json_names() { "$PY" -S -c "import json,sys; print(' '.join(sorted(d['name'] for d in json.load(open(sys.argv[1])))))" "$1"; }

# ---- the audit trail: what each step added to it ----
# audit_check DESC PYTHON [ARGS...]: reads the log (with the current
# workspace's administrator token), keeps the events written since the
# previous call as `ev` (also in $T/ev.json) and checks PYTHON's asserts.
MARK=0
audit_check() {
	local desc=$1 code=$2
	shift 2
	"$VEIL_BIN" audit log --json >"$T/all.json" 2>"$T/ev.err" || echo '[]' >"$T/all.json"
	check "$desc" "$PY" -S -c "
import json,re,sys
ev=[e for e in json.load(open('$T/all.json')) if e['index']>=$MARK]
json.dump(ev, open('$T/ev.json','w'))
open('$T/mark','w').write(str(max([e['index']+1 for e in ev], default=$MARK)))
def show(): return [(e['action'], e['actor'], e['outcome'], e['resource'], (e.get('detail') or {}).get('operation'),
                     (e.get('detail') or {}).get('reason')) for e in ev]
$code" "$@"
	MARK=$(cat "$T/mark")
}
# new_events: moves the mark to the end of the log.
new_events() {
	"$VEIL_BIN" audit log --json >"$T/all.json" 2>"$T/ev.err" || echo '[]' >"$T/all.json"
	MARK=$("$PY" -S -c "import json; print(max([e['index']+1 for e in json.load(open('$T/all.json'))], default=0))")
}
# denied_event DESC ACTOR OPERATION RESOURCE: the refusal just seen left an
# access.decide event, outcome denied, naming the operation and resource.
denied_event() {
	audit_check "$1" "
actor,op,res=sys.argv[1:4]
m=[e for e in ev if e['action']=='access.decide' and e['outcome']=='denied' and e['actor']==actor
   and e['detail']['operation']==op and e['resource']==res and e['detail']['reason']]
assert m, show()" "$2" "$3" "$4"
}
# auth_event DESC REASON-PATTERN [SECRET]: a refused authentication left an
# access.authenticate event, outcome denied, whose reason matches; and
# SECRET (a token's secret part) appears nowhere in what was logged.
auth_event() {
	audit_check "$1" "
pat=sys.argv[1]; secret=sys.argv[2] if len(sys.argv)>2 else ''
m=[e for e in ev if e['action']=='access.authenticate' and e['outcome']=='denied'
   and re.search(pat, e['detail']['reason'], re.I)]
assert m, show()
assert not secret or secret not in json.dumps(ev), 'the secret is in the log'" "$2" ${3:+"$3"}
}

new_ws "$T/ws" || exit 1
export VEIL_WORKSPACE="$T/ws"
ADMIN_TOK="$T/ws.token"
WS_ID=$(sed -n 's/^workspace_id: *//p' "$T/ws/veil.yaml")
check "init wrote the administrator's token, mode 0600" sh -c "[ \"\$(stat -c %a '$ADMIN_TOK')\" = 600 ]"
check "the administrator's token is a veil token of this workspace" grep -qE "^vt1_${WS_ID}_" "$ADMIN_TOK"
new_events

# ==== 1. principals, groups, tokens ====
veil principal list --json
check "a new workspace has one principal, admin, an administrator" "$PY" -S -c "
import json; p=json.load(open('$T/out'))
assert [(x['name'], x['kind'], x['status'], x['groups']) for x in p]==[('admin','user','enabled',['administrators'])], p"
veil principal create alice
expect_rc "create a user" 0
veil principal create w1 --kind worker --region us-east
expect_rc "create a worker with a region" 0
veil principal create carol
veil principal create alice
expect_fail "principal names are unique" $E_EXISTS "already exists"
veil principal create x --kind robot
expect_fail "an unknown kind is refused" $E_INVALID "user, worker, endpoint or federated-client"
veil principal create "no good"
expect_fail "principal names are checked" $E_INVALID "principal name"
veil group create scientists
expect_rc "create a group" 0
veil group add scientists alice w1
expect_rc "add two members" 0
veil group add scientists carol nobody
expect_fail "adding an unknown principal fails" $E_NOTFOUND "nobody"
veil group list --json
check "group add is all or none: carol was not added" "$PY" -S -c "
import json; g={x['name']:x['members'] for x in json.load(open('$T/out'))}
assert sorted(g['scientists'])==['alice','w1'], g"
veil group remove scientists w1
expect_rc "remove a member" 0
veil group remove scientists w1
expect_fail "removing a non-member is an error" $E_NOTFOUND "not in group"
veil group list
check "group list (table) shows the members left" out_has "^scientists +alice *$"
veil principal list
check "principal list (table) shows the worker's kind and region" out_has "^w1 +worker +us-east +enabled"
check "... and alice's group" out_has "^alice +user .*scientists"
veil principal list --json
check "principal list --json: kinds, regions and groups" "$PY" -S -c "
import json; p={x['name']:x for x in json.load(open('$T/out'))}
assert p['w1']['kind']=='worker' and p['w1']['region']=='us-east' and p['w1']['groups']==[], p['w1']
assert p['alice']['kind']=='user' and p['alice']['groups']==['scientists'] and p['alice']['status']=='enabled', p['alice']"

# token issue: on stdout once, never stored, never listed
: >"$T/secrets"
sed 's/.*_//' "$ADMIN_TOK" >>"$T/secrets"
veil token issue alice --label laptop
expect_rc "issue a token" 0
check "the token alone is printed on stdout, as one line" sh -c "[ \$(wc -l <'$T/out') -eq 1 ] && grep -qE '$TOKEN_RE' '$T/out'"
check "it is bound to this workspace" grep -q "^vt1_${WS_ID}_" "$T/out"
ALICE_TOKEN=$(cat "$T/out")
ALICE_ID=$(cut -d_ -f3 <<<"$ALICE_TOKEN")
echo "${ALICE_TOKEN##*_}" >>"$T/secrets"
check "stderr names the token id and says it is shown once" err_has "$ALICE_ID.*only once"
check "stderr does not repeat the token" sh -c "! grep -q '${ALICE_TOKEN##*_}' '$T/err'"
bare VEIL_TOKEN="$ALICE_TOKEN" data list
expect_rc "the token works (VEIL_TOKEN)" 0
bare data list --token "$ALICE_TOKEN"
expect_rc "the token works (--token)" 0

veil token issue alice --output "$T/alice.tok"
expect_rc "token issue --output" 0
check "--output writes the file with mode 0600" sh -c "[ \"\$(stat -c %a '$T/alice.tok')\" = 600 ]"
check "the file holds a token and stdout nothing" sh -c "grep -qE '$TOKEN_RE' '$T/alice.tok' && [ ! -s '$T/out' ]"
sed 's/.*_//' "$T/alice.tok" >>"$T/secrets"
as "$T/alice.tok" data list
expect_rc "the token from the file works (VEIL_TOKEN_FILE)" 0
veil token list --principal alice --json
n_before=$("$PY" -S -c "import json; print(len(json.load(open('$T/out'))))")
echo precious >"$T/keep"
veil token issue alice --output "$T/keep"
expect_fail "--output refuses an existing file" $E_EXISTS "exists"
check "... and leaves that file alone" sh -c "[ \"\$(cat '$T/keep')\" = precious ]"
veil token list --principal alice --json
check "... and no token was made" "$PY" -S -c "import json; assert len(json.load(open('$T/out')))==$n_before"
# The usage line is the contract: an option it shows must work.
veil token issue --help
if grep -q '^usage:.*\[-o FILE\]' "$T/out"; then
	veil token issue alice -o "$T/alice-short.tok"
	expect_rc "token issue -o FILE, as its usage line shows" 0
	[ "$RC" -ne 0 ] || check "-o writes the token file" grep -qE "$TOKEN_RE" "$T/alice-short.tok"
else
	check "token issue's usage line shows --output" grep -q '^usage:.*--output FILE' "$T/out"
fi

veil token issue w1 --json --expires 12h
expect_rc "token issue --json" 0
check "--json gives id, principal, expiry and the token" "$PY" -S -c "
import json,re; t=json.load(open('$T/out'))
assert t['principal']=='w1' and re.match(r'$TOKEN_RE', t['token']) and t['token'].split('_')[2]==t['id'], t
assert t['expires']!='never', t"
"$PY" -S -c "import json; print(json.load(open('$T/out'))['token'].split('_')[3])" >>"$T/secrets"

veil token list
expect_rc "token list" 0
check "token list shows alice's labelled token as active" out_has "^$ALICE_ID +alice +active .*laptop"
check "token list never shows a secret" sh -c "! grep -qFf '$T/secrets' '$T/out'"
veil token list --json
check "token list --json has ids and status, no secret" "$PY" -S -c "
import json; t=json.load(open('$T/out')); s=open('$T/secrets').read().split()
assert any(x['id']=='$ALICE_ID' and x['status']=='active' for x in t), t
raw=open('$T/out').read(); assert not any(x in raw for x in s)
assert all('token' not in x and 'hash' not in x for x in t), t[0].keys()"
check "no secret is stored anywhere in the workspace (only hashes)" sh -c "! grep -rqFf '$T/secrets' '$T/ws'"
veil token list --principal w1 --json
check "token list --principal filters" "$PY" -S -c "
import json; t=json.load(open('$T/out')); assert t and all(x['principal']=='w1' for x in t), t"
veil token revoke "$ALICE_ID"
expect_rc "revoke a token" 0
veil token list --json
check "token list shows it revoked" "$PY" -S -c "
import json; t={x['id']:x for x in json.load(open('$T/out'))}; assert t['$ALICE_ID']['status']=='revoked', t['$ALICE_ID']"
veil token revoke 0123456789abcdef
expect_fail "revoking an unknown id" $E_NOTFOUND "no token"

# listing filters: alice, with no policy yet, sees no principals
as "$T/alice.tok" principal list --json
check "principal list shows only what the caller may inspect (nothing, for alice)" "$PY" -S -c "
import json; assert json.load(open('$T/out'))==[]"
denied_event "the hidden rows are access.decide denials for 'principal list'" alice "principal list" "principals:admin"
as "$T/alice.tok" principal create mallory
expect_fail "alice may not create principals" $E_DENIED "alice may not manage principals"
check "the refusal says how to find out why" err_has "policy explain"
denied_event "... audited as a denied 'principal create'" alice "principal create" "principals:mallory"
veil principal list --json
check "... and mallory does not exist" sh -c "! grep -q mallory '$T/out'"

# ==== 2. credential faults: exit 18, an audit event, no state change ====
veil token issue alice --expires 1s --output "$T/expiring.tok"
expect_rc "issue a token that expires in a second" 0
new_events
# fault DESC PATTERN [bare args...]: the command 'group create g-fault'
# with the credential given is refused: exit 18, PATTERN in the message.
fault() {
	local desc=$1 pat=$2
	shift 2
	bare "$@" group create g-fault
	expect_fail "$desc: refused" $E_AUTH "$pat"
}
no_state_change() {
	veil group list --json
	check "$1: nothing was created" sh -c "[ $RC -eq 0 ] && grep -q administrators '$T/out' && ! grep -q g-fault '$T/out'"
}

fault "no token at all" "no API token"
check "no token: the message says where a token comes from" err_has "VEIL_TOKEN"
auth_event "no token: an access.authenticate denial is logged" "no API token"
no_state_change "no token"

fault "a malformed token" "not a veil API token" VEIL_TOKEN="vt1_nonsense"
auth_event "malformed token: logged" "not a veil API token"
no_state_change "malformed token"

fault "an empty token file" "not a veil API token" VEIL_TOKEN_FILE=/dev/null
auth_event "empty token file: logged" "not a veil API token"
no_state_change "empty token file"

# a token for another workspace
new_ws "$T/other" || exit 1
OTHER_TOKEN=$(cat "$T/other.token")
use_ws "$T/ws"
fault "a token of another workspace" "another workspace" VEIL_TOKEN="$OTHER_TOKEN"
check "another workspace: the secret is not echoed" sh -c "! grep -q '${OTHER_TOKEN##*_}' '$T/err'"
auth_event "another workspace: logged" "another workspace" "${OTHER_TOKEN##*_}"
no_state_change "another workspace"

# a revoked token (alice's first one)
fault "a revoked token" "revoked" VEIL_TOKEN="$ALICE_TOKEN"
auth_event "revoked token: logged" "revoked" "${ALICE_TOKEN##*_}"
no_state_change "revoked token"

# one character of the secret changed: same id, wrong secret
GOOD=$(cat "$T/alice.tok")
last=${GOOD: -1}
[ "$last" = 0 ] && sub=1 || sub=0
BAD="${GOOD%?}$sub"
fault "a token with one character changed" "not valid|invalid" VEIL_TOKEN="$BAD"
check "changed token: neither secret is echoed" sh -c "! grep -qE '${GOOD##*_}|${BAD##*_}' '$T/err'"
auth_event "changed token: logged" "not valid|invalid" "${BAD##*_}"
no_state_change "changed token"
as "$T/alice.tok" data list
expect_rc "the unchanged token still works" 0

# a disabled principal
user bob
veil principal disable bob
expect_rc "disable bob" 0
fault "a token of a disabled principal" "bob is disabled" VEIL_TOKEN_FILE="$T/bob.tok"
auth_event "disabled principal: logged" "disabled"
no_state_change "disabled principal"
veil token list --principal bob --json
nb=$("$PY" -S -c "import json; print(len(json.load(open('$T/out'))))")
veil token issue bob
expect_fail "a disabled principal cannot get a new token" $E_INVALID "disabled"
check "... and nothing is printed" test ! -s "$T/out"
veil token list --principal bob --json
check "... and no token was made" "$PY" -S -c "import json; assert len(json.load(open('$T/out')))==$nb"
veil principal list --json
check "principal list shows bob disabled" "$PY" -S -c "
import json; p={x['name']:x for x in json.load(open('$T/out'))}; assert p['bob']['status']=='disabled', p['bob']"

veil principal disable admin
expect_fail "a principal cannot disable itself" $E_INVALID "cannot disable itself"
veil principal list --json
check "... admin is still enabled" "$PY" -S -c "
import json; p={x['name']:x for x in json.load(open('$T/out'))}; assert p['admin']['status']=='enabled', p['admin']"

sleep 2
fault "an expired token" "expired" VEIL_TOKEN_FILE="$T/expiring.tok"
auth_event "expired token: logged" "expired" "$(sed 's/.*_//' "$T/expiring.tok")"
no_state_change "expired token"
veil token list --principal alice
check "token list shows the expired token as expired" out_has "$(cut -d_ -f3 "$T/expiring.tok") +alice +expired"

# ==== 3. policy apply ====
quietly compartment create clinical --description "clinical data"
quietly compartment create oncology --parent clinical
quietly compartment create finance
veil compartment list --json
check "compartments form a tree: oncology below clinical below tenancy" "$PY" -S -c "
import json; c={x['name']:x['parent'] for x in json.load(open('$T/out'))}
assert c['oncology']=='clinical' and c['clinical']=='tenancy' and c['finance']=='tenancy' and c['tenancy']=='', c"
veil compartment create radiology --parent nowhere
expect_fail "a compartment needs an existing parent" $E_NOTFOUND "nowhere"
quietly group create auditors

cat >"$T/science.policy" <<'EOF'
# Scientists work on clinical data, except what is restricted.
Allow group scientists to use datasets in compartment clinical
    where target.classification != 'restricted'   # an indented line continues

# Finance is off limits, whatever else says.
Deny group scientists to inspect datasets in compartment finance
Allow group scientists, auditors to read audit-events in tenancy
EOF
veil policy apply "$T/science.policy" --dry-run
expect_rc "policy apply --dry-run validates" 0
check "--dry-run counts the statements" err_has "3 statements.*nothing was stored"
veil policy show science
expect_fail "--dry-run stored nothing" $E_NOTFOUND "no policy named science"
veil policy apply "$T/science.policy"
expect_rc "policy apply" 0
check "apply names the policy after the file, version 1" err_has "science version 1: 3 statements"
veil policy list
check "policy list (table)" out_has "^science +1 +tenancy +3 "
veil policy list --json
check "policy list --json" "$PY" -S -c "
import json; p={x['name']:x for x in json.load(open('$T/out'))}
assert set(p)=={'administrators','science'}, p
assert p['science']['version']==1 and p['science']['statements']==3 and p['science']['compartment']=='tenancy', p"
veil policy show science
check "policy show gives back the text exactly" cmp -s "$T/out" "$T/science.policy"
veil policy apply "$T/science.policy"
expect_rc "applying the same text again" 0
check "... says it is unchanged" err_has "unchanged \(version 1\)"
printf 'Allow group auditors to inspect policies in tenancy\n' >>"$T/science.policy"
veil policy apply "$T/science.policy"
check "changed text becomes version 2" err_has "science version 2: 4 statements"
veil policy show science --version 1
check "version 1 is still there" sh -c "head -n 7 '$T/science.policy' | cmp -s - '$T/out'"
veil policy show science
check "the current version is the new text" cmp -s "$T/out" "$T/science.policy"

snapshot() {
	"$VEIL_BIN" policy list --json >"$T/pl" 2>&1
	"$VEIL_BIN" policy show science >>"$T/pl" 2>&1
	sha256sum <"$T/pl"
}
before=$(snapshot)
new_events
# bad DESC CODE PATTERN FILE [apply options]: a refused policy that changes nothing.
nbad=0
bad() {
	local desc=$1 code=$2 pat=$3 file=$4
	shift 4
	veil policy apply "$file" --name science "$@"
	expect_fail "$desc" "$code" "$pat"
	nbad=$((nbad + 1))
	check "$desc: stored policies unchanged" test "$(snapshot)" = "$before"
}
printf '# a comment\nAllow group scientists to read keys in tenancy\nAllow group scientists to read keys on tenancy\n' >"$T/b1"
bad "a syntax error names line and column" $E_INVALID "line 3, column 37: expected 'in', found 'on'" "$T/b1"
printf '# a comment\nAllow group scientists to use datasets in tenancy\n    where target.classification ~ '"'x'"'\n' >"$T/b1b"
bad "a bad character on a continuation line: line 3, column 33" $E_INVALID "line 3, column 33: unexpected character '~'" "$T/b1b"
printf 'Allow group scientists to fiddle keys in tenancy\n' >"$T/b2"
bad "an unknown verb" $E_INVALID "line 1, column 27: unknown verb 'fiddle'" "$T/b2"
printf 'Allow group scientists to read kittens in tenancy\n' >"$T/b3"
bad "an unknown resource type" $E_INVALID "line 1, column 32: unknown resource type 'kittens'" "$T/b3"
printf '# first\n\nAllow group nobody to read keys in tenancy\n' >"$T/b4"
bad "an unknown group" $E_INVALID "line 3: group 'nobody' does not exist" "$T/b4"
printf 'Allow group scientists to read keys in compartment nowhere\n' >"$T/b5"
bad "an unknown compartment" $E_INVALID "line 1: compartment 'nowhere' does not exist" "$T/b5"
printf 'Allow group scientists to read keys in compartment oncology\nAllow group scientists to read keys in compartment finance\n' >"$T/b6"
bad "a statement outside the compartment the policy is attached to" $E_INVALID \
	"line 2: compartment 'finance' is outside compartment 'clinical'" "$T/b6" --compartment clinical --name clin
printf 'Allow group scientists to read keys in tenancy\n' >"$T/b6b"
bad "a tenancy statement in a policy attached below tenancy" $E_INVALID "line 1: .*tenancy.*outside" "$T/b6b" --name clin \
	--compartment clinical
"$PY" -S -c "
s='Allow group scientists to read keys in tenancy\n'
open('$T/b7','w').write(s*(65536//len(s)+1))"
bad "an oversize file" $E_LIMIT "65536" "$T/b7"
printf 'Allow group scientists to read keys in tenancy\n\0\n' >"$T/b8"
bad "a NUL byte" $E_INVALID "line 2, column 1: a NUL byte" "$T/b8"
printf 'Allow group scientists to read keys in tenancy\n' >"$T/b9"
veil policy apply "$T/b9" --name administrators
expect_fail "a policy that removes the last way to manage policies is refused" $E_INVALID \
	"no enabled principal with an active token could manage policies"
nbad=$((nbad + 1))
check "lockout: stored policies unchanged" test "$(snapshot)" = "$before"
veil policy apply "$T/b9" --name administrators --dry-run
expect_fail "lockout is refused by --dry-run too" $E_INVALID "manage policies"
as "$T/bob.tok" policy apply "$T/b9" --name x
expect_rc "a disabled principal cannot apply a policy" $E_AUTH
audit_check "each refused policy apply left an audit event (issue 3: 'an audit event for each refused request')" "
r=[e for e in ev if e['action'].startswith('policy') and e['outcome']!='ok']
assert len(r)>=$nbad, ('%d refusals, %d events' % ($nbad, len(r)), sorted({e['action'] for e in ev}))"

# a policy attached to a compartment governs it and what lies below
quietly group create oncologists
user olga --group oncologists
printf 'Allow group oncologists to read datasets in compartment oncology\n' >"$T/onc.policy"
veil policy apply "$T/onc.policy" --compartment clinical
expect_rc "a policy attached to clinical may grant in oncology, below it" 0
veil policy list --json
check "it is listed as attached to clinical" "$PY" -S -c "
import json; p={x['name']:x for x in json.load(open('$T/out'))}; assert p['onc']['compartment']=='clinical', p['onc']"

# ==== 4. compartments, conditions, Deny ====
rand_file "$T/tumours.bin" 4000
rand_file "$T/secret.bin" 3000
rand_file "$T/ledger.bin" 2000
quietly data upload "$T/tumours.bin" --name tumours --owner onc --compartment oncology
quietly data upload "$T/secret.bin" --name secret --owner onc --compartment oncology --classification restricted
quietly data upload "$T/ledger.bin" --name ledger --owner fin --compartment finance
veil data upload "$T/ledger.bin" --name misplaced --owner fin --compartment nowhere
expect_fail "upload into an unknown compartment" $E_NOTFOUND "nowhere"
veil data list --json
check "datasets live in their compartments" "$PY" -S -c "
import json; d={x['name']:x['compartment'] for x in json.load(open('$T/out'))}
assert d=={'tumours':'oncology','secret':'oncology','ledger':'finance'}, d"

# alice (scientists: use datasets in clinical unless restricted) sees the
# oncology dataset below clinical, not the restricted one, not finance.
as "$T/alice.tok" data list --json
check "a grant on clinical covers oncology below it; the classification condition hides 'secret'" \
	test "$(json_names "$T/out")" = "tumours"
as "$T/alice.tok" data list
check "data list (table) shows alice only tumours" sh -c "grep -q '^tumours ' '$T/out' && ! grep -qE '^(secret|ledger) ' '$T/out'"
as "$T/alice.tok" data inspect tumours
expect_rc "alice may read tumours" 0
as "$T/alice.tok" data inspect secret
expect_fail "alice may not read the restricted dataset" $E_DENIED "alice may not read datasets secret"
denied_event "audited: data inspect of secret denied" alice "data inspect" "datasets:secret"
as "$T/alice.tok" data inspect ledger
expect_fail "alice may not read finance's dataset (Deny)" $E_DENIED "may not read datasets ledger.*Deny"
denied_event "audited: data inspect of ledger denied" alice "data inspect" "datasets:ledger"
as "$T/alice.tok" data download tumours -o "$T/alice.out"
expect_fail "use datasets is not enough to take plaintext out" $E_DENIED "alice may not manage datasets tumours"
check "... and nothing is written" test ! -e "$T/alice.out"
denied_event "audited: data download by alice denied" alice "data download" "datasets:tumours"
as "$T/alice.tok" data upload "$T/ledger.bin" --name sneaky --owner onc --compartment clinical
expect_fail "alice may not upload" $E_DENIED "alice may not manage datasets"
denied_event "audited: data upload by alice denied" alice "data upload" "datasets:sneaky"
veil data list --json
check "... and no dataset was made" test "$(json_names "$T/out")" = "ledger secret tumours"

# olga (a policy attached to clinical) reads oncology, sees nothing else
as "$T/olga.tok" data list --json
check "olga, granted by a policy attached to clinical, sees both oncology datasets" \
	test "$(json_names "$T/out")" = "secret tumours"

# carol: granted only in finance
quietly group create finance-team
quietly group add finance-team carol
quietly token issue carol --output "$T/carol.tok"
cat >"$T/data.policy" <<'EOF'
Allow group finance-team to use datasets in compartment finance
# taking data out needs manage datasets AND use keys
Allow group data-only to manage datasets in tenancy
Allow group keys-only to use keys in tenancy
Allow group keys-only to inspect datasets in tenancy
Allow group analysts to manage datasets in tenancy
Allow group analysts to use keys in tenancy
Deny group analysts to read datasets in compartment finance
Allow group contractors to inspect datasets in tenancy
    where request.utc-timestamp before '2030-01-01T00:00:00Z'
EOF
for g in data-only keys-only analysts contractors; do quietly group create $g; done
user dan --group data-only
user kira --group keys-only
user ann --group analysts
user connie --group contractors
veil policy apply "$T/data.policy"
expect_rc "apply the data policy" 0
as "$T/carol.tok" data list --json
check "carol, granted only in finance, sees only ledger" test "$(json_names "$T/out")" = "ledger"
as "$T/carol.tok" data inspect tumours
expect_fail "carol may not read an oncology dataset" $E_DENIED "carol may not read datasets tumours"
denied_event "audited: carol's data inspect denied" carol "data inspect" "datasets:tumours"

as "$T/dan.tok" data download tumours -o "$T/dan.out"
expect_fail "manage datasets without use keys: denied" $E_DENIED "dan may not use keys onc"
check "... and no output file" test ! -e "$T/dan.out"
denied_event "audited: the key half of dan's download denied" dan "data download" "keys:onc"
as "$T/kira.tok" data download tumours -o "$T/kira.out"
expect_fail "use keys without manage datasets: denied" $E_DENIED "kira may not manage datasets tumours"
check "... and no output file" test ! -e "$T/kira.out"
denied_event "audited: the dataset half of kira's download denied" kira "data download" "datasets:tumours"
as "$T/ann.tok" data download tumours -o "$T/ann.out"
expect_rc "manage datasets and use keys: allowed" 0
check "... and the data comes back intact" cmp -s "$T/tumours.bin" "$T/ann.out"
as "$T/ann.tok" data download ledger -o "$T/ann-ledger.out"
expect_fail "Deny beats Allow" $E_DENIED "ann may not manage datasets ledger: denied by policy 'data'.*line 8"
check "... and no output file" test ! -e "$T/ann-ledger.out"
denied_event "audited: ann's download of ledger denied" ann "data download" "datasets:ledger"
check "... by the Deny statement, named in the event (policy, line, text)" "$PY" -S -c "
import json; ev=json.load(open('$T/ev.json'))
m=[e for e in ev if e['action']=='access.decide' and e['actor']=='ann' and e['outcome']=='denied']
s=m[-1]['detail']['statement']; assert s['policy']=='data' and s['line']==8 and s['text'].startswith('Deny '), s"
as "$T/ann.tok" data list --json
check "Deny read still lets ann inspect ledger (a Deny covers its verb and greater ones)" \
	test "$(json_names "$T/out")" = "ledger secret tumours"

# ==== 6. policy explain (5, sovereignty, has its own workspace below) ====
veil policy explain --as ann --verb manage --resource datasets:tumours
expect_rc "explain: allowed exits 0" 0
check "explain names the deciding statement and its line" sh -c "grep -q 'ALLOW' '$T/out' &&
grep -q 'policy data v1, line 6' '$T/out' && grep -q 'Allow group analysts to manage datasets in tenancy' '$T/out'"
check "explain of an existing dataset does not claim it is missing" sh -c "! grep -qi 'there is no' '$T/err'"
veil policy explain --as ann --verb manage --resource datasets:ledger
expect_rc "explain: denied exits 1" 1
check "explain: the Deny statement decides" sh -c "grep -q DENY '$T/out' && grep -q 'line 8' '$T/out' &&
grep -q 'Deny group analysts to read datasets in compartment finance' '$T/out'"
check "explain shows the compartment path" out_has "tenancy > finance"
veil policy explain --as alice --verb use --resource datasets:tumours
expect_rc "explain: alice may use tumours" 0
check "explain: a continued statement is shown joined, with its first line" sh -c "grep -q 'policy science v2, line 2' '$T/out' &&
grep -q \"Allow group scientists to use datasets in compartment clinical where target.classification != 'restricted'\" '$T/out'"
veil policy explain --as alice --verb use --resource datasets:secret --verbose
expect_rc "explain: alice may not use secret" 1
check "explain: no statement decided" out_has "no statement"
check "--verbose lists the statements considered" out_has "statements considered"
check "--verbose: the condition statement is condition-false, with the value" \
	out_has "condition-false +science v2 line 2: .*target.classification is 'restricted'"
check "--verbose: other groups' statements do not match on subject" out_has "^ +subject +data v1 line 6: "
check "--verbose: a statement for another type says so" out_has "^ +resource-type +science v2 line 7: "
veil policy explain --as alice --verb use --resource datasets:secret --json
expect_rc "explain --json exits 1 too" 1
check "explain --json parses: decision, no statement, reasons for each" "$PY" -S -c "
import json; o=json.load(open('$T/out'))
assert o['decision']=='deny' and o['statement'] is None and o['principal']=='alice', o
m={(s['policy'], s['line']): s['match'] for s in o['statements']}
assert m[('science',2)]=='condition-false' and m[('data',6)]=='subject' and m[('administrators',2)]=='subject', m"
veil policy explain --as dan --verb use --resource keys:onc
expect_rc "explain agrees with enforcement: dan may not use keys" 1
veil policy explain --as connie --verb inspect --resource datasets:tumours --at 2029-06-01T00:00:00Z
expect_rc "explain --at before the deadline: allowed" 0
veil policy explain --as connie --verb inspect --resource datasets:tumours --at 2031-01-01T00:00:00Z
expect_rc "explain --at after the deadline: denied" 1
veil policy explain --as bob --verb inspect --resource datasets:tumours
expect_rc "explain: a disabled principal is denied" 1
check "... and it says why" out_has "disabled"
veil policy explain --as nobody --verb inspect --resource datasets
expect_fail "explain: an unknown principal" $E_NOTFOUND "no principal named nobody"
veil policy explain --as alice --verb fly --resource datasets
expect_fail "explain: an unknown verb" $E_INVALID "not a verb"
as "$T/alice.tok" policy explain --as alice --verb inspect --resource datasets
expect_fail "explain itself needs read policies" $E_DENIED "alice may not read policies"
denied_event "audited: alice's policy explain denied" alice "policy explain" "policies"

# ==== 5. data sovereignty ====
new_ws "$T/eu" --region eu-west || exit 1
export VEIL_WORKSPACE="$T/eu"
MARK=0
new_events
check "init reports the region" err_has "region eu-west"
check "veil.yaml holds the region" grep -qx "region: eu-west" "$T/eu/veil.yaml"
rand_file "$T/patients.bin" 5000
veil data upload "$T/patients.bin" --name patients --owner hospital
expect_rc "upload in eu-west" 0
veil data list --json
check "the dataset is bound to eu-west" "$PY" -S -c "
import json; d=json.load(open('$T/out')); assert d[0]['region']=='eu-west', d"
veil key list --json
check "its key is bound to eu-west" "$PY" -S -c "
import json; k=json.load(open('$T/out')); assert k[0]['name']=='hospital' and k[0]['region']=='eu-west', k"
quietly group create euteam
quietly group create workers
user eve --group euteam
user w-eu --kind worker --region eu-west --group workers
user w-us --kind worker --region us-east --group workers
cat >"$T/sov.policy" <<'EOF'
# Patient data is used in its own region only.
Allow group euteam to manage datasets in tenancy where target.region = request.region
Allow group euteam, workers to use keys in tenancy
Allow group workers to manage datasets in tenancy
EOF
veil policy apply "$T/sov.policy"
expect_rc "apply the sovereignty policy" 0
as "$T/eve.tok" data download patients -o "$T/eve1.out"
expect_rc "in region: eve may download" 0
check "... intact" cmp -s "$T/patients.bin" "$T/eve1.out"
as "$T/w-eu.tok" data download patients -o "$T/weu.out"
expect_rc "a worker in eu-west gets the key" 0
check "... intact" cmp -s "$T/patients.bin" "$T/weu.out"
as "$T/w-us.tok" data download patients -o "$T/wus.out"
expect_fail "a worker in us-east: the key manager refuses, naming both regions" $E_DENIED "eu-west.*us-east|us-east.*eu-west"
check "... and nothing is written" test ! -e "$T/wus.out"
veil policy explain --as eve --verb manage --resource datasets:patients --region us-east
expect_rc "explain --region us-east: the region condition denies" 1
veil policy explain --as eve --verb manage --resource datasets:patients --region eu-west
expect_rc "explain --region eu-west: allowed" 0
check "... by the region statement" out_has "target.region = request.region"
veil policy explain --as w-us --verb manage --resource datasets:patients --json
check "a worker's request comes from its own region" "$PY" -S -c "
import json; o=json.load(open('$T/out')); assert o['request_region']=='us-east', o"

new_events
sed -i 's/^region: .*/region: us-east/' "$T/eu/veil.yaml"
veil data download patients -o "$T/adm-us.out"
expect_fail "after moving the workspace to us-east the key manager refuses" $E_DENIED "eu-west.*us-east|us-east.*eu-west"
check "... and nothing is written" test ! -e "$T/adm-us.out"
audit_check "... and the refusal is audited" "
assert any(e['resource'].startswith('patients') and e['outcome']!='ok' for e in ev), show()"
as "$T/eve.tok" data download patients -o "$T/eve2.out"
expect_fail "eve in us-east: the policy's region condition denies" $E_DENIED "eve may not manage datasets patients"
check "... and nothing is written" test ! -e "$T/eve2.out"
denied_event "audited: eve's out-of-region download denied" eve "data download" "datasets:patients"
check "... with the request's region in the event" "$PY" -S -c "
import json; ev=json.load(open('$T/ev.json'))
assert any(e['actor']=='eve' and e['outcome']=='denied' and e['detail']['request_region']=='us-east' for e in ev)"
veil policy explain --as eve --verb manage --resource datasets:patients
expect_rc "explain (default region, now us-east): denied" 1
sed -i 's/^region: .*/region: eu-west/' "$T/eu/veil.yaml"
as "$T/eve.tok" data download patients -o "$T/eve3.out"
expect_rc "back in eu-west: allowed again" 0

# ==== 7. one more sweep: no denial went unlogged ====
use_ws "$T/ws"
export VEIL_WORKSPACE="$T/ws"
veil audit log --json
check "every access.decide denial in the main workspace names operation, verb and reason" "$PY" -S -c "
import json; ev=[e for e in json.load(open('$T/out')) if e['action']=='access.decide' and e['outcome']=='denied']
assert len(ev) >= 10, len(ev)
for e in ev:
    d=e['detail']; assert d['operation'] and d['verb'] in ('inspect','read','use','manage') and d['reason'], e"
# ==== 8. refused for what they ask, after being allowed: recorded too ====
new_events
veil group add analysts no-such-principal
expect_fail "adding an unknown principal to a group is refused" $E_NOTFOUND "no-such-principal"
audit_check "... and recorded as a failed group.add" "
assert any(e['action']=='group.add' and e['outcome']=='failed' and 'no-such-principal' in e['detail']['reason'] for e in ev), show()"
echo "a,b" >"$T/lost.csv"
veil data upload "$T/lost.csv" --name lost --owner o --compartment no-such-compartment
expect_fail "an upload into an unknown compartment is refused" $E_NOTFOUND "no compartment named 'no-such-compartment'"
audit_check "... and recorded as a failed data.upload" "
assert any(e['action']=='data.upload' and e['outcome']=='failed' for e in ev), show()"
veil data list --json
check "... and stored nothing" sh -c "! grep -q '\"lost\"' '$T/out'"

veil audit verify
expect_rc "and the audit log still verifies" 0

# ==== 9. no escalation, no lockout (found by an outside review) ====
new_ws "$T/rv" --region eu-west || exit 1
export VEIL_WORKSPACE="$T/rv"
rm -f "$T/olga.tok" "$T/helpdesk.tok" "$T/w1.tok"
quietly compartment create clinical
quietly compartment create oncology --parent clinical
quietly group create onc-admins
user olga --group onc-admins
printf 'Allow group onc-admins to manage all-resources in compartment oncology\n' >"$T/onc.policy"
quietly policy apply "$T/onc.policy" --name onc --compartment oncology
printf "Deny group onc-admins to manage datasets in tenancy where target.classification = 'restricted'\n" >"$T/guard.policy"
quietly policy apply "$T/guard.policy" --name guard
as "$T/olga.tok" policy apply "$T/onc.policy" --name guard --compartment oncology
expect_fail "a compartment administrator cannot replace a tenancy policy by moving it" $E_DENIED "olga may not manage policies guard"
veil policy show guard
check "... the tenancy policy is intact" out_has "Deny group onc-admins"
veil policy apply "$T/guard.policy" --name guard --compartment oncology
expect_fail "even an administrator does not move a policy" $E_INVALID "attached to tenancy; a policy does not move"

quietly group create helpdesk
user helpdesk --group helpdesk
printf 'Allow group helpdesk to manage principals in tenancy\n' >"$T/hd.policy"
quietly policy apply "$T/hd.policy" --name helpdesk
as "$T/helpdesk.tok" token issue admin --output "$T/stolen.tok"
expect_fail "manage principals does not let you issue an administrator's token" $E_DENIED "administers the workspace"
check "... and no token file appears" test ! -e "$T/stolen.tok"
as "$T/helpdesk.tok" principal disable admin
expect_fail "... nor disable an administrator" $E_DENIED "administers the workspace"
as "$T/helpdesk.tok" token issue olga --expires 1h
expect_rc "... while tokens for other principals are its job" 0

veil group remove administrators admin
expect_fail "removing the last administrator from its group is refused" $E_INVALID "no enabled principal with an active token"
veil group list --json
check "... and the group is unchanged" "$PY" -S -c "
import json; g={x['name']: x['members'] for x in json.load(open('$T/out'))}
assert g['administrators'] == ['admin'], g"
admin_id=$("$VEIL_BIN" token list --principal admin --json | "$PY" -S -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
veil token revoke "$admin_id"
expect_fail "revoking the last administrator's only token is refused" $E_INVALID "no enabled principal with an active token"

echo "scan,label" >"$T/onc.csv"
as "$T/olga.tok" data upload "$T/onc.csv" --name oncdata --owner olga --compartment oncology
expect_rc "a first upload in a compartment makes the owner's key there" 0
as "$T/olga.tok" key create bob --compartment oncology
expect_rc "a compartment administrator makes a key in its compartment" 0
veil data upload "$T/onc.csv" --name bobdata --owner bob
expect_fail "a tenancy dataset is never wrapped under a key from a sub-compartment" $E_INVALID "key bob lives in compartment oncology"

quietly group create workers
user w1 --kind worker --region us-east --group workers
printf 'Allow group workers to manage datasets in tenancy\nAllow group workers to use keys in tenancy\n' >"$T/w.policy"
quietly policy apply "$T/w.policy" --name workers
as "$T/w1.tok" data download oncdata -o -
expect_fail "a worker in another region streams nothing" $E_DENIED "may only be released in region 'eu-west'"
veil audit log
check "... and the log does not claim a download happened" sh -c "! awk '\$3 == \"w1\" && \$4 == \"data.download\" && \$5 == \"ok\"' '$T/out' | grep -q ."
check "... it records the refusal" sh -c "awk '\$3 == \"w1\" && \$4 == \"data.download\" && \$5 == \"failed\"' '$T/out' | grep -q ."

finish
