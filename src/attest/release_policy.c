/*
 * Key-release policies (docs/formats/release-policy.md): the YAML document
 * a data owner writes to say which attested workloads may receive a key,
 * read strictly with libyaml's event API, and its evaluation against
 * TEE-neutral claims, which reports every clause that fails.
 *
 * The reader pulls one event at a time and accepts only the shapes the
 * format defines, so nesting never goes deeper than a key's value and every
 * refusal names the line and column of the event that broke the rule.
 * Anchors, aliases and tags are refused: a policy has no use for them, and
 * without them what a reader sees is what the evaluator checks.
 */
#include "veil/attest.h"
#include "veil/yaml_read.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* One bit per veil_tee, so the allowed set is a mask. */
#define TEE_BIT(t) (1u << (unsigned)(t))

typedef struct measurement {
	uint8_t b[VEIL_ATTEST_MEASUREMENT_MAX];
	size_t len;
} measurement;

struct veil_release_policy {
	unsigned tees; /* TEE_BIT of each allowed type */
	size_t nmeas;
	measurement meas[VEIL_RELEASE_MEASUREMENTS_MAX];
	bool debug_allowed;
	int32_t vmpl; /* -1: no vmpl clause */
	size_t ntcb;
	veil_attest_tcb_part min_tcb[VEIL_ATTEST_TCB_MAX];
	int64_t max_age;                     /* seconds, > 0 */
	char region[VEIL_ATTEST_REGION_MAX]; /* "": no region clause */
	bool allow_simulated;
};

/* The TCB component names a policy may set: SEV-SNP's (fmc only on
 * Turin), TDX's (docs/formats/tdx.md) and a vTPM's firmware version
 * (docs/formats/tpm-quote.md). A component the evidence does not have fails
 * its clause, so a policy for several TEEs sets only what they share. */
static const char *const tcb_names[] = {"bootloader", "tee",       "snp",       "microcode", "fmc",
                                        "tdx_module", "tdx_major", "tdx_ucode", "qe_svn",    "firmware"};

/* ---- reading ---- */

/* The strict document reader every veil YAML format shares (veil/yaml_read.h). */
typedef veil_yread reader;

/* A plain (unquoted) decimal number of at most `max`: "0" but not "00", "+1" or "0x1". */
static veil_status read_uint(reader *r, const char *what, uint32_t max, uint32_t *out)
{
	veil_status st = veil_yread_want(r, YAML_SCALAR_EVENT, what, "a number");
	if (st)
		return st;
	const char *s = veil_yread_scalar(r);
	size_t n = r->ev.data.scalar.length;
	bool ok = r->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && n >= 1 && n <= 10 &&
	          (s[0] != '0' || n == 1);
	uint64_t v = 0;
	for (size_t i = 0; ok && i < n; i++) {
		ok = s[i] >= '0' && s[i] <= '9';
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (!ok || v > max)
		return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID,
		                       "%s must be a whole number from 0 to %u", what, (unsigned)max);
	*out = (uint32_t)v;
	return VEIL_OK;
}

static veil_tee tee_from_name(const char *s)
{
	for (veil_tee t = VEIL_TEE_SEV_SNP; t <= VEIL_TEE_SIM; t++)
		if (strcmp(s, veil_tee_name(t)) == 0)
			return t;
	return VEIL_TEE_UNKNOWN;
}

static veil_status read_list_start(reader *r, const char *what)
{
	veil_status st = veil_yread_next(r);
	if (st)
		return st;
	if (r->ev.type != YAML_SEQUENCE_START_EVENT)
		return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID, "%s must be a list, not %s", what,
		                       veil_yread_event_what(r->ev.type));
	return VEIL_OK;
}

static veil_status read_tees(reader *r, veil_release_policy *p)
{
	veil_status st = read_list_start(r, "tee");
	yaml_mark_t start = r->ev.start_mark; /* the list's, for "lists nothing" */
	for (bool end = false; !st;) {
		st = veil_yread_item(r, "tee", YAML_SCALAR_EVENT, "a TEE type", &end);
		if (st || end)
			break;
		veil_tee t = tee_from_name(veil_yread_scalar(r));
		if (t == VEIL_TEE_UNKNOWN)
			return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID,
			                       "unknown TEE type '%.40s' (known: sev-snp, tdx, vtpm, sim)",
			                       veil_yread_scalar(r));
		if (p->tees & TEE_BIT(t))
			return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID,
			                       "TEE type '%s' is listed twice", veil_tee_name(t));
		p->tees |= TEE_BIT(t);
	}
	if (!st && !p->tees)
		return veil_yread_fail(r, start, VEIL_E_INVALID,
		                       "tee lists no TEE type: the policy would allow nothing");
	return st;
}

static veil_status read_measurements(reader *r, veil_release_policy *p)
{
	veil_status st = read_list_start(r, "measurements");
	yaml_mark_t start = r->ev.start_mark; /* the list's, for "lists nothing" */
	for (bool end = false; !st;) {
		st = veil_yread_item(r, "measurements", YAML_SCALAR_EVENT, "a hex string", &end);
		if (st || end)
			break;
		if (p->nmeas >= VEIL_RELEASE_MEASUREMENTS_MAX)
			return veil_yread_fail(r, r->ev.start_mark, VEIL_E_LIMIT, "more than %d measurements",
			                       VEIL_RELEASE_MEASUREMENTS_MAX);
		size_t n = r->ev.data.scalar.length;
		measurement *m = &p->meas[p->nmeas];
		veil_err ignored = {0};
		if (n == 0 || n % 2 || n / 2 > VEIL_ATTEST_MEASUREMENT_MAX ||
		    veil_hex_decode(veil_yread_scalar(r), m->b, n / 2, &ignored) != VEIL_OK)
			return veil_yread_fail(
			        r, r->ev.start_mark, VEIL_E_INVALID,
			        "a measurement must be 2 to %d hex digits, an even number (96 for "
			        "SEV-SNP and TDX)",
			        2 * VEIL_ATTEST_MEASUREMENT_MAX);
		m->len = n / 2;
		p->nmeas++;
	}
	if (!st && !p->nmeas)
		return veil_yread_fail(r, start, VEIL_E_INVALID,
		                       "measurements lists nothing: the policy would allow nothing");
	return st;
}

static veil_status read_min_tcb(reader *r, veil_release_policy *p)
{
	veil_status st = veil_yread_next(r);
	if (st)
		return st;
	if (r->ev.type != YAML_MAPPING_START_EVENT)
		return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID,
		                       "min_tcb must be a mapping, not %s",
		                       veil_yread_event_what(r->ev.type));
	static_assert(sizeof tcb_names / sizeof tcb_names[0] <= VEIL_ATTEST_TCB_MAX, "every component fits");
	for (;;) {
		if ((st = veil_yread_next(r)))
			return st;
		if (r->ev.type == YAML_MAPPING_END_EVENT)
			return VEIL_OK;
		if (r->ev.type != YAML_SCALAR_EVENT)
			return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID,
			                       "a min_tcb key must be a component name");
		yaml_mark_t at = r->ev.start_mark;
		const char *name = NULL;
		for (size_t i = 0; i < sizeof tcb_names / sizeof tcb_names[0]; i++)
			if (strcmp(veil_yread_scalar(r), tcb_names[i]) == 0)
				name = tcb_names[i];
		if (!name)
			return veil_yread_fail(
			        r, at, VEIL_E_INVALID,
			        "unknown TCB component '%.40s' (known: bootloader, tee, snp, microcode, fmc, "
			        "tdx_module, tdx_major, tdx_ucode, qe_svn, firmware)",
			        veil_yread_scalar(r));
		for (size_t i = 0; i < p->ntcb; i++)
			if (strcmp(p->min_tcb[i].name, name) == 0)
				return veil_yread_fail(r, at, VEIL_E_INVALID, "min_tcb.%s appears twice",
				                       name);
		uint32_t v = 0;
		char what[VEIL_RELEASE_CLAUSE_MAX + 8];
		(void)snprintf(what, sizeof what, "min_tcb.%s", name);
		if ((st = read_uint(r, what, UINT32_MAX, &v)))
			return st;
		veil_attest_tcb_part *t = &p->min_tcb[p->ntcb++];
		memcpy(t->name, name, strlen(name) + 1);
		t->value = v;
	}
}

static veil_status read_max_age(reader *r, veil_release_policy *p)
{
	veil_status st = veil_yread_want(r, YAML_SCALAR_EVENT, "max_age", "a duration");
	if (st)
		return st;
	veil_err ignored = {0};
	if (veil_duration_parse(veil_yread_scalar(r), &p->max_age, &ignored) != VEIL_OK)
		return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID,
		                       "max_age must be a duration such as 45s, 5m or 1h, not '%.40s'",
		                       veil_yread_scalar(r));
	return VEIL_OK;
}

static veil_status read_region(reader *r, veil_release_policy *p)
{
	veil_status st = veil_yread_want(r, YAML_SCALAR_EVENT, "region", "a name");
	if (st)
		return st;
	veil_err ignored = {0};
	if (veil_name_check(veil_yread_scalar(r), "region", &ignored) != VEIL_OK)
		return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID,
		                       "region must be 1 to 64 of letters, digits, '.', '_' and '-'");
	memcpy(p->region, veil_yread_scalar(r), r->ev.data.scalar.length + 1);
	return VEIL_OK;
}

static veil_status read_debug(reader *r, veil_release_policy *p)
{
	veil_status st = veil_yread_want(r, YAML_SCALAR_EVENT, "debug", "forbidden or allowed");
	if (st)
		return st;
	if (strcmp(veil_yread_scalar(r), "forbidden") == 0)
		p->debug_allowed = false;
	else if (strcmp(veil_yread_scalar(r), "allowed") == 0)
		p->debug_allowed = true;
	else
		return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID,
		                       "debug must be forbidden or allowed");
	return VEIL_OK;
}

enum {
	K_VERSION,
	K_TEE,
	K_MEASUREMENTS,
	K_DEBUG,
	K_VMPL,
	K_MIN_TCB,
	K_MAX_AGE,
	K_REGION,
	K_ALLOW_SIMULATED,
	K_COUNT
};
static const char *const keys[K_COUNT] = {"version", "tee",     "measurements", "debug",          "vmpl",
                                          "min_tcb", "max_age", "region",       "allow_simulated"};

static veil_status read_value(reader *r, int k, veil_release_policy *p)
{
	uint32_t v = 0;
	veil_status st;
	switch (k) {
	case K_VERSION:
		if ((st = read_uint(r, "version", UINT32_MAX, &v)))
			return st;
		if (v != 1)
			return veil_yread_fail(
			        r, r->ev.start_mark, VEIL_E_UNSUPPORTED,
			        "release policy version %u is not supported (this veil reads version 1)",
			        (unsigned)v);
		return VEIL_OK;
	case K_TEE:
		return read_tees(r, p);
	case K_MEASUREMENTS:
		return read_measurements(r, p);
	case K_DEBUG:
		return read_debug(r, p);
	case K_VMPL:
		if ((st = read_uint(r, "vmpl", 3, &v)))
			return st;
		p->vmpl = (int32_t)v;
		return VEIL_OK;
	case K_MIN_TCB:
		return read_min_tcb(r, p);
	case K_MAX_AGE:
		return read_max_age(r, p);
	case K_REGION:
		return read_region(r, p);
	case K_ALLOW_SIMULATED:
		return veil_yread_bool(r, "allow_simulated", &p->allow_simulated);
	default:
		return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INTERNAL, "no reader for key %d", k);
	}
}

/* The top-level mapping, from its start event to its end. */
static veil_status read_keys(reader *r, veil_release_policy *p)
{
	yaml_mark_t top = r->ev.start_mark;
	bool seen[K_COUNT] = {false};
	for (;;) {
		veil_status st = veil_yread_next(r);
		if (st)
			return st;
		if (r->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (r->ev.type != YAML_SCALAR_EVENT)
			return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID,
			                       "a key must be a name, not %s",
			                       veil_yread_event_what(r->ev.type));
		int k = 0;
		while (k < K_COUNT && strcmp(veil_yread_scalar(r), keys[k]) != 0)
			k++;
		if (k == K_COUNT)
			return veil_yread_fail(
			        r, r->ev.start_mark, VEIL_E_INVALID,
			        "unknown key '%.40s' (known: version, tee, measurements, debug, vmpl, "
			        "min_tcb, max_age, region, allow_simulated)",
			        veil_yread_scalar(r));
		if (seen[k])
			return veil_yread_fail(r, r->ev.start_mark, VEIL_E_INVALID, "key '%s' appears twice",
			                       keys[k]);
		seen[k] = true;
		if ((st = read_value(r, k, p)))
			return st;
	}
	/* Fail closed: without these a policy would allow any TEE, any code or stale evidence. */
	static const int required[] = {K_VERSION, K_TEE, K_MEASUREMENTS, K_MAX_AGE};
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!seen[required[i]])
			return veil_yread_fail(r, top, VEIL_E_INVALID,
			                       "the policy has no '%s' key, which is required",
			                       keys[required[i]]);
	return VEIL_OK;
}

veil_status veil_release_policy_parse(const char *text, size_t len, veil_release_policy **out, veil_err *err)
{
	*out = NULL;
	if (!text && len)
		return veil_err_set(err, VEIL_E_INVALID, "no release policy text");
	if (len > VEIL_RELEASE_POLICY_MAX_BYTES)
		return veil_err_set(err, VEIL_E_LIMIT, "the release policy is larger than %u bytes",
		                    VEIL_RELEASE_POLICY_MAX_BYTES);
	veil_release_policy *p = calloc(1, sizeof *p);
	if (!p)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory reading a release policy");
	p->vmpl = -1;
	reader r;
	veil_status st = veil_yread_begin(&r, text, len, "release policy", err);
	if (!st)
		st = read_keys(&r, p);
	if (!st)
		st = veil_yread_end(&r);
	veil_yread_close(&r);
	if (st) {
		free(p);
		return st;
	}
	*out = p;
	return VEIL_OK;
}

void veil_release_policy_free(veil_release_policy *p)
{
	free(p);
}

/* ---- evaluation ---- */

static void failed(veil_release_result *res, const char *clause, const char *fmt, ...) VEIL_PRINTF(3, 4);
static void failed(veil_release_result *res, const char *clause, const char *fmt, ...)
{
	/* Cannot overflow: at most one failure per clause, and the array holds them all. */
	veil_release_failure *f = &res->failed[res->nfailed++];
	(void)snprintf(f->clause, sizeof f->clause, "%s", clause);
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(f->reason, sizeof f->reason, fmt, ap);
	va_end(ap);
}

/* "9m", "1h30m", "45s": seconds in the largest units, zero parts left out. */
static void fmt_duration(int64_t s, char *out, size_t outsz)
{
	static const struct {
		int64_t secs;
		char unit;
	} units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof units / sizeof units[0] && used < outsz; i++) {
		int64_t n = s / units[i].secs;
		s %= units[i].secs;
		if (n == 0 && !(i == 3 && used == 0))
			continue;
		int w = snprintf(out + used, outsz - used, "%lld%c", (long long)n, units[i].unit);
		if (w < 0)
			return;
		used += (size_t)w;
	}
}

static bool claim_tcb(const veil_attest_claims *c, const char *name, uint64_t *v)
{
	size_t n = c->ntcb < VEIL_ATTEST_TCB_MAX ? c->ntcb : VEIL_ATTEST_TCB_MAX;
	for (size_t i = 0; i < n; i++)
		if (strncmp(c->tcb[i].name, name, VEIL_ATTEST_TCB_NAME_MAX) == 0) {
			*v = c->tcb[i].value;
			return true;
		}
	return false;
}

static void eval_tee(const veil_release_policy *p, const veil_attest_claims *c, veil_release_result *res)
{
	if (c->tee > VEIL_TEE_UNKNOWN && c->tee <= VEIL_TEE_SIM && (p->tees & TEE_BIT(c->tee)))
		return;
	char allowed[64] = "";
	size_t used = 0;
	for (veil_tee t = VEIL_TEE_SEV_SNP; t <= VEIL_TEE_SIM; t++)
		if (p->tees & TEE_BIT(t)) {
			int w = snprintf(allowed + used, sizeof allowed - used, "%s%s", used ? ", " : "",
			                 veil_tee_name(t));
			if (w > 0)
				used += (size_t)w;
		}
	if (c->tee == VEIL_TEE_UNKNOWN)
		failed(res, "tee", "the evidence names no TEE type; the policy allows %s", allowed);
	else
		failed(res, "tee", "TEE type %s is not allowed; the policy allows %s", veil_tee_name(c->tee),
		       allowed);
}

static void eval_measurement(const veil_release_policy *p, const veil_attest_claims *c,
                             veil_release_result *res)
{
	if (c->measurement_len == 0 || c->measurement_len > VEIL_ATTEST_MEASUREMENT_MAX) {
		failed(res, "measurement", "the evidence claims no measurement");
		return;
	}
	for (size_t i = 0; i < p->nmeas; i++)
		if (p->meas[i].len == c->measurement_len &&
		    memcmp(p->meas[i].b, c->measurement, c->measurement_len) == 0)
			return;
	char hex[2 * VEIL_ATTEST_MEASUREMENT_MAX + 1];
	veil_hex_encode(c->measurement, c->measurement_len, hex);
	failed(res, "measurement", "measurement %s is not in the allowlist", hex);
}

static void eval_tcb(const veil_release_policy *p, const veil_attest_claims *c, veil_release_result *res)
{
	for (size_t i = 0; i < p->ntcb; i++) {
		const veil_attest_tcb_part *min = &p->min_tcb[i];
		char clause[VEIL_RELEASE_CLAUSE_MAX];
		(void)snprintf(clause, sizeof clause, "tcb.%s", min->name);
		uint64_t v = 0;
		if (!claim_tcb(c, min->name, &v))
			failed(res, clause, "the evidence has no %s, the policy needs at least %llu", clause,
			       (unsigned long long)min->value);
		else if (v < min->value)
			failed(res, clause, "%s is %llu, the policy needs at least %llu", clause,
			       (unsigned long long)v, (unsigned long long)min->value);
	}
}

static void eval_age(const veil_release_policy *p, const veil_attest_claims *c, int64_t now,
                     veil_release_result *res)
{
	char max[32], d[32];
	fmt_duration(p->max_age, max, sizeof max);
	int64_t age = 0;
	if (c->evidence_time <= 0) {
		failed(res, "max_age", "the evidence has no time, max_age is %s", max);
	} else if (__builtin_sub_overflow(now, c->evidence_time, &age)) {
		failed(res, "max_age", "the evidence time is out of range");
	} else if (age < 0) {
		fmt_duration(-age, d, sizeof d);
		failed(res, "max_age", "evidence is dated %s in the future", d);
	} else if (age > p->max_age) {
		fmt_duration(age, d, sizeof d);
		failed(res, "max_age", "evidence is %s old, max_age is %s", d, max);
	}
}

static void summarize(const veil_release_result *res, veil_err *err)
{
	char names[VEIL_RELEASE_FAILURES_MAX * (VEIL_RELEASE_CLAUSE_MAX + 2)] = "";
	size_t used = 0;
	for (size_t i = 0; i < res->nfailed; i++) {
		int w = snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
		                 res->failed[i].clause);
		if (w > 0)
			used += (size_t)w;
	}
	veil_err_set(err, VEIL_E_DENIED, "refused by the release policy: %zu clause%s failed (%s)",
	             res->nfailed, res->nfailed == 1 ? "" : "s", names);
	veil_err_hint(err, "each failed clause and its reason are in the evaluation result");
}

veil_status veil_release_policy_eval(const veil_release_policy *p, const veil_attest_claims *c, int64_t now,
                                     veil_release_result *out, veil_err *err)
{
	static_assert(7 + VEIL_ATTEST_TCB_MAX <= VEIL_RELEASE_FAILURES_MAX, "every clause can fail at once");
	if (!out)
		return veil_err_set(err, VEIL_E_INVALID, "no place for the release policy result");
	memset(out, 0, sizeof *out);
	if (!p || !c)
		return veil_err_set(err, VEIL_E_INVALID, "no release policy or no claims to evaluate");

	eval_tee(p, c, out);
	if ((c->simulated || c->tee == VEIL_TEE_SIM) && !p->allow_simulated)
		failed(out, "simulated", "simulated evidence is not allowed");
	eval_measurement(p, c, out);
	if (!p->debug_allowed && c->debug != VEIL_DEBUG_OFF)
		failed(out, "debug",
		       c->debug == VEIL_DEBUG_ON
		               ? "debug is enabled, the policy forbids it"
		               : "the evidence does not say whether debug is off, the policy forbids it");
	if (p->vmpl >= 0 && c->vmpl < 0)
		failed(out, "vmpl", "the evidence has no VMPL, the policy needs %d", (int)p->vmpl);
	else if (p->vmpl >= 0 && c->vmpl != p->vmpl)
		failed(out, "vmpl", "vmpl is %d, the policy needs %d", (int)c->vmpl, (int)p->vmpl);
	eval_tcb(p, c, out);
	eval_age(p, c, now, out);
	if (p->region[0] && !c->region[0])
		failed(out, "region", "the worker's region is unknown, the policy needs %s", p->region);
	else if (p->region[0] && strncmp(c->region, p->region, VEIL_ATTEST_REGION_MAX) != 0)
		failed(out, "region", "region %.64s is not %s", c->region, p->region);

	out->allowed = out->nfailed == 0;
	if (out->allowed)
		return VEIL_OK;
	summarize(out, err);
	return VEIL_E_DENIED;
}
