// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute: the attachment to a KVM VM file, and how the module calls
 * KVM's own ioctl handlers on it.
 *
 * KVM exports no in-kernel API for routing or irqfds to ordinary modules,
 * so the module drives the VM the way the VMM would: through the VM file's
 * unlocked_ioctl, in the VMM's own context (KVM refuses any other mm).
 * KVM copies the argument from user memory; the module builds it in a
 * buffer of its own that is also mapped read-only into the VMM, so it
 * never writes to memory the VMM owns.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "irqroute.h"

/* VMs with an attachment, so that a second one is refused. */
static LIST_HEAD(irqroute_vms);
static DEFINE_MUTEX(irqroute_vms_lock);

/* Room for the largest table KVM takes, then one struct kvm_irqfd. */
#define IRQROUTE_TABLE_IRQFD_OFF					\
	(sizeof(struct kvm_irq_routing) +				\
	 IRQROUTE_MAX_ROUTES * sizeof(struct kvm_irq_routing_entry))
#define IRQROUTE_TABLE_LEN						\
	PAGE_ALIGN(IRQROUTE_TABLE_IRQFD_OFF + sizeof(struct kvm_irqfd))

/*
 * Is this a KVM VM file? file_is_kvm() is exported only to kvm-amd and
 * kvm-intel on new kernels, so check what it implies: KVM creates each VM
 * file with anon_inode_getfile("kvm-vm", ...) in kvm_dev_ioctl_create_vm().
 * Anon-inode files are only made by kernel code, which names them, and no
 * other code uses that name, so the name identifies KVM's VM file and its
 * private_data is the VM. KVM_CHECK_EXTENSION afterwards runs KVM's own
 * checks on it (the caller's mm, a dead VM).
 */
static bool irqroute_file_is_kvm_vm(struct file *file)
{
	return file_inode(file)->i_sb->s_magic == ANON_INODE_FS_MAGIC &&
	       !strcmp(file_dentry(file)->d_name.name, "kvm-vm") &&
	       file->f_op->unlocked_ioctl && file->private_data;
}

/*
 * A KVM ioctl on the VMM's behalf, as the ioctl system call would make
 * it: the LSM's file_ioctl hook first, so that a policy refusing the
 * VMM an ioctl on its VM file cannot be bypassed through irqroute.
 */
static long irqroute_kvm_ioctl(struct file *vm_file, unsigned int cmd,
			       unsigned long arg)
{
	int ret = security_file_ioctl(vm_file, cmd, arg);

	if (ret)
		return ret;
	return vm_file->f_op->unlocked_ioctl(vm_file, cmd, arg);
}

/**
 * irqroute_vm_ioctl - call KVM's ioctl handler on the attached VM
 * @ir: the attachment
 * @cmd: a KVM VM ioctl
 * @arg: its argument (a user pointer, or a value)
 *
 * Context: ir->lock held, current->mm == ir->mm.
 */
static long irqroute_vm_ioctl(struct irqroute *ir, unsigned int cmd,
			      unsigned long arg)
{
	lockdep_assert_held(&ir->lock);

	return irqroute_kvm_ioctl(ir->vm_file, cmd, arg);
}

/*
 * The table buffer: zeroed pages charged to the VMM's memory cgroup, one
 * kernel mapping for the module to write, and the same pages mapped
 * read-only into the VMM for KVM to read.
 */
struct irqroute_table_buf {
	void *vaddr;
	unsigned int nr_pages;
	struct page *pages[];
};

static void irqroute_table_buf_free(struct irqroute_table_buf *tb)
{
	unsigned int i;

	if (tb->vaddr)
		vunmap(tb->vaddr);
	for (i = 0; i < tb->nr_pages; i++)
		if (tb->pages[i])
			__free_page(tb->pages[i]);
	kfree(tb);
}

static struct irqroute_table_buf *irqroute_table_buf_alloc(size_t len)
{
	unsigned int i, nr = DIV_ROUND_UP(len, PAGE_SIZE);
	struct irqroute_table_buf *tb;

	tb = kzalloc(struct_size(tb, pages, nr), GFP_KERNEL_ACCOUNT);
	if (!tb)
		return NULL;
	tb->nr_pages = nr;
	for (i = 0; i < nr; i++) {
		tb->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!tb->pages[i])
			goto err;
	}
	tb->vaddr = vmap(tb->pages, nr, VM_MAP, PAGE_KERNEL);
	if (!tb->vaddr)
		goto err;
	return tb;
err:
	irqroute_table_buf_free(tb);
	return NULL;
}

static int irqroute_table_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct irqroute_table_buf *tb = file->private_data;
	unsigned long nr = tb->nr_pages;

	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != IRQROUTE_TABLE_LEN ||
	    (vma->vm_flags & VM_WRITE))
		return -EINVAL;
	/* KVM reads it; nobody writes through it, a child does not get it. */
	irqroute_vm_flags_mod(vma, VM_DONTEXPAND | VM_DONTCOPY | VM_DONTDUMP,
			      VM_MAYWRITE | VM_MAYEXEC);
	return vm_insert_pages(vma, vma->vm_start, tb->pages, &nr);
}

/* The buffer lives as long as its file: the mapping may outlive detach. */
static int irqroute_table_release(struct inode *inode, struct file *file)
{
	irqroute_table_buf_free(file->private_data);
	return 0;
}

static const struct file_operations irqroute_table_fops = {
	.owner = THIS_MODULE,
	.mmap = irqroute_table_mmap,
	.release = irqroute_table_release,
};

static int irqroute_table_map(struct irqroute *ir)
{
	unsigned long addr;

	addr = vm_mmap(ir->table_file, 0, ir->table_len, PROT_READ, MAP_SHARED,
		       0);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	ir->table_uaddr = addr;
	return 0;
}

static int irqroute_table_buf_create(struct irqroute *ir)
{
	struct irqroute_table_buf *tb;
	struct file *file;
	int ret;

	BUILD_BUG_ON(IRQROUTE_TABLE_LEN % PAGE_SIZE);
	ir->table_len = IRQROUTE_TABLE_LEN;
	tb = irqroute_table_buf_alloc(ir->table_len);
	if (!tb)
		return -ENOMEM;
	file = anon_inode_getfile("[irqroute-table]", &irqroute_table_fops,
				  tb, O_RDONLY);
	if (IS_ERR(file)) {
		irqroute_table_buf_free(tb);
		return PTR_ERR(file);
	}
	ir->table = tb->vaddr;
	ir->table_file = file;

	ret = irqroute_table_map(ir);
	if (ret) {
		fput(file);
		ir->table_file = NULL;
		ir->table = NULL;
	}
	return ret;
}

/*
 * True if the VMM (current->mm) still has the mapping the module made: the
 * buffer's file, at the recorded address, exactly as long as the buffer.
 * A mapping the VMM moved, shrank or split is the VMM's business.
 */
static bool irqroute_table_mapped(struct irqroute *ir)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	bool ours;

	if (!mm || mm != ir->mm)
		return false;
	mmap_read_lock(mm);
	vma = vma_lookup(mm, ir->table_uaddr);
	ours = vma && vma->vm_file == ir->table_file &&
	       vma->vm_start == ir->table_uaddr &&
	       vma->vm_end == ir->table_uaddr + ir->table_len;
	mmap_read_unlock(mm);
	return ours;
}

/*
 * Unmap the buffer from the VMM if this is the VMM closing the file and the
 * mapping is still the one the module made. At process exit the mm is
 * already gone (current->mm is NULL) and so is the mapping.
 */
static void irqroute_table_buf_destroy(struct irqroute *ir)
{
	if (irqroute_table_mapped(ir))
		vm_munmap(ir->table_uaddr, ir->table_len);
	fput(ir->table_file);
	ir->table_file = NULL;
	ir->table = NULL;
}

/**
 * irqroute_table_ioctl - run a KVM ioctl whose argument is in the table buffer
 * @ir: the attachment
 * @cmd: KVM_SET_GSI_ROUTING or KVM_IRQFD
 * @off: offset of the argument in the buffer
 *
 * If the VMM unmapped the buffer, KVM fails with EFAULT: map it again once.
 * An EFAULT with the mapping still in place is KVM's own answer: a second
 * mapping would only be left behind in the VMM.
 * Context: ir->lock held, current->mm == ir->mm.
 */
int irqroute_table_ioctl(struct irqroute *ir, unsigned int cmd, size_t off)
{
	long ret;

	lockdep_assert_held(&ir->lock);

	ret = irqroute_vm_ioctl(ir, cmd, ir->table_uaddr + off);
	if (ret == -EFAULT && !irqroute_table_mapped(ir) &&
	    !irqroute_table_map(ir))
		ret = irqroute_vm_ioctl(ir, cmd, ir->table_uaddr + off);
	return ret;
}

void *irqroute_table_irqfd(struct irqroute *ir)
{
	return ir->table + IRQROUTE_TABLE_IRQFD_OFF;
}

size_t irqroute_table_irqfd_off(void)
{
	return IRQROUTE_TABLE_IRQFD_OFF;
}

static int irqroute_vms_add(struct irqroute *ir)
{
	struct irqroute *other;
	int ret = 0;

	mutex_lock(&irqroute_vms_lock);
	list_for_each_entry(other, &irqroute_vms, vm_node) {
		if (other->kvm == ir->kvm) {
			ret = -EBUSY;
			goto out;
		}
	}
	list_add(&ir->vm_node, &irqroute_vms);
out:
	mutex_unlock(&irqroute_vms_lock);
	return ret;
}

static void irqroute_vms_del(struct irqroute *ir)
{
	mutex_lock(&irqroute_vms_lock);
	list_del(&ir->vm_node);
	mutex_unlock(&irqroute_vms_lock);
}

static int irqroute_attach_check(struct irqroute_attach *arg)
{
	if (arg->flags & ~IRQROUTE_ATTACH_F_VALID)
		return -EINVAL;
	if (memchr_inv(arg->__reserved, 0, sizeof(arg->__reserved)))
		return -EINVAL;
	if (!arg->nr_routes || arg->nr_routes > IRQROUTE_MAX_ROUTES ||
	    arg->gsi_base > IRQROUTE_MAX_ROUTES - arg->nr_routes)
		return -EINVAL;
	/* The x86 defaults take GSIs 0-23 and 40 of KVM's table entries. */
	if ((arg->flags & IRQROUTE_ATTACH_F_X86_DEFAULT_ROUTES) &&
	    (arg->gsi_base < IRQROUTE_X86_DEFAULT_GSIS ||
	     arg->nr_routes > IRQROUTE_MAX_ROUTES - IRQROUTE_X86_DEFAULT_ENTRIES))
		return -EINVAL;
	return 0;
}

/* Take the VM file; check it is a VM of the caller that routes MSIs. */
static int irqroute_attach_vm(struct irqroute *ir, struct irqroute_attach *arg)
{
	struct file *file;
	long max;

	file = fget(arg->vm_fd);
	if (!file)
		return -EBADF;
	if (!irqroute_file_is_kvm_vm(file)) {
		fput(file);
		return -EBADFD;
	}
	/* KVM answers EIO to any process but the VM's creator. */
	max = irqroute_kvm_ioctl(file, KVM_CHECK_EXTENSION,
				 KVM_CAP_IRQ_ROUTING);
	if (max <= 0 || max < arg->gsi_base + arg->nr_routes) {
		fput(file);
		if (max == -EIO)
			return -EPERM;
		return max < 0 ? (int)max : (max ? -EINVAL : -EOPNOTSUPP);
	}
	ir->vm_file = file;
	ir->kvm = file->private_data;
	return 0;
}

/**
 * irqroute_attach - IRQROUTE_ATTACH
 * @ir: the unattached irqroute file
 * @arg: the request
 *
 * Context: ir->lock held.
 */
int irqroute_attach(struct irqroute *ir, struct irqroute_attach *arg)
{
	int ret;

	lockdep_assert_held(&ir->lock);

	ret = irqroute_attach_check(arg);
	if (ret)
		return ret;
	if (ir->attached)
		return -EBUSY;

	ret = irqroute_attach_vm(ir, arg);
	if (ret)
		return ret;
	ret = irqroute_vms_add(ir);
	if (ret)
		goto err_fput;

	ir->flags = arg->flags;
	ir->gsi_base = arg->gsi_base;
	ir->nr_routes = arg->nr_routes;
	ir->mm = current->mm;
	mmgrab(ir->mm);

	ret = -ENOMEM;
	ir->routes = kvcalloc(ir->nr_routes, sizeof(*ir->routes),
			      GFP_KERNEL_ACCOUNT);
	if (!ir->routes)
		goto err_mmdrop;
	ret = irqroute_shm_init(ir);
	if (ret)
		goto err_routes;
	ret = irqroute_table_buf_create(ir);
	if (ret)
		goto err_shm;
	ret = irqroute_table_init(ir);
	if (ret)
		goto err_table_buf;
	/* Take ownership of the table now: errors show up here, not later. */
	ret = irqroute_commit(ir, true);
	if (ret)
		goto err_table;

	arg->shm_size = PAGE_SIZE;
	/* Pairs with the acquire in irqroute_mmap(). */
	smp_store_release(&ir->attached, true);
	return 0;

err_table:
	irqroute_table_free(ir);
err_table_buf:
	irqroute_table_buf_destroy(ir);
err_shm:
	irqroute_shm_free(ir);
err_routes:
	kvfree(ir->routes);
	ir->routes = NULL;
err_mmdrop:
	mmdrop(ir->mm);
	ir->mm = NULL;
	irqroute_vms_del(ir);
err_fput:
	fput(ir->vm_file);
	ir->vm_file = NULL;
	ir->kvm = NULL;
	return ret;
}

/**
 * irqroute_detach - tear the attachment down, from release()
 * @ir: the irqroute file
 *
 * The process may be exiting (no mm, no KVM ioctl possible), so nothing
 * here calls KVM: dropping each route's private eventfd makes KVM release
 * that irqfd itself. The VM's routing table keeps what was last committed.
 * Context: process context; nobody else can reach @ir any more.
 */
void irqroute_detach(struct irqroute *ir)
{
	u32 i;

	if (!ir->attached)
		return;
	for (i = 0; i < ir->nr_routes; i++) {
		if (ir->routes[i])
			irqroute_route_free(ir->routes[i]);
		ir->routes[i] = NULL;
	}
	irqroute_table_free(ir);
	irqroute_table_buf_destroy(ir);
	irqroute_shm_free(ir);
	kvfree(ir->routes);
	mmdrop(ir->mm);
	irqroute_vms_del(ir);
	fput(ir->vm_file);
	ir->attached = false;
}
