/* Unit tests for the base layer: errors, buffers, hex, atomic files (named
 * and unnamed, abort, kill), time, durations, names and the YAML config reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "veil/base.h"
#include "veil/yaml_read.h"

static void test_status_names(void **state)
{
	(void)state;
	for (int s = VEIL_OK; s <= VEIL_E_DIVERGED; s++)
		assert_string_not_equal(veil_status_str((veil_status)s), "unknown");
	veil_err e;
	assert_int_equal(veil_err_errno(&e, VEIL_E_IO, 28 /* ENOSPC */, "write x"), VEIL_E_NOSPACE);
	assert_non_null(strstr(e.msg, "write x: "));
	assert_true(e.hint[0] != '\0');
	veil_err_set(&e, VEIL_E_CORRUPT, "chunk %d", 3);
	veil_err_wrap(&e, "object %s", "ab");
	assert_string_equal(e.msg, "object ab: chunk 3");
}

static void test_hex(void **state)
{
	(void)state;
	uint8_t in[4] = {0x00, 0xab, 0x10, 0xff}, out[4];
	char hex[9];
	veil_hex_encode(in, 4, hex);
	assert_string_equal(hex, "00ab10ff");
	assert_int_equal(veil_hex_decode("00AB10ff", out, 4, NULL), VEIL_OK);
	assert_memory_equal(in, out, 4);
	assert_int_equal(veil_hex_decode("00ab10f", out, 4, NULL), VEIL_E_INVALID);
	assert_int_equal(veil_hex_decode("00ab10fg", out, 4, NULL), VEIL_E_INVALID);
}

static void test_buf(void **state)
{
	(void)state;
	veil_buf b = {0};
	for (int i = 0; i < 1000; i++)
		assert_int_equal(veil_buf_printf(&b, NULL, "%d,", i), VEIL_OK);
	assert_true(b.len > 2000);
	assert_int_equal(memcmp(b.data, "0,1,2,", 6), 0);
	veil_buf_free(&b);
	char small[4];
	assert_int_equal(veil_fmt(small, sizeof small, NULL, "%s", "abcd"), VEIL_E_LIMIT);
	assert_int_equal(veil_fmt(small, sizeof small, NULL, "%s", "abc"), VEIL_OK);
}

static void test_atomic(void **state)
{
	(void)state;
	char dir[] = "/tmp/veil-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/f", dir);
	assert_int_equal(veil_fs_write_atomic(path, "one", 3, 0600, NULL), VEIL_OK);
	assert_int_equal(veil_fs_write_atomic(path, "two!", 4, 0600, NULL), VEIL_OK);
	veil_buf b = {0};
	assert_int_equal(veil_fs_read_file(path, 100, &b, NULL), VEIL_OK);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "two!", 4);
	veil_buf_free(&b);
	assert_int_equal(veil_fs_read_file(path, 3, &b, NULL), VEIL_E_LIMIT);
	veil_buf_free(&b);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* exclusive create refuses to overwrite */
	assert_int_equal(veil_fs_write_new(path, "x", 1, 0600, NULL), VEIL_E_EXISTS);
	/* an aborted atomic write leaves the old file and no temp file */
	veil_atomic_file f;
	assert_int_equal(veil_atomic_open(&f, path, 0600, NULL), VEIL_OK);
	assert_int_equal(veil_atomic_write(&f, "partial", 7, NULL), VEIL_OK);
	veil_atomic_abort(&f);
	assert_int_equal(veil_fs_read_file(path, 100, &b, NULL), VEIL_OK);
	assert_memory_equal(b.data, "two!", 4);
	veil_buf_free(&b);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "%s/a/b/c", dir);
	assert_int_equal(veil_fs_mkdirs(cmd, 0700, NULL), VEIL_OK);
	assert_true(veil_fs_is_dir(cmd));
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Entries in dir other than "." and "..": a temp file with a name shows up here. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Whether dir's filesystem gives unnamed temp files (it does on this machine's /tmp). */
static bool tmpfile_works(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void assert_file(const char *path, const char *want, unsigned mode)
{
	veil_buf b = {0};
	assert_int_equal(veil_fs_read_file(path, 1 << 20, &b, NULL), VEIL_OK);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	veil_buf_free(&b);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, mode);
}

/* While being written, an atomic file has no name in the folder; commit gives
 * it its final name and exact mode, replacing the old file; abort and a failed
 * commit leave nothing behind. */
static void test_atomic_unnamed(void **state)
{
	(void)state;
	char dir[] = "/tmp/veil-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	bool unnamed = tmpfile_works(dir);
	char path[256], other[256], cmd[300];
	snprintf(path, sizeof path, "%s/f", dir);
	assert_int_equal(veil_fs_write_atomic(path, "old", 3, 0600, NULL), VEIL_OK);
	assert_int_equal(count_entries(dir), 1);

	mode_t old_mask = umask(077);
	veil_atomic_file f;
	assert_int_equal(veil_atomic_open(&f, path, 0640, NULL), VEIL_OK);
	assert_int_equal(veil_atomic_write(&f, "new data", 8, NULL), VEIL_OK);
	if (unnamed) {
		assert_true(f.unnamed);
		assert_int_equal(count_entries(dir), 1);
	}
	assert_file(path, "old", 0600);
	assert_int_equal(veil_atomic_commit(&f, NULL), VEIL_OK);
	umask(old_mask);
	assert_int_equal(f.fd, -1);
	assert_int_equal(count_entries(dir), 1);
	assert_file(path, "new data", 0640);

	/* a new file, where none was */
	snprintf(other, sizeof other, "%s/g", dir);
	assert_int_equal(veil_atomic_open(&f, other, 0600, NULL), VEIL_OK);
	assert_int_equal(veil_atomic_write(&f, "g", 1, NULL), VEIL_OK);
	assert_int_equal(count_entries(dir), unnamed ? 1 : 2);
	assert_int_equal(veil_atomic_commit(&f, NULL), VEIL_OK);
	assert_int_equal(count_entries(dir), 2);
	assert_file(other, "g", 0600);

	/* abort leaves nothing, and is harmless twice or without open */
	snprintf(other, sizeof other, "%s/h", dir);
	assert_int_equal(veil_atomic_open(&f, other, 0600, NULL), VEIL_OK);
	assert_int_equal(veil_atomic_write(&f, "secret", 6, NULL), VEIL_OK);
	veil_atomic_abort(&f);
	veil_atomic_abort(&f);
	assert_false(veil_fs_exists(other));
	assert_int_equal(count_entries(dir), 2);
	veil_atomic_file never = {.fd = -1};
	veil_atomic_abort(&never);

	/* a commit that cannot rename (a folder is in the way) fails and leaves
	 * neither the temp name nor a changed folder */
	snprintf(other, sizeof other, "%s/d", dir);
	assert_int_equal(veil_fs_mkdirs(other, 0700, NULL), VEIL_OK);
	snprintf(cmd, sizeof cmd, "%s/d/x", dir);
	assert_int_equal(veil_fs_write_atomic(cmd, "x", 1, 0600, NULL), VEIL_OK);
	veil_err e;
	assert_int_equal(veil_atomic_open(&f, other, 0600, &e), VEIL_OK);
	assert_int_equal(veil_atomic_write(&f, "y", 1, NULL), VEIL_OK);
	assert_int_not_equal(veil_atomic_commit(&f, &e), VEIL_OK);
	assert_non_null(strstr(e.msg, "into place"));
	assert_int_equal(f.fd, -1);
	assert_int_equal(count_entries(dir), 3);
	assert_true(veil_fs_is_dir(other));
	assert_int_equal(veil_atomic_commit(&f, NULL), VEIL_E_INTERNAL);

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* A process SIGKILLed in the middle of an atomic write leaves no file, and so
 * no plaintext, in the folder. */
static void test_atomic_killed(void **state)
{
	(void)state;
	char dir[] = "/tmp/veil-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	if (!tmpfile_works(dir)) {
		rmdir(dir);
		skip();
	}
	char path[256];
	snprintf(path, sizeof path, "%s/plain.csv", dir);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		veil_atomic_file f;
		static const char row[] = "name,diagnosis\nalice,flu\n";
		if (veil_atomic_open(&f, path, 0600, NULL) != VEIL_OK)
			_exit(1);
		for (int i = 0; i < 1000; i++)
			if (veil_atomic_write(&f, row, sizeof row - 1, NULL) != VEIL_OK)
				_exit(2);
		kill(getpid(), SIGKILL);
		_exit(3);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(count_entries(dir), 0);
	assert_false(veil_fs_exists(path));
	assert_int_equal(rmdir(dir), 0);
}

/* Dates and times that exist parse to the right second; ones that do not,
 * and other spellings, are refused rather than normalised. */
static void test_time_dates(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int64_t want;
	} good[] = {
	        {"1970-01-01T00:00:00Z", 0},
	        {"1969-12-31T23:59:59Z", -1},
	        {"2024-02-29", 1709164800},
	        {"2024-02-29T23:59:59Z", 1709251199},
	        {"2000-02-29", 951782400},
	        {"2026-12-31T23:59:59Z", 1798761599},
	        {"2026-11-22T13:49:21Z", 1795355361},
	        {"9999-12-31T23:59:59Z", 253402300799},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		int64_t t = 42;
		assert_int_equal(veil_time_parse(good[i].in, &t, NULL), VEIL_OK);
		assert_int_equal(t, good[i].want);
	}
	static const char *const bad[] = {
	        "2026-02-31",
	        "2026-13-01",
	        "2026-11-22T25:00:00Z",
	        "2026-02-29",
	        "1900-02-29",
	        "2026-04-31",
	        "2026-00-10",
	        "2026-11-00",
	        "2026-11-22T24:00:00Z",
	        "2026-11-22T23:60:00Z",
	        "2026-11-22T23:59:60Z",
	        "2026-02-29T12:00:00Z",
	        "2026-1-5",
	        "2026-11-22T13:49:21",
	        " 2026-11-22",
	        "2026-11-22 ",
	        "2026-11- 2",
	        "2026-11-22T13:49:21Z ",
	        "",
	        "yesterday",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t t = 42;
		veil_err e;
		assert_int_equal(veil_time_parse(bad[i], &t, &e), VEIL_E_INVALID);
		assert_int_equal(t, 42);
		assert_non_null(strstr(e.msg, "is not a time"));
		assert_true(e.hint[0] != '\0');
	}
	/* what veil_time_format writes always parses back */
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char s[VEIL_TIME_STR_MAX];
		int64_t t = 0;
		veil_time_format(good[i].want, s);
		assert_int_equal(veil_time_parse(s, &t, NULL), VEIL_OK);
		assert_int_equal(t, good[i].want);
	}
}

static void test_time(void **state)
{
	(void)state;
	char s[VEIL_TIME_STR_MAX];
	veil_time_format(0, s);
	assert_string_equal(s, "1970-01-01T00:00:00Z");
	int64_t t;
	assert_int_equal(veil_time_parse("2026-11-22T13:49:21Z", &t, NULL), VEIL_OK);
	veil_time_format(t, s);
	assert_string_equal(s, "2026-11-22T13:49:21Z");
	assert_int_equal(veil_time_parse("2026-11-22", &t, NULL), VEIL_OK);
	assert_int_equal(t % 86400, 0);
	assert_int_equal(veil_time_parse("yesterday", &t, NULL), VEIL_E_INVALID);

	static const struct {
		const char *in;
		int64_t want;
		veil_status st;
	} rows[] = {
	        {"30d", 30 * 86400, VEIL_OK},  {"12h", 12 * 3600, VEIL_OK},         {"90m", 5400, VEIL_OK},
	        {"45s", 45, VEIL_OK},          {"2w", 14 * 86400, VEIL_OK},         {"0d", 0, VEIL_E_INVALID},
	        {"-1d", 0, VEIL_E_INVALID},    {"30", 0, VEIL_E_INVALID},           {"d", 0, VEIL_E_INVALID},
	        {"30days", 0, VEIL_E_INVALID}, {"99999999999d", 0, VEIL_E_INVALID},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int64_t d = 0;
		assert_int_equal(veil_duration_parse(rows[i].in, &d, NULL), rows[i].st);
		if (rows[i].st == VEIL_OK)
			assert_int_equal(d, rows[i].want);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(veil_name_check("patients-2026.v1_a", "name", NULL), VEIL_OK);
	assert_int_equal(veil_name_check("", "name", NULL), VEIL_E_INVALID);
	assert_int_equal(veil_name_check("-x", "name", NULL), VEIL_E_INVALID);
	assert_int_equal(veil_name_check("a/b", "name", NULL), VEIL_E_INVALID);
	assert_int_equal(veil_name_check("a b", "name", NULL), VEIL_E_INVALID);
	char big[80];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	assert_int_equal(veil_name_check(big, "name", NULL), VEIL_E_INVALID);
}

static void test_yaml(void **state)
{
	(void)state;
	const char *doc = "key_rotation: 30d\nroot:\n  provider: file\n  kdf_log_n: 17\nlifecycle:\n"
	                  "  keep_versions: 3\n";
	veil_yaml_map m;
	assert_int_equal(veil_yaml_parse_map(doc, strlen(doc), "t", &m, NULL), VEIL_OK);
	assert_string_equal(veil_yaml_get(&m, "key_rotation"), "30d");
	assert_string_equal(veil_yaml_get(&m, "root.provider"), "file");
	assert_string_equal(veil_yaml_get(&m, "lifecycle.keep_versions"), "3");
	assert_null(veil_yaml_get(&m, "root"));
	veil_yaml_free(&m);

	veil_err e;
	const char *dup = "a: 1\na: 2\n";
	assert_int_equal(veil_yaml_parse_map(dup, strlen(dup), "t", &m, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "twice"));
	const char *bad = "a: [1, 2]\n";
	assert_int_equal(veil_yaml_parse_map(bad, strlen(bad), "t", &m, &e), VEIL_E_INVALID);
	const char *syntax = "a: b: c\n";
	assert_int_equal(veil_yaml_parse_map(syntax, strlen(syntax), "t", &m, &e), VEIL_E_INVALID);
	assert_non_null(strstr(e.msg, "t:1:"));
}

/* The strict document reader (veil/yaml_read.h): what every veil YAML
 * format refuses, with its position, whatever the format. */
static veil_status read_doc(const char *text, veil_err *e)
{
	veil_yread r;
	veil_status st = veil_yread_begin(&r, text, strlen(text), "thing", e);
	/* read key/value pairs of scalars up to the mapping's end */
	while (!st) {
		if ((st = veil_yread_next(&r)))
			break;
		if (r.ev.type == YAML_MAPPING_END_EVENT) {
			st = veil_yread_end(&r);
			break;
		}
		if (r.ev.type != YAML_SCALAR_EVENT) {
			st = veil_yread_fail(&r, r.ev.start_mark, VEIL_E_INVALID,
			                     "a key must be a single value");
			break;
		}
		st = veil_yread_want(&r, YAML_SCALAR_EVENT, veil_yread_scalar(&r)[0] ? "the value" : "?",
		                     "a single value");
	}
	veil_yread_close(&r);
	return st;
}

static void test_yaml_read(void **state)
{
	(void)state;
	veil_err e;
	assert_int_equal(read_doc("a: 1\nb: two\n", &e), VEIL_OK);
	assert_int_equal(read_doc("---\na: 1\n...\n", &e), VEIL_OK);
	static const struct {
		const char *text, *msg;
	} bad[] = {
	        {"", "line 1, column 1: the thing is empty"},
	        {"- a\n- b\n", "line 1, column 1: a thing is a mapping of keys to values, not a list"},
	        {"a: 1\n---\nb: 2\n", "line 2, column 1: a thing is one YAML document"},
	        {"a: &x 1\nb: *x\n", "line 1, column 4: anchors and tags are not allowed in a thing"},
	        {"a: !!str 1\n", "line 1, column 4: anchors and tags are not allowed in a thing"},
	        {"a: [1, 2]\n", "line 1, column 4: the value must be a single value, not a list"},
	        {"a: \"x\\0y\"\n", "line 1, column 4: a value holds a NUL character"},
	        {"a: \"unclosed\n",
	         "line 2, column 1: found unexpected end of stream (while scanning a quoted scalar "
	         "at line 1, column 4)"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		veil_err_clear(&e);
		assert_int_equal(read_doc(bad[i].text, &e), VEIL_E_INVALID);
		if (strcmp(e.msg, bad[i].msg) != 0)
			fail_msg("'%s': got '%s', want '%s'", bad[i].text, e.msg, bad[i].msg);
	}
}

/* veil_yread_item: the entries of a list of names, its end, and an entry
 * of the wrong kind refused with its position. */
static veil_status read_list(const char *text, size_t *n, veil_err *e)
{
	veil_yread r;
	*n = 0;
	veil_status st = veil_yread_begin(&r, text, strlen(text), "thing", e);
	if (!st && !(st = veil_yread_want(&r, YAML_SCALAR_EVENT, "a key", "a name")))
		st = veil_yread_want(&r, YAML_SEQUENCE_START_EVENT, "names", "a list");
	for (bool end = false; !st;) {
		if ((st = veil_yread_item(&r, "names", YAML_SCALAR_EVENT, "a name", &end)) || end)
			break;
		(*n)++;
	}
	if (!st && !(st = veil_yread_next(&r)) && r.ev.type == YAML_MAPPING_END_EVENT)
		st = veil_yread_end(&r);
	veil_yread_close(&r);
	return st;
}

static void test_yaml_read_item(void **state)
{
	(void)state;
	veil_err e;
	size_t n;
	assert_int_equal(read_list("names: [a, b, c]\n", &n, &e), VEIL_OK);
	assert_int_equal(n, 3);
	assert_int_equal(read_list("names: []\n", &n, &e), VEIL_OK);
	assert_int_equal(n, 0);
	assert_int_equal(read_list("names: [a, [b]]\n", &n, &e), VEIL_E_INVALID);
	assert_int_equal(n, 1);
	assert_string_equal(e.msg, "line 1, column 12: each entry of names must be a name, not a list");
	assert_int_equal(read_list("names: [{a: 1}]\n", &n, &e), VEIL_E_INVALID);
	assert_string_equal(e.msg, "line 1, column 9: each entry of names must be a name, not a mapping");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_status_names),
	        cmocka_unit_test(test_hex),
	        cmocka_unit_test(test_buf),
	        cmocka_unit_test(test_atomic),
	        cmocka_unit_test(test_atomic_unnamed),
	        cmocka_unit_test(test_atomic_killed),
	        cmocka_unit_test(test_time),
	        cmocka_unit_test(test_time_dates),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_yaml),
	        cmocka_unit_test(test_yaml_read),
	        cmocka_unit_test(test_yaml_read_item),
	};
	return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
