// SPDX-License-Identifier: GPL-2.0
/*
 * Every allocation and user-copy failure point of attach, route create,
 * set_msi, clear_msi, commit, set_base_routes, destroy, consume_pending
 * and mmap, one at a time (like the kernel's iommufd_fail_nth):
 * for n = 1, 2, ... the n-th fault-injection site the operation reaches in
 * this thread fails (/proc/thread-self/fail-nth), until the operation
 * completes without reaching an n-th site. Each injected failure must
 * fail the operation cleanly: a documented errno, nothing half-done (no
 * attachment, no route, no table mapping, no committed change), and the
 * same operation works right after; an operation that returns 0 with a
 * failure injected must have done all of its job (what reached KVM is
 * read from two vCPUs' local APICs, not from irqroute's counters). The
 * number of sites each walk reaches is asserted. KASAN, kmemleak and lockdep in the
 * debug kernel watch the error paths while this runs.
 *
 * Needs a kernel with CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC
 * and DEBUG_FS (the debug kernel; Debian's kernels have none of them), so
 * it is listed in TESTS.faults and runs only where fail-nth exists. There,
 * anything missing fails the test.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"

#include "irqroute_raw.h"
#include "vmfd.h"

#define GSI_BASE	100
#define NR_ROUTES	8
/* No operation here comes near this many fault sites. */
#define MAX_NTH		20000
/*
 * The fault sites each walk reaches under the debug kernel (Debian's
 * 6.1 source with scripts/build-debug-kernel.sh's configuration), as
 * "lowest, highest". The allocations and user copies of a call are
 * fixed, but whether an allocation has to refill its slab from the page
 * allocator (one more site) depends on what ran before: boots saw
 * set_base_routes reach 14 and 15, set_msi and commit 9 and 11, mmap 11
 * and 12, commit without a scratch area 43 and 45 (the mapping made for
 * the call, whose page faults absorb most failures). The bounds are the
 * lowest count seen, less one, and four above the highest; consume_pending
 * has only its two user copies. Attach reaches 16 since its counters are
 * per-CPU.
 */
#define SITES_ATTACH		15, 20
#define SITES_ROUTE_CREATE	12, 17
#define SITES_SET_MSI		8, 15
#define SITES_CLEAR_MSI		3, 8
#define SITES_COMMIT		8, 15
#define SITES_COMMIT_NO_SCRATCH	42, 49
#define SITES_SET_BASE_ROUTES	13, 18
#define SITES_DESTROY		4, 9
#define SITES_CONSUME_PENDING	2, 2
#define SITES_MMAP		10, 15
/* A base route: IOAPIC pin 9, outside the routes' range. */
#define BASE_GSI	40
/* The route's MSI (APIC ID 0) and the one set_msi moves it to (APIC 1). */
#define MSI_ADDR	0xfee00000u
#define MSI_VEC		0x40u
#define MSI2_ADDR	0xfee01000u
#define MSI2_VEC	0x41u

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

/*
 * Let failslab and fail_page_alloc fail every kind of allocation the
 * module makes (by default they skip sleeping ones), quietly.
 */
static int faults_setup(void)
{
	static const char *const settings[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
		{ "/sys/kernel/debug/fail_usercopy/verbose", "0" },
	};
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(settings); i++) {
		ret = write_str(settings[i][0], settings[i][1]);
		if (ret) {
			fprintf(stderr, "%s: %s\n", settings[i][0],
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int fail_nth_fd = -1;

static void fail_nth_arm(unsigned int nth)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", nth);

	if (pwrite(fail_nth_fd, buf, len, 0) != len)
		abort();
}

/*
 * Disarms; true if the armed failure was injected. Reading and disarming
 * are fault sites themselves (their user copies): a count the operation
 * left over may run out right there, which means the operation did not
 * reach site n.
 */
static bool fail_nth_disarm(void)
{
	char buf[16] = "";
	bool hit;
	ssize_t n;

	n = pread(fail_nth_fd, buf, sizeof(buf) - 1, 0);
	if (n < 0 && errno == EFAULT)
		hit = false;
	else if (n <= 0)
		abort();
	else
		hit = strtoul(buf, NULL, 10) == 0;
	if (pwrite(fail_nth_fd, "0", 1, 0) != 1 &&
	    pwrite(fail_nth_fd, "0", 1, 0) != 1)
		abort();
	return hit;
}

/* Errnos an injected allocation or user-copy failure may surface as. */
static bool injected_errno(int err)
{
	return err == -ENOMEM || err == -EFAULT || err == -ENFILE ||
	       err == -EAGAIN;
}

FIXTURE(nth) {
	int vm, fd, trigger;
	/* APIC IDs 0 and 1: their IRRs show what reached KVM. */
	int vcpu[2];
	uint32_t index;
	void *shm;
	uint32_t shm_size;
	unsigned int sites, injected;
	uint64_t commits;
	uint32_t result;
	/* The scratch area attach passes, as libirqroute does; or NULL. */
	void *scratch, *area;
};

static void close_vm(FIXTURE_DATA(nth) *self)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		if (self->vcpu[i] >= 0)
			close(self->vcpu[i]);
		self->vcpu[i] = -1;
	}
	if (self->vm >= 0)
		close(self->vm);
	self->vm = -1;
}

FIXTURE_SETUP(nth)
{
	fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fail_nth_fd)
		TH_LOG("no fail-nth: a kernel without CONFIG_FAULT_INJECTION");
	ASSERT_EQ(0, faults_setup());
	self->vm = self->fd = self->trigger = -1;
	self->vcpu[0] = self->vcpu[1] = -1;
	self->shm = MAP_FAILED;
	self->area = mmap(NULL, IRQROUTE_SCRATCH_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->area);
	self->scratch = self->area;
	/* The first read maps stdio's buffer: not in any walk's count. */
	ASSERT_LT(0, vm_size_kb());
}

FIXTURE_TEARDOWN(nth)
{
	if (self->shm != MAP_FAILED)
		munmap(self->shm, self->shm_size);
	if (self->fd >= 0)
		close(self->fd);
	if (self->trigger >= 0)
		close(self->trigger);
	close_vm(self);
	if (fail_nth_fd >= 0)
		close(fail_nth_fd);
	fail_nth_fd = -1;
	if (self->area != MAP_FAILED)
		munmap(self->area, IRQROUTE_SCRATCH_SIZE);
}

/* Fresh VM (two vCPUs) and irqroute file, not attached. */
static void fresh(struct __test_metadata *_metadata,
		  FIXTURE_DATA(nth) *self)
{
	if (self->shm != MAP_FAILED)
		munmap(self->shm, self->shm_size);
	self->shm = MAP_FAILED;
	if (self->fd >= 0)
		close(self->fd);
	if (self->trigger >= 0)
		close(self->trigger);
	close_vm(self);
	self->vm = vm_create_irqchip();
	ASSERT_LE(0, self->vm);
	self->vcpu[0] = vcpu_create_apic(self->vm, 0);
	ASSERT_LE(0, self->vcpu[0]);
	self->vcpu[1] = vcpu_create_apic(self->vm, 1);
	ASSERT_LE(0, self->vcpu[1]);
	self->fd = irqroute_dev_open();
	ASSERT_LE(0, self->fd);
	self->trigger = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->trigger);
}

static void attached(struct __test_metadata *_metadata,
		     FIXTURE_DATA(nth) *self)
{
	fresh(_metadata, self);
	ASSERT_EQ(0, __irqroute_attach_scratch(self->fd, self->vm, GSI_BASE,
					       NR_ROUTES, 0, self->scratch,
					       &self->shm_size));
}

static void with_route(struct __test_metadata *_metadata,
		       FIXTURE_DATA(nth) *self)
{
	attached(_metadata, self);
	ASSERT_EQ(0, __irqroute_create(self->fd, self->trigger,
				       &self->index));
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->index, MSI_ADDR,
					MSI_VEC, 0));
}

/*
 * Signals the route's trigger and reads both vCPUs' IRRs: 1 if exactly
 * (@vcpu, @vector) got the MSI, 0 if nothing arrived, -EBADMSG if an MSI
 * went anywhere else, or -errno.
 */
static int signal_lands(FIXTURE_DATA(nth) *self, unsigned int vcpu,
			unsigned int vector)
{
	static const unsigned int vec[2] = { MSI_VEC, MSI2_VEC };
	uint64_t one = 1;
	int got, i, other;

	if (write(self->trigger, &one, sizeof(one)) != sizeof(one))
		return -errno;
	got = vcpu_irr_take(self->vcpu[vcpu], vector, 2000);
	if (got < 0)
		return got;
	for (i = 0; i < 2; i++) {
		other = vcpu_irr_take(self->vcpu[i], vec[i], 0);
		if (other)
			return other < 0 ? other : -EBADMSG;
	}
	return got;
}

/* Signals the route's trigger: 1 if nothing reached either vCPU. */
static int signal_lands_nowhere(FIXTURE_DATA(nth) *self)
{
	return signal_lands(self, 0, MSI_VEC) == 0;
}

static uint64_t commits(struct __test_metadata *_metadata,
			FIXTURE_DATA(nth) *self)
{
	struct irqroute_stats st;

	EXPECT_EQ(0, __irqroute_get_stats(self->fd, &st));
	return st.commits;
}

/* A masked route with an interrupt pending. */
static void with_pending(struct __test_metadata *_metadata,
			 FIXTURE_DATA(nth) *self)
{
	uint64_t one = 1;

	with_route(_metadata, self);
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_MASK, self->index,
					 0, NULL));
	ASSERT_EQ(sizeof(one), write(self->trigger, &one, sizeof(one)));
}

static void with_route_counted(struct __test_metadata *_metadata,
			       FIXTURE_DATA(nth) *self)
{
	with_route(_metadata, self);
	self->commits = commits(_metadata, self);
}

/*
 * The walk: @prepare builds the state, @op is armed with fail-nth = n,
 * @check_failed verifies a failed @op left nothing behind and that @op
 * works afterwards, @check_ok verifies that an @op that returned 0 did
 * all of its job, an injected failure it absorbed included. Ends when @op
 * completes without reaching site n; the sites it reached must be in
 * @expect_sites, "lowest, highest" (what the debug kernel's walk found
 * when this test was written: a change means a new allocation or user
 * copy on the path, to be looked at and counted here).
 */
#define WALK(prepare, op, check_failed, check_ok, expect_sites)		\
	do {								\
		unsigned int nth, absorbed = 0;				\
		long maps;						\
		int ret;						\
									\
		for (nth = 1; nth < MAX_NTH; nth++) {			\
			bool hit;					\
									\
			prepare(_metadata, self);			\
			maps = vm_size_kb();				\
			fail_nth_arm(nth);				\
			ret = (op);					\
			hit = fail_nth_disarm();			\
			if (!hit) {					\
				ASSERT_EQ(0, ret)			\
					TH_LOG("nth %u: %s", nth,	\
					       strerror(-ret));		\
				check_ok;				\
				break;					\
			}						\
			if (ret) {					\
				self->injected++;			\
				ASSERT_EQ(maps, vm_size_kb())		\
					TH_LOG("nth %u: %s left a mapping", \
					       nth, strerror(-ret));	\
				ASSERT_TRUE(injected_errno(ret))	\
					TH_LOG("nth %u: %s", nth,	\
					       strerror(-ret));		\
				check_failed;				\
			} else {					\
				absorbed++;				\
				check_ok;				\
			}						\
		}							\
		ASSERT_LT(nth, MAX_NTH);				\
		self->sites = nth - 1;					\
		TH_LOG("%u fault sites, %u of them failed the call, %u absorbed", \
		       self->sites, self->injected, absorbed);		\
		EXPECT_TRUE(sites_in(self->sites, expect_sites))	\
			TH_LOG("%u fault sites, expected %s", self->sites, \
			       #expect_sites);				\
	} while (0)

static inline bool sites_in(unsigned int n, unsigned int lo, unsigned int hi)
{
	return n >= lo && n <= hi;
}

TEST_F(nth, attach)
{
	WALK(fresh,
	     __irqroute_attach_scratch(self->fd, self->vm, GSI_BASE, NR_ROUTES,
				       0, self->scratch, &self->shm_size),
	     ({
		int again = __irqroute_attach_scratch(self->fd, self->vm,
						      GSI_BASE, NR_ROUTES, 0,
						      self->scratch, NULL);

		if (again == -EBUSY) {
			/* Only the final copy-out failed: fully attached. */
			ASSERT_EQ(-EFAULT, ret);
		} else {
			/* Not attached; a retry works. */
			ASSERT_EQ(0, again)
				TH_LOG("nth %u: retry after %s: %s", nth,
				       strerror(-ret), strerror(-again));
		}
		ASSERT_EQ(0, __irqroute_create(self->fd, self->trigger,
					       NULL));
	     }),
	     ({
		/* Attached, and a route delivers. */
		ASSERT_EQ(0, __irqroute_create(self->fd, self->trigger,
					       &self->index));
		ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->index,
						MSI_ADDR, MSI_VEC, 0));
		ASSERT_EQ(1, signal_lands(self, 0, MSI_VEC))
			TH_LOG("nth %u", nth);
	     }), SITES_ATTACH);
}

TEST_F(nth, route_create)
{
	WALK(attached,
	     __irqroute_create(self->fd, self->trigger, &self->index),
	     ({
		uint32_t index = UINT32_MAX;

		/* No route, no gate left on the trigger: index 0 again. */
		ASSERT_EQ(-ENOENT, __irqroute_route_op(self->fd,
						       IRQROUTE_MASK, 0, 0,
						       NULL));
		ASSERT_EQ(0, __irqroute_create(self->fd, self->trigger,
					       &index));
		ASSERT_EQ(0, index);
	     }),
	     ({
		/* The route is live, gated and bound to KVM. */
		ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->index,
						MSI_ADDR, MSI_VEC, 0));
		ASSERT_EQ(1, signal_lands(self, 0, MSI_VEC))
			TH_LOG("nth %u", nth);
	     }), SITES_ROUTE_CREATE);
}

/*
 * A failed create gives back what its gate took. The gate is on the
 * trigger before KVM_IRQFD binds the private eventfd; a signal in between
 * is consumed by the gate and pended, and a failure after that must leave
 * it on the trigger, as if no gate had been there. Another thread signals
 * the trigger once, at a random point of each create that fails; the
 * attachment's gate counter only tells whether the signal landed in that
 * window (it must, at least once: else this proves nothing), the trigger's
 * own count is what is asserted.
 */
struct once_signaller {
	int efd;
	unsigned int delay_ns;
	pthread_barrier_t go;
};

static void *signal_once(void *arg)
{
	struct once_signaller *s = arg;
	struct timespec t0, t;
	uint64_t one = 1;

	pthread_barrier_wait(&s->go);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec <
	       s->delay_ns);
	if (write(s->efd, &one, sizeof(one)) != sizeof(one))
		abort();
	return NULL;
}

static uint64_t signals_seen(struct __test_metadata *_metadata,
			     FIXTURE_DATA(nth) *self)
{
	struct irqroute_stats st;

	EXPECT_EQ(0, __irqroute_get_stats(self->fd, &st));
	return st.signals;
}

#define SIGNALLED_ATTEMPTS	3000
#define SIGNALLED_HITS		20

TEST_F_TIMEOUT(nth, route_create_signalled, 600)
{
	unsigned int attempt, nth = 1, failed = 0, hits = 0, span_ns;
	struct once_signaller sig;
	struct timespec t0, t1;
	uint32_t first = 0;
	pthread_t thr;

	attached(_metadata, self);
	sig.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, sig.efd);
	/* How long a create takes: the signal lands somewhere in it. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, __irqroute_create(self->fd, sig.efd, &first));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_ROUTE_DESTROY,
					 first, 0, NULL));
	span_ns = (t1.tv_sec - t0.tv_sec) * 1000000000L +
		  t1.tv_nsec - t0.tv_nsec;

	for (attempt = 0; attempt < SIGNALLED_ATTEMPTS &&
	     hits < SIGNALLED_HITS; attempt++) {
		uint64_t before = signals_seen(_metadata, self), cnt = 0;
		uint32_t index = 0;
		bool hit;
		int ret;

		sig.delay_ns = random() % (span_ns + 1);
		ASSERT_EQ(0, pthread_barrier_init(&sig.go, NULL, 2));
		ASSERT_EQ(0, pthread_create(&thr, NULL, signal_once, &sig));
		pthread_barrier_wait(&sig.go);
		fail_nth_arm(nth);
		ret = __irqroute_create(self->fd, sig.efd, &index);
		hit = fail_nth_disarm();
		ASSERT_EQ(0, pthread_join(thr, NULL));
		pthread_barrier_destroy(&sig.go);

		if (!ret) {
			/* Past the last site: start the walk again. */
			ASSERT_EQ(0, __irqroute_route_op(self->fd,
							 IRQROUTE_ROUTE_DESTROY,
							 index, 0, NULL));
			nth = hit ? nth + 1 : 1;
			eventfd_read(sig.efd, &cnt);
			continue;
		}
		ASSERT_TRUE(hit && injected_errno(ret))
			TH_LOG("nth %u: %s", nth, strerror(-ret));
		failed++;
		/* The signal is on the trigger, whoever saw it first. */
		ASSERT_EQ(0, eventfd_read(sig.efd, &cnt))
			TH_LOG("attempt %u, nth %u (%s): the signal is lost%s",
			       attempt, nth, strerror(-ret),
			       signals_seen(_metadata, self) != before ?
			       " (the create's gate took it)" : "");
		ASSERT_EQ(1, cnt);
		if (signals_seen(_metadata, self) != before)
			hits++;
		/* No route is left, and the trigger is free again. */
		ASSERT_EQ(-ENOENT, __irqroute_route_op(self->fd,
						       IRQROUTE_MASK, 0, 0,
						       NULL));
		nth++;
	}
	TH_LOG("%u attempts, %u creates failed, %u signals taken by a gate that went away",
	       attempt, failed, hits);
	ASSERT_LT(0, hits)
		TH_LOG("no signal landed between gate and failure: the test did not test");
	close(sig.efd);
}

/*
 * A move of the route to MSI2 failed: nothing was committed, KVM still
 * routes the old MSI, and a set_msi to MSI2 then works.
 */
static void assert_msi_not_moved(struct __test_metadata *_metadata,
				 FIXTURE_DATA(nth) *self, unsigned int nth)
{
	ASSERT_EQ(self->commits, commits(_metadata, self));
	ASSERT_EQ(1, signal_lands(self, 0, MSI_VEC))
		TH_LOG("nth %u: the old MSI is gone", nth);
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->index, MSI2_ADDR,
					MSI2_VEC, 0));
	ASSERT_EQ(1, signal_lands(self, 1, MSI2_VEC));
}

TEST_F(nth, set_msi)
{
	WALK(with_route_counted,
	     __irqroute_set_msi(self->fd, self->index, MSI2_ADDR, MSI2_VEC,
				0),
	     /* A failed set_msi committed nothing; a retry works. */
	     assert_msi_not_moved(_metadata, self, nth),
	     ({
		/* KVM routes the GSI to the new MSI. */
		ASSERT_EQ(1, signal_lands(self, 1, MSI2_VEC))
			TH_LOG("nth %u", nth);
	     }), SITES_SET_MSI);
}

TEST_F(nth, clear_msi)
{
	WALK(with_route_counted,
	     __irqroute_route_op(self->fd, IRQROUTE_CLEAR_MSI, self->index, 0,
				 NULL),
	     ({
		ASSERT_EQ(self->commits, commits(_metadata, self));
		ASSERT_EQ(1, signal_lands(self, 0, MSI_VEC))
			TH_LOG("nth %u: the MSI is gone", nth);
		ASSERT_EQ(0, __irqroute_route_op(self->fd, IRQROUTE_CLEAR_MSI,
						 self->index, 0, NULL));
	     }),
	     ({
		uint32_t res = 0;

		/* No MSI: a signal reaches nobody and pends. */
		ASSERT_TRUE(signal_lands_nowhere(self)) TH_LOG("nth %u", nth);
		ASSERT_EQ(0, __irqroute_route_op(self->fd,
						 IRQROUTE_CONSUME_PENDING,
						 self->index, 0, &res));
		ASSERT_EQ(1, res);
	     }), SITES_CLEAR_MSI);
}

/* A deferred set_msi, then IRQROUTE_COMMIT. */
static void with_staged(struct __test_metadata *_metadata,
			FIXTURE_DATA(nth) *self)
{
	with_route_counted(_metadata, self);
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->index, MSI2_ADDR,
					MSI2_VEC, IRQROUTE_MSI_F_DEFER));
}

/* A staged move to MSI2 committed: all of it or nothing. */
static void walk_commit(struct __test_metadata *_metadata,
			FIXTURE_DATA(nth) *self, unsigned int lo,
			unsigned int hi)
{
/* WALK takes "lowest, highest" as one argument. */
#define LO_HI lo, hi
	WALK(with_staged,
	     __irqroute_commit(self->fd),
	     /* The batch is dropped whole: the old MSI stands. */
	     assert_msi_not_moved(_metadata, self, nth),
	     ({
		ASSERT_EQ(1, signal_lands(self, 1, MSI2_VEC))
			TH_LOG("nth %u", nth);
	     }), LO_HI);
#undef LO_HI
}

TEST_F(nth, commit)
{
	walk_commit(_metadata, self, SITES_COMMIT);
}

/*
 * The same commit without a scratch area: the module maps anonymous memory
 * for the call and unmaps it, and a failure anywhere in that (the WALK
 * checks VmSize) leaves no mapping behind.
 */
TEST_F(nth, commit_no_scratch)
{
	self->scratch = NULL;
	walk_commit(_metadata, self, SITES_COMMIT_NO_SCRATCH);
}

static const struct kvm_irq_routing_entry base_route = {
	.gsi = BASE_GSI,
	.type = KVM_IRQ_ROUTING_IRQCHIP,
	.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = 9 },
};

TEST_F(nth, set_base_routes)
{
	WALK(with_route_counted,
	     __irqroute_set_base(self->fd, &base_route, 1),
	     ({
		/* KVM's table is as before: no base route, the MSI stands. */
		ASSERT_EQ(self->commits, commits(_metadata, self));
		ASSERT_EQ(0, vm_gsi_routed(self->vm, BASE_GSI))
			TH_LOG("nth %u", nth);
		ASSERT_EQ(1, signal_lands(self, 0, MSI_VEC))
			TH_LOG("nth %u", nth);
		ASSERT_EQ(0, __irqroute_set_base(self->fd, &base_route, 1));
		ASSERT_EQ(1, vm_gsi_routed(self->vm, BASE_GSI));
	     }),
	     ({
		/* The base route and the route's MSI, both in KVM's table. */
		ASSERT_EQ(1, vm_gsi_routed(self->vm, BASE_GSI))
			TH_LOG("nth %u", nth);
		ASSERT_EQ(1, signal_lands(self, 0, MSI_VEC))
			TH_LOG("nth %u", nth);
	     }), SITES_SET_BASE_ROUTES);
}

/*
 * Destroy, then the commit that takes the route's MSI out of KVM's table
 * (the destroy itself needs no KVM call).
 */
static int destroy_and_commit(FIXTURE_DATA(nth) *self)
{
	int ret = __irqroute_route_op(self->fd, IRQROUTE_ROUTE_DESTROY,
				      self->index, 0, NULL);

	return ret ?: __irqroute_commit(self->fd);
}

TEST_F(nth, destroy)
{
	WALK(with_route,
	     destroy_and_commit(self),
	     ({
		int live = __irqroute_route_op(self->fd, IRQROUTE_MASK,
					       self->index, 0, NULL);

		if (live == 0) {
			/* The destroy failed: the route is whole. */
			ASSERT_EQ(0, __irqroute_route_op(self->fd,
							 IRQROUTE_UNMASK,
							 self->index, 0,
							 NULL));
			ASSERT_EQ(1, signal_lands(self, 0, MSI_VEC))
				TH_LOG("nth %u: %s", nth, strerror(-ret));
			ASSERT_EQ(0, destroy_and_commit(self));
		} else {
			/* The commit failed: the route is gone already. */
			ASSERT_EQ(-ENOENT, live);
			ASSERT_EQ(0, __irqroute_commit(self->fd));
		}
		ASSERT_TRUE(signal_lands_nowhere(self));
	     }),
	     ({
		uint32_t index = UINT32_MAX;

		/* Gone: no gate on the trigger, its index free again. */
		ASSERT_TRUE(signal_lands_nowhere(self)) TH_LOG("nth %u", nth);
		ASSERT_EQ(0, __irqroute_create(self->fd, self->trigger,
					       &index));
		ASSERT_EQ(self->index, index);
	     }), SITES_DESTROY);
}

/* A consume whose result cannot be reported gives the interrupt back. */
TEST_F(nth, consume_pending)
{
	WALK(with_pending,
	     __irqroute_route_op(self->fd, IRQROUTE_CONSUME_PENDING,
				 self->index, 0, &self->result),
	     ({
		uint32_t res = 0;

		ASSERT_EQ(0, __irqroute_route_op(self->fd,
						 IRQROUTE_CONSUME_PENDING,
						 self->index, 0, &res));
		ASSERT_EQ(1, res);
	     }),
	     ({
		uint32_t res = 0;

		/* Taken, once. */
		ASSERT_EQ(1, self->result) TH_LOG("nth %u", nth);
		ASSERT_EQ(0, __irqroute_route_op(self->fd,
						 IRQROUTE_CONSUME_PENDING,
						 self->index, 0, &res));
		ASSERT_EQ(0, res);
	     }), SITES_CONSUME_PENDING);
}

TEST_F(nth, mmap)
{
	WALK(attached,
	     ({
		self->shm = mmap(NULL, self->shm_size,
				 PROT_READ | PROT_WRITE, MAP_SHARED,
				 self->fd, 0);
		self->shm == MAP_FAILED ? -errno : 0;
	     }),
	     ({
		const struct irqroute_shm_header *h;

		h = mmap(NULL, self->shm_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, self->fd, 0);
		ASSERT_NE(MAP_FAILED, h);
		ASSERT_EQ(IRQROUTE_SHM_MAGIC, h->magic);
		munmap((void *)h, self->shm_size);
	     }),
	     ({
		const struct irqroute_shm_header *h = self->shm;

		ASSERT_EQ(IRQROUTE_SHM_MAGIC, h->magic) TH_LOG("nth %u", nth);
	     }), SITES_MMAP);
}

TEST_HARNESS_MAIN
