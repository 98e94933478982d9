// SPDX-License-Identifier: GPL-2.0
/*
 * The delivery tests' environment: guest + attachment + fence route.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "rtenv.h"

int rt_env_setup(struct rt_env *e, unsigned int nr_vcpus,
		 const struct irqroute_opts *opts, bool fence)
{
	int ret;

	memset(e, 0, sizeof(*e));
	e->g = guest_create(nr_vcpus);
	if (!e->g)
		return -EIO;
	e->trace = kvmtrace_open();
	if (!e->trace) {
		ret = -EIO;
		goto err;
	}
	ret = irqroute_attach(guest_vm_fd(e->g), opts, &e->ir);
	if (ret) {
		fprintf(stderr, "irqroute_attach: %s\n", strerror(-ret));
		goto err;
	}
	if (fence) {
		ret = rt_route_new(e->ir, 0, RT_FENCE_VECTOR, &e->fence);
		if (ret) {
			fprintf(stderr, "fence route: %s\n", strerror(-ret));
			goto err;
		}
	}
	return 0;
err:
	rt_env_teardown(e);
	return ret;
}

void rt_env_teardown(struct rt_env *e)
{
	if (e->fence)
		irqroute_route_destroy(e->fence);
	if (e->ir)
		irqroute_detach(e->ir);
	guest_destroy(e->g);
	kvmtrace_close(e->trace);
	memset(e, 0, sizeof(*e));
}

int64_t rt_injected(const struct rt_env *e, unsigned int vcpu,
		    unsigned int vector)
{
	return e->trace ? kvmtrace_count(e->trace, vcpu, vector) : -1;
}

bool rt_fence(const struct rt_env *e)
{
	unsigned int i;

	if (!e->fence)
		return false;
	/* Every signal before it has reached KVM: the fence route's path. */
	if (!guest_fence(e->g, irqroute_route_event(e->fence), 0,
			 RT_FENCE_VECTOR))
		return false;
	/* Every other vCPU has taken what its APIC held, misroutes too. */
	for (i = 1; i < guest_nr_vcpus(e->g); i++)
		if (!guest_fence_msi(e->g, i, RT_FENCE_VECTOR))
			return false;
	if (guest_nr_vcpus(e->g) > 1)
		guest_msleep(GUEST_SETTLE_MS);
	return true;
}

uint64_t rt_total(const struct rt_env *e)
{
	uint64_t fences = 0;
	unsigned int i;

	for (i = 0; i < guest_nr_vcpus(e->g); i++)
		fences += guest_count(e->g, i, RT_FENCE_VECTOR);
	return guest_total(e->g) - fences;
}

int rt_set_msi(struct irqroute_route *r, unsigned int vcpu,
	       unsigned int vector)
{
	return irqroute_set_msi(r, guest_msi_address(vcpu), vector);
}

int rt_route_new(struct irqroute *ir, unsigned int vcpu, unsigned int vector,
		 struct irqroute_route **out)
{
	struct irqroute_route *r;
	int ret;

	ret = irqroute_route_create(ir, &r);
	if (ret)
		return ret;
	ret = rt_set_msi(r, vcpu, vector);
	if (ret) {
		irqroute_route_destroy(r);
		return ret;
	}
	*out = r;
	return 0;
}

int rt_signal(const struct irqroute_route *r)
{
	return guest_signal_fd(irqroute_route_event(r));
}

int rt_stats(struct irqroute *ir, struct irqroute_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return irqroute_get_stats(ir, st);
}

int rt_handoff_irq_work(bool on)
{
	static const char path[] =
		"/sys/module/irqroute/parameters/handoff_irq_work";
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (write(fd, on ? "Y" : "N", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

uint32_t rt_wait(const struct rt_env *e, unsigned int vcpu,
		 unsigned int vector, uint32_t expected)
{
	struct irqroute_stats st;
	uint32_t count;

	count = guest_wait_count(e->g, vcpu, vector, expected, 0);
	/* Short: did the module hand the signals to KVM? */
	if (count < expected && !rt_stats(e->ir, &st))
		fprintf(stderr,
			"irqroute: signals %llu delivered %llu pended %llu feedback %llu; KVM's APIC accepted %lld\n",
			(unsigned long long)st.signals,
			(unsigned long long)st.delivered,
			(unsigned long long)st.pended,
			(unsigned long long)st.feedback,
			(long long)rt_injected(e, vcpu, vector));
	return count;
}

void rt_msi_entry(struct kvm_irq_routing_entry *e, uint32_t gsi,
		  unsigned int vcpu, unsigned int vector)
{
	uint64_t address = guest_msi_address(vcpu);

	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = (uint32_t)address;
	e->u.msi.address_hi = (uint32_t)(address >> 32);
	e->u.msi.data = vector;
}

int rt_raw_irqfd(const struct guest *g, uint32_t gsi, int *efd)
{
	struct kvm_irqfd irqfd = { .gsi = gsi };
	int fd, ret;

	fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	irqfd.fd = fd;
	if (ioctl(guest_vm_fd(g), KVM_IRQFD, &irqfd)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	*efd = fd;
	return 0;
}
