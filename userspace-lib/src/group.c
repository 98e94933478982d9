// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * Device route groups: a device's N vectors on N contiguous indices that
 * start a 64-bit word of the shared bitmaps, so that vector i is bit i of
 * the group's words and the device's PBA is whole words of the pending
 * bitmap.
 */
#include <errno.h>
#include <stdlib.h>

#include "irqroute-private.h"

/* Tries before giving up on concurrent single creates taking our indices. */
#define IRQROUTE_GROUP_TRIES	8

/* The lowest word-aligned run of @n free indices at or after @from. */
static int irqroute_group_find(struct irqroute *ir, uint32_t n, uint32_t from,
			       uint32_t *base)
{
	struct irqroute_list *pos;
	uint8_t *used;
	uint32_t b, i;
	int ret = -ENOSPC;

	used = calloc(ir->nr_routes, 1);
	if (!used)
		return -ENOMEM;
	pthread_mutex_lock(&ir->lock);
	for (pos = ir->routes.next; pos != &ir->routes; pos = pos->next)
		used[irqroute_route_of(pos)->index] = 1;
	pthread_mutex_unlock(&ir->lock);

	for (b = from; (uint64_t)b + n <= ir->nr_routes; b += 64) {
		for (i = 0; i < n && !used[b + i]; i++)
			;
		if (i == n) {
			*base = b;
			ret = 0;
			break;
		}
	}
	free(used);
	return ret;
}

static void irqroute_group_free(struct irqroute_group *g, uint32_t made)
{
	while (made--)
		irqroute_route_destroy(g->routes[made]);
	free(g->routes);
	free(g);
}

/* The group's routes at @base .. @base + @n - 1, or nothing. */
static int irqroute_group_make(struct irqroute *ir, uint32_t base,
			       unsigned int n, const int *trigger_fds,
			       struct irqroute_group **out)
{
	struct irqroute_group *g;
	uint32_t i;
	int ret = 0;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->routes = calloc(n, sizeof(*g->routes));
	if (!g->routes) {
		free(g);
		return -ENOMEM;
	}
	g->ir = ir;
	g->base = base;
	g->n = n;
	for (i = 0; i < n; i++) {
		ret = __irqroute_route_new(ir, trigger_fds ? trigger_fds[i] : -1,
					   true, base + i, &g->routes[i]);
		if (ret)
			break;
		g->routes[i]->group = g;
	}
	if (ret) {
		irqroute_group_free(g, i);
		return ret;
	}
	*out = g;
	return 0;
}

static int irqroute_group_check(struct irqroute *ir, unsigned int n,
				const int *trigger_fds,
				struct irqroute_group **out)
{
	uint32_t i;

	if (!out)
		return -EFAULT;
	if (!n || n > ir->nr_routes)
		return -EINVAL;
	if (trigger_fds)
		for (i = 0; i < n; i++)
			if (trigger_fds[i] < 0)
				return -EBADF;
	return 0;
}

__irqroute_export int irqroute_group_create_at(struct irqroute *ir,
					       uint32_t base, unsigned int n,
					       const int *trigger_fds,
					       struct irqroute_group **out)
{
	int ret = irqroute_group_check(ir, n, trigger_fds, out);

	if (ret)
		return ret;
	if (base % 64 || base >= ir->nr_routes || n > ir->nr_routes - base)
		return -EINVAL;
	return irqroute_group_make(ir, base, n, trigger_fds, out);
}

__irqroute_export int irqroute_group_create(struct irqroute *ir,
					    unsigned int n,
					    const int *trigger_fds,
					    struct irqroute_group **out)
{
	uint32_t base, from = 0;
	int ret, tries;

	ret = irqroute_group_check(ir, n, trigger_fds, out);
	if (ret)
		return ret;
	for (tries = 0; tries < IRQROUTE_GROUP_TRIES; tries++) {
		ret = irqroute_group_find(ir, n, from, &base);
		if (ret)
			return ret;
		ret = irqroute_group_make(ir, base, n, trigger_fds, out);
		if (ret != -EBUSY)
			return ret;
		/* Another thread's route took an index: look further on. */
		from = base + 64;
	}
	return -EBUSY;
}

__irqroute_export void irqroute_group_destroy(struct irqroute_group *g)
{
	if (g)
		irqroute_group_free(g, g->n);
}

__irqroute_export struct irqroute_route *
irqroute_group_route(const struct irqroute_group *g, unsigned int vector)
{
	return vector < g->n ? g->routes[vector] : NULL;
}

__irqroute_export uint32_t irqroute_group_base(const struct irqroute_group *g)
{
	return g->base;
}

__irqroute_export unsigned int
irqroute_group_size(const struct irqroute_group *g)
{
	return g->n;
}

/* The group's bits in its word @word: vectors 64 * @word and up. */
static int irqroute_group_word(const struct irqroute_group *g,
			       unsigned int word, uint64_t **p, uint64_t *bits)
{
	uint32_t left;

	if (__irqroute_foreign(g->ir))
		return -EPERM;
	if (word >= (g->n + 63) / 64)
		return -EINVAL;
	left = g->n - word * 64;
	*bits = left >= 64 ? ~0ULL : (1ULL << left) - 1;
	*p = &g->ir->pending[g->base / 64 + word];
	return 0;
}

__irqroute_export int irqroute_group_pending(const struct irqroute_group *g,
					     unsigned int word,
					     uint64_t *pending)
{
	uint64_t *p, bits;
	int ret;

	ret = irqroute_group_word(g, word, &p, &bits);
	if (ret)
		return ret;
	*pending = __atomic_load_n(p, __ATOMIC_SEQ_CST) & bits;
	return 0;
}

/* One atomic op for the word: each bit is consumed exactly once. */
__irqroute_export int irqroute_group_consume_pending(struct irqroute_group *g,
						     unsigned int word,
						     uint64_t *pending)
{
	uint64_t *p, bits;
	int ret;

	ret = irqroute_group_word(g, word, &p, &bits);
	if (ret)
		return ret;
	*pending = __atomic_fetch_and(p, ~bits, __ATOMIC_SEQ_CST) & bits;
	return 0;
}
