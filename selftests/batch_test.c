// SPDX-License-Identifier: GPL-2.0
/*
 * Batching: between irqroute_batch_begin() and irqroute_batch_commit(),
 * set_msi and clear_msi are only staged; the guest sees no change until
 * the commit, which is one routing table update for all of them. A
 * commit that changes nothing does not reach KVM.
 */
#include "kselftest_harness.h"

#include "rtenv.h"

#define NR		32
#define VEC_A(i)	RT_VECTOR(i)
#define VEC_B(i)	RT_VECTOR(0x40 + (i))
#define VCPU(i)		((i) % 2)

FIXTURE(batch) {
	struct rt_env env;
	struct irqroute_route *r[NR];
};

FIXTURE_SETUP(batch)
{
	unsigned int i;

	ASSERT_EQ(0, rt_env_setup(&self->env, 2, NULL, true));
	for (i = 0; i < NR; i++)
		ASSERT_EQ(0, irqroute_route_create(self->env.ir, &self->r[i]));
}

FIXTURE_TEARDOWN(batch)
{
	unsigned int owned[2 * NR][2];
	unsigned int i;

	for (i = 0; i < NR; i++) {
		owned[2 * i][0] = owned[2 * i + 1][0] = VCPU(i);
		owned[2 * i][1] = VEC_A(i);
		owned[2 * i + 1][1] = VEC_B(i);
	}
	RT_EXPECT_EXACTLY_ONCE(&self->env, owned, 2 * NR);
	for (i = 0; i < NR; i++)
		if (self->r[i])
			irqroute_route_destroy(self->r[i]);
	rt_env_teardown(&self->env);
}

static int set_all(FIXTURE_DATA(batch) *self, bool b)
{
	unsigned int i;
	int ret;

	for (i = 0; i < NR; i++) {
		ret = rt_set_msi(self->r[i], VCPU(i), b ? VEC_B(i) : VEC_A(i));
		if (ret)
			return ret;
	}
	return 0;
}

static int signal_all(FIXTURE_DATA(batch) *self)
{
	unsigned int i;
	int ret;

	for (i = 0; i < NR; i++) {
		ret = rt_signal(self->r[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Every route's (VCPU(i), vec(i)) count reached @want; false on timeout. */
static bool wait_all(FIXTURE_DATA(batch) *self, bool b, uint32_t want)
{
	unsigned int i, vec;

	for (i = 0; i < NR; i++) {
		vec = b ? VEC_B(i) : VEC_A(i);
		if (guest_wait_count(self->env.g, VCPU(i), vec, want,
				     0) != want)
			return false;
	}
	return true;
}

/*
 * Fresh routes (no MSI) signalled while their MSIs are staged: nothing
 * arrives; the one commit delivers every held edge, once.
 */
TEST_F(batch, commit_delivers_held_edges)
{
	struct irqroute_stats st0, st1, st2;
	unsigned int i;

	ASSERT_EQ(0, rt_stats(self->env.ir, &st0));
	ASSERT_EQ(0, irqroute_batch_begin(self->env.ir));
	ASSERT_EQ(0, set_all(self, false));
	ASSERT_EQ(0, signal_all(self));
	ASSERT_TRUE(rt_fence(&self->env));
	ASSERT_EQ(0, rt_total(&self->env));
	for (i = 0; i < NR; i++)
		ASSERT_TRUE(irqroute_pending(self->r[i]));
	ASSERT_EQ(0, rt_stats(self->env.ir, &st1));
	EXPECT_EQ(st0.commits, st1.commits);

	ASSERT_EQ(0, irqroute_batch_commit(self->env.ir));
	ASSERT_EQ(0, rt_stats(self->env.ir, &st2));
	EXPECT_EQ(st1.commits + 1, st2.commits);
	ASSERT_TRUE(wait_all(self, false, 1));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(NR, rt_total(&self->env));
	for (i = 0; i < NR; i++)
		EXPECT_FALSE(irqroute_pending(self->r[i]));
}

/* Staged retargets: old MSIs until the commit, new ones after it. */
TEST_F(batch, retarget_takes_effect_at_commit)
{
	struct irqroute_stats st0, st1;

	ASSERT_EQ(0, set_all(self, false));
	ASSERT_EQ(0, rt_stats(self->env.ir, &st0));
	ASSERT_EQ(0, irqroute_batch_begin(self->env.ir));
	ASSERT_EQ(0, set_all(self, true));
	ASSERT_EQ(0, signal_all(self));
	ASSERT_TRUE(wait_all(self, false, 1));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(NR, rt_total(&self->env));

	ASSERT_EQ(0, irqroute_batch_commit(self->env.ir));
	ASSERT_EQ(0, rt_stats(self->env.ir, &st1));
	EXPECT_EQ(st0.commits + 1, st1.commits);
	ASSERT_EQ(0, signal_all(self));
	ASSERT_TRUE(wait_all(self, true, 1));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_TRUE(wait_all(self, false, 1));
	EXPECT_EQ(2 * NR, rt_total(&self->env));
}

/* Staged clears: routes deliver until the commit, then hold their edges. */
TEST_F(batch, clear_takes_effect_at_commit)
{
	unsigned int i;

	ASSERT_EQ(0, set_all(self, false));
	ASSERT_EQ(0, irqroute_batch_begin(self->env.ir));
	for (i = 0; i < NR; i++)
		ASSERT_EQ(0, irqroute_clear_msi(self->r[i]));
	ASSERT_EQ(0, signal_all(self));
	ASSERT_TRUE(wait_all(self, false, 1));

	ASSERT_EQ(0, irqroute_batch_commit(self->env.ir));
	ASSERT_EQ(0, signal_all(self));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(NR, rt_total(&self->env));
	for (i = 0; i < NR; i++)
		EXPECT_TRUE(irqroute_pending(self->r[i]));

	/* Set back in one more batch: each held edge once. */
	ASSERT_EQ(0, irqroute_batch_begin(self->env.ir));
	ASSERT_EQ(0, set_all(self, false));
	ASSERT_EQ(0, irqroute_batch_commit(self->env.ir));
	ASSERT_TRUE(wait_all(self, false, 2));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(2 * NR, rt_total(&self->env));
}

/* A commit that changes nothing is skipped, batched or not. */
TEST_F(batch, unchanged_commit_skipped)
{
	struct irqroute_stats st0, st1, st2;

	ASSERT_EQ(0, set_all(self, false));
	ASSERT_EQ(0, rt_stats(self->env.ir, &st0));
	ASSERT_EQ(0, irqroute_batch_begin(self->env.ir));
	ASSERT_EQ(0, set_all(self, false));
	ASSERT_EQ(0, irqroute_batch_commit(self->env.ir));
	ASSERT_EQ(0, rt_stats(self->env.ir, &st1));
	EXPECT_EQ(st0.commits, st1.commits);
	EXPECT_LT(st0.commits_skipped, st1.commits_skipped);

	ASSERT_EQ(0, rt_set_msi(self->r[0], VCPU(0), VEC_A(0)));
	ASSERT_EQ(0, rt_stats(self->env.ir, &st2));
	EXPECT_EQ(st1.commits, st2.commits);
	EXPECT_LT(st1.commits_skipped, st2.commits_skipped);

	/* Still delivering where they were. */
	ASSERT_EQ(0, signal_all(self));
	ASSERT_TRUE(wait_all(self, false, 1));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(NR, rt_total(&self->env));
}

TEST_HARNESS_MAIN
