// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: kernel memory snapshots, for memory per route and per
 * attachment.
 *
 * What is counted: /proc/meminfo (Slab, SUnreclaim, VmallocUsed, Percpu,
 * and the drop of MemFree, which includes every page, user ones too),
 * /proc/slabinfo and /proc/vmallocinfo (by caller), after folding the
 * per-CPU counters (vm/stat_refresh).
 * These are whole-machine numbers: the L1 runs nothing else meanwhile, and
 * deltas over thousands of objects make the per-CPU slab slack small.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

struct slab {
	char name[128];
	long active, objsize;
};

struct mem_snap {
	long slab_kb, sunreclaim_kb, vmalloc_kb, percpu_kb, memfree_kb;
	struct slab *caches;
	unsigned int nr;
	struct slab *vmallocs;		/* by caller: count, bytes */
	unsigned int nr_vmallocs;
};

static void stat_refresh(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, "1", 1) < 0)
		note("vm/stat_refresh: %m");
	close(fd);
}

static void read_meminfo(struct mem_snap *s)
{
	char key[64];
	long val;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		fail("/proc/meminfo: %m");
	while (fscanf(f, "%63s %ld kB\n", key, &val) == 2) {
		if (!strcmp(key, "Slab:"))
			s->slab_kb = val;
		else if (!strcmp(key, "SUnreclaim:"))
			s->sunreclaim_kb = val;
		else if (!strcmp(key, "VmallocUsed:"))
			s->vmalloc_kb = val;
		else if (!strcmp(key, "Percpu:"))
			s->percpu_kb = val;
		else if (!strcmp(key, "MemFree:"))
			s->memfree_kb = val;
	}
	fclose(f);
}

/* "name active_objs num_objs objsize ..." after two header lines. */
static void read_slabinfo(struct mem_snap *s)
{
	char line[512];
	unsigned int max = 0;
	FILE *f = fopen("/proc/slabinfo", "re");

	if (!f)
		fail("/proc/slabinfo: %m");
	while (fgets(line, sizeof(line), f)) {
		struct slab c;
		long num;

		if (sscanf(line, "%127s %ld %ld %ld", c.name, &c.active, &num,
			   &c.objsize) != 4)
			continue;
		if (s->nr == max) {
			max = max ? 2 * max : 256;
			s->caches = realloc(s->caches, max * sizeof(c));
			if (!s->caches)
				fail("out of memory");
		}
		s->caches[s->nr++] = c;
	}
	fclose(f);
}

static struct slab *vmalloc_caller(struct mem_snap *s, const char *caller)
{
	unsigned int i;

	for (i = 0; i < s->nr_vmallocs; i++)
		if (!strcmp(s->vmallocs[i].name, caller))
			return &s->vmallocs[i];
	/* Grown 64 entries at a time. */
	if (!(s->nr_vmallocs & 63)) {
		s->vmallocs = realloc(s->vmallocs, (s->nr_vmallocs + 64) *
				      sizeof(struct slab));
		if (!s->vmallocs)
			fail("out of memory");
	}
	memset(&s->vmallocs[i], 0, sizeof(struct slab));
	snprintf(s->vmallocs[i].name, sizeof(s->vmallocs[i].name), "%s",
		 caller);
	s->nr_vmallocs++;
	return &s->vmallocs[i];
}

/* "0x..-0x.. size caller+0x../0x.. [module] pages=N vmalloc ..." */
static void read_vmallocinfo(struct mem_snap *s)
{
	char line[512], range[64], caller[128];
	FILE *f = fopen("/proc/vmallocinfo", "re");
	struct slab *c;
	long size;

	if (!f)
		fail("/proc/vmallocinfo: %m");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld %127s", range, &size, caller) != 3 ||
		    !strstr(line, "vmalloc"))
			continue;
		caller[strcspn(caller, "+")] = 0;
		c = vmalloc_caller(s, caller);
		c->active++;
		c->objsize += size;
	}
	fclose(f);
}

struct mem_snap *mem_snap(void)
{
	struct mem_snap *s = calloc(1, sizeof(*s));

	if (!s)
		fail("out of memory");
	stat_refresh();
	read_slabinfo(s);
	read_vmallocinfo(s);
	read_meminfo(s);
	return s;
}

void mem_snap_free(struct mem_snap *s)
{
	if (s) {
		free(s->caches);
		free(s->vmallocs);
	}
	free(s);
}

struct mem_delta mem_diff(const struct mem_snap *a, const struct mem_snap *b)
{
	return (struct mem_delta){
		.slab = (b->slab_kb - a->slab_kb) * 1024.0,
		.sunreclaim = (b->sunreclaim_kb - a->sunreclaim_kb) * 1024.0,
		.vmalloc = (b->vmalloc_kb - a->vmalloc_kb) * 1024.0,
		.percpu = (b->percpu_kb - a->percpu_kb) * 1024.0,
		.memfree_drop = (a->memfree_kb - b->memfree_kb) * 1024.0,
	};
}

static const struct slab *find(const struct slab *v, unsigned int nr,
			       const char *name)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

void mem_detail_caches(const char *title, const struct mem_snap *a,
		       const struct mem_snap *b, unsigned int n)
{
	unsigned int i;
	double sum = 0;

	detail("\n%s (%u objects created; slab caches that grew by >= %u "
	       "objects; merged caches show under one name)\n\n"
	       "| slab cache | object size | objects added | per object "
	       "| bytes per object |\n|---|---:|---:|---:|---:|\n",
	       title, n, n / 2);
	for (i = 0; i < b->nr; i++) {
		const struct slab *cb = &b->caches[i];
		const struct slab *ca = find(a->caches, a->nr, cb->name);
		long d = cb->active - (ca ? ca->active : 0);

		if (d < (long)(n / 2))
			continue;
		sum += (double)d * cb->objsize / n;
		detail("| %s | %ld | %ld | %.2f | %.0f |\n", cb->name,
		       cb->objsize, d, (double)d / n,
		       (double)d * cb->objsize / n);
	}
	detail("| **sum** | | | | %.0f |\n", sum);
}

void mem_detail_vmalloc(const char *title, const struct mem_snap *a,
			const struct mem_snap *b, unsigned int n)
{
	unsigned int i;

	detail("\n%s: vmalloc areas added, by caller (/proc/vmallocinfo; "
	       "sizes include the guard page)\n\n"
	       "| caller | areas added | bytes added | bytes per object |\n"
	       "|---|---:|---:|---:|\n", title);
	for (i = 0; i < b->nr_vmallocs; i++) {
		const struct slab *cb = &b->vmallocs[i];
		const struct slab *ca = find(a->vmallocs, a->nr_vmallocs,
					     cb->name);
		long d = cb->objsize - (ca ? ca->objsize : 0);

		if (d <= 0)
			continue;
		detail("| %s | %ld | %ld | %.0f |\n", cb->name,
		       cb->active - (ca ? ca->active : 0), d, (double)d / n);
	}
}
