/*
 * veil-worker: the trusted worker. It runs inside the TEE, holds every
 * operation that needs plaintext, and talks to the host only over the
 * socket it is given (docs/formats/worker-protocol.md). It is started by
 * `veil`, not by people; `--help` says so.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "worker.h"

#define SESSION_TIMEOUT_MS (10 * 60 * 1000) /* a host silent this long has gone */

static void usage(FILE *f)
{
	fputs("usage: veil-worker --fd N\n"
	      "       veil-worker measure\n"
	      "       veil-worker --version | --help\n\n"
	      "The veil trusted worker. `veil` starts it inside the TEE and speaks the\n"
	      "worker protocol (docs/formats/worker-protocol.md) with it over the\n"
	      "connected socket N; it is not meant to be run by hand.\n\n"
	      "  --fd N     serve one session on socket N, then exit\n"
	      "  measure    print the SHA-384 of this executable: the measurement a\n"
	      "             simulated report of this worker carries\n",
	      f);
}

static int parse_fd(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 3 || v > 1024)
		return -1;
	return (int)v;
}

static int serve(int fd)
{
	int type = 0;
	socklen_t len = sizeof type;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
		fprintf(stderr, "veil-worker: fd %d is not a connected stream socket\n", fd);
		return 2;
	}
	worker w = {.conn = {.fd = fd, .timeout_ms = SESSION_TIMEOUT_MS}};
	veil_err err;
	veil_err_clear(&err);
	veil_status st = worker_session(&w, &err);
	veil_sim_chain_free(&w.sim);
	if (w.sign_seed)
		veil_secure_free(w.sign_seed, VEIL_ED25519_SEED_LEN);
	close(fd);
	/* A session error went to the host in an ERROR message, and the host
	 * reports it: printing it here too would show it twice. */
	return st ? 10 + (int)st : 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("veil-worker %s (worker protocol %d)\n", VEIL_VERSION, VEIL_PROTO_VERSION);
		return 0;
	}
	/* A job that stops reading its plaintext ends the decryption thread's
	 * writes with EPIPE, an error it reports, not a signal that kills us. */
	signal(SIGPIPE, SIG_IGN);
	veil_err err;
	veil_err_clear(&err);
	if (veil_crypto_init(&err)) {
		fprintf(stderr, "veil-worker: %s\n", err.msg);
		return 10 + (int)err.code;
	}
	if (argc == 2 && strcmp(argv[1], "measure") == 0) {
		uint8_t m[VEIL_SNP_MEASUREMENT_LEN];
		char hex[2 * sizeof m + 1];
		if (worker_measure_self(m, &err)) {
			fprintf(stderr, "veil-worker: %s\n", err.msg);
			return 10 + (int)err.code;
		}
		veil_hex_encode(m, sizeof m, hex);
		printf("%s\n", hex);
		return 0;
	}
	int fd = argc == 3 && strcmp(argv[1], "--fd") == 0 ? parse_fd(argv[2]) : -1;
	if (fd < 0) {
		usage(stderr);
		return 2;
	}
	return serve(fd);
}
