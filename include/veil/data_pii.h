/*
 * veil data: detectors of personal data in values and column headers
 * (src/data/pii.c, docs/pii.md). Included by veil/data.h.
 *
 * Each detector says whether one value has the shape, and where a format
 * carries a checksum, the checksum too (payment cards: Luhn; IBANs: ISO
 * 13616 mod 97), so that a column of order numbers is not reported as
 * cards. A column is judged by its hit rate over the values seen; a header
 * alone marks person names (a value cannot show it is a name) and
 * quasi-identifiers (age, sex, postal code, dates). Detectors never keep or
 * return a value: the scan's output is counts.
 */
#ifndef VEIL_DATA_PII_H
#define VEIL_DATA_PII_H

#include "veil/data_schema.h"

/* The classes (veil_pii, VEIL_PII_*, VEIL_PII_COUNT) and their names
 * (veil_pii_name, veil_pii_from_name: "email", "payment-card", ...) are the
 * schema's, in veil/data_schema.h: one spelling for schemas, scans and the
 * catalog's tags ("pii:<name>"). */
/* Detectors: does the value (n bytes, not NUL-terminated, surrounding
 * blanks not allowed) have this shape? */
bool veil_pii_is_email(const char *s, size_t n);
/* E.164 (+ and 8 to 15 digits) or a NANP number (10 digits, optionally
 * 1 first), with spaces, dots, dashes and one pair of parentheses. */
bool veil_pii_is_phone(const char *s, size_t n);
/* ddd-dd-dddd (or 9 digits): area not 000 or 666, group not 00, serial
 * not 0000. Areas 900-999 count: they are never issued as SSNs but are
 * SSN-shaped identifiers (ITINs), sensitive all the same. */
bool veil_pii_is_ssn(const char *s, size_t n);
/* 13 to 19 digits (spaces or dashes between groups allowed) with a known
 * issuer prefix (Visa, Mastercard, Amex, Discover, JCB, Diners) and a
 * valid Luhn check digit. */
bool veil_pii_is_payment_card(const char *s, size_t n);
/* Two letters, two check digits, 11 to 30 letters and digits (spaces every
 * four allowed), mod 97 of the rearranged number equal to 1. */
bool veil_pii_is_iban(const char *s, size_t n);
bool veil_pii_is_ip(const char *s, size_t n); /* IPv4 dotted quad or IPv6 (inet_pton) */
/* A calendar date (YYYY-MM-DD, YYYY/MM/DD, MM/DD/YYYY, DD.MM.YYYY) from
 * 1900 to today: a birth date, when the column is one (its header says,
 * or its values are all such dates in the past). */
bool veil_pii_is_date(const char *s, size_t n);
/* US ZIP (12345 or 12345-6789) or a UK postcode. */
bool veil_pii_is_postal_code(const char *s, size_t n);

/* The class a column header names ("email", "e_mail", "Phone Number",
 * "SSN", "dob", "zip", "first_name", ...): case, spaces, dashes and
 * underscores are ignored. VEIL_PII_NONE if it names none. */
veil_pii veil_pii_from_header(const char *header);
/* Whether a header names a quasi-identifier: age, sex, gender, a postal
 * code, a date of birth, ethnicity, race. */
bool veil_pii_quasi_identifier(const char *header);

/* The value-based detectors that matched one value, as a bit set
 * (bit c for class c); 0 for none. Cheap for the common case of a value
 * that is none of them: one pass decides which detectors can apply. */
uint32_t veil_pii_detect(const char *s, size_t n);

/* Per-column counts, fed value by value. */
typedef struct veil_pii_counts {
	uint64_t values;               /* non-empty values seen */
	uint64_t hits[VEIL_PII_COUNT]; /* values each detector matched */
} veil_pii_counts;

void veil_pii_count(veil_pii_counts *c, const char *s, size_t n);

/* The verdict on one column: the class whose hit rate over the values is
 * at least `threshold` (0 < threshold <= 1; the highest rate wins, ties to
 * the lower class number), else the header's class. Dates are a date of
 * birth only when the header says so (a visit date is not one): a column of
 * dates under another header gets VEIL_PII_NONE here, and callers flag it
 * as a quasi-identifier. *rate gets the winning class's hit rate over the
 * values (for a header-only verdict, that class's hit rate, below the
 * threshold; 0 for a column with no values). */
veil_pii veil_pii_verdict(const veil_pii_counts *c, const char *header, double threshold, double *rate);

#endif
