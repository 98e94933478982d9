// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute: the shared page, mapped by the VMM at offset 0 of the device
 * file: a header, the mask bitmap and the pending bitmap.
 */
#include <linux/gfp.h>
#include <linux/mm.h>

#include "compat.h"
#include "irqroute.h"

int irqroute_shm_init(struct irqroute *ir)
{
	struct irqroute_shm_header *hdr;

	BUILD_BUG_ON(IRQROUTE_SHM_PENDING_OFFSET + IRQROUTE_MAX_ROUTES / 8 >
		     PAGE_SIZE);
	BUILD_BUG_ON(sizeof(*hdr) > IRQROUTE_SHM_MASK_OFFSET);

	ir->shm = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!ir->shm)
		return -ENOMEM;
	ir->mask = ir->shm + IRQROUTE_SHM_MASK_OFFSET;
	ir->pending = ir->shm + IRQROUTE_SHM_PENDING_OFFSET;

	hdr = ir->shm;
	hdr->magic = IRQROUTE_SHM_MAGIC;
	hdr->version = IRQROUTE_SHM_VERSION;
	hdr->nr_routes = ir->nr_routes;
	hdr->gsi_base = ir->gsi_base;
	hdr->mask_offset = IRQROUTE_SHM_MASK_OFFSET;
	hdr->pending_offset = IRQROUTE_SHM_PENDING_OFFSET;
	return 0;
}

/* Mappings hold their own references; the page goes with the last one. */
void irqroute_shm_free(struct irqroute *ir)
{
	free_page((unsigned long)ir->shm);
	ir->shm = NULL;
}

/*
 * mmap() of the device file. Called with mmap_lock held, so it must not
 * take ir->lock (the ioctls take mmap_lock under it).
 */
int irqroute_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct irqroute *ir = file->private_data;

	/* Pairs with the release in irqroute_attach(): the page is ready. */
	if (!smp_load_acquire(&ir->attached))
		return -ENODEV;
	/* Like the ioctls: only the VMM itself gets at its VM's bits. */
	if (vma->vm_mm != ir->mm)
		return -EPERM;
	if (vma->vm_pgoff != 0 || vma->vm_end - vma->vm_start != PAGE_SIZE)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED) || (vma->vm_flags & VM_EXEC))
		return -EINVAL;

	/*
	 * A forked child has no business with the parent's routes, and
	 * nothing in the page is code.
	 */
	irqroute_vm_flags_mod(vma, VM_DONTEXPAND | VM_DONTCOPY | VM_DONTDUMP,
			      VM_MAYEXEC);
	return vm_insert_page(vma, vma->vm_start, virt_to_page(ir->shm));
}
