/*
 * TPM 2.0 quote parsers: the TPMS_ATTEST of a quote, its TPMT_SIGNATURE and
 * the PCR values file, as tpm2_quote writes them (docs/formats/tpm-quote.md).
 * Big-endian TPM marshalling for the first two, read through a cursor that
 * refuses to step past the end; tpm2-tools' little-endian structure dump
 * for the serialized PCR file. Every size and count is bounded before it
 * is used, and every input must be consumed exactly: one spelling only.
 * They check shape; veil_tpm_quote_verify (tpm_verify.c) checks truth.
 */
#include "veil/attest.h"

#include <assert.h>
#include <string.h>

/* A read cursor over untrusted bytes: a failed read leaves it failed. */
typedef struct cur {
	const uint8_t *p;
	size_t len, off;
} cur;

static bool take(cur *c, size_t n, const uint8_t **out)
{
	if (n > c->len - c->off)
		return false;
	*out = c->p + c->off;
	c->off += n;
	return true;
}

static bool u8(cur *c, uint8_t *v)
{
	const uint8_t *p = NULL;
	if (!take(c, 1, &p))
		return false;
	*v = p[0];
	return true;
}

static bool u16(cur *c, uint16_t *v)
{
	const uint8_t *p = NULL;
	if (!take(c, 2, &p))
		return false;
	*v = veil_get_be16(p);
	return true;
}

static bool u32(cur *c, uint32_t *v)
{
	const uint8_t *p = NULL;
	if (!take(c, 4, &p))
		return false;
	*v = veil_get_be32(p);
	return true;
}

static bool u64(cur *c, uint64_t *v)
{
	const uint8_t *p = NULL;
	if (!take(c, 8, &p))
		return false;
	*v = veil_get_be64(p);
	return true;
}

/* A TPM2B: a 16-bit size, then that many bytes (at most max). */
static veil_status tpm2b(cur *c, const char *what, size_t min, size_t max, uint8_t *out, size_t *out_len,
                         veil_err *err)
{
	uint16_t n = 0;
	const uint8_t *p = NULL;
	if (!u16(c, &n))
		return veil_err_set(err, VEIL_E_INVALID, "%s: truncated before its size", what);
	if (n < min || n > max)
		return veil_err_set(err, VEIL_E_INVALID, "%s: size %u (expected %zu to %zu)", what,
		                    (unsigned)n, min, max);
	if (!take(c, n, &p))
		return veil_err_set(err, VEIL_E_INVALID, "%s: truncated (%u bytes announced, %zu left)", what,
		                    (unsigned)n, c->len - c->off);
	memcpy(out, p, n);
	*out_len = n;
	return VEIL_OK;
}

const char *veil_tpm_alg_name(uint16_t alg)
{
	switch (alg) {
	case VEIL_TPM_ALG_SHA1:
		return "sha1";
	case VEIL_TPM_ALG_SHA256:
		return "sha256";
	case VEIL_TPM_ALG_SHA384:
		return "sha384";
	case VEIL_TPM_ALG_SHA512:
		return "sha512";
	case VEIL_TPM_ALG_RSASSA:
		return "rsassa";
	case VEIL_TPM_ALG_RSAPSS:
		return "rsapss";
	case VEIL_TPM_ALG_ECDSA:
		return "ecdsa";
	default:
		return "unknown";
	}
}

/* The digest size of a PCR bank's hash; 0 for one veil does not know. */
static size_t bank_hash_len(uint16_t alg)
{
	switch (alg) {
	case VEIL_TPM_ALG_SHA1:
		return 20;
	case VEIL_TPM_ALG_SHA256:
		return 32;
	case VEIL_TPM_ALG_SHA384:
		return 48;
	case VEIL_TPM_ALG_SHA512:
		return 64;
	default:
		return 0;
	}
}

static size_t bank_count(const veil_tpm_pcr_bank *b)
{
	size_t n = 0;
	for (size_t i = 0; i < b->size_of_select; i++)
		for (unsigned bit = 0; bit < 8; bit++)
			n += (b->select[i] >> bit) & 1u;
	return n;
}

/* TPML_PCR_SELECTION: a count, then per bank hash, sizeofSelect, pcrSelect. */
static veil_status pcr_selection(cur *c, veil_tpm_quote *q, veil_err *err)
{
	uint32_t count = 0;
	if (!u32(c, &count))
		return veil_err_set(err, VEIL_E_INVALID, "quote: truncated before the PCR selection count");
	if (count == 0 || count > VEIL_TPM_BANKS_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "quote: %u PCR banks selected (expected 1 to %d)",
		                    (unsigned)count, VEIL_TPM_BANKS_MAX);
	for (uint32_t i = 0; i < count; i++) {
		veil_tpm_pcr_bank *b = &q->banks[i];
		const uint8_t *sel = NULL;
		if (!u16(c, &b->hash_alg) || !u8(c, &b->size_of_select))
			return veil_err_set(err, VEIL_E_INVALID, "quote: PCR bank %u is truncated",
			                    (unsigned)i);
		if (b->size_of_select == 0 || b->size_of_select > VEIL_TPM_PCR_SELECT_MAX)
			return veil_err_set(
			        err, VEIL_E_INVALID, "quote: PCR bank %u: sizeofSelect %u (expected 1 to %d)",
			        (unsigned)i, (unsigned)b->size_of_select, VEIL_TPM_PCR_SELECT_MAX);
		if (!take(c, b->size_of_select, &sel))
			return veil_err_set(err, VEIL_E_INVALID, "quote: PCR bank %u: truncated pcrSelect",
			                    (unsigned)i);
		memcpy(b->select, sel, b->size_of_select);
		if (bank_hash_len(b->hash_alg) == 0)
			return veil_err_set(
			        err, VEIL_E_UNSUPPORTED,
			        "quote: PCR bank %u has hash algorithm 0x%04x (veil knows sha1, sha256, "
			        "sha384, sha512)",
			        (unsigned)i, (unsigned)b->hash_alg);
		for (uint32_t j = 0; j < i; j++)
			if (q->banks[j].hash_alg == b->hash_alg)
				return veil_err_set(err, VEIL_E_INVALID,
				                    "quote: the %s bank is selected twice",
				                    veil_tpm_alg_name(b->hash_alg));
		q->npcrs += bank_count(b);
		q->nbanks = i + 1;
	}
	/* 8 banks of 32 PCRs could exceed it: the bound is on what the caller gets back. */
	if (q->npcrs > VEIL_TPM_PCRS_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "quote: %zu PCRs selected (at most %d)", q->npcrs,
		                    VEIL_TPM_PCRS_MAX);
	return VEIL_OK;
}

static veil_status quote_fields(cur *c, veil_tpm_quote *q, veil_err *err)
{
	uint32_t magic = 0;
	uint16_t type = 0;
	uint8_t safe = 0;
	veil_status st;
	if (!u32(c, &magic) || !u16(c, &type))
		return veil_err_set(err, VEIL_E_INVALID, "quote: %zu bytes, too short for a TPMS_ATTEST",
		                    c->len);
	if (magic != VEIL_TPM_GENERATED_VALUE)
		return veil_err_set(
		        err, VEIL_E_INVALID,
		        "quote: magic 0x%08x is not TPM_GENERATED_VALUE (0xff544347): the TPM did not "
		        "make this structure",
		        (unsigned)magic);
	if (type != VEIL_TPM_ST_ATTEST_QUOTE)
		return veil_err_set(err, VEIL_E_UNSUPPORTED,
		                    "quote: attestation type 0x%04x is not TPM_ST_ATTEST_QUOTE (0x8018)",
		                    (unsigned)type);
	if ((st = tpm2b(c, "quote: qualifiedSigner", 0, VEIL_TPM_NAME_MAX, q->qualified_signer,
	                &q->qualified_signer_len, err)) ||
	    (st = tpm2b(c, "quote: extraData", 0, VEIL_TPM_DATA_MAX, q->extra_data, &q->extra_data_len, err)))
		return st;
	if (!u64(c, &q->clock) || !u32(c, &q->reset_count) || !u32(c, &q->restart_count) || !u8(c, &safe) ||
	    !u64(c, &q->firmware_version))
		return veil_err_set(err, VEIL_E_INVALID, "quote: truncated in clockInfo or firmwareVersion");
	if (safe > 1)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "quote: clockInfo.safe is %u (a TPMI_YES_NO: 0 or 1)", (unsigned)safe);
	q->safe = safe == 1;
	if ((st = pcr_selection(c, q, err)))
		return st;
	/* pcrDigest's size is checked against the signature's hash by the verifier. */
	if ((st = tpm2b(c, "quote: pcrDigest", 1, VEIL_TPM_DIGEST_MAX, q->pcr_digest, &q->pcr_digest_len,
	                err)))
		return st;
	if (c->off != c->len)
		return veil_err_set(err, VEIL_E_INVALID, "quote: %zu bytes after the TPMS_ATTEST",
		                    c->len - c->off);
	return VEIL_OK;
}

veil_status veil_tpm_quote_parse(const uint8_t *bytes, size_t len, veil_tpm_quote *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	if (!bytes || len == 0 || len > VEIL_TPM_ATTEST_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "quote: %zu bytes (expected 1 to %u)",
		                    bytes ? len : 0, VEIL_TPM_ATTEST_MAX);
	cur c = {bytes, len, 0};
	veil_status st = quote_fields(&c, out, err);
	if (st) {
		memset(out, 0, sizeof *out);
		return st;
	}
	memcpy(out->raw, bytes, len);
	out->raw_len = len;
	return VEIL_OK;
}

static veil_status sig_fields(cur *c, veil_tpm_signature *s, veil_err *err)
{
	if (!u16(c, &s->sig_alg) || !u16(c, &s->hash_alg))
		return veil_err_set(err, VEIL_E_INVALID,
		                    "signature: %zu bytes, too short for a TPMT_SIGNATURE", c->len);
	if (s->sig_alg != VEIL_TPM_ALG_RSASSA && s->sig_alg != VEIL_TPM_ALG_RSAPSS &&
	    s->sig_alg != VEIL_TPM_ALG_ECDSA)
		return veil_err_set(err, VEIL_E_UNSUPPORTED,
		                    "signature: scheme 0x%04x (veil verifies rsassa, rsapss and ecdsa)",
		                    (unsigned)s->sig_alg);
	if (s->hash_alg == VEIL_TPM_ALG_SHA1)
		return veil_err_set(
		        err, VEIL_E_UNSUPPORTED,
		        "signature: SHA-1, which veil refuses for quotes (collisions are practical)");
	if (s->hash_alg != VEIL_TPM_ALG_SHA256 && s->hash_alg != VEIL_TPM_ALG_SHA384 &&
	    s->hash_alg != VEIL_TPM_ALG_SHA512)
		return veil_err_set(err, VEIL_E_UNSUPPORTED,
		                    "signature: hash 0x%04x (veil verifies sha256, sha384 and sha512)",
		                    (unsigned)s->hash_alg);
	veil_status st;
	if (s->sig_alg == VEIL_TPM_ALG_ECDSA) {
		if ((st = tpm2b(c, "signature: ECDSA R", 1, VEIL_TPM_ECC_COORD_MAX, s->ecc_r, &s->ecc_r_len,
		                err)) ||
		    (st = tpm2b(c, "signature: ECDSA S", 1, VEIL_TPM_ECC_COORD_MAX, s->ecc_s, &s->ecc_s_len,
		                err)))
			return st;
	} else if ((st = tpm2b(c, "signature: RSA", 1, VEIL_TPM_RSA_SIG_MAX, s->rsa, &s->rsa_len, err))) {
		return st;
	}
	if (c->off != c->len)
		return veil_err_set(err, VEIL_E_INVALID, "signature: %zu bytes after the TPMT_SIGNATURE",
		                    c->len - c->off);
	return VEIL_OK;
}

veil_status veil_tpm_signature_parse(const uint8_t *bytes, size_t len, veil_tpm_signature *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	if (!bytes || len == 0 || len > VEIL_TPM_SIG_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "signature: %zu bytes (expected 1 to %u)",
		                    bytes ? len : 0, VEIL_TPM_SIG_MAX);
	cur c = {bytes, len, 0};
	veil_status st = sig_fields(&c, out, err);
	if (st)
		memset(out, 0, sizeof *out);
	return st;
}

/* ---- PCR values ---- */

/* The (bank, index) slots of the quote's selection, in order, into out. */
static void expected_slots(const veil_tpm_quote *q, veil_tpm_pcrs *out)
{
	out->n = 0;
	for (size_t b = 0; b < q->nbanks; b++) {
		const veil_tpm_pcr_bank *bank = &q->banks[b];
		for (unsigned i = 0; i < 8u * bank->size_of_select; i++) {
			if (!((bank->select[i / 8] >> (i % 8)) & 1u) || out->n >= VEIL_TPM_PCRS_MAX)
				continue;
			veil_tpm_pcr *p = &out->pcr[out->n++];
			p->hash_alg = bank->hash_alg;
			p->index = (uint8_t)i;
			p->len = (uint8_t)bank_hash_len(bank->hash_alg);
		}
	}
}

static size_t values_len(const veil_tpm_pcrs *slots)
{
	size_t n = 0;
	for (size_t i = 0; i < slots->n; i++)
		n += slots->pcr[i].len;
	return n;
}

static veil_status parse_values(const uint8_t *bytes, size_t len, veil_tpm_pcrs *out, veil_err *err)
{
	size_t want = values_len(out);
	if (len != want)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "PCR values: %zu bytes, the quote's %zu PCRs make %zu (-F values)", len,
		                    out->n, want);
	size_t off = 0;
	for (size_t i = 0; i < out->n; i++) {
		memcpy(out->pcr[i].value, bytes + off, out->pcr[i].len);
		off += out->pcr[i].len;
	}
	return VEIL_OK;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* Layout of the serialized file's structures (tss2's C types on a
 * little-endian machine): TPMS_PCR_SELECTION is hash(2) sizeofSelect(1)
 * pcrSelect[4] and one byte of padding; TPM2B_DIGEST is size(2) buffer[64]. */
enum {
	SER_SLOT = 8,
	SER_SLOTS = 16,
	SER_DIGEST = 2 + 64,
	SER_DIGESTS = 8,
};
static_assert(VEIL_TPM_SER_SEL_LEN == 4 + SER_SLOTS * SER_SLOT, "TPML_PCR_SELECTION layout");
static_assert(VEIL_TPM_SER_DIGEST_LEN == 4 + SER_DIGESTS * SER_DIGEST, "TPML_DIGEST layout");
static_assert(VEIL_TPM_PCR_SELECT_MAX == 4, "pcrSelect is 4 bytes in the serialized layout");
static_assert(VEIL_TPM_BANKS_MAX <= SER_SLOTS, "every bank fits the serialized selection");

static veil_status ser_selection(const uint8_t *p, const veil_tpm_quote *q, veil_err *err)
{
	uint32_t count = le32(p);
	if (count != q->nbanks)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "PCR values: the file selects %u banks, the quote %zu (-F serialized)",
		                    (unsigned)count, q->nbanks);
	for (size_t i = 0; i < SER_SLOTS; i++) {
		const uint8_t *s = p + 4 + i * SER_SLOT;
		if (i >= count) {
			if (!all_zero(s, SER_SLOT))
				return veil_err_set(err, VEIL_E_INVALID,
				                    "PCR values: unused selection slot %zu is not zero", i);
			continue;
		}
		const veil_tpm_pcr_bank *b = &q->banks[i];
		uint8_t sel[VEIL_TPM_PCR_SELECT_MAX] = {0};
		memcpy(sel, b->select, b->size_of_select);
		/* s[7] is the compiler's padding: nothing gives it a meaning. */
		if (le16(s) != b->hash_alg || s[2] != b->size_of_select ||
		    memcmp(s + 3, sel, sizeof sel) != 0)
			return veil_err_set(
			        err, VEIL_E_INVALID,
			        "PCR values: selection %zu of the file is not the quote's (%s bank)", i,
			        veil_tpm_alg_name(b->hash_alg));
	}
	return VEIL_OK;
}

static veil_status ser_digests(const uint8_t *p, size_t nlists, veil_tpm_pcrs *out, veil_err *err)
{
	size_t k = 0;
	for (size_t l = 0; l < nlists; l++) {
		const uint8_t *list = p + l * VEIL_TPM_SER_DIGEST_LEN;
		uint32_t count = le32(list);
		if (count > SER_DIGESTS || count > out->n - k)
			return veil_err_set(
			        err, VEIL_E_INVALID,
			        "PCR values: digest list %zu holds %u (at most %d, and %zu PCRs remain)", l,
			        (unsigned)count, SER_DIGESTS, out->n - k);
		if (count == 0)
			return veil_err_set(err, VEIL_E_INVALID, "PCR values: digest list %zu is empty", l);
		for (size_t i = 0; i < SER_DIGESTS; i++) {
			const uint8_t *d = list + 4 + i * SER_DIGEST;
			if (i >= count) {
				if (!all_zero(d, SER_DIGEST))
					return veil_err_set(
					        err, VEIL_E_INVALID,
					        "PCR values: unused digest slot %zu of list %zu is not zero",
					        i, l);
				continue;
			}
			veil_tpm_pcr *pcr = &out->pcr[k++];
			if (le16(d) != pcr->len)
				return veil_err_set(err, VEIL_E_INVALID,
				                    "PCR values: %s PCR %u is %u bytes, expected %u",
				                    veil_tpm_alg_name(pcr->hash_alg), (unsigned)pcr->index,
				                    (unsigned)le16(d), (unsigned)pcr->len);
			if (!all_zero(d + 2 + pcr->len, 64 - (size_t)pcr->len))
				return veil_err_set(err, VEIL_E_INVALID,
				                    "PCR values: bytes after %s PCR %u's value are not zero",
				                    veil_tpm_alg_name(pcr->hash_alg), (unsigned)pcr->index);
			memcpy(pcr->value, d + 2, pcr->len);
		}
	}
	if (k != out->n)
		return veil_err_set(err, VEIL_E_INVALID, "PCR values: %zu values for the quote's %zu PCRs", k,
		                    out->n);
	return VEIL_OK;
}

static bool ser_fits(size_t len, size_t *nlists)
{
	const size_t head = VEIL_TPM_SER_SEL_LEN + 4;
	if (len < head + VEIL_TPM_SER_DIGEST_LEN || (len - head) % VEIL_TPM_SER_DIGEST_LEN != 0)
		return false;
	*nlists = (len - head) / VEIL_TPM_SER_DIGEST_LEN;
	return true;
}

static veil_status parse_serialized(const uint8_t *bytes, size_t len, const veil_tpm_quote *q,
                                    veil_tpm_pcrs *out, veil_err *err)
{
	size_t nlists = 0;
	if (!ser_fits(len, &nlists))
		return veil_err_set(err, VEIL_E_INVALID,
		                    "PCR values: %zu bytes is not %u + 4 + a multiple of %u (-F serialized)",
		                    len, VEIL_TPM_SER_SEL_LEN, VEIL_TPM_SER_DIGEST_LEN);
	veil_status st = ser_selection(bytes, q, err);
	if (st)
		return st;
	uint32_t count = le32(bytes + VEIL_TPM_SER_SEL_LEN);
	if (count != nlists)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "PCR values: %u digest lists announced, the file holds %zu",
		                    (unsigned)count, nlists);
	return ser_digests(bytes + VEIL_TPM_SER_SEL_LEN + 4, nlists, out, err);
}

veil_status veil_tpm_pcrs_parse(const uint8_t *bytes, size_t len, veil_tpm_pcrs_format format,
                                const veil_tpm_quote *quote, veil_tpm_pcrs *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	if (!quote || quote->nbanks == 0)
		return veil_err_set(err, VEIL_E_INVALID, "PCR values: no parsed quote to read them for");
	if (!bytes || len == 0 || len > VEIL_TPM_PCRS_FILE_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "PCR values: %zu bytes (expected 1 to %u)",
		                    bytes ? len : 0, VEIL_TPM_PCRS_FILE_MAX);
	expected_slots(quote, out);
	if (out->n != quote->npcrs || out->n == 0) {
		size_t n = out->n;
		memset(out, 0, sizeof *out);
		return veil_err_set(err, VEIL_E_INVALID, "PCR values: the quote selects %zu PCRs", n);
	}
	if (format == VEIL_TPM_PCRS_AUTO) {
		size_t nlists = 0;
		bool ser = ser_fits(len, &nlists), val = len == values_len(out);
		if (ser && val) {
			memset(out, 0, sizeof *out);
			return veil_err_set(
			        err, VEIL_E_INVALID,
			        "PCR values: %zu bytes fits both -F values and -F serialized; say which",
			        len);
		}
		format = ser ? VEIL_TPM_PCRS_SERIALIZED : VEIL_TPM_PCRS_VALUES;
	}
	veil_status st;
	switch (format) {
	case VEIL_TPM_PCRS_VALUES:
		st = parse_values(bytes, len, out, err);
		break;
	case VEIL_TPM_PCRS_SERIALIZED:
		st = parse_serialized(bytes, len, quote, out, err);
		break;
	case VEIL_TPM_PCRS_AUTO:
	default:
		st = veil_err_set(err, VEIL_E_INVALID, "PCR values: unknown format %d", (int)format);
		break;
	}
	if (st)
		memset(out, 0, sizeof *out);
	return st;
}

const veil_tpm_pcr *veil_tpm_pcr_find(const veil_tpm_pcrs *pcrs, uint16_t hash_alg, unsigned index)
{
	if (!pcrs)
		return NULL;
	for (size_t i = 0; i < pcrs->n && i < VEIL_TPM_PCRS_MAX; i++)
		if (pcrs->pcr[i].hash_alg == hash_alg && pcrs->pcr[i].index == index)
			return &pcrs->pcr[i];
	return NULL;
}
