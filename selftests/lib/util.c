// SPDX-License-Identifier: GPL-2.0
/*
 * Small host-side helpers shared by the tests: eventfd signals, time,
 * environment knobs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

int guest_signal_fd(int fd)
{
	uint64_t one = 1;
	ssize_t n;

	n = write(fd, &one, sizeof(one));
	if (n < 0)
		return -errno;
	return n == sizeof(one) ? 0 : -EIO;
}

unsigned long guest_env_ulong(const char *name, unsigned long def)
{
	const char *s = getenv(name);
	unsigned long v;
	char *end;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end)
		return def;
	return v;
}

unsigned int guest_timeout_ms(void)
{
	return guest_env_ulong("IRQROUTE_TEST_TIMEOUT_MS", GUEST_TIMEOUT_MS);
}

void guest_msleep(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
