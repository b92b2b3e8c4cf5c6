/*
 * tpm_check: verifies the files of one tpm2_quote with veil_tpm_quote_verify,
 * for tests/attest/tpm_swtpm.sh. Prints the status name ("ok", "denied",
 * "auth", ...) on stdout, the error on stderr, the claims' measurement and
 * the value of each quoted PCR on stdout after "ok"; exits 0 only when the
 * quote verifies.
 *
 *   tpm_check AK.pem QUOTE.msg QUOTE.sig PCRS NONCE-HEX [auto|values|serialized] [CA.pem]
 */
#include "veil/attest.h"
#include "veil/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(veil_status st, const veil_err *err)
{
	printf("%s\n", veil_status_str(st));
	fprintf(stderr, "tpm_check: %s\n", err->msg);
	return 1;
}

static veil_status read_file(const char *path, veil_buf *b, veil_err *err)
{
	veil_status st = veil_fs_read_file(path, 1u << 20, b, err);
	return st ? veil_err_wrap(err, "%s", path) : VEIL_OK;
}

static void print_result(const veil_tpm_result *res, const veil_attest_claims *c)
{
	char hex[2 * VEIL_TPM_DIGEST_MAX + 1];
	veil_hex_encode(c->measurement, c->measurement_len, hex);
	printf("ok\nmeasurement %s\n", hex);
	for (size_t i = 0; i < res->pcrs.n; i++) {
		const veil_tpm_pcr *p = &res->pcrs.pcr[i];
		veil_hex_encode(p->value, p->len, hex);
		printf("pcr %s:%u %s\n", veil_tpm_alg_name(p->hash_alg), (unsigned)p->index, hex);
	}
}

int main(int argc, char **argv)
{
	if (argc < 6 || argc > 8) {
		fprintf(stderr, "usage: tpm_check AK.pem QUOTE.msg QUOTE.sig PCRS NONCE-HEX "
		                "[auto|values|serialized] [CA.pem]\n");
		return 2;
	}
	veil_err err = {0};
	veil_buf ak = {0}, msg = {0}, sig = {0}, pcrs = {0}, ca = {0};
	uint8_t nonce[VEIL_TPM_DATA_MAX];
	size_t nonce_len = strlen(argv[5]) / 2;
	veil_tpm_pcrs_format fmt = VEIL_TPM_PCRS_AUTO;
	if (argc > 6 && strcmp(argv[6], "values") == 0)
		fmt = VEIL_TPM_PCRS_VALUES;
	else if (argc > 6 && strcmp(argv[6], "serialized") == 0)
		fmt = VEIL_TPM_PCRS_SERIALIZED;
	veil_status st = veil_crypto_init(&err);
	if (!st && (nonce_len == 0 || nonce_len > sizeof nonce || strlen(argv[5]) % 2))
		st = veil_err_set(&err, VEIL_E_INVALID, "the nonce must be 2 to %zu hex digits",
		                  2 * sizeof nonce);
	if (!st)
		st = veil_hex_decode(argv[5], nonce, nonce_len, &err);
	if (!st && !(st = read_file(argv[1], &ak, &err)) && !(st = read_file(argv[2], &msg, &err)) &&
	    !(st = read_file(argv[3], &sig, &err)) && !(st = read_file(argv[4], &pcrs, &err)) && argc > 7)
		st = read_file(argv[7], &ca, &err);
	veil_tpm_result *res = calloc(1, sizeof *res);
	if (!st && !res)
		st = veil_err_set(&err, VEIL_E_NOMEM, "out of memory");
	int rc = 0;
	if (!st) {
		veil_tpm_evidence ev = {msg.data, msg.len, sig.data, sig.len, pcrs.data, pcrs.len, fmt};
		veil_tpm_trust trust = {(const char *)ak.data, ak.len,
		                        argc > 7 ? (const char *)ca.data : NULL, ca.len, veil_time_now()};
		veil_attest_claims claims;
		if (!(st = veil_tpm_quote_verify(&ev, &trust, nonce, nonce_len, res, &err)) &&
		    !(st = veil_attest_claims_from_tpm(res, veil_time_now(), NULL, &claims, &err)))
			print_result(res, &claims);
	}
	if (st)
		rc = fail(st, &err);
	free(res);
	veil_buf_free(&ak);
	veil_buf_free(&msg);
	veil_buf_free(&sig);
	veil_buf_free(&pcrs);
	veil_buf_free(&ca);
	return rc;
}
