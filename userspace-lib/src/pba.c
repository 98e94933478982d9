// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * Mask, unmask and pending bits: atomics on the shared page.
 *
 * irqroute_mask(), irqroute_consume_pending(), irqroute_pending() and an
 * irqroute_unmask() that finds nothing pending make no system call and
 * take no lock: they touch only the route's two words and the route
 * handle, which is immutable after create. Keep it that way (a seccomp
 * selftest kills the process if they make one).
 *
 * The kernel's gate, on a trigger signal, does:
 *	set pending; full barrier; if masked (or no MSI): leave it pending;
 *	else test-and-clear pending and, if it was set, deliver.
 * and IRQROUTE_UNMASK does: (clear mask); full barrier; if unmasked with
 * an MSI, test-and-clear pending and, if it was set, deliver. Whoever wins the test-and-clear
 * delivers, so an edge is delivered once or stays pending, never lost.
 */
#include <errno.h>
#include <pthread.h>

#include "irqroute-private.h"

/*
 * The man pages promise these calls are async-signal-safe: that holds only
 * while the 64-bit atomics are instructions, not libatomic's locked calls.
 */
_Static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0),
	       "64-bit atomics must be lock-free");

/*
 * Counts fork()s into this process image. An attachment records it; in a
 * child the shared page is not inherited (VM_DONTCOPY) and the attachment
 * belongs to the parent, so the page ops of the parent's attachments give
 * -EPERM, as the kernel answers the child's ioctls, rather than SIGSEGV.
 * Attachments the child makes itself work normally.
 */
unsigned long __irqroute_fork_gen;

static void irqroute_atfork_child(void)
{
	__atomic_fetch_add(&__irqroute_fork_gen, 1, __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void irqroute_pba_init(void)
{
	pthread_atfork(NULL, NULL, irqroute_atfork_child);
}

__irqroute_export int irqroute_mask(struct irqroute_route *r)
{
	if (__irqroute_foreign(r->ir))
		return -EPERM;
	/*
	 * Full barrier: the mask bit is visible to the gate before any later
	 * access to the page, so a later consume_pending sees every signal
	 * that the gate pended instead of delivering.
	 */
	__atomic_fetch_or(r->mask_word, r->bit, __ATOMIC_SEQ_CST);
	return 0;
}

__irqroute_export int irqroute_unmask(struct irqroute_route *r)
{
	if (__irqroute_foreign(r->ir))
		return -EPERM;
	/*
	 * Full barrier: the mask bit is clear before the pending bit is read
	 * below. Pairs with the gate's "set pending; full barrier; read mask":
	 * either the gate sees the route unmasked and delivers the edge
	 * itself, or the load below sees its pending bit.
	 */
	__atomic_fetch_and(r->mask_word, ~r->bit, __ATOMIC_SEQ_CST);

	/* Ordered after the clear above by the same seq_cst pairing. */
	if (!(__atomic_load_n(r->pending_word, __ATOMIC_SEQ_CST) & r->bit))
		return 0;

	/*
	 * An edge is pending: only the kernel can inject it. PENDING_ONLY
	 * leaves the mask bit as it is now (another thread may have masked
	 * again); the kernel test-and-clears pending if the route is
	 * deliverable, so if the gate delivered meanwhile nothing is
	 * delivered twice.
	 */
	return __irqroute_route_op(r->ir->fd, IRQROUTE_UNMASK, r->index,
				   IRQROUTE_UNMASK_F_PENDING_ONLY, NULL);
}

/*
 * The gate's own protocol, run by the VMM: set pending; full barrier; if
 * the route is unmasked, have the kernel deliver it (PENDING_ONLY: it
 * test-and-clears, so a racing unmask or gate delivers it at most once).
 */
__irqroute_export int irqroute_set_pending(struct irqroute_route *r)
{
	if (__irqroute_foreign(r->ir))
		return -EPERM;
	__atomic_fetch_or(r->pending_word, r->bit, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(r->mask_word, __ATOMIC_SEQ_CST) & r->bit)
		return 0;
	return __irqroute_route_op(r->ir->fd, IRQROUTE_UNMASK, r->index,
				   IRQROUTE_UNMASK_F_PENDING_ONLY, NULL);
}

__irqroute_export bool irqroute_consume_pending(struct irqroute_route *r)
{
	if (__irqroute_foreign(r->ir))
		return false;
	/*
	 * Full barrier, atomic test-and-clear: races with the kernel's own
	 * test-and-clear (gate, unmask); exactly one of them sees the bit.
	 */
	return __atomic_fetch_and(r->pending_word, ~r->bit,
				  __ATOMIC_SEQ_CST) & r->bit;
}

__irqroute_export int
irqroute_consume_pending_status(struct irqroute_route *r)
{
	if (__irqroute_foreign(r->ir))
		return -EPERM;
	return irqroute_consume_pending(r);
}

__irqroute_export int irqroute_pending_status(const struct irqroute_route *r)
{
	if (__irqroute_foreign(r->ir))
		return -EPERM;
	return irqroute_pending(r);
}

__irqroute_export bool irqroute_pending(const struct irqroute_route *r)
{
	if (__irqroute_foreign(r->ir))
		return false;
	/* seq_cst: ordered after the caller's earlier accesses to the page */
	return __atomic_load_n(r->pending_word, __ATOMIC_SEQ_CST) & r->bit;
}

__irqroute_export int irqroute_mask_ioctl(struct irqroute_route *r)
{
	return __irqroute_route_op(r->ir->fd, IRQROUTE_MASK, r->index, 0, NULL);
}

__irqroute_export int irqroute_unmask_ioctl(struct irqroute_route *r)
{
	return __irqroute_route_op(r->ir->fd, IRQROUTE_UNMASK, r->index, 0,
				   NULL);
}

__irqroute_export int irqroute_consume_pending_ioctl(struct irqroute_route *r,
						     bool *pending)
{
	uint32_t result = 0;
	int ret;

	ret = __irqroute_route_op(r->ir->fd, IRQROUTE_CONSUME_PENDING,
				  r->index, 0, &result);
	if (!ret && pending)
		*pending = result;
	return ret;
}
