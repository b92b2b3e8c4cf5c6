/*
 * The configfs-tsm evidence producer (Linux >= 6.7,
 * Documentation/ABI/testing/configfs-tsm-report): a folder made under
 * /sys/kernel/config/tsm/report is one report request; writing 64 bytes to
 * its inblob and reading outblob makes the TEE (SEV-SNP through the
 * sev-guest driver, TDX through tdx-guest) produce evidence that binds
 * them, and auxblob carries what the provider adds (for SNP the host's
 * certificate table).
 *
 * The kernel offers no lock: any process that can write the entry can
 * change inblob between our write and our read. It counts writes in the
 * entry's generation instead, so the exchange reads generation before and
 * after and refuses evidence whose generation moved by anything but our own
 * writes. veil_tsm_exchange works on any folder with these files, which is
 * how the tests run it without a kernel; veil_tsm_report adds making and
 * removing a private entry.
 */
#include "veil/attest.h"
#include "veil/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GENERATION_TEXT_MAX 32 /* a u64 in decimal and a newline */

void veil_tsm_evidence_free(veil_tsm_evidence *ev)
{
	if (!ev)
		return;
	veil_buf_free(&ev->outblob);
	veil_buf_free(&ev->auxblob);
	memset(ev, 0, sizeof *ev);
}

/* Reads dir/name whole, refusing more than max bytes. A missing file is
 * VEIL_E_NOTFOUND, or an empty *out when `optional`. */
static veil_status read_attr(const char *dir, const char *name, size_t max, bool optional, veil_buf *out,
                             veil_err *err)
{
	char path[4096];
	veil_status st = veil_path_join(path, sizeof path, dir, name, err);
	if (st)
		return st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT && optional)
			return VEIL_OK;
		return veil_err_errno(err, VEIL_E_IO, errno, "configfs-tsm: cannot open %s", path);
	}
	/* configfs attributes have no useful st_size: read until EOF, one byte
	 * past max at most, so that an oversized blob is seen as one. */
	for (;;) {
		if ((st = veil_buf_reserve(out, 4096, err)))
			break;
		size_t room = out->cap - out->len;
		if (room > max + 1 - out->len)
			room = max + 1 - out->len;
		ssize_t n = read(fd, out->data + out->len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			st = veil_err_errno(err, VEIL_E_IO, errno, "configfs-tsm: reading %s failed", path);
			break;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (out->len > max) {
			st = veil_err_set(err, VEIL_E_LIMIT, "configfs-tsm: %s is over %zu bytes", path, max);
			break;
		}
	}
	close(fd);
	if (st)
		veil_buf_free(out);
	return st;
}

/* Writes data to dir/name in one write and checks close, where configfs
 * binary attributes hand the bytes to the kernel. */
static veil_status write_attr(const char *dir, const char *name, const void *data, size_t len, veil_err *err)
{
	char path[4096];
	veil_status st = veil_path_join(path, sizeof path, dir, name, err);
	if (st)
		return st;
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "configfs-tsm: cannot open %s for writing",
		                      path);
	ssize_t n;
	do
		n = write(fd, data, len);
	while (n < 0 && errno == EINTR);
	int werr = n < 0 ? errno : 0;
	if (close(fd) != 0 && n >= 0) {
		werr = errno;
		n = -1;
	}
	if (n < 0)
		return veil_err_errno(err, VEIL_E_IO, werr, "configfs-tsm: writing %s failed", path);
	if ((size_t)n != len)
		return veil_err_set(err, VEIL_E_IO, "configfs-tsm: %s took %zd of %zu bytes", path, n, len);
	return VEIL_OK;
}

/* One line of text: the attribute without its newline, printable ASCII only. */
static veil_status read_line(const char *dir, const char *name, char *out, size_t outsz, veil_err *err)
{
	veil_buf b = {0};
	veil_status st = read_attr(dir, name, outsz - 1, false, &b, err);
	if (st)
		return st;
	size_t n = b.len;
	if (n > 0 && b.data[n - 1] == '\n')
		n--;
	bool printable = true;
	for (size_t i = 0; i < n; i++)
		printable = printable && b.data[i] >= 0x20 && b.data[i] <= 0x7e;
	if (!printable)
		st = veil_err_set(err, VEIL_E_INVALID, "configfs-tsm: %s/%s is not one line of text", dir,
		                  name);
	else if (n == 0 || !b.data)
		st = veil_err_set(err, VEIL_E_INVALID, "configfs-tsm: %s/%s is empty", dir, name);
	else {
		memcpy(out, b.data, n);
		out[n] = '\0';
	}
	veil_buf_free(&b);
	return st;
}

static veil_status read_generation(const char *dir, uint64_t *gen, veil_err *err)
{
	char text[GENERATION_TEXT_MAX] = "";
	veil_status st = read_line(dir, "generation", text, sizeof text, err);
	if (st)
		return st;
	uint64_t v = 0;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
			return veil_err_set(err, VEIL_E_INVALID,
			                    "configfs-tsm: %s/generation is not a number", dir);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*gen = v;
	return VEIL_OK;
}

static veil_status check_provider(const char *dir, veil_tee want, veil_tsm_evidence *ev, veil_err *err)
{
	veil_status st = read_line(dir, "provider", ev->provider, sizeof ev->provider, err);
	if (st)
		return st;
	if (strcmp(ev->provider, "sev_guest") == 0)
		ev->tee = VEIL_TEE_SEV_SNP;
	else if (strcmp(ev->provider, "tdx_guest") == 0)
		ev->tee = VEIL_TEE_TDX;
	else
		return veil_err_set(err, VEIL_E_UNSUPPORTED,
		                    "configfs-tsm: provider \"%s\" (veil reads sev_guest and tdx_guest)",
		                    ev->provider);
	if (want != VEIL_TEE_UNKNOWN && want != ev->tee) {
		veil_err_set(err, VEIL_E_UNSUPPORTED,
		             "configfs-tsm: provider %s makes %s evidence, %s was asked for", ev->provider,
		             veil_tee_name(ev->tee), veil_tee_name(want));
		return veil_err_hint(
		        err, "this machine is another kind of confidential VM than the one configured");
	}
	return VEIL_OK;
}

static veil_status check_request(const veil_tsm_request *req, veil_err *err)
{
	if (req->want != VEIL_TEE_UNKNOWN && req->want != VEIL_TEE_SEV_SNP && req->want != VEIL_TEE_TDX)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "configfs-tsm: it makes SEV-SNP or TDX evidence, not %s",
		                    veil_tee_name(req->want));
	if (req->set_privlevel && req->privlevel > VEIL_TSM_PRIVLEVEL_MAX)
		return veil_err_set(err, VEIL_E_INVALID, "configfs-tsm: privlevel %u (0..%d)", req->privlevel,
		                    VEIL_TSM_PRIVLEVEL_MAX);
	return VEIL_OK;
}

/* The writes, in order; returns how many it made (what generation counts). */
static veil_status write_request(const char *dir, const veil_tsm_request *req, uint64_t *writes,
                                 veil_err *err)
{
	veil_status st;
	*writes = 0;
	if (req->set_privlevel) {
		char text[4] = {(char)('0' + req->privlevel), '\n', '\0', '\0'};
		if ((st = write_attr(dir, "privlevel", text, 2, err)))
			return st;
		(*writes)++;
	}
	if ((st = write_attr(dir, "inblob", req->report_data, sizeof req->report_data, err)))
		return st;
	(*writes)++;
	return VEIL_OK;
}

veil_status veil_tsm_exchange(const char *entry_dir, const veil_tsm_request *req, veil_tsm_evidence *out,
                              veil_err *err)
{
	memset(out, 0, sizeof *out);
	if (!entry_dir || !req)
		return veil_err_set(err, VEIL_E_INVALID, "configfs-tsm: no entry or no request");
	veil_tsm_evidence ev = {0};
	uint64_t before = 0, after = 0, writes = 0;
	veil_status st = check_request(req, err);
	/* The provider first: a wrong TEE is refused before it is asked for anything. */
	if (st || (st = read_generation(entry_dir, &before, err)) ||
	    (st = check_provider(entry_dir, req->want, &ev, err)) ||
	    (st = write_request(entry_dir, req, &writes, err)) ||
	    (st = read_attr(entry_dir, "outblob", VEIL_TSM_OUTBLOB_MAX, false, &ev.outblob, err)) ||
	    (st = read_attr(entry_dir, "auxblob", VEIL_TSM_AUXBLOB_MAX, true, &ev.auxblob, err)) ||
	    (st = read_generation(entry_dir, &after, err)))
		goto done;
	if (ev.outblob.len == 0) {
		st = veil_err_set(err, VEIL_E_IO, "configfs-tsm: %s/outblob is empty", entry_dir);
		goto done;
	}
	if (after != before + writes) {
		veil_err_set(
		        err, VEIL_E_BUSY,
		        "configfs-tsm: the entry's generation went from %llu to %llu, but this exchange "
		        "wrote %llu "
		        "time(s): another writer raced it, so the evidence may not answer this report_data",
		        (unsigned long long)before, (unsigned long long)after, (unsigned long long)writes);
		st = veil_err_hint(err, "retry with a fresh entry, and keep other processes out of %s",
		                   entry_dir);
		goto done;
	}
	ev.generation = after;
	*out = ev;
	memset(&ev, 0, sizeof ev);
done:
	veil_tsm_evidence_free(&ev);
	return st;
}

static veil_status make_entry(const char *root, char *path, size_t pathsz, veil_err *err)
{
	uint8_t rnd[8];
	char hex[2 * sizeof rnd + 1];
	char name[64];
	veil_status st = veil_random(rnd, sizeof rnd, err);
	if (st)
		return st;
	veil_hex_encode(rnd, sizeof rnd, hex);
	if ((st = veil_fmt(name, sizeof name, err, "veil-%ld-%s", (long)getpid(), hex)) ||
	    (st = veil_path_join(path, pathsz, root, name, err)))
		return st;
	if (mkdir(path, 0700) != 0) {
		int e = errno;
		veil_err_errno(err, VEIL_E_IO, e, "configfs-tsm: cannot make the report entry %s", path);
		return veil_err_hint(
		        err, e == EACCES || e == EPERM
		                     ? "the worker needs write access to the configfs-tsm folder (root)"
		                     : "is configfs mounted on /sys/kernel/config?");
	}
	return VEIL_OK;
}

veil_status veil_tsm_report(const char *root, const veil_tsm_request *req, veil_tsm_evidence *out,
                            veil_err *err)
{
	memset(out, 0, sizeof *out);
	const char *r = root ? root : VEIL_TSM_ROOT_DEFAULT;
	struct stat sb;
	if (stat(r, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		veil_err_set(err, VEIL_E_UNSUPPORTED,
		             "configfs-tsm: %s is not there, so this machine cannot make "
		             "SEV-SNP or TDX evidence through it",
		             r);
		return veil_err_hint(
		        err, "needs Linux ≥ 6.7 in a confidential VM; use --tee sim on an ordinary machine");
	}
	char path[4096];
	veil_status st = make_entry(r, path, sizeof path, err);
	if (st)
		return st;
	st = veil_tsm_exchange(path, req, out, err);
	/* In configfs rmdir takes the entry's attributes with it. */
	if (rmdir(path) != 0 && st == VEIL_OK) {
		veil_tsm_evidence_free(out);
		st = veil_err_errno(err, VEIL_E_IO, errno, "configfs-tsm: cannot remove the report entry %s",
		                    path);
	}
	return st;
}
