/*
 * The corpus regression driver: runs one fuzz target over every file of its
 * seed corpus and prints TAP, so that `make check` replays each saved input
 * (valid ones, tricky ones and every fixed crash) on every build, with or
 * without libFuzzer. The corpus is $VEIL_SOURCE_ROOT/fuzz/corpus/<target>/,
 * or the files and folders given as arguments (e.g. a crash file, to replay
 * it under a debugger). An input that crashes or aborts the target fails the
 * test; every input that returns is "ok".
 */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_TARGET
#error "build with -DFUZZ_TARGET='\"name\"', the name of the target's corpus folder"
#endif

#define INPUT_MAX (16u << 20)

typedef struct list {
	char **paths;
	size_t n, cap;
} list;

static void add(list *l, const char *dir, const char *name)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->paths = realloc(l->paths, l->cap * sizeof *l->paths);
		FUZZ_CHECK(l->paths != NULL, "out of memory listing the corpus");
	}
	size_t len = strlen(dir) + strlen(name) + 2;
	char *p = malloc(len);
	FUZZ_CHECK(p != NULL, "out of memory listing the corpus");
	snprintf(p, len, "%s%s%s", dir, *dir ? "/" : "", name);
	l->paths[l->n++] = p;
}

static int visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Adds a file, or every file of a folder in name order. */
static bool collect(list *l, const char *path)
{
	struct stat sb;
	if (stat(path, &sb) != 0)
		return false;
	if (!S_ISDIR(sb.st_mode)) {
		add(l, "", path);
		return true;
	}
	struct dirent **names = NULL;
	int n = scandir(path, &names, visible, alphasort);
	if (n < 0)
		return false;
	for (int i = 0; i < n; i++) {
		add(l, path, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return true;
}

/* Runs the target on one file; false if the file cannot be read. */
static bool run_one(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	uint8_t *buf = malloc(INPUT_MAX);
	FUZZ_CHECK(buf != NULL, "out of memory reading an input");
	size_t n = fread(buf, 1, INPUT_MAX, f);
	bool ok = !ferror(f);
	fclose(f);
	if (ok) {
		/* An exact-size copy, so that a read past the input's end is caught. */
		uint8_t *exact = malloc(n ? n : 1);
		FUZZ_CHECK(exact != NULL, "out of memory reading an input");
		memcpy(exact, buf, n);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
	}
	free(buf);
	return ok;
}

int main(int argc, char **argv)
{
	list l = {0};
	char dir[4096];
	int bad = 0;
	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			if (!collect(&l, argv[i])) {
				fprintf(stderr, "# cannot read %s\n", argv[i]);
				bad++;
			}
		}
	} else {
		const char *root = getenv("VEIL_SOURCE_ROOT");
		snprintf(dir, sizeof dir, "%s/fuzz/corpus/%s", root && *root ? root : FUZZ_SOURCE_ROOT,
		         FUZZ_TARGET);
		if (!collect(&l, dir)) {
			fprintf(stderr, "# cannot read the corpus folder %s\n", dir);
			bad++;
		}
	}
	if (l.n == 0 || bad) {
		printf("1..1\nnot ok 1 - no corpus inputs for %s (set VEIL_SOURCE_ROOT to the source tree)\n",
		       FUZZ_TARGET);
		return 1;
	}
	printf("1..%zu\n", l.n);
	int failed = 0;
	for (size_t i = 0; i < l.n; i++) {
		const char *base = strrchr(l.paths[i], '/');
		base = base ? base + 1 : l.paths[i];
		/* Said before the run, so a crash's log names its input. */
		fprintf(stderr, "# %s: %s\n", FUZZ_TARGET, l.paths[i]);
		fflush(stdout);
		bool ok = run_one(l.paths[i]);
		printf("%sok %zu - %s\n", ok ? "" : "not ", i + 1, base);
		failed += !ok;
		free(l.paths[i]);
	}
	free(l.paths);
	return failed ? 1 : 0;
}
