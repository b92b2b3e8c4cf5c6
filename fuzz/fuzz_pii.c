/*
 * Fuzz target: the PII detectors (src/data/pii.c), which read every value of
 * every scanned column.
 *
 * Invariants (abort on violation):
 *  1. veil_pii_detect agrees with each detector it stands for.
 *  2. A value that matches a checksummed format (card, IBAN) still matches
 *     after nothing changed, and a card's match needs a valid Luhn digit:
 *     changing its last digit to any other digit breaks the match.
 *  3. Counting never counts more hits than values.
 */
#include "fuzz.h"
#include "veil/data.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	if (size > 300)
		return 0;
	typedef bool (*detector)(const char *, size_t);
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
	uint32_t got = veil_pii_detect(s, size);
	for (unsigned k = 1; k < VEIL_PII_COUNT; k++) {
		if (!f[k])
			continue;
		bool want = size >= 2 && size <= 254 && f[k](s, size);
		FUZZ_CHECK(want == !!(got & (1u << k)), "detect agrees with the detector");
	}
	if (veil_pii_is_payment_card(s, size) && size < 64) {
		char copy[64];
		memcpy(copy, s, size);
		char last = copy[size - 1];
		for (char d = '0'; d <= '9'; d++) {
			if (d == last)
				continue;
			copy[size - 1] = d;
			FUZZ_CHECK(!veil_pii_is_payment_card(copy, size), "one check digit per card number");
		}
	}
	veil_pii_counts c = {0};
	veil_pii_count(&c, s, size);
	veil_pii_count(&c, s, size);
	for (unsigned k = 0; k < VEIL_PII_COUNT; k++)
		FUZZ_CHECK(c.hits[k] <= c.values, "hits within values");
	/* a header is a C string */
	char header[301];
	memcpy(header, s, size);
	header[size] = '\0';
	(void)veil_pii_from_header(header);
	(void)veil_pii_quasi_identifier(header);
	return 0;
}
