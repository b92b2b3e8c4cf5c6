/* Unit tests for key-release policies (docs/formats/release-policy.md):
 * the strict YAML reader (each kind of refusal with its line and column),
 * every clause failing alone with its stable name and reason, several
 * failing together (all reported), missing claims failing closed, and real
 * claims: the virtee Milan report, verified with its VCEK and AMD's chain
 * from ../shared/vectors/sev-snp/, is allowed by a policy naming its
 * measurement and TCB, and the go-sev-guest report (DEBUG set) is refused
 * for debug alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "veil/attest.h"

/* 2026-11-22: every certificate of both real chains is valid then. */
#define NOW INT64_C(1795000000)

/* The virtee Milan report's MEASUREMENT (0x090..0x0BF) and the go-sev-guest one's. */
#define MILAN_MEAS                                                                                           \
	"7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f"
/* The same, in capitals: hex is read in either case. */
#define MILAN_MEAS_UPPER                                                                                     \
	"7A1E5C266C0108DBC9BB94FA926951320940915D0AAFB42464BD88B579EA158D3E1A0DC39B2C60BD95B9C480CD81841F"
#define GSG_MEAS                                                                                             \
	"b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01"
#define OTHER_MEAS                                                                                           \
	"5e1d"                                                                                               \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

static const char good_policy[] = "version: 1\n"
                                  "tee: [sev-snp, tdx]\n"
                                  "measurements:\n"
                                  "  - " OTHER_MEAS "\n"
                                  "  - " MILAN_MEAS "\n"
                                  "debug: forbidden\n"
                                  "vmpl: 0\n"
                                  "min_tcb: {bootloader: 3, tee: 0, snp: 8, microcode: 115}\n"
                                  "max_age: 5m\n"
                                  "region: eu-west\n"
                                  "allow_simulated: false\n";

static veil_release_policy *parse_ok(const char *text)
{
	veil_release_policy *p = NULL;
	veil_err e = {0};
	veil_status st = veil_release_policy_parse(text, strlen(text), &p, &e);
	if (st != VEIL_OK)
		fail_msg("policy refused: %s\n%s", e.msg, text);
	assert_non_null(p);
	return p;
}

/* Claims that good_policy allows: the virtee Milan report's, as the verifier gives them. */
static void good_claims(veil_attest_claims *c)
{
	veil_err e = {0};
	veil_attest_claims_init(c);
	c->tee = VEIL_TEE_SEV_SNP;
	assert_int_equal(veil_hex_decode(MILAN_MEAS, c->measurement, 48, &e), VEIL_OK);
	c->measurement_len = 48;
	c->debug = VEIL_DEBUG_OFF;
	c->vmpl = 0;
	static const char *const names[] = {"bootloader", "tee", "snp", "microcode"};
	static const uint64_t values[] = {3, 0, 8, 115};
	for (size_t i = 0; i < 4; i++) {
		memcpy(c->tcb[i].name, names[i], strlen(names[i]) + 1);
		c->tcb[i].value = values[i];
	}
	c->ntcb = 4;
	c->evidence_time = NOW - 60;
	memcpy(c->region, "eu-west", sizeof "eu-west");
}

/* ---- parsing ---- */

static void test_parse_good(void **state)
{
	(void)state;
	veil_release_policy *p = parse_ok(good_policy);
	veil_attest_claims c;
	good_claims(&c);
	veil_release_result res;
	veil_err e = {0};
	assert_int_equal(veil_release_policy_eval(p, &c, NOW, &res, &e), VEIL_OK);
	assert_true(res.allowed);
	assert_int_equal(res.nfailed, 0);
	veil_release_policy_free(p);

	/* Block lists, quoted names, upper-case hex, comments, an explicit document start: all the same
	 * policy. */
	p = parse_ok("---\n# the production policy\nversion: 1\ntee:\n  - \"sev-snp\"\nmeasurements: "
	             "['" MILAN_MEAS_UPPER "']\nmax_age: 1h\n");
	assert_int_equal(veil_release_policy_eval(p, &c, NOW, &res, &e), VEIL_OK);
	veil_release_policy_free(p);
	veil_release_policy_free(NULL);
}

typedef struct bad_case {
	const char *text;
	veil_status code;
	const char *msg; /* the start of err.msg */
} bad_case;

#define REQ "version: 1\ntee: [sev-snp]\nmeasurements: [" OTHER_MEAS "]\nmax_age: 5m\n"

static void test_parse_errors(void **state)
{
	(void)state;
	static const bad_case cases[] = {
	        {REQ "colour: blue\n", VEIL_E_INVALID, "line 5, column 1: unknown key 'colour'"},
	        {REQ "vmpl: \"0\"\n", VEIL_E_INVALID,
	         "line 5, column 7: vmpl must be a whole number from 0 to 3"},
	        {REQ "vmpl: 4\n", VEIL_E_INVALID, "line 5, column 7: vmpl must be a whole number"},
	        {REQ "vmpl: 00\n", VEIL_E_INVALID, "line 5, column 7: vmpl must be a whole number"},
	        {REQ "vmpl: [0]\n", VEIL_E_INVALID, "line 5, column 7: vmpl must be a number, not a list"},
	        {REQ "allow_simulated: yes\n", VEIL_E_INVALID,
	         "line 5, column 18: allow_simulated must be true or false"},
	        {REQ "debug: off\n", VEIL_E_INVALID, "line 5, column 8: debug must be forbidden or allowed"},
	        {REQ "region: eu west\n", VEIL_E_INVALID, "line 5, column 9: region must be 1 to 64"},
	        {REQ "min_tcb: {snp: -1}\n", VEIL_E_INVALID,
	         "line 5, column 16: min_tcb.snp must be a whole number"},
	        {REQ "min_tcb: {smp: 1}\n", VEIL_E_INVALID, "line 5, column 11: unknown TCB component 'smp'"},
	        {REQ "min_tcb: {snp: 1, snp: 2}\n", VEIL_E_INVALID,
	         "line 5, column 19: min_tcb.snp appears twice"},
	        {REQ "min_tcb: 8\n", VEIL_E_INVALID,
	         "line 5, column 10: min_tcb must be a mapping, not a single value"},
	        {REQ "max_age: 9\n", VEIL_E_INVALID, "line 5, column 1: key 'max_age' appears twice"},
	        {"version: 1\ntee: sev-snp\n", VEIL_E_INVALID,
	         "line 2, column 6: tee must be a list, not a single value"},
	        {"version: 1\ntee: [sev-snp, sgx]\n", VEIL_E_INVALID,
	         "line 2, column 16: unknown TEE type 'sgx'"},
	        {"version: 1\ntee: [tdx, tdx]\n", VEIL_E_INVALID,
	         "line 2, column 12: TEE type 'tdx' is listed twice"},
	        {"version: 1\ntee: []\n", VEIL_E_INVALID, "line 2, column 6: tee lists no TEE type"},
	        {"version: 1\ntee: [[tdx]]\n", VEIL_E_INVALID,
	         "line 2, column 7: each entry of tee must be a TEE type, not a list"},
	        {"version: 1\nmeasurements: [{a: 1}]\n", VEIL_E_INVALID,
	         "line 2, column 16: each entry of measurements must be a hex string, not a mapping"},
	        {"version: 1\nmeasurements: [5e1]\n", VEIL_E_INVALID,
	         "line 2, column 16: a measurement must be"},
	        {"version: 1\nmeasurements: [zz]\n", VEIL_E_INVALID,
	         "line 2, column 16: a measurement must be"},
	        {"version: 2\n", VEIL_E_UNSUPPORTED,
	         "line 1, column 10: release policy version 2 is not supported"},
	        {"version: 1\ntee: [sev-snp]\nmax_age: 5m\n", VEIL_E_INVALID,
	         "line 1, column 1: the policy has no 'measurements' key"},
	        {"tee: [sev-snp]\n", VEIL_E_INVALID, "line 1, column 1: the policy has no 'version' key"},
	        {"version: 1\nmax_age: 5 minutes\n", VEIL_E_INVALID,
	         "line 2, column 10: max_age must be a duration"},
	        {"version: 1\nmax_age: 0s\n", VEIL_E_INVALID,
	         "line 2, column 10: max_age must be a duration"},
	        {"version: &v 1\n", VEIL_E_INVALID, "line 1, column 10: anchors and tags are not allowed"},
	        {"version: !!int 1\n", VEIL_E_INVALID, "line 1, column 10: anchors and tags are not allowed"},
	        {"version: 1\ntee: &t [tdx]\n", VEIL_E_INVALID,
	         "line 2, column 6: anchors and tags are not allowed"},
	        {"version: 1\nregion: *x\n", VEIL_E_INVALID, "line 2, column 9: aliases are not allowed"},
	        {REQ "---\nversion: 1\n", VEIL_E_INVALID,
	         "line 5, column 1: a release policy is one YAML document"},
	        {"- version: 1\n", VEIL_E_INVALID,
	         "line 1, column 1: a release policy is a mapping of keys to values"},
	        {"", VEIL_E_INVALID, "line 1, column 1: the release policy is empty"},
	        {"version: 1\nregion: 'eu\n", VEIL_E_INVALID,
	         "line 3, column 1: found unexpected end of stream (while scanning a quoted scalar at line "
	         "2, column 9)"},
	        {"version: 1\nregion: \"eu\\0west\"\n", VEIL_E_INVALID,
	         "line 2, column 9: a value holds a NUL"},
	        {"version: 1\n{a: 1}: 2\n", VEIL_E_INVALID,
	         "line 2, column 1: a key must be a name, not a mapping"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		veil_release_policy *p = (veil_release_policy *)&cases[i]; /* must come back NULL */
		veil_err e = {0};
		veil_status st = veil_release_policy_parse(cases[i].text, strlen(cases[i].text), &p, &e);
		if (st != cases[i].code || strncmp(e.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("case %zu: got %s '%s', wanted %s '%s'", i, veil_status_str(st), e.msg,
			         veil_status_str(cases[i].code), cases[i].msg);
		assert_null(p);
		assert_int_equal(e.code, st);
	}
}

static void test_parse_limits(void **state)
{
	(void)state;
	veil_release_policy *p = NULL;
	veil_err e = {0};
	/* One byte over the bound is refused before any parsing. */
	size_t big = VEIL_RELEASE_POLICY_MAX_BYTES + 1;
	char *text = malloc(big);
	assert_non_null(text);
	memset(text, '#', big);
	assert_int_equal(veil_release_policy_parse(text, big, &p, &e), VEIL_E_LIMIT);
	assert_null(p);
	free(text);

	/* The text is read to len only: a NUL-free buffer works, and what follows len is not read. */
	static const char cut[] = REQ "colour: blue\n";
	p = NULL;
	assert_int_equal(veil_release_policy_parse(cut, strlen(REQ), &p, &e), VEIL_OK);
	veil_release_policy_free(p);

	/* 256 measurements are fine, 257 are too many. */
	veil_buf b = {0};
	assert_int_equal(veil_buf_printf(&b, &e, "version: 1\ntee: [tdx]\nmax_age: 1m\nmeasurements:\n"),
	                 VEIL_OK);
	for (int i = 0; i < VEIL_RELEASE_MEASUREMENTS_MAX; i++)
		assert_int_equal(veil_buf_printf(&b, &e, "  - %04x\n", i), VEIL_OK);
	p = NULL;
	assert_int_equal(veil_release_policy_parse((const char *)b.data, b.len, &p, &e), VEIL_OK);
	veil_release_policy_free(p);
	assert_int_equal(veil_buf_printf(&b, &e, "  - ffff\n"), VEIL_OK);
	p = NULL;
	assert_int_equal(veil_release_policy_parse((const char *)b.data, b.len, &p, &e), VEIL_E_LIMIT);
	assert_null(p);
	assert_non_null(strstr(e.msg, "line 261, column 5: more than 256 measurements"));
	veil_buf_free(&b);
}

/* ---- evaluation ---- */

typedef void (*mutate_fn)(veil_attest_claims *c, int64_t *now);

static void m_tee(veil_attest_claims *c, int64_t *now)
{
	(void)now;
	c->tee = VEIL_TEE_VTPM;
}
static void m_sim(veil_attest_claims *c, int64_t *now)
{
	(void)now;
	c->simulated = true;
}
static void m_meas(veil_attest_claims *c, int64_t *now)
{
	(void)now;
	c->measurement[47] ^= 1;
}
static void m_debug(veil_attest_claims *c, int64_t *now)
{
	(void)now;
	c->debug = VEIL_DEBUG_ON;
}
static void m_vmpl(veil_attest_claims *c, int64_t *now)
{
	(void)now;
	c->vmpl = 2;
}
static void m_snp(veil_attest_claims *c, int64_t *now)
{
	(void)now;
	c->tcb[2].value = 7;
}
static void m_no_microcode(veil_attest_claims *c, int64_t *now)
{
	(void)now;
	c->ntcb = 3;
}
static void m_stale(veil_attest_claims *c, int64_t *now)
{
	*now = c->evidence_time + 9 * 60;
}
static void m_future(veil_attest_claims *c, int64_t *now)
{
	*now = c->evidence_time - 120;
}
static void m_region(veil_attest_claims *c, int64_t *now)
{
	(void)now;
	memcpy(c->region, "us-east", sizeof "us-east");
}
static void m_no_region(veil_attest_claims *c, int64_t *now)
{
	(void)now;
	c->region[0] = '\0';
}

static void test_each_clause_alone(void **state)
{
	(void)state;
	static const struct {
		mutate_fn m;
		const char *clause, *reason;
	} cases[] = {
	        {m_tee, "tee", "TEE type vtpm is not allowed; the policy allows sev-snp, tdx"},
	        {m_sim, "simulated", "simulated evidence is not allowed"},
	        {m_meas, "measurement",
	         "measurement "
	         "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd8"
	         "1841e"
	         " is not in the allowlist"},
	        {m_debug, "debug", "debug is enabled, the policy forbids it"},
	        {m_vmpl, "vmpl", "vmpl is 2, the policy needs 0"},
	        {m_snp, "tcb.snp", "tcb.snp is 7, the policy needs at least 8"},
	        {m_no_microcode, "tcb.microcode",
	         "the evidence has no tcb.microcode, the policy needs at least 115"},
	        {m_stale, "max_age", "evidence is 9m old, max_age is 5m"},
	        {m_future, "max_age", "evidence is dated 2m in the future"},
	        {m_region, "region", "region us-east is not eu-west"},
	        {m_no_region, "region", "the worker's region is unknown, the policy needs eu-west"},
	};
	veil_release_policy *p = parse_ok(good_policy);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		veil_attest_claims c;
		good_claims(&c);
		int64_t now = NOW;
		cases[i].m(&c, &now);
		veil_release_result res;
		veil_err e = {0};
		assert_int_equal(veil_release_policy_eval(p, &c, now, &res, &e), VEIL_E_DENIED);
		assert_false(res.allowed);
		if (res.nfailed != 1 || strcmp(res.failed[0].clause, cases[i].clause) != 0 ||
		    strcmp(res.failed[0].reason, cases[i].reason) != 0)
			fail_msg("case %zu: %zu failed, first %s: %s", i, res.nfailed, res.failed[0].clause,
			         res.failed[0].reason);
		assert_int_equal(e.code, VEIL_E_DENIED);
		assert_non_null(strstr(e.msg, cases[i].clause));
	}
	veil_release_policy_free(p);
}

static void test_defaults_and_options(void **state)
{
	(void)state;
	veil_attest_claims c;
	veil_release_result res;
	veil_err e = {0};
	/* Without debug, vmpl, min_tcb, region: debug is still forbidden, the rest unchecked. */
	veil_release_policy *p =
	        parse_ok("version: 1\ntee: [sev-snp]\nmeasurements: [" MILAN_MEAS "]\nmax_age: 5m\n");
	good_claims(&c);
	c.vmpl = 3;
	c.ntcb = 0;
	c.region[0] = '\0';
	assert_int_equal(veil_release_policy_eval(p, &c, NOW, &res, &e), VEIL_OK);
	c.debug = VEIL_DEBUG_ON;
	assert_int_equal(veil_release_policy_eval(p, &c, NOW, &res, &e), VEIL_E_DENIED);
	assert_string_equal(res.failed[0].clause, "debug");
	/* tee sim is simulated even without the flag. */
	c.debug = VEIL_DEBUG_OFF;
	c.tee = VEIL_TEE_SIM;
	assert_int_equal(veil_release_policy_eval(p, &c, NOW, &res, &e), VEIL_E_DENIED);
	assert_int_equal(res.nfailed, 2);
	assert_string_equal(res.failed[0].clause, "tee");
	assert_string_equal(res.failed[1].clause, "simulated");
	veil_release_policy_free(p);

	/* debug: allowed and allow_simulated: true let them through; the age limit is inclusive. */
	p = parse_ok("version: 1\ntee: [sim]\nmeasurements: [" MILAN_MEAS "]\nmax_age: 1m\ndebug: allowed\n"
	             "allow_simulated: true\n");
	c.debug = VEIL_DEBUG_ON;
	c.simulated = true;
	assert_int_equal(veil_release_policy_eval(p, &c, c.evidence_time + 60, &res, &e), VEIL_OK);
	assert_int_equal(veil_release_policy_eval(p, &c, c.evidence_time + 61, &res, &e), VEIL_E_DENIED);
	assert_string_equal(res.failed[0].reason, "evidence is 1m1s old, max_age is 1m");
	veil_release_policy_free(p);
}

static void test_several_fail_together(void **state)
{
	(void)state;
	veil_release_policy *p = parse_ok(good_policy);
	veil_attest_claims c;
	good_claims(&c);
	c.debug = VEIL_DEBUG_ON;
	c.tcb[2].value = 7;
	c.tcb[0].value = 2;
	c.measurement[0] ^= 0xff;
	veil_release_result res;
	veil_err e = {0};
	assert_int_equal(veil_release_policy_eval(p, &c, c.evidence_time + 600, &res, &e), VEIL_E_DENIED);
	static const char *const want[] = {"measurement", "debug", "tcb.bootloader", "tcb.snp", "max_age"};
	assert_int_equal(res.nfailed, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(res.failed[i].clause, want[i]);
	assert_string_equal(res.failed[2].reason, "tcb.bootloader is 2, the policy needs at least 3");
	assert_string_equal(res.failed[4].reason, "evidence is 10m old, max_age is 5m");
	assert_string_equal(e.msg, "refused by the release policy: 5 clauses failed "
	                           "(measurement, debug, tcb.bootloader, tcb.snp, max_age)");
	veil_release_policy_free(p);
}

static void test_missing_claims_fail_closed(void **state)
{
	(void)state;
	veil_release_policy *p = parse_ok(good_policy);
	veil_attest_claims c;
	veil_attest_claims_init(&c);
	veil_release_result res;
	veil_err e = {0};
	assert_int_equal(veil_release_policy_eval(p, &c, NOW, &res, &e), VEIL_E_DENIED);
	static const char *const want[] = {
	        "tee",     "measurement", "debug",         "vmpl",    "tcb.bootloader",
	        "tcb.tee", "tcb.snp",     "tcb.microcode", "max_age", "region"};
	assert_int_equal(res.nfailed, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < res.nfailed; i++)
		assert_string_equal(res.failed[i].clause, want[i]);
	assert_string_equal(res.failed[0].reason,
	                    "the evidence names no TEE type; the policy allows sev-snp, tdx");
	assert_string_equal(res.failed[1].reason, "the evidence claims no measurement");
	assert_string_equal(res.failed[3].reason, "the evidence has no VMPL, the policy needs 0");
	assert_string_equal(res.failed[8].reason, "the evidence has no time, max_age is 5m");

	/* A zeroed struct (vmpl 0) fails too; NULL arguments are errors, not allows. */
	memset(&c, 0, sizeof c);
	assert_int_equal(veil_release_policy_eval(p, &c, NOW, &res, &e), VEIL_E_DENIED);
	assert_int_equal(veil_release_policy_eval(p, NULL, NOW, &res, &e), VEIL_E_INVALID);
	assert_false(res.allowed);
	assert_int_equal(veil_release_policy_eval(NULL, &c, NOW, &res, &e), VEIL_E_INVALID);
	assert_false(res.allowed);
	veil_release_policy_free(p);
}

/* ---- real reports ---- */

static void load(const char *rel, veil_buf *out)
{
	const char *root = getenv("VEIL_SOURCE_ROOT");
	char path[4096];
	veil_err e = {0};
	assert_non_null(root);
	assert_int_equal(veil_fmt(path, sizeof path, &e, "%s/../shared/vectors/sev-snp/%s", root, rel),
	                 VEIL_OK);
	if (veil_fs_read_file(path, 1u << 20, out, &e) != VEIL_OK)
		fail_msg("%s: %s", path, e.msg);
}

/* Loads and verifies a real report, then turns it into claims made a minute before NOW in eu-west. */
static void real_claims(const char *report, bool hex, const char *vcek, const char *chain,
                        veil_attest_claims *c)
{
	veil_buf rep = {0}, v = {0}, ch = {0};
	veil_err e = {0};
	load(report, &rep);
	if (hex) {
		char *txt = calloc(1, rep.len + 1);
		assert_non_null(txt);
		size_t n = 0;
		for (size_t i = 0; i < rep.len; i++)
			if (rep.data[i] != '\n' && rep.data[i] != '\r' && rep.data[i] != ' ')
				txt[n++] = (char)rep.data[i];
		assert_int_equal(veil_hex_decode(txt, rep.data, n / 2, &e), VEIL_OK);
		rep.len = n / 2;
		free(txt);
	}
	load(vcek, &v);
	load(chain, &ch);
	veil_snp_report *r = malloc(sizeof *r);
	assert_non_null(r);
	veil_snp_result res;
	assert_int_equal(veil_snp_report_parse(rep.data, rep.len, r, &e), VEIL_OK);
	if (veil_snp_verify(r, v.data, v.len, (const char *)ch.data, ch.len, NOW, &res, &e) != VEIL_OK)
		fail_msg("%s: %s", report, e.msg);
	assert_int_equal(veil_attest_claims_from_snp(r, &res, NOW - 60, "eu-west", c, &e), VEIL_OK);

	/* A result that is not from a successful verification gives no claims. */
	veil_snp_result zero = {0};
	veil_attest_claims none;
	assert_int_equal(veil_attest_claims_from_snp(r, &zero, NOW, NULL, &none, &e), VEIL_E_INVALID);
	assert_int_equal(none.tee, VEIL_TEE_UNKNOWN);
	assert_int_equal(veil_attest_claims_from_snp(r, &res, NOW, "eu west", &none, &e), VEIL_E_INVALID);
	assert_int_equal(none.measurement_len, 0);
	free(r);
	veil_buf_free(&rep);
	veil_buf_free(&v);
	veil_buf_free(&ch);
}

static void test_real_milan_allowed(void **state)
{
	(void)state;
	veil_attest_claims c;
	real_claims("virtee-sev/report_milan.hex", true, "virtee-sev/vcek_milan.der",
	            "virtee-sev/cert_chain_milan", &c);
	assert_int_equal(c.tee, VEIL_TEE_SEV_SNP);
	assert_string_equal(veil_tee_name(c.tee), "sev-snp");
	assert_false(c.simulated);
	assert_int_equal(c.debug, VEIL_DEBUG_OFF);
	assert_int_equal(c.vmpl, 0);
	assert_int_equal(c.ntcb, 4); /* Milan: no fmc */
	assert_string_equal(c.region, "eu-west");
	char hex[97];
	assert_int_equal(c.measurement_len, 48);
	veil_hex_encode(c.measurement, 48, hex);
	assert_string_equal(hex, MILAN_MEAS);

	veil_release_result res;
	veil_err e = {0};
	veil_release_policy *p = parse_ok(good_policy); /* min_tcb is exactly this report's TCB */
	assert_int_equal(veil_release_policy_eval(p, &c, NOW, &res, &e), VEIL_OK);
	assert_true(res.allowed);
	veil_release_policy_free(p);

	/* One more microcode or an fmc minimum (Turin only) and it is refused. */
	p = parse_ok(REQ "min_tcb: {microcode: 116, fmc: 0}\n");
	assert_int_equal(veil_release_policy_eval(p, &c, NOW, &res, &e), VEIL_E_DENIED);
	assert_int_equal(res.nfailed, 3);
	assert_string_equal(res.failed[0].clause, "measurement");
	assert_string_equal(res.failed[1].reason, "tcb.microcode is 115, the policy needs at least 116");
	assert_string_equal(res.failed[2].reason, "the evidence has no tcb.fmc, the policy needs at least 0");
	veil_release_policy_free(p);
}

static void test_real_go_sev_guest_debug_refused(void **state)
{
	(void)state;
	veil_attest_claims c;
	real_claims("go-sev-guest/attestation.bin", false, "go-sev-guest/vcek.testcer",
	            "go-sev-guest/milan.testcer", &c);
	assert_int_equal(c.debug, VEIL_DEBUG_ON);
	veil_release_result res;
	veil_err e = {0};
	veil_release_policy *p =
	        parse_ok("version: 1\ntee: [sev-snp]\nmeasurements: [" GSG_MEAS "]\nmax_age: 5m\n"
	                 "vmpl: 0\nmin_tcb: {bootloader: 2, snp: 5, microcode: 68}\n");
	assert_int_equal(veil_release_policy_eval(p, &c, NOW, &res, &e), VEIL_E_DENIED);
	assert_int_equal(res.nfailed, 1);
	assert_string_equal(res.failed[0].clause, "debug");
	assert_string_equal(res.failed[0].reason, "debug is enabled, the policy forbids it");
	veil_release_policy_free(p);
}

/* TDX and vTPM components: a TDX policy judges TDX claims by them, and
 * SEV-SNP evidence, which has none of them, fails their clauses. */
static void test_other_tee_components(void **state)
{
	(void)state;
	veil_release_policy *p = parse_ok("version: 1\ntee: [tdx, sev-snp]\nmeasurements: [" MILAN_MEAS "]\n"
	                                  "min_tcb: {tdx_module: 3, qe_svn: 4}\nmax_age: 5m\n");
	veil_attest_claims c;
	good_claims(&c);
	c.tee = VEIL_TEE_TDX;
	c.vmpl = -1;
	static const char *const names[] = {"tdx_module", "tdx_major", "tdx_ucode", "qe_svn"};
	static const uint64_t values[] = {3, 0, 4, 4};
	for (size_t i = 0; i < 4; i++) {
		memcpy(c.tcb[i].name, names[i], strlen(names[i]) + 1);
		c.tcb[i].value = values[i];
	}
	c.ntcb = 4;
	veil_release_result r;
	veil_err e;
	assert_int_equal(veil_release_policy_eval(p, &c, NOW, &r, &e), VEIL_OK);
	c.tcb[0].value = 2;
	assert_int_equal(veil_release_policy_eval(p, &c, NOW, &r, &e), VEIL_E_DENIED);
	assert_int_equal(r.nfailed, 1);
	assert_string_equal(r.failed[0].clause, "tcb.tdx_module");
	good_claims(&c); /* SEV-SNP claims: neither component exists */
	assert_int_equal(veil_release_policy_eval(p, &c, NOW, &r, &e), VEIL_E_DENIED);
	assert_int_equal(r.nfailed, 2);
	veil_release_policy_free(p);
	p = parse_ok("version: 1\ntee: [vtpm]\nmeasurements: [" MILAN_MEAS "]\nmin_tcb: {firmware: 10}\n"
	             "max_age: 5m\ndebug: allowed\n");
	veil_release_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_good),
	        cmocka_unit_test(test_parse_errors),
	        cmocka_unit_test(test_parse_limits),
	        cmocka_unit_test(test_each_clause_alone),
	        cmocka_unit_test(test_defaults_and_options),
	        cmocka_unit_test(test_several_fail_together),
	        cmocka_unit_test(test_missing_claims_fail_closed),
	        cmocka_unit_test(test_real_milan_allowed),
	        cmocka_unit_test(test_real_go_sev_guest_debug_refused),
	        cmocka_unit_test(test_other_tee_components),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
