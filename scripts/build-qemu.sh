#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build QEMU with the patches of integrations/qemu/ (its vfio-pci MSI-X
# path through libirqroute), cached: the build is keyed on the source
# package's version, the patches, the device list, the configure flags
# and libirqroute's public headers, and is redone only when one changes.
#
# The source is Debian bookworm's qemu (apt-get source, from a deb-src
# entry derived from the host's own apt configuration, as setup-host.sh
# does for bookworm-backports): the same 7.2 the test VM runs on, built
# with the toolchain and meson this machine has. sid's QEMU (10.x) wants
# a newer meson and Python venv set-up than bookworm has.
#
# Only what the end-to-end run needs is built: x86_64-softmmu, KVM, no
# TCG, a q35 PC with vfio-pci (integrations/qemu/irqroute-devices.mak).
# The same binary is the control: without "-accel kvm,irqroute=on" it is
# stock QEMU.
#
# usage: build-qemu.sh [--check]
#   --check  print whether the cached build is current; exit 0 if it is,
#            1 if not (builds nothing)
# Prints the binary's path last. Measured here: about 4 minutes on
# 2 cores from an empty cache, source download included.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
QDIR=$CACHE/qemu-src
BUILD=$QDIR/build-irqroute
PREFIX=$QDIR/irqroute-prefix
INTEG=$ROOT/integrations/qemu
SRC_SOURCES=/etc/apt/sources.list.d/irqroute-src.sources
CHECK=0
APT_LOCK=(-o DPkg::Lock::Timeout=600)	# CI runs this beside other apt users

die() { echo "build-qemu: ERROR: $*" >&2; exit 1; }
log() { echo "build-qemu: $*"; }

case ${1:-} in
--check) CHECK=1 ;;
"") ;;
*) die "unknown argument $1" ;;
esac

# shellcheck source=scripts/debian-apt.sh
. "$ROOT/scripts/debian-apt.sh"

DEPS=(dpkg-dev meson ninja-build pkg-config python3 libglib2.0-dev
      libpixman-1-dev zlib1g-dev libfdt-dev)
CONFIGURE=(--target-list=x86_64-softmmu --without-default-features
	   --without-default-devices --with-devices-x86_64=irqroute
	   --disable-tcg --enable-kvm --enable-fdt=system --disable-docs
	   --disable-werror --enable-irqroute)

# The source package's version decides the key; without a deb-src entry
# (a fresh machine) there is no version yet, so nothing is current: empty,
# not an error (apt-cache then exits 100, which set -e would make ours).
version() {
	{ apt-cache showsrc qemu 2>/dev/null || true; } |
		sed -n 's/^Version: //p' | sort -V | tail -n1
}

key() {
	{
		echo "qemu $1"
		echo "configure ${CONFIGURE[*]}"
		cat "$INTEG"/*.patch "$INTEG/irqroute-devices.mak"
		cat "$ROOT/userspace-lib/include/irqroute.h" \
		    "$ROOT/uapi/linux/irqroute.h"
	} | sha256sum | cut -c1-16
}

VER=$(version)
if [ "$CHECK" = 1 ]; then
	if [ -n "$VER" ] && [ -x "$BUILD/qemu-system-x86_64" ] &&
	   [ "$(cat "$BUILD/KEY" 2>/dev/null)" = "$(key "$VER")" ]; then
		log "current: $BUILD/qemu-system-x86_64 (qemu $VER, key $(key "$VER"))"
		exit 0
	fi
	log "not current (qemu ${VER:-source not known yet})"
	exit 1
fi

[ "$(id -u)" = 0 ] || die "run as root (apt-get)"

# --- source entry and build dependencies -------------------------------------
URIS=$(debian_uris)
tmp=$(mktemp)
cat >"$tmp" <<EOF
# Written by irqroute scripts/build-qemu.sh (URIs copied from the host's bookworm entry)
Types: deb-src
URIs: $URIS
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
if ! cmp -s "$tmp" "$SRC_SOURCES" || [ -z "$VER" ]; then
	install -m 0644 "$tmp" "$SRC_SOURCES"
	log "apt-get update (deb-src bookworm)"
	apt-get "${APT_LOCK[@]}" update -q >/dev/null
fi
rm -f "$tmp"
VER=$(version)
[ -n "$VER" ] || die "no qemu source package in bookworm's deb-src"
if ! packages_installed "${DEPS[@]}"; then
	log "apt-get install ${DEPS[*]}"
	apt-get "${APT_LOCK[@]}" install -y -q --no-install-recommends "${DEPS[@]}" >/dev/null
fi

# --- libirqroute, installed where QEMU's pkg-config finds it ------------------
# Always (seconds): QEMU links the shared library with an rpath to it, so a
# library change needs no QEMU rebuild, only a current install.
make -s -C "$ROOT/userspace-lib" O="$QDIR/lib-o" PREFIX="$PREFIX" install \
	>/dev/null

KEY=$(key "$VER")
if [ -x "$BUILD/qemu-system-x86_64" ] && [ "$(cat "$BUILD/KEY" 2>/dev/null)" = "$KEY" ]; then
	log "current (qemu $VER, key $KEY)"
	echo "$BUILD/qemu-system-x86_64"
	exit 0
fi

# --- source tree: Debian's package, then ours ------------------------------------
t0=$(date +%s)
UPVER=${VER#*:}
TREE=$QDIR/qemu-$UPVER-irqroute
mkdir -p "$QDIR/dl"
if [ ! -f "$QDIR/dl/qemu_$UPVER.dsc" ]; then
	log "apt-get source qemu=$VER"
	(cd "$QDIR/dl" && apt-get source -q --download-only "qemu=$VER" >/dev/null 2>&1) ||
		die "apt-get source qemu=$VER failed"
fi
rm -rf "$TREE" "$BUILD"
dpkg-source -q -x "$QDIR/dl/qemu_$UPVER.dsc" "$TREE" >/dev/null
for p in "$INTEG"/*.patch; do
	log "applying ${p##*/}"
	patch -s -d "$TREE" -p1 <"$p" || die "${p##*/} does not apply to qemu $VER"
done
install -m 0644 "$INTEG/irqroute-devices.mak" \
	"$TREE/configs/devices/x86_64-softmmu/irqroute.mak"

# --- configure and build ----------------------------------------------------------
mkdir -p "$BUILD"
log "configure (log: $BUILD/configure.log)"
(cd "$BUILD" && PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig "$TREE/configure" \
	"${CONFIGURE[@]}" --extra-ldflags="-Wl,-rpath,$PREFIX/lib") \
	>"$BUILD/configure.log" 2>&1 ||
	{ tail -n 30 "$BUILD/configure.log"; die "configure failed"; }
log "ninja (log: $BUILD/ninja.log)"
ninja -C "$BUILD" -j"$(nproc)" qemu-system-x86_64 >"$BUILD/ninja.log" 2>&1 ||
	{ grep -A5 -m5 'error' "$BUILD/ninja.log"; die "build failed"; }
ldd "$BUILD/qemu-system-x86_64" | grep -q libirqroute ||
	die "qemu-system-x86_64 is not linked against libirqroute"
echo "$KEY" >"$BUILD/KEY"
log "built qemu $VER with irqroute in $(($(date +%s) - t0)) s"
echo "$BUILD/qemu-system-x86_64"
