#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Prints the "binary case" lines of a VM test log (build/logs/<abi>-test.log
# of a run of the whole suite): the body of selftests/CASES (the fault tests'
# cases go to selftests/faults/CASES).
#
# usage: scripts/update-cases.sh LOG
[ -r "$1" ] || { echo "usage: $0 build/logs/<abi>-test.log" >&2; exit 2; }
awk '/^# ===== .* =====$/ { t = $3 }
     /^(not )?ok [0-9]+ / { print t, ($1 == "not") ? $4 : $3 }' "$1" | sort -u
