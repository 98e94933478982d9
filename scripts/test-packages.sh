#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages of debian/, built and used as a user would: build
# them in a copy of the work tree, check them with lintian, install them in
# a clean bookworm chroot and build a program against libirqroute there.
# Run as root on Debian 12; installs its own build tools (apt, by name).
#
# Cases, one per step; a step whose input is missing fails too:
#   build     dpkg-buildpackage -us -uc -b (the .debs are left in
#             build/packages/, the log in build/logs/packages-build.log)
#   version   VERSION = debian/changelog's = the .pc's
#   contents  each package holds what it must (module sources, udev rule,
#             modules-load.d entry; the library; headers, .a, .so link,
#             .pc, every man page), and libirqroute-dev nothing in
#             /usr/include/linux, which is linux-libc-dev's
#   lintian   lintian --info --display-info: no tag
#   chroot    debootstrap --variant=minbase bookworm, cached as
#             $IRQROUTE_CACHE/bookworm-chroot.tar and unpacked afresh
#   install   apt-get install ./*.deb gcc libc6-dev pkg-config in it
#   dkms      the package's postinst added irqroute to dkms there
#   link      cc prog.c $(pkg-config --cflags --libs libirqroute), run it;
#             with a /usr/include/linux/irqroute.h in the chroot that
#             stands for the kernel headers' (#error), cc -M names
#             /usr/include/irqroute/linux/irqroute.h
#   static    the same with -static against libirqroute.a, run it
#
# usage: test-packages.sh [--keep]    ends with "N passed, N failed"
#   --keep: leave the temporary tree and chroot (the path is printed)
#
# Measured on a 2-core machine: 53-82 s with the cache filled, 2-3.5 min
# the first time (debootstrap); Documentation/install.rst has the details.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
CHROOT_TAR=$CACHE/bookworm-chroot.tar
# .debs apt fetched into the chroot before, so that a warm run downloads
# nothing; the chroot itself stays the clean one of the tarball.
CHROOT_DEBS=$CACHE/bookworm-chroot-debs
HOST_SOURCES=/etc/apt/sources.list.d/debian.sources
KEEP=0

while [ $# -gt 0 ]; do
	case $1 in
	--keep) KEEP=1; shift ;;
	*) echo "usage: $0 [--keep]" >&2; exit 2 ;;
	esac
done

TOOLS=(build-essential debhelper dh-dkms dkms lintian debootstrap
       pkg-config fakeroot man-db rsync debian-archive-keyring)
APT_LOCK=(-o DPkg::Lock::Timeout=600)
export DEBIAN_FRONTEND=noninteractive

T0=$(date +%s)
PASSED=0 FAILED=0 BLOCKED=""
TMP=$(mktemp -d /var/tmp/irqroute-packages.XXXXXX)
R=$TMP/chroot

log() { echo "test-packages: $*" >&2; }

# Mounts under $TMP (debootstrap's own, or /proc if a step needed it) go
# before anything is removed.
unmount_all() {
	local m
	awk -v t="$TMP/" 'index($2, t) == 1 { print $2 }' /proc/mounts |
		sort -r | while read -r m; do
			umount -l "$m" || true
		done
}
cleanup() {
	unmount_all
	if awk -v t="$TMP/" 'index($2, t) == 1 { f = 1 } END { exit !f }' \
		/proc/mounts; then
		log "still mounted under $TMP: not removed"
	elif [ "$KEEP" = 1 ]; then
		log "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT

# step NAME FUNCTION: one case. FUNCTION runs under set -e in a subshell;
# once a step has failed, those that need its output (NEEDS) fail
# without running.
step() {
	local name=$1 fn=$2 t rc
	shift 2
	t=$(date +%s)
	echo "=== $name"
	if [ -n "$BLOCKED" ]; then
		echo "not ok - $name (not run: $BLOCKED failed)"
		FAILED=$((FAILED + 1))
		return
	fi
	set +e
	( set -e; "$fn" )
	rc=$?
	set -e
	if [ "$rc" -eq 0 ]; then
		echo "ok - $name ($(($(date +%s) - t))s)"
		PASSED=$((PASSED + 1))
	else
		echo "not ok - $name (exit status $rc, $(($(date +%s) - t))s)"
		FAILED=$((FAILED + 1))
		# Every later step needs the packages; those after chroot
		# need it.
		case $name in build | chroot | install) BLOCKED=$name ;; esac
	fi
}


# Debian mirror URIs, from the host's own apt configuration (never
# hard-coded).
die() { echo "test-packages: ERROR: $*" >&2; exit 1; }
# shellcheck source=scripts/debian-apt.sh
. "$ROOT/scripts/debian-apt.sh"

# apt-get in the chroot. The host's apt does not check Valid-Until and
# Date (its mirror may be a fixed snapshot); nor does the chroot's.
CHROOT_APT=(apt-get -q -o Acquire::Check-Valid-Until=false
	    -o Acquire::Check-Date=false)

# --- the steps ---------------------------------------------------------------

SRC=$TMP/src/irqroute
OUT=$TMP/src
DEBS=(irqroute-dkms libirqroute1 libirqroute-dev)
VERSION=$(cat "$ROOT/VERSION")
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
CHANGES=$OUT/irqroute_${VERSION}_$ARCH.changes

do_build() {
	mkdir -p "$ROOT/build/logs" "$SRC"
	# The work tree as it is (uncommitted changes too), without what
	# was built in it.
	rsync -a --exclude=/build --exclude=/.git "$ROOT/" "$SRC/"
	if ! (cd "$SRC" && nice -n 10 dpkg-buildpackage -us -uc -b) \
		>"$ROOT/build/logs/packages-build.log" 2>&1; then
		tail -n 40 "$ROOT/build/logs/packages-build.log"
		return 1
	fi
	rm -rf "$ROOT/build/packages"
	mkdir -p "$ROOT/build/packages"
	cp "$OUT"/*.deb "$OUT"/*.changes "$OUT"/*.buildinfo "$ROOT/build/packages/"
	ls -l "$ROOT/build/packages/"
}

deb() { echo "$OUT/${1}_${VERSION}_$([ "$1" = irqroute-dkms ] && echo all || echo "$ARCH").deb"; }

do_version() {
	local cl pc
	cl=$(cd "$SRC" && dpkg-parsechangelog -S Version)
	pc=$(dpkg-deb --fsys-tarfile "$(deb libirqroute-dev)" |
	     tar -xO "./usr/lib/$MA/pkgconfig/libirqroute.pc" |
	     sed -n 's/^Version: //p')
	echo "VERSION $VERSION, debian/changelog $cl, libirqroute.pc $pc"
	[ "$cl" = "$VERSION" ] && [ "$pc" = "$VERSION" ]
}

# has PACKAGE PATH...: the .deb holds each PATH (without the leading ./).
has() {
	local pkg=$1 list p missing=""
	shift
	list=$(dpkg-deb -c "$(deb "$pkg")" | awk '{ print $6 }' | sed 's|^\./||')
	for p in "$@"; do
		grep -qxF "$p" <<<"$list" || missing+=" $p"
	done
	[ -z "$missing" ] || { echo "$pkg lacks:$missing"; return 1; }
	echo "$pkg: the $# files checked are there"
}

do_contents() {
	local src=usr/src/irqroute-$VERSION f man=() rc=0
	local mod=("$src/dkms.conf" "$src/Kbuild" "$src/VERSION"
		   usr/lib/udev/rules.d/60-irqroute.rules
		   usr/lib/modules-load.d/irqroute.conf)
	for f in "$ROOT"/module/*.[ch] "$ROOT"/uapi/linux/*.h; do
		mod+=("$src/${f#"$ROOT"/}")
	done
	for f in "$ROOT"/userspace-lib/man/*.[37]; do
		f=${f##*/}
		man+=("usr/share/man/man${f##*.}/$f.gz")
	done
	has irqroute-dkms "${mod[@]}" || rc=1
	has libirqroute1 "usr/lib/$MA/libirqroute.so.1" \
		"usr/lib/$MA/libirqroute.so.$VERSION" || rc=1
	has libirqroute-dev usr/include/irqroute.h \
		usr/include/irqroute/linux/irqroute.h \
		"usr/lib/$MA/libirqroute.a" "usr/lib/$MA/libirqroute.so" \
		"usr/lib/$MA/pkgconfig/libirqroute.pc" "${man[@]}" || rc=1
	# linux-libc-dev owns /usr/include/linux: a file there would clash
	# with its own if irqroute were ever merged upstream.
	f=$(dpkg-deb -c "$(deb libirqroute-dev)" | awk '{ print $6 }' |
	    grep '^\./usr/include/linux/.' || true)
	if [ -n "$f" ]; then
		echo "libirqroute-dev ships in linux-libc-dev's directory: $f"
		rc=1
	fi
	return $rc
}

do_lintian() {
	local out
	# Tags of every level but pedantic; an override needs a comment.
	out=$(lintian --info --display-info "$CHANGES" 2>&1 |
		grep -v '^running with root privileges' || true)
	[ -z "$out" ] || { echo "$out"; return 1; }
	# And by its exit status.
	lintian --fail-on error,warning,info "$CHANGES" >/dev/null 2>&1
	echo "lintian: no tags on ${DEBS[*]} (+ dbgsym)"
}

do_chroot() {
	local mirror mk
	mkdir -p "$CACHE" "$CHROOT_DEBS"
	(
		flock 9
		if [ ! -s "$CHROOT_TAR" ]; then
			mirror=$(debian_uris)
			mirror=${mirror%% *}	# URIs: may list several
			mk=$TMP/debootstrap
			log "debootstrap --variant=minbase bookworm (cached as $CHROOT_TAR)"
			nice -n 10 debootstrap --variant=minbase bookworm "$mk" \
				"$mirror" >"$TMP/debootstrap.log" 2>&1 ||
				{ tail -n 30 "$TMP/debootstrap.log"; exit 1; }
			unmount_all
			tar -C "$mk" -cf "$CHROOT_TAR.tmp" .
			mv "$CHROOT_TAR.tmp" "$CHROOT_TAR"
			rm -rf "$mk"
		fi
	) 9>"$CACHE/.bookworm-chroot.lock"
	mkdir "$R"
	tar -C "$R" -xf "$CHROOT_TAR"
	# Name resolution for apt, as the host has it; no daemons started.
	cp /etc/resolv.conf "$R/etc/resolv.conf"
	printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
	chmod 755 "$R/usr/sbin/policy-rc.d"
	echo "chroot: $(du -sh "$R" | cut -f1), $(cat "$R/etc/debian_version")"
}

do_install() {
	local p
	mkdir -p "$R/debs"
	for p in "${DEBS[@]}"; do
		cp "$(deb "$p")" "$R/debs/"
	done
	cp "$CHROOT_DEBS"/*.deb "$R/var/cache/apt/archives/" 2>/dev/null || true
	# dkms, run by irqroute-dkms's postinst, needs /proc (and /dev/fd,
	# a link into it). Unmounted after the dkms step, and by the trap.
	mount -t proc proc "$R/proc"
	chroot "$R" "${CHROOT_APT[@]}" update >/dev/null
	# libc6-dev: gcc only recommends it (the static link needs libc.a).
	chroot "$R" sh -c "cd /debs && ${CHROOT_APT[*]} install -y \
		--no-install-recommends ./*.deb gcc libc6-dev pkg-config" \
		>"$TMP/install.log" 2>&1 ||
		{ tail -n 40 "$TMP/install.log"; return 1; }
	cp -n "$R"/var/cache/apt/archives/*.deb "$CHROOT_DEBS/" 2>/dev/null || true
	grep -E '^(Setting up (irqroute|libirqroute)|Module build|Error)' \
		"$TMP/install.log" || true
	chroot "$R" dpkg-query -W "${DEBS[@]}"
}

do_dkms() {
	local st
	# No kernel headers in the chroot: dkms adds the module and builds
	# it for no kernel (scripts/test-dkms.sh builds it on the host).
	st=$(chroot "$R" dkms status irqroute)
	echo "dkms status: $st"
	grep -q "^irqroute/$VERSION: added" <<<"$st"
	umount "$R/proc"
}

write_prog() {
	cat >"$R/root/prog.c" <<-'EOF'
	#include <stdio.h>
	#include <irqroute.h>
	#include <linux/irqroute.h>

	int main(int argc, char **argv)
	{
		struct irqroute *ir;

		(void)argv;
		/* Linked, not used: attach needs a KVM VM. */
		if (argc > 1 && irqroute_attach(-1, NULL, &ir) == 0)
			irqroute_detach(ir);
		/* Both headers are there: the uapi's constant, the version. */
		printf("%d %s\n", IRQROUTE_API_VERSION, irqroute_version());
		return 0;
	}
	EOF
}

do_link() {
	local v deps
	write_prog
	# What linux-libc-dev would ship if irqroute were merged upstream:
	# pkg-config's flags must still give the library's copy.
	printf '#error "the kernel headers'"'"' linux/irqroute.h"\n' \
		>"$R/usr/include/linux/irqroute.h"
	# shellcheck disable=SC2016 # expanded in the chroot
	deps=$(chroot "$R" sh -c 'cd /root
		cc -M prog.c $(pkg-config --cflags libirqroute)')
	deps=$(sed 's/[[:space:]\\]\{1,\}/\n/g' <<<"$deps" |
	       grep 'linux/irqroute\.h$')
	echo "<linux/irqroute.h>: $deps"
	[ "$deps" = /usr/include/irqroute/linux/irqroute.h ]
	# shellcheck disable=SC2016 # expanded in the chroot
	chroot "$R" sh -exc 'cd /root
		cc -Wall -Werror -o prog prog.c $(pkg-config --cflags --libs libirqroute)'
	chroot "$R" sh -c 'readelf -d /root/prog | grep NEEDED'
	v=$(chroot "$R" /root/prog)
	echo "prog: api, libirqroute: $v"
	[ "${v#* }" = "$VERSION" ]
}

do_static() {
	local v
	write_prog
	# shellcheck disable=SC2016 # expanded in the chroot
	chroot "$R" sh -exc 'cd /root
		cc -static -Wall -Werror -o prog-static prog.c \
			$(pkg-config --static --cflags --libs libirqroute)'
	chroot "$R" readelf -d /root/prog-static >"$TMP/dynamic" 2>&1 || true
	if grep -q NEEDED "$TMP/dynamic"; then
		cat "$TMP/dynamic"
		return 1
	fi
	v=$(chroot "$R" /root/prog-static)
	echo "prog-static: static; api, libirqroute: $v"
	[ "${v#* }" = "$VERSION" ]
}

[ "$(id -u)" = 0 ] || die "must run as root (apt, debootstrap, chroot)"
if ! packages_installed "${TOOLS[@]}"; then
	log "apt-get install ${TOOLS[*]}"
	apt-get "${APT_LOCK[@]}" install -y -q --no-install-recommends \
		"${TOOLS[@]}" >/dev/null ||
		{ apt-get "${APT_LOCK[@]}" update -q >/dev/null &&
		  apt-get "${APT_LOCK[@]}" install -y -q --no-install-recommends \
			"${TOOLS[@]}" >/dev/null; }
fi

step build do_build
step version do_version
step contents do_contents
step lintian do_lintian
step chroot do_chroot
step install do_install
step dkms do_dkms
step link do_link
step static do_static

echo "=== packages: $(($(date +%s) - T0))s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
