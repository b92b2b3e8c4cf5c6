/*
 * The /dev/sev-guest evidence producer: the SEV-SNP guest driver's
 * SNP_GET_REPORT ioctl (linux/sev-guest.h), for kernels without
 * configfs-tsm. The driver sends the firmware an encrypted MSG_REPORT_REQ
 * and returns its MSG_REPORT_RSP: a status, the report's size and the
 * report at offset 0x20 (SEV-SNP firmware ABI, "MSG_REPORT_RSP"). This file
 * checks that answer's shape; the report itself is checked by the verifier.
 */
#include "veil/attest.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/sev-guest.h>
#include <sys/ioctl.h>
#endif

#define MSG_VERSION     1    /* the MSG_REPORT_REQ version the driver and the firmware speak */
#define RSP_STATUS      0x00 /* u32: 0 success, 0x16 invalid parameters */
#define RSP_REPORT_SIZE 0x04 /* u32 */
#define RSP_REPORT      0x20 /* the ATTESTATION_REPORT */
#define VMPL_MAX        3

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#ifdef __linux__
static_assert(RSP_REPORT + VEIL_SNP_REPORT_LEN <= sizeof(((struct snp_report_resp *)0)->data),
              "the response holds a whole report");

static veil_status open_device(const char *path, int *fd, veil_err *err)
{
	*fd = open(path, O_RDWR | O_CLOEXEC);
	if (*fd < 0) {
		int e = errno;
		if (e == ENOENT) {
			veil_err_set(err, VEIL_E_NOTFOUND, "sev-guest: %s does not exist", path);
			return veil_err_hint(err,
			                     "not an SEV-SNP guest, or its sev-guest driver is not loaded "
			                     "(modprobe sev-guest); use --tee sim on an ordinary machine");
		}
		if (e == EISDIR)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "sev-guest: %s is a folder, not the sev-guest device", path);
		veil_err_errno(err, VEIL_E_IO, e, "sev-guest: cannot open %s", path);
		return veil_err_hint(err, e == EACCES || e == EPERM
		                                  ? "the worker needs read-write access to it (root)"
		                                  : "is this an SEV-SNP guest?");
	}
	struct stat sb;
	if (fstat(*fd, &sb) != 0 || !S_ISCHR(sb.st_mode)) {
		close(*fd);
		*fd = -1;
		return veil_err_set(err, VEIL_E_INVALID,
		                    "sev-guest: %s is not a character device, so not the "
		                    "sev-guest device",
		                    path);
	}
	return VEIL_OK;
}

/* The firmware's answer: status 0, then a report of exactly the size we read. */
static veil_status check_response(const uint8_t *rsp, uint8_t out[static VEIL_SNP_REPORT_LEN], veil_err *err)
{
	uint32_t status = le32(rsp + RSP_STATUS), size = le32(rsp + RSP_REPORT_SIZE);
	if (status != 0) {
		veil_err_set(err, VEIL_E_DENIED,
		             "sev-guest: the firmware refused the report request (status 0x%x)",
		             (unsigned)status);
		return veil_err_hint(
		        err, status == 0x16 ? "0x16 is INVALID_PARAM: is the VMPL below the guest's own?"
		                            : "see the SEV-SNP firmware ABI's status codes");
	}
	if (size != VEIL_SNP_REPORT_LEN)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "sev-guest: the firmware says its report is %u bytes, not %d",
		                    (unsigned)size, VEIL_SNP_REPORT_LEN);
	memcpy(out, rsp + RSP_REPORT, VEIL_SNP_REPORT_LEN);
	return VEIL_OK;
}

static veil_status get_report(int fd, const char *path, const uint8_t *report_data, uint32_t vmpl,
                              uint8_t out[static VEIL_SNP_REPORT_LEN], veil_err *err)
{
	struct snp_report_req req;
	struct snp_report_resp resp;
	struct snp_guest_request_ioctl io;
	memset(&req, 0, sizeof req);
	memset(&resp, 0, sizeof resp);
	memset(&io, 0, sizeof io);
	memcpy(req.user_data, report_data, sizeof req.user_data);
	req.vmpl = vmpl;
	io.msg_version = MSG_VERSION;
	io.req_data = (uint64_t)(uintptr_t)&req;
	io.resp_data = (uint64_t)(uintptr_t)&resp;
	int rc;
	do
		rc = ioctl(fd, SNP_GET_REPORT, &io);
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		int e = errno;
		/* Another driver does not know the request: the path is some other device. */
		if (e == ENOTTY || e == EINVAL || e == ENOSYS || e == EOPNOTSUPP)
			return veil_err_errno(err, VEIL_E_UNSUPPORTED, e,
			                      "sev-guest: %s is not the sev-guest device", path);
		return veil_err_errno(
		        err, VEIL_E_IO, e,
		        "sev-guest: SNP_GET_REPORT failed (firmware error 0x%x, VMM error 0x%x)",
		        (unsigned)io.fw_error, (unsigned)io.vmm_error);
	}
	return check_response(resp.data, out, err);
}
#endif

veil_status veil_sev_guest_report(const char *dev, const uint8_t report_data[static VEIL_SNP_REPORT_DATA_LEN],
                                  uint32_t vmpl, uint8_t out[static VEIL_SNP_REPORT_LEN], veil_err *err)
{
	memset(out, 0, VEIL_SNP_REPORT_LEN);
	if (vmpl > VMPL_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "sev-guest: VMPL %u (0..%d)", (unsigned)vmpl,
		                    VMPL_MAX);
#ifdef __linux__
	const char *path = dev ? dev : VEIL_SEV_GUEST_DEFAULT;
	int fd = -1;
	veil_status st = open_device(path, &fd, err);
	if (st)
		return st;
	st = get_report(fd, path, report_data, vmpl, out, err);
	close(fd);
	if (st)
		memset(out, 0, VEIL_SNP_REPORT_LEN);
	return st;
#else
	(void)dev;
	(void)report_data;
	return veil_err_set(err, VEIL_E_UNSUPPORTED, "sev-guest: only Linux has /dev/sev-guest");
#endif
}
