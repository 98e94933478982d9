// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-fuzz: a time-bounded, seeded random-sequence robustness fuzzer
 * of the /dev/irqroute interface, run as root in the test VM (make
 * fuzz-run, scripts/run-fuzz.sh). No vCPU runs, so no delivery to a guest
 * is checked; the mask and pending bits are, by the oracle (oracle.c).
 *
 *   irqroute-fuzz [seconds]
 *
 * Environment:
 *   IRQROUTE_FUZZ_SECONDS        duration when no argument (default 60)
 *   IRQROUTE_FUZZ_SEED           replay a run (the seed it printed)
 *   IRQROUTE_FUZZ_FIRST_EPOCH    start at this epoch of that seed
 *   IRQROUTE_FUZZ_EPOCH_SECONDS  length of one worker's life (default 10)
 *   IRQROUTE_FUZZ_THREADS        threads per worker (default 2-4, random)
 *   IRQROUTE_FUZZ_HANG_SECONDS   a worker late by this much hangs (60)
 *   IRQROUTE_FUZZ_TRACE=1        print every operation (slow)
 *
 * This process is the supervisor: it forks one worker per epoch, with a
 * seed derived from the run's seed and the epoch number, and waits for it
 * with a deadline. It fails if a worker hangs (its tasks' kernel stacks
 * are printed), crashes, or saw something impossible (the oracle's
 * verdicts included); or if the kernel became tainted; or if the run
 * never reached the deep paths. Errors of the operations themselves are
 * expected: they are only counted.
 *
 * Last line: "IRQROUTE-FUZZ: PASS|FAIL seed=... seconds=... ops=... ops/s=..."
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

static double env_num(const char *name, double def)
{
	const char *v = getenv(name);

	return v && *v ? strtod(v, NULL) : def;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static unsigned long read_tainted(void)
{
	char buf[32] = "";
	int fd = open("/proc/sys/kernel/tainted", O_RDONLY);

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	return strtoul(buf, NULL, 10);
}

static void print_file(const char *path, const char *prefix)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);
	char *line, *next;

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	for (line = buf; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		else
			next = line + strlen(line);
		printf("%s%s\n", prefix, line);
	}
}

/* Every thread of @pid: its state and where it sits in the kernel. */
static void dump_task(pid_t pid)
{
	char path[320], comm[64] = "";
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		int fd, n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", pid,
			 de->d_name);
		fd = open(path, O_RDONLY);
		n = fd < 0 ? 0 : read(fd, comm, sizeof(comm) - 1);
		if (fd >= 0)
			close(fd);
		comm[n > 0 ? n - 1 : 0] = 0;
		printf("# task %d/%s (%s):\n", pid, de->d_name, comm);
		snprintf(path, sizeof(path), "/proc/%d/task/%s/wchan", pid,
			 de->d_name);
		print_file(path, "#   wchan ");
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stack", pid,
			 de->d_name);
		print_file(path, "#   ");
	}
	closedir(d);
}

/* The process group of @pgid: the worker and every child it forked. */
static void dump_hang(pid_t pgid)
{
	struct dirent *de;
	char buf[512];
	int fd, n;
	DIR *d;

	printf("# ----- hang: tasks of worker %d -----\n", pgid);
	d = opendir("/proc");
	while (d && (de = readdir(d))) {
		char path[320], *p;
		int pgrp = 0;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
		/* pid (comm) state ppid pgrp ... */
		p = strrchr(buf, ')');
		if (p && sscanf(p + 2, "%*c %*d %d", &pgrp) == 1 &&
		    pgrp == pgid)
			dump_task(atoi(de->d_name));
	}
	if (d)
		closedir(d);
	fuzz_print_rings();
	printf("# ----- hang: sysrq-w and the kernel log -----\n");
	fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "w", 1) < 0)
			perror("sysrq-trigger");
		close(fd);
	}
	sleep(1);
	{
		static char log[1 << 17];
		int len = klogctl(3, log, sizeof(log) - 1), lines = 0, i;

		if (len > 0) {
			log[len] = 0;
			for (i = len - 1; i > 0 && lines < 200; i--)
				lines += log[i] == '\n';
			printf("%s\n", log + i);
		}
	}
	fflush(stdout);
}

/* Reap every child that is done; returns the status of @worker if it is. */
static bool reap_all(pid_t worker, int *wstatus)
{
	bool done = false;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == worker) {
			*wstatus = status;
			done = true;
		}
	}
	return done;
}

static void kill_group(pid_t pgid, int secs)
{
	int status, i;

	kill(-pgid, SIGKILL);
	for (i = 0; i < secs * 10; i++) {
		while (waitpid(-1, &status, WNOHANG) > 0)
			;
		if (kill(-pgid, 0) && errno == ESRCH)
			return;
		usleep(100000);
	}
	printf("# processes of worker %d could not be reaped after SIGKILL\n",
	       pgid);
}

/*
 * Run one epoch. Returns NULL, or why the run fails.
 */
static const char *run_epoch(unsigned int epoch, uint64_t seed, int nthreads,
			     double secs, double hang_secs)
{
	uint64_t start = fuzz_now_ns(), limit;
	int status = 0;
	pid_t pid;

	fuzz_stats->epoch = epoch;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return "fork of a worker failed";
	if (!pid) {
		setpgid(0, 0);
		_exit(worker_main(seed, nthreads, secs));
	}
	setpgid(pid, pid);
	limit = start + (uint64_t)((secs + hang_secs) * 1e9);
	while (!reap_all(pid, &status)) {
		if (fuzz_now_ns() > limit) {
			printf("# epoch %u: the worker did not finish %.0f s after its end\n",
			       epoch, hang_secs);
			dump_hang(pid);
			kill_group(pid, 30);
			return "hang";
		}
		usleep(20000);
	}
	/* Children the worker left behind die with it. */
	kill_group(pid, 10);
	if (WIFSIGNALED(status)) {
		printf("# epoch %u: the worker died of signal %d (%s)\n", epoch,
		       WTERMSIG(status), strsignal(WTERMSIG(status)));
		fuzz_print_rings();
		return "the worker crashed";
	}
	if (WEXITSTATUS(status)) {
		printf("# epoch %u: the worker exited with status %d\n", epoch,
		       WEXITSTATUS(status));
		return WEXITSTATUS(status) == 3 ? "worker setup failed" :
						  "the worker failed";
	}
	return NULL;
}

/* A run that never got past the front door tested nothing. */
static const char *check_depth(double seconds)
{
	static const int needed[] = { OP_ATTACH, OP_CREATE, OP_SET_MSI, OP_MMAP,
				      OP_DESTROY, OP_UNMASK, OP_EFD_SIGNAL };
	static char why[128];
	unsigned int i;

	for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (!fuzz_stats->err[needed[i]][0]) {
			snprintf(why, sizeof(why), "no %s ever succeeded",
				 fuzz_op_name(needed[i]));
			return why;
		}
	}
	if (seconds >= 20 && !fuzz_stats->max_delivered)
		return "GET_STATS never showed a delivered interrupt";
	if (seconds >= 20 && !fuzz_stats->oracle_pending)
		return "the oracle never checked a pending bit";
	return NULL;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? strtod(argv[1], NULL) :
			 env_num("IRQROUTE_FUZZ_SECONDS", 60);
	double epoch_secs = env_num("IRQROUTE_FUZZ_EPOCH_SECONDS", 10);
	double hang_secs = env_num("IRQROUTE_FUZZ_HANG_SECONDS", 60);
	int threads = env_num("IRQROUTE_FUZZ_THREADS", 0);
	unsigned int epoch = env_num("IRQROUTE_FUZZ_FIRST_EPOCH", 0);
	const char *seed_env = getenv("IRQROUTE_FUZZ_SEED");
	const char *why = NULL;
	unsigned long taint0, taint;
	uint64_t start, elapsed_ns = 0;
	double elapsed;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fuzz_page_size = sysconf(_SC_PAGESIZE);
	fuzz_trace = env_num("IRQROUTE_FUZZ_TRACE", 0) > 0;
	if (seed_env && *seed_env)
		fuzz_seed = strtoull(seed_env, NULL, 0);
	else if (getrandom(&fuzz_seed, sizeof(fuzz_seed), 0) != sizeof(fuzz_seed))
		fuzz_seed = mix(time(NULL) ^ getpid());
	if (threads > FUZZ_MAX_THREADS)
		threads = FUZZ_MAX_THREADS;
	if (seconds <= 0)
		seconds = 60;

	printf("# irqroute-fuzz: seed %#llx (replay: IRQROUTE_FUZZ_SEED=%#llx), %.0f s in epochs of %.0f s\n",
	       (unsigned long long)fuzz_seed, (unsigned long long)fuzz_seed,
	       seconds, epoch_secs);
	if (fuzz_stats_init() || access("/dev/irqroute", R_OK | W_OK) ||
	    access("/dev/kvm", R_OK | W_OK)) {
		printf("IRQROUTE-FUZZ: FAIL seed=%#llx: no /dev/irqroute or /dev/kvm (%s)\n",
		       (unsigned long long)fuzz_seed, strerror(errno));
		return 1;
	}
	/* Orphans of the workers come here, and are reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	taint0 = read_tainted();
	start = fuzz_now_ns();

	while (!why && elapsed_ns < seconds * 1e9) {
		uint64_t eseed = mix(fuzz_seed + epoch * 0x9e3779b97f4a7c15ull);
		double left = seconds - elapsed_ns / 1e9;
		double secs = left < epoch_secs ? left : epoch_secs;
		int n = threads ? threads : 2 + eseed % 3;

		if (secs < 1)
			secs = 1;
		printf("# epoch %u: seed %#llx, %d threads, %.0f s (ops so far %llu)\n",
		       epoch, (unsigned long long)eseed, n, secs,
		       (unsigned long long)fuzz_stats->total);
		why = run_epoch(epoch, eseed, n, secs, hang_secs);
		taint = read_tainted();
		/* W: warning, D: oops, B: bad page, L: soft lockup, M: MCE */
		if (!why && (taint & ~taint0) & (512 | 128 | 32 | 16384 | 16)) {
			printf("# the kernel became tainted during epoch %u: %lu -> %lu\n",
			       epoch, taint0, taint);
			why = "kernel tainted";
		}
		if (!why && fuzz_stats->impossible)
			why = "impossible results (above)";
		elapsed_ns = fuzz_now_ns() - start;
		epoch++;
	}
	elapsed = elapsed_ns / 1e9;

	fuzz_print_summary(elapsed);
	if (fuzz_stats->impossible) {
		unsigned int i;

		printf("# %llu impossible results; the first ones:\n",
		       (unsigned long long)fuzz_stats->impossible);
		for (i = 0; i < FUZZ_NR_MSGS && i < fuzz_stats->impossible; i++)
			printf("#   %s\n", fuzz_stats->msg[i]);
	}
	if (!why)
		why = check_depth(seconds);
	printf("IRQROUTE-FUZZ: %s seed=%#llx seconds=%.0f epochs=%u ops=%llu ops/s=%.0f%s%s\n",
	       why ? "FAIL" : "PASS", (unsigned long long)fuzz_seed, elapsed,
	       epoch, (unsigned long long)fuzz_stats->total,
	       elapsed > 0 ? fuzz_stats->total / elapsed : 0.0,
	       why ? ": " : "", why ? why : "");
	return why ? 1 : 0;
}
