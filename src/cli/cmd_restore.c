/*
 * veil restore BACKUP DIR.
 *
 * A backup is untrusted input: it may have been damaged or edited while it
 * sat on a tape or in a bucket. Restore therefore copies only what it can
 * check, into a temporary folder next to DIR, and renames it into place only
 * when everything verified:
 *   1. MANIFEST lists the SHA-256 of every file outside objects/; each file
 *      is hashed while it is copied, the workspace's core files must be
 *      listed, and a file that is not listed, a link, or anything but a
 *      regular file is refused;
 *   2. objects/ holds only files named by their own SHA-256, each verified;
 *   3. the catalog passes its integrity checks, and every live dataset
 *      version's, model version's and resumable checkpoint's object and
 *      data key are present;
 *   4. the audit log verifies against the log key held by the restored key
 *      store (so restore needs the passphrase or PIN), and every catalog
 *      version has its upload event.
 */
#include "cmds.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANIFEST_MAX       (16u << 20)
#define MANIFEST_FILES_MAX 4096

static const char *const required[] = {CLI_WS_CONFIG, CLI_WS_CATALOG, "keys/keys.db",
                                       "audit/heads", "audit/leaves", "audit/log.pub"};

typedef struct manifest {
	char hex[MANIFEST_FILES_MAX][2 * VEIL_SHA256_LEN + 1];
	char *path[MANIFEST_FILES_MAX];
	bool seen[MANIFEST_FILES_MAX];
	size_t n;
	veil_buf text;
} manifest;

static bool safe_path(const char *p)
{
	if (!*p || p[0] == '/' || strstr(p, "//") || strlen(p) > 512)
		return false;
	for (const char *c = p; *c; c++)
		if ((unsigned char)*c < 0x21 || *c == 0x7f)
			return false;
	return strcmp(p, "..") != 0 && strncmp(p, "../", 3) != 0 && !strstr(p, "/../") &&
	       !(strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "/..") == 0);
}

static veil_status parse_manifest(const char *dir, manifest *m, veil_err *err)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/MANIFEST", dir);
	struct stat sb;
	if (lstat(p, &sb) == 0 && !S_ISREG(sb.st_mode)) /* a FIFO would block the read */
		return veil_err_set(err, VEIL_E_CORRUPT, "%s is not a regular file", p);
	veil_status st = veil_fs_read_file(p, MANIFEST_MAX, &m->text, err);
	if (st) {
		veil_err_hint(err, "is %s a folder written by 'veil backup'?", dir);
		return st;
	}
	if (!m->text.data)
		return veil_err_set(err, VEIL_E_CORRUPT, "%s is empty", p);
	char *save = NULL;
	size_t line = 0;
	for (char *l = strtok_r((char *)m->text.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		line++;
		if (l[0] == '#')
			continue;
		if (strlen(l) < 67 || l[64] != ' ' || l[65] != ' ' || !safe_path(l + 66))
			return veil_err_set(err, VEIL_E_CORRUPT, "MANIFEST line %zu is malformed", line);
		if (m->n == MANIFEST_FILES_MAX)
			return veil_err_set(err, VEIL_E_LIMIT, "MANIFEST lists more than %u files",
			                    MANIFEST_FILES_MAX);
		l[64] = '\0';
		uint8_t raw[VEIL_SHA256_LEN];
		if (veil_hex_decode(l, raw, sizeof raw, NULL))
			return veil_err_set(err, VEIL_E_CORRUPT, "MANIFEST line %zu has a bad hash", line);
		for (size_t i = 0; i < m->n; i++)
			if (strcmp(m->path[i], l + 66) == 0)
				return veil_err_set(err, VEIL_E_CORRUPT, "MANIFEST lists %s twice", l + 66);
		memcpy(m->hex[m->n], l, sizeof m->hex[0]);
		m->path[m->n++] = l + 66;
	}
	for (size_t r = 0; r < sizeof required / sizeof required[0]; r++) {
		bool found = false;
		for (size_t i = 0; i < m->n && !found; i++)
			found = strcmp(m->path[i], required[r]) == 0;
		if (!found)
			return veil_err_set(err, VEIL_E_CORRUPT, "the backup's MANIFEST does not list %s",
			                    required[r]);
	}
	return VEIL_OK;
}

/* objects/ab/<62 hex>: a name the store will verify by content. */
static bool object_path(const char *rel)
{
	if (strncmp(rel, "objects/", 8) != 0 || strlen(rel) != 8 + 2 + 1 + 62 || rel[10] != '/')
		return false;
	for (const char *c = rel + 8; *c; c++)
		if (c != rel + 10 && !((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

static veil_status copy_checked(const char *from, const char *to, const char *rel, manifest *m, veil_err *err)
{
	char hex[2 * VEIL_SHA256_LEN + 1];
	if (object_path(rel))
		return cli_copy_file(from, to, hex, err);
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->path[i], rel) != 0)
			continue;
		veil_status st = cli_copy_file(from, to, hex, err);
		if (st)
			return st;
		if (strcmp(hex, m->hex[i]) != 0)
			return veil_err_set(err, VEIL_E_CORRUPT, "%s in the backup was modified", rel);
		m->seen[i] = true;
		return VEIL_OK;
	}
	return veil_err_set(err, VEIL_E_CORRUPT, "%s in the backup is not listed in its MANIFEST", rel);
}

static veil_status copy_tree(const char *from, const char *to, const char *rel, manifest *m, veil_err *err)
{
	DIR *d = opendir(from);
	if (!d)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open %s", from);
	veil_status st = veil_fs_mkdirs(to, 0700, err);
	struct dirent *e;
	while (!st && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char s[4400], t[4400], r[1024];
		if ((st = veil_path_join(s, sizeof s, from, e->d_name, err)) ||
		    (st = veil_path_join(t, sizeof t, to, e->d_name, err)) ||
		    (st = veil_fmt(r, sizeof r, err, "%s%s%s", rel, *rel ? "/" : "", e->d_name)))
			break;
		struct stat sb;
		if (lstat(s, &sb) != 0)
			st = veil_err_errno(err, VEIL_E_IO, errno, "cannot read %s", s);
		else if (S_ISDIR(sb.st_mode))
			st = copy_tree(s, t, r, m, err);
		else if (!S_ISREG(sb.st_mode))
			st = veil_err_set(err, VEIL_E_CORRUPT, "%s in the backup is a link or special file",
			                  r);
		else if (strcmp(r, "MANIFEST") != 0)
			st = copy_checked(s, t, r, m, err);
	}
	closedir(d);
	return st;
}

typedef struct vctx {
	cli_ws *ws;
	uint64_t objects, versions, training;
} vctx;

static veil_status verify_object(void *ctx, const char *id, veil_err *err)
{
	vctx *c = ctx;
	veil_status st = veil_store_verify(c->ws->store, id, err);
	c->objects += st == VEIL_OK;
	return st;
}

static veil_status check_version(void *ctx, const veil_dataset_version *v, veil_err *err)
{
	vctx *c = ctx;
	if (strcmp(v->state, "live") != 0)
		return VEIL_OK;
	bool there = false;
	veil_dek_info di;
	veil_status st = veil_store_exists(c->ws->store, v->object_id, &there, err);
	if (!st && !there)
		st = veil_err_set(err, VEIL_E_CORRUPT, "the backup has no object for %s@%u", v->name,
		                  v->version);
	if (!st && (st = veil_kms_dek_info(c->ws->kms, v->dek_id, &di, err)) == VEIL_OK && di.destroyed)
		st = veil_err_set(err, VEIL_E_KEY, "the data key of %s@%u was destroyed", v->name,
		                  v->version);
	c->versions += st == VEIL_OK;
	return st;
}

/* A live model version or resumable checkpoint: its object and key, as
 * for a dataset version. */
static veil_status check_training_object(void *ctx, const veil_training_object *o, veil_err *err)
{
	vctx *c = ctx;
	if (!o->live)
		return VEIL_OK;
	bool there = false;
	veil_dek_info di;
	veil_status st = veil_store_exists(c->ws->store, o->object_id, &there, err);
	if (!st && !there)
		st = veil_err_set(err, VEIL_E_CORRUPT, "the backup has no object for %s %s", o->kind, o->ref);
	if (!st && (st = veil_kms_dek_info(c->ws->kms, o->dek_id, &di, err)) == VEIL_OK && di.destroyed)
		st = veil_err_set(err, VEIL_E_KEY, "the data key of %s %s was destroyed", o->kind, o->ref);
	c->training += st == VEIL_OK;
	return st;
}

static veil_status check_dataset(void *ctx, const veil_dataset_version *v, veil_err *err)
{
	vctx *c = ctx;
	return veil_catalog_dataset_versions(c->ws->catalog, v->name, check_version, c, err);
}

static veil_status verify_restored(cli_global *g, const char *dir, vctx *c, veil_err *err)
{
	cli_global local = *g;
	local.workspace = dir;
	cli_ws ws;
	/* The restored workspace's own principals and policies decide: the
	 * token must be valid there and allowed to manage the workspace. */
	cli_target t = {.verb = VEIL_VERB_MANAGE, .type = "workspace"};
	veil_status st = cli_ws_open_for(&local, WS_CATALOG | WS_STORE | WS_KMS, &t, &ws, err);
	g->decisions = local.decisions;
	g->ws_opened = local.ws_opened;
	if (st)
		return st;
	c->ws = &ws;
	uint8_t pub[VEIL_ED25519_PUB_LEN];
	veil_audit_report rep;
	uint64_t versions;
	if (!(st = veil_catalog_integrity_check(ws.catalog, err)) &&
	    !(st = veil_store_list(ws.store, verify_object, c, err)) &&
	    !(st = veil_catalog_dataset_list(ws.catalog, check_dataset, c, err)) &&
	    !(st = veil_catalog_training_objects(ws.catalog, check_training_object, c, err)) &&
	    !(st = cli_log_key(&ws, pub, err)))
		st = cli_verify_log(&ws, pub, &rep, &versions, err);
	cli_ws_close(&ws);
	c->ws = NULL;
	return st;
}

int cmd_restore(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("restore");
	int rc = cli_parse_plain(g, cmd, argc, argv);
	if (rc >= 0)
		return rc;
	if (argc - optind != 2)
		return cli_usage_error(cmd, "give the BACKUP folder and the new workspace DIR");
	const char *from = argv[optind];
	char dest_buf[4096];
	if (veil_fmt(dest_buf, sizeof dest_buf, NULL, "%s", argv[optind + 1]))
		return cli_usage_error(cmd, "DIR is too long");
	for (size_t n = strlen(dest_buf); n > 1 && dest_buf[n - 1] == '/'; n--)
		dest_buf[n - 1] = '\0'; /* "r3/" means r3 */
	const char *dest = dest_buf;
	veil_err err;
	veil_err_clear(&err);
	if (veil_fs_exists(dest)) {
		veil_err_set(&err, VEIL_E_EXISTS, "%s exists", dest);
		veil_err_hint(&err, "restore into a new folder, then move it into place");
		return cli_fail(&err);
	}
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.partial-%d", dest, (int)getpid());
	manifest *m = calloc(1, sizeof *m);
	if (!m) {
		veil_err_set(&err, VEIL_E_NOMEM, "out of memory");
		return cli_fail(&err);
	}
	vctx c = {0};
	veil_status st = parse_manifest(from, m, &err);
	if (!st)
		st = copy_tree(from, tmp, "", m, &err);
	for (size_t i = 0; !st && i < m->n; i++)
		if (!m->seen[i])
			st = veil_err_set(&err, VEIL_E_CORRUPT, "%s, listed in the MANIFEST, is missing",
			                  m->path[i]);
	if (!st)
		st = verify_restored(g, tmp, &c, &err);
	if (!st && rename(tmp, dest) != 0)
		st = veil_err_errno(&err, VEIL_E_IO, errno, "cannot move the restored workspace to %s", dest);
	veil_buf_free(&m->text);
	free(m);
	if (st) {
		cli_remove_tree(tmp);
		veil_err_wrap(&err, "restore failed");
		return cli_fail(&err);
	}
	cli_info("Restored %s into %s: %llu objects, %llu live versions and %llu models and checkpoints "
	         "verified, audit log verified",
	         from, dest, (unsigned long long)c.objects, (unsigned long long)c.versions,
	         (unsigned long long)c.training);
	return 0;
}
