/*
 * Fuzz target: veil_release_policy_parse, the reader of key-release
 * policies (docs/formats/release-policy.md), written by data owners but
 * carried through the untrusted control plane; then, for a policy that
 * parses, veil_release_policy_eval against fixed claim sets. The input is
 * passed as it is, without a NUL, so that a read past `len` is caught.
 *
 * Invariants (abort on violation):
 *  1. A failure is VEIL_E_INVALID or VEIL_E_UNSUPPORTED with "line L,
 *     column C: " and a message (VEIL_E_LIMIT also for too many entries, or
 *     without a position for a text over VEIL_RELEASE_POLICY_MAX_BYTES),
 *     and leaves *out NULL.
 *  2. An evaluation returns VEIL_OK exactly when it allows, with no failed
 *     clause, and VEIL_E_DENIED otherwise; each failure has a known clause
 *     name, at most once, in the documented order, and a reason.
 *  3. Claims that claim nothing are refused for tee, measurement and
 *     max_age at least (the three clauses every policy has).
 *  4. Worse claims never fail fewer clauses: debug on, simulated, every
 *     TCB component one lower, or evidence an hour older keep every clause
 *     that failed before failing.
 */
#include "fuzz.h"
#include "veil/attest.h"

#include <string.h>

#define NOW INT64_C(1795000000)

/* The documented order of clauses; tcb.<name> sits between vmpl and max_age. */
static int clause_rank(const char *c)
{
	static const char *const order[] = {"tee", "simulated", "measurement", "debug", "vmpl"};
	for (int i = 0; i < 5; i++)
		if (strcmp(c, order[i]) == 0)
			return i;
	/* every component a policy may name (release_policy.c, tcb_names) */
	static const char *const tcb[] = {
	        "tcb.bootloader", "tcb.tee",       "tcb.snp",       "tcb.microcode", "tcb.fmc",
	        "tcb.tdx_module", "tcb.tdx_major", "tcb.tdx_ucode", "tcb.qe_svn",    "tcb.firmware"};
	for (size_t i = 0; i < sizeof tcb / sizeof tcb[0]; i++)
		if (strcmp(c, tcb[i]) == 0)
			return 5; /* in the policy's order, which the result cannot show */
	if (strcmp(c, "max_age") == 0)
		return 6;
	if (strcmp(c, "region") == 0)
		return 7;
	return -1;
}

static bool has(const veil_release_result *r, const char *clause)
{
	for (size_t i = 0; i < r->nfailed; i++)
		if (strcmp(r->failed[i].clause, clause) == 0)
			return true;
	return false;
}

static void eval(const veil_release_policy *p, const veil_attest_claims *c, int64_t now,
                 veil_release_result *r)
{
	veil_err err = {0};
	veil_status st = veil_release_policy_eval(p, c, now, r, &err);
	fuzz_note("eval", st, &err);
	FUZZ_CHECK(st == VEIL_OK || st == VEIL_E_DENIED, "evaluation failed instead of deciding");
	FUZZ_CHECK((st == VEIL_OK) == r->allowed && r->allowed == (r->nfailed == 0),
	           "status, allowed and the failures disagree");
	FUZZ_CHECK(r->nfailed <= VEIL_RELEASE_FAILURES_MAX, "more failures than clauses");
	FUZZ_CHECK(st == VEIL_OK || (err.code == VEIL_E_DENIED && err.msg[0]), "a denial without a message");
	int last = -1;
	for (size_t i = 0; i < r->nfailed && i < VEIL_RELEASE_FAILURES_MAX; i++) {
		const veil_release_failure *f = &r->failed[i];
		FUZZ_CHECK(memchr(f->clause, '\0', sizeof f->clause) &&
		                   memchr(f->reason, '\0', sizeof f->reason),
		           "a failure that is not a string");
		int rank = clause_rank(f->clause);
		FUZZ_CHECK(rank >= 0, "an unknown clause name");
		FUZZ_CHECK(rank > last || (rank == 5 && last == 5), "clauses out of order or repeated");
		last = rank;
		FUZZ_CHECK(f->reason[0] != '\0', "a failure without a reason");
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(r->failed[j].clause, f->clause) != 0, "a clause failed twice");
	}
}

/* Every clause failing in `before` fails in `after`. */
static void worse(const veil_release_result *before, const veil_release_result *after, const char *what)
{
	for (size_t i = 0; i < before->nfailed; i++)
		FUZZ_CHECK(has(after, before->failed[i].clause), what);
}

static void good_claims(veil_attest_claims *c)
{
	/* The virtee Milan report's claims (tests/attest/test_release_policy.c). */
	static const uint8_t meas[48] = {0x7a, 0x1e, 0x5c, 0x26, 0x6c, 0x01, 0x08, 0xdb, 0xc9, 0xbb,
	                                 0x94, 0xfa, 0x92, 0x69, 0x51, 0x32, 0x09, 0x40, 0x91, 0x5d,
	                                 0x0a, 0xaf, 0xb4, 0x24, 0x64, 0xbd, 0x88, 0xb5, 0x79, 0xea,
	                                 0x15, 0x8d, 0x3e, 0x1a, 0x0d, 0xc3, 0x9b, 0x2c, 0x60, 0xbd,
	                                 0x95, 0xb9, 0xc4, 0x80, 0xcd, 0x81, 0x84, 0x1f};
	static const char *const names[] = {"bootloader", "tee", "snp", "microcode", "fmc"};
	static const uint64_t values[] = {3, 0, 8, 115, 1};
	veil_attest_claims_init(c);
	c->tee = VEIL_TEE_SEV_SNP;
	memcpy(c->measurement, meas, sizeof meas);
	c->measurement_len = sizeof meas;
	c->debug = VEIL_DEBUG_OFF;
	c->vmpl = 0;
	for (size_t i = 0; i < 5; i++) {
		memcpy(c->tcb[i].name, names[i], strlen(names[i]) + 1);
		c->tcb[i].value = values[i];
	}
	c->ntcb = 5;
	c->evidence_time = NOW - 60;
	memcpy(c->region, "eu-west", sizeof "eu-west");
}

static void check_policy(const veil_release_policy *p)
{
	veil_attest_claims c;
	veil_release_result base, r;

	veil_attest_claims_init(&c);
	eval(p, &c, NOW, &base);
	FUZZ_CHECK(!base.allowed && has(&base, "tee") && has(&base, "measurement") && has(&base, "max_age"),
	           "claims of nothing were not refused by the required clauses");

	good_claims(&c);
	eval(p, &c, NOW, &base);
	veil_attest_claims w = c;
	w.debug = VEIL_DEBUG_ON;
	eval(p, &w, NOW, &r);
	worse(&base, &r, "debug on passed a clause that failed without it");
	w = c;
	w.simulated = true;
	eval(p, &w, NOW, &r);
	worse(&base, &r, "simulated evidence passed a clause that failed without it");
	w = c;
	for (size_t i = 0; i < w.ntcb; i++)
		w.tcb[i].value = w.tcb[i].value ? w.tcb[i].value - 1 : 0;
	eval(p, &w, NOW, &r);
	worse(&base, &r, "a lower TCB passed a clause that failed with a higher one");
	eval(p, &c, NOW + 3600, &r);
	worse(&base, &r, "older evidence passed a clause that failed when it was fresh");
}

/* "line L, column C: message" with L, C >= 1 and a message. */
static bool has_position(const char *msg)
{
	const char *s = msg;
	for (int part = 0; part < 2; part++) {
		const char *label = part ? ", column " : "line ";
		size_t n = strlen(label);
		if (strncmp(s, label, n) != 0)
			return false;
		s += n;
		if (*s < '1' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return strncmp(s, ": ", 2) == 0 && s[2] != '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	veil_release_policy *p = NULL;
	veil_err err = {0};
	veil_status st = veil_release_policy_parse((const char *)data, size, &p, &err);
	fuzz_note("parse", st, &err);
	if (st) {
		FUZZ_CHECK(p == NULL, "a failed parse returned a policy");
		FUZZ_CHECK(err.code == st && err.msg[0], "a failure without its status or a message");
		if (st == VEIL_E_LIMIT && size > VEIL_RELEASE_POLICY_MAX_BYTES)
			return 0;
		FUZZ_CHECK(st == VEIL_E_INVALID || st == VEIL_E_UNSUPPORTED || st == VEIL_E_LIMIT,
		           "a failure with an unexpected status");
		FUZZ_CHECK(has_position(err.msg),
		           "a syntax error without 'line L, column C: ' and a message");
		return 0;
	}
	FUZZ_CHECK(p != NULL, "a successful parse without a policy");
	check_policy(p);
	veil_release_policy_free(p);
	return 0;
}
