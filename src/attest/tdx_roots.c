/*
 * The Intel root veil pins for TDX (and, later, SGX): the Intel SGX Root CA,
 * a self-signed ECDSA P-256 certificate that issues the Intel SGX PCK
 * Platform and Processor CAs, which issue every platform's PCK certificate.
 * It is a public certificate, not a secret; pinning it here is what makes a
 * quote verifiable offline.
 *
 * Origin: Intel, https://certificates.trustedservices.intel.com/IntelSGXRootCA.der
 * (the URL its own CRL distribution point names), as kept in go-tdx-guest
 * verify/trusted_root.pem, copied from ../shared/vectors/tdx/intel-roots/
 * intel_sgx_root_ca.pem. Subject CN=Intel SGX Root CA, O=Intel Corporation,
 * valid 2018-05-21 to 2049-12-31. A change to any byte here is a change of
 * trust and must be reviewed as one.
 */
#include "veil/attest.h"

/* Root CA, DER SHA-256 44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3 */
static const char intel_sgx_root_ca[] = "-----BEGIN CERTIFICATE-----\n"
                                        "MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw\n"
                                        "aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv\n"
                                        "cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ\n"
                                        "BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG\n"
                                        "A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0\n"
                                        "aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT\n"
                                        "AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7\n"
                                        "1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB\n"
                                        "uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ\n"
                                        "MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50\n"
                                        "ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV\n"
                                        "Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI\n"
                                        "KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg\n"
                                        "AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=\n"
                                        "-----END CERTIFICATE-----\n";

const char *veil_tdx_pinned_root_pem(void)
{
	return intel_sgx_root_ca;
}
