/*
 * veil data: readers (CSV, IDX), the columnar table that validation,
 * feature engineering and training share, schemas, validation, PII
 * detection and feature transforms (issue 5). Each piece has a header of
 * its own; include this one.
 *
 * Layer 4: uses base and crypto only, so that the trusted worker can link
 * it (no catalog, no SQLite).
 */
#ifndef VEIL_DATA_H
#define VEIL_DATA_H

#include "veil/data_csv.h"
#include "veil/data_idx.h"
#include "veil/data_pii.h"
#include "veil/data_pipeline.h"
#include "veil/data_schema.h"
#include "veil/data_validate.h"

#endif
