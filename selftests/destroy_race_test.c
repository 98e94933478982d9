// SPDX-License-Identifier: GPL-2.0
/*
 * Destroy while other threads hammer the route's trigger eventfd: destroy
 * returns, and from then on the gate sees none of the hammering (the
 * attachment's signal counter moves only for the fence) and the guest's
 * count stops moving. The kernel log check of the VM runner catches any
 * splat on the way.
 *
 * The hammer threads write to a dup() of the trigger: the library closes
 * its own descriptor on destroy.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "rtenv.h"

#define VEC		RT_VECTOR(0x60)
#define MAX_HAMMERS	2
/* How long the hammers keep going after destroy. */
#define AFTER_MS	100

struct hammer {
	int fd;
	int cpu;
	bool stop;
	unsigned long writes;
	int err;
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;
	cpu_set_t set;
	int ret;

	/*
	 * One hammer per CPU: gates (and their hand-offs) then run on
	 * several CPUs at once while destroy stops them. Best effort.
	 */
	CPU_ZERO(&set);
	CPU_SET(h->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);

	while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED)) {
		ret = guest_signal_fd(h->fd);
		if (ret) {
			h->err = ret;
			break;
		}
		h->writes++;
	}
	return NULL;
}

FIXTURE(destroy) {
	struct rt_env env;
};

FIXTURE_VARIANT(destroy) {
	unsigned int iterations;
	unsigned int hammers;
	bool masked;		/* masked, with an edge pending */
	bool no_msi;		/* destroy a route that never had an MSI */
	bool irq_work;		/* hand off through the irq_work */
};

FIXTURE_VARIANT_ADD(destroy, unmasked) {
	.iterations = 10, .hammers = 1,
};

FIXTURE_VARIANT_ADD(destroy, unmasked_two_hammers) {
	.iterations = 100, .hammers = 2,
};

FIXTURE_VARIANT_ADD(destroy, unmasked_two_hammers_irq_work) {
	.iterations = 100, .hammers = 2, .irq_work = true,
};

FIXTURE_VARIANT_ADD(destroy, masked) {
	.iterations = 10, .hammers = 2, .masked = true,
};

FIXTURE_VARIANT_ADD(destroy, no_msi) {
	.iterations = 10, .hammers = 1, .no_msi = true,
};

FIXTURE_SETUP(destroy)
{
	ASSERT_EQ(0, rt_handoff_irq_work(variant->irq_work));
	ASSERT_EQ(0, rt_env_setup(&self->env, 1, NULL, true));
}

FIXTURE_TEARDOWN(destroy)
{
	RT_EXPECT_IRQ_WORK_RAN(self->env.ir, variant->irq_work);
	rt_env_teardown(&self->env);
	rt_handoff_irq_work(false);
}

/* Waits until the gate has seen the hammering (and, unmasked, the guest). */
static bool busy(FIXTURE_DATA(destroy) *self,
		 const FIXTURE_VARIANT(destroy) *variant,
		 struct irqroute_route *r, uint32_t count0)
{
	unsigned int ms;

	if (!variant->masked && !variant->no_msi)
		return guest_wait_count(self->env.g, 0, VEC, count0 + 3, 0) >=
		       count0 + 3;
	for (ms = 0; ms < guest_timeout_ms(); ms++) {
		if (irqroute_pending(r))
			return true;
		guest_msleep(1);
	}
	return false;
}

TEST_F_TIMEOUT(destroy, while_hammered, 300)
{
	struct hammer h[MAX_HAMMERS] = { { 0 } };
	pthread_t threads[MAX_HAMMERS];
	struct irqroute_stats s1, s2, s3;
	struct guest *g = self->env.g;
	struct irqroute_route *r;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int it, i;
	uint32_t c0, c1, c2;
	int fd;

	for (it = 0; it < variant->iterations; it++) {
		c0 = guest_count(g, 0, VEC);
		if (variant->no_msi) {
			ASSERT_EQ(0, irqroute_route_create(self->env.ir, &r));
		} else {
			ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC, &r));
		}
		/* A new route on a reused GSI: unmasked, nothing pending. */
		ASSERT_FALSE(irqroute_pending(r));
		if (variant->masked)
			ASSERT_EQ(0, irqroute_mask(r));
		fd = dup(irqroute_route_event(r));
		ASSERT_LE(0, fd);

		for (i = 0; i < variant->hammers; i++) {
			h[i] = (struct hammer){
				.fd = fd, .cpu = ncpus > 0 ? i % ncpus : 0,
			};
			ASSERT_EQ(0, pthread_create(&threads[i], NULL,
						    hammer_thread, &h[i]));
		}
		ASSERT_TRUE(busy(self, variant, r, c0));

		irqroute_route_destroy(r);

		ASSERT_EQ(0, rt_stats(self->env.ir, &s1));
		ASSERT_TRUE(rt_fence(&self->env));
		c1 = guest_count(g, 0, VEC);
		ASSERT_EQ(0, rt_stats(self->env.ir, &s2));
		guest_msleep(AFTER_MS);
		ASSERT_TRUE(rt_fence(&self->env));
		c2 = guest_count(g, 0, VEC);
		ASSERT_EQ(0, rt_stats(self->env.ir, &s3));

		for (i = 0; i < variant->hammers; i++) {
			__atomic_store_n(&h[i].stop, true, __ATOMIC_RELAXED);
			pthread_join(threads[i], NULL);
			EXPECT_EQ(0, h[i].err);
			EXPECT_LT(0, h[i].writes);
		}
		close(fd);

		/* Only the fences reached the gate after destroy returned. */
		EXPECT_EQ(s1.signals + 1, s2.signals);
		EXPECT_EQ(s2.signals + 1, s3.signals);
		EXPECT_EQ(c1, c2);
		if (variant->masked || variant->no_msi)
			EXPECT_EQ(c0, c2);
		if (!_metadata->passed)
			return;
	}

	/* The range still works: a route on the freed GSI delivers once. */
	c0 = guest_count(g, 0, VEC);
	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC, &r));
	ASSERT_FALSE(irqroute_pending(r));
	ASSERT_EQ(0, rt_signal(r));
	EXPECT_EQ(c0 + 1, guest_wait_count(g, 0, VEC, c0 + 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(c0 + 1, guest_count(g, 0, VEC));
	irqroute_route_destroy(r);
}

TEST_HARNESS_MAIN
