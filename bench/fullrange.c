// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: set_msi on an attachment that owns a whole table of
 * MSIs, the configuration of issue 16's independent measurement: no x86
 * default routes, no base routes, every route of the range (GSIs 256..,
 * 1024 of them) with an MSI. One irqroute_set_msi() against one raw
 * KVM_SET_GSI_ROUTING of exactly that table,
 *
 *  - on the same VM (so with the module's 1024 irqfds bound), and
 *  - on a second VM with 1024 raw KVM irqfds bound (an eventfd each, on
 *    the table's GSIs): what a stock VMM with one irqfd per vector has;
 *
 * the three alternate sample by sample, and which goes first rotates.
 * With IRQROUTE_BENCH_TRACE set, a few calls of each path are traced
 * afterwards (ftrace.c); with IRQROUTE_BENCH_TRACE_AUTO=<ratio>, only if
 * set_msi took at least <ratio> times the push on the same VM.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

#define FULL_GSI_BASE	256
#define FULL_N		1024
#define FULL_N_QUICK	64
#define FULL_TRACED	4	/* calls of each path under ftrace */

struct full {
	struct guest *g, *gs;
	struct irqroute *ir;
	struct irqroute_route **r;
	int *efd;
	unsigned int n, vec;
	struct kvm_irq_routing *t;
};

static uint64_t full_commits(struct full *f)
{
	struct irqroute_stats st;

	check(rt_stats(f->ir, &st), "irqroute_get_stats");
	return st.commits;
}

static void full_setup(struct full *f, unsigned int n)
{
	const struct irqroute_opts opts = {
		.gsi_base = FULL_GSI_BASE,
		.nr_routes = n,
		.flags = 0,
	};
	unsigned int i;

	f->n = n;
	f->vec = VEC_A;
	f->g = guest_create(1);
	f->gs = guest_create(1);
	if (!f->g || !f->gs)
		fail("guest_create failed");
	f->r = calloc(n, sizeof(*f->r));
	f->efd = calloc(n, sizeof(*f->efd));
	if (!f->r || !f->efd)
		fail("out of memory");
	check(irqroute_attach(guest_vm_fd(f->g), &opts, &f->ir),
	      "irqroute_attach (no defaults, no base routes)");
	for (i = 0; i < n; i++)
		check(irqroute_route_create(f->ir, &f->r[i]),
		      "irqroute_route_create");
	check(irqroute_batch_begin(f->ir), "irqroute_batch_begin");
	for (i = 0; i < n; i++)
		check(rt_set_msi(f->r[i], 0, VEC_A),
		      "irqroute_set_msi (deferred)");
	check(irqroute_batch_commit(f->ir), "irqroute_batch_commit");
	for (i = 0; i < n; i++)
		f->efd[i] = kvm_irqfd_new(guest_vm_fd(f->gs),
					  FULL_GSI_BASE + i);
	f->t = kvm_table_msis(FULL_GSI_BASE, n);
	check(kvm_push(guest_vm_fd(f->gs), f->t), "KVM_SET_GSI_ROUTING");
}

static void full_teardown(struct full *f)
{
	unsigned int i;

	irqroute_detach(f->ir);
	for (i = 0; i < f->n; i++)
		close(f->efd[i]);
	free(f->t);
	free(f->r);
	free(f->efd);
	guest_destroy(f->gs);
	guest_destroy(f->g);
}

/* Route 0 to the other vector: every call commits. */
static uint64_t full_set_msi(struct full *f)
{
	uint64_t t0;

	f->vec = f->vec == VEC_A ? VEC_B : VEC_A;
	t0 = now_ns();
	check(rt_set_msi(f->r[0], 0, f->vec), "irqroute_set_msi");
	t0 = now_ns() - t0;
	kvm_table_set_vec(f->t, f->n, 0, f->vec);
	return t0;
}

/* The table the module has just committed, pushed raw to @vm_fd. */
static uint64_t full_push(struct full *f, int vm_fd)
{
	uint64_t t0 = now_ns();

	check(kvm_push(vm_fd, f->t), "KVM_SET_GSI_ROUTING");
	return now_ns() - t0;
}

static uint64_t full_one(struct full *f, unsigned int path)
{
	switch (path) {
	case 0:
		return full_set_msi(f);
	case 1:
		return full_push(f, guest_vm_fd(f->g));
	default:
		return full_push(f, guest_vm_fd(f->gs));
	}
}

static void full_trace(struct full *f)
{
	static const char *const label[] = {
		"set_msi", "raw push, same VM", "raw push, raw irqfds",
	};
	unsigned int path, i;

	note("full range: ftrace, %u calls of each path", FULL_TRACED);
	ftrace_start();
	for (path = 0; path < 3; path++) {
		ftrace_mark(label[path]);
		for (i = 0; i < FULL_TRACED; i++)
			full_one(f, path);
	}
	ftrace_stop();
}

/* One row: set_msi against one of the stock pushes, target 1.1x. */
static void full_row(struct row *row, double ir, unsigned int ir_n,
		     double stock, unsigned int stock_n, double paired_diff)
{
	row_target(row, TGT_RATIO_MAX, 1.1, "<= 1.1");
	row->ir = ir;
	row->ir_n = ir_n;
	row->stock = stock;
	row->stock_n = stock_n;
	snprintf(row->note, sizeof(row->note), "paired difference %.0f us",
		 paired_diff);
}

void bench_full_range(void)
{
	/* IRQROUTE_BENCH_FULL_N: another range size, for a trace. */
	unsigned int n = guest_env_ulong("IRQROUTE_BENCH_FULL_N",
					 cfg.quick ? FULL_N_QUICK : FULL_N);
	unsigned int max = guest_env_ulong("IRQROUTE_BENCH_FULL_ITERS",
					   cfg.slow_iters);
	struct sample s[3];
	double d_same, d_raw, med[3];
	unsigned int i, k, cnt[3];
	struct row *row;
	struct full f;
	uint64_t c0;

	if (!n || n > IRQROUTE_MAX_ROUTES - FULL_GSI_BASE)
		fail("IRQROUTE_BENCH_FULL_N=%u: 1 to %u", n,
		     IRQROUTE_MAX_ROUTES - FULL_GSI_BASE);
	note("full range: %u routes from GSI %u, no defaults, no base routes",
	     n, FULL_GSI_BASE);
	full_setup(&f, n);
	c0 = full_commits(&f);
	for (k = 0; k < 3; k++)
		s_init_budget(&s[k], max, 4 * cfg.budget_s);
	for (i = 0; s_more(&s[0]) || s_more(&s[1]) || s_more(&s[2]); i++) {
		/* Which path goes first rotates. */
		for (k = 0; k < 3; k++) {
			unsigned int p = (i + k) % 3;

			if (s_more(&s[p]))
				s_add(&s[p], full_one(&f, p));
		}
	}
	if (full_commits(&f) - c0 != s[0].n)
		fail("full range: %u set_msi calls, %llu commits", s[0].n,
		     (unsigned long long)(full_commits(&f) - c0));
	d_same = s_paired_diff_us(&s[0], &s[1]);
	d_raw = s_paired_diff_us(&s[0], &s[2]);
	for (k = 0; k < 3; k++)
		med[k] = s_median_us(&s[k], &cnt[k]);
	if (ftrace_wanted() || ftrace_auto(med[0] / med[1]))
		full_trace(&f);
	full_teardown(&f);

	row = row_set(ROW_FULL_SAME_VM, "us",
		      "set_msi, 1 of %u, no defaults or base routes "
		      "(stock: KVM_SET_GSI_ROUTING, same table, same VM)", n);
	full_row(row, med[0], cnt[0], med[1], cnt[1], d_same);
	row = row_set(ROW_FULL_RAW_VM, "us",
		      "the same set_msi (stock: the same push, a VM with "
		      "%u raw KVM irqfds)", n);
	full_row(row, med[0], cnt[0], med[2], cnt[2], d_raw);
	detail("\n#### set_msi on a full range without defaults or base "
	       "routes\n\n"
	       "Attached with gsi_base %u, nr_routes %u, flags 0; every "
	       "route has an MSI. Medians of %u alternating samples, us.\n\n"
	       "| set_msi, 1 of %u | raw push, same VM | raw push, VM with "
	       "%u raw irqfds | set_msi - push, same VM (paired) "
	       "| set_msi - push, raw irqfds (paired) |\n"
	       "|---:|---:|---:|---:|---:|\n"
	       "| %.0f | %.0f | %.0f | %.0f | %.0f |\n",
	       FULL_GSI_BASE, n, cnt[0], n, n, med[0], med[1], med[2],
	       d_same, d_raw);
}
