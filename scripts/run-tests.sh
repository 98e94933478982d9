#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole test matrix, on a Debian 12 machine, as root:
#   setup (cached after the first run), build (module for 6.1, 6.12, 7.x,
#   library, selftests, examples), lint, the host tests (the library's
#   make lib-check, the Rust crate's make rust-test, and
#   scripts/test-runner.sh for the VM runner's
#   counting), then the selftests in a VM on each kernel (Debian's 6.1,
#   bookworm-backports' 6.12, sid's newest 7.x). Ends with one
#   line "N passed, N failed": the kselftest cases of every kernel plus
#   the VM's rmmod, kernel-log and case-list checks, the host tests' cases,
#   plus one case for the lint step; the line before it says how many
#   test binaries ran again after a testbed fault.
#
# Environment: IRQROUTE_SKIP_SETUP=1 (cache already filled),
#              IRQROUTE_SKIP_LINT=1, IRQROUTE_TEST_KVERS="6.1 6.12 7" (subset).

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
cd "$ROOT" || exit 2

T0=$(date +%s)
TIMES=()
phase_done() { TIMES+=("$1 $(($(date +%s) - $2))s"); }

PASSED=0
FAILED=0
RERUNS=0
summary() {
	echo
	echo "=== timings: ${TIMES[*]} total $(($(date +%s) - T0))s"
	echo "testbed_reruns=$RERUNS (test binaries run again for a case with a testbed fault)"
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
	exit $?
}

# --- setup --------------------------------------------------------------------
t=$(date +%s)
if [ "${IRQROUTE_SKIP_SETUP:-0}" != 1 ]; then
	if [ "$(id -u)" = 0 ]; then
		"$ROOT/scripts/setup-host.sh" || { FAILED=1; summary; }
	elif [ ! -f "$CACHE/env.sh" ]; then
		echo "run-tests: run as root (or run scripts/setup-host.sh as root first)" >&2
		FAILED=1
		summary
	fi
fi
# shellcheck disable=SC1091
. "$CACHE/env.sh" || { FAILED=1; summary; }
phase_done setup "$t"

# --- build --------------------------------------------------------------------
t=$(date +%s)
echo "=== build"
mkdir -p "$ROOT/build/logs"
if ! make -j"$(nproc)" all >"$ROOT/build/logs/build.log" 2>&1; then
	cat "$ROOT/build/logs/build.log"
	echo "run-tests: build failed (log above)"
	FAILED=1
	summary
fi
echo "build ok (log: build/logs/build.log)"
phase_done build "$t"

# --- lint -------------------------------------------------------------------
if [ "${IRQROUTE_SKIP_LINT:-0}" != 1 ]; then
	t=$(date +%s)
	if "$ROOT/scripts/lint.sh"; then
		PASSED=$((PASSED + 1))
	else
		echo "not ok - lint (counted as one failed case)"
		FAILED=$((FAILED + 1))
	fi
	phase_done lint "$t"
fi

# --- host tests: the library's and the VM runner's -------------------------
# Each prints "N passed, N failed" lines; they are added to the total. A
# failed command with nothing counted failed counts as one failure.
host_check() {	# $1 = label, rest = command
	local label=$1 log rc p f
	shift
	log=$ROOT/build/logs/host-$label.log
	"$@" >"$log" 2>&1
	rc=$?
	read -r p f < <(grep -aE '^[0-9]+ passed, [0-9]+ failed$' "$log" |
		awk '{ p += $1; f += $3 } END { print p + 0, f + 0 }')
	grep -aE '^not ok|^[0-9]+ passed, [0-9]+ failed$' "$log" | sed "s/^/$label: /"
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	echo "=== $label: $p passed, $f failed (log: ${log#"$ROOT"/})"
	[ "$rc" -ne 0 ] && tail -n 20 "$log"
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
}
t=$(date +%s)
echo
echo "=== host tests"
host_check lib-check make lib-check
host_check rust make rust-test
host_check runner "$ROOT/scripts/test-runner.sh"
phase_done host "$t"

# --- selftests in the VMs ---------------------------------------------------
kernels=()
for k in ${IRQROUTE_TEST_KVERS:-6.1 6.12 7}; do
	case $k in
	6.1) kernels+=("$KVER_61") ;;
	6.12) kernels+=("$KVER_612") ;;
	7) kernels+=("$KVER_7") ;;
	*) kernels+=("$k") ;;
	esac
done
for kver in "${kernels[@]}"; do
	t=$(date +%s)
	echo
	echo "=== selftests on $kver"
	"$ROOT/scripts/vm-run.sh" --kver "$kver" --mode test
	result=$ROOT/build/logs/$kver-test.result
	if [ -f "$result" ]; then
		read -r p f <"$result"
	else
		p=0 f=1
	fi
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	rr=$(grep -aoE 'IRQROUTE-RESULT: .* testbed_reruns=[0-9]+' \
		"$ROOT/build/logs/$kver-test.log" | tail -n1 | sed 's/.*=//')
	RERUNS=$((RERUNS + ${rr:-0}))
	echo "=== $kver: $p passed, $f failed, testbed_reruns=${rr:-0}"
	phase_done "vm-${kver%.*-amd64}" "$t"
done

summary
