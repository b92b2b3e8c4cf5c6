/*
 * The validator's judgement and report (docs/formats/validation-report.md):
 * each column's PII class and quasi-identifier flag, the dataset's
 * effective classification, which columns are sensitive, the report in
 * JSON with the raw values of sensitive columns left out, and the schema a
 * profile infers.
 *
 * The privacy rule lives here, in one place: a raw value (a min, a max, a
 * histogram edge, an inferred bound) is written only for a column that is
 * not sensitive; everything else in a report is a count, a rate, a row
 * number, a name or an aggregate over many values.
 */
#include "data_int.h"
#include "validate_int.h"

#include <math.h>
#include <string.h>

const char *vrule_name(rule r)
{
	switch (r) {
	case R_TYPE:
		return "type";
	case R_NULL:
		return "null";
	case R_MIN:
		return "min";
	case R_MAX:
		return "max";
	case R_ALLOWED:
		return "allowed";
	case R_PATTERN:
		return "pattern";
	case R_UNIQUE:
		return "unique";
	case R_DUP:
		return "duplicate-row";
	case R_COUNT:
		break;
	}
	return "?";
}

/* ---- judgement ---- */

/* Identifies a person on its own (docs/pii.md, "Classification"). */
static bool direct_identifier(veil_pii p)
{
	switch (p) {
	case VEIL_PII_EMAIL:
	case VEIL_PII_PHONE:
	case VEIL_PII_SSN:
	case VEIL_PII_PAYMENT_CARD:
	case VEIL_PII_IBAN:
	case VEIL_PII_PERSON_NAME:
	case VEIL_PII_DATE_OF_BIRTH:
		return true;
	case VEIL_PII_NONE:
	case VEIL_PII_IP:
	case VEIL_PII_POSTAL_CODE:
		break;
	}
	return false;
}

static veil_data_class class_max(veil_data_class a, veil_data_class b)
{
	return a > b ? a : b;
}

static void judge_column(veil_validator *v, vcol *c)
{
	veil_pii declared = c->sc ? c->sc->pii : VEIL_PII_NONE;
	c->found = veil_pii_verdict(&c->pii, c->name, v->threshold, &c->found_rate);
	c->pii_class = declared != VEIL_PII_NONE ? declared : c->found;
	/* Dates single people out with the other quasi-identifiers: a column
	 * typed as dates, or whose values mostly are, is one (a birth date is
	 * PII besides). */
	bool dates = c->type == VEIL_COL_DATE || c->type == VEIL_COL_TIMESTAMP ||
	             (c->pii.values &&
	              (double)c->pii.hits[VEIL_PII_DATE_OF_BIRTH] / (double)c->pii.values >= v->threshold);
	c->quasi = (c->sc && c->sc->quasi_identifier) || veil_pii_quasi_identifier(c->name) || dates;
	for (int k = 0; k < 2; k++) {
		veil_pii p = k ? c->found : declared;
		if (p == VEIL_PII_NONE)
			continue;
		v->sum.pii |= 1u << p;
		if (p == VEIL_PII_POSTAL_CODE || p == VEIL_PII_DATE_OF_BIRTH)
			c->quasi = true;
		v->findings = class_max(v->findings, direct_identifier(p) ? VEIL_CLASS_RESTRICTED
		                                                          : VEIL_CLASS_CONFIDENTIAL);
	}
	if (c->quasi) {
		v->sum.quasi_identifiers++;
		v->findings = class_max(v->findings, VEIL_CLASS_CONFIDENTIAL);
	}
}

void vreport_judge(veil_validator *v)
{
	memset(&v->sum, 0, sizeof v->sum);
	v->findings = VEIL_CLASS_UNSET;
	for (size_t c = 0; c < v->ncols; c++)
		judge_column(v, &v->cols[c]);
	v->effective = class_max(class_max(v->declared, veil_schema_classification(v->schema)), v->findings);
	if (v->effective == VEIL_CLASS_UNSET)
		v->effective = VEIL_CLASS_INTERNAL; /* nothing declared, nothing found */
	for (size_t c = 0; c < v->ncols; c++) {
		vcol *k = &v->cols[c];
		k->sensitive = k->pii_class != VEIL_PII_NONE || k->found != VEIL_PII_NONE || k->quasi ||
		               v->effective > VEIL_CLASS_INTERNAL || v->redact_all;
	}
	v->sum.validated = v->schema != NULL;
	v->sum.passed = v->schema != NULL && v->violations == 0;
	v->sum.rows = v->rows;
	v->sum.violations = v->violations;
	v->sum.duplicate_rows = v->dup_rows;
	v->sum.classification = v->effective;
}

/* ---- the report ---- */

static void kclass(veil_jw *w, const char *key, veil_data_class c)
{
	veil_jw_key(w, key);
	if (c == VEIL_CLASS_UNSET)
		veil_jw_null(w);
	else
		veil_jw_str(w, veil_data_class_name(c));
}

static void write_classification(const veil_validator *v, veil_jw *w)
{
	veil_jw_key(w, "classification");
	veil_jw_object(w);
	veil_jw_kstr(w, "effective", veil_data_class_name(v->effective));
	kclass(w, "declared", v->declared);
	kclass(w, "schema", veil_schema_classification(v->schema));
	kclass(w, "findings", v->findings);
	veil_jw_end(w);
	veil_jw_key(w, "pii");
	veil_jw_array(w);
	for (unsigned p = 1; p < VEIL_PII_COUNT; p++)
		if (v->sum.pii & (1u << p))
			veil_jw_str(w, veil_pii_name((veil_pii)p));
	veil_jw_end(w);
	veil_jw_key(w, "quasi_identifiers");
	veil_jw_array(w);
	for (size_t c = 0; c < v->ncols; c++)
		if (v->cols[c].quasi)
			veil_jw_str(w, v->cols[c].name);
	veil_jw_end(w);
}

/* Whether a listed violation may show its record: not a value rule (min,
 * max, allowed, pattern, unique) on a sensitive column, where the records
 * that break a rule the caller chose would tell the values ("pattern: 1.*"
 * lists the SSNs that do not start with 1). Those are counted only. */
static bool may_list(const veil_validator *v, const violation *x)
{
	if (x->col == NO_COL || !v->cols[x->col].sensitive)
		return true;
	return x->rule == R_TYPE || x->rule == R_NULL;
}

static void write_violations(const veil_validator *v, veil_jw *w)
{
	size_t listed = 0;
	for (size_t k = 0; k < v->nlist; k++)
		listed += may_list(v, &v->list[k]);
	veil_jw_key(w, "violations");
	veil_jw_object(w);
	veil_jw_kuint(w, "total", v->violations);
	veil_jw_kuint(w, "listed", listed);
	veil_jw_kuint(w, "withheld", v->nlist - listed);
	veil_jw_kuint(w, "limit", v->max_violations);
	veil_jw_key(w, "by_rule");
	veil_jw_object(w);
	for (rule r = 0; r < R_COUNT; r++)
		veil_jw_kuint(w, vrule_name(r), v->by_rule[r]);
	veil_jw_end(w);
	veil_jw_key(w, "list");
	veil_jw_array(w);
	for (size_t k = 0; k < v->nlist; k++) {
		const violation *x = &v->list[k];
		if (!may_list(v, x))
			continue;
		veil_jw_object(w);
		veil_jw_kuint(w, "record", x->record);
		veil_jw_kuint(w, "line", x->line);
		if (x->col != NO_COL)
			veil_jw_kstr(w, "column", v->cols[x->col].name);
		veil_jw_kstr(w, "rule", vrule_name((rule)x->rule));
		veil_jw_end(w);
	}
	veil_jw_end(w);
	veil_jw_end(w);
	veil_jw_key(w, "duplicates");
	veil_jw_object(w);
	veil_jw_kuint(w, "rows", v->dup_rows);
	veil_jw_kuint(w, "checked", v->dup_checked);
	veil_jw_kbool(w, "complete", !v->dup_full);
	veil_jw_end(w);
}

/* A value of the column's track: a number, or a date or time as text. */
static void track_value(veil_jw *w, const vcol *c, double d)
{
	char text[VDATE_TEXT];
	if (c->tr == T_DATE || c->tr == T_TIMESTAMP) {
		int64_t i = (int64_t)llround(d);
		if (c->tr == T_DATE)
			vdate_format(i, text);
		else
			vtimestamp_format(i, text);
		veil_jw_str(w, text);
	} else if (c->type == VEIL_COL_INT64 && d == floor(d) && fabs(d) < 9.2e18) {
		veil_jw_int(w, (int64_t)d); /* an integer column's edges are integers */
	} else {
		veil_jw_double(w, d);
	}
}

static void write_histogram(veil_jw *w, vcol *c, unsigned bins)
{
	hist_out h;
	if (!hist_result(&c->h, c->dmin, c->dmax, bins, &h))
		return;
	veil_jw_key(w, "histogram");
	veil_jw_object(w);
	veil_jw_key(w, "edges");
	veil_jw_array(w);
	for (unsigned k = 0; k <= h.nbins; k++)
		track_value(w, c, h.edge0 + h.width * k);
	veil_jw_end(w);
	veil_jw_key(w, "counts");
	veil_jw_array(w);
	for (unsigned k = 0; k < h.nbins; k++)
		veil_jw_uint(w, h.counts[k]);
	veil_jw_end(w);
	veil_jw_end(w);
}

/* Statistics of a number, date or timestamp column. min, max and the
 * histogram are raw values: not for a sensitive column. */
static void write_track(veil_jw *w, vcol *c, uint64_t count, unsigned bins)
{
	uint64_t agg_min = c->sensitive ? AGG_MIN : 1;
	if (count >= agg_min && count >= 1) {
		veil_jw_key(w, "mean");
		if (c->tr == T_NUMBER)
			veil_jw_double(w, c->mom.mean);
		else
			track_value(w, c, c->mom.mean); /* the mean date or time */
	}
	if (count >= agg_min && count >= 2)
		veil_jw_kdouble(w, "stddev", moments_sd(&c->mom));
	if (c->sensitive || count == 0)
		return;
	/* Integers exactly, beyond 2^53 too; dates from their day counts,
	 * which doubles hold exactly. */
	bool ints = c->type == VEIL_COL_INT64 && c->has_i;
	veil_jw_key(w, "min");
	if (ints)
		veil_jw_int(w, c->imin);
	else
		track_value(w, c, c->dmin);
	veil_jw_key(w, "max");
	if (ints)
		veil_jw_int(w, c->imax);
	else
		track_value(w, c, c->dmax);
	write_histogram(w, c, bins);
}

static void write_stats(veil_jw *w, vcol *c, uint64_t count, unsigned bins)
{
	veil_jw_key(w, "stats");
	veil_jw_object(w);
	switch (c->type) {
	case VEIL_COL_INT64:
	case VEIL_COL_DOUBLE:
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		write_track(w, c, count, bins);
		break;
	case VEIL_COL_BOOL:
		veil_jw_kuint(w, "true", c->ntrue);
		veil_jw_kuint(w, "false", c->nfalse);
		break;
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		if (c->lcount == 0)
			break;
		veil_jw_key(w, "length");
		veil_jw_object(w);
		veil_jw_kuint(w, "min", c->lmin);
		veil_jw_kuint(w, "max", c->lmax);
		veil_jw_kdouble(w, "mean", c->lsum / (double)c->lcount);
		veil_jw_end(w);
		break;
	}
	veil_jw_end(w);
}

static void write_column(const veil_validator *v, veil_jw *w, vcol *c)
{
	uint64_t count = c->values - c->invalid;
	veil_jw_object(w);
	veil_jw_kstr(w, "name", c->name);
	veil_jw_kstr(w, "type", veil_schema_type_name(c->type));
	veil_jw_kuint(w, "count", count);
	veil_jw_kuint(w, "missing", c->missing);
	if (v->schema)
		veil_jw_kuint(w, "invalid", c->invalid);
	double distinct = c->hll ? hll_estimate(c->hll) : 0;
	if (!v->schema && c->text && c->quoted_empty)
		distinct += 1; /* "", which the sketch does not see in a profile */
	veil_jw_kuint(w, "distinct", (uint64_t)llround(distinct));
	veil_jw_key(w, "pii");
	veil_jw_object(w);
	veil_jw_kstr(w, "declared", veil_pii_name(c->sc ? c->sc->pii : VEIL_PII_NONE));
	veil_jw_kstr(w, "found", veil_pii_name(c->found));
	veil_jw_kdouble(w, "rate", c->found_rate);
	veil_jw_kstr(w, "class", veil_pii_name(c->pii_class));
	veil_jw_end(w);
	veil_jw_kbool(w, "quasi_identifier", c->quasi);
	veil_jw_kbool(w, "sensitive", c->sensitive);
	if (v->schema) {
		if (c->sc->unique)
			veil_jw_kbool(w, "unique_complete", !c->uniq_full);
		uint64_t total = 0;
		for (rule r = 0; r < R_DUP; r++)
			total += c->viol[r];
		veil_jw_key(w, "violations");
		veil_jw_object(w);
		veil_jw_kuint(w, "total", total);
		for (rule r = 0; r < R_DUP; r++)
			veil_jw_kuint(w, vrule_name(r), c->viol[r]);
		veil_jw_end(w);
	}
	write_stats(w, c, count, (unsigned)v->bins);
	veil_jw_end(w);
}

void vreport_write(const veil_validator *v, veil_jw *w)
{
	veil_jw_object(w);
	veil_jw_kstr(w, "format", "veil-validation-report");
	veil_jw_kint(w, "version", 1);
	veil_jw_kstr(w, "mode", v->schema ? "validate" : "profile");
	veil_jw_kbool(w, "passed", v->sum.passed);
	veil_jw_kuint(w, "rows", v->rows);
	write_classification(v, w);
	write_violations(v, w);
	veil_jw_key(w, "columns");
	veil_jw_array(w);
	for (size_t c = 0; c < v->ncols; c++)
		write_column(v, w, &v->cols[c]);
	veil_jw_end(w);
	veil_jw_end(w);
}

/* ---- the inferred schema ---- */

/* Bounds a schema can hold: dates and times in the years 1000 to 9999. */
static bool date_in_range(const vcol *c, int64_t t)
{
	int64_t lo = 0, hi = 0;
	bool ts = c->type == VEIL_COL_TIMESTAMP;
	if (ts) {
		(void)data_conv_timestamp("1000-01-01T00:00:00Z", 20, &lo);
		(void)data_conv_timestamp("9999-12-31T23:59:59Z", 20, &hi);
	} else {
		(void)data_conv_date("1000-01-01", 10, &lo);
		(void)data_conv_date("9999-12-31", 10, &hi);
	}
	return t >= lo && t <= hi;
}

/* Bounds are the values seen: raw values, so only for a column that is
 * not sensitive, by the report's rule. */
static void infer_bounds(const vcol *c, veil_schema_column *sc)
{
	if (c->sensitive || c->values == 0)
		return;
	switch (c->type) {
	case VEIL_COL_INT64:
		sc->has_min = sc->has_max = c->has_i;
		sc->min.i = c->imin;
		sc->max.i = c->imax;
		break;
	case VEIL_COL_DOUBLE:
		sc->has_min = sc->has_max = c->tr == T_NUMBER;
		sc->min.f = c->dmin;
		sc->max.f = c->dmax;
		break;
	case VEIL_COL_DATE:
	case VEIL_COL_TIMESTAMP:
		sc->has_min = sc->has_max =
		        c->has_i && date_in_range(c, c->imin) && date_in_range(c, c->imax);
		sc->min.i = c->imin;
		sc->max.i = c->imax;
		break;
	case VEIL_COL_BOOL:
	case VEIL_COL_STRING:
	case VEIL_COL_CATEGORY:
		break;
	}
}

veil_status veil_validator_infer_schema(const veil_validator *v, veil_schema **out, veil_err *err)
{
	*out = NULL;
	if (v->schema || !v->finished)
		return veil_err_set(err, VEIL_E_INVALID, "a schema is inferred from a finished profile only");
	veil_schema *s = NULL;
	veil_status st = veil_schema_new(&s, err);
	for (size_t c = 0; c < v->ncols && st == VEIL_OK; c++) {
		const vcol *k = &v->cols[c];
		veil_schema_column sc = {
		        .name = k->name,
		        .type = k->type,
		        .nullable = k->missing > 0,
		        .quasi_identifier = k->quasi,
		        .pii = k->pii_class,
		};
		infer_bounds(k, &sc);
		if ((st = veil_schema_add_column(s, &sc, err)) != VEIL_OK)
			veil_err_wrap(err, "the file's column %zu cannot be a schema column", c + 1);
	}
	if (st != VEIL_OK) {
		veil_schema_free(s);
		return st;
	}
	veil_schema_set_classification(s, v->effective);
	*out = s;
	return VEIL_OK;
}
