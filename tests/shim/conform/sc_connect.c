/* sc_connect.c — scenarios about the active side and socket state: a
 * non-blocking connect that succeeds and one that is refused,
 * getsockname/getpeername and bind rules, SO_REUSEPORT, socket options
 * (and what an accepted socket inherits), fcntl and ioctl flags. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>

#include "conform.h"

static void
say_name(struct conform *cf, const char *what, int fd, bool peer)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	const char *r;

	memset(&sa, 0, sizeof(sa));
	if (peer)
		r = res(getpeername(fd, (struct sockaddr *)&sa, &len));
	else
		r = res(getsockname(fd, (struct sockaddr *)&sa, &len));
	if (r[0] == '-')
		say(cf, "%s%s%s -> %s", peer ? "getpeername" : "getsockname",
		    what[0] ? " " : "", what, r);
	else
		say(cf, "%s%s%s -> %s %s", peer ? "getpeername" : "getsockname",
		    what[0] ? " " : "", what, r, addr_s(cf, &sa, len));
}

static void
say_so_error(struct conform *cf, int fd)
{
	int err = -1;
	socklen_t len = sizeof(err);
	const char *r = res(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len));

	say(cf, "SO_ERROR -> %s, value %s", r, err_name(err));
}

/* ---- connect_nonblocking --------------------------------------------- */

void
s_connect_nonblocking(struct conform *cf)
{
	struct sockaddr_in to = sin_of(cf->client, P(0));
	const char *r;
	char buf[8];
	int fd, fd2;

	sync_point(cf, "listening");
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	say_name(cf, "(before connect)", fd, false);
	r = res(connect(fd, (struct sockaddr *)&to, sizeof(to)));
	say(cf, "non-blocking connect(client:P0) -> %s", r);
	r = poll_ev(wait_ev(fd, POLLOUT));
	say(cf, "poll(OUT, -1) -> %s", r);
	say_so_error(cf, fd);
	r = res(connect(fd, (struct sockaddr *)&to, sizeof(to)));
	say(cf, "connect again -> %s", r);
	r = res(connect(fd, (struct sockaddr *)&to, sizeof(to)));
	say(cf, "connect a third time -> %s", r);
	say_name(cf, "", fd, false);
	say_name(cf, "", fd, true);
	ctl_put(cf, "port", local_port(fd));
	r = res(send(fd, "hi", 2, 0));
	say(cf, "send(2) -> %s", r);
	sync_point(cf, "read");
	say(cf, "poll(IN) -> %s", poll_ev(wait_ev(fd, POLLIN)));
	r = res(read(fd, buf, sizeof(buf)));
	say(cf, "read after the client's close -> %s", r);
	close(fd);

	fd2 = socket(AF_INET, SOCK_STREAM, 0);
	r = res(connect(fd2, (struct sockaddr *)&to, sizeof(to)));
	say(cf, "blocking connect(client:P0) -> %s", r);
	sync_point(cf, "second");
	close(fd2);
}

void
c_connect_nonblocking(struct conform *cf)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char buf[8];
	const char *r;
	long port;
	ssize_t n;
	int l, a;

	l = tcp_listen_on(cf, cf->client, 0, 0);
	sync_point(cf, "listening");
	a = accept(l, (struct sockaddr *)&sa, &len);
	r = resfd(a);
	port = ctl_get(cf, "port");
	say(cf, "accept -> %s %s, the server's getsockname port: %s", r,
	    addr_s(cf, &sa, len), yes(ntohs(sa.sin_port) == port));
	n = read_full(a, buf, 2);
	r = res(n);
	say(cf, "read -> %s '%.*s'", r, (int)(n > 0 ? n : 0), buf);
	close(a);
	sync_point(cf, "read");
	a = accept_or_die(cf, l);
	say(cf, "accepted the blocking connect");
	sync_point(cf, "second");
	close(a);
	close(l);
}

/* ---- connect_refused ------------------------------------------------- */

void
s_connect_refused(struct conform *cf)
{
	struct sockaddr_in to = sin_of(cf->client, P(1));
	const char *r;
	char buf[4];
	int fd;

	sync_point(cf, "ready");
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	r = res(connect(fd, (struct sockaddr *)&to, sizeof(to)));
	say(cf, "non-blocking connect(client:P1, no listener) -> %s", r);
	r = poll_ev(wait_ev(fd, POLLOUT));
	say(cf, "poll(OUT, -1) -> %s", r);
	say_so_error(cf, fd);
	say_so_error(cf, fd);
	r = res(connect(fd, (struct sockaddr *)&to, sizeof(to)));
	say(cf, "connect again -> %s", r);
	say_name(cf, "", fd, true);
	close(fd);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	r = res(connect(fd, (struct sockaddr *)&to, sizeof(to)));
	say(cf, "non-blocking connect(client:P1) -> %s", r);
	r = poll_ev(wait_ev(fd, POLLOUT));
	say(cf, "poll(OUT, -1) -> %s", r);
	r = res(read(fd, buf, sizeof(buf)));
	say(cf, "read (before SO_ERROR) -> %s", r);
	say_so_error(cf, fd);
	r = res(read(fd, buf, sizeof(buf)));
	say(cf, "read again -> %s", r);
	close(fd);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	r = res(connect(fd, (struct sockaddr *)&to, sizeof(to)));
	say(cf, "blocking connect(client:P1) -> %s", r);
	say_so_error(cf, fd);
	say_name(cf, "", fd, true);
	r = res(send(fd, "x", 1, MSG_NOSIGNAL));
	say(cf, "send(MSG_NOSIGNAL) -> %s", r);
	r = res(connect(fd, (struct sockaddr *)&to, sizeof(to)));
	say(cf, "blocking connect again -> %s", r);
	close(fd);
}

void
c_connect_refused(struct conform *cf)
{
	say(cf, "nothing listens on client:P1");
	sync_point(cf, "ready");
}

/* ---- names_and_bind -------------------------------------------------- */

void
s_names_and_bind(struct conform *cf)
{
	struct sockaddr_in sa = sin_of(cf->server, P(0));
	struct sockaddr_in any0 = sin_of((struct in_addr){ htonl(INADDR_ANY) }, 0);
	struct sockaddr_in other = any0, sa1 = sin_of(cf->server, P(1));
	socklen_t len;
	const char *r;
	int s, s2, s3, pfd[2];

	s = socket(AF_INET, SOCK_STREAM, 0);
	say_name(cf, "(fresh socket)", s, false);
	say_name(cf, "(fresh socket)", s, true);
	len = 0;
	r = res(getsockname(s, (struct sockaddr *)&sa1, &len));
	say(cf, "getsockname(len 0) -> %s, len now %u", r, (unsigned)len);
	sa1 = sin_of(cf->server, P(1));
	r = res(bind(s, (struct sockaddr *)&any0, sizeof(any0)));
	say(cf, "bind(any:0) -> %s", r);
	say_name(cf, "", s, false);
	r = res(bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	say(cf, "bind again (server:P0) -> %s", r);
	close(s);

	s = socket(AF_INET, SOCK_STREAM, 0);
	s2 = socket(AF_INET, SOCK_STREAM, 0);
	s3 = socket(AF_INET, SOCK_STREAM, 0);
	r = res(bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	say(cf, "bind(server:P0) -> %s", r);
	r = res(bind(s2, (struct sockaddr *)&sa, sizeof(sa)));
	say(cf, "bind(server:P0) by a second socket -> %s", r);
	set_int_opt(cf, s3, SOL_SOCKET, SO_REUSEADDR, 1);
	r = res(bind(s3, (struct sockaddr *)&sa, sizeof(sa)));
	say(cf, "bind(server:P0) by a third with SO_REUSEADDR (the first has "
	    "not) -> %s", r);
	close(s);
	close(s2);
	close(s3);

	s = socket(AF_INET, SOCK_STREAM, 0);
	s2 = socket(AF_INET, SOCK_STREAM, 0);
	set_int_opt(cf, s, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int_opt(cf, s2, SOL_SOCKET, SO_REUSEADDR, 1);
	r = res(bind(s, (struct sockaddr *)&sa1, sizeof(sa1)));
	say(cf, "SO_REUSEADDR, bind(server:P1) -> %s", r);
	r = res(bind(s2, (struct sockaddr *)&sa1, sizeof(sa1)));
	say(cf, "SO_REUSEADDR, bind(server:P1) by a second socket -> %s", r);
	r = res(listen(s, 8));
	say(cf, "listen on the first -> %s", r);
	r = res(listen(s2, 8));
	say(cf, "listen on the second -> %s", r);
	close(s);
	close(s2);

	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	r = res(listen(s, 8));
	say(cf, "listen without bind -> %s", r);
	say_name(cf, "", s, false);
	other = sin_of(cf->client, P(2));
	r = res(connect(s, (struct sockaddr *)&other, sizeof(other)));
	say(cf, "connect on the listening socket -> %s", r);
	close(s);

	s = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "192.0.2.1", &other.sin_addr);
	other.sin_port = 0;
	r = res(bind(s, (struct sockaddr *)&other, sizeof(other)));
	say(cf, "bind(an address this host does not have) -> %s", r);
	r = res(bind(s, (struct sockaddr *)&sa, 8));
	say(cf, "bind(addrlen 8) -> %s", r);
	other = sa;
	other.sin_family = AF_INET6;
	r = res(bind(s, (struct sockaddr *)&other, sizeof(other)));
	say(cf, "bind(sin_family AF_INET6) -> %s", r);
	other = any0;
	other.sin_family = AF_UNSPEC;
	r = res(bind(s, (struct sockaddr *)&other, sizeof(other)));
	say(cf, "bind(sin_family AF_UNSPEC, any:0) -> %s", r);
	close(s);

	if (pipe(pfd) < 0)
		die(cf, "pipe: %s", err_name(errno));
	len = sizeof(sa1);
	r = res(getsockname(pfd[0], (struct sockaddr *)&sa1, &len));
	say(cf, "getsockname(a pipe) -> %s", r);
	close(pfd[0]);
	close(pfd[1]);
	r = res(getsockname(pfd[0], (struct sockaddr *)&sa1, &len));
	say(cf, "getsockname(a closed fd) -> %s", r);
	s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	say(cf, "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) -> %s", resfd(s));
	close(s);
	s = socket(AF_INET, SOCK_STREAM, IPPROTO_UDP);
	say(cf, "socket(AF_INET, SOCK_STREAM, IPPROTO_UDP) -> %s", resfd(s));
	if (s >= 0)
		close(s);
}

void
c_names_and_bind(struct conform *cf)
{
	say(cf, "(server-side calls only)");
}

/* ---- reuseport ------------------------------------------------------- */

#define RP_CONNS 4

void
s_reuseport(struct conform *cf)
{
	struct sockaddr_in sa = sin_of(cf->server, P(0));
	struct pollfd p[2];
	int l[2], s3, i, got = 0, seen[RP_CONNS] = { 0 }, once = 0, errors = 0;
	const char *r;

	for (i = 0; i < 2; i++) {
		l[i] = socket(AF_INET, SOCK_STREAM, 0);
		set_int_opt(cf, l[i], SOL_SOCKET, SO_REUSEPORT, 1);
		r = res(bind(l[i], (struct sockaddr *)&sa, sizeof(sa)));
		say(cf, "SO_REUSEPORT socket %d: bind(server:P0) -> %s", i + 1, r);
	}
	for (i = 0; i < 2; i++) {
		r = res(listen(l[i], 16));
		say(cf, "SO_REUSEPORT socket %d: listen -> %s", i + 1, r);
	}
	s3 = socket(AF_INET, SOCK_STREAM, 0);
	r = res(bind(s3, (struct sockaddr *)&sa, sizeof(sa)));
	say(cf, "a third socket without SO_REUSEPORT: bind(server:P0) -> %s", r);
	close(s3);
	sync_point(cf, "ready");

	/* Which listener gets which connection is the stack's hash: only the
	 * total is printed. */
	while (got < RP_CONNS) {
		p[0] = (struct pollfd){ .fd = l[0], .events = POLLIN };
		p[1] = (struct pollfd){ .fd = l[1], .events = POLLIN };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			die(cf, "poll: %s", err_name(errno));
		for (i = 0; i < 2; i++) {
			uint32_t id;
			int a;

			if (!(p[i].revents & POLLIN))
				continue;
			a = accept_or_die(cf, l[i]);
			if (read_full(a, &id, sizeof(id)) == sizeof(id) &&
			    id < RP_CONNS && write_full(a, "k", 1) == 1)
				seen[id]++;
			else
				errors++;
			close(a);
			got++;
		}
	}
	for (i = 0; i < RP_CONNS; i++)
		once += seen[i] == 1;
	say(cf, "%d of %d connections accepted exactly once over the two "
	    "listeners, errors %d", once, RP_CONNS, errors);
	sync_point(cf, "done");
	close(l[0]);
	close(l[1]);
}

void
c_reuseport(struct conform *cf)
{
	int acked;

	sync_point(cf, "ready");
	acked = send_ids(cf, RP_CONNS);
	say(cf, "%d of %d connections acknowledged", acked, RP_CONNS);
	sync_point(cf, "done");
}

/* ---- sockopts -------------------------------------------------------- */

static void
opt_get(struct conform *cf, int fd, int level, int name, const char *label)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	const char *r = res(getsockopt(fd, level, name, &v, &len));

	say(cf, "getsockopt(%s) -> %s, value %d, len %u", label, r, v,
	    (unsigned)len);
}

static void
opt_set(struct conform *cf, int fd, int level, int name, const char *label,
	int v)
{
	const char *r = res(setsockopt(fd, level, name, &v, sizeof(v)));

	say(cf, "setsockopt(%s, %d) -> %s", label, v, r);
}

static void
opt_cycle(struct conform *cf, int fd, int level, int name, const char *label,
	  int v)
{
	opt_get(cf, fd, level, name, label);
	opt_set(cf, fd, level, name, label, v);
	opt_get(cf, fd, level, name, label);
}

/* Buffer sizes differ between stacks: only that they answer. */
static void
opt_buf(struct conform *cf, int fd, int name, const char *label)
{
	int v = 65536;
	socklen_t len = sizeof(v);
	const char *r = res(setsockopt(fd, SOL_SOCKET, name, &v, sizeof(v)));

	say(cf, "setsockopt(%s, 65536) -> %s", label, r);
	v = -1;
	r = res(getsockopt(fd, SOL_SOCKET, name, &v, &len));
	say(cf, "getsockopt(%s) -> %s, value > 0: %s, len %u", label, r,
	    yes(v > 0), (unsigned)len);
}

static void
opt_linger(struct conform *cf, int fd)
{
	struct linger lg = { -1, -1 };
	socklen_t len = sizeof(lg);
	const char *r = res(getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len));

	say(cf, "getsockopt(SO_LINGER) -> %s, {%d, %d}, len %u", r, lg.l_onoff,
	    lg.l_linger, (unsigned)len);
}

#define OPT(fd, level, name) fd, level, name, #name

void
s_sockopts(struct conform *cf)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 5 };
	int s, l, a, v, pfd[2];
	socklen_t len;
	const char *r;

	s = socket(AF_INET, SOCK_STREAM, 0);
	say(cf, "-- a fresh socket");
	opt_cycle(cf, OPT(s, SOL_SOCKET, SO_REUSEADDR), 1);
	opt_set(cf, OPT(s, SOL_SOCKET, SO_REUSEADDR), 0);
	opt_get(cf, OPT(s, SOL_SOCKET, SO_REUSEADDR));
	opt_cycle(cf, OPT(s, SOL_SOCKET, SO_REUSEPORT), 1);
	opt_cycle(cf, OPT(s, SOL_SOCKET, SO_KEEPALIVE), 1);
	opt_linger(cf, s);
	r = res(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	say(cf, "setsockopt(SO_LINGER, {1, 5}) -> %s", r);
	opt_linger(cf, s);
	opt_buf(cf, s, SO_RCVBUF, "SO_RCVBUF");
	opt_buf(cf, s, SO_SNDBUF, "SO_SNDBUF");
	opt_get(cf, OPT(s, SOL_SOCKET, SO_ERROR));
	opt_get(cf, OPT(s, SOL_SOCKET, SO_TYPE));
	opt_get(cf, OPT(s, SOL_SOCKET, SO_DOMAIN));
	opt_get(cf, OPT(s, SOL_SOCKET, SO_PROTOCOL));
	opt_get(cf, OPT(s, SOL_SOCKET, SO_ACCEPTCONN));
	opt_cycle(cf, OPT(s, IPPROTO_TCP, TCP_NODELAY), 1);
	opt_cycle(cf, OPT(s, IPPROTO_TCP, TCP_KEEPIDLE), 30);
	opt_cycle(cf, OPT(s, IPPROTO_TCP, TCP_KEEPINTVL), 10);
	opt_cycle(cf, OPT(s, IPPROTO_TCP, TCP_KEEPCNT), 3);
	opt_set(cf, OPT(s, IPPROTO_TCP, TCP_KEEPIDLE), 0);
	opt_set(cf, OPT(s, IPPROTO_TCP, TCP_KEEPCNT), 1000);

	say(cf, "-- unknown options and bad arguments");
	opt_get(cf, s, SOL_SOCKET, 12345, "SOL_SOCKET 12345");
	opt_set(cf, s, SOL_SOCKET, 12345, "SOL_SOCKET 12345", 1);
	opt_get(cf, s, IPPROTO_TCP, 12345, "IPPROTO_TCP 12345");
	opt_set(cf, s, IPPROTO_TCP, 12345, "IPPROTO_TCP 12345", 1);
	opt_get(cf, s, 7777, 1, "level 7777");
	v = 1;
	r = res(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2));
	say(cf, "setsockopt(SO_REUSEADDR, optlen 2) -> %s", r);
	len = 0;
	r = res(getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &len));
	say(cf, "getsockopt(SO_REUSEADDR, optlen 0) -> %s, len %u", r,
	    (unsigned)len);
	if (pipe(pfd) < 0)
		die(cf, "pipe: %s", err_name(errno));
	opt_get(cf, OPT(pfd[0], SOL_SOCKET, SO_TYPE));
	close(pfd[0]);
	close(pfd[1]);
	opt_get(cf, OPT(pfd[0], SOL_SOCKET, SO_TYPE));
	close(s);

	say(cf, "-- a listener with options set, and a socket it accepts");
	l = tcp_listen_on(cf, cf->server, 0, 0);
	opt_get(cf, OPT(l, SOL_SOCKET, SO_ACCEPTCONN));
	opt_set(cf, OPT(l, SOL_SOCKET, SO_KEEPALIVE), 1);
	opt_set(cf, OPT(l, IPPROTO_TCP, TCP_NODELAY), 1);
	opt_set(cf, OPT(l, IPPROTO_TCP, TCP_KEEPIDLE), 40);
	r = res(setsockopt(l, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	say(cf, "setsockopt(SO_LINGER, {1, 5}) -> %s", r);
	sync_point(cf, "listening");
	a = accept_or_die(cf, l);
	say(cf, "-- the accepted socket");
	opt_get(cf, OPT(a, SOL_SOCKET, SO_ACCEPTCONN));
	opt_get(cf, OPT(a, SOL_SOCKET, SO_REUSEADDR));
	opt_get(cf, OPT(a, SOL_SOCKET, SO_KEEPALIVE));
	opt_get(cf, OPT(a, IPPROTO_TCP, TCP_NODELAY));
	opt_get(cf, OPT(a, IPPROTO_TCP, TCP_KEEPIDLE));
	opt_linger(cf, a);
	opt_get(cf, OPT(a, SOL_SOCKET, SO_ERROR));
	opt_cycle(cf, OPT(a, IPPROTO_TCP, TCP_KEEPCNT), 4);
	opt_set(cf, OPT(a, IPPROTO_TCP, TCP_NODELAY), 0);
	opt_get(cf, OPT(a, IPPROTO_TCP, TCP_NODELAY));
	sync_point(cf, "done");
	close(a);
	close(l);
}

void
c_sockopts(struct conform *cf)
{
	int fd;

	sync_point(cf, "listening");
	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "done");
	close(fd);
}

/* ---- fcntl_ioctl ----------------------------------------------------- */

static void
say_fionread(struct conform *cf, int fd, const char *what)
{
	int n = -12345;
	const char *r = res(ioctl(fd, FIONREAD, &n));

	say(cf, "ioctl(FIONREAD) %s -> %s, value %d", what, r, n);
}

static void
fionbio(struct conform *cf, int fd, int on)
{
	const char *r = res(ioctl(fd, FIONBIO, &on));

	say(cf, "ioctl(FIONBIO, %d) -> %s, F_GETFL %s", on, r,
	    fl_s(fcntl(fd, F_GETFL)));
}

void
s_fcntl_ioctl(struct conform *cf)
{
	struct termios tio;
	const char *r;
	char buf[16];
	int s, l, a;

	s = socket(AF_INET, SOCK_STREAM, 0);
	say(cf, "fresh socket: F_GETFL %s, F_GETFD %s", fl_s(fcntl(s, F_GETFL)),
	    fd_s(fcntl(s, F_GETFD)));
	r = res(fcntl(s, F_SETFL, O_NONBLOCK));
	say(cf, "F_SETFL O_NONBLOCK -> %s, F_GETFL %s", r, fl_s(fcntl(s, F_GETFL)));
	r = res(fcntl(s, F_SETFL, 0));
	say(cf, "F_SETFL 0 -> %s, F_GETFL %s", r, fl_s(fcntl(s, F_GETFL)));
	r = res(fcntl(s, F_SETFD, FD_CLOEXEC));
	say(cf, "F_SETFD FD_CLOEXEC -> %s, F_GETFD %s", r, fd_s(fcntl(s, F_GETFD)));
	r = res(fcntl(s, F_SETFD, 0));
	say(cf, "F_SETFD 0 -> %s, F_GETFD %s", r, fd_s(fcntl(s, F_GETFD)));
	fionbio(cf, s, 1);
	fionbio(cf, s, 0);
	say_fionread(cf, s, "on a fresh socket");
	/* What isatty() asks: programs do it on sockets. */
	r = res(ioctl(s, TCGETS, &tio));
	say(cf, "ioctl(TCGETS) -> %s", r);
	close(s);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	say(cf, "socket(SOCK_NONBLOCK|SOCK_CLOEXEC): F_GETFL %s, F_GETFD %s",
	    fl_s(fcntl(s, F_GETFL)), fd_s(fcntl(s, F_GETFD)));
	close(s);

	l = tcp_listen_on(cf, cf->server, 0, 0);
	say_fionread(cf, l, "on a listener");
	sync_point(cf, "listening");
	a = accept_or_die(cf, l);
	say_fionread(cf, a, "with nothing received");
	sync_point(cf, "sent");
	say(cf, "poll(IN) -> %s", poll_ev(wait_ev(a, POLLIN)));
	say_fionread(cf, a, "with 7 bytes received");
	fionbio(cf, a, 1);
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "read -> %s", r);
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "read again (O_NONBLOCK by FIONBIO) -> %s", r);
	say_fionread(cf, a, "after reading");
	sync_point(cf, "done");
	close(a);
	close(l);
}

void
c_fcntl_ioctl(struct conform *cf)
{
	int fd;

	sync_point(cf, "listening");
	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "sent");
	write_full(fd, "7 bytes", 7);
	sync_point(cf, "done");
	close(fd);
}
