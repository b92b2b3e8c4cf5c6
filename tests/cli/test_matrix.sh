#!/usr/bin/env bash
# The decision matrix, asked of the real command: `veil policy explain`.
#
# A workspace is set up through veil commands only, as its first
# administrator: nested compartments, principals in zero, one and two
# groups (one a worker in another region), datasets with classifications
# and tags, and three policies holding fifteen statements with conditions
# on every kind of attribute, Deny statements that override Allows, and
# any-user and all-resources statements. Then every principal asks, through
# `veil policy explain --json` at a fixed time, for every verb on a fixed
# target of every resource type veil lists, and the decision is compared
# with the table below, worked out by hand from docs/formats/policy.md
# (not from veil's output). Every mismatch is printed; an unexpected ALLOW
# and an unexpected deny are counted apart, and either fails the test.
# Last, a few cells are replayed as the real commands run by those
# principals, to show that the enforcement point decides as explain does.
. "$(dirname "$0")/lib.sh"

new_ws "$T/ws" --region eu-west || exit 1
export VEIL_WORKSPACE="$T/ws"

# ---- the scenario, through veil commands only ----

setup_failures=()
# step ARGS...: a veil command that must succeed for the scenario to hold.
step() {
	veil "$@"
	[ "$RC" -eq 0 ] || setup_failures+=("veil $* -> exit $RC: $(head -c 300 "$T/err" | tr '\n' ' ')")
}

# tenancy > clinical > oncology, tenancy > finance
step compartment create clinical
step compartment create oncology --parent clinical
step compartment create finance

# alice: a user in two groups; bob: a user in one; carol: a user in none;
# w1: a worker that runs in us-east, in one group.
for g in researchers clinicians analysts workers; do step group create "$g"; done
step principal create alice --group researchers
step group add clinicians alice
step principal create bob --group analysts
step principal create carol
step principal create w1 --kind worker --region us-east --group workers

# Uploaded by the administrator, so every dataset and its owner's key is in
# the workspace's region (eu-west); a key is made in the compartment of
# its owner's first dataset (alice's in oncology, bob's in finance).
rand_file "$T/scans" 5000
rand_file "$T/genome" 3000
rand_file "$T/ledger" 2000
step data upload "$T/scans" --name onc-scans --owner alice --compartment oncology \
	--classification confidential --tag project=tumor-board --tag hold=none
step data upload "$T/genome" --name onc-genome --owner alice --compartment oncology \
	--classification restricted --tag project=genome
step data upload "$T/ledger" --name fin-ledger --owner bob --compartment finance \
	--classification internal --tag hold=legal

# The policies. Line numbers matter: the checks of deciding statements
# below name them.
cat >"$T/tenancy-base.policy" <<'EOF'
# Tenancy-wide rules (the decision-matrix test).
Allow any-user to inspect workspace in tenancy
Allow group researchers to inspect all-resources in tenancy
Allow group analysts to manage all-resources in compartment finance
  where request.utc-timestamp.time-of-day between '08:00:00Z' and '18:00:00Z'
Deny any-user to use keys in tenancy where target.region != request.region
Allow group workers to read datasets in tenancy
  where any { target.classification = 'public', target.tag.project = 'tumor-board' }
Allow any-user to read audit-events in tenancy where request.principal.kind = 'worker'
Allow group analysts to read principals in tenancy
Deny group analysts to read principals in tenancy where target.region = 'us-east'
EOF
cat >"$T/clinical-ops.policy" <<'EOF'
# Clinical rules: attached to clinical, they reach clinical and oncology only.
Allow group clinicians to use datasets in compartment clinical
  where target.classification != 'restricted'
Allow group clinicians to manage datasets in compartment oncology
  where target.owner = request.principal
Deny group clinicians to manage datasets in compartment clinical where target.tag.hold != 'none'
Allow group clinicians to use keys in compartment oncology where target.owner = request.principal
Allow group researchers to read all-resources in compartment clinical
Allow group workers to use datasets in compartment oncology
  where all { request.principal.kind = 'worker', target.region = request.region }
EOF
cat >"$T/finance-guard.policy" <<'EOF'
# Nothing under legal hold is changed or taken out, whoever asks.
Deny any-user to manage datasets in compartment finance where target.tag.hold = 'legal'
EOF
step policy apply "$T/tenancy-base.policy"
step policy apply "$T/clinical-ops.policy" --compartment clinical
step policy apply "$T/finance-guard.policy" --compartment finance

if [ ${#setup_failures[@]} -eq 0 ]; then
	ok "the scenario is set up through veil commands"
else
	not_ok "the scenario is set up through veil commands" "${setup_failures[@]}"
fi

# ---- the expected decisions ----
#
# One line per principal and target: the decision for inspect, read, use
# and manage (A allowed, - denied), at 2026-06-15T10:30:00Z (inside the
# analysts' office hours). A target is TYPE:NAME for a named resource,
# TYPE alone for the type as a whole (no name: it lives in tenancy), or
# TYPE/COMPARTMENT for the type as a whole in that compartment.
#
# The targets: onc-scans (oncology, confidential, owner alice, eu-west,
# project=tumor-board, hold=none); onc-genome (oncology, restricted, owner
# alice, eu-west, project=genome, no hold tag); fin-ledger (finance,
# internal, owner bob, eu-west, hold=legal); keys alice (oncology) and bob
# (finance), both eu-west and owned by their names; principal w1 (us-east);
# compartment oncology and policy clinical-ops, both living in clinical.
# alice, bob and carol ask from eu-west (the workspace's region), w1 from
# us-east. TB, CL and FG are tenancy-base, clinical-ops and finance-guard;
# the numbers are their lines.
#
# principal target                 IRUM   why
EXPECTED="
alice datasets:onc-scans       AAAA # CL2 up to use (not restricted), CL4 manage (she owns it); CL6 false (hold=none)
alice keys:alice               AAA- # CL7 use (her key), TB6 false (same region); nothing grants manage
alice models                   A--- # TB3 inspect all-resources; CL8 is attached off the path (tenancy)
alice jobs                     A---
alice deployments              A---
alice principals:w1            A---
alice groups:clinicians        A---
alice compartments:oncology    AA-- # CL8 read all-resources in clinical, where oncology lives
alice policies:clinical-ops    AA-- # the same: a policy lives where it is attached
alice audit-events             A--- # TB9 needs a worker
alice workspace                A--- # TB2 and TB3
alice datasets:onc-genome      AAA- # CL4 manage (she owns it), CL2 false (restricted); CL6 denies manage: no hold tag is unknown
alice datasets:fin-ledger      A--- # TB3 only; clinical-ops is off the path
alice keys:bob                 A---
alice models/finance           A---
bob   datasets:onc-scans       ---- # TB4 covers finance only
bob   keys:alice               ----
bob   models                   ---- # TB4 names finance, which is not on the path of tenancy
bob   jobs                     ----
bob   deployments              ----
bob   principals:w1            A--- # TB10 read, TB11 denies read and up (w1 is in us-east)
bob   groups:clinicians        ----
bob   compartments:oncology    ----
bob   policies:clinical-ops    ----
bob   audit-events             ----
bob   workspace                A--- # TB2 any-user
bob   datasets:onc-genome      ----
bob   datasets:fin-ledger      AAA- # TB4 manage in office hours; FG2 denies manage (legal hold)
bob   keys:bob                 AAAA # TB4; TB6 false (same region)
bob   models/finance           AAAA # TB4
carol datasets:onc-scans       ---- # no groups: only the any-user statements can apply
carol keys:alice               ----
carol models                   ----
carol jobs                     ----
carol deployments              ----
carol principals:w1            ----
carol groups:clinicians        ----
carol compartments:oncology    ----
carol policies:clinical-ops    ----
carol audit-events             ---- # TB9 false: carol is a user
carol workspace                A--- # TB2
carol datasets:onc-genome      ----
carol datasets:fin-ledger      ---- # FG2 applies to carol too, but there is nothing to deny
carol keys:bob                 ----
carol models/finance           ----
w1    datasets:onc-scans       AA-- # TB7 (project), CL9 false: the data is in eu-west, w1 in us-east
w1    keys:alice               ---- # nothing allows; TB6 would deny use and manage
w1    models                   ----
w1    jobs                     ----
w1    deployments              ----
w1    principals:w1            ----
w1    groups:clinicians        ----
w1    compartments:oncology    ----
w1    policies:clinical-ops    ----
w1    audit-events             AA-- # TB9 any-user who is a worker
w1    workspace                A--- # TB2
w1    datasets:onc-genome      ---- # TB7 false on both clauses, CL9 false
w1    datasets:fin-ledger      ---- # TB7: 'internal' is not public, the project tag is absent: any { false, unknown } does not allow
w1    keys:bob                 ----
w1    models/finance           ----
"
# More cells: other times (TB4's range is half-open, 08:00:00 in and
# 18:00:00 out), other request regions (they decide for the worker and for
# alice's key), and targets whose region is unknown (TB11 then denies:
# users and the type as a whole have no region).
#
# principal target               IRUM options   why
VARIANTS="
bob   datasets:fin-ledger        ---- --at 2026-06-15T20:00:00Z # TB4 false; nothing else allows
bob   keys:bob                   ---- --at 2026-06-16T03:00:00Z
bob   models/finance             AAAA --at 2026-06-15T08:00:00Z
bob   models/finance             AAAA --at 2026-06-15T17:59:59Z
bob   models/finance             ---- --at 2026-06-15T18:00:00Z
bob   principals:w1              A--- --at 2026-06-15T20:00:00Z # TB10 and TB11 do not care about time
bob   principals                 A--- # TB11: target.region is absent, unknown, so the Deny applies
bob   principals:carol           A--- # the same: carol is a user, with no region
w1    datasets:onc-scans         AAA- --region eu-west # CL9 true when the worker asks from eu-west
alice keys:alice                 AA-- --region us-east # TB6 true: denies use (and manage) over CL7
alice datasets:onc-scans         AAAA --at 2026-06-15T23:59:59Z # no time condition
"
AT=2026-06-15T10:30:00Z
VERBS=(inspect read use manage)
PRINCIPALS=(alice bob carol w1)

# ---- the types veil knows, and the table covers each of them ----

veil policy operations
types_line=$(grep '^Resource types:' "$T/out")
read -r -a TYPES <<<"${types_line#Resource types:}"
check "veil policy operations lists the 11 resource types" test ${#TYPES[@]} -eq 11
uncovered=()
for p in "${PRINCIPALS[@]}"; do
	for ty in "${TYPES[@]}"; do
		grep -qE "^$p +$ty([:/][^ ]*)? " <<<"$EXPECTED" || uncovered+=("$p $ty")
	done
done
check "the table has every principal x every resource type (missing: ${uncovered[*]:-none})" \
	test ${#uncovered[@]} -eq 0
stray=$(awk -v types=" ${TYPES[*]} " 'NF && $1 !~ /^#/ { t = $2; sub(/[:\/].*/, "", t); if (index(types, " " t " ") == 0) print $2 }' <<<"$EXPECTED")
check "the table names no unknown type (${stray:-none})" test -z "$stray"

# ---- asking explain ----

mkdir -p "$T/cells"
# explain WHO TARGET VERB [OPTIONS...]: runs `veil policy explain --json`
# as the administrator; sets CELL to A (allow) or - (deny), or ! when the
# command failed or its exit code and JSON disagree; the JSON is in $JSON.
explain() {
	local who=$1 target=$2 verb=$3
	shift 3
	local where=()
	if [[ $target == */* ]]; then
		where=(--compartment "${target#*/}")
		target=${target%/*}
	fi
	local at=(--at "$AT")
	[[ " $* " == *" --at "* ]] && at=()
	JSON="$T/cells/$who.${target//[:\/]/_}.${where[1]:-}.$verb.$((++cells)).json"
	"$VEIL_BIN" policy explain --as "$who" --verb "$verb" --resource "$target" "${where[@]}" "${at[@]}" "$@" \
		--json >"$JSON" 2>"$T/explain.err" </dev/null
	local rc=$? d
	d=$(grep -oE '^  "decision": "[a-z]+"' "$JSON" | cut -d'"' -f4)
	if [ $rc -eq 0 ] && [ "$d" = allow ]; then
		CELL=A
	elif [ $rc -eq 1 ] && [ "$d" = deny ]; then
		CELL=-
	else
		CELL='!'
		printf '#   %s %s %s: exit %s, decision "%s": %s\n' "$who" "$verb" "$target" "$rc" "$d" \
			"$(head -c 300 "$T/explain.err" | tr '\n' ' ')"
	fi
}
# The JSON is read with grep and awk, as cli_print_json writes it (two
# spaces of indent, one member a line): python3 would start 300 times.
reason_of() { sed -n 's/^  "reason": "\(.*\)",\{0,1\}$/\1/p' "$1"; }
# mismatch DESC LINES...: not_ok without the stale output of an earlier veil.
mismatch() {
	: >"$T/out"
	: >"$T/err"
	not_ok "$@"
}
# statement_of FILE: "POLICY LINE" of the deciding statement, or "-".
statement_of() {
	awk '/^  "statement": null/ { print "-"; exit }
		/^  "statement": \{/ { on = 1; next }
		on && /^    "line": / { line = $2; sub(/,$/, "", line) }
		on && /^    "policy": / { policy = $2; gsub(/[",]/, "", policy) }
		on && /^  }/ { print policy " " line; exit }' "$1"
}

cells=0
unexpected_allow=()
unexpected_deny=()
failed_cells=()
# run_table TABLE: every line, every verb; one TAP line per table line.
run_table() {
	local who target want extra got i
	while read -r who target want extra; do
		[ -n "$who" ] || continue
		extra=${extra%%#*}
		extra=${extra%"${extra##*[! ]}"}
		got=
		local wrong=()
		for i in 0 1 2 3; do
			# shellcheck disable=SC2086 # extra is an option list by design
			explain "$who" "$target" "${VERBS[$i]}" $extra
			got+=$CELL
			[ "$CELL" = "${want:$i:1}" ] && continue
			local cell="$who ${VERBS[$i]} $target${extra:+ $extra}"
			case $CELL in
			A) unexpected_allow+=("$cell") ;;
			-) unexpected_deny+=("$cell") ;;
			*) failed_cells+=("$cell") ;;
			esac
			wrong+=("${VERBS[$i]}: got $CELL, expected ${want:$i:1}: $(reason_of "$JSON")")
		done
		if [ "$got" = "$want" ]; then
			ok "$who $target${extra:+ ($extra)}: $got"
		else
			mismatch "$who $target${extra:+ ($extra)}: $got, expected $want" "${wrong[@]}"
		fi
	done <<<"$1"
}
run_table "$EXPECTED"
run_table "$VARIANTS"

n_allow=${#unexpected_allow[@]} n_deny=${#unexpected_deny[@]}
if [ "$n_allow" -eq 0 ]; then
	ok "no unexpected ALLOW in $cells cells"
else
	mismatch "unexpected ALLOW: $n_allow of $cells cells" "${unexpected_allow[@]}"
fi
if [ "$n_deny" -eq 0 ]; then
	ok "no unexpected deny in $cells cells"
else
	mismatch "unexpected deny: $n_deny of $cells cells" "${unexpected_deny[@]}"
fi
check "explain answered every cell (failed: ${failed_cells[*]:-none})" test ${#failed_cells[@]} -eq 0

# ---- the deciding statement, for some cells ----

# decided_by WHO VERB TARGET POLICY LINE [OPTIONS...]: explain names that
# statement (POLICY "-" means no statement decided: default deny).
decided_by() {
	local who=$1 verb=$2 target=$3 policy=$4 line=$5
	shift 5
	explain "$who" "$target" "$verb" "$@"
	local got
	got=$(statement_of "$JSON")
	local want="$policy${line:+ $line}"
	[ "$policy" = - ] && want=-
	if [ "$got" = "$want" ]; then
		ok "$who $verb $target: decided by ${want/ / line }"
	else
		mismatch "$who $verb $target: decided by ${want/ / line }" "got: $got" "reason: $(reason_of "$JSON")"
	fi
}
decided_by alice manage datasets:onc-genome clinical-ops 6 # Deny (unknown tag) over CL4
decided_by alice manage datasets:onc-scans clinical-ops 4
decided_by alice read compartments:oncology clinical-ops 8
decided_by alice inspect workspace tenancy-base 2 # lines 2 and 3 both apply: the first decides
decided_by alice use keys:alice tenancy-base 6 --region us-east
decided_by bob read principals:w1 tenancy-base 11 # Deny over TB10
decided_by bob manage datasets:fin-ledger finance-guard 2
decided_by bob use keys:bob tenancy-base 4
decided_by w1 read datasets:onc-scans tenancy-base 7
decided_by w1 use keys:alice tenancy-base 6
decided_by w1 read audit-events tenancy-base 9
decided_by carol read datasets:onc-scans - ""
decided_by w1 read datasets:fin-ledger - ""

# The targets are where the table says they are.
path_of() {
	explain "$1" "$2" inspect
	awk '/^  "compartment_path": \[/ { on = 1; next }
		on && /^  \]/ { exit }
		on { gsub(/[ ",]/, ""); path = path (path == "" ? "" : " > ") $0 }
		END { print path }' "$JSON"
}
check "onc-scans is in tenancy > clinical > oncology" test "$(path_of carol datasets:onc-scans)" = \
	"tenancy > clinical > oncology"
check "key bob is in tenancy > finance" test "$(path_of carol keys:bob)" = "tenancy > finance"
check "compartment oncology lives in tenancy > clinical" test "$(path_of carol compartments:oncology)" = \
	"tenancy > clinical"
check "policy clinical-ops lives in tenancy > clinical" test "$(path_of carol policies:clinical-ops)" = \
	"tenancy > clinical"
check "a bare type is in tenancy" test "$(path_of carol models)" = "tenancy"

# ---- the enforcement point agrees ----

token_of() { veil token issue "$1" --expires 1d && out; }
declare -A TOKEN
for p in "${PRINCIPALS[@]}"; do TOKEN[$p]=$(token_of "$p"); done
check "each principal has a token" test "${#TOKEN[alice]}" -eq 118 -a "${#TOKEN[bob]}" -eq 118 \
	-a "${#TOKEN[carol]}" -eq 118 -a "${#TOKEN[w1]}" -eq 118

# table_says A|- WHO NEEDS...: the main table allows every need ("verb
# target") of a command (A), or denies at least one (-). Only the main
# table is used, at any hour: the statements that decide these cells have
# no time condition, and the real commands run now.
table_says() {
	local want=$1 who=$2 need verb target line i got=A
	shift 2
	for need in "$@"; do
		verb=${need%% *} target=${need#* }
		line=$(awk -v w="$who" -v t="$target" '$1 == w && $2 == t { print $3 }' <<<"$EXPECTED")
		for i in 0 1 2 3; do [ "${VERBS[$i]}" = "$verb" ] && break; done
		[ "${line:$i:1}" = A ] || got=-
	done
	local desc needs
	needs=$(printf ', %s' "$@")
	desc="the table says $who may$([ "$want" = A ] || echo " not") ${needs#, }"
	if [ "$got" = "$want" ]; then ok "$desc"; else mismatch "$desc"; fi
}
# as WHO ARGS...: runs veil as WHO.
as() {
	local who=$1
	shift
	VEIL_TOKEN=${TOKEN[$who]} veil "$@"
}

# data download needs manage datasets and use keys (veil policy operations).
dl_allowed() {
	local who=$1 ds=$2 key=$3 src=$4
	local f="$T/dl.$who.$ds"
	table_says A "$who" "manage datasets:$ds" "use keys:$key"
	as "$who" data download "$ds" -o "$f"
	expect_rc "$who: data download $ds succeeds" 0
	check "$who: the download of $ds is the uploaded file" cmp -s "$f" "$src"
}
dl_denied() {
	local who=$1 ds=$2 key=$3 why=$4
	local f="$T/dl.$who.$ds"
	table_says - "$who" "manage datasets:$ds" "use keys:$key"
	as "$who" data download "$ds" -o "$f"
	expect_fail "$who: data download $ds is refused" "$E_DENIED" "$why"
	check "$who: a refused download of $ds leaves no file" test ! -e "$f"
}
dl_allowed alice onc-scans alice "$T/scans"
dl_denied alice onc-genome alice "denied by policy 'clinical-ops' v1 line 6"
dl_denied w1 onc-scans alice "may not (manage datasets onc-scans|use keys alice)"
dl_denied carol onc-scans alice "may not (manage datasets onc-scans|use keys alice)"
dl_denied bob fin-ledger bob "denied by policy 'finance-guard' v1 line 2"

# The refusal of alice's download is an audit event naming the statement
# explain names.
veil audit log
check "the audit log records alice's refused download with clinical-ops line 6" \
	sh -c "grep -E ' alice +access.decide +denied +datasets:onc-genome ' '$T/out' |
		grep -q '\"operation\":\"data download\".*\"statement\":{\"line\":6,\"policy\":\"clinical-ops\"'"

# reads: data inspect (read datasets), audit log (read audit-events),
# policy show (read policies), key rotate (manage keys).
table_says A w1 "read datasets:onc-scans"
as w1 data inspect onc-scans
check "w1: data inspect onc-scans succeeds (exit $RC)" sh -c "[ $RC -eq 0 ] && grep -q onc-scans '$T/out'"
table_says - carol "read datasets:onc-scans"
as carol data inspect onc-scans
expect_fail "carol: data inspect onc-scans is refused" "$E_DENIED" "may not read datasets onc-scans"

table_says A w1 "read audit-events"
as w1 audit log
check "w1: audit log succeeds (exit $RC)" sh -c "[ $RC -eq 0 ] && grep -q access.decide '$T/out'"
table_says - alice "read audit-events"
as alice audit log
expect_fail "alice: audit log is refused" "$E_DENIED" "may not read audit-events"

table_says A alice "read policies:clinical-ops"
as alice policy show clinical-ops
check "alice: policy show clinical-ops prints it (exit $RC)" sh -c "[ $RC -eq 0 ] && cmp -s '$T/out' '$T/clinical-ops.policy'"
table_says - carol "read policies:clinical-ops"
as carol policy show clinical-ops
expect_fail "carol: policy show clinical-ops is refused" "$E_DENIED" "may not read policies clinical-ops"

table_says - alice "manage keys:alice"
as alice key rotate alice
expect_fail "alice: key rotate alice is refused" "$E_DENIED" "may not manage keys alice"
as alice key status
expect_rc "alice: key status (inspect keys) still runs" 0

finish
