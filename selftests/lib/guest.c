// SPDX-License-Identifier: GPL-2.0
/*
 * The L2 guest: a KVM VM built with the kernel's KVM selftest library
 * whose vCPUs count every interrupt they take. See guest.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "apic.h"

#include "guest.h"

/* Boot to "sti; hlt" in a nested TCG L1 can take a while. */
#define GUEST_BOOT_TIMEOUT_MS	30000

/*
 * Guest memory. The test binary is loaded into the guest at its own
 * addresses, so the guest code below writes these and the host reads the
 * guest's copies through addr_gva2hva(). Only vCPU i writes row i.
 */
static uint32_t guest_counts[GUEST_MAX_VCPUS][GUEST_NR_VECTORS];
/* Stray deliveries (see guest.h), kept apart from the counts. */
static uint32_t guest_strays[GUEST_MAX_VCPUS][GUEST_NR_VECTORS];
static uint32_t guest_ready[GUEST_MAX_VCPUS];

#define GUEST_RFLAGS_IF		(1u << 9)
/* In-service register, 8 x 32 bits (the KVM library's apic.h has no name). */
#define GUEST_APIC_ISR		0x100

/* Is @vector in service (ISR) in this vCPU's local APIC? */
static bool guest_in_service(unsigned int vector)
{
	return x2apic_read_reg(GUEST_APIC_ISR + (vector / 32) * 0x10) &
	       (1u << (vector % 32));
}

/*
 * Runs in the guest, interrupts disabled (interrupt gate). An external
 * interrupt that the local APIC delivered is in service while its handler
 * runs, and it interrupted code that had interrupts enabled; anything else
 * was injected below KVM's APIC. It is counted apart and takes no EOI
 * (there is nothing of its own in service to end).
 */
static void guest_irq_handler(struct ex_regs *regs)
{
	uint64_t id = x2apic_read_reg(APIC_ID);
	unsigned int v = regs->vector;

	GUEST_ASSERT_1(id < GUEST_MAX_VCPUS, id);
	/* A spurious interrupt is never in service: it takes no EOI. */
	if (v == GUEST_SPURIOUS_VECTOR) {
		__atomic_fetch_add(&guest_counts[id][v], 1, __ATOMIC_SEQ_CST);
		return;
	}
	if (!(regs->rflags & GUEST_RFLAGS_IF) || !guest_in_service(v)) {
		__atomic_fetch_add(&guest_strays[id][v], 1, __ATOMIC_SEQ_CST);
		return;
	}
	__atomic_fetch_add(&guest_counts[id][v], 1, __ATOMIC_SEQ_CST);
	x2apic_write_reg(APIC_EOI, 0);
}

static void guest_main(void)
{
	uint64_t id;

	GUEST_ASSERT(this_cpu_has(X86_FEATURE_X2APIC));
	x2apic_enable();
	/*
	 * Fixed-mode MSIs are dropped unless the APIC is software-enabled;
	 * vector 0xff is the spurious vector.
	 */
	x2apic_write_reg(APIC_SPIV,
			 APIC_SPIV_APIC_ENABLED | GUEST_SPURIOUS_VECTOR);
	x2apic_write_reg(APIC_TASKPRI, 0);

	id = x2apic_read_reg(APIC_ID);
	GUEST_ASSERT_1(id < GUEST_MAX_VCPUS, id);
	__atomic_store_n(&guest_ready[id], 1, __ATOMIC_SEQ_CST);

	/* "sti; hlt" is atomic: no interrupt slips in between. */
	for (;;)
		asm volatile("sti; hlt; cli" ::: "memory");
}

struct guest_vcpu {
	struct guest *g;
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	bool started;
	/* Diagnostics: hold the thread out of KVM_RUN (see below). */
	int hold, held;
};

struct guest {
	struct kvm_vm *vm;
	unsigned int nr_vcpus;
	struct guest_vcpu vcpus[GUEST_MAX_VCPUS];
	/* Host views of guest_counts, guest_strays and guest_ready. */
	uint32_t (*counts)[GUEST_NR_VECTORS];
	uint32_t (*strays)[GUEST_NR_VECTORS];
	/* Strays made on purpose by guest_inject_stray(): not reported. */
	uint32_t injected[GUEST_MAX_VCPUS][GUEST_NR_VECTORS];
	uint32_t *ready;
	int stop;
};

/*
 * A failing guest must not look like an interrupt that was not
 * delivered: end the process, loudly.
 */
static void __attribute__((noreturn, format(printf, 2, 3)))
guest_die(const struct guest_vcpu *gv, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "guest vCPU %u: ", gv->vcpu->id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(1);	/* KSFT_FAIL */
}

static void guest_print_state(const struct guest_vcpu *gv,
			      unsigned int vector);

#define GUEST_PF_VECTOR		14
#define GUEST_PF_FETCH		(1u << 4)

/*
 * A triple fault (KVM_EXIT_SHUTDOWN) resets the vCPU, so its RIP says
 * nothing; but KVM keeps the last exception it saw being delivered. Every
 * guest exception has a handler (a ucall), and all guest code is mapped:
 * a shutdown while a #PF on an instruction fetch was being delivered is a
 * vCPU that ran off to an address that is not the guest's, with an IDT
 * that is not the guest's, as when L1's state lands in the L2 VMCB.
 */
static void guest_check_shutdown(const struct guest_vcpu *gv)
{
	struct kvm_vcpu_events ev;

	if (gv->vcpu->run->exit_reason != KVM_EXIT_SHUTDOWN ||
	    ioctl(gv->vcpu->fd, KVM_GET_VCPU_EVENTS, &ev) ||
	    ev.exception.nr != GUEST_PF_VECTOR ||
	    !ev.exception.has_error_code ||
	    !(ev.exception.error_code & GUEST_PF_FETCH))
		return;
	fprintf(stderr,
		"IRQROUTE-TESTBED-FAULT: L2 vCPU %u triple-faulted delivering a #PF on an instruction fetch (error %#x): the guest's code is all mapped and every exception has a handler, so its state was lost below KVM and irqroute\n",
		gv->vcpu->id, ev.exception.error_code);
}

static void guest_vcpu_exit(struct guest_vcpu *gv)
{
	struct kvm_run *run = gv->vcpu->run;
	struct ucall uc;

	switch (get_ucall(gv->vcpu, &uc)) {
	case UCALL_ABORT:
		guest_die(gv, "%s at %s:%ld (arg %#lx)",
			  (const char *)uc.args[GUEST_ERROR_STRING],
			  (const char *)uc.args[GUEST_FILE],
			  (long)uc.args[GUEST_LINE],
			  (unsigned long)GUEST_ASSERT_ARG(uc, 0));
	case UCALL_UNHANDLED:
		guest_die(gv, "unexpected exception, vector %#lx",
			  (unsigned long)uc.args[0]);
	case UCALL_NONE:
		/* A triple fault, say: where the guest was, and why. */
		fprintf(stderr, "guest vCPU %u: state at exit %u:\n",
			gv->vcpu->id, run->exit_reason);
		vcpu_dump(stderr, gv->vcpu, 2);
		guest_print_state(gv, GUEST_SPURIOUS_VECTOR);
		guest_check_shutdown(gv);
		guest_die(gv, "unexpected exit %u (%s)", run->exit_reason,
			  exit_reason_str(run->exit_reason));
	default:
		guest_die(gv, "unexpected ucall %lu",
			  (unsigned long)uc.cmd);
	}
}

/*
 * With the in-kernel irqchip, hlt stays in KVM: KVM_RUN returns only for
 * a ucall (which here always means trouble) or a signal.
 */
static void *guest_vcpu_thread(void *arg)
{
	struct guest_vcpu *gv = arg;
	int ret;

	for (;;) {
		ret = __vcpu_run(gv->vcpu);
		if (__atomic_load_n(&gv->g->stop, __ATOMIC_SEQ_CST))
			break;
		if (ret < 0 && errno == EINTR) {
			while (__atomic_load_n(&gv->hold, __ATOMIC_SEQ_CST)) {
				__atomic_store_n(&gv->held, 1, __ATOMIC_SEQ_CST);
				usleep(1000);
			}
			__atomic_store_n(&gv->held, 0, __ATOMIC_SEQ_CST);
			continue;
		}
		if (ret < 0)
			guest_die(gv, "KVM_RUN: %s", strerror(errno));
		guest_vcpu_exit(gv);
	}
	return NULL;
}

static void guest_kick_handler(int sig)
{
}

static int guest_kick_init(void)
{
	struct sigaction sa = { .sa_handler = guest_kick_handler };

	/* No SA_RESTART: the point is to make KVM_RUN return. */
	sigemptyset(&sa.sa_mask);
	return sigaction(GUEST_KICK_SIGNAL, &sa, NULL);
}

static void guest_stop(struct guest *g)
{
	unsigned int i;

	__atomic_store_n(&g->stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < g->nr_vcpus; i++) {
		struct guest_vcpu *gv = &g->vcpus[i];

		if (!gv->started)
			continue;
		/*
		 * immediate_exit covers a thread that is between its stop
		 * check and KVM_RUN when the signal lands.
		 */
		__atomic_store_n(&gv->vcpu->run->immediate_exit, 1,
				 __ATOMIC_SEQ_CST);
		pthread_kill(gv->thread, GUEST_KICK_SIGNAL);
		pthread_join(gv->thread, NULL);
		gv->started = false;
	}
}

static bool guest_wait_ready(struct guest *g)
{
	unsigned int i, waited = 0;

	for (i = 0; i < g->nr_vcpus; i++) {
		while (!__atomic_load_n(&g->ready[i], __ATOMIC_SEQ_CST)) {
			if (waited >= GUEST_BOOT_TIMEOUT_MS) {
				fprintf(stderr,
					"guest: vCPU %u not up after %u ms\n",
					i, waited);
				return false;
			}
			guest_msleep(1);
			waited++;
		}
	}
	return true;
}

/* The counters live in one ELF segment: contiguous in host memory too. */
static uint32_t (*guest_map_array(struct guest *g,
				  uint32_t (*a)[GUEST_NR_VECTORS]))
	[GUEST_NR_VECTORS]
{
	uint32_t (*h)[GUEST_NR_VECTORS] = addr_gva2hva(g->vm, (vm_vaddr_t)a);
	uint32_t *last = addr_gva2hva(g->vm, (vm_vaddr_t)
				      &a[GUEST_MAX_VCPUS - 1]
					[GUEST_NR_VECTORS - 1]);

	return last == &h[GUEST_MAX_VCPUS - 1][GUEST_NR_VECTORS - 1] ?
	       h : NULL;
}

static bool guest_map_counts(struct guest *g)
{
	g->counts = guest_map_array(g, guest_counts);
	g->strays = guest_map_array(g, guest_strays);
	g->ready = addr_gva2hva(g->vm, (vm_vaddr_t)guest_ready);
	return g->counts && g->strays;
}

struct guest *guest_create(unsigned int nr_vcpus)
{
	struct kvm_vcpu *vcpus[GUEST_MAX_VCPUS];
	struct guest *g;
	unsigned int i;
	int fd;

	if (!nr_vcpus || nr_vcpus > GUEST_MAX_VCPUS) {
		fprintf(stderr, "guest: %u vCPUs (1..%u)\n", nr_vcpus,
			GUEST_MAX_VCPUS);
		return NULL;
	}
	/* The KVM library would turn a missing /dev/kvm into a SKIP. */
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "guest: /dev/kvm: %s\n", strerror(errno));
		return NULL;
	}
	close(fd);
	/* The library loads the guest code from argv[0]: make it a path. */
	if (!strchr(program_invocation_name, '/'))
		program_invocation_name = "/proc/self/exe";
	if (guest_kick_init()) {
		perror("guest: sigaction");
		return NULL;
	}

	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->nr_vcpus = nr_vcpus;
	/* Creates the in-kernel irqchip, then vCPUs with the host's CPUID. */
	g->vm = vm_create_with_vcpus(nr_vcpus, guest_main, vcpus);
	vm_init_descriptor_tables(g->vm);
	for (i = 0; i < nr_vcpus; i++)
		vcpu_init_descriptor_tables(vcpus[i]);
	for (i = GUEST_FIRST_VECTOR; i < GUEST_NR_VECTORS; i++)
		vm_install_exception_handler(g->vm, i, guest_irq_handler);
	if (!guest_map_counts(g)) {
		fprintf(stderr, "guest: counters not contiguous\n");
		goto err;
	}

	for (i = 0; i < nr_vcpus; i++) {
		struct guest_vcpu *gv = &g->vcpus[i];

		gv->g = g;
		gv->vcpu = vcpus[i];
		if (pthread_create(&gv->thread, NULL, guest_vcpu_thread, gv)) {
			fprintf(stderr, "guest: pthread_create failed\n");
			goto err;
		}
		gv->started = true;
	}
	if (!guest_wait_ready(g))
		goto err;
	return g;

err:
	guest_destroy(g);
	return NULL;
}

/*
 * Stray deliveries are not counted, but never silent: one line each per
 * (vCPU, vector), which scripts/vm-init.sh adds up for the verdict line.
 */
static void guest_report_strays(const struct guest *g)
{
	unsigned int i, v;
	uint32_t n;

	for (i = 0; i < g->nr_vcpus; i++) {
		for (v = 0; v < GUEST_NR_VECTORS; v++) {
			n = guest_stray_count(g, i, v);
			if (n <= g->injected[i][v])
				continue;
			n -= g->injected[i][v];
			fprintf(stderr,
				"IRQROUTE-TESTBED-STRAY: n=%u: L2 vCPU %u took vector %#x %u time(s) not in service in its local APIC or with interrupts off: injected below KVM's APIC, not counted\n",
				n, i, v, n);
		}
	}
}

void guest_destroy(struct guest *g)
{
	if (!g)
		return;
	guest_stop(g);
	if (g->strays)
		guest_report_strays(g);
	kvm_vm_free(g->vm);
	free(g);
}

unsigned int guest_nr_vcpus(const struct guest *g)
{
	return g->nr_vcpus;
}

int guest_vm_fd(const struct guest *g)
{
	return g->vm->fd;
}

struct kvm_vm *guest_vm(struct guest *g)
{
	return g->vm;
}

uint32_t guest_count(const struct guest *g, unsigned int vcpu,
		     unsigned int vector)
{
	if (vcpu >= g->nr_vcpus || vector >= GUEST_NR_VECTORS)
		return 0;
	return __atomic_load_n(&g->counts[vcpu][vector], __ATOMIC_SEQ_CST);
}

uint32_t guest_stray_count(const struct guest *g, unsigned int vcpu,
			   unsigned int vector)
{
	if (vcpu >= g->nr_vcpus || vector >= GUEST_NR_VECTORS)
		return 0;
	return __atomic_load_n(&g->strays[vcpu][vector], __ATOMIC_SEQ_CST);
}

uint64_t guest_vcpu_total(const struct guest *g, unsigned int vcpu)
{
	uint64_t sum = 0;
	unsigned int v;

	for (v = 0; v < GUEST_NR_VECTORS; v++)
		sum += guest_count(g, vcpu, v);
	return sum;
}

uint64_t guest_total(const struct guest *g)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < g->nr_vcpus; i++)
		sum += guest_vcpu_total(g, i);
	return sum;
}

/*
 * A wait ran out. Say what the guest holds, then kick the vCPU out of
 * KVM_RUN once: an interrupt that shows up after the kick was sitting in
 * the vCPU's APIC while the vCPU slept (a lost wake-up), one that does not
 * never reached KVM's APIC at all. Diagnostics only: the caller still gets
 * the count from before the kick, and fails.
 */
/* Bit @vector of the 256-bit APIC register array at @off (IRR, ISR, TMR). */
static bool lapic_bit(const struct kvm_lapic_state *s, unsigned int off,
		      unsigned int vector)
{
	uint32_t word;

	memcpy(&word, &s->regs[off + (vector / 32) * 0x10], sizeof(word));
	return word & (1u << (vector % 32));
}

/* "IRR 0x31 0x45" etc.: every vector set in one APIC register array. */
static void lapic_vectors(const struct kvm_lapic_state *s, unsigned int off,
			  char *buf, size_t len)
{
	unsigned int v;
	size_t n = 0;

	buf[0] = '\0';
	for (v = 0; v < 256 && n + 6 < len; v++)
		if (lapic_bit(s, off, v))
			n += snprintf(buf + n, len - n, " %#x", v);
	if (!n)
		snprintf(buf, len, " none");
}

/*
 * The test binary's code, which the guest runs at the binary's own
 * addresses (static, no PIE): every legitimate L2 RIP is in here.
 */
extern char __executable_start[], etext[];

bool guest_ksym_parse(const char *line, struct guest_ksym *s)
{
	char type;

	s->module[0] = '\0';
	return sscanf(line, "%llx %c %255s [%127[^]]]", &s->addr, &type,
		      s->name, s->module) >= 3 &&
	       (type == 't' || type == 'T') && s->addr;
}

/* "name+0x1c [module]": the L1 kernel text symbol @addr is in, if any. */
static bool l1_kernel_symbol(uint64_t addr, char *buf, size_t len)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	unsigned long long best = 0;
	struct guest_ksym s;
	char line[512];

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!guest_ksym_parse(line, &s) || s.addr > addr ||
		    s.addr <= best)
			continue;
		best = s.addr;
		snprintf(buf, len, "%s+%#llx%s%s%s", s.name, addr - s.addr,
			 s.module[0] ? " [" : "", s.module,
			 s.module[0] ? "]" : "");
	}
	fclose(f);
	/* Past the last symbol of a region is not "in" it. */
	return best && addr - best < 0x10000;
}

bool guest_rip_is_l1_kernel(uint64_t rip, char *buf, size_t len)
{
	if (rip >= (uintptr_t)__executable_start && rip < (uintptr_t)etext)
		return false;
	return l1_kernel_symbol(rip, buf, len);
}

/*
 * The vCPU's local APIC and event state, from a thread that has it out of
 * KVM_RUN: the vector still requested (IRR) means KVM has it and the vCPU
 * was not woken, or a vector in service (ISR) blocks it (PPR); a vector in
 * service that the guest's handler never counted, with no injection
 * pending and the vCPU back in its idle loop, is an injection lost below
 * KVM.
 */
static void guest_print_state(const struct guest_vcpu *gv,
			      unsigned int vector)
{
	struct kvm_vcpu_events ev;
	struct kvm_lapic_state s;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	char irr[128], isr[128], sym[400];
	unsigned int v;
	uint32_t ppr, tpr;

	if (ioctl(gv->vcpu->fd, KVM_GET_LAPIC, &s)) {
		fprintf(stderr, "guest: KVM_GET_LAPIC: %s\n", strerror(errno));
		return;
	}
	memcpy(&ppr, &s.regs[0xa0], sizeof(ppr));
	memcpy(&tpr, &s.regs[0x80], sizeof(tpr));
	lapic_vectors(&s, 0x200, irr, sizeof(irr));
	lapic_vectors(&s, 0x100, isr, sizeof(isr));
	fprintf(stderr,
		"guest: vCPU %u local APIC: vector %#x IRR %d ISR %d TMR %d; TPR %#x PPR %#x; IRR:%s; ISR:%s\n",
		gv->vcpu->id, vector, lapic_bit(&s, 0x200, vector),
		lapic_bit(&s, 0x100, vector), lapic_bit(&s, 0x180, vector),
		tpr, ppr, irr, isr);
	for (v = 0; v < 256; v++)
		if (lapic_bit(&s, 0x100, v))
			fprintf(stderr,
				"guest: vCPU %u: vector %#x in service, the guest counted %u of it\n",
				gv->vcpu->id, v,
				__atomic_load_n(&gv->g->counts[gv->vcpu->id][v],
						__ATOMIC_SEQ_CST));
	if (ioctl(gv->vcpu->fd, KVM_GET_VCPU_EVENTS, &ev) ||
	    ioctl(gv->vcpu->fd, KVM_GET_REGS, &regs)) {
		fprintf(stderr, "guest: vCPU %u: KVM_GET_VCPU_EVENTS/REGS: %s\n",
			gv->vcpu->id, strerror(errno));
		return;
	}
	fprintf(stderr,
		"guest: vCPU %u: rip %#llx (idle loop %#llx..), IF %d, interrupt injected %d nr %#x, shadow %#x; exception injected %d pending %d nr %#x error %d/%#x; nmi injected %d pending %d\n",
		gv->vcpu->id, (unsigned long long)regs.rip,
		(unsigned long long)(uintptr_t)guest_main,
		!!(regs.rflags & GUEST_RFLAGS_IF), ev.interrupt.injected,
		ev.interrupt.nr, ev.interrupt.shadow,
		ev.exception.injected, ev.exception.pending,
		ev.exception.nr, ev.exception.has_error_code,
		ev.exception.error_code, ev.nmi.injected, ev.nmi.pending);
	/* The marker tells scripts/vm-init.sh; see guest.h. */
	if (!guest_rip_is_l1_kernel(regs.rip, sym, sizeof(sym)))
		return;
	fprintf(stderr,
		"IRQROUTE-TESTBED-FAULT: L2 vCPU %u has rip %#llx = %s, L1 kernel code, not the guest's (%p..%p): its state was lost below KVM and irqroute\n",
		gv->vcpu->id, (unsigned long long)regs.rip, sym,
		(void *)__executable_start, (void *)etext);
	/* Only the RIP, or all of L1's state in the L2 VMCB? */
	if (!ioctl(gv->vcpu->fd, KVM_GET_SREGS, &sregs))
		fprintf(stderr,
			"guest: vCPU %u: rsp %#llx cs %#x cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx idt %#llx (the guest's: cr3 %#llx idt %#llx)\n",
			gv->vcpu->id, (unsigned long long)regs.rsp,
			sregs.cs.selector, (unsigned long long)sregs.cr0,
			(unsigned long long)sregs.cr3,
			(unsigned long long)sregs.cr4,
			(unsigned long long)sregs.efer,
			(unsigned long long)sregs.idt.base,
			(unsigned long long)gv->g->vm->pgd,
			(unsigned long long)gv->g->vm->idt);
}

/* Holds the vCPU's thread out of KVM_RUN: false if it did not stop. */
static bool guest_hold(struct guest_vcpu *gv)
{
	unsigned int ms;

	__atomic_store_n(&gv->hold, 1, __ATOMIC_SEQ_CST);
	for (ms = 0; ms < 1000 && !__atomic_load_n(&gv->held,
						    __ATOMIC_SEQ_CST); ms++) {
		pthread_kill(gv->thread, GUEST_KICK_SIGNAL);
		guest_msleep(1);
	}
	if (__atomic_load_n(&gv->held, __ATOMIC_SEQ_CST))
		return true;
	fprintf(stderr, "guest: vCPU %u: could not stop it\n", gv->vcpu->id);
	__atomic_store_n(&gv->hold, 0, __ATOMIC_SEQ_CST);
	return false;
}

static void guest_release(struct guest_vcpu *gv)
{
	__atomic_store_n(&gv->hold, 0, __ATOMIC_SEQ_CST);
}

/* Hold the vCPU's thread out of KVM_RUN and print its state. */
static void guest_dump_lapic(struct guest_vcpu *gv, unsigned int vector)
{
	if (!guest_hold(gv))
		return;
	guest_print_state(gv, vector);
	guest_release(gv);
}

int guest_lose_state(struct guest *g, unsigned int vcpu, bool lose_rip)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct guest_vcpu *gv;
	int ret = 0;

	if (vcpu >= g->nr_vcpus || !g->vcpus[vcpu].started)
		return -EINVAL;
	gv = &g->vcpus[vcpu];
	if (!guest_hold(gv))
		return -EBUSY;
	/* L1's IDT and a kvm_amd-like RIP: neither is mapped in the guest. */
	if (ioctl(gv->vcpu->fd, KVM_GET_SREGS, &sregs) ||
	    ioctl(gv->vcpu->fd, KVM_GET_REGS, &regs)) {
		ret = -errno;
	} else {
		sregs.idt.base = 0xfffffe0000000000ULL;
		if (lose_rip)
			regs.rip = 0xffffffffc0000000ULL;
		if (ioctl(gv->vcpu->fd, KVM_SET_SREGS, &sregs) ||
		    ioctl(gv->vcpu->fd, KVM_SET_REGS, &regs) ||
		    ioctl(gv->vcpu->fd, KVM_SET_MP_STATE, &mp))
			ret = -errno;
	}
	guest_release(gv);
	return ret;
}

int guest_inject_stray(struct guest *g, unsigned int vcpu,
		       unsigned int vector)
{
	struct kvm_vcpu_events ev;
	struct guest_vcpu *gv;
	int ret = 0;

	if (vcpu >= g->nr_vcpus || !g->vcpus[vcpu].started ||
	    vector < GUEST_FIRST_VECTOR || vector >= GUEST_SPURIOUS_VECTOR)
		return -EINVAL;
	gv = &g->vcpus[vcpu];
	if (!guest_hold(gv))
		return -EBUSY;
	/*
	 * An interrupt "being injected": KVM hands it to the CPU on the next
	 * entry without asking the local APIC, as it does with one whose
	 * delivery a VM exit cut short.
	 */
	if (ioctl(gv->vcpu->fd, KVM_GET_VCPU_EVENTS, &ev)) {
		ret = -errno;
	} else {
		ev.interrupt.injected = 1;
		ev.interrupt.nr = vector;
		ev.interrupt.soft = 0;
		ev.flags = 0;
		if (ioctl(gv->vcpu->fd, KVM_SET_VCPU_EVENTS, &ev))
			ret = -errno;
		else
			g->injected[vcpu][vector]++;
	}
	guest_release(gv);
	return ret;
}

static void guest_explain_shortfall(const struct guest *g, unsigned int vcpu,
				    unsigned int vector, uint32_t expected,
				    uint32_t count, unsigned int waited_ms)
{
	uint32_t after;

	fprintf(stderr,
		"guest: vCPU %u vector %#x: %u of %u interrupts after %u ms (vCPU total %llu, guest total %llu)\n",
		vcpu, vector, count, expected, waited_ms,
		(unsigned long long)guest_vcpu_total(g, vcpu),
		(unsigned long long)guest_total(g));
	if (vcpu >= g->nr_vcpus || !g->vcpus[vcpu].started)
		return;
	guest_dump_lapic((struct guest_vcpu *)&g->vcpus[vcpu], vector);
	pthread_kill(g->vcpus[vcpu].thread, GUEST_KICK_SIGNAL);
	guest_msleep(1000);
	after = guest_count(g, vcpu, vector);
	fprintf(stderr,
		"guest: vCPU %u vector %#x: %u after kicking the vCPU out of KVM_RUN (%s)\n",
		vcpu, vector, after,
		after > count ? "it was in the APIC: a lost wake-up" :
				"still not taken: see the APIC state above");
}

uint32_t guest_wait_count(const struct guest *g, unsigned int vcpu,
			  unsigned int vector, uint32_t expected,
			  unsigned int timeout_ms)
{
	struct timespec start, now;
	uint32_t count;
	unsigned int spins = 0;

	if (!timeout_ms)
		timeout_ms = guest_timeout_ms();
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		count = guest_count(g, vcpu, vector);
		if (count > expected)
			fprintf(stderr,
				"guest: vCPU %u vector %#x: %u interrupts from the local APIC, %u expected (%u stray ones apart)\n",
				vcpu, vector, count, expected,
				guest_stray_count(g, vcpu, vector));
		if (count >= expected)
			return count;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000 >= timeout_ms) {
			guest_explain_shortfall(g, vcpu, vector, expected,
						count, timeout_ms);
			return count;
		}
		/* Poll fast first: most deliveries take well under 1 ms. */
		if (++spins < 100)
			sched_yield();
		else
			usleep(200);
	}
}

bool guest_fence(const struct guest *g, int fd, unsigned int vcpu,
		 unsigned int vector)
{
	uint32_t before = guest_count(g, vcpu, vector);

	if (guest_signal_fd(fd))
		return false;
	if (guest_wait_count(g, vcpu, vector, before + 1, 0) != before + 1)
		return false;
	guest_msleep(GUEST_SETTLE_MS);
	return true;
}

int guest_hold_and_check_apics(struct guest *g)
{
	struct kvm_lapic_state s;
	unsigned int i, v;
	int left = 0;

	guest_stop(g);
	for (i = 0; i < g->nr_vcpus; i++) {
		if (ioctl(g->vcpus[i].vcpu->fd, KVM_GET_LAPIC, &s)) {
			fprintf(stderr, "guest: KVM_GET_LAPIC: %s\n",
				strerror(errno));
			return -1;
		}
		for (v = GUEST_FIRST_VECTOR; v < GUEST_SPURIOUS_VECTOR; v++) {
			bool irr = lapic_bit(&s, 0x200, v);
			bool isr = lapic_bit(&s, 0x100, v);

			if (!irr && !isr)
				continue;
			left++;
			fprintf(stderr,
				"guest: vCPU %u: vector %#x still %s in its local APIC at the end\n",
				i, v, irr ? "requested (IRR): accepted by KVM, never taken" :
				"in service (ISR): taken, never ended with an EOI");
		}
	}
	return left;
}

bool guest_fence_msi(const struct guest *g, unsigned int vcpu,
		     unsigned int vector)
{
	uint32_t before = guest_count(g, vcpu, vector);

	if (guest_signal_msi((struct guest *)g, guest_msi_address(vcpu),
			     vector) != 1)
		return false;
	return guest_wait_count(g, vcpu, vector, before + 1, 0) == before + 1;
}

int guest_signal_msi(struct guest *g, uint64_t address, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)address,
		.address_hi = (uint32_t)(address >> 32),
		.data = data,
	};
	int ret;

	ret = ioctl(g->vm->fd, KVM_SIGNAL_MSI, &msi);
	return ret < 0 ? -errno : ret;
}
