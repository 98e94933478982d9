/* SPDX-License-Identifier: GPL-2.0 */
/*
 * irqroute: private definitions shared by the module's files.
 *
 * Object lifetimes:
 *  - struct irqroute is the private data of one open /dev/irqroute file and
 *    lives until its release(). IRQROUTE_ATTACH fills in the VM fields once;
 *    they stay until release().
 *  - struct irqroute_route lives from IRQROUTE_ROUTE_CREATE until
 *    IRQROUTE_ROUTE_DESTROY or release(). Its gate may run in hard-IRQ
 *    context at any time in between; irqroute_route_free() stops it first.
 *    A lockless UNMASK (PENDING_ONLY) may still hold it, under
 *    rcu_read_lock(), after it left ir->routes: its memory is freed with
 *    kfree_rcu(), and everything else it uses once the hand-off count
 *    (@running) drops.
 *
 * Lock order: irqroute.lock -> irqroute_vms_lock -> mmap_lock (vm_mmap,
 * copy_*_user and KVM's own ioctls under irqroute.lock). The mmap handler
 * runs with mmap_lock held and therefore never takes irqroute.lock.
 */
#ifndef IRQROUTE_PRIV_H
#define IRQROUTE_PRIV_H

#include <linux/atomic.h>
#include <linux/irq_work.h>
#include <linux/kvm.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/refcount.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/irqroute.h>

#include "canary.h"

#if BITS_PER_LONG != 64
#error "irqroute's shared bitmaps are arrays of 64-bit words"
#endif

struct eventfd_ctx;
struct file;
struct mm_struct;
struct page;

/* KVM's default x86 routing table: GSIs 0-23, 0-15 on two irqchips. */
#define IRQROUTE_X86_DEFAULT_GSIS	24
#define IRQROUTE_X86_DEFAULT_ENTRIES	40

/* What the gate did with a signal (trace.h). */
enum irqroute_gate_action {
	IRQROUTE_GATE_DELIVERED,
	IRQROUTE_GATE_PENDED,
	IRQROUTE_GATE_DEFERRED,
	IRQROUTE_GATE_FEEDBACK,
};

/* MASK and UNMASK as traced (trace.h). */
enum irqroute_trace_mask_op {
	IRQROUTE_TRACE_MASK,
	IRQROUTE_TRACE_UNMASK,
	IRQROUTE_TRACE_UNMASK_PENDING,
};

/* Bits of irqroute_route.state. */
enum {
	/* The committed table has an MSI for the route's GSI. */
	IRQROUTE_ROUTE_MSI,
};

/**
 * struct irqroute_msi_cfg - one route's MSI as the table should hold it
 * @valid: the route has an MSI
 * @flags: KVM_MSI_VALID_DEVID or 0
 * @address_lo: MSI address, low half
 * @address_hi: MSI address, high half
 * @data: MSI data
 * @devid: device id, with KVM_MSI_VALID_DEVID
 */
struct irqroute_msi_cfg {
	bool valid;
	u32 flags;
	u32 address_lo;
	u32 address_hi;
	u32 data;
	u32 devid;
};

/**
 * struct irqroute_route - one GSI and its trigger eventfd
 * @ir: the attachment; constant
 * @index: index in the range and bit in the shared bitmaps; constant.
 *	The route's GSI is ir->gsi_base + @index (irqroute_route_gsi()).
 * @running: gates between their state check and the end of their direct
 *	hand-off, plus hand-offs queued or executing (counted by the gate
 *	when it queues one), plus unmasks between their state check and
 *	their hand-off (irqroute_route_unmask(), which may run without
 *	ir->lock). An irq_work re-queued on another CPU while it
 *	runs executes on both at once, and irq_work_sync() may return while
 *	one still runs; this count covers every one.
 * @state: IRQROUTE_ROUTE_* bits, atomic bitops. Written under ir->lock,
 *	read locklessly by the gate and the lockless unmask.
 * @trigger: the trigger eventfd (a reference); constant
 * @irqfd: the private eventfd KVM's irqfd for the GSI waits on (a
 *	reference); constant
 * @irqfd_file: the file of @irqfd (a reference). KVM's irqfd lives until
 *	the last reference to it is dropped; constant
 * @wait: the gate, a priority wait-queue entry on @trigger
 * @irqfd_wqh: the wait queue of @irqfd, where KVM's irqfd waits; the
 *	gate wakes it directly (trylock); constant after gate registration
 * @handoff: signals @irqfd outside the trigger's wake-up when the direct
 *	hand-off cannot take @irqfd_wqh's lock (nested eventfd signalling
 *	is refused by the eventfd core)
 * @rcu: frees the route after irq_work_single() is done with @handoff
 * @staged: the MSI the next commit will install; ir->lock
 * @committed: the MSI in KVM's table; ir->lock
 *
 * One per vector, so its size is per-route memory: 192 bytes on x86-64
 * (kmalloc-192), checked in irqroute_route_create(). What is needed only
 * while the gate registers lives on that call's stack.
 */
struct irqroute_route {
	struct irqroute *ir;
	u32 index;
	atomic_t running;
	unsigned long state;
	struct eventfd_ctx *trigger;
	struct eventfd_ctx *irqfd;
	struct file *irqfd_file;
	wait_queue_entry_t wait;
	wait_queue_head_t *irqfd_wqh;
	struct irq_work handoff;
	struct rcu_head rcu;
	struct irqroute_msi_cfg staged;
	struct irqroute_msi_cfg committed;
};

/**
 * struct irqroute_hot_counters - the gate's statistics, one set per CPU
 * @signals: trigger signals seen by the gates
 * @delivered: signals forwarded to KVM's irqfds
 * @pended: signals that set a pending bit
 * @feedback: signals that came from another route's hand-off
 * @deferred: gate hand-offs queued on the irq_work
 *
 * Per CPU so that gates on several CPUs never share a cache line: each
 * is incremented with this_cpu_inc(), in any context, and summed by
 * IRQROUTE_GET_STATS.
 */
struct irqroute_hot_counters {
	u64 signals;
	u64 delivered;
	u64 pended;
	u64 feedback;
	u64 deferred;
};

/**
 * struct irqroute_counters - statistics of one attachment
 * @hot: the gate's counters, per CPU
 * @commits: tables sent to KVM; ir->lock
 * @commits_skipped: commits that changed nothing; ir->lock
 */
struct irqroute_counters {
	struct irqroute_hot_counters __percpu *hot;
	u64 commits;
	u64 commits_skipped;
};

/**
 * struct irqroute_link - what delegation files hold of an attachment
 * @lock: held by every delegated ioctl while it runs, and by the release
 *	of the irqroute file while it clears @ir
 * @ir: the attachment, NULL once its file is released; @lock
 * @ref: the attachment's reference and one per delegation file
 */
struct irqroute_link {
	struct mutex lock;	/* see above */
	struct irqroute *ir;
	refcount_t ref;
};

/* IRQROUTE_DELEGATE's argument, and the file made for it (delegate.c). */
struct irqroute_delegate_k {
	struct irqroute_delegate uapi;
	struct file *file;
};

/**
 * struct irqroute - one open /dev/irqroute file and its attachment
 * @lock: serialises every ioctl but UNMASK with PENDING_ONLY (main.c,
 *	.lockless); guards every field below that is not marked otherwise
 * @attached: IRQROUTE_ATTACH succeeded and the fields below are set.
 *	Set once, with release semantics: mmap and the lockless ioctls
 *	read it without @lock, with acquire, and then the constant fields.
 * @vm_file: the KVM VM file (a reference); constant once attached
 * @kvm: the VM's private data, only used as a key; constant once attached
 * @mm: the VMM's mm (mmgrab, so the pointer cannot be reused); constant
 *	once attached. Only a caller with this mm may drive the attachment.
 * @vm_node: entry in the global list of attached VMs; irqroute_vms_lock
 * @flags: IRQROUTE_ATTACH_F_*; constant once attached
 * @gsi_base: first GSI of the range; constant once attached
 * @nr_routes: size of the range; constant once attached
 * @routes: @nr_routes route pointers, NULL where free. Written under
 *	@lock (rcu_assign_pointer() once the route is whole); read under
 *	@lock (irqroute_route_at()) or, by the lockless UNMASK with
 *	PENDING_ONLY, with rcu_dereference(): routes are freed with
 *	kfree_rcu(). The array itself lives until release().
 * @base: the VMM's base routes (kvmalloc'd), @nr_base of them
 * @nr_base: entries at @base
 * @dirty: KVM's table differs from the staged one beyond the routes'
 *	staged MSIs (a destroyed route's MSI is still in it)
 * @changed: bitmap over the range: routes whose staged MSI may differ
 *	from the committed one (set when staging, cleared by a commit), so
 *	that a commit visits only those
 * @has_msi: bitmap over the range: live routes with a staged MSI, the
 *	routes a table build writes. The lockless unmask never reads it:
 *	it reads the route's IRQROUTE_ROUTE_MSI bit (@state)
 * @in_table: bitmap over the range: routes with an entry in @table
 * @table_pos: where each route of @in_table has its entry in @table
 * @table_built: @table holds the table last built; false until the first
 *	build, and whenever entries must move (a route destroyed, base
 *	routes, a table KVM refused or a copy that failed). So while it is
 *	true, the last commit succeeded, and the scratch area (if any) holds
 *	@table as KVM took it then (irqroute_table_ioctl())
 * @shm: kernel address of the shared page. The bitmaps are accessed with
 *	atomic bitops only; nothing else in the page is ever read back.
 * @mask: mask bitmap inside @shm; atomic bitops, no lock (the VMM
 *	writes it without one); the pointer is constant once attached
 * @pending: pending bitmap inside @shm; likewise. Whoever clears a bit
 *	with test_and_clear_bit() owns the edge (delivers or reports it)
 * @table: where commits build the table for KVM_SET_GSI_ROUTING (kernel
 *	memory, kvmalloc'd), copied to user memory for each call
 * @table_cap: entries @table has room for: the x86 defaults, the base
 *	routes and one per route of the range; grows with the base routes
 * @scratch: the VMM's scratch area (IRQROUTE_ATTACH), or 0; constant once
 *	attached
 * @stats: counters
 * @link: what delegation files point at, or NULL before the first
 *	IRQROUTE_DELEGATE; @lock
 */
struct irqroute {
	struct mutex lock;	/* serialises the ioctls; see above */
	bool attached;
	struct file *vm_file;
	void *kvm;
	struct mm_struct *mm;
	struct list_head vm_node;
	u32 flags;
	u32 gsi_base;
	u32 nr_routes;
	struct irqroute_route __rcu **routes;
	struct kvm_irq_routing_entry *base;
	u32 nr_base;
	bool dirty;
	unsigned long *changed;
	unsigned long *has_msi;
	unsigned long *in_table;
	u32 *table_pos;
	bool table_built;
	void *shm;
	unsigned long *mask;
	unsigned long *pending;
	struct kvm_irq_routing *table;
	u32 table_cap;
	u64 scratch;
	struct irqroute_counters stats;
	struct irqroute_link *link;
};

/* The route's GSI. */
static inline u32 irqroute_route_gsi(const struct irqroute_route *r)
{
	return r->ir->gsi_base + r->index;
}

/* ir->routes[@i], for a holder of ir->lock. */
static inline struct irqroute_route *irqroute_route_at(struct irqroute *ir,
						       u32 i)
{
	return rcu_dereference_protected(ir->routes[i],
					 lockdep_is_held(&ir->lock));
}

/*
 * The ioctl handlers take the ioctl's struct, copied in by main.c, as
 * void * (one table of handlers, as iommufd does).
 */

struct irqroute_delegation;

/* main.c: the ioctls of an irqroute file, or of a delegation (@d) */
long irqroute_dispatch(struct irqroute *ir,
		       const struct irqroute_delegation *d,
		       unsigned int cmd, unsigned long arg);

/* delegate.c: delegation files */
int irqroute_delegate(struct irqroute *ir, void *data);
void irqroute_delegate_install(struct irqroute *ir, void *data);
void irqroute_delegate_undo(struct irqroute *ir, void *data);
void irqroute_link_sever(struct irqroute *ir);
int irqroute_delegation_index(const struct irqroute_delegation *d, u32 *index);
u32 irqroute_delegation_first(const struct irqroute_delegation *d);

/* vm.c: the KVM VM file and its ioctls */
int irqroute_attach(struct irqroute *ir, void *data);
void irqroute_detach(struct irqroute *ir);
int irqroute_table_ioctl(struct irqroute *ir, size_t len, bool patched);
int irqroute_irqfd_ioctl(struct irqroute *ir, const struct kvm_irqfd *irqfd);

/* table.c: the VM's routing table */
int irqroute_set_base_routes(struct irqroute *ir, void *data);
int irqroute_commit(struct irqroute *ir, bool force);
int irqroute_commit_staged(struct irqroute *ir);
void irqroute_route_set_staged(struct irqroute_route *r,
			       const struct irqroute_msi_cfg *cfg);
int irqroute_table_init(struct irqroute *ir);
void irqroute_table_free(struct irqroute *ir);

/* route.c: route lifecycle and per-route ioctls */
int irqroute_route_create(struct irqroute *ir, void *data);
int irqroute_route_destroy(struct irqroute *ir, void *data);
void irqroute_route_undo_create(struct irqroute *ir, u32 index);
void irqroute_route_free(struct irqroute_route *r);
int irqroute_set_msi(struct irqroute *ir, void *data);
int irqroute_route_get_info(struct irqroute *ir, void *data);
bool irqroute_route_changed(const struct irqroute_route *r);
int irqroute_clear_msi(struct irqroute *ir, void *data);
int irqroute_set_msis(struct irqroute *ir, void *data);
int irqroute_mask(struct irqroute *ir, void *data);
int irqroute_unmask(struct irqroute *ir, void *data);
int irqroute_unmask_pending(struct irqroute *ir, void *data);
void irqroute_route_repend(struct irqroute *ir, u32 index);
int irqroute_consume_pending(struct irqroute *ir, void *data);

/* gate.c: the trigger's wait-queue entry and the hand-off to KVM */
int irqroute_gate_register(struct irqroute_route *r, struct file *trigger);
bool irqroute_gate_unregister(struct irqroute_route *r);
bool irqroute_gate_irqfd_bound(struct irqroute_route *r);
void irqroute_route_msi_on(struct irqroute_route *r);
void irqroute_route_msi_off(struct irqroute_route *r);
bool irqroute_route_unmask(struct irqroute_route *r, bool clear_mask);

/* shm.c: the shared page */
int irqroute_shm_init(struct irqroute *ir);
void irqroute_shm_free(struct irqroute *ir);
int irqroute_mmap(struct file *file, struct vm_area_struct *vma);

#endif /* IRQROUTE_PRIV_H */
