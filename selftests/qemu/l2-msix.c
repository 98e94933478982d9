// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X masking from inside the L2 guest of the end-to-end test
 * (selftests/qemu/l2-init.sh), on a device whose driver is bound: the
 * guest's own nvme driver keeps using the vectors while this flips their
 * mask bits under it, the way a guest kernel masks a vector. Static: the
 * L2 initramfs has no libc.
 *
 * The MSI-X table and PBA are reached through an mmap of
 * /sys/bus/pci/devices/<bdf>/resource<bir> (the kernel needs iomem=relaxed
 * for a BAR a driver has claimed); the function mask through
 * /sys/bus/pci/devices/<bdf>/config.
 *
 *   l2-msix <bdf> info               cap, table and PBA location, size
 *   l2-msix <bdf> mask <vec>         set the vector's mask bit
 *   l2-msix <bdf> unmask <vec>       clear it
 *   l2-msix <bdf> ctrl <vec>         print the vector control word
 *   l2-msix <bdf> pba <vec>          print the vector's pending bit (0/1)
 *   l2-msix <bdf> fmask 0|1          clear/set the function mask
 *   l2-msix <bdf> cycles <n> <vec>.. n times: each vector masked and
 *                                    unmasked, then the function mask set
 *                                    and cleared; checks each write took
 *   l2-msix <bdf> mark <byte>        write <byte> to the Cache Line Size
 *                                    register (no function on PCIe) and
 *                                    print its old value: a marker that
 *                                    the VMM passes on to VFIO as a
 *                                    one-byte pwrite, which the L1 side
 *                                    finds in its strace log
 *
 * Every write is read back (which also flushes it to the device): a mask
 * bit or function mask that does not read back as written fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PCI_CACHE_LINE_SIZE	0x0c
#define PCI_CAP_PTR		0x34
#define PCI_STATUS		0x06
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_CAP_ID_MSIX		0x11
#define MSIX_FLAGS		2	/* message control */
#define MSIX_FLAGS_QSIZE	0x7ff
#define MSIX_FLAGS_MASKALL	0x4000
#define MSIX_FLAGS_ENABLE	0x8000
#define MSIX_TABLE		4
#define MSIX_PBA		8
#define MSIX_BIR		0x7
#define MSIX_ENTRY_SIZE		16
#define MSIX_ENTRY_CTRL		12
#define MSIX_ENTRY_MASKBIT	1

struct msix {
	char dev[256];
	int cfg;		/* config file */
	unsigned int cap;	/* MSI-X capability offset */
	unsigned int nvec;
	unsigned int tbir, toff, pbir, poff;
	volatile uint8_t *tbar, *pbar;
};

static void die(const char *what)
{
	fprintf(stderr, "l2-msix: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "l2-msix: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint32_t cfg_read(struct msix *m, unsigned int off, int len)
{
	uint32_t v = 0;

	if (pread(m->cfg, &v, len, off) != len)
		die("config read");
	return v;
}

static void cfg_write16(struct msix *m, unsigned int off, uint16_t v)
{
	if (pwrite(m->cfg, &v, 2, off) != 2)
		die("config write");
}

static volatile uint8_t *map_bar(struct msix *m, unsigned int bir)
{
	char path[300];
	struct stat st;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/resource%u", m->dev, bir);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0 || fstat(fd, &st))
		die(path);
	p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap BAR (iomem=relaxed on the kernel command line?)");
	close(fd);
	return p;
}

static void msix_open(struct msix *m, const char *bdf)
{
	unsigned int pos, guard = 0;
	char path[300];

	snprintf(m->dev, sizeof(m->dev), "/sys/bus/pci/devices/%s", bdf);
	snprintf(path, sizeof(path), "%s/config", m->dev);
	m->cfg = open(path, O_RDWR);
	if (m->cfg < 0)
		die(path);
	if (!(cfg_read(m, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		fail("%s: no capability list", bdf);
	m->cap = 0;
	for (pos = cfg_read(m, PCI_CAP_PTR, 1) & ~3u; pos && guard < 48;
	     pos = cfg_read(m, pos + 1, 1) & ~3u, guard++) {
		if (cfg_read(m, pos, 1) == PCI_CAP_ID_MSIX) {
			m->cap = pos;
			break;
		}
	}
	if (!m->cap)
		fail("%s: no MSI-X capability", bdf);
	m->nvec = (cfg_read(m, m->cap + MSIX_FLAGS, 2) & MSIX_FLAGS_QSIZE) + 1;
	m->tbir = cfg_read(m, m->cap + MSIX_TABLE, 4) & MSIX_BIR;
	m->toff = cfg_read(m, m->cap + MSIX_TABLE, 4) & ~MSIX_BIR;
	m->pbir = cfg_read(m, m->cap + MSIX_PBA, 4) & MSIX_BIR;
	m->poff = cfg_read(m, m->cap + MSIX_PBA, 4) & ~MSIX_BIR;
	m->tbar = map_bar(m, m->tbir);
	m->pbar = m->pbir == m->tbir ? m->tbar : map_bar(m, m->pbir);
}

static volatile uint32_t *ctrl_of(struct msix *m, unsigned int vec)
{
	return (volatile uint32_t *)(m->tbar + m->toff +
				     vec * MSIX_ENTRY_SIZE + MSIX_ENTRY_CTRL);
}

static unsigned int check_vec(struct msix *m, const char *s)
{
	unsigned long v = strtoul(s, NULL, 0);

	if (v >= m->nvec)
		fail("vector %lu out of range (%u vectors)", v, m->nvec);
	return v;
}

static void set_mask(struct msix *m, unsigned int vec, int on)
{
	volatile uint32_t *c = ctrl_of(m, vec);
	uint32_t v = *c;

	v = on ? v | MSIX_ENTRY_MASKBIT : v & ~MSIX_ENTRY_MASKBIT;
	*c = v;
	if ((*c & MSIX_ENTRY_MASKBIT) != (v & MSIX_ENTRY_MASKBIT))
		fail("vector %u: mask bit did not read back as %d", vec, on);
}

static int pending(struct msix *m, unsigned int vec)
{
	volatile uint32_t *p = (volatile uint32_t *)(m->pbar + m->poff);

	return (p[vec / 32] >> (vec % 32)) & 1;
}

static void set_fmask(struct msix *m, int on)
{
	uint16_t v = cfg_read(m, m->cap + MSIX_FLAGS, 2);

	v = on ? v | MSIX_FLAGS_MASKALL : v & ~MSIX_FLAGS_MASKALL;
	cfg_write16(m, m->cap + MSIX_FLAGS, v);
	if ((cfg_read(m, m->cap + MSIX_FLAGS, 2) & MSIX_FLAGS_MASKALL) !=
	    (v & MSIX_FLAGS_MASKALL))
		fail("function mask did not read back as %d", on);
}

int main(int argc, char **argv)
{
	struct msix m;
	unsigned long n, i;
	int a;

	if (argc < 3) {
		fprintf(stderr, "usage: l2-msix <bdf> info|mask|unmask|ctrl|pba|fmask|cycles|mark ...\n");
		return 2;
	}
	msix_open(&m, argv[1]);
	if (!strcmp(argv[2], "info")) {
		printf("cap=0x%x nvec=%u table=%u:0x%x pba=%u:0x%x enabled=%u fmask=%u\n",
		       m.cap, m.nvec, m.tbir, m.toff, m.pbir, m.poff,
		       !!(cfg_read(&m, m.cap + MSIX_FLAGS, 2) & MSIX_FLAGS_ENABLE),
		       !!(cfg_read(&m, m.cap + MSIX_FLAGS, 2) & MSIX_FLAGS_MASKALL));
	} else if (!strcmp(argv[2], "mask") && argc == 4) {
		set_mask(&m, check_vec(&m, argv[3]), 1);
	} else if (!strcmp(argv[2], "unmask") && argc == 4) {
		set_mask(&m, check_vec(&m, argv[3]), 0);
	} else if (!strcmp(argv[2], "ctrl") && argc == 4) {
		printf("0x%x\n", *ctrl_of(&m, check_vec(&m, argv[3])));
	} else if (!strcmp(argv[2], "pba") && argc == 4) {
		printf("%d\n", pending(&m, check_vec(&m, argv[3])));
	} else if (!strcmp(argv[2], "fmask") && argc == 4) {
		set_fmask(&m, atoi(argv[3]));
	} else if (!strcmp(argv[2], "mark") && argc == 4) {
		uint8_t b = strtoul(argv[3], NULL, 0);

		printf("0x%x\n", cfg_read(&m, PCI_CACHE_LINE_SIZE, 1));
		if (pwrite(m.cfg, &b, 1, PCI_CACHE_LINE_SIZE) != 1)
			die("config write");
	} else if (!strcmp(argv[2], "cycles") && argc >= 5) {
		n = strtoul(argv[3], NULL, 0);
		for (a = 4; a < argc; a++)
			check_vec(&m, argv[a]);
		for (i = 0; i < n; i++) {
			for (a = 4; a < argc; a++) {
				unsigned int v = check_vec(&m, argv[a]);

				/* The driver leaves its vectors unmasked. */
				if (*ctrl_of(&m, v) & MSIX_ENTRY_MASKBIT)
					fail("cycle %lu: vector %u already masked",
					     i, v);
				set_mask(&m, v, 1);
				set_mask(&m, v, 0);
			}
			set_fmask(&m, 1);
			set_fmask(&m, 0);
		}
		printf("cycles=%lu vectors=%d\n", n, argc - 4);
	} else {
		fprintf(stderr, "l2-msix: bad command %s\n", argv[2]);
		return 2;
	}
	return 0;
}
