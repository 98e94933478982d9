// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * The VM's routing table: base routes (batches are in batch.c).
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
