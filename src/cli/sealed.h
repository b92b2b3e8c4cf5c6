/* Small sealed objects in the store: report envelopes, fitted transforms (sealed.c). */
#ifndef VEIL_CLI_SEALED_H
#define VEIL_CLI_SEALED_H

#include "cli.h"

typedef struct cli_sealed {
	char object_id[VEIL_CATALOG_HEX_MAX];
	char dek_id[VEIL_CATALOG_DEK_ID_MAX];
	char sha256[VEIL_CATALOG_HEX_MAX]; /* of the plaintext */
	uint64_t size;                     /* plaintext bytes */
} cli_sealed;

/* Seals p[0..n) under a fresh data key wrapped by kek (which the caller may
 * use) into the store. Needs WS_KMS and WS_STORE. On error nothing is left:
 * the key is destroyed and the object removed. */
veil_status cli_seal_bytes(cli_ws *ws, const char *kek, const uint8_t *p, size_t n, cli_sealed *out,
                           veil_err *err) VEIL_MUST_CHECK;
/* Undoes cli_seal_bytes when a later step fails (best effort, logged). */
void cli_sealed_discard(cli_ws *ws, cli_sealed *s);
/* Opens such an object (at most max plaintext bytes) into out, checking its
 * key id and SHA-256 against the catalog's (VEIL_E_CORRUPT). */
veil_status cli_open_bytes(cli_ws *ws, const char *object_id, const char *dek_id, const char *sha256,
                           size_t max, veil_buf *out, veil_err *err) VEIL_MUST_CHECK;

#endif
