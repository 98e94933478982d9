/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An L2 guest that counts the interrupts it receives.
 *
 * guest_create() builds a KVM VM with the in-kernel irqchip and 1..
 * GUEST_MAX_VCPUS vCPUs (vCPU i has APIC ID i), using the kernel's KVM
 * selftest library. Each vCPU enables its x2APIC, software-enables it
 * (SVR 0x1ff), and then sits in "sti; hlt". Every vector from
 * GUEST_FIRST_VECTOR to 0xff has a handler that counts the interrupt per
 * (vCPU, vector) in guest memory and writes EOI (except for the spurious
 * vector 0xff, which takes no EOI). Exceptions are fatal.
 *
 * Only interrupts the local APIC delivered are counted: the handler checks
 * that its vector is in service (ISR) and that it interrupted code with
 * interrupts enabled. An interrupt that fails either check was injected
 * below KVM's APIC (in the nested SVM that QEMU's TCG emulates: a delivery
 * the CPU reported as cut short after the handler had run, so KVM
 * injected it again); irqroute and KVM's irq routing can only reach the
 * guest through the APIC. Such a stray is counted apart, takes no EOI,
 * and guest_destroy() reports it on stderr ("IRQROUTE-TESTBED-STRAY:").
 *
 * The host reads the counts straight from guest memory. A vCPU thread per
 * vCPU runs KVM_RUN; a guest assertion, an unexpected exception or exit
 * ends the whole process with a message and exit status 1 (KSFT_FAIL), so
 * a broken guest can never look like "nothing was delivered".
 *
 * The vCPU threads are interrupted with GUEST_KICK_SIGNAL (SIGUSR2) when
 * the guest is destroyed; do not use that signal elsewhere.
 */
#ifndef IRQROUTE_SELFTEST_GUEST_H
#define IRQROUTE_SELFTEST_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <signal.h>

#define GUEST_MAX_VCPUS		4
#define GUEST_NR_VECTORS	256
/* First vector with a counting handler; 0-31 are exceptions. */
#define GUEST_FIRST_VECTOR	0x20
#define GUEST_SPURIOUS_VECTOR	0xff
#define GUEST_KICK_SIGNAL	SIGUSR2

/*
 * Positive waits: delivery crosses a nested, TCG-emulated L1, so allow
 * seconds; a passing wait returns as soon as the count is reached.
 * IRQROUTE_TEST_TIMEOUT_MS in the environment overrides it.
 */
#define GUEST_TIMEOUT_MS	10000
/* After a fence has landed: time for any straggler to show up. */
#define GUEST_SETTLE_MS		50

struct guest;
struct kvm_vm;

/* NULL on failure (with a message on stderr). */
struct guest *guest_create(unsigned int nr_vcpus);
/* Stops the vCPU threads and frees the VM. NULL is a no-op. */
void guest_destroy(struct guest *g);

unsigned int guest_nr_vcpus(const struct guest *g);
int guest_vm_fd(const struct guest *g);
struct kvm_vm *guest_vm(struct guest *g);

/* Interrupts of @vector taken by @vcpu so far. */
uint32_t guest_count(const struct guest *g, unsigned int vcpu,
		     unsigned int vector);
/* Stray deliveries of @vector to @vcpu (see above); not in the counts. */
uint32_t guest_stray_count(const struct guest *g, unsigned int vcpu,
			   unsigned int vector);
/*
 * For the test of the check above: has KVM inject @vector into @vcpu on
 * its next entry as an interrupt already in delivery, bypassing the APIC.
 */
int guest_inject_stray(struct guest *g, unsigned int vcpu,
		       unsigned int vector);
/*
 * For the test of the triple-fault check: gives @vcpu an unmapped IDT and
 * (@lose_rip) RIP, as the testbed fault does, and wakes it. With both, the
 * vCPU triple-faults on an instruction fetch and the process exits(1)
 * after the testbed-fault line; with the IDT alone, it triple-faults on
 * its next interrupt, which is not that fault.
 */
int guest_lose_state(struct guest *g, unsigned int vcpu, bool lose_rip);
/* All interrupts taken by @vcpu (every vector). */
uint64_t guest_vcpu_total(const struct guest *g, unsigned int vcpu);
/* All interrupts taken by the guest. */
uint64_t guest_total(const struct guest *g);

/*
 * Waits until guest_count(@vcpu, @vector) >= @expected or @timeout_ms
 * passed (0: guest_timeout_ms()); returns the final count, which may be
 * above @expected: callers compare it for equality.
 */
uint32_t guest_wait_count(const struct guest *g, unsigned int vcpu,
			  unsigned int vector, uint32_t expected,
			  unsigned int timeout_ms);

/*
 * Fence for negative checks: signals @fd (an eventfd that delivers
 * @vector to @vcpu, e.g. another route's trigger or a raw KVM irqfd),
 * waits until the guest took it, then waits GUEST_SETTLE_MS more. An
 * interrupt signalled before the fence on a path no slower than the
 * fence's has landed by the time this returns. False if the fence never
 * arrived.
 */
bool guest_fence(const struct guest *g, int fd, unsigned int vcpu,
		 unsigned int vector);

/*
 * The same fence straight through KVM (KVM_SIGNAL_MSI of @vector to
 * @vcpu), without the settle: for the other vCPUs once a fence on the
 * signals' own path has landed, so that each of them has woken and taken
 * what its APIC holds. False if it never arrived.
 */
bool guest_fence_msi(const struct guest *g, unsigned int vcpu,
		     unsigned int vector);

/*
 * Stops the vCPUs for good (guest_destroy() still frees the guest) and
 * counts the vectors still requested (IRR) or in service (ISR) in their
 * local APICs, printing each: after a fence on every vCPU, any is an
 * interrupt KVM accepted and the guest never took. -1 if an APIC could
 * not be read.
 */
int guest_hold_and_check_apics(struct guest *g);

/* The x86 MSI address that targets APIC ID @apic_id, physical mode. */
static inline uint64_t guest_msi_address(uint32_t apic_id)
{
	return 0xfee00000ULL | ((uint64_t)apic_id << 12);
}

/* KVM_SIGNAL_MSI: inject an MSI directly, as a VMM does from its PBA. */
int guest_signal_msi(struct guest *g, uint64_t address, uint32_t data);

/* Adds 1 to eventfd @fd. 0 or -errno. */
int guest_signal_fd(int fd);

/* One text symbol of /proc/kallsyms; @module is "" for the core kernel. */
struct guest_ksym {
	unsigned long long addr;
	char name[256];
	char module[128];
};

/* Parses a /proc/kallsyms line: true for a text symbol with an address. */
bool guest_ksym_parse(const char *line, struct guest_ksym *s);

/*
 * True if @rip is L1 kernel code (/proc/kallsyms; @buf gets "sym+off
 * [module]") and not the test binary's, which is all an L2 vCPU ever runs.
 * No guest can reach an L1 address: a vCPU found there lost its state
 * below KVM and irqroute (in the nested SVM that QEMU's TCG emulates; seen
 * as a vector stuck in service and as triple faults). When a wait falls
 * short or the guest exits unexpectedly, the helper prints a line starting
 * "IRQROUTE-TESTBED-FAULT:", on which scripts/vm-init.sh runs the test
 * binary once more instead of counting a result that tests nothing. A
 * triple fault with the same cause is recognised by the #PF on an
 * instruction fetch that KVM saw being delivered when it happened.
 */
bool guest_rip_is_l1_kernel(uint64_t rip, char *buf, size_t len);

/* GUEST_TIMEOUT_MS, or IRQROUTE_TEST_TIMEOUT_MS from the environment. */
unsigned int guest_timeout_ms(void);
/* Unsigned value of environment variable @name, or @def. */
unsigned long guest_env_ulong(const char *name, unsigned long def);
/* Sleeps @ms milliseconds. */
void guest_msleep(unsigned int ms);

#endif /* IRQROUTE_SELFTEST_GUEST_H */
