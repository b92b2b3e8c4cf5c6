/* The data module's shared definitions (veil/data.h). */
#include "veil/data.h"
