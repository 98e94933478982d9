// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU's edu device through VFIO type1. See edu.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/vfio.h>

#include "edu.h"

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_REG_ID		0x00	/* 0xRRrr00ed: major, minor, 0xed */
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define PCI_COMMAND_OFFSET	0x04
#define PCI_COMMAND_MEM_MASTER	0x0006	/* memory space, bus master */

struct edu {
	int container, group, device;
	volatile uint32_t *bar0;
	size_t bar0_size;
	char bdf[32];
};

static int edu_err(const char *what, int err)
{
	fprintf(stderr, "edu: %s: %s\n", what, strerror(err));
	return -err;
}

static int sysfs_read_ulong(const char *path, unsigned long *val)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	*val = strtoul(buf, NULL, 0);
	return 0;
}

static int sysfs_write(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* The first PCI device with edu's vendor and device id. */
static int edu_find(char *bdf, size_t len)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	int ret = -ENODEV;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char path[512];
		unsigned long vendor, device;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 de->d_name);
		if (sysfs_read_ulong(path, &vendor) || vendor != EDU_VENDOR)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		if (sysfs_read_ulong(path, &device) || device != EDU_DEVICE)
			continue;
		if (strlen(de->d_name) >= len)
			continue;
		memcpy(bdf, de->d_name, strlen(de->d_name) + 1);
		ret = 0;
		break;
	}
	closedir(dir);
	return ret;
}

/* Bind the device to vfio-pci unless it is already. */
static int edu_bind_vfio(const char *bdf)
{
	char path[256], link[256];
	ssize_t n;
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		if (!strcmp(basename(link), "vfio-pci"))
			return 0;
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		ret = sysfs_write(path, bdf);
		if (ret)
			return edu_err("unbind from its driver", -ret);
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	ret = sysfs_write(path, "vfio-pci");
	if (ret)
		return edu_err("driver_override", -ret);
	ret = sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	if (ret)
		return edu_err("bind to vfio-pci (is vfio-pci loaded?)", -ret);
	return 0;
}

static int edu_open_group(struct edu *d)
{
	char path[256], link[256];
	int ret;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 d->bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return edu_err("no IOMMU group (intel_iommu=on?)", errno);
	link[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", basename(link));

	d->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d->container < 0)
		return edu_err("/dev/vfio/vfio", errno);
	if (ioctl(d->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return edu_err("VFIO API version", EINVAL);
	d->group = open(path, O_RDWR | O_CLOEXEC);
	if (d->group < 0)
		return edu_err(path, errno);
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container))
		return edu_err("VFIO_GROUP_SET_CONTAINER", errno);
	if (ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return edu_err("VFIO_SET_IOMMU type1v2", errno);
	ret = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, d->bdf);
	if (ret < 0)
		return edu_err("VFIO_GROUP_GET_DEVICE_FD", errno);
	d->device = ret;
	return 0;
}

/* Map BAR0 and turn on memory decoding and bus mastering (for MSIs). */
static int edu_setup_device(struct edu *d)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	uint16_t cmd;
	void *p;

	reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &reg))
		return edu_err("config region info", errno);
	if (pread(d->device, &cmd, 2, reg.offset + PCI_COMMAND_OFFSET) != 2)
		return edu_err("read PCI command", errno);
	cmd |= PCI_COMMAND_MEM_MASTER;
	if (pwrite(d->device, &cmd, 2, reg.offset + PCI_COMMAND_OFFSET) != 2)
		return edu_err("write PCI command", errno);

	memset(&reg, 0, sizeof(reg));
	reg.argsz = sizeof(reg);
	reg.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &reg))
		return edu_err("BAR0 region info", errno);
	if (!(reg.flags & VFIO_REGION_INFO_FLAG_MMAP) || reg.size < 0x100)
		return edu_err("BAR0 cannot be mapped", EINVAL);
	p = mmap(NULL, reg.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 d->device, reg.offset);
	if (p == MAP_FAILED)
		return edu_err("mmap BAR0", errno);
	d->bar0 = p;
	d->bar0_size = reg.size;
	if ((d->bar0[EDU_REG_ID / 4] & 0xff) != 0xed)
		return edu_err("BAR0 does not look like edu", EINVAL);
	return 0;
}

struct edu *edu_open(void)
{
	struct edu *d;

	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->container = d->group = d->device = -1;
	if (edu_find(d->bdf, sizeof(d->bdf))) {
		fprintf(stderr, "edu: no PCI device %04x:%04x (QEMU -device edu)\n",
			EDU_VENDOR, EDU_DEVICE);
		goto err;
	}
	if (edu_bind_vfio(d->bdf) || edu_open_group(d) || edu_setup_device(d))
		goto err;
	return d;
err:
	edu_close(d);
	return NULL;
}

void edu_close(struct edu *d)
{
	if (!d)
		return;
	if (d->device >= 0)
		edu_set_trigger(d, -1);
	if (d->bar0)
		munmap((void *)d->bar0, d->bar0_size);
	if (d->device >= 0)
		close(d->device);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	free(d);
}

int edu_set_trigger(struct edu *d, int efd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	int32_t fd = efd;

	memset(buf, 0, sizeof(buf));
	set->argsz = sizeof(*set);
	set->index = VFIO_PCI_MSI_IRQ_INDEX;
	if (efd < 0) {
		/* count 0 with DATA_NONE: disable MSI, release the eventfd. */
		set->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	} else {
		set->argsz = sizeof(buf);
		set->flags = VFIO_IRQ_SET_DATA_EVENTFD |
			     VFIO_IRQ_SET_ACTION_TRIGGER;
		set->count = 1;
		memcpy(set->data, &fd, sizeof(fd));
	}
	if (ioctl(d->device, VFIO_DEVICE_SET_IRQS, set))
		return -errno;
	return 0;
}

void edu_raise(struct edu *d)
{
	d->bar0[EDU_REG_IRQ_RAISE / 4] = 1;
}

uint32_t edu_irq_status(struct edu *d)
{
	return d->bar0[EDU_REG_IRQ_STATUS / 4];
}

void edu_ack(struct edu *d, uint32_t bits)
{
	d->bar0[EDU_REG_IRQ_ACK / 4] = bits;
}

long long edu_hardirq_count(const struct edu *d)
{
	char line[1024], *p, *end;
	long long sum = -1;
	FILE *f;

	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -1;
	/* "  NN:   cpu0   cpu1  ...  chip  hwirq  vfio-msi[0](bdf)" */
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "vfio-msi") || !strstr(line, d->bdf))
			continue;
		p = strchr(line, ':');
		if (!p)
			break;
		sum = 0;
		for (p++;; p = end) {
			long long v = strtoll(p, &end, 10);

			if (end == p)
				break;
			sum += v;
		}
		break;
	}
	fclose(f);
	return sum;
}

const char *edu_bdf(const struct edu *d)
{
	return d->bdf;
}
