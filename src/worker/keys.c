/*
 * The worker's side of key release (docs/formats/worker-protocol.md, "Key
 * release"), after Confidential Containers' key broker: request, challenge,
 * evidence, response. A fresh X25519 key pair is made for each exchange and
 * its private half never leaves secure memory; the evidence's report data
 * binds SHA-512(nonce || public key || report-signing key), so the broker
 * wraps the keys to the key this evidence names and to no other, and the
 * reports signed in this session are the attested worker's.
 */
#include <string.h>

#include "worker.h"

static veil_status request(worker *w, const char *const *ids, size_t n, veil_err *err)
{
	veil_proto_out o;
	veil_proto_out_init(&o, VEIL_MSG_KEY_REQUEST);
	veil_status st = VEIL_OK;
	for (size_t i = 0; i < n && !st; i++)
		st = veil_proto_add_text(&o, VEIL_F_DEK_ID, ids[i], err);
	if (!st)
		st = veil_proto_send(&w->conn, &o, err);
	veil_proto_out_free(&o);
	return st;
}

veil_status worker_send_evidence(worker *w, const uint8_t nonce[static VEIL_PROTO_NONCE_LEN],
                                 const uint8_t pub[static 32], veil_err *err)
{
	uint8_t binding[VEIL_PROTO_BINDING_LEN];
	veil_buf evidence = {0}, certs = {0};
	veil_proto_out o;
	veil_proto_out_init(&o, VEIL_MSG_EVIDENCE);
	veil_status st = veil_proto_binding(nonce, pub, w->sign_pub, binding, err);
	if (!st)
		st = worker_evidence(w, binding, &evidence, &certs, err);
	if (!st && (st = veil_proto_add_text(&o, VEIL_F_TEE, w->tee, err)) == VEIL_OK &&
	    (st = veil_proto_add(&o, VEIL_F_EVIDENCE, evidence.data, evidence.len, err)) == VEIL_OK &&
	    (st = veil_proto_add(&o, VEIL_F_PUBKEY, pub, 32, err)) == VEIL_OK &&
	    (st = veil_proto_add(&o, VEIL_F_SIGN_PUBKEY, w->sign_pub, sizeof w->sign_pub, err)) == VEIL_OK &&
	    certs.len)
		st = veil_proto_add(&o, VEIL_F_CERTS, certs.data, certs.len, err);
	if (!st)
		st = veil_proto_send(&w->conn, &o, err);
	veil_proto_out_free(&o);
	veil_buf_free(&evidence);
	veil_buf_free(&certs);
	return st;
}

/* The keys message must answer exactly what was asked, in order. */
static veil_status open_keys(const veil_proto_msg *m, const char *const *ids, size_t n, const uint8_t *priv,
                             const uint8_t nonce[static VEIL_PROTO_NONCE_LEN], uint8_t *deks, veil_err *err)
{
	if (veil_proto_count(m, VEIL_F_DEK_ID) != n)
		return veil_err_set(err, VEIL_E_INVALID, "the key broker answered %zu keys for %zu asked",
		                    veil_proto_count(m, VEIL_F_DEK_ID), n);
	for (size_t i = 0; i < n; i++) {
		char id[VEIL_OBJ_KEY_ID_MAX + 1];
		veil_status st = veil_proto_get_text(m, VEIL_F_DEK_ID, i, id, sizeof id, err);
		if (st)
			return st;
		if (strcmp(id, ids[i]) != 0)
			return veil_err_set(err, VEIL_E_INVALID, "the key broker answered key %s for %s", id,
			                    ids[i]);
		const veil_proto_field *f = veil_proto_get(m, VEIL_F_WRAPPED, i);
		if ((st = veil_proto_unwrap_dek(priv, nonce, id, f->value, f->len,
		                                deks + i * VEIL_PROTO_DEK_LEN, err)))
			return st;
	}
	return VEIL_OK;
}

veil_status worker_get_keys(worker *w, const char *const *ids, size_t n, uint8_t *deks, veil_err *err)
{
	uint8_t *priv = veil_secure_alloc(VEIL_X25519_KEY_LEN);
	if (!priv)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	uint8_t pub[VEIL_X25519_KEY_LEN], nonce[VEIL_PROTO_NONCE_LEN];
	veil_proto_msg m = {0};
	veil_status st = veil_x25519_keygen(priv, pub, err);
	if (!st)
		st = request(w, ids, n, err);
	if (!st && (st = veil_proto_expect(&w->conn, VEIL_MSG_CHALLENGE, &m, err)) == VEIL_OK) {
		memcpy(nonce, veil_proto_get(&m, VEIL_F_NONCE, 0)->value, sizeof nonce);
		veil_proto_msg_free(&m);
		st = worker_send_evidence(w, nonce, pub, err);
	}
	if (!st && (st = veil_proto_expect(&w->conn, VEIL_MSG_KEYS, &m, err)) == VEIL_OK)
		st = open_keys(&m, ids, n, priv, nonce, deks, err);
	veil_proto_msg_free(&m);
	veil_secure_free(priv, VEIL_X25519_KEY_LEN);
	if (st && strncmp(err->msg, "the peer: ", 10) != 0)
		veil_err_wrap(err, "no data key was released to this worker");
	return st;
}

veil_status worker_job_evidence(worker *w, const veil_proto_msg *job, veil_err *err)
{
	const veil_proto_field *nonce = veil_proto_get(job, VEIL_F_NONCE, 0);
	if (!nonce)
		return veil_err_set(err, VEIL_E_INVALID, "an evidence job without a nonce");
	uint8_t *priv = veil_secure_alloc(VEIL_X25519_KEY_LEN);
	if (!priv)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	uint8_t pub[VEIL_X25519_KEY_LEN];
	veil_status st = veil_x25519_keygen(priv, pub, err);
	veil_secure_free(priv, VEIL_X25519_KEY_LEN);
	return st ? st : worker_send_evidence(w, nonce->value, pub, err);
}
