/*
 * Fuzz target: the audit event codec (src/audit/event.c) on a leaf as read
 * back from the leaves file or from a proof: audit_event_decode parses it
 * with the same rules audit_event_encode applies. Reached through the other
 * audit targets only behind a hash or signature, so fuzzed here directly.
 *
 * Invariants (abort on violation):
 *  1. A failure has an error message.
 *  2. A decoded event encodes again (unless its canonical form outgrows a
 *     leaf or its detail outgrows VEIL_AUDIT_DETAIL_MAX: VEIL_E_LIMIT), and
 *     that canonical leaf decodes and encodes to itself byte for byte: the
 *     same event always hashes the same.
 */
#include "fuzz.h"
#include "audit_int.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	audit_decoded d;
	veil_err err = {0};
	veil_status st = audit_event_decode(data, size, &d, &err);
	fuzz_note("decode", st, &err);
	if (st) {
		FUZZ_CHECK(err.code == st && err.msg[0] != '\0', "a failure without an error message");
		return 0;
	}
	FUZZ_CHECK(d.ev.time >= 0 && d.ev.time <= VEIL_AUDIT_TIME_MAX, "an event time out of range");
	veil_buf leaf = {0}, again = {0};
	st = audit_event_encode(&d.ev, 0, &leaf, &err);
	if (st) {
		FUZZ_CHECK(st == VEIL_E_LIMIT, "a decoded event does not encode again");
	} else {
		audit_decoded d2;
		FUZZ_CHECK(audit_event_decode(leaf.data, leaf.len, &d2, &err) == VEIL_OK,
		           "a canonical leaf does not decode");
		FUZZ_CHECK(audit_event_encode(&d2.ev, 0, &again, &err) == VEIL_OK,
		           "a canonical leaf does not encode");
		FUZZ_CHECK(again.len == leaf.len && memcmp(again.data, leaf.data, leaf.len) == 0,
		           "the canonical form is not stable");
		audit_decoded_free(&d2);
	}
	veil_buf_free(&leaf);
	veil_buf_free(&again);
	audit_decoded_free(&d);
	return 0;
}
