#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job, on a Debian 12 machine, as root: setup (cached after the
# first run), build irqroute.ko for Debian's 6.1 kernel, the library and the
# demo VMM (examples/), then boot the kernel in a VM where the demo routes,
# masks, leaves an edge pending and delivers it on unmask, printing what the
# L2 guest received. The output is also in build/logs/<abi>-demo.log.
#
# Environment: IRQROUTE_SKIP_SETUP=1, IRQROUTE_KVER=<abi> (default: 6.1).

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
cd "$ROOT"

if [ "${IRQROUTE_SKIP_SETUP:-0}" != 1 ]; then
	if [ "$(id -u)" = 0 ]; then
		scripts/setup-host.sh
	elif [ ! -f "$CACHE/env.sh" ]; then
		echo "run-demo: run as root (or scripts/setup-host.sh as root first)" >&2
		exit 2
	fi
fi
# shellcheck disable=SC1091
. "$CACHE/env.sh"
kver=${IRQROUTE_KVER:-$KVER_61}

mkdir -p build/logs
echo "=== build (log: build/logs/build-demo.log)"
if ! make -j"$(nproc)" module KVER="$kver" examples \
	>build/logs/build-demo.log 2>&1; then
	cat build/logs/build-demo.log
	echo "run-demo: build failed" >&2
	exit 1
fi
[ -x build/examples/irqroute-demo ] ||
	{ echo "run-demo: build/examples/irqroute-demo was not built" >&2; exit 1; }

echo "=== demo on $kver"
exec scripts/vm-run.sh --kver "$kver" --mode demo
