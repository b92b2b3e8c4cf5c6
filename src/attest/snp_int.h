/*
 * Inside the attest module: the step of veil_snp_verify that compares what
 * the VCEK certifies with what the report claims, exposed so that the unit
 * tests can reach it with real VCEKs and edited reports (an edited report
 * never gets past the signature, so veil_snp_verify alone cannot show that
 * these checks refuse what they should). Not part of the public API.
 */
#ifndef VEIL_ATTEST_SNP_INT_H
#define VEIL_ATTEST_SNP_INT_H

#include "veil/attest.h"

#include <openssl/x509.h>

/* Checks the signing key's SPL extensions against reported_tcb (decoded for
 * `product`) and, when the report says a VCEK signed it, the VCEK's hwID
 * against chip_id (a VLEK has none: nothing is compared). Fills
 * res->reported_tcb, res->chip_id_masked and res->chip_bound.
 * VEIL_E_DENIED on a mismatch, VEIL_E_INVALID for a missing, repeated or
 * malformed extension. */
veil_status snp_check_vcek_claims(const veil_snp_report *r, X509 *vcek, veil_snp_product product,
                                  veil_snp_result *res, veil_err *err) VEIL_MUST_CHECK;

/* veil_snp_verify with one difference: the chain (required) must end in the
 * ARK anchor_pem (one PEM certificate, byte for byte) instead of a pinned AMD
 * root, and the result's product is then VEIL_SNP_PRODUCT_UNKNOWN (TCB read
 * in the Milan/Genoa layout). Every other step is the same code. Only the
 * simulated TEE (sim.c) calls it, with the workspace's own simulated ARK. */
veil_status snp_verify_anchored(const veil_snp_report *report, const uint8_t *vcek_der, size_t vcek_len,
                                const char *chain_pem, size_t chain_len, const char *anchor_pem,
                                size_t anchor_len, int64_t now, veil_snp_result *out,
                                veil_err *err) VEIL_MUST_CHECK;

#endif
