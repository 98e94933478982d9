// SPDX-License-Identifier: (GPL-2.0 OR MIT)
#include "irqroute-private.h"

#ifndef LIBIRQROUTE_VERSION
#error "LIBIRQROUTE_VERSION must be defined by the build"
#endif

__irqroute_export const char *irqroute_version(void)
{
	return LIBIRQROUTE_VERSION;
}
