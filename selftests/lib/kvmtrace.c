// SPDX-License-Identifier: GPL-2.0
/*
 * Counting kvm_apic_accept_irq events in a private tracefs instance.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvmtrace.h"

#define TRACEFS		"/sys/kernel/tracing"
#define EVENT		"events/kvm/kvm_apic_accept_irq"
/* Per CPU; the longest test (2000 mask cycles) traces about 6000 events. */
#define BUFFER_KB	"4096"

struct kvmtrace {
	char dir[128];
};

static int kvmtrace_write(const struct kvmtrace *t, const char *file,
			  const char *val)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", t->dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val)) {
		ret = -errno;
		fprintf(stderr, "kvmtrace: writing '%s' to %s: %s\n", val,
			path, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

struct kvmtrace *kvmtrace_open(void)
{
	static unsigned int seq;
	struct kvmtrace *t;

	if (access(TRACEFS "/" EVENT, F_OK)) {
		fprintf(stderr, "kvmtrace: no %s/%s (tracefs not mounted, kvm not loaded, or a kernel without trace events): %s\n",
			TRACEFS, EVENT, strerror(errno));
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	snprintf(t->dir, sizeof(t->dir), TRACEFS "/instances/irqroute-%d-%u",
		 getpid(), seq++);
	if (mkdir(t->dir, 0700)) {
		fprintf(stderr, "kvmtrace: mkdir %s: %s\n", t->dir,
			strerror(errno));
		free(t);
		return NULL;
	}
	if (kvmtrace_write(t, "buffer_size_kb", BUFFER_KB) ||
	    kvmtrace_write(t, EVENT "/enable", "1") ||
	    kvmtrace_write(t, "tracing_on", "1")) {
		kvmtrace_close(t);
		return NULL;
	}
	return t;
}

void kvmtrace_close(struct kvmtrace *t)
{
	if (!t)
		return;
	kvmtrace_write(t, EVENT "/enable", "0");
	if (rmdir(t->dir))
		fprintf(stderr, "kvmtrace: rmdir %s: %s\n", t->dir,
			strerror(errno));
	free(t);
}

/* Events the instance dropped ("overrun" in each CPU's stats). */
static long kvmtrace_overruns(const struct kvmtrace *t)
{
	char path[256], line[256];
	long total = 0, n;
	int cpu;
	FILE *f;

	for (cpu = 0; ; cpu++) {
		snprintf(path, sizeof(path), "%s/per_cpu/cpu%d/stats", t->dir,
			 cpu);
		f = fopen(path, "re");
		if (!f)
			break;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "overrun: %ld", &n) == 1)
				total += n;
		fclose(f);
	}
	return cpu ? total : -1;
}

int64_t kvmtrace_count(struct kvmtrace *t, unsigned int apic_id,
		       unsigned int vector)
{
	char path[256], *line = NULL, *p;
	unsigned int id, vec;
	size_t size = 0;
	int64_t count = 0;
	long overruns;
	FILE *f;

	overruns = kvmtrace_overruns(t);
	if (overruns) {
		fprintf(stderr, "kvmtrace: %s lost %ld event(s) (or has no per-CPU stats)\n",
			t->dir, overruns);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/trace", t->dir);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "kvmtrace: %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* "... kvm_apic_accept_irq: apicid 1 vec 49 (Fixed|edge)" */
	while (getline(&line, &size, f) > 0) {
		p = strstr(line, "kvm_apic_accept_irq: ");
		if (!p)
			continue;
		if (sscanf(p, "kvm_apic_accept_irq: apicid %x vec %u", &id,
			   &vec) != 2) {
			fprintf(stderr, "kvmtrace: cannot parse: %s", line);
			count = -1;
			break;
		}
		if (id == apic_id && vec == vector)
			count++;
	}
	free(line);
	fclose(f);
	return count;
}
