/*
 * veil attest: measurements, offline verification of evidence, key-release
 * policies, and evidence from this machine's worker (docs/attestation.md).
 */
#include "cmds.h"
#include "hostworker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- attest measure ---- */
int cmd_attest_measure(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("attest measure");
	static const struct option longopts[] = {{"worker", required_argument, NULL, 'w'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         CLI_COMMON_OPTS,
	                                         {NULL, 0, NULL, 0}};
	const char *path = NULL;
	bool json = false;
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "", longopts, &rc)) != -1) {
		if (opt == 'w')
			path = optarg;
		else
			json = true;
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 0, 0)) >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	char found[4096];
	if (!path) {
		if (cli_worker_path(found, &err))
			return cli_fail(&err);
		path = found;
	}
	uint8_t m[VEIL_SHA384_LEN];
	char hex[2 * sizeof m + 1];
	if (veil_hash_file(VEIL_HASH_SHA384, path, m, &err))
		return cli_fail(&err);
	veil_hex_encode(m, sizeof m, hex);
	if (json)
		return cli_print_json(json_pack("{s:s, s:s, s:s}", "worker", path, "measurement", hex,
		                                "algorithm", "sha384"));
	printf("%s\n", hex);
	cli_info("the SHA-384 of %s: the measurement a simulated report of this worker carries.\n"
	         "A release policy allows it with:\n  measurements:\n    - %s",
	         path, hex);
	return 0;
}

/* ---- attest verify and attest policy check ---- */
typedef struct verify_args {
	const char *file, *tee, *certs, *policy, *region, *report_data;
	const char *tpm_sig, *tpm_pcrs, *ak, *ak_ca, *nonce; /* vTPM quotes */
	int64_t at;
	bool json;
} verify_args;

static veil_status read_opt_file(const char *dir, const char *name, size_t max, veil_buf *out, bool *found,
                                 veil_err *err)
{
	char p[4096];
	veil_status st = veil_fmt(p, sizeof p, err, "%s/%s", dir, name);
	*found = false;
	if (st || !veil_fs_exists(p))
		return st;
	*found = true;
	return veil_fs_read_file(p, max, out, err);
}

/* What a certificate folder holds (docs/attestation.md): vcek.der (or
 * vlek.der), chain.pem (ASK+ARK; absent: the pinned ones), and for the
 * simulated TEE ark.pem, the anchor the caller chooses to trust. */
typedef struct certs {
	veil_buf vcek, chain, ark;
	bool have_vcek, have_chain, have_ark;
} certs;

static veil_status load_certs(const char *dir, certs *c, veil_err *err)
{
	veil_status st;
	if ((st = read_opt_file(dir, "vcek.der", VEIL_SNP_CERT_MAX, &c->vcek, &c->have_vcek, err)) ||
	    (!c->have_vcek &&
	     (st = read_opt_file(dir, "vlek.der", VEIL_SNP_CERT_MAX, &c->vcek, &c->have_vcek, err))) ||
	    (st = read_opt_file(dir, "chain.pem", VEIL_SNP_CHAIN_MAX, &c->chain, &c->have_chain, err)) ||
	    (st = read_opt_file(dir, "ark.pem", VEIL_SNP_CHAIN_MAX, &c->ark, &c->have_ark, err)))
		return st;
	return VEIL_OK;
}

static void certs_free(certs *c)
{
	veil_buf_free(&c->vcek);
	veil_buf_free(&c->chain);
	veil_buf_free(&c->ark);
}

static const char *detect_tee(const veil_buf *ev)
{
	if (ev->len == VEIL_SNP_REPORT_LEN)
		return "sev-snp";
	/* TDX: version 4 or 5, attestation key type 2, TEE type 0x81 */
	if (ev->len >= VEIL_TDX_HEADER_LEN && (ev->data[0] == 4 || ev->data[0] == 5) && ev->data[1] == 0 &&
	    ev->data[2] == VEIL_TDX_ATT_KEY_P256 && ev->data[3] == 0 && ev->data[4] == VEIL_TDX_TEE_TYPE)
		return "tdx";
	/* TPM: TPMS_ATTEST starts with TPM_GENERATED_VALUE */
	if (ev->len >= 4 && veil_get_be32(ev->data) == VEIL_TPM_GENERATED_VALUE)
		return "vtpm";
	return NULL;
}

/* A TDX quote as some tools store it, with bytes after its declared end:
 * nothing signs them, so they are dropped, and said so. */
static void trim_tdx(veil_buf *ev)
{
	size_t qlen = 0;
	veil_err ignored;
	if (!veil_tdx_quote_len(ev->data, ev->len, &qlen, &ignored) && qlen < ev->len) {
		cli_warn("ignoring %zu bytes after the end of the TDX quote (nothing signs them)",
		         ev->len - qlen);
		ev->len = qlen;
	}
}

/* vTPM: the quote message (FILE), its signature and PCR values, the AK. */
static veil_status verify_tpm(const verify_args *a, const veil_buf *msg, veil_attest_claims *claims,
                              veil_err *err)
{
	if (!a->tpm_sig || !a->tpm_pcrs || !a->ak) {
		veil_err_set(err, VEIL_E_INVALID, "a TPM quote needs --tpm-signature, --tpm-pcrs and --ak");
		return veil_err_hint(err,
		                     "the files tpm2_quote wrote with -s and -o, and the AK's public key "
		                     "(tpm2_createak -f pem) or certificate");
	}
	veil_buf sig = {0}, pcrs = {0}, ak = {0}, ca = {0};
	uint8_t nonce[VEIL_TPM_DATA_MAX];
	size_t nonce_len = 0;
	veil_status st;
	if (a->nonce) {
		nonce_len = strlen(a->nonce) / 2;
		if (nonce_len > sizeof nonce || veil_hex_decode(a->nonce, nonce, nonce_len, err))
			return veil_err_set(err, VEIL_E_INVALID, "--nonce takes at most %d bytes of hex",
			                    VEIL_TPM_DATA_MAX);
	}
	veil_tpm_result *res = calloc(1, sizeof *res);
	if (!res)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory");
	if (!(st = veil_fs_read_file(a->tpm_sig, VEIL_TPM_SIG_MAX, &sig, err)) &&
	    !(st = veil_fs_read_file(a->tpm_pcrs, VEIL_TPM_PCRS_FILE_MAX, &pcrs, err)) &&
	    !(st = veil_fs_read_file(a->ak, VEIL_TPM_AK_MAX, &ak, err)) &&
	    !(a->ak_ca && (st = veil_fs_read_file(a->ak_ca, VEIL_TPM_CA_MAX, &ca, err)))) {
		veil_tpm_evidence ev = {.quote = msg->data,
		                        .quote_len = msg->len,
		                        .sig = sig.data,
		                        .sig_len = sig.len,
		                        .pcrs = pcrs.data,
		                        .pcrs_len = pcrs.len,
		                        .pcrs_format = VEIL_TPM_PCRS_AUTO};
		veil_tpm_trust trust = {.ak_pem = (const char *)ak.data,
		                        .ak_len = ak.len,
		                        .ca_pem = a->ak_ca ? (const char *)ca.data : NULL,
		                        .ca_len = ca.len,
		                        .now = a->at};
		if (!(st = veil_tpm_quote_verify(&ev, &trust, a->nonce ? nonce : NULL, nonce_len, res, err)))
			st = veil_attest_claims_from_tpm(res, a->at, a->region, claims, err);
	}
	free(res);
	veil_buf_free(&sig);
	veil_buf_free(&pcrs);
	veil_buf_free(&ak);
	veil_buf_free(&ca);
	return st;
}

static json_t *claims_json(const veil_attest_claims *c, const uint8_t report_data[VEIL_PROTO_BINDING_LEN])
{
	char meas[2 * VEIL_ATTEST_MEASUREMENT_MAX + 1], rd[2 * VEIL_PROTO_BINDING_LEN + 1];
	veil_hex_encode(c->measurement, c->measurement_len, meas);
	veil_hex_encode(report_data, VEIL_PROTO_BINDING_LEN, rd);
	json_t *tcb = json_object();
	for (size_t i = 0; i < c->ntcb; i++)
		json_object_set_new(tcb, c->tcb[i].name, json_integer((json_int_t)c->tcb[i].value));
	const char *debug = c->debug == VEIL_DEBUG_ON ? "on" : c->debug == VEIL_DEBUG_OFF ? "off" : "unknown";
	json_t *o =
	        json_pack("{s:s, s:b, s:s, s:s, s:o, s:s}", "tee", veil_tee_name(c->tee), "simulated",
	                  c->simulated, "measurement", meas, "debug", debug, "tcb", tcb, "report_data", rd);
	if (c->vmpl >= 0)
		json_object_set_new(o, "vmpl", json_integer(c->vmpl));
	if (c->region[0])
		json_object_set_new(o, "region", json_string(c->region));
	if (c->tee == VEIL_TEE_VTPM) /* a quote carries a nonce, not report data */
		json_object_del(o, "report_data");
	return o;
}

static void print_claims(const json_t *o)
{
	const char *keys[] = {"tee", "measurement", "debug", "report_data", "region"};
	printf("%-12s %s\n", "verified", "yes");
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (json_object_get(o, keys[i]))
			printf("%-12s %s\n", keys[i], json_string_value(json_object_get(o, keys[i])));
	printf("%-12s %s\n", "simulated", json_is_true(json_object_get(o, "simulated")) ? "yes" : "no");
	if (json_object_get(o, "vmpl"))
		printf("%-12s %lld\n", "vmpl", (long long)json_integer_value(json_object_get(o, "vmpl")));
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)json_object_get(o, "tcb"), k, v)
	{
		char name[32];
		snprintf(name, sizeof name, "tcb.%s", k);
		printf("%-12s %lld\n", name, (long long)json_integer_value(v));
	}
}

static veil_status verify_evidence(const verify_args *a, veil_attest_claims *claims,
                                   uint8_t report_data[VEIL_PROTO_BINDING_LEN], veil_err *err)
{
	veil_buf ev = {0};
	certs c = {0};
	veil_sim_chain sim = {0};
	veil_status st = veil_fs_read_file(a->file, 64u << 10, &ev, err);
	const char *tee = a->tee ? a->tee : NULL;
	if (!st && !tee && !(tee = detect_tee(&ev))) {
		st = veil_err_set(err, VEIL_E_UNSUPPORTED, "%s is not evidence veil recognises (%zu bytes)",
		                  a->file, ev.len);
		veil_err_hint(err, "name its kind with --tee (sim, sev-snp, tdx, vtpm)");
	}
	if (!st && tee && strcmp(tee, "vtpm") == 0) {
		memset(report_data, 0, VEIL_PROTO_BINDING_LEN);
		st = verify_tpm(a, &ev, claims, err);
		if (st)
			veil_err_wrap(err, "%s", a->file);
		veil_buf_free(&ev);
		return st;
	}
	if (!st && tee && strcmp(tee, "tdx") == 0)
		trim_tdx(&ev);
	if (!st && a->certs)
		st = load_certs(a->certs, &c, err);
	veil_evidence e = {.tee = tee, .data = ev.data, .len = ev.len};
	veil_broker_trust trust = {.region = a->region};
	if (!st && tee && strcmp(tee, "sim") == 0) {
		if (!c.have_vcek || !c.have_chain || !c.have_ark) {
			st = veil_err_set(err, VEIL_E_INVALID,
			                  "simulated evidence needs --certs DIR with vcek.der, "
			                  "chain.pem and ark.pem");
			veil_err_hint(err, "a workspace keeps them in attest/sim/");
		} else {
			cli_warn("verifying against a simulated TEE's root that you chose to trust: this "
			         "proves nothing "
			         "about any machine");
			sim.vcek_der = c.vcek;
			sim.chain_pem = c.chain;
			sim.ark_pem = c.ark;
			trust.sim = &sim;
		}
	} else if (!st && tee && strcmp(tee, "sev-snp") == 0) {
		if (!c.have_vcek) {
			st = veil_err_set(err, VEIL_E_INVALID,
			                  "SEV-SNP evidence needs its VCEK: --certs DIR with vcek.der");
			veil_err_hint(
			        err,
			        "AMD's KDS serves it for the chip and TCB in the report; keep it with the "
			        "report");
		}
		e.vcek_der = c.vcek.data;
		e.vcek_len = c.vcek.len;
		e.chain_pem = c.have_chain ? (const char *)c.chain.data : NULL;
		e.chain_len = c.chain.len;
	}
	if (!st && (st = veil_broker_verify(&trust, &e, a->at, claims, report_data, err)))
		veil_err_wrap(err, "%s", a->file);
	if (!st && a->report_data) {
		uint8_t want[VEIL_PROTO_BINDING_LEN];
		if (veil_hex_decode(a->report_data, want, sizeof want, err))
			st = veil_err_wrap(err, "--report-data");
		else if (memcmp(want, report_data, sizeof want) != 0)
			st = veil_err_set(err, VEIL_E_DENIED,
			                  "%s carries other report data than --report-data says", a->file);
	}
	veil_buf_free(&ev);
	certs_free(&c);
	return st;
}

static int run_verify(const verify_args *a)
{
	veil_err err;
	veil_err_clear(&err);
	veil_attest_claims claims;
	uint8_t rd[VEIL_PROTO_BINDING_LEN];
	veil_release_policy *pol = NULL;
	veil_buf text = {0};
	if (a->policy) {
		veil_status st = veil_fs_read_file(a->policy, VEIL_RELEASE_POLICY_MAX_BYTES, &text, &err);
		if (!st && (st = veil_release_policy_parse((const char *)text.data, text.len, &pol, &err)))
			veil_err_wrap(&err, "%s", a->policy);
		veil_buf_free(&text);
		if (st)
			return cli_fail(&err);
	}
	if (verify_evidence(a, &claims, rd, &err)) {
		veil_release_policy_free(pol);
		return cli_fail(&err);
	}
	json_t *out = claims_json(&claims, rd);
	int rc = 0;
	if (pol) {
		veil_release_result res;
		veil_status st = veil_release_policy_eval(pol, &claims, a->at, &res, &err);
		json_t *failed = json_array();
		for (size_t i = 0; i < res.nfailed; i++)
			json_array_append_new(failed, json_pack("{s:s, s:s}", "clause", res.failed[i].clause,
			                                        "reason", res.failed[i].reason));
		json_object_set_new(out, "policy",
		                    json_pack("{s:s, s:b, s:o}", "file", a->policy, "allowed", res.allowed,
		                              "failed", failed));
		if (st && st != VEIL_E_DENIED) {
			json_decref(out);
			veil_release_policy_free(pol);
			return cli_fail(&err);
		}
		rc = res.allowed ? 0 : VEIL_EXIT_CHECK;
	}
	veil_release_policy_free(pol);
	if (a->json) {
		cli_print_json(out);
		return rc;
	}
	print_claims(out);
	json_t *p = json_object_get(out, "policy");
	if (p) {
		bool ok = json_is_true(json_object_get(p, "allowed"));
		printf("%-12s %s\n", "policy", ok ? "allows release" : "refuses release");
		size_t i;
		json_t *f;
		json_array_foreach(json_object_get(p, "failed"), i, f)
		        printf("  failed %-14s %s\n", json_string_value(json_object_get(f, "clause")),
		               json_string_value(json_object_get(f, "reason")));
	}
	json_decref(out);
	return rc;
}

static int parse_verify(cli_global *g, const cli_command *cmd, int argc, char **argv, verify_args *a)
{
	static const struct option longopts[] = {{"tee", required_argument, NULL, 't'},
	                                         {"certs", required_argument, NULL, 'c'},
	                                         {"policy", required_argument, NULL, 'p'},
	                                         {"at", required_argument, NULL, 'a'},
	                                         {"region", required_argument, NULL, 'r'},
	                                         {"report-data", required_argument, NULL, 'd'},
	                                         {"tpm-signature", required_argument, NULL, 's'},
	                                         {"tpm-pcrs", required_argument, NULL, 'P'},
	                                         {"ak", required_argument, NULL, 'k'},
	                                         {"ak-ca", required_argument, NULL, 'K'},
	                                         {"nonce", required_argument, NULL, 'n'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         CLI_COMMON_OPTS,
	                                         {NULL, 0, NULL, 0}};
	memset(a, 0, sizeof *a);
	a->at = veil_time_now();
	int opt, rc = -1;
	veil_err err;
	while ((opt = cli_opt(g, cmd, argc, argv, "", longopts, &rc)) != -1) {
		switch (opt) {
		case 't':
			if (strcmp(optarg, "sim") != 0 && strcmp(optarg, "sev-snp") != 0 &&
			    strcmp(optarg, "tdx") != 0 && strcmp(optarg, "vtpm") != 0)
				return cli_usage_error(cmd, "--tee is sim, sev-snp, tdx or vtpm");
			a->tee = optarg;
			break;
		case 's':
			a->tpm_sig = optarg;
			break;
		case 'P':
			a->tpm_pcrs = optarg;
			break;
		case 'k':
			a->ak = optarg;
			break;
		case 'K':
			a->ak_ca = optarg;
			break;
		case 'n':
			a->nonce = optarg;
			break;
		case 'c':
			a->certs = optarg;
			break;
		case 'p':
			a->policy = optarg;
			break;
		case 'a':
			if (veil_time_parse(optarg, &a->at, &err))
				return cli_usage_error(cmd, "--at: %s", err.msg);
			break;
		case 'r':
			if (veil_name_check(optarg, "region", &err))
				return cli_usage_error(cmd, "--region: %s", err.msg);
			a->region = optarg;
			break;
		case 'd':
			a->report_data = optarg;
			break;
		default:
			a->json = true;
		}
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 1, 1)) >= 0)
		return rc;
	a->file = argv[optind];
	return -1;
}

int cmd_attest_verify(cli_global *g, int argc, char **argv)
{
	verify_args a;
	int rc = parse_verify(g, cli_find("attest verify"), argc, argv, &a);
	return rc >= 0 ? rc : run_verify(&a);
}

int cmd_attest_policy_check(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("attest policy check");
	verify_args a;
	int rc = parse_verify(g, cmd, argc, argv, &a);
	if (rc >= 0)
		return rc;
	if (!a.policy)
		return cli_usage_error(cmd, "--policy FILE is required");
	return run_verify(&a);
}

/* ---- attest policy set / show ---- */
typedef struct scope_args {
	const char *compartment, *key, *file;
	uint32_t version;
	bool json;
} scope_args;

/* The scope's name and the compartment where it is attached. A key that
 * does not exist is told only after access would have been allowed
 * (missing->code set, the compartment tenancy meanwhile), as everywhere. */
static veil_status resolve_scope(cli_ws *ws, const scope_args *a, char scope[VEIL_CATALOG_SCOPE_MAX],
                                 char comp[VEIL_CATALOG_NAME_MAX], veil_err *missing, veil_err *err)
{
	veil_err_clear(missing);
	if (a->key) {
		veil_kek_info info;
		veil_status st = veil_kms_kek_get(ws->kms, a->key, &info, missing);
		if (st == VEIL_E_NOTFOUND) {
			veil_err_hint(missing, "'veil key list' shows the keys");
			snprintf(comp, VEIL_CATALOG_NAME_MAX, "%s", VEIL_ACCESS_TENANCY);
		} else if (st) {
			*err = *missing;
			veil_err_clear(missing);
			return st;
		} else if ((st = veil_catalog_key_compartment(ws->catalog, a->key, comp, err))) {
			return st;
		}
		return veil_fmt(scope, VEIL_CATALOG_SCOPE_MAX, err, "key:%s", a->key);
	}
	snprintf(comp, VEIL_CATALOG_NAME_MAX, "%s", a->compartment ? a->compartment : VEIL_ACCESS_TENANCY);
	return veil_fmt(scope, VEIL_CATALOG_SCOPE_MAX, err, "compartment:%s", comp);
}

/* After an allowed decision: the key named was not there. */
static veil_status report_missing(cli_ws *ws, const char *scope, const veil_err *missing, veil_err *err)
{
	*err = *missing;
	cli_audit_missing(ws, scope, err);
	return err->code;
}

static int parse_scope(cli_global *g, const cli_command *cmd, int argc, char **argv, bool want_file,
                       scope_args *a)
{
	static const struct option longopts[] = {{"compartment", required_argument, NULL, 'c'},
	                                         {"key", required_argument, NULL, 'k'},
	                                         {"version", required_argument, NULL, 'v'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         CLI_COMMON_OPTS,
	                                         {NULL, 0, NULL, 0}};
	memset(a, 0, sizeof *a);
	int opt, rc = -1;
	veil_err err;
	while ((opt = cli_opt(g, cmd, argc, argv, "", longopts, &rc)) != -1) {
		if (opt == 'c' || opt == 'k') {
			if (veil_name_check(optarg, opt == 'c' ? "compartment" : "key", &err))
				return cli_usage_error(cmd, "%s", err.msg);
			*(opt == 'c' ? &a->compartment : &a->key) = optarg;
		} else if (opt == 'v') {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || v < 1 || v > UINT32_MAX || optarg[0] == '-')
				return cli_usage_error(cmd, "--version takes a number from 1");
			a->version = (uint32_t)v;
		} else {
			a->json = true;
		}
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, want_file, want_file)) >= 0)
		return rc;
	if (a->compartment && a->key)
		return cli_usage_error(cmd, "give --compartment or --key, not both");
	if (want_file)
		a->file = argv[optind];
	return -1;
}

int cmd_attest_policy_set(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("attest policy set");
	scope_args a;
	int rc = parse_scope(g, cmd, argc, argv, true, &a);
	if (rc >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	veil_buf text = {0};
	veil_release_policy *pol = NULL;
	/* Validated before the workspace opens: a bad file is a usage matter. */
	veil_status st = veil_fs_read_file(a.file, VEIL_RELEASE_POLICY_MAX_BYTES, &text, &err);
	if (!st && (st = veil_release_policy_parse((const char *)text.data, text.len, &pol, &err)))
		veil_err_wrap(&err, "%s", a.file);
	veil_release_policy_free(pol);
	if (st) {
		veil_buf_free(&text);
		return cli_fail(&err);
	}
	cli_ws ws;
	char scope[VEIL_CATALOG_SCOPE_MAX], comp[VEIL_CATALOG_NAME_MAX];
	if (cli_ws_open(g, WS_CATALOG, &ws, &err)) {
		veil_buf_free(&text);
		return cli_fail(&err);
	}
	veil_err missing;
	st = resolve_scope(&ws, &a, scope, comp, &missing, &err);
	cli_target t = {.verb = VEIL_VERB_MANAGE, .type = "policies", .name = scope, .compartment = comp};
	if (!st)
		st = cli_authorize(&ws, &t, &err);
	if (!st && missing.code)
		st = report_missing(&ws, scope, &missing, &err);
	uint32_t version = 0;
	bool changed = false;
	if (!st && !(st = veil_catalog_begin(ws.catalog, &err))) {
		st = veil_catalog_release_policy_put(ws.catalog, scope, comp, (const char *)text.data,
		                                     text.len, ws.principal.name, &version, &changed, &err);
		if (st == VEIL_E_NOTFOUND)
			cli_audit_missing(&ws, scope, &err);
		if (!st && changed) {
			uint8_t h[VEIL_SHA256_LEN];
			char hex[2 * VEIL_SHA256_LEN + 1];
			if (!(st = veil_sha256(text.data, text.len, h, &err))) {
				veil_hex_encode(h, sizeof h, hex);
				st = cli_audit(&ws, "release-policy.set", scope, "ok",
				               json_pack("{s:I, s:s, s:s}", "version", (json_int_t)version,
				                         "compartment", comp, "sha256", hex),
				               &err);
			}
		}
		if (!st)
			st = veil_catalog_commit(ws.catalog, &err);
		else
			veil_catalog_rollback(ws.catalog);
	}
	veil_buf_free(&text);
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	if (changed)
		cli_info("Set the key-release policy of %s: version %u", scope, version);
	else
		cli_info("The key-release policy of %s is unchanged (version %u)", scope, version);
	return 0;
}

int cmd_attest_policy_show(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("attest policy show");
	scope_args a;
	int rc = parse_scope(g, cmd, argc, argv, false, &a);
	if (rc >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (cli_ws_open(g, WS_CATALOG, &ws, &err))
		return cli_fail(&err);
	char scope[VEIL_CATALOG_SCOPE_MAX], comp[VEIL_CATALOG_NAME_MAX];
	veil_policy_record rec = {0};
	veil_err missing;
	veil_status st = resolve_scope(&ws, &a, scope, comp, &missing, &err);
	cli_target t = {.verb = VEIL_VERB_READ, .type = "policies", .name = scope, .compartment = comp};
	if (!st)
		st = cli_authorize(&ws, &t, &err);
	if (!st && missing.code)
		st = report_missing(&ws, scope, &missing, &err);
	if (!st &&
	    (st = veil_catalog_release_policy_get(ws.catalog, scope, a.version, &rec, &err)) ==
	            VEIL_E_NOTFOUND &&
	    !a.version)
		veil_err_hint(&err, "set one with 'veil attest policy set FILE %s%s'",
		              a.key ? "--key " : "--compartment ", a.key ? a.key : comp);
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	if (a.json) {
		rc = cli_print_json(json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "scope", rec.name, "version",
		                              (json_int_t)rec.version, "compartment", rec.compartment, "text",
		                              rec.text, "sha256", rec.sha256, "applied_by", rec.applied_by));
	} else {
		fputs(rec.text, stdout);
		if (rec.len && rec.text[rec.len - 1] != '\n')
			fputc('\n', stdout);
	}
	veil_policy_record_free(&rec);
	return rc;
}

/* ---- attest evidence ---- */
int cmd_attest_evidence(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("attest evidence");
	static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
	                                         {"nonce", required_argument, NULL, 'n'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         CLI_COMMON_OPTS,
	                                         {NULL, 0, NULL, 0}};
	const char *output = NULL, *nonce_hex = NULL;
	bool json = false;
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "o:", longopts, &rc)) != -1) {
		if (opt == 'o')
			output = optarg;
		else if (opt == 'n')
			nonce_hex = optarg;
		else
			json = true;
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 0, 0)) >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	uint8_t nonce[VEIL_PROTO_NONCE_LEN];
	if (nonce_hex ? veil_hex_decode(nonce_hex, nonce, sizeof nonce, &err)
	              : veil_random(nonce, sizeof nonce, &err))
		return nonce_hex ? cli_usage_error(cmd, "--nonce takes 64 hex digits") : cli_fail(&err);
	cli_ws ws;
	cli_target t = {.verb = VEIL_VERB_INSPECT, .type = "workspace"};
	if (cli_ws_open_for(g, WS_CATALOG | WS_AUDIT, &t, &ws, &err))
		return cli_fail(&err);
	cli_worker w;
	memset(&w, 0, sizeof w);
	w.conn.fd = -1;
	veil_proto_out o;
	veil_proto_out_init(&o, VEIL_MSG_JOB);
	veil_proto_msg m = {0};
	veil_status st = cli_worker_start(&ws, &w, &err);
	if (!st && !(st = veil_proto_add_text(&o, VEIL_F_JOB, "evidence", &err)) &&
	    !(st = veil_proto_add(&o, VEIL_F_NONCE, nonce, sizeof nonce, &err)) &&
	    !(st = veil_proto_send(&w.conn, &o, &err)))
		st = veil_proto_expect(&w.conn, VEIL_MSG_EVIDENCE, &m, &err);
	veil_proto_out_free(&o);
	veil_attest_claims claims;
	uint8_t rd[VEIL_PROTO_BINDING_LEN], want[VEIL_PROTO_BINDING_LEN];
	const veil_proto_field *ev = st ? NULL : veil_proto_get(&m, VEIL_F_EVIDENCE, 0);
	if (!st) {
		const veil_proto_field *table = veil_proto_get(&m, VEIL_F_CERTS, 0);
		veil_evidence e = {.tee = w.tee, .data = ev->value, .len = ev->len};
		if (table && strcmp(w.tee, "sev-snp") == 0) {
			e.certtable = table->value;
			e.certtable_len = table->len;
		}
		veil_broker_trust trust = {.sim = strcmp(w.tee, "sim") == 0 ? &w.sim : NULL,
		                           .region = ws.cfg.region[0] ? ws.cfg.region : NULL};
		if (!(st = veil_broker_verify(&trust, &e, veil_time_now(), &claims, rd, &err)) &&
		    !(st = veil_proto_binding(nonce, veil_proto_get(&m, VEIL_F_PUBKEY, 0)->value,
		                              veil_proto_get(&m, VEIL_F_SIGN_PUBKEY, 0)->value, want,
		                              &err)) &&
		    !veil_ct_equal(rd, want, sizeof want))
			st = veil_err_set(&err, VEIL_E_DENIED,
			                  "the worker's evidence does not bind the nonce it was given");
	}
	if (!st && output)
		st = veil_fs_write_atomic(output, ev->value, ev->len, 0644, &err);
	char tee[16];
	snprintf(tee, sizeof tee, "%s", w.tee);
	cli_worker_stop(&w);
	cli_ws_close(&ws);
	if (st) {
		veil_proto_msg_free(&m);
		return cli_fail(&err);
	}
	json_t *out = claims_json(&claims, rd);
	veil_proto_msg_free(&m);
	char nh[2 * VEIL_PROTO_NONCE_LEN + 1];
	veil_hex_encode(nonce, sizeof nonce, nh);
	json_object_set_new(out, "nonce", json_string(nh));
	if (output)
		json_object_set_new(out, "file", json_string(output));
	if (json)
		return cli_print_json(out);
	print_claims(out);
	printf("%-12s %s\n", "nonce", nh);
	if (output)
		cli_info("Wrote the %s evidence to %s", tee, output);
	json_decref(out);
	return 0;
}
