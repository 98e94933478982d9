#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a command in the Debian sid chroot that scripts/setup-host.sh made
# for Linux 7.x (whose headers need sid's gcc): with /proc (objtool reads
# it) and this checkout bind-mounted at the same path, so that a
# "make -C /lib/modules/$KVER_7/build M=$PWD/..." works as on the host.
# The mounts live in a private mount namespace and go away with the
# command, which runs in the current directory if that is in the checkout.
# Run as root.
#
# usage: sid-run.sh <command> [args...]

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
SID_ROOT=${SID_ROOT:-$CACHE/sid-root}

[ $# -gt 0 ] || { echo "usage: $0 <command> [args...]" >&2; exit 2; }
[ -f "$SID_ROOT/.irqroute-ready" ] ||
	{ echo "sid-run: no sid chroot at $SID_ROOT: run scripts/setup-host.sh" >&2; exit 1; }
mkdir -p "$SID_ROOT$ROOT"
case $PWD/ in "$ROOT"/*) dir=$PWD ;; *) dir=/ ;; esac
exec unshare --mount --propagation private -- /bin/sh -euc '
	root=$1 src=$2 dir=$3
	shift 3
	mount -t proc proc "$root/proc"
	mount --bind "$src" "$root$src"
	exec chroot "$root" /usr/bin/env -C "$dir" "$@"
' sid-run "$SID_ROOT" "$ROOT" "$dir" "$@"
