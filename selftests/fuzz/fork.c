// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-fuzz: other processes. A forked child holds every descriptor
 * of the VMM but is not the VMM; a process that received an irqroute file
 * with SCM_RIGHTS neither; a child that became a VMM of its own is killed
 * in the middle of whatever its threads do. Each of these may also drop
 * the last reference to an attachment, from a process that is not its VMM
 * or from an exiting one.
 *
 * The parent waits for every child, without a timeout: a child stuck in
 * the kernel keeps the worker from finishing its epoch, and the supervisor
 * reports the hang.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "../fdpass.h"

static void child_enter(struct fuzz_thread *t)
{
	pool_after_fork(t->pool);
	t->id = FUZZ_MAX_THREADS + t->id % FUZZ_MAX_THREADS;
}

/* Reap @pid; a death by any signal but an expected SIGKILL is a crash. */
static void reap(struct fuzz_thread *t, pid_t pid, bool killed)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return;
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && killed) {
		__atomic_fetch_add(&fuzz_stats->children_killed, 1,
				   __ATOMIC_RELAXED);
		return;
	}
	if (WIFSIGNALED(status))
		fuzz_impossible(t, "child %d died of signal %d (%s)", pid,
				WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WEXITSTATUS(status))
		fuzz_impossible(t, "child %d exited with status %d", pid,
				WEXITSTATUS(status));
}

static pid_t fuzz_fork(struct fuzz_thread *t, int op, uint64_t what)
{
	pid_t pid;

	fuzz_op_begin(t, op, -1, what, 0);
	pid = fuzz_fork_locked();
	if (pid)
		fuzz_op_end(t, op, pid < 0 ? -errno : 0);
	if (pid > 0)
		__atomic_fetch_add(&fuzz_stats->children, 1, __ATOMIC_RELAXED);
	return pid;
}

/* A few random operations as a process that holds the VMM's files. */
void op_fork(struct fuzz_thread *t)
{
	pid_t pid = fuzz_fork(t, OP_FORK, 0);
	int n;

	if (pid)
		goto out;
	child_enter(t);
	for (n = 1 + rnd_below(t, 20); n; n--)
		fuzz_one_op(t);
	_exit(0);
out:
	if (pid > 0)
		reap(t, pid, false);
}

/* Put a received descriptor in the pool: attached, but not by us. */
static void keep_foreign(struct fuzz_thread *t, int fd, char tag)
{
	struct fuzz_irq rec = {
		.irqroute = tag == 'A' || tag == 'U',
		.attached = tag == 'A',
		.owner = -1,
	};

	if (tag == 'E') {
		struct fuzz_efd *e = &t->pool->efd[rnd_below(t, FUZZ_NR_EFD)];

		slot_put_fd(&e->fd, fd);
		e->role = EFD_FREE;
		return;
	}
	irq_slot_set_fd(&t->pool->irq[rnd_below(t, FUZZ_NR_IRQ)], fd, &rec);
}

/* The child's side: use what came, then maybe send back a VMM's file. */
static void scm_child(struct fuzz_thread *t, int sock)
{
	struct fuzz_irq *slot;
	struct fuzz_vm *vm;
	int fd, n, k;
	char tag;

	for (k = 0; k < 4; k++) {
		fd = fd_recv(sock, &tag);
		if (fd < 0)
			break;
		keep_foreign(t, fd, tag);
	}
	for (n = 1 + rnd_below(t, 12); n; n--)
		fuzz_one_op(t);
	if (chance(t, 50))
		return;
	/* A file attached to this child's own VM, for the parent. */
	slot = &t->pool->irq[rnd_below(t, FUZZ_NR_IRQ)];
	fd = open("/dev/irqroute", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	irq_slot_set_fd(slot, fd, NULL);
	vm = &t->pool->vm[rnd_below(t, FUZZ_NR_VM)];
	tag = 'U';
	if (!fuzz_vm_create(t, vm, VM_IRQCHIP) &&
	    !fuzz_attach(t, slot, slot_fd(&vm->fd))) {
		tag = 'A';
		for (k = rnd_below(t, 4); k; k--)
			fuzz_create(t, slot, pick_efd(t, EFD_FREE, NULL));
	}
	fd_send(sock, slot_fd(&slot->fd), tag);
	/* Sometimes the parent ends up with the only reference. */
	if (chance(t, 50))
		irq_slot_close(slot);
}

/*
 * SCM_RIGHTS both ways: the VMM's files (attached or not, or a fresh
 * one the child did not inherit) to a child, and the child's own
 * attached file back.
 */
void op_fork_scm(struct fuzz_thread *t)
{
	struct pollfd pfd;
	int sv[2], fd, fresh = -1, k;
	struct fuzz_irq_snap s;
	pid_t pid;
	char tag;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return;
	pid = fuzz_fork(t, OP_FORK_SCM, 0);
	if (!pid) {
		child_enter(t);
		close(sv[0]);
		scm_child(t, sv[1]);
		_exit(0);
	}
	close(sv[1]);
	if (pid < 0)
		goto out;

	for (k = 1 + rnd_below(t, 3); k; k--) {
		uint32_t r = rnd_below(t, 100);

		if (r < 50) {
			pick_irq(t, chance(t, 70), &s);
			fd_send(sv[0], s.fd, !irq_snap_valid(&s) ? 'X' :
					     s.attached ? 'A' : 'U');
		} else if (r < 75 && fresh < 0) {
			fresh = open("/dev/irqroute", O_RDWR | O_CLOEXEC);
			fd_send(sv[0], fresh, 'U');
		} else if (r < 90) {
			fd_send(sv[0], pick_efd(t, -1, NULL), 'E');
		} else {
			fd_send(sv[0], slot_fd(&t->pool->vm[0].fd), 'V');
		}
	}
	/* The child holds the only reference to the fresh file now. */
	if (fresh >= 0)
		close(fresh);
	shutdown(sv[0], SHUT_WR);
	pfd = (struct pollfd){ .fd = sv[0], .events = POLLIN };
	if (poll(&pfd, 1, 2000) == 1) {
		fd_table_lock();
		fd = fd_recv(sv[0], &tag);
		if (fd >= 0)
			keep_foreign(t, fd, tag);
		fd_table_unlock();
	}
	reap(t, pid, false);
out:
	close(sv[0]);
}

/*
 * A child VMM of its own, with threads, killed at a random moment: in
 * an ioctl, waiting for the file's mutex, in KVM, or exiting.
 */
void op_fork_vmm(struct fuzz_thread *t)
{
	uint64_t life = 50 + rnd_below(t, 400), kill_at;
	bool kill_it = chance(t, 75);
	struct timespec ts;
	pid_t pid;

	kill_at = rnd_below(t, life);
	pid = fuzz_fork(t, OP_FORK_VMM, life);
	if (!pid) {
		child_enter(t);
		fuzz_run_threads(t->pool, rnd(t), 1 + rnd_below(t, 3),
				 FUZZ_MAX_THREADS,
				 fuzz_now_ns() + life * 1000000ull);
		_exit(0);
	}
	if (pid < 0)
		return;
	if (kill_it) {
		ts.tv_sec = kill_at / 1000;
		ts.tv_nsec = (kill_at % 1000) * 1000000;
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
	}
	reap(t, pid, kill_it);
}
