#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The mutation canaries: irqroute built with one known bug each
# (module/canary.h), and for each the tests of selftests/CANARIES that must
# fail with it. One VM boot per kernel runs them all (vm-init.sh mode
# canary): a canary no listed test catches is a failed case. Shows that the
# suite fails when irqroute is broken, and which test catches what.
#
# usage: run-canaries.sh [--kvers "6.1 6.12"]   ends with "N passed, N failed"

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
cd "$ROOT" || exit 2
KVERS="6.1 6.12"
while [ $# -gt 0 ]; do
	case $1 in
	--kvers) KVERS=$2; shift 2 ;;
	*) echo "usage: $0 [--kvers \"6.1 6.12\"]" >&2; exit 2 ;;
	esac
done

T0=$(date +%s)
PASSED=0 FAILED=0
finish() {
	echo "=== canaries: $(($(date +%s) - T0))s"
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
	exit $?
}

# shellcheck disable=SC1091
. "$CACHE/env.sh" || { FAILED=1; finish; }
mkdir -p build/logs
if ! make -j"$(nproc)" lib selftests >build/logs/canary-build.log 2>&1; then
	cat build/logs/canary-build.log
	FAILED=1
	finish
fi
for k in $KVERS; do
	case $k in
	6.1) kver=$KVER_61 ;;
	6.12) kver=$KVER_612 ;;
	7) kver=$KVER_7 ;;
	*) kver=$k ;;
	esac
	echo "=== canaries on $kver"
	if ! make canaries KVER="$kver" module-"$kver"; then
		FAILED=$((FAILED + 1))
		continue
	fi
	scripts/vm-run.sh --kver "$kver" --mode canary
	read -r p f <"build/logs/$kver-canary.result" 2>/dev/null || { p=0 f=1; }
	grep -aE '^(not )?ok - canary ' "build/logs/$kver-canary.log" | sed 's/^/  /'
	PASSED=$((PASSED + p)) FAILED=$((FAILED + f))
done
finish
