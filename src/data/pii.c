/*
 * PII detectors (veil/data_pii.h, docs/pii.md). Hand-written matchers, not
 * regular expressions: each is a single bounded pass, and veil_pii_detect
 * first classifies the value's characters once so that a value that cannot
 * be an e-mail address never runs the e-mail matcher. This is on the path
 * of every value a scan reads, and the target is 200 MB/s per core
 * for validation and scan together.
 */
#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include "veil/data.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
	return is_digit(c) || is_alpha(c);
}

/* ---- e-mail: local@domain.tld, the common subset of RFC 5322 ---- */

/* The characters of an unquoted local part (RFC 5322 atext, and dots):
 * a table, because this runs for every character of every value that
 * has an '@'. */
static bool email_local_char(char c)
{
	static const bool extra[256] = {
	        ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1,
	        ['+'] = 1, ['/'] = 1, ['='] = 1, ['?'] = 1, ['^'] = 1, ['_'] = 1,  ['`'] = 1,
	        ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1, ['.'] = 1, ['-'] = 1};
	return is_alnum(c) || extra[(unsigned char)c];
}
bool veil_pii_is_email(const char *s, size_t n)
{
	if (n < 6 || n > 254)
		return false;
	const char *at = memchr(s, '@', n);
	if (!at || at == s || at - s > 64)
		return false;
	for (const char *p = s; p < at; p++)
		if (!email_local_char(*p))
			return false;
	if (s[0] == '.' || at[-1] == '.')
		return false;
	/* domain: labels of letters, digits and inner dashes; a dot; a TLD of letters */
	const char *d = at + 1, *end = s + n, *last_dot = NULL;
	size_t label = 0;
	for (const char *p = d; p < end; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return false;
			last_dot = p;
			label = 0;
		} else if (is_alnum(*p) || (*p == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	if (!last_dot || label < 2)
		return false;
	for (const char *p = last_dot + 1; p < end; p++)
		if (!is_alpha(*p))
			return false;
	return true;
}

/* Copies the digits of s into out (at most max), allowing only the
 * separators in `seps`; false on any other character or too many digits. */
static bool digits_of(const char *s, size_t n, const char *seps, char *out, size_t max, size_t *nd)
{
	*nd = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_digit(s[i])) {
			if (*nd == max)
				return false;
			out[(*nd)++] = s[i];
		} else if (!strchr(seps, s[i]) || s[i] == '\0') {
			return false;
		}
	}
	return true;
}

/* ---- phone numbers ---- */
bool veil_pii_is_phone(const char *s, size_t n)
{
	if (n < 10 || n > 24)
		return false;
	/* Four dotted groups of digits are an IPv4 address, not a phone
	 * number (a fuzz run found "192.29.192.220" taken for both). */
	if (veil_pii_is_ip(s, n))
		return false;
	char d[16];
	size_t nd;
	bool plus = s[0] == '+';
	const char *open = memchr(s, '(', n), *close = memchr(s, ')', n);
	if ((open == NULL) != (close == NULL) || (open && close < open))
		return false;
	if (!digits_of(s + plus, n - plus, " .-()", d, sizeof d, &nd))
		return false;
	/* starts with a digit, '+' or '(' and ends with a digit; separators are
	 * few (a column of prose with digits in it is not a phone column) */
	if (!(is_digit(s[0]) || plus || s[0] == '(') || !is_digit(s[n - 1]) || n - nd - plus > 6)
		return false;
	if (plus)
		return nd >= 8 && nd <= 15 && d[0] != '0';
	const char *nanp = nd == 11 && d[0] == '1' ? d + 1 : d;
	if (nd != 10 && !(nd == 11 && d[0] == '1'))
		return false;
	/* NANP: area code and exchange start with 2..9 */
	return nanp[0] >= '2' && nanp[3] >= '2';
}

/* ---- US social security numbers ---- */
bool veil_pii_is_ssn(const char *s, size_t n)
{
	char d[9];
	if (n == 11) {
		if (s[3] != '-' || s[6] != '-')
			return false;
		for (size_t i = 0, k = 0; i < n; i++)
			if (i != 3 && i != 6) {
				if (!is_digit(s[i]))
					return false;
				d[k++] = s[i];
			}
	} else if (n == 9) {
		for (size_t i = 0; i < 9; i++) {
			if (!is_digit(s[i]))
				return false;
			d[i] = s[i];
		}
	} else {
		return false;
	}
	if (memcmp(d, "000", 3) == 0 || memcmp(d, "666", 3) == 0 || memcmp(d + 3, "00", 2) == 0 ||
	    memcmp(d + 5, "0000", 4) == 0)
		return false;
	return true;
}

/* ---- payment cards ---- */
static bool luhn(const char *d, size_t n)
{
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v = (unsigned)(d[n - 1 - i] - '0');
		if (i % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

static unsigned prefix(const char *d, size_t k)
{
	unsigned v = 0;
	for (size_t i = 0; i < k; i++)
		v = v * 10 + (unsigned)(d[i] - '0');
	return v;
}

/* Issuer identification numbers of the major networks, with their lengths. */
static bool known_issuer(const char *d, size_t n)
{
	unsigned p2 = prefix(d, 2), p3 = prefix(d, 3), p4 = prefix(d, 4);
	if (d[0] == '4')
		return n == 13 || n == 16 || n == 19; /* Visa */
	if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
		return n == 16; /* Mastercard */
	if (p2 == 34 || p2 == 37)
		return n == 15; /* American Express */
	if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649))
		return n >= 16 && n <= 19; /* Discover */
	if (p4 >= 3528 && p4 <= 3589)
		return n >= 16 && n <= 19; /* JCB */
	if (p2 == 36 || p2 == 38 || (p3 >= 300 && p3 <= 305))
		return n >= 14 && n <= 19; /* Diners Club */
	return false;
}

bool veil_pii_is_payment_card(const char *s, size_t n)
{
	if (n < 13 || n > 23)
		return false;
	char d[19];
	size_t nd;
	if (!digits_of(s, n, " -", d, sizeof d, &nd) || nd < 13 || !is_digit(s[0]) || !is_digit(s[n - 1]))
		return false;
	return known_issuer(d, nd) && luhn(d, nd);
}

/* ---- IBAN (ISO 13616) ---- */
bool veil_pii_is_iban(const char *s, size_t n)
{
	if (n < 15 || n > 42)
		return false;
	char c[34];
	size_t nc = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' && i > 0 && i + 1 < n && s[i - 1] != ' ')
			continue;
		if (!is_alnum(s[i]) || nc == sizeof c)
			return false;
		c[nc++] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	}
	if (nc < 15 || !is_alpha(c[0]) || !is_alpha(c[1]) || !is_digit(c[2]) || !is_digit(c[3]))
		return false;
	/* mod 97 of BBAN || country || check digits, letters as 10..35, piecewise */
	unsigned rem = 0;
	for (size_t k = 0; k < nc; k++) {
		char ch = c[(k + 4) % nc];
		if (is_digit(ch))
			rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
		else
			rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
	}
	return rem == 1;
}

/* ---- IP addresses ---- */
bool veil_pii_is_ip(const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char addr[sizeof(struct in6_addr)];
	/* inet_pton reads a C string: a NUL inside would cut the value short */
	if (n < 2 || n >= sizeof buf || memchr(s, '\0', n))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET, buf, addr) == 1 ||
	       (memchr(s, ':', n) && inet_pton(AF_INET6, buf, addr) == 1);
}

/* ---- dates ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (the well-known
 * era-based formula: eras of 400 years, March-based years). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}
static bool valid_date(int y, int m, int d)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return false;
	int dm = days[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	if (d > dm)
		return false;
	/* Not after today (UTC): compare day numbers, which needs no gmtime
	 * per value (this runs for every date-shaped value of a scan). */
	return days_from_civil(y, m, d) <= (int64_t)(time(NULL) / 86400);
}

static int num(const char *s, size_t k)
{
	int v = 0;
	for (size_t i = 0; i < k; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

bool veil_pii_is_date(const char *s, size_t n)
{
	if (n != 10)
		return false;
	if ((s[4] == '-' || s[4] == '/') && s[7] == s[4]) /* YYYY-MM-DD, YYYY/MM/DD */
		return valid_date(num(s, 4), num(s + 5, 2), num(s + 8, 2));
	if (s[2] == '/' && s[5] == '/') /* MM/DD/YYYY */
		return valid_date(num(s + 6, 4), num(s, 2), num(s + 3, 2));
	if (s[2] == '.' && s[5] == '.') /* DD.MM.YYYY */
		return valid_date(num(s + 6, 4), num(s + 3, 2), num(s, 2));
	return false;
}

/* ---- postal codes ---- */
static bool uk_postcode(const char *s, size_t n)
{
	/* outward (A9, A99, AA9, AA99, A9A, AA9A), a space, inward (9AA) */
	const char *sp = memchr(s, ' ', n);
	if (!sp)
		return false;
	size_t out = (size_t)(sp - s), in = n - out - 1;
	if (out < 2 || out > 4 || in != 3)
		return false;
	if (!is_digit(sp[1]) || !is_alpha(sp[2]) || !is_alpha(sp[3]))
		return false;
	if (!is_alpha(s[0]))
		return false;
	size_t letters = 1;
	while (letters < out && is_alpha(s[letters]))
		letters++;
	if (letters > 2 || letters == out || !is_digit(s[letters]))
		return false;
	size_t rest = out - letters - 1; /* one more letter or digit at most */
	return rest == 0 || (rest == 1 && is_alnum(s[out - 1]));
}

bool veil_pii_is_postal_code(const char *s, size_t n)
{
	if (n == 5 || n == 10) {
		for (size_t i = 0; i < 5; i++)
			if (!is_digit(s[i]))
				return uk_postcode(s, n);
		if (n == 5)
			return true;
		if (s[5] != '-')
			return false;
		for (size_t i = 6; i < 10; i++)
			if (!is_digit(s[i]))
				return false;
		return true;
	}
	return n >= 6 && n <= 8 && uk_postcode(s, n);
}

/* ---- headers ---- */

/* header in lower case without spaces, dashes and underscores */
static size_t squash(const char *h, char *out, size_t max)
{
	size_t k = 0;
	for (; h && *h && k + 1 < max; h++) {
		char c = *h;
		if (c == ' ' || c == '-' || c == '_' || c == '.')
			continue;
		out[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[k] = '\0';
	return k;
}

static bool in_list(const char *w, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(w, *list) == 0)
			return true;
	return false;
}

veil_pii veil_pii_from_header(const char *header)
{
	char w[64];
	squash(header, w, sizeof w);
	static const char *const email[] = {"email", "emailaddress", "mail", "emailaddr", NULL};
	static const char *const phone[] = {"phone", "phonenumber", "telephone",   "tel", "mobile",
	                                    "cell",  "cellphone",   "mobilephone", "fax", NULL};
	static const char *const ssn[] = {"ssn",   "socialsecurity", "socialsecuritynumber",
	                                  "taxid", "itin",           NULL};
	static const char *const card[] = {"card", "cardnumber", "creditcard", "creditcardnumber",
	                                   "pan",  "ccnumber",   NULL};
	static const char *const iban[] = {"iban", "bankaccount", "accountnumber", NULL};
	static const char *const ip[] = {"ip", "ipaddress", "ipaddr", "clientip", "remoteaddr", NULL};
	static const char *const dob[] = {"dob", "dateofbirth", "birthdate", "birthday", "borndate", NULL};
	static const char *const postal[] = {"zip", "zipcode", "postalcode", "postcode", "postal", NULL};
	static const char *const person[] = {"name",       "firstname", "lastname",   "surname",
	                                     "fullname",   "givenname", "familyname", "patientname",
	                                     "middlename", "forename",  NULL};
	if (in_list(w, email))
		return VEIL_PII_EMAIL;
	if (in_list(w, phone))
		return VEIL_PII_PHONE;
	if (in_list(w, ssn))
		return VEIL_PII_SSN;
	if (in_list(w, card))
		return VEIL_PII_PAYMENT_CARD;
	if (in_list(w, iban))
		return VEIL_PII_IBAN;
	if (in_list(w, ip))
		return VEIL_PII_IP;
	if (in_list(w, dob))
		return VEIL_PII_DATE_OF_BIRTH;
	if (in_list(w, postal))
		return VEIL_PII_POSTAL_CODE;
	if (in_list(w, person))
		return VEIL_PII_PERSON_NAME;
	return VEIL_PII_NONE;
}

bool veil_pii_quasi_identifier(const char *header)
{
	char w[64];
	squash(header, w, sizeof w);
	static const char *const qi[] = {"age",  "sex",      "gender",  "ethnicity",
	                                 "race", "agegroup", "ageband", NULL};
	veil_pii c = veil_pii_from_header(header);
	return in_list(w, qi) || c == VEIL_PII_POSTAL_CODE || c == VEIL_PII_DATE_OF_BIRTH;
}

/* ---- one value, every detector that can apply ---- */
uint32_t veil_pii_detect(const char *s, size_t n)
{
	if (n < 2 || n > 254)
		return 0;
	size_t digits = 0, letters = 0, at = 0, colon = 0, dot = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (is_digit(c))
			digits++;
		else if (is_alpha(c))
			letters++;
		else if (c == '@')
			at++;
		else if (c == ':')
			colon++;
		else if (c == '.')
			dot++;
	}
	uint32_t hits = 0;
	if (at == 1) /* only an e-mail address has an @ */
		return veil_pii_is_email(s, n) ? 1u << VEIL_PII_EMAIL : 0;
	if (colon >= 2)
		return veil_pii_is_ip(s, n) ? 1u << VEIL_PII_IP : 0;
	if (letters == 0) {
		if (dot == 3 && veil_pii_is_ip(s, n))
			return 1u << VEIL_PII_IP;
		if (digits >= 13 && veil_pii_is_payment_card(s, n))
			hits |= 1u << VEIL_PII_PAYMENT_CARD;
		if (digits == 9 && veil_pii_is_ssn(s, n))
			hits |= 1u << VEIL_PII_SSN;
		if (digits >= 8 && veil_pii_is_phone(s, n))
			hits |= 1u << VEIL_PII_PHONE;
		if (digits == 8 && veil_pii_is_date(s, n))
			hits |= 1u << VEIL_PII_DATE_OF_BIRTH;
		if ((digits == 5 || digits == 9) && veil_pii_is_postal_code(s, n))
			hits |= 1u << VEIL_PII_POSTAL_CODE;
		return hits;
	}
	if (letters >= 2 && digits >= 2 && n >= 15 && veil_pii_is_iban(s, n))
		hits |= 1u << VEIL_PII_IBAN;
	if (n <= 8 && digits >= 2 && veil_pii_is_postal_code(s, n))
		hits |= 1u << VEIL_PII_POSTAL_CODE;
	return hits;
}

void veil_pii_count(veil_pii_counts *c, const char *s, size_t n)
{
	if (n == 0)
		return;
	c->values++;
	uint32_t hits = veil_pii_detect(s, n);
	for (unsigned k = 1; hits && k < VEIL_PII_COUNT; k++)
		if (hits & (1u << k))
			c->hits[k]++;
}

veil_pii veil_pii_verdict(const veil_pii_counts *c, const char *header, double threshold, double *rate)
{
	veil_pii by_header = veil_pii_from_header(header);
	veil_pii best = VEIL_PII_NONE;
	double best_rate = 0;
	for (unsigned k = 1; c->values && k < VEIL_PII_COUNT; k++) {
		double r = (double)c->hits[k] / (double)c->values;
		if (r >= threshold && r > best_rate) {
			best = (veil_pii)k;
			best_rate = r;
		}
	}
	/* Dates are birth dates only where the header says so. */
	if (best == VEIL_PII_DATE_OF_BIRTH && by_header != VEIL_PII_DATE_OF_BIRTH) {
		best = VEIL_PII_NONE;
		best_rate = 0;
	}
	if (best == VEIL_PII_NONE && by_header != VEIL_PII_NONE) {
		best = by_header;
		best_rate = c->values ? (double)c->hits[by_header] / (double)c->values : 0;
	}
	if (rate)
		*rate = best_rate;
	return best;
}
