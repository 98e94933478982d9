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
#   irqroute_mode=test|demo|bench|fuzz|canary|qemu  what to run (default test)
#   irqroute_timeout=S              timeout of each test binary (default 300)
#   irqroute_only=a,b               run only these tests (debugging)
#   irqroute_repeat=N               run the tests N times (flake hunting)
#   irqroute_kmemleak=1             debug kernel (scripts/run-debug-tests.sh):
#                                   kmemleak scan before irqroute.ko (cleared)
#                                   and after its rmmod (a leak fails the
#                                   run); lockdep must still be on at the end
#   irqroute_fuzz_seconds=N         mode fuzz: how long irqroute-fuzz runs (60)
#   irqroute_fuzz_seed=S            mode fuzz: replay that seed
#   irqroute_e2e_*                  mode qemu: read by selftests/qemu/run-e2e.sh
#
# Counting, test mode: scripts/tap-count.sh (case by case; a case with a
# testbed fault is run again, nothing else is). Every case of the tests that
# ran is checked against the committed list /irqroute/tests/CASES (and
# CASES.faults where those tests run). The rmmod and the kernel-log checks
# count as one case each. R counts the reruns of a test binary; S the stray
# interrupts the L2 guests took (injected below KVM's APIC;
# selftests/lib/guest.h), which no test counts.

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
/bin/busybox --install -s

mount -t proc proc /proc
mount -t sysfs sysfs /sys
# The tests count KVM's trace events (selftests/lib/kvmtrace.c).
mount -t tracefs tracefs /sys/kernel/tracing
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

# PASSED, FAILED, RERUNS, STRAYS, run_timed, run_test_binary.
. /irqroute/tap-count.sh
DMESG_MARK="irqroute-vm: loading irqroute.ko"

ok() { tap_ok "$@"; }
not_ok() { tap_not_ok "$@"; }

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

# The tests count KVM's kvm_apic_accept_irq events, each in a tracefs
# instance of its own (selftests/lib/kvmtrace.c). A tracepoint's first
# probe flips a static key and its second switches a static call, both by
# patching kernel text, which under TCG can hang the VM like the
# scheduler's key above. Two instances that keep the event on for the
# whole run, recording nothing, make every test's probe the third or
# later: no patching while the tests run.
for keep in 0 1; do
	KEEP=/sys/kernel/tracing/instances/irqroute-keep$keep
	mkdir "$KEEP" && echo 0 >"$KEEP/tracing_on" &&
		echo 1 >"$KEEP/events/kvm/kvm_apic_accept_irq/enable" ||
		fatal "cannot enable kvm:kvm_apic_accept_irq (tracefs, kvm's trace events?)"
done

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

# irqroute's own trace events (trace_test): kept on in the same two
# instances, for the same reason, each time irqroute.ko has been loaded
# anew (module_test reloads it). Writing 1 where they are on already
# patches nothing.
keep_irqroute_events() {
	for keep in 0 1; do
		e=/sys/kernel/tracing/instances/irqroute-keep$keep/events/irqroute/enable
		[ -e "$e" ] || continue
		[ "$(cat "$e")" = 1 ] || echo 1 >"$e" ||
			echo "# cannot enable irqroute's events in irqroute-keep$keep"
	done
}

[ -f /irqroute/irqroute.ko ] || fatal "no irqroute.ko in the initramfs"
# On the console: vm-run.sh tells a crash before this line (the boot, not
# ours: it may boot again) from one after it, irqroute's module_init
# included (always a failure).
echo "# loading irqroute.ko"
echo "<6>$DMESG_MARK" >/dev/kmsg
insmod /irqroute/irqroute.ko || fatal "insmod irqroute.ko failed"
[ -c /dev/irqroute ] || fatal "/dev/irqroute missing after insmod"
# Only where trace_test may run: a benchmark measures with them off.
[ "$MODE" = test ] && keep_irqroute_events
echo "# irqroute.ko loaded"
awk '$1 == "irqroute" { print "# module", $1, $2, $6 }' /proc/modules
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

# Trace instances of a test that died before removing them
# (selftests/lib/kvmtrace.c): 8 MiB of buffers each. $1 = the test.
drop_trace_leftovers() {
	for d in /sys/kernel/tracing/instances/irqroute-[0-9]*; do
		[ -d "$d" ] || continue
		echo "# removing $1's leftover trace instance ${d##*/}"
		rmdir "$d"
	done
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
		run_test_binary "$t"
		drop_trace_leftovers "$t"
		keep_irqroute_events
	done
	cd /
}

# Processes left behind by the tests would keep irqroute busy; kill them
# (kernel threads have an empty cmdline; subshells of this script share it).
kill_leftovers() {
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
}

# Mode canary: each module of /irqroute/canary/ has one known bug
# (module/canary.h); the tests named for it in CANARIES must fail with it
# loaded. Counted: one case per canary, passed when it was caught. The
# binaries run in list order and stop at the first one that catches it.
run_canaries() {
	rmmod irqroute || fatal "rmmod irqroute before the canaries"
	cd /irqroute/tests || fatal "no /irqroute/tests"
	while read -r canary tests; do
		echo "# ===== canary $canary: $tests ====="
		insmod "/irqroute/canary/$canary.ko" ||
			{ not_ok "canary $canary: insmod failed"; continue; }
		caught=""
		for t in $(echo "$tests" | tr , ' '); do
			p0=$PASSED f0=$FAILED r0=$RERUNS
			run_test_binary "$t"
			drop_trace_leftovers "$t"
			f=$((FAILED - f0))
			# These results are the canary's, not the suite's.
			PASSED=$p0 FAILED=$f0 RERUNS=$r0
			if [ "$f" -gt 0 ]; then
				caught=$t
				break
			fi
		done
		kill_leftovers
		rmmod irqroute || not_ok "canary $canary: rmmod failed"
		if [ -n "$caught" ]; then
			ok "canary $canary caught by $caught"
		else
			not_ok "canary $canary survived $tests"
		fi
	done </irqroute/canary/CANARIES
	cd /
	insmod /irqroute/irqroute.ko || fatal "insmod irqroute.ko after the canaries"
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

# Mode qemu: the end-to-end test with a real VMM (selftests/qemu/run-e2e.sh,
# bounded by the test timeout; each QEMU run inside by its own). Its cases
# come back in /tmp/e2e.result ("passed failed reruns").
run_e2e() {
	echo "# ===== qemu end-to-end ====="
	if [ ! -x /irqroute/qemu/run-e2e.sh ]; then
		not_ok "e2e: /irqroute/qemu/run-e2e.sh is not in the initramfs"
		return
	fi
	rm -f /tmp/e2e.result
	run_timed "$TEST_TIMEOUT" /irqroute/qemu/run-e2e.sh
	rc=$?
	if [ ! -s /tmp/e2e.result ]; then
		not_ok "e2e: run-e2e.sh gave no result (exit status $rc)"
		return
	fi
	read -r p f r </tmp/e2e.result
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	RERUNS=$((RERUNS + ${r:-0}))
	[ "$p" -gt 0 ] || not_ok "e2e: no case passed"
	[ "$rc" = 0 ] || not_ok "e2e: run-e2e.sh exit status $rc"
}

case $MODE in
test)
	round=1
	while [ $round -le "$REPEAT" ]; do
		[ "$REPEAT" -gt 1 ] && echo "# ===== round $round of $REPEAT ====="
		run_tests
		round=$((round + 1))
	done
	lists=/irqroute/tests/CASES
	if [ -e /proc/thread-self/fail-nth ]; then
		lists="$lists /irqroute/tests/CASES.faults"
	elif [ "$KMEMLEAK" = 1 ]; then
		# The debug kernel is the one that runs the fault tests.
		not_ok "debug kernel without fail-nth: $(tr '\n' ' ' </irqroute/tests/TESTS.faults)not run"
	fi
	check_case_list "$lists" "$ONLY"
	;;
canary) run_canaries ;;
qemu) run_e2e ;;
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
kill_leftovers
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
