/* SPDX-License-Identifier: GPL-2.0 */
/*
 * irqroute: known bugs, for proving that the test suite catches them.
 *
 * A test-only build (make canaries; Kbuild's IRQROUTE_CANARY=<name>) turns
 * exactly one of these on; scripts/run-canaries.sh then requires the
 * tests named for it in selftests/CANARIES to fail. A normal build has
 * every one at 0, and the compiler drops the code behind it. The module
 * of a canary build says so when it loads.
 */
#ifndef IRQROUTE_CANARY_H
#define IRQROUTE_CANARY_H

/* Unmask delivers a pending interrupt twice. */
#ifndef IRQROUTE_CANARY_unmask_twice
#define IRQROUTE_CANARY_unmask_twice 0
#endif
/* Losing the MSI (clear_msi) also forgets a pending interrupt. */
#ifndef IRQROUTE_CANARY_clear_msi_drops_pending
#define IRQROUTE_CANARY_clear_msi_drops_pending 0
#endif
/* A table KVM refused is reported as committed. */
#ifndef IRQROUTE_CANARY_commit_error_ignored
#define IRQROUTE_CANARY_commit_error_ignored 0
#endif
/*
 * The gate does not re-check mask and MSI after setting a pending bit, so
 * an unmask racing with it leaves the interrupt pending on a deliverable
 * route. The canary also widens the window between the gate's first check
 * and its pending bit to 20 us, so that the race tests hit it every run.
 */
#ifndef IRQROUTE_CANARY_gate_no_recheck
#define IRQROUTE_CANARY_gate_no_recheck 0
#endif
/*
 * The unmask that runs without ir->lock (PENDING_ONLY) is not counted in
 * r->running, so clear_msi and destroy do not wait for it: its hand-off
 * can reach KVM after the MSI left the table (the edge is lost) or signal
 * a released eventfd. The canary widens the window between its check and
 * the hand-off to 2 ms, longer than a commit takes to reach KVM's table.
 */
#ifndef IRQROUTE_CANARY_unmask_uncounted
#define IRQROUTE_CANARY_unmask_uncounted 0
#endif
/*
 * IRQROUTE_SET_MSIS stages each entry as soon as it is checked, so a bad
 * entry leaves the ones before it staged for the next commit.
 */
#ifndef IRQROUTE_CANARY_msis_stage_unchecked
#define IRQROUTE_CANARY_msis_stage_unchecked 0
#endif
/*
 * A commit that patched the table in place trusts the scratch area to
 * still hold the rest of the table: pages the VMM dropped (MADV_DONTNEED)
 * reach KVM as zeros.
 */
#ifndef IRQROUTE_CANARY_scratch_unchecked
#define IRQROUTE_CANARY_scratch_unchecked 0
#endif
/* In hard-IRQ context: a busy wait, not a sleep. */
#define IRQROUTE_CANARY_RACE_WINDOW_US	20
#define IRQROUTE_CANARY_UNMASK_WINDOW_US	2000

#define IRQROUTE_CANARY(name)	(IRQROUTE_CANARY_##name)

#endif /* IRQROUTE_CANARY_H */
