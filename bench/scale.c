// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-bench: many VMs attached at once (64 x 64 routes in the full
 * run): setup time, memory per attachment, set_msi against a stock push
 * of the same table on each VM, and a delivery check on a sample of the
 * routes, alternating with a raw KVM irqfd on a base route of the same VM
 * (as in delivery.c).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

/* Route j of every VM delivers SCALE_VEC(j) on vCPU 0. */
#define SCALE_VEC(j)	(0x30 + (j))
#define SCALE_VEC_ALT	0xd0
#define SCALE_MAX_ROUTES	(SCALE_VEC_ALT - 0x30)
/* Delivery samples per VM and side: the first wake-up of a VM is slow. */
#define SCALE_SAMPLES	3

struct svm {
	struct guest *g;
	struct irqroute *ir;
	struct irqroute_route **r;
	struct kvm_irq_routing *t;	/* the table the module commits */
	int raw_efd;			/* raw irqfd, BENCH_RAW_GSI */
};

/* The sampled route of VM @i: one of 1..nr-1 (route 0 is reprogrammed). */
static unsigned int sampled(unsigned int i, unsigned int nr)
{
	return 1 + (i * 7) % (nr - 1);
}

static double secs_since(uint64_t t0)
{
	return (now_ns() - t0) / 1e9;
}

/* Attach, create and program every VM's routes; returns the wall time. */
static double scale_setup(struct svm *v, unsigned int nv, unsigned int nr)
{
	const struct irqroute_opts opts = {
		.gsi_base = BENCH_GSI_BASE, .nr_routes = nr,
		.flags = IRQROUTE_F_X86_DEFAULT_ROUTES,
	};
	struct kvm_irq_routing_entry base;
	struct mem_snap *m0, *m1, *m2;
	struct mem_delta da, dr;
	struct sample sa, sc, sb;
	unsigned int i, j, n;
	double total = 0, ma, mc, mb;
	uint64_t t0, t;
	struct row *row;

	s_init_budget(&sa, nv, 3600);
	s_init_budget(&sc, nv * nr, 3600);
	s_init_budget(&sb, nv, 3600);
	m0 = mem_snap();
	t0 = now_ns();
	for (i = 0; i < nv; i++) {
		t = now_ns();
		check(irqroute_attach(guest_vm_fd(v[i].g), &opts, &v[i].ir),
		      "irqroute_attach");
		s_add(&sa, now_ns() - t);
	}
	total += secs_since(t0);
	m1 = mem_snap();
	t0 = now_ns();
	for (i = 0; i < nv; i++) {
		v[i].r = calloc(nr, sizeof(*v[i].r));
		if (!v[i].r)
			fail("out of memory");
		for (j = 0; j < nr; j++) {
			t = now_ns();
			check(irqroute_route_create(v[i].ir, &v[i].r[j]),
			      "irqroute_route_create");
			s_add(&sc, now_ns() - t);
		}
	}
	total += secs_since(t0);
	m2 = mem_snap();
	t0 = now_ns();
	for (i = 0; i < nv; i++) {
		t = now_ns();
		check(irqroute_batch_begin(v[i].ir), "irqroute_batch_begin");
		for (j = 0; j < nr; j++)
			check(rt_set_msi(v[i].r[j], 0, SCALE_VEC(j)),
			      "irqroute_set_msi (deferred)");
		check(irqroute_batch_commit(v[i].ir), "irqroute_batch_commit");
		s_add(&sb, now_ns() - t);
	}
	total += secs_since(t0);

	/* The stock side: a base route and a raw irqfd on it, per VM. */
	rt_msi_entry(&base, BENCH_RAW_GSI, 0, VEC_RAW);
	for (i = 0; i < nv; i++) {
		check(irqroute_set_base_routes(v[i].ir, &base, 1),
		      "irqroute_set_base_routes");
		v[i].raw_efd = kvm_irqfd_new(guest_vm_fd(v[i].g),
					     BENCH_RAW_GSI);
		v[i].t = kvm_table(BENCH_GSI_BASE, nr, true);
		for (j = 0; j < nr; j++)
			kvm_table_set_vec(v[i].t, nr, j, SCALE_VEC(j));
	}

	da = mem_diff(m0, m1);
	dr = mem_diff(m1, m2);
	/*
	 * Every page: the table buffer may be vmalloc or plain pages, and
	 * the shared page is neither slab nor vmalloc. Over many
	 * attachments the per-CPU page lists' slack averages out.
	 */
	row = row_set(ROW_MEM_ATTACH, "B",
		      "kernel memory per attachment (%u routes), all pages "
		      "(MemFree drop)", nr);
	row->ir = da.memfree_drop / nv;
	row->ir_n = nv;
	snprintf(row->note, sizeof(row->note),
		 "of which slab %.0f B, vmalloc %.0f B", da.slab / nv,
		 da.vmalloc / nv);
	ma = s_median_us(&sa, &n);
	mc = s_median_us(&sc, &n);
	mb = s_median_us(&sb, &n);
	detail("\n#### Scale: %u VMs x %u routes\n\n"
	       "| step | median per call (us) |\n|---|---:|\n"
	       "| irqroute_attach (commits the table) | %.0f |\n"
	       "| irqroute_route_create | %.0f |\n"
	       "| batch of %u set_msi + commit | %.0f |\n\n",
	       nv, nr, ma, mc, nr, mb);
	detail("| memory (bytes) | Slab | SUnreclaim | VmallocUsed | Percpu "
	       "| MemFree drop |\n|---|---:|---:|---:|---:|---:|\n"
	       "| per attachment | %.0f | %.0f | %.0f | %.0f | %.0f |\n"
	       "| per route (%u routes) | %.0f | %.0f | %.0f | %.0f | %.0f |\n",
	       da.slab / nv, da.sunreclaim / nv, da.vmalloc / nv,
	       da.percpu / nv, da.memfree_drop / nv, nv * nr,
	       dr.slab / (nv * nr), dr.sunreclaim / (nv * nr),
	       dr.vmalloc / (nv * nr), dr.percpu / (nv * nr),
	       dr.memfree_drop / (nv * nr));
	mem_detail_caches("Attachments", m0, m1, nv);
	mem_detail_vmalloc("Attachments", m0, m1, nv);
	mem_snap_free(m0);
	mem_snap_free(m1);
	mem_snap_free(m2);
	return total;
}

static uint64_t timed_push(struct svm *v)
{
	uint64_t t0 = now_ns();

	check(kvm_push(guest_vm_fd(v->g), v->t), "KVM_SET_GSI_ROUTING");
	return now_ns() - t0;
}

/* Round robin over the VMs; set_msi and push alternate which goes first. */
static void scale_set_msi(struct svm *v, unsigned int nv, unsigned int nr,
			  struct row *row)
{
	unsigned int i, round, vec;
	struct sample si, ss;
	bool push_first;
	uint64_t t0;

	s_init(&si, 4 * nv);
	s_init(&ss, 4 * nv);
	for (round = 0; s_more(&si) || s_more(&ss); round++) {
		vec = round & 1 ? SCALE_VEC(0) : SCALE_VEC_ALT;
		for (i = 0; i < nv; i++) {
			push_first = (i + round) & 1;
			if (push_first && s_more(&ss))
				s_add(&ss, timed_push(&v[i]));
			t0 = now_ns();
			check(rt_set_msi(v[i].r[0], 0, vec),
			      "irqroute_set_msi");
			s_add(&si, now_ns() - t0);
			kvm_table_set_vec(v[i].t, nr, 0, vec);
			if (!push_first && s_more(&ss))
				s_add(&ss, timed_push(&v[i]));
		}
	}
	if (round & 1)
		for (i = 0; i < nv; i++)
			check(rt_set_msi(v[i].r[0], 0, SCALE_VEC(0)),
			      "irqroute_set_msi");
	row->ir = s_median_us(&si, &row->ir_n);
	row->stock = s_median_us(&ss, &row->stock_n);
}

/* Signals @efd, spins until @vector moves; 0 if it never does. */
static uint64_t deliver(const struct guest *g, int efd, unsigned int vector,
			uint32_t *before)
{
	uint64_t t0;

	*before = guest_count(g, 0, vector);
	t0 = now_ns();
	check(guest_signal_fd(efd), "eventfd write");
	return spin_delivery(g, vector, *before, t0);
}

/*
 * On every VM: route 0 (reprogrammed) once, then the sampled route and
 * the raw irqfd, alternately, SCALE_SAMPLES times each. Every signal must
 * be exactly one interrupt.
 */
static void scale_deliver(struct svm *v, unsigned int nv, unsigned int nr,
			  struct row *row)
{
	unsigned int i, k, j, vec, got, ok = 0, tried = 0;
	struct sample si, ss;
	uint32_t before;
	uint64_t dt;
	bool raw;

	s_init_budget(&si, nv * SCALE_SAMPLES, 3600);
	s_init_budget(&ss, nv * SCALE_SAMPLES, 3600);
	for (i = 0; i < nv; i++) {
		for (k = 0; k <= 2 * SCALE_SAMPLES; k++) {
			raw = k && (k + i) & 1;
			j = k ? sampled(i, nr) : 0;
			vec = raw ? VEC_RAW : SCALE_VEC(j);
			dt = deliver(v[i].g, raw ? v[i].raw_efd :
				     irqroute_route_event(v[i].r[j]), vec,
				     &before);
			tried++;
			if (!dt) {
				report_problem("VM %u %s: not delivered", i,
					       raw ? "raw irqfd" : "route");
				continue;
			}
			if (k)
				s_add(raw ? &ss : &si, dt);
			guest_msleep(1);
			got = guest_count(v[i].g, 0, vec) - before;
			if (got == 1)
				ok++;
			else
				report_problem("VM %u %s: %u interrupts", i,
					       raw ? "raw irqfd" : "route",
					       got);
		}
	}
	row->ir = si.n ? s_median_us(&si, &row->ir_n) : 0;
	row->stock = ss.n ? s_median_us(&ss, &row->stock_n) : 0;
	snprintf(row->note, sizeof(row->note),
		 "%u of %u signals delivered exactly once", ok, tried);
}

void bench_scale(void)
{
	unsigned int nv = cfg.scale_vms, nr = cfg.scale_routes, i;
	struct row *setup, *set_msi, *dlv;
	struct svm *v;
	double created, torn, own, rc, rp;
	uint64_t t0;

	if (nr < 2 || nr > SCALE_MAX_ROUTES)
		fail("scale: %u routes per VM (2..%u)", nr, SCALE_MAX_ROUTES);
	v = calloc(nv, sizeof(*v));
	if (!v)
		fail("out of memory");
	note("scale: creating %u VMs", nv);
	t0 = now_ns();
	for (i = 0; i < nv; i++) {
		v[i].g = guest_create(1);
		if (!v[i].g)
			fail("guest_create (VM %u of %u)", i + 1, nv);
	}
	created = secs_since(t0);

	setup = row_set(ROW_SCALE_SETUP, "s",
			"%u VMs x %u routes: attach + create + program, total",
			nv, nr);
	set_msi = row_set(ROW_SCALE_SET_MSI, "us",
			  "set_msi, 1 of %u routes, %u VMs attached (stock: "
			  "KVM_SET_GSI_ROUTING of the same table, same VMs)",
			  nr, nv);
	dlv = row_set(ROW_SCALE_DELIVERY, "us",
		      "signal to guest ISR, 1 route per VM, %u VMs (stock: "
		      "raw irqfd on a base route, same VMs)", nv);

	note("scale: attach, routes, commits");
	setup->ir = scale_setup(v, nv, nr);
	setup->ir_n = nv;
	snprintf(setup->note, sizeof(setup->note),
		 "creating the %u VMs took %.1f s (not counted)", nv, created);
	scale_set_msi(v, nv, nr, set_msi);
	own = module_share(guest_vm_fd(v[0].g), v[0].ir, nr, &rc, &rp);
	detail("\nThe module's own time per commit on these attachments "
	       "(%u routes in a %u-route range, as in the cost table): "
	       "%.0f us (paired; medians: refused commit %.0f us, refused "
	       "push %.0f us).\n", nr, nr, own, rc, rp);
	scale_deliver(v, nv, nr, dlv);

	note("scale: teardown");
	t0 = now_ns();
	for (i = 0; i < nv; i++) {
		irqroute_detach(v[i].ir);
		close(v[i].raw_efd);
		free(v[i].r);
		free(v[i].t);
		guest_destroy(v[i].g);
	}
	torn = secs_since(t0);
	detail("\nVM creation %.1f s, teardown (detach + destroy) %.1f s, "
	       "for %u VMs.\n", created, torn, nv);
	free(v);
}
