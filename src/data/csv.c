/*
 * The streaming CSV reader (veil/data_csv.h, docs/formats/csv.md).
 *
 * One buffer holds the record being parsed (from `beg`) and whatever was
 * read after it. The parser is a resumable state machine over that buffer:
 * when it reaches the end of the data it returns P_MORE with its state
 * saved as offsets from `beg`, fill() moves the partial record to the front
 * (or grows the buffer, never past the row limit plus one read) and reads
 * more, and parsing resumes where it stopped. Quoted fields are unquoted in
 * place: the write position never passes the read position.
 *
 * States (a field starts in S_FIELD):
 *   S_FIELD -"-> S_Q -"-> S_QQ -"-> S_Q        (a doubled quote)
 *   S_FIELD -other-> S_UNQ                     S_QQ -other-> S_AFTER
 *   S_UNQ / S_AFTER -delimiter-> S_FIELD,  -LF-> record done,  -CR-> S_CR -LF-> record done
 */
#include "veil/crypto.h"
#include "veil/data_csv.h"

#include <stdlib.h>
#include <string.h>

#define READ_CHUNK ((size_t)64 << 10)

enum { S_FIELD, S_UNQ, S_Q, S_QQ, S_AFTER, S_CR };
enum { P_DONE, P_MORE, P_END, P_ERR, P_CONT }; /* P_CONT: go on in the new state */

typedef struct fld {
	size_t off, len; /* from beg */
	uint64_t line, col;
	bool quoted;
} fld;

struct veil_csv_reader {
	veil_read_fn rd;
	void *ctx;
	size_t max_field, max_row, max_cols;
	uint8_t delim;
	uint8_t cls_unq[256]; /* non-zero: a byte that ends the unquoted fast path */
	uint8_t cls_q[256];   /* the same inside quotes */

	uint8_t *buf;
	size_t cap, beg, end; /* the record starts at beg; data ends at end */
	uint64_t buf_off;     /* stream offset of buf[0] */
	bool eof;
	bool capped; /* the data parse() sees stops at the row barrier, not at the end of what was read */

	/* parser state, offsets from beg */
	int state;
	size_t pos, fstart, fw;
	uint64_t line, line_start; /* current physical line and the stream offset of its first byte */
	uint64_t rec_line;
	uint64_t qline, qcol; /* the opening quote of the current quoted field */
	fld *f;
	size_t nf, fcap;
	veil_csv_field *out;

	/* the header */
	char *names_buf;
	veil_csv_field *names;
	size_t ncols;
	bool have_header;

	uint64_t records;
	bool done;
	veil_status fail;
	veil_err ferr;
};

/* ---- errors ---- */

static uint64_t col_at(const veil_csv_reader *r, size_t i)
{
	return r->buf_off + r->beg + i - r->line_start + 1;
}

static int perr(veil_csv_reader *r, veil_status code, uint64_t line, uint64_t col, const char *what)
{
	veil_err_set(&r->ferr, code, "line %llu, column %llu: %s", (unsigned long long)line,
	             (unsigned long long)col, what);
	r->fail = code;
	return P_ERR;
}

static int perr_here(veil_csv_reader *r, veil_status code, size_t i, const char *what)
{
	return perr(r, code, r->line, col_at(r, i), what);
}

/* ---- the parser ---- */

static int field_start(veil_csv_reader *r, size_t i)
{
	if (r->have_header && r->nf == r->ncols) {
		perr_here(r, VEIL_E_INVALID, i, "more fields than the header has");
		veil_err_hint(&r->ferr, "the header has %zu columns; a delimiter inside a value needs quotes",
		              r->ncols);
		return P_ERR;
	}
	if (r->nf == r->max_cols) {
		perr_here(r, VEIL_E_LIMIT, i, "too many columns");
		veil_err_hint(&r->ferr, "at most %zu columns are read", r->max_cols);
		return P_ERR;
	}
	if (r->nf == r->fcap) {
		size_t ncap = r->fcap ? r->fcap * 2 : 16;
		if (ncap > r->max_cols)
			ncap = r->max_cols;
		fld *nf = realloc(r->f, ncap * sizeof *nf);
		if (!nf)
			return perr_here(r, VEIL_E_NOMEM, i, "out of memory for the fields of a record");
		r->f = nf;
		r->fcap = ncap;
	}
	fld *f = &r->f[r->nf];
	f->line = r->line;
	f->col = col_at(r, i);
	return P_DONE;
}

static int field_end(veil_csv_reader *r, size_t off, size_t len, bool quoted)
{
	fld *f = &r->f[r->nf];
	if (len > r->max_field) {
		perr(r, VEIL_E_LIMIT, f->line, f->col, "a field longer than the limit");
		veil_err_hint(&r->ferr, "at most %zu bytes per field", r->max_field);
		return P_ERR;
	}
	f->off = off;
	f->len = len;
	f->quoted = quoted;
	r->nf++;
	return P_DONE;
}

/* The record ends at eol (its line end, or the end of the input). */
static int record_end(veil_csv_reader *r, size_t eol, size_t next, bool newline)
{
	if (eol > r->max_row) {
		perr(r, VEIL_E_LIMIT, r->rec_line, 1, "a record longer than the limit");
		veil_err_hint(&r->ferr, "at most %zu bytes per record", r->max_row);
		return P_ERR;
	}
	if (r->have_header && r->nf != r->ncols) {
		veil_err_set(&r->ferr, VEIL_E_INVALID,
		             "line %llu, column %llu: %zu field%s where the header has %zu",
		             (unsigned long long)r->line, (unsigned long long)col_at(r, eol), r->nf,
		             r->nf == 1 ? "" : "s", r->ncols);
		r->fail = VEIL_E_INVALID;
		if (r->nf == 1 && eol == 0)
			veil_err_hint(&r->ferr, "a blank line is a record of one empty field; remove it");
		return P_ERR;
	}
	if (newline) {
		r->line++;
		r->line_start = r->buf_off + r->beg + next;
	}
	r->pos = next;
	return P_DONE;
}

static int field_limit(veil_csv_reader *r)
{
	fld *f = &r->f[r->nf];
	perr(r, VEIL_E_LIMIT, f->line, f->col, "a field longer than the limit");
	veil_err_hint(&r->ferr, "at most %zu bytes per field", r->max_field);
	return P_ERR;
}

static int row_limit(veil_csv_reader *r)
{
	perr(r, VEIL_E_LIMIT, r->rec_line, 1, "a record longer than the limit");
	veil_err_hint(&r->ferr, "at most %zu bytes per record", r->max_row);
	return P_ERR;
}

/* Handles a byte >= 0x80 at i: *k is the length of its valid sequence. A
 * sequence cut by the row limit's barrier (r->capped) is past the limit. */
static int utf8_at(veil_csv_reader *r, const uint8_t *p, size_t i, size_t n, size_t *k)
{
	int len = veil_utf8_seq(p + i, n - i);
	if (len > 0) {
		*k = (size_t)len;
		return P_DONE;
	}
	if (len == 0 && r->capped)
		return row_limit(r);
	if (len == 0 && !r->eof)
		return P_MORE;
	return perr_here(r, VEIL_E_INVALID, i, len == 0 ? "a truncated UTF-8 sequence" : "invalid UTF-8");
}

/* At the end of the data parse() sees: checks the bounds of a record still
 * arriving, so a huge line fails as soon as it passes them, before more of
 * it is read. The checks (and the scans' own stops at the field limit and
 * at the row barrier) depend only on the bytes, never on how they arrived
 * in reads, so a file fails the same way whatever its chunking. */
static int more(veil_csv_reader *r, size_t i)
{
	r->pos = i;
	size_t flen = r->state == S_UNQ                     ? i - r->fstart
	              : r->state == S_Q || r->state == S_QQ ? r->fw - r->fstart
	                                                    : 0;
	if (flen > r->max_field)
		return field_limit(r);
	if (i > r->max_row + 2)
		return row_limit(r);
	return P_MORE;
}

/* Whether parse() must stop at i == n for more data (or a limit) rather
 * than treat n as the end of the input. */
static bool at_more(const veil_csv_reader *r)
{
	return !r->eof || r->capped;
}

/* The scans' fast path: eight bytes at a time, stopping at the first byte
 * that cls marks (NUL, LF, '"', bytes >= 0x80, and for unquoted fields the
 * delimiter and CR). has0(x) sets the top bit of each zero byte of x; its
 * false positives lie only above a true zero, so the lowest bit set in the
 * union of the masks is exactly the first special byte. */
#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static inline uint64_t has0(uint64_t x)
{
	return (x - ONES) & ~x & HIGHS;
}

static inline size_t scan(const uint8_t *p, size_t i, size_t lim, const uint8_t *cls, uint64_t d1,
                          uint64_t d2)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	static const uint64_t nl = ONES * '\n', qt = ONES * '"';
	while (i + 8 <= lim) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		uint64_t m =
		        (w & HIGHS) | has0(w) | has0(w ^ nl) | has0(w ^ qt) | has0(w ^ d1) | has0(w ^ d2);
		if (m)
			return i + ((unsigned)__builtin_ctzll(m) >> 3);
		i += 8;
	}
#endif
	while (i < lim && !cls[p[i]])
		i++;
	return i;
}

static int parse_unquoted(veil_csv_reader *r, uint8_t *p, size_t n, size_t *ip)
{
	size_t i = *ip;
	const uint8_t *cls = r->cls_unq;
	for (;;) {
		if (i - r->fstart > r->max_field)
			return field_limit(r);
		size_t lim = r->fstart + r->max_field + 1;
		if (lim > n)
			lim = n;
		i = scan(p, i, lim, cls, ONES * r->delim, ONES * '\r');
		if (i == lim && i < n)
			continue; /* stopped at the field limit */
		if (i == n) {
			if (at_more(r))
				return more(r, i);
			if (field_end(r, r->fstart, i - r->fstart, false) != P_DONE)
				return P_ERR;
			return record_end(r, i, i, false) == P_DONE ? P_DONE : P_ERR;
		}
		uint8_t c = p[i];
		if (c >= 0x80) {
			size_t k = 0;
			int st = utf8_at(r, p, i, n, &k);
			if (st == P_MORE)
				return more(r, i);
			if (st != P_DONE)
				return st;
			i += k;
			continue;
		}
		if (c == r->delim || c == '\n' || c == '\r') {
			if (field_end(r, r->fstart, i - r->fstart, false) != P_DONE)
				return P_ERR;
			*ip = i + 1;
			if (c == r->delim)
				r->state = S_FIELD;
			else if (c == '\r')
				r->state = S_CR;
			else
				return record_end(r, i, i + 1, true) == P_DONE ? P_DONE : P_ERR;
			return P_CONT;
		}
		if (c == '"') {
			perr_here(r, VEIL_E_INVALID, i, "a quote inside an unquoted field");
			veil_err_hint(&r->ferr, "quote the whole field and double the quotes inside it");
			return P_ERR;
		}
		return perr_here(r, VEIL_E_INVALID, i, "a NUL byte");
	}
}

static int parse_quoted(veil_csv_reader *r, uint8_t *p, size_t n, size_t *ip)
{
	size_t i = *ip;
	const uint8_t *cls = r->cls_q;
	for (;;) {
		size_t have = r->fw - r->fstart;
		if (have > r->max_field)
			return field_limit(r);
		size_t s = i, lim = n - i > r->max_field + 1 - have ? i + (r->max_field + 1 - have) : n;
		i = scan(p, i, lim, cls, 0, 0); /* 0: NUL again, no other byte */
		if (r->fw != s)
			memmove(p + r->fw, p + s, i - s);
		r->fw += i - s;
		if (i == lim && i < n)
			continue; /* stopped at the field limit */
		if (i == n) {
			if (at_more(r))
				return more(r, i);
			perr(r, VEIL_E_INVALID, r->qline, r->qcol, "a quoted field that is never closed");
			veil_err_hint(&r->ferr,
			              "the quote here opens a field that runs to the end of the input");
			return P_ERR;
		}
		uint8_t c = p[i];
		if (c == '"') {
			*ip = i + 1;
			r->state = S_QQ;
			return P_CONT;
		}
		if (c == '\n') {
			p[r->fw++] = c;
			i++;
			r->line++;
			r->line_start = r->buf_off + r->beg + i;
			continue;
		}
		if (c == 0)
			return perr_here(r, VEIL_E_INVALID, i, "a NUL byte");
		size_t k = 0;
		int st = utf8_at(r, p, i, n, &k);
		if (st == P_MORE)
			return more(r, i);
		if (st != P_DONE)
			return st;
		memmove(p + r->fw, p + i, k);
		r->fw += k;
		i += k;
	}
}

/* Parses from r->pos: P_DONE with a record in r->f, P_MORE, P_END at the
 * end of the input, or P_ERR with r->ferr set. */
static int parse(veil_csv_reader *r)
{
	uint8_t *p = r->buf + r->beg;
	size_t n = r->end - r->beg, i = r->pos;
	/* The row barrier: parsing never looks past max_row + 3 bytes of a
	 * record (its bytes and a CR LF, plus one), whatever has been read. */
	r->capped = n > r->max_row + 3;
	if (r->capped)
		n = r->max_row + 3;
	for (;;) {
		int st;
		switch (r->state) {
		case S_FIELD:
			if (i == n) {
				if (at_more(r))
					return more(r, i);
				if (i == 0)
					return P_END;
				if (field_start(r, i) != P_DONE || field_end(r, i, 0, false) != P_DONE)
					return P_ERR;
				return record_end(r, i, i, false) == P_DONE ? P_DONE : P_ERR;
			}
			if (field_start(r, i) != P_DONE)
				return P_ERR;
			if (p[i] == '"') {
				r->qline = r->line;
				r->qcol = col_at(r, i);
				r->fstart = r->fw = ++i;
				r->state = S_Q;
			} else {
				r->fstart = i;
				r->state = S_UNQ;
			}
			continue;
		case S_UNQ:
			st = parse_unquoted(r, p, n, &i);
			break;
		case S_Q:
			st = parse_quoted(r, p, n, &i);
			break;
		case S_QQ:
			if (i == n) {
				if (at_more(r))
					return more(r, i);
				if (field_end(r, r->fstart, r->fw - r->fstart, true) != P_DONE)
					return P_ERR;
				return record_end(r, i, i, false) == P_DONE ? P_DONE : P_ERR;
			}
			if (p[i] == '"') {
				p[r->fw++] = '"';
				i++;
				r->state = S_Q;
				continue;
			}
			if (field_end(r, r->fstart, r->fw - r->fstart, true) != P_DONE)
				return P_ERR;
			r->state = S_AFTER;
			continue;
		case S_AFTER:
			if (i == n) {
				if (at_more(r))
					return more(r, i);
				return record_end(r, i, i, false) == P_DONE ? P_DONE : P_ERR;
			}
			if (p[i] == r->delim) {
				i++;
				r->state = S_FIELD;
				continue;
			}
			if (p[i] == '\n')
				return record_end(r, i, i + 1, true) == P_DONE ? P_DONE : P_ERR;
			if (p[i] == '\r') {
				i++;
				r->state = S_CR;
				continue;
			}
			perr_here(r, VEIL_E_INVALID, i, "a character after the closing quote of a field");
			veil_err_hint(&r->ferr,
			              "a quoted field ends at its closing quote; double a quote inside it");
			return P_ERR;
		case S_CR:
			if (i < n && p[i] == '\n')
				return record_end(r, i - 1, i + 1, true) == P_DONE ? P_DONE : P_ERR;
			if (i == n && at_more(r))
				return more(r, i);
			perr_here(r, VEIL_E_INVALID, i - 1, "a carriage return not followed by a line feed");
			veil_err_hint(&r->ferr,
			              "lines end with LF or CR LF; a CR inside a value needs quotes");
			return P_ERR;
		default:
			return perr_here(r, VEIL_E_INTERNAL, i, "unknown parser state");
		}
		if (st != P_CONT)
			return st;
	}
}

/* Makes room for at least one read after the partial record and reads. */
static veil_status fill(veil_csv_reader *r, veil_err *err)
{
	if (r->beg > 0) {
		memmove(r->buf, r->buf + r->beg, r->end - r->beg);
		r->buf_off += r->beg;
		r->end -= r->beg;
		r->beg = 0;
	}
	/* The partial record is at most max_row + 3 bytes (more() saw to it), so
	 * the buffer never exceeds the row limit plus two reads. */
	size_t need = r->end + READ_CHUNK + 1, most = r->max_row + 2 * READ_CHUNK + 8;
	if (r->cap < need) {
		size_t ncap = r->cap * 2 < most ? r->cap * 2 : most;
		if (ncap < need)
			ncap = need;
		void *nb = realloc(r->buf, ncap);
		if (!nb)
			return veil_err_set(err, VEIL_E_NOMEM, "out of memory for a CSV record of %zu bytes",
			                    r->end);
		r->buf = nb;
		r->cap = ncap;
	}
	size_t got = 0, room = r->cap - r->end - 1; /* one byte for the NUL after the last field */
	veil_status st = r->rd(r->ctx, r->buf + r->end, room, &got, err);
	if (st != VEIL_OK)
		return st;
	if (got > room)
		return veil_err_set(err, VEIL_E_INTERNAL,
		                    "a CSV input stream returned more bytes than asked");
	if (got == 0)
		r->eof = true;
	r->end += got;
	return VEIL_OK;
}

static void record_reset(veil_csv_reader *r)
{
	r->state = S_FIELD;
	r->pos = 0;
	r->nf = 0;
	r->rec_line = r->line;
}

/* Reads one record into r->f: P_DONE, P_END or P_ERR (r->fail set). */
static int read_record(veil_csv_reader *r)
{
	record_reset(r);
	for (;;) {
		int st = parse(r);
		if (st != P_MORE)
			return st;
		veil_status rs = fill(r, &r->ferr);
		if (rs != VEIL_OK) {
			r->fail = rs;
			return P_ERR;
		}
	}
}

/* Points r->out at the record's fields, each followed by a NUL (the byte
 * after a field was consumed, or is the spare byte after the data). */
static void record_fields(veil_csv_reader *r)
{
	uint8_t *p = r->buf + r->beg;
	for (size_t k = 0; k < r->nf; k++) {
		p[r->f[k].off + r->f[k].len] = 0;
		r->out[k] = (veil_csv_field){(const char *)p + r->f[k].off, r->f[k].len, r->f[k].quoted};
	}
}

static uint64_t name_hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
	return h;
}

/* Empty or repeated names: schemas and the table address columns by name. */
static veil_status header_check(veil_csv_reader *r, veil_err *err)
{
	size_t hcap = 16;
	while (hcap < r->ncols * 2)
		hcap *= 2;
	size_t *slot = calloc(hcap, sizeof *slot); /* column index + 1; 0 is free */
	if (!slot)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory for the CSV header");
	veil_status st = VEIL_OK;
	for (size_t c = 0; c < r->ncols && st == VEIL_OK; c++) {
		const veil_csv_field *nm = &r->names[c];
		if (nm->len == 0) {
			st = veil_err_set(
			        err, VEIL_E_INVALID, "line %llu, column %llu: column %zu has an empty name",
			        (unsigned long long)r->f[c].line, (unsigned long long)r->f[c].col, c + 1);
			veil_err_hint(err, "the first row is the header: every column needs a name");
			break;
		}
		size_t h = (size_t)name_hash(nm->p, nm->len) & (hcap - 1);
		while (slot[h]) {
			const veil_csv_field *o = &r->names[slot[h] - 1];
			if (o->len == nm->len && memcmp(o->p, nm->p, nm->len) == 0) {
				st = veil_err_set(
				        err, VEIL_E_INVALID,
				        "line %llu, column %llu: column %zu has the same name as column %zu",
				        (unsigned long long)r->f[c].line, (unsigned long long)r->f[c].col,
				        c + 1, slot[h]);
				veil_err_hint(err, "column names must be distinct");
				break;
			}
			h = (h + 1) & (hcap - 1);
		}
		slot[h] = c + 1;
	}
	free(slot);
	return st;
}

static veil_status header_take(veil_csv_reader *r, veil_err *err)
{
	size_t total = 0;
	for (size_t k = 0; k < r->nf; k++)
		total += r->f[k].len + 1;
	r->ncols = r->nf;
	r->names_buf = malloc(total + 1); /* + 1: never malloc(0) */
	r->names = calloc(r->ncols + 1, sizeof *r->names);
	r->out = calloc(r->ncols + 1, sizeof *r->out);
	if (!r->names_buf || !r->names || !r->out)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory for the CSV header");
	char *q = r->names_buf;
	const uint8_t *p = r->buf + r->beg;
	for (size_t k = 0; k < r->nf; k++) {
		memcpy(q, p + r->f[k].off, r->f[k].len);
		q[r->f[k].len] = 0;
		r->names[k] = (veil_csv_field){q, r->f[k].len, r->f[k].quoted};
		q += r->f[k].len + 1;
	}
	veil_status st = header_check(r, err);
	if (st != VEIL_OK)
		return st;
	r->have_header = true;
	r->beg += r->pos;
	return VEIL_OK;
}

static veil_status opts_apply(veil_csv_reader *r, const veil_csv_opts *o, veil_err *err)
{
	veil_csv_opts d = {0};
	if (!o)
		o = &d;
	r->max_field = o->max_field ? o->max_field : VEIL_CSV_FIELD_MAX_DEFAULT;
	r->max_row = o->max_row ? o->max_row : VEIL_CSV_ROW_MAX_DEFAULT;
	r->max_cols = o->max_columns ? o->max_columns : VEIL_CSV_COLUMNS_MAX_DEFAULT;
	char dl = o->delimiter ? o->delimiter : ',';
	if (r->max_row > VEIL_CSV_ROW_MAX_LIMIT || r->max_cols > VEIL_CSV_COLUMNS_MAX_LIMIT)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "CSV limits above the largest allowed (%u bytes per record, "
		                    "%u columns)",
		                    VEIL_CSV_ROW_MAX_LIMIT, VEIL_CSV_COLUMNS_MAX_LIMIT);
	if (dl != ',' && dl != ';' && dl != '\t' && dl != '|')
		return veil_err_set(err, VEIL_E_INVALID, "a CSV delimiter must be one of , ; | or TAB");
	r->delim = (uint8_t)dl;
	for (int b = 0x80; b < 256; b++)
		r->cls_unq[b] = r->cls_q[b] = 1;
	r->cls_unq[0] = r->cls_q[0] = 1;
	r->cls_unq['\n'] = r->cls_q['\n'] = 1;
	r->cls_unq['"'] = r->cls_q['"'] = 1;
	r->cls_unq['\r'] = 1;
	r->cls_unq[r->delim] = 1;
	return VEIL_OK;
}

static veil_status fail_with(veil_csv_reader *r, veil_err *err)
{
	if (err)
		*err = r->ferr;
	return r->fail;
}

veil_status veil_csv_reader_new(const veil_csv_opts *opts, veil_read_fn rd, void *ctx, veil_csv_reader **out,
                                veil_err *err)
{
	*out = NULL;
	veil_csv_reader *r = calloc(1, sizeof *r);
	if (!r)
		return veil_err_set(err, VEIL_E_NOMEM, "out of memory for a CSV reader");
	r->rd = rd;
	r->ctx = ctx;
	r->line = 1;
	veil_status st = opts_apply(r, opts, err);
	while (st == VEIL_OK && r->end < 3 && !r->eof)
		st = fill(r, err);
	if (st != VEIL_OK)
		goto fail;
	if (r->end >= 3 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0) {
		r->beg = 3; /* a byte order mark: spreadsheets write one; it is not data */
		r->line_start = 3;
	}
	int ps = read_record(r);
	if (ps == P_END) {
		st = veil_err_set(err, VEIL_E_INVALID, "line 1, column 1: the input is empty");
		veil_err_hint(err, "a CSV file starts with a header row naming its columns");
		goto fail;
	}
	if (ps != P_DONE) {
		st = fail_with(r, err);
		goto fail;
	}
	st = header_take(r, err);
	if (st != VEIL_OK)
		goto fail;
	*out = r;
	return VEIL_OK;
fail:
	veil_csv_reader_free(r);
	return st;
}

void veil_csv_header(const veil_csv_reader *r, const veil_csv_field **names, size_t *n)
{
	*names = r->names;
	*n = r->ncols;
}

veil_status veil_csv_next(veil_csv_reader *r, veil_csv_row *row, veil_err *err)
{
	memset(row, 0, sizeof *row);
	if (r->fail != VEIL_OK)
		return fail_with(r, err);
	if (r->done)
		return VEIL_OK;
	int ps = read_record(r);
	if (ps == P_ERR)
		return fail_with(r, err);
	if (ps == P_END) {
		r->done = true;
		return VEIL_OK;
	}
	record_fields(r);
	r->beg += r->pos; /* the fields stay where they are until the next fill */
	row->fields = r->out;
	row->n = r->nf;
	row->line = r->rec_line;
	row->record = ++r->records;
	return VEIL_OK;
}

uint64_t veil_csv_offset(const veil_csv_reader *r)
{
	return r->buf_off + r->beg;
}

void veil_csv_reader_free(veil_csv_reader *r)
{
	if (!r)
		return;
	if (r->buf) /* the last records read, in plaintext */
		veil_wipe(r->buf, r->cap);
	free(r->buf);
	free(r->f);
	free(r->out);
	free(r->names);
	free(r->names_buf);
	free(r);
}
