/*
 * veil gc: lifecycle rules and clean-up.
 *
 * Deleting a version is three steps, in this order, each safe to repeat:
 * mark it deleted in the catalog, destroy its data key (crypto-shredding:
 * from then on no copy of the object, backups included, can be decrypted),
 * remove its object. A gc killed between steps leaves a deleted version
 * whose key or object still exists; the next gc finishes it, because it
 * revisits every deleted version. Each step is audited. gc also removes
 * objects and shreds data keys that no version refers to (left by killed
 * uploads), and temporary files of killed writers.
 */
#include "cmds.h"
#include "train.h"

#include <stdlib.h>
#include <string.h>

typedef struct gc_version {
	char name[VEIL_CATALOG_NAME_MAX];
	uint32_t version;
	char object_id[VEIL_CATALOG_HEX_MAX];
	char dek_id[VEIL_CATALOG_DEK_ID_MAX];
	int64_t created;
	bool live;
} gc_version;

typedef struct gc_list {
	gc_version *v; /* every version, per dataset oldest first */
	size_t n, cap;
	const char **deks, **objs; /* their data keys and objects, sorted for lookups */
} gc_list;

/* Sorted indexes, so that each object and data key gc meets is looked up in
 * log time rather than by scanning every version. */
static veil_status index_versions(gc_list *l, veil_err *err)
{
	l->deks = calloc(l->n ? l->n : 1, sizeof(const char *));
	l->objs = calloc(l->n ? l->n : 1, sizeof(const char *));
	if (!l->deks || !l->objs)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < l->n; i++) {
		l->deks[i] = l->v[i].dek_id;
		l->objs[i] = l->v[i].object_id;
	}
	if (l->n) {
		qsort(l->deks, l->n, sizeof(const char *), cli_cmp_ids);
		qsort(l->objs, l->n, sizeof(const char *), cli_cmp_ids);
	}
	return VEIL_OK;
}

/* Whether any version, live or deleted, names this data key or object (a
 * deleted version's are delete_version's to remove, in order). */
static bool referenced(const gc_list *l, const char *dek_id, const char *object_id)
{
	if (dek_id)
		return bsearch(&dek_id, l->deks, l->n, sizeof(const char *), cli_cmp_ids) != NULL;
	return bsearch(&object_id, l->objs, l->n, sizeof(const char *), cli_cmp_ids) != NULL;
}

static veil_status collect(void *ctx, const veil_dataset_version *v, veil_err *err)
{
	gc_list *l = ctx;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		gc_version *p = realloc(l->v, cap * sizeof *p);
		if (!p)
			return veil_err_set(err, VEIL_E_NOMEM, "out of memory");
		l->v = p;
		l->cap = cap;
	}
	gc_version *g = &l->v[l->n++];
	memset(g, 0, sizeof *g);
	memcpy(g->name, v->name, sizeof g->name);
	memcpy(g->object_id, v->object_id, sizeof g->object_id);
	memcpy(g->dek_id, v->dek_id, sizeof g->dek_id);
	g->version = v->version;
	g->created = v->created;
	g->live = strcmp(v->state, "live") == 0;
	return VEIL_OK;
}

static veil_status collect_dataset(void *ctx, const veil_dataset_version *v, veil_err *err)
{
	void **pair = ctx;
	return veil_catalog_dataset_versions(pair[0], v->name, collect, pair[1], err);
}

/* A report's sealed envelope and its key live as long as the version it
 * describes: a report of a live version is kept like the version, one of a
 * deleted version is left out, so the orphan passes below shred its key
 * and remove its object with the version's. */
static veil_status collect_report(void *ctx, const veil_report_record *r, veil_err *err)
{
	gc_list *l = ctx;
	bool live = false;
	for (size_t i = 0; i < l->n && !live; i++)
		live = l->v[i].name[0] && l->v[i].version == r->version && l->v[i].live &&
		       strcmp(l->v[i].name, r->dataset) == 0;
	if (!live)
		return VEIL_OK;
	veil_dataset_version v = {.version = 0, .created = r->created};
	memcpy(v.object_id, r->object_id, sizeof v.object_id);
	memcpy(v.dek_id, r->dek_id, sizeof v.dek_id);
	snprintf(v.state, sizeof v.state, "live");
	/* Listed with no name: the rules and deletions never see it. */
	return collect(l, &v, err);
}

/* Model versions and training checkpoints (veil train): a live model
 * version's object and key are kept, as is the last checkpoint of a job
 * that may still resume; a deleted model version's, or a finished job's,
 * are left out, so the orphan passes shred and remove them. */
static veil_status collect_training(void *ctx, const veil_training_object *o, veil_err *err)
{
	if (!o->live)
		return VEIL_OK;
	veil_dataset_version v = {.version = 0};
	memcpy(v.object_id, o->object_id, sizeof v.object_id);
	memcpy(v.dek_id, o->dek_id, sizeof v.dek_id);
	snprintf(v.state, sizeof v.state, "live");
	return collect(ctx, &v, err);
}

/* Which live versions the rules expire: beyond the newest keep_versions, or
 * older than expire_days. Versions arrive per dataset, oldest first. */
static void apply_rules(gc_list *l, const cli_ws_config *cfg, int64_t now, bool *expire)
{
	/* Newest first within each dataset, counting the live versions seen. */
	size_t newer = 0;
	for (size_t i = l->n; i-- > 0;) {
		if (i + 1 == l->n || strcmp(l->v[i + 1].name, l->v[i].name) != 0)
			newer = 0; /* the newest version of another dataset */
		expire[i] = false;
		if (!l->v[i].live)
			continue;
		if (cfg->keep_versions && newer >= cfg->keep_versions)
			expire[i] = true;
		if (cfg->expire_days && now - l->v[i].created > (int64_t)cfg->expire_days * 86400)
			expire[i] = true;
		newer++;
	}
}

static veil_status delete_version(cli_ws *ws, const gc_version *v, bool was_live, veil_err *err)
{
	char ref[VEIL_CATALOG_REF_MAX];
	snprintf(ref, sizeof ref, "%s@%u", v->name, v->version);
	veil_status st;
	if (was_live) {
		if ((st = veil_catalog_dataset_mark_deleted(ws->catalog, v->name, v->version, err)) ||
		    (st = cli_audit(ws, "data.delete", ref, "ok", json_pack("{s:s}", "reason", "lifecycle"),
		                    err)))
			return st;
	}
	veil_dek_info info;
	st = veil_kms_dek_info(ws->kms, v->dek_id, &info, err);
	if (st && st != VEIL_E_NOTFOUND)
		return st;
	if (!st && !info.destroyed) {
		if ((st = veil_kms_dek_destroy(ws->kms, v->dek_id, err)) ||
		    (st = cli_audit(ws, "key.destroy", v->dek_id, "ok", json_pack("{s:s}", "dataset", ref),
		                    err)))
			return st;
	}
	bool exists = false;
	if ((st = veil_store_exists(ws->store, v->object_id, &exists, err)))
		return st;
	if (exists) {
		if ((st = veil_store_remove(ws->store, v->object_id, err)) ||
		    (st = cli_audit(ws, "object.remove", v->object_id, "ok",
		                    json_pack("{s:s}", "dataset", ref), err)))
			return st;
		cli_info("deleted %s (data key destroyed, object removed)", ref);
	}
	return VEIL_OK;
}

/* A live data key that no version, live or deleted, refers to was made by
 * an upload that was killed before it was recorded: it protects nothing, so
 * it is shredded. gc holds the workspace exclusively, so no upload is
 * between making a key and recording it. But a key (or object) that an
 * upload event names is never shredded on the catalog's word alone: the
 * catalog may be an older copy (restored by hand), and shredding cannot be
 * undone. Such keys are kept and reported. */
typedef struct dek_ctx {
	gc_list *l;
	cli_ws *ws;
	const cli_uploads *u;
	bool dry;
	uint64_t shredded;
} dek_ctx;

static veil_status orphan_dek(void *ctx, const veil_dek_info *d, veil_err *err)
{
	dek_ctx *o = ctx;
	/* A compartment's pseudonymisation key protects no object: it is the
	 * HMAC key of `veil features build` (cmd_features.c), and shredding
	 * it would change every later pseudonym. */
	if (strncmp(d->kek_name, "pseudonym.", 10) == 0)
		return VEIL_OK;
	if (referenced(o->l, d->id, NULL))
		return VEIL_OK;
	if (cli_uploads_name(o->u, d->id, NULL)) {
		cli_warn(
		        "kept data key %s: an upload event names it, but the catalog does not (is catalog.db "
		        "older than the audit log?)",
		        d->id);
		return VEIL_OK;
	}
	o->shredded++;
	if (o->dry) {
		printf("would destroy unreferenced data key %s\n", d->id);
		return VEIL_OK;
	}
	veil_status st = veil_kms_dek_destroy(o->ws->kms, d->id, err);
	if (!st)
		st = cli_audit(o->ws, "key.destroy", d->id, "ok",
		               json_pack("{s:s}", "reason", "unreferenced"), err);
	return st;
}

typedef struct orphan_ctx {
	gc_list *l;
	cli_ws *ws;
	const cli_uploads *u;
	bool dry;
	uint64_t removed;
} orphan_ctx;

static veil_status orphan(void *ctx, const char *id, veil_err *err)
{
	orphan_ctx *o = ctx;
	if (referenced(o->l, NULL, id))
		return VEIL_OK;
	if (cli_uploads_name(o->u, NULL, id)) {
		cli_warn("kept object %s: an upload event names it, but the catalog does not", id);
		return VEIL_OK;
	}
	o->removed++;
	if (o->dry) {
		printf("would remove unreferenced object %s\n", id);
		return VEIL_OK;
	}
	veil_status st = veil_store_remove(o->ws->store, id, err);
	if (!st)
		st = cli_audit(o->ws, "object.remove", id, "ok", json_pack("{s:s}", "reason", "unreferenced"),
		               err);
	return st;
}

int cmd_gc(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("gc");
	static const struct option longopts[] = {
	        {"dry-run", no_argument, NULL, 'n'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	bool dry = false;
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "n", longopts, &rc)) != -1) {
		if (opt != 'n')
			return cli_usage_error(cmd, "unexpected option");
		dry = true;
	}
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	unsigned what = WS_CATALOG | WS_STORE | WS_KMS | WS_EXCLUSIVE | (dry ? 0 : WS_AUDIT);
	cli_target t = {.verb = VEIL_VERB_MANAGE, .type = "workspace"};
	if (cli_ws_open_for(g, what, &t, &ws, &err))
		return cli_fail(&err);
	gc_list l = {0};
	void *pair[2] = {ws.catalog, &l};
	veil_status st = veil_catalog_dataset_list(ws.catalog, collect_dataset, pair, &err);
	bool *expire = calloc(l.n ? l.n : 1, sizeof *expire);
	if (!st && !expire)
		st = veil_err_set(&err, VEIL_E_NOMEM, "out of memory");
	size_t expired = 0;
	if (!st && expire) {
		apply_rules(&l, &ws.cfg, veil_time_now(), expire);
		for (size_t i = 0; !st && i < l.n; i++) {
			if (!expire[i] && l.v[i].live)
				continue;
			expired += expire[i];
			if (dry) {
				if (expire[i])
					printf("would delete %s@%u\n", l.v[i].name, l.v[i].version);
				continue;
			}
			st = delete_version(&ws, &l.v[i], expire[i], &err);
			if (!st && expire[i])
				l.v[i].live = false;
		}
	}
	cli_uploads u = {0};
	uint8_t pub[VEIL_ED25519_PUB_LEN];
	orphan_ctx oc = {.l = &l, .ws = &ws, .u = &u, .dry = dry};
	dek_ctx dc = {.l = &l, .ws = &ws, .u = &u, .dry = dry};
	if (!st && !(st = cli_log_key(&ws, pub, &err)) && !(st = cli_read_uploads(&ws, pub, &u, &err)) &&
	    !(st = veil_catalog_report_list(ws.catalog, NULL, collect_report, &l, &err)) &&
	    !(st = veil_catalog_training_objects(ws.catalog, collect_training, &l, &err)))
		st = index_versions(&l, &err);
	if (!st)
		st = veil_store_list(ws.store, orphan, &oc, &err);
	if (!st)
		st = veil_kms_dek_list(ws.kms, orphan_dek, &dc, &err);
	/* We hold the workspace exclusively: any temp file is a killed writer's. */
	if (!st && !dry)
		st = veil_store_sweep_tmp(ws.store, 0, &err);
	/* and no job runs: the job locks can go (src/cli/joblock.c) */
	if (!st && !dry)
		cli_job_locks_clear(&ws);
	cli_ws_close(&ws);
	cli_uploads_free(&u);
	free(l.v);
	free(l.deks);
	free(l.objs);
	free(expire);
	if (st)
		return cli_fail(&err);
	cli_info("gc: %zu version%s %s, %llu unreferenced object%s %s, %llu unreferenced data key%s %s",
	         expired, expired == 1 ? "" : "s", dry ? "to delete" : "deleted",
	         (unsigned long long)oc.removed, oc.removed == 1 ? "" : "s", dry ? "to remove" : "removed",
	         (unsigned long long)dc.shredded, dc.shredded == 1 ? "" : "s",
	         dry ? "to destroy" : "destroyed");
	return 0;
}
