// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-fuzz: the counters shared by every process of a run, the rings
 * of last operations (printed after a hang or a crash), and the summary.
 *
 * Everything here is written with atomics from many processes and read
 * by the supervisor, also after a worker was killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

struct fuzz_stats *fuzz_stats;
int fuzz_trace;
uint64_t fuzz_seed;

#define FUZZ_OP_NAME(name, w) #name,
static const char *const fuzz_op_names[] = { FUZZ_OPS(FUZZ_OP_NAME) };
#undef FUZZ_OP_NAME

const char *fuzz_op_name(int op)
{
	return op >= 0 && op < NR_FUZZ_OPS ? fuzz_op_names[op] : "?";
}

const char *fuzz_errno_name(int e)
{
	const char *name = e ? strerrorname_np(e) : "ok";

	return name ?: "E?";
}

uint64_t fuzz_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int fuzz_stats_init(void)
{
	/* Shared, and inherited by every worker and child. */
	fuzz_stats = mmap(NULL, sizeof(*fuzz_stats), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return fuzz_stats == MAP_FAILED ? -errno : 0;
}

static void add(uint64_t *p, uint64_t v)
{
	__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

void fuzz_op_begin(struct fuzz_thread *t, int op, int fd, uint64_t a,
		   uint64_t b)
{
	struct fuzz_ring *r = &fuzz_stats->ring[t->id];
	struct fuzz_ring_entry *e;
	uint32_t h;

	/* Children share their ring with siblings: claim the entry. */
	h = __atomic_fetch_add(&r->head, 1, __ATOMIC_RELAXED);
	e = &r->e[h % FUZZ_RING_LEN];
	e->op = op;
	e->fd = fd;
	e->a = a;
	e->b = b;
	e->ret = 1;	/* still running */
	e->pid = getpid();
	t->ring_slot = (int)(h % FUZZ_RING_LEN);
	if (fuzz_trace)
		dprintf(2, "fuzz: [%d/%d] %s fd=%d a=%#llx b=%#llx\n",
			getpid(), t->id, fuzz_op_name(op), fd,
			(unsigned long long)a, (unsigned long long)b);
}

void fuzz_op_end(struct fuzz_thread *t, int op, int ret)
{
	struct fuzz_ring *r = &fuzz_stats->ring[t->id];
	int e = ret < 0 ? -ret : 0;

	if (e >= FUZZ_NR_ERRNO)
		e = FUZZ_NR_ERRNO - 1;
	r->e[t->ring_slot].ret = ret;
	add(&fuzz_stats->ops[op], 1);
	add(&fuzz_stats->err[op][e], 1);
	add(&fuzz_stats->total, 1);
	if (fuzz_trace)
		dprintf(2, "fuzz: [%d/%d] %s -> %d %s\n", getpid(), t->id,
			fuzz_op_name(op), ret, ret < 0 ? fuzz_errno_name(-ret) : "");
}

static void print_ring(int out, int i);

/*
 * Something the contract says cannot happen. Printed at once (the kernel
 * may not let us print later) and kept for the summary.
 */
void fuzz_impossible(struct fuzz_thread *t, const char *fmt, ...)
{
	char buf[FUZZ_MSG_LEN];
	uint64_t n;
	va_list ap;
	int len;

	len = snprintf(buf, sizeof(buf), "pid %d thread %d epoch %llu: ",
		       getpid(), t ? t->id : -1,
		       (unsigned long long)fuzz_stats->epoch);
	va_start(ap, fmt);
	vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
	va_end(ap);
	dprintf(2, "fuzz: IMPOSSIBLE: %s\n", buf);
	n = __atomic_fetch_add(&fuzz_stats->impossible, 1, __ATOMIC_RELAXED);
	if (n < FUZZ_NR_MSGS)
		memcpy(fuzz_stats->msg[n], buf, sizeof(buf));
	/* What led there, while it is still in the ring. */
	if (n < 2 && t)
		print_ring(2, t->id);
}

static void atomic_max(uint64_t *p, uint64_t v)
{
	uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (old < v && !__atomic_compare_exchange_n(p, &old, v, false,
						       __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

/* What GET_STATS showed: proof that signals really went through. */
void fuzz_note_stats(const struct irqroute_stats *st)
{
	atomic_max(&fuzz_stats->max_delivered, st->delivered);
	atomic_max(&fuzz_stats->max_signals, st->signals);
	atomic_max(&fuzz_stats->max_pended, st->pended);
	atomic_max(&fuzz_stats->max_feedback, st->feedback);
	atomic_max(&fuzz_stats->max_deferred, st->deferred);
	atomic_max(&fuzz_stats->max_commits, st->commits);
}

static void print_ring(int out, int i)
{
	struct fuzz_ring *r = &fuzz_stats->ring[i];
	uint32_t head = r->head, j;

	if (!head)
		return;
	dprintf(out, "# last operations of ring %d (%s):\n", i,
		i < FUZZ_MAX_THREADS ? "worker thread" :
		i == FUZZ_ORACLE_RING ? "oracle" : "children");
	for (j = head > FUZZ_RING_LEN ? head - FUZZ_RING_LEN : 0; j < head;
	     j++) {
		struct fuzz_ring_entry *e = &r->e[j % FUZZ_RING_LEN];

		dprintf(out, "#   pid %u %-12s fd=%d a=%#llx b=%#llx -> %s\n",
			e->pid, fuzz_op_name(e->op), e->fd,
			(unsigned long long)e->a, (unsigned long long)e->b,
			e->ret == 1 ? "(running)" :
			e->ret < 0 ? fuzz_errno_name(-e->ret) : "ok");
	}
}

void fuzz_print_rings(void)
{
	int i;

	fflush(stdout);
	for (i = 0; i < FUZZ_NR_RINGS; i++)
		print_ring(1, i);
}

/* One line per kind: count, then the errnos from most to least common. */
void fuzz_print_summary(double seconds)
{
	uint64_t total = fuzz_stats->total;
	int op, e;

	printf("# %-12s %10s  %s\n", "operation", "count", "results");
	for (op = 0; op < NR_FUZZ_OPS; op++) {
		uint64_t done[FUZZ_NR_ERRNO];
		char line[512];
		int len = 0;

		if (!fuzz_stats->ops[op])
			continue;
		memcpy(done, fuzz_stats->err[op], sizeof(done));
		for (;;) {
			uint64_t best = 0;
			int which = -1;

			for (e = 0; e < FUZZ_NR_ERRNO; e++) {
				if (done[e] > best) {
					best = done[e];
					which = e;
				}
			}
			if (which < 0 || len > (int)sizeof(line) - 40)
				break;
			len += snprintf(line + len, sizeof(line) - len,
					" %s:%llu", fuzz_errno_name(which),
					(unsigned long long)best);
			done[which] = 0;
		}
		printf("# %-12s %10llu %s\n", fuzz_op_name(op),
		       (unsigned long long)fuzz_stats->ops[op], line);
	}
	printf("# children forked %llu (killed %llu), guarded faults %llu\n",
	       (unsigned long long)fuzz_stats->children,
	       (unsigned long long)fuzz_stats->children_killed,
	       (unsigned long long)fuzz_stats->guarded_faults);
	printf("# largest GET_STATS counters seen: signals %llu, delivered %llu, pended %llu, feedback %llu, deferred %llu, commits %llu\n",
	       (unsigned long long)fuzz_stats->max_signals,
	       (unsigned long long)fuzz_stats->max_delivered,
	       (unsigned long long)fuzz_stats->max_pended,
	       (unsigned long long)fuzz_stats->max_feedback,
	       (unsigned long long)fuzz_stats->max_deferred,
	       (unsigned long long)fuzz_stats->max_commits);
	printf("# pending-bit oracle: %llu steps checked, %llu with a route pending, %llu resyncs after ENOMEM/EAGAIN\n",
	       (unsigned long long)fuzz_stats->oracle_checks,
	       (unsigned long long)fuzz_stats->oracle_pending,
	       (unsigned long long)fuzz_stats->oracle_resyncs);
	printf("# total %llu operations in %.1f s: %.0f ops/s\n",
	       (unsigned long long)total, seconds,
	       seconds > 0 ? total / seconds : 0.0);
	fflush(stdout);
}
