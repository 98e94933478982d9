// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute: delegation files. IRQROUTE_DELEGATE hands out a file that can
 * only mask, unmask and consume the pending bit of a range of routes, for
 * a sandboxed device process (crosvm runs each VFIO device in a jailed
 * child that emulates its MSI-X table). The ioctls themselves are main.c's,
 * run with the range's index translation and without the owner check.
 *
 * A delegation file does not keep the attachment alive: both point at one
 * struct irqroute_link, whose @ir the release of the irqroute file clears
 * under @lock, which every delegated ioctl holds while it runs.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>

#include "irqroute.h"

/**
 * struct irqroute_delegation - one delegation file
 * @link: the attachment, while it lives
 * @first: first index of the range; constant
 * @count: indices in the range; constant
 */
struct irqroute_delegation {
	struct irqroute_link *link;
	u32 first;
	u32 count;
};

static void irqroute_link_put(struct irqroute_link *link)
{
	if (refcount_dec_and_test(&link->ref)) {
		mutex_destroy(&link->lock);
		kfree(link);
	}
}

/* The attachment's link, made at its first delegation. */
static struct irqroute_link *irqroute_link_get(struct irqroute *ir)
{
	struct irqroute_link *link = ir->link;

	lockdep_assert_held(&ir->lock);
	if (!link) {
		link = kzalloc(sizeof(*link), GFP_KERNEL_ACCOUNT);
		if (!link)
			return NULL;
		mutex_init(&link->lock);
		refcount_set(&link->ref, 1);	/* the attachment's */
		link->ir = ir;
		ir->link = link;
	}
	refcount_inc(&link->ref);
	return link;
}

/*
 * Called by the release of the irqroute file, before it frees @ir: waits
 * for delegated ioctls in flight; later ones find no attachment.
 */
void irqroute_link_sever(struct irqroute *ir)
{
	struct irqroute_link *link = ir->link;

	if (!link)
		return;
	mutex_lock(&link->lock);
	link->ir = NULL;
	mutex_unlock(&link->lock);
	ir->link = NULL;
	irqroute_link_put(link);
}

/*
 * Maps a delegated route op's index onto the attachment's: EINVAL outside
 * the range, as an index past nr_routes is for the owner.
 */
int irqroute_delegation_index(const struct irqroute_delegation *d, u32 *index)
{
	if (*index >= d->count)
		return -EINVAL;
	*index += d->first;
	return 0;
}

u32 irqroute_delegation_first(const struct irqroute_delegation *d)
{
	return d->first;
}

static long irqroute_delegation_ioctl(struct file *file, unsigned int cmd,
				      unsigned long arg)
{
	struct irqroute_delegation *d = file->private_data;
	struct irqroute_link *link = d->link;
	long ret = -ENODEV;

	if (mutex_lock_killable(&link->lock))
		return -EINTR;
	if (link->ir)
		ret = irqroute_dispatch(link->ir, d, cmd, arg);
	mutex_unlock(&link->lock);
	return ret;
}

static int irqroute_delegation_release(struct inode *inode, struct file *file)
{
	struct irqroute_delegation *d = file->private_data;

	irqroute_link_put(d->link);
	kfree(d);
	return 0;
}

static const struct file_operations irqroute_delegation_fops = {
	.owner = THIS_MODULE,
	.release = irqroute_delegation_release,
	.unlocked_ioctl = irqroute_delegation_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/**
 * irqroute_delegate - IRQROUTE_DELEGATE
 * @ir: the attachment
 * @data: struct irqroute_delegate_k: the request, and where the new file
 *	waits for irqroute_delegate_install() or irqroute_delegate_undo()
 *
 * The descriptor is reserved, not installed: main.c installs it once @fd
 * has been copied out, or gives it back.
 *
 * Context: ir->lock held.
 */
int irqroute_delegate(struct irqroute *ir, void *data)
{
	struct irqroute_delegate_k *k = data;
	struct irqroute_delegate *arg = &k->uapi;
	struct irqroute_delegation *d;
	struct file *file;
	int fd, ret;

	lockdep_assert_held(&ir->lock);
	if (arg->flags || arg->__reserved || !arg->count ||
	    arg->first >= ir->nr_routes || arg->count > ir->nr_routes - arg->first)
		return -EINVAL;

	d = kzalloc(sizeof(*d), GFP_KERNEL_ACCOUNT);
	if (!d)
		return -ENOMEM;
	d->first = arg->first;
	d->count = arg->count;
	d->link = irqroute_link_get(ir);
	ret = -ENOMEM;
	if (!d->link)
		goto err_free;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_link;
	}
	file = anon_inode_getfile("[irqroute-delegation]",
				  &irqroute_delegation_fops, d, O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_fd;
	}
	arg->fd = fd;
	k->file = file;
	return 0;

err_fd:
	put_unused_fd(fd);
err_link:
	irqroute_link_put(d->link);
err_free:
	kfree(d);
	return ret;
}

void irqroute_delegate_install(struct irqroute *ir, void *data)
{
	struct irqroute_delegate_k *k = data;

	fd_install(k->uapi.fd, k->file);
}

/* @fd could not be copied out: nobody can know of the file. */
void irqroute_delegate_undo(struct irqroute *ir, void *data)
{
	struct irqroute_delegate_k *k = data;

	put_unused_fd(k->uapi.fd);
	fput(k->file);
}
