// SPDX-License-Identifier: GPL-2.0
/*
 * Who may drive an attachment, and how it ends. A forked child and a
 * process that received the file with SCM_RIGHTS are refused everything
 * (EPERM) and change nothing. A VMM that exits, or is killed, without
 * cleaning up leaves a module that works for the next one (the runner
 * checks the kernel log for splats). Closing the VM file first keeps the
 * attachment working; closing the irqroute file frees the VM for a new
 * attachment, but only once the last reference (a mapping, another
 * process) is gone.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <irqroute.h>

#include "kselftest_harness.h"

#include "fdpass.h"
#include "irqroute_raw.h"
#include "vmfd.h"

#define GSI_BASE	24
#define NR_ROUTES	8
#define BASE_GSI	40	/* a base route: IOAPIC pin 5 */

static const struct irqroute_opts opts = {
	.gsi_base = GSI_BASE,
	.nr_routes = NR_ROUTES,
};

/* Waits up to 2 s for a counter to reach @want (the hand-off is deferred). */
static uint64_t wait_stat(struct irqroute *ir, size_t off, uint64_t want)
{
	struct irqroute_stats st;
	uint64_t v = 0;
	int i;

	for (i = 0; i < 2000; i++) {
		if (irqroute_get_stats(ir, &st))
			return UINT64_MAX;
		v = *(uint64_t *)((char *)&st + off);
		if (v >= want)
			break;
		usleep(1000);
	}
	return v;
}

#define STAT(f)	offsetof(struct irqroute_stats, f)

/*
 * The VMM side of most tests: r[0] has an MSI and is unmasked, r[1] is
 * masked, r[2] has an MSI, is masked and has an edge pending; a base route
 * routes BASE_GSI.
 */
FIXTURE(vmm) {
	int vm;
	int vcpu;	/* APIC ID 0: its IRR shows what reached KVM */
	struct irqroute *ir;
	struct irqroute_route *r[3];
	struct irqroute_stats st;
};

FIXTURE_SETUP(vmm)
{
	struct kvm_irq_routing_entry base = ioapic_entry(BASE_GSI, 5);
	unsigned int i;

	self->vm = vm_create_irqchip();
	ASSERT_LE(0, self->vm);
	self->vcpu = vcpu_create_apic(self->vm, 0);
	ASSERT_LE(0, self->vcpu);
	ASSERT_EQ(0, irqroute_attach(self->vm, &opts, &self->ir));
	ASSERT_EQ(0, irqroute_set_base_routes(self->ir, &base, 1));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, irqroute_route_create(self->ir, &self->r[i]));
	ASSERT_EQ(0, irqroute_set_msi(self->r[0], TEST_MSI_ADDR_LO,
				      TEST_MSI_DATA));
	ASSERT_EQ(0, irqroute_mask(self->r[1]));
	ASSERT_EQ(0, irqroute_set_msi(self->r[2], TEST_MSI_ADDR_LO,
				      TEST_MSI_DATA + 2));
	ASSERT_EQ(0, irqroute_mask(self->r[2]));
	ASSERT_EQ(0, eventfd_signal_once(irqroute_route_event(self->r[2])));
	ASSERT_TRUE(irqroute_pending(self->r[2]));
	ASSERT_EQ(1, vm_gsi_routed(self->vm, BASE_GSI));
	ASSERT_EQ(0, irqroute_get_stats(self->ir, &self->st));
}

FIXTURE_TEARDOWN(vmm)
{
	if (self->ir)
		irqroute_detach(self->ir);
	close(self->vcpu);
	close(self->vm);
}

/*
 * After a foreign process had its go: the same counters, the same routes
 * in the same state, the same base route.
 */
static void assert_vmm_untouched(struct __test_metadata *_metadata,
				 FIXTURE_DATA(vmm) *self)
{
	struct irqroute_stats st;
	struct irqroute_route *extra;
	uint32_t i, live = 0;
	int fd = irqroute_fd(self->ir);

	ASSERT_EQ(0, irqroute_get_stats(self->ir, &st));
	ASSERT_EQ(0, memcmp(&self->st, &st, sizeof(st)));
	ASSERT_EQ(1, vm_gsi_routed(self->vm, BASE_GSI));

	/* Exactly the three routes: the others' indexes are free. */
	for (i = 0; i < NR_ROUTES; i++) {
		int ret;

		if (i == irqroute_route_index(self->r[0]) ||
		    i == irqroute_route_index(self->r[2]))
			continue;	/* checked below */
		ret = __irqroute_route_op(fd, IRQROUTE_MASK, i, 0, NULL);
		if (!ret)
			live++;
		else
			ASSERT_EQ(-ENOENT, ret);
	}
	ASSERT_EQ(1, live);	/* r[1], masked already */

	/* r[2]: its edge is still pending, exactly once. */
	ASSERT_TRUE(irqroute_pending(self->r[2]));
	ASSERT_TRUE(irqroute_consume_pending(self->r[2]));
	ASSERT_FALSE(irqroute_consume_pending(self->r[2]));

	/* r[1]: still masked, so a signal pends. */
	ASSERT_EQ(0, eventfd_signal_once(irqroute_route_event(self->r[1])));
	ASSERT_EQ(st.pended + 1, wait_stat(self->ir, STAT(pended),
					   st.pended + 1));
	ASSERT_TRUE(irqroute_consume_pending(self->r[1]));

	/* r[0]: still unmasked with its MSI, so a signal reaches KVM. */
	ASSERT_EQ(0, eventfd_signal_once(irqroute_route_event(self->r[0])));
	ASSERT_EQ(1, vcpu_irr_take(self->vcpu, TEST_MSI_DATA, 2000));
	ASSERT_EQ(st.delivered + 1, wait_stat(self->ir, STAT(delivered),
					      st.delivered + 1));
	ASSERT_FALSE(irqroute_pending(self->r[0]));

	/* And the VMM itself can still change everything. */
	ASSERT_EQ(0, irqroute_set_msi(self->r[0], TEST_MSI_ADDR_LO,
				      TEST_MSI_DATA + 1));
	ASSERT_EQ(0, irqroute_route_create(self->ir, &extra));
	irqroute_route_destroy(extra);
}

/* The calls a foreign process makes, each one's result kept for the VMM. */
enum foreign_call {
	FC_SET_BASE_ROUTES,
	FC_SET_BASE_ROUTES_EMPTY,
	FC_COMMIT,
	FC_ROUTE_CREATE,
	FC_SET_MSI,
	FC_SET_MSI_DEFER,
	FC_ROUTE_DESTROY,
	FC_CLEAR_MSI,
	FC_MASK,
	FC_UNMASK,
	FC_UNMASK_PENDING_ONLY,
	FC_CONSUME_PENDING,
	FC_GET_STATS,
	FC_MMAP,
	FC_ATTACH_OWN_VM,
	NR_FOREIGN_CALLS,
};

static const char * const foreign_call_name[] = {
	"SET_BASE_ROUTES", "SET_BASE_ROUTES (none)", "COMMIT", "ROUTE_CREATE",
	"SET_MSI", "SET_MSI (DEFER)", "ROUTE_DESTROY", "CLEAR_MSI", "MASK",
	"UNMASK", "UNMASK (PENDING_ONLY)", "CONSUME_PENDING", "GET_STATS",
	"mmap", "ATTACH (own VM)",
};

/* Results in a shared page: set by the foreign process, read by the VMM. */
struct foreign_results {
	int ret[NR_FOREIGN_CALLS];
	int lib[8];
	int done;
};

/*
 * Runs every call on @fd; @idx are the routes' indexes (r[0..2]). Each
 * call is made with arguments that would succeed for the VMM.
 */
static void foreign_calls(int fd, const uint32_t *idx,
			  struct foreign_results *res)
{
	struct kvm_irq_routing_entry base = ioapic_entry(BASE_GSI + 1, 6);
	uint32_t shm_size = 4096;
	struct irqroute_info info;
	void *p;
	int vm, t;

	if (!__irqroute_get_info(fd, &info))
		shm_size = info.shm_size;
	res->ret[FC_SET_BASE_ROUTES] = __irqroute_set_base(fd, &base, 1);
	res->ret[FC_SET_BASE_ROUTES_EMPTY] = __irqroute_set_base(fd, NULL, 0);
	res->ret[FC_COMMIT] = __irqroute_commit(fd);
	t = eventfd(0, EFD_CLOEXEC);
	res->ret[FC_ROUTE_CREATE] = __irqroute_create(fd, t, NULL);
	close(t);
	res->ret[FC_SET_MSI] = __irqroute_set_msi(fd, idx[1], TEST_MSI_ADDR_LO,
						  0x77, 0);
	res->ret[FC_SET_MSI_DEFER] =
		__irqroute_set_msi(fd, idx[1], TEST_MSI_ADDR_LO, 0x78,
				   IRQROUTE_MSI_F_DEFER);
	res->ret[FC_ROUTE_DESTROY] =
		__irqroute_route_op(fd, IRQROUTE_ROUTE_DESTROY, idx[0], 0,
				    NULL);
	res->ret[FC_CLEAR_MSI] =
		__irqroute_route_op(fd, IRQROUTE_CLEAR_MSI, idx[0], 0, NULL);
	res->ret[FC_MASK] = __irqroute_route_op(fd, IRQROUTE_MASK, idx[0], 0,
						NULL);
	res->ret[FC_UNMASK] = __irqroute_route_op(fd, IRQROUTE_UNMASK, idx[1],
						  0, NULL);
	res->ret[FC_UNMASK_PENDING_ONLY] =
		__irqroute_route_op(fd, IRQROUTE_UNMASK, idx[2],
				    IRQROUTE_UNMASK_F_PENDING_ONLY, NULL);
	res->ret[FC_CONSUME_PENDING] =
		__irqroute_route_op(fd, IRQROUTE_CONSUME_PENDING, idx[2], 0,
				    NULL);
	{
		struct irqroute_stats st;

		res->ret[FC_GET_STATS] = __irqroute_get_stats(fd, &st);
	}
	errno = 0;
	p = irqroute_shm_map(fd, shm_size, MAP_SHARED, 0);
	res->ret[FC_MMAP] = p ? 0 : -errno;
	if (p)
		munmap(p, shm_size);
	vm = vm_create_irqchip();
	res->ret[FC_ATTACH_OWN_VM] = vm < 0 ? vm :
		__irqroute_attach(fd, vm, GSI_BASE, NR_ROUTES, 0, NULL);
	if (vm >= 0)
		close(vm);
}

static void assert_foreign_refused(struct __test_metadata *_metadata,
				   const struct foreign_results *res)
{
	unsigned int i;

	for (i = 0; i < NR_FOREIGN_CALLS; i++) {
		/* The file is attached already: that answer comes first. */
		int want = i == FC_ATTACH_OWN_VM ? -EBUSY : -EPERM;

		EXPECT_EQ(want, res->ret[i])
			TH_LOG("%s from a foreign process: %d (%s)",
			       foreign_call_name[i], res->ret[i],
			       strerror(-res->ret[i]));
	}
}

static struct foreign_results *results_page(void)
{
	void *p = mmap(NULL, sizeof(struct foreign_results),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		       0);

	return p == MAP_FAILED ? NULL : p;
}

static void get_indexes(FIXTURE_DATA(vmm) *self, uint32_t *idx)
{
	unsigned int i;

	for (i = 0; i < 3; i++)
		idx[i] = irqroute_route_index(self->r[i]);
}

/*
 * A forked child holds the irqroute file (and the VM file) but not the
 * VM's mm: every ioctl and mmap is EPERM, the library's page operations
 * too, and closing its copy of the file changes nothing for the parent.
 */
TEST_F(vmm, forked_child)
{
	struct foreign_results *res = results_page();
	uint32_t idx[3];
	int status;
	pid_t pid;

	ASSERT_NE(NULL, res);
	get_indexes(self, idx);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct irqroute_route *r;

		foreign_calls(irqroute_fd(self->ir), idx, res);
		/* The library: the page is not there, the kernel says EPERM. */
		res->lib[0] = irqroute_set_msi(self->r[1], TEST_MSI_ADDR_LO, 1);
		res->lib[1] = irqroute_clear_msi(self->r[0]);
		res->lib[2] = irqroute_mask(self->r[0]);
		res->lib[3] = irqroute_unmask(self->r[1]);
		res->lib[4] = irqroute_consume_pending(self->r[2]);
		res->lib[5] = irqroute_route_create(self->ir, &r);
		res->lib[6] = irqroute_mask_ioctl(self->r[0]);
		/* Void calls: whatever they try must not reach the parent. */
		irqroute_route_destroy(self->r[0]);
		irqroute_detach(self->ir);
		res->done = 1;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(1, res->done);

	assert_foreign_refused(_metadata, res);
	EXPECT_EQ(-EPERM, res->lib[0]);
	EXPECT_EQ(-EPERM, res->lib[1]);
	EXPECT_EQ(-EPERM, res->lib[2]);
	EXPECT_EQ(-EPERM, res->lib[3]);
	EXPECT_EQ(0, res->lib[4]);	/* consume_pending: false */
	EXPECT_EQ(-EPERM, res->lib[5]);
	EXPECT_EQ(-EPERM, res->lib[6]);
	assert_vmm_untouched(_metadata, self);
	munmap(res, sizeof(*res));
}

/* The peer: a process that never shared anything with the VMM. */
static int peer_main(int sock, struct foreign_results *res)
{
	uint32_t idx[3];
	char tag;
	int fd;

	fd = fd_recv(sock, &tag);
	if (fd < 0)
		return 10;
	if (read(sock, idx, sizeof(idx)) != sizeof(idx))
		return 11;
	foreign_calls(fd, idx, res);
	res->done = 1;
	if (write(sock, "r", 1) != 1)
		return 12;
	/* Keep the file until told to drop it. */
	if (read(sock, &tag, 1) != 1)
		return 13;
	close(fd);
	return 0;
}

/*
 * The irqroute file sent to another process with SCM_RIGHTS: every call
 * there is EPERM. That process's reference keeps the attachment (and the
 * VM's claim) alive after the VMM closed its own; its close ends it.
 */
TEST_F(vmm, scm_rights_peer)
{
	struct foreign_results *res = results_page();
	int sv[2], status, fd2;
	uint32_t idx[3];
	pid_t pid;
	char c;

	ASSERT_NE(NULL, res);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Drop everything inherited: this stands for any process. */
		irqroute_detach(self->ir);
		close(self->vcpu);
		close(self->vm);
		close(sv[0]);
		_exit(peer_main(sv[1], res));
	}
	close(sv[1]);

	get_indexes(self, idx);
	ASSERT_EQ(0, fd_send(sv[0], irqroute_fd(self->ir), 'f'));
	ASSERT_EQ(sizeof(idx), write(sv[0], idx, sizeof(idx)));
	ASSERT_EQ(1, read(sv[0], &c, 1));
	ASSERT_EQ(1, res->done);
	assert_foreign_refused(_metadata, res);
	assert_vmm_untouched(_metadata, self);

	/* The peer's reference keeps the VM claimed. */
	irqroute_detach(self->ir);
	self->ir = NULL;
	fd2 = irqroute_dev_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(-EBUSY, __irqroute_attach(fd2, self->vm, GSI_BASE,
					    NR_ROUTES, 0, NULL));

	/* The last reference goes in another process: then it is free. */
	ASSERT_EQ(1, write(sv[0], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, __irqroute_attach(fd2, self->vm, GSI_BASE, NR_ROUTES, 0,
				       NULL));
	close(fd2);
	close(sv[0]);
	munmap(res, sizeof(*res));
}

/*
 * A fresh VMM in this process: attach (to @vm with its APIC-enabled vCPU 0
 * @vcpu, or to a new VM if -1), a route with an MSI, a signal that reaches
 * KVM's local APIC, a page operation. What every test runs once the mess
 * is over.
 */
static void assert_module_works(struct __test_metadata *_metadata, int vm,
				int vcpu)
{
	struct irqroute_stats st;
	struct irqroute_route *r;
	struct irqroute *ir;
	bool own_vm = vm < 0;

	if (own_vm) {
		vm = vm_create_irqchip();
		ASSERT_LE(0, vm);
		vcpu = vcpu_create_apic(vm, 0);
	}
	ASSERT_LE(0, vm);
	ASSERT_LE(0, vcpu);
	/* Whatever an earlier VMM of @vm left in the IRR. */
	ASSERT_LE(0, vcpu_irr_take(vcpu, TEST_MSI_DATA, 0));
	ASSERT_EQ(0, irqroute_attach(vm, &opts, &ir));
	ASSERT_EQ(0, irqroute_route_create(ir, &r));
	ASSERT_EQ(0, irqroute_set_msi(r, TEST_MSI_ADDR_LO, TEST_MSI_DATA));
	ASSERT_EQ(0, eventfd_signal_once(irqroute_route_event(r)));
	ASSERT_EQ(1, vcpu_irr_take(vcpu, TEST_MSI_DATA, 2000));
	ASSERT_EQ(1, wait_stat(ir, STAT(delivered), 1));
	ASSERT_EQ(0, irqroute_get_stats(ir, &st));
	ASSERT_EQ(1, st.signals);
	ASSERT_EQ(0, irqroute_mask(r));
	ASSERT_EQ(0, eventfd_signal_once(irqroute_route_event(r)));
	ASSERT_TRUE(irqroute_consume_pending(r));
	irqroute_route_destroy(r);
	irqroute_detach(ir);
	if (own_vm) {
		close(vcpu);
		close(vm);
	}
}

static void *hammer(void *arg)
{
	const int *fds = arg;
	unsigned int i;

	for (;;) {
		for (i = 0; fds[i] >= 0; i++)
			eventfd_signal_once(fds[i]);
	}
	return NULL;
}

/*
 * A VMM that leaves everything behind: routes with MSIs, masked ones with
 * edges pending, the shared page mapped, a thread still signalling.
 */
static int messy_vmm(bool thread, bool kill_self)
{
	struct irqroute_route *r[NR_ROUTES];
	int fds[NR_ROUTES + 1];
	struct irqroute *ir;
	pthread_t th;
	int vm, i;

	vm = vm_create_irqchip();
	if (vm < 0)
		return 10;
	if (irqroute_attach(vm, &opts, &ir))
		return 11;
	for (i = 0; i < NR_ROUTES; i++) {
		if (irqroute_route_create(ir, &r[i]))
			return 12;
		fds[i] = irqroute_route_event(r[i]);
		if (i % 2 && irqroute_set_msi(r[i], TEST_MSI_ADDR_LO, 0x40 + i))
			return 13;
		if (i % 3 == 0 && irqroute_mask(r[i]))
			return 14;
		eventfd_signal_once(fds[i]);
	}
	fds[NR_ROUTES] = -1;
	if (thread && pthread_create(&th, NULL, hammer, fds))
		return 15;
	usleep(10000);
	if (kill_self)
		raise(SIGKILL);
	return 0;
}

FIXTURE(mess) {
	int unused;
};

FIXTURE_VARIANT(mess) {
	bool thread;	/* a thread keeps signalling while the VMM exits */
	bool kill;	/* SIGKILL instead of exit(0) */
};

FIXTURE_VARIANT_ADD(mess, exit) { .thread = false, .kill = false };
FIXTURE_VARIANT_ADD(mess, exit_signalling) { .thread = true, .kill = false };
FIXTURE_VARIANT_ADD(mess, kill) { .thread = false, .kill = true };
FIXTURE_VARIANT_ADD(mess, kill_signalling) { .thread = true, .kill = true };

FIXTURE_SETUP(mess)
{
}

FIXTURE_TEARDOWN(mess)
{
}

TEST_F(mess, no_cleanup)
{
	int i, status;
	pid_t pid;

	for (i = 0; i < 3; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			_exit(messy_vmm(variant->thread, variant->kill));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		if (variant->kill) {
			ASSERT_TRUE(WIFSIGNALED(status))
				TH_LOG("exit status %d", WEXITSTATUS(status));
			ASSERT_EQ(SIGKILL, WTERMSIG(status));
		} else {
			ASSERT_TRUE(WIFEXITED(status));
			ASSERT_EQ(0, WEXITSTATUS(status));
		}
	}
	assert_module_works(_metadata, -1, -1);
}

/* What the doomed VMM's threads do until the SIGKILL. */
struct churn {
	struct irqroute *ir;
	int fd;
	int stop;
};

static void *churn_msi(void *arg)
{
	struct churn *c = arg;
	uint32_t i = 0;

	for (;; i++) {
		__irqroute_set_msi(c->fd, i % NR_ROUTES, TEST_MSI_ADDR_LO,
				   0x40 + i % 64,
				   i % 3 ? 0 : IRQROUTE_MSI_F_DEFER);
		if (i % 5 == 0)
			__irqroute_commit(c->fd);
		if (i % 7 == 0)
			__irqroute_route_op(c->fd, IRQROUTE_CLEAR_MSI,
					    i % NR_ROUTES, 0, NULL);
	}
	return NULL;
}

static void *churn_mask(void *arg)
{
	struct churn *c = arg;
	uint32_t i = 0;

	for (;; i++) {
		__irqroute_route_op(c->fd, i % 2 ? IRQROUTE_MASK :
				    IRQROUTE_UNMASK, i % NR_ROUTES, 0, NULL);
		__irqroute_route_op(c->fd, IRQROUTE_CONSUME_PENDING,
				    (i * 3) % NR_ROUTES, 0, NULL);
	}
	return NULL;
}

static void *churn_signal(void *arg)
{
	uint64_t one = 1;
	int *t = arg, i;

	for (;;) {
		for (i = 0; i < NR_ROUTES; i++)
			if (write(t[i], &one, sizeof(one)) < 0)
				usleep(1);
	}
	return NULL;
}

/*
 * The doomed VMM: create/destroy in the main thread, the other calls in
 * threads, until the parent's SIGKILL lands somewhere in the middle.
 */
static void doomed_vmm(int ready)
{
	int triggers[NR_ROUTES];
	struct churn c = { 0 };
	pthread_t th[3];
	uint32_t i;
	int vm;

	vm = vm_create_irqchip();
	if (vm < 0 || irqroute_attach(vm, &opts, &c.ir))
		_exit(10);
	c.fd = irqroute_fd(c.ir);
	for (i = 0; i < NR_ROUTES; i++) {
		triggers[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (triggers[i] < 0 || __irqroute_create(c.fd, triggers[i],
							 NULL))
			_exit(11);
	}
	if (pthread_create(&th[0], NULL, churn_msi, &c) ||
	    pthread_create(&th[1], NULL, churn_mask, &c) ||
	    pthread_create(&th[2], NULL, churn_signal, triggers))
		_exit(12);
	if (write(ready, "r", 1) != 1)
		_exit(13);
	for (i = 0;; i++) {
		uint32_t index = i % NR_ROUTES;

		/* Indexes are reused lowest-first: the trigger follows. */
		if (!__irqroute_route_op(c.fd, IRQROUTE_ROUTE_DESTROY, index, 0,
					 NULL))
			__irqroute_create(c.fd, triggers[index], NULL);
	}
}

FIXTURE(doomed) {
	int unused;
};

FIXTURE_SETUP(doomed)
{
}

FIXTURE_TEARDOWN(doomed)
{
}

TEST_F_TIMEOUT(doomed, sigkill_mid_loop, 120)
{
	int i, status, p[2];
	pid_t pid;
	char c;

	srand(time(NULL));
	for (i = 0; i < 12; i++) {
		ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			close(p[0]);
			doomed_vmm(p[1]);
		}
		close(p[1]);
		/* Half the time before the loops start, half inside them. */
		if (i % 2)
			ASSERT_EQ(1, read(p[0], &c, 1));
		usleep(rand() % 50000);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status))
			TH_LOG("round %d: exit status %d", i,
			       WEXITSTATUS(status));
		ASSERT_EQ(SIGKILL, WTERMSIG(status));
		close(p[0]);
	}
	assert_module_works(_metadata, -1, -1);
}

/*
 * The VM file closed first: the attachment holds its own reference, so
 * everything keeps working until the irqroute file goes.
 */
TEST_F(vmm, vm_closed_first)
{
	struct irqroute_route *r;
	struct irqroute_stats st;

	/* The vCPU holds the VM too: only irqroute may hold it now. */
	ASSERT_EQ(0, close(self->vcpu));
	self->vcpu = -1;
	ASSERT_EQ(0, close(self->vm));
	self->vm = -1;

	ASSERT_EQ(0, irqroute_set_msi(self->r[1], TEST_MSI_ADDR_LO, 0x55));
	ASSERT_EQ(0, irqroute_unmask(self->r[1]));
	ASSERT_EQ(0, irqroute_clear_msi(self->r[0]));
	ASSERT_EQ(0, irqroute_set_msi(self->r[0], TEST_MSI_ADDR_LO, 0x56));
	/* r[2]'s pending edge is delivered by the unmask. */
	ASSERT_EQ(0, irqroute_unmask(self->r[2]));
	ASSERT_EQ(self->st.delivered + 1,
		  wait_stat(self->ir, STAT(delivered), self->st.delivered + 1));
	ASSERT_FALSE(irqroute_pending(self->r[2]));

	ASSERT_EQ(0, irqroute_route_create(self->ir, &r));
	ASSERT_EQ(0, irqroute_set_msi(r, TEST_MSI_ADDR_LO, 0x57));
	ASSERT_EQ(0, eventfd_signal_once(irqroute_route_event(r)));
	ASSERT_EQ(self->st.delivered + 2,
		  wait_stat(self->ir, STAT(delivered), self->st.delivered + 2));
	ASSERT_EQ(0, irqroute_get_stats(self->ir, &st));
	irqroute_route_destroy(r);
	irqroute_route_destroy(self->r[0]);
	self->r[0] = NULL;
	ASSERT_EQ(0, irqroute_batch_begin(self->ir));
	ASSERT_EQ(0, irqroute_clear_msi(self->r[1]));
	ASSERT_EQ(0, irqroute_batch_commit(self->ir));
	irqroute_detach(self->ir);
	self->ir = NULL;
	assert_module_works(_metadata, -1, -1);
}

/*
 * The irqroute file closed with routes live: the VM is free for a new
 * attachment at once, and the old triggers reach nothing any more.
 */
TEST_F(vmm, irqroute_closed_with_routes)
{
	struct irqroute_route *r;
	struct irqroute_stats st;
	struct irqroute *ir2;
	int old[3], i;

	/* Keep the old triggers: irqroute_detach() closes its own. */
	for (i = 0; i < 3; i++) {
		old[i] = dup(irqroute_route_event(self->r[i]));
		ASSERT_LE(0, old[i]);
	}
	irqroute_detach(self->ir);
	self->ir = NULL;

	ASSERT_EQ(0, irqroute_attach(self->vm, &opts, &ir2));
	ASSERT_EQ(0, irqroute_route_create(ir2, &r));
	ASSERT_EQ(0, irqroute_set_msi(r, TEST_MSI_ADDR_LO, TEST_MSI_DATA));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, eventfd_signal_once(old[i]));
	/* The old triggers are plain eventfds again: reusable as triggers. */
	for (i = 0; i < 3; i++) {
		struct irqroute_route_create c = {
			.size = sizeof(c), .trigger_fd = old[i],
			.irqfd_fd = eventfd(0, EFD_CLOEXEC),
		};

		ASSERT_LE(0, c.irqfd_fd);
		ASSERT_EQ(0, __irqroute_ioctl(irqroute_fd(ir2),
					      IRQROUTE_ROUTE_CREATE, &c));
		close(c.irqfd_fd);
	}
	ASSERT_EQ(0, irqroute_get_stats(ir2, &st));
	ASSERT_EQ(0, st.signals);
	/* Each old trigger's count carried over as one pending edge. */
	ASSERT_EQ(3, st.pended);
	irqroute_detach(ir2);
	for (i = 0; i < 3; i++)
		close(old[i]);
}

/*
 * A mapping of the shared page holds the file: after close() the VM stays
 * claimed until munmap().
 */
TEST(mapping_holds_attachment)
{
	uint32_t shm_size = 0;
	int fd, fd2, vm;
	void *p;

	vm = vm_create_irqchip();
	ASSERT_LE(0, vm);
	fd = irqroute_dev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, __irqroute_attach(fd, vm, GSI_BASE, NR_ROUTES, 0,
				       &shm_size));
	p = irqroute_shm_map(fd, shm_size, MAP_SHARED, 0);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, close(fd));

	fd2 = irqroute_dev_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(-EBUSY, __irqroute_attach(fd2, vm, GSI_BASE, NR_ROUTES, 0,
					    NULL));
	ASSERT_EQ(IRQROUTE_SHM_MAGIC,
		  ((struct irqroute_shm_header *)p)->magic);
	ASSERT_EQ(0, munmap(p, shm_size));
	ASSERT_EQ(0, __irqroute_attach(fd2, vm, GSI_BASE, NR_ROUTES, 0, NULL));
	close(fd2);
	close(vm);
}

/* Closing the file while a thread hammers every trigger. */
TEST_F(vmm, close_while_signalling)
{
	int fds[4], i;
	pthread_t th;

	for (i = 0; i < 3; i++) {
		fds[i] = dup(irqroute_route_event(self->r[i]));
		ASSERT_LE(0, fds[i]);
	}
	fds[3] = -1;
	ASSERT_EQ(0, pthread_create(&th, NULL, hammer, fds));
	usleep(20000);
	irqroute_detach(self->ir);
	self->ir = NULL;
	usleep(20000);
	/* The VM is free again while the old triggers are still hammered. */
	assert_module_works(_metadata, self->vm, self->vcpu);
	ASSERT_EQ(0, pthread_cancel(th));
	ASSERT_EQ(0, pthread_join(th, NULL));
	for (i = 0; i < 3; i++)
		close(fds[i]);
}

/*
 * A process forked before it attached is a VMM like any other: only the
 * attachment's owner matters, not whether the process was ever forked.
 */
TEST(fork_then_attach)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct irqroute_route *r;
		struct irqroute *ir;
		int vm = vm_create_irqchip();

		if (vm < 0 || irqroute_attach(vm, &opts, &ir) ||
		    irqroute_route_create(ir, &r))
			_exit(10);
		if (irqroute_mask(r))
			_exit(11);
		if (eventfd_signal_once(irqroute_route_event(r)))
			_exit(12);
		if (!irqroute_consume_pending(r))
			_exit(13);
		if (irqroute_unmask(r))
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("10: setup, 11: mask, 12: signal, 13: consume, 14: unmask");
	assert_module_works(_metadata, -1, -1);
}

TEST_HARNESS_MAIN
