/*
 * The SEV-SNP certificate table: what an SNP host returns beside a report
 * (the GHCB specification's extended guest request, and configfs-tsm's
 * auxblob for provider sev_guest), so that a guest can pass its VCEK or
 * VLEK and the AMD chain on without a network fetch. The table is the
 * host's word, untrusted: this parser only bounds it (every offset and
 * length inside the blob, after the table, every known GUID once); whether
 * the certificates are AMD's is veil_snp_verify's question.
 */
#include "veil/attest.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static_assert(VEIL_SNP_CERTTABLE_ENTRY_LEN == VEIL_SNP_GUID_LEN + 4 + 4, "GUID, offset, length");
static_assert(VEIL_SNP_CERTTABLE_MAX <= UINT32_MAX, "offsets are u32");

/* The GUIDs in the byte order of their text (as the GHCB table carries them). */
static const struct {
	veil_snp_cert_kind kind;
	uint8_t guid[VEIL_SNP_GUID_LEN];
} known[] = {
        {VEIL_SNP_CERT_VCEK,
         {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd}},
        {VEIL_SNP_CERT_VLEK,
         {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1}},
        {VEIL_SNP_CERT_ASK,
         {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82}},
        {VEIL_SNP_CERT_ARK,
         {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae}},
};

const char *veil_snp_cert_kind_name(veil_snp_cert_kind k)
{
	switch (k) {
	case VEIL_SNP_CERT_VCEK:
		return "VCEK";
	case VEIL_SNP_CERT_VLEK:
		return "VLEK";
	case VEIL_SNP_CERT_ASK:
		return "ASK";
	case VEIL_SNP_CERT_ARK:
		return "ARK";
	case VEIL_SNP_CERT_OTHER:
		break;
	}
	return "other";
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

static veil_snp_cert_kind kind_of(const uint8_t guid[VEIL_SNP_GUID_LEN])
{
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (memcmp(guid, known[i].guid, VEIL_SNP_GUID_LEN) == 0)
			return known[i].kind;
	return VEIL_SNP_CERT_OTHER;
}

/* Counts the entries before the all-zero one; *table_len is the table's
 * size with that terminator. */
static veil_status find_end(const uint8_t *blob, size_t len, size_t *n, size_t *table_len, veil_err *err)
{
	for (size_t i = 0;; i++) {
		size_t off = i * VEIL_SNP_CERTTABLE_ENTRY_LEN;
		if (len - off < VEIL_SNP_CERTTABLE_ENTRY_LEN)
			return veil_err_set(
			        err, VEIL_E_INVALID,
			        "SNP certificate table: no all-zero entry ends it within its %zu bytes", len);
		if (all_zero(blob + off, VEIL_SNP_CERTTABLE_ENTRY_LEN)) {
			*n = i;
			*table_len = off + VEIL_SNP_CERTTABLE_ENTRY_LEN;
			return VEIL_OK;
		}
		if (i == VEIL_SNP_CERTTABLE_ENTRIES_MAX)
			return veil_err_set(err, VEIL_E_LIMIT, "SNP certificate table: more than %d entries",
			                    VEIL_SNP_CERTTABLE_ENTRIES_MAX);
	}
}

static veil_status read_entry(const uint8_t *blob, size_t len, size_t i, size_t table_len,
                              veil_snp_cert_entry *e, veil_err *err)
{
	const uint8_t *p = blob + i * VEIL_SNP_CERTTABLE_ENTRY_LEN;
	uint32_t off = le32(p + VEIL_SNP_GUID_LEN), n = le32(p + VEIL_SNP_GUID_LEN + 4);
	memcpy(e->guid, p, VEIL_SNP_GUID_LEN);
	e->kind = kind_of(e->guid);
	if (all_zero(e->guid, VEIL_SNP_GUID_LEN))
		return veil_err_set(err, VEIL_E_INVALID, "SNP certificate table: entry %zu has a zero GUID",
		                    i);
	if (n == 0)
		return veil_err_set(err, VEIL_E_INVALID, "SNP certificate table: entry %zu (%s) is empty", i,
		                    veil_snp_cert_kind_name(e->kind));
	/* Both are u32 and len is at most 64 KiB: the sum cannot wrap in size_t. */
	if (off < table_len || (size_t)off + n > len)
		return veil_err_set(
		        err, VEIL_E_INVALID,
		        "SNP certificate table: entry %zu (%s) at %u+%u is not between the table's end "
		        "(%zu) and the blob's (%zu)",
		        i, veil_snp_cert_kind_name(e->kind), (unsigned)off, (unsigned)n, table_len, len);
	e->der = blob + off;
	e->len = n;
	return VEIL_OK;
}

veil_status veil_snp_certtable_parse(const uint8_t *blob, size_t len, veil_snp_certtable *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	if (len == 0)
		return VEIL_OK;
	if (!blob)
		return veil_err_set(err, VEIL_E_INVALID, "SNP certificate table: no data");
	if (len > VEIL_SNP_CERTTABLE_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "SNP certificate table: %zu bytes (at most %u)", len,
		                    VEIL_SNP_CERTTABLE_MAX);
	size_t n = 0, table_len = 0;
	veil_status st = find_end(blob, len, &n, &table_len, err);
	if (st)
		return st;
	veil_snp_certtable t = {0};
	for (size_t i = 0; i < n; i++) {
		if ((st = read_entry(blob, len, i, table_len, &t.entry[i], err)))
			return st;
		/* Two VCEKs (or ARKs) would leave the choice to whoever reads first. */
		for (size_t j = 0; j < i && t.entry[i].kind != VEIL_SNP_CERT_OTHER; j++)
			if (t.entry[j].kind == t.entry[i].kind)
				return veil_err_set(err, VEIL_E_INVALID,
				                    "SNP certificate table: two %s entries",
				                    veil_snp_cert_kind_name(t.entry[i].kind));
	}
	t.n = n;
	*out = t;
	return VEIL_OK;
}

const veil_snp_cert_entry *veil_snp_certtable_find(const veil_snp_certtable *t, veil_snp_cert_kind kind)
{
	if (!t || kind == VEIL_SNP_CERT_OTHER)
		return NULL;
	for (size_t i = 0; i < t->n && i < VEIL_SNP_CERTTABLE_ENTRIES_MAX; i++)
		if (t->entry[i].kind == kind)
			return &t->entry[i];
	return NULL;
}

/* Appends one entry's certificate as PEM, after checking it is one DER certificate. */
static veil_status append_pem(const veil_snp_cert_entry *e, BIO *b, veil_err *err)
{
	if (e->len > VEIL_SNP_CERT_MAX)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "SNP certificate table: the %s is %zu bytes (at most %u)",
		                    veil_snp_cert_kind_name(e->kind), e->len, VEIL_SNP_CERT_MAX);
	const unsigned char *p = e->der;
	X509 *x = d2i_X509(NULL, &p, (long)e->len);
	bool one = x && p == e->der + e->len;
	bool ok = one && PEM_write_bio_X509(b, x) == 1;
	X509_free(x);
	ERR_clear_error();
	if (!one)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "SNP certificate table: the %s is not one DER certificate",
		                    veil_snp_cert_kind_name(e->kind));
	return ok ? VEIL_OK : veil_err_set(err, VEIL_E_CRYPTO, "SNP certificate table: cannot write PEM");
}

veil_status veil_snp_certtable_chain_pem(const veil_snp_certtable *t, veil_buf *pem, veil_err *err)
{
	const veil_snp_cert_entry *ask = veil_snp_certtable_find(t, VEIL_SNP_CERT_ASK);
	const veil_snp_cert_entry *ark = veil_snp_certtable_find(t, VEIL_SNP_CERT_ARK);
	if (!ask || !ark)
		return veil_err_set(err, VEIL_E_NOTFOUND, "SNP certificate table: no %s certificate",
		                    !ask ? "ASK" : "ARK");
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return veil_err_set(err, VEIL_E_NOMEM, "SNP certificate table: out of memory");
	char *data = NULL;
	long n = 0;
	veil_status st = append_pem(ask, b, err);
	if (!st)
		st = append_pem(ark, b, err);
	if (!st && (n = BIO_get_mem_data(b, &data)) <= 0)
		st = veil_err_set(err, VEIL_E_CRYPTO, "SNP certificate table: cannot write PEM");
	if (!st)
		st = veil_buf_append(pem, data, (size_t)n, err);
	BIO_free(b);
	return st;
}
