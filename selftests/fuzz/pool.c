// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-fuzz: the pool of objects the threads of one process share
 * (irqroute files, VMs, eventfds, shared page slots), what each thread
 * may trust about them, and the operations on the pool itself: open, dup
 * and close.
 *
 * A slot's descriptor may be closed and its number reused by another
 * thread at any time; that is the point. What an ioctl's result is
 * checked against is only trusted if the slot's seqcount did not move
 * while the ioctl ran.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

/*
 * fork() copies the descriptor table before the memory: an irqroute file
 * opened and put in a slot between the two would be in the child's pool
 * but not in its table, or another file would sit at its number. Putting
 * a new descriptor in a slot and forking exclude each other.
 */
static pthread_rwlock_t fork_lock = PTHREAD_RWLOCK_INITIALIZER;

void fd_table_lock(void)
{
	pthread_rwlock_rdlock(&fork_lock);
}

void fd_table_unlock(void)
{
	pthread_rwlock_unlock(&fork_lock);
}

pid_t fuzz_fork_locked(void)
{
	pid_t pid;

	pthread_rwlock_wrlock(&fork_lock);
	pid = fork();
	if (pid)
		pthread_rwlock_unlock(&fork_lock);
	else	/* single-threaded now, and the lock's owner is gone */
		pthread_rwlock_init(&fork_lock, NULL);
	return pid;
}

/* splitmix64: good enough, tiny, and a seed gives one sequence per thread. */
uint64_t rnd(struct fuzz_thread *t)
{
	uint64_t z = (t->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint32_t rnd_below(struct fuzz_thread *t, uint32_t n)
{
	return n ? rnd(t) % n : 0;
}

bool chance(struct fuzz_thread *t, uint32_t percent)
{
	return rnd_below(t, 100) < percent;
}

/* --- the pool ------------------------------------------------------------ */

int slot_fd(const int *fdp)
{
	return __atomic_load_n(fdp, __ATOMIC_RELAXED);
}

/* Take the descriptor out of the slot first: only one thread closes it. */
void slot_close_fd(int *fdp)
{
	int fd = __atomic_exchange_n(fdp, -1, __ATOMIC_ACQ_REL);

	if (fd >= 0)
		close(fd);
}

void slot_put_fd(int *fdp, int fd)
{
	int old = __atomic_exchange_n(fdp, fd, __ATOMIC_ACQ_REL);

	if (old >= 0)
		close(old);
}

static void irq_lock(struct fuzz_irq *s)
{
	while (__atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void irq_unlock(struct fuzz_irq *s)
{
	__atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
}

/*
 * A seqcount: the record is only trusted by a reader that saw the same
 * even value before reading it and after its operation.
 */
static void irq_write_begin(struct fuzz_irq *s)
{
	irq_lock(s);
	__atomic_fetch_add(&s->seq, 1, __ATOMIC_SEQ_CST);
}

static void irq_write_end(struct fuzz_irq *s)
{
	__atomic_fetch_add(&s->seq, 1, __ATOMIC_SEQ_CST);
	irq_unlock(s);
}

void irq_snap(struct fuzz_thread *t, struct fuzz_irq *slot,
	      struct fuzz_irq_snap *s)
{
	s->slot = slot;
	s->seq = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
	s->fd = slot_fd(&slot->fd);
	s->irqroute = __atomic_load_n(&slot->irqroute, __ATOMIC_RELAXED);
	s->attached = __atomic_load_n(&slot->attached, __ATOMIC_RELAXED);
	s->owner = __atomic_load_n(&slot->owner, __ATOMIC_RELAXED);
	s->gsi_base = __atomic_load_n(&slot->gsi_base, __ATOMIC_RELAXED);
	s->nr_routes = __atomic_load_n(&slot->nr_routes, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	s->stable = !(s->seq & 1) && s->fd >= 0 &&
		    __atomic_load_n(&slot->seq, __ATOMIC_RELAXED) == s->seq;
	if (!s->stable) {
		s->irqroute = false;
		s->attached = false;
	}
}

/*
 * An irqroute file, and nothing changed the slot since the snapshot (call
 * after the syscall).
 */
bool irq_snap_valid(const struct fuzz_irq_snap *s)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return s->slot && s->stable && s->irqroute &&
	       __atomic_load_n(&s->slot->seq, __ATOMIC_ACQUIRE) == s->seq;
}

void irq_slot_set_fd(struct fuzz_irq *slot, int fd,
		     const struct fuzz_irq *copy)
{
	int old;

	irq_write_begin(slot);
	old = __atomic_exchange_n(&slot->fd, fd, __ATOMIC_ACQ_REL);
	/* Without a record to copy: just opened from /dev/irqroute. */
	slot->irqroute = copy ? copy->irqroute : fd >= 0;
	slot->attached = copy ? copy->attached : false;
	slot->owner = copy ? copy->owner : 0;
	slot->gsi_base = copy ? copy->gsi_base : 0;
	slot->nr_routes = copy ? copy->nr_routes : 0;
	memset(slot->live, 0, sizeof(slot->live));
	irq_write_end(slot);
	/* After the seq changed: an ioctl in flight no longer trusts it. */
	if (old >= 0)
		close(old);
}

void irq_slot_close(struct fuzz_irq *slot)
{
	irq_slot_set_fd(slot, -1, NULL);
}

/* Record an attach, unless the slot changed while it ran. */
bool irq_slot_attached(struct fuzz_irq *slot, const struct fuzz_irq_snap *s,
		       uint32_t gsi_base, uint32_t nr_routes)
{
	bool ok;

	irq_lock(slot);
	ok = s->stable && __atomic_load_n(&slot->seq, __ATOMIC_RELAXED) == s->seq;
	if (ok) {
		__atomic_fetch_add(&slot->seq, 1, __ATOMIC_SEQ_CST);
		slot->attached = true;
		slot->owner = getpid();
		slot->gsi_base = gsi_base;
		slot->nr_routes = nr_routes;
		memset(slot->live, 0, sizeof(slot->live));
		__atomic_fetch_add(&slot->seq, 1, __ATOMIC_SEQ_CST);
	}
	irq_unlock(slot);
	return ok;
}

void irq_live_set(struct fuzz_irq *slot, uint32_t seq, uint32_t index,
		  bool live)
{
	uint64_t bit = 1ull << (index % 64);

	if (index >= IRQROUTE_MAX_ROUTES ||
	    __atomic_load_n(&slot->seq, __ATOMIC_RELAXED) != seq)
		return;
	if (live)
		__atomic_fetch_or(&slot->live[index / 64], bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&slot->live[index / 64], ~bit,
				   __ATOMIC_RELAXED);
}

/*
 * Any descriptor at all: what a careless or hostile VMM passes where an
 * irqroute file, an eventfd or a VM is expected.
 */
int fd_lottery(struct fuzz_thread *t)
{
	struct fuzz_pool *p = t->pool;

	switch (rnd_below(t, 12)) {
	case 0:
		return -1;
	case 1:
		return 900 + rnd_below(t, 100);	/* never open */
	case 2:
		return chance(t, 50) ? 0x7fffffff : (int)rnd(t);
	case 3:
		return p->devnull;
	case 4:
		return p->kvm;
	case 5:
		return slot_fd(&p->vm[rnd_below(t, FUZZ_NR_VM)].fd);
	case 6:
		return slot_fd(&p->irq[rnd_below(t, FUZZ_NR_IRQ)].fd);
	case 7:
	case 8:
		return slot_fd(&p->efd[rnd_below(t, FUZZ_NR_EFD)].fd);
	case 9:
		return pick_efd(t, EFD_KVM_IRQFD, NULL);
	case 10:
		return 0;
	default:
		return rnd_below(t, 64);
	}
}

/* An eventfd of the pool, preferably one with @prefer_role (-1: any). */
int pick_efd(struct fuzz_thread *t, int prefer_role, struct fuzz_efd **slotp)
{
	struct fuzz_pool *p = t->pool;
	uint32_t start = rnd_below(t, FUZZ_NR_EFD), i;
	struct fuzz_efd *e;

	for (i = 0; i < FUZZ_NR_EFD; i++) {
		e = &p->efd[(start + i) % FUZZ_NR_EFD];
		if (slot_fd(&e->fd) >= 0 &&
		    (prefer_role < 0 || e->role == prefer_role))
			goto found;
	}
	/* None with that role: any, or a new one. */
	e = &p->efd[start];
	if (slot_fd(&e->fd) < 0 || prefer_role == EFD_FREE)
		fuzz_efd_create(t, e);
found:
	if (slotp)
		*slotp = e;
	return slot_fd(&e->fd);
}

/* A VM of the pool, if asked one with an irqchip and no attachment yet. */
struct fuzz_vm *pick_vm(struct fuzz_thread *t, bool want_irqchip)
{
	struct fuzz_pool *p = t->pool;
	uint32_t start = rnd_below(t, FUZZ_NR_VM), i;
	struct fuzz_vm *v;

	for (i = 0; i < FUZZ_NR_VM; i++) {
		v = &p->vm[(start + i) % FUZZ_NR_VM];
		if (slot_fd(&v->fd) < 0)
			continue;
		if (!want_irqchip || (v->kind == VM_IRQCHIP && !v->attached))
			return v;
	}
	/* The old VM, if attached, lives on in its attachment. */
	v = &p->vm[start];
	fuzz_vm_create(t, v, VM_IRQCHIP);
	return v;
}

/* Open and attach a slot: the way back to deep paths after chaos. */
static void ensure_attached(struct fuzz_thread *t, struct fuzz_irq_snap *s)
{
	struct fuzz_irq *slot = &t->pool->irq[rnd_below(t, FUZZ_NR_IRQ)];
	struct fuzz_vm *vm;
	int fd;

	fd_table_lock();
	fuzz_op_begin(t, OP_OPEN, -1, 1, 0);
	fd = open("/dev/irqroute", O_RDWR | O_CLOEXEC);
	fuzz_op_end(t, OP_OPEN, fd < 0 ? -errno : 0);
	if (fd >= 0)
		irq_slot_set_fd(slot, fd, NULL);
	fd_table_unlock();
	if (fd < 0)
		return;
	vm = pick_vm(t, true);
	if (!fuzz_attach(t, slot, slot_fd(&vm->fd))) {
		vm->attached = true;
		if (chance(t, 70))
			fuzz_map_shm(t, slot, rnd_below(t, FUZZ_NR_SHM));
	}
	irq_snap(t, slot, s);
}

/*
 * An irqroute file to call: mostly a slot attached by this process when
 * @want_attached (the deep paths), sometimes any slot, sometimes any fd.
 */
void pick_irq(struct fuzz_thread *t, bool want_attached,
	      struct fuzz_irq_snap *s)
{
	struct fuzz_pool *p = t->pool;
	uint32_t start = rnd_below(t, FUZZ_NR_IRQ), i;
	pid_t me = getpid();

	if (chance(t, 5)) {
		memset(s, 0, sizeof(*s));
		s->fd = fd_lottery(t);
		return;
	}
	if (want_attached && chance(t, 90)) {
		for (i = 0; i < FUZZ_NR_IRQ; i++) {
			irq_snap(t, &p->irq[(start + i) % FUZZ_NR_IRQ], s);
			if (s->attached && s->owner == me && s->fd >= 0)
				return;
		}
		if (chance(t, 50)) {
			ensure_attached(t, s);
			return;
		}
	}
	irq_snap(t, &p->irq[start], s);
}

/* --- operations on the pool itself -------------------------------------- */

void op_open(struct fuzz_thread *t)
{
	struct fuzz_irq *slot = &t->pool->irq[rnd_below(t, FUZZ_NR_IRQ)];
	int flags = chance(t, 90) ? O_RDWR : O_RDONLY;
	int fd;

	/* Mostly keep attachments alive: replace an empty or idle slot. */
	if (slot->attached && chance(t, 70)) {
		uint32_t i;

		for (i = 0; i < FUZZ_NR_IRQ; i++) {
			struct fuzz_irq *o = &t->pool->irq[i];

			if (slot_fd(&o->fd) < 0 || !o->attached) {
				slot = o;
				break;
			}
		}
	}
	fd_table_lock();
	fuzz_op_begin(t, OP_OPEN, -1, flags, 0);
	fd = open("/dev/irqroute", flags | O_CLOEXEC);
	fuzz_op_end(t, OP_OPEN, fd < 0 ? -errno : 0);
	if (fd >= 0)
		irq_slot_set_fd(slot, fd, NULL);
	fd_table_unlock();
}

/* Two descriptors of one file (or of one eventfd) in two slots. */
void op_dup(struct fuzz_thread *t)
{
	struct fuzz_pool *p = t->pool;
	struct fuzz_irq_snap s;
	struct fuzz_irq copy;
	int fd;

	if (chance(t, 25)) {
		int src = slot_fd(&p->efd[rnd_below(t, FUZZ_NR_EFD)].fd);
		struct fuzz_efd *dst = &p->efd[rnd_below(t, FUZZ_NR_EFD)];

		fd_table_lock();
		fuzz_op_begin(t, OP_DUP, src, 0, 0);
		fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
		fuzz_op_end(t, OP_DUP, fd < 0 ? -errno : 0);
		if (fd >= 0) {
			slot_put_fd(&dst->fd, fd);
			dst->role = EFD_TRIGGER;
		}
		fd_table_unlock();
		return;
	}
	irq_snap(t, &p->irq[rnd_below(t, FUZZ_NR_IRQ)], &s);
	fd_table_lock();
	fuzz_op_begin(t, OP_DUP, s.fd, 1, 0);
	fd = fcntl(s.fd, F_DUPFD_CLOEXEC, 3);
	fuzz_op_end(t, OP_DUP, fd < 0 ? -errno : 0);
	if (fd < 0) {
		fd_table_unlock();
		return;
	}
	memset(&copy, 0, sizeof(copy));
	if (irq_snap_valid(&s)) {
		copy.irqroute = true;
		copy.attached = s.attached;
		copy.owner = s.owner;
		copy.gsi_base = s.gsi_base;
		copy.nr_routes = s.nr_routes;
	}
	irq_slot_set_fd(&p->irq[rnd_below(t, FUZZ_NR_IRQ)], fd, &copy);
	fd_table_unlock();
}

void op_close(struct fuzz_thread *t)
{
	struct fuzz_pool *p = t->pool;
	uint32_t r = rnd_below(t, 100);

	if (r < 25) {
		struct fuzz_irq *slot = &p->irq[rnd_below(t, FUZZ_NR_IRQ)];

		fuzz_op_begin(t, OP_CLOSE, slot_fd(&slot->fd), 0, 0);
		irq_slot_close(slot);
		fuzz_op_end(t, OP_CLOSE, 0);
	} else if (r < 85) {
		struct fuzz_efd *e = &p->efd[rnd_below(t, FUZZ_NR_EFD)];

		fuzz_op_begin(t, OP_CLOSE, slot_fd(&e->fd), 1, e->role);
		slot_close_fd(&e->fd);
		e->role = EFD_FREE;
		fuzz_op_end(t, OP_CLOSE, 0);
	} else {
		struct fuzz_vm *v = &p->vm[rnd_below(t, FUZZ_NR_VM)];

		fuzz_op_begin(t, OP_CLOSE, slot_fd(&v->fd), 2, v->kind);
		slot_close_fd(&v->fd);
		fuzz_op_end(t, OP_CLOSE, 0);
	}
}

/* A VMM's usual state: VMs, eventfds, attached files with routes. */
int pool_fill(struct fuzz_thread *t)
{
	struct fuzz_pool *p = t->pool;
	int i, k;

	for (i = 0; i < FUZZ_NR_EFD / 2; i++)
		fuzz_efd_create(t, &p->efd[i]);
	for (i = 0; i < FUZZ_NR_VM; i++)
		fuzz_vm_create(t, &p->vm[i], i < 2 ? VM_IRQCHIP :
				     (int)rnd_below(t, 3));
	for (i = 0; i < 2; i++) {
		struct fuzz_irq *slot = &p->irq[i];
		int fd = open("/dev/irqroute", O_RDWR | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		irq_slot_set_fd(slot, fd, NULL);
		if (fuzz_attach(t, slot, slot_fd(&p->vm[i].fd)))
			continue;
		p->vm[i].attached = true;
		fuzz_map_shm(t, slot, i);
		for (k = 0; k < 4; k++) {
			int idx = fuzz_create(t, slot, slot_fd(&p->efd[i * 4 + k].fd));

			p->efd[i * 4 + k].role = EFD_TRIGGER;
			if (idx >= 0)
				fuzz_set_msi(t, slot, idx);
		}
	}
	return 0;
}

/*
 * In a child: it is single-threaded now. Locks held by threads that do
 * not exist here are released, records half written are dropped, and the
 * arena is reserved again (the shared page mappings were not inherited).
 */
void pool_after_fork(struct fuzz_pool *pool)
{
	int i;

	for (i = 0; i < FUZZ_NR_IRQ; i++) {
		struct fuzz_irq *s = &pool->irq[i];

		s->lock = 0;
		if (s->seq & 1) {
			s->seq++;
			s->attached = false;
		}
	}
	pool->start = 0;
	pool->scratch_lock = 0;
	pool->depth = 1;
	arena_reserve(pool);
}

int pool_init(struct fuzz_pool *p)
{
	int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < FUZZ_NR_IRQ; i++)
		p->irq[i].fd = -1;
	for (i = 0; i < FUZZ_NR_VM; i++)
		p->vm[i].fd = -1;
	for (i = 0; i < FUZZ_NR_EFD; i++)
		p->efd[i].fd = -1;
	p->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	p->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (p->devnull < 0 || p->kvm < 0)
		return -errno;
	return arena_reserve(p);
}

/* Close everything in a random order: release from the VMM itself. */
void pool_teardown(struct fuzz_thread *t)
{
	struct fuzz_pool *p = t->pool;
	int n = FUZZ_NR_IRQ + FUZZ_NR_VM + FUZZ_NR_EFD, i;

	for (i = 0; i < 4 * n; i++) {
		int k = rnd_below(t, n);

		if (k < FUZZ_NR_IRQ)
			irq_slot_close(&p->irq[k]);
		else if (k < FUZZ_NR_IRQ + FUZZ_NR_VM)
			slot_close_fd(&p->vm[k - FUZZ_NR_IRQ].fd);
		else
			slot_close_fd(&p->efd[k - FUZZ_NR_IRQ - FUZZ_NR_VM].fd);
	}
	if (chance(t, 50))
		munmap(p->arena, FUZZ_ARENA_PAGES * fuzz_page_size);
}
