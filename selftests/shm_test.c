// SPDX-License-Identifier: GPL-2.0
/*
 * The shared page: which mappings the module refuses, what the header
 * says, that the bitmaps are the ones the ioctls act on, that the kernel
 * trusts nothing userspace writes there beyond a route's own bits, and
 * that a forked child does not inherit the mapping.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "irqroute_raw.h"
#include "vmfd.h"

#define GSI_BASE	100
#define NR_ROUTES	130	/* three 64-bit words of each bitmap */

FIXTURE(shm) {
	int fd;
	int vm;
	uint32_t shm_size;
	long page;
};

FIXTURE_SETUP(shm)
{
	self->page = getpagesize();
	self->fd = irqroute_dev_open();
	ASSERT_LE(0, self->fd)
		TH_LOG("open %s: %s", IRQROUTE_DEV_PATH, strerror(-self->fd));
	self->vm = vm_create_irqchip();
	ASSERT_LE(0, self->vm);
	ASSERT_EQ(0, __irqroute_attach(self->fd, self->vm, GSI_BASE, NR_ROUTES,
				       0, &self->shm_size));
	ASSERT_LT(0, self->shm_size);
}

FIXTURE_TEARDOWN(shm)
{
	close(self->fd);
	close(self->vm);
}

/* Expects mmap() to fail with @err. */
static void assert_map_fails(struct __test_metadata *_metadata, int fd,
			     size_t len, int prot, int flags, off_t off,
			     int err)
{
	void *p;

	errno = 0;
	p = mmap(NULL, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		munmap(p, len);
	ASSERT_EQ(MAP_FAILED, p)
		TH_LOG("len %zu prot %#x flags %#x off %#lx", len, prot, flags,
		       (long)off);
	ASSERT_EQ(err, errno)
		TH_LOG("len %zu prot %#x flags %#x off %#lx", len, prot, flags,
		       (long)off);
}

TEST_F(shm, map_private)
{
	assert_map_fails(_metadata, self->fd, self->shm_size,
			 PROT_READ | PROT_WRITE, MAP_PRIVATE, 0, EINVAL);
	assert_map_fails(_metadata, self->fd, self->shm_size, PROT_READ,
			 MAP_PRIVATE, 0, EINVAL);
}

TEST_F(shm, map_wrong_length)
{
	assert_map_fails(_metadata, self->fd, self->shm_size + self->page,
			 PROT_READ | PROT_WRITE, MAP_SHARED, 0, EINVAL);
	assert_map_fails(_metadata, self->fd, 2 * self->shm_size,
			 PROT_READ | PROT_WRITE, MAP_SHARED, 0, EINVAL);
	assert_map_fails(_metadata, self->fd, 64 * self->page,
			 PROT_READ | PROT_WRITE, MAP_SHARED, 0, EINVAL);
	/* Shorter than the page can only be asked for if it spans pages. */
	if (self->shm_size > self->page) {
		assert_map_fails(_metadata, self->fd,
				 self->shm_size - self->page,
				 PROT_READ | PROT_WRITE, MAP_SHARED, 0, EINVAL);
	}
}

TEST_F(shm, map_offset)
{
	static const off_t pages[] = { 1, 2, 1024, 1L << 30 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		assert_map_fails(_metadata, self->fd, self->shm_size,
				 PROT_READ | PROT_WRITE, MAP_SHARED,
				 pages[i] * self->page, EINVAL);
	}
}

/* The header as documented, the bitmaps clear, the rest of the page 0. */
TEST_F(shm, header)
{
	const struct irqroute_shm_header *h;
	const uint8_t *b;
	unsigned int i;

	h = irqroute_shm_map(self->fd, self->shm_size, MAP_SHARED, 0);
	ASSERT_NE(NULL, h);
	EXPECT_EQ(IRQROUTE_SHM_MAGIC, h->magic);
	EXPECT_EQ(IRQROUTE_SHM_VERSION, h->version);
	EXPECT_EQ(NR_ROUTES, h->nr_routes);
	EXPECT_EQ(GSI_BASE, h->gsi_base);
	EXPECT_EQ(IRQROUTE_SHM_MASK_OFFSET, h->mask_offset);
	EXPECT_EQ(IRQROUTE_SHM_PENDING_OFFSET, h->pending_offset);
	for (i = 0; i < ARRAY_SIZE(h->__reserved); i++) {
		EXPECT_EQ(0, h->__reserved[i]) TH_LOG("__reserved[%u]", i);
	}
	b = (const uint8_t *)h;
	for (i = sizeof(*h); i < self->shm_size; i++) {
		ASSERT_EQ(0, b[i]) TH_LOG("byte %#x", i);
	}
	munmap((void *)h, self->shm_size);
}

/* Read-only mappings are fine (a monitor may only read the PBA). */
TEST_F(shm, map_read_only)
{
	const struct irqroute_shm_header *h;

	h = mmap(NULL, self->shm_size, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, h);
	ASSERT_EQ(IRQROUTE_SHM_MAGIC, h->magic);
	munmap((void *)h, self->shm_size);
}

/* Nothing in the page is code: no PROT_EXEC, now or by mprotect(). */
TEST_F(shm, map_exec)
{
	void *p;

	assert_map_fails(_metadata, self->fd, self->shm_size,
			 PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED, 0,
			 EINVAL);
	assert_map_fails(_metadata, self->fd, self->shm_size,
			 PROT_READ | PROT_EXEC, MAP_SHARED, 0, EINVAL);
	p = irqroute_shm_map(self->fd, self->shm_size, MAP_SHARED, 0);
	ASSERT_NE(NULL, p);
	errno = 0;
	ASSERT_EQ(-1, mprotect(p, self->shm_size, PROT_READ | PROT_EXEC));
	ASSERT_EQ(EACCES, errno);
	munmap(p, self->shm_size);
}

/* VM_DONTEXPAND: the mapping cannot be grown past the page. */
TEST_F(shm, no_expand)
{
	void *p, *q;

	p = irqroute_shm_map(self->fd, self->shm_size, MAP_SHARED, 0);
	ASSERT_NE(NULL, p);
	errno = 0;
	q = mremap(p, self->shm_size, self->shm_size + self->page,
		   MREMAP_MAYMOVE);
	ASSERT_EQ(MAP_FAILED, q);
	ASSERT_EQ(EFAULT, errno);
	munmap(p, self->shm_size);
}

/*
 * The bitmaps are the module's: bit i of 64-bit word i / 64, for the
 * ioctls and for the gate, seen the same through every mapping.
 */
TEST_F(shm, bitmaps_are_live)
{
	const uint32_t want[] = { 0, 63, 64, 127, 129 };
	int trigger_of[NR_ROUTES];
	uint32_t i, index = 0, result;
	void *a, *b;
	int trig;

	a = irqroute_shm_map(self->fd, self->shm_size, MAP_SHARED, 0);
	b = irqroute_shm_map(self->fd, self->shm_size, MAP_SHARED, 0);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_NE(a, b);

	memset(trigger_of, 0xff, sizeof(trigger_of));
	for (i = 0; i < NR_ROUTES; i++) {
		trig = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, trig);
		ASSERT_EQ(0, __irqroute_create(self->fd, trig, &index));
		ASSERT_GT(NR_ROUTES, index);
		ASSERT_EQ(-1, trigger_of[index]);
		trigger_of[index] = trig;
	}

	for (i = 0; i < ARRAY_SIZE(want); i++) {
		uint32_t idx = want[i];

		trig = trigger_of[idx];
		ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_MASK, idx,
						 0, NULL));
		ASSERT_EQ(1, shm_test_bit(a, IRQROUTE_SHM_MASK_OFFSET, idx));
		ASSERT_EQ(1, shm_test_bit(b, IRQROUTE_SHM_MASK_OFFSET, idx));
		ASSERT_EQ(0, shm_test_bit(a, IRQROUTE_SHM_PENDING_OFFSET, idx));

		/* Masked: the gate sets exactly this pending bit. */
		ASSERT_EQ(0, eventfd_signal_once(trig));
		ASSERT_EQ(1, shm_test_bit(b, IRQROUTE_SHM_PENDING_OFFSET, idx));
		if (idx) {
			ASSERT_EQ(0, shm_test_bit(b,
						  IRQROUTE_SHM_PENDING_OFFSET,
						  idx - 1));
		}
		if (idx + 1 < NR_ROUTES) {
			ASSERT_EQ(0, shm_test_bit(b,
						  IRQROUTE_SHM_PENDING_OFFSET,
						  idx + 1));
		}

		/* Consumed through the ioctl, gone from the page. */
		ASSERT_EQ(0, __irqroute_route_op(self->fd,
						 IRQROUTE_CONSUME_PENDING, idx,
						 0, &result));
		ASSERT_EQ(1, result);
		ASSERT_EQ(0, shm_test_bit(a, IRQROUTE_SHM_PENDING_OFFSET, idx));

		/* Consumed in the page: the ioctl finds nothing. */
		ASSERT_EQ(0, eventfd_signal_once(trig));
		__atomic_and_fetch((uint64_t *)((char *)a +
						IRQROUTE_SHM_PENDING_OFFSET) +
				   idx / 64, ~(1ULL << (idx % 64)),
				   __ATOMIC_SEQ_CST);
		ASSERT_EQ(0, __irqroute_route_op(self->fd,
						 IRQROUTE_CONSUME_PENDING, idx,
						 0, &result));
		ASSERT_EQ(0, result);

		/* Unmasked in the page; without an MSI a signal still pends. */
		__atomic_and_fetch((uint64_t *)((char *)a +
						IRQROUTE_SHM_MASK_OFFSET) +
				   idx / 64, ~(1ULL << (idx % 64)),
				   __ATOMIC_SEQ_CST);
		ASSERT_EQ(0, shm_test_bit(b, IRQROUTE_SHM_MASK_OFFSET, idx));
		ASSERT_EQ(0, eventfd_signal_once(trig));
		ASSERT_EQ(1, shm_test_bit(a, IRQROUTE_SHM_PENDING_OFFSET, idx));
		ASSERT_EQ(0, __irqroute_route_op(self->fd,
						 IRQROUTE_CONSUME_PENDING, idx,
						 0, &result));
		ASSERT_EQ(1, result);
	}
	munmap(a, self->shm_size);
	munmap(b, self->shm_size);
	for (i = 0; i < NR_ROUTES; i++)
		close(trigger_of[i]);
}

/*
 * The kernel reads nothing but a route's own bits: a header full of lies
 * and bits set for indexes no route has change nothing, and a new route
 * starts unmasked and not pending whatever the page said before.
 */
TEST_F(shm, untrusted_page)
{
	struct irqroute_shm_header *h;
	uint64_t *mask, *pending;
	uint32_t index = 0, gsi = 0, result;
	int trigger, irqfd, other;
	unsigned int i;

	h = irqroute_shm_map(self->fd, self->shm_size, MAP_SHARED, 0);
	ASSERT_NE(NULL, h);
	mask = (uint64_t *)((char *)h + IRQROUTE_SHM_MASK_OFFSET);
	pending = (uint64_t *)((char *)h + IRQROUTE_SHM_PENDING_OFFSET);

	memset(h, 0xff, sizeof(*h));
	for (i = 0; i < IRQROUTE_MAX_ROUTES / 64; i++) {
		__atomic_store_n(&mask[i], ~0ULL, __ATOMIC_SEQ_CST);
		__atomic_store_n(&pending[i], ~0ULL, __ATOMIC_SEQ_CST);
	}

	trigger = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	irqfd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, trigger);
	ASSERT_LE(0, irqfd);
	ASSERT_EQ(0, __irqroute_create_fds(self->fd, trigger, irqfd, &index,
					   &gsi));
	ASSERT_GT(NR_ROUTES, index);
	ASSERT_EQ(GSI_BASE + index, gsi);
	ASSERT_EQ(0, shm_test_bit(h, IRQROUTE_SHM_MASK_OFFSET, index));
	ASSERT_EQ(0, shm_test_bit(h, IRQROUTE_SHM_PENDING_OFFSET, index));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_CONSUME_PENDING,
					 index, 0, &result));
	ASSERT_EQ(0, result);

	/* Indexes without a route stay what userspace wrote. */
	other = index ? 0 : 1;
	ASSERT_EQ(1, shm_test_bit(h, IRQROUTE_SHM_MASK_OFFSET, other));
	ASSERT_EQ(1, shm_test_bit(h, IRQROUTE_SHM_PENDING_OFFSET, 4095));
	ASSERT_EQ(-ENOENT, __irqroute_route_op(self->fd,
					       IRQROUTE_CONSUME_PENDING, other,
					       0, NULL));

	/* The lying header does not move the range. */
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, index, TEST_MSI_ADDR_LO,
					TEST_MSI_DATA, 0));
	ASSERT_EQ(-EINVAL, __irqroute_route_op(self->fd, IRQROUTE_MASK,
					       NR_ROUTES, 0, NULL));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_MASK, index, 0,
					 NULL));
	ASSERT_EQ(0, eventfd_signal_once(trigger));
	ASSERT_EQ(1, shm_test_bit(h, IRQROUTE_SHM_PENDING_OFFSET, index));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_CONSUME_PENDING,
					 index, 0, &result));
	ASSERT_EQ(1, result);
	munmap(h, self->shm_size);
	close(irqfd);
	close(trigger);
}

/* Maps the page and creates a masked route; returns its index. */
static uint32_t map_and_mask_route(struct __test_metadata *_metadata,
				   FIXTURE_DATA(shm) *self,
				   struct irqroute_shm_header **h, int *trigger)
{
	uint32_t index = UINT32_MAX;

	*h = irqroute_shm_map(self->fd, self->shm_size, MAP_SHARED, 0);
	ASSERT_NE(NULL, *h);
	*trigger = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, *trigger);
	ASSERT_EQ(0, __irqroute_create(self->fd, *trigger, &index));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_MASK, index, 0,
					 NULL));
	return index;
}

/* Unmapping and mapping again gives the same page. */
TEST_F(shm, remap)
{
	struct irqroute_shm_header *h;
	int trigger;
	uint32_t index;

	index = map_and_mask_route(_metadata, self, &h, &trigger);
	ASSERT_EQ(0, munmap(h, self->shm_size));
	h = irqroute_shm_map(self->fd, self->shm_size, MAP_SHARED, 0);
	ASSERT_NE(NULL, h);
	ASSERT_EQ(IRQROUTE_SHM_MAGIC, h->magic);
	ASSERT_EQ(1, shm_test_bit(h, IRQROUTE_SHM_MASK_OFFSET, index));
	munmap(h, self->shm_size);
	close(trigger);
}

/* Whether [addr, addr + len) overlaps a mapping in /proc/self/maps. */
static int mapped_in_self(uintptr_t addr, size_t len)
{
	unsigned long start, end;
	char line[512];
	FILE *f;
	int found = 0;

	f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		if (start < addr + len && addr < end)
			found = 1;
	}
	fclose(f);
	return found;
}

/*
 * VM_DONTCOPY: a forked child has nothing at the parent's address; touching
 * it is a SIGSEGV. The parent's mapping is unaffected.
 */
TEST_F(shm, not_inherited)
{
	volatile struct irqroute_shm_header *h;
	int status;
	pid_t pid;

	h = irqroute_shm_map(self->fd, self->shm_size, MAP_SHARED, 0);
	ASSERT_NE(NULL, h);
	ASSERT_EQ(1, mapped_in_self((uintptr_t)h, self->shm_size));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (mapped_in_self((uintptr_t)h, self->shm_size) != 0)
			_exit(10);
		(void)h->magic;
		_exit(11);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status))
		TH_LOG("child exited with %d (10: still mapped, 11: readable)",
		       WEXITSTATUS(status));
	ASSERT_EQ(SIGSEGV, WTERMSIG(status));
	ASSERT_EQ(IRQROUTE_SHM_MAGIC, h->magic);
	munmap((void *)h, self->shm_size);
}

/*
 * MADV_DOFORK cannot undo VM_DONTCOPY (the page is VM_IO): a forked
 * child gets no mapping of the parent's page through a second mapping
 * made inheritable either, and its atomic OR on the mask word is a
 * SIGSEGV, not a masked route in the parent's VM.
 */
TEST_F(shm, dofork_refused)
{
	volatile uint64_t *mask;
	uint8_t *p, *q;
	uint64_t before;
	int status;
	pid_t pid;

	p = irqroute_shm_map(self->fd, self->shm_size, MAP_SHARED, 0);
	q = irqroute_shm_map(self->fd, self->shm_size, MAP_SHARED, 0);
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, q);
	errno = 0;
	EXPECT_EQ(-1, madvise(p, self->shm_size, MADV_DOFORK));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, madvise(q, self->shm_size, MADV_DOFORK));
	EXPECT_EQ(EINVAL, errno);

	mask = (volatile uint64_t *)(q + IRQROUTE_SHM_MASK_OFFSET);
	before = *mask;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		__atomic_fetch_or(mask, 1, __ATOMIC_SEQ_CST);
		_exit(11);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
		TH_LOG("the child wrote the parent's mask word (status %#x)",
		       status);
	ASSERT_EQ(before, *mask);
	munmap(q, self->shm_size);
	munmap(p, self->shm_size);
}

/*
 * No get_user_pages() on the page (VM_IO): process_vm_writev() and
 * /proc/self/mem, which a debugger or another process with ptrace
 * rights would use, and anything that pins user memory (O_DIRECT,
 * io_uring fixed buffers) fail; the page is unchanged.
 */
TEST_F(shm, no_gup)
{
	uint64_t word = ~0ull, before;
	struct iovec local = { &word, sizeof(word) }, remote;
	uint8_t *p;
	int mem;

	p = irqroute_shm_map(self->fd, self->shm_size, MAP_SHARED, 0);
	ASSERT_NE(NULL, p);
	before = *(volatile uint64_t *)(p + IRQROUTE_SHM_MASK_OFFSET);
	remote.iov_base = p + IRQROUTE_SHM_MASK_OFFSET;
	remote.iov_len = sizeof(word);
	errno = 0;
	EXPECT_EQ(-1, process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(EFAULT, errno);

	mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, mem);
	errno = 0;
	EXPECT_EQ(-1, pwrite(mem, &word, sizeof(word),
			     (uintptr_t)p + IRQROUTE_SHM_MASK_OFFSET));
	EXPECT_TRUE(errno == EFAULT || errno == EIO) TH_LOG("errno %d", errno);
	close(mem);
	ASSERT_EQ(before, *(volatile uint64_t *)(p + IRQROUTE_SHM_MASK_OFFSET));
	munmap(p, self->shm_size);
}

/*
 * MADV_DONTNEED zaps the page from the mapping, not from the module: the
 * next access faults the same page back in, bits and header intact, and
 * the mask bit written through it still masks.
 */
TEST_F(shm, dontneed_refaults)
{
	struct irqroute_shm_header *h;
	uint32_t index, result;
	int trigger;

	index = map_and_mask_route(_metadata, self, &h, &trigger);
	ASSERT_EQ(0, madvise(h, self->shm_size, MADV_DONTNEED));
	ASSERT_EQ(IRQROUTE_SHM_MAGIC, h->magic);
	ASSERT_EQ(1, shm_test_bit(h, IRQROUTE_SHM_MASK_OFFSET, index));

	/* Written through the page after the zap: seen by the module. */
	ASSERT_EQ(0, madvise(h, self->shm_size, MADV_DONTNEED));
	__atomic_fetch_and((uint64_t *)((uint8_t *)h +
					IRQROUTE_SHM_MASK_OFFSET) + index / 64,
			   ~(1ull << (index % 64)), __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_MASK, index, 0,
					 NULL));
	ASSERT_EQ(0, madvise(h, self->shm_size, MADV_DONTNEED));
	ASSERT_EQ(1, shm_test_bit(h, IRQROUTE_SHM_MASK_OFFSET, index));
	ASSERT_EQ(0, eventfd_signal_once(trigger));
	ASSERT_EQ(1, shm_test_bit(h, IRQROUTE_SHM_PENDING_OFFSET, index));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_CONSUME_PENDING,
					 index, 0, &result));
	ASSERT_EQ(1, result);
	ASSERT_EQ(0, shm_test_bit(h, IRQROUTE_SHM_PENDING_OFFSET, index));
	munmap(h, self->shm_size);
	close(trigger);
}

TEST_HARNESS_MAIN
