// SPDX-License-Identifier: GPL-2.0
/*
 * The module's own lifecycle: rmmod is refused while anything holds
 * irqroute (an open file, an attachment), and works once the holder has
 * exited; 100 rounds of insmod, attach from a process that exits without
 * cleaning up, rmmod, leave no slab, vmalloc or open-file growth behind.
 *
 * These tests unload and load irqroute.ko (IRQROUTE_KO, default the
 * initramfs's /irqroute/irqroute.ko); the module is loaded again at the
 * end, whatever happened.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"

#include "rtenv.h"

#define ROUNDS		100
#define ROUTES		32
#define DEFAULT_KO	"/irqroute/irqroute.ko"

static bool module_loaded(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/modules", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "irqroute ", 9);
	fclose(f);
	return found;
}

static int module_unload(void)
{
	return syscall(SYS_delete_module, "irqroute", O_NONBLOCK) ? -errno : 0;
}

static int module_load(void)
{
	const char *ko = getenv("IRQROUTE_KO") ?: DEFAULT_KO;
	int fd, ret = 0;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", ko, strerror(errno));
		return -errno;
	}
	if (syscall(SYS_finit_module, fd, "", 0))
		ret = -errno;
	close(fd);
	return ret;
}

/* A field of /proc/meminfo, in KiB. */
static long meminfo_kb(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':') {
			kb = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

#define MAX_CACHES	512

struct slab_snapshot {
	unsigned int n;
	char name[MAX_CACHES][64];
	long long bytes[MAX_CACHES];
	long long total;
	long files;
};

/*
 * Bytes in live slab objects per cache, and live struct files, from
 * /proc/slabinfo (exact object counts: the VM boots with slub_debug,
 * which disables the per-CPU fast paths). Page-level counters such as
 * SUnreclaim also move with partially used slabs, and fs/file-nr is a
 * per-CPU estimate.
 */
static bool slab_snapshot(struct slab_snapshot *s)
{
	char line[512], name[64];
	long active, total, objsize;
	FILE *f = fopen("/proc/slabinfo", "re");

	if (!f)
		return false;
	memset(s, 0, sizeof(*s));
	s->files = -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld %ld %ld", name, &active, &total,
			   &objsize) != 4)
			continue;	/* the two header lines */
		s->total += (long long)active * objsize;
		if (!strcmp(name, "filp"))
			s->files = active;
		if (s->n < MAX_CACHES) {
			snprintf(s->name[s->n], sizeof(s->name[0]), "%s", name);
			s->bytes[s->n++] = (long long)active * objsize;
		}
	}
	fclose(f);
	return s->total > 0 && s->files > 0;
}

/* Prints the five caches that grew most from @a to @b. */
static void slab_report_growth(const struct slab_snapshot *a,
			       const struct slab_snapshot *b)
{
	static long long delta[MAX_CACHES];
	unsigned int i, j, k;

	for (i = 0; i < b->n; i++) {
		delta[i] = b->bytes[i];
		for (j = 0; j < a->n; j++)
			if (!strcmp(a->name[j], b->name[i])) {
				delta[i] -= a->bytes[j];
				break;
			}
	}
	for (k = 0; k < 5; k++) {
		unsigned int at = 0;

		for (i = 1; i < b->n; i++)
			if (delta[i] > delta[at])
				at = i;
		if (!b->n || delta[at] <= 0)
			break;
		fprintf(stderr, "#   grew: %-24s %+lld bytes\n", b->name[at],
			delta[at]);
		delta[at] = 0;
	}
}

/*
 * Shrinks every slab cache (SLUB's /sys/kernel/slab/<cache>/shrink). On
 * Debian's kernels that changes nothing measurable (slub_debug keeps no
 * per-CPU slabs); under the debug kernel it also takes the cache's
 * objects out of KASAN's quarantine (kasan_cache_shrink()), where freed
 * struct files and task_structs otherwise sit as live objects until the
 * quarantine overflows: measured there, +3321 struct files over the 100
 * stock rounds without it.
 */
static void shrink_slabs(void)
{
	char path[320];
	struct dirent *d;
	DIR *dir = opendir("/sys/kernel/slab");
	int fd;

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 d->d_name);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* an alias, or no such knob */
		if (write(fd, "1", 1) != 1 && errno != EINVAL)
			perror(path);
		close(fd);
	}
	closedir(dir);
}

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	sync();
	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			perror("drop_caches");
		close(fd);
	}
	shrink_slabs();
}

/*
 * A VMM that dies: its own VM (no vCPU needed), @ROUTES routes with MSIs
 * (irqroute's, or with @stock the same through KVM_SET_GSI_ROUTING and
 * raw KVM irqfds, for comparison), the page mapped, a signal on each
 * route, then _exit() without releasing anything. Exit status 0 if all
 * of it worked.
 */
static int doomed_vmm(bool stock)
{
	struct {
		struct kvm_irq_routing table;
		struct kvm_irq_routing_entry e[ROUTES];
	} t = { .table.nr = ROUTES };
	struct irqroute_route *r[ROUTES];
	struct irqroute *ir;
	int kvm, vm, i;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return 10;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return 11;
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0))
		return 12;
	if (stock) {
		for (i = 0; i < ROUTES; i++)
			rt_msi_entry(&t.e[i], 100 + i, 0, 0x40 + i);
		if (ioctl(vm, KVM_SET_GSI_ROUTING, &t.table))
			return 20;
		for (i = 0; i < ROUTES; i++) {
			struct kvm_irqfd irqfd = { .gsi = 100 + i };
			int efd = eventfd(0, EFD_CLOEXEC);

			irqfd.fd = efd;
			if (efd < 0 || ioctl(vm, KVM_IRQFD, &irqfd))
				return 21;
			if (guest_signal_fd(efd))
				return 22;
		}
		_exit(0);
	}
	if (irqroute_attach(vm, NULL, &ir))
		return 13;
	for (i = 0; i < ROUTES; i++) {
		if (irqroute_route_create(ir, &r[i]))
			return 14;
		if (irqroute_set_msi(r[i], guest_msi_address(0), 0x40 + i))
			return 15;
		if (guest_signal_fd(irqroute_route_event(r[i])))
			return 16;
	}
	if (irqroute_mask(r[0]))
		return 17;
	_exit(0);
}

FIXTURE(module) {
	int unused;
};

FIXTURE_SETUP(module)
{
	ASSERT_TRUE(module_loaded());
}

FIXTURE_TEARDOWN(module)
{
	/* Leave irqroute loaded for whatever runs next. */
	if (!module_loaded() && module_load())
		fprintf(stderr, "module_test: could not load irqroute again\n");
}

/* An open file holds the module: rmmod says EWOULDBLOCK; after close, ok. */
TEST_F(module, rmmod_refused_while_open)
{
	int fd = open("/dev/irqroute", O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(-EWOULDBLOCK, module_unload());
	ASSERT_TRUE(module_loaded());
	close(fd);
	ASSERT_EQ(0, module_unload());
	ASSERT_FALSE(module_loaded());
	ASSERT_EQ(0, module_load());
	ASSERT_TRUE(module_loaded());
}

/* An attachment with a live route: refused, and the route still works. */
TEST_F(module, rmmod_refused_while_attached)
{
	struct rt_env env;
	struct irqroute_route *r;

	ASSERT_EQ(0, rt_env_setup(&env, 1, NULL, false));
	ASSERT_EQ(0, rt_route_new(env.ir, 0, RT_VECTOR(1), &r));
	ASSERT_EQ(-EWOULDBLOCK, module_unload());
	ASSERT_EQ(0, rt_signal(r));
	ASSERT_EQ(1, rt_wait(&env, 0, RT_VECTOR(1), 1));
	irqroute_route_destroy(r);
	rt_env_teardown(&env);
	ASSERT_EQ(0, module_unload());
	ASSERT_EQ(0, module_load());
}

/* A process that exits without cleaning up leaves nothing holding it. */
TEST_F(module, rmmod_after_vmm_exit)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (!pid)
		_exit(doomed_vmm(false));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, module_unload());
	ASSERT_EQ(0, module_load());
}

struct footprint {
	struct slab_snapshot slab;
	long vmalloc;
};

static bool footprint(struct footprint *f)
{
	/* kfree_rcu() and KVM's deferred frees finish within a few GPs. */
	guest_msleep(500);
	drop_caches();
	f->vmalloc = meminfo_kb("VmallocUsed");
	return slab_snapshot(&f->slab) && f->vmalloc > 0;
}

/* One round: optionally reload the module, then a VMM that dies. */
static bool round_ok(bool reload, bool vmm, bool stock)
{
	int status;
	pid_t pid;

	if (reload && (module_unload() || module_load()))
		return false;
	if (!vmm)
		return true;
	pid = fork();
	if (pid < 0)
		return false;
	if (!pid)
		_exit(doomed_vmm(stock));
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

FIXTURE(rounds) {
	struct footprint before, after;
};

FIXTURE_VARIANT(rounds) {
	bool reload, vmm, stock;
};

/* The same VMM without irqroute: what KVM alone leaves behind. */
FIXTURE_VARIANT_ADD(rounds, stock_vmm) {
	.vmm = true, .stock = true,
};

FIXTURE_VARIANT_ADD(rounds, reload_and_vmm) {
	.reload = true, .vmm = true,
};

FIXTURE_SETUP(rounds)
{
	ASSERT_TRUE(module_loaded());
}

FIXTURE_TEARDOWN(rounds)
{
	if (!module_loaded() && module_load())
		fprintf(stderr, "module_test: could not load irqroute again\n");
}

/*
 * 100 rounds of (rmmod, insmod,) a VMM that attaches with 32 routes and
 * dies: no growth in slab objects, vmalloc or struct files. One round's
 * footprint is tens of KiB of slab (32 routes, 64 eventfds and files, KVM
 * irqfds) and a 196 KiB kvzalloc'ed table buffer, so a leak of any of it
 * adds megabytes; the bounds leave room for the noise the stock variant
 * shows (KVM and the rest of the kernel, +-64 KiB over 100 rounds).
 * Struct files: each round closes 64 eventfds and the VM's files, so a
 * file leaked in one round of two crosses FILES_BOUND; the stock variant
 * has shown up to +29 under the debug kernel (RCU-freed files, other
 * processes of the test VM), which a bound of 16 took for a leak.
 */
#define FILES_BOUND	(ROUNDS / 2)
TEST_F_TIMEOUT(rounds, leak_nothing, 600)
{
	unsigned int round;
	long long slab;
	long vmalloc, files;

	/* Warm up caches the first rounds fill for good. */
	for (round = 0; round < 3; round++)
		ASSERT_TRUE(round_ok(variant->reload, variant->vmm,
				     variant->stock));
	ASSERT_TRUE(footprint(&self->before));
	for (round = 0; round < ROUNDS; round++)
		ASSERT_TRUE(round_ok(variant->reload, variant->vmm,
				     variant->stock))
			TH_LOG("round %u", round);
	/*
	 * Routes are freed with kfree_rcu(), which batches for up to a few
	 * seconds (drop_caches runs its shrinker, the grace period still
	 * follows): measure until the numbers settle, for up to 20 s.
	 */
	for (round = 0; round < 20; round++) {
		ASSERT_TRUE(footprint(&self->after));
		slab = self->after.slab.total - self->before.slab.total;
		vmalloc = self->after.vmalloc - self->before.vmalloc;
		files = self->after.slab.files - self->before.slab.files;
		if (slab < 64 * 1024 && vmalloc < 1024 && files < FILES_BOUND)
			break;
		guest_msleep(500);
	}
	TH_LOG("after %u rounds: slab objects %+lld bytes, VmallocUsed %+ld KiB, struct files %+ld",
	       ROUNDS, slab, vmalloc, files);
	slab_report_growth(&self->before.slab, &self->after.slab);
	EXPECT_GT(256 * 1024, slab);
	EXPECT_GT(1024, vmalloc);
	EXPECT_GT(FILES_BOUND, files);
}

TEST_HARNESS_MAIN
