// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute: /dev/irqroute, race-free MSI routing and masking for KVM VMs.
 *
 * The misc device, its file operations and the ioctl dispatch. Each open
 * file is one (future) attachment; see Documentation/irqroute.rst.
 */
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "irqroute.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static int irqroute_open(struct inode *inode, struct file *file)
{
	struct irqroute *ir;

	ir = kzalloc(sizeof(*ir), GFP_KERNEL_ACCOUNT);
	if (!ir)
		return -ENOMEM;
	mutex_init(&ir->lock);
	INIT_LIST_HEAD(&ir->vm_node);
	file->private_data = ir;
	return 0;
}

static int irqroute_release(struct inode *inode, struct file *file)
{
	struct irqroute *ir = file->private_data;

	/* Delegated ioctls in flight finish first; later ones get ENODEV. */
	irqroute_link_sever(ir);
	irqroute_detach(ir);
	mutex_destroy(&ir->lock);
	kfree(ir);
	return 0;
}

static int irqroute_get_info(struct irqroute *ir, void *arg)
{
	struct irqroute_info *info = arg;

	if (info->flags || info->__reserved)
		return -EINVAL;
	info->api_version = IRQROUTE_API_VERSION;
	info->max_routes = IRQROUTE_MAX_ROUTES;
	info->shm_size = PAGE_SIZE;
	info->attach_flags = IRQROUTE_ATTACH_F_VALID;
	info->msi_flags = IRQROUTE_MSI_F_VALID | IRQROUTE_MSI_F_CLEAR;
	return 0;
}

static int irqroute_get_stats(struct irqroute *ir, void *arg)
{
	struct irqroute_stats *st = arg;
	int cpu;

	if (st->flags)
		return -EINVAL;
	st->signals = 0;
	st->delivered = 0;
	st->pended = 0;
	st->feedback = 0;
	st->deferred = 0;
	for_each_possible_cpu(cpu) {
		const struct irqroute_hot_counters *h;

		h = per_cpu_ptr(ir->stats.hot, cpu);
		st->signals += READ_ONCE(h->signals);
		st->delivered += READ_ONCE(h->delivered);
		st->pended += READ_ONCE(h->pended);
		st->feedback += READ_ONCE(h->feedback);
		st->deferred += READ_ONCE(h->deferred);
	}
	st->commits = ir->stats.commits;
	st->commits_skipped = ir->stats.commits_skipped;
	return 0;
}

static int irqroute_ioctl_commit(struct irqroute *ir, void *arg)
{
	struct irqroute_commit *c = arg;

	if (c->flags)
		return -EINVAL;
	return irqroute_commit_staged(ir);
}

/*
 * Undo an ioctl whose result could not be copied out (the caller cannot
 * learn of its effect): a route nobody knows the index of, a pending
 * interrupt consumed for nobody. Runs under ir->lock, right after the
 * ioctl, so the route is still the one it created or consumed.
 */
static void irqroute_undo_create(struct irqroute *ir, void *arg)
{
	struct irqroute_route_create *c = arg;

	irqroute_route_undo_create(ir, c->index);
}

static void irqroute_undo_consume(struct irqroute *ir, void *arg)
{
	struct irqroute_route_op *op = arg;

	if (op->result)
		irqroute_route_repend(ir, op->index);
}

/*
 * UNMASK with PENDING_ONLY, the unmask that delivers an edge the VMM found
 * pending, runs without ir->lock: a commit holds the lock across
 * KVM_SET_GSI_ROUTING and its SRCU grace period. It only touches bits
 * and the hand-off, which are safe without the lock (see
 * irqroute_unmask_pending()). MASK and CONSUME_PENDING stay locked: a
 * bit flip on a route that a concurrent destroy and create replaced
 * would land on the new route, and CONSUME_PENDING's undo needs the
 * route it consumed; the library does both in the shared page anyway.
 */
static bool irqroute_unmask_lockless(struct irqroute *ir, void *arg, int *ret)
{
	struct irqroute_route_op *op = arg;

	if (op->flags != IRQROUTE_UNMASK_F_PENDING_ONLY)
		return false;
	*ret = irqroute_unmask_pending(ir, op);
	return true;
}

/* What an ioctl needs before its handler runs. */
enum irqroute_ioctl_needs {
	IRQROUTE_NEEDS_NOTHING,
	/* ENODEV before IRQROUTE_ATTACH, EPERM unless the caller is the VMM */
	IRQROUTE_NEEDS_OWNER,
};

union irqroute_ioctl_buf {
	struct irqroute_info info;
	struct irqroute_attach attach;
	struct irqroute_base_routes base;
	struct irqroute_commit commit;
	struct irqroute_stats stats;
	struct irqroute_route_create create;
	struct irqroute_msi msi;
	struct irqroute_route_op op;
	struct irqroute_route_info info_route;
	struct irqroute_delegate_k delegate;
	struct irqroute_msis msis;
};

struct irqroute_ioctl_op {
	unsigned int cmd;
	unsigned int size;
	unsigned int min_size;
	enum irqroute_ioctl_needs needs;
	/*
	 * Also on a delegation file. Its struct has the route's index where
	 * struct irqroute_route_op has it (checked below).
	 */
	bool delegable;
	int (*fn)(struct irqroute *ir, void *arg);
	/* After @fn succeeded: the result could not be copied out. */
	void (*undo)(struct irqroute *ir, void *arg);
	/* After @fn succeeded and the result was copied out. */
	void (*done)(struct irqroute *ir, void *arg);
	/*
	 * Runs instead of @fn, without ir->lock, when it says so for the
	 * request (returns true and sets *ret). Only for what must not
	 * queue behind a commit and needs no undo.
	 */
	bool (*lockless)(struct irqroute *ir, void *arg, int *ret);
	/* Copy the struct out also when @fn fails. */
	bool out_on_error;
};

/*
 * One entry per ioctl, at its number. The union above must hold every
 * struct, and the number must encode the struct's size (the first one of
 * an extensible struct; a later, larger one needs an entry of its own).
 */
#define IRQROUTE_IOCTL(_name, _fn, _struct, _last, _needs, ...)	\
	[_IOC_NR(IRQROUTE_##_name)] = {					\
		.cmd = IRQROUTE_##_name +				\
		       BUILD_BUG_ON_ZERO(sizeof(_struct) >		\
					 sizeof(union irqroute_ioctl_buf)) + \
		       BUILD_BUG_ON_ZERO(_IOC_SIZE(IRQROUTE_##_name) !=	\
					 sizeof(_struct)),		\
		.size = sizeof(_struct),				\
		.min_size = offsetofend(_struct, _last),		\
		.needs = _needs,					\
		.fn = _fn,						\
		__VA_ARGS__						\
	}

static const struct irqroute_ioctl_op irqroute_ioctl_ops[] = {
	IRQROUTE_IOCTL(GET_INFO, irqroute_get_info,
		       struct irqroute_info, __reserved,
		       IRQROUTE_NEEDS_NOTHING),
	IRQROUTE_IOCTL(ATTACH, irqroute_attach,
		       struct irqroute_attach, scratch,
		       IRQROUTE_NEEDS_NOTHING),
	IRQROUTE_IOCTL(SET_BASE_ROUTES, irqroute_set_base_routes,
		       struct irqroute_base_routes, entries,
		       IRQROUTE_NEEDS_OWNER),
	IRQROUTE_IOCTL(COMMIT, irqroute_ioctl_commit,
		       struct irqroute_commit, flags,
		       IRQROUTE_NEEDS_OWNER),
	IRQROUTE_IOCTL(GET_STATS, irqroute_get_stats,
		       struct irqroute_stats, feedback,
		       IRQROUTE_NEEDS_OWNER),
	IRQROUTE_IOCTL(DELEGATE, irqroute_delegate,
		       struct irqroute_delegate, __reserved,
		       IRQROUTE_NEEDS_OWNER, .undo = irqroute_delegate_undo,
		       .done = irqroute_delegate_install),
	IRQROUTE_IOCTL(ROUTE_CREATE, irqroute_route_create,
		       struct irqroute_route_create, __reserved,
		       IRQROUTE_NEEDS_OWNER, .undo = irqroute_undo_create),
	IRQROUTE_IOCTL(SET_MSI, irqroute_set_msi,
		       struct irqroute_msi, __reserved,
		       IRQROUTE_NEEDS_OWNER),
	IRQROUTE_IOCTL(ROUTE_DESTROY, irqroute_route_destroy,
		       struct irqroute_route_op, result,
		       IRQROUTE_NEEDS_OWNER),
	IRQROUTE_IOCTL(CLEAR_MSI, irqroute_clear_msi,
		       struct irqroute_route_op, result,
		       IRQROUTE_NEEDS_OWNER),
	IRQROUTE_IOCTL(MASK, irqroute_mask,
		       struct irqroute_route_op, result,
		       IRQROUTE_NEEDS_OWNER, .delegable = true),
	IRQROUTE_IOCTL(UNMASK, irqroute_unmask,
		       struct irqroute_route_op, result,
		       IRQROUTE_NEEDS_OWNER, .delegable = true,
		       .lockless = irqroute_unmask_lockless),
	IRQROUTE_IOCTL(CONSUME_PENDING, irqroute_consume_pending,
		       struct irqroute_route_op, result,
		       IRQROUTE_NEEDS_OWNER, .delegable = true,
		       .undo = irqroute_undo_consume),
	IRQROUTE_IOCTL(ROUTE_GET, irqroute_route_get_info,
		       struct irqroute_route_info, __reserved,
		       IRQROUTE_NEEDS_OWNER, .delegable = true),
	IRQROUTE_IOCTL(SET_MSIS, irqroute_set_msis,
		       struct irqroute_msis, entries,
		       IRQROUTE_NEEDS_OWNER, .out_on_error = true),
};

/* The delegable ops' index, translated through buf.op.index. */
static_assert(offsetof(struct irqroute_route_info, index) ==
	      offsetof(struct irqroute_route_op, index));

static int irqroute_ioctl_check(struct irqroute *ir,
				const struct irqroute_delegation *d,
				enum irqroute_ioctl_needs needs)
{
	if (needs == IRQROUTE_NEEDS_NOTHING)
		return 0;
	/*
	 * Acquire: a lockless ioctl then sees the fields ATTACH set before
	 * it (they stay until release(), which no ioctl can race).
	 */
	if (!smp_load_acquire(&ir->attached))
		return -ENODEV;
	/*
	 * Only the VMM process drives its VM: not a child, not an fd peer.
	 * A delegation file is the capability itself, for any process.
	 */
	if (!d && current->mm != ir->mm)
		return -EPERM;
	return 0;
}

/*
 * Matched exactly, size bits included, like iommufd: a number the uapi
 * header did not produce is ENOTTY. The struct's own size field says how
 * much userspace passed (extensible structs, copy_struct_from_user()).
 * On a delegation file (@d) only the delegable ops exist, and their index
 * is relative to the delegated range.
 */
long irqroute_dispatch(struct irqroute *ir,
		       const struct irqroute_delegation *d,
		       unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	const struct irqroute_ioctl_op *op;
	union irqroute_ioctl_buf buf, out;
	unsigned int nr = _IOC_NR(cmd);
	u32 usize;
	int ret;

	if (_IOC_TYPE(cmd) != IRQROUTE_TYPE ||
	    nr >= ARRAY_SIZE(irqroute_ioctl_ops))
		return -ENOTTY;
	nr = array_index_nospec(nr, ARRAY_SIZE(irqroute_ioctl_ops));
	op = &irqroute_ioctl_ops[nr];
	if (!op->fn || cmd != op->cmd || (d && !op->delegable))
		return -ENOTTY;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < op->min_size)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	ret = copy_struct_from_user(&buf, op->size, uarg, usize);
	if (ret)
		return ret;
	/*
	 * An ioctl that returns data must be able to: find out before it
	 * consumes a pending bit or creates a route the caller cannot learn of.
	 */
	if ((_IOC_DIR(op->cmd) & _IOC_READ) && put_user(usize, (u32 __user *)uarg))
		return -EFAULT;

	if (d) {
		ret = irqroute_delegation_index(d, &buf.op.index);
		if (ret)
			return ret;
	}

	/*
	 * Only UNMASK has one; it writes nothing back, so needs no undo. On a
	 * delegation file the link's lock, which the caller holds, keeps
	 * @ir alive.
	 */
	BUILD_BUG_ON(_IOC_DIR(IRQROUTE_UNMASK) & _IOC_READ);
	if (op->lockless) {
		ret = irqroute_ioctl_check(ir, d, op->needs);
		if (ret)
			return ret;
		if (op->lockless(ir, &buf, &ret))
			return ret;
	}

	if (mutex_lock_killable(&ir->lock))
		return -EINTR;
	ret = irqroute_ioctl_check(ir, d, op->needs);
	if (!ret)
		ret = op->fn(ir, &buf);
	/*
	 * What is copied out says the index the caller passed. Only built
	 * for the ioctls that copy out: MASK and UNMASK do not pay for it.
	 */
	if (_IOC_DIR(op->cmd) & _IOC_READ) {
		out = buf;
		if (d)
			out.op.index -= irqroute_delegation_first(d);
	}
	/*
	 * Copied out under the lock (ir->lock -> mmap_lock is the documented
	 * order), so that an undo still finds what the ioctl did.
	 */
	if (!ret && (_IOC_DIR(op->cmd) & _IOC_READ) &&
	    copy_to_user(uarg, &out, min(usize, op->size))) {
		ret = -EFAULT;
		if (op->undo)
			op->undo(ir, &buf);
	} else if (!ret && op->done) {
		op->done(ir, &buf);
	}
	/* SET_MSIS says which entry failed: copied out on error too. */
	if (ret && op->out_on_error && (_IOC_DIR(op->cmd) & _IOC_READ) &&
	    copy_to_user(uarg, &out, min(usize, op->size)))
		ret = -EFAULT;
	mutex_unlock(&ir->lock);
	return ret;
}

static long irqroute_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	return irqroute_dispatch(file->private_data, NULL, cmd, arg);
}

static const struct file_operations irqroute_fops = {
	.owner = THIS_MODULE,
	.open = irqroute_open,
	.release = irqroute_release,
	.unlocked_ioctl = irqroute_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = irqroute_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice irqroute_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "irqroute",
	.fops = &irqroute_fops,
	.mode = 0600,
};

static int __init irqroute_init(void)
{
#ifdef IRQROUTE_CANARY_NAME
	pr_notice("irqroute: test-only build with the known bug '%s'\n",
		  IRQROUTE_CANARY_NAME);
#endif
	return misc_register(&irqroute_misc);
}

static void __exit irqroute_exit(void)
{
	misc_deregister(&irqroute_misc);
}

module_init(irqroute_init);
module_exit(irqroute_exit);

MODULE_DESCRIPTION("Race-free MSI routing and masking for KVM VMs");
MODULE_AUTHOR("The irqroute authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(IRQROUTE_VERSION);
#ifdef IRQROUTE_CANARY_NAME
MODULE_INFO(irqroute_canary, IRQROUTE_CANARY_NAME);
#endif
