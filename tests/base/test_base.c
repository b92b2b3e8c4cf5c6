/* Unit tests for the base layer: errors, buffers, hex, atomic files, time,
 * durations, names and the YAML config reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "veil/base.h"

static void test_status_names(void **state)
{
	(void)state;
	for (int s = VEIL_OK; s <= VEIL_E_INTERNAL; s++)
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

	static const struct { const char *in; int64_t want; veil_status st; } rows[] = {
		{"30d", 30 * 86400, VEIL_OK}, {"12h", 12 * 3600, VEIL_OK}, {"90m", 5400, VEIL_OK},
		{"45s", 45, VEIL_OK},         {"2w", 14 * 86400, VEIL_OK}, {"0d", 0, VEIL_E_INVALID},
		{"-1d", 0, VEIL_E_INVALID},   {"30", 0, VEIL_E_INVALID},   {"d", 0, VEIL_E_INVALID},
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_names), cmocka_unit_test(test_hex),  cmocka_unit_test(test_buf),
		cmocka_unit_test(test_atomic),       cmocka_unit_test(test_time), cmocka_unit_test(test_names),
		cmocka_unit_test(test_yaml),
	};
	return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
