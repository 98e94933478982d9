#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the debug kernel the irqroute selftests run under with
# scripts/run-debug-tests.sh: Debian's linux-source-6.1 with KASAN (generic,
# inline), lockdep (PROVE_LOCKING), DEBUG_ATOMIC_SLEEP, kmemleak and fault
# injection, plus what KVM (kvm-amd), VFIO and the test VM need.
#
# Everything lives in the cache, outside the repository:
#   $IRQROUTE_CACHE/debug-kernel/src        copy of $IRQROUTE_CACHE/linux-6.1,
#                                           kept clean (the original is used
#                                           by other builds and is not clean)
#   $IRQROUTE_CACHE/debug-kernel/obj        make O= build tree; also the
#                                           kbuild dir for irqroute.ko
#   $IRQROUTE_CACHE/debug-kernel/<release>/ the installed kernel, laid out
#                                           like an unpacked Debian image:
#       boot/{vmlinuz,System.map,config}-<release>, Module.symvers,
#       lib/modules/<release>/ (kvm, kvm-amd, irqbypass, vfio*; depmod run;
#       build -> ../obj), config-hash, build-time
#   $IRQROUTE_CACHE/kernels/<release>       symlink to the above, so that
#                                           vm-run.sh --kver <release> and
#                                           mkinitramfs.sh find it
#   $IRQROUTE_CACHE/debug-kernel/RELEASE    <release>, for the other scripts
#
# Idempotent: the wanted .config is generated first (seconds); if the
# installed kernel was built from the same .config, nothing is built.
#
# usage: build-debug-kernel.sh [--force | --check]
#   --check: build nothing; exit 0 if the cached kernel is up to date, 1 if
#            a build would be needed (what .ci/run asks before it runs the
#            debug suite)
# Environment: IRQROUTE_CACHE, JOBS (default 2; the build runs at nice 19).

set -euo pipefail

CACHE=${IRQROUTE_CACHE:-/var/tmp/irqroute-cache}
ORIG=$CACHE/linux-6.1
DK=$CACHE/debug-kernel
SRC=$DK/src
OBJ=$DK/obj
CFG=$DK/cfg
JOBS=${JOBS:-2}
LOCALVERSION=-irqroute-debug
FORCE=0 CHECK=0

log() { echo "build-debug-kernel: $*" >&2; }
die() { echo "build-debug-kernel: ERROR: $*" >&2; exit 1; }

case ${1:-} in
--force) FORCE=1 ;;
--check) CHECK=1 ;;
"") ;;
*) die "usage: $0 [--force | --check]" ;;
esac

# Wanted options. Every one is checked after olddefconfig: Kconfig silently
# drops an option whose dependencies are missing.
#
# The test VM: 64-bit, modules that unload, PCI MSI behind an Intel IOMMU
# with interrupt remapping, serial console, initramfs (gzip), devtmpfs, tmpfs,
# and AF_UNIX sockets (the tests pass descriptors with SCM_RIGHTS).
WANT_Y=(64BIT MODULES MODULE_UNLOAD PCI PCI_MSI IOMMU_SUPPORT IRQ_REMAP
	INTEL_IOMMU X86_X2APIC EVENTFD DEVTMPFS BLK_DEV_INITRD RD_GZIP TMPFS
	PROC_FS SYSFS SERIAL_8250 SERIAL_8250_CONSOLE UNIX98_PTYS VIRTUALIZATION
	KALLSYMS NET UNIX
	# EXPERT: BLOCK and VT can only be switched off with it (below).
	EXPERT
	# The debug options this kernel is for.
	DEBUG_KERNEL KASAN KASAN_GENERIC KASAN_INLINE KASAN_VMALLOC
	PROVE_LOCKING PROVE_RCU DEBUG_ATOMIC_SLEEP
	DEBUG_KMEMLEAK
	FAULT_INJECTION FAILSLAB FAIL_PAGE_ALLOC FAULT_INJECTION_USERCOPY
	FAULT_INJECTION_DEBUG_FS DEBUG_FS
	KFENCE SLUB_DEBUG DEBUG_INFO_NONE
	# A stuck CPU or task fails the run as on Debian's kernels (vm-init.sh
	# sets softlockup_panic and a 30 s hung-task timeout).
	SOFTLOCKUP_DETECTOR DETECT_HUNG_TASK
	# Trace events (no function tracer): the tests count KVM's
	# kvm_apic_accept_irq events (selftests/lib/kvmtrace.c).
	FTRACE ENABLE_DEFAULT_TRACERS EVENT_TRACING)
# KVM and VFIO as modules, like Debian's: the VM loads them the same way
# on every kernel, and their unload paths are checked too. KVM_INTEL is not
# needed (the emulated CPU is AMD SVM); KVM_AMD_SEV would pull in ccp.
WANT_M=(KVM KVM_AMD IRQ_BYPASS_MANAGER VFIO VFIO_IOMMU_TYPE1 VFIO_VIRQFD
	VFIO_PCI_CORE VFIO_PCI)
# Off: not needed by the VM, or slower to build. Kmemleak scans only when
# asked (vm-init.sh, after the run): no periodic scan thread racing with the
# tests, and a report that depends on nothing but the run. No debug info:
# the traces are symbolised with kallsyms, and the build is much faster.
WANT_N=(KVM_INTEL KVM_AMD_SEV INTEL_IOMMU_SVM VFIO_NOIOMMU
	DEBUG_KMEMLEAK_AUTO_SCAN DEBUG_KMEMLEAK_DEFAULT_OFF DEBUG_INFO
	MODULE_SIG MODVERSIONS LOCALVERSION_AUTO
	ATA SCSI MD BLK_DEV EXT4_FS ISO9660_FS DRM FB SOUND USB_SUPPORT HID
	AGP EFI SECURITY AUDIT
	HIBERNATION SUSPEND FUNCTION_TRACER KPROBES PROFILING
	# Trimmed so that a fresh machine's CI run can build it (a third of
	# defconfig's objects): the VM boots from an initramfs on a serial
	# console, and the tests use AF_UNIX sockets and nothing else of the
	# network. No block layer, no IP stack, no network, input, display,
	# sensor or power-management drivers.
	BLOCK INET NETDEVICES WIRELESS WLAN CFG80211 RFKILL NET_9P
	NETFILTER NET_SCHED ETHTOOL_NETLINK
	INPUT_KEYBOARD INPUT_MOUSE INPUT_JOYSTICK INPUT_TABLET
	INPUT_TOUCHSCREEN INPUT_MISC VT
	PCCARD WATCHDOG I2C HW_RANDOM EDAC
	VIRTIO_MENU NUMA IA32_EMULATION X86_X32_ABI BPF_SYSCALL
	NFS_FS NETWORK_FILESYSTEMS MISC_FILESYSTEMS QUOTA
	MSDOS_FS VFAT_FS HUGETLBFS MACINTOSH_DRIVERS X86_MCE
	XEN HYPERV MICROCODE RTC_CLASS NVRAM
	CGROUP_BPF KEXEC CRASH_DUMP)

# ---------------------------------------------------------------------------
[ -f "$ORIG/Makefile" ] ||
	die "$ORIG missing: run scripts/setup-host.sh (it extracts linux-source-6.1)"
mkdir -p "$DK" "$CACHE/kernels"
exec 9>"$DK/.lock"
flock 9

# A clean copy of the source tree: the original has had `make headers`
# (arch/x86/include/generated), so `make O=` refuses to use it. Copied again
# when the original changes (a new linux-source-6.1).
src_id=$(sha256sum "$ORIG/Makefile" | cut -c1-16)
if [ "$(cat "$SRC/.irqroute-src-id" 2>/dev/null)" != "$src_id" ]; then
	[ "$CHECK" = 0 ] || { log "not built (no source copy for $src_id)"; exit 1; }
	log "copying $ORIG to $SRC (clean tree for make O=)"
	rm -rf "$SRC" "$SRC.tmp" "$OBJ"
	flock "$CACHE/.src.lock" cp -a "$ORIG" "$SRC.tmp"
	make -s -C "$SRC.tmp" mrproper
	rm -f "$SRC.tmp/.irqroute-headers-done"
	echo "$src_id" >"$SRC.tmp/.irqroute-src-id"
	mv "$SRC.tmp" "$SRC"
fi

kmake() {	# $1 = O= dir, rest = make arguments
	local o=$1
	shift
	make -s -C "$SRC" O="$o" LOCALVERSION= "$@"
}

# ---------------------------------------------------------------------------
# The wanted .config, generated in a scratch tree (seconds).
log "generating the .config (defconfig + $((${#WANT_Y[@]} + ${#WANT_M[@]})) options)"
rm -rf "$CFG"
mkdir -p "$CFG"
kmake "$CFG" defconfig >/dev/null
args=(--set-str LOCALVERSION "$LOCALVERSION" --set-val LOG_BUF_SHIFT 20)
for o in "${WANT_Y[@]}"; do args+=(--enable "$o"); done
for o in "${WANT_M[@]}"; do args+=(--module "$o"); done
for o in "${WANT_N[@]}"; do args+=(--disable "$o"); done
# Twice: an option whose dependency is switched on in the same pass may
# only be kept once olddefconfig has seen the dependency.
for pass in 1 2; do
	"$SRC/scripts/config" --file "$CFG/.config" "${args[@]}"
	kmake "$CFG" olddefconfig >/dev/null
done

bad=()
for o in "${WANT_Y[@]}"; do
	grep -qx "CONFIG_$o=y" "$CFG/.config" || bad+=("$o=y")
done
for o in "${WANT_M[@]}"; do
	grep -qx "CONFIG_$o=m" "$CFG/.config" || bad+=("$o=m")
done
for o in "${WANT_N[@]}"; do
	grep -qE "^CONFIG_$o=[ym]" "$CFG/.config" && bad+=("$o=n")
done
[ ${#bad[@]} -eq 0 ] ||
	die "Kconfig did not keep: ${bad[*]} (see $CFG/.config)"

hash=$(grep -v '^#' "$CFG/.config" | sort | sha256sum | cut -c1-16)
kmake "$CFG" syncconfig >/dev/null 2>&1 || true
REL=$(kmake "$CFG" kernelrelease)
[ -n "$REL" ] || die "no kernelrelease"
INST=$DK/$REL

if [ "$FORCE" = 0 ] && [ "$(cat "$INST/config-hash" 2>/dev/null)" = "$hash" ] &&
   [ -f "$INST/boot/vmlinuz-$REL" ]; then
	log "up to date: $INST (config $hash, built in $(cat "$INST/build-time"))"
	echo "$REL" >"$DK/RELEASE"
	ln -sfn "$INST" "$CACHE/kernels/$REL"
	exit 0
fi
if [ "$CHECK" = 1 ]; then
	log "not up to date: $REL would be built (config $hash)"
	exit 1
fi

# ---------------------------------------------------------------------------
mkdir -p "$OBJ"
cp "$CFG/.config" "$OBJ/.config"
kmake "$OBJ" olddefconfig >/dev/null
cmp -s "$CFG/.config" "$OBJ/.config" || die "olddefconfig changed $OBJ/.config"

log "building $REL in $OBJ (nice 19, -j$JOBS; log: $DK/build.log)"
start=$(date +%s)
set +e
time (nice -n 19 make -C "$SRC" O="$OBJ" LOCALVERSION= -j"$JOBS" \
	bzImage modules >"$DK/build.log" 2>&1)
rc=$?
set -e
elapsed=$(($(date +%s) - start))
if [ $rc -ne 0 ]; then
	tail -n 40 "$DK/build.log" >&2
	die "kernel build failed after ${elapsed}s (log: $DK/build.log)"
fi
log "built in ${elapsed}s"

# ---------------------------------------------------------------------------
log "installing into $INST"
rm -rf "$INST.tmp"
mkdir -p "$INST.tmp/boot"
cp "$OBJ/arch/x86/boot/bzImage" "$INST.tmp/boot/vmlinuz-$REL"
cp "$OBJ/System.map" "$INST.tmp/boot/System.map-$REL"
cp "$OBJ/.config" "$INST.tmp/boot/config-$REL"
cp "$OBJ/Module.symvers" "$INST.tmp/Module.symvers"
kmake "$OBJ" INSTALL_MOD_PATH="$INST.tmp" INSTALL_MOD_STRIP=1 \
	modules_install >/dev/null
ln -sfn "$OBJ" "$INST.tmp/lib/modules/$REL/build"
rm -f "$INST.tmp/lib/modules/$REL/source"
echo "${elapsed}s (-j$JOBS, nice 19, $(nproc) CPUs)" >"$INST.tmp/build-time"
echo "$hash" >"$INST.tmp/config-hash"
rm -rf "$INST"
mv "$INST.tmp" "$INST"
ln -sfn "$INST" "$CACHE/kernels/$REL"
echo "$REL" >"$DK/RELEASE"
log "done: $REL ($INST; kbuild dir $OBJ)"
