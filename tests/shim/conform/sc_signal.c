/* sc_signal.c — ppoll, pselect, epoll_pwait and epoll_pwait2 install their
 * signal mask atomically with the wait: a signal the mask unblocks ends the
 * wait with EINTR whether it was already pending (blocked until the call)
 * or arrives while the caller is blocked; it is never lost in between. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <unistd.h>

#include "conform.h"

static volatile sig_atomic_t sig_seen;

static void
on_usr1(int sig)
{
	(void)sig;
	sig_seen++;
}

struct kill_later {
	pthread_t target;
	pthread_t tid;
};

/* 100 ms is long enough for the caller to be asleep usually; when it is
 * not yet (still checking), SIGUSR1 is blocked then and stays pending:
 * Linux answers EINTR either way. */
static void *
kill_later_main(void *arg)
{
	struct kill_later *k = arg;

	usleep(100 * 1000);
	pthread_kill(k->target, SIGUSR1);
	return NULL;
}

enum mask_call { M_PPOLL, M_PSELECT, M_PWAIT, M_PWAIT2, M_CALLS };
static const char *const mask_call_name[M_CALLS] = {
	"ppoll", "pselect", "epoll_pwait", "epoll_pwait2"
};

/* One call with a 2 s timeout and a mask without SIGUSR1 on fd (or its
 * epoll set ep): nothing is ready, so only the signal can end it early. */
static long
mask_call(enum mask_call c, int fd, int ep, const sigset_t *mask)
{
	struct timespec ts = { 2, 0 };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct epoll_event ev;
	fd_set r;

	switch (c) {
	case M_PPOLL:
		return ppoll(&p, 1, &ts, mask);
	case M_PSELECT:
		FD_ZERO(&r);
		FD_SET(fd, &r);
		return pselect(fd + 1, &r, NULL, NULL, &ts, mask);
	case M_PWAIT:
		return epoll_pwait(ep, &ev, 1, 2000, mask);
	default:
		return epoll_pwait2(ep, &ev, 1, &ts, mask);
	}
}

void
s_signal_masks(struct conform *cf)
{
	struct sigaction sa, old_sa;
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t usr1, old, wait_mask;
	int l, a, ep, c;

	a = tcp_listen_on(cf, cf->server, 0, 0);
	sync_point(cf, "listening");
	l = a;
	a = accept_or_die(cf, l);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev) < 0)
		die(cf, "epoll set-up: %s", err_name(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, &old_sa);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, &old);
	wait_mask = old;
	sigdelset(&wait_mask, SIGUSR1);
	say(cf, "SIGUSR1 blocked; each call waits 2 s on an idle connection "
	    "with a mask that unblocks it");
	for (c = 0; c < M_CALLS; c++) {
		struct kill_later k = { .target = pthread_self() };
		long rc;
		const char *r;

		sig_seen = 0;
		pthread_kill(pthread_self(), SIGUSR1);
		r = res(mask_call((enum mask_call)c, a, ep, &wait_mask));
		say(cf, "%s, SIGUSR1 pending before the call -> %s, handler ran %d",
		    mask_call_name[c], r, (int)sig_seen);
		sig_seen = 0;
		pthread_create(&k.tid, NULL, kill_later_main, &k);
		rc = mask_call((enum mask_call)c, a, ep, &wait_mask);
		r = res(rc);
		pthread_join(k.tid, NULL);
		say(cf, "%s, SIGUSR1 sent while blocked -> %s, handler ran %d",
		    mask_call_name[c], r, (int)sig_seen);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGUSR1, &old_sa, NULL);
	sync_point(cf, "done");
	close(ep);
	close(a);
	close(l);
}

void
c_signal_masks(struct conform *cf)
{
	int fd;

	sync_point(cf, "listening");
	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "done");
	close(fd);
}

/* ---- epoll_exclusive_wakeups ----------------------------------------- */

/* Four threads, each in its own epoll set holding the listener with
 * EPOLLEXCLUSIVE, all asleep: one connection wakes one of them (Linux
 * wakes "at least one", and one when they are all waiting). */
#define XW_THREADS 4

struct xw_shared {
	int listener, stop;            /* stop: eventfd, in every set */
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int woken;
};

static void *
xw_main(void *arg)
{
	struct xw_shared *sh = arg;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = 1 };
	int ep = epoll_create1(EPOLL_CLOEXEC), n, i;
	bool listener = false;

	epoll_ctl(ep, EPOLL_CTL_ADD, sh->listener, &ev);
	ev.events = EPOLLIN;
	ev.data.u32 = 2;
	epoll_ctl(ep, EPOLL_CTL_ADD, sh->stop, &ev);
	for (;;) {
		struct epoll_event out[2];

		n = epoll_wait(ep, out, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		for (i = 0; i < n; i++)
			if (out[i].data.u32 == 1)
				listener = true;
		if (n != 0)
			break;
	}
	pthread_mutex_lock(&sh->lock);
	if (listener)
		sh->woken++;
	pthread_cond_broadcast(&sh->cv);
	pthread_mutex_unlock(&sh->lock);
	close(ep);
	return NULL;
}

void
s_epoll_exclusive_wakeups(struct conform *cf)
{
	struct xw_shared sh = { .woken = 0 };
	pthread_t tid[XW_THREADS];
	int i, a, woken;

	sh.listener = tcp_listen_on(cf, cf->server, 0, 0);
	sh.stop = eventfd(0, EFD_CLOEXEC);
	pthread_mutex_init(&sh.lock, NULL);
	pthread_cond_init(&sh.cv, NULL);
	for (i = 0; i < XW_THREADS; i++)
		pthread_create(&tid[i], NULL, xw_main, &sh);
	usleep(300 * 1000);            /* all of them asleep in epoll_wait */
	sync_point(cf, "listening");
	sync_point(cf, "connected");
	usleep(500 * 1000);
	pthread_mutex_lock(&sh.lock);
	woken = sh.woken;
	pthread_mutex_unlock(&sh.lock);
	say(cf, "%d threads asleep with EPOLLEXCLUSIVE on the listener, one "
	    "connection: threads woken with it: %d", XW_THREADS, woken);
	eventfd_write(sh.stop, 1);
	for (i = 0; i < XW_THREADS; i++)
		pthread_join(tid[i], NULL);
	a = accept(sh.listener, NULL, NULL);
	say(cf, "accept -> %s", resfd(a));
	sync_point(cf, "done");
	close(a);
	close(sh.stop);
	close(sh.listener);
}

void
c_epoll_exclusive_wakeups(struct conform *cf)
{
	int fd;

	sync_point(cf, "listening");
	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "connected");
	sync_point(cf, "done");
	close(fd);
}

/* ---- epoll_nested ---------------------------------------------------- */

/* An epoll fd whose set holds a connection, itself in poll and select:
 * readable while the connection is (Linux's ep_eventpoll_poll). */
static const char *
nested_poll(int ep, int timeout)
{
	struct pollfd p = { .fd = ep, .events = POLLIN };
	int r = poll(&p, 1, timeout);

	return r < 0 ? res(r) : poll_ev(p.revents);
}

static const char *
nested_select(int ep)
{
	struct timeval tv = { 0, 0 };
	fd_set r;

	FD_ZERO(&r);
	FD_SET(ep, &r);
	if (select(ep + 1, &r, NULL, NULL, &tv) < 0)
		return "error";
	return FD_ISSET(ep, &r) ? "readable" : "not readable";
}

static const char *
nested_wait(int ep2, int timeout)
{
	struct epoll_event out[4];
	int n = epoll_wait(ep2, out, 4, timeout);
	static char line[4][64];
	static int k;
	char *b = line[k++ % 4];

	if (n <= 0)
		return res(n);
	snprintf(b, 64, "%d: data %llu %s", n, (unsigned long long)out[0].data.u64,
		 epoll_ev(out[0].events));
	return b;
}

void
s_epoll_nested(struct conform *cf)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char buf[16];
	int l, a, ep, ep2;
	const char *r;

	l = tcp_listen_on(cf, cf->server, 0, 0);
	sync_point(cf, "listening");
	a = accept_or_die(cf, l);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev) < 0)
		die(cf, "epoll set-up: %s", err_name(errno));
	say(cf, "the epoll fd (the connection in it, IN), nothing to read: "
	    "poll(0) -> %s, select -> %s", nested_poll(ep, 0), nested_select(ep));
	sync_point(cf, "send");
	/* Only the first look: Linux 6.18 answered a poll(0) straight after
	 * it 0 once in six runs (a scan of the ready list in progress). */
	say(cf, "the client sends 3 bytes: poll(5 s) -> %s", nested_poll(ep, 5000));
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "read -> %s", r);
	say(cf, "all read: poll(0) -> %s, select -> %s", nested_poll(ep, 0),
	    nested_select(ep));
	sync_point(cf, "send2");
	say(cf, "3 more bytes, while poll(5 s) sleeps on the epoll fd -> %s",
	    nested_poll(ep, 5000));
	ep2 = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.u64 = 7;
	r = res(epoll_ctl(ep2, EPOLL_CTL_ADD, ep, &ev));
	say(cf, "the epoll fd in a second epoll set -> %s", r);
	say(cf, "epoll_wait(outer, 5 s) -> %s", nested_wait(ep2, 5000));
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "read -> %s", r);
	say(cf, "all read: epoll_wait(outer, 0) -> %s", nested_wait(ep2, 0));
	sync_point(cf, "send3");
	say(cf, "3 more bytes, while epoll_wait(outer, 5 s) sleeps -> %s",
	    nested_wait(ep2, 5000));
	sync_point(cf, "done");
	close(ep2);
	close(ep);
	close(a);
	close(l);
}

void
c_epoll_nested(struct conform *cf)
{
	int fd;

	sync_point(cf, "listening");
	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "send");
	write_full(fd, "abc", 3);
	sync_point(cf, "send2");
	usleep(200 * 1000);
	write_full(fd, "def", 3);
	sync_point(cf, "send3");
	usleep(200 * 1000);
	write_full(fd, "ghi", 3);
	sync_point(cf, "done");
	close(fd);
}
