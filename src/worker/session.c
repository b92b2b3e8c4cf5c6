/*
 * The worker's message loop (docs/formats/worker-protocol.md, "Session"):
 * hello, then jobs one at a time until bye. Any error ends the session: the
 * worker tells the host why in an ERROR message and exits non-zero, so no
 * half-finished job state ever carries into the next request.
 */
#include <string.h>

#include "worker.h"

#ifndef VEIL_VERSION
#define VEIL_VERSION "unknown"
#endif

static veil_status take_sim(worker *w, const veil_proto_msg *hello, veil_err *err)
{
	const veil_proto_field *key = veil_proto_get(hello, VEIL_F_SIM_KEY, 0);
	const veil_proto_field *vcek = veil_proto_get(hello, VEIL_F_CERTS, 0);
	if (!key || !vcek || !veil_proto_get(hello, VEIL_F_SIM_TCB, 0))
		return veil_err_set(err, VEIL_E_INVALID,
		                    "hello for the simulated TEE without its VCEK, key and TCB");
	veil_status st = veil_proto_get_u64(hello, VEIL_F_SIM_TCB, &w->sim_tcb, err);
	if (st || (st = veil_buf_append(&w->sim.vcek_der, vcek->value, vcek->len, err)))
		return st;
	if (!(w->sim.vcek_key = veil_secure_alloc(key->len)))
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	memcpy(w->sim.vcek_key, key->value, key->len);
	w->sim.vcek_key_len = key->len;
	return VEIL_OK;
}

static veil_status hello(worker *w, veil_err *err)
{
	veil_proto_msg m;
	veil_status st = veil_proto_expect(&w->conn, VEIL_MSG_HELLO, &m, err);
	if (st)
		return st;
	char tee[WORKER_TEE_MAX];
	if (!(st = veil_proto_get_text(&m, VEIL_F_TEE, 0, tee, sizeof tee, err))) {
		bool has_sim = veil_proto_get(&m, VEIL_F_SIM_KEY, 0) != NULL;
		if (strcmp(tee, "sim") == 0)
			st = take_sim(w, &m, err);
		else if (has_sim || veil_proto_get(&m, VEIL_F_CERTS, 0) ||
		         veil_proto_get(&m, VEIL_F_SIM_TCB, 0))
			st = veil_err_set(err, VEIL_E_INVALID, "simulated-TEE fields in a hello for %s", tee);
		else if (strcmp(tee, "sev-snp") != 0 && strcmp(tee, "tdx") != 0)
			st = veil_err_set(err, VEIL_E_UNSUPPORTED, "no evidence producer for TEE '%s'", tee);
		if (!st)
			memcpy(w->tee, tee, sizeof tee);
	}
	veil_proto_msg_free(&m);
	if (!st)
		st = worker_measure_self(w->measurement, err);
	if (!st && !(w->sign_seed = veil_secure_alloc(VEIL_ED25519_SEED_LEN)))
		st = veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	if (!st)
		st = veil_ed25519_keygen(w->sign_seed, w->sign_pub, err);
	if (st)
		return st;
	veil_proto_out o;
	veil_proto_out_init(&o, VEIL_MSG_HELLO_OK);
	if (!(st = veil_proto_add_text(&o, VEIL_F_WORKER_VERSION, VEIL_VERSION, err)) &&
	    !(st = veil_proto_add_text(&o, VEIL_F_TEE, w->tee, err)) &&
	    !(st = veil_proto_add(&o, VEIL_F_MEASUREMENT, w->measurement, sizeof w->measurement, err)))
		st = veil_proto_send(&w->conn, &o, err);
	veil_proto_out_free(&o);
	return st;
}

static veil_status run_job(worker *w, const veil_proto_msg *job, veil_err *err)
{
	char kind[33];
	veil_status st = veil_proto_get_text(job, VEIL_F_JOB, 0, kind, sizeof kind, err);
	if (st)
		return st;
	if (strcmp(kind, "verify") == 0)
		return worker_job_verify(w, job, err);
	if (strcmp(kind, "evidence") == 0)
		return worker_job_evidence(w, job, err);
	if (strcmp(kind, "validate") == 0)
		return worker_job_validate(w, job, err);
	if (strcmp(kind, "profile") == 0)
		return worker_job_profile(w, job, err);
	if (strcmp(kind, "features") == 0)
		return worker_job_features(w, job, err);
	if (strcmp(kind, "train") == 0)
		return worker_job_train(w, job, err);
	if (strcmp(kind, "evaluate") == 0)
		return worker_job_evaluate(w, job, err);
	return veil_err_set(err, VEIL_E_UNSUPPORTED, "this worker has no job '%s'", kind);
}

veil_status worker_session(worker *w, veil_err *err)
{
	veil_status st = hello(w, err);
	while (!st) {
		veil_proto_msg m;
		if ((st = veil_proto_recv(&w->conn, &m, err)))
			break;
		if (m.type == VEIL_MSG_BYE) {
			veil_proto_msg_free(&m);
			return VEIL_OK;
		}
		if (m.type == VEIL_MSG_JOB)
			st = run_job(w, &m, err);
		else
			st = veil_err_set(err, VEIL_E_INVALID, "expected a job or bye, got a %s message",
			                  veil_proto_type_name(m.type));
		veil_proto_msg_free(&m);
	}
	veil_proto_send_error(&w->conn, err);
	return st;
}

veil_status worker_send_report(worker *w, const veil_buf *report, veil_err *err)
{
	uint8_t sig[VEIL_PROTO_SIG_LEN];
	if (report->len == 0 || report->len > VEIL_PROTO_DATA_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "a report of %zu bytes (1 to %u can be sent)",
		                    report->len, VEIL_PROTO_DATA_MAX);
	veil_status st = veil_proto_report_sign(w->sign_seed, report->data, report->len, sig, err);
	if (st)
		return st;
	veil_proto_out o;
	veil_proto_out_init(&o, VEIL_MSG_RESULT);
	if (!(st = veil_proto_add(&o, VEIL_F_REPORT, report->data, report->len, err)) &&
	    !(st = veil_proto_add(&o, VEIL_F_SIGNATURE, sig, sizeof sig, err)))
		st = veil_proto_send(&w->conn, &o, err);
	veil_proto_out_free(&o);
	return st;
}
