/*
 * Building TEE-neutral claims (claims.c), for every verifier's
 * veil_attest_claims_from_* function. Internal to the module.
 */
#ifndef VEIL_ATTEST_CLAIMS_INT_H
#define VEIL_ATTEST_CLAIMS_INT_H

#include "veil/attest.h"

/* Starts *c with what every TEE's claims have: the TEE (simulated when it
 * is VEIL_TEE_SIM), the measurement (len at most
 * VEIL_ATTEST_MEASUREMENT_MAX), the evidence time, and the region (NULL:
 * unknown; a veil name otherwise, VEIL_E_INVALID if not). vmpl -1, debug
 * unknown and no TCB until the caller sets them. */
veil_status attest_claims_start(veil_tee tee, const uint8_t *measurement, size_t len, int64_t evidence_time,
                                const char *region, veil_attest_claims *c, veil_err *err) VEIL_MUST_CHECK;

/* Adds one TCB component; callers add fewer than VEIL_ATTEST_TCB_MAX, each
 * name shorter than VEIL_ATTEST_TCB_NAME_MAX. */
void attest_claims_add_tcb(veil_attest_claims *c, const char *name, uint64_t value);

#endif
