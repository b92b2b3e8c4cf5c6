/*
 * RFC 9162 (Certificate Transparency v2) section 2.1 Merkle trees: the tree
 * hash, inclusion and consistency paths, and their verification algorithms,
 * over an in-memory array of leaf hashes. The paths are built iteratively,
 * walking down from the root and recording the sibling subtrees; each
 * sibling's hash is computed from the leaf hashes it covers, so a proof costs
 * O(n) node hashes and O(log n) memory. The verifiers follow the RFC's
 * numbered steps; the comments cite them.
 */
#include "merkle.h"

#include <string.h>

#include <openssl/crypto.h>

veil_status veil_merkle_init(veil_merkle *m, veil_err *err)
{
	m->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	m->ctx = EVP_MD_CTX_new();
	if (!m->md || !m->ctx) {
		veil_merkle_free(m);
		return veil_err_set(err, VEIL_E_CRYPTO, "cannot set up SHA-256 for the audit tree");
	}
	return VEIL_OK;
}

void veil_merkle_free(veil_merkle *m)
{
	EVP_MD_CTX_free(m->ctx);
	EVP_MD_free(m->md);
	m->ctx = NULL;
	m->md = NULL;
}

/* SHA-256(prefix || a || b); prefix < 0 means none. */
static veil_status digest(veil_merkle *m, int prefix, const void *a, size_t an, const void *b, size_t bn,
                          uint8_t out[VEIL_MERKLE_LEN], veil_err *err)
{
	uint8_t p = (uint8_t)prefix;
	unsigned int len = 0;
	if (EVP_DigestInit_ex2(m->ctx, m->md, NULL) != 1 ||
	    (prefix >= 0 && EVP_DigestUpdate(m->ctx, &p, 1) != 1) ||
	    (an && EVP_DigestUpdate(m->ctx, a, an) != 1) || (bn && EVP_DigestUpdate(m->ctx, b, bn) != 1) ||
	    EVP_DigestFinal_ex(m->ctx, out, &len) != 1 || len != VEIL_MERKLE_LEN)
		return veil_err_set(err, VEIL_E_CRYPTO, "SHA-256 failed while hashing the audit tree");
	return VEIL_OK;
}

veil_status veil_merkle_empty(veil_merkle *m, uint8_t out[VEIL_MERKLE_LEN], veil_err *err)
{
	return digest(m, -1, NULL, 0, NULL, 0, out, err);
}

veil_status veil_merkle_leaf(veil_merkle *m, const void *leaf, size_t n, uint8_t out[VEIL_MERKLE_LEN],
                             veil_err *err)
{
	return digest(m, 0x00, leaf, n, NULL, 0, out, err);
}

veil_status veil_merkle_node(veil_merkle *m, const uint8_t left[VEIL_MERKLE_LEN],
                             const uint8_t right[VEIL_MERKLE_LEN], uint8_t out[VEIL_MERKLE_LEN],
                             veil_err *err)
{
	return digest(m, 0x01, left, VEIL_MERKLE_LEN, right, VEIL_MERKLE_LEN, out, err);
}

/* Trees up to 2^63 leaves: paths then fit VEIL_MERKLE_PATH_MAX hashes. */
#define TREE_MAX (UINT64_C(1) << 63)

/* The largest power of two smaller than n (n >= 2): where RFC 9162 splits. */
static uint64_t split(uint64_t n)
{
	return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

/* MTH of a non-empty run of leaf hashes. Recursion depth is log2(n). */
static veil_status mth(veil_merkle *m, const uint8_t (*h)[VEIL_MERKLE_LEN], uint64_t n,
                       uint8_t out[VEIL_MERKLE_LEN], veil_err *err)
{
	if (n == 1) {
		memcpy(out, h[0], VEIL_MERKLE_LEN);
		return VEIL_OK;
	}
	uint64_t k = split(n);
	uint8_t l[VEIL_MERKLE_LEN], r[VEIL_MERKLE_LEN];
	veil_status st = mth(m, h, k, l, err);
	if (!st)
		st = mth(m, h + k, n - k, r, err);
	if (!st)
		st = veil_merkle_node(m, l, r, out, err);
	return st;
}

veil_status veil_merkle_root(veil_merkle *m, const uint8_t (*hashes)[VEIL_MERKLE_LEN], uint64_t n,
                             uint8_t out[VEIL_MERKLE_LEN], veil_err *err)
{
	if (n == 0)
		return veil_merkle_empty(m, out, err);
	return mth(m, hashes, n, out, err);
}

/* Writes the top-down list t[0..c) reversed after the optional base item:
 * the RFC's recursive definitions put the deepest sibling first. */
static void emit(uint8_t path[VEIL_MERKLE_PATH_MAX][VEIL_MERKLE_LEN], size_t *len, const uint8_t *base,
                 uint8_t t[VEIL_MERKLE_PATH_MAX][VEIL_MERKLE_LEN], size_t c)
{
	size_t o = 0;
	if (base)
		memcpy(path[o++], base, VEIL_MERKLE_LEN);
	while (c)
		memcpy(path[o++], t[--c], VEIL_MERKLE_LEN);
	*len = o;
}

veil_status veil_merkle_inclusion(veil_merkle *m, const uint8_t (*hashes)[VEIL_MERKLE_LEN], uint64_t n,
                                  uint64_t index, uint8_t path[VEIL_MERKLE_PATH_MAX][VEIL_MERKLE_LEN],
                                  size_t *len, veil_err *err)
{
	*len = 0;
	if (index >= n)
		return veil_err_set(err, VEIL_E_INVALID, "leaf %llu is not in a tree of %llu leaves",
		                    (unsigned long long)index, (unsigned long long)n);
	uint8_t t[VEIL_MERKLE_PATH_MAX][VEIL_MERKLE_LEN];
	size_t c = 0;
	uint64_t lo = 0, sz = n, i = index;
	/* PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) if m < k,
	 *                 PATH(m - k, D[k:n]) : MTH(D[0:k]) otherwise. */
	while (sz > 1) {
		uint64_t k = split(sz);
		veil_status st;
		if (i < k) {
			st = mth(m, hashes + lo + k, sz - k, t[c], err);
			sz = k;
		} else {
			st = mth(m, hashes + lo, k, t[c], err);
			lo += k;
			i -= k;
			sz -= k;
		}
		if (st)
			return st;
		c++;
	}
	emit(path, len, NULL, t, c);
	return VEIL_OK;
}

veil_status veil_merkle_consistency(veil_merkle *m, const uint8_t (*hashes)[VEIL_MERKLE_LEN], uint64_t n,
                                    uint64_t old, uint8_t path[VEIL_MERKLE_PATH_MAX][VEIL_MERKLE_LEN],
                                    size_t *len, veil_err *err)
{
	*len = 0;
	if (old == 0 || old > n)
		return veil_err_set(err, VEIL_E_INVALID, "no consistency proof from %llu to %llu leaves",
		                    (unsigned long long)old, (unsigned long long)n);
	if (n > TREE_MAX) /* keeps the path within VEIL_MERKLE_PATH_MAX */
		return veil_err_set(err, VEIL_E_LIMIT, "tree size %llu is too large", (unsigned long long)n);
	uint8_t t[VEIL_MERKLE_PATH_MAX][VEIL_MERKLE_LEN], base[VEIL_MERKLE_LEN];
	size_t c = 0;
	uint64_t lo = 0, sz = n, mm = old;
	bool whole = true, have_base = false;
	/* SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])};
	 * m <= k: SUBPROOF(m, D[0:k], b) : MTH(D[k:n]);
	 * m > k:  SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]). */
	while (mm != sz) {
		uint64_t k = split(sz);
		veil_status st;
		if (mm <= k) {
			st = mth(m, hashes + lo + k, sz - k, t[c], err);
			sz = k;
		} else {
			st = mth(m, hashes + lo, k, t[c], err);
			lo += k;
			mm -= k;
			sz -= k;
			whole = false;
		}
		if (st)
			return st;
		c++;
	}
	if (!whole) {
		veil_status st = mth(m, hashes + lo, sz, base, err);
		if (st)
			return st;
		have_base = true;
	}
	emit(path, len, have_base ? base : NULL, t, c);
	return VEIL_OK;
}

static bool same(const uint8_t a[VEIL_MERKLE_LEN], const uint8_t b[VEIL_MERKLE_LEN])
{
	return CRYPTO_memcmp(a, b, VEIL_MERKLE_LEN) == 0;
}

veil_status veil_merkle_verify_inclusion(veil_merkle *m, uint64_t index, uint64_t size,
                                         const uint8_t leaf_hash[VEIL_MERKLE_LEN],
                                         const uint8_t (*path)[VEIL_MERKLE_LEN], size_t len,
                                         const uint8_t root[VEIL_MERKLE_LEN], veil_err *err)
{
	/* 1. leaf_index must be smaller than tree_size. */
	if (index >= size)
		return veil_err_set(err, VEIL_E_CORRUPT, "leaf index %llu is not below the tree size %llu",
		                    (unsigned long long)index, (unsigned long long)size);
	if (len > VEIL_MERKLE_PATH_MAX)
		return veil_err_set(err, VEIL_E_CORRUPT,
		                    "inclusion path has %zu hashes, more than any tree needs", len);
	/* 2. fn = leaf_index, sn = tree_size - 1; 3. r = hash. */
	uint64_t fn = index, sn = size - 1;
	uint8_t r[VEIL_MERKLE_LEN];
	memcpy(r, leaf_hash, VEIL_MERKLE_LEN);
	/* 4. For each p in the path: */
	for (size_t i = 0; i < len; i++) {
		veil_status st;
		/* a. sn == 0 with hashes left: the path is too long. */
		if (sn == 0)
			return veil_err_set(err, VEIL_E_CORRUPT,
			                    "inclusion path is longer than the tree is deep");
		if ((fn & 1) || fn == sn) {
			/* b. r = HASH(0x01 || p || r); then, if LSB(fn) is
			 * not set, shift until it is or fn is 0. */
			st = veil_merkle_node(m, path[i], r, r, err);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			/* otherwise r = HASH(0x01 || r || p). */
			st = veil_merkle_node(m, r, path[i], r, err);
		}
		if (st)
			return st;
		/* c. shift both once. */
		fn >>= 1;
		sn >>= 1;
	}
	/* 5. sn must be 0 and r must equal the root. */
	if (sn != 0)
		return veil_err_set(err, VEIL_E_CORRUPT, "inclusion path is shorter than the tree is deep");
	if (!same(r, root))
		return veil_err_set(err, VEIL_E_CORRUPT,
		                    "inclusion path does not lead to the tree head's root");
	return VEIL_OK;
}

veil_status veil_merkle_verify_consistency(veil_merkle *m, uint64_t old_size, uint64_t new_size,
                                           const uint8_t old_root[VEIL_MERKLE_LEN],
                                           const uint8_t new_root[VEIL_MERKLE_LEN],
                                           const uint8_t (*path)[VEIL_MERKLE_LEN], size_t len, veil_err *err)
{
	if (old_size == 0 || old_size > new_size)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "no consistency proof exists from %llu to %llu leaves",
		                    (unsigned long long)old_size, (unsigned long long)new_size);
	if (len > VEIL_MERKLE_PATH_MAX)
		return veil_err_set(err, VEIL_E_CORRUPT,
		                    "consistency path has %zu hashes, more than any tree needs", len);
	if (old_size == new_size) {
		if (len != 0 || !same(old_root, new_root))
			return veil_err_set(err, VEIL_E_CORRUPT,
			                    "two heads of the same size need an empty path and equal roots");
		return VEIL_OK;
	}
	/* 1. An empty path fails. */
	if (len == 0)
		return veil_err_set(err, VEIL_E_CORRUPT, "consistency path is empty");
	/* 2. If first is an exact power of 2, prepend first_hash. */
	uint8_t seq[VEIL_MERKLE_PATH_MAX + 1][VEIL_MERKLE_LEN];
	size_t n = 0;
	if ((old_size & (old_size - 1)) == 0)
		memcpy(seq[n++], old_root, VEIL_MERKLE_LEN);
	memcpy(seq[n], path, len * VEIL_MERKLE_LEN);
	n += len;
	/* 3. fn = first - 1, sn = second - 1; 4. shift while LSB(fn) is set. */
	uint64_t fn = old_size - 1, sn = new_size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	/* 5. fr = sr = the first value. */
	uint8_t fr[VEIL_MERKLE_LEN], sr[VEIL_MERKLE_LEN];
	memcpy(fr, seq[0], VEIL_MERKLE_LEN);
	memcpy(sr, seq[0], VEIL_MERKLE_LEN);
	/* 6. For each subsequent value c: */
	for (size_t i = 1; i < n; i++) {
		veil_status st;
		/* a. sn == 0 with hashes left: the path is too long. */
		if (sn == 0)
			return veil_err_set(err, VEIL_E_CORRUPT,
			                    "consistency path is longer than the trees need");
		if ((fn & 1) || fn == sn) {
			/* b. fr = HASH(0x01 || c || fr), sr = HASH(0x01 || c || sr);
			 * then, if LSB(fn) is not set, shift until it is or fn is 0. */
			st = veil_merkle_node(m, seq[i], fr, fr, err);
			if (!st)
				st = veil_merkle_node(m, seq[i], sr, sr, err);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			/* otherwise sr = HASH(0x01 || sr || c). */
			st = veil_merkle_node(m, sr, seq[i], sr, err);
		}
		if (st)
			return st;
		/* c. shift both once. */
		fn >>= 1;
		sn >>= 1;
	}
	/* 7. fr == first_hash, sr == second_hash and sn == 0. */
	if (sn != 0)
		return veil_err_set(err, VEIL_E_CORRUPT, "consistency path is shorter than the trees need");
	if (!same(fr, old_root))
		return veil_err_set(err, VEIL_E_CORRUPT,
		                    "consistency path does not lead to the old head's root");
	if (!same(sr, new_root))
		return veil_err_set(err, VEIL_E_CORRUPT,
		                    "consistency path does not lead to the new head's root");
	return VEIL_OK;
}

veil_status veil_merkle_stack_push(veil_merkle *m, veil_merkle_stack *s,
                                   const uint8_t leaf_hash[VEIL_MERKLE_LEN], veil_err *err)
{
	if (s->size >= TREE_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "the audit tree is full");
	uint8_t node[VEIL_MERKLE_LEN];
	memcpy(node, leaf_hash, VEIL_MERKLE_LEN);
	/* Each trailing 1 bit of size is a perfect subtree of the same height
	 * as the one being completed: merge them. */
	for (uint64_t z = s->size; z & 1; z >>= 1) {
		veil_status st = veil_merkle_node(m, s->h[--s->depth], node, node, err);
		if (st)
			return st;
	}
	memcpy(s->h[s->depth++], node, VEIL_MERKLE_LEN);
	s->size++;
	return VEIL_OK;
}

veil_status veil_merkle_stack_root(veil_merkle *m, const veil_merkle_stack *s, uint8_t out[VEIL_MERKLE_LEN],
                                   veil_err *err)
{
	if (s->depth == 0)
		return veil_merkle_empty(m, out, err);
	uint8_t r[VEIL_MERKLE_LEN];
	memcpy(r, s->h[s->depth - 1], VEIL_MERKLE_LEN);
	for (unsigned i = s->depth - 1; i-- > 0;) {
		veil_status st = veil_merkle_node(m, s->h[i], r, r, err);
		if (st)
			return st;
	}
	memcpy(out, r, VEIL_MERKLE_LEN);
	return VEIL_OK;
}
