/*
 * Throughput of the encrypted object container: seals a stream from an
 * in-memory generator into a sink, and opens a sealed stream from memory
 * into a sink, with one and two threads, printing MB/s (10^6 bytes of
 * plaintext per second). bench/run.sh sets these beside OpenSSL's own
 * AES-256-GCM figure measured in the same run; nothing here asserts a time.
 *
 *   bench_container [MiB] [chunk_size] [runs]   (defaults 1024, 65536, 5)
 *
 * Each figure is the best of `runs` runs: the least disturbed by the rest
 * of the machine.
 */
#include "veil/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PATTERN_LEN (64u << 10)

typedef struct gen {
	const uint8_t *pattern;
	uint64_t left;
} gen;

/* The plaintext source: copies from a cache-resident pattern, as a fast producer would. */
static veil_status gen_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	gen *g = ctx;
	if (n > g->left)
		n = (size_t)g->left;
	size_t done = 0;
	while (done < n) {
		size_t k = n - done < PATTERN_LEN ? n - done : PATTERN_LEN;
		memcpy(buf + done, g->pattern, k);
		done += k;
	}
	g->left -= n;
	*got = n;
	return VEIL_OK;
}

typedef struct mem_in {
	const uint8_t *p;
	size_t len, pos;
} mem_in;

/* The ciphertext source: a sealed object held in memory. */
static veil_status mem_read(void *ctx, uint8_t *buf, size_t n, size_t *got, veil_err *err)
{
	mem_in *m = ctx;
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	*got = n;
	return VEIL_OK;
}

typedef struct mem_out {
	uint8_t *p;
	size_t cap, len;
} mem_out;

static veil_status mem_write(void *ctx, const uint8_t *buf, size_t n, veil_err *err)
{
	mem_out *m = ctx;
	if (n > m->cap - m->len)
		return veil_err_set(err, VEIL_E_LIMIT, "benchmark buffer too small");
	memcpy(m->p + m->len, buf, n);
	m->len += n;
	return VEIL_OK;
}

/* The sink: counts, and reads one byte per call so the data is consumed. */
static veil_status sink_write(void *ctx, const uint8_t *buf, size_t n, veil_err *err)
{
	uint64_t *seen = ctx;
	*seen += n + (n ? buf[n - 1] & 0 : 0);
	return VEIL_OK;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, const veil_err *err)
{
	fprintf(stderr, "bench_container: %s: %s\n", what, err->msg);
	return 1;
}

int main(int argc, char **argv)
{
	uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 1024;
	uint32_t chunk = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : VEIL_OBJ_CHUNK_DEFAULT;
	long runs = argc > 3 ? strtol(argv[3], NULL, 10) : 5;
	uint64_t bytes = mib << 20;
	veil_err err = {0};
	if (mib == 0 || runs < 1 || runs > 100) {
		fprintf(stderr, "usage: bench_container [MiB] [chunk_size] [runs]\n");
		return 2;
	}
	if (veil_crypto_init(&err) != VEIL_OK)
		return fail("init", &err);

	static uint8_t pattern[PATTERN_LEN];
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i * 131 + 7);
	uint8_t dek[VEIL_OBJ_DEK_LEN];
	if (veil_random(dek, sizeof dek, &err) != VEIL_OK)
		return fail("random", &err);

	/* A sealed object to open, kept in memory. */
	size_t nchunks = (size_t)((bytes + chunk - 1) / chunk);
	mem_out sealed = {.cap = (size_t)bytes + nchunks * VEIL_GCM_TAG_LEN + VEIL_OBJ_HEADER_MAX + 16};
	sealed.p = malloc(sealed.cap);
	if (!sealed.p) {
		fprintf(stderr, "bench_container: cannot allocate %zu bytes\n", sealed.cap);
		return 1;
	}
	gen g = {pattern, bytes};
	veil_obj_opts prep = {.chunk_size = chunk, .threads = 2};
	if (veil_obj_seal(dek, "bench", &prep, gen_read, &g, mem_write, &sealed, NULL, &err) != VEIL_OK)
		return fail("seal", &err);

	printf("# %llu MiB stream, %u-byte chunks, best of %ld runs\n", (unsigned long long)mib, chunk, runs);
	for (unsigned threads = 1; threads <= 2; threads++) {
		veil_obj_opts o = {.chunk_size = chunk, .threads = threads};
		double best_seal = 0, best_open = 0;
		for (long r = 0; r < runs; r++) {
			uint64_t seen = 0;
			g = (gen){pattern, bytes};
			double t0 = now();
			if (veil_obj_seal(dek, "bench", &o, gen_read, &g, sink_write, &seen, NULL, &err) !=
			    VEIL_OK)
				return fail("seal", &err);
			double t1 = now();
			mem_in in = {sealed.p, sealed.len, 0};
			veil_obj_header h;
			if (veil_obj_read_header(mem_read, &in, &h, &err) != VEIL_OK ||
			    veil_obj_open(dek, &h, &o, mem_read, &in, sink_write, &seen, NULL, &err) !=
			            VEIL_OK)
				return fail("open", &err);
			double t2 = now();
			double s = (double)bytes / (t1 - t0) / 1e6, op = (double)bytes / (t2 - t1) / 1e6;
			best_seal = s > best_seal ? s : best_seal;
			best_open = op > best_open ? op : best_open;
		}
		printf("seal threads=%u %.1f MB/s\n", threads, best_seal);
		printf("open threads=%u %.1f MB/s\n", threads, best_open);
		fflush(stdout);
	}
	veil_wipe(dek, sizeof dek);
	free(sealed.p);
	return 0;
}
