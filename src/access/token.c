/*
 * API tokens: "vt1_" WORKSPACE_ID(32 hex) "_" TOKEN_ID(16 hex) "_"
 * SECRET(64 hex), all hex lowercase. The secret is 256 bits from the
 * CSPRNG; the catalog keeps only the token id and the SHA-256 of the whole
 * string, so a stolen catalog does not hold usable tokens. A token lives
 * only in the caller's (secure) buffer: the random bytes drawn here are
 * wiped before returning, and no error message ever quotes a token.
 *
 * A plain hash suffices (no salt, no slow KDF) because the secret is
 * uniformly random and 256 bits long: there is no dictionary to try.
 */
#include "veil/access.h"
#include "veil/crypto.h"

#include <string.h>

#define PREFIX     "vt1_"
#define PREFIX_LEN 4
#define WS_HEX     32
#define SECRET_LEN 32 /* bytes */
#define WS_OFF     PREFIX_LEN
#define ID_OFF     (WS_OFF + WS_HEX + 1)
#define SECRET_OFF (ID_OFF + VEIL_TOKEN_ID_LEN + 1)

_Static_assert(SECRET_OFF + 2 * SECRET_LEN == VEIL_TOKEN_LEN, "the token layout adds up to VEIL_TOKEN_LEN");
_Static_assert(VEIL_TOKEN_HASH_LEN == VEIL_SHA256_LEN, "tokens are hashed with SHA-256");

/* Whether s[0..n) is lowercase hex, without branching on the digits (the
 * secret's shape is checked before anything else is known about it). */
static bool lower_hex(const char *s, size_t n)
{
	unsigned bad = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned c = (unsigned char)s[i];
		unsigned digit = ((c - '0') & 0xffu) < 10u;
		unsigned lower = ((c - 'a') & 0xffu) < 6u;
		bad |= (digit | lower) ^ 1u;
	}
	return bad == 0;
}

static veil_status not_a_token(veil_err *err, const char *why)
{
	veil_err_set(err, VEIL_E_AUTH, "not a veil API token (%s)", why);
	veil_err_hint(err, "tokens look like vt1_<32 hex>_<16 hex>_<64 hex>; check that it was copied whole");
	return VEIL_E_AUTH;
}

veil_status veil_token_new(const char *workspace_id, char *token, char id[VEIL_TOKEN_ID_LEN + 1],
                           uint8_t hash[VEIL_TOKEN_HASH_LEN], veil_err *err)
{
	if (!workspace_id || !token || !id || !hash)
		return veil_err_set(err, VEIL_E_INVALID, "veil_token_new: missing argument");
	if (strnlen(workspace_id, WS_HEX + 1) != WS_HEX || !lower_hex(workspace_id, WS_HEX))
		return veil_err_set(err, VEIL_E_INVALID, "the workspace id must be 32 lowercase hex digits");
	uint8_t raw[VEIL_TOKEN_ID_LEN / 2 + SECRET_LEN];
	veil_status st = veil_random(raw, sizeof raw, err);
	if (st == VEIL_OK) {
		/* Built in place; veil_hex_encode writes the final NUL. */
		memcpy(token, PREFIX, PREFIX_LEN); // NOLINT(bugprone-not-null-terminated-result)
		memcpy(token + WS_OFF, workspace_id, WS_HEX);
		veil_hex_encode(raw, VEIL_TOKEN_ID_LEN / 2, token + ID_OFF);
		token[ID_OFF - 1] = '_';
		veil_hex_encode(raw + VEIL_TOKEN_ID_LEN / 2, SECRET_LEN, token + SECRET_OFF);
		token[SECRET_OFF - 1] = '_'; /* after the id's NUL, which landed here */
		memcpy(id, token + ID_OFF, VEIL_TOKEN_ID_LEN);
		id[VEIL_TOKEN_ID_LEN] = '\0';
		st = veil_sha256(token, VEIL_TOKEN_LEN, hash, err);
	}
	veil_wipe(raw, sizeof raw);
	if (st) {
		veil_wipe(token, VEIL_TOKEN_LEN + 1);
		memset(id, 0, VEIL_TOKEN_ID_LEN + 1);
		memset(hash, 0, VEIL_TOKEN_HASH_LEN);
	}
	return st;
}

veil_status veil_token_parse(const char *token, size_t len, char workspace_id[33],
                             char id[VEIL_TOKEN_ID_LEN + 1], veil_err *err)
{
	if (workspace_id)
		workspace_id[0] = '\0';
	if (id)
		id[0] = '\0';
	if (!token || !workspace_id || !id)
		return veil_err_set(err, VEIL_E_INVALID, "veil_token_parse: missing argument");
	if (len != VEIL_TOKEN_LEN)
		return not_a_token(err, "wrong length");
	if (memcmp(token, PREFIX, PREFIX_LEN) != 0)
		return not_a_token(err, "it does not start with vt1_");
	if (token[ID_OFF - 1] != '_' || token[SECRET_OFF - 1] != '_')
		return not_a_token(err, "its parts are not separated by '_'");
	if (!lower_hex(token + WS_OFF, WS_HEX) || !lower_hex(token + ID_OFF, VEIL_TOKEN_ID_LEN) ||
	    !lower_hex(token + SECRET_OFF, 2 * SECRET_LEN))
		return not_a_token(err, "a part is not lowercase hex");
	memcpy(workspace_id, token + WS_OFF, WS_HEX);
	workspace_id[WS_HEX] = '\0';
	memcpy(id, token + ID_OFF, VEIL_TOKEN_ID_LEN);
	id[VEIL_TOKEN_ID_LEN] = '\0';
	return VEIL_OK;
}

veil_status veil_token_hash(const char *token, size_t len, uint8_t hash[VEIL_TOKEN_HASH_LEN], veil_err *err)
{
	if (!token || !hash)
		return veil_err_set(err, VEIL_E_INVALID, "veil_token_hash: missing argument");
	return veil_sha256(token, len, hash, err);
}

bool veil_token_matches(const char *token, size_t len, const uint8_t stored[VEIL_TOKEN_HASH_LEN])
{
	uint8_t h[VEIL_TOKEN_HASH_LEN];
	if (!token || !stored || veil_token_hash(token, len, h, NULL) != VEIL_OK)
		return false;
	bool same = veil_ct_equal(h, stored, sizeof h);
	veil_wipe(h, sizeof h);
	return same;
}
