/* SPDX-License-Identifier: GPL-2.0 */
/*
 * irqroute: the kernel API differences between the supported kernels
 * (Debian's 6.1 and 6.12, sid's newest 7.x). Each shim
 * names the kernel version that changed the API; the HAVE_* macros come
 * from feature probes in Kbuild.
 */
#ifndef IRQROUTE_COMPAT_H
#define IRQROUTE_COMPAT_H

#include <linux/eventfd.h>
#include <linux/mm.h>
#include <linux/wait.h>

/* 6.8 dropped the count argument of eventfd_signal(). */
static inline void irqroute_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef HAVE_EVENTFD_SIGNAL_NO_COUNT
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/* 6.3 made vma->vm_flags read-only; vm_flags_set/clear() write it. */
static inline void irqroute_vm_flags_mod(struct vm_area_struct *vma,
					 vm_flags_t set, vm_flags_t clear)
{
#ifdef HAVE_VM_FLAGS_MOD
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/*
 * 6.17 added add_wait_queue_priority_exclusive(): priority and exclusive,
 * -EBUSY if a priority waiter is first. Before, the same by hand.
 * Returns true if busy.
 */
static inline bool
irqroute_add_wait_queue_priority_exclusive(struct wait_queue_head *wqh,
					   struct wait_queue_entry *wait)
{
#ifdef HAVE_ADD_WAIT_QUEUE_PRIORITY_EXCLUSIVE
	return add_wait_queue_priority_exclusive(wqh, wait) == -EBUSY;
#else
	struct wait_queue_entry *first;
	unsigned long flags;
	bool busy;

	wait->flags |= WQ_FLAG_EXCLUSIVE | WQ_FLAG_PRIORITY;
	spin_lock_irqsave(&wqh->lock, flags);
	first = list_first_entry_or_null(&wqh->head, struct wait_queue_entry,
					 entry);
	busy = first && (first->flags & WQ_FLAG_PRIORITY);
	if (!busy)
		list_add(&wait->entry, &wqh->head);
	spin_unlock_irqrestore(&wqh->lock, flags);
	return busy;
#endif
}

#endif /* IRQROUTE_COMPAT_H */
