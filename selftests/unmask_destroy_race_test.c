// SPDX-License-Identifier: GPL-2.0
/*
 * The lockless IRQROUTE_UNMASK (PENDING_ONLY) against the route's
 * destroy (unmask_race.h): no use-after-free, the edge at most once.
 */
#include "unmask_race.h"

FIXTURE_VARIANT_ADD(lockless, destroy) {
	.rival = RIVAL_DESTROY,
};

TEST_HARNESS_MAIN
