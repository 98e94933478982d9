// SPDX-License-Identifier: GPL-2.0
/*
 * clear_msi and set_msi: a route without an MSI holds its signals as a
 * pending edge, and the set_msi that makes it deliverable again delivers
 * that edge, once, to the new MSI.
 */
#include <sys/ioctl.h>

#include "kselftest_harness.h"

#include "irqroute_raw.h"
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
	const unsigned int owned[][2] = {
		{ 0, VEC }, { 1, VEC }, { 0, VEC2 }, { 1, VEC2 },
	};

	RT_EXPECT_EXACTLY_ONCE(&self->env, owned, 4);
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

/* IRQROUTE_SET_MSI as the raw ioctl, with every field under control. */
static int set_msi_raw(const struct irqroute_route *r, int fd,
		       uint64_t address, uint32_t data, uint32_t flags)
{
	struct irqroute_msi m = {
		.size = sizeof(m),
		.flags = flags,
		.index = irqroute_route_index(r),
		.data = data,
		.address_lo = (uint32_t)address,
		.address_hi = (uint32_t)(address >> 32),
	};

	return __irqroute_ioctl(fd, IRQROUTE_SET_MSI, &m);
}

/*
 * An MSI KVM refuses (with KVM_X2APIC_API_USE_32BIT_IDS, address_hi's low
 * byte must be 0): set_msi fails with KVM's EINVAL, the route keeps the
 * MSI it had, and another route's change staged (deferred) before the
 * refused call survives it and lands at the next IRQROUTE_COMMIT.
 */
TEST_F(msi, kvm_refusal_keeps_committed_and_staged)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X2APIC_API,
		.args[0] = KVM_X2APIC_API_USE_32BIT_IDS,
	};
	struct guest *g = self->env.g;
	int fd = irqroute_fd(self->env.ir);
	struct irqroute_route *r2;

	ASSERT_EQ(0, rt_set_msi(self->r, 1, VEC));
	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC, &r2));
	ASSERT_EQ(0, ioctl(guest_vm_fd(g), KVM_ENABLE_CAP, &cap));

	ASSERT_EQ(0, set_msi_raw(r2, fd, guest_msi_address(0), VEC2,
				 IRQROUTE_MSI_F_DEFER));
	ASSERT_EQ(-EINVAL, set_msi_raw(self->r, fd,
				       guest_msi_address(1) | 1ULL << 32,
				       VEC2, 0));

	/* Both routes still deliver to what was committed. */
	ASSERT_EQ(0, rt_signal(self->r));
	ASSERT_EQ(1, guest_wait_count(g, 1, VEC, 1, 0));
	ASSERT_EQ(0, rt_signal(r2));
	ASSERT_EQ(1, guest_wait_count(g, 0, VEC, 1, 0));

	/* The staged change of r2 is still there for the commit. */
	ASSERT_EQ(0, __irqroute_commit(fd));
	ASSERT_EQ(0, rt_signal(r2));
	ASSERT_EQ(1, guest_wait_count(g, 0, VEC2, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(0, guest_count(g, 1, VEC2));
	EXPECT_EQ(3, rt_total(&self->env));
	irqroute_route_destroy(r2);
}

TEST_HARNESS_MAIN
