// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * Batches: MSI changes staged in the caller's memory and sent to the
 * module in one IRQROUTE_SET_MSIS, which applies them all or none in one
 * routing table update. The legacy irqroute_batch_begin()/commit() pair
 * is one such batch, owned by the thread that began it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "irqroute-private.h"

/**
 * struct irqroute_batch - MSI changes waiting for irqroute_batch_submit()
 * @ir: the attachment
 * @e: the entries, in staging order
 * @routes: @routes[i] is the handle @e[i] was staged with
 * @slot: per route index, 1 + its position in @e, or 0: one entry per
 *	route, the last staged wins
 * @nr: entries in @e
 * @cap: room in @e and @routes
 */
struct irqroute_batch {
	struct irqroute *ir;
	struct irqroute_msi *e;
	struct irqroute_route **routes;
	uint32_t *slot;
	uint32_t nr;
	uint32_t cap;
};

__irqroute_export int irqroute_batch_create(struct irqroute *ir,
					    struct irqroute_batch **out)
{
	struct irqroute_batch *b;

	if (!ir || !out)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->slot = calloc(ir->nr_routes, sizeof(*b->slot));
	if (!b->slot) {
		free(b);
		return -ENOMEM;
	}
	b->ir = ir;
	*out = b;
	return 0;
}

__irqroute_export void irqroute_batch_free(struct irqroute_batch *b)
{
	if (!b)
		return;
	free(b->e);
	free(b->routes);
	free(b->slot);
	free(b);
}

/* Room for one more entry; at most one per route, so nr_routes in all. */
static int irqroute_batch_grow(struct irqroute_batch *b)
{
	struct irqroute_route **routes;
	struct irqroute_msi *e;
	uint32_t cap;

	if (b->nr < b->cap)
		return 0;
	cap = b->cap ? 2 * b->cap : 16;
	if (cap > b->ir->nr_routes)
		cap = b->ir->nr_routes;
	e = realloc(b->e, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	b->e = e;
	routes = realloc(b->routes, cap * sizeof(*routes));
	if (!routes)
		return -ENOMEM;
	b->routes = routes;
	b->cap = cap;
	return 0;
}

static int irqroute_batch_stage(struct irqroute_batch *b,
				struct irqroute_route *r,
				const struct irqroute_msi *m)
{
	uint32_t pos;
	int ret;

	/* A route of another attachment would name a stranger's index. */
	if (!b || !r || r->ir != b->ir)
		return -EINVAL;
	pos = b->slot[r->index];
	if (!pos) {
		ret = irqroute_batch_grow(b);
		if (ret)
			return ret;
		pos = ++b->nr;
		b->slot[r->index] = pos;
	}
	b->e[pos - 1] = *m;
	b->e[pos - 1].index = r->index;
	b->routes[pos - 1] = r;
	return 0;
}

__irqroute_export int irqroute_batch_set_msi(struct irqroute_batch *b,
					     struct irqroute_route *r,
					     uint64_t address, uint32_t data)
{
	struct irqroute_msi m = {
		.size = sizeof(m),
		.data = data,
		.address_lo = (uint32_t)address,
		.address_hi = (uint32_t)(address >> 32),
	};

	return irqroute_batch_stage(b, r, &m);
}

__irqroute_export int irqroute_batch_set_msi_devid(struct irqroute_batch *b,
						   struct irqroute_route *r,
						   uint64_t address,
						   uint32_t data,
						   uint32_t devid)
{
	struct irqroute_msi m = {
		.size = sizeof(m),
		.flags = IRQROUTE_MSI_F_DEVID,
		.data = data,
		.address_lo = (uint32_t)address,
		.address_hi = (uint32_t)(address >> 32),
		.devid = devid,
	};

	return irqroute_batch_stage(b, r, &m);
}

__irqroute_export int irqroute_batch_clear_msi(struct irqroute_batch *b,
					       struct irqroute_route *r)
{
	struct irqroute_msi m = {
		.size = sizeof(m),
		.flags = IRQROUTE_MSI_F_CLEAR,
	};

	return irqroute_batch_stage(b, r, &m);
}

/* Empty @b for reuse. */
static void irqroute_batch_reset(struct irqroute_batch *b)
{
	uint32_t i;

	for (i = 0; i < b->nr; i++)
		b->slot[b->e[i].index] = 0;
	b->nr = 0;
}

/* IRQROUTE_SET_MSIS; *@failed gets the position of the failed entry. */
static int irqroute_batch_send(struct irqroute_batch *b, uint32_t *failed)
{
	struct irqroute_msis arg = {
		.size = sizeof(arg),
		.nr = b->nr,
		.entries = (uint64_t)(uintptr_t)b->e,
	};
	int ret;

	*failed = b->nr;
	if (!b->nr)
		return 0;
	/* The module writes failed back, on error too. */
	arg.failed = b->nr;
	ret = __irqroute_ioctl(b->ir->fd, IRQROUTE_SET_MSIS, &arg);
	if (ret)
		*failed = arg.failed;
	return ret;
}

__irqroute_export int irqroute_batch_submit(struct irqroute_batch *b,
					    struct irqroute_route **failed)
{
	uint32_t pos;
	int ret;

	if (failed)
		*failed = NULL;
	if (!b)
		return -EINVAL;
	ret = irqroute_batch_send(b, &pos);
	if (ret && failed && pos < b->nr)
		*failed = b->routes[pos];
	irqroute_batch_reset(b);
	return ret;
}

/*
 * The calling thread, as the address of a thread-local object: unique
 * among the live threads, and free to compute.
 */
static __thread char irqroute_thread_tag;

static uintptr_t irqroute_self(void)
{
	return (uintptr_t)&irqroute_thread_tag;
}

/*
 * The batch the calling thread began on @ir, or NULL. @ir->batch_owner is
 * only ever set to the tag of the thread that begins, so no other thread
 * can match it, and the owner reads @ir->batch that it wrote itself.
 */
struct irqroute_batch *__irqroute_batch_of(struct irqroute *ir)
{
	if (__atomic_load_n(&ir->batch_owner, __ATOMIC_RELAXED) !=
	    irqroute_self())
		return NULL;
	return ir->batch;
}

__irqroute_export int irqroute_batch_begin(struct irqroute *ir)
{
	uintptr_t idle = 0;
	int ret;

	/* Acquire: the last owner's writes of @ir->batch came before. */
	if (!__atomic_compare_exchange_n(&ir->batch_owner, &idle,
					 irqroute_self(), false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return -EBUSY;
	ret = irqroute_batch_create(ir, &ir->batch);
	if (ret)
		__atomic_store_n(&ir->batch_owner, 0, __ATOMIC_RELEASE);
	return ret;
}

/*
 * A module without IRQROUTE_SET_MSIS: stage each change in the module
 * (IRQROUTE_MSI_F_DEFER) and commit, as libirqroute 1.0 did. Each
 * change's error is its own, the first one is returned.
 */
static int irqroute_batch_replay(struct irqroute_batch *b)
{
	struct irqroute_commit commit = { .size = sizeof(commit) };
	int ret = 0, err;
	uint32_t i;

	for (i = 0; i < b->nr; i++) {
		struct irqroute_msi m = b->e[i];

		if (m.flags & IRQROUTE_MSI_F_CLEAR) {
			err = __irqroute_route_op(b->ir->fd,
						  IRQROUTE_CLEAR_MSI, m.index,
						  IRQROUTE_MSI_F_DEFER, NULL);
		} else {
			m.flags |= IRQROUTE_MSI_F_DEFER;
			err = __irqroute_ioctl(b->ir->fd, IRQROUTE_SET_MSI,
					       &m);
		}
		if (err && !ret)
			ret = err;
	}
	err = __irqroute_ioctl(b->ir->fd, IRQROUTE_COMMIT, &commit);
	return ret ?: err;
}

/* The batch ends whatever the result, so nothing stays staged. */
__irqroute_export int irqroute_batch_commit(struct irqroute *ir)
{
	struct irqroute_batch *b = __irqroute_batch_of(ir);
	uint32_t pos;
	int ret;

	if (!b)
		return -EINVAL;
	if (!b->nr) {
		/*
		 * Nothing staged: an IRQROUTE_COMMIT, as in 1.0. It is how a
		 * VMM takes destroyed routes' MSIs out of KVM's table, and is
		 * skipped by the module when nothing changed.
		 */
		struct irqroute_commit commit = { .size = sizeof(commit) };

		ret = __irqroute_ioctl(ir->fd, IRQROUTE_COMMIT, &commit);
	} else {
		ret = irqroute_batch_send(b, &pos);
		if (ret == -ENOTTY)
			ret = irqroute_batch_replay(b);
	}
	ir->batch = NULL;
	irqroute_batch_free(b);
	/* Release: orders the writes above before the next begin. */
	__atomic_store_n(&ir->batch_owner, 0, __ATOMIC_RELEASE);
	return ret;
}

/* irqroute_detach(): a batch left open goes with the attachment. */
void __irqroute_batch_drop(struct irqroute *ir)
{
	irqroute_batch_free(ir->batch);
	ir->batch = NULL;
}
