/*
 * The additional authenticated data each wrapped key is bound to. A wrapped
 * blob only unwraps with the AAD of the row it was made for, so copying it
 * to another row (another DEK id, KEK name or version, or from a KEK to a
 * secret) fails authentication. Layouts: docs/formats/keys.md, "Wrapping".
 *
 * Each AAD starts with a distinct ASCII label (no two labels share a first
 * 6 bytes) followed by length-prefixed fields, so no two AADs of different
 * kinds or fields can be equal.
 */
#include "keys_int.h"

#include <string.h>

typedef struct aad {
	uint8_t *p;
	size_t len;
} aad;

static veil_status put(aad *a, const void *data, size_t n, veil_err *err)
{
	if (n > KEYS_AAD_MAX - a->len)
		return keys_fail(err, VEIL_E_INTERNAL, "wrapping AAD longer than %d bytes", KEYS_AAD_MAX);
	memcpy(a->p + a->len, data, n);
	a->len += n;
	return VEIL_OK;
}

/* u8 length || bytes. Every field is a checked name or id of at most
 * VEIL_KMS_NAME_MAX bytes, so the length fits a byte. */
static veil_status field(aad *a, const char *s, veil_err *err)
{
	size_t n = strlen(s);
	if (n > VEIL_KMS_NAME_MAX)
		return keys_fail(err, VEIL_E_INVALID, "name longer than %d bytes", VEIL_KMS_NAME_MAX);
	uint8_t len = (uint8_t)n;
	veil_status st = put(a, &len, 1, err);
	return st ? st : put(a, s, n, err);
}

static veil_status be32(aad *a, uint32_t v, veil_err *err)
{
	uint8_t b[4];
	veil_put_be32(b, v);
	return put(a, b, sizeof b, err);
}

/* A KEK with a region has it appended, so a wrapped KEK only unwraps with
 * the region it was made with: whoever edits the region in keys.db (to
 * release its DEKs elsewhere) breaks the KEK instead. A KEK without one
 * keeps the AAD of schema version 1, so older stores need no re-wrap; the
 * two forms cannot collide, as the fields before are length-prefixed. */
veil_status keys_aad_kek(const char *name, uint32_t version, const char *region, uint8_t out[KEYS_AAD_MAX],
                         size_t *len, veil_err *err)
{
	aad a = {out, 0};
	veil_status st = put(&a, "veil.kek.v1", 11, err);
	if (!st)
		st = field(&a, name, err);
	if (!st)
		st = be32(&a, version, err);
	if (!st && region && region[0])
		st = field(&a, region, err);
	*len = a.len;
	return st;
}

veil_status keys_aad_dek(const char *id, const char *kek_name, uint32_t version, uint8_t out[KEYS_AAD_MAX],
                         size_t *len, veil_err *err)
{
	aad a = {out, 0};
	veil_status st = put(&a, "veil.dek.v1", 11, err);
	if (!st)
		st = field(&a, id, err);
	if (!st)
		st = field(&a, kek_name, err);
	if (!st)
		st = be32(&a, version, err);
	*len = a.len;
	return st;
}

veil_status keys_aad_secret(const char *purpose, uint8_t out[KEYS_AAD_MAX], size_t *len, veil_err *err)
{
	aad a = {out, 0};
	veil_status st = put(&a, "veil.secret.v1", 14, err);
	if (!st)
		st = field(&a, purpose, err);
	*len = a.len;
	return st;
}

veil_status keys_aad_root_check(uint8_t out[KEYS_AAD_MAX], size_t *len, veil_err *err)
{
	aad a = {out, 0};
	veil_status st = put(&a, "veil.root-check.v1", 18, err);
	*len = a.len;
	return st;
}
