// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: the stock KVM side (raw irqfds, whole-table routing
 * pushes) and waiting for the guest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "bench.h"

int kvm_irqfd(int vm_fd, int efd, uint32_t gsi, uint32_t flags)
{
	struct kvm_irqfd irqfd = { .fd = efd, .gsi = gsi, .flags = flags };

	return ioctl(vm_fd, KVM_IRQFD, &irqfd) ? -errno : 0;
}

int kvm_irqfd_new(int vm_fd, uint32_t gsi)
{
	int efd = eventfd(0, EFD_CLOEXEC);

	if (efd < 0)
		fail("eventfd: %s", strerror(errno));
	check(kvm_irqfd(vm_fd, efd, gsi, 0), "KVM_IRQFD assign");
	return efd;
}

/* KVM's default x86 table (PIC and IOAPIC pins), as irqroute commits it. */
static unsigned int kvm_x86_defaults(struct kvm_irq_routing_entry *e)
{
	unsigned int gsi, n = 0;

	for (gsi = 0; gsi < 24; gsi++) {
		e[n].gsi = gsi;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e[n++].u.irqchip.pin = gsi;
		if (gsi >= 16)
			continue;
		e[n].gsi = gsi;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
						   KVM_IRQCHIP_PIC_SLAVE;
		e[n++].u.irqchip.pin = gsi % 8;
	}
	return n;
}

struct kvm_irq_routing *kvm_table(uint32_t gsi_base, unsigned int n,
				  bool base_route)
{
	struct kvm_irq_routing *t;
	unsigned int i, k;

	t = calloc(1, sizeof(*t) + (40 + 1 + n) * sizeof(t->entries[0]));
	if (!t)
		fail("out of memory");
	k = kvm_x86_defaults(t->entries);
	if (base_route)
		rt_msi_entry(&t->entries[k++], BENCH_RAW_GSI, 0, VEC_RAW);
	for (i = 0; i < n; i++)
		rt_msi_entry(&t->entries[k++], gsi_base + i, 0, VEC_A);
	t->nr = k;
	return t;
}

struct kvm_irq_routing *kvm_table_msis(uint32_t gsi_base, unsigned int n)
{
	struct kvm_irq_routing *t;
	unsigned int i;

	t = calloc(1, sizeof(*t) + n * sizeof(t->entries[0]));
	if (!t)
		fail("out of memory");
	for (i = 0; i < n; i++)
		rt_msi_entry(&t->entries[i], gsi_base + i, 0, VEC_A);
	t->nr = n;
	return t;
}

void kvm_table_set_vec(struct kvm_irq_routing *t, unsigned int n,
		       unsigned int i, unsigned int vec)
{
	t->entries[t->nr - n + i].u.msi.data = vec;
}

/* 32-bit x2APIC IDs in MSI routes (KVM_CAP_X2APIC_API): routing.c. */
void kvm_x2apic_ids(int vm_fd)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X2APIC_API,
		.args[0] = KVM_X2APIC_API_USE_32BIT_IDS,
	};

	if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap))
		fail("KVM_ENABLE_CAP(KVM_CAP_X2APIC_API): %s",
		     strerror(errno));
}

int kvm_push(int vm_fd, struct kvm_irq_routing *t)
{
	return ioctl(vm_fd, KVM_SET_GSI_ROUTING, t) ? -errno : 0;
}

bool wait_count(const struct guest *g, unsigned int vector, uint32_t want)
{
	return guest_wait_count(g, 0, vector, want, 0) >= want;
}

uint64_t spin_delivery(const struct guest *g, unsigned int vector,
		       uint32_t before, uint64_t t0)
{
	uint64_t t, limit = (uint64_t)guest_timeout_ms() * 1000000ULL;

	do {
		t = now_ns();
		if (t - t0 > limit)
			return 0;
	} while (guest_count(g, 0, vector) == before);
	return t - t0 ? t - t0 : 1;
}
