/*
 * Starting and stopping the trusted worker (docs/formats/worker-protocol.md).
 * The worker runs as a child on one end of a socket pair; the host keeps
 * the other. The host is untrusted by design: nothing here gives the
 * worker anything but ciphertext, wrapped keys and metadata, and the
 * worker's word about itself (its measurement in hello) is only shown,
 * never believed: the broker believes only verified evidence.
 */
#include "hostworker.h"
#include "simtee.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKER_TIMEOUT_MS (120 * 1000)
#define WORKER_FD         3 /* where the child finds its end of the socket */

static bool executable(const char *p)
{
	return access(p, X_OK) == 0;
}

veil_status cli_worker_path(char out[4096], veil_err *err)
{
	const char *env = getenv("VEIL_WORKER");
	if (env && *env) {
		if (!executable(env))
			return veil_err_set(err, VEIL_E_NOTFOUND,
			                    "$VEIL_WORKER names %s, which is not an executable", env);
		return veil_fmt(out, 4096, err, "%s", env);
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			const char *cands[] = {"veil-worker", "../worker/veil-worker",
			                       "../libexec/veil-worker"};
			for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
				char p[4096];
				if (!veil_fmt(p, sizeof p, NULL, "%s/%s", self, cands[i]) && executable(p)) {
					char *real = realpath(p, NULL);
					veil_status st = veil_fmt(out, 4096, err, "%s", real ? real : p);
					free(real);
					return st;
				}
			}
		}
	}
	veil_err_set(err, VEIL_E_NOTFOUND, "cannot find the trusted worker executable veil-worker");
	return veil_err_hint(err, "install veil-worker beside veil, or name it with $VEIL_WORKER");
}

static veil_status spawn(cli_worker *w, veil_err *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot make the worker's socket");
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot start the worker");
	}
	if (pid == 0) {
		/* The child: its end of the socket on fd 3 (dup2 clears CLOEXEC). */
		if (dup2(sv[1], WORKER_FD) < 0)
			_exit(127);
		char *argv[] = {w->path, "--fd", "3", NULL};
		execv(w->path, argv);
		_exit(127);
	}
	close(sv[1]);
	w->pid = pid;
	w->conn.fd = sv[0];
	w->conn.timeout_ms = WORKER_TIMEOUT_MS;
	return VEIL_OK;
}

static veil_status choose_tee(cli_worker *w, veil_err *err)
{
	const char *tee = getenv("VEIL_TEE");
	if (!tee || !*tee)
		tee = "sim";
	if (strcmp(tee, "sim") != 0 && strcmp(tee, "sev-snp") != 0 && strcmp(tee, "tdx") != 0) {
		veil_err_set(err, VEIL_E_INVALID, "$VEIL_TEE is '%s'", tee);
		return veil_err_hint(err, "set it to sim, sev-snp or tdx (or unset it for sim)");
	}
	snprintf(w->tee, sizeof w->tee, "%s", tee);
	return VEIL_OK;
}

static veil_status hello(cli_ws *ws, cli_worker *w, veil_err *err)
{
	veil_proto_out o;
	veil_proto_out_init(&o, VEIL_MSG_HELLO);
	veil_status st;
	if (!(st = veil_proto_add_text(&o, VEIL_F_TEE, w->tee, err)) &&
	    !(st = veil_proto_add_text(&o, VEIL_F_WORKSPACE, ws->cfg.workspace_id, err)) &&
	    strcmp(w->tee, "sim") == 0 &&
	    !(st = veil_proto_add(&o, VEIL_F_CERTS, w->sim.vcek_der.data, w->sim.vcek_der.len, err)) &&
	    !(st = veil_proto_add_u64(&o, VEIL_F_SIM_TCB, CLI_SIM_TCB, err)))
		st = veil_proto_add(&o, VEIL_F_SIM_KEY, w->sim.vcek_key, w->sim.vcek_key_len, err);
	if (!st)
		st = veil_proto_send(&w->conn, &o, err);
	veil_proto_out_free(&o);
	veil_proto_msg m;
	if (!st && (st = veil_proto_expect(&w->conn, VEIL_MSG_HELLO_OK, &m, err)) == VEIL_OK) {
		const veil_proto_field *f = veil_proto_get(&m, VEIL_F_MEASUREMENT, 0);
		veil_hex_encode(f->value, f->len, w->measurement);
		char tee[16];
		if (!(st = veil_proto_get_text(&m, VEIL_F_TEE, 0, tee, sizeof tee, err)) &&
		    strcmp(tee, w->tee) != 0)
			st = veil_err_set(err, VEIL_E_INVALID, "the worker answered for TEE %s, not %s", tee,
			                  w->tee);
		veil_proto_msg_free(&m);
	}
	return st;
}

veil_status cli_worker_start(cli_ws *ws, cli_worker *w, veil_err *err)
{
	memset(w, 0, sizeof *w);
	w->conn.fd = -1;
	veil_status st;
	if ((st = choose_tee(w, err)) || (st = cli_worker_path(w->path, err)))
		return st;
	if (strcmp(w->tee, "sim") == 0) {
		if ((st = cli_sim_load(ws, &w->sim, err)))
			return st;
		cli_warn("using the simulated TEE: its attestation proves nothing about this machine "
		         "(docs/attestation.md)");
	}
	if (!(st = spawn(w, err)) && (st = hello(ws, w, err)))
		veil_err_wrap(err, "the trusted worker %s did not start", w->path);
	if (st)
		cli_worker_stop(w);
	return st;
}

void cli_worker_stop(cli_worker *w)
{
	if (w->conn.fd >= 0) {
		veil_proto_out o;
		veil_proto_out_init(&o, VEIL_MSG_BYE);
		veil_err ignored;
		w->conn.timeout_ms = 2000;
		(void)!veil_proto_send(&w->conn, &o, &ignored);
		close(w->conn.fd);
		w->conn.fd = -1;
	}
	if (w->pid > 0) {
		/* A worker that does not exit within 5 s of bye is ended. */
		for (int i = 0; i < 500; i++) {
			pid_t r = waitpid(w->pid, NULL, WNOHANG);
			if (r == w->pid || (r < 0 && errno != EINTR))
				break;
			if (i == 499) {
				kill(w->pid, SIGKILL);
				while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
					;
				break;
			}
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		w->pid = 0;
	}
	veil_sim_chain_free(&w->sim);
	veil_buf_free(&w->evidence);
	veil_buf_free(&w->certs);
	w->attested = false;
}

veil_status cli_worker_stream_object(cli_ws *ws, cli_worker *w, const char *object_id, bool *sending,
                                     veil_err *err)
{
	veil_store_reader *r = NULL;
	veil_status st = veil_store_get_open(ws->store, object_id, &r, err);
	if (st)
		return st;
	static uint8_t buf[VEIL_PROTO_DATA_MAX];
	for (;;) {
		size_t got = 0;
		if ((st = veil_read_full(veil_store_get_read, r, buf, sizeof buf, &got, err)) || got == 0)
			break;
		veil_proto_out o;
		veil_proto_out_init(&o, VEIL_MSG_DATA);
		if (!(st = veil_proto_add(&o, VEIL_F_DATA, buf, got, err)))
			*sending = (st = veil_proto_send(&w->conn, &o, err)) != VEIL_OK;
		veil_proto_out_free(&o);
		if (st)
			break;
	}
	veil_store_get_close(r);
	if (!st) {
		veil_proto_out o;
		veil_proto_out_init(&o, VEIL_MSG_END);
		*sending = (st = veil_proto_send(&w->conn, &o, err)) != VEIL_OK;
		veil_proto_out_free(&o);
	}
	return st;
}

veil_status cli_worker_reason(cli_worker *w, veil_status st, veil_err *err)
{
	if (st != VEIL_E_IO)
		return st;
	veil_proto_msg m;
	veil_err why;
	w->conn.timeout_ms = 5000;
	if (veil_proto_expect(&w->conn, VEIL_MSG_RESULT, &m, &why) && why.code != VEIL_E_IO &&
	    strncmp(why.msg, "the peer: ", 10) == 0) {
		*err = why;
		return why.code;
	}
	return st;
}

veil_status cli_worker_receive_object(cli_ws *ws, cli_worker *w, const veil_proto_msg *first,
                                      char id[VEIL_CATALOG_HEX_MAX], veil_err *err)
{
	veil_store_writer *sw = NULL;
	veil_status st = veil_store_put_begin(ws->store, &sw, err);
	if (!st && first) {
		const veil_proto_field *f = veil_proto_get(first, VEIL_F_DATA, 0);
		st = veil_store_put_write(sw, f->value, f->len, err);
	}
	while (!st) {
		veil_proto_msg m;
		if ((st = veil_proto_expect_either(&w->conn, VEIL_MSG_DATA, VEIL_MSG_END, &m, err)))
			break;
		if (m.type == VEIL_MSG_END) {
			veil_proto_msg_free(&m);
			return veil_store_put_commit(sw, id, err);
		}
		const veil_proto_field *f = veil_proto_get(&m, VEIL_F_DATA, 0);
		st = veil_store_put_write(sw, f->value, f->len, err);
		veil_proto_msg_free(&m);
	}
	if (sw)
		veil_store_put_abort(sw);
	return st;
}

veil_status cli_worker_result(const cli_worker *w, const veil_proto_msg *m, veil_buf *report,
                              uint8_t sig[static VEIL_PROTO_SIG_LEN], veil_err *err)
{
	const veil_proto_field *r = veil_proto_get(m, VEIL_F_REPORT, 0);
	const veil_proto_field *s = veil_proto_get(m, VEIL_F_SIGNATURE, 0);
	veil_status st;
	if (!r || !s)
		return veil_err_set(err, VEIL_E_INVALID, "the worker's result has no signed report");
	if (!w->attested)
		return veil_err_set(err, VEIL_E_INTERNAL,
		                    "a report from a worker whose key was never attested");
	if (veil_proto_report_verify(w->sign_pub, r->value, r->len, s->value, s->len, err) != VEIL_OK)
		return veil_err_wrap(err, "the worker's report is not signed by its attested key");
	if (!(st = veil_buf_append(report, r->value, r->len, err)))
		memcpy(sig, s->value, VEIL_PROTO_SIG_LEN);
	return st;
}
