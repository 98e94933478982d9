#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the initramfs of the L2 guest of the end-to-end test (mode qemu:
# a real VMM, QEMU, runs in L1 and passes an NVMe controller through to
# this guest, whose own nvme driver does I/O while it masks vectors):
#   /init                  selftests/qemu/l2-init.sh
#   /bin/busybox (+ sh)    busybox-static
#   /e2e/kmod/*.ko, ORDER  nvme.ko of that kernel and its dependencies
#                          (modules.dep), in load order
#   /e2e/l2-msix           selftests/qemu/l2-msix.c, static
#
# usage: mkinitramfs-l2.sh --kver <abi> --out <file.cpio.gz>

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
KVER="" OUT=""

die() { echo "mkinitramfs-l2: ERROR: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--kver) KVER=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	*) die "unknown argument $1" ;;
	esac
done
[ -n "$KVER" ] && [ -n "$OUT" ] || die "usage: $0 --kver <abi> --out <file>"

MODDIR=$CACHE/kernels/$KVER/lib/modules/$KVER
[ -f "$MODDIR/modules.dep" ] ||
	die "$MODDIR/modules.dep missing: run scripts/setup-host.sh"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "no $BUSYBOX (apt-get install busybox-static)"
if command -v file >/dev/null && file -L "$BUSYBOX" | grep -q dynamically; then
	die "$BUSYBOX is dynamically linked: install busybox-static"
fi

# nvme and what modules.dep says it needs. crc64-rocksoft looks its
# algorithm up at load time (a request_module the initramfs cannot serve):
# the generic one goes in first.
# shellcheck source=scripts/moddep.sh
. "$ROOT/scripts/moddep.sh"
moddep_read "$MODDIR"
[ -n "${PATHOF[nvme]:-}" ] || die "module nvme not in $MODDIR/modules.dep"
[ -n "${PATHOF[crc64_rocksoft_generic]:-}" ] && moddep_add crc64_rocksoft_generic
moddep_add nvme

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE"/{bin,dev,proc,sys,tmp,e2e/kmod}
cp "$BUSYBOX" "$STAGE/bin/busybox"
ln -s busybox "$STAGE/bin/sh"
install -m 0755 "$ROOT/selftests/qemu/l2-init.sh" "$STAGE/init"
${CC:-cc} -static -O2 -Wall -Wextra -Werror -o "$STAGE/e2e/l2-msix" \
	"$ROOT/selftests/qemu/l2-msix.c"
moddep_stage "$MODDIR" "$STAGE/e2e/kmod"

mkdir -p "$(dirname "$OUT")"
(cd "$STAGE" && find . -print0 | sort -z |
	cpio --null -o -H newc --quiet -R 0:0) | gzip -1 >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "mkinitramfs-l2: $OUT (${ORDER[*]})" >&2
