/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * libirqroute: the route interface VMMs program against, backed by the
 * irqroute kernel module (/dev/irqroute).
 *
 * Every function returning int returns 0 or a negative errno; the library
 * does not report errors through errno. Each function has a man page.
 *
 * Threads: irqroute_route_create() and irqroute_route_destroy() may run
 * concurrently on one attachment. The calls on a route may come from any
 * thread; irqroute_mask(), irqroute_unmask() and
 * irqroute_consume_pending() may run concurrently with each other and with
 * a signal on the route's trigger eventfd (they are atomic operations on a
 * shared page). A handle must not be used during or after its own
 * irqroute_route_destroy(), nor any handle of an attachment during or
 * after irqroute_detach().
 *
 * Processes: an attachment belongs to the process that made it, the one
 * that owns the KVM VM. In a child after fork() the calls that act on it
 * fail with -EPERM (the shared page is not inherited; consume_pending and
 * pending return false) and irqroute_detach() only releases the child's
 * copies.
 */
#ifndef IRQROUTE_H
#define IRQROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; irqroute_version() gives the library's. */
#define IRQROUTE_VERSION_MAJOR	1
#define IRQROUTE_VERSION_MINOR	1
#define IRQROUTE_VERSION_PATCH	0

/* True at compile time if this header is version @major.@minor or newer. */
#define IRQROUTE_CHECK_VERSION(major, minor)				\
	(IRQROUTE_VERSION_MAJOR == (major) &&				\
	 IRQROUTE_VERSION_MINOR >= (minor))

struct irqroute;        /* one attachment to one KVM VM */
struct irqroute_route;  /* one GSI + trigger eventfd */

/*
 * Growth rule: a field after @flags is read only when a flag in @flags
 * says it is set (as io_uring_params does), so a program built against a
 * shorter struct never has bytes past it read. A library that does not
 * know a flag fails with -EINVAL. Zero what you do not use.
 */
struct irqroute_opts {
	uint32_t gsi_base;	/* first GSI of the route range */
	uint32_t nr_routes;	/* routes in the range */
	uint32_t flags;		/* IRQROUTE_F_* */
	uint32_t __reserved[5];	/* for flag-gated fields; 0 */
};

/* Seed base routes with KVM's x86 defaults (GSI 0-23 to PIC/IOAPIC pins). */
#define IRQROUTE_F_X86_DEFAULT_ROUTES	(1U << 0)

/* Defaults used when irqroute_attach() gets opts == NULL. */
#define IRQROUTE_DEFAULT_GSI_BASE	1024
#define IRQROUTE_DEFAULT_NR_ROUTES	1024

/*
 * Opens /dev/irqroute, attaches it to the KVM VM @vm_fd (after
 * KVM_CREATE_IRQCHIP) and maps its shared page. From then on the module
 * owns the VM's GSI routing table: do not call KVM_SET_GSI_ROUTING, use
 * irqroute_set_base_routes(). One attachment per VM (-EBUSY).
 */
int  irqroute_attach(int vm_fd, const struct irqroute_opts *opts,
		     struct irqroute **out);
/* Tears down every remaining route and the attachment, frees @ir. */
void irqroute_detach(struct irqroute *ir);
/*
 * Replaces the VMM's own routes (IOAPIC/PIC pins, emulated devices' MSIs;
 * none in the route range) and commits the table. @n == 0 removes them.
 */
int  irqroute_set_base_routes(struct irqroute *ir,
			      const struct kvm_irq_routing_entry *e,
			      unsigned int n);
/* A new route: unmasked, not pending, no MSI; its trigger eventfd is new. */
int  irqroute_route_create(struct irqroute *ir, struct irqroute_route **out);
/* Unregisters the route, frees its GSI, closes its eventfd, frees @r. */
void irqroute_route_destroy(struct irqroute_route *r);
/* The trigger eventfd to hand to VFIO; owned by the route, do not close. */
int  irqroute_route_event(const struct irqroute_route *r);
/* The route's GSI. */
uint32_t irqroute_route_gsi(const struct irqroute_route *r);
/* Routes the GSI to this x86 MSI; a pending edge is delivered if unmasked. */
int  irqroute_set_msi(struct irqroute_route *r, uint64_t address,
		      uint32_t data);
/* Removes the MSI: signals set the pending bit until the next set_msi. */
int  irqroute_clear_msi(struct irqroute_route *r);
/* Masks the route: signals set its pending bit. No system call. */
int  irqroute_mask(struct irqroute_route *r);
/*
 * Unmasks the route. No system call unless its pending bit is set, in
 * which case the kernel delivers that edge (if the route has an MSI).
 */
int  irqroute_unmask(struct irqroute_route *r);
/* Reads and clears the pending bit atomically. No system call. */
bool irqroute_consume_pending(struct irqroute_route *r);

/* ---- Extensions beyond the route interface ---- */

/* The /dev/irqroute file descriptor of the attachment. */
int  irqroute_fd(const struct irqroute *ir);
/* The route's index: its bit in the shared mask and pending bitmaps. */
uint32_t irqroute_route_index(const struct irqroute_route *r);

/* set_msi with an arm64 ITS device id. */
int  irqroute_set_msi_devid(struct irqroute_route *r, uint64_t address,
			    uint32_t data, uint32_t devid);

/*
 * Batching: between irqroute_batch_begin() and irqroute_batch_commit(),
 * the calling thread's irqroute_set_msi() and irqroute_clear_msi() calls
 * on @ir only stage their change; the commit applies them all or none in
 * one routing table update. Other threads' calls are not staged. One
 * batch per attachment at a time (-EBUSY), committed by the thread that
 * began it (-EINVAL otherwise, or without begin).
 */
int  irqroute_batch_begin(struct irqroute *ir);
int  irqroute_batch_commit(struct irqroute *ir);

/*
 * Batch objects (since 1.1): MSI changes staged in the object, applied
 * all or none in one routing table update by irqroute_batch_submit(),
 * which names the route that made it fail. Any number of batches per
 * attachment; one batch must not be used by two threads at once.
 */
struct irqroute_batch;
int  irqroute_batch_create(struct irqroute *ir, struct irqroute_batch **out);
int  irqroute_batch_set_msi(struct irqroute_batch *b, struct irqroute_route *r,
			    uint64_t address, uint32_t data);
int  irqroute_batch_set_msi_devid(struct irqroute_batch *b,
				  struct irqroute_route *r, uint64_t address,
				  uint32_t data, uint32_t devid);
int  irqroute_batch_clear_msi(struct irqroute_batch *b,
			      struct irqroute_route *r);
int  irqroute_batch_submit(struct irqroute_batch *b,
			   struct irqroute_route **failed);
/* Drops what is staged (an abort) and frees @b. */
void irqroute_batch_free(struct irqroute_batch *b);

/* Without the shared page: the same operations as ioctls. */
int  irqroute_mask_ioctl(struct irqroute_route *r);
int  irqroute_unmask_ioctl(struct irqroute_route *r);
int  irqroute_consume_pending_ioctl(struct irqroute_route *r, bool *pending);

/* Non-destructive read of the pending bit (like a guest's PBA read). */
bool irqroute_pending(const struct irqroute_route *r);

/*
 * Counters of the attachment; include <linux/irqroute.h> for the struct.
 * The macro passes the caller's sizeof(*st), so the library writes no
 * more than the caller's struct holds (since 1.1; the function itself
 * is the 1.0 ABI and writes only the first version's 56 bytes).
 */
struct irqroute_stats;
int  irqroute_get_stats(struct irqroute *ir, struct irqroute_stats *st);
int  irqroute_get_stats_sized(struct irqroute *ir, struct irqroute_stats *st,
			      size_t size);
#define irqroute_get_stats(ir, st) \
	irqroute_get_stats_sized((ir), (st), sizeof(*(st)))

/*
 * consume_pending and pending with errors: 1 if the pending bit was (is)
 * set, 0 if not, -EPERM in a fork()ed child. Since 1.1.
 */
int  irqroute_consume_pending_status(struct irqroute_route *r);
int  irqroute_pending_status(const struct irqroute_route *r);

/* ---- Since 1.1 ---- */

/*
 * A route on the caller's eventfd @trigger_fd (QEMU's CPR, notifiers a
 * VMM made itself). The route never closes it. @flags: 0.
 */
int  irqroute_route_create_fd(struct irqroute *ir, int trigger_fd,
			      uint32_t flags, struct irqroute_route **out);

/*
 * Destroys the route, handing a pending interrupt back to its trigger
 * eventfd (whose count goes up), and returns that eventfd, now the
 * caller's: a route made on it later, anywhere, starts pending.
 */
int  irqroute_route_handover(struct irqroute_route *r);

/*
 * Sets the pending bit without a signal; if the route is unmasked, the
 * kernel delivers it at once (if it has an MSI).
 */
int  irqroute_set_pending(struct irqroute_route *r);

/* A route's state, for live migration and snapshots. */
struct irqroute_route_state {
	uint32_t size;		/* in: sizeof(struct irqroute_route_state) */
	uint32_t flags;		/* IRQROUTE_STATE_F_* */
	uint32_t index;		/* the route's index ... */
	uint32_t gsi;		/* ... and GSI, restored as they were */
	uint64_t address;	/* MSI address, with IRQROUTE_STATE_F_MSI */
	uint32_t data;		/* MSI data, with IRQROUTE_STATE_F_MSI */
	uint32_t devid;		/* with IRQROUTE_STATE_F_DEVID */
};

#define IRQROUTE_STATE_F_MSI		(1U << 0)
#define IRQROUTE_STATE_F_DEVID		(1U << 1)
#define IRQROUTE_STATE_F_MASKED		(1U << 2)
#define IRQROUTE_STATE_F_PENDING	(1U << 3)

/* Reads @r's state into @st, whose @size the caller sets. */
int  irqroute_route_save(const struct irqroute_route *r,
			 struct irqroute_route_state *st);
/*
 * Makes a route with state @st at its saved index and GSI, on @trigger_fd
 * (or a new eventfd if negative): masked and pending as saved; its MSI
 * set last, which delivers a pending edge if the route is unmasked.
 */
int  irqroute_route_restore(struct irqroute *ir,
			    const struct irqroute_route_state *st,
			    int trigger_fd, struct irqroute_route **out);
/*
 * Moves the attachment and every route to the KVM VM @vm_fd: same range,
 * same base routes, each route at its index with its trigger, MSI, mask
 * and pending interrupt. Handles stay valid. Nothing else may use @ir or
 * its routes meanwhile.
 */
int  irqroute_reattach(struct irqroute *ir, int vm_fd);

/*
 * Device route groups: @n routes at indices base .. base + @n - 1, base a
 * multiple of 64, so vector i's pending bit is bit i % 64 of the group's
 * word i / 64. @trigger_fds: @n caller eventfds, or NULL for new ones.
 */
struct irqroute_group;
int  irqroute_group_create(struct irqroute *ir, unsigned int n,
			   const int *trigger_fds, struct irqroute_group **out);
/* Destroys the group's routes (never destroy one of them on its own). */
void irqroute_group_destroy(struct irqroute_group *g);
/* Vector @vector's route, NULL past the end. */
struct irqroute_route *irqroute_group_route(const struct irqroute_group *g,
					    unsigned int vector);
/* The same at @base (a multiple of 64), for a restore: EBUSY if taken. */
int  irqroute_group_create_at(struct irqroute *ir, uint32_t base,
			      unsigned int n, const int *trigger_fds,
			      struct irqroute_group **out);
uint32_t irqroute_group_base(const struct irqroute_group *g);
unsigned int irqroute_group_size(const struct irqroute_group *g);
/* The group's pending bits of vectors 64 * @word .., read or consumed. */
int  irqroute_group_pending(const struct irqroute_group *g, unsigned int word,
			    uint64_t *pending);
int  irqroute_group_consume_pending(struct irqroute_group *g,
				    unsigned int word, uint64_t *pending);

/*
 * Delegation to a sandboxed device process: a file descriptor (O_CLOEXEC;
 * pass it with SCM_RIGHTS) that can only mask, unmask and consume the
 * pending bit of the group's vectors, from any process. Its holder calls
 * the irqroute_delegate_*() functions with it and a vector of the group.
 */
int  irqroute_group_delegate(struct irqroute_group *g, int *fd);
int  irqroute_delegate_mask(int fd, unsigned int vector);
int  irqroute_delegate_unmask(int fd, unsigned int vector);
/* 1 if the vector's pending bit was set (now clear), 0 if not, -errno. */
int  irqroute_delegate_consume(int fd, unsigned int vector);
/* The same without clearing it (a guest's PBA read). */
int  irqroute_delegate_pending(int fd, unsigned int vector);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *irqroute_version(void);
/* Its parts, as numbers. Since 1.1. */
int  irqroute_version_major(void);
int  irqroute_version_minor(void);
/* True if the library in use is @major.@minor or newer (same major). */
bool irqroute_check_version(int major, int minor);

#ifdef __cplusplus
}
#endif

#endif /* IRQROUTE_H */
