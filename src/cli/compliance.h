/* Compliance rules of the workspace (compliance.c). */
#ifndef VEIL_CLI_COMPLIANCE_H
#define VEIL_CLI_COMPLIANCE_H

#include "cli.h"

/* Whether the workspace's compliance rules allow `use` ("training") of
 * dataset version v. VEIL_OK: allowed, why says on what grounds;
 * VEIL_E_DENIED: refused, with the reason in err (and why) and a hint. */
veil_status cli_compliance_check(cli_ws *ws, const veil_dataset_version *v, const char *use, char *why,
                                 size_t why_len, veil_err *err) VEIL_MUST_CHECK;

#endif
