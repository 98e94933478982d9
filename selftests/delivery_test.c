// SPDX-License-Identifier: GPL-2.0
/*
 * Delivery: a signalled route's MSI reaches exactly the vCPU and vector
 * that set_msi named, once per signal, and set_msi retargets it.
 */
#include "kselftest_harness.h"

#include "rtenv.h"

#define NR_SIGNALS	8

FIXTURE(delivery) {
	struct rt_env env;
	struct irqroute_route *r;
};

/* A route's first target and the target set_msi moves it to. */
FIXTURE_VARIANT(delivery) {
	unsigned int vcpu, vector;
	unsigned int vcpu2, vector2;
	bool irq_work;		/* hand off through the irq_work */
};

FIXTURE_VARIANT_ADD(delivery, other_vcpu) {
	.vcpu = 0, .vector = RT_VECTOR(0x11),
	.vcpu2 = 1, .vector2 = RT_VECTOR(0x11),
};

FIXTURE_VARIANT_ADD(delivery, other_vector) {
	.vcpu = 1, .vector = RT_VECTOR(0x20),
	.vcpu2 = 1, .vector2 = RT_VECTOR(0x21),
};

FIXTURE_VARIANT_ADD(delivery, other_vcpu_and_vector) {
	.vcpu = 1, .vector = RT_VECTOR(0x60),
	.vcpu2 = 0, .vector2 = RT_VECTOR(0x05),
};

FIXTURE_VARIANT_ADD(delivery, other_vcpu_and_vector_irq_work) {
	.vcpu = 1, .vector = RT_VECTOR(0x60),
	.vcpu2 = 0, .vector2 = RT_VECTOR(0x05),
	.irq_work = true,
};

FIXTURE_SETUP(delivery)
{
	ASSERT_EQ(0, rt_handoff_irq_work(variant->irq_work));
	ASSERT_EQ(0, rt_env_setup(&self->env, 2, NULL, true));
	ASSERT_EQ(0, irqroute_route_create(self->env.ir, &self->r));
}

FIXTURE_TEARDOWN(delivery)
{
	const unsigned int owned[][2] = {
		{ variant->vcpu, variant->vector },
		{ variant->vcpu2, variant->vector2 },
	};

	RT_EXPECT_EXACTLY_ONCE(&self->env, owned, 2);
	RT_EXPECT_IRQ_WORK_RAN(self->env.ir, variant->irq_work);
	if (self->r)
		irqroute_route_destroy(self->r);
	rt_env_teardown(&self->env);
	rt_handoff_irq_work(false);
}

/* Each signal is one interrupt at the target, and nowhere else. */
TEST_F(delivery, right_vector_and_vcpu)
{
	struct guest *g = self->env.g;
	unsigned int i;

	ASSERT_EQ(0, rt_set_msi(self->r, variant->vcpu, variant->vector));
	for (i = 1; i <= NR_SIGNALS; i++) {
		ASSERT_EQ(0, rt_signal(self->r));
		ASSERT_EQ(i, rt_wait(&self->env, variant->vcpu,
				     variant->vector, i));
	}
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(NR_SIGNALS, guest_count(g, variant->vcpu, variant->vector));
	EXPECT_EQ(NR_SIGNALS, rt_total(&self->env));
	EXPECT_EQ(0, guest_count(g, !variant->vcpu, variant->vector));
	/*
	 * Without the irq_work, every one of them took the direct hand-off,
	 * whose wake-up of KVM's irqfd carries EPOLLIN but no count: the
	 * guest's interrupts above show that KVM's irqfd still injects on
	 * it. A kernel whose irqfd treated that as spurious fails here.
	 */
	if (!variant->irq_work) {
		struct irqroute_stats st;

		ASSERT_EQ(0, rt_stats(self->env.ir, &st));
		EXPECT_EQ(0, st.deferred);
	}
}

/* set_msi moves the next signal, and only the next, to the new target. */
TEST_F(delivery, retarget)
{
	struct guest *g = self->env.g;

	ASSERT_EQ(0, rt_set_msi(self->r, variant->vcpu, variant->vector));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_EQ(1, rt_wait(&self->env, variant->vcpu, variant->vector, 1));

	ASSERT_EQ(0, rt_set_msi(self->r, variant->vcpu2, variant->vector2));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_EQ(1, rt_wait(&self->env, variant->vcpu2, variant->vector2, 1));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, guest_count(g, variant->vcpu, variant->vector));
	EXPECT_EQ(2, rt_total(&self->env));

	/* And back. */
	ASSERT_EQ(0, rt_set_msi(self->r, variant->vcpu, variant->vector));
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_EQ(2, rt_wait(&self->env, variant->vcpu, variant->vector, 2));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, guest_count(g, variant->vcpu2, variant->vector2));
	EXPECT_EQ(3, rt_total(&self->env));
}

/* A set_msi to the MSI already set changes nothing. */
TEST_F(delivery, same_msi_again)
{
	unsigned int i;

	for (i = 1; i <= 4; i++) {
		ASSERT_EQ(0, rt_set_msi(self->r, variant->vcpu,
					variant->vector));
		ASSERT_EQ(0, rt_signal(self->r));
		ASSERT_EQ(i, rt_wait(&self->env, variant->vcpu,
				     variant->vector, i));
	}
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(4, rt_total(&self->env));
}

/* Two routes at once, one per target: neither leaks into the other. */
TEST_F(delivery, two_routes)
{
	struct irqroute_route *r2;
	unsigned int i;

	ASSERT_EQ(0, rt_set_msi(self->r, variant->vcpu, variant->vector));
	ASSERT_EQ(0, rt_route_new(self->env.ir, variant->vcpu2,
				  variant->vector2, &r2));
	for (i = 1; i <= NR_SIGNALS; i++) {
		ASSERT_EQ(0, rt_signal(self->r));
		ASSERT_EQ(0, rt_signal(r2));
		ASSERT_EQ(i, rt_wait(&self->env, variant->vcpu,
				     variant->vector, i));
		ASSERT_EQ(i, rt_wait(&self->env, variant->vcpu2,
				     variant->vector2, i));
	}
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(2 * NR_SIGNALS, rt_total(&self->env));
	irqroute_route_destroy(r2);
}

TEST_HARNESS_MAIN
