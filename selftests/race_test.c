// SPDX-License-Identifier: GPL-2.0
/*
 * Every route operation at once, for a few seconds: threads creating and
 * destroying routes, setting and clearing MSIs (now and deferred), masking,
 * unmasking and consuming through ioctls and through the shared page,
 * while another thread signals every trigger. No call may fail except with
 * ENOENT on an index whose route was destroyed meanwhile; afterwards the
 * counters add up and the attachment behaves exactly.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <irqroute.h>

#include "kselftest_harness.h"

#include "irqroute_raw.h"
#include "vmfd.h"

#define GSI_BASE	64
#define NR_ROUTES	16
#define NR_PERM		4		/* library routes, never destroyed */
#define NR_CHURNERS	2
#define SLOTS_PER_CHURNER ((NR_ROUTES - NR_PERM) / NR_CHURNERS)
#define NR_OPERATORS	2
#define RUN_SECONDS	3

struct race {
	struct irqroute *ir;
	int fd;
	struct irqroute_route *perm[NR_PERM];
	bool is_perm[NR_ROUTES];	/* by index */
	int churn_trigger[NR_CHURNERS][SLOTS_PER_CHURNER];
	/* Index of each churn slot's live route, or -1; the churner's own. */
	int churn_index[NR_CHURNERS][SLOTS_PER_CHURNER];
	int stop;
	/* Results, updated atomically. */
	uint64_t writes_perm, writes_all, consumed, calls, enoent;
	uint64_t unexpected;
	char first_error[128];
};

static void unexpected(struct race *rc, const char *what, uint32_t index,
		       int ret)
{
	if (__atomic_fetch_add(&rc->unexpected, 1, __ATOMIC_SEQ_CST) == 0)
		snprintf(rc->first_error, sizeof(rc->first_error),
			 "%s index %u: %d (%s)", what, index, ret,
			 strerror(-ret));
}

static bool stopped(struct race *rc)
{
	return __atomic_load_n(&rc->stop, __ATOMIC_ACQUIRE);
}

/* ENOENT is only acceptable for an index a churner may have destroyed. */
static void check(struct race *rc, const char *what, uint32_t index, int ret)
{
	__atomic_fetch_add(&rc->calls, 1, __ATOMIC_RELAXED);
	if (!ret)
		return;
	if (ret == -ENOENT && !rc->is_perm[index]) {
		__atomic_fetch_add(&rc->enoent, 1, __ATOMIC_RELAXED);
		return;
	}
	unexpected(rc, what, index, ret);
}

struct churner {
	struct race *rc;
	int id;
};

/* Creates and destroys its own routes; indexes are anybody's. */
static void *churn(void *arg)
{
	struct churner *ch = arg;
	struct race *rc = ch->rc;
	unsigned int seed = ch->id, s;
	uint32_t index = 0;
	int ret;

	while (!stopped(rc)) {
		s = rand_r(&seed) % SLOTS_PER_CHURNER;
		if (rc->churn_index[ch->id][s] < 0) {
			ret = __irqroute_create(rc->fd,
						rc->churn_trigger[ch->id][s],
						&index);
			if (ret) {
				unexpected(rc, "create", UINT32_MAX, ret);
				continue;
			}
			if (index >= NR_ROUTES || rc->is_perm[index]) {
				unexpected(rc, "create gave", index, -EPROTO);
				continue;
			}
			rc->churn_index[ch->id][s] = index;
			if (rand_r(&seed) % 2)
				check(rc, "set_msi after create", index,
				      __irqroute_set_msi(rc->fd, index,
							 TEST_MSI_ADDR_LO,
							 0x40 + index, 0));
		} else {
			index = rc->churn_index[ch->id][s];
			/* Its own route: destroy cannot find it gone. */
			ret = __irqroute_route_op(rc->fd,
						  IRQROUTE_ROUTE_DESTROY, index,
						  0, NULL);
			if (ret)
				unexpected(rc, "destroy", index, ret);
			rc->churn_index[ch->id][s] = -1;
		}
	}
	return NULL;
}

/* Every ioctl on random indexes, live or not. */
static void *operate(void *arg)
{
	struct churner *op = arg;
	struct race *rc = op->rc;
	unsigned int seed = 100 + op->id;
	uint32_t index, result, flags;

	while (!stopped(rc)) {
		index = rand_r(&seed) % NR_ROUTES;
		switch (rand_r(&seed) % 8) {
		case 0:
			check(rc, "set_msi", index,
			      __irqroute_set_msi(rc->fd, index,
						 TEST_MSI_ADDR_LO,
						 0x40 + index, 0));
			break;
		case 1:
			check(rc, "set_msi deferred", index,
			      __irqroute_set_msi(rc->fd, index,
						 TEST_MSI_ADDR_LO,
						 0x80 + index,
						 IRQROUTE_MSI_F_DEFER));
			break;
		case 2:
			check(rc, "clear_msi", index,
			      __irqroute_route_op(rc->fd, IRQROUTE_CLEAR_MSI,
						  index, rand_r(&seed) % 2 ?
						  IRQROUTE_MSI_F_DEFER : 0,
						  NULL));
			break;
		case 3:
			check(rc, "commit", 0, __irqroute_commit(rc->fd));
			break;
		case 4:
			check(rc, "mask", index,
			      __irqroute_route_op(rc->fd, IRQROUTE_MASK, index,
						  0, NULL));
			break;
		case 5:
			flags = rand_r(&seed) % 2 ?
				IRQROUTE_UNMASK_F_PENDING_ONLY : 0;
			check(rc, "unmask", index,
			      __irqroute_route_op(rc->fd, IRQROUTE_UNMASK,
						  index, flags, NULL));
			break;
		default:
			result = 0;
			check(rc, "consume_pending", index,
			      __irqroute_route_op(rc->fd,
						  IRQROUTE_CONSUME_PENDING,
						  index, 0, &result));
			if (result == 1)
				__atomic_fetch_add(&rc->consumed, 1,
						   __ATOMIC_RELAXED);
			break;
		}
	}
	return NULL;
}

/* The library's shared page operations on the permanent routes. */
static void *page_ops(void *arg)
{
	struct race *rc = arg;
	unsigned int seed = 7;
	int ret;

	while (!stopped(rc)) {
		struct irqroute_route *r = rc->perm[rand_r(&seed) % NR_PERM];

		switch (rand_r(&seed) % 3) {
		case 0:
			ret = irqroute_mask(r);
			if (ret)
				unexpected(rc, "irqroute_mask",
					   irqroute_route_index(r), ret);
			break;
		case 1:
			ret = irqroute_unmask(r);
			if (ret)
				unexpected(rc, "irqroute_unmask",
					   irqroute_route_index(r), ret);
			break;
		default:
			if (irqroute_consume_pending(r))
				__atomic_fetch_add(&rc->consumed, 1,
						   __ATOMIC_RELAXED);
			break;
		}
	}
	return NULL;
}

/* Signals every trigger in turn, whether its route exists or not. */
static void *signaller(void *arg)
{
	struct race *rc = arg;
	int c, s, i;

	while (!stopped(rc)) {
		for (i = 0; i < NR_PERM; i++) {
			int t = irqroute_route_event(rc->perm[i]);

			if (!eventfd_signal_once(t))
				__atomic_fetch_add(&rc->writes_perm, 1,
						   __ATOMIC_RELAXED);
		}
		for (c = 0; c < NR_CHURNERS; c++)
			for (s = 0; s < SLOTS_PER_CHURNER; s++)
				eventfd_signal_once(rc->churn_trigger[c][s]);
		__atomic_fetch_add(&rc->writes_all,
				   NR_PERM + NR_CHURNERS * SLOTS_PER_CHURNER,
				   __ATOMIC_RELAXED);
	}
	return NULL;
}

static uint64_t wait_delivered(struct irqroute *ir, uint64_t want)
{
	struct irqroute_stats st = { 0 };
	int i;

	for (i = 0; i < 2000; i++) {
		if (irqroute_get_stats(ir, &st) || st.delivered >= want)
			break;
		usleep(1000);
	}
	return st.delivered;
}

FIXTURE(race) {
	int vm;
	int vcpu;	/* APIC ID 0: its IRR shows what reached KVM */
	struct race rc;
};

FIXTURE_SETUP(race)
{
	const struct irqroute_opts opts = {
		.gsi_base = GSI_BASE, .nr_routes = NR_ROUTES,
	};
	struct race *rc = &self->rc;
	unsigned int i, c, s;

	self->vm = vm_create_irqchip();
	ASSERT_LE(0, self->vm);
	self->vcpu = vcpu_create_apic(self->vm, 0);
	ASSERT_LE(0, self->vcpu);
	ASSERT_EQ(0, irqroute_attach(self->vm, &opts, &rc->ir));
	rc->fd = irqroute_fd(rc->ir);
	for (i = 0; i < NR_PERM; i++) {
		ASSERT_EQ(0, irqroute_route_create(rc->ir, &rc->perm[i]));
		ASSERT_EQ(0, irqroute_set_msi(rc->perm[i], TEST_MSI_ADDR_LO,
					      0x30 + i));
		rc->is_perm[irqroute_route_index(rc->perm[i])] = true;
	}
	for (c = 0; c < NR_CHURNERS; c++) {
		for (s = 0; s < SLOTS_PER_CHURNER; s++) {
			rc->churn_trigger[c][s] = eventfd(0, EFD_CLOEXEC |
							  EFD_NONBLOCK);
			ASSERT_LE(0, rc->churn_trigger[c][s]);
			rc->churn_index[c][s] = -1;
		}
	}
}

FIXTURE_TEARDOWN(race)
{
	unsigned int c, s;

	if (self->rc.ir)
		irqroute_detach(self->rc.ir);
	for (c = 0; c < NR_CHURNERS; c++)
		for (s = 0; s < SLOTS_PER_CHURNER; s++)
			close(self->rc.churn_trigger[c][s]);
	close(self->vcpu);
	close(self->vm);
}

TEST_F_TIMEOUT(race, everything_at_once, 60)
{
	struct churner churners[NR_CHURNERS], operators[NR_OPERATORS];
	pthread_t th[NR_CHURNERS + NR_OPERATORS + 2];
	struct race *rc = &self->rc;
	struct irqroute_stats st, st2;
	unsigned int i, c, s, n = 0;
	uint64_t delivered;

	for (i = 0; i < NR_CHURNERS; i++) {
		churners[i] = (struct churner){ .rc = rc, .id = i };
		ASSERT_EQ(0, pthread_create(&th[n++], NULL, churn,
					    &churners[i]));
	}
	for (i = 0; i < NR_OPERATORS; i++) {
		operators[i] = (struct churner){ .rc = rc, .id = i };
		ASSERT_EQ(0, pthread_create(&th[n++], NULL, operate,
					    &operators[i]));
	}
	ASSERT_EQ(0, pthread_create(&th[n++], NULL, page_ops, rc));
	ASSERT_EQ(0, pthread_create(&th[n++], NULL, signaller, rc));

	sleep(RUN_SECONDS);
	__atomic_store_n(&rc->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, pthread_join(th[i], NULL));

	TH_LOG("%lu calls, %lu ENOENT, %lu writes (%lu to permanent routes), %lu consumed",
	       (unsigned long)rc->calls, (unsigned long)rc->enoent,
	       (unsigned long)rc->writes_all, (unsigned long)rc->writes_perm,
	       (unsigned long)rc->consumed);
	ASSERT_EQ(0, rc->unexpected) TH_LOG("first: %s", rc->first_error);
	/* The race really happened: routes came and went under the ops. */
	ASSERT_LT(0, rc->enoent);

	ASSERT_EQ(0, irqroute_get_stats(rc->ir, &st));
	TH_LOG("stats: signals %llu delivered %llu pended %llu commits %llu skipped %llu feedback %llu",
	       st.signals, st.delivered, st.pended, st.commits,
	       st.commits_skipped, st.feedback);
	ASSERT_EQ(0, st.feedback);
	/* Permanent routes saw every write; nothing saw more than written. */
	ASSERT_LE(rc->writes_perm, st.signals);
	ASSERT_GE(rc->writes_all, st.signals);
	/* Each edge is delivered or consumed at most once. */
	ASSERT_GE(rc->writes_all, st.delivered + rc->consumed);

	/*
	 * Quiesce: every live route gets an MSI and a real unmask, which
	 * delivers what is pending. Nothing may stay pending on a route
	 * that is deliverable.
	 */
	ASSERT_EQ(0, __irqroute_commit(rc->fd));
	for (i = 0; i < NR_ROUTES; i++) {
		int ret = __irqroute_set_msi(rc->fd, i, TEST_MSI_ADDR_LO,
					     0x40 + i, 0);

		if (ret == -ENOENT && !rc->is_perm[i])
			continue;
		ASSERT_EQ(0, ret) TH_LOG("index %u", i);
		ASSERT_EQ(0, __irqroute_route_op(rc->fd, IRQROUTE_UNMASK, i, 0,
						 NULL));
	}
	usleep(100000);
	for (c = 0; c < NR_CHURNERS; c++) {
		for (s = 0; s < SLOTS_PER_CHURNER; s++) {
			uint32_t result;
			int index = rc->churn_index[c][s];

			if (index < 0)
				continue;
			ASSERT_EQ(0, __irqroute_route_op(rc->fd,
						IRQROUTE_CONSUME_PENDING,
						index, 0, &result));
			ASSERT_EQ(0, result) TH_LOG("index %d", index);
		}
	}
	for (i = 0; i < NR_PERM; i++) {
		ASSERT_FALSE(irqroute_pending(rc->perm[i]))
			TH_LOG("permanent route %u", i);
	}

	/*
	 * Now exact: one write per permanent route, one delivery each, in
	 * KVM's local APIC (vCPU 0's IRR, emptied first of what the run
	 * left there) and in irqroute's counters.
	 */
	for (i = 0; i < NR_ROUTES; i++)
		ASSERT_LE(0, vcpu_irr_take(self->vcpu, 0x40 + i, 0));
	ASSERT_EQ(0, irqroute_get_stats(rc->ir, &st));
	for (i = 0; i < NR_PERM; i++)
		ASSERT_EQ(0, eventfd_signal_once(
				irqroute_route_event(rc->perm[i])));
	for (i = 0; i < NR_PERM; i++)
		ASSERT_EQ(1, vcpu_irr_take(self->vcpu,
				0x40 + irqroute_route_index(rc->perm[i]),
				2000))
			TH_LOG("permanent route %u", i);
	delivered = wait_delivered(rc->ir, st.delivered + NR_PERM);
	usleep(50000);
	ASSERT_EQ(0, irqroute_get_stats(rc->ir, &st2));
	ASSERT_EQ(st.delivered + NR_PERM, delivered);
	ASSERT_EQ(st.delivered + NR_PERM, st2.delivered);
	ASSERT_EQ(st.signals + NR_PERM, st2.signals);
	ASSERT_EQ(st.pended, st2.pended);

	/* Tear the churned routes down: only the permanent ones remain. */
	for (c = 0; c < NR_CHURNERS; c++) {
		for (s = 0; s < SLOTS_PER_CHURNER; s++) {
			int index = rc->churn_index[c][s];

			if (index < 0)
				continue;
			ASSERT_EQ(0, __irqroute_route_op(rc->fd,
						IRQROUTE_ROUTE_DESTROY,
						index, 0, NULL));
		}
	}
	for (i = 0; i < NR_ROUTES; i++) {
		ASSERT_EQ(rc->is_perm[i] ? 0 : -ENOENT,
			  __irqroute_route_op(rc->fd, IRQROUTE_CONSUME_PENDING,
					      i, 0, NULL))
			TH_LOG("index %u", i);
	}
}

TEST_HARNESS_MAIN
