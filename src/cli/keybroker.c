/*
 * The key broker, host side (docs/attestation.md): answers a worker's key
 * request with a challenge, checks the evidence (veil/broker.h), judges
 * the claims against the release policy of every key asked for, and only
 * then wraps the keys to the key the evidence binds. All or nothing: one
 * key refused refuses the request, and the worker gets no key.
 *
 * Which policy governs a key: the key's own ("key:K", K the key
 * encryption key that wraps it), else the nearest compartment's on the
 * way from K's compartment up to tenancy ("compartment:C"). None is a
 * refusal: a workspace releases nothing until someone says to whom.
 */
#include "hostworker.h"

#include <string.h>

#define KEYS_MAX 16

typedef struct decision {
	json_t *keys, *policies, *failed;
	veil_attest_claims claims;
	bool have_claims;
} decision;

static veil_status find_policy(cli_ws *ws, const char *kek, veil_policy_record *rec, veil_err *err)
{
	char scope[VEIL_CATALOG_SCOPE_MAX], comp[VEIL_CATALOG_NAME_MAX];
	char path[VEIL_CATALOG_COMPARTMENT_DEPTH][VEIL_CATALOG_NAME_MAX];
	size_t n = 0;
	veil_status st = veil_fmt(scope, sizeof scope, err, "key:%s", kek);
	if (!st && (st = veil_catalog_release_policy_get(ws->catalog, scope, 0, rec, err)) != VEIL_E_NOTFOUND)
		return st;
	if ((st = veil_catalog_key_compartment(ws->catalog, kek, comp, err)) ||
	    (st = veil_catalog_compartment_path(ws->catalog, comp, path, &n, err)))
		return st;
	while (n-- > 0) {
		if ((st = veil_fmt(scope, sizeof scope, err, "compartment:%s", path[n])))
			return st;
		st = veil_catalog_release_policy_get(ws->catalog, scope, 0, rec, err);
		if (st != VEIL_E_NOTFOUND)
			return st;
	}
	veil_err_set(err, VEIL_E_DENIED, "no key-release policy covers key %s (compartment %s)", kek, comp);
	return veil_err_hint(err,
	                     "run 'veil attest measure' and set one with 'veil attest policy set FILE "
	                     "--compartment %s' (docs/formats/release-policy.md)",
	                     comp);
}

/* Judges one key: its policy against the claims. */
static veil_status judge(cli_ws *ws, const char *dek_id, decision *d, veil_err *err)
{
	veil_dek_info di;
	veil_policy_record rec = {0};
	veil_release_policy *pol = NULL;
	veil_release_result res = {0};
	veil_status st = veil_kms_dek_info(ws->kms, dek_id, &di, err);
	if (!st)
		st = find_policy(ws, di.kek_name, &rec, err);
	if (!st && (st = veil_release_policy_parse(rec.text, rec.len, &pol, err)))
		veil_err_wrap(err, "release policy %s version %u", rec.name, rec.version);
	if (!st) {
		json_array_append_new(d->policies, json_pack("{s:s, s:s, s:I}", "key", dek_id, "scope",
		                                             rec.name, "version", (json_int_t)rec.version));
		st = veil_release_policy_eval(pol, &d->claims, veil_time_now(), &res, err);
		for (size_t i = 0; i < res.nfailed; i++)
			json_array_append_new(d->failed, json_pack("{s:s, s:s, s:s}", "key", dek_id, "clause",
			                                           res.failed[i].clause, "reason",
			                                           res.failed[i].reason));
		if (st == VEIL_E_DENIED) {
			/* The reasons themselves, as many as fit: the operator acts on them. */
			char why[VEIL_ERR_MSG_MAX] = "";
			size_t used = 0;
			for (size_t i = 0; i < res.nfailed && used < sizeof why; i++) {
				int k = snprintf(why + used, sizeof why - used, "%s%s", i ? "; " : "",
				                 res.failed[i].reason);
				used += k > 0 ? (size_t)k : 0;
			}
			veil_err_set(err, VEIL_E_DENIED, "release policy %s version %u refuses key %s: %s",
			             rec.name, rec.version, dek_id, why);
			veil_err_hint(
			        err,
			        "for a worker you built, add its measurement ('veil attest measure') with "
			        "'veil attest policy set'; 'veil audit log' holds the whole decision");
		}
	}
	veil_release_policy_free(pol);
	veil_policy_record_free(&rec);
	return st;
}

/* The keys message, made before the decision is recorded: the key store
 * has its own refusals (a key bound to another region, a destroyed one),
 * and the log must record those as refusals, not as a release. */
static veil_status wrap_keys(cli_ws *ws, const char *const *ids, size_t n,
                             const uint8_t nonce[static VEIL_PROTO_NONCE_LEN], const uint8_t pub[static 32],
                             veil_proto_out *o, veil_err *err)
{
	uint8_t *dek = veil_secure_alloc(VEIL_KMS_DEK_LEN);
	if (!dek)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	veil_status st = VEIL_OK;
	for (size_t i = 0; i < n && !st; i++) {
		uint8_t wrapped[VEIL_PROTO_WRAPPED_LEN];
		if (!(st = cli_release_dek(ws, ids[i], dek, err)) &&
		    !(st = veil_proto_wrap_dek(pub, nonce, ids[i], dek, wrapped, err)) &&
		    !(st = veil_proto_add_text(o, VEIL_F_DEK_ID, ids[i], err)))
			st = veil_proto_add(o, VEIL_F_WRAPPED, wrapped, sizeof wrapped, err);
	}
	veil_secure_free(dek, VEIL_KMS_DEK_LEN);
	return st;
}

/* The request must name exactly the keys of the job, in order. */
static veil_status check_request(const veil_proto_msg *m, const char *const *ids, size_t n, decision *d,
                                 veil_err *err)
{
	size_t got = veil_proto_count(m, VEIL_F_DEK_ID);
	for (size_t i = 0; i < got; i++) {
		char id[VEIL_OBJ_KEY_ID_MAX + 1];
		veil_status st = veil_proto_get_text(m, VEIL_F_DEK_ID, i, id, sizeof id, err);
		if (st)
			return st;
		json_array_append_new(d->keys, json_string(id));
		for (size_t k = 0; k < i; k++)
			if (strcmp(json_string_value(json_array_get(d->keys, k)), id) == 0)
				return veil_err_set(err, VEIL_E_DENIED, "the worker asked for key %s twice",
				                    id);
		if (i >= n || strcmp(id, ids[i]) != 0)
			return veil_err_set(err, VEIL_E_DENIED,
			                    "the worker asked for key %s, which its job does not need", id);
	}
	if (got != n)
		return veil_err_set(err, VEIL_E_DENIED, "the worker asked for %zu keys, its job needs %zu",
		                    got, n);
	return VEIL_OK;
}

static veil_status evidence_of(const cli_worker *w, const veil_proto_msg *m, veil_evidence *ev, veil_err *err)
{
	char tee[16];
	veil_status st = veil_proto_get_text(m, VEIL_F_TEE, 0, tee, sizeof tee, err);
	if (st)
		return st;
	if (strcmp(tee, w->tee) != 0)
		return veil_err_set(err, VEIL_E_DENIED, "the worker offered %s evidence in a %s session", tee,
		                    w->tee);
	const veil_proto_field *e = veil_proto_get(m, VEIL_F_EVIDENCE, 0);
	const veil_proto_field *c = veil_proto_get(m, VEIL_F_CERTS, 0);
	ev->tee = w->tee;
	ev->data = e->value;
	ev->len = e->len;
	if (c && strcmp(w->tee, "sev-snp") == 0) {
		ev->certtable = c->value;
		ev->certtable_len = c->len;
	}
	return VEIL_OK;
}

/* Records the decision before any key leaves: a release the log cannot
 * record does not happen. */
static veil_status audit_decision(cli_ws *ws, const cli_worker *w, decision *d, veil_status st,
                                  const veil_err *why, veil_err *err)
{
	char meas[2 * VEIL_ATTEST_MEASUREMENT_MAX + 1] = "";
	if (d->have_claims)
		veil_hex_encode(d->claims.measurement, d->claims.measurement_len, meas);
	json_t *detail = json_pack("{s:s, s:b, s:s, s:O, s:O, s:O}", "tee", w->tee, "simulated",
	                           strcmp(w->tee, "sim") == 0, "measurement", meas, "keys", d->keys,
	                           "policies", d->policies, "failed", d->failed);
	if (st && detail)
		json_object_set_new(detail, "reason", json_string(why->msg));
	const char *resource = json_array_size(d->keys) ? json_string_value(json_array_get(d->keys, 0)) : "-";
	return cli_audit(ws, "key.release", resource, st ? "denied" : "ok", detail, err);
}

/* Keeps what proves the session's signing key: the evidence (and its
 * certificates), the nonce it answered and the keys it binds. A report the
 * worker signs is stored with these, so that anyone can check it later
 * without trusting this host (docs/formats/report-envelope.md). */
static veil_status remember_attestation(cli_worker *w, const veil_proto_msg *ans,
                                        const uint8_t nonce[static VEIL_PROTO_NONCE_LEN], const uint8_t *pub,
                                        const uint8_t *sign_pub, const veil_attest_claims *claims,
                                        veil_err *err)
{
	const veil_proto_field *ev = veil_proto_get(ans, VEIL_F_EVIDENCE, 0);
	const veil_proto_field *certs = veil_proto_get(ans, VEIL_F_CERTS, 0);
	w->evidence.len = 0;
	w->certs.len = 0;
	veil_status st = veil_buf_append(&w->evidence, ev->value, ev->len, err);
	if (!st && certs)
		st = veil_buf_append(&w->certs, certs->value, certs->len, err);
	if (st)
		return st;
	memcpy(w->nonce, nonce, sizeof w->nonce);
	memcpy(w->kem_pub, pub, sizeof w->kem_pub);
	memcpy(w->sign_pub, sign_pub, sizeof w->sign_pub);
	/* From here on the measurement is the evidence's, not the worker's word. */
	veil_hex_encode(claims->measurement, claims->measurement_len, w->measurement);
	w->attested = true;
	return VEIL_OK;
}

veil_status cli_worker_release(cli_ws *ws, cli_worker *w, const char *const *ids, size_t n, veil_err *err)
{
	decision d = {.keys = json_array(), .policies = json_array(), .failed = json_array()};
	veil_attest_claims_init(&d.claims);
	veil_proto_msg req = {0}, ans = {0};
	veil_broker_challenge ch;
	const uint8_t *pub = NULL;
	veil_status st = veil_proto_expect(&w->conn, VEIL_MSG_KEY_REQUEST, &req, err);
	if (st) /* the worker failed before asking: nothing to decide */
		goto out;
	if (!(st = check_request(&req, ids, n, &d, err)) &&
	    !(st = veil_broker_challenge_new(&ch, veil_time_now(), err))) {
		veil_proto_out o;
		veil_proto_out_init(&o, VEIL_MSG_CHALLENGE);
		if (!(st = veil_proto_add(&o, VEIL_F_NONCE, ch.nonce, sizeof ch.nonce, err)))
			st = veil_proto_send(&w->conn, &o, err);
		veil_proto_out_free(&o);
	}
	veil_evidence ev = {0};
	if (!st && !(st = veil_proto_expect(&w->conn, VEIL_MSG_EVIDENCE, &ans, err)) &&
	    !(st = evidence_of(w, &ans, &ev, err))) {
		veil_broker_trust trust = {.sim = strcmp(w->tee, "sim") == 0 ? &w->sim : NULL,
		                           .region = ws->cfg.region[0] ? ws->cfg.region : NULL};
		pub = veil_proto_get(&ans, VEIL_F_PUBKEY, 0)->value;
		const uint8_t *sign_pub = veil_proto_get(&ans, VEIL_F_SIGN_PUBKEY, 0)->value;
		st = veil_broker_check(&ch, &trust, &ev, pub, sign_pub, veil_time_now(), &d.claims, err);
		/* One signing key per session: reports are the attested worker's
		 * only if every exchange of the session names the same key. */
		if (!st && w->attested && memcmp(w->sign_pub, sign_pub, sizeof w->sign_pub) != 0)
			st = veil_err_set(
			        err, VEIL_E_DENIED,
			        "the worker offered another report-signing key than earlier in the session");
		if (!st)
			st = remember_attestation(w, &ans, ch.nonce, pub, sign_pub, &d.claims, err);
		d.have_claims = st == VEIL_OK;
		for (size_t i = 0; i < n && !st; i++)
			st = judge(ws, ids[i], &d, err);
	}
	veil_proto_out keys;
	veil_proto_out_init(&keys, VEIL_MSG_KEYS);
	if (!st)
		st = wrap_keys(ws, ids, n, ch.nonce, pub, &keys, err);
	veil_err aerr;
	veil_status ast = audit_decision(ws, w, &d, st, err, &aerr);
	if (!st && ast) {
		*err = aerr;
		st = ast;
	} else if (ast) {
		cli_warn("cannot record the refused key release: %s", aerr.msg);
	}
	if (!st)
		st = veil_proto_send(&w->conn, &keys, err);
	else if (st != VEIL_E_IO)
		veil_proto_send_error(&w->conn, err);
	veil_proto_out_free(&keys);
out:
	/* The worker's own failures come without a hint: on real hardware the
	 * usual one is a machine that cannot make the evidence asked for. */
	if (st && !err->hint[0] && strncmp(err->msg, "the peer: ", 10) == 0 && strcmp(w->tee, "sim") != 0)
		veil_err_hint(
		        err,
		        "$VEIL_TEE is %s: run in a confidential VM of that kind, or unset VEIL_TEE to use "
		        "the simulated TEE (docs/attestation.md)",
		        w->tee);
	veil_proto_msg_free(&req);
	veil_proto_msg_free(&ans);
	json_decref(d.keys);
	json_decref(d.policies);
	json_decref(d.failed);
	return st;
}
