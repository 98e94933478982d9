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

#define RT_FENCE_VECTOR		0xe0
/* Vectors the tests route to: RT_VECTOR(0) .. RT_VECTOR(RT_NR_VECTORS - 1). */
#define RT_VECTOR(i)		(0x30 + (i))
#define RT_NR_VECTORS		(RT_FENCE_VECTOR - 0x30)

struct rt_env {
	struct guest *g;
	struct irqroute *ir;
	struct irqroute_route *fence;	/* NULL without a fence route */
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

/* Signals the fence route and waits for it (guest_fence()). */
bool rt_fence(const struct rt_env *e);
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
 * guest_wait_count() with the default timeout; when the count falls short,
 * also prints the attachment's counters (signals, delivered to KVM,
 * pended), to tell a signal the module lost from one KVM or the guest did.
 */
uint32_t rt_wait(const struct rt_env *e, unsigned int vcpu,
		 unsigned int vector, uint32_t expected);

#endif /* IRQROUTE_SELFTEST_RTENV_H */
