/*
 * veil attest: evidence producers: configfs-tsm (/sys/kernel/config/tsm/report) and /dev/sev-guest.
 * Included by veil/attest.h; include that one.
 */
#ifndef VEIL_ATTEST_PRODUCER_H
#define VEIL_ATTEST_PRODUCER_H

#include "veil/attest.h"

#endif
