/* Unit tests for the KMS with the sealed-file root: create/open and every way
 * opening can fail, the KEK lifecycle (create, rotate, rewrap, retire), DEKs
 * (made, unwrapped, destroyed, tampered with via SQLite), root-wrapped
 * secrets, a decoder written from docs/formats/keys.md with plain OpenSSL,
 * a SIGKILL in the middle of changes, listing DEKs, backups (alone, beside a
 * busy writer, past a held lock), the passphrase minimum, the hints, KEK
 * regions and the refusal of cross-region release, and the migration of a
 * schema version 1 keys.db. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../common/scratch.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include "veil/keys.h"

#define PASS "correct horse battery staple"

typedef struct fixture {
	char root[64]; /* the scratch folder */
	char dir[128]; /* root/keys: the key store */
	veil_kms_config cfg;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->root, sizeof f->root, "/tmp/veil-keys-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->dir, sizeof f->dir, "%s/keys", f->root);
	f->cfg = (veil_kms_config){.dir = f->dir,
	                           .provider = "file",
	                           .passphrase = PASS,
	                           .passphrase_len = strlen(PASS),
	                           .kdf_log_n = 10};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	scratch_remove(f->root);
	free(f);
	return 0;
}

static veil_kms *open_ok(const veil_kms_config *cfg)
{
	veil_kms *kms = NULL;
	veil_err err;
	veil_status st = veil_kms_open(cfg, &kms, &err);
	if (st)
		fail_msg("open: %s", err.msg);
	return kms;
}

static veil_kms *create_open(fixture *f)
{
	veil_err err;
	if (veil_kms_create(&f->cfg, &err))
		fail_msg("create: %s", err.msg);
	return open_ok(&f->cfg);
}

static void path_of(const fixture *f, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", f->dir, name);
}

/* Runs one SQL statement against keys.db behind the KMS's back. */
static void sql(const fixture *f, const char *q)
{
	char p[256];
	sqlite3 *db;
	path_of(f, "keys.db", p, sizeof p);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	char *msg = NULL;
	if (sqlite3_exec(db, q, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("sql %s: %s", q, msg);
	sqlite3_close(db);
}

static long sql_long(const fixture *f, const char *q)
{
	char p[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	path_of(f, "keys.db", p, sizeof p);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Flips one bit of a BLOB cell, read and written back through SQLite. */
static void flip_blob(const fixture *f, const char *table, const char *col, const char *where, int off)
{
	char p[256], q[512];
	sqlite3 *db;
	sqlite3_stmt *st;
	uint8_t buf[256];
	path_of(f, "keys.db", p, sizeof p);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	snprintf(q, sizeof q, "SELECT %s FROM %s WHERE %s", col, table, where);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_bytes(st, 0);
	assert_true(n > off && n <= (int)sizeof buf);
	memcpy(buf, sqlite3_column_blob(st, 0), (size_t)n);
	sqlite3_finalize(st);
	buf[off] ^= 0x01;
	snprintf(q, sizeof q, "UPDATE %s SET %s = ? WHERE %s", table, col, where);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, buf, n, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void flip_file_byte(const char *path, long off)
{
	FILE *fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	int c = fgetc(fp);
	assert_true(c != EOF);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	fputc(c ^ 0x01, fp);
	fclose(fp);
}

static void read_all(const char *path, uint8_t *buf, size_t n)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(buf, 1, n, fp), n);
	fclose(fp);
}

static void write_all(const char *path, const uint8_t *buf, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, n, fp), n);
	fclose(fp);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int entries = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			entries++;
	closedir(d);
	return entries;
}

static void test_create_open(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	assert_non_null(kms);
	struct stat st;
	char p[256];
	/* SQLite's side files, while open, are as private as keys.db */
	assert_int_equal(veil_kms_kek_create(kms, "owner", NULL, NULL), VEIL_OK);
	path_of(f, "keys.db-wal", p, sizeof p);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	path_of(f, "keys.db-shm", p, sizeof p);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	veil_kms_close(kms);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	path_of(f, "keys.db", p, sizeof p);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	path_of(f, "root.sealed", p, sizeof p);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 169);
	assert_int_equal(sql_long(f, "SELECT version FROM schema_version"), 2);
	/* no temporary file is left behind: only keys.db and root.sealed */
	assert_int_equal(count_entries(f->dir), 2);
	/* a second create refuses to replace the store */
	veil_err err;
	assert_int_equal(veil_kms_create(&f->cfg, &err), VEIL_E_EXISTS);
	assert_non_null(strstr(err.msg, "already exists"));
	/* and the store still opens */
	veil_kms_close(open_ok(&f->cfg));
}

static void test_wal_mode(void **state)
{
	fixture *f = *state;
	veil_kms_close(create_open(f));
	char p[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	path_of(f, "keys.db", p, sizeof p);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The default cost, 2^17 (128 MiB): slower, so only once. */
static void test_default_kdf(void **state)
{
	fixture *f = *state;
	f->cfg.kdf_log_n = 0;
	veil_kms *kms = create_open(f);
	veil_kms_close(kms);
	char p[256];
	uint8_t buf[169];
	path_of(f, "root.sealed", p, sizeof p);
	read_all(p, buf, sizeof buf);
	assert_int_equal(buf[10], VEIL_KMS_KDF_LOG_N_DEFAULT);
	assert_int_equal(buf[11], 8);
	assert_int_equal(buf[12], 1);
}

static void test_wrong_passphrase(void **state)
{
	fixture *f = *state;
	veil_kms_close(create_open(f));
	veil_kms_config bad = f->cfg;
	bad.passphrase = "correct horse battery stapler";
	bad.passphrase_len = strlen(bad.passphrase);
	veil_kms *kms = (veil_kms *)1;
	veil_err err;
	assert_int_equal(veil_kms_open(&bad, &kms, &err), VEIL_E_AUTH);
	assert_null(kms);
	assert_string_equal(err.msg, "wrong passphrase for the workspace root key");
	assert_true(err.hint[0] != '\0');
	/* a prefix of the right passphrase is wrong too (lengths are bound) */
	bad.passphrase = PASS;
	bad.passphrase_len = strlen(PASS) - 1;
	assert_int_equal(veil_kms_open(&bad, &kms, &err), VEIL_E_AUTH);
	veil_kms_close(open_ok(&f->cfg));
}

static void test_short_passphrase(void **state)
{
	fixture *f = *state;
	veil_kms_config c = f->cfg;
	c.passphrase = "1234567";
	c.passphrase_len = 7;
	veil_err err;
	assert_int_equal(veil_kms_create(&c, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "at least 8 bytes"));
	assert_true(err.hint[0] != '\0');
	char p[256];
	path_of(f, "root.sealed", p, sizeof p);
	assert_false(veil_fs_exists(p));
	path_of(f, "keys.db", p, sizeof p);
	assert_false(veil_fs_exists(p));
	c.passphrase = NULL;
	c.passphrase_len = 0;
	assert_int_equal(veil_kms_create(&c, &err), VEIL_E_INVALID);
	c = f->cfg;
	c.kdf_log_n = 9;
	assert_int_equal(veil_kms_create(&c, &err), VEIL_E_INVALID);
	c.kdf_log_n = 21;
	assert_int_equal(veil_kms_create(&c, &err), VEIL_E_INVALID);
	c.provider = "vault";
	assert_int_equal(veil_kms_create(&c, &err), VEIL_E_INVALID);
	/* exactly 8 bytes is enough */
	f->cfg.passphrase = "12345678";
	f->cfg.passphrase_len = 8;
	veil_kms_close(create_open(f));
}

static void expect_open(fixture *f, veil_status want, const char *msg_part)
{
	veil_kms *kms = NULL;
	veil_err err;
	veil_status st = veil_kms_open(&f->cfg, &kms, &err);
	if (st != want)
		fail_msg("open gave %s (%s), wanted %s", veil_status_str(st), err.msg, veil_status_str(want));
	assert_null(kms);
	if (msg_part && !strstr(err.msg, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg_part);
}

static void test_tampered_root(void **state)
{
	fixture *f = *state;
	veil_kms_close(create_open(f));
	char p[256];
	uint8_t orig[169], buf[169];
	path_of(f, "root.sealed", p, sizeof p);
	read_all(p, orig, sizeof orig);
	/* any flipped byte: the checksum says the file is damaged */
	static const long offs[] = {0, 7, 10, 13, 44, 45, 56, 57, 88, 89, 120, 121, 136, 137, 168};
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		flip_file_byte(p, offs[i]);
		expect_open(f, VEIL_E_CORRUPT, "damaged");
		write_all(p, orig, sizeof orig);
	}
	/* a newer format version is reported as such */
	memcpy(buf, orig, sizeof buf);
	buf[8] = 2;
	write_all(p, buf, sizeof buf);
	expect_open(f, VEIL_E_UNSUPPORTED, "format version 2");
	/* truncated and extended */
	write_all(p, orig, 168);
	expect_open(f, VEIL_E_CORRUPT, "wrong size");
	memcpy(buf, orig, sizeof buf);
	write_all(p, buf, sizeof buf);
	FILE *fp = fopen(p, "ab");
	fputc(0, fp);
	fclose(fp);
	expect_open(f, VEIL_E_CORRUPT, "wrong size");
	/* a deliberate change with the checksum recomputed: the GCM tag fails
	 * while the passphrase check passes, so it is called a modification */
	memcpy(buf, orig, sizeof buf);
	buf[100] ^= 0x80;
	assert_int_equal(veil_sha256(buf, 137, buf + 137, NULL), VEIL_OK);
	write_all(p, buf, sizeof buf);
	expect_open(f, VEIL_E_CORRUPT, "modified");
	/* absurd scrypt cost with the checksum recomputed: refused before any work */
	memcpy(buf, orig, sizeof buf);
	buf[10] = 30;
	assert_int_equal(veil_sha256(buf, 137, buf + 137, NULL), VEIL_OK);
	write_all(p, buf, sizeof buf);
	expect_open(f, VEIL_E_CORRUPT, "key derivation parameters");
	write_all(p, orig, sizeof orig);
	veil_kms_close(open_ok(&f->cfg));
}

static void test_missing(void **state)
{
	fixture *f = *state;
	expect_open(f, VEIL_E_NOTFOUND, "no key store");
	veil_kms_close(create_open(f));
	char p[256], q[256];
	path_of(f, "root.sealed", p, sizeof p);
	path_of(f, "root.moved", q, sizeof q);
	assert_int_equal(rename(p, q), 0);
	expect_open(f, VEIL_E_NOTFOUND, "root.sealed");
	/* with root.sealed present but keys.db gone, create says why it stops */
	assert_int_equal(rename(q, p), 0);
	path_of(f, "keys.db", q, sizeof q);
	assert_int_equal(unlink(q), 0);
	expect_open(f, VEIL_E_NOTFOUND, "no key store");
	veil_err err;
	assert_int_equal(veil_kms_create(&f->cfg, &err), VEIL_E_EXISTS);
	assert_non_null(strstr(err.msg, "interrupted"));
	assert_true(veil_fs_exists(p)); /* never deleted by veil */
}

/* A root.sealed from another store opens with its passphrase but is not
 * this keys.db's root. */
static void test_root_swap(void **state)
{
	fixture *f = *state;
	veil_kms_close(create_open(f));
	fixture g = *f;
	snprintf(g.dir, sizeof g.dir, "%s/other", f->root);
	g.cfg.dir = g.dir;
	veil_kms_close(create_open(&g));
	char p[256], q[256];
	path_of(&g, "root.sealed", q, sizeof q);
	path_of(f, "root.sealed", p, sizeof p);
	uint8_t buf[169];
	read_all(q, buf, sizeof buf);
	write_all(p, buf, sizeof buf);
	expect_open(f, VEIL_E_KEY, "not the one");
	/* the wrong provider is named as such */
	veil_kms_config c = f->cfg;
	c.provider = "pkcs11";
	veil_kms *kms = NULL;
	veil_err err;
	assert_int_equal(veil_kms_open(&c, &kms, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "uses the file root provider"));
}

static void dek_get_ok(veil_kms *kms, const char *id, uint8_t out[32])
{
	veil_err err;
	if (veil_kms_dek_get(kms, id, NULL, out, &err))
		fail_msg("dek_get %s: %s", id, err.msg);
}

static void test_kek_lifecycle(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	assert_int_equal(veil_kms_kek_create(kms, "hospital-a", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_create(kms, "bank.b", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_create(kms, "hospital-a", NULL, &err), VEIL_E_EXISTS);
	assert_int_equal(veil_kms_kek_create(kms, "-bad", NULL, &err), VEIL_E_INVALID);
	assert_int_equal(veil_kms_kek_create(kms, "a/b", NULL, &err), VEIL_E_INVALID);
	assert_int_equal(veil_kms_kek_rotate(kms, "nobody", NULL, &err), VEIL_E_NOTFOUND);

	veil_kek_info *list = NULL;
	size_t n = 0;
	assert_int_equal(veil_kms_kek_list(kms, &list, &n, &err), VEIL_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "bank.b");
	assert_string_equal(list[1].name, "hospital-a");
	assert_int_equal(list[1].current_version, 1);
	assert_int_equal(list[1].versions, 1);
	assert_true(list[1].created > 0 && list[1].rotated == list[1].created);
	free(list);

	/* DEKs before rotation */
	enum { N = 5 };
	char ids[2 * N][VEIL_DEK_ID_MAX];
	uint8_t deks[2 * N][32], got[32];
	for (int i = 0; i < N; i++) {
		assert_int_equal(veil_kms_dek_new(kms, "hospital-a", NULL, ids[i], deks[i], &err), VEIL_OK);
		assert_int_equal(strlen(ids[i]), 36);
		assert_memory_equal(ids[i], "dek-", 4);
	}
	assert_memory_not_equal(deks[0], deks[1], 32);
	assert_string_not_equal(ids[0], ids[1]);
	uint32_t v = 0;
	assert_int_equal(veil_kms_kek_rotate(kms, "hospital-a", &v, &err), VEIL_OK);
	assert_int_equal(v, 2);
	for (int i = N; i < 2 * N; i++)
		assert_int_equal(veil_kms_dek_new(kms, "hospital-a", NULL, ids[i], deks[i], &err), VEIL_OK);
	for (int i = 0; i < 2 * N; i++) {
		dek_get_ok(kms, ids[i], got);
		assert_memory_equal(got, deks[i], 32);
	}
	veil_kek_info info;
	assert_int_equal(veil_kms_kek_get(kms, "hospital-a", &info, &err), VEIL_OK);
	assert_int_equal(info.current_version, 2);
	assert_int_equal(info.versions, 2);
	assert_int_equal(info.deks, 2 * N);
	assert_int_equal(info.deks_on_old, N);
	veil_dek_info di;
	assert_int_equal(veil_kms_dek_info(kms, ids[0], &di, &err), VEIL_OK);
	assert_int_equal(di.kek_version, 1);
	assert_string_equal(di.kek_name, "hospital-a");
	assert_false(di.destroyed);

	/* retire: not the current version, not while DEKs use it */
	assert_int_equal(veil_kms_kek_retire(kms, "hospital-a", 2, &err), VEIL_E_INVALID);
	assert_int_equal(veil_kms_kek_retire(kms, "hospital-a", 1, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "still wrapped"));
	assert_int_equal(veil_kms_kek_retire(kms, "hospital-a", 7, &err), VEIL_E_NOTFOUND);

	/* a second handle (another process, in effect) caches version 1 */
	veil_kms *other = open_ok(&f->cfg);
	dek_get_ok(other, ids[0], got);

	uint64_t moved = 0;
	assert_int_equal(veil_kms_kek_rewrap(kms, "hospital-a", &moved, &err), VEIL_OK);
	assert_int_equal(moved, N);
	assert_int_equal(veil_kms_kek_get(kms, "hospital-a", &info, &err), VEIL_OK);
	assert_int_equal(info.deks_on_old, 0);
	assert_int_equal(info.deks, 2 * N);
	for (int i = 0; i < 2 * N; i++) {
		dek_get_ok(kms, ids[i], got);
		assert_memory_equal(got, deks[i], 32);
		assert_int_equal(veil_kms_dek_info(kms, ids[i], &di, &err), VEIL_OK);
		assert_int_equal(di.kek_version, 2);
	}
	assert_int_equal(veil_kms_kek_rewrap(kms, "hospital-a", &moved, &err), VEIL_OK);
	assert_int_equal(moved, 0);

	assert_int_equal(veil_kms_kek_retire(kms, "hospital-a", 1, &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_retire(kms, "hospital-a", 1, &err), VEIL_OK); /* again: fine */
	assert_int_equal(veil_kms_kek_get(kms, "hospital-a", &info, &err), VEIL_OK);
	assert_int_equal(info.retired, 1);
	assert_int_equal(info.versions, 2);
	assert_int_equal(sql_long(f, "SELECT count(*) FROM keks WHERE name = 'hospital-a' AND version = 1 "
	                             "AND wrapped IS NULL AND state = 'retired'"),
	                 1);

	/* a DEK row forced back to the retired version: VEIL_E_KEY, also for
	 * the handle that had version 1 cached */
	char q[256];
	snprintf(q, sizeof q, "UPDATE deks SET kek_version = 1 WHERE id = '%s'", ids[3]);
	sql(f, q);
	assert_int_equal(veil_kms_dek_get(kms, ids[3], NULL, got, &err), VEIL_E_KEY);
	assert_non_null(strstr(err.msg, "retired"));
	assert_int_equal(veil_kms_dek_get(other, ids[3], NULL, got, &err), VEIL_E_KEY);
	uint8_t zero[32] = {0};
	assert_memory_equal(got, zero, 32); /* output wiped on failure */
	veil_kms_close(other);
	/* and the others are unaffected */
	dek_get_ok(kms, ids[4], got);
	assert_memory_equal(got, deks[4], 32);

	/* rotate again; version numbers keep counting */
	assert_int_equal(veil_kms_kek_rotate(kms, "hospital-a", &v, &err), VEIL_OK);
	assert_int_equal(v, 3);
	veil_kms_close(kms);
}

static void test_dek_destroy(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	char a[VEIL_DEK_ID_MAX], b[VEIL_DEK_ID_MAX];
	uint8_t ka[32], kb[32], got[32];
	assert_int_equal(veil_kms_dek_new(kms, "nobody", NULL, a, ka, &err), VEIL_E_NOTFOUND);
	assert_int_equal(veil_kms_kek_create(kms, "owner", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "owner", NULL, a, ka, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "owner", NULL, b, kb, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_destroy(kms, a, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_get(kms, a, NULL, got, &err), VEIL_E_KEY);
	assert_non_null(strstr(err.msg, "destroyed"));
	veil_dek_info di;
	assert_int_equal(veil_kms_dek_info(kms, a, &di, &err), VEIL_OK);
	assert_true(di.destroyed);
	assert_true(di.destroyed_at > 0);
	char q[256];
	snprintf(q, sizeof q, "SELECT count(*) FROM deks WHERE id = '%s' AND wrapped IS NULL", a);
	assert_int_equal(sql_long(f, q), 1);
	assert_int_equal(veil_kms_dek_destroy(kms, a, &err), VEIL_OK); /* again: fine */
	assert_int_equal(veil_kms_dek_destroy(kms, "dek-00", &err), VEIL_E_NOTFOUND);
	assert_int_equal(veil_kms_dek_get(kms, "dek-00", NULL, got, &err), VEIL_E_NOTFOUND);
	assert_int_equal(veil_kms_dek_info(kms, "dek-00", &di, &err), VEIL_E_NOTFOUND);
	assert_int_equal(veil_kms_dek_get(kms, "bad id", NULL, got, &err), VEIL_E_INVALID);
	assert_int_equal(veil_kms_dek_get(kms, "", NULL, got, &err), VEIL_E_INVALID);
	veil_kek_info info;
	assert_int_equal(veil_kms_kek_get(kms, "owner", &info, &err), VEIL_OK);
	assert_int_equal(info.deks, 1);
	dek_get_ok(kms, b, got);
	assert_memory_equal(got, kb, 32);
	veil_kms_close(kms);
}

static void test_dek_tamper(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	char a[VEIL_DEK_ID_MAX], b[VEIL_DEK_ID_MAX], c[VEIL_DEK_ID_MAX];
	uint8_t ka[32], kb[32], kc[32], got[32];
	assert_int_equal(veil_kms_kek_create(kms, "owner", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_create(kms, "other", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "owner", NULL, a, ka, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "owner", NULL, b, kb, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "other", NULL, c, kc, &err), VEIL_OK);
	char q[512];
	/* a flipped bit in a's wrapped blob: in the nonce, the ciphertext, the tag */
	char where[128];
	snprintf(where, sizeof where, "id = '%s'", a);
	static const int offs[] = {0, 11, 12, 43, 44, 59};
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		flip_blob(f, "deks", "wrapped", where, offs[i]);
		assert_int_equal(veil_kms_dek_get(kms, a, NULL, got, &err), VEIL_E_CORRUPT);
		flip_blob(f, "deks", "wrapped", where, offs[i]);
		dek_get_ok(kms, a, got);
		assert_memory_equal(got, ka, 32);
	}
	flip_blob(f, "deks", "wrapped", where, 30);
	assert_int_equal(veil_kms_dek_get(kms, a, NULL, got, &err), VEIL_E_CORRUPT);
	assert_non_null(strstr(err.msg, "fails authentication"));
	uint8_t zero[32] = {0};
	assert_memory_equal(got, zero, 32);
	/* b's blob copied onto a: same KEK version, other id */
	snprintf(q, sizeof q,
	         "UPDATE deks SET wrapped = (SELECT wrapped FROM deks WHERE id = '%s') WHERE id = '%s'", b,
	         a);
	sql(f, q);
	assert_int_equal(veil_kms_dek_get(kms, a, NULL, got, &err), VEIL_E_CORRUPT);
	/* b's blob moved to the other owner's KEK (by renaming its row) */
	snprintf(q, sizeof q, "UPDATE deks SET kek_name = 'other' WHERE id = '%s'", b);
	sql(f, q);
	assert_int_equal(veil_kms_dek_get(kms, b, NULL, got, &err), VEIL_E_CORRUPT);
	snprintf(q, sizeof q, "UPDATE deks SET kek_name = 'owner' WHERE id = '%s'", b);
	sql(f, q);
	dek_get_ok(kms, b, got);
	assert_memory_equal(got, kb, 32);
	veil_kms_close(kms);
	/* a flipped wrapped KEK: every DEK under it fails, as corrupt, on a
	 * fresh handle with nothing cached */
	flip_blob(f, "keks", "wrapped", "name = 'other'", 30);
	kms = open_ok(&f->cfg);
	assert_int_equal(veil_kms_dek_get(kms, c, NULL, got, &err), VEIL_E_CORRUPT);
	assert_non_null(strstr(err.msg, "KEK 'other'"));
	dek_get_ok(kms, b, got);
	veil_kms_close(kms);
	/* a flipped root check: the root no longer matches this keys.db */
	flip_blob(f, "meta", "value", "name = 'root_check'", 40);
	expect_open(f, VEIL_E_KEY, "not the one");
	flip_blob(f, "meta", "value", "name = 'root_check'", 40);
	veil_kms_close(open_ok(&f->cfg));
}

/* A rewrap that meets a damaged DEK half-way changes nothing at all. */
static void test_rewrap_atomic(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	enum { N = 6 };
	char ids[N][VEIL_DEK_ID_MAX];
	uint8_t deks[N][32], got[32];
	assert_int_equal(veil_kms_kek_create(kms, "owner", NULL, &err), VEIL_OK);
	for (int i = 0; i < N; i++)
		assert_int_equal(veil_kms_dek_new(kms, "owner", NULL, ids[i], deks[i], &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_rotate(kms, "owner", NULL, &err), VEIL_OK);
	char where[128];
	snprintf(where, sizeof where, "id = '%s'", ids[N / 2]);
	flip_blob(f, "deks", "wrapped", where, 40);
	uint64_t moved = 99;
	assert_int_equal(veil_kms_kek_rewrap(kms, "owner", &moved, &err), VEIL_E_CORRUPT);
	assert_int_equal(moved, 99); /* untouched on failure */
	assert_int_equal(sql_long(f, "SELECT count(*) FROM deks WHERE kek_version = 1"), N);
	veil_kek_info info;
	assert_int_equal(veil_kms_kek_get(kms, "owner", &info, &err), VEIL_OK);
	assert_int_equal(info.deks_on_old, N);
	/* repaired, the rewrap goes through and every DEK keeps its bytes */
	flip_blob(f, "deks", "wrapped", where, 40);
	assert_int_equal(veil_kms_kek_rewrap(kms, "owner", &moved, &err), VEIL_OK);
	assert_int_equal(moved, N);
	for (int i = 0; i < N; i++) {
		dek_get_ok(kms, ids[i], got);
		assert_memory_equal(got, deks[i], 32);
	}
	veil_kms_close(kms);
}

static void test_secret(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	uint8_t seed[32], got[32], odd[5] = {1, 2, 3, 4, 5}, got5[5];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(veil_kms_secret_put(kms, "audit-signing-key", seed, 32, &err), VEIL_OK);
	assert_int_equal(veil_kms_secret_put(kms, "audit-signing-key", seed, 32, &err), VEIL_E_EXISTS);
	assert_int_equal(veil_kms_secret_put(kms, "odd", odd, 5, &err), VEIL_OK);
	assert_int_equal(veil_kms_secret_put(kms, "empty", odd, 0, &err), VEIL_E_INVALID);
	assert_int_equal(veil_kms_secret_put(kms, "../x", odd, 5, &err), VEIL_E_INVALID);
	assert_int_equal(veil_kms_secret_get(kms, "audit-signing-key", got, 32, &err), VEIL_OK);
	assert_memory_equal(got, seed, 32);
	assert_int_equal(veil_kms_secret_get(kms, "odd", got5, 5, &err), VEIL_OK);
	assert_memory_equal(got5, odd, 5);
	assert_int_equal(veil_kms_secret_get(kms, "odd", got, 32, &err), VEIL_E_INVALID);
	assert_int_equal(veil_kms_secret_get(kms, "none", got, 32, &err), VEIL_E_NOTFOUND);
	veil_kms_close(kms);
	/* survives reopening; the wrapped form is not the secret */
	kms = open_ok(&f->cfg);
	assert_int_equal(veil_kms_secret_get(kms, "audit-signing-key", got, 32, &err), VEIL_OK);
	assert_memory_equal(got, seed, 32);
	/* a secret's blob moved to another purpose fails */
	sql(f, "UPDATE secrets SET wrapped = (SELECT wrapped FROM secrets WHERE purpose = 'odd') "
	       "WHERE purpose = 'audit-signing-key'");
	sql(f, "INSERT INTO secrets (purpose, wrapped, created) SELECT 'odd2', wrapped, 0 FROM secrets "
	       "WHERE purpose = 'odd'");
	assert_int_equal(veil_kms_secret_get(kms, "odd2", got5, 5, &err), VEIL_E_CORRUPT);
	uint8_t zero[5] = {0};
	assert_memory_equal(got5, zero, 5);
	veil_kms_close(kms);
}

/* ---- an independent decoder, written from docs/formats/keys.md with plain
 * OpenSSL: unseal root.sealed, unwrap a KEK, unwrap a DEK, and compare with
 * what the KMS returned. If the document and the code drift apart, this
 * fails. ---- */
static void gcm_open(const uint8_t key[32], const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                     const uint8_t *ct, size_t len, const uint8_t *tag, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0;
	assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce), 1);
	assert_int_equal(EVP_DecryptUpdate(c, NULL, &n, aad, (int)aad_len), 1);
	assert_int_equal(EVP_DecryptUpdate(c, out, &n, ct, (int)len), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag), 1);
	assert_int_equal(EVP_DecryptFinal_ex(c, out + n, &n), 1);
	EVP_CIPHER_CTX_free(c);
}

static void blob(const fixture *f, const char *q, uint8_t *out, size_t n)
{
	char p[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	path_of(f, "keys.db", p, sizeof p);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(st, 0), (int)n);
	memcpy(out, sqlite3_column_blob(st, 0), n);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static size_t lp(uint8_t *p, const char *s)
{
	p[0] = (uint8_t)strlen(s);
	memcpy(p + 1, s, p[0]);
	return 1 + (size_t)p[0];
}

static void test_format_decoder(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	char id[VEIL_DEK_ID_MAX];
	uint8_t dek[32];
	char rid[VEIL_DEK_ID_MAX];
	uint8_t rdek[32];
	assert_int_equal(veil_kms_kek_create(kms, "owner", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_rotate(kms, "owner", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "owner", NULL, id, dek, &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_create(kms, "hospital-a", "eu-west", &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "hospital-a", "eu-west", rid, rdek, &err), VEIL_OK);
	veil_kms_close(kms);

	/* root.sealed */
	char p[256];
	uint8_t file[169], kdf[64], root[32], mac[32], sum[32];
	unsigned maclen = 0;
	path_of(f, "root.sealed", p, sizeof p);
	read_all(p, file, sizeof file);
	assert_memory_equal(file, "VEILROOT", 8);
	assert_int_equal(file[8], 1);
	assert_int_equal(file[9], 1);
	assert_int_equal(file[10], 10);
	SHA256(file, 137, sum);
	assert_memory_equal(sum, file + 137, 32);
	assert_int_equal(EVP_PBE_scrypt(PASS, strlen(PASS), file + 13, 32, (uint64_t)1 << file[10], file[11],
	                                file[12], 0, kdf, sizeof kdf),
	                 1);
	uint8_t msg[29 + 57];
	/* bytes, not strings: no NUL wanted */
	// NOLINTNEXTLINE(bugprone-not-null-terminated-result)
	memcpy(msg, "veil.root.passphrase-check.v1", 29);
	memcpy(msg + 29, file, 57);
	assert_non_null(HMAC(EVP_sha256(), kdf + 32, 32, msg, sizeof msg, mac, &maclen));
	assert_memory_equal(mac, file + 57, 32);
	gcm_open(kdf, file + 45, file, 57, file + 89, 32, file + 121, root);

	/* the root check: 32 zero bytes */
	uint8_t w[60], check[32], zero[32] = {0};
	blob(f, "SELECT value FROM meta WHERE name = 'root_check'", w, sizeof w);
	gcm_open(root, w, (const uint8_t *)"veil.root-check.v1", 18, w + 12, 32, w + 44, check);
	assert_memory_equal(check, zero, 32);

	/* KEK owner v2, then the DEK */
	uint8_t aad[160], kek[32], plain[32];
	size_t n = 0;
	memcpy(aad, "veil.kek.v1", 11); // NOLINT(bugprone-not-null-terminated-result)
	n = 11 + lp(aad + 11, "owner");
	veil_put_be32(aad + n, 2);
	n += 4;
	blob(f, "SELECT wrapped FROM keks WHERE name = 'owner' AND version = 2", w, sizeof w);
	gcm_open(root, w, aad, n, w + 12, 32, w + 44, kek);
	memcpy(aad, "veil.dek.v1", 11); // NOLINT(bugprone-not-null-terminated-result)
	n = 11;
	n += lp(aad + n, id);
	n += lp(aad + n, "owner");
	veil_put_be32(aad + n, 2);
	n += 4;
	char q[256];
	snprintf(q, sizeof q, "SELECT wrapped FROM deks WHERE id = '%s'", id);
	blob(f, q, w, sizeof w);
	gcm_open(kek, w, aad, n, w + 12, 32, w + 44, plain);
	assert_memory_equal(plain, dek, 32);

	/* a KEK with a region: the region is appended to its AAD */
	assert_int_equal(sql_long(f,
	                          "SELECT count(*) FROM kek_regions WHERE name = 'hospital-a' AND region = "
	                          "'eu-west'"),
	                 1);
	memcpy(aad, "veil.kek.v1", 11); // NOLINT(bugprone-not-null-terminated-result)
	n = 11 + lp(aad + 11, "hospital-a");
	veil_put_be32(aad + n, 1);
	n += 4;
	n += lp(aad + n, "eu-west");
	assert_int_equal(n, 11 + 11 + 4 + 8);
	blob(f, "SELECT wrapped FROM keks WHERE name = 'hospital-a' AND version = 1", w, sizeof w);
	gcm_open(root, w, aad, n, w + 12, 32, w + 44, kek);
	memcpy(aad, "veil.dek.v1", 11); // NOLINT(bugprone-not-null-terminated-result)
	n = 11;
	n += lp(aad + n, rid);
	n += lp(aad + n, "hospital-a");
	veil_put_be32(aad + n, 1);
	n += 4;
	snprintf(q, sizeof q, "SELECT wrapped FROM deks WHERE id = '%s'", rid);
	blob(f, q, w, sizeof w);
	gcm_open(kek, w, aad, n, w + 12, 32, w + 44, plain);
	assert_memory_equal(plain, rdek, 32);
	veil_wipe(root, sizeof root);
	veil_wipe(kek, sizeof kek);
}

/* ---- crash safety: a child rotates, makes DEKs and re-wraps in a loop
 * and is killed with SIGKILL at a random moment; afterwards the store opens,
 * every DEK unwraps and the KEK's counts add up. ---- */
static void churn(const veil_kms_config *cfg)
{
	veil_kms *kms = NULL;
	if (veil_kms_open(cfg, &kms, NULL))
		_exit(2);
	char id[VEIL_DEK_ID_MAX];
	uint8_t dek[32];
	for (;;) {
		if (veil_kms_dek_new(kms, "owner", NULL, id, dek, NULL) ||
		    veil_kms_kek_rotate(kms, "owner", NULL, NULL) ||
		    veil_kms_dek_new(kms, "owner", NULL, id, dek, NULL) ||
		    veil_kms_kek_rewrap(kms, "owner", NULL, NULL))
			_exit(3);
	}
}

static void check_consistent(fixture *f)
{
	veil_kms *kms = open_ok(&f->cfg);
	veil_err err;
	char p[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	path_of(f, "keys.db", p, sizeof p);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT id FROM deks", -1, &st, NULL), SQLITE_OK);
	uint64_t n = 0;
	uint8_t got[32];
	while (sqlite3_step(st) == SQLITE_ROW) {
		dek_get_ok(kms, (const char *)sqlite3_column_text(st, 0), got);
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	veil_kek_info info;
	assert_int_equal(veil_kms_kek_get(kms, "owner", &info, &err), VEIL_OK);
	assert_int_equal(info.deks, n);
	assert_int_equal(sql_long(f, "SELECT count(*) FROM keks WHERE state = 'current'"), 1);
	assert_int_equal(sql_long(f, "SELECT max(version) FROM keks"), info.current_version);
	veil_kms_close(kms);
}

static void test_sigkill(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	assert_int_equal(veil_kms_kek_create(kms, "owner", NULL, NULL), VEIL_OK);
	veil_kms_close(kms);
	srand((unsigned)time(NULL));
	for (int round = 0; round < 6; round++) {
		pid_t a = fork();
		assert_true(a >= 0);
		if (a == 0)
			churn(&f->cfg);
		pid_t b = fork(); /* a second writer: the busy timeout must absorb it */
		assert_true(b >= 0);
		if (b == 0)
			churn(&f->cfg);
		usleep(20000 + (useconds_t)(rand() % 80000)); // NOLINT(cert-msc30-c): only a delay
		int sa = 0, sb = 0;
		kill(a, SIGKILL);
		kill(b, SIGKILL);
		waitpid(a, &sa, 0);
		waitpid(b, &sb, 0);
		/* each was killed, not failed on its own */
		assert_true(WIFSIGNALED(sa));
		assert_true(WIFSIGNALED(sb));
		check_consistent(f);
	}
	/* the writers did get work done between the kills */
	assert_true(sql_long(f, "SELECT count(*) FROM deks") > 0);
	assert_true(sql_long(f, "SELECT max(version) FROM keks") > 1);
}

/* ---- veil_kms_dek_list ---- */
typedef struct list_ctx {
	char (*ids)[VEIL_DEK_ID_MAX]; /* every id reported, in order */
	size_t n, cap;
	size_t stop_after;   /* fail with VEIL_E_DENIED on this call (0: never) */
	veil_kms *destroyer; /* destroy every second DEK reported, through this handle */
	veil_kms *checker;   /* compare each report with veil_kms_dek_info through this handle */
} list_ctx;

static veil_status collect(void *ctx, const veil_dek_info *d, veil_err *err)
{
	list_ctx *c = ctx;
	if (c->stop_after && c->n == c->stop_after)
		return veil_err_set(err, VEIL_E_DENIED, "stopped by the callback");
	assert_true(c->n < c->cap);
	assert_false(d->destroyed);
	assert_int_equal(d->destroyed_at, 0);
	assert_true(d->kek_version >= 1 && d->created > 0);
	memcpy(c->ids[c->n], d->id, VEIL_DEK_ID_MAX);
	if (c->checker) {
		veil_dek_info di;
		assert_int_equal(veil_kms_dek_info(c->checker, d->id, &di, NULL), VEIL_OK);
		assert_string_equal(di.kek_name, d->kek_name);
		assert_int_equal(di.kek_version, d->kek_version);
		assert_int_equal(di.created, d->created);
	}
	if (c->destroyer && c->n % 2 == 1) {
		veil_status st = veil_kms_dek_destroy(c->destroyer, d->id, err);
		if (st)
			return st;
	}
	c->n++;
	return VEIL_OK;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_dek_list(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	enum { N = 300 }; /* more than two of the list's batches of 128 */
	static char ids[N][VEIL_DEK_ID_MAX], got[N][VEIL_DEK_ID_MAX];
	uint8_t dek[32];
	list_ctx c = {.ids = got, .cap = N};
	/* an empty store lists nothing */
	assert_int_equal(veil_kms_dek_list(kms, collect, &c, &err), VEIL_OK);
	assert_int_equal(c.n, 0);
	assert_int_equal(veil_kms_dek_list(kms, NULL, &c, &err), VEIL_E_INVALID);
	assert_int_equal(veil_kms_kek_create(kms, "owner", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_create(kms, "other", NULL, &err), VEIL_OK);
	for (int i = 0; i < N; i++) {
		if (i == N / 2)
			assert_int_equal(veil_kms_kek_rotate(kms, "owner", NULL, &err), VEIL_OK);
		assert_int_equal(veil_kms_dek_new(kms, i % 3 ? "owner" : "other", NULL, ids[i], dek, &err),
		                 VEIL_OK);
	}
	/* every seventh is destroyed: listed no more */
	size_t live = 0;
	for (int i = 0; i < N; i++) {
		if (i % 7 == 0)
			assert_int_equal(veil_kms_dek_destroy(kms, ids[i], &err), VEIL_OK);
		else
			memcpy(ids[live++], ids[i], VEIL_DEK_ID_MAX);
	}
	qsort(ids, live, sizeof ids[0], cmp_id);
	/* the live ones, each once, in id order, as dek_info describes them */
	c.checker = kms;
	assert_int_equal(veil_kms_dek_list(kms, collect, &c, &err), VEIL_OK);
	assert_int_equal(c.n, live);
	for (size_t i = 0; i < live; i++)
		assert_string_equal(got[i], ids[i]);
	/* a non-OK return from the callback stops the list and is returned */
	c = (list_ctx){.ids = got, .cap = N, .stop_after = 1};
	assert_int_equal(veil_kms_dek_list(kms, collect, &c, &err), VEIL_E_DENIED);
	assert_string_equal(err.msg, "stopped by the callback");
	assert_int_equal(c.n, 1);
	/* a stop later on, past the first batch, is returned as it is too */
	c.n = 0;
	c.stop_after = 200;
	assert_int_equal(veil_kms_dek_list(kms, collect, &c, &err), VEIL_E_DENIED);
	assert_int_equal(c.n, 200);
	/* the callback may change keys.db: destroy every second DEK, as gc
	 * does with orphans, across batch boundaries */
	c = (list_ctx){.ids = got, .cap = N, .destroyer = kms};
	assert_int_equal(veil_kms_dek_list(kms, collect, &c, &err), VEIL_OK);
	assert_int_equal(c.n, live);
	uint8_t k[32];
	for (size_t i = 0; i < live; i++)
		assert_int_equal(veil_kms_dek_get(kms, ids[i], NULL, k, &err), i % 2 ? VEIL_E_KEY : VEIL_OK);
	c = (list_ctx){.ids = got, .cap = N};
	assert_int_equal(veil_kms_dek_list(kms, collect, &c, &err), VEIL_OK);
	assert_int_equal(c.n, (live + 1) / 2);
	for (size_t i = 0; i < c.n; i++)
		assert_string_equal(got[i], ids[2 * i]);
	/* a malformed row is reported, not copied */
	char q[256];
	snprintf(q, sizeof q, "UPDATE deks SET id = '%s%s' WHERE id = '%s'", ids[0], ids[0], ids[0]);
	sql(f, q);
	c = (list_ctx){.ids = got, .cap = N};
	assert_int_equal(veil_kms_dek_list(kms, collect, &c, &err), VEIL_E_CORRUPT);
	assert_int_equal(c.n, 0);
	veil_kms_close(kms);
}

/* ---- veil_kms_backup ---- */
static void copy_file(const char *from, const char *to)
{
	uint8_t buf[4096];
	FILE *in = fopen(from, "rb");
	assert_non_null(in);
	size_t n = fread(buf, 1, sizeof buf, in);
	fclose(in);
	write_all(to, buf, n);
}

/* Makes folder root/name holding a backup of kms as keys.db (checked to
 * be alone there, 0600 and a plain rollback-journal database) plus a copy
 * of f's root.sealed; returns the config that opens it. */
static veil_kms_config backup_to(fixture *f, veil_kms *kms, const char *name, char dir[128])
{
	char p[256], q[256];
	snprintf(dir, 128, "%s/%s", f->root, name);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(p, sizeof p, "%s/keys.db", dir);
	veil_err err;
	veil_status st = veil_kms_backup(kms, p, &err);
	if (st)
		fail_msg("backup: %s", err.msg);
	assert_int_equal(count_entries(dir), 1); /* no temporary file left */
	struct stat sb;
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	sqlite3 *db;
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "delete");
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	sqlite3_close(db);
	path_of(f, "root.sealed", p, sizeof p);
	snprintf(q, sizeof q, "%s/root.sealed", dir);
	copy_file(p, q);
	veil_kms_config cfg = f->cfg;
	cfg.dir = dir;
	return cfg;
}

static void test_backup(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	enum { N = 6 };
	char ids[N][VEIL_DEK_ID_MAX], later[VEIL_DEK_ID_MAX];
	uint8_t deks[N][32], got[32], seed[32] = {7, 7, 7};
	assert_int_equal(veil_kms_kek_create(kms, "owner", NULL, &err), VEIL_OK);
	for (int i = 0; i < N; i++) {
		if (i == N / 2)
			assert_int_equal(veil_kms_kek_rotate(kms, "owner", NULL, &err), VEIL_OK);
		assert_int_equal(veil_kms_dek_new(kms, "owner", NULL, ids[i], deks[i], &err), VEIL_OK);
	}
	assert_int_equal(veil_kms_dek_destroy(kms, ids[0], &err), VEIL_OK);
	assert_int_equal(veil_kms_secret_put(kms, "seed", seed, sizeof seed, &err), VEIL_OK);
	mode_t old = umask(0); /* the copy is 0600 whatever the umask */
	char dir[128];
	veil_kms_config cfg = backup_to(f, kms, "copy", dir);
	umask(old);
	/* a change after the backup is not in it */
	assert_int_equal(veil_kms_dek_new(kms, "owner", NULL, later, got, &err), VEIL_OK);
	veil_kms *copy = open_ok(&cfg);
	assert_int_equal(veil_kms_dek_get(copy, ids[0], NULL, got, &err), VEIL_E_KEY);
	for (int i = 1; i < N; i++) {
		dek_get_ok(copy, ids[i], got);
		assert_memory_equal(got, deks[i], 32);
	}
	assert_int_equal(veil_kms_dek_get(copy, later, NULL, got, &err), VEIL_E_NOTFOUND);
	assert_int_equal(veil_kms_secret_get(copy, "seed", got, sizeof seed, &err), VEIL_OK);
	assert_memory_equal(got, seed, sizeof seed);
	veil_kek_info info;
	assert_int_equal(veil_kms_kek_get(copy, "owner", &info, &err), VEIL_OK);
	assert_int_equal(info.current_version, 2);
	assert_int_equal(info.deks, N - 1);
	veil_kms_close(copy);
	/* the copy with another store's root.sealed is refused */
	fixture g = *f;
	snprintf(g.dir, sizeof g.dir, "%s/other", f->root);
	g.cfg.dir = g.dir;
	veil_kms_close(create_open(&g));
	char p[256], q[256];
	path_of(&g, "root.sealed", p, sizeof p);
	snprintf(q, sizeof q, "%s/root.sealed", dir);
	copy_file(p, q);
	assert_int_equal(veil_kms_open(&cfg, &copy, &err), VEIL_E_KEY);

	/* never replaces anything: a file, a dangling link */
	snprintf(p, sizeof p, "%s/keys.db", dir);
	uint8_t before[32], after[32];
	read_all(p, before, sizeof before);
	assert_int_equal(veil_kms_backup(kms, p, &err), VEIL_E_EXISTS);
	assert_true(err.hint[0] != '\0');
	read_all(p, after, sizeof after);
	assert_memory_equal(before, after, sizeof before);
	snprintf(p, sizeof p, "%s/link.db", dir);
	snprintf(q, sizeof q, "%s/target.db", dir);
	assert_int_equal(symlink(q, p), 0);
	assert_int_equal(veil_kms_backup(kms, p, &err), VEIL_E_EXISTS);
	assert_false(veil_fs_exists(q));
	/* the folder must exist; the path must name a file */
	snprintf(p, sizeof p, "%s/missing/keys.db", f->root);
	assert_int_equal(veil_kms_backup(kms, p, &err), VEIL_E_NOTFOUND);
	assert_non_null(strstr(err.hint, "create the folder"));
	snprintf(p, sizeof p, "%s/", dir);
	assert_int_equal(veil_kms_backup(kms, p, &err), VEIL_E_INVALID);
	assert_int_equal(veil_kms_backup(kms, "", &err), VEIL_E_INVALID);
	assert_int_equal(count_entries(dir), 3); /* keys.db, root.sealed, link.db: no temporary files */
	/* the live store was not disturbed */
	dek_get_ok(kms, later, got);
	veil_kms_close(kms);
}

/* Opens a backup and checks it is one consistent state: every live DEK
 * unwraps, the counts add up, the DEKs made before match. */
static size_t check_backup(const veil_kms_config *cfg, char (*ids)[VEIL_DEK_ID_MAX], uint8_t (*deks)[32],
                           int n)
{
	static char got[4096][VEIL_DEK_ID_MAX];
	list_ctx c = {.ids = got, .cap = 4096};
	veil_kms *kms = open_ok(cfg);
	veil_err err;
	uint8_t k[32];
	assert_int_equal(veil_kms_dek_list(kms, collect, &c, &err), VEIL_OK);
	for (size_t i = 0; i < c.n; i++)
		dek_get_ok(kms, got[i], k);
	veil_kek_info info;
	assert_int_equal(veil_kms_kek_get(kms, "owner", &info, &err), VEIL_OK);
	assert_int_equal(info.deks, c.n);
	assert_true(info.versions >= 1 && info.current_version == info.versions);
	for (int i = 0; i < n; i++) {
		dek_get_ok(kms, ids[i], k);
		assert_memory_equal(k, deks[i], 32);
	}
	veil_kms_close(kms);
	return c.n;
}

/* Backups taken while another process keeps rotating, making DEKs and
 * re-wrapping: each is one consistent snapshot, and the writer is never
 * made to fail. */
static void test_backup_concurrent(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	enum { N = 4 };
	char ids[N][VEIL_DEK_ID_MAX];
	uint8_t deks[N][32];
	assert_int_equal(veil_kms_kek_create(kms, "owner", NULL, &err), VEIL_OK);
	for (int i = 0; i < N; i++)
		assert_int_equal(veil_kms_dek_new(kms, "owner", NULL, ids[i], deks[i], &err), VEIL_OK);
	long before = sql_long(f, "SELECT count(*) FROM deks");
	pid_t w = fork();
	assert_true(w >= 0);
	if (w == 0)
		churn(&f->cfg);
	usleep(50000);
	/* at least 5 rounds, and on until two copies show different states
	 * (the writer really was writing between them) */
	char dir[128], name[32];
	size_t first = 0;
	bool moved = false;
	for (int round = 0; round < 50 && (round < 5 || !moved); round++) {
		snprintf(name, sizeof name, "copy%d", round);
		veil_kms_config cfg = backup_to(f, kms, name, dir);
		size_t live = check_backup(&cfg, ids, deks, N);
		if (round == 0)
			first = live;
		moved = moved || live != first;
		usleep(20000);
	}
	assert_true(moved);
	int sw = 0;
	kill(w, SIGKILL);
	waitpid(w, &sw, 0);
	assert_true(WIFSIGNALED(sw)); /* killed, not failed on its own */
	assert_true(sql_long(f, "SELECT count(*) FROM deks") > before);
	veil_kms_close(kms);
}

/* Another process holds keys.db's WAL write and recovery locks with the
 * WAL-index header in flux, as during a recovery: a reader gets
 * SQLITE_BUSY. The backup waits for it rather than fail. The offsets are
 * SQLite's documented WAL-index format (sqlite.org/walformat.html): two
 * copies of the 48-byte header at 0 and 48, lock bytes from 120 (write 120,
 * recover 122). */
static void hold_shm(const char *shm, int ready, useconds_t hold)
{
	int fd = open(shm, O_RDWR);
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 120, .l_len = 3};
	uint8_t b;
	if (fd < 0 || fcntl(fd, F_SETLK, &l) != 0 || pread(fd, &b, 1, 56) != 1)
		_exit(2);
	b ^= 0x01;
	if (pwrite(fd, &b, 1, 56) != 1 || write(ready, "x", 1) != 1)
		_exit(3);
	usleep(hold);
	b ^= 0x01;
	if (pwrite(fd, &b, 1, 56) != 1)
		_exit(4);
	_exit(0);
}

static void test_backup_busy(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	char id[VEIL_DEK_ID_MAX], shm[256];
	uint8_t dek[32], got[32];
	assert_int_equal(veil_kms_kek_create(kms, "owner", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "owner", NULL, id, dek, &err), VEIL_OK);
	path_of(f, "keys.db-shm", shm, sizeof shm);
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t h = fork();
	assert_true(h >= 0);
	if (h == 0)
		hold_shm(shm, pipefd[1], 700000);
	char c;
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	close(pipefd[1]);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char dir[128];
	veil_kms_config cfg = backup_to(f, kms, "copy", dir);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	int sh = 0;
	waitpid(h, &sh, 0);
	assert_true(WIFEXITED(sh) && WEXITSTATUS(sh) == 0);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 500); /* it did wait, past more than one step */
	veil_kms *copy = open_ok(&cfg);
	dek_get_ok(copy, id, got);
	assert_memory_equal(got, dek, 32);
	veil_kms_close(copy);
	veil_kms_close(kms);
}

/* ---- the minimum passphrase length binds create, not open ---- */
static void test_short_passphrase_open(void **state)
{
	fixture *f = *state;
	f->cfg.passphrase = "12345678";
	f->cfg.passphrase_len = 8;
	veil_kms_close(create_open(f));
	veil_kms_config c = f->cfg;
	veil_kms *kms = (veil_kms *)1;
	veil_err err;
	static const size_t lens[] = {7, 1, 0};
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		c.passphrase_len = lens[i]; /* prefixes of the right one, down to empty */
		assert_int_equal(veil_kms_open(&c, &kms, &err), VEIL_E_AUTH);
		assert_null(kms);
		assert_string_equal(err.msg, "wrong passphrase for the workspace root key");
		assert_non_null(strstr(err.hint, "check the passphrase"));
	}
	c.passphrase = "1234567";
	c.passphrase_len = 7;
	assert_int_equal(veil_kms_open(&c, &kms, &err), VEIL_E_AUTH);
	/* other failures still say what they are: a damaged file is damaged */
	char p[256];
	path_of(f, "root.sealed", p, sizeof p);
	flip_file_byte(p, 20);
	assert_int_equal(veil_kms_open(&c, &kms, &err), VEIL_E_CORRUPT);
	flip_file_byte(p, 20);
	c.passphrase = NULL;
	assert_int_equal(veil_kms_open(&c, &kms, &err), VEIL_E_INVALID);
	veil_kms_close(open_ok(&f->cfg));
}

/* ---- hints name CLI commands, never C functions ---- */
/* ---- regions: a KEK may name the one region its DEKs are released to ---- */

static const uint8_t zero32[32];

/* dek_get that must be refused with `want`, leaving the output all zero
 * although it held something before. */
static void dek_get_refused(veil_kms *kms, const char *id, const char *region, veil_status want,
                            veil_err *err)
{
	uint8_t got[32];
	memset(got, 0xA5, sizeof got);
	veil_status st = veil_kms_dek_get(kms, id, region, got, err);
	if (st != want)
		fail_msg("dek_get %s from '%s' gave %s (%s), wanted %s", id, region ? region : "(null)",
		         veil_status_str(st), err->msg, veil_status_str(want));
	assert_memory_equal(got, zero32, 32);
}

static void dek_get_in(veil_kms *kms, const char *id, const char *region, const uint8_t want[32])
{
	uint8_t got[32];
	veil_err err;
	if (veil_kms_dek_get(kms, id, region, got, &err))
		fail_msg("dek_get %s from '%s': %s", id, region ? region : "(null)", err.msg);
	assert_memory_equal(got, want, 32);
}

static void test_region_stored(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	assert_int_equal(veil_kms_kek_create(kms, "hospital-a", "eu-west", &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_create(kms, "bank.b", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_create(kms, "clinic", "", &err), VEIL_OK);
	/* a bad region is refused, and the KEK is not made */
	char long_region[VEIL_KMS_NAME_MAX + 2];
	memset(long_region, 'r', sizeof long_region - 1);
	long_region[sizeof long_region - 1] = '\0';
	const char *bad[] = {"-west", ".eu", "eu west", "eu/west", long_region};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(veil_kms_kek_create(kms, "lab", bad[i], &err), VEIL_E_INVALID);
		assert_non_null(strstr(err.msg, "region"));
	}
	veil_kek_info info;
	assert_int_equal(veil_kms_kek_get(kms, "lab", &info, &err), VEIL_E_NOTFOUND);
	/* the region is not changed by creating the name again */
	assert_int_equal(veil_kms_kek_create(kms, "hospital-a", "us-east", &err), VEIL_E_EXISTS);
	assert_int_equal(veil_kms_kek_create(kms, "bank.b", "us-east", &err), VEIL_E_EXISTS);

	veil_kek_info *list = NULL;
	size_t n = 0;
	assert_int_equal(veil_kms_kek_list(kms, &list, &n, &err), VEIL_OK);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].name, "bank.b");
	assert_string_equal(list[0].region, "");
	assert_string_equal(list[1].name, "clinic");
	assert_string_equal(list[1].region, "");
	assert_string_equal(list[2].name, "hospital-a");
	assert_string_equal(list[2].region, "eu-west");
	free(list);
	/* one row per KEK name with a region, none for the others */
	assert_int_equal(sql_long(f, "SELECT count(*) FROM kek_regions"), 1);

	/* rotation keeps it, and new versions are made in it */
	uint32_t v = 0;
	char id1[VEIL_DEK_ID_MAX], id2[VEIL_DEK_ID_MAX];
	uint8_t k1[32], k2[32];
	assert_int_equal(veil_kms_dek_new(kms, "hospital-a", "eu-west", id1, k1, &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_rotate(kms, "hospital-a", &v, &err), VEIL_OK);
	assert_int_equal(v, 2);
	assert_int_equal(veil_kms_kek_get(kms, "hospital-a", &info, &err), VEIL_OK);
	assert_string_equal(info.region, "eu-west");
	assert_int_equal(info.current_version, 2);
	assert_int_equal(veil_kms_dek_new(kms, "hospital-a", "eu-west", id2, k2, &err), VEIL_OK);
	dek_get_refused(kms, id2, "us-east", VEIL_E_DENIED, &err);
	/* rewrap is not a request: it moves the DEK without any region */
	uint64_t moved = 0;
	assert_int_equal(veil_kms_kek_rewrap(kms, "hospital-a", &moved, &err), VEIL_OK);
	assert_int_equal(moved, 1);
	assert_int_equal(veil_kms_kek_retire(kms, "hospital-a", 1, &err), VEIL_OK);
	veil_kms_close(kms);
	/* all of it survives closing */
	kms = open_ok(&f->cfg);
	dek_get_in(kms, id1, "eu-west", k1);
	dek_get_in(kms, id2, "eu-west", k2);
	dek_get_refused(kms, id1, "us-east", VEIL_E_DENIED, &err);
	assert_int_equal(veil_kms_kek_get(kms, "hospital-a", &info, &err), VEIL_OK);
	assert_string_equal(info.region, "eu-west");
	assert_int_equal(info.retired, 1);
	veil_kms_close(kms);
}

static void test_region_release(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	char id[VEIL_DEK_ID_MAX], refused[VEIL_DEK_ID_MAX];
	uint8_t dek[32], got[32];
	assert_int_equal(veil_kms_kek_create(kms, "hospital-a", "eu-west", &err), VEIL_OK);

	/* a new DEK: only in the KEK's region; a refusal makes no DEK */
	assert_int_equal(veil_kms_dek_new(kms, "hospital-a", "eu-west", id, dek, &err), VEIL_OK);
	const char *elsewhere[] = {"us-east", NULL, "", "EU-WEST", "eu-west-1", "eu"};
	for (size_t i = 0; i < sizeof elsewhere / sizeof elsewhere[0]; i++) {
		memset(got, 0xA5, sizeof got);
		assert_int_equal(veil_kms_dek_new(kms, "hospital-a", elsewhere[i], refused, got, &err),
		                 VEIL_E_DENIED);
		assert_memory_equal(got, zero32, 32);
		assert_int_equal(err.code, VEIL_E_DENIED);
	}
	assert_int_equal(sql_long(f, "SELECT count(*) FROM deks"), 1);

	/* an existing DEK: the same */
	dek_get_in(kms, id, "eu-west", dek);
	for (size_t i = 0; i < sizeof elsewhere / sizeof elsewhere[0]; i++)
		dek_get_refused(kms, id, elsewhere[i], VEIL_E_DENIED, &err);

	/* what the refusal says, for a request from another region and from none */
	dek_get_refused(kms, id, "us-east", VEIL_E_DENIED, &err);
	assert_string_equal(err.msg,
	                    "key 'hospital-a' may only be released in region 'eu-west'; this request "
	                    "comes from region 'us-east'");
	assert_non_null(strstr(err.hint, "region 'eu-west'"));
	dek_get_refused(kms, id, NULL, VEIL_E_DENIED, &err);
	assert_non_null(strstr(err.msg, "may only be released in region 'eu-west'"));
	assert_non_null(strstr(err.msg, "names no region"));
	assert_int_equal(veil_kms_dek_new(kms, "hospital-a", "", refused, got, &err), VEIL_E_DENIED);
	assert_non_null(strstr(err.msg, "names no region"));
	assert_non_null(strstr(err.hint, "region 'eu-west'"));

	/* a malformed request region is a bad argument, whatever the KEK */
	dek_get_refused(kms, id, "eu west", VEIL_E_INVALID, &err);
	dek_get_refused(kms, id, "../eu-west", VEIL_E_INVALID, &err);

	/* the region is checked before anything else about the DEK: from the
	 * wrong region, a destroyed DEK is refused as such, not reported destroyed */
	char gone[VEIL_DEK_ID_MAX];
	assert_int_equal(veil_kms_dek_new(kms, "hospital-a", "eu-west", gone, got, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_destroy(kms, gone, &err), VEIL_OK);
	dek_get_refused(kms, gone, "us-east", VEIL_E_DENIED, &err);
	dek_get_refused(kms, gone, "eu-west", VEIL_E_KEY, &err);
	/* an unknown id stays unknown */
	dek_get_refused(kms, "dek-00", "us-east", VEIL_E_NOTFOUND, &err);
	veil_kms_close(kms);

	/* ... and before any unwrap: with the wrapped KEK damaged, a fresh
	 * handle from the right region reaches the unwrap and finds it corrupt,
	 * one from elsewhere is refused without getting that far */
	flip_blob(f, "keks", "wrapped", "name = 'hospital-a'", 20);
	kms = open_ok(&f->cfg);
	dek_get_refused(kms, id, "us-east", VEIL_E_DENIED, &err);
	assert_int_equal(veil_kms_dek_new(kms, "hospital-a", "us-east", refused, got, &err), VEIL_E_DENIED);
	dek_get_refused(kms, id, "eu-west", VEIL_E_CORRUPT, &err);
	assert_int_equal(veil_kms_dek_new(kms, "hospital-a", "eu-west", refused, got, &err), VEIL_E_CORRUPT);
	assert_memory_equal(got, zero32, 32);
	veil_kms_close(kms);
}

/* A KEK without a region releases to any request, as before regions. */
static void test_region_none(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	const char *from[] = {NULL, "", "eu-west", "us-east"};
	enum { N = sizeof from / sizeof from[0] };
	char ids[N][VEIL_DEK_ID_MAX];
	uint8_t deks[N][32];
	assert_int_equal(veil_kms_kek_create(kms, "bank.b", NULL, &err), VEIL_OK);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(veil_kms_dek_new(kms, "bank.b", from[i], ids[i], deks[i], &err), VEIL_OK);
	for (size_t i = 0; i < N; i++)
		for (size_t j = 0; j < N; j++)
			dek_get_in(kms, ids[i], from[j], deks[i]);
	/* a malformed request region is still refused */
	dek_get_refused(kms, ids[0], "eu west", VEIL_E_INVALID, &err);
	veil_kms_close(kms);
}

/* The region is bound into the wrapped KEK: whoever edits it in keys.db,
 * to have the DEKs released elsewhere, gets nothing released at all, also
 * from a handle that had the KEK cached before the edit. */
static void test_region_tamper(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	char id[VEIL_DEK_ID_MAX], other[VEIL_DEK_ID_MAX];
	uint8_t dek[32], odek[32], got[32];
	assert_int_equal(veil_kms_kek_create(kms, "hospital-a", "eu-west", &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_create(kms, "bank.b", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "hospital-a", "eu-west", id, dek, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "bank.b", NULL, other, odek, &err), VEIL_OK);
	dek_get_in(kms, id, "eu-west", dek); /* the KEK is now cached in kms */

	/* moved to another region */
	sql(f, "UPDATE kek_regions SET region = 'us-east' WHERE name = 'hospital-a'");
	dek_get_refused(kms, id, "us-east", VEIL_E_CORRUPT, &err);
	assert_non_null(strstr(err.msg, "fails authentication"));
	dek_get_refused(kms, id, "eu-west", VEIL_E_DENIED, &err);
	assert_int_equal(veil_kms_dek_new(kms, "hospital-a", "us-east", other, got, &err), VEIL_E_CORRUPT);
	assert_memory_equal(got, zero32, 32);
	veil_kms *fresh = open_ok(&f->cfg);
	dek_get_refused(fresh, id, "us-east", VEIL_E_CORRUPT, &err);
	veil_kms_close(fresh);

	/* removed, so that anyone could have it */
	sql(f, "DELETE FROM kek_regions WHERE name = 'hospital-a'");
	dek_get_refused(kms, id, NULL, VEIL_E_CORRUPT, &err);
	dek_get_refused(kms, id, "us-east", VEIL_E_CORRUPT, &err);
	fresh = open_ok(&f->cfg);
	dek_get_refused(fresh, id, NULL, VEIL_E_CORRUPT, &err);
	veil_kms_close(fresh);

	/* put back as it was: released again, in its region only */
	sql(f, "INSERT INTO kek_regions (name, region) VALUES ('hospital-a', 'eu-west')");
	dek_get_in(kms, id, "eu-west", dek);
	dek_get_refused(kms, id, "us-east", VEIL_E_DENIED, &err);

	/* given to a KEK that had none: that KEK no longer unwraps either */
	sql(f, "INSERT INTO kek_regions (name, region) VALUES ('bank.b', 'us-east')");
	dek_get_refused(kms, other, "us-east", VEIL_E_CORRUPT, &err);
	veil_kms_close(kms);
	/* a malformed row is a damaged store, not "no region"; the table's
	 * CHECK refuses to make one, so switch that off as an editor could */
	sql(f,
	    "PRAGMA ignore_check_constraints = ON; UPDATE kek_regions SET region = '' WHERE name = 'bank.b'");
	kms = open_ok(&f->cfg);
	dek_get_refused(kms, other, NULL, VEIL_E_CORRUPT, &err);
	assert_non_null(strstr(err.msg, "region"));
	veil_kek_info info;
	assert_int_equal(veil_kms_kek_get(kms, "bank.b", &info, &err), VEIL_E_CORRUPT);
	veil_kms_close(kms);
}

static void test_region_backup(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	char id[VEIL_DEK_ID_MAX];
	uint8_t dek[32];
	assert_int_equal(veil_kms_kek_create(kms, "hospital-a", "eu-west", &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_rotate(kms, "hospital-a", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "hospital-a", "eu-west", id, dek, &err), VEIL_OK);
	char dir[128];
	veil_kms_config cfg = backup_to(f, kms, "copy", dir);
	veil_kms_close(kms);
	veil_kms *copy = open_ok(&cfg);
	veil_kek_info info;
	assert_int_equal(veil_kms_kek_get(copy, "hospital-a", &info, &err), VEIL_OK);
	assert_string_equal(info.region, "eu-west");
	assert_int_equal(info.current_version, 2);
	dek_get_in(copy, id, "eu-west", dek);
	dek_get_refused(copy, id, "us-east", VEIL_E_DENIED, &err);
	dek_get_refused(copy, id, NULL, VEIL_E_DENIED, &err);
	veil_kms_close(copy);
}

/* A keys.db of schema version 1 (before regions) opens, is migrated to
 * version 2 in place, and its KEKs have no region: their DEKs are released
 * to any request, and unwrap with the AAD they were made with. */
static void test_migrate_v1(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	enum { N = 3 };
	char ids[N][VEIL_DEK_ID_MAX], later[VEIL_DEK_ID_MAX];
	uint8_t deks[N][32], seed[32] = {1, 2, 3}, got[32];
	assert_int_equal(veil_kms_kek_create(kms, "owner", NULL, &err), VEIL_OK);
	for (int i = 0; i < N; i++) {
		if (i == 1)
			assert_int_equal(veil_kms_kek_rotate(kms, "owner", NULL, &err), VEIL_OK);
		assert_int_equal(veil_kms_dek_new(kms, "owner", NULL, ids[i], deks[i], &err), VEIL_OK);
	}
	assert_int_equal(veil_kms_secret_put(kms, "seed", seed, sizeof seed, &err), VEIL_OK);
	veil_kms_close(kms);
	/* back to exactly what step 1 made, which shipped and is never edited */
	sql(f, "DROP TABLE kek_regions; UPDATE schema_version SET version = 1");
	assert_int_equal(sql_long(f, "SELECT count(*) FROM sqlite_schema WHERE name = 'kek_regions'"), 0);

	kms = open_ok(&f->cfg);
	assert_int_equal(sql_long(f, "SELECT version FROM schema_version"), 2);
	assert_int_equal(sql_long(f, "SELECT count(*) FROM schema_version"), 1);
	assert_int_equal(sql_long(f, "SELECT count(*) FROM kek_regions"), 0);
	veil_kek_info info;
	assert_int_equal(veil_kms_kek_get(kms, "owner", &info, &err), VEIL_OK);
	assert_string_equal(info.region, "");
	assert_int_equal(info.current_version, 2);
	assert_int_equal(info.deks, N);
	for (int i = 0; i < N; i++) {
		dek_get_in(kms, ids[i], NULL, deks[i]);
		dek_get_in(kms, ids[i], "us-east", deks[i]);
	}
	assert_int_equal(veil_kms_secret_get(kms, "seed", got, sizeof seed, &err), VEIL_OK);
	assert_memory_equal(got, seed, sizeof seed);
	/* the old KEK keeps working: a new version, a new DEK, a rewrap */
	assert_int_equal(veil_kms_kek_rotate(kms, "owner", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "owner", "eu-west", later, got, &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_rewrap(kms, "owner", NULL, &err), VEIL_OK);
	dek_get_in(kms, ids[0], NULL, deks[0]);
	/* and the migrated store takes KEKs with regions */
	assert_int_equal(veil_kms_kek_create(kms, "hospital-a", "eu-west", &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "hospital-a", "eu-west", later, got, &err), VEIL_OK);
	dek_get_refused(kms, later, "us-east", VEIL_E_DENIED, &err);
	veil_kms_close(kms);
	/* migrating is done once: opening again changes nothing */
	kms = open_ok(&f->cfg);
	assert_int_equal(sql_long(f, "SELECT version FROM schema_version"), 2);
	dek_get_in(kms, later, "eu-west", got);
	veil_kms_close(kms);
	/* a store newer than this code is refused, not opened */
	sql(f, "UPDATE schema_version SET version = 3");
	kms = (veil_kms *)1;
	assert_int_equal(veil_kms_open(&f->cfg, &kms, &err), VEIL_E_UNSUPPORTED);
	assert_null(kms);
	assert_non_null(strstr(err.msg, "schema version 3"));
}

static void no_c_names(const veil_err *err)
{
	if (strstr(err->hint, "veil_") || strstr(err->msg, "veil_kms_"))
		fail_msg("names a C function: %s / %s", err->msg, err->hint);
}

static void test_hints(void **state)
{
	fixture *f = *state;
	veil_kms *kms = create_open(f);
	veil_err err;
	char id[VEIL_DEK_ID_MAX];
	uint8_t dek[32];
	veil_kek_info info;
	assert_int_equal(veil_kms_kek_create(kms, "owner", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "owner", NULL, id, dek, &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_rotate(kms, "owner", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_retire(kms, "owner", 1, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.hint, "'veil key rotate owner --rewrap'"));
	no_c_names(&err);
	assert_int_equal(veil_kms_kek_retire(kms, "owner", 2, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.hint, "'veil key rotate owner --rewrap'"));
	assert_non_null(strstr(err.hint, "version 2"));
	no_c_names(&err);
	assert_int_equal(veil_kms_kek_get(kms, "nobody", &info, &err), VEIL_E_NOTFOUND);
	assert_non_null(strstr(err.hint, "'veil key list'"));
	no_c_names(&err);
	assert_int_equal(veil_kms_kek_retire(kms, "nobody", 1, &err), VEIL_E_NOTFOUND);
	no_c_names(&err);
	assert_int_equal(veil_kms_dek_new(kms, "nobody", NULL, id, dek, &err), VEIL_E_NOTFOUND);
	no_c_names(&err);
	veil_kms_close(kms);
}

int main(void)
{
	if (veil_crypto_init(NULL))
		return 1;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_create_open, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_wal_mode, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_default_kdf, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_wrong_passphrase, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_short_passphrase, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tampered_root, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_root_swap, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_kek_lifecycle, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_dek_destroy, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_dek_tamper, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rewrap_atomic, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_secret, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_format_decoder, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_sigkill, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_dek_list, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_backup_concurrent, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_backup_busy, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_short_passphrase_open, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hints, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_region_stored, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_region_release, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_region_none, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_region_tamper, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_region_backup, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
