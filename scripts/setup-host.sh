#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare a Debian 12 (bookworm) host to build and test irqroute.
# Run as root. Idempotent: a second run only verifies the cache (seconds).
#
# What it sets up:
#   - build and VM packages (apt, by name);
#   - kernel headers for Debian's 6.1 kernel and for bookworm-backports 6.12
#     (the backports source is derived from the host's own debian.sources);
#   - the unsigned kernel images of both ABIs, unpacked (not installed) under
#     $IRQROUTE_CACHE/kernels/<abi>/ with .ko.xz decompressed and depmod run;
#   - the linux-source-6.1 tree at $IRQROUTE_CACHE/linux-6.1 ("make headers"
#     done), for kselftest_harness.h and the KVM selftest library;
#   - a Debian sid chroot ($IRQROUTE_CACHE/sid-root, debootstrap minbase) with
#     the newest linux-headers-7.*-amd64, make and sparse, where the module
#     is built for 7.x (scripts/sid-run.sh), and that kernel's image unpacked
#     like the others (the host's apt is never switched to sid);
#   - $IRQROUTE_CACHE/env.sh with KVER_61, KVER_612, KVER_7, SID_ROOT,
#     LINUX_SRC, SYMVERS_7.
#
# Environment: IRQROUTE_CACHE (default /var/tmp/irqroute-cache),
#              IRQROUTE_REFRESH=1 to re-resolve ABIs and re-download.

set -euo pipefail

CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
DL=$CACHE/dl
ENV_SH=$CACHE/env.sh
BPO_SOURCES=/etc/apt/sources.list.d/irqroute-backports.sources
HOST_SOURCES=/etc/apt/sources.list.d/debian.sources

PACKAGES=(build-essential kmod qemu-system-x86 busybox-static cpio xz-utils
	  sparse gnuplot-nox flex bison bc libelf-dev libssl-dev rsync perl
	  python3-docutils debootstrap zstd rustc cargo strace)

log() { echo "setup-host: $*" >&2; }
die() { echo "setup-host: ERROR: $*" >&2; exit 1; }
# debian_uris, packages_installed
# shellcheck source=scripts/debian-apt.sh
. "$(dirname "$0")/debian-apt.sh"

[ "$(id -u)" = 0 ] || die "must run as root"
mkdir -p "$DL" "$CACHE/kernels"

export DEBIAN_FRONTEND=noninteractive
APT_LOCK=(-o DPkg::Lock::Timeout=600)

# ---------------------------------------------------------------------------
# Fast path: everything recorded in env.sh is still present.
# ---------------------------------------------------------------------------

kernel_ready() {	# $1 = abi
	[ -f "$CACHE/kernels/$1/.unpacked" ] &&
		[ -d "/lib/modules/$1/build" ] &&
		packages_installed "linux-headers-$1"
}

cache_complete() {
	[ -f "$ENV_SH" ] || return 1
	# shellcheck disable=SC1090
	. "$ENV_SH"
	[ -n "${KVER_61:-}" ] && [ -n "${KVER_612:-}" ] || return 1
	packages_installed "${PACKAGES[@]}" &&
		kernel_ready "$KVER_61" && kernel_ready "$KVER_612" &&
		[ -f "$LINUX_SRC/.irqroute-headers-done" ] &&
		[ -n "${KVER_7:-}" ] && [ -f "$SID_ROOT/.irqroute-ready" ] &&
		[ -f "$IRQROUTE_KERNELS/$KVER_7/.unpacked" ] &&
		[ -s "$SYMVERS_7" ] && [ -f "$BPO_SOURCES" ]
}

if [ "${IRQROUTE_REFRESH:-0}" != 1 ] && cache_complete; then
	log "cache complete ($ENV_SH): KVER_61=$KVER_61 KVER_612=$KVER_612"
	exit 0
fi

# ---------------------------------------------------------------------------
# Debian mirror URIs, from the host's own apt configuration (never hard-coded).
# ---------------------------------------------------------------------------

URIS=$(debian_uris)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

write_sources() {	# $1 = file, $2 = suite
	local tmp
	tmp=$(mktemp)
	cat >"$tmp" <<-EOF
	# Written by irqroute scripts/setup-host.sh (URIs copied from $HOST_SOURCES)
	Types: deb
	URIs: $URIS
	Suites: $2
	Components: main
	Signed-By: $KEYRING
	EOF
	if ! cmp -s "$tmp" "$1"; then
		install -m 0644 "$tmp" "$1"
		log "wrote $1 (Suites: $2)"
	fi
	rm -f "$tmp"
}

write_sources "$BPO_SOURCES" bookworm-backports

log "apt-get update"
apt-get "${APT_LOCK[@]}" update -q >/dev/null

# ---------------------------------------------------------------------------
# Kernel ABIs
# ---------------------------------------------------------------------------
KVER_61=$(apt-cache depends linux-headers-amd64 |
	  sed -nE 's/^[[:space:]]*Depends: linux-headers-(6\.1\.[^[:space:]]*-amd64)$/\1/p' |
	  head -n1)
[ -n "$KVER_61" ] || die "no 6.1 ABI from 'apt-cache depends linux-headers-amd64'"

KVER_612=$(apt-cache pkgnames linux-headers-6.12. |
	   sed -nE 's/^linux-headers-(6\.12\.[0-9]+\+deb12-amd64)$/\1/p' |
	   sort -V | tail -n1)
[ -n "$KVER_612" ] || die "no linux-headers-6.12.*+deb12-amd64 in bookworm-backports"
log "KVER_61=$KVER_61 KVER_612=$KVER_612"

# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------
want=("${PACKAGES[@]}" "linux-headers-$KVER_61" "linux-headers-$KVER_612")
if ! packages_installed "${want[@]}"; then
	log "apt-get install ${want[*]}"
	apt-get "${APT_LOCK[@]}" install -y -q --no-install-recommends \
		"${want[@]}" >/dev/null
fi

# ---------------------------------------------------------------------------
# Kernel images: downloaded, unpacked into the cache, never installed.
# ---------------------------------------------------------------------------
download() {	# $1 = package; prints the .deb path
	local deb
	deb=$(ls "$DL/$1"_*.deb 2>/dev/null | sort -V | tail -n1 || true)
	if [ -z "$deb" ]; then
		log "apt-get download $1"
		(cd "$DL" && apt-get -o APT::Sandbox::User=root download -q "$1" >/dev/null)
		deb=$(ls "$DL/$1"_*.deb | sort -V | tail -n1)
	fi
	echo "$deb"
}

# Unpacks kernel packages into $CACHE/kernels/<abi>, in the layout the
# test VM takes (boot/vmlinuz-<abi>, lib/modules/<abi>), modules
# decompressed and depmod run.
unpack_debs() {	# $1 = abi, rest = .debs
	local abi=$1 dir=$CACHE/kernels/$1 deb
	shift
	rm -rf "$dir"
	mkdir -p "$dir/boot"
	for deb in "$@"; do
		log "unpacking $(basename "$deb")"
		dpkg -x "$deb" "$dir"
	done
	# sid's split image: usr/lib/modules/<abi>/vmlinuz, no lib/ or boot/.
	[ -e "$dir/lib" ] || ln -s usr/lib "$dir/lib"
	[ -e "$dir/boot/vmlinuz-$abi" ] ||
		ln -s "../lib/modules/$abi/vmlinuz" "$dir/boot/vmlinuz-$abi"
	for f in System.map config; do
		[ -e "$dir/boot/$f-$abi" ] ||
			ln -s "../lib/modules/$abi/$f" "$dir/boot/$f-$abi"
	done
	find "$dir/lib/modules/$abi" -name '*.ko.xz' -print0 |
		xargs -0 -r -n 64 xz -d -f
	find "$dir/lib/modules/$abi" -name '*.ko.zst' -print0 |
		xargs -0 -r -n 64 zstd -q -d --rm
	depmod -b "$dir" "$abi"
	ls "$dir/boot/vmlinuz-$abi" >/dev/null
	touch "$dir/.unpacked"
}

unpack_kernel() {	# $1 = abi
	[ -f "$CACHE/kernels/$1/.unpacked" ] ||
		unpack_debs "$1" "$(download "linux-image-$1-unsigned")"
}

unpack_kernel "$KVER_61"
unpack_kernel "$KVER_612"

# ---------------------------------------------------------------------------
# linux-source-6.1 tree (shared with the other helpers: serialised by flock)
# ---------------------------------------------------------------------------
LINUX_SRC=$CACHE/linux-6.1
download linux-source-6.1 >/dev/null
(
	flock 9
	if [ ! -d "$LINUX_SRC" ]; then
		log "extracting linux-source-6.1 into $LINUX_SRC"
		rm -rf "$CACHE/srcdeb" "$CACHE/linux-source-6.1"
		dpkg -x "$(download linux-source-6.1)" "$CACHE/srcdeb"
		tar -C "$CACHE" -xf "$CACHE"/srcdeb/usr/src/linux-source-6.1.tar.xz
		mv "$CACHE/linux-source-6.1" "$LINUX_SRC"
		rm -rf "$CACHE/srcdeb"
	fi
	if [ ! -f "$LINUX_SRC/.irqroute-headers-done" ]; then
		log "make headers in $LINUX_SRC"
		make -s -C "$LINUX_SRC" -j"$(nproc)" headers >/dev/null
		touch "$LINUX_SRC/.irqroute-headers-done"
	fi
) 9>"$CACHE/.src.lock"

# ---------------------------------------------------------------------------
# Linux 7.x: Debian sid's newest, built in a sid chroot (its headers need
# sid's gcc) and booted from sid's packages. The host's apt never sees sid.
# ---------------------------------------------------------------------------
SID_ROOT=$CACHE/sid-root
sid() { chroot "$SID_ROOT" "$@"; }
# Serialised with other setups and with scripts/sid-run.sh (shared lock).
exec 8>"$CACHE/.sid.lock"
flock 8

if [ ! -f "$SID_ROOT/.irqroute-ready" ] || [ "${IRQROUTE_REFRESH:-0}" = 1 ]; then
	# debootstrap removes its debootstrap/ directory only on success.
	if [ ! -x "$SID_ROOT/usr/bin/apt-get" ] || [ -d "$SID_ROOT/debootstrap" ]; then
		log "debootstrap sid into $SID_ROOT"
		# A killed debootstrap can leave its mounts behind.
		awk -v r="$SID_ROOT/" 'index($2, r) == 1 { print $2 }' \
			/proc/self/mounts | sort -r | xargs -r -n 1 umount -l
		rm -rf --one-file-system "$SID_ROOT"
		debootstrap --variant=minbase --keyring="$KEYRING" sid \
			"$SID_ROOT" "${URIS%% *}" >"$CACHE/sid-debootstrap.log" 2>&1 ||
			die "debootstrap sid failed: $CACHE/sid-debootstrap.log"
	fi
	# Signatures are still checked; a mirror or snapshot whose sid
	# Release is past its Valid-Until must not stop the build.
	echo 'Acquire::Check-Valid-Until "false";' \
		>"$SID_ROOT/etc/apt/apt.conf.d/99irqroute"
	log "apt-get update (sid chroot)"
	sid apt-get update -q >/dev/null
	# Newest 7.x ABI (not -rt/-cloud) that has both headers and an image:
	# the image (linux-signed-amd64) can be published days after them.
	abi7=$(sid apt-cache pkgnames linux-binary-7. |
	       sed -nE '/-(rt|cloud)-amd64$/d; s/^linux-binary-(7\..*)-amd64$/\1/p' |
	       while read -r v; do
		       sid apt-cache show "linux-headers-$v-amd64" >/dev/null 2>&1 &&
			       echo "$v"
	       done | sort -V | tail -n1 || true)
	[ -n "$abi7" ] || die "no 7.x in sid with linux-headers and linux-binary"
	KVER_7=$abi7-amd64
	log "KVER_7=$KVER_7: headers, make and sparse in the chroot"
	# (dpkg's "Can not write log (Is /dev/pts mounted?)" is harmless.)
	sid env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "linux-headers-$KVER_7" make sparse \
		>"$CACHE/sid-install.log" 2>&1 ||
		{ cat "$CACHE/sid-install.log"; die "apt-get install in the sid chroot failed"; }
	sid apt-get clean
	# Debian's split headers lack scripts/checker-valid.sh, which kbuild
	# runs to ask whether sparse works before C=1/C=2. The stand-in asks
	# the same: sparse exits 0 even on an error, so it works if it parses
	# a line of C without printing one.
	src=$(readlink -f "$SID_ROOT/lib/modules/$KVER_7/source")
	cv=$src/scripts/checker-valid.sh
	case $src in "$SID_ROOT"/*) ;; *) die "bad $KVER_7 source link: $src" ;; esac
	if [ ! -e "$cv" ] || grep -q irqroute "$cv"; then
		cat >"$cv" <<-'EOF'
		#!/bin/sh
		# irqroute setup-host.sh: stand-in, missing from the package.
		command -v "$1" >/dev/null 2>&1 || { echo 0; exit 0; }
		if echo 'static int x __attribute__((unused));' |
		   "$@" - 2>&1 | grep -q error; then echo 0; else echo 1; fi
		EOF
		chmod 755 "$cv"
	fi
	echo "$KVER_7" >"$SID_ROOT/.irqroute-ready"
fi
KVER_7=$(cat "$SID_ROOT/.irqroute-ready")
# The kernel: split into linux-binary (vmlinuz), linux-modules and
# linux-base (System.map, config, modules.builtin).
if [ ! -f "$CACHE/kernels/$KVER_7/.unpacked" ]; then
	rm -rf "$SID_ROOT/tmp/irqroute-debs"
	mkdir -p "$SID_ROOT/tmp/irqroute-debs"
	log "downloading the $KVER_7 kernel"
	sid sh -c "cd /tmp/irqroute-debs && apt-get download -q \
		-o APT::Sandbox::User=root \
		linux-binary-$KVER_7 linux-modules-$KVER_7 \
		linux-base-$KVER_7 >/dev/null"
	unpack_debs "$KVER_7" "$SID_ROOT"/tmp/irqroute-debs/*.deb
	rm -rf "$SID_ROOT/tmp/irqroute-debs"
fi
exec 8>&-
SYMVERS_7=$SID_ROOT/usr/src/linux-headers-$KVER_7/Module.symvers
[ -s "$SYMVERS_7" ] || die "no $SYMVERS_7"

# ---------------------------------------------------------------------------
# env.sh: both shell- and make-includable (no quotes, no spaces in values).
# ---------------------------------------------------------------------------
cat >"$ENV_SH.tmp" <<EOF
# Generated by scripts/setup-host.sh
export KVER_61=$KVER_61
export KVER_612=$KVER_612
export LINUX_SRC=$LINUX_SRC
export KVER_7=$KVER_7
export SID_ROOT=$SID_ROOT
export SYMVERS_7=$SYMVERS_7
export IRQROUTE_KERNELS=$CACHE/kernels
EOF
mv "$ENV_SH.tmp" "$ENV_SH"
log "done: $ENV_SH"
cat "$ENV_SH" >&2
