/*
 * Fuzz target: veil_snp_certtable_parse, the reader of the SEV-SNP
 * certificate table that an SNP host returns beside a report (configfs-tsm's
 * auxblob; docs/formats/evidence-producers.md), then veil_snp_certtable_find
 * and veil_snp_certtable_chain_pem on a table that parses. The table is the
 * untrusted host's, so every offset and length in it is an attack surface.
 *
 * Invariants (abort on violation):
 *  1. A failure has a message and leaves no entries; an input over
 *     VEIL_SNP_CERTTABLE_MAX is VEIL_E_LIMIT; an empty input is a table with
 *     no entries.
 *  2. A parsed table holds at most VEIL_SNP_CERTTABLE_ENTRIES_MAX entries,
 *     each read from its 24 bytes of the input (GUID, offset, length), with
 *     a non-zero GUID and length, its certificate inside the input and after
 *     the table's all-zero entry; the kind is the one its GUID names, no
 *     known kind appears twice, and find returns that entry.
 *  3. chain_pem succeeds only when the table has an ASK and an ARK, and then
 *     appends exactly two PEM certificates; a failure has a message and
 *     appends nothing.
 */
#include "fuzz.h"
#include "veil/attest.h"

#include <string.h>

static const struct {
	veil_snp_cert_kind kind;
	const char *guid; /* hex, in the byte order of the GUID's text */
} known[] = {
        {VEIL_SNP_CERT_VCEK, "63da758de6644564adc5f4b93be8accd"},
        {VEIL_SNP_CERT_VLEK, "a8074bc2a25a483eaae639c045a0b8a1"},
        {VEIL_SNP_CERT_ASK, "4ab7b379bbac4fe4a02f05aef327c782"},
        {VEIL_SNP_CERT_ARK, "c0b406a4a803495297433fb6014cd0ae"},
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static veil_snp_cert_kind expected_kind(const uint8_t *guid)
{
	char hex[2 * VEIL_SNP_GUID_LEN + 1];
	veil_hex_encode(guid, VEIL_SNP_GUID_LEN, hex);
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(hex, known[i].guid) == 0)
			return known[i].kind;
	return VEIL_SNP_CERT_OTHER;
}

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void check_entries(const veil_snp_certtable *t, const uint8_t *data, size_t size)
{
	size_t table_end = (t->n + 1) * VEIL_SNP_CERTTABLE_ENTRY_LEN;
	FUZZ_CHECK(t->n <= VEIL_SNP_CERTTABLE_ENTRIES_MAX, "too many entries");
	FUZZ_CHECK(t->n == 0 || table_end <= size, "the table runs past the input");
	if (t->n > 0)
		FUZZ_CHECK(
		        zero(data + table_end - VEIL_SNP_CERTTABLE_ENTRY_LEN, VEIL_SNP_CERTTABLE_ENTRY_LEN),
		        "the entry after the last is not all zero");
	for (size_t i = 0; i < t->n; i++) {
		const veil_snp_cert_entry *e = &t->entry[i];
		const uint8_t *raw = data + i * VEIL_SNP_CERTTABLE_ENTRY_LEN;
		FUZZ_CHECK(memcmp(e->guid, raw, VEIL_SNP_GUID_LEN) == 0, "GUID not read from the entry");
		FUZZ_CHECK(!zero(e->guid, VEIL_SNP_GUID_LEN), "an entry with a zero GUID");
		FUZZ_CHECK(e->der == data + le32(raw + 16), "offset not read from the entry");
		FUZZ_CHECK(e->len == le32(raw + 20) && e->len > 0, "length not read from the entry, or zero");
		FUZZ_CHECK(e->der >= data + table_end && e->len <= size - (size_t)(e->der - data),
		           "a certificate outside the input or inside the table");
		FUZZ_CHECK(e->kind == expected_kind(e->guid), "the kind is not the GUID's");
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(e->kind == VEIL_SNP_CERT_OTHER || t->entry[j].kind != e->kind,
			           "a known kind twice");
		if (e->kind != VEIL_SNP_CERT_OTHER)
			FUZZ_CHECK(veil_snp_certtable_find(t, e->kind) == e, "find returns another entry");
	}
}

static void check_chain(const veil_snp_certtable *t)
{
	veil_buf pem = {0};
	veil_err err = {0};
	bool both = veil_snp_certtable_find(t, VEIL_SNP_CERT_ASK) &&
	            veil_snp_certtable_find(t, VEIL_SNP_CERT_ARK);
	veil_status st = veil_snp_certtable_chain_pem(t, &pem, &err);
	fuzz_note("chain_pem", st, &err);
	if (st) {
		FUZZ_CHECK(err.code == st && err.msg[0] != '\0', "a failure without a message");
		FUZZ_CHECK(pem.len == 0, "a failure appended to the PEM");
		FUZZ_CHECK(both || st == VEIL_E_NOTFOUND, "a missing certificate gave another error");
	} else {
		FUZZ_CHECK(both, "a chain without an ASK and an ARK");
		size_t n = 0;
		const char *p = (const char *)pem.data, *end = p + pem.len;
		const char *begin = "-----BEGIN CERTIFICATE-----";
		while (p && (size_t)(end - p) >= strlen(begin) &&
		       (p = memmem(p, (size_t)(end - p), begin, strlen(begin)))) {
			n++;
			p += strlen(begin);
		}
		FUZZ_CHECK(n == 2, "the chain is not two certificates");
	}
	veil_buf_free(&pem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	veil_snp_certtable t;
	veil_err err = {0};
	veil_status st = veil_snp_certtable_parse(data, size, &t, &err);
	fuzz_note("parse", st, &err);
	if (st) {
		FUZZ_CHECK(err.code == st && err.msg[0] != '\0', "a failure without a message");
		FUZZ_CHECK(t.n == 0, "a failed parse left entries");
		FUZZ_CHECK(size <= VEIL_SNP_CERTTABLE_MAX || st == VEIL_E_LIMIT,
		           "an oversized table gave another error");
		return 0;
	}
	FUZZ_CHECK(size <= VEIL_SNP_CERTTABLE_MAX, "an oversized table parsed");
	FUZZ_CHECK(size > 0 || t.n == 0, "an empty input has entries");
	check_entries(&t, data, size);
	check_chain(&t);
	return 0;
}
