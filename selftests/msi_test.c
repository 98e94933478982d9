// SPDX-License-Identifier: GPL-2.0
/*
 * clear_msi and set_msi: a route without an MSI holds its signals as a
 * pending edge, and the set_msi that makes it deliverable again delivers
 * that edge, once, to the new MSI.
 */
#include "kselftest_harness.h"

#include "rtenv.h"

#define VEC		RT_VECTOR(0x30)
#define VEC2		RT_VECTOR(0x31)

FIXTURE(msi) {
	struct rt_env env;
	struct irqroute_route *r;
};

FIXTURE_SETUP(msi)
{
	ASSERT_EQ(0, rt_env_setup(&self->env, 2, NULL, true));
	ASSERT_EQ(0, irqroute_route_create(self->env.ir, &self->r));
}

FIXTURE_TEARDOWN(msi)
{
	if (self->r)
		irqroute_route_destroy(self->r);
	rt_env_teardown(&self->env);
}

/* A fresh route has no MSI: its signal waits for the first set_msi. */
TEST_F(msi, signal_before_first_set_msi)
{
	struct guest *g = self->env.g;

	EXPECT_FALSE(irqroute_pending(self->r));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(0, rt_total(&self->env));
	ASSERT_TRUE(irqroute_pending(self->r));

	ASSERT_EQ(0, rt_set_msi(self->r, 1, VEC));
	EXPECT_EQ(1, guest_wait_count(g, 1, VEC, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, rt_total(&self->env));
	EXPECT_FALSE(irqroute_pending(self->r));
}

/* clear_msi, signal, set_msi: the held edge arrives, exactly one. */
TEST_F(msi, clear_then_set_delivers_held_edge)
{
	struct guest *g = self->env.g;

	ASSERT_EQ(0, rt_set_msi(self->r, 1, VEC));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_EQ(1, guest_wait_count(g, 1, VEC, 1, 0));

	ASSERT_EQ(0, irqroute_clear_msi(self->r));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(1, rt_total(&self->env));
	ASSERT_TRUE(irqroute_pending(self->r));

	ASSERT_EQ(0, rt_set_msi(self->r, 1, VEC));
	EXPECT_EQ(2, guest_wait_count(g, 1, VEC, 2, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(2, rt_total(&self->env));
	EXPECT_FALSE(irqroute_pending(self->r));

	/* And the route works as before. */
	ASSERT_EQ(0, rt_signal(self->r));
	EXPECT_EQ(3, guest_wait_count(g, 1, VEC, 3, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(3, rt_total(&self->env));
}

/* The held edge goes to the MSI set last, not the one cleared. */
TEST_F(msi, held_edge_follows_new_msi)
{
	struct guest *g = self->env.g;

	ASSERT_EQ(0, rt_set_msi(self->r, 1, VEC));
	ASSERT_EQ(0, irqroute_clear_msi(self->r));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(0, rt_total(&self->env));

	ASSERT_EQ(0, rt_set_msi(self->r, 0, VEC2));
	EXPECT_EQ(1, guest_wait_count(g, 0, VEC2, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, rt_total(&self->env));
	EXPECT_EQ(0, guest_count(g, 1, VEC));
}

/* clear_msi with nothing signalled: set_msi delivers nothing. */
TEST_F(msi, clear_set_without_signal)
{
	ASSERT_EQ(0, rt_set_msi(self->r, 1, VEC));
	ASSERT_EQ(0, irqroute_clear_msi(self->r));
	ASSERT_EQ(0, irqroute_clear_msi(self->r));
	ASSERT_EQ(0, rt_set_msi(self->r, 1, VEC));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(0, rt_total(&self->env));
	EXPECT_FALSE(irqroute_pending(self->r));
}

/* An edge consumed while the MSI was cleared is the VMM's: set_msi is quiet. */
TEST_F(msi, consumed_while_cleared)
{
	struct guest *g = self->env.g;

	ASSERT_EQ(0, rt_set_msi(self->r, 1, VEC));
	ASSERT_EQ(0, irqroute_clear_msi(self->r));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_TRUE(irqroute_consume_pending(self->r));
	ASSERT_EQ(0, rt_set_msi(self->r, 1, VEC));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(0, rt_total(&self->env));

	ASSERT_EQ(0, rt_signal(self->r));
	EXPECT_EQ(1, guest_wait_count(g, 1, VEC, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, rt_total(&self->env));
}

TEST_HARNESS_MAIN
