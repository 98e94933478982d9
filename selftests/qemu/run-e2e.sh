#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The end-to-end test of issue 15, "a real VMM drives it" (L1 side, busybox
# sh; vm-init.sh runs it in mode qemu, after loading KVM, VFIO and
# irqroute.ko). The outer QEMU gave L1 an NVMe controller (vm-run.sh --mode
# qemu); this binds it to vfio-pci and passes it through, with QEMU under
# KVM, to an L2 Linux guest whose own nvme driver reads from it while the
# guest masks and unmasks the vectors (selftests/qemu/l2-init.sh). The same
# guest runs once per run of irqroute_e2e_runs:
#   control    -accel kvm               QEMU's own MSI-X masking
#   irqroute   -accel kvm,irqroute=on   QEMU's MSI-X through libirqroute
# Each QEMU runs under strace -f (ioctl and pwrite64 only): per run, the
# VFIO_DEVICE_SET_IRQS, KVM_SET_GSI_ROUTING, KVM_IRQFD and irqroute ioctls
# in all, and in each of the guest's phases (framed by its marker writes,
# see l2-init.sh), divided by the cycles the guest reports. When the guest
# prints E2E-DONE, irqroute-peek reads QEMU's irqroute counters.
#
# Results are "ok - ..." / "not ok - ..." lines (tap-count.sh); the counts
# go to /tmp/e2e.result ("passed failed"), which vm-init.sh adds to its
# verdict. Table lines start with "# e2e-table: " (vm-run.sh collects them).
#
# Kernel command line (vm-run.sh): irqroute_e2e_runs=control,irqroute;
# irqroute_e2e_cycles=N (200); irqroute_e2e_hotplugs=N (4);
# irqroute_e2e_pba=N (3); irqroute_e2e_run_timeout=S per QEMU run (480; a
# guest whose console is silent for 240 s once it is up is stopped sooner).
# A run stopped for either is reported with where L2's vCPUs were (QEMU's
# monitor), the kernel stacks of QEMU's threads in L1, and L1's kernel log.

E2E=/irqroute/qemu
QEMU=$E2E/qemu-system-x86_64
RUNS="control irqroute"
CYCLES=200
HOTPLUGS=4
PBA=3
RUN_TIMEOUT=480
SILENCE=240
L2_MEM=384
for arg in $(cat /proc/cmdline); do
	case $arg in
	irqroute_e2e_runs=*) RUNS=$(echo "${arg#*=}" | tr , ' ') ;;
	irqroute_e2e_cycles=*) CYCLES=${arg#*=} ;;
	irqroute_e2e_hotplugs=*) HOTPLUGS=${arg#*=} ;;
	irqroute_e2e_pba=*) PBA=${arg#*=} ;;
	irqroute_e2e_run_timeout=*) RUN_TIMEOUT=${arg#*=} ;;
	esac
done

PASSED=0
FAILED=0
# tap_ok, tap_not_ok
. /irqroute/tap-count.sh
ok() { tap_ok "e2e: $*"; }
not_ok() { tap_not_ok "e2e: $*"; }
say() { echo "# e2e: $*"; }
table() { echo "# e2e-table: $*"; }

end() {
	echo "$PASSED $FAILED ${RERUNS:-0}" >/tmp/e2e.result
	exit 0
}
fatal() {
	not_ok "$*"
	end
}

# --- what the runs need -------------------------------------------------------

[ -x "$QEMU" ] || fatal "no $QEMU in the initramfs"
QEMU_VERSION=$($QEMU --version 2>&1 | head -n1)
case $QEMU_VERSION in
"QEMU emulator version"*) say "$QEMU_VERSION ($(cat $E2E/qemu-bin.txt))" ;;
*) fatal "$QEMU does not run: $QEMU_VERSION (libraries missing?)" ;;
esac
strace -V >/dev/null 2>&1 || fatal "strace does not run (not in the initramfs?)"
for f in bios-256k.bin linuxboot_dma.bin kvmvapic.bin; do
	[ -s "$E2E/firmware/$f" ] || fatal "no firmware $f in $E2E/firmware"
done
for f in l2/vmlinuz l2/initramfs.cpio.gz irqroute-peek irqroute-peek.so \
	 irqroute-ioctls; do
	[ -s "$E2E/$f" ] || fatal "no $E2E/$f in the initramfs"
done
[ -c /dev/kvm ] || fatal "no /dev/kvm"
[ -c /dev/irqroute ] || fatal "no /dev/irqroute"

BDF=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1b36:0x0010 ] &&
		BDF=${d##*/}
done
[ -n "$BDF" ] || fatal "no NVMe controller (1b36:0010) in L1 (vm-run.sh --mode qemu adds one)"
echo 1b36 0010 >/sys/bus/pci/drivers/vfio-pci/new_id ||
	fatal "cannot give 1b36:0010 to vfio-pci"
i=0
until [ "$(basename "$(readlink "/sys/bus/pci/devices/$BDF/driver")")" = vfio-pci ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || fatal "$BDF not bound to vfio-pci"
	sleep 0.1
done
GROUP=$(basename "$(readlink "/sys/bus/pci/devices/$BDF/iommu_group")")
[ -c "/dev/vfio/$GROUP" ] || fatal "no /dev/vfio/$GROUP for $BDF"
say "NVMe controller $BDF, IOMMU group $GROUP, bound to vfio-pci"

# --- the strace log -------------------------------------------------------------

# Count the ioctls of a strace -f -xx log: "name count failed" per request
# (and "failed name <strace line>" for the first three failures of each),
# all of the log or only what lies between the marker writes of byte FROM
# and TO (pwrite64 of that one byte, see l2-init.sh); "markers F T" says
# whether both were found. irqroute's requests are named from the uapi
# header ($E2E/irqroute-ioctls: "0x<nr> NAME").
count_ioctls() {	# $1 = log, $2 = from (or ""), $3 = to
	awk -v from="$2" -v to="$3" -v names="$E2E/irqroute-ioctls" '
	BEGIN {
		while ((getline l < names) > 0) {
			split(l, f, " ")
			irname[f[1]] = f[2]
		}
		inwin = (from == "")
	}
	{
		pid = ($1 ~ /^[0-9]+$/) ? $1 : 0
	}
	/pwrite64\(/ {
		lastpw[pid] = $0
	}
	/pwrite64\([0-9]+, "\\x[0-9a-f][0-9a-f]", 1, / {
		b = $0
		sub(/.*pwrite64\([0-9]+, "\\x/, "", b)
		b = substr(b, 1, 2)
		if (b == from && !seen_from) { inwin = 1; seen_from = 1 }
		else if (b == to && seen_from && !seen_to) { inwin = 0; seen_to = 1 }
		next
	}
	/<\.\.\. ioctl resumed>/ {
		if (pid in pend) {
			if ($0 ~ /\) += -1 /)
				fail(pend[pid], pendline[pid] " ... " $0)
			delete pend[pid]
		}
		next
	}
	/ioctl\([0-9]+, / {
		if (!inwin)
			next
		r = $0
		sub(/.*ioctl\([0-9]+, /, "", r)
		if (r ~ /^_IOC\(/) {
			split(r, f, ", ")
			name = (f[2] == "0xe1") ? "IRQROUTE_" (f[3] in irname ? irname[f[3]] : f[3]) : "_IOC_" f[2] "_" f[3]
		} else {
			match(r, /^[A-Za-z0-9_]+/)
			name = substr(r, 1, RLENGTH)
		}
		count[name]++
		if ($0 ~ /<unfinished \.\.\.>/) {
			pend[pid] = name
			pendline[pid] = $0
		} else if ($0 ~ /\) += -1 /) {
			fail(name, $0)
		}
	}
	function fail(n, l) {
		if (failed[n]++ < 3)
			sample[n] = sample[n] "failed " n " " l (pid in lastpw ? " (after " lastpw[pid] ")" : "") "\n"
	}
	END {
		for (n in count)
			print n, count[n], failed[n] + 0
		for (n in sample)
			printf "%s", sample[n]
		if (from != "")
			print "markers", seen_from + 0, seen_to + 0
	}' "$1"
}

get() {	# $1 = counts file, $2 = name: its count (0 if absent)
	awk -v n="$2" '$1 == n && NF == 3 { c = $2 } END { print c + 0 }' "$1"
}
irqroute_total() {	# $1 = counts file
	awk '$1 ~ /^IRQROUTE_/ && $1 != "IRQROUTE_GET_STATS" && NF == 3 { c += $2 } END { print c + 0 }' "$1"
}
per() {	# $1 / $2 with two decimals, "-" if $2 is 0
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'
}

# --- one run ------------------------------------------------------------------

# What an L2 guest prints when it is in trouble: its own failed checks,
# the nvme driver's timeouts (an interrupt that did not come), the hung-
# task, lockup and RCU-stall detectors. A reset after any of them is a
# failure, never a testbed fault.
L2_TROUBLE='^E2E: check failed|nvme.* timeout|blocked for more than|soft lockup|hard LOCKUP|rcu.*stall'

# Show the guest's console lines not shown yet ($1 = run, $2 = log).
SHOWN=0
show_console() {
	n=$({ wc -l <"$2"; } 2>/dev/null || echo 0)
	[ "$n" -gt "$SHOWN" ] || return 0
	sed -n "$((SHOWN + 1)),${n}p" "$2" | tr -d '\r' | sed "s/^/# l2 $1: /"
	SHOWN=$n
}

peek() {	# $1 = run, $2 = dir: read the irqroute counters of the running QEMU
	qpid=$(cat "$2/qemu.pid" 2>/dev/null)
	if [ -z "$qpid" ]; then
		not_ok "$1: no QEMU pid file"
		return
	fi
	$E2E/irqroute-peek "$qpid" >"$2/peek.txt" 2>&1
	echo "peek rc=$?" >>"$2/peek.txt"
	sed "s/^/# e2e: $1: irqroute-peek: /" "$2/peek.txt"
	# The thread irqroute-peek.so runs in QEMU answers on the FIFO.
	timeout 30 sh -c "echo stats >'$2/peek.fifo'" ||
		not_ok "$1: irqroute-peek.so in QEMU did not take the request"
	i=0
	until [ -s "$2/stats.txt" ] || [ $i -ge 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sed "s/^/# e2e: $1: in QEMU: /" "$2/stats.txt" 2>/dev/null
}

# An HMP command to QEMU's monitor ($1 = dir, $2 = command): prints what
# it answered within $3 seconds (default 2; a vCPU thread that does not
# leave KVM_RUN delays "info registers").
mon() {
	o=$(wc -c <"$1/mon.txt")
	printf '%s\n' "$2" >"$1/mon.in" &
	sleep "${3:-2}"
	tail -c +$((o + 1)) "$1/mon.txt" | tr -d '\r'
}

# Where code at a kernel address is ($1 = 16 hex digits, $2 = the run's
# console, with L2's E2E-KTEXT and E2E-MODULE lines): L1's kernel or a
# module of L1 (/proc/kallsyms, /proc/modules), or L2's kernel (the same
# build as L1's: L1's symbols shifted to where L2's _text is) or an L2
# module. Only the low 32 bits are compared (awk's numbers are doubles);
# kernel text is all in ffffffff........
where() {
	awk -v rip="$1" -v console="$2" '
	function hexval(h,  i, v) {
		v = 0
		h = tolower(h)
		for (i = 1; i <= length(h); i++)
			v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
		return v
	}
	function lo(a) { sub(/^0x/, "", a); return hexval(substr(a, 9, 8)) }
	BEGIN {
		if (substr(rip, 1, 8) != "ffffffff") {
			print "not kernel code"
			exit
		}
		r = lo(rip)
		while ((getline l < "/proc/modules") > 0) {
			split(l, f, " ")
			if (r >= lo(f[6]) && r < lo(f[6]) + f[2])
				l1mod = sprintf("[%s]+0x%x", f[1], r - lo(f[6]))
		}
		while ((getline l < console) > 0) {
			if (l ~ /^E2E-KTEXT /) {
				split(l, f, " ")
				l2text = lo(f[2])
			}
			if (l !~ /^E2E-MODULE /)
				continue
			split(l, f, " ")
			if (r >= lo(f[4]) && r < lo(f[4]) + f[3])
				l2mod = sprintf("[%s]+0x%x", f[2], r - lo(f[4]))
		}
		n = 0
		while ((getline l < "/proc/kallsyms") > 0) {
			split(l, f, " ")
			if (f[4] != "" || f[2] !~ /^[tT]$/ || substr(f[1], 1, 8) != "ffffffff")
				continue
			a = lo(f[1])
			if (f[3] == "_text")
				t0 = a
			if (f[3] == "_etext")
				t1 = a
			addr[n] = a
			name[n++] = f[3]
		}
		l2 = r - l2text + t0
		if (t0 && r >= t0 && r < t1)
			l1 = sym(r)
		if (t0 && l2text && l2 >= t0 && l2 < t1)
			l2k = sym(l2)
		out = ""
		if (l1mod != "") out = out " L1:" l1mod
		if (l1 != "") out = out " L1:" l1
		if (l2mod != "") out = out " L2:" l2mod
		if (l2k != "") out = out " L2:" l2k
		print (out == "" ? "unknown" : substr(out, 2))
	}
	function sym(v,  i, b) {
		b = -1
		for (i = 0; i < n; i++)
			if (addr[i] <= v && (b < 0 || addr[i] > addr[b]))
				b = i
		return b < 0 ? "" : sprintf("%s+0x%x", name[b], v - addr[b])
	}'
}

# The vCPUs of a stopped or stuck L2: RIP (named by where()), CPL, CR3.
vcpus() {	# $1 = run, $2 = dir
	mon "$2" "info registers -a" 10 >"$2/regs.txt"
	awk '/^CPU#/ { cpu = $1 } /^RIP=/ { print cpu, $1, $4 " " $8 } /^CR0=/ { print cpu, $2, $3 }' \
		"$2/regs.txt" | while read -r cpu a b; do
		case $a in
		RIP=*) echo "# e2e: $1: $cpu ${a} ${b} ($(where "${a#RIP=}" "$2/console.txt"))" ;;
		*) echo "# e2e: $1: $cpu $a $b" ;;
		esac
	done
}

# A run that stopped making progress: where L2's vCPUs are (QEMU's
# monitor, bounded: it needs the vCPU threads to leave KVM_RUN), where
# QEMU's threads are in L1's kernel, what L1's kernel said; then kill it.
stuck() {	# $1 = run, $2 = dir
	qpid=$(cat "$2/qemu.pid" 2>/dev/null)
	say "$1: ----- stuck: L2 vCPUs (QEMU monitor) -----"
	tr -d '\r' <"$2/console.log" >"$2/console.txt"
	mon "$2" "info status" | sed "s/^/# e2e: $1: mon: /"
	vcpus "$1" "$2"
	if [ -n "$qpid" ]; then
		say "$1: ----- stuck: QEMU's threads in L1 -----"
		for t in /proc/"$qpid"/task/*; do
			echo "# e2e: $1: thread ${t##*/} $(cat "$t/comm") $(grep '^State:' "$t/status")"
			sed "s/^/# e2e: $1:    /" "$t/stack" 2>/dev/null
		done
	fi
	say "$1: ----- stuck: L1 kernel log (last 40 lines) -----"
	dmesg | tail -n 40 | sed "s/^/# e2e: $1: dmesg: /"
	[ -n "$qpid" ] && kill -KILL "$qpid"
	kill -KILL $spid 2>/dev/null
}

# The control is stock QEMU: what goes wrong in it (seen: an nvme "timeout,
# completion polled", a lost MSI, in a 200-cycle run; a guest that died in
# its first seconds) is a finding about QEMU's own path or the testbed,
# printed, not a failed case of irqroute. The irqroute run does not need
# it to mean something: its pended edges and PBA checks show the guest's
# masking reached QEMU.
bad() {
	if [ "$run" = control ]; then
		say "$run: FINDING: $*"
		CONTROL_FINDING="${CONTROL_FINDING:+$CONTROL_FINDING; }$*"
	else
		not_ok "$run: $*"
	fi
}

# A check of the harness itself (the markers, the guest's masking reaching
# QEMU): it counts in the control too once the guest got through its mask
# cycles; before that, a guest that died is the finding (bad) and these
# follow from it.
harness() {
	if [ "$run" = control ] && [ "${cycles:-0}" = 0 ]; then
		bad "$*"
	else
		not_ok "$run: $*"
	fi
}

run_qemu() {	# $1 = control|irqroute
	run=$1
	dir=/tmp/e2e/$run
	case $run in
	control) accel=kvm ;;
	irqroute) accel=kvm,irqroute=on ;;
	*) not_ok "unknown run '$run' (irqroute_e2e_runs=control,irqroute)"; return ;;
	esac
	rm -rf "$dir"
	mkdir -p "$dir"
	mkfifo "$dir/peek.fifo" "$dir/mon.in" "$dir/mon.out"
	cmdline="console=ttyS0 quiet panic=-1 iomem=relaxed e2e_cycles=$CYCLES e2e_hotplugs=$HOTPLUGS e2e_pba=$PBA"
	say "===== run $run: -accel $accel, $CYCLES cycles, L2 $L2_MEM MB, 2 vCPUs ====="
	start=$(date +%s)
	# --seccomp-bpf: only the traced calls stop QEMU. -xx: the marker
	# bytes as \xNN. The environment (-E) is QEMU's only.
	strace -f --seccomp-bpf -qq -xx -e trace=ioctl,pwrite64 \
		-o "$dir/strace.log" \
		-E LD_PRELOAD=$E2E/irqroute-peek.so \
		-E IRQROUTE_PEEK_FIFO="$dir/peek.fifo" \
		-E IRQROUTE_PEEK_OUT="$dir/stats.txt" \
		$QEMU -L $E2E/firmware -machine q35 -accel "$accel" \
		-cpu host -m $L2_MEM -smp 2 -nodefaults -display none \
		-no-reboot -no-shutdown -serial "file:$dir/console.log" \
		-trace qemu_system_shutdown_request \
		-kernel $E2E/l2/vmlinuz -initrd $E2E/l2/initramfs.cpio.gz \
		-append "$cmdline" \
		-device "vfio-pci,host=$BDF,rombar=0" \
		-pidfile "$dir/qemu.pid" \
		-chardev "pipe,id=mon0,path=$dir/mon" \
		-mon chardev=mon0,mode=readline \
		</dev/null >"$dir/qemu.out" 2>&1 &
	spid=$!
	SHOWN=0
	peeked=0
	timed_out=0
	last_note=$start
	last_size=0
	last_out=$start
	# Drain the monitor's output: QEMU must never block on that pipe.
	: >"$dir/mon.txt"
	cat "$dir/mon.out" >>"$dir/mon.txt" &
	monpid=$!
	# -no-reboot -no-shutdown: a guest that resets (a triple fault prints
	# nothing) or powers off is stopped with its registers, not gone.
	# Asked after 15 s of silence; a poweroff after E2E-DONE is the end.
	last_status=$start
	ended=""
	while kill -0 $spid 2>/dev/null; do
		sleep 1
		show_console "$run" "$dir/console.log"
		now=$(date +%s)
		size=$(wc -c <"$dir/console.log" 2>/dev/null || echo 0)
		if [ "$size" != "$last_size" ]; then
			last_size=$size
			last_out=$now
		fi
		if grep -q '^E2E-INFO: .* L2 up' "$dir/console.log" 2>/dev/null &&
		   [ $((now - last_out)) -ge $SILENCE ]; then
			bad "the L2 guest's console silent for ${SILENCE}s: stopped"
			stuck "$run" "$dir"
			timed_out=1
			break
		fi
		if [ $peeked = 0 ] && grep -q '^E2E-DONE' "$dir/console.log" 2>/dev/null; then
			peek "$run" "$dir"
			peeked=1
		fi
		if [ -z "$ended" ] && { grep -q 'reboot: Power down' "$dir/console.log" ||
		   { [ $((now - last_out)) -ge 15 ] && [ $((now - last_status)) -ge 15 ]; }; }; then
			last_status=$now
			case $(mon "$dir" "info status") in
			*"paused (shutdown)"*)
				tr -d '\r' <"$dir/console.log" >"$dir/console.txt"
				# Only a poweroff asks for a shutdown (traced).
				if grep -q qemu_system_shutdown_request "$dir/qemu.out"; then
					ended=poweroff
				else
					ended=reset
					say "$run: ----- L2 stopped without powering off (reset, triple fault or panic) -----"
					vcpus "$run" "$dir"
				fi
				mon "$dir" quit >/dev/null
				;;
			esac
		fi
		if [ $((now - start)) -ge "$RUN_TIMEOUT" ]; then
			bad "QEMU still running after ${RUN_TIMEOUT}s: stopped"
			stuck "$run" "$dir"
			timed_out=1
			break
		fi
		if [ $((now - last_note)) -ge 60 ]; then
			say "$run: $((now - start)) s, console $(wc -l <"$dir/console.log" 2>/dev/null || echo 0) lines"
			last_note=$now
		fi
	done
	wait $spid
	qrc=$?
	kill $monpid 2>/dev/null
	elapsed=$(($(date +%s) - start))
	show_console "$run" "$dir/console.log"
	sed "s/^/# e2e: $run: qemu: /" "$dir/qemu.out"
	say "$run: QEMU exited with status $qrc after $elapsed s"
	[ $timed_out = 1 ] && return

	# The guest's verdict.
	tr -d '\r' <"$dir/console.log" >"$dir/console.txt"
	verdict=$(grep -a '^E2E: \(passed\|failed\)' "$dir/console.txt" | tail -n1)
	case $verdict in
	"E2E: passed "*) ok "$run: L2 guest: ${verdict#E2E: passed }" ;;
	"E2E: failed "*) bad "L2 guest: ${verdict#E2E: failed }" ;;
	*)
		why="console above"
		if grep -aq 'Kernel panic' "$dir/console.txt"; then
			why="L2 kernel panic, above"
		elif [ "$ended" = reset ] &&
		     early=$(grep -aE "$L2_TROUBLE" "$dir/console.txt" | head -n1) &&
		     [ -n "$early" ]; then
			# It had failed already: whatever stopped it after that
			# (a break that loses interrupts was seen to end so).
			why="L2 reset after it had reported trouble: $early"
		elif [ "$ended" = reset ]; then
			# -no-reboot -no-shutdown: the guest stopped without
			# asking qemu_system_shutdown_request (traced): a reset,
			# and without a panic a triple fault: the testbed's
			# nested-SVM state loss (testing.rst 9). Its vCPUs, as
			# it stopped, are above.
			TESTBED_FAULT="L2 reset without a panic (triple fault; vCPUs above) after: $(grep -a '^E2E-INFO' "$dir/console.txt" | tail -n1)"
			return
		fi
		bad "no verdict from the L2 guest ($why)"
		;;
	esac
	if [ "$qrc" = 0 ]; then ok "$run: QEMU exit status 0"; else bad "QEMU exit status $qrc"; fi
	counts=$(grep -a '^E2E-COUNTS: ' "$dir/console.txt" | tail -n1)
	cycles=$(echo "$counts" | sed -nE 's/.* cycles=([0-9]+).*/\1/p')
	vectors=$(echo "$counts" | sed -nE 's/.* vectors=([0-9]+).*/\1/p')
	hotplugs=$(echo "$counts" | sed -nE 's/.* hotplugs=([0-9]+).*/\1/p')
	pba_ok=$(echo "$counts" | sed -nE 's/.* pba_ok=([0-9]+).*/\1/p')

	# The ioctls, per phase.
	if [ ! -s "$dir/strace.log" ]; then
		not_ok "$run: no strace log"
		return
	fi
	count_ioctls "$dir/strace.log" "" "" >"$dir/counts.all"
	count_ioctls "$dir/strace.log" a1 a2 >"$dir/counts.mask"
	count_ioctls "$dir/strace.log" a3 a4 >"$dir/counts.hotplug"
	count_ioctls "$dir/strace.log" a5 a6 >"$dir/counts.pba"
	for w in mask hotplug pba; do
		[ "$(get "$dir/counts.$w" markers)" = 1 ] &&
			[ "$(awk '$1 == "markers" { print $3 }' "$dir/counts.$w")" = 1 ] ||
			harness "the $w phase's markers are not in the strace log"
	done
	table "run $run (-accel $accel): ioctls of QEMU (strace -f); $cycles mask cycles of $vectors vectors + function mask, $hotplugs hotplug rounds, $pba_ok PBA checks"
	table "$(printf '%-30s %9s %9s %9s %9s %9s %9s' request whole-run mask per-cycle hotplug per-round pba)"
	names=$(awk '$1 != "markers" && $1 != "failed" { print $1 }' "$dir/counts.all" | sort -u)
	for n in VFIO_DEVICE_SET_IRQS KVM_SET_GSI_ROUTING KVM_IRQFD KVM_SIGNAL_MSI \
		 $(echo "$names" | grep '^IRQROUTE_') KVM_RUN; do
		m=$(get "$dir/counts.mask" "$n")
		h=$(get "$dir/counts.hotplug" "$n")
		table "$(printf '%-30s %9s %9s %9s %9s %9s %9s' "$n" \
			"$(get "$dir/counts.all" "$n")" "$m" "$(per "$m" "$cycles")" \
			"$h" "$(per "$h" "$hotplugs")" "$(get "$dir/counts.pba" "$n")")"
	done
	m=$(irqroute_total "$dir/counts.mask")
	h=$(irqroute_total "$dir/counts.hotplug")
	table "$(printf '%-30s %9s %9s %9s %9s %9s %9s' "irqroute (all, not GET_STATS)" \
		"$(irqroute_total "$dir/counts.all")" "$m" "$(per "$m" "$cycles")" \
		"$h" "$(per "$h" "$hotplugs")" "$(irqroute_total "$dir/counts.pba")")"
	awk '$1 != "failed" && $3 > 0 { print }' "$dir/counts.all" >"$dir/failed"
	if [ -s "$dir/failed" ]; then
		say "$run: ioctls that failed (request count failed): $(tr '\n' ';' <"$dir/failed")"
		grep '^failed ' "$dir/counts.all" | sed "s/^/# e2e: $run: /"
	fi
	for n in KVM_SET_GSI_ROUTING KVM_IRQFD; do
		f=$(awk -v n=$n '$1 == n && NF == 3 { print $3 }' "$dir/counts.all")
		[ "${f:-0}" = 0 ] || bad "$f $n call(s) failed"
	done
	# Stock QEMU 7.2 itself has two VFIO_DEVICE_SET_IRQS refused (EINVAL)
	# when a Linux guest enables MSI-X with the function masked (message
	# control 0xc0xx): irqroute=on must not add any.
	f=$(awk '$1 == "VFIO_DEVICE_SET_IRQS" && NF == 3 { print $3 }' "$dir/counts.all")
	f=${f:-0}
	case $run in
	control) CONTROL_SETIRQS_FAILED=$f ;;
	irqroute)
		if [ -n "${CONTROL_SETIRQS_FAILED:-}" ]; then
			[ "$f" -le "$CONTROL_SETIRQS_FAILED" ] &&
				ok "$run: $f VFIO_DEVICE_SET_IRQS refused, as many as or fewer than stock ($CONTROL_SETIRQS_FAILED)" ||
				bad "$f VFIO_DEVICE_SET_IRQS refused, stock QEMU $CONTROL_SETIRQS_FAILED"
		fi
		;;
	esac
	f=$(awk '$1 ~ /^IRQROUTE_/ && NF == 3 { f += $3 } END { print f + 0 }' "$dir/counts.all")
	[ "$f" = 0 ] || bad "$f irqroute ioctl(s) failed"

	# What each run must show.
	setirqs=$(get "$dir/counts.all" VFIO_DEVICE_SET_IRQS)
	[ "$setirqs" -gt 0 ] && ok "$run: QEMU gave VFIO its MSI-X eventfds ($setirqs VFIO_DEVICE_SET_IRQS)" ||
		harness "no VFIO_DEVICE_SET_IRQS at all: the device's interrupts never went through VFIO"
	m_set=$(get "$dir/counts.mask" VFIO_DEVICE_SET_IRQS)
	m_gsi=$(get "$dir/counts.mask" KVM_SET_GSI_ROUTING)
	m_irqfd=$(get "$dir/counts.mask" KVM_IRQFD)
	attach=$(get "$dir/counts.all" IRQROUTE_ATTACH)
	case $run in
	control)
		# Stock QEMU switches VFIO's eventfd on every mask and unmask:
		# without that the guest's masking never reached QEMU.
		[ "${cycles:-0}" -gt 0 ] && [ "$m_set" -ge "$cycles" ] &&
			ok "$run: the guest's masking reached QEMU ($m_set VFIO_DEVICE_SET_IRQS in $cycles cycles)" ||
			harness "$m_set VFIO_DEVICE_SET_IRQS in ${cycles:-0} mask cycles: the guest's masking did not reach QEMU's VFIO path"
		[ "$(irqroute_total "$dir/counts.all")" = 0 ] &&
			ok "$run: no irqroute ioctl" ||
			not_ok "$run: the stock run made irqroute ioctls"
		;;
	irqroute)
		[ "$attach" = 1 ] && ok "$run: QEMU attached irqroute once" ||
			bad "$attach IRQROUTE_ATTACH (want 1): irqroute=on not in effect"
		[ "${cycles:-0}" -gt 0 ] && [ "$m_set" = 0 ] && [ "$m_gsi" = 0 ] && [ "$m_irqfd" = 0 ] &&
			ok "$run: $cycles mask cycles without VFIO_DEVICE_SET_IRQS, KVM_SET_GSI_ROUTING or KVM_IRQFD" ||
			bad "in ${cycles:-0} mask cycles: $m_set VFIO_DEVICE_SET_IRQS, $m_gsi KVM_SET_GSI_ROUTING, $m_irqfd KVM_IRQFD (want 0 each)"
		;;
	esac

	# irqroute's counters, read while the guest waited after E2E-DONE.
	if [ $peeked = 0 ]; then
		bad "the guest never printed E2E-DONE: no irqroute counters"
		return
	fi
	fds=$(sed -n 's/^peek: fds=//p' "$dir/peek.txt")
	case $run in
	control)
		[ "$fds" = 0 ] && grep -q '^stats: none' "$dir/stats.txt" &&
			ok "$run: QEMU has no /dev/irqroute open" ||
			not_ok "$run: stock QEMU has /dev/irqroute open (peek: fds=$fds)"
		;;
	irqroute)
		if [ "$fds" != 1 ]; then
			bad "QEMU has $fds /dev/irqroute descriptors open (want 1)"
			return
		fi
		# Documentation/irqroute.rst 3.5: EPERM for anyone but the VM's
		# process, a holder of the same file included.
		grep -q '^peek: GET_STATS errno=1 ' "$dir/peek.txt" &&
			ok "$run: IRQROUTE_GET_STATS on QEMU's file taken with pidfd_getfd is refused (EPERM)" ||
			bad "IRQROUTE_GET_STATS from another process: $(grep '^peek: GET_STATS\|^stats:' "$dir/peek.txt")"
		st=$(grep '^stats: fd=' "$dir/stats.txt" | head -n1)
		sig=$(echo "$st" | sed -nE 's/.* signals=([0-9]+).*/\1/p')
		del=$(echo "$st" | sed -nE 's/.* delivered=([0-9]+).*/\1/p')
		pend=$(echo "$st" | sed -nE 's/.* pended=([0-9]+).*/\1/p')
		if [ -z "$sig" ]; then
			bad "no counters from inside QEMU: $(cat "$dir/stats.txt" 2>/dev/null)"
			return
		fi
		table "run $run: irqroute counters in QEMU at E2E-DONE: ${st#stats: }"
		[ "$sig" -gt 0 ] && [ "$del" -gt 0 ] &&
			ok "$run: the device's interrupts went through irqroute (signals=$sig delivered=$del)" ||
			bad "irqroute saw signals=$sig delivered=$del"
		# Every PBA check held at least one completion pending.
		[ "$pend" -ge "${pba_ok:-1}" ] && [ "$pend" -gt 0 ] &&
			ok "$run: irqroute held interrupts pending while masked (pended=$pend, PBA checks passed $pba_ok)" ||
			bad "pended=$pend with $pba_ok PBA checks passed"
		;;
	esac
}

# A run whose L2 guest triple-faulted (TESTBED_FAULT) cannot have been
# irqroute's doing: irqroute delivers MSIs through KVM's local APIC only,
# and Linux takes any vector. Its results are dropped and it runs again,
# up to three attempts, as vm-init.sh does for a selftest case with a
# testbed fault (testbed_reruns on the verdict line).
RERUNS=0
for r in $RUNS; do
	attempt=1
	while :; do
		p0=$PASSED f0=$FAILED
		TESTBED_FAULT=""
		run_qemu "$r"
		[ -n "$TESTBED_FAULT" ] || break
		if [ $attempt -ge 3 ]; then
			not_ok "$r: testbed fault in 3 attempts: $TESTBED_FAULT"
			break
		fi
		echo "IRQROUTE-TESTBED-FAULT: e2e run $r, attempt $attempt: $TESTBED_FAULT; running it again"
		PASSED=$p0 FAILED=$f0 RERUNS=$((RERUNS + 1))
		attempt=$((attempt + 1))
	done
done

# --- side by side ---------------------------------------------------------------

table "per mask cycle (each vector masked+unmasked, then the function mask set+cleared) and per hotplug round:"
line="$(printf '%-30s' request)"
for r in $RUNS; do
	line="$line $(printf '%14s %14s' "$r/cycle" "$r/hotplug")"
done
table "$line"
for n in VFIO_DEVICE_SET_IRQS KVM_SET_GSI_ROUTING KVM_IRQFD irqroute; do
	line="$(printf '%-30s' "$n")"
	for r in $RUNS; do
		d=/tmp/e2e/$r
		c=$(sed -nE 's/^E2E-COUNTS: cycles=([0-9]+).*/\1/p' "$d/console.txt" 2>/dev/null | tail -n1)
		h=$(sed -nE 's/^E2E-COUNTS: .* hotplugs=([0-9]+).*/\1/p' "$d/console.txt" 2>/dev/null | tail -n1)
		if [ ! -s "$d/counts.mask" ]; then
			line="$line $(printf '%14s %14s' - -)"
			continue
		fi
		if [ $n = irqroute ]; then
			m=$(irqroute_total "$d/counts.mask")
			hp=$(irqroute_total "$d/counts.hotplug")
		else
			m=$(get "$d/counts.mask" $n)
			hp=$(get "$d/counts.hotplug" $n)
		fi
		line="$line $(printf '%14s %14s' "$(per "$m" "${c:-0}")" "$(per "$hp" "${h:-0}")")"
	done
	table "$line"
done
# One greppable line per boot for bench/RESULTS.md's tally of stock runs.
[ -n "${CONTROL_FINDING:-}" ] &&
	table "stock QEMU's guest failed this boot: $CONTROL_FINDING"

end
