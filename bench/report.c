// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: the report, a markdown document on stdout between two
 * marker lines (the host takes it from the serial console), followed by
 * the cost-vs-N points for the plot as BENCH-COSTN lines.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "bench.h"

static struct row rows[NR_ROWS];
static char *details;
static size_t details_len;
static struct costn costns[BENCH_MAX_NS];
static unsigned int nr_costns;
static int nr_problems;

struct row *row_set(enum row_id id, const char *unit, const char *fmt, ...)
{
	struct row *r = &rows[id];
	va_list ap;

	memset(r, 0, sizeof(*r));
	r->set = true;
	r->unit = unit;
	r->stock = -1;
	va_start(ap, fmt);
	vsnprintf(r->op, sizeof(r->op), fmt, ap);
	va_end(ap);
	return r;
}

void row_target(struct row *r, enum target_kind kind, double target,
		const char *text)
{
	r->tgt = kind;
	r->target = target;
	r->target_text = text;
}

void detail(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		fail("out of memory");
	details = realloc(details, details_len + n + 1);
	if (!details)
		fail("out of memory");
	memcpy(details + details_len, s, n + 1);
	details_len += n;
	free(s);
}

void costn_add(const struct costn *c)
{
	if (nr_costns < BENCH_MAX_NS)
		costns[nr_costns++] = *c;
}

void report_problem(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "irqroute-bench: PROBLEM: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	nr_problems++;
}

int report_problems(void)
{
	return nr_problems;
}

/* Three significant digits, but no exponent for large plain numbers. */
static const char *num(char *buf, size_t len, double v)
{
	if (v >= 1000 && v < 1e9)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.3g", v);
	return buf;
}

/* -1: no target, 0: missed, 1: met. */
static int row_met(const struct row *r)
{
	switch (r->tgt) {
	case TGT_RATIO_MAX:
		return r->stock > 0 && r->ir / r->stock <= r->target;
	case TGT_IR_MAX:
		return r->ir <= r->target;
	case TGT_DIFF_MAX:
		return r->stock >= 0 && r->ir - r->stock <= r->target;
	default:
		return -1;
	}
}

static void print_rows(void)
{
	char a[32], b[32], c[32];
	unsigned int i, met = 0, missed = 0;

	printf("| # | operation | irqroute | stock | irqroute/stock "
	       "| target | met | n irqroute/stock |\n");
	printf("|---|---|---:|---:|---:|---|:-:|---:|\n");
	for (i = 0; i < NR_ROWS; i++) {
		const struct row *r = &rows[i];
		int m;

		if (!r->set)
			continue;
		m = row_met(r);
		met += m == 1;
		missed += m == 0;
		printf("| %u | %s%s%s | %s %s | ", i + 1, r->op,
		       r->note[0] ? "; " : "", r->note,
		       num(a, sizeof(a), r->ir), r->unit);
		if (r->stock >= 0)
			printf("%s %s | %s | ", num(b, sizeof(b), r->stock),
			       r->unit,
			       r->stock > 0 ? num(c, sizeof(c),
						  r->ir / r->stock) : "-");
		else
			printf("- | - | ");
		printf("%s | %s | %u/", r->target_text ? r->target_text : "-",
		       m < 0 ? "-" : m ? "yes" : "**no**", r->ir_n);
		if (r->stock >= 0)
			printf("%u |\n", r->stock_n);
		else
			printf("- |\n");
	}
	printf("\nTargets met: %u of %u.", met, met + missed);
	if (missed) {
		printf(" Missed:");
		for (i = 0; i < NR_ROWS; i++)
			if (rows[i].set && row_met(&rows[i]) == 0)
				printf(" #%u", i + 1);
		printf(".");
	}
	printf("\n");
}

static void print_costn(void)
{
	char v[10][32];
	unsigned int i;

	printf("\n#### Cost against N (medians, us)\n\n"
	       "set_msi and the stock push alternate on the same VM with the "
	       "same table. \"Retarget's share\": the median of the paired "
	       "differences between a set_msi KVM refuses (an MSI invalid "
	       "under 32-bit x2APIC IDs; patched in place, copied entry by "
	       "entry) and a raw push of the same refused table; "
	       "\"set_msi - push\": the same for the accepted calls of the "
	       "first columns, grace period included. \"Rebuild's share\": the "
	       "median of paired "
	       "differences between a commit KVM refuses (a base route of "
	       "an unknown type: the module rebuilds and copies the whole "
	       "table) and a raw push of the same refused table; "
	       "KVM fails both before its grace period, whose bimodal wait "
	       "(0.3 or 4-8 ms under TCG) would drown the difference (the "
	       "refused commit also copies its one base route). An "
	       "empty commit (nothing staged, skipped before KVM) is the "
	       "ioctl and the module's scan of the routes.\n\n");
	printf("| N | set_msi, 1 of N | raw push, N irqfds | ratio "
	       "| retarget's share | set_msi - push | rebuild's share "
	       "| empty commit "
	       "| raw push, no irqfds "
	       "| batch of N set_msi + commit | its commit alone |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < nr_costns; i++) {
		const struct costn *c = &costns[i];

		printf("| %u | %s | %s | %s | %s | %s | %s | %s | %s | %s "
		       "| %s |\n",
		       c->n, num(v[0], 32, c->set_msi), num(v[1], 32, c->push),
		       num(v[2], 32, c->set_msi / c->push),
		       num(v[9], 32, c->refused), num(v[8], 32, c->paired),
		       num(v[3], 32, c->own), num(v[4], 32, c->empty),
		       num(v[5], 32, c->push_bare), num(v[6], 32, c->batch),
		       num(v[7], 32, c->commit));
	}
}

void report_print(void)
{
	struct utsname u;
	unsigned int i;

	uname(&u);
	fflush(stderr);
	printf("\n=== IRQROUTE-BENCH REPORT BEGIN ===\n");
	printf("### %s\n\n", u.release);
	printf("kernel: %s %s (%s); mode: %s; iterations: fast %u, slow %u, "
	       "budget %u s per measurement; N =", u.release, u.version,
	       u.machine, cfg.quick ? "quick" : "full", cfg.iters,
	       cfg.slow_iters, cfg.budget_s);
	for (i = 0; i < cfg.nr_ns; i++)
		printf("%s %u", i ? "," : "", cfg.ns[i]);
	printf("\n\n");
	print_rows();
	if (nr_costns)
		print_costn();
	if (details)
		printf("%s", details);
	printf("\n=== IRQROUTE-BENCH REPORT END ===\n");
	for (i = 0; i < nr_costns; i++)
		printf("BENCH-COSTN %u %.3f %.3f %.3f %.3f %.3f %.3f %.3f "
		       "%.3f %.3f\n", costns[i].n, costns[i].set_msi,
		       costns[i].push, costns[i].push_bare, costns[i].batch,
		       costns[i].commit, costns[i].own, costns[i].empty,
		       costns[i].paired, costns[i].refused);
	fflush(stdout);
}
