/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * libirqroute: the route interface VMMs program against, backed by the
 * irqroute kernel module (/dev/irqroute).
 *
 * Every function returning int returns 0 or a negative errno. A route
 * handle is used by one route at a time; the calls are thread-safe in the
 * sense of the kernel interface (each is one atomic or one ioctl), and
 * mask/unmask/consume_pending of one route may run concurrently with a
 * signal on its trigger eventfd.
 */
#ifndef IRQROUTE_H
#define IRQROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct irqroute;        /* one attachment to one KVM VM */
struct irqroute_route;  /* one GSI + trigger eventfd */

struct irqroute_opts {
	uint32_t gsi_base;	/* first GSI of the route range */
	uint32_t nr_routes;	/* routes in the range */
	uint32_t flags;		/* IRQROUTE_F_* */
};

/* Seed base routes with KVM's x86 defaults (GSI 0-23 to PIC/IOAPIC pins). */
#define IRQROUTE_F_X86_DEFAULT_ROUTES	(1U << 0)

/* Defaults used when irqroute_attach() gets opts == NULL. */
#define IRQROUTE_DEFAULT_GSI_BASE	1024
#define IRQROUTE_DEFAULT_NR_ROUTES	1024

int  irqroute_attach(int vm_fd, const struct irqroute_opts *opts,
		     struct irqroute **out);
void irqroute_detach(struct irqroute *ir);
int  irqroute_set_base_routes(struct irqroute *ir,
			      const struct kvm_irq_routing_entry *e,
			      unsigned int n);
int  irqroute_route_create(struct irqroute *ir, struct irqroute_route **out);
void irqroute_route_destroy(struct irqroute_route *r);
int  irqroute_route_event(const struct irqroute_route *r);
uint32_t irqroute_route_gsi(const struct irqroute_route *r);
int  irqroute_set_msi(struct irqroute_route *r, uint64_t address,
		      uint32_t data);
int  irqroute_clear_msi(struct irqroute_route *r);
int  irqroute_mask(struct irqroute_route *r);
int  irqroute_unmask(struct irqroute_route *r);
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
 * irqroute_set_msi() and irqroute_clear_msi() only stage their change; the
 * commit pushes them to KVM in one routing table update. Begin/commit are
 * per attachment and do not nest.
 */
int  irqroute_batch_begin(struct irqroute *ir);
int  irqroute_batch_commit(struct irqroute *ir);

/* Without the shared page: the same operations as ioctls. */
int  irqroute_mask_ioctl(struct irqroute_route *r);
int  irqroute_unmask_ioctl(struct irqroute_route *r);
int  irqroute_consume_pending_ioctl(struct irqroute_route *r, bool *pending);

/* Non-destructive read of the pending bit (like a guest's PBA read). */
bool irqroute_pending(const struct irqroute_route *r);

struct irqroute_stats;	/* <linux/irqroute.h> */
int  irqroute_get_stats(struct irqroute *ir, struct irqroute_stats *st);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *irqroute_version(void);

#ifdef __cplusplus
}
#endif

#endif /* IRQROUTE_H */
