// SPDX-License-Identifier: GPL-2.0
/*
 * The lockless IRQROUTE_UNMASK (PENDING_ONLY) against a commit that takes
 * the route's MSI out of the table, and against a mask from another
 * thread (unmask_race.h).
 */
#include "unmask_race.h"

FIXTURE_VARIANT_ADD(lockless, clear_msi) {
	.rival = RIVAL_CLEAR_MSI,
};

FIXTURE_VARIANT_ADD(lockless, mask) {
	.rival = RIVAL_MASK,
};

TEST_HARNESS_MAIN
