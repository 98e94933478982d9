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
 * Faults of the shared page: the first access, and any after the VMM
 * zapped it (MADV_DONTNEED). The page is the module's and keeps its
 * contents; the mapping holds the file, so ir->shm outlives it.
 */
static vm_fault_t irqroute_shm_fault(struct vm_fault *vmf)
{
	struct irqroute *ir = vmf->vma->vm_file->private_data;
	struct page *page = virt_to_page(ir->shm);

	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct irqroute_shm_vm_ops = {
	.fault = irqroute_shm_fault,
};

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
	 * Only the VMM's own threads reach the page. VM_DONTCOPY keeps it
	 * from a forked child, and VM_IO keeps it that way (madvise refuses
	 * MADV_DOFORK on VM_IO) and refuses get_user_pages(): no O_DIRECT,
	 * io_uring buffer, process_vm_writev() or /proc/pid/mem write can
	 * pin or reach it. Nothing in the page is code.
	 */
	irqroute_vm_flags_mod(vma, VM_IO | VM_DONTEXPAND | VM_DONTCOPY |
			      VM_DONTDUMP, VM_MAYEXEC);
	vma->vm_ops = &irqroute_shm_vm_ops;
	return 0;
}
