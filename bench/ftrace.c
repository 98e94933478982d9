// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: ftrace's function_graph tracer around a few calls, to
 * see where an ioctl's time goes (IRQROUTE_BENCH_TRACE=<threshold, us>).
 *
 * The graph starts at the ioctl system call of this process only
 * (set_graph_function, set_ftrace_pid), and tracing_thresh keeps the
 * functions that took at least the threshold: a few dozen lines per call
 * instead of every kmalloc() of KVM's table rebuild. Tracing every
 * function under the graph costs time of its own (under TCG about a
 * microsecond a call): compare the two paths' traces with each other,
 * not with the untraced medians. Lines go to stderr (the console), as
 * "TRACE <label>: <line>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define TRACEFS "/sys/kernel/tracing/"

static bool tfs_write(const char *file, const char *val)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TRACEFS "%s", file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		note("ftrace: %s: %s", path, strerror(errno));
		return false;
	}
	n = write(fd, val, strlen(val));
	close(fd);
	if (n != (ssize_t)strlen(val)) {
		note("ftrace: write '%s' to %s: %s", val, path,
		     n < 0 ? strerror(errno) : "short");
		return false;
	}
	return true;
}

bool ftrace_wanted(void)
{
	return guest_env_ulong("IRQROUTE_BENCH_TRACE", 0) > 0;
}

void ftrace_start(void)
{
	char buf[32];

	tfs_write("tracing_on", "0");
	tfs_write("current_tracer", "nop");
	snprintf(buf, sizeof(buf), "%d", getpid());
	tfs_write("set_ftrace_pid", buf);
	/* The x86-64 entry of ioctl(2); older names are tried too. */
	if (!tfs_write("set_graph_function", "__x64_sys_ioctl"))
		tfs_write("set_graph_function", "__se_sys_ioctl");
	snprintf(buf, sizeof(buf), "%lu",
		 guest_env_ulong("IRQROUTE_BENCH_TRACE", 0));
	tfs_write("tracing_thresh", buf);
	tfs_write("options/funcgraph-irqs", "0");
	tfs_write("options/funcgraph-tail", "1");
	tfs_write("trace", "");
	tfs_write("current_tracer", "function_graph");
	tfs_write("tracing_on", "1");
}

void ftrace_stop(const char *label)
{
	char line[512];
	FILE *f;

	tfs_write("tracing_on", "0");
	f = fopen(TRACEFS "trace", "re");
	if (!f) {
		note("ftrace: " TRACEFS "trace: %s", strerror(errno));
	} else {
		while (fgets(line, sizeof(line), f))
			if (line[0] != '#' && line[0] != '\n')
				fprintf(stderr, "TRACE %s: %s", label, line);
		fclose(f);
	}
	tfs_write("current_tracer", "nop");
	tfs_write("tracing_thresh", "0");
	tfs_write("set_graph_function", "");
	tfs_write("set_ftrace_pid", "");
}
