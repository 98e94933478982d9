#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The DKMS install (make dkms-install, dkms.conf), checked on the host as
# a user would run it: dkms builds and installs irqroute for Debian's 6.1
# and bookworm-backports' 6.12 kernels, the module it installed for 6.1
# boots in the test VM and passes a quick subset of the selftests, and
# make dkms-remove takes everything away again. Run as root after
# scripts/setup-host.sh; installs dkms (apt, by name) if it is missing.
#
# Cases, one per check, plus the VM's kselftest cases:
#   install      make dkms-install
#   built-6.1    dkms status says installed for $KVER_61; the module is in
#                /lib/modules/$KVER_61/updates/dkms with that vermagic
#   built-6.12   the same for $KVER_612
#   initramfs    the VM's initramfs carries that 6.1 module (vm-run.sh --ko)
#   (the VM)     the selftests of IRQROUTE_DKMS_TESTS, each case counted
#   remove       make dkms-remove: no dkms entry, sources or module left
#
# usage: test-dkms.sh    ends with "N passed, N failed"
#
# Environment: IRQROUTE_DKMS_TESTS (default attach_test,delivery_test).
#
# Measured on a 2-core machine: see Documentation/install.rst.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
TESTS=${IRQROUTE_DKMS_TESTS:-attach_test,delivery_test}
cd "$ROOT"

T0=$(date +%s)
PASSED=0 FAILED=0
TMP=$(mktemp -d)
ok() { echo "ok - $*"; PASSED=$((PASSED + 1)); }
not_ok() { echo "not ok - $*"; FAILED=$((FAILED + 1)); }
finish() {
	echo "=== dkms: $(($(date +%s) - T0))s"
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
	exit $?
}

VERSION=$(cat VERSION)
# A run that stopped half-way leaves nothing installed either.
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	rm -rf "$TMP"
	if command -v dkms >/dev/null &&
	   [ -n "$(dkms status "irqroute/$VERSION" 2>/dev/null)" ]; then
		make -s dkms-remove >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "test-dkms: must run as root" >&2; not_ok "root"; finish; }
# shellcheck disable=SC1091
. "$CACHE/env.sh" || { not_ok "no $CACHE/env.sh: run scripts/setup-host.sh"; finish; }

st=$(dpkg-query -W -f='${db:Status-Status}' dkms 2>/dev/null || true)
if [ "$st" != installed ]; then
	echo "test-dkms: apt-get install dkms" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt=(apt-get -o DPkg::Lock::Timeout=600 -q)
	# Once more after an update, if the lists were stale.
	"${apt[@]}" install -y --no-install-recommends dkms >/dev/null ||
		{ "${apt[@]}" update >/dev/null &&
		  "${apt[@]}" install -y --no-install-recommends dkms >/dev/null; } ||
		{ not_ok "apt-get install dkms"; finish; }
fi

mkdir -p build/logs
# What the VM runs besides the module: the library and the selftests.
if ! nice -n 10 make -j"$(nproc)" lib selftests >build/logs/dkms-build.log 2>&1; then
	tail -n 40 build/logs/dkms-build.log
	not_ok "make lib selftests"
	finish
fi

echo "=== install"
if nice -n 10 make dkms-install >build/logs/dkms-install.log 2>&1; then
	ok "install: make dkms-install"
else
	tail -n 40 build/logs/dkms-install.log
	not_ok "install: make dkms-install"
fi

# built LABEL KVER: dkms installed irqroute for KVER; prints the module.
installed_ko() {
	find "/lib/modules/$1/updates/dkms" -name 'irqroute.ko*' 2>/dev/null |
		head -n1 || true
}
built() {
	local label=$1 kver=$2 st ko vm
	st=$(dkms status "irqroute/$VERSION" -k "$kver" 2>/dev/null || true)
	echo "dkms status: ${st:-(nothing)}"
	ko=$(installed_ko "$kver")
	vm=""
	[ -z "$ko" ] || vm=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	if [ "$st" = "irqroute/$VERSION, $kver, $(uname -m): installed" ] &&
	   [ "$vm" = "$kver" ]; then
		ok "$label: installed for $kver (${ko#/lib/modules/"$kver"/})"
	else
		not_ok "$label: not installed for $kver (module: ${ko:-none}, vermagic: ${vm:-none})"
	fi
}
echo "=== dkms status"
built built-6.1 "$KVER_61"
built built-6.12 "$KVER_612"

echo "=== the DKMS module on $KVER_61 in the VM ($TESTS)"
ko=$(installed_ko "$KVER_61")
if [ -z "$ko" ]; then
	not_ok "initramfs: dkms installed no module for $KVER_61"
	not_ok "vm: not booted"
else
	# dkms compresses the module as the kernel's own are (modules.dep);
	# the VM's busybox insmod wants it plain.
	case $ko in
	*.xz) xz -dc "$ko" >"$TMP/irqroute.ko" ;;
	*.zst) zstd -qdc "$ko" >"$TMP/irqroute.ko" ;;
	*.gz) gzip -dc "$ko" >"$TMP/irqroute.ko" ;;
	*) cp "$ko" "$TMP/irqroute.ko" ;;
	esac
	result=build/logs/$KVER_61-ko-test.result
	rm -f "$result"
	scripts/vm-run.sh --kver "$KVER_61" --mode test --only "$TESTS" \
		--ko "$TMP/irqroute.ko" || true
	# The module in the initramfs the VM booted is the one dkms built.
	mkdir "$TMP/initrd"
	(cd "$TMP/initrd" && gzip -dc "$ROOT/build/initramfs/$KVER_61-ko-test.cpio.gz" |
		cpio -id --quiet '*irqroute/irqroute.ko') || true
	if cmp -s "$TMP/irqroute.ko" "$TMP/initrd/irqroute/irqroute.ko"; then
		ok "initramfs: the VM booted ${ko#/lib/modules/}"
	else
		not_ok "initramfs: the VM's irqroute.ko is not ${ko#/lib/modules/}"
	fi
	if [ -f "$result" ]; then
		read -r p f <"$result"
		PASSED=$((PASSED + p)) FAILED=$((FAILED + f))
		echo "=== vm: $p passed, $f failed (build/logs/$KVER_61-ko-test.log)"
		grep -a '^not ok' "build/logs/$KVER_61-ko-test.log" || true
	else
		not_ok "vm: no result (build/logs/$KVER_61-ko-test.log)"
	fi
fi

echo "=== remove"
make dkms-remove >build/logs/dkms-remove.log 2>&1 || cat build/logs/dkms-remove.log
left=$(dkms status irqroute 2>/dev/null || true)
left+=$(ls -d "/usr/src/irqroute-$VERSION" /lib/modules/*/updates/dkms/irqroute.ko* 2>/dev/null || true)
if [ -z "$left" ]; then
	ok "remove: make dkms-remove left nothing"
else
	not_ok "remove: left behind: $left"
fi
finish
