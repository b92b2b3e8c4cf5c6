/*
 * Fuzz target: veil_audit_check_proof, the outside auditor's check of an
 * inclusion or consistency proof (docs/formats/audit.md section 8), with the
 * public key of the corpus log (seed 00 01 .. 1f). The seed corpus holds
 * real proofs made by fuzz/gen_corpus.c, so that mutations reach the Merkle
 * path checks behind the signatures.
 *
 * Invariants (abort on violation):
 *  1. A failure has an error message; the result does not depend on
 *     whether the caller asks for the proof's details.
 *  2. A proof that holds carries a validly signed head, a leaf index below
 *     its tree size (inclusion) or 1 <= old size <= new size (consistency),
 *     and a description.
 */
#include "fuzz.h"
#include "veil/audit.h"

#include <string.h>

static uint8_t pub[VEIL_ED25519_PUB_LEN];

static void setup(void)
{
	static bool done;
	if (!done)
		FUZZ_CHECK(veil_ed25519_public(fuzz_audit_seed, pub, NULL) == VEIL_OK,
		           "cannot derive the log key");
	done = true;
}

static void check_holds(const veil_audit_proof_info *info)
{
	FUZZ_CHECK(veil_audit_sth_verify(pub, &info->head, NULL) == VEIL_OK, "a proof holds with a bad head");
	if (info->kind == VEIL_AUDIT_PROOF_INCLUSION) {
		FUZZ_CHECK(info->leaf_index < info->head.size,
		           "an inclusion proof of a leaf beyond its tree");
	} else {
		FUZZ_CHECK(info->kind == VEIL_AUDIT_PROOF_CONSISTENCY, "a proof of an unknown kind holds");
		FUZZ_CHECK(veil_audit_sth_verify(pub, &info->old_head, NULL) == VEIL_OK,
		           "a proof holds with a bad old head");
		FUZZ_CHECK(info->old_head.size >= 1 && info->old_head.size <= info->head.size,
		           "a consistency proof between sizes that cannot have one");
	}
	size_t n = strnlen(info->description, sizeof info->description);
	FUZZ_CHECK(n > 0 && n < sizeof info->description, "a proof without a description");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	veil_audit_proof_info info;
	veil_err err = {0};
	veil_status st = veil_audit_check_proof((const char *)data, size, pub, &info, &err);
	fuzz_note("check_proof", st, &err);
	FUZZ_CHECK(veil_audit_check_proof((const char *)data, size, pub, NULL, NULL) == st,
	           "the result depends on whether details are asked for");
	if (st)
		FUZZ_CHECK(err.code == st && err.msg[0] != '\0', "a failure without an error message");
	else
		check_holds(&info);
	return 0;
}
