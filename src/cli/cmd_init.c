/*
 * veil init: create a workspace. Either every part is created or, on any
 * failure, everything this command made is removed again, so a failed init
 * never leaves a half-workspace that later commands would trip over.
 */
#include "cmds.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void cli_remove_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static bool dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	struct dirent *e;
	bool empty = true;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = false;
			break;
		}
	closedir(d);
	return empty;
}

/* Build folders are named .veil-init-<pid>-XXXXXX. One whose process is
 * gone was left by an interrupted init; one whose process runs belongs to
 * a concurrent init and is left alone, as is anything else. */
#define BUILD_PREFIX ".veil-init-"

static bool stale_build_folder(const char *dir, const char *name)
{
	if (strncmp(name, BUILD_PREFIX, sizeof BUILD_PREFIX - 1) != 0)
		return false;
	char *end;
	long pid = strtol(name + sizeof BUILD_PREFIX - 1, &end, 10);
	if (pid <= 0 || *end != '-' || strlen(end) != 7)
		return false;
	char p[4400];
	struct stat sb;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	if (lstat(p, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid())
		return false;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Removes what interrupted inits left in dir. */
static void remove_leftovers(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[4400];
	while (d && (e = readdir(d)))
		if (stale_build_folder(dir, e->d_name)) {
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			cli_info("removing %s, left by an interrupted 'veil init'", p);
			cli_remove_tree(p);
		}
	if (d)
		closedir(d);
}

typedef struct init_opts {
	const char *dir;
	const char *provider;
	const char *module, *token, *key_label;
	unsigned kdf_log_n;
	const char *rotation;
	const char *region;     /* where the workspace runs (veil.yaml region) */
	const char *admin;      /* the first administrator's principal name */
	const char *token_file; /* write the admin token here instead of stdout */
	const char *final;      /* where the workspace will live; dir is where it is built */
} init_opts;

/* The absolute form of path, which need not exist yet (its parent must). */
static veil_status absolute(const char *path, char *out, size_t outsz, veil_err *err)
{
	char buf[4096], parent[4096];
	if (realpath(path, parent)) /* it exists: resolve it whole, links included */
		return veil_fmt(out, outsz, err, "%s", parent);
	veil_status st = veil_fmt(buf, sizeof buf, err, "%s", path);
	if (st)
		return st;
	size_t n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	char *slash = strrchr(buf, '/');
	const char *base = slash ? slash + 1 : buf;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		if (!realpath(buf, parent))
			return veil_err_errno(err, VEIL_E_IO, errno, "cannot resolve %s", path);
		return veil_fmt(out, outsz, err, "%s", parent);
	}
	if (slash)
		*slash = '\0';
	if (!realpath(slash ? (*buf ? buf : "/") : ".", parent))
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot resolve the folder that holds %s", path);
	return veil_fmt(out, outsz, err, "%s%s%s", parent, strcmp(parent, "/") ? "/" : "", base);
}

/* Renames the built workspace tmp to the new folder real, durably. */
static veil_status move_into_place(const char *tmp, char *real, veil_err *err)
{
	if (rename(tmp, real) != 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot move the new workspace into place at %s",
		                      real);
	char *slash = strrchr(real, '/');
	*slash = '\0';
	veil_status st = veil_fs_fsync_dir(*real ? real : "/", err);
	*slash = '/';
	return st;
}

/* Moves every entry of tmp up into dir, veil.yaml last, then removes tmp. */
static veil_status move_entries(const char *tmp, const char *dir, veil_err *err)
{
	const char *order[] = {".lock",     CLI_WS_CATALOG, CLI_WS_OBJECTS,
	                       CLI_WS_KEYS, CLI_WS_AUDIT,   CLI_WS_CONFIG};
	char from[4500], to[4500];
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		snprintf(from, sizeof from, "%s/%s", tmp, order[i]);
		snprintf(to, sizeof to, "%s/%s", dir, order[i]);
		if (veil_fs_exists(from) && rename(from, to) != 0) {
			veil_status st = veil_err_errno(err, VEIL_E_IO, errno, "cannot move %s into %s",
			                                order[i], dir);
			/* DIR was empty: what is in it now is ours, so take it out again. */
			while (i-- > 0) {
				snprintf(to, sizeof to, "%s/%s", dir, order[i]);
				cli_remove_tree(to);
			}
			return st;
		}
	}
	if (!dir_empty(tmp))
		return veil_err_set(err, VEIL_E_INTERNAL, "init left unexpected files in %s", tmp);
	if (rmdir(tmp) != 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot remove %s", tmp);
	return veil_fs_fsync_dir(dir, err);
}

/* Appends s as a YAML double-quoted scalar. */
static veil_status yaml_quoted(veil_buf *b, const char *s, veil_err *err)
{
	veil_status st = veil_buf_append(b, "\"", 1, err);
	for (; !st && *s; s++)
		st = (*s == '"' || *s == '\\') ? veil_buf_printf(b, err, "\\%c", *s)
		                               : veil_buf_append(b, s, 1, err);
	return st ? st : veil_buf_append(b, "\"", 1, err);
}

/* PKCS#11 labels are at most 32 bytes; control characters would break the
 * configuration file and the terminal. */
static bool label_ok(const char *s)
{
	if (!*s || strlen(s) > VEIL_KMS_PKCS11_LABEL_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static veil_status write_config(const char *dir, const init_opts *o, const char *id, veil_err *err)
{
	veil_buf b = {0};
	veil_status st =
	        veil_buf_printf(&b, err,
	                        "# veil workspace configuration (docs/operations.md explains every key).\n"
	                        "workspace_id: %s\n"
	                        "format: 1\n\n"
	                        "# How often key encryption keys must be rotated; 'veil key status' flags\n"
	                        "# keys older than this. 'off' disables the check.\n"
	                        "key_rotation: %s\n\n"
	                        "# The region this workspace runs in: new datasets and keys are bound\n"
	                        "# to it, and keys bound to another region are never released here.\n"
	                        "region: %s\n\n"
	                        "root:\n"
	                        "  provider: %s\n",
	                        id, o->rotation, o->region, o->provider);
	if (!st && strcmp(o->provider, "pkcs11") == 0) {
		/* Token labels may hold spaces, '#' or ':': write them quoted. */
		st = veil_buf_printf(&b, err, "  pkcs11_module: ");
		if (!st)
			st = yaml_quoted(&b, o->module, err);
		if (!st)
			st = veil_buf_printf(&b, err, "\n  pkcs11_token: ");
		if (!st)
			st = yaml_quoted(&b, o->token, err);
		if (!st)
			st = veil_buf_printf(&b, err, "\n  pkcs11_key_label: ");
		if (!st)
			st = yaml_quoted(&b, o->key_label, err);
		if (!st)
			st = veil_buf_printf(&b, err, "\n");
	}
	if (!st)
		st = veil_buf_printf(&b, err,
		                     "\nstorage:\n"
		                     "  chunk_size: %u      # plaintext bytes per encrypted chunk\n"
		                     "  threads: 0            # 0 = one per core (at most 8)\n\n"
		                     "# Applied by 'veil gc': 0 means no limit.\n"
		                     "lifecycle:\n"
		                     "  keep_versions: 0\n"
		                     "  expire_days: 0\n",
		                     VEIL_OBJ_CHUNK_DEFAULT);
	char path[4096];
	if (!st)
		st = veil_fmt(path, sizeof path, err, "%s/%s", dir, CLI_WS_CONFIG);
	if (!st)
		st = veil_fs_write_atomic(path, b.data, b.len, 0644, err);
	veil_buf_free(&b);
	return st;
}

static veil_status create(cli_global *g, const init_opts *o, char pub_hex[2 * VEIL_ED25519_PUB_LEN + 1],
                          char *token, veil_err *err)
{
	uint8_t raw_id[16];
	char id[33];
	veil_status st = veil_random(raw_id, sizeof raw_id, err);
	if (st)
		return st;
	veil_hex_encode(raw_id, sizeof raw_id, id);

	char p[4096];
	const char *subdirs[] = {CLI_WS_OBJECTS, CLI_WS_KEYS, CLI_WS_AUDIT};
	for (size_t i = 0; i < 3; i++)
		if ((st = veil_fmt(p, sizeof p, err, "%s/%s", o->dir, subdirs[i])) ||
		    (st = veil_fs_mkdirs(p, 0700, err)))
			return st;
	if ((st = write_config(o->dir, o, id, err)))
		return st;

	veil_catalog *cat = NULL;
	if ((st = veil_fmt(p, sizeof p, err, "%s/%s", o->dir, CLI_WS_CATALOG)) ||
	    (st = veil_catalog_open(p, true, &cat, err)))
		return st;
	st = veil_catalog_meta_set(cat, "workspace_id", id, err);
	char token_id[VEIL_TOKEN_ID_LEN + 1] = "";
	if (!st)
		st = cli_first_admin(cat, id, o->admin, token, token_id, err);
	veil_catalog_close(cat);
	if (st)
		return st;

	cli_ws_config cfg;
	if ((st = cli_ws_load_config(o->dir, &cfg, err)))
		return st;
	veil_kms_config kc;
	char *secret = NULL;
	if ((st = cli_kms_config(o->dir, &cfg, &kc, &secret, true, err)))
		return st;
	kc.kdf_log_n = o->kdf_log_n;
	veil_kms *kms = NULL;
	st = veil_kms_create(&kc, err);
	if (!st)
		st = veil_kms_open(&kc, &kms, err);
	cli_secret_free(secret);
	if (st)
		return st;

	/* The audit log's signing key is made here and kept only wrapped by the root. */
	uint8_t *seed = veil_secure_alloc(VEIL_ED25519_SEED_LEN);
	uint8_t pub[VEIL_ED25519_PUB_LEN];
	if (!seed)
		st = veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	if (!st)
		st = veil_ed25519_keygen(seed, pub, err);
	if (!st)
		st = veil_kms_secret_put(kms, CLI_AUDIT_SECRET, seed, VEIL_ED25519_SEED_LEN, err);
	if (!st)
		st = veil_fmt(p, sizeof p, err, "%s/%s", o->dir, CLI_WS_AUDIT);
	if (!st)
		st = veil_audit_create(p, seed, err);
	/* The first event, written with the seed in hand: the passphrase was
	 * read once and is gone from the environment. */
	cli_ws ws;
	memset(&ws, 0, sizeof ws);
	ws.lock_fd = -1;
	snprintf(ws.actor, sizeof ws.actor, "%s", o->admin);
	if (!st)
		st = veil_audit_open(p, seed, &ws.audit, err);
	veil_secure_free(seed, VEIL_ED25519_SEED_LEN);
	veil_kms_close(kms);
	if (!st) {
		veil_hex_encode(pub, sizeof pub, pub_hex);
		json_t *detail = json_pack("{s:s, s:s, s:s, s:s}", "provider", cfg.provider, "workspace_id",
		                           id, "region", o->region, "administrator", o->admin);
		st = cli_audit_append(&ws, "workspace.init", o->final, "ok", detail, err);
	}
	if (!st)
		st = cli_audit_append(&ws, "principal.create", o->admin, "ok",
		                      json_pack("{s:s, s:[s]}", "kind", "user", "groups", CLI_ADMIN_GROUP),
		                      err);
	if (!st)
		st = cli_audit_append(
		        &ws, "policy.apply", CLI_ADMIN_POLICY, "ok",
		        json_pack("{s:i, s:s}", "version", 1, "compartment", VEIL_ACCESS_TENANCY), err);
	if (!st)
		st = cli_audit(&ws, "token.issue", o->admin, "ok",
		               json_pack("{s:s, s:s}", "token_id", token_id, "expires", "never"), err);
	veil_audit_close(ws.audit);
	return st;
}

int cmd_init(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("init");
	static const struct option longopts[] = {
	        {"provider", required_argument, NULL, 'p'},
	        {"pkcs11-module", required_argument, NULL, 'M'},
	        {"pkcs11-token", required_argument, NULL, 'T'},
	        {"pkcs11-key-label", required_argument, NULL, 'L'},
	        {"kdf-log-n", required_argument, NULL, 'N'},
	        {"key-rotation", required_argument, NULL, 'R'},
	        {"region", required_argument, NULL, 'g'},
	        {"admin", required_argument, NULL, 'A'},
	        {"token-file", required_argument, NULL, 'F'},
	        CLI_COMMON_OPTS,
	        {NULL, 0, NULL, 0},
	};
	init_opts o = {.provider = "file",
	               .module = "/usr/lib/softhsm/libsofthsm2.so",
	               .key_label = "veil-root",
	               .kdf_log_n = 17,
	               .rotation = "30d",
	               .region = "local",
	               .admin = "admin"};
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "", longopts, &rc)) != -1) {
		switch (opt) {
		case 'p':
			o.provider = optarg;
			break;
		case 'M':
			o.module = optarg;
			break;
		case 'T':
			o.token = optarg;
			break;
		case 'L':
			o.key_label = optarg;
			break;
		case 'R':
			o.rotation = optarg;
			break;
		case 'g':
			o.region = optarg;
			break;
		case 'A':
			o.admin = optarg;
			break;
		case 'F':
			o.token_file = optarg;
			break;
		case 'N': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < VEIL_KMS_KDF_LOG_N_MIN || v > VEIL_KMS_KDF_LOG_N_MAX)
				return cli_usage_error(cmd, "--kdf-log-n must be a number from %d to %d",
				                       VEIL_KMS_KDF_LOG_N_MIN, VEIL_KMS_KDF_LOG_N_MAX);
			o.kdf_log_n = (unsigned)v;
			break;
		}
		default:
			return cli_usage_error(cmd, "unexpected option");
		}
	}
	if (rc >= 0)
		return rc;
	if (argc - optind > 1)
		return cli_usage_error(cmd, "too many arguments");
	if (!o.provider || !o.module || !o.key_label || !o.rotation) /* getopt gives required arguments */
		return cli_usage_error(cmd, "an option is missing its value");
	o.dir = optind < argc ? argv[optind] : (g->workspace ? g->workspace : ".");
	if (strcmp(o.provider, "file") != 0 && strcmp(o.provider, "pkcs11") != 0)
		return cli_usage_error(cmd, "--provider must be 'file' or 'pkcs11'");
	if (strcmp(o.provider, "pkcs11") == 0 && !o.token)
		return cli_usage_error(cmd, "--pkcs11-token LABEL is required with --provider pkcs11");
	if (o.token && !label_ok(o.token))
		return cli_usage_error(cmd, "--pkcs11-token must be 1 to %d printable characters",
		                       VEIL_KMS_PKCS11_LABEL_MAX);
	if (!label_ok(o.key_label))
		return cli_usage_error(cmd, "--pkcs11-key-label must be 1 to %d printable characters",
		                       VEIL_KMS_PKCS11_LABEL_MAX);
	for (const char *c = o.module; c && *c; c++)
		if ((unsigned char)*c < 0x20)
			return cli_usage_error(cmd, "--pkcs11-module has a control character");
	int64_t secs;
	veil_err err;
	veil_err_clear(&err);
	if ((strcmp(o.rotation, "off") != 0 && veil_duration_parse(o.rotation, &secs, &err)) ||
	    veil_name_check(o.region, "region", &err) || veil_name_check(o.admin, "administrator name", &err))
		return cli_fail(&err);
	if (o.token_file && veil_fs_exists(o.token_file)) {
		veil_err_set(&err, VEIL_E_EXISTS, "%s exists; the token is written only to a new file",
		             o.token_file);
		return cli_fail(&err);
	}

	if (veil_fs_exists(o.dir) && !veil_fs_is_dir(o.dir)) {
		veil_err_set(&err, VEIL_E_EXISTS, "%s exists and is not a folder", o.dir);
		return cli_fail(&err);
	}
	if (veil_fs_is_dir(o.dir))
		remove_leftovers(o.dir);
	if (veil_fs_exists(o.dir) && !dir_empty(o.dir)) {
		char cfg[4096];
		snprintf(cfg, sizeof cfg, "%s/%s", o.dir, CLI_WS_CONFIG);
		veil_err_set(&err, VEIL_E_EXISTS, "%s is %s", o.dir,
		             veil_fs_exists(cfg) ? "already a veil workspace" : "not empty");
		veil_err_hint(&err, "choose a new or empty folder");
		return cli_fail(&err);
	}
	/* Build the workspace in a hidden folder and move it into place at the
	 * end, so a failed or killed init never leaves a half-made workspace at
	 * DIR: a new DIR is built beside it and renamed; an existing empty DIR
	 * (perhaps the user's current folder) is kept, the workspace is built
	 * inside it and its entries moved up, veil.yaml last, since veil.yaml is
	 * what makes a folder a workspace. */
	char real[4096], tmp[4400];
	if (absolute(o.dir, real, sizeof real, &err))
		return cli_fail(&err);
	bool exists = veil_fs_exists(real);
	if (exists) {
		snprintf(tmp, sizeof tmp, "%s/" BUILD_PREFIX "%d-XXXXXX", real, (int)getpid());
	} else {
		char *slash = strrchr(real, '/');
		*slash = '\0';
		remove_leftovers(*real ? real : "/");
		snprintf(tmp, sizeof tmp, "%s/" BUILD_PREFIX "%d-XXXXXX", real, (int)getpid());
		*slash = '/';
	}
	/* mkdtemp: a fresh folder, never one someone else prepared. */
	if (!mkdtemp(tmp)) {
		veil_err_errno(&err, VEIL_E_IO, errno, "cannot create a folder to build the workspace in");
		return cli_fail(&err);
	}
	o.final = real;
	o.dir = tmp;
	char pub_hex[2 * VEIL_ED25519_PUB_LEN + 1];
	char *token = veil_secure_alloc(VEIL_TOKEN_LEN + 1);
	veil_status st = token ? create(g, &o, pub_hex, token, &err)
	                       : veil_err_set(&err, VEIL_E_NOMEM, "cannot allocate secure memory");
	/* The token file first: a workspace whose only token was lost could
	 * never be used. */
	bool wrote = false;
	if (!st && o.token_file)
		wrote = !(st = veil_fs_write_new(o.token_file, token, strlen(token), 0600, &err));
	if (!st)
		st = exists ? move_entries(tmp, real, &err) : move_into_place(tmp, real, &err);
	if (st) {
		if (wrote)
			unlink(o.token_file);
		veil_secure_free(token, VEIL_TOKEN_LEN + 1);
		cli_remove_tree(tmp);
		return cli_fail(&err);
	}
	cli_info("Initialised an empty veil workspace in %s (region %s)", real, o.region);
	cli_info("Audit log public key: %s", pub_hex);
	cli_info("  (keep a copy outside the workspace: 'veil audit verify --public-key' checks against it)");
	if (o.token_file) {
		cli_info("The token of administrator %s is in %s: export VEIL_TOKEN_FILE=%s", o.admin,
		         o.token_file, o.token_file);
	} else {
		/* Only the token goes to stdout, so TOKEN=$(veil init ...) works. */
		printf("%s\n", token);
		fflush(stdout);
		cli_info("Above: the API token of administrator %s, shown only this once. Keep it secret",
		         o.admin);
		cli_info("  and export it as VEIL_TOKEN (or use --token-file FILE next time).");
	}
	veil_secure_free(token, VEIL_TOKEN_LEN + 1);
	cli_info("Next: veil --workspace %s data upload FILE --name NAME --owner OWNER", real);
	return 0;
}
