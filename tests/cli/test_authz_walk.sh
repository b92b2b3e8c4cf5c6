#!/usr/bin/env bash
# Every registered command goes through the authorization point.
#
# The list of commands comes from veil itself (`veil policy operations
# --json`, read from the same table that dispatches them), so a new command
# is walked here the day it is added, and fails this test until it is given
# arguments below. For each command that works in a workspace:
#  1. a principal with no grants is refused (exit 25), or for a listing
#     shown nothing, and an access.decide event with outcome "denied" names
#     the command;
#  2. a principal granted exactly what the command documents is allowed:
#     an access.decide event with outcome "ok" names the command;
#  3. one verb less on its first need, or the lack of its second need, is
#     refused again: the command asks for what it documents, not less.
. "$(dirname "$0")/lib.sh"

new_ws "$T/ws" || exit 1
export VEIL_WORKSPACE="$T/ws"
ADMIN_TOKEN=$(cat "$T/ws.token")

rand_file "$T/f" 3000
veil data upload "$T/f" --name d --owner o
veil principal create nobody
veil principal create walker
veil principal create spare
veil group create walkers
veil group add walkers walker
veil group create spares
token_of() { veil token issue "$1" --expires 1d && out; }
NOBODY=$(token_of nobody)
WALKER=$(token_of walker)
check "test principals and tokens exist" test ${#NOBODY} -eq 118 -a ${#WALKER} -eq 118
printf 'Allow group spares to inspect datasets in tenancy\n' >"$T/p.policy"
# data verify needs its key released to the (simulated) worker
printf 'version: 1\ntee: [sim, sev-snp]\nallow_simulated: true\nmeasurements: [%s]\nmax_age: 5m\n' \
	"$("$VEIL_BIN" attest measure 2>/dev/null)" >"$T/rp.yaml"
veil attest policy set "$T/rp.yaml"
# data validate and features build read these before they decide
printf 'version: 1\ncolumns:\n  - name: a\n    type: int\n' >"$T/s.yaml"
printf 'version: 1\nsteps:\n  - drop: {columns: [a]}\n' >"$T/fp.yaml"
# train reads its job file first; the model and job commands need one of each,
# trained as the administrator on a small table
printf 'training_job:\n  name: wj\n  model_name: wm\n  dataset: tab\n  label: y\n  model: {type: logreg}\n  train: {epochs: 1, batch_size: 4, lr: 0.1}\n' >"$T/job.yaml"
python3 -c "
import random; r = random.Random(1)
print('x,y')
for i in range(64): print('%.3f,%d' % (r.random(), i % 2))" >"$T/tab.csv"
veil data upload "$T/tab.csv" --name tab --owner o
veil train "$T/job.yaml" --json
WJOB=$(python3 -c "import json; print(json.load(open('$T/out'))['job'])" 2>/dev/null)
check "the walk's model is trained" test -n "$WJOB"

# log_size: how many events the log holds (read as the administrator; the
# plain log is one line per event: index time actor action outcome ...).
log_size() {
	VEIL_TOKEN=$ADMIN_TOKEN "$VEIL_BIN" audit log 2>/dev/null | wc -l
}
# restore decides in the workspace it makes: LOGWS names that one.
# decided FROM OPERATION OUTCOME ACTOR: an access.decide event at index >= FROM.
decided() {
	VEIL_TOKEN=$ADMIN_TOKEN VEIL_WORKSPACE=${LOGWS:-$T/ws} "$VEIL_BIN" audit log 2>/dev/null |
		grep -F "\"operation\":\"$2\"" |
		awk -v from="$1" -v outcome="$3" -v actor="$4" '
			$1 >= from && $3 == actor && $4 == "access.decide" && $5 == outcome { found = 1 }
			END { exit !found }'
}
# grant LINE...: the walkers' policy becomes exactly these statements.
grant() {
	printf '%s\n' "$@" >"$T/walk.policy"
	VEIL_TOKEN=$ADMIN_TOKEN "$VEIL_BIN" policy apply "$T/walk.policy" --name walk >/dev/null 2>"$T/grant.err" ||
		echo "# grant failed: $(cat "$T/grant.err")"
}

# Arguments that reach the authorization point for each command. `@N@` is
# replaced by a fresh number, for commands that create something.
declare -A ARGS=(
	["data upload"]="$T/f --name d --owner o"
	["data download"]="d -o - "
	["data list"]=""
	["data inspect"]="d"
	["key create"]="k@N@"
	["key list"]=""
	["key rotate"]="o"
	["key retire"]="o --version 1"
	["key status"]=""
	["audit log"]=""
	["audit verify"]=""
	["audit proof"]="inclusion 0"
	["backup"]="$T/backup@N@"
	["restore"]="RESTORE"
	["gc"]="--dry-run"
	["principal create"]="p@N@"
	["principal list"]=""
	["principal disable"]="VICTIM"
	["group create"]="g@N@"
	["group add"]="spares spare"
	["group remove"]="spares spare"
	["group list"]=""
	["token issue"]="spare"
	["token list"]=""
	["token revoke"]="TOKEN-ID"
	["compartment create"]="c@N@"
	["compartment list"]=""
	["policy apply"]="$T/p.policy --name p@N@"
	["policy list"]=""
	["policy show"]="administrators"
	["policy explain"]="--as nobody --verb read --resource datasets:d"
	["data verify"]="d"
	["data validate"]="d --schema $T/s.yaml"
	["data profile"]="d"
	["data report"]="d"
	["data compliance"]="d"
	["features build"]="$T/fp.yaml --input d --output f@N@"
	["attest policy set"]="$T/rp.yaml --key o"
	["attest policy show"]=""
	["attest evidence"]=""
	["data budget set"]="d --epsilon 1 --delta 1e-5"
	["data budget show"]="d"
	["train"]="$T/job.yaml"
	["model list"]=""
	["model inspect"]="wm"
	["model compare"]="wm wm"
	["model eval"]="wm --dataset tab"
	["job list"]=""
	["job status"]="$WJOB"
	["job log"]="$WJOB"
)
n=0
# args_for CMD: the arguments, made fresh where the command needs it.
args_for() {
	n=$((n + 1))
	local a=${ARGS[$1]}
	case $a in
	RESTORE)
		VEIL_TOKEN=$ADMIN_TOKEN "$VEIL_BIN" backup "$T/rb$n" >/dev/null 2>&1
		a="$T/rb$n $T/restored$n"
		LOGWS=$T/restored$n
		;;
	VICTIM)
		VEIL_TOKEN=$ADMIN_TOKEN "$VEIL_BIN" principal create "victim$n" >/dev/null 2>&1
		a="victim$n"
		;;
	TOKEN-ID)
		a=$(VEIL_TOKEN=$ADMIN_TOKEN "$VEIL_BIN" token issue spare --json 2>/dev/null |
			python3 -c "import json,sys; print(json.load(sys.stdin)['id'])")
		;;
	esac
	printf '%s' "${a//@N@/$n}"
}
# run_as TOKEN CMD: runs the command with fresh arguments as TOKEN's principal.
run_as() {
	local args
	LOGWS=
	args_for "$2" >"$T/args"
	args=$(cat "$T/args")
	# shellcheck disable=SC2086 # the arguments are word lists by design
	VEIL_TOKEN=$1 veil $2 $args
}
is_listing() { case $1 in *" list" | "key status") return 0 ;; *) return 1 ;; esac; }
lower() { case $1 in read) echo inspect ;; use) echo read ;; manage) echo use ;; *) echo "" ;; esac; }

veil policy operations --json
cp "$T/out" "$T/ops.json"
mapfile -t COMMANDS < <(python3 -c "
import json
for c in json.load(open('$T/ops.json')):
    n = c['needs']
    print('|'.join([c['command']] + ['%s %s' % (x['verb'], x['resource_type']) for x in n]))")
check "veil lists its commands" test ${#COMMANDS[@]} -ge 30

exempt=()
for line in "${COMMANDS[@]}"; do
	IFS='|' read -r cmd need1 need2 need3 <<<"$line"
	if [ -z "$need1" ]; then
		exempt+=("$cmd")
		continue
	fi
	if [ -z "${ARGS[$cmd]+set}" ]; then
		not_ok "'$cmd' has walk arguments" "add it to ARGS in $0"
		continue
	fi
	# 1. no grants at all
	grant "Allow group walkers to inspect datasets in tenancy where target.name = 'no-such-thing'"
	start=$(log_size)
	run_as "$NOBODY" "$cmd"
	if is_listing "$cmd"; then
		check "$cmd: a principal without grants is shown nothing" sh -c "[ $RC -eq 0 ] && ! grep -qE '^(d|o|admin|administrators|tenancy|[0-9a-f]{16}) ' '$T/out'"
	else
		expect_fail "$cmd: a principal without grants is refused" $E_DENIED "may not"
	fi
	if [ "$cmd" = restore ]; then
		check "restore: a refused restore leaves nothing" test ! -e "$LOGWS"
	else
		check "$cmd: the refusal is an audit event" decided "$start" "$cmd" denied nobody
	fi

	# 2. exactly the documented grants
	grant "Allow group walkers to $need1 in tenancy" ${need2:+"Allow group walkers to $need2 in tenancy"} \
		${need3:+"Allow group walkers to $need3 in tenancy"}
	start=$(log_size)
	run_as "$WALKER" "$cmd"
	check "$cmd: '$need1${need2:+, $need2}${need3:+, $need3}' is enough (exit $RC)" test "$RC" -ne $E_DENIED
	check "$cmd: the allow is an audit event" decided "$start" "$cmd" ok walker

	# 3. less than documented
	verb=${need1%% *} type=${need1#* }
	if [ -n "$(lower "$verb")" ]; then
		grant "Allow group walkers to $(lower "$verb") $type in tenancy" ${need2:+"Allow group walkers to $need2 in tenancy"} \
			${need3:+"Allow group walkers to $need3 in tenancy"}
		start=$(log_size)
		run_as "$WALKER" "$cmd"
		if is_listing "$cmd"; then
			check "$cmd: one verb less shows nothing" decided "$start" "$cmd" denied walker
		else
			expect_fail "$cmd: '$(lower "$verb") $type' is not enough" $E_DENIED "may not"
		fi
	fi
	if [ -n "$need2" ]; then
		grant "Allow group walkers to $need1 in tenancy" ${need3:+"Allow group walkers to $need3 in tenancy"}
		start=$(log_size)
		run_as "$WALKER" "$cmd"
		expect_fail "$cmd: without '$need2' it is refused" $E_DENIED "may not"
	fi
	if [ -n "$need3" ]; then
		grant "Allow group walkers to $need1 in tenancy" "Allow group walkers to $need2 in tenancy"
		start=$(log_size)
		run_as "$WALKER" "$cmd"
		expect_fail "$cmd: without '$need3' it is refused" $E_DENIED "may not"
	fi
done

# The commands that run without a workspace, and only those, skip the
# authorization point: written out by hand so that a change shows here.
check "only init, audit check-proof, dp epsilon|noise, attest measure|verify|policy check, policy operations and version need no principal" \
	test "${exempt[*]}" = "init audit check-proof dp epsilon dp noise attest measure attest verify attest policy check policy operations version"

finish
