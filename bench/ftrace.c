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
 * not with the untraced medians. One session covers every path compared
 * (ftrace_mark() between them): switching the tracer patches the entry
 * of every kernel function, which under TCG crashed the L1 once (an int3
 * oops in the middle of the text patching, as at boot, see
 * scripts/vm-run.sh), so it is switched on and off once per run. Lines
 * go to stderr (the console), as "TRACE <label>: <line>", then a summary
 * per path and function: calls, total and mean duration ("TRACESUM
 * <label>: ...").
 *
 * IRQROUTE_BENCH_TRACE_FUNC=<function> starts the graph there instead
 * (e.g. stack_trace_save), IRQROUTE_BENCH_TRACE_DEPTH=<n> sets
 * max_graph_depth, IRQROUTE_BENCH_TRACE_QUIET=1 prints the summary only.
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
	return getenv("IRQROUTE_BENCH_TRACE");
}

/*
 * IRQROUTE_BENCH_TRACE_AUTO=<ratio>: trace (as IRQROUTE_BENCH_TRACE does,
 * at its threshold or 100 us) only if a part's own ratio reached <ratio>,
 * for a slowdown that shows in some boots only.
 */
bool ftrace_auto(double ratio)
{
	const char *v = getenv("IRQROUTE_BENCH_TRACE_AUTO");

	return v && ratio >= strtod(v, NULL);
}

void ftrace_start(void)
{
	const char *func;
	char buf[32];

	tfs_write("tracing_on", "0");
	tfs_write("current_tracer", "nop");
	snprintf(buf, sizeof(buf), "%d", getpid());
	tfs_write("set_ftrace_pid", buf);
	func = getenv("IRQROUTE_BENCH_TRACE_FUNC");
	/* The x86-64 entry of ioctl(2) by default. */
	tfs_write("set_graph_function", func ? func : "__x64_sys_ioctl");
	snprintf(buf, sizeof(buf), "%lu",
		 guest_env_ulong("IRQROUTE_BENCH_TRACE_DEPTH", 0));
	tfs_write("max_graph_depth", buf);
	snprintf(buf, sizeof(buf), "%lu",
		 guest_env_ulong("IRQROUTE_BENCH_TRACE",
				 getenv("IRQROUTE_BENCH_TRACE_AUTO") ? 100 : 0));
	tfs_write("tracing_thresh", buf);
	/* Room for some 10^5 calls per CPU. */
	tfs_write("buffer_size_kb", "8192");
	tfs_write("options/funcgraph-irqs", "0");
	tfs_write("options/funcgraph-tail", "1");
	tfs_write("trace", "");
	tfs_write("current_tracer", "function_graph");
	tfs_write("tracing_on", "1");
}

/* What follows in the trace is @label's, until the next mark. */
void ftrace_mark(const char *label)
{
	char buf[96];

	snprintf(buf, sizeof(buf), "MARK %s", label);
	tfs_write("trace_marker", buf);
}

#define SUM_MAX 64

struct fsum {
	char name[64];
	unsigned int calls;
	double us;
};

/*
 * A function_graph line with a duration: " 1) ! 213.2 us  |   } ..." or
 * "...us  |   func();". Its name goes to @name; false for other lines.
 */
static bool parse_line(const char *line, char *name, size_t len, double *us)
{
	const char *bar = strchr(line, '|'), *p, *q;
	char *end;
	size_t n;

	if (!bar || !strstr(line, " us "))
		return false;
	/* Skip the CPU column ("1) "). */
	p = strchr(line, ')');
	if (!p || p > bar)
		return false;
	for (p++; p < bar && !(*p >= '0' && *p <= '9'); p++)
		;
	*us = strtod(p, &end);
	if (end == p || end > bar)
		return false;
	p = bar + 1;
	while (*p == ' ' || *p == '}')
		p++;
	if (!strncmp(p, "/* ", 3))
		p += 3;
	for (q = p; *q && *q != ' ' && *q != '(' && *q != ';' && *q != '\n';
	     q++)
		;
	n = q - p;
	if (!n || n >= len)
		return false;
	memcpy(name, p, n);
	name[n] = 0;
	return true;
}

static int cmp_fsum(const void *a, const void *b)
{
	const struct fsum *x = a, *y = b;

	return x->us < y->us ? 1 : x->us > y->us ? -1 : 0;
}

static void print_sums(const char *label, struct fsum *sum, unsigned int nr)
{
	unsigned int i;

	qsort(sum, nr, sizeof(sum[0]), cmp_fsum);
	for (i = 0; i < nr && i < 30; i++)
		fprintf(stderr, "TRACESUM %s: %-40s %7u calls %11.1f us "
			"%9.2f us/call\n", label, sum[i].name, sum[i].calls,
			sum[i].us, sum[i].us / sum[i].calls);
}

void ftrace_stop(void)
{
	bool quiet = guest_env_ulong("IRQROUTE_BENCH_TRACE_QUIET", 0);
	char line[512], name[64], label[64] = "(before any mark)";
	struct fsum sum[SUM_MAX];
	unsigned int nr = 0, i;
	const char *m;
	double us;
	FILE *f;

	tfs_write("tracing_on", "0");
	f = fopen(TRACEFS "trace", "re");
	if (!f)
		note("ftrace: " TRACEFS "trace: %s", strerror(errno));
	while (f && fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		m = strstr(line, "/* MARK ");
		if (m) {
			print_sums(label, sum, nr);
			nr = 0;
			snprintf(label, sizeof(label), "%s", m + 8);
			label[strcspn(label, "*\n")] = 0;
			if (strlen(label) && label[strlen(label) - 1] == ' ')
				label[strlen(label) - 1] = 0;
			continue;
		}
		if (!quiet)
			fprintf(stderr, "TRACE %s: %s", label, line);
		if (!parse_line(line, name, sizeof(name), &us))
			continue;
		for (i = 0; i < nr && strcmp(sum[i].name, name); i++)
			;
		if (i == nr && nr < SUM_MAX) {
			snprintf(sum[nr].name, sizeof(sum[nr].name), "%s", name);
			sum[nr].calls = 0;
			sum[nr++].us = 0;
		}
		if (i < nr) {
			sum[i].calls++;
			sum[i].us += us;
		}
	}
	if (f)
		fclose(f);
	print_sums(label, sum, nr);
	tfs_write("current_tracer", "nop");
	tfs_write("max_graph_depth", "0");
	tfs_write("tracing_thresh", "0");
	tfs_write("set_graph_function", "");
	tfs_write("set_ftrace_pid", "");
}
