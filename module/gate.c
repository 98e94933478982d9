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
 * The hand-off to KVM cannot go through eventfd_signal() from inside the
 * trigger's wake-up: the eventfd core refuses nested signalling. The gate
 * wakes KVM's irqfd itself instead, by running the wake-up of the route's
 * private eventfd under that eventfd's lock, taken with a trylock (see
 * irqroute_route_wake()). If the lock is busy, or handoff_irq_work is set,
 * an irq_work does the hand-off one self-IPI later with eventfd_signal(),
 * still in hard-IRQ context.
 */
#include <linux/bitops.h>
#include <linux/delay.h>
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/poll.h>
#include <linux/spinlock.h>

#include "compat.h"
#include "irqroute.h"
#include "trace.h"

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

/*
 * Always hand off through the irq_work, never wake KVM's irqfd from the
 * gate. For tests (the fallback path is otherwise rare) and for
 * measurements; read once per signal, so it may change at any time.
 */
static bool handoff_irq_work;
module_param(handoff_irq_work, bool, 0644);
MODULE_PARM_DESC(handoff_irq_work,
		 "Hand every signal to KVM through an irq_work (testing)");

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
	this_cpu_inc(r->ir->stats.hot->delivered);
}

/*
 * Record a signal as pending. Returns true if the caller must deliver it
 * after all: the route became deliverable meanwhile and this caller won
 * the pending bit back.
 */
static bool irqroute_route_pend(struct irqroute_route *r)
{
	if (IRQROUTE_CANARY(gate_no_recheck))
		udelay(IRQROUTE_CANARY_RACE_WINDOW_US);
	set_bit(r->index, r->ir->pending);
	this_cpu_inc(r->ir->stats.hot->pended);
	if (IRQROUTE_CANARY(gate_no_recheck))
		return false;
	/* Order the pending bit before reading mask and MSI state. */
	smp_mb__after_atomic();
	return irqroute_route_deliverable(r) &&
	       test_and_clear_bit(r->index, r->ir->pending);
}

/*
 * The direct hand-off, from inside the trigger's wake-up: run the wake-up
 * of the private eventfd, where KVM's irqfd waits, as eventfd_signal()
 * would (KVM reads the count and ignores it, so it is not raised). The
 * trylock is what makes this safe whatever the VMM does with its
 * eventfds: two locks of the same class are never waited for in a
 * nested order, so no cycle of routes can deadlock. False if the lock
 * was busy: the caller falls back to the irq_work.
 */
static bool irqroute_route_wake(struct irqroute_route *r)
{
	wait_queue_head_t *wqh = r->irqfd_wqh;

	if (READ_ONCE(handoff_irq_work) || !spin_trylock(&wqh->lock))
		return false;
	__this_cpu_write(irqroute_in_handoff, true);
	__wake_up_locked_key(wqh, TASK_NORMAL, poll_to_key(EPOLLIN));
	__this_cpu_write(irqroute_in_handoff, false);
	spin_unlock(&wqh->lock);
	this_cpu_inc(r->ir->stats.hot->delivered);
	return true;
}

/*
 * The deferred hand-off. Runs in hard-IRQ context, interrupts disabled. clear_msi
 * clears the MSI bit and then waits for this to finish (irq_work_sync), so
 * re-checking here keeps a signal from reaching a GSI being removed.
 */
static void irqroute_handoff(struct irq_work *work)
{
	struct irqroute_route *r = container_of(work, struct irqroute_route,
						handoff);
	bool deliver = irqroute_route_deliverable(r) || irqroute_route_pend(r);

	if (deliver)
		irqroute_route_fire(r);
	trace_irqroute_handoff(irqroute_route_gsi(r), r->index, deliver);
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
	if (irq_work_queue(&r->handoff))
		this_cpu_inc(r->ir->stats.hot->deferred);
	else
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
	/*
	 * Order the caller's MSI bit before reading the work's state and
	 * the count, which also covers a gate in the middle of a direct
	 * hand-off (irqroute_gate_wakeup()).
	 */
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
	enum irqroute_gate_action action;
	u64 cnt;

	/*
	 * EPOLLHUP: the last file reference went away. The route holds the
	 * eventfd context, so the wait queue stays valid until destroy.
	 */
	if (!(flags & EPOLLIN))
		return 0;

	/* Consume the count: the trigger is the gate's alone. */
	eventfd_ctx_do_read(r->trigger, &cnt);
	this_cpu_inc(r->ir->stats.hot->signals);

	if (unlikely(__this_cpu_read(irqroute_in_handoff))) {
		set_bit(r->index, r->ir->pending);
		this_cpu_inc(r->ir->stats.hot->feedback);
		trace_irqroute_gate(irqroute_route_gsi(r), r->index,
				    IRQROUTE_GATE_FEEDBACK);
		return 1;
	}
	/*
	 * Counted before the route's state is read, so that MSI off, which
	 * changes the state and then waits for the count to drop, either
	 * is seen here or waits for this hand-off.
	 */
	atomic_inc(&r->running);
	/* Order the count before reading the MSI and mask bits. */
	smp_mb__after_atomic();
	if (!irqroute_route_deliverable(r) && !irqroute_route_pend(r)) {
		action = IRQROUTE_GATE_PENDED;
	} else if (irqroute_route_wake(r)) {
		action = IRQROUTE_GATE_DELIVERED;
	} else {
		irqroute_route_queue(r);
		action = IRQROUTE_GATE_DEFERRED;
	}
	trace_irqroute_gate(irqroute_route_gsi(r), r->index, action);
	atomic_dec_return_release(&r->running);
	/* Handled: stop the walk, like KVM's own irqfd. */
	return 1;
}

/* irqroute_gate_register()'s poll table, on its stack. */
struct irqroute_gate_poll {
	poll_table pt;
	struct irqroute_route *r;
	bool busy;		/* the trigger had an exclusive waiter */
	u64 counted;		/* what the trigger had counted before */
};

/*
 * vfs_poll() callback: hook the gate in at the head of the trigger's wait
 * queue as an exclusive priority waiter, unless one is there already (a
 * KVM irqfd or another route on the same eventfd): each would starve the
 * other. A priority waiter added later, such as a KVM_IRQFD the VMM makes
 * on the trigger, queues behind the gate (__add_wait_queue() keeps
 * priority waiters in the order they came, and from 6.17 KVM refuses with
 * EBUSY): the gate, which stops the walk, keeps every signal.
 */
static void irqroute_gate_queue(struct file *file, wait_queue_head_t *wqh,
				poll_table *pt)
{
	struct irqroute_gate_poll *gp =
		container_of(pt, struct irqroute_gate_poll, pt);
	struct irqroute_route *r = gp->r;
	unsigned long flags;
	u64 cnt = 0;

	gp->busy = irqroute_add_wait_queue_priority_exclusive(wqh, &r->wait);
	if (gp->busy)
		return;
	/*
	 * A count from before the gate was there is the route's pending bit
	 * now, so take it: left in the eventfd it would come back as a
	 * second edge (at the next route on the trigger, or a hand-over).
	 * A signal after add_wait_queue went through the gate already.
	 */
	spin_lock_irqsave(&wqh->lock, flags);
	eventfd_ctx_do_read(r->trigger, &cnt);
	spin_unlock_irqrestore(&wqh->lock, flags);
	gp->counted = cnt;
}

struct irqroute_wqh_finder {
	poll_table pt;
	wait_queue_head_t *wqh;
};

static void irqroute_wqh_find(struct file *file, wait_queue_head_t *wqh,
			      poll_table *pt)
{
	container_of(pt, struct irqroute_wqh_finder, pt)->wqh = wqh;
}

/**
 * irqroute_gate_register - start gating a route's trigger
 * @r: the route, with @trigger, @irqfd, @irqfd_file and @index set
 * @trigger: the trigger eventfd's file
 *
 * Context: process context, ir->lock held.
 * Return: 0, or -EBUSY if the trigger already has an exclusive waiter or
 * the private eventfd is not fresh.
 */
int irqroute_gate_register(struct irqroute_route *r, struct file *trigger)
{
	struct irqroute_wqh_finder finder = { .wqh = NULL };
	struct irqroute_gate_poll gp = { .r = r };
	__poll_t events;

	lockdep_assert_held(&r->ir->lock);

	/*
	 * The wait queue of the private eventfd, for the direct hand-off.
	 * It lives in the eventfd context, which the route holds.
	 */
	init_poll_funcptr(&finder.pt, irqroute_wqh_find);
	events = vfs_poll(r->irqfd_file, &finder.pt);
	if (WARN_ON_ONCE(!finder.wqh))
		return -EBADFD;
	r->irqfd_wqh = finder.wqh;
	/*
	 * The private eventfd must be fresh: nothing counted, nobody
	 * waiting. A waiter would be another route's gate or KVM irqfd (the
	 * VMM passed a trigger), and KVM's irqfd for this route would queue
	 * ahead of that gate on kernels before 6.17.
	 */
	if ((events & EPOLLIN) || wq_has_sleeper(finder.wqh))
		return -EBUSY;

	init_irq_work(&r->handoff, irqroute_handoff);
	init_waitqueue_func_entry(&r->wait, irqroute_gate_wakeup);
	init_poll_funcptr(&gp.pt, irqroute_gate_queue);

	vfs_poll(trigger, &gp.pt);
	if (gp.busy)
		return -EBUSY;

	/*
	 * A signal that came before the gate was there (its count taken by
	 * irqroute_gate_queue()). The route has no MSI yet, so it is pending.
	 */
	if (gp.counted) {
		set_bit(r->index, r->ir->pending);
		this_cpu_inc(r->ir->stats.hot->pended);
	}
	return 0;
}

/**
 * irqroute_gate_irqfd_bound - is KVM's irqfd the one waiter on the private
 *	eventfd?
 * @r: a route whose gate is registered
 *
 * KVM_IRQFD is given the VMM's descriptor number for the private eventfd,
 * which KVM looks up again: a VMM thread that dup2()s another file onto
 * that number in between makes KVM bind something else. KVM's irqfd is
 * a priority waiter, and the eventfd had none before (the gate checked);
 * anything else waiting would see the direct hand-off's EPOLLIN without
 * a count.
 *
 * Context: process context.
 */
bool irqroute_gate_irqfd_bound(struct irqroute_route *r)
{
	wait_queue_head_t *wqh = r->irqfd_wqh;
	wait_queue_entry_t *first;
	unsigned long flags;
	bool bound;

	spin_lock_irqsave(&wqh->lock, flags);
	first = list_first_entry_or_null(&wqh->head, wait_queue_entry_t,
					 entry);
	bound = first && (first->flags & WQ_FLAG_PRIORITY) &&
		list_is_singular(&wqh->head);
	spin_unlock_irqrestore(&wqh->lock, flags);
	return bound;
}

/**
 * irqroute_gate_unregister - stop the gate; nothing of it runs afterwards
 * @r: the route
 *
 * Context: process context.
 * Return: true if the trigger was signalled and the signal not consumed
 * yet (the count, which this consumes).
 */
bool irqroute_gate_unregister(struct irqroute_route *r)
{
	u64 cnt;

	/* Takes wqh->lock: a running gate finishes first, none starts after. */
	eventfd_ctx_remove_wait_queue(r->trigger, &r->wait, &cnt);
	clear_bit(IRQROUTE_ROUTE_MSI, &r->state);
	/* The last hand-offs the gate may have queued. */
	irqroute_route_quiesce(r);
	return cnt;
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
	lockdep_assert_held(&r->ir->lock);

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
	lockdep_assert_held(&r->ir->lock);

	clear_bit(IRQROUTE_ROUTE_MSI, &r->state);
	irqroute_route_quiesce(r);
	if (IRQROUTE_CANARY(clear_msi_drops_pending))
		clear_bit(r->index, r->ir->pending);
}

/**
 * irqroute_route_unmask - the kernel side of unmask
 * @r: the route
 * @clear_mask: clear the mask bit first; false when the VMM already
 *	cleared it in the shared page and only asks for the pending
 *	interrupt, so that a mask set since then by another thread stands
 *
 * Counted in @running like a gate, so that it needs no ir->lock: MSI off
 * and route free clear the MSI bit and then wait for the count, so this
 * either sees the MSI bit clear and does nothing, or is waited for
 * before the MSI leaves the table and r->irqfd is released. Preemption
 * is off while counted: they spin on the count.
 *
 * Context: process context; ir->lock held, or (PENDING_ONLY) an RCU
 * read-side critical section that found @r in ir->routes.
 * Return: true if a pending interrupt went to KVM.
 */
bool irqroute_route_unmask(struct irqroute_route *r, bool clear_mask)
{
	bool fired = false;

	if (clear_mask)
		clear_bit(r->index, r->ir->mask);
	preempt_disable();
	if (!IRQROUTE_CANARY(unmask_uncounted))
		atomic_inc(&r->running);
	/*
	 * Order the mask bit (ours, or the VMM's) and the count before
	 * reading the MSI, mask and pending bits.
	 */
	smp_mb();
	if (irqroute_route_deliverable(r) &&
	    test_and_clear_bit(r->index, r->ir->pending)) {
		if (IRQROUTE_CANARY(unmask_uncounted))
			udelay(IRQROUTE_CANARY_UNMASK_WINDOW_US);
		irqroute_route_fire(r);
		if (IRQROUTE_CANARY(unmask_twice))
			irqroute_route_fire(r);
		fired = true;
	}
	/* The last access to r->irqfd; quiesce waits for it. */
	if (!IRQROUTE_CANARY(unmask_uncounted))
		atomic_dec_return_release(&r->running);
	preempt_enable();
	return fired;
}
