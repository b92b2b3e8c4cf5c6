/*
 * Reports of the trusted worker. The worker signs each report with its
 * session key, whose public half every evidence of the session binds
 * (docs/formats/worker-protocol.md, "The binding"); this process checks the
 * signature at once and keeps the report in an envelope with that
 * evidence (docs/formats/report-envelope.md), so that anyone can later
 * check, without trusting this host, that an attested worker wrote it.
 *
 * The report holds counts, aggregates and positions, never a value of a
 * sensitive column (the worker redacts them): this process may read it,
 * and prints it. At rest it is sealed like any dataset.
 */
#include "reports.h"
#include "cmds.h"
#include "sealed.h"
#include "simtee.h"
#include "veil/data.h"

#include <string.h>

#define ENVELOPE_FORMAT "veil-report-envelope"
#define ENVELOPE_MAX    (4u << 20) /* a report (1 MiB at most) and its evidence, hex-encoded */

veil_status cli_report_job(cli_ws *ws, cli_worker *w, const veil_proto_out *job,
                           const veil_dataset_version *v, const char *const *extra_ids, size_t n_extra,
                           cli_report_outputs_fn outputs, void *outputs_ctx, veil_buf *report,
                           uint8_t sig[static VEIL_PROTO_SIG_LEN], veil_err *err)
{
	const char *ids[8] = {v->dek_id};
	if (n_extra > 7)
		return veil_err_set(err, VEIL_E_INTERNAL, "a job with %zu extra keys", n_extra);
	for (size_t i = 0; i < n_extra; i++)
		ids[i + 1] = extra_ids[i];
	veil_status st = veil_proto_send(&w->conn, job, err);
	if (!st)
		st = cli_worker_release(ws, w, ids, n_extra + 1, err);
	bool sending = false;
	if (!st && (st = cli_worker_stream_object(ws, w, v->object_id, &sending, err))) {
		if (sending)
			st = cli_worker_reason(w, st, err);
		else /* the store failed us: the worker is told, as the protocol says */
			veil_proto_send_error(&w->conn, err);
	}
	if (!st && outputs)
		st = outputs(outputs_ctx, ws, w, err);
	veil_proto_msg m = {0};
	if (!st && !(st = veil_proto_expect(&w->conn, VEIL_MSG_RESULT, &m, err)))
		st = cli_worker_result(w, &m, report, sig, err);
	veil_proto_msg_free(&m);
	return st;
}

veil_status cli_report_parse(const veil_buf *report, const veil_dataset_version *v, json_t **out,
                             veil_err *err)
{
	json_error_t je;
	json_t *r = json_loadb((const char *)report->data, report->len, JSON_REJECT_DUPLICATES, &je);
	if (!r || !json_is_object(r)) {
		json_decref(r);
		return veil_err_set(err, VEIL_E_INVALID, "the worker's report is not a JSON object: %s",
		                    je.text);
	}
	const char *sha = NULL;
	json_int_t size = -1;
	if (json_unpack(r, "{s:{s:s, s:I}}", "dataset", "sha256", &sha, "size", &size) == 0 &&
	    (strcmp(sha, v->sha256) != 0 || (uint64_t)size != v->size)) {
		json_decref(r);
		return veil_err_set(err, VEIL_E_CORRUPT,
		                    "the worker's report describes %lld bytes with SHA-256 %s, not %s@%u",
		                    (long long)size, sha, v->name, v->version);
	}
	if (!json_is_object(json_object_get(r, "summary"))) {
		json_decref(r);
		return veil_err_set(err, VEIL_E_INVALID, "the worker's report has no summary");
	}
	*out = r;
	return VEIL_OK;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *hex = malloc(2 * n + 1);
	if (!hex)
		return NULL;
	veil_hex_encode(p, n, hex);
	json_t *j = json_string(hex);
	free(hex);
	return j;
}

static json_t *envelope_json(const cli_worker *w, const veil_buf *report, const uint8_t *sig)
{
	json_t *att = json_pack("{s:s, s:o, s:o, s:o}", "tee", w->tee, "evidence",
	                        hex_json(w->evidence.data, w->evidence.len), "nonce",
	                        hex_json(w->nonce, sizeof w->nonce), "kem_pub",
	                        hex_json(w->kem_pub, sizeof w->kem_pub));
	if (att && w->certs.len)
		json_object_set_new(att, "certs", hex_json(w->certs.data, w->certs.len));
	return json_pack("{s:s, s:i, s:s%, s:o, s:o, s:o}", "format", ENVELOPE_FORMAT, "version", 1, "report",
	                 (const char *)report->data, report->len, "signature",
	                 hex_json(sig, VEIL_PROTO_SIG_LEN), "signing_key",
	                 hex_json(w->sign_pub, sizeof w->sign_pub), "attestation", att);
}

/* The tags a report earns: "pii:<class>" = "found" for each class found or
 * declared. */
static size_t pii_tags(json_t *summary, veil_tag *tags, size_t max)
{
	size_t n = 0, i;
	json_t *c;
	json_array_foreach(json_object_get(summary, "pii"), i, c)
	{
		if (n == max || !json_is_string(c))
			break;
		snprintf(tags[n].key, sizeof tags[n].key, "pii:%s", json_string_value(c));
		snprintf(tags[n].value, sizeof tags[n].value, "found");
		n++;
	}
	return n;
}

static veil_status record(cli_ws *ws, const cli_worker *w, const veil_dataset_version *v, const char *action,
                          json_t *summary, cli_report_made_fn made, void *made_ctx, veil_report_record *rec,
                          veil_err *err)
{
	char ref[VEIL_CATALOG_REF_MAX], node[VEIL_CATALOG_REF_MAX];
	veil_tag tags[VEIL_PII_COUNT];
	json_t *pii = json_object_get(summary, "pii");
	size_t ntags = pii_tags(summary, tags, VEIL_PII_COUNT);
	const char *cls = json_string_value(json_object_get(summary, "classification"));
	bool raised = false;
	veil_status st = veil_catalog_begin(ws->catalog, err);
	if (st)
		return st;
	json_t *events = json_array();
	if (made && (st = made(made_ctx, w, &v, events, err))) {
		json_decref(events);
		return cli_commit_audited(ws, st, action, v->name, NULL, err);
	}
	snprintf(ref, sizeof ref, "%s@%u", v->name, v->version);
	snprintf(rec->dataset, sizeof rec->dataset, "%s", v->name);
	rec->version = v->version;
	if (!(st = veil_catalog_report_add(ws->catalog, rec, err)) &&
	    !(st = pii ? veil_catalog_dataset_set_tags(ws->catalog, v->name, v->version, "pii:", tags, ntags,
	                                               err)
	               : VEIL_OK) &&
	    !(st = veil_fmt(node, sizeof node, err, "%lld", (long long)rec->id)) &&
	    !(st = veil_catalog_lineage_add(ws->catalog, "report", node, "describes", "dataset_version", ref,
	                                    w->measurement, err)) &&
	    cls && cls[0])
		st = veil_catalog_dataset_raise_class(ws->catalog, v->name, cls, &raised, err);
	json_t *detail =
	        json_pack("{s:I, s:s, s:s, s:s, s:s, s:O, s:b}", "report", (json_int_t)rec->id, "kind",
	                  rec->kind, "object_id", rec->object_id, "tee", w->tee, "measurement",
	                  w->measurement, "summary", summary, "classification_raised", raised);
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e)
	{
		if (st)
			break;
		st = cli_audit_append(ws, json_string_value(json_array_get(e, 0)),
		                      json_string_value(json_array_get(e, 1)), "ok",
		                      json_incref(json_array_get(e, 2)), err);
	}
	json_decref(events);
	return cli_commit_audited(ws, st, action, ref, detail, err);
}

veil_status cli_report_seal(cli_ws *ws, const cli_worker *w, const veil_buf *report,
                            const uint8_t sig[static VEIL_PROTO_SIG_LEN], const char *kek, cli_sealed *out,
                            veil_err *err)
{
	json_t *env = envelope_json(w, report, sig);
	char *text = env ? json_dumps(env, JSON_COMPACT) : NULL;
	json_decref(env);
	veil_status st = text ? cli_seal_bytes(ws, kek, (const uint8_t *)text, strlen(text), out, err)
	                      : veil_err_set(err, VEIL_E_NOMEM, "out of memory writing the report envelope");
	free(text);
	return st;
}

veil_status cli_report_keep(cli_ws *ws, const cli_worker *w, const veil_dataset_version *v, const char *kind,
                            const char *action, const veil_buf *report,
                            const uint8_t sig[static VEIL_PROTO_SIG_LEN], json_t *parsed,
                            cli_report_made_fn made, void *made_ctx, veil_report_record *rec, veil_err *err)
{
	memset(rec, 0, sizeof *rec);
	json_t *summary = json_object_get(parsed, "summary");
	json_t *passed = json_object_get(summary, "passed");
	char *sum_text = json_dumps(summary, JSON_COMPACT);
	veil_status st = VEIL_OK;
	if (!sum_text)
		st = veil_err_set(err, VEIL_E_NOMEM, "out of memory writing the report envelope");
	else if (strlen(sum_text) >= sizeof rec->summary)
		st = veil_err_set(err, VEIL_E_LIMIT, "the report's summary is over %zu bytes",
		                  sizeof rec->summary - 1);
	cli_sealed sealed = {0};
	if (!st)
		st = cli_report_seal(ws, w, report, sig, v->kek, &sealed, err);
	if (!st) {
		snprintf(rec->kind, sizeof rec->kind, "%s", kind);
		rec->passed = json_is_boolean(passed) ? json_is_true(passed) : -1;
		snprintf(rec->summary, sizeof rec->summary, "%s", sum_text);
		memcpy(rec->object_id, sealed.object_id, sizeof rec->object_id);
		memcpy(rec->dek_id, sealed.dek_id, sizeof rec->dek_id);
		snprintf(rec->kek, sizeof rec->kek, "%s", v->kek);
		rec->size = sealed.size;
		memcpy(rec->sha256, sealed.sha256, sizeof rec->sha256);
		veil_hex_encode(w->sign_pub, sizeof w->sign_pub, rec->signer);
		snprintf(rec->measurement, sizeof rec->measurement, "%s", w->measurement);
		snprintf(rec->tee, sizeof rec->tee, "%s", w->tee);
		cli_ws_actor(rec->created_by, sizeof rec->created_by);
		if ((st = record(ws, w, v, action, summary, made, made_ctx, rec, err)))
			cli_sealed_discard(ws, &sealed);
	}
	free(sum_text);
	return st;
}

static veil_status hex_field(json_t *o, const char *key, veil_buf *out, veil_err *err)
{
	const char *hex = json_string_value(json_object_get(o, key));
	size_t n = hex ? strlen(hex) : 0;
	if (!hex || n % 2 || n / 2 > ENVELOPE_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "the report envelope's %s is not hex", key);
	veil_status st = veil_buf_reserve(out, n / 2 + 1, err);
	if (!st && n && (st = veil_hex_decode(hex, out->data, n / 2, err)))
		veil_err_wrap(err, "the report envelope's %s", key);
	out->len = st ? 0 : n / 2;
	return st;
}

veil_status cli_report_verify_envelope(cli_ws *ws, json_t *env, veil_attest_claims *claims, veil_err *err)
{
	veil_attest_claims_init(claims);
	const char *fmt = json_string_value(json_object_get(env, "format"));
	json_t *att = json_object_get(env, "attestation");
	const char *report = json_string_value(json_object_get(env, "report"));
	const char *tee = json_string_value(json_object_get(att, "tee"));
	if (!fmt || strcmp(fmt, ENVELOPE_FORMAT) != 0 ||
	    json_integer_value(json_object_get(env, "version")) != 1)
		return veil_err_set(err, VEIL_E_UNSUPPORTED, "not a version 1 report envelope");
	if (!report || !tee)
		return veil_err_set(err, VEIL_E_INVALID, "the report envelope lacks its report or its TEE");
	veil_buf sig = {0}, key = {0}, ev = {0}, certs = {0}, nonce = {0}, kem = {0};
	veil_sim_chain sim = {0};
	uint8_t rd[VEIL_PROTO_BINDING_LEN], want[VEIL_PROTO_BINDING_LEN];
	veil_status st;
	if ((st = hex_field(env, "signature", &sig, err)) ||
	    (st = hex_field(env, "signing_key", &key, err)) || (st = hex_field(att, "evidence", &ev, err)) ||
	    (st = hex_field(att, "nonce", &nonce, err)) || (st = hex_field(att, "kem_pub", &kem, err)) ||
	    (json_object_get(att, "certs") && (st = hex_field(att, "certs", &certs, err))))
		goto out;
	if (key.len != 32 || nonce.len != VEIL_PROTO_NONCE_LEN || kem.len != 32) {
		st = veil_err_set(err, VEIL_E_INVALID,
		                  "the report envelope's keys or nonce have the wrong length");
		goto out;
	}
	if ((st = veil_proto_report_verify(key.data, (const uint8_t *)report, strlen(report), sig.data,
	                                   sig.len, err))) {
		veil_err_wrap(err, "the report's signature");
		goto out;
	}
	bool is_sim = strcmp(tee, "sim") == 0;
	if (is_sim && (st = cli_sim_load(ws, &sim, err)))
		goto out;
	veil_evidence e = {.tee = tee, .data = ev.data, .len = ev.len};
	if (certs.len && strcmp(tee, "sev-snp") == 0) {
		e.certtable = certs.data;
		e.certtable_len = certs.len;
	}
	veil_broker_trust trust = {.sim = is_sim ? &sim : NULL};
	if ((st = veil_broker_verify(&trust, &e, veil_time_now(), claims, rd, err)) ||
	    (st = veil_proto_binding(nonce.data, kem.data, key.data, want, err)))
		goto out;
	if (!veil_ct_equal(rd, want, sizeof want)) {
		st = veil_err_set(err, VEIL_E_AUTH,
		                  "the evidence does not bind the key that signed the report");
		goto out;
	}
	/* The report says which worker wrote it; the evidence must agree. */
	json_t *r = json_loads(report, 0, NULL);
	const char *meas = json_string_value(json_object_get(json_object_get(r, "worker"), "measurement"));
	char have[2 * VEIL_ATTEST_MEASUREMENT_MAX + 1];
	veil_hex_encode(claims->measurement, claims->measurement_len, have);
	if (!meas || strcmp(meas, have) != 0)
		st = veil_err_set(err, VEIL_E_AUTH,
		                  "the report names another worker measurement than its evidence");
	json_decref(r);
out:
	if (st)
		veil_attest_claims_init(claims);
	veil_sim_chain_free(&sim);
	veil_buf_free(&sig);
	veil_buf_free(&key);
	veil_buf_free(&ev);
	veil_buf_free(&certs);
	veil_buf_free(&nonce);
	veil_buf_free(&kem);
	return st;
}

/* The signed report must be of the record's kind and describe v. */
static veil_status check_describes(json_t *report, const veil_report_record *rec,
                                   const veil_dataset_version *v, veil_err *err)
{
	const char *job = json_string_value(json_object_get(report, "job"));
	json_t *d = json_object_get(report, strcmp(rec->kind, "features") == 0 ? "output" : "dataset");
	const char *sha = json_string_value(json_object_get(d, "sha256"));
	json_t *size = json_object_get(d, "size");
	if (!job || strcmp(job, rec->kind) != 0 || !sha || strcmp(sha, v->sha256) != 0 ||
	    !json_is_integer(size) || (uint64_t)json_integer_value(size) != v->size)
		return veil_err_set(
		        err, VEIL_E_CORRUPT,
		        "report %lld in the catalog is not a %s report of %s@%u: the signed report "
		        "describes other data",
		        (long long)rec->id, rec->kind, v->name, v->version);
	return VEIL_OK;
}

veil_status cli_report_open_sealed(cli_ws *ws, const char *object_id, const char *dek_id, const char *sha256,
                                   json_t **envelope, json_t **report, veil_err *err)
{
	*envelope = *report = NULL;
	veil_buf text = {0};
	veil_status st = cli_open_bytes(ws, object_id, dek_id, sha256, ENVELOPE_MAX, &text, err);
	if (st)
		return st;
	json_t *env = json_loadb((const char *)text.data, text.len, 0, NULL);
	const char *rtext = json_string_value(json_object_get(env, "report"));
	json_t *r = rtext ? json_loads(rtext, 0, NULL) : NULL;
	veil_buf_free(&text);
	if (!r || !json_is_object(r)) {
		json_decref(env);
		json_decref(r);
		return veil_err_set(err, VEIL_E_CORRUPT, "the report envelope in object %.16s does not parse",
		                    object_id);
	}
	*envelope = env;
	*report = r;
	return VEIL_OK;
}

veil_status cli_report_open(cli_ws *ws, const veil_report_record *rec, const veil_dataset_version *v,
                            bool verify, json_t **envelope, json_t **report, veil_attest_claims *claims,
                            veil_err *err)
{
	*envelope = *report = NULL;
	veil_attest_claims_init(claims);
	json_t *env = NULL, *r = NULL;
	veil_status st = cli_report_open_sealed(ws, rec->object_id, rec->dek_id, rec->sha256, &env, &r, err);
	if (!st)
		st = check_describes(r, rec, v, err);
	if (!st && verify)
		st = cli_report_verify_envelope(ws, env, claims, err);
	if (st) {
		json_decref(env);
		json_decref(r);
		return st;
	}
	*envelope = env;
	*report = r;
	return VEIL_OK;
}
