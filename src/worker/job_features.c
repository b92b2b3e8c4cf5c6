/*
 * The "features" job: fit a feature pipeline (docs/formats/pipeline.md) on
 * a dataset inside the worker and write two new objects, sealed under data
 * keys released to this worker for the purpose: the transformed dataset
 * (CSV) and the fitted pipeline, which serving will apply later. Both go
 * back to the host as ciphertext only (DATA messages, then END, each); the
 * host stores them without ever holding their plaintext. A signed report
 * says what was built from what: sizes and SHA-256s of input and outputs,
 * what each step did, k-anonymity, and each feature's mutual information
 * with the label.
 *
 * The input is read whole into memory: fitting needs every row (medians,
 * vocabularies, quantile edges), and the table is what training will use.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "veil/data.h"
#include "worker.h"

#define FEATURES_INPUT_MAX ((uint64_t)4 << 30) /* plaintext bytes a features job takes */

enum { KEY_IN, KEY_OUT, KEY_TRANSFORM, KEY_PSEUDONYM, KEYS_N };

typedef struct features_args {
	char ids[KEYS_N][VEIL_OBJ_KEY_ID_MAX + 1];
	size_t nkeys;
	char want_sha[VEIL_SHA256_LEN * 2 + 1];
	uint64_t want_size;
	const veil_proto_field *pipeline;
	char pipeline_sha[VEIL_SHA256_LEN * 2 + 1];
	const veil_proto_field *schema; /* optional: the input's column types */
} features_args;

static veil_status read_args(const veil_proto_msg *job, features_args *a, veil_err *err)
{
	memset(a, 0, sizeof *a);
	a->nkeys = veil_proto_count(job, VEIL_F_DEK_ID);
	if (a->nkeys < KEY_PSEUDONYM || a->nkeys > KEYS_N)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "a features job names %zu data keys (input, output, transform and, to "
		                    "pseudonymise, the pseudonym key)",
		                    a->nkeys);
	veil_status st = VEIL_OK;
	for (size_t i = 0; i < a->nkeys && !st; i++)
		st = veil_proto_get_text(job, VEIL_F_DEK_ID, i, a->ids[i], sizeof a->ids[i], err);
	if (st || (st = veil_proto_get_text(job, VEIL_F_SHA256, 0, a->want_sha, sizeof a->want_sha, err)) ||
	    (st = veil_proto_get_u64(job, VEIL_F_SIZE, &a->want_size, err)))
		return st;
	if (a->want_size > FEATURES_INPUT_MAX)
		return veil_err_set(err, VEIL_E_LIMIT,
		                    "a features job takes at most %llu bytes of input, not %llu",
		                    (unsigned long long)FEATURES_INPUT_MAX, (unsigned long long)a->want_size);
	for (size_t i = 0; i < a->nkeys; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->ids[i], a->ids[j]) == 0)
				return veil_err_set(err, VEIL_E_INVALID,
				                    "a features job names data key %s twice", a->ids[i]);
	a->schema = veil_proto_get(job, VEIL_F_SCHEMA, 0);
	if (!(a->pipeline = veil_proto_get(job, VEIL_F_PIPELINE, 0)))
		return veil_err_set(err, VEIL_E_INVALID, "a features job without a pipeline");
	uint8_t d[VEIL_SHA256_LEN];
	if ((st = veil_hash(VEIL_HASH_SHA256, a->pipeline->value, a->pipeline->len, d, err)))
		return st;
	veil_hex_encode(d, sizeof d, a->pipeline_sha);
	return VEIL_OK;
}

static void write_object(veil_jw *jw, const char *key, const char *dek_id, const worker_written *o)
{
	veil_jw_key(jw, key);
	veil_jw_object(jw);
	veil_jw_kstr(jw, "dek_id", dek_id);
	veil_jw_kuint(jw, "size", o->size);
	veil_jw_kstr(jw, "sha256", o->sha256);
	veil_jw_kuint(jw, "chunk_size", o->chunk_size);
	veil_jw_end(jw);
}

static veil_status write_report(const worker *w, const features_args *a, const veil_pipeline *p,
                                const veil_table *out, const veil_pipeline_stats *stats,
                                const worker_written *data, const worker_written *transform, veil_buf *report,
                                veil_err *err)
{
	char meas[2 * VEIL_SNP_MEASUREMENT_LEN + 1];
	veil_hex_encode(w->measurement, sizeof w->measurement, meas);
	veil_jw jw;
	veil_jw_init(&jw, report);
	veil_jw_object(&jw);
	veil_jw_kstr(&jw, "format", "veil-report");
	veil_jw_kint(&jw, "version", 1);
	veil_jw_kstr(&jw, "job", "features");
	veil_jw_key(&jw, "worker");
	veil_jw_object(&jw);
	veil_jw_kstr(&jw, "tee", w->tee);
	veil_jw_kstr(&jw, "measurement", meas);
	veil_jw_end(&jw);
	veil_jw_kint(&jw, "created", veil_time_now());
	veil_jw_kstr(&jw, "pipeline_sha256", a->pipeline_sha);
	veil_jw_key(&jw, "dataset");
	veil_jw_object(&jw);
	veil_jw_kstr(&jw, "dek_id", a->ids[KEY_IN]);
	veil_jw_kuint(&jw, "size", a->want_size);
	veil_jw_kstr(&jw, "sha256", a->want_sha);
	veil_jw_end(&jw);
	write_object(&jw, "output", a->ids[KEY_OUT], data);
	write_object(&jw, "transform", a->ids[KEY_TRANSFORM], transform);
	veil_jw_key(&jw, "summary");
	veil_jw_object(&jw);
	veil_jw_kuint(&jw, "rows_in", stats->rows_in);
	veil_jw_kuint(&jw, "rows_out", stats->rows_out);
	veil_jw_kuint(&jw, "columns_out", veil_table_ncols(out));
	veil_jw_kuint(&jw, "rows_suppressed", stats->rows_suppressed);
	veil_jw_kuint(&jw, "k_smallest_group", stats->k_smallest_group);
	veil_jw_kuint(&jw, "k_groups_below", stats->k_groups_below);
	veil_jw_kbool(&jw, "direct_identifiers_removed", stats->direct_identifiers_removed);
	veil_jw_kbool(&jw, "pseudonymised", a->nkeys == KEYS_N);
	veil_jw_end(&jw);
	veil_jw_key(&jw, "build");
	veil_jw_object(&jw);
	veil_status st = veil_pipeline_report(p, out, stats, &jw, err);
	if (st)
		return st;
	veil_jw_end(&jw);
	veil_jw_end(&jw);
	return veil_jw_finish(&jw, err);
}

/* Whether any text column of the output holds direct identifiers by its
 * values (e-mail, phone, SSN, card, IBAN at the scan's threshold). The
 * pipeline judges by headers and by what its steps did; this catches an
 * identifier kept under an innocent name ("contact"). Headers are not
 * consulted here: a pseudonymised "email" column holds hex, not e-mail. */
static bool values_hold_direct_identifiers(const veil_table *t)
{
	for (size_t c = 0; c < veil_table_ncols(t); c++) {
		veil_table_col col;
		veil_table_column(t, c, &col);
		if (col.type != VEIL_COL_STRING && col.type != VEIL_COL_CATEGORY)
			continue;
		veil_pii_counts counts = {0};
		for (size_t r = 0; r < col.nrows; r++) {
			if (!veil_table_valid(&col, r))
				continue;
			const veil_table_str *v =
			        col.type == VEIL_COL_STRING ? &col.str[r] : &col.dict[col.codes[r]];
			veil_pii_count(&counts, v->p, v->len);
		}
		double rate;
		veil_pii verdict = veil_pii_verdict(&counts, "", VEIL_VALIDATE_THRESHOLD_DEFAULT, &rate);
		if (verdict == VEIL_PII_EMAIL || verdict == VEIL_PII_PHONE || verdict == VEIL_PII_SSN ||
		    verdict == VEIL_PII_PAYMENT_CARD || verdict == VEIL_PII_IBAN)
			return true;
	}
	return false;
}

/* Everything after the keys: input, fit, the two sealed outputs, the report. */
static veil_status build(worker *w, const features_args *a, veil_pipeline *p, const veil_schema *schema,
                         const uint8_t *deks, veil_buf *report, veil_err *err)
{
	veil_buf in = {0}, csv = {0}, yaml = {0};
	veil_table *table = NULL, *out = NULL;
	veil_pipeline_stats stats = {0};
	worker_written data = {0}, transform = {0};
	const uint8_t *key = a->nkeys == KEYS_N ? deks + KEY_PSEUDONYM * VEIL_PROTO_DEK_LEN : NULL;
	veil_status st = worker_read_whole(w, a->ids[KEY_IN], deks + KEY_IN * VEIL_PROTO_DEK_LEN,
	                                   a->want_size, a->want_sha, &in, err);
	if (!st)
		st = veil_table_from_csv(in.data, in.len, NULL, schema, &table, err);
	if (in.data)
		OPENSSL_cleanse(in.data, in.cap);
	veil_buf_free(&in);
	if (!st && (st = veil_pipeline_check(p, table, err)))
		veil_err_wrap(err, "the pipeline");
	if (!st)
		st = veil_pipeline_fit(p, table, key, &out, &stats, err);
	if (!st && stats.direct_identifiers_removed && values_hold_direct_identifiers(out))
		stats.direct_identifiers_removed = false;
	if (!st && stats.rows_out == 0)
		st = veil_err_set(
		        err, VEIL_E_INVALID,
		        "the pipeline left no row (k-anonymity suppressed all %llu): nothing to store",
		        (unsigned long long)stats.rows_in);
	if (!st)
		st = veil_table_write_csv(out, veil_buf_write, &csv, err);
	if (!st)
		st = veil_pipeline_write(p, &yaml, err);
	if (!st)
		st = worker_send_sealed(w, csv.data, csv.len, a->ids[KEY_OUT],
		                        deks + KEY_OUT * VEIL_PROTO_DEK_LEN, &data, err);
	if (!st)
		st = worker_send_sealed(w, yaml.data, yaml.len, a->ids[KEY_TRANSFORM],
		                        deks + KEY_TRANSFORM * VEIL_PROTO_DEK_LEN, &transform, err);
	if (!st)
		st = write_report(w, a, p, out, &stats, &data, &transform, report, err);
	if (csv.data)
		OPENSSL_cleanse(csv.data, csv.cap);
	if (yaml.data)
		OPENSSL_cleanse(yaml.data, yaml.cap);
	veil_buf_free(&csv);
	veil_buf_free(&yaml);
	veil_table_free(table);
	veil_table_free(out);
	return st;
}

veil_status worker_job_features(worker *w, const veil_proto_msg *msg, veil_err *err)
{
	features_args a;
	veil_pipeline *p = NULL;
	veil_schema *schema = NULL;
	veil_status st = read_args(msg, &a, err);
	if (!st && !a.pipeline) { /* read_args refuses a job without one; said again for the analyzer */
		veil_err_set(err, VEIL_E_INTERNAL, "a features job without a pipeline");
		st = VEIL_E_INTERNAL;
	}
	/* The pipeline and the schema are parsed before any key is asked for. */
	if (!st && (st = veil_pipeline_parse((const char *)a.pipeline->value, a.pipeline->len, &p, err)))
		veil_err_wrap(err, "the pipeline");
	/* The host cannot tell the worker which columns are sensitive: the
	 * build report shows no learned value of any column. */
	if (!st)
		veil_pipeline_set_redact_all(p, true);
	if (!st && a.schema &&
	    (st = veil_schema_parse((const char *)a.schema->value, a.schema->len, &schema, err)))
		veil_err_wrap(err, "the schema");
	if (!st && veil_pipeline_needs_key(p) != (a.nkeys == KEYS_N))
		st = veil_err_set(err, VEIL_E_INVALID,
		                  veil_pipeline_needs_key(p)
		                          ? "the pipeline pseudonymises, but the job names no pseudonym key"
		                          : "the job names a pseudonym key the pipeline does not use");
	uint8_t *deks = st ? NULL : veil_secure_alloc(KEYS_N * VEIL_PROTO_DEK_LEN);
	if (!st && !deks)
		st = veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	if (st) {
		veil_pipeline_free(p);
		veil_schema_free(schema);
		return st;
	}
	const char *ids[KEYS_N] = {a.ids[0], a.ids[1], a.ids[2], a.ids[3]};
	veil_buf report = {0};
	if (!(st = worker_get_keys(w, ids, a.nkeys, deks, err)) &&
	    !(st = build(w, &a, p, schema, deks, &report, err)))
		st = worker_send_report(w, &report, err);
	veil_secure_free(deks, KEYS_N * VEIL_PROTO_DEK_LEN);
	veil_pipeline_free(p);
	veil_schema_free(schema);
	veil_buf_free(&report);
	return st;
}
