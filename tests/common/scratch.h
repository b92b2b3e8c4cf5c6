/* Scratch folders for the unit tests: removed with everything in them,
 * without following links out of the folder. Header-only, so each test
 * executable stays one file plus its module. */
#ifndef VEIL_TEST_SCRATCH_H
#define VEIL_TEST_SCRATCH_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static inline int scratch_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes dir and everything below it; 0 on success. */
static inline int scratch_remove(const char *dir)
{
	return nftw(dir, scratch_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
