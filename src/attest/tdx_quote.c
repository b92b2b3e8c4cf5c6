/*
 * The Intel TDX quote parser, versions 4 and 5: little-endian bytes into a
 * veil_tdx_quote, at the offsets of Intel's "TDX DCAP Quoting Library API"
 * quote format (docs/formats/tdx.md has the tables). It checks shape only:
 * every length field must agree with the bytes given, exactly, and the
 * types veil can verify are the only ones accepted. Whether anything in it
 * is true is veil_tdx_verify's question.
 *
 * The reader below never moves past the end of the input: each take()
 * checks the bytes left first, so a length field can at worst make the
 * parse fail, never read out of bounds.
 */
#include "veil/attest.h"

#include <assert.h>
#include <string.h>

/* Offsets inside the TD report body (TDX 1.0), and its TDX 1.5 tail. */
enum {
	BODY_TEE_TCB_SVN = 0,
	BODY_MR_SEAM = 16,
	BODY_MR_SIGNER_SEAM = 64,
	BODY_SEAM_ATTRIBUTES = 112,
	BODY_TD_ATTRIBUTES = 120,
	BODY_XFAM = 128,
	BODY_MR_TD = 136,
	BODY_MR_CONFIG_ID = 184,
	BODY_MR_OWNER = 232,
	BODY_MR_OWNER_CONFIG = 280,
	BODY_RTMR0 = 328,
	BODY_REPORT_DATA = 520,
	BODY_TEE_TCB_SVN2 = 584, /* TDX 1.5 */
	BODY_MR_SERVICETD = 600, /* TDX 1.5 */
};

/* Offsets inside the QE report (an SGX REPORT body). */
enum {
	QE_CPU_SVN = 0,
	QE_ATTRIBUTES = 48,
	QE_MR_ENCLAVE = 64,
	QE_MR_SIGNER = 128,
	QE_ISV_PROD_ID = 256,
	QE_ISV_SVN = 258,
	QE_REPORT_DATA = 320,
};

static_assert(BODY_REPORT_DATA == BODY_RTMR0 + 4 * VEIL_TDX_MR_LEN, "four RTMRs");
static_assert(BODY_TEE_TCB_SVN2 == BODY_REPORT_DATA + VEIL_TDX_REPORT_DATA_LEN, "report_data ends TDX 1.0");
static_assert(BODY_TEE_TCB_SVN2 == VEIL_TDX_BODY10_LEN, "the TDX 1.0 body is 584 bytes");
static_assert(BODY_MR_SERVICETD + VEIL_TDX_MR_LEN == VEIL_TDX_BODY15_LEN, "the TDX 1.5 body is 648 bytes");
static_assert(QE_REPORT_DATA + 64 == VEIL_TDX_QE_REPORT_LEN, "report_data ends the QE report");
static_assert(VEIL_TDX_QUOTE_MAX <= UINT32_MAX, "quote offsets fit the 32-bit length fields");

typedef struct rd {
	const uint8_t *p;
	size_t len, off;
} rd;

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
}

/* Sets *at to the next n bytes; VEIL_E_INVALID naming `what` and where when fewer are left. */
static veil_status take(rd *r, size_t n, const char *what, const uint8_t **at, veil_err *err)
{
	*at = NULL;
	if (r->len - r->off < n) {
		veil_err_set(err, VEIL_E_INVALID,
		             "TDX quote: truncated in %s (offset %zu: %zu bytes needed, %zu left)", what,
		             r->off, n, r->len - r->off);
		return VEIL_E_INVALID; /* not veil_err_set's value: the analyzer then sees *at set on VEIL_OK
		                        */
	}
	*at = r->p + r->off;
	r->off += n;
	return VEIL_OK;
}

/* A length field must account for exactly the bytes left in its frame. */
static veil_status frame_exact(size_t declared, size_t left, const char *what, veil_err *err)
{
	if (declared > left)
		return veil_err_set(err, VEIL_E_INVALID, "TDX quote: %s says %zu bytes, only %zu follow",
		                    what, declared, left);
	if (declared < left)
		return veil_err_set(err, VEIL_E_INVALID, "TDX quote: %zu bytes after the end %s declares",
		                    left - declared, what);
	return VEIL_OK;
}

static veil_status parse_header(rd *r, veil_tdx_quote *q, veil_err *err)
{
	const uint8_t *h = NULL;
	veil_status st = take(r, VEIL_TDX_HEADER_LEN, "the header", &h, err);
	if (st)
		return st;
	q->version = le16(h);
	q->att_key_type = le16(h + 2);
	q->tee_type = le32(h + 4);
	memcpy(q->qe_vendor_id, h + 12, VEIL_TDX_QE_VENDOR_LEN);
	memcpy(q->user_data, h + 28, VEIL_TDX_USER_DATA_LEN);
	if (q->version != 4 && q->version != 5)
		return veil_err_set(err, VEIL_E_UNSUPPORTED, "TDX quote: version %u (veil reads 4 and 5)",
		                    (unsigned)q->version);
	if (q->att_key_type != VEIL_TDX_ATT_KEY_P256)
		return veil_err_set(err, VEIL_E_UNSUPPORTED,
		                    "TDX quote: attestation key type %u (veil reads 2, ECDSA-256-with-P-256)",
		                    (unsigned)q->att_key_type);
	if (q->tee_type != VEIL_TDX_TEE_TYPE)
		return veil_err_set(err, VEIL_E_UNSUPPORTED, "TDX quote: TEE type 0x%x is not TDX (0x81)",
		                    (unsigned)q->tee_type);
	return VEIL_OK;
}

/* Version 5 names the body's type and size; version 4 always carries a TDX 1.0 body. */
static veil_status parse_body_desc(rd *r, veil_tdx_quote *q, size_t *body_len, veil_err *err)
{
	q->body_type = VEIL_TDX_BODY_TYPE_TDX10;
	*body_len = VEIL_TDX_BODY10_LEN;
	if (q->version == 4)
		return VEIL_OK;
	const uint8_t *d = NULL;
	veil_status st = take(r, VEIL_TDX_BODY_DESC_LEN, "the body descriptor", &d, err);
	if (st)
		return st;
	q->body_type = le16(d);
	uint32_t size = le32(d + 2);
	if (q->body_type == VEIL_TDX_BODY_TYPE_TDX15)
		*body_len = VEIL_TDX_BODY15_LEN;
	else if (q->body_type != VEIL_TDX_BODY_TYPE_TDX10)
		return veil_err_set(err, VEIL_E_UNSUPPORTED,
		                    "TDX quote: body type %u (veil reads 2, TDX 1.0, and 3, TDX 1.5)",
		                    (unsigned)q->body_type);
	if (size != *body_len)
		return veil_err_set(err, VEIL_E_INVALID, "TDX quote: a type %u body is %zu bytes, not %u",
		                    (unsigned)q->body_type, *body_len, (unsigned)size);
	return VEIL_OK;
}

static veil_status parse_body(rd *r, veil_tdx_quote *q, size_t body_len, veil_err *err)
{
	const uint8_t *b = NULL;
	veil_status st = take(r, body_len, "the TD report body", &b, err);
	if (st)
		return st;
	memcpy(q->tee_tcb_svn, b + BODY_TEE_TCB_SVN, VEIL_TDX_SVN_LEN);
	memcpy(q->mr_seam, b + BODY_MR_SEAM, VEIL_TDX_MR_LEN);
	memcpy(q->mr_signer_seam, b + BODY_MR_SIGNER_SEAM, VEIL_TDX_MR_LEN);
	q->seam_attributes = le64(b + BODY_SEAM_ATTRIBUTES);
	q->td_attributes = le64(b + BODY_TD_ATTRIBUTES);
	q->xfam = le64(b + BODY_XFAM);
	memcpy(q->mr_td, b + BODY_MR_TD, VEIL_TDX_MR_LEN);
	memcpy(q->mr_config_id, b + BODY_MR_CONFIG_ID, VEIL_TDX_MR_LEN);
	memcpy(q->mr_owner, b + BODY_MR_OWNER, VEIL_TDX_MR_LEN);
	memcpy(q->mr_owner_config, b + BODY_MR_OWNER_CONFIG, VEIL_TDX_MR_LEN);
	for (size_t i = 0; i < 4; i++)
		memcpy(q->rtmr[i], b + BODY_RTMR0 + i * VEIL_TDX_MR_LEN, VEIL_TDX_MR_LEN);
	memcpy(q->report_data, b + BODY_REPORT_DATA, VEIL_TDX_REPORT_DATA_LEN);
	if (q->body_type == VEIL_TDX_BODY_TYPE_TDX15) {
		memcpy(q->tee_tcb_svn2, b + BODY_TEE_TCB_SVN2, VEIL_TDX_SVN_LEN);
		memcpy(q->mr_servicetd, b + BODY_MR_SERVICETD, VEIL_TDX_MR_LEN);
	}
	q->debug = (q->td_attributes & VEIL_TDX_TD_ATTR_TUD_MASK) != 0;
	q->signed_len = r->off;
	return VEIL_OK;
}

static void parse_qe_report(veil_tdx_quote *q)
{
	const uint8_t *e = q->qe_report;
	memcpy(q->qe_attributes, e + QE_ATTRIBUTES, sizeof q->qe_attributes);
	memcpy(q->qe_mr_enclave, e + QE_MR_ENCLAVE, sizeof q->qe_mr_enclave);
	memcpy(q->qe_mr_signer, e + QE_MR_SIGNER, sizeof q->qe_mr_signer);
	q->qe_isv_prod_id = le16(e + QE_ISV_PROD_ID);
	q->qe_isv_svn = le16(e + QE_ISV_SVN);
}

/* A certification data header: type (2 bytes) and size (4), the size
 * accounting for exactly the rest of the enclosing frame. */
static veil_status cert_header(rd *r, unsigned want, const char *what, size_t *size, veil_err *err)
{
	const uint8_t *c = NULL;
	veil_status st = take(r, 6, what, &c, err);
	if (st)
		return st;
	unsigned type = le16(c);
	*size = le32(c + 2);
	if (type != want)
		return veil_err_set(err, VEIL_E_UNSUPPORTED, "TDX quote: %s has type %u (veil reads %u)",
		                    what, type, want);
	return frame_exact(*size, r->len - r->off, what, err);
}

static veil_status parse_signature_data(rd *r, veil_tdx_quote *q, veil_err *err)
{
	const uint8_t *p = NULL;
	veil_status st = take(r, 4, "the signature data length", &p, err);
	if (st)
		return st;
	if ((st = frame_exact(le32(p), r->len - r->off, "the signature data length", err)))
		return st;
	size_t size = 0;
	if ((st = take(r, VEIL_TDX_SIG_LEN, "the quote signature", &p, err)))
		return st;
	memcpy(q->signature, p, VEIL_TDX_SIG_LEN);
	if ((st = take(r, VEIL_TDX_KEY_LEN, "the attestation key", &p, err)))
		return st;
	memcpy(q->attest_key, p, VEIL_TDX_KEY_LEN);
	if ((st = cert_header(r, VEIL_TDX_CERT_QE_REPORT, "the certification data", &size, err)))
		return st;
	if ((st = take(r, VEIL_TDX_QE_REPORT_LEN, "the QE report", &p, err)))
		return st;
	memcpy(q->qe_report, p, VEIL_TDX_QE_REPORT_LEN);
	parse_qe_report(q);
	if ((st = take(r, VEIL_TDX_SIG_LEN, "the QE report signature", &p, err)))
		return st;
	memcpy(q->qe_report_sig, p, VEIL_TDX_SIG_LEN);
	if ((st = take(r, 2, "the QE auth data length", &p, err)))
		return st;
	q->qe_auth_len = le16(p);
	if ((st = take(r, q->qe_auth_len, "the QE auth data", &p, err)))
		return st;
	q->qe_auth = q->qe_auth_len ? p : NULL;
	if ((st = cert_header(r, VEIL_TDX_CERT_PCK_CHAIN, "the PCK certification data", &size, err)))
		return st;
	if (size == 0 || size > VEIL_TDX_PCK_CHAIN_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "TDX quote: the PCK chain is %zu bytes (1..%u)",
		                    size, VEIL_TDX_PCK_CHAIN_MAX);
	if ((st = take(r, size, "the PCK chain", &p, err)))
		return st;
	q->pck_chain = (const char *)p;
	q->pck_chain_len = size;
	return VEIL_OK;
}

/* The whole quote: q->raw_len is where its last frame ends, which the
 * exact frames make the input's length. */
static veil_status parse(const uint8_t *bytes, size_t len, veil_tdx_quote *q, veil_err *err)
{
	if (!bytes && len)
		return veil_err_set(err, VEIL_E_INVALID, "TDX quote: no bytes");
	if (len > VEIL_TDX_QUOTE_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "TDX quote: %zu bytes (at most %u)", len,
		                    VEIL_TDX_QUOTE_MAX);
	rd r = {bytes, len, 0};
	size_t body_len = 0;
	veil_status st;
	if ((st = parse_header(&r, q, err)) || (st = parse_body_desc(&r, q, &body_len, err)) ||
	    (st = parse_body(&r, q, body_len, err)) || (st = parse_signature_data(&r, q, err)))
		return st;
	q->raw = bytes;
	q->raw_len = r.off;
	return VEIL_OK;
}

veil_status veil_tdx_quote_parse(const uint8_t *bytes, size_t len, veil_tdx_quote *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	veil_tdx_quote *q = out;
	veil_status st = parse(bytes, len, q, err);
	if (!st && q->raw_len != len)
		st = veil_err_set(err, VEIL_E_INTERNAL, "TDX quote: the parser stopped before the end");
	if (st)
		memset(out, 0, sizeof *out);
	return st;
}

/* The declared end is where the signature data length says the signature
 * data stops; bytes after it are the buffer's, not the quote's. The prefix
 * up to it is then parsed in full, so the refusals are the parser's. */
veil_status veil_tdx_quote_len(const uint8_t *bytes, size_t len, size_t *quote_len, veil_err *err)
{
	*quote_len = 0;
	if (!bytes && len)
		return veil_err_set(err, VEIL_E_INVALID, "TDX quote: no bytes");
	veil_tdx_quote q;
	memset(&q, 0, sizeof q);
	rd r = {bytes, len, 0};
	size_t body_len = 0;
	veil_status st;
	if ((st = parse_header(&r, &q, err)) || (st = parse_body_desc(&r, &q, &body_len, err)) ||
	    (st = parse_body(&r, &q, body_len, err)))
		return st;
	const uint8_t *p = NULL;
	if ((st = take(&r, 4, "the signature data length", &p, err)))
		return st;
	uint32_t rest = le32(p);
	if (rest > VEIL_TDX_QUOTE_MAX - r.off) /* r.off is at most 706: no wrap */
		return veil_err_set(err, VEIL_E_LIMIT, "TDX quote: declares %zu + %u bytes (at most %u)",
		                    r.off, (unsigned)rest, VEIL_TDX_QUOTE_MAX);
	size_t end = r.off + rest;
	if ((st = veil_tdx_quote_parse(bytes, end > len ? len : end, &q, err)))
		return st;
	*quote_len = end;
	return VEIL_OK;
}
