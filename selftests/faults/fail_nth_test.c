// SPDX-License-Identifier: GPL-2.0
/*
 * Every allocation and user-copy failure point of attach, route create,
 * set_msi, consume_pending and mmap, one at a time (like the kernel's iommufd_fail_nth):
 * for n = 1, 2, ... the n-th fault-injection site the operation reaches in
 * this thread fails (/proc/thread-self/fail-nth), until the operation
 * completes without reaching an n-th site. Each injected failure must
 * fail the operation cleanly: a documented errno, nothing half-done (no
 * attachment, no route, no table mapping, no committed change), and the
 * same operation works right after. KASAN, kmemleak and lockdep in the
 * debug kernel watch the error paths while this runs.
 *
 * Needs a kernel with CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC
 * and DEBUG_FS (the debug kernel; Debian's kernels have none of them), so
 * it is listed in TESTS.faults and runs only where fail-nth exists. There,
 * anything missing fails the test.
 */
#define _GNU_SOURCE
#include <fcntl.h>
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

static bool table_mapped(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return true;	/* cannot tell: the caller fails */
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "[irqroute-table]");
	fclose(f);
	return found;
}

FIXTURE(nth) {
	int vm, fd, trigger;
	uint32_t index;
	void *shm;
	uint32_t shm_size;
	unsigned int sites, injected;
	uint64_t commits;
	uint32_t result;
};

FIXTURE_SETUP(nth)
{
	fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fail_nth_fd)
		TH_LOG("no fail-nth: a kernel without CONFIG_FAULT_INJECTION");
	ASSERT_EQ(0, faults_setup());
	self->vm = self->fd = self->trigger = -1;
	self->shm = MAP_FAILED;
}

FIXTURE_TEARDOWN(nth)
{
	if (self->shm != MAP_FAILED)
		munmap(self->shm, self->shm_size);
	if (self->fd >= 0)
		close(self->fd);
	if (self->trigger >= 0)
		close(self->trigger);
	if (self->vm >= 0)
		close(self->vm);
	if (fail_nth_fd >= 0)
		close(fail_nth_fd);
	fail_nth_fd = -1;
}

/* Fresh VM and irqroute file, not attached. */
static void fresh(struct __test_metadata *_metadata,
		  FIXTURE_DATA(nth) *self)
{
	if (self->shm != MAP_FAILED)
		munmap(self->shm, self->shm_size);
	self->shm = MAP_FAILED;
	if (self->fd >= 0)
		close(self->fd);
	/*
	 * Closing the file unmaps the table: a mapping left now is one the
	 * module made and lost track of (an earlier injected failure).
	 */
	ASSERT_FALSE(table_mapped())
		TH_LOG("a table mapping outlived its irqroute file");
	if (self->trigger >= 0)
		close(self->trigger);
	if (self->vm >= 0)
		close(self->vm);
	self->vm = vm_create_irqchip();
	ASSERT_LE(0, self->vm);
	self->fd = irqroute_dev_open();
	ASSERT_LE(0, self->fd);
	self->trigger = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->trigger);
}

static void attached(struct __test_metadata *_metadata,
		     FIXTURE_DATA(nth) *self)
{
	fresh(_metadata, self);
	ASSERT_EQ(0, __irqroute_attach(self->fd, self->vm, GSI_BASE,
				       NR_ROUTES, 0, &self->shm_size));
}

static void with_route(struct __test_metadata *_metadata,
		       FIXTURE_DATA(nth) *self)
{
	attached(_metadata, self);
	ASSERT_EQ(0, __irqroute_create(self->fd, self->trigger,
				       &self->index));
	ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->index, 0xfee00000,
					0x40, 0));
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
 * works afterwards. Ends when @op completes without reaching site n.
 */
#define WALK(prepare, op, check_failed)					\
	do {								\
		unsigned int nth;					\
		int ret;						\
									\
		for (nth = 1; nth < MAX_NTH; nth++) {			\
			bool hit;					\
									\
			prepare(_metadata, self);			\
			fail_nth_arm(nth);				\
			ret = (op);					\
			hit = fail_nth_disarm();			\
			if (!hit) {					\
				ASSERT_EQ(0, ret)			\
					TH_LOG("nth %u: %s", nth,	\
					       strerror(-ret));		\
				break;					\
			}						\
			if (ret) {					\
				self->injected++;			\
				ASSERT_TRUE(injected_errno(ret))	\
					TH_LOG("nth %u: %s", nth,	\
					       strerror(-ret));		\
				check_failed;				\
			}						\
		}							\
		ASSERT_LT(nth, MAX_NTH);				\
		self->sites = nth - 1;					\
		TH_LOG("%u fault sites, %u of them failed the call",	\
		       self->sites, self->injected);			\
		ASSERT_LT(0, self->sites);				\
	} while (0)

TEST_F(nth, attach)
{
	WALK(fresh,
	     __irqroute_attach(self->fd, self->vm, GSI_BASE, NR_ROUTES, 0,
			       &self->shm_size),
	     ({
		bool mapped = table_mapped();
		int again = __irqroute_attach(self->fd, self->vm, GSI_BASE,
					      NR_ROUTES, 0, NULL);

		if (again == -EBUSY) {
			/* Only the final copy-out failed: fully attached. */
			ASSERT_EQ(-EFAULT, ret);
			ASSERT_TRUE(mapped);
		} else {
			/* Not attached, no table mapping; a retry works. */
			ASSERT_FALSE(mapped)
				TH_LOG("nth %u: attach failed (%s), table still mapped; retry: %s",
				       nth, strerror(-ret), strerror(-again));
			ASSERT_EQ(0, again)
				TH_LOG("nth %u: retry after %s: %s", nth,
				       strerror(-ret), strerror(-again));
		}
		ASSERT_EQ(0, __irqroute_create(self->fd, self->trigger,
					       NULL));
	     }));
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
	     }));
}

TEST_F(nth, set_msi)
{
	WALK(with_route_counted,
	     __irqroute_set_msi(self->fd, self->index, 0xfee01000, 0x41, 0),
	     ({
		/* A failed set_msi committed nothing; a retry works. */
		ASSERT_EQ(self->commits, commits(_metadata, self));
		ASSERT_EQ(0, __irqroute_set_msi(self->fd, self->index,
						0xfee01000, 0x41, 0));
	     }));
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
	     }));
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
	     }));
}

TEST_HARNESS_MAIN
