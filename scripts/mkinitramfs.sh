#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the L1 initramfs for one kernel ABI:
#   /init                      scripts/vm-init.sh
#   /bin/busybox (+ /bin/sh)   busybox-static
#   /irqroute/kmod/*.ko        KVM and VFIO modules of that kernel, plus their
#   /irqroute/kmod/ORDER       dependencies (modules.dep), in load order
#   /irqroute/irqroute.ko      build/<abi>/irqroute.ko, or the one of --ko
#   /irqroute/tests/           build/selftests/* (with TESTS), and the
#                              committed case lists selftests/CASES and
#                              selftests/faults/CASES (as CASES.faults)
#   /irqroute/tap-count.sh     scripts/tap-count.sh (how cases are counted)
#   /irqroute/examples/        build/examples/*
#   /irqroute/bench/           build/bench/* (if built)
#   /irqroute/fuzz/            build/fuzz/* (if built: make fuzz-build)
#   /irqroute/canary/          with --canaries: <name>.ko for each canary of
#                              selftests/CANARIES (build/canary/<name>/<abi>/,
#                              make canaries) and that list as CANARIES
#   /irqroute/qemu/            with --qemu BIN (mode qemu, the end-to-end
#                              test): BIN as qemu-system-x86_64 and the
#                              firmware it needs (firmware/, its -L), the
#                              L2 guest (l2/vmlinuz: this kernel;
#                              l2/initramfs.cpio.gz: mkinitramfs-l2.sh),
#                              selftests/qemu/run-e2e.sh, irqroute-peek
#                              (static) and irqroute-peek.so, and
#                              irqroute's ioctl numbers (irqroute-ioctls);
#                              strace in /usr/bin; BIN's and strace's
#                              shared libraries (ldd) in
#                              /lib/x86_64-linux-gnu, the loader in /lib64
#
# usage: mkinitramfs.sh --kver <abi> --out <file.cpio.gz> [--build <dir>]
#                       [--canaries] [--ko <irqroute.ko>] [--qemu <binary>]

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
BUILD=$ROOT/build
KVER="" OUT="" CANARIES=0 KO="" QEMU_BIN=""

die() { echo "mkinitramfs: ERROR: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--kver) KVER=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	--canaries) CANARIES=1; shift ;;
	--ko) KO=$2; shift 2 ;;	# e.g. the one dkms built
	--qemu) QEMU_BIN=$2; shift 2 ;;
	*) die "unknown argument $1" ;;
	esac
done
[ -n "$KVER" ] && [ -n "$OUT" ] || die "usage: $0 --kver <abi> --out <file>"

MODDIR=$CACHE/kernels/$KVER/lib/modules/$KVER
[ -f "$MODDIR/modules.dep" ] ||
	die "$MODDIR/modules.dep missing: run scripts/setup-host.sh"
BUSYBOX=$(command -v busybox || true)
[ -x /bin/busybox ] && BUSYBOX=/bin/busybox
[ -n "$BUSYBOX" ] || die "busybox not found (apt-get install busybox-static)"
if command -v file >/dev/null &&
   file -L "$BUSYBOX" | grep -q 'dynamically'; then
	die "$BUSYBOX is dynamically linked: install busybox-static"
fi

# Modules the in-VM runner needs, in the order it loads them. Dependencies
# from modules.dep are put before each module; missing optional ones
# (vfio_virqfd was folded into vfio.ko in 6.2; ccp is only there for
# kvm-amd's SEV, which the debug kernel of build-debug-kernel.sh leaves out,
# and modules.dep pulls it in wherever kvm-amd needs it) are skipped.
WANTED=(irqbypass kvm ccp kvm-amd vfio vfio_iommu_type1 vfio_virqfd
	vfio-pci-core vfio-pci)
OPTIONAL=" vfio_virqfd ccp "

# shellcheck source=scripts/moddep.sh
. "$ROOT/scripts/moddep.sh"
moddep_read "$MODDIR"

for m in "${WANTED[@]}"; do
	if [ -z "${PATHOF[$m]:-}" ]; then
		case $OPTIONAL in *" $m "*) continue ;; esac
		die "module $m not found in $MODDIR/modules.dep"
	fi
	moddep_add "$m"
done

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc} \
	 "$STAGE"/irqroute/{kmod,tests,examples,bench,fuzz}
cp "$BUSYBOX" "$STAGE/bin/busybox"
ln -s busybox "$STAGE/bin/sh"
install -m 0755 "$ROOT/scripts/vm-init.sh" "$STAGE/init"
cp "$ROOT/scripts/tap-count.sh" "$STAGE/irqroute/tap-count.sh"
# The committed case lists the run is checked against.
cp "$ROOT/selftests/CASES" "$STAGE/irqroute/tests/CASES"
cp "$ROOT/selftests/faults/CASES" "$STAGE/irqroute/tests/CASES.faults"
# Static: the initramfs has no libc.
${CC:-cc} -static -O2 -Wall -Werror -o "$STAGE/irqroute/kvm-hold" \
	"$ROOT/scripts/kvm-hold.c"

moddep_stage "$MODDIR" "$STAGE/irqroute/kmod"

if [ -n "$KO" ]; then
	[ -f "$KO" ] || die "no $KO"
	cp "$KO" "$STAGE/irqroute/irqroute.ko"
elif [ -f "$BUILD/$KVER/irqroute.ko" ]; then
	cp "$BUILD/$KVER/irqroute.ko" "$STAGE/irqroute/irqroute.ko"
else
	echo "mkinitramfs: warning: no $BUILD/$KVER/irqroute.ko" >&2
fi

for d in selftests:tests examples:examples bench:bench fuzz:fuzz; do
	src=$BUILD/${d%%:*}
	[ -d "$src" ] || continue
	# Only the runnable outputs and the TESTS lists: no objects.
	find "$src" -maxdepth 1 -type f \
		\( -perm -u+x -o -name TESTS -o -name TESTS.faults \) \
		-exec cp {} "$STAGE/irqroute/${d##*:}/" \;
done

if [ "$CANARIES" = 1 ]; then
	mkdir -p "$STAGE/irqroute/canary"
	grep -v '^[[:space:]]*#' "$ROOT/selftests/CANARIES" | grep . \
		>"$STAGE/irqroute/canary/CANARIES"
	while read -r name _; do
		ko=$BUILD/canary/$name/$KVER/irqroute.ko
		[ -f "$ko" ] || die "no $ko: make canaries KVER=$KVER"
		cp "$ko" "$STAGE/irqroute/canary/$name.ko"
	done <"$STAGE/irqroute/canary/CANARIES"
fi

# A dynamically linked program with the libraries ldd finds for it (a
# library that ldd finds only in build/lib, where make lib puts
# libirqroute, is taken from there), all in /lib/x86_64-linux-gnu, where
# the loader looks without an ld.so.cache.
copy_dynamic() {	# $1 = program, $2 = its path in the initramfs
	local deps lib
	mkdir -p "$STAGE$(dirname "$2")" "$STAGE/lib/x86_64-linux-gnu" "$STAGE/lib64"
	cp -L "$1" "$STAGE$2"
	deps=$(ldd "$1") || die "ldd $1 failed"
	if echo "$deps" | grep -q 'not found'; then
		deps=$(LD_LIBRARY_PATH=$BUILD/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ldd "$1")
	fi
	if echo "$deps" | grep 'not found' >&2; then
		die "$1 needs the libraries above, found neither by ldd nor in $BUILD/lib"
	fi
	for lib in $(echo "$deps" | sed -nE 's/.*=> (\/[^ ]+) .*/\1/p'); do
		cp -L "$lib" "$STAGE/lib/x86_64-linux-gnu/$(basename "$lib")"
	done
	lib=$(echo "$deps" | sed -nE 's/^[[:space:]]*(\/[^ ]*ld-linux[^ ]*) .*/\1/p')
	[ -n "$lib" ] || die "no loader in ldd $1"
	cp -L "$lib" "$STAGE/lib64/$(basename "$lib")"
}

# The firmware QEMU loads for a q35 PC booted with -kernel: Debian's
# qemu-system-data and seabios.
QEMU_FIRMWARE=(bios-256k.bin linuxboot_dma.bin kvmvapic.bin)
FIRMWARE_DIRS=(/usr/share/qemu /usr/share/seabios)

if [ -n "$QEMU_BIN" ]; then
	[ -x "$QEMU_BIN" ] || die "no QEMU binary $QEMU_BIN"
	E2E=$STAGE/irqroute/qemu
	mkdir -p "$E2E/firmware" "$E2E/l2"
	copy_dynamic "$QEMU_BIN" /irqroute/qemu/qemu-system-x86_64
	echo "$QEMU_BIN" >"$E2E/qemu-bin.txt"
	command -v strace >/dev/null ||
		die "no strace (apt-get install strace; scripts/setup-host.sh)"
	copy_dynamic "$(command -v strace)" /usr/bin/strace
	for f in "${QEMU_FIRMWARE[@]}"; do
		found=""
		for d in "${FIRMWARE_DIRS[@]}"; do
			[ -f "$d/$f" ] && { found=$d/$f; break; }
		done
		[ -n "$found" ] || die "no $f in ${FIRMWARE_DIRS[*]} (qemu-system-data, seabios)"
		cp -L "$found" "$E2E/firmware/$f"
	done
	cp "$CACHE/kernels/$KVER/boot/vmlinuz-$KVER" "$E2E/l2/vmlinuz"
	"$ROOT/scripts/mkinitramfs-l2.sh" --kver "$KVER" \
		--out "$E2E/l2/initramfs.cpio.gz"
	install -m 0755 "$ROOT/selftests/qemu/run-e2e.sh" "$E2E/run-e2e.sh"
	${CC:-cc} -static -O2 -Wall -Wextra -Werror -I"$ROOT/uapi" \
		-o "$E2E/irqroute-peek" "$ROOT/selftests/qemu/irqroute-peek.c"
	${CC:-cc} -shared -fPIC -O2 -Wall -Wextra -Werror -I"$ROOT/uapi" \
		-DIRQROUTE_PEEK_PRELOAD -o "$E2E/irqroute-peek.so" \
		"$ROOT/selftests/qemu/irqroute-peek.c" -lpthread
	# "0x<nr> NAME" as strace prints an ioctl number it cannot name.
	sed -nE 's/^#define IRQROUTE_([A-Z_]+)[[:space:]]+_IO[WR]*\(IRQROUTE_TYPE, 0x([0-9a-fA-F]+),.*/\2 \1/p' \
		"$ROOT/uapi/linux/irqroute.h" |
		while read -r nr name; do
			printf '0x%x %s\n' "$((16#$nr))" "$name"
		done >"$E2E/irqroute-ioctls"
	[ -s "$E2E/irqroute-ioctls" ] || die "no ioctl numbers in uapi/linux/irqroute.h"
fi

mkdir -p "$(dirname "$OUT")"
(cd "$STAGE" && find . -print0 | sort -z |
	cpio --null -o -H newc --quiet -R 0:0) | gzip -1 >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "mkinitramfs: $OUT (${ORDER[*]})" >&2
