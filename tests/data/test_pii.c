/*
 * PII detectors (veil/data_pii.h): published test card numbers and IBAN
 * examples, their one-digit-off twins, and tables of shapes that must and
 * must not match; the per-column verdict with its threshold and headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "veil/data.h"

typedef bool (*detector)(const char *, size_t);

static void expect(detector f, const char *const *yes, const char *const *no)
{
	for (; *yes; yes++)
		if (!f(*yes, strlen(*yes)))
			fail_msg("should match: '%s'", *yes);
	for (; *no; no++)
		if (f(*no, strlen(*no)))
			fail_msg("should not match: '%s'", *no);
}

static void test_email(void **state)
{
	(void)state;
	static const char *const yes[] = {"alice@example.org", "a.b+tag@mail.example.co.uk",
	                                  "x_y-z@sub-domain.example.com", NULL};
	static const char *const no[] = {"alice@",
	                                 "@example.org",
	                                 "alice.example.org",
	                                 "alice@example",
	                                 "alice@@example.org",
	                                 ".alice@example.org",
	                                 "alice.@example.org",
	                                 "alice@-example.org",
	                                 "alice@example.c0m",
	                                 "ali ce@example.org",
	                                 "alice@example..org",
	                                 NULL};
	expect(veil_pii_is_email, yes, no);
}

static void test_phone(void **state)
{
	(void)state;
	static const char *const yes[] = {
	        "(555) 201-0142",   "555-201-0142",   "555.201.0142", "+1 555 201 0142",
	        "+44 20 7946 0958", "1-555-201-0142", "5552010142",   NULL};
	static const char *const no[] = {
	        "555-01-0142", "055-201-0142", "555-101-0142",  "+0 555 201 0142", "555--201-0142x",
	        "12345",       "2024-01-15",   "(555 201-0142", "192.29.192.220",  NULL};
	expect(veil_pii_is_phone, yes, no);
}

static void test_ssn(void **state)
{
	(void)state;
	static const char *const yes[] = {"123-45-6789", "901-23-4567", "123456789", NULL};
	static const char *const no[] = {"000-12-3456", "666-12-3456", "123-00-4567",
	                                 "123-45-0000", "123-456-789", "12-345-6789",
	                                 "1234567890",  "12a-45-6789", NULL};
	expect(veil_pii_is_ssn, yes, no);
}

static void test_payment_card(void **state)
{
	(void)state;
	/* the networks' published test numbers */
	static const char *const yes[] = {"4111111111111111",    "4012888888881881",    "5555555555554444",
	                                  "5105105105105100",    "2223003122003222",    "378282246310005",
	                                  "6011111111111117",    "3530111333300000",    "30569309025904",
	                                  "4111 1111 1111 1111", "4111-1111-1111-1111", NULL};
	/* one digit off (Luhn fails), unknown issuer, wrong length */
	static const char *const no[] = {
	        "4111111111111112", "5555555555554445",    "378282246310006",   "9111111111111111",
	        "411111111111111",  "4111 1111 1111 111x", " 4111111111111111", NULL};
	expect(veil_pii_is_payment_card, yes, no);
}

static void test_iban(void **state)
{
	(void)state;
	/* ISO 13616 / the registry's examples */
	static const char *const yes[] = {"GB82WEST12345698765432",
	                                  "GB82 WEST 1234 5698 7654 32",
	                                  "DE89370400440532013000",
	                                  "FR1420041010050500013M02606",
	                                  "NL91ABNA0417164300",
	                                  "gb82west12345698765432",
	                                  NULL};
	static const char *const no[] = {"GB83WEST12345698765432",
	                                 "DE89370400440532013001",
	                                 "GB82WEST1234569876543!",
	                                 "1282WEST12345698765432",
	                                 "GB8",
	                                 "GB82  WEST12345698765432",
	                                 NULL};
	expect(veil_pii_is_iban, yes, no);
}

static void test_ip(void **state)
{
	(void)state;
	static const char *const yes[] = {
	        "192.0.2.1", "10.0.0.255", "2001:db8::1", "::1", "fe80::1ff:fe23:4567:890a", NULL};
	static const char *const no[] = {"192.0.2", "256.0.0.1", "1.2.3.4.5", "2001:db8:::1",
	                                 "hello",   "1234567",   NULL};
	expect(veil_pii_is_ip, yes, no);
}

static void test_date(void **state)
{
	(void)state;
	static const char *const yes[] = {"1984-02-29", "2000/12/31", "07/04/1976", "31.12.1999", NULL};
	static const char *const no[] = {"1985-02-29", "1900-13-01", "1899-12-31", "2999-01-01", "04/31/1990",
	                                 "1984-2-29",  "19840229",   "32.01.1990", NULL};
	expect(veil_pii_is_date, yes, no);
}

/* The "not after today" rule against the system calendar: today (UTC) is a
 * possible birth date, tomorrow is not; leap days by the Gregorian rule. */
static void test_date_today(void **state)
{
	(void)state;
	char buf[32];
	time_t now = time(NULL);
	for (int k = -400; k <= 1; k++) {
		time_t t = now + (time_t)k * 86400;
		struct tm tm;
		assert_non_null(gmtime_r(&t, &tm));
		size_t n = strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
		assert_int_equal(veil_pii_is_date(buf, n), k <= 0);
	}
	assert_true(veil_pii_is_date("2000-02-29", 10));
	assert_false(veil_pii_is_date("1900-02-29", 10));
	assert_true(veil_pii_is_date("1996-02-29", 10));
	assert_false(veil_pii_is_date("2023-02-29", 10));
	assert_true(veil_pii_is_date("1900-01-01", 10));
}

static void test_postal(void **state)
{
	(void)state;
	static const char *const yes[] = {"90210",   "90210-1234", "SW1A 1AA", "M1 1AE", "B33 8TH",
	                                  "CR2 6XH", "DN55 1PT",   "EC1A 1BB", NULL};
	static const char *const no[] = {"9021",     "902101",   "90210-123", "SW1A1AA",
	                                 "1W1A 1AA", "SW1A 1A1", "ABC 1AA",   NULL};
	expect(veil_pii_is_postal_code, yes, no);
}

static void test_headers(void **state)
{
	(void)state;
	assert_int_equal(veil_pii_from_header("E-mail"), VEIL_PII_EMAIL);
	assert_int_equal(veil_pii_from_header("email_address"), VEIL_PII_EMAIL);
	assert_int_equal(veil_pii_from_header("Phone Number"), VEIL_PII_PHONE);
	assert_int_equal(veil_pii_from_header("SSN"), VEIL_PII_SSN);
	assert_int_equal(veil_pii_from_header("credit_card_number"), VEIL_PII_PAYMENT_CARD);
	assert_int_equal(veil_pii_from_header("IBAN"), VEIL_PII_IBAN);
	assert_int_equal(veil_pii_from_header("ip_address"), VEIL_PII_IP);
	assert_int_equal(veil_pii_from_header("date_of_birth"), VEIL_PII_DATE_OF_BIRTH);
	assert_int_equal(veil_pii_from_header("DOB"), VEIL_PII_DATE_OF_BIRTH);
	assert_int_equal(veil_pii_from_header("zip"), VEIL_PII_POSTAL_CODE);
	assert_int_equal(veil_pii_from_header("first_name"), VEIL_PII_PERSON_NAME);
	assert_int_equal(veil_pii_from_header("Name"), VEIL_PII_PERSON_NAME);
	assert_int_equal(veil_pii_from_header("cholesterol"), VEIL_PII_NONE);
	assert_int_equal(veil_pii_from_header("filename"), VEIL_PII_NONE);
	assert_int_equal(veil_pii_from_header(""), VEIL_PII_NONE);
	assert_true(veil_pii_quasi_identifier("age"));
	assert_true(veil_pii_quasi_identifier("Sex"));
	assert_true(veil_pii_quasi_identifier("postal_code"));
	assert_true(veil_pii_quasi_identifier("birth_date"));
	assert_false(veil_pii_quasi_identifier("glucose"));
	assert_false(veil_pii_quasi_identifier("email"));
}

static void feed(veil_pii_counts *c, const char *const *v)
{
	for (; *v; v++)
		veil_pii_count(c, *v, strlen(*v));
}

static void test_verdict(void **state)
{
	(void)state;
	double rate;
	/* 3 of 4 e-mail addresses: above 0.7, below 0.8 */
	veil_pii_counts c = {0};
	static const char *const mails[] = {
	        "a@example.org", "b@example.org", "c@example.org", "not one", "", NULL};
	feed(&c, mails);
	assert_int_equal(c.values, 4); /* the empty value is not counted */
	assert_int_equal(c.hits[VEIL_PII_EMAIL], 3);
	assert_int_equal(veil_pii_verdict(&c, "contact", 0.7, &rate), VEIL_PII_EMAIL);
	assert_true(rate > 0.74 && rate < 0.76);
	assert_int_equal(veil_pii_verdict(&c, "contact", 0.8, &rate), VEIL_PII_NONE);
	/* the header names it even when the values fall short */
	assert_int_equal(veil_pii_verdict(&c, "email", 0.8, &rate), VEIL_PII_EMAIL);
	/* dates are birth dates only under a birth header */
	veil_pii_counts d = {0};
	static const char *const dates[] = {"1984-02-29", "1990-07-01", "2001-11-30", NULL};
	feed(&d, dates);
	assert_int_equal(veil_pii_verdict(&d, "visit_date", 0.5, &rate), VEIL_PII_NONE);
	assert_int_equal(veil_pii_verdict(&d, "dob", 0.5, &rate), VEIL_PII_DATE_OF_BIRTH);
	/* cards beat the phone shape they also have? a card is 16 digits, no phone */
	veil_pii_counts k = {0};
	static const char *const cards[] = {"4111111111111111", "5555555555554444", "378282246310005", NULL};
	feed(&k, cards);
	assert_int_equal(veil_pii_verdict(&k, "x", 0.9, &rate), VEIL_PII_PAYMENT_CARD);
	/* numbers that are not PII stay none */
	veil_pii_counts n = {0};
	static const char *const nums[] = {"120.5", "98.6", "1e10", "-42", "hello world", "positive", NULL};
	feed(&n, nums);
	assert_int_equal(veil_pii_verdict(&n, "glucose", 0.1, &rate), VEIL_PII_NONE);
	/* a name column is known by its header alone */
	veil_pii_counts p = {0};
	static const char *const people[] = {"Ada Lovelace", "Alan Turing", NULL};
	feed(&p, people);
	assert_int_equal(veil_pii_verdict(&p, "patient_name", 0.5, &rate), VEIL_PII_PERSON_NAME);
	assert_int_equal(veil_pii_verdict(&p, "notes", 0.5, &rate), VEIL_PII_NONE);
}

/* veil_pii_detect agrees with each detector on every value of the tables. */
static void test_detect_agrees(void **state)
{
	(void)state;
	static const char *const values[] = {"alice@example.org",
	                                     "(555) 201-0142",
	                                     "123-45-6789",
	                                     "4111111111111111",
	                                     "GB82WEST12345698765432",
	                                     "192.0.2.1",
	                                     "192.29.192.220", /* an IP that was also taken for a phone */
	                                     "2001:db8::1",
	                                     "1984-02-29",
	                                     "90210",
	                                     "SW1A 1AA",
	                                     "hello",
	                                     "12345.678",
	                                     NULL};
	static const detector f[VEIL_PII_COUNT] = {
	        [VEIL_PII_EMAIL] = veil_pii_is_email,
	        [VEIL_PII_PHONE] = veil_pii_is_phone,
	        [VEIL_PII_SSN] = veil_pii_is_ssn,
	        [VEIL_PII_PAYMENT_CARD] = veil_pii_is_payment_card,
	        [VEIL_PII_IBAN] = veil_pii_is_iban,
	        [VEIL_PII_IP] = veil_pii_is_ip,
	        [VEIL_PII_DATE_OF_BIRTH] = veil_pii_is_date,
	        [VEIL_PII_POSTAL_CODE] = veil_pii_is_postal_code,
	};
	for (const char *const *v = values; *v; v++) {
		uint32_t got = veil_pii_detect(*v, strlen(*v));
		for (unsigned k = 1; k < VEIL_PII_COUNT; k++) {
			if (!f[k])
				continue;
			bool want = f[k](*v, strlen(*v));
			if (want != !!(got & (1u << k)))
				fail_msg("'%s': detect says %d for %s, the detector %d", *v,
				         !!(got & (1u << k)), veil_pii_name((veil_pii)k), want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_email),   cmocka_unit_test(test_phone),
	        cmocka_unit_test(test_ssn),     cmocka_unit_test(test_payment_card),
	        cmocka_unit_test(test_iban),    cmocka_unit_test(test_ip),
	        cmocka_unit_test(test_date),    cmocka_unit_test(test_date_today),
	        cmocka_unit_test(test_postal),  cmocka_unit_test(test_headers),
	        cmocka_unit_test(test_verdict), cmocka_unit_test(test_detect_agrees),
	};
	return cmocka_run_group_tests_name("pii", tests, NULL, NULL);
}
