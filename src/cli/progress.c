/* A progress bar on stderr for long jobs: only on a terminal, only after
 * the first second (so quick commands stay quiet; VEIL_PROGRESS_AFTER sets
 * another delay in seconds, or 'off'), redrawn at most ten times a second. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_start(cli_progress *p, cli_global *g, const char *label, uint64_t total)
{
	p->label = label;
	p->total = total;
	p->done = 0;
	p->start = p->last = now_s();
	p->shown = false;
	p->after = 1.0;
	p->unit = NULL;
	p->base = 0;
	p->enabled = !g->quiet && isatty(STDERR_FILENO);
	const char *after = getenv("VEIL_PROGRESS_AFTER");
	if (after && strcmp(after, "off") == 0) {
		p->enabled = false;
	} else if (after) {
		char *end;
		double v = strtod(after, &end);
		if (end != after && *end == '\0' && v >= 0)
			p->after = v;
	}
}

/* A count of things (steps): done/total and the time left at the rate so far. */
static void draw_units(cli_progress *p, double t)
{
	double secs = t - p->start, left = 0;
	uint64_t here = p->done > p->base ? p->done - p->base : 0; /* done by this process */
	if (here && p->total > p->done)
		left = secs * (double)(p->total - p->done) / (double)here;
	if (left > 359999)
		left = 359999; /* 99h59m59s: beyond that the estimate means nothing */
	int pct =
	        p->total ? (int)(100.0 * (double)(p->done < p->total ? p->done : p->total) / (double)p->total)
	                 : 0;
	int width = 30, fill = pct * width / 100;
	char bar[31];
	for (int i = 0; i < width; i++)
		bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
	bar[width] = '\0';
	fprintf(stderr, "\r%s %3d%% [%s] %llu/%llu %s, %dm%02ds left  ", p->label, pct, bar,
	        (unsigned long long)p->done, (unsigned long long)p->total, p->unit, (int)(left / 60),
	        (int)left % 60);
	p->shown = true;
}

static void draw(cli_progress *p, double t)
{
	if (p->unit) {
		draw_units(p, t);
		return;
	}
	char done[32], rate[32];
	double secs = t - p->start;
	cli_human_size(p->done, done);
	cli_human_size(secs > 0 ? (uint64_t)((double)p->done / secs) : 0, rate);
	if (p->total) {
		int pct = (int)(100.0 * (double)p->done / (double)p->total);
		int width = 30, fill = pct * width / 100;
		char bar[31];
		for (int i = 0; i < width; i++)
			bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
		bar[width] = '\0';
		fprintf(stderr, "\r%s %3d%% [%s] %s %s/s  ", p->label, pct, bar, done, rate);
	} else {
		fprintf(stderr, "\r%s %s %s/s  ", p->label, done, rate);
	}
	p->shown = true;
}

void cli_progress_add(cli_progress *p, uint64_t n)
{
	p->done += n;
	if (!p->enabled)
		return;
	double t = now_s();
	if (t - p->start < p->after || (p->shown && t - p->last < 0.1))
		return;
	p->last = t;
	draw(p, t);
}

void cli_progress_end(cli_progress *p)
{
	if (!p->enabled || !p->shown)
		return;
	draw(p, now_s());
	fputc('\n', stderr);
}

void cli_progress_start_units(cli_progress *p, cli_global *g, const char *label, uint64_t total,
                              uint64_t done, const char *unit)
{
	cli_progress_start(p, g, label, total);
	p->unit = unit;
	p->done = p->base = done;
}

void cli_progress_set(cli_progress *p, uint64_t done)
{
	if (done >= p->done)
		cli_progress_add(p, done - p->done);
	else
		p->done = done;
}

void cli_progress_clear(cli_progress *p)
{
	if (p->enabled && p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
}
