/*
 * veil data: schema. Included by veil/data.h.
 */
#ifndef VEIL_DATA_SCHEMA_H
#define VEIL_DATA_SCHEMA_H

#include "veil/base.h"

#endif
