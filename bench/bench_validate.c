/*
 * Throughput of validation plus the PII scan (veil/data_validate.h) on one
 * core. bench/run.sh sets it beside the CSV reader alone and `wc -l` on the
 * same file, in the same run. Nothing here asserts a time.
 *
 *   bench_validate FILE SCHEMA [runs [MODE]]   prints, best of runs (default 3),
 *   for every mode or just MODE:
 *     read      MB/s rows   the CSV reader alone
 *     validate  MB/s rows   reader + every rule of SCHEMA + statistics + PII scan
 *     profile   MB/s rows   reader + type inference + statistics + PII scan
 *
 * FILE is typically `veil-datagen --size N` output and SCHEMA
 * examples/patients.schema.yaml. The report is written (to memory) and
 * checked each run, so that its cost counts too. MB is 10^6 bytes.
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

enum mode { READ, VALIDATE, PROFILE };

/* One pass over the file; returns seconds, or -1 on error. */
static double pass(const char *path, enum mode m, const veil_schema *schema, uint64_t *rows)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		return -1;
	}
	veil_err err = {0};
	veil_status st = VEIL_OK;
	veil_buf out = {0};
	veil_jw w;
	veil_jw_init(&w, &out);
	veil_validate_summary sum = {0};
	*rows = 0;
	double t0 = now();
	if (m == READ) {
		veil_csv_reader *r = NULL;
		veil_csv_row row = {0};
		st = veil_csv_reader_new(NULL, veil_fd_read, &fd, &r, &err);
		while (st == VEIL_OK && (st = veil_csv_next(r, &row, &err)) == VEIL_OK && row.n)
			(*rows)++;
		veil_csv_reader_free(r);
	} else {
		st = veil_validate_csv(veil_fd_read, &fd, NULL, m == VALIDATE ? schema : NULL, NULL, &w, &sum,
		                       NULL, &err);
		if (st == VEIL_OK)
			st = veil_jw_finish(&w, &err);
		*rows = sum.rows;
	}
	double dt = now() - t0;
	close(fd);
	veil_buf_free(&out);
	if (st != VEIL_OK) {
		fprintf(stderr, "bench_validate: %s: %s\n", path, err.msg);
		return -1;
	}
	if (m == VALIDATE && !sum.passed)
		fprintf(stderr, "bench_validate: %s did not pass (%llu violations)\n", path,
		        (unsigned long long)sum.violations);
	return dt;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_validate FILE SCHEMA [runs [read|validate|profile]]\n");
		return 2;
	}
	long runs = argc > 3 ? strtol(argv[3], NULL, 10) : 3;
	struct stat sb;
	if (runs < 1 || runs > 100 || stat(argv[1], &sb) != 0) {
		fprintf(stderr, "bench_validate: cannot read %s or bad run count\n", argv[1]);
		return 2;
	}
	veil_schema *schema = NULL;
	veil_err err = {0};
	if (veil_schema_load(argv[2], &schema, &err) != VEIL_OK) {
		fprintf(stderr, "bench_validate: %s\n", err.msg);
		return 1;
	}
	static const char *const names[] = {"read", "validate", "profile"};
	int rc = 0;
	for (enum mode m = READ; m <= PROFILE && rc == 0; m++) {
		if (argc > 4 && strcmp(argv[4], names[m]) != 0)
			continue;
		double best = 0;
		uint64_t rows = 0;
		for (long k = 0; k < runs; k++) {
			double dt = pass(argv[1], m, schema, &rows);
			if (dt < 0) {
				rc = 1;
				break;
			}
			if (k == 0 || dt < best)
				best = dt;
		}
		if (rc == 0)
			printf("%s %.1f %llu\n", names[m], (double)sb.st_size / 1e6 / best,
			       (unsigned long long)rows);
	}
	veil_schema_free(schema);
	return rc;
}
