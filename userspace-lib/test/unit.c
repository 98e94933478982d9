// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * Host unit test of libirqroute, without the kernel module.
 *
 * Links the static library and builds an attachment by hand over an
 * anonymous page laid out like the module's shared page, then checks:
 * the bitmap layout (bit i of 64-bit word i/64 at the header's offsets),
 * the mask/unmask/consume_pending semantics on the page, that those
 * calls make no system call (SECCOMP_MODE_STRICT in a child), what each
 * call passes to the kernel (ioctl() is interposed below), eventfd and
 * descriptor ownership in route create/destroy/detach, batching, and the
 * shared page header validation. Behaviour against the real module is
 * tested by selftests/ in a VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "irqroute-private.h"

static int passed, failed;

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("#   %s:%d: check failed: %s\n",	\
			       __FILE__, __LINE__, #cond);		\
			return false;					\
		}							\
	} while (0)

/* ---- a fake kernel: ioctl() of this program replaces libc's ---- */

#define FAKE_FD		1000	/* never a real descriptor in this test */

static struct {
	bool passthrough;	/* make the real system call */
	int calls;
	unsigned long cmd;
	union {
		struct irqroute_attach attach;
		struct irqroute_base_routes base;
		struct irqroute_commit commit;
		struct irqroute_route_create create;
		struct irqroute_msi msi;
		struct irqroute_route_op op;
		struct irqroute_stats stats;
		struct irqroute_msis msis;
	} arg;
	struct irqroute_msi msis[8];	/* SET_MSIS: the first entries */
	uint32_t msis_failed;	/* SET_MSIS: failed to hand out */
	unsigned long cmds[16];	/* the first requests, in order */
	unsigned long enotty;	/* a request number to fail with ENOTTY */
	int ret;		/* -errno to fail with, or 0 */
	uint32_t index;		/* ROUTE_CREATE: index to hand out */
	uint32_t result;	/* CONSUME_PENDING: result to hand out */
	int trigger_flags, irqfd_flags;	/* F_GETFL at ROUTE_CREATE */
	int trigger_fdflags, irqfd_fdflags;	/* F_GETFD at ROUTE_CREATE */
} fake;

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

int ioctl(int fd, unsigned long cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);

	if (fake.passthrough)
		return syscall(SYS_ioctl, fd, cmd, arg);

	if (fake.calls < 16)
		fake.cmds[fake.calls] = cmd;
	fake.calls++;
	fake.cmd = cmd;
	if (fd != FAKE_FD) {
		errno = EBADF;
		return -1;
	}
	/* Every struct starts with its size: read no more than the caller's. */
	memcpy(&fake.arg, arg, min_size(min_size(_IOC_SIZE(cmd), *(uint32_t *)arg),
				       sizeof(fake.arg)));
	if (cmd == IRQROUTE_ROUTE_CREATE) {
		struct irqroute_route_create *c = arg;

		fake.trigger_flags = fcntl(c->trigger_fd, F_GETFL);
		fake.irqfd_flags = fcntl(c->irqfd_fd, F_GETFL);
		fake.trigger_fdflags = fcntl(c->trigger_fd, F_GETFD);
		fake.irqfd_fdflags = fcntl(c->irqfd_fd, F_GETFD);
		if (!(c->flags & IRQROUTE_CREATE_F_INDEX))
			c->index = fake.index;
		c->gsi = 100 + c->index;
	}
	if (cmd == IRQROUTE_CONSUME_PENDING)
		((struct irqroute_route_op *)arg)->result = fake.result;
	if (cmd == fake.enotty) {
		errno = ENOTTY;
		return -1;
	}
	if (cmd == IRQROUTE_SET_MSIS) {
		struct irqroute_msis *m = arg;

		memcpy(fake.msis, (void *)(uintptr_t)m->entries,
		       min_size(m->nr, 8) * sizeof(fake.msis[0]));
		/* Written back on error too, as the module does. */
		m->failed = fake.ret ? fake.msis_failed : m->nr;
	}
	if (fake.ret) {
		errno = -fake.ret;
		return -1;
	}
	return 0;
}

static void fake_reset(void)
{
	memset(&fake, 0, sizeof(fake));
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* ---- an attachment over an anonymous page ---- */

#define GSI_BASE	100
#define NR_ROUTES	1024

static void *shm_new(uint32_t gsi_base, uint32_t nr_routes)
{
	struct irqroute_shm_header *h;

	h = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	h->magic = IRQROUTE_SHM_MAGIC;
	h->version = IRQROUTE_SHM_VERSION;
	h->nr_routes = nr_routes;
	h->gsi_base = gsi_base;
	h->mask_offset = IRQROUTE_SHM_MASK_OFFSET;
	h->pending_offset = IRQROUTE_SHM_PENDING_OFFSET;
	return h;
}

static struct irqroute *fake_attach(void)
{
	struct irqroute *ir = calloc(1, sizeof(*ir));

	if (!ir)
		exit(1);
	ir->fd = dup2(open("/dev/null", O_RDONLY | O_CLOEXEC), FAKE_FD);
	ir->gsi_base = GSI_BASE;
	ir->nr_routes = NR_ROUTES;
	ir->shm = shm_new(GSI_BASE, NR_ROUTES);
	ir->shm_size = 4096;
	ir->mask = (uint64_t *)((char *)ir->shm + IRQROUTE_SHM_MASK_OFFSET);
	ir->pending = (uint64_t *)((char *)ir->shm +
				   IRQROUTE_SHM_PENDING_OFFSET);
	ir->fork_gen = __irqroute_fork_gen;	/* as irqroute_attach() does */
	pthread_mutex_init(&ir->lock, NULL);
	irqroute_list_init(&ir->routes);
	return ir;
}

static uint64_t *mask_words(struct irqroute *ir)
{
	return (uint64_t *)((char *)ir->shm + IRQROUTE_SHM_MASK_OFFSET);
}

static uint64_t *pending_words(struct irqroute *ir)
{
	return (uint64_t *)((char *)ir->shm + IRQROUTE_SHM_PENDING_OFFSET);
}

/* Every word of both bitmaps is zero except @word, which is @val. */
static bool bitmap_only(uint64_t *words, unsigned int word, uint64_t val)
{
	for (unsigned int i = 0; i < IRQROUTE_MAX_ROUTES / 64; i++)
		if (words[i] != (i == word ? val : 0))
			return false;
	return true;
}

/* ---- tests ---- */

static bool test_version(void)
{
	char v[32];

	CHECK(!strcmp(irqroute_version(), LIBIRQROUTE_VERSION));
	snprintf(v, sizeof(v), "%d.%d.%d", IRQROUTE_VERSION_MAJOR,
		 IRQROUTE_VERSION_MINOR, IRQROUTE_VERSION_PATCH);
	CHECK(!strcmp(irqroute_version(), v));
	CHECK(irqroute_version_major() == IRQROUTE_VERSION_MAJOR);
	CHECK(irqroute_version_minor() == IRQROUTE_VERSION_MINOR);
	CHECK(irqroute_check_version(1, 0));
	CHECK(irqroute_check_version(1, IRQROUTE_VERSION_MINOR));
	CHECK(!irqroute_check_version(1, IRQROUTE_VERSION_MINOR + 1));
	CHECK(!irqroute_check_version(0, 0));
	CHECK(!irqroute_check_version(2, 0));
	CHECK(IRQROUTE_CHECK_VERSION(1, 1) && !IRQROUTE_CHECK_VERSION(2, 0));
	return true;
}

/*
 * @size bytes at the very end of a page whose next page is PROT_NONE: a
 * write or read past them kills the test with SIGSEGV.
 */
static void *guarded(size_t size)
{
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + 4096, 4096, PROT_NONE)) {
		perror("mmap");
		exit(1);
	}
	return p + 4096 - size;
}

/* The first version of struct irqroute_stats: 56 bytes, no @deferred. */
#define STATS_SIZE_1_0	56

static bool test_stats_caller_sized(void)
{
	struct irqroute *ir = fake_attach();
	struct irqroute_stats *old = guarded(STATS_SIZE_1_0);
	struct irqroute_stats *cur = guarded(sizeof(*cur));

	_Static_assert(offsetof(struct irqroute_stats, deferred) ==
		       STATS_SIZE_1_0, "the first version ended at feedback");
	/* The 1.0 entry point, as an old binary calls it: 56 bytes. */
	memset(old, 0xa5, STATS_SIZE_1_0);
	CHECK((irqroute_get_stats)(ir, old) == 0);
	CHECK(fake.arg.stats.size == STATS_SIZE_1_0 && old->flags == 0);
	/* The header's macro passes the caller's size. */
	CHECK(irqroute_get_stats_sized(ir, old, STATS_SIZE_1_0) == 0);
	CHECK(fake.arg.stats.size == STATS_SIZE_1_0);
	memset(cur, 0xa5, sizeof(*cur));
	CHECK(irqroute_get_stats(ir, cur) == 0);
	CHECK(fake.arg.stats.size == sizeof(*cur) && cur->deferred == 0);
	/* Shorter than the first version, or absurd: refused untouched. */
	memset(old, 0xa5, STATS_SIZE_1_0);
	CHECK(irqroute_get_stats_sized(ir, old, STATS_SIZE_1_0 - 8) == -EINVAL);
	CHECK(old->size == 0xa5a5a5a5);
	CHECK(irqroute_get_stats_sized(ir, old, (size_t)1 << 33) == -EINVAL);
	CHECK(irqroute_get_stats_sized(ir, NULL, sizeof(*cur)) == -EFAULT);
	irqroute_detach(ir);
	return true;
}

/*
 * struct irqroute_opts grows by flag-gated fields: with only 1.0's flags
 * set, irqroute_attach() reads the first 12 bytes and no more.
 */
static bool test_opts_growth(void)
{
	struct irqroute_opts *o = guarded(3 * sizeof(uint32_t));
	struct irqroute *ir = NULL;

	o->gsi_base = 24;
	o->nr_routes = 8;
	o->flags = IRQROUTE_F_X86_DEFAULT_ROUTES;
	fake.passthrough = true;
	/* No module on the host: fails at the open, after reading @o. */
	CHECK(irqroute_attach(-1, o, &ir) < 0 && !ir);
	fake.passthrough = false;
	o->flags = 1U << 31;
	CHECK(irqroute_attach(-1, o, &ir) == -EINVAL);
	return true;
}

static bool test_shm_validate(void)
{
	struct irqroute_shm_header *h = shm_new(GSI_BASE, NR_ROUTES);

	CHECK(__irqroute_shm_validate(h, 4096, GSI_BASE, NR_ROUTES) == 0);
	CHECK(__irqroute_shm_validate(h, 4096, GSI_BASE + 1, NR_ROUTES) ==
	      -EPROTO);
	CHECK(__irqroute_shm_validate(h, 4096, GSI_BASE, NR_ROUTES - 1) ==
	      -EPROTO);
	CHECK(__irqroute_shm_validate(h, IRQROUTE_SHM_PENDING_OFFSET +
				      NR_ROUTES / 8 - 1, GSI_BASE,
				      NR_ROUTES) == -EPROTO);
	h->magic++;
	CHECK(__irqroute_shm_validate(h, 4096, GSI_BASE, NR_ROUTES) ==
	      -EPROTO);
	h->magic--;
	h->version++;
	CHECK(__irqroute_shm_validate(h, 4096, GSI_BASE, NR_ROUTES) ==
	      -EPROTO);
	h->version--;
	h->mask_offset += 8;
	CHECK(__irqroute_shm_validate(h, 4096, GSI_BASE, NR_ROUTES) ==
	      -EPROTO);
	h->mask_offset -= 8;
	h->pending_offset += 8;
	CHECK(__irqroute_shm_validate(h, 4096, GSI_BASE, NR_ROUTES) ==
	      -EPROTO);
	munmap(h, 4096);
	return true;
}

static bool test_attach_bad_opts(void)
{
	struct irqroute_opts opts = { .gsi_base = 0, .nr_routes = 1 };
	struct irqroute *ir = NULL;

	for (unsigned int bit = 1; bit < 32; bit++) {
		opts.flags = 1U << bit;
		CHECK(irqroute_attach(-1, &opts, &ir) == -EINVAL);
		CHECK(!ir);
	}
	CHECK(irqroute_attach(-1, NULL, NULL) == -EINVAL);
	return true;
}

static void strict_attach_bad_flags(void *arg)
{
	struct irqroute_opts opts = { .nr_routes = 1, .flags = 1U << 31 };
	struct irqroute *ir = NULL;

	(void)arg;
	if (irqroute_attach(-1, &opts, &ir) != -EINVAL || ir)
		syscall(SYS_exit, 3);
}

/* Route @index owns bit index % 64 of word index / 64 of both bitmaps. */
static bool test_bitmap_layout(void)
{
	static const uint32_t idx[] = { 0, 1, 63, 64, 65, 127, 128, 1023 };
	struct irqroute *ir = fake_attach();
	struct irqroute_route r;

	for (unsigned int i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		uint64_t bit = 1ULL << (idx[i] % 64);
		unsigned int w = idx[i] / 64;

		__irqroute_route_init(ir, &r, idx[i]);
		CHECK(irqroute_route_index(&r) == idx[i]);
		CHECK(irqroute_route_gsi(&r) == GSI_BASE + idx[i]);

		CHECK(irqroute_mask(&r) == 0);
		CHECK(bitmap_only(mask_words(ir), w, bit));
		CHECK(bitmap_only(pending_words(ir), 0, 0));

		pending_words(ir)[w] = bit;
		CHECK(irqroute_pending(&r));
		CHECK(irqroute_consume_pending(&r));
		CHECK(!irqroute_consume_pending(&r));
		CHECK(bitmap_only(pending_words(ir), 0, 0));

		CHECK(irqroute_unmask(&r) == 0);
		CHECK(bitmap_only(mask_words(ir), 0, 0));
	}
	free(ir);
	return true;
}

/* The operations touch only the route's own bit of the shared words. */
static bool test_neighbour_bits(void)
{
	struct irqroute *ir = fake_attach();
	struct irqroute_route r;

	__irqroute_route_init(ir, &r, 70);	/* word 1, bit 6 */
	mask_words(ir)[1] = ~(1ULL << 6);
	pending_words(ir)[1] = ~(1ULL << 6);
	CHECK(!irqroute_pending(&r));
	CHECK(!irqroute_consume_pending(&r));
	CHECK(irqroute_unmask(&r) == 0);	/* nothing pending: no ioctl */
	CHECK(irqroute_mask(&r) == 0);
	CHECK(mask_words(ir)[1] == ~0ULL);
	CHECK(pending_words(ir)[1] == ~(1ULL << 6));
	CHECK(irqroute_unmask(&r) == 0);
	CHECK(mask_words(ir)[1] == ~(1ULL << 6));
	free(ir);
	return true;
}

/* An unmask that finds its pending bit set asks the kernel to deliver. */
static bool test_unmask_pending_ioctl(void)
{
	struct irqroute *ir = fake_attach();
	struct irqroute_route r;

	__irqroute_route_init(ir, &r, 77);
	fake_reset();
	CHECK(irqroute_mask(&r) == 0);
	CHECK(irqroute_unmask(&r) == 0);
	CHECK(fake.calls == 0);

	irqroute_mask(&r);
	pending_words(ir)[1] |= 1ULL << 13;
	CHECK(irqroute_unmask(&r) == 0);
	CHECK(fake.calls == 1);
	CHECK(fake.cmd == IRQROUTE_UNMASK);
	CHECK(fake.arg.op.size == sizeof(struct irqroute_route_op));
	/* The kernel must not clear the mask bit again: PENDING_ONLY. */
	CHECK(fake.arg.op.index == 77 &&
	      fake.arg.op.flags == IRQROUTE_UNMASK_F_PENDING_ONLY);
	CHECK(mask_words(ir)[1] == 0);
	/* Only the kernel clears it when it delivers: never lost here. */
	CHECK(irqroute_pending(&r));

	fake.ret = -EPERM;
	CHECK(irqroute_unmask(&r) == -EPERM);
	free(ir);
	return true;
}

/*
 * Runs @fn in a child in SECCOMP_MODE_STRICT (only read, write, exit and
 * sigreturn allowed): any other system call kills it with SIGKILL.
 * Returns the child's exit code, or 128 + signal.
 */
static int run_strict(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		/* The page is shared with this child: act as the parent. */
		__irqroute_fork_gen--;
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
			_exit(2);
		fn(arg);
		syscall(SYS_exit, 0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	       128 + WTERMSIG(status);
}

static void strict_fast_paths(void *arg)
{
	struct irqroute_route *r = arg;
	bool ok = true;

	ok &= irqroute_mask(r) == 0;
	ok &= !irqroute_consume_pending(r);
	*r->pending_word |= r->bit;
	ok &= irqroute_pending(r);
	ok &= irqroute_consume_pending(r);
	ok &= !irqroute_pending(r);
	ok &= irqroute_unmask(r) == 0;
	ok &= irqroute_mask(r) == 0;
	ok &= irqroute_unmask(r) == 0;
	if (!ok)
		syscall(SYS_exit, 3);
}

static void strict_unmask_pending(void *arg)
{
	struct irqroute_route *r = arg;

	irqroute_mask(r);
	*r->pending_word |= r->bit;
	irqroute_unmask(r);
}

static bool test_no_syscall(void)
{
	struct irqroute *ir = fake_attach();
	struct irqroute_route r;

	__irqroute_route_init(ir, &r, 200);
	fake_reset();
	fake.passthrough = true;
	CHECK(run_strict(strict_fast_paths, &r) == 0);
	/* Unknown flags are refused before /dev/irqroute is opened. */
	CHECK(run_strict(strict_attach_bad_flags, NULL) == 0);
	/* The control: the same child dies when a real ioctl is made. */
	CHECK(run_strict(strict_unmask_pending, &r) == 128 + SIGKILL);
	fake_reset();
	free(ir);
	return true;
}

/* In a child after fork() the page ops refuse instead of faulting. */
static bool test_forked_child(void)
{
	struct irqroute *ir = fake_attach();
	struct irqroute_route r;
	int status;
	pid_t pid;

	__irqroute_route_init(ir, &r, 8);
	*r.pending_word |= r.bit;
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		/* Unmap it as VM_DONTCOPY would: any access faults. */
		munmap(ir->shm, ir->shm_size);
		_exit(irqroute_mask(&r) == -EPERM &&
		      irqroute_unmask(&r) == -EPERM &&
		      !irqroute_consume_pending(&r) &&
		      !irqroute_pending(&r) ? 0 : 1);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The parent is unaffected. */
	CHECK(irqroute_pending(&r));
	CHECK(irqroute_mask(&r) == 0);
	free(ir);
	return true;
}

/* A process that forked earlier and then attaches uses its own page. */
static bool test_fork_then_attach(void)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		struct irqroute *ir = fake_attach();
		struct irqroute_route r;

		__irqroute_route_init(ir, &r, 5);
		_exit(irqroute_mask(&r) == 0 && irqroute_unmask(&r) == 0 &&
		      !irqroute_consume_pending(&r) ? 0 : 1);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return true;
}

static bool test_set_msi(void)
{
	struct irqroute *ir = fake_attach();
	struct irqroute_route r;

	__irqroute_route_init(ir, &r, 5);
	fake_reset();
	CHECK(irqroute_set_msi(&r, 0x12345678fee01000ULL, 0x4041) == 0);
	CHECK(fake.cmd == IRQROUTE_SET_MSI);
	CHECK(fake.arg.msi.size == sizeof(struct irqroute_msi));
	CHECK(fake.arg.msi.flags == 0);
	CHECK(fake.arg.msi.index == 5);
	CHECK(fake.arg.msi.address_lo == 0xfee01000);
	CHECK(fake.arg.msi.address_hi == 0x12345678);
	CHECK(fake.arg.msi.data == 0x4041);
	CHECK(fake.arg.msi.devid == 0 && fake.arg.msi.__reserved == 0);

	CHECK(irqroute_set_msi_devid(&r, 0x8090000, 7, 0xabcd) == 0);
	CHECK(fake.arg.msi.flags == IRQROUTE_MSI_F_DEVID);
	CHECK(fake.arg.msi.devid == 0xabcd);
	CHECK(fake.arg.msi.address_lo == 0x8090000);
	CHECK(fake.arg.msi.address_hi == 0);

	CHECK(irqroute_clear_msi(&r) == 0);
	CHECK(fake.cmd == IRQROUTE_CLEAR_MSI);
	CHECK(fake.arg.op.index == 5 && fake.arg.op.flags == 0);

	fake.ret = -ENOENT;
	CHECK(irqroute_set_msi(&r, 0xfee00000, 0) == -ENOENT);
	CHECK(irqroute_clear_msi(&r) == -ENOENT);
	free(ir);
	return true;
}

static bool msi_is(const struct irqroute_msi *m, uint32_t index,
		   uint32_t flags, uint64_t address, uint32_t data,
		   uint32_t devid)
{
	return m->size == sizeof(*m) && m->flags == flags &&
	       m->index == index && m->data == data &&
	       m->address_lo == (uint32_t)address &&
	       m->address_hi == (uint32_t)(address >> 32) &&
	       m->devid == devid && m->__reserved == 0;
}

/* The legacy batch: staged in user memory, sent as one SET_MSIS. */
static bool test_batch(void)
{
	struct irqroute *ir = fake_attach();
	struct irqroute_route r, r2;

	__irqroute_route_init(ir, &r, 9);
	__irqroute_route_init(ir, &r2, 70);
	fake_reset();
	CHECK(irqroute_batch_commit(ir) == -EINVAL);
	CHECK(fake.calls == 0);
	CHECK(irqroute_batch_begin(ir) == 0);
	CHECK(irqroute_batch_begin(ir) == -EBUSY);

	CHECK(irqroute_set_msi(&r, 0xfee00000, 0x30) == 0);
	CHECK(irqroute_set_msi_devid(&r, 0x1fee01000ULL, 0x31, 1) == 0);
	CHECK(irqroute_clear_msi(&r2) == 0);
	CHECK(fake.calls == 0);

	CHECK(irqroute_batch_commit(ir) == 0);
	CHECK(fake.calls == 1 && fake.cmd == IRQROUTE_SET_MSIS);
	CHECK(fake.arg.msis.size == sizeof(struct irqroute_msis));
	CHECK(fake.arg.msis.flags == 0 && fake.arg.msis.nr == 2);
	/* One entry per route: the last call wins. */
	CHECK(msi_is(&fake.msis[0], 9, IRQROUTE_MSI_F_DEVID, 0x1fee01000ULL,
		     0x31, 1));
	CHECK(msi_is(&fake.msis[1], 70, IRQROUTE_MSI_F_CLEAR, 0, 0, 0));
	CHECK(irqroute_batch_commit(ir) == -EINVAL);

	CHECK(irqroute_set_msi(&r, 0xfee00000, 0x30) == 0);
	CHECK(fake.cmd == IRQROUTE_SET_MSI && fake.arg.msi.flags == 0);
	CHECK(irqroute_clear_msi(&r) == 0);
	CHECK(fake.cmd == IRQROUTE_CLEAR_MSI && fake.arg.op.flags == 0);

	/*
	 * An empty batch is an IRQROUTE_COMMIT, as in 1.0 (it takes
	 * destroyed routes' MSIs out of KVM's table); a failed commit ends
	 * the batch.
	 */
	fake_reset();
	CHECK(irqroute_batch_begin(ir) == 0);
	CHECK(irqroute_batch_commit(ir) == 0);
	CHECK(fake.calls == 1 && fake.cmd == IRQROUTE_COMMIT);
	CHECK(irqroute_batch_begin(ir) == 0);
	CHECK(irqroute_set_msi(&r, 0xfee00000, 0x30) == 0);
	fake.ret = -EINVAL;
	CHECK(irqroute_batch_commit(ir) == -EINVAL);
	fake.ret = 0;
	CHECK(irqroute_batch_begin(ir) == 0);
	CHECK(irqroute_batch_commit(ir) == 0);
	free(ir);
	return true;
}

struct other_thread {
	struct irqroute *ir;
	struct irqroute_route *r;
	int set, clear, commit, begin;
	unsigned long set_cmd;
	uint32_t set_flags;
};

static void *other_thread_fn(void *arg)
{
	struct other_thread *t = arg;

	t->set = irqroute_set_msi(t->r, 0xfee00000, 0x44);
	t->set_cmd = fake.cmd;
	t->set_flags = fake.arg.msi.flags;
	t->clear = irqroute_clear_msi(t->r);
	t->commit = irqroute_batch_commit(t->ir);
	t->begin = irqroute_batch_begin(t->ir);
	return NULL;
}

/*
 * While one thread is inside a legacy batch, another thread's calls go to
 * the kernel at once with their own errno, and cannot end the batch.
 */
static bool test_batch_other_thread(void)
{
	struct irqroute *ir = fake_attach();
	struct irqroute_route r, r2;
	struct other_thread t = { .ir = ir, .r = &r2 };
	pthread_t th;

	__irqroute_route_init(ir, &r, 3);
	__irqroute_route_init(ir, &r2, 4);
	fake_reset();
	CHECK(irqroute_batch_begin(ir) == 0);
	CHECK(irqroute_set_msi(&r, 0xfee00000, 0x30) == 0);
	CHECK(fake.calls == 0);
	fake.ret = -ENOENT;
	CHECK(pthread_create(&th, NULL, other_thread_fn, &t) == 0);
	CHECK(pthread_join(th, NULL) == 0);
	fake.ret = 0;
	CHECK(t.set == -ENOENT && t.clear == -ENOENT);
	CHECK(t.set_cmd == IRQROUTE_SET_MSI && t.set_flags == 0);
	CHECK(t.commit == -EINVAL && t.begin == -EBUSY);
	CHECK(fake.calls == 2);

	CHECK(irqroute_batch_commit(ir) == 0);
	CHECK(fake.cmd == IRQROUTE_SET_MSIS && fake.arg.msis.nr == 1);
	CHECK(msi_is(&fake.msis[0], 3, 0, 0xfee00000, 0x30, 0));
	free(ir);
	return true;
}

/* A module without SET_MSIS: the legacy batch stages in the module. */
static bool test_batch_old_module(void)
{
	struct irqroute *ir = fake_attach();
	struct irqroute_route r, r2;

	__irqroute_route_init(ir, &r, 3);
	__irqroute_route_init(ir, &r2, 4);
	fake_reset();
	fake.enotty = IRQROUTE_SET_MSIS;
	CHECK(irqroute_batch_begin(ir) == 0);
	CHECK(irqroute_set_msi(&r, 0xfee00000, 0x30) == 0);
	CHECK(irqroute_clear_msi(&r2) == 0);
	CHECK(irqroute_batch_commit(ir) == 0);
	CHECK(fake.calls == 4);
	CHECK(fake.cmds[0] == IRQROUTE_SET_MSIS);
	CHECK(fake.cmds[1] == IRQROUTE_SET_MSI);
	CHECK(fake.cmds[2] == IRQROUTE_CLEAR_MSI);
	CHECK(fake.cmds[3] == IRQROUTE_COMMIT);
	CHECK(fake.arg.commit.size == sizeof(struct irqroute_commit));

	/* Batch objects promise all-or-none: no such fallback. */
	{
		struct irqroute_batch *b;

		fake.calls = 0;
		CHECK(irqroute_batch_create(ir, &b) == 0);
		CHECK(irqroute_batch_set_msi(b, &r, 0xfee00000, 0x30) == 0);
		CHECK(irqroute_batch_submit(b, NULL) == -ENOTTY);
		CHECK(fake.calls == 1);
		irqroute_batch_free(b);
	}
	free(ir);
	return true;
}

static bool test_batch_object(void)
{
	struct irqroute *ir = fake_attach(), *ir2 = fake_attach();
	struct irqroute_route r, r2, r3, foreign;
	struct irqroute_batch *b = NULL, *b2 = NULL;
	struct irqroute_route *failed;

	__irqroute_route_init(ir, &r, 1);
	__irqroute_route_init(ir, &r2, 2);
	__irqroute_route_init(ir, &r3, 1023);
	__irqroute_route_init(ir2, &foreign, 5);
	fake_reset();
	CHECK(irqroute_batch_create(NULL, &b) == -EINVAL);
	CHECK(irqroute_batch_create(ir, NULL) == -EINVAL);
	CHECK(irqroute_batch_create(ir, &b) == 0 && b);
	CHECK(irqroute_batch_create(ir, &b2) == 0 && b2 && b2 != b);
	CHECK(irqroute_batch_set_msi(NULL, &r, 0xfee00000, 1) == -EINVAL);
	CHECK(irqroute_batch_set_msi(b, NULL, 0xfee00000, 1) == -EINVAL);
	CHECK(irqroute_batch_set_msi(b, &foreign, 0xfee00000, 1) == -EINVAL);
	CHECK(irqroute_batch_clear_msi(b, &foreign) == -EINVAL);
	CHECK(irqroute_batch_submit(NULL, &failed) == -EINVAL);
	CHECK(failed == NULL);
	/* Empty: nothing to send. */
	failed = &r;
	CHECK(irqroute_batch_submit(b, &failed) == 0 && failed == NULL);
	CHECK(fake.calls == 0);

	CHECK(irqroute_batch_set_msi(b, &r, 0xfee00000, 0x40) == 0);
	CHECK(irqroute_batch_clear_msi(b, &r2) == 0);
	CHECK(irqroute_batch_set_msi_devid(b, &r3, 0x123456789ULL, 0x42,
					   77) == 0);
	CHECK(irqroute_batch_set_msi(b, &r, 0xfee01000, 0x41) == 0);
	/* Another batch of the same attachment is independent. */
	CHECK(irqroute_batch_set_msi(b2, &r, 0xfee02000, 0x50) == 0);
	CHECK(fake.calls == 0);

	CHECK(irqroute_batch_submit(b, &failed) == 0 && failed == NULL);
	CHECK(fake.calls == 1 && fake.cmd == IRQROUTE_SET_MSIS);
	CHECK(fake.arg.msis.size == sizeof(struct irqroute_msis));
	CHECK(fake.arg.msis.flags == 0 && fake.arg.msis.nr == 3);
	CHECK(msi_is(&fake.msis[0], 1, 0, 0xfee01000, 0x41, 0));
	CHECK(msi_is(&fake.msis[1], 2, IRQROUTE_MSI_F_CLEAR, 0, 0, 0));
	CHECK(msi_is(&fake.msis[2], 1023, IRQROUTE_MSI_F_DEVID,
		     0x123456789ULL, 0x42, 77));
	/* Submitted: the batch is empty again. */
	CHECK(irqroute_batch_submit(b, NULL) == 0 && fake.calls == 1);

	/* The module names entry 1: that is r2. */
	CHECK(irqroute_batch_set_msi(b, &r, 0xfee00000, 0x40) == 0);
	CHECK(irqroute_batch_set_msi(b, &r2, 0xfee00000, 0x40) == 0);
	fake.ret = -ENOENT;
	fake.msis_failed = 1;
	CHECK(irqroute_batch_submit(b, &failed) == -ENOENT && failed == &r2);
	/* No entry to blame (the table as a whole): NULL. */
	CHECK(irqroute_batch_set_msi(b, &r, 0xfee00000, 0x40) == 0);
	fake.ret = -EINVAL;
	fake.msis_failed = 1;
	CHECK(irqroute_batch_submit(b, &failed) == -EINVAL && failed == NULL);
	fake.ret = 0;

	/* Many entries: the arrays grow; restaging keeps one per route. */
	for (unsigned int i = 0; i < NR_ROUTES; i++) {
		struct irqroute_route ri;

		__irqroute_route_init(ir, &ri, i);
		CHECK(irqroute_batch_set_msi(b, &ri, 0xfee00000, i) == 0);
		CHECK(irqroute_batch_set_msi(b, &ri, 0xfee00000, i + 1) == 0);
	}
	CHECK(irqroute_batch_submit(b, NULL) == 0);
	CHECK(fake.arg.msis.nr == NR_ROUTES);
	CHECK(msi_is(&fake.msis[7], 7, 0, 0xfee00000, 8, 0));

	/* Free without submit is an abort: no call. */
	fake.calls = 0;
	irqroute_batch_free(b2);
	irqroute_batch_free(b);
	irqroute_batch_free(NULL);
	CHECK(fake.calls == 0);
	free(ir);
	free(ir2);
	return true;
}

static bool test_ioctl_forms(void)
{
	struct irqroute *ir = fake_attach();
	struct irqroute_route r;
	bool pending = false;

	__irqroute_route_init(ir, &r, 3);
	fake_reset();
	CHECK(irqroute_mask_ioctl(&r) == 0);
	CHECK(fake.cmd == IRQROUTE_MASK && fake.arg.op.index == 3);
	CHECK(irqroute_unmask_ioctl(&r) == 0);
	CHECK(fake.cmd == IRQROUTE_UNMASK && fake.arg.op.index == 3);
	fake.result = 1;
	CHECK(irqroute_consume_pending_ioctl(&r, &pending) == 0);
	CHECK(fake.cmd == IRQROUTE_CONSUME_PENDING && pending);
	fake.result = 0;
	CHECK(irqroute_consume_pending_ioctl(&r, &pending) == 0);
	CHECK(!pending);
	CHECK(irqroute_consume_pending_ioctl(&r, NULL) == 0);
	fake.ret = -EPERM;
	pending = true;
	CHECK(irqroute_consume_pending_ioctl(&r, &pending) == -EPERM);
	CHECK(pending);
	CHECK(fake.calls == 6);
	free(ir);
	return true;
}

static bool test_base_routes_and_stats(void)
{
	struct kvm_irq_routing_entry e[2] = {
		{ .gsi = 3, .type = KVM_IRQ_ROUTING_IRQCHIP },
		{ .gsi = 4, .type = KVM_IRQ_ROUTING_IRQCHIP },
	};
	struct irqroute *ir = fake_attach();
	struct irqroute_stats st;

	fake_reset();
	CHECK(irqroute_set_base_routes(ir, e, 2) == 0);
	CHECK(fake.cmd == IRQROUTE_SET_BASE_ROUTES);
	CHECK(fake.arg.base.size == sizeof(struct irqroute_base_routes));
	CHECK(fake.arg.base.flags == 0 && fake.arg.base.__reserved == 0);
	CHECK(fake.arg.base.nr == 2);
	CHECK(fake.arg.base.entries == (uint64_t)(uintptr_t)e);
	CHECK(irqroute_set_base_routes(ir, NULL, 0) == 0);
	CHECK(fake.arg.base.nr == 0 && fake.arg.base.entries == 0);

	memset(&st, 0xff, sizeof(st));
	CHECK(irqroute_get_stats(ir, &st) == 0);
	CHECK(fake.cmd == IRQROUTE_GET_STATS);
	CHECK(fake.arg.stats.size == sizeof(st));
	CHECK(fake.arg.stats.flags == 0 && fake.arg.stats.signals == 0);
	CHECK(irqroute_get_stats(ir, NULL) == -EFAULT);
	CHECK(irqroute_fd(ir) == FAKE_FD);
	free(ir);
	return true;
}

static bool test_route_lifecycle(void)
{
	struct irqroute *ir = fake_attach();
	struct irqroute_route *r = NULL, *r2 = NULL;
	struct irqroute_route_create c;
	int trigger, trigger2;

	fake_reset();
	fake.index = 42;
	CHECK(irqroute_route_create(ir, &r) == 0);
	c = fake.arg.create;
	CHECK(fake.cmd == IRQROUTE_ROUTE_CREATE);
	CHECK(c.size == sizeof(c) && c.flags == 0);
	CHECK(c.__reserved[0] == 0 && c.__reserved[1] == 0);
	CHECK(c.trigger_fd >= 0 && c.irqfd_fd >= 0);
	CHECK(c.trigger_fd != c.irqfd_fd);
	/* trigger: EFD_CLOEXEC | EFD_NONBLOCK; irqfd: EFD_CLOEXEC only */
	CHECK(fake.trigger_flags & O_NONBLOCK);
	CHECK(!(fake.irqfd_flags & O_NONBLOCK));
	CHECK(fake.trigger_fdflags & FD_CLOEXEC);
	CHECK(fake.irqfd_fdflags & FD_CLOEXEC);
	CHECK(!fd_is_open(c.irqfd_fd));
	CHECK(irqroute_route_event(r) == c.trigger_fd);
	CHECK(fd_is_open(c.trigger_fd));
	CHECK(irqroute_route_index(r) == 42);
	CHECK(irqroute_route_gsi(r) == GSI_BASE + 42);
	irqroute_mask(r);
	CHECK(bitmap_only(mask_words(ir), 0, 1ULL << 42));
	irqroute_unmask(r);
	trigger = c.trigger_fd;

	fake.calls = 0;
	irqroute_route_destroy(r);
	CHECK(fake.calls == 1 && fake.cmd == IRQROUTE_ROUTE_DESTROY);
	CHECK(fake.arg.op.index == 42 && fake.arg.op.flags == 0);
	CHECK(!fd_is_open(trigger));
	CHECK(ir->routes.next == &ir->routes);

	/* A failed create closes both eventfds and leaves *out alone. */
	fake.ret = -ENOSPC;
	r = NULL;
	CHECK(irqroute_route_create(ir, &r) == -ENOSPC);
	CHECK(!r);
	CHECK(!fd_is_open(fake.arg.create.trigger_fd));
	CHECK(!fd_is_open(fake.arg.create.irqfd_fd));
	fake.ret = 0;

	/* An index outside the range is refused and the route destroyed. */
	fake.index = NR_ROUTES;
	CHECK(irqroute_route_create(ir, &r) == -EPROTO);
	CHECK(!r);
	CHECK(fake.cmd == IRQROUTE_ROUTE_DESTROY);
	CHECK(!fd_is_open(fake.arg.create.trigger_fd));

	/* detach closes the triggers of the routes still alive. */
	fake.index = 0;
	CHECK(irqroute_route_create(ir, &r) == 0);
	fake.index = 1;
	CHECK(irqroute_route_create(ir, &r2) == 0);
	trigger = irqroute_route_event(r);
	trigger2 = irqroute_route_event(r2);
	CHECK(fd_is_open(trigger) && fd_is_open(trigger2));
	fake.calls = 0;
	irqroute_detach(ir);
	CHECK(fake.calls == 0);	/* close() of the fd tears routes down */
	CHECK(!fd_is_open(trigger) && !fd_is_open(trigger2));
	CHECK(!fd_is_open(FAKE_FD));
	return true;
}

/* A caller's trigger is never closed by the library; its own are. */
static bool test_caller_trigger(void)
{
	struct irqroute *ir = fake_attach();
	struct irqroute_route *r = NULL, *r2 = NULL;
	int efd = eventfd(0, EFD_CLOEXEC), own;

	fake_reset();

	CHECK(efd >= 0);
	CHECK(irqroute_route_create_fd(ir, -1, 0, &r) == -EBADF);
	CHECK(irqroute_route_create_fd(ir, efd, 1, &r) == -EINVAL);
	CHECK(!r && fake.calls == 0);
	CHECK(irqroute_route_create_fd(ir, efd, 0, &r) == 0);
	CHECK(fake.arg.create.trigger_fd == efd && fake.arg.create.flags == 0);
	CHECK(irqroute_route_event(r) == efd);
	irqroute_route_destroy(r);
	CHECK(fd_is_open(efd));

	/* Failed create: the caller's fd stays open too. */
	fake.ret = -EBUSY;
	CHECK(irqroute_route_create_fd(ir, efd, 0, &r) == -EBUSY);
	CHECK(fd_is_open(efd));
	fake.ret = 0;

	/* detach: the caller's stays, the library's goes. */
	fake.index = 3;
	CHECK(irqroute_route_create_fd(ir, efd, 0, &r) == 0);
	fake.index = 4;
	CHECK(irqroute_route_create(ir, &r2) == 0);
	own = irqroute_route_event(r2);
	irqroute_detach(ir);
	CHECK(fd_is_open(efd) && !fd_is_open(own));
	close(efd);
	return true;
}

/* restore checks its input before any system call. */
static bool test_restore_inputs(void)
{
	struct irqroute *ir = fake_attach();
	struct irqroute_route_state st = {
		.size = sizeof(st), .index = 5, .gsi = GSI_BASE + 5,
		.flags = IRQROUTE_STATE_F_MSI | IRQROUTE_STATE_F_MASKED |
			 IRQROUTE_STATE_F_PENDING,
		.address = 0xfee00000, .data = 0x41,
	};
	struct irqroute_route_state bad;
	struct irqroute_route *r = NULL;

	fake_reset();

	bad = st;
	bad.size = 16;
	CHECK(irqroute_route_restore(ir, &bad, -1, &r) == -EINVAL);
	bad = st;
	bad.flags = IRQROUTE_STATE_F_DEVID;
	CHECK(irqroute_route_restore(ir, &bad, -1, &r) == -EINVAL);
	bad = st;
	bad.gsi = 5;
	CHECK(irqroute_route_restore(ir, &bad, -1, &r) == -ERANGE);
	bad = st;
	bad.index = NR_ROUTES;
	bad.gsi = GSI_BASE + NR_ROUTES;
	CHECK(irqroute_route_restore(ir, &bad, -1, &r) == -ERANGE);
	CHECK(irqroute_route_restore(ir, NULL, -1, &r) == -EFAULT);
	CHECK(fake.calls == 0 && !r);

	/* The kernel is asked for index 5; mask and pending set, MSI last. */
	CHECK(irqroute_route_restore(ir, &st, -1, &r) == 0);
	CHECK(irqroute_route_index(r) == 5);
	CHECK(fake.cmd == IRQROUTE_SET_MSI && fake.arg.msi.index == 5 &&
	      fake.arg.msi.data == 0x41);
	CHECK(mask_words(ir)[0] == 1ULL << 5);
	CHECK(pending_words(ir)[0] == 1ULL << 5);
	irqroute_detach(ir);
	return true;
}

/* A group's base is word-aligned and its words cover only its vectors. */
static bool test_group_words(void)
{
	struct irqroute *ir = fake_attach();
	struct irqroute_group *g = NULL;
	struct irqroute_route *single;
	uint64_t bits;

	fake_reset();

	fake.index = 0;
	CHECK(irqroute_route_create(ir, &single) == 0);
	CHECK(irqroute_group_create(ir, 70, NULL, &g) == 0);
	CHECK(irqroute_group_base(g) == 64);
	CHECK(irqroute_route_index(irqroute_group_route(g, 69)) == 133);
	/* Bits of other routes in the group's last word are not its own. */
	pending_words(ir)[2] = ~0ULL;
	CHECK(irqroute_group_pending(g, 1, &bits) == 0 && bits == 0x3f);
	CHECK(irqroute_group_consume_pending(g, 1, &bits) == 0 && bits == 0x3f);
	CHECK(pending_words(ir)[2] == ~0x3fULL);
	CHECK(irqroute_group_pending(g, 2, &bits) == -EINVAL);
	irqroute_group_destroy(g);
	irqroute_detach(ir);
	return true;
}

static const struct {
	const char *name;
	bool (*fn)(void);
} tests[] = {
	{ "caller_trigger", test_caller_trigger },
	{ "restore_inputs", test_restore_inputs },
	{ "group_words", test_group_words },
	{ "version", test_version },
	{ "stats_caller_sized", test_stats_caller_sized },
	{ "opts_growth", test_opts_growth },
	{ "shm_validate", test_shm_validate },
	{ "attach_bad_opts", test_attach_bad_opts },
	{ "bitmap_layout", test_bitmap_layout },
	{ "neighbour_bits", test_neighbour_bits },
	{ "unmask_pending_ioctl", test_unmask_pending_ioctl },
	{ "no_syscall", test_no_syscall },
	{ "forked_child", test_forked_child },
	{ "fork_then_attach", test_fork_then_attach },
	{ "set_msi", test_set_msi },
	{ "batch", test_batch },
	{ "batch_other_thread", test_batch_other_thread },
	{ "batch_old_module", test_batch_old_module },
	{ "batch_object", test_batch_object },
	{ "ioctl_forms", test_ioctl_forms },
	{ "base_routes_and_stats", test_base_routes_and_stats },
	{ "route_lifecycle", test_route_lifecycle },
};

int main(void)
{
	unsigned int n = sizeof(tests) / sizeof(tests[0]);

	printf("TAP version 13\n1..%u\n", n);
	for (unsigned int i = 0; i < n; i++) {
		bool ok = tests[i].fn();

		printf("%sok %u %s\n", ok ? "" : "not ", i + 1, tests[i].name);
		if (ok)
			passed++;
		else
			failed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
