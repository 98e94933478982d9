// SPDX-License-Identifier: GPL-2.0
/*
 * Capacity: every one of nr_routes routes gets its own GSI of the range
 * and delivers; one more fails with ENOSPC; a destroyed route's GSI is
 * handed out again, to a route that starts unmasked and not pending.
 *
 * The fence here is a base route with a raw KVM irqfd, so that all
 * nr_routes routes are the test's.
 */
#include <stdlib.h>
#include <unistd.h>
#include <sys/resource.h>

#include "kselftest_harness.h"

#include "rtenv.h"

#define FENCE_GSI	0
/* Distinct (vCPU, vector) targets: one round of signals. */
#define ROUND		(2 * RT_NR_VECTORS)
#define TARGET_VCPU(i)	(((i) / RT_NR_VECTORS) % 2)
#define TARGET_VEC(i)	RT_VECTOR((i) % RT_NR_VECTORS)

FIXTURE(routes) {
	struct rt_env env;
	struct irqroute_route **r;
	int fence_efd;
};

FIXTURE_VARIANT(routes) {
	uint32_t gsi_base;
	uint32_t nr_routes;
	bool batched;		/* set the MSIs in one batch */
};

FIXTURE_VARIANT_ADD(routes, small) {
	.gsi_base = 32, .nr_routes = 16, .batched = false,
};

FIXTURE_VARIANT_ADD(routes, default_range) {
	.gsi_base = IRQROUTE_DEFAULT_GSI_BASE,
	.nr_routes = IRQROUTE_DEFAULT_NR_ROUTES, .batched = true,
};

/* Up to KVM's last GSI. */
FIXTURE_VARIANT_ADD(routes, all_gsis) {
	.gsi_base = 32, .nr_routes = IRQROUTE_MAX_ROUTES - 32, .batched = true,
};

FIXTURE_SETUP(routes)
{
	const struct irqroute_opts opts = {
		.gsi_base = variant->gsi_base,
		.nr_routes = variant->nr_routes,
	};
	struct kvm_irq_routing_entry e;
	struct rlimit rl;

	self->fence_efd = -1;
	/* One trigger eventfd per route stays open. */
	rl.rlim_cur = rl.rlim_max = variant->nr_routes + 1024;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	self->r = calloc(variant->nr_routes, sizeof(*self->r));
	ASSERT_NE(NULL, self->r);

	ASSERT_EQ(0, rt_env_setup(&self->env, 2, &opts, false));
	rt_msi_entry(&e, FENCE_GSI, 0, RT_FENCE_VECTOR);
	ASSERT_EQ(0, irqroute_set_base_routes(self->env.ir, &e, 1));
	ASSERT_EQ(0, rt_raw_irqfd(self->env.g, FENCE_GSI, &self->fence_efd));
}

FIXTURE_TEARDOWN(routes)
{
	uint32_t i;

	for (i = 0; self->r && i < variant->nr_routes; i++)
		if (self->r[i])
			irqroute_route_destroy(self->r[i]);
	free(self->r);
	rt_env_teardown(&self->env);
	if (self->fence_efd >= 0)
		close(self->fence_efd);
}

static bool fence(FIXTURE_DATA(routes) *self)
{
	return guest_fence(self->env.g, self->fence_efd, 0, RT_FENCE_VECTOR);
}

/* Creates routes into every empty slot; checks each GSI is new and valid. */
static int create_all(struct __test_metadata *_metadata,
		      FIXTURE_DATA(routes) *self,
		      const FIXTURE_VARIANT(routes) *variant, uint8_t *seen)
{
	struct irqroute_route *extra;
	uint32_t i, gsi, base = variant->gsi_base, nr = variant->nr_routes;
	int ret;

	for (i = 0; i < nr; i++) {
		if (self->r[i])
			continue;
		ret = irqroute_route_create(self->env.ir, &self->r[i]);
		if (ret) {
			TH_LOG("route %u of %u: %d", i, nr, ret);
			return ret;
		}
		gsi = irqroute_route_gsi(self->r[i]);
		if (gsi < base || gsi >= base + nr || seen[gsi - base] ||
		    irqroute_route_index(self->r[i]) != gsi - base) {
			TH_LOG("route %u: bad or reused GSI %u", i, gsi);
			return -EINVAL;
		}
		seen[gsi - base] = 1;
	}
	/* The range is full now. */
	ret = irqroute_route_create(self->env.ir, &extra);
	if (ret != -ENOSPC) {
		TH_LOG("route %u of %u: %d, expected -ENOSPC", nr + 1, nr, ret);
		if (!ret)
			irqroute_route_destroy(extra);
		return -EEXIST;
	}
	return 0;
}

static int set_msis(FIXTURE_DATA(routes) *self,
		    const FIXTURE_VARIANT(routes) *variant)
{
	uint32_t i;
	int ret;

	if (variant->batched) {
		ret = irqroute_batch_begin(self->env.ir);
		if (ret)
			return ret;
	}
	for (i = 0; i < variant->nr_routes; i++) {
		ret = rt_set_msi(self->r[i], TARGET_VCPU(i), TARGET_VEC(i));
		if (ret)
			return ret;
	}
	return variant->batched ? irqroute_batch_commit(self->env.ir) : 0;
}

/*
 * Signals every route once, a round of distinct targets at a time so the
 * guest's IRR never merges two of them; @base: each target's count
 * before. False if some interrupt did not arrive.
 */
static bool signal_all(struct __test_metadata *_metadata,
		       FIXTURE_DATA(routes) *self,
		       const FIXTURE_VARIANT(routes) *variant, uint32_t base)
{
	uint32_t start, end, i, want, got;

	for (start = 0; start < variant->nr_routes; start += ROUND) {
		end = start + ROUND;
		if (end > variant->nr_routes)
			end = variant->nr_routes;
		for (i = start; i < end; i++)
			if (rt_signal(self->r[i]))
				return false;
		want = base + start / ROUND + 1;
		for (i = start; i < end; i++) {
			got = guest_wait_count(self->env.g, TARGET_VCPU(i),
					       TARGET_VEC(i), want, 0);
			if (got != want) {
				TH_LOG("route %u (GSI %u): vCPU %u vector %#x count %u, expected %u",
				       i, irqroute_route_gsi(self->r[i]),
				       TARGET_VCPU(i), TARGET_VEC(i),
				       got, want);
				return false;
			}
		}
	}
	return true;
}

TEST_F_TIMEOUT(routes, all_usable, 300)
{
	uint8_t *seen = calloc(variant->nr_routes, 1);

	ASSERT_NE(NULL, seen);
	ASSERT_EQ(0, create_all(_metadata, self, variant, seen));
	ASSERT_EQ(0, set_msis(self, variant));
	ASSERT_TRUE(signal_all(_metadata, self, variant, 0));
	ASSERT_TRUE(fence(self));
	EXPECT_EQ(variant->nr_routes,
		  guest_total(self->env.g) -
		  guest_count(self->env.g, 0, RT_FENCE_VECTOR));
	free(seen);
}

/*
 * Destroy every third route while masked with an edge pending; the new
 * routes get exactly those GSIs, start unmasked and not pending, and
 * deliver.
 */
TEST_F_TIMEOUT(routes, gsis_reused, 300)
{
	uint8_t *seen = calloc(variant->nr_routes, 1);
	uint32_t i, freed = 0;

	ASSERT_NE(NULL, seen);
	ASSERT_EQ(0, create_all(_metadata, self, variant, seen));
	for (i = 0; i < variant->nr_routes; i += 3) {
		ASSERT_EQ(0, irqroute_mask(self->r[i]));
		ASSERT_EQ(0, rt_signal(self->r[i]));
		ASSERT_TRUE(irqroute_pending(self->r[i]));
		seen[irqroute_route_index(self->r[i])] = 0;
		irqroute_route_destroy(self->r[i]);
		self->r[i] = NULL;
		freed++;
	}
	ASSERT_TRUE(fence(self));
	EXPECT_EQ(0, guest_total(self->env.g) -
		     guest_count(self->env.g, 0, RT_FENCE_VECTOR));

	/* create_all() checks the new GSIs are exactly the freed ones. */
	ASSERT_EQ(0, create_all(_metadata, self, variant, seen));
	for (i = 0; i < variant->nr_routes; i++)
		ASSERT_TRUE(seen[i]);
	for (i = 0; i < variant->nr_routes; i += 3)
		ASSERT_FALSE(irqroute_pending(self->r[i]));

	ASSERT_EQ(0, set_msis(self, variant));
	ASSERT_TRUE(signal_all(_metadata, self, variant, 0));
	ASSERT_TRUE(fence(self));
	EXPECT_EQ(variant->nr_routes,
		  guest_total(self->env.g) -
		  guest_count(self->env.g, 0, RT_FENCE_VECTOR));
	TH_LOG("%u GSIs freed and reused", freed);
	free(seen);
}

TEST_HARNESS_MAIN
