/*
 * The "pkcs11" root provider: the root key is an AES-256 secret key inside a
 * token (an HSM, or SoftHSM2 for development) that is sensitive and not
 * extractable, so it never leaves the token. KEKs and secrets are wrapped
 * and unwrapped by the token itself with C_Encrypt/C_Decrypt and CKM_AES_GCM
 * (random 12-byte IV, 128-bit tag, the caller's AAD); the wrapped form is
 * the same as veil_wrap's: IV || ciphertext || tag.
 *
 * The module is loaded with dlopen and C_GetFunctionList, so veil links
 * against no PKCS#11 library. If the module is already initialised in this
 * process (another veil_kms holds it), this one shares it and leaves
 * C_Finalize and C_Logout to the first.
 */
#include "keys_int.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#define TOKEN_LABEL_LEN VEIL_KMS_PKCS11_LABEL_MAX /* CK_TOKEN_INFO.label: fixed, padded with spaces */
#define KEY_LABEL_MAX   128
#define PIN_MAX         256
#define SLOTS_MAX       4096
#define IV_LEN          VEIL_GCM_NONCE_LEN
#define TAG_LEN         VEIL_GCM_TAG_LEN

typedef struct p11_root {
	keys_root base;
	void *lib;
	CK_FUNCTION_LIST_PTR f;
	bool initialized; /* this root called C_Initialize, so it finalises */
	bool have_session;
	bool generated; /* create made the key: abandon destroys it */
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE key;
	const char *token; /* cfg's strings, for messages while opening */
	const char *label;
} p11_root;

static const char *rv_name(CK_RV rv)
{
	switch (rv) {
	case CKR_OK:
		return "CKR_OK";
	case CKR_GENERAL_ERROR:
		return "CKR_GENERAL_ERROR";
	case CKR_FUNCTION_FAILED:
		return "CKR_FUNCTION_FAILED";
	case CKR_ARGUMENTS_BAD:
		return "CKR_ARGUMENTS_BAD";
	case CKR_DEVICE_ERROR:
		return "CKR_DEVICE_ERROR";
	case CKR_DEVICE_REMOVED:
		return "CKR_DEVICE_REMOVED";
	case CKR_ENCRYPTED_DATA_INVALID:
		return "CKR_ENCRYPTED_DATA_INVALID";
	case CKR_ENCRYPTED_DATA_LEN_RANGE:
		return "CKR_ENCRYPTED_DATA_LEN_RANGE";
	case CKR_DATA_LEN_RANGE:
		return "CKR_DATA_LEN_RANGE";
	case CKR_KEY_FUNCTION_NOT_PERMITTED:
		return "CKR_KEY_FUNCTION_NOT_PERMITTED";
	case CKR_MECHANISM_INVALID:
		return "CKR_MECHANISM_INVALID";
	case CKR_MECHANISM_PARAM_INVALID:
		return "CKR_MECHANISM_PARAM_INVALID";
	case CKR_PIN_INCORRECT:
		return "CKR_PIN_INCORRECT";
	case CKR_PIN_LOCKED:
		return "CKR_PIN_LOCKED";
	case CKR_SESSION_HANDLE_INVALID:
		return "CKR_SESSION_HANDLE_INVALID";
	case CKR_TEMPLATE_INCONSISTENT:
		return "CKR_TEMPLATE_INCONSISTENT";
	case CKR_TOKEN_NOT_PRESENT:
		return "CKR_TOKEN_NOT_PRESENT";
	case CKR_TOKEN_WRITE_PROTECTED:
		return "CKR_TOKEN_WRITE_PROTECTED";
	case CKR_USER_NOT_LOGGED_IN:
		return "CKR_USER_NOT_LOGGED_IN";
	case CKR_USER_PIN_NOT_INITIALIZED:
		return "CKR_USER_PIN_NOT_INITIALIZED";
	case CKR_BUFFER_TOO_SMALL:
		return "CKR_BUFFER_TOO_SMALL";
	default:
		return "an error";
	}
}

static veil_status p11_fail(veil_err *err, veil_status code, CK_RV rv, const char *what)
{
	return keys_fail(err, code, "PKCS#11 %s failed: %s (0x%lx)", what, rv_name(rv), (unsigned long)rv);
}

static void p11_close(keys_root *r)
{
	if (!r)
		return;
	p11_root *p = (p11_root *)r;
	if (p->have_session) {
		if (p->initialized)
			(void)p->f->C_Logout(p->session);
		(void)p->f->C_CloseSession(p->session);
	}
	if (p->initialized)
		(void)p->f->C_Finalize(NULL);
	if (p->lib)
		dlclose(p->lib);
	free(p);
}

/* Only for a key this create generated a moment ago, before any KEK was
 * wrapped with it. */
static void p11_abandon(keys_root *r)
{
	p11_root *p = (p11_root *)r;
	if (p->generated && p->have_session)
		(void)p->f->C_DestroyObject(p->session, p->key);
}

static veil_status p11_wrap(keys_root *r, const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                            uint8_t *out, veil_err *err)
{
	p11_root *p = (p11_root *)r;
	veil_status st = veil_random(out, IV_LEN, err);
	if (st)
		return st;
	CK_GCM_PARAMS gp = {.pIv = out,
	                    .ulIvLen = IV_LEN,
	                    .ulIvBits = IV_LEN * 8,
	                    .pAAD = (CK_BYTE_PTR)aad,
	                    .ulAADLen = aad_len,
	                    .ulTagBits = TAG_LEN * 8};
	CK_MECHANISM m = {CKM_AES_GCM, &gp, sizeof gp};
	CK_RV rv = p->f->C_EncryptInit(p->session, &m, p->key);
	if (rv != CKR_OK)
		return p11_fail(err, VEIL_E_CRYPTO, rv, "C_EncryptInit (AES-GCM with the root key)");
	CK_ULONG n = len + TAG_LEN;
	rv = p->f->C_Encrypt(p->session, (CK_BYTE_PTR)in, len, out + IV_LEN, &n);
	if (rv != CKR_OK)
		return p11_fail(err, VEIL_E_CRYPTO, rv, "C_Encrypt (AES-GCM with the root key)");
	if (n != len + TAG_LEN)
		return keys_fail(err, VEIL_E_CRYPTO, "the token's AES-GCM output has %lu bytes, not %zu",
		                 (unsigned long)n, len + TAG_LEN);
	return VEIL_OK;
}

/* Decrypts into a scratch buffer with room for the tag too, because tokens
 * differ in how much output room they demand for GCM. */
static veil_status p11_unwrap(keys_root *r, const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                              uint8_t *out, veil_err *err)
{
	p11_root *p = (p11_root *)r;
	if (len < IV_LEN + TAG_LEN)
		return keys_fail(err, VEIL_E_AUTH, "wrapped key too short");
	size_t room = len - IV_LEN;
	uint8_t *tmp = veil_secure_alloc(room);
	if (!tmp)
		return keys_fail(err, VEIL_E_NOMEM, "out of secure memory");
	CK_GCM_PARAMS gp = {.pIv = (CK_BYTE_PTR)in,
	                    .ulIvLen = IV_LEN,
	                    .ulIvBits = IV_LEN * 8,
	                    .pAAD = (CK_BYTE_PTR)aad,
	                    .ulAADLen = aad_len,
	                    .ulTagBits = TAG_LEN * 8};
	CK_MECHANISM m = {CKM_AES_GCM, &gp, sizeof gp};
	CK_ULONG n = room;
	veil_status st = VEIL_OK;
	CK_RV rv = p->f->C_DecryptInit(p->session, &m, p->key);
	if (rv != CKR_OK)
		st = p11_fail(err, VEIL_E_CRYPTO, rv, "C_DecryptInit (AES-GCM with the root key)");
	else if ((rv = p->f->C_Decrypt(p->session, (CK_BYTE_PTR)in + IV_LEN, room, tmp, &n)) != CKR_OK)
		/* A failed tag is the usual cause. Tokens disagree on how
		 * to say so: SoftHSM2 2.6 answers CKR_GENERAL_ERROR rather
		 * than CKR_ENCRYPTED_DATA_INVALID (test_pkcs11 relies on it). */
		st = rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE ||
		                     rv == CKR_GENERAL_ERROR || rv == CKR_FUNCTION_FAILED
		             ? p11_fail(err, VEIL_E_AUTH, rv, "C_Decrypt (AES-GCM tag check)")
		             : p11_fail(err, VEIL_E_CRYPTO, rv, "C_Decrypt (AES-GCM with the root key)");
	else if (n != len - IV_LEN - TAG_LEN)
		st = keys_fail(err, VEIL_E_AUTH, "the token's AES-GCM output has the wrong length");
	if (!st)
		memcpy(out, tmp, n);
	veil_secure_free(tmp, room);
	return st;
}

static veil_status check_config(const veil_kms_config *cfg, veil_err *err)
{
	const char *missing = !cfg->pkcs11_module      ? "pkcs11_module"
	                      : !cfg->pkcs11_token     ? "pkcs11_token"
	                      : !cfg->pkcs11_key_label ? "pkcs11_key_label"
	                      : !cfg->pkcs11_pin       ? "pkcs11_pin"
	                                               : NULL;
	if (missing) {
		veil_err_set(err, VEIL_E_INVALID, "the pkcs11 root provider needs %s", missing);
		veil_err_hint(err, "set pkcs11_module, pkcs11_token, pkcs11_key_label and pkcs11_pin");
		return VEIL_E_INVALID;
	}
	size_t tl = strlen(cfg->pkcs11_token), kl = strlen(cfg->pkcs11_key_label);
	if (tl == 0 || tl > TOKEN_LABEL_LEN)
		return keys_fail(err, VEIL_E_INVALID, "pkcs11_token must be 1..%d bytes", TOKEN_LABEL_LEN);
	if (kl == 0 || kl > KEY_LABEL_MAX)
		return keys_fail(err, VEIL_E_INVALID, "pkcs11_key_label must be 1..%d bytes", KEY_LABEL_MAX);
	if (strlen(cfg->pkcs11_pin) > PIN_MAX)
		return keys_fail(err, VEIL_E_INVALID, "pkcs11_pin is longer than %d bytes", PIN_MAX);
	return VEIL_OK;
}

static veil_status load(p11_root *p, const char *module, veil_err *err)
{
	p->lib = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (!p->lib) {
		veil_status code = veil_fs_exists(module) ? VEIL_E_INVALID : VEIL_E_NOTFOUND;
		veil_err_set(err, code, "cannot load the PKCS#11 module %s: %s", module, dlerror());
		veil_err_hint(err, "set pkcs11_module to the token's PKCS#11 library "
		                   "(for SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)");
		return code;
	}
	void *sym = dlsym(p->lib, "C_GetFunctionList");
	CK_C_GetFunctionList get;
	_Static_assert(sizeof get == sizeof sym, "function and object pointers differ in size");
	memcpy(&get, &sym, sizeof get); /* POSIX: dlsym's result may be a function */
	if (!sym || get(&p->f) != CKR_OK || !p->f)
		return keys_fail(err, VEIL_E_INVALID,
		                 "%s is not a PKCS#11 module (no usable C_GetFunctionList)", module);
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	CK_RV rv = p->f->C_Initialize(&args);
	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED)
		return VEIL_OK;
	if (rv != CKR_OK)
		return p11_fail(err, VEIL_E_IO, rv, "C_Initialize");
	p->initialized = true;
	return VEIL_OK;
}

static bool token_matches(p11_root *p, CK_SLOT_ID slot, const uint8_t want[TOKEN_LABEL_LEN])
{
	CK_TOKEN_INFO ti;
	if (p->f->C_GetTokenInfo(slot, &ti) != CKR_OK || !(ti.flags & CKF_TOKEN_INITIALIZED))
		return false;
	return memcmp(ti.label, want, TOKEN_LABEL_LEN) == 0;
}

static veil_status find_slot(p11_root *p, veil_err *err)
{
	uint8_t want[TOKEN_LABEL_LEN];
	memset(want, ' ', sizeof want);
	memcpy(want, p->token, strlen(p->token));
	CK_ULONG n = 0;
	CK_RV rv = p->f->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv != CKR_OK)
		return p11_fail(err, VEIL_E_IO, rv, "C_GetSlotList");
	if (n > SLOTS_MAX)
		return keys_fail(err, VEIL_E_LIMIT, "the PKCS#11 module reports %lu slots", (unsigned long)n);
	CK_SLOT_ID *slots = calloc(n ? n : 1, sizeof *slots);
	if (!slots)
		return keys_fail(err, VEIL_E_NOMEM, "out of memory");
	veil_status st = VEIL_E_NOTFOUND;
	rv = p->f->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv != CKR_OK)
		st = p11_fail(err, VEIL_E_IO, rv, "C_GetSlotList");
	for (CK_ULONG i = 0; rv == CKR_OK && i < n && st == VEIL_E_NOTFOUND; i++)
		if (token_matches(p, slots[i], want)) {
			p->slot = slots[i];
			st = VEIL_OK;
		}
	free(slots);
	if (st == VEIL_E_NOTFOUND) {
		veil_err_set(err, st, "no initialised PKCS#11 token is labelled '%s'", p->token);
		veil_err_hint(err, "check pkcs11_token (list tokens with `softhsm2-util --show-slots` or "
		                   "`p11tool --list-tokens`)");
	}
	return st;
}

static veil_status check_mechanism(p11_root *p, veil_err *err)
{
	CK_MECHANISM_INFO mi;
	CK_RV rv = p->f->C_GetMechanismInfo(p->slot, CKM_AES_GCM, &mi);
	bool ok = rv == CKR_OK && (mi.flags & CKF_ENCRYPT) && (mi.flags & CKF_DECRYPT);
	if (ok)
		return VEIL_OK;
	veil_err_set(err, VEIL_E_UNSUPPORTED,
	             "PKCS#11 token '%s' does not offer AES-GCM encryption and "
	             "decryption (CKM_AES_GCM)",
	             p->token);
	veil_err_hint(err, "use a token that supports CKM_AES_GCM, or the file root provider");
	return VEIL_E_UNSUPPORTED;
}

static veil_status login(p11_root *p, const char *pin, veil_err *err)
{
	CK_RV rv = p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &p->session);
	if (rv != CKR_OK)
		return p11_fail(err, VEIL_E_IO, rv, "C_OpenSession");
	p->have_session = true;
	rv = p->f->C_Login(p->session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return VEIL_OK;
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE) {
		veil_err_set(err, VEIL_E_AUTH, "wrong PIN for PKCS#11 token '%s'", p->token);
		veil_err_hint(err, "check pkcs11_pin (the user PIN, not the SO PIN); "
		                   "the token locks the PIN after a few wrong tries");
		return VEIL_E_AUTH;
	}
	if (rv == CKR_PIN_LOCKED) {
		veil_err_set(err, VEIL_E_AUTH, "the user PIN of PKCS#11 token '%s' is locked", p->token);
		veil_err_hint(err, "have the token's security officer unlock or reset the user PIN");
		return VEIL_E_AUTH;
	}
	return p11_fail(err, VEIL_E_AUTH, rv, "C_Login");
}

/* VEIL_E_NOTFOUND (without a message) when no key has the label. */
static veil_status find_key(p11_root *p, veil_err *err)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE t[] = {
	        {CKA_CLASS, &cls, sizeof cls},
	        {CKA_LABEL, (void *)p->label, strlen(p->label)},
	};
	CK_OBJECT_HANDLE found[2];
	CK_ULONG n = 0;
	CK_RV rv = p->f->C_FindObjectsInit(p->session, t, 2);
	if (rv != CKR_OK)
		return p11_fail(err, VEIL_E_IO, rv, "C_FindObjectsInit");
	rv = p->f->C_FindObjects(p->session, found, 2, &n);
	(void)p->f->C_FindObjectsFinal(p->session);
	if (rv != CKR_OK)
		return p11_fail(err, VEIL_E_IO, rv, "C_FindObjects");
	if (n == 0)
		return VEIL_E_NOTFOUND;
	if (n > 1)
		return keys_fail(err, VEIL_E_KEY,
		                 "PKCS#11 token '%s' holds more than one secret key labelled '%s'", p->token,
		                 p->label);
	p->key = found[0];
	return VEIL_OK;
}

/* The root must be AES-256, usable for encrypt/decrypt, and unable to
 * leave the token. */
static veil_status check_key(p11_root *p, veil_err *err)
{
	CK_KEY_TYPE kt = 0;
	CK_ULONG len = 0;
	CK_BBOOL sens = CK_FALSE, extr = CK_TRUE, enc = CK_FALSE, dec = CK_FALSE;
	CK_ATTRIBUTE t[] = {
	        {CKA_KEY_TYPE, &kt, sizeof kt},      {CKA_VALUE_LEN, &len, sizeof len},
	        {CKA_SENSITIVE, &sens, sizeof sens}, {CKA_EXTRACTABLE, &extr, sizeof extr},
	        {CKA_ENCRYPT, &enc, sizeof enc},     {CKA_DECRYPT, &dec, sizeof dec},
	};
	CK_RV rv = p->f->C_GetAttributeValue(p->session, p->key, t, sizeof t / sizeof t[0]);
	if (rv != CKR_OK)
		return p11_fail(err, VEIL_E_KEY, rv, "C_GetAttributeValue of the root key");
	if (kt != CKK_AES || len != KEYS_KEY_LEN)
		return keys_fail(err, VEIL_E_KEY, "the key labelled '%s' in token '%s' is not an AES-256 key",
		                 p->label, p->token);
	if (!sens || extr) {
		veil_err_set(err, VEIL_E_KEY,
		             "the key labelled '%s' in token '%s' could leave the token "
		             "(it is extractable or not sensitive)",
		             p->label, p->token);
		veil_err_hint(err, "use a key with CKA_SENSITIVE true and CKA_EXTRACTABLE false, "
		                   "or let veil create one under a new label");
		return VEIL_E_KEY;
	}
	if (!enc || !dec)
		return keys_fail(err, VEIL_E_KEY,
		                 "the key labelled '%s' in token '%s' does not allow both "
		                 "CKA_ENCRYPT and CKA_DECRYPT",
		                 p->label, p->token);
	return VEIL_OK;
}

static veil_status generate(p11_root *p, veil_err *err)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ULONG len = KEYS_KEY_LEN;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[] = {
	        {CKA_CLASS, &cls, sizeof cls},     {CKA_KEY_TYPE, &kt, sizeof kt},
	        {CKA_VALUE_LEN, &len, sizeof len}, {CKA_LABEL, (void *)p->label, strlen(p->label)},
	        {CKA_TOKEN, &yes, sizeof yes},     {CKA_PRIVATE, &yes, sizeof yes},
	        {CKA_SENSITIVE, &yes, sizeof yes}, {CKA_EXTRACTABLE, &no, sizeof no},
	        {CKA_ENCRYPT, &yes, sizeof yes},   {CKA_DECRYPT, &yes, sizeof yes},
	        {CKA_WRAP, &no, sizeof no},        {CKA_UNWRAP, &no, sizeof no},
	        {CKA_SIGN, &no, sizeof no},        {CKA_VERIFY, &no, sizeof no},
	        {CKA_DERIVE, &no, sizeof no},
	};
	CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
	CK_RV rv = p->f->C_GenerateKey(p->session, &m, t, sizeof t / sizeof t[0], &p->key);
	if (rv != CKR_OK)
		return p11_fail(err, VEIL_E_CRYPTO, rv, "C_GenerateKey (AES-256 root key)");
	p->generated = true;
	return VEIL_OK;
}

/* Everything up to a logged-in session on the right token. */
static veil_status p11_connect(const veil_kms_config *cfg, p11_root **out, veil_err *err)
{
	*out = NULL;
	veil_status st = check_config(cfg, err);
	if (st)
		return st;
	p11_root *p = calloc(1, sizeof *p);
	if (!p)
		return keys_fail(err, VEIL_E_NOMEM, "out of memory");
	p->base = (keys_root){"pkcs11", p11_wrap, p11_unwrap, p11_abandon, p11_close};
	p->token = cfg->pkcs11_token;
	p->label = cfg->pkcs11_key_label;
	st = load(p, cfg->pkcs11_module, err);
	if (!st)
		st = find_slot(p, err);
	if (!st)
		st = check_mechanism(p, err);
	if (!st)
		st = login(p, cfg->pkcs11_pin, err);
	if (st) {
		p11_close(&p->base);
		return st;
	}
	*out = p;
	return VEIL_OK;
}

static veil_status finish(p11_root *p, veil_status st, keys_root **out)
{
	p->token = p->label = NULL; /* the config's strings may go away */
	if (st) {
		p11_close(&p->base);
		return st;
	}
	*out = &p->base;
	return VEIL_OK;
}

veil_status keys_root_pkcs11_create(const veil_kms_config *cfg, keys_root **out, veil_err *err)
{
	*out = NULL;
	p11_root *p;
	veil_status st = p11_connect(cfg, &p, err);
	if (st)
		return st;
	st = find_key(p, err);
	if (st == VEIL_E_NOTFOUND)
		st = generate(p, err);
	if (!st)
		st = check_key(p, err);
	if (st && p->generated)
		p11_abandon(&p->base);
	return finish(p, st, out);
}

veil_status keys_root_pkcs11_open(const veil_kms_config *cfg, keys_root **out, veil_err *err)
{
	*out = NULL;
	p11_root *p;
	veil_status st = p11_connect(cfg, &p, err);
	if (st)
		return st;
	st = find_key(p, err);
	if (st == VEIL_E_NOTFOUND) {
		veil_err_set(err, st, "PKCS#11 token '%s' has no secret key labelled '%s'", p->token,
		             p->label);
		veil_err_hint(err,
		              "check pkcs11_key_label; the key store was created with the root key's label");
	}
	if (!st)
		st = check_key(p, err);
	return finish(p, st, out);
}
