/*
 * The worker protocol (docs/formats/worker-protocol.md): frame headers,
 * field and message rules, frames over a real socket pair, the ERROR
 * mapping, and the key-release computations both sides must agree on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "veil/crypto.h"
#include "veil/proto.h"

static void hdr(uint8_t h[VEIL_PROTO_HEADER_LEN], uint8_t version, uint8_t type, uint32_t len)
{
	h[0] = 'V';
	h[1] = 'W';
	h[2] = version;
	h[3] = type;
	veil_put_be32(h + 4, len);
}

static void test_header(void **state)
{
	(void)state;
	uint8_t h[VEIL_PROTO_HEADER_LEN], type;
	uint32_t len;
	veil_err e;
	hdr(h, VEIL_PROTO_VERSION, VEIL_MSG_JOB, 100);
	assert_int_equal(veil_proto_header_parse(h, &type, &len, &e), VEIL_OK);
	assert_int_equal(type, VEIL_MSG_JOB);
	assert_int_equal(len, 100);
	hdr(h, VEIL_PROTO_VERSION, VEIL_MSG_DATA, VEIL_PROTO_BODY_MAX);
	assert_int_equal(veil_proto_header_parse(h, &type, &len, &e), VEIL_OK);
	hdr(h, VEIL_PROTO_VERSION, VEIL_MSG_DATA, VEIL_PROTO_BODY_MAX + 1);
	assert_int_equal(veil_proto_header_parse(h, &type, &len, &e), VEIL_E_LIMIT);
	hdr(h, VEIL_PROTO_VERSION, VEIL_MSG_DATA, UINT32_MAX);
	assert_int_equal(veil_proto_header_parse(h, &type, &len, &e), VEIL_E_LIMIT);
	hdr(h, 1, VEIL_MSG_JOB, 0); /* version 1 bound no report-signing key */
	assert_int_equal(veil_proto_header_parse(h, &type, &len, &e), VEIL_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "version 1 (this veil speaks version 2)"));
	hdr(h, VEIL_PROTO_VERSION, 0, 0);
	assert_int_equal(veil_proto_header_parse(h, &type, &len, &e), VEIL_E_INVALID);
	hdr(h, VEIL_PROTO_VERSION, VEIL_MSG_TYPE_MAX + 1, 0);
	assert_int_equal(veil_proto_header_parse(h, &type, &len, &e), VEIL_E_INVALID);
	hdr(h, VEIL_PROTO_VERSION, VEIL_MSG_JOB, 0);
	h[1] = 'X';
	assert_int_equal(veil_proto_header_parse(h, &type, &len, &e), VEIL_E_INVALID);
	assert_string_equal(veil_proto_type_name(VEIL_MSG_KEY_REQUEST), "key-request");
	assert_string_equal(veil_proto_type_name(99), "unknown");
}

/* A body of fields: tag, length, value, ...; ends at tag 0. */
static uint8_t *body_of(size_t *len, ...)
{
	uint8_t *b = malloc(4096);
	size_t off = 0;
	va_list ap;
	va_start(ap, len);
	for (;;) {
		int tag = va_arg(ap, int);
		if (!tag)
			break;
		uint32_t n = va_arg(ap, uint32_t);
		const void *v = va_arg(ap, const void *);
		veil_put_be16(b + off, (uint16_t)tag);
		veil_put_be32(b + off + 2, n);
		memcpy(b + off + 6, v, n);
		off += 6 + n;
	}
	va_end(ap);
	*len = off;
	return b;
}

static veil_status parse(uint8_t type, uint8_t *body, size_t len, veil_err *e)
{
	veil_proto_msg m;
	veil_status st = veil_proto_msg_parse(type, body, len, &m, e);
	veil_proto_msg_free(&m);
	return st;
}

/* The body is made before it is parsed: an argument list has no order. */
#define PARSE(type, ...) (b = body_of(&n, __VA_ARGS__), parse(type, b, n, &e))

static const char sha[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static void test_fields(void **state)
{
	(void)state;
	veil_err e;
	size_t n;
	uint8_t nonce[VEIL_PROTO_NONCE_LEN] = {1}, size8[8] = {0, 0, 0, 0, 0, 0, 1, 0};
	/* a complete verify job parses and reads back */
	uint8_t *b = body_of(&n, VEIL_F_JOB, 6, "verify", VEIL_F_DEK_ID, 5, "dek-1", VEIL_F_SIZE, 8, size8,
	                     VEIL_F_SHA256, 64, sha, 0);
	veil_proto_msg m;
	assert_int_equal(veil_proto_msg_parse(VEIL_MSG_JOB, b, n, &m, &e), VEIL_OK);
	char text[65];
	uint64_t v;
	assert_int_equal(veil_proto_get_text(&m, VEIL_F_DEK_ID, 0, text, sizeof text, &e), VEIL_OK);
	assert_string_equal(text, "dek-1");
	assert_int_equal(veil_proto_get_u64(&m, VEIL_F_SIZE, &v, &e), VEIL_OK);
	assert_int_equal(v, 256);
	assert_int_equal(veil_proto_get_text(&m, VEIL_F_DEK_ID, 1, text, sizeof text, &e), VEIL_E_INVALID);
	assert_int_equal(veil_proto_get_text(&m, VEIL_F_DEK_ID, 0, text, 5, &e), VEIL_E_INVALID);
	veil_proto_msg_free(&m);

	/* refusals, each naming the field */
	assert_int_equal(PARSE(VEIL_MSG_CHALLENGE, 0), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "nonce is missing"));
	assert_int_equal(PARSE(VEIL_MSG_CHALLENGE, VEIL_F_NONCE, 31, nonce, 0), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "31 bytes"));
	assert_int_equal(PARSE(VEIL_MSG_CHALLENGE, VEIL_F_NONCE, 32, nonce, VEIL_F_NONCE, 32, nonce, 0),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "too often"));
	assert_int_equal(PARSE(VEIL_MSG_CHALLENGE, VEIL_F_NONCE, 32, nonce, 99, 1, "x", 0), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "unknown field tag 99"));
	assert_int_equal(PARSE(VEIL_MSG_CHALLENGE, VEIL_F_NONCE, 32, nonce, VEIL_F_JOB, 1, "x", 0),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "does not belong"));
	assert_int_equal(PARSE(VEIL_MSG_ERROR, VEIL_F_STATUS, 4, "\0\0\0\1", VEIL_F_MESSAGE, 3, "a\nb", 0),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "printable"));
	char upper[64];
	memcpy(upper, sha, 64);
	upper[0] = 'B';
	assert_int_equal(PARSE(VEIL_MSG_RESULT, VEIL_F_SIZE, 8, size8, VEIL_F_SHA256, 64, upper, 0),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "hex"));
	/* keys: ids and wrapped keys pair up, at most 8 */
	uint8_t wrapped[VEIL_PROTO_WRAPPED_LEN] = {0};
	assert_int_equal(PARSE(VEIL_MSG_KEYS, VEIL_F_DEK_ID, 1, "a", VEIL_F_DEK_ID, 1, "b", VEIL_F_WRAPPED,
	                       VEIL_PROTO_WRAPPED_LEN, wrapped, 0),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "2 key ids but 1 wrapped"));
	uint8_t *many = malloc(4096);
	size_t off = 0;
	for (int i = 0; i < 17; i++) { /* one more than a request may name */
		veil_put_be16(many + off, VEIL_F_DEK_ID);
		veil_put_be32(many + off + 2, 1);
		many[off + 6] = (uint8_t)('a' + i);
		off += 7;
	}
	assert_int_equal(parse(VEIL_MSG_KEY_REQUEST, many, off, &e), VEIL_E_INVALID);
	/* cut short: a field header, a field value */
	uint8_t *cut = body_of(&n, VEIL_F_NONCE, 32, nonce, 0);
	assert_int_equal(parse(VEIL_MSG_CHALLENGE, cut, 4, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "cut short"));
	cut = body_of(&n, VEIL_F_NONCE, 32, nonce, 0);
	assert_int_equal(parse(VEIL_MSG_CHALLENGE, cut, n - 1, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "31 are left"));
	/* messages without fields */
	assert_int_equal(parse(VEIL_MSG_BYE, NULL, 0, &e), VEIL_OK);
	assert_int_equal(PARSE(VEIL_MSG_END, VEIL_F_NONCE, 32, nonce, 0), VEIL_E_INVALID);
}

/* Every prefix of a valid body is refused or parses, never crashes; a
 * message with all its fields parses only whole. */
static void test_truncation(void **state)
{
	(void)state;
	veil_err e;
	size_t n;
	uint8_t pub[32] = {9};
	uint8_t *whole = body_of(&n, VEIL_F_TEE, 3, "sim", VEIL_F_EVIDENCE, 10, "0123456789", VEIL_F_PUBKEY,
	                         32, pub, VEIL_F_SIGN_PUBKEY, 32, pub, 0);
	for (size_t k = 0; k < n; k++) {
		uint8_t *b = malloc(k ? k : 1);
		memcpy(b, whole, k);
		assert_int_not_equal(parse(VEIL_MSG_EVIDENCE, b, k, &e), VEIL_OK);
	}
	assert_int_equal(parse(VEIL_MSG_EVIDENCE, whole, n, &e), VEIL_OK);
}

static void test_socket(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	veil_proto_conn a = {.fd = sv[0], .timeout_ms = 2000}, b = {.fd = sv[1], .timeout_ms = 2000};
	veil_err e;
	veil_proto_out o;
	veil_proto_out_init(&o, VEIL_MSG_RESULT);
	assert_int_equal(veil_proto_add_u64(&o, VEIL_F_SIZE, 42, &e), VEIL_OK);
	assert_int_equal(veil_proto_add_text(&o, VEIL_F_SHA256, sha, &e), VEIL_OK);
	assert_int_equal(veil_proto_send(&a, &o, &e), VEIL_OK);
	veil_proto_out_free(&o);
	veil_proto_msg m;
	assert_int_equal(veil_proto_expect(&b, VEIL_MSG_RESULT, &m, &e), VEIL_OK);
	uint64_t v;
	assert_int_equal(veil_proto_get_u64(&m, VEIL_F_SIZE, &v, &e), VEIL_OK);
	assert_int_equal(v, 42);
	veil_proto_msg_free(&m);

	/* an ERROR becomes the sender's status and message */
	veil_err why;
	veil_err_set(&why, VEIL_E_DENIED, "measurement not allowed");
	veil_proto_send_error(&a, &why);
	assert_int_equal(veil_proto_expect(&b, VEIL_MSG_KEYS, &m, &e), VEIL_E_DENIED);
	assert_string_equal(e.msg, "the peer: measurement not allowed");
	/* another type than expected */
	veil_proto_out_init(&o, VEIL_MSG_END);
	assert_int_equal(veil_proto_send(&a, &o, &e), VEIL_OK);
	assert_int_equal(veil_proto_expect(&b, VEIL_MSG_KEYS, &m, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "expected a keys message, got end"));
	/* a frame cut off by the peer going away */
	uint8_t h[VEIL_PROTO_HEADER_LEN];
	hdr(h, VEIL_PROTO_VERSION, VEIL_MSG_DATA, 100);
	assert_int_equal(write(sv[0], h, sizeof h), (ssize_t)sizeof h);
	assert_int_equal(write(sv[0], "abc", 3), 3);
	close(sv[0]);
	assert_int_equal(veil_proto_recv(&b, &m, &e), VEIL_E_IO);
	assert_non_null(strstr(e.msg, "in the middle of a frame"));
	assert_int_equal(veil_proto_recv(&b, &m, &e), VEIL_E_IO);
	close(sv[1]);

	/* a silent peer times out instead of hanging */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	veil_proto_conn c = {.fd = sv[1], .timeout_ms = 100};
	assert_int_equal(veil_proto_recv(&c, &m, &e), VEIL_E_IO);
	assert_non_null(strstr(e.msg, "did not answer"));
	/* sending to a peer that has gone is an error, not SIGPIPE */
	close(sv[1]);
	veil_proto_conn d = {.fd = sv[0], .timeout_ms = 100};
	veil_proto_out_init(&o, VEIL_MSG_BYE);
	assert_int_equal(veil_proto_send(&d, &o, &e), VEIL_E_IO);
	close(sv[0]);
}

static void test_key_release(void **state)
{
	(void)state;
	veil_err e;
	uint8_t nonce[VEIL_PROTO_NONCE_LEN], pub[32], sign_pub[32], out[VEIL_PROTO_BINDING_LEN],
	        want[VEIL_PROTO_BINDING_LEN];
	for (int i = 0; i < 32; i++) {
		nonce[i] = (uint8_t)i;
		pub[i] = (uint8_t)(0x40 + i);
		sign_pub[i] = (uint8_t)(0x80 + i);
	}
	/* SHA-512(00..1f || 40..5f || 80..9f), computed independently (Python hashlib) */
	const char *hex = "51eff6b51c8ce1b7e32b8f71de54e66da41a2909bd48bae091eb0e6eefc606fd"
	                  "a6e654bbf326201c29f5947b7ef1dd5325f3e6c46554511b6c988a7686e9f63b";
	assert_int_equal(veil_hex_decode(hex, want, sizeof want, &e), VEIL_OK);
	assert_int_equal(veil_proto_binding(nonce, pub, sign_pub, out, &e), VEIL_OK);
	assert_memory_equal(out, want, sizeof want);

	uint8_t *sk = veil_secure_alloc(32), *sk2 = veil_secure_alloc(32);
	uint8_t pk[32], pk2[32], dek[VEIL_PROTO_DEK_LEN], got[VEIL_PROTO_DEK_LEN];
	uint8_t wrapped[VEIL_PROTO_WRAPPED_LEN];
	memset(dek, 0xd5, sizeof dek);
	assert_int_equal(veil_x25519_keygen(sk, pk, &e), VEIL_OK);
	assert_int_equal(veil_x25519_keygen(sk2, pk2, &e), VEIL_OK);
	assert_int_equal(veil_proto_wrap_dek(pk, nonce, "dek-1", dek, wrapped, &e), VEIL_OK);
	assert_int_equal(veil_proto_unwrap_dek(sk, nonce, "dek-1", wrapped, sizeof wrapped, got, &e),
	                 VEIL_OK);
	assert_memory_equal(got, dek, sizeof dek);
	/* another worker's key, another challenge, another key id, a changed byte: nothing */
	assert_int_equal(veil_proto_unwrap_dek(sk2, nonce, "dek-1", wrapped, sizeof wrapped, got, &e),
	                 VEIL_E_AUTH);
	uint8_t other[VEIL_PROTO_NONCE_LEN];
	memcpy(other, nonce, sizeof other);
	other[31] ^= 1;
	assert_int_equal(veil_proto_unwrap_dek(sk, other, "dek-1", wrapped, sizeof wrapped, got, &e),
	                 VEIL_E_AUTH);
	assert_non_null(strstr(e.msg, "not wrapped for this worker"));
	assert_int_equal(veil_proto_unwrap_dek(sk, nonce, "dek-2", wrapped, sizeof wrapped, got, &e),
	                 VEIL_E_AUTH);
	for (size_t i = 0; i < sizeof wrapped; i++) {
		wrapped[i] ^= 0x80;
		assert_int_not_equal(
		        veil_proto_unwrap_dek(sk, nonce, "dek-1", wrapped, sizeof wrapped, got, &e), VEIL_OK);
		wrapped[i] ^= 0x80;
	}
	assert_int_equal(veil_proto_unwrap_dek(sk, nonce, "dek-1", wrapped, sizeof wrapped - 1, got, &e),
	                 VEIL_E_INVALID);
	assert_int_equal(veil_proto_wrap_dek(pk, nonce, "", dek, wrapped, &e), VEIL_E_INVALID);
	veil_secure_free(sk, 32);
	veil_secure_free(sk2, 32);
}

/* The envelope vector of docs/formats/worker-protocol.md (section 9): sealed
 * once, opened by an independent RFC 9180 implementation; it must keep
 * opening here, to the same key, and for nothing else. */
static void test_envelope_vector(void **state)
{
	(void)state;
	veil_err e;
	uint8_t *sk = veil_secure_alloc(32);
	uint8_t nonce[VEIL_PROTO_NONCE_LEN], wrapped[VEIL_PROTO_WRAPPED_LEN], dek[VEIL_PROTO_DEK_LEN],
	        want[VEIL_PROTO_DEK_LEN];
	for (int i = 0; i < 32; i++) {
		nonce[i] = (uint8_t)i;
		want[i] = (uint8_t)(0xa0 + i);
	}
	assert_int_equal(veil_hex_decode("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	                                 sk, 32, &e),
	                 VEIL_OK);
	assert_int_equal(veil_hex_decode("7ab0d09f1b5fe450d9eeab3e01eb422d7fb90f16e8e6bb4f259eefff54851f4e"
	                                 "5cd3d9533a4f9fdff1aef841f373c2d753415dfeb8de95662ebce05407dc09b3"
	                                 "d005f083e7b9782c5db8bc38690c4f00",
	                                 wrapped, sizeof wrapped, &e),
	                 VEIL_OK);
	assert_int_equal(veil_proto_unwrap_dek(sk, nonce, "dek-1", wrapped, sizeof wrapped, dek, &e),
	                 VEIL_OK);
	assert_memory_equal(dek, want, sizeof dek);
	assert_int_equal(veil_proto_unwrap_dek(sk, nonce, "dek-2", wrapped, sizeof wrapped, dek, &e),
	                 VEIL_E_AUTH);
	veil_secure_free(sk, 32);
}

int main(void)
{
	veil_err e;
	if (veil_crypto_init(&e))
		return 1;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_header),      cmocka_unit_test(test_fields),
	        cmocka_unit_test(test_truncation),  cmocka_unit_test(test_socket),
	        cmocka_unit_test(test_key_release), cmocka_unit_test(test_envelope_vector),
	};
	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
