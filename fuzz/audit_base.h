/* The fixed audit log of the fuzz targets and corpus (audit_base.c). */
#ifndef VEIL_FUZZ_AUDIT_BASE_H
#define VEIL_FUZZ_AUDIT_BASE_H

#include "veil/audit.h"

/* Creates the base log in dir (which must not hold one) and returns it
 * open for writing; the caller closes it. Aborts on failure. */
veil_audit *fuzz_audit_base_log(const char *dir);

#endif
