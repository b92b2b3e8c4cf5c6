/*
 * veil audit log|verify|proof|check-proof, and cli_audit(), through which
 * every other command records what it did.
 */
#include "cmds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

veil_status cli_audit_append(cli_ws *ws, const char *action, const char *resource, const char *outcome,
                             json_t *detail, veil_err *err)
{
	if (!ws->audit && ws->audit_deferred) {
		if (!ws->held && !(ws->held = json_array()))
			return veil_err_set(err, VEIL_E_NOMEM, "out of memory");
		json_t *e = json_pack("{s:s, s:s, s:s, s:o?}", "action", action, "resource", resource,
		                      "outcome", outcome, "detail", detail);
		return e && !json_array_append_new(ws->held, e)
		               ? VEIL_OK
		               : veil_err_set(err, VEIL_E_NOMEM, "out of memory");
	}
	char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(detail);
	veil_audit_event ev = {.actor = ws->actor,
	                       .action = action,
	                       .resource = resource,
	                       .outcome = outcome,
	                       .detail = text};
	veil_status st = ws->audit ? veil_audit_append(ws->audit, &ev, NULL, err)
	                           : veil_err_set(err, VEIL_E_INTERNAL, "audit log not open for %s", action);
	free(text);
	if (st)
		veil_err_wrap(err, "cannot record '%s' in the audit log", action);
	return st;
}

veil_status cli_commit_audited(cli_ws *ws, veil_status st, const char *action, const char *resource,
                               json_t *detail, veil_err *err)
{
	bool change_failed = st != VEIL_OK;
	/* No change may leave the workspace without an administrator. */
	if (!st && (st = cli_check_keeper(ws, NULL, 0, NULL, err)))
		change_failed = true;
	if (!st)
		st = cli_audit(ws, action, resource, "ok", detail, err);
	else
		json_decref(detail);
	if (!st)
		return veil_catalog_commit(ws->catalog, err);
	veil_catalog_rollback(ws->catalog);
	/* A change refused for what it asked (an unknown member, a taken
	 * name) is a refused request: recorded too. */
	if (change_failed)
		cli_audit_refusal(ws, action, resource, err);
	return st;
}

void cli_audit_refusal(cli_ws *ws, const char *action, const char *resource, const veil_err *why)
{
	veil_err e2;
	veil_err_clear(&e2);
	if (cli_audit(ws, action, resource, "failed",
	              json_pack("{s:s, s:s}", "error", veil_status_str(why->code), "reason", why->msg), &e2))
		cli_warn("%s", e2.msg);
}

veil_status cli_audit(cli_ws *ws, const char *action, const char *resource, const char *outcome,
                      json_t *detail, veil_err *err)
{
	veil_status st = cli_audit_append(ws, action, resource, outcome, detail, err);
	if (!st && ws->audit && (st = veil_audit_commit(ws->audit, err)))
		veil_err_wrap(err, "cannot record '%s' in the audit log", action);
	return st;
}

/* Reading the log is `read audit-events`. */
static const cli_target read_events = {.verb = VEIL_VERB_READ, .type = "audit-events"};

static veil_status open_read_only(cli_global *g, cli_ws *ws, veil_err *err)
{
	return cli_ws_open_for(g, 0, &read_events, ws, err);
}

/* ---- log ---- */
typedef struct log_ctx {
	int64_t since;
	json_t *arr;
} log_ctx;

static veil_status print_event(void *ctx, uint64_t index, const veil_audit_event *ev, veil_err *err)
{
	log_ctx *c = ctx;
	if (ev->time < c->since)
		return VEIL_OK;
	char t[VEIL_TIME_STR_MAX];
	veil_time_format(ev->time, t);
	if (c->arr) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "index", (json_int_t)index, "time", t,
		                      "actor", ev->actor, "action", ev->action, "resource", ev->resource,
		                      "outcome", ev->outcome);
		if (ev->detail) {
			json_t *d = json_loads(ev->detail, 0, NULL);
			json_object_set_new(o, "detail", d ? d : json_string(ev->detail));
		}
		return json_array_append_new(c->arr, o) ? veil_err_set(err, VEIL_E_NOMEM, "out of memory")
		                                        : VEIL_OK;
	}
	printf("%6llu %s %-20s %-18s %-7s %s %s\n", (unsigned long long)index, t, ev->actor, ev->action,
	       ev->outcome, ev->resource, ev->detail ? ev->detail : "");
	return VEIL_OK;
}

int cmd_audit_log(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("audit log");
	static const struct option longopts[] = {
	        {"since", required_argument, NULL, 's'},
	        {"json", no_argument, NULL, 'j'},
	        CLI_COMMON_OPTS,
	        {NULL, 0, NULL, 0},
	};
	log_ctx c = {0};
	bool json = false;
	veil_err err;
	veil_err_clear(&err);
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "", longopts, &rc)) != -1) {
		if (opt == 'j')
			json = true;
		else if (opt == 's') {
			if (veil_time_parse(optarg, &c.since, &err))
				return cli_fail(&err);
		} else
			return cli_usage_error(cmd, "unexpected option");
	}
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	cli_ws ws;
	if (open_read_only(g, &ws, &err))
		return cli_fail(&err);
	c.arr = json ? json_array() : NULL;
	veil_status st = veil_audit_read(ws.audit, 0, print_event, &c, &err);
	cli_ws_close(&ws);
	if (st) {
		json_decref(c.arr);
		return cli_fail(&err);
	}
	return json ? cli_print_json(c.arr) : 0;
}

/* ---- verify ---- */
veil_status cli_log_key(cli_ws *ws, uint8_t pub[VEIL_ED25519_PUB_LEN], veil_err *err)
{
	uint8_t *seed = veil_secure_alloc(VEIL_ED25519_SEED_LEN);
	if (!seed)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	veil_status st = veil_kms_secret_get(ws->kms, CLI_AUDIT_SECRET, seed, VEIL_ED25519_SEED_LEN, err);
	if (!st)
		st = veil_ed25519_public(seed, pub, err);
	veil_secure_free(seed, VEIL_ED25519_SEED_LEN);
	return st;
}

/* ---- upload events: what the log says each version is ----
 *
 * Read once, then sorted so that every lookup is a binary search: verify,
 * restore and gc look up one entry per catalog version, object or data key,
 * and a linear scan each time would make them quadratic in the log's size. */
/* A fresh zeroed entry at the end, or NULL when memory runs out. */
static cli_upload *push(cli_uploads *u)
{
	if (u->n == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 64;
		cli_upload *p = realloc(u->v, cap * sizeof *p);
		if (!p)
			return NULL;
		u->v = p;
		u->cap = cap;
	}
	cli_upload *e = &u->v[u->n];
	memset(e, 0, sizeof *e);
	e->seq = u->n++;
	return e;
}

static veil_status collect_upload(void *ctx, uint64_t index, const veil_audit_event *ev, veil_err *err)
{
	cli_uploads *u = ctx;
	/* A version comes from an upload, or from a job of the trusted worker
	 * that made it (data.derive: a feature build's output and transform),
	 * whose event records it the same way. */
	if (strcmp(ev->action, "data.upload") != 0 && strcmp(ev->action, "data.derive") != 0)
		return VEIL_OK;
	cli_upload *e = push(u);
	if (!e)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory reading the audit log");
	if (veil_fmt(e->ref, sizeof e->ref, NULL, "%s", ev->resource))
		return veil_err_set(err, VEIL_E_CORRUPT, "audit event %llu names an over-long version",
		                    (unsigned long long)index);
	if (strcmp(ev->outcome, "ok") != 0) {
		/* "failed": the catalog did not keep that version; see index_uploads. */
		e->failed = e->gone = true;
		return VEIL_OK;
	}
	json_t *d = ev->detail ? json_loads(ev->detail, 0, NULL) : NULL;
	const char *obj = json_string_value(json_object_get(d, "object_id"));
	const char *dek = json_string_value(json_object_get(d, "dek_id"));
	const char *sha = json_string_value(json_object_get(d, "sha256"));
	const char *kek = json_string_value(json_object_get(d, "kek"));
	json_t *size = json_object_get(d, "size");
	bool ok = obj && dek && sha && kek && json_is_integer(size) &&
	          !veil_fmt(e->object_id, sizeof e->object_id, NULL, "%s", obj) &&
	          !veil_fmt(e->dek_id, sizeof e->dek_id, NULL, "%s", dek) &&
	          !veil_fmt(e->sha256, sizeof e->sha256, NULL, "%s", sha) &&
	          !veil_fmt(e->kek, sizeof e->kek, NULL, "%s", kek);
	e->size = json_is_integer(size) ? (uint64_t)json_integer_value(size) : 0;
	json_decref(d);
	if (!ok)
		return veil_err_set(err, VEIL_E_CORRUPT,
		                    "audit event %llu (data.upload %s) has no valid detail",
		                    (unsigned long long)index, ev->resource);
	return VEIL_OK;
}

static int by_ref(const void *a, const void *b)
{
	const cli_upload *x = a, *y = b;
	int c = strcmp(x->ref, y->ref);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

int cli_cmp_ids(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts by (version, order in the log); a "failed" event undoes the "ok"
 * event just before it for the same version (the catalog did not keep
 * it); then indexes the data keys and objects of what remains. */
static veil_status index_uploads(cli_uploads *u, veil_err *err)
{
	if (u->n)
		qsort(u->v, u->n, sizeof *u->v, by_ref);
	for (size_t i = 1; i < u->n; i++)
		if (u->v[i].failed)
			for (size_t j = i; j-- > 0 && strcmp(u->v[j].ref, u->v[i].ref) == 0;)
				if (!u->v[j].gone) {
					u->v[j].gone = true;
					break;
				}
	u->deks = calloc(u->n ? u->n : 1, sizeof(const char *));
	u->objs = calloc(u->n ? u->n : 1, sizeof(const char *));
	if (!u->deks || !u->objs)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory indexing the audit log");
	for (size_t i = 0; i < u->n; i++) {
		if (u->v[i].gone)
			continue;
		u->deks[u->live] = u->v[i].dek_id;
		u->objs[u->live] = u->v[i].object_id;
		u->live++;
	}
	if (u->live) {
		qsort(u->deks, u->live, sizeof(const char *), cli_cmp_ids);
		qsort(u->objs, u->live, sizeof(const char *), cli_cmp_ids);
	}
	return VEIL_OK;
}

veil_status cli_read_uploads(cli_ws *ws, const uint8_t pin[VEIL_ED25519_PUB_LEN], cli_uploads *u,
                             veil_err *err)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/%s", ws->dir, CLI_WS_AUDIT);
	memset(u, 0, sizeof *u);
	veil_audit *log = NULL;
	veil_status st = veil_audit_open(p, NULL, &log, err);
	if (!st && pin) {
		/* A read-only open trusts audit/log.pub: make sure it is still the
		 * log that was just verified against the pinned key. */
		uint8_t pub[VEIL_ED25519_PUB_LEN];
		veil_audit_public_key(log, pub);
		if (memcmp(pub, pin, sizeof pub) != 0)
			st = veil_err_set(err, VEIL_E_CORRUPT,
			                  "the audit log changed while it was being checked");
	}
	if (!st)
		st = veil_audit_read(log, 0, collect_upload, u, err);
	veil_audit_close(log);
	if (!st)
		st = index_uploads(u, err);
	if (st)
		cli_uploads_free(u);
	return st;
}

void cli_uploads_free(cli_uploads *u)
{
	free(u->v);
	free(u->deks);
	free(u->objs);
	memset(u, 0, sizeof *u);
}

const cli_upload *cli_uploads_find(const cli_uploads *u, const char *ref)
{
	/* The first entry for ref, then the last one still standing: after a
	 * crash between an upload's event and its catalog commit, the version
	 * number is used again, and the later event is the one that counts. */
	size_t lo = 0, hi = u->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(u->v[mid].ref, ref) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	const cli_upload *found = NULL;
	for (size_t i = lo; i < u->n && strcmp(u->v[i].ref, ref) == 0; i++)
		if (!u->v[i].gone)
			found = &u->v[i];
	return found;
}

bool cli_uploads_name(const cli_uploads *u, const char *dek_id, const char *object_id)
{
	if (dek_id && bsearch(&dek_id, u->deks, u->live, sizeof(const char *), cli_cmp_ids))
		return true;
	return object_id && bsearch(&object_id, u->objs, u->live, sizeof(const char *), cli_cmp_ids);
}

/* ---- the catalog against the log ---- */
typedef struct xcheck {
	veil_catalog *catalog;
	const cli_uploads *u;
	uint64_t versions;
} xcheck;

static veil_status check_version(void *ctx, const veil_dataset_version *v, veil_err *err)
{
	xcheck *x = ctx;
	char ref[VEIL_CATALOG_REF_MAX];
	snprintf(ref, sizeof ref, "%s@%u", v->name, v->version);
	x->versions++;
	const cli_upload *e = cli_uploads_find(x->u, ref);
	if (!e)
		return veil_err_set(err, VEIL_E_CORRUPT,
		                    "the catalog holds %s, but the audit log has no upload event for it",
		                    ref);
	const char *field = strcmp(e->object_id, v->object_id) != 0 ? "object"
	                    : strcmp(e->dek_id, v->dek_id) != 0     ? "data key"
	                    : strcmp(e->sha256, v->sha256) != 0     ? "SHA-256"
	                    : strcmp(e->kek, v->kek) != 0           ? "key encryption key"
	                    : e->size != v->size                    ? "size"
	                                                            : NULL;
	if (field)
		return veil_err_set(err, VEIL_E_CORRUPT,
		                    "the catalog's %s of %s differs from its upload event", field, ref);
	/* Each row equals its own event, and each upload event names a fresh
	 * object and data key, so no two rows can share either: a row pointed
	 * at another version's object fails the comparison above. */
	return VEIL_OK;
}

static veil_status check_dataset(void *ctx, const veil_dataset_version *v, veil_err *err)
{
	xcheck *x = ctx;
	return veil_catalog_dataset_versions(x->catalog, v->name, check_version, x, err);
}

veil_status cli_verify_log(cli_ws *ws, const uint8_t pub[VEIL_ED25519_PUB_LEN], veil_audit_report *rep,
                           uint64_t *versions, veil_err *err)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/%s", ws->dir, CLI_WS_AUDIT);
	veil_status st = veil_audit_verify(p, pub, rep, err);
	if (st)
		return st;
	/* The log is sound and signed by the pinned key; now every version in
	 * the catalog must be exactly what its upload event recorded. A row with
	 * no event means the log was cut back or the row added outside veil; a
	 * row that differs was edited. */
	cli_uploads u;
	xcheck x = {.catalog = ws->catalog, .u = &u};
	st = cli_read_uploads(ws, pub, &u, err);
	if (!st) {
		st = veil_catalog_dataset_list(ws->catalog, check_dataset, &x, err);
		cli_uploads_free(&u);
	}
	if (st == VEIL_E_CORRUPT) {
		rep->problem = VEIL_AUDIT_BAD_LEAF;
		snprintf(rep->what, sizeof rep->what, "%s", err->msg);
	}
	*versions = x.versions;
	return st;
}

static veil_status read_pubkey(const char *arg, uint8_t pub[VEIL_ED25519_PUB_LEN], veil_err *err);

int cmd_audit_verify(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("audit verify");
	static const struct option longopts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"public-key", required_argument, NULL, 'k'},
	        CLI_COMMON_OPTS,
	        {NULL, 0, NULL, 0},
	};
	bool json = false;
	const char *key = NULL;
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "", longopts, &rc)) != -1) {
		if (opt == 'j')
			json = true;
		else
			key = optarg;
	}
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	veil_err err;
	veil_err_clear(&err);
	uint8_t pub[VEIL_ED25519_PUB_LEN];
	cli_ws ws;
	/* The key comes from the auditor, or from the key store (passphrase):
	 * never from audit/log.pub, which whoever replaces the log replaces too. */
	if (key && read_pubkey(key, pub, &err))
		return cli_fail(&err);
	if (cli_ws_open_for(g, WS_CATALOG | WS_AUDIT_DEFER, &read_events, &ws, &err))
		return cli_fail(&err);
	veil_status st = key ? VEIL_OK : cli_log_key(&ws, pub, &err);
	veil_audit_report rep;
	memset(&rep, 0, sizeof rep);
	uint64_t versions = 0;
	if (!st)
		st = cli_verify_log(&ws, pub, &rep, &versions, &err);
	cli_ws_close(&ws);
	if (st && st != VEIL_E_CORRUPT)
		return cli_fail(&err);
	if (json) {
		char root[65];
		veil_hex_encode(rep.last.root, sizeof rep.last.root, root);
		json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:s, s:I, s:I, s:s}", "sound", st == VEIL_OK,
		                      "leaves", (json_int_t)rep.leaves, "heads", (json_int_t)rep.heads,
		                      "last_head_size", (json_int_t)rep.last.size, "last_head_root", root,
		                      "uncommitted_bytes", (json_int_t)rep.uncommitted_bytes,
		                      "catalog_versions_checked", (json_int_t)versions, "key",
		                      key ? "given" : "key store");
		if (st)
			json_object_set_new(o, "problem", json_string(rep.what[0] ? rep.what : err.msg));
		cli_print_json(o);
	}
	if (st) {
		if (!json)
			fprintf(stderr, "veil: audit log FAILED verification: %s\n",
			        rep.what[0] ? rep.what : err.msg);
		fprintf(stderr,
		        "hint: the log or the catalog was modified outside veil; compare with a backup and "
		        "treat the events after that point as untrusted\n");
		return VEIL_EXIT_CHECK;
	}
	if (!json) {
		printf("audit log OK: %llu events, %llu signed tree heads verified against the %s log key; "
		       "%llu catalog versions have their upload events\n",
		       (unsigned long long)rep.leaves, (unsigned long long)rep.heads,
		       key ? "given" : "key store's", (unsigned long long)versions);
		if (rep.uncommitted_bytes)
			printf("(%llu bytes of an interrupted commit will be removed by the next writer)\n",
			       (unsigned long long)rep.uncommitted_bytes);
	}
	return 0;
}

/* ---- proofs ---- */
static int parse_u64(const cli_command *cmd, const char *s, const char *what, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || errno || *end) /* strtoull alone takes " -1" */
		return cli_usage_error(cmd, "%s must be a whole number, not '%s'", what, s);
	*out = v;
	return -1;
}

int cmd_audit_proof(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("audit proof");
	static const struct option longopts[] = {
	        {"size", required_argument, NULL, 's'},
	        {"output", required_argument, NULL, 'o'},
	        CLI_COMMON_OPTS,
	        {NULL, 0, NULL, 0},
	};
	const char *size_arg = NULL, *output = NULL;
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "o:", longopts, &rc)) != -1) {
		if (opt == 's')
			size_arg = optarg;
		else if (opt == 'o')
			output = optarg;
		else
			return cli_usage_error(cmd, "unexpected option");
	}
	if (rc >= 0)
		return rc;
	int left = argc - optind;
	if (left < 1)
		return cli_usage_error(cmd, "say 'inclusion INDEX' or 'consistency OLD NEW'");
	const char *kind = argv[optind];
	uint64_t a = 0, b = 0;
	bool inclusion = strcmp(kind, "inclusion") == 0;
	if (inclusion) {
		if (left != 2)
			return cli_usage_error(cmd, "inclusion takes one INDEX");
		if ((rc = parse_u64(cmd, argv[optind + 1], "INDEX", &a)) >= 0 ||
		    (size_arg && (rc = parse_u64(cmd, size_arg, "--size", &b)) >= 0))
			return rc;
	} else if (strcmp(kind, "consistency") == 0) {
		if (left != 3)
			return cli_usage_error(cmd, "consistency takes OLD and NEW tree sizes");
		if ((rc = parse_u64(cmd, argv[optind + 1], "OLD", &a)) >= 0 ||
		    (rc = parse_u64(cmd, argv[optind + 2], "NEW", &b)) >= 0)
			return rc;
	} else {
		return cli_usage_error(cmd, "unknown proof kind '%s': use inclusion or consistency", kind);
	}
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (open_read_only(g, &ws, &err))
		return cli_fail(&err);
	veil_buf proof = {0};
	veil_status st = inclusion ? veil_audit_prove_inclusion(ws.audit, a, b, &proof, &err)
	                           : veil_audit_prove_consistency(ws.audit, a, b, &proof, &err);
	cli_ws_close(&ws);
	if (!st) {
		if (output)
			st = veil_fs_write_atomic(output, proof.data, proof.len, 0644, &err);
		else if (fwrite(proof.data, 1, proof.len, stdout) != proof.len)
			st = veil_err_set(&err, VEIL_E_IO, "cannot write the proof to standard output");
	}
	veil_buf_free(&proof);
	if (st)
		return cli_fail(&err);
	if (output)
		cli_info("Wrote the %s proof to %s", kind, output);
	return 0;
}

static veil_status read_pubkey(const char *arg, uint8_t pub[VEIL_ED25519_PUB_LEN], veil_err *err)
{
	char hex[2 * VEIL_ED25519_PUB_LEN + 1];
	if (strlen(arg) == 2 * VEIL_ED25519_PUB_LEN &&
	    veil_hex_decode(arg, pub, VEIL_ED25519_PUB_LEN, NULL) == VEIL_OK)
		return VEIL_OK;
	veil_buf b = {0};
	veil_status st = veil_fs_read_file(arg, 4096, &b, err);
	if (st) {
		veil_err_hint(err, "give the log's public key as 64 hex digits or the path of audit/log.pub");
		return st;
	}
	size_t n = b.len;
	while (n && (b.data[n - 1] == '\n' || b.data[n - 1] == '\r' || b.data[n - 1] == ' '))
		n--;
	if (n != sizeof hex - 1) {
		veil_buf_free(&b);
		return veil_err_set(err, VEIL_E_INVALID, "%s does not hold a public key (64 hex digits)",
		                    arg);
	}
	memcpy(hex, b.data, n);
	hex[n] = '\0';
	veil_buf_free(&b);
	st = veil_hex_decode(hex, pub, VEIL_ED25519_PUB_LEN, err);
	if (st)
		veil_err_wrap(err, "public key in %s", arg);
	return st;
}

int cmd_audit_check_proof(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("audit check-proof");
	static const struct option longopts[] = {
	        {"public-key", required_argument, NULL, 'k'},
	        CLI_COMMON_OPTS,
	        {NULL, 0, NULL, 0},
	};
	const char *key = NULL;
	int rc = -1;
	while (cli_opt(g, cmd, argc, argv, "", longopts, &rc) != -1)
		key = optarg; /* --public-key is its only option */
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage_error(cmd, "give exactly one proof FILE");
	if (!key)
		return cli_usage_error(cmd, "--public-key HEX|FILE is required");
	veil_err err;
	veil_err_clear(&err);
	uint8_t pub[VEIL_ED25519_PUB_LEN];
	veil_buf proof = {0};
	veil_audit_proof_info info;
	veil_status st = read_pubkey(key, pub, &err);
	if (!st)
		st = veil_fs_read_file(argv[optind], VEIL_AUDIT_PROOF_MAX, &proof, &err);
	if (!st)
		st = veil_audit_check_proof(proof.data ? (const char *)proof.data : "", proof.len, pub, &info,
		                            &err);
	veil_buf_free(&proof);
	if (st) {
		fprintf(stderr, "veil: proof REJECTED\n");
		return cli_fail(&err);
	}
	printf("proof OK: %s\n", info.description);
	return 0;
}
