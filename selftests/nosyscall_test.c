// SPDX-License-Identifier: GPL-2.0
/*
 * The "no system call" promise: irqroute_mask(), irqroute_consume_pending()
 * and an irqroute_unmask() that finds nothing pending are atomics on the
 * shared page. Proved by running them in a thread under a seccomp filter
 * that traps every system call but exit and rt_sigreturn
 * (SECCOMP_RET_TRAP: the call does not happen, a SIGSYS records it) --
 * with a positive control showing the same filter does catch the ioctl of
 * an irqroute_unmask() that finds an edge pending.
 *
 * The page is not inherited across fork(), and another process may not
 * use the attachment anyway, hence a thread; it ends with a raw exit
 * system call, which the filter allows, so that nothing of the C
 * library's thread teardown runs under the filter.
 */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "kselftest_harness.h"

#include "rtenv.h"

#define VEC		RT_VECTOR(0x70)
/* Bounded spin of the filtered thread (it cannot sleep or yield). */
#define SPIN_LIMIT	(1UL << 34)

static int trapped;		/* system calls trapped by the filter */
static int trapped_nr = -1;	/* the first one's number */

static void sigsys_handler(int sig, siginfo_t *si, void *ucontext)
{
	if (__atomic_fetch_add(&trapped, 1, __ATOMIC_SEQ_CST) == 0)
		__atomic_store_n(&trapped_nr, si->si_syscall, __ATOMIC_SEQ_CST);
}

static int install_filter(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigreturn, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	/* This thread only: no SECCOMP_FILTER_FLAG_TSYNC. */
	return syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* What the filtered thread did and saw; the main thread checks it. */
struct window {
	struct irqroute_route *r;
	bool control;		/* positive control: unmask with an edge */
	int filter_ret;
	int stage;		/* 1: masked, waiting for the signal */
	int signalled;		/* set by the main thread */
	int mask_ret, mask2_ret, unmask_ret, toggles_ret;
	bool pending, consumed, consumed_again, timed_out;
	int trapped_before;	/* trapped count when the window opened */
};

static void *filtered_thread(void *arg)
{
	struct window *w = arg;
	unsigned long n = 0;
	int i;

	w->filter_ret = install_filter();
	if (w->filter_ret)
		return NULL;
	w->trapped_before = __atomic_load_n(&trapped, __ATOMIC_SEQ_CST);

	/* ---- the window: no system call from here to the exit ---- */
	w->mask_ret = irqroute_mask(w->r);
	__atomic_store_n(&w->stage, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&w->signalled, __ATOMIC_SEQ_CST)) {
		if (++n == SPIN_LIMIT) {
			w->timed_out = true;
			break;
		}
		asm volatile("pause");
	}
	w->pending = irqroute_pending(w->r);
	if (w->control) {
		/* Finds the edge pending: must enter the kernel. */
		w->unmask_ret = irqroute_unmask(w->r);
	} else {
		w->consumed = irqroute_consume_pending(w->r);
		w->consumed_again = irqroute_consume_pending(w->r);
		w->unmask_ret = irqroute_unmask(w->r);
		for (i = 0; i < 1000 && !w->toggles_ret; i++) {
			w->toggles_ret = irqroute_mask(w->r);
			if (!w->toggles_ret)
				w->toggles_ret = irqroute_unmask(w->r);
		}
		w->mask2_ret = irqroute_mask(w->r);
		if (!w->mask2_ret)
			w->mask2_ret = irqroute_unmask(w->r);
	}
	__atomic_store_n(&w->stage, 2, __ATOMIC_SEQ_CST);
	syscall(__NR_exit, 0);
	return NULL;
}

FIXTURE(nosyscall) {
	struct rt_env env;
	struct irqroute_route *r;
};

FIXTURE_SETUP(nosyscall)
{
	struct sigaction sa = {
		.sa_sigaction = sigsys_handler,
		.sa_flags = SA_SIGINFO,
	};

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGSYS, &sa, NULL));
	ASSERT_EQ(0, rt_env_setup(&self->env, 1, NULL, true));
	ASSERT_EQ(0, rt_route_new(self->env.ir, 0, VEC, &self->r));
}

FIXTURE_TEARDOWN(nosyscall)
{
	const unsigned int owned[][2] = { { 0, VEC } };

	RT_EXPECT_EXACTLY_ONCE(&self->env, owned, 1);
	if (self->r)
		irqroute_route_destroy(self->r);
	rt_env_teardown(&self->env);
}

/* Runs the filtered thread, signalling the route once it has masked. */
static bool run_window(struct window *w)
{
	unsigned int ms = 0;
	pthread_t thread;

	if (pthread_create(&thread, NULL, filtered_thread, w))
		return false;
	while (!__atomic_load_n(&w->stage, __ATOMIC_SEQ_CST) &&
	       !w->filter_ret && ms++ < guest_timeout_ms())
		guest_msleep(1);
	if (__atomic_load_n(&w->stage, __ATOMIC_SEQ_CST) == 1)
		guest_signal_fd(irqroute_route_event(w->r));
	__atomic_store_n(&w->signalled, 1, __ATOMIC_SEQ_CST);
	pthread_join(thread, NULL);
	return true;
}

TEST_F(nosyscall, mask_consume_unmask)
{
	struct window w = { .r = self->r };

	ASSERT_TRUE(run_window(&w));
	ASSERT_EQ(0, w.filter_ret);
	ASSERT_EQ(2, w.stage);
	EXPECT_FALSE(w.timed_out);
	EXPECT_EQ(0, __atomic_load_n(&trapped, __ATOMIC_SEQ_CST));
	if (trapped)
		TH_LOG("system call %d made under the filter", trapped_nr);
	EXPECT_EQ(0, w.mask_ret);
	EXPECT_TRUE(w.pending);
	EXPECT_TRUE(w.consumed);
	EXPECT_FALSE(w.consumed_again);
	EXPECT_EQ(0, w.unmask_ret);
	EXPECT_EQ(0, w.toggles_ret);
	EXPECT_EQ(0, w.mask2_ret);

	/* The edge was consumed: nothing reaches the guest. */
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(0, rt_total(&self->env));
	/* And the route is unmasked: the next signal does. */
	ASSERT_EQ(0, rt_signal(self->r));
	EXPECT_EQ(1, guest_wait_count(self->env.g, 0, VEC, 1, 0));
}

TEST_F(nosyscall, positive_control)
{
	struct window w = { .r = self->r, .control = true };

	ASSERT_TRUE(run_window(&w));
	ASSERT_EQ(0, w.filter_ret);
	ASSERT_EQ(2, w.stage);
	EXPECT_FALSE(w.timed_out);
	EXPECT_EQ(0, w.mask_ret);
	EXPECT_TRUE(w.pending);
	/* The filter caught exactly the unmask's ioctl, which never ran... */
	EXPECT_EQ(1, __atomic_load_n(&trapped, __ATOMIC_SEQ_CST));
	EXPECT_EQ(__NR_ioctl, __atomic_load_n(&trapped_nr, __ATOMIC_SEQ_CST));
	EXPECT_NE(0, w.unmask_ret);

	/* ...so the edge is still pending, undelivered, never lost. */
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(0, rt_total(&self->env));
	EXPECT_TRUE(irqroute_pending(self->r));
	ASSERT_EQ(0, irqroute_unmask(self->r));
	EXPECT_EQ(1, guest_wait_count(self->env.g, 0, VEC, 1, 0));
	ASSERT_TRUE(rt_fence(&self->env));
	EXPECT_EQ(1, rt_total(&self->env));
}

TEST_HARNESS_MAIN
