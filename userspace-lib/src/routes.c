// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * Routes: create/destroy, their accessors, and their MSI.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>

#include "irqroute-private.h"

/* Points the route at its bits: bit index % 64 of 64-bit word index / 64. */
void __irqroute_route_init(struct irqroute *ir, struct irqroute_route *r,
			   uint32_t index)
{
	r->ir = ir;
	r->index = index;
	r->gsi = ir->gsi_base + index;
	r->bit = 1ULL << (index % 64);
	r->mask_word = &ir->mask[index / 64];
	r->pending_word = &ir->pending[index / 64];
}

/*
 * A route on @trigger_fd (a new eventfd of the route's own if negative),
 * at the lowest free index or, with @at_index, at @index.
 */
int __irqroute_route_new(struct irqroute *ir, int trigger_fd, bool at_index,
			 uint32_t index, struct irqroute_route **out)
{
	struct irqroute_route_create arg = { .size = sizeof(arg) };
	struct irqroute_route *r;
	int irqfd, ret;

	if (!out)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;

	if (trigger_fd < 0) {
		/* Signalled by VFIO, waited on by the module; nobody reads it. */
		ret = __irqroute_eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (ret < 0)
			goto err_free;
		trigger_fd = ret;
		r->owns_trigger = true;
	}
	r->trigger = trigger_fd;

	/* The route's private eventfd for KVM's irqfd. */
	ret = __irqroute_eventfd(0, EFD_CLOEXEC);
	if (ret < 0)
		goto err_trigger;
	irqfd = ret;

	arg.trigger_fd = r->trigger;
	arg.irqfd_fd = irqfd;
	if (at_index) {
		arg.flags = IRQROUTE_CREATE_F_INDEX;
		arg.index = index;
	}
	ret = __irqroute_ioctl(ir->fd, IRQROUTE_ROUTE_CREATE, &arg);
	/* On success the module holds its own reference; ours is unused. */
	__irqroute_close(irqfd);
	if (ret < 0)
		goto err_trigger;

	/* The index addresses the shared page: never trust it blindly. */
	if (arg.index >= ir->nr_routes || arg.gsi != ir->gsi_base + arg.index ||
	    (at_index && arg.index != index)) {
		__irqroute_route_op(ir->fd, IRQROUTE_ROUTE_DESTROY, arg.index,
				    0, NULL);
		ret = -EPROTO;
		goto err_trigger;
	}
	__irqroute_route_init(ir, r, arg.index);

	pthread_mutex_lock(&ir->lock);
	irqroute_list_add(&r->node, &ir->routes);
	pthread_mutex_unlock(&ir->lock);

	*out = r;
	return 0;

err_trigger:
	if (r->owns_trigger)
		__irqroute_close(r->trigger);
err_free:
	free(r);
	return ret;
}

__irqroute_export int irqroute_route_create(struct irqroute *ir,
					    struct irqroute_route **out)
{
	return __irqroute_route_new(ir, -1, false, 0, out);
}

__irqroute_export int irqroute_route_create_fd(struct irqroute *ir,
					       int trigger_fd, uint32_t flags,
					       struct irqroute_route **out)
{
	if (trigger_fd < 0)
		return -EBADF;
	if (flags)
		return -EINVAL;
	return __irqroute_route_new(ir, trigger_fd, false, 0, out);
}

/* Frees the handle of a route the kernel no longer has. */
void __irqroute_route_free(struct irqroute_route *r)
{
	if (r->owns_trigger)
		__irqroute_close(r->trigger);
	free(r);
}

/*
 * When IRQROUTE_ROUTE_DESTROY returns, the module no longer waits on the
 * trigger eventfd, so closing it cannot race with the gate.
 */
__irqroute_export void irqroute_route_destroy(struct irqroute_route *r)
{
	struct irqroute *ir;

	if (!r)
		return;
	ir = r->ir;

	pthread_mutex_lock(&ir->lock);
	irqroute_list_del(&r->node);
	pthread_mutex_unlock(&ir->lock);

	__irqroute_route_op(ir->fd, IRQROUTE_ROUTE_DESTROY, r->index, 0, NULL);
	__irqroute_route_free(r);
}

/*
 * Destroys the route with IRQROUTE_DESTROY_F_HANDOVER: a pending interrupt
 * goes back into the trigger eventfd's count, and the eventfd goes to the
 * caller, for a route made on it elsewhere (another attachment, another
 * process: QEMU's CPR) to start pending.
 */
__irqroute_export int irqroute_route_handover(struct irqroute_route *r)
{
	struct irqroute *ir = r->ir;
	int ret, trigger = r->trigger;

	if (r->group)
		return -EINVAL;
	ret = __irqroute_route_op(ir->fd, IRQROUTE_ROUTE_DESTROY, r->index,
				  IRQROUTE_DESTROY_F_HANDOVER, NULL);
	if (ret)
		return ret;
	pthread_mutex_lock(&ir->lock);
	irqroute_list_del(&r->node);
	pthread_mutex_unlock(&ir->lock);
	free(r);
	return trigger;
}

__irqroute_export int irqroute_route_event(const struct irqroute_route *r)
{
	return r->trigger;
}

__irqroute_export uint32_t irqroute_route_gsi(const struct irqroute_route *r)
{
	return r->gsi;
}

__irqroute_export uint32_t
irqroute_route_index(const struct irqroute_route *r)
{
	return r->index;
}

/*
 * Inside a batch of the calling thread (irqroute_batch_begin()), MSI
 * changes are staged in the batch; other threads' calls go to the kernel.
 */
static int irqroute_do_set_msi(struct irqroute_route *r, uint64_t address,
			       uint32_t data, uint32_t devid, uint32_t flags)
{
	struct irqroute_batch *b = __irqroute_batch_of(r->ir);
	struct irqroute_msi arg = {
		.size = sizeof(arg),
		.flags = flags,
		.index = r->index,
		.data = data,
		.address_lo = (uint32_t)address,
		.address_hi = (uint32_t)(address >> 32),
		.devid = devid,
	};

	if (b)
		return flags & IRQROUTE_MSI_F_DEVID ?
		       irqroute_batch_set_msi_devid(b, r, address, data,
						    devid) :
		       irqroute_batch_set_msi(b, r, address, data);
	return __irqroute_ioctl(r->ir->fd, IRQROUTE_SET_MSI, &arg);
}

__irqroute_export int irqroute_set_msi(struct irqroute_route *r,
				       uint64_t address, uint32_t data)
{
	return irqroute_do_set_msi(r, address, data, 0, 0);
}

__irqroute_export int irqroute_set_msi_devid(struct irqroute_route *r,
					     uint64_t address, uint32_t data,
					     uint32_t devid)
{
	return irqroute_do_set_msi(r, address, data, devid,
				   IRQROUTE_MSI_F_DEVID);
}

__irqroute_export int irqroute_clear_msi(struct irqroute_route *r)
{
	struct irqroute_batch *b = __irqroute_batch_of(r->ir);

	if (b)
		return irqroute_batch_clear_msi(b, r);
	return __irqroute_route_op(r->ir->fd, IRQROUTE_CLEAR_MSI, r->index,
				   0, NULL);
}
