/*
 * Fuzz target: veil_pipeline_parse, the reader of feature pipelines
 * (docs/formats/pipeline.md), which an ML engineer writes and the trusted
 * worker reads, fitted ones included (read back from storage to serve);
 * then, for a pipeline that parses, the writer, the check against a small
 * fixed table, and a fit and apply over it. The input is passed as it is,
 * without a NUL, so that a read past `len` is caught.
 *
 * Invariants (abort on violation):
 *  1. A failure is VEIL_E_INVALID, VEIL_E_UNSUPPORTED or VEIL_E_LIMIT with
 *     "line L, column C: " and a message (VEIL_E_LIMIT without a position
 *     only for a text over VEIL_PIPELINE_MAX_BYTES), and leaves *out NULL.
 *  2. veil_pipeline_write succeeds; its text parses to a pipeline with the
 *     same label, the same fittedness and need of a key, and writing that
 *     again gives the same bytes.
 *  3. When the pipeline checks against the fixed table, a fit either fails
 *     with a message and leaves the pipeline's fittedness as it was, or
 *     gives a table; the fitted pipeline written, read back and applied to
 *     the same table gives the same table (compared as CSV), and the
 *     report is complete JSON.
 */
#include "fuzz.h"
#include "veil/data.h"

#include <string.h>

static const uint8_t fuzz_key[VEIL_PIPELINE_KEY_LEN] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                                                        7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};

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

static bool same_label(const veil_pipeline *a, const veil_pipeline *b)
{
	const char *x = veil_pipeline_label(a), *y = veil_pipeline_label(b);
	return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

/* A small table with a column of every type, some values missing. */
static veil_table *fixed_table(void)
{
	static const veil_table_col_spec spec[] = {
	        {"age", VEIL_COL_INT64},    {"bmi", VEIL_COL_DOUBLE},  {"sex", VEIL_COL_CATEGORY},
	        {"email", VEIL_COL_STRING}, {"zip", VEIL_COL_STRING},  {"visit", VEIL_COL_DATE},
	        {"ts", VEIL_COL_TIMESTAMP}, {"smoker", VEIL_COL_BOOL}, {"y", VEIL_COL_INT64}};
	static const char *const sexes[] = {"F", "M", "F", "X"};
	static const char *const emails[] = {"a@example.org", "b@example.org", "", "c@example.com"};
	static const char *const zips[] = {"01001", "01002", "99950", "0100"};
	veil_table *t = NULL;
	veil_err err = {0};
	FUZZ_CHECK(veil_table_new(spec, 9, &t, &err) == VEIL_OK, "the fixed table");
	for (int r = 0; r < 12; r++) {
		veil_table_value v[9] = {
		        {.i = 18 + 7 * r},
		        {.f = 17.5 + 1.25 * (r % 5)},
		        {.p = sexes[r % 4], .len = strlen(sexes[r % 4])},
		        {.p = emails[r % 4], .len = strlen(emails[r % 4])},
		        {.p = zips[r % 4], .len = strlen(zips[r % 4])},
		        {.i = 19000 + 40 * r},
		        {.i = 1700000000 + 86399 * r},
		        {.i = r % 3 == 0},
		        {.i = r % 2},
		};
		v[r % 8].null = r % 3 == 1; /* a missing value in a different column each time */
		FUZZ_CHECK(veil_table_append_values(t, v, 9, &err) == VEIL_OK, "a row of the fixed table");
	}
	return t;
}

static veil_status buf_write(void *ctx, const uint8_t *p, size_t n, veil_err *err)
{
	return veil_buf_append(ctx, p, n, err);
}

static void csv_of(const veil_table *t, veil_buf *out)
{
	veil_err err = {0};
	FUZZ_CHECK(veil_table_write_csv(t, buf_write, out, &err) == VEIL_OK, "a table cannot be written");
}

static void check_round_trip(const veil_pipeline *p)
{
	veil_buf w1 = {0}, w2 = {0};
	veil_err err = {0};
	veil_status st = veil_pipeline_write(p, &w1, &err);
	fuzz_note("write", st, &err);
	FUZZ_CHECK(st == VEIL_OK, "a parsed pipeline cannot be written");
	veil_pipeline *back = NULL;
	st = veil_pipeline_parse((const char *)w1.data, w1.len, &back, &err);
	fuzz_note("reparse", st, &err);
	FUZZ_CHECK(st == VEIL_OK, "a written pipeline does not parse");
	FUZZ_CHECK(same_label(p, back), "the round trip changed the label");
	FUZZ_CHECK(veil_pipeline_is_fitted(p) == veil_pipeline_is_fitted(back),
	           "the round trip changed fittedness");
	FUZZ_CHECK(veil_pipeline_needs_key(p) == veil_pipeline_needs_key(back),
	           "the round trip changed the key need");
	st = veil_pipeline_write(back, &w2, &err);
	FUZZ_CHECK(st == VEIL_OK && w1.len == w2.len && memcmp(w1.data, w2.data, w1.len) == 0,
	           "writing the reread pipeline gave other bytes");
	veil_pipeline_free(back);
	veil_buf_free(&w1);
	veil_buf_free(&w2);
}

static void check_run(veil_pipeline *p, const veil_table *t)
{
	veil_err err = {0};
	if (veil_pipeline_check(p, t, &err) != VEIL_OK)
		return;
	bool fitted = veil_pipeline_is_fitted(p);
	veil_table *o1 = NULL, *o2 = NULL;
	veil_pipeline_stats st1, st2;
	veil_status st = veil_pipeline_fit(p, t, fuzz_key, &o1, &st1, &err);
	fuzz_note("fit", st, &err);
	if (st) {
		FUZZ_CHECK(o1 == NULL && err.msg[0], "a failed fit without a message, or with a table");
		FUZZ_CHECK(veil_pipeline_is_fitted(p) == fitted, "a failed fit changed the pipeline");
		return;
	}
	FUZZ_CHECK(veil_pipeline_is_fitted(p), "a fit left the pipeline unfitted");
	FUZZ_CHECK(st1.rows_in == veil_table_nrows(t) && st1.rows_out == veil_table_nrows(o1) &&
	                   st1.rows_out + st1.rows_suppressed == st1.rows_in,
	           "the stats do not add up");
	veil_buf w = {0}, c1 = {0}, c2 = {0}, rep = {0};
	FUZZ_CHECK(veil_pipeline_write(p, &w, &err) == VEIL_OK, "a fitted pipeline cannot be written");
	veil_pipeline *q = NULL;
	st = veil_pipeline_parse((const char *)w.data, w.len, &q, &err);
	fuzz_note("reparse fitted", st, &err);
	FUZZ_CHECK(st == VEIL_OK, "a fitted pipeline does not read back");
	st = veil_pipeline_apply(q, t, fuzz_key, &o2, &st2, &err);
	fuzz_note("apply", st, &err);
	FUZZ_CHECK(st == VEIL_OK, "a fitted pipeline read back does not apply to the data it was fitted on");
	csv_of(o1, &c1);
	csv_of(o2, &c2);
	FUZZ_CHECK(c1.len == c2.len && memcmp(c1.data, c2.data, c1.len) == 0,
	           "the fitted pipeline read back applies differently");
	veil_jw jw;
	veil_jw_init(&jw, &rep);
	veil_jw_object(&jw);
	st = veil_pipeline_report(q, o2, &st2, &jw, &err);
	veil_jw_end(&jw);
	FUZZ_CHECK(st == VEIL_OK && veil_jw_finish(&jw, &err) == VEIL_OK, "the report cannot be written");
	veil_pipeline_free(q);
	veil_table_free(o1);
	veil_table_free(o2);
	veil_buf_free(&w);
	veil_buf_free(&c1);
	veil_buf_free(&c2);
	veil_buf_free(&rep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	veil_pipeline *p = (veil_pipeline *)&p; /* must come back NULL on failure */
	veil_err err = {0};
	veil_status st = veil_pipeline_parse((const char *)data, size, &p, &err);
	fuzz_note("parse", st, &err);
	if (st) {
		FUZZ_CHECK(p == NULL, "a failed parse returned a pipeline");
		FUZZ_CHECK(err.code == st && err.msg[0], "a failure without its status or a message");
		if (st == VEIL_E_LIMIT && size > VEIL_PIPELINE_MAX_BYTES)
			return 0;
		FUZZ_CHECK(st == VEIL_E_INVALID || st == VEIL_E_UNSUPPORTED || st == VEIL_E_LIMIT,
		           "a failure with an unexpected status");
		FUZZ_CHECK(has_position(err.msg), "a refusal without 'line L, column C: ' and a message");
		return 0;
	}
	FUZZ_CHECK(p != NULL, "a successful parse without a pipeline");
	check_round_trip(p);
	veil_table *t = fixed_table();
	check_run(p, t);
	veil_table_free(t);
	veil_pipeline_free(p);
	return 0;
}
