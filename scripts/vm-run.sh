#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one Debian kernel in QEMU (TCG, emulated AMD SVM, so L1 has a working
# /dev/kvm) with an initramfs holding irqroute.ko and the test programs, and
# take the verdict from the serial console.
#
# usage: vm-run.sh --kver <abi> --mode test|demo|bench|fuzz|canary|qemu
#                  [--timeout S] [--test-timeout S] [--only test1,test2]
#                  [--repeat N] [--append ARGS] [--mem MB] [--fuzz-seconds N]
#                  [--ko PATH] [--qemu-bin PATH] [--e2e-runs LIST]
#                  [--e2e-cycles N] [--e2e-run-timeout S]
#
# Mode qemu is the end-to-end test (selftests/qemu/run-e2e.sh): the VM gets
# an NVMe controller (a sparse image, build/e2e/nvme.img) that L1 passes
# through with vfio-pci to an L2 Linux guest run by a real QEMU under KVM,
# once as stock QEMU (-accel kvm, run "control") and once with
# -accel kvm,irqroute=on (run "irqroute"); --e2e-runs picks (control,irqroute).
# That QEMU is --qemu-bin, else $IRQROUTE_QEMU_BIN, else the patched build
# $IRQROUTE_CACHE/qemu-src/build-irqroute/qemu-system-x86_64 (no fallback:
# missing is an error). --e2e-cycles: the guest's mask cycles (200);
# --e2e-run-timeout: the limit of one QEMU run (480 s). Its tables (ioctls
# per run and per cycle, irqroute's counters) also go to
# build/logs/<abi>-qemu.tables.
#
# --ko boots that irqroute.ko (e.g. one dkms built) instead of
# build/<abi>/irqroute.ko; its logs are named <abi>-ko-<mode>.*, so that
# they never replace those of the run of build/<abi>/irqroute.ko.
#
# IRQROUTE_VM_CPU=MODEL: QEMU's -cpu (default max,+svm);
# IRQROUTE_VM_SILENCE=S: in test mode, how long a silent console means a
# stuck VM (default: the test timeout + 300 s); IRQROUTE_VM_BOOT_SILENCE=S:
# the same before irqroute.ko is loaded (default 120 s).
#
# The console goes to stdout and to build/logs/<abi>-<mode>.log; the verdict
# ("<passed> <failed>") to build/logs/<abi>-<mode>.result. Exit status is 0
# only if the VM printed its verdict line and it has failed=0.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
BUILD=$ROOT/build
KVER="" MODE=test TIMEOUT="" TEST_TIMEOUT=300 ONLY="" REPEAT=1 APPEND="" MEM=2048
FUZZ_SECONDS=60 KO="" MEM_SET=0 TEST_TIMEOUT_SET=0
QEMU_BIN=${IRQROUTE_QEMU_BIN:-$CACHE/qemu-src/build-irqroute/qemu-system-x86_64}
E2E_RUNS=control,irqroute E2E_CYCLES=200 E2E_RUN_TIMEOUT=480

die() { echo "vm-run: ERROR: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--kver) KVER=$2; shift 2 ;;
	--mode) MODE=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--test-timeout) TEST_TIMEOUT=$2; TEST_TIMEOUT_SET=1; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--repeat) REPEAT=$2; shift 2 ;;
	--append) APPEND=$2; shift 2 ;;
	--mem) MEM=$2; MEM_SET=1; shift 2 ;;	# the debug kernel (KASAN) wants more
	--fuzz-seconds) FUZZ_SECONDS=$2; shift 2 ;;	# mode fuzz only
	--ko) KO=$2; shift 2 ;;
	--qemu-bin) QEMU_BIN=$2; shift 2 ;;		# mode qemu only
	--e2e-runs) E2E_RUNS=$2; shift 2 ;;		# mode qemu only
	--e2e-cycles) E2E_CYCLES=$2; shift 2 ;;		# mode qemu only
	--e2e-run-timeout) E2E_RUN_TIMEOUT=$2; shift 2 ;;	# mode qemu only
	*) die "unknown argument $1" ;;
	esac
done
[ -n "$KVER" ] || die "--kver <abi> is required"
case $MODE in test | demo | bench | fuzz | canary | qemu) ;; *) die "bad --mode $MODE" ;; esac
if [ "$MODE" = qemu ]; then
	[ -x "$QEMU_BIN" ] ||
		die "no QEMU binary $QEMU_BIN (--qemu-bin or IRQROUTE_QEMU_BIN)"
	# L2's QEMU pins its 384 MB, beside an initramfs holding QEMU.
	[ "$MEM_SET" = 1 ] || MEM=3072
	# The runs are bounded one by one (run-e2e.sh); this bounds the script.
	runs=$(echo "$E2E_RUNS" | tr , ' ' | wc -w)
	[ "$TEST_TIMEOUT_SET" = 1 ] ||
		TEST_TIMEOUT=$((runs * (E2E_RUN_TIMEOUT + 60) + 120))
fi
# Whole-VM limit: tests are bounded one by one, this bounds everything else
# (a full run takes 1-2 min; two kernels stay within the CI budget).
[ -n "$TIMEOUT" ] || case $MODE in
	test | canary) TIMEOUT=1200 ;;
	fuzz) TIMEOUT=$((FUZZ_SECONDS + 600)) ;;	# boot, hang reports
	qemu) TIMEOUT=$((TEST_TIMEOUT + 600)) ;;	# boot, teardown
	*) TIMEOUT=600 ;;
	esac

VMLINUZ=$CACHE/kernels/$KVER/boot/vmlinuz-$KVER
[ -f "$VMLINUZ" ] || die "$VMLINUZ missing: run scripts/setup-host.sh"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing"

mkdir -p "$BUILD/logs" "$BUILD/initramfs"
NAME=$KVER${KO:+-ko}-$MODE
LOG=$BUILD/logs/$NAME.log
RESULT=$BUILD/logs/$NAME.result
INITRD=$BUILD/initramfs/$NAME.cpio.gz
rm -f "$RESULT"

QEMU_ARGS=()
[ "$MODE" = qemu ] && QEMU_ARGS=(--qemu "$QEMU_BIN")
"$ROOT/scripts/mkinitramfs.sh" --kver "$KVER" --out "$INITRD" --build "$BUILD" \
	$([ "$MODE" = canary ] && echo --canaries) ${KO:+--ko "$KO"} \
	"${QEMU_ARGS[@]}"

CMDLINE="console=ttyS0 quiet panic=-1 intel_iommu=on slub_debug=FZPU"
CMDLINE+=" panic_on_warn=1 kfence.sample_interval=10"
# The TSC of QEMU's TCG follows the host clock on every vCPU, but under
# load the clocksource watchdog's HPET reads lag, so it calls the TSC
# unstable mid-run; the switch to HPET patches sched_clock's static key,
# and TCG then runs a stale int3 on the other vCPU: an oops in
# sched_clock_cpu() (testing.rst, section 9). No watchdog, no switch.
CMDLINE+=" tsc=reliable"
CMDLINE+=" irqroute_mode=$MODE irqroute_timeout=$TEST_TIMEOUT"
[ -n "$ONLY" ] && CMDLINE+=" irqroute_only=$ONLY"
[ "$REPEAT" -gt 1 ] && CMDLINE+=" irqroute_repeat=$REPEAT"
[ "$MODE" = fuzz ] && CMDLINE+=" irqroute_fuzz_seconds=$FUZZ_SECONDS"
[ "$MODE" = qemu ] && CMDLINE+=" irqroute_e2e_runs=$E2E_RUNS irqroute_e2e_cycles=$E2E_CYCLES irqroute_e2e_run_timeout=$E2E_RUN_TIMEOUT"
[ -n "$APPEND" ] && CMDLINE+=" $APPEND"

# The emulated CPU: AMD with SVM, so that kvm-amd loads in the VM.
CPU=${IRQROUTE_VM_CPU:-max,+svm}
MON=$BUILD/logs/$KVER-$MODE.monitor
PIDFILE=$BUILD/logs/$KVER-$MODE.pid
QEMU=(qemu-system-x86_64 -machine q35 -accel tcg -cpu "$CPU"
      -m "$MEM" -smp 2 -device intel-iommu -device edu
      -kernel "$VMLINUZ" -initrd "$INITRD" -append "$CMDLINE"
      -nodefaults -display none -serial stdio -no-reboot
      -monitor "unix:$MON,server=on,wait=off" -pidfile "$PIDFILE")
if [ "$MODE" = qemu ]; then
	# The controller L1 passes through: behind the intel-iommu above, like
	# edu. Sparse: the guest only reads it.
	NVME_IMG=$BUILD/e2e/nvme.img
	mkdir -p "$BUILD/e2e"
	[ -f "$NVME_IMG" ] || truncate -s 256M "$NVME_IMG"
	QEMU+=(-drive "if=none,id=nvm,file=$NVME_IMG,format=raw"
	       -device nvme,drive=nvm,serial=irqroute)
fi

# Test mode prints as it goes, and every test is bounded (a hung one is
# reported and killed inside the VM after --test-timeout): a console silent
# for longer than that plus the teardown's slowest step means the VM itself
# is stuck. Say where its vCPUs are (QEMU's monitor, RIPs resolved against
# the kernel's System.map) and stop it, instead of waiting for --timeout.
SILENCE=${IRQROUTE_VM_SILENCE:-$((TEST_TIMEOUT + 300))}
# Until irqroute.ko is loaded only the boot runs, and with "quiet" the first
# line comes from vm-init.sh (after about 12 s under the debug kernel): a
# console silent for BOOT_SILENCE before that is a boot that hung.
BOOT_SILENCE=${IRQROUTE_VM_BOOT_SILENCE:-120}
HUNG=$BUILD/logs/$KVER-$MODE.hung
monitor() {	# $1 = HMP command; prints the reply
	python3 - "$MON" "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out, end = b"", time.time() + 5
while time.time() < end:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        break
    if not chunk:
        break
    out += chunk
print(out.decode(errors="replace"))
PY
}
vcpu_places() {	# RIP of each vCPU, with the code it is in
	local cpu rip off line text ltext map=$CACHE/kernels/$KVER/boot/System.map-$KVER
	# vm-init.sh printed where KASLR put the kernel and each module.
	text=$(grep -aoE '^# kernel text at [0-9a-f]{16}' "$LOG" | tail -n1)
	text=${text##* }
	# Debian's System.map is a stub (no _text); the debug kernel's is real.
	ltext=$(awk '$3 == "_text" { print $1 }' "$map")
	# A boot that hung before vm-init.sh printed: without KASLR the
	# kernel is where System.map says.
	case " $CMDLINE " in
	*" nokaslr "*) text=${text:-$ltext} ;;
	esac
	monitor "info registers -a" | tr -d '\r' |
		grep -aoE '(CPU#[0-9]+|[RE]IP=[0-9a-f]+)' | paste - - |
		while read -r cpu rip; do
			rip=${rip#?IP=}
			# "# module NAME SIZE 0xADDR"
			line=$(grep -a '^# module ' "$LOG" | sort -u |
				while read -r _ _ name size addr; do
					off=$((16#$rip - 16#${addr#0x}))
					[ "$off" -ge 0 ] && [ "$off" -lt "$size" ] &&
						printf '[%s]+%#x' "$name" "$off"
				done)
			if [ -z "$line" ] && [ -n "$text" ]; then
				off=$((16#$rip - 16#$text))
				line=$(printf '_text+%#x' "$off")
			fi
			if [ -n "$ltext" ] && [ "${line#_text}" != "$line" ]; then
				# Sorted, 16 lower-case hex digits: the last
				# text symbol not above the address.
				line+=$(awk -v a="$(printf '%016x' $((16#$ltext + off)))" '
					$1 <= a && $2 ~ /^[tT]$/ { f = $3 }
					END { if (f) print " in " f }' "$map")
			fi
			echo "vm-run:   $cpu rip $rip ${line:-(unknown)}"
		done
}
watch_console() {
	local size last=-1 quiet=0 limit=$BOOT_SILENCE

	set +e	# a failed diagnostic must not spare the stuck VM
	while sleep 10; do
		size=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
		if [ "$size" != "$last" ]; then
			last=$size quiet=0
			grep -aq '^# loading irqroute.ko' "$LOG" && limit=$SILENCE
			continue
		fi
		quiet=$((quiet + 10))
		[ "$quiet" -ge "$limit" ] || continue
		{
			echo "vm-run: $KVER $MODE: no console output for ${quiet}s: the VM is stuck"
			vcpu_places
		} | tee "$HUNG" >&2
		kill "$(cat "$PIDFILE")" 2>/dev/null
		return
	done
}

echo "vm-run: $KVER mode=$MODE timeout=${TIMEOUT}s log=${LOG#"$ROOT"/}" >&2
start=$(date +%s)
# A kernel that panics or hangs before vm-init.sh starts to load irqroute.ko
# ("# loading irqroute.ko", printed before the insmod, so that a failure in
# irqroute's own module_init is never booted away) failed in code that is
# not ours (under TCG, seen as an int3 oops while the kernel
# patches its own text at boot, and under the debug kernel as a boot that
# stops with the BSP idle and its timer interrupt pending): boot again, up
# to three boots in all, and say so. A crash or a hang after the module is
# loaded always fails the run, with one exception in mode qemu: while the
# stock QEMU of the control run (which never opens /dev/irqroute) runs
# before the irqroute run has started (seen once: L1's kernel stack
# overflowed in exc_page_fault under the control QEMU's nested guest).
#
# The testbed's nested-SVM emulation also fails L1 itself under an L2
# guest (testing.rst, section 10): L1's kernel left with L2's GS base
# faults in its own exception entry, which faults again until the task's
# stack overflows. That signature alone boots again in mode qemu at any
# point: the guard page hit in a thread of the L2's QEMU, with the oops's
# RIP in the exception entry itself (error_entry, asm_exc_page_fault,
# exc_page_fault), or its code bytes ending in VMRUN (0f 01 d8) just
# before the interrupted instruction. A bug in a module oopses once in
# its own code; it does not make the fault entry recurse. The boot's
# runs start over, and the fault is printed with the result.
vmrun_stack_overflow() {
	oops=$(grep -aA4 'BUG: TASK stack guard page was hit' "$LOG") || return 1
	echo "$oops" | grep -aq 'Comm: qemu-system-x86' &&
	echo "$oops" | grep -aqE 'RIP: 0010:(error_entry|asm_exc_page_fault|exc_page_fault)\+|Code: .*0f 01 d8 <'
}
BOOTS=3
rm -f "$LOG".boot-crash.* "$LOG.boot-faults"
for attempt in $(seq "$BOOTS"); do
	rm -f "$HUNG" "$PIDFILE"
	: >"$LOG"
	watcher=""
	if [ "$MODE" = test ] || [ "$MODE" = canary ] || [ "$MODE" = qemu ]; then
		watch_console &
		watcher=$!
	fi
	set +e
	# The console is CRLF; strip the CRs so the log greps cleanly, line
	# by line, so that the log of a stuck VM shows where it stopped.
	# --foreground keeps QEMU in our process group, so killing this
	# script's group (CI cancelling a job) also ends QEMU.
	timeout --foreground --kill-after=10 "$TIMEOUT" "${QEMU[@]}" \
		</dev/null 2>&1 | stdbuf -oL tr -d '\r' | tee "$LOG"
	qrc=${PIPESTATUS[0]}
	set -e
	if [ -n "$watcher" ]; then
		kill "$watcher" 2>/dev/null || true
		wait "$watcher" 2>/dev/null || true
	fi
	again="the kernel panicked or hung before irqroute.ko was loaded"
	if [ "$MODE" = qemu ] &&
	   grep -aq '^# e2e: ===== run control' "$LOG" &&
	   ! grep -aq '^# e2e: ===== run irqroute' "$LOG"; then
		again="the kernel panicked or hung before irqroute was first used (stock QEMU was running)"
	elif [ "$MODE" = qemu ] && vmrun_stack_overflow; then
		again="L1's exception entry recursed until the stack overflowed under the L2's QEMU (testbed fault, testing.rst section 10)"
	elif grep -aq '^# loading irqroute.ko' "$LOG"; then
		again=""
	fi
	if [ "$attempt" -lt "$BOOTS" ] && [ -n "$again" ] &&
	   { grep -aq 'Kernel panic' "$LOG" || [ -e "$HUNG" ]; }; then
		cp "$LOG" "$LOG.boot-crash.$attempt"
		echo "vm-run: $KVER: boot $attempt of $BOOTS: $again (log: ${LOG#"$ROOT"/}.boot-crash.$attempt); booting again" >&2
		echo "IRQROUTE-TESTBED-FAULT: boot $attempt: $again" >>"$LOG.boot-faults"
		continue
	fi
	break
done
rm -f "$MON" "$PIDFILE"
elapsed=$(($(date +%s) - start))

verdict=$(grep -aoE 'IRQROUTE-RESULT: passed=[0-9]+ failed=[0-9]+' "$LOG" |
	  tail -n1 || true)
if [ -z "$verdict" ]; then
	why="no verdict line"
	[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && why="timed out after ${TIMEOUT}s"
	grep -aq 'Kernel panic' "$LOG" && why="kernel panic"
	[ -e "$HUNG" ] && why="VM stuck: $(head -n1 "$HUNG" | sed -e 's/.*: no console/no console/' -e 's/: the VM is stuck//')"
	echo "vm-run: $KVER $MODE: FAILED ($why, qemu status $qrc, ${elapsed}s)" >&2
	echo "0 1" >"$RESULT"
	exit 1
fi
if [ -s "$LOG.boot-faults" ]; then
	echo "vm-run: $KVER $MODE: booted again after a testbed fault (logs: ${LOG#"$ROOT"/}.boot-crash.*):" >&2
	sed 's/^/vm-run:   /' "$LOG.boot-faults" >&2
fi
reruns=$(grep -aoE 'IRQROUTE-RESULT: .* testbed_reruns=[0-9]+' "$LOG" |
	 tail -n1 | sed -E 's/.*testbed_reruns=//' || true)
if [ "${reruns:-0}" -gt 0 ]; then
	echo "vm-run: $KVER $MODE: $reruns test binary(ies) run again after a testbed fault:" >&2
	grep -a '^IRQROUTE-TESTBED-FAULT' "$LOG" | sed 's/^/vm-run:   /' >&2
fi
strays=$(grep -aoE 'IRQROUTE-RESULT: .* testbed_strays=[0-9]+' "$LOG" |
	 tail -n1 | sed -E 's/.*testbed_strays=//' || true)
if [ "${strays:-0}" -gt 0 ]; then
	echo "vm-run: $KVER $MODE: $strays stray interrupt(s) injected below KVM's APIC, not counted by the tests:" >&2
	grep -a '^IRQROUTE-TESTBED-STRAY' "$LOG" | sed 's/^/vm-run:   /' >&2
fi
if [ "$MODE" = qemu ]; then
	{ grep -a '^# e2e-table: ' "$LOG" || true; } |
		sed 's/^# e2e-table: //' >"$BUILD/logs/$NAME.tables"
	sed 's/^/vm-run: /' "$BUILD/logs/$NAME.tables" >&2
	{ grep -a '^not ok - ' "$LOG" || true; } | sed 's/^/vm-run: /' >&2
fi
passed=$(echo "$verdict" | sed -E 's/.*passed=([0-9]+).*/\1/')
failed=$(echo "$verdict" | sed -E 's/.*failed=([0-9]+).*/\1/')
echo "$passed $failed" >"$RESULT"
echo "vm-run: $KVER $MODE: passed=$passed failed=$failed (${elapsed}s)" >&2
[ "$failed" -eq 0 ]
