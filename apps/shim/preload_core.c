/* preload_core.c — the shim's core: real libc functions, the attachment to
 * dptcpd (Unix socket, region, doorbells), the fd -> dptcp socket table,
 * per-thread channels with their command round trip, slot allocation, and
 * readiness with the spin-then-sleep wait of shm_proto.h "WAKEUP". */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "preload_internal.h"

struct ps_real ps_real;
struct ps_shm ps_shm = { .ctl_fd = -1, .memfd = -1 };
_Atomic(struct ps_sock *) ps_fds[PS_FD_MAX];

static pthread_rwlock_t ps_fd_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t ps_attach_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t ps_slot_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t ps_chan_mu = PTHREAD_MUTEX_INITIALIZER;
static uint32_t ps_slot_hint;           /* where the next search starts */
static struct ps_chan ps_chans[SHM_MAX_CHANNELS];
static uint64_t ps_chan_used;           /* channels this process claimed */
static pthread_key_t ps_chan_key;
static __thread struct ps_chan *ps_my_chan;

#define RESOLVE(f) ps_real.f = (__typeof__(ps_real.f))dlsym(RTLD_NEXT, #f)

static void ps_chan_release(void *arg);

/* fork (preload_fork.c): no thread of ours may hold a shim lock while the
 * process is copied, so the prepare handler takes them all (attach first:
 * it also serialises concurrent forks) and the parent gives them back. */
void
ps_core_lock(void)
{
	pthread_mutex_lock(&ps_attach_mu);
	ps_port_lock();
	pthread_rwlock_wrlock(&ps_fd_lock);
	pthread_mutex_lock(&ps_chan_mu);
	pthread_mutex_lock(&ps_slot_mu);
}

void
ps_core_unlock(void)
{
	pthread_mutex_unlock(&ps_slot_mu);
	pthread_mutex_unlock(&ps_chan_mu);
	pthread_rwlock_unlock(&ps_fd_lock);
	ps_port_unlock();
	pthread_mutex_unlock(&ps_attach_mu);
}

/* In the child, which has one thread: every lock is fresh, no channel is
 * ours (the parent's threads own theirs), and socket locks that another
 * parent thread held at the fork are not held by anyone here. DETACHED:
 * the child must not touch the region (it sees its dptcp fds as plain
 * eventfds and opens only kernel sockets). */
void
ps_core_child(enum ps_child_mode mode, int member_sock, uint32_t member)
{
	uint32_t c;
	int fd;

	pthread_mutex_init(&ps_attach_mu, NULL);
	ps_port_child();
	pthread_rwlock_init(&ps_fd_lock, NULL);
	pthread_mutex_init(&ps_chan_mu, NULL);
	pthread_mutex_init(&ps_slot_mu, NULL);
	ps_my_chan = NULL;
	pthread_setspecific(ps_chan_key, NULL);
	ps_chan_used = 0;
	for (c = 0; c < SHM_MAX_CHANNELS; c++) {
		pthread_mutex_init(&ps_chans[c].mu, NULL);
		ps_chans[c].users = 0;
	}
	if (mode == PS_CHILD_UNATTACHED)
		return;
	if (mode == PS_CHILD_DETACHED) {
		atomic_store(&ps_shm.state, -1);
		for (fd = 0; fd < PS_FD_MAX; fd++)
			atomic_store_explicit(&ps_fds[fd], NULL,
					      memory_order_relaxed);
		return;
	}
	/* The parent's Unix socket is the parent's life: let go of it. */
	ps_real.close(ps_shm.ctl_fd);
	ps_shm.ctl_fd = member_sock;
	ps_shm.member = member;
	ps_shm.pid = getpid();
	for (fd = 0; fd < PS_FD_MAX; fd++) {
		struct ps_sock *ps = atomic_load_explicit(&ps_fds[fd],
							  memory_order_relaxed);

		if (ps == NULL)
			continue;
		pthread_mutex_init(&ps->mu, NULL);
		pthread_mutex_init(&ps->rx_mu, NULL);
		pthread_mutex_init(&ps->tx_mu, NULL);
	}
}

__attribute__((constructor)) void
ps_resolve(void)
{
	static _Atomic int done;

	if (atomic_exchange(&done, 1))
		return;
	RESOLVE(socket); RESOLVE(bind); RESOLVE(listen); RESOLVE(accept);
	RESOLVE(accept4); RESOLVE(connect); RESOLVE(shutdown); RESOLVE(close);
	RESOLVE(read); RESOLVE(write); RESOLVE(readv); RESOLVE(writev);
	RESOLVE(recv); RESOLVE(send); RESOLVE(recvfrom); RESOLVE(sendto);
	RESOLVE(recvmsg); RESOLVE(sendmsg); RESOLVE(sendfile);
	RESOLVE(getsockopt); RESOLVE(setsockopt); RESOLVE(getsockname);
	RESOLVE(getpeername); RESOLVE(fcntl); RESOLVE(fcntl64); RESOLVE(ioctl);
	RESOLVE(dup); RESOLVE(dup2); RESOLVE(dup3); RESOLVE(poll);
	RESOLVE(ppoll); RESOLVE(select); RESOLVE(pselect);
	RESOLVE(epoll_create); RESOLVE(epoll_create1); RESOLVE(epoll_ctl);
	RESOLVE(epoll_wait); RESOLVE(epoll_pwait); RESOLVE(epoll_pwait2);
	if (ps_real.fcntl64 == NULL)
		ps_real.fcntl64 = ps_real.fcntl;
	pthread_key_create(&ps_chan_key, ps_chan_release);
	pthread_atfork(ps_fork_prepare, ps_fork_parent, ps_fork_child);
	ps_exec_adopt();
}

int
ps_set_errno(int neg)
{
	errno = -neg;
	return -1;
}

uint64_t
ps_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
ps_warn(const char *fmt, const char *arg)
{
	if (getenv("DPTCP_QUIET") != NULL)
		return;
	fprintf(stderr, "dptcp-preload: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

/* --- attachment ------------------------------------------------------- */

static int
ps_do_attach(void)
{
	const char *path = getenv("DPTCP_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct shm_hello hello = { .magic = SHM_HELLO_MAGIC,
				   .version = SHM_VERSION, .pid = getpid() };
	struct shm_welcome w;
	union {
		char buf[CMSG_SPACE(sizeof(int) * (1 + SHM_MAX_CHANNELS))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &w, .iov_len = sizeof(w) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	int s, memfd, nfds, *fds, i;

	if (path == NULL || path[0] == '\0') {
		ps_warn("%s", "DPTCP_SOCKET is not set: every socket is the kernel's");
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	s = ps_real.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	if (ps_real.connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    ps_real.send(s, &hello, sizeof(hello), MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(hello)) {
		ps_warn("cannot reach dptcpd at %s: every socket is the kernel's",
			path);
		ps_real.close(s);
		return -1;
	}
	memset(&u, 0, sizeof(u));
	if (ps_real.recvmsg(s, &mh, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(w) ||
	    w.magic != SHM_HELLO_MAGIC || w.status != 0) {
		ps_warn("%s", "dptcpd refused us: every socket is the kernel's");
		ps_real.close(s);
		return -1;
	}
	cm = CMSG_FIRSTHDR(&mh);
	if (cm == NULL || cm->cmsg_type != SCM_RIGHTS) {
		ps_real.close(s);
		return -1;
	}
	nfds = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	fds = (int *)CMSG_DATA(cm);
	memfd = fds[0];
	if (nfds != 1 + (int)w.n_channels || w.n_channels == 0 ||
	    w.n_channels > SHM_MAX_CHANNELS ||
	    ps_use_region(memfd, w.region_bytes) < 0 ||
	    ps_shm.n_channels != w.n_channels) {
		if (ps_shm.base != NULL)
			munmap(ps_shm.base, w.region_bytes);
		ps_shm.base = NULL;
		ps_shm.memfd = -1;
		for (i = 0; i < nfds; i++)
			ps_real.close(fds[i]);
		ps_real.close(s);
		return -1;
	}
	ps_shm.ctl_fd = s;
	for (i = 0; i < (int)w.n_channels; i++)
		ps_shm.doorbell[i] = fds[1 + i];
	ps_shm.member = 0;
	ps_shm.pid = getpid();
	return 1;
}

/* Map the region (memfd stays open, close-on-exec, for exec: shm_proto.h
 * "EXEC") and take the sizes from its header; -1 if it is not what this
 * shim speaks. */
int
ps_use_region(int memfd, uint64_t region_bytes)
{
	const struct shm_hdr *h;
	struct shm_layout l;
	void *base;
	uint32_t i;

	base = mmap(NULL, region_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		    memfd, 0);
	if (base == MAP_FAILED)
		return -1;
	h = base;
	shm_layout(h->n_engines, h->n_channels, h->max_sockets,
		   h->rx_ring_bytes, h->tx_ring_bytes, &l);
	if (h->magic != SHM_MAGIC || h->version != SHM_VERSION ||
	    l.region_bytes != region_bytes || l.off_slots != h->off_slots ||
	    l.off_data != h->off_data || h->n_engines == 0 ||
	    h->n_engines > SHM_MAX_ENGINES || h->n_channels == 0 ||
	    h->n_channels > SHM_MAX_CHANNELS) {
		ps_warn("%s", "dptcpd speaks another protocol version");
		munmap(base, region_bytes);
		return -1;
	}
	ps_shm.base = base;
	ps_shm.lay = l;
	ps_shm.memfd = memfd;
	ps_shm.n_engines = h->n_engines;
	ps_shm.n_channels = h->n_channels;
	ps_shm.max_sockets = h->max_sockets;
	ps_shm.rx_bytes = h->rx_ring_bytes;
	ps_shm.tx_bytes = h->tx_ring_bytes;
	ps_shm.spin_us = h->spin_us;
	ps_shm.local_ip = h->local_ip;
	ps_shm.prefix_len = h->prefix_len;
	ps_shm.gateway = h->gateway;
	for (i = 0; i < ps_shm.n_channels; i++) {
		pthread_mutex_init(&ps_chans[i].mu, NULL);
		ps_chans[i].c = i;
	}
	return 0;
}

bool
ps_attach(void)
{
	int st = atomic_load_explicit(&ps_shm.state, memory_order_acquire);

	if (st != 0)
		return st > 0;
	ps_resolve();
	pthread_mutex_lock(&ps_attach_mu);
	st = atomic_load(&ps_shm.state);
	if (st == 0) {
		st = ps_do_attach();
		atomic_store_explicit(&ps_shm.state, st, memory_order_release);
	}
	pthread_mutex_unlock(&ps_attach_mu);
	return st > 0;
}

int
ps_internal_fd(int fd)
{
	uint32_t i;

	if (atomic_load(&ps_shm.state) <= 0 || fd < 0)
		return 0;
	if (fd == ps_shm.ctl_fd || fd == ps_shm.memfd)
		return 1;
	for (i = 0; i < ps_shm.n_channels; i++)
		if (fd == ps_shm.doorbell[i])
			return 1;
	return 0;
}

/* --- fd table ---------------------------------------------------------- */

struct ps_sock *
ps_get(int fd)
{
	struct ps_sock *ps;

	if (!ps_maybe(fd))
		return NULL;
	pthread_rwlock_rdlock(&ps_fd_lock);
	ps = atomic_load(&ps_fds[fd]);
	if (ps != NULL)
		atomic_fetch_add(&ps->refs, 1);
	pthread_rwlock_unlock(&ps_fd_lock);
	return ps;
}

void
ps_put(struct ps_sock *ps)
{
	if (atomic_fetch_sub(&ps->refs, 1) == 1) {
		pthread_mutex_destroy(&ps->mu);
		pthread_mutex_destroy(&ps->rx_mu);
		pthread_mutex_destroy(&ps->tx_mu);
		free(ps);
	}
}

struct ps_sock *
ps_sock_new(void)
{
	struct ps_sock *ps = calloc(1, sizeof(*ps));

	if (ps == NULL)
		return NULL;
	pthread_mutex_init(&ps->mu, NULL);
	pthread_mutex_init(&ps->rx_mu, NULL);
	pthread_mutex_init(&ps->tx_mu, NULL);
	atomic_init(&ps->refs, 1);       /* the creator's */
	ps->rcvbuf = (int)ps_shm.rx_bytes;
	ps->sndbuf = (int)ps_shm.tx_bytes;
	ps->rcvlowat = 1;
	ps->ttl = 64;
	ps->keepidle = 7200;
	ps->keepintvl = 75;
	ps->keepcnt = 9;
	return ps;
}

/* fd now names ps. An fd that named another dptcp socket (dup2 over it)
 * drops that one. */
int
ps_fd_install(int fd, struct ps_sock *ps)
{
	struct ps_sock *old;

	if (fd < 0 || fd >= PS_FD_MAX)
		return -EMFILE;
	atomic_fetch_add(&ps->fdrefs, 1);
	atomic_fetch_add(&ps->refs, 1);
	pthread_rwlock_wrlock(&ps_fd_lock);
	old = atomic_exchange(&ps_fds[fd], ps);
	pthread_rwlock_unlock(&ps_fd_lock);
	if (old != NULL)
		ps_fd_dropped(old);
	return 0;
}

struct ps_sock *
ps_fd_remove(int fd)
{
	struct ps_sock *ps;

	if (!ps_maybe(fd))
		return NULL;
	pthread_rwlock_wrlock(&ps_fd_lock);
	ps = atomic_exchange(&ps_fds[fd], NULL);
	pthread_rwlock_unlock(&ps_fd_lock);
	return ps;
}

void
ps_fd_dropped(struct ps_sock *ps)
{
	if (atomic_fetch_sub(&ps->fdrefs, 1) == 1) {
		atomic_store(&ps->dead, 1);
		ps_sock_closed(ps);
	}
	ps_put(ps);
}

/* --- channels and commands -------------------------------------------- */

static void
ps_chan_release(void *arg)
{
	struct ps_chan *ch = arg;

	if (ch == NULL)
		return;
	pthread_mutex_lock(&ps_chan_mu);
	if (ch->users > 0 && --ch->users == 0) {
		ps_chan_used &= ~(1ull << ch->c);
		atomic_store(&shm_chan_at(ps_shm.base, &ps_shm.lay,
					  ch->c)->claimed, 0);
	}
	pthread_mutex_unlock(&ps_chan_mu);
}

/* Claim channel c in the region for this member (shm_proto.h "FORK"): it
 * starts from the queues' current indices, whatever a previous user left. */
static bool
ps_chan_claim(uint32_t c)
{
	struct shm_chan *sc = shm_chan_at(ps_shm.base, &ps_shm.lay, c);
	struct ps_chan *ch = &ps_chans[c];
	uint32_t free_ = 0, e;

	if (!atomic_compare_exchange_strong(&sc->claimed, &free_,
					    ps_shm.member + 1))
		return false;
	for (e = 0; e < ps_shm.n_engines; e++) {
		struct shm_q *cq = shm_cmdq(ps_shm.base, &ps_shm.lay, c, e);
		struct shm_q *eq = shm_evtq(ps_shm.base, &ps_shm.lay, c, e);

		ch->cmd_prod[e] = atomic_load(&cq->prod);
		ch->evt_cons[e] = atomic_load(&eq->prod);
		atomic_store(&eq->cons, ch->evt_cons[e]);
	}
	/* Completions left for a previous user must not match our seqs. */
	ch->seq = ((uint32_t)getpid() << 12) + ps_shm.exec_gen * 0x01000000u;
	ch->users = 1;
	ps_chan_used |= 1ull << c;
	return true;
}

/* This thread's channel: a free one of the region while there are any,
 * else one of this process's, shared under its mutex. */
struct ps_chan *
ps_chan_get(void)
{
	uint32_t c;

	if (ps_my_chan != NULL)
		return ps_my_chan;
	for (;;) {
		pthread_mutex_lock(&ps_chan_mu);
		for (c = 0; c < ps_shm.n_channels; c++)
			if (!(ps_chan_used & (1ull << c)) && ps_chan_claim(c))
				break;
		if (c == ps_shm.n_channels && ps_chan_used != 0) {
			c = (uint32_t)__builtin_ctzll(ps_chan_used);
			ps_chans[c].users++;
		}
		pthread_mutex_unlock(&ps_chan_mu);
		if (c < ps_shm.n_channels)
			break;
		/* Other members hold every channel: wait for one. */
		usleep(1000);
	}
	ps_my_chan = &ps_chans[c];
	pthread_setspecific(ps_chan_key, ps_my_chan);
	return ps_my_chan;
}

/* Channel c is claimed by a thread of this process (its notes are ours
 * to drain, shm_proto.h "NOTES"). */
bool
ps_chan_ours(uint32_t c)
{
	bool ours;

	pthread_mutex_lock(&ps_chan_mu);
	ours = c < SHM_MAX_CHANNELS && (ps_chan_used & (1ull << c)) != 0;
	pthread_mutex_unlock(&ps_chan_mu);
	return ours;
}

static bool
ps_chan_shared(const struct ps_chan *ch)
{
	return ch->users > 1;
}

int
ps_sleep(struct ps_chan *ch, struct pollfd *kfds, nfds_t nk, int timeout_ms)
{
	return ps_sleep_mask(ch, kfds, nk, timeout_ms, NULL);
}

/* With a signal mask, the sleep is the kernel's ppoll() with it: the mask
 * is in force only while asleep, exactly as ppoll/pselect/epoll_pwait
 * promise, so a signal it unblocks (pending already, or arriving at any
 * time before the wake) ends the sleep with EINTR and is never lost
 * between the caller's last check and the sleep. */
int
ps_sleep_mask(struct ps_chan *ch, struct pollfd *kfds, nfds_t nk,
	      int timeout_ms, const sigset_t *mask)
{
	struct pollfd pf[2 + 1024];
	struct pollfd *p = pf;
	uint64_t v;
	nfds_t i;
	int r, k = 0;

	if (nk + 2 > sizeof(pf) / sizeof(pf[0])) {
		p = malloc((nk + 2) * sizeof(*p));
		if (p == NULL)
			return -1;
	}
	for (i = 0; i < nk; i++)
		p[i] = kfds[i];
	p[nk].fd = ps_shm.doorbell[ch->c];
	p[nk].events = POLLIN;
	p[nk].revents = 0;
	p[nk + 1].fd = ps_shm.ctl_fd;
	p[nk + 1].events = POLLIN;
	p[nk + 1].revents = 0;
	/* Threads sharing the last channel steal each other's wakeups: they
	 * look again every few ms. */
	if (ps_chan_shared(ch) && (timeout_ms < 0 || timeout_ms > 5))
		timeout_ms = 5;
	if (mask != NULL) {
		struct timespec ts = { timeout_ms / 1000,
				       (long)(timeout_ms % 1000) * 1000000 };

		r = ps_real.ppoll(p, nk + 2, timeout_ms < 0 ? NULL : &ts, mask);
	} else {
		r = ps_real.poll(p, nk + 2, timeout_ms);
	}
	if (r > 0) {
		if (p[nk].revents & POLLIN)
			(void)!ps_real.read(p[nk].fd, &v, sizeof(v));
		/* POLLIN alone is a port answer (PORTS) for another thread. */
		if (p[nk + 1].revents & (POLLHUP | POLLERR))
			atomic_store(&ps_shm.dead, 1);
		for (i = 0; i < nk; i++) {
			kfds[i].revents = p[i].revents;
			if (p[i].revents != 0)
				k++;
		}
		r = k;
	} else {
		for (i = 0; i < nk; i++)
			kfds[i].revents = 0;
	}
	if (p != pf)
		free(p);
	return r;
}

/* One command, one completion: this thread's channel, engine e. */
int
ps_cmd(uint32_t e, struct shm_msg *m)
{
	struct ps_chan *ch = ps_chan_get();
	struct shm_q *cq = shm_cmdq(ps_shm.base, &ps_shm.lay, ch->c, e);
	struct shm_q *eq = shm_evtq(ps_shm.base, &ps_shm.lay, ch->c, e);
	struct shm_chan *sc = shm_chan_at(ps_shm.base, &ps_shm.lay, ch->c);
	uint64_t spin_end;
	uint32_t seq;
	int status = -ECONNABORTED;

	if (atomic_load(&ps_shm.dead))
		return -ECONNABORTED;
	pthread_mutex_lock(&ch->mu);
	seq = ++ch->seq;
	m->seq = seq;
	m->member = (uint16_t)ps_shm.member;
	while (ch->cmd_prod[e] - atomic_load_explicit(&cq->cons,
			memory_order_acquire) >= SHM_QLEN) {
		if (atomic_load(&ps_shm.dead))
			goto out;
		ps_sleep(ch, NULL, 0, 1);
	}
	memcpy(&cq->e[ch->cmd_prod[e] % SHM_QLEN], m, sizeof(*m));
	ch->cmd_prod[e]++;
	atomic_store_explicit(&cq->prod, ch->cmd_prod[e], memory_order_release);
	spin_end = ps_now_us() + ps_shm.spin_us;
	for (;;) {
		uint32_t prod = atomic_load_explicit(&eq->prod,
						     memory_order_acquire);

		while (ch->evt_cons[e] != prod) {
			struct shm_msg r;

			memcpy(&r, &eq->e[ch->evt_cons[e] % SHM_QLEN], sizeof(r));
			ch->evt_cons[e]++;
			atomic_store_explicit(&eq->cons, ch->evt_cons[e],
					      memory_order_release);
			if (r.seq == seq) {
				*m = r;
				status = r.status;
				goto out;
			}
		}
		if (atomic_load(&ps_shm.dead))
			goto out;
		if (ps_now_us() < spin_end) {
			__builtin_ia32_pause();
			continue;
		}
		atomic_store(&sc->sleeping, 1);
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&eq->prod, memory_order_acquire) != prod)
			continue;
		ps_sleep(ch, NULL, 0, 100);
	}
out:
	pthread_mutex_unlock(&ch->mu);
	return status;
}

/* --- slots ------------------------------------------------------------- */

struct shm_slot *
ps_slot(uint32_t s)
{
	return shm_slot_at(ps_shm.base, &ps_shm.lay, s);
}

uint8_t *
ps_rx_ring(uint32_t s)
{
	return shm_rx_ring(ps_shm.base, &ps_shm.lay, s, ps_shm.rx_bytes,
			   ps_shm.tx_bytes);
}

uint8_t *
ps_tx_ring(uint32_t s)
{
	return shm_tx_ring(ps_shm.base, &ps_shm.lay, s, ps_shm.rx_bytes,
			   ps_shm.tx_bytes);
}

/* Slots are claimed in the region (all members share them, shm_proto.h
 * "FORK"): free when the alloc word says so, or when the stack has
 * released the generation in use (a closed connection: whoever closed it
 * last, even a member that died since). */
int
ps_slot_alloc(uint32_t *slot, uint32_t *gen)
{
	struct shm_slot *sl;
	uint32_t s = 0, i, n = ps_shm.max_sockets, a, g = 0;
	bool found = false;

	pthread_mutex_lock(&ps_slot_mu);
	for (i = 0; i < n && !found; i++) {
		s = (ps_slot_hint + i) % n;
		sl = ps_slot(s);
		a = atomic_load_explicit(&sl->alloc, memory_order_acquire);
		if ((a & 1) && atomic_load_explicit(&sl->released,
			memory_order_acquire) != a >> 1)
			continue;
		g = ((a >> 1) + 1) & 0x7fffffffu;
		if (g == 0)
			g = 1;
		found = atomic_compare_exchange_strong(&sl->alloc, &a,
						       g << 1 | 1);
	}
	if (found)
		ps_slot_hint = s + 1;
	pthread_mutex_unlock(&ps_slot_mu);
	if (!found)
		return -ENOBUFS;
	*gen = g;
	sl = ps_slot(s);
	atomic_store_explicit(&sl->waiters, 0, memory_order_relaxed);
	atomic_store_explicit(&sl->xwaiters, 0, memory_order_relaxed);
	atomic_store_explicit(&sl->rx_cons, 0, memory_order_relaxed);
	atomic_store_explicit(&sl->tx_prod, 0, memory_order_release);
	*slot = s;
	return 0;
}

void
ps_slot_free(uint32_t s)
{
	struct shm_slot *sl = ps_slot(s);

	atomic_fetch_and(&sl->alloc, ~1u);
}

/* Nothing to remember: the allocator sees released == gen. */
void
ps_slot_closing(uint32_t s)
{
	(void)s;
}

/* --- readiness ---------------------------------------------------------- */

uint32_t
ps_events(struct ps_sock *ps)
{
	struct shm_slot *sl;
	uint32_t ev = 0, st, fl, e, avail, used;

	if (atomic_load(&ps->dead))
		return POLLNVAL;
	if (ps->kind == PS_BOUND || ps->kind == PS_FRESH)
		return POLLOUT | POLLHUP;    /* as Linux for a closed socket */
	sl = ps_slot(ps->slot);
	if (ps->kind == PS_LISTEN) {
		for (e = 0; e < ps_shm.n_engines; e++)
			if (atomic_load_explicit(&sl->accq[e],
						 memory_order_acquire) != 0)
				return POLLIN;
		return 0;
	}
	st = atomic_load_explicit(&sl->state, memory_order_acquire);
	fl = atomic_load_explicit(&sl->flags, memory_order_acquire);
	avail = atomic_load_explicit(&sl->rx_prod, memory_order_acquire) -
		ps->rx_cons;
	if (st == SHM_ST_CONNECTING)
		return 0;
	if (avail != 0 || (fl & SHM_SF_RX_FIN) || ps->shut_rd)
		ev |= POLLIN;
	if (fl & SHM_SF_RX_FIN)
		ev |= POLLRDHUP;
	if (st == SHM_ST_CLOSED) {
		ev |= POLLIN | POLLOUT | POLLHUP | POLLRDHUP;
		if (atomic_load_explicit(&sl->err, memory_order_relaxed) != 0 &&
		    !ps->err_reported)
			ev |= POLLERR;
		return ev;
	}
	used = ps->tx_prod - atomic_load_explicit(&sl->tx_cons,
						  memory_order_acquire);
	if (ps->shut_wr || used < ps_shm.tx_bytes)
		ev |= POLLOUT;
	if (ps->shut_wr && (fl & SHM_SF_RX_FIN))
		ev |= POLLHUP;
	return ev;
}

void
ps_arm(struct ps_sock *ps, struct ps_chan *ch)
{
	if (ps->kind == PS_BOUND || ps->kind == PS_FRESH)
		return;
	atomic_fetch_or(&ps_slot(ps->slot)->waiters, 1ull << ch->c);
}

int
ps_wait(struct ps_sock *ps, uint32_t want, int timeout_ms)
{
	uint64_t now = ps_now_us(), spin_end = now + ps_shm.spin_us;
	uint64_t end = timeout_ms < 0 ? UINT64_MAX :
		       now + (uint64_t)timeout_ms * 1000u;
	struct ps_chan *ch;

	want |= POLLERR | POLLHUP | POLLNVAL;
	for (;;) {
		if (ps_events(ps) & want)
			return 0;
		if (atomic_load(&ps_shm.dead))
			return -ECONNABORTED;
		now = ps_now_us();
		if (now >= end)
			return -ETIMEDOUT;
		if (now < spin_end) {
			__builtin_ia32_pause();
			continue;
		}
		ch = ps_chan_get();
		ps_arm(ps, ch);
		atomic_thread_fence(memory_order_seq_cst);
		if (ps_events(ps) & want)
			return 0;
		ps_sleep(ch, NULL, 0, end == UINT64_MAX ? -1 :
			 (int)((end - now + 999) / 1000));
	}
}
