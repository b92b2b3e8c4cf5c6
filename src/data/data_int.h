/* Private helpers shared by the files of the data module. */
#ifndef VEIL_DATA_INT_H
#define VEIL_DATA_INT_H

#include "veil/data_csv.h"

/* The table's value conversions (src/data/table.c, docs/formats/csv.md
 * section 3): strict spellings, no locale, no surrounding space; p need
 * not be NUL-terminated. Each returns whether p[0..n) is a value of its
 * type and, when it is and out is not NULL, stores it as the table does
 * (bools as 0/1, dates as days since 1970-01-01, timestamps as seconds
 * since the epoch). data_conv_double takes out NULL to check only. */
bool data_conv_int(const char *p, size_t n, int64_t *out);
bool data_conv_double(const char *p, size_t n, double *out);
bool data_conv_bool(const char *p, size_t n, int64_t *out);
bool data_conv_date(const char *p, size_t n, int64_t *out);
bool data_conv_timestamp(const char *p, size_t n, int64_t *out);

#endif
