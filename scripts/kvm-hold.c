// SPDX-License-Identifier: GPL-2.0
/*
 * Hold one KVM VM (in-kernel irqchip, one vCPU that never runs) for the
 * whole life of the test VM, started by vm-init.sh before any test.
 *
 * The first VM created and the last one destroyed flip static keys
 * (preempt_notifier_inc/dec() in kvm_create_vm()/kvm_destroy_vm(), and
 * KVM's apic_sw_disabled key for a vCPU whose local APIC is not yet
 * enabled). Each flip patches kernel text through int3 on every CPU. Under
 * QEMU's multi-threaded TCG that patching, repeated by tests creating VMs
 * back to back, has oopsed 6.12 ("Oops: int3" in __schedule()) and hung
 * 6.1. With this VM alive the counts never drop to zero, so the tests' own
 * VMs never patch text and what is left to fail is the code under test.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

int main(void)
{
	int kvm, vm, vcpu;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("kvm-hold: /dev/kvm");
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) {
		perror("kvm-hold: KVM_CREATE_VM/IRQCHIP");
		return 1;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) {
		perror("kvm-hold: KVM_CREATE_VCPU");
		return 1;
	}
	/* Tell vm-init.sh the VM exists, then sleep until killed. */
	printf("kvm-hold: holding a VM (fd %d, vcpu fd %d)\n", vm, vcpu);
	fflush(stdout);
	close(1);
	for (;;)
		pause();
}
