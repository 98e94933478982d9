#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Tests of the VM runner's counting (scripts/tap-count.sh) on the host:
# fake test binaries print synthetic TAP, and each scenario checks what
# run_test_binary and check_case_list made of it. Runs under busybox sh,
# the shell of the test VM, with nothing but busybox's applets on PATH,
# when busybox is installed (and under sh otherwise).
#
# usage: scripts/test-runner.sh      ends with "N passed, N failed"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# With busybox, only its applets are on PATH, as in the VM: a command the
# VM does not have fails here too.
if [ -z "$TAP_RUNNER_SHELL" ]; then
	if command -v busybox >/dev/null 2>&1; then
		mkdir "$WORK/busybox"
		busybox --install -s "$WORK/busybox"
		TAP_RUNNER_SHELL="$WORK/busybox/sh"
		PATH=$WORK/busybox
	else
		TAP_RUNNER_SHELL=sh
	fi
	export TAP_RUNNER_SHELL PATH
	$TAP_RUNNER_SHELL "$0" "$@"
	exit $?
fi
OK=0
BAD=0

# fake NAME: the script body on stdin becomes ./NAME. $RUN_NO in its
# environment is the run number (1, 2, ...), kept in a file next to it.
fake() {
	{
		echo '#!/bin/sh'
		echo 'n=$(($(cat "$0.runs" 2>/dev/null || echo 0) + 1)); echo $n >"$0.runs"; RUN_NO=$n'
		cat
	} >"$WORK/bin/$1"
	chmod +x "$WORK/bin/$1"
}

# scenario NAME EXPECTED(passed failed reruns) BINARY [LIST]: runs BINARY
# with a fresh state; LIST, if given, is the case list checked after it.
scenario() {
	name=$1 want=$2 bin=$3 list=$4
	got=$(
		cd "$WORK/bin" || exit 1
		TAP_TMP=$WORK/tmp
		export TAP_TMP
		TEST_TIMEOUT=3
		dump_hang() { echo "# (dump_hang $1)"; }
		. "$ROOT/scripts/tap-count.sh"
		run_test_binary "$bin" >"$WORK/out.$name" 2>&1
		if [ -n "$list" ]; then
			printf '%s\n' "$list" | tr ';' '\n' >"$WORK/list"
			check_case_list "$WORK/list" "$bin" >>"$WORK/out.$name" 2>&1
		fi
		echo "$PASSED $FAILED $RERUNS"
	)
	if [ "$got" = "$want" ]; then
		OK=$((OK + 1))
		echo "ok - $name: passed failed reruns = $got"
	else
		BAD=$((BAD + 1))
		echo "not ok - $name: passed failed reruns = $got, want $want"
		sed 's/^/#   /' "$WORK/out.$name"
	fi
	rm -rf "$WORK/tmp" "$WORK"/bin/*.runs
	mkdir -p "$WORK/tmp"
}

mkdir -p "$WORK/bin" "$WORK/tmp"

# A case, as the kselftest harness prints it: case N NAME RESULT [BODY].
cat >"$WORK/bin/tap.sh" <<'EOF'
plan() { echo "TAP version 13"; echo "1..$1"; }
case_() {
	echo "#  RUN           $2 ..."
	[ -n "$4" ] && echo "$4"
	case $3 in
	ok) echo "#            OK  $2"; echo "ok $1 $2" ;;
	fail) echo "#          FAIL  $2"; echo "not ok $1 $2" ;;
	skip) echo "#          SKIP  $2"; echo "ok $1 $2 # SKIP nothing here" ;;
	esac
}
MARK="IRQROUTE-TESTBED-FAULT: L2 vCPU 0 has rip 0xffffffffc0a1b2c3 = __svm_vcpu_run+0x9c [kvm_amd], L1 kernel code"
EOF

fake all_pass <<EOF
. ./tap.sh; plan 2; case_ 1 g.a ok; case_ 2 g.b ok
EOF
scenario all_pass "2 0 0" all_pass

# The audit's case: a real failure in case 1, a testbed fault in case 2.
# Only case 2 is run again; case 1's failure stays counted.
fake fault_and_failure <<EOF
. ./tap.sh; plan 2; case_ 1 g.real fail
if [ \$RUN_NO = 1 ]; then case_ 2 g.flaky fail "\$MARK"; else case_ 2 g.flaky ok; fi
exit 1
EOF
scenario marker_plus_real_failure "1 1 1" fault_and_failure

# The rerun's other results count too: a case that passed in run 1 and
# fails in the rerun is a failure.
fake fails_in_rerun <<EOF
. ./tap.sh; plan 2
if [ \$RUN_NO = 1 ]; then case_ 1 g.a ok; case_ 2 g.b fail "\$MARK"
else case_ 1 g.a fail; case_ 2 g.b ok; fi
EOF
scenario failure_in_rerun "2 1 1" fails_in_rerun

# A case faulting in every run: three reruns, then it counts as failed.
fake always_fault <<EOF
. ./tap.sh; plan 2; case_ 1 g.a ok; case_ 2 g.b fail "\$MARK"; exit 1
EOF
scenario fault_every_run "1 1 3" always_fault

# A marker the harness prefixed ("# ", as TH_LOG does) is not a fault.
fake prefixed_marker <<EOF
. ./tap.sh; plan 1; case_ 1 g.a ok "# \$MARK"
EOF
scenario prefixed_marker_is_not_a_fault "1 0 0" prefixed_marker

# A marker outside any case cannot be tied to one: a failure.
fake orphan_marker <<EOF
. ./tap.sh; plan 1; case_ 1 g.a ok; echo "\$MARK"
EOF
scenario orphan_marker "1 1 0" orphan_marker

# The rerun crashes before reaching the owed case: that case failed.
fake rerun_crashes <<EOF
. ./tap.sh; plan 2; case_ 1 g.a ok
if [ \$RUN_NO = 1 ]; then case_ 2 g.b fail "\$MARK"; else kill -SEGV \$\$; fi
EOF
scenario rerun_crashes "1 1 1" rerun_crashes

fake crash_before_plan <<EOF
kill -SEGV \$\$
EOF
scenario crash_before_plan "0 1 0" crash_before_plan

fake crash_mid_plan <<EOF
. ./tap.sh; plan 3; case_ 1 g.a ok; kill -SEGV \$\$
EOF
scenario crash_mid_plan "1 2 0" crash_mid_plan

fake skipped <<EOF
. ./tap.sh; plan 2; case_ 1 g.a ok; case_ 2 g.b skip
EOF
scenario skip_counts_as_failed "1 1 0" skipped

fake bad_exit <<EOF
. ./tap.sh; plan 1; case_ 1 g.a ok; exit 1
EOF
scenario exit_status_without_failure "1 1 0" bad_exit

fake hangs <<EOF
. ./tap.sh; plan 2; case_ 1 g.a ok; echo "#  RUN           g.b ..."; exec sleep 30
EOF
scenario timeout "1 1 0" hangs

scenario missing_binary "0 1 0" no_such_test

# The committed case list: every listed case must run, nothing unlisted.
scenario list_complete "3 0 0" all_pass "all_pass g.a;all_pass g.b"
scenario list_case_missing "2 1 0" all_pass "all_pass g.a;all_pass g.b;all_pass g.deleted"
scenario list_case_unlisted "2 1 0" all_pass "all_pass g.a"
# A case that faulted and was settled by a rerun is in the list once.
scenario list_after_rerun "2 1 1" fault_and_failure \
	"fault_and_failure g.real;fault_and_failure g.flaky"

echo "$OK passed, $BAD failed"
[ "$BAD" -eq 0 ]
