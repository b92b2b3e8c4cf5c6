/* The host's side of a trusted-worker session (hostworker.c, keybroker.c). */
#ifndef VEIL_CLI_HOSTWORKER_H
#define VEIL_CLI_HOSTWORKER_H

#include <sys/types.h>

#include "cli.h"
#include "veil/broker.h"
#include "veil/proto.h"

typedef struct cli_worker {
	pid_t pid;
	veil_proto_conn conn;
	char tee[16];                 /* the evidence this session expects: "sim", "sev-snp" */
	char measurement[2 * 64 + 1]; /* hex: what the worker says it measured itself as, until a key
	                               * release attests it; from then on the evidence's */
	veil_sim_chain sim;           /* tee sim: the workspace's simulated chain */
	char path[4096];              /* the executable started */
	/* Set by the first successful key release of the session: the key the
	 * worker signs its reports with, and the evidence that binds it. */
	bool attested;
	uint8_t sign_pub[32];
	uint8_t nonce[VEIL_PROTO_NONCE_LEN];
	uint8_t kem_pub[32];
	veil_buf evidence, certs;
} cli_worker;

/* The worker executable: $VEIL_WORKER, else veil-worker beside this veil,
 * else ../worker/veil-worker from it (the build tree), else the installed
 * libexec one. VEIL_E_NOTFOUND with a hint when none is there. */
veil_status cli_worker_path(char out[4096], veil_err *err) VEIL_MUST_CHECK;

/* Starts the worker on a socket pair and says hello. The TEE is
 * $VEIL_TEE (sim, sev-snp or tdx), default sim; for sim the workspace's
 * simulated chain is loaded (made on first use) and a notice printed.
 * Needs WS_KMS and WS_AUDIT. On error nothing is left running. */
veil_status cli_worker_start(cli_ws *ws, cli_worker *w, veil_err *err) VEIL_MUST_CHECK;

/* Answers the worker's key request for a job that needs exactly the keys
 * `ids` (n of them): challenge, evidence checked by the broker, the
 * release policy of every key evaluated, keys wrapped to the attested
 * worker. Every release and refusal is audited (key.release). A refusal
 * is also sent to the worker, and is VEIL_E_DENIED here. */
veil_status cli_worker_release(cli_ws *ws, cli_worker *w, const char *const *ids, size_t n,
                               veil_err *err) VEIL_MUST_CHECK;

/* Streams the stored object as DATA messages, then END. *sending says
 * whether a failure was the worker's side (a send) rather than the
 * store's (a read): after a store failure, tell the worker
 * (veil_proto_send_error); after a send failure, ask it why. */
veil_status cli_worker_stream_object(cli_ws *ws, cli_worker *w, const char *object_id, bool *sending,
                                     veil_err *err) VEIL_MUST_CHECK;
/* Stores the object the worker streams next (DATA messages, then END) and
 * sets id to its store id; first, when not NULL, is its first DATA
 * message, already received. On error nothing is stored. */
veil_status cli_worker_receive_object(cli_ws *ws, cli_worker *w, const veil_proto_msg *first,
                                      char id[VEIL_CATALOG_HEX_MAX], veil_err *err) VEIL_MUST_CHECK;
/* Takes a RESULT message m: its report, checked to be signed by the key
 * the session's evidence attested, is appended to report and its
 * signature copied to sig. No report or signature, or a bad signature, is
 * an error and leaves both as they were. */
veil_status cli_worker_result(const cli_worker *w, const veil_proto_msg *m, veil_buf *report,
                              uint8_t sig[static VEIL_PROTO_SIG_LEN], veil_err *err) VEIL_MUST_CHECK;
/* After a failed send (VEIL_E_IO) the worker has usually said why in an
 * ERROR message: returns that status with its message in err, or st. */
veil_status cli_worker_reason(cli_worker *w, veil_status st, veil_err *err) VEIL_MUST_CHECK;

/* Says bye, waits for the worker to exit (killing it if it does not), and
 * frees everything. Safe on a worker that never started. */
void cli_worker_stop(cli_worker *w);

#endif
