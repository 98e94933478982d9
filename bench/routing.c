// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: reprogramming with N routes, and memory per route.
 *
 *  - set_msi of one route among N, against one stock KVM_SET_GSI_ROUTING
 *    of the same table (KVM's x86 defaults, one base route, N MSIs);
 *  - a batch: N deferred set_msi and one commit, against N single ones;
 *  - kernel memory per route, against an eventfd + raw KVM irqfd.
 *
 * The stock push goes to the same VM, with the table the module has just
 * committed (see kvm_table()): same VM, same N irqfds (KVM walks every
 * irqfd on a table swap; a stock VMM has one per vector too), same table;
 * only the path differs. Pushes and set_msi calls alternate, sample by
 * sample, so that drift in the L1 hits both alike. The floor, a push on a
 * VM without any irqfd, is measured on the second VM ("no irqfds").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int stock_fd(struct bench *b)
{
	return guest_vm_fd(b->gs);
}

static uint64_t commits(struct bench *b)
{
	struct irqroute_stats st;

	check(rt_stats(b->ir, &st), "irqroute_get_stats");
	return st.commits;
}

static uint64_t skipped(struct bench *b)
{
	struct irqroute_stats st;

	check(rt_stats(b->ir, &st), "irqroute_get_stats");
	return st.commits_skipped;
}

/* IRQROUTE_COMMIT with nothing staged: the module's side alone. */
static double empty_commit(struct bench *b, unsigned int n)
{
	uint64_t t0, c0 = skipped(b);
	struct sample s;
	unsigned int cnt;

	s_init(&s, cfg.slow_iters);
	while (s_more(&s)) {
		t0 = now_ns();
		check(irqroute_batch_begin(b->ir), "irqroute_batch_begin");
		check(irqroute_batch_commit(b->ir), "irqroute_batch_commit");
		s_add(&s, now_ns() - t0);
	}
	if (skipped(b) - c0 != s.n)
		fail("empty commits with %u routes: %u calls, %llu skipped", n,
		     s.n, (unsigned long long)(skipped(b) - c0));
	return s_median_us(&s, &cnt);
}

/* KVM_SET_GSI_ROUTING of @n MSIs, no irqfds, changing route 0's vector. */
static double push_floor(struct bench *b, unsigned int n, unsigned int *cnt)
{
	struct kvm_irq_routing *t = kvm_table(BENCH_GSI_BASE, n, true);
	struct sample s;
	uint64_t t0;

	s_init(&s, cfg.slow_iters);
	while (s_more(&s)) {
		kvm_table_set_vec(t, n, 0, s.n & 1 ? VEC_A : VEC_B);
		t0 = now_ns();
		check(kvm_push(stock_fd(b), t), "KVM_SET_GSI_ROUTING");
		s_add(&s, now_ns() - t0);
	}
	free(t);
	return s_median_us(&s, cnt);
}

/* @n more eventfds with a raw KVM irqfd on the second VM. */
static void grow_stock(struct bench *b, unsigned int n)
{
	n += b->nr_stock;
	for (; b->nr_stock < n; b->nr_stock++)
		b->stock_efd[b->nr_stock] =
			kvm_irqfd_new(stock_fd(b),
				      BENCH_GSI_BASE + b->nr_stock);
}

static void grow_routes(struct bench *b, unsigned int n)
{
	for (; b->nr_r < n; b->nr_r++)
		check(irqroute_route_create(b->ir, &b->r[b->nr_r]),
		      "irqroute_route_create");
}

/* Points routes [@from, @n) at @vec in one commit. */
static void set_all(struct bench *b, unsigned int from, unsigned int n,
		    unsigned int vec)
{
	unsigned int i;

	check(irqroute_batch_begin(b->ir), "irqroute_batch_begin");
	for (i = from; i < n; i++)
		check(rt_set_msi(b->r[i], 0, vec),
		      "irqroute_set_msi (deferred)");
	check(irqroute_batch_commit(b->ir), "irqroute_batch_commit");
}

static uint64_t timed_set_msi(struct bench *b, unsigned int vec)
{
	uint64_t t0 = now_ns();

	check(rt_set_msi(b->r[0], 0, vec), "irqroute_set_msi");
	return now_ns() - t0;
}

static uint64_t timed_push(struct bench *b, struct kvm_irq_routing *t)
{
	uint64_t t0 = now_ns();

	check(kvm_push(guest_vm_fd(b->g), t), "KVM_SET_GSI_ROUTING");
	return now_ns() - t0;
}

/* A push KVM must refuse (EINVAL): its time. */
static uint64_t timed_refused_push(int vm_fd, struct kvm_irq_routing *t)
{
	uint64_t t0 = now_ns(), dt;
	int ret;

	ret = kvm_push(vm_fd, t);
	dt = now_ns() - t0;
	if (ret != -EINVAL)
		fail("a table KVM must refuse was pushed: %d", ret);
	return dt;
}

/*
 * Route 0 alternates between VEC_B and VEC_A (it starts at VEC_A), so that
 * every set_msi really commits; the commit counter checks that. The stock
 * push after it sends the table as the module committed it.
 */
static double set_msi_vs_push(struct bench *b, unsigned int n,
			      struct row *row)
{
	struct kvm_irq_routing *t = kvm_table(BENCH_GSI_BASE, n, true);
	unsigned int i, vec = VEC_A;
	struct sample si, ss;
	double paired;
	uint64_t c0;

	c0 = commits(b);
	s_init(&si, cfg.slow_iters);
	s_init(&ss, cfg.slow_iters);
	for (i = 0; s_more(&si) || s_more(&ss); i++) {
		/* Which goes first alternates too. */
		if (i & 1 && s_more(&ss))
			s_add(&ss, timed_push(b, t));
		if (s_more(&si)) {
			vec = vec == VEC_A ? VEC_B : VEC_A;
			s_add(&si, timed_set_msi(b, vec));
			kvm_table_set_vec(t, n, 0, vec);
		}
		if (!(i & 1) && s_more(&ss))
			s_add(&ss, timed_push(b, t));
	}
	if (commits(b) - c0 != si.n)
		fail("set_msi with %u routes: %u calls, %llu commits", n, si.n,
		     (unsigned long long)(commits(b) - c0));
	check(rt_set_msi(b->r[0], 0, VEC_A), "irqroute_set_msi");
	free(t);
	paired = s_paired_diff_us(&si, &ss);
	row->ir = s_median_us(&si, &row->ir_n);
	row->stock = s_median_us(&ss, &row->stock_n);
	return paired;
}

/*
 * Both pay KVM's copy of the whole table and its setup of the entries
 * before the bad one, then KVM keeps its table; the difference is the
 * module's ioctl, scans of the routes and table build.
 */
double module_share(int vm_fd, struct irqroute *ir, unsigned int n,
		    double *ir_us, double *stock_us)
{
	struct kvm_irq_routing *t = kvm_table(BENCH_GSI_BASE, n, true);
	struct kvm_irq_routing_entry bad;
	struct sample si, ss;
	unsigned int i, cnt;
	uint64_t t0;
	double d, m;
	int ret;

	rt_msi_entry(&bad, BENCH_RAW_GSI, 0, VEC_RAW);
	bad.type = 0xbad;
	t->entries[t->nr - n - 1] = bad;
	s_init(&si, cfg.slow_iters);
	s_init(&ss, cfg.slow_iters);
	for (i = 0; s_more(&si) || s_more(&ss); i++) {
		if (i & 1 && s_more(&ss))
			s_add(&ss, timed_refused_push(vm_fd, t));
		if (s_more(&si)) {
			t0 = now_ns();
			ret = irqroute_set_base_routes(ir, &bad, 1);
			s_add(&si, now_ns() - t0);
			if (ret != -EINVAL)
				fail("bad base route committed: %d", ret);
		}
		if (!(i & 1) && s_more(&ss))
			s_add(&ss, timed_refused_push(vm_fd, t));
	}
	free(t);
	d = s_paired_diff_us(&si, &ss);
	m = s_median_us(&si, &cnt);
	if (ir_us)
		*ir_us = m;
	m = s_median_us(&ss, &cnt);
	if (stock_us)
		*stock_us = m;
	return d;
}

/*
 * The module's own share of a retarget without KVM's grace period: a
 * set_msi KVM refuses, against a raw push of the same refused table. The
 * VM takes 32-bit x2APIC IDs (KVM_CAP_X2APIC_API; the benchmark's MSIs
 * have address_hi 0, which means the same), under which an MSI with any
 * of address_hi's bits 0-7 set is invalid: KVM fails both at route 0's
 * entry, having copied the whole table, before its grace period. Before
 * each pair an accepted set_msi (untimed) puts the table back in the
 * scratch area, as a retarget finds it after a commit.
 */
static double retarget_share(struct bench *b, unsigned int n)
{
	struct kvm_irq_routing *t = kvm_table(BENCH_GSI_BASE, n, true);
	uint64_t addr = guest_msi_address(0), bad = addr | 1ull << 32;
	int vm_fd = guest_vm_fd(b->g);
	struct sample si, ss;
	unsigned int i;
	uint64_t t0;
	int ret;

	kvm_x2apic_ids(vm_fd);
	t->entries[t->nr - n].u.msi.address_hi = (uint32_t)(bad >> 32);
	s_init(&si, cfg.slow_iters);
	s_init(&ss, cfg.slow_iters);
	for (i = 0; s_more(&si) || s_more(&ss); i++) {
		check(irqroute_set_msi(b->r[0], addr, i & 1 ? VEC_A : VEC_B),
		      "irqroute_set_msi");
		if (i & 1 && s_more(&ss))
			s_add(&ss, timed_refused_push(vm_fd, t));
		if (s_more(&si)) {
			t0 = now_ns();
			ret = irqroute_set_msi(b->r[0], bad, VEC_A);
			s_add(&si, now_ns() - t0);
			if (ret != -EINVAL)
				fail("bad MSI committed: %d", ret);
		}
		if (!(i & 1) && s_more(&ss))
			s_add(&ss, timed_refused_push(vm_fd, t));
	}
	check(rt_set_msi(b->r[0], 0, VEC_A), "irqroute_set_msi");
	free(t);
	return s_paired_diff_us(&si, &ss);
}

/* begin, @n deferred set_msi, commit: the whole and the commit alone. */
static void batch(struct bench *b, unsigned int n, struct costn *c,
		  unsigned int *cnt)
{
	unsigned int max = cfg.slow_iters / 10 > 5 ? cfg.slow_iters / 10 : 5;
	struct sample tot, com;
	uint64_t t0, t1, c0;
	unsigned int i, vec;

	c0 = commits(b);
	s_init(&tot, max);
	s_init(&com, max);
	while (s_more(&tot)) {
		vec = tot.n & 1 ? VEC_A : VEC_B;
		t0 = now_ns();
		check(irqroute_batch_begin(b->ir), "irqroute_batch_begin");
		for (i = 0; i < n; i++)
			check(rt_set_msi(b->r[i], 0, vec),
			      "irqroute_set_msi (deferred)");
		t1 = now_ns();
		check(irqroute_batch_commit(b->ir), "irqroute_batch_commit");
		s_add(&com, now_ns() - t1);
		s_add(&tot, now_ns() - t0);
	}
	if (commits(b) - c0 != tot.n)
		fail("batch of %u: %u commits expected, %llu made", n, tot.n,
		     (unsigned long long)(commits(b) - c0));
	if (tot.n & 1)
		set_all(b, 0, n, VEC_A);
	c->batch = s_median_us(&tot, cnt);
	c->commit = s_median_us(&com, cnt);
}

/* Every route reprogrammed by its own set_msi, one commit each. */
static double singles(struct bench *b, unsigned int n, unsigned int *cnt)
{
	struct sample s;
	uint64_t t0, c0;
	unsigned int i, vec;

	c0 = commits(b);
	s_init(&s, cfg.quick ? 2 : 3);
	while (s_more(&s)) {
		vec = s.n & 1 ? VEC_A : VEC_B;
		t0 = now_ns();
		for (i = 0; i < n; i++)
			check(rt_set_msi(b->r[i], 0, vec), "irqroute_set_msi");
		s_add(&s, now_ns() - t0);
	}
	if (commits(b) - c0 != (uint64_t)s.n * n)
		fail("%u single set_msi rounds of %u: %llu commits", s.n, n,
		     (unsigned long long)(commits(b) - c0));
	if (s.n & 1)
		set_all(b, 0, n, VEC_A);
	return s_median_us(&s, cnt);
}

/* Grows both sides to @n with memory snapshots around each. */
static void grow_measured(struct bench *b, unsigned int n)
{
	unsigned int added = n - b->nr_r;
	struct mem_snap *m0, *m1, *m2;
	struct mem_delta ds, di;
	struct row *row;

	m0 = mem_snap();
	grow_stock(b, added);
	m1 = mem_snap();
	grow_routes(b, n);
	m2 = mem_snap();
	ds = mem_diff(m0, m1);
	di = mem_diff(m1, m2);

	row = row_set(ROW_MEM_ROUTE, "B",
		      "kernel memory per route, slab (stock: eventfd + raw KVM "
		      "irqfd per vector)");
	row_target(row, TGT_DIFF_MAX, 600,
		   "irqroute - stock <= 600 B (the module's own share)");
	row->ir = di.slab / added;
	row->stock = ds.slab / added;
	row->ir_n = row->stock_n = added;
	snprintf(row->note, sizeof(row->note), "own share %.0f B",
		 row->ir - row->stock);

	detail("\n#### Kernel memory per route\n\n"
	       "Growing from %u to %u routes on each side; /proc/meminfo "
	       "deltas divided by the %u routes added (no routing table "
	       "change in between). irqroute: a route = trigger eventfd + "
	       "private irqfd eventfd (the library closes its descriptor, "
	       "the module keeps the file) + KVM irqfd + the module's "
	       "struct irqroute_route. Stock: one eventfd + KVM irqfd.\n\n"
	       "| per route (bytes) | Slab | SUnreclaim | VmallocUsed "
	       "| Percpu | MemFree drop |\n|---|---:|---:|---:|---:|---:|\n",
	       n - added, n, added);
	detail("| irqroute route | %.0f | %.0f | %.0f | %.0f | %.0f |\n",
	       di.slab / added, di.sunreclaim / added, di.vmalloc / added,
	       di.percpu / added, di.memfree_drop / added);
	detail("| stock irqfd | %.0f | %.0f | %.0f | %.0f | %.0f |\n",
	       ds.slab / added, ds.sunreclaim / added, ds.vmalloc / added,
	       ds.percpu / added, ds.memfree_drop / added);
	mem_detail_caches("irqroute routes", m1, m2, added);
	mem_detail_caches("stock eventfd + KVM irqfd", m0, m1, added);
	mem_detail_vmalloc("irqroute routes", m1, m2, added);
	mem_snap_free(m0);
	mem_snap_free(m1);
	mem_snap_free(m2);
}

void bench_routing(struct bench *b)
{
	double bare[BENCH_MAX_NS];
	struct costn c[BENCH_MAX_NS] = { 0 };
	unsigned int k, n, cnt, from;
	struct row *row;

	/* The floor: no irqfd exists on the second VM yet. */
	for (k = 0; k < cfg.nr_ns; k++) {
		note("raw KVM_SET_GSI_ROUTING of %u MSIs, no irqfds",
		     cfg.ns[k]);
		bare[k] = push_floor(b, cfg.ns[k], &cnt);
	}

	for (k = 0; k < cfg.nr_ns; k++) {
		n = cfg.ns[k];
		note("%u routes: grow, set_msi vs push, batch", n);
		from = b->nr_r;
		if (k && k == cfg.nr_ns - 1)
			grow_measured(b, n);
		else
			grow_routes(b, n);
		set_all(b, from, n, VEC_A);

		row = row_set(ROW_SET_MSI + k, "us",
			      "set_msi, 1 of %u routes (stock: "
			      "KVM_SET_GSI_ROUTING of the same table, same "
			      "VM)", n);
		/* Issue 16, item 1. */
		row_target(row, TGT_RATIO_MAX, 1.05, "<= 1.05");
		c[k].paired = set_msi_vs_push(b, n, row);
		c[k].n = n;
		c[k].set_msi = row->ir;
		c[k].push = row->stock;
		c[k].push_bare = bare[k];
		c[k].empty = empty_commit(b, n);
		c[k].own = module_share(guest_vm_fd(b->g), b->ir, n, NULL,
					NULL);
		c[k].refused = retarget_share(b, n);
		batch(b, n, &c[k], &cnt);
		costn_add(&c[k]);

		if (n != cfg.singles_n)
			continue;
		note("%u routes: %u single commits", n, n);
		row = row_set(ROW_BATCH, "us",
			      "reprogram all %u vectors: one batch, %u "
			      "deferred set_msi + 1 commit (vs: %u single "
			      "set_msi commits)", n, n, n);
		row_target(row, TGT_RATIO_MAX, 0.01,
			   "<= 0.01 (>= 100x faster)");
		row->ir = c[k].batch;
		row->ir_n = cnt;
		row->stock = singles(b, n, &row->stock_n);
	}

	/*
	 * How the module's own share of a retarget grows with N (item 1:
	 * flat), and that of a commit that rebuilds and copies it all.
	 */
	k = cfg.nr_ns - 1;
	row = row_set(ROW_GROWTH, "us",
		      "commit cost as N grows: the module's own time per "
		      "set_msi at N = %u (refused, paired)", cfg.ns[k]);
	row->ir = c[k].refused;
	row->ir_n = cfg.slow_iters;
	snprintf(row->note, sizeof(row->note), "N = %u: %.0f us%s",
		 cfg.ns[0], c[0].refused, k > 1 ? ";" : "");
	for (from = 1; from < k; from++)
		snprintf(row->note + strlen(row->note),
			 sizeof(row->note) - strlen(row->note),
			 " %u: %.0f us%s", cfg.ns[from], c[from].refused,
			 from + 1 < k ? "," : "");
	snprintf(row->note + strlen(row->note),
		 sizeof(row->note) - strlen(row->note),
		 "; a rebuilding commit: %.0f us at N = %u, %.0f us at %u",
		 c[0].own, cfg.ns[0], c[k].own, cfg.ns[k]);
}
