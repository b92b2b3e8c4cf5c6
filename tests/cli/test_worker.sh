#!/usr/bin/env bash
# The trusted worker and attestation-gated key release (issue 4), driven as
# users would drive it: `veil data verify` gets a dataset's key into the
# worker only after its evidence passes the key's release policy; `veil
# attest measure` names the worker to allow; each policy clause refuses on
# its own; a changed worker binary or a tampered object gets nowhere;
# evidence from the worker and real SEV-SNP reports verify offline with
# `veil attest verify` and `veil attest policy check`; bad input of every
# kind is refused cleanly; a lying worker (replayed, foreign or mistyped
# evidence, keys its job does not need) gets nothing; and the worker itself
# ends a session of malformed frames with an error, never a crash. Every
# release and refusal is checked in the audit log.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

# The worker and TEE are chosen by these: nothing from the caller's
# environment may leak in (a test sets them per command).
unset VEIL_WORKER VEIL_TEE VEIL_TSM_ROOT
# The interpreter itself, not a version manager's shim (see test_access.sh).
PY=$(python3 -c 'import sys; print(sys.executable)')
VEC=$SRC/../shared/vectors/sev-snp
HEX96='^[0-9a-f]{96}$'
E_LIMIT=24 E_UNSUPPORTED=21 # docs/cli.md
OTHER_MEAS=$(printf 'ab%.0s' {1..48}) # a measurement no worker has

# ---- the audit trail: what each step added to it (as in test_access.sh) ----
# audit_check DESC PYTHON [ARGS...]: reads the log, keeps the events written
# since the previous call as `ev` and checks PYTHON's asserts.
MARK=0 PREV_MARK=0
audit_check() {
	local desc=$1 code=$2
	shift 2
	"$VEIL_BIN" audit log --json >"$T/all.json" 2>"$T/ev.err" || echo '[]' >"$T/all.json"
	check "$desc" "$PY" -S -c "
import json,re,sys
ev=[e for e in json.load(open('$T/all.json')) if e['index']>=$MARK]
open('$T/mark','w').write(str(max([e['index']+1 for e in ev], default=$MARK)))
def show(): return [(e['action'], e['outcome'], e['resource'], (e.get('detail') or {}).get('failed'),
                     (e.get('detail') or {}).get('reason')) for e in ev if e['action']!='access.decide']
def one(action):
    m=[e for e in ev if e['action']==action]
    assert len(m)==1, (action, show())
    return m[0]
$code" "$@"
	PREV_MARK=$MARK
	MARK=$(cat "$T/mark")
}
# audit_again DESC PYTHON [ARGS...]: audit_check of the same events again.
audit_again() {
	MARK=$PREV_MARK
	audit_check "$@"
}
# new_ev: moves the mark to the end of the log.
new_ev() {
	"$VEIL_BIN" audit log --json >"$T/all.json" 2>/dev/null || echo '[]' >"$T/all.json"
	MARK=$("$PY" -S -c "import json; print(max([e['index']+1 for e in json.load(open('$T/all.json'))], default=0))")
}
# release_event DESC OUTCOME CLAUSES SCOPE: the last command left exactly
# one key.release event, with OUTCOME (ok, denied), failed clauses CLAUSES
# (space-separated, in order; "" for none) judged by the policy of SCOPE
# ("" for none), for the dataset key $DEK; and one data.verify event, ok
# after a release and failed after a refusal, after it.
release_event() {
	audit_check "$1" "
outcome, clauses, scope, dek = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4]
r=one('key.release'); d=r['detail']
assert r['outcome']==outcome and r['resource']==dek and d['keys']==[dek], r
assert [f['clause'] for f in d['failed']]==clauses, d['failed']
assert all(f['key']==dek and f['reason'] for f in d['failed']), d['failed']
assert [p['scope'] for p in d['policies']]==([scope] if scope else []), d['policies']
assert (outcome=='ok')==('reason' not in d), d
v=one('data.verify')
assert v['outcome']==('ok' if outcome=='ok' else 'failed') and v['index']>r['index'], show()" \
		"$2" "$3" "$4" "$DEK"
}
# quietly ARGS...: veil for a set-up step that must work.
quietly() {
	"$VEIL_BIN" "$@" >/dev/null 2>"$T/qerr" || not_ok "set-up: veil $*" "$(cat "$T/qerr")"
}
# write_policy FILE TEE-LIST ALLOW-SIMULATED [MORE YAML LINES...]: a release
# policy for the worker that was built ($MEAS), evidence up to 5m old.
write_policy() {
	local f=$1 tee=$2 sim=$3
	shift 3
	{
		echo "version: 1"
		echo "tee: [$tee]"
		echo "allow_simulated: $sim"
		echo "measurements:"
		echo "  - $MEAS"
		echo "max_age: 5m"
		local l
		for l in "$@"; do echo "$l"; done
	} >"$f"
}
# try_policy NAME TEE-LIST ALLOW-SIMULATED [LINES...]: sets that policy on
# the tenancy and runs `veil data verify D`.
try_policy() {
	local name=$1
	shift
	write_policy "$T/$name.yaml" "$@"
	quietly attest policy set "$T/$name.yaml"
	veil data verify D
}
json_field() { "$PY" -S -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$T/out" "$1"; }

new_ws "$T/ws" || exit 1
export VEIL_WORKSPACE="$T/ws"
rand_file "$T/d.bin" 5000
quietly data upload "$T/d.bin" --name D --owner alice
veil data inspect D --json
DEK=$(json_field dek_id)
D_SHA=$(sha256sum "$T/d.bin" | cut -d' ' -f1)
new_ev

# ==== 1. no release policy: nothing is released ====
veil data verify D
expect_fail "data verify with no release policy is refused" "$E_DENIED" "no key-release policy covers key alice"
check "... and says how to set one" err_has "veil attest policy set"
check "... warning that the TEE is simulated" err_has "warning: using the simulated TEE"
check "... printing nothing on stdout" test ! -s "$T/out"
release_event "audited: key.release denied with no policy, then data.verify failed" denied "" ""
audit_again "... the refusal names the missing policy" "
d=one('key.release')['detail']
assert 'no key-release policy covers key alice' in d['reason'] and d['tee']=='sim' and d['simulated'] is True, d
assert one('data.verify')['detail']['result']=='denied', show()"
veil data verify D --json
expect_rc "data verify --json is refused the same way" "$E_DENIED"
veil attest policy show
expect_fail "policy show: no policy yet" "$E_NOTFOUND" "no release policy"
check "... with a hint to set one" err_has "veil attest policy set FILE --compartment tenancy"
printf 'version: 1\nmax_age: 5m\ntee: [sim\n' >"$T/broken.yaml" # an unclosed list
veil attest policy set "$T/broken.yaml"
expect_fail "an invalid YAML policy is refused with its place" "$E_INVALID" "broken.yaml: line 4, column 1"
veil attest policy show
expect_fail "... and nothing was stored" "$E_NOTFOUND" "no release policy"
audit_check "... nor audited as set" "assert not [e for e in ev if e['action']=='release-policy.set'], show()"

# ==== 2. the measurement ====
veil attest measure
expect_rc "attest measure" 0
MEAS=$(out)
check "it prints 96 hex digits, one line" sh -c "grep -qE '$HEX96' '$T/out' && [ \$(wc -l <'$T/out') -eq 1 ]"
check "... and stderr shows how to allow it" err_has "measurements:"
veil attest measure --json
WORKER=$(json_field worker)
check "--json has the same measurement, sha384" "$PY" -S -c "
import json; d=json.load(open('$T/out'))
assert d['measurement']=='$MEAS' and d['algorithm']=='sha384', d"
check "the worker measured is the one beside veil (or in the build tree)" sh -c "
[ '$WORKER' -ef '$(dirname "$VEIL_BIN")/veil-worker' ] || [ '$WORKER' -ef '$(dirname "$VEIL_BIN")/../worker/veil-worker' ]"
check "veil-worker measure agrees" test "$("$WORKER" measure)" = "$MEAS"
check "it is the SHA-384 of the worker binary" test "$(sha384sum <"$WORKER" | cut -d' ' -f1)" = "$MEAS"
cp "$WORKER" "$T/worker2"
printf 'x' >>"$T/worker2"
veil attest measure --worker "$T/worker2"
MEAS2=$(out)
check "a worker binary with one byte appended measures differently" sh -c "grep -qE '$HEX96' '$T/out' && [ '$MEAS2' != '$MEAS' ]"
check "... as that worker measures itself" test "$("$T/worker2" measure)" = "$MEAS2"
veil attest measure --worker "$T/no-such-worker"
expect_rc "measuring a missing file is not-found" "$E_NOTFOUND"

# ==== 3. a tenancy policy allowing the built worker in the simulated TEE ====
write_policy "$T/allow.yaml" sim true
veil attest policy set "$T/allow.yaml"
expect_rc "attest policy set" 0
check "... says version 1" err_has "compartment:tenancy: version 1"
audit_check "audited: release-policy.set version 1 on the tenancy" "
e=one('release-policy.set'); import hashlib
assert e['outcome']=='ok' and e['resource']=='compartment:tenancy' and e['detail']['version']==1, e
assert e['detail']['sha256']==hashlib.sha256(open('$T/allow.yaml','rb').read()).hexdigest(), e"
veil attest policy show
check "policy show prints it back" cmp -s "$T/out" "$T/allow.yaml"
veil attest policy show --json
check "policy show --json: version 1, scope, text, who set it" "$PY" -S -c "
import json; d=json.load(open('$T/out'))
assert d['version']==1 and d['scope']=='compartment:tenancy' and d['compartment']=='tenancy', d
assert d['text']==open('$T/allow.yaml').read() and d['applied_by']=='admin', d"
veil attest policy set "$T/allow.yaml"
expect_rc "setting the same policy again succeeds" 0
check "... and says unchanged (version 1)" err_has "unchanged \(version 1\)"
audit_check "... with no new release-policy.set event" "assert not [e for e in ev if e['action']=='release-policy.set'], show()"

veil data verify D
expect_rc "data verify with the policy succeeds" 0
check "it prints the size and the uploaded file's SHA-256" out_has "^D@1: 5000 bytes, SHA-256 $D_SHA, verified inside the trusted worker$"
check "stderr warns that the TEE is simulated" err_has "warning: using the simulated TEE"
release_event "audited: key.release ok by the tenancy policy, then data.verify ok" ok "" compartment:tenancy
audit_again "... the release records measurement, tee sim, simulated, key and policy version" "
r=one('key.release'); d=r['detail']
assert d['measurement']=='$MEAS' and d['tee']=='sim' and d['simulated'] is True, d
assert d['policies']==[{'key':'$DEK','scope':'compartment:tenancy','version':1}], d
v=one('data.verify')
assert v['resource']=='D@1' and v['detail']['dek_id']=='$DEK' and v['detail']['measurement']=='$MEAS', v"
veil data verify D --json
check "data verify --json" "$PY" -S -c "
import json; d=json.load(open('$T/out'))
assert d=={'dataset':'D@1','size':5000,'sha256':'$D_SHA','verified':True}, d"
new_ev
veil data verify D@1
expect_rc "data verify of an explicit version" 0
veil data verify nothing
expect_rc "data verify of a missing dataset is not-found" "$E_NOTFOUND"
veil data verify
expect_rc "data verify needs a dataset" "$E_USAGE"
new_ev

# ==== 4. a different worker binary gets no key ====
VEIL_WORKER="$T/worker2" veil data verify D
expect_fail "a changed worker binary is refused" "$E_DENIED" "measurement $MEAS2 is not in the allowlist"
check "... stdout is empty" test ! -s "$T/out"
release_event "audited: key.release denied for clause measurement" denied measurement compartment:tenancy
audit_again "... recording the changed worker's measurement" "
r=one('key.release')
assert r['detail']['measurement']=='$MEAS2' and '$MEAS2' in r['detail']['failed'][0]['reason'], r"

# ==== 5. each policy clause refuses on its own ====
try_policy nosim sim false
expect_fail "allow_simulated: false refuses the simulated TEE" "$E_DENIED" "simulated evidence is not allowed"
release_event "audited: clause simulated" denied simulated compartment:tenancy
try_policy snponly sev-snp true
expect_fail "tee: [sev-snp] refuses sim evidence" "$E_DENIED" "TEE type sim is not allowed"
release_event "audited: clause tee" denied tee compartment:tenancy
try_policy both sev-snp false
expect_rc "two clauses failing at once refuse" "$E_DENIED"
check "... and the message gives both reasons" sh -c "grep -q 'TEE type sim' '$T/err' && grep -q 'simulated evidence' '$T/err'"
release_event "audited: every failed clause, in order (tee, simulated)" denied "tee simulated" compartment:tenancy
try_policy tcb9 sim true "min_tcb: {snp: 9}"
expect_fail "min_tcb snp 9 refuses the simulated TCB (snp 8)" "$E_DENIED" "tcb.snp is 8, the policy needs at least 9"
release_event "audited: clause tcb.snp" denied tcb.snp compartment:tenancy
try_policy tcb8 sim true "min_tcb: {bootloader: 3, tee: 0, snp: 8, microcode: 115}"
expect_rc "min_tcb at exactly the simulated TCB passes" 0
release_event "audited: released" ok "" compartment:tenancy
try_policy tcbfmc sim true "min_tcb: {fmc: 0}"
expect_rc "a TCB component the evidence lacks (fmc) fails closed" "$E_DENIED"
release_event "audited: clause tcb.fmc" denied tcb.fmc compartment:tenancy
try_policy elsewhere sim true "region: elsewhere"
expect_fail "region: elsewhere refuses a worker of region local" "$E_DENIED" "region local is not elsewhere"
release_event "audited: clause region" denied region compartment:tenancy
try_policy local sim true "region: local" "vmpl: 0" "debug: forbidden"
expect_rc "region local, vmpl 0, debug forbidden pass" 0
release_event "audited: released" ok "" compartment:tenancy
MEAS_UC=$(tr a-f A-F <<<"$MEAS")
printf 'version: 1\ntee: [sim]\nallow_simulated: true\nmeasurements: [%s]\nmax_age: 1h\n' "$MEAS_UC" >"$T/upper.yaml"
quietly attest policy set "$T/upper.yaml"
veil data verify D
expect_rc "a measurement in upper case allows the worker too" 0
release_event "audited: released" ok "" compartment:tenancy
try_policy vmpl1 sim true "vmpl: 1"
expect_fail "vmpl: 1 refuses a VMPL 0 report" "$E_DENIED" "vmpl is 0, the policy needs 1"
release_event "audited: clause vmpl" denied vmpl compartment:tenancy

# The worker's region is the workspace's (local unless init --region).
new_ws "$T/wsr" --region eu-west || exit 1
VEIL_WORKSPACE="$T/wsr" quietly data upload "$T/d.bin" --name D --owner alice
write_policy "$T/eu.yaml" sim true "region: eu-west"
VEIL_WORKSPACE="$T/wsr" quietly attest policy set "$T/eu.yaml"
VEIL_WORKSPACE="$T/wsr" veil data verify D
expect_rc "region: eu-west releases to a worker of an eu-west workspace" 0
VEIL_WORKSPACE="$T/wsr" quietly attest policy set "$T/local.yaml"
VEIL_WORKSPACE="$T/wsr" veil data verify D
expect_fail "... and region: local does not" "$E_DENIED" "region eu-west is not local"
use_ws "$T/ws"

# a key's policy overrides its compartment's, both ways
write_policy "$T/refuse.yaml" sim false
write_policy "$T/allow2.yaml" sim true "region: local" # differs from the tenancy's text
quietly attest policy set "$T/allow.yaml"
veil attest policy set "$T/refuse.yaml" --key alice
expect_rc "policy set --key" 0
check "... names the key's scope" err_has "key:alice: version 1"
veil attest policy show --key alice
check "policy show --key prints it" cmp -s "$T/out" "$T/refuse.yaml"
new_ev
veil data verify D
expect_fail "a refusing key policy over an allowing tenancy one refuses" "$E_DENIED" "release policy key:alice version 1"
release_event "audited: judged by key:alice, clause simulated" denied simulated key:alice
quietly attest policy set "$T/refuse.yaml"
quietly attest policy set "$T/allow2.yaml" --key alice
veil data verify D
expect_rc "an allowing key policy over a refusing tenancy one allows" 0
release_event "audited: released by key:alice version 2" ok "" key:alice
audit_again "... whose version is 2" "
assert one('key.release')['detail']['policies'][0]['version']==2, show()"
veil attest policy show --key alice --version 1
check "policy show --version 1 gives the first text" cmp -s "$T/out" "$T/refuse.yaml"

# a compartment's policy covers keys below it, the nearest one winning
quietly compartment create clinical
quietly compartment create oncology --parent clinical
quietly key create bob --compartment oncology
quietly data upload "$T/d.bin" --name C --owner bob --compartment oncology
quietly attest policy set "$T/allow.yaml" --compartment clinical
new_ev
veil data inspect C --json
DEK_TENANCY=$DEK
DEK=$(json_field dek_id)
veil data verify C
expect_rc "a parent compartment's policy releases a key below it (tenancy refuses)" 0
release_event "audited: judged by compartment:clinical" ok "" compartment:clinical
quietly attest policy set "$T/refuse.yaml" --compartment oncology
veil data verify C
expect_rc "the nearer compartment's refusing policy wins" "$E_DENIED"
release_event "audited: judged by compartment:oncology" denied simulated compartment:oncology
DEK=$DEK_TENANCY

# ==== 6. a tampered object ====
rand_file "$T/t.bin" 100000
quietly data upload "$T/t.bin" --name Tm --owner alice
veil data inspect Tm --json
OBJ=$(json_field object_id)
DEK=$(json_field dek_id)
OBJ_FILE="$T/ws/objects/${OBJ:0:2}/${OBJ:2}"
check "the object is stored where docs/formats/store.md says" test -f "$OBJ_FILE"
new_ev
veil data verify Tm
expect_rc "before tampering the object verifies" 0
new_ev
cp "$OBJ_FILE" "$T/obj.bak"
SIZE=$(stat -c %s "$OBJ_FILE")
BYTE=$(od -An -tu1 -j $((SIZE / 2)) -N1 "$OBJ_FILE" | tr -d ' ')
# shellcheck disable=SC2059 # the format is the byte to write
printf "\\$(printf '%03o' $((BYTE ^ 1)))" | dd of="$OBJ_FILE" bs=1 seek=$((SIZE / 2)) conv=notrunc 2>/dev/null
check "one byte in the middle of the object changed" sh -c "[ \$(cmp -l '$T/obj.bak' '$OBJ_FILE' | wc -l) -eq 1 ]"
veil data verify Tm
expect_fail "data verify of a tampered object fails as corrupt" "$E_CORRUPT" "does not match its address|modified|tampered"
check "... and says to restore it" err_has "restore"
check "... once, with no protocol complaint from the worker" sh -c "
[ \$(grep -c 'does not match its address' '$T/err') -eq 1 ] && ! grep -q 'veil-worker' '$T/err'"
check "... stdout is empty" test ! -s "$T/out"
audit_check "audited: data.verify failed, corrupt" "
v=one('data.verify')
assert v['outcome']=='failed' and v['resource']=='Tm@1' and v['detail']['result']=='corrupt', v"
cp "$T/obj.bak" "$OBJ_FILE"
veil data verify Tm
expect_rc "with the object restored it verifies again" 0
DEK=$DEK_TENANCY
new_ev

# ==== 7. evidence from the worker, verified offline ====
SIMC="$T/ws/attest/sim"
veil attest evidence -o "$T/ev.bin"
expect_rc "attest evidence -o" 0
check "... writes a 1184-byte report" test "$(stat -c %s "$T/ev.bin")" -eq 1184
check "... prints tee sim and the measurement" sh -c "grep -qE '^tee +sim$' '$T/out' && grep -qE '^measurement +$MEAS$' '$T/out'"
check "... and warns that the TEE is simulated" err_has "warning: using the simulated TEE"
veil attest verify "$T/ev.bin" --tee sim --certs "$SIMC"
expect_rc "attest verify of it with the workspace's simulated chain" 0
check "... prints tee sim, simulated yes, the measurement" sh -c "
grep -qE '^tee +sim$' '$T/out' && grep -qE '^simulated +yes$' '$T/out' &&
grep -qE '^measurement +$MEAS$' '$T/out' && grep -qE '^verified +yes$' '$T/out'"
check "... and the TCB, VMPL and debug of a simulated report" sh -c "
grep -qE '^(tcb\.)?snp +8$' '$T/out' && grep -qE '^vmpl +0$' '$T/out' && grep -qE '^debug +off$' '$T/out'"
check "... warning that the simulated root proves nothing" err_has "simulated TEE's root"
veil attest verify "$T/ev.bin" --tee sim --certs "$SIMC" --json
check "attest verify --json" "$PY" -S -c "
import json; d=json.load(open('$T/out'))
assert d['tee']=='sim' and d['simulated'] is True and d['measurement']=='$MEAS' and d['debug']=='off', d
assert d['tcb']=={'bootloader':3,'tee':0,'snp':8,'microcode':115} and len(d['report_data'])==128, d"
RD=$(json_field report_data)
veil attest verify "$T/ev.bin" --certs "$SIMC"
expect_fail "as SEV-SNP (no --tee) the simulated chain is not AMD's" "$E_CORRUPT" "not one of the pinned AMD roots"
veil attest verify "$T/ev.bin" --tee sim
expect_fail "simulated evidence needs --certs" "$E_INVALID" "needs --certs DIR"
veil attest verify "$T/ev.bin" --tee bogus
expect_rc "--tee of an unknown kind is a usage error" "$E_USAGE"
veil attest verify "$T/ev.bin" --tee tdx
check "an SNP-format report read as a TDX quote is refused (not 0 or 1)" test "$RC" -gt 1

write_policy "$T/evallow.yaml" sim true
sed "s/$MEAS/$OTHER_MEAS/" "$T/evallow.yaml" >"$T/evother.yaml"
veil attest verify "$T/ev.bin" --tee sim --certs "$SIMC" --policy "$T/evallow.yaml"
expect_rc "attest verify --policy allowing it exits 0" 0
check "... and says the policy allows release" out_has "^policy +allows release$"
veil attest verify "$T/ev.bin" --tee sim --certs "$SIMC" --policy "$T/evother.yaml"
expect_rc "attest verify --policy of another measurement exits 1" "$E_CHECK"
check "... listing the failed clause" out_has "^  failed measurement +measurement $MEAS is not in the allowlist$"
check "... and saying it refuses release" out_has "^policy +refuses release$"
veil attest policy check --policy "$T/evallow.yaml" "$T/ev.bin" --tee sim --certs "$SIMC"
expect_rc "attest policy check allowing exits 0" 0
veil attest policy check --policy "$T/evother.yaml" "$T/ev.bin" --tee sim --certs "$SIMC" --json
expect_rc "attest policy check refusing exits 1" "$E_CHECK"
check "... --json lists the failed clause" "$PY" -S -c "
import json; p=json.load(open('$T/out'))['policy']
assert p['allowed'] is False and [f['clause'] for f in p['failed']]==['measurement'], p"
veil attest policy check "$T/ev.bin" --tee sim --certs "$SIMC"
expect_fail "attest policy check needs --policy" "$E_USAGE" "--policy FILE is required"
veil attest verify "$T/ev.bin" --tee sim --certs "$SIMC" --policy "$T/broken.yaml"
expect_fail "an invalid --policy is refused with its place" "$E_INVALID" "line 4, column 1"

NONCE=$(printf '5a%.0s' {1..32})
veil attest evidence --nonce "$NONCE" -o "$T/ev2.bin"
expect_rc "attest evidence --nonce" 0
check "... shows the nonce" out_has "^nonce +$NONCE$"
veil attest evidence --nonce "$NONCE" -o "$T/ev3.bin" --json
check "... and in --json" "$PY" -S -c "
import json; d=json.load(open('$T/out')); assert d['nonce']=='$NONCE' and d['tee']=='sim', d"
check "the same nonce twice binds a fresh worker key each time (other report data)" sh -c "
! cmp -s '$T/ev2.bin' '$T/ev3.bin' && [ \$(cmp -l '$T/ev2.bin' '$T/ev3.bin' | wc -l) -gt 32 ]"
veil attest evidence --nonce abcd
expect_fail "--nonce of the wrong length is a usage error" "$E_USAGE" "64 hex digits"

cp "$T/ev.bin" "$T/evflip.bin"
flip_byte "$T/evflip.bin" $((0x90)) # in MEASUREMENT
veil attest verify "$T/evflip.bin" --tee sim --certs "$SIMC"
expect_fail "a flipped byte in the measurement fails to verify" "$E_AUTH" "signature"
check "... as a failure, not a policy verdict (not 0 or 1)" test "$RC" -gt 1
veil attest policy check --policy "$T/evallow.yaml" "$T/evflip.bin" --tee sim --certs "$SIMC"
expect_rc "attest policy check of it fails too, not with a verdict" "$E_AUTH"
veil attest verify "$T/ev.bin" --tee sim --certs "$SIMC" --report-data "$(printf '00%.0s' {1..64})"
expect_fail "--report-data of another value is refused" "$E_DENIED" "other report data"
veil attest verify "$T/ev.bin" --tee sim --certs "$SIMC" --report-data "$RD"
expect_rc "--report-data of its own value passes" 0
veil attest verify "$T/ev.bin" --tee sim --certs "$SIMC" --report-data "zz$RD"
expect_fail "--report-data that is not 128 hex digits is refused" "$E_INVALID" "report-data"
veil attest verify "$T/ev.bin" --tee sim --certs "$SIMC" --at yesterday
expect_fail "--at that is not a time is a usage error" "$E_USAGE" "--at"

new_ws "$T/ws2" || exit 1
VEIL_WORKSPACE="$T/ws2" veil attest evidence -o "$T/ev-ws2.bin"
expect_rc "another workspace's worker makes evidence" 0
check "... under its own simulated chain" sh -c "! cmp -s '$T/ws/attest/sim/vcek.der' '$T/ws2/attest/sim/vcek.der'"
veil attest verify "$T/ev.bin" --tee sim --certs "$T/ws2/attest/sim"
expect_fail "evidence does not verify under another workspace's simulated chain" "$E_AUTH" "signature"
use_ws "$T/ws"

# ==== 8. real SEV-SNP evidence ====
# The certificates are valid until 2029-09 (the go-sev-guest VCEK) and 2030-04
# (virtee's); after that these checks verify as of a date inside their
# validity, so that they keep testing the signatures rather than the clock.
AT=()
[ "$(date -u +%Y%m)" -lt 202909 ] || AT=(--at 2028-01-01T00:00:00Z)
mkdir -p "$T/milan" "$T/gsg"
if command -v xxd >/dev/null; then
	xxd -r -p "$VEC/virtee-sev/report_milan.hex" >"$T/milan.bin"
else
	"$PY" -S -c "import sys; sys.stdout.buffer.write(bytes.fromhex(open(sys.argv[1]).read()))" \
		"$VEC/virtee-sev/report_milan.hex" >"$T/milan.bin"
fi
cp "$VEC/virtee-sev/vcek_milan.der" "$T/milan/vcek.der"
cp "$VEC/virtee-sev/cert_chain_milan" "$T/milan/chain.pem"
cp "$VEC/go-sev-guest/vcek.testcer" "$T/gsg/vcek.der"
cp "$VEC/go-sev-guest/milan.testcer" "$T/gsg/chain.pem"
MILAN_MEAS=7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f
GSG_MEAS=b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01

check "the virtee Milan report is 1184 bytes" test "$(stat -c %s "$T/milan.bin")" -eq 1184
veil attest verify "$T/milan.bin" --certs "$T/milan" "${AT[@]}"
expect_rc "the virtee Milan report verifies with its VCEK and chain" 0
check "... tee sev-snp, simulated no, debug off, its measurement" sh -c "
grep -qE '^tee +sev-snp$' '$T/out' && grep -qE '^simulated +no$' '$T/out' &&
grep -qE '^debug +off$' '$T/out' && grep -qE '^measurement +$MILAN_MEAS$' '$T/out'"
check "... its reported TCB" sh -c "grep -qE '^(tcb\.)?snp +8$' '$T/out' && grep -qE '^(tcb\.)?microcode +115$' '$T/out'"
check "... and no warning about a simulated TEE" sh -c "! grep -qi simulated '$T/err'"
veil attest verify "$T/milan.bin" --tee sev-snp --certs "$T/milan" --json "${AT[@]}"
check "--json: sev-snp, not simulated, debug off, vmpl 0" "$PY" -S -c "
import json; d=json.load(open('$T/out'))
assert d['tee']=='sev-snp' and d['simulated'] is False and d['debug']=='off' and d['vmpl']==0, d"
# The example policy of docs/formats/release-policy.md is the Milan report's.
cat >"$T/example.yaml" <<EOF
version: 1
tee: [sev-snp, tdx]
measurements:
  - $MILAN_MEAS
debug: forbidden
vmpl: 0
min_tcb: {bootloader: 3, tee: 0, snp: 8, microcode: 115}
max_age: 5m
region: eu-west
allow_simulated: false
EOF
veil attest policy check --policy "$T/example.yaml" "$T/milan.bin" --certs "$T/milan" --region eu-west "${AT[@]}"
expect_rc "the documented example policy allows the Milan report" 0
veil attest policy check --policy "$T/example.yaml" "$T/milan.bin" --certs "$T/milan" "${AT[@]}"
expect_rc "... but not without a known region" "$E_CHECK"
check "... naming the clause region" out_has "^  failed region "
sed 's/microcode: 115/microcode: 116/' "$T/example.yaml" >"$T/example116.yaml"
veil attest policy check --policy "$T/example116.yaml" "$T/milan.bin" --certs "$T/milan" --region eu-west "${AT[@]}"
expect_rc "min_tcb microcode 116 refuses it" "$E_CHECK"
check "... naming tcb.microcode" out_has "^  failed tcb.microcode +tcb.microcode is 115, the policy needs at least 116$"
cp "$T/milan.bin" "$T/milanflip.bin"
printf '\x00' | dd of="$T/milanflip.bin" bs=1 seek=$((0x90)) conv=notrunc 2>/dev/null
veil attest verify "$T/milanflip.bin" --certs "$T/milan" "${AT[@]}"
expect_fail "the Milan report with its measurement changed fails" "$E_AUTH" "signature"
veil attest verify "$T/milan.bin" --certs "$T/gsg" "${AT[@]}"
expect_fail "the Milan report with another chip's VCEK fails" "$E_AUTH" "signature"
veil attest verify "$T/milan.bin" --certs "$T/milan" --at 2031-01-01T00:00:00Z
expect_fail "verified after its VCEK expired it fails" "$E_CORRUPT" "expired"
veil attest verify "$T/milan.bin"
expect_fail "without --certs: a clear error naming the VCEK" "$E_INVALID" "needs its VCEK: --certs DIR with vcek.der"
veil attest verify "$T/milan.bin" --certs "$T/empty-dir-that-is-not-there"
expect_rc "--certs of a missing folder finds no VCEK" "$E_INVALID"

veil attest verify "$VEC/go-sev-guest/attestation.bin" --certs "$T/gsg" "${AT[@]}"
expect_rc "the go-sev-guest report verifies with its VCEK and chain" 0
check "... tee sev-snp, simulated no, debug on, its measurement" sh -c "
grep -qE '^tee +sev-snp$' '$T/out' && grep -qE '^simulated +no$' '$T/out' &&
grep -qE '^debug +on$' '$T/out' && grep -qE '^measurement +$GSG_MEAS$' '$T/out'"
cat >"$T/nodebug.yaml" <<EOF
version: 1
tee: [sev-snp]
measurements: [$GSG_MEAS]
debug: forbidden
max_age: 5m
EOF
veil attest policy check --policy "$T/nodebug.yaml" "$VEC/go-sev-guest/attestation.bin" --certs "$T/gsg" "${AT[@]}"
expect_rc "a debug: forbidden policy refuses it: exit 1" "$E_CHECK"
check "... naming the clause debug" out_has "^  failed debug +debug is enabled, the policy forbids it$"
check "... and only that clause" sh -c "[ \$(grep -c '^  failed ' '$T/out') -eq 1 ]"
sed 's/debug: forbidden/debug: allowed/' "$T/nodebug.yaml" >"$T/debugok.yaml"
veil attest policy check --policy "$T/debugok.yaml" "$VEC/go-sev-guest/attestation.bin" --certs "$T/gsg" "${AT[@]}"
expect_rc "debug: allowed lets it through" 0

# ==== 9. bad input ====
head -c 600 "$T/ev.bin" >"$T/trunc.bin"
: >"$T/empty.bin"
veil attest verify "$T/trunc.bin" --tee sim --certs "$SIMC"
expect_fail "a truncated report is refused with its length" "$E_INVALID" "600 bytes, expected exactly 1184"
veil attest verify "$T/trunc.bin" --certs "$T/milan"
expect_fail "... and, untyped, is not recognised" "$E_UNSUPPORTED" "not evidence veil recognises"
veil attest verify "$T/empty.bin" --tee sev-snp --certs "$T/milan"
expect_fail "an empty file is refused" "$E_INVALID" "no evidence"
veil attest verify "$T/empty.bin"
expect_fail "... and, untyped, is not recognised" "$E_UNSUPPORTED" "0 bytes"
veil attest verify "$T/missing.bin" --certs "$T/milan"
expect_fail "a missing file is not-found" "$E_NOTFOUND" "missing.bin"
head -c 2000 /dev/zero >"$T/long.bin"
veil attest verify "$T/long.bin" --tee sev-snp --certs "$T/milan"
expect_fail "a report too long is refused with its length" "$E_INVALID" "2000 bytes, expected exactly 1184"
head -c 100000 /dev/zero >"$T/big.bin"
veil attest verify "$T/big.bin" --tee sev-snp --certs "$T/milan"
expect_fail "an oversized file is refused before it is read in full" "$E_LIMIT" "65536-byte limit"
veil attest verify "$T" --tee sim --certs "$SIMC"
expect_rc "a folder is not evidence" "$E_IO"

veil attest policy show --json
V_BEFORE=$(json_field version)
printf 'version: 1\ntee: [sim]\nmeasurements: [%s]\n' "$MEAS" >"$T/nomaxage.yaml"
veil attest policy set "$T/nomaxage.yaml"
expect_fail "a policy without max_age is refused" "$E_INVALID" "max_age"
veil attest policy set "$T/broken.yaml"
expect_fail "an invalid YAML policy is refused" "$E_INVALID" "line 4, column 1"
sed 's/^version: 1/version: 2/' "$T/allow.yaml" >"$T/v2.yaml"
veil attest policy set "$T/v2.yaml"
expect_fail "a policy of version 2 is unsupported" "$E_UNSUPPORTED" "version"
veil attest policy set "$T/no-such.yaml"
expect_rc "policy set of a missing file is not-found" "$E_NOTFOUND"
veil attest policy show --json
check "... and none of them was stored: the version is unchanged" test "$(json_field version)" = "$V_BEFORE"
# (The brief said exit 14; not-found is 15 per docs/cli.md: 14 is no-space.)
veil attest policy set "$T/allow.yaml" --key nokey
expect_fail "policy set --key of a key that does not exist is not-found" "$E_NOTFOUND" "no KEK named 'nokey'"
veil attest policy show --key nokey
expect_fail "policy show --key of it too" "$E_NOTFOUND" "nokey"
veil attest policy show --key bob
expect_fail "policy show --key of a key with none" "$E_NOTFOUND" "no release policy named key:bob"
veil attest policy set "$T/allow.yaml" --key alice --compartment clinical
expect_rc "--key and --compartment together are a usage error" "$E_USAGE"
veil attest policy set "$T/allow.yaml" --compartment nowhere
expect_fail "policy set --compartment of one that does not exist is not-found" "$E_NOTFOUND" "no compartment named 'nowhere'"
veil attest policy show --version 0
expect_fail "policy show --version 0 is a usage error" "$E_USAGE" "from 1"

quietly attest policy set "$T/allow.yaml"
quietly attest policy set "$T/allow.yaml" --key alice
new_ev
VEIL_TEE=bogus veil data verify D
expect_fail "VEIL_TEE=bogus is refused" "$E_INVALID" "VEIL_TEE is 'bogus'"
check "... with a hint naming the TEEs" err_has "sim, sev-snp or tdx"
audit_check "... no key.release, data.verify failed as invalid" "
assert not [e for e in ev if e['action']=='key.release'], show()
v=one('data.verify'); assert v['outcome']=='failed' and v['detail']['result']=='invalid', v"
VEIL_TEE=bogus veil attest evidence
expect_rc "... by attest evidence too" "$E_INVALID"
VEIL_WORKER=/bin/true veil data verify D
expect_fail "VEIL_WORKER=/bin/true (not a worker) fails cleanly" "$E_IO" "did not start"
audit_check "... no key was released, and data.verify failed" "
assert not [e for e in ev if e['action']=='key.release' and e['outcome']=='ok'], show()
v=one('data.verify'); assert v['outcome']=='failed' and v['detail']['result']=='io', v"
VEIL_WORKER=/bin/true veil attest evidence
expect_fail "... attest evidence too" "$E_IO" "did not start"
VEIL_WORKER="$T/no-such-worker" veil data verify D
expect_fail "VEIL_WORKER naming nothing is not-found" "$E_NOTFOUND" "not an executable"
# No SEV-SNP here (or none that this test may count on): an empty configfs
# root makes the worker's evidence producer fail; the key stays put.
mkdir -p "$T/tsm"
VEIL_TSM_ROOT="$T/tsm" VEIL_TEE=sev-snp veil data verify D
check "VEIL_TEE=sev-snp with no evidence producer fails (not 0 or 1)" test "$RC" -gt 1
check "... saying why once, as the worker told the host" sh -c "[ \$(grep -c 'configfs-tsm' '$T/err') -eq 1 ]"
audit_check "... the release is refused and audited, no key released" "
r=one('key.release')
assert r['outcome']=='denied' and r['detail']['tee']=='sev-snp' and r['detail']['simulated'] is False, r"
veil data verify D
expect_rc "the workspace's own worker still gets its key" 0

# The simulated chain in attest/sim/ is public and in the untrusted
# workspace folder: another workspace's VCEK planted there must not get a
# key released (the worker's signing key is not the certificate's).
cp -r "$SIMC" "$T/sim.bak"
cp "$T/ws2/attest/sim/vcek.der" "$SIMC/vcek.der"
new_ev
veil data verify D
check "a planted simulated VCEK fails the release (not 0 or 1)" test "$RC" -gt 1
audit_check "... and no key was released" "
assert not [e for e in ev if e['action']=='key.release' and e['outcome']=='ok'], show()
assert one('data.verify')['outcome']=='failed', show()"
cp "$T/sim.bak/vcek.der" "$SIMC/vcek.der"
veil data verify D
expect_rc "with the VCEK restored the release works again" 0
new_ev

# A principal that may not use the dataset gets no worker and no key.
quietly principal create eve
quietly token issue eve --output "$T/eve.tok"
new_ev
VEIL_TOKEN_FILE="$T/eve.tok" veil data verify D
expect_rc "data verify by a principal without access is denied" "$E_DENIED"
audit_check "... by access control, before any key.release" "
assert not [e for e in ev if e['action'] in ('key.release','data.verify')], show()
assert [e for e in ev if e['action']=='access.decide' and e['outcome']=='denied' and e['actor']=='eve'], show()"
VEIL_TOKEN_FILE="$T/eve.tok" veil attest policy set "$T/allow2.yaml"
expect_rc "attest policy set by her is denied" "$E_DENIED"
VEIL_TOKEN_FILE="$T/eve.tok" veil attest evidence
expect_rc "attest evidence by her is denied" "$E_DENIED"

# The first uses of a workspace's simulated TEE, several at once, make one
# chain that all their evidence verifies under.
new_ws "$T/ws3" || exit 1
for i in 1 2 3 4; do
	VEIL_WORKSPACE="$T/ws3" "$VEIL_BIN" attest evidence -o "$T/par$i.bin" >/dev/null 2>"$T/par$i.err" &
done
wait
for i in 1 2 3 4; do
	veil attest verify "$T/par$i.bin" --tee sim --certs "$T/ws3/attest/sim"
	expect_rc "concurrent first use $i: its evidence verifies under the one chain" 0
done
VEIL_WORKSPACE="$T/ws3" veil audit log --json
check "... which was created once" "$PY" -S -c "
import json; assert [e['action'] for e in json.load(open('$T/out'))].count('attest.sim.create')==1"
use_ws "$T/ws"

for c in "data verify" "attest measure" "attest verify" "attest policy check" "attest policy set" \
	"attest policy show" "attest evidence" "audit log"; do
	# shellcheck disable=SC2086 # the command is a word list by design
	veil $c --help
	check "veil $c --help exits 0 with its usage" sh -c "[ $RC -eq 0 ] && grep -q '^usage: veil $c' '$T/out'"
done
veil attest --help
check "veil attest --help lists the subcommands" sh -c "[ $RC -eq 0 ] && grep -q 'attest policy check' '$T/out'"
veil help attest policy
check "veil help attest policy lists its subcommands" sh -c "[ $RC -eq 0 ] && grep -q 'attest policy set' '$T/out'"
veil attest policy --help
check "veil attest policy --help exits 0 listing its subcommands" sh -c "[ $RC -eq 0 ] && grep -q 'usage: veil attest policy SUBCOMMAND' '$T/out'"
"$WORKER" --help >"$T/out" 2>"$T/err"
RC=$?
check "veil-worker --help exits 0 and says veil starts it" sh -c "[ $RC -eq 0 ] && grep -q 'not meant to be run by hand' '$T/out'"

# ==== 11. a lying worker gets no key ====
# A fake worker (run as $VEIL_WORKER) that follows the protocol but offers
# evidence it did not make, or asks for keys its job does not need; the key
# broker must refuse each before any key leaves, and audit the refusal.
{
	printf '#!%s -S\n' "$PY"
	cat <<'EOF'
import os, struct, sys
fd = int(sys.argv[2])
mode = os.environ['FAKE_MODE']
log = open(os.environ['FAKE_LOG'], 'a')
def rd(n):
    b = b''
    while len(b) < n:
        c = os.read(fd, n - len(b))
        if not c:
            raise EOFError
        b += c
    return b
def recv():
    h = rd(8)
    body = rd(struct.unpack('>I', h[4:8])[0])
    f, i = {}, 0
    while i < len(body):
        tag, n = struct.unpack('>HI', body[i:i + 6])
        f.setdefault(tag, []).append(body[i + 6:i + 6 + n])
        i += 6 + n
    return h[3], f
def send(t, fields):
    body = b''.join(struct.pack('>HI', tag, len(v)) + v for tag, v in fields)
    os.write(fd, b'VW\x02' + bytes([t]) + struct.pack('>I', len(body)) + body)
t, hello = recv()
tee = hello[1][0]
# It claims the allowed measurement: the host must not believe it.
send(2, [(4, b'0.0.0-fake'), (1, tee), (5, bytes.fromhex(os.environ['FAKE_MEAS']))])
t, job = recv()
dek = job[7][0]
ids = {'otherkey': [b'dek-' + b'f' * 32], 'twokeys': [dek, dek]}.get(mode, [dek])
send(4, [(7, i) for i in ids])
t, f = recv()
log.write('after key-request: message %d\n' % t)
if t == 5:
    ev = open(os.environ['FAKE_EVIDENCE'], 'rb').read()
    send(6, [(1, b'sev-snp' if mode == 'wrongtee' else tee), (9, ev), (10, os.urandom(32)), (19, os.urandom(32))])
    t, f = recv()
    log.write('after evidence: message %d\n' % t)
EOF
} >"$T/fakew"
chmod +x "$T/fakew"
veil attest evidence -o "$T/evnow.bin"
expect_rc "fresh evidence of the real worker, for the liar to replay" 0
# fake MODE EVIDENCE CODE PATTERN: `data verify D` with the fake worker in
# MODE offering EVIDENCE is refused with CODE and PATTERN, the worker never
# gets a keys message, and the log has a denied release and no ok one.
fake() {
	local mode=$1 evidence=$2 code=$3 pat=$4
	: >"$T/fake.log"
	new_ev
	FAKE_MODE=$mode FAKE_LOG="$T/fake.log" FAKE_MEAS=$MEAS FAKE_EVIDENCE=$evidence VEIL_WORKER="$T/fakew" \
		veil data verify D
	expect_fail "a lying worker ($mode) is refused" "$code" "$pat"
	check "... and never sent keys" sh -c "grep -q 'message 11' '$T/fake.log' && ! grep -q 'message 7' '$T/fake.log'"
	audit_check "... with a denied key.release and a failed data.verify" "
assert not [e for e in ev if e['action']=='key.release' and e['outcome']=='ok'], show()
r=one('key.release'); assert r['outcome']=='denied' and r['detail']['reason'], r
assert one('data.verify')['outcome']=='failed', show()"
}
fake replay "$T/evnow.bin" "$E_DENIED" "does not bind this challenge's nonce"
fake foreign "$T/ev-ws2.bin" "$E_AUTH" "signature"
fake wrongtee "$T/evnow.bin" "$E_DENIED" "offered sev-snp evidence in a sim session"
fake otherkey "$T/evnow.bin" "$E_DENIED" "asked for key dek-f+, which its job does not need"
fake twokeys "$T/evnow.bin" "$E_DENIED" "asked for"

# ==== 10. the worker on its own: a host that sends garbage ====
"$WORKER" >"$T/out" 2>"$T/err"
RC=$?
check "veil-worker with no arguments prints its usage and exits 2" sh -c "[ $RC -eq 2 ] && grep -q '^usage: veil-worker' '$T/err'"
"$WORKER" --fd 1 >"$T/out" 2>"$T/err"
RC=$?
check "veil-worker --fd 1 (below 3) exits 2" test "$RC" -eq 2
"$WORKER" --fd 3 3<"$T/d.bin" >"$T/out" 2>"$T/err"
RC=$?
check "veil-worker --fd of a file, not a socket, exits 2" sh -c "[ $RC -eq 2 ] && grep -q 'not a connected stream socket' '$T/err'"
"$WORKER" --version >"$T/out" 2>"$T/err"
RC=$?
check "veil-worker --version names the protocol" sh -c "[ $RC -eq 0 ] && grep -q 'worker protocol 2' '$T/out'"

# Frames per docs/formats/worker-protocol.md, sent to a worker on a socket
# pair; each bad one must end the session with an error message whose
# status matches the worker's exit (10 + status), never a crash or a hang.
cat >"$T/drive.py" <<'EOF'
import socket, struct, subprocess, sys
worker = sys.argv[1]
def field(tag, val): return struct.pack('>HI', tag, len(val)) + val
def frame(t, body=b'', ver=2, magic=b'VW', length=None):
    return magic + bytes([ver, t]) + struct.pack('>I', len(body) if length is None else length) + body
# A simulated hello whose key and certificate the worker takes without
# using them (they are checked only when it makes evidence).
HELLO = frame(1, field(1, b'sim') + field(2, b'0' * 32) + field(3, b'k') + field(17, b'c') +
              field(18, struct.pack('>Q', 8 << 48)))
JOB = frame(3, field(6, b'verify') + field(7, b'dek-0123') + field(13, struct.pack('>Q', 5)) + field(14, b'a' * 64))
cases = [
    ('not a frame', b'garbage!', 11),
    ('version 1', frame(1, ver=1), 21),
    ('message type 0', frame(0), 11),
    ('message type 13', frame(13), 11),
    ('a body length over the bound', frame(1, length=0x7fffffff), 24),
    ('a frame cut short', frame(1, length=16) + b'abc', 13),
    ('nothing at all', b'', 13),
    ('hello without its fields', frame(1), 11),
    ('an unknown field tag', frame(1, field(99, b'x')), 11),
    ('a field longer than the body', frame(1, struct.pack('>HI', 1, 100) + b'sim'), 11),
    ('a text field with a NUL', frame(1, field(1, b'si\0m') + field(2, b'w')), 11),
    ('a field repeated', frame(1, field(2, b'w') * 33), 11),
    ('bye before hello', frame(12), 11),
    ('a TEE nobody knows', frame(1, field(1, b'foo') + field(2, b'w')), 21),
    ('a simulated key in a sev-snp hello', frame(1, field(1, b'sev-snp') + field(2, b'w') + field(3, b'k')), 11),
    ('sim without its key', frame(1, field(1, b'sim') + field(2, b'w')), 11),
    ('a job nobody knows', HELLO + frame(3, field(6, b'teleport')), 21),
    ('keys before a challenge', HELLO + JOB + frame(7, field(7, b'dek-0123') + field(11, b'\1' * 80)), 11),
    ('data before keys', HELLO + JOB + frame(8, field(12, b'x')), 11),
]
for name, payload, want in cases:
    s0, s1 = socket.socketpair()
    p = subprocess.Popen([worker, '--fd', str(s1.fileno())], pass_fds=(s1.fileno(),),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s1.close()
    s0.settimeout(30)
    got = b''
    try:
        s0.sendall(payload)
        s0.shutdown(socket.SHUT_WR)
        while True:
            b = s0.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass  # the worker may end the session before reading all that was sent
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = 'a hang'
    errors, i = [], 0
    while i + 8 <= len(got):
        n = struct.unpack('>I', got[i + 4:i + 8])[0]
        body, j = got[i + 8:i + 8 + n], 0
        while got[i + 3] == 11 and j + 6 <= len(body):
            tag, m = struct.unpack('>HI', body[j:j + 6])
            if tag == 15:
                errors.append(struct.unpack('>I', body[j + 6:j + 6 + m])[0])
            j += 6 + m
        i += 8 + n
    good = rc == want and errors == [want - 10]
    print('%s %s: exit %s, error statuses %s (want exit %d)' % ('ok' if good else 'BAD', name, rc, errors, want))
EOF
"$PY" -S "$T/drive.py" "$WORKER" >"$T/drive.out" 2>"$T/drive.err"
check "the protocol driver ran all 19 cases" sh -c "[ \$(wc -l <'$T/drive.out') -eq 19 ] && ! [ -s '$T/drive.err' ]"
while IFS= read -r line; do
	case $line in
	"ok "*) ok "worker, sent ${line#ok }" ;;
	*) not_ok "worker, sent ${line#BAD }" ;;
	esac
done <"$T/drive.out"

finish
