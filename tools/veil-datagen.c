/*
 * veil-datagen: synthetic patient records as CSV, for tests, benchmarks and
 * the demo (docs/datagen.md). Every person is invented: names are drawn
 * from short lists of common names, SSNs from the 900-999 area that is
 * never issued, phone numbers from 555-0100..0199 (reserved for fiction),
 * e-mail addresses from example.org and example.com.
 *
 * The same --seed and row count give byte-identical output on any machine:
 * the generator is our own xoshiro256** seeded through splitmix64 (never
 * rand()), features are integer arithmetic, and the one floating-point
 * step, the label's probability, uses only IEEE basic operations (this
 * file is built with -ffp-contract=off so no fused multiply-add changes a
 * rounding) and an exp() of our own rather than libm's, whose last bit may
 * differ between C libraries.
 *
 * The label follows a documented logistic model over the clinical features
 * (docs/datagen.md), so that a model trained on the output can be checked
 * against the true coefficients.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_MAX    99999999ULL /* patient_id is P + 8 digits */
#define SIZE_MB_MAX (1ULL << 20)
#define LINE_MAX_   512

/* ---- the generator: xoshiro256** (Blackman and Vigna), seeded by splitmix64 ---- */

typedef struct rng {
	uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next64(rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform in [0, n), without modulo bias (rejection of the short last range). */
static uint64_t below(rng *r, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = next64(r);
	while (x >= limit);
	return x % n;
}

static int64_t between(rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)below(r, (uint64_t)(hi - lo + 1));
}

/* True with probability ppm / 1e6. */
static bool chance(rng *r, uint32_t ppm)
{
	return below(r, 1000000) < ppm;
}

/* Approximately normal, rounded to an integer and clipped: the sum of 12
 * uniforms minus 6 (Irwin-Hall) has mean 0 and variance 1. In 16-bit
 * fixed point, so there is no floating point to round differently. */
static int64_t normal(rng *r, int64_t mean, int64_t sd, int64_t lo, int64_t hi)
{
	int64_t z = 0;
	for (int i = 0; i < 12; i++)
		z += (int64_t)(next64(r) >> 48);
	z -= 12 * 32768;                   /* now N(0, 1) * 65536 */
	int64_t v = mean * 65536 + sd * z; /* |v| < 2^40 for every caller */
	int64_t q = (v + 32768) / 65536;   /* rounds half up ... */
	if ((v + 32768) % 65536 < 0)       /* ... with floor for negatives */
		q--;
	return q < lo ? lo : q > hi ? hi : q;
}

/* e^x from IEEE basic operations only: x = k ln2 + t with |t| <= ln2/2,
 * a Taylor series for e^t, then an exact scaling by 2^k. */
static double exp_det(double x)
{
	if (x > 700)
		x = 700;
	if (x < -700)
		x = -700;
	const double ln2 = 0.6931471805599453;
	double kf = x / ln2;
	long k = (long)(kf < 0 ? kf - 0.5 : kf + 0.5);
	double t = x - (double)k * ln2;
	double sum = 1, term = 1;
	for (int n = 1; n < 25; n++) {
		term = term * t / n;
		sum = sum + term;
	}
	for (; k > 0; k--)
		sum = sum * 2;
	for (; k < 0; k++)
		sum = sum / 2;
	return sum;
}

/* ---- the population ---- */

/* Common given names and surnames: no entry is a real person. ASCII
 * letters only, so that e-mail addresses can be made from them. */
static const char *const first_names[] = {"James",   "Mary",    "John",    "Patricia",  "Robert", "Jennifer",
                                          "Michael", "Linda",   "William", "Elizabeth", "David",  "Barbara",
                                          "Richard", "Susan",   "Joseph",  "Jessica",   "Thomas", "Sarah",
                                          "Charles", "Karen",   "Ana",     "Wei",       "Fatima", "Omar",
                                          "Priya",   "Hiroshi", "Ines",    "Lars",      "Amara",  "Mateo"};
static const char *const last_names[] = {"Smith",  "Johnson", "Williams",  "Brown",    "Jones",  "Garcia",
                                         "Miller", "Davis",   "Rodriguez", "Martinez", "Wilson", "Anderson",
                                         "Taylor", "Thomas",  "Moore",     "Jackson",  "Martin", "Lee",
                                         "Nguyen", "Chen",    "Patel",     "Kim",      "Silva",  "Novak",
                                         "Okafor", "Haddad",  "Larsen",    "Tanaka",   "Rossi",  "Kowalski"};
#define NFIRST (sizeof first_names / sizeof first_names[0])
#define NLAST  (sizeof last_names / sizeof last_names[0])

/* ABO/Rh frequencies (per 1000), roughly those of the United States. */
static const struct {
	const char *name;
	uint32_t per_mille;
} blood_types[] = {{"O+", 374}, {"A+", 357}, {"B+", 85}, {"AB+", 34},
                   {"O-", 66},  {"A-", 63},  {"B-", 15}, {"AB-", 6}};

/* Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Ages are completed years on this date; it is fixed, not today, so that
 * output does not depend on when it was made. */
#define REF_YEAR 2026

typedef struct patient {
	char first[16], last[16];
	unsigned email_n;
	bool email_org;
	unsigned ssn_area, ssn_group, ssn_serial;
	unsigned phone_area, phone_line;
	int64_t dob; /* days */
	unsigned postal;
	bool female;
	int64_t age, bmi10, sbp, chol, glucose;
	bool smoker, diabetes;
	const char *blood;
	int label;
	double p; /* the label's probability */
} patient;

/* The documented model (docs/datagen.md): logit(P(cardiac_event = 1)). */
static double logit(const patient *p)
{
	return -1.2 + 0.04 * (double)(p->age - 50) + 0.08 * ((double)p->bmi10 / 10 - 27) +
	       0.02 * (double)(p->sbp - 120) + 0.01 * (double)(p->chol - 200) +
	       0.015 * (double)(p->glucose - 100) + 0.7 * (p->smoker ? 1 : 0) + 0.5 * (p->diabetes ? 1 : 0);
}

/* Draws one patient; the order of draws is part of the output format. */
static void draw(rng *r, patient *p)
{
	const char *f = first_names[below(r, NFIRST)], *l = last_names[below(r, NLAST)];
	(void)snprintf(p->first, sizeof p->first, "%s", f);
	(void)snprintf(p->last, sizeof p->last, "%s", l);
	p->email_n = (unsigned)between(r, 1, 999);
	p->email_org = below(r, 2) == 0;
	p->ssn_area = (unsigned)between(r, 900, 999);
	p->ssn_group = (unsigned)between(r, 1, 99);
	p->ssn_serial = (unsigned)between(r, 1, 9999);
	p->phone_area = (unsigned)between(r, 200, 999);
	p->phone_line = (unsigned)between(r, 0, 99);
	p->age = between(r, 18, 90);
	/* Born after REF_YEAR-1-age-01-01 and on or before REF_YEAR-age-01-01. */
	p->dob = between(r, days_from_civil(REF_YEAR - 1 - p->age, 1, 2),
	                 days_from_civil(REF_YEAR - p->age, 1, 1));
	p->postal = (unsigned)between(r, 1001, 99950);
	p->female = below(r, 2) == 0;
	p->bmi10 = normal(r, 270, 50, 150, 600);
	p->sbp = normal(r, 120 + (p->age - 50) / 2, 15, 80, 220);
	p->chol = normal(r, 200, 35, 100, 400);
	p->glucose = normal(r, 100, 20, 60, 300);
	p->smoker = chance(r, 200000);
	p->diabetes = chance(r, p->glucose >= 126 ? 700000 : 50000);
	uint64_t b = below(r, 1000), acc = 0;
	p->blood = blood_types[0].name;
	for (size_t i = 0; i < sizeof blood_types / sizeof blood_types[0]; i++) {
		acc += blood_types[i].per_mille;
		if (b < acc) {
			p->blood = blood_types[i].name;
			break;
		}
	}
	p->p = 1 / (1 + exp_det(-logit(p)));
	double u = (double)(next64(r) >> 11) / 9007199254740992.0; /* [0, 1), 53 bits */
	p->label = u < p->p;
}

static void lower(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	for (; i + 1 < n && src[i]; i++)
		dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] + 32 : src[i]);
	dst[i] = '\0';
}

/* Formats one record (LF-terminated) into line; returns its length. Missing
 * values are empty fields; the name is "Last, First" and so always quoted. */
static size_t format_row(rng *r, uint64_t id, const patient *p, uint32_t missing_ppm, char *line, size_t cap)
{
	bool miss[8];
	for (int i = 0; i < 8; i++)
		miss[i] = chance(r, missing_ppm);
	/* Sized for any int64 and int, so the compiler can see nothing is cut. */
	char email[64] = "", phone[32] = "", postal[16] = "", bmi[48] = "", sbp[24] = "", chol[24] = "",
	     glu[24] = "", smoker[8] = "", dob[48];
	char fl[16], ll[16];
	lower(fl, sizeof fl, p->first);
	lower(ll, sizeof ll, p->last);
	if (!miss[0])
		(void)snprintf(email, sizeof email, "%s.%s%u@example.%s", fl, ll, p->email_n,
		               p->email_org ? "org" : "com");
	if (!miss[1])
		(void)snprintf(phone, sizeof phone, "%03u-555-01%02u", p->phone_area, p->phone_line);
	if (!miss[2])
		(void)snprintf(postal, sizeof postal, "%05u", p->postal);
	if (!miss[3])
		(void)snprintf(bmi, sizeof bmi, "%" PRId64 ".%" PRId64, p->bmi10 / 10, p->bmi10 % 10);
	if (!miss[4])
		(void)snprintf(sbp, sizeof sbp, "%" PRId64, p->sbp);
	if (!miss[5])
		(void)snprintf(chol, sizeof chol, "%" PRId64, p->chol);
	if (!miss[6])
		(void)snprintf(glu, sizeof glu, "%" PRId64, p->glucose);
	if (!miss[7])
		(void)snprintf(smoker, sizeof smoker, "%s", p->smoker ? "true" : "false");
	int y;
	unsigned m, d;
	civil_from_days(p->dob, &y, &m, &d);
	(void)snprintf(dob, sizeof dob, "%04d-%02u-%02u", y, m, d);
	int n = snprintf(line, cap,
	                 "P%08" PRIu64 ",\"%s, %s\",%s,%03u-%02u-%04u,%s,%s,%s,%s,%" PRId64
	                 ",%s,%s,%s,%s,%s,%s,%s,%d\n",
	                 id, p->last, p->first, email, p->ssn_area, p->ssn_group, p->ssn_serial, phone, dob,
	                 postal, p->female ? "F" : "M", p->age, bmi, sbp, chol, glu, smoker,
	                 p->diabetes ? "true" : "false", p->blood, p->label);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static const char header[] =
        "patient_id,name,email,ssn,phone,date_of_birth,postal_code,sex,age,bmi,systolic_bp,"
        "cholesterol,glucose,smoker,diabetes,blood_type,cardiac_event\n";

/* ---- the command line ---- */

static void usage(FILE *f)
{
	fputs("usage: veil-datagen [--rows N | --size MB] [--seed S] [--missing RATE] [-o FILE]\n"
	      "\n"
	      "Writes synthetic patient records as CSV (a header and one record a line)\n"
	      "to standard output or FILE. Every person is invented (docs/datagen.md).\n"
	      "\n"
	      "  --rows N        records to write (default 1000; at most 99999999)\n"
	      "  --size MB       instead of --rows: write records until the output\n"
	      "                  reaches MB mebibytes (the last record crosses it)\n"
	      "  --seed S        the generator's seed, 0..2^64-1 (default 1); the same\n"
	      "                  seed and size give byte-identical output anywhere\n"
	      "  --missing RATE  probability that each nullable value is left empty\n"
	      "                  (default 0.05; 0 for none)\n"
	      "  -o FILE         write to FILE instead of standard output\n"
	      "  -h, --help      show this help\n",
	      f);
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!s || s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	char *end = NULL;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* A rate in [0, 1] as parts per million, rounded. */
static bool parse_rate(const char *s, uint32_t *ppm)
{
	if (!s || ((s[0] < '0' || s[0] > '9') && s[0] != '.'))
		return false;
	errno = 0;
	char *end = NULL;
	double v = strtod(s, &end);
	if (errno || *end || !(v >= 0 && v <= 1))
		return false;
	*ppm = (uint32_t)(v * 1e6 + 0.5);
	return true;
}

int main(int argc, char **argv)
{
	uint64_t rows = 1000, size_mb = 0, seed = 1;
	uint32_t missing_ppm = 50000;
	const char *out_path = NULL;
	bool have_rows = false;
	for (int i = 1; i < argc; i += 2) { /* every option but --help takes a value */
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = true;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--rows") == 0) {
			ok = parse_u64(v, ROWS_MAX, &rows) && rows > 0;
			have_rows = true;
		} else if (strcmp(a, "--size") == 0) {
			ok = parse_u64(v, SIZE_MB_MAX, &size_mb) && size_mb > 0;
		} else if (strcmp(a, "--seed") == 0) {
			ok = parse_u64(v, UINT64_MAX, &seed);
		} else if (strcmp(a, "--missing") == 0) {
			ok = parse_rate(v, &missing_ppm);
		} else if (strcmp(a, "-o") == 0) {
			ok = v && v[0];
			out_path = v;
		} else {
			fprintf(stderr, "veil-datagen: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
		if (!ok) {
			fprintf(stderr, "veil-datagen: %s needs a valid value (see --help)\n", a);
			return 2;
		}
	}
	if (have_rows && size_mb) {
		fprintf(stderr, "veil-datagen: give --rows or --size, not both\n");
		return 2;
	}

	FILE *f = stdout;
	if (out_path && !(f = fopen(out_path, "w"))) {
		fprintf(stderr, "veil-datagen: cannot create %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	static char obuf[1 << 20];
	(void)setvbuf(f, obuf, _IOFBF, sizeof obuf);

	rng r;
	rng_seed(&r, seed);
	uint64_t target = size_mb << 20, written = sizeof header - 1;
	bool ok = fwrite(header, 1, sizeof header - 1, f) == sizeof header - 1;
	char line[LINE_MAX_];
	for (uint64_t id = 1; ok; id++) {
		if (size_mb ? written >= target : id > rows)
			break;
		if (id > ROWS_MAX) {
			fprintf(stderr, "veil-datagen: --size needs more than %llu records\n", ROWS_MAX);
			if (f != stdout)
				(void)fclose(f);
			return 1;
		}
		patient p;
		draw(&r, &p);
		size_t n = format_row(&r, id, &p, missing_ppm, line, sizeof line);
		ok = n > 0 && fwrite(line, 1, n, f) == n;
		written += n;
	}
	if (fflush(f) != 0)
		ok = false;
	if (f != stdout && fclose(f) != 0)
		ok = false;
	if (!ok) {
		fprintf(stderr, "veil-datagen: cannot write %s: %s\n", out_path ? out_path : "the output",
		        strerror(errno));
		return 1;
	}
	return 0;
}
