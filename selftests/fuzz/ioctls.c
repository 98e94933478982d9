// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-fuzz: the ioctls of /dev/irqroute, with mostly valid structs
 * (so that attach, create and set_msi really succeed and the paths behind
 * them run) and every kind of wrong size, flag, reserved word, index,
 * descriptor, request number and argument pointer.
 *
 * What the kernel answers is checked against the conventions of
 * Documentation/irqroute.rst wherever the answer is certain: the file is
 * known to be an irqroute file, unchanged while the ioctl ran.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fuzz.h"

/* Written after the argument; the kernel must never touch it. */
#define CANARY_LEN	16
#define CANARY		0xa5

/*
 * The errnos of each request's table in irqroute.rst, beyond those every
 * request has (EFAULT, EINVAL, E2BIG, ENOTTY, EINTR, and ENODEV and EPERM
 * for the VMM's own requests). KVM's errnos included.
 */
static const int errs_info[] = { 0 };
static const int errs_attach[] = { EBUSY, EBADF, EBADFD, EPERM, EOPNOTSUPP,
				   ENOMEM, ENFILE, EAGAIN, EIO, 0 };
static const int errs_commit[] = { ENOMEM, EIO, 0 };
static const int errs_create[] = { ENOSPC, EBADF, EBADFD, EBUSY, ENOMEM,
				   EAGAIN, EIO, 0 };
static const int errs_msi[] = { ENOENT, ENOMEM, EIO, 0 };
static const int errs_route[] = { ENOENT, 0 };

/* The requests, their structs, and whether only the VMM may call them. */
static const struct fuzz_req {
	unsigned long cmd;
	const char *name;
	uint32_t size;
	uint32_t min;
	bool owner;
	const int *errs;
} fuzz_reqs[] = {
#define REQ(n, s, m, o, e) { IRQROUTE_##n, #n, s, m, o, e }
	REQ(GET_INFO, sizeof(struct irqroute_info), 32, false, errs_info),
	REQ(ATTACH, sizeof(struct irqroute_attach), 32, false, errs_attach),
	REQ(SET_BASE_ROUTES, sizeof(struct irqroute_base_routes), 24, true,
	    errs_commit),
	REQ(COMMIT, sizeof(struct irqroute_commit), 8, true, errs_commit),
	REQ(GET_STATS, sizeof(struct irqroute_stats), 56, true, errs_info),
	REQ(ROUTE_CREATE, sizeof(struct irqroute_route_create), 32, true,
	    errs_create),
	REQ(SET_MSI, sizeof(struct irqroute_msi), 32, true, errs_msi),
	REQ(ROUTE_DESTROY, sizeof(struct irqroute_route_op), 16, true,
	    errs_route),
	REQ(CLEAR_MSI, sizeof(struct irqroute_route_op), 16, true, errs_msi),
	REQ(MASK, sizeof(struct irqroute_route_op), 16, true, errs_route),
	REQ(UNMASK, sizeof(struct irqroute_route_op), 16, true, errs_route),
	REQ(CONSUME_PENDING, sizeof(struct irqroute_route_op), 16, true,
	    errs_route),
#undef REQ
};
#define NR_REQS	(sizeof(fuzz_reqs) / sizeof(fuzz_reqs[0]))

#define IOC_SIZE_BITS	((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)
#define IOC_DIR_BITS	((unsigned long)_IOC_DIRMASK << _IOC_DIRSHIFT)

/* The kernel matches type, number and direction; the size is ignored. */
static const struct fuzz_req *req_find(unsigned long cmd)
{
	unsigned int i;

	for (i = 0; i < NR_REQS; i++) {
		if (((uint32_t)cmd & ~IOC_SIZE_BITS) ==
		    (fuzz_reqs[i].cmd & ~IOC_SIZE_BITS))
			return &fuzz_reqs[i];
	}
	return NULL;
}

static bool errno_documented(const struct fuzz_req *req, int e)
{
	const int *p;

	if (e == EFAULT || e == EINVAL || e == E2BIG || e == ENOTTY ||
	    e == EINTR || (req->owner && (e == ENODEV || e == EPERM)))
		return true;
	for (p = req->errs; *p; p++) {
		if (*p == e)
			return true;
	}
	return false;
}

enum fuzz_place {
	PLACE_NORMAL,		/* writable, followed by the canary */
	PLACE_TAIL_RO,		/* runs from writable into read-only */
	PLACE_RO,		/* read-only */
	PLACE_TAIL_NONE,	/* runs from read-only into PROT_NONE */
	PLACE_BAD,		/* NULL, kernel, non-canonical, unmapped */
};

struct fuzz_call {
	int op;
	unsigned long cmd;
	uint32_t ssize;		/* sizeof the struct */
	uint32_t min;		/* its first version */
	bool bad_input;		/* flags or fields that must make it fail */
	bool clean;		/* exact size and request, normal placement */
	/* out */
	uint32_t size;
	bool out_valid;		/* the struct the kernel wrote is in @out */
	bool checked;		/* it was an irqroute file, unchanged */
};

static uint32_t pick_flags(struct fuzz_thread *t, uint32_t valid)
{
	uint32_t r = rnd_below(t, 100);

	if (r < 85)
		return rnd(t) & valid;
	if (r < 95)
		return 1u << rnd_below(t, 32);
	return rnd(t);
}

static uint32_t pick_reserved(struct fuzz_thread *t)
{
	return chance(t, 4) ? (uint32_t)rnd(t) | 1 : 0;
}

/* A size field: mostly right, and every kind of wrong. */
static uint32_t pick_size(struct fuzz_thread *t, uint32_t ssize,
			  uint32_t min, bool *tail_nonzero)
{
	uint32_t r = rnd_below(t, 100), page = fuzz_page_size;

	*tail_nonzero = false;
	if (r < 70)
		return ssize;
	if (r < 75)
		return min;
	if (r < 80)
		return rnd_below(t, min);
	if (r < 86)
		return ssize + 8 * (1 + rnd_below(t, 8));
	if (r < 89) {
		*tail_nonzero = true;
		return ssize + 1 + rnd_below(t, 64);
	}
	if (r < 91)
		return page;
	if (r < 93)
		return page + 1 + rnd_below(t, 8);
	if (r < 95)
		return chance(t, 50) ? 0xffffffff : (uint32_t)rnd(t);
	return ssize - 1 - rnd_below(t, 4);
}

/* The request, or the same with other size bits, or other direction bits. */
static unsigned long pick_cmd(struct fuzz_thread *t, unsigned long cmd)
{
	uint32_t r = rnd_below(t, 100);

	if (r < 90)
		return cmd;
	if (r < 95)
		return (cmd & ~IOC_SIZE_BITS) |
		       ((unsigned long)rnd_below(t, _IOC_SIZEMASK + 1)
			<< _IOC_SIZESHIFT);
	return (cmd & ~IOC_DIR_BITS) |
	       ((unsigned long)rnd_below(t, 4) << _IOC_DIRSHIFT);
}

/* Copy into the argument area; the read-only page is written via its alias. */
static void put_bytes(struct fuzz_thread *t, uint8_t *dst, const uint8_t *src,
		      size_t len)
{
	uint8_t *ro = t->arg_ro, *ro_end = ro + fuzz_page_size;
	size_t n;

	while (len) {
		if (dst >= ro && dst < ro_end) {
			n = len < (size_t)(ro_end - dst) ? len : ro_end - dst;
			memcpy(t->arg_ro_w + (dst - ro), src, n);
		} else if (dst >= t->arg && dst < ro) {
			n = len < (size_t)(ro - dst) ? len : ro - dst;
			memcpy(dst, src, n);
		} else {
			return;	/* the PROT_NONE page */
		}
		dst += n;
		src += n;
		len -= n;
	}
}

/* Put @len bytes of t->build somewhere the kernel will look for them. */
static uint8_t *place_arg(struct fuzz_thread *t, size_t len,
			  enum fuzz_place *pl)
{
	static const uintptr_t bad[] = {
		0, 1, 0xffffffff81000000ul, 0x800000000000ul, ~7ul,
	};
	size_t page = fuzz_page_size, k;
	uint32_t r = rnd_below(t, 100);
	uint8_t *p;

	if (r < 86) {
		*pl = PLACE_NORMAL;
		p = t->arg + (chance(t, 80) ? 0 : rnd_below(t, 64));
	} else if (r < 90) {
		*pl = PLACE_TAIL_RO;
		k = 1 + rnd_below(t, len < 64 ? len : 64);
		p = t->arg_ro - k;
	} else if (r < 94) {
		*pl = PLACE_RO;
		p = t->arg_ro + (len < page ? rnd_below(t, page - len + 1) : 0);
	} else if (r < 97) {
		*pl = PLACE_TAIL_NONE;
		k = 1 + rnd_below(t, len < 64 ? len : 64);
		p = t->arg_ro + page - k;
	} else {
		*pl = PLACE_BAD;
		r = rnd_below(t, 6);
		return r < 5 ? (uint8_t *)bad[r] : t->arg_ro + page;
	}
	put_bytes(t, p, t->build, len);
	return p;
}

static bool owner_errno(int ret)
{
	return ret == -EFAULT || ret == -EINVAL || ret == -E2BIG ||
	       ret == -EINTR || ret == -EPERM;
}

/* What the conventions promise for any ioctl on an irqroute file. */
static void check_result(struct fuzz_thread *t,
			 const struct fuzz_irq_snap *s, unsigned long cmd,
			 enum fuzz_place pl, int ret, bool invalid)
{
	const struct fuzz_req *req = req_find(cmd);
	const char *e = ret ? fuzz_errno_name(-ret) : "success";

	if (!req) {
		if (ret != -ENOTTY)
			fuzz_impossible(t, "unknown request %#lx returned %s, not ENOTTY",
					cmd, e);
		return;
	}
	if (ret == -ENOTTY)
		fuzz_impossible(t, "%s (%#lx) returned ENOTTY", req->name, cmd);
	if (ret < 0 && !errno_documented(req, -ret))
		fuzz_impossible(t, "%s returned %s, not one of its documented errnos",
				req->name, e);
	if (pl == PLACE_BAD && ret != -EFAULT)
		fuzz_impossible(t, "%s with a bad pointer returned %s, not EFAULT",
				req->name, e);
	if (!ret && invalid && pl != PLACE_BAD)
		fuzz_impossible(t, "%s accepted an invalid argument", req->name);
	if (!s->attached)
		return;
	if (req->owner && s->owner == getpid() &&
	    (ret == -ENODEV || ret == -EPERM))
		fuzz_impossible(t, "%s on a file this process attached returned %s",
				req->name, e);
	if (req->owner && s->owner != getpid() && !owner_errno(ret))
		fuzz_impossible(t, "%s by pid %d on a file pid %d attached returned %s, not EPERM",
				req->name, getpid(), s->owner, e);
	if (cmd == IRQROUTE_ATTACH && !ret)
		fuzz_impossible(t, "a second IRQROUTE_ATTACH of one file succeeded");
}

/*
 * Issue the struct built in t->build: choose its size field, request
 * number and place, call, check, and copy what the kernel wrote to @out.
 */
static int fuzz_ioctl(struct fuzz_thread *t, struct fuzz_irq_snap *s,
		      struct fuzz_call *c, void *out)
{
	uint32_t page = fuzz_page_size, used, from;
	uint8_t *b = t->build, *p;
	enum fuzz_place pl;
	unsigned long cmd;
	bool nz = false;
	int ret;

	c->size = c->clean ? c->ssize : pick_size(t, c->ssize, c->min, &nz);
	memcpy(b, &c->size, sizeof(c->size));
	/* The kernel reads the size, then at most a page. */
	used = c->size <= page ? c->size : 4;
	if (used < 4)
		used = 4;
	if (used > c->ssize) {
		memset(b + c->ssize, 0, used - c->ssize);
		if (nz)
			b[c->ssize + rnd_below(t, used - c->ssize)] =
				1 + rnd_below(t, 255);
	}
	memset(b + used, CANARY, CANARY_LEN);
	cmd = c->clean ? c->cmd : pick_cmd(t, c->cmd);
	if (c->clean) {
		pl = PLACE_NORMAL;
		p = t->arg;
		memcpy(p, b, used + CANARY_LEN);
	} else {
		p = place_arg(t, used + CANARY_LEN, &pl);
	}

	fuzz_op_begin(t, c->op, s->fd, cmd, c->size);
	ret = ioctl(s->fd, cmd, p) < 0 ? -errno : 0;
	fuzz_op_end(t, c->op, ret);

	c->out_valid = !ret && pl == PLACE_NORMAL;
	if (pl == PLACE_NORMAL) {
		/* The kernel writes back at most min(size, sizeof). */
		from = used < c->ssize ? used : c->ssize;
		if (memcmp(p + from, b + from, used + CANARY_LEN - from))
			fuzz_impossible(t, "request %#lx wrote past byte %u of its argument (size %u): %s",
					cmd, from, c->size,
					ret ? fuzz_errno_name(-ret) : "ok");
		if (c->out_valid && out)
			memcpy(out, p, c->ssize);
	}
	c->checked = irq_snap_valid(s);
	if (c->checked)
		check_result(t, s, cmd, pl, ret,
			     c->bad_input || nz || c->size < c->min ||
			     c->size > page);
	return ret;
}

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
	     out.msi_flags != IRQROUTE_MSI_F_VALID || out.__reserved))
		fuzz_impossible(t, "GET_INFO returned api %u max %u shm %u flags %#x/%#x reserved %u",
				out.api_version, out.max_routes, out.shm_size,
				out.attach_flags, out.msi_flags,
				out.__reserved);
}

static bool attach_invalid(const struct irqroute_attach *a)
{
	bool x86 = a->flags & IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES;

	return (a->flags & ~IRQROUTE_ATTACH_F_VALID) || a->__reserved[0] ||
	       a->__reserved[1] || !a->nr_routes ||
	       a->nr_routes > IRQROUTE_MAX_ROUTES ||
	       a->gsi_base > IRQROUTE_MAX_ROUTES - a->nr_routes ||
	       (x86 && (a->gsi_base < 24 || a->nr_routes > 4056));
}

/* Mostly small ranges (ENOSPC and index reuse come quickly), some huge. */
static void build_attach(struct fuzz_thread *t, struct irqroute_attach *a,
			 int vm_fd, bool valid)
{
	uint32_t r = rnd_below(t, 100), max;

	memset(a, 0, sizeof(*a));
	a->vm_fd = vm_fd;
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
	case 4:
		a->__reserved[rnd_below(t, 2)] = pick_reserved(t) | 1;
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

	build_attach(t, a, vm_fd, clean || chance(t, 85));
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
		cr->flags = chance(t, 92) ? 0 : pick_flags(t, 0);
		cr->__reserved[rnd_below(t, 2)] = pick_reserved(t);
		if (chance(t, 10))
			cr->index = rnd(t);	/* output only */
	}
	c.bad_input = cr->flags || cr->__reserved[0] || cr->__reserved[1] ||
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
	if (r < 78)
		irqfd = fresh = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	else if (r < 86)
		irqfd = pick_efd(t, -1, NULL);
	else if (r < 90)
		irqfd = trigger;
	else
		irqfd = fd_lottery(t);

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
void op_route(struct fuzz_thread *t, int op)
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

/*
 * Any request number near irqroute's (other numbers, directions, sizes,
 * types) with random bytes. No KVM type: on a descriptor that is a VM by
 * now it would fuzz KVM itself, which is not the point here.
 */
static unsigned long raw_cmd(struct fuzz_thread *t, bool any_type)
{
	static const uint8_t near[] = { 0x05, 0x06, 0x0f, 0x17, 0x18, 0x1f,
					0x20, 0x7f, 0x80, 0xff };
	uint32_t r = rnd_below(t, 100), size = rnd_below(t, _IOC_SIZEMASK + 1);
	unsigned long cmd;

	if (r < 40)
		return _IOC(rnd_below(t, 4), IRQROUTE_TYPE,
			    _IOC_NR(fuzz_reqs[rnd_below(t, NR_REQS)].cmd), size);
	if (r < 70)
		return _IOC(rnd_below(t, 4), IRQROUTE_TYPE,
			    near[rnd_below(t, sizeof(near))], size);
	if (r < 80 || !any_type)
		return fuzz_reqs[rnd_below(t, NR_REQS)].cmd;
	do {
		cmd = r < 90 ? _IOC(rnd_below(t, 4), 0xe0 + rnd_below(t, 3),
				     rnd_below(t, 0x20), size) :
			       (uint32_t)rnd(t);
	} while (_IOC_TYPE(cmd) == KVMIO);
	return cmd;
}

void op_raw_ioctl(struct fuzz_thread *t)
{
	const struct fuzz_req *req;
	struct fuzz_irq_snap s;
	enum fuzz_place pl;
	uint32_t len, i, size;
	unsigned long cmd;
	bool nz;
	uint8_t *p;
	int ret;

	pick_irq(t, chance(t, 70), &s);
	cmd = raw_cmd(t, s.slot != NULL);
	req = req_find(cmd);
	len = chance(t, 90) ? 4 + rnd_below(t, 124) : fuzz_page_size;
	for (i = 0; i < len; i += 8) {
		uint64_t v = chance(t, 70) ? rnd_below(t, 4) : rnd(t);

		memcpy(t->build + i, &v, 8);
	}
	if (chance(t, 60)) {
		size = req ? pick_size(t, req->size, req->min, &nz) : rnd_below(t, 80);
		memcpy(t->build, &size, 4);
	}
	p = place_arg(t, len, &pl);
	fuzz_op_begin(t, OP_RAW_IOCTL, s.fd, cmd, len);
	ret = ioctl(s.fd, cmd, p) < 0 ? -errno : 0;
	fuzz_op_end(t, OP_RAW_IOCTL, ret);
	if (irq_snap_valid(&s))
		check_result(t, &s, cmd, pl, ret, false);
}
