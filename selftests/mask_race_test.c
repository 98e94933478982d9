// SPDX-License-Identifier: GPL-2.0
/*
 * The mask race: a signaller thread signals the route once per cycle, at
 * a random moment, while the main thread masks, toggles unmask/mask,
 * consumes the pending bit (delivering it itself from its "PBA" with
 * KVM_SIGNAL_MSI, as the seed's VMM flow does) and unmasks. Whatever the
 * interleaving, each cycle must end with exactly one more interrupt in the
 * guest: none lost, none doubled.
 *
 * IRQROUTE_RACE_CYCLES in the environment sets the cycles per variant.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "rtenv.h"

#define VEC		RT_VECTOR(0x50)
#define DEF_CYCLES	3000
/* Random delays, in pause instructions, that spread the signal over the
 * main thread's whole mask window (both sides run under TCG in L1). */
#define MAX_SPIN	4000

static void spin(unsigned int n)
{
	while (n--)
		asm volatile("pause" ::: "memory");
}

struct signaller {
	int fd;
	unsigned int cycles;
	unsigned int seed;
	unsigned int go;	/* cycles released by the main thread */
	unsigned int fired;	/* cycles whose signal was sent */
	int err;
};

/* Spins, then yields: the two threads may share one L1 CPU. */
static bool wait_for(unsigned int *word, unsigned int value, bool *stop)
{
	unsigned int n = 0;

	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) < value) {
		if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED))
			return false;
		if (++n > 200)
			sched_yield();
		else
			asm volatile("pause");
	}
	return true;
}

/*
 * Main thread and signaller on different CPUs when there are two: the
 * signal then really lands inside the main thread's mask window, instead
 * of whenever the scheduler lets the signaller run. Best effort.
 */
static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *signaller_thread(void *arg)
{
	struct signaller *s = arg;
	unsigned int k;
	int ret;

	pin_to_cpu(1);
	for (k = 1; k <= s->cycles; k++) {
		wait_for(&s->go, k, NULL);
		spin(rand_r(&s->seed) % MAX_SPIN);
		ret = guest_signal_fd(s->fd);
		if (ret && !s->err)
			s->err = ret;
		__atomic_store_n(&s->fired, k, __ATOMIC_RELEASE);
	}
	return NULL;
}

FIXTURE(race) {
	struct rt_env env;
	struct irqroute_route *r;
};

FIXTURE_VARIANT(race) {
	bool consume;		/* seed's flow: consume, deliver from PBA */
	unsigned int toggles;	/* up to this many unmask/mask per cycle */
	int (*mask)(struct irqroute_route *r);
	int (*unmask)(struct irqroute_route *r);
	bool irq_work;		/* hand off through the irq_work */
};

FIXTURE_VARIANT_ADD(race, seed_flow) {
	.consume = true, .toggles = 2,
	.mask = irqroute_mask, .unmask = irqroute_unmask,
};

FIXTURE_VARIANT_ADD(race, unmask_delivers) {
	.consume = false, .toggles = 2,
	.mask = irqroute_mask, .unmask = irqroute_unmask,
};

FIXTURE_VARIANT_ADD(race, unmask_delivers_irq_work) {
	.consume = false, .toggles = 2,
	.mask = irqroute_mask, .unmask = irqroute_unmask,
	.irq_work = true,
};

FIXTURE_VARIANT_ADD(race, seed_flow_ioctl) {
	.consume = true, .toggles = 1,
	.mask = irqroute_mask_ioctl, .unmask = irqroute_unmask_ioctl,
};

FIXTURE_SETUP(race)
{
	ASSERT_EQ(0, rt_handoff_irq_work(variant->irq_work));
	ASSERT_EQ(0, rt_env_setup(&self->env, 1, NULL, true));
	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC, &self->r));
}

FIXTURE_TEARDOWN(race)
{
	const unsigned int owned[][2] = { { 0, VEC } };

	RT_EXPECT_EXACTLY_ONCE(&self->env, owned, 1);
	RT_EXPECT_IRQ_WORK_RAN(self->env.ir, variant->irq_work);
	if (self->r)
		irqroute_route_destroy(self->r);
	rt_env_teardown(&self->env);
	rt_handoff_irq_work(false);
}

TEST_F_TIMEOUT(race, one_interrupt_per_cycle, 600)
{
	unsigned int cycles = guest_env_ulong("IRQROUTE_RACE_CYCLES",
					      DEF_CYCLES);
	struct signaller s = {
		.fd = irqroute_route_event(self->r),
		.cycles = cycles,
		.seed = 0x1e5 ^ cycles,
	};
	unsigned int k, t, seed = 0x5eed, from_pba = 0, at_unmask = 0;
	struct guest *g = self->env.g;
	pthread_t thread;
	uint32_t got;

	ASSERT_LT(0, cycles);
	pin_to_cpu(0);
	ASSERT_EQ(0, pthread_create(&thread, NULL, signaller_thread, &s));

	for (k = 1; k <= cycles; k++) {
		__atomic_store_n(&s.go, k, __ATOMIC_RELEASE);
		/* Mask early: most signals should meet some masked state. */
		spin(rand_r(&seed) % (MAX_SPIN / 4));
		ASSERT_EQ(0, variant->mask(self->r));

		for (t = rand_r(&seed) % (variant->toggles + 1); t; t--) {
			spin(rand_r(&seed) % MAX_SPIN);
			if (irqroute_pending(self->r))
				at_unmask++;
			ASSERT_EQ(0, variant->unmask(self->r));
			spin(rand_r(&seed) % MAX_SPIN);
			ASSERT_EQ(0, variant->mask(self->r));
		}

		spin(rand_r(&seed) % MAX_SPIN);
		if (variant->consume && irqroute_consume_pending(self->r)) {
			/* The VMM's own delivery from its PBA. */
			ASSERT_LT(0, guest_signal_msi(g, guest_msi_address(0),
						      VEC));
			from_pba++;
		}
		spin(rand_r(&seed) % MAX_SPIN);
		if (irqroute_pending(self->r))
			at_unmask++;
		ASSERT_EQ(0, variant->unmask(self->r));

		ASSERT_TRUE(wait_for(&s.fired, k, NULL));
		got = guest_wait_count(g, 0, VEC, k, 0);
		if (got != k)
			TH_LOG("cycle %u: %u interrupts, expected %u (from PBA %u, pending at unmask %u)",
			       k, got, k, from_pba, at_unmask);
		ASSERT_EQ(k, got);
	}
	pthread_join(thread, NULL);
	ASSERT_EQ(0, s.err);

	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(cycles, guest_count(g, 0, VEC));
	EXPECT_EQ(cycles, rt_total(&self->env));
	EXPECT_FALSE(irqroute_pending(self->r));
	TH_LOG("%u cycles: %u delivered from the PBA, %u pending at unmask, %u straight through",
	       cycles, from_pba, at_unmask, cycles - from_pba - at_unmask);
	/* A race test that never hit the masked window proves nothing. */
	if (cycles >= 200)
		EXPECT_LT(0, from_pba + at_unmask);
}

TEST_HARNESS_MAIN
