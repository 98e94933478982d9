// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-fuzz: the structs of each ioctl of /dev/irqroute, mostly valid
 * (so that attach, create and set_msi really succeed and the paths behind
 * them run), and every kind of wrong flag, reserved word, index and
 * descriptor; the results that can be checked are (call.c issues them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fuzz.h"

/* A live route of the slot (hint), in range, just out, or absurd. */
static uint32_t pick_index(struct fuzz_thread *t, const struct fuzz_irq_snap *s)
{
	static const uint32_t odd[] = { 0xffffffff, 0x80000000, 4096, 4095,
					0x7fffffff };
	uint32_t nr = s->nr_routes, r = rnd_below(t, 100);

	if (s->attached && nr && s->slot) {
		if (r < 65) {
			uint32_t start = rnd_below(t, nr), w, i;

			for (i = 0; i < 64; i++) {
				uint64_t bits;

				w = (start / 64 + i) % ((nr + 63) / 64);
				bits = __atomic_load_n(&s->slot->live[w],
						       __ATOMIC_RELAXED);
				if (bits)
					return w * 64 + __builtin_ctzll(bits);
			}
			return start;
		}
		if (r < 82)
			return rnd_below(t, nr);
		if (r < 90)
			return nr + rnd_below(t, 4);
	}
	r = rnd_below(t, 10);
	if (r < 5)
		return rnd_below(t, 64);
	if (r < 9)
		return odd[rnd_below(t, 5)];
	return rnd(t);
}

/* Did a successful route op name an index the file does not have? */
static void check_index(struct fuzz_thread *t, const struct fuzz_call *c,
			const struct fuzz_irq_snap *s, uint32_t index, int ret)
{
	if (!ret && c->checked && s->attached && index >= s->nr_routes)
		fuzz_impossible(t, "%s accepted index %u >= nr_routes %u",
				fuzz_op_name(c->op), index, s->nr_routes);
}

void op_get_info(struct fuzz_thread *t)
{
	struct irqroute_info *in = (void *)t->build, out;
	struct fuzz_call c = {
		.op = OP_GET_INFO, .cmd = IRQROUTE_GET_INFO,
		.ssize = sizeof(*in), .min = 32,
	};
	struct fuzz_irq_snap s;

	pick_irq(t, false, &s);
	memset(in, 0, sizeof(*in));
	in->flags = chance(t, 90) ? 0 : pick_flags(t, 0);
	in->__reserved = pick_reserved(t);
	if (chance(t, 20))
		in->shm_size = rnd(t);	/* out fields: ignored */
	c.bad_input = in->flags || in->__reserved;
	fuzz_ioctl(t, &s, &c, &out);
	if (c.out_valid && c.checked &&
	    (out.api_version != IRQROUTE_API_VERSION ||
	     out.max_routes != IRQROUTE_MAX_ROUTES ||
	     out.shm_size != fuzz_page_size ||
	     out.attach_flags != IRQROUTE_ATTACH_F_VALID ||
	     out.msi_flags != (IRQROUTE_MSI_F_VALID | IRQROUTE_MSI_F_CLEAR) || out.__reserved))
		fuzz_impossible(t, "GET_INFO returned api %u max %u shm %u flags %#x/%#x reserved %u",
				out.api_version, out.max_routes, out.shm_size,
				out.attach_flags, out.msi_flags,
				out.__reserved);
}

static bool attach_invalid(const struct irqroute_attach *a)
{
	bool x86 = a->flags & IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES;

	return (a->flags & ~IRQROUTE_ATTACH_F_VALID) || (a->scratch & 7) ||
	       a->scratch >= 1ull << 47 || !a->nr_routes ||
	       a->nr_routes > IRQROUTE_MAX_ROUTES ||
	       a->gsi_base > IRQROUTE_MAX_ROUTES - a->nr_routes ||
	       (x86 && (a->gsi_base < 24 || a->nr_routes > 4056));
}

/*
 * Mostly small ranges (ENOSPC and index reuse come quickly), some huge.
 * Mostly the slot's own scratch area (in whatever state the scratch game
 * left it: EFAULT is fine), sometimes none.
 */
static void build_attach(struct fuzz_thread *t, struct irqroute_attach *a,
			 int vm_fd, int slot, bool valid)
{
	uint32_t r = rnd_below(t, 100), max;

	memset(a, 0, sizeof(*a));
	a->vm_fd = vm_fd;
	if (slot >= 0 && chance(t, 75))
		a->scratch = (uintptr_t)scratch_addr(t->pool, slot);
	a->flags = chance(t, 70) ? IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES : 0;
	a->gsi_base = a->flags ? 24 + rnd_below(t, 40) : rnd_below(t, 64);
	max = IRQROUTE_MAX_ROUTES - a->gsi_base;
	if (a->flags && max > 4056)
		max = 4056;
	if (r < 60)
		a->nr_routes = 1 + rnd_below(t, 16);
	else if (r < 95)
		a->nr_routes = 1 + rnd_below(t, 256);
	else
		a->nr_routes = max - rnd_below(t, 2);
	if (valid)
		return;
	switch (rnd_below(t, 6)) {
	case 0:
		a->nr_routes = chance(t, 50) ? 0 : rnd(t);
		break;
	case 1:
		a->gsi_base = chance(t, 50) ? rnd_below(t, 24) : rnd(t);
		break;
	case 2:
		a->nr_routes = max + 1 + rnd_below(t, 64);
		break;
	case 3:
		a->flags = pick_flags(t, IRQROUTE_ATTACH_F_VALID);
		break;
	case 4:	/* unaligned, or not user memory */
		a->scratch = chance(t, 50) ? a->scratch | (1 + rnd_below(t, 7)) :
			     rnd(t) | 1ull << 63;
		break;
	default:
		a->shm_size = rnd(t);	/* output only */
		break;
	}
}

static int do_attach(struct fuzz_thread *t, struct fuzz_irq_snap *s,
		     int vm_fd, bool clean)
{
	struct irqroute_attach *a = (void *)t->build, out;
	struct fuzz_call c = {
		.op = OP_ATTACH, .cmd = IRQROUTE_ATTACH,
		.ssize = sizeof(*a), .min = sizeof(*a), .clean = clean,
	};
	uint32_t base, nr;
	int ret;

	build_attach(t, a, vm_fd, s->slot ? (int)(s->slot - t->pool->irq) : -1,
		     clean || chance(t, 85));
	base = a->gsi_base;
	nr = a->nr_routes;
	c.bad_input = attach_invalid(a);
	ret = fuzz_ioctl(t, s, &c, &out);
	if (ret)
		return ret;
	if (c.out_valid && out.shm_size != fuzz_page_size)
		fuzz_impossible(t, "ATTACH returned shm_size %u", out.shm_size);
	if (s->slot)
		irq_slot_attached(s->slot, s, base, nr);
	return 0;
}

int fuzz_attach(struct fuzz_thread *t, struct fuzz_irq *slot, int vm_fd)
{
	struct fuzz_irq_snap s;

	irq_snap(t, slot, &s);
	return do_attach(t, &s, vm_fd, true);
}

void op_attach(struct fuzz_thread *t)
{
	struct fuzz_irq_snap s;
	struct fuzz_vm *vm = NULL;
	uint32_t i, r = rnd_below(t, 100);
	int vm_fd;

	/* Mostly a file that is not attached yet. */
	for (i = 0; i < FUZZ_NR_IRQ; i++) {
		irq_snap(t, &t->pool->irq[rnd_below(t, FUZZ_NR_IRQ)], &s);
		if (s.fd >= 0 && !s.attached && chance(t, 80))
			break;
	}
	if (r < 85) {
		vm = pick_vm(t, chance(t, 90));
		vm_fd = slot_fd(&vm->fd);
	} else if (r < 95) {
		vm_fd = fd_lottery(t);
	} else {
		vm_fd = s.fd;
	}
	if (do_attach(t, &s, vm_fd, false))
		return;
	if (vm)
		vm->attached = true;
	if (s.slot && chance(t, 60))
		fuzz_map_shm(t, s.slot, rnd_below(t, FUZZ_NR_SHM));
}

/* Base routes: pins and MSIs outside the range, sometimes inside, or junk. */
static void build_entries(struct fuzz_thread *t, const struct fuzz_irq_snap *s,
			  uint32_t nr)
{
	struct kvm_irq_routing_entry *e = t->entries;
	uint32_t end = s->gsi_base + s->nr_routes, i;
	/* Most tables only what KVM takes: MSIs past the range. */
	bool tame = chance(t, 60);

	memset(e, 0, nr * sizeof(*e));
	for (i = 0; i < nr; i++) {
		uint32_t r = tame ? 0 : rnd_below(t, 100);

		if (r < 50) {
			e[i].gsi = end + i < IRQROUTE_MAX_ROUTES ? end + i : i;
			e[i].type = KVM_IRQ_ROUTING_MSI;
			e[i].u.msi.address_lo = 0xfee00000;
			e[i].u.msi.data = 0x20 + rnd_below(t, 0xdf);
		} else if (r < 70) {
			e[i].gsi = rnd_below(t, 24);
			e[i].type = KVM_IRQ_ROUTING_IRQCHIP;
			e[i].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
			e[i].u.irqchip.pin = e[i].gsi;
		} else if (r < 80) {
			e[i].gsi = s->gsi_base + rnd_below(t, s->nr_routes + 1);
			e[i].type = KVM_IRQ_ROUTING_MSI;
			e[i].u.msi.address_lo = 0xfee00000;
		} else if (r < 90) {
			e[i].gsi = rnd_below(t, 16);
			e[i].type = KVM_IRQ_ROUTING_IRQCHIP;
			e[i].u.irqchip.irqchip = rnd_below(t, 4);
			e[i].u.irqchip.pin = rnd_below(t, 9);
		} else {
			uint32_t *w = (uint32_t *)&e[i], k;

			for (k = 0; k < sizeof(e[i]) / 4; k++)
				w[k] = chance(t, 50) ? rnd_below(t, 8) : rnd(t);
		}
	}
}

void op_set_base(struct fuzz_thread *t)
{
	struct irqroute_base_routes *b = (void *)t->build;
	struct fuzz_call c = {
		.op = OP_SET_BASE, .cmd = IRQROUTE_SET_BASE_ROUTES,
		.ssize = sizeof(*b), .min = 24,
	};
	uint32_t r = rnd_below(t, 100), nr, page = fuzz_page_size;
	const uint32_t max = page / sizeof(struct kvm_irq_routing_entry);
	struct fuzz_irq_snap s;
	uint8_t *entries;

	pick_irq(t, true, &s);
	if (r < 50)
		nr = rnd_below(t, 5);
	else if (r < 85)
		nr = 5 + rnd_below(t, 12);
	else if (r < 95)
		nr = 17 + rnd_below(t, max - 17);
	else
		nr = chance(t, 50) ? 4096 - rnd_below(t, 64) : rnd(t);
	build_entries(t, &s, nr < max ? nr : max);

	r = rnd_below(t, 100);
	if (r < 88)
		entries = (uint8_t *)t->entries;
	else if (r < 92)
		entries = NULL;
	else if (r < 96)
		entries = t->arg_ro + page;
	else	/* the last entry runs into PROT_NONE */
		entries = t->arg_ro + page - sizeof(struct kvm_irq_routing_entry) / 2;
	memset(b, 0, sizeof(*b));
	b->nr = nr;
	b->entries = (uintptr_t)entries;
	b->flags = chance(t, 92) ? 0 : pick_flags(t, 0);
	b->__reserved = pick_reserved(t);
	c.bad_input = b->flags || b->__reserved;
	fuzz_ioctl(t, &s, &c, NULL);
}

void op_commit(struct fuzz_thread *t)
{
	struct irqroute_commit *cm = (void *)t->build;
	struct fuzz_call c = {
		.op = OP_COMMIT, .cmd = IRQROUTE_COMMIT,
		.ssize = sizeof(*cm), .min = 8,
	};
	struct fuzz_irq_snap s;

	pick_irq(t, true, &s);
	cm->flags = chance(t, 92) ? 0 : pick_flags(t, 0);
	c.bad_input = cm->flags;
	fuzz_ioctl(t, &s, &c, NULL);
}

/* Counters of one file only grow, as one thread sees them. */
static void check_stats(struct fuzz_thread *t, const struct fuzz_irq_snap *s,
			struct irqroute_stats *st, bool with_deferred)
{
	int k = s->slot - t->pool->irq;
	struct irqroute_stats *last = &t->last_stats[k];

	if (!st->commits)
		fuzz_impossible(t, "GET_STATS of an attached file: commits 0");
	if (t->last_stats_seq[k] == s->seq &&
	    (st->signals < last->signals || st->delivered < last->delivered ||
	     st->pended < last->pended || st->commits < last->commits ||
	     st->commits_skipped < last->commits_skipped ||
	     st->feedback < last->feedback ||
	     (with_deferred && st->deferred < last->deferred)))
		fuzz_impossible(t, "GET_STATS counters went backwards: signals %llu->%llu delivered %llu->%llu commits %llu->%llu",
				(unsigned long long)last->signals,
				(unsigned long long)st->signals,
				(unsigned long long)last->delivered,
				(unsigned long long)st->delivered,
				(unsigned long long)last->commits,
				(unsigned long long)st->commits);
	if (!with_deferred)
		st->deferred = t->last_stats_seq[k] == s->seq ?
			       last->deferred : 0;
	*last = *st;
	t->last_stats_seq[k] = s->seq;
}

void op_get_stats(struct fuzz_thread *t)
{
	struct irqroute_stats *st = (void *)t->build, out;
	struct fuzz_call c = {
		.op = OP_GET_STATS, .cmd = IRQROUTE_GET_STATS,
		.ssize = sizeof(*st), .min = 56,
	};
	struct fuzz_irq_snap s;

	pick_irq(t, true, &s);
	memset(st, 0, sizeof(*st));
	st->flags = chance(t, 92) ? 0 : pick_flags(t, 0);
	c.bad_input = st->flags;
	if (fuzz_ioctl(t, &s, &c, &out) || !c.out_valid || !c.checked)
		return;
	/* The first version of the struct ends before deferred. */
	if (c.size < sizeof(out))
		out.deferred = 0;
	fuzz_note_stats(&out);
	if (s.slot && s.attached)
		check_stats(t, &s, &out, c.size >= sizeof(out));
}

/* Returns the new route's index, or -errno. */
static int do_create(struct fuzz_thread *t, struct fuzz_irq_snap *s,
		     int trigger, int irqfd, bool clean)
{
	struct irqroute_route_create *cr = (void *)t->build, out;
	struct fuzz_call c = {
		.op = OP_CREATE, .cmd = IRQROUTE_ROUTE_CREATE,
		.ssize = sizeof(*cr), .min = 32, .clean = clean,
	};
	int ret;

	memset(cr, 0, sizeof(*cr));
	cr->trigger_fd = trigger;
	cr->irqfd_fd = irqfd;
	if (!clean) {
		cr->flags = chance(t, 92) ? 0 :
			    pick_flags(t, IRQROUTE_CREATE_F_VALID);
		cr->__reserved[rnd_below(t, 2)] = pick_reserved(t);
		/* An input with IRQROUTE_CREATE_F_INDEX, else output only. */
		if (chance(t, 10))
			cr->index = chance(t, 50) ? rnd_below(t, 64) : rnd(t);
	}
	c.bad_input = (cr->flags & ~IRQROUTE_CREATE_F_VALID) ||
		      cr->__reserved[0] || cr->__reserved[1] ||
		      (trigger == irqfd && trigger >= 0);
	ret = fuzz_ioctl(t, s, &c, &out);
	if (ret)
		return ret;
	if (!c.out_valid)
		return 1 << 30;
	if (out.index >= IRQROUTE_MAX_ROUTES || out.gsi >= IRQROUTE_MAX_ROUTES ||
	    out.gsi < out.index)
		fuzz_impossible(t, "ROUTE_CREATE returned index %u gsi %u",
				out.index, out.gsi);
	if (c.checked && s->attached &&
	    (out.index >= s->nr_routes || out.gsi != s->gsi_base + out.index))
		fuzz_impossible(t, "ROUTE_CREATE returned index %u gsi %u for a range of %u at %u",
				out.index, out.gsi, s->nr_routes, s->gsi_base);
	if (c.checked && (cr->flags & IRQROUTE_CREATE_F_INDEX) &&
	    out.index != cr->index)
		fuzz_impossible(t, "ROUTE_CREATE with F_INDEX %u returned index %u",
				cr->index, out.index);
	if (s->slot)
		irq_live_set(s->slot, s->seq, out.index, true);
	return out.index;
}

int fuzz_create(struct fuzz_thread *t, struct fuzz_irq *slot, int trigger)
{
	struct fuzz_irq_snap s;
	int irqfd, ret;

	irq_snap(t, slot, &s);
	irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ret = do_create(t, &s, trigger, irqfd, true);
	close(irqfd);
	return ret;
}

void op_create(struct fuzz_thread *t)
{
	struct fuzz_efd *te = NULL, *keep;
	struct fuzz_irq_snap s;
	uint32_t r = rnd_below(t, 100);
	int trigger, irqfd, fresh = -1;

	pick_irq(t, true, &s);
	if (r < 80)
		trigger = pick_efd(t, EFD_FREE, &te);
	else if (r < 88)
		trigger = pick_efd(t, -1, &te);
	else if (r < 93)
		trigger = pick_efd(t, EFD_KVM_IRQFD, NULL);
	else
		trigger = fd_lottery(t);

	r = rnd_below(t, 100);
	if (r < 78) {
		fresh = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		irqfd = fresh;
	} else if (r < 86) {
		irqfd = pick_efd(t, -1, NULL);
	} else if (r < 90) {
		irqfd = trigger;
	} else {
		irqfd = fd_lottery(t);
	}

	if (do_create(t, &s, trigger, irqfd, false) >= 0 && te)
		te->role = EFD_TRIGGER;
	if (fresh < 0)
		return;
	/* What the library does; sometimes keep it, to signal it later. */
	if (chance(t, 85)) {
		close(fresh);
		return;
	}
	/* A number made and kept under the lock, like any slot's. */
	keep = &t->pool->efd[rnd_below(t, FUZZ_NR_EFD)];
	fd_table_lock();
	irqfd = fcntl(fresh, F_DUPFD_CLOEXEC, 3);
	if (irqfd >= 0) {
		slot_put_fd(&keep->fd, irqfd);
		keep->role = EFD_PRIVATE;
	}
	fd_table_unlock();
	close(fresh);
}

static int do_set_msi(struct fuzz_thread *t, struct fuzz_irq_snap *s,
		      uint32_t index, bool clean)
{
	struct irqroute_msi *m = (void *)t->build;
	struct fuzz_call c = {
		.op = OP_SET_MSI, .cmd = IRQROUTE_SET_MSI,
		.ssize = sizeof(*m), .min = 32, .clean = clean,
	};
	uint32_t r = rnd_below(t, 100);
	int ret;

	memset(m, 0, sizeof(*m));
	m->index = index;
	if (!clean) {
		if (r < 65)
			m->flags = 0;
		else if (r < 92)
			m->flags = IRQROUTE_MSI_F_DEFER;
		else if (r < 95)
			m->flags = IRQROUTE_MSI_F_DEVID | (rnd(t) & 1);
		else
			m->flags = pick_flags(t, IRQROUTE_MSI_F_VALID);
	}
	/* Fixed delivery to APIC 0 or 1; sometimes any address and data. */
	m->address_lo = clean || chance(t, 85) ?
			0xfee00000 | rnd_below(t, 2) << 12 : (uint32_t)rnd(t);
	m->data = clean || chance(t, 85) ? 0x20 + rnd_below(t, 0xdf) :
		  (uint32_t)rnd(t);
	m->address_hi = clean || chance(t, 95) ? 0 : rnd(t);
	if (m->flags & IRQROUTE_MSI_F_DEVID)
		m->devid = rnd(t);
	else if (!clean && chance(t, 3))
		m->devid = rnd(t) | 1;
	if (!clean)
		m->__reserved = pick_reserved(t);
	c.bad_input = (m->flags & ~IRQROUTE_MSI_F_VALID) || m->__reserved ||
		      (!(m->flags & IRQROUTE_MSI_F_DEVID) && m->devid);
	ret = fuzz_ioctl(t, s, &c, NULL);
	check_index(t, &c, s, index, ret);
	return ret;
}

int fuzz_set_msi(struct fuzz_thread *t, struct fuzz_irq *slot, uint32_t idx)
{
	struct fuzz_irq_snap s;

	irq_snap(t, slot, &s);
	return do_set_msi(t, &s, idx, true);
}

void op_set_msi(struct fuzz_thread *t)
{
	struct fuzz_irq_snap s;

	pick_irq(t, true, &s);
	do_set_msi(t, &s, pick_index(t, &s), false);
}

/* DESTROY, CLEAR_MSI, MASK, UNMASK, CONSUME: one struct, one index. */
static void op_route(struct fuzz_thread *t, int op)
{
	struct irqroute_route_op *ro = (void *)t->build, out;
	struct fuzz_call c = {
		.op = op, .ssize = sizeof(*ro), .min = 16,
	};
	struct fuzz_irq_snap s;
	uint32_t valid = 0;
	int ret;

	switch (op) {
	case OP_DESTROY:
		c.cmd = IRQROUTE_ROUTE_DESTROY;
		valid = IRQROUTE_DESTROY_F_HANDOVER;
		break;
	case OP_CLEAR_MSI:
		c.cmd = IRQROUTE_CLEAR_MSI;
		valid = IRQROUTE_MSI_F_DEFER;
		break;
	case OP_MASK:
		c.cmd = IRQROUTE_MASK;
		break;
	case OP_UNMASK:
		c.cmd = IRQROUTE_UNMASK;
		valid = IRQROUTE_UNMASK_F_PENDING_ONLY;
		break;
	default:
		c.cmd = IRQROUTE_CONSUME_PENDING;
		break;
	}
	pick_irq(t, true, &s);
	memset(ro, 0, sizeof(*ro));
	ro->index = pick_index(t, &s);
	ro->flags = chance(t, 90) ? rnd(t) & valid : pick_flags(t, valid);
	ro->result = chance(t, 50) ? 0xdeadbeef : rnd(t);	/* ignored */
	c.bad_input = ro->flags & ~valid;
	ret = fuzz_ioctl(t, &s, &c, &out);
	check_index(t, &c, &s, ro->index, ret);
	if (ret)
		return;
	if (op == OP_DESTROY && s.slot)
		irq_live_set(s.slot, s.seq, ro->index, false);
	if (op == OP_CONSUME && c.out_valid && out.result > 1)
		fuzz_impossible(t, "CONSUME_PENDING returned result %u",
				out.result);
}

void op_destroy(struct fuzz_thread *t)
{
	op_route(t, OP_DESTROY);
}

void op_clear_msi(struct fuzz_thread *t)
{
	op_route(t, OP_CLEAR_MSI);
}

void op_mask(struct fuzz_thread *t)
{
	op_route(t, OP_MASK);
}

void op_unmask(struct fuzz_thread *t)
{
	op_route(t, OP_UNMASK);
}

void op_consume(struct fuzz_thread *t)
{
	op_route(t, OP_CONSUME);
}
