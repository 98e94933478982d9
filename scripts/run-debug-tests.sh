#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole selftest suite (TESTS and, since the kernel has fail-nth,
# TESTS.faults) under the debug kernel: KASAN (generic, inline), lockdep
# (PROVE_LOCKING), DEBUG_ATOMIC_SLEEP, kmemleak, KFENCE, fault injection.
#
#   1. scripts/build-debug-kernel.sh (nothing to do when cached);
#   2. irqroute.ko against it (make module-debug), library and selftests;
#   3. one VM (vm-run.sh) with irqroute_kmemleak=1: kmemleak is scanned and
#      cleared before insmod irqroute.ko, scanned twice after its rmmod
#      (any leak fails the run); a KASAN report panics (panic_on_warn);
#      lockdep, sleeping-in-atomic and kmemleak headlines in the kernel log
#      fail the run, and lockdep must still be on at the end.
#
# Ends with "N passed, N failed" and the time of each phase.
#
# usage: run-debug-tests.sh [--only t1,t2] [--timeout S] [--test-timeout S]
#                           [--mem MB]
# Environment: IRQROUTE_CACHE, JOBS (kernel build, default 2).

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
cd "$ROOT" || exit 2

# Under TCG, KASAN + lockdep + kmemleak make the kernel several times
# slower than Debian's; these bound a stuck run, not a slow one. The
# slowest test binary takes 70-80 s here: 600 s per binary reports a hung
# one (and vm-run.sh a VM silent for 900 s) well inside CI's 1800 s.
TIMEOUT=7200 TEST_TIMEOUT=600 MEM=3072 ONLY=()
while [ $# -gt 0 ]; do
	case $1 in
	--only) ONLY=(--only "$2"); shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--test-timeout) TEST_TIMEOUT=$2; shift 2 ;;
	--mem) MEM=$2; shift 2 ;;
	*) echo "usage: $0 [--only t1,t2] [--timeout S] [--test-timeout S] [--mem MB]" >&2
	   exit 2 ;;
	esac
done

T0=$(date +%s)
TIMES=()
phase_done() { TIMES+=("$1 $(($(date +%s) - $2))s"); }
fail() {
	echo "run-debug-tests: $*" >&2
	echo "=== timings: ${TIMES[*]} total $(($(date +%s) - T0))s"
	echo "0 passed, 1 failed"
	exit 1
}

[ -f "$CACHE/env.sh" ] ||
	fail "no $CACHE/env.sh: run 'sudo scripts/setup-host.sh' first"
mkdir -p build/logs

t=$(date +%s)
echo "=== debug kernel"
scripts/build-debug-kernel.sh || fail "debug kernel build failed"
KVER=$(cat "$CACHE/debug-kernel/RELEASE")
echo "debug kernel $KVER, built in $(cat "$CACHE/debug-kernel/$KVER/build-time")"
phase_done kernel "$t"

t=$(date +%s)
echo "=== build (irqroute.ko for $KVER, library, selftests)"
if ! make -j"$(nproc)" module-debug lib selftests \
	>build/logs/debug-build.log 2>&1; then
	cat build/logs/debug-build.log
	fail "build failed (log above)"
fi
[ -s build/selftests/TESTS.faults ] ||
	fail "no build/selftests/TESTS.faults (the fault-injection tests)"
phase_done build "$t"

t=$(date +%s)
echo "=== selftests on $KVER"
# nokaslr: a boot that hangs before vm-init.sh prints where the kernel is
# still gets its vCPUs' RIPs named from System.map (vm-run.sh).
# no5lvl: on 6.1, KASAN asks pgtable_l5_enabled(), i.e. the LA57 bit of
# boot_cpu_data, whether an address has shadow, and identify_boot_cpu()
# clears that bit for a moment with interrupts on; an interrupt that takes
# a lock in a direct-map (0xff11...) irq_desc then is a "wild-memory-access"
# panic (seen 4 times in 6 boots under TCG's la57 CPU). With 4-level paging
# that window cannot mislead it.
scripts/vm-run.sh --kver "$KVER" --mode test --mem "$MEM" \
	--timeout "$TIMEOUT" --test-timeout "$TEST_TIMEOUT" "${ONLY[@]}" \
	--append "irqroute_kmemleak=1 kasan.fault=panic nokaslr no5lvl"
LOG=build/logs/$KVER-test.log
phase_done vm "$t"

read -r p f <"build/logs/$KVER-test.result" 2>/dev/null || { p=0 f=1; }

# What the debug checkers said, for the record (the full log has the
# traces: vm-init.sh prints the whole kernel log when anything matched).
echo "=== debug checkers (log: $LOG)"
grep -aE '^(not )?ok - |^# kmemleak|^# module: |^# dmesg|BUG: KASAN|debug_locks|^# .* took ' \
	"$LOG" | grep -av '^# dmesg-full: ' | sed 's/^/  /'
echo "=== timings: ${TIMES[*]} total $(($(date +%s) - T0))s"
echo "$p passed, $f failed"
[ "$f" -eq 0 ] && [ "$p" -gt 0 ]
