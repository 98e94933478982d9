/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's "edu" PCI device (1234:11e8) driven through VFIO: a real device
 * whose MSI reaches an eventfd from vfio-pci's hard-IRQ handler, the path
 * a passed-through NIC or NVMe takes.
 *
 * edu_open() binds the device to vfio-pci (driver_override), opens its
 * IOMMU group in a type1 container, maps BAR0 and enables memory decoding
 * and bus mastering. Each edu_raise() is one MSI from the device.
 *
 * Everything the tests need is in the test VM; a missing piece is an error
 * with a message on stderr, never a skip.
 */
#ifndef IRQROUTE_SELFTEST_EDU_H
#define IRQROUTE_SELFTEST_EDU_H

#include <stdint.h>

struct edu;

/* NULL on failure (with a message on stderr). */
struct edu *edu_open(void);
/* Removes the trigger, unmaps, closes device, group and container. */
void edu_close(struct edu *d);

/*
 * VFIO_DEVICE_SET_IRQS on the MSI index: @efd becomes the eventfd that
 * vfio-pci signals for the device's MSI; -1 disables MSI and drops the
 * trigger. 0 or -errno.
 */
int edu_set_trigger(struct edu *d, int efd);

/* One MSI: write 1 to the interrupt-raise register (BAR0 + 0x60). */
void edu_raise(struct edu *d);
/* The device's interrupt status register (BAR0 + 0x24). */
uint32_t edu_irq_status(struct edu *d);
/* Acknowledge (BAR0 + 0x64): clears the status bits in @bits. */
void edu_ack(struct edu *d, uint32_t bits);

/*
 * Hard interrupts vfio-pci's MSI handler has taken for the device, summed
 * over CPUs (/proc/interrupts, "vfio-msi[0](<bdf>)"); -1 if no such line
 * (MSI not enabled).
 */
long long edu_hardirq_count(const struct edu *d);

/* The device's PCI address, e.g. "0000:00:01.0". */
const char *edu_bdf(const struct edu *d);

#endif /* IRQROUTE_SELFTEST_EDU_H */
