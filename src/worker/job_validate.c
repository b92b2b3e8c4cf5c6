/*
 * The "validate" and "profile" jobs: parse a dataset's CSV inside the
 * worker, check it against a schema (validate) or infer one (profile), scan
 * every value for personal data, and send back a signed report that holds
 * counts, aggregates and positions, never a value of a sensitive column
 * (docs/formats/validation-report.md). The plaintext is hashed as it is
 * parsed, so the report names exactly the bytes it describes and a host
 * that streamed another object than the catalog's is caught.
 */
#include <math.h>
#include <stdlib.h>
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

/* The first bytes of the plaintext, read to tell IDX from CSV, then
 * handed back before the rest of the stream. */
typedef struct peeked {
	hashing_reader *hr;
	uint8_t head[4];
	size_t n, off;
} peeked;

static veil_status peeked_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	peeked *p = ctx;
	if (p->off < p->n) {
		size_t k = p->n - p->off < n ? p->n - p->off : n;
		memcpy(buf, p->head + p->off, k);
		p->off += k;
		*got = k;
		return VEIL_OK;
	}
	return hashing_read(p->hr, buf, n, got, err);
}

/* gzip (MNIST-style sets ship as .gz; CSV is never compressed here) or an
 * IDX header: 0, 0, a known type, 1..8 dimensions. */
static bool looks_like_idx(const peeked *p)
{
	if (p->n >= 2 && p->head[0] == 0x1f && p->head[1] == 0x8b)
		return true;
	return p->n == 4 && p->head[0] == 0 && p->head[1] == 0 && veil_idx_type_size(p->head[2]) &&
	       p->head[3] >= 1 && p->head[3] <= VEIL_IDX_DIMS_MAX;
}

/* An IDX data set's profile: its shape and aggregates, never a value. For
 * a 1-D integer array (labels) the class balance: how many classes, and
 * the shares of the largest and smallest, not which labels they are. */
static veil_status profile_idx(peeked *pk, veil_jw *jw, veil_validate_summary *sum, veil_err *err)
{
	veil_idx x;
	veil_status st = veil_idx_read(peeked_read, pk, VEIL_IDX_BYTES_DEFAULT, &x, err);
	if (st)
		return st;
	size_t n = x.values_len / veil_idx_type_size(x.type);
	double mean = 0, m2 = 0;
	bool ints = x.type != VEIL_IDX_F32 && x.type != VEIL_IDX_F64;
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		double v;
		switch (x.type) {
		case VEIL_IDX_U8:
			v = ((const uint8_t *)x.values)[i];
			break;
		case VEIL_IDX_I8:
			v = ((const int8_t *)x.values)[i];
			break;
		case VEIL_IDX_I16:
			v = ((const int16_t *)x.values)[i];
			break;
		case VEIL_IDX_I32:
			v = ((const int32_t *)x.values)[i];
			break;
		case VEIL_IDX_F32:
			v = ((const float *)x.values)[i];
			break;
		default:
			v = ((const double *)x.values)[i];
			break;
		}
		double d = v - mean; /* Welford */
		mean += d / (double)(i + 1);
		m2 += d * (v - mean);
		if (ints) {
			lo = (int64_t)v < lo ? (int64_t)v : lo;
			hi = (int64_t)v > hi ? (int64_t)v : hi;
		}
	}
	veil_jw_object(jw);
	veil_jw_kstr(jw, "format", "idx");
	veil_jw_kstr(jw, "type", veil_idx_type_name(x.type));
	veil_jw_key(jw, "dims");
	veil_jw_array(jw);
	for (unsigned d = 0; d < x.ndims; d++)
		veil_jw_uint(jw, x.dims[d]);
	veil_jw_end(jw);
	veil_jw_kuint(jw, "items", x.nitems);
	veil_jw_kuint(jw, "values", n);
	veil_jw_kdouble(jw, "mean", mean);
	veil_jw_kdouble(jw, "stddev", n > 1 ? sqrt(m2 / (double)(n - 1)) : 0);
	/* Labels: a small range of integers, counted per value. */
	if (x.ndims == 1 && ints && n && hi - lo < 65536) {
		uint64_t *count = calloc((size_t)(hi - lo + 1), sizeof *count);
		if (!count) {
			veil_idx_free(&x);
			return veil_err_set(err, VEIL_E_NOMEM, "out of memory profiling labels");
		}
		for (size_t i = 0; i < n; i++) {
			double v = x.type == VEIL_IDX_U8    ? ((const uint8_t *)x.values)[i]
			           : x.type == VEIL_IDX_I8  ? ((const int8_t *)x.values)[i]
			           : x.type == VEIL_IDX_I16 ? ((const int16_t *)x.values)[i]
			                                    : ((const int32_t *)x.values)[i];
			count[(int64_t)v - lo]++;
		}
		uint64_t classes = 0, most = 0, least = UINT64_MAX;
		for (int64_t k = 0; k <= hi - lo; k++) {
			if (!count[k])
				continue;
			classes++;
			most = count[k] > most ? count[k] : most;
			least = count[k] < least ? count[k] : least;
		}
		free(count);
		veil_jw_key(jw, "classes");
		veil_jw_object(jw);
		veil_jw_kuint(jw, "distinct", classes);
		veil_jw_kdouble(jw, "largest_share", (double)most / (double)n);
		veil_jw_kdouble(jw, "smallest_share", (double)least / (double)n);
		veil_jw_end(jw);
	}
	veil_jw_end(jw);
	memset(sum, 0, sizeof *sum);
	sum->rows = x.nitems;
	sum->classification = VEIL_CLASS_INTERNAL;
	veil_idx_free(&x);
	return VEIL_OK;
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
	veil_validate_summary sum = {0};
	veil_schema *inferred = NULL;
	if (!(st = worker_plain_open(w, a->dek_id, dek, &hr.p, err))) {
		peeked pk = {.hr = &hr};
		veil_status vst = VEIL_OK;
		while (!vst && pk.n < sizeof pk.head) {
			size_t got = 0;
			if ((vst = hashing_read(&hr, pk.head + pk.n, sizeof pk.head - pk.n, &got, err)) ||
			    !got)
				break;
			pk.n += got;
		}
		if (!vst && looks_like_idx(&pk)) {
			if (a->profile)
				vst = profile_idx(&pk, &jw, &sum, err);
			else
				vst = veil_err_set(
				        err, VEIL_E_INVALID,
				        "the dataset is IDX data (MNIST-style), which has no columns to "
				        "check against a schema: profile it instead");
		} else if (!vst)
			vst = veil_validate_csv(peeked_read, &pk, NULL, schema, &opts, &jw, &sum,
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
