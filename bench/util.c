// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: failing, time, and median samples.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

void fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "irqroute-bench: FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void check(int ret, const char *what)
{
	if (ret)
		fail("%s: %s", what, strerror(ret < 0 ? -ret : ret));
}

void note(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "# bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void spin_ns(uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	while (now_ns() < end)
		;
}

void s_init_budget(struct sample *s, unsigned int max, unsigned int budget_s)
{
	s->ns = calloc(max ? max : 1, sizeof(*s->ns));
	if (!s->ns)
		fail("out of memory");
	s->n = 0;
	s->max = max;
	s->deadline = now_ns() + (uint64_t)budget_s * 1000000000ULL;
}

void s_init(struct sample *s, unsigned int max)
{
	s_init_budget(s, max, cfg.budget_s);
}

/* True while another sample is wanted: at least 10, then until the budget. */
bool s_more(const struct sample *s)
{
	return s->n < s->max && (s->n < 10 || now_ns() < s->deadline);
}

void s_add(struct sample *s, uint64_t ns)
{
	if (s->n < s->max)
		s->ns[s->n++] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_s64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

double s_median_us(struct sample *s, unsigned int *n)
{
	double m;

	if (!s->n)
		fail("no samples");
	qsort(s->ns, s->n, sizeof(*s->ns), cmp_u64);
	m = s->n & 1 ? s->ns[s->n / 2] :
		(s->ns[s->n / 2 - 1] + s->ns[s->n / 2]) / 2.0;
	*n = s->n;
	free(s->ns);
	s->ns = NULL;
	return m / 1000.0;
}

/* Median of @a[k] - @b[k] over the pairs both have; before s_median_us(). */
double s_paired_diff_us(const struct sample *a, const struct sample *b)
{
	unsigned int i, n = a->n < b->n ? a->n : b->n;
	int64_t *d;
	double m;

	if (!n)
		fail("no samples");
	d = calloc(n, sizeof(*d));
	if (!d)
		fail("out of memory");
	for (i = 0; i < n; i++)
		d[i] = (int64_t)a->ns[i] - (int64_t)b->ns[i];
	qsort(d, n, sizeof(*d), cmp_s64);
	m = n & 1 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2.0;
	free(d);
	return m / 1000.0;
}
