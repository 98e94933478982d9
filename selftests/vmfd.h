/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bare KVM file descriptors for the irqroute selftests that need a VM but
 * never run it: raw ioctls on /dev/kvm, no guest memory, no vCPU run loop.
 * Every helper returns a file descriptor or a negative errno.
 */
#ifndef IRQROUTE_SELFTEST_VMFD_H
#define IRQROUTE_SELFTEST_VMFD_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

static inline int kvm_dev_open(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* A VM without an irqchip: irqroute must not be able to commit a table. */
static inline int vm_create_bare(void)
{
	int kvm, vm, err;

	kvm = kvm_dev_open();
	if (kvm < 0)
		return kvm;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	err = errno;
	close(kvm);
	return vm < 0 ? -err : vm;
}

/* A VM with the in-kernel irqchip, which is what IRQROUTE_ATTACH expects. */
static inline int vm_create_irqchip(void)
{
	int vm, err;

	vm = vm_create_bare();
	if (vm < 0)
		return vm;
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0)) {
		err = errno;
		close(vm);
		return -err;
	}
	return vm;
}

/*
 * Creating the first KVM VM and destroying the last one flips a static key
 * in the scheduler (preempt_notifier_inc/dec() in kvm_create_vm() and
 * kvm_destroy_vm()), which patches kernel text through int3. In the test
 * VM (QEMU TCG, two vCPUs) that patching, done hundreds of times by tests
 * creating VMs back to back, has hung 6.1 (soft lockups in
 * finish_task_switch()) and oopsed 6.12 ("int3" in __schedule()). One VM
 * held for the life of the test program keeps the key enabled, so the
 * tests' own VMs never patch text. It is created before the harness forks
 * the tests, and a failure here shows up in the tests' own VM creation.
 */
static void __attribute__((constructor)) vmfd_hold_preempt_notifier_key(void)
{
	static int keeper = -1;

	if (keeper < 0)
		keeper = vm_create_bare();
}

static inline int vm_create_vcpu(int vm, unsigned long id)
{
	int fd = ioctl(vm, KVM_CREATE_VCPU, id);

	return fd < 0 ? -errno : fd;
}

/*
 * vCPU @id of @vm (APIC ID @id) with its local APIC software-enabled, so
 * that an MSI for it is accepted into its IRR, which KVM_GET_LAPIC reads
 * without the vCPU ever running: a probe of what KVM delivered that
 * counts nothing of irqroute's own.
 */
static inline int vcpu_create_apic(int vm, unsigned long id)
{
	struct kvm_lapic_state apic;
	int vcpu, err;

	vcpu = vm_create_vcpu(vm, id);
	if (vcpu < 0)
		return vcpu;
	if (ioctl(vcpu, KVM_GET_LAPIC, &apic))
		goto err;
	/* SVR (0xf0): APIC software enable, spurious vector 0xff. */
	*(uint32_t *)&apic.regs[0xf0] = 0x1ff;
	if (ioctl(vcpu, KVM_SET_LAPIC, &apic))
		goto err;
	return vcpu;
err:
	err = errno;
	close(vcpu);
	return -err;
}

/*
 * Takes @vector out of the vCPU's IRR: 1 if KVM had put it there, 0 if
 * not, or a negative errno. Waits up to @ms milliseconds for it (KVM may
 * inject from a work item).
 */
static inline int vcpu_irr_take(int vcpu, unsigned int vector,
				unsigned int ms)
{
	unsigned int off = 0x200 + (vector / 32) * 0x10;
	struct kvm_lapic_state apic;
	uint32_t *irr, bit = 1u << (vector % 32);

	irr = (uint32_t *)&apic.regs[off];
	for (;;) {
		if (ioctl(vcpu, KVM_GET_LAPIC, &apic))
			return -errno;
		if (*irr & bit)
			break;
		if (!ms--)
			return 0;
		usleep(1000);
	}
	*irr &= ~bit;
	return ioctl(vcpu, KVM_SET_LAPIC, &apic) ? -errno : 1;
}

/*
 * Whether @gsi is routed to an irqchip pin in the VM's committed table,
 * probed without a vCPU: deassert the line with KVM_IRQ_LINE_STATUS.
 * kvm_set_irq() reports -1 when no entry maps the GSI, and an IOAPIC pin
 * reports 1 for a deassert whatever its redirection entry holds. (An MSI
 * entry reports -1 for a deassert too, so only pins can be probed.)
 * Returns 1 (routed to a pin), 0 (not), or a negative errno.
 */
static inline int vm_gsi_routed(int vm, unsigned int gsi)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = 0 };

	if (ioctl(vm, KVM_IRQ_LINE_STATUS, &irq))
		return -errno;
	return irq.status > 0;
}

#endif /* IRQROUTE_SELFTEST_VMFD_H */
