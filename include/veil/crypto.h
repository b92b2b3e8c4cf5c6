/*
 * veil crypto layer: every primitive veil uses, on OpenSSL 3 EVP only.
 *
 * One obvious function per job, sizes as constants, no modes to choose.
 * Functions that verify, decrypt, derive or draw randomness must have their
 * result checked. On any failure, output buffers that could hold secret or
 * unauthenticated data are wiped before returning.
 */
#ifndef VEIL_CRYPTO_H
#define VEIL_CRYPTO_H

#include "veil/base.h"

#define VEIL_SHA256_LEN       32
#define VEIL_SHA384_LEN       48
#define VEIL_SHA512_LEN       64
#define VEIL_AES256_KEY_LEN   32
#define VEIL_GCM_NONCE_LEN    12
#define VEIL_GCM_TAG_LEN      16
#define VEIL_ED25519_SEED_LEN 32 /* the private key as RFC 8032 defines it */
#define VEIL_ED25519_PUB_LEN  32
#define VEIL_ED25519_SIG_LEN  64
#define VEIL_X25519_KEY_LEN   32

/* ---- process set-up ---- */
/* Call once at start of every executable, before any secret exists:
 * initialises OpenSSL's secure heap (mlocked, guard pages), disables core
 * dumps and ptrace attach (PR_SET_DUMPABLE 0). Safe to call twice. */
veil_status veil_crypto_init(veil_err *err) VEIL_MUST_CHECK;

/* ---- secure memory ---- */
/* Zeroed, locked, non-dumpable memory from the OpenSSL secure heap (falls
 * back to ordinary memory, still wiped on free, if the heap is exhausted).
 * Returns NULL on failure. Free with veil_secure_free. */
void *veil_secure_alloc(size_t n);
void veil_secure_free(void *p, size_t n); /* wipes, then frees; NULL ok */
void veil_wipe(void *p, size_t n);        /* a wipe the compiler keeps */
/* Constant-time equality of two n-byte buffers. */
bool veil_ct_equal(const void *a, const void *b, size_t n);

/* ---- randomness ---- */
veil_status veil_random(void *buf, size_t n, veil_err *err) VEIL_MUST_CHECK;

/* ---- hashes ---- */
typedef enum { VEIL_HASH_SHA256, VEIL_HASH_SHA384, VEIL_HASH_SHA512 } veil_hash_alg;
size_t veil_hash_len(veil_hash_alg alg);
veil_status veil_hash(veil_hash_alg alg, const void *data, size_t n, uint8_t *out,
                      veil_err *err) VEIL_MUST_CHECK;
veil_status veil_sha256(const void *data, size_t n, uint8_t out[VEIL_SHA256_LEN],
                        veil_err *err) VEIL_MUST_CHECK;

/* Streaming hash. init allocates; final frees (also on error); free is for
 * abandoning a context without final. */
typedef struct veil_hash_ctx veil_hash_ctx;
veil_status veil_hash_init(veil_hash_ctx **ctx, veil_hash_alg alg, veil_err *err) VEIL_MUST_CHECK;
veil_status veil_hash_update(veil_hash_ctx *ctx, const void *data, size_t n, veil_err *err) VEIL_MUST_CHECK;
veil_status veil_hash_final(veil_hash_ctx *ctx, uint8_t *out, veil_err *err) VEIL_MUST_CHECK;
void veil_hash_free(veil_hash_ctx *ctx);
/* The digest of a whole file (a worker binary, to measure it); VEIL_E_IO or
 * VEIL_E_NOTFOUND naming the path when it cannot be read. */
veil_status veil_hash_file(veil_hash_alg alg, const char *path, uint8_t *out, veil_err *err) VEIL_MUST_CHECK;

/* HMAC-SHA-256. */
veil_status veil_hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t n,
                             uint8_t out[VEIL_SHA256_LEN], veil_err *err) VEIL_MUST_CHECK;

/* ---- key derivation ---- */
/* HKDF-SHA-256 (RFC 5869), extract-then-expand. salt may be NULL/0. */
veil_status veil_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                             const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len,
                             veil_err *err) VEIL_MUST_CHECK;
/* scrypt (RFC 7914), the memory-hard passphrase KDF. Memory use is
 * 128 * r * 2^log_n bytes; log_n in [10, 22], r in [1, 32], p in [1, 16]. */
veil_status veil_scrypt(const char *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
                        unsigned log_n, unsigned r, unsigned p, uint8_t *out, size_t out_len,
                        veil_err *err) VEIL_MUST_CHECK;

/* ---- AES-256-GCM, one shot ---- */
/* ct must hold pt_len bytes; tag is written separately. */
veil_status veil_aead_seal(const uint8_t key[VEIL_AES256_KEY_LEN], const uint8_t nonce[VEIL_GCM_NONCE_LEN],
                           const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *ct,
                           uint8_t tag[VEIL_GCM_TAG_LEN], veil_err *err) VEIL_MUST_CHECK;
/* Verifies and decrypts; on failure returns VEIL_E_AUTH and wipes pt. */
veil_status veil_aead_open(const uint8_t key[VEIL_AES256_KEY_LEN], const uint8_t nonce[VEIL_GCM_NONCE_LEN],
                           const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                           const uint8_t tag[VEIL_GCM_TAG_LEN], uint8_t *pt, veil_err *err) VEIL_MUST_CHECK;

/* Key wrapping for small secrets (DEKs, KEKs, signing keys): AES-256-GCM
 * with a random nonce. Wrapped form: nonce(12) || ciphertext || tag(16).
 * aad binds the wrapped key to its identity (name, version, purpose). */
#define VEIL_WRAP_OVERHEAD (VEIL_GCM_NONCE_LEN + VEIL_GCM_TAG_LEN)
veil_status veil_wrap(const uint8_t kek[VEIL_AES256_KEY_LEN], const uint8_t *aad, size_t aad_len,
                      const uint8_t *key, size_t key_len, uint8_t *out /* key_len + VEIL_WRAP_OVERHEAD */,
                      veil_err *err) VEIL_MUST_CHECK;
veil_status veil_unwrap(const uint8_t kek[VEIL_AES256_KEY_LEN], const uint8_t *aad, size_t aad_len,
                        const uint8_t *in, size_t in_len, uint8_t *key /* in_len - VEIL_WRAP_OVERHEAD */,
                        veil_err *err) VEIL_MUST_CHECK;

/* ---- Ed25519 (RFC 8032) ---- */
veil_status veil_ed25519_keygen(uint8_t seed[VEIL_ED25519_SEED_LEN], uint8_t pub[VEIL_ED25519_PUB_LEN],
                                veil_err *err) VEIL_MUST_CHECK;
veil_status veil_ed25519_public(const uint8_t seed[VEIL_ED25519_SEED_LEN], uint8_t pub[VEIL_ED25519_PUB_LEN],
                                veil_err *err) VEIL_MUST_CHECK;
veil_status veil_ed25519_sign(const uint8_t seed[VEIL_ED25519_SEED_LEN], const void *msg, size_t n,
                              uint8_t sig[VEIL_ED25519_SIG_LEN], veil_err *err) VEIL_MUST_CHECK;
/* VEIL_OK if valid, VEIL_E_AUTH if not. */
veil_status veil_ed25519_verify(const uint8_t pub[VEIL_ED25519_PUB_LEN], const void *msg, size_t n,
                                const uint8_t sig[VEIL_ED25519_SIG_LEN], veil_err *err) VEIL_MUST_CHECK;

/* ---- X25519 (RFC 7748) ---- */
veil_status veil_x25519_keygen(uint8_t priv[VEIL_X25519_KEY_LEN], uint8_t pub[VEIL_X25519_KEY_LEN],
                               veil_err *err) VEIL_MUST_CHECK;
veil_status veil_x25519_public(const uint8_t priv[VEIL_X25519_KEY_LEN], uint8_t pub[VEIL_X25519_KEY_LEN],
                               veil_err *err) VEIL_MUST_CHECK;
/* Fails with VEIL_E_CRYPTO for an all-zero shared secret (small-order peer). */
veil_status veil_x25519(const uint8_t priv[VEIL_X25519_KEY_LEN], const uint8_t peer[VEIL_X25519_KEY_LEN],
                        uint8_t shared[VEIL_X25519_KEY_LEN], veil_err *err) VEIL_MUST_CHECK;

/* ---- the encrypted object container (docs/formats/object.md) ---- */
#define VEIL_OBJ_DEK_LEN          32
#define VEIL_OBJ_ID_LEN           16
#define VEIL_OBJ_SALT_LEN         32
#define VEIL_OBJ_NONCE_PREFIX_LEN 7
#define VEIL_OBJ_KEY_ID_MAX       64
#define VEIL_OBJ_CHUNK_MIN        1024u
#define VEIL_OBJ_CHUNK_MAX        (16u << 20)
#define VEIL_OBJ_CHUNK_DEFAULT    (64u << 10)
#define VEIL_OBJ_HEADER_FIXED     76
#define VEIL_OBJ_HEADER_MAX       (VEIL_OBJ_HEADER_FIXED + VEIL_OBJ_KEY_ID_MAX)

typedef struct veil_obj_header {
	uint8_t version;                      /* 1 */
	uint8_t suite;                        /* 1: HKDF-SHA-256 + AES-256-GCM */
	uint32_t chunk_size;                  /* plaintext bytes per full chunk */
	char key_id[VEIL_OBJ_KEY_ID_MAX + 1]; /* names the DEK in the key store */
	uint8_t object_id[VEIL_OBJ_ID_LEN];
	uint8_t salt[VEIL_OBJ_SALT_LEN];
	uint8_t nonce_prefix[VEIL_OBJ_NONCE_PREFIX_LEN];
	uint8_t raw[VEIL_OBJ_HEADER_MAX]; /* the header bytes as on disk (the AAD) */
	size_t raw_len;
} veil_obj_header;

typedef struct veil_obj_opts {
	uint32_t chunk_size; /* 0: VEIL_OBJ_CHUNK_DEFAULT */
	unsigned threads;    /* 0: one per online core, capped at 8; 1: single-threaded */
	/* Test-vector use only: fixed object id, salt and nonce prefix instead
	 * of fresh random ones. NULL in all production code. */
	const uint8_t *fixed_object_id, *fixed_salt, *fixed_nonce_prefix;
} veil_obj_opts;

typedef struct veil_obj_stats {
	uint64_t plaintext_bytes;
	uint64_t ciphertext_bytes;
	uint64_t chunks;
} veil_obj_stats;

/* Encrypts everything rd yields into the container, written to wr.
 * Memory use is bounded by chunk_size * threads * 2, whatever the size. */
veil_status veil_obj_seal(const uint8_t dek[VEIL_OBJ_DEK_LEN], const char *key_id, const veil_obj_opts *opts,
                          veil_read_fn rd, void *rctx, veil_write_fn wr, void *wctx, veil_obj_stats *stats,
                          veil_err *err) VEIL_MUST_CHECK;
/* Reads and parses the header only (so the caller can look up key_id).
 * parse_header ignores bytes after the header: hdr->raw_len says where
 * chunk 0 starts. */
veil_status veil_obj_read_header(veil_read_fn rd, void *rctx, veil_obj_header *hdr,
                                 veil_err *err) VEIL_MUST_CHECK;
veil_status veil_obj_parse_header(const uint8_t *buf, size_t len, veil_obj_header *hdr,
                                  veil_err *err) VEIL_MUST_CHECK;
/* Decrypts the chunks that follow a header already read from rd. Plaintext
 * is written chunk by chunk as each verifies; on any error the caller must
 * discard what was written (write to a temp file, commit on success).
 * Fails on truncation, extension, reordering or any modified byte.
 * stats->ciphertext_bytes counts the header too. */
veil_status veil_obj_open(const uint8_t dek[VEIL_OBJ_DEK_LEN], const veil_obj_header *hdr,
                          const veil_obj_opts *opts, veil_read_fn rd, void *rctx, veil_write_fn wr,
                          void *wctx, veil_obj_stats *stats, veil_err *err) VEIL_MUST_CHECK;

/* ---- HPKE (RFC 9180), base mode (docs/formats/hpke.md) ----
 * One suite family: KEM DHKEM(X25519, HKDF-SHA256), KDF HKDF-SHA256, and an
 * AEAD chosen by its RFC 9180 identifier. veil's own choice is AES-256-GCM;
 * the other two exist so that the RFC's Appendix A vectors prove the path it
 * takes. A context is one direction of one session: a sender context only
 * seals, a receiver context only opens, both export. The sequence number
 * lives inside the context and is never chosen by the caller. */
#define VEIL_HPKE_KEM_X25519_SHA256 0x0020u
#define VEIL_HPKE_KDF_HKDF_SHA256   0x0001u
#define VEIL_HPKE_AEAD_AES128_GCM   0x0001u
#define VEIL_HPKE_AEAD_AES256_GCM   0x0002u
#define VEIL_HPKE_AEAD_CHACHA20     0x0003u /* ChaCha20-Poly1305 */

#define VEIL_HPKE_SK_LEN  32 /* Nsk: a raw X25519 private key */
#define VEIL_HPKE_PK_LEN  32 /* Npk: a raw X25519 public key */
#define VEIL_HPKE_ENC_LEN 32 /* Nenc: the encapsulated key (the sender's ephemeral public key) */
#define VEIL_HPKE_TAG_LEN 16 /* Nt: the same for all three AEADs */
/* enc || ciphertext || tag: what veil_hpke_seal_base adds to a message. */
#define VEIL_HPKE_SEAL_OVERHEAD (VEIL_HPKE_ENC_LEN + VEIL_HPKE_TAG_LEN)
#define VEIL_HPKE_INFO_MAX      1024u        /* bytes of info */
#define VEIL_HPKE_EXP_CTX_MAX   1024u        /* bytes of exporter context */
#define VEIL_HPKE_EXPORT_MAX    (255u * 32u) /* RFC 9180 5.3: L <= 255 * Nh */
#define VEIL_HPKE_MSG_MAX       (1u << 30)   /* bytes of plaintext, and of aad, per message */
#define VEIL_HPKE_IKM_MIN       32u          /* RFC 9180 7.1: ikm should hold Nsk bytes of entropy */
#define VEIL_HPKE_IKM_MAX       1024u

typedef struct veil_hpke_ctx veil_hpke_ctx;

/* VEIL_OK for the one KEM and KDF above with any of the three AEADs,
 * VEIL_E_UNSUPPORTED (naming the identifier) for anything else: for code
 * that reads suite identifiers off the wire. */
veil_status veil_hpke_suite_check(unsigned kem_id, unsigned kdf_id, unsigned aead_id,
                                  veil_err *err) VEIL_MUST_CHECK;

/* SetupBaseS (RFC 9180 5.1.1): a fresh ephemeral key pair, encapsulated to
 * pkR. enc goes to the receiver; *out is a sender context, freed with
 * veil_hpke_free. On error *out is NULL and enc is zeroed. A pkR that is a
 * small-order point fails with VEIL_E_CRYPTO; an aead_id outside the three
 * with VEIL_E_UNSUPPORTED. info may be NULL when info_len is 0. */
veil_status veil_hpke_setup_sender(unsigned aead_id, const uint8_t pkR[VEIL_HPKE_PK_LEN], const uint8_t *info,
                                   size_t info_len, uint8_t enc[VEIL_HPKE_ENC_LEN], veil_hpke_ctx **out,
                                   veil_err *err) VEIL_MUST_CHECK;
/* SetupBaseR (RFC 9180 5.1.1). skR should live in veil_secure_alloc memory;
 * it is only read. A wrong skR, enc or info is not detected here: the
 * context derives different keys and the first open fails with VEIL_E_AUTH.
 * An enc that is a small-order point fails here with VEIL_E_CRYPTO. */
veil_status veil_hpke_setup_receiver(unsigned aead_id, const uint8_t skR[VEIL_HPKE_SK_LEN],
                                     const uint8_t enc[VEIL_HPKE_ENC_LEN], const uint8_t *info,
                                     size_t info_len, veil_hpke_ctx **out, veil_err *err) VEIL_MUST_CHECK;
/* ContextS.Seal: ct receives pt_len + VEIL_HPKE_TAG_LEN bytes (ct may equal
 * pt for in-place work; no other overlap). Uses the context's sequence
 * number and advances it. Only on a sender context. When the sequence
 * number is spent (2^64 - 1 messages) it fails with VEIL_E_LIMIT; set up a
 * new context. On error ct is wiped and the sequence number is unchanged. */
veil_status veil_hpke_seal(veil_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                           size_t pt_len, uint8_t *ct, veil_err *err) VEIL_MUST_CHECK;
/* ContextR.Open: pt receives ct_len - VEIL_HPKE_TAG_LEN bytes (pt may equal
 * ct). Messages must be opened in the order they were sealed. A modified
 * ct or aad, another key, info or order: VEIL_E_AUTH, pt wiped, sequence
 * number unchanged (the next message in order still opens). ct shorter
 * than the tag: VEIL_E_INVALID. Only on a receiver context. */
veil_status veil_hpke_open(veil_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                           size_t ct_len, uint8_t *pt, veil_err *err) VEIL_MUST_CHECK;
/* Context.Export (RFC 9180 5.3): L bytes (1..VEIL_HPKE_EXPORT_MAX) of
 * secret bound to the session and exp_ctx. Either side; both get the same
 * bytes. On error out is wiped. */
veil_status veil_hpke_export(const veil_hpke_ctx *ctx, const uint8_t *exp_ctx, size_t exp_ctx_len, size_t L,
                             uint8_t *out, veil_err *err) VEIL_MUST_CHECK;
/* The sequence number the next seal or open will use. */
uint64_t veil_hpke_seq(const veil_hpke_ctx *ctx);
/* Moves the sequence number forward to seq (a receiver whose peer skipped
 * messages; known-answer tests). Never backward, which would reuse a nonce:
 * seq below the current one fails with VEIL_E_INVALID. */
veil_status veil_hpke_skip_to(veil_hpke_ctx *ctx, uint64_t seq, veil_err *err) VEIL_MUST_CHECK;
/* Wipes every key in the context and frees it. NULL ok. */
void veil_hpke_free(veil_hpke_ctx *ctx);

/* One message to pkR: out receives enc || ciphertext || tag, that is
 * pt_len + VEIL_HPKE_SEAL_OVERHEAD bytes; wiped on error. out must not
 * overlap pt. */
veil_status veil_hpke_seal_base(unsigned aead_id, const uint8_t pkR[VEIL_HPKE_PK_LEN], const uint8_t *info,
                                size_t info_len, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                                size_t pt_len, uint8_t *out, veil_err *err) VEIL_MUST_CHECK;
/* Opens what veil_hpke_seal_base made: pt receives in_len -
 * VEIL_HPKE_SEAL_OVERHEAD bytes; wiped on error. Shorter input than the
 * overhead: VEIL_E_INVALID; anything modified or a wrong key: VEIL_E_AUTH
 * (VEIL_E_CRYPTO when enc is a small-order point). */
veil_status veil_hpke_open_base(unsigned aead_id, const uint8_t skR[VEIL_HPKE_SK_LEN], const uint8_t *info,
                                size_t info_len, const uint8_t *aad, size_t aad_len, const uint8_t *in,
                                size_t in_len, uint8_t *pt, veil_err *err) VEIL_MUST_CHECK;

/* DeriveKeyPair (RFC 9180 7.1.3) for DHKEM(X25519, HKDF-SHA256): a key
 * pair from ikm (VEIL_HPKE_IKM_MIN..VEIL_HPKE_IKM_MAX bytes), which must be
 * secret and uniformly random. For a fresh random key pair use
 * veil_x25519_keygen: HPKE's X25519 keys are plain X25519 keys. */
veil_status veil_hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len, uint8_t sk[VEIL_HPKE_SK_LEN],
                                     uint8_t pk[VEIL_HPKE_PK_LEN], veil_err *err) VEIL_MUST_CHECK;
/* KNOWN-ANSWER TESTS ONLY: veil_hpke_setup_sender with the ephemeral key
 * pair derived from ikmE instead of drawn at random, so that the RFC's
 * encryptions can be reproduced. Reusing ikmE reuses the ephemeral key and
 * with it every key of the session: never call it in production code. */
veil_status veil_hpke_setup_sender_derand(unsigned aead_id, const uint8_t pkR[VEIL_HPKE_PK_LEN],
                                          const uint8_t *info, size_t info_len, const uint8_t *ikmE,
                                          size_t ikmE_len, uint8_t enc[VEIL_HPKE_ENC_LEN],
                                          veil_hpke_ctx **out, veil_err *err) VEIL_MUST_CHECK;

#endif
