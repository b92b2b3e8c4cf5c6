/* Unit tests for the evidence producers, without a kernel: configfs-tsm
 * runs against fake entry folders that this file makes and that return the
 * real sample evidence from ../shared/vectors (the virtee Milan report with
 * a certificate table around its real VCEK and AMD chain, and the
 * go-tdx-guest TDX quote); a thread plays the kernel's part where timing
 * matters (it reads inblob from a FIFO, bumps generation, then serves
 * outblob through another FIFO, so the exchange sees them in the kernel's
 * order). /dev/sev-guest is tested where it is absent or the path is
 * another file. The SNP certificate table parser gets tables built here
 * around the real certificates, and each kind of broken table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "veil/attest.h"

/* 2026-11-22: every certificate of the real chain is valid then. */
#define NOW INT64_C(1795000000)

#define GUID_VCEK "63da758d-e664-4564-adc5-f4b93be8accd"
#define GUID_VLEK "a8074bc2-a25a-483e-aae6-39c045a0b8a1"
#define GUID_ASK  "4ab7b379-bbac-4fe4-a02f-05aef327c782"
#define GUID_ARK  "c0b406a4-a803-4952-9743-3fb6014cd0ae"

typedef struct fx {
	veil_buf report, quote, vcek, ask, ark; /* report and quote raw; certificates DER */
	veil_buf table;                         /* VCEK, ASK, ARK around the real certificates */
	char dir[4096];                         /* this test's scratch folder */
} fx;

static void load(const char *rel, veil_buf *out)
{
	const char *root = getenv("VEIL_SOURCE_ROOT");
	char path[4096];
	veil_err e = {0};
	assert_non_null(root);
	assert_int_equal(veil_fmt(path, sizeof path, &e, "%s/../shared/vectors/%s", root, rel), VEIL_OK);
	if (veil_fs_read_file(path, 1u << 20, out, &e) != VEIL_OK)
		fail_msg("%s: %s", path, e.msg);
}

static void load_hex(const char *rel, veil_buf *out)
{
	veil_buf txt = {0};
	veil_err e = {0};
	load(rel, &txt);
	char *hex = calloc(1, txt.len + 1);
	assert_non_null(hex);
	size_t n = 0;
	for (size_t i = 0; i < txt.len; i++)
		if (txt.data[i] != '\n' && txt.data[i] != '\r' && txt.data[i] != ' ')
			hex[n++] = (char)txt.data[i];
	assert_int_equal(veil_buf_reserve(out, n / 2, &e), VEIL_OK);
	assert_int_equal(veil_hex_decode(hex, out->data, n / 2, &e), VEIL_OK);
	out->len = n / 2;
	free(hex);
	veil_buf_free(&txt);
}

/* The n-th certificate of a PEM file, as DER. */
static void pem_to_der(const veil_buf *pem, int n, veil_buf *out)
{
	BIO *b = BIO_new_mem_buf(pem->data, (int)pem->len);
	X509 *x = NULL;
	assert_non_null(b);
	for (int i = 0; i <= n; i++) {
		X509_free(x);
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		assert_non_null(x);
	}
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	veil_err e = {0};
	assert_true(len > 0);
	assert_int_equal(veil_buf_append(out, der, (size_t)len, &e), VEIL_OK);
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(b);
}

static void guid_bytes(const char *text, uint8_t out[VEIL_SNP_GUID_LEN])
{
	char hex[2 * VEIL_SNP_GUID_LEN + 1];
	size_t n = 0;
	veil_err e = {0};
	for (const char *p = text; *p; p++)
		if (*p != '-')
			hex[n++] = *p;
	hex[n] = '\0';
	assert_int_equal(n, 2 * VEIL_SNP_GUID_LEN);
	assert_int_equal(veil_hex_decode(hex, out, VEIL_SNP_GUID_LEN, &e), VEIL_OK);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

typedef struct tentry {
	const char *guid;
	const veil_buf *cert;
} tentry;

/* A GHCB certificate table: the entries, the all-zero one, then the certificates. */
static void build_table(const tentry *t, size_t n, veil_buf *out)
{
	veil_err e = {0};
	size_t head = (n + 1) * VEIL_SNP_CERTTABLE_ENTRY_LEN, off = head;
	out->len = 0;
	assert_int_equal(veil_buf_reserve(out, head, &e), VEIL_OK);
	memset(out->data, 0, head);
	out->len = head;
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = out->data + i * VEIL_SNP_CERTTABLE_ENTRY_LEN;
		guid_bytes(t[i].guid, p);
		put_le32(p + 16, (uint32_t)off);
		put_le32(p + 20, (uint32_t)t[i].cert->len);
		off += t[i].cert->len;
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(veil_buf_append(out, t[i].cert->data, t[i].cert->len, &e), VEIL_OK);
}

static int group_setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	veil_buf chain = {0};
	load_hex("sev-snp/virtee-sev/report_milan.hex", &f->report);
	load("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat", &f->quote);
	load("sev-snp/virtee-sev/vcek_milan.der", &f->vcek);
	load("sev-snp/virtee-sev/cert_chain_milan", &chain);
	pem_to_der(&chain, 0, &f->ask);
	pem_to_der(&chain, 1, &f->ark);
	veil_buf_free(&chain);
	const tentry t[] = {{GUID_VCEK, &f->vcek}, {GUID_ASK, &f->ask}, {GUID_ARK, &f->ark}};
	build_table(t, 3, &f->table);
	signal(SIGPIPE, SIG_IGN); /* a fake kernel thread may write to a FIFO the exchange stopped reading */
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	fx *f = *state;
	veil_buf *all[] = {&f->report, &f->quote, &f->vcek, &f->ask, &f->ark, &f->table};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		veil_buf_free(all[i]);
	free(f);
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	fx *f = *state;
	const char *tmp = getenv("TMPDIR");
	veil_err e = {0};
	if (veil_fmt(f->dir, sizeof f->dir, &e, "%s/veil-producer-XXXXXX", tmp && *tmp ? tmp : "/tmp") !=
	            VEIL_OK ||
	    !mkdtemp(f->dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	return nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void path_of(const char *dir, const char *name, char *out, size_t outsz)
{
	veil_err e = {0};
	assert_int_equal(veil_path_join(out, outsz, dir, name, &e), VEIL_OK);
}

static void put_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *fp;
	path_of(dir, name, path, sizeof path);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void get_file(const char *dir, const char *name, veil_buf *out)
{
	char path[4096];
	veil_err e = {0};
	path_of(dir, name, path, sizeof path);
	out->len = 0;
	assert_int_equal(veil_fs_read_file(path, 1u << 20, out, &e), VEIL_OK);
}

/* A fake entry: provider and generation as given, an empty inblob and
 * privlevel, outblob (NULL: none) and auxblob (NULL: none). */
static void fake_entry(const char *dir, const char *provider, uint64_t gen, const veil_buf *outblob,
                       const veil_buf *auxblob)
{
	char text[32];
	veil_err e = {0};
	assert_int_equal(mkdir(dir, 0700) == 0 || errno == EEXIST, 1);
	put_file(dir, "provider", provider, strlen(provider));
	assert_int_equal(veil_fmt(text, sizeof text, &e, "%llu\n", (unsigned long long)gen), VEIL_OK);
	put_file(dir, "generation", text, strlen(text));
	put_file(dir, "inblob", "", 0);
	put_file(dir, "privlevel", "", 0);
	if (outblob)
		put_file(dir, "outblob", outblob->data, outblob->len);
	if (auxblob)
		put_file(dir, "auxblob", auxblob->data, auxblob->len);
}

/* The kernel's part: inblob and outblob are FIFOs; the thread reads what is
 * written to inblob, moves generation by `step`, and only then serves
 * outblob, so the exchange's later reads see the new generation. */
typedef struct kernel {
	char dir[4096];
	uint64_t gen, step;
	const veil_buf *outblob;
	uint8_t inblob[2 * VEIL_TSM_INBLOB_LEN];
	size_t inblob_len;
	pthread_t th;
} kernel;

static void *kernel_run(void *arg)
{
	kernel *k = arg;
	char path[4096], text[32];
	veil_err e = {0};
	if (veil_path_join(path, sizeof path, k->dir, "inblob", &e) != VEIL_OK)
		return NULL;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	ssize_t n;
	while ((n = read(fd, k->inblob + k->inblob_len, sizeof k->inblob - k->inblob_len)) > 0)
		k->inblob_len += (size_t)n;
	close(fd);
	unsigned long long next = k->gen;
	next += k->step;
	if (veil_fmt(text, sizeof text, &e, "%llu\n", next) != VEIL_OK ||
	    veil_path_join(path, sizeof path, k->dir, "generation", &e) != VEIL_OK ||
	    veil_fs_write_atomic(path, text, strlen(text), 0600, &e) != VEIL_OK ||
	    veil_path_join(path, sizeof path, k->dir, "outblob", &e) != VEIL_OK)
		return NULL;
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return NULL;
	for (size_t off = 0; off < k->outblob->len; off += (size_t)n)
		if ((n = write(fd, k->outblob->data + off, k->outblob->len - off)) <= 0)
			break;
	close(fd);
	return NULL;
}

static void kernel_start(kernel *k, const char *dir, const char *provider, uint64_t gen, uint64_t step,
                         const veil_buf *outblob, const veil_buf *auxblob)
{
	char path[4096];
	memset(k, 0, sizeof *k);
	assert_true(strlen(dir) < sizeof k->dir);
	memcpy(k->dir, dir, strlen(dir) + 1);
	k->gen = gen;
	k->step = step;
	k->outblob = outblob;
	fake_entry(dir, provider, gen, NULL, auxblob);
	path_of(dir, "inblob", path, sizeof path);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	path_of(dir, "outblob", path, sizeof path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(pthread_create(&k->th, NULL, kernel_run, k), 0);
}

static void kernel_join(kernel *k)
{
	assert_int_equal(pthread_join(k->th, NULL), 0);
}

static void entry_dir(const fx *f, const char *name, char *out, size_t outsz)
{
	path_of(f->dir, name, out, outsz);
}

static void some_report_data(uint8_t rd[VEIL_TSM_INBLOB_LEN])
{
	for (int i = 0; i < VEIL_TSM_INBLOB_LEN; i++)
		rd[i] = (uint8_t)(0xA0 ^ (i * 7));
}

/* SEV-SNP through a fake configfs: the report and the certificate table come
 * back byte for byte, inblob got exactly our 64 bytes, and the evidence
 * verifies with the certificates from the table. */
static void test_tsm_snp(void **state)
{
	fx *f = *state;
	char dir[4096];
	entry_dir(f, "snp", dir, sizeof dir);
	kernel k;
	kernel_start(&k, dir, "sev_guest\n", 41, 1, &f->report, &f->table);
	veil_tsm_request req = {.want = VEIL_TEE_SEV_SNP};
	some_report_data(req.report_data);
	veil_tsm_evidence ev;
	veil_err e = {0};
	veil_status st = veil_tsm_exchange(dir, &req, &ev, &e);
	kernel_join(&k);
	if (st)
		fail_msg("%s", e.msg);
	assert_int_equal(ev.tee, VEIL_TEE_SEV_SNP);
	assert_string_equal(ev.provider, "sev_guest");
	assert_int_equal(ev.generation, 42);
	assert_int_equal(k.inblob_len, VEIL_TSM_INBLOB_LEN);
	assert_memory_equal(k.inblob, req.report_data, VEIL_TSM_INBLOB_LEN);
	assert_int_equal(ev.outblob.len, f->report.len);
	assert_memory_equal(ev.outblob.data, f->report.data, f->report.len);
	assert_int_equal(ev.auxblob.len, f->table.len);
	assert_memory_equal(ev.auxblob.data, f->table.data, f->table.len);

	/* What a worker does next: parse both and verify with the table's certificates. */
	veil_snp_certtable t;
	veil_buf chain = {0};
	veil_snp_report *r = malloc(sizeof *r);
	veil_snp_result res;
	assert_non_null(r);
	assert_int_equal(veil_snp_certtable_parse(ev.auxblob.data, ev.auxblob.len, &t, &e), VEIL_OK);
	const veil_snp_cert_entry *vcek = veil_snp_certtable_find(&t, VEIL_SNP_CERT_VCEK);
	assert_non_null(vcek);
	assert_int_equal(veil_snp_certtable_chain_pem(&t, &chain, &e), VEIL_OK);
	assert_int_equal(veil_snp_report_parse(ev.outblob.data, ev.outblob.len, r, &e), VEIL_OK);
	if (veil_snp_verify(r, vcek->der, vcek->len, (const char *)chain.data, chain.len, NOW, &res, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(res.product, VEIL_SNP_PRODUCT_MILAN);
	free(r);
	veil_buf_free(&chain);
	veil_tsm_evidence_free(&ev);
	assert_null(ev.outblob.data);
}

/* TDX: the quote comes back byte for byte; no auxblob is an empty one. */
static void test_tsm_tdx(void **state)
{
	fx *f = *state;
	char dir[4096];
	entry_dir(f, "tdx", dir, sizeof dir);
	kernel k;
	kernel_start(&k, dir, "tdx_guest\n", 0, 1, &f->quote, NULL);
	veil_tsm_request req = {.want = VEIL_TEE_TDX};
	memset(req.report_data, 0x5c, sizeof req.report_data);
	veil_tsm_evidence ev;
	veil_err e = {0};
	veil_status st = veil_tsm_exchange(dir, &req, &ev, &e);
	kernel_join(&k);
	if (st)
		fail_msg("%s", e.msg);
	assert_int_equal(ev.tee, VEIL_TEE_TDX);
	assert_int_equal(ev.generation, 1);
	assert_int_equal(ev.outblob.len, f->quote.len);
	assert_memory_equal(ev.outblob.data, f->quote.data, f->quote.len);
	assert_int_equal(ev.auxblob.len, 0);
	assert_memory_equal(k.inblob, req.report_data, VEIL_TSM_INBLOB_LEN);
	veil_tsm_evidence_free(&ev);

	/* Either TEE when none is named. */
	entry_dir(f, "tdx2", dir, sizeof dir);
	kernel_start(&k, dir, "tdx_guest\n", 9, 1, &f->quote, NULL);
	req.want = VEIL_TEE_UNKNOWN;
	st = veil_tsm_exchange(dir, &req, &ev, &e);
	kernel_join(&k);
	assert_int_equal(st, VEIL_OK);
	assert_int_equal(ev.tee, VEIL_TEE_TDX);
	veil_tsm_evidence_free(&ev);
}

/* privlevel is written first, and counts as a write. */
static void test_tsm_privlevel(void **state)
{
	fx *f = *state;
	char dir[4096];
	entry_dir(f, "priv", dir, sizeof dir);
	kernel k;
	kernel_start(&k, dir, "sev_guest\n", 7, 2, &f->report, NULL);
	veil_tsm_request req = {.want = VEIL_TEE_SEV_SNP, .set_privlevel = true, .privlevel = 2};
	veil_tsm_evidence ev;
	veil_err e = {0};
	veil_status st = veil_tsm_exchange(dir, &req, &ev, &e);
	kernel_join(&k);
	if (st)
		fail_msg("%s", e.msg);
	assert_int_equal(ev.generation, 9);
	veil_buf pl = {0};
	get_file(dir, "privlevel", &pl);
	assert_int_equal(pl.len, 2);
	assert_memory_equal(pl.data, "2\n", 2);
	veil_buf_free(&pl);
	veil_tsm_evidence_free(&ev);

	req.privlevel = 4;
	assert_int_equal(veil_tsm_exchange(dir, &req, &ev, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "privlevel 4"));
}

/* Another writer between ours and our read moves generation by more than
 * our one write; a generation that did not move at all is no kernel's. */
static void test_tsm_generation_moved(void **state)
{
	fx *f = *state;
	char dir[4096];
	entry_dir(f, "raced", dir, sizeof dir);
	kernel k;
	kernel_start(&k, dir, "sev_guest\n", 3, 2, &f->report, &f->table);
	veil_tsm_request req = {.want = VEIL_TEE_SEV_SNP};
	veil_tsm_evidence ev;
	memset(&ev, 0xa5, sizeof ev);
	veil_err e = {0};
	veil_status st = veil_tsm_exchange(dir, &req, &ev, &e);
	kernel_join(&k);
	assert_int_equal(st, VEIL_E_BUSY);
	assert_non_null(strstr(e.msg, "from 3 to 5"));
	assert_non_null(strstr(e.msg, "raced"));
	assert_null(ev.outblob.data);
	assert_int_equal(ev.tee, VEIL_TEE_UNKNOWN);

	entry_dir(f, "still", dir, sizeof dir);
	fake_entry(dir, "sev_guest\n", 3, &f->report, NULL);
	assert_int_equal(veil_tsm_exchange(dir, &req, &ev, &e), VEIL_E_BUSY);
	assert_non_null(strstr(e.msg, "from 3 to 3"));
}

/* A provider other than the one asked for, or one veil does not read, is
 * refused before anything is written to inblob. */
static void test_tsm_wrong_provider(void **state)
{
	fx *f = *state;
	static const struct {
		const char *provider;
		veil_tee want;
		const char *what;
	} rows[] = {
	        {"tdx_guest\n", VEIL_TEE_SEV_SNP, "tdx evidence, sev-snp was asked for"},
	        {"sev_guest\n", VEIL_TEE_TDX, "sev-snp evidence, tdx was asked for"},
	        {"arm_cca_guest\n", VEIL_TEE_UNKNOWN, "\"arm_cca_guest\""},
	        {"sev_guest\nx\n", VEIL_TEE_UNKNOWN, "one line"},
	        {"\n", VEIL_TEE_UNKNOWN, "empty"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char dir[4096], name[16];
		veil_err e = {0};
		assert_int_equal(veil_fmt(name, sizeof name, &e, "p%zu", i), VEIL_OK);
		entry_dir(f, name, dir, sizeof dir);
		fake_entry(dir, rows[i].provider, 1, &f->report, NULL);
		veil_tsm_request req = {.want = rows[i].want};
		memset(req.report_data, 1, sizeof req.report_data);
		veil_tsm_evidence ev;
		veil_status st = veil_tsm_exchange(dir, &req, &ev, &e);
		assert_int_not_equal(st, VEIL_OK);
		if (!strstr(e.msg, rows[i].what))
			fail_msg("row %zu: \"%s\" does not say \"%s\"", i, e.msg, rows[i].what);
		veil_buf in = {0};
		get_file(dir, "inblob", &in);
		assert_int_equal(in.len, 0);
		veil_buf_free(&in);
	}
	veil_tsm_request req = {.want = VEIL_TEE_SIM};
	veil_tsm_evidence ev;
	veil_err e = {0};
	assert_int_equal(veil_tsm_exchange(f->dir, &req, &ev, &e), VEIL_E_INVALID);
}

/* Blobs over their bounds, missing attributes, a generation that is not a number. */
static void test_tsm_bad_entries(void **state)
{
	fx *f = *state;
	veil_err e = {0};
	veil_buf big = {0};
	assert_int_equal(veil_buf_reserve(&big, VEIL_TSM_AUXBLOB_MAX + 1, &e), VEIL_OK);
	memset(big.data, 0x42, VEIL_TSM_AUXBLOB_MAX + 1);
	veil_tsm_request req = {.want = VEIL_TEE_SEV_SNP};
	veil_tsm_evidence ev;
	char dir[4096];

	big.len = VEIL_TSM_OUTBLOB_MAX + 1;
	entry_dir(f, "bigout", dir, sizeof dir);
	fake_entry(dir, "sev_guest\n", 1, &big, NULL);
	assert_int_equal(veil_tsm_exchange(dir, &req, &ev, &e), VEIL_E_LIMIT);
	assert_non_null(strstr(e.msg, "outblob is over 32768 bytes"));

	big.len = VEIL_TSM_AUXBLOB_MAX + 1;
	entry_dir(f, "bigaux", dir, sizeof dir);
	fake_entry(dir, "sev_guest\n", 1, &f->report, &big);
	assert_int_equal(veil_tsm_exchange(dir, &req, &ev, &e), VEIL_E_LIMIT);
	assert_non_null(strstr(e.msg, "auxblob"));

	entry_dir(f, "noout", dir, sizeof dir);
	fake_entry(dir, "sev_guest\n", 1, NULL, NULL);
	assert_int_equal(veil_tsm_exchange(dir, &req, &ev, &e), VEIL_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "outblob"));

	big.len = 0;
	entry_dir(f, "emptyout", dir, sizeof dir);
	fake_entry(dir, "sev_guest\n", 1, &big, NULL);
	assert_int_equal(veil_tsm_exchange(dir, &req, &ev, &e), VEIL_E_IO);
	assert_non_null(strstr(e.msg, "empty"));

	entry_dir(f, "badgen", dir, sizeof dir);
	fake_entry(dir, "sev_guest\n", 1, &f->report, NULL);
	put_file(dir, "generation", "12a\n", 4);
	assert_int_equal(veil_tsm_exchange(dir, &req, &ev, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "not a number"));
	put_file(dir, "generation", "99999999999999999999\n", 21);
	assert_int_equal(veil_tsm_exchange(dir, &req, &ev, &e), VEIL_E_INVALID);

	entry_dir(f, "nothing-here", dir, sizeof dir);
	assert_int_equal(veil_tsm_exchange(dir, &req, &ev, &e), VEIL_E_NOTFOUND);
	assert_int_equal(veil_tsm_exchange(NULL, &req, &ev, &e), VEIL_E_INVALID);
	veil_buf_free(&big);
}

/* A root without configfs-tsm says what is needed; a root where entries
 * can be made but are no kernel's fails, and the entry is removed. */
static void test_tsm_report_root(void **state)
{
	fx *f = *state;
	veil_tsm_request req = {.want = VEIL_TEE_SEV_SNP};
	veil_tsm_evidence ev;
	veil_err e = {0};
	char path[4096];
	path_of(f->dir, "no-such-root", path, sizeof path);
	assert_int_equal(veil_tsm_report(path, &req, &ev, &e), VEIL_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "configfs-tsm"));
	assert_non_null(strstr(e.hint, "needs Linux ≥ 6.7 in a confidential VM"));
	assert_non_null(strstr(e.hint, "--tee sim"));

	put_file(f->dir, "a-file", "x", 1);
	path_of(f->dir, "a-file", path, sizeof path);
	assert_int_equal(veil_tsm_report(path, &req, &ev, &e), VEIL_E_UNSUPPORTED);

	path_of(f->dir, "root", path, sizeof path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(veil_tsm_report(path, &req, &ev, &e), VEIL_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "/veil-"));
	assert_non_null(strstr(e.msg, "generation"));
	assert_int_equal(rmdir(path), 0); /* empty again: the entry went */
}

/* /dev/sev-guest absent, or a path that is something else: a clear error,
 * never a crash, and the output zeroed. */
static void test_sev_guest_not_there(void **state)
{
	fx *f = *state;
	uint8_t rd[VEIL_SNP_REPORT_DATA_LEN] = {1, 2, 3};
	uint8_t *out = malloc(VEIL_SNP_REPORT_LEN);
	uint8_t zero[VEIL_SNP_REPORT_LEN] = {0};
	char path[4096];
	veil_err e = {0};
	assert_non_null(out);

	path_of(f->dir, "sev-guest", path, sizeof path);
	memset(out, 0xa5, VEIL_SNP_REPORT_LEN);
	assert_int_equal(veil_sev_guest_report(path, rd, 0, out, &e), VEIL_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "does not exist"));
	assert_non_null(strstr(e.hint, "sev-guest"));
	assert_memory_equal(out, zero, VEIL_SNP_REPORT_LEN);

	put_file(f->dir, "sev-guest", "not a device", 12);
	memset(out, 0xa5, VEIL_SNP_REPORT_LEN);
	assert_int_equal(veil_sev_guest_report(path, rd, 0, out, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "not a character device"));
	assert_memory_equal(out, zero, VEIL_SNP_REPORT_LEN);

	assert_int_equal(veil_sev_guest_report(f->dir, rd, 0, out, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "folder"));

	/* A character device that is another driver's. */
	memset(out, 0xa5, VEIL_SNP_REPORT_LEN);
	assert_int_equal(veil_sev_guest_report("/dev/null", rd, 0, out, &e), VEIL_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "not the sev-guest device"));
	assert_memory_equal(out, zero, VEIL_SNP_REPORT_LEN);

	assert_int_equal(veil_sev_guest_report(path, rd, 4, out, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "VMPL 4"));

	/* The real device, where this machine has none, is simply absent. */
	if (access(VEIL_SEV_GUEST_DEFAULT, F_OK) != 0)
		assert_int_equal(veil_sev_guest_report(NULL, rd, 0, out, &e), VEIL_E_NOTFOUND);
	free(out);
}

/* The table around the real VCEK and chain: entries in order, kinds from the
 * GUIDs' text, certificates where the offsets say; unknown GUIDs kept. */
static void test_certtable_real(void **state)
{
	fx *f = *state;
	veil_snp_certtable t;
	veil_err e = {0};
	assert_int_equal(veil_snp_certtable_parse(f->table.data, f->table.len, &t, &e), VEIL_OK);
	assert_int_equal(t.n, 3);
	static const veil_snp_cert_kind kinds[] = {VEIL_SNP_CERT_VCEK, VEIL_SNP_CERT_ASK, VEIL_SNP_CERT_ARK};
	const veil_buf *certs[] = {&f->vcek, &f->ask, &f->ark};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(t.entry[i].kind, kinds[i]);
		assert_int_equal(t.entry[i].len, certs[i]->len);
		assert_memory_equal(t.entry[i].der, certs[i]->data, certs[i]->len);
		assert_ptr_equal(veil_snp_certtable_find(&t, kinds[i]), &t.entry[i]);
	}
	assert_null(veil_snp_certtable_find(&t, VEIL_SNP_CERT_VLEK));
	assert_null(veil_snp_certtable_find(&t, VEIL_SNP_CERT_OTHER));
	assert_string_equal(veil_snp_cert_kind_name(VEIL_SNP_CERT_ASK), "ASK");

	/* VLEK and an unknown GUID (go-sev-guest's extra platform info). */
	veil_buf tbl = {0};
	const tentry t2[] = {{"ecae0c0f-9502-43b1-afa2-0ae2e0d565b6", &f->ark},
	                     {GUID_VLEK, &f->vcek},
	                     {GUID_ASK, &f->ask},
	                     {GUID_ARK, &f->ark}};
	build_table(t2, 4, &tbl);
	assert_int_equal(veil_snp_certtable_parse(tbl.data, tbl.len, &t, &e), VEIL_OK);
	assert_int_equal(t.n, 4);
	assert_int_equal(t.entry[0].kind, VEIL_SNP_CERT_OTHER);
	assert_int_equal(t.entry[1].kind, VEIL_SNP_CERT_VLEK);
	veil_buf pem = {0};
	assert_int_equal(veil_snp_certtable_chain_pem(&t, &pem, &e), VEIL_OK);
	assert_non_null(strstr((const char *)pem.data, "-----BEGIN CERTIFICATE-----"));
	veil_buf_free(&pem);
	veil_buf_free(&tbl);

	/* A host with no certificates: nothing, which is no table error. */
	assert_int_equal(veil_snp_certtable_parse(NULL, 0, &t, &e), VEIL_OK);
	assert_int_equal(t.n, 0);
	assert_int_equal(veil_snp_certtable_chain_pem(&t, &pem, &e), VEIL_E_NOTFOUND);
}

/* Each kind of broken table. */
static void test_certtable_refusals(void **state)
{
	fx *f = *state;
	veil_snp_certtable t;
	veil_err e = {0};
	veil_buf b = {0};
	const size_t table_end = 4 * VEIL_SNP_CERTTABLE_ENTRY_LEN;
	static const struct {
		const char *what;
		size_t at;  /* byte offset to patch */
		uint32_t v; /* little-endian u32 there */
		veil_status want;
		const char *says;
	} rows[] = {
	        {"offset inside the table", 16, 24, VEIL_E_INVALID, "table's end"},
	        {"offset past the end", 16, 0x7fffffff, VEIL_E_INVALID, "blob's"},
	        {"length past the end", 20, 0xffffffff, VEIL_E_INVALID, "blob's"},
	        {"zero length", 24 + 20, 0, VEIL_E_INVALID, "empty"},
	        {"zero GUID", 48, 0, VEIL_E_INVALID, "zero GUID"},
	        {"ARK as a second VCEK", 48, 0x8d75da63, VEIL_E_INVALID, "two VCEK"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		veil_buf_free(&b);
		assert_int_equal(veil_buf_append(&b, f->table.data, f->table.len, &e), VEIL_OK);
		if (rows[i].at == 48) /* the whole GUID of entry 2: zero it, then set its first word */
			memset(b.data + 48, 0, VEIL_SNP_GUID_LEN);
		if (rows[i].at == 48 && rows[i].v)
			memcpy(b.data + 48, b.data, VEIL_SNP_GUID_LEN);
		else
			put_le32(b.data + rows[i].at, rows[i].v);
		memset(&t, 0xa5, sizeof t);
		veil_status st = veil_snp_certtable_parse(b.data, b.len, &t, &e);
		if (st != rows[i].want || !strstr(e.msg, rows[i].says))
			fail_msg("%s: %d \"%s\"", rows[i].what, st, e.msg);
		assert_int_equal(t.n, 0);
	}
	assert_true(f->table.len > table_end);

	/* No terminator: the table runs to the end of the blob. */
	assert_int_equal(veil_snp_certtable_parse(f->table.data, 3 * VEIL_SNP_CERTTABLE_ENTRY_LEN, &t, &e),
	                 VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "all-zero"));
	assert_int_equal(veil_snp_certtable_parse(f->table.data, 5, &t, &e), VEIL_E_INVALID);
	/* Too many entries, and too many bytes. */
	tentry many[VEIL_SNP_CERTTABLE_ENTRIES_MAX + 1];
	for (size_t i = 0; i < sizeof many / sizeof many[0]; i++)
		many[i] = (tentry){"00000000-0000-0000-0000-0000000000ff", &f->ark};
	build_table(many, VEIL_SNP_CERTTABLE_ENTRIES_MAX, &b);
	assert_int_equal(veil_snp_certtable_parse(b.data, b.len, &t, &e), VEIL_OK);
	assert_int_equal(t.n, VEIL_SNP_CERTTABLE_ENTRIES_MAX);
	build_table(many, VEIL_SNP_CERTTABLE_ENTRIES_MAX + 1, &b);
	assert_int_equal(veil_snp_certtable_parse(b.data, b.len, &t, &e), VEIL_E_LIMIT);
	assert_int_equal(veil_snp_certtable_parse(b.data, VEIL_SNP_CERTTABLE_MAX + 1, &t, &e), VEIL_E_LIMIT);
	assert_int_equal(veil_snp_certtable_parse(NULL, 24, &t, &e), VEIL_E_INVALID);

	/* An ASK entry that is not one DER certificate: the table parses, the chain does not. */
	veil_buf junk = {0};
	assert_int_equal(veil_buf_append(&junk, f->ask.data, f->ask.len - 1, &e), VEIL_OK);
	const tentry t3[] = {{GUID_ASK, &junk}, {GUID_ARK, &f->ark}};
	build_table(t3, 2, &b);
	assert_int_equal(veil_snp_certtable_parse(b.data, b.len, &t, &e), VEIL_OK);
	veil_buf pem = {0};
	assert_int_equal(veil_snp_certtable_chain_pem(&t, &pem, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "ASK is not one DER certificate"));
	assert_int_equal(pem.len, 0);
	const tentry t4[] = {{GUID_VCEK, &f->vcek}, {GUID_ARK, &f->ark}};
	build_table(t4, 2, &b);
	assert_int_equal(veil_snp_certtable_parse(b.data, b.len, &t, &e), VEIL_OK);
	assert_int_equal(veil_snp_certtable_chain_pem(&t, &pem, &e), VEIL_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "no ASK"));
	veil_buf_free(&junk);
	veil_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_tsm_snp, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tsm_tdx, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tsm_privlevel, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tsm_generation_moved, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tsm_wrong_provider, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tsm_bad_entries, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tsm_report_root, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_sev_guest_not_there, setup, teardown),
	        cmocka_unit_test(test_certtable_real),
	        cmocka_unit_test(test_certtable_refusals),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
