/*
 * What the identity and access files (compartment.c, principal.c, group.c,
 * token.c, policy.c), dataset.c and report.c share: the checks on names and labels
 * that go in, "does it exist" look-ups with not-found messages that say
 * what to do, and the row walker every list uses.
 */
#ifndef VEIL_CATALOG_IAM_INT_H
#define VEIL_CATALOG_IAM_INT_H

#include "catalog_int.h"

/* A name per veil_name_check; NULL is "no <what> given". */
veil_status vcat_check_name(const char *s, const char *what, veil_err *err) VEIL_MUST_CHECK;
/* The same for a name in a fixed-size field of a caller's struct, which
 * must also be NUL-terminated within it. empty_ok: "" passes. */
veil_status vcat_check_field(const char *s, size_t size, bool empty_ok, const char *what,
                             veil_err *err) VEIL_MUST_CHECK;
/* 0..max bytes of printable ASCII (0x20..0x7e): labels and descriptions,
 * which are shown in listings and must not carry terminal escapes. */
veil_status vcat_check_ascii(const char *s, size_t max, const char *what, veil_err *err) VEIL_MUST_CHECK;
/* A time given by the caller: Unix seconds, not negative. */
veil_status vcat_check_time(int64_t t, const char *what, veil_err *err) VEIL_MUST_CHECK;

/* Whether a row matches: sql is a constant "SELECT 1 FROM ... WHERE x =
 * ?1" with one text parameter. */
veil_status vcat_exists(veil_catalog *c, const char *sql, const char *param, bool *found,
                        veil_err *err) VEIL_MUST_CHECK;
/* Fills `out` from the current row of s. */
typedef veil_status (*vcat_read_fn)(veil_catalog *c, sqlite3_stmt *s, void *out, veil_err *err);
/* Looks up one row: sql is a constant SELECT with one text parameter ?1 =
 * name (already checked by the caller). The row goes through read into
 * out; no row is vcat_missing(kind, name). `what` names the look-up in a
 * database error. */
veil_status vcat_get_one(veil_catalog *c, const char *sql, const char *name, const char *kind,
                         vcat_read_fn read, void *out, const char *what, veil_err *err) VEIL_MUST_CHECK;
/* VEIL_E_NOTFOUND: "no <kind> named <name>", with a hint. */
veil_status vcat_missing(const char *kind, const char *name, veil_err *err);
/* VEIL_OK when the compartment, principal or group exists, else
 * VEIL_E_NOTFOUND with a message naming it and a hint. */
veil_status vcat_need_compartment(veil_catalog *c, const char *name, veil_err *err) VEIL_MUST_CHECK;
veil_status vcat_need_principal(veil_catalog *c, const char *name, veil_err *err) VEIL_MUST_CHECK;
veil_status vcat_need_group(veil_catalog *c, const char *name, veil_err *err) VEIL_MUST_CHECK;

/* VEIL_E_CORRUPT for a stored value that the schema's checks should have
 * kept out (the file was changed outside veil). */
veil_status vcat_bad_stored(veil_catalog *c, const char *what, veil_err *err);
/* An optional time column: NULL reads as 0, a negative value is
 * VEIL_E_CORRUPT. */
veil_status vcat_col_time(veil_catalog *c, sqlite3_stmt *s, int col, int64_t *out, const char *what,
                          veil_err *err) VEIL_MUST_CHECK;

/* Steps s (prepared and bound) to its end, calling fn for each row with
 * the statement still open; the first status other than VEIL_OK stops the
 * walk and is returned. `what` names the listing in a database error. */
typedef veil_status (*vcat_row_fn)(veil_catalog *c, sqlite3_stmt *s, void *ctx, veil_err *err);
veil_status vcat_each_row(veil_catalog *c, sqlite3_stmt *s, vcat_row_fn fn, void *ctx, const char *what,
                          veil_err *err) VEIL_MUST_CHECK;

/* Binding failed: SQLite only fails a bind for want of memory. */
veil_status vcat_bind_failed(veil_catalog *c, veil_err *err);

#endif
