// SPDX-License-Identifier: GPL-2.0
/*
 * The L2 guest helper's own checks. guest_rip_is_l1_kernel() decides when
 * a failed test says nothing about irqroute (an L2 vCPU running L1 kernel
 * code) and the VM runner runs it again: it must see L1 kernel text, and it
 * must never take the guest's own code for it. The guest counts only the
 * interrupts its local APIC delivered: one injected past the APIC is a
 * stray, counted apart.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

#define STRAY_VECTOR	0x40
#define WAKE_VECTOR	0x41

/*
 * An interrupt KVM injects without the APIC (set up as one whose delivery
 * was cut short, as the nested SVM emulation gets wrong) is a stray: not
 * counted, no EOI; the vector still delivers normally afterwards.
 */
TEST(stray_not_counted)
{
	struct guest *g = guest_create(1);
	uint64_t addr = guest_msi_address(0);

	ASSERT_NE(NULL, g);
	ASSERT_EQ(0, guest_inject_stray(g, 0, STRAY_VECTOR));
	/* The vCPU sleeps in hlt: an interrupt of its own wakes it. */
	ASSERT_EQ(1, guest_signal_msi(g, addr, WAKE_VECTOR));
	ASSERT_EQ(1, guest_wait_count(g, 0, WAKE_VECTOR, 1, 0));
	guest_msleep(GUEST_SETTLE_MS);
	EXPECT_EQ(1, guest_stray_count(g, 0, STRAY_VECTOR));
	EXPECT_EQ(0, guest_count(g, 0, STRAY_VECTOR));

	/* The APIC's own delivery of the vector counts, and once. */
	ASSERT_EQ(1, guest_signal_msi(g, addr, STRAY_VECTOR));
	EXPECT_EQ(1, guest_wait_count(g, 0, STRAY_VECTOR, 1, 0));
	ASSERT_EQ(1, guest_signal_msi(g, addr, WAKE_VECTOR));
	EXPECT_EQ(2, guest_wait_count(g, 0, WAKE_VECTOR, 2, 0));
	guest_msleep(GUEST_SETTLE_MS);
	EXPECT_EQ(1, guest_count(g, 0, STRAY_VECTOR));
	EXPECT_EQ(1, guest_stray_count(g, 0, STRAY_VECTOR));
	EXPECT_EQ(0, guest_stray_count(g, 0, WAKE_VECTOR));
	EXPECT_EQ(3, guest_total(g));
	guest_destroy(g);
}

/*
 * Runs a guest whose vCPU 0 lost its IDT and (@lose_rip) RIP in a child
 * and returns its stderr (the line must not reach the VM runner) and exit
 * status. Without a lost RIP, an interrupt makes it triple-fault.
 */
static void lost_state_child(bool lose_rip, char *buf, size_t size,
			     int *status)
{
	size_t len = 0;
	int fds[2];
	ssize_t n;
	pid_t pid;

	*status = -1;
	buf[0] = '\0';
	if (pipe(fds))
		return;
	pid = fork();
	if (!pid) {
		struct guest *g;

		close(fds[0]);
		dup2(fds[1], 2);
		g = guest_create(1);
		if (!g || guest_lose_state(g, 0, lose_rip))
			_exit(3);
		if (!lose_rip &&
		    guest_signal_msi(g, guest_msi_address(0), STRAY_VECTOR) != 1)
			_exit(5);
		/* The vCPU thread ends the process. */
		guest_msleep(2 * guest_timeout_ms());
		_exit(4);
	}
	close(fds[1]);
	while (pid > 0 && len < size - 1 &&
	       (n = read(fds[0], buf + len, size - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, status, 0);
}

/*
 * TH_LOG()s @buf one line at a time, so that every line gets the "# "
 * prefix: a child's "IRQROUTE-TESTBED-FAULT" line at the start of a line
 * would make the VM runner take this test's own control for a testbed
 * fault (scripts/tap-count.sh).
 */
static void log_lines(struct __test_metadata *_metadata, const char *what,
		      char *buf)
{
	char *save = NULL, *line;

	TH_LOG("%s:", what);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		TH_LOG("  %s", line);
}

/*
 * A child vCPU triple-faults: with its RIP and IDT lost, as in the testbed
 * fault, that is reported as a testbed fault; otherwise as a plain failure.
 */
static void check_triple_fault(struct __test_metadata *_metadata,
			       bool lose_rip)
{
	const char *shutdown = "unexpected exit 8 (SHUTDOWN)";
	bool flagged, triple, shut;
	char buf[8192];
	int status;

	lost_state_child(lose_rip, buf, sizeof(buf), &status);
	flagged = strstr(buf, "IRQROUTE-TESTBED-FAULT");
	triple = strstr(buf, "IRQROUTE-TESTBED-FAULT: L2 vCPU 0 triple-faulted");
	shut = strstr(buf, shutdown);
	/* log_lines() cuts @buf into lines: every check reads it before. */
	if (!shut || triple != lose_rip || flagged != lose_rip)
		log_lines(_metadata, "child's stderr", buf);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(1, WEXITSTATUS(status));
	EXPECT_TRUE(shut);
	/* A testbed-fault line, the triple-fault one, iff the RIP was lost. */
	EXPECT_EQ(lose_rip, triple);
	EXPECT_EQ(lose_rip, flagged);
}

TEST(triple_fault_fetch_is_testbed_fault)
{
	check_triple_fault(_metadata, true);
}

TEST(triple_fault_other_is_not)
{
	check_triple_fault(_metadata, false);
}

/* Out-of-range vCPUs and vectors are refused. */
TEST(stray_inject_bad_args)
{
	struct guest *g = guest_create(1);

	ASSERT_NE(NULL, g);
	EXPECT_EQ(-EINVAL, guest_inject_stray(g, 1, STRAY_VECTOR));
	EXPECT_EQ(-EINVAL, guest_inject_stray(g, 0, GUEST_FIRST_VECTOR - 1));
	EXPECT_EQ(-EINVAL, guest_inject_stray(g, 0, GUEST_SPURIOUS_VECTOR));
	guest_destroy(g);
}

TEST_HARNESS_MAIN
