/*
 * Fuzz target: the encrypted object container read from untrusted bytes.
 * veil_obj_parse_header parses the input; veil_obj_read_header, the
 * streaming reader, must agree with it exactly. When a header parses,
 * veil_obj_open decrypts the rest of the input under the fixed corpus DEK.
 *
 * Invariants (abort on violation):
 *  1. Every failure is reported in err with a message.
 *  2. A parsed header is self-consistent and its raw bytes are the input's.
 *  3. Opening garbage fails with VEIL_E_CORRUPT; opening succeeds only for
 *     a genuine object, i.e. sealing the plaintext again with the header's
 *     parameters gives back the input byte for byte.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static void check_failure(veil_status st, const veil_err *err)
{
	FUZZ_CHECK(err->code == st, "the error object holds another status than the one returned");
	FUZZ_CHECK(err->msg[0] != '\0', "an error without a message");
}

static void check_header(const veil_obj_header *h, const uint8_t *data)
{
	size_t kid = strlen(h->key_id);
	FUZZ_CHECK(kid >= 1 && kid <= VEIL_OBJ_KEY_ID_MAX, "key id length out of bounds");
	FUZZ_CHECK(h->raw_len == VEIL_OBJ_HEADER_FIXED + kid, "raw length does not match the key id");
	FUZZ_CHECK(h->version == 1 && h->suite == 1, "unknown version or suite accepted");
	FUZZ_CHECK(h->chunk_size >= VEIL_OBJ_CHUNK_MIN && h->chunk_size <= VEIL_OBJ_CHUNK_MAX,
	           "chunk size out of bounds");
	FUZZ_CHECK(memcmp(h->raw, data, h->raw_len) == 0, "raw header differs from the input");
}

/* The streaming reader must see exactly what the buffer parser sees. */
static void check_stream(const uint8_t *data, size_t size, veil_status st, const veil_obj_header *h)
{
	veil_obj_header hs;
	veil_err err = {0};
	fuzz_mem m = {.p = data, .len = size, .step = size ? 1 + data[size - 1] % 64 : 0};
	veil_status st2 = veil_obj_read_header(fuzz_mem_read, &m, &hs, &err);
	FUZZ_CHECK(st2 == st, "veil_obj_read_header and veil_obj_parse_header disagree");
	FUZZ_CHECK(st || memcmp(&hs, h, sizeof hs) == 0, "the two header parsers give different headers");
	FUZZ_CHECK(st || m.off == h->raw_len, "veil_obj_read_header read past the header");
}

/* Seals pt again with everything the header fixes; must give the input. */
static void check_reseal(const veil_obj_header *h, const veil_buf *pt, const uint8_t *data, size_t size)
{
	veil_obj_opts o = {.chunk_size = h->chunk_size,
	                   .threads = 1,
	                   .fixed_object_id = h->object_id,
	                   .fixed_salt = h->salt,
	                   .fixed_nonce_prefix = h->nonce_prefix};
	fuzz_mem in = {.p = pt->data, .len = pt->len};
	veil_buf ct = {0};
	veil_status st =
	        veil_obj_seal(fuzz_dek, h->key_id, &o, fuzz_mem_read, &in, fuzz_buf_write, &ct, NULL, NULL);
	FUZZ_CHECK(st == VEIL_OK, "cannot seal again what was opened");
	FUZZ_CHECK(ct.len == size && memcmp(ct.data, data, size) == 0,
	           "an object opened although it is not what sealing its plaintext gives");
	veil_buf_free(&ct);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	veil_obj_header h;
	veil_err err = {0};
	veil_status st = veil_obj_parse_header(data, size, &h, &err);
	fuzz_note("header", st, &err);
	check_stream(data, size, st, &h);
	if (st) {
		check_failure(st, &err);
		return 0;
	}
	check_header(&h, data);

	veil_obj_opts o = {.threads = 1};
	fuzz_mem in = {.p = data + h.raw_len, .len = size - h.raw_len};
	veil_buf pt = {0};
	veil_obj_stats stats;
	st = veil_obj_open(fuzz_dek, &h, &o, fuzz_mem_read, &in, fuzz_buf_write, &pt, &stats, &err);
	fuzz_note("open", st, &err);
	if (st) {
		check_failure(st, &err);
		FUZZ_CHECK(st == VEIL_E_CORRUPT, "a damaged object gave another error than VEIL_E_CORRUPT");
	} else {
		FUZZ_CHECK(stats.ciphertext_bytes == size && stats.plaintext_bytes == pt.len, "wrong stats");
		check_reseal(&h, &pt, data, size);
	}
	veil_buf_free(&pt);
	return 0;
}
