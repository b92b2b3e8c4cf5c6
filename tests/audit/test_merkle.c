/* Known-answer and tamper tests for the audit module's RFC 9162 Merkle code
 * (src/audit/merkle.c): leaf and node hashes, tree hashes, inclusion and
 * consistency paths and their verification, and the compact range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "merkle.h"
#include "veil/crypto.h"

typedef uint8_t hash_t[VEIL_MERKLE_LEN];

/*
 * The reference tree of the certificate-transparency project (RFC 6962 and
 * RFC 9162 hash trees alike), copied from google/certificate-transparency,
 * cpp/merkletree/merkle_tree_test.cc: kInputs, kSHA256Roots, kSHA256Paths and
 * kSHA256Proofs. Their paths number leaves from 1; the tables below number
 * them from 0 as RFC 9162 does.
 */
static const char *const inputs[8] = {
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
};
static const char empty_root[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char *const roots[8] = {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

typedef struct {
	uint64_t a, b; /* inclusion: leaf index, tree size; consistency: old size, new size */
	size_t len;
	const char *path[3];
} kat_path;

static const kat_path incl_kat[] = {
        {0, 1, 0, {NULL}},
        {0,
         8,
         3,
         {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {5,
         8,
         3,
         {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
        {1,
         5,
         3,
         {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const kat_path cons_kat[] = {
        {1, 1, 0, {NULL}},
        {1,
         8,
         3,
         {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {6,
         8,
         3,
         {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {2,
         5,
         2,
         {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static veil_merkle mk;
static hash_t leaf_hashes[8];

static void unhex(const char *hex, uint8_t *out, size_t n)
{
	assert_int_equal(veil_hex_decode(hex, out, n, NULL), VEIL_OK);
}

static int setup(void **state)
{
	(void)state;
	if (veil_merkle_init(&mk, NULL))
		return -1;
	for (int i = 0; i < 8; i++) {
		uint8_t in[16];
		size_t n = strlen(inputs[i]) / 2;
		if (veil_hex_decode(inputs[i], in, n, NULL) ||
		    veil_merkle_leaf(&mk, in, n, leaf_hashes[i], NULL))
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	veil_merkle_free(&mk);
	return 0;
}

static void root_of(uint64_t n, hash_t out)
{
	if (n == 0)
		unhex(empty_root, out, VEIL_MERKLE_LEN);
	else
		unhex(roots[n - 1], out, VEIL_MERKLE_LEN);
}

/* Leaf and node hashes: certificate-transparency cpp/merkletree/tree_hasher_test.cc. */
static void test_hashes(void **state)
{
	(void)state;
	hash_t h, want, l, r;
	assert_int_equal(veil_merkle_empty(&mk, h, NULL), VEIL_OK);
	unhex(empty_root, want, sizeof want);
	assert_memory_equal(h, want, sizeof h);
	unhex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", want, sizeof want);
	assert_memory_equal(leaf_hashes[0], want, sizeof want);
	unhex("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", want, sizeof want);
	assert_memory_equal(leaf_hashes[1], want, sizeof want);
	uint8_t in[16];
	unhex("101112131415161718191a1b1c1d1e1f", in, sizeof in);
	assert_int_equal(veil_merkle_leaf(&mk, in, sizeof in, h, NULL), VEIL_OK);
	unhex("3bfb960453ebaebf33727da7a1f4db38acc051d381b6da20d6d4e88f0eabfd7a", want, sizeof want);
	assert_memory_equal(h, want, sizeof want);
	unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", l, sizeof l);
	unhex("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f", r, sizeof r);
	assert_int_equal(veil_merkle_node(&mk, l, r, h, NULL), VEIL_OK);
	unhex("1a378704c17da31e2d05b6d121c2bb2c7d76f6ee6fa8f983e596c2d034963c57", want, sizeof want);
	assert_memory_equal(h, want, sizeof want);
}

static void test_roots(void **state)
{
	(void)state;
	veil_merkle_stack s;
	memset(&s, 0, sizeof s);
	for (uint64_t n = 0; n <= 8; n++) {
		hash_t got, want;
		root_of(n, want);
		assert_int_equal(veil_merkle_root(&mk, (const uint8_t(*)[32])leaf_hashes, n, got, NULL),
		                 VEIL_OK);
		assert_memory_equal(got, want, sizeof want);
		assert_int_equal(veil_merkle_stack_root(&mk, &s, got, NULL), VEIL_OK);
		assert_memory_equal(got, want, sizeof want);
		if (n < 8)
			assert_int_equal(veil_merkle_stack_push(&mk, &s, leaf_hashes[n], NULL), VEIL_OK);
	}
}

static void check_kat(const kat_path *k, uint8_t path[][VEIL_MERKLE_LEN], size_t len)
{
	assert_int_equal(len, k->len);
	for (size_t i = 0; i < len; i++) {
		hash_t want;
		unhex(k->path[i], want, sizeof want);
		assert_memory_equal(path[i], want, sizeof want);
	}
}

static void test_kat_paths(void **state)
{
	(void)state;
	uint8_t path[VEIL_MERKLE_PATH_MAX][VEIL_MERKLE_LEN];
	size_t len;
	for (size_t i = 0; i < sizeof incl_kat / sizeof *incl_kat; i++) {
		const kat_path *k = &incl_kat[i];
		assert_int_equal(veil_merkle_inclusion(&mk, (const uint8_t(*)[32])leaf_hashes, k->b, k->a,
		                                       path, &len, NULL),
		                 VEIL_OK);
		check_kat(k, path, len);
	}
	for (size_t i = 0; i < sizeof cons_kat / sizeof *cons_kat; i++) {
		const kat_path *k = &cons_kat[i];
		assert_int_equal(veil_merkle_consistency(&mk, (const uint8_t(*)[32])leaf_hashes, k->b, k->a,
		                                         path, &len, NULL),
		                 VEIL_OK);
		check_kat(k, path, len);
	}
	/* Out of range requests are refused, not answered with a short path. */
	assert_int_equal(
	        veil_merkle_inclusion(&mk, (const uint8_t(*)[32])leaf_hashes, 8, 8, path, &len, NULL),
	        VEIL_E_INVALID);
	assert_int_equal(
	        veil_merkle_consistency(&mk, (const uint8_t(*)[32])leaf_hashes, 8, 0, path, &len, NULL),
	        VEIL_E_INVALID);
	assert_int_equal(
	        veil_merkle_consistency(&mk, (const uint8_t(*)[32])leaf_hashes, 5, 6, path, &len, NULL),
	        VEIL_E_INVALID);
}

static bool incl_ok(uint64_t i, uint64_t n, const uint8_t *leaf, uint8_t path[][VEIL_MERKLE_LEN], size_t len,
                    const uint8_t *root)
{
	return veil_merkle_verify_inclusion(&mk, i, n, leaf, (const uint8_t(*)[32])path, len, root, NULL) ==
	       VEIL_OK;
}

/* Every (index, size) of the reference tree verifies; every kind of wrong
 * input fails (the cases of the CT project's VerifierCheck). */
static void test_all_inclusion(void **state)
{
	(void)state;
	for (uint64_t n = 1; n <= 8; n++) {
		hash_t root, empty;
		root_of(n, root);
		root_of(0, empty);
		for (uint64_t i = 0; i < n; i++) {
			uint8_t path[VEIL_MERKLE_PATH_MAX + 1][VEIL_MERKLE_LEN],
			        bad[VEIL_MERKLE_PATH_MAX + 1][VEIL_MERKLE_LEN];
			size_t len;
			assert_int_equal(veil_merkle_inclusion(&mk, (const uint8_t(*)[32])leaf_hashes, n, i,
			                                       path, &len, NULL),
			                 VEIL_OK);
			assert_true(incl_ok(i, n, leaf_hashes[i], path, len, root));
			/* wrong index */
			if (i > 0)
				assert_false(incl_ok(i - 1, n, leaf_hashes[i], path, len, root));
			assert_false(incl_ok(i + 1, n, leaf_hashes[i], path, len, root));
			if ((i ^ 2) < n)
				assert_false(incl_ok(i ^ 2, n, leaf_hashes[i], path, len, root));
			/* wrong tree size */
			assert_false(incl_ok(i, n * 2, leaf_hashes[i], path, len, root));
			if (i < n / 2)
				assert_false(incl_ok(i, n / 2, leaf_hashes[i], path, len, root));
			/* wrong leaf, wrong root */
			assert_false(incl_ok(i, n, leaf_hashes[(i + 1) % 8], path, len, root));
			assert_false(incl_ok(i, n, leaf_hashes[i], path, len, empty));
			/* each path hash flipped */
			for (size_t j = 0; j < len; j++) {
				memcpy(bad, path, sizeof path);
				bad[j][j % 32] ^= 0x01;
				assert_false(incl_ok(i, n, leaf_hashes[i], bad, len, root));
			}
			/* a hash added at either end, one removed */
			memcpy(bad, path, sizeof path);
			memcpy(bad[len], root, 32);
			assert_false(incl_ok(i, n, leaf_hashes[i], bad, len + 1, root));
			if (len) {
				assert_false(incl_ok(i, n, leaf_hashes[i], path, len - 1, root));
				memcpy(bad[0], empty, 32);
				memcpy(bad[1], path, len * 32);
				assert_false(incl_ok(i, n, leaf_hashes[i], bad, len + 1, root));
			}
		}
	}
	hash_t root;
	root_of(1, root);
	assert_false(incl_ok(0, 0, leaf_hashes[0], NULL, 0, root)); /* nothing is in an empty tree */
	assert_false(incl_ok(1, 1, leaf_hashes[0], NULL, 0, root));
	assert_true(incl_ok(0, 1, leaf_hashes[0], NULL, 0, root));
}

static bool cons_ok(uint64_t m, uint64_t n, const uint8_t *r1, const uint8_t *r2,
                    uint8_t path[][VEIL_MERKLE_LEN], size_t len)
{
	return veil_merkle_verify_consistency(&mk, m, n, r1, r2, (const uint8_t(*)[32])path, len, NULL) ==
	       VEIL_OK;
}

/* Every (old, new) pair verifies; wrong sizes, roots and paths fail (the
 * cases of the CT project's VerifierConsistencyCheck). */
static void test_all_consistency(void **state)
{
	(void)state;
	for (uint64_t n = 1; n <= 8; n++) {
		for (uint64_t m = 1; m <= n; m++) {
			uint8_t path[VEIL_MERKLE_PATH_MAX + 1][VEIL_MERKLE_LEN],
			        bad[VEIL_MERKLE_PATH_MAX + 1][VEIL_MERKLE_LEN];
			hash_t r1, r2, wrong;
			size_t len;
			root_of(m, r1);
			root_of(n, r2);
			root_of(0, wrong);
			assert_int_equal(veil_merkle_consistency(&mk, (const uint8_t(*)[32])leaf_hashes, n, m,
			                                         path, &len, NULL),
			                 VEIL_OK);
			assert_true(cons_ok(m, n, r1, r2, path, len));
			assert_false(cons_ok(m, n, r1, wrong, path, len));
			assert_false(cons_ok(m, n, wrong, r2, path, len));
			if (m == n) {
				assert_int_equal(len, 0);
				memcpy(bad[0], r1, 32);
				assert_false(cons_ok(m, n, r1, r2, bad, 1));
				continue;
			}
			assert_false(cons_ok(m - 1, n, r1, r2, path, len));
			assert_false(cons_ok(m + 1, n, r1, r2, path, len));
			if ((m ^ 2) && (m ^ 2) <= n)
				assert_false(cons_ok(m ^ 2, n, r1, r2, path, len));
			assert_false(cons_ok(m, n * 2, r1, r2, path, len));
			if (n / 2 >= m)
				assert_false(cons_ok(m, n / 2, r1, r2, path, len));
			assert_false(cons_ok(m, n, r2, r1, path, len)); /* swapped roots */
			assert_false(cons_ok(m, n, r1, r2, path, 0));   /* empty path */
			for (size_t j = 0; j < len; j++) {
				memcpy(bad, path, sizeof path);
				bad[j][31 - j % 32] ^= 0x80;
				assert_false(cons_ok(m, n, r1, r2, bad, len));
			}
			memcpy(bad, path, sizeof path);
			memcpy(bad[len], path[len - 1], 32);
			assert_false(cons_ok(m, n, r1, r2, bad, len + 1));
			assert_false(cons_ok(m, n, r1, r2, path, len - 1));
			memcpy(bad[0], wrong, 32);
			memcpy(bad[1], path, len * 32);
			assert_false(cons_ok(m, n, r1, r2, bad, len + 1));
		}
	}
	hash_t r;
	root_of(3, r);
	assert_int_equal(veil_merkle_verify_consistency(&mk, 0, 3, r, r, NULL, 0, NULL), VEIL_E_INVALID);
	assert_int_equal(veil_merkle_verify_consistency(&mk, 4, 3, r, r, NULL, 0, NULL), VEIL_E_INVALID);
}

/* An independent reference: RFC 9162's recursive MTH, written plainly on
 * the veil_sha256 wrapper rather than merkle.c's hasher. */
static void ref_mth(const hash_t *h, uint64_t n, hash_t out)
{
	if (n == 1) {
		memcpy(out, h[0], 32);
		return;
	}
	uint64_t k = 1;
	while (k * 2 < n)
		k *= 2;
	uint8_t buf[65];
	buf[0] = 0x01;
	ref_mth(h, k, buf + 1);
	ref_mth(h + k, n - k, buf + 33);
	assert_int_equal(veil_sha256(buf, sizeof buf, out, NULL), VEIL_OK);
}

/* Larger trees against the reference: roots (recursive and compact range)
 * up to 300 leaves, and every proof in every tree up to 40 leaves. */
static void test_against_reference(void **state)
{
	(void)state;
	enum { N = 300, P = 40 };
	static hash_t h[N];
	veil_merkle_stack s;
	memset(&s, 0, sizeof s);
	for (uint64_t i = 0; i < N; i++) {
		uint8_t in[2] = {(uint8_t)i, (uint8_t)(i >> 8)};
		uint8_t buf[3] = {0x00, in[0], in[1]};
		assert_int_equal(veil_sha256(buf, sizeof buf, h[i], NULL), VEIL_OK);
		hash_t mine;
		assert_int_equal(veil_merkle_leaf(&mk, in, sizeof in, mine, NULL), VEIL_OK);
		assert_memory_equal(mine, h[i], 32);
		assert_int_equal(veil_merkle_stack_push(&mk, &s, h[i], NULL), VEIL_OK);
		hash_t want, got;
		ref_mth(h, i + 1, want);
		assert_int_equal(veil_merkle_root(&mk, (const uint8_t(*)[32])h, i + 1, got, NULL), VEIL_OK);
		assert_memory_equal(got, want, 32);
		assert_int_equal(veil_merkle_stack_root(&mk, &s, got, NULL), VEIL_OK);
		assert_memory_equal(got, want, 32);
	}
	for (uint64_t n = 1; n <= P; n++) {
		hash_t rn;
		ref_mth(h, n, rn);
		for (uint64_t i = 0; i < n; i++) {
			uint8_t path[VEIL_MERKLE_PATH_MAX][VEIL_MERKLE_LEN];
			size_t len;
			hash_t rm;
			assert_int_equal(
			        veil_merkle_inclusion(&mk, (const uint8_t(*)[32])h, n, i, path, &len, NULL),
			        VEIL_OK);
			assert_true(incl_ok(i, n, h[i], path, len, rn));
			ref_mth(h, i + 1, rm);
			assert_int_equal(veil_merkle_consistency(&mk, (const uint8_t(*)[32])h, n, i + 1, path,
			                                         &len, NULL),
			                 VEIL_OK);
			assert_true(cons_ok(i + 1, n, rm, rn, path, len));
			if (i + 1 < n) /* the old root of a different size never fits */
				assert_false(cons_ok(i + 1, n, rn, rn, path, len));
		}
	}
}

/* Paths longer than any tree needs are refused before any hashing. */
static void test_bounds(void **state)
{
	(void)state;
	static uint8_t path[VEIL_MERKLE_PATH_MAX + 1][VEIL_MERKLE_LEN];
	hash_t r;
	root_of(8, r);
	assert_int_equal(veil_merkle_verify_inclusion(&mk, 0, UINT64_MAX, r, (const uint8_t(*)[32])path,
	                                              VEIL_MERKLE_PATH_MAX + 1, r, NULL),
	                 VEIL_E_CORRUPT);
	assert_int_equal(veil_merkle_verify_consistency(&mk, 1, UINT64_MAX, r, r, (const uint8_t(*)[32])path,
	                                                VEIL_MERKLE_PATH_MAX + 1, NULL),
	                 VEIL_E_CORRUPT);
	/* the deepest legal trees still verify their bound without overflow */
	assert_int_equal(veil_merkle_verify_inclusion(&mk, UINT64_MAX - 1, UINT64_MAX, r,
	                                              (const uint8_t(*)[32])path, VEIL_MERKLE_PATH_MAX, r,
	                                              NULL),
	                 VEIL_E_CORRUPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_hashes),          cmocka_unit_test(test_roots),
	        cmocka_unit_test(test_kat_paths),       cmocka_unit_test(test_all_inclusion),
	        cmocka_unit_test(test_all_consistency), cmocka_unit_test(test_against_reference),
	        cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
