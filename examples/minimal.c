// SPDX-License-Identifier: GPL-2.0
/*
 * minimal: the libirqroute calls a VMM makes for one MSI-X vector of a
 * passed-through device. It creates a KVM VM with an in-kernel irqchip
 * (no vCPU, so the MSI goes nowhere), hands the VM's routing table to
 * irqroute, routes one vector, and masks and unmasks it the way a guest
 * does. The device is played by a write() to the route's trigger
 * eventfd, which is what vfio-pci's interrupt handler does.
 *
 * Needs /dev/kvm and the irqroute module (/dev/irqroute). Build:
 *   cc -o minimal minimal.c $(pkg-config --cflags --libs libirqroute)
 * or `make examples` in the source tree (build/examples/minimal).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <irqroute.h>

static int fail(const char *what, int err)
{
	fprintf(stderr, "minimal: %s: %s\n", what, strerror(err));
	return 1;
}

/* What vfio-pci's interrupt handler does when the device raises the MSI. */
static void device_msi(struct irqroute_route *r)
{
	uint64_t one = 1;

	if (write(irqroute_route_event(r), &one, sizeof(one)) != sizeof(one))
		perror("minimal: write");
}

int main(void)
{
	struct irqroute_opts opts = {
		.gsi_base = 24,		/* GSIs 24-279 are irqroute's */
		.nr_routes = 256,
		.flags = IRQROUTE_F_X86_DEFAULT_ROUTES,	/* GSIs 0-23: IOAPIC/PIC */
	};
	struct irqroute_route *r;
	struct irqroute *ir;
	uint32_t apic_id = 0, vector = 0x41;
	int kvm, vm, ret;
	bool pba;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("/dev/kvm", errno);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_CREATE_IRQCHIP, 0))
		return fail("KVM_CREATE_VM/KVM_CREATE_IRQCHIP", errno);

	/* From here on irqroute owns the VM's GSI routing table. */
	ret = irqroute_attach(vm, &opts, &ir);
	if (ret)
		return fail("irqroute_attach", -ret);

	ret = irqroute_route_create(ir, &r);
	if (ret)
		return fail("irqroute_route_create", -ret);
	/*
	 * A VMM passes irqroute_route_event(r) to VFIO_DEVICE_SET_IRQS as
	 * the vector's trigger (VFIO_PCI_MSIX_IRQ_INDEX,
	 * VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER), and
	 * gives irqroute_set_msi() the address and data the guest writes to
	 * the vector's MSI-X table entry: here APIC ID 0, vector 0x41.
	 */
	ret = irqroute_set_msi(r, 0xfee00000 | (apic_id << 12), vector);
	if (ret)
		return fail("irqroute_set_msi", -ret);
	device_msi(r);			/* injected through KVM's irqfd */

	/* The guest masks the vector: one atomic, no system call. */
	irqroute_mask(r);
	device_msi(r);			/* held: sets the pending bit */
	printf("masked, after an MSI: pending %d\n", irqroute_pending(r));

	/*
	 * Either the VMM takes the edge into the PBA it emulates, and injects
	 * it itself (KVM_SIGNAL_MSI) when the guest unmasks the vector...
	 */
	pba = irqroute_consume_pending(r);
	printf("consumed: %d, pending now %d\n", pba, irqroute_pending(r));
	/*
	 * ...or it leaves the bit set, and irqroute_unmask() delivers the
	 * edge: the one case in which an unmask makes a system call.
	 */
	device_msi(r);
	ret = irqroute_unmask(r);
	if (ret)
		return fail("irqroute_unmask", -ret);
	printf("unmasked: pending %d (the held MSI was injected)\n",
	       irqroute_pending(r));

	irqroute_route_destroy(r);
	irqroute_detach(ir);
	close(vm);
	close(kvm);
	return 0;
}
