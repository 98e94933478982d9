#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one Debian kernel in QEMU (TCG, emulated AMD SVM, so L1 has a working
# /dev/kvm) with an initramfs holding irqroute.ko and the test programs, and
# take the verdict from the serial console.
#
# usage: vm-run.sh --kver <abi> --mode test|demo|bench|fuzz [--timeout S]
#                  [--test-timeout S] [--only test1,test2] [--repeat N]
#                  [--append ARGS] [--mem MB] [--fuzz-seconds N]
#
# The console goes to stdout and to build/logs/<abi>-<mode>.log; the verdict
# ("<passed> <failed>") to build/logs/<abi>-<mode>.result. Exit status is 0
# only if the VM printed its verdict line and it has failed=0.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
BUILD=$ROOT/build
KVER="" MODE=test TIMEOUT="" TEST_TIMEOUT=300 ONLY="" REPEAT=1 APPEND="" MEM=2048
FUZZ_SECONDS=60

die() { echo "vm-run: ERROR: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--kver) KVER=$2; shift 2 ;;
	--mode) MODE=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--test-timeout) TEST_TIMEOUT=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--repeat) REPEAT=$2; shift 2 ;;
	--append) APPEND=$2; shift 2 ;;
	--mem) MEM=$2; shift 2 ;;	# the debug kernel (KASAN) wants more
	--fuzz-seconds) FUZZ_SECONDS=$2; shift 2 ;;	# mode fuzz only
	*) die "unknown argument $1" ;;
	esac
done
[ -n "$KVER" ] || die "--kver <abi> is required"
case $MODE in test | demo | bench | fuzz) ;; *) die "bad --mode $MODE" ;; esac
# Whole-VM limit: tests are bounded one by one, this bounds everything else
# (a full run takes 1-2 min; two kernels stay within the CI budget).
[ -n "$TIMEOUT" ] || case $MODE in
	test) TIMEOUT=1200 ;;
	fuzz) TIMEOUT=$((FUZZ_SECONDS + 600)) ;;	# boot, hang reports
	*) TIMEOUT=600 ;;
	esac

VMLINUZ=$CACHE/kernels/$KVER/boot/vmlinuz-$KVER
[ -f "$VMLINUZ" ] || die "$VMLINUZ missing: run scripts/setup-host.sh"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing"

mkdir -p "$BUILD/logs" "$BUILD/initramfs"
LOG=$BUILD/logs/$KVER-$MODE.log
RESULT=$BUILD/logs/$KVER-$MODE.result
INITRD=$BUILD/initramfs/$KVER-$MODE.cpio.gz
rm -f "$RESULT"

"$ROOT/scripts/mkinitramfs.sh" --kver "$KVER" --out "$INITRD" --build "$BUILD"

CMDLINE="console=ttyS0 quiet panic=-1 intel_iommu=on slub_debug=FZPU"
CMDLINE+=" panic_on_warn=1 kfence.sample_interval=10"
CMDLINE+=" irqroute_mode=$MODE irqroute_timeout=$TEST_TIMEOUT"
[ -n "$ONLY" ] && CMDLINE+=" irqroute_only=$ONLY"
[ "$REPEAT" -gt 1 ] && CMDLINE+=" irqroute_repeat=$REPEAT"
[ "$MODE" = fuzz ] && CMDLINE+=" irqroute_fuzz_seconds=$FUZZ_SECONDS"
[ -n "$APPEND" ] && CMDLINE+=" $APPEND"

QEMU=(qemu-system-x86_64 -machine q35 -accel tcg -cpu max,+svm
      -m "$MEM" -smp 2 -device intel-iommu -device edu
      -kernel "$VMLINUZ" -initrd "$INITRD" -append "$CMDLINE"
      -nodefaults -display none -serial stdio -monitor none -no-reboot)

echo "vm-run: $KVER mode=$MODE timeout=${TIMEOUT}s log=${LOG#"$ROOT"/}" >&2
start=$(date +%s)
# A kernel that panics before irqroute.ko is loaded crashed in code that is
# not ours (under TCG, seen as an int3 oops while the kernel patches its
# own text at boot): boot once more, and say so. A crash after the module
# is loaded always fails the run.
for attempt in 1 2; do
	set +e
	# The console is CRLF; strip the CRs so the log greps cleanly.
	# --foreground keeps QEMU in our process group, so killing this
	# script's group (CI cancelling a job) also ends QEMU.
	timeout --foreground --kill-after=10 "$TIMEOUT" "${QEMU[@]}" \
		</dev/null 2>&1 | tr -d '\r' | tee "$LOG"
	qrc=${PIPESTATUS[0]}
	set -e
	if [ "$attempt" = 1 ] && grep -aq 'Kernel panic' "$LOG" &&
	   ! grep -aq '^# irqroute.ko loaded' "$LOG"; then
		cp "$LOG" "$LOG.boot-crash"
		echo "vm-run: $KVER: the kernel panicked before irqroute.ko was loaded (log: ${LOG#"$ROOT"/}.boot-crash); booting again" >&2
		continue
	fi
	break
done
elapsed=$(($(date +%s) - start))

verdict=$(grep -aoE 'IRQROUTE-RESULT: passed=[0-9]+ failed=[0-9]+' "$LOG" |
	  tail -n1 || true)
if [ -z "$verdict" ]; then
	why="no verdict line"
	[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && why="timed out after ${TIMEOUT}s"
	grep -aq 'Kernel panic' "$LOG" && why="kernel panic"
	echo "vm-run: $KVER $MODE: FAILED ($why, qemu status $qrc, ${elapsed}s)" >&2
	echo "0 1" >"$RESULT"
	exit 1
fi
reruns=$(grep -aoE 'IRQROUTE-RESULT: .* testbed_reruns=[0-9]+' "$LOG" |
	 tail -n1 | sed -E 's/.*testbed_reruns=//' || true)
if [ "${reruns:-0}" -gt 0 ]; then
	echo "vm-run: $KVER $MODE: $reruns test binary(ies) run again after a testbed fault:" >&2
	grep -a '^IRQROUTE-TESTBED-FAULT' "$LOG" | sed 's/^/vm-run:   /' >&2
fi
passed=$(echo "$verdict" | sed -E 's/.*passed=([0-9]+).*/\1/')
failed=$(echo "$verdict" | sed -E 's/.*failed=([0-9]+).*/\1/')
echo "$passed $failed" >"$RESULT"
echo "vm-run: $KVER $MODE: passed=$passed failed=$failed (${elapsed}s)" >&2
[ "$failed" -eq 0 ]
