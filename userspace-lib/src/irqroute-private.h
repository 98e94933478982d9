/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * libirqroute internals: the attachment and route objects, and the thin
 * system call wrappers. Nothing here is part of the ABI; every non-static
 * symbol is hidden from the shared library and, for the static library,
 * carries the __irqroute_ prefix.
 */
#ifndef IRQROUTE_PRIVATE_H
#define IRQROUTE_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/irqroute.h>

#include "irqroute.h"

/* Marks a definition as part of the ABI (see libirqroute.map). */
#define __irqroute_export	__attribute__((visibility("default")))

#define IRQROUTE_DEV_PATH	"/dev/irqroute"

/* The irqroute_opts flags this library knows. */
#define IRQROUTE_F_VALID	(IRQROUTE_F_X86_DEFAULT_ROUTES)

/* Bytes of one shared bitmap that cover @nr routes (whole 64-bit words). */
#define IRQROUTE_BITMAP_BYTES(nr)	((((size_t)(nr) + 63) / 64) * 8)

struct irqroute_list {
	struct irqroute_list *next;
	struct irqroute_list *prev;
};

static inline void irqroute_list_init(struct irqroute_list *head)
{
	head->next = head;
	head->prev = head;
}

static inline void irqroute_list_add(struct irqroute_list *node,
				     struct irqroute_list *head)
{
	node->next = head->next;
	node->prev = head;
	head->next->prev = node;
	head->next = node;
}

static inline void irqroute_list_del(struct irqroute_list *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	node->next = node;
	node->prev = node;
}

/**
 * struct irqroute - one attachment of a /dev/irqroute file to a KVM VM
 * @fd: the /dev/irqroute file descriptor
 * @gsi_base: first GSI of the route range
 * @nr_routes: routes in the range
 * @batch_owner: the thread inside irqroute_batch_begin() ..
 *	irqroute_batch_commit() (see batch.c), or 0; __atomic builtins only
 * @batch: that thread's batch, touched by that thread only
 * @shm: the shared page, @shm_size bytes, read-only after attach
 * @shm_size: length of the mapping
 * @scratch: IRQROUTE_SCRATCH_SIZE bytes where the module writes the
 *	arguments of its KVM ioctls; the library never touches it
 * @mask: mask bitmap inside @shm
 * @pending: pending bitmap inside @shm
 * @fork_gen: __irqroute_fork_gen when attached; the shared page ops
 *	refuse when it differs (this process is a fork()ed child of the
 *	attaching one and has no mapping)
 * @lock: guards @routes, @base and @nr_base; never taken by the shared
 *	page operations
 * @routes: live routes, linked by irqroute_route.node
 * @flags: the irqroute_opts flags of the attachment
 * @base: a copy of the last base routes set, for irqroute_reattach()
 * @nr_base: entries at @base
 */
struct irqroute {
	int fd;
	uint32_t gsi_base;
	uint32_t nr_routes;
	uintptr_t batch_owner;
	struct irqroute_batch *batch;
	void *shm;
	size_t shm_size;
	void *scratch;
	uint64_t *mask;
	uint64_t *pending;
	unsigned long fork_gen;
	pthread_mutex_t lock;
	struct irqroute_list routes;
	uint32_t flags;
	struct kvm_irq_routing_entry *base;
	unsigned int nr_base;
};

/**
 * struct irqroute_route - one route: a GSI and its trigger eventfd
 * @ir: the attachment
 * @mask_word: the 64-bit word of the mask bitmap holding @bit
 * @pending_word: the 64-bit word of the pending bitmap holding @bit
 * @bit: 1 << (@index % 64)
 * @index: the route's index in the range
 * @gsi: @ir->gsi_base + @index
 * @trigger: the trigger eventfd
 * @owns_trigger: the library made @trigger and closes it with the route;
 *	false for irqroute_route_create_fd()'s caller-supplied triggers
 * @group: the device route group the route belongs to, or NULL
 * @node: entry in @ir->routes, guarded by @ir->lock
 *
 * Everything but @node is written once by irqroute_route_create() before
 * the handle is returned, so the shared page operations read it unlocked.
 */
struct irqroute_route {
	struct irqroute *ir;
	uint64_t *mask_word;
	uint64_t *pending_word;
	uint64_t bit;
	uint32_t index;
	uint32_t gsi;
	int trigger;
	bool owns_trigger;
	struct irqroute_group *group;
	struct irqroute_list node;
};

/**
 * struct irqroute_group - a device's vectors on contiguous indices
 * @ir: the attachment
 * @base: index of vector 0; a multiple of 64
 * @n: number of vectors
 * @routes: @n routes, vector i at index @base + i
 */
struct irqroute_group {
	struct irqroute *ir;
	uint32_t base;
	uint32_t n;
	struct irqroute_route **routes;
};

static inline struct irqroute_route *
irqroute_route_of(struct irqroute_list *node)
{
	return (struct irqroute_route *)((char *)node -
		offsetof(struct irqroute_route, node));
}

/* attach.c */
int __irqroute_attach_file(struct irqroute *ir, struct irqroute_attach *arg);
int __irqroute_shm_validate(const void *shm, size_t shm_size,
			    uint32_t gsi_base, uint32_t nr_routes);

/* pba.c */
extern unsigned long __irqroute_fork_gen;

/* True in a fork()ed child of the process that attached @ir. */
static inline bool __irqroute_foreign(const struct irqroute *ir)
{
	return ir->fork_gen != __atomic_load_n(&__irqroute_fork_gen,
					       __ATOMIC_RELAXED);
}

/* batch.c */
struct irqroute_batch *__irqroute_batch_of(struct irqroute *ir);
void __irqroute_batch_drop(struct irqroute *ir);

/* routes.c */
void __irqroute_route_init(struct irqroute *ir, struct irqroute_route *r,
			   uint32_t index);
int __irqroute_route_new(struct irqroute *ir, int trigger_fd, bool at_index,
			 uint32_t index, struct irqroute_route **out);
void __irqroute_route_free(struct irqroute_route *r);

/* syscall.c: each returns the syscall's result or -errno. */
int __irqroute_open(const char *path, int flags);
int __irqroute_close(int fd);
int __irqroute_ioctl(int fd, unsigned long cmd, void *arg);
int __irqroute_mmap(int fd, size_t len, void **addr);
int __irqroute_mmap_scratch(void **addr);
int __irqroute_munmap(void *addr, size_t len);
int __irqroute_eventfd(unsigned int initval, int flags);
int __irqroute_route_op(int fd, unsigned long cmd, uint32_t index,
			uint32_t flags, uint32_t *result);

#endif /* IRQROUTE_PRIVATE_H */
