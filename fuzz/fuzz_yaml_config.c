/*
 * Fuzz target: veil_yaml_parse_map, the reader of veil.yaml and, later, of
 * job, policy and schema files. The input is passed as it is, without a NUL,
 * so that a read past `len` is caught.
 *
 * Invariants (abort on violation):
 *  1. A failure is reported in err with a message and leaves an empty map.
 *  2. A parsed map has at most VEIL_YAML_MAX_KEYS items, each with a
 *     key, a value and a line, no key twice, and veil_yaml_get finds each.
 */
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	veil_yaml_map m;
	veil_err err = {0};
	veil_status st = veil_yaml_parse_map((const char *)data, size, "fuzz.yaml", &m, &err);
	fuzz_note("yaml", st, &err);
	if (st) {
		FUZZ_CHECK(err.code == st && err.msg[0] != '\0', "a failure without an error message");
		FUZZ_CHECK(m.items == NULL && m.n == 0, "a failed parse left items behind");
		return 0;
	}
	FUZZ_CHECK(m.n <= VEIL_YAML_MAX_KEYS, "more keys than VEIL_YAML_MAX_KEYS");
	for (size_t i = 0; i < m.n; i++) {
		const veil_kv *kv = &m.items[i];
		FUZZ_CHECK(kv->key && kv->value, "an item without key or value");
		FUZZ_CHECK(kv->line >= 1, "an item without a line number");
		FUZZ_CHECK(veil_yaml_get(&m, kv->key) == kv->value, "a key appears twice");
	}
	veil_yaml_free(&m);
	return 0;
}
