/*
 * The two computations of the key-release exchange that the key broker and
 * the worker must agree on byte for byte (docs/formats/worker-protocol.md,
 * "Key release"): the binding the evidence carries as its report data, and
 * the HPKE envelope a released data key travels in.
 */
#include <string.h>

#include "veil/crypto.h"
#include "veil/proto.h"

#define INFO_LABEL "veil key release v1"

veil_status veil_proto_binding(const uint8_t nonce[static VEIL_PROTO_NONCE_LEN], const uint8_t pub[static 32],
                               const uint8_t sign_pub[static 32], uint8_t out[static VEIL_PROTO_BINDING_LEN],
                               veil_err *err)
{
	uint8_t in[VEIL_PROTO_NONCE_LEN + 32 + 32];
	memcpy(in, nonce, VEIL_PROTO_NONCE_LEN);
	memcpy(in + VEIL_PROTO_NONCE_LEN, pub, 32);
	memcpy(in + VEIL_PROTO_NONCE_LEN + 32, sign_pub, 32);
	return veil_hash(VEIL_HASH_SHA512, in, sizeof in, out, err);
}

#define REPORT_CONTEXT "veil worker report v1" /* and its NUL: the prefix of what is signed */

/* The signed message: context, NUL, report. */
static veil_status report_tbs(const uint8_t *report, size_t len, veil_buf *out, veil_err *err)
{
	veil_status st = veil_buf_append(out, REPORT_CONTEXT, sizeof REPORT_CONTEXT, err);
	return st ? st : veil_buf_append(out, report, len, err);
}

veil_status veil_proto_report_sign(const uint8_t seed[static 32], const uint8_t *report, size_t len,
                                   uint8_t sig[static VEIL_PROTO_SIG_LEN], veil_err *err)
{
	veil_buf tbs = {0};
	veil_status st = report_tbs(report, len, &tbs, err);
	if (!st)
		st = veil_ed25519_sign(seed, tbs.data, tbs.len, sig, err);
	veil_buf_free(&tbs);
	return st;
}

veil_status veil_proto_report_verify(const uint8_t pub[static 32], const uint8_t *report, size_t len,
                                     const uint8_t *sig, size_t sig_len, veil_err *err)
{
	if (sig_len != VEIL_PROTO_SIG_LEN)
		return veil_err_set(err, VEIL_E_AUTH, "a report signature of %zu bytes (Ed25519's are 64)",
		                    sig_len);
	veil_buf tbs = {0};
	veil_status st = report_tbs(report, len, &tbs, err);
	if (!st)
		st = veil_ed25519_verify(pub, tbs.data, tbs.len, sig, err);
	veil_buf_free(&tbs);
	return st;
}

static size_t info_of(const uint8_t nonce[static VEIL_PROTO_NONCE_LEN], uint8_t *info)
{
	memcpy(info, INFO_LABEL, sizeof INFO_LABEL - 1);
	memcpy(info + sizeof INFO_LABEL - 1, nonce, VEIL_PROTO_NONCE_LEN);
	return sizeof INFO_LABEL - 1 + VEIL_PROTO_NONCE_LEN;
}

static veil_status check_id(const char *dek_id, veil_err *err)
{
	size_t n = dek_id ? strlen(dek_id) : 0;
	if (n == 0 || n > 64)
		return veil_err_set(err, VEIL_E_INVALID, "a data key id of 1 to 64 characters is needed");
	return VEIL_OK;
}

veil_status veil_proto_wrap_dek(const uint8_t pub[static 32],
                                const uint8_t nonce[static VEIL_PROTO_NONCE_LEN], const char *dek_id,
                                const uint8_t dek[static VEIL_PROTO_DEK_LEN],
                                uint8_t out[static VEIL_PROTO_WRAPPED_LEN], veil_err *err)
{
	veil_status st = check_id(dek_id, err);
	if (st)
		return st;
	uint8_t info[sizeof INFO_LABEL + VEIL_PROTO_NONCE_LEN];
	size_t info_len = info_of(nonce, info);
	return veil_hpke_seal_base(VEIL_HPKE_AEAD_AES256_GCM, pub, info, info_len, (const uint8_t *)dek_id,
	                           strlen(dek_id), dek, VEIL_PROTO_DEK_LEN, out, err);
}

veil_status veil_proto_unwrap_dek(const uint8_t priv[static 32],
                                  const uint8_t nonce[static VEIL_PROTO_NONCE_LEN], const char *dek_id,
                                  const uint8_t *wrapped, size_t wrapped_len,
                                  uint8_t dek[static VEIL_PROTO_DEK_LEN], veil_err *err)
{
	veil_status st = check_id(dek_id, err);
	if (st)
		return st;
	if (wrapped_len != VEIL_PROTO_WRAPPED_LEN)
		return veil_err_set(err, VEIL_E_INVALID, "a wrapped data key of %zu bytes (%d expected)",
		                    wrapped_len, VEIL_PROTO_WRAPPED_LEN);
	uint8_t info[sizeof INFO_LABEL + VEIL_PROTO_NONCE_LEN];
	size_t info_len = info_of(nonce, info);
	st = veil_hpke_open_base(VEIL_HPKE_AEAD_AES256_GCM, priv, info, info_len, (const uint8_t *)dek_id,
	                         strlen(dek_id), wrapped, wrapped_len, dek, err);
	if (st == VEIL_E_AUTH)
		veil_err_wrap(err, "data key %s was not wrapped for this worker and challenge", dek_id);
	return st;
}
