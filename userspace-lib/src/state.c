// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * Save and restore: a route's state read out and made again, on another
 * attachment or at a chosen index, and an attachment moved to a new VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "irqroute-private.h"

#define IRQROUTE_STATE_F_VALID	(IRQROUTE_STATE_F_MSI | IRQROUTE_STATE_F_DEVID | \
				 IRQROUTE_STATE_F_MASKED | \
				 IRQROUTE_STATE_F_PENDING)

/* The first version of struct irqroute_route_state ends at @devid. */
#define IRQROUTE_STATE_SIZE_1_1	(offsetof(struct irqroute_route_state, devid) + \
				 sizeof(uint32_t))

static int irqroute_route_info(int fd, uint32_t index,
			       struct irqroute_route_info *info)
{
	*info = (struct irqroute_route_info){
		.size = sizeof(*info),
		.index = index,
	};
	return __irqroute_ioctl(fd, IRQROUTE_ROUTE_GET, info);
}

__irqroute_export int irqroute_route_save(const struct irqroute_route *r,
					  struct irqroute_route_state *st)
{
	struct irqroute_route_state out = { 0 };
	struct irqroute_route_info info;
	uint32_t size;
	int ret;

	if (!st)
		return -EFAULT;
	size = st->size;
	if (size < IRQROUTE_STATE_SIZE_1_1)
		return -EINVAL;
	ret = irqroute_route_info(r->ir->fd, r->index, &info);
	if (ret)
		return ret;

	out.size = size;
	out.index = info.index;
	out.gsi = info.gsi;
	if (info.state & IRQROUTE_ROUTE_S_MSI) {
		out.flags |= IRQROUTE_STATE_F_MSI;
		out.address = (uint64_t)info.address_hi << 32 | info.address_lo;
		out.data = info.data;
	}
	if (info.state & IRQROUTE_ROUTE_S_DEVID) {
		out.flags |= IRQROUTE_STATE_F_DEVID;
		out.devid = info.devid;
	}
	if (info.state & IRQROUTE_ROUTE_S_MASKED)
		out.flags |= IRQROUTE_STATE_F_MASKED;
	if (info.state & IRQROUTE_ROUTE_S_PENDING)
		out.flags |= IRQROUTE_STATE_F_PENDING;

	/* A caller's longer struct gets its unknown tail zeroed. */
	if (size > sizeof(out))
		memset((char *)st + sizeof(out), 0, size - sizeof(out));
	memcpy(st, &out, size < sizeof(out) ? size : sizeof(out));
	return 0;
}

/*
 * Applies a saved state to a route that was just made (unmasked, without
 * an MSI, so nothing can be delivered before the last step): the mask
 * first, then the pending bit, then the MSI, whose commit delivers the
 * pending edge if the route is unmasked.
 */
static int irqroute_route_apply(struct irqroute_route *r,
				const struct irqroute_route_state *st)
{
	if (st->flags & IRQROUTE_STATE_F_MASKED)
		__atomic_fetch_or(r->mask_word, r->bit, __ATOMIC_SEQ_CST);
	if (st->flags & IRQROUTE_STATE_F_PENDING)
		__atomic_fetch_or(r->pending_word, r->bit, __ATOMIC_SEQ_CST);
	if (!(st->flags & IRQROUTE_STATE_F_MSI))
		return 0;
	if (st->flags & IRQROUTE_STATE_F_DEVID)
		return irqroute_set_msi_devid(r, st->address, st->data,
					      st->devid);
	return irqroute_set_msi(r, st->address, st->data);
}

__irqroute_export int
irqroute_route_restore(struct irqroute *ir,
		       const struct irqroute_route_state *st, int trigger_fd,
		       struct irqroute_route **out)
{
	struct irqroute_route *r;
	int ret;

	if (!st || !out)
		return -EFAULT;
	if (st->size < IRQROUTE_STATE_SIZE_1_1 ||
	    st->flags & ~IRQROUTE_STATE_F_VALID ||
	    (st->flags & IRQROUTE_STATE_F_DEVID &&
	     !(st->flags & IRQROUTE_STATE_F_MSI)))
		return -EINVAL;
	/* The route gets back its GSI, or the restore fails. */
	if (st->index >= ir->nr_routes || st->gsi != ir->gsi_base + st->index)
		return -ERANGE;
	if (__irqroute_foreign(ir))
		return -EPERM;

	ret = __irqroute_route_new(ir, trigger_fd, true, st->index, &r);
	if (ret)
		return ret;
	if (trigger_fd >= 0)
		r->owns_trigger = false;
	ret = irqroute_route_apply(r, st);
	if (ret) {
		irqroute_route_destroy(r);
		return ret;
	}
	*out = r;
	return 0;
}

/* Undoes what irqroute_reattach() did to @nir before it switched over. */
static void irqroute_reattach_undo(struct irqroute *nir)
{
	if (nir->shm)
		__irqroute_munmap(nir->shm, nir->shm_size);
	__irqroute_close(nir->fd);
	if (nir->scratch)
		__irqroute_munmap(nir->scratch, IRQROUTE_SCRATCH_SIZE);
}

/*
 * The new VM's file, scratch area and shared page, attached like @ir; the
 * base routes set on it. Nothing of @ir is touched.
 */
static int irqroute_reattach_open(struct irqroute *ir, int vm_fd,
				  struct irqroute *nir)
{
	struct irqroute_attach arg = {
		.size = sizeof(arg),
		.vm_fd = vm_fd,
		.gsi_base = ir->gsi_base,
		.nr_routes = ir->nr_routes,
	};
	struct irqroute_base_routes base = {
		.size = sizeof(base),
		.nr = ir->nr_base,
		.entries = (uint64_t)(uintptr_t)ir->base,
	};
	int ret;

	if (ir->flags & IRQROUTE_F_X86_DEFAULT_ROUTES)
		arg.flags |= IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES;
	ret = __irqroute_attach_file(nir, &arg);
	if (ret < 0)
		return ret;
	if (ir->nr_base) {
		ret = __irqroute_ioctl(nir->fd, IRQROUTE_SET_BASE_ROUTES, &base);
		if (ret < 0)
			goto err;
	}
	return 0;
err:
	irqroute_reattach_undo(nir);
	return ret;
}

/*
 * Moves one route: its MSI and mask bit read from the old attachment, the
 * route destroyed there with its pending interrupt handed back to the
 * trigger, and made again at its index on the new one, where the gate
 * takes that interrupt as pending. The MSI is staged, for one commit.
 */
static int irqroute_reattach_route(struct irqroute *ir, struct irqroute *nir,
				   struct irqroute_route *r)
{
	struct irqroute_route_create create = {
		.size = sizeof(create),
		.flags = IRQROUTE_CREATE_F_INDEX,
		.trigger_fd = r->trigger,
		.index = r->index,
	};
	struct irqroute_route_info info;
	struct irqroute_msi msi = {
		.size = sizeof(msi),
		.flags = IRQROUTE_MSI_F_DEFER,
		.index = r->index,
	};
	int irqfd, ret;

	/* Whatever happens below, the handle points into the new page. */
	__irqroute_route_init(nir, r, r->index);
	r->ir = ir;
	ret = irqroute_route_info(ir->fd, r->index, &info);
	if (ret)
		return ret;
	ret = __irqroute_route_op(ir->fd, IRQROUTE_ROUTE_DESTROY, r->index,
				  IRQROUTE_DESTROY_F_HANDOVER, NULL);
	if (ret)
		return ret;

	ret = __irqroute_eventfd(0, EFD_CLOEXEC);
	if (ret < 0)
		return ret;
	irqfd = ret;
	create.irqfd_fd = irqfd;
	ret = __irqroute_ioctl(nir->fd, IRQROUTE_ROUTE_CREATE, &create);
	__irqroute_close(irqfd);
	if (ret)
		return ret;

	if (info.state & IRQROUTE_ROUTE_S_MASKED)
		__atomic_fetch_or(r->mask_word, r->bit, __ATOMIC_SEQ_CST);
	if (!(info.state & IRQROUTE_ROUTE_S_MSI))
		return 0;
	msi.data = info.data;
	msi.address_lo = info.address_lo;
	msi.address_hi = info.address_hi;
	if (info.state & IRQROUTE_ROUTE_S_DEVID) {
		msi.flags |= IRQROUTE_MSI_F_DEVID;
		msi.devid = info.devid;
	}
	return __irqroute_ioctl(nir->fd, IRQROUTE_SET_MSI, &msi);
}

__irqroute_export int irqroute_reattach(struct irqroute *ir, int vm_fd)
{
	struct irqroute_commit commit = { .size = sizeof(commit) };
	struct irqroute nir = { .fd = -1 };
	struct irqroute_list *pos;
	int ret;

	if (__irqroute_foreign(ir))
		return -EPERM;
	pthread_mutex_lock(&ir->lock);
	ret = irqroute_reattach_open(ir, vm_fd, &nir);
	if (ret)
		goto out;
	nir.gsi_base = ir->gsi_base;
	nir.nr_routes = ir->nr_routes;
	nir.mask = (uint64_t *)((char *)nir.shm + IRQROUTE_SHM_MASK_OFFSET);
	nir.pending = (uint64_t *)((char *)nir.shm +
				   IRQROUTE_SHM_PENDING_OFFSET);

	/*
	 * From the first route moved on, there is no way back: the old VM
	 * is being given up. A route that fails to move is lost (reported).
	 */
	for (pos = ir->routes.next; pos != &ir->routes; pos = pos->next) {
		int err = irqroute_reattach_route(ir, &nir,
						  irqroute_route_of(pos));

		if (err && !ret)
			ret = err;
	}
	if (ir->routes.next != &ir->routes) {
		int err = __irqroute_ioctl(nir.fd, IRQROUTE_COMMIT, &commit);

		if (err && !ret)
			ret = err;
	}

	__irqroute_munmap(ir->shm, ir->shm_size);
	__irqroute_close(ir->fd);
	__irqroute_munmap(ir->scratch, IRQROUTE_SCRATCH_SIZE);
	ir->fd = nir.fd;
	ir->shm = nir.shm;
	ir->shm_size = nir.shm_size;
	ir->scratch = nir.scratch;
	ir->mask = nir.mask;
	ir->pending = nir.pending;
out:
	pthread_mutex_unlock(&ir->lock);
	return ret;
}
