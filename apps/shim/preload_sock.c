/* preload_sock.c — the socket calls of libdptcp_preload.so: which sockets
 * become dptcp's (bind/connect), and socket, bind, listen, accept, connect,
 * shutdown, close, the read/write family, socket options, names, fcntl,
 * ioctl and dup, with Linux's semantics and errno values. Calls on fds
 * that are not dptcp sockets go to libc untouched. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "preload_internal.h"

/* enum dpt_opt of tcp/dpt.h (the shim does not include the stack's
 * headers): the values SHM_OP_SETOPT carries. */
enum { OPT_NODELAY, OPT_KEEPALIVE, OPT_KEEPIDLE, OPT_KEEPINTVL, OPT_KEEPCNT };

static _Atomic uint32_t ps_rr_engine;

/* --- which sockets are dptcp's ----------------------------------------- */

/* An unbound, unconnected kernel AF_INET stream socket: one we may take. */
static bool
ps_candidate(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);
	struct sockaddr_in sa;

	if (fd < 0 || fd >= PS_FD_MAX)
		return false;
	if (ps_real.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 ||
	    v != AF_INET)
		return false;
	len = sizeof(v);
	if (ps_real.getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 ||
	    v != SOCK_STREAM)
		return false;
	len = sizeof(sa);
	if (ps_real.getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
	    sa.sin_port != 0)
		return false;
	return true;
}

/* A destination dptcp reaches: on its prefix, or anywhere but loopback
 * when it has a gateway. */
static bool
ps_remote_ours(uint32_t ip)
{
	uint32_t mask = ps_shm.prefix_len == 0 ? 0 :
			UINT32_MAX << (32 - ps_shm.prefix_len);

	if ((ip >> 24) == 127 || ip == 0 || ip == ps_shm.local_ip ||
	    ip >= 0xe0000000u)
		return false;
	if ((ip & mask) == (ps_shm.local_ip & mask))
		return true;
	return ps_shm.gateway != 0;
}

static int
ps_getint(int fd, int level, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);

	ps_real.getsockopt(fd, level, name, &v, &len);
	return v;
}

/* Put an eventfd in place of the kernel socket fd, keeping its flags and
 * the options set so far. */
static struct ps_sock *
ps_convert(int fd)
{
	struct ps_sock *ps;
	struct linger lg = { 0 };
	socklen_t len;
	int fl, fdfl, ev;

	fl = ps_real.fcntl(fd, F_GETFL);
	fdfl = ps_real.fcntl(fd, F_GETFD);
	if (fl < 0 || fdfl < 0)
		return NULL;
	ps = ps_sock_new();
	if (ps == NULL)
		return NULL;
	ps->reuseaddr = ps_getint(fd, SOL_SOCKET, SO_REUSEADDR);
	ps->reuseport = ps_getint(fd, SOL_SOCKET, SO_REUSEPORT);
	ps->keepalive = ps_getint(fd, SOL_SOCKET, SO_KEEPALIVE);
	ps->nodelay = ps_getint(fd, IPPROTO_TCP, TCP_NODELAY);
	ps->keepidle = ps_getint(fd, IPPROTO_TCP, TCP_KEEPIDLE);
	ps->keepintvl = ps_getint(fd, IPPROTO_TCP, TCP_KEEPINTVL);
	ps->keepcnt = ps_getint(fd, IPPROTO_TCP, TCP_KEEPCNT);
	ps->tos = ps_getint(fd, IPPROTO_IP, IP_TOS);
	len = sizeof(lg);
	ps_real.getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len);
	ps->linger_on = lg.l_onoff;
	ps->linger_s = lg.l_linger;
	len = sizeof(ps->rcvtimeo);
	ps_real.getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &ps->rcvtimeo, &len);
	len = sizeof(ps->sndtimeo);
	ps_real.getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &ps->sndtimeo, &len);
	atomic_store(&ps->nonblock, (fl & O_NONBLOCK) != 0);
	ev = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ev < 0 || ps_real.dup3(ev, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		if (ev >= 0)
			ps_real.close(ev);
		ps_put(ps);
		return NULL;
	}
	ps_real.close(ev);
	ps_fd_install(fd, ps);
	return ps;          /* holds the creator's ref: ps_put() when done */
}

static int
ps_timeout_ms(const struct timeval *tv, bool nonblock)
{
	if (nonblock)
		return 0;
	if (tv->tv_sec == 0 && tv->tv_usec == 0)
		return -1;
	if (tv->tv_sec > INT_MAX / 1000 - 1)
		return INT_MAX;
	return (int)(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000);
}

static void
ps_fill_addr(struct sockaddr *addr, socklen_t *len, uint32_t ip, uint16_t port)
{
	struct sockaddr_in sa;

	if (addr == NULL || len == NULL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(ip);
	sa.sin_port = htons(port);
	memcpy(addr, &sa, *len < sizeof(sa) ? *len : sizeof(sa));
	*len = sizeof(sa);
}

static int
ps_setopt_cmd(struct ps_sock *ps, uint32_t opt, int value)
{
	struct shm_msg m = { .op = SHM_OP_SETOPT, .slot = ps->slot,
			     .gen = ps->gen, .arg = opt, .arg2 = (uint32_t)value };

	if (ps->kind != PS_CONN)
		return 0;
	return ps_cmd(ps->engine, &m);
}

/* Options a connection inherits from its listener or had before connect. */
static void
ps_apply_opts(struct ps_sock *ps)
{
	if (ps->nodelay)
		ps_setopt_cmd(ps, OPT_NODELAY, 1);
	if (ps->keepidle != 7200)
		ps_setopt_cmd(ps, OPT_KEEPIDLE, ps->keepidle);
	if (ps->keepintvl != 75)
		ps_setopt_cmd(ps, OPT_KEEPINTVL, ps->keepintvl);
	if (ps->keepcnt != 9)
		ps_setopt_cmd(ps, OPT_KEEPCNT, ps->keepcnt);
	if (ps->keepalive)
		ps_setopt_cmd(ps, OPT_KEEPALIVE, 1);
}

/* --- bind / listen / accept / connect ----------------------------------- */

PS_EXPORT int
bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
	struct ps_sock *ps = ps_get(fd);
	uint32_t ip, handle;
	uint16_t port;
	int ret;

	if (ps != NULL) {
		ps_put(ps);
		return ps_set_errno(-EINVAL);    /* already bound */
	}
	if (addr == NULL || len < sizeof(*sin) || sin->sin_family != AF_INET ||
	    !ps_candidate(fd) || !ps_attach())
		return ps_real.bind(fd, addr, len);
	ip = ntohl(sin->sin_addr.s_addr);
	if (ip != 0 && ip != ps_shm.local_ip)
		return ps_real.bind(fd, addr, len);
	/* dptcpd's port table decides (EADDRINUSE, or the ephemeral port for
	 * port 0); the socket stays the kernel's when it says no. */
	ret = ps_port_bind(ip, ntohs(sin->sin_port),
			   ps_getint(fd, SOL_SOCKET, SO_REUSEADDR),
			   ps_getint(fd, SOL_SOCKET, SO_REUSEPORT), &handle,
			   &port);
	if (ret == -ECONNABORTED)
		return ps_real.bind(fd, addr, len);
	if (ret < 0)
		return ps_set_errno(ret);
	ps = ps_convert(fd);
	if (ps == NULL) {
		struct ps_sock tmp = { .port_handle = handle, .lip = ip,
				       .lport = port };

		ps_port_op(&tmp, SHM_PORT_RELEASE);
		return ps_real.bind(fd, addr, len);
	}
	ps->kind = PS_BOUND;
	ps->lip = ip;
	ps->lport = port;
	ps->port_handle = handle;
	ps_put(ps);
	return 0;
}

/* SHM_HELD when another member (a forked process) still holds the
 * listener: its slot is not ours to free then. */
static int
ps_unlisten_all(struct ps_sock *ps, uint32_t n)
{
	uint32_t e;
	int ret = 0;

	for (e = 0; e < n; e++) {
		struct shm_msg m = { .op = SHM_OP_UNLISTEN, .slot = ps->slot,
				     .gen = ps->gen };

		if (ps_cmd(e, &m) == SHM_HELD)
			ret = SHM_HELD;
	}
	return ret;
}

PS_EXPORT int
listen(int fd, int backlog)
{
	struct ps_sock *ps = ps_get(fd);
	uint32_t e;
	int ret = 0;

	if (ps == NULL) {
		/* Linux binds an unbound socket to any:ephemeral: so do we,
		 * on dptcp (the port from dptcpd's table). */
		struct sockaddr_in any = { .sin_family = AF_INET };

		if (!ps_candidate(fd) || !ps_attach() ||
		    bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0 ||
		    (ps = ps_get(fd)) == NULL)
			return ps_real.listen(fd, backlog);
	}
	pthread_mutex_lock(&ps->mu);
	if (ps->kind == PS_LISTEN)
		goto out;                    /* Linux: a new backlog, 0 */
	if (ps->kind != PS_BOUND) {
		ret = -EINVAL;
		goto out;
	}
	if (backlog <= 0)
		backlog = 1;
	if (backlog > 4096)
		backlog = 4096;              /* net.core.somaxconn */
	ret = ps_port_op(ps, SHM_PORT_LISTEN);   /* EADDRINUSE across programs */
	if (ret < 0)
		goto out;
	ret = ps_slot_alloc(&ps->slot, &ps->gen);
	if (ret < 0) {
		ps_port_op(ps, SHM_PORT_UNLISTEN);
		goto out;
	}
	for (e = 0; e < ps_shm.n_engines; e++) {
		struct shm_msg m = { .op = SHM_OP_LISTEN, .slot = ps->slot,
				     .gen = ps->gen, .ip = ps->lip,
				     .port = ps->lport, .arg = (uint32_t)backlog,
				     .arg2 = ps->reuseport ?
					     SHM_LISTEN_REUSEPORT : 0 };

		ret = ps_cmd(e, &m);
		if (ret < 0) {
			ps_unlisten_all(ps, e);
			ps_slot_free(ps->slot);
			ps_port_op(ps, SHM_PORT_UNLISTEN);
			goto out;
		}
	}
	ps->backlog = backlog;
	ps->kind = PS_LISTEN;
out:
	pthread_mutex_unlock(&ps->mu);
	ps_put(ps);
	return ret < 0 ? ps_set_errno(ret) : 0;
}

static int
ps_accept_one(struct ps_sock *ls, struct sockaddr *addr, socklen_t *alen,
	      int flags)
{
	struct shm_slot *sl = ps_slot(ls->slot);
	uint32_t start = atomic_fetch_add(&ps_rr_engine, 1), i;
	int ret;

	for (i = 0; i < ps_shm.n_engines; i++) {
		uint32_t e = (start + i) % ps_shm.n_engines;
		struct shm_msg m = { .op = SHM_OP_ACCEPT, .slot = ls->slot,
				     .gen = ls->gen };
		struct ps_sock *ps;
		uint32_t ns, ngen;
		int fd;

		if (atomic_load_explicit(&sl->accq[e], memory_order_acquire) == 0)
			continue;
		ret = ps_slot_alloc(&ns, &ngen);
		if (ret < 0)
			return ret;
		m.arg = ns;
		m.arg2 = ngen;
		ret = ps_cmd(e, &m);
		if (ret == -EAGAIN) {
			ps_slot_free(ns);
			continue;                /* another thread took it */
		}
		if (ret < 0) {
			ps_slot_free(ns);
			return ret;
		}
		ps = ps_sock_new();
		fd = ps == NULL ? -1 :
		     eventfd(0, EFD_NONBLOCK |
			     ((flags & SOCK_CLOEXEC) ? EFD_CLOEXEC : 0));
		if (fd < 0 || fd >= PS_FD_MAX) {
			struct shm_msg c = { .op = SHM_OP_CLOSE, .slot = ns,
					     .gen = ngen, .arg = 1 };

			ps_cmd(e, &c);
			ps_slot_closing(ns);
			if (fd >= 0)
				ps_real.close(fd);
			if (ps != NULL)
				ps_put(ps);
			return -EMFILE;
		}
		ps->kind = PS_CONN;
		ps->slot = ns;
		ps->gen = ngen;
		ps->engine = e;
		ps->lip = m.lip;
		ps->lport = m.lport;
		ps->rip = m.ip;
		ps->rport = m.port;
		ps->connect_reported = true;
		atomic_store(&ps->nonblock, (flags & SOCK_NONBLOCK) != 0);
		/* Linux's accepted sockets inherit the listener's options. */
		ps->nodelay = ls->nodelay;
		ps->keepalive = ls->keepalive;
		ps->keepidle = ls->keepidle;
		ps->keepintvl = ls->keepintvl;
		ps->keepcnt = ls->keepcnt;
		ps->linger_on = ls->linger_on;
		ps->linger_s = ls->linger_s;
		ps->reuseaddr = ls->reuseaddr;
		ps->rcvbuf = ls->rcvbuf;
		ps->sndbuf = ls->sndbuf;
		ps_apply_opts(ps);
		ps_fd_install(fd, ps);
		ps_put(ps);
		ps_fill_addr(addr, alen, m.ip, m.port);
		return fd;
	}
	return -EAGAIN;
}

PS_EXPORT int
accept4(int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
	struct ps_sock *ls = ps_get(fd);
	int ret, tmo;

	if (ls == NULL)
		return ps_real.accept4(fd, addr, alen, flags);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
		ps_put(ls);
		return ps_set_errno(-EINVAL);
	}
	if (ls->kind != PS_LISTEN) {
		ps_put(ls);
		return ps_set_errno(-EINVAL);
	}
	tmo = ps_timeout_ms(&ls->rcvtimeo, atomic_load(&ls->nonblock));
	for (;;) {
		ret = ps_accept_one(ls, addr, alen, flags);
		if (ret != -EAGAIN || tmo == 0)
			break;
		ret = ps_wait(ls, POLLIN, tmo);
		if (ls->kind != PS_LISTEN) {
			ret = -EINVAL;       /* shut down while we waited */
			break;
		}
		if (ret == -ETIMEDOUT) {
			ret = -EAGAIN;
			break;
		}
		if (ret < 0 || atomic_load(&ls->dead)) {
			ret = ret < 0 ? ret : -EBADF;
			break;
		}
	}
	ps_put(ls);
	return ret < 0 ? ps_set_errno(ret) : ret;
}

PS_EXPORT int
accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
	if (!ps_maybe(fd))
		return ps_real.accept(fd, addr, alen);
	return accept4(fd, addr, alen, 0);
}

/* The outcome of a connect in progress: 0, or the error. */
static int
ps_connect_result(struct ps_sock *ps)
{
	struct shm_slot *sl = ps_slot(ps->slot);
	uint32_t st = atomic_load_explicit(&sl->state, memory_order_acquire);
	int err;

	if (st == SHM_ST_CONNECTING)
		return -EINPROGRESS;
	if (st == SHM_ST_ESTABLISHED)
		return 0;
	err = atomic_load_explicit(&sl->err, memory_order_relaxed);
	return err != 0 ? -err : 0;
}

static int
ps_connect_dptcp(struct ps_sock *ps, uint32_t ip, uint16_t port)
{
	uint32_t start = atomic_fetch_add(&ps_rr_engine, 1), i;
	int ret = -EADDRNOTAVAIL;

	ret = ps_slot_alloc(&ps->slot, &ps->gen);
	if (ret < 0)
		return ret;
	for (i = 0; i < ps_shm.n_engines; i++) {
		uint32_t e = (start + i) % ps_shm.n_engines;
		struct shm_msg m = { .op = SHM_OP_CONNECT, .slot = ps->slot,
				     .gen = ps->gen, .ip = ip, .port = port,
				     .lport = ps->kind == PS_BOUND ? ps->lport : 0 };

		ret = ps_cmd(e, &m);
		/* A bound port may hash to another engine's core. */
		if (ret == -EADDRNOTAVAIL && m.lport != 0)
			continue;
		if (ret < 0)
			break;
		ps->engine = e;
		ps->lip = m.lip;
		ps->lport = m.lport;
		ps->rip = ip;
		ps->rport = port;
		ps->kind = PS_CONN;
		ps_apply_opts(ps);
		return 0;
	}
	ps_slot_free(ps->slot);
	return ret;
}

/* A connect that failed (refused, timed out, reset before connect() saw
 * it succeed) leaves the socket unconnected, as Linux's sock_error path
 * in __inet_stream_connect: connect() may be called again and tries
 * afresh. ps->mu held. */
static void
ps_unconnect(struct ps_sock *ps)
{
	struct shm_msg m = { .op = SHM_OP_CLOSE, .slot = ps->slot,
			     .gen = ps->gen, .arg = 1 };

	ps_cmd(ps->engine, &m);
	ps_slot_closing(ps->slot);
	ps->kind = PS_FRESH;
	ps->rx_cons = ps->tx_prod = 0;
	ps->shut_rd = ps->shut_wr = false;
	ps->connect_reported = false;
	ps->err_reported = false;
}

PS_EXPORT int
connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
	struct ps_sock *ps = ps_get(fd);
	int ret, tmo;

	if (ps == NULL) {
		if (addr == NULL || len < sizeof(*sin) ||
		    sin->sin_family != AF_INET || !ps_candidate(fd) ||
		    !ps_attach() || !ps_remote_ours(ntohl(sin->sin_addr.s_addr)))
			return ps_real.connect(fd, addr, len);
		ps = ps_convert(fd);
		if (ps == NULL)
			return ps_real.connect(fd, addr, len);
		ps->kind = PS_FRESH;
	}
	pthread_mutex_lock(&ps->mu);
	if (ps->kind == PS_LISTEN) {
		ret = -EISCONN;
	} else if (ps->kind == PS_CONN) {
		ret = ps_connect_result(ps);
		if (ret == -EINPROGRESS) {
			ret = -EALREADY;
		} else if (ret < 0 && !ps->connect_reported) {
			/* The error once (unless SO_ERROR or a read took it),
			 * then ECONNABORTED; either way unconnected now. */
			if (ps->err_reported)
				ret = -ECONNABORTED;
			ps_unconnect(ps);
		} else if (ret == 0 || ps->connect_reported)
			ret = ret == 0 && !ps->connect_reported ? 0 : -EISCONN;
		if (ret == 0 || ret == -EISCONN)
			ps->connect_reported = true;
	} else if (addr == NULL || len < sizeof(*sin)) {
		ret = -EINVAL;
	} else if (sin->sin_family != AF_INET) {
		ret = -EAFNOSUPPORT;
	} else {
		ret = ps_connect_dptcp(ps, ntohl(sin->sin_addr.s_addr),
				       ntohs(sin->sin_port));
		if (ret == 0)
			ret = -EINPROGRESS;
	}
	pthread_mutex_unlock(&ps->mu);
	if (ret == -EINPROGRESS) {
		tmo = ps_timeout_ms(&ps->sndtimeo, atomic_load(&ps->nonblock));
		if (tmo != 0) {
			if (ps_wait(ps, POLLOUT, tmo) == -ETIMEDOUT) {
				ps_put(ps);
				return ps_set_errno(-EINPROGRESS);
			}
			pthread_mutex_lock(&ps->mu);
			ret = ps_connect_result(ps);
			ps->connect_reported = true;
			if (ret < 0)
				ps_unconnect(ps);
			pthread_mutex_unlock(&ps->mu);
		}
	}
	ps_put(ps);
	return ret < 0 ? ps_set_errno(ret) : 0;
}

PS_EXPORT int
shutdown(int fd, int how)
{
	struct ps_sock *ps = ps_get(fd);
	int ret = 0;

	if (ps == NULL)
		return ps_real.shutdown(fd, how);
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
		ret = -EINVAL;
	} else if (ps->kind == PS_LISTEN && how != SHUT_WR) {
		/* Linux stops listening (the socket stays bound and may
		 * listen again); accept() blocked in other threads returns
		 * EINVAL: wake them. */
		pthread_mutex_lock(&ps->mu);
		if (ps->kind == PS_LISTEN) {
			struct shm_slot *sl = ps_slot(ps->slot);
			uint64_t w, one = 1;

			bool held = ps_unlisten_all(ps, ps_shm.n_engines) ==
				    SHM_HELD;

			ps->kind = PS_BOUND;
			ps_port_op(ps, SHM_PORT_UNLISTEN);
			w = atomic_exchange(&sl->waiters, 0);
			if (!held)
				ps_slot_free(ps->slot);
			while (w != 0) {
				unsigned int c = (unsigned int)__builtin_ctzll(w);

				w &= w - 1;
				if (c < ps_shm.n_channels)
					(void)!ps_real.write(ps_shm.doorbell[c], &one,
							     sizeof(one));
			}
		}
		pthread_mutex_unlock(&ps->mu);
	} else if (ps->kind != PS_CONN ||
		   ps_connect_result(ps) == -EINPROGRESS) {
		ret = -ENOTCONN;
	} else {
		pthread_mutex_lock(&ps->mu);
		if (how != SHUT_WR && !ps->shut_rd) {
			/* Linux wakes a recv blocked in another thread (it
			 * returns 0): nothing in the stack changes for it, so
			 * ring the sleepers' doorbells here. */
			struct shm_slot *sl = ps_slot(ps->slot);
			uint64_t w, one = 1;

			ps->shut_rd = true;
			atomic_thread_fence(memory_order_seq_cst);
			w = atomic_exchange(&sl->waiters, 0);
			while (w != 0) {
				unsigned int c = (unsigned int)__builtin_ctzll(w);

				w &= w - 1;
				if (c < ps_shm.n_channels)
					(void)!ps_real.write(ps_shm.doorbell[c], &one,
							     sizeof(one));
			}
		}
		if (how != SHUT_RD && !ps->shut_wr) {
			struct shm_msg m = { .op = SHM_OP_SHUTDOWN,
					     .slot = ps->slot, .gen = ps->gen };

			ps->shut_wr = true;
			ps_cmd(ps->engine, &m);
		}
		pthread_mutex_unlock(&ps->mu);
	}
	ps_put(ps);
	return ret < 0 ? ps_set_errno(ret) : 0;
}

/* The last fd of ps is gone: the stack closes it (shm_proto.h). */
void
ps_sock_closed(struct ps_sock *ps)
{
	pthread_mutex_lock(&ps->mu);
	if (ps->kind == PS_LISTEN) {
		if (ps_unlisten_all(ps, ps_shm.n_engines) != SHM_HELD)
			ps_slot_free(ps->slot);
	} else if (ps->kind == PS_CONN) {
		struct shm_msg m = { .op = SHM_OP_CLOSE, .slot = ps->slot,
				     .gen = ps->gen,
				     .arg = ps->linger_on && ps->linger_s == 0 };

		ps_cmd(ps->engine, &m);
		ps_slot_closing(ps->slot);
	}
	ps_port_op(ps, SHM_PORT_RELEASE);    /* the port is free once all go */
	ps->kind = PS_FRESH;
	pthread_mutex_unlock(&ps->mu);
}

PS_EXPORT int
close(int fd)
{
	struct ps_sock *ps;

	if (ps_internal_fd(fd))
		return ps_set_errno(-EBADF);  /* the shim's own: keep it */
	ps_epoll_fd_closed(fd);
	ps = ps_fd_remove(fd);
	if (ps == NULL)
		return ps_real.close(fd);
	ps_real.close(fd);
	ps_fd_dropped(ps);
	return 0;
}

/* --- data ------------------------------------------------------------- */

static size_t
iov_total(const struct iovec *iov, int n)
{
	size_t t = 0;
	int i;

	for (i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* Copy ring bytes [from, from+len) (modulo size) into the iovec at skip. */
static void
ring_to_iov(const uint8_t *ring, uint32_t size, uint32_t from, size_t len,
	    const struct iovec *iov, int n, size_t skip)
{
	int i = 0;

	while (len > 0 && i < n) {
		size_t room, k, off1, first;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			i++;
			continue;
		}
		room = iov[i].iov_len - skip;
		k = room < len ? room : len;
		off1 = from & (size - 1);
		first = size - off1 < k ? size - off1 : k;
		memcpy((uint8_t *)iov[i].iov_base + skip, ring + off1, first);
		if (k > first)
			memcpy((uint8_t *)iov[i].iov_base + skip + first, ring,
			       k - first);
		from += (uint32_t)k;
		len -= k;
		skip += k;
	}
}

static void
iov_to_ring(uint8_t *ring, uint32_t size, uint32_t to, size_t len,
	    const struct iovec *iov, int n, size_t skip)
{
	int i = 0;

	while (len > 0 && i < n) {
		size_t room, k, off1, first;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			i++;
			continue;
		}
		room = iov[i].iov_len - skip;
		k = room < len ? room : len;
		off1 = to & (size - 1);
		first = size - off1 < k ? size - off1 : k;
		memcpy(ring + off1, (const uint8_t *)iov[i].iov_base + skip, first);
		if (k > first)
			memcpy(ring, (const uint8_t *)iov[i].iov_base + skip + first,
			       k - first);
		to += (uint32_t)k;
		len -= k;
		skip += k;
	}
}

static ssize_t
ps_epipe(int flags)
{
	if (!(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	return -EPIPE;
}

/* What a read or write returns once dptcpd has closed the slot: the bytes
 * moved so far, else the connection's error (reported once, as Linux's
 * sk_err), else the fallback: 0 (EOF) for a read, -EPIPE for a write,
 * which also raises SIGPIPE unless flags has MSG_NOSIGNAL. */
static ssize_t
ps_closed_ret(struct ps_sock *ps, struct shm_slot *sl, size_t moved,
	      ssize_t fallback, int flags)
{
	int err = atomic_load_explicit(&sl->err, memory_order_relaxed);

	if (moved > 0)
		return (ssize_t)moved;
	if (err != 0 && !ps->err_reported) {
		ps->err_reported = true;
		return -err;
	}
	return fallback == -EPIPE ? ps_epipe(flags) : fallback;
}

ssize_t
ps_recv_iov(struct ps_sock *ps, const struct iovec *iov, int n, int flags)
{
	size_t want = iov_total(iov, n), got = 0;
	bool nonblock = atomic_load(&ps->nonblock) || (flags & MSG_DONTWAIT);
	int tmo = ps_timeout_ms(&ps->rcvtimeo, nonblock);
	struct shm_slot *sl;
	ssize_t ret;

	if (ps->kind != PS_CONN)
		return -ENOTCONN;
	if (flags & MSG_OOB)
		return -EINVAL;              /* no urgent data (SO_OOBINLINE off) */
	sl = ps_slot(ps->slot);
	pthread_mutex_lock(&ps->rx_mu);
	/* Another member (a forked process) may have read since. */
	ps->rx_cons = atomic_load_explicit(&sl->rx_cons, memory_order_acquire);
	for (;;) {
		uint32_t st = atomic_load_explicit(&sl->state, memory_order_acquire);
		uint32_t fl = atomic_load_explicit(&sl->flags, memory_order_acquire);
		uint32_t prod = atomic_load_explicit(&sl->rx_prod, memory_order_acquire);
		uint32_t avail = prod - ps->rx_cons;

		if (atomic_load(&ps->dead)) {
			ret = -EBADF;
			break;
		}
		if (avail > ps_shm.rx_bytes)
			avail = 0;               /* cannot be: the stack is sane */
		if (avail > 0 && want > got) {
			size_t k = avail < want - got ? avail : want - got;

			ring_to_iov(ps_rx_ring(ps->slot), ps_shm.rx_bytes,
				    ps->rx_cons, k, iov, n, got);
			if (!(flags & MSG_PEEK)) {
				ps->rx_cons += (uint32_t)k;
				atomic_store_explicit(&sl->rx_cons, ps->rx_cons,
						      memory_order_release);
				shm_kick_if_idle_rx(ps_shm.base, &ps_shm.lay,
						    ps->engine, sl, ps->slot);
			}
			got += k;
			if (got == want || !(flags & MSG_WAITALL) ||
			    (flags & MSG_PEEK)) {
				ret = (ssize_t)got;
				break;
			}
			continue;
		}
		if (want == 0) {
			ret = 0;
			break;
		}
		if (ps->shut_rd || (fl & SHM_SF_RX_FIN)) {
			ret = (ssize_t)got;      /* end of stream */
			break;
		}
		if (st == SHM_ST_CLOSED) {
			ret = ps_closed_ret(ps, sl, got, 0, 0);
			break;
		}
		if (nonblock) {
			ret = got > 0 ? (ssize_t)got : -EAGAIN;
			break;
		}
		if (ps_wait(ps, POLLIN, tmo) == -ETIMEDOUT) {
			ret = got > 0 ? (ssize_t)got : -EAGAIN;
			break;
		}
	}
	pthread_mutex_unlock(&ps->rx_mu);
	return ret;
}

/* k more bytes are in the TX ring: publish them to the engine. Every
 * writer (send family, sendfile) goes through here, so whatever the
 * engine needs to notice new TX data is done in one place. */
static void
ps_tx_advance(struct ps_sock *ps, struct shm_slot *sl, uint32_t k)
{
	ps->tx_prod += k;
	atomic_store_explicit(&sl->tx_prod, ps->tx_prod, memory_order_release);
	shm_kick_if_idle(ps_shm.base, &ps_shm.lay, ps->engine, sl, ps->slot);
}

ssize_t
ps_send_iov(struct ps_sock *ps, const struct iovec *iov, int n, int flags)
{
	size_t want = iov_total(iov, n), put = 0;
	bool nonblock = atomic_load(&ps->nonblock) || (flags & MSG_DONTWAIT);
	int tmo = ps_timeout_ms(&ps->sndtimeo, nonblock);
	uint32_t size = ps_shm.tx_bytes;
	struct shm_slot *sl;
	ssize_t ret;

	if (ps->kind != PS_CONN)
		return ps_epipe(flags);   /* Linux: EPIPE (+SIGPIPE) unless connected */
	sl = ps_slot(ps->slot);
	pthread_mutex_lock(&ps->tx_mu);
	/* Another member (a forked process) may have written since. */
	ps->tx_prod = atomic_load_explicit(&sl->tx_prod, memory_order_acquire);
	for (;;) {
		uint32_t st = atomic_load_explicit(&sl->state, memory_order_acquire);
		uint32_t used = ps->tx_prod -
			atomic_load_explicit(&sl->tx_cons, memory_order_acquire);

		if (atomic_load(&ps->dead)) {
			ret = -EBADF;
			break;
		}
		if (ps->shut_wr) {
			ret = put > 0 ? (ssize_t)put : ps_epipe(flags);
			break;
		}
		if (st == SHM_ST_CLOSED) {
			ret = ps_closed_ret(ps, sl, put, -EPIPE, flags);
			break;
		}
		if (st != SHM_ST_CONNECTING && used < size && want > put) {
			size_t k = size - used < want - put ? size - used :
				   want - put;

			iov_to_ring(ps_tx_ring(ps->slot), size, ps->tx_prod, k,
				    iov, n, put);
			ps_tx_advance(ps, sl, (uint32_t)k);
			put += k;
		}
		if (put == want) {
			ret = (ssize_t)put;
			break;
		}
		if (nonblock) {
			ret = put > 0 ? (ssize_t)put : -EAGAIN;
			break;
		}
		if (ps_wait(ps, POLLOUT, tmo) == -ETIMEDOUT) {
			ret = put > 0 ? (ssize_t)put : -EAGAIN;
			break;
		}
	}
	pthread_mutex_unlock(&ps->tx_mu);
	return ret;
}

static ssize_t
ps_io_ret(ssize_t r)
{
	return r < 0 ? ps_set_errno((int)r) : r;
}

PS_EXPORT ssize_t
read(int fd, void *buf, size_t len)
{
	struct iovec iov = { buf, len };
	struct ps_sock *ps = ps_get(fd);
	ssize_t r;

	if (ps == NULL)
		return ps_real.read(fd, buf, len);
	r = ps_recv_iov(ps, &iov, 1, 0);
	ps_put(ps);
	return ps_io_ret(r);
}

PS_EXPORT ssize_t
__read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return read(fd, buf, len);
}

PS_EXPORT ssize_t
write(int fd, const void *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };
	struct ps_sock *ps = ps_get(fd);
	ssize_t r;

	if (ps == NULL)
		return ps_real.write(fd, buf, len);
	r = ps_send_iov(ps, &iov, 1, 0);
	ps_put(ps);
	return ps_io_ret(r);
}

PS_EXPORT ssize_t
readv(int fd, const struct iovec *iov, int n)
{
	struct ps_sock *ps = ps_get(fd);
	ssize_t r;

	if (ps == NULL)
		return ps_real.readv(fd, iov, n);
	r = n < 0 || n > IOV_MAX ? -EINVAL : ps_recv_iov(ps, iov, n, 0);
	ps_put(ps);
	return ps_io_ret(r);
}

PS_EXPORT ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	struct ps_sock *ps = ps_get(fd);
	ssize_t r;

	if (ps == NULL)
		return ps_real.writev(fd, iov, n);
	r = n < 0 || n > IOV_MAX ? -EINVAL : ps_send_iov(ps, iov, n, 0);
	ps_put(ps);
	return ps_io_ret(r);
}

PS_EXPORT ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	struct iovec iov = { buf, len };
	struct ps_sock *ps = ps_get(fd);
	ssize_t r;

	if (ps == NULL)
		return ps_real.recv(fd, buf, len, flags);
	r = ps_recv_iov(ps, &iov, 1, flags);
	ps_put(ps);
	return ps_io_ret(r);
}

PS_EXPORT ssize_t
__recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

PS_EXPORT ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = { (void *)buf, len };
	struct ps_sock *ps = ps_get(fd);
	ssize_t r;

	if (ps == NULL)
		return ps_real.send(fd, buf, len, flags);
	r = ps_send_iov(ps, &iov, 1, flags);
	ps_put(ps);
	return ps_io_ret(r);
}

PS_EXPORT ssize_t
recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
	 socklen_t *alen)
{
	struct iovec iov = { buf, len };
	struct ps_sock *ps = ps_get(fd);
	ssize_t r;

	if (ps == NULL)
		return ps_real.recvfrom(fd, buf, len, flags, addr, alen);
	r = ps_recv_iov(ps, &iov, 1, flags);
	/* Linux leaves the address alone for a connected TCP socket. */
	if (r >= 0 && alen != NULL)
		*alen = 0;
	ps_put(ps);
	return ps_io_ret(r);
}

PS_EXPORT ssize_t
__recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
	       struct sockaddr *addr, socklen_t *alen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, addr, alen);
}

PS_EXPORT ssize_t
sendto(int fd, const void *buf, size_t len, int flags,
       const struct sockaddr *addr, socklen_t alen)
{
	struct iovec iov = { (void *)buf, len };
	struct ps_sock *ps = ps_get(fd);
	ssize_t r;

	if (ps == NULL)
		return ps_real.sendto(fd, buf, len, flags, addr, alen);
	/* TCP ignores the address of a connected socket (as Linux). */
	r = ps_send_iov(ps, &iov, 1, flags);
	ps_put(ps);
	return ps_io_ret(r);
}

PS_EXPORT ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct ps_sock *ps = ps_get(fd);
	ssize_t r;

	if (ps == NULL)
		return ps_real.recvmsg(fd, msg, flags);
	if (msg == NULL || msg->msg_iovlen > IOV_MAX) {
		r = -EINVAL;
	} else {
		r = ps_recv_iov(ps, msg->msg_iov, (int)msg->msg_iovlen, flags);
		if (r >= 0) {
			msg->msg_namelen = 0;
			msg->msg_controllen = 0;
			msg->msg_flags = 0;
		}
	}
	ps_put(ps);
	return ps_io_ret(r);
}

PS_EXPORT ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct ps_sock *ps = ps_get(fd);
	ssize_t r;

	if (ps == NULL)
		return ps_real.sendmsg(fd, msg, flags);
	if (msg == NULL || msg->msg_iovlen > IOV_MAX)
		r = -EINVAL;
	else
		r = ps_send_iov(ps, msg->msg_iov, (int)msg->msg_iovlen, flags);
	ps_put(ps);
	return ps_io_ret(r);
}

/* sendfile(2) from a file to a dptcp socket. The file's bytes are read
 * straight into the TX ring's free space (pread at *off, or read at the
 * file position), so nothing is taken from the file that the socket could
 * not accept: after a partial send on a non-blocking socket the offset or
 * file position is exactly past what was sent, as on Linux. A blocking
 * socket waits for room until count bytes or the end of the file. */
static ssize_t
ps_sendfile(struct ps_sock *ps, int in, off_t *off, size_t count)
{
	bool nonblock = atomic_load(&ps->nonblock);
	int tmo = ps_timeout_ms(&ps->sndtimeo, nonblock);
	uint32_t size = ps_shm.tx_bytes;
	off_t pos = off != NULL ? *off : 0;
	struct shm_slot *sl;
	size_t put = 0;
	ssize_t ret;

	int fl = ps_real.fcntl(in, F_GETFL);

	if (fl < 0 || (fl & O_ACCMODE) == O_WRONLY)
		return -EBADF;           /* Linux checks in's mode first */
	if (off != NULL && pos < 0)
		return -EINVAL;
	if (count > 0x7ffff000)
		count = 0x7ffff000;      /* MAX_RW_COUNT, as Linux clamps */
	if (ps->kind != PS_CONN)
		return ps_epipe(0);
	sl = ps_slot(ps->slot);
	pthread_mutex_lock(&ps->tx_mu);
	for (;;) {
		uint32_t st = atomic_load_explicit(&sl->state, memory_order_acquire);
		uint32_t used = ps->tx_prod -
			atomic_load_explicit(&sl->tx_cons, memory_order_acquire);

		if (put == count) {
			ret = (ssize_t)put;
			break;
		}
		if (atomic_load(&ps->dead)) {
			ret = -EBADF;
			break;
		}
		if (ps->shut_wr) {
			ret = put > 0 ? (ssize_t)put : ps_epipe(0);
			break;
		}
		if (st == SHM_ST_CLOSED) {
			ret = ps_closed_ret(ps, sl, put, -EPIPE, 0);
			break;
		}
		if (st != SHM_ST_CONNECTING && used < size) {
			uint32_t at = ps->tx_prod & (size - 1);
			size_t k = size - used;
			ssize_t r;

			if (k > size - at)
				k = size - at;   /* up to the ring's end */
			if (k > count - put)
				k = count - put;
			r = off != NULL ?
			    pread(in, ps_tx_ring(ps->slot) + at, k,
				  pos + (off_t)put) :
			    ps_real.read(in, ps_tx_ring(ps->slot) + at, k);
			if (r < 0 && errno == EINTR && put == 0)
				continue;
			if (r <= 0) {
				/* the end of the file, or its error (EBADF,
				 * ESPIPE, EINVAL...) when nothing was sent */
				ret = put > 0 || r == 0 ? (ssize_t)put : -errno;
				break;
			}
			ps_tx_advance(ps, sl, (uint32_t)r);
			put += (size_t)r;
			continue;
		}
		if (nonblock) {
			ret = put > 0 ? (ssize_t)put : -EAGAIN;
			break;
		}
		if (ps_wait(ps, POLLOUT, tmo) == -ETIMEDOUT) {
			ret = put > 0 ? (ssize_t)put : -EAGAIN;
			break;
		}
	}
	pthread_mutex_unlock(&ps->tx_mu);
	if (off != NULL)
		*off = pos + (off_t)put;
	return ret;
}

PS_EXPORT ssize_t
sendfile(int out, int in, off_t *off, size_t count)
{
	struct ps_sock *ps = ps_get(out);
	ssize_t r;

	if (ps == NULL)
		return ps_real.sendfile(out, in, off, count);
	r = ps_sendfile(ps, in, off, count);
	ps_put(ps);
	return ps_io_ret(r);
}

/* glibc exports both; x86_64's off_t is already 64-bit. */
PS_EXPORT ssize_t
sendfile64(int out, int in, off64_t *off, size_t count)
{
	return sendfile(out, in, (off_t *)off, count);
}

/* --- options and names ------------------------------------------------- */

static int
opt_int(const void *v, socklen_t len, int *out)
{
	if (v == NULL)
		return -EFAULT;
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(out, v, sizeof(int));
	return 0;
}

PS_EXPORT int
setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct ps_sock *ps = ps_get(fd);
	int v = 0, ret = 0;

	if (ps == NULL)
		return ps_real.setsockopt(fd, level, name, val, len);
	pthread_mutex_lock(&ps->mu);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_LINGER: {
			struct linger lg;

			if (val == NULL) {
				ret = -EFAULT;
			} else if (len < sizeof(lg)) {
				ret = -EINVAL;
			} else {
				memcpy(&lg, val, sizeof(lg));
				ps->linger_on = lg.l_onoff != 0;
				ps->linger_s = lg.l_linger;
			}
			break;
		}
		case SO_RCVTIMEO:
		case SO_SNDTIMEO: {
			struct timeval tv;

			if (val == NULL) {
				ret = -EFAULT;
			} else if (len < sizeof(tv)) {
				ret = -EINVAL;
			} else {
				memcpy(&tv, val, sizeof(tv));
				if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
					ret = -EDOM;
				else if (tv.tv_sec < 0)
					memset(&tv, 0, sizeof(tv));
				if (ret == 0)
					*(name == SO_RCVTIMEO ? &ps->rcvtimeo :
					  &ps->sndtimeo) = tv;
			}
			break;
		}
		default:
			ret = opt_int(val, len, &v);
			if (ret < 0)
				break;
			switch (name) {
			case SO_REUSEADDR: ps->reuseaddr = v != 0; break;
			case SO_REUSEPORT: ps->reuseport = v != 0; break;
			case SO_KEEPALIVE:
				ps->keepalive = v != 0;
				ret = ps_setopt_cmd(ps, OPT_KEEPALIVE, v != 0);
				break;
			case SO_RCVBUF:   /* Linux doubles it; the ring is what we have */
				ps->rcvbuf = v < 1152 ? 2304 : (v > INT_MAX / 2 ? INT_MAX : 2 * v);
				break;
			case SO_SNDBUF:
				ps->sndbuf = v < 2304 ? 4608 : (v > INT_MAX / 2 ? INT_MAX : 2 * v);
				break;
			case SO_RCVLOWAT: ps->rcvlowat = v < 1 ? 1 : v; break;
			case SO_OOBINLINE: ps->oobinline = v != 0; break;
			case SO_BROADCAST: case SO_DONTROUTE: case SO_PRIORITY:
			case SO_BINDTODEVICE: case SO_MARK: case SO_BUSY_POLL:
			case SO_ZEROCOPY: case SO_TIMESTAMP:
				break;   /* accepted, no effect on dptcp */
			default: ret = -ENOPROTOOPT; break;
			}
		}
	} else if (level == IPPROTO_TCP) {
		ret = opt_int(val, len, &v);
		if (ret == 0) {
			switch (name) {
			case TCP_NODELAY:
				ps->nodelay = v != 0;
				ret = ps_setopt_cmd(ps, OPT_NODELAY, v != 0);
				break;
			case TCP_KEEPIDLE:
			case TCP_KEEPINTVL:
				if (v < 1 || v > 32767) {
					ret = -EINVAL;
					break;
				}
				*(name == TCP_KEEPIDLE ? &ps->keepidle :
				  &ps->keepintvl) = v;
				ret = ps_setopt_cmd(ps, name == TCP_KEEPIDLE ?
						    OPT_KEEPIDLE : OPT_KEEPINTVL, v);
				break;
			case TCP_KEEPCNT:
				if (v < 1 || v > 127) {
					ret = -EINVAL;
					break;
				}
				ps->keepcnt = v;
				ret = ps_setopt_cmd(ps, OPT_KEEPCNT, v);
				break;
			case TCP_QUICKACK: ps->quickack = v != 0; break;
			case TCP_CORK: ps->cork = v != 0; break;
			case TCP_DEFER_ACCEPT: case TCP_FASTOPEN:
			case TCP_USER_TIMEOUT: case TCP_MAXSEG:
			case TCP_NOTSENT_LOWAT:
				break;   /* accepted, no effect on dptcp yet */
			default: ret = -ENOPROTOOPT; break;
			}
		}
	} else if (level == IPPROTO_IP) {
		ret = opt_int(val, len, &v);
		if (ret == 0) {
			if (name == IP_TOS)
				ps->tos = v & 0xfc;
			else if (name == IP_TTL)
				ps->ttl = v == -1 ? 64 : v;
			else if (name != IP_RECVERR && name != IP_BIND_ADDRESS_NO_PORT)
				ret = -ENOPROTOOPT;
		}
	} else {
		ret = -ENOPROTOOPT;
	}
	pthread_mutex_unlock(&ps->mu);
	ps_put(ps);
	return ret < 0 ? ps_set_errno(ret) : 0;
}

static int
opt_put(void *val, socklen_t *len, const void *v, socklen_t vlen)
{
	if (val == NULL || len == NULL)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	if (*len < vlen)
		vlen = *len;
	memcpy(val, v, vlen);
	*len = vlen;
	return 0;
}

PS_EXPORT int
getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct ps_sock *ps = ps_get(fd);
	int v = 0, ret = -ENOPROTOOPT;

	if (ps == NULL)
		return ps_real.getsockopt(fd, level, name, val, len);
	pthread_mutex_lock(&ps->mu);
	if (level == SOL_SOCKET) {
		ret = 0;
		switch (name) {
		case SO_TYPE: v = SOCK_STREAM; break;
		case SO_DOMAIN: v = AF_INET; break;
		case SO_PROTOCOL: v = IPPROTO_TCP; break;
		case SO_ACCEPTCONN: v = ps->kind == PS_LISTEN; break;
		case SO_ERROR:
			if (ps->kind == PS_CONN && !ps->err_reported) {
				int e = ps_connect_result(ps);

				if (e < 0 && e != -EINPROGRESS) {
					uint32_t fl = atomic_load(&ps_slot(ps->slot)->flags);

					v = -e;
					/* Linux's tcp_reset: a reset in CLOSE_WAIT
					 * (the peer's FIN seen, ours not sent) is
					 * EPIPE. */
					if (v == ECONNRESET && (fl & SHM_SF_RX_FIN) &&
					    !(fl & SHM_SF_TX_SHUT) && !ps->shut_wr)
						v = EPIPE;
					ps->err_reported = true;
				}
			}
			break;
		case SO_REUSEADDR: v = ps->reuseaddr; break;
		case SO_REUSEPORT: v = ps->reuseport; break;
		case SO_KEEPALIVE: v = ps->keepalive; break;
		case SO_RCVBUF: v = ps->rcvbuf; break;
		case SO_SNDBUF: v = ps->sndbuf; break;
		case SO_RCVLOWAT: v = ps->rcvlowat; break;
		case SO_SNDLOWAT: v = 1; break;
		case SO_OOBINLINE: v = ps->oobinline; break;
		case SO_LINGER: {
			struct linger lg = { ps->linger_on, ps->linger_s };

			ret = opt_put(val, len, &lg, sizeof(lg));
			goto out;
		}
		case SO_RCVTIMEO:
			ret = opt_put(val, len, &ps->rcvtimeo, sizeof(ps->rcvtimeo));
			goto out;
		case SO_SNDTIMEO:
			ret = opt_put(val, len, &ps->sndtimeo, sizeof(ps->sndtimeo));
			goto out;
		case SO_BROADCAST: case SO_DONTROUTE: case SO_PRIORITY:
		case SO_MARK: case SO_BUSY_POLL:
			v = 0;
			break;
		default: ret = -ENOPROTOOPT; break;
		}
	} else if (level == IPPROTO_TCP) {
		ret = 0;
		switch (name) {
		case TCP_NODELAY: v = ps->nodelay; break;
		case TCP_KEEPIDLE: v = ps->keepidle; break;
		case TCP_KEEPINTVL: v = ps->keepintvl; break;
		case TCP_KEEPCNT: v = ps->keepcnt; break;
		case TCP_QUICKACK: v = ps->quickack; break;
		case TCP_CORK: v = ps->cork; break;
		case TCP_MAXSEG: v = 1460; break;
		default: ret = -ENOPROTOOPT; break;
		}
	} else if (level == IPPROTO_IP) {
		ret = 0;
		if (name == IP_TOS)
			v = ps->tos;
		else if (name == IP_TTL)
			v = ps->ttl;
		else
			ret = -ENOPROTOOPT;
	}
	if (ret == 0)
		ret = opt_put(val, len, &v, sizeof(v));
out:
	pthread_mutex_unlock(&ps->mu);
	ps_put(ps);
	return ret < 0 ? ps_set_errno(ret) : 0;
}

PS_EXPORT int
getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct ps_sock *ps = ps_get(fd);
	uint32_t ip;

	if (ps == NULL)
		return ps_real.getsockname(fd, addr, len);
	if (addr == NULL || len == NULL) {
		ps_put(ps);
		return ps_set_errno(-EFAULT);
	}
	ip = ps->lip;
	if (ps->kind == PS_CONN && ip == 0)
		ip = ps_shm.local_ip;
	ps_fill_addr(addr, len, ip, ps->lport);
	ps_put(ps);
	return 0;
}

PS_EXPORT int
getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct ps_sock *ps = ps_get(fd);
	int ret = 0;

	if (ps == NULL)
		return ps_real.getpeername(fd, addr, len);
	if (ps->kind != PS_CONN || ps_connect_result(ps) < 0)
		ret = -ENOTCONN;         /* connecting, refused or reset */
	else if (addr == NULL || len == NULL)
		ret = -EFAULT;
	else
		ps_fill_addr(addr, len, ps->rip, ps->rport);
	ps_put(ps);
	return ret < 0 ? ps_set_errno(ret) : 0;
}

/* --- fcntl, ioctl, dup --------------------------------------------------- */

static int
ps_dup_into(struct ps_sock *ps, int newfd)
{
	if (newfd < 0)
		return -1;
	if (newfd >= PS_FD_MAX) {
		ps_real.close(newfd);
		errno = EMFILE;
		return -1;
	}
	ps_fd_install(newfd, ps);
	return newfd;
}

static int
ps_fcntl(int fd, int cmd, long arg, bool is64)
{
	struct ps_sock *ps = ps_get(fd);
	int ret;

	if (ps == NULL)
		return is64 ? ps_real.fcntl64(fd, cmd, arg) :
			      ps_real.fcntl(fd, cmd, arg);
	switch (cmd) {
	case F_GETFL:
		ret = O_RDWR | (atomic_load(&ps->nonblock) ? O_NONBLOCK : 0);
		break;
	case F_SETFL:
		atomic_store(&ps->nonblock, (arg & O_NONBLOCK) != 0);
		ret = 0;
		break;
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		ret = ps_dup_into(ps, ps_real.fcntl(fd, cmd, arg));
		break;
	default:                     /* F_GETFD/F_SETFD: the kernel's fd flags */
		ret = ps_real.fcntl(fd, cmd, arg);
		break;
	}
	ps_put(ps);
	return ret;
}

PS_EXPORT int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return ps_fcntl(fd, cmd, arg, false);
}

PS_EXPORT int
fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return ps_fcntl(fd, cmd, arg, true);
}

PS_EXPORT int
ioctl(int fd, unsigned long req, ...)
{
	struct ps_sock *ps;
	va_list ap;
	void *arg;
	int ret = 0;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	ps = ps_get(fd);
	if (ps == NULL)
		return ps_real.ioctl(fd, req, arg);
	switch (req) {
	case FIOCLEX:               /* the fd's flag: the kernel's (exec) */
	case FIONCLEX:
		ps_put(ps);
		return ps_real.ioctl(fd, req, arg);
	case FIONBIO:
		if (arg == NULL)
			ret = -EFAULT;
		else
			atomic_store(&ps->nonblock, *(int *)arg != 0);
		break;
	case FIONREAD:              /* == SIOCINQ */
	case SIOCOUTQ:
		if (arg == NULL) {
			ret = -EFAULT;
		} else if (ps->kind == PS_LISTEN) {
			ret = -EINVAL;
		} else if (ps->kind != PS_CONN) {
			*(int *)arg = 0;
		} else if (req == FIONREAD) {
			*(int *)arg = (int)(atomic_load_explicit(
				&ps_slot(ps->slot)->rx_prod,
				memory_order_acquire) - ps->rx_cons);
		} else {
			*(int *)arg = (int)(ps->tx_prod - atomic_load_explicit(
				&ps_slot(ps->slot)->tx_cons,
				memory_order_acquire));
		}
		break;
	default:
		ret = -ENOTTY;
		break;
	}
	ps_put(ps);
	return ret < 0 ? ps_set_errno(ret) : 0;
}

PS_EXPORT int
dup(int fd)
{
	struct ps_sock *ps = ps_get(fd);
	int ret;

	if (ps == NULL)
		return ps_real.dup(fd);
	ret = ps_dup_into(ps, ps_real.dup(fd));
	ps_put(ps);
	return ret;
}

PS_EXPORT int
dup3(int fd, int newfd, int flags)
{
	struct ps_sock *ps = ps_get(fd), *old;
	int ret;

	if (ps_internal_fd(newfd)) {
		if (ps != NULL)
			ps_put(ps);
		return ps_set_errno(-EBADF);
	}
	if (ps == NULL) {
		ret = ps_real.dup3(fd, newfd, flags);
		if (ret >= 0 && (old = ps_fd_remove(newfd)) != NULL)
			ps_fd_dropped(old);  /* a dptcp fd was replaced */
		if (ret >= 0)
			ps_epoll_fd_closed(newfd);
		return ret;
	}
	ret = ps_real.dup3(fd, newfd, flags);
	if (ret >= 0)
		ret = ps_dup_into(ps, ret);
	ps_put(ps);
	return ret;
}

PS_EXPORT int
dup2(int fd, int newfd)
{
	if (fd == newfd) {
		if (ps_maybe(fd))
			return fd;
		return ps_real.dup2(fd, newfd);
	}
	if (!ps_maybe(fd) && !ps_maybe(newfd) && !ps_internal_fd(newfd))
		return ps_real.dup2(fd, newfd);
	return dup3(fd, newfd, 0);
}
