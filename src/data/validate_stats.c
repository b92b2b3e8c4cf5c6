/*
 * The validator's bounded per-column sketches (src/data/validate_int.h):
 * the keyed 128-bit hash of values and records and the sets of them that
 * find repeated values and rows, the HyperLogLog distinct-count estimate,
 * Welford's running moments, and the exact-count histogram on a grid that
 * grows by doubling. Each holds a bounded amount of state whatever the
 * file's size, except the hash sets, whose callers cap them.
 */
#include "validate_int.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- the keyed hash ----
 *
 * A hash-table key, not a security primitive: a folded 64x64->128-bit
 * multiply over 16-byte blocks, with the structure of wyhash (public
 * domain), run as two lanes with independent keys to give 128 bits. The
 * keys are 16 random bytes per validator (veil_random), so that a file
 * cannot be crafted to make its values collide: colliding values would
 * make distinct values look repeated (a false `unique` or duplicate-row
 * report) or crowd the HyperLogLog. The hash is fast because it runs on
 * every value of every row; its output never leaves the worker. */

#define P0 0xa0761d6478bd642full
#define P1 0xe7037ed1a0b428dbull
#define P2 0x8ebc6af09c88c6e3ull
#define P3 0x589965cc75374cc3ull

static inline uint64_t r8(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t r4(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* One 64-bit lane keyed by (s0, s1). Reads only p[0..n). */
static uint64_t lane(const uint8_t *p, size_t n, uint64_t s0, uint64_t s1)
{
	uint64_t seed = s0 ^ vmix(s0 ^ P0, s1), a, b;
	if (n <= 16) {
		if (n >= 4) {
			size_t q = (n >> 3) << 2; /* 0 or 4: two overlapping 4-byte reads from each end */
			a = (r4(p) << 32) | r4(p + q);
			b = (r4(p + n - 4) << 32) | r4(p + n - 4 - q);
		} else if (n > 0) {
			a = ((uint64_t)p[0] << 16) | ((uint64_t)p[n >> 1] << 8) | p[n - 1];
			b = 0;
		} else {
			a = b = 0;
		}
	} else {
		size_t i = n;
		for (; i > 16; i -= 16, p += 16)
			seed = vmix(r8(p) ^ s1, r8(p + 8) ^ seed);
		a = r8(p + i - 16); /* the last 16 bytes, overlapping the previous block */
		b = r8(p + i - 8);
	}
	a ^= s1;
	b ^= seed;
	vmum(&a, &b);
	return vmix(a ^ s0 ^ (uint64_t)n, b ^ s1);
}

void vkey_init(vkey *k, const uint8_t seed[static 16])
{
	uint64_t x = r8(seed), y = r8(seed + 8);
	k->k[0] = x ^ P0;
	k->k[1] = y ^ P1;
	k->k[2] = vmix(x ^ P2, y ^ P3) ^ P2;
	k->k[3] = vmix(y ^ P0, x ^ P3) ^ P3;
}

vhash vhash_bytes(const vkey *k, const char *p, size_t n)
{
	const uint8_t *u = (const uint8_t *)p;
	return vhash_nonzero((vhash){lane(u, n, k->k[0], k->k[1]), lane(u, n, k->k[2], k->k[3])});
}

/* A typed value (an integer, a date, a double's bits): a domain of its own,
 * apart from texts of the same eight bytes. */
vhash vhash_u64(const vkey *k, uint64_t v)
{
	/* Two rounds of the folded multiply per lane: an 8-byte value needs no
	 * block loop. P3 keeps the domain apart from texts of the same bytes. */
	uint64_t a = vmix(vmix(v ^ k->k[0], k->k[1] ^ P3), k->k[0] ^ P0);
	uint64_t b = vmix(vmix(v ^ k->k[2], k->k[3] ^ P3), k->k[2] ^ P1);
	return vhash_nonzero((vhash){a, b});
}

/* ---- hash sets ---- */

/* Tables of 2 MiB and more are mapped on their own and offered huge pages:
 * a probe of a large table is a TLB miss otherwise, and the zeroed pages
 * are faulted in 512 times less often. Smaller ones come from calloc. */
#define HSET_MAP_MIN ((size_t)2 << 20)

static vhash *slots_alloc(size_t cap)
{
	size_t bytes = cap * sizeof(vhash);
	if (bytes < HSET_MAP_MIN)
		return calloc(cap, sizeof(vhash));
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, bytes, MADV_HUGEPAGE); /* advice: without it the table works the same */
	return p;
}

static void slots_free(vhash *slot, size_t cap)
{
	if (!slot)
		return;
	if (cap * sizeof(vhash) < HSET_MAP_MIN)
		free(slot);
	else
		(void)munmap(slot, cap * sizeof(vhash));
}

veil_status hset_insert(hset *s, vhash h, bool *fresh)
{
	if ((s->n + 1) * 2 > s->cap) {
		hset g = {.bits = s->bits ? s->bits + 1 : 10};
		g.cap = (size_t)1 << g.bits;
		if (g.bits >= 8 * sizeof(size_t) - 5 || !(g.slot = slots_alloc(g.cap)))
			return VEIL_E_NOMEM;
		for (size_t i = 0; i < s->cap; i++) {
			if (!(s->slot[i].a | s->slot[i].b))
				continue;
			size_t j = hset_first(&g, s->slot[i]);
			while (g.slot[j].a | g.slot[j].b)
				j = (j + 1) & (g.cap - 1);
			g.slot[j] = s->slot[i];
		}
		g.n = s->n;
		slots_free(s->slot, s->cap);
		*s = g;
	}
	size_t i = hset_first(s, h);
	for (; s->slot[i].a | s->slot[i].b; i = (i + 1) & (s->cap - 1))
		if (s->slot[i].a == h.a && s->slot[i].b == h.b) {
			*fresh = false;
			return VEIL_OK;
		}
	s->slot[i] = h;
	s->n++;
	*fresh = true;
	return VEIL_OK;
}

void hset_free(hset *s)
{
	slots_free(s->slot, s->cap);
	memset(s, 0, sizeof *s);
}

/* ---- HyperLogLog (Flajolet, Fusy, Gandouet, Meunier 2007) ---- */

/* The raw estimate alpha_m m^2 / sum 2^-M[j], with linear counting
 * m ln(m / V) below 5m/2 while some register V is still zero (the
 * paper's small-range correction). With 64-bit hashes the large-range
 * correction is never needed. */
double hll_estimate(const uint8_t *regs)
{
	const double m = HLL_REGS;
	double sum = 0;
	unsigned zeros = 0;
	for (size_t j = 0; j < HLL_REGS; j++) {
		sum += ldexp(1.0, -(int)regs[j]);
		zeros += regs[j] == 0;
	}
	double alpha = 0.7213 / (1 + 1.079 / m);
	double e = alpha * m * m / sum;
	if (e <= 2.5 * m && zeros > 0)
		e = m * log(m / zeros);
	return e;
}

/* ---- moments ---- */

void moments_add(moments *m, double x)
{
	m->n++;
	double d = x - m->mean;
	m->mean += d / (double)m->n;
	m->m2 += d * (x - m->mean);
}

double moments_sd(const moments *m)
{
	if (m->n < 2)
		return 0;
	double var = m->m2 / (double)(m->n - 1);
	return var > 0 ? sqrt(var) : 0;
}

/* ---- histograms ---- */

static double gidx(double v, int e)
{
	return floor(ldexp(v, -e));
}

/* The finest width a grid may have for values in [vmin, vmax]: 1 for
 * integers, and never below 2^-50 of the largest magnitude, so that a
 * value's index on the grid (below 2^51) and an edge's (an index plus a
 * few thousand) are exact integers in a double. */
static int grid_floor(const hist *h, double vmin, double vmax)
{
	int e = h->integral ? 0 : -1000;
	double big = fmax(fabs(vmin), fabs(vmax));
	if (big > 0 && ilogb(big) - 50 > e)
		e = ilogb(big) - 50;
	return e;
}

/* The smallest e >= emin on whose grid [vmin, vmax] spans at most
 * HIST_FINE / 2 fine bins: half the grid, the rest slack for later values. */
static int grid_exp(double vmin, double vmax, int emin)
{
	const double span = HIST_FINE / 2.0;
	int e = emin;
	double half = vmax / 2 - vmin / 2; /* cannot overflow */
	if (half > 0 && ilogb(half) - 7 > e)
		e = ilogb(half) - 7; /* 2 half / 2^e is then near 2^8 .. 2^9 */
	while (gidx(vmax, e) - gidx(vmin, e) + 1 > span)
		e++;
	while (e > emin && gidx(vmax, e - 1) - gidx(vmin, e - 1) + 1 <= span)
		e--;
	return e;
}

/* Sets (or resets) the grid for values in [vmin, vmax], moving the counts
 * kept so far: a coarser grid's bins are unions of the finer one's, so
 * every count lands in the bin that holds its values. */
static void regrid(hist *h, double vmin, double vmax)
{
	int emin = grid_floor(h, vmin, vmax);
	if (h->e > emin)
		emin = h->e; /* never finer than before: bins only merge */
	int e = grid_exp(vmin, vmax, emin);
	double lo = gidx(vmin, e), hi = gidx(vmax, e);
	double base = lo - floor((HIST_FINE - (hi - lo + 1)) / 2); /* the slack split between both ends */
	uint64_t moved[HIST_FINE] = {0};
	for (size_t i = 0; i < HIST_FINE; i++) {
		if (!h->cnt[i])
			continue;
		double j = floor(ldexp(h->base + (double)i, h->e - e)) - base;
		if (!(j >= 0 && j < HIST_FINE)) {
			h->dead = true; /* cannot happen: the old values lie in [vmin, vmax] */
			return;
		}
		moved[(size_t)j] += h->cnt[i];
	}
	memcpy(h->cnt, moved, sizeof moved);
	h->base = base;
	h->e = e;
	h->inv = e > -1000 && e < 1000 ? ldexp(1.0, -e) : 0;
}

/* gidx(v, h->e) - h->base without calling libm: v * 2^-e is exact while
 * the power is a normal double, and floor is a truncation below 2^53. */
static double grid_pos(const hist *h, double v)
{
	double q = v * h->inv;
	if (h->inv != 0 && q > -9e15 && q < 9e15) {
		int64_t k = (int64_t)q;
		k -= (double)k > q;
		return (double)k - h->base;
	}
	return gidx(v, h->e) - h->base;
}

/* From the buffer to the grid. */
static void flush(hist *h, double vmin, double vmax)
{
	h->cnt = calloc(HIST_FINE, sizeof *h->cnt);
	if (!h->cnt) {
		h->dead = true;
		return;
	}
	h->e = INT_MIN;        /* no grid yet: any width will do */
	regrid(h, vmin, vmax); /* moves nothing: every count is 0 */
	for (size_t i = 0; i < h->nbuf && !h->dead; i++)
		hist_add(h, h->buf[i], vmin, vmax);
	free(h->buf);
	h->buf = NULL;
	h->nbuf = 0;
}

void hist_add(hist *h, double v, double vmin, double vmax)
{
	if (h->dead)
		return;
	if (!h->cnt) {
		if (!h->buf && !(h->buf = malloc(HIST_FINE * sizeof *h->buf))) {
			h->dead = true;
			return;
		}
		h->buf[h->nbuf++] = v;
		if (h->nbuf == HIST_FINE)
			flush(h, vmin, vmax);
		return;
	}
	double i = grid_pos(h, v);
	if (!(i >= 0 && i < HIST_FINE)) {
		regrid(h, vmin, vmax);
		i = grid_pos(h, v);
		if (h->dead || !(i >= 0 && i < HIST_FINE)) {
			h->dead = true;
			return;
		}
	}
	h->cnt[(size_t)i]++;
}

bool hist_result(hist *h, double vmin, double vmax, unsigned bins, hist_out *out)
{
	memset(out, 0, sizeof *out);
	if (h->dead || (!h->cnt && h->nbuf == 0) || bins == 0 || bins > BINS_MAX)
		return false;
	if (!h->cnt)
		flush(h, vmin, vmax);
	if (h->dead)
		return false;
	double lo = gidx(vmin, h->e) - h->base, hi = gidx(vmax, h->e) - h->base;
	if (!(lo >= 0 && hi < HIST_FINE && lo <= hi))
		return false;
	size_t first = (size_t)lo, span = (size_t)(hi - lo) + 1;
	size_t g = (span + bins - 1) / bins;
	out->nbins = (unsigned)((span + g - 1) / g);
	out->edge0 = ldexp(h->base + lo, h->e);
	out->width = ldexp((double)g, h->e);
	for (size_t i = 0; i < span; i++)
		out->counts[i / g] += h->cnt[first + i];
	return true;
}

void hist_free(hist *h)
{
	free(h->buf);
	free(h->cnt);
	memset(h, 0, sizeof *h);
}

/* ---- dates ---- */

/* The civil date of a day count (H. Hinnant's days-to-civil algorithm,
 * the inverse of the table's days_from_civil). */
void vdate_format(int64_t days, char out[static VDATE_TEXT])
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	(void)snprintf(out, VDATE_TEXT, "%04lld-%02u-%02u", (long long)y, (unsigned)(m % 100),
	               (unsigned)(d % 100));
}

void vtimestamp_format(int64_t secs, char out[static VDATE_TEXT])
{
	int64_t days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	char date[VDATE_TEXT];
	vdate_format(days, date);
	(void)snprintf(out, VDATE_TEXT, "%.26sT%02u:%02u:%02uZ", date, (unsigned)(rem / 3600 % 100),
	               (unsigned)(rem / 60 % 60), (unsigned)(rem % 60));
}
