// SPDX-License-Identifier: GPL-2.0
/*
 * Delegation to a sandboxed device process (crosvm's jailed VFIO device
 * processes emulate the MSI-X table, so they must apply masks): the VMM
 * makes a delegation file for one device route group and passes it with
 * SCM_RIGHTS to a process forked before it existed. That process masks,
 * unmasks and consumes its group's vectors, with a real guest receiving
 * (or not) the interrupts; it cannot route, attach, map the shared page
 * or reach another group's routes. The VMM keeps full control, and
 * closing either side cleans up.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "fdpass.h"
#include "irqroute_raw.h"
#include "rtenv.h"

#define NR_VEC		4
#define VEC(i)		RT_VECTOR(0x10 + (i))
#define OTHER_VEC	RT_VECTOR(0x20)

static const struct irqroute_opts opts = {
	.gsi_base = 1024,
	.nr_routes = 256,
};

/* What the device process is asked to do, and its answer. */
struct dev_cmd {
	/*
	 * m, u, c, p: mask, unmask, consume, pending; n: misuse; r: receive
	 * and close another delegation; x: close the delegation
	 */
	char op;
	uint32_t vector;
};

/*
 * Everything the delegation file must refuse; returns 0 or the line of
 * the first check that failed. Runs in the device process.
 */
static int dev_misuse(int dfd)
{
	struct irqroute_msi msi = {
		.size = sizeof(msi), .address_lo = 0xfee00000, .data = 0x40,
	};
	struct irqroute_route_create c = { .size = sizeof(c) };
	struct irqroute_attach a = { .size = sizeof(a) };
	struct irqroute_stats st = { .size = sizeof(st) };
	struct irqroute_delegate dl = { .size = sizeof(dl), .count = 1 };
	struct irqroute_route_op op = { .size = sizeof(op) };
	void *p;

	/* No routing rights, no attachment rights. */
	if (__irqroute_ioctl(dfd, IRQROUTE_SET_MSI, &msi) != -ENOTTY)
		return __LINE__;
	op.index = 0;
	if (__irqroute_ioctl(dfd, IRQROUTE_CLEAR_MSI, &op) != -ENOTTY)
		return __LINE__;
	if (__irqroute_ioctl(dfd, IRQROUTE_ROUTE_DESTROY, &op) != -ENOTTY)
		return __LINE__;
	if (__irqroute_ioctl(dfd, IRQROUTE_ROUTE_CREATE, &c) != -ENOTTY)
		return __LINE__;
	if (__irqroute_ioctl(dfd, IRQROUTE_ATTACH, &a) != -ENOTTY)
		return __LINE__;
	if (__irqroute_ioctl(dfd, IRQROUTE_GET_STATS, &st) != -ENOTTY)
		return __LINE__;
	if (__irqroute_ioctl(dfd, IRQROUTE_DELEGATE, &dl) != -ENOTTY)
		return __LINE__;
	/* No other route: the index is the group's vector. */
	if (irqroute_delegate_mask(dfd, NR_VEC) != -EINVAL)
		return __LINE__;
	if (irqroute_delegate_unmask(dfd, UINT32_MAX) != -EINVAL)
		return __LINE__;
	if (irqroute_delegate_consume(dfd, NR_VEC) != -EINVAL)
		return __LINE__;
	/* No shared page. */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	if (p != MAP_FAILED || errno != ENODEV)
		return __LINE__;
	return 0;
}

/* The device process: receives the delegation file, then obeys. */
static void device_process(int sock)
{
	struct dev_cmd cmd;
	char tag;
	int dfd, ret;

	dfd = fd_recv(sock, &tag);
	if (dfd < 0)
		_exit(2);
	while (read(sock, &cmd, sizeof(cmd)) == sizeof(cmd)) {
		switch (cmd.op) {
		case 'm':
			ret = irqroute_delegate_mask(dfd, cmd.vector);
			break;
		case 'u':
			ret = irqroute_delegate_unmask(dfd, cmd.vector);
			break;
		case 'c':
			ret = irqroute_delegate_consume(dfd, cmd.vector);
			break;
		case 'p':
			ret = irqroute_delegate_pending(dfd, cmd.vector);
			break;
		case 'n':
			ret = dev_misuse(dfd);
			break;
		case 'r':	/* another delegation: take it, close it */
			ret = fd_recv(sock, &tag);
			if (ret >= 0)
				ret = close(ret) ? -errno : 0;
			break;
		case 'x':
			ret = close(dfd) ? -errno : 0;
			break;
		default:
			_exit(3);
		}
		if (write(sock, &ret, sizeof(ret)) != sizeof(ret))
			_exit(4);
	}
	_exit(0);
}

FIXTURE(delegate) {
	struct rt_env env;
	struct irqroute_group *g;
	struct irqroute_group *other;
	int sock;
	pid_t dev;
};

FIXTURE_SETUP(delegate)
{
	int sv[2], dfd;
	unsigned int i;

	self->sock = -1;
	self->dev = -1;
	/* Forked before the delegation exists: it can only get it passed. */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	self->dev = fork();
	ASSERT_LE(0, self->dev);
	if (!self->dev) {
		close(sv[0]);
		device_process(sv[1]);
	}
	close(sv[1]);
	self->sock = sv[0];

	ASSERT_EQ(0, rt_env_setup(&self->env, 1, &opts, true));
	ASSERT_EQ(0, irqroute_group_create(self->env.ir, NR_VEC, NULL,
					   &self->g));
	ASSERT_EQ(0, irqroute_group_create(self->env.ir, 1, NULL,
					   &self->other));
	for (i = 0; i < NR_VEC; i++)
		ASSERT_EQ(0, rt_set_msi(irqroute_group_route(self->g, i), 0,
					VEC(i)));
	ASSERT_EQ(0, rt_set_msi(irqroute_group_route(self->other, 0), 0,
				OTHER_VEC));

	ASSERT_EQ(0, irqroute_group_delegate(self->g, &dfd));
	ASSERT_EQ(0, fd_send(self->sock, dfd, 'd'));
	ASSERT_EQ(0, close(dfd));
}

FIXTURE_TEARDOWN(delegate)
{
	int status;

	if (self->sock >= 0)
		close(self->sock);
	if (self->dev > 0)
		waitpid(self->dev, &status, 0);
	irqroute_group_destroy(self->other);
	irqroute_group_destroy(self->g);
	rt_env_teardown(&self->env);
}

/* Asks the device process; returns its answer (INT32_MIN if it died). */
static int dev(FIXTURE_DATA(delegate) *self, char op, uint32_t vector)
{
	struct dev_cmd cmd = { .op = op, .vector = vector };
	int ret;

	if (write(self->sock, &cmd, sizeof(cmd)) != sizeof(cmd) ||
	    read(self->sock, &ret, sizeof(ret)) != sizeof(ret))
		return INT32_MIN;
	return ret;
}

static struct irqroute_route *vec(FIXTURE_DATA(delegate) *self,
				  unsigned int i)
{
	return irqroute_group_route(self->g, i);
}

/*
 * The device process masks vector 1: its signal pends; it consumes the
 * edge once; it unmasks and the next signal is delivered. The VMM sees
 * the same bits in its shared page.
 */
TEST_F(delegate, mask_consume_unmask)
{
	struct guest *g = self->env.g;

	ASSERT_EQ(0, dev(self, 'm', 1));
	EXPECT_EQ(1, irqroute_route_index(vec(self, 1)) -
		     irqroute_group_base(self->g));
	ASSERT_EQ(0, rt_signal(vec(self, 1)));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(0, guest_count(g, 0, VEC(1)));
	EXPECT_TRUE(irqroute_pending(vec(self, 1)));
	/* A PBA read takes nothing. */
	EXPECT_EQ(1, dev(self, 'p', 1));
	EXPECT_EQ(1, dev(self, 'p', 1));
	EXPECT_EQ(0, dev(self, 'p', 0));
	EXPECT_EQ(-EINVAL, dev(self, 'p', NR_VEC));
	EXPECT_EQ(1, dev(self, 'c', 1));
	EXPECT_EQ(0, dev(self, 'c', 1));
	EXPECT_FALSE(irqroute_pending(vec(self, 1)));
	ASSERT_EQ(0, dev(self, 'u', 1));
	ASSERT_EQ(0, rt_signal(vec(self, 1)));
	EXPECT_EQ(1, rt_wait(&self->env, 0, VEC(1), 1));

	/* Masked, signalled, not consumed: its unmask delivers, once. */
	ASSERT_EQ(0, dev(self, 'm', 2));
	ASSERT_EQ(0, rt_signal(vec(self, 2)));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(0, guest_count(g, 0, VEC(2)));
	ASSERT_EQ(0, dev(self, 'u', 2));
	EXPECT_EQ(1, rt_wait(&self->env, 0, VEC(2), 1));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, guest_count(g, 0, VEC(2)));
}

/* It can do nothing else, and nothing to the other group. */
TEST_F(delegate, no_other_rights)
{
	EXPECT_EQ(0, dev(self, 'n', 0));
	/* The other group's route still delivers, unmasked. */
	ASSERT_EQ(0, rt_signal(irqroute_group_route(self->other, 0)));
	EXPECT_EQ(1, rt_wait(&self->env, 0, OTHER_VEC, 1));
	/* And the group's own MSIs are untouched. */
	ASSERT_EQ(0, rt_signal(vec(self, 3)));
	EXPECT_EQ(1, rt_wait(&self->env, 0, VEC(3), 1));
}

/* The VMM keeps its own control of the delegated routes. */
TEST_F(delegate, vmm_keeps_control)
{
	struct guest *g = self->env.g;

	ASSERT_EQ(0, dev(self, 'm', 0));
	/* The VMM unmasks it in the shared page; the device sees it. */
	ASSERT_EQ(0, irqroute_unmask(vec(self, 0)));
	ASSERT_EQ(0, rt_signal(vec(self, 0)));
	EXPECT_EQ(1, rt_wait(&self->env, 0, VEC(0), 1));
	/* The VMM masks; the device consumes what pended. */
	ASSERT_EQ(0, irqroute_mask(vec(self, 0)));
	ASSERT_EQ(0, rt_signal(vec(self, 0)));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, dev(self, 'c', 0));
	/* The VMM reroutes; the device cannot. */
	ASSERT_EQ(0, rt_set_msi(vec(self, 0), 0, VEC(3)));
	ASSERT_EQ(0, irqroute_unmask(vec(self, 0)));
	ASSERT_EQ(0, rt_signal(vec(self, 0)));
	EXPECT_EQ(1, rt_wait(&self->env, 0, VEC(3), 1));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, guest_count(g, 0, VEC(0)));
}

/*
 * Closing either side: the device's close leaves the VMM untouched; the
 * VMM's detach while the device still holds the file frees the
 * attachment (the VM takes a new one) and the device's calls fail with
 * ENODEV.
 */
TEST_F(delegate, close_either_side)
{
	struct dev_cmd cmd = { .op = 'r' };
	struct irqroute *ir2 = NULL;
	int vm = guest_vm_fd(self->env.g);
	int dfd, ret = -1;

	/* A second delegation, passed and closed by the device. */
	ASSERT_EQ(0, irqroute_group_delegate(self->g, &dfd));
	ASSERT_EQ(sizeof(cmd), write(self->sock, &cmd, sizeof(cmd)));
	ASSERT_EQ(0, fd_send(self->sock, dfd, 'd'));
	ASSERT_EQ(sizeof(ret), read(self->sock, &ret, sizeof(ret)));
	EXPECT_EQ(0, ret);
	ASSERT_EQ(0, close(dfd));
	EXPECT_EQ(0, dev(self, 'm', 0));	/* still the first one */
	EXPECT_EQ(0, dev(self, 'u', 0));
	ASSERT_EQ(0, rt_signal(vec(self, 0)));
	EXPECT_EQ(1, rt_wait(&self->env, 0, VEC(0), 1));

	/* The VMM goes: detach with the delegation still open there. */
	irqroute_group_destroy(self->other);
	irqroute_group_destroy(self->g);
	self->other = self->g = NULL;
	irqroute_detach(self->env.ir);
	self->env.ir = NULL;
	self->env.fence = NULL;
	EXPECT_EQ(-ENODEV, dev(self, 'm', 0));
	EXPECT_EQ(-ENODEV, dev(self, 'c', 0));
	/* Nothing of the attachment is left: the VM is free. */
	EXPECT_EQ(0, irqroute_attach(vm, &opts, &ir2));
	irqroute_detach(ir2);
	EXPECT_EQ(0, dev(self, 'x', 0));
}

/* IRQROUTE_DELEGATE's inputs, from the VMM. */
TEST_F(delegate, inputs)
{
	struct irqroute_delegate dl = { .size = sizeof(dl) };
	int fd = irqroute_fd(self->env.ir);
	int pipefd[2];
	pid_t pid;
	int status;

#define DELEGATE(_first, _count, _flags)				\
	({								\
		dl = (struct irqroute_delegate){ .size = sizeof(dl),	\
			.first = (_first), .count = (_count),		\
			.flags = (_flags) };				\
		__irqroute_ioctl(fd, IRQROUTE_DELEGATE, &dl);		\
	})
	EXPECT_EQ(-EINVAL, DELEGATE(0, 0, 0));
	EXPECT_EQ(-EINVAL, DELEGATE(256, 1, 0));
	EXPECT_EQ(-EINVAL, DELEGATE(255, 2, 0));
	EXPECT_EQ(-EINVAL, DELEGATE(1, UINT32_MAX, 0));
	EXPECT_EQ(-EINVAL, DELEGATE(0, 1, 1));
	ASSERT_EQ(0, DELEGATE(255, 1, 0));
	EXPECT_LE(0, dl.fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(dl.fd, F_GETFD));
	EXPECT_EQ(0, close(dl.fd));
	dl.__reserved = 1;
	EXPECT_EQ(-EINVAL, __irqroute_ioctl(fd, IRQROUTE_DELEGATE, &dl));
#undef DELEGATE

	/* Only the VMM delegates: a forked child is refused. */
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct irqroute_delegate c = { .size = sizeof(c), .count = 1 };
		int r = __irqroute_ioctl(fd, IRQROUTE_DELEGATE, &c);

		_exit(r == -EPERM ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_HARNESS_MAIN
