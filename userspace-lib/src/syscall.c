// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * Thin system call wrappers: the result, or -errno. They are the only
 * places in the library that read errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "irqroute-private.h"

int __irqroute_open(const char *path, int flags)
{
	int ret = open(path, flags);

	return ret < 0 ? -errno : ret;
}

int __irqroute_close(int fd)
{
	return close(fd) < 0 ? -errno : 0;
}

int __irqroute_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

int __irqroute_mmap(int fd, size_t len, void **addr)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

/* Private anonymous memory, not inherited by a fork()ed child. */
int __irqroute_mmap_scratch(void **addr)
{
	void *p = mmap(NULL, IRQROUTE_SCRATCH_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	if (madvise(p, IRQROUTE_SCRATCH_SIZE, MADV_DONTFORK) < 0) {
		int err = -errno;

		munmap(p, IRQROUTE_SCRATCH_SIZE);
		return err;
	}
	*addr = p;
	return 0;
}

int __irqroute_munmap(void *addr, size_t len)
{
	return munmap(addr, len) < 0 ? -errno : 0;
}

int __irqroute_eventfd(unsigned int initval, int flags)
{
	int ret = eventfd(initval, flags);

	return ret < 0 ? -errno : ret;
}

int __irqroute_route_op(int fd, unsigned long cmd, uint32_t index,
			uint32_t flags, uint32_t *result)
{
	struct irqroute_route_op op = {
		.size = sizeof(op),
		.flags = flags,
		.index = index,
	};
	int ret;

	ret = __irqroute_ioctl(fd, cmd, &op);
	if (!ret && result)
		*result = op.result;
	return ret;
}
