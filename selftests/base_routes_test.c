// SPDX-License-Identifier: GPL-2.0
/*
 * Base routes: the VMM's own GSI routes (outside the route range) stay in
 * the VM's table through every commit irqroute makes for its routes; a
 * set of base routes touching the range is refused and changes nothing.
 *
 * A base route is checked end to end: an MSI entry at a GSI outside the
 * range, driven by a raw KVM irqfd of the test's own.
 */
#include <stdlib.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "rtenv.h"

#define RANGE_BASE	64
#define RANGE_NR	32
#define BASE_GSI	10
#define OTHER_GSI	11
#define BASE_VEC	RT_VECTOR(0x40)
#define OTHER_VEC	RT_VECTOR(0x41)
#define VEC_A		RT_VECTOR(0x42)
#define VEC_B		RT_VECTOR(0x43)

FIXTURE(base) {
	struct rt_env env;
	int base_efd;		/* raw irqfd on BASE_GSI */
	int other_efd;		/* raw irqfd on OTHER_GSI */
	uint32_t base_count;	/* BASE_VEC interrupts expected so far */
};

FIXTURE_SETUP(base)
{
	const struct irqroute_opts opts = {
		.gsi_base = RANGE_BASE,
		.nr_routes = RANGE_NR,
	};
	struct kvm_irq_routing_entry e;

	self->base_efd = -1;
	self->other_efd = -1;
	ASSERT_EQ(0, rt_env_setup(&self->env, 2, &opts, true));
	rt_msi_entry(&e, BASE_GSI, 1, BASE_VEC);
	ASSERT_EQ(0, irqroute_set_base_routes(self->env.ir, &e, 1));
	ASSERT_EQ(0, rt_raw_irqfd(self->env.g, BASE_GSI, &self->base_efd));
	ASSERT_EQ(0, rt_raw_irqfd(self->env.g, OTHER_GSI, &self->other_efd));
}

FIXTURE_TEARDOWN(base)
{
	const unsigned int owned[][2] = {
		{ 0, BASE_VEC }, { 1, BASE_VEC }, { 0, OTHER_VEC },
		{ 1, OTHER_VEC }, { 0, VEC_A }, { 1, VEC_A },
		{ 0, VEC_B }, { 1, VEC_B },
	};

	RT_EXPECT_EXACTLY_ONCE(&self->env, owned, 8);
	rt_env_teardown(&self->env);
	if (self->base_efd >= 0)
		close(self->base_efd);
	if (self->other_efd >= 0)
		close(self->other_efd);
}

/* The base route delivers one more interrupt, now. */
static bool base_delivers(FIXTURE_DATA(base) *self)
{
	uint32_t want = ++self->base_count;

	if (guest_signal_fd(self->base_efd))
		return false;
	return guest_wait_count(self->env.g, 1, BASE_VEC, want, 0) == want;
}

TEST_F(base, survives_route_commits)
{
	static const unsigned int vecs[2] = { VEC_A, VEC_B };
	struct irqroute_route *r, *extra = NULL;
	struct guest *g = self->env.g;
	uint32_t want[2][2] = { { 0 } };	/* [vcpu][vecs index] */
	unsigned int i;

	ASSERT_TRUE(base_delivers(self));
	ASSERT_EQ(0, irqroute_route_create(self->env.ir, &r));
	ASSERT_TRUE(base_delivers(self));

	for (i = 0; i < 50; i++) {
		unsigned int vcpu = i % 2, v = (i / 2) % 2;

		ASSERT_EQ(0, rt_set_msi(r, vcpu, vecs[v]));
		ASSERT_EQ(0, rt_signal(r));
		want[vcpu][v]++;
		ASSERT_EQ(want[vcpu][v], guest_wait_count(g, vcpu, vecs[v],
							  want[vcpu][v], 0));
		ASSERT_TRUE(base_delivers(self));

		/* Route create/destroy and batched commits too. */
		if (i % 10 == 3) {
			ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC_A,
						  &extra));
		} else if (i % 10 == 6) {
			irqroute_route_destroy(extra);
			extra = NULL;
		} else if (i % 10 == 8) {
			ASSERT_EQ(0, irqroute_batch_begin(self->env.ir));
			ASSERT_EQ(0, irqroute_clear_msi(r));
			ASSERT_EQ(0, rt_set_msi(r, 1, VEC_B));
			ASSERT_EQ(0, irqroute_batch_commit(self->env.ir));
		}
	}
	if (extra)
		irqroute_route_destroy(extra);
	irqroute_route_destroy(r);
	ASSERT_TRUE(base_delivers(self));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(self->base_count, guest_count(g, 1, BASE_VEC));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(want[i / 2][i % 2],
			  guest_count(g, i / 2, vecs[i % 2]));
	EXPECT_EQ(self->base_count + 50, rt_total(&self->env));
}

/* Base routes touching the range: EINVAL, no commit, nothing changes. */
TEST_F(base, overlap_rejected)
{
	static const uint32_t bad_gsis[] = {
		RANGE_BASE, RANGE_BASE + 1, RANGE_BASE + RANGE_NR / 2,
		RANGE_BASE + RANGE_NR - 1,
	};
	struct irqroute_stats st0, st1;
	struct kvm_irq_routing_entry e[2];
	struct irqroute_route *r;
	struct guest *g = self->env.g;
	unsigned int i;

	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC_A, &r));
	ASSERT_EQ(0, rt_stats(self->env.ir, &st0));
	for (i = 0; i < sizeof(bad_gsis) / sizeof(bad_gsis[0]); i++) {
		/* Alone, and after a valid entry that must not land either. */
		rt_msi_entry(&e[0], bad_gsis[i], 0, OTHER_VEC);
		EXPECT_EQ(-EINVAL,
			  irqroute_set_base_routes(self->env.ir, e, 1));
		rt_msi_entry(&e[0], OTHER_GSI, 0, OTHER_VEC);
		rt_msi_entry(&e[1], bad_gsis[i], 0, OTHER_VEC);
		EXPECT_EQ(-EINVAL,
			  irqroute_set_base_routes(self->env.ir, e, 2));
	}
	ASSERT_EQ(0, rt_stats(self->env.ir, &st1));
	EXPECT_EQ(st0.commits, st1.commits);

	/* The old base route is still there, the refused one is not. */
	ASSERT_TRUE(base_delivers(self));
	ASSERT_EQ(0, guest_signal_fd(self->other_efd));
	ASSERT_EQ(0, rt_signal(r));
	ASSERT_EQ(1, guest_wait_count(g, 0, VEC_A, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(0, guest_count(g, 0, OTHER_VEC));
	EXPECT_EQ(self->base_count + 1, rt_total(&self->env));
	irqroute_route_destroy(r);
}

/* Right next to the range is not in it. */
TEST_F(base, range_neighbours_accepted)
{
	struct kvm_irq_routing_entry e[3];
	struct guest *g = self->env.g;
	int lo, hi;

	rt_msi_entry(&e[0], BASE_GSI, 1, BASE_VEC);
	rt_msi_entry(&e[1], RANGE_BASE - 1, 0, VEC_A);
	rt_msi_entry(&e[2], RANGE_BASE + RANGE_NR, 1, VEC_B);
	ASSERT_EQ(0, irqroute_set_base_routes(self->env.ir, e, 3));
	ASSERT_EQ(0, rt_raw_irqfd(g, RANGE_BASE - 1, &lo));
	ASSERT_EQ(0, rt_raw_irqfd(g, RANGE_BASE + RANGE_NR, &hi));
	ASSERT_EQ(0, guest_signal_fd(lo));
	ASSERT_EQ(0, guest_signal_fd(hi));
	EXPECT_EQ(1, guest_wait_count(g, 0, VEC_A, 1, 0));
	EXPECT_EQ(1, guest_wait_count(g, 1, VEC_B, 1, 0));
	ASSERT_TRUE(base_delivers(self));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(3, rt_total(&self->env));
	close(lo);
	close(hi);
}

/* A table KVM refuses (two MSIs on one GSI) leaves the old one in force. */
TEST_F(base, kvm_refusal_keeps_old_routes)
{
	struct kvm_irq_routing_entry e[2];
	struct guest *g = self->env.g;
	int ret;

	rt_msi_entry(&e[0], OTHER_GSI, 0, OTHER_VEC);
	rt_msi_entry(&e[1], OTHER_GSI, 1, OTHER_VEC);
	ret = irqroute_set_base_routes(self->env.ir, e, 2);
	EXPECT_EQ(-EINVAL, ret);
	ASSERT_TRUE(base_delivers(self));
	ASSERT_EQ(0, guest_signal_fd(self->other_efd));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(0, guest_count(g, 0, OTHER_VEC) +
		     guest_count(g, 1, OTHER_VEC));
	EXPECT_EQ(self->base_count, rt_total(&self->env));
}

/*
 * Many more base routes than the range has routes: the module's table
 * buffer, sized at attach for the range, grows to take them, and every
 * later commit (a route's set_msi, fewer base routes) still carries them.
 */
TEST_F(base, many_outgrow_the_range)
{
	const unsigned int nr = 1200, last = 200 + nr - 2;
	struct kvm_irq_routing_entry *e = calloc(nr, sizeof(*e));
	struct guest *g = self->env.g;
	struct irqroute_route *r;
	unsigned int i;
	int far;

	ASSERT_NE(NULL, e);
	rt_msi_entry(&e[0], BASE_GSI, 1, BASE_VEC);
	for (i = 1; i < nr; i++)	/* GSIs 200 .. last, above the range */
		rt_msi_entry(&e[i], 200 + i - 1, 0, OTHER_VEC);
	ASSERT_EQ(0, irqroute_set_base_routes(self->env.ir, e, nr));
	ASSERT_EQ(0, rt_raw_irqfd(g, last, &far));
	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC_A, &r));

	/* The route's commits carry all 1200 base routes. */
	ASSERT_EQ(0, rt_set_msi(r, 1, VEC_B));
	ASSERT_EQ(0, rt_signal(r));
	ASSERT_EQ(1, guest_wait_count(g, 1, VEC_B, 1, 0));
	ASSERT_EQ(0, guest_signal_fd(far));
	ASSERT_EQ(1, guest_wait_count(g, 0, OTHER_VEC, 1, 0));
	ASSERT_TRUE(base_delivers(self));

	/* Back to one base route: the far GSI is gone, the route stays. */
	ASSERT_EQ(0, irqroute_set_base_routes(self->env.ir, e, 1));
	ASSERT_EQ(0, guest_signal_fd(far));
	ASSERT_EQ(0, rt_signal(r));
	ASSERT_EQ(2, guest_wait_count(g, 1, VEC_B, 2, 0));
	ASSERT_TRUE(base_delivers(self));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, guest_count(g, 0, OTHER_VEC));
	EXPECT_EQ(self->base_count + 3, rt_total(&self->env));
	irqroute_route_destroy(r);
	close(far);
	free(e);
}

/* n = 0 removes the base routes; routes keep working. */
TEST_F(base, remove_all)
{
	struct irqroute_route *r;
	struct guest *g = self->env.g;

	ASSERT_TRUE(base_delivers(self));
	ASSERT_EQ(0, irqroute_set_base_routes(self->env.ir, NULL, 0));
	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC_A, &r));
	ASSERT_EQ(0, guest_signal_fd(self->base_efd));
	ASSERT_EQ(0, rt_signal(r));
	ASSERT_EQ(1, guest_wait_count(g, 0, VEC_A, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, guest_count(g, 1, BASE_VEC));
	EXPECT_EQ(2, rt_total(&self->env));
	irqroute_route_destroy(r);
}

TEST_HARNESS_MAIN
