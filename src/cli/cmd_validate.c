/*
 * veil data validate | profile | report: what is in a dataset, found by the
 * trusted worker without the plaintext leaving it. validate checks the
 * dataset against a schema, profile infers one; both scan for personal
 * data. The worker's signed report is kept (reports.c), the version gets
 * "pii:" tags and the dataset's classification rises to what was found.
 */
#include "cmds.h"
#include "reports.h"
#include "sealed.h"
#include "veil/data.h"

#include <string.h>

typedef struct job_opts {
	bool profile;
	const char *schema_path; /* validate */
	const char *output;      /* profile: where to write the inferred schema */
	bool json;
} job_opts;

static veil_status build_job(const job_opts *o, const veil_dataset_version *v, const veil_buf *schema,
                             veil_proto_out *job, veil_err *err)
{
	veil_proto_out_init(job, VEIL_MSG_JOB);
	veil_status st;
	if (!(st = veil_proto_add_text(job, VEIL_F_JOB, o->profile ? "profile" : "validate", err)) &&
	    !(st = veil_proto_add_text(job, VEIL_F_DEK_ID, v->dek_id, err)) &&
	    !(st = veil_proto_add_u64(job, VEIL_F_SIZE, v->size, err)) &&
	    !(st = veil_proto_add_text(job, VEIL_F_SHA256, v->sha256, err)) &&
	    !(st = veil_proto_add_text(job, VEIL_F_CLASS, v->classification, err)) && schema)
		st = veil_proto_add(job, VEIL_F_SCHEMA, schema->data, schema->len, err);
	return st;
}

/* Reads and checks the schema here first, so that a bad one is reported
 * with its file name before any worker starts or key moves. */
static veil_status load_schema(const char *path, veil_buf *text, veil_err *err)
{
	veil_status st = veil_fs_read_file(path, VEIL_SCHEMA_MAX_BYTES, text, err);
	veil_schema *s = NULL;
	if (st) {
		if (st == VEIL_E_LIMIT)
			veil_err_hint(err, "a schema is at most %u bytes", VEIL_SCHEMA_MAX_BYTES);
		return st;
	}
	if ((st = veil_schema_parse((const char *)text->data, text->len, &s, err)))
		veil_err_wrap(err, "%s", path);
	veil_schema_free(s);
	return st;
}

static void print_summary(const veil_dataset_version *v, const job_opts *o, json_t *summary,
                          const veil_report_record *rec)
{
	json_t *passed = json_object_get(summary, "passed");
	printf("%s@%u: %s\n", v->name, v->version,
	       o->profile ? "profiled" : (json_is_true(passed) ? "PASSED validation" : "FAILED validation"));
	printf("  rows:            %lld\n", (long long)json_integer_value(json_object_get(summary, "rows")));
	if (!o->profile)
		printf("  violations:      %lld\n",
		       (long long)json_integer_value(json_object_get(summary, "violations")));
	printf("  duplicate rows:  %lld\n",
	       (long long)json_integer_value(json_object_get(summary, "duplicate_rows")));
	char pii[256] = "";
	cli_json_join(json_object_get(summary, "pii"), pii, sizeof pii);
	printf("  personal data:   %s\n", pii[0] ? pii : "none found");
	printf("  quasi-identifiers: %lld\n",
	       (long long)json_integer_value(json_object_get(summary, "quasi_identifiers")));
	printf("  classification:  %s\n", json_string_value(json_object_get(summary, "classification")));
	printf("  report:          %lld, signed by the attested worker (veil data report %s@%u)\n",
	       (long long)rec->id, v->name, v->version);
}

/* Writes the inferred schema to o->output ("-": stdout). */
static veil_status write_inferred(const job_opts *o, json_t *report, veil_err *err)
{
	const char *yaml = json_string_value(json_object_get(report, "inferred_schema"));
	if (!yaml)
		return veil_err_set(
		        err, VEIL_E_INVALID,
		        "the profile has no schema to write: the dataset is not CSV (IDX data has "
		        "no columns)");
	if (strcmp(o->output, "-") == 0) {
		fputs(yaml, stdout);
		return VEIL_OK;
	}
	return veil_fs_write_atomic(o->output, yaml, strlen(yaml), 0644, err);
}

static int run(cli_global *g, const cli_command *cmd, const char *ref, const job_opts *o)
{
	veil_err err;
	veil_err_clear(&err);
	veil_buf schema = {0};
	if (o->schema_path && load_schema(o->schema_path, &schema, &err)) {
		veil_buf_free(&schema);
		return cli_fail(&err);
	}
	cli_ws ws;
	cli_resource r;
	veil_status st =
	        cli_ws_open_dataset(g, WS_CATALOG | WS_STORE | WS_AUDIT, ref, VEIL_VERB_USE, &ws, &r, &err);
	if (st) {
		veil_buf_free(&schema);
		return cli_fail(&err);
	}
	const veil_dataset_version *v = &r.dataset;
	const char *action = o->profile ? "data.profile" : "data.validate";
	veil_dek_info di;
	cli_worker w;
	memset(&w, 0, sizeof w);
	w.conn.fd = -1;
	veil_proto_out job;
	veil_proto_out_init(&job, VEIL_MSG_JOB);
	veil_buf report = {0};
	uint8_t sig[VEIL_PROTO_SIG_LEN];
	json_t *parsed = NULL;
	veil_report_record rec = {.passed = -1};
	if (!(st = cli_check_dataset_key(&ws, v, &di, &err)) &&
	    !(st = build_job(o, v, o->schema_path ? &schema : NULL, &job, &err)) &&
	    !(st = cli_worker_start(&ws, &w, &err)) &&
	    !(st = cli_report_job(&ws, &w, &job, v, NULL, 0, NULL, NULL, &report, sig, &err)) &&
	    !(st = cli_report_parse(&report, v, &parsed, &err)))
		st = cli_report_keep(&ws, &w, v, o->profile ? "profile" : "validate", action, &report, sig,
		                     parsed, NULL, NULL, &rec, &err);
	cli_worker_stop(&w);
	veil_proto_out_free(&job);
	if (st) {
		char where[VEIL_CATALOG_REF_MAX];
		snprintf(where, sizeof where, "%s@%u", v->name, v->version);
		cli_audit_refusal(&ws, action, where, &err);
	}
	int rc = 0;
	if (!st && o->output)
		st = write_inferred(o, parsed, &err);
	if (st)
		rc = cli_fail(&err);
	else if (o->json)
		rc = cli_print_json(json_pack("{s:s, s:I, s:I, s:O}", "dataset", v->name, "version",
		                              (json_int_t)v->version, "report", (json_int_t)rec.id, "summary",
		                              json_object_get(parsed, "summary")));
	else if (!(o->output && strcmp(o->output, "-") == 0))
		print_summary(v, o, json_object_get(parsed, "summary"), &rec);
	(void)cmd;
	json_decref(parsed);
	veil_buf_free(&report);
	veil_buf_free(&schema);
	cli_resource_free(&r);
	cli_ws_close(&ws);
	/* A dataset that fails validation is a result, not an error of the
	 * command, but scripts need to tell: exit 1 (docs/cli.md). */
	if (!rc && !o->profile && rec.passed == 0)
		rc = VEIL_EXIT_CHECK;
	return rc;
}

int cmd_data_validate(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("data validate");
	static const struct option longopts[] = {{"schema", required_argument, NULL, 's'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         CLI_COMMON_OPTS,
	                                         {NULL, 0, NULL, 0}};
	job_opts o = {0};
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "s:", longopts, &rc)) != -1) {
		if (opt == 's')
			o.schema_path = optarg;
		else
			o.json = true;
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 1, 1)) >= 0)
		return rc;
	if (!o.schema_path)
		return cli_usage_error(
		        cmd, "--schema FILE is required (veil data profile infers one to start from)");
	return run(g, cmd, argv[optind], &o);
}

int cmd_data_profile(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("data profile");
	static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         CLI_COMMON_OPTS,
	                                         {NULL, 0, NULL, 0}};
	job_opts o = {.profile = true};
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "o:", longopts, &rc)) != -1) {
		if (opt == 'o')
			o.output = optarg;
		else
			o.json = true;
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 1, 1)) >= 0)
		return rc;
	if (o.json && o.output && strcmp(o.output, "-") == 0)
		return cli_usage_error(cmd, "--json and --output - both want standard output");
	return run(g, cmd, argv[optind], &o);
}

/* ---- veil data report ---- */

typedef struct report_args {
	const char *kind;
	bool verify, json, full;
} report_args;

/* Everything printed comes from the signed report, not the catalog's
 * summary of it, which the host could have edited. */
static void print_report(const veil_report_record *rec, json_t *env, json_t *report,
                         const veil_attest_claims *claims, bool verified)
{
	json_t *summary = json_object_get(report, "summary");
	json_t *passed = json_object_get(summary, "passed");
	json_t *worker = json_object_get(report, "worker");
	printf("report %lld of %s@%u (%s), %s\n", (long long)rec->id, rec->dataset, rec->version,
	       json_string_value(json_object_get(report, "job")),
	       json_is_true(passed)    ? "passed"
	       : json_is_false(passed) ? "failed"
	                               : "no verdict");
	printf("  worker:      %s, measurement %.16s...\n", json_string_value(json_object_get(worker, "tee")),
	       json_string_value(json_object_get(worker, "measurement")));
	printf("  signed by:   %s\n", json_string_value(json_object_get(env, "signing_key")));
	if (verified)
		printf("  verified:    signature, evidence (%s%s) and binding all check\n",
		       json_string_value(json_object_get(worker, "tee")),
		       claims->simulated ? ", SIMULATED: proves nothing about hardware" : "");
	char *s = json_dumps(summary, JSON_INDENT(2));
	printf("  summary:     %s\n", s ? s : "?");
	free(s);
}

int cmd_data_report(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("data report");
	static const struct option longopts[] = {{"kind", required_argument, NULL, 'k'},
	                                         {"verify", no_argument, NULL, 'v'},
	                                         {"full", no_argument, NULL, 'f'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         CLI_COMMON_OPTS,
	                                         {NULL, 0, NULL, 0}};
	report_args a = {0};
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "k:", longopts, &rc)) != -1) {
		if (opt == 'k')
			a.kind = optarg;
		else if (opt == 'v')
			a.verify = true;
		else if (opt == 'f')
			a.full = true;
		else
			a.json = true;
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 1, 1)) >= 0)
		return rc;
	rc = 0;
	if (a.kind && strcmp(a.kind, "validate") != 0 && strcmp(a.kind, "profile") != 0 &&
	    strcmp(a.kind, "features") != 0)
		return cli_usage_error(cmd, "--kind is validate, profile or features");
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	cli_resource r;
	if (cli_ws_open_dataset(g, WS_CATALOG | WS_STORE | WS_AUDIT, argv[optind], VEIL_VERB_READ, &ws, &r,
	                        &err))
		return cli_fail(&err);
	veil_status st = VEIL_OK;
	veil_report_record rec;
	json_t *env = NULL, *report = NULL;
	veil_attest_claims claims;
	veil_attest_claims_init(&claims);
	if (!(st = veil_catalog_report_latest(ws.catalog, r.dataset.name, r.dataset.version, a.kind, &rec,
	                                      &err)))
		st = cli_report_open(&ws, &rec, &r.dataset, a.verify, &env, &report, &claims, &err);
	if (st == VEIL_E_NOTFOUND && !strstr(err.msg, "dataset"))
		veil_err_hint(&err, "run veil data validate or veil data profile on %s@%u first",
		              r.dataset.name, r.dataset.version);
	if (!st && a.verify) {
		const char *signer = json_string_value(json_object_get(env, "signing_key"));
		if (!signer || strcmp(signer, rec.signer) != 0)
			st = veil_err_set(&err, VEIL_E_CORRUPT,
			                  "the envelope's signing key is not the one the catalog recorded");
	}
	char ref[VEIL_CATALOG_REF_MAX];
	snprintf(ref, sizeof ref, "%s@%u", r.dataset.name, r.dataset.version);
	veil_err aerr;
	if (!st &&
	    (st = cli_audit(&ws, "data.report", ref, "ok",
	                    json_pack("{s:I, s:b}", "report", (json_int_t)rec.id, "verified", a.verify),
	                    &aerr)))
		err = aerr;
	if (st)
		rc = cli_fail(&err);
	else if (a.json)
		rc = cli_print_json(a.full ? json_incref(env) : json_incref(report));
	else {
		print_report(&rec, env, report, &claims, a.verify);
		if (a.full) {
			char *s = json_dumps(report, JSON_INDENT(2));
			printf("%s\n", s ? s : "");
			free(s);
		}
	}
	json_decref(report);
	json_decref(env);
	cli_resource_free(&r);
	cli_ws_close(&ws);
	return rc;
}
