// SPDX-License-Identifier: GPL-2.0
/*
 * Batching: between irqroute_batch_begin() and irqroute_batch_commit(),
 * set_msi and clear_msi are only staged; the guest sees no change until
 * the commit, which is one routing table update for all of them. A
 * commit that changes nothing does not reach KVM. Another thread's calls
 * meanwhile are not staged. A batch object (irqroute_batch_create())
 * applies all its changes or none, and names the route that failed.
 */
#include <pthread.h>
#include <sys/ioctl.h>

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

/* Stage every route's MSI, VEC_B if @b, in batch object @bt. */
static int stage_all(FIXTURE_DATA(batch) *self, struct irqroute_batch *bt,
		     bool b)
{
	unsigned int i;
	int ret;

	for (i = 0; i < NR; i++) {
		ret = irqroute_batch_set_msi(bt, self->r[i],
					     guest_msi_address(VCPU(i)),
					     b ? VEC_B(i) : VEC_A(i));
		if (ret)
			return ret;
	}
	return 0;
}

/* No route delivered anything to its VEC_B vector. */
static bool none_at_b(FIXTURE_DATA(batch) *self)
{
	unsigned int i;

	for (i = 0; i < NR; i++)
		if (guest_count(self->env.g, VCPU(i), VEC_B(i)))
			return false;
	return true;
}

/*
 * A batch object: nothing changes before the submit (signals arrive at
 * the old vectors), then every route's new MSI at once, in one commit.
 */
TEST_F(batch, object_submit_applies_all)
{
	struct irqroute_stats st0, st1, st2;
	struct irqroute_route *failed = self->r[0];
	struct irqroute_batch *bt;

	ASSERT_EQ(0, set_all(self, false));
	ASSERT_EQ(0, irqroute_batch_create(self->env.ir, &bt));
	ASSERT_EQ(0, rt_stats(self->env.ir, &st0));
	ASSERT_EQ(0, stage_all(self, bt, true));
	ASSERT_EQ(0, signal_all(self));
	ASSERT_TRUE(wait_all(self, false, 1));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_TRUE(none_at_b(self));
	ASSERT_EQ(0, rt_stats(self->env.ir, &st1));
	EXPECT_EQ(st0.commits, st1.commits);

	ASSERT_EQ(0, irqroute_batch_submit(bt, &failed));
	EXPECT_EQ(NULL, failed);
	ASSERT_EQ(0, rt_stats(self->env.ir, &st2));
	EXPECT_EQ(st1.commits + 1, st2.commits);
	ASSERT_EQ(0, signal_all(self));
	ASSERT_TRUE(wait_all(self, true, 1));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_TRUE(wait_all(self, false, 1));
	EXPECT_EQ(2 * NR, rt_total(&self->env));

	/* Freeing a batch with staged changes is an abort: nothing moves. */
	ASSERT_EQ(0, stage_all(self, bt, false));
	irqroute_batch_free(bt);
	ASSERT_EQ(0, signal_all(self));
	ASSERT_TRUE(wait_all(self, true, 2));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(3 * NR, rt_total(&self->env));
}

/*
 * One entry names a destroyed route: the submit fails with ENOENT, names
 * that route and applies none of the others.
 */
TEST_F(batch, object_bad_entry_applies_nothing)
{
	struct irqroute_stats st0, st1;
	struct irqroute_route *failed = NULL;
	struct irqroute_batch *bt;
	uintptr_t victim;
	unsigned int i;

	ASSERT_EQ(0, set_all(self, false));
	ASSERT_EQ(0, irqroute_batch_create(self->env.ir, &bt));
	ASSERT_EQ(0, stage_all(self, bt, true));
	/* Staged, then destroyed: its handle is only compared from now on. */
	victim = (uintptr_t)self->r[NR / 2];
	irqroute_route_destroy(self->r[NR / 2]);
	self->r[NR / 2] = NULL;
	/* The destroyed route's MSI leaves KVM's table at this commit. */
	ASSERT_EQ(0, rt_set_msi(self->r[0], VCPU(0), VEC_A(0)));

	ASSERT_EQ(0, rt_stats(self->env.ir, &st0));
	ASSERT_EQ(-ENOENT, irqroute_batch_submit(bt, &failed));
	EXPECT_EQ(victim, (uintptr_t)failed);
	/*
	 * Nothing was left staged either: a commit of an unchanged MSI
	 * (which sends every staged change) is skipped.
	 */
	ASSERT_EQ(0, rt_set_msi(self->r[0], VCPU(0), VEC_A(0)));
	ASSERT_EQ(0, rt_stats(self->env.ir, &st1));
	EXPECT_EQ(st0.commits, st1.commits);

	/* Every other route still delivers to its old vector. */
	for (i = 0; i < NR; i++) {
		if (!self->r[i])
			continue;
		ASSERT_EQ(0, rt_signal(self->r[i]));
		ASSERT_EQ(1, guest_wait_count(self->env.g, VCPU(i), VEC_A(i),
					      1, 0));
	}
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_TRUE(none_at_b(self));
	EXPECT_EQ(NR - 1, rt_total(&self->env));
	irqroute_batch_free(bt);
}

static int enable_x2apic_ids(struct guest *g)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X2APIC_API,
		.args[0] = KVM_X2APIC_API_USE_32BIT_IDS,
	};

	return ioctl(guest_vm_fd(g), KVM_ENABLE_CAP, &cap) ? -errno : 0;
}

/*
 * KVM refuses the table (one MSI with address_hi bits 7:0 set while
 * x2APIC-format MSIs are on): KVM's EINVAL, that route named, and every
 * route of the batch keeps the MSI it had. The next good batch applies.
 */
TEST_F(batch, object_kvm_refusal_keeps_old_msis)
{
	struct irqroute_route *failed = NULL;
	struct irqroute_batch *bt;
	const unsigned int bad = NR - 3;

	ASSERT_EQ(0, set_all(self, false));
	ASSERT_EQ(0, enable_x2apic_ids(self->env.g));
	ASSERT_EQ(0, irqroute_batch_create(self->env.ir, &bt));
	ASSERT_EQ(0, stage_all(self, bt, true));
	ASSERT_EQ(0, irqroute_batch_set_msi(bt, self->r[bad],
					    guest_msi_address(VCPU(bad)) |
					    1ULL << 32, VEC_B(bad)));
	ASSERT_EQ(-EINVAL, irqroute_batch_submit(bt, &failed));
	EXPECT_EQ(self->r[bad], failed);
	/* Nothing left staged for the next commit to pick up. */
	ASSERT_EQ(0, rt_set_msi(self->r[0], VCPU(0), VEC_A(0)));

	ASSERT_EQ(0, signal_all(self));
	ASSERT_TRUE(wait_all(self, false, 1));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_TRUE(none_at_b(self));
	EXPECT_EQ(NR, rt_total(&self->env));

	/* The batch is empty after a failed submit; a good one applies. */
	ASSERT_EQ(0, stage_all(self, bt, true));
	ASSERT_EQ(0, irqroute_batch_submit(bt, &failed));
	EXPECT_EQ(NULL, failed);
	ASSERT_EQ(0, signal_all(self));
	ASSERT_TRUE(wait_all(self, true, 1));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(2 * NR, rt_total(&self->env));
	irqroute_batch_free(bt);
}

struct other {
	FIXTURE_DATA(batch) *self;
	int refused, set, commit;
	uint32_t got;
};

/*
 * Another thread while the main one is inside a legacy batch: its set_msi
 * of the last route takes effect at once (the guest gets the new vector
 * before the main thread commits), a set_msi KVM refuses fails with its
 * own EINVAL, and it cannot commit the main thread's batch.
 */
static void *other_fn(void *arg)
{
	struct other *o = arg;
	FIXTURE_DATA(batch) *self = o->self;
	unsigned int last = NR - 1;

	o->refused = irqroute_set_msi(self->r[last],
				      guest_msi_address(VCPU(last)) |
				      1ULL << 32, VEC_B(last));
	o->set = rt_set_msi(self->r[last], VCPU(last), VEC_B(last));
	o->commit = irqroute_batch_commit(self->env.ir);
	if (!o->set && !rt_signal(self->r[last]))
		o->got = guest_wait_count(self->env.g, VCPU(last),
					  VEC_B(last), 1, 0);
	return NULL;
}

TEST_F(batch, legacy_other_thread_not_staged)
{
	struct other o = { .self = self };
	unsigned int i;
	pthread_t th;

	ASSERT_EQ(0, set_all(self, false));
	ASSERT_EQ(0, enable_x2apic_ids(self->env.g));
	ASSERT_EQ(0, irqroute_batch_begin(self->env.ir));
	for (i = 0; i < NR - 1; i++)
		ASSERT_EQ(0, rt_set_msi(self->r[i], VCPU(i), VEC_B(i)));

	ASSERT_EQ(0, pthread_create(&th, NULL, other_fn, &o));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(-EINVAL, o.refused);
	EXPECT_EQ(0, o.set);
	EXPECT_EQ(-EINVAL, o.commit);
	EXPECT_EQ(1, o.got);

	/* The main thread's changes are still only staged... */
	for (i = 0; i < NR - 1; i++) {
		ASSERT_EQ(0, rt_signal(self->r[i]));
		ASSERT_EQ(1, guest_wait_count(self->env.g, VCPU(i), VEC_A(i),
					      1, 0));
	}
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(NR, rt_total(&self->env));

	/* ... and its commit is its own: 0, and they all apply. */
	ASSERT_EQ(0, irqroute_batch_commit(self->env.ir));
	for (i = 0; i < NR - 1; i++) {
		ASSERT_EQ(0, rt_signal(self->r[i]));
		ASSERT_EQ(1, guest_wait_count(self->env.g, VCPU(i), VEC_B(i),
					      1, 0));
	}
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(2 * NR - 1, rt_total(&self->env));
}

TEST_HARNESS_MAIN
