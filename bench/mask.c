// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: mask+unmask of an idle route, against the two stock
 * ways to mask a passed-through vector:
 *
 *  - OpenVMM's KVM backend and cloud-hypervisor: KVM_IRQFD deassign, then
 *    assign;
 *  - QEMU's vfio-pci (hw/vfio/pci.c): VFIO_DEVICE_SET_IRQS moves the
 *    device's trigger to a userspace eventfd, and on unmask the vector's
 *    route is committed (KVM_SET_GSI_ROUTING) and the trigger moved back
 *    to the KVM irqfd's eventfd. Done here on the edu device's MSI, whose
 *    one vector vfio-pci swaps as it swaps an MSI-X vector's
 *    (vfio_msi_set_vector_signal(): free_irq(), irq bypass unregister,
 *    request_irq(), register).
 *
 * The two stock paths alternate sample by sample (which goes first
 * alternates too): both wait for KVM's irq SRCU grace period, bimodal
 * under TCG, and so see the same phase.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "bench.h"
#include "edu.h"

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

/*
 * The floor under the ioctl path: two ioctls on the same file that the
 * module refuses at its first check (ENOTTY: system call entry and exit,
 * fdget, the LSM hook, vfs_ioctl, irqroute_ioctl), and two of the
 * cheapest system calls, in the same runs.
 */
static double mask_floor(struct irqroute *ir, bool module, unsigned int *n)
{
	int fd = irqroute_fd(ir);
	struct sample s;
	unsigned int i;
	uint64_t t0;

	s_init(&s, cfg.iters);
	while (s_more(&s)) {
		t0 = now_ns();
		for (i = 0; i < 2 * IOCTL_RUN; i++) {
			if (!module)
				getppid();
			else if (ioctl(fd, 0, 0) != -1 || errno != ENOTTY)
				fail("ioctl(/dev/irqroute, 0): not ENOTTY");
		}
		s_add(&s, now_ns() - t0);
	}
	return s_median_us(&s, n) / IOCTL_RUN;
}

static uint64_t mask_irqfd(int vm_fd, int efd)
{
	uint64_t t0 = now_ns();

	check(kvm_irqfd(vm_fd, efd, BENCH_RAW_GSI, KVM_IRQFD_FLAG_DEASSIGN),
	      "KVM_IRQFD deassign");
	check(kvm_irqfd(vm_fd, efd, BENCH_RAW_GSI, 0), "KVM_IRQFD assign");
	return now_ns() - t0;
}

/* QEMU's mask and unmask of one vector; its three calls go to @part. */
struct qemu_mask {
	struct edu *d;
	int vm_fd, kvm_efd, user_efd;
	struct kvm_irq_routing *t;	/* the table the module committed */
	struct sample part[3];
};

static uint64_t mask_qemu(struct qemu_mask *q)
{
	uint64_t t0 = now_ns(), t1, t2, t3;

	check(edu_set_trigger(q->d, q->user_efd),
	      "VFIO_DEVICE_SET_IRQS (mask: userspace eventfd)");
	t1 = now_ns();
	check(kvm_push(q->vm_fd, q->t), "KVM_SET_GSI_ROUTING (unmask)");
	t2 = now_ns();
	check(edu_set_trigger(q->d, q->kvm_efd),
	      "VFIO_DEVICE_SET_IRQS (unmask: the irqfd's eventfd)");
	t3 = now_ns();
	s_add(&q->part[0], t1 - t0);
	s_add(&q->part[1], t2 - t1);
	s_add(&q->part[2], t3 - t2);
	return t3 - t0;
}

/* The two stock paths, alternating; medians in us. */
static void mask_stock(struct bench *b, struct row *irqfd, struct row *qemu)
{
	static const char *const what[] = {
		"VFIO_DEVICE_SET_IRQS to the userspace eventfd (mask)",
		"KVM_SET_GSI_ROUTING (unmask: the route's commit)",
		"VFIO_DEVICE_SET_IRQS back to the irqfd's eventfd (unmask)",
	};
	struct sample si, sq;
	struct qemu_mask q;
	unsigned int i, k, n;
	double m[3];

	q.d = edu_open();
	if (!q.d)
		fail("edu_open failed (QEMU -device edu, vfio-pci)");
	q.vm_fd = guest_vm_fd(b->g);
	q.kvm_efd = b->raw_efd;
	q.user_efd = eventfd(0, EFD_CLOEXEC);
	if (q.user_efd < 0)
		fail("eventfd: %s", strerror(errno));
	/* Exactly what the module has committed: its routes are at VEC_A. */
	q.t = kvm_table(BENCH_GSI_BASE, b->nr_r, true);
	/* Unmasked: the device signals the KVM irqfd's eventfd. */
	check(edu_set_trigger(q.d, q.kvm_efd), "VFIO_DEVICE_SET_IRQS (edu MSI)");
	for (k = 0; k < 3; k++)
		s_init(&q.part[k], cfg.slow_iters);
	s_init(&si, cfg.iters);
	s_init(&sq, cfg.slow_iters);
	for (i = 0; s_more(&si) || s_more(&sq); i++) {
		if (i & 1 && s_more(&sq))
			s_add(&sq, mask_qemu(&q));
		if (s_more(&si))
			s_add(&si, mask_irqfd(q.vm_fd, b->raw_efd));
		if (!(i & 1) && s_more(&sq))
			s_add(&sq, mask_qemu(&q));
	}
	irqfd->stock = s_median_us(&si, &irqfd->stock_n);
	qemu->stock = s_median_us(&sq, &qemu->stock_n);
	for (k = 0; k < 3; k++)
		m[k] = s_median_us(&q.part[k], &n);
	detail("\n#### Stock mask+unmask paths (medians, us)\n\n"
	       "Alternating, same boot, same VM. QEMU's path on the edu "
	       "device's MSI through vfio-pci, n = %u; its calls:\n\n"
	       "| KVM_IRQFD deassign+assign | QEMU's whole path | %s | %s "
	       "| %s |\n|---:|---:|---:|---:|---:|\n"
	       "| %.1f | %.1f | %.1f | %.1f | %.1f |\n", qemu->stock_n,
	       what[0], what[1], what[2], irqfd->stock, qemu->stock, m[0],
	       m[1], m[2]);
	free(q.t);
	close(q.user_efd);
	edu_close(q.d);
}

void bench_mask(struct bench *b)
{
	static const char *stock = "stock: KVM_IRQFD deassign+assign";
	static const char *qstock = "stock: QEMU, VFIO_DEVICE_SET_IRQS "
				    "away and back + KVM_SET_GSI_ROUTING";
	struct irqroute_route *r = b->r[0];
	struct row *pg, *io, *qpg, *qio;
	double floor_ioctl, floor_sys;
	unsigned int n;

	note("mask+unmask");
	pg = row_set(ROW_MASK_PAGE, "us",
		     "mask+unmask, shared page, runs of %u (%s)", PAGE_RUN,
		     stock);
	row_target(pg, TGT_RATIO_MAX, 0.001, "<= 0.001 (>= 1000x faster)");
	io = row_set(ROW_MASK_IOCTL, "us",
		     "mask+unmask, ioctls, runs of %u (%s)", IOCTL_RUN, stock);
	row_target(io, TGT_RATIO_MAX, 0.02, "<= 0.02 (>= 50x faster)");
	qpg = row_set(ROW_MASK_PAGE_QEMU, "us",
		      "mask+unmask, shared page (%s)", qstock);
	row_target(qpg, TGT_RATIO_MAX, 0.001, "<= 0.001 (>= 1000x faster)");
	qio = row_set(ROW_MASK_IOCTL_QEMU, "us",
		      "mask+unmask, ioctls (%s)", qstock);
	row_target(qio, TGT_RATIO_MAX, 0.02, "<= 0.02 (>= 50x faster)");

	pg->ir = mask_page(r, &pg->ir_n);
	io->ir = mask_ioctl(r, &io->ir_n);
	floor_ioctl = mask_floor(b->ir, true, &n);
	floor_sys = mask_floor(b->ir, false, &n);
	mask_stock(b, pg, qpg);
	io->stock = pg->stock;
	io->stock_n = pg->stock_n;
	qpg->ir = pg->ir;
	qpg->ir_n = pg->ir_n;
	qio->ir = io->ir;
	qio->ir_n = io->ir_n;
	qio->stock = qpg->stock;
	qio->stock_n = qpg->stock_n;
	if (irqroute_pending(r))
		fail("route pending after mask+unmask without a signal");
	detail("\n#### The floor under the ioctl path (medians, us per pair, "
	       "runs of %u)\n\n"
	       "| MASK + UNMASK ioctls | two ioctls the module refuses at "
	       "once (ENOTTY) | two getppid() | the stock path / 50 |\n"
	       "|---:|---:|---:|---:|\n| %.2f | %.2f | %.2f | %.2f |\n",
	       IOCTL_RUN, io->ir, floor_ioctl, floor_sys, io->stock / 50);
}
