#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Every test named in inputs.rst ("program:fixture.case") must exist in
# selftests/<program>.c (a program without a C source, the Rust crate's
# irqroute_rust_test, in selftests/CASES, which the VM runs check), and every case named in testing.rst
# ("program:fixture[.variant].case", as the TAP line names it) must be in
# the committed case lists, selftests/CASES or selftests/faults/CASES;
# exits non-zero and names the missing ones.
cd "$(dirname "$0")" || exit 2
refs=$(grep -oE '``[a-z_]+_test:[a-z0-9_]+\.[a-z0-9_]+``' inputs.rst |
       tr -d '`' | sort -u)
[ -n "$refs" ] || { echo "check-inputs: no test references found" >&2; exit 1; }
missing=0
n=0
for ref in $refs; do
	prog=${ref%%:*}
	rest=${ref#*:}
	fixture=${rest%%.*}
	tcase=${rest#*.}
	src=../selftests/$prog.c
	n=$((n + 1))
	if [ "$fixture" = global ]; then
		pat="^TEST(_TIMEOUT)?\\($tcase[,)]"
	else
		pat="^TEST_F(_TIMEOUT)?\\($fixture, $tcase[,)]"
	fi
	if [ ! -f "$src" ]; then
		grep -qxF "$prog $rest" ../selftests/CASES && continue
		echo "check-inputs: inputs.rst names $ref, which neither $src nor selftests/CASES has" >&2
		missing=$((missing + 1))
	elif ! grep -qE "$pat" "$src"; then
		echo "check-inputs: inputs.rst names $ref, which $src does not have" >&2
		missing=$((missing + 1))
	fi
done
[ "$missing" -eq 0 ] || exit 1
echo "  INPUTS  $n test references in inputs.rst exist"

refs=$(grep -oE '``[a-z_]+_test:[a-z0-9_]+(\.[a-z0-9_]+)+``' testing.rst |
       tr -d '`' | sort -u)
n=0
for ref in $refs; do
	n=$((n + 1))
	if ! grep -qxF "${ref%%:*} ${ref#*:}" ../selftests/CASES \
			../selftests/faults/CASES; then
		echo "check-inputs: testing.rst names $ref, which no CASES list has" >&2
		missing=$((missing + 1))
	fi
done
[ "$missing" -eq 0 ] || exit 1
echo "  CASES   $n case references in testing.rst are in the case lists"
