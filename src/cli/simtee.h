/* The workspace's simulated TEE (simtee.c). */
#ifndef VEIL_CLI_SIMTEE_H
#define VEIL_CLI_SIMTEE_H

#include "cli.h"
#include "veil/attest.h"

/* The TCB_VERSION of every simulated VCEK: Milan/Genoa layout, boot loader
 * 3, TEE 0, SNP 8, microcode 115 (a plausible platform; a policy's minimum
 * TCB clauses apply to it as to a real one). */
#define CLI_SIM_TCB (UINT64_C(3) | (UINT64_C(8) << 48) | (UINT64_C(115) << 56))

/* Loads the workspace's simulated chain, making it first if there is none
 * (audited as attest.sim.create). Needs WS_KMS and WS_AUDIT. The caller
 * frees *out with veil_sim_chain_free. */
veil_status cli_sim_load(cli_ws *ws, veil_sim_chain *out, veil_err *err) VEIL_MUST_CHECK;

#endif
