/*
 * Passphrases and PINs from the user. Order: an environment variable (for
 * automation), a file named by another variable (for secrets managers),
 * then a terminal prompt with echo off. Secrets live in secure memory and
 * are wiped when freed; they are never echoed or logged.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define SECRET_MAX 1024

static veil_status from_file(const char *path, char *out, size_t *len, veil_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open the secret file %s", path);
	size_t n = 0;
	veil_status st = veil_read_full(veil_fd_read, &fd, (uint8_t *)out, SECRET_MAX, &n, err);
	close(fd);
	if (st)
		return st;
	if (n == SECRET_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "the secret file %s is longer than %d bytes", path,
		                    SECRET_MAX - 1);
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		n--; /* a trailing newline is an editor's, not the secret's */
	out[n] = '\0';
	*len = n;
	return VEIL_OK;
}

static veil_status prompt(const char *text, char *out, size_t *len, veil_err *err)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		veil_err_set(err, VEIL_E_AUTH, "no terminal to ask for the %s", text);
		veil_err_hint(err, "set VEIL_PASSPHRASE (or VEIL_PASSPHRASE_FILE), or run it on a terminal");
		return VEIL_E_AUTH;
	}
	struct termios old, quiet;
	bool tty = tcgetattr(fd, &old) == 0;
	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	dprintf(fd, "%s: ", text);
	size_t n = 0;
	veil_status st = VEIL_OK;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n + 1 >= SECRET_MAX) {
			st = veil_err_set(err, VEIL_E_LIMIT, "the %s is longer than %d bytes", text,
			                  SECRET_MAX - 1);
			break;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	if (tty)
		tcsetattr(fd, TCSAFLUSH, &old);
	dprintf(fd, "\n");
	close(fd);
	*len = n;
	return st;
}

veil_status cli_read_secret(const char *what, const char *env, const char *env_file, bool confirm, char **out,
                            size_t *len, veil_err *err)
{
	char *s = veil_secure_alloc(SECRET_MAX);
	if (!s)
		return veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory for the %s", what);
	veil_status st = VEIL_OK;
	const char *v = getenv(env);
	const char *file = getenv(env_file);
	if (v) {
		size_t n = strlen(v);
		if (n >= SECRET_MAX)
			st = veil_err_set(err, VEIL_E_LIMIT, "%s is longer than %d bytes", env,
			                  SECRET_MAX - 1);
		else {
			memcpy(s, v, n + 1);
			*len = n;
			/* No copy stays in the environment, where a child process or a
			 * loaded module could read it. */
			veil_wipe((void *)v, n);
			unsetenv(env);
		}
	} else if (file) {
		st = from_file(file, s, len, err);
	} else {
		st = prompt(what, s, len, err);
		if (!st && confirm) {
			char *again = veil_secure_alloc(SECRET_MAX);
			size_t n2 = 0;
			char text[96];
			snprintf(text, sizeof text, "repeat the %s", what);
			st = again ? prompt(text, again, &n2, err)
			           : veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
			if (!st && (n2 != *len || !veil_ct_equal(again, s, n2)))
				st = veil_err_set(err, VEIL_E_AUTH, "the two %ss do not match", what);
			veil_secure_free(again, SECRET_MAX);
		}
	}
	if (st) {
		veil_secure_free(s, SECRET_MAX);
		return st;
	}
	*out = s;
	return VEIL_OK;
}

char *cli_secret_alloc(void)
{
	return veil_secure_alloc(SECRET_MAX);
}

void cli_secret_free(char *s)
{
	veil_secure_free(s, SECRET_MAX);
}
