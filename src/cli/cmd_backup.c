/*
 * veil backup DEST / veil restore BACKUP DIR.
 *
 * A backup is a folder shaped like a workspace, holding only ciphertext,
 * wrapped keys and metadata, plus MANIFEST (the SHA-256 of every file).
 * It is consistent while other commands keep writing: the catalog and key
 * store are copied with SQLite's online backup (one snapshot each, catalog
 * first: a data key always exists before any catalog row names it; the key
 * store's copy is made by the keys module, veil_kms_backup), objects
 * are immutable and copied through the store interface (which verifies each
 * one), and the audit log is copied heads first, so the leaves copied cover
 * every head. gc, rotation and retirement take the workspace lock
 * exclusively and so never run during a backup.
 *
 * Both commands build their result under a temporary name next to the
 * destination and rename it into place only when complete and verified.
 */
#include "cmds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies src to dst and records it in the manifest as rel. */
static veil_status copy_file(const char *src, const char *dst, veil_buf *manifest, const char *rel,
                             veil_err *err)
{
	char hex[2 * VEIL_SHA256_LEN + 1];
	veil_status st = cli_copy_file(src, dst, hex, err);
	return st ? st : veil_buf_printf(manifest, err, "%s  %s\n", hex, rel);
}

typedef struct copy_ctx {
	veil_store *from, *to;
	uint64_t n;
} copy_ctx;

static veil_status copy_object(void *ctx, const char *id, veil_err *err)
{
	copy_ctx *c = ctx;
	veil_store_reader *r = NULL;
	veil_store_writer *w = NULL;
	char got[VEIL_STORE_ID_MAX];
	veil_status st = veil_store_get_open(c->from, id, &r, err);
	if (!st)
		st = veil_store_put_begin(c->to, &w, err);
	uint8_t buf[65536];
	while (!st) {
		size_t n = 0;
		if ((st = veil_store_get_read(r, buf, sizeof buf, &n, err)) || n == 0)
			break;
		st = veil_store_put_write(w, buf, n, err);
	}
	if (!st) {
		st = veil_store_put_commit(w, got, err);
		w = NULL;
	}
	if (w)
		veil_store_put_abort(w);
	veil_store_get_close(r);
	if (st)
		return veil_err_wrap(err, "object %s", id);
	c->n++;
	return VEIL_OK;
}

/* Copies one regular file from -> to, recording it as rel/name. */
static veil_status copy_one(const char *from, const char *to, const char *rel, const char *name,
                            veil_buf *manifest, veil_err *err)
{
	char s[4096], t[4096], r[4096];
	veil_status st;
	if ((st = veil_path_join(s, sizeof s, from, name, err)) ||
	    (st = veil_path_join(t, sizeof t, to, name, err)) ||
	    (st = veil_path_join(r, sizeof r, rel, name, err)))
		return st;
	struct stat sb;
	if (stat(s, &sb) != 0 || !S_ISREG(sb.st_mode))
		return VEIL_OK;
	return copy_file(s, t, manifest, r, err);
}

/* Copies the audit folder: the heads file first, so that the leaves copied
 * afterwards cover every head copied (see the top of this file). */
static veil_status copy_audit(const char *from, const char *to, const char *rel, veil_buf *manifest,
                              veil_err *err)
{
	DIR *d = opendir(from);
	if (!d)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open %s", from);
	veil_status st = veil_fs_mkdirs(to, 0700, err);
	if (!st)
		st = copy_one(from, to, rel, "heads", manifest, err);
	struct dirent *e;
	while (!st && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "heads") == 0 || strcmp(e->d_name, "lock") == 0)
			continue;
		st = copy_one(from, to, rel, e->d_name, manifest, err);
	}
	closedir(d);
	return st;
}

static veil_status hash_into_manifest(const char *path, const char *rel, veil_buf *m, veil_err *err)
{
	char hex[2 * VEIL_SHA256_LEN + 1];
	veil_status st = cli_hash_file(path, hex, err);
	return st ? st : veil_buf_printf(m, err, "%s  %s\n", hex, rel);
}

/* Every live version in the backup's catalog must have its object in the
 * backup: the store's listing skips what is not an object (a planted FIFO),
 * so a damaged store would otherwise give a backup with holes. */
typedef struct hole_ctx {
	veil_catalog *catalog;
	veil_store *store;
} hole_ctx;

static veil_status check_version_object(void *ctx, const veil_dataset_version *v, veil_err *err)
{
	hole_ctx *h = ctx;
	bool there = false;
	if (strcmp(v->state, "live") != 0)
		return VEIL_OK;
	veil_status st = veil_store_exists(h->store, v->object_id, &there, err);
	if (!st && !there)
		st = veil_err_set(err, VEIL_E_CORRUPT,
		                  "the object of %s@%u is missing or damaged in the workspace", v->name,
		                  v->version);
	return st;
}

static veil_status check_dataset_objects(void *ctx, const veil_dataset_version *v, veil_err *err)
{
	hole_ctx *h = ctx;
	return veil_catalog_dataset_versions(h->catalog, v->name, check_version_object, h, err);
}

static veil_status check_objects(const char *tmp, veil_store *store, veil_err *err)
{
	char p[4400];
	snprintf(p, sizeof p, "%s/%s", tmp, CLI_WS_CATALOG);
	hole_ctx h = {.store = store};
	veil_status st = veil_catalog_open(p, false, &h.catalog, err);
	if (!st)
		st = veil_catalog_dataset_list(h.catalog, check_dataset_objects, &h, err);
	veil_catalog_close(h.catalog);
	return st;
}

static veil_status write_backup(cli_ws *ws, const char *tmp, uint64_t *objects, veil_err *err)
{
	char a[4400], b[4400];
	veil_buf manifest = {0};
	veil_status st =
	        veil_buf_printf(&manifest, err, "# veil backup of workspace %s\n", ws->cfg.workspace_id);
	if (!st)
		st = veil_fs_mkdirs(tmp, 0700, err);
	/* 1. catalog, then 2. key store: see the top of this file for why this order */
	if (!st) {
		snprintf(b, sizeof b, "%s/%s", tmp, CLI_WS_CATALOG);
		st = veil_catalog_backup(ws->catalog, b, err);
		if (!st)
			st = hash_into_manifest(b, CLI_WS_CATALOG, &manifest, err);
	}
	if (!st) {
		snprintf(b, sizeof b, "%s/%s", tmp, CLI_WS_KEYS);
		st = veil_fs_mkdirs(b, 0700, err);
	}
	if (!st) {
		snprintf(b, sizeof b, "%s/%s/keys.db", tmp, CLI_WS_KEYS);
		st = veil_kms_backup(ws->kms, b, err);
		if (!st)
			st = hash_into_manifest(b, "keys/keys.db", &manifest, err);
	}
	if (!st) {
		snprintf(a, sizeof a, "%s/%s/root.sealed", ws->dir, CLI_WS_KEYS);
		snprintf(b, sizeof b, "%s/%s/root.sealed", tmp, CLI_WS_KEYS);
		if (veil_fs_exists(a))
			st = copy_file(a, b, &manifest, "keys/root.sealed", err);
	}
	/* 3. objects, verified as they are read */
	if (!st) {
		snprintf(b, sizeof b, "%s/%s", tmp, CLI_WS_OBJECTS);
		copy_ctx c = {.from = ws->store};
		st = veil_fs_mkdirs(b, 0700, err);
		if (!st)
			st = veil_store_open(b, &c.to, err);
		if (!st)
			st = veil_store_list(ws->store, copy_object, &c, err);
		if (!st)
			st = check_objects(tmp, c.to, err);
		veil_store_close(c.to);
		*objects = c.n;
	}
	/* 4. audit log, 5. configuration */
	if (!st) {
		snprintf(a, sizeof a, "%s/%s", ws->dir, CLI_WS_AUDIT);
		snprintf(b, sizeof b, "%s/%s", tmp, CLI_WS_AUDIT);
		st = copy_audit(a, b, CLI_WS_AUDIT, &manifest, err);
	}
	if (!st) {
		snprintf(a, sizeof a, "%s/%s", ws->dir, CLI_WS_CONFIG);
		snprintf(b, sizeof b, "%s/%s", tmp, CLI_WS_CONFIG);
		st = copy_file(a, b, &manifest, CLI_WS_CONFIG, err);
	}
	if (!st) {
		snprintf(b, sizeof b, "%s/MANIFEST", tmp);
		st = veil_fs_write_atomic(b, manifest.data, manifest.len, 0600, err);
	}
	veil_buf_free(&manifest);
	return st;
}

int cmd_backup(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("backup");
	int rc = cli_parse_plain(g, cmd, argc, argv);
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage_error(cmd, "give exactly one DEST folder");
	const char *dest = argv[optind];
	veil_err err;
	veil_err_clear(&err);
	if (veil_fs_exists(dest)) {
		veil_err_set(&err, VEIL_E_EXISTS, "%s exists", dest);
		veil_err_hint(&err, "back up into a new folder");
		return cli_fail(&err);
	}
	cli_ws ws;
	cli_target t = {.verb = VEIL_VERB_MANAGE, .type = "workspace"};
	if (cli_ws_open_for(g, WS_CATALOG | WS_STORE | WS_AUDIT, &t, &ws, &err))
		return cli_fail(&err);
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.partial-%d", dest, (int)getpid());
	uint64_t objects = 0;
	veil_status st = write_backup(&ws, tmp, &objects, &err);
	if (!st && rename(tmp, dest) != 0)
		st = veil_err_errno(&err, VEIL_E_IO, errno, "cannot move the backup into place at %s", dest);
	if (st)
		cli_remove_tree(tmp);
	veil_err aerr;
	veil_status ast = cli_audit(&ws, "workspace.backup", dest, st ? "failed" : "ok",
	                            json_pack("{s:I}", "objects", (json_int_t)objects), &aerr);
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	if (ast)
		return cli_fail(&aerr);
	cli_info("Backed up the workspace to %s (%llu objects)", dest, (unsigned long long)objects);
	return 0;
}
