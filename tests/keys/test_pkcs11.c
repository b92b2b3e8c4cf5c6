/* Unit tests for the KMS with the PKCS#11 root, against SoftHSM2 in a
 * scratch token folder: create/open/KEK/DEK/secret end to end, the root
 * key's attributes read straight from the token (not extractable,
 * sensitive, its value unreadable), reopening, a wrong PIN, the other ways
 * opening can fail, a pre-existing key, a tampered wrapped KEK, and a KEK
 * with a region (its AAD computed by the token). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../common/scratch.h"

#include <dlfcn.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>
#include <sqlite3.h>

#include "veil/keys.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define TOKEN  "veil-test"
#define PIN    "87654321"
#define LABEL  "veil-root"

typedef struct hsm {
	char root[64];
	char dir[128];
	veil_kms_config cfg;
} hsm;

static int setup(void **state)
{
	hsm *h = calloc(1, sizeof *h);
	if (!h)
		return -1;
	*state = h;
	snprintf(h->root, sizeof h->root, "/tmp/veil-p11-XXXXXX");
	if (!mkdtemp(h->root))
		return -1;
	snprintf(h->dir, sizeof h->dir, "%s/keys", h->root);
	h->cfg = (veil_kms_config){.dir = h->dir,
	                           .provider = "pkcs11",
	                           .pkcs11_module = MODULE,
	                           .pkcs11_token = TOKEN,
	                           .pkcs11_key_label = LABEL,
	                           .pkcs11_pin = PIN};
	if (access(MODULE, R_OK) != 0)
		return 0; /* each test skips */
	char conf[128], tokens[128], cmd[512];
	snprintf(conf, sizeof conf, "%s/softhsm2.conf", h->root);
	snprintf(tokens, sizeof tokens, "%s/tokens", h->root);
	if (mkdir(tokens, 0700) != 0)
		return -1;
	FILE *fp = fopen(conf, "w");
	if (!fp)
		return -1;
	fprintf(fp, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens);
	fclose(fp);
	setenv("SOFTHSM2_CONF", conf, 1);
	snprintf(cmd, sizeof cmd,
	         "softhsm2-util --init-token --free --label %s --so-pin 12345678 --pin %s "
	         ">/dev/null 2>&1",
	         TOKEN, PIN);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	hsm *h = *state;
	scratch_remove(h->root);
	unsetenv("SOFTHSM2_CONF");
	free(h);
	return 0;
}

static void need_softhsm(void)
{
	if (access(MODULE, R_OK) != 0)
		skip();
}

static veil_kms *open_ok(const veil_kms_config *cfg)
{
	veil_kms *kms = NULL;
	veil_err err;
	if (veil_kms_open(cfg, &kms, &err))
		fail_msg("open: %s", err.msg);
	return kms;
}

static void create_ok(const veil_kms_config *cfg)
{
	veil_err err;
	if (veil_kms_create(cfg, &err))
		fail_msg("create: %s", err.msg);
}

/* What the token itself says about the keys labelled `label`, through a
 * PKCS#11 session of the test's own (the KMS must be closed). */
typedef struct key_facts {
	CK_ULONG count;
	CK_BBOOL extractable, sensitive, token, wrap;
	CK_KEY_TYPE type;
	CK_ULONG len;
	CK_RV value_rv; /* reading CKA_VALUE */
} key_facts;

static void inspect(const char *label, key_facts *k)
{
	memset(k, 0, sizeof *k);
	void *lib = dlopen(MODULE, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(lib);
	void *sym = dlsym(lib, "C_GetFunctionList");
	CK_C_GetFunctionList get;
	memcpy(&get, &sym, sizeof get);
	CK_FUNCTION_LIST_PTR f = NULL;
	assert_int_equal(get(&f), CKR_OK);
	assert_int_equal(f->C_Initialize(NULL), CKR_OK);
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16, i;
	assert_int_equal(f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	char want[33];
	snprintf(want, sizeof want, "%-32s", TOKEN);
	for (i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		assert_int_equal(f->C_GetTokenInfo(slots[i], &ti), CKR_OK);
		if (memcmp(ti.label, want, 32) == 0)
			break;
	}
	assert_true(i < n);
	CK_SESSION_HANDLE s;
	assert_int_equal(f->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	assert_int_equal(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)PIN, strlen(PIN)), CKR_OK);
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, (void *)label, strlen(label)}};
	CK_OBJECT_HANDLE found[4];
	assert_int_equal(f->C_FindObjectsInit(s, t, 2), CKR_OK);
	assert_int_equal(f->C_FindObjects(s, found, 4, &k->count), CKR_OK);
	assert_int_equal(f->C_FindObjectsFinal(s), CKR_OK);
	if (k->count > 0) {
		CK_ATTRIBUTE a[] = {
		        {CKA_EXTRACTABLE, &k->extractable, sizeof k->extractable},
		        {CKA_SENSITIVE, &k->sensitive, sizeof k->sensitive},
		        {CKA_TOKEN, &k->token, sizeof k->token},
		        {CKA_WRAP, &k->wrap, sizeof k->wrap},
		        {CKA_KEY_TYPE, &k->type, sizeof k->type},
		        {CKA_VALUE_LEN, &k->len, sizeof k->len},
		};
		assert_int_equal(f->C_GetAttributeValue(s, found[0], a, sizeof a / sizeof a[0]), CKR_OK);
		uint8_t value[64];
		CK_ATTRIBUTE v = {CKA_VALUE, value, sizeof value};
		k->value_rv = f->C_GetAttributeValue(s, found[0], &v, 1);
	}
	f->C_Logout(s);
	f->C_CloseSession(s);
	assert_int_equal(f->C_Finalize(NULL), CKR_OK);
	dlclose(lib);
}

static void test_end_to_end(void **state)
{
	need_softhsm();
	hsm *h = *state;
	create_ok(&h->cfg);
	veil_kms *kms = open_ok(&h->cfg);
	veil_err err;
	enum { N = 4 };
	char ids[N][VEIL_DEK_ID_MAX];
	uint8_t deks[N][32], got[32];
	assert_int_equal(veil_kms_kek_create(kms, "hospital-a", NULL, &err), VEIL_OK);
	for (int i = 0; i < N - 1; i++)
		assert_int_equal(veil_kms_dek_new(kms, "hospital-a", NULL, ids[i], deks[i], &err), VEIL_OK);
	uint32_t v = 0;
	assert_int_equal(veil_kms_kek_rotate(kms, "hospital-a", &v, &err), VEIL_OK);
	assert_int_equal(v, 2);
	assert_int_equal(veil_kms_dek_new(kms, "hospital-a", NULL, ids[N - 1], deks[N - 1], &err), VEIL_OK);
	for (int i = 0; i < N; i++) {
		assert_int_equal(veil_kms_dek_get(kms, ids[i], NULL, got, &err), VEIL_OK);
		assert_memory_equal(got, deks[i], 32);
	}
	uint64_t moved = 0;
	assert_int_equal(veil_kms_kek_rewrap(kms, "hospital-a", &moved, &err), VEIL_OK);
	assert_int_equal(moved, N - 1);
	assert_int_equal(veil_kms_kek_retire(kms, "hospital-a", 1, &err), VEIL_OK);
	/* secrets of odd and even lengths, wrapped inside the token */
	uint8_t seed[32], odd[7] = {9, 8, 7, 6, 5, 4, 3}, s32[32], s7[7];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(0xA5 ^ i);
	assert_int_equal(veil_kms_secret_put(kms, "audit-signing-key", seed, 32, &err), VEIL_OK);
	assert_int_equal(veil_kms_secret_put(kms, "odd", odd, 7, &err), VEIL_OK);
	veil_kms_close(kms);

	/* the root key as the token describes it */
	key_facts k;
	inspect(LABEL, &k);
	assert_int_equal(k.count, 1);
	assert_int_equal(k.extractable, CK_FALSE);
	assert_int_equal(k.sensitive, CK_TRUE);
	assert_int_equal(k.token, CK_TRUE);
	assert_int_equal(k.wrap, CK_FALSE);
	assert_int_equal(k.type, CKK_AES);
	assert_int_equal(k.len, 32);
	assert_int_equal(k.value_rv, CKR_ATTRIBUTE_SENSITIVE);

	/* reopening sees the same DEKs and secrets */
	kms = open_ok(&h->cfg);
	for (int i = 0; i < N; i++) {
		assert_int_equal(veil_kms_dek_get(kms, ids[i], NULL, got, &err), VEIL_OK);
		assert_memory_equal(got, deks[i], 32);
	}
	assert_int_equal(veil_kms_secret_get(kms, "audit-signing-key", s32, 32, &err), VEIL_OK);
	assert_memory_equal(s32, seed, 32);
	assert_int_equal(veil_kms_secret_get(kms, "odd", s7, 7, &err), VEIL_OK);
	assert_memory_equal(s7, odd, 7);
	veil_kek_info info;
	assert_int_equal(veil_kms_kek_get(kms, "hospital-a", &info, &err), VEIL_OK);
	assert_int_equal(info.current_version, 2);
	assert_int_equal(info.deks, N);
	assert_int_equal(info.deks_on_old, 0);
	assert_int_equal(info.retired, 1);
	veil_kms_close(kms);
	/* a second create in the same folder refuses */
	assert_int_equal(veil_kms_create(&h->cfg, &err), VEIL_E_EXISTS);
}

static void test_wrong_pin(void **state)
{
	need_softhsm();
	hsm *h = *state;
	create_ok(&h->cfg);
	veil_kms_config c = h->cfg;
	c.pkcs11_pin = "00000000";
	veil_kms *kms = (veil_kms *)1;
	veil_err err;
	assert_int_equal(veil_kms_open(&c, &kms, &err), VEIL_E_AUTH);
	assert_null(kms);
	assert_non_null(strstr(err.msg, "wrong PIN"));
	assert_non_null(strstr(err.msg, TOKEN));
	assert_true(err.hint[0] != '\0');
	/* create with a wrong PIN fails the same way and makes nothing */
	char other[160];
	snprintf(other, sizeof other, "%s/other", h->root);
	c.dir = other;
	assert_int_equal(veil_kms_create(&c, &err), VEIL_E_AUTH);
	char p[200];
	snprintf(p, sizeof p, "%s/keys.db", other);
	assert_false(veil_fs_exists(p));
	veil_kms_close(open_ok(&h->cfg));
}

static void expect_open(const veil_kms_config *c, veil_status want, const char *part)
{
	veil_kms *kms = NULL;
	veil_err err;
	veil_status st = veil_kms_open(c, &kms, &err);
	if (st != want)
		fail_msg("open gave %s (%s), wanted %s", veil_status_str(st), err.msg, veil_status_str(want));
	assert_null(kms);
	if (!strstr(err.msg, part))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, part);
}

static void test_open_errors(void **state)
{
	need_softhsm();
	hsm *h = *state;
	create_ok(&h->cfg);
	veil_kms_config c = h->cfg;
	c.pkcs11_module = "/nonexistent/libpkcs11.so";
	expect_open(&c, VEIL_E_NOTFOUND, "cannot load the PKCS#11 module");
	c.pkcs11_module = "libsqlite3.so.0";
	expect_open(&c, VEIL_E_INVALID, "not a PKCS#11 module");
	c = h->cfg;
	c.pkcs11_token = "no-such-token";
	expect_open(&c, VEIL_E_NOTFOUND, "no initialised PKCS#11 token");
	c.pkcs11_token = "a-token-label-longer-than-32-bytes";
	expect_open(&c, VEIL_E_INVALID, "pkcs11_token");
	c = h->cfg;
	c.pkcs11_key_label = "another-key";
	expect_open(&c, VEIL_E_NOTFOUND, "no secret key labelled");
	c = h->cfg;
	c.pkcs11_pin = NULL;
	expect_open(&c, VEIL_E_INVALID, "pkcs11_pin");
	c = h->cfg;
	c.provider = "file";
	c.passphrase = "some passphrase";
	c.passphrase_len = strlen(c.passphrase);
	expect_open(&c, VEIL_E_INVALID, "uses the pkcs11 root provider");
	veil_kms_close(open_ok(&h->cfg));
}

/* A key with the label already in the token becomes the root of a new
 * store; veil does not make a second one. */
static void test_existing_key(void **state)
{
	need_softhsm();
	hsm *h = *state;
	create_ok(&h->cfg);
	veil_kms_config c = h->cfg;
	char other[160];
	snprintf(other, sizeof other, "%s/other", h->root);
	c.dir = other;
	create_ok(&c);
	key_facts k;
	inspect(LABEL, &k);
	assert_int_equal(k.count, 1);
	veil_kms *a = open_ok(&h->cfg);
	veil_kms *b = open_ok(&c); /* shares the module's initialisation */
	veil_err err;
	char id[VEIL_DEK_ID_MAX];
	uint8_t dek[32], got[32];
	assert_int_equal(veil_kms_kek_create(b, "owner", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(b, "owner", NULL, id, dek, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_get(b, id, NULL, got, &err), VEIL_OK);
	assert_memory_equal(got, dek, 32);
	assert_int_equal(veil_kms_dek_get(a, id, NULL, got, &err), VEIL_E_NOTFOUND);
	veil_kms_close(b);
	veil_kms_close(a);
}

static void test_tampered_kek(void **state)
{
	need_softhsm();
	hsm *h = *state;
	create_ok(&h->cfg);
	veil_kms *kms = open_ok(&h->cfg);
	veil_err err;
	char id[VEIL_DEK_ID_MAX];
	uint8_t dek[32], got[32];
	assert_int_equal(veil_kms_kek_create(kms, "owner", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "owner", NULL, id, dek, &err), VEIL_OK);
	veil_kms_close(kms);
	/* flip one bit of the wrapped KEK, in its ciphertext */
	char p[200];
	sqlite3 *db;
	sqlite3_stmt *st;
	uint8_t w[60];
	snprintf(p, sizeof p, "%s/keys.db", h->dir);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(
	        sqlite3_prepare_v2(db, "SELECT wrapped FROM keks WHERE name = 'owner'", -1, &st, NULL),
	        SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(st, 0), (int)sizeof w);
	memcpy(w, sqlite3_column_blob(st, 0), sizeof w);
	sqlite3_finalize(st);
	w[20] ^= 0x01;
	assert_int_equal(
	        sqlite3_prepare_v2(db, "UPDATE keks SET wrapped = ? WHERE name = 'owner'", -1, &st, NULL),
	        SQLITE_OK);
	sqlite3_bind_blob(st, 1, w, sizeof w, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	kms = open_ok(&h->cfg);
	assert_int_equal(veil_kms_dek_get(kms, id, NULL, got, &err), VEIL_E_CORRUPT);
	assert_non_null(strstr(err.msg, "fails authentication"));
	veil_kms_close(kms);
}

/* The region is part of the AAD the token authenticates: the KEK works in
 * its region, is refused elsewhere, and stops unwrapping when its region is
 * edited in keys.db. */
static void test_region(void **state)
{
	need_softhsm();
	hsm *h = *state;
	create_ok(&h->cfg);
	veil_kms *kms = open_ok(&h->cfg);
	veil_err err;
	char id[VEIL_DEK_ID_MAX];
	uint8_t dek[32], got[32], zero[32] = {0};
	assert_int_equal(veil_kms_kek_create(kms, "hospital-a", "eu-west", &err), VEIL_OK);
	assert_int_equal(veil_kms_kek_rotate(kms, "hospital-a", NULL, &err), VEIL_OK);
	assert_int_equal(veil_kms_dek_new(kms, "hospital-a", "eu-west", id, dek, &err), VEIL_OK);
	veil_kms_close(kms);
	kms = open_ok(&h->cfg);
	assert_int_equal(veil_kms_dek_get(kms, id, "eu-west", got, &err), VEIL_OK);
	assert_memory_equal(got, dek, 32);
	assert_int_equal(veil_kms_dek_get(kms, id, "us-east", got, &err), VEIL_E_DENIED);
	assert_memory_equal(got, zero, 32);
	veil_kek_info info;
	assert_int_equal(veil_kms_kek_get(kms, "hospital-a", &info, &err), VEIL_OK);
	assert_string_equal(info.region, "eu-west");
	veil_kms_close(kms);
	char p[200];
	sqlite3 *db;
	snprintf(p, sizeof p, "%s/keys.db", h->dir);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE kek_regions SET region = 'us-east'", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	kms = open_ok(&h->cfg);
	assert_int_equal(veil_kms_dek_get(kms, id, "us-east", got, &err), VEIL_E_CORRUPT);
	assert_memory_equal(got, zero, 32);
	veil_kms_close(kms);
}

int main(void)
{
	if (veil_crypto_init(NULL))
		return 1;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_end_to_end, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_wrong_pin, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_existing_key, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tampered_kek, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_region, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
