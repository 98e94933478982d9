// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-fuzz: how an ioctl of /dev/irqroute is issued. The struct a
 * caller built gets a size field (mostly right), a request number (mostly
 * the right one) and a place (mostly a writable page followed by a
 * canary, sometimes running into read-only or unmapped memory, sometimes
 * NULL or a kernel address); what the kernel answers is checked against
 * the conventions of Documentation/irqroute.rst wherever the answer is
 * certain: the file is known to be an irqroute file, unchanged while the
 * ioctl ran. Also: raw ioctls with any request number and random bytes.
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
static const int errs_delegate[] = { EMFILE, ENFILE, ENOMEM, 0 };

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
	REQ(ROUTE_GET, sizeof(struct irqroute_route_info), 40, true,
	    errs_route),
	REQ(DELEGATE, sizeof(struct irqroute_delegate), 24, true,
	    errs_delegate),
	REQ(SET_MSIS, sizeof(struct irqroute_msis), 24, true, errs_msi),
#undef REQ
};

#define NR_REQS	(sizeof(fuzz_reqs) / sizeof(fuzz_reqs[0]))

#define IOC_SIZE_BITS	((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)
#define IOC_DIR_BITS	((unsigned long)_IOC_DIRMASK << _IOC_DIRSHIFT)

/* The kernel matches the whole number, size bits included. */
static const struct fuzz_req *req_find(unsigned long cmd)
{
	unsigned int i;

	for (i = 0; i < NR_REQS; i++) {
		if ((uint32_t)cmd == fuzz_reqs[i].cmd)
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

uint32_t pick_flags(struct fuzz_thread *t, uint32_t valid)
{
	uint32_t r = rnd_below(t, 100);

	if (r < 85)
		return rnd(t) & valid;
	if (r < 95)
		return 1u << rnd_below(t, 32);
	return rnd(t);
}

uint32_t pick_reserved(struct fuzz_thread *t)
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
int fuzz_ioctl(struct fuzz_thread *t, struct fuzz_irq_snap *s,
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

