// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * Delegation: a group's mask, unmask and consume_pending, for a sandboxed
 * device process that has only the delegation file (IRQROUTE_DELEGATE).
 */
#include <errno.h>

#include "irqroute-private.h"

__irqroute_export int irqroute_group_delegate(struct irqroute_group *g,
					      int *fd)
{
	struct irqroute_delegate arg = {
		.size = sizeof(arg),
		.first = g->base,
		.count = g->n,
	};
	int ret;

	if (!fd)
		return -EFAULT;
	ret = __irqroute_ioctl(g->ir->fd, IRQROUTE_DELEGATE, &arg);
	if (ret)
		return ret;
	*fd = arg.fd;
	return 0;
}

__irqroute_export int irqroute_delegate_mask(int fd, unsigned int vector)
{
	return __irqroute_route_op(fd, IRQROUTE_MASK, vector, 0, NULL);
}

__irqroute_export int irqroute_delegate_unmask(int fd, unsigned int vector)
{
	return __irqroute_route_op(fd, IRQROUTE_UNMASK, vector, 0, NULL);
}

__irqroute_export int irqroute_delegate_consume(int fd,
							unsigned int vector)
{
	uint32_t result = 0;
	int ret;

	ret = __irqroute_route_op(fd, IRQROUTE_CONSUME_PENDING, vector, 0,
				  &result);
	return ret ? ret : !!result;
}

/* A PBA read: the pending bit, not cleared (IRQROUTE_ROUTE_GET). */
__irqroute_export int irqroute_delegate_pending(int fd, unsigned int vector)
{
	struct irqroute_route_info info = {
		.size = sizeof(info),
		.index = vector,
	};
	int ret;

	ret = __irqroute_ioctl(fd, IRQROUTE_ROUTE_GET, &info);
	return ret ? ret : !!(info.state & IRQROUTE_ROUTE_S_PENDING);
}
