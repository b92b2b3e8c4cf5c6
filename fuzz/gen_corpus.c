/*
 * Writes the seed corpus of every fuzz target (fuzz/README.md): real inputs
 * made with veil's own APIs and the fixed keys of fuzz.h (sealed objects,
 * audit proofs, leaves, heads, root.sealed files), hand-written text, and
 * tricky variants of each: empty, truncated, oversized counts, fields out of
 * range. Usage: gen_corpus DIR (normally fuzz/corpus); it makes DIR/<target>/
 * and overwrites the files it names, leaving any other file (saved crashes)
 * alone. Its output is committed, so the regression tests do not need it.
 */
#include "fuzz.h"
#include "audit_base.h"
#include "audit_int.h"
#include "veil/keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *root;

static void put(const char *target, const char *name, const void *data, size_t size)
{
	char dir[4096];
	int n = snprintf(dir, sizeof dir, "%s/%s", root, target);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof dir, "path too long");
	FUZZ_CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST, "cannot make a corpus folder");
	fuzz_put_file(dir, name, data, size);
}

static void put_text(const char *target, const char *name, const char *text)
{
	put(target, name, text, strlen(text));
}

/* ---- object_header: objects sealed with fuzz_dek, and broken ones ---- */

static const uint8_t obj_id[VEIL_OBJ_ID_LEN] = {0x0b, 0x1e, 0xc7, 0x01};
static const uint8_t obj_salt[VEIL_OBJ_SALT_LEN] = {0x5a, 0x17, 0x01};
static const uint8_t obj_np[VEIL_OBJ_NONCE_PREFIX_LEN] = {0x90, 0x91, 0x92, 0x93};

static veil_buf seal(size_t len)
{
	veil_buf pt = {0}, ct = {0};
	FUZZ_CHECK(veil_buf_reserve(&pt, len + 1, NULL) == VEIL_OK, "out of memory");
	for (size_t i = 0; i < len; i++)
		pt.data[i] = (uint8_t)(i * 31 + 7);
	veil_obj_opts o = {.chunk_size = FUZZ_CHUNK,
	                   .threads = 1,
	                   .fixed_object_id = obj_id,
	                   .fixed_salt = obj_salt,
	                   .fixed_nonce_prefix = obj_np};
	fuzz_mem in = {.p = pt.data, .len = len};
	FUZZ_CHECK(veil_obj_seal(fuzz_dek, "dek-fuzz", &o, fuzz_mem_read, &in, fuzz_buf_write, &ct, NULL,
	                         NULL) == VEIL_OK,
	           "cannot seal");
	veil_buf_free(&pt);
	return ct;
}

/* Puts obj with byte `off` replaced by v (off < 0: unchanged) and cut to len. */
static void put_obj(const char *name, const veil_buf *obj, long off, uint8_t v, size_t len)
{
	uint8_t *b = malloc(obj->len + 64);
	FUZZ_CHECK(b != NULL, "out of memory");
	memcpy(b, obj->data, obj->len);
	memset(b + obj->len, 0xee, 64);
	if (off >= 0)
		b[off] = v;
	put("object_header", name, b, len);
	free(b);
}

static void gen_object_header(void)
{
	const long kidlen = 75, hlen = 10, chunk = 12, reserved = 16, kid = 76;
	veil_buf e = seal(0), one = seal(1), two = seal(FUZZ_CHUNK + 76), full = seal(FUZZ_CHUNK);
	size_t hl = VEIL_OBJ_HEADER_FIXED + strlen("dek-fuzz");
	put_obj("valid-empty", &e, -1, 0, e.len);
	put_obj("valid-1-byte", &one, -1, 0, one.len);
	put_obj("valid-2-chunks", &two, -1, 0, two.len);
	put_obj("valid-1-full-chunk", &full, -1, 0, full.len);
	put_obj("empty-file", &e, -1, 0, 0);
	put_obj("magic-only", &e, -1, 0, 8);
	put_obj("cut-in-preamble", &e, -1, 0, 11);
	put_obj("cut-after-preamble", &e, -1, 0, 12);
	put_obj("cut-in-fixed-header", &e, -1, 0, VEIL_OBJ_HEADER_FIXED - 1);
	put_obj("cut-in-key-id", &e, -1, 0, hl - 1);
	put_obj("header-only", &e, -1, 0, hl);
	put_obj("cut-in-tag", &e, -1, 0, e.len - 1);
	put_obj("extended-by-1", &e, -1, 0, e.len + 1);
	put_obj("bad-magic", &e, 3, 'X', e.len);
	put_obj("version-2", &e, 8, 2, e.len);
	put_obj("suite-0", &e, 9, 0, e.len);
	put_obj("key-id-length-0", &e, kidlen, 0, e.len);
	put_obj("key-id-length-65", &e, kidlen, 65, e.len);
	put_obj("header-length-off-by-1", &e, hlen + 1, (uint8_t)(hl + 1), e.len);
	put_obj("chunk-size-768", &e, chunk + 2, 0x03, e.len); /* 0x00000300 */
	put_obj("chunk-size-0", &e, chunk + 2, 0x00, e.len);   /* 0x00000000 */
	veil_put_be32(e.data + chunk, VEIL_OBJ_CHUNK_MAX);     /* the largest allowed: a 16 MiB buffer */
	put_obj("chunk-size-16mib", &e, -1, 0, e.len);
	veil_put_be32(e.data + chunk, FUZZ_CHUNK);
	put_obj("chunk-size-over-16mib", &e, chunk, 0x01, e.len); /* 0x01000400 */
	put_obj("reserved-not-0", &e, reserved + 3, 1, e.len);
	put_obj("key-id-with-space", &e, kid + 3, ' ', e.len);
	put_obj("key-id-with-del", &e, kid, 0x7f, e.len);
	put_obj("cut-at-chunk-boundary", &two, -1, 0, hl + FUZZ_CHUNK + VEIL_GCM_TAG_LEN);
	put_obj("last-tag-flipped", &two, (long)two.len - 1, two.data[two.len - 1] ^ 1, two.len);
	put_obj("object-id-flipped", &two, 20, two.data[20] ^ 0x80, two.len);
	put_obj("empty-final-chunk", &full, -1, 0, full.len + VEIL_GCM_TAG_LEN);
	veil_buf_free(&e);
	veil_buf_free(&one);
	veil_buf_free(&two);
	veil_buf_free(&full);
}

/* ---- object_open: edit lists (fuzz_object_open.c documents the format) ---- */

static void gen_object_open(void)
{
	static const struct {
		const char *name;
		size_t len;
		uint8_t b[16];
	} in[] = {
	        {"genuine-empty-input", 0, {0}},
	        {"genuine-base0", 1, {0x00}},
	        {"genuine-base1-2-threads", 1, {0x05}},
	        {"genuine-base2-empty-object", 1, {0x02}},
	        {"genuine-base3-4-threads-16-byte-reads", 1, {0x1f}},
	        {"genuine-base0-3-threads-1k-reads", 1, {0x78}},
	        {"genuine-xor-with-0", 5, {0x00, 0x00, 0x00, 0x05, 0x00}},
	        {"genuine-insert-then-delete", 9, {0x00, 0x02, 0x00, 0x64, 0x07, 0x03, 0x00, 0x64, 0x00}},
	        {"xor-key-id", 5, {0x00, 0x00, 0x00, 0x50, 0x01}},
	        {"xor-last-tag-byte", 5, {0x00, 0x00, 0x0a, 0x4e, 0x80}},
	        {"xor-ciphertext-2-threads", 5, {0x04, 0x00, 0x01, 0x00, 0x10}},
	        {"truncate-at-chunk-boundary", 5, {0x00, 0x01, 0x08, 0x7b, 0x00}},
	        {"truncate-in-chunk", 5, {0x00, 0x01, 0x03, 0xe8, 0x00}},
	        {"truncate-in-header", 5, {0x00, 0x01, 0x00, 0x32, 0x00}},
	        {"truncate-to-nothing", 5, {0x00, 0x01, 0x00, 0x00, 0x00}},
	        {"extend-by-1", 5, {0x00, 0x02, 0x0a, 0x4f, 0x00}},
	        {"delete-a-byte", 5, {0x00, 0x03, 0x00, 0xc8, 0x00}},
	        {"swap-chunks-0-1", 5, {0x00, 0x04, 0x00, 0x01, 0x00}},
	        {"swap-chunks-4-threads", 5, {0x0c, 0x04, 0x01, 0x00, 0x00}},
	        {"splice-twin-chunk-0", 5, {0x00, 0x05, 0x00, 0x00, 0x00}},
	        {"splice-twin-chunk-1", 5, {0x00, 0x05, 0x01, 0x00, 0x00}},
	        {"splice-twin-header", 5, {0x00, 0x05, 0x00, 0x00, 0x01}},
	        {"empty-object-extended", 5, {0x02, 0x02, 0x00, 0x6b, 0x00}},
	        {"one-byte-object-tag-cut", 5, {0x03, 0x01, 0x00, 0x6b, 0x00}},
	};
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
		put("object_open", in[i].name, in[i].b, in[i].len);
}

/* ---- yaml_config ---- */

static void gen_yaml_config(void)
{
	static const char *const docs[][2] = {
	        {"veil-yaml.yaml",
	         "workspace_id: 9f0c1d2e\nformat: 1\nkey_rotation: 30d\nroot:\n  provider: file\n"
	         "  # pkcs11_module: /usr/lib/softhsm/libsofthsm2.so\nstorage:\n  chunk_size: 65536\n"
	         "  threads: 0\nlifecycle:\n  keep_versions: 0\n  expire_days: 0\n"},
	        {"empty.yaml", ""},
	        {"comments-only.yaml", "# nothing here\n\n# at all\n"},
	        {"top-level-scalar.yaml", "just a scalar\n"},
	        {"top-level-list.yaml", "- a\n- b\n"},
	        {"list-value.yaml", "a:\n  - 1\n  - 2\n"},
	        {"anchor-alias.yaml", "a: &x 1\nb: *x\n"},
	        {"duplicate-key.yaml", "a: 1\nb: 2\na: 3\n"},
	        {"duplicate-dotted.yaml", "a.b: 1\na:\n  b: 2\n"},
	        {"depth-8.yaml", "a:\n b:\n  c:\n   d:\n    e:\n     f:\n      g:\n       h: 1\n"},
	        {"depth-9.yaml",
	         "a:\n b:\n  c:\n   d:\n    e:\n     f:\n      g:\n       h:\n        i: 1\n"},
	        {"flow-mapping.yaml", "{a: 1, b: {c: 2, d: ''}}\n"},
	        {"complex-key.yaml", "? [a, b]\n: 1\n"},
	        {"mapping-as-key.yaml", "? {a: 1}\n: 2\n"},
	        {"multi-document.yaml", "a: 1\n---\nb: 2\n...\n---\na: 3\n"},
	        {"null-values.yaml", "a:\nb: ~\nc: null\n\"\": empty key\n"},
	        {"quoted-and-escapes.yaml",
	         "\"a\\0b\": 1\n'q''x': \"\\u00e9\\t\\x41\"\nc: |\n  block\n  text\nd: >\n  folded\n"},
	        {"tags.yaml", "a: !!str 1\nb: !custom x\n!!map {c: 1}: 2\n"},
	        {"bad-indent.yaml", "a:\n  b: 1\n c: 2\n"},
	        {"unterminated-quote.yaml", "a: \"open\nb: 2\n"},
	        {"tab-indent.yaml", "a:\n\tb: 1\n"},
	        {"bom-utf8.yaml", "\xef\xbb\xbf"
	                          "a: 1\n"},
	        {"invalid-utf8.yaml", "a: \xff\xfe\n"},
	        {"directive.yaml", "%YAML 1.1\n%TAG ! tag:x,2000:\n---\na: 1\n"},
	};
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
		put_text("yaml_config", docs[i][0], docs[i][1]);
	put("yaml_config", "nul-inside.yaml", "a: 1\n\0b: 2\n", 11);
	/* A key longer than the parser's 128-byte key buffer, and a path longer than 256. */
	char b[1024];
	memset(b, 'k', 200);
	memcpy(b + 200, ": 1\n", 5);
	put_text("yaml_config", "key-200-bytes.yaml", b);
	size_t n = 0;
	for (int d = 0; d < 7; d++) {
		for (int s = 0; s < d; s++)
			b[n++] = ' ';
		memset(b + n, 'a' + d, 60);
		n += 60;
		memcpy(b + n, ":\n", 2);
		n += 2;
	}
	memcpy(b + n, "        z: 1\n", 13);
	put("yaml_config", "path-over-256-bytes.yaml", b, n + 13);
}

/* ---- parse_small: selector byte, then text (fuzz_parse_small.c) ---- */

static void gen_parse_small(void)
{
	static const char *const in[][2] = {
	        {"ref-name", "\x00patients"},
	        {"ref-version", "\x00patients@12"},
	        {"ref-leading-zero", "\x00p@01"},
	        {"ref-zero", "\x00p@0"},
	        {"ref-no-version", "\x00p@"},
	        {"ref-no-name", "\x00@3"},
	        {"ref-u32-max", "\x00p@4294967295"},
	        {"ref-u32-overflow", "\x00p@4294967296"},
	        {"ref-two-at", "\x00p@1@2"},
	        {"ref-bad-name", "\x00-p@1"},
	        {"dur-days", "\x01"
	                     "30d"},
	        {"dur-weeks", "\x01"
	                      "2w"},
	        {"dur-zero", "\x01"
	                     "0s"},
	        {"dur-100-years", "\x01"
	                          "36500d"},
	        {"dur-overflow", "\x01"
	                         "99999999999999999999s"},
	        {"dur-no-unit", "\x01"
	                        "12"},
	        {"dur-space", "\x01"
	                      " 5m"},
	        {"time-date", "\x02"
	                      "2026-11-22"},
	        {"time-full", "\x02"
	                      "2026-11-22T13:49:21Z"},
	        {"time-feb-31", "\x02"
	                        "2026-02-31"},
	        {"time-leap-second", "\x02"
	                             "2016-12-31T23:59:60Z"},
	        {"time-year-0", "\x02"
	                        "0000-01-01"},
	        {"time-trailing", "\x02"
	                          "2026-11-22x"},
	        {"hex-4", "\x03\x04"
	                  "DEADbeef"},
	        {"hex-odd", "\x03\x02"
	                    "abc"},
	        {"hex-bad-digit", "\x03\x02"
	                          "0g12"},
	        {"name-ok", "\x04"
	                    "owner_1.a-b"},
	        {"name-dot-start", "\x04"
	                           ".hidden"},
	        {"store-id-ok", "\x05"
	                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	        {"store-id-upper", "\x05"
	                           "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"},
	};
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
		put("parse_small", in[i][0], in[i][1], strlen(in[i][1] + 1) + 1);
}

/* ---- the audit targets: a real log, its files, proofs and leaves ---- */

static veil_audit *audit_log(char *dir, size_t dirsz)
{
	fuzz_subdir("audit", dir, dirsz);
	return fuzz_audit_base_log(dir);
}

static void put_buf(const char *target, const char *name, const veil_buf *b)
{
	put(target, name, b->data, b->len);
}

static void gen_audit_proof(veil_audit *log)
{
	static const struct {
		const char *name;
		int incl;
		uint64_t a, b;
	} proofs[] = {
	        {"inclusion-0-of-2", 1, 0, 2}, {"inclusion-1-of-5", 1, 1, 5}, {"inclusion-4-of-5", 1, 4, 5},
	        {"consistency-2-3", 0, 2, 3},  {"consistency-3-5", 0, 3, 5},  {"consistency-5-5", 0, 5, 5},
	};
	for (size_t i = 0; i < sizeof proofs / sizeof proofs[0]; i++) {
		veil_buf p = {0};
		veil_status st =
		        proofs[i].incl
		                ? veil_audit_prove_inclusion(log, proofs[i].a, proofs[i].b, &p, NULL)
		                : veil_audit_prove_consistency(log, proofs[i].a, proofs[i].b, &p, NULL);
		FUZZ_CHECK(st == VEIL_OK, "cannot prove");
		put_buf("audit_proof", proofs[i].name, &p);
		veil_buf_free(&p);
	}
	static const char *const bad[][2] = {
	        {"not-json", "{\"format\":"},
	        {"array", "[1,2,3]"},
	        {"empty-object", "{}"},
	        {"wrong-format", "{\"format\":\"veil-audit-proof-v2\",\"kind\":\"inclusion\"}"},
	        {"wrong-kind", "{\"format\":\"veil-audit-proof-v1\",\"kind\":\"exclusion\"}"},
	        {"duplicate-key", "{\"format\":\"veil-audit-proof-v1\",\"format\":\"veil-audit-proof-v1\"}"},
	        {"log-key-short",
	         "{\"format\":\"veil-audit-proof-v1\",\"kind\":\"inclusion\",\"log_key\":\"03a1\"}"},
	        {"head-not-object",
	         "{\"format\":\"veil-audit-proof-v1\",\"kind\":\"inclusion\",\"head\":[]}"},
	        {"head-negative-size",
	         "{\"format\":\"veil-audit-proof-v1\",\"kind\":\"consistency\",\"new_head\":"
	         "{\"size\":-1,\"timestamp\":0,\"root\":\"00\",\"signature\":\"00\"}}"},
	        {"head-huge-size", "{\"format\":\"veil-audit-proof-v1\",\"kind\":\"inclusion\",\"head\":"
	                           "{\"size\":9223372036854775807,\"timestamp\":9223372036854775807}}"},
	        {"deep-nesting",
	         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["},
	        {"nul-in-string", "{\"format\":\"veil-audit-proof-v1\\u0000\",\"kind\":\"inclusion\"}"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		put_text("audit_proof", bad[i][0], bad[i][1]);
}

/* A proof with its "path" replaced by n copies of a hash: 65 is over the bound. */
static void gen_long_path(veil_audit *log)
{
	veil_buf p = {0}, out = {0};
	FUZZ_CHECK(veil_audit_prove_inclusion(log, 4, 5, &p, NULL) == VEIL_OK, "cannot prove");
	char *path = strstr((char *)p.data, "\"path\": [");
	FUZZ_CHECK(path != NULL, "no path in a proof");
	char *end = strchr(path, ']');
	FUZZ_CHECK(veil_buf_append(&out, p.data, (size_t)(path - (char *)p.data), NULL) == VEIL_OK &&
	                   veil_buf_printf(&out, NULL, "\"path\": [") == VEIL_OK,
	           "out of memory");
	for (int i = 0; i < 65; i++)
		FUZZ_CHECK(veil_buf_printf(&out, NULL, "%s\"%064d\"", i ? "," : "", 0) == VEIL_OK,
		           "out of memory");
	FUZZ_CHECK(veil_buf_append(&out, end, strlen(end), NULL) == VEIL_OK, "out of memory");
	put_buf("audit_proof", "path-65-hashes", &out);
	veil_buf_free(&p);
	veil_buf_free(&out);
}

static void gen_audit_event(veil_audit *log)
{
	for (uint64_t i = 0; i < veil_audit_size(log); i++) {
		veil_buf leaf = {0};
		char name[32];
		FUZZ_CHECK(audit_leaf_get(log, i, &leaf, NULL) == VEIL_OK, "cannot read a leaf");
		snprintf(name, sizeof name, "leaf-%llu", (unsigned long long)i);
		put_buf("audit_event", name, &leaf);
		veil_buf_free(&leaf);
	}
	static const char *const bad[][2] = {
	        {"empty-object", "{}"},
	        {"not-object", "[\"v\",1]"},
	        {"version-2", "{\"action\":\"a\",\"actor\":\"x\",\"outcome\":\"ok\",\"resource\":\"\","
	                      "\"time\":1,\"v\":2}"},
	        {"extra-field",
	         "{\"action\":\"a\",\"actor\":\"x\",\"outcome\":\"ok\",\"resource\":\"\",\"time\":1,\"v\":1,"
	         "\"x\":0}"},
	        {"detail-not-object",
	         "{\"action\":\"a\",\"actor\":\"x\",\"detail\":[1],\"outcome\":\"ok\",\"resource\":\"\","
	         "\"time\":1,\"v\":1}"},
	        {"time-negative", "{\"action\":\"a\",\"actor\":\"x\",\"outcome\":\"ok\",\"resource\":\"\","
	                          "\"time\":-1,\"v\":1}"},
	        {"time-year-10000", "{\"action\":\"a\",\"actor\":\"x\",\"outcome\":\"ok\",\"resource\":\"\","
	                            "\"time\":253402300800,\"v\":1}"},
	        {"time-float", "{\"action\":\"a\",\"actor\":\"x\",\"outcome\":\"ok\",\"resource\":\"\","
	                       "\"time\":1.5,\"v\":1}"},
	        {"action-uppercase",
	         "{\"action\":\"Data\",\"actor\":\"x\",\"outcome\":\"ok\",\"resource\":\"\",\"time\":1,"
	         "\"v\":1}"},
	        {"outcome-maybe", "{\"action\":\"a\",\"actor\":\"x\",\"outcome\":\"maybe\",\"resource\":\"\","
	                          "\"time\":1,\"v\":1}"},
	        {"actor-empty",
	         "{\"action\":\"a\",\"actor\":\"\",\"outcome\":\"ok\",\"resource\":\"\",\"time\":1,\"v\":1}"},
	        {"actor-control",
	         "{\"action\":\"a\",\"actor\":\"x\\u0001\",\"outcome\":\"ok\",\"resource\":\"\",\"time\":1,"
	         "\"v\":1}"},
	        {"actor-nul",
	         "{\"action\":\"a\",\"actor\":\"x\\u0000y\",\"outcome\":\"ok\",\"resource\":\"\",\"time\":1,"
	         "\"v\":1}"},
	        {"detail-escapes",
	         "{\"action\":\"a\",\"actor\":\"\\u00e9\\ud83d\\ude00\",\"detail\":{\"k\":\"\\u0001\\t\","
	         "\"n\":1e300},\"outcome\":\"denied\",\"resource\":\"r\",\"time\":0,\"v\":1}"},
	        {"raw-utf8", "{\"action\":\"a\",\"actor\":\"\xc3\xa9\",\"outcome\":\"failed\",\"resource\":"
	                     "\"\",\"time\":1,"
	                     "\"v\":1}"},
	        {"bad-utf8", "{\"action\":\"a\",\"actor\":\"\xc3\",\"outcome\":\"ok\",\"resource\":\"\","
	                     "\"time\":1,\"v\":1}"},
	        {"lone-surrogate",
	         "{\"action\":\"a\",\"actor\":\"\\ud800\",\"outcome\":\"ok\",\"resource\":\"\",\"time\":1,"
	         "\"v\":1}"},
	        {"duplicate-field",
	         "{\"action\":\"a\",\"action\":\"b\",\"actor\":\"x\",\"outcome\":\"ok\",\"resource\":\"\","
	         "\"time\":1,\"v\":1}"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		put_text("audit_event", bad[i][0], bad[i][1]);
	put("audit_event", "empty", "", 0);
}

/* Mode byte then file bytes (fuzz_audit_files.c documents the modes). */
static void put_mode(const char *name, uint8_t mode, const void *a, size_t na, const void *b, size_t nb)
{
	uint8_t *buf = malloc(1 + na + nb + 2);
	FUZZ_CHECK(buf != NULL, "out of memory");
	size_t n = 0;
	buf[n++] = mode;
	if ((mode & 3) == 3) {
		veil_put_be16(buf + n, (uint16_t)na);
		n += 2;
	}
	if (na)
		memcpy(buf + n, a, na);
	n += na;
	if (nb)
		memcpy(buf + n, b, nb);
	n += nb;
	put("audit_files", name, buf, n);
	free(buf);
}

static void gen_audit_files(const char *dir)
{
	audit_paths p;
	veil_buf leaves = {0}, heads = {0}, pub = {0};
	FUZZ_CHECK(audit_paths_make(dir, &p, NULL) == VEIL_OK &&
	                   veil_fs_read_file(p.leaves, 1u << 20, &leaves, NULL) == VEIL_OK &&
	                   veil_fs_read_file(p.heads, 1u << 20, &heads, NULL) == VEIL_OK &&
	                   veil_fs_read_file(p.pub, 4096, &pub, NULL) == VEIL_OK,
	           "cannot read the log's files");
	const uint8_t *L = leaves.data, *H = heads.data;
	size_t nl = leaves.len, nh = heads.len;
	put_mode("leaves", 0, L, nl, NULL, 0);
	put_mode("leaves-fixed", 4, L, nl, NULL, 0);
	put_mode("leaves-with-key", 8, L, nl, NULL, 0);
	put_mode("leaves-empty", 0, NULL, 0, NULL, 0);
	put_mode("leaves-magic-only", 0, L, 8, NULL, 0);
	put_mode("leaves-cut-in-record", 0, L, nl - 5, NULL, 0);
	put_mode("leaves-cut-in-length", 0, L, 10, NULL, 0);
	put_mode("leaves-extra-bytes", 0, L, nl, "\x00\x00\x00\x05xx", 6);
	uint8_t *m = malloc(nl);
	FUZZ_CHECK(m != NULL, "out of memory");
	memcpy(m, L, nl);
	veil_put_be32(m + 8, 0);
	put_mode("leaves-length-0", 0, m, nl, NULL, 0);
	veil_put_be32(m + 8, VEIL_AUDIT_LEAF_MAX + 1);
	put_mode("leaves-length-over-max", 0, m, nl, NULL, 0);
	memcpy(m, L, nl);
	m[20] ^= 1; /* inside leaf 0's JSON */
	put_mode("leaves-modified", 0, m, nl, NULL, 0);
	put_mode("leaves-modified-fixed", 4, m, nl, NULL, 0);
	free(m);
	put_mode("heads", 1, H, nh, NULL, 0);
	put_mode("heads-resigned", 5, H, nh, NULL, 0);
	put_mode("heads-first-only", 1, H, 8 + AUDIT_HEAD_LEN, NULL, 0);
	put_mode("heads-torn-last", 1, H, nh - 10, NULL, 0);
	put_mode("heads-magic-only", 1, H, 8, NULL, 0);
	put_mode("heads-without-first", 5, H, 8, H + 8 + AUDIT_HEAD_LEN, nh - 8 - AUDIT_HEAD_LEN);
	uint8_t *h = malloc(nh);
	FUZZ_CHECK(h != NULL, "out of memory");
	memcpy(h, H, nh);
	veil_put_be64(h + 8 + 3 * AUDIT_HEAD_LEN, 0xffff); /* last head: more leaves than the file holds */
	put_mode("heads-large-size-resigned", 5, h, nh, NULL, 0);
	memcpy(h, H, nh);
	veil_put_be64(h + 8 + 2 * AUDIT_HEAD_LEN + 8, 0); /* head 2 dated 1970 */
	put_mode("heads-time-backwards-resigned", 5, h, nh, NULL, 0);
	free(h);
	put_mode("pub", 2, pub.data, pub.len, NULL, 0);
	put_mode("pub-no-newline", 2, pub.data, pub.len - 1, NULL, 0);
	put_mode("pub-not-hex", 2, "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 65,
	         NULL, 0);
	put_mode("pub-other-key-with-key", 10,
	         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n", 65, NULL, 0);
	put_mode("both", 3, H, nh, L, nl);
	put_mode("both-fixed", 7, H, nh, L, nl);
	put_mode("both-one-leaf-one-head", 7, H, 8 + AUDIT_HEAD_LEN, L, nl);
	veil_buf_free(&leaves);
	veil_buf_free(&heads);
	veil_buf_free(&pub);
}

/* ---- sealed_root ---- */

static void put_sealed(const char *name, const uint8_t *file, long off, uint8_t v, bool fix_sum, size_t len)
{
	uint8_t b[256];
	memcpy(b, file, 169);
	memset(b + 169, 0, sizeof b - 169);
	if (off >= 0)
		b[off] = v;
	if (fix_sum)
		FUZZ_CHECK(veil_sha256(b, 137, b + 137, NULL) == VEIL_OK, "sha256");
	put("sealed_root", name, b, len);
}

static void sealed_file(const char *sub, const char *pass, uint8_t out[169])
{
	char dir[4096], path[4096 + 16];
	fuzz_subdir(sub, dir, sizeof dir);
	veil_kms_config cfg = {.dir = dir,
	                       .provider = "file",
	                       .passphrase = pass,
	                       .passphrase_len = strlen(pass),
	                       .kdf_log_n = FUZZ_KDF_LOG_N};
	FUZZ_CHECK(veil_kms_create(&cfg, NULL) == VEIL_OK, "cannot create a key store");
	snprintf(path, sizeof path, "%s/root.sealed", dir);
	veil_buf b = {0};
	FUZZ_CHECK(veil_fs_read_file(path, 4096, &b, NULL) == VEIL_OK && b.len == 169,
	           "cannot read root.sealed");
	memcpy(out, b.data, 169);
	veil_buf_free(&b);
}

static void gen_sealed_root(void)
{
	uint8_t ok[169], other[169];
	sealed_file("keys", FUZZ_PASSPHRASE, ok);
	sealed_file("keys-other", "another passphrase", other);
	put_sealed("valid", ok, -1, 0, false, 169);
	put_sealed("wrong-passphrase", other, -1, 0, false, 169);
	put_sealed("empty", ok, -1, 0, false, 0);
	put_sealed("magic-only", ok, -1, 0, false, 8);
	put_sealed("cut-by-1", ok, -1, 0, false, 168);
	put_sealed("extended-by-1", ok, -1, 0, false, 170);
	put_sealed("bad-magic", ok, 0, 'X', true, 169);
	put_sealed("version-2", ok, 8, 2, true, 169);
	put_sealed("checksum-wrong", ok, 140, ok[140] ^ 1, false, 169);
	put_sealed("kdf-2", ok, 9, 2, true, 169);
	put_sealed("log-n-9", ok, 10, 9, true, 169);
	put_sealed("log-n-21", ok, 10, 21, true, 169);
	put_sealed("log-n-255", ok, 10, 255, true, 169);
	put_sealed("scrypt-r-32", ok, 11, 32, true, 169);
	put_sealed("scrypt-p-2", ok, 12, 2, true, 169);
	put_sealed("salt-modified", ok, 20, ok[20] ^ 1, true, 169);
	put_sealed("check-modified", ok, 60, ok[60] ^ 1, true, 169);
	put_sealed("ciphertext-modified", ok, 100, ok[100] ^ 1, true, 169);
	put_sealed("tag-modified", ok, 130, ok[130] ^ 1, true, 169);
	put_sealed("log-n-12-unfixed", ok, 10, 12, false, 169);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR (normally fuzz/corpus)\n");
		return 2;
	}
	root = argv[1];
	FUZZ_CHECK(mkdir(root, 0755) == 0 || errno == EEXIST, "cannot make the corpus folder");
	gen_object_header();
	gen_object_open();
	gen_yaml_config();
	gen_parse_small();
	char dir[4096];
	veil_audit *log = audit_log(dir, sizeof dir);
	gen_audit_proof(log);
	gen_long_path(log);
	gen_audit_event(log);
	veil_audit_close(log);
	gen_audit_files(dir);
	gen_sealed_root();
	printf("corpus written to %s\n", root);
	return 0;
}
