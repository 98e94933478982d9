/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The usual environment of a delivery test: an L2 guest, an irqroute
 * attachment to its VM, and optionally a fence route.
 *
 * The fence route delivers RT_FENCE_VECTOR to vCPU 0 through the same
 * path as every other route (gate, irq_work, KVM irqfd), so once the
 * guest took the fence, any interrupt signalled before it has landed too.
 */
#ifndef IRQROUTE_SELFTEST_RTENV_H
#define IRQROUTE_SELFTEST_RTENV_H

#include <stdbool.h>
#include <stdint.h>

#include <irqroute.h>
#include <linux/irqroute.h>

#include "guest.h"
#include "kvmtrace.h"

#define RT_FENCE_VECTOR		0xe0
/* Vectors the tests route to: RT_VECTOR(0) .. RT_VECTOR(RT_NR_VECTORS - 1). */
#define RT_VECTOR(i)		(0x30 + (i))
#define RT_NR_VECTORS		(RT_FENCE_VECTOR - 0x30)

struct rt_env {
	struct guest *g;
	struct irqroute *ir;
	struct irqroute_route *fence;	/* NULL without a fence route */
	struct kvmtrace *trace;		/* what KVM's APIC accepted */
};

/*
 * Creates the guest and attaches irqroute to it (@opts NULL: library
 * defaults); with @fence, also the fence route. 0 or -errno; on error
 * everything created is torn down again.
 */
int rt_env_setup(struct rt_env *e, unsigned int nr_vcpus,
		 const struct irqroute_opts *opts, bool fence);
/* Detaches, then destroys the guest. Safe on a partly set up env. */
void rt_env_teardown(struct rt_env *e);

/*
 * Signals the fence route and waits for it (guest_fence()), then fences
 * every other vCPU through KVM (guest_fence_msi()): once it returns, what
 * was signalled before has landed wherever it was routed.
 */
bool rt_fence(const struct rt_env *e);
/*
 * MSIs of @vector KVM's local APIC accepted for @vcpu since setup
 * (kvmtrace.h), or -1 if that could not be counted. Exactly-once checks
 * compare it with the guest's count: a double that reached a halted vCPU
 * as one interrupt shows here.
 */
int64_t rt_injected(const struct rt_env *e, unsigned int vcpu,
		    unsigned int vector);
/* Interrupts the guest took, not counting fences. */
uint64_t rt_total(const struct rt_env *e);

/* Creates a route and points it at (@vcpu, @vector). 0 or -errno. */
int rt_route_new(struct irqroute *ir, unsigned int vcpu, unsigned int vector,
		 struct irqroute_route **out);
/* set_msi to (@vcpu, @vector), fixed delivery, edge. */
int rt_set_msi(struct irqroute_route *r, unsigned int vcpu,
	       unsigned int vector);
/* Signals the route's trigger eventfd. 0 or -errno. */
int rt_signal(const struct irqroute_route *r);

/*
 * Raw KVM paths, beside irqroute: an MSI routing entry for base routes,
 * and a KVM irqfd (a new eventfd bound with KVM_IRQFD to @gsi, returned
 * in @efd). 0 or -errno.
 */
void rt_msi_entry(struct kvm_irq_routing_entry *e, uint32_t gsi,
		  unsigned int vcpu, unsigned int vector);
int rt_raw_irqfd(const struct guest *g, uint32_t gsi, int *efd);

/* irqroute_get_stats() into @st; 0 or -errno. */
int rt_stats(struct irqroute *ir, struct irqroute_stats *st);

/*
 * Sets irqroute's handoff_irq_work parameter: every signal then reaches
 * KVM through the gate's irq_work instead of the direct hand-off (the
 * fallback the direct path takes when the irqfd's lock is busy). Global:
 * fixtures set it in setup, whichever way they need, and clear it in
 * teardown. 0 or -errno.
 */
int rt_handoff_irq_work(bool on);

/*
 * For a test's teardown, in a kselftest harness program: with @irq_work
 * (the variant forced rt_handoff_irq_work()), the attachment's irq_work
 * hand-offs must have grown, or the variant never ran the path it is
 * named for.
 */
#define RT_EXPECT_IRQ_WORK_RAN(ir, irq_work)				\
	do {								\
		struct irqroute_stats __st;				\
									\
		if (!(irq_work) || !(ir))				\
			break;						\
		EXPECT_EQ(0, rt_stats(ir, &__st));			\
		EXPECT_LT(0, __st.deferred) {				\
			TH_LOG("irq_work variant: no hand-off was deferred"); \
		}							\
	} while (0)

/*
 * guest_wait_count() with the default timeout; when the count falls short,
 * also prints the attachment's counters (signals, delivered to KVM,
 * pended), to tell a signal the module lost from one KVM or the guest did.
 */
uint32_t rt_wait(const struct rt_env *e, unsigned int vcpu,
		 unsigned int vector, uint32_t expected);

/*
 * For an exactly-once test's teardown, in a kselftest harness program:
 * after a fence, KVM's APIC must have accepted exactly as many MSIs of
 * (@vcpu, @vector) as the guest took. A double that reached a halted vCPU
 * as one interrupt is caught here; a test whose signals legitimately meet
 * in the APIC (hammering, no wait between them) must not use it.
 */
#define RT_EXPECT_ACCEPTED_AS_TAKEN(e, vcpu, vector)			\
	do {								\
		int64_t __acc = rt_injected(e, vcpu, vector);		\
		int64_t __took = guest_count((e)->g, vcpu, vector);	\
									\
		EXPECT_EQ(__took, __acc) {				\
			TH_LOG("vCPU %u vector %#x: KVM's APIC accepted %lld MSI(s), the guest took %lld", \
			       (unsigned int)(vcpu), (unsigned int)(vector), \
			       (long long)__acc, (long long)__took);	\
		}							\
	} while (0)

/*
 * A stray (an interrupt injected below KVM's APIC, guest.h) on a routed
 * vector: the testbed's, never irqroute's (which only reaches the guest
 * through the APIC, where RT_EXPECT_ACCEPTED_AS_TAKEN() counts it), but
 * a case with one has not shown what it should. It fails, with the
 * testbed-fault line that makes the VM runner run it again
 * (scripts/tap-count.sh).
 */
#define RT_EXPECT_NO_STRAY(e, vcpu, vector)				\
	do {								\
		uint32_t __s = guest_stray_count((e)->g, vcpu, vector);	\
									\
		if (__s)						\
			fprintf(stderr,					\
				"IRQROUTE-TESTBED-FAULT: %u stray interrupt(s) on routed vector %#x of vCPU %u\n", \
				__s, (unsigned int)(vector),		\
				(unsigned int)(vcpu));			\
		EXPECT_EQ(0, __s);					\
	} while (0)

/*
 * Fences every vCPU, then RT_EXPECT_ACCEPTED_AS_TAKEN() for the fence
 * vector and @n (vcpu, vector) pairs of @pairs, RT_EXPECT_NO_STRAY() on
 * them, and,
 * with the vCPUs held for good, nothing left in any local APIC's IRR or
 * ISR. For a teardown; needs a fence route and a set-up environment
 * (does nothing otherwise).
 */
#define RT_EXPECT_EXACTLY_ONCE(e, pairs, n)				\
	do {								\
		unsigned int __i;					\
									\
		if (!(e)->g || !(e)->fence)				\
			break;						\
		EXPECT_TRUE(rt_fence(e));				\
		RT_EXPECT_ACCEPTED_AS_TAKEN(e, 0, RT_FENCE_VECTOR);	\
		for (__i = 0; __i < (n); __i++) {			\
			RT_EXPECT_ACCEPTED_AS_TAKEN(e, (pairs)[__i][0],	\
						    (pairs)[__i][1]);	\
			RT_EXPECT_NO_STRAY(e, (pairs)[__i][0],		\
					   (pairs)[__i][1]);		\
		}							\
		EXPECT_EQ(0, guest_hold_and_check_apics((e)->g));	\
	} while (0)

#endif /* IRQROUTE_SELFTEST_RTENV_H */
