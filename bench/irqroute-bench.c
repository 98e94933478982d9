// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: irqroute against the stock KVM paths, in one boot of the
 * test VM (L1), on L2 guests from selftests/lib/guest.h. The parts:
 *
 *   mask.c        mask+unmask: shared page, ioctls, KVM_IRQFD re-assign
 *   delivery.c    signal to guest ISR: eventfd write, edu device MSI
 *   throughput.c  signals/s while another thread toggles the mask; loss
 *   unmask.c      unmask with an edge pending, alone and while another
 *                 thread commits, vs KVM_SIGNAL_MSI
 *   routing.c     set_msi among N routes vs KVM_SET_GSI_ROUTING, batched
 *                 vs single commits, memory per route
 *   scale.c       64 VMs x 64 routes, memory per attachment
 *   fullrange.c   set_msi on an attachment without x86 defaults or base
 *                 routes, every route of its range with an MSI, vs raw
 *                 pushes of the same table (issue 16, item 0)
 *   ftrace.c      function_graph around a few calls, on request
 *   report.c      the markdown report (see bench/run.sh for the host side)
 *
 * The main VM's route range is GSIs 64..4063: 4000 routes, plus KVM's 40
 * x86 default entries and one base route, stay within KVM's 4096 routing
 * entries and GSIs (IRQROUTE_MAX_ROUTES).
 *
 * Environment: IRQROUTE_BENCH_QUICK=1 (seconds: few iterations, N = 16
 * and 64, 4 VMs x 16 routes), and overrides IRQROUTE_BENCH_ITERS,
 * _SLOW_ITERS, _BUDGET_S, _TPUT_MS, _PROBES, _SCALE_VMS, _SCALE_ROUTES,
 * _UNMASK_ITERS, _FULL_ITERS; IRQROUTE_BENCH_ONLY=unmask, =mask or
 * =fullrange runs only that part; IRQROUTE_BENCH_TRACE=<us> traces a few
 * calls of the full-range part (ftrace.c).
 * Exit status: 1 if an operation failed or an irqroute interrupt was lost
 * or duplicated; never because of a time.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "bench.h"

struct bench_cfg cfg;
static struct bench bench;

static bool only(const char *part)
{
	return cfg.only && !strcmp(cfg.only, part);
}

static void cfg_init(void)
{
	static const unsigned int full[] = { 16, 256, 1024, BENCH_MAX_N };
	static const unsigned int quick[] = { 16, 64 };
	const char *part;
	unsigned int i;

	cfg.quick = guest_env_ulong("IRQROUTE_BENCH_QUICK", 0);
	part = getenv("IRQROUTE_BENCH_ONLY");
	if (part && strcmp(part, "unmask") && strcmp(part, "fullrange") &&
	    strcmp(part, "mask"))
		fail("IRQROUTE_BENCH_ONLY=%s: \"unmask\", \"fullrange\" or "
		     "\"mask\"", part);
	cfg.only = part;
	if (cfg.quick) {
		cfg.nr_ns = 2;
		for (i = 0; i < 2; i++)
			cfg.ns[i] = quick[i];
	} else {
		cfg.nr_ns = 4;
		for (i = 0; i < 4; i++)
			cfg.ns[i] = full[i];
	}
	cfg.singles_n = cfg.quick ? 64 : 1024;
	cfg.iters = guest_env_ulong("IRQROUTE_BENCH_ITERS",
				    cfg.quick ? 50 : 1000);
	cfg.slow_iters = guest_env_ulong("IRQROUTE_BENCH_SLOW_ITERS",
					 cfg.quick ? 20 : 200);
	cfg.budget_s = guest_env_ulong("IRQROUTE_BENCH_BUDGET_S",
				       cfg.quick ? 1 : 15);
	cfg.tput_ms = guest_env_ulong("IRQROUTE_BENCH_TPUT_MS",
				      cfg.quick ? 300 : 3000);
	cfg.probes = guest_env_ulong("IRQROUTE_BENCH_PROBES",
				     cfg.quick ? 20 : 200);
	cfg.scale_vms = guest_env_ulong("IRQROUTE_BENCH_SCALE_VMS",
					cfg.quick ? 4 : 64);
	cfg.scale_routes = guest_env_ulong("IRQROUTE_BENCH_SCALE_ROUTES",
					   cfg.quick ? 16 : 64);
	if (!cfg.iters || !cfg.slow_iters || !cfg.probes || !cfg.scale_vms)
		fail("zero iterations");
}

/*
 * Thousands of eventfds: raise the limit, and grow the descriptor table
 * now, so that its reallocation is not counted as memory per route.
 */
static void fds_init(void)
{
	struct rlimit rl = { .rlim_cur = 65536, .rlim_max = 65536 };

	if (setrlimit(RLIMIT_NOFILE, &rl))
		fail("setrlimit(RLIMIT_NOFILE, 65536): %m");
	if (dup2(2, 32767) < 0)
		fail("dup2: %m");
	close(32767);
}

static void setup(struct bench *b)
{
	const struct irqroute_opts opts = {
		.gsi_base = BENCH_GSI_BASE,
		.nr_routes = cfg.ns[cfg.nr_ns - 1],
		.flags = IRQROUTE_F_X86_DEFAULT_ROUTES,
	};
	struct kvm_irq_routing_entry base;

	/* One vCPU each: the other L1 CPU is left to the bench threads. */
	b->g = guest_create(1);
	b->gs = guest_create(1);
	if (!b->g || !b->gs)
		fail("guest_create failed");
	check(irqroute_attach(guest_vm_fd(b->g), &opts, &b->ir),
	      "irqroute_attach");
	/* The stock path on the same guest: a base MSI route + raw irqfd. */
	rt_msi_entry(&base, BENCH_RAW_GSI, 0, VEC_RAW);
	check(irqroute_set_base_routes(b->ir, &base, 1),
	      "irqroute_set_base_routes");
	b->raw_efd = kvm_irqfd_new(guest_vm_fd(b->g), BENCH_RAW_GSI);
	check(irqroute_route_create(b->ir, &b->r[0]), "irqroute_route_create");
	check(rt_set_msi(b->r[0], 0, VEC_A), "irqroute_set_msi");
	b->nr_r = 1;
}

static void teardown(struct bench *b)
{
	unsigned int i;

	irqroute_detach(b->ir);
	for (i = 0; i < b->nr_stock; i++)
		close(b->stock_efd[i]);
	close(b->raw_efd);
	guest_destroy(b->gs);
	guest_destroy(b->g);
}

int main(void)
{
	struct bench *b = &bench;
	uint64_t t0 = now_ns();

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	cfg_init();
	fds_init();
	note("%s mode, irqroute library %s", cfg.quick ? "quick" : "full",
	     irqroute_version());

	if (only("fullrange")) {
		bench_full_range();
		goto report;
	}
	setup(b);
	if (only("unmask") || only("mask")) {
		if (only("unmask"))
			bench_unmask(b);
		else
			bench_mask(b);
		teardown(b);
		goto report;
	}
	bench_mask(b);
	bench_delivery(b);
	bench_delivery_edu(b);
	bench_throughput(b);
	bench_throughput_two(b);
	bench_unmask(b);
	bench_routing(b);
	teardown(b);
	bench_full_range();
	bench_scale();
report:

	detail("\nWhole run: %.0f s in the VM.\n", (now_ns() - t0) / 1e9);
	report_print();
	if (report_problems()) {
		fprintf(stderr, "irqroute-bench: %d problem(s), see above\n",
			report_problems());
		return 1;
	}
	return 0;
}
