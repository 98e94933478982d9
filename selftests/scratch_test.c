// SPDX-License-Identifier: GPL-2.0
/*
 * The scratch area: KVM reads the arguments of the module's KVM ioctls
 * from user memory, and the module copies them there right before each
 * call, to the VMM's scratch area (IRQROUTE_ATTACH's scratch) or, without
 * one, to an anonymous mapping made for that call only. The routing table
 * stays in the scratch area between commits (a retarget writes only its
 * entry). Nothing the VMM
 * does to the area can wedge the attachment, leave a mapping of the
 * module's behind or pin the module: a call that finds it unwritable
 * fails with EFAULT and changes nothing, and mapping memory there again
 * makes the next call work. What reached KVM is read from a vCPU's local
 * APIC.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "irqroute_raw.h"
#include "vmfd.h"

#define GSI_BASE	100
#define NR_ROUTES	8
#define VEC_A		0x40u
#define VEC_B		0x41u

static int attach_scratch(int fd, int vm, uint64_t scratch)
{
	return __irqroute_attach_scratch(fd, vm, GSI_BASE, NR_ROUTES, 0,
					 (void *)(uintptr_t)scratch, NULL);
}

/* The module's references: its open files and anything it left mapped. */
static long module_refcnt(void)
{
	FILE *f = fopen("/sys/module/irqroute/refcnt", "re");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

FIXTURE(scratch) {
	int vm, vcpu, fd, trigger;
	uint8_t *area;
	uint32_t index;
	long refcnt;
};

FIXTURE_VARIANT(scratch) {
	bool given;	/* the VMM passes a scratch area */
};

FIXTURE_VARIANT_ADD(scratch, given) { .given = true };
FIXTURE_VARIANT_ADD(scratch, none) { .given = false };

static uint8_t *map_area(void *at)
{
	void *p = mmap(at, IRQROUTE_SCRATCH_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (at ? MAP_FIXED : 0),
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* A VM with one vCPU, an irqroute file, an area: 0 or a negative errno. */
static int open_all(int *vm, int *vcpu, int *fd, uint8_t **area)
{
	*vcpu = *fd = -1;
	*area = NULL;
	*vm = vm_create_irqchip();
	if (*vm < 0)
		return *vm;
	*vcpu = vcpu_create_apic(*vm, 0);
	if (*vcpu < 0)
		return *vcpu;
	*fd = irqroute_dev_open();
	if (*fd < 0)
		return *fd;
	*area = map_area(NULL);
	return *area ? 0 : -ENOMEM;
}

FIXTURE_SETUP(scratch)
{
	self->refcnt = module_refcnt();
	ASSERT_LE(0, self->refcnt);
	ASSERT_EQ(0, open_all(&self->vm, &self->vcpu, &self->fd,
			      &self->area));
	ASSERT_EQ(0, attach_scratch(self->fd, self->vm,
				    variant->given ? (uintptr_t)self->area : 0));
	self->trigger = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->trigger);
	ASSERT_EQ(0, __irqroute_create(self->fd, self->trigger,
				       &self->index));
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->index,
					TEST_MSI_ADDR_LO, VEC_A, 0));
}

FIXTURE_TEARDOWN(scratch)
{
	if (self->fd >= 0)
		close(self->fd);
	close(self->trigger);
	close(self->vcpu);
	close(self->vm);
	munmap(self->area, IRQROUTE_SCRATCH_SIZE);
	/* Nothing of the module's is left to hold it. */
	EXPECT_EQ(self->refcnt, module_refcnt());
}

/* One signal: 1 if it reached KVM as exactly @vec (and not the other). */
static int delivers(FIXTURE_DATA(scratch) *self, unsigned int vec)
{
	unsigned int other = vec == VEC_A ? VEC_B : VEC_A;
	int got;

	if (eventfd_signal_once(self->trigger))
		return -EIO;
	got = vcpu_irr_take(self->vcpu, vec, 2000);
	if (got == 1 && vcpu_irr_take(self->vcpu, other, 0))
		return -EBADMSG;
	return got;
}

/* Retargets to @vec: 0, or the ioctl's errno. */
static int retarget(FIXTURE_DATA(scratch) *self, unsigned int vec)
{
	return __irqroute_set_msi(self->fd, self->index, TEST_MSI_ADDR_LO,
				  vec, 0);
}

/* The table reaches KVM, through the area or without one. */
TEST_F(scratch, works)
{
	ASSERT_EQ(1, delivers(self, VEC_A));
	ASSERT_EQ(0, retarget(self, VEC_B));
	ASSERT_EQ(1, delivers(self, VEC_B));
}

/*
 * Nothing of the module's is mapped in the VMM: no mapping appears across
 * commits and creates, and none outlives the file, even when the last
 * reference goes away in another process (a forked child that kept the
 * descriptor).
 */
TEST_F(scratch, nothing_mapped)
{
	long before;
	uint32_t index;
	int status;
	pid_t pid;

	before = vm_size_kb();
	ASSERT_LT(0, before);
	ASSERT_EQ(0, retarget(self, VEC_B));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_ROUTE_DESTROY,
					 self->index, 0, NULL));
	ASSERT_EQ(0, __irqroute_create(self->fd, self->trigger, &index));
	ASSERT_EQ(before, vm_size_kb());

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		usleep(200 * 1000);
		_exit(0);
	}
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(before, vm_size_kb());
}

/* MADV_DONTNEED on the area: zero pages again, and the next call works. */
TEST_F(scratch, dontneed)
{
	ASSERT_EQ(0, madvise(self->area, IRQROUTE_SCRATCH_SIZE,
			     MADV_DONTNEED));
	ASSERT_EQ(0, retarget(self, VEC_B));
	ASSERT_EQ(1, delivers(self, VEC_B));
}

/*
 * The area unmapped, moved away or made read-only: calls that need KVM
 * fail with EFAULT and change nothing (the old MSI still delivers). Memory
 * mapped there again makes them work. Without an area, none of this
 * touches the module.
 */
TEST_F(scratch, unmapped)
{
	ASSERT_EQ(0, munmap(self->area, IRQROUTE_SCRATCH_SIZE));
	ASSERT_EQ(variant->given ? -EFAULT : 0, retarget(self, VEC_B));
	ASSERT_EQ(1, delivers(self, variant->given ? VEC_A : VEC_B));
	ASSERT_EQ(self->area, map_area(self->area));
	ASSERT_EQ(0, retarget(self, VEC_B));
	ASSERT_EQ(1, delivers(self, VEC_B));
}

TEST_F(scratch, moved)
{
	uint8_t *to = map_area(NULL), *p;

	ASSERT_NE(NULL, to);
	p = mremap(self->area, IRQROUTE_SCRATCH_SIZE, IRQROUTE_SCRATCH_SIZE,
		   MREMAP_MAYMOVE | MREMAP_FIXED, to);
	ASSERT_EQ(to, p);
	ASSERT_EQ(variant->given ? -EFAULT : 0, retarget(self, VEC_B));
	ASSERT_EQ(1, delivers(self, variant->given ? VEC_A : VEC_B));
	/* The moved copy is plain memory of the VMM's: no module pin. */
	ASSERT_EQ(self->area, map_area(self->area));
	ASSERT_EQ(0, retarget(self, VEC_A));
	ASSERT_EQ(1, delivers(self, VEC_A));
	munmap(to, IRQROUTE_SCRATCH_SIZE);
}

TEST_F(scratch, read_only)
{
	ASSERT_EQ(0, mprotect(self->area, IRQROUTE_SCRATCH_SIZE, PROT_READ));
	ASSERT_EQ(variant->given ? -EFAULT : 0, retarget(self, VEC_B));
	ASSERT_EQ(1, delivers(self, variant->given ? VEC_A : VEC_B));
	ASSERT_EQ(0, mprotect(self->area, IRQROUTE_SCRATCH_SIZE,
			      PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, retarget(self, VEC_A));
	ASSERT_EQ(1, delivers(self, VEC_A));
}

/* Other memory put over it with MAP_FIXED is just the new scratch. */
TEST_F(scratch, replaced)
{
	ASSERT_EQ(self->area, map_area(self->area));
	ASSERT_EQ(0, retarget(self, VEC_B));
	ASSERT_EQ(1, delivers(self, VEC_B));
}

/*
 * Between commits the table stays in the area, and a commit that only
 * retargets routes copies their entries (with the header and the last
 * entry), not the whole table. Pages of the area the VMM dropped since
 * must be noticed and the table copied whole. Entries are 48 bytes after
 * an 8-byte header, in a page-aligned area:
 *  - tail: 86 routes; the last entry, at 4088, is the only one reaching
 *    into the second page;
 *  - middle: 256 routes (12 KiB); entries start in every page.
 * With the second page dropped, a retarget of route 0: every route still
 * delivers its own vector.
 */
#define PAGES_MAX	256
#define PAGES_VEC(i)	(0x30u + (i) % 0xc0u)
#define PAGES_VEC_X	0xf0u	/* route 0's retargets: no other route's */
#define PAGES_VEC_Y	0xf1u

FIXTURE(pages) {
	int vm, vcpu, fd;
	uint8_t *area;
	int trigger[PAGES_MAX];
	uint32_t index[PAGES_MAX];
};

FIXTURE_VARIANT(pages) {
	unsigned int nr;
};

FIXTURE_VARIANT_ADD(pages, tail) { .nr = 86 };
FIXTURE_VARIANT_ADD(pages, middle) { .nr = PAGES_MAX };

FIXTURE_SETUP(pages)
{
	unsigned int i;

	ASSERT_EQ(0, open_all(&self->vm, &self->vcpu, &self->fd,
			      &self->area));
	ASSERT_EQ(0, __irqroute_attach_scratch(self->fd, self->vm, GSI_BASE,
					       variant->nr, 0, self->area,
					       NULL));
	for (i = 0; i < variant->nr; i++) {
		self->trigger[i] = eventfd(0, EFD_CLOEXEC);
		ASSERT_LE(0, self->trigger[i]);
		ASSERT_EQ(0, __irqroute_create(self->fd, self->trigger[i],
					       &self->index[i]));
		ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->index[i],
						TEST_MSI_ADDR_LO,
						PAGES_VEC(i), 0));
	}
}

FIXTURE_TEARDOWN(pages)
{
	unsigned int i;

	close(self->fd);
	for (i = 0; i < variant->nr; i++)
		close(self->trigger[i]);
	close(self->vcpu);
	close(self->vm);
	munmap(self->area, IRQROUTE_SCRATCH_SIZE);
}

/* Route @i's signal reaches the vCPU as @vec. */
static int pages_delivers(FIXTURE_DATA(pages) *self, unsigned int i,
			  unsigned int vec)
{
	if (eventfd_signal_once(self->trigger[i]))
		return -EIO;
	return vcpu_irr_take(self->vcpu, vec, 2000);
}

TEST_F(pages, second_page_dropped)
{
	unsigned int i;

	/* Patched in place: only route 0's entry goes to the area. */
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->index[0],
					TEST_MSI_ADDR_LO, PAGES_VEC_X, 0));
	ASSERT_EQ(0, madvise(self->area + getpagesize(), getpagesize(),
			     MADV_DONTNEED));
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->index[0],
					TEST_MSI_ADDR_LO, PAGES_VEC_Y, 0));
	ASSERT_EQ(1, pages_delivers(self, 0, PAGES_VEC_Y));
	for (i = 1; i < variant->nr; i++) {
		ASSERT_EQ(1, pages_delivers(self, i, PAGES_VEC(i))) {
			TH_LOG("route %u (entry at %u), vector 0x%x", i,
			       8 + 48 * i, PAGES_VEC(i));
		}
	}
}

/*
 * A scratch address IRQROUTE_ATTACH refuses: not 8-byte aligned (EINVAL),
 * or not IRQROUTE_SCRATCH_SIZE bytes of writable memory (EFAULT). The file
 * stays unattached and attaches with a good area afterwards.
 */
TEST(scratch_refused)
{
	uint8_t *area, *ro;
	int vm, fd;

	vm = vm_create_irqchip();
	ASSERT_LE(0, vm);
	fd = irqroute_dev_open();
	ASSERT_LE(0, fd);
	area = map_area(NULL);
	ASSERT_NE(NULL, area);
	ro = mmap(NULL, IRQROUTE_SCRATCH_SIZE, PROT_READ,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);

	EXPECT_EQ(-EINVAL, attach_scratch(fd, vm, (uintptr_t)area + 4));
	EXPECT_EQ(-EFAULT, attach_scratch(fd, vm, (uintptr_t)ro));
	/* The last page missing. */
	ASSERT_EQ(0, munmap(area + IRQROUTE_SCRATCH_SIZE - getpagesize(),
			    getpagesize()));
	EXPECT_EQ(-EFAULT, attach_scratch(fd, vm, (uintptr_t)area));
	EXPECT_EQ(-EFAULT, attach_scratch(fd, vm, 0xffff800000000000ull));
	EXPECT_EQ(-EFAULT, attach_scratch(fd, vm, UINT64_MAX & ~7ull));
	ASSERT_EQ(area, map_area(area));
	ASSERT_EQ(0, attach_scratch(fd, vm, (uintptr_t)area));
	close(fd);
	close(vm);
	munmap(ro, IRQROUTE_SCRATCH_SIZE);
	munmap(area, IRQROUTE_SCRATCH_SIZE);
}

TEST_HARNESS_MAIN
