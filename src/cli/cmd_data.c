/*
 * veil data upload|download|list|inspect.
 *
 * Upload encrypts on this machine while streaming: the plaintext is read
 * once, hashed (for the catalog) and sealed chunk by chunk into the object
 * store, so memory stays constant whatever the file size and no plaintext
 * touches the workspace. Download verifies every chunk, the object's
 * address and the plaintext hash before the output file appears.
 */
#include "cmds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const classes[] = {"public", "internal", "confidential", "restricted"};

/* ---- a reader that hashes and reports progress as bytes pass ---- */
typedef struct tap {
	int fd;
	veil_hash_ctx *hash;
	cli_progress progress;
	uint64_t bytes;
	/* download side: where plaintext goes */
	veil_atomic_file *out;
	int out_fd;
} tap;

static veil_status tap_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	tap *t = ctx;
	veil_status st = veil_fd_read(&t->fd, buf, n, got, err);
	if (st)
		return veil_err_wrap(err, "reading the input file");
	if (*got && (st = veil_hash_update(t->hash, buf, *got, err)))
		return st;
	t->bytes += *got;
	cli_progress_add(&t->progress, *got);
	return VEIL_OK;
}

static veil_status tap_write(void *ctx, const uint8_t *buf, size_t n, veil_err *err)
{
	tap *t = ctx;
	veil_status st = veil_hash_update(t->hash, buf, n, err);
	if (st)
		return st;
	st = t->out ? veil_atomic_write(t->out, buf, n, err)
	            : veil_fs_write_all(t->out_fd, buf, n, "output", err);
	t->bytes += n;
	cli_progress_add(&t->progress, n);
	return st;
}

/* ---- argument checks ---- */
static veil_status check_class(const char *c, veil_err *err)
{
	for (size_t i = 0; i < 4; i++)
		if (strcmp(c, classes[i]) == 0)
			return VEIL_OK;
	veil_err_set(err, VEIL_E_INVALID, "unknown classification '%.32s'", c);
	veil_err_hint(err, "use public, internal, confidential or restricted");
	return VEIL_E_INVALID;
}

static veil_status parse_tag(const char *s, veil_tag *t, veil_err *err)
{
	const char *eq = strchr(s, '=');
	if (!eq || eq == s) {
		veil_err_set(err, VEIL_E_INVALID, "tag '%.64s' is not KEY=VALUE", s);
		veil_err_hint(err, "write tags as --tag source=ehr");
		return VEIL_E_INVALID;
	}
	size_t klen = (size_t)(eq - s);
	if (klen >= sizeof t->key)
		return veil_err_set(err, VEIL_E_INVALID, "tag key is longer than %zu characters",
		                    sizeof t->key - 1);
	memcpy(t->key, s, klen);
	t->key[klen] = '\0';
	veil_status st = veil_name_check(t->key, "tag key", err);
	if (st)
		return st;
	if (veil_fmt(t->value, sizeof t->value, NULL, "%s", eq + 1))
		return veil_err_set(err, VEIL_E_INVALID, "tag value of '%s' is longer than %zu characters",
		                    t->key, sizeof t->value - 1);
	for (const char *p = t->value; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return veil_err_set(err, VEIL_E_INVALID, "tag value of '%s' has a control character",
			                    t->key);
	return VEIL_OK;
}

static json_t *version_json(const veil_dataset_version *v)
{
	char created[VEIL_TIME_STR_MAX];
	veil_time_format(v->created, created);
	json_t *tags = json_array();
	for (size_t i = 0; i < v->ntags; i++)
		json_array_append_new(
		        tags, json_pack("{s:s, s:s}", "key", v->tags[i].key, "value", v->tags[i].value));
	return json_pack("{s:s, s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:o, s:s, s:s}",
	                 "name", v->name, "version", (json_int_t)v->version, "owner", v->owner,
	                 "classification", v->classification, "size", (json_int_t)v->size, "sha256",
	                 v->sha256, "object_id", v->object_id, "dek_id", v->dek_id, "kek", v->kek,
	                 "chunk_size", (json_int_t)v->chunk_size, "created", created, "created_by",
	                 v->created_by, "state", v->state, "tags", tags, "compartment", v->compartment,
	                 "region", v->region);
}

/* ---- upload ---- */
typedef struct upload_args {
	const char *file, *name, *owner, *classification, *compartment;
	veil_tag tags[VEIL_CATALOG_TAGS_MAX];
	size_t ntags;
	bool json;
} upload_args;

/* The owner's key: using it needs `use keys`; making it on first upload
 * needs `manage keys` in the dataset's compartment, and binds it to this
 * workspace's region. */
static veil_status ensure_kek(cli_ws *ws, const char *owner, const char *compartment, veil_err *err)
{
	cli_resource r;
	veil_status st = cli_resource_find(ws, "keys", owner, VEIL_VERB_USE, &r, err);
	bool found = !st && r.found;
	char key_compartment[VEIL_CATALOG_NAME_MAX];
	snprintf(key_compartment, sizeof key_compartment, "%s", found ? r.compartment : "");
	if (found)
		st = cli_authorize(ws, &r.t, err);
	if (!st)
		cli_resource_free(&r);
	if (st)
		return st;
	if (found) {
		/* A key from an unrelated compartment (made there by whoever
		 * manages keys in it) must not protect this dataset: it has to
		 * live where the dataset does, or above. */
		char path[VEIL_CATALOG_COMPARTMENT_DEPTH][VEIL_CATALOG_NAME_MAX];
		size_t n = 0;
		if ((st = veil_catalog_compartment_path(ws->catalog, compartment, path, &n, err)))
			return st;
		for (size_t i = 0; i < n; i++)
			if (strcmp(path[i], key_compartment) == 0)
				return VEIL_OK;
		veil_err_set(err, VEIL_E_INVALID,
		             "key %s lives in compartment %s, which does not contain compartment %s where "
		             "the dataset "
		             "lives",
		             owner, key_compartment, compartment);
		veil_err_hint(err, "upload with an owner whose key lives in %s or above it", compartment);
		cli_audit_refusal(ws, "data.upload", owner, err);
		return VEIL_E_INVALID;
	}
	cli_target t = {.verb = VEIL_VERB_MANAGE,
	                .type = "keys",
	                .name = owner,
	                .compartment = compartment,
	                .owner = owner,
	                .region = ws->request_region};
	if ((st = cli_authorize(ws, &t, err)))
		return st;
	st = cli_key_create(ws, owner, compartment, "first upload", err);
	/* A concurrent upload for the same new owner made (and audited) it. */
	if (st == VEIL_E_EXISTS) {
		veil_err_clear(err);
		return VEIL_OK;
	}
	return st;
}

/* Encrypts the file into the store. On success *v has size, sha256,
 * object_id, dek_id, kek and chunk_size filled in. */
static veil_status seal_into_store(cli_global *g, cli_ws *ws, int fd, uint64_t total, veil_dataset_version *v,
                                   veil_err *err)
{
	uint8_t *dek = veil_secure_alloc(VEIL_KMS_DEK_LEN);
	if (!dek)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	veil_store_writer *w = NULL;
	tap t = {.fd = fd};
	char dek_id[VEIL_DEK_ID_MAX];
	veil_status st = veil_kms_dek_new(ws->kms, v->kek, ws->request_region, dek_id, dek, err);
	if (st)
		goto out;
	if ((st = veil_fmt(v->dek_id, sizeof v->dek_id, err, "%s", dek_id)) ||
	    (st = veil_hash_init(&t.hash, VEIL_HASH_SHA256, err)) ||
	    (st = veil_store_put_begin(ws->store, &w, err)))
		goto out;
	cli_progress_start(&t.progress, g, "encrypting", total);
	veil_obj_opts opts = {.chunk_size = ws->cfg.chunk_size, .threads = ws->cfg.threads};
	veil_obj_stats stats;
	st = veil_obj_seal(dek, dek_id, &opts, tap_read, &t, veil_store_put_write, w, &stats, err);
	cli_progress_end(&t.progress);
	if (st)
		goto out;
	uint8_t digest[VEIL_SHA256_LEN];
	st = veil_hash_final(t.hash, digest, err);
	t.hash = NULL;
	if (st)
		goto out;
	st = veil_store_put_commit(w, v->object_id, err);
	w = NULL; /* commit frees the writer whether or not it succeeds */
	if (st)
		goto out;
	veil_hex_encode(digest, sizeof digest, v->sha256);
	v->size = t.bytes;
	v->chunk_size = opts.chunk_size ? opts.chunk_size : VEIL_OBJ_CHUNK_DEFAULT;
out:
	veil_secure_free(dek, VEIL_KMS_DEK_LEN);
	if (t.hash)
		veil_hash_free(t.hash);
	if (w)
		veil_store_put_abort(w);
	if (st && v->dek_id[0]) {
		/* The DEK protects nothing now; shred it rather than leave it. */
		veil_err e2;
		if (veil_kms_dek_destroy(ws->kms, v->dek_id, &e2))
			veil_log(VEIL_LOG_WARN, "upload.cleanup", "cannot destroy data key %s: %s", v->dek_id,
			         e2.msg);
		v->dek_id[0] = '\0';
	}
	return st;
}

/* Records the version so that no catalog row ever lacks its audit event:
 * inside the catalog transaction (which fixes the version number), the
 * event is appended and committed to the log first, then the catalog
 * commits. A crash between the two leaves an event naming a version the
 * catalog does not have, which is harmless (the object and key it names
 * are kept by gc, see cmd_gc.c); if the catalog cannot commit, a "failed"
 * event says so. On return *kept says whether a version now refers to the
 * object and its key; when it is false the caller must remove both. */
static veil_status record(cli_ws *ws, veil_dataset_version *v, bool *kept, veil_err *err)
{
	*kept = false;
	veil_status st = veil_catalog_begin(ws->catalog, err);
	if (st)
		return st;
	char node[VEIL_CATALOG_REF_MAX], file[80];
	if ((st = veil_catalog_dataset_add_version(ws->catalog, v, err)) ||
	    (st = veil_fmt(node, sizeof node, err, "%s@%u", v->name, v->version)) ||
	    (st = veil_fmt(file, sizeof file, err, "sha256:%s", v->sha256)) ||
	    (st = veil_catalog_lineage_add(ws->catalog, "dataset_version", node, "uploaded_from", "file",
	                                   file, NULL, err))) {
		veil_catalog_rollback(ws->catalog);
		return st;
	}
	json_t *detail = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "size", (json_int_t)v->size, "sha256",
	                           v->sha256, "object_id", v->object_id, "dek_id", v->dek_id, "kek", v->kek,
	                           "classification", v->classification);
	if ((st = cli_audit(ws, "data.upload", node, "ok", json_incref(detail), err))) {
		json_decref(detail);
		veil_catalog_rollback(ws->catalog);
		return st;
	}
	if ((st = veil_catalog_commit(ws->catalog, err))) {
		veil_err e2;
		json_object_set_new(detail, "result", json_string("catalog commit failed"));
		if (cli_audit(ws, "data.upload", node, "failed", json_incref(detail), &e2))
			veil_log(VEIL_LOG_ERROR, "upload.cleanup", "cannot audit the undone upload of %s: %s",
			         node, e2.msg);
		json_decref(detail);
		return st;
	}
	json_decref(detail);
	*kept = true;
	return VEIL_OK;
}

static int upload(cli_global *g, const upload_args *a)
{
	veil_err err;
	veil_err_clear(&err);
	veil_dataset_version v;
	memset(&v, 0, sizeof v);
	if (veil_name_check(a->name, "dataset name", &err) || veil_name_check(a->owner, "owner", &err) ||
	    (a->classification && check_class(a->classification, &err)))
		return cli_fail(&err);

	int fd = open(a->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		veil_err_errno(&err, VEIL_E_IO, errno, "cannot open %s", a->file);
		return cli_fail(&err);
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		veil_err_set(&err, VEIL_E_INVALID, "%s is not a regular file", a->file);
		return cli_fail(&err);
	}
	cli_ws ws;
	if (cli_ws_open(g, WS_CATALOG | WS_STORE | WS_AUDIT, &ws, &err)) {
		close(fd);
		return cli_fail(&err);
	}
	/* Authorized as what the dataset is (an existing one) or will be (a new
	 * one), before anything is encrypted. A dataset keeps its owner. */
	cli_resource r;
	bool is_new = false;
	veil_status st = cli_resource_find(&ws, "datasets", a->name, VEIL_VERB_MANAGE, &r, &err);
	if (!st && !r.found) {
		is_new = true;
		r.t.compartment = a->compartment ? a->compartment : VEIL_ACCESS_TENANCY;
		r.t.owner = a->owner;
		r.t.classification = a->classification ? a->classification : "confidential";
		r.t.region = ws.request_region;
	}
	veil_access_tag tags[VEIL_CATALOG_TAGS_MAX];
	if (!st && is_new) {
		for (size_t i = 0; i < a->ntags; i++)
			tags[i] = (veil_access_tag){.key = a->tags[i].key, .value = a->tags[i].value};
		r.t.tags = tags;
		r.t.ntags = a->ntags;
	}
	if (!st)
		st = cli_authorize(&ws, &r.t, &err);
	if (!st && !is_new && strcmp(r.dataset.owner, a->owner) != 0) {
		veil_err_set(&err, VEIL_E_INVALID, "dataset %s is owned by %s, not %s", a->name,
		             r.dataset.owner, a->owner);
		veil_err_hint(&err, "upload under a new dataset name, or as --owner %s", r.dataset.owner);
		st = VEIL_E_INVALID;
	}
	if (!st && !is_new && a->compartment && strcmp(r.dataset.compartment, a->compartment) != 0) {
		veil_err_set(&err, VEIL_E_INVALID, "dataset %s lives in compartment %s, not %s", a->name,
		             r.dataset.compartment, a->compartment);
		st = veil_err_hint(&err, "leave out --compartment to add a version where the dataset is");
	}
	if (!st &&
	    (veil_fmt(v.name, sizeof v.name, &err, "%s", a->name) ||
	     veil_fmt(v.owner, sizeof v.owner, &err, "%s", a->owner) ||
	     veil_fmt(v.kek, sizeof v.kek, &err, "%s", a->owner) ||
	     veil_fmt(v.created_by, sizeof v.created_by, &err, "%s", ws.principal.name) ||
	     veil_fmt(v.compartment, sizeof v.compartment, &err, "%s", is_new ? r.t.compartment : "") ||
	     veil_fmt(v.region, sizeof v.region, &err, "%s",
	              is_new && ws.request_region ? ws.request_region : "")))
		st = err.code;
	char compartment[VEIL_CATALOG_NAME_MAX];
	snprintf(compartment, sizeof compartment, "%s",
	         r.t.compartment ? r.t.compartment : VEIL_ACCESS_TENANCY);
	cli_resource_free(&r);
	/* A new dataset is confidential unless the owner says otherwise; an
	 * existing one keeps its class (the catalog refuses a different one). */
	if (!st && (a->classification || is_new))
		st = veil_fmt(v.classification, sizeof v.classification, &err, "%s",
		              a->classification ? a->classification : "confidential");
	v.tags = (veil_tag *)a->tags;
	v.ntags = a->ntags;
	if (!st)
		st = ensure_kek(&ws, a->owner, compartment, &err);
	if (!st)
		st = seal_into_store(g, &ws, fd, (uint64_t)sb.st_size, &v, &err);
	close(fd);
	bool kept = false;
	if (!st && (st = record(&ws, &v, &kept, &err)) && !kept) {
		/* Not recorded: the object and its key are of no use to anyone. */
		veil_err e2;
		if (veil_store_remove(ws.store, v.object_id, &e2))
			veil_log(VEIL_LOG_WARN, "upload.cleanup", "cannot remove object %s: %s", v.object_id,
			         e2.msg);
		if (veil_kms_dek_destroy(ws.kms, v.dek_id, &e2))
			veil_log(VEIL_LOG_WARN, "upload.cleanup", "cannot destroy data key %s: %s", v.dek_id,
			         e2.msg);
	}
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	if (a->json)
		return cli_print_json(version_json(&v)); /* v.tags are a->tags, still valid */
	char size[32];
	cli_human_size(v.size, size);
	cli_info("Uploaded %s as %s@%u (%s, encrypted under key %s)", a->file, v.name, v.version, size,
	         v.kek);
	return 0;
}

int cmd_data_upload(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("data upload");
	static const struct option longopts[] = {
	        {"name", required_argument, NULL, 'n'},
	        {"owner", required_argument, NULL, 'o'},
	        {"classification", required_argument, NULL, 'c'},
	        {"tag", required_argument, NULL, 't'},
	        {"compartment", required_argument, NULL, 'C'},
	        {"json", no_argument, NULL, 'j'},
	        CLI_COMMON_OPTS,
	        {NULL, 0, NULL, 0},
	};
	static upload_args a;
	memset(&a, 0, sizeof a);
	veil_err err;
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "n:o:c:t:", longopts, &rc)) != -1) {
		switch (opt) {
		case 'n':
			a.name = optarg;
			break;
		case 'o':
			a.owner = optarg;
			break;
		case 'c':
			a.classification = optarg;
			break;
		case 'C':
			a.compartment = optarg;
			break;
		case 'j':
			a.json = true;
			break;
		case 't':
			if (a.ntags == VEIL_CATALOG_TAGS_MAX)
				return cli_usage_error(cmd, "at most %d tags", VEIL_CATALOG_TAGS_MAX);
			if (parse_tag(optarg, &a.tags[a.ntags], &err))
				return cli_fail(&err);
			for (size_t i = 0; i < a.ntags; i++)
				if (strcmp(a.tags[i].key, a.tags[a.ntags].key) == 0)
					return cli_usage_error(cmd, "tag '%s' given twice", a.tags[i].key);
			a.ntags++;
			break;
		default:
			return cli_usage_error(cmd, "unexpected option");
		}
	}
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage_error(cmd, argc - optind ? "give exactly one FILE"
		                                          : "a FILE to upload is required");
	a.file = argv[optind];
	if (!a.name)
		return cli_usage_error(cmd, "--name NAME is required");
	if (!a.owner)
		return cli_usage_error(cmd, "--owner OWNER is required");
	return upload(g, &a);
}

/* ---- download ---- */
static veil_status decrypt(cli_global *g, cli_ws *ws, const veil_dataset_version *v, tap *t, veil_err *err)
{
	uint8_t *dek = veil_secure_alloc(VEIL_KMS_DEK_LEN);
	if (!dek)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	veil_store_reader *r = NULL;
	veil_obj_header hdr;
	veil_status st = cli_release_dek(ws, v->dek_id, dek, err);
	if (st || (st = veil_store_get_open(ws->store, v->object_id, &r, err)))
		goto out;
	if ((st = veil_obj_read_header(veil_store_get_read, r, &hdr, err))) {
		/* The catalog recorded a valid object here: a header that no longer
		 * parses (bad magic, unknown suite) was damaged, not written by a
		 * newer veil. */
		if (st == VEIL_E_INVALID || st == VEIL_E_UNSUPPORTED) {
			veil_err_wrap(err, "object %s is damaged", v->object_id);
			err->code = st = VEIL_E_CORRUPT;
		}
		goto out;
	}
	if (strcmp(hdr.key_id, v->dek_id) != 0) {
		/* The catalog and the object disagree: the object was swapped. */
		st = veil_err_set(err, VEIL_E_CORRUPT, "object %s names data key %s, but the catalog says %s",
		                  v->object_id, hdr.key_id, v->dek_id);
		goto out;
	}
	cli_progress_start(&t->progress, g, "decrypting", v->size);
	veil_obj_opts opts = {.threads = ws->cfg.threads};
	veil_obj_stats stats;
	st = veil_obj_open(dek, &hdr, &opts, veil_store_get_read, r, tap_write, t, &stats, err);
	cli_progress_end(&t->progress);
	uint8_t digest[VEIL_SHA256_LEN];
	char hex[VEIL_CATALOG_HEX_MAX];
	if (!st) {
		st = veil_hash_final(t->hash, digest, err);
		t->hash = NULL; /* final frees it, also on error */
	}
	if (!st) {
		veil_hex_encode(digest, sizeof digest, hex);
		if (t->bytes != v->size || strcmp(hex, v->sha256) != 0)
			st = veil_err_set(err, VEIL_E_CORRUPT,
			                  "the decrypted data does not match the catalog's size and SHA-256");
	}
out:
	if (st == VEIL_E_CORRUPT)
		veil_err_hint(err, "the stored object was damaged or tampered with; restore it from a backup "
		                   "(veil restore) and report it to your security officer");
	veil_secure_free(dek, VEIL_KMS_DEK_LEN);
	veil_store_get_close(r);
	return st;
}

/* The catalog row names a data key; that key must be wrapped under the
 * dataset owner's key, or an edited catalog could point one owner's
 * dataset at another owner's object and key. */
veil_status cli_check_dataset_key(cli_ws *ws, const veil_dataset_version *v, veil_dek_info *di, veil_err *err)
{
	veil_status st = veil_kms_dek_info(ws->kms, v->dek_id, di, err);
	if (st)
		return st;
	if (strcmp(di->kek_name, v->kek) != 0 || strcmp(v->kek, v->owner) != 0) {
		veil_err_set(err, VEIL_E_CORRUPT,
		             "the catalog entry of %s@%u names a data key of '%s', but the dataset belongs "
		             "to '%s'",
		             v->name, v->version, di->kek_name, v->owner);
		veil_err_hint(err, "the catalog was modified outside veil; restore it from a backup");
		return VEIL_E_CORRUPT;
	}
	return VEIL_OK;
}

/* Decrypts v to `output` (NULL: standard output). The key use is audited
 * before any plaintext is released: for a file, after every byte verified
 * and before the file gets its name; for standard output, before streaming
 * starts. A failure is audited too. */
static veil_status download(cli_global *g, cli_ws *ws, const veil_dataset_version *v, const char *output,
                            uint64_t *bytes, veil_err *err)
{
	char ref[VEIL_CATALOG_REF_MAX];
	snprintf(ref, sizeof ref, "%s@%u", v->name, v->version);
	veil_dek_info di = {0};
	veil_atomic_file out = {.fd = -1};
	tap t = {.out_fd = STDOUT_FILENO};
	veil_status st = cli_check_dataset_key(ws, v, &di, err);
	json_t *detail =
	        json_pack("{s:s, s:s, s:I, s:s}", "dek_id", v->dek_id, "kek", di.kek_name, "kek_version",
	                  (json_int_t)di.kek_version, "to", output ? "file" : "stdout");
	if (!st && !output) {
		/* Streaming cannot wait for the end before it is recorded, but the
		 * key manager's own refusals (a key bound to another region) must
		 * come before a record that says plaintext was released. */
		uint8_t *probe = veil_secure_alloc(VEIL_KMS_DEK_LEN);
		st = probe ? cli_release_dek(ws, v->dek_id, probe, err)
		           : veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
		veil_secure_free(probe, VEIL_KMS_DEK_LEN);
		if (!st) {
			st = cli_audit(ws, "data.download", ref, "ok", json_incref(detail), err);
		}
	}
	if (!st && output) {
		st = veil_atomic_open(&out, output, 0600, err);
		t.out = st ? NULL : &out;
	}
	if (!st && (st = veil_hash_init(&t.hash, VEIL_HASH_SHA256, err)) == VEIL_OK)
		st = decrypt(g, ws, v, &t, err);
	if (t.hash)
		veil_hash_free(t.hash);
	if (!st && t.out) {
		st = cli_audit(ws, "data.download", ref, "ok", json_incref(detail), err);

		if (!st)
			st = veil_atomic_commit(&out, err);
		else
			veil_atomic_abort(&out);
	} else if (t.out) {
		veil_atomic_abort(&out);
	}
	/* Also after an "ok" for standard output: what was streamed stopped. */
	if (st) {
		veil_err aerr;
		json_object_set_new(detail, "result", json_string(veil_status_str(st)));
		if (cli_audit(ws, "data.download", ref, "failed", json_incref(detail), &aerr))
			veil_log(VEIL_LOG_ERROR, "download.audit", "cannot audit a failed download: %s",
			         aerr.msg);
	}
	json_decref(detail);
	*bytes = t.bytes;
	return st;
}

int cmd_data_download(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("data download");
	static const struct option longopts[] = {
	        {"output", required_argument, NULL, 'o'},
	        {"force", no_argument, NULL, 'f'},
	        CLI_COMMON_OPTS,
	        {NULL, 0, NULL, 0},
	};
	const char *output = NULL;
	bool force = false;
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "o:f", longopts, &rc)) != -1) {
		if (opt == 'o')
			output = optarg;
		else if (opt == 'f')
			force = true;
		else
			return cli_usage_error(cmd, "unexpected option");
	}
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage_error(cmd, "give exactly one NAME[@VERSION]");
	if (!output)
		return cli_usage_error(cmd, "-o FILE is required (use -o - for standard output)");
	veil_err err;
	veil_err_clear(&err);
	char name[VEIL_CATALOG_NAME_MAX];
	uint32_t version;
	if (veil_catalog_parse_ref(argv[optind], name, &version, &err))
		return cli_fail(&err);
	(void)version;
	bool to_stdout = strcmp(output, "-") == 0;
	if (!to_stdout && !force && veil_fs_exists(output)) {
		veil_err_set(&err, VEIL_E_EXISTS, "%s exists", output);
		veil_err_hint(&err, "choose another file, or add --force to replace it");
		return cli_fail(&err);
	}
	cli_ws ws;
	if (cli_ws_open(g, WS_CATALOG | WS_STORE | WS_AUDIT, &ws, &err))
		return cli_fail(&err);
	/* Plaintext leaves veil here: manage on the dataset, use of its key. */
	cli_resource r;
	veil_status st = cli_authorize_dataset_and_key(&ws, argv[optind], VEIL_VERB_MANAGE, &r, &err);
	if (st) {
		cli_ws_close(&ws);
		return cli_fail(&err);
	}
	uint64_t bytes = 0;
	st = download(g, &ws, &r.dataset, to_stdout ? NULL : output, &bytes, &err);
	cli_resource_free(&r);
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	if (!to_stdout)
		cli_info("Wrote %s (%llu bytes, verified)", output, (unsigned long long)bytes);
	return 0;
}

/* ---- list and inspect ---- */
static veil_status list_row(void *ctx, const veil_dataset_version *v, veil_err *err)
{
	cli_list *c = ctx;
	/* The listing has no tags (see veil_dataset_fn): a condition on a tag
	 * is unknown here, so such an Allow does not show the dataset. */
	cli_target t = {.verb = VEIL_VERB_INSPECT,
	                .type = "datasets",
	                .name = v->name,
	                .compartment = v->compartment,
	                .classification = v->classification,
	                .owner = v->owner,
	                .region = v->region[0] ? v->region : NULL};
	bool ok;
	veil_status st = cli_authorize_quiet(c->ws, &t, &ok, err);
	if (st || !ok)
		return st;
	return cli_list_add(c, version_json(v), err);
}

static veil_status datasets(cli_ws *ws, cli_list *c, veil_err *err)
{
	return veil_catalog_dataset_list(ws->catalog, list_row, c, err);
}

static void dataset_table(json_t *arr)
{
	printf("%-24s %7s %-16s %-13s %-14s %10s  %s\n", "NAME", "VERSION", "OWNER", "CLASS", "COMPARTMENT",
	       "SIZE", "CREATED");
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
	{
		char size[32];
		cli_human_size((uint64_t)json_integer_value(json_object_get(o, "size")), size);
		printf("%-24s %7lld %-16s %-13s %-14s %10s  %s%s\n", cli_json_str(o, "name"),
		       (long long)json_integer_value(json_object_get(o, "version")), cli_json_str(o, "owner"),
		       cli_json_str(o, "classification"), cli_json_str(o, "compartment"), size,
		       cli_json_str(o, "created"),
		       strcmp(cli_json_str(o, "state"), "live") ? "  (deleted)" : "");
	}
}

int cmd_data_list(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("data list");
	bool json;
	int rc = cli_parse_json_only(g, cmd, argc, argv, &json);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return cli_run_list(g, json, datasets, dataset_table, NULL);
}

static veil_status version_row(void *ctx, const veil_dataset_version *v, veil_err *err)
{
	json_t *o = json_pack("{s:I, s:I, s:s, s:s}", "version", (json_int_t)v->version, "size",
	                      (json_int_t)v->size, "state", v->state, "sha256", v->sha256);
	char created[VEIL_TIME_STR_MAX];
	veil_time_format(v->created, created);
	json_object_set_new(o, "created", json_string(created));
	return json_array_append_new(ctx, o) ? veil_err_set(err, VEIL_E_NOMEM, "out of memory") : VEIL_OK;
}

static veil_status edge_row(void *ctx, const veil_lineage_edge *e, veil_err *err)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "from_kind", e->from_kind, "from", e->from_ref,
	                      "relation", e->relation, "to_kind", e->to_kind, "to", e->to_ref);
	if (e->has_measurement)
		json_object_set_new(o, "measurement", json_string(e->measurement));
	return json_array_append_new(ctx, o) ? veil_err_set(err, VEIL_E_NOMEM, "out of memory") : VEIL_OK;
}

static void print_inspect(json_t *d)
{
	const char *keys[] = {"name",        "version", "state",      "owner",   "classification",
	                      "compartment", "region",  "size",       "sha256",  "object_id",
	                      "dek_id",      "kek",     "chunk_size", "created", "created_by"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		json_t *v = json_object_get(d, keys[i]);
		if (json_is_string(v))
			printf("%-15s %s\n", keys[i], json_string_value(v));
		else if (json_is_integer(v))
			printf("%-15s %lld\n", keys[i], (long long)json_integer_value(v));
	}
	size_t i;
	json_t *x;
	printf("tags:\n");
	json_array_foreach(json_object_get(d, "tags"), i, x)
	        printf("  %s=%s\n", json_string_value(json_object_get(x, "key")),
	               json_string_value(json_object_get(x, "value")));
	printf("versions:\n");
	json_array_foreach(json_object_get(d, "versions"), i, x) printf(
	        "  @%lld  %s  %lld bytes  %s\n", (long long)json_integer_value(json_object_get(x, "version")),
	        json_string_value(json_object_get(x, "created")),
	        (long long)json_integer_value(json_object_get(x, "size")),
	        json_string_value(json_object_get(x, "state")));
	printf("lineage:\n");
	json_array_foreach(json_object_get(d, "lineage"), i, x)
	        printf("  %s:%s -[%s]-> %s:%s\n", json_string_value(json_object_get(x, "from_kind")),
	               json_string_value(json_object_get(x, "from")),
	               json_string_value(json_object_get(x, "relation")),
	               json_string_value(json_object_get(x, "to_kind")),
	               json_string_value(json_object_get(x, "to")));
}

int cmd_data_inspect(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("data inspect");
	bool json;
	int rc = cli_parse_json_only(g, cmd, argc, argv, &json);
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage_error(cmd, "give exactly one NAME[@VERSION]");
	veil_err err;
	veil_err_clear(&err);
	char name[VEIL_CATALOG_NAME_MAX], ref[VEIL_CATALOG_REF_MAX];
	uint32_t version;
	if (veil_catalog_parse_ref(argv[optind], name, &version, &err))
		return cli_fail(&err);
	(void)version;
	cli_ws ws;
	if (cli_ws_open(g, WS_CATALOG, &ws, &err))
		return cli_fail(&err);
	cli_resource r;
	json_t *d = NULL, *versions = json_array(), *lineage = json_array();
	veil_status st = cli_authorize_resource(&ws, "datasets", argv[optind], VEIL_VERB_READ, &r, &err);
	if (!st) {
		snprintf(ref, sizeof ref, "%s@%u", r.dataset.name, r.dataset.version);
		d = version_json(&r.dataset);
		cli_resource_free(&r);
		st = veil_catalog_dataset_versions(ws.catalog, name, version_row, versions, &err);
	}
	if (!st)
		st = veil_catalog_lineage_edges(ws.catalog, "dataset_version", ref, edge_row, lineage, &err);
	cli_ws_close(&ws);
	if (st) {
		json_decref(d);
		json_decref(versions);
		json_decref(lineage);
		return cli_fail(&err);
	}
	json_object_set_new(d, "versions", versions);
	json_object_set_new(d, "lineage", lineage);
	if (json)
		return cli_print_json(d);
	print_inspect(d);
	json_decref(d);
	return 0;
}
