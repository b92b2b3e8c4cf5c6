/*
 * Throughput of the streaming CSV reader (veil/data_csv.h). bench/run.sh
 * sets it beside `wc -l` on the same file, in the same run: wc counts
 * newlines with memchr and is the floor any reader of the file pays.
 * Nothing here asserts a time.
 *
 *   bench_csv gen FILE MiB     writes a synthetic CSV of about MiB MiB
 *   bench_csv read FILE [runs] prints, best of runs (default 3):
 *     read   MB/s rows   the reader alone (parse, unquote, UTF-8 check)
 *     types  MB/s rows   the reader plus veil_col_type_fits on every field
 *
 * The generated file mixes what real exports hold: numbers, dates,
 * timestamps, e-mail addresses, multi-byte names, and quoted fields with
 * delimiters, doubled quotes and line breaks inside. MB is 10^6 bytes.
 */
#include "veil/data.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int gen(const char *path, uint64_t mib)
{
	static const char *const first[] = {
	        "Ann",  "Bob",  "Chlo\xc3\xab", "D\xc3\xa1vid", "Eve", "Fran\xc3\xa7ois", "Gr\xc3\xa1inne",
	        "Hiro", "Ines", "J\xc3\xbcrgen"};
	static const char *const notes[] = {
	        "", "stable", "\"follow up, soon\"", "\"said \"\"fine\"\"\"", "\"two\nlines\"", "n/a"};
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return 1;
	}
	uint64_t s = 88172645463325252ull, want = mib << 20, written = 0, id = 0;
	written += (uint64_t)fprintf(f, "id,name,email,age,score,visit,seen_at,smoker,notes\n");
	while (written < want) {
		uint64_t r = rnd(&s);
		const char *nm = first[r % 10];
		int n = fprintf(f,
		                "%llu,%s "
		                "%c.,%s.%llu@example.org,%u,%u.%02u,2026-%02u-%02u,2026-%02u-%02uT%02u:%02u:%"
		                "02uZ,%s,%s\n",
		                (unsigned long long)++id, nm, 'A' + (int)((r >> 8) % 26), nm,
		                (unsigned long long)(r >> 20) % 100000, (unsigned)(r >> 12) % 100,
		                (unsigned)(r >> 24) % 1000, (unsigned)(r >> 34) % 100,
		                1 + (unsigned)(r >> 40) % 12, 1 + (unsigned)(r >> 44) % 28,
		                1 + (unsigned)(r >> 48) % 12, 1 + (unsigned)(r >> 52) % 28,
		                (unsigned)(r >> 56) % 24, (unsigned)(r >> 2) % 60, (unsigned)(r >> 6) % 60,
		                (r >> 61) & 1 ? "yes" : "no", notes[(r >> 30) % 6]);
		if (n < 0) {
			perror(path);
			fclose(f);
			return 1;
		}
		written += (uint64_t)n;
	}
	if (fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

/* One pass over the file; returns seconds, or -1 on error. */
static double pass(const char *path, bool types, uint64_t *rows)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		return -1;
	}
	veil_csv_reader *r = NULL;
	veil_err err = {0};
	double t0 = now();
	veil_status st = veil_csv_reader_new(NULL, veil_fd_read, &fd, &r, &err);
	veil_csv_row row = {0};
	unsigned mask[64];
	for (size_t c = 0; c < 64; c++)
		mask[c] = VEIL_COL_ANY;
	*rows = 0;
	while (st == VEIL_OK && (st = veil_csv_next(r, &row, &err)) == VEIL_OK && row.n) {
		(*rows)++;
		if (types)
			for (size_t c = 0; c < row.n && c < 64; c++)
				mask[c] &= veil_col_type_fits(&row.fields[c]);
	}
	double dt = now() - t0;
	veil_csv_reader_free(r);
	close(fd);
	if (st != VEIL_OK) {
		fprintf(stderr, "bench_csv: %s: %s\n", path, err.msg);
		return -1;
	}
	if (types && veil_col_type_infer(mask[0]) != VEIL_COL_INT64)
		fprintf(stderr, "bench_csv: unexpected type for column id\n");
	return dt;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "gen") == 0) {
		uint64_t mib = strtoull(argv[3], NULL, 10);
		if (mib == 0)
			return 2;
		return gen(argv[2], mib);
	}
	if (argc < 3 || strcmp(argv[1], "read") != 0) {
		fprintf(stderr, "usage: bench_csv gen FILE MiB | bench_csv read FILE [runs]\n");
		return 2;
	}
	long runs = argc > 3 ? strtol(argv[3], NULL, 10) : 3;
	struct stat sb;
	if (runs < 1 || runs > 100 || stat(argv[2], &sb) != 0) {
		fprintf(stderr, "bench_csv: cannot read %s or bad run count\n", argv[2]);
		return 2;
	}
	for (int types = 0; types < 2; types++) {
		double best = 0;
		uint64_t rows = 0;
		for (long k = 0; k < runs; k++) {
			double dt = pass(argv[2], types, &rows);
			if (dt < 0)
				return 1;
			if (k == 0 || dt < best)
				best = dt;
		}
		printf("%s %.1f %llu\n", types ? "types" : "read", (double)sb.st_size / 1e6 / best,
		       (unsigned long long)rows);
	}
	return 0;
}
