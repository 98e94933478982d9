// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute's trace events: one route's life recorded in a private tracefs
 * instance with events/irqroute enabled, and the events read back in
 * order: attach, create, the commit of its MSI, a signal delivered, a
 * mask through the ioctl, a signal pended, the unmask that fires it, a
 * commit skipped as unchanged, destroy, detach. The guest must have
 * taken both interrupts (the events say what the module did; the guest
 * says it happened).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "rtenv.h"

#define TRACEFS		"/sys/kernel/tracing"
#define VEC		RT_VECTOR(0x33)

static int write_file(const char *dir, const char *file, const char *val)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	return ret;
}

/* The instance's whole trace, NUL-terminated, or NULL. */
static char *read_trace(const char *dir)
{
	size_t len = 0, cap = 1 << 16;
	char path[256], *buf = malloc(cap);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/trace", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += n;
		if (len == cap - 1) {
			char *more = realloc(buf, cap * 2);

			if (!more)
				break;
			buf = more;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = 0;
	return buf;
}

/*
 * Finds each of @want in @trace, in order, each after the previous one;
 * every entry is "event: text" as the event prints it. Returns the index
 * of the first one missing, or -1 if all are there.
 */
static int find_in_order(const char *trace, const char *const *want, int n)
{
	const char *at = trace;
	int i;

	for (i = 0; i < n; i++) {
		at = strstr(at, want[i]);
		if (!at)
			return i;
		at += strlen(want[i]);
	}
	return -1;
}

FIXTURE(trace) {
	char dir[128];
	struct rt_env env;
};

FIXTURE_SETUP(trace)
{
	snprintf(self->dir, sizeof(self->dir),
		 TRACEFS "/instances/irqroute-%d-events", getpid());
	ASSERT_EQ(0, access(TRACEFS "/events/irqroute/enable", F_OK))
		TH_LOG("no irqroute events in tracefs: %s", strerror(errno));
	ASSERT_EQ(0, mkdir(self->dir, 0700)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, write_file(self->dir, "buffer_size_kb", "1024"));
	ASSERT_EQ(0, write_file(self->dir, "events/irqroute/enable", "1"));
	ASSERT_EQ(0, write_file(self->dir, "tracing_on", "1"));
}

FIXTURE_TEARDOWN(trace)
{
	write_file(self->dir, "tracing_on", "0");
	write_file(self->dir, "events/irqroute/enable", "0");
	rmdir(self->dir);
}

TEST_F(trace, one_route)
{
	struct irqroute_stats st;
	struct irqroute_route *r;
	char want[10][128], *trace;
	const char *w[10];
	uint32_t gsi, base;
	int i, missing;

	ASSERT_EQ(0, rt_env_setup(&self->env, 1, NULL, false));
	ASSERT_EQ(0, irqroute_route_create(self->env.ir, &r));
	gsi = irqroute_route_gsi(r);
	base = gsi - irqroute_route_index(r);

	ASSERT_EQ(0, rt_set_msi(r, 0, VEC));
	ASSERT_EQ(0, rt_signal(r));
	ASSERT_EQ(1, rt_wait(&self->env, 0, VEC, 1));
	ASSERT_EQ(0, irqroute_mask_ioctl(r));
	ASSERT_EQ(0, rt_signal(r));
	ASSERT_EQ(0, irqroute_unmask_ioctl(r));
	ASSERT_EQ(2, rt_wait(&self->env, 0, VEC, 2));
	/* The same MSI again: nothing to send to KVM. */
	ASSERT_EQ(0, rt_set_msi(r, 0, VEC));
	ASSERT_EQ(0, rt_stats(self->env.ir, &st));
	irqroute_route_destroy(r);
	rt_env_teardown(&self->env);
	ASSERT_EQ(0, write_file(self->dir, "tracing_on", "0"));

	snprintf(want[0], 128, "irqroute_attach: gsi_base=%u ", base);
	snprintf(want[1], 128, "irqroute_route_create: gsi=%u index=%u ret=0",
		 gsi, gsi - base);
	snprintf(want[2], 128, "irqroute_commit: gsi_base=%u sent ", base);
	snprintf(want[3], 128, "irqroute_gate: gsi=%u index=%u delivered",
		 gsi, gsi - base);
	snprintf(want[4], 128, "irqroute_mask: gsi=%u index=%u mask",
		 gsi, gsi - base);
	snprintf(want[5], 128, "irqroute_gate: gsi=%u index=%u pended",
		 gsi, gsi - base);
	snprintf(want[6], 128,
		 "irqroute_mask: gsi=%u index=%u unmask fired_pending",
		 gsi, gsi - base);
	snprintf(want[7], 128, "irqroute_commit: gsi_base=%u skipped ", base);
	snprintf(want[8], 128, "irqroute_route_destroy: gsi=%u index=%u ret=0",
		 gsi, gsi - base);
	snprintf(want[9], 128, "irqroute_detach: gsi_base=%u ", base);
	for (i = 0; i < 10; i++)
		w[i] = want[i];

	trace = read_trace(self->dir);
	ASSERT_NE(NULL, trace);
	missing = find_in_order(trace, w, 10);
	if (missing >= 0) {
		TH_LOG("missing, in this order: \"%s\"; the trace:", w[missing]);
		fprintf(stderr, "%s", trace);
	}
	EXPECT_EQ(-1, missing);
	/* The irq_work never ran: the direct hand-off took the signal. */
	EXPECT_EQ(0, st.deferred);
	free(trace);
}

TEST_HARNESS_MAIN
