/* sc_epoll.c — epoll in every mode: level- and edge-triggered (one event
 * per edge), EPOLLONESHOT and its re-arm, EPOLLRDHUP and the implicit
 * ERR/HUP, EPOLLEXCLUSIVE and a shared epoll fd with several threads on
 * one listener, kernel fds and sockets in one set (epoll_pwait,
 * epoll_pwait2, nesting), and a registration that outlives close(). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "conform.h"

/* data.u64 of every registration: an index in here, so events are named
 * (and sorted by name: the order within one epoll_wait is not promised). */
enum tag { T_SOCK, T_SOCK2, T_LISTENER, T_PIPE, T_EVENTFD, T_EPFD, T_STOP };
static const char *const tag_name[] = {
	"sock", "sock2", "listener", "pipe", "eventfd", "epfd", "stop",
};

enum wait_call { W_WAIT, W_PWAIT, W_PWAIT2 };

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "N [tag:EVENTS, ...]" for one wait call. */
static void
say_wait(struct conform *cf, int ep, int timeout, enum wait_call how,
	 int maxev, const char *what)
{
	static const char *const call[] = { "epoll_wait", "epoll_pwait",
					    "epoll_pwait2" };
	struct epoll_event ev[8];
	struct timespec ts = { 0, 0 };
	char items[8][64], list[520];
	const char *sorted[8], *r;
	sigset_t mask;
	int n, i;
	size_t len = 0;

	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	do {
		switch (how) {
		case W_PWAIT:
			n = epoll_pwait(ep, ev, maxev, timeout, &mask);
			break;
		case W_PWAIT2:
			n = epoll_pwait2(ep, ev, maxev, timeout < 0 ? NULL : &ts,
					 &mask);
			break;
		default:
			n = epoll_wait(ep, ev, maxev, timeout);
			break;
		}
	} while (n < 0 && errno == EINTR);
	r = res(n);
	list[0] = '\0';
	for (i = 0; i < n; i++) {
		uint64_t t = ev[i].data.u64;

		snprintf(items[i], sizeof(items[i]), "%s:%s",
			 t <= T_STOP ? tag_name[t] : "?", epoll_ev(ev[i].events));
		sorted[i] = items[i];
	}
	if (n > 0)
		qsort(sorted, (size_t)n, sizeof(sorted[0]), cmp_str);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					i ? " " : "", sorted[i]);
	say(cf, "%s(%d)%s%s -> %s [%s]", call[how], timeout, what[0] ? " " : "",
	    what, r, list);
}

#define WAIT(ep, timeout, what) say_wait(cf, ep, timeout, W_WAIT, 8, what)

static void
say_ctl(struct conform *cf, int ep, int op, int fd, uint32_t events,
	enum tag tag, const char *what)
{
	static const char *const ops[] = { "?", "ADD", "DEL", "MOD" };
	struct epoll_event ev = { .events = events, .data.u64 = tag };
	const char *r = res(epoll_ctl(ep, op, fd, &ev));

	if (op == EPOLL_CTL_DEL)
		say(cf, "epoll_ctl(DEL, %s) -> %s", what, r);
	else
		say(cf, "epoll_ctl(%s, %s, %s) -> %s", ops[op], what,
		    epoll_ev(events), r);
}

static int
epfd_or_die(struct conform *cf)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		die(cf, "epoll_create1: %s", err_name(errno));
	return ep;
}

/* Server side of the usual opening: a listener, the client's connect. */
static int
s_accept_client(struct conform *cf, int *listener)
{
	*listener = tcp_listen_on(cf, cf->server, 0, 0);
	sync_point(cf, "listening");
	return accept_or_die(cf, *listener);
}

static int
c_connect_server(struct conform *cf)
{
	sync_point(cf, "listening");
	return tcp_connect_to(cf, cf->server, 0);
}

static void
c_send_at(struct conform *cf, int fd, const char *label, const char *s)
{
	sync_point(cf, label);
	write_full(fd, s, strlen(s));
}

static void
say_read(struct conform *cf, int fd, size_t n)
{
	char buf[256];
	const char *r = res(read(fd, buf, n));

	say(cf, "read(%zu) -> %s", n, r);
}

/* ---- epoll_level ----------------------------------------------------- */

void
s_epoll_level(struct conform *cf)
{
	struct epoll_event ev[2];
	int ep, l, a, file, z;
	const char *r;

	ep = epoll_create1(EPOLL_CLOEXEC);
	say(cf, "epoll_create1(EPOLL_CLOEXEC) -> %s, F_GETFD %s", resfd(ep),
	    fd_s(fcntl(ep, F_GETFD)));
	z = epoll_create(0);
	say(cf, "epoll_create(0) -> %s", resfd(z));
	z = epoll_create(1);
	say(cf, "epoll_create(1) -> %s", resfd(z));
	close(z);

	l = tcp_listen_on(cf, cf->server, 0, 0);
	say_ctl(cf, ep, EPOLL_CTL_ADD, l, EPOLLIN, T_LISTENER, "listener");
	WAIT(ep, 0, "");
	sync_point(cf, "listening");
	WAIT(ep, -1, "after a connect");
	a = accept_or_die(cf, l);
	WAIT(ep, 0, "after accept");

	say_ctl(cf, ep, EPOLL_CTL_ADD, a, EPOLLIN, T_SOCK, "sock");
	WAIT(ep, 0, "");
	sync_point(cf, "send10");
	WAIT(ep, -1, "10 bytes arrive");
	WAIT(ep, 0, "still readable");
	say_read(cf, a, 4);
	WAIT(ep, 0, "6 bytes left");
	say_read(cf, a, 6);
	WAIT(ep, 0, "all read");
	say_ctl(cf, ep, EPOLL_CTL_MOD, a, EPOLLIN | EPOLLOUT, T_SOCK, "sock");
	WAIT(ep, 0, "");
	WAIT(ep, 0, "");
	say_ctl(cf, ep, EPOLL_CTL_DEL, a, 0, T_SOCK, "sock");
	WAIT(ep, 0, "");

	say(cf, "-- errors");
	say_ctl(cf, ep, EPOLL_CTL_DEL, a, 0, T_SOCK, "sock, not registered");
	say_ctl(cf, ep, EPOLL_CTL_MOD, a, EPOLLIN, T_SOCK, "sock, not registered");
	say_ctl(cf, ep, EPOLL_CTL_ADD, a, EPOLLIN, T_SOCK, "sock");
	say_ctl(cf, ep, EPOLL_CTL_ADD, a, EPOLLIN, T_SOCK, "sock, again");
	say_ctl(cf, ep, EPOLL_CTL_ADD, ep, EPOLLIN, T_EPFD, "the epoll fd itself");
	file = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	say_ctl(cf, ep, EPOLL_CTL_ADD, file, EPOLLIN, T_PIPE, "a regular file");
	close(file);
	say_ctl(cf, ep, EPOLL_CTL_ADD, file, EPOLLIN, T_PIPE, "a closed fd");
	r = res(epoll_ctl(a, EPOLL_CTL_ADD, l, &(struct epoll_event){ .events = EPOLLIN }));
	say(cf, "epoll_ctl on a socket instead of an epoll fd -> %s", r);
	r = res(epoll_ctl(ep, 99, a, &(struct epoll_event){ .events = EPOLLIN }));
	say(cf, "epoll_ctl(op 99) -> %s", r);
	r = res(epoll_wait(ep, ev, 0, 0));
	say(cf, "epoll_wait(maxevents 0) -> %s", r);
	r = res(epoll_wait(a, ev, 2, 0));
	say(cf, "epoll_wait on a socket -> %s", r);
	sync_point(cf, "done");
	close(ep);
	close(a);
	close(l);
}

void
c_epoll_level(struct conform *cf)
{
	int fd = c_connect_server(cf);

	c_send_at(cf, fd, "send10", "0123456789");
	sync_point(cf, "done");
	close(fd);
}

/* ---- epoll_edge ------------------------------------------------------ */

#define ET_MORE 3

void
s_epoll_edge(struct conform *cf)
{
	uint32_t et = EPOLLIN | EPOLLOUT | EPOLLET;
	int ep, l, a, got = 0, waits_empty = 0, waits_other = 0;
	const char *r;

	a = s_accept_client(cf, &l);
	ep = epfd_or_die(cf);
	say_ctl(cf, ep, EPOLL_CTL_ADD, a, et, T_SOCK, "sock");
	WAIT(ep, 0, "already writable");
	WAIT(ep, 0, "no new edge");
	sync_point(cf, "send1");
	WAIT(ep, -1, "10 bytes arrive");
	WAIT(ep, 0, "no new edge");
	say_read(cf, a, 4);
	WAIT(ep, 0, "a partial read is no edge");
	sync_point(cf, "send2");
	WAIT(ep, -1, "10 more bytes arrive");
	set_nonblock(a, true);
	say_read(cf, a, 64);
	say_read(cf, a, 64);
	WAIT(ep, 0, "drained");
	say_ctl(cf, ep, EPOLL_CTL_MOD, a, et, T_SOCK, "sock");
	WAIT(ep, 0, "after MOD");
	WAIT(ep, 0, "");
	close(ep);

	say(cf, "-- an edge-triggered listener");
	set_nonblock(l, true);
	ep = epfd_or_die(cf);
	say_ctl(cf, ep, EPOLL_CTL_ADD, l, EPOLLIN | EPOLLET, T_LISTENER, "listener");
	WAIT(ep, 0, "");
	sync_point(cf, "connect1");
	WAIT(ep, -1, "a connect");
	r = resfd(accept(l, NULL, NULL));
	say(cf, "accept -> %s", r);
	r = resfd(accept(l, NULL, NULL));
	say(cf, "accept -> %s", r);
	WAIT(ep, 0, "drained");
	sync_point(cf, "connect_more");
	/* How the connections group into edges is timing: count only. */
	while (got < ET_MORE) {
		struct epoll_event ev[4];
		int n = epoll_wait(ep, ev, 4, -1), fd;

		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1 || ev[0].data.u64 != T_LISTENER) {
			n == 0 ? waits_empty++ : waits_other++;
			continue;
		}
		while ((fd = accept(l, NULL, NULL)) >= 0) {
			got++;
			close(fd);
		}
		if (errno != EAGAIN)
			die(cf, "accept: %s", err_name(errno));
	}
	say(cf, "%d more connections accepted by waiting and draining to "
	    "EAGAIN; empty waits %d, other events %d", got, waits_empty,
	    waits_other);
	sync_point(cf, "done");
	close(ep);
	close(a);
	close(l);
}

void
c_epoll_edge(struct conform *cf)
{
	int fd = c_connect_server(cf), more[ET_MORE], one, i;

	c_send_at(cf, fd, "send1", "0123456789");
	c_send_at(cf, fd, "send2", "abcdefghij");
	sync_point(cf, "connect1");
	one = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "connect_more");
	for (i = 0; i < ET_MORE; i++)
		more[i] = tcp_connect_to(cf, cf->server, 0);
	say(cf, "connected 1, then %d more", ET_MORE);
	sync_point(cf, "done");
	for (i = 0; i < ET_MORE; i++)
		close(more[i]);
	close(one);
	close(fd);
}

/* ---- epoll_oneshot --------------------------------------------------- */

void
s_epoll_oneshot(struct conform *cf)
{
	uint32_t os = EPOLLIN | EPOLLONESHOT;
	int ep, l, a;

	a = s_accept_client(cf, &l);
	ep = epfd_or_die(cf);
	say_ctl(cf, ep, EPOLL_CTL_ADD, a, os, T_SOCK, "sock");
	WAIT(ep, 0, "");
	sync_point(cf, "send1");
	WAIT(ep, -1, "10 bytes arrive");
	WAIT(ep, 0, "disarmed, still readable");
	say_ctl(cf, ep, EPOLL_CTL_MOD, a, os, T_SOCK, "sock");
	WAIT(ep, 0, "re-armed, still readable");
	WAIT(ep, 0, "disarmed again");
	say_read(cf, a, 64);
	say_ctl(cf, ep, EPOLL_CTL_MOD, a, os, T_SOCK, "sock");
	WAIT(ep, 0, "re-armed, nothing to read");
	sync_point(cf, "send2");
	WAIT(ep, -1, "5 bytes arrive");
	WAIT(ep, 0, "");
	say_ctl(cf, ep, EPOLL_CTL_ADD, a, os, T_SOCK, "sock, disarmed");
	say_ctl(cf, ep, EPOLL_CTL_DEL, a, 0, T_SOCK, "sock");
	say(cf, "-- EPOLLONESHOT|EPOLLET, 5 bytes unread");
	say_ctl(cf, ep, EPOLL_CTL_ADD, a, os | EPOLLET, T_SOCK, "sock");
	WAIT(ep, 0, "");
	WAIT(ep, 0, "");
	say_ctl(cf, ep, EPOLL_CTL_MOD, a, os | EPOLLET, T_SOCK, "sock");
	WAIT(ep, 0, "after MOD");
	sync_point(cf, "done");
	close(ep);
	close(a);
	close(l);
}

void
c_epoll_oneshot(struct conform *cf)
{
	int fd = c_connect_server(cf);

	c_send_at(cf, fd, "send1", "0123456789");
	c_send_at(cf, fd, "send2", "abcde");
	sync_point(cf, "done");
	close(fd);
}

/* ---- epoll_rdhup ----------------------------------------------------- */

void
s_epoll_rdhup(struct conform *cf)
{
	int ep_rdhup, ep_none, ep_in, ep_b, l, a, b;
	const char *r;

	a = s_accept_client(cf, &l);
	ep_rdhup = epfd_or_die(cf);
	ep_none = epfd_or_die(cf);
	ep_in = epfd_or_die(cf);
	say(cf, "the socket in three epoll sets: IN|RDHUP, no events, IN");
	say_ctl(cf, ep_rdhup, EPOLL_CTL_ADD, a, EPOLLIN | EPOLLRDHUP, T_SOCK, "sock");
	say_ctl(cf, ep_none, EPOLL_CTL_ADD, a, 0, T_SOCK, "sock");
	say_ctl(cf, ep_in, EPOLL_CTL_ADD, a, EPOLLIN, T_SOCK, "sock");
	WAIT(ep_rdhup, 0, "IN|RDHUP set");
	sync_point(cf, "fin");
	WAIT(ep_rdhup, -1, "IN|RDHUP set, after the client's FIN");
	WAIT(ep_in, 0, "IN set");
	WAIT(ep_none, 0, "no-events set");
	say_read(cf, a, 16);
	WAIT(ep_rdhup, 0, "IN|RDHUP set, EOF read");
	sync_point(cf, "rst");
	WAIT(ep_none, -1, "no-events set, after the client's reset");
	WAIT(ep_rdhup, 0, "IN|RDHUP set");
	WAIT(ep_in, 0, "IN set");
	close(ep_rdhup);
	close(ep_none);
	close(ep_in);
	close(a);

	say(cf, "-- both directions closed by FINs");
	sync_point(cf, "second");
	b = accept_or_die(cf, l);
	ep_b = epfd_or_die(cf);
	say_ctl(cf, ep_b, EPOLL_CTL_ADD, b, EPOLLIN | EPOLLOUT | EPOLLRDHUP, T_SOCK2, "sock2");
	sync_point(cf, "fin2");
	r = poll_ev(wait_ev(b, POLLRDHUP));
	say(cf, "poll(RDHUP) -> %s", r);
	say_read(cf, b, 16);
	r = res(shutdown(b, SHUT_WR));
	say(cf, "shutdown(SHUT_WR) -> %s", r);
	WAIT(ep_b, 0, "");
	sync_point(cf, "done");
	close(ep_b);
	close(b);
	close(l);
}

void
c_epoll_rdhup(struct conform *cf)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int fd = c_connect_server(cf);
	char buf[4];
	const char *r;

	sync_point(cf, "fin");
	shutdown(fd, SHUT_WR);
	sync_point(cf, "rst");
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	say(cf, "shutdown(SHUT_WR), then SO_LINGER {1, 0} and close (reset)");
	sync_point(cf, "second");
	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "fin2");
	shutdown(fd, SHUT_WR);
	sync_point(cf, "done");
	r = res(read(fd, buf, sizeof(buf)));
	say(cf, "second connection: shutdown(SHUT_WR), then read -> %s", r);
	close(fd);
}

/* ---- epoll_exclusive and epoll_shared_epfd --------------------------- */

#define EX_CONNS 20
#define EX_THREADS 3

struct ex_shared {
	int listener;
	int stop;                      /* eventfd: every thread leaves */
	pthread_mutex_t lock;
	pthread_cond_t all_done;
	int seen[EX_CONNS];
	int total;
	int errors;
};

struct ex_thread {
	struct ex_shared *sh;
	int ep;
};

static void
ex_serve(struct ex_shared *sh, int fd)
{
	uint32_t id;
	bool ok;

	set_nonblock(fd, false);
	ok = read_full(fd, &id, sizeof(id)) == sizeof(id) && id < EX_CONNS &&
	     write_full(fd, "k", 1) == 1;
	close(fd);
	pthread_mutex_lock(&sh->lock);
	if (ok)
		sh->seen[id]++;
	else
		sh->errors++;
	if (++sh->total == EX_CONNS)
		pthread_cond_signal(&sh->all_done);
	pthread_mutex_unlock(&sh->lock);
}

/* Wake, accept until EAGAIN (another thread may have taken it: fine),
 * until the stop eventfd is readable. */
static void *
ex_worker(void *arg)
{
	struct ex_thread *t = arg;
	struct ex_shared *sh = t->sh;

	for (;;) {
		struct epoll_event ev[4];
		int n = epoll_wait(t->ep, ev, 4, -1), i, fd;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (i = 0; i < n; i++) {
			if (ev[i].data.u64 == T_STOP)
				return NULL;
			while ((fd = accept(sh->listener, NULL, NULL)) >= 0)
				ex_serve(sh, fd);
		}
	}
	pthread_mutex_lock(&sh->lock);
	sh->errors++;
	pthread_mutex_unlock(&sh->lock);
	return NULL;
}

static void
s_ex_run(struct conform *cf, bool exclusive)
{
	struct ex_shared sh = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.all_done = PTHREAD_COND_INITIALIZER,
	};
	struct ex_thread t[EX_THREADS];
	pthread_t tid[EX_THREADS];
	int i, once = 0, shared_ep = -1;

	sh.listener = tcp_listen_on(cf, cf->server, 0, SOCK_NONBLOCK);
	sh.stop = eventfd(0, EFD_CLOEXEC);
	if (!exclusive) {
		shared_ep = epfd_or_die(cf);
		say_ctl(cf, shared_ep, EPOLL_CTL_ADD, sh.listener, EPOLLIN,
			T_LISTENER, "listener");
		say_ctl(cf, shared_ep, EPOLL_CTL_ADD, sh.stop, EPOLLIN, T_STOP,
			"eventfd");
	}
	for (i = 0; i < EX_THREADS; i++) {
		t[i].sh = &sh;
		if (exclusive) {
			t[i].ep = epfd_or_die(cf);
			say_ctl(cf, t[i].ep, EPOLL_CTL_ADD, sh.listener,
				EPOLLIN | EPOLLEXCLUSIVE, T_LISTENER, "listener");
			say_ctl(cf, t[i].ep, EPOLL_CTL_ADD, sh.stop, EPOLLIN,
				T_STOP, "eventfd");
		} else {
			t[i].ep = shared_ep;
		}
		pthread_create(&tid[i], NULL, ex_worker, &t[i]);
	}
	sync_point(cf, "ready");
	pthread_mutex_lock(&sh.lock);
	while (sh.total < EX_CONNS)
		pthread_cond_wait(&sh.all_done, &sh.lock);
	pthread_mutex_unlock(&sh.lock);
	if (eventfd_write(sh.stop, 1) < 0)
		die(cf, "eventfd_write: %s", err_name(errno));
	for (i = 0; i < EX_THREADS; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < EX_CONNS; i++)
		once += sh.seen[i] == 1;
	say(cf, "%d threads in epoll_wait (%s): %d of %d connections accepted "
	    "exactly once, errors %d", EX_THREADS,
	    exclusive ? "each its own epoll fd, EPOLLEXCLUSIVE" : "one shared epoll fd",
	    once, EX_CONNS, sh.errors);
	if (exclusive) {
		say_ctl(cf, t[0].ep, EPOLL_CTL_MOD, sh.listener, EPOLLIN,
			T_LISTENER, "listener (EPOLLEXCLUSIVE)");
		say_ctl(cf, t[0].ep, EPOLL_CTL_DEL, sh.listener, 0, T_LISTENER,
			"listener");
		say_ctl(cf, t[0].ep, EPOLL_CTL_ADD, sh.listener,
			EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, T_LISTENER,
			"listener");
		say_ctl(cf, t[0].ep, EPOLL_CTL_ADD, t[1].ep,
			EPOLLIN | EPOLLEXCLUSIVE, T_EPFD, "an epoll fd");
		for (i = 0; i < EX_THREADS; i++)
			close(t[i].ep);
	} else {
		close(shared_ep);
	}
	sync_point(cf, "done");
	close(sh.stop);
	close(sh.listener);
}

/* Connections one after another: each must wake a thread by itself. */
static void
c_ex_run(struct conform *cf)
{
	int acked;

	sync_point(cf, "ready");
	acked = send_ids(cf, EX_CONNS);
	say(cf, "%d of %d connections, one after another, acknowledged", acked,
	    EX_CONNS);
	sync_point(cf, "done");
}

void
s_epoll_exclusive(struct conform *cf)
{
	s_ex_run(cf, true);
}

void
c_epoll_exclusive(struct conform *cf)
{
	c_ex_run(cf);
}

void
s_epoll_shared_epfd(struct conform *cf)
{
	s_ex_run(cf, false);
}

void
c_epoll_shared_epfd(struct conform *cf)
{
	c_ex_run(cf);
}

/* ---- epoll_mixed_fds ------------------------------------------------- */

static short
poll_now(int fd, short events)
{
	struct pollfd q = { .fd = fd, .events = events };

	return poll(&q, 1, 0) < 0 ? POLLNVAL : q.revents;
}

void
s_epoll_mixed_fds(struct conform *cf)
{
	struct epoll_event one;
	const char *seen[3];
	int ep, ep2, l, a, p[2], efd, i;
	eventfd_t val = 0;
	const char *r;
	char buf[8];

	a = s_accept_client(cf, &l);
	if (pipe2(p, O_CLOEXEC) < 0)
		die(cf, "pipe: %s", err_name(errno));
	efd = eventfd(0, EFD_CLOEXEC);
	ep = epfd_or_die(cf);
	say_ctl(cf, ep, EPOLL_CTL_ADD, p[0], EPOLLIN, T_PIPE, "pipe");
	say_ctl(cf, ep, EPOLL_CTL_ADD, efd, EPOLLIN, T_EVENTFD, "eventfd");
	say_ctl(cf, ep, EPOLL_CTL_ADD, a, EPOLLIN, T_SOCK, "sock");
	WAIT(ep, 0, "");
	r = res(write(p[1], "p", 1));
	say(cf, "write(pipe) -> %s", r);
	WAIT(ep, 0, "");
	r = res(eventfd_write(efd, 1));
	say(cf, "eventfd_write(1) -> %s", r);
	say_wait(cf, ep, 0, W_PWAIT, 8, "");
	sync_point(cf, "send");
	say(cf, "poll(sock, IN) -> %s", poll_ev(wait_ev(a, POLLIN)));
	say_wait(cf, ep, 0, W_PWAIT2, 8, "");
	say_wait(cf, ep, -1, W_PWAIT2, 8, "");

	/* Level-triggered fds take turns when maxevents is smaller. */
	for (i = 0; i < 3; i++) {
		int n = epoll_wait(ep, &one, 1, 0);

		seen[i] = n == 1 && one.data.u64 <= T_STOP ? tag_name[one.data.u64] : "none";
	}
	say(cf, "three epoll_wait(maxevents 1): three different fds: %s",
	    yes(strcmp(seen[0], seen[1]) && strcmp(seen[1], seen[2]) &&
		strcmp(seen[0], seen[2]) && strcmp(seen[0], "none") &&
		strcmp(seen[1], "none") && strcmp(seen[2], "none")));

	r = res(read(p[0], buf, sizeof(buf)));
	say(cf, "read(pipe) -> %s", r);
	r = res(eventfd_read(efd, &val));
	say(cf, "eventfd_read -> %s, value %llu", r, (unsigned long long)val);
	say_read(cf, a, sizeof(buf));
	WAIT(ep, 0, "all drained");

	say(cf, "-- the epoll fd itself in poll and in another epoll set");
	ep2 = epfd_or_die(cf);
	say_ctl(cf, ep2, EPOLL_CTL_ADD, ep, EPOLLIN, T_EPFD, "epfd");
	say(cf, "poll(epfd, IN, 0) -> revents %s", poll_ev(poll_now(ep, POLLIN)));
	WAIT(ep2, 0, "outer");
	r = res(write(p[1], "p", 1));
	say(cf, "write(pipe) -> %s", r);
	say(cf, "poll(epfd, IN, 0) -> revents %s", poll_ev(poll_now(ep, POLLIN)));
	WAIT(ep2, 0, "outer");
	r = res(read(p[0], buf, sizeof(buf)));
	say(cf, "read(pipe) -> %s", r);
	WAIT(ep2, 0, "outer");
	sync_point(cf, "done");
	close(ep2);
	close(ep);
	close(efd);
	close(p[0]);
	close(p[1]);
	close(a);
	close(l);
}

void
c_epoll_mixed_fds(struct conform *cf)
{
	int fd = c_connect_server(cf);

	c_send_at(cf, fd, "send", "abc");
	sync_point(cf, "done");
	close(fd);
}

/* ---- epoll_after_close ----------------------------------------------- */

/* A registration belongs to the open file, not to the fd number: it
 * outlives close() while a dup of the fd is open, and ends with the last. */
void
s_epoll_after_close(struct conform *cf)
{
	int ep, l, a, d, b;
	const char *r;

	a = s_accept_client(cf, &l);
	ep = epfd_or_die(cf);
	say_ctl(cf, ep, EPOLL_CTL_ADD, a, EPOLLIN, T_SOCK, "sock");
	d = dup(a);
	say(cf, "dup(sock) -> %s", resfd(d));
	r = res(close(a));
	say(cf, "close(sock) -> %s", r);
	sync_point(cf, "send");
	WAIT(ep, -1, "4 bytes arrive");
	say_ctl(cf, ep, EPOLL_CTL_DEL, a, 0, T_SOCK, "the closed fd number");
	say_ctl(cf, ep, EPOLL_CTL_DEL, d, 0, T_SOCK, "the dup");
	say_read(cf, d, 4);
	r = res(close(d));
	say(cf, "close(dup) -> %s", r);
	WAIT(ep, 0, "");

	say(cf, "-- close() of the only fd removes the registration");
	sync_point(cf, "second");
	b = accept_or_die(cf, l);
	say_ctl(cf, ep, EPOLL_CTL_ADD, b, EPOLLIN, T_SOCK2, "sock2");
	sync_point(cf, "send2");
	WAIT(ep, -1, "3 bytes arrive");
	r = res(close(b));
	say(cf, "close(sock2) with the 3 bytes unread -> %s", r);
	WAIT(ep, 0, "");
	sync_point(cf, "closed");
	close(ep);
	close(l);
}

void
c_epoll_after_close(struct conform *cf)
{
	int fd = c_connect_server(cf);
	char buf[8];
	const char *r;

	c_send_at(cf, fd, "send", "four");
	sync_point(cf, "second");
	close(fd);
	fd = tcp_connect_to(cf, cf->server, 0);
	c_send_at(cf, fd, "send2", "abc");
	sync_point(cf, "closed");
	r = res(read(fd, buf, sizeof(buf)));
	say(cf, "read after the server closed with our 3 bytes unread -> %s", r);
	close(fd);
}
