// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute: the VM's GSI routing table, owned by the attachment.
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so the module is its only
 * writer after attach: every commit sends the x86 defaults (optional), the
 * VMM's base routes and the MSI of every route that has one.
 *
 * A commit changes what a route's hand-off reaches, so it is ordered with
 * the gate: a route losing its MSI stops delivering before the table
 * changes; a route gaining one starts delivering (and delivers what is
 * pending) after it.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "irqroute.h"
#include "trace.h"

static bool irqroute_msi_cfg_equal(const struct irqroute_msi_cfg *a,
				   const struct irqroute_msi_cfg *b)
{
	if (a->valid != b->valid)
		return false;
	return !a->valid ||
	       (a->flags == b->flags && a->address_lo == b->address_lo &&
		a->address_hi == b->address_hi && a->data == b->data &&
		a->devid == b->devid);
}

/* The route's staged MSI is not the one in KVM's table (yet). */
bool irqroute_route_changed(const struct irqroute_route *r)
{
	return !irqroute_msi_cfg_equal(&r->staged, &r->committed);
}

/**
 * irqroute_route_set_staged - stage an MSI (or none) for a route
 * @r: a live route
 * @cfg: what the next commit installs
 *
 * The only writer of @r->staged: keeps the attachment's bitmaps right.
 * Context: ir->lock held.
 */
void irqroute_route_set_staged(struct irqroute_route *r,
			       const struct irqroute_msi_cfg *cfg)
{
	struct irqroute *ir = r->ir;

	lockdep_assert_held(&ir->lock);

	r->staged = *cfg;
	__set_bit(r->index, ir->changed);
	if (cfg->valid)
		__set_bit(r->index, ir->has_msi);
	else
		__clear_bit(r->index, ir->has_msi);
}

/* KVM's default x86 table (arch/x86/kvm/irq_comm.c): PIC and IOAPIC pins. */
static u32 irqroute_x86_defaults(struct kvm_irq_routing_entry *e)
{
	u32 gsi, n = 0;

	for (gsi = 0; gsi < 24; gsi++) {
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi },
		};
		if (gsi >= 16)
			continue;
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = {
				.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
						     KVM_IRQCHIP_PIC_SLAVE,
				.pin = gsi % 8,
			},
		};
	}
	return n;
}

static u32 irqroute_nr_defaults(struct irqroute *ir)
{
	return ir->flags & IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES ?
	       IRQROUTE_X86_DEFAULT_ENTRIES : 0;
}

/* Route @r's entry, as staged. */
static void irqroute_table_entry(const struct irqroute_route *r,
				 struct kvm_irq_routing_entry *e)
{
	*e = (struct kvm_irq_routing_entry){
		.gsi = irqroute_route_gsi(r),
		.type = KVM_IRQ_ROUTING_MSI,
		.flags = r->staged.flags,
		.u.msi = {
			.address_lo = r->staged.address_lo,
			.address_hi = r->staged.address_hi,
			.data = r->staged.data,
			.devid = r->staged.devid,
		},
	};
}

/* Entries the table can reach with @nr_base base routes. */
static u32 irqroute_table_need(struct irqroute *ir, u32 nr_base)
{
	return irqroute_nr_defaults(ir) + nr_base + ir->nr_routes;
}

/*
 * Make room in ir->table for @cap entries. Only grows: a VMM that set many
 * base routes once is likely to again. The old table's contents go; the
 * caller rebuilds.
 */
static int irqroute_table_reserve(struct irqroute *ir, u32 cap)
{
	struct kvm_irq_routing *t;

	if (cap <= ir->table_cap)
		return 0;
	t = kvzalloc(struct_size(t, entries, cap), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	kvfree(ir->table);
	ir->table = t;
	ir->table_cap = cap;
	ir->table_built = false;
	return 0;
}

/*
 * Write the whole staged table into ir->table, which has room for
 * ir->table_cap entries; attach and set_base_routes make that room,
 * checked again here where the buffer is written. Records where each
 * route's entry is, for irqroute_table_update().
 */
static int irqroute_table_build(struct irqroute *ir)
{
	struct kvm_irq_routing *t = ir->table;
	struct kvm_irq_routing_entry *e = t->entries;
	u32 i, n;

	if (WARN_ON_ONCE(irqroute_table_need(ir, ir->nr_base) > ir->table_cap))
		return -EOVERFLOW;
	n = irqroute_nr_defaults(ir) ? irqroute_x86_defaults(e) : 0;
	memcpy(e + n, ir->base, ir->nr_base * sizeof(*e));
	n += ir->nr_base;

	bitmap_zero(ir->in_table, ir->nr_routes);
	for_each_set_bit(i, ir->has_msi, ir->nr_routes) {
		struct irqroute_route *r = irqroute_route_at(ir, i);

		if (WARN_ON_ONCE(!r || !r->staged.valid))
			continue;
		__set_bit(i, ir->in_table);
		ir->table_pos[i] = n;
		irqroute_table_entry(r, &e[n++]);
	}
	t->nr = n;
	t->flags = 0;
	ir->table_built = true;
	return 0;
}

/*
 * Bring ir->table up to the staged state. A route whose MSI changed but
 * that had one already (a retarget, the common case) is patched in place;
 * anything that moves entries (a route gaining or losing its MSI, new
 * base routes, a destroyed route, a table KVM refused) rebuilds it all.
 * *@patched says which: only the entries of ir->changed's routes differ
 * from the table the last commit sent, which succeeded (a failed commit
 * clears ir->table_built).
 */
static int irqroute_table_update(struct irqroute *ir, bool *patched)
{
	struct kvm_irq_routing *t = ir->table;
	u32 i;

	lockdep_assert_held(&ir->lock);

	*patched = false;
	if (!ir->table_built)
		return irqroute_table_build(ir);
	for_each_set_bit(i, ir->changed, ir->nr_routes) {
		struct irqroute_route *r = irqroute_route_at(ir, i);

		if (!r || r->staged.valid != test_bit(i, ir->in_table))
			return irqroute_table_build(ir);
		if (r->staged.valid)
			irqroute_table_entry(r, &t->entries[ir->table_pos[i]]);
	}
	*patched = true;
	return 0;
}

/* Bytes of the built table: the header and its entries. */
static size_t irqroute_table_size(struct irqroute *ir)
{
	return struct_size(ir->table, entries, ir->table->nr);
}

/**
 * irqroute_commit - send the staged table to KVM if anything changed
 * @ir: the attachment
 * @force: send it even if no route changed (base routes did)
 *
 * On failure KVM keeps its previous table, and so do the routes; the
 * staged changes stay staged and the caller decides what to drop.
 * Context: ir->lock held, current->mm == ir->mm.
 * Return: 0 or KVM's negative errno.
 */
int irqroute_commit(struct irqroute *ir, bool force)
{
	struct irqroute_route *r;
	bool changed = force || ir->dirty;
	bool patched;
	u32 i;
	int ret;

	lockdep_assert_held(&ir->lock);

	/* Only routes staged since the last commit can differ. */
	for_each_set_bit(i, ir->changed, ir->nr_routes) {
		if (changed)
			break;
		r = irqroute_route_at(ir, i);
		changed = r && irqroute_route_changed(r);
	}
	if (!changed) {
		bitmap_zero(ir->changed, ir->nr_routes);
		ir->stats.commits_skipped++;
		trace_irqroute_commit(ir->gsi_base, 0, true, 0);
		return 0;
	}

	for_each_set_bit(i, ir->changed, ir->nr_routes) {
		r = irqroute_route_at(ir, i);
		if (r && r->committed.valid && !r->staged.valid)
			irqroute_route_msi_off(r);
	}

	if (force)
		ir->table_built = false;
	ret = irqroute_table_update(ir, &patched);
	if (!ret)
		ret = irqroute_table_ioctl(ir, irqroute_table_size(ir),
					   patched);
	/* What KVM refused is not what it has: build afresh next time. */
	if (ret)
		ir->table_built = false;
	if (IRQROUTE_CANARY(commit_error_ignored))
		ret = 0;
	trace_irqroute_commit(ir->gsi_base, ir->table->nr, false, ret);

	for_each_set_bit(i, ir->changed, ir->nr_routes) {
		bool had_msi;

		r = irqroute_route_at(ir, i);
		if (!r || !irqroute_route_changed(r))
			continue;
		had_msi = r->committed.valid;
		if (ret) {
			/* KVM kept its table: undo msi_off, keep what is staged. */
			if (had_msi)
				irqroute_route_msi_on(r);
			continue;
		}
		r->committed = r->staged;
		if (r->committed.valid && !had_msi)
			irqroute_route_msi_on(r);
	}
	if (ret)
		return ret;
	bitmap_zero(ir->changed, ir->nr_routes);
	ir->dirty = false;
	ir->stats.commits++;
	return 0;
}

/**
 * irqroute_commit_staged - IRQROUTE_COMMIT
 * @ir: the attachment
 *
 * A batch KVM refuses is dropped whole: the routes keep their committed
 * MSIs, so one bad entry cannot block every later commit.
 * Context: ir->lock held, current->mm == ir->mm.
 */
int irqroute_commit_staged(struct irqroute *ir)
{
	u32 i;
	int ret;

	lockdep_assert_held(&ir->lock);

	ret = irqroute_commit(ir, false);
	if (!ret)
		return 0;
	for_each_set_bit(i, ir->changed, ir->nr_routes) {
		struct irqroute_route *r = irqroute_route_at(ir, i);

		if (r)
			irqroute_route_set_staged(r, &r->committed);
	}
	/* Nothing differs any more. */
	bitmap_zero(ir->changed, ir->nr_routes);
	return ret;
}

/**
 * irqroute_set_base_routes - IRQROUTE_SET_BASE_ROUTES
 * @ir: the attachment
 * @data: the request, struct irqroute_base_routes
 *
 * Context: ir->lock held, current->mm == ir->mm.
 */
int irqroute_set_base_routes(struct irqroute *ir, void *data)
{
	struct irqroute_base_routes *arg = data;
	struct kvm_irq_routing_entry *old = ir->base, *e = NULL;
	u32 old_nr = ir->nr_base, i, used;
	int ret;

	lockdep_assert_held(&ir->lock);

	if (arg->flags || arg->__reserved)
		return -EINVAL;
	/* Attach keeps used <= IRQROUTE_MAX_ROUTES. */
	used = ir->nr_routes + irqroute_nr_defaults(ir);
	if (arg->nr > IRQROUTE_MAX_ROUTES - used)
		return -EINVAL;

	if (arg->nr) {
		e = vmemdup_user(u64_to_user_ptr(arg->entries),
				 array_size(arg->nr, sizeof(*e)));
		if (IS_ERR(e))
			return PTR_ERR(e);
	}
	for (i = 0; i < arg->nr; i++) {
		if (e[i].gsi >= IRQROUTE_MAX_ROUTES ||
		    (e[i].gsi >= ir->gsi_base &&
		     e[i].gsi - ir->gsi_base < ir->nr_routes)) {
			kvfree(e);
			return -EINVAL;
		}
	}
	ret = irqroute_table_reserve(ir, irqroute_table_need(ir, arg->nr));
	if (ret) {
		kvfree(e);
		return ret;
	}

	ir->base = e;
	ir->nr_base = arg->nr;
	ret = irqroute_commit(ir, true);
	if (ret) {
		ir->base = old;
		ir->nr_base = old_nr;
		kvfree(e);
		return ret;
	}
	kvfree(old);
	return 0;
}

int irqroute_table_init(struct irqroute *ir)
{
	size_t longs = BITS_TO_LONGS(ir->nr_routes);

	ir->base = NULL;
	ir->nr_base = 0;
	ir->dirty = true;
	ir->table_built = false;
	/* One allocation for the three bitmaps. */
	ir->changed = kvcalloc(3 * longs, sizeof(long), GFP_KERNEL_ACCOUNT);
	if (!ir->changed)
		return -ENOMEM;
	ir->has_msi = ir->changed + longs;
	ir->in_table = ir->changed + 2 * longs;
	ir->table_pos = kvcalloc(ir->nr_routes, sizeof(*ir->table_pos),
				 GFP_KERNEL_ACCOUNT);
	ir->table = NULL;
	ir->table_cap = 0;
	if (!ir->table_pos ||
	    irqroute_table_reserve(ir, irqroute_table_need(ir, 0))) {
		irqroute_table_free(ir);
		return -ENOMEM;
	}
	return 0;
}

void irqroute_table_free(struct irqroute *ir)
{
	kvfree(ir->base);
	ir->base = NULL;
	ir->nr_base = 0;
	kvfree(ir->changed);
	ir->changed = NULL;
	ir->has_msi = NULL;
	ir->in_table = NULL;
	kvfree(ir->table_pos);
	ir->table_pos = NULL;
	kvfree(ir->table);
	ir->table = NULL;
	ir->table_cap = 0;
}
