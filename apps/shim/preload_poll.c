/* preload_poll.c — poll, ppoll, select, pselect and epoll over dptcp and
 * kernel fds mixed. Readiness of a dptcp socket is computed from its slot
 * (ps_events); kernel fds are asked with a zero timeout; to sleep, the
 * thread arms the dptcp sockets it waits on and poll()s its doorbell with
 * the kernel fds (for epoll: the epoll fd itself, readable when the kernel
 * part of the set has events). An epoll set keeps its dptcp members in
 * the shim (interest list with LT/ET/ONESHOT state) and its kernel members
 * in the kernel. Not yet: an epoll fd that holds dptcp sockets waited on
 * by another poll/epoll (nested) sees only its kernel members. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preload_internal.h"

/* --- poll ---------------------------------------------------------------- */

static int
ps_ms_left(uint64_t end)
{
	uint64_t now = ps_now_us();

	if (end == UINT64_MAX)
		return -1;
	if (now >= end)
		return 0;
	return (int)((end - now + 999) / 1000);
}

/* Nested epoll (defined with epoll below): an epoll fd whose set holds
 * dptcp sockets, polled like a socket: readable when a member is ready. */
struct ps_ep;
static struct ps_ep *ps_ep_nested(int fd);
static bool ps_ep_peek(struct ps_ep *ep, struct ps_chan *ch);
static bool ps_ep_sleep_arm(struct ps_ep *ep, struct ps_chan *ch);

int
ps_poll_impl(struct pollfd *fds, nfds_t n, int timeout_ms,
	     const sigset_t *mask)
{
	struct ps_sock *socks[n > 0 ? n : 1];
	struct ps_ep *eps[n > 0 ? n : 1];
	struct pollfd kf[n > 0 ? n : 1];
	nfds_t kidx[n > 0 ? n : 1];
	nfds_t i, nk = 0, nd = 0;
	uint64_t start = ps_now_us(), spin_end = start + ps_shm.spin_us;
	uint64_t end = timeout_ms < 0 ? UINT64_MAX :
		       start + (uint64_t)timeout_ms * 1000u;
	int ready, r;

	(void)nd;
	for (i = 0; i < n; i++) {
		socks[i] = fds[i].fd >= 0 ? ps_get(fds[i].fd) : NULL;
		eps[i] = NULL;
		if (socks[i] != NULL) {
			nd++;
		} else if (fds[i].fd >= 0) {
			/* An epoll fd: its kernel part here, its dptcp part below. */
			if (fds[i].events & POLLIN)
				eps[i] = ps_ep_nested(fds[i].fd);
			kf[nk] = fds[i];
			kidx[nk++] = i;
		}
		fds[i].revents = 0;
	}
	for (;;) {
		ready = 0;
		for (i = 0; i < n; i++) {
			if (socks[i] == NULL)
				continue;
			fds[i].revents = (short)(ps_events(socks[i]) &
				((uint32_t)fds[i].events | POLLERR | POLLHUP | POLLNVAL));
			if (fds[i].revents)
				ready++;
		}
		if (nk > 0) {
			r = ps_real.poll(kf, nk, 0);
			if (r < 0) {
				ready = -1;
				break;
			}
			for (i = 0; i < nk; i++) {
				fds[kidx[i]].revents = kf[i].revents;
				if (kf[i].revents)
					ready++;
			}
		}
		for (i = 0; i < n; i++)
			if (eps[i] != NULL && !(fds[i].revents & POLLIN) &&
			    ps_ep_peek(eps[i], ps_chan_get())) {
				if (fds[i].revents == 0)
					ready++;
				fds[i].revents |= POLLIN;
			}
		if (ready > 0 || ps_ms_left(end) == 0)
			break;
		if (atomic_load(&ps_shm.dead)) {
			ready = ps_set_errno(-ENOMEM);
			break;
		}
		if (ps_now_us() < spin_end) {
			__builtin_ia32_pause();
			continue;
		}
		{
			struct ps_chan *ch = ps_chan_get();

			for (i = 0; i < n; i++)
				if (socks[i] != NULL)
					ps_arm(socks[i], ch);
			for (i = 0; i < n; i++)
				if (eps[i] != NULL && ps_ep_sleep_arm(eps[i], ch))
					break;
			if (i < n)
				continue;
			atomic_thread_fence(memory_order_seq_cst);
			/* Re-check before sleeping (shm_proto.h "WAKEUP"). */
			for (i = 0; i < n; i++)
				if (socks[i] != NULL &&
				    (ps_events(socks[i]) & ((uint32_t)fds[i].events |
				     POLLERR | POLLHUP | POLLNVAL)))
					break;
			if (i < n)
				continue;
			r = ps_sleep_mask(ch, kf, nk, ps_ms_left(end), mask);
			if (r < 0 && errno == EINTR) {
				ready = -1;
				break;
			}
		}
	}
	for (i = 0; i < n; i++)
		if (socks[i] != NULL)
			ps_put(socks[i]);
	return ready;
}

static bool
ps_any_ours(const struct pollfd *fds, nfds_t n)
{
	nfds_t i;

	for (i = 0; i < n; i++)
		if (ps_maybe(fds[i].fd) ||
		    ((fds[i].events & POLLIN) && ps_ep_nested(fds[i].fd) != NULL))
			return true;
	return false;
}

/* glibc declares poll()'s fds write-only (access attribute); gcc then
 * takes our reading of events for a read of uninitialised memory. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
PS_EXPORT int
poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	if (!ps_any_ours(fds, n))
		return ps_real.poll(fds, n, timeout_ms);
	return ps_poll_impl(fds, n, timeout_ms, NULL);
}

PS_EXPORT int
__poll_chk(struct pollfd *fds, nfds_t n, int timeout_ms, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return poll(fds, n, timeout_ms);
}

static int
ts_ms(const struct timespec *ts)
{
	if (ts == NULL)
		return -1;
	if (ts->tv_sec > 2000000)
		return 2000000000;
	return (int)(ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000);
}

PS_EXPORT int
ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
      const sigset_t *mask)
{
	if (!ps_any_ours(fds, n))
		return ps_real.ppoll(fds, n, ts, mask);
	/* The mask is applied by the sleep itself (ps_sleep_mask). */
	return ps_poll_impl(fds, n, ts_ms(ts), mask);
}

PS_EXPORT int
__ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
	    const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return ppoll(fds, n, ts, mask);
}

#pragma GCC diagnostic pop

/* --- select ------------------------------------------------------------- */

static int
ps_select_impl(int nfds, fd_set *r, fd_set *w, fd_set *x, int timeout_ms,
	       const sigset_t *mask)
{
	struct pollfd pf[FD_SETSIZE];
	nfds_t n = 0, i;
	int fd, ret, count = 0;

	if (nfds < 0 || nfds > FD_SETSIZE)
		return ps_set_errno(-EINVAL);
	for (fd = 0; fd < nfds; fd++) {
		short ev = 0;

		if (r != NULL && FD_ISSET(fd, r))
			ev |= POLLIN;
		if (w != NULL && FD_ISSET(fd, w))
			ev |= POLLOUT;
		if (x != NULL && FD_ISSET(fd, x))
			ev |= POLLPRI;
		if (ev == 0)
			continue;
		pf[n].fd = fd;
		pf[n].events = ev;
		pf[n++].revents = 0;
	}
	ret = ps_poll_impl(pf, n, timeout_ms, mask);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++)
		if (pf[i].revents & POLLNVAL)
			return ps_set_errno(-EBADF);
	if (r != NULL)
		FD_ZERO(r);
	if (w != NULL)
		FD_ZERO(w);
	if (x != NULL)
		FD_ZERO(x);
	for (i = 0; i < n; i++) {
		short re = pf[i].revents;

		if ((pf[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(pf[i].fd, r);
			count++;
		}
		if ((pf[i].events & POLLOUT) && (re & (POLLOUT | POLLERR))) {
			FD_SET(pf[i].fd, w);
			count++;
		}
		if ((pf[i].events & POLLPRI) && (re & POLLPRI)) {
			FD_SET(pf[i].fd, x);
			count++;
		}
	}
	return count;
}

static bool
ps_set_has_ours(int nfds, fd_set *r, fd_set *w, fd_set *x)
{
	int fd;

	for (fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
		if (((r != NULL && FD_ISSET(fd, r)) ||
		     (w != NULL && FD_ISSET(fd, w)) ||
		     (x != NULL && FD_ISSET(fd, x))) &&
		    (ps_maybe(fd) || ps_ep_nested(fd) != NULL))
			return true;
	return false;
}

PS_EXPORT int
select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	int ms;

	if (!ps_set_has_ours(nfds, r, w, x))
		return ps_real.select(nfds, r, w, x, tv);
	ms = tv == NULL ? -1 :
	     (tv->tv_sec > 2000000 ? 2000000000 :
	      (int)(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000));
	return ps_select_impl(nfds, r, w, x, ms, NULL);
}

PS_EXPORT int
pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts,
	const sigset_t *mask)
{
	if (!ps_set_has_ours(nfds, r, w, x))
		return ps_real.pselect(nfds, r, w, x, ts, mask);
	return ps_select_impl(nfds, r, w, x, ts_ms(ts), mask);
}

/* --- epoll --------------------------------------------------------------- */

/* An epoll set keeps its dptcp members in the shim, its kernel members in
 * the kernel. Each wait costs O(ready), not O(members), as Linux's
 * (shm_proto.h "NOTES"): an item is either on its instance's ready list
 * (to be checked at the next wait), or armed (its slot's waiters bit for
 * the instance's armed channel is set, so the engine notes the slot when
 * it changes), or on the to-arm list (armed just before sleeping, so a
 * busy socket that never lets the waiter sleep never makes the engine
 * ring a doorbell). Notes move the slot's items (ps_slot_items) onto their
 * ready lists. A level-triggered item that is reported goes back to the
 * tail of the list (as ep_send_events re-queues it), so it is re-checked
 * while it stays ready and maxevents=1 takes the ready fds in turn. A
 * socket with no slot yet (not listening, not connected) stays on the
 * list. Two threads waiting on one instance with different channels
 * re-arm all its items when they take turns (O(members) then, as before).
 * Every shim epoll structure is under ps_ep_mu. */

#define PS_NOSLOT UINT32_MAX

struct ps_ep;

struct ps_ep_item {
	int fd;
	struct ps_sock *ps;          /* holds a ref */
	struct ps_ep *ep;
	uint32_t events;             /* EPOLLIN ... EPOLLET | EPOLLONESHOT */
	epoll_data_t data;
	uint32_t last;               /* ET: readiness last reported */
	uint32_t last_rx, last_tx;   /* ET: ring positions last reported */
	uint32_t slot;               /* filed under ps_slot_items[slot] */
	unsigned int idx;            /* in ep->items */
	bool disabled;               /* ONESHOT fired, until EPOLL_CTL_MOD */
	bool on_ready, armed, on_arm;
	bool aged;                   /* on the to-arm list since the last wait */
	struct ps_ep_item *rnext, *rprev;   /* ready list */
	struct ps_ep_item *anext, *aprev;   /* to-arm list */
	struct ps_ep_item *snext;           /* the same slot's items */
	struct ps_ep_item *xnext;           /* EPOLLEXCLUSIVE items */
};

struct ps_ep {
	struct ps_ep_item **items;
	unsigned int n, cap;
	struct ps_ep_item *rhead, *rtail;
	unsigned int nready, nfresh; /* nfresh: items with no slot */
	struct ps_ep_item *ahead;
	struct ps_ep_item *xhead;    /* EPOLLEXCLUSIVE: armed only asleep */
	struct ps_ep_nest *nests;    /* epoll fds of ours in this set */
	unsigned int nnest, capnest;
	int armed_c;                 /* channel of the armed items, -1 none */
	uint32_t armed_member;
	int kturns;                  /* waits that ask the kernel set first */
};

/* An epoll fd with dptcp members registered in another epoll set: the
 * kernel has it (for its kernel members), and the outer set looks at its
 * dptcp members itself (by fd: a closed inner set is skipped). */
struct ps_ep_nest {
	int fd;
	uint32_t events;
	epoll_data_t data;
};

static _Atomic(struct ps_ep *) ps_eps[PS_FD_MAX];
/* Kernel fds registered in each epoll fd (through us), so that a wait with
 * a small maxevents can give the kernel's ready fds their turns: ready
 * dptcp sockets must not starve them (Linux rotates its ready list). */
static _Atomic int ps_ep_kcount[PS_FD_MAX];
static pthread_mutex_t ps_ep_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ps_ep_item **ps_slot_items;   /* max_sockets list heads */

/* DPTCP_EPOLL_STATS=FILE: the shim rewrites FILE every 64 waits with
 * "epoll_waits N items_checked M" (bench/shim_idle.sh reads it). */
static _Atomic uint64_t ps_ep_waits, ps_ep_checks;
static const char *ps_ep_stats_path;
static _Atomic int ps_ep_stats_init;

static void
ps_ep_stats_tick(void)
{
	uint64_t w = atomic_fetch_add(&ps_ep_waits, 1) + 1;
	char line[96];
	int fd, len;

	if (atomic_load_explicit(&ps_ep_stats_init, memory_order_relaxed) == 0) {
		ps_ep_stats_path = getenv("DPTCP_EPOLL_STATS");
		atomic_store(&ps_ep_stats_init, 1);
	}
	if (ps_ep_stats_path == NULL || (w & 63) != 0)
		return;
	len = snprintf(line, sizeof(line), "epoll_waits %llu items_checked %llu\n",
		       (unsigned long long)w,
		       (unsigned long long)atomic_load(&ps_ep_checks));
	fd = open(ps_ep_stats_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	(void)!write(fd, line, (size_t)len);
	ps_real.close(fd);
}

static uint32_t
ps_sock_slot(const struct ps_sock *ps)
{
	return ps->kind == PS_LISTEN || ps->kind == PS_CONN ? ps->slot : PS_NOSLOT;
}

static void
ps_ready_add(struct ps_ep_item *it)
{
	struct ps_ep *ep = it->ep;

	if (it->on_ready)
		return;
	it->on_ready = true;
	it->rnext = NULL;
	it->rprev = ep->rtail;
	if (ep->rtail != NULL)
		ep->rtail->rnext = it;
	else
		ep->rhead = it;
	ep->rtail = it;
	ep->nready++;
}

static void
ps_ready_del(struct ps_ep_item *it)
{
	struct ps_ep *ep = it->ep;

	if (!it->on_ready)
		return;
	if (it->rprev != NULL)
		it->rprev->rnext = it->rnext;
	else
		ep->rhead = it->rnext;
	if (it->rnext != NULL)
		it->rnext->rprev = it->rprev;
	else
		ep->rtail = it->rprev;
	it->on_ready = false;
	ep->nready--;
}

static void
ps_arm_add(struct ps_ep_item *it)
{
	struct ps_ep *ep = it->ep;

	if (it->on_arm || it->armed || it->slot == PS_NOSLOT ||
	    (it->events & EPOLLEXCLUSIVE))
		return;
	it->on_arm = true;
	it->aged = false;
	it->aprev = NULL;
	it->anext = ep->ahead;
	if (ep->ahead != NULL)
		ep->ahead->aprev = it;
	ep->ahead = it;
}

static void
ps_arm_del(struct ps_ep_item *it)
{
	if (!it->on_arm)
		return;
	if (it->aprev != NULL)
		it->aprev->anext = it->anext;
	else
		it->ep->ahead = it->anext;
	if (it->anext != NULL)
		it->anext->aprev = it->aprev;
	it->on_arm = false;
}

static void
ps_unfile(struct ps_ep_item *it)
{
	struct ps_ep_item **pp;

	if (it->slot == PS_NOSLOT) {
		it->ep->nfresh--;
		return;
	}
	for (pp = &ps_slot_items[it->slot]; *pp != NULL; pp = &(*pp)->snext)
		if (*pp == it) {
			*pp = it->snext;
			break;
		}
}

/* File the item under its socket's slot (it may have got one since). */
static void
ps_file(struct ps_ep_item *it, bool first)
{
	uint32_t s = ps_sock_slot(it->ps);

	if (!first) {
		if (s == it->slot)
			return;
		ps_unfile(it);
	}
	it->slot = s;
	it->armed = false;
	if (s == PS_NOSLOT) {
		it->ep->nfresh++;
		return;
	}
	it->snext = ps_slot_items[s];
	ps_slot_items[s] = it;
}

static void
ps_item_remove(struct ps_ep_item *it)
{
	struct ps_ep *ep = it->ep;

	ps_ready_del(it);
	ps_arm_del(it);
	ps_unfile(it);
	if (it->events & EPOLLEXCLUSIVE) {
		struct ps_ep_item **pp;

		for (pp = &ep->xhead; *pp != NULL; pp = &(*pp)->xnext)
			if (*pp == it) {
				*pp = it->xnext;
				break;
			}
	}
	ep->items[it->idx] = ep->items[--ep->n];
	ep->items[it->idx]->idx = it->idx;
	ps_put(it->ps);
	free(it);
}

static struct ps_ep *
ps_ep_of(int epfd, bool create)
{
	struct ps_ep *ep;

	if (epfd < 0 || epfd >= PS_FD_MAX)
		return NULL;
	ep = atomic_load(&ps_eps[epfd]);
	if (ep != NULL || !create)
		return ep;
	pthread_mutex_lock(&ps_ep_mu);
	if (ps_slot_items == NULL)
		ps_slot_items = calloc(ps_shm.max_sockets, sizeof(*ps_slot_items));
	ep = atomic_load(&ps_eps[epfd]);
	if (ep == NULL && ps_slot_items != NULL) {
		ep = calloc(1, sizeof(*ep));
		if (ep != NULL) {
			ep->armed_c = -1;
			atomic_store(&ps_eps[epfd], ep);
		}
	}
	pthread_mutex_unlock(&ps_ep_mu);
	return ep;
}

void
ps_epoll_fd_closed(int fd)
{
	struct ps_ep *ep;

	if (fd < 0 || fd >= PS_FD_MAX)
		return;
	if (atomic_load_explicit(&ps_ep_kcount[fd], memory_order_relaxed) != 0)
		atomic_store(&ps_ep_kcount[fd], 0);
	if (atomic_load_explicit(&ps_eps[fd], memory_order_relaxed) == NULL)
		return;
	ep = atomic_exchange(&ps_eps[fd], NULL);
	if (ep == NULL)
		return;
	pthread_mutex_lock(&ps_ep_mu);
	while (ep->n > 0)
		ps_item_remove(ep->items[ep->n - 1]);
	pthread_mutex_unlock(&ps_ep_mu);
	free(ep->items);
	free(ep->nests);
	free(ep);
}

static struct ps_ep_item *
ps_ep_find(struct ps_ep *ep, int fd, struct ps_sock *ps)
{
	uint32_t s = ps_sock_slot(ps);
	struct ps_ep_item *it;
	unsigned int i;

	if (s != PS_NOSLOT)
		for (it = ps_slot_items[s]; it != NULL; it = it->snext)
			if (it->ep == ep && it->fd == fd && it->ps == ps)
				return it;
	/* Filed under no slot (or an older one): the rare case, look at all. */
	if (ep->nfresh == 0 && s != PS_NOSLOT)
		return NULL;
	for (i = 0; i < ep->n; i++)
		if (ep->items[i]->fd == fd && ep->items[i]->ps == ps)
			return ep->items[i];
	return NULL;
}

/* The kernel accepted op on epoll fd fd in set epfd: keep our nest
 * entries in step (shim epoll sets only). */
static void
ps_ep_nest_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct ps_ep *ep;
	unsigned int i;

	if (op == EPOLL_CTL_ADD && atomic_load(&ps_eps[fd]) == NULL)
		return;
	ep = ps_ep_of(epfd, op == EPOLL_CTL_ADD);
	if (ep == NULL)
		return;
	pthread_mutex_lock(&ps_ep_mu);
	for (i = 0; i < ep->nnest && ep->nests[i].fd != fd; i++)
		;
	if (op == EPOLL_CTL_ADD && i == ep->nnest) {
		if (ep->nnest == ep->capnest) {
			unsigned int cap = ep->capnest ? ep->capnest * 2 : 4;
			void *p = realloc(ep->nests, cap * sizeof(*ep->nests));

			if (p == NULL)
				goto out;
			ep->nests = p;
			ep->capnest = cap;
		}
		ep->nnest++;
	}
	if (i == ep->nnest)
		goto out;
	if (op == EPOLL_CTL_DEL) {
		ep->nests[i] = ep->nests[--ep->nnest];
	} else if (ev != NULL) {
		ep->nests[i].fd = fd;
		ep->nests[i].events = ev->events;
		ep->nests[i].data = ev->data;
	}
out:
	pthread_mutex_unlock(&ps_ep_mu);
}

PS_EXPORT int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct ps_sock *ps = ps_get(fd);
	struct ps_ep *ep;
	struct ps_ep_item *it;
	int ret = 0;

	if (ps == NULL) {
		int r = ps_real.epoll_ctl(epfd, op, fd, ev);

		if (r == 0 && epfd >= 0 && epfd < PS_FD_MAX &&
		    (op == EPOLL_CTL_ADD || op == EPOLL_CTL_DEL))
			atomic_fetch_add(&ps_ep_kcount[epfd],
					 op == EPOLL_CTL_ADD ? 1 : -1);
		if (r == 0 && fd >= 0 && fd < PS_FD_MAX &&
		    (atomic_load(&ps_eps[fd]) != NULL ||
		     ps_ep_of(epfd, false) != NULL))
			ps_ep_nest_ctl(epfd, op, fd, ev);
		return r;
	}
	if (epfd == fd) {
		ps_put(ps);
		return ps_set_errno(-EINVAL);
	}
	if (op != EPOLL_CTL_DEL && ev == NULL) {
		ps_put(ps);
		return ps_set_errno(-EFAULT);
	}
	/* Is epfd an epoll fd at all? Ask the kernel about the eventfd that
	 * stands for the socket (never in its set): EBADF or EINVAL as
	 * Linux answers, ENOENT when epfd is fine. */
	{
		struct epoll_event dummy = { 0 };
		int saved = errno;

		if (ps_real.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &dummy) < 0 &&
		    (errno == EBADF || errno == EINVAL)) {
			ret = -errno;
			ps_put(ps);
			return ps_set_errno(ret);
		}
		errno = saved;
	}
	/* EPOLLEXCLUSIVE only with IN/OUT/ERR/HUP/WAKEUP/ET (Linux's
	 * EPOLLEXCLUSIVE_OK_BITS): never with ONESHOT or RDHUP. */
	if (op == EPOLL_CTL_ADD && (ev->events & EPOLLEXCLUSIVE) &&
	    (ev->events & ~(uint32_t)(EPOLLIN | EPOLLOUT | EPOLLRDNORM |
				      EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND |
				      EPOLLERR | EPOLLHUP | EPOLLWAKEUP |
				      EPOLLET | EPOLLEXCLUSIVE))) {
		ps_put(ps);
		return ps_set_errno(-EINVAL);
	}
	ep = ps_ep_of(epfd, op == EPOLL_CTL_ADD);
	if (ep == NULL) {
		ps_put(ps);
		return ps_set_errno(op == EPOLL_CTL_ADD ? -ENOMEM : -ENOENT);
	}
	pthread_mutex_lock(&ps_ep_mu);
	it = ps_ep_find(ep, fd, ps);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it != NULL) {
			ret = -EEXIST;
			break;
		}
		if (ep->n == ep->cap) {
			unsigned int cap = ep->cap ? ep->cap * 2 : 16;
			void *p = realloc(ep->items, cap * sizeof(*ep->items));

			if (p == NULL) {
				ret = -ENOMEM;
				break;
			}
			ep->items = p;
			ep->cap = cap;
		}
		it = calloc(1, sizeof(*it));
		if (it == NULL) {
			ret = -ENOMEM;
			break;
		}
		it->fd = fd;
		it->ps = ps;
		it->ep = ep;
		atomic_fetch_add(&ps->refs, 1);
		it->events = ev->events;
		it->data = ev->data;
		it->last_rx = it->last_tx = UINT32_MAX;
		it->idx = ep->n;
		ep->items[ep->n++] = it;
		ps_file(it, true);
		if (it->events & EPOLLEXCLUSIVE) {
			it->xnext = ep->xhead;
			ep->xhead = it;
		}
		/* Checked at the next wait (Linux's ep_insert looks at once). */
		ps_ready_add(it);
		break;
	case EPOLL_CTL_MOD:
		if (it == NULL) {
			ret = -ENOENT;
			break;
		}
		if ((ev->events & EPOLLEXCLUSIVE) || (it->events & EPOLLEXCLUSIVE)) {
			ret = -EINVAL;
			break;
		}
		it->events = ev->events;
		it->data = ev->data;
		it->disabled = false;
		it->last = 0;
		it->last_rx = it->last_tx = UINT32_MAX;
		ps_ready_add(it);      /* MOD re-checks readiness (as Linux) */
		break;
	case EPOLL_CTL_DEL:
		if (it == NULL) {
			ret = -ENOENT;
			break;
		}
		ps_item_remove(it);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	pthread_mutex_unlock(&ps_ep_mu);
	ps_put(ps);
	return ret < 0 ? ps_set_errno(ret) : 0;
}

/* Channel c's notes (shm_proto.h "NOTES"): every item of a slot named
 * goes onto its instance's ready list; the slot's waiters word was
 * cleared by the engine, so items armed with c are armed no more. */
static void
ps_notes_drain(uint32_t c)
{
	struct shm_kick *k = shm_note_at(ps_shm.base, &ps_shm.lay, c);
	uint32_t nw = shm_kick_words(ps_shm.max_sockets), w;
	uint64_t sum, bits;

	if (atomic_load_explicit(&k->summary, memory_order_relaxed) == 0)
		return;
	sum = atomic_exchange(&k->summary, 0);
	while (sum != 0) {
		for (w = (uint32_t)__builtin_ctzll(sum); w < nw; w += 64) {
			if (atomic_load_explicit(&k->words[w],
						 memory_order_relaxed) == 0)
				continue;
			bits = atomic_exchange(&k->words[w], 0);
			while (bits != 0) {
				uint32_t s = w * 64 + (uint32_t)__builtin_ctzll(bits);
				struct ps_ep_item *it;

				bits &= bits - 1;
				if (s >= ps_shm.max_sockets)
					break;
				for (it = ps_slot_items[s]; it != NULL; it = it->snext) {
					if (it->ep->armed_c == (int)c)
						it->armed = false;
					ps_ready_add(it);
				}
			}
		}
		sum &= sum - 1;
	}
}

static uint32_t
ps_item_want(const struct ps_ep_item *it)
{
	return (it->events & (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI)) |
	       EPOLLERR | EPOLLHUP;
}

/* Items on the to-arm list are not armed: nothing notes their changes, so
 * each wait looks at them, and arms those that were there at the last
 * wait already (idle since: arming them costs nothing more per wait, and
 * busy ones, ready again at each wait, never make the engine ring). Only
 * when the set is armed with this thread's channel; otherwise the sleep
 * re-arms everything. ps_ep_mu held. */
static void
ps_ep_suspects(struct ps_ep *ep, struct ps_chan *ch)
{
	struct ps_ep_item *it, *next, *armed = NULL;
	bool can_arm;
	uint64_t checks = 0;

	/* Never armed: every item is on one of the two lists, so the set may
	 * take this channel as its own from here. */
	if (ep->armed_c < 0) {
		ep->armed_c = (int)ch->c;
		ep->armed_member = ps_shm.member;
	}
	can_arm = ep->armed_c == (int)ch->c && ep->armed_member == ps_shm.member;

	for (it = ep->ahead; it != NULL; it = next) {
		next = it->anext;
		checks++;
		if (can_arm && it->aged) {
			ps_arm_del(it);
			ps_arm(it->ps, ch);
			it->armed = true;
			it->anext = armed;
			armed = it;
		} else if (ps_events(it->ps) & ps_item_want(it)) {
			ps_arm_del(it);
			ps_ready_add(it);
		} else {
			it->aged = true;
		}
	}
	if (armed == NULL)
		goto out;
	atomic_thread_fence(memory_order_seq_cst);
	for (it = armed; it != NULL; it = next) {
		next = it->anext;
		it->anext = NULL;
		if (ps_events(it->ps) & ps_item_want(it))
			ps_ready_add(it);
	}
out:
	atomic_fetch_add_explicit(&ps_ep_checks, checks, memory_order_relaxed);
}

/* Take the ready list once round: report what is ready (at most max),
 * re-queue level-triggered reports at the tail, set the rest to be armed.
 * ps_ep_mu held. */
static int
ps_ep_collect(struct ps_ep *ep, struct ps_chan *ch, struct epoll_event *out,
	      int max)
{
	unsigned int k, n;
	uint64_t checks = 0;
	int got = 0;

	ps_ep_suspects(ep, ch);
	n = ep->nready;

	for (k = 0; k < n && got < max && ep->rhead != NULL; k++) {
		struct ps_ep_item *it = ep->rhead;
		uint32_t ev, rxp = 0, txc = 0;

		ps_ready_del(it);
		checks++;
		if (atomic_load(&it->ps->dead)) {
			/* Its last fd is closed: it leaves the set (as Linux). */
			ps_item_remove(it);
			continue;
		}
		ps_file(it, false);
		if (it->disabled)
			continue;
		ev = ps_events(it->ps) & ps_item_want(it);
		if (it->events & EPOLLET) {
			if (it->ps->kind == PS_CONN) {
				struct shm_slot *sl = ps_slot(it->ps->slot);

				rxp = atomic_load_explicit(&sl->rx_prod, memory_order_acquire);
				txc = atomic_load_explicit(&sl->tx_cons, memory_order_acquire);
			} else if (it->ps->kind == PS_LISTEN) {
				struct shm_slot *sl = ps_slot(it->ps->slot);
				uint32_t e;

				for (e = 0; e < ps_shm.n_engines; e++)
					rxp += atomic_load_explicit(&sl->accq[e],
						memory_order_acquire);
			}
			/* An edge: a bit newly set, or new data / new room
			 * since the last report (Linux reports each arrival). */
			if (!((ev & ~it->last) ||
			      ((ev & EPOLLIN) && rxp != it->last_rx) ||
			      ((ev & EPOLLOUT) && txc != it->last_tx))) {
				it->last = ev;
				ev = 0;
			} else {
				it->last = ev;
				it->last_rx = rxp;
				it->last_tx = txc;
			}
		}
		if (ev == 0) {
			/* Nothing notes a socket with no slot, nor an EXCLUSIVE
			 * one while we do not sleep: they stay on the list. */
			if (it->slot == PS_NOSLOT || (it->events & EPOLLEXCLUSIVE))
				ps_ready_add(it);
			else
				ps_arm_add(it);
			continue;
		}
		out[got].events = ev;
		out[got].data = it->data;
		got++;
		if (it->events & EPOLLONESHOT)
			it->disabled = true;
		else if ((it->events & (EPOLLET | EPOLLEXCLUSIVE)) == EPOLLET)
			ps_arm_add(it);
		else
			ps_ready_add(it);       /* the tail: others take turns */
	}
	atomic_fetch_add_explicit(&ps_ep_checks, checks, memory_order_relaxed);
	return got;
}

/* Before sleeping on channel c: every item not on the ready list must be
 * armed with c. Arms the to-arm list (or every item when the instance was
 * armed with another channel), then re-checks those (shm_proto.h
 * "WAKEUP"). Returns true when one is ready after all. ps_ep_mu held. */
static bool
ps_ep_arm(struct ps_ep *ep, struct ps_chan *ch)
{
	struct ps_ep_item *it, *armed = NULL;
	uint64_t checks = 0;
	bool ready = false;
	unsigned int i;

	if (ep->armed_c != (int)ch->c || ep->armed_member != ps_shm.member) {
		while (ep->ahead != NULL)
			ps_arm_del(ep->ahead);
		for (i = ep->n; i-- > 0; ) {
			it = ep->items[i];
			if (atomic_load(&it->ps->dead)) {
				ps_item_remove(it);
				continue;
			}
			it->armed = false;
			if (!it->disabled && !it->on_ready)
				ps_arm_add(it);
		}
		ep->armed_c = (int)ch->c;
		ep->armed_member = ps_shm.member;
	}
	while ((it = ep->ahead) != NULL) {
		ps_arm_del(it);
		ps_arm(it->ps, ch);
		it->armed = true;
		it->anext = armed;        /* reused: the re-check list */
		armed = it;
	}
	atomic_thread_fence(memory_order_seq_cst);
	for (it = armed; it != NULL; it = it->anext) {
		checks++;
		if (ps_events(it->ps) & ps_item_want(it)) {
			ps_ready_add(it);
			ready = true;
		}
	}
	for (it = armed; it != NULL; ) {
		struct ps_ep_item *next = it->anext;

		it->anext = NULL;
		it = next;
	}
	atomic_fetch_add_explicit(&ps_ep_checks, checks, memory_order_relaxed);
	return ready;
}

/* Would collect report it now? Level-triggered: ready; edge-triggered:
 * a new bit or new data / room since its last report (as collect). */
static bool
ps_item_news(const struct ps_ep_item *it)
{
	uint32_t ev = ps_events(it->ps) & ps_item_want(it), rxp = 0, txc = 0;
	struct shm_slot *sl;
	uint32_t e;

	if (ev == 0 || !(it->events & EPOLLET))
		return ev != 0;
	sl = ps_slot(it->ps->slot);
	if (it->ps->kind == PS_CONN) {
		rxp = atomic_load_explicit(&sl->rx_prod, memory_order_acquire);
		txc = atomic_load_explicit(&sl->tx_cons, memory_order_acquire);
	} else if (it->ps->kind == PS_LISTEN) {
		for (e = 0; e < ps_shm.n_engines; e++)
			rxp += atomic_load_explicit(&sl->accq[e], memory_order_acquire);
	}
	return (ev & ~it->last) || ((ev & EPOLLIN) && rxp != it->last_rx) ||
	       ((ev & EPOLLOUT) && txc != it->last_tx);
}

/* EPOLLEXCLUSIVE items are armed (shm_proto.h "EXCLUSIVE") only while
 * this thread sleeps, so the engine's one wake goes to a sleeper. on:
 * arm and re-check (true: one is ready); off: disarm. ps_ep_mu held. */
static bool
ps_ep_xarm(struct ps_ep *ep, struct ps_chan *ch, bool on)
{
	struct ps_ep_item *it;
	bool ready = false;

	for (it = ep->xhead; it != NULL; it = it->xnext)
		if (it->slot != PS_NOSLOT && !atomic_load(&it->ps->dead)) {
			struct shm_slot *sl = ps_slot(it->slot);

			if (on)
				atomic_fetch_or(&sl->xwaiters, 1ull << ch->c);
			else
				atomic_fetch_and(&sl->xwaiters, ~(1ull << ch->c));
		}
	if (!on)
		return false;
	atomic_thread_fence(memory_order_seq_cst);
	for (it = ep->xhead; it != NULL; it = it->xnext)
		if (!it->disabled && ps_item_news(it)) {
			ps_ready_add(it);
			ready = true;
		}
	return ready;
}

/* Drain the notes this wait may rely on: its own channel's and those of
 * the channel its items are armed with, when a thread of ours has it. */
static void
ps_ep_notes(struct ps_ep *ep, struct ps_chan *ch)
{
	ps_notes_drain(ch->c);
	if (ep->armed_c >= 0 && ep->armed_c != (int)ch->c &&
	    ep->armed_member == ps_shm.member && ps_chan_ours((uint32_t)ep->armed_c))
		ps_notes_drain((uint32_t)ep->armed_c);
}

static struct ps_ep *
ps_ep_nested(int fd)
{
	struct ps_ep *ep;

	if (fd < 0 || fd >= PS_FD_MAX)
		return NULL;
	ep = atomic_load_explicit(&ps_eps[fd], memory_order_acquire);
	return ep != NULL && ep->n > 0 ? ep : NULL;
}

static bool
ps_item_ready(const struct ps_ep_item *it)
{
	return !it->disabled && !atomic_load(&it->ps->dead) &&
	       (ps_events(it->ps) & ps_item_want(it)) != 0;
}

/* Is a member ready (the epoll fd polled as readable, as Linux's
 * ep_eventpoll_poll)? Those noted and those not armed since they were
 * last looked at; every member when the arms are another process's. */
static bool
ps_ep_peek(struct ps_ep *ep, struct ps_chan *ch)
{
	struct ps_ep_item *it;
	bool ready = false;
	unsigned int i;

	pthread_mutex_lock(&ps_ep_mu);
	ps_ep_notes(ep, ch);
	if (ep->armed_member != ps_shm.member || ep->armed_c < 0) {
		for (i = 0; i < ep->n && !ready; i++)
			ready = ps_item_ready(ep->items[i]);
	} else {
		for (it = ep->rhead; it != NULL && !ready; it = it->rnext)
			ready = ps_item_ready(it);
		for (it = ep->ahead; it != NULL && !ready; it = it->anext)
			if (!(it->events & EPOLLET))
				ready = ps_item_ready(it);
	}
	pthread_mutex_unlock(&ps_ep_mu);
	return ready;
}

/* A poll about to sleep on an epoll fd: noted members that are not ready
 * after all leave the ready list to be armed, then everything not on it
 * is armed with this thread's channel. true: one is ready, do not sleep. */
static bool
ps_ep_sleep_arm(struct ps_ep *ep, struct ps_chan *ch)
{
	struct ps_ep_item *it, *next;
	bool ready = false;

	pthread_mutex_lock(&ps_ep_mu);
	ps_ep_notes(ep, ch);
	for (it = ep->rhead; it != NULL; it = next) {
		next = it->rnext;
		if (ps_item_ready(it)) {
			ready = true;
		} else if (it->slot != PS_NOSLOT &&
			   !(it->events & EPOLLEXCLUSIVE)) {
			ps_ready_del(it);
			ps_arm_add(it);
		}
	}
	if (!ready)
		ready = ps_ep_arm(ep, ch);
	pthread_mutex_unlock(&ps_ep_mu);
	return ready;
}

/* Nested sets whose dptcp members are ready, reported as Linux reports
 * an epoll fd in a set (EPOLLIN), once per wait even when the kernel
 * reported it for its kernel members already. */
static int
ps_ep_nest_collect(struct ps_ep *ep, struct ps_chan *ch,
		   struct epoll_event *evs, int got, int max)
{
	struct ps_ep_nest n[16];
	unsigned int i, nn;
	int j;

	pthread_mutex_lock(&ps_ep_mu);
	nn = ep->nnest < 16 ? ep->nnest : 16;
	memcpy(n, ep->nests, nn * sizeof(n[0]));
	pthread_mutex_unlock(&ps_ep_mu);
	for (i = 0; i < nn && got < max; i++) {
		struct ps_ep *in = ps_ep_nested(n[i].fd);

		if (in == NULL || in == ep || !(n[i].events & EPOLLIN) ||
		    !ps_ep_peek(in, ch))
			continue;
		for (j = 0; j < got; j++)
			if (evs[j].data.u64 == n[i].data.u64)
				break;
		if (j < got)
			continue;
		evs[got].events = EPOLLIN;
		evs[got].data = n[i].data;
		got++;
	}
	return got;
}

/* Before sleeping: the nested sets' dptcp members armed with our channel
 * too. true: one is ready. */
static bool
ps_ep_nest_arm(struct ps_ep *ep, struct ps_chan *ch)
{
	int fds[16];
	unsigned int i, nn;

	pthread_mutex_lock(&ps_ep_mu);
	nn = ep->nnest < 16 ? ep->nnest : 16;
	for (i = 0; i < nn; i++)
		fds[i] = ep->nests[i].fd;
	pthread_mutex_unlock(&ps_ep_mu);
	for (i = 0; i < nn; i++) {
		struct ps_ep *in = ps_ep_nested(fds[i]);

		if (in != NULL && in != ep && ps_ep_sleep_arm(in, ch))
			return true;
	}
	return false;
}

static int
ps_epoll_impl(int epfd, struct ps_ep *ep, struct epoll_event *evs, int max,
	      int timeout_ms, const sigset_t *mask)
{
	uint64_t start = ps_now_us(), spin_end = start + ps_shm.spin_us;
	uint64_t end = timeout_ms < 0 ? UINT64_MAX :
		       start + (uint64_t)timeout_ms * 1000u;
	struct ps_chan *ch;
	int got, r;

	if (max <= 0)
		return ps_set_errno(-EINVAL);
	ps_ep_stats_tick();
	ch = ps_chan_get();
	for (;;) {
		bool asked = ep->kturns > 0;

		got = 0;
		if (asked) {
			/* The kernel's turn (see ps_ep_kcount). */
			r = ps_real.epoll_wait(epfd, evs, max, 0);
			got = r > 0 ? r : 0;
			ep->kturns = r > 0 ? ep->kturns - 1 : 0;
		}
		if (got < max) {
			int k;

			pthread_mutex_lock(&ps_ep_mu);
			ps_ep_notes(ep, ch);
			k = ps_ep_collect(ep, ch, evs + got, max - got);
			if (k > 0 && got == 0)
				ep->kturns = atomic_load(&ps_ep_kcount[epfd]);
			pthread_mutex_unlock(&ps_ep_mu);
			got += k;
		}
		if (got < max && !asked) {
			r = ps_real.epoll_wait(epfd, evs + got, max - got, 0);
			if (r < 0 && got == 0)
				return -1;
			if (r > 0)
				got += r;
		}
		if (ep->nnest > 0 && got < max)
			got = ps_ep_nest_collect(ep, ch, evs, got, max);
		if (got > 0 || ps_ms_left(end) == 0)
			return got;
		if (atomic_load(&ps_shm.dead))
			return ps_set_errno(-ENOMEM);
		if (ps_now_us() < spin_end) {
			__builtin_ia32_pause();
			continue;
		}
		{
			struct pollfd kf = { .fd = epfd, .events = POLLIN };
			struct ps_ep_item *it;
			bool ready;

			pthread_mutex_lock(&ps_ep_mu);
			ps_ep_notes(ep, ch);
			ready = ps_ep_arm(ep, ch) || ps_ep_xarm(ep, ch, true);
			for (it = ep->rhead; it != NULL && !ready; it = it->rnext)
				if (it->slot != PS_NOSLOT &&
				    !(it->events & EPOLLEXCLUSIVE))
					ready = true;   /* noted meanwhile */
			pthread_mutex_unlock(&ps_ep_mu);
			if (!ready && ep->nnest > 0)
				ready = ps_ep_nest_arm(ep, ch);
			if (!ready)
				r = ps_sleep_mask(ch, &kf, 1, ps_ms_left(end), mask);
			if (ep->xhead != NULL) {
				int e = errno;

				pthread_mutex_lock(&ps_ep_mu);
				ps_ep_xarm(ep, ch, false);
				pthread_mutex_unlock(&ps_ep_mu);
				errno = e;
			}
			if (ready)
				continue;    /* collect decides (ET may say no) */
			if (r < 0 && errno == EINTR)
				return -1;
		}
	}
}

PS_EXPORT int
epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout_ms)
{
	struct ps_ep *ep = ps_ep_of(epfd, false);

	if (ep == NULL || (ep->n == 0 && ep->nnest == 0))
		return ps_real.epoll_wait(epfd, evs, max, timeout_ms);
	return ps_epoll_impl(epfd, ep, evs, max, timeout_ms, NULL);
}

PS_EXPORT int
epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout_ms,
	    const sigset_t *mask)
{
	struct ps_ep *ep = ps_ep_of(epfd, false);

	if (ep == NULL || (ep->n == 0 && ep->nnest == 0))
		return ps_real.epoll_pwait(epfd, evs, max, timeout_ms, mask);
	return ps_epoll_impl(epfd, ep, evs, max, timeout_ms, mask);
}

PS_EXPORT int
epoll_pwait2(int epfd, struct epoll_event *evs, int max,
	     const struct timespec *ts, const sigset_t *mask)
{
	struct ps_ep *ep = ps_ep_of(epfd, false);

	if (ep == NULL || (ep->n == 0 && ep->nnest == 0)) {
		if (ps_real.epoll_pwait2 == NULL)
			return ps_set_errno(-ENOSYS);
		return ps_real.epoll_pwait2(epfd, evs, max, ts, mask);
	}
	return ps_epoll_impl(epfd, ep, evs, max, ts_ms(ts), mask);
}
