// SPDX-License-Identifier: GPL-2.0
/*
 * What a VMM needs beyond the route interface (libirqroute 1.1), with a
 * real guest receiving the interrupts: routes on the caller's eventfds,
 * a pending bit set without a signal, a route's state saved on one VM
 * and restored on another, an attachment moved to a new VM with its
 * triggers, and device route groups whose pending bits are whole words.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "irqroute_raw.h"
#include "rtenv.h"

#define NR_ROUTES	256
#define VEC		RT_VECTOR(0x20)
#define VEC2		RT_VECTOR(0x21)
#define GVEC(i)		RT_VECTOR(0x40 + (i))

static const struct irqroute_opts opts = {
	.gsi_base = 1024,
	.nr_routes = NR_ROUTES,
};

/* Nothing reached @vector of vCPU 0 of @g, after the fence of @e. */
static bool quiet(const struct rt_env *e, const struct guest *g,
		  unsigned int vector)
{
	if (!rt_fence(e))
		return false;
	return guest_count(g, 0, vector) == 0;
}

static int route_get(struct irqroute *ir, uint32_t index,
		     struct irqroute_route_info *info)
{
	*info = (struct irqroute_route_info){
		.size = sizeof(*info),
		.index = index,
	};
	return ioctl(irqroute_fd(ir), IRQROUTE_ROUTE_GET, info) ? -errno : 0;
}

FIXTURE(adopt) {
	struct rt_env env;
};

FIXTURE_SETUP(adopt)
{
	ASSERT_EQ(0, rt_env_setup(&self->env, 1, &opts, true));
}

FIXTURE_TEARDOWN(adopt)
{
	rt_env_teardown(&self->env);
}

/*
 * irqroute_route_create_fd(): the caller's eventfd carries the route's
 * signals, and outlives the route, which never closes it.
 */
TEST_F(adopt, caller_trigger)
{
	struct guest *g = self->env.g;
	struct irqroute_route *r = NULL, *r2 = NULL;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int pipefd[2];

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, irqroute_route_create_fd(self->env.ir, efd, 0, &r));
	ASSERT_EQ(efd, irqroute_route_event(r));
	ASSERT_EQ(0, rt_set_msi(r, 0, VEC));
	ASSERT_EQ(0, guest_signal_fd(efd));
	EXPECT_EQ(1, rt_wait(&self->env, 0, VEC, 1));

	/* One gate per trigger: a second route on it is refused. */
	EXPECT_EQ(-EBUSY, irqroute_route_create_fd(self->env.ir, efd, 0, &r2));
	EXPECT_EQ(-EBADF, irqroute_route_create_fd(self->env.ir, -1, 0, &r2));
	EXPECT_EQ(-EINVAL, irqroute_route_create_fd(self->env.ir, efd, 1, &r2));
	ASSERT_EQ(0, pipe(pipefd));
	EXPECT_EQ(-EBADFD, irqroute_route_create_fd(self->env.ir, pipefd[0],
						    0, &r2));
	close(pipefd[0]);
	close(pipefd[1]);
	EXPECT_EQ(NULL, r2);

	irqroute_route_destroy(r);
	ASSERT_LE(0, fcntl(efd, F_GETFD)) {
		TH_LOG("the route closed the caller's eventfd");
	}
	/* Nobody waits on it now: the signal stays in its counter. */
	ASSERT_EQ(0, guest_signal_fd(efd));
	EXPECT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, guest_count(g, 0, VEC));

	/* A new route on it finds that signal pending. */
	ASSERT_EQ(0, irqroute_route_create_fd(self->env.ir, efd, 0, &r));
	EXPECT_TRUE(irqroute_pending(r));
	ASSERT_EQ(0, rt_set_msi(r, 0, VEC));
	EXPECT_EQ(2, rt_wait(&self->env, 0, VEC, 2));
	irqroute_route_destroy(r);
	EXPECT_EQ(0, close(efd));
}

/* irqroute_set_pending(): held while masked, delivered once when not. */
TEST_F(adopt, set_pending)
{
	struct guest *g = self->env.g;
	struct irqroute_route *r;

	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC, &r));
	ASSERT_EQ(0, irqroute_mask(r));
	ASSERT_EQ(0, irqroute_set_pending(r));
	EXPECT_TRUE(quiet(&self->env, g, VEC));
	EXPECT_EQ(1, irqroute_pending_status(r));
	ASSERT_EQ(0, irqroute_unmask(r));
	EXPECT_EQ(1, rt_wait(&self->env, 0, VEC, 1));
	EXPECT_EQ(0, irqroute_pending_status(r));

	/* Unmasked with an MSI: delivered at once, nothing left pending. */
	ASSERT_EQ(0, irqroute_set_pending(r));
	EXPECT_EQ(2, rt_wait(&self->env, 0, VEC, 2));
	EXPECT_EQ(0, irqroute_consume_pending_status(r));

	/* Without an MSI it stays pending until set_msi. */
	ASSERT_EQ(0, irqroute_clear_msi(r));
	ASSERT_EQ(0, irqroute_set_pending(r));
	EXPECT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(2, guest_count(g, 0, VEC));
	ASSERT_EQ(0, rt_set_msi(r, 0, VEC));
	EXPECT_EQ(3, rt_wait(&self->env, 0, VEC, 3));
	EXPECT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(3, guest_count(g, 0, VEC));
	irqroute_route_destroy(r);
}

/* IRQROUTE_ROUTE_GET and IRQROUTE_CREATE_F_INDEX, as the kernel sees them. */
TEST_F(adopt, route_get_and_index)
{
	struct irqroute_route_create c = { .size = sizeof(c) };
	struct irqroute_route_op op = { .size = sizeof(op) };
	struct irqroute_commit commit = { .size = sizeof(commit) };
	struct irqroute_route_info info;
	struct irqroute_route *r;
	int fd = irqroute_fd(self->env.ir);
	uint32_t idx;

	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC, &r));
	idx = irqroute_route_index(r);
	ASSERT_EQ(0, route_get(self->env.ir, idx, &info));
	EXPECT_EQ(irqroute_route_gsi(r), info.gsi);
	EXPECT_EQ(IRQROUTE_ROUTE_S_MSI, info.state);
	EXPECT_EQ(VEC, info.data);
	EXPECT_EQ(0xfee00000, info.address_lo);
	ASSERT_EQ(0, irqroute_mask(r));
	ASSERT_EQ(0, rt_signal(r));
	EXPECT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(0, route_get(self->env.ir, idx, &info));
	EXPECT_EQ(IRQROUTE_ROUTE_S_MSI | IRQROUTE_ROUTE_S_MASKED |
		  IRQROUTE_ROUTE_S_PENDING, info.state);
	/* Reading consumed nothing. */
	EXPECT_TRUE(irqroute_pending(r));
	/* Staged in the module: libirqroute's batches stage in the library. */
	op.flags = IRQROUTE_MSI_F_DEFER;
	op.index = idx;
	ASSERT_EQ(0, ioctl(fd, IRQROUTE_CLEAR_MSI, &op));
	ASSERT_EQ(0, route_get(self->env.ir, idx, &info));
	EXPECT_EQ(IRQROUTE_ROUTE_S_UNCOMMITTED | IRQROUTE_ROUTE_S_MASKED |
		  IRQROUTE_ROUTE_S_PENDING, info.state);
	ASSERT_EQ(0, ioctl(fd, IRQROUTE_COMMIT, &commit));

	/* Inputs. */
	info.flags = 1;
	EXPECT_EQ(-EINVAL, ioctl(fd, IRQROUTE_ROUTE_GET, &info) ? -errno : 0);
	info.flags = 0;
	info.__reserved = 1;
	EXPECT_EQ(-EINVAL, ioctl(fd, IRQROUTE_ROUTE_GET, &info) ? -errno : 0);
	EXPECT_EQ(-EINVAL, route_get(self->env.ir, NR_ROUTES, &info));
	EXPECT_EQ(-ENOENT, route_get(self->env.ir, idx + 1, &info));

	/* CREATE_F_INDEX: that index or nothing. */
	c.flags = IRQROUTE_CREATE_F_INDEX;
	c.index = idx;
	c.trigger_fd = eventfd(0, EFD_CLOEXEC);
	c.irqfd_fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, c.trigger_fd);
	ASSERT_LE(0, c.irqfd_fd);
	EXPECT_EQ(-EBUSY, ioctl(fd, IRQROUTE_ROUTE_CREATE, &c) ? -errno : 0);
	c.index = NR_ROUTES;
	EXPECT_EQ(-EINVAL, ioctl(fd, IRQROUTE_ROUTE_CREATE, &c) ? -errno : 0);
	c.flags = 2;
	c.index = 200;
	EXPECT_EQ(-EINVAL, ioctl(fd, IRQROUTE_ROUTE_CREATE, &c) ? -errno : 0);
	c.flags = IRQROUTE_CREATE_F_INDEX;
	ASSERT_EQ(0, ioctl(fd, IRQROUTE_ROUTE_CREATE, &c));
	EXPECT_EQ(200, c.index);
	EXPECT_EQ(opts.gsi_base + 200, c.gsi);
	EXPECT_EQ(0, route_get(self->env.ir, 200, &info));
	EXPECT_EQ(0, __irqroute_route_op(fd, IRQROUTE_ROUTE_DESTROY, 200, 0,
					 NULL));
	close(c.trigger_fd);
	close(c.irqfd_fd);
	irqroute_route_destroy(r);
}

/*
 * Saved on one VM, restored on a fresh one: the masked route's pending
 * edge arrives there exactly once, after unmask, and never on the first.
 */
TEST_F(adopt, save_restore_across_vms)
{
	struct irqroute_route_state st = { .size = sizeof(st) };
	struct irqroute_route_state bad;
	struct irqroute_route *r, *r2 = NULL;
	struct rt_env b;

	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC, &r));
	/* Not the lowest index: the restore must not take the lowest. */
	irqroute_route_destroy(r);
	ASSERT_EQ(0, irqroute_route_restore(self->env.ir, &(struct irqroute_route_state){
		.size = sizeof(st), .index = 77, .gsi = opts.gsi_base + 77,
		.flags = IRQROUTE_STATE_F_MSI, .address = guest_msi_address(0),
		.data = VEC }, -1, &r));
	EXPECT_EQ(77, irqroute_route_index(r));
	ASSERT_EQ(0, irqroute_mask(r));
	ASSERT_EQ(0, rt_signal(r));
	ASSERT_TRUE(quiet(&self->env, self->env.g, VEC));

	ASSERT_EQ(0, irqroute_route_save(r, &st));
	EXPECT_EQ(sizeof(st), st.size);
	EXPECT_EQ(77, st.index);
	EXPECT_EQ(opts.gsi_base + 77, st.gsi);
	EXPECT_EQ(IRQROUTE_STATE_F_MSI | IRQROUTE_STATE_F_MASKED |
		  IRQROUTE_STATE_F_PENDING, st.flags);
	EXPECT_EQ(guest_msi_address(0), st.address);
	EXPECT_EQ(VEC, st.data);

	/* The device is quiesced and the source VM goes away. */
	irqroute_route_destroy(r);

	ASSERT_EQ(0, rt_env_setup(&b, 1, &opts, true));
	ASSERT_EQ(0, irqroute_route_restore(b.ir, &st, -1, &r2));
	EXPECT_EQ(77, irqroute_route_index(r2));
	EXPECT_EQ(opts.gsi_base + 77, irqroute_route_gsi(r2));
	EXPECT_TRUE(irqroute_pending(r2));
	EXPECT_TRUE(quiet(&b, b.g, VEC));
	ASSERT_EQ(0, irqroute_unmask(r2));
	EXPECT_EQ(1, rt_wait(&b, 0, VEC, 1));
	EXPECT_TRUE(rt_fence(&b));
	EXPECT_EQ(1, guest_count(b.g, 0, VEC));
	EXPECT_FALSE(irqroute_pending(r2));
	EXPECT_EQ(0, guest_count(self->env.g, 0, VEC));

	/* Its index is taken now; a range without its GSI; bad fields. */
	EXPECT_EQ(-EBUSY, irqroute_route_restore(b.ir, &st, -1, &r));
	bad = st;
	bad.gsi++;
	EXPECT_EQ(-ERANGE, irqroute_route_restore(b.ir, &bad, -1, &r));
	bad = st;
	bad.index = NR_ROUTES;
	bad.gsi = opts.gsi_base + NR_ROUTES;
	EXPECT_EQ(-ERANGE, irqroute_route_restore(b.ir, &bad, -1, &r));
	bad = st;
	bad.flags |= 1U << 20;
	EXPECT_EQ(-EINVAL, irqroute_route_restore(b.ir, &bad, -1, &r));
	bad = st;
	bad.size = 8;
	EXPECT_EQ(-EINVAL, irqroute_route_restore(b.ir, &bad, -1, &r));
	EXPECT_EQ(-EINVAL, irqroute_route_save(r2, &bad));

	irqroute_route_destroy(r2);
	rt_env_teardown(&b);
}

/*
 * irqroute_reattach(): the VM fd is swapped (QEMU's reset of a
 * confidential guest); the triggers VFIO holds stay, with every route's
 * MSI, mask and pending edge, and the new VM gets the interrupts.
 */
TEST_F(adopt, reattach_keeps_triggers)
{
	struct irqroute_route *r0, *r1, *r2;
	struct irqroute *ir2;
	struct irqroute_stats st;
	struct guest *old = self->env.g, *g;
	int t0, t1, efd;

	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC, &r0));
	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC2, &r1));
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, irqroute_route_create_fd(self->env.ir, efd, 0, &r2));
	ASSERT_EQ(0, irqroute_mask(r1));
	ASSERT_EQ(0, rt_signal(r1));
	ASSERT_EQ(0, irqroute_mask(r2));
	ASSERT_TRUE(quiet(&self->env, old, VEC2));
	t0 = irqroute_route_event(r0);
	t1 = irqroute_route_event(r1);

	g = guest_create(1);
	ASSERT_NE(NULL, g);
	ASSERT_EQ(0, irqroute_reattach(self->env.ir, guest_vm_fd(g)));
	self->env.g = g;	/* the fence route moved with the others */

	/* The same eventfds, still open. */
	EXPECT_EQ(t0, irqroute_route_event(r0));
	EXPECT_EQ(t1, irqroute_route_event(r1));
	EXPECT_LE(0, fcntl(t0, F_GETFD));
	EXPECT_EQ(0, rt_stats(self->env.ir, &st));
	EXPECT_EQ(0, st.signals);	/* a new attachment */

	/* r1's edge came along, still masked and pending. */
	EXPECT_TRUE(irqroute_pending(r1));
	EXPECT_TRUE(quiet(&self->env, g, VEC2));
	ASSERT_EQ(0, irqroute_unmask(r1));
	EXPECT_EQ(1, rt_wait(&self->env, 0, VEC2, 1));

	/* r0 delivers to the new VM. */
	ASSERT_EQ(0, rt_signal(r0));
	EXPECT_EQ(1, rt_wait(&self->env, 0, VEC, 1));

	/* r2: masked, no MSI; a signal pends, the caller's fd still works. */
	ASSERT_EQ(0, guest_signal_fd(efd));
	EXPECT_TRUE(rt_fence(&self->env));
	EXPECT_TRUE(irqroute_pending(r2));

	EXPECT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, guest_count(g, 0, VEC));
	EXPECT_EQ(1, guest_count(g, 0, VEC2));
	EXPECT_EQ(0, guest_count(old, 0, VEC));
	EXPECT_EQ(0, guest_count(old, 0, VEC2));

	/* The old VM is free for another attachment. */
	ir2 = NULL;
	EXPECT_EQ(0, irqroute_attach(guest_vm_fd(old), &opts, &ir2));
	irqroute_detach(ir2);
	/* A VM that already has an attachment is refused, nothing lost. */
	EXPECT_EQ(-EBUSY, irqroute_reattach(self->env.ir, guest_vm_fd(g)));
	ASSERT_EQ(0, rt_signal(r0));
	EXPECT_EQ(2, rt_wait(&self->env, 0, VEC, 2));

	irqroute_route_destroy(r0);
	irqroute_route_destroy(r1);
	irqroute_route_destroy(r2);
	EXPECT_LE(0, fcntl(efd, F_GETFD));
	close(efd);
	guest_destroy(old);
}

/*
 * A group's vectors are contiguous from a word boundary: the PBA is
 * whole words, read and consumed in one atomic operation each.
 */
TEST_F(adopt, group_layout_and_pba)
{
	struct irqroute_group *grp, *big, *nope = NULL;
	struct irqroute_route *single, *after;
	struct guest *g = self->env.g;
	uint64_t bits;
	unsigned int i;

	/* The fence route has index 0; one more single. */
	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC, &single));
	ASSERT_EQ(0, irqroute_group_create(self->env.ir, 5, NULL, &grp));
	EXPECT_EQ(64, irqroute_group_base(grp));
	EXPECT_EQ(5, irqroute_group_size(grp));
	EXPECT_EQ(NULL, irqroute_group_route(grp, 5));
	for (i = 0; i < 5; i++) {
		struct irqroute_route *r = irqroute_group_route(grp, i);

		ASSERT_NE(NULL, r);
		EXPECT_EQ(64 + i, irqroute_route_index(r));
		ASSERT_EQ(0, rt_set_msi(r, 0, GVEC(i)));
		ASSERT_EQ(0, irqroute_mask(r));
	}
	/* Singles keep taking the lowest free index. */
	ASSERT_EQ(0, irqroute_route_create(self->env.ir, &after));
	EXPECT_EQ(2, irqroute_route_index(after));

	ASSERT_EQ(0, rt_signal(irqroute_group_route(grp, 0)));
	ASSERT_EQ(0, rt_signal(irqroute_group_route(grp, 2)));
	ASSERT_EQ(0, rt_signal(irqroute_group_route(grp, 4)));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(0, irqroute_group_pending(grp, 0, &bits));
	EXPECT_EQ(0x15, bits);
	ASSERT_EQ(0, irqroute_group_consume_pending(grp, 0, &bits));
	EXPECT_EQ(0x15, bits);
	ASSERT_EQ(0, irqroute_group_consume_pending(grp, 0, &bits));
	EXPECT_EQ(0, bits);
	EXPECT_EQ(-EINVAL, irqroute_group_pending(grp, 1, &bits));

	/* Consumed: unmasking delivers nothing; vector 3 then delivers. */
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, irqroute_unmask(irqroute_group_route(grp, i)));
	ASSERT_TRUE(rt_fence(&self->env));
	for (i = 0; i < 5; i++)
		EXPECT_EQ(0, guest_count(g, 0, GVEC(i)));
	ASSERT_EQ(0, rt_signal(irqroute_group_route(grp, 3)));
	EXPECT_EQ(1, rt_wait(&self->env, 0, GVEC(3), 1));

	/* Over a word: 70 vectors from 128, word 1 has 6 bits. */
	ASSERT_EQ(0, irqroute_group_create(self->env.ir, 70, NULL, &big));
	EXPECT_EQ(128, irqroute_group_base(big));
	ASSERT_EQ(0, irqroute_mask(irqroute_group_route(big, 69)));
	ASSERT_EQ(0, rt_signal(irqroute_group_route(big, 69)));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(0, irqroute_group_pending(big, 1, &bits));
	EXPECT_EQ(1ULL << 5, bits);
	/* No room for another 70 in 256; 0 and too many are refused. */
	EXPECT_EQ(-ENOSPC, irqroute_group_create(self->env.ir, 70, NULL,
						 &nope));
	EXPECT_EQ(-EINVAL, irqroute_group_create(self->env.ir, 0, NULL, &nope));
	EXPECT_EQ(-EINVAL, irqroute_group_create(self->env.ir, NR_ROUTES + 1,
						 NULL, &nope));
	EXPECT_EQ(NULL, nope);

	irqroute_group_destroy(big);
	irqroute_group_destroy(grp);
	/* The indices are free again: the same base comes back. */
	ASSERT_EQ(0, irqroute_group_create(self->env.ir, 5, NULL, &grp));
	EXPECT_EQ(64, irqroute_group_base(grp));
	irqroute_group_destroy(grp);
	irqroute_route_destroy(after);
	irqroute_route_destroy(single);
}

/*
 * irqroute_route_handover(): the route goes, its pending edge goes back
 * into the eventfd, which the caller now owns; a route made on it on
 * another VM starts pending and delivers it there, once.
 */
TEST_F(adopt, handover_to_another_vm)
{
	struct irqroute_route *r, *r2;
	struct irqroute_group *grp;
	struct rt_env b;
	int efd;

	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC, &r));
	ASSERT_EQ(0, irqroute_mask(r));
	ASSERT_EQ(0, rt_signal(r));
	ASSERT_TRUE(quiet(&self->env, self->env.g, VEC));
	efd = irqroute_route_handover(r);
	ASSERT_LE(0, efd);
	EXPECT_LE(0, fcntl(efd, F_GETFD));

	ASSERT_EQ(0, rt_env_setup(&b, 1, &opts, true));
	ASSERT_EQ(0, irqroute_route_create_fd(b.ir, efd, 0, &r2));
	EXPECT_TRUE(irqroute_pending(r2));
	ASSERT_EQ(0, rt_set_msi(r2, 0, VEC));
	EXPECT_EQ(1, rt_wait(&b, 0, VEC, 1));
	EXPECT_TRUE(rt_fence(&b));
	EXPECT_EQ(1, guest_count(b.g, 0, VEC));
	EXPECT_EQ(0, guest_count(self->env.g, 0, VEC));

	/* Nothing pending: the next route starts clean. */
	efd = irqroute_route_handover(r2);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, irqroute_route_create_fd(b.ir, efd, 0, &r2));
	EXPECT_FALSE(irqroute_pending(r2));
	irqroute_route_destroy(r2);

	/* A group's route is not handed over alone. */
	ASSERT_EQ(0, irqroute_group_create(b.ir, 2, NULL, &grp));
	EXPECT_EQ(-EINVAL, irqroute_route_handover(irqroute_group_route(grp,
									 1)));
	irqroute_group_destroy(grp);
	close(efd);
	rt_env_teardown(&b);
}

/* irqroute_group_create_at(): that base or nothing. */
TEST_F(adopt, group_create_at)
{
	struct irqroute_group *g1, *g2 = NULL;

	ASSERT_EQ(0, irqroute_group_create_at(self->env.ir, 128, 3, NULL,
					      &g1));
	EXPECT_EQ(128, irqroute_group_base(g1));
	EXPECT_EQ(130, irqroute_route_index(irqroute_group_route(g1, 2)));
	EXPECT_EQ(-EBUSY, irqroute_group_create_at(self->env.ir, 128, 1, NULL,
						   &g2));
	EXPECT_EQ(-EINVAL, irqroute_group_create_at(self->env.ir, 130, 1,
						    NULL, &g2));
	EXPECT_EQ(-EINVAL, irqroute_group_create_at(self->env.ir, 192, 65,
						    NULL, &g2));
	EXPECT_EQ(-EINVAL, irqroute_group_create_at(self->env.ir, NR_ROUTES,
						    1, NULL, &g2));
	EXPECT_EQ(NULL, g2);
	/* The lowest free run now skips it. */
	ASSERT_EQ(0, irqroute_group_create(self->env.ir, 64, NULL, &g2));
	EXPECT_EQ(64, irqroute_group_base(g2));
	irqroute_group_destroy(g2);
	ASSERT_EQ(0, rt_set_msi(irqroute_group_route(g1, 2), 0, GVEC(2)));
	ASSERT_EQ(0, rt_signal(irqroute_group_route(g1, 2)));
	EXPECT_EQ(1, rt_wait(&self->env, 0, GVEC(2), 1));
	irqroute_group_destroy(g1);
}

/* A group on the caller's eventfds, left for detach to free. */
TEST_F(adopt, group_caller_triggers)
{
	struct irqroute_group *grp;
	int fds[3], i;

	for (i = 0; i < 3; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
		ASSERT_LE(0, fds[i]);
	}
	ASSERT_EQ(0, irqroute_group_create(self->env.ir, 3, fds, &grp));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(fds[i],
			  irqroute_route_event(irqroute_group_route(grp, i)));
		ASSERT_EQ(0, rt_set_msi(irqroute_group_route(grp, i), 0,
					GVEC(i)));
	}
	ASSERT_EQ(0, guest_signal_fd(fds[1]));
	EXPECT_EQ(1, rt_wait(&self->env, 0, GVEC(1), 1));
	/* detach frees the group and its routes, not the caller's fds */
	irqroute_detach(self->env.ir);
	self->env.ir = NULL;
	self->env.fence = NULL;
	for (i = 0; i < 3; i++) {
		EXPECT_LE(0, fcntl(fds[i], F_GETFD));
		close(fds[i]);
	}
}

TEST_HARNESS_MAIN
