# SPDX-License-Identifier: GPL-2.0
#
# Top-level build of irqroute. Kernel ABIs and paths come from the cache that
# scripts/setup-host.sh fills ($(IRQROUTE_CACHE)/env.sh).
#
#   make module [KVER=<abi>]   irqroute.ko -> build/<abi>/irqroute.ko
#                              (6.1, 6.12 and 7.x when KVER is not given;
#                              7.x in the sid chroot, scripts/sid-run.sh)
#   make lib                   build/lib/libirqroute.{a,so.1}
#   make lib-check             the library's host tests: unit tests, ABI
#                              check, man-page check
#   make canaries [KVER=<abi>] irqroute.ko with one known bug each
#                              (module/canary.h, selftests/CANARIES) ->
#                              build/canary/<name>/<abi>/irqroute.ko
#   make selftests             build/selftests/<tests> + TESTS (with the
#                              Rust crate's VM test, see make rust)
#   make rust                  the Rust crate userspace-lib/rust with
#                              Debian's rustc/cargo, offline ->
#                              build/rust/irqroute_rust_test
#   make rust-test             the crate's host tests (cargo test)
#   make examples              build/examples/irqroute-demo
#   make bench-build           build/bench/irqroute-bench only
#   make bench [KVER=<abi>]    build, run irqroute-bench in the VM (6.1 by
#                              default; BENCH_KVERS="6.1 6.12" for both),
#                              write build/bench/results.md + cost-vs-n.png
#   make bench-quick           the same in seconds, for CI (no thresholds)
#   make all                   all of the above but the bench runs, both kernels
#   make check                 full test matrix in VMs (6.1 and 6.12)
#   make qemu                  QEMU 7.2 from Debian's source with the
#                              patches of integrations/qemu/ (root; cached:
#                              scripts/build-qemu.sh)
#   make check-qemu            make qemu, then make check-qemu-run
#   make check-qemu-run        the end-to-end test in a 6.1 VM: a real QEMU
#                              (QEMU_BIN=, default the patched build in the
#                              cache) passes an NVMe controller to an L2
#                              Linux guest, stock and with irqroute=on
#                              (scripts/vm-run.sh --mode qemu)
#   make demo                  the main job: demo VMM in a 6.1 VM
#   make lint                  W=1, sparse, checkpatch, symbol exports
#   make setup                 scripts/setup-host.sh (root)
#   make module-debug          irqroute.ko for the debug kernel (KASAN,
#                              lockdep, kmemleak) of build-debug-kernel.sh
#   make check-debug           selftests in a VM on that kernel
#                              (scripts/run-debug-tests.sh; builds it)
#   make fuzz-build            build/fuzz/irqroute-fuzz (run it in the VM
#                              with scripts/run-fuzz.sh)
#   make dkms-src [DESTDIR=d]  the module's sources and dkms.conf ->
#                              d/usr/src/irqroute-<VERSION>
#   make dkms-install          dkms-src, then dkms add, build and install
#                              for every kernel with headers (root)
#   make dkms-remove           dkms remove it from all kernels (root)

IRQROUTE_CACHE ?= /var/tmp/irqroute-cache
export IRQROUTE_CACHE
-include $(IRQROUTE_CACHE)/env.sh

BUILD := $(CURDIR)/build
KVERS := $(KVER_61) $(KVER_612) $(KVER_7)
JOBS ?= $(shell nproc)

# Linux 7.x's headers need Debian sid's gcc: kbuild runs in the sid chroot
# (scripts/sid-run.sh), on the same paths, for that kernel only.
kbuild_in = $(if $(filter $(KVER_7),$(1)),$(CURDIR)/scripts/sid-run.sh )
kbuild_dir = $(if $(filter $(KVER_7),$(1)),$(SID_ROOT))/lib/modules/$(1)/build

# Files the kernel module is built from; copied per kernel so that two
# kernels' objects never share a directory.
MODULE_SRCS := Kbuild VERSION module uapi

.PHONY: all module modules lib selftests examples bench bench-build \
	bench-quick check demo lint setup clean help module-debug check-debug \
	fuzz-build lib-check canaries dkms-src dkms-install dkms-remove \
	rust rust-test check-qemu-run qemu check-qemu

all: modules lib selftests examples bench-build

help:
	@sed -n '3,51p' $(firstword $(MAKEFILE_LIST))

define need_env
	@test -n "$(KVER_61)" -a -n "$(KVER_612)" -a -n "$(KVER_7)" -a -n "$(LINUX_SRC)" || \
		{ echo "no $(IRQROUTE_CACHE)/env.sh: run 'sudo scripts/setup-host.sh' first" >&2; exit 1; }
endef

ifneq ($(KVER),)
module: module-$(KVER)
else
module: modules
endif

modules: $(addprefix module-,$(KVERS))
	$(need_env)

module-%:
	$(need_env)
	@test -d $(call kbuild_dir,$*) || \
		{ echo "no kbuild tree $(call kbuild_dir,$*)" >&2; exit 1; }
	@mkdir -p $(BUILD)/$*/src
	@# --delete drops removed sources; build products are excluded (kept)
	@rsync -a --delete --exclude='*.o' --exclude='.*.cmd' \
		--exclude='*.mod' --exclude='*.mod.c' --exclude='*.ko' \
		$(MODULE_SRCS) $(BUILD)/$*/src/
	$(call kbuild_in,$*)$(MAKE) -C /lib/modules/$*/build M=$(BUILD)/$*/src \
		$(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(JOBS)) modules
	@cp $(BUILD)/$*/src/irqroute.ko $(BUILD)/$*/irqroute.ko
	@echo "  MODULE  build/$*/irqroute.ko"

lib:
	$(MAKE) -C userspace-lib O=$(BUILD)/lib

lib-check:
	$(MAKE) -C userspace-lib O=$(BUILD)/lib check

# One module per canary and kernel, each in its own tree.
CANARIES := $(shell sed -n 's/^\([a-z_][a-z_0-9]*\)[[:space:]].*/\1/p' selftests/CANARIES)
canaries:
	$(need_env)
	@set -e; for k in $(or $(KVER),$(KVERS)); do \
	  for c in $(CANARIES); do \
	    d=$(BUILD)/canary/$$c/$$k; mkdir -p $$d/src; \
	    rsync -a --delete --exclude='*.o' --exclude='.*.cmd' \
		--exclude='*.mod' --exclude='*.mod.c' --exclude='*.ko' \
		$(MODULE_SRCS) $$d/src/; \
	    $$(test "$$k" != "$(KVER_7)" || echo scripts/sid-run.sh) $(MAKE) -C /lib/modules/$$k/build M=$$d/src IRQROUTE_CANARY=$$c \
		$(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(JOBS)) modules \
		>$$d/build.log 2>&1 || { cat $$d/build.log; exit 1; }; \
	    cp $$d/src/irqroute.ko $$d/irqroute.ko; \
	    echo "  CANARY  build/canary/$$c/$$k/irqroute.ko"; \
	  done; \
	done

selftests: lib rust
	$(need_env)
	$(MAKE) -C selftests O=$(BUILD)/selftests LINUX_SRC=$(LINUX_SRC) \
		LIBIRQROUTE=$(BUILD)/lib RUST_TEST=$(BUILD)/rust/irqroute_rust_test

# The Rust crate: Debian's rustc and cargo (what CI has; not a rustup
# toolchain on PATH), offline, writing nothing outside build/rust. Static
# (crt-static): the test VM's initramfs has no libc.
CARGO := /usr/bin/cargo
RUST_ENV := CARGO_HOME=$(BUILD)/rust/cargo-home \
	CARGO_TARGET_DIR=$(BUILD)/rust/target RUSTC=/usr/bin/rustc \
	RUSTDOC=/usr/bin/rustdoc IRQROUTE_LIB_DIR=$(BUILD)/lib \
	RUSTFLAGS="-C target-feature=+crt-static"
define need_cargo
	@test -x $(CARGO) -a -x /usr/bin/rustc || \
		{ echo "no Debian rustc/cargo: apt-get install rustc cargo (scripts/setup-host.sh)" >&2; exit 1; }
endef

rust: lib
	$(need_cargo)
	@mkdir -p $(BUILD)/rust
	cd userspace-lib/rust && $(RUST_ENV) $(CARGO) build --offline --release
	@cp $(BUILD)/rust/target/release/irqroute_rust_test $(BUILD)/rust/
	@echo "  RUST    build/rust/irqroute_rust_test"

# cargo's "test result" lines summed into the "N passed, N failed" line
# that scripts/run-tests.sh counts.
rust-test: lib
	$(need_cargo)
	@mkdir -p $(BUILD)/rust
	@cd userspace-lib/rust && rc=0; \
	$(RUST_ENV) $(CARGO) test --offline >$(BUILD)/rust/test.log 2>&1 || rc=$$?; \
	cat $(BUILD)/rust/test.log; \
	sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' \
		$(BUILD)/rust/test.log | \
		awk '{ p += $$1; f += $$2 } END { print p + 0 " passed, " f + 0 " failed" }'; \
	exit $$rc

examples: lib
	$(need_env)
	@if [ -f examples/Makefile ]; then \
		$(MAKE) -C examples O=$(BUILD)/examples LINUX_SRC=$(LINUX_SRC) \
			LIBIRQROUTE=$(BUILD)/lib; \
	else echo "  SKIP    examples (no examples/Makefile yet)"; fi

bench-build: lib
	$(need_env)
	$(MAKE) -C bench O=$(BUILD)/bench LINUX_SRC=$(LINUX_SRC) \
		LIBIRQROUTE=$(BUILD)/lib

fuzz-build:
	$(need_env)
	$(MAKE) -C selftests/fuzz O=$(BUILD)/fuzz LINUX_SRC=$(LINUX_SRC)

# DKMS (Documentation/install.rst). The version comes from VERSION only;
# dkms.conf holds a placeholder for it, as dh_dkms -V expects.
IRQROUTE_VERSION := $(shell cat $(CURDIR)/VERSION)
DKMS_SRCS := Kbuild VERSION $(wildcard module/*.[ch]) $(wildcard uapi/linux/*.h)
DKMS_DIR = $(DESTDIR)/usr/src/irqroute-$(IRQROUTE_VERSION)
DKMS_MOD = irqroute/$(IRQROUTE_VERSION)

dkms-src:
	@test -n "$(IRQROUTE_VERSION)" || { echo "no VERSION" >&2; exit 1; }
	@rm -rf $(DKMS_DIR)
	@set -e; for f in $(DKMS_SRCS); do \
		install -D -m 644 $$f $(DKMS_DIR)/$$f; done
	@sed 's/#MODULE_VERSION#/$(IRQROUTE_VERSION)/' dkms.conf \
		>$(DKMS_DIR)/dkms.conf
	@echo "  DKMS    $(DKMS_DIR)"

# dkms autoinstall would do the running kernel only: every kernel with a
# kbuild tree instead. A kernel that dkms.conf's BUILD_EXCLUSIVE_CONFIG
# rules out makes dkms exit 77: skipped, not failed.
dkms-install: dkms-remove
	$(MAKE) dkms-src DESTDIR=
	dkms add $(DKMS_MOD)
	@set -e; for d in /lib/modules/*/build; do \
		[ -d $$d ] || continue; k=$${d%/build}; k=$${k##*/}; \
		rc=0; dkms install $(DKMS_MOD) -k $$k || rc=$$?; \
		case $$rc in \
		0) ;; \
		77) echo "  DKMS    $$k: skipped (BUILD_EXCLUSIVE_CONFIG)" ;; \
		*) exit $$rc ;; \
		esac; \
	done
	dkms status $(DKMS_MOD)

# Also removes the sources it copied; one not added is not an error.
# Sources that the irqroute-dkms package installed are the package's.
dkms-remove:
	@command -v dkms >/dev/null || \
		{ echo "no dkms: apt-get install dkms" >&2; exit 1; }
	@if dpkg-query -S /usr/src/irqroute-$(IRQROUTE_VERSION) >/dev/null 2>&1; then \
		echo "/usr/src/irqroute-$(IRQROUTE_VERSION) is the irqroute-dkms package's: apt-get remove irqroute-dkms" >&2; \
		exit 1; fi
	@if dkms status $(DKMS_MOD) | grep -q .; then \
		dkms remove $(DKMS_MOD) --all; fi
	rm -rf /usr/src/irqroute-$(IRQROUTE_VERSION)

# Not part of `all`: they boot VMs (bench/run.sh builds what they need).
BENCH_KVERS ?= $(or $(KVER),6.1)
bench:
	$(need_env)
	BENCH_CMD="make bench BENCH_KVERS='$(BENCH_KVERS)'" \
		bench/run.sh --kvers "$(BENCH_KVERS)"

bench-quick:
	$(need_env)
	BENCH_CMD="make bench-quick BENCH_KVERS='$(BENCH_KVERS)'" \
		bench/run.sh --quick --kvers "$(BENCH_KVERS)"

check:
	scripts/run-tests.sh

# The QEMU it runs is built outside this tree; a libirqroute it cannot find
# otherwise is taken from build/lib (make lib).
QEMU_BIN ?= $(IRQROUTE_CACHE)/qemu-src/build-irqroute/qemu-system-x86_64
qemu:
	scripts/build-qemu.sh

check-qemu: qemu
	$(MAKE) check-qemu-run

check-qemu-run: lib $(if $(KVER_61),module-$(KVER_61))
	$(need_env)
	scripts/vm-run.sh --kver $(KVER_61) --mode qemu --qemu-bin $(QEMU_BIN)

demo:
	scripts/run-demo.sh

lint:
	scripts/lint.sh

setup:
	scripts/setup-host.sh

# The debug kernel lives in the cache; its kbuild dir is an O= tree.
DEBUG_KVER = $(shell cat $(IRQROUTE_CACHE)/debug-kernel/RELEASE 2>/dev/null)
DEBUG_KDIR = $(IRQROUTE_CACHE)/kernels/$(DEBUG_KVER)/lib/modules/$(DEBUG_KVER)/build

module-debug:
	@test -n "$(DEBUG_KVER)" -a -f "$(DEBUG_KDIR)/Module.symvers" || \
		{ echo "no debug kernel: run scripts/build-debug-kernel.sh" >&2; exit 1; }
	@mkdir -p $(BUILD)/$(DEBUG_KVER)/src
	@rsync -a --delete --exclude='*.o' --exclude='.*.cmd' \
		--exclude='*.mod' --exclude='*.mod.c' --exclude='*.ko' \
		$(MODULE_SRCS) $(BUILD)/$(DEBUG_KVER)/src/
	$(MAKE) -C $(DEBUG_KDIR) M=$(BUILD)/$(DEBUG_KVER)/src \
		$(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(JOBS)) modules
	@cp $(BUILD)/$(DEBUG_KVER)/src/irqroute.ko $(BUILD)/$(DEBUG_KVER)/irqroute.ko
	@echo "  MODULE  build/$(DEBUG_KVER)/irqroute.ko"

check-debug:
	scripts/run-debug-tests.sh

clean:
	rm -rf $(BUILD)
