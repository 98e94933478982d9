/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * irqroute: race-free MSI routing and masking for KVM guests.
 *
 * A VMM opens /dev/irqroute, attaches the file to one of its KVM VM file
 * descriptors and creates routes: one GSI plus one trigger eventfd each.
 * A signal on the trigger eventfd is injected into the guest as the MSI set
 * for the route, unless the route is masked or has no MSI, in which case
 * the route's bit in the pending bitmap of the shared page is set.
 *
 * Conventions of this interface:
 *  - Every argument struct starts with __u32 size (the size userspace
 *    knows) and __u32 flags. Shorter than the first version of the struct:
 *    EINVAL. Longer: the tail the kernel does not know must be zero
 *    (E2BIG otherwise; also E2BIG above a page). New fields are only ever
 *    appended.
 *  - An ioctl that returns data first checks that the argument is
 *    writable (EFAULT before any side effect).
 *  - Unknown flags and non-zero reserved fields: EINVAL.
 *  - The ioctl number is matched exactly, the size encoded in it
 *    included; the size field says how much userspace passed.
 *  - Unknown ioctls: ENOTTY.
 *
 * Documentation/irqroute.rst describes every ioctl and its errors.
 */
#ifndef _UAPI_LINUX_IRQROUTE_H
#define _UAPI_LINUX_IRQROUTE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define IRQROUTE_API_VERSION	1

/* KVM's KVM_MAX_IRQ_ROUTES: GSIs are 0 .. IRQROUTE_MAX_ROUTES - 1. */
#define IRQROUTE_MAX_ROUTES	4096

#define IRQROUTE_TYPE		0xE1

/*
 * Ioctl numbers are banded: 0x00-0x0f the attachment, 0x10-0x1f routes.
 */

/**
 * struct irqroute_info - IRQROUTE_GET_INFO
 * @size: sizeof(struct irqroute_info)
 * @flags: must be 0
 * @api_version: out, IRQROUTE_API_VERSION
 * @max_routes: out, GSIs available in total (IRQROUTE_MAX_ROUTES)
 * @shm_size: out, length to pass to mmap() for the shared page
 * @attach_flags: out, the IRQROUTE_ATTACH_F_* flags this module accepts
 * @msi_flags: out, the IRQROUTE_MSI_F_* flags this module accepts
 * @__reserved: out, zero
 *
 * May be called before IRQROUTE_ATTACH.
 */
struct irqroute_info {
	__u32 size;
	__u32 flags;
	__u32 api_version;
	__u32 max_routes;
	__u32 shm_size;
	__u32 attach_flags;
	__u32 msi_flags;
	__u32 __reserved;
};

#define IRQROUTE_GET_INFO	_IOWR(IRQROUTE_TYPE, 0x00, struct irqroute_info)

/*
 * Every committed table starts with KVM's x86 default table (GSIs 0-23 to
 * the PIC and IOAPIC pins, 40 entries), before the base routes. The route
 * range must then start at GSI 24 or above and hold at most 4056 routes.
 */
#define IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES	0x1
#define IRQROUTE_ATTACH_F_VALID			(IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES)

/**
 * struct irqroute_attach - IRQROUTE_ATTACH
 * @size: sizeof(struct irqroute_attach)
 * @flags: IRQROUTE_ATTACH_F_*
 * @vm_fd: a KVM VM file descriptor of the calling process
 * @gsi_base: first GSI of the route range
 * @nr_routes: number of routes (and GSIs) in the range, 1 .. 4096;
 *	@gsi_base + @nr_routes must not exceed IRQROUTE_MAX_ROUTES
 * @shm_size: out, length of the shared page mapping
 * @scratch: user address of IRQROUTE_SCRATCH_SIZE bytes of the VMM's
 *	memory, readable and writable (anonymous memory), or 0. KVM reads
 *	the arguments of its ioctls from user memory: the module writes the
 *	routing table and KVM_IRQFD's argument there, with copy_to_user(),
 *	right before each KVM ioctl it makes. The VMM must not use it for
 *	anything else. With 0 the module maps anonymous memory for each of
 *	its KVM ioctls and unmaps it right after (slower: an unmap may
 *	interrupt every CPU that runs a VMM thread). libirqroute passes one.
 *
 * Attaches this file to the VM, once. From now on the module owns the VM's
 * GSI routing table and commits it immediately (base routes plus route
 * MSIs): call it after KVM_CREATE_IRQCHIP. Only one irqroute file may be
 * attached to a VM at a time (EBUSY). The attachment lives as long as the
 * irqroute file; it holds a reference on the VM file.
 */
struct irqroute_attach {
	__u32 size;
	__u32 flags;
	__s32 vm_fd;
	__u32 gsi_base;
	__u32 nr_routes;
	__u32 shm_size;
	__u64 scratch;
};

/*
 * struct kvm_irq_routing with IRQROUTE_MAX_ROUTES entries, then a struct
 * kvm_irqfd, rounded up to 4 KiB.
 */
#define IRQROUTE_SCRATCH_SIZE	0x31000

#define IRQROUTE_ATTACH		_IOWR(IRQROUTE_TYPE, 0x01, struct irqroute_attach)

/**
 * struct irqroute_base_routes - IRQROUTE_SET_BASE_ROUTES
 * @size: sizeof(struct irqroute_base_routes)
 * @flags: must be 0
 * @nr: number of entries at @entries (0 removes all base routes)
 * @__reserved: must be 0
 * @entries: user pointer to @nr struct kvm_irq_routing_entry
 *
 * Replaces the VMM's own routes (IOAPIC/PIC pins, emulated devices' MSIs)
 * and commits the table. No entry may use a GSI of the route range. KVM
 * validates the entries themselves; if it refuses the table, the previous
 * base routes stay in force and KVM's errno is returned.
 */
struct irqroute_base_routes {
	__u32 size;
	__u32 flags;
	__u32 nr;
	__u32 __reserved;
	__u64 entries;
};

#define IRQROUTE_SET_BASE_ROUTES _IOW(IRQROUTE_TYPE, 0x02, struct irqroute_base_routes)

/**
 * struct irqroute_commit - IRQROUTE_COMMIT
 * @size: sizeof(struct irqroute_commit)
 * @flags: must be 0
 *
 * Commits the MSI changes staged with IRQROUTE_MSI_F_DEFER in one routing
 * table update. A commit that would change nothing does not reach KVM.
 * Any commit (this one, or a SET_MSI/CLEAR_MSI without DEFER) sends every
 * staged change. If KVM refuses the table, KVM keeps its previous table
 * and its errno is returned; IRQROUTE_COMMIT then drops every staged
 * change, a SET_MSI/CLEAR_MSI drops only its own.
 */
struct irqroute_commit {
	__u32 size;
	__u32 flags;
};

#define IRQROUTE_COMMIT		_IOW(IRQROUTE_TYPE, 0x03, struct irqroute_commit)

/* @index is an input: create the route at that index (restore, groups). */
#define IRQROUTE_CREATE_F_INDEX		0x1
#define IRQROUTE_CREATE_F_VALID		(IRQROUTE_CREATE_F_INDEX)

/**
 * struct irqroute_route_create - IRQROUTE_ROUTE_CREATE
 * @size: sizeof(struct irqroute_route_create)
 * @flags: IRQROUTE_CREATE_F_*
 * @trigger_fd: the eventfd the interrupt source signals (what a VMM hands
 *	to VFIO). The module waits on it; nothing else may consume it.
 * @irqfd_fd: a fresh eventfd, distinct from @trigger_fd, that the module
 *	binds to the route's GSI with KVM_IRQFD and keeps. The caller should
 *	close its own descriptor afterwards and must not signal it.
 * @index: out, the route's index in the range (bit @index of the shared
 *	bitmaps): the lowest free one. With IRQROUTE_CREATE_F_INDEX, in: the
 *	index the route must have (EINVAL outside the range, EBUSY if a
 *	route has it).
 * @gsi: out, the route's GSI (gsi_base + @index)
 * @__reserved: must be 0
 *
 * The route starts unmasked and without an MSI; it is pending only if the
 * trigger was already signalled. Fails with ENOSPC when all nr_routes
 * routes exist.
 */
struct irqroute_route_create {
	__u32 size;
	__u32 flags;
	__s32 trigger_fd;
	__s32 irqfd_fd;
	__u32 index;
	__u32 gsi;
	__u32 __reserved[2];
};

#define IRQROUTE_ROUTE_CREATE	_IOWR(IRQROUTE_TYPE, 0x10, struct irqroute_route_create)

/* Stage the change; it takes effect at the next IRQROUTE_COMMIT. */
#define IRQROUTE_MSI_F_DEFER	0x1
/* @devid is valid (arm64 GICv3 ITS); KVM decides whether it supports it. */
#define IRQROUTE_MSI_F_DEVID	0x2
#define IRQROUTE_MSI_F_VALID	(IRQROUTE_MSI_F_DEFER | IRQROUTE_MSI_F_DEVID)

/**
 * struct irqroute_msi - IRQROUTE_SET_MSI
 * @size: sizeof(struct irqroute_msi)
 * @flags: IRQROUTE_MSI_F_*
 * @index: the route
 * @data: MSI data
 * @address_lo: MSI address, low 32 bits
 * @address_hi: MSI address, high 32 bits
 * @devid: device id, with IRQROUTE_MSI_F_DEVID only (0 otherwise)
 * @__reserved: must be 0
 *
 * Routes the GSI to this MSI. If the route becomes deliverable (unmasked
 * and with an MSI) while its pending bit is set, that interrupt is
 * delivered once the table is committed, and the bit cleared.
 */
struct irqroute_msi {
	__u32 size;
	__u32 flags;
	__u32 index;
	__u32 data;
	__u32 address_lo;
	__u32 address_hi;
	__u32 devid;
	__u32 __reserved;
};

#define IRQROUTE_SET_MSI	_IOW(IRQROUTE_TYPE, 0x11, struct irqroute_msi)

/**
 * struct irqroute_route_op - destroy, clear_msi, mask, unmask, consume
 * @size: sizeof(struct irqroute_route_op)
 * @flags: IRQROUTE_MSI_F_DEFER for IRQROUTE_CLEAR_MSI,
 *	IRQROUTE_UNMASK_F_PENDING_ONLY for IRQROUTE_UNMASK,
 *	IRQROUTE_DESTROY_F_HANDOVER for IRQROUTE_ROUTE_DESTROY, else 0
 * @index: the route
 * @result: IRQROUTE_CONSUME_PENDING only (out): 1 if the pending bit was
 *	set (it is now clear), else 0. The other ioctls neither read nor
 *	write it.
 *
 * IRQROUTE_ROUTE_DESTROY: unregisters the route and frees its GSI; when it
 *	returns, no callback of the route runs any more.
 * IRQROUTE_CLEAR_MSI: the route stays registered; signals set its pending
 *	bit until the next IRQROUTE_SET_MSI.
 * IRQROUTE_MASK / IRQROUTE_UNMASK / IRQROUTE_CONSUME_PENDING: the ioctl
 *	forms of the shared page operations below.
 */
struct irqroute_route_op {
	__u32 size;
	__u32 flags;
	__u32 index;
	__u32 result;
};

/*
 * IRQROUTE_UNMASK flag: leave the mask bit alone (the VMM cleared it in the
 * shared page) and only deliver the pending interrupt if the route is
 * deliverable now. A mask set meanwhile by another thread then stands.
 */
#define IRQROUTE_UNMASK_F_PENDING_ONLY	0x1

/*
 * IRQROUTE_ROUTE_DESTROY flag: hand a pending interrupt back to the trigger
 * eventfd (its counter goes up by one), so that the next route made on
 * that trigger, on this attachment or another one, starts pending. Moves a
 * route to a new VM without losing an edge.
 */
#define IRQROUTE_DESTROY_F_HANDOVER	0x1

#define IRQROUTE_ROUTE_DESTROY	_IOW(IRQROUTE_TYPE, 0x12, struct irqroute_route_op)
#define IRQROUTE_CLEAR_MSI	_IOW(IRQROUTE_TYPE, 0x13, struct irqroute_route_op)
#define IRQROUTE_MASK		_IOW(IRQROUTE_TYPE, 0x14, struct irqroute_route_op)
#define IRQROUTE_UNMASK		_IOW(IRQROUTE_TYPE, 0x15, struct irqroute_route_op)
#define IRQROUTE_CONSUME_PENDING _IOWR(IRQROUTE_TYPE, 0x16, struct irqroute_route_op)

/* struct irqroute_route_info.state bits */
#define IRQROUTE_ROUTE_S_MSI		0x1	/* the route has an MSI */
#define IRQROUTE_ROUTE_S_DEVID		0x2	/* ... with @devid valid */
#define IRQROUTE_ROUTE_S_UNCOMMITTED	0x4	/* the MSI is staged, not in KVM's table yet */
#define IRQROUTE_ROUTE_S_MASKED		0x8	/* the mask bit is set */
#define IRQROUTE_ROUTE_S_PENDING	0x10	/* the pending bit is set */

/**
 * struct irqroute_route_info - IRQROUTE_ROUTE_GET
 * @size: sizeof(struct irqroute_route_info)
 * @flags: must be 0
 * @index: the route
 * @gsi: out, the route's GSI
 * @state: out, IRQROUTE_ROUTE_S_*
 * @data: out, MSI data (with IRQROUTE_ROUTE_S_MSI, else 0)
 * @address_lo: out, MSI address, low 32 bits
 * @address_hi: out, MSI address, high 32 bits
 * @devid: out, device id (with IRQROUTE_ROUTE_S_DEVID, else 0)
 * @__reserved: out, zero
 *
 * Reads a route's state: the MSI it was last given (staged by a deferred
 * call or committed) and its mask and pending bits at the time of the
 * call, for saving it (live migration, snapshot). Nothing is consumed.
 */
struct irqroute_route_info {
	__u32 size;
	__u32 flags;
	__u32 index;
	__u32 gsi;
	__u32 state;
	__u32 data;
	__u32 address_lo;
	__u32 address_hi;
	__u32 devid;
	__u32 __reserved;
};

#define IRQROUTE_ROUTE_GET	_IOWR(IRQROUTE_TYPE, 0x17, struct irqroute_route_info)

/*
 * IRQROUTE_SET_MSIS entry flag: clear the route's MSI (as IRQROUTE_CLEAR_MSI);
 * @data, @address_lo, @address_hi and @devid must then be 0. Not accepted by
 * IRQROUTE_SET_MSI. GET_INFO's msi_flags has it when SET_MSIS exists.
 */
#define IRQROUTE_MSI_F_CLEAR	0x4
#define IRQROUTE_MSIS_ENTRY_F_VALID	(IRQROUTE_MSI_F_DEVID | IRQROUTE_MSI_F_CLEAR)

/**
 * struct irqroute_msis - IRQROUTE_SET_MSIS
 * @size: sizeof(struct irqroute_msis)
 * @flags: must be 0
 * @nr: number of entries at @entries, 0 .. nr_routes
 * @failed: out, also on error: the position in @entries of the entry that
 *	made the call fail, or @nr if no single entry did (success, or a
 *	failure of the table or of the call as a whole). Left as passed
 *	when the call fails before it is handled (ENODEV, EPERM, EINTR,
 *	errors of the struct itself)
 * @entries: user pointer to @nr struct irqroute_msi, each with @size
 *	sizeof(struct irqroute_msi) and @flags IRQROUTE_MSIS_ENTRY_F_VALID
 *	bits only (no IRQROUTE_MSI_F_DEFER); one entry per route at most
 *
 * Sets or clears the MSIs of several routes as one unit, in one routing
 * table update: every entry is checked before any is staged, and if KVM
 * refuses the table, every route of the call keeps the MSI it had (other
 * changes staged with IRQROUTE_MSI_F_DEFER stay staged). Like any commit,
 * it also sends the changes staged with IRQROUTE_MSI_F_DEFER.
 */
struct irqroute_msis {
	__u32 size;
	__u32 flags;
	__u32 nr;
	__u32 failed;
	__u64 entries;
};

#define IRQROUTE_SET_MSIS	_IOWR(IRQROUTE_TYPE, 0x18, struct irqroute_msis)

/**
 * struct irqroute_stats - IRQROUTE_GET_STATS
 * @size: sizeof(struct irqroute_stats)
 * @flags: must be 0
 * @signals: out, trigger signals seen by the gate
 * @delivered: out, hand-offs to KVM (injections requested)
 * @pended: out, signals that set a pending bit (masked or no MSI)
 * @commits: out, routing table updates sent to KVM
 * @commits_skipped: out, commits that changed nothing and were skipped
 * @feedback: out, signals that came from another route's hand-off (a
 *	loop of eventfds) and were held pending instead of forwarded
 * @deferred: out, hand-offs from a gate that went through the irq_work
 *	(one self-IPI later) instead of waking KVM's irqfd directly;
 *	counted in @delivered when they reach KVM. Added after the first
 *	version: a caller passing the shorter struct does not get it.
 *
 * Counters of the attachment since IRQROUTE_ATTACH.
 */
struct irqroute_stats {
	__u32 size;
	__u32 flags;
	__u64 signals;
	__u64 delivered;
	__u64 pended;
	__u64 commits;
	__u64 commits_skipped;
	__u64 feedback;
	__u64 deferred;
};

#define IRQROUTE_GET_STATS	_IOWR(IRQROUTE_TYPE, 0x04, struct irqroute_stats)

/**
 * struct irqroute_delegate - IRQROUTE_DELEGATE
 * @size: sizeof(struct irqroute_delegate)
 * @flags: must be 0
 * @first: first index of the delegated range (a device's vectors)
 * @count: indices in the range, 1 .. nr_routes - @first
 * @fd: out, the delegation file descriptor (O_CLOEXEC)
 * @__reserved: must be 0
 *
 * Makes a narrower capability for a sandboxed device process, to pass it
 * with SCM_RIGHTS: on the new file only IRQROUTE_MASK, IRQROUTE_UNMASK,
 * IRQROUTE_CONSUME_PENDING and IRQROUTE_ROUTE_GET work, from any process,
 * and their @index is relative to @first (0 .. @count - 1; EINVAL beyond). Nothing else: no
 * routing, no attach, no mmap, no other route. It does not keep the
 * attachment alive: once the irqroute file is released, its ioctls fail
 * with ENODEV.
 */
struct irqroute_delegate {
	__u32 size;
	__u32 flags;
	__u32 first;
	__u32 count;
	__s32 fd;
	__u32 __reserved;
};

#define IRQROUTE_DELEGATE	_IOWR(IRQROUTE_TYPE, 0x05, struct irqroute_delegate)

/*
 * The shared page: mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED,
 * fd, 0) after IRQROUTE_ATTACH, by the VMM process (EPERM otherwise).
 * MAP_PRIVATE (or MAP_SHARED of an O_RDONLY file, which mmap makes
 * private), another offset, or a length that is not one page: EINVAL.
 * Before attach: ENODEV. The mapping is not inherited across fork().
 *
 *   offset 0                         struct irqroute_shm_header
 *   offset IRQROUTE_SHM_MASK_OFFSET    mask bitmap, IRQROUTE_MAX_ROUTES bits
 *   offset IRQROUTE_SHM_PENDING_OFFSET pending bitmap, laid out like an
 *                                       MSI-X PBA: bit i of __u64 word i/64
 *
 * Route @index owns bit @index of both bitmaps. Userspace uses them only
 * with atomic operations (sequentially consistent, or at least the
 * orderings described here):
 *  - mask: atomically set the mask bit.
 *  - consume_pending: atomically clear the pending bit, returning its
 *    old value.
 *  - unmask: atomically clear the mask bit (a full barrier), then read the
 *    pending bit; if it is set, call IRQROUTE_UNMASK with
 *    IRQROUTE_UNMASK_F_PENDING_ONLY, which delivers it. Without that call
 *    the interrupt stays pending, never lost.
 * The kernel reads only a route's own bits and never trusts the header.
 * The module is built for 64-bit kernels only, where the kernel's bitops on
 * unsigned long are exactly these __u64 words.
 */
#define IRQROUTE_SHM_MAGIC		0x49525154	/* "IRQT" */
#define IRQROUTE_SHM_VERSION		1
#define IRQROUTE_SHM_MASK_OFFSET	0x400
#define IRQROUTE_SHM_PENDING_OFFSET	0x800

/**
 * struct irqroute_shm_header - start of the shared page, written at attach
 * @magic: IRQROUTE_SHM_MAGIC
 * @version: IRQROUTE_SHM_VERSION
 * @nr_routes: routes in the range
 * @gsi_base: first GSI of the range
 * @mask_offset: IRQROUTE_SHM_MASK_OFFSET
 * @pending_offset: IRQROUTE_SHM_PENDING_OFFSET
 * @__reserved: zero
 */
struct irqroute_shm_header {
	__u32 magic;
	__u32 version;
	__u32 nr_routes;
	__u32 gsi_base;
	__u32 mask_offset;
	__u32 pending_offset;
	__u32 __reserved[10];
};

#endif /* _UAPI_LINUX_IRQROUTE_H */
