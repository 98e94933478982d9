// SPDX-License-Identifier: GPL-2.0
/*
 * Read the irqroute counters (IRQROUTE_GET_STATS) of a running VMM, for the
 * end-to-end test (selftests/qemu/run-e2e.sh). Built twice from this file:
 *
 * irqroute-peek <pid>  (static program)
 *	Takes the VMM's /dev/irqroute descriptor with pidfd_open() +
 *	pidfd_getfd() (found through the /proc/<pid>/fd links) and calls
 *	IRQROUTE_GET_STATS on it. The module answers EPERM: the stats, like
 *	every attached ioctl, are for the VM's own process only (an fd peer
 *	is refused, Documentation/irqroute.rst 3.5). The test checks exactly
 *	that. Prints
 *	  "peek: fds=N"  (how many /dev/irqroute descriptors the process has)
 *	then for the first one either the counters ("stats: ...") or
 *	  "peek: GET_STATS errno=E (<name>)"
 *	Exit status 0 if it could ask, 2 if it could not (no such process,
 *	pidfd_getfd refused, ...).
 *
 * irqroute-peek.so  (-DIRQROUTE_PEEK_PRELOAD, LD_PRELOAD into the VMM)
 *	The counters as the VMM itself sees them: a thread of the VMM, with
 *	every signal blocked, waits on the FIFO named by $IRQROUTE_PEEK_FIFO;
 *	for each line written there it calls IRQROUTE_GET_STATS on each
 *	/dev/irqroute descriptor of the process and appends the result to
 *	$IRQROUTE_PEEK_OUT ("stats: ..." lines, or "stats: none" when the
 *	process has no such descriptor). Nothing happens without
 *	$IRQROUTE_PEEK_FIFO.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/irqroute.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* The descriptors of @pid (or "self") open on /dev/irqroute; returns how many. */
static int find_irqroute_fds(const char *pid, int *fds, int max)
{
	char dir[64], link[340], target[300];
	struct dirent *de;
	int n = 0;
	ssize_t len;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = 0;
		if (strcmp(target, "/dev/irqroute"))
			continue;
		if (n < max)
			fds[n] = atoi(de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static int get_stats(int fd, struct irqroute_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return ioctl(fd, IRQROUTE_GET_STATS, st) ? -errno : 0;
}

static void print_stats(FILE *f, int fd, const struct irqroute_stats *st)
{
	fprintf(f, "stats: fd=%d signals=%llu delivered=%llu pended=%llu commits=%llu commits_skipped=%llu feedback=%llu deferred=%llu\n",
		fd, (unsigned long long)st->signals,
		(unsigned long long)st->delivered,
		(unsigned long long)st->pended,
		(unsigned long long)st->commits,
		(unsigned long long)st->commits_skipped,
		(unsigned long long)st->feedback,
		(unsigned long long)st->deferred);
}

#ifdef IRQROUTE_PEEK_PRELOAD
#include <pthread.h>
#include <signal.h>

static void *peek_thread(void *arg)
{
	const char *fifo = arg, *outpath = getenv("IRQROUTE_PEEK_OUT");
	struct irqroute_stats st;
	int fds[8], n, i, fd, ret;
	char buf[64];
	FILE *out;

	for (;;) {
		fd = open(fifo, O_RDONLY | O_CLOEXEC);	/* waits for a writer */
		if (fd < 0)
			return NULL;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		out = fopen(outpath ? outpath : "/dev/stderr", "ae");
		if (!out)
			continue;
		n = find_irqroute_fds("self", fds, 8);
		if (n <= 0)
			fprintf(out, "stats: none\n");
		for (i = 0; i < n && i < 8; i++) {
			ret = get_stats(fds[i], &st);
			if (ret)
				fprintf(out, "stats: fd=%d error=%d (%s)\n",
					fds[i], -ret, strerror(-ret));
			else
				print_stats(out, fds[i], &st);
		}
		fclose(out);
	}
}

__attribute__((constructor)) static void peek_init(void)
{
	const char *fifo = getenv("IRQROUTE_PEEK_FIFO");
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;

	if (!fifo)
		return;
	/* Born with every signal blocked: the VMM's signals are not ours. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, peek_thread, strdup(fifo)))
		fprintf(stderr, "irqroute-peek.so: no thread\n");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

#else

int main(int argc, char **argv)
{
	struct irqroute_stats st;
	int pidfd, fd, n, fds[8], ret;

	if (argc != 2) {
		fprintf(stderr, "usage: irqroute-peek <pid>\n");
		return 2;
	}
	n = find_irqroute_fds(argv[1], fds, 8);
	if (n < 0) {
		fprintf(stderr, "peek: /proc/%s/fd: %s\n", argv[1], strerror(-n));
		return 2;
	}
	printf("peek: fds=%d\n", n);
	if (!n)
		return 0;
	pidfd = syscall(SYS_pidfd_open, atoi(argv[1]), 0);
	if (pidfd < 0) {
		perror("peek: pidfd_open");
		return 2;
	}
	fd = syscall(SYS_pidfd_getfd, pidfd, fds[0], 0);
	if (fd < 0) {
		perror("peek: pidfd_getfd");
		return 2;
	}
	ret = get_stats(fd, &st);
	if (ret)
		printf("peek: GET_STATS errno=%d (%s)\n", -ret, strerror(-ret));
	else
		print_stats(stdout, fds[0], &st);
	return 0;
}
#endif
