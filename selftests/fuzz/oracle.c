// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-fuzz: the pending-bit oracle. The worker's threads race, so
 * what their mask and pending bits should be is unknowable; here one
 * thread drives routes nobody else can reach, keeps a model of each
 * route's mask, pending and MSI state, and after every step compares the
 * shared page, the answers of the ioctls and the attachment's counters
 * with it (Documentation/design.rst):
 *
 *  - a signal on a route that is masked or has no committed MSI sets its
 *    pending bit; on any other it is handed to KVM and sets nothing;
 *  - unmask, and an MSI committed on an unmasked route, deliver a pending
 *    interrupt and clear the bit; a deferred MSI change waits for a commit;
 *  - consume_pending (ioctl or page) returns the bit and clears it;
 *  - destroy clears both bits; create starts a route unmasked, without an
 *    MSI, and pending only if its trigger was signalled before;
 *  - signals, pended and delivered count exactly those events.
 *
 * Its own process, forked by the worker before its threads start: the
 * threads pass any descriptor number at all (fd_lottery(): raw ioctls,
 * KVM_IRQFD, ROUTE_CREATE), which in a shared descriptor table would
 * reach the oracle's irqroute file and triggers. Its VM, file, eventfds
 * and page are made after the fork, so no other process holds them.
 *
 * The gate runs inside the write() that signals, so the pending bit is
 * set when write() returns. A hand-off to KVM may not be: it goes
 * through an irq_work when handoff_irq_work is set (the worker flips it)
 * or a lock is busy, and a mask before that irq_work ran would make it
 * pend. So after a signal on a deliverable route the oracle waits for
 * the delivered counter before its next step.
 *
 * ENOMEM or EAGAIN from a step that should succeed (the worker's threads
 * use up memory) is no verdict: every route is destroyed and the model
 * starts again from there. Any other surprise is a failure, reported
 * with the seed and the route's last steps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

/* Up to three bitmap words: steps cross word boundaries. */
#define ORACLE_MAX_ROUTES	136
#define ORACLE_HIST		16
/* An irq_work runs one self-IPI after the signal: this is ages. */
#define ORACLE_DELIVERY_NS	(10 * 1000000000ull)
#define ORACLE_BURST		32

/* Steps and their weights; _SHM: the page protocol instead of the ioctl. */
#define ORACLE_STEPS(X)				\
	X(SIGNAL, 24)				\
	X(MASK, 8)				\
	X(MASK_SHM, 6)				\
	X(UNMASK, 8)				\
	X(UNMASK_SHM, 8)			\
	X(CONSUME, 6)				\
	X(CONSUME_SHM, 4)			\
	X(SET_MSI, 10)				\
	X(SET_MSI_DEFER, 4)			\
	X(CLEAR_MSI, 5)				\
	X(CLEAR_MSI_DEFER, 3)			\
	X(COMMIT, 3)				\
	X(CREATE, 7)				\
	X(CREATE_SIGNALLED, 2)			\
	X(DESTROY, 5)				\
	X(GARBAGE, 2)				\
	X(RESYNC, 0)				\
	X(SETUP, 0)

#define ORACLE_ENUM(name, w) ST_##name,
enum oracle_step { ORACLE_STEPS(ORACLE_ENUM) NR_ORACLE_STEPS };
#undef ORACLE_ENUM

#define ORACLE_WEIGHT(name, w) w,
static const uint32_t oracle_weights[] = { ORACLE_STEPS(ORACLE_WEIGHT) };
#undef ORACLE_WEIGHT

#define ORACLE_NAME(name, w) #name,
static const char *const oracle_names[] = { ORACLE_STEPS(ORACLE_NAME) };
#undef ORACLE_NAME

/* One step as a route saw it, and the model afterwards. */
struct oracle_hist {
	uint64_t step;
	uint16_t kind;
	uint16_t by;		/* the route the step was on */
	int16_t ret;		/* 0 or -errno */
	int8_t seen;		/* pending as the kernel or page said; -1 */
	uint8_t state;		/* ORC_* */
};

#define ORC_LIVE	0x01
#define ORC_MASKED	0x02
#define ORC_PENDING	0x04
#define ORC_MSI		0x08
#define ORC_STAGED	0x10

/* The model of one route; of a dead index, what the oracle wrote there. */
struct oracle_route {
	bool live;
	bool masked;
	bool pending;
	bool msi;		/* in the committed table */
	bool staged;		/* in the next commit */
	int trigger;
	uint32_t nhist;
	struct oracle_hist hist[ORACLE_HIST];
};

struct oracle {
	struct fuzz_thread *t;
	uint64_t seed;
	int vm;
	int fd;
	uint32_t nr;
	uint32_t gsi_base;
	uint8_t *page;
	uint64_t step;
	int kind;		/* of the step in progress */
	uint32_t at;		/* its route, or nr */
	uint64_t signals;	/* what GET_STATS must say */
	uint64_t pended;
	uint64_t delivered;
	bool wait;		/* a hand-off may still be on its way */
	bool resync;
	bool failed;
	struct oracle_route r[ORACLE_MAX_ROUTES];
};

/* Per process: the oracle is a process of its own. */
static struct oracle oracle;
static struct fuzz_thread oracle_thread;

static uint64_t *shm_word(struct oracle *o, uint32_t off, uint32_t i)
{
	return (uint64_t *)(o->page + off) + i / 64;
}

static uint8_t route_state(const struct oracle_route *r)
{
	return (r->live ? ORC_LIVE : 0) | (r->masked ? ORC_MASKED : 0) |
	       (r->pending ? ORC_PENDING : 0) | (r->msi ? ORC_MSI : 0) |
	       (r->staged ? ORC_STAGED : 0);
}

static void note(struct oracle *o, uint32_t i, int ret, int seen)
{
	struct oracle_route *r = &o->r[i];
	struct oracle_hist *h;

	if (i >= o->nr)
		return;
	h = &r->hist[r->nhist++ % ORACLE_HIST];
	h->step = o->step;
	h->kind = o->kind;
	h->by = o->at;
	h->ret = ret;
	h->seen = seen;
	h->state = route_state(r);
}

static void print_history(struct oracle *o, uint32_t i)
{
	const struct oracle_route *r = &o->r[i];
	uint32_t j = r->nhist > ORACLE_HIST ? r->nhist - ORACLE_HIST : 0;

	dprintf(2, "# oracle: replay with IRQROUTE_FUZZ_SEED=%#llx IRQROUTE_FUZZ_FIRST_EPOCH=%llu; route %u (gsi %u) of %u, its last steps (model after each: Live Masked Pending MSI staged-msi):\n",
		(unsigned long long)fuzz_seed,
		(unsigned long long)fuzz_stats->epoch, i, o->gsi_base + i,
		o->nr);
	for (; j < r->nhist; j++) {
		const struct oracle_hist *h = &r->hist[j % ORACLE_HIST];
		char by[24] = "";

		if (h->by != i)
			snprintf(by, sizeof(by), " (on route %u)", h->by);
		dprintf(2, "#   step %7llu %-16s%-16s -> %-7s seen %-2s  %c%c%c%c%c\n",
			(unsigned long long)h->step, oracle_names[h->kind], by,
			fuzz_errno_name(-h->ret),
			h->seen < 0 ? "-" : h->seen ? "1" : "0",
			h->state & ORC_LIVE ? 'L' : '.',
			h->state & ORC_MASKED ? 'M' : '.',
			h->state & ORC_PENDING ? 'P' : '.',
			h->state & ORC_MSI ? 'S' : '.',
			h->state & ORC_STAGED ? 's' : '.');
	}
}

/* The model and the kernel disagree: report once, then stop. */
static void __attribute__((format(printf, 3, 4)))
oracle_fail(struct oracle *o, uint32_t i, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	if (o->failed)
		return;
	o->failed = true;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fuzz_impossible(o->t, "oracle seed %#llx step %llu %s route %u: %s",
			(unsigned long long)o->seed,
			(unsigned long long)o->step, oracle_names[o->kind],
			o->at, why);
	if (i < o->nr)
		print_history(o, i);
}

static int orc_ioctl(struct oracle *o, unsigned long cmd, void *arg)
{
	return ioctl(o->fd, cmd, arg) ? -errno : 0;
}

static int route_op(struct oracle *o, unsigned long cmd, uint32_t i,
		    uint32_t flags, uint32_t *result)
{
	struct irqroute_route_op op = {
		.size = sizeof(op), .flags = flags, .index = i,
		.result = 0xdeadbeef,
	};
	int ret = orc_ioctl(o, cmd, &op);

	if (result)
		*result = op.result;
	return ret;
}

/*
 * The answer the model predicts: @want. ENOMEM or EAGAIN where success
 * was due is no verdict, the model is rebuilt after the step. True if
 * the call succeeded as predicted.
 */
static bool expect(struct oracle *o, int ret, int want)
{
	if (ret == want)
		return !ret;
	if (!want && (ret == -ENOMEM || ret == -EAGAIN)) {
		o->resync = true;
		return false;
	}
	oracle_fail(o, o->at, "returned %s, the model says %s",
		    fuzz_errno_name(-ret), fuzz_errno_name(-want));
	return false;
}

static int want_live(const struct oracle_route *r)
{
	return r->live ? 0 : -ENOENT;
}

/* The route became deliverable, or was and got unmasked. */
static void deliver_pending(struct oracle *o, struct oracle_route *r)
{
	if (r->live && r->msi && !r->masked && r->pending) {
		r->pending = false;
		o->delivered++;
	}
}

/* What a commit that KVM took does: every staged MSI is committed. */
static void model_commit(struct oracle *o)
{
	uint32_t i;

	for (i = 0; i < o->nr; i++) {
		struct oracle_route *r = &o->r[i];

		if (!r->live || r->staged == r->msi)
			continue;
		r->msi = r->staged;
		deliver_pending(o, r);
		if (i != o->at)
			note(o, i, 0, -1);
	}
}

static void route_reset(struct oracle_route *r)
{
	if (r->trigger >= 0)
		close(r->trigger);
	r->trigger = -1;
	r->live = false;
	r->masked = false;
	r->pending = false;
	r->msi = false;
	r->staged = false;
}

static int step_signal(struct oracle *o, struct oracle_route *r)
{
	uint64_t one = 1;

	if (write(r->trigger, &one, sizeof(one)) != sizeof(one)) {
		int ret = -errno;

		oracle_fail(o, o->at, "write to the trigger: %s",
			    fuzz_errno_name(-ret));
		return ret;
	}
	o->signals++;
	if (r->msi && !r->masked) {
		o->delivered++;
		o->wait = true;
	} else {
		r->pending = true;
		o->pended++;
	}
	return 0;
}

/* The page protocol: clear the mask, then ask only if pending. */
static int step_unmask_shm(struct oracle *o, struct oracle_route *r,
			   int *seen)
{
	uint64_t bit = 1ull << (o->at % 64);
	int ret;

	__atomic_fetch_and(shm_word(o, IRQROUTE_SHM_MASK_OFFSET, o->at), ~bit,
			   __ATOMIC_SEQ_CST);
	r->masked = false;
	*seen = !!(__atomic_load_n(shm_word(o, IRQROUTE_SHM_PENDING_OFFSET,
					    o->at), __ATOMIC_SEQ_CST) & bit);
	if (*seen != r->pending) {
		oracle_fail(o, o->at, "pending read %d after clearing the mask, the model says %d",
			    *seen, r->pending);
		return 0;
	}
	/* Sometimes without cause: then it must deliver nothing. */
	if (!*seen && !chance(o->t, 10))
		return 0;
	ret = route_op(o, IRQROUTE_UNMASK, o->at,
		       IRQROUTE_UNMASK_F_PENDING_ONLY, NULL);
	if (expect(o, ret, 0))
		deliver_pending(o, r);
	return ret;
}

static int step_consume(struct oracle *o, struct oracle_route *r, int *seen)
{
	uint64_t bit = 1ull << (o->at % 64), old;
	uint32_t res;
	int ret = 0;

	if (o->kind == ST_CONSUME_SHM) {
		old = __atomic_fetch_and(shm_word(o, IRQROUTE_SHM_PENDING_OFFSET,
						  o->at), ~bit,
					 __ATOMIC_SEQ_CST);
		res = !!(old & bit);
	} else {
		ret = route_op(o, IRQROUTE_CONSUME_PENDING, o->at, 0, &res);
		if (!expect(o, ret, want_live(r)))
			return ret;
	}
	*seen = res;
	if (res != r->pending)
		oracle_fail(o, o->at, "consumed %u, the model says %d", res,
			    r->pending);
	r->pending = false;
	return ret;
}

static int step_msi(struct oracle *o, struct oracle_route *r, bool on,
		    bool defer)
{
	struct irqroute_msi m = {
		.size = sizeof(m),
		.flags = defer ? IRQROUTE_MSI_F_DEFER : 0,
		.index = o->at,
		/* A vector for APIC 0 or 1; no vCPU takes it. */
		.address_lo = 0xfee00000 | rnd_below(o->t, 2) << 12,
		.data = 0x20 + rnd_below(o->t, 0xdf),
	};
	int ret;

	if (on)
		ret = orc_ioctl(o, IRQROUTE_SET_MSI, &m);
	else
		ret = route_op(o, IRQROUTE_CLEAR_MSI, o->at, m.flags, NULL);
	if (!expect(o, ret, want_live(r)))
		return ret;
	r->staged = on;
	if (!defer)
		model_commit(o);
	return ret;
}

/* Any free index will do; a full range must say ENOSPC. */
static int step_create(struct oracle *o)
{
	struct irqroute_route_create c = { .size = sizeof(c) };
	bool full = true, signalled = o->kind == ST_CREATE_SIGNALLED;
	uint64_t one = 1;
	struct oracle_route *r;
	int trigger, irqfd, ret;
	uint32_t i;

	for (i = 0; i < o->nr; i++)
		full &= o->r[i].live;
	trigger = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (trigger < 0 || irqfd < 0) {
		/* Our own shortage, not the module's answer. */
		ret = -errno;
		goto out;
	}
	if (signalled && write(trigger, &one, sizeof(one)) != sizeof(one)) {
		ret = -errno;
		goto out;
	}
	c.trigger_fd = trigger;
	c.irqfd_fd = irqfd;
	ret = orc_ioctl(o, IRQROUTE_ROUTE_CREATE, &c);
	if (!expect(o, ret, full ? -ENOSPC : 0))
		goto out;
	o->at = c.index;
	if (c.index >= o->nr || o->r[c.index].live ||
	    c.gsi != o->gsi_base + c.index) {
		oracle_fail(o, c.index, "ROUTE_CREATE returned index %u gsi %u (range %u at %u)",
			    c.index, c.gsi, o->nr, o->gsi_base);
		goto out;
	}
	r = &o->r[c.index];
	/* Whatever was in the page at this index is gone. */
	route_reset(r);
	r->live = true;
	r->trigger = trigger;
	trigger = -1;
	if (signalled) {
		r->pending = true;
		o->pended++;
	}
out:
	if (trigger >= 0)
		close(trigger);
	if (irqfd >= 0)
		close(irqfd);
	return ret;
}

/* The page of a dead index belongs to nobody: create must clear it. */
static void step_garbage(struct oracle *o, struct oracle_route *r)
{
	uint64_t bit = 1ull << (o->at % 64);
	uint32_t what = rnd_below(o->t, 3);

	if (what != 1) {
		__atomic_fetch_or(shm_word(o, IRQROUTE_SHM_MASK_OFFSET, o->at),
				  bit, __ATOMIC_SEQ_CST);
		r->masked = true;
	}
	if (what != 0) {
		__atomic_fetch_or(shm_word(o, IRQROUTE_SHM_PENDING_OFFSET, o->at),
				  bit, __ATOMIC_SEQ_CST);
		r->pending = true;
	}
}

static int oracle_stats(struct oracle *o, struct irqroute_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return orc_ioctl(o, IRQROUTE_GET_STATS, st);
}

/*
 * After a shortage: destroy every route (which clears its bits), clear
 * what the oracle wrote at dead indexes, and take the counters as they
 * are. The model is exact again from here.
 */
static void oracle_resync(struct oracle *o)
{
	struct irqroute_stats st;
	uint32_t i;
	int ret;

	o->resync = false;
	o->kind = ST_RESYNC;
	__atomic_fetch_add(&fuzz_stats->oracle_resyncs, 1, __ATOMIC_RELAXED);
	for (i = 0; i < o->nr; i++) {
		struct oracle_route *r = &o->r[i];

		o->at = i;
		ret = r->live ? route_op(o, IRQROUTE_ROUTE_DESTROY, i, 0, NULL) : 0;
		if (ret) {
			oracle_fail(o, i, "ROUTE_DESTROY of a live route returned %s",
				    fuzz_errno_name(-ret));
			return;
		}
		route_reset(r);
		note(o, i, 0, -1);
	}
	for (i = 0; i < o->nr; i += 64) {
		__atomic_store_n(shm_word(o, IRQROUTE_SHM_MASK_OFFSET, i), 0,
				 __ATOMIC_SEQ_CST);
		__atomic_store_n(shm_word(o, IRQROUTE_SHM_PENDING_OFFSET, i), 0,
				 __ATOMIC_SEQ_CST);
	}
	ret = oracle_stats(o, &st);
	if (ret) {
		oracle_fail(o, o->nr, "GET_STATS returned %s",
			    fuzz_errno_name(-ret));
		return;
	}
	o->signals = st.signals;
	o->pended = st.pended;
	o->delivered = st.delivered;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000,
			       .tv_nsec = ns % 1000000000 };

	nanosleep(&ts, NULL);
}

/* The counters, then every bit of both bitmaps, against the model. */
static void oracle_check(struct oracle *o)
{
	uint64_t limit = fuzz_now_ns() + ORACLE_DELIVERY_NS, any = 0;
	struct irqroute_stats st;
	uint32_t w, b;
	int ret;

	for (;;) {
		ret = oracle_stats(o, &st);
		if (ret) {
			oracle_fail(o, o->at, "GET_STATS returned %s",
				    fuzz_errno_name(-ret));
			return;
		}
		if (!o->wait || st.delivered >= o->delivered ||
		    fuzz_now_ns() > limit)
			break;
		sleep_ns(20000);
	}
	if (st.signals != o->signals || st.pended != o->pended ||
	    st.delivered != o->delivered) {
		oracle_fail(o, o->at, "GET_STATS signals %llu pended %llu delivered %llu, the model says %llu %llu %llu%s",
			    (unsigned long long)st.signals,
			    (unsigned long long)st.pended,
			    (unsigned long long)st.delivered,
			    (unsigned long long)o->signals,
			    (unsigned long long)o->pended,
			    (unsigned long long)o->delivered,
			    o->wait ? " (after 10 s)" : "");
		return;
	}
	o->wait = false;
	/* Past nr_routes too: nothing may ever set those. */
	for (w = 0; w < IRQROUTE_MAX_ROUTES / 64; w++) {
		uint64_t mask = 0, pend = 0, got_mask, got_pend, diff;

		for (b = 0; b < 64 && w * 64 + b < o->nr; b++) {
			mask |= (uint64_t)o->r[w * 64 + b].masked << b;
			pend |= (uint64_t)o->r[w * 64 + b].pending << b;
		}
		any |= pend;
		got_mask = __atomic_load_n(shm_word(o, IRQROUTE_SHM_MASK_OFFSET,
						    w * 64), __ATOMIC_SEQ_CST);
		got_pend = __atomic_load_n(shm_word(o, IRQROUTE_SHM_PENDING_OFFSET,
						    w * 64), __ATOMIC_SEQ_CST);
		diff = (mask ^ got_mask) | (pend ^ got_pend);
		if (diff) {
			b = w * 64 + __builtin_ctzll(diff);
			oracle_fail(o, b, "bit %u in the page: mask %d pending %d, the model says mask %d pending %d",
				    b, !!(got_mask & 1ull << b % 64),
				    !!(got_pend & 1ull << b % 64),
				    !!(mask & 1ull << b % 64),
				    !!(pend & 1ull << b % 64));
			return;
		}
	}
	__atomic_fetch_add(&fuzz_stats->oracle_checks, 1, __ATOMIC_RELAXED);
	if (any)
		__atomic_fetch_add(&fuzz_stats->oracle_pending, 1,
				   __ATOMIC_RELAXED);
}

/* Mostly a live route (or a dead one, for the steps that want one). */
static uint32_t pick_route(struct oracle *o, bool live, bool strict)
{
	uint32_t start = rnd_below(o->t, o->nr), i;

	if (strict || chance(o->t, 90)) {
		for (i = 0; i < o->nr; i++) {
			uint32_t k = (start + i) % o->nr;

			if (o->r[k].live == live)
				return k;
		}
		if (strict)
			return o->nr;
	}
	return start;
}

static int pick_step(struct oracle *o)
{
	uint32_t total = 0, r;
	int k;

	for (k = 0; k < NR_ORACLE_STEPS; k++)
		total += oracle_weights[k];
	r = rnd_below(o->t, total);
	for (k = 0; r >= oracle_weights[k]; k++)
		r -= oracle_weights[k];
	return k;
}

static void oracle_step(struct oracle *o)
{
	struct oracle_route *r;
	int ret = 0, seen = -1;

	o->step++;
	o->kind = pick_step(o);
	switch (o->kind) {
	case ST_CREATE:
	case ST_CREATE_SIGNALLED:
		o->at = o->nr;
		break;
	case ST_GARBAGE:
		o->at = pick_route(o, false, true);
		break;
	case ST_SIGNAL:
	case ST_UNMASK_SHM:
	case ST_CONSUME_SHM:
		/* A trigger to write, a pending bit that means something. */
		o->at = pick_route(o, true, true);
		break;
	default:
		o->at = pick_route(o, true, false);
		break;
	}
	/* No route of the kind needed: make one (or hear ENOSPC). */
	if (o->at >= o->nr && o->kind != ST_CREATE_SIGNALLED)
		o->kind = ST_CREATE;
	r = &o->r[o->at < o->nr ? o->at : 0];

	fuzz_op_begin(o->t, OP_ORACLE, o->fd, o->kind, o->at);
	switch (o->kind) {
	case ST_SIGNAL:
		ret = step_signal(o, r);
		break;
	case ST_MASK:
		ret = route_op(o, IRQROUTE_MASK, o->at, 0, NULL);
		if (expect(o, ret, want_live(r)))
			r->masked = true;
		break;
	case ST_MASK_SHM:
		/* At a dead index too: the kernel must not care. */
		__atomic_fetch_or(shm_word(o, IRQROUTE_SHM_MASK_OFFSET, o->at),
				  1ull << (o->at % 64), __ATOMIC_SEQ_CST);
		r->masked = true;
		break;
	case ST_UNMASK:
		ret = route_op(o, IRQROUTE_UNMASK, o->at, 0, NULL);
		if (expect(o, ret, want_live(r))) {
			r->masked = false;
			deliver_pending(o, r);
		}
		break;
	case ST_UNMASK_SHM:
		ret = step_unmask_shm(o, r, &seen);
		break;
	case ST_CONSUME:
	case ST_CONSUME_SHM:
		ret = step_consume(o, r, &seen);
		break;
	case ST_SET_MSI:
	case ST_SET_MSI_DEFER:
		ret = step_msi(o, r, true, o->kind == ST_SET_MSI_DEFER);
		break;
	case ST_CLEAR_MSI:
	case ST_CLEAR_MSI_DEFER:
		ret = step_msi(o, r, false, o->kind == ST_CLEAR_MSI_DEFER);
		break;
	case ST_COMMIT: {
		struct irqroute_commit c = { .size = sizeof(c) };

		ret = orc_ioctl(o, IRQROUTE_COMMIT, &c);
		if (expect(o, ret, 0))
			model_commit(o);
		break;
	}
	case ST_CREATE:
	case ST_CREATE_SIGNALLED:
		ret = step_create(o);
		break;
	case ST_DESTROY:
		ret = route_op(o, IRQROUTE_ROUTE_DESTROY, o->at, 0, NULL);
		if (expect(o, ret, want_live(r)))
			route_reset(r);
		break;
	case ST_GARBAGE:
		step_garbage(o, r);
		break;
	}
	fuzz_op_end(o->t, OP_ORACLE, ret);
	note(o, o->at, ret, seen);
	if (o->resync && !o->failed)
		oracle_resync(o);
	if (!o->failed)
		oracle_check(o);
}

static int oracle_setup(struct oracle *o)
{
	struct irqroute_attach a = {
		.size = sizeof(a),
		.flags = IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES,
	};
	struct fuzz_thread *t = o->t;
	const struct irqroute_shm_header *h;
	uint32_t r = rnd_below(t, 100), i;
	struct irqroute_stats st;
	void *p = MAP_FAILED;
	int ret = 0;

	/* Mostly few routes, so that each sees many steps. */
	a.nr_routes = r < 50 ? 1 + rnd_below(t, 8) :
		      r < 85 ? 9 + rnd_below(t, 56) :
		      65 + rnd_below(t, ORACLE_MAX_ROUTES - 64);
	a.gsi_base = 24 + rnd_below(t, 40);
	o->kind = ST_SETUP;
	o->at = 0;
	fuzz_op_begin(t, OP_ORACLE, -1, ST_SETUP, a.nr_routes);
	o->vm = ioctl(t->pool->kvm, KVM_CREATE_VM, 0);
	if (o->vm < 0 || ioctl(o->vm, KVM_CREATE_IRQCHIP, 0))
		ret = -errno;
	o->fd = ret ? -1 : open("/dev/irqroute", O_RDWR | O_CLOEXEC);
	if (!ret && o->fd < 0)
		ret = -errno;
	a.vm_fd = o->vm;
	if (!ret)
		ret = orc_ioctl(o, IRQROUTE_ATTACH, &a);
	if (!ret) {
		p = mmap(NULL, fuzz_page_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, o->fd, 0);
		ret = p == MAP_FAILED ? -errno : 0;
	}
	if (!ret)
		ret = oracle_stats(o, &st);
	fuzz_op_end(t, OP_ORACLE, ret);
	if (ret) {
		/* A shortage; a run where this never works fails its depth check. */
		dprintf(2, "fuzz: oracle: setup failed: %s\n",
			fuzz_errno_name(-ret));
		return ret;
	}
	o->page = p;
	o->nr = a.nr_routes;
	o->gsi_base = a.gsi_base;
	o->signals = st.signals;
	o->pended = st.pended;
	o->delivered = st.delivered;
	for (i = 0; i < ORACLE_MAX_ROUTES; i++)
		o->r[i].trigger = -1;
	h = p;
	if (h->magic != IRQROUTE_SHM_MAGIC || h->nr_routes != o->nr ||
	    h->gsi_base != o->gsi_base)
		oracle_fail(o, o->nr, "shared page header magic %#x nr_routes %u gsi_base %u",
			    h->magic, h->nr_routes, h->gsi_base);
	return 0;
}

/*
 * The oracle's process: steps in bursts until @deadline, idle twice as
 * long as each burst took: the worker's threads are the fuzzer, this
 * takes a third of a CPU at most.
 */
static int oracle_main(struct fuzz_pool *pool, uint64_t seed,
		       uint64_t deadline)
{
	struct oracle *o = &oracle;
	struct fuzz_thread *t = &oracle_thread;
	uint64_t start;
	int n;

	t->pool = pool;
	t->rng = seed;
	t->id = FUZZ_ORACLE_RING;
	o->t = t;
	o->seed = seed;
	if (oracle_setup(o))
		return 0;
	while (!o->failed && fuzz_now_ns() < deadline) {
		start = fuzz_now_ns();
		for (n = 0; n < ORACLE_BURST && !o->failed; n++)
			oracle_step(o);
		sleep_ns(2 * (fuzz_now_ns() - start));
	}
	return 0;
}

/* Fork the oracle of this epoch; the worker must not have threads yet. */
pid_t oracle_start(struct fuzz_pool *pool, uint64_t seed, uint64_t deadline)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid)
		return pid;
	_exit(oracle_main(pool, seed ^ 0x6f7261636c65ull, deadline));
}

/* Its verdicts are in the shared counters; a crash is one too. */
void oracle_reap(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return;
	}
	if (WIFSIGNALED(status))
		fuzz_impossible(NULL, "the oracle %d died of signal %d (%s)",
				pid, WTERMSIG(status),
				strsignal(WTERMSIG(status)));
	else if (WEXITSTATUS(status))
		fuzz_impossible(NULL, "the oracle %d exited with status %d",
				pid, WEXITSTATUS(status));
}
