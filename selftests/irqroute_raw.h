/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw /dev/irqroute calls for the errno selftests. Like KVM selftests'
 * __kvm_irqfd()/kvm_irqfd(): the __ helpers return 0 or the raw -errno,
 * the macros without __ assert success (kselftest_harness.h context).
 */
#ifndef IRQROUTE_SELFTEST_RAW_H
#define IRQROUTE_SELFTEST_RAW_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/irqroute.h>
#include <linux/kvm.h>

#define IRQROUTE_DEV_PATH	"/dev/irqroute"

/* A valid x86 MSI: fixed mode, physical destination APIC 0. */
#define TEST_MSI_ADDR_LO	0xfee00000u
#define TEST_MSI_DATA		0x40u

static inline int irqroute_dev_open(void)
{
	int fd = open(IRQROUTE_DEV_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static inline int __irqroute_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

#define irqroute_ioctl(fd, cmd, arg) \
	ASSERT_EQ(0, __irqroute_ioctl(fd, cmd, arg))

static inline int __irqroute_get_info(int fd, struct irqroute_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return __irqroute_ioctl(fd, IRQROUTE_GET_INFO, info);
}

/* ATTACH with a scratch area (@scratch, or 0 for none). */
static inline int __irqroute_attach_scratch(int fd, int vm_fd,
					    uint32_t gsi_base,
					    uint32_t nr_routes, uint32_t flags,
					    void *scratch, uint32_t *shm_size)
{
	struct irqroute_attach a = {
		.size = sizeof(a),
		.flags = flags,
		.vm_fd = vm_fd,
		.gsi_base = gsi_base,
		.nr_routes = nr_routes,
		.scratch = (uintptr_t)scratch,
	};
	int ret;

	ret = __irqroute_ioctl(fd, IRQROUTE_ATTACH, &a);
	if (!ret && shm_size)
		*shm_size = a.shm_size;
	return ret;
}

/*
 * ATTACH without a scratch area: the module maps memory for each of its
 * KVM ioctls (scratch_test covers both ways).
 */
static inline int __irqroute_attach(int fd, int vm_fd, uint32_t gsi_base,
				    uint32_t nr_routes, uint32_t flags,
				    uint32_t *shm_size)
{
	return __irqroute_attach_scratch(fd, vm_fd, gsi_base, nr_routes,
					 flags, NULL, shm_size);
}

/*
 * The process's mapped total in KiB (VmSize), or -1: a mapping left behind
 * shows here (anonymous mappings merge, so counting them would not).
 */
static inline long vm_size_kb(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

#define irqroute_attach_ok(fd, vm_fd, gsi_base, nr, flags) \
	ASSERT_EQ(0, __irqroute_attach(fd, vm_fd, gsi_base, nr, flags, NULL))

static inline int __irqroute_create_fds(int fd, int trigger, int irqfd,
					uint32_t *index, uint32_t *gsi)
{
	struct irqroute_route_create c = {
		.size = sizeof(c),
		.trigger_fd = trigger,
		.irqfd_fd = irqfd,
	};
	int ret;

	ret = __irqroute_ioctl(fd, IRQROUTE_ROUTE_CREATE, &c);
	if (!ret) {
		if (index)
			*index = c.index;
		if (gsi)
			*gsi = c.gsi;
	}
	return ret;
}

/*
 * Creates a route on @trigger with a fresh private eventfd, which is
 * closed again like the library does: the module keeps its own reference.
 */
static inline int __irqroute_create(int fd, int trigger, uint32_t *index)
{
	int irqfd, ret;

	irqfd = eventfd(0, EFD_CLOEXEC);
	if (irqfd < 0)
		return -errno;
	ret = __irqroute_create_fds(fd, trigger, irqfd, index, NULL);
	close(irqfd);
	return ret;
}

static inline int __irqroute_route_op(int fd, unsigned long cmd,
				      uint32_t index, uint32_t flags,
				      uint32_t *result)
{
	struct irqroute_route_op op = {
		.size = sizeof(op),
		.flags = flags,
		.index = index,
		.result = 0xdeadbeef,
	};
	int ret;

	ret = __irqroute_ioctl(fd, cmd, &op);
	if (!ret && result)
		*result = op.result;
	return ret;
}

static inline int __irqroute_set_msi(int fd, uint32_t index,
				     uint32_t address_lo, uint32_t data,
				     uint32_t flags)
{
	struct irqroute_msi m = {
		.size = sizeof(m),
		.flags = flags,
		.index = index,
		.data = data,
		.address_lo = address_lo,
	};

	return __irqroute_ioctl(fd, IRQROUTE_SET_MSI, &m);
}

static inline int __irqroute_get_stats(int fd, struct irqroute_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return __irqroute_ioctl(fd, IRQROUTE_GET_STATS, st);
}

static inline int __irqroute_commit(int fd)
{
	struct irqroute_commit c = { .size = sizeof(c) };

	return __irqroute_ioctl(fd, IRQROUTE_COMMIT, &c);
}

static inline int __irqroute_set_base(int fd,
				      const struct kvm_irq_routing_entry *e,
				      uint32_t nr)
{
	struct irqroute_base_routes b = {
		.size = sizeof(b),
		.nr = nr,
		.entries = (uintptr_t)e,
	};

	return __irqroute_ioctl(fd, IRQROUTE_SET_BASE_ROUTES, &b);
}

/* An IOAPIC pin entry: the only kind vm_gsi_routed() can see. */
static inline struct kvm_irq_routing_entry ioapic_entry(uint32_t gsi,
							uint32_t pin)
{
	struct kvm_irq_routing_entry e = {
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = pin },
	};

	return e;
}

/* mmap() of the shared page: the address, or NULL with errno set. */
static inline void *irqroute_shm_map(int fd, size_t len, int flags, off_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, off);

	return p == MAP_FAILED ? NULL : p;
}

static inline int shm_test_bit(const void *shm, unsigned int offset,
			       uint32_t index)
{
	const uint64_t *w = (const uint64_t *)((const char *)shm + offset);

	return !!(__atomic_load_n(&w[index / 64], __ATOMIC_SEQ_CST) &
		  (1ULL << (index % 64)));
}

static inline int eventfd_signal_once(int efd)
{
	uint64_t one = 1;

	return write(efd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

#endif /* IRQROUTE_SELFTEST_RAW_H */
