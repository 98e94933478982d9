#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build irqroute.ko, libirqroute and irqroute-fuzz, then fuzz /dev/irqroute
# in a test VM for a bounded time (selftests/fuzz/irqroute-fuzz.c).
#
# usage: run-fuzz.sh [--seconds N] [--kver <abi>|6.1|6.12|7|debug] [--seed S]
#                    [--timeout S]
#
# Default: 60 s on 6.1. The verdict is the fuzzer's own (no hang, no crash,
# nothing impossible, deep paths reached) plus the VM's: irqroute.ko
# unloads afterwards and the kernel log has no warning, BUG, oops, KFENCE
# or lockup (panic_on_warn, slub_debug). Console log:
# build/logs/<abi>-fuzz.log. Exit status 0 only if all of it holds.
#
# --kver debug fuzzes under the debug kernel (scripts/build-debug-kernel.sh,
# built first if needed), with the switches of scripts/run-debug-tests.sh:
# a KASAN report panics, lockdep must still be on at the end, and kmemleak
# is scanned before insmod and after rmmod.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
SECONDS_ARG=60 KVER=6.1 SEED="" TIMEOUT=""

die() { echo "run-fuzz: ERROR: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECONDS_ARG=$2; shift 2 ;;
	--kver) KVER=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	*) die "unknown argument $1" ;;
	esac
done
[ -f "$CACHE/env.sh" ] || die "no $CACHE/env.sh: run scripts/setup-host.sh"
# shellcheck disable=SC1091
. "$CACHE/env.sh"
DEBUG=0
case $KVER in
6.1) KVER=$KVER_61 ;;
6.12) KVER=$KVER_612 ;;
7) KVER=$KVER_7 ;;
debug)
	DEBUG=1
	"$ROOT/scripts/build-debug-kernel.sh" || die "debug kernel build failed"
	KVER=$(cat "$CACHE/debug-kernel/RELEASE")
	;;
esac

cd "$ROOT"
mkdir -p build/logs
echo "run-fuzz: building for $KVER (log: build/logs/fuzz-build.log)" >&2
if [ "$DEBUG" = 1 ]; then
	module=(module-debug)
else
	module=(module KVER="$KVER")
fi
if ! { make "${module[@]}" && make lib && make fuzz-build; } \
	>build/logs/fuzz-build.log 2>&1; then
	tail -n 40 build/logs/fuzz-build.log
	die "build failed"
fi

args=(--kver "$KVER" --mode fuzz --fuzz-seconds "$SECONDS_ARG")
[ -n "$TIMEOUT" ] && args+=(--timeout "$TIMEOUT")
append=""
[ -n "$SEED" ] && append="irqroute_fuzz_seed=$SEED"
if [ "$DEBUG" = 1 ]; then
	append+=" irqroute_kmemleak=1 kasan.fault=panic"
	args+=(--mem 3072)
fi
[ -n "$append" ] && args+=(--append "$append")

set +e
"$ROOT/scripts/vm-run.sh" "${args[@]}" >/dev/null
rc=$?
set -e
LOG=build/logs/$KVER-fuzz.log
# The fuzzer's summary and verdict, and the VM's checks after it.
sed -n '/^# operation /,/^IRQROUTE-FUZZ:/p' "$LOG" 2>/dev/null || true
grep -aE '^(IRQROUTE-FUZZ|IRQROUTE-RESULT|not ok|# dmesg|fuzz: IMPOSSIBLE)' \
	"$LOG" 2>/dev/null | grep -v '^IRQROUTE-FUZZ' || true
if [ "$rc" -eq 0 ]; then
	echo "run-fuzz: $KVER: PASS (${SECONDS_ARG}s; log: $LOG)"
else
	echo "run-fuzz: $KVER: FAIL (log: $LOG)"
fi
exit "$rc"
