/*
 * veil features build: fit a feature pipeline on a dataset inside the
 * trusted worker. The worker gets the input's key, a fresh key for the
 * output and one for the fitted transform (and the compartment's
 * pseudonymisation key when the pipeline pseudonymises), all through
 * attestation-gated release; it sends back only ciphertext, which this
 * process stores, and a signed report. In one audited catalog transaction
 * the output becomes a new version of the output dataset, the fitted
 * transform a version of "<output>.transform" (so that serving applies
 * exactly what was fitted), and lineage links input, pipeline, transform
 * and output with the worker's measurement.
 */
#include "cmds.h"
#include "reports.h"
#include "veil/data.h"

#include <string.h>

/* A compartment's pseudonymisation key: one data key under the key
 * encryption key "pseudonym.<compartment>", made on first use and named in
 * the catalog's meta table. The same key gives the same pseudonyms in
 * every build of the compartment, so pseudonymised datasets still join;
 * gc never shreds it (cmd_gc.c). */
#define PSEUDONYM_PREFIX "pseudonym."

static veil_status pseudonym_key(cli_ws *ws, const char *compartment, char id[VEIL_CATALOG_DEK_ID_MAX],
                                 veil_err *err)
{
	char name[VEIL_CATALOG_NAME_MAX + 16];
	snprintf(name, sizeof name, PSEUDONYM_PREFIX "%s", compartment);
	if (strlen(name) > 64)
		return veil_err_set(
		        err, VEIL_E_LIMIT,
		        "compartment %s has too long a name for a pseudonymisation key (at most %zu "
		        "characters)",
		        compartment, 64 - strlen(PSEUDONYM_PREFIX));
	veil_status st = veil_catalog_meta_get(ws->catalog, name, id, VEIL_CATALOG_DEK_ID_MAX, err);
	if (st != VEIL_E_NOTFOUND)
		return st;
	veil_err_clear(err);
	cli_target t = {.verb = VEIL_VERB_MANAGE,
	                .type = "keys",
	                .name = name,
	                .compartment = compartment,
	                .region = ws->request_region};
	if ((st = cli_authorize(ws, &t, err)))
		return st;
	st = cli_key_create(ws, name, compartment, "pseudonymisation", err);
	if (st == VEIL_E_EXISTS) /* made by a build that was killed before it recorded its key */
		veil_err_clear(err), st = VEIL_OK;
	uint8_t *dek = veil_secure_alloc(VEIL_KMS_DEK_LEN);
	if (!dek)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	if (!st)
		st = veil_kms_dek_new(ws->kms, name, ws->request_region, id, dek, err);
	veil_secure_free(dek, VEIL_KMS_DEK_LEN);
	if (!st && (st = veil_catalog_meta_set(ws->catalog, name, id, err))) {
		veil_err e2;
		if (veil_kms_dek_destroy(ws->kms, id, &e2))
			veil_log(VEIL_LOG_WARN, "features.cleanup", "cannot destroy data key %s: %s", id,
			         e2.msg);
	}
	return st;
}

typedef struct build {
	const char *pipeline_path;
	veil_buf pipeline;
	const char *schema_path; /* optional: the input's column types */
	veil_buf schema;
	const char *input, *output;
	bool json;
	/* what the worker made, as stored */
	char out_dek[VEIL_CATALOG_DEK_ID_MAX], transform_dek[VEIL_CATALOG_DEK_ID_MAX];
	char pseudonym_dek[VEIL_CATALOG_DEK_ID_MAX];
	char out_object[VEIL_CATALOG_HEX_MAX], transform_object[VEIL_CATALOG_HEX_MAX];
} build;

static veil_status receive_outputs(void *ctx, cli_ws *ws, cli_worker *w, veil_err *err)
{
	build *b = ctx;
	veil_status st = cli_worker_receive_object(ws, w, NULL, b->out_object, err);
	return st ? st : cli_worker_receive_object(ws, w, NULL, b->transform_object, err);
}

/* Undoes what a failed build left: stored objects and fresh keys. */
static void discard(cli_ws *ws, build *b)
{
	veil_err e;
	const char *objs[] = {b->out_object, b->transform_object};
	const char *keys[] = {b->out_dek, b->transform_dek};
	for (size_t i = 0; i < 2; i++) {
		if (objs[i][0] && veil_store_remove(ws->store, objs[i], &e))
			veil_log(VEIL_LOG_WARN, "features.cleanup", "cannot remove object %s: %s", objs[i],
			         e.msg);
		if (keys[i][0] && veil_kms_dek_destroy(ws->kms, keys[i], &e))
			veil_log(VEIL_LOG_WARN, "features.cleanup", "cannot destroy data key %s: %s", keys[i],
			         e.msg);
	}
}

/* The new version of name for an object the worker sealed and described
 * in the report's section `section` ("output", "transform"). */
static veil_status new_version(cli_ws *ws, const veil_dataset_version *in, const char *name, json_t *report,
                               const char *section, const char *object_id, const char *dek_id,
                               veil_dataset_version *v, veil_err *err)
{
	json_t *o = json_object_get(report, section);
	const char *sha = json_string_value(json_object_get(o, "sha256"));
	const char *dek = json_string_value(json_object_get(o, "dek_id"));
	json_int_t size = json_integer_value(json_object_get(o, "size"));
	json_int_t chunk = json_integer_value(json_object_get(o, "chunk_size"));
	if (!sha || !dek || strcmp(dek, dek_id) != 0 || size < 0 || chunk <= 0 || chunk > UINT32_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "the worker's report does not describe its %s",
		                    section);
	memset(v, 0, sizeof *v);
	snprintf(v->name, sizeof v->name, "%s", name);
	snprintf(v->owner, sizeof v->owner, "%s", in->owner);
	snprintf(v->classification, sizeof v->classification, "%s", in->classification);
	snprintf(v->compartment, sizeof v->compartment, "%s", in->compartment);
	snprintf(v->region, sizeof v->region, "%s", in->region);
	snprintf(v->sha256, sizeof v->sha256, "%s", sha);
	snprintf(v->object_id, sizeof v->object_id, "%s", object_id);
	snprintf(v->dek_id, sizeof v->dek_id, "%s", dek_id);
	snprintf(v->kek, sizeof v->kek, "%s", in->kek);
	cli_ws_actor(v->created_by, sizeof v->created_by);
	v->size = (uint64_t)size;
	v->chunk_size = (uint32_t)chunk;
	/* An existing dataset keeps its owner, class and place: the catalog
	 * refuses a mismatch, which here means the names collide. */
	veil_status st = veil_catalog_dataset_add_version(ws->catalog, v, err);
	if (st == VEIL_E_INVALID)
		veil_err_hint(err,
		              "dataset %s exists with another owner, classification or compartment than %s: "
		              "choose another --output",
		              name, in->name);
	return st;
}

/* The made-callback of cli_report_keep: output and transform versions,
 * their lineage and their data.derive events, inside the report's
 * transaction; the report is kept for the output version. */
typedef struct made_ctx {
	cli_ws *ws;
	const veil_dataset_version *in;
	build *b;
	json_t *report;
	veil_dataset_version out, tr;
} made_ctx;

static json_t *derive_event(const veil_dataset_version *v, const veil_dataset_version *in, const char *what)
{
	char ref[VEIL_CATALOG_REF_MAX], from[VEIL_CATALOG_REF_MAX];
	snprintf(ref, sizeof ref, "%s@%u", v->name, v->version);
	snprintf(from, sizeof from, "%s@%u", in->name, in->version);
	return json_pack("[s, s, {s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}]", "data.derive", ref, "size",
	                 (json_int_t)v->size, "sha256", v->sha256, "object_id", v->object_id, "dek_id",
	                 v->dek_id, "kek", v->kek, "classification", v->classification, "from", from, "what",
	                 what);
}

static veil_status record_outputs(void *ctx, const cli_worker *w, const veil_dataset_version **described,
                                  json_t *events, veil_err *err)
{
	made_ctx *m = ctx;
	const veil_dataset_version *in = m->in;
	char tname[VEIL_CATALOG_NAME_MAX + 16], in_ref[VEIL_CATALOG_REF_MAX], out_ref[VEIL_CATALOG_REF_MAX],
	        tr_ref[VEIL_CATALOG_REF_MAX], pipe_ref[VEIL_CATALOG_REF_MAX];
	snprintf(tname, sizeof tname, "%s.transform", m->b->output);
	if (strlen(tname) > 64)
		return veil_err_set(err, VEIL_E_LIMIT, "--output %s is too long to name its transform %s",
		                    m->b->output, tname);
	const char *psha = json_string_value(json_object_get(m->report, "pipeline_sha256"));
	veil_status st;
	if ((st = new_version(m->ws, in, m->b->output, m->report, "output", m->b->out_object, m->b->out_dek,
	                      &m->out, err)) ||
	    (st = new_version(m->ws, in, tname, m->report, "transform", m->b->transform_object,
	                      m->b->transform_dek, &m->tr, err)))
		return st;
	snprintf(in_ref, sizeof in_ref, "%s@%u", in->name, in->version);
	snprintf(out_ref, sizeof out_ref, "%s@%u", m->out.name, m->out.version);
	snprintf(tr_ref, sizeof tr_ref, "%s@%u", m->tr.name, m->tr.version);
	snprintf(pipe_ref, sizeof pipe_ref, "sha256:%s", psha ? psha : "?");
	const char *meas = w->measurement;
	veil_catalog *c = m->ws->catalog;
	if ((st = veil_catalog_lineage_add(c, "dataset_version", out_ref, "derived_from", "dataset_version",
	                                   in_ref, meas, err)) ||
	    (st = veil_catalog_lineage_add(c, "dataset_version", out_ref, "transformed_by", "dataset_version",
	                                   tr_ref, meas, err)) ||
	    (st = veil_catalog_lineage_add(c, "dataset_version", tr_ref, "fitted_on", "dataset_version",
	                                   in_ref, meas, err)) ||
	    (st = veil_catalog_lineage_add(c, "dataset_version", tr_ref, "fitted_from", "pipeline", pipe_ref,
	                                   meas, err)))
		return st;
	json_array_append_new(events, derive_event(&m->out, in, "features"));
	json_array_append_new(events, derive_event(&m->tr, in, "fitted transform"));
	*described = &m->out;
	return VEIL_OK;
}

/* Reads the pipeline and checks it parses, here first, so that a bad one
 * is reported with its file name before any worker starts or key moves. */
static veil_status check_pipeline(build *b, bool *needs_key, veil_err *err)
{
	veil_status st = veil_fs_read_file(b->pipeline_path, VEIL_PIPELINE_MAX_BYTES, &b->pipeline, err);
	if (st)
		return st;
	veil_pipeline *p = NULL;
	if ((st = veil_pipeline_parse((const char *)b->pipeline.data, b->pipeline.len, &p, err)))
		veil_err_wrap(err, "%s", b->pipeline_path);
	*needs_key = !st && veil_pipeline_needs_key(p);
	veil_pipeline_free(p);
	if (st || !b->schema_path)
		return st;
	veil_schema *s = NULL;
	if (!(st = veil_fs_read_file(b->schema_path, VEIL_SCHEMA_MAX_BYTES, &b->schema, err)) &&
	    (st = veil_schema_parse((const char *)b->schema.data, b->schema.len, &s, err)))
		veil_err_wrap(err, "%s", b->schema_path);
	veil_schema_free(s);
	return st;
}

static veil_status run(cli_ws *ws, build *b, const veil_dataset_version *in, bool needs_key, made_ctx *mc,
                       veil_report_record *rec, veil_err *err)
{
	cli_worker w;
	memset(&w, 0, sizeof w);
	w.conn.fd = -1;
	veil_dek_info di;
	veil_proto_out job;
	veil_proto_out_init(&job, VEIL_MSG_JOB);
	veil_buf report = {0};
	uint8_t sig[VEIL_PROTO_SIG_LEN];
	veil_status st = cli_check_dataset_key(ws, in, &di, err);
	if (!st && needs_key)
		st = pseudonym_key(ws, in->compartment, b->pseudonym_dek, err);
	if (!st && !(st = cli_dek_for_worker(ws, in->kek, b->out_dek, err)))
		st = cli_dek_for_worker(ws, in->kek, b->transform_dek, err);
	if (!st && !(st = veil_proto_add_text(&job, VEIL_F_JOB, "features", err)) &&
	    !(st = veil_proto_add_text(&job, VEIL_F_DEK_ID, in->dek_id, err)) &&
	    !(st = veil_proto_add_text(&job, VEIL_F_DEK_ID, b->out_dek, err)) &&
	    !(st = veil_proto_add_text(&job, VEIL_F_DEK_ID, b->transform_dek, err)) &&
	    !(st = needs_key ? veil_proto_add_text(&job, VEIL_F_DEK_ID, b->pseudonym_dek, err) : VEIL_OK) &&
	    !(st = veil_proto_add_u64(&job, VEIL_F_SIZE, in->size, err)) &&
	    !(st = veil_proto_add_text(&job, VEIL_F_SHA256, in->sha256, err)) &&
	    !(st = veil_proto_add_text(&job, VEIL_F_CLASS, in->classification, err)) &&
	    !(st = b->schema_path ? veil_proto_add(&job, VEIL_F_SCHEMA, b->schema.data, b->schema.len, err)
	                          : VEIL_OK))
		st = veil_proto_add(&job, VEIL_F_PIPELINE, b->pipeline.data, b->pipeline.len, err);
	const char *extra[] = {b->out_dek, b->transform_dek, b->pseudonym_dek};
	if (!st && !(st = cli_worker_start(ws, &w, err)) &&
	    !(st = cli_report_job(ws, &w, &job, in, extra, needs_key ? 3 : 2, receive_outputs, b, &report,
	                          sig, err)) &&
	    !(st = cli_report_parse(&report, in, &mc->report, err))) {
		st = cli_report_keep(ws, &w, in, "features", "features.build", &report, sig, mc->report,
		                     record_outputs, mc, rec, err);
	}
	cli_worker_stop(&w);
	veil_proto_out_free(&job);
	veil_buf_free(&report);
	if (st)
		discard(ws, b);
	return st;
}

static void print_build(const made_ctx *mc, const veil_report_record *rec)
{
	json_t *sum = json_object_get(mc->report, "summary");
	printf("Built %s@%u from %s@%u inside the trusted worker\n", mc->out.name, mc->out.version,
	       mc->in->name, mc->in->version);
	printf("  rows:              %lld in, %lld out (%lld suppressed for k-anonymity)\n",
	       (long long)json_integer_value(json_object_get(sum, "rows_in")),
	       (long long)json_integer_value(json_object_get(sum, "rows_out")),
	       (long long)json_integer_value(json_object_get(sum, "rows_suppressed")));
	printf("  columns:           %lld\n",
	       (long long)json_integer_value(json_object_get(sum, "columns_out")));
	if (json_integer_value(json_object_get(sum, "k_smallest_group")))
		printf("  smallest group:    %lld rows\n",
		       (long long)json_integer_value(json_object_get(sum, "k_smallest_group")));
	printf("  direct identifiers: %s\n", json_is_true(json_object_get(sum, "direct_identifiers_removed"))
	                                             ? "none left (dropped or pseudonymised)"
	                                             : "SOME LEFT IN THE OUTPUT");
	printf("  fitted transform:  %s@%u (serving applies it)\n", mc->tr.name, mc->tr.version);
	printf("  report:            %lld (veil data report %s@%u --full shows mutual information)\n",
	       (long long)rec->id, mc->out.name, mc->out.version);
}

int cmd_features_build(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("features build");
	static const struct option longopts[] = {{"input", required_argument, NULL, 'i'},
	                                         {"output", required_argument, NULL, 'o'},
	                                         {"schema", required_argument, NULL, 's'},
	                                         {"json", no_argument, NULL, 'j'},
	                                         CLI_COMMON_OPTS,
	                                         {NULL, 0, NULL, 0}};
	build b = {0};
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "i:o:s:", longopts, &rc)) != -1) {
		if (opt == 'i')
			b.input = optarg;
		else if (opt == 's')
			b.schema_path = optarg;
		else if (opt == 'o')
			b.output = optarg;
		else
			b.json = true;
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 1, 1)) >= 0)
		return rc;
	rc = 0;
	if (!b.input || !b.output)
		return cli_usage_error(cmd, "--input NAME[@VERSION] and --output NAME are required");
	b.pipeline_path = argv[optind];
	veil_err err;
	veil_err_clear(&err);
	bool needs_key = false;
	if (veil_name_check(b.output, "--output", &err) || check_pipeline(&b, &needs_key, &err)) {
		veil_buf_free(&b.pipeline);
		veil_buf_free(&b.schema);
		return cli_fail(&err);
	}
	cli_ws ws;
	if (cli_ws_open(g, WS_CATALOG | WS_STORE | WS_AUDIT, &ws, &err)) {
		veil_buf_free(&b.pipeline);
		veil_buf_free(&b.schema);
		return cli_fail(&err);
	}
	/* The input's plaintext is used in the worker (use datasets, use
	 * keys); the output is a version of a dataset, made as an upload
	 * would be (manage datasets where the input lives). */
	cli_resource r, o = {0};
	veil_status st = cli_authorize_dataset_and_key(&ws, b.input, VEIL_VERB_USE, &r, &err);
	if (!st) {
		if (!(st = cli_resource_find(&ws, "datasets", b.output, VEIL_VERB_MANAGE, &o, &err))) {
			if (!o.found) {
				o.t.compartment = r.dataset.compartment;
				o.t.owner = r.dataset.owner;
				o.t.classification = r.dataset.classification;
				o.t.region = ws.request_region;
			}
			st = cli_authorize(&ws, &o.t, &err);
			cli_resource_free(&o);
		}
		if (st)
			cli_resource_free(&r);
	}
	if (st) {
		cli_ws_close(&ws);
		veil_buf_free(&b.pipeline);
		veil_buf_free(&b.schema);
		return cli_fail(&err);
	}
	made_ctx mc = {.ws = &ws, .in = &r.dataset, .b = &b};
	veil_report_record rec;
	if (run(&ws, &b, &r.dataset, needs_key, &mc, &rec, &err) != VEIL_OK) {
		char ref[VEIL_CATALOG_REF_MAX];
		snprintf(ref, sizeof ref, "%s@%u", r.dataset.name, r.dataset.version);
		cli_audit_refusal(&ws, "features.build", ref, &err);
		rc = cli_fail(&err);
	} else if (b.json)
		rc = cli_print_json(json_pack("{s:s, s:I, s:s, s:I, s:I, s:O}", "output", mc.out.name,
		                              "version", (json_int_t)mc.out.version, "transform", mc.tr.name,
		                              "transform_version", (json_int_t)mc.tr.version, "report",
		                              (json_int_t)rec.id, "summary",
		                              json_object_get(mc.report, "summary")));
	else
		print_build(&mc, &rec);
	json_decref(mc.report);
	cli_resource_free(&r);
	cli_ws_close(&ws);
	veil_buf_free(&b.pipeline);
	veil_buf_free(&b.schema);
	return rc;
}
