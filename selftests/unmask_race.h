/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IRQROUTE_UNMASK with PENDING_ONLY runs without the attachment's mutex
 * (so that it never waits behind another route's commit). Race it, from
 * its own thread, against what the mutex used to keep out:
 *
 *   destroy     the route is destroyed while the unmask hands its edge
 *               to KVM: the unmask returns 0 or ENOENT, the guest gets
 *               the edge at most once, and nothing touches the freed
 *               route or eventfd (KASAN in the debug run; the VM
 *               runner's kernel log check everywhere)
 *   clear_msi   a commit takes the route's MSI out of the table: the
 *               edge is never lost; with the MSI set back, the guest got
 *               it exactly once
 *   mask        another thread masks the route: the edge was delivered
 *               or is still pending, exactly one of the two
 *
 * Each round sets up "unmasked in the page, edge pending", the state the
 * library's irqroute_unmask() leaves between clearing the mask bit and
 * its ioctl, then releases both threads at once; the rival waits a random
 * time of up to RIVAL_SPREAD idle unmask ioctls first, so that the rounds
 * land on both sides of the race and in between.
 *
 * Two binaries include this: unmask_destroy_race_test.c runs the destroy
 * race alone, because a broken unmask there signals a freed eventfd and
 * can take the VM down, which must not stop the canary run (CANARIES)
 * before unmask_lockless_test.c's clear_msi race reports the lost edge.
 */
#ifndef IRQROUTE_SELFTEST_UNMASK_RACE_H
#define IRQROUTE_SELFTEST_UNMASK_RACE_H

#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "irqroute_raw.h"
#include "rtenv.h"

#define VEC		RT_VECTOR(0x61)
#define ROUNDS		200
/*
 * The rival's random head start, in idle unmask ioctls: the unmask that
 * delivers, and the thread's wake-up, take many times one.
 */
#define RIVAL_SPREAD	32

enum rival { RIVAL_DESTROY, RIVAL_CLEAR_MSI, RIVAL_MASK };

struct unmasker {
	int fd;			/* the attachment's descriptor */
	uint32_t index;
	int go;			/* round number to run, 0 = wait */
	int done;
	int ret;
	bool stop;
};

static void *unmask_thread(void *arg)
{
	struct unmasker *u = arg;
	int round = 0;

	for (;;) {
		int go;

		while ((go = __atomic_load_n(&u->go, __ATOMIC_ACQUIRE)) ==
		       round) {
			if (__atomic_load_n(&u->stop, __ATOMIC_RELAXED))
				return NULL;
		}
		round = go;
		/* The index only: the library's handle is main's alone. */
		u->ret = __irqroute_route_op(u->fd, IRQROUTE_UNMASK,
					     __atomic_load_n(&u->index,
							     __ATOMIC_RELAXED),
					     IRQROUTE_UNMASK_F_PENDING_ONLY,
					     NULL);
		__atomic_store_n(&u->done, round, __ATOMIC_RELEASE);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void spin_ns(uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	while (now_ns() < end)
		;
}

FIXTURE(lockless) {
	struct rt_env env;
	uint64_t ioctl_ns;	/* an unmask ioctl, median */
	void *shm;
	size_t shm_len;
	struct unmasker u;
	pthread_t th;
};

FIXTURE_VARIANT(lockless) {
	enum rival rival;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* What an unmask ioctl with nothing pending takes here (median). */
static uint64_t unmask_ns(int fd, uint32_t index)
{
	uint64_t t[21], t0;
	unsigned int i;

	for (i = 0; i < 21; i++) {
		t0 = now_ns();
		__irqroute_route_op(fd, IRQROUTE_UNMASK, index,
				    IRQROUTE_UNMASK_F_PENDING_ONLY, NULL);
		t[i] = now_ns() - t0;
	}
	qsort(t, 21, sizeof(t[0]), cmp_u64);
	return t[10];
}

FIXTURE_SETUP(lockless)
{
	struct irqroute_info info = { .size = sizeof(info) };
	cpu_set_t set;

	ASSERT_EQ(0, rt_env_setup(&self->env, 1, NULL, true));
	self->u.fd = irqroute_fd(self->env.ir);
	ASSERT_EQ(0, __irqroute_get_info(self->u.fd, &info));
	self->shm_len = info.shm_size;
	/* A second mapping of the page: the bits, without the library. */
	self->shm = irqroute_shm_map(self->u.fd, self->shm_len, MAP_SHARED, 0);
	ASSERT_NE(NULL, self->shm);
	self->ioctl_ns = unmask_ns(self->u.fd,
				   irqroute_route_index(self->env.fence));
	ASSERT_EQ(0, pthread_create(&self->th, NULL, unmask_thread, &self->u));
	/* The unmasker on the other CPU, if there is one. Best effort. */
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		CPU_ZERO(&set);
		CPU_SET(1, &set);
		pthread_setaffinity_np(self->th, sizeof(set), &set);
		CPU_ZERO(&set);
		CPU_SET(0, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
}

FIXTURE_TEARDOWN(lockless)
{
	__atomic_store_n(&self->u.stop, true, __ATOMIC_RELAXED);
	pthread_join(self->th, NULL);
	if (self->shm)
		munmap(self->shm, self->shm_len);
	rt_env_teardown(&self->env);
}

static void shm_clear_mask(void *shm, uint32_t index)
{
	uint64_t *w = (uint64_t *)((char *)shm + IRQROUTE_SHM_MASK_OFFSET);

	__atomic_fetch_and(&w[index / 64], ~(1ULL << (index % 64)),
			   __ATOMIC_SEQ_CST);
}

/* Waits for the unmasker's round @round; its return value. */
static int unmask_wait(struct unmasker *u, int round)
{
	while (__atomic_load_n(&u->done, __ATOMIC_ACQUIRE) != round)
		;
	return u->ret;
}

TEST_F_TIMEOUT(lockless, unmask_pending_races, 600)
{
	struct guest *g = self->env.g;
	struct irqroute_route *r;
	unsigned int delivered = 0, kept = 0, gone = 0, seed = 1;
	uint32_t c0, c1, index;
	int round, ret;
	bool pending;

	for (round = 1; round <= ROUNDS; round++) {
		ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC, &r));
		index = irqroute_route_index(r);
		ASSERT_EQ(0, irqroute_mask(r));
		ASSERT_EQ(0, rt_signal(r));
		ASSERT_TRUE(irqroute_pending(r));
		/* Unmasked in the page, edge pending: what unmask finds. */
		shm_clear_mask(self->shm, index);
		c0 = guest_count(g, 0, VEC);

		__atomic_store_n(&self->u.index, index, __ATOMIC_RELAXED);
		__atomic_store_n(&self->u.go, round, __ATOMIC_RELEASE);
		spin_ns(rand_r(&seed) % (RIVAL_SPREAD * self->ioctl_ns + 1));
		switch (variant->rival) {
		case RIVAL_DESTROY:
			irqroute_route_destroy(r);
			r = NULL;
			break;
		case RIVAL_CLEAR_MSI:
			ASSERT_EQ(0, irqroute_clear_msi(r));
			break;
		case RIVAL_MASK:
			ASSERT_EQ(0, irqroute_mask(r));
			break;
		}
		ret = unmask_wait(&self->u, round);
		ASSERT_TRUE(rt_fence(&self->env));

		switch (variant->rival) {
		case RIVAL_DESTROY:
			/* Before destroy (0) or after it (ENOENT). */
			if (ret != -ENOENT)
				ASSERT_EQ(0, ret);
			gone += ret == -ENOENT;
			c1 = guest_count(g, 0, VEC);
			/* Delivered by the unmask, or dropped by destroy. */
			ASSERT_GE(c0 + 1, c1);
			delivered += c1 - c0;
			break;
		case RIVAL_CLEAR_MSI:
			ASSERT_EQ(0, ret);
			pending = irqroute_pending(r);
			delivered += guest_count(g, 0, VEC) - c0;
			kept += pending;
			/* Back on the table: the edge goes now if kept. */
			ASSERT_EQ(0, rt_set_msi(r, 0, VEC));
			ASSERT_TRUE(rt_fence(&self->env));
			ASSERT_FALSE(irqroute_pending(r));
			/* Exactly once, whoever delivered it. */
			ASSERT_EQ(c0 + 1, guest_count(g, 0, VEC));
			break;
		case RIVAL_MASK:
			ASSERT_EQ(0, ret);
			pending = irqroute_pending(r);
			c1 = guest_count(g, 0, VEC);
			/* Delivered, or still pending: one of the two. */
			ASSERT_EQ(1, (c1 - c0) + pending);
			delivered += c1 - c0;
			kept += pending;
			ASSERT_EQ(0, irqroute_unmask(r));
			ASSERT_TRUE(rt_fence(&self->env));
			ASSERT_EQ(c0 + 1, guest_count(g, 0, VEC));
			break;
		}
		if (r)
			irqroute_route_destroy(r);
	}
	/* Which way the rounds went (both ways, with luck). */
	TH_LOG("%u rounds (unmask ioctl %llu ns): %u delivered by the unmask, "
	       "%u kept pending, %u unmasks after destroy", ROUNDS,
	       (unsigned long long)self->ioctl_ns, delivered, kept, gone);
}

#endif /* IRQROUTE_SELFTEST_UNMASK_RACE_H */
