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

ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
SID_ROOT=${SID_ROOT:-$CACHE/sid-root}

[ $# -gt 0 ] || { echo "usage: $0 <command> [args...]" >&2; exit 2; }
[ "$(id -u)" = 0 ] ||
	{ echo "sid-run: needs root (a mount namespace and chroot); 7.x builds run as root" >&2; exit 1; }
[ -f "$SID_ROOT/.irqroute-ready" ] ||
	{ echo "sid-run: no sid chroot at $SID_ROOT: run scripts/setup-host.sh" >&2; exit 1; }
mkdir -p "$SID_ROOT$ROOT"
# Shared with other builds; setup-host.sh takes it to change the chroot.
exec 8>"$CACHE/.sid.lock"
flock -s 8
here=$(pwd -P)
case $here/ in "$ROOT"/*) dir=$here ;; *) dir=/ ;; esac
exec unshare --mount --propagation private -- /bin/sh -euc '
	root=$1 src=$2 dir=$3
	shift 3
	mount -t proc proc "$root/proc"
	mount --rbind "$src" "$root$src"
	exec chroot "$root" /usr/bin/env -C "$dir" "$@"
' sid-run "$SID_ROOT" "$ROOT" "$dir" "$@"
