// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-demo: a tiny VMM. It starts an L2 guest (two vCPUs that count
 * every interrupt they take), attaches irqroute to the guest's VM, and
 * walks one route through what a passed-through device's MSI-X vector
 * goes through: routing, delivery, retargeting, masking with an edge left
 * pending (visible in the PBA bit without a system call), and the unmask
 * that delivers it. Every step checks what the guest really received;
 * the exit status is 0 only if every step did what it says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <irqroute.h>
#include <linux/irqroute.h>

#include "guest.h"

#define VEC_FIRST	0x41
#define VEC_SECOND	0x42
#define VEC_FENCE	0xe0

static unsigned int steps, failed;

static void __attribute__((format(printf, 2, 3)))
step(bool ok, const char *fmt, ...)
{
	va_list ap;

	steps++;
	if (!ok)
		failed++;
	printf("[%s] ", ok ? " ok " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void say(const char *fmt, ...)
{
	va_list ap;

	printf("       ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int finish(void)
{
	printf("\nirqroute-demo: %u of %u steps as expected: %s\n",
	       steps - failed, steps, failed ? "FAILED" : "PASSED");
	return failed ? 1 : 0;
}

/* Signals the trigger the way VFIO's interrupt handler would. */
static bool device_irq(struct irqroute_route *r)
{
	return guest_signal_fd(irqroute_route_event(r)) == 0;
}

int main(void)
{
	struct irqroute_route *r = NULL, *fence = NULL;
	struct irqroute_stats st;
	struct irqroute *ir = NULL;
	struct guest *g;
	uint32_t n;
	int ret;

	printf("irqroute-demo: libirqroute %s\n\n", irqroute_version());

	g = guest_create(2);
	step(g, "L2 guest running: 2 vCPUs, x2APIC software-enabled, counting interrupts per vCPU and vector");
	if (!g)
		return finish();

	ret = irqroute_attach(guest_vm_fd(g), NULL, &ir);
	step(!ret, "irqroute attached to the VM: it now owns the routing table, GSIs %u-%u are its routes (%s)",
	     IRQROUTE_DEFAULT_GSI_BASE,
	     IRQROUTE_DEFAULT_GSI_BASE + IRQROUTE_DEFAULT_NR_ROUTES - 1,
	     ret ? strerror(-ret) : "ok");
	if (ret)
		goto out;

	ret = irqroute_route_create(ir, &r);
	step(!ret, "route created: GSI %u, trigger eventfd %d (what a VMM hands to VFIO for one MSI-X vector)",
	     ret ? 0 : irqroute_route_gsi(r),
	     ret ? -1 : irqroute_route_event(r));
	if (ret)
		goto out;
	/* A second route, a fence: when it arrives, earlier ones have. */
	ret = irqroute_route_create(ir, &fence);
	if (!ret)
		ret = irqroute_set_msi(fence, guest_msi_address(0), VEC_FENCE);
	step(!ret, "fence route: GSI %u -> vCPU 0 vector %#x",
	     ret ? 0 : irqroute_route_gsi(fence), VEC_FENCE);
	if (ret)
		goto out;

	ret = irqroute_set_msi(r, guest_msi_address(1), VEC_FIRST);
	step(!ret, "set_msi(address %#llx, data %#x): the guest programmed the vector for vCPU 1, vector %#x",
	     (unsigned long long)guest_msi_address(1), VEC_FIRST, VEC_FIRST);
	if (ret)
		goto out;

	step(device_irq(r), "device interrupt: signalled the trigger eventfd");
	n = guest_wait_count(g, 1, VEC_FIRST, 1, 0);
	step(n == 1, "guest received it: vCPU 1, vector %#x, count %u (expected 1)",
	     VEC_FIRST, n);

	ret = irqroute_set_msi(r, guest_msi_address(0), VEC_SECOND);
	step(!ret, "retarget: set_msi to vCPU 0, vector %#x (one routing table commit)",
	     VEC_SECOND);
	device_irq(r);
	n = guest_wait_count(g, 0, VEC_SECOND, 1, 0);
	step(n == 1 && guest_count(g, 1, VEC_FIRST) == 1,
	     "guest received it on the new target: vCPU 0, vector %#x, count %u; vCPU 1 still at %u",
	     VEC_SECOND, n, guest_count(g, 1, VEC_FIRST));

	ret = irqroute_mask(r);
	step(!ret, "mask: the guest masked the vector (one atomic bit in the shared page, no system call)");
	device_irq(r);
	device_irq(r);
	device_irq(r);
	say("device interrupt x3 while masked");
	step(guest_fence(g, irqroute_route_event(fence), 0, VEC_FENCE) &&
	     guest_count(g, 0, VEC_SECOND) == 1,
	     "nothing delivered while masked: vCPU 0 vector %#x count still %u (checked after a fence interrupt)",
	     VEC_SECOND, guest_count(g, 0, VEC_SECOND));
	step(irqroute_pending(r),
	     "PBA bit %u read from the shared page: %d -- the edge is held, and the VMM can answer the guest's PBA read without a system call",
	     irqroute_route_index(r), irqroute_pending(r));

	ret = irqroute_unmask(r);
	step(!ret, "unmask: the guest unmasked the vector; the held edge goes in now");
	n = guest_wait_count(g, 0, VEC_SECOND, 2, 0);
	guest_fence(g, irqroute_route_event(fence), 0, VEC_FENCE);
	n = guest_count(g, 0, VEC_SECOND);
	step(n == 2, "guest received the pending edge exactly once: vCPU 0, vector %#x, count %u (expected 2; three signals coalesced into one edge, as on hardware)",
	     VEC_SECOND, n);
	step(!irqroute_pending(r), "PBA bit %u is clear again",
	     irqroute_route_index(r));

	ret = irqroute_get_stats(ir, &st);
	step(!ret, "stats: %llu signals, %llu injected, %llu pended, %llu table commits (%llu skipped)",
	     (unsigned long long)st.signals,
	     (unsigned long long)st.delivered,
	     (unsigned long long)st.pended,
	     (unsigned long long)st.commits,
	     (unsigned long long)st.commits_skipped);
	step(guest_total(g) - guest_count(g, 0, VEC_FENCE) == 3,
	     "guest total: %llu interrupts from the route (expected 3), %u fences",
	     (unsigned long long)(guest_total(g) -
				  guest_count(g, 0, VEC_FENCE)),
	     guest_count(g, 0, VEC_FENCE));

out:
	if (r)
		irqroute_route_destroy(r);
	if (fence)
		irqroute_route_destroy(fence);
	if (ir)
		irqroute_detach(ir);
	guest_destroy(g);
	return finish();
}
