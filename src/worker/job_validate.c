/*
 * The "validate" and "profile" jobs: parse a dataset's CSV inside the
 * worker, check it against a schema (validate) or infer one (profile), scan
 * every value for personal data, and send back a signed report that holds
 * counts, aggregates and positions, never a value of a sensitive column
 * (docs/formats/validation-report.md). The plaintext is hashed as it is
 * parsed, so the report names exactly the bytes it describes and a host
 * that streamed another object than the catalog's is caught.
 */
#include <string.h>

#include "veil/data.h"
#include "worker.h"

/* Passes the plaintext stream through while hashing and counting it. */
typedef struct hashing_reader {
	worker_plain *p;
	veil_hash_ctx *h;
	uint64_t bytes;
} hashing_reader;

static veil_status hashing_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	hashing_reader *r = ctx;
	veil_status st = worker_plain_read(r->p, buf, n, got, err);
	if (!st && *got) {
		r->bytes += *got;
		st = veil_hash_update(r->h, buf, *got, err);
	}
	return st;
}

typedef struct job_args {
	bool profile;
	char dek_id[VEIL_OBJ_KEY_ID_MAX + 1];
	char want_sha[VEIL_SHA256_LEN * 2 + 1];
	uint64_t want_size;
	veil_data_class declared;
	const veil_proto_field *schema_text; /* validate only */
	char schema_sha[VEIL_SHA256_LEN * 2 + 1];
} job_args;

static veil_status read_args(const veil_proto_msg *job, bool profile, job_args *a, veil_err *err)
{
	memset(a, 0, sizeof *a);
	a->profile = profile;
	char cls[17] = "";
	veil_status st;
	if ((st = veil_proto_get_text(job, VEIL_F_DEK_ID, 0, a->dek_id, sizeof a->dek_id, err)) ||
	    (st = veil_proto_get_text(job, VEIL_F_SHA256, 0, a->want_sha, sizeof a->want_sha, err)) ||
	    (st = veil_proto_get_u64(job, VEIL_F_SIZE, &a->want_size, err)))
		return st;
	if (veil_proto_get(job, VEIL_F_CLASS, 0)) {
		if ((st = veil_proto_get_text(job, VEIL_F_CLASS, 0, cls, sizeof cls, err)))
			return st;
		if (!veil_data_class_from_name(cls, &a->declared))
			return veil_err_set(err, VEIL_E_INVALID, "a job for an unknown classification '%s'",
			                    cls);
	}
	a->schema_text = veil_proto_get(job, VEIL_F_SCHEMA, 0);
	if (profile && a->schema_text)
		return veil_err_set(err, VEIL_E_INVALID, "a profile job takes no schema: it infers one");
	if (!profile && !a->schema_text)
		return veil_err_set(err, VEIL_E_INVALID, "a validate job without a schema");
	if (a->schema_text) {
		uint8_t d[VEIL_SHA256_LEN];
		if ((st = veil_hash(VEIL_HASH_SHA256, a->schema_text->value, a->schema_text->len, d, err)))
			return st;
		veil_hex_encode(d, sizeof d, a->schema_sha);
	}
	return VEIL_OK;
}

/* The report's envelope fields around the validator's object. */
static void write_head(veil_jw *jw, const worker *w, const job_args *a)
{
	char meas[2 * VEIL_SNP_MEASUREMENT_LEN + 1];
	veil_hex_encode(w->measurement, sizeof w->measurement, meas);
	veil_jw_object(jw);
	veil_jw_kstr(jw, "format", "veil-report");
	veil_jw_kint(jw, "version", 1);
	veil_jw_kstr(jw, "job", a->profile ? "profile" : "validate");
	veil_jw_key(jw, "worker");
	veil_jw_object(jw);
	veil_jw_kstr(jw, "tee", w->tee);
	veil_jw_kstr(jw, "measurement", meas);
	veil_jw_end(jw);
	veil_jw_kint(jw, "created", veil_time_now());
	if (a->schema_text)
		veil_jw_kstr(jw, "schema_sha256", a->schema_sha);
}

/* What the catalog keeps and the compliance rule reads
 * (docs/formats/validation-report.md, "summary"). */
static void write_summary(veil_jw *jw, const veil_validate_summary *sum)
{
	veil_jw_key(jw, "summary");
	veil_jw_object(jw);
	veil_jw_key(jw, "passed");
	if (sum->validated)
		veil_jw_bool(jw, sum->passed);
	else
		veil_jw_null(jw);
	veil_jw_kuint(jw, "rows", sum->rows);
	veil_jw_kuint(jw, "violations", sum->violations);
	veil_jw_kuint(jw, "duplicate_rows", sum->duplicate_rows);
	veil_jw_key(jw, "pii");
	veil_jw_array(jw);
	for (unsigned c = 1; c < VEIL_PII_COUNT; c++)
		if (sum->pii & (1u << c))
			veil_jw_str(jw, veil_pii_name((veil_pii)c));
	veil_jw_end(jw);
	veil_jw_kuint(jw, "quasi_identifiers", sum->quasi_identifiers);
	veil_jw_kstr(jw, "classification", veil_data_class_name(sum->classification));
	veil_jw_end(jw);
}

/* Runs the validator over the decrypted stream; fills the report. */
static veil_status run(worker *w, const job_args *a, const veil_schema *schema, const uint8_t *dek,
                       veil_buf *report, veil_err *err)
{
	hashing_reader hr = {0};
	veil_status st = veil_hash_init(&hr.h, VEIL_HASH_SHA256, err);
	if (st)
		return st;
	veil_jw jw;
	veil_jw_init(&jw, report);
	write_head(&jw, w, a);
	veil_jw_key(&jw, a->profile ? "profile" : "validation");
	/* The declared class comes from the host, which could lower it to lift
	 * the redaction: the report redacts every column, whatever it says. */
	veil_validate_opts opts = {.declared = a->declared, .redact_all = true};
	veil_validate_summary sum;
	veil_schema *inferred = NULL;
	if (!(st = worker_plain_open(w, a->dek_id, dek, &hr.p, err))) {
		veil_status vst = veil_validate_csv(hashing_read, &hr, NULL, schema, &opts, &jw, &sum,
		                                    a->profile ? &inferred : NULL, err);
		veil_err cerr;
		/* The decryption's verdict first: it explains a stream that ended
		 * early. But when the validator stopped first (a header that does
		 * not match the schema, malformed CSV), the decryption's only
		 * complaint is that nobody read on: the validator's error is the
		 * one to tell. */
		veil_status cst = worker_plain_close(hr.p, NULL, &cerr);
		if (cst && !(vst && cst == VEIL_E_IO)) {
			*err = cerr;
			st = cst;
		} else
			st = vst;
	}
	uint8_t digest[VEIL_SHA256_LEN];
	char hex[2 * VEIL_SHA256_LEN + 1];
	veil_status hst = veil_hash_final(hr.h, digest, err);
	if (!st)
		st = hst;
	if (!st) {
		veil_hex_encode(digest, sizeof digest, hex);
		if (hr.bytes != a->want_size || strcmp(hex, a->want_sha) != 0)
			st = veil_err_set(
			        err, VEIL_E_CORRUPT,
			        "the decrypted data (%llu bytes) does not match the catalog's size and "
			        "SHA-256",
			        (unsigned long long)hr.bytes);
	}
	if (!st)
		write_summary(&jw, &sum);
	if (!st) {
		veil_jw_key(&jw, "dataset");
		veil_jw_object(&jw);
		veil_jw_kstr(&jw, "dek_id", a->dek_id);
		veil_jw_kuint(&jw, "size", hr.bytes);
		veil_jw_kstr(&jw, "sha256", hex);
		veil_jw_end(&jw);
	}
	if (!st && inferred) {
		veil_buf yaml = {0};
		if (!(st = veil_schema_write(inferred, &yaml, err))) {
			veil_jw_key(&jw, "inferred_schema");
			veil_jw_strn(&jw, (const char *)yaml.data, yaml.len);
		}
		veil_buf_free(&yaml);
	}
	veil_schema_free(inferred);
	if (!st) {
		veil_jw_end(&jw);
		st = veil_jw_finish(&jw, err);
	}
	return st;
}

static veil_status job(worker *w, const veil_proto_msg *msg, bool profile, veil_err *err)
{
	job_args a;
	veil_schema *schema = NULL;
	veil_status st = read_args(msg, profile, &a, err);
	/* The schema is parsed before any key is asked for: a bad one costs
	 * the owner no key release. */
	if (!st && a.schema_text &&
	    (st = veil_schema_parse((const char *)a.schema_text->value, a.schema_text->len, &schema, err)))
		veil_err_wrap(err, "the schema");
	if (st)
		return st;
	uint8_t *dek = veil_secure_alloc(VEIL_PROTO_DEK_LEN);
	if (!dek) {
		veil_schema_free(schema);
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	}
	const char *ids[] = {a.dek_id};
	veil_buf report = {0};
	if (!(st = worker_get_keys(w, ids, 1, dek, err)) && !(st = run(w, &a, schema, dek, &report, err)))
		st = worker_send_report(w, &report, err);
	veil_secure_free(dek, VEIL_PROTO_DEK_LEN);
	veil_schema_free(schema);
	veil_buf_free(&report);
	return st;
}

veil_status worker_job_validate(worker *w, const veil_proto_msg *msg, veil_err *err)
{
	return job(w, msg, false, err);
}

veil_status worker_job_profile(worker *w, const veil_proto_msg *msg, veil_err *err)
{
	return job(w, msg, true, err);
}
