#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the L1 test VM (busybox sh). Loads KVM, VFIO and irqroute.ko,
# runs what the mode asks for, unloads irqroute, checks the kernel log, and
# prints one verdict line for the host:
#
#   IRQROUTE-RESULT: passed=N failed=M mode=<mode> kver=<uname -r> testbed_reruns=R testbed_strays=S
#
# Kernel command line (set by scripts/vm-run.sh):
#   irqroute_mode=test|demo|bench|fuzz  what to run (default test)
#   irqroute_timeout=S              timeout of each test binary (default 300)
#   irqroute_only=a,b               run only these tests (debugging)
#   irqroute_repeat=N               run the tests N times (flake hunting)
#   irqroute_kmemleak=1             debug kernel (scripts/run-debug-tests.sh):
#                                   kmemleak scan before irqroute.ko (cleared)
#                                   and after its rmmod (a leak fails the
#                                   run); lockdep must still be on at the end
#   irqroute_fuzz_seconds=N         mode fuzz: how long irqroute-fuzz runs (60)
#   irqroute_fuzz_seed=S            mode fuzz: replay that seed
#
# Counting, test mode: one per kselftest case ("ok N" / "not ok N" lines
# of each binary's TAP output). A case reported "# SKIP" counts as failed:
# in this VM everything a test needs is present, so a skip means something
# is missing. A binary whose plan ("1..N") is not complete (crash, timeout)
# counts its missing cases as failed; a binary with no plan at all counts
# as one failure; a non-zero exit status with nothing else failed counts as
# one failure. The rmmod and the kernel-log check count as one case each.
# A binary that reports a testbed fault (an L2 vCPU running L1 kernel code,
# see selftests/lib/guest.c) is run again, up to three times, and only the
# last run counts; R says how many were. S counts the stray interrupts the
# L2 guests took (injected below KVM's APIC; selftests/lib/guest.h), which
# no test counts.

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
/bin/busybox --install -s

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/shm /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
ulimit -c 0

MODE=test
TEST_TIMEOUT=300
ONLY=""
REPEAT=1
KMEMLEAK=0
FUZZ_SECONDS=60
FUZZ_SEED=""
for arg in $(cat /proc/cmdline); do
	case $arg in
	irqroute_mode=*) MODE=${arg#*=} ;;
	irqroute_timeout=*) TEST_TIMEOUT=${arg#*=} ;;
	irqroute_only=*) ONLY=$(echo "${arg#*=}" | tr , ' ') ;;
	irqroute_repeat=*) REPEAT=${arg#*=} ;;
	irqroute_kmemleak=*) KMEMLEAK=${arg#*=} ;;
	irqroute_fuzz_seconds=*) FUZZ_SECONDS=${arg#*=} ;;
	irqroute_fuzz_seed=*) FUZZ_SEED=${arg#*=} ;;
	esac
done

PASSED=0
FAILED=0
RERUNS=0	# test binaries run again after a testbed fault
STRAYS=0	# interrupts injected below KVM's APIC (not counted by the tests)
DMESG_MARK="irqroute-vm: irqroute.ko loaded"

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

finish() {
	echo "IRQROUTE-RESULT: passed=$PASSED failed=$FAILED mode=$MODE kver=$(uname -r) testbed_reruns=$RERUNS testbed_strays=$STRAYS"
	sync
	poweroff -f
	sleep 5
	echo o >/proc/sysrq-trigger
}

fatal() {
	not_ok "$*"
	echo "# FATAL: $*"
	dmesg | tail -n 40 | sed 's/^/# dmesg: /'
	finish
}

# --- kernel modules -------------------------------------------------------

while read -r m; do
	insmod "/irqroute/kmod/$m.ko" || fatal "insmod $m failed"
done </irqroute/kmod/ORDER
[ -c /dev/kvm ] || fatal "/dev/kvm missing after loading KVM (kvm-amd: SVM?)"
echo "# kernel $(uname -r): loaded $(tr '\n' ' ' </irqroute/kmod/ORDER)"
# Where the kernel and the modules are, for vm-run.sh to name the code a
# stuck vCPU is in (KASLR moves them every boot).
echo "# kernel text at $(awk '$3 == "_text" { print $1 }' /proc/kallsyms)"
awk '{ print "# module", $1, $2, $6 }' /proc/modules
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] &&
		echo "# edu PCI device at ${d##*/}, iommu_group $(basename "$(readlink "$d/iommu_group")")"
done

# One VM alive for the whole run, so tests creating and destroying VMs do not
# make KVM patch kernel text (see scripts/kvm-hold.c). Its output arrives
# only once the VM exists.
/irqroute/kvm-hold >/tmp/kvm-hold.out &
HOLD_PID=$!
i=0
until [ -s /tmp/kvm-hold.out ]; do
	kill -0 $HOLD_PID 2>/dev/null || fatal "kvm-hold failed"
	i=$((i + 1))
	[ $i -lt 100 ] || fatal "kvm-hold did not start"
	sleep 0.1
done
echo "# $(cat /tmp/kvm-hold.out) as pid $HOLD_PID"

# --- kmemleak (irqroute_kmemleak=1) ---------------------------------------

KMEMLEAK_FILE=/sys/kernel/debug/kmemleak

# Two scans, as Documentation/dev-tools/kmemleak.rst advises; an object is
# reported only once it is 5 s old, so wait that long first. Leaves the
# report in /tmp/kmemleak.txt.
kmemleak_scan() {
	sleep 6
	echo scan >$KMEMLEAK_FILE && sleep 1 && echo scan >$KMEMLEAK_FILE ||
		return 1
	cat $KMEMLEAK_FILE >/tmp/kmemleak.txt
}

# Leaks from before irqroute.ko (boot, KVM and VFIO loading) are not the
# run's: report them for the record and clear them.
kmemleak_before() {
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	[ -w $KMEMLEAK_FILE ] ||
		fatal "irqroute_kmemleak=1 but no $KMEMLEAK_FILE (kernel without kmemleak?)"
	kmemleak_scan || fatal "kmemleak scan failed before irqroute.ko (kmemleak off?)"
	echo "# kmemleak before irqroute.ko: $(grep -c '^unreferenced object' /tmp/kmemleak.txt) suspect(s), cleared"
	sed 's/^/# kmemleak-before: /' /tmp/kmemleak.txt
	echo clear >$KMEMLEAK_FILE
}

# After rmmod irqroute: anything reported now was leaked during the run.
kmemleak_after() {
	if ! kmemleak_scan; then
		not_ok "kmemleak scan after the run (kmemleak switched itself off?)"
		return
	fi
	n=$(grep -c '^unreferenced object' /tmp/kmemleak.txt)
	sed 's/^/# kmemleak: /' /tmp/kmemleak.txt
	if [ "$n" -eq 0 ]; then
		ok "kmemleak: no leak after the run (two scans after rmmod irqroute)"
	else
		not_ok "kmemleak: $n object(s) leaked during the run (above)"
	fi
}

[ "$KMEMLEAK" = 1 ] && kmemleak_before

[ -f /irqroute/irqroute.ko ] || fatal "no irqroute.ko in the initramfs"
insmod /irqroute/irqroute.ko || fatal "insmod irqroute.ko failed"
[ -c /dev/irqroute ] || fatal "/dev/irqroute missing after insmod"
# On the console: vm-run.sh tells a crash before this line from ours.
echo "# irqroute.ko loaded"
awk '$1 == "irqroute" { print "# module", $1, $2, $6 }' /proc/modules
echo "<6>$DMESG_MARK" >/dev/kmsg
# Report a task stuck in D state after 30 s (a "Call Trace" fails the run).
# An RCU stall or a soft lockup leaves a CPU stuck for good: end the run
# (the host reports the panic) instead of waiting for the VM timeout.
# Every kernel the tests boot has these detectors.
for knob in hung_task_timeout_secs=30 panic_on_rcu_stall=1 softlockup_panic=1; do
	[ -w "/proc/sys/kernel/${knob%=*}" ] ||
		fatal "kernel without /proc/sys/kernel/${knob%=*}"
	echo "${knob#*=}" >"/proc/sys/kernel/${knob%=*}"
done
# From here on show warnings on the console too ("quiet" hides them), so a
# WARN that panics (panic_on_warn) is visible with its trace in the log.
echo 5 >/proc/sys/kernel/printk

# --- test mode --------------------------------------------------------------

# $1 = test name, $2 = its TAP output file, $3 = exit status
count_tap() {
	set -- "$1" "$2" "$3" $(awk '
		/^1\.\.[0-9]+/ { plan = substr($0, 4) + 0 }
		/^ok [0-9]+/ { if ($0 ~ /# SKIP/) skip++; else pass++ }
		/^not ok [0-9]+/ { fail++ }
		END { print pass + 0, fail + 0, skip + 0, plan + 0 }' "$2")
	t=$1 rc=$3 pass=$4 fail=$5 skip=$6 plan=$7
	extra=0
	if [ "$plan" -eq 0 ]; then
		echo "# $t: no TAP plan (crashed before starting?), rc=$rc"
		extra=1
	elif [ $((pass + fail + skip)) -lt "$plan" ]; then
		extra=$((plan - pass - fail - skip))
		echo "# $t: $extra of $plan cases never reported (crash or timeout), rc=$rc"
	elif [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && [ "$skip" -eq 0 ]; then
		echo "# $t: every case passed but exit status is $rc"
		extra=1
	fi
	[ "$rc" -eq 124 ] &&
		echo "# $t: killed by the ${TEST_TIMEOUT}s timeout"
	[ "$skip" -gt 0 ] &&
		echo "# $t: $skip skipped case(s) counted as failed (nothing may be missing here)"
	PASSED=$((PASSED + pass))
	FAILED=$((FAILED + fail + skip + extra))
	echo "# $t: passed=$pass failed=$((fail + skip + extra))"
}

# Show where a hung test sits: every task of the test (state, kernel
# stack) and the kernel's list of blocked tasks.
dump_hang() {	# $1 = pid of the test
	echo "# ----- hang diagnostics: processes -----"
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		[ "$p" = "$1" ] || grep -q "^PPid:[[:space:]]*$1\$" "$d/status" \
			2>/dev/null || continue
		echo "# pid $p $(cat "$d/comm") $(grep '^State:' "$d/status")"
		sed 's/^/#    /' "$d/stack" 2>/dev/null
	done
	echo "# ----- hang diagnostics: sysrq-w (blocked tasks) -----"
	echo "<6>irqroute-vm: sysrq-w" >/dev/kmsg
	echo w >/proc/sysrq-trigger
	dmesg | sed -n '/irqroute-vm: sysrq-w/,$p' | sed 's/^/# /'
}

# Run "$@" with a timeout of $1 seconds; on timeout print diagnostics, then
# kill the test and its direct children (kselftest runs each case in a
# child). Status: the test's, or 124 on timeout.
run_timed() {
	secs=$1
	shift
	"$@" </dev/null 2>&1 &
	pid=$!
	(
		i=0
		while [ $i -lt "$secs" ]; do
			sleep 1
			kill -0 $pid 2>/dev/null || exit 0
			i=$((i + 1))
		done
		echo "# TIMEOUT after ${secs}s: $*"
		dump_hang $pid
		for d in /proc/[0-9]*; do
			grep -q "^PPid:[[:space:]]*$pid\$" "$d/status" 2>/dev/null &&
				kill -KILL "${d#/proc/}"
		done
		kill -KILL $pid
		touch /tmp/timed-out
	) &
	wd=$!
	wait $pid
	rc=$?
	wait $wd 2>/dev/null	# it notices the exit within a second
	if [ -e /tmp/timed-out ]; then
		rm -f /tmp/timed-out
		rc=124
	fi
	return $rc
}

# TESTS, and TESTS.faults (tests that need fault injection) on a kernel
# that has it (/proc/thread-self/fail-nth: the debug kernel).
test_list() {
	grep -v '^[[:space:]]*#' TESTS
	if [ -e /proc/thread-self/fail-nth ] && [ -s TESTS.faults ]; then
		grep -v '^[[:space:]]*#' TESTS.faults
	fi
}

run_tests() {
	cd /irqroute/tests || fatal "no /irqroute/tests"
	[ -s TESTS ] || fatal "no /irqroute/tests/TESTS (selftests not built?)"
	if [ -e /proc/thread-self/fail-nth ]; then
		echo "# fault injection available: also running $(tr '\n' ' ' <TESTS.faults)"
	else
		echo "# no fault injection in this kernel: $(tr '\n' ' ' <TESTS.faults 2>/dev/null)not run (debug kernel only)"
	fi
	for t in $(test_list); do
		if [ -n "$ONLY" ]; then
			case " $ONLY " in *" $t "*) ;; *) continue ;; esac
		fi
		echo "# ===== $t ====="
		if [ ! -x "./$t" ]; then
			not_ok "$t: listed in TESTS but not in the initramfs"
			continue
		fi
		for attempt in 1 2 3 4; do
			start=$(cut -d' ' -f1 /proc/uptime)
			{
				run_timed "$TEST_TIMEOUT" "./$t"
				echo $? >/tmp/rc
			} | tee "/tmp/$t.tap"
			echo "# $t took $(awk -v s="$start" '{ printf "%.1f", $1 - s }' /proc/uptime)s"
			# An L2 vCPU found running L1 kernel code (selftests/
			# lib/guest.c): its state was lost below KVM and
			# irqroute, so this run tests neither. Up to three
			# times per binary, discard it and run the binary
			# again (about 1 run of routes_test in 5 under the
			# debug kernel has one, so two in a row happen); a
			# fourth such run counts as it is (failed).
			if [ "$attempt" -lt 4 ] &&
			   grep -aq '^IRQROUTE-TESTBED-FAULT' "/tmp/$t.tap"; then
				RERUNS=$((RERUNS + 1))
				echo "# $t: TESTBED FAULT above: this run is discarded and $t runs again"
				continue
			fi
			count_tap "$t" "/tmp/$t.tap" "$(cat /tmp/rc)"
			STRAYS=$((STRAYS + $(sed -n 's/^IRQROUTE-TESTBED-STRAY: n=\([0-9]*\):.*/\1/p' \
				"/tmp/$t.tap" | awk '{ s += $1 } END { print s + 0 }')))
			break
		done
	done
	cd /
}

run_one() {	# $1 = label, $2 = program
	echo "# ===== $1 ====="
	if [ ! -x "$2" ]; then
		not_ok "$1: $2 is not in the initramfs"
		return
	fi
	run_timed "$TEST_TIMEOUT" "$2"
	rc=$?
	if [ "$rc" -eq 0 ]; then ok "$1"; else not_ok "$1 (exit status $rc)"; fi
}

case $MODE in
test)
	round=1
	while [ $round -le "$REPEAT" ]; do
		[ "$REPEAT" -gt 1 ] && echo "# ===== round $round of $REPEAT ====="
		run_tests
		round=$((round + 1))
	done
	;;
demo) run_one demo /irqroute/examples/irqroute-demo ;;
bench) run_one bench /irqroute/bench/irqroute-bench ;;
fuzz)
	# irqroute-fuzz reports its own hangs (a worker 60 s late, with the
	# kernel stacks); this only bounds the rest.
	TEST_TIMEOUT=$((FUZZ_SECONDS + 300))
	export IRQROUTE_FUZZ_SECONDS="$FUZZ_SECONDS"
	[ -n "$FUZZ_SEED" ] && export IRQROUTE_FUZZ_SEED="$FUZZ_SEED"
	run_one fuzz /irqroute/fuzz/irqroute-fuzz
	;;
*) not_ok "unknown irqroute_mode=$MODE" ;;
esac

# --- teardown and kernel log ----------------------------------------------

echo "# ===== teardown ====="
# Processes left behind by the tests would keep irqroute busy; kill them
# (kernel threads have an empty cmdline; subshells of this script share it).
self=$(tr '\0' ' ' </proc/1/cmdline)
stray=""
stray_pids=""
for d in /proc/[0-9]*; do
	p=${d#/proc/}
	cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)
	[ "$p" = 1 ] || [ "$p" = "$HOLD_PID" ] || [ -z "$cmd" ] ||
		[ "$cmd" = "$self" ] && continue
	stray="$stray $p:$cmd"
	stray_pids="$stray_pids $p"
done
if [ -n "$stray" ]; then
	echo "# killing processes left behind by the tests:$stray"
	kill -KILL $stray_pids 2>/dev/null
	sleep 1
fi
tries=0
until rmmod irqroute 2>/tmp/rmmod.err; do
	tries=$((tries + 1))
	if [ $tries -ge 5 ]; then
		cat /tmp/rmmod.err
		grep irqroute /proc/modules
		break
	fi
	sleep 1
done
# Where irqroute.ko was, to read kmemleak's raw addresses after the rmmod.
[ "$KMEMLEAK" = 1 ] && grep '^irqroute ' /proc/modules | sed 's/^/# module: /'
if grep -q '^irqroute ' /proc/modules; then
	not_ok "rmmod irqroute"
else
	[ $tries -gt 0 ] && echo "# rmmod irqroute needed $tries retries"
	ok "rmmod irqroute"
fi

PATTERN='WARNING|BUG|Oops|Call Trace|KFENCE|slab error|general protection|detected stall|soft lockup|hard LOCKUP|refcount_t|corruption|UBSAN'
if [ "$KMEMLEAK" = 1 ]; then
	kmemleak_after
	# lockdep's "INFO: ..." reports and kmemleak's "N new suspected
	# memory leaks" (not its "memory leak detector initialized"); KASAN ("BUG: KASAN"), lockdep's "WARNING: ..." and
	# "BUG: sleeping function called from invalid context" match above.
	PATTERN="$PATTERN|INFO: |suspected memory leak"
	# lockdep switches itself off after its first report (or when it
	# runs out of table space): then it checked only part of the run.
	if grep -q 'debug_locks: *1$' /proc/lockdep_stats 2>/dev/null; then
		ok "lockdep on for the whole run (debug_locks: 1)"
	else
		grep -E 'debug_locks|lock-classes|direct dependencies' \
			/proc/lockdep_stats 2>/dev/null | sed 's/^/# /'
		not_ok "lockdep is off at the end of the run"
	fi
fi
dmesg >/tmp/dmesg.txt
# Only what happened after irqroute.ko was loaded is ours; if the marker
# has scrolled out of the ring buffer, check everything.
start=$(grep -n "$DMESG_MARK" /tmp/dmesg.txt | tail -n 1 | cut -d: -f1)
tail -n +"${start:-1}" /tmp/dmesg.txt | grep -E "$PATTERN" >/tmp/bad.txt
if [ -s /tmp/bad.txt ]; then
	sed 's/^/# dmesg: /' /tmp/bad.txt
	not_ok "kernel log shows warnings/bugs (above)"
else
	ok "kernel log clean (slub_debug, panic_on_warn)"
fi
if [ "$KMEMLEAK" = 1 ]; then
	# The debug kernel's checkers report anywhere: show what came before
	# irqroute.ko too (not irqroute's, but the run is not clean), and the
	# whole log with the traces when anything matched.
	head -n $((${start:-1} - 1)) /tmp/dmesg.txt | grep -E "$PATTERN" \
		>/tmp/bad-boot.txt
	if [ -s /tmp/bad-boot.txt ]; then
		sed 's/^/# dmesg-before-irqroute: /' /tmp/bad-boot.txt
		not_ok "kernel log before irqroute.ko was loaded shows warnings/bugs (above)"
	fi
	[ -s /tmp/bad.txt ] || [ -s /tmp/bad-boot.txt ] &&
		sed 's/^/# dmesg-full: /' /tmp/dmesg.txt
fi
tainted=$(cat /proc/sys/kernel/tainted)
# bit 9 = TAINT_WARN, bit 7 = TAINT_DIE (oops), bit 5 = TAINT_BAD_PAGE
if [ $((tainted & (512 | 128 | 32))) -ne 0 ]; then
	not_ok "kernel tainted ($tainted)"
fi

finish
