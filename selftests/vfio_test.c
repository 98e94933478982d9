// SPDX-License-Identifier: GPL-2.0
/*
 * A real device end to end: QEMU's edu PCI device behind vfio-pci raises
 * an MSI, vfio's hard-IRQ handler signals the eventfd it was given with
 * VFIO_DEVICE_SET_IRQS, and that eventfd is a route's trigger. The L2
 * guest must take each MSI on the route's vector, exactly once, and none
 * while the route is masked, destroyed or no longer the device's trigger.
 */
#include <pthread.h>

#include "kselftest_harness.h"

#include "edu.h"
#include "rtenv.h"

#define VEC_A		RT_VECTOR(0x10)
#define VEC_B		RT_VECTOR(0x11)
/* Raise-until-delivered rounds in one_by_one. */
#define NR_RAISES	64
/* Default mask/raise/unmask cycles; IRQROUTE_VFIO_CYCLES overrides. */
#define NR_CYCLES	2000

FIXTURE(vfio) {
	struct rt_env env;
	struct edu *edu;
	struct irqroute_route *r;
	/*
	 * A thread raised MSIs back to back: two may meet in the APIC as
	 * one interrupt, so KVM's count is not compared with the guest's.
	 */
	bool raising;
};

/* The hand-off from the gate to KVM: direct, or through the irq_work. */
FIXTURE_VARIANT(vfio) {
	bool irq_work;
};

FIXTURE_VARIANT_ADD(vfio, direct) {
	.irq_work = false,
};

FIXTURE_VARIANT_ADD(vfio, irq_work) {
	.irq_work = true,
};

FIXTURE_SETUP(vfio)
{
	ASSERT_EQ(0, rt_handoff_irq_work(variant->irq_work));
	ASSERT_EQ(0, rt_env_setup(&self->env, 1, NULL, true));
	self->edu = edu_open();
	ASSERT_NE(NULL, self->edu);
	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC_A, &self->r));
	ASSERT_EQ(0, edu_set_trigger(self->edu, irqroute_route_event(self->r)));
}

FIXTURE_TEARDOWN(vfio)
{
	const unsigned int owned[][2] = { { 0, VEC_A }, { 0, VEC_B } };

	if (!self->raising)
		RT_EXPECT_EXACTLY_ONCE(&self->env, owned, 2);
	RT_EXPECT_IRQ_WORK_RAN(self->env.ir, variant->irq_work);
	/* The device lets go of the trigger before the route goes. */
	edu_close(self->edu);
	if (self->r)
		irqroute_route_destroy(self->r);
	rt_env_teardown(&self->env);
	rt_handoff_irq_work(false);
}

/* Poll the route's pending bit (the PBA in the shared page). */
static bool wait_pending(const struct irqroute_route *r)
{
	unsigned int ms;

	for (ms = 0; ms < guest_timeout_ms(); ms++) {
		if (irqroute_pending(r))
			return true;
		guest_msleep(1);
	}
	return false;
}

/*
 * Each device MSI is one hard interrupt in vfio-pci, and one interrupt on
 * the route's vector in the guest.
 */
TEST_F(vfio, one_by_one)
{
	long long hardirqs = edu_hardirq_count(self->edu);
	struct irqroute_stats st;
	unsigned int i;

	ASSERT_LE(0, hardirqs);
	for (i = 1; i <= NR_RAISES; i++) {
		edu_raise(self->edu);
		ASSERT_EQ(i, rt_wait(&self->env, 0, VEC_A, i));
		edu_ack(self->edu, 1);
	}
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(NR_RAISES, guest_count(self->env.g, 0, VEC_A));
	EXPECT_EQ(NR_RAISES, rt_total(&self->env));
	EXPECT_FALSE(irqroute_pending(self->r));
	EXPECT_EQ(hardirqs + NR_RAISES, edu_hardirq_count(self->edu));
	/* The hand-off took the path the variant asked for. */
	ASSERT_EQ(0, rt_stats(self->env.ir, &st));
	if (variant->irq_work) {
		EXPECT_LE(NR_RAISES, st.deferred);
	} else {
		EXPECT_EQ(0, st.deferred);
	}
}

/* Masked: the MSI sets the PBA bit, and unmask delivers it, once. */
TEST_F(vfio, masked_msi_delivered_on_unmask)
{
	ASSERT_EQ(0, irqroute_mask(self->r));
	edu_raise(self->edu);
	ASSERT_TRUE(wait_pending(self->r));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(0, rt_total(&self->env));

	ASSERT_EQ(0, irqroute_unmask(self->r));
	ASSERT_EQ(1, rt_wait(&self->env, 0, VEC_A, 1));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, rt_total(&self->env));
	EXPECT_FALSE(irqroute_pending(self->r));
}

/*
 * Many MSIs while masked are one pending bit: one interrupt on unmask.
 * The raises are spaced so that L1 takes each as its own hard interrupt
 * (back-to-back MSIs of one vector may merge in L1's APIC, as on
 * hardware); every one of them reaches the gate and pends.
 */
TEST_F(vfio, masked_msis_coalesce)
{
	long long hardirqs = edu_hardirq_count(self->edu), taken;
	struct irqroute_stats st0, st;
	unsigned int i;

	ASSERT_LE(0, hardirqs);
	ASSERT_EQ(0, rt_stats(self->env.ir, &st0));
	ASSERT_EQ(0, irqroute_mask(self->r));
	for (i = 0; i < 10; i++) {
		edu_raise(self->edu);
		guest_msleep(2);
	}
	ASSERT_TRUE(wait_pending(self->r));
	guest_msleep(GUEST_SETTLE_MS);
	taken = edu_hardirq_count(self->edu) - hardirqs;
	ASSERT_EQ(0, rt_stats(self->env.ir, &st));
	TH_LOG("10 raises, %lld hard interrupts, %llu pended", taken,
	       (unsigned long long)(st.pended - st0.pended));
	ASSERT_LE(2, taken);
	ASSERT_EQ(taken, st.pended - st0.pended);
	ASSERT_EQ(0, irqroute_unmask(self->r));
	ASSERT_EQ(1, rt_wait(&self->env, 0, VEC_A, 1));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, rt_total(&self->env));
}

/* The VMM consumed the pending MSI (emulating the PBA): unmask is quiet. */
TEST_F(vfio, consumed_msi_not_delivered)
{
	ASSERT_EQ(0, irqroute_mask(self->r));
	edu_raise(self->edu);
	ASSERT_TRUE(wait_pending(self->r));
	ASSERT_TRUE(irqroute_consume_pending(self->r));
	ASSERT_FALSE(irqroute_pending(self->r));
	ASSERT_EQ(0, irqroute_unmask(self->r));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(0, rt_total(&self->env));

	/* And the route still works. */
	edu_raise(self->edu);
	ASSERT_EQ(1, rt_wait(&self->env, 0, VEC_A, 1));
}

/*
 * Thousands of cycles of: an MSI while unmasked, delivered; mask; an MSI
 * while masked, held; unmask, delivered. Exactly two per cycle: zero lost,
 * zero extra.
 */
TEST_F(vfio, mask_cycles_exact)
{
	unsigned long cycles = guest_env_ulong("IRQROUTE_VFIO_CYCLES",
					       NR_CYCLES);
	struct timespec t0, t1;
	unsigned long i;
	uint32_t n = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < cycles; i++) {
		edu_raise(self->edu);
		n++;
		ASSERT_EQ(n, rt_wait(&self->env, 0, VEC_A, n));

		ASSERT_EQ(0, irqroute_mask(self->r));
		edu_raise(self->edu);
		ASSERT_TRUE(wait_pending(self->r));
		ASSERT_EQ(n, guest_count(self->env.g, 0, VEC_A));
		ASSERT_EQ(0, irqroute_unmask(self->r));
		n++;
		ASSERT_EQ(n, rt_wait(&self->env, 0, VEC_A, n));
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("%lu cycles, %lu device MSIs delivered, in %.2f s", cycles,
	       2 * cycles, (t1.tv_sec - t0.tv_sec) +
			   (t1.tv_nsec - t0.tv_nsec) / 1e9);
	edu_ack(self->edu, ~0u);
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(2 * cycles, guest_count(self->env.g, 0, VEC_A));
	EXPECT_EQ(2 * cycles, rt_total(&self->env));
	EXPECT_FALSE(irqroute_pending(self->r));
}

struct raiser {
	struct edu *edu;
	int stop;
	unsigned long raised;
};

static void *raise_loop(void *arg)
{
	struct raiser *rs = arg;

	while (!__atomic_load_n(&rs->stop, __ATOMIC_SEQ_CST)) {
		edu_raise(rs->edu);
		rs->raised++;
		usleep(100);
	}
	return NULL;
}

/*
 * The route is destroyed while the device keeps raising MSIs: no splat
 * (the kernel log is checked after the run), and nothing reaches the
 * guest afterwards.
 */
TEST_F(vfio, destroy_while_raising)
{
	struct raiser rs = { .edu = self->edu };
	pthread_t thread;
	uint32_t before;

	self->raising = true;
	ASSERT_EQ(0, pthread_create(&thread, NULL, raise_loop, &rs));
	/* Delivering for real before the destroy. */
	ASSERT_LE(20, rt_wait(&self->env, 0, VEC_A, 20));
	irqroute_route_destroy(self->r);
	self->r = NULL;
	/* Whatever was in flight at the destroy has landed after a fence. */
	ASSERT_TRUE(rt_fence(&self->env));
	before = guest_count(self->env.g, 0, VEC_A);
	guest_msleep(300);
	__atomic_store_n(&rs.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(thread, NULL);
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(before, guest_count(self->env.g, 0, VEC_A));
	EXPECT_EQ(before, rt_total(&self->env));
	/* It kept raising after the destroy, into an eventfd nobody reads. */
	EXPECT_LT(before, rs.raised);
}

/*
 * The whole attachment goes (its file is closed, with the route on it)
 * while the device keeps raising: nothing reaches the guest afterwards,
 * and the VM itself still takes interrupts.
 */
TEST_F(vfio, detach_while_raising)
{
	struct raiser rs = { .edu = self->edu };
	struct guest *g = self->env.g;
	pthread_t thread;
	uint32_t before, fences;

	self->raising = true;
	ASSERT_EQ(0, pthread_create(&thread, NULL, raise_loop, &rs));
	ASSERT_LE(20, rt_wait(&self->env, 0, VEC_A, 20));
	irqroute_detach(self->env.ir);
	self->env.ir = NULL;
	self->env.fence = NULL;
	self->r = NULL;
	/* No fence route any more: KVM_SIGNAL_MSI, then settle. */
	fences = guest_count(g, 0, RT_FENCE_VECTOR);
	ASSERT_LT(0, guest_signal_msi(g, guest_msi_address(0),
				      RT_FENCE_VECTOR));
	ASSERT_EQ(fences + 1, guest_wait_count(g, 0, RT_FENCE_VECTOR,
					       fences + 1, 0));
	guest_msleep(GUEST_SETTLE_MS);
	before = guest_count(g, 0, VEC_A);
	guest_msleep(300);
	__atomic_store_n(&rs.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(thread, NULL);
	ASSERT_LT(0, guest_signal_msi(g, guest_msi_address(0),
				      RT_FENCE_VECTOR));
	ASSERT_EQ(fences + 2, guest_wait_count(g, 0, RT_FENCE_VECTOR,
					       fences + 2, 0));
	guest_msleep(GUEST_SETTLE_MS);
	EXPECT_EQ(before, guest_count(g, 0, VEC_A));
	EXPECT_LT(before, rs.raised);
}

/*
 * VFIO's trigger is removed and given to a new route: the new route gets
 * every MSI, the old one (still alive) none.
 */
TEST_F(vfio, trigger_moved_to_new_route)
{
	struct irqroute_route *r2;
	unsigned int i;

	edu_raise(self->edu);
	ASSERT_EQ(1, rt_wait(&self->env, 0, VEC_A, 1));

	ASSERT_EQ(0, edu_set_trigger(self->edu, -1));
	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC_B, &r2));
	ASSERT_EQ(0, edu_set_trigger(self->edu, irqroute_route_event(r2)));
	for (i = 1; i <= 16; i++) {
		edu_raise(self->edu);
		ASSERT_EQ(i, rt_wait(&self->env, 0, VEC_B, i));
	}
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, guest_count(self->env.g, 0, VEC_A));
	EXPECT_EQ(17, rt_total(&self->env));

	/* The old route still delivers its own signals. */
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_EQ(2, rt_wait(&self->env, 0, VEC_A, 2));

	/* And back to the first route, with r2 gone. */
	ASSERT_EQ(0, edu_set_trigger(self->edu, -1));
	irqroute_route_destroy(r2);
	ASSERT_EQ(0, edu_set_trigger(self->edu,
				     irqroute_route_event(self->r)));
	edu_raise(self->edu);
	ASSERT_EQ(3, rt_wait(&self->env, 0, VEC_A, 3));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(16, guest_count(self->env.g, 0, VEC_B));
	EXPECT_EQ(19, rt_total(&self->env));
}

/* The route is retargeted while the device raises: each MSI lands once. */
TEST_F(vfio, retarget_between_msis)
{
	unsigned int i;

	for (i = 1; i <= 8; i++) {
		ASSERT_EQ(0, rt_set_msi(self->r, 0, i % 2 ? VEC_B : VEC_A));
		edu_raise(self->edu);
		ASSERT_EQ((i + 1) / 2, rt_wait(&self->env, 0,
					       i % 2 ? VEC_B : VEC_A,
					       (i + 1) / 2));
	}
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(4, guest_count(self->env.g, 0, VEC_A));
	EXPECT_EQ(4, guest_count(self->env.g, 0, VEC_B));
	EXPECT_EQ(8, rt_total(&self->env));
}

TEST_HARNESS_MAIN
