// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: sustained signals per second while another thread keeps
 * masking and unmasking, and the loss check that goes with it.
 *
 * irqroute masks through the shared page; the stock side masks a raw
 * irqfd the only way KVM offers, KVM_IRQFD deassign + assign.
 *
 * "Without loss" cannot mean "one guest interrupt per signal": edges
 * coalesce, legitimately, in the route's pending bit (like an MSI-X PBA
 * bit), in a queued hand-off, in the private irqfd's eventfd count and in
 * the guest's IRR. So it is checked as:
 *  1. every eventfd write reached the gate (stats: signals == writes);
 *  2. every mask period that ended with the pending bit set was followed
 *     by a hand-off to KVM (delivered >= such periods), and nothing is
 *     pending once the toggling stopped with the route unmasked;
 *  3. no invention: guest interrupts <= hand-offs <= signals;
 *  4. isolated probes while the toggling goes on: each single signal
 *     reaches the guest exactly once (none lost, none extra).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <sys/prctl.h>

#include "bench.h"

/*
 * Time the route spends masked, then unmasked, per toggle. The toggler
 * sleeps through it: spinning, it would take one of the L1's two CPUs
 * from the sender and the vCPU, and measure that instead of the gate.
 */
#define HOLD_NS		10000
/* The flood writes this many signals between clock reads. */
#define BURST		32

struct side {
	const char *name;
	struct bench *b;
	bool ir;			/* irqroute route, else raw irqfd */
	int efd;
	unsigned int vector;
	/* toggler */
	pthread_t th;
	int stop;
	unsigned long toggles, pending_periods;
	double toggles_per_s;		/* of the last flood */
};

static void hold(void)
{
	struct timespec ts = { .tv_nsec = HOLD_NS };

	nanosleep(&ts, NULL);
}

static void *toggle_route(void *arg)
{
	struct side *sd = arg;
	struct irqroute_route *r = sd->b->r[0];

	/* No timer slack: sleep HOLD_NS, not the default 50 us more. */
	prctl(PR_SET_TIMERSLACK, 1UL);
	while (!__atomic_load_n(&sd->stop, __ATOMIC_RELAXED)) {
		check(irqroute_mask(r), "irqroute_mask");
		hold();
		if (irqroute_pending(r))
			sd->pending_periods++;
		check(irqroute_unmask(r), "irqroute_unmask");
		hold();
		sd->toggles++;
	}
	return NULL;
}

static void *toggle_irqfd(void *arg)
{
	struct side *sd = arg;
	int vm_fd = guest_vm_fd(sd->b->g);

	prctl(PR_SET_TIMERSLACK, 1UL);
	while (!__atomic_load_n(&sd->stop, __ATOMIC_RELAXED)) {
		check(kvm_irqfd(vm_fd, sd->efd, BENCH_RAW_GSI,
				KVM_IRQFD_FLAG_DEASSIGN), "KVM_IRQFD deassign");
		hold();
		check(kvm_irqfd(vm_fd, sd->efd, BENCH_RAW_GSI, 0),
		      "KVM_IRQFD assign");
		hold();
		sd->toggles++;
	}
	return NULL;
}

static void toggler_start(struct side *sd)
{
	sd->stop = 0;
	sd->toggles = sd->pending_periods = 0;
	if (pthread_create(&sd->th, NULL, sd->ir ? toggle_route : toggle_irqfd,
			   sd))
		fail("pthread_create");
}

/* Joins after a whole toggle: the route is unmasked, the irqfd assigned. */
static void toggler_stop(struct side *sd)
{
	__atomic_store_n(&sd->stop, 1, __ATOMIC_RELAXED);
	pthread_join(sd->th, NULL);
}

/* Until the guest's count has not moved for 200 ms. */
static uint32_t settle(const struct guest *g, unsigned int vector)
{
	uint32_t c = guest_count(g, 0, vector), prev;
	unsigned int i;

	for (i = 0; i < 50; i++) {
		prev = c;
		guest_msleep(200);
		c = guest_count(g, 0, vector);
		if (c == prev)
			break;
	}
	return c;
}

static void stats(struct side *sd, struct irqroute_stats *st)
{
	if (sd->ir)
		check(rt_stats(sd->b->ir, st), "irqroute_get_stats");
}

/* Signals per second, with or without the toggler. */
static double flood(struct side *sd, bool toggle)
{
	const struct guest *g = sd->b->g;
	struct irqroute_stats st0 = { 0 }, st1 = { 0 };
	unsigned long sent = 0, i;
	uint64_t t0, t, dur = cfg.tput_ms * 1000000ULL;
	uint32_t c0, c1;
	double secs, sig, dlv, pnd, dfr;

	c0 = guest_count(g, 0, sd->vector);
	stats(sd, &st0);
	sd->toggles = sd->pending_periods = 0;
	if (toggle)
		toggler_start(sd);
	t0 = now_ns();
	do {
		for (i = 0; i < BURST; i++)
			check(guest_signal_fd(sd->efd), "eventfd write");
		sent += BURST;
		t = now_ns();
	} while (t - t0 < dur);
	if (toggle)
		toggler_stop(sd);
	c1 = settle(g, sd->vector);
	stats(sd, &st1);
	secs = (t - t0) / 1e9;
	sd->toggles_per_s = sd->toggles / secs;

	detail("| %s%s | %.2f | %lu | %.0f | %u | %.0f | %lu | %.0f |",
	       sd->name, toggle ? "" : " (no toggling)", secs, sent,
	       sent / secs, c1 - c0, (c1 - c0) / secs,
	       sd->toggles, sd->toggles / secs);
	if (!sd->ir) {
		detail(" - | - | - | - |\n");
		return sent / secs;
	}
	sig = st1.signals - st0.signals;
	dlv = st1.delivered - st0.delivered;
	pnd = st1.pended - st0.pended;
	dfr = st1.deferred - st0.deferred;
	detail(" %.0f | %.0f / %lu | %.0f | %.0f |\n", sig, dlv,
	       sd->pending_periods, pnd, dfr);
	if (sig != sent)
		report_problem("%s: %lu writes but the gate saw %.0f", sd->name,
			       sent, sig);
	if (dlv < sd->pending_periods)
		report_problem("%s: %lu mask periods ended pending, "
			       "only %.0f hand-offs", sd->name,
			       sd->pending_periods, dlv);
	if (irqroute_pending(sd->b->r[0]))
		report_problem("%s: still pending after the final unmask",
			       sd->name);
	if (c1 - c0 > dlv || dlv > sig || c1 == c0)
		report_problem("%s: guest %u, hand-offs %.0f, signals %.0f",
			       sd->name, c1 - c0, dlv, sig);
	return sent / secs;
}

/*
 * Like spin_delivery(), but yielding: with the toggler spinning, a
 * spinning waiter would keep the vCPU thread off the L1's two CPUs.
 */
static uint64_t wait_delivery(const struct guest *g, unsigned int vector,
			      uint32_t before, uint64_t t0)
{
	uint64_t t, limit = (uint64_t)guest_timeout_ms() * 1000000ULL;

	while (guest_count(g, 0, vector) == before) {
		t = now_ns();
		if (t - t0 > limit)
			return 0;
		sched_yield();
	}
	t = now_ns() - t0;
	return t ? t : 1;
}

/* Single signals while the toggler runs: each must arrive exactly once. */
static void probe(struct side *sd)
{
	const struct guest *g = sd->b->g;
	struct irqroute_stats st0 = { 0 }, st1 = { 0 };
	unsigned int i, lost = 0, extra;
	uint32_t c0, before, c1;
	struct sample s;
	unsigned int n;
	double med;
	uint64_t t0, dt;

	c0 = guest_count(g, 0, sd->vector);
	stats(sd, &st0);
	s_init(&s, cfg.probes);
	toggler_start(sd);
	for (i = 0; i < cfg.probes; i++) {
		before = guest_count(g, 0, sd->vector);
		t0 = now_ns();
		check(guest_signal_fd(sd->efd), "eventfd write");
		dt = wait_delivery(g, sd->vector, before, t0);
		if (dt)
			s_add(&s, dt);
		else
			lost++;
	}
	toggler_stop(sd);
	c1 = settle(g, sd->vector);
	stats(sd, &st1);
	extra = c1 - c0 > cfg.probes - lost ? c1 - c0 - (cfg.probes - lost) : 0;
	med = s.n ? s_median_us(&s, &n) : 0;
	detail("| %s | %u | %u | %u | %u | %.3g | %lu |", sd->name,
	       cfg.probes, c1 - c0, lost, extra, med, sd->toggles);
	if (sd->ir)
		detail(" %llu |\n", (unsigned long long)(st1.pended -
							 st0.pended));
	else
		detail(" - |\n");
	/* The stock side is KVM's business: reported, not failed. */
	if (sd->ir && (lost || extra))
		report_problem("%s: %u probes lost, %u extra interrupts",
			       sd->name, lost, extra);
}

void bench_throughput(struct bench *b)
{
	struct side ir = {
		.name = "irqroute route, page mask/unmask", .b = b,
		.ir = true, .efd = irqroute_route_event(b->r[0]),
		.vector = VEC_A,
	};
	struct side raw = {
		.name = "raw irqfd, KVM_IRQFD deassign/assign", .b = b,
		.efd = b->raw_efd, .vector = VEC_RAW,
	};
	int problems = report_problems();
	double ir_free, raw_free;
	struct row *row;

	note("throughput with a mask-toggling thread (%u ms per side)",
	     cfg.tput_ms);
	detail("\n#### Throughput while another thread toggles the mask\n\n"
	       "Flood: one thread writes the eventfd as fast as it can for "
	       "%u ms while another masks and unmasks, sleeping %u us "
	       "masked and %u us unmasked (irqroute: through the page; "
	       "stock: KVM_IRQFD deassign, then assign). Hand-offs = the "
	       "module's `delivered` counter; periods = mask periods that "
	       "ended with the pending bit set. Signals that arrive masked "
	       "coalesce on both sides: in the pending bit, or in the count "
	       "of the deassigned irqfd's eventfd (KVM injects once on "
	       "assign).\n\n",
	       cfg.tput_ms, HOLD_NS / 1000, HOLD_NS / 1000);
	detail("| path | s | signals | signals/s | guest interrupts "
	       "| interrupts/s | toggles | toggles/s | gate saw "
	       "| hand-offs / periods | pended | via irq_work |\n"
	       "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:"
	       "|---:|\n");
	/*
	 * Both togglers sleep while they hold a state, so the two sides
	 * toggle at similar rates and neither steals a CPU from the sender.
	 * Signals that arrive masked coalesce on both sides: in the pending
	 * bit, or in the deassigned irqfd's eventfd count.
	 */
	row = row_set(ROW_TPUT, "signals/s",
		      "sustained signals/s while another thread toggles the "
		      "mask (stock: raw irqfd, KVM_IRQFD deassign+assign)");
	ir_free = flood(&ir, false);
	raw_free = flood(&raw, false);
	row->ir = flood(&ir, true);
	row->stock = flood(&raw, true);
	row->ir_n = row->stock_n = 1;

	detail("\nLoss probes: single signals, each waited for, while the "
	       "toggling goes on. Each must reach the guest exactly once.\n\n"
	       "| path | probes | guest interrupts | lost | extra "
	       "| median latency (us) | toggles | held pending (irqroute) |\n"
	       "|---|---:|---:|---:|---:|---:|---:|---:|\n");
	probe(&ir);
	probe(&raw);
	snprintf(row->note, sizeof(row->note),
		 "higher is better; toggles/s %.0f vs %.0f; irqroute %s; "
		 "never masked: %.0f vs %.0f signals/s",
		 ir.toggles_per_s, raw.toggles_per_s,
		 report_problems() == problems ?
		 "lost nothing (checks below)" : "**LOST SIGNALS**",
		 ir_free, raw_free);
}

/*
 * Two senders on two CPUs, each writing its own route's trigger (issue
 * 16, item 4): the two gates run at once, on two triggers, and share only
 * the attachment (its per-CPU counters, bits of the shared page's words).
 * Stock: two raw irqfds on two base routes of the same VM. Never masked,
 * so the checks are that every write reached a gate and nothing was
 * invented; the guest's one vCPU takes both vectors.
 */
struct sender {
	int efd;
	int cpu;
	uint64_t dur;
	unsigned long sent;
	pthread_t th;
};

static void *send_loop(void *arg)
{
	struct sender *s = arg;
	cpu_set_t set;
	uint64_t t0;
	unsigned int i;

	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fail("sched_setaffinity(CPU %d): %m", s->cpu);
	t0 = now_ns();
	do {
		for (i = 0; i < BURST; i++)
			check(guest_signal_fd(s->efd), "eventfd write");
		s->sent += BURST;
	} while (now_ns() - t0 < s->dur);
	s->dur = now_ns() - t0;
	return NULL;
}

/* Total signals per second of the two senders; @sent, their sum. */
static double flood_two(const int efd[2], unsigned long *sent)
{
	struct sender s[2];
	double rate = 0;
	int i;

	for (i = 0; i < 2; i++) {
		s[i] = (struct sender){ .efd = efd[i], .cpu = i,
					.dur = cfg.tput_ms * 1000000ULL };
		if (pthread_create(&s[i].th, NULL, send_loop, &s[i]))
			fail("pthread_create");
	}
	*sent = 0;
	for (i = 0; i < 2; i++) {
		pthread_join(s[i].th, NULL);
		*sent += s[i].sent;
		rate += s[i].sent / (s[i].dur / 1e9);
	}
	return rate;
}

void bench_throughput_two(struct bench *b)
{
	const unsigned int ir_vec[2] = { VEC_A, VEC_C };
	const unsigned int raw_vec[2] = { VEC_RAW, VEC_RAW2 };
	struct kvm_irq_routing_entry base[2];
	struct irqroute_stats st0, st1;
	struct irqroute_route *r2;
	uint32_t c0[2][2], c1[2][2];
	unsigned long sent_ir, sent_raw;
	double sig, dlv;
	int ir_efd[2], raw_efd[2], i;
	struct row *row;

	note("throughput, two senders on two CPUs (%u ms per side)",
	     cfg.tput_ms);
	rt_msi_entry(&base[0], BENCH_RAW_GSI, 0, VEC_RAW);
	rt_msi_entry(&base[1], BENCH_RAW_GSI2, 0, VEC_RAW2);
	check(irqroute_set_base_routes(b->ir, base, 2),
	      "irqroute_set_base_routes");
	raw_efd[0] = b->raw_efd;
	raw_efd[1] = kvm_irqfd_new(guest_vm_fd(b->g), BENCH_RAW_GSI2);
	check(rt_route_new(b->ir, 0, VEC_C, &r2), "irqroute_route_create");
	ir_efd[0] = irqroute_route_event(b->r[0]);
	ir_efd[1] = irqroute_route_event(r2);

	for (i = 0; i < 2; i++) {
		c0[0][i] = guest_count(b->g, 0, ir_vec[i]);
		c0[1][i] = guest_count(b->g, 0, raw_vec[i]);
	}
	check(rt_stats(b->ir, &st0), "irqroute_get_stats");
	row = row_set(ROW_TPUT_TWO, "signals/s",
		      "sustained signals/s, two threads on two CPUs signalling "
		      "two routes (stock: two raw irqfds); higher is better");
	row->ir = flood_two(ir_efd, &sent_ir);
	row->stock = flood_two(raw_efd, &sent_raw);
	row->ir_n = row->stock_n = 1;
	for (i = 0; i < 2; i++) {
		c1[0][i] = settle(b->g, ir_vec[i]);
		c1[1][i] = settle(b->g, raw_vec[i]);
	}
	check(rt_stats(b->ir, &st1), "irqroute_get_stats");
	sig = st1.signals - st0.signals;
	dlv = st1.delivered - st0.delivered;

	detail("\n#### Two senders on two CPUs\n\n"
	       "Two threads, pinned to the L1's two CPUs, each write one "
	       "route's trigger as fast as they can for %u ms (irqroute: "
	       "two routes of one attachment; stock: two raw irqfds on two "
	       "base routes of the same VM), never masked. Edges coalesce "
	       "in the irqfds' eventfd counts and in the guest's IRR, so "
	       "guest interrupts are fewer than signals on both sides.\n\n"
	       "| path | signals | signals/s | guest interrupts (route 1 + "
	       "route 2) | gate saw | hand-offs |\n"
	       "|---|---:|---:|---:|---:|---:|\n", cfg.tput_ms);
	detail("| irqroute, 2 routes | %lu | %.0f | %u + %u | %.0f | %.0f |\n",
	       sent_ir, row->ir, c1[0][0] - c0[0][0], c1[0][1] - c0[0][1],
	       sig, dlv);
	detail("| raw irqfds, 2 | %lu | %.0f | %u + %u | - | - |\n",
	       sent_raw, row->stock, c1[1][0] - c0[1][0],
	       c1[1][1] - c0[1][1]);
	snprintf(row->note, sizeof(row->note),
		 "%lu vs %lu signals; guest took %u vs %u",
		 sent_ir, sent_raw,
		 c1[0][0] - c0[0][0] + c1[0][1] - c0[0][1],
		 c1[1][0] - c0[1][0] + c1[1][1] - c0[1][1]);
	if (sig != sent_ir)
		report_problem("two senders: %lu writes but the gates saw %.0f",
			       sent_ir, sig);
	for (i = 0; i < 2; i++)
		if (c1[0][i] == c0[0][i])
			report_problem("two senders: route %d reached no guest "
				       "interrupt", i + 1);
	if (c1[0][0] - c0[0][0] + c1[0][1] - c0[0][1] > dlv || dlv > sig)
		report_problem("two senders: guest %u, hand-offs %.0f, "
			       "signals %.0f",
			       c1[0][0] - c0[0][0] + c1[0][1] - c0[0][1], dlv,
			       sig);

	irqroute_route_destroy(r2);
	close(raw_efd[1]);
	check(irqroute_set_base_routes(b->ir, base, 1),
	      "irqroute_set_base_routes");
}
