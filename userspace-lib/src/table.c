// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * The VM's routing table: base routes and batched commits.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "irqroute-private.h"

__irqroute_export int
irqroute_set_base_routes(struct irqroute *ir,
			 const struct kvm_irq_routing_entry *e, unsigned int n)
{
	struct irqroute_base_routes arg = {
		.size = sizeof(arg),
		.nr = n,
		.entries = (uint64_t)(uintptr_t)e,
	};
	struct kvm_irq_routing_entry *copy = NULL;
	int ret;

	/* Kept for irqroute_reattach(), which sets them on the new VM. */
	/* What the kernel refuses (NULL, too many) it refuses with its errno. */
	if (n && e && n <= IRQROUTE_MAX_ROUTES) {
		copy = malloc(n * sizeof(*e));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, e, n * sizeof(*e));
	}
	/* Under the lock: the copy is the table KVM has. */
	pthread_mutex_lock(&ir->lock);
	ret = __irqroute_ioctl(ir->fd, IRQROUTE_SET_BASE_ROUTES, &arg);
	if (!ret && (copy || !n)) {
		free(ir->base);
		ir->base = copy;
		ir->nr_base = n;
		copy = NULL;
	}
	pthread_mutex_unlock(&ir->lock);
	free(copy);
	return ret;
}

/*
 * @ir->batch only needs atomicity, so that two threads cannot both begin
 * (or both end) a batch; the ioctls order everything else.
 */
__irqroute_export int irqroute_batch_begin(struct irqroute *ir)
{
	int idle = 0;

	if (!__atomic_compare_exchange_n(&ir->batch, &idle, 1, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return -EBUSY;
	return 0;
}

/*
 * The batch ends whatever IRQROUTE_COMMIT returns, so a failed commit
 * cannot leave later calls silently staged; its errno is returned.
 */
__irqroute_export int irqroute_batch_commit(struct irqroute *ir)
{
	struct irqroute_commit arg = { .size = sizeof(arg) };

	if (!__atomic_exchange_n(&ir->batch, 0, __ATOMIC_RELAXED))
		return -EINVAL;
	return __irqroute_ioctl(ir->fd, IRQROUTE_COMMIT, &arg);
}
