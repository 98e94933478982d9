// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-fuzz: the worker process of one epoch. It is a VMM whose
 * threads share one pool of objects and pick operations at random, and
 * the parent of the epoch's oracle (oracle.c), which shares nothing.
 *
 * Rules that keep the fuzzer from hurting itself rather than the kernel:
 *  - no malloc() once the threads run: every buffer is mapped up front,
 *    so no memory of ours appears where an operation could unmap it;
 *  - MAP_FIXED, munmap() and mremap() only inside the arena (the
 *    scratch areas handed to IRQROUTE_ATTACH are in it, memory.c);
 *  - memory another thread may unmap is touched inside GUARD();
 *  - eventfds are non-blocking, every wait has a bound.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

long fuzz_page_size;

/* The thread a fault belongs to, for the guard. */
static __thread struct fuzz_thread *cur_thread;

/* --- dispatch -------------------------------------------------------------- */

#define FUZZ_OP_WEIGHT(name, w) w,
static const uint32_t fuzz_weights[NR_FUZZ_OPS] = { FUZZ_OPS(FUZZ_OP_WEIGHT) };
#undef FUZZ_OP_WEIGHT

static void (*const fuzz_fns[NR_FUZZ_OPS])(struct fuzz_thread *t) = {
	[OP_OPEN] = op_open,
	[OP_DUP] = op_dup,
	[OP_CLOSE] = op_close,
	[OP_GET_INFO] = op_get_info,
	[OP_ATTACH] = op_attach,
	[OP_SET_BASE] = op_set_base,
	[OP_COMMIT] = op_commit,
	[OP_GET_STATS] = op_get_stats,
	[OP_CREATE] = op_create,
	[OP_SET_MSI] = op_set_msi,
	[OP_DESTROY] = op_destroy,
	[OP_CLEAR_MSI] = op_clear_msi,
	[OP_MASK] = op_mask,
	[OP_UNMASK] = op_unmask,
	[OP_CONSUME] = op_consume,
	[OP_RAW_IOCTL] = op_raw_ioctl,
	[OP_MMAP] = op_mmap,
	[OP_SHM_VMA] = op_shm_vma,
	[OP_SHM_GARBAGE] = op_shm_garbage,
	[OP_SHM_PROTO] = op_shm_proto,
	[OP_SCRATCH_GAME] = op_scratch_game,
	[OP_EFD_NEW] = op_efd_new,
	[OP_EFD_SIGNAL] = op_efd_signal,
	[OP_EFD_READ] = op_efd_read,
	[OP_EFD_POLL] = op_efd_poll,
	[OP_VM_NEW] = op_vm_new,
	[OP_KVM_ROUTING] = op_kvm_routing,
	[OP_KVM_IRQFD] = op_kvm_irqfd,
	[OP_KVM_MISC] = op_kvm_misc,
	[OP_FORK] = op_fork,
	[OP_FORK_SCM] = op_fork_scm,
	[OP_FORK_VMM] = op_fork_vmm,
};

void fuzz_one_op(struct fuzz_thread *t)
{
	uint32_t total = 0, r;
	int op;

	for (op = 0; op < NR_FUZZ_OPS; op++)
		total += fuzz_weights[op];
	r = rnd_below(t, total);
	for (op = 0; r >= fuzz_weights[op]; op++)
		r -= fuzz_weights[op];
	/* Children do not fork: their parent waits for them, bounded. */
	if (t->pool->depth && (op == OP_FORK || op == OP_FORK_SCM ||
			       op == OP_FORK_VMM))
		op = OP_EFD_SIGNAL;

	fuzz_fns[op](t);
}

/* --- threads --------------------------------------------------------------- */

/*
 * A fault inside GUARD() was the point (another thread unmapped the page,
 * or a write hit PROT_READ): jump out. Anywhere else it is a bug of ours:
 * die of it, so that the supervisor reports the crash.
 */
static void fuzz_fault(int sig, siginfo_t *si, void *uc)
{
	struct fuzz_thread *t = cur_thread;

	if (t && t->guard_on) {
		t->guard_on = 0;
		__atomic_fetch_add(&fuzz_stats->guarded_faults, 1,
				   __ATOMIC_RELAXED);
		siglongjmp(t->guard_jb, 1);
	}
	signal(sig, SIG_DFL);
}

static void *map_pages(size_t pages, int prot)
{
	void *p = mmap(NULL, pages * fuzz_page_size, prot,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * The argument area: two writable pages, one read-only page (a shared
 * memfd page, written through a second mapping) and one PROT_NONE page,
 * so that arguments can end exactly where reading or writing stops.
 */
static int thread_arg_area(struct fuzz_thread *t)
{
	long ps = fuzz_page_size;
	uint8_t *area;
	int mfd;

	area = map_pages(4, PROT_NONE);
	if (!area)
		return -errno;
	if (mmap(area, 2 * ps, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return -errno;
	mfd = memfd_create("irqroute-fuzz-ro", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, ps))
		return -errno;
	if (mmap(area + 2 * ps, ps, PROT_READ, MAP_SHARED | MAP_FIXED, mfd,
		 0) == MAP_FAILED)
		return -errno;
	t->arg_ro_w = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, mfd,
			   0);
	close(mfd);
	if (t->arg_ro_w == MAP_FAILED)
		return -errno;
	t->arg = area;
	t->arg_ro = area + 2 * ps;
	return 0;
}

int fuzz_thread_init(struct fuzz_thread *t, struct fuzz_pool *pool,
		     uint64_t seed, int id)
{
	memset(t, 0, sizeof(*t));
	t->pool = pool;
	t->rng = seed;
	t->id = id;
	t->maps_len = 64 * fuzz_page_size;
	t->build = map_pages(4, PROT_READ | PROT_WRITE);
	t->maps = map_pages(64, PROT_READ | PROT_WRITE);
	t->entries = map_pages(1, PROT_READ | PROT_WRITE);
	if (!t->build || !t->maps || !t->entries)
		return -ENOMEM;
	return thread_arg_area(t);
}

static void *fuzz_thread_fn(void *arg)
{
	struct fuzz_thread *t = arg;
	struct fuzz_pool *p = t->pool;

	cur_thread = t;
	while (!__atomic_load_n(&p->start, __ATOMIC_ACQUIRE))
		sched_yield();
	while (fuzz_now_ns() < p->deadline)
		fuzz_one_op(t);
	return NULL;
}

static void install_fault_guard(void)
{
	struct sigaction sa = {
		.sa_sigaction = fuzz_fault,
		/* SA_NODEFER: sigsetjmp(, 0) does not restore the mask. */
		.sa_flags = SA_SIGINFO | SA_NODEFER,
	};

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Run @nthreads threads on @pool until @deadline: all are created, and the
 * pool filled, before any operation runs (thread stacks are the last
 * memory of ours that gets mapped).
 */
int fuzz_run_threads(struct fuzz_pool *pool, uint64_t seed, int nthreads,
		     int first_ring, uint64_t deadline)
{
	struct fuzz_thread *threads;
	pthread_t tid[FUZZ_MAX_THREADS];
	pthread_attr_t attr;
	int i, ret;

	threads = map_pages((sizeof(*threads) * FUZZ_MAX_THREADS +
			     fuzz_page_size - 1) / fuzz_page_size,
			    PROT_READ | PROT_WRITE);
	if (!threads)
		return -ENOMEM;
	for (i = 0; i < nthreads; i++) {
		ret = fuzz_thread_init(&threads[i], pool, seed + i * 0x1000193,
				       first_ring + i);
		if (ret)
			return ret;
	}
	pool->deadline = deadline;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 1 << 20);
	for (i = 1; i < nthreads; i++) {
		ret = pthread_create(&tid[i], &attr, fuzz_thread_fn, &threads[i]);
		if (ret)
			return -ret;
	}
	cur_thread = &threads[0];
	pool_fill(&threads[0]);
	__atomic_store_n(&pool->start, 1, __ATOMIC_RELEASE);
	fuzz_thread_fn(&threads[0]);
	for (i = 1; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	return 0;
}

/* One epoch. Returns the exit status of the worker process. */
int worker_main(uint64_t seed, int nthreads, double seconds)
{
	struct fuzz_thread *t;
	struct fuzz_pool *pool;
	uint64_t deadline;
	pid_t oracle;
	int ret;

	install_fault_guard();
	pool = map_pages((sizeof(*pool) + fuzz_page_size - 1) / fuzz_page_size,
			 PROT_READ | PROT_WRITE);
	t = map_pages((sizeof(*t) + fuzz_page_size - 1) / fuzz_page_size,
		      PROT_READ | PROT_WRITE);
	if (!pool || !t)
		return 3;
	ret = pool_init(pool);
	if (ret) {
		fprintf(stderr, "fuzz: worker setup: %s\n", strerror(-ret));
		return 3;
	}
	deadline = fuzz_now_ns() + (uint64_t)(seconds * 1e9);
	/* Before the threads: fork() of a single-threaded process. */
	oracle = oracle_start(pool, seed, deadline);
	ret = fuzz_run_threads(pool, seed, nthreads, 0, deadline);
	if (ret) {
		fprintf(stderr, "fuzz: worker threads: %s\n", strerror(-ret));
		return 3;
	}
	oracle_reap(oracle);
	/* Half the epochs end by exit alone: release after the mm is gone. */
	if (fuzz_thread_init(t, pool, seed ^ 0xdead, 0) == 0 && chance(t, 50))
		pool_teardown(t);
	return 0;
}
