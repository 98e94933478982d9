// SPDX-License-Identifier: GPL-2.0
/*
 * The L2 guest helper's own checks. guest_rip_is_l1_kernel() decides when
 * a failed test says nothing about irqroute (an L2 vCPU running L1 kernel
 * code) and the VM runner runs it again: it must see L1 kernel text, and it
 * must never take the guest's own code for it.
 */
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"

#include "guest.h"

/* First text symbol of @module ("" = the core kernel) in /proc/kallsyms. */
static uint64_t kallsyms_text(const char *module, char *name, size_t len)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	struct guest_ksym s;
	char line[512];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!guest_ksym_parse(line, &s) || strcmp(s.module, module))
			continue;
		snprintf(name, len, "%s", s.name);
		fclose(f);
		return s.addr;
	}
	fclose(f);
	return 0;
}

/* A vCPU found in kvm_amd (where L1's VMRUN is) is flagged, with a name. */
TEST(l1_rip_kvm_amd_text)
{
	char name[256], buf[400], want[300];
	uint64_t a = kallsyms_text("kvm_amd", name, sizeof(name));

	/* Root in the test VM: kallsyms must show addresses. */
	ASSERT_NE(0, a);
	ASSERT_TRUE(guest_rip_is_l1_kernel(a + 4, buf, sizeof(buf)));
	snprintf(want, sizeof(want), "%s+0x4 [kvm_amd]", name);
	EXPECT_STREQ(want, buf);
}

TEST(l1_rip_core_kernel_text)
{
	char name[256], buf[400];
	uint64_t a = kallsyms_text("", name, sizeof(name));

	ASSERT_NE(0, a);
	ASSERT_TRUE(guest_rip_is_l1_kernel(a, buf, sizeof(buf)));
	EXPECT_EQ(0, strncmp(buf, name, strlen(name)));
}

/* The guest's own code, and addresses no kernel text is at, are not. */
TEST(l1_rip_guest_code_is_not)
{
	char buf[400];

	EXPECT_FALSE(guest_rip_is_l1_kernel((uintptr_t)guest_create, buf,
					    sizeof(buf)));
	EXPECT_FALSE(guest_rip_is_l1_kernel((uintptr_t)guest_msleep, buf,
					    sizeof(buf)));
	EXPECT_FALSE(guest_rip_is_l1_kernel(0, buf, sizeof(buf)));
	EXPECT_FALSE(guest_rip_is_l1_kernel(0xfff0, buf, sizeof(buf)));
	EXPECT_FALSE(guest_rip_is_l1_kernel(0x00007ffffffff000ULL, buf,
					    sizeof(buf)));
}

TEST_HARNESS_MAIN
