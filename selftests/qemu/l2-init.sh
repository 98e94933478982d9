#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the L2 guest of the end-to-end test (scripts/mkinitramfs-l2.sh;
# run by selftests/qemu/run-e2e.sh in L1, under the VMM being tested). The
# VMM passes an NVMe controller through to this guest. Its own nvme driver
# reads from it in several processes while this script, under the driver:
#   1. masks and unmasks every vector the driver uses through the mask bit
#      of its MSI-X table entry, then sets and clears the MSI-X function
#      mask (message control bit 14, through config space): e2e_cycles
#      times;
#   2. takes cpu1 offline and online again, which shuts down and restarts
#      the managed interrupt of cpu1's queue, then does one mask cycle:
#      e2e_hotplugs times;
#   3. with the readers stopped, masks the vector of cpu1's queue (then, in
#      a second round, the whole function), reads one block on cpu1 and
#      checks the PBA: the pending bit must come up while masked, the
#      completion must not arrive, and after unmask it must arrive and the
#      bit clear: e2e_pba times each.
# Then it checks that every read completed, in full, that the kernel log
# since the driver was loaded has no timeout, abort, reset or I/O error,
# and that every I/O queue's interrupt count grew. One verdict line:
#   E2E: passed <summary>
#   E2E: failed <why>[; <why>...]
# then "E2E-COUNTS: ..." (for the L1 side's per-cycle numbers), E2E-DONE,
# e2e_hold seconds (the L1 side reads the VMM's irqroute counters then) and
# poweroff.
#
# Each phase is framed by one-byte writes to the controller's Cache Line
# Size register (l2-msix mark): 0xa1/0xa2 mask cycles, 0xa3/0xa4 hotplug,
# 0xa5/0xa6 PBA. The VMM passes them on to VFIO as pwrite()s, which the L1
# side finds in the VMM's strace log to count each phase's system calls.
#
# Kernel command line: e2e_cycles=N (200), e2e_hotplugs=N (4), e2e_pba=N
# (3), e2e_io=N reader processes (3), e2e_hold=S (10).

PATH=/bin
export PATH
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp

CYCLES=200
HOTPLUGS=4
PBA=3
IO=3
HOLD=10
for arg in $(cat /proc/cmdline); do
	case $arg in
	e2e_cycles=*) CYCLES=${arg#*=} ;;
	e2e_hotplugs=*) HOTPLUGS=${arg#*=} ;;
	e2e_pba=*) PBA=${arg#*=} ;;
	e2e_io=*) IO=${arg#*=} ;;
	e2e_hold=*) HOLD=${arg#*=} ;;
	esac
done

MSIX=/e2e/l2-msix
DISK=/dev/nvme0n1
IO_BLOCKS=64	# 4 KiB blocks per read
FAILS=""
SUMMARY=""
PBA_OK=0
HOTPLUGGED=0
DONE_CYCLES=0

uptime_s() { cut -d' ' -f1 /proc/uptime; }
info() { echo "E2E-INFO: [$(uptime_s)] $*"; }
fail() {
	FAILS="$FAILS${FAILS:+; }$*"
	echo "E2E: check failed: $*"
}

finish() {
	if [ -z "$FAILS" ]; then
		echo "E2E: passed $SUMMARY"
	else
		echo "E2E: failed $FAILS"
	fi
	echo "E2E-COUNTS: cycles=$DONE_CYCLES vectors=${NVEC:-0} hotplugs=$HOTPLUGGED pba_ok=$PBA_OK"
	echo "E2E-DONE"
	sleep "$HOLD"
	poweroff -f
	sleep 5
	echo o >/proc/sysrq-trigger
}

abort() {
	fail "$*"
	[ -n "${IO_STARTED:-}" ] && stop_io
	finish
}

# --- interrupts -------------------------------------------------------------

# "irq qid count" for each nvme0 queue; the count summed over the CPUs
# online (an offline CPU's column is not shown).
nvme_irqs() {
	awk '$NF ~ /^nvme0q[0-9]+$/ {
		irq = $1; sub(":", "", irq); n = 0
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i
		q = $NF; sub("nvme0q", "", q); print irq, q, n }' /proc/interrupts
}
irq_count() {	# $1 = irq
	nvme_irqs | awk -v irq="$1" '$1 == irq { print $3 }'
}
irqs_total() {
	nvme_irqs | awk '{ n += $3 } END { print n + 0 }'
}

# --- readers ----------------------------------------------------------------

# Reader $1: 256 KiB direct reads at spread offsets until /tmp/io.stop,
# each checked for its exit status and its full record count. The number
# done so far is in /tmp/io.$1.n; a failure in /tmp/io.$1.fail.
io_loop() {
	n=0
	while [ ! -e /tmp/io.stop ]; do
		skip=$(((n * 97 + $1 * 4099) % SPAN))
		if ! dd if=$DISK of=/dev/null bs=4k count=$IO_BLOCKS \
			skip=$skip iflag=direct 2>"/tmp/io.$1.err"; then
			echo "reader $1: dd failed: $(tr '\n' ' ' <"/tmp/io.$1.err")" \
				>"/tmp/io.$1.fail"
			break
		fi
		if ! grep -q "^$IO_BLOCKS+0 records in" "/tmp/io.$1.err"; then
			echo "reader $1: short read: $(tr '\n' ' ' <"/tmp/io.$1.err")" \
				>"/tmp/io.$1.fail"
			break
		fi
		n=$((n + 1))
		# Renamed into place: io_done never reads a half-written file.
		echo $n >"/tmp/io.$1.n.new"
		mv "/tmp/io.$1.n.new" "/tmp/io.$1.n"
	done
	echo $n >"/tmp/io.$1.done"
}

io_done() {	# reads completed so far, all readers
	t=0
	for k in $(seq "$IO"); do
		t=$((t + $(cat "/tmp/io.$k.n" 2>/dev/null || echo 0)))
	done
	echo $t
}

start_io() {
	rm -f /tmp/io.*
	IO_PIDS=""
	for k in $(seq "$IO"); do
		io_loop "$k" &
		IO_PIDS="$IO_PIDS $!"
	done
	IO_STARTED=1
}

# Where a reader that does not stop is: it and its children (state,
# wait channel, kernel stack), then the kernel's blocked tasks (sysrq-w).
dump_reader() {	# $1 = reader number
	# shellcheck disable=SC2086 # unquoted: the leading blank goes
	pid=$(echo $IO_PIDS | cut -d' ' -f"$1")
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		[ "$p" = "$pid" ] || grep -q "^PPid:[[:space:]]*$pid\$" "$d/status" 2>/dev/null ||
			continue
		echo "E2E-INFO: reader $1: pid $p $(tr '\0' ' ' <"$d/cmdline") $(grep '^State:' "$d/status") wchan $(cat "$d/wchan")"
		sed 's/^/E2E-INFO:     /' "$d/stack" 2>/dev/null
	done
	echo "E2E-INFO: reader $1: last read $(cat "/tmp/io.$1.n" 2>/dev/null), dd: $(tr '\n' ' ' <"/tmp/io.$1.err" 2>/dev/null)"
	echo w >/proc/sysrq-trigger
}

# Stop the readers and wait for each (a read whose completion was lost
# would hang until the driver's 30 s timeout: allow 120 s).
stop_io() {
	IO_STARTED=""
	touch /tmp/io.stop
	i=0
	for k in $(seq "$IO"); do
		while [ ! -e "/tmp/io.$k.done" ] && [ $i -lt 1200 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if [ ! -e "/tmp/io.$k.done" ]; then
			fail "reader $k still running 120 s after the stop"
			dump_reader "$k"
		elif [ -e "/tmp/io.$k.fail" ]; then
			fail "$(cat "/tmp/io.$k.fail")"
		elif [ "$(cat "/tmp/io.$k.done")" -lt 1 ]; then
			fail "reader $k completed no read"
		fi
	done
}

mark() {	# $1 = byte: a phase marker for the L1 side
	$MSIX "$BDF" mark "$1" >/dev/null || fail "marker $1 not written"
}

# --- start ------------------------------------------------------------------

info "L2 up: $(uname -r), $(nproc) CPUs"
# Booted quiet (faster); from here on every kernel message goes to the
# console, and a task blocked for 30 s is reported, so that a guest that
# stops shows where.
echo 8 >/proc/sys/kernel/printk
echo 30 >/proc/sys/kernel/hung_task_timeout_secs
# What the quiet boot did not show: its warnings (the checks below look
# at what comes after the driver is loaded).
dmesg | grep -A 30 -E 'WARNING|BUG|Call Trace' | sed 's/^/E2E-BOOT-DMESG: /'
[ "$(nproc)" -ge 2 ] || abort "needs 2 CPUs (cpu1 hotplug), has $(nproc)"

echo "<6>e2e: loading nvme" >/dev/kmsg
while read -r m; do
	insmod "/e2e/kmod/$m.ko" || abort "insmod $m failed"
done </e2e/kmod/ORDER
# Where they and the kernel are (KASLR), for the L1 side to name a
# stopped vCPU's RIP.
awk '{ print "E2E-MODULE", $1, $2, $6 }' /proc/modules
awk '$3 == "_text" { print "E2E-KTEXT", $1 }' /proc/kallsyms

BDF=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1b36:0x0010 ] &&
		BDF=${d##*/}
done
[ -n "$BDF" ] || abort "no NVMe controller (1b36:0010) in the guest"
i=0
until [ -b $DISK ]; do
	i=$((i + 1))
	[ $i -lt 600 ] || abort "$DISK did not appear within 60 s of loading nvme"
	sleep 0.1
done
DRV=$(basename "$(readlink "/sys/bus/pci/devices/$BDF/driver")")
[ "$DRV" = nvme ] || abort "$BDF is bound to '$DRV', not nvme"
MSIX_INFO=$($MSIX "$BDF" info) || abort "cannot read $BDF's MSI-X capability"
info "$BDF: $MSIX_INFO"
case $MSIX_INFO in
*" enabled=1 fmask=0") ;;
*) abort "MSI-X not enabled, or function masked, on $BDF" ;;
esac
TABLE_SIZE=$(echo "$MSIX_INFO" | sed -E 's/.* nvec=([0-9]+) .*/\1/')

nvme_irqs >/tmp/irqs.start
info "nvme interrupts (irq qid count): $(tr '\n' ',' </tmp/irqs.start)"
# Each queue's vector is its qid (the driver's cq_vector); the PBA check
# below shows it, as the mask of vector qid then holds that queue's MSI.
VECS=$(awk '{ print $2 }' /tmp/irqs.start | sort -n | tr '\n' ' ')
NVEC=$(echo "$VECS" | wc -w)
[ "$NVEC" -ge 2 ] || abort "nvme uses $NVEC vector(s): want the admin queue's and one per CPU"
for v in $VECS; do
	[ "$v" -lt "$TABLE_SIZE" ] || abort "queue $v beyond the MSI-X table ($TABLE_SIZE)"
done
# cpu1's queue, for the PBA check.
PBA_IRQ="" PBA_VEC=""
while read -r irq q _; do
	[ "$q" = 0 ] && continue
	[ "$(cat "/proc/irq/$irq/effective_affinity_list")" = 1 ] &&
		PBA_IRQ=$irq PBA_VEC=$q
done </tmp/irqs.start
[ -n "$PBA_IRQ" ] || abort "no nvme queue's interrupt targets cpu1"
info "vectors $VECS; cpu1's queue: vector $PBA_VEC, irq $PBA_IRQ"

SECTORS=$(cat /sys/block/nvme0n1/size)
SPAN=$((SECTORS / 8 - IO_BLOCKS))
[ "$SPAN" -gt 0 ] || abort "namespace too small ($SECTORS sectors)"
CLS=$($MSIX "$BDF" mark 0) || abort "cannot write $BDF's config space"
$MSIX "$BDF" mark "$CLS" >/dev/null

# --- 1. mask cycles under I/O -------------------------------------------------

start_io
sleep 2
io0=$(io_done)
irq0=$(irqs_total)
t0=$(uptime_s)
mark 0xa1
# shellcheck disable=SC2086
if OUT=$($MSIX "$BDF" cycles "$CYCLES" $VECS); then
	DONE_CYCLES=$CYCLES
else
	fail "mask cycles: $OUT"
fi
mark 0xa2
info "mask phase: $OUT in $(echo "$(uptime_s) $t0" | awk '{ print $1 - $2 }') s, reads done $((\
$(io_done) - io0)), nvme interrupts +$(($(irqs_total) - irq0))"
[ "$(io_done)" -gt "$io0" ] || fail "no read completed during the mask cycles"

# --- 2. cpu1 offline/online --------------------------------------------------

CPU1=/sys/devices/system/cpu/cpu1/online
mark 0xa3
for h in $(seq "$HOTPLUGS"); do
	echo 0 >$CPU1 || { fail "cpu1 offline failed (round $h)"; break; }
	[ "$(cat $CPU1)" = 0 ] || { fail "cpu1 still online (round $h)"; break; }
	echo 1 >$CPU1 || { fail "cpu1 online failed (round $h)"; break; }
	# shellcheck disable=SC2086
	$MSIX "$BDF" cycles 1 $VECS >/dev/null ||
		{ fail "mask cycle after hotplug round $h"; break; }
	HOTPLUGGED=$h
done
mark 0xa4
aff=$(cat "/proc/irq/$PBA_IRQ/effective_affinity_list")
[ "$aff" = 1 ] || fail "cpu1's queue interrupt targets cpu $aff after the hotplug"
info "hotplug phase: $HOTPLUGGED rounds, reads done $(($(io_done) - io0)) since the start"

stop_io
READS=$(io_done)

# --- 3. PBA ------------------------------------------------------------------

pba_check() {	# $1 = vector|function, $2 = round
	what="pba $1 mask, round $2"
	p=$($MSIX "$BDF" pba "$PBA_VEC")
	[ "$p" = 0 ] || { fail "$what: pending bit set before masking"; return; }
	c0=$(irq_count "$PBA_IRQ")
	if [ "$1" = vector ]; then
		$MSIX "$BDF" mask "$PBA_VEC" || { fail "$what: mask"; return; }
	else
		$MSIX "$BDF" fmask 1 || { fail "$what: function mask"; return; }
	fi
	taskset -c 1 dd if=$DISK of=/dev/null bs=4k count=1 \
		skip=$((2 * $2 + 7)) iflag=direct 2>/tmp/pba.err &
	ddpid=$!
	i=0
	while [ "$($MSIX "$BDF" pba "$PBA_VEC")" != 1 ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	p1=$($MSIX "$BDF" pba "$PBA_VEC")
	sleep 1
	alive=no
	kill -0 $ddpid 2>/dev/null && alive=yes
	c1=$(irq_count "$PBA_IRQ")
	if [ "$1" = vector ]; then
		$MSIX "$BDF" unmask "$PBA_VEC" || fail "$what: unmask"
	else
		$MSIX "$BDF" fmask 0 || fail "$what: function unmask"
	fi
	i=0
	while kill -0 $ddpid 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 $ddpid 2>/dev/null; then
		fail "$what: the read did not complete within 20 s of the unmask"
		kill $ddpid
	fi
	wait $ddpid
	rc=$?
	p2=$($MSIX "$BDF" pba "$PBA_VEC")
	c2=$(irq_count "$PBA_IRQ")
	ok=1
	[ "$p1" = 1 ] || { fail "$what: pending bit not set while masked (10 s)"; ok=0; }
	[ $alive = yes ] || { fail "$what: the read completed while masked"; ok=0; }
	[ "$c1" = "$c0" ] || { fail "$what: $((c1 - c0)) interrupt(s) delivered while masked"; ok=0; }
	{ [ $rc = 0 ] && grep -q '^1+0 records in' /tmp/pba.err; } ||
		{ fail "$what: read failed: $(tr '\n' ' ' </tmp/pba.err)"; ok=0; }
	[ "$p2" = 0 ] || { fail "$what: pending bit still set after unmask"; ok=0; }
	[ "$c2" -gt "$c1" ] || { fail "$what: no interrupt after unmask"; ok=0; }
	[ $ok = 1 ] && PBA_OK=$((PBA_OK + 1))
	info "$what: pba $p -> $p1 (masked, read pending: $alive) -> $p2, irq $c0 -> $c1 -> $c2"
}

mark 0xa5
for r in $(seq "$PBA"); do
	pba_check vector "$r"
	pba_check function "$r"
done
mark 0xa6
$MSIX "$BDF" mark "$CLS" >/dev/null

# --- checks -------------------------------------------------------------------

nvme_irqs >/tmp/irqs.end
info "nvme interrupts at the end (irq qid count): $(tr '\n' ',' </tmp/irqs.end)"
while read -r irq q n; do
	[ "$q" = 0 ] && continue
	n0=$(awk -v irq="$irq" '$1 == irq { print $3 }' /tmp/irqs.start)
	[ "$n" -gt "${n0:-0}" ] ||
		fail "queue $q (irq $irq): no interrupt during the run ($n0 -> $n)"
done </tmp/irqs.end
IRQS=$(($(awk '{ n += $3 } END { print n + 0 }' /tmp/irqs.end) - \
	$(awk '{ n += $3 } END { print n + 0 }' /tmp/irqs.start)))

dmesg >/tmp/dmesg.txt
sed -n '/e2e: loading nvme/,$p' /tmp/dmesg.txt >/tmp/dmesg.run
grep -E 'timeout|[Aa]bort|reset|I/O error|nobody cared|WARNING|BUG|Call Trace' \
	/tmp/dmesg.run >/tmp/dmesg.bad
if [ -s /tmp/dmesg.bad ]; then
	sed 's/^/E2E-DMESG: /' /tmp/dmesg.bad
	fail "kernel log: $(wc -l </tmp/dmesg.bad) line(s) of timeout/abort/reset/error (above)"
fi
[ "$PBA_OK" = $((2 * PBA)) ] || fail "PBA checks: $PBA_OK of $((2 * PBA)) passed"

SUMMARY="cycles=$DONE_CYCLES vectors=$NVEC hotplugs=$HOTPLUGGED pba=$PBA_OK/$((2 * PBA)) reads=$READS read_mib=$((READS * IO_BLOCKS * 4 / 1024)) nvme_irqs=+$IRQS"
finish
