#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The host side of the benchmark (`make bench`, `make bench-quick`): build
# the module, library and irqroute-bench, boot the test VM in bench mode on
# each kernel, take the report from the serial log, and write
#   build/bench/results.md      markdown: command, kernels, date, tables
#   build/bench/cost-vs-n.png   cost against N (gnuplot)
#   build/bench/report-<abi>.md, costn-<abi>.dat   per kernel
#
# usage: bench/run.sh [--quick] [--kvers "6.1 6.12"]
#   --kvers   kernel ABIs, or the short names 6.1, 6.12 and 7; default
#             $BENCH_KVERS, else $KVER, else 6.1
#   --quick   seconds instead of minutes (CI): few iterations, N = 16 and
#             64, 4 VMs x 16 routes; keeps the VM's debug options
#             (slub_debug, kfence), which the full run turns off
#
# Environment: BENCH_APPEND, more kernel parameters; NAME=value ones reach
# the benchmark's environment, e.g. BENCH_APPEND="IRQROUTE_BENCH_SCALE_VMS=8".
# With IRQROUTE_BENCH_ONLY=unmask|mask|fullrange (one part, no plot) a
# missing cost-vs-N plot is not a failure.
#
# Exit status: 0 if every kernel ran the benchmark to the end without a
# failed operation (and the VM's kernel log stayed clean). Timings never
# fail it: there are no thresholds.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
OUT=$ROOT/build/bench
QUICK=0
KVERS=${BENCH_KVERS:-${KVER:-6.1}}
CMD=${BENCH_CMD:-bench/run.sh $*}
EXTRA=${BENCH_APPEND:-}

die() { echo "bench: ERROR: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1; shift ;;
	--kvers) KVERS=$2; shift 2 ;;
	*) die "unknown argument $1" ;;
	esac
done

[ -f "$CACHE/env.sh" ] ||
	die "no $CACHE/env.sh: run 'sudo scripts/setup-host.sh' first"
# shellcheck disable=SC1091
. "$CACHE/env.sh"
command -v gnuplot >/dev/null ||
	die "gnuplot missing (scripts/setup-host.sh installs gnuplot-nox)"

abis=()
for k in $KVERS; do
	case $k in
	6.1) abis+=("$KVER_61") ;;
	6.12) abis+=("$KVER_612") ;;
	7) abis+=("$KVER_7") ;;
	*) abis+=("$k") ;;
	esac
done

if [ "$QUICK" = 1 ]; then
	MODE=quick
	APPEND="IRQROUTE_BENCH_QUICK=1"
	VM_LIMITS=(--timeout 600 --test-timeout 300)
else
	MODE=full
	# Numbers, not checks: no slab debugging (it pads and tracks every
	# object, and slows allocation), no KFENCE sampling.
	APPEND="slub_debug=- kfence.sample_interval=0"
	VM_LIMITS=(--timeout 1800 --test-timeout 1500)
fi
[ -n "$EXTRA" ] && APPEND+=" $EXTRA" && CMD+=" (BENCH_APPEND=\"$EXTRA\")"

echo "=== bench: build"
make -C "$ROOT" --no-print-directory lib bench-build
for k in "${abis[@]}"; do
	make -C "$ROOT" --no-print-directory module KVER="$k"
done
mkdir -p "$OUT"

failed=0
for k in "${abis[@]}"; do
	echo
	echo "=== bench: $k ($MODE)"
	rm -f "$OUT/report-$k.md" "$OUT/costn-$k.dat"
	if ! "$ROOT/scripts/vm-run.sh" --kver "$k" --mode bench \
		"${VM_LIMITS[@]}" --append "$APPEND"; then
		echo "bench: $k: the VM run failed" \
		     "(log: build/logs/$k-bench.log)" >&2
		failed=1
	fi
	log=$ROOT/build/logs/$k-bench.log
	[ -f "$log" ] || continue
	# The report, without the console's kernel messages ("[ 12.3] ...").
	mark='=== IRQROUTE-BENCH REPORT'
	sed -n "/^$mark BEGIN ===\$/,/^$mark END ===\$/p" "$log" |
		grep -av "^$mark" |
		grep -avE '^\[ *[0-9]+\.[0-9]+\]' >"$OUT/report-$k.md" || true
	grep -a '^BENCH-COSTN ' "$log" | cut -d' ' -f2- \
		>"$OUT/costn-$k.dat" || true
	if [ ! -s "$OUT/report-$k.md" ]; then
		echo "bench: $k: no report in $log" >&2
		failed=1
	fi
done

# --- results.md -------------------------------------------------------------
{
	echo "# irqroute-bench results ($MODE)"
	echo
	echo "- Command: \`$CMD\`"
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Kernels: ${abis[*]}"
	echo "- Tree: $(git -C "$ROOT" describe --always --dirty 2>/dev/null ||
		      echo unknown)"
	cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- |
	      sed 's/^ *//')
	echo "- Host: $(nproc) CPUs ($cpu)," \
	     "$(qemu-system-x86_64 --version | head -n1)"
	echo "- L1: QEMU TCG (emulated AMD SVM, 2 vCPUs, 2 GiB); the"
	echo "  benchmark's L2 guests have 1 vCPU. Only same-boot ratios"
	echo "  mean anything."
	echo "- Ratio = irqroute / stock: below 1, irqroute is faster (or"
	echo "  smaller); throughput rows are the other way round."
	echo
	for k in "${abis[@]}"; do
		if [ -s "$OUT/report-$k.md" ]; then
			cat "$OUT/report-$k.md"
		else
			echo "### $k"
			echo
			echo "No report: the run failed" \
			     "(build/logs/$k-bench.log)."
		fi
		echo
	done
	echo "Plot: cost-vs-n.png (cost against N, log-log)."
} >"$OUT/results.md"

# --- cost-vs-n.png ----------------------------------------------------------
files="" names=""
for k in "${abis[@]}"; do
	[ -s "$OUT/costn-$k.dat" ] || continue
	files+="$OUT/costn-$k.dat "
	names+="${k%%-*} "
done
if [ -n "$files" ]; then
	vars="files='${files% }'; names='${names% }'"
	vars+="; out='$OUT/cost-vs-n.png'"
	if ! gnuplot -e "$vars" "$ROOT/bench/cost-vs-n.gp"; then
		echo "bench: gnuplot failed" >&2
		failed=1
	fi
else
	case " $EXTRA " in
	# One part (unmask, mask, fullrange) has no cost-vs-N points.
	*" IRQROUTE_BENCH_ONLY="*) echo "bench: no cost-vs-N data to plot" ;;
	*)
		echo "bench: no cost-vs-N data to plot" >&2
		failed=1
		;;
	esac
fi

echo
cat "$OUT/results.md"
echo
echo "bench: wrote build/bench/results.md and build/bench/cost-vs-n.png" \
     "($MODE, ${abis[*]})"
exit $failed
