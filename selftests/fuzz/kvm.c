// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-fuzz: eventfds and KVM VMs. Signals on triggers from every
 * thread (the gates run in the writers' context), reads that race the
 * gate for the count, VMs created and dropped with or without an
 * irqchip, and KVM's own routing and irqfd ioctls issued behind the
 * module's back on the VMs it is attached to.
 *
 * No vCPU is ever created: nothing here runs guest code, and creating
 * vCPUs flips static keys that make TCG patch kernel text (kvm-hold.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fuzz.h"

int fuzz_efd_create(struct fuzz_thread *t, struct fuzz_efd *slot)
{
	/* Non-blocking: a read must never hang a thread. */
	int flags = EFD_NONBLOCK | EFD_CLOEXEC;
	int fd;

	if (chance(t, 10))
		flags |= EFD_SEMAPHORE;
	fd_table_lock();
	fuzz_op_begin(t, OP_EFD_NEW, -1, flags, 0);
	fd = eventfd(chance(t, 90) ? 0 : rnd_below(t, 4), flags);
	fuzz_op_end(t, OP_EFD_NEW, fd < 0 ? -errno : 0);
	if (fd >= 0) {
		slot_put_fd(&slot->fd, fd);
		slot->role = EFD_FREE;
	}
	fd_table_unlock();
	return fd;
}

void op_efd_new(struct fuzz_thread *t)
{
	fuzz_efd_create(t, &t->pool->efd[rnd_below(t, FUZZ_NR_EFD)]);
}

void op_efd_signal(struct fuzz_thread *t)
{
	static const uint64_t odd[] = { 0, 2, 0xfffffffffffffffeull,
					0xffffffffffffffffull };
	int fd = pick_efd(t, chance(t, 75) ? EFD_TRIGGER : -1, NULL);
	int n = chance(t, 80) ? 1 : 1 + rnd_below(t, 16), ret = 0, i;
	uint64_t v = chance(t, 95) ? 1 : odd[rnd_below(t, 4)];
	size_t len = chance(t, 98) ? sizeof(v) : rnd_below(t, 8);

	fuzz_op_begin(t, OP_EFD_SIGNAL, fd, v, n);
	for (i = 0; i < n; i++) {
		if (write(fd, &v, len) < 0) {
			ret = -errno;
			break;
		}
	}
	fuzz_op_end(t, OP_EFD_SIGNAL, ret);
}

/* Consume the count the gate consumes too. */
void op_efd_read(struct fuzz_thread *t)
{
	int fd = pick_efd(t, -1, NULL);
	uint64_t v;
	ssize_t n;

	fuzz_op_begin(t, OP_EFD_READ, fd, 0, 0);
	n = read(fd, &v, sizeof(v));
	fuzz_op_end(t, OP_EFD_READ, n < 0 ? -errno : 0);
}

/* Other waiters on a trigger's queue, behind the gate. */
void op_efd_poll(struct fuzz_thread *t)
{
	int fd = pick_efd(t, EFD_TRIGGER, NULL), ep, ret;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	fuzz_op_begin(t, OP_EFD_POLL, fd, 0, 0);
	if (chance(t, 50)) {
		ret = poll(&pfd, 1, 0) < 0 ? -errno : 0;
	} else {
		ep = epoll_create1(EPOLL_CLOEXEC);
		ret = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
		if (!ret && epoll_wait(ep, &ev, 1, 0) < 0)
			ret = -errno;
		/* Sometimes the epoll outlives the op, registered on it. */
		if (ep >= 0 && chance(t, 80))
			close(ep);
	}
	fuzz_op_end(t, OP_EFD_POLL, ret);
}

int fuzz_vm_create(struct fuzz_thread *t, struct fuzz_vm *slot, int kind)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args[0] = 24,
	};
	int vm, ret = 0;

	fd_table_lock();
	fuzz_op_begin(t, OP_VM_NEW, t->pool->kvm, kind, 0);
	vm = ioctl(t->pool->kvm, KVM_CREATE_VM, chance(t, 98) ? 0 : rnd_below(t, 8));
	if (vm < 0)
		ret = -errno;
	else if (kind == VM_IRQCHIP)
		ret = ioctl(vm, KVM_CREATE_IRQCHIP, 0) ? -errno : 0;
	else if (kind == VM_SPLIT)
		ret = ioctl(vm, KVM_ENABLE_CAP, &cap) ? -errno : 0;
	fuzz_op_end(t, OP_VM_NEW, ret);
	if (vm >= 0) {
		slot->kind = ret ? VM_BARE : kind;
		slot->attached = false;
		slot_put_fd(&slot->fd, vm);
	}
	fd_table_unlock();
	return ret;
}

void op_vm_new(struct fuzz_thread *t)
{
	uint32_t r = rnd_below(t, 100);

	fuzz_vm_create(t, &t->pool->vm[rnd_below(t, FUZZ_NR_VM)],
		       r < 80 ? VM_IRQCHIP : r < 90 ? VM_SPLIT : VM_BARE);
}

/* The table the module thinks it owns, replaced by the VMM. */
void op_kvm_routing(struct fuzz_thread *t)
{
	struct kvm_irq_routing *rt = (void *)t->build;
	int fd = slot_fd(&t->pool->vm[rnd_below(t, FUZZ_NR_VM)].fd), ret;
	uint32_t nr = rnd_below(t, 7), i;

	memset(rt, 0, sizeof(*rt) + nr * sizeof(rt->entries[0]));
	rt->nr = nr;
	for (i = 0; i < nr; i++) {
		struct kvm_irq_routing_entry *e = &rt->entries[i];

		if (chance(t, 70)) {
			e->gsi = rnd_below(t, 96);
			e->type = KVM_IRQ_ROUTING_MSI;
			e->u.msi.address_lo = 0xfee00000;
			e->u.msi.data = 0x20 + rnd_below(t, 0xdf);
		} else {
			e->gsi = rnd_below(t, 24);
			e->type = KVM_IRQ_ROUTING_IRQCHIP;
			e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
			e->u.irqchip.pin = e->gsi;
		}
	}
	fuzz_op_begin(t, OP_KVM_ROUTING, fd, nr, 0);
	ret = ioctl(fd, KVM_SET_GSI_ROUTING, rt) ? -errno : 0;
	fuzz_op_end(t, OP_KVM_ROUTING, ret);
}

/* KVM irqfds on the pool's eventfds: triggers, private eventfds, any. */
void op_kvm_irqfd(struct fuzz_thread *t)
{
	int fd = slot_fd(&t->pool->vm[rnd_below(t, FUZZ_NR_VM)].fd), ret;
	struct kvm_irqfd irqfd = { .gsi = rnd_below(t, 96) };
	struct fuzz_efd *e = NULL;
	uint32_t r = rnd_below(t, 100);

	irqfd.fd = chance(t, 90) ? pick_efd(t, -1, &e) : fd_lottery(t);
	if (r < 55) {
		irqfd.flags = 0;
	} else if (r < 90) {
		irqfd.flags = KVM_IRQFD_FLAG_DEASSIGN;
	} else if (r < 95) {
		irqfd.flags = KVM_IRQFD_FLAG_RESAMPLE;
		irqfd.resamplefd = pick_efd(t, -1, NULL);
		irqfd.gsi = rnd_below(t, 24);
	} else {
		irqfd.flags = rnd(t);
	}
	fuzz_op_begin(t, OP_KVM_IRQFD, fd, irqfd.fd, irqfd.flags);
	ret = ioctl(fd, KVM_IRQFD, &irqfd) ? -errno : 0;
	fuzz_op_end(t, OP_KVM_IRQFD, ret);
	if (!ret && e && !(irqfd.flags & KVM_IRQFD_FLAG_DEASSIGN))
		e->role = EFD_KVM_IRQFD;
}

/*
 * The module's handoff_irq_work parameter, flipped while signals fly: the
 * gates' deferred hand-off (irq_work) then races destroy and clear_msi
 * like the direct one does.
 */
static void toggle_handoff(struct fuzz_thread *t)
{
	int fd = open("/sys/module/irqroute/parameters/handoff_irq_work",
		      O_WRONLY | O_CLOEXEC), ret = -ENOENT;
	const char *v = chance(t, 50) ? "1" : "0";

	fuzz_op_begin(t, OP_KVM_MISC, fd, 3, *v == '1');
	if (fd >= 0) {
		ret = write(fd, v, 1) == 1 ? 0 : -errno;
		close(fd);
	}
	fuzz_op_end(t, OP_KVM_MISC, ret);
}

/* Interrupts injected by the VMM itself, into the same GSIs and table. */
void op_kvm_misc(struct fuzz_thread *t)
{
	int fd = slot_fd(&t->pool->vm[rnd_below(t, FUZZ_NR_VM)].fd), ret;
	struct kvm_irq_level line = {
		.irq = rnd_below(t, 96), .level = rnd_below(t, 2),
	};
	struct kvm_msi msi = {
		.address_lo = 0xfee00000, .data = 0x20 + rnd_below(t, 0xdf),
	};
	uint32_t what = rnd_below(t, 20);

	if (what == 19) {
		toggle_handoff(t);
		return;
	}
	what %= 3;
	fuzz_op_begin(t, OP_KVM_MISC, fd, what, 0);
	if (what == 0)
		ret = ioctl(fd, KVM_IRQ_LINE, &line);
	else if (what == 1)
		ret = ioctl(fd, KVM_SIGNAL_MSI, &msi);
	else
		ret = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);
	fuzz_op_end(t, OP_KVM_MISC, ret < 0 ? -errno : 0);
}
