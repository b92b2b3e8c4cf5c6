/*
 * RFC 9162 section 2.1 Merkle trees over SHA-256, computed from an array of
 * leaf hashes: tree hashes, inclusion and consistency paths, and the two
 * verification algorithms (2.1.3.2 and 2.1.4.2). Also the compact range (a
 * stack of perfect-subtree roots) that lets the log extend its root one
 * leaf at a time. Internal to the audit module; the tests use it directly.
 */
#ifndef VEIL_AUDIT_MERKLE_H
#define VEIL_AUDIT_MERKLE_H

#include "veil/base.h"

#include <openssl/evp.h>

#define VEIL_MERKLE_LEN      32
#define VEIL_MERKLE_PATH_MAX 64 /* = VEIL_AUDIT_PATH_MAX; enough for any 63-bit tree size */

/* A SHA-256 context reused for every hash: one EVP fetch, no allocation per
 * node. One per thread. */
typedef struct veil_merkle {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
} veil_merkle;

veil_status veil_merkle_init(veil_merkle *m, veil_err *err) VEIL_MUST_CHECK;
void veil_merkle_free(veil_merkle *m);

/* MTH({}) = SHA-256() */
veil_status veil_merkle_empty(veil_merkle *m, uint8_t out[VEIL_MERKLE_LEN], veil_err *err) VEIL_MUST_CHECK;
/* SHA-256(0x00 || leaf) */
veil_status veil_merkle_leaf(veil_merkle *m, const void *leaf, size_t n, uint8_t out[VEIL_MERKLE_LEN],
                             veil_err *err) VEIL_MUST_CHECK;
/* SHA-256(0x01 || left || right) */
veil_status veil_merkle_node(veil_merkle *m, const uint8_t left[VEIL_MERKLE_LEN],
                             const uint8_t right[VEIL_MERKLE_LEN], uint8_t out[VEIL_MERKLE_LEN],
                             veil_err *err) VEIL_MUST_CHECK;

/* MTH(D[0:n]) given the n leaf hashes; n may be 0. */
veil_status veil_merkle_root(veil_merkle *m, const uint8_t (*hashes)[VEIL_MERKLE_LEN], uint64_t n,
                             uint8_t out[VEIL_MERKLE_LEN], veil_err *err) VEIL_MUST_CHECK;

/* PATH(index, D[0:n]) of section 2.1.3.1, leaf to root; *len <= 63. */
veil_status veil_merkle_inclusion(veil_merkle *m, const uint8_t (*hashes)[VEIL_MERKLE_LEN], uint64_t n,
                                  uint64_t index, uint8_t path[VEIL_MERKLE_PATH_MAX][VEIL_MERKLE_LEN],
                                  size_t *len, veil_err *err) VEIL_MUST_CHECK;

/* PROOF(old, D[0:n]) of section 2.1.4.1, 1 <= old <= n (empty if old == n). */
veil_status veil_merkle_consistency(veil_merkle *m, const uint8_t (*hashes)[VEIL_MERKLE_LEN], uint64_t n,
                                    uint64_t old, uint8_t path[VEIL_MERKLE_PATH_MAX][VEIL_MERKLE_LEN],
                                    size_t *len, veil_err *err) VEIL_MUST_CHECK;

/* Section 2.1.3.2. VEIL_OK if the path leads from leaf_hash at index to
 * root in a tree of `size`; VEIL_E_CORRUPT (saying why) if not. */
veil_status veil_merkle_verify_inclusion(veil_merkle *m, uint64_t index, uint64_t size,
                                         const uint8_t leaf_hash[VEIL_MERKLE_LEN],
                                         const uint8_t (*path)[VEIL_MERKLE_LEN], size_t len,
                                         const uint8_t root[VEIL_MERKLE_LEN], veil_err *err) VEIL_MUST_CHECK;

/* Section 2.1.4.2, plus the trivial case old == new (empty path, equal
 * roots). VEIL_OK if the tree of new_size with new_root extends the tree of
 * old_size with old_root; VEIL_E_CORRUPT if not; VEIL_E_INVALID for
 * old_size 0 or old_size > new_size. */
veil_status veil_merkle_verify_consistency(veil_merkle *m, uint64_t old_size, uint64_t new_size,
                                           const uint8_t old_root[VEIL_MERKLE_LEN],
                                           const uint8_t new_root[VEIL_MERKLE_LEN],
                                           const uint8_t (*path)[VEIL_MERKLE_LEN], size_t len,
                                           veil_err *err) VEIL_MUST_CHECK;

/* Compact range over D[0:size]: the roots of the perfect subtrees that make
 * up the tree, one per set bit of size, largest first. Push is amortised
 * one node hash; root folds them right to left. */
typedef struct veil_merkle_stack {
	uint64_t size;
	unsigned depth;
	uint8_t h[64][VEIL_MERKLE_LEN];
} veil_merkle_stack;

veil_status veil_merkle_stack_push(veil_merkle *m, veil_merkle_stack *s,
                                   const uint8_t leaf_hash[VEIL_MERKLE_LEN], veil_err *err) VEIL_MUST_CHECK;
veil_status veil_merkle_stack_root(veil_merkle *m, const veil_merkle_stack *s, uint8_t out[VEIL_MERKLE_LEN],
                                   veil_err *err) VEIL_MUST_CHECK;

#endif
