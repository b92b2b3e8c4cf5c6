/*
 * Fuzz target: veil_schema_parse, the reader of dataset schemas
 * (docs/formats/schema.md), which a data owner writes and the trusted
 * worker reads; then, for a schema that parses, the accessors, pattern
 * matching and the writer. The input is passed as it is, without a NUL, so
 * that a read past `len` is caught.
 *
 * Invariants (abort on violation):
 *  1. A failure is VEIL_E_INVALID, VEIL_E_UNSUPPORTED or VEIL_E_LIMIT with
 *     "line L, column C: " and a message (VEIL_E_LIMIT without a position
 *     only for a text over VEIL_SCHEMA_MAX_BYTES), and leaves *out NULL.
 *  2. A parsed schema has 1..VEIL_SCHEMA_COLUMNS_MAX columns, each with a
 *     name of 1..VEIL_SCHEMA_NAME_MAX bytes that veil_schema_find finds at
 *     its own index; at most one label, the one veil_schema_label names;
 *     bounds only on int, float, date and timestamp columns, min <= max;
 *     allowed values distinct and none on a bool column; patterns only on
 *     string and category columns.
 *  3. veil_schema_write succeeds, its text parses to the same schema, and
 *     writing that again gives the same bytes.
 *  4. Matching any value (the allowed ones, the input's bytes) against any
 *     pattern returns without harm.
 */
#include "fuzz.h"
#include "veil/data.h"

#include <math.h>
#include <string.h>

/* "line L, column C: message" with L, C >= 1 and a message. */
static bool has_position(const char *msg)
{
	const char *s = msg;
	for (int part = 0; part < 2; part++) {
		const char *label = part ? ", column " : "line ";
		size_t n = strlen(label);
		if (strncmp(s, label, n) != 0)
			return false;
		s += n;
		if (*s < '1' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return strncmp(s, ": ", 2) == 0 && s[2] != '\0';
}

/* Equal, and of the same sign: the round trip must keep -0.0 apart from 0.0. */
static bool same_double(double a, double b)
{
	return a == b && signbit(a) == signbit(b);
}

static bool bounded(veil_col_type t)
{
	return t == VEIL_COL_INT64 || t == VEIL_COL_DOUBLE || t == VEIL_COL_DATE || t == VEIL_COL_TIMESTAMP;
}

static void check_schema(const veil_schema *s, const uint8_t *data, size_t size)
{
	size_t n = veil_schema_ncolumns(s);
	FUZZ_CHECK(n >= 1 && n <= VEIL_SCHEMA_COLUMNS_MAX, "a column count out of bounds");
	FUZZ_CHECK(veil_schema_column_at(s, n) == NULL, "a column past the end");
	ptrdiff_t label = -1;
	for (size_t i = 0; i < n; i++) {
		const veil_schema_column *c = veil_schema_column_at(s, i);
		FUZZ_CHECK(c && c->name, "a column without a name");
		size_t len = strlen(c->name);
		FUZZ_CHECK(len >= 1 && len <= VEIL_SCHEMA_NAME_MAX, "a name length out of bounds");
		FUZZ_CHECK(veil_schema_find(s, c->name) == (ptrdiff_t)i, "a name found elsewhere");
		if (c->label) {
			FUZZ_CHECK(label < 0, "two labels");
			label = (ptrdiff_t)i;
		}
		FUZZ_CHECK(bounded(c->type) || (!c->has_min && !c->has_max),
		           "bounds on a column without bounds");
		if (c->has_min && c->has_max)
			FUZZ_CHECK(c->type == VEIL_COL_DOUBLE ? c->min.f <= c->max.f : c->min.i <= c->max.i,
			           "min above max");
		FUZZ_CHECK(c->nallowed <= VEIL_SCHEMA_ALLOWED_MAX, "too many allowed values");
		FUZZ_CHECK(c->nallowed == 0 || c->type != VEIL_COL_BOOL, "allowed values on a bool column");
		for (size_t j = 0; j < c->nallowed; j++) {
			const char *v = c->allowed[j];
			FUZZ_CHECK(v != NULL, "a NULL allowed value");
			if (!v) /* unreachable: FUZZ_CHECK aborts, which the analyzer cannot see */
				continue;
			for (size_t k = 0; k < j; k++)
				FUZZ_CHECK(!c->allowed[k] || strcmp(v, c->allowed[k]) != 0,
				           "an allowed value twice");
			(void)veil_schema_pattern_match(s, i, v, strlen(v));
		}
		FUZZ_CHECK(!c->pattern || c->type == VEIL_COL_STRING || c->type == VEIL_COL_CATEGORY,
		           "a pattern on a column that is not text");
		if (c->pattern)
			(void)veil_schema_pattern_match(s, i, (const char *)data, size < 256 ? size : 256);
	}
	FUZZ_CHECK(veil_schema_label(s) == label, "veil_schema_label disagrees");
}

static void check_round_trip(const veil_schema *s)
{
	veil_buf w1 = {0}, w2 = {0};
	veil_err err = {0};
	veil_status st = veil_schema_write(s, &w1, &err);
	fuzz_note("write", st, &err);
	FUZZ_CHECK(st == VEIL_OK, "a parsed schema cannot be written");
	veil_schema *back = NULL;
	st = veil_schema_parse((const char *)w1.data, w1.len, &back, &err);
	fuzz_note("reparse", st, &err);
	FUZZ_CHECK(st == VEIL_OK, "a written schema does not parse");
	size_t n = veil_schema_ncolumns(s);
	FUZZ_CHECK(veil_schema_ncolumns(back) == n, "the round trip changed the column count");
	FUZZ_CHECK(veil_schema_classification(back) == veil_schema_classification(s),
	           "the round trip changed the classification");
	for (size_t i = 0; i < n; i++) {
		const veil_schema_column *a = veil_schema_column_at(s, i),
		                         *b = veil_schema_column_at(back, i);
		bool same = strcmp(a->name, b->name) == 0 && a->type == b->type &&
		            a->nullable == b->nullable && a->unique == b->unique &&
		            a->quasi_identifier == b->quasi_identifier && a->label == b->label &&
		            a->pii == b->pii && a->has_min == b->has_min && a->has_max == b->has_max &&
		            a->min.i == b->min.i && a->max.i == b->max.i && same_double(a->min.f, b->min.f) &&
		            same_double(a->max.f, b->max.f) && a->nallowed == b->nallowed &&
		            (a->pattern == NULL) == (b->pattern == NULL) &&
		            (!a->pattern || strcmp(a->pattern, b->pattern) == 0);
		for (size_t j = 0; same && j < a->nallowed; j++)
			same = strcmp(a->allowed[j], b->allowed[j]) == 0;
		FUZZ_CHECK(same, "the round trip changed a column");
	}
	st = veil_schema_write(back, &w2, &err);
	FUZZ_CHECK(st == VEIL_OK && w1.len == w2.len && memcmp(w1.data, w2.data, w1.len) == 0,
	           "writing the reread schema gave other bytes");
	veil_schema_free(back);
	veil_buf_free(&w1);
	veil_buf_free(&w2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	veil_schema *s = (veil_schema *)&s; /* must come back NULL on failure */
	veil_err err = {0};
	veil_status st = veil_schema_parse((const char *)data, size, &s, &err);
	fuzz_note("parse", st, &err);
	if (st) {
		FUZZ_CHECK(s == NULL, "a failed parse returned a schema");
		FUZZ_CHECK(err.code == st && err.msg[0], "a failure without its status or a message");
		if (st == VEIL_E_LIMIT && size > VEIL_SCHEMA_MAX_BYTES)
			return 0;
		FUZZ_CHECK(st == VEIL_E_INVALID || st == VEIL_E_UNSUPPORTED || st == VEIL_E_LIMIT,
		           "a failure with an unexpected status");
		FUZZ_CHECK(has_position(err.msg), "a refusal without 'line L, column C: ' and a message");
		return 0;
	}
	FUZZ_CHECK(s != NULL, "a successful parse without a schema");
	check_schema(s, data, size);
	check_round_trip(s);
	veil_schema_free(s);
	return 0;
}
