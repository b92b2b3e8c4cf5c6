/*
 * Whole-value pattern matching for the validator by a DFA over bytes: a
 * schema's pattern (docs/formats/schema.md, "Patterns": POSIX extended, the
 * whole value must match) is compiled once per validator into a table, and
 * a value is then matched in one step per byte, where glibc's regexec
 * costs about a hundred nanoseconds a value and was a quarter of the time
 * of validating a file with five patterned columns.
 *
 * Only a subset is compiled: literals, escaped punctuation, `.`, bracket
 * expressions with ranges and [:class:] names, groups, `|`, and one of `*`
 * `+` `?` `{m}` `{m,}` `{m,n}` after an atom. Anything else (anchors
 * inside the pattern, GNU escapes such as \w, [= =] and [. .], empty
 * groups or branches, a pattern over the size caps, a locale with
 * multi-byte characters) is left to veil_schema_pattern_match, so the
 * answer is always glibc's; tests and the fuzz target compare both on
 * the same values.
 *
 * The construction is Glushkov's position automaton (one position per
 * literal or set after bounded repeats are expanded; first, last and
 * follow sets), then the subset construction over classes of bytes that
 * no position tells apart. Matching is on bytes, as glibc's matcher is in
 * the C locale: `.` and a negated set match any byte but NUL, each byte of
 * a multi-byte character on its own.
 */
#include "validate_int.h"

#include <stdlib.h>
#include <string.h>

#define POS_MAX          512 /* positions, the start included */
#define WORDS            (POS_MAX / 64)
#define NODES_MAX        1024
#define DEPTH_MAX        64
#define STATES_MAX       1024
#define REPEAT_MAX       255
#define PAIR_ENTRIES_MAX (1u << 16) /* 256 KiB of two-byte table at most */

typedef struct bits {
	uint64_t w[WORDS];
} bits;

static void bit_set(bits *b, unsigned i)
{
	b->w[i / 64] |= 1ull << (i % 64);
}

static bool bit_has(const bits *b, unsigned i)
{
	return (b->w[i / 64] >> (i % 64)) & 1u;
}

static void bits_or(bits *d, const bits *s)
{
	for (size_t k = 0; k < WORDS; k++)
		d->w[k] |= s->w[k];
}

static bool bits_empty(const bits *b)
{
	uint64_t x = 0;
	for (size_t k = 0; k < WORDS; k++)
		x |= b->w[k];
	return x == 0;
}

/* ---- parsing into a tree ---- */

typedef enum ntype { N_SET, N_CAT, N_ALT, N_REP } ntype;

typedef struct node {
	ntype t;
	int child, next; /* first child and next sibling, -1 for none */
	int min, max;    /* N_REP; max -1: unbounded */
	uint8_t set[32]; /* N_SET: the bytes it matches */
} node;

typedef struct parser {
	const char *p;
	node nodes[NODES_MAX];
	int n, depth;
	bool bad; /* outside the subset, or too big: leave it to regexec */
} parser;

static int node_new(parser *ps, ntype t)
{
	if (ps->n >= NODES_MAX) {
		ps->bad = true;
		return -1;
	}
	node *k = &ps->nodes[ps->n];
	memset(k, 0, sizeof *k);
	k->t = t;
	k->child = k->next = -1;
	return ps->n++;
}

static void set_add(uint8_t set[32], unsigned lo, unsigned hi)
{
	for (unsigned c = lo; c <= hi; c++)
		set[c / 8] |= (uint8_t)(1u << (c % 8));
}

/* The C locale's character classes, as glibc's matcher reads them there. */
static bool class_add(uint8_t set[32], const char *name, size_t n)
{
	static const struct {
		const char *name;
		const char *ranges; /* pairs of first and last byte */
	} classes[] = {
	        {"alpha", "AZaz"},   {"digit", "09"},     {"alnum", "09AZaz"},
	        {"upper", "AZ"},     {"lower", "az"},     {"xdigit", "09AFaf"},
	        {"space", "\t\r  "}, {"blank", "\t\t  "}, {"punct", "!/:@[`{~"},
	        {"print", " ~"},     {"graph", "!~"},     {"cntrl", "\x01\x1f\x7f\x7f"},
	};
	for (size_t k = 0; k < sizeof classes / sizeof classes[0]; k++) {
		if (strlen(classes[k].name) != n || memcmp(classes[k].name, name, n) != 0)
			continue;
		for (const char *r = classes[k].ranges; *r; r += 2)
			set_add(set, (uint8_t)r[0], (uint8_t)r[1]);
		return true;
	}
	return false;
}

/* After '[': a bracket expression up to its ']'. */
static void parse_bracket(parser *ps, uint8_t set[32])
{
	bool neg = *ps->p == '^';
	ps->p += neg;
	for (bool first = true;; first = false) {
		unsigned char c = (unsigned char)*ps->p;
		if (c == 0) {
			ps->bad = true;
			return;
		}
		ps->p++;
		if (c == ']' && !first)
			break;
		if (c == '[' && (*ps->p == ':' || *ps->p == '=' || *ps->p == '.')) {
			const char *name = ps->p + 1, *end = strstr(name, ":]");
			if (*ps->p != ':' || !end || !class_add(set, name, (size_t)(end - name))) {
				ps->bad = true;
				return;
			}
			ps->p = end + 2;
			continue;
		}
		if (ps->p[0] == '-' && ps->p[1] && ps->p[1] != ']') {
			unsigned char hi = (unsigned char)ps->p[1];
			if (hi == '[' || hi == '-' || hi < c || (ps->p[2] == '-' && ps->p[3] != ']')) {
				ps->bad = true; /* collating symbols, chained or empty ranges */
				return;
			}
			set_add(set, c, hi);
			ps->p += 2;
			continue;
		}
		set_add(set, c, c);
	}
	if (neg)
		for (size_t k = 0; k < 32; k++)
			set[k] = (uint8_t)~set[k];
	set[0] &= (uint8_t)~1u; /* never NUL */
}

static int parse_alt(parser *ps);

static int parse_atom(parser *ps)
{
	unsigned char c = (unsigned char)*ps->p;
	if (c == '(') {
		ps->p++;
		if (++ps->depth > DEPTH_MAX || *ps->p == ')') {
			ps->bad = true; /* too deep, or an empty group */
			return -1;
		}
		int r = parse_alt(ps);
		ps->depth--;
		if (*ps->p != ')') {
			ps->bad = true;
			return -1;
		}
		ps->p++;
		return r;
	}
	int k = node_new(ps, N_SET);
	if (k < 0)
		return -1;
	uint8_t *set = ps->nodes[k].set;
	ps->p++;
	switch (c) {
	case '.':
		set_add(set, 1, 255);
		break;
	case '[':
		parse_bracket(ps, set);
		break;
	case '\\':
		c = (unsigned char)*ps->p++;
		/* Escaped punctuation is itself; GNU gives letters and digits meanings of its own. */
		if (c == 0 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c >= 0x80)
			ps->bad = true;
		else
			set_add(set, c, c);
		break;
	case '^':
	case '$':
	case ')':
	case '*':
	case '+':
	case '?':
	case '{':
	case '}':
	case '|':
	case 0:
		ps->bad = true; /* anchors, stray operators: regexec's business */
		break;
	default:
		set_add(set, c, c);
	}
	return k;
}

static bool read_count(parser *ps, int *out)
{
	int v = 0, n = 0;
	for (; *ps->p >= '0' && *ps->p <= '9'; ps->p++, n++) {
		v = v * 10 + (*ps->p - '0');
		if (v > REPEAT_MAX)
			return false;
	}
	*out = v;
	return n > 0;
}

static int parse_piece(parser *ps)
{
	int a = parse_atom(ps);
	if (ps->bad)
		return -1;
	char c = *ps->p;
	if (c != '*' && c != '+' && c != '?' && c != '{')
		return a;
	int r = node_new(ps, N_REP);
	if (r < 0)
		return -1;
	node *k = &ps->nodes[r];
	k->child = a;
	ps->p++;
	if (c == '{') {
		bool ok = read_count(ps, &k->min);
		if (ok && *ps->p == '}') {
			k->max = k->min;
		} else if (ok && *ps->p == ',') {
			ps->p++;
			if (*ps->p == '}')
				k->max = -1;
			else
				ok = read_count(ps, &k->max) && *ps->p == '}' && k->max >= k->min;
		} else {
			ok = false;
		}
		if (!ok) {
			ps->bad = true;
			return -1;
		}
		ps->p++; /* the '}' */
	} else {
		k->min = c == '+';
		k->max = c == '?' ? 1 : -1;
	}
	c = *ps->p;
	if (c == '*' || c == '+' || c == '?' || c == '{')
		ps->bad = true; /* stacked repeats: undefined in POSIX */
	return r;
}

static int parse_cat(parser *ps)
{
	if (*ps->p == 0 || *ps->p == '|' || *ps->p == ')') {
		ps->bad = true; /* an empty branch */
		return -1;
	}
	int cat = node_new(ps, N_CAT), last = -1;
	while (!ps->bad && *ps->p && *ps->p != '|' && *ps->p != ')') {
		int k = parse_piece(ps);
		if (ps->bad)
			break;
		if (last < 0)
			ps->nodes[cat].child = k;
		else
			ps->nodes[last].next = k;
		last = k;
	}
	return cat;
}

static int parse_alt(parser *ps)
{
	int alt = node_new(ps, N_ALT), last = -1;
	for (;;) {
		int k = parse_cat(ps);
		if (ps->bad)
			return -1;
		if (last < 0)
			ps->nodes[alt].child = k;
		else
			ps->nodes[last].next = k;
		last = k;
		if (*ps->p != '|')
			return alt;
		ps->p++;
	}
}

/* ---- Glushkov's construction ---- */

typedef struct glu {
	const parser *ps;
	bits *follow;        /* POS_MAX rows: the positions that may come after each */
	uint8_t (*sets)[32]; /* of each position */
	unsigned npos;       /* position 0 is the start */
	bool bad;
} glu;

typedef struct frag {
	bool nullable;
	bits first, last;
} frag;

static void link(glu *g, const bits *from, const bits *to)
{
	for (unsigned p = 0; p < g->npos; p++)
		if (bit_has(from, p))
			bits_or(&g->follow[p], to);
}

/* acc followed by k. */
static void cat(glu *g, frag *acc, const frag *k)
{
	link(g, &acc->last, &k->first);
	if (acc->nullable)
		bits_or(&acc->first, &k->first);
	if (k->nullable)
		bits_or(&acc->last, &k->last);
	else
		acc->last = k->last;
	acc->nullable = acc->nullable && k->nullable;
}

static void build(glu *g, int n, frag *out)
{
	memset(out, 0, sizeof *out);
	const node *k = &g->ps->nodes[n];
	frag sub;
	switch (k->t) {
	case N_SET:
		if (g->npos >= POS_MAX) {
			g->bad = true;
			return;
		}
		memcpy(g->sets[g->npos], k->set, 32);
		bit_set(&out->first, g->npos);
		bit_set(&out->last, g->npos);
		g->npos++;
		return;
	case N_CAT:
		out->nullable = true;
		for (int c = k->child; c >= 0 && !g->bad; c = g->ps->nodes[c].next) {
			build(g, c, &sub);
			cat(g, out, &sub);
		}
		return;
	case N_ALT:
		for (int c = k->child; c >= 0 && !g->bad; c = g->ps->nodes[c].next) {
			build(g, c, &sub);
			out->nullable |= sub.nullable;
			bits_or(&out->first, &sub.first);
			bits_or(&out->last, &sub.last);
		}
		return;
	case N_REP:
		/* e{m,n} as m copies of e and n - m of e?; e{m,} as m copies and e*. */
		out->nullable = true;
		for (int i = 0; i < k->min && !g->bad; i++) {
			build(g, k->child, &sub);
			cat(g, out, &sub);
		}
		if (k->max < 0 && !g->bad) {
			build(g, k->child, &sub);
			link(g, &sub.last, &sub.first);
			sub.nullable = true;
			cat(g, out, &sub);
		}
		for (int i = k->min; i < k->max && !g->bad; i++) {
			build(g, k->child, &sub);
			sub.nullable = true;
			cat(g, out, &sub);
		}
		return;
	}
}

/* ---- the subset construction ---- */

typedef struct dstates {
	bits *set; /* of each state */
	size_t n, cap;
	uint32_t *slot; /* state + 1, by hash of its set; 0 is free */
	size_t nslot;
} dstates;

static uint64_t bits_hash(const bits *b)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;
	for (size_t k = 0; k < WORDS; k++)
		h = (h ^ b->w[k]) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 29);
}

/* The state of set b, added if new; -1 when there would be too many. */
static int state_of(dstates *d, const bits *b)
{
	size_t i = (size_t)bits_hash(b) & (d->nslot - 1);
	for (; d->slot[i]; i = (i + 1) & (d->nslot - 1))
		if (memcmp(&d->set[d->slot[i] - 1], b, sizeof *b) == 0)
			return (int)d->slot[i] - 1;
	if (d->n >= STATES_MAX)
		return -1;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		bits *s = realloc(d->set, cap * sizeof *s);
		if (!s)
			return -1;
		d->set = s;
		d->cap = cap;
	}
	d->set[d->n] = *b;
	d->slot[i] = (uint32_t)++d->n;
	return (int)d->n - 1;
}

/* Bytes that every position treats alike share a class. */
static unsigned byte_classes(const glu *g, vdfa *d, bits *cls_sets)
{
	unsigned ncls = 0;
	for (unsigned b = 0; b < 256; b++) {
		bits sig = {0};
		for (unsigned p = 1; p < g->npos; p++)
			if ((g->sets[p][b / 8] >> (b % 8)) & 1u)
				bit_set(&sig, p);
		unsigned c = 0;
		while (c < ncls && memcmp(&cls_sets[c], &sig, sizeof sig) != 0)
			c++;
		if (c == ncls)
			cls_sets[ncls++] = sig;
		d->cls[b] = (uint8_t)c;
	}
	return ncls;
}

/* The two-byte table, when it stays small enough for the cache; without
 * it matching steps one byte at a time. */
static void pairs(vdfa *d)
{
	size_t n = d->ncls, n2 = n * n;
	if (d->nstates * n2 > PAIR_ENTRIES_MAX || !(d->next2 = malloc(d->nstates * n2 * sizeof *d->next2)))
		return;
	for (size_t s = 0; s < d->nstates; s++)
		for (size_t a = 0; a < n; a++) {
			size_t mid = d->next[s * n + a] / n;
			for (size_t b = 0; b < n; b++)
				d->next2[s * n2 + a * n + b] = (uint32_t)(d->next[mid * n + b] / n * n2);
		}
	for (size_t b = 0; b < 256; b++)
		d->pre[b] = (uint32_t)(d->cls[b] * n);
}

static bool subsets(const glu *g, const bits *last, vdfa *d)
{
	bits *cls_sets = malloc(256 * sizeof *cls_sets);
	dstates st = {.nslot = 2 * STATES_MAX};
	uint32_t *next = NULL;
	bool ok = false;
	if (!cls_sets || !(st.slot = calloc(st.nslot, sizeof *st.slot)))
		goto done;
	d->ncls = (uint16_t)byte_classes(g, d, cls_sets);
	bits none = {0}, start = {0};
	bit_set(&start, 0);
	if (state_of(&st, &none) != 0 || state_of(&st, &start) != 1) /* 0: dead, 1: start */
		goto done;
	for (size_t s = 0; s < st.n; s++) {
		uint32_t *grown = realloc(next, st.n * d->ncls * sizeof *next);
		if (!grown)
			goto done;
		next = grown;
		bits reach = {0};
		for (unsigned p = 0; p < g->npos; p++)
			if (bit_has(&st.set[s], p))
				bits_or(&reach, &g->follow[p]);
		for (unsigned c = 0; c < d->ncls; c++) {
			bits to;
			for (size_t k = 0; k < WORDS; k++)
				to.w[k] = reach.w[k] & cls_sets[c].w[k];
			int t = bits_empty(&to) ? 0 : state_of(&st, &to);
			if (t < 0)
				goto done;
			next[s * d->ncls + c] = (uint32_t)t * d->ncls;
		}
	}
	if (st.n < 2 || !(d->accept = calloc(st.n, 1))) /* at least the dead state and the start */
		goto done;
	for (size_t s = 0; s < st.n; s++)
		for (size_t k = 0; k < WORDS; k++)
			d->accept[s] |= (st.set[s].w[k] & last->w[k]) != 0;
	d->next = next;
	d->nstates = (uint16_t)st.n;
	next = NULL;
	ok = true;
	pairs(d);
done:
	free(next);
	free(cls_sets);
	free(st.set);
	free(st.slot);
	return ok;
}

bool vdfa_compile(vdfa *d, const char *pattern)
{
	memset(d, 0, sizeof *d);
	if (MB_CUR_MAX != 1 || !pattern || strlen(pattern) > VEIL_SCHEMA_PATTERN_MAX)
		return false; /* multi-byte characters: glibc matches characters, not bytes */
	parser *ps = malloc(sizeof *ps);
	glu g = {0};
	bool ok = false;
	if (!ps)
		return false;
	memset(ps, 0, sizeof *ps);
	ps->p = pattern;
	int root = parse_alt(ps);
	if (ps->bad || *ps->p != 0 || root < 0)
		goto done;
	g.ps = ps;
	g.follow = calloc(POS_MAX, sizeof *g.follow);
	g.sets = calloc(POS_MAX, sizeof *g.sets);
	if (!g.follow || !g.sets)
		goto done;
	g.npos = 1; /* the start */
	frag whole;
	build(&g, root, &whole);
	if (g.bad)
		goto done;
	g.follow[0] = whole.first;
	if (whole.nullable)
		bit_set(&whole.last, 0);
	ok = subsets(&g, &whole.last, d);
done:
	free(g.follow);
	free(g.sets);
	free(ps);
	if (!ok)
		vdfa_free(d);
	return ok;
}

bool vdfa_match(const vdfa *d, const char *s, size_t n)
{
	const uint8_t *u = (const uint8_t *)s;
	if (d->next2) {
		uint32_t n2 = (uint32_t)d->ncls * d->ncls, at = n2; /* the start's row */
		size_t i = 0;
		for (; i + 2 <= n; i += 2) {
			at = d->next2[at + d->pre[u[i]] + d->cls[u[i + 1]]];
			if (!at)
				return false;
		}
		uint32_t st = at / n2;
		if (i < n)
			st = d->next[st * d->ncls + d->cls[u[i]]] / d->ncls;
		return d->accept[st];
	}
	/* The table holds each target's row offset (state x ncls), so that a
	 * step is one add and one load. */
	uint32_t at = d->ncls; /* the start's row */
	for (size_t i = 0; i < n; i++) {
		at = d->next[at + d->cls[(uint8_t)s[i]]];
		if (!at)
			return false;
	}
	return d->accept[at / d->ncls];
}

void vdfa_free(vdfa *d)
{
	free(d->next);
	free(d->next2);
	free(d->accept);
	memset(d, 0, sizeof *d);
}
