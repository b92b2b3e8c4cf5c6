/*
 * Finding and opening a workspace. A workspace is a folder holding
 * veil.yaml, catalog.db, objects/, keys/ and audit/ (docs/operations.md).
 * It is found like git finds a repository: --workspace, $VEIL_WORKSPACE, or
 * the current folder and its parents. Opening takes a lock (shared for
 * ordinary commands, exclusive for gc/backup/rotate) and only the parts a
 * command needs, so `data list` never asks for a passphrase.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_workspace(const char *dir)
{
	char p[4096];
	if (veil_fmt(p, sizeof p, NULL, "%s/%s", dir, CLI_WS_CONFIG))
		return false;
	return veil_fs_exists(p);
}

static veil_status find(cli_global *g, char *out, size_t outsz, veil_err *err)
{
	const char *given = g->workspace ? g->workspace : getenv("VEIL_WORKSPACE");
	if (given && *given) {
		char real[PATH_MAX];
		if (!realpath(given, real)) {
			veil_err_errno(err, VEIL_E_WORKSPACE, errno, "cannot open the workspace %s", given);
			err->code = VEIL_E_WORKSPACE;
			veil_err_hint(err, "create one with 'veil init %s'", given);
			return VEIL_E_WORKSPACE;
		}
		if (!is_workspace(real)) {
			veil_err_set(err, VEIL_E_WORKSPACE, "%s is not a veil workspace (no %s)", real,
			             CLI_WS_CONFIG);
			veil_err_hint(
			        err,
			        "create one with 'veil init %s', or point --workspace at an existing one",
			        given);
			return VEIL_E_WORKSPACE;
		}
		return veil_fmt(out, outsz, err, "%s", real);
	}
	char cur[PATH_MAX];
	if (!getcwd(cur, sizeof cur))
		return veil_err_errno(err, VEIL_E_WORKSPACE, errno, "cannot read the current folder");
	for (;;) {
		if (is_workspace(cur))
			return veil_fmt(out, outsz, err, "%s", cur);
		char *slash = strrchr(cur, '/');
		if (!slash || slash == cur)
			break;
		*slash = '\0';
	}
	if (is_workspace("/"))
		return veil_fmt(out, outsz, err, "/");
	veil_err_set(err, VEIL_E_WORKSPACE,
	             "not inside a veil workspace (no %s here or in any parent folder)", CLI_WS_CONFIG);
	veil_err_hint(err, "create one with 'veil init DIR', or use --workspace DIR or VEIL_WORKSPACE");
	return VEIL_E_WORKSPACE;
}

static veil_status parse_uint(const char *s, const char *key, unsigned min, unsigned max, unsigned *out,
                              veil_err *err)
{
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		veil_err_set(err, VEIL_E_INVALID, "veil.yaml: %s must be a whole number from %u to %u", key,
		             min, max);
		veil_err_hint(err, "edit veil.yaml in the workspace");
		return VEIL_E_INVALID;
	}
	*out = (unsigned)v;
	return VEIL_OK;
}

static veil_status copy_str(char *dst, size_t n, const char *src, const char *key, veil_err *err)
{
	if (veil_fmt(dst, n, NULL, "%s", src))
		return veil_err_set(err, VEIL_E_INVALID, "veil.yaml: %s is longer than %zu characters", key,
		                    n - 1);
	return VEIL_OK;
}

veil_status cli_ws_load_config(const char *dir, cli_ws_config *cfg, veil_err *err)
{
	char path[4096];
	veil_status st = veil_fmt(path, sizeof path, err, "%s/%s", dir, CLI_WS_CONFIG);
	if (st)
		return st;
	veil_yaml_map m;
	if ((st = veil_yaml_load_map(path, &m, err)))
		return st;
	memset(cfg, 0, sizeof *cfg);
	cfg->chunk_size = VEIL_OBJ_CHUNK_DEFAULT;
	const char *v;
	if (!(v = veil_yaml_get(&m, "workspace_id")) || strlen(v) != 32) {
		veil_err_set(err, VEIL_E_WORKSPACE,
		             "%s has no valid workspace_id: this is not a veil workspace", path);
		st = VEIL_E_WORKSPACE;
		goto out;
	}
	memcpy(cfg->workspace_id, v, 33);
	/* A misspelt key would silently fall back to a default (a typo in
	 * key_rotation would switch the rotation check off): refuse it. */
	static const char *const known[] = {"workspace_id",
	                                    "format",
	                                    "key_rotation",
	                                    "root.provider",
	                                    "root.pkcs11_module",
	                                    "root.pkcs11_token",
	                                    "root.pkcs11_key_label",
	                                    "storage.chunk_size",
	                                    "storage.threads",
	                                    "lifecycle.keep_versions",
	                                    "lifecycle.expire_days",
	                                    "region",
	                                    "compliance.restricted_training"};
	for (size_t i = 0; i < m.n; i++) {
		size_t k = 0;
		while (k < sizeof known / sizeof known[0] && strcmp(known[k], m.items[i].key) != 0)
			k++;
		if (k == sizeof known / sizeof known[0]) {
			veil_err_set(err, VEIL_E_INVALID, "%s:%d: unknown setting '%s'", path,
			             m.items[i].line, m.items[i].key);
			veil_err_hint(err, "check the spelling; docs/operations.md lists every setting");
			st = VEIL_E_INVALID;
			goto out;
		}
	}
	if (!(v = veil_yaml_get(&m, "format")) || strcmp(v, "1") != 0) {
		veil_err_set(err, VEIL_E_UNSUPPORTED, "%s has format %s; this veil reads format 1", path,
		             v ? v : "(none)");
		veil_err_hint(err, "use the veil that made this workspace, or a newer one");
		st = VEIL_E_UNSUPPORTED;
		goto out;
	}
	v = veil_yaml_get(&m, "root.provider");
	if ((st = copy_str(cfg->provider, sizeof cfg->provider, v ? v : "file", "root.provider", err)))
		goto out;
	if (strcmp(cfg->provider, "file") != 0 && strcmp(cfg->provider, "pkcs11") != 0) {
		st = veil_err_set(err, VEIL_E_INVALID, "veil.yaml: root.provider must be 'file' or 'pkcs11'");
		goto out;
	}
	v = veil_yaml_get(&m, "root.pkcs11_module");
	if ((st = copy_str(cfg->pkcs11_module, sizeof cfg->pkcs11_module,
	                   v ? v : "/usr/lib/softhsm/libsofthsm2.so", "root.pkcs11_module", err)))
		goto out;
	v = veil_yaml_get(&m, "root.pkcs11_token");
	if ((st = copy_str(cfg->pkcs11_token, sizeof cfg->pkcs11_token, v ? v : "", "root.pkcs11_token",
	                   err)))
		goto out;
	v = veil_yaml_get(&m, "root.pkcs11_key_label");
	if ((st = copy_str(cfg->pkcs11_key_label, sizeof cfg->pkcs11_key_label, v ? v : "veil-root",
	                   "root.pkcs11_key_label", err)))
		goto out;
	/* Required: a missing line must not switch the rotation check off
	 * any more than a misspelt one; 'off' says so explicitly. */
	if (!(v = veil_yaml_get(&m, "key_rotation"))) {
		veil_err_set(err, VEIL_E_INVALID, "%s has no key_rotation setting", path);
		veil_err_hint(err, "add 'key_rotation: 30d' (or 'key_rotation: off' to disable the check)");
		st = VEIL_E_INVALID;
		goto out;
	}
	if (strcmp(v, "off") != 0 && (st = veil_duration_parse(v, &cfg->key_rotation, err))) {
		veil_err_wrap(err, "veil.yaml: key_rotation");
		goto out;
	}
	unsigned u;
	if ((v = veil_yaml_get(&m, "storage.chunk_size"))) {
		if ((st = parse_uint(v, "storage.chunk_size", VEIL_OBJ_CHUNK_MIN, VEIL_OBJ_CHUNK_MAX, &u,
		                     err)))
			goto out;
		cfg->chunk_size = u;
	}
	if ((v = veil_yaml_get(&m, "storage.threads")) &&
	    (st = parse_uint(v, "storage.threads", 0, 64, &cfg->threads, err)))
		goto out;
	if ((v = veil_yaml_get(&m, "lifecycle.keep_versions")) &&
	    (st = parse_uint(v, "lifecycle.keep_versions", 0, 1000000, &cfg->keep_versions, err)))
		goto out;
	if ((v = veil_yaml_get(&m, "lifecycle.expire_days")) &&
	    (st = parse_uint(v, "lifecycle.expire_days", 0, 100000, &cfg->expire_days, err)))
		goto out;
	/* Optional: workspaces made before access control have none, and their
	 * requests then have no request.region (docs/access.md). */
	if ((v = veil_yaml_get(&m, "region")) &&
	    ((st = copy_str(cfg->region, sizeof cfg->region, v, "region", err)) ||
	     (st = veil_name_check(cfg->region, "veil.yaml: region", err))))
		goto out;
	if ((v = veil_yaml_get(&m, "compliance.restricted_training"))) {
		if (strcmp(v, "deidentified") != 0 && strcmp(v, "allow") != 0) {
			st = veil_err_set(err, VEIL_E_INVALID,
			                  "veil.yaml: compliance.restricted_training must be 'allow' or "
			                  "'deidentified'");
			goto out;
		}
		cfg->restricted_training_deidentified = strcmp(v, "deidentified") == 0;
	}
out:
	veil_yaml_free(&m);
	return st;
}

/* The PKCS#11 module runs inside veil with the PIN and every key it
 * unwraps, and its path comes from veil.yaml, which anyone who can write
 * the workspace can edit. Load only a root-owned file that nobody else can
 * change, in a root-owned folder (as the system's own libraries are). */
static bool root_owned(const char *path, bool want_dir)
{
	struct stat sb;
	return lstat(path, &sb) == 0 && sb.st_uid == 0 && !(sb.st_mode & 022) &&
	       (want_dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode));
}

/* The module runs inside veil with the PIN and every key it unwraps, and
 * its path comes from veil.yaml, which anyone who can write the workspace
 * can edit. The path is resolved once (no links left), the file and every
 * folder above it must be root's and writable by no one else (so nobody
 * else can swap any part of it between this check and the load), and the
 * resolved path is what gets loaded. */
static veil_status check_module(const char *path, char resolved[PATH_MAX], veil_err *err)
{
	bool ok = path[0] == '/' && realpath(path, resolved) && root_owned(resolved, false);
	char dir[PATH_MAX];
	if (ok && !veil_fmt(dir, sizeof dir, NULL, "%s", resolved)) {
		for (char *slash = strrchr(dir, '/'); ok && slash; slash = strrchr(dir, '/')) {
			*slash = '\0';
			ok = root_owned(*dir ? dir : "/", true);
			if (!*dir)
				break;
		}
	}
	if (ok)
		return VEIL_OK;
	veil_err_set(err, VEIL_E_DENIED, "refusing to load the PKCS#11 module %s", path);
	veil_err_hint(err,
	              "root.pkcs11_module in veil.yaml must name a file owned by root and writable by no one "
	              "else, in folders that are too (like /usr/lib)");
	return VEIL_E_DENIED;
}

veil_status cli_kms_config(const char *dir, const cli_ws_config *cfg, veil_kms_config *kc, char **secret,
                           bool confirm, veil_err *err)
{
	static __thread char keys_dir[4096];
	veil_status st = veil_fmt(keys_dir, sizeof keys_dir, err, "%s/%s", dir, CLI_WS_KEYS);
	if (st)
		return st;
	memset(kc, 0, sizeof *kc);
	kc->dir = keys_dir;
	kc->provider = cfg->provider;
	size_t len = 0;
	if (strcmp(cfg->provider, "pkcs11") == 0) {
		static __thread char module[PATH_MAX];
		if ((st = check_module(cfg->pkcs11_module, module, err)))
			return st;
		if ((st = cli_read_secret("PKCS#11 user PIN", "VEIL_PKCS11_PIN", "VEIL_PKCS11_PIN_FILE",
		                          false, secret, &len, err)))
			return st;
		kc->pkcs11_module = module; /* the resolved, checked path */
		kc->pkcs11_token = cfg->pkcs11_token;
		kc->pkcs11_key_label = cfg->pkcs11_key_label;
		kc->pkcs11_pin = *secret;
	} else {
		if ((st = cli_read_secret("workspace passphrase", "VEIL_PASSPHRASE", "VEIL_PASSPHRASE_FILE",
		                          confirm, secret, &len, err)))
			return st;
		kc->passphrase = *secret;
		kc->passphrase_len = len;
	}
	return VEIL_OK;
}

void cli_ws_actor(char *out, size_t n)
{
	struct passwd *pw = getpwuid(getuid());
	snprintf(out, n, "local:%s", pw && pw->pw_name ? pw->pw_name : "unknown");
}

static veil_status lock(cli_ws *ws, bool exclusive, veil_err *err)
{
	char p[4096];
	veil_status st = veil_fmt(p, sizeof p, err, "%s/%s", ws->dir, CLI_WS_LOCK);
	if (st)
		return st;
	ws->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (ws->lock_fd < 0)
		return veil_err_errno(err, VEIL_E_WORKSPACE, errno, "cannot open the workspace lock %s", p);
	/* Wait up to ~30 s: a long upload holds a shared lock, gc an exclusive one. */
	for (int i = 0; i < 300; i++) {
		if (flock(ws->lock_fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
			return VEIL_OK;
		if (errno != EWOULDBLOCK)
			return veil_err_errno(err, VEIL_E_BUSY, errno, "cannot lock the workspace");
		usleep(100000);
	}
	veil_err_set(err, VEIL_E_BUSY, "the workspace is busy: another veil command holds its lock");
	veil_err_hint(
	        err, "wait for it to finish (gc, backup and key rotation take the workspace for themselves)");
	return VEIL_E_BUSY;
}

/* Opens the audit log for appending with the signing seed the KMS holds. */
static veil_status open_audit(cli_ws *ws, veil_err *err)
{
	char p[4096];
	uint8_t *seed = veil_secure_alloc(VEIL_ED25519_SEED_LEN);
	if (!seed)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	veil_status st = veil_kms_secret_get(ws->kms, CLI_AUDIT_SECRET, seed, VEIL_ED25519_SEED_LEN, err);
	if (!st && (st = veil_fmt(p, sizeof p, err, "%s/%s", ws->dir, CLI_WS_AUDIT)) == VEIL_OK)
		st = veil_audit_open(p, seed, &ws->audit, err);
	veil_secure_free(seed, VEIL_ED25519_SEED_LEN);
	return st;
}

veil_status cli_ws_open(cli_global *g, unsigned what, cli_ws *ws, veil_err *err)
{
	memset(ws, 0, sizeof *ws);
	ws->lock_fd = -1;
	ws->g = g;
	g->ws_opened++;
	what |= WS_AUTHZ;
	cli_ws_actor(ws->actor, sizeof ws->actor);
	veil_status st = find(g, ws->dir, sizeof ws->dir, err);
	if (st || (st = cli_ws_load_config(ws->dir, &ws->cfg, err)))
		return st;
	if ((st = lock(ws, what & WS_EXCLUSIVE, err)))
		goto fail;
	char p[4096];
	if (what & WS_CATALOG) {
		if ((st = veil_fmt(p, sizeof p, err, "%s/%s", ws->dir, CLI_WS_CATALOG)) ||
		    (st = veil_catalog_open(p, false, &ws->catalog, err)))
			goto fail;
		char id[64] = "";
		if ((st = veil_catalog_meta_get(ws->catalog, "workspace_id", id, sizeof id, err)))
			goto fail;
		if (strcmp(id, ws->cfg.workspace_id) != 0) {
			veil_err_set(
			        err, VEIL_E_WORKSPACE,
			        "the catalog in %s belongs to another workspace (id %s, veil.yaml says %s)",
			        ws->dir, id, ws->cfg.workspace_id);
			veil_err_hint(err, "restore the matching veil.yaml or catalog.db from a backup");
			st = VEIL_E_WORKSPACE;
			goto fail;
		}
	}
	if (what & WS_STORE) {
		if ((st = veil_fmt(p, sizeof p, err, "%s/%s", ws->dir, CLI_WS_OBJECTS)) ||
		    (st = veil_store_open(p, &ws->store, err)))
			goto fail;
	}
	if (what & (WS_KMS | WS_AUDIT)) {
		veil_kms_config kc;
		char *secret = NULL;
		if ((st = cli_kms_config(ws->dir, &ws->cfg, &kc, &secret, false, err)))
			goto fail;
		st = veil_kms_open(&kc, &ws->kms, err);
		cli_secret_free(secret);
		if (st)
			goto fail;
	}
	ws->audit_deferred = what & WS_AUDIT_DEFER;
	if ((what & WS_AUDIT) && !ws->audit_deferred && (st = open_audit(ws, err)))
		goto fail;
	if (!(what & WS_NO_PRINCIPAL) && (st = cli_authenticate(ws, err)))
		goto fail;
	return VEIL_OK;
fail:
	cli_ws_close(ws);
	return st;
}

veil_status cli_ws_audit_flush(cli_ws *ws, veil_err *err)
{
	if (!ws->audit_deferred)
		return VEIL_OK;
	ws->audit_deferred = false;
	veil_status st = ws->kms ? open_audit(ws, err) : veil_err_set(err, VEIL_E_INTERNAL, "no key store");
	size_t i;
	json_t *e;
	json_array_foreach(ws->held, i, e)
	{
		if (st)
			break;
		st = cli_audit_append(ws, json_string_value(json_object_get(e, "action")),
		                      json_string_value(json_object_get(e, "resource")),
		                      json_string_value(json_object_get(e, "outcome")),
		                      json_incref(json_object_get(e, "detail")), err);
	}
	if (!st && ws->audit)
		st = veil_audit_commit(ws->audit, err);
	json_decref(ws->held);
	ws->held = NULL;
	return st;
}

void cli_ws_close(cli_ws *ws)
{
	if (ws->audit_deferred && ws->held) {
		veil_err e;
		veil_err_clear(&e);
		size_t n = json_array_size(ws->held);
		if (cli_ws_audit_flush(ws, &e))
			cli_warn("%zu audit event%s could not be recorded: %s", n, n == 1 ? "" : "s", e.msg);
	}
	json_decref(ws->held);
	ws->held = NULL;
	cli_policies_free(ws->policies);
	ws->policies = NULL;
	if (ws->audit)
		veil_audit_close(ws->audit);
	if (ws->kms)
		veil_kms_close(ws->kms);
	if (ws->store)
		veil_store_close(ws->store);
	if (ws->catalog)
		veil_catalog_close(ws->catalog);
	if (ws->lock_fd >= 0)
		close(ws->lock_fd);
	ws->audit = NULL;
	ws->kms = NULL;
	ws->store = NULL;
	ws->catalog = NULL;
	ws->lock_fd = -1;
}
