// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: irqroute against the stock KVM paths, in one boot and on
 * one L2 guest (see selftests/lib/guest.h).
 *
 *   1. mask+unmask: the shared page, the ioctls, and KVM_IRQFD
 *      deassign+assign of a raw irqfd (the stock way to mask).
 *   2. set_msi on one route of N (16, 256) vs one KVM_SET_GSI_ROUTING of
 *      N MSI entries, measured on the same VM before attach.
 *   3. eventfd signal until the guest's counter moves: a route's trigger
 *      vs a raw KVM irqfd on its own MSI GSI.
 *
 * Prints medians as a markdown table. A measurement tool: no thresholds;
 * the exit status is non-zero only if an operation fails.
 *
 * Environment: IRQROUTE_BENCH_ITERS (fast ops, default 1000),
 * IRQROUTE_BENCH_SLOW_ITERS (routing table updates, irqfd re-assign and
 * delivery, default 200), IRQROUTE_BENCH_BUDGET_S (per measurement, a row
 * stops early after this many seconds, default 15).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>

#include "rtenv.h"

#define GSI_BASE	1024
#define NR_ROUTES	512
#define RAW_GSI		100
#define VEC_ROUTE	0x50
#define VEC_ROUTE2	0x51
#define VEC_RAW		0x40
#define MAX_N		256

struct sample {
	uint64_t *ns;
	unsigned int n, max;
	uint64_t deadline;
};

struct row {
	char op[80];
	double ir_us, stock_us;
	unsigned int ir_n, stock_n;
};

static struct row rows[8];
static unsigned int nr_rows;
static unsigned int iters, slow_iters, budget_s;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "irqroute-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void check(int ret, const char *what)
{
	if (ret)
		fail("%s: %s", what, strerror(ret < 0 ? -ret : ret));
}

static void s_init(struct sample *s, unsigned int max)
{
	s->ns = calloc(max, sizeof(*s->ns));
	if (!s->ns)
		fail("out of memory");
	s->n = 0;
	s->max = max;
	s->deadline = now_ns() + (uint64_t)budget_s * 1000000000ULL;
}

/* True while another sample is wanted. */
static bool s_more(const struct sample *s)
{
	return s->n < s->max && (s->n < 10 || now_ns() < s->deadline);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median in microseconds; frees the samples. */
static double s_median_us(struct sample *s, unsigned int *n)
{
	double m;

	if (!s->n)
		fail("no samples");
	qsort(s->ns, s->n, sizeof(*s->ns), cmp_u64);
	m = s->n & 1 ? s->ns[s->n / 2] :
		(s->ns[s->n / 2 - 1] + s->ns[s->n / 2]) / 2.0;
	*n = s->n;
	free(s->ns);
	return m / 1000.0;
}

/* Rows print in the order of the header comment, whatever the run order. */
enum {
	ROW_MASK_PAGE,
	ROW_MASK_IOCTL,
	ROW_SET_MSI,			/* one row per N */
	ROW_DELIVERY = ROW_SET_MSI + 2,
	NR_ROWS,
};

static struct row *row_add(unsigned int idx, const char *op)
{
	struct row *r = &rows[idx];

	if (idx + 1 > nr_rows)
		nr_rows = idx + 1;

	snprintf(r->op, sizeof(r->op), "%s", op);
	return r;
}

/* ---- 1. mask+unmask ---------------------------------------------------- */

static void bench_mask_page(struct irqroute_route *r, struct row *row)
{
	struct sample s;
	uint64_t t0;

	s_init(&s, iters);
	while (s_more(&s)) {
		t0 = now_ns();
		check(irqroute_mask(r), "irqroute_mask");
		check(irqroute_unmask(r), "irqroute_unmask");
		s.ns[s.n++] = now_ns() - t0;
	}
	row->ir_us = s_median_us(&s, &row->ir_n);
}

static void bench_mask_ioctl(struct irqroute_route *r, struct row *row)
{
	struct sample s;
	uint64_t t0;

	s_init(&s, iters);
	while (s_more(&s)) {
		t0 = now_ns();
		check(irqroute_mask_ioctl(r), "irqroute_mask_ioctl");
		check(irqroute_unmask_ioctl(r), "irqroute_unmask_ioctl");
		s.ns[s.n++] = now_ns() - t0;
	}
	row->ir_us = s_median_us(&s, &row->ir_n);
}

static int kvm_irqfd(int vm_fd, int efd, uint32_t gsi, uint32_t flags)
{
	struct kvm_irqfd irqfd = { .fd = efd, .gsi = gsi, .flags = flags };

	return ioctl(vm_fd, KVM_IRQFD, &irqfd) ? -errno : 0;
}

static double bench_mask_irqfd(int vm_fd, int efd, unsigned int *n)
{
	struct sample s;
	uint64_t t0;

	s_init(&s, iters);
	while (s_more(&s)) {
		t0 = now_ns();
		check(kvm_irqfd(vm_fd, efd, RAW_GSI, KVM_IRQFD_FLAG_DEASSIGN),
		      "KVM_IRQFD deassign");
		check(kvm_irqfd(vm_fd, efd, RAW_GSI, 0), "KVM_IRQFD assign");
		s.ns[s.n++] = now_ns() - t0;
	}
	return s_median_us(&s, n);
}

/* ---- 2. set_msi vs KVM_SET_GSI_ROUTING ---------------------------------- */

static struct kvm_irq_routing *routing_table(unsigned int n, unsigned int vec)
{
	struct kvm_irq_routing *t;
	unsigned int i;

	t = calloc(1, sizeof(*t) + n * sizeof(t->entries[0]));
	if (!t)
		fail("out of memory");
	t->nr = n;
	for (i = 0; i < n; i++)
		rt_msi_entry(&t->entries[i], GSI_BASE + i, 0,
			     i ? VEC_ROUTE : vec);
	return t;
}

/* Before attach: KVM's own table update, alternating entry 0's vector. */
static double bench_set_gsi_routing(int vm_fd, unsigned int n,
				    unsigned int *nr)
{
	struct kvm_irq_routing *t[2];
	struct sample s;
	uint64_t t0;

	t[0] = routing_table(n, VEC_ROUTE);
	t[1] = routing_table(n, VEC_ROUTE2);
	s_init(&s, slow_iters);
	while (s_more(&s)) {
		t0 = now_ns();
		if (ioctl(vm_fd, KVM_SET_GSI_ROUTING, t[s.n & 1]))
			fail("KVM_SET_GSI_ROUTING (%u entries): %s", n,
			     strerror(errno));
		s.ns[s.n++] = now_ns() - t0;
	}
	free(t[0]);
	free(t[1]);
	return s_median_us(&s, nr);
}

static double bench_set_msi(struct irqroute_route *r, unsigned int *nr)
{
	struct sample s;
	uint64_t t0;

	s_init(&s, slow_iters);
	while (s_more(&s)) {
		t0 = now_ns();
		check(rt_set_msi(r, 0, s.n & 1 ? VEC_ROUTE2 : VEC_ROUTE),
		      "irqroute_set_msi");
		s.ns[s.n++] = now_ns() - t0;
	}
	check(rt_set_msi(r, 0, VEC_ROUTE), "irqroute_set_msi");
	return s_median_us(&s, nr);
}

/* ---- 3. delivery latency ----------------------------------------------- */

/* Signal @efd, spin until (vCPU 0, @vector) moves. */
static double bench_delivery(const struct guest *g, int efd,
			     unsigned int vector, unsigned int *nr)
{
	uint64_t t0, t, limit = (uint64_t)guest_timeout_ms() * 1000000ULL;
	uint32_t before;
	struct sample s;

	s_init(&s, slow_iters);
	while (s_more(&s)) {
		before = guest_count(g, 0, vector);
		t0 = now_ns();
		check(guest_signal_fd(efd), "eventfd write");
		do {
			t = now_ns();
			if (t - t0 > limit)
				fail("vector %#x not delivered after %u ms",
				     vector, guest_timeout_ms());
		} while (guest_count(g, 0, vector) == before);
		s.ns[s.n++] = t - t0;
		if (guest_count(g, 0, vector) != before + 1)
			fail("vector %#x: %u interrupts for one signal",
			     vector, guest_count(g, 0, vector) - before);
	}
	return s_median_us(&s, nr);
}

/* ---- main -------------------------------------------------------------- */

static void print_table(void)
{
	struct utsname u;
	unsigned int i;

	uname(&u);
	printf("\nkernel: %s %s (%s)\n", u.release, u.version, u.machine);
	printf("iterations: fast %u, slow %u, budget %u s per measurement\n\n",
	       iters, slow_iters, budget_s);
	printf("| operation | irqroute median (us) | stock median (us) "
	       "| ratio irqroute/stock | n irqroute/stock |\n");
	printf("|---|---:|---:|---:|---:|\n");
	for (i = 0; i < nr_rows; i++) {
		struct row *r = &rows[i];

		printf("| %s | %.2f | %.2f | %.3g | %u/%u |\n", r->op,
		       r->ir_us, r->stock_us, r->ir_us / r->stock_us,
		       r->ir_n, r->stock_n);
	}
	fflush(stdout);
}

int main(void)
{
	static const unsigned int ns[] = { 16, MAX_N };
	struct irqroute_opts opts = {
		.gsi_base = GSI_BASE, .nr_routes = NR_ROUTES,
	};
	double stock_routing[2], mask_stock;
	unsigned int stock_routing_n[2], mask_stock_n;
	struct irqroute_route *r[MAX_N];
	struct kvm_irq_routing_entry base;
	struct row *pg, *io, *row;
	struct irqroute *ir;
	struct guest *g;
	unsigned int i, k, have;
	int vm_fd, raw_efd;

	iters = guest_env_ulong("IRQROUTE_BENCH_ITERS", 1000);
	slow_iters = guest_env_ulong("IRQROUTE_BENCH_SLOW_ITERS", 200);
	budget_s = guest_env_ulong("IRQROUTE_BENCH_BUDGET_S", 15);
	if (!iters || !slow_iters)
		fail("zero iterations");

	/* One vCPU: the other L1 CPU is left to this thread. */
	g = guest_create(1);
	if (!g)
		fail("guest_create failed");
	vm_fd = guest_vm_fd(g);

	/* 2, stock side: the same VM, before irqroute owns its table. */
	for (k = 0; k < 2; k++)
		stock_routing[k] = bench_set_gsi_routing(vm_fd, ns[k],
							 &stock_routing_n[k]);
	if (ioctl(vm_fd, KVM_SET_GSI_ROUTING,
		  &(struct kvm_irq_routing){ .nr = 0 }))
		fail("KVM_SET_GSI_ROUTING (empty): %s", strerror(errno));

	check(irqroute_attach(vm_fd, &opts, &ir), "irqroute_attach");

	/* 2, irqroute side: N routes with an MSI each, no base routes. */
	have = 0;
	for (k = 0; k < 2; k++) {
		char op[80];

		for (; have < ns[k]; have++)
			check(rt_route_new(ir, 0, VEC_ROUTE, &r[have]),
			      "route create");
		snprintf(op, sizeof(op),
			 "set_msi, 1 of %u routes (stock: KVM_SET_GSI_ROUTING)",
			 ns[k]);
		row = row_add(ROW_SET_MSI + k, op);
		row->ir_us = bench_set_msi(r[0], &row->ir_n);
		row->stock_us = stock_routing[k];
		row->stock_n = stock_routing_n[k];
	}
	for (i = 1; i < have; i++)
		irqroute_route_destroy(r[i]);

	/* The stock path: a base MSI route and a raw KVM irqfd on it. */
	rt_msi_entry(&base, RAW_GSI, 0, VEC_RAW);
	check(irqroute_set_base_routes(ir, &base, 1), "set_base_routes");
	check(rt_raw_irqfd(g, RAW_GSI, &raw_efd), "raw KVM_IRQFD");

	/* 1. mask+unmask, nothing pending. */
	pg = row_add(ROW_MASK_PAGE,
		     "mask+unmask, shared page (stock: KVM_IRQFD deassign+assign)");
	bench_mask_page(r[0], pg);
	io = row_add(ROW_MASK_IOCTL,
		     "mask+unmask, ioctls (stock: KVM_IRQFD deassign+assign)");
	bench_mask_ioctl(r[0], io);
	mask_stock = bench_mask_irqfd(vm_fd, raw_efd, &mask_stock_n);
	pg->stock_us = io->stock_us = mask_stock;
	pg->stock_n = io->stock_n = mask_stock_n;
	if (irqroute_pending(r[0]))
		fail("route pending after mask+unmask without a signal");

	/* 3. delivery: trigger eventfd vs raw irqfd, to vCPU 0. */
	row = row_add(ROW_DELIVERY,
		      "signal to guest delivery (stock: raw KVM irqfd)");
	row->ir_us = bench_delivery(g, irqroute_route_event(r[0]), VEC_ROUTE,
				    &row->ir_n);
	row->stock_us = bench_delivery(g, raw_efd, VEC_RAW, &row->stock_n);

	print_table();

	check(kvm_irqfd(vm_fd, raw_efd, RAW_GSI, KVM_IRQFD_FLAG_DEASSIGN),
	      "KVM_IRQFD deassign");
	close(raw_efd);
	irqroute_route_destroy(r[0]);
	irqroute_detach(ir);
	guest_destroy(g);
	return 0;
}
