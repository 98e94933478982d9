// SPDX-License-Identifier: GPL-2.0
/*
 * irqroute-fuzz: the memory side. mmap() of the shared page with any
 * length, protection, flags and offset; munmap, mremap, mprotect and
 * madvise of its mappings; garbage written into it (the kernel must never
 * trust the page); the mask/unmask/consume protocol on it from several
 * threads; and games with the scratch areas the VMM hands to
 * IRQROUTE_ATTACH, where the module writes the arguments of KVM's ioctls.
 *
 * The fuzzer's own MAP_FIXED/munmap/mremap stay inside the arena.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#define TABLE_IRQFD_OFF	(sizeof(struct kvm_irq_routing) + \
			 IRQROUTE_MAX_ROUTES * sizeof(struct kvm_irq_routing_entry))

uint8_t *shm_addr(struct fuzz_pool *pool, int shm)
{
	return pool->arena + (size_t)shm * FUZZ_SHM_SLOT_PAGES * fuzz_page_size;
}

/* Slot @i's scratch area; FUZZ_NR_IRQ is the spare one. */
uint8_t *scratch_addr(struct fuzz_pool *pool, int i)
{
	return shm_addr(pool, FUZZ_NR_SHM) +
	       (size_t)i * FUZZ_SCRATCH_PAGES * fuzz_page_size;
}

static uint8_t *arena_end(struct fuzz_pool *pool)
{
	return pool->arena + FUZZ_ARENA_PAGES * fuzz_page_size;
}

int arena_reserve(struct fuzz_pool *pool)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	void *p;
	int i;

	if (pool->arena)
		flags |= MAP_FIXED;
	p = mmap(pool->arena, FUZZ_ARENA_PAGES * fuzz_page_size, PROT_NONE,
		 flags, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	pool->arena = p;
	for (i = 0; i < FUZZ_NR_SHM; i++)
		pool->shm[i].mapped = 0;
	for (i = 0; i < FUZZ_NR_IRQ; i++) {
		p = mmap(scratch_addr(pool, i), IRQROUTE_SCRATCH_SIZE,
			 PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
	}
	return 0;
}

/* Fill a hole an operation left in the arena, unless something is there. */
static void arena_fill(uint8_t *addr, size_t len)
{
	mmap(addr, len, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
	     -1, 0);
}

struct maps_range {
	uint8_t *start;
	size_t len;
	size_t off;
};

/*
 * Read /proc/self/maps and check what can never be true of the module's
 * mappings, whatever any thread did to them: the shared page is one
 * shared, non-executable page at offset 0, and no anon-inode file of the
 * module's ("[irqroute-...]") is mapped (its KVM arguments go to the
 * scratch area or to anonymous memory mapped for one call). Each line is consistent even while other threads
 * remap.
 */
static void check_maps(struct fuzz_thread *t)
{
	size_t got = 0;
	char *line, *next;
	ssize_t n;
	int fd;

	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (got < t->maps_len - 1 &&
	       (n = read(fd, t->maps + got, t->maps_len - 1 - got)) > 0)
		got += n;
	close(fd);
	t->maps[got] = 0;

	for (line = t->maps; line && *line; line = next) {
		unsigned long start, end, off;
		char perms[5];
		int pos = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (sscanf(line, "%lx-%lx %4s %lx %*s %*s %n", &start, &end,
			   perms, &off, &pos) < 4 || !pos)
			continue;
		if (!strcmp(line + pos, "/dev/irqroute") &&
		    (end - start != (unsigned long)fuzz_page_size || off ||
		     perms[2] == 'x' || perms[3] != 's'))
			fuzz_impossible(t, "shared page mapping %s", line);
		if (strstr(line + pos, "[irqroute"))
			fuzz_impossible(t, "a mapping of the module's: %s",
					line);
	}
}

static void shm_record(struct fuzz_thread *t, int j, struct fuzz_irq *slot,
		       uint32_t seq)
{
	struct fuzz_shm *m = &t->pool->shm[j];

	m->irq = slot - t->pool->irq;
	m->seq = seq;
	m->mapped = 1;
}

/* The mapping a VMM makes, into shared page slot @j of the arena. */
int fuzz_map_shm(struct fuzz_thread *t, struct fuzz_irq *slot, int j)
{
	uint8_t *addr = shm_addr(t->pool, j);
	struct fuzz_irq_snap s;
	void *p;
	int ret;

	irq_snap(t, slot, &s);
	fuzz_op_begin(t, OP_MMAP, s.fd, (uintptr_t)addr, fuzz_page_size);
	p = mmap(addr, fuzz_page_size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, s.fd, 0);
	ret = p == MAP_FAILED ? -errno : 0;
	fuzz_op_end(t, OP_MMAP, ret);
	if (ret) {
		/* A failed MAP_FIXED has unmapped what was there. */
		t->pool->shm[j].mapped = 0;
		arena_fill(addr, fuzz_page_size);
		return ret;
	}
	shm_record(t, j, slot, s.seq);
	return 0;
}

static const int extra_map_flags[] = {
	MAP_POPULATE, MAP_LOCKED, MAP_NORESERVE, MAP_NONBLOCK, MAP_SYNC,
	MAP_STACK, MAP_HUGETLB, MAP_GROWSDOWN, MAP_32BIT, 0x4000000,
};

void op_mmap(struct fuzz_thread *t)
{
	long page = fuzz_page_size;
	uint32_t r, j = rnd_below(t, FUZZ_NR_SHM);
	uint8_t *addr = NULL;
	struct fuzz_irq_snap s;
	int prot, flags, ret;
	size_t len;
	off_t off;
	void *p;

	pick_irq(t, true, &s);
	r = rnd_below(t, 100);
	len = r < 75 ? page : r < 80 ? 1 + rnd_below(t, page - 1) :
	      r < 85 ? 2 * page : r < 88 ? 0 :
	      r < 92 ? page * (2 + rnd_below(t, 3)) : rnd_below(t, 1 << 22);
	r = rnd_below(t, 100);
	prot = r < 70 ? PROT_READ | PROT_WRITE : r < 80 ? PROT_READ :
	       r < 85 ? PROT_WRITE : r < 90 ? PROT_NONE :
	       r < 95 ? PROT_READ | PROT_WRITE | PROT_EXEC :
	       PROT_READ | PROT_EXEC;
	r = rnd_below(t, 100);
	flags = r < 80 ? MAP_SHARED : r < 88 ? MAP_PRIVATE : MAP_SHARED_VALIDATE;
	if (chance(t, 12))
		flags |= extra_map_flags[rnd_below(t, sizeof(extra_map_flags) /
						      sizeof(int))];
	r = rnd_below(t, 100);
	off = r < 88 ? 0 : r < 92 ? page * (1 + rnd_below(t, 4)) :
	      r < 95 ? 1 + rnd_below(t, page - 1) : (off_t)(rnd(t) >> 12) << 12;

	/* Mostly into an arena slot, which stays ours whatever happens. */
	r = rnd_below(t, 100);
	if (r < 85 && shm_addr(t->pool, j) + len <= arena_end(t->pool)) {
		addr = shm_addr(t->pool, j);
		flags |= r < 80 ? MAP_FIXED : MAP_FIXED_NOREPLACE;
	}

	fuzz_op_begin(t, OP_MMAP, s.fd, len, ((uint64_t)prot << 32) | flags);
	p = mmap(addr, len, prot, flags, s.fd, off);
	ret = p == MAP_FAILED ? -errno : 0;
	fuzz_op_end(t, OP_MMAP, ret);

	if (ret) {
		if (flags & MAP_FIXED) {
			t->pool->shm[j].mapped = 0;
			arena_fill(addr, len);
		}
		return;
	}
	if (irq_snap_valid(&s) &&
	    ((prot & PROT_EXEC) || (flags & MAP_TYPE) == MAP_PRIVATE || off ||
	     (len + page - 1) / page != 1 ||
	     (s.attached && s.owner != getpid())))
		fuzz_impossible(t, "mmap(len %zu, prot %#x, flags %#x, off %#llx) of an irqroute file %s succeeded",
				len, prot, flags, (unsigned long long)off,
				s.attached && s.owner != getpid() ?
				"attached by another process" : "");
	GUARD(t, (void)*(volatile uint32_t *)p);
	if (addr == p) {
		shm_record(t, j, s.slot ? s.slot : &t->pool->irq[0], s.seq);
		return;
	}
	/* Anywhere else: nobody else knows the address, unmap it now. */
	munmap(p, len);
}

static int pick_mapped_shm(struct fuzz_thread *t)
{
	uint32_t start = rnd_below(t, FUZZ_NR_SHM), i;

	for (i = 0; i < FUZZ_NR_SHM; i++) {
		if (t->pool->shm[(start + i) % FUZZ_NR_SHM].mapped)
			return (start + i) % FUZZ_NR_SHM;
	}
	return start;
}

static const int advice[] = {
	MADV_DONTNEED, MADV_DOFORK, MADV_DONTFORK, MADV_WILLNEED, MADV_COLD,
	MADV_PAGEOUT, MADV_REMOVE, MADV_FREE, MADV_DODUMP, MADV_DONTDUMP,
	MADV_MERGEABLE, MADV_HUGEPAGE, MADV_WIPEONFORK, MADV_KEEPONFORK,
	MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_NORMAL, MADV_RANDOM,
};

/* What a VMM can do to its mapping of the page. */
void op_shm_vma(struct fuzz_thread *t)
{
	struct fuzz_pool *pool = t->pool;
	long page = fuzz_page_size;
	int j = chance(t, 70) ? pick_mapped_shm(t) : rnd_below(t, FUZZ_NR_SHM);
	int k = rnd_below(t, FUZZ_NR_SHM), ret;
	uint8_t *addr = shm_addr(pool, j), *to = shm_addr(pool, k);
	uint32_t what = rnd_below(t, 13);
	void *p = NULL;

	fuzz_op_begin(t, OP_SHM_VMA, -1, what, j);
	switch (what) {
	case 0:
		ret = munmap(addr, page);
		pool->shm[j].mapped = 0;
		arena_fill(addr, page);
		break;
	case 1:
		p = mmap(addr, page, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		ret = p == MAP_FAILED ? -1 : 0;
		pool->shm[j].mapped = 0;
		break;
	case 2:	/* VM_DONTEXPAND: never grows */
		p = mremap(addr, page, 2 * page, 0);
		ret = p == MAP_FAILED ? -1 : 0;
		break;
	case 3:
		p = mremap(addr, page, 2 * page, MREMAP_MAYMOVE);
		ret = p == MAP_FAILED ? -1 : 0;
		if (!ret) {
			/* Moved out of the arena: not ours to keep. */
			check_maps(t);
			munmap(p, 2 * page);
			arena_fill(addr, page);
			pool->shm[j].mapped = 0;
		}
		break;
	case 4:
		if (k == j)
			k = (k + 1) % FUZZ_NR_SHM;
		to = shm_addr(pool, k);
		p = mremap(addr, page, page, MREMAP_MAYMOVE | MREMAP_FIXED, to);
		ret = p == MAP_FAILED ? -1 : 0;
		if (!ret) {
			pool->shm[k] = pool->shm[j];
			pool->shm[j].mapped = 0;
			arena_fill(addr, page);
		}
		break;
	case 5:
		if (k == j)
			k = (k + 1) % FUZZ_NR_SHM;
		to = shm_addr(pool, k);
		p = mremap(addr, page, page,
			   MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, to);
		ret = p == MAP_FAILED ? -1 : 0;
		if (!ret)
			pool->shm[k] = pool->shm[j];
		break;
	case 6:
		ret = mprotect(addr, page, PROT_READ | PROT_EXEC);
		break;
	case 7:
		ret = mprotect(addr, page, rnd_below(t, 4));
		break;
	case 8:
		ret = madvise(addr, page,
			      advice[rnd_below(t, sizeof(advice) / sizeof(int))]);
		break;
	case 9:
		ret = msync(addr, page, chance(t, 50) ? MS_SYNC : MS_INVALIDATE);
		break;
	case 10:
		ret = chance(t, 50) ? mlock(addr, page) : munlock(addr, page);
		break;
	case 11:	/* half the slot's pages: splits the reservation */
		ret = mprotect(addr + page, page, PROT_READ);
		break;
	default:
		ret = 0;
		check_maps(t);
		break;
	}
	ret = ret ? -errno : 0;
	fuzz_op_end(t, OP_SHM_VMA, ret);
	/* Whatever succeeded, the module's mappings keep their rules. */
	if (!ret && (what == 2 || what == 5 || what == 6))
		check_maps(t);
}

/* Random words into the page: the header, both bitmaps, anywhere. */
void op_shm_garbage(struct fuzz_thread *t)
{
	int j = pick_mapped_shm(t), n = 1 + rnd_below(t, 16), i;
	uint8_t *base = shm_addr(t->pool, j);
	volatile int done = 0;

	fuzz_op_begin(t, OP_SHM_GARBAGE, -1, j, n);
	GUARD(t, {
		for (i = 0; i < n; i++) {
			static const uint32_t at[] = { 0, 0x400, 0x800, 0 };
			uint32_t r = rnd_below(t, 4);
			uint32_t off = (at[r] + rnd_below(t, r == 3 ?
				fuzz_page_size : r ? 512 : 64)) & ~7u;
			uint64_t *w = (uint64_t *)(base + off);
			uint64_t v = chance(t, 30) ? ~0ull : rnd(t);

			switch (rnd_below(t, 5)) {
			case 0:
				*w = v;
				break;
			case 1:
				__atomic_fetch_or(w, v, __ATOMIC_SEQ_CST);
				break;
			case 2:
				__atomic_fetch_and(w, v, __ATOMIC_SEQ_CST);
				break;
			case 3:
				__atomic_fetch_xor(w, v, __ATOMIC_SEQ_CST);
				break;
			default:
				base[off + rnd_below(t, 8)] = v;
				break;
			}
		}
		if (chance(t, 5)) {
			for (i = 0; i < fuzz_page_size / 8; i++)
				((uint64_t *)base)[i] = rnd(t);
		}
		done = 1;
	});
	fuzz_op_end(t, OP_SHM_GARBAGE, done ? 0 : -EFAULT);
}

/*
 * The page protocol of irqroute.rst section 4, racing the ioctls and the
 * gates of other threads on the same bits.
 */
void op_shm_proto(struct fuzz_thread *t)
{
	int j = pick_mapped_shm(t);
	struct fuzz_shm m = t->pool->shm[j];
	struct fuzz_irq *slot = &t->pool->irq[m.irq % FUZZ_NR_IRQ];
	uint8_t *base = shm_addr(t->pool, j);
	struct irqroute_route_op op = { .size = sizeof(op) };
	volatile int ret = -EFAULT;
	struct fuzz_irq_snap s;
	uint32_t index, what = rnd_below(t, 5);
	uint64_t bit, *mask, *pend;

	irq_snap(t, slot, &s);
	if (s.attached && s.seq == m.seq && s.nr_routes)
		index = rnd_below(t, s.nr_routes);
	else
		index = rnd_below(t, 64);
	bit = 1ull << (index % 64);
	mask = (uint64_t *)(base + IRQROUTE_SHM_MASK_OFFSET) + index / 64;
	pend = (uint64_t *)(base + IRQROUTE_SHM_PENDING_OFFSET) + index / 64;
	op.index = index;
	op.flags = IRQROUTE_UNMASK_F_PENDING_ONLY;

	fuzz_op_begin(t, OP_SHM_PROTO, s.fd, what, index);
	GUARD(t, {
		if (what == 0 || what == 4)
			__atomic_fetch_or(mask, bit, __ATOMIC_SEQ_CST);
		if (what == 1 || what == 4)
			__atomic_fetch_and(pend, ~bit, __ATOMIC_SEQ_CST);
		if (what == 3)
			(void)__atomic_load_n(pend, __ATOMIC_SEQ_CST);
		ret = 0;
		if (what == 2 || what == 4) {
			__atomic_fetch_and(mask, ~bit, __ATOMIC_SEQ_CST);
			if ((__atomic_load_n(pend, __ATOMIC_SEQ_CST) & bit) &&
			    ioctl(s.fd, IRQROUTE_UNMASK, &op))
				ret = -errno;
		}
	});
	fuzz_op_end(t, OP_SHM_PROTO, ret);
}

/* A table KVM may read instead of the module's: a few entries, an irqfd. */
static void table_garbage(struct fuzz_thread *t, uint8_t *p, size_t len,
			  size_t off)
{
	struct kvm_irq_routing *rt = (void *)p;
	struct kvm_irqfd *irqfd;
	uint32_t i, nr = rnd_below(t, 5);

	if (chance(t, 20)) {
		for (i = 0; i < 64 && i * 8 < len; i++)
			((uint64_t *)p)[i] = rnd(t);
	} else if (!off) {
		rt->nr = chance(t, 90) ? nr : rnd(t);
		rt->flags = chance(t, 90) ? 0 : rnd(t);
		for (i = 0; i < nr; i++) {
			rt->entries[i].gsi = rnd_below(t, 96);
			rt->entries[i].type = KVM_IRQ_ROUTING_MSI;
			rt->entries[i].u.msi.address_lo = 0xfee00000;
			rt->entries[i].u.msi.data = 0x20 + rnd_below(t, 0xdf);
		}
	}
	if (TABLE_IRQFD_OFF < off ||
	    TABLE_IRQFD_OFF - off + sizeof(*irqfd) > len)
		return;
	irqfd = (void *)(p + TABLE_IRQFD_OFF - off);
	irqfd->fd = chance(t, 70) ? pick_efd(t, -1, NULL) : fd_lottery(t);
	irqfd->gsi = rnd_below(t, 96);
	irqfd->flags = chance(t, 70) ? 0 : rnd_below(t, 8);
	irqfd->resamplefd = pick_efd(t, -1, NULL);
}

/*
 * The scratch area of an irqroute slot, which the module writes right
 * before each of its KVM ioctls: the VMM unmaps it, moves it, protects it,
 * zaps it, puts fresh memory or garbage there, whatever else the module
 * is doing. Calls that find it unwritable fail with EFAULT; the module
 * never wedges, never maps anything itself, never WARNs.
 */
void op_scratch_game(struct fuzz_thread *t)
{
	struct fuzz_pool *pool = t->pool;
	long page = fuzz_page_size;
	size_t len = IRQROUTE_SCRATCH_SIZE;
	uint32_t what = rnd_below(t, 12);
	int slot = rnd_below(t, FUZZ_NR_IRQ), ret;
	uint8_t *s = scratch_addr(pool, slot), *p;

	if (__atomic_exchange_n(&pool->scratch_lock, 1, __ATOMIC_ACQUIRE))
		return;
	fuzz_op_begin(t, OP_SCRATCH_GAME, -1, what, (uintptr_t)s);
	switch (what) {
	case 0:
		ret = munmap(s, len);
		if (!ret)
			arena_fill(s, len);
		break;
	case 1:
		p = s + rnd_below(t, FUZZ_SCRATCH_PAGES) * page;
		ret = munmap(p, page);
		if (!ret)
			arena_fill(p, page);
		break;
	case 2:
		ret = mprotect(s, len, chance(t, 50) ? PROT_NONE : PROT_READ);
		break;
	case 3:
		p = mremap(s, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   scratch_addr(pool, FUZZ_NR_IRQ));
		ret = p == MAP_FAILED ? -1 : 0;
		if (!ret)
			arena_fill(s, len);
		break;
	case 4:
		ret = madvise(s, len, chance(t, 50) ? MADV_DONTNEED :
				      advice[rnd_below(t, sizeof(advice) / sizeof(int))]);
		break;
	case 5: {
		volatile int ok = 0;

		GUARD(t, { table_garbage(t, s, len, 0); ok = 1; });
		ret = ok ? 0 : -1;
		errno = EFAULT;
		break;
	}
	default:	/* fresh memory: what a VMM that broke it does */
		p = mmap(s, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		ret = p == MAP_FAILED ? -1 : 0;
		break;
	}
	ret = ret ? -errno : 0;
	fuzz_op_end(t, OP_SCRATCH_GAME, ret);
	check_maps(t);
	__atomic_store_n(&pool->scratch_lock, 0, __ATOMIC_RELEASE);
}
