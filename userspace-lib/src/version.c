// SPDX-License-Identifier: (GPL-2.0 OR MIT)
#include "irqroute-private.h"

#ifndef LIBIRQROUTE_VERSION
#error "LIBIRQROUTE_VERSION must be defined by the build"
#endif

__irqroute_export const char *irqroute_version(void)
{
	return LIBIRQROUTE_VERSION;
}

/* The build's VERSION must be the header's: checked once, at build time. */
#define IRQROUTE_STR2(x)	#x
#define IRQROUTE_STR(x)		IRQROUTE_STR2(x)
_Static_assert(__builtin_strcmp(LIBIRQROUTE_VERSION,
				IRQROUTE_STR(IRQROUTE_VERSION_MAJOR) "."
				IRQROUTE_STR(IRQROUTE_VERSION_MINOR) "."
				IRQROUTE_STR(IRQROUTE_VERSION_PATCH)) == 0,
	       "VERSION and the IRQROUTE_VERSION_* macros of irqroute.h differ");

__irqroute_export int irqroute_version_major(void)
{
	return IRQROUTE_VERSION_MAJOR;
}

__irqroute_export int irqroute_version_minor(void)
{
	return IRQROUTE_VERSION_MINOR;
}

__irqroute_export bool irqroute_check_version(int major, int minor)
{
	return major == IRQROUTE_VERSION_MAJOR &&
	       minor <= IRQROUTE_VERSION_MINOR;
}
