/*
 * veil data verify: the first job of the trusted worker. The host streams
 * the dataset's stored ciphertext to the worker; the worker gets the data
 * key only through attestation-gated release (keybroker.c), decrypts inside
 * the TEE and reports the size and SHA-256 it found. No plaintext and no
 * unwrapped key ever exists in this process.
 */
#include "cmds.h"
#include "hostworker.h"

#include <string.h>

static veil_status send_job(cli_worker *w, const veil_dataset_version *v, veil_err *err)
{
	veil_proto_out o;
	veil_proto_out_init(&o, VEIL_MSG_JOB);
	veil_status st;
	if (!(st = veil_proto_add_text(&o, VEIL_F_JOB, "verify", err)) &&
	    !(st = veil_proto_add_text(&o, VEIL_F_DEK_ID, v->dek_id, err)) &&
	    !(st = veil_proto_add_u64(&o, VEIL_F_SIZE, v->size, err)) &&
	    !(st = veil_proto_add_text(&o, VEIL_F_SHA256, v->sha256, err)))
		st = veil_proto_send(&w->conn, &o, err);
	veil_proto_out_free(&o);
	return st;
}

static veil_status verify(cli_ws *ws, const veil_dataset_version *v, uint64_t *bytes, veil_err *err)
{
	char ref[VEIL_CATALOG_REF_MAX];
	snprintf(ref, sizeof ref, "%s@%u", v->name, v->version);
	veil_dek_info di;
	cli_worker w;
	memset(&w, 0, sizeof w);
	w.conn.fd = -1;
	veil_status st = cli_check_dataset_key(ws, v, &di, err);
	if (!st)
		st = cli_worker_start(ws, &w, err);
	if (!st)
		st = send_job(&w, v, err);
	const char *ids[] = {v->dek_id};
	if (!st)
		st = cli_worker_release(ws, &w, ids, 1, err);
	bool sending = false;
	if (!st && (st = cli_worker_stream_object(ws, &w, v->object_id, &sending, err))) {
		if (sending)
			st = cli_worker_reason(&w, st, err);
		else /* the store failed us: the worker is told, as the protocol says */
			veil_proto_send_error(&w.conn, err);
	}
	veil_proto_msg m;
	if (!st && !(st = veil_proto_expect(&w.conn, VEIL_MSG_RESULT, &m, err))) {
		char sha[VEIL_CATALOG_HEX_MAX];
		if (!(st = veil_proto_get_u64(&m, VEIL_F_SIZE, bytes, err)) &&
		    !(st = veil_proto_get_text(&m, VEIL_F_SHA256, 0, sha, sizeof sha, err)) &&
		    (*bytes != v->size || strcmp(sha, v->sha256) != 0))
			st = veil_err_set(err, VEIL_E_CORRUPT,
			                  "the worker found %llu bytes with SHA-256 %s; the catalog "
			                  "says %llu bytes with %s",
			                  (unsigned long long)*bytes, sha, (unsigned long long)v->size,
			                  v->sha256);
		veil_proto_msg_free(&m);
	}
	if (st && strstr(err->msg, "does not match the catalog"))
		st = err->code = VEIL_E_CORRUPT;
	if (st == VEIL_E_CORRUPT)
		veil_err_hint(err, "the stored object was damaged or tampered with; restore it from a backup "
		                   "(veil restore) and report it to your security officer");
	cli_worker_stop(&w);
	veil_err aerr;
	json_t *detail = json_pack("{s:s, s:s, s:s}", "dek_id", v->dek_id, "tee", w.tee[0] ? w.tee : "none",
	                           "measurement", w.measurement);
	if (st)
		json_object_set_new(detail, "result", json_string(veil_status_str(st)));
	veil_status ast = cli_audit(ws, "data.verify", ref, st ? "failed" : "ok", detail, &aerr);
	if (!st && ast) {
		*err = aerr;
		st = ast;
	}
	return st;
}

int cmd_data_verify(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("data verify");
	bool json = false;
	int rc = cli_parse_json_only(g, cmd, argc, argv, &json);
	if (rc >= 0)
		return rc;
	if ((rc = cli_positional(cmd, argc, argv, 1, 1)) >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	/* The worker computes on the data: use of the dataset and of its key. */
	cli_ws ws;
	cli_resource r;
	if (cli_ws_open_dataset(g, WS_CATALOG | WS_STORE | WS_AUDIT, argv[optind], VEIL_VERB_USE, &ws, &r,
	                        &err))
		return cli_fail(&err);
	uint64_t bytes = 0;
	veil_status st = verify(&ws, &r.dataset, &bytes, &err);
	char ref[VEIL_CATALOG_REF_MAX];
	snprintf(ref, sizeof ref, "%s@%u", r.dataset.name, r.dataset.version);
	char sha[VEIL_CATALOG_HEX_MAX];
	snprintf(sha, sizeof sha, "%s", r.dataset.sha256);
	cli_resource_free(&r);
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	if (json)
		return cli_print_json(json_pack("{s:s, s:I, s:s, s:b}", "dataset", ref, "size",
		                                (json_int_t)bytes, "sha256", sha, "verified", 1));
	printf("%s: %llu bytes, SHA-256 %s, verified inside the trusted worker\n", ref,
	       (unsigned long long)bytes, sha);
	return 0;
}
