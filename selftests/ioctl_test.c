// SPDX-License-Identifier: GPL-2.0
/*
 * The failure modes of every irqroute ioctl on an attached file, in the
 * manner of iommufd's selftests: NULL and partly mapped arguments, short
 * and long structs, a sweep of every flag bit, reserved fields, route
 * indexes out of range or not live, unknown ioctl numbers. After each
 * refusal the attachment must be exactly as before (statistics, shared
 * bitmaps, live routes, committed table) and still work.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "irqroute_raw.h"
#include "vmfd.h"

/* Route indexes the fixture creates, in this order. */
enum { R_MSI, R_MASKED, R_VICTIM, NR_FIXTURE_ROUTES };

#define NR_PROBES	3
#define TAIL		56

FIXTURE(attached) {
	int fd;
	int vm;
	/* APIC ID 0, where R_MSI's MSI goes: its IRR shows what KVM got. */
	int vcpu;
	void *shm;
	uint32_t shm_size;
	/*
	 * R_MSI: unmasked with an MSI; R_MASKED: masked, no MSI;
	 * R_VICTIM: unmasked, no MSI, destroyed and re-created by tests.
	 */
	uint32_t idx[NR_FIXTURE_ROUTES];
	int trigger[NR_FIXTURE_ROUTES];
	struct kvm_irq_routing_entry base[2];
	uint32_t nr_base;
	/* Fresh eventfds for one ROUTE_CREATE call, or -1. */
	int spare_trigger, spare_irqfd;
	/* The variant's range: its last index stays free. */
	uint32_t nr_routes;
	/* What the attachment looked like after the last successful call. */
	struct irqroute_stats st;
	uint8_t bitmaps[2][IRQROUTE_MAX_ROUTES / 8];
	int routed[NR_PROBES];
};

FIXTURE_VARIANT(attached) {
	uint32_t gsi_base;
	uint32_t nr_routes;
	uint32_t flags;
	/* Base routes set at setup: IOAPIC pins, outside the range. */
	uint32_t nr_base;
	uint32_t base_gsi[2];
	uint32_t base_pin[2];
	/* GSIs whose routing is checked, and what they must show. */
	uint32_t probe_gsi[NR_PROBES];
	int probe_routed[NR_PROBES];
};

FIXTURE_VARIANT_ADD(attached, low) {
	.gsi_base = 24, .nr_routes = 8,
	.flags = IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES,
	/* GSI 4 is one of the defaults, 45 is nobody's. */
	.nr_base = 2, .base_gsi = { 40, 50 }, .base_pin = { 16, 17 },
	.probe_gsi = { 4, 40, 45 }, .probe_routed = { 1, 1, 0 },
};

FIXTURE_VARIANT_ADD(attached, top) {
	.gsi_base = 4088, .nr_routes = 8,
	.nr_base = 2, .base_gsi = { 7, 4087 }, .base_pin = { 7, 23 },
	.probe_gsi = { 7, 4087, 4 }, .probe_routed = { 1, 1, 0 },
};

/* Every GSI is a route: there is no room for base routes. */
FIXTURE_VARIANT_ADD(attached, full) {
	.gsi_base = 0, .nr_routes = IRQROUTE_MAX_ROUTES,
	.probe_gsi = { 0, 4, 4095 }, .probe_routed = { 0, 0, 0 },
};

/* Returns the new route's index, creating its eventfds. */
static uint32_t fixture_create(struct __test_metadata *_metadata,
			       FIXTURE_DATA(attached) *self, int *trigger)
{
	uint32_t index = UINT32_MAX;

	*trigger = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, *trigger);
	ASSERT_EQ(0, __irqroute_create(self->fd, *trigger, &index));
	return index;
}

static void snapshot(struct __test_metadata *_metadata,
		     FIXTURE_DATA(attached) *self,
		     const FIXTURE_VARIANT(attached) *variant)
{
	unsigned int i;

	ASSERT_EQ(0, __irqroute_get_stats(self->fd, &self->st));
	memcpy(self->bitmaps[0], (char *)self->shm + IRQROUTE_SHM_MASK_OFFSET,
	       sizeof(self->bitmaps[0]));
	memcpy(self->bitmaps[1],
	       (char *)self->shm + IRQROUTE_SHM_PENDING_OFFSET,
	       sizeof(self->bitmaps[1]));
	for (i = 0; i < NR_PROBES; i++) {
		self->routed[i] = vm_gsi_routed(self->vm,
						variant->probe_gsi[i]);
		ASSERT_EQ(variant->probe_routed[i], self->routed[i])
			TH_LOG("GSI %u", variant->probe_gsi[i]);
	}
}

/*
 * Nothing changed since the last snapshot: same counters, same shared
 * bitmaps, the fixture's routes live and not pending, an index no route
 * has is still free, the committed table routes the same pins.
 */
static void assert_unchanged(struct __test_metadata *_metadata,
			     FIXTURE_DATA(attached) *self,
			     const FIXTURE_VARIANT(attached) *variant)
{
	struct irqroute_stats st;
	uint32_t result;
	unsigned int i;

	ASSERT_EQ(0, __irqroute_get_stats(self->fd, &st));
	ASSERT_EQ(self->st.signals, st.signals);
	ASSERT_EQ(self->st.delivered, st.delivered);
	ASSERT_EQ(self->st.pended, st.pended);
	ASSERT_EQ(self->st.commits, st.commits);
	ASSERT_EQ(self->st.commits_skipped, st.commits_skipped);
	ASSERT_EQ(self->st.feedback, st.feedback);
	ASSERT_EQ(0, memcmp(self->bitmaps[0],
			    (char *)self->shm + IRQROUTE_SHM_MASK_OFFSET,
			    sizeof(self->bitmaps[0])));
	ASSERT_EQ(0, memcmp(self->bitmaps[1],
			    (char *)self->shm + IRQROUTE_SHM_PENDING_OFFSET,
			    sizeof(self->bitmaps[1])));
	for (i = 0; i < NR_FIXTURE_ROUTES; i++) {
		ASSERT_EQ(0, __irqroute_route_op(self->fd,
						 IRQROUTE_CONSUME_PENDING,
						 self->idx[i], 0, &result))
			TH_LOG("fixture route %u (index %u) is gone", i,
			       self->idx[i]);
		ASSERT_EQ(0, result);
	}
	ASSERT_EQ(-ENOENT, __irqroute_route_op(self->fd,
					       IRQROUTE_CONSUME_PENDING,
					       variant->nr_routes - 1, 0, NULL))
		TH_LOG("a route appeared at index %u", variant->nr_routes - 1);
	for (i = 0; i < NR_PROBES; i++) {
		ASSERT_EQ(self->routed[i],
			  vm_gsi_routed(self->vm, variant->probe_gsi[i]))
			TH_LOG("GSI %u", variant->probe_gsi[i]);
	}
}

static uint64_t stat_of(struct __test_metadata *_metadata, int fd,
			size_t offset)
{
	struct irqroute_stats st;

	memset(&st, 0, sizeof(st));
	ASSERT_EQ(0, __irqroute_get_stats(fd, &st));
	return *(uint64_t *)((char *)&st + offset);
}

/* Waits up to 2 s for a counter to reach @want (the hand-off is deferred). */
#define wait_stat(fd, field, want) ({					\
	struct timespec __t0, __t;					\
	uint64_t __v;							\
	clock_gettime(CLOCK_MONOTONIC, &__t0);				\
	for (;;) {							\
		__v = stat_of(_metadata, fd,				\
			      offsetof(struct irqroute_stats, field));	\
		clock_gettime(CLOCK_MONOTONIC, &__t);			\
		if (__v >= (want) || __t.tv_sec - __t0.tv_sec > 2)	\
			break;						\
		usleep(1000);						\
	}								\
	__v;								\
})

/*
 * The attachment still does its job: a signal on the MSI route reaches
 * KVM's local APIC (vCPU 0's IRR, not irqroute's own counter), one on the
 * masked route pends and is consumed once, a new MSI reaches the APIC
 * too, and exactly the fixture's routes are live.
 */
static void assert_still_works(struct __test_metadata *_metadata,
			       FIXTURE_DATA(attached) *self,
			       const FIXTURE_VARIANT(attached) *variant)
{
	struct irqroute_stats st;
	uint32_t i, j, result;
	int live;

	assert_unchanged(_metadata, self, variant);
	ASSERT_EQ(0, __irqroute_get_stats(self->fd, &st));

	/* Delivered: in KVM's APIC, not just counted by irqroute. */
	ASSERT_EQ(0, eventfd_signal_once(self->trigger[R_MSI]));
	ASSERT_EQ(1, vcpu_irr_take(self->vcpu, TEST_MSI_DATA, 2000));
	ASSERT_EQ(st.delivered + 1, wait_stat(self->fd, delivered,
					      st.delivered + 1));

	ASSERT_EQ(0, eventfd_signal_once(self->trigger[R_MASKED]));
	ASSERT_EQ(st.pended + 1, wait_stat(self->fd, pended, st.pended + 1));
	ASSERT_EQ(1, shm_test_bit(self->shm, IRQROUTE_SHM_PENDING_OFFSET,
				  self->idx[R_MASKED]));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_CONSUME_PENDING,
					 self->idx[R_MASKED], 0, &result));
	ASSERT_EQ(1, result);
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_CONSUME_PENDING,
					 self->idx[R_MASKED], 0, &result));
	ASSERT_EQ(0, result);

	/* R_MSI's one signal reached KVM once: nothing more came in. */
	ASSERT_EQ(0, vcpu_irr_take(self->vcpu, TEST_MSI_DATA, 0));

	/* A new MSI reaches KVM too; then back to the fixture's. */
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->idx[R_MSI],
					TEST_MSI_ADDR_LO, TEST_MSI_DATA + 1,
					0));
	ASSERT_EQ(0, eventfd_signal_once(self->trigger[R_MSI]));
	ASSERT_EQ(1, vcpu_irr_take(self->vcpu, TEST_MSI_DATA + 1, 2000));
	ASSERT_EQ(0, vcpu_irr_take(self->vcpu, TEST_MSI_DATA, 0));
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->idx[R_MSI],
					TEST_MSI_ADDR_LO, TEST_MSI_DATA, 0));

	for (i = 0; i < variant->nr_routes; i++) {
		for (live = 0, j = 0; j < NR_FIXTURE_ROUTES; j++)
			live |= self->idx[j] == i;
		ASSERT_EQ(live ? 0 : -ENOENT,
			  __irqroute_route_op(self->fd,
					      IRQROUTE_CONSUME_PENDING, i, 0,
					      NULL))
			TH_LOG("index %u", i);
	}
}

FIXTURE_SETUP(attached)
{
	struct rlimit rl = { 3 * IRQROUTE_MAX_ROUTES + 256,
			     3 * IRQROUTE_MAX_ROUTES + 256 };
	unsigned int i;

	self->spare_trigger = -1;
	self->spare_irqfd = -1;
	/* Enough descriptors to fill every route of the full range. */
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));

	self->fd = irqroute_dev_open();
	ASSERT_LE(0, self->fd)
		TH_LOG("open %s: %s", IRQROUTE_DEV_PATH, strerror(-self->fd));
	self->vm = vm_create_irqchip();
	ASSERT_LE(0, self->vm);
	self->vcpu = vcpu_create_apic(self->vm, 0);
	ASSERT_LE(0, self->vcpu);
	ASSERT_EQ(0, __irqroute_attach(self->fd, self->vm, variant->gsi_base,
				       variant->nr_routes, variant->flags,
				       &self->shm_size));
	self->shm = irqroute_shm_map(self->fd, self->shm_size, MAP_SHARED, 0);
	ASSERT_NE(NULL, self->shm);

	self->nr_base = variant->nr_base;
	for (i = 0; i < variant->nr_base; i++)
		self->base[i] = ioapic_entry(variant->base_gsi[i],
					     variant->base_pin[i]);
	ASSERT_EQ(0, __irqroute_set_base(self->fd, self->base, self->nr_base));

	for (i = 0; i < NR_FIXTURE_ROUTES; i++)
		self->idx[i] = fixture_create(_metadata, self,
					      &self->trigger[i]);
	ASSERT_NE(variant->nr_routes - 1, self->idx[R_VICTIM]);
	self->nr_routes = variant->nr_routes;
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->idx[R_MSI],
					TEST_MSI_ADDR_LO, TEST_MSI_DATA, 0));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_MASK,
					 self->idx[R_MASKED], 0, NULL));
	snapshot(_metadata, self, variant);
}

FIXTURE_TEARDOWN(attached)
{
	unsigned int i;

	if (self->shm)
		munmap(self->shm, self->shm_size);
	close(self->fd);
	close(self->vcpu);
	close(self->vm);
	for (i = 0; i < NR_FIXTURE_ROUTES; i++)
		close(self->trigger[i]);
}

/*
 * One ioctl of the table below: how to build a valid argument for it on
 * the fixture, and how to undo its effect after it succeeded.
 */
struct op_desc {
	const char *name;
	unsigned long cmd;
	uint32_t size;
	/* The first version's size, if the struct has grown since; else 0. */
	uint32_t v1_size;
	uint32_t valid_flags;
	/* Offsets of __u32 inputs that must be zero; 0 ends the list. */
	uint32_t zero_off[3];
	/* Offset of the route index, or 0 for none. */
	uint32_t index_off;
	void (*fill)(FIXTURE_DATA(attached) *self, void *arg);
	void (*undo)(struct __test_metadata *_metadata,
		     FIXTURE_DATA(attached) *self, const void *arg);
};

static void fill_info(FIXTURE_DATA(attached) *self, void *arg)
{
	struct irqroute_info *i = arg;

	i->size = sizeof(*i);
}

static void fill_stats(FIXTURE_DATA(attached) *self, void *arg)
{
	struct irqroute_stats *s = arg;

	s->size = sizeof(*s);
}

static void fill_commit(FIXTURE_DATA(attached) *self, void *arg)
{
	struct irqroute_commit *c = arg;

	c->size = sizeof(*c);
}

/* The base routes the fixture already has: a commit that changes nothing. */
static void fill_base(FIXTURE_DATA(attached) *self, void *arg)
{
	struct irqroute_base_routes *b = arg;

	b->size = sizeof(*b);
	b->nr = self->nr_base;
	b->entries = (uintptr_t)self->base;
}

static void fill_create(FIXTURE_DATA(attached) *self, void *arg)
{
	struct irqroute_route_create *c = arg;

	self->spare_trigger = eventfd(0, EFD_CLOEXEC);
	self->spare_irqfd = eventfd(0, EFD_CLOEXEC);
	c->size = sizeof(*c);
	c->trigger_fd = self->spare_trigger;
	c->irqfd_fd = self->spare_irqfd;
	/* Free: where IRQROUTE_CREATE_F_INDEX puts it (an output otherwise). */
	c->index = self->nr_routes - 1;
}

/* The whole range: a delegation, closed again by the undo. */
static void fill_delegate(FIXTURE_DATA(attached) *self, void *arg)
{
	struct irqroute_delegate *dl = arg;

	dl->size = sizeof(*dl);
	dl->count = self->nr_routes;
	dl->fd = -1;
}

static void undo_delegate(struct __test_metadata *_metadata,
			  FIXTURE_DATA(attached) *self, const void *arg)
{
	const struct irqroute_delegate *dl = arg;

	ASSERT_LE(0, dl->fd);
	ASSERT_EQ(0, close(dl->fd));
}

static void fill_route_get(FIXTURE_DATA(attached) *self, void *arg)
{
	struct irqroute_route_info *info = arg;

	info->size = sizeof(*info);
	info->index = self->idx[R_MSI];
}

static void undo_create(struct __test_metadata *_metadata,
			FIXTURE_DATA(attached) *self, const void *arg)
{
	const struct irqroute_route_create *c = arg;

	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_ROUTE_DESTROY,
					 c->index, 0, NULL));
}

/* The MSI R_MSI already has. */
static void fill_msi(FIXTURE_DATA(attached) *self, void *arg)
{
	struct irqroute_msi *m = arg;

	m->size = sizeof(*m);
	m->index = self->idx[R_MSI];
	m->address_lo = TEST_MSI_ADDR_LO;
	m->data = TEST_MSI_DATA;
}

static void undo_msi(struct __test_metadata *_metadata,
		     FIXTURE_DATA(attached) *self, const void *arg)
{
	const struct irqroute_msi *m = arg;

	/* A staged change only takes effect at the commit. */
	if (m->flags & IRQROUTE_MSI_F_DEFER) {
		ASSERT_EQ(0, __irqroute_commit(self->fd));
	}
	/* Back to no device id. */
	if (m->flags & IRQROUTE_MSI_F_DEVID) {
		ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->idx[R_MSI],
						TEST_MSI_ADDR_LO,
						TEST_MSI_DATA, 0));
	}
}

/* One entry: the MSI R_MSI already has (a commit that changes nothing). */
static struct irqroute_msi msis_entry;

static void fill_msis(FIXTURE_DATA(attached) *self, void *arg)
{
	struct irqroute_msis *m = arg;

	fill_msi(self, &msis_entry);
	m->size = sizeof(*m);
	m->nr = 1;
	/* An output: whatever the caller leaves in it is ignored. */
	m->failed = 0xdeadbeef;
	m->entries = (uintptr_t)&msis_entry;
}

static void fill_op(struct irqroute_route_op *op, uint32_t index)
{
	op->size = sizeof(*op);
	op->index = index;
	/* An output: whatever the caller leaves in it is ignored. */
	op->result = 0xdeadbeef;
}

static void fill_destroy(FIXTURE_DATA(attached) *self, void *arg)
{
	fill_op(arg, self->idx[R_VICTIM]);
}

static void undo_destroy(struct __test_metadata *_metadata,
			 FIXTURE_DATA(attached) *self, const void *arg)
{
	ASSERT_EQ(-ENOENT, __irqroute_route_op(self->fd,
					       IRQROUTE_CONSUME_PENDING,
					       self->idx[R_VICTIM], 0, NULL));
	/* The trigger was released by the destroy: it can be used again. */
	ASSERT_EQ(0, __irqroute_create(self->fd, self->trigger[R_VICTIM],
				       &self->idx[R_VICTIM]));
}

static void fill_clear_msi(FIXTURE_DATA(attached) *self, void *arg)
{
	fill_op(arg, self->idx[R_MSI]);
}

static void undo_clear_msi(struct __test_metadata *_metadata,
			   FIXTURE_DATA(attached) *self, const void *arg)
{
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->idx[R_MSI],
					TEST_MSI_ADDR_LO, TEST_MSI_DATA, 0));
}

static void fill_mask(FIXTURE_DATA(attached) *self, void *arg)
{
	fill_op(arg, self->idx[R_MSI]);
}

static void undo_mask(struct __test_metadata *_metadata,
		      FIXTURE_DATA(attached) *self, const void *arg)
{
	ASSERT_EQ(1, shm_test_bit(self->shm, IRQROUTE_SHM_MASK_OFFSET,
				  self->idx[R_MSI]));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_UNMASK,
					 self->idx[R_MSI], 0, NULL));
}

static void fill_unmask(FIXTURE_DATA(attached) *self, void *arg)
{
	fill_op(arg, self->idx[R_MASKED]);
}

static void undo_unmask(struct __test_metadata *_metadata,
			FIXTURE_DATA(attached) *self, const void *arg)
{
	const struct irqroute_route_op *op = arg;

	/* PENDING_ONLY leaves the mask bit as the page has it. */
	if (op->flags & IRQROUTE_UNMASK_F_PENDING_ONLY) {
		ASSERT_EQ(1, shm_test_bit(self->shm, IRQROUTE_SHM_MASK_OFFSET,
					  self->idx[R_MASKED]));
		return;
	}
	ASSERT_EQ(0, shm_test_bit(self->shm, IRQROUTE_SHM_MASK_OFFSET,
				  self->idx[R_MASKED]));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_MASK,
					 self->idx[R_MASKED], 0, NULL));
}

static void fill_consume(FIXTURE_DATA(attached) *self, void *arg)
{
	fill_op(arg, self->idx[R_MASKED]);
}

static void undo_consume(struct __test_metadata *_metadata,
			 FIXTURE_DATA(attached) *self, const void *arg)
{
	const struct irqroute_route_op *op = arg;

	ASSERT_EQ(0, op->result);
}

#define OP(_cmd, _type, _valid, _fill, _undo, _index, ...) {		\
	.name = #_cmd, .cmd = _cmd, .size = sizeof(struct _type),	\
	.valid_flags = _valid, .fill = _fill, .undo = _undo,		\
	.index_off = _index, .zero_off = { __VA_ARGS__ },		\
}
#define OFF(_type, _field)	offsetof(struct _type, _field)

static const struct op_desc ops[] = {
	OP(IRQROUTE_GET_INFO, irqroute_info, 0, fill_info, NULL, 0),
	OP(IRQROUTE_SET_BASE_ROUTES, irqroute_base_routes, 0, fill_base,
	   NULL, 0, OFF(irqroute_base_routes, __reserved)),
	OP(IRQROUTE_COMMIT, irqroute_commit, 0, fill_commit, NULL, 0),
	{ .name = "IRQROUTE_GET_STATS", .cmd = IRQROUTE_GET_STATS,
	  .size = sizeof(struct irqroute_stats),
	  .v1_size = offsetof(struct irqroute_stats, deferred),
	  .fill = fill_stats },
	OP(IRQROUTE_ROUTE_CREATE, irqroute_route_create,
	   IRQROUTE_CREATE_F_VALID, fill_create,
	   undo_create, 0, OFF(irqroute_route_create, __reserved[0]),
	   OFF(irqroute_route_create, __reserved[1])),
	/* devid is only meaningful, and may only be non-zero, with DEVID. */
	OP(IRQROUTE_SET_MSI, irqroute_msi, IRQROUTE_MSI_F_VALID, fill_msi,
	   undo_msi, OFF(irqroute_msi, index), OFF(irqroute_msi, __reserved),
	   OFF(irqroute_msi, devid)),
	OP(IRQROUTE_ROUTE_DESTROY, irqroute_route_op,
	   IRQROUTE_DESTROY_F_HANDOVER, fill_destroy,
	   undo_destroy, OFF(irqroute_route_op, index)),
	OP(IRQROUTE_CLEAR_MSI, irqroute_route_op, IRQROUTE_MSI_F_DEFER,
	   fill_clear_msi, undo_clear_msi, OFF(irqroute_route_op, index)),
	OP(IRQROUTE_MASK, irqroute_route_op, 0, fill_mask, undo_mask,
	   OFF(irqroute_route_op, index)),
	OP(IRQROUTE_UNMASK, irqroute_route_op, IRQROUTE_UNMASK_F_PENDING_ONLY,
	   fill_unmask, undo_unmask, OFF(irqroute_route_op, index)),
	OP(IRQROUTE_CONSUME_PENDING, irqroute_route_op, 0, fill_consume,
	   undo_consume, OFF(irqroute_route_op, index)),
	OP(IRQROUTE_DELEGATE, irqroute_delegate, 0, fill_delegate,
	   undo_delegate, 0, OFF(irqroute_delegate, __reserved)),
	OP(IRQROUTE_ROUTE_GET, irqroute_route_info, 0, fill_route_get, NULL,
	   OFF(irqroute_route_info, index),
	   OFF(irqroute_route_info, __reserved)),
	OP(IRQROUTE_SET_MSIS, irqroute_msis, 0, fill_msis, NULL, 0),
};

/* Argument buffer: the largest struct plus a tail a newer ABI might use. */
union op_arg {
	struct irqroute_info info;
	struct irqroute_base_routes base;
	struct irqroute_commit commit;
	struct irqroute_stats stats;
	struct irqroute_route_create create;
	struct irqroute_msi msi;
	struct irqroute_route_op op;
	struct irqroute_route_info route_info;
	struct irqroute_delegate delegate;
	struct irqroute_msis msis;
	uint8_t bytes[sizeof(struct irqroute_stats) + TAIL];
};

static void op_fill(FIXTURE_DATA(attached) *self, const struct op_desc *op,
		    union op_arg *arg)
{
	memset(arg, 0, sizeof(*arg));
	op->fill(self, arg);
}

static void op_put(FIXTURE_DATA(attached) *self)
{
	if (self->spare_trigger >= 0)
		close(self->spare_trigger);
	if (self->spare_irqfd >= 0)
		close(self->spare_irqfd);
	self->spare_trigger = -1;
	self->spare_irqfd = -1;
}

/* Calls @op with @arg expecting @err; on success undoes it and snapshots. */
static void op_expect(struct __test_metadata *_metadata,
		      FIXTURE_DATA(attached) *self,
		      const FIXTURE_VARIANT(attached) *variant,
		      const struct op_desc *op, unsigned long cmd,
		      union op_arg *arg, int err)
{
	int ret = __irqroute_ioctl(self->fd, cmd, arg);

	op_put(self);
	ASSERT_EQ(-err, ret) TH_LOG("%s", op->name);
	if (err) {
		assert_unchanged(_metadata, self, variant);
		return;
	}
	if (op->undo)
		op->undo(_metadata, self, arg);
	snapshot(_metadata, self, variant);
}

/* Every op with its valid argument succeeds (the table itself is right). */
TEST_F(attached, valid_args)
{
	union op_arg arg;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		op_fill(self, &ops[i], &arg);
		op_expect(_metadata, self, variant, &ops[i], ops[i].cmd, &arg,
			  0);
	}
	assert_still_works(_metadata, self, variant);
}

TEST_F(attached, null_arg)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		ASSERT_EQ(-EFAULT, __irqroute_ioctl(self->fd, ops[i].cmd, NULL))
			TH_LOG("%s", ops[i].name);
		assert_unchanged(_metadata, self, variant);
	}
	assert_still_works(_metadata, self, variant);
}

/*
 * The size field is readable but the struct runs into an unmapped page:
 * EFAULT, and nothing half-done.
 */
TEST_F(attached, partial_arg)
{
	long page = getpagesize();
	unsigned int i;
	char *buf;

	buf = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, mprotect(buf + page, page, PROT_NONE));

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		union op_arg arg;
		char *p = buf + page - sizeof(uint32_t);

		op_fill(self, &ops[i], &arg);
		memcpy(p, &arg, sizeof(uint32_t));
		ASSERT_EQ(-EFAULT, __irqroute_ioctl(self->fd, ops[i].cmd, p))
			TH_LOG("%s", ops[i].name);
		op_put(self);
		assert_unchanged(_metadata, self, variant);
	}
	munmap(buf, 2 * page);
	assert_still_works(_metadata, self, variant);
}

TEST_F(attached, size_short)
{
	unsigned int i;
	uint32_t size;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		uint32_t min = ops[i].v1_size ?: ops[i].size;

		for (size = 0; size < min; size++) {
			union op_arg arg;

			op_fill(self, &ops[i], &arg);
			arg.info.size = size;
			op_expect(_metadata, self, variant, &ops[i],
				  ops[i].cmd, &arg, EINVAL);
		}
	}
	assert_still_works(_metadata, self, variant);
}

/*
 * A struct that has grown is still taken at its first version's size, and
 * the kernel writes nothing past it.
 */
TEST_F(attached, size_first_version)
{
	unsigned int i, j, tested = 0;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		union op_arg arg;
		uint32_t v1 = ops[i].v1_size;

		if (!v1)
			continue;
		op_fill(self, &ops[i], &arg);
		arg.info.size = v1;
		memset(arg.bytes + v1, 0xa5, sizeof(arg) - v1);
		op_expect(_metadata, self, variant, &ops[i], ops[i].cmd, &arg,
			  0);
		for (j = v1; j < sizeof(arg); j++) {
			ASSERT_EQ(0xa5, arg.bytes[j])
				TH_LOG("%s wrote byte %u", ops[i].name, j);
		}
		tested++;
	}
	ASSERT_LT(0, tested);
	assert_still_works(_metadata, self, variant);
}

/* A newer userspace's larger struct with a zero tail works as usual. */
TEST_F(attached, size_long_zero_tail)
{
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		union op_arg arg;

		op_fill(self, &ops[i], &arg);
		arg.info.size = ops[i].size + TAIL;
		op_expect(_metadata, self, variant, &ops[i], ops[i].cmd, &arg,
			  0);
		/* Outputs are written within the size the kernel knows. */
		for (j = ops[i].size; j < ops[i].size + TAIL; j++) {
			ASSERT_EQ(0, arg.bytes[j])
				TH_LOG("%s wrote byte %u", ops[i].name, j);
		}
	}
	assert_still_works(_metadata, self, variant);
}

TEST_F(attached, size_long_nonzero_tail)
{
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		for (j = 0; j < TAIL; j++) {
			union op_arg arg;

			op_fill(self, &ops[i], &arg);
			arg.info.size = ops[i].size + TAIL;
			arg.bytes[ops[i].size + j] = 0x01;
			op_expect(_metadata, self, variant, &ops[i],
				  ops[i].cmd, &arg, E2BIG);
		}
	}
	assert_still_works(_metadata, self, variant);
}

/*
 * Each of the 32 flag bits alone: the ioctl's valid bits work, every
 * other bit is EINVAL. Then all invalid bits at once.
 */
TEST_F(attached, flags_sweep)
{
	unsigned int i, bit;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		union op_arg arg;

		for (bit = 0; bit < 32; bit++) {
			uint32_t flag = 1U << bit;

			op_fill(self, &ops[i], &arg);
			arg.info.flags = flag;
			op_expect(_metadata, self, variant, &ops[i],
				  ops[i].cmd, &arg,
				  flag & ops[i].valid_flags ? 0 : EINVAL);
		}
		op_fill(self, &ops[i], &arg);
		arg.info.flags = ~ops[i].valid_flags;
		op_expect(_metadata, self, variant, &ops[i], ops[i].cmd, &arg,
			  EINVAL);
	}
	assert_still_works(_metadata, self, variant);
}

TEST_F(attached, reserved_nonzero)
{
	static const uint32_t values[] = { 1, 0x80000000u, UINT32_MAX };
	unsigned int i, j, k;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		for (j = 0; j < 3 && ops[i].zero_off[j]; j++) {
			for (k = 0; k < ARRAY_SIZE(values); k++) {
				union op_arg arg;

				op_fill(self, &ops[i], &arg);
				memcpy(arg.bytes + ops[i].zero_off[j],
				       &values[k], sizeof(uint32_t));
				op_expect(_metadata, self, variant, &ops[i],
					  ops[i].cmd, &arg, EINVAL);
			}
		}
	}
	assert_still_works(_metadata, self, variant);
}

TEST_F(attached, index_out_of_range)
{
	const uint32_t bad[] = {
		variant->nr_routes, variant->nr_routes + 1,
		IRQROUTE_MAX_ROUTES, 0x80000000u, UINT32_MAX,
	};
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		if (!ops[i].index_off)
			continue;
		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			union op_arg arg;

			op_fill(self, &ops[i], &arg);
			memcpy(arg.bytes + ops[i].index_off, &bad[j],
			       sizeof(uint32_t));
			op_expect(_metadata, self, variant, &ops[i],
				  ops[i].cmd, &arg, EINVAL);
		}
	}
	assert_still_works(_metadata, self, variant);
}

/* In range but no route there: never created, or destroyed. */
TEST_F(attached, index_not_live)
{
	uint32_t destroyed;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		union op_arg arg;
		uint32_t index = variant->nr_routes - 1;

		if (!ops[i].index_off)
			continue;
		op_fill(self, &ops[i], &arg);
		memcpy(arg.bytes + ops[i].index_off, &index, sizeof(index));
		op_expect(_metadata, self, variant, &ops[i], ops[i].cmd, &arg,
			  ENOENT);
	}

	destroyed = self->idx[R_VICTIM];
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_ROUTE_DESTROY,
					 destroyed, 0, NULL));
	/* The victim's slot: let assert_unchanged() check R_MSI twice. */
	self->idx[R_VICTIM] = self->idx[R_MSI];
	snapshot(_metadata, self, variant);
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		union op_arg arg;

		if (!ops[i].index_off)
			continue;
		op_fill(self, &ops[i], &arg);
		memcpy(arg.bytes + ops[i].index_off, &destroyed,
		       sizeof(destroyed));
		op_expect(_metadata, self, variant, &ops[i], ops[i].cmd, &arg,
			  ENOENT);
	}
	ASSERT_EQ(0, __irqroute_create(self->fd, self->trigger[R_VICTIM],
				       &self->idx[R_VICTIM]));
	snapshot(_metadata, self, variant);
	assert_still_works(_metadata, self, variant);
}

/*
 * The ioctl number is matched exactly, the size bits included: the same
 * number and direction with any other size is not an irqroute ioctl
 * (ENOTTY, nothing done). The struct's size field, not the number, says
 * how much was passed.
 */
TEST_F(attached, cmd_size_exact)
{
	static const unsigned int sizes[] = { 0, 1, 8, _IOC_SIZEMASK };
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		for (j = 0; j < ARRAY_SIZE(sizes); j++) {
			unsigned long cmd = _IOC(_IOC_DIR(ops[i].cmd),
						 IRQROUTE_TYPE,
						 _IOC_NR(ops[i].cmd), sizes[j]);
			union op_arg arg;

			if (cmd == ops[i].cmd)
				continue;
			op_fill(self, &ops[i], &arg);
			op_expect(_metadata, self, variant, &ops[i], cmd, &arg,
				  ENOTTY);
		}
	}
	assert_still_works(_metadata, self, variant);
}

static bool known_cmd(unsigned int dir, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (_IOC_DIR(ops[i].cmd) == dir && _IOC_NR(ops[i].cmd) == nr)
			return true;
	return _IOC_DIR(IRQROUTE_ATTACH) == dir &&
	       _IOC_NR(IRQROUTE_ATTACH) == nr;
}

/*
 * Every number on the magic in every direction that is not an irqroute
 * ioctl (including known numbers with the wrong direction), and ioctls of
 * other drivers: ENOTTY, attached or not.
 */
static void assert_unknown_ioctls(struct __test_metadata *_metadata, int fd)
{
	static const unsigned int dirs[] = {
		_IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE,
	};
	static const unsigned long foreign[] = {
		KVM_GET_API_VERSION, KVM_CREATE_VM, KVM_SET_GSI_ROUTING,
		KVM_IRQFD, TCGETS,
		_IOWR('x', 0x00, struct irqroute_info),
		_IOWR(IRQROUTE_TYPE + 1, 0x00, struct irqroute_info),
	};
	static uint8_t buf[4096];
	unsigned int d, nr, i;

	for (d = 0; d < ARRAY_SIZE(dirs); d++) {
		for (nr = 0; nr <= 0xff; nr++) {
			if (known_cmd(dirs[d], nr))
				continue;
			memset(buf, 0, sizeof(buf));
			*(uint32_t *)buf = 64;
			EXPECT_EQ(-ENOTTY,
				  __irqroute_ioctl(fd, _IOC(dirs[d],
							   IRQROUTE_TYPE, nr,
							   64), buf))
				TH_LOG("dir %u nr %#x", dirs[d], nr);
		}
	}
	for (i = 0; i < ARRAY_SIZE(foreign); i++) {
		memset(buf, 0, sizeof(buf));
		EXPECT_EQ(-ENOTTY, __irqroute_ioctl(fd, foreign[i], buf))
			TH_LOG("cmd %#lx", foreign[i]);
	}
}

TEST_F(attached, unknown_ioctl)
{
	assert_unknown_ioctls(_metadata, self->fd);
	assert_still_works(_metadata, self, variant);
}

TEST(unknown_ioctl_unattached)
{
	int fd, vm;

	fd = irqroute_dev_open();
	ASSERT_LE(0, fd);
	assert_unknown_ioctls(_metadata, fd);
	vm = vm_create_irqchip();
	ASSERT_LE(0, vm);
	ASSERT_EQ(0, __irqroute_attach(fd, vm, 24, 8, 0, NULL));
	close(fd);
	close(vm);
}

/*
 * ROUTE_CREATE must check both descriptors before it takes anything: a
 * refused create keeps neither eventfd, and the same eventfds then work.
 */
TEST_F(attached, create_bad_fds)
{
	int good_trigger, good_irqfd, devnull, closed;
	unsigned int i;

	good_trigger = eventfd(0, EFD_CLOEXEC);
	good_irqfd = eventfd(0, EFD_CLOEXEC);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	closed = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, good_trigger);
	ASSERT_LE(0, good_irqfd);
	ASSERT_LE(0, devnull);
	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));

	const struct {
		const char *what;
		int trigger, irqfd, err;
	} bad[] = {
		{ "trigger /dev/null", devnull, good_irqfd, EBADFD },
		{ "irqfd /dev/null", good_trigger, devnull, EBADFD },
		{ "trigger closed", closed, good_irqfd, EBADF },
		{ "irqfd closed", good_trigger, closed, EBADF },
		{ "trigger -1", -1, good_irqfd, EBADF },
		{ "irqfd -1", good_trigger, -1, EBADF },
	};

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(-bad[i].err,
			  __irqroute_create_fds(self->fd, bad[i].trigger,
						bad[i].irqfd, NULL, NULL))
			TH_LOG("%s", bad[i].what);
		assert_unchanged(_metadata, self, variant);
	}

	/* Other kinds of files that are not eventfds. */
	ASSERT_EQ(-EBADFD, __irqroute_create_fds(self->fd, self->vm,
						 good_irqfd, NULL, NULL));
	ASSERT_EQ(-EBADFD, __irqroute_create_fds(self->fd, self->fd,
						 good_irqfd, NULL, NULL));
	ASSERT_EQ(-EBADFD, __irqroute_create_fds(self->fd, good_trigger,
						 self->vm, NULL, NULL));
	assert_unchanged(_metadata, self, variant);

	ASSERT_EQ(0, __irqroute_create_fds(self->fd, good_trigger, good_irqfd,
					   NULL, NULL));
	close(devnull);
	close(good_irqfd);
	close(good_trigger);
}

TEST_F(attached, create_same_eventfd)
{
	int efd, dupfd, irqfd;

	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	dupfd = dup(efd);
	ASSERT_LE(0, dupfd);
	irqfd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, irqfd);

	/* One eventfd cannot be both: compared as eventfds, not numbers. */
	ASSERT_EQ(-EINVAL, __irqroute_create_fds(self->fd, efd, efd,
						 NULL, NULL));
	ASSERT_EQ(-EINVAL, __irqroute_create_fds(self->fd, efd, dupfd,
						 NULL, NULL));
	assert_unchanged(_metadata, self, variant);

	/* A trigger belongs to one route only. */
	ASSERT_EQ(-EBUSY, __irqroute_create_fds(self->fd, self->trigger[R_MSI],
						irqfd, NULL, NULL));
	ASSERT_EQ(-EBUSY, __irqroute_create(self->fd, self->trigger[R_MASKED],
					    NULL));
	assert_unchanged(_metadata, self, variant);

	/*
	 * A private eventfd KVM's irqfd already waits on: KVM_IRQFD refuses
	 * a second irqfd on it (EBUSY), and the module may not wait in front
	 * of it as a trigger either.
	 */
	ASSERT_EQ(0, __irqroute_create_fds(self->fd, efd, irqfd, NULL, NULL));
	snapshot(_metadata, self, variant);
	close(dupfd);
	dupfd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, dupfd);
	ASSERT_EQ(-EBUSY, __irqroute_create_fds(self->fd, dupfd, irqfd,
						NULL, NULL));
	ASSERT_EQ(-EBUSY, __irqroute_create_fds(self->fd, irqfd, dupfd,
						NULL, NULL));
	assert_unchanged(_metadata, self, variant);

	close(dupfd);
	close(irqfd);
	close(efd);
}

/*
 * An eventfd that the VMM bound with KVM_IRQFD itself already has KVM's
 * exclusive waiter: the gate cannot sit on it.
 */
TEST_F(attached, create_trigger_is_kvm_irqfd)
{
	struct kvm_irqfd kirq = { .gsi = 5 };
	int efd;

	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	kirq.fd = efd;
	ASSERT_EQ(0, ioctl(self->vm, KVM_IRQFD, &kirq));
	ASSERT_EQ(-EBUSY, __irqroute_create(self->fd, efd, NULL));
	assert_unchanged(_metadata, self, variant);

	kirq.flags = KVM_IRQFD_FLAG_DEASSIGN;
	ASSERT_EQ(0, ioctl(self->vm, KVM_IRQFD, &kirq));
	close(efd);
	assert_still_works(_metadata, self, variant);
}

/*
 * A private eventfd must be fresh. Another route's trigger as irqfd_fd
 * would put KVM's irqfd for the new GSI ahead of that route's gate on
 * kernels before 6.17 (every signal straight to KVM, past the mask); an
 * eventfd with a count or a waiter of the VMM's is refused the same way.
 * The masked route keeps pending its signals and nothing reaches KVM.
 */
TEST_F(attached, create_irqfd_not_fresh)
{
	int trigger, counted, polled, ep, i;
	struct epoll_event ev = { .events = EPOLLIN };
	uint32_t index, result;
	const struct {
		const char *what;
		int *fd;
	} live[] = {
		{ "R_MASKED's trigger", &self->trigger[R_MASKED] },
		{ "R_MSI's trigger", &self->trigger[R_MSI] },
		{ "an eventfd with a count", &counted },
		{ "an eventfd in the VMM's epoll", &polled },
	};

	trigger = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	counted = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
	polled = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, trigger);
	ASSERT_LE(0, counted);
	ASSERT_LE(0, polled);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, polled, &ev));

	for (i = 0; i < (int)ARRAY_SIZE(live); i++) {
		index = UINT32_MAX;
		EXPECT_EQ(-EBUSY, __irqroute_create_fds(self->fd, trigger,
							*live[i].fd, &index,
							NULL))
			TH_LOG("irqfd_fd = %s", live[i].what);
		if (index != UINT32_MAX) {
			/* Accepted: route it where a bypass would show. */
			EXPECT_EQ(0, __irqroute_set_msi(self->fd, index,
							TEST_MSI_ADDR_LO,
							TEST_MSI_DATA + 2, 0));
			ASSERT_EQ(0, eventfd_signal_once(self->trigger[R_MASKED]));
			EXPECT_EQ(0, vcpu_irr_take(self->vcpu,
						   TEST_MSI_DATA + 2, 500))
				TH_LOG("R_MASKED's signal went to KVM");
			EXPECT_EQ(1, shm_test_bit(self->shm,
						  IRQROUTE_SHM_PENDING_OFFSET,
						  self->idx[R_MASKED]))
				TH_LOG("R_MASKED's signal is not pending");
			ASSERT_EQ(0, __irqroute_route_op(self->fd,
							 IRQROUTE_ROUTE_DESTROY,
							 index, 0, NULL));
			ASSERT_EQ(0, __irqroute_commit(self->fd));
			__irqroute_route_op(self->fd, IRQROUTE_CONSUME_PENDING,
					    self->idx[R_MASKED], 0, NULL);
			snapshot(_metadata, self, variant);
		}
		assert_unchanged(_metadata, self, variant);
	}
	/* The masked route still pends; the count was not taken either. */
	ASSERT_EQ(0, eventfd_signal_once(self->trigger[R_MASKED]));
	ASSERT_EQ(self->st.pended + 1,
		  wait_stat(self->fd, pended, self->st.pended + 1));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_CONSUME_PENDING,
					 self->idx[R_MASKED], 0, &result));
	ASSERT_EQ(1, result);
	snapshot(_metadata, self, variant);
	close(ep);
	close(polled);
	close(counted);
	close(trigger);
	assert_still_works(_metadata, self, variant);
}

/* Is the running kernel @major.@minor or newer? */
static bool kernel_at_least(unsigned int major, unsigned int minor)
{
	unsigned int ma = 0, mi = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/*
 * A KVM_IRQFD the VMM makes on gated triggers behind irqroute's back,
 * for R_VICTIM's GSI, given an MSI of its own so that anything KVM's
 * irqfd injects shows in vCPU 0's IRR. From 6.17 KVM refuses (EBUSY: the
 * gate is an exclusive priority waiter). Before, KVM accepts, but its
 * irqfd queues behind the gate, which stops the walk: it never fires, and
 * the routes' mask, pending bit and MSI hold.
 */
TEST_F(attached, kvm_irqfd_on_trigger)
{
	const unsigned int victim_vec = TEST_MSI_DATA + 3;
	struct kvm_irqfd kirq[2] = {
		{ .fd = self->trigger[R_MASKED] },
		{ .fd = self->trigger[R_MSI] },
	};
	uint32_t result;
	unsigned int i;
	int ret;

	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->idx[R_VICTIM],
					TEST_MSI_ADDR_LO, victim_vec, 0));
	for (i = 0; i < 2; i++) {
		kirq[i].gsi = variant->gsi_base + self->idx[R_VICTIM];
		ret = ioctl(self->vm, KVM_IRQFD, &kirq[i]) ? -errno : 0;
		if (kernel_at_least(6, 17)) {
			ASSERT_EQ(-EBUSY, ret);
		} else {
			ASSERT_EQ(0, ret)
				TH_LOG("KVM_IRQFD before 6.17: %s",
				       strerror(-ret));
		}
	}

	/* Masked: pending, nothing reached KVM. */
	ASSERT_EQ(0, eventfd_signal_once(self->trigger[R_MASKED]));
	ASSERT_EQ(0, vcpu_irr_take(self->vcpu, victim_vec, 500))
		TH_LOG("KVM's irqfd took R_MASKED's signal");
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_CONSUME_PENDING,
					 self->idx[R_MASKED], 0, &result));
	ASSERT_EQ(1, result);
	/* Unmasked: its own MSI, once, and not the irqfd's GSI. */
	ASSERT_EQ(0, eventfd_signal_once(self->trigger[R_MSI]));
	ASSERT_EQ(1, vcpu_irr_take(self->vcpu, TEST_MSI_DATA, 2000));
	ASSERT_EQ(0, vcpu_irr_take(self->vcpu, victim_vec, 0))
		TH_LOG("KVM's irqfd took R_MSI's signal");

	for (i = 0; i < 2 && !kernel_at_least(6, 17); i++) {
		kirq[i].flags = KVM_IRQFD_FLAG_DEASSIGN;
		ASSERT_EQ(0, ioctl(self->vm, KVM_IRQFD, &kirq[i]));
	}
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_CLEAR_MSI,
					 self->idx[R_VICTIM], 0, NULL));
	snapshot(_metadata, self, variant);
	assert_still_works(_metadata, self, variant);
}

/*
 * The caller's contract on irqfd_fd, exactly as documented: a descriptor
 * kept after the create keeps KVM's irqfd bound to the GSI past destroy.
 * Signalling it injects what KVM's table routes the GSI to: nothing once
 * the destroyed route's MSI is committed away, but a new route on the
 * same index (same GSI) is reached past its mask. Closing it ends that.
 */
TEST_F(attached, kept_irqfd_fd)
{
	const unsigned int vec_a = TEST_MSI_DATA + 4, vec_b = TEST_MSI_DATA + 5;
	uint32_t index = 0, again = UINT32_MAX;
	int trig, trig2, kept;

	trig = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	trig2 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	kept = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, trig);
	ASSERT_LE(0, trig2);
	ASSERT_LE(0, kept);
	ASSERT_EQ(0, __irqroute_create_fds(self->fd, trig, kept, &index,
					   NULL));
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, index, TEST_MSI_ADDR_LO,
					vec_a, 0));
	ASSERT_EQ(0, eventfd_signal_once(trig));
	ASSERT_EQ(1, vcpu_irr_take(self->vcpu, vec_a, 2000));

	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_ROUTE_DESTROY,
					 index, 0, NULL));
	ASSERT_EQ(0, __irqroute_commit(self->fd));
	ASSERT_EQ(0, eventfd_signal_once(kept));
	ASSERT_EQ(0, vcpu_irr_take(self->vcpu, vec_a, 500));

	/* A new route gets the index, and so the GSI, back. */
	ASSERT_EQ(0, __irqroute_create(self->fd, trig2, &again));
	ASSERT_EQ(index, again);
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, again, TEST_MSI_ADDR_LO,
					vec_b, 0));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_MASK, again, 0,
					 NULL));
	ASSERT_EQ(0, eventfd_signal_once(kept));
	ASSERT_EQ(1, vcpu_irr_take(self->vcpu, vec_b, 2000))
		TH_LOG("the kept irqfd_fd no longer reaches the GSI: update irqroute.rst");
	/* The route's own trigger still pends, as a masked route does. */
	ASSERT_EQ(0, eventfd_signal_once(trig2));
	ASSERT_EQ(1, shm_test_bit(self->shm, IRQROUTE_SHM_PENDING_OFFSET,
				  again));
	ASSERT_EQ(0, vcpu_irr_take(self->vcpu, vec_b, 200));

	close(kept);
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_ROUTE_DESTROY,
					 again, 0, NULL));
	ASSERT_EQ(0, __irqroute_commit(self->fd));
	close(trig2);
	close(trig);
	snapshot(_metadata, self, variant);
	assert_still_works(_metadata, self, variant);
}

/* Every route of the range, then ENOSPC; a freed index is reused. */
TEST_F_TIMEOUT(attached, enospc, 300)
{
	uint32_t nr = variant->nr_routes, i, index = 0, freed = 0;
	int *triggers, efd;

	triggers = calloc(nr, sizeof(*triggers));
	ASSERT_NE(NULL, triggers);
	for (i = 0; i < nr - NR_FIXTURE_ROUTES; i++) {
		triggers[i] = eventfd(0, EFD_CLOEXEC);
		ASSERT_LE(0, triggers[i]);
		ASSERT_EQ(0, __irqroute_create(self->fd, triggers[i], &index))
			TH_LOG("route %u of %u", i + NR_FIXTURE_ROUTES, nr);
		ASSERT_GT(nr, index);
		if (i == (nr - NR_FIXTURE_ROUTES) / 2)
			freed = index;
	}
	ASSERT_EQ(0, __irqroute_get_stats(self->fd, &self->st));

	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(-ENOSPC, __irqroute_create(self->fd, efd, NULL));
	ASSERT_EQ(-ENOSPC, __irqroute_create(self->fd, efd, NULL));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_CONSUME_PENDING,
					 freed, 0, NULL));

	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_ROUTE_DESTROY,
					 freed, 0, NULL));
	/* The refused creates kept nothing: efd works, in the freed slot. */
	ASSERT_EQ(0, __irqroute_create(self->fd, efd, &index));
	ASSERT_EQ(freed, index);
	ASSERT_EQ(-ENOSPC, __irqroute_create(self->fd,
					     triggers[(nr - NR_FIXTURE_ROUTES)
						      / 2], NULL));
	/* The last index works like any other. */
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, nr - 1, TEST_MSI_ADDR_LO,
					TEST_MSI_DATA, 0));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_MASK, nr - 1, 0,
					 NULL));

	for (i = 0; i < nr - NR_FIXTURE_ROUTES; i++)
		close(triggers[i]);
	close(efd);
	free(triggers);
}

/*
 * The @n-th GSI that is neither in the variant's route range nor one of
 * the x86 defaults it may have, or -1 if there is none.
 */
static int64_t outside_gsi(const FIXTURE_VARIANT(attached) *variant,
			   uint32_t n)
{
	uint32_t gsi = 0;

	if (variant->flags & IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES)
		gsi = 24;
	for (; gsi < IRQROUTE_MAX_ROUTES; gsi++) {
		if (gsi >= variant->gsi_base &&
		    gsi < variant->gsi_base + variant->nr_routes)
			continue;
		if (!n--)
			return gsi;
	}
	return -1;
}

/* IRQROUTE_SET_MSIS with @nr entries at @e; *@failed gets its output. */
static int set_msis(int fd, const struct irqroute_msi *e, uint32_t nr,
		    uint32_t flags, uint32_t *failed)
{
	struct irqroute_msis m = {
		.size = sizeof(m),
		.flags = flags,
		.nr = nr,
		.failed = 0xdeadbeef,
		.entries = (uintptr_t)e,
	};
	int ret = __irqroute_ioctl(fd, IRQROUTE_SET_MSIS, &m);

	*failed = m.failed;
	return ret;
}

/*
 * Every SET_MSIS input the module refuses, with the entry it names in
 * failed (nr when no entry is to blame), and nothing staged: e[0], a new
 * MSI for R_VICTIM, is valid in each call, and the commit at the end
 * finds nothing to send.
 */
TEST_F(attached, set_msis_refused)
{
	const struct irqroute_msi good = {
		.size = sizeof(good), .index = self->idx[R_VICTIM],
		.address_lo = TEST_MSI_ADDR_LO, .data = TEST_MSI_DATA + 2,
	};
	const struct irqroute_msi ok1 = {
		.size = sizeof(ok1), .index = self->idx[R_MASKED],
		.address_lo = TEST_MSI_ADDR_LO, .data = TEST_MSI_DATA + 3,
	};
	static const uint32_t bad_flags[] = {
		IRQROUTE_MSI_F_DEFER, 0x8, 0x80000000,
		IRQROUTE_MSI_F_CLEAR | IRQROUTE_MSI_F_DEFER,
	};
	struct irqroute_msi e[2];
	struct irqroute_stats st;
	uint32_t failed, i;

	/* The call as a whole: failed = nr. */
	e[0] = good;
	e[1] = ok1;
	ASSERT_EQ(-EINVAL, set_msis(self->fd, e, 2, 1, &failed));
	EXPECT_EQ(2, failed);
	ASSERT_EQ(-EINVAL, set_msis(self->fd, e, 2, 0x80000000, &failed));
	EXPECT_EQ(2, failed);
	ASSERT_EQ(-EINVAL, set_msis(self->fd, e, variant->nr_routes + 1, 0,
				    &failed));
	EXPECT_EQ(variant->nr_routes + 1, failed);
	ASSERT_EQ(-EINVAL, set_msis(self->fd, e, UINT32_MAX, 0, &failed));
	EXPECT_EQ(UINT32_MAX, failed);
	ASSERT_EQ(-EFAULT, set_msis(self->fd, NULL, 1, 0, &failed));
	EXPECT_EQ(1, failed);
	ASSERT_EQ(-EFAULT, set_msis(self->fd, (void *)8, 2, 0, &failed));
	EXPECT_EQ(2, failed);
	assert_unchanged(_metadata, self, variant);

	/* One bad entry after a good one: failed = 1. */
#define BAD_ENTRY(_err, ...) do {					\
		e[0] = good;						\
		e[1] = ok1;						\
		__VA_ARGS__;						\
		ASSERT_EQ(-(_err), set_msis(self->fd, e, 2, 0, &failed)); \
		EXPECT_EQ(1, failed);					\
		assert_unchanged(_metadata, self, variant);		\
	} while (0)
	BAD_ENTRY(EINVAL, e[1].size = 0);
	BAD_ENTRY(EINVAL, e[1].size = sizeof(e[1]) - 1);
	BAD_ENTRY(EINVAL, e[1].size = sizeof(e[1]) + 4);
	for (i = 0; i < ARRAY_SIZE(bad_flags); i++)
		BAD_ENTRY(EINVAL, e[1].flags = bad_flags[i]);
	BAD_ENTRY(EINVAL, e[1].__reserved = 1);
	BAD_ENTRY(EINVAL, e[1].devid = 1);
	BAD_ENTRY(EINVAL, e[1].flags = IRQROUTE_MSI_F_CLEAR);
	BAD_ENTRY(EINVAL, e[1].flags = IRQROUTE_MSI_F_CLEAR |
				       IRQROUTE_MSI_F_DEVID;
		  e[1].data = 0; e[1].address_lo = 0);
	BAD_ENTRY(EINVAL, e[1].flags = IRQROUTE_MSI_F_CLEAR; e[1].data = 0;
		  e[1].address_lo = 0; e[1].address_hi = 1);
	BAD_ENTRY(EINVAL, e[1].index = variant->nr_routes);
	BAD_ENTRY(EINVAL, e[1].index = UINT32_MAX);
	/* No route there (assert_unchanged checks that it is free). */
	BAD_ENTRY(ENOENT, e[1].index = variant->nr_routes - 1);
	/* Two entries for one route. */
	BAD_ENTRY(EINVAL, e[1].index = good.index);
#undef BAD_ENTRY

	/* Nothing was staged: the commit has nothing to send. */
	ASSERT_EQ(0, __irqroute_commit(self->fd));
	ASSERT_EQ(0, __irqroute_get_stats(self->fd, &st));
	EXPECT_EQ(self->st.commits, st.commits);
	EXPECT_EQ(self->st.commits_skipped + 1, st.commits_skipped);
	snapshot(_metadata, self, variant);

	/* nr 0 reads nothing, changes nothing; success: failed = nr. */
	ASSERT_EQ(0, set_msis(self->fd, NULL, 0, 0, &failed));
	EXPECT_EQ(0, failed);
	assert_unchanged(_metadata, self, variant);
	e[0] = good;
	e[1] = ok1;
	e[1].flags = IRQROUTE_MSI_F_CLEAR;
	e[1].address_lo = 0;
	e[1].data = 0;
	ASSERT_EQ(0, set_msis(self->fd, e, 2, 0, &failed));
	EXPECT_EQ(2, failed);
	ASSERT_EQ(0, __irqroute_get_stats(self->fd, &st));
	EXPECT_EQ(self->st.commits + 1, st.commits);
	/* R_VICTIM has the MSI now: a set of the same one is skipped. */
	ASSERT_EQ(0, set_msis(self->fd, e, 1, 0, &failed));
	ASSERT_EQ(0, __irqroute_get_stats(self->fd, &st));
	EXPECT_EQ(self->st.commits + 1, st.commits);
	EXPECT_EQ(self->st.commits_skipped + 1, st.commits_skipped);
	e[0].flags = IRQROUTE_MSI_F_CLEAR;
	e[0].address_lo = 0;
	e[0].data = 0;
	ASSERT_EQ(0, set_msis(self->fd, e, 1, 0, &failed));
	ASSERT_EQ(0, __irqroute_get_stats(self->fd, &st));
	EXPECT_EQ(self->st.commits + 2, st.commits);
	snapshot(_metadata, self, variant);
	assert_still_works(_metadata, self, variant);
}

TEST_F(attached, base_routes_refused)
{
	const uint32_t in_range[] = {
		variant->gsi_base, variant->gsi_base + variant->nr_routes - 1,
	};
	struct kvm_irq_routing_entry e[3], *many;
	int64_t ok_gsi = outside_gsi(variant, 5);
	unsigned int i;
	long page = getpagesize();
	char *buf;

	/* GSIs of the route range, and beyond KVM's table. */
	for (i = 0; i < ARRAY_SIZE(in_range); i++) {
		e[0] = ioapic_entry(in_range[i], 3);
		ASSERT_EQ(-EINVAL, __irqroute_set_base(self->fd, e, 1))
			TH_LOG("GSI %u", in_range[i]);
		assert_unchanged(_metadata, self, variant);
	}
	e[0] = ioapic_entry(IRQROUTE_MAX_ROUTES, 3);
	ASSERT_EQ(-EINVAL, __irqroute_set_base(self->fd, e, 1));
	e[0] = ioapic_entry(UINT32_MAX, 3);
	ASSERT_EQ(-EINVAL, __irqroute_set_base(self->fd, e, 1));
	assert_unchanged(_metadata, self, variant);

	/* One bad entry after good ones refuses the whole set. */
	if (ok_gsi >= 0) {
		e[0] = ioapic_entry(ok_gsi, 3);
		e[1] = ioapic_entry(ok_gsi + 1, 5);
		e[2] = ioapic_entry(variant->gsi_base, 6);
		ASSERT_EQ(-EINVAL, __irqroute_set_base(self->fd, e, 3));
		assert_unchanged(_metadata, self, variant);

		/* Entries KVM itself refuses: its errno, old table kept. */
		e[1] = ioapic_entry(ok_gsi + 1, 24);	/* no such pin */
		ASSERT_EQ(-EINVAL, __irqroute_set_base(self->fd, e, 2));
		e[1] = ioapic_entry(ok_gsi + 1, 5);
		e[1].type = 0x5a5a;
		ASSERT_EQ(-EINVAL, __irqroute_set_base(self->fd, e, 2));
		e[1] = ioapic_entry(ok_gsi + 1, 5);
		e[1].flags = 1;
		ASSERT_EQ(-EINVAL, __irqroute_set_base(self->fd, e, 2));
		/* The same GSI twice on the same irqchip. */
		e[1] = ioapic_entry(ok_gsi, 5);
		ASSERT_EQ(-EINVAL, __irqroute_set_base(self->fd, e, 2));
		assert_unchanged(_metadata, self, variant);
	}

	/* More entries than KVM's table can hold, up to a wrapping size. */
	many = calloc(IRQROUTE_MAX_ROUTES + 1, sizeof(*many));
	ASSERT_NE(NULL, many);
	for (i = 0; i <= IRQROUTE_MAX_ROUTES; i++)
		many[i] = ioapic_entry(ok_gsi >= 0 ? ok_gsi : 0, 3);
	ASSERT_EQ(-EINVAL, __irqroute_set_base(self->fd, many,
					       IRQROUTE_MAX_ROUTES + 1));
	ASSERT_EQ(-EINVAL, __irqroute_set_base(self->fd, many, 0x10000000));
	ASSERT_EQ(-EINVAL, __irqroute_set_base(self->fd, many, UINT32_MAX));
	free(many);
	assert_unchanged(_metadata, self, variant);

	/*
	 * Bad entry pointers (with no room for any base route, the count is
	 * refused before the pointer is read).
	 */
	if (ok_gsi < 0) {
		ASSERT_EQ(-EINVAL, __irqroute_set_base(self->fd, NULL, 1));
		assert_still_works(_metadata, self, variant);
		return;
	}
	ASSERT_EQ(-EFAULT, __irqroute_set_base(self->fd, NULL, 1));
	ASSERT_EQ(-EFAULT, __irqroute_set_base(self->fd, (void *)8, 1));
	ASSERT_EQ(-EFAULT, __irqroute_set_base(self->fd,
					       (void *)0xffff888000000000ull,
					       1));
	buf = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, mprotect(buf + page, page, PROT_NONE));
	e[0] = ioapic_entry(ok_gsi, 3);
	memcpy(buf + page - sizeof(e[0]), e, sizeof(e[0]));
	/* The first entry is readable, the second is not. */
	ASSERT_EQ(-EFAULT, __irqroute_set_base(self->fd, (void *)(buf + page -
							     sizeof(e[0])),
					       2));
	munmap(buf, 2 * page);
	assert_unchanged(_metadata, self, variant);
	assert_still_works(_metadata, self, variant);
}

/*
 * A valid set replaces the base routes and survives route changes; nr 0
 * (even with a NULL pointer) removes them all.
 */
TEST_F(attached, base_routes_replace)
{
	int64_t a = outside_gsi(variant, 9), b = outside_gsi(variant, 10);
	struct kvm_irq_routing_entry e[3];
	uint32_t index = 0;
	int trigger;

	if (a < 0) {
		/* No GSI outside the range: only the empty set is valid. */
		ASSERT_EQ(0, __irqroute_set_base(self->fd, NULL, 0));
		snapshot(_metadata, self, variant);
		assert_still_works(_metadata, self, variant);
		return;
	}
	e[0] = ioapic_entry(a, 9);
	e[1] = ioapic_entry(b, 10);
	e[2] = (struct kvm_irq_routing_entry){
		.gsi = outside_gsi(variant, 11),
		.type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = TEST_MSI_ADDR_LO, .data = 0x50 },
	};
	ASSERT_EQ(0, __irqroute_set_base(self->fd, e, 3));
	ASSERT_EQ(1, vm_gsi_routed(self->vm, a));
	ASSERT_EQ(1, vm_gsi_routed(self->vm, b));
	/* The old base routes are gone. */
	ASSERT_EQ(0, vm_gsi_routed(self->vm, variant->base_gsi[0]));
	ASSERT_EQ(0, vm_gsi_routed(self->vm, variant->base_gsi[1]));

	/* Route commits keep them. */
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->idx[R_VICTIM],
					TEST_MSI_ADDR_LO, 0x51, 0));
	trigger = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, trigger);
	ASSERT_EQ(0, __irqroute_create(self->fd, trigger, &index));
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, index, TEST_MSI_ADDR_LO,
					0x52, 0));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_CLEAR_MSI,
					 self->idx[R_VICTIM], 0, NULL));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_ROUTE_DESTROY,
					 index, 0, NULL));
	ASSERT_EQ(1, vm_gsi_routed(self->vm, a));
	ASSERT_EQ(1, vm_gsi_routed(self->vm, b));

	/* Removing them all, then back to the fixture's set. */
	ASSERT_EQ(0, __irqroute_set_base(self->fd, NULL, 0));
	ASSERT_EQ(0, vm_gsi_routed(self->vm, a));
	ASSERT_EQ(0, vm_gsi_routed(self->vm, b));
	ASSERT_EQ(0, __irqroute_set_base(self->fd, self->base, self->nr_base));
	snapshot(_metadata, self, variant);
	assert_still_works(_metadata, self, variant);
	close(trigger);
}

/* Deferred MSI changes reach KVM at the commit, in one update. */
TEST_F(attached, commit)
{
	struct irqroute_stats st;

	/* Nothing staged: the table is not sent again. */
	ASSERT_EQ(0, __irqroute_commit(self->fd));
	ASSERT_EQ(0, __irqroute_get_stats(self->fd, &st));
	ASSERT_EQ(self->st.commits, st.commits);

	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->idx[R_MASKED],
					TEST_MSI_ADDR_LO, 0x61,
					IRQROUTE_MSI_F_DEFER));
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->idx[R_VICTIM],
					TEST_MSI_ADDR_LO, 0x62,
					IRQROUTE_MSI_F_DEFER));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_CLEAR_MSI,
					 self->idx[R_MSI],
					 IRQROUTE_MSI_F_DEFER, NULL));
	ASSERT_EQ(0, __irqroute_get_stats(self->fd, &st));
	ASSERT_EQ(self->st.commits, st.commits);

	ASSERT_EQ(0, __irqroute_commit(self->fd));
	ASSERT_EQ(0, __irqroute_get_stats(self->fd, &st));
	ASSERT_EQ(self->st.commits + 1, st.commits);
	ASSERT_EQ(0, __irqroute_commit(self->fd));
	ASSERT_EQ(0, __irqroute_get_stats(self->fd, &st));
	ASSERT_EQ(self->st.commits + 1, st.commits);

	/* The same MSI again changes nothing either. */
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->idx[R_VICTIM],
					TEST_MSI_ADDR_LO, 0x62, 0));
	ASSERT_EQ(0, __irqroute_get_stats(self->fd, &st));
	ASSERT_EQ(self->st.commits + 1, st.commits);

	/* R_MSI has no MSI now: a signal pends instead of being delivered. */
	ASSERT_EQ(0, eventfd_signal_once(self->trigger[R_MSI]));
	ASSERT_EQ(st.pended + 1, wait_stat(self->fd, pended, st.pended + 1));
	ASSERT_EQ(st.delivered, stat_of(_metadata, self->fd,
					offsetof(struct irqroute_stats,
						 delivered)));
}

TEST_HARNESS_MAIN
