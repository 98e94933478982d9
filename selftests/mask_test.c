// SPDX-License-Identifier: GPL-2.0
/*
 * Mask, unmask and consume_pending, in their shared page form and their
 * ioctl form: a masked route holds its signals as one pending edge that
 * either consume_pending takes (and then nothing is delivered) or unmask
 * delivers, exactly once.
 */
#include "kselftest_harness.h"

#include "rtenv.h"

#define VEC		RT_VECTOR(0x10)
#define VEC2		RT_VECTOR(0x11)

static int consume_page(struct irqroute_route *r, bool *pending)
{
	*pending = irqroute_consume_pending(r);
	return 0;
}

FIXTURE(mask) {
	struct rt_env env;
	struct irqroute_route *r;
};

FIXTURE_VARIANT(mask) {
	int (*mask)(struct irqroute_route *r);
	int (*unmask)(struct irqroute_route *r);
	int (*consume)(struct irqroute_route *r, bool *pending);
};

FIXTURE_VARIANT_ADD(mask, page) {
	.mask = irqroute_mask,
	.unmask = irqroute_unmask,
	.consume = consume_page,
};

FIXTURE_VARIANT_ADD(mask, ioctl) {
	.mask = irqroute_mask_ioctl,
	.unmask = irqroute_unmask_ioctl,
	.consume = irqroute_consume_pending_ioctl,
};

FIXTURE_SETUP(mask)
{
	ASSERT_EQ(0, rt_env_setup(&self->env, 1, NULL, true));
	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC, &self->r));
}

FIXTURE_TEARDOWN(mask)
{
	const unsigned int owned[][2] = { { 0, VEC }, { 0, VEC2 } };

	RT_EXPECT_EXACTLY_ONCE(&self->env, owned, 2);
	if (self->r)
		irqroute_route_destroy(self->r);
	rt_env_teardown(&self->env);
}

static bool consume(const FIXTURE_VARIANT(mask) *variant,
		    struct irqroute_route *r, int *ret)
{
	bool pending = false;

	*ret = variant->consume(r, &pending);
	return pending;
}

/*
 * mask -> signals -> nothing delivered -> consume_pending true, then
 * false -> unmask delivers nothing.
 */
TEST_F(mask, consume_takes_the_edge)
{
	struct irqroute_stats st0, st1;
	struct guest *g = self->env.g;
	int ret;

	ASSERT_EQ(0, rt_stats(self->env.ir, &st0));
	ASSERT_EQ(0, variant->mask(self->r));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(0, guest_count(g, 0, VEC));
	ASSERT_TRUE(irqroute_pending(self->r));

	ASSERT_EQ(0, rt_stats(self->env.ir, &st1));
	/* Three signals and the fence's. */
	EXPECT_EQ(4, st1.signals - st0.signals);
	EXPECT_LE(1, st1.pended - st0.pended);
	EXPECT_EQ(1, st1.delivered - st0.delivered);

	EXPECT_TRUE(consume(variant, self->r, &ret));
	ASSERT_EQ(0, ret);
	EXPECT_FALSE(irqroute_pending(self->r));
	EXPECT_FALSE(consume(variant, self->r, &ret));
	ASSERT_EQ(0, ret);

	ASSERT_EQ(0, variant->unmask(self->r));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(0, guest_count(g, 0, VEC));
	EXPECT_EQ(0, rt_total(&self->env));

	/* Unmasked again: the next signal goes through. */
	ASSERT_EQ(0, rt_signal(self->r));
	EXPECT_EQ(1, guest_wait_count(g, 0, VEC, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, rt_total(&self->env));
}

/* An edge nobody consumed is delivered by unmask, exactly once. */
TEST_F(mask, unmask_delivers_unconsumed_edge)
{
	struct guest *g = self->env.g;

	ASSERT_EQ(0, variant->mask(self->r));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(0, guest_count(g, 0, VEC));
	ASSERT_TRUE(irqroute_pending(self->r));

	ASSERT_EQ(0, variant->unmask(self->r));
	EXPECT_EQ(1, guest_wait_count(g, 0, VEC, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, guest_count(g, 0, VEC));
	EXPECT_EQ(1, rt_total(&self->env));
	EXPECT_FALSE(irqroute_pending(self->r));
}

/* Several signals while masked are one edge, as on hardware. */
TEST_F(mask, signals_coalesce)
{
	struct guest *g = self->env.g;
	unsigned int i;

	ASSERT_EQ(0, variant->mask(self->r));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(0, guest_count(g, 0, VEC));
	ASSERT_EQ(0, variant->unmask(self->r));
	EXPECT_EQ(1, guest_wait_count(g, 0, VEC, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, rt_total(&self->env));
}

/* Mask and unmask with nothing pending deliver nothing; both idempotent. */
TEST_F(mask, idle_toggles)
{
	struct guest *g = self->env.g;
	unsigned int i;

	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, variant->mask(self->r));
		ASSERT_EQ(0, variant->unmask(self->r));
	}
	ASSERT_EQ(0, variant->mask(self->r));
	ASSERT_EQ(0, variant->mask(self->r));
	ASSERT_EQ(0, variant->unmask(self->r));
	ASSERT_EQ(0, variant->unmask(self->r));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(0, rt_total(&self->env));

	/* One unmask is enough: mask does not count. */
	ASSERT_EQ(0, rt_signal(self->r));
	EXPECT_EQ(1, guest_wait_count(g, 0, VEC, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, rt_total(&self->env));
}

/* The pending edge goes where the MSI points at unmask time. */
TEST_F(mask, retarget_while_masked)
{
	struct guest *g = self->env.g;

	ASSERT_EQ(0, variant->mask(self->r));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_EQ(0, rt_set_msi(self->r, 0, VEC2));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(0, rt_total(&self->env));
	ASSERT_TRUE(irqroute_pending(self->r));

	ASSERT_EQ(0, variant->unmask(self->r));
	EXPECT_EQ(1, guest_wait_count(g, 0, VEC2, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(0, guest_count(g, 0, VEC));
	EXPECT_EQ(1, rt_total(&self->env));
}

/*
 * Masked and without an MSI: set_msi alone does not deliver (still
 * masked), the unmask does.
 */
/*
 * An edge pending when the MSI goes is still pending afterwards, and is
 * delivered once the route has an MSI and is unmasked: nothing is lost.
 */
TEST_F(mask, pending_survives_clear_msi)
{
	struct guest *g = self->env.g;

	ASSERT_EQ(0, variant->mask(self->r));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_TRUE(irqroute_pending(self->r));
	ASSERT_EQ(0, irqroute_clear_msi(self->r));
	EXPECT_TRUE(irqroute_pending(self->r));
	ASSERT_EQ(0, rt_set_msi(self->r, 0, VEC));
	EXPECT_TRUE(irqroute_pending(self->r));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(0, rt_total(&self->env));

	ASSERT_EQ(0, variant->unmask(self->r));
	EXPECT_EQ(1, guest_wait_count(g, 0, VEC, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, rt_total(&self->env));
	EXPECT_FALSE(irqroute_pending(self->r));
}

TEST_F(mask, set_msi_while_masked_waits_for_unmask)
{
	struct guest *g = self->env.g;

	ASSERT_EQ(0, variant->mask(self->r));
	ASSERT_EQ(0, irqroute_clear_msi(self->r));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_EQ(0, rt_set_msi(self->r, 0, VEC));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(0, rt_total(&self->env));
	ASSERT_TRUE(irqroute_pending(self->r));

	ASSERT_EQ(0, variant->unmask(self->r));
	EXPECT_EQ(1, guest_wait_count(g, 0, VEC, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, rt_total(&self->env));
}

/* The two forms share one state: page mask, ioctl view, and back. */
TEST_F(mask, forms_agree)
{
	struct guest *g = self->env.g;
	bool pending = false;

	ASSERT_EQ(0, variant->mask(self->r));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(0, rt_total(&self->env));
	/* Peek through the other form, then put the edge back by a signal. */
	if (variant->consume == consume_page) {
		ASSERT_EQ(0, irqroute_consume_pending_ioctl(self->r, &pending));
	} else {
		pending = irqroute_consume_pending(self->r);
	}
	ASSERT_TRUE(pending);
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(0, rt_total(&self->env));
	/* Unmask through the other form delivers the edge. */
	if (variant->unmask == irqroute_unmask) {
		ASSERT_EQ(0, irqroute_unmask_ioctl(self->r));
	} else {
		ASSERT_EQ(0, irqroute_unmask(self->r));
	}
	EXPECT_EQ(1, guest_wait_count(g, 0, VEC, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, rt_total(&self->env));
}

TEST_HARNESS_MAIN
