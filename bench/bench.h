/* SPDX-License-Identifier: GPL-2.0 */
/*
 * irqroute-bench: shared definitions of the benchmark's parts.
 *
 * Every measurement compares irqroute with the stock KVM path a VMM uses
 * for the same job, in the same boot, and keeps medians: the L1 is an
 * emulated (TCG) machine shared with other work, so only ratios measured
 * side by side mean anything. Nothing here is a pass/fail threshold; the
 * program fails only when an operation fails (an ioctl error, a lost or
 * duplicated interrupt on an irqroute route).
 */
#ifndef IRQROUTE_BENCH_H
#define IRQROUTE_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "rtenv.h"

/* The main attachment's route range (why 4000 fit: irqroute-bench.c). */
#define BENCH_GSI_BASE		64
/* A base route with a raw KVM irqfd: the stock path, same VM. */
#define BENCH_RAW_GSI		40
#define BENCH_MAX_N		4000

/* Vectors on vCPU 0 (scale.c uses 0x30..0xd0 for its routes). */
#define VEC_RAW			0xd8	/* BENCH_RAW_GSI's MSI */
#define VEC_A			0x50	/* routes, set_msi "before" */
#define VEC_B			0x51	/* set_msi's "after" */
#define VEC_C			0x52	/* the second route of two senders */
#define VEC_RAW2		0xd9	/* BENCH_RAW_GSI2's MSI */
/* The second raw irqfd of the two-sender row. */
#define BENCH_RAW_GSI2		41

#define BENCH_MAX_NS		4

struct bench_cfg {
	bool quick;
	const char *only;		/* IRQROUTE_BENCH_ONLY: one part */
	unsigned int iters;		/* fast operations */
	unsigned int slow_iters;	/* table updates, delivery */
	unsigned int budget_s;		/* per measurement */
	unsigned int ns[BENCH_MAX_NS];	/* route counts, ascending */
	unsigned int nr_ns;
	unsigned int singles_n;		/* "reprogram all N" row */
	unsigned int tput_ms;		/* flood per side */
	unsigned int probes;		/* loss probes per side */
	unsigned int scale_vms, scale_routes;
};

extern struct bench_cfg cfg;

/* ---- failing, timing, samples (util.c) ---- */

void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...);
/* @ret is 0 or an errno (either sign); anything else fails with @what. */
void check(int ret, const char *what);
/* Progress on stderr: the console shows where a slow run is. */
void __attribute__((format(printf, 1, 2))) note(const char *fmt, ...);
uint64_t now_ns(void);
void spin_ns(uint64_t ns);

struct sample {
	uint64_t *ns;
	unsigned int n, max;
	uint64_t deadline;
};

/* Up to @max samples; after 10, stop once the budget (cfg.budget_s) is used. */
void s_init(struct sample *s, unsigned int max);
void s_init_budget(struct sample *s, unsigned int max, unsigned int budget_s);
bool s_more(const struct sample *s);
void s_add(struct sample *s, uint64_t ns);
/* Median in microseconds, sample count in @n; frees the samples. */
double s_median_us(struct sample *s, unsigned int *n);
/*
 * Median of the differences of interleaved pairs, @a[k] - @b[k], in
 * microseconds: what one path costs more than the other, sample by
 * sample. Call it before s_median_us() frees the samples.
 */
double s_paired_diff_us(const struct sample *a, const struct sample *b);

/* ---- the report (report.c) ---- */

/* The summary rows, one per line of the issue, in this order. */
enum row_id {
	ROW_MASK_PAGE,
	ROW_MASK_IOCTL,
	ROW_SET_MSI,		/* one per N */
	ROW_BATCH = ROW_SET_MSI + BENCH_MAX_NS,
	ROW_DELIVERY,
	ROW_DELIVERY_EDU,
	ROW_TPUT,
	ROW_MEM_ROUTE,
	ROW_MEM_ATTACH,
	ROW_SCALE_SETUP,
	ROW_SCALE_SET_MSI,
	ROW_SCALE_DELIVERY,
	ROW_GROWTH,
	/* issue 14: after the rows the issue 12 runs numbered */
	ROW_UNMASK_PENDING,
	ROW_UNMASK_PENDING_COMMITS,
	/* issue 16: a full range, no x86 defaults, no base routes */
	ROW_FULL_SAME_VM,
	ROW_FULL_RAW_VM,
	/* issue 16: QEMU's mask path, the second stock comparator */
	ROW_MASK_PAGE_QEMU,
	ROW_MASK_IOCTL_QEMU,
	/* issue 16: two senders on two CPUs, two routes */
	ROW_TPUT_TWO,
	NR_ROWS,
};

enum target_kind {
	TGT_NONE,
	TGT_RATIO_MAX,		/* irqroute/stock <= target */
	TGT_IR_MAX,		/* the irqroute value <= target */
	TGT_DIFF_MAX,		/* irqroute - stock <= target */
};

struct row {
	bool set;
	char op[112];
	const char *unit;
	double ir, stock;	/* stock < 0: no stock counterpart */
	unsigned int ir_n, stock_n;
	enum target_kind tgt;
	double target;
	const char *target_text;
	char note[160];
};

struct row *row_set(enum row_id id, const char *unit, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void row_target(struct row *r, enum target_kind kind, double target,
		const char *text);

/* Details sections, printed after the summary in the order added. */
void __attribute__((format(printf, 1, 2))) detail(const char *fmt, ...);

/* One point of the cost-vs-N plot (microseconds). */
struct costn {
	unsigned int n;
	double set_msi, push, push_bare, batch, commit;
	double paired;		/* set_msi - push, paired */
	double refused;		/* the same, both refused: a retarget's own */
	double own;		/* the module's own time per rebuilding commit */
	double empty;		/* a commit with nothing staged */
};
void costn_add(const struct costn *c);

void report_print(void);
/* The program's verdict: failures that were recorded, not timed. */
void __attribute__((format(printf, 1, 2))) report_problem(const char *fmt, ...);
int report_problems(void);

/* ---- kernel memory (mem.c) ---- */

struct mem_snap;
/* Folds per-CPU counters, then reads /proc/meminfo and /proc/slabinfo. */
struct mem_snap *mem_snap(void);
void mem_snap_free(struct mem_snap *s);
/* Byte deltas of /proc/meminfo fields between two snapshots. */
struct mem_delta {
	double slab, sunreclaim, vmalloc, percpu, memfree_drop;
};
struct mem_delta mem_diff(const struct mem_snap *a, const struct mem_snap *b);
/* A details table of the slab caches that grew by >= @n / 2 objects. */
void mem_detail_caches(const char *title, const struct mem_snap *a,
		       const struct mem_snap *b, unsigned int n);
/* The same for vmalloc areas, by the function that allocated them. */
void mem_detail_vmalloc(const char *title, const struct mem_snap *a,
			const struct mem_snap *b, unsigned int n);

/* ---- raw KVM helpers (kvm.c) ---- */

int kvm_irqfd(int vm_fd, int efd, uint32_t gsi, uint32_t flags);
/* A new eventfd bound with KVM_IRQFD to @gsi; fails the program on error. */
int kvm_irqfd_new(int vm_fd, uint32_t gsi);
/*
 * The table irqroute commits for @n routes, built the stock way: KVM's
 * x86 defaults, with @base_route one base MSI at BENCH_RAW_GSI, then @n
 * MSIs from @gsi_base, all to VEC_A; kvm_table_set_vec() changes route
 * @i's vector. A push of the table the module has committed keeps the
 * module's view of KVM's table true, and costs what any push costs: KVM
 * rebuilds the whole table and never compares it with the old one.
 */
struct kvm_irq_routing *kvm_table(uint32_t gsi_base, unsigned int n,
				  bool base_route);
/* @n MSIs from @gsi_base to VEC_A, nothing else (no defaults, no base). */
struct kvm_irq_routing *kvm_table_msis(uint32_t gsi_base, unsigned int n);
void kvm_table_set_vec(struct kvm_irq_routing *t, unsigned int n,
		       unsigned int i, unsigned int vec);
int kvm_push(int vm_fd, struct kvm_irq_routing *t);
void kvm_x2apic_ids(int vm_fd);
/* Waits until @g's count of @vector reaches @want; false on timeout. */
bool wait_count(const struct guest *g, unsigned int vector, uint32_t want);
/* Spins until @vector's count moves past @before; ns from @t0, 0 = timeout. */
uint64_t spin_delivery(const struct guest *g, unsigned int vector,
		       uint32_t before, uint64_t t0);

/* ---- the parts ---- */

struct bench {
	struct guest *g;		/* the irqroute VM */
	struct irqroute *ir;
	struct irqroute_route *r[BENCH_MAX_N];
	unsigned int nr_r;
	int raw_efd;			/* raw irqfd on g, BENCH_RAW_GSI */
	struct guest *gs;		/* the second VM (floor, memory) */
	int stock_efd[BENCH_MAX_N];
	unsigned int nr_stock;
};

/*
 * The module's own time per commit on an attachment with @n routes, one
 * base route and KVM's x86 defaults, without KVM's grace period (bimodal
 * under TCG, it drowns the difference): a commit KVM refuses (a base
 * route of an unknown type) against a raw push of the same refused table,
 * paired; median of the differences, in microseconds. The two medians
 * go to @ir_us and @stock_us unless NULL.
 */
double module_share(int vm_fd, struct irqroute *ir, unsigned int n,
		    double *ir_us, double *stock_us);

void bench_mask(struct bench *b);
void bench_delivery(struct bench *b);
void bench_delivery_edu(struct bench *b);
void bench_throughput(struct bench *b);
void bench_throughput_two(struct bench *b);
void bench_unmask(struct bench *b);
void bench_routing(struct bench *b);
void bench_scale(void);
void bench_full_range(void);

/*
 * ftrace's function_graph around a few calls (ftrace.c), when
 * IRQROUTE_BENCH_TRACE=<threshold, us> is set (0 too): every function
 * of the calling thread's ioctl system calls that took at least the
 * threshold, on stderr as "TRACE <label>: <line>", and a summary.
 */
bool ftrace_wanted(void);
bool ftrace_auto(double ratio);
void ftrace_start(void);
void ftrace_mark(const char *label);
void ftrace_stop(void);

#endif /* IRQROUTE_BENCH_H */
