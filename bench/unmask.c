// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: the unmask that delivers a pending edge. A masked route
 * is signalled (the gate sets its pending bit), then irqroute_unmask()
 * clears the mask bit in the shared page, finds the pending bit and asks
 * the kernel for the edge (IRQROUTE_UNMASK, PENDING_ONLY). Timed: the
 * call itself, and from its start until the guest's ISR counted the edge.
 *
 * The stock counterpart is what QEMU's msix_vector_unmask() does when the
 * PBA bit is set: inject the MSI with KVM_SIGNAL_MSI. Samples alternate.
 *
 * Each is measured alone and while another thread commits the table in a
 * loop (irqroute_set_msi() on another route, alternating two MSIs, so
 * each call is a KVM_SET_GSI_ROUTING, which waits for an SRCU grace
 * period): the unmask must not queue behind another device's commit.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

#define VEC_C	0x52	/* the committer's second MSI */

struct committer {
	struct irqroute_route *r;
	pthread_t th;
	volatile bool stop;
	unsigned long commits;
};

static void *commit_loop(void *arg)
{
	struct committer *c = arg;

	while (!c->stop) {
		check(rt_set_msi(c->r, 0, c->commits & 1 ? VEC_B : VEC_C),
		      "irqroute_set_msi (committer)");
		c->commits++;
	}
	return NULL;
}

struct lat {
	double med, p99, max;
	unsigned int n;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median, 99th percentile (nearest rank) and maximum in us; frees @s. */
static struct lat lat_of(struct sample *s)
{
	struct lat l = { .n = s->n };

	if (!s->n)
		fail("no samples");
	qsort(s->ns, s->n, sizeof(*s->ns), cmp_u64);
	l.med = (s->n & 1 ? s->ns[s->n / 2] :
		 (s->ns[s->n / 2 - 1] + s->ns[s->n / 2]) / 2.0) / 1000.0;
	l.p99 = s->ns[(s->n * 99 + 99) / 100 - 1] / 1000.0;
	l.max = s->ns[s->n - 1] / 1000.0;
	free(s->ns);
	s->ns = NULL;
	return l;
}

struct side {
	struct sample call, deliv;
	uint32_t start;
	unsigned int vector;
};

static void side_init(struct side *sd, const struct guest *g,
		      unsigned int vector, unsigned int n)
{
	sd->vector = vector;
	sd->start = guest_count(g, 0, vector);
	s_init(&sd->call, n);
	s_init(&sd->deliv, n);
}

static void side_add(struct side *sd, const struct guest *g, uint32_t before,
		     uint64_t t0, uint64_t t1, const char *what)
{
	uint64_t dt = spin_delivery(g, sd->vector, before, t0);

	if (!dt)
		fail("%s: vector %#x not delivered after %u ms", what,
		     sd->vector, guest_timeout_ms());
	s_add(&sd->call, t1 - t0);
	s_add(&sd->deliv, dt);
}

/* One irqroute sample: pend an edge on the masked route, then unmask. */
static void ir_sample(struct side *sd, struct guest *g,
		      struct irqroute_route *r)
{
	uint32_t before;
	uint64_t t0, t1;

	check(irqroute_mask(r), "irqroute_mask");
	before = guest_count(g, 0, sd->vector);
	check(rt_signal(r), "trigger write");
	/* The gate runs inside the write: the edge is pending now. */
	if (!irqroute_pending(r))
		fail("masked route not pending after a signal");
	t0 = now_ns();
	check(irqroute_unmask(r), "irqroute_unmask");
	t1 = now_ns();
	side_add(sd, g, before, t0, t1, "unmask with pending");
	if (irqroute_pending(r))
		fail("route still pending after unmask");
}

static void stock_sample(struct side *sd, struct guest *g)
{
	uint32_t before = guest_count(g, 0, sd->vector);
	uint64_t t0, t1;
	int ret;

	t0 = now_ns();
	ret = guest_signal_msi(g, guest_msi_address(0), sd->vector);
	t1 = now_ns();
	if (ret != 1)
		fail("KVM_SIGNAL_MSI returned %d", ret);
	side_add(sd, g, before, t0, t1, "KVM_SIGNAL_MSI");
}

/* Exactly one interrupt per sample, also after a settle time. */
static void side_check(struct side *sd, const struct guest *g,
		       const char *what)
{
	uint32_t got;

	guest_msleep(GUEST_SETTLE_MS);
	got = guest_count(g, 0, sd->vector) - sd->start;
	if (got != sd->call.n)
		report_problem("%s: %u interrupts for %u unmasks", what, got,
			       sd->call.n);
}

static void detail_lat(const char *load, const char *path, const char *what,
		       const struct lat *l, const struct lat *stock)
{
	char med[16] = "-", p99[16] = "-";

	if (stock) {
		snprintf(med, sizeof(med), "%.3g", l->med / stock->med);
		snprintf(p99, sizeof(p99), "%.3g", l->p99 / stock->p99);
	}
	detail("| %s | %s | %s | %.1f | %.1f | %.1f | %s | %s | %u |\n",
	       load, path, what, l->med, l->p99, l->max, med, p99, l->n);
}

static void unmask_run(struct bench *b, struct irqroute_route *r,
		       struct committer *c, enum row_id id, unsigned int n)
{
	const char *load = c ? "commit loop" : "alone";
	struct lat ir_call, ir_deliv, st_call, st_deliv;
	struct side ir, st;
	struct row *row;
	uint64_t t0 = now_ns();
	unsigned int i;

	if (c) {
		c->stop = false;
		c->commits = 0;
		if (pthread_create(&c->th, NULL, commit_loop, c))
			fail("pthread_create");
	}
	side_init(&ir, b->g, VEC_A, n);
	side_init(&st, b->g, VEC_RAW, n);
	for (i = 0; s_more(&ir.call) || s_more(&st.call); i++) {
		if (i & 1) {
			stock_sample(&st, b->g);
			ir_sample(&ir, b->g, r);
		} else {
			ir_sample(&ir, b->g, r);
			stock_sample(&st, b->g);
		}
	}
	if (c) {
		c->stop = true;
		pthread_join(c->th, NULL);
		detail("\nCommit loop: %lu commits in %.1f s, %.0f us "
		       "each.\n", c->commits, (now_ns() - t0) / 1e9,
		       c->commits ? (now_ns() - t0) / 1e3 / c->commits : 0);
	}
	side_check(&ir, b->g, "unmask with pending");
	side_check(&st, b->g, "KVM_SIGNAL_MSI");
	ir_call = lat_of(&ir.call);
	ir_deliv = lat_of(&ir.deliv);
	st_call = lat_of(&st.call);
	st_deliv = lat_of(&st.deliv);

	row = row_set(id, "us", "unmask with an edge pending, %s, call "
		      "(stock: KVM_SIGNAL_MSI)", load);
	row->ir = ir_call.med;
	row->ir_n = ir_call.n;
	row->stock = st_call.med;
	row->stock_n = st_call.n;
	snprintf(row->note, sizeof(row->note), "p99 %.0f/%.0f us, max "
		 "%.0f/%.0f us", ir_call.p99, st_call.p99, ir_call.max,
		 st_call.max);

	detail("\n| load | path | timed | median (us) | p99 (us) | max (us) "
	       "| median ratio | p99 ratio | n |\n"
	       "|---|---|---|---:|---:|---:|---:|---:|---:|\n");
	detail_lat(load, "irqroute_unmask()", "the call", &ir_call, &st_call);
	detail_lat(load, "KVM_SIGNAL_MSI", "the call", &st_call, NULL);
	detail_lat(load, "irqroute_unmask()", "to guest ISR", &ir_deliv,
		   &st_deliv);
	detail_lat(load, "KVM_SIGNAL_MSI", "to guest ISR", &st_deliv, NULL);
}

void bench_unmask(struct bench *b)
{
	struct committer c = { 0 };
	struct irqroute_route *r = b->r[0];
	unsigned int n = guest_env_ulong("IRQROUTE_BENCH_UNMASK_ITERS",
					 cfg.quick ? 50 : 1000);

	note("unmask with pending, alone and behind commits");
	check(rt_route_new(b->ir, 0, VEC_B, &c.r), "committer route");
	detail("\n#### Unmask with an edge pending, against another thread's "
	       "commits\n\n"
	       "irqroute_unmask() of a masked route whose pending bit is set "
	       "(the library clears the mask bit in the page and calls "
	       "IRQROUTE_UNMASK with PENDING_ONLY), against KVM_SIGNAL_MSI "
	       "(what QEMU does on an unmask with the PBA bit set), "
	       "alternating; \"commit loop\": another thread calls "
	       "irqroute_set_msi() on another route of the same attachment, "
	       "alternating two MSIs, so each call is a "
	       "KVM_SET_GSI_ROUTING. Ratios are irqroute / stock.\n");
	unmask_run(b, r, NULL, ROW_UNMASK_PENDING, n);
	unmask_run(b, r, &c, ROW_UNMASK_PENDING_COMMITS, n);
	irqroute_route_destroy(c.r);
}
