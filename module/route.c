// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute: routes. Each owns one GSI of the attachment's range, a gate on
 * the trigger eventfd (gate.c) and a KVM irqfd on a private eventfd that
 * only the route's hand-off signals.
 */
#include <linux/bitmap.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "irqroute.h"
#include "trace.h"

/* Look up a live route by a user-supplied index. */
static struct irqroute_route *irqroute_route_get(struct irqroute *ir, u32 index)
{
	struct irqroute_route *r;

	lockdep_assert_held(&ir->lock);
	if (index >= ir->nr_routes)
		return ERR_PTR(-EINVAL);
	r = irqroute_route_at(ir, array_index_nospec(index, ir->nr_routes));
	return r ?: ERR_PTR(-ENOENT);
}

/*
 * The same without ir->lock, in an RCU read-side critical section: the
 * route may be on its way out (see irqroute_unmask_pending()), but its
 * memory stays until the section ends (kfree_rcu).
 */
static struct irqroute_route *irqroute_route_get_rcu(struct irqroute *ir,
						     u32 index)
{
	struct irqroute_route *r;

	if (index >= ir->nr_routes)
		return ERR_PTR(-EINVAL);
	index = array_index_nospec(index, ir->nr_routes);
	r = rcu_dereference(ir->routes[index]);
	return r ?: ERR_PTR(-ENOENT);
}

static int irqroute_route_op_get(struct irqroute *ir,
				 struct irqroute_route_op *op, u32 valid_flags,
				 struct irqroute_route **rp)
{
	if (op->flags & ~valid_flags)
		return -EINVAL;
	*rp = irqroute_route_get(ir, op->index);
	return PTR_ERR_OR_ZERO(*rp);
}

/* Take an eventfd by descriptor: EBADF if closed, EBADFD if not an eventfd. */
static struct eventfd_ctx *irqroute_eventfd_get(int fd, struct file **filep)
{
	struct eventfd_ctx *ctx;
	struct file *file;

	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(ctx)) {
		fput(file);
		return ERR_PTR(-EBADFD);
	}
	*filep = file;
	return ctx;
}

/* Bind KVM's irqfd for the route's GSI to its private eventfd. */
static int irqroute_route_bind_irqfd(struct irqroute_route *r, int fd)
{
	struct kvm_irqfd irqfd = { .fd = fd, .gsi = irqroute_route_gsi(r) };

	return irqroute_irqfd_ioctl(r->ir, &irqfd);
}

/*
 * Take the gate off the trigger of a route that the VMM never learnt of
 * (its create failed) and give back what the gate took: a signal that came
 * in meanwhile was consumed and pended, and the VMM still expects to find
 * it on the trigger.
 */
static void irqroute_route_unwind(struct irqroute_route *r)
{
	bool counted = irqroute_gate_unregister(r);

	if (test_and_clear_bit(r->index, r->ir->pending) || counted)
		irqroute_eventfd_signal(r->trigger);
	clear_bit(r->index, r->ir->mask);
}

/**
 * irqroute_route_create - IRQROUTE_ROUTE_CREATE
 * @ir: the attachment
 * @data: the request, struct irqroute_route_create; @index and @gsi are
 *	filled in
 *
 * Context: ir->lock held, current->mm == ir->mm.
 */
int irqroute_route_create(struct irqroute *ir, void *data)
{
	struct irqroute_route_create *arg = data;
	struct file *trigger_file, *irqfd_file;
	struct eventfd_ctx *trigger, *irqfd;
	struct irqroute_route *r;
	u32 index;
	int ret;

	lockdep_assert_held(&ir->lock);
	if (arg->flags & ~IRQROUTE_CREATE_F_VALID ||
	    memchr_inv(arg->__reserved, 0, sizeof(arg->__reserved)))
		return -EINVAL;
	if (arg->flags & IRQROUTE_CREATE_F_INDEX) {
		if (arg->index >= ir->nr_routes)
			return -EINVAL;
		index = array_index_nospec(arg->index, ir->nr_routes);
		if (rcu_access_pointer(ir->routes[index]))
			return -EBUSY;
	} else {
		for (index = 0; index < ir->nr_routes; index++)
			if (!rcu_access_pointer(ir->routes[index]))
				break;
		if (index == ir->nr_routes)
			return -ENOSPC;
	}

	trigger = irqroute_eventfd_get(arg->trigger_fd, &trigger_file);
	if (IS_ERR(trigger))
		return PTR_ERR(trigger);
	irqfd = irqroute_eventfd_get(arg->irqfd_fd, &irqfd_file);
	if (IS_ERR(irqfd)) {
		ret = PTR_ERR(irqfd);
		goto err_trigger;
	}
	ret = -EINVAL;
	if (irqfd == trigger)
		goto err_irqfd;

	/* Per-route memory: kmalloc-192 on x86-64 (bench row 11). */
	BUILD_BUG_ON(IS_ENABLED(CONFIG_X86_64) && sizeof(*r) > 192);
	ret = -ENOMEM;
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		goto err_irqfd;
	r->ir = ir;
	r->index = index;
	r->trigger = trigger;
	r->irqfd = irqfd;
	r->irqfd_file = irqfd_file;

	/* A new route: unmasked, nothing pending, no MSI. */
	clear_bit(index, ir->mask);
	clear_bit(index, ir->pending);
	__clear_bit(index, ir->has_msi);

	ret = irqroute_gate_register(r, trigger_file);
	if (ret)
		goto err_free;
	ret = irqroute_route_bind_irqfd(r, arg->irqfd_fd);
	if (ret)
		goto err_gate;
	/* irqfd_fd was replaced under us: KVM bound another file. */
	ret = -EBADF;
	if (!irqroute_gate_irqfd_bound(r))
		goto err_gate;

	fput(trigger_file);
	/* Published whole: a lockless unmask may look it up from now on. */
	rcu_assign_pointer(ir->routes[index], r);
	arg->index = index;
	arg->gsi = irqroute_route_gsi(r);
	trace_irqroute_route_create(irqroute_route_gsi(r), index, 0);
	return 0;

err_gate:
	irqroute_route_unwind(r);
err_free:
	kfree_rcu(r, rcu);
err_irqfd:
	eventfd_ctx_put(irqfd);
	fput(irqfd_file);
err_trigger:
	eventfd_ctx_put(trigger);
	fput(trigger_file);
	trace_irqroute_route_create(ir->gsi_base + index, index, ret);
	return ret;
}

/* The rest of irqroute_route_free(), once the gate is off the trigger. */
static void irqroute_route_release(struct irqroute_route *r)
{
	struct irqroute *ir = r->ir;

	if (r->committed.valid)
		ir->dirty = true;
	/* Its MSI leaves the table at the next commit. */
	__clear_bit(r->index, ir->has_msi);
	if (test_bit(r->index, ir->in_table))
		ir->table_built = false;
	eventfd_ctx_put(r->irqfd);
	fput(r->irqfd_file);
	eventfd_ctx_put(r->trigger);
	clear_bit(r->index, ir->mask);
	clear_bit(r->index, ir->pending);
	/*
	 * No hand-off runs any more, but irq_work_single() may still be
	 * finishing with r->handoff (its interrupts-off section, which an RCU
	 * grace period waits for).
	 */
	kfree_rcu(r, rcu);
}

/**
 * irqroute_route_free - stop a route and release everything it holds
 * @r: a route no longer in ir->routes
 *
 * No callback of the route runs after this returns. Needs no KVM ioctl:
 * dropping the private eventfd makes KVM release the irqfd, and the GSI's
 * stale MSI leaves KVM's table at the next commit (nothing can signal it).
 * Context: process context.
 */
void irqroute_route_free(struct irqroute_route *r)
{
	irqroute_gate_unregister(r);
	irqroute_route_release(r);
}

int irqroute_route_destroy(struct irqroute *ir, void *data)
{
	struct irqroute_route_op *op = data;
	struct irqroute_route *r;
	int ret;

	ret = irqroute_route_op_get(ir, op, IRQROUTE_DESTROY_F_HANDOVER, &r);
	if (ret)
		return ret;
	RCU_INIT_POINTER(ir->routes[r->index], NULL);
	trace_irqroute_route_destroy(irqroute_route_gsi(r), r->index, 0);
	if (op->flags & IRQROUTE_DESTROY_F_HANDOVER) {
		/* A pending interrupt goes back to the trigger's counter. */
		irqroute_route_unwind(r);
		irqroute_route_release(r);
	} else {
		irqroute_route_free(r);
	}
	return 0;
}

/*
 * Take back a route whose index could not be copied out: as if the
 * create had failed, the trigger keeps what it was signalled.
 */
void irqroute_route_undo_create(struct irqroute *ir, u32 index)
{
	struct irqroute_route *r = irqroute_route_get(ir, index);

	if (IS_ERR(r))
		return;
	RCU_INIT_POINTER(ir->routes[index], NULL);
	irqroute_route_unwind(r);
	irqroute_route_release(r);
}

/*
 * Stage @cfg for @r and commit unless deferred. If KVM refuses the table,
 * only this call's change is dropped; other staged changes wait for
 * IRQROUTE_COMMIT. Inlined, one frame less under KVM's allocations (see
 * irqroute_kvm_ioctl_copy()).
 */
static __always_inline int
irqroute_route_stage(struct irqroute_route *r,
		     const struct irqroute_msi_cfg *cfg, bool defer)
{
	struct irqroute_msi_cfg old = r->staged;
	int ret;

	irqroute_route_set_staged(r, cfg);
	if (defer)
		return 0;
	ret = irqroute_commit(r->ir, false);
	if (ret)
		irqroute_route_set_staged(r, &old);
	return ret;
}

/* The MSI a struct irqroute_msi asks for (or none, IRQROUTE_MSI_F_CLEAR). */
static void irqroute_msi_cfg_of(const struct irqroute_msi *arg,
				struct irqroute_msi_cfg *cfg)
{
	if (arg->flags & IRQROUTE_MSI_F_CLEAR) {
		*cfg = (struct irqroute_msi_cfg){ .valid = false };
		return;
	}
	*cfg = (struct irqroute_msi_cfg){
		.valid = true,
		.flags = arg->flags & IRQROUTE_MSI_F_DEVID ?
			 KVM_MSI_VALID_DEVID : 0,
		.address_lo = arg->address_lo,
		.address_hi = arg->address_hi,
		.data = arg->data,
		.devid = arg->devid,
	};
}

int irqroute_set_msi(struct irqroute *ir, void *data)
{
	struct irqroute_msi *arg = data;
	struct irqroute_msi_cfg cfg;
	struct irqroute_route *r;

	if (arg->flags & ~IRQROUTE_MSI_F_VALID || arg->__reserved)
		return -EINVAL;
	if (!(arg->flags & IRQROUTE_MSI_F_DEVID) && arg->devid)
		return -EINVAL;
	r = irqroute_route_get(ir, arg->index);
	if (IS_ERR(r))
		return PTR_ERR(r);

	irqroute_msi_cfg_of(arg, &cfg);
	return irqroute_route_stage(r, &cfg, arg->flags & IRQROUTE_MSI_F_DEFER);
}

/* One entry of IRQROUTE_SET_MSIS, checked and staged. */
struct irqroute_msis_item {
	struct irqroute_route *r;
	struct irqroute_msi_cfg cfg;
};

/* Check one IRQROUTE_SET_MSIS entry; @seen holds the routes before it. */
static int irqroute_msis_check(struct irqroute *ir, const struct irqroute_msi *m,
			       unsigned long *seen,
			       struct irqroute_msis_item *item)
{
	struct irqroute_route *r;

	if (m->size != sizeof(*m) ||
	    m->flags & ~IRQROUTE_MSIS_ENTRY_F_VALID || m->__reserved)
		return -EINVAL;
	if (!(m->flags & IRQROUTE_MSI_F_DEVID) && m->devid)
		return -EINVAL;
	if (m->flags & IRQROUTE_MSI_F_CLEAR &&
	    (m->flags & IRQROUTE_MSI_F_DEVID || m->data || m->address_lo ||
	     m->address_hi))
		return -EINVAL;
	r = irqroute_route_get(ir, m->index);
	if (IS_ERR(r))
		return PTR_ERR(r);
	/* Two entries for one route: which should win is the caller's bug. */
	if (__test_and_set_bit(r->index, seen))
		return -EINVAL;
	item->r = r;
	irqroute_msi_cfg_of(m, &item->cfg);
	return 0;
}

/*
 * KVM_SET_GSI_ROUTING does not say which entry it refused. The only MSI
 * that x86 KVM refuses is one with address_hi bits 7:0 set in a VM that
 * uses x2APIC-format MSIs (kvm_msi_route_invalid()): on EINVAL, name the
 * first such entry. Anything else is the table's (@nr).
 */
static u32 irqroute_msis_refused(const struct irqroute_msi *e, u32 nr,
				 int err)
{
	u32 i;

	if (!IS_ENABLED(CONFIG_X86) || err != -EINVAL)
		return nr;
	for (i = 0; i < nr; i++)
		if (!(e[i].flags & IRQROUTE_MSI_F_CLEAR) &&
		    e[i].address_hi & 0xff)
			return i;
	return nr;
}

/**
 * irqroute_set_msis - IRQROUTE_SET_MSIS
 * @ir: the attachment
 * @data: the request, struct irqroute_msis; @failed is filled in, also
 *	on error
 *
 * All entries or none: every entry is checked before any is staged, and
 * a table KVM refuses puts back what each route had staged before.
 * Context: ir->lock held, current->mm == ir->mm.
 */
int irqroute_set_msis(struct irqroute *ir, void *data)
{
	struct irqroute_msis *arg = data;
	struct irqroute_msis_item *items = NULL;
	unsigned long *seen = NULL;
	struct irqroute_msi_cfg old;
	struct irqroute_msi *e;
	u32 i, nr = arg->nr;
	int ret;

	lockdep_assert_held(&ir->lock);
	arg->failed = nr;
	if (arg->flags || nr > ir->nr_routes)
		return -EINVAL;
	if (!nr)
		return 0;
	e = vmemdup_user(u64_to_user_ptr(arg->entries),
			 array_size(nr, sizeof(*e)));
	if (IS_ERR(e))
		return PTR_ERR(e);
	ret = -ENOMEM;
	items = kvmalloc_array(nr, sizeof(*items), GFP_KERNEL_ACCOUNT);
	seen = bitmap_zalloc(ir->nr_routes, GFP_KERNEL_ACCOUNT);
	if (!items || !seen)
		goto out;

	for (i = 0; i < nr; i++) {
		ret = irqroute_msis_check(ir, &e[i], seen, &items[i]);
		if (!ret && IRQROUTE_CANARY(msis_stage_unchecked))
			irqroute_route_set_staged(items[i].r, &items[i].cfg);
		if (ret) {
			arg->failed = i;
			goto out;
		}
	}
	/* Stage them all; items[] keeps what was staged, for a refusal. */
	for (i = 0; i < nr; i++) {
		old = items[i].r->staged;
		irqroute_route_set_staged(items[i].r, &items[i].cfg);
		items[i].cfg = old;
	}
	ret = irqroute_commit(ir, false);
	if (ret) {
		for (i = 0; i < nr; i++)
			irqroute_route_set_staged(items[i].r, &items[i].cfg);
		arg->failed = irqroute_msis_refused(e, nr, ret);
	}
out:
	bitmap_free(seen);
	kvfree(items);
	kvfree(e);
	return ret;
}

int irqroute_clear_msi(struct irqroute *ir, void *data)
{
	struct irqroute_route_op *op = data;
	static const struct irqroute_msi_cfg none = { .valid = false };
	struct irqroute_route *r;
	int ret;

	ret = irqroute_route_op_get(ir, op, IRQROUTE_MSI_F_DEFER, &r);
	if (ret)
		return ret;
	return irqroute_route_stage(r, &none, op->flags & IRQROUTE_MSI_F_DEFER);
}

int irqroute_mask(struct irqroute *ir, void *data)
{
	struct irqroute_route_op *op = data;
	struct irqroute_route *r;
	int ret;

	ret = irqroute_route_op_get(ir, op, 0, &r);
	if (ret)
		return ret;
	set_bit(r->index, ir->mask);
	trace_irqroute_mask(irqroute_route_gsi(r), r->index,
			    IRQROUTE_TRACE_MASK, false);
	return 0;
}

int irqroute_unmask(struct irqroute *ir, void *data)
{
	struct irqroute_route_op *op = data;
	bool only = op->flags & IRQROUTE_UNMASK_F_PENDING_ONLY;
	struct irqroute_route *r;
	bool fired;
	int ret;

	ret = irqroute_route_op_get(ir, op, IRQROUTE_UNMASK_F_PENDING_ONLY, &r);
	if (ret)
		return ret;
	fired = irqroute_route_unmask(r, !only);
	trace_irqroute_mask(irqroute_route_gsi(r), r->index,
			    only ? IRQROUTE_TRACE_UNMASK_PENDING :
				   IRQROUTE_TRACE_UNMASK, fired);
	return 0;
}

/**
 * irqroute_unmask_pending - IRQROUTE_UNMASK with PENDING_ONLY, lockless
 * @ir: the attachment
 * @data: the request, struct irqroute_route_op
 *
 * The unmask that delivers an edge the VMM found pending must not wait
 * behind a commit of another route, which holds ir->lock across
 * KVM_SET_GSI_ROUTING and its SRCU grace period. It only touches bits
 * and, if it wins the pending bit, signals the route's private eventfd,
 * the way the gate does: irqroute_route_unmask() counts itself in
 * r->running, so that destroy and MSI off, which clear the MSI bit and
 * wait for the count, either wait for it or make it see no MSI (it then
 * does nothing: an unmask racing the route's destroy may return 0
 * without delivering, as if it came first and destroy dropped the
 * pending edge). The route found may be on its way out: RCU keeps its
 * memory, and the count keeps r->irqfd referenced while it is signalled.
 *
 * Context: process context, without ir->lock; ir->attached was read with
 * acquire, and the caller is the VMM (current->mm == ir->mm) or holds a
 * delegation whose link lock keeps @ir alive.
 */
int irqroute_unmask_pending(struct irqroute *ir, void *data)
{
	struct irqroute_route_op *op = data;
	struct irqroute_route *r;
	bool fired;

	if (op->flags != IRQROUTE_UNMASK_F_PENDING_ONLY)
		return -EINVAL;
	rcu_read_lock();
	r = irqroute_route_get_rcu(ir, op->index);
	if (IS_ERR(r)) {
		rcu_read_unlock();
		return PTR_ERR(r);
	}
	fired = irqroute_route_unmask(r, false);
	trace_irqroute_mask(irqroute_route_gsi(r), r->index,
			    IRQROUTE_TRACE_UNMASK_PENDING, fired);
	rcu_read_unlock();
	return 0;
}

/*
 * Give back a pending interrupt that CONSUME_PENDING took but could not
 * report: pending again, or delivered if the route is deliverable now.
 */
void irqroute_route_repend(struct irqroute *ir, u32 index)
{
	struct irqroute_route *r = irqroute_route_get(ir, index);

	if (IS_ERR(r))
		return;
	set_bit(r->index, ir->pending);
	irqroute_route_unmask(r, false);
}

int irqroute_consume_pending(struct irqroute *ir, void *data)
{
	struct irqroute_route_op *op = data;
	struct irqroute_route *r;
	int ret;

	ret = irqroute_route_op_get(ir, op, 0, &r);
	if (!ret)
		op->result = test_and_clear_bit(r->index, ir->pending);
	return ret;
}

int irqroute_route_get_info(struct irqroute *ir, void *data)
{
	struct irqroute_route_info *info = data;
	const struct irqroute_msi_cfg *msi;
	struct irqroute_route *r;

	if (info->flags || info->__reserved)
		return -EINVAL;
	r = irqroute_route_get(ir, info->index);
	if (IS_ERR(r))
		return PTR_ERR(r);

	msi = &r->staged;
	*info = (struct irqroute_route_info){
		.size = info->size,
		.index = r->index,
		.gsi = irqroute_route_gsi(r),
	};
	if (msi->valid) {
		info->state |= IRQROUTE_ROUTE_S_MSI;
		info->data = msi->data;
		info->address_lo = msi->address_lo;
		info->address_hi = msi->address_hi;
		if (msi->flags & KVM_MSI_VALID_DEVID) {
			info->state |= IRQROUTE_ROUTE_S_DEVID;
			info->devid = msi->devid;
		}
	}
	if (irqroute_route_changed(r))
		info->state |= IRQROUTE_ROUTE_S_UNCOMMITTED;
	if (test_bit(r->index, ir->mask))
		info->state |= IRQROUTE_ROUTE_S_MASKED;
	if (test_bit(r->index, ir->pending))
		info->state |= IRQROUTE_ROUTE_S_PENDING;
	return 0;
}
