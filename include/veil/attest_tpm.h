/*
 * veil attest: TPM 2.0 quotes (TPMS_ATTEST) from a vTPM: parsing and verification with a pinned or certified AK.
 * Included by veil/attest.h; include that one.
 */
#ifndef VEIL_ATTEST_TPM_H
#define VEIL_ATTEST_TPM_H

#include "veil/attest.h"

#endif
