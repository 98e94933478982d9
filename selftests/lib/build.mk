# SPDX-License-Identifier: GPL-2.0
#
# The L2 guest helper and the parts of the kernel's KVM selftest library it
# needs, compiled from $(LINUX_SRC) at build time. Included by
# selftests/Makefile and examples/Makefile, which set:
#   O            output folder (objects go to $(O)/.obj)
#   LINUX_SRC    a kernel source tree after `make headers` (Debian's 6.1)
#   LIBIRQROUTE  folder holding libirqroute.a
# and get GUEST_LIBS (link these, in this order), TEST_CFLAGS (for the
# programs using them) and GUEST_LDFLAGS. The includer names its default
# goal before including this file.

ifeq ($(LINUX_SRC),)
$(error LINUX_SRC is not set (a linux-6.1 tree after 'make headers'))
endif
ifeq ($(LIBIRQROUTE),)
$(error LIBIRQROUTE is not set (the folder holding libirqroute.a))
endif
ifeq ($(O),)
$(error O is not set (the output folder))
endif

override O := $(abspath $(O))
override LINUX_SRC := $(abspath $(LINUX_SRC))
override LIBIRQROUTE := $(abspath $(LIBIRQROUTE))

GUEST_LIB_DIR := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
REPO := $(abspath $(GUEST_LIB_DIR)/../..)
KSFT := $(LINUX_SRC)/tools/testing/selftests
KVM_SELFTESTS := $(KSFT)/kvm
OBJ := $(O)/.obj

CC ?= gcc

# The KVM selftest library's own flags: guest code is linked into the test
# binary and copied into the guest, so no stack protector, no PIE, and no
# fortified libc calls in it.
KVM_CFLAGS := -Wall -Wstrict-prototypes -Wuninitialized -O2 -g \
	-std=gnu99 -U_FORTIFY_SOURCE -fno-stack-protector \
	-fno-PIE -pthread \
	-I$(LINUX_SRC)/tools/include \
	-I$(LINUX_SRC)/tools/arch/x86/include \
	-I$(LINUX_SRC)/usr/include \
	-I$(KVM_SELFTESTS)/include -I$(KVM_SELFTESTS)/include/x86_64 \
	-I$(KSFT) -I$(REPO)/uapi -I$(REPO)/userspace-lib/include \
	-I$(GUEST_LIB_DIR)
# Our sources and the tests: more warnings. Each source defines
# _GNU_SOURCE itself (kselftest_harness.h does for the tests).
GUEST_CFLAGS := $(KVM_CFLAGS) -Wextra -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare
# Test programs: the uapi headers come first, so that <linux/filter.h>
# and friends are the uapi ones, not tools/include's kernel-internal ones.
TEST_CFLAGS := -I$(LINUX_SRC)/usr/include $(GUEST_CFLAGS)
GUEST_LDFLAGS := -static -no-pie -pthread

KVM_LIB_C := lib/assert.c lib/elf.c lib/guest_modes.c lib/io.c \
	lib/kvm_util.c lib/rbtree.c lib/sparsebit.c lib/test_util.c \
	lib/x86_64/apic.c lib/x86_64/processor.c lib/x86_64/svm.c \
	lib/x86_64/ucall.c lib/x86_64/vmx.c
KVM_LIB_S := lib/x86_64/handlers.S
KVM_LIB_STRING := lib/string_override.c
KVM_LIB_OBJS := $(patsubst %.c,$(OBJ)/kvm/%.o,$(KVM_LIB_C)) \
	$(patsubst %.S,$(OBJ)/kvm/%.o,$(KVM_LIB_S)) \
	$(patsubst %.c,$(OBJ)/kvm/%.o,$(KVM_LIB_STRING))

GUEST_LIB_SRCS := $(wildcard $(GUEST_LIB_DIR)/*.c)
GUEST_LIB_HDRS := $(wildcard $(GUEST_LIB_DIR)/*.h)
GUEST_LIB_OBJS := $(patsubst $(GUEST_LIB_DIR)/%.c,$(OBJ)/guestlib/%.o,\
	$(GUEST_LIB_SRCS))

LIBGUEST_A := $(OBJ)/libguest.a
LIBIRQROUTE_A := $(LIBIRQROUTE)/libirqroute.a
# The KVM objects are linked as objects, not from an archive: the guest
# runs this code too, so its memcpy/memset must be string_override.o's,
# never the C library's (IFUNC relocations are not applied in the guest).
GUEST_LIBS := $(LIBGUEST_A) $(KVM_LIB_OBJS) $(LIBIRQROUTE_A)

$(LINUX_SRC)/usr/include/linux/kvm.h:
	@echo "no $@: run 'make -C $(LINUX_SRC) headers' first" >&2; exit 1

$(OBJ)/kvm/%.o: $(KVM_SELFTESTS)/%.c $(LINUX_SRC)/usr/include/linux/kvm.h
	@mkdir -p $(dir $@)
	$(CC) $(KVM_CFLAGS) -c $< -o $@

$(OBJ)/kvm/%.o: $(KVM_SELFTESTS)/%.S $(LINUX_SRC)/usr/include/linux/kvm.h
	@mkdir -p $(dir $@)
	$(CC) $(KVM_CFLAGS) -c $< -o $@

# Freestanding, as upstream does: the compiler must not turn these string
# functions into calls to themselves.
$(OBJ)/kvm/$(KVM_LIB_STRING:.c=.o): $(KVM_SELFTESTS)/$(KVM_LIB_STRING)
	@mkdir -p $(dir $@)
	$(CC) $(KVM_CFLAGS) -ffreestanding -c $< -o $@

# The public headers too: a stale object would call the 1.0 ABI of a
# function the header now maps elsewhere (irqroute_get_stats).
IRQROUTE_HDRS := $(REPO)/userspace-lib/include/irqroute.h \
	$(REPO)/uapi/linux/irqroute.h

$(OBJ)/guestlib/%.o: $(GUEST_LIB_DIR)/%.c $(GUEST_LIB_HDRS) \
		$(IRQROUTE_HDRS) $(LINUX_SRC)/usr/include/linux/kvm.h
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(LIBGUEST_A): $(GUEST_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBIRQROUTE_A):
	@echo "no $@: build userspace-lib first (make -C userspace-lib O=...)" >&2; exit 1
