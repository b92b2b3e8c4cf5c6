/*
 * veil data: csv. Included by veil/data.h.
 */
#ifndef VEIL_DATA_CSV_H
#define VEIL_DATA_CSV_H

#include "veil/base.h"

#endif
