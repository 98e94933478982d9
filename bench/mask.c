// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: mask+unmask of an idle route, against the stock way to
 * mask an irqfd (OpenVMM's KVM backend): KVM_IRQFD deassign, then assign.
 */
#define _GNU_SOURCE
#include "bench.h"

/*
 * Pairs per sample: a clock read costs as much as a page mask+unmask
 * under TCG (more where the clocksource has no vDSO), so fast paths are
 * timed in runs and divided.
 */
#define PAGE_RUN	64
#define IOCTL_RUN	8

static double mask_page(struct irqroute_route *r, unsigned int *n)
{
	struct sample s;
	uint64_t t0;

	unsigned int i;

	s_init(&s, cfg.iters);
	while (s_more(&s)) {
		t0 = now_ns();
		for (i = 0; i < PAGE_RUN; i++) {
			check(irqroute_mask(r), "irqroute_mask");
			check(irqroute_unmask(r), "irqroute_unmask");
		}
		s_add(&s, now_ns() - t0);
	}
	return s_median_us(&s, n) / PAGE_RUN;
}

static double mask_ioctl(struct irqroute_route *r, unsigned int *n)
{
	struct sample s;
	uint64_t t0;

	unsigned int i;

	s_init(&s, cfg.iters);
	while (s_more(&s)) {
		t0 = now_ns();
		for (i = 0; i < IOCTL_RUN; i++) {
			check(irqroute_mask_ioctl(r), "irqroute_mask_ioctl");
			check(irqroute_unmask_ioctl(r),
			      "irqroute_unmask_ioctl");
		}
		s_add(&s, now_ns() - t0);
	}
	return s_median_us(&s, n) / IOCTL_RUN;
}

static double mask_irqfd(int vm_fd, int efd, unsigned int *n)
{
	struct sample s;
	uint64_t t0;

	s_init(&s, cfg.iters);
	while (s_more(&s)) {
		t0 = now_ns();
		check(kvm_irqfd(vm_fd, efd, BENCH_RAW_GSI,
				KVM_IRQFD_FLAG_DEASSIGN), "KVM_IRQFD deassign");
		check(kvm_irqfd(vm_fd, efd, BENCH_RAW_GSI, 0),
		      "KVM_IRQFD assign");
		s_add(&s, now_ns() - t0);
	}
	return s_median_us(&s, n);
}

void bench_mask(struct bench *b)
{
	static const char *stock = "stock: KVM_IRQFD deassign+assign";
	struct irqroute_route *r = b->r[0];
	struct row *pg, *io;

	note("mask+unmask");
	pg = row_set(ROW_MASK_PAGE, "us",
		     "mask+unmask, shared page, runs of %u (%s)", PAGE_RUN,
		     stock);
	row_target(pg, TGT_RATIO_MAX, 0.001, "<= 0.001 (>= 1000x faster)");
	io = row_set(ROW_MASK_IOCTL, "us",
		     "mask+unmask, ioctls, runs of %u (%s)", IOCTL_RUN, stock);
	row_target(io, TGT_RATIO_MAX, 0.02, "<= 0.02 (>= 50x faster)");

	pg->ir = mask_page(r, &pg->ir_n);
	io->ir = mask_ioctl(r, &io->ir_n);
	pg->stock = mask_irqfd(guest_vm_fd(b->g), b->raw_efd, &pg->stock_n);
	io->stock = pg->stock;
	io->stock_n = pg->stock_n;
	if (irqroute_pending(r))
		fail("route pending after mask+unmask without a signal");
}
