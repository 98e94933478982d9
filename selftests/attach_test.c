// SPDX-License-Identifier: GPL-2.0
/*
 * IRQROUTE_GET_INFO and IRQROUTE_ATTACH: what an unattached file answers,
 * every attach the module must refuse, and that a refused attach leaves
 * the file (and the VM) usable by the next, correct one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "fdpass.h"
#include "irqroute_raw.h"
#include "vmfd.h"

#define GSI_BASE	64
#define NR_ROUTES	8

/*
 * A refused call must leave nothing behind: the same irqroute file attaches
 * to @vm, reports the shared page size GET_INFO announced, and a route
 * created on it takes an MSI.
 */
static void assert_attach_works(struct __test_metadata *_metadata, int fd,
				int vm)
{
	struct irqroute_info info;
	struct irqroute_stats st;
	uint32_t index, gsi, shm_size = 0;
	int trigger, irqfd;

	ASSERT_EQ(0, __irqroute_get_info(fd, &info));
	ASSERT_EQ(0, __irqroute_attach(fd, vm, GSI_BASE, NR_ROUTES, 0,
				       &shm_size));
	ASSERT_EQ(info.shm_size, shm_size);

	trigger = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	irqfd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, trigger);
	ASSERT_LE(0, irqfd);
	ASSERT_EQ(0, __irqroute_create_fds(fd, trigger, irqfd, &index, &gsi));
	close(irqfd);
	ASSERT_GT(NR_ROUTES, index);
	ASSERT_EQ(GSI_BASE + index, gsi);
	ASSERT_EQ(0, __irqroute_set_msi(fd, index, TEST_MSI_ADDR_LO,
					TEST_MSI_DATA, 0));
	ASSERT_EQ(0, __irqroute_get_stats(fd, &st));
	ASSERT_EQ(0, st.signals);
	ASSERT_LE(1, st.commits);
	close(trigger);
}

FIXTURE(unattached) {
	int fd;		/* /dev/irqroute, not attached */
	int vm;		/* a VM of this process, with an irqchip */
	struct irqroute_info info;
};

FIXTURE_SETUP(unattached)
{
	self->fd = irqroute_dev_open();
	ASSERT_LE(0, self->fd)
		TH_LOG("open %s: %s", IRQROUTE_DEV_PATH, strerror(-self->fd));
	self->vm = vm_create_irqchip();
	ASSERT_LE(0, self->vm)
		TH_LOG("KVM VM with irqchip: %s", strerror(-self->vm));
	ASSERT_EQ(0, __irqroute_get_info(self->fd, &self->info));
}

FIXTURE_TEARDOWN(unattached)
{
	close(self->fd);
	close(self->vm);
}

/* GET_INFO needs no attachment; output fields are not validated as input. */
TEST_F(unattached, get_info)
{
	struct irqroute_info info;

	memset(&info, 0xa5, sizeof(info));
	info.size = sizeof(info);
	info.flags = 0;
	info.__reserved = 0;
	ASSERT_EQ(0, __irqroute_ioctl(self->fd, IRQROUTE_GET_INFO, &info));
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(IRQROUTE_API_VERSION, info.api_version);
	EXPECT_EQ(IRQROUTE_MAX_ROUTES, info.max_routes);
	EXPECT_EQ(4096, info.max_routes);
	EXPECT_LE(IRQROUTE_SHM_PENDING_OFFSET + IRQROUTE_MAX_ROUTES / 8,
		  info.shm_size);
	EXPECT_EQ(0, info.shm_size % getpagesize());
	EXPECT_EQ(IRQROUTE_ATTACH_F_VALID, info.attach_flags);
	EXPECT_EQ(IRQROUTE_MSI_F_VALID | IRQROUTE_MSI_F_CLEAR, info.msi_flags);
	EXPECT_EQ(0, info.__reserved);
}

/* The same answers once attached; ATTACH reports the same shm_size. */
TEST_F(unattached, get_info_after_attach)
{
	struct irqroute_info info;
	uint32_t shm_size = 0;

	ASSERT_EQ(0, __irqroute_attach(self->fd, self->vm, GSI_BASE, NR_ROUTES,
				       0, &shm_size));
	ASSERT_EQ(0, __irqroute_get_info(self->fd, &info));
	ASSERT_EQ(0, memcmp(&info, &self->info, sizeof(info)));
	ASSERT_EQ(info.shm_size, shm_size);
}

/* Every other ioctl, and mmap, needs an attachment: ENODEV. */
TEST_F(unattached, ops_before_attach)
{
	static const unsigned long route_ops[] = {
		IRQROUTE_ROUTE_DESTROY, IRQROUTE_CLEAR_MSI, IRQROUTE_MASK,
		IRQROUTE_UNMASK, IRQROUTE_CONSUME_PENDING,
	};
	struct kvm_irq_routing_entry e = ioapic_entry(5, 5);
	struct irqroute_stats st;
	int trigger, irqfd;
	unsigned int i;

	trigger = eventfd(0, EFD_CLOEXEC);
	irqfd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, trigger);
	ASSERT_LE(0, irqfd);

	EXPECT_EQ(-ENODEV, __irqroute_set_base(self->fd, &e, 1));
	EXPECT_EQ(-ENODEV, __irqroute_set_base(self->fd, NULL, 0));
	EXPECT_EQ(-ENODEV, __irqroute_commit(self->fd));
	EXPECT_EQ(-ENODEV, __irqroute_create_fds(self->fd, trigger, irqfd,
						 NULL, NULL));
	EXPECT_EQ(-ENODEV, __irqroute_set_msi(self->fd, 0, TEST_MSI_ADDR_LO,
					      TEST_MSI_DATA, 0));
	for (i = 0; i < ARRAY_SIZE(route_ops); i++) {
		EXPECT_EQ(-ENODEV, __irqroute_route_op(self->fd, route_ops[i],
						       0, 0, NULL))
			TH_LOG("route op %u", i);
	}
	EXPECT_EQ(-ENODEV, __irqroute_get_stats(self->fd, &st));

	errno = 0;
	EXPECT_EQ(NULL, irqroute_shm_map(self->fd, self->info.shm_size,
					 MAP_SHARED, 0));
	EXPECT_EQ(ENODEV, errno);

	/* The refused create did not keep the trigger. */
	ASSERT_EQ(0, __irqroute_attach(self->fd, self->vm, GSI_BASE, NR_ROUTES,
				       0, NULL));
	ASSERT_EQ(0, __irqroute_create_fds(self->fd, trigger, irqfd,
					   NULL, NULL));
	close(irqfd);
	close(trigger);
}

/* vm_fd values that are not a KVM VM (or not a file at all). */
enum bad_vm_fd_kind {
	BAD_DEV_NULL,
	BAD_EVENTFD,
	BAD_DEV_KVM,
	BAD_VCPU,
	BAD_VM_STATS,
	BAD_KVM_DEVICE,
	BAD_IRQROUTE,
	BAD_SELF,
	BAD_CLOSED,
	BAD_MINUS_ONE,
	BAD_HUGE,
};

FIXTURE(bad_vm_fd) {
	int fd;
	int vm;
	int bad;	/* the descriptor passed as vm_fd */
	int extra;	/* kept open for the duration of the test, or -1 */
};

FIXTURE_VARIANT(bad_vm_fd) {
	enum bad_vm_fd_kind kind;
	int err;
};

FIXTURE_VARIANT_ADD(bad_vm_fd, dev_null) {
	.kind = BAD_DEV_NULL, .err = EBADFD,
};

FIXTURE_VARIANT_ADD(bad_vm_fd, eventfd) {
	.kind = BAD_EVENTFD, .err = EBADFD,
};

FIXTURE_VARIANT_ADD(bad_vm_fd, dev_kvm) {
	.kind = BAD_DEV_KVM, .err = EBADFD,
};

/* Anonymous inodes whose private data belongs to KVM, but not VMs. */
FIXTURE_VARIANT_ADD(bad_vm_fd, vcpu) {
	.kind = BAD_VCPU, .err = EBADFD,
};

FIXTURE_VARIANT_ADD(bad_vm_fd, vm_stats) {
	.kind = BAD_VM_STATS, .err = EBADFD,
};

FIXTURE_VARIANT_ADD(bad_vm_fd, kvm_device) {
	.kind = BAD_KVM_DEVICE, .err = EBADFD,
};

FIXTURE_VARIANT_ADD(bad_vm_fd, other_irqroute) {
	.kind = BAD_IRQROUTE, .err = EBADFD,
};

FIXTURE_VARIANT_ADD(bad_vm_fd, self) {
	.kind = BAD_SELF, .err = EBADFD,
};

FIXTURE_VARIANT_ADD(bad_vm_fd, closed) {
	.kind = BAD_CLOSED, .err = EBADF,
};

FIXTURE_VARIANT_ADD(bad_vm_fd, minus_one) {
	.kind = BAD_MINUS_ONE, .err = EBADF,
};

FIXTURE_VARIANT_ADD(bad_vm_fd, huge) {
	.kind = BAD_HUGE, .err = EBADF,
};

FIXTURE_SETUP(bad_vm_fd)
{
	struct kvm_create_device dev = { .type = KVM_DEV_TYPE_VFIO };

	self->extra = -1;
	self->fd = irqroute_dev_open();
	ASSERT_LE(0, self->fd)
		TH_LOG("open %s: %s", IRQROUTE_DEV_PATH, strerror(-self->fd));
	self->vm = vm_create_irqchip();
	ASSERT_LE(0, self->vm);

	switch (variant->kind) {
	case BAD_DEV_NULL:
		self->bad = open("/dev/null", O_RDWR | O_CLOEXEC);
		break;
	case BAD_EVENTFD:
		self->bad = eventfd(0, EFD_CLOEXEC);
		break;
	case BAD_DEV_KVM:
		self->bad = kvm_dev_open();
		break;
	case BAD_VCPU:
		/* Another VM's vCPU: this one must not have vCPUs. */
		self->extra = vm_create_irqchip();
		ASSERT_LE(0, self->extra);
		self->bad = vm_create_vcpu(self->extra, 0);
		break;
	case BAD_VM_STATS:
		self->bad = ioctl(self->vm, KVM_GET_STATS_FD, 0);
		break;
	case BAD_KVM_DEVICE:
		ASSERT_EQ(0, ioctl(self->vm, KVM_CREATE_DEVICE, &dev));
		self->bad = dev.fd;
		break;
	case BAD_IRQROUTE:
		self->bad = irqroute_dev_open();
		break;
	case BAD_SELF:
		self->bad = dup(self->fd);
		break;
	case BAD_CLOSED:
		self->bad = dup(self->vm);
		ASSERT_LE(0, self->bad);
		/* A number that was a VM a moment ago. */
		ASSERT_EQ(0, close(self->bad));
		return;
	case BAD_MINUS_ONE:
		self->bad = -1;
		return;
	case BAD_HUGE:
		self->bad = INT32_MAX;
		return;
	}
	ASSERT_LE(0, self->bad) TH_LOG("kind %d", variant->kind);
}

FIXTURE_TEARDOWN(bad_vm_fd)
{
	if (self->bad >= 0 && variant->kind != BAD_CLOSED &&
	    variant->kind != BAD_HUGE)
		close(self->bad);
	if (self->extra >= 0)
		close(self->extra);
	close(self->vm);
	close(self->fd);
}

TEST_F(bad_vm_fd, refused)
{
	ASSERT_EQ(-variant->err, __irqroute_attach(self->fd, self->bad,
						   GSI_BASE, NR_ROUTES, 0,
						   NULL));
	ASSERT_EQ(-variant->err,
		  __irqroute_attach(self->fd, self->bad, GSI_BASE, NR_ROUTES,
				    IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES,
				    NULL));
	assert_attach_works(_metadata, self->fd, self->vm);
}

/*
 * A VM without KVM_CREATE_IRQCHIP cannot take a routing table: KVM refuses
 * KVM_SET_GSI_ROUTING with EINVAL and attach must report it. The failed
 * attach must not leave the VM claimed: once the irqchip exists, the same
 * file attaches to the same VM.
 */
TEST_F(unattached, vm_without_irqchip)
{
	int vm = vm_create_bare();

	ASSERT_LE(0, vm);
	ASSERT_EQ(-EINVAL, __irqroute_attach(self->fd, vm, GSI_BASE, NR_ROUTES,
					     0, NULL));
	ASSERT_EQ(0, ioctl(vm, KVM_CREATE_IRQCHIP, 0));
	assert_attach_works(_metadata, self->fd, vm);
	close(vm);
}

/* Child side of the foreign VM tests: the exit code says what failed. */
static int child_send_vm(int sock)
{
	char c;
	int vm;

	vm = vm_create_irqchip();
	if (vm < 0)
		return 10;
	if (fd_send(sock, vm, 'v'))
		return 11;
	/* Keep the VM's owner alive until the parent has tried. */
	if (read(sock, &c, 1) != 1)
		return 12;
	return 0;
}

/* A VM created by another process, received with SCM_RIGHTS: EPERM. */
TEST_F(unattached, foreign_vm)
{
	int sv[2], status, vm;
	pid_t pid;
	char tag;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		_exit(child_send_vm(sv[1]));
	}
	close(sv[1]);

	vm = fd_recv(sv[0], &tag);
	ASSERT_LE(0, vm) TH_LOG("fd_recv: %s", strerror(-vm));
	EXPECT_EQ(-EPERM, __irqroute_attach(self->fd, vm, GSI_BASE, NR_ROUTES,
					    0, NULL));
	EXPECT_EQ(-EPERM, __irqroute_attach(self->fd, vm, GSI_BASE, NR_ROUTES,
					    IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES,
					    NULL));

	/* Still EPERM once the owner is gone and only we hold the VM. */
	ASSERT_EQ(1, write(sv[0], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(-EPERM, __irqroute_attach(self->fd, vm, GSI_BASE, NR_ROUTES,
					    0, NULL));

	close(vm);
	close(sv[0]);
	assert_attach_works(_metadata, self->fd, self->vm);
}

/* A forked child attaching its own irqroute file to the parent's VM. */
TEST_F(unattached, parent_vm_from_child)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = irqroute_dev_open();

		if (fd < 0)
			_exit(10);
		if (__irqroute_attach(fd, self->vm, GSI_BASE, NR_ROUTES, 0,
				      NULL) != -EPERM)
			_exit(11);
		/* Nor through the file inherited from the parent. */
		if (__irqroute_attach(self->fd, self->vm, GSI_BASE, NR_ROUTES,
				      0, NULL) != -EPERM)
			_exit(12);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	assert_attach_works(_metadata, self->fd, self->vm);
}

/* Snapshot of what an attachment looks like from outside. */
struct attach_state {
	struct irqroute_stats st;
	uint32_t consume_result;
};

static void attach_state(struct __test_metadata *_metadata, int fd,
			 uint32_t index, struct attach_state *s)
{
	ASSERT_EQ(0, __irqroute_get_stats(fd, &s->st));
	/* Nothing is ever signalled here, so this changes nothing. */
	ASSERT_EQ(0, __irqroute_route_op(fd, IRQROUTE_CONSUME_PENDING, index,
					 0, &s->consume_result));
	ASSERT_EQ(0, s->consume_result);
}

/* Only one irqroute file per VM; the first one is not disturbed. */
TEST_F(unattached, second_file_same_vm)
{
	struct attach_state before, after;
	int fd2, trigger, vm2;
	uint32_t index = 0;

	ASSERT_EQ(0, __irqroute_attach(self->fd, self->vm, GSI_BASE, NR_ROUTES,
				       0, NULL));
	trigger = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, trigger);
	ASSERT_EQ(0, __irqroute_create(self->fd, trigger, &index));
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, index, TEST_MSI_ADDR_LO,
					TEST_MSI_DATA, 0));
	attach_state(_metadata, self->fd, index, &before);

	fd2 = irqroute_dev_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-EBUSY, __irqroute_attach(fd2, self->vm, GSI_BASE, NR_ROUTES,
					    0, NULL));
	/* A disjoint range does not make it a different VM. */
	EXPECT_EQ(-EBUSY, __irqroute_attach(fd2, self->vm, 2048, 16, 0, NULL));
	EXPECT_EQ(-EBUSY, __irqroute_attach(fd2, self->vm, 24, 8,
					    IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES,
					    NULL));

	attach_state(_metadata, self->fd, index, &after);
	ASSERT_EQ(0, memcmp(&before.st, &after.st, sizeof(before.st)));
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, index, TEST_MSI_ADDR_LO,
					TEST_MSI_DATA + 1, 0));
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_MASK, index, 0,
					 NULL));

	/* The refused file is not poisoned. */
	vm2 = vm_create_irqchip();
	ASSERT_LE(0, vm2);
	assert_attach_works(_metadata, fd2, vm2);
	close(vm2);
	close(fd2);
	close(trigger);
}

/* An attached file cannot be attached again, to any VM. */
TEST_F(unattached, attach_twice)
{
	struct attach_state before, after;
	int trigger, irqfd, vm2, fd2;
	uint32_t index = 0, gsi = 0;

	ASSERT_EQ(0, __irqroute_attach(self->fd, self->vm, GSI_BASE, NR_ROUTES,
				       0, NULL));
	trigger = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, trigger);
	ASSERT_EQ(0, __irqroute_create(self->fd, trigger, &index));
	attach_state(_metadata, self->fd, index, &before);

	vm2 = vm_create_irqchip();
	ASSERT_LE(0, vm2);
	EXPECT_EQ(-EBUSY, __irqroute_attach(self->fd, self->vm, GSI_BASE,
					    NR_ROUTES, 0, NULL));
	EXPECT_EQ(-EBUSY, __irqroute_attach(self->fd, self->vm, 0, 16, 0,
					    NULL));
	EXPECT_EQ(-EBUSY, __irqroute_attach(self->fd, vm2, GSI_BASE,
					    NR_ROUTES, 0, NULL));
	attach_state(_metadata, self->fd, index, &after);
	ASSERT_EQ(0, memcmp(&before.st, &after.st, sizeof(before.st)));

	/* Still the first range: the next route gets a GSI there. */
	close(trigger);
	trigger = eventfd(0, EFD_CLOEXEC);
	irqfd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, trigger);
	ASSERT_LE(0, irqfd);
	ASSERT_EQ(0, __irqroute_create_fds(self->fd, trigger, irqfd, &index,
					   &gsi));
	close(irqfd);
	ASSERT_GT(NR_ROUTES, index);
	ASSERT_EQ(GSI_BASE + index, gsi);

	/* The refused attach did not claim vm2. */
	fd2 = irqroute_dev_open();
	ASSERT_LE(0, fd2);
	assert_attach_works(_metadata, fd2, vm2);
	close(fd2);
	close(vm2);
	close(trigger);
}

/* Ranges are checked before anything is taken; wrap-around included. */
TEST_F(unattached, range_refused)
{
	static const struct {
		uint32_t gsi_base, nr;
	} bad[] = {
		{ 0, 0 },
		{ GSI_BASE, 0 },
		{ 4095, 0 },
		{ 4096, 0 },
		{ 4096, 1 },
		{ 4095, 2 },
		{ 0, 4097 },
		{ 1, 4096 },
		{ 0, UINT32_MAX },
		{ 1, UINT32_MAX },		/* base + nr wraps to 0 */
		{ UINT32_MAX, 1 },
		{ UINT32_MAX, 2 },		/* wraps to 1 */
		{ 0x80000000u, 0x80000000u },	/* wraps to 0 */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, __irqroute_attach(self->fd, self->vm,
						     bad[i].gsi_base, bad[i].nr,
						     0, NULL))
			TH_LOG("gsi_base %u nr_routes %u", bad[i].gsi_base,
			       bad[i].nr);
	}
	assert_attach_works(_metadata, self->fd, self->vm);
}

/*
 * The x86 defaults (GSI 0-23) are base routes, and base routes may not use
 * a GSI of the route range: a range below 24 with the flag is EINVAL.
 * (Accepting it leaves routes whose GSI KVM will not take an MSI for: an
 * irqchip pin and an MSI cannot share a GSI.) They are also 40 entries of
 * KVM's table of 4096: more than 4056 routes would not fit beside them.
 */
TEST(range_overlaps_x86_defaults)
{
	static const struct {
		uint32_t gsi_base, nr;
	} bad[] = {
		{ 0, 8 },
		{ 23, 8 },
		{ 16, 1 },
		{ 0, 4096 },
		{ 24, 4096 - 40 + 1 },
		{ 24, 4072 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int fd = irqroute_dev_open(), vm = vm_create_irqchip();

		ASSERT_LE(0, fd);
		ASSERT_LE(0, vm);
		EXPECT_EQ(-EINVAL,
			  __irqroute_attach(fd, vm, bad[i].gsi_base, bad[i].nr,
					    IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES,
					    NULL))
			TH_LOG("gsi_base %u nr_routes %u", bad[i].gsi_base,
			       bad[i].nr);
		close(fd);
		close(vm);
	}
}

/* The edges of the GSI space are usable; the page describes the range. */
TEST(range_accepted)
{
	static const struct {
		uint32_t gsi_base, nr, flags;
	} good[] = {
		{ 0, 4096 },
		{ 0, 1 },
		{ 4095, 1 },
		{ 2048, 2048 },
		/* The defaults take 40 of KVM's 4096 table entries. */
		{ 24, 4096 - 40, IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		const struct irqroute_shm_header *h;
		uint32_t shm_size, index, gsi;
		int fd, vm, trigger, irqfd;

		fd = irqroute_dev_open();
		ASSERT_LE(0, fd);
		vm = vm_create_irqchip();
		ASSERT_LE(0, vm);
		ASSERT_EQ(0, __irqroute_attach(fd, vm, good[i].gsi_base,
					       good[i].nr, good[i].flags,
					       &shm_size))
			TH_LOG("gsi_base %u nr_routes %u", good[i].gsi_base,
			       good[i].nr);
		h = irqroute_shm_map(fd, shm_size, MAP_SHARED, 0);
		ASSERT_NE(NULL, h);
		EXPECT_EQ(good[i].gsi_base, h->gsi_base);
		EXPECT_EQ(good[i].nr, h->nr_routes);

		trigger = eventfd(0, EFD_CLOEXEC);
		irqfd = eventfd(0, EFD_CLOEXEC);
		ASSERT_LE(0, trigger);
		ASSERT_LE(0, irqfd);
		ASSERT_EQ(0, __irqroute_create_fds(fd, trigger, irqfd, &index,
						   &gsi));
		ASSERT_GT(good[i].nr, index);
		ASSERT_EQ(good[i].gsi_base + index, gsi);
		ASSERT_EQ(0, __irqroute_set_msi(fd, index, TEST_MSI_ADDR_LO,
						TEST_MSI_DATA, 0));
		munmap((void *)h, shm_size);
		close(irqfd);
		close(trigger);
		close(fd);
		close(vm);
	}
}

/*
 * Every flag bit: IRQROUTE_ATTACH_F_VALID bits attach (each on a fresh
 * file and VM), every other bit is EINVAL and leaves the file unattached.
 */
TEST_F(unattached, flags_sweep)
{
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		uint32_t flag = 1U << bit;
		int fd, vm;

		if (!(flag & IRQROUTE_ATTACH_F_VALID)) {
			EXPECT_EQ(-EINVAL,
				  __irqroute_attach(self->fd, self->vm, 24, 8,
						    flag, NULL))
				TH_LOG("flag bit %u", bit);
			continue;
		}
		fd = irqroute_dev_open();
		ASSERT_LE(0, fd);
		vm = vm_create_irqchip();
		ASSERT_LE(0, vm);
		ASSERT_EQ(0, __irqroute_attach(fd, vm, 24, 8, flag, NULL))
			TH_LOG("flag bit %u", bit);
		close(fd);
		close(vm);
	}
	EXPECT_EQ(-EINVAL, __irqroute_attach(self->fd, self->vm, 24, 8,
					     ~IRQROUTE_ATTACH_F_VALID, NULL));
	EXPECT_EQ(-EINVAL, __irqroute_attach(self->fd, self->vm, 24, 8,
					     UINT32_MAX, NULL));
	assert_attach_works(_metadata, self->fd, self->vm);
}

/*
 * The x86 default flag seeds GSI 0-23 (pins); without it the module's first
 * commit replaces the default table KVM_CREATE_IRQCHIP installed.
 */
TEST_F(unattached, x86_default_routes)
{
	int fd2, vm2;

	ASSERT_EQ(1, vm_gsi_routed(self->vm, 4));	/* KVM's own default */
	ASSERT_EQ(0, __irqroute_attach(self->fd, self->vm, 24, 8,
				       IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES,
				       NULL));
	EXPECT_EQ(1, vm_gsi_routed(self->vm, 0));
	EXPECT_EQ(1, vm_gsi_routed(self->vm, 4));
	EXPECT_EQ(1, vm_gsi_routed(self->vm, 23));
	EXPECT_EQ(0, vm_gsi_routed(self->vm, 24));

	vm2 = vm_create_irqchip();
	ASSERT_LE(0, vm2);
	fd2 = irqroute_dev_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, __irqroute_attach(fd2, vm2, 24, 8, 0, NULL));
	EXPECT_EQ(0, vm_gsi_routed(vm2, 0));
	EXPECT_EQ(0, vm_gsi_routed(vm2, 4));
	EXPECT_EQ(0, vm_gsi_routed(vm2, 23));
	close(fd2);
	close(vm2);
}

/* shm_size is an output: whatever the caller leaves there is ignored. */
TEST_F(unattached, shm_size_is_output)
{
	struct irqroute_attach a = {
		.size = sizeof(a),
		.vm_fd = self->vm,
		.gsi_base = GSI_BASE,
		.nr_routes = NR_ROUTES,
		.shm_size = 0xdeadbeef,
	};

	ASSERT_EQ(0, __irqroute_ioctl(self->fd, IRQROUTE_ATTACH, &a));
	ASSERT_EQ(self->info.shm_size, a.shm_size);
}

TEST_F(unattached, size_short)
{
	struct irqroute_attach a = {
		.vm_fd = self->vm,
		.gsi_base = GSI_BASE,
		.nr_routes = NR_ROUTES,
	};
	uint32_t size;

	for (size = 0; size < sizeof(a); size++) {
		a.size = size;
		EXPECT_EQ(-EINVAL, __irqroute_ioctl(self->fd, IRQROUTE_ATTACH,
						    &a))
			TH_LOG("size %u", size);
	}
	assert_attach_works(_metadata, self->fd, self->vm);
}

struct attach_long {
	struct irqroute_attach a;
	uint8_t tail[56];
};

/* A newer userspace's larger struct with a zero tail attaches. */
TEST_F(unattached, size_long_zero_tail)
{
	struct attach_long l;
	unsigned int i;

	memset(&l, 0, sizeof(l));
	l.a.size = sizeof(l);
	l.a.vm_fd = self->vm;
	l.a.gsi_base = GSI_BASE;
	l.a.nr_routes = NR_ROUTES;
	ASSERT_EQ(0, __irqroute_ioctl(self->fd, IRQROUTE_ATTACH, &l));
	ASSERT_EQ(self->info.shm_size, l.a.shm_size);
	/* The kernel writes back only what it knows. */
	for (i = 0; i < sizeof(l.tail); i++) {
		ASSERT_EQ(0, l.tail[i]);
	}
	ASSERT_EQ(sizeof(l), l.a.size);
}

/* ... and with anything set in the tail it is refused with E2BIG. */
TEST_F(unattached, size_long_nonzero_tail)
{
	struct attach_long l;
	unsigned int i;

	for (i = 0; i < sizeof(l.tail); i++) {
		memset(&l, 0, sizeof(l));
		l.a.size = sizeof(l);
		l.a.vm_fd = self->vm;
		l.a.gsi_base = GSI_BASE;
		l.a.nr_routes = NR_ROUTES;
		l.tail[i] = 0x80;
		EXPECT_EQ(-E2BIG, __irqroute_ioctl(self->fd, IRQROUTE_ATTACH,
						   &l))
			TH_LOG("tail byte %u", i);
	}
	assert_attach_works(_metadata, self->fd, self->vm);
}

TEST_F(unattached, null_arg)
{
	ASSERT_EQ(-EFAULT, __irqroute_ioctl(self->fd, IRQROUTE_ATTACH, NULL));
	assert_attach_works(_metadata, self->fd, self->vm);
}

TEST_HARNESS_MAIN
