/* sc_poll.c — poll, ppoll, select and pselect on a listener and on one
 * connection through its life: idle, data waiting, the peer's FIN, our
 * own shutdown; and what they say about bad and unconnected fds. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "conform.h"

static void
say_poll(struct conform *cf, int fd, short events, int timeout,
	 const char *what)
{
	struct pollfd p = { .fd = fd, .events = events };
	const char *r = res(poll(&p, 1, timeout));

	say(cf, "poll(%s, %d) %s-> %s revents %s", poll_ev(events), timeout,
	    what, r, poll_ev(p.revents));
}

static void
say_ppoll(struct conform *cf, int fd, short events, bool block)
{
	struct pollfd p = { .fd = fd, .events = events };
	struct timespec zero = { 0, 0 };
	sigset_t mask;
	const char *r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	r = res(ppoll(&p, 1, block ? NULL : &zero, &mask));
	say(cf, "ppoll(%s, %s, mask) -> %s revents %s", poll_ev(events),
	    block ? "NULL" : "{0, 0}", r, poll_ev(p.revents));
}

/* rd/wr/ex: which sets the fd is put in; block: no timeout. */
static void
say_select(struct conform *cf, int fd, bool rd, bool wr, bool ex, bool block,
	   bool pselect_it)
{
	struct timeval tv = { 0, 0 };
	struct timespec ts = { 0, 0 };
	fd_set r, w, e;
	sigset_t mask;
	const char *rc;

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	if (rd)
		FD_SET(fd, &r);
	if (wr)
		FD_SET(fd, &w);
	if (ex)
		FD_SET(fd, &e);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	if (pselect_it)
		rc = res(pselect(fd + 1, &r, &w, &e, block ? NULL : &ts, &mask));
	else
		rc = res(select(fd + 1, &r, &w, &e, block ? NULL : &tv));
	if (rc[0] == '-') {          /* the sets are undefined after an error */
		say(cf, "%s(%s%s%s, %s) -> %s", pselect_it ? "pselect" : "select",
		    rd ? "r" : "", wr ? "w" : "", ex ? "e" : "",
		    block ? "NULL" : "0", rc);
		return;
	}
	say(cf, "%s(%s%s%s, %s) -> %s, readable %d writable %d exceptional %d",
	    pselect_it ? "pselect" : "select", rd ? "r" : "", wr ? "w" : "",
	    ex ? "e" : "", block ? "NULL" : "0", rc, FD_ISSET(fd, &r) ? 1 : 0,
	    FD_ISSET(fd, &w) ? 1 : 0, FD_ISSET(fd, &e) ? 1 : 0);
}

void
s_poll_select(struct conform *cf)
{
	struct pollfd p;
	const char *r;
	char buf[16];
	int l, a, z;

	l = tcp_listen_on(cf, cf->server, 0, 0);
	say(cf, "-- a listener");
	say_poll(cf, l, POLLIN | POLLOUT, 0, "");
	say_select(cf, l, true, true, true, false, false);
	sync_point(cf, "connect");
	say_poll(cf, l, POLLIN, -1, "after a connect ");
	say_select(cf, l, true, false, false, true, false);
	say_select(cf, l, true, false, false, true, true);
	a = accept_or_die(cf, l);
	say_poll(cf, l, POLLIN, 0, "after accept ");

	say(cf, "-- an idle connection");
	say_poll(cf, a, POLLIN | POLLOUT | POLLRDHUP | POLLPRI, 0, "");
	say_poll(cf, a, POLLIN, 0, "");
	say_ppoll(cf, a, POLLIN | POLLOUT, false);
	say_select(cf, a, true, true, true, false, false);
	say_select(cf, a, true, true, true, false, true);
	say_select(cf, a, true, false, false, false, false);

	say(cf, "-- 5 bytes arrived");
	sync_point(cf, "data");
	say_poll(cf, a, POLLIN, -1, "");
	say_ppoll(cf, a, POLLIN | POLLOUT, true);
	say_select(cf, a, true, true, true, true, false);
	say_select(cf, a, true, false, false, true, true);
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "read -> %s", r);
	say_poll(cf, a, POLLIN, 0, "");

	say(cf, "-- the client's FIN");
	sync_point(cf, "fin");
	say_poll(cf, a, POLLIN | POLLRDHUP, -1, "");
	say_select(cf, a, true, false, false, true, false);
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "read -> %s", r);
	say_poll(cf, a, POLLIN | POLLOUT | POLLRDHUP | POLLPRI, 0, "");
	r = res(shutdown(a, SHUT_WR));
	say(cf, "shutdown(SHUT_WR) -> %s", r);
	say_poll(cf, a, POLLIN | POLLOUT | POLLRDHUP | POLLPRI, 0, "");
	say_select(cf, a, true, true, true, false, true);
	sync_point(cf, "done");
	close(a);
	close(l);

	say(cf, "-- fds that are not (connected) sockets");
	z = socket(AF_INET, SOCK_STREAM, 0);
	say_poll(cf, z, POLLIN | POLLOUT | POLLRDHUP, 0, "on a fresh socket ");
	say_select(cf, z, true, true, true, false, false);
	close(z);
	say_poll(cf, z, POLLIN, 0, "on a closed fd ");
	say_select(cf, z, true, false, false, false, false);
	p = (struct pollfd){ .fd = -1, .events = POLLIN, .revents = 0x55 };
	r = res(poll(&p, 1, 0));
	say(cf, "poll(fd -1) -> %s revents %s", r, poll_ev(p.revents));
	r = res(poll(NULL, 0, 0));
	say(cf, "poll(no fds, 0) -> %s", r);
}

void
c_poll_select(struct conform *cf)
{
	const char *r;
	char buf[4];
	int fd;

	sync_point(cf, "connect");
	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "data");
	write_full(fd, "12345", 5);
	sync_point(cf, "fin");
	shutdown(fd, SHUT_WR);
	sync_point(cf, "done");
	r = res(read(fd, buf, sizeof(buf)));
	say(cf, "read after the server's shutdown(SHUT_WR) -> %s", r);
	close(fd);
}
