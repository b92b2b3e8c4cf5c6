/*
 * veil attest: Intel TDX quotes (versions 4 and 5): parsing and verification to the pinned Intel SGX root.
 * Included by veil/attest.h; include that one.
 */
#ifndef VEIL_ATTEST_TDX_H
#define VEIL_ATTEST_TDX_H

#include "veil/attest.h"

#endif
