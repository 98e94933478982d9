/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What KVM's local APIC accepted, counted from KVM's own trace event.
 *
 * A guest's interrupt count cannot see a double: two MSIs that reach a
 * halted vCPU microseconds apart set one IRR bit, and the guest takes one
 * interrupt. KVM's kvm_apic_accept_irq event fires once per MSI the APIC
 * accepts (__apic_accept_irq()), so an exactly-once test checks both
 * counts. Each kvmtrace is a private tracefs instance (tracefs mounted at
 * /sys/kernel/tracing; vm-init.sh mounts it) with only that event on.
 *
 * The event names the vCPU by its APIC ID; the L2 guests of guest.h give
 * vCPU i APIC ID i. Events of every VM are seen, so a test counts only
 * the vectors it owns.
 */
#ifndef IRQROUTE_SELFTEST_KVMTRACE_H
#define IRQROUTE_SELFTEST_KVMTRACE_H

#include <stdint.h>

struct kvmtrace;

/* Starts counting. NULL on failure, with the reason on stderr. */
struct kvmtrace *kvmtrace_open(void);
/* Stops and removes the instance. NULL is a no-op. */
void kvmtrace_close(struct kvmtrace *t);

/*
 * MSIs of @vector KVM accepted for the vCPU with APIC ID @apic_id since
 * kvmtrace_open(), or -1 if the trace could not be read or lost events
 * (with the reason on stderr).
 */
int64_t kvmtrace_count(struct kvmtrace *t, unsigned int apic_id,
		       unsigned int vector);

#endif /* IRQROUTE_SELFTEST_KVMTRACE_H */
