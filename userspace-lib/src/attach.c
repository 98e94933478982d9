// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * The attachment: /dev/irqroute attached to a KVM VM, and its shared page.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "irqroute-private.h"

/* Both bitmaps must hold every possible route and must not overlap. */
_Static_assert(IRQROUTE_SHM_MASK_OFFSET >= sizeof(struct irqroute_shm_header),
	       "mask bitmap overlaps the shared page header");
_Static_assert(IRQROUTE_SHM_MASK_OFFSET + IRQROUTE_MAX_ROUTES / 8 <=
	       IRQROUTE_SHM_PENDING_OFFSET,
	       "mask bitmap overlaps the pending bitmap");
_Static_assert(IRQROUTE_SHM_MASK_OFFSET % 8 == 0 &&
	       IRQROUTE_SHM_PENDING_OFFSET % 8 == 0,
	       "shared bitmaps must be 64-bit aligned");

/*
 * The kernel wrote the header before IRQROUTE_ATTACH returned. Check that
 * it describes the page this library knows how to use, and the range we
 * asked for, before any route indexes into it. A mismatch means a module
 * and library of different versions: -EPROTO.
 */
int __irqroute_shm_validate(const void *shm, size_t shm_size,
			    uint32_t gsi_base, uint32_t nr_routes)
{
	const struct irqroute_shm_header *h = shm;

	if (shm_size < IRQROUTE_SHM_PENDING_OFFSET +
		       IRQROUTE_BITMAP_BYTES(nr_routes))
		return -EPROTO;
	if (h->magic != IRQROUTE_SHM_MAGIC ||
	    h->version != IRQROUTE_SHM_VERSION)
		return -EPROTO;
	if (h->nr_routes != nr_routes || h->gsi_base != gsi_base)
		return -EPROTO;
	if (h->mask_offset != IRQROUTE_SHM_MASK_OFFSET ||
	    h->pending_offset != IRQROUTE_SHM_PENDING_OFFSET)
		return -EPROTO;
	return 0;
}

/*
 * Opens /dev/irqroute, attaches it with @arg (its scratch filled in here)
 * and maps and checks the shared page, into @ir's fd, scratch, shm and
 * shm_size. Nothing is left behind on failure.
 */
int __irqroute_attach_file(struct irqroute *ir, struct irqroute_attach *arg)
{
	int ret;

	ir->fd = -1;
	ir->scratch = NULL;
	ret = __irqroute_open(IRQROUTE_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (ret < 0)
		return ret;
	ir->fd = ret;

	ret = __irqroute_mmap_scratch(&ir->scratch);
	if (ret < 0)
		goto err_close;
	arg->scratch = (uintptr_t)ir->scratch;
	ret = __irqroute_ioctl(ir->fd, IRQROUTE_ATTACH, arg);
	if (ret < 0)
		goto err_close;

	ret = __irqroute_mmap(ir->fd, arg->shm_size, &ir->shm);
	if (ret < 0)
		goto err_close;
	ir->shm_size = arg->shm_size;

	ret = __irqroute_shm_validate(ir->shm, ir->shm_size, arg->gsi_base,
				      arg->nr_routes);
	if (ret < 0)
		goto err_unmap;
	return 0;

err_unmap:
	__irqroute_munmap(ir->shm, ir->shm_size);
err_close:
	/* Our only reference: closing it undoes a successful attach. */
	__irqroute_close(ir->fd);
	if (ir->scratch)
		__irqroute_munmap(ir->scratch, IRQROUTE_SCRATCH_SIZE);
	return ret;
}

__irqroute_export int irqroute_attach(int vm_fd,
				      const struct irqroute_opts *opts,
				      struct irqroute **out)
{
	struct irqroute_attach arg = {
		.size = sizeof(arg),
		.vm_fd = vm_fd,
		.gsi_base = IRQROUTE_DEFAULT_GSI_BASE,
		.nr_routes = IRQROUTE_DEFAULT_NR_ROUTES,
	};
	uint32_t ir_flags = 0;
	struct irqroute *ir;
	int ret;

	if (!out)
		return -EINVAL;
	if (opts) {
		if (opts->flags & ~IRQROUTE_F_VALID)
			return -EINVAL;
		if (opts->flags & IRQROUTE_F_X86_DEFAULT_ROUTES)
			arg.flags |= IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES;
		ir_flags = opts->flags;
		arg.gsi_base = opts->gsi_base;
		arg.nr_routes = opts->nr_routes;
	}

	ir = calloc(1, sizeof(*ir));
	if (!ir)
		return -ENOMEM;
	ret = pthread_mutex_init(&ir->lock, NULL);
	if (ret) {
		free(ir);
		return -ret;
	}
	irqroute_list_init(&ir->routes);

	ir->fork_gen = __atomic_load_n(&__irqroute_fork_gen, __ATOMIC_RELAXED);
	ret = __irqroute_attach_file(ir, &arg);
	if (ret < 0)
		goto err_free;

	ir->gsi_base = arg.gsi_base;
	ir->nr_routes = arg.nr_routes;
	ir->flags = ir_flags;
	ir->mask = (uint64_t *)((char *)ir->shm + IRQROUTE_SHM_MASK_OFFSET);
	ir->pending = (uint64_t *)((char *)ir->shm +
				   IRQROUTE_SHM_PENDING_OFFSET);
	*out = ir;
	return 0;

err_free:
	pthread_mutex_destroy(&ir->lock);
	free(ir);
	return ret;
}

/*
 * Closing the last reference to the file tears every route down in the
 * kernel at once, without a KVM ioctl and without a routing table commit
 * per route (the same path as a process that exits). The mapping holds a
 * reference on the file, so it goes first; the trigger eventfds are closed
 * only after the kernel has stopped waiting on them.
 */
__irqroute_export void irqroute_detach(struct irqroute *ir)
{
	struct irqroute_list *pos, *next;

	if (!ir)
		return;

	__irqroute_munmap(ir->shm, ir->shm_size);
	__irqroute_close(ir->fd);
	/* Only now: the module wrote it until the file was released. */
	__irqroute_munmap(ir->scratch, IRQROUTE_SCRATCH_SIZE);

	pthread_mutex_lock(&ir->lock);
	for (pos = ir->routes.next; pos != &ir->routes; pos = next) {
		struct irqroute_route *r = irqroute_route_of(pos);

		next = pos->next;
		irqroute_list_del(pos);
		/* A group goes with its vector 0, which lives as long as it. */
		if (r->group && r->index == r->group->base) {
			free(r->group->routes);
			free(r->group);
		}
		__irqroute_route_free(r);
	}
	pthread_mutex_unlock(&ir->lock);

	__irqroute_batch_drop(ir);
	pthread_mutex_destroy(&ir->lock);
	free(ir->base);
	free(ir);
}

__irqroute_export int irqroute_fd(const struct irqroute *ir)
{
	return ir->fd;
}

/*
 * The first version of struct irqroute_stats ends at @feedback: the most
 * that irqroute_get_stats() (the 1.0 entry point, which is not told the
 * caller's size) may write.
 */
#define IRQROUTE_STATS_SIZE_1_0 \
	(offsetof(struct irqroute_stats, feedback) + sizeof(uint64_t))

/*
 * Writes @size bytes at most: the kernel fills what it knows of them and
 * zeroes nothing past min(@size, its own size), so the tail is zeroed here.
 */
__irqroute_export int irqroute_get_stats_sized(struct irqroute *ir,
					       struct irqroute_stats *st,
					       size_t size)
{
	if (!st)
		return -EFAULT;
	if (size < IRQROUTE_STATS_SIZE_1_0 || size > UINT32_MAX)
		return -EINVAL;
	memset(st, 0, size);
	st->size = (uint32_t)size;
	return __irqroute_ioctl(ir->fd, IRQROUTE_GET_STATS, st);
}

/* The header's macro of the same name calls irqroute_get_stats_sized(). */
#undef irqroute_get_stats
__irqroute_export int irqroute_get_stats(struct irqroute *ir,
					 struct irqroute_stats *st)
{
	return irqroute_get_stats_sized(ir, st, IRQROUTE_STATS_SIZE_1_0);
}
