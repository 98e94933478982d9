// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: signal-to-guest latency, from the eventfd write (or the
 * edu device's MSI) until the guest's interrupt handler has counted it, on
 * a route's trigger against a raw KVM irqfd. Both deliver to vCPU 0 of the
 * same guest; samples alternate between the two paths so that drift in a
 * noisy L1 hits both alike.
 *
 * The gate hands a signal to KVM directly, or through an irq_work when
 * the private eventfd's lock is busy; the module parameter
 * handoff_irq_work forces the latter, so both are measured.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "bench.h"
#include "edu.h"

#define HANDOFF_PARAM	"/sys/module/irqroute/parameters/handoff_irq_work"

/* Edu samples per trigger switch (VFIO_DEVICE_SET_IRQS is not free). */
#define EDU_BLOCK	20

struct path {
	const char *name;
	int efd;
	unsigned int vector;
	struct sample s;
	uint32_t start;
};

static void path_init(struct path *p, const struct guest *g, const char *name,
		      int efd, unsigned int vector)
{
	p->name = name;
	p->efd = efd;
	p->vector = vector;
	p->start = guest_count(g, 0, vector);
	s_init(&p->s, cfg.slow_iters);
}

/* One sample: @raise fires the interrupt, then spin until it is counted. */
static void path_sample(struct path *p, const struct guest *g,
			void (*raise)(struct path *p, void *arg), void *arg)
{
	uint32_t before = guest_count(g, 0, p->vector);
	uint64_t t0 = now_ns(), dt;

	raise(p, arg);
	dt = spin_delivery(g, p->vector, before, t0);
	if (!dt)
		fail("%s: vector %#x not delivered after %u ms", p->name,
		     p->vector, guest_timeout_ms());
	s_add(&p->s, dt);
}

/* Exactly one interrupt per sample, also after a settle time. */
static double path_finish(struct path *p, const struct guest *g,
			  unsigned int *n)
{
	uint32_t got;

	guest_msleep(GUEST_SETTLE_MS);
	got = guest_count(g, 0, p->vector) - p->start;
	if (got != p->s.n)
		fail("%s: %u interrupts for %u signals", p->name, got, p->s.n);
	return s_median_us(&p->s, n);
}

static void raise_eventfd(struct path *p, void *arg)
{
	check(guest_signal_fd(p->efd), "eventfd write");
}

/* Sets handoff_irq_work; false if this module has no such parameter. */
static bool handoff_irq_work(bool on)
{
	int fd = open(HANDOFF_PARAM, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, on ? "Y" : "N", 1) == 1;
	close(fd);
	if (!ok)
		fail("%s: %m", HANDOFF_PARAM);
	return true;
}

static void detail_pair(const char *what, const char *handoff,
			const struct row *r)
{
	detail("| %s | %s | %.0f | %.0f | %.3g | %u/%u |\n", what, handoff,
	       r->ir, r->stock, r->ir / r->stock, r->ir_n, r->stock_n);
}

static void eventfd_pair(struct bench *b, struct row *row)
{
	struct path ir, raw, *first, *second;
	unsigned int i;

	path_init(&ir, b->g, "route trigger", irqroute_route_event(b->r[0]),
		  VEC_A);
	path_init(&raw, b->g, "raw irqfd", b->raw_efd, VEC_RAW);
	for (i = 0; s_more(&ir.s) || s_more(&raw.s); i++) {
		first = i & 1 ? &raw : &ir;
		second = i & 1 ? &ir : &raw;
		path_sample(first, b->g, raise_eventfd, NULL);
		path_sample(second, b->g, raise_eventfd, NULL);
	}
	row->ir = path_finish(&ir, b->g, &row->ir_n);
	row->stock = path_finish(&raw, b->g, &row->stock_n);
}

void bench_delivery(struct bench *b)
{
	struct row *row, alt;

	note("delivery latency, eventfd");
	detail("\n#### Signal to guest ISR: the gate's hand-off\n\n"
	       "The default is the direct hand-off from the gate; "
	       "`handoff_irq_work=1` forces the irq_work fallback (one "
	       "self-IPI later).\n\n"
	       "| source | hand-off | irqroute median (us) "
	       "| raw irqfd median (us) | ratio | n |\n"
	       "|---|---|---:|---:|---:|---:|\n");
	row = row_set(ROW_DELIVERY, "us",
		      "signal to guest ISR, eventfd write "
		      "(stock: raw KVM irqfd)");
	row_target(row, TGT_RATIO_MAX, 1.2, "<= 1.2");
	eventfd_pair(b, row);
	detail_pair("eventfd write", "direct (default)", row);
	if (handoff_irq_work(true)) {
		eventfd_pair(b, &alt);
		handoff_irq_work(false);
		detail_pair("eventfd write", "irq_work", &alt);
	}
}

static void raise_edu(struct path *p, void *arg)
{
	struct edu *d = arg;

	edu_raise(d);
}

static void edu_block(struct edu *d, struct path *p, const struct guest *g)
{
	unsigned int i;

	check(edu_set_trigger(d, p->efd), "VFIO_DEVICE_SET_IRQS (edu MSI)");
	for (i = 0; i < EDU_BLOCK && s_more(&p->s); i++) {
		path_sample(p, g, raise_edu, d);
		/* The status bit does not gate MSIs; keep it clean anyway. */
		edu_ack(d, ~0u);
	}
}

static void edu_pair(struct bench *b, struct edu *d, struct row *row)
{
	struct path ir, raw;

	path_init(&ir, b->g, "edu -> route trigger",
		  irqroute_route_event(b->r[0]), VEC_A);
	path_init(&raw, b->g, "edu -> raw irqfd", b->raw_efd, VEC_RAW);
	while (s_more(&ir.s) || s_more(&raw.s)) {
		edu_block(d, &ir, b->g);
		edu_block(d, &raw, b->g);
	}
	row->ir = path_finish(&ir, b->g, &row->ir_n);
	row->stock = path_finish(&raw, b->g, &row->stock_n);
}

/*
 * The device's MSI: vfio-pci's hard-IRQ handler signals the eventfd it
 * was given, a route's trigger or a raw KVM irqfd's eventfd.
 */
void bench_delivery_edu(struct bench *b)
{
	struct row *row, alt;
	struct edu *d;

	note("delivery latency, edu device MSI through vfio-pci");
	d = edu_open();
	if (!d)
		fail("edu_open failed (QEMU -device edu, vfio-pci)");
	row = row_set(ROW_DELIVERY_EDU, "us",
		      "edu device MSI to guest ISR via vfio-pci "
		      "(stock: raw KVM irqfd as the VFIO trigger)");
	row_target(row, TGT_RATIO_MAX, 1.2, "<= 1.2");
	edu_pair(b, d, row);
	detail_pair("edu MSI (vfio-pci)", "direct (default)", row);
	if (handoff_irq_work(true)) {
		edu_pair(b, d, &alt);
		handoff_irq_work(false);
		detail_pair("edu MSI (vfio-pci)", "irq_work", &alt);
	}
	edu_close(d);
}
