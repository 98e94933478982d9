# SPDX-License-Identifier: GPL-2.0
#
# How the VM runner counts a kselftest binary, case by case, and its one
# rerun rule. Sourced by scripts/vm-init.sh (busybox sh in the test VM) and
# by scripts/test-runner.sh, which feeds it synthetic TAP on the host.
#
# Counting (run_test_binary): one per kselftest case ("ok N name" / "not
# ok N name"). A case reported "# SKIP" counts as failed: in the test VM
# everything a test needs is present, so a skip means something is missing.
# A binary whose plan ("1..N") is not complete (crash, timeout) counts its
# missing cases as failed; a binary with no plan at all counts as one
# failure; a non-zero exit status with nothing else to explain it counts
# as one failure.
#
# The rerun rule: a case whose output holds a line starting
# "IRQROUTE-TESTBED-FAULT" (an L2 vCPU found running L1 kernel code, see
# selftests/lib/guest.c), between its "#  RUN" line and its own result
# line, is a testbed fault: that case alone is discarded and the binary
# runs again, up to three more times, for that case's result. Every other
# result of every run counts: a failure in a rerun of a case that passed
# before is a failure too. A marker outside any case cannot be tied to
# one and counts as a failure. A case still faulting after the third rerun
# counts as failed.
#
# The caller sets TEST_TIMEOUT and defines dump_hang PID (diagnostics for a
# test about to be killed). Results accumulate in PASSED, FAILED, RERUNS
# (binaries run again), STRAYS (IRQROUTE-TESTBED-STRAY interrupts) and in
# $TAP_SEEN, one "binary case" line per case counted.

PASSED=${PASSED:-0}
FAILED=${FAILED:-0}
RERUNS=${RERUNS:-0}
STRAYS=${STRAYS:-0}
TAP_TMP=${TAP_TMP:-/tmp}
TAP_SEEN=${TAP_SEEN:-$TAP_TMP/cases-seen}

tap_ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
tap_not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

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
		touch "$TAP_TMP/timed-out"
	) &
	wd=$!
	wait $pid
	rc=$?
	wait $wd 2>/dev/null	# it notices the exit within a second
	if [ -e "$TAP_TMP/timed-out" ]; then
		rm -f "$TAP_TMP/timed-out"
		rc=124
	fi
	return $rc
}

# The cases of one TAP output file, one line each: "pass|fail|skip|testbed
# NAME", then "plan N" (0: none) and "orphans N" (testbed markers outside
# any case).
tap_cases() {
	awk '
		/^1\.\.[0-9]+/ { plan = substr($0, 4) + 0 }
		/^#  RUN / { open = 1; marked = 0 }
		/^IRQROUTE-TESTBED-FAULT/ { if (open) marked = 1; else orphans++ }
		/^(not )?ok [0-9]+ / {
			st = ($1 == "not") ? "fail" : "pass"
			name = ($1 == "not") ? $4 : $3
			if (st == "pass" && $0 ~ /# SKIP/) st = "skip"
			if (marked) st = "testbed"
			print st, name
			open = 0; marked = 0
		}
		END { print "plan", plan + 0; print "orphans", orphans + 0 }' "$1"
}

# $1 = test name: runs ./$1 and counts it as described above.
run_test_binary() {
	t=$1
	tap=$TAP_TMP/$t.tap
	if [ ! -x "./$t" ]; then
		tap_not_ok "$t: listed in TESTS but not in the initramfs"
		return
	fi
	rerun=""	# cases whose result is still owed
	attempt=1
	while :; do
		start=$(cut -d' ' -f1 /proc/uptime)
		{
			run_timed "$TEST_TIMEOUT" "./$t"
			echo $? >"$TAP_TMP/rc"
		} | tee "$tap"
		rc=$(cat "$TAP_TMP/rc")
		echo "# $t took $(awk -v s="$start" '{ printf "%.1f", $1 - s }' /proc/uptime)s"
		STRAYS=$((STRAYS + $(sed -n 's/^IRQROUTE-TESTBED-STRAY: n=\([0-9]*\):.*/\1/p' \
			"$tap" | awk '{ s += $1 } END { print s + 0 }')))
		tap_cases "$tap" >"$TAP_TMP/$t.cases"
		[ "$attempt" = 1 ] && cp "$TAP_TMP/$t.cases" "$TAP_TMP/$t.cases.1"
		tap_count_attempt "$t" "$attempt" "$rc" "$rerun"
		rerun=$TAP_RERUN
		[ -n "$rerun" ] || break
		if [ "$attempt" -ge 4 ]; then
			for c in $rerun; do
				tap_not_ok "$t: $c: a testbed fault in each of $attempt runs"
				echo "$t $c" >>"$TAP_SEEN"
			done
			break
		fi
		RERUNS=$((RERUNS + 1))
		attempt=$((attempt + 1))
		echo "# $t: TESTBED FAULT in$(echo "$rerun" | sed 's/^/ /'): discarded; $t runs again (run $attempt) for that result"
	done
}

# Counts one run of $1 (attempt $2, exit status $3) from $TAP_TMP/$1.cases.
# $4: the cases owed from earlier runs (empty on the first). Sets
# TAP_RERUN to the cases still owed.
tap_count_attempt() {
	t=$1 attempt=$2 rc=$3 owed=$4
	pass=0 fail=0 skip=0 testbed=0 plan=0 orphans=0
	TAP_RERUN=""
	while read -r st name; do
		case $st in
		plan) plan=$name; continue ;;
		orphans) orphans=$name; continue ;;
		esac
		case " $owed " in *" $name "*) is_owed=1 ;; *) is_owed=0 ;; esac
		if [ "$attempt" -gt 1 ] && [ $is_owed = 0 ]; then
			# Counted in the first run: a case that passed there
			# and fails now is a failure too.
			case $st in
			fail | skip)
				grep -qx "pass $name" "$TAP_TMP/$t.cases.1" || continue
				fail=$((fail + 1))
				echo "# $t: $name passed in run 1 and failed in run $attempt: counted as failed" ;;
			esac
			continue
		fi
		case $st in
		pass) pass=$((pass + 1)) ;;
		fail) fail=$((fail + 1)) ;;
		skip) skip=$((skip + 1)) ;;
		testbed) testbed=$((testbed + 1))
			TAP_RERUN="$TAP_RERUN $name"
			continue ;;
		esac
		echo "$t $name" >>"$TAP_SEEN"
	done <"$TAP_TMP/$t.cases"
	TAP_RERUN=${TAP_RERUN# }

	extra=0
	if [ "$attempt" -gt 1 ]; then
		# An owed case this run never reached: the run broke off.
		for c in $owed; do
			grep -q " $c\$" "$TAP_TMP/$t.cases" && continue
			echo "# $t: $c never reported in run $attempt, rc=$rc"
			echo "$t $c" >>"$TAP_SEEN"
			extra=$((extra + 1))
		done
	elif [ "$plan" -eq 0 ]; then
		echo "# $t: no TAP plan (crashed before starting?), rc=$rc"
		extra=1
	elif [ $((pass + fail + skip + testbed)) -lt "$plan" ]; then
		extra=$((plan - pass - fail - skip - testbed))
		echo "# $t: $extra of $plan cases never reported (crash or timeout), rc=$rc"
	elif [ "$rc" -ne 0 ] && [ $((fail + skip + testbed)) -eq 0 ]; then
		echo "# $t: every case passed but exit status is $rc"
		extra=1
	fi
	[ "$rc" -eq 124 ] &&
		echo "# $t: killed by the ${TEST_TIMEOUT}s timeout"
	[ "$skip" -gt 0 ] &&
		echo "# $t: $skip skipped case(s) counted as failed (nothing may be missing here)"
	[ "$orphans" -gt 0 ] &&
		echo "# $t: $orphans testbed-fault line(s) outside any case, counted as failed"
	PASSED=$((PASSED + pass))
	FAILED=$((FAILED + fail + skip + extra + orphans))
	echo "# $t (run $attempt): passed=$pass failed=$((fail + skip + extra + orphans)) testbed=$testbed"
}

# Every case counted ($TAP_SEEN) against the committed lists $1 ("binary
# case" lines; # comments; several files in one word, space-separated): a
# listed case that did not run, or a case that is not listed, is a
# failure, so a deleted test file, fixture or variant fails the run
# instead of lowering the total. $2: only the binaries to expect (a
# subset run); empty: every binary listed.
check_case_list() {
	lists=$1 only=$2
	: >"$TAP_TMP/cases-want.all"
	for list in $lists; do
		[ -s "$list" ] || { tap_not_ok "case list $list missing"; return; }
		grep -v '^[[:space:]]*#' "$list" | grep . >>"$TAP_TMP/cases-want.all"
	done
	if [ -z "$only" ]; then
		cp "$TAP_TMP/cases-want.all" "$TAP_TMP/cases-want"
	else
		: >"$TAP_TMP/cases-want"
		for b in $only; do
			awk -v b="$b" '$1 == b' "$TAP_TMP/cases-want.all" >>"$TAP_TMP/cases-want"
		done
	fi
	sort -u "$TAP_TMP/cases-want" -o "$TAP_TMP/cases-want"
	touch "$TAP_SEEN"
	sort -u "$TAP_SEEN" >"$TAP_TMP/cases-got"
	# (busybox has no comm)
	grep -Fxvf "$TAP_TMP/cases-got" "$TAP_TMP/cases-want" >"$TAP_TMP/cases-missing"
	grep -Fxvf "$TAP_TMP/cases-want" "$TAP_TMP/cases-got" >"$TAP_TMP/cases-unlisted"
	missing=$(wc -l <"$TAP_TMP/cases-missing")
	unlisted=$(wc -l <"$TAP_TMP/cases-unlisted")
	sed 's/^/# case did not run: /' "$TAP_TMP/cases-missing"
	sed 's/^/# case not in the list: /' "$TAP_TMP/cases-unlisted"
	n=$(wc -l <"$TAP_TMP/cases-want")
	if [ "$missing" -eq 0 ] && [ "$unlisted" -eq 0 ]; then
		tap_ok "case list: all $n listed cases ran"
	else
		tap_not_ok "case list: $missing listed case(s) did not run, $unlisted case(s) not listed"
	fi
}
