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
#include <linux/uaccess.h>

#include "compat.h"
#include "irqroute.h"
#include "trace.h"

/* VMs with an attachment, so that a second one is refused. */
static LIST_HEAD(irqroute_vms);
static DEFINE_MUTEX(irqroute_vms_lock);

/*
 * The scratch area's layout (uapi/linux/irqroute.h): room for the largest
 * table KVM takes, then one struct kvm_irqfd.
 */
#define IRQROUTE_SCRATCH_IRQFD_OFF					\
	(sizeof(struct kvm_irq_routing) +				\
	 IRQROUTE_MAX_ROUTES * sizeof(struct kvm_irq_routing_entry))

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
 * The arguments of the module's KVM ioctls are built in kernel memory the
 * VMM cannot see (ir->table, or the caller's stack for a struct
 * kvm_irqfd), and copied to user memory right before each ioctl: to the
 * VMM's scratch area, or to an anonymous mapping made for the one call.
 * Nothing of the module stays mapped in the VMM.
 */
/*
 * copy_to_user() as 8-byte stores (unsafe_copy_to_user()'s loop) rather
 * than rep movsb: alike on hardware, but TCG, where the benchmark and the
 * tests run, emulates rep movsb a byte at a time, which tripled the
 * module's own time per rebuilding commit with 4000 routes (bench, the
 * cost table's "rebuild's share").
 */
static int irqroute_copy_out(unsigned long uaddr, const void *src, size_t len)
{
	void __user *dst = (void __user *)uaddr;

	if (!user_access_begin(dst, len))
		return -EFAULT;
	unsafe_copy_to_user(dst, src, len, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/*
 * Copy @len bytes at @src to user memory, at @off in the scratch area if
 * there is one, and run KVM's ioctl @cmd on them. Inlined: under slab
 * debugging with user tracking (slub_debug=U), each of the 2 x N
 * allocations KVM makes for a table of N MSIs unwinds every frame above
 * it (bench/RESULTS.md, issue 16, item 0).
 */
static __always_inline long
irqroute_kvm_ioctl_copy(struct irqroute *ir, unsigned int cmd,
			const void *src, size_t off, size_t len)
{
	unsigned long uaddr, map_len;
	long ret;

	if (ir->scratch) {
		uaddr = ir->scratch + off;
		if (irqroute_copy_out(uaddr, src, len))
			return -EFAULT;
		return irqroute_vm_ioctl(ir, cmd, uaddr);
	}
	map_len = PAGE_ALIGN(len);
	uaddr = vm_mmap(NULL, 0, map_len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(uaddr))
		return (long)uaddr;
	ret = -EFAULT;
	if (!irqroute_copy_out(uaddr, src, len))
		ret = irqroute_vm_ioctl(ir, cmd, uaddr);
	vm_munmap(uaddr, map_len);
	return ret;
}

/*
 * Is the table that KVM last took still in the scratch area, apart from
 * the header and the last entry? The VMM may have dropped or replaced
 * pages of the area since (MADV_DONTNEED, MAP_FIXED: harmless, says
 * irqroute.rst); they read as zeros or as other memory. One word per page
 * tells: the type of the first entry that starts in it, never 0 in a
 * table KVM took. A page where no entry starts holds only the header or
 * the last entry's tail, which irqroute_scratch_patch() writes anyway.
 * No calls between user_access_begin() and user_access_end().
 */
static bool irqroute_scratch_intact(struct irqroute *ir, size_t len)
{
	struct kvm_irq_routing __user *u = u64_to_user_ptr(ir->scratch);
	const struct kvm_irq_routing *t = ir->table;
	unsigned long page, end = ir->scratch + len;
	size_t off;
	u32 i, type;

	if (!user_access_begin(u, len))
		return false;
	for (page = ir->scratch; page < end; page = PAGE_ALIGN(page + 1)) {
		off = page - ir->scratch;
		i = off <= sizeof(*t) ? 0 :
		    DIV_ROUND_UP(off - sizeof(*t), sizeof(t->entries[0]));
		if (i >= t->nr)
			break;
		unsafe_get_user(type, &u->entries[i].type, efault);
		if (type != t->entries[i].type)
			goto efault;
	}
	user_access_end();
	return true;
efault:
	user_access_end();
	return false;
}

/*
 * After irqroute_table_update() patched entries in place: copy only those,
 * with the header and the last entry, if the rest of the area is intact.
 * False if it is not, or if a copy faulted: the caller copies it all.
 */
static bool irqroute_scratch_patch(struct irqroute *ir, size_t len)
{
	const struct kvm_irq_routing *t = ir->table;
	unsigned long u = ir->scratch;
	size_t e = sizeof(t->entries[0]);
	u32 i;

	if (!t->nr)
		return false;
	if (!IRQROUTE_CANARY(scratch_unchecked) &&
	    !irqroute_scratch_intact(ir, len))
		return false;
	if (irqroute_copy_out(u, t, sizeof(*t)))
		return false;
	for_each_set_bit(i, ir->changed, ir->nr_routes) {
		size_t off = struct_size(t, entries, ir->table_pos[i]);

		if (test_bit(i, ir->in_table) &&
		    irqroute_copy_out(u + off, (const void *)t + off, e))
			return false;
	}
	return !irqroute_copy_out(u + len - e, (const void *)t + len - e, e);
}

/**
 * irqroute_table_ioctl - KVM_SET_GSI_ROUTING of the table in ir->table
 * @ir: the attachment
 * @len: the table's length in bytes
 * @patched: only the entries of ir->changed's routes differ from the
 *	table the last commit sent, and KVM took (irqroute_table_update())
 *
 * The table stays in the scratch area between commits, so that a commit
 * that retargets routes copies their entries, not the whole table: the
 * module's own time per commit does not grow with the table. Nothing else
 * writes that part of the area (the struct kvm_irqfd goes past the
 * largest table), so after a successful commit it holds what KVM took.
 *
 * Return: KVM's answer, or -EFAULT if the scratch area is not writable
 * (the VMM unmapped or protected it; nothing was sent to KVM).
 * Context: ir->lock held, current->mm == ir->mm.
 */
int irqroute_table_ioctl(struct irqroute *ir, size_t len, bool patched)
{
	lockdep_assert_held(&ir->lock);

	if (WARN_ON_ONCE(len > IRQROUTE_SCRATCH_IRQFD_OFF))
		return -EOVERFLOW;
	if (patched && ir->scratch && irqroute_scratch_patch(ir, len))
		return irqroute_vm_ioctl(ir, KVM_SET_GSI_ROUTING, ir->scratch);
	return irqroute_kvm_ioctl_copy(ir, KVM_SET_GSI_ROUTING, ir->table, 0,
				       len);
}

/**
 * irqroute_irqfd_ioctl - KVM_IRQFD
 * @ir: the attachment
 * @irqfd: its argument
 *
 * Context: ir->lock held, current->mm == ir->mm.
 */
int irqroute_irqfd_ioctl(struct irqroute *ir, const struct kvm_irqfd *irqfd)
{
	lockdep_assert_held(&ir->lock);

	return irqroute_kvm_ioctl_copy(ir, KVM_IRQFD, irqfd,
				       IRQROUTE_SCRATCH_IRQFD_OFF,
				       sizeof(*irqfd));
}

/*
 * The scratch area must be the VMM's writable memory; writing it now
 * finds out (and faults it in) before anything is attached.
 */
static int irqroute_scratch_check(u64 scratch)
{
	void __user *p = u64_to_user_ptr(scratch);

	if (!scratch)
		return 0;
	if (scratch % sizeof(u64))
		return -EINVAL;
	if (!access_ok(p, IRQROUTE_SCRATCH_SIZE) ||
	    clear_user(p, IRQROUTE_SCRATCH_SIZE))
		return -EFAULT;
	return 0;
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
	int ret;

	BUILD_BUG_ON(IRQROUTE_SCRATCH_IRQFD_OFF + sizeof(struct kvm_irqfd) >
		     IRQROUTE_SCRATCH_SIZE);
	if (arg->flags & ~IRQROUTE_ATTACH_F_VALID)
		return -EINVAL;
	ret = irqroute_scratch_check(arg->scratch);
	if (ret)
		return ret;
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

/* Context: ir->lock held. */
static int irqroute_attach_locked(struct irqroute *ir,
				  struct irqroute_attach *arg)
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
	ir->stats.hot = alloc_percpu_gfp(struct irqroute_hot_counters,
					 GFP_KERNEL_ACCOUNT);
	if (!ir->stats.hot)
		goto err_mmdrop;
	ir->routes = kvcalloc(ir->nr_routes, sizeof(*ir->routes),
			      GFP_KERNEL_ACCOUNT);
	if (!ir->routes)
		goto err_hot;
	ret = irqroute_shm_init(ir);
	if (ret)
		goto err_routes;
	ir->scratch = arg->scratch;
	ret = irqroute_table_init(ir);
	if (ret)
		goto err_shm;
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
err_shm:
	irqroute_shm_free(ir);
err_routes:
	kvfree(ir->routes);
	ir->routes = NULL;
err_hot:
	free_percpu(ir->stats.hot);
	ir->stats.hot = NULL;
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
 * irqroute_attach - IRQROUTE_ATTACH
 * @ir: the unattached irqroute file
 * @data: the request, struct irqroute_attach; @shm_size is filled in
 *
 * Context: ir->lock held.
 */
int irqroute_attach(struct irqroute *ir, void *data)
{
	struct irqroute_attach *arg = data;
	int ret = irqroute_attach_locked(ir, arg);

	trace_irqroute_attach(arg->gsi_base, arg->nr_routes, ret);
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
	trace_irqroute_detach(ir->gsi_base, ir->nr_routes, 0);
	for (i = 0; i < ir->nr_routes; i++) {
		/* The file's last reference: no ioctl, locked or not, runs. */
		struct irqroute_route *r;

		r = rcu_dereference_protected(ir->routes[i], true);

		if (r)
			irqroute_route_free(r);
		RCU_INIT_POINTER(ir->routes[i], NULL);
	}
	irqroute_table_free(ir);
	irqroute_shm_free(ir);
	kvfree(ir->routes);
	/* No gate or hand-off runs any more: the routes are gone. */
	free_percpu(ir->stats.hot);
	mmdrop(ir->mm);
	irqroute_vms_del(ir);
	fput(ir->vm_file);
	ir->attached = false;
}
