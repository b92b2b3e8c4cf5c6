/*
 * Inclusion and consistency proofs as self-contained JSON documents
 * (docs/formats/audit.md, "Proofs"): the log writes them relative to its
 * signed tree heads, and veil_audit_check_proof verifies one with nothing but
 * the document and the log's public key -- the head signatures first, then
 * the RFC 9162 path algorithms. The checker treats the document as hostile:
 * bounded size, strict types, exact hex lengths, no unknown kinds.
 */
#include "audit_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- writing proofs ---- */

/* The head of exactly `size` (0: the latest), or an error naming the
 * nearest sizes that have one. */
static veil_status find_head(const veil_audit *log, uint64_t size, const veil_audit_sth **out, veil_err *err)
{
	if (size == 0) {
		*out = &log->heads[log->nheads - 1];
		return VEIL_OK;
	}
	size_t lo = 0, hi = log->nheads; /* first head with size >= `size` */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (log->heads[mid].size < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < log->nheads && log->heads[lo].size == size) {
		*out = &log->heads[lo];
		return VEIL_OK;
	}
	unsigned long long below = log->heads[lo - 1].size; /* heads[0] has size 0 < size, so lo >= 1 */
	if (lo < log->nheads)
		veil_err_set(err, VEIL_E_INVALID,
		             "no signed tree head has size %llu; the nearest are %llu and %llu",
		             (unsigned long long)size, below, (unsigned long long)log->heads[lo].size);
	else
		veil_err_set(err, VEIL_E_INVALID,
		             "no signed tree head has size %llu; the latest has size %llu",
		             (unsigned long long)size, below);
	veil_err_hint(err,
	              "proofs are relative to signed heads: use a size that has one, or 0 for the latest");
	return VEIL_E_INVALID;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *hex = malloc(2 * n + 1);
	if (!hex)
		return NULL;
	veil_hex_encode(p, n, hex);
	json_t *s = json_string(hex);
	free(hex);
	return s;
}

static json_t *head_json(const veil_audit_sth *h)
{
	json_t *o = json_object();
	if (o && (json_object_set_new(o, "size", json_integer((json_int_t)h->size)) ||
	          json_object_set_new(o, "timestamp", json_integer((json_int_t)h->timestamp)) ||
	          json_object_set_new(o, "root", hex_json(h->root, sizeof h->root)) ||
	          json_object_set_new(o, "signature", hex_json(h->sig, sizeof h->sig)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *path_json(uint8_t path[VEIL_AUDIT_PATH_MAX][VEIL_AUDIT_HASH_LEN], size_t len)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < len; i++) {
		if (json_array_append_new(a, hex_json(path[i], VEIL_AUDIT_HASH_LEN))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The fields every proof has. */
static json_t *proof_start(const veil_audit *log, const char *kind, uint8_t path[][VEIL_AUDIT_HASH_LEN],
                           size_t len)
{
	json_t *o = json_object();
	if (o && (json_object_set_new(o, "format", json_string(AUDIT_PROOF_FORMAT)) ||
	          json_object_set_new(o, "kind", json_string(kind)) ||
	          json_object_set_new(o, "log_key", hex_json(log->pub, sizeof log->pub)) ||
	          json_object_set_new(o, "path", path_json(path, len)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Dumps o (consumed) into out, within VEIL_AUDIT_PROOF_MAX. */
static veil_status proof_finish(json_t *o, veil_buf *out, veil_err *err)
{
	char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
	json_decref(o);
	if (!text)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory writing an audit proof");
	size_t n = strlen(text);
	veil_status st = n > VEIL_AUDIT_PROOF_MAX
	                         ? veil_err_set(err, VEIL_E_LIMIT,
	                                        "the audit proof would be %zu bytes, over the limit", n)
	                         : veil_buf_append(out, text, n, err);
	free(text);
	return st;
}

static veil_status proof_args(veil_audit *log, veil_buf *out, veil_err *err)
{
	if (!log)
		return veil_err_set(err, VEIL_E_INVALID, "no audit log handle given");
	if (log->broken)
		return veil_err_set(err, VEIL_E_IO, "this audit log handle failed earlier; reopen the log");
	if (!out)
		return veil_err_set(err, VEIL_E_INVALID, "no buffer given for the audit proof");
	return VEIL_OK;
}

veil_status veil_audit_prove_inclusion(veil_audit *log, uint64_t index, uint64_t tree_size,
                                       veil_buf *out_json, veil_err *err)
{
	const veil_audit_sth *h;
	veil_status st = proof_args(log, out_json, err);
	if (!st)
		st = find_head(log, tree_size, &h, err);
	if (st)
		return st;
	if (index >= h->size) {
		veil_err_set(err, VEIL_E_INVALID, "event %llu is not in the tree of %llu events",
		             (unsigned long long)index, (unsigned long long)h->size);
		veil_err_hint(err, "events are numbered from 0; pick an index below the tree size");
		return VEIL_E_INVALID;
	}
	uint8_t path[VEIL_AUDIT_PATH_MAX][VEIL_AUDIT_HASH_LEN];
	size_t len = 0;
	veil_buf leaf = {0};
	json_t *o = NULL;
	st = veil_merkle_inclusion(&log->mk, (const uint8_t(*)[VEIL_AUDIT_HASH_LEN])log->hashes, h->size,
	                           index, path, &len, err);
	if (!st)
		st = audit_leaf_get(log, index, &leaf, err);
	if (!st && (!(o = proof_start(log, "inclusion", path, len)) ||
	            json_object_set_new(o, "leaf_index", json_integer((json_int_t)index)) ||
	            json_object_set_new(o, "tree_size", json_integer((json_int_t)h->size)) ||
	            json_object_set_new(o, "leaf", hex_json(leaf.data, leaf.len)) ||
	            json_object_set_new(o, "head", head_json(h)))) {
		json_decref(o);
		o = NULL;
	}
	if (!st)
		st = proof_finish(o, out_json, err);
	veil_buf_free(&leaf);
	return st;
}

veil_status veil_audit_prove_consistency(veil_audit *log, uint64_t old_size, uint64_t new_size,
                                         veil_buf *out_json, veil_err *err)
{
	const veil_audit_sth *oh, *nh;
	veil_status st = proof_args(log, out_json, err);
	if (st)
		return st;
	if (old_size == 0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "a consistency proof starts from a tree of at least 1 event");
	if ((st = find_head(log, new_size, &nh, err)) || (st = find_head(log, old_size, &oh, err)))
		return st;
	if (oh->size > nh->size)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the old tree (%llu events) is larger than the new one (%llu)",
		                    (unsigned long long)oh->size, (unsigned long long)nh->size);
	uint8_t path[VEIL_AUDIT_PATH_MAX][VEIL_AUDIT_HASH_LEN];
	size_t len = 0;
	json_t *o = NULL;
	st = veil_merkle_consistency(&log->mk, (const uint8_t(*)[VEIL_AUDIT_HASH_LEN])log->hashes, nh->size,
	                             oh->size, path, &len, err);
	if (!st && (!(o = proof_start(log, "consistency", path, len)) ||
	            json_object_set_new(o, "old_size", json_integer((json_int_t)oh->size)) ||
	            json_object_set_new(o, "new_size", json_integer((json_int_t)nh->size)) ||
	            json_object_set_new(o, "old_head", head_json(oh)) ||
	            json_object_set_new(o, "new_head", head_json(nh)))) {
		json_decref(o);
		o = NULL;
	}
	if (!st)
		st = proof_finish(o, out_json, err);
	return st;
}

/* ---- checking proofs: every field is hostile input ---- */

static veil_status bad(veil_err *err, const char *field, const char *why)
{
	return veil_err_set(err, VEIL_E_INVALID, "the audit proof's \"%s\" %s", field, why);
}

static veil_status get_u64(json_t *o, const char *key, uint64_t *out, veil_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return bad(err, key, "is missing or not a non-negative integer");
	*out = (uint64_t)json_integer_value(v);
	return VEIL_OK;
}

/* Exactly n bytes as 2n hex digits. */
static veil_status get_hex(json_t *o, const char *key, uint8_t *out, size_t n, veil_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v) || json_string_length(v) != 2 * n ||
	    veil_hex_decode(json_string_value(v), out, n, NULL))
		return bad(err, key, "is missing or not the right number of hex digits");
	return VEIL_OK;
}

static veil_status get_head(json_t *o, const char *key, veil_audit_sth *h, veil_err *err)
{
	json_t *v = json_object_get(o, key);
	uint64_t ts = 0;
	if (!json_is_object(v))
		return bad(err, key, "is missing or not an object");
	veil_status st = get_u64(v, "size", &h->size, err);
	if (!st)
		st = get_u64(v, "timestamp", &ts, err);
	if (!st)
		st = get_hex(v, "root", h->root, sizeof h->root, err);
	if (!st)
		st = get_hex(v, "signature", h->sig, sizeof h->sig, err);
	if (st) {
		veil_err_wrap(err, "in \"%s\"", key);
		return st;
	}
	h->timestamp = (int64_t)ts;
	return VEIL_OK;
}

static veil_status get_path(json_t *o, uint8_t path[VEIL_AUDIT_PATH_MAX][VEIL_AUDIT_HASH_LEN], size_t *len,
                            veil_err *err)
{
	json_t *a = json_object_get(o, "path");
	if (!json_is_array(a))
		return bad(err, "path", "is missing or not an array");
	*len = json_array_size(a);
	if (*len > VEIL_AUDIT_PATH_MAX)
		return veil_err_set(err, VEIL_E_LIMIT,
		                    "the audit proof's path has %zu hashes; at most %d are allowed", *len,
		                    VEIL_AUDIT_PATH_MAX);
	for (size_t i = 0; i < *len; i++) {
		json_t *v = json_array_get(a, i);
		if (!json_is_string(v) || json_string_length(v) != 2 * VEIL_AUDIT_HASH_LEN ||
		    veil_hex_decode(json_string_value(v), path[i], VEIL_AUDIT_HASH_LEN, NULL))
			return veil_err_set(err, VEIL_E_INVALID,
			                    "the audit proof's path entry %zu is not a hex hash", i);
	}
	return VEIL_OK;
}

/* "2026-11-22T13:49:21Z, root 1a2b3c4d..." */
static void head_words(const veil_audit_sth *h, char *out, size_t n)
{
	char t[VEIL_TIME_STR_MAX], root[2 * VEIL_AUDIT_HASH_LEN + 1];
	veil_time_format(h->timestamp, t);
	veil_hex_encode(h->root, sizeof h->root, root);
	root[16] = '\0';
	snprintf(out, n, "signed %s, root %s...", t, root);
}

/* The heads are already parsed and their signatures checked (check_heads). */
static veil_status check_inclusion(veil_merkle *mk, json_t *o, veil_audit_proof_info *info, veil_err *err)
{
	uint8_t path[VEIL_AUDIT_PATH_MAX][VEIL_AUDIT_HASH_LEN];
	size_t len = 0;
	uint64_t size = 0;
	json_t *leaf = json_object_get(o, "leaf");
	veil_status st = get_u64(o, "leaf_index", &info->leaf_index, err);
	if (!st)
		st = get_u64(o, "tree_size", &size, err);
	if (!st)
		st = get_path(o, path, &len, err);
	if (st)
		return st;
	size_t hexlen = json_is_string(leaf) ? json_string_length(leaf) : 0;
	if (hexlen == 0 || hexlen % 2 || hexlen > 2 * VEIL_AUDIT_LEAF_MAX)
		return bad(err, "leaf", "is missing, empty, over 64 KiB or not hex");
	if (size != info->head.size)
		return veil_err_set(err, VEIL_E_CORRUPT,
		                    "the proof's tree_size differs from its head's size");
	uint8_t *bytes = malloc(hexlen / 2 + 1);
	if (!bytes)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory checking an audit proof");
	audit_decoded d = {0};
	if (veil_hex_decode(json_string_value(leaf), bytes, hexlen / 2, NULL))
		st = bad(err, "leaf", "is not hex");
	if (!st)
		st = veil_merkle_leaf(mk, bytes, hexlen / 2, info->leaf_hash, err);
	if (!st)
		st = veil_merkle_verify_inclusion(mk, info->leaf_index, size, info->leaf_hash,
		                                  (const uint8_t(*)[VEIL_AUDIT_HASH_LEN])path, len,
		                                  info->head.root, err);
	/* Only a proven leaf is decoded, and it must be an event. */
	if (!st && (st = audit_event_decode(bytes, hexlen / 2, &d, err)))
		veil_err_wrap(err, "the proven leaf is not an audit event");
	if (!st) {
		char t[VEIL_TIME_STR_MAX], hw[128];
		veil_time_format(d.ev.time, t);
		head_words(&info->head, hw, sizeof hw);
		snprintf(info->description, sizeof info->description,
		         "event %llu (%s %.64s %.64s %.64s: %s) is in the log's tree of %llu events, head %s",
		         (unsigned long long)info->leaf_index, t, d.ev.actor, d.ev.action, d.ev.resource,
		         d.ev.outcome, (unsigned long long)size, hw);
	}
	audit_decoded_free(&d);
	free(bytes);
	return st;
}

static veil_status check_consistency(veil_merkle *mk, json_t *o, veil_audit_proof_info *info, veil_err *err)
{
	uint8_t path[VEIL_AUDIT_PATH_MAX][VEIL_AUDIT_HASH_LEN];
	size_t len = 0;
	uint64_t old_size = 0, new_size = 0;
	veil_status st = get_u64(o, "old_size", &old_size, err);
	if (!st)
		st = get_u64(o, "new_size", &new_size, err);
	if (!st)
		st = get_path(o, path, &len, err);
	if (st)
		return st;
	if (old_size != info->old_head.size || new_size != info->head.size)
		return veil_err_set(err, VEIL_E_CORRUPT, "the proof's sizes differ from its heads' sizes");
	st = veil_merkle_verify_consistency(mk, old_size, new_size, info->old_head.root, info->head.root,
	                                    (const uint8_t(*)[VEIL_AUDIT_HASH_LEN])path, len, err);
	if (!st) {
		char ow[128], nw[128];
		head_words(&info->old_head, ow, sizeof ow);
		head_words(&info->head, nw, sizeof nw);
		snprintf(info->description, sizeof info->description,
		         "the log's tree of %llu events (head %s) extends its tree of %llu events (head %s)",
		         (unsigned long long)new_size, nw, (unsigned long long)old_size, ow);
	}
	return st;
}

/* Signatures before paths: an unsigned head proves nothing. */
static veil_status check_heads(const uint8_t *pub, json_t *o, bool incl, veil_audit_proof_info *info,
                               veil_err *err)
{
	const char *names[2] = {incl ? "head" : "new_head", "old_head"};
	veil_audit_sth *heads[2] = {&info->head, &info->old_head};
	for (int i = 0; i < (incl ? 1 : 2); i++) {
		veil_status st = get_head(o, names[i], heads[i], err);
		if (!st)
			st = veil_audit_sth_verify(pub, heads[i], err);
		if (st) {
			if (st == VEIL_E_AUTH)
				veil_err_hint(err, "the proof was not signed by this log, or was altered; "
				                   "check the key");
			return st;
		}
	}
	return VEIL_OK;
}

static veil_status check_doc(const uint8_t *pub, json_t *o, veil_audit_proof_info *info, veil_err *err)
{
	json_t *fmt = json_object_get(o, "format"), *kind = json_object_get(o, "kind");
	json_t *key = json_object_get(o, "log_key");
	uint8_t claimed[VEIL_ED25519_PUB_LEN];
	if (!json_is_object(o))
		return veil_err_set(err, VEIL_E_INVALID, "the audit proof is not a JSON object");
	if (!json_is_string(fmt) || strcmp(json_string_value(fmt), AUDIT_PROOF_FORMAT) != 0)
		return veil_err_set(err, VEIL_E_UNSUPPORTED, "this is not a %s document", AUDIT_PROOF_FORMAT);
	if (key && get_hex(o, "log_key", claimed, sizeof claimed, err))
		return VEIL_E_INVALID;
	if (key && !veil_ct_equal(claimed, pub, sizeof claimed)) {
		veil_err_set(err, VEIL_E_AUTH, "the proof comes from a log with a different key");
		veil_err_hint(err, "check it with that log's public key, if you trust that log");
		return VEIL_E_AUTH;
	}
	bool incl = json_is_string(kind) && !strcmp(json_string_value(kind), "inclusion");
	bool cons = json_is_string(kind) && !strcmp(json_string_value(kind), "consistency");
	if (!incl && !cons)
		return bad(err, "kind", "must be \"inclusion\" or \"consistency\"");
	info->kind = incl ? VEIL_AUDIT_PROOF_INCLUSION : VEIL_AUDIT_PROOF_CONSISTENCY;
	veil_status st = check_heads(pub, o, incl, info, err);
	if (st)
		return st;
	veil_merkle mk;
	if ((st = veil_merkle_init(&mk, err)))
		return st;
	st = incl ? check_inclusion(&mk, o, info, err) : check_consistency(&mk, o, info, err);
	veil_merkle_free(&mk);
	return st;
}

veil_status veil_audit_check_proof(const char *json, size_t len, const uint8_t pub[VEIL_ED25519_PUB_LEN],
                                   veil_audit_proof_info *out, veil_err *err)
{
	veil_audit_proof_info info;
	memset(&info, 0, sizeof info);
	if (out)
		memset(out, 0, sizeof *out);
	if (!json || !pub)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "checking an audit proof needs the proof and the public key");
	if (len > VEIL_AUDIT_PROOF_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "the audit proof is %zu bytes; at most %u are allowed",
		                    len, VEIL_AUDIT_PROOF_MAX);
	json_error_t je;
	json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		return veil_err_set(err, VEIL_E_INVALID, "the audit proof is not valid JSON: %s (line %d)",
		                    je.text, je.line);
	veil_status st = check_doc(pub, o, &info, err);
	json_decref(o);
	if (!st && out)
		*out = info;
	return st;
}
