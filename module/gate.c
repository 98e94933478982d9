// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute: the gate on a route's trigger eventfd.
 *
 * A signal on the trigger is either handed to KVM (the route is
 * deliverable: unmasked and with a committed MSI) or recorded in the
 * route's pending bit. The mask bit lives in the shared page, where the VMM
 * flips it without a system call, so the two sides meet through atomics:
 *
 *   gate:     set pending; full barrier; if deliverable, test-and-clear
 *             pending and deliver if it was still set
 *   unmask:   clear mask (the VMM in the page, or the ioctl); full
 *             barrier; if deliverable, test-and-clear pending and
 *             deliver if it was set
 *   MSI on:   set MSI bit; full barrier; if unmasked, likewise
 *
 * Each side writes its own bit before reading the other's, with a full
 * barrier between, so at least one of them sees both writes; whoever
 * clears the pending bit delivers, exactly once. No interrupt stays pending
 * on a deliverable route, and none is lost.
 *
 * The hand-off cannot signal KVM's eventfd from inside the trigger's
 * wake-up (the eventfd core refuses nested signalling), so it runs from an
 * irq_work: one self-IPI later, still in hard-IRQ context.
 */
#include <linux/bitops.h>
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/percpu.h>
#include <linux/poll.h>
#include <linux/spinlock.h>

#include "compat.h"
#include "irqroute.h"

/*
 * The hand-off runs in hard-IRQ context with interrupts disabled and
 * relies on it (the feedback guard below is per CPU). On PREEMPT_RT the
 * eventfd lock sleeps and irq_works run in threads.
 */
#ifdef CONFIG_PREEMPT_RT
#error "irqroute does not support PREEMPT_RT kernels"
#endif

/*
 * Set while a hand-off signals KVM's eventfd on this CPU (interrupts are
 * disabled there). A gate that runs inside it was reached through an
 * eventfd that is both some route's private irqfd and a trigger: a loop
 * made by the VMM. Forwarding would ping-pong irq_works forever, so such a
 * signal is only recorded as pending.
 */
static DEFINE_PER_CPU(bool, irqroute_in_handoff);

static bool irqroute_route_deliverable(struct irqroute_route *r)
{
	return test_bit(IRQROUTE_ROUTE_MSI, &r->state) &&
	       !test_bit(r->index, r->ir->mask);
}

/* Signal KVM's irqfd. Any context that is not an eventfd wake-up. */
static void irqroute_route_fire(struct irqroute_route *r)
{
	unsigned long flags;

	local_irq_save(flags);
	__this_cpu_write(irqroute_in_handoff, true);
	irqroute_eventfd_signal(r->irqfd);
	__this_cpu_write(irqroute_in_handoff, false);
	local_irq_restore(flags);
	atomic64_inc(&r->ir->stats.delivered);
}

/*
 * Record a signal as pending. Returns true if the caller must deliver it
 * after all: the route became deliverable meanwhile and this caller won
 * the pending bit back.
 */
static bool irqroute_route_pend(struct irqroute_route *r)
{
	set_bit(r->index, r->ir->pending);
	atomic64_inc(&r->ir->stats.pended);
	/* Order the pending bit before reading mask and MSI state. */
	smp_mb__after_atomic();
	return irqroute_route_deliverable(r) &&
	       test_and_clear_bit(r->index, r->ir->pending);
}

/*
 * The hand-off. Runs in hard-IRQ context, interrupts disabled. clear_msi
 * clears the MSI bit and then waits for this to finish (irq_work_sync), so
 * re-checking here keeps a signal from reaching a GSI being removed.
 */
static void irqroute_handoff(struct irq_work *work)
{
	struct irqroute_route *r = container_of(work, struct irqroute_route,
						handoff);

	if (irqroute_route_deliverable(r) || irqroute_route_pend(r))
		irqroute_route_fire(r);
	/* The last access to the route; counted by irqroute_route_queue(). */
	atomic_dec_return_release(&r->running);
}

/*
 * Queue a hand-off, counted from now until it has finished: each claim
 * that succeeds is exactly one run of irqroute_handoff(), which uncounts
 * itself; a claim that finds the work pending is covered by that run.
 */
static void irqroute_route_queue(struct irqroute_route *r)
{
	atomic_inc(&r->running);
	if (!irq_work_queue(&r->handoff))
		atomic_dec(&r->running);
}

/*
 * Wait until no hand-off of the route is queued or running. The caller has
 * just cleared the MSI bit (or removed the gate), so a hand-off queued
 * after the count was read only sets the pending bit: the queueing claim
 * is a full barrier, and so is the one before irq_work_single() runs it.
 */
static void irqroute_route_quiesce(struct irqroute_route *r)
{
	/* Order the caller's MSI bit before reading the work's state. */
	smp_mb();
	irq_work_sync(&r->handoff);
	while (atomic_read_acquire(&r->running))
		cpu_relax();
}

/*
 * The gate. Called with the trigger's wqh->lock held and interrupts
 * disabled: from eventfd_signal() in vfio's hard-IRQ handler, or from a
 * write() to the eventfd. Must not sleep.
 */
static int irqroute_gate_wakeup(wait_queue_entry_t *wait, unsigned int mode,
				int sync, void *key)
{
	struct irqroute_route *r = container_of(wait, struct irqroute_route,
						wait);
	__poll_t flags = key_to_poll(key);
	u64 cnt;

	/*
	 * EPOLLHUP: the last file reference went away. The route holds the
	 * eventfd context, so the wait queue stays valid until destroy.
	 */
	if (!(flags & EPOLLIN))
		return 0;

	/* Consume the count: the trigger is the gate's alone. */
	eventfd_ctx_do_read(r->trigger, &cnt);
	atomic64_inc(&r->ir->stats.signals);

	if (unlikely(__this_cpu_read(irqroute_in_handoff))) {
		set_bit(r->index, r->ir->pending);
		atomic64_inc(&r->ir->stats.feedback);
		return 1;
	}
	if (irqroute_route_deliverable(r) || irqroute_route_pend(r))
		irqroute_route_queue(r);
	/* Handled: stop the walk, like KVM's own irqfd. */
	return 1;
}

/*
 * vfs_poll() callback: hook the gate in at the head of the trigger's wait
 * queue as an exclusive priority waiter, unless one is there already (a
 * KVM irqfd or another route on the same eventfd): each would starve the
 * other. Newer kernels enforce this in add_wait_queue_priority_exclusive();
 * doing it here gives every kernel the same behaviour.
 */
static void irqroute_gate_queue(struct file *file, wait_queue_head_t *wqh,
				poll_table *pt)
{
	struct irqroute_route *r = container_of(pt, struct irqroute_route, pt);
	struct wait_queue_entry *first;
	unsigned long flags;

	spin_lock_irqsave(&wqh->lock, flags);
	first = list_first_entry_or_null(&wqh->head, struct wait_queue_entry,
					 entry);
	if (first && (first->flags & WQ_FLAG_PRIORITY)) {
		r->gate_busy = true;
	} else {
		r->wait.flags |= WQ_FLAG_EXCLUSIVE | WQ_FLAG_PRIORITY;
		list_add(&r->wait.entry, &wqh->head);
	}
	spin_unlock_irqrestore(&wqh->lock, flags);
}

/**
 * irqroute_gate_register - start gating a route's trigger
 * @r: the route, with @trigger, @irqfd and @index set
 * @trigger: the trigger eventfd's file
 *
 * Context: process context, ir->lock held.
 * Return: 0, or -EBUSY if the eventfd already has an exclusive waiter.
 */
int irqroute_gate_register(struct irqroute_route *r, struct file *trigger)
{
	__poll_t events;

	init_irq_work(&r->handoff, irqroute_handoff);
	init_waitqueue_func_entry(&r->wait, irqroute_gate_wakeup);
	init_poll_funcptr(&r->pt, irqroute_gate_queue);

	events = vfs_poll(trigger, &r->pt);
	if (r->gate_busy)
		return -EBUSY;

	/*
	 * A signal that came before the gate was there. The route has no MSI
	 * yet, so it is pending; the eventfd count is consumed by the next
	 * wake-up.
	 */
	if (events & EPOLLIN) {
		set_bit(r->index, r->ir->pending);
		atomic64_inc(&r->ir->stats.pended);
	}
	return 0;
}

/**
 * irqroute_gate_unregister - stop the gate; nothing of it runs afterwards
 * @r: the route
 *
 * Context: process context.
 */
void irqroute_gate_unregister(struct irqroute_route *r)
{
	u64 cnt;

	/* Takes wqh->lock: a running gate finishes first, none starts after. */
	eventfd_ctx_remove_wait_queue(r->trigger, &r->wait, &cnt);
	clear_bit(IRQROUTE_ROUTE_MSI, &r->state);
	/* The last hand-offs the gate may have queued. */
	irqroute_route_quiesce(r);
}

/**
 * irqroute_route_msi_on - the committed table now has the route's MSI
 * @r: the route
 *
 * Delivers a pending interrupt if the route is unmasked.
 * Context: process context, ir->lock held.
 */
void irqroute_route_msi_on(struct irqroute_route *r)
{
	set_bit(IRQROUTE_ROUTE_MSI, &r->state);
	/* Order the MSI bit before reading mask and pending. */
	smp_mb__after_atomic();
	if (!test_bit(r->index, r->ir->mask) &&
	    test_and_clear_bit(r->index, r->ir->pending))
		irqroute_route_fire(r);
}

/**
 * irqroute_route_msi_off - the route's MSI is about to leave the table
 * @r: the route
 *
 * From now on signals set the pending bit. Waits for a hand-off in flight,
 * so that none reaches KVM after the table no longer routes the GSI.
 * Context: process context, ir->lock held.
 */
void irqroute_route_msi_off(struct irqroute_route *r)
{
	clear_bit(IRQROUTE_ROUTE_MSI, &r->state);
	irqroute_route_quiesce(r);
}

/**
 * irqroute_route_unmask - the kernel side of unmask
 * @r: the route
 * @clear_mask: clear the mask bit first; false when the VMM already
 *	cleared it in the shared page and only asks for the pending
 *	interrupt, so that a mask set since then by another thread stands
 *
 * Context: process context, ir->lock held.
 */
void irqroute_route_unmask(struct irqroute_route *r, bool clear_mask)
{
	if (clear_mask)
		clear_bit(r->index, r->ir->mask);
	/* Order the mask bit (ours, or the VMM's) before reading the rest. */
	smp_mb();
	if (irqroute_route_deliverable(r) &&
	    test_and_clear_bit(r->index, r->ir->pending))
		irqroute_route_fire(r);
}
