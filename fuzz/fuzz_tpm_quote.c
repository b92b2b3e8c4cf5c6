/*
 * Fuzz target: the TPM 2.0 quote parsers (docs/formats/tpm-quote.md) and
 * veil_tpm_quote_verify behind them, with the RSA and ECC AKs of the swtpm
 * samples (tests/attest/data/tpm/) embedded below, so that mutations which
 * keep the shape reach the signature, nonce and pcrDigest checks.
 *
 * Input: byte 0 picks the PCR file format (mod 3: auto, values,
 * serialized), then a 2-byte big-endian length and the quote message, a
 * 2-byte length and the signature, and the PCR file is the rest. An input
 * whose lengths do not fit is given whole to the quote and signature
 * parsers instead.
 *
 * Invariants (abort on violation):
 *  1. A failure has a message and the status in err, and leaves its output
 *     zeroed.
 *  2. A parsed quote is the input: raw equal to it, its fields' sizes add
 *     up to its length, its counts within their bounds. A parsed signature's
 *     sizes add up to its length. Parsed PCR values are as many as the
 *     quote selects, each as long as its bank's hash.
 *  3. Verification succeeds only for the genuine sample quotes (by SHA-256
 *     of the message), with their own AK, and then every PCR value is the
 *     sample's.
 */
#include "fuzz.h"
#include "veil/attest.h"

#include <stdlib.h>
#include <string.h>

/* tests/attest/data/tpm/rsa-ak.pem and ecc-ak.pem: public keys of swtpm AKs. */
static const char ak_rsa[] = "-----BEGIN PUBLIC KEY-----\n"
                             "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA9AaoJdAxxGaniFRZGsfL\n"
                             "F78g2+T3kauQHGiEjNrnuTkHcgkUIP6+IVR0OWoZ00KbqPUVGAXmsRalC5+4mbxs\n"
                             "hN3ynxg82IEaKK0V35FIfLZ1RPOHVLpDR3VqnHciryrglruTamph37KTP9Gxod1G\n"
                             "RZwhTXsmTPyIhUguKBOKji48PrW4iPJJzS4uWKby9Y4tpzfn+xokNzdQwrkvkjPp\n"
                             "M6+OTDAFLDRes7zRB4RRpDBnce/RnWF6jqTzHMFEgM16V+Pef1b5+5HM6aaOGK/j\n"
                             "vbRPgnKB4DYmnO5JHNnh1rdjAu6lMDg0OjB1txzL8A9B8CEuo4Apny2uKB9yTT1m\n"
                             "swIDAQAB\n"
                             "-----END PUBLIC KEY-----\n";
static const char ak_ecc[] = "-----BEGIN PUBLIC KEY-----\n"
                             "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEPQ9la0No/3gNO30aCm9spt1onVMf\n"
                             "7rYnB7yQCqTUT74WZp4/OeP5MvA+OfgwPxajs8VGL5mTQgeCgpASYDl8jg==\n"
                             "-----END PUBLIC KEY-----\n";
/* tests/attest/data/tpm/nonce.bin */
static const uint8_t nonce[32] = {0xbd, 0x23, 0x98, 0xd0, 0x68, 0xbe, 0x1c, 0x57, 0x89, 0x3b, 0xf2,
                                  0x45, 0xbc, 0xb2, 0x38, 0x37, 0x51, 0xa8, 0x54, 0x8f, 0x68, 0x3c,
                                  0x77, 0x8b, 0xae, 0x1c, 0x23, 0x22, 0x17, 0x87, 0xa1, 0xe1};
/* SHA-256 of rsa-quote.msg and ecc-quote.msg, and of rsa-pcrs.values (the PCR values of every sample). */
static const char *const genuine[2] = {"1d2a3fc80445779deb94051d8a9185f1312daa4d6c7b5c0c4fdf50f85a10d5e0",
                                       "19cee5a76fa699b266d1bd22be64880192ffdd3c60c179a7eef7e06b5c378352"};
static const char genuine_values[] = "1ce3b6fd0a217f939115b6a66bd1b6d37d3ea494aa80ce49775059d01b64f2de";

static void check_failure(veil_status st, const veil_err *err)
{
	FUZZ_CHECK(err->code == st, "the error object holds another status than the one returned");
	FUZZ_CHECK(err->msg[0] != '\0', "an error without a message");
}

static bool is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void sha256_hex(const uint8_t *data, size_t size, char hex[2 * VEIL_SHA256_LEN + 1])
{
	uint8_t h[VEIL_SHA256_LEN];
	veil_err err = {0};
	FUZZ_CHECK(veil_sha256(data, size, h, &err) == VEIL_OK, "SHA-256 failed");
	veil_hex_encode(h, sizeof h, hex);
}

static void check_quote(const veil_tpm_quote *q, const uint8_t *data, size_t size)
{
	FUZZ_CHECK(q->raw_len == size && memcmp(q->raw, data, size) == 0, "raw differs from the input");
	FUZZ_CHECK(q->nbanks >= 1 && q->nbanks <= VEIL_TPM_BANKS_MAX, "bank count out of bounds");
	FUZZ_CHECK(q->npcrs <= VEIL_TPM_PCRS_MAX, "PCR count out of bounds");
	FUZZ_CHECK(q->qualified_signer_len <= VEIL_TPM_NAME_MAX && q->extra_data_len <= VEIL_TPM_DATA_MAX &&
	                   q->pcr_digest_len >= 1 && q->pcr_digest_len <= VEIL_TPM_DIGEST_MAX,
	           "a size out of bounds");
	size_t n =
	        6 + 2 + q->qualified_signer_len + 2 + q->extra_data_len + 17 + 8 + 4 + 2 + q->pcr_digest_len;
	for (size_t i = 0; i < q->nbanks; i++) {
		FUZZ_CHECK(q->banks[i].size_of_select >= 1 &&
		                   q->banks[i].size_of_select <= VEIL_TPM_PCR_SELECT_MAX,
		           "sizeofSelect out of bounds");
		n += 3 + q->banks[i].size_of_select;
	}
	FUZZ_CHECK(n == size, "the quote's fields do not add up to its length");
}

static void check_signature(const veil_tpm_signature *s, size_t size)
{
	size_t n = 4 + (s->sig_alg == VEIL_TPM_ALG_ECDSA ? 4 + s->ecc_r_len + s->ecc_s_len : 2 + s->rsa_len);
	FUZZ_CHECK(n == size, "the signature's fields do not add up to its length");
	FUZZ_CHECK(s->hash_alg == VEIL_TPM_ALG_SHA256 || s->hash_alg == VEIL_TPM_ALG_SHA384 ||
	                   s->hash_alg == VEIL_TPM_ALG_SHA512,
	           "an unsupported hash accepted");
}

static void check_pcrs(const veil_tpm_pcrs *p, const veil_tpm_quote *q)
{
	FUZZ_CHECK(p->n == q->npcrs && p->n >= 1, "PCR values are not as many as the quote selects");
	for (size_t i = 0; i < p->n; i++) {
		uint8_t want = p->pcr[i].hash_alg == VEIL_TPM_ALG_SHA1     ? 20
		               : p->pcr[i].hash_alg == VEIL_TPM_ALG_SHA256 ? 32
		               : p->pcr[i].hash_alg == VEIL_TPM_ALG_SHA384 ? 48
		                                                           : 64;
		FUZZ_CHECK(p->pcr[i].len == want && p->pcr[i].index < 32,
		           "a PCR value of the wrong size or index");
	}
}

static void parse_alone(const uint8_t *data, size_t size)
{
	veil_err err = {0};
	veil_tpm_quote *q = malloc(sizeof *q);
	veil_tpm_signature s;
	if (!q)
		abort(); /* out of memory: not an input's fault, but nothing to test either */
	veil_status st = veil_tpm_quote_parse(data, size, q, &err);
	fuzz_note("quote", st, &err);
	if (st) {
		check_failure(st, &err);
		FUZZ_CHECK(is_zero(q, sizeof *q), "a failed quote parse left fields behind");
	} else {
		check_quote(q, data, size);
	}
	st = veil_tpm_signature_parse(data, size, &s, &err);
	fuzz_note("signature", st, &err);
	if (st) {
		check_failure(st, &err);
		FUZZ_CHECK(is_zero(&s, sizeof s), "a failed signature parse left fields behind");
	} else {
		check_signature(&s, size);
	}
	free(q);
}

static void verify_both(const veil_tpm_evidence *ev, const veil_tpm_quote *q, veil_tpm_result *res)
{
	char hex[2 * VEIL_SHA256_LEN + 1];
	sha256_hex(ev->quote, ev->quote_len, hex);
	const char *aks[2] = {ak_rsa, ak_ecc};
	for (int i = 0; i < 2; i++) {
		veil_err err = {0};
		veil_tpm_trust trust = {aks[i], strlen(aks[i]), NULL, 0, 0};
		veil_status st = veil_tpm_quote_verify(ev, &trust, nonce, sizeof nonce, res, &err);
		fuzz_note("verify", st, &err);
		if (st) {
			check_failure(st, &err);
			FUZZ_CHECK(res->sig_alg == 0 && res->pcrs.n == 0,
			           "a failed verify left a result behind");
			continue;
		}
		FUZZ_CHECK(strcmp(hex, genuine[i]) == 0, "a quote that is not genuine verified");
		FUZZ_CHECK(memcmp(res->quote.raw, q->raw, q->raw_len) == 0,
		           "the verified quote is not the input");
		uint8_t cat[VEIL_TPM_PCRS_MAX * VEIL_TPM_DIGEST_MAX];
		size_t n = 0;
		for (size_t k = 0; k < res->pcrs.n; k++) {
			memcpy(cat + n, res->pcrs.pcr[k].value, res->pcrs.pcr[k].len);
			n += res->pcrs.pcr[k].len;
		}
		sha256_hex(cat, n, hex);
		FUZZ_CHECK(strcmp(hex, genuine_values) == 0, "verified PCR values that are not the sample's");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5) {
		parse_alone(data, size);
		return 0;
	}
	static const veil_tpm_pcrs_format fmts[3] = {VEIL_TPM_PCRS_AUTO, VEIL_TPM_PCRS_VALUES,
	                                             VEIL_TPM_PCRS_SERIALIZED};
	veil_tpm_evidence ev = {0};
	ev.pcrs_format = fmts[data[0] % 3];
	size_t off = 1;
	ev.quote_len = veil_get_be16(data + off);
	off += 2;
	if (ev.quote_len > size - off || size - off - ev.quote_len < 2) {
		parse_alone(data, size);
		return 0;
	}
	ev.quote = data + off;
	off += ev.quote_len;
	ev.sig_len = veil_get_be16(data + off);
	off += 2;
	if (ev.sig_len > size - off) {
		parse_alone(data, size);
		return 0;
	}
	ev.sig = data + off;
	off += ev.sig_len;
	ev.pcrs = data + off;
	ev.pcrs_len = size - off;

	veil_tpm_result *res = malloc(sizeof *res);
	if (!res)
		abort();
	parse_alone(ev.sig, ev.sig_len);
	veil_err err = {0};
	veil_status st = veil_tpm_quote_parse(ev.quote, ev.quote_len, &res->quote, &err);
	fuzz_note("quote", st, &err);
	if (st) {
		check_failure(st, &err);
		free(res);
		return 0;
	}
	check_quote(&res->quote, ev.quote, ev.quote_len);
	veil_tpm_quote q = res->quote;
	st = veil_tpm_pcrs_parse(ev.pcrs, ev.pcrs_len, ev.pcrs_format, &q, &res->pcrs, &err);
	fuzz_note("pcrs", st, &err);
	if (st) {
		check_failure(st, &err);
		FUZZ_CHECK(res->pcrs.n == 0, "a failed PCR parse left values behind");
	} else {
		check_pcrs(&res->pcrs, &q);
	}
	verify_both(&ev, &q, res);
	free(res);
	return 0;
}
