/* SPDX-License-Identifier: GPL-2.0 */
/*
 * irqroute-fuzz: random sequences of everything a process can do to
 * /dev/irqroute and the KVM VMs behind it, from several threads at once.
 * A robustness fuzzer: no vCPU is created, so nothing checks that an
 * interrupt reaches a guest, and the racing threads leave no order to
 * check the mask and pending bits against; the one model of them is the
 * pending-bit oracle (oracle.c), a single-threaded process of its own.
 *
 * Processes: the supervisor (irqroute-fuzz.c) forks one worker per epoch
 * and watches it; the worker (worker.c) is a VMM whose threads share a
 * small pool of objects (pool.c: irqroute files, VMs, eventfds, mappings)
 * so that their operations race; workers fork children of their own
 * (fork.c) and one oracle. The operations: ioctls (call.c, ioctls.c),
 * memory (memory.c), eventfds and KVM (kvm.c). Counters live in one
 * shared mapping (stats.c) that survives the death of any process.
 *
 * An error return is never a failure: most operations are meant to fail.
 * A failure is something the contract says cannot happen (fuzz_impossible),
 * a crash of the fuzzer, or a hang.
 */
#ifndef IRQROUTE_FUZZ_H
#define IRQROUTE_FUZZ_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/irqroute.h>
#include <linux/kvm.h>

#define FUZZ_MAX_THREADS	4
/* Rings of the last operations: one per worker thread, children's, oracle's. */
#define FUZZ_ORACLE_RING	(2 * FUZZ_MAX_THREADS)
#define FUZZ_NR_RINGS		(FUZZ_ORACLE_RING + 1)
#define FUZZ_RING_LEN		32

/* The pool: small on purpose, so that threads keep hitting each other. */
#define FUZZ_NR_IRQ		4
#define FUZZ_NR_VM		3
#define FUZZ_NR_EFD		16
#define FUZZ_NR_SHM		6

/*
 * The arena: a reserved range where every MAP_FIXED of the fuzzer goes,
 * so that it can never unmap its own memory. One slot of pages per shared
 * page mapping, then one scratch area (IRQROUTE_ATTACH's scratch) per
 * irqroute slot, then a spare one that a moved scratch area goes to.
 */
#define FUZZ_SHM_SLOT_PAGES	4
#define FUZZ_SCRATCH_PAGES	(IRQROUTE_SCRATCH_SIZE / 4096)
#define FUZZ_ARENA_PAGES	(FUZZ_NR_SHM * FUZZ_SHM_SLOT_PAGES + \
				 (FUZZ_NR_IRQ + 1) * FUZZ_SCRATCH_PAGES)

/* errno histogram buckets: 0 is success, the last one "errno >= that". */
#define FUZZ_NR_ERRNO		134

/* Operation kinds and their relative weights. */
#define FUZZ_OPS(X)				\
	X(OPEN, 15)				\
	X(DUP, 5)				\
	X(CLOSE, 20)				\
	X(GET_INFO, 10)				\
	X(ATTACH, 20)				\
	X(SET_BASE, 25)				\
	X(COMMIT, 40)				\
	X(GET_STATS, 15)			\
	X(CREATE, 80)				\
	X(SET_MSI, 90)				\
	X(DESTROY, 40)				\
	X(CLEAR_MSI, 30)			\
	X(MASK, 40)				\
	X(UNMASK, 40)				\
	X(CONSUME, 40)				\
	X(RAW_IOCTL, 60)			\
	X(MMAP, 20)				\
	X(SHM_VMA, 12)				\
	X(SHM_GARBAGE, 20)			\
	X(SHM_PROTO, 60)			\
	X(SCRATCH_GAME, 4)			\
	X(EFD_NEW, 20)				\
	X(EFD_SIGNAL, 150)			\
	X(EFD_READ, 15)				\
	X(EFD_POLL, 5)				\
	X(VM_NEW, 3)				\
	X(KVM_ROUTING, 8)			\
	X(KVM_IRQFD, 8)				\
	X(KVM_MISC, 10)				\
	X(FORK, 3)				\
	X(FORK_SCM, 2)				\
	X(FORK_VMM, 1)				\
	X(ORACLE, 0)	/* never picked: the oracle's own steps */

#define FUZZ_OP_ENUM(name, w) OP_##name,
enum fuzz_op { FUZZ_OPS(FUZZ_OP_ENUM) NR_FUZZ_OPS };
#undef FUZZ_OP_ENUM

/* One line of a ring: what an operation was called with, and its result. */
struct fuzz_ring_entry {
	uint32_t op;
	int32_t fd;
	uint64_t a;
	uint64_t b;
	int32_t ret;
	uint32_t pid;
};

struct fuzz_ring {
	uint32_t head;
	struct fuzz_ring_entry e[FUZZ_RING_LEN];
};

#define FUZZ_NR_MSGS		8
#define FUZZ_MSG_LEN		240

/* The shared mapping: counters of every process of the run. */
struct fuzz_stats {
	uint64_t ops[NR_FUZZ_OPS];
	uint64_t err[NR_FUZZ_OPS][FUZZ_NR_ERRNO];
	uint64_t total;
	uint64_t impossible;
	char msg[FUZZ_NR_MSGS][FUZZ_MSG_LEN];
	uint64_t children;
	uint64_t children_killed;
	uint64_t guarded_faults;
	uint64_t max_delivered;
	uint64_t max_signals;
	uint64_t max_pended;
	uint64_t max_feedback;
	uint64_t max_deferred;
	uint64_t max_commits;
	uint64_t epoch;
	uint64_t oracle_checks;		/* steps the oracle checked */
	uint64_t oracle_pending;	/* ...while a route was pending */
	uint64_t oracle_resyncs;	/* model reset after ENOMEM/EAGAIN */
	struct fuzz_ring ring[FUZZ_NR_RINGS];
};

extern struct fuzz_stats *fuzz_stats;
extern int fuzz_trace;
extern uint64_t fuzz_seed;

/* One irqroute file of the pool, and what this process knows of it. */
struct fuzz_irq {
	int fd;
	int lock;		/* writers of the record below */
	uint32_t seq;		/* odd while the record changes */
	bool irqroute;		/* @fd is known to be an irqroute file */
	bool attached;		/* attached, by @owner */
	pid_t owner;		/* -1: by another process */
	uint32_t gsi_base;
	uint32_t nr_routes;
	uint64_t live[IRQROUTE_MAX_ROUTES / 64];	/* hint only */
};

/* A consistent view of a struct fuzz_irq, valid while seq is unchanged. */
struct fuzz_irq_snap {
	struct fuzz_irq *slot;	/* NULL: the fd is not from the irq pool */
	int fd;
	uint32_t seq;
	bool stable;
	bool irqroute;
	bool attached;
	pid_t owner;
	uint32_t gsi_base;
	uint32_t nr_routes;
};

enum fuzz_vm_kind { VM_IRQCHIP, VM_SPLIT, VM_BARE };

struct fuzz_vm {
	int fd;
	int kind;
	bool attached;		/* hint */
};

enum fuzz_efd_role { EFD_FREE, EFD_TRIGGER, EFD_KVM_IRQFD, EFD_PRIVATE };

struct fuzz_efd {
	int fd;
	int role;		/* hint */
};

struct fuzz_shm {
	int mapped;		/* 1: a shared page is (probably) there */
	int irq;		/* the pool slot it was mapped from */
	uint32_t seq;		/* that slot's seq then */
};

struct fuzz_pool {
	struct fuzz_irq irq[FUZZ_NR_IRQ];
	struct fuzz_vm vm[FUZZ_NR_VM];
	struct fuzz_efd efd[FUZZ_NR_EFD];
	struct fuzz_shm shm[FUZZ_NR_SHM];
	uint8_t *arena;
	int kvm;		/* /dev/kvm */
	int devnull;
	int depth;		/* 0: the worker, 1: a forked child */
	uint64_t deadline;	/* CLOCK_MONOTONIC ns */
	int start;		/* threads wait for it */
	int scratch_lock;	/* one scratch game at a time */
};

/* One thread's state. Its buffers are its own. */
struct fuzz_thread {
	struct fuzz_pool *pool;
	uint64_t rng;
	int id;			/* ring */
	int ring_slot;		/* ring entry of the op in progress */
	uint8_t *arg;		/* two writable pages, then... */
	uint8_t *arg_ro;	/* ...a read-only page, then a PROT_NONE one */
	uint8_t *arg_ro_w;	/* writable alias of arg_ro */
	uint8_t *build;		/* where argument bytes are put together */
	char *maps;		/* /proc/self/maps */
	size_t maps_len;
	struct kvm_irq_routing_entry *entries;	/* 64 entries */
	struct irqroute_stats last_stats[FUZZ_NR_IRQ];
	uint32_t last_stats_seq[FUZZ_NR_IRQ];
	sigjmp_buf guard_jb;
	volatile int guard_on;
};

extern long fuzz_page_size;

/* stats.c */
int fuzz_stats_init(void);
void fuzz_op_begin(struct fuzz_thread *t, int op, int fd, uint64_t a,
		   uint64_t b);
void fuzz_op_end(struct fuzz_thread *t, int op, int ret);
void fuzz_impossible(struct fuzz_thread *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void fuzz_note_stats(const struct irqroute_stats *st);
void fuzz_print_rings(void);
void fuzz_print_summary(double seconds);
const char *fuzz_op_name(int op);
const char *fuzz_errno_name(int e);
uint64_t fuzz_now_ns(void);

/* worker.c */
int worker_main(uint64_t seed, int nthreads, double seconds);
int fuzz_run_threads(struct fuzz_pool *pool, uint64_t seed, int nthreads,
		     int first_ring, uint64_t deadline);
void fuzz_one_op(struct fuzz_thread *t);
int fuzz_thread_init(struct fuzz_thread *t, struct fuzz_pool *pool,
		     uint64_t seed, int id);

/* pool.c */
uint64_t rnd(struct fuzz_thread *t);
uint32_t rnd_below(struct fuzz_thread *t, uint32_t n);
bool chance(struct fuzz_thread *t, uint32_t percent);
int pool_init(struct fuzz_pool *p);
void pool_teardown(struct fuzz_thread *t);
void op_open(struct fuzz_thread *t);
void op_dup(struct fuzz_thread *t);
void op_close(struct fuzz_thread *t);
void pool_after_fork(struct fuzz_pool *pool);
int pool_fill(struct fuzz_thread *t);
int fd_lottery(struct fuzz_thread *t);
int pick_efd(struct fuzz_thread *t, int prefer_role, struct fuzz_efd **slotp);
struct fuzz_vm *pick_vm(struct fuzz_thread *t, bool want_irqchip);
void irq_snap(struct fuzz_thread *t, struct fuzz_irq *slot,
	      struct fuzz_irq_snap *s);
bool irq_snap_valid(const struct fuzz_irq_snap *s);
void pick_irq(struct fuzz_thread *t, bool want_attached,
	      struct fuzz_irq_snap *s);
void irq_slot_set_fd(struct fuzz_irq *slot, int fd,
		     const struct fuzz_irq *copy);
void irq_slot_close(struct fuzz_irq *slot);
bool irq_slot_attached(struct fuzz_irq *slot, const struct fuzz_irq_snap *s,
		       uint32_t gsi_base, uint32_t nr_routes);
void irq_live_set(struct fuzz_irq *slot, uint32_t seq, uint32_t index,
		  bool live);
void slot_close_fd(int *fdp);
void fd_table_lock(void);
void fd_table_unlock(void);
pid_t fuzz_fork_locked(void);
void slot_put_fd(int *fdp, int fd);
int slot_fd(const int *fdp);

/* The fault guard around accesses to memory another thread may unmap. */
#define GUARD(t, ...)							\
	do {								\
		if (!sigsetjmp((t)->guard_jb, 0)) {			\
			(t)->guard_on = 1;				\
			__VA_ARGS__;					\
		}							\
		(t)->guard_on = 0;					\
	} while (0)

/* call.c: one ioctl of /dev/irqroute, on the struct built in t->build */
struct fuzz_call {
	int op;
	unsigned long cmd;
	uint32_t ssize;		/* sizeof the struct */
	uint32_t min;		/* its first version */
	bool bad_input;		/* flags or fields that must make it fail */
	bool clean;		/* exact size and request, normal placement */
	/* out */
	uint32_t size;
	bool out_valid;		/* the struct the kernel wrote is in @out */
	bool checked;		/* it was an irqroute file, unchanged */
};

int fuzz_ioctl(struct fuzz_thread *t, struct fuzz_irq_snap *s,
	       struct fuzz_call *c, void *out);
uint32_t pick_flags(struct fuzz_thread *t, uint32_t valid);
uint32_t pick_reserved(struct fuzz_thread *t);
void op_raw_ioctl(struct fuzz_thread *t);

/* ioctls.c */
void op_get_info(struct fuzz_thread *t);
void op_attach(struct fuzz_thread *t);
void op_set_base(struct fuzz_thread *t);
void op_commit(struct fuzz_thread *t);
void op_get_stats(struct fuzz_thread *t);
void op_create(struct fuzz_thread *t);
void op_set_msi(struct fuzz_thread *t);
void op_destroy(struct fuzz_thread *t);
void op_clear_msi(struct fuzz_thread *t);
void op_mask(struct fuzz_thread *t);
void op_unmask(struct fuzz_thread *t);
void op_consume(struct fuzz_thread *t);
int fuzz_attach(struct fuzz_thread *t, struct fuzz_irq *slot, int vm_fd);
int fuzz_create(struct fuzz_thread *t, struct fuzz_irq *slot, int trigger);
int fuzz_set_msi(struct fuzz_thread *t, struct fuzz_irq *slot, uint32_t idx);

/* memory.c */
void op_mmap(struct fuzz_thread *t);
void op_shm_vma(struct fuzz_thread *t);
void op_shm_garbage(struct fuzz_thread *t);
void op_shm_proto(struct fuzz_thread *t);
void op_scratch_game(struct fuzz_thread *t);
uint8_t *scratch_addr(struct fuzz_pool *pool, int i);
int fuzz_map_shm(struct fuzz_thread *t, struct fuzz_irq *slot, int shm);
uint8_t *shm_addr(struct fuzz_pool *pool, int shm);
int arena_reserve(struct fuzz_pool *pool);

/* kvm.c */
void op_efd_new(struct fuzz_thread *t);
void op_efd_signal(struct fuzz_thread *t);
void op_efd_read(struct fuzz_thread *t);
void op_efd_poll(struct fuzz_thread *t);
void op_vm_new(struct fuzz_thread *t);
void op_kvm_routing(struct fuzz_thread *t);
void op_kvm_irqfd(struct fuzz_thread *t);
void op_kvm_misc(struct fuzz_thread *t);
int fuzz_vm_create(struct fuzz_thread *t, struct fuzz_vm *slot, int kind);
int fuzz_efd_create(struct fuzz_thread *t, struct fuzz_efd *slot);

/* fork.c */
void op_fork(struct fuzz_thread *t);
void op_fork_scm(struct fuzz_thread *t);
void op_fork_vmm(struct fuzz_thread *t);

/* oracle.c */
pid_t oracle_start(struct fuzz_pool *pool, uint64_t seed, uint64_t deadline);
void oracle_reap(pid_t pid);

#endif /* IRQROUTE_FUZZ_H */
