/*
 * Evidence producers, as the worker sees them. The measurement a simulated
 * report carries is the SHA-384 of the worker's own executable, so that a
 * different worker binary gets a different measurement (and, under a policy
 * that lists the built one, no keys); on real hardware the measurement is
 * the one the platform computed at launch, and the worker has no say in it.
 */
#include <stdlib.h>
#include <string.h>

#include "worker.h"

veil_status worker_measure_self(uint8_t out[static VEIL_SNP_MEASUREMENT_LEN], veil_err *err)
{
	veil_status st = veil_hash_file(VEIL_HASH_SHA384, "/proc/self/exe", out, err);
	if (st)
		veil_err_wrap(err, "cannot measure the worker");
	return st;
}

/* Guest policy of a simulated report: bit 17 (reserved, must be 1), SMT
 * allowed, no debug, no migration agent. */
#define SIM_GUEST_POLICY ((UINT64_C(1) << 17) | VEIL_SNP_POLICY_SMT)

static veil_status sim_evidence(worker *w, const uint8_t report_data[static VEIL_PROTO_BINDING_LEN],
                                veil_buf *evidence, veil_err *err)
{
	uint8_t report[VEIL_SNP_REPORT_LEN];
	veil_status st = veil_sim_report(&w->sim, w->measurement, report_data, SIM_GUEST_POLICY, 0,
	                                 w->sim_tcb, report, err);
	if (!st)
		st = veil_buf_append(evidence, report, sizeof report, err);
	return st;
}

/* Real TEEs: the kernel's configfs-tsm interface (Linux 6.7 and later),
 * else, for SEV-SNP, /dev/sev-guest (which gives no certificates: the
 * verifier must then have the VCEK). VEIL_TSM_ROOT names another configfs
 * root, for tests; the host can point it anywhere, which gains it nothing:
 * what comes back must still verify to a pinned root. */
static veil_status tsm_evidence(worker *w, const uint8_t report_data[static VEIL_PROTO_BINDING_LEN],
                                veil_buf *evidence, veil_buf *certs, veil_err *err)
{
	const char *root = getenv("VEIL_TSM_ROOT");
	veil_tsm_request req = {.want = strcmp(w->tee, "tdx") == 0 ? VEIL_TEE_TDX : VEIL_TEE_SEV_SNP};
	memcpy(req.report_data, report_data, sizeof req.report_data);
	veil_tsm_evidence ev = {0};
	veil_status st = veil_tsm_report(root && *root ? root : VEIL_TSM_ROOT_DEFAULT, &req, &ev, err);
	if (st == VEIL_E_UNSUPPORTED && req.want == VEIL_TEE_SEV_SNP && !(root && *root)) {
		uint8_t report[VEIL_SNP_REPORT_LEN];
		veil_err why;
		if (!veil_sev_guest_report(VEIL_SEV_GUEST_DEFAULT, report_data, 0, report, &why))
			return veil_buf_append(evidence, report, sizeof report, err);
	}
	if (!st && !(st = veil_buf_append(evidence, ev.outblob.data, ev.outblob.len, err)) && ev.auxblob.len)
		st = veil_buf_append(certs, ev.auxblob.data, ev.auxblob.len, err);
	veil_tsm_evidence_free(&ev);
	return st;
}

veil_status worker_evidence(worker *w, const uint8_t report_data[static VEIL_PROTO_BINDING_LEN],
                            veil_buf *evidence, veil_buf *certs, veil_err *err)
{
	if (strcmp(w->tee, "sim") == 0)
		return sim_evidence(w, report_data, evidence, err);
	return tsm_evidence(w, report_data, evidence, certs, err);
}
