/* sc_accept.c — scenarios about the passive side: blocking and
 * non-blocking accept/accept4 and their flags, three threads accepting on
 * one listener, a blocked accept woken by shutdown(), and one connection's
 * fd handed from an accepting thread to a reading one to a closing one. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "conform.h"

/* ---- accept_blocking ------------------------------------------------- */

static void
say_accepted(struct conform *cf, const char *what, int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	const char *r;

	say(cf, "%s: F_GETFL %s, F_GETFD %s", what, fl_s(fcntl(fd, F_GETFL)),
	    fd_s(fcntl(fd, F_GETFD)));
	r = res(getsockname(fd, (struct sockaddr *)&sa, &len));
	say(cf, "%s: getsockname -> %s %s", what, r, addr_s(cf, &sa, len));
}

void
s_accept_blocking(struct conform *cf)
{
	struct sockaddr_in sa = sin_of(cf->server, P(0)), got;
	socklen_t len;
	int l, a, b, c, z, pfd[2];
	long cport;
	const char *r;
	char byte;

	l = socket(AF_INET, SOCK_STREAM, 0);
	say(cf, "socket(AF_INET, SOCK_STREAM, 0) -> %s", resfd(l));
	set_int_opt(cf, l, SOL_SOCKET, SO_REUSEADDR, 1);
	r = res(bind(l, (struct sockaddr *)&sa, sizeof(sa)));
	say(cf, "bind(server:P0) -> %s", r);
	r = res(listen(l, 16));
	say(cf, "listen(16) -> %s", r);
	sync_point(cf, "listening");

	cport = ctl_get(cf, "port");
	memset(&got, 0xa5, sizeof(got));
	len = sizeof(got);
	a = accept(l, (struct sockaddr *)&got, &len);
	r = resfd(a);
	say(cf, "accept(&addr, &len) -> %s, len %u, %s, port is the client's "
	    "getsockname port: %s", r, (unsigned)len, addr_s(cf, &got, len),
	    yes(ntohs(got.sin_port) == cport));
	say_accepted(cf, "accepted", a);
	len = sizeof(got);
	r = res(getpeername(a, (struct sockaddr *)&got, &len));
	say(cf, "getpeername(accepted) -> %s %s, the client's port: %s", r,
	    addr_s(cf, &got, len), yes(ntohs(got.sin_port) == cport));
	sync_point(cf, "second");

	b = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	r = resfd(b);
	say(cf, "accept4(NULL, NULL, SOCK_NONBLOCK|SOCK_CLOEXEC) -> %s", r);
	say_accepted(cf, "accept4ed", b);
	r = res(recv(b, &byte, 1, 0));
	say(cf, "recv on it (nothing sent yet) -> %s", r);

	/* Non-blocking from here: a stack that ignored a bad flag would block. */
	set_nonblock(l, true);
	r = resfd(accept4(l, NULL, NULL, 0x4000));
	say(cf, "accept4(flags 0x4000) -> %s", r);
	r = resfd(accept(l, NULL, NULL));
	say(cf, "accept on the listener made O_NONBLOCK, none pending -> %s", r);
	sync_point(cf, "third");

	r = poll_ev(wait_ev(l, POLLIN));
	say(cf, "poll(listener, IN) -> %s", r);
	len = 4;
	c = accept(l, (struct sockaddr *)&got, &len);
	r = resfd(c);
	say(cf, "accept(&addr, &len = 4) -> %s, len now %u", r, (unsigned)len);
	say(cf, "accepted from the O_NONBLOCK listener: F_GETFL %s",
	    fl_s(fcntl(c, F_GETFL)));

	if (pipe(pfd) < 0)
		die(cf, "pipe: %s", err_name(errno));
	r = resfd(accept(pfd[0], NULL, NULL));
	say(cf, "accept(a pipe) -> %s", r);
	z = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	r = resfd(accept(z, NULL, NULL));
	say(cf, "accept(a socket never listened) -> %s", r);
	close(z);
	r = resfd(accept(z, NULL, NULL));
	say(cf, "accept(a closed fd) -> %s", r);
	close(pfd[0]);
	close(pfd[1]);

	r = res(write(a, "A", 1));
	say(cf, "write(first, 'A') -> %s", r);
	r = res(write(b, "B", 1));
	say(cf, "write(second, 'B') -> %s", r);
	r = res(write(c, "C", 1));
	say(cf, "write(third, 'C') -> %s", r);
	sync_point(cf, "written");
	r = res(close(a) | close(b) | close(c));
	say(cf, "close the three -> %s", r);
	close(l);
	sync_point(cf, "closed");
}

void
c_accept_blocking(struct conform *cf)
{
	int fd[3], i;
	char buf[4];

	sync_point(cf, "listening");
	fd[0] = tcp_connect_to(cf, cf->server, 0);
	say(cf, "connect #1: ok");
	ctl_put(cf, "port", local_port(fd[0]));
	sync_point(cf, "second");
	fd[1] = tcp_connect_to(cf, cf->server, 0);
	say(cf, "connect #2: ok");
	sync_point(cf, "third");
	fd[2] = tcp_connect_to(cf, cf->server, 0);
	say(cf, "connect #3: ok");
	sync_point(cf, "written");
	for (i = 0; i < 3; i++) {
		const char *r = res(read(fd[i], buf, sizeof(buf)));

		say(cf, "read #%d -> %s '%c'", i + 1, r, buf[0]);
	}
	sync_point(cf, "closed");
	for (i = 0; i < 3; i++) {
		const char *r = res(read(fd[i], buf, sizeof(buf)));

		say(cf, "read #%d after the server's close -> %s", i + 1, r);
		close(fd[i]);
	}
}

/* ---- accept_nonblocking ---------------------------------------------- */

void
s_accept_nonblocking(struct conform *cf)
{
	struct pollfd p;
	const char *r;
	int l, a;

	l = tcp_listen_on(cf, cf->server, 0, SOCK_NONBLOCK);
	say(cf, "listener from socket(SOCK_STREAM|SOCK_NONBLOCK): F_GETFL %s",
	    fl_s(fcntl(l, F_GETFL)));
	r = resfd(accept(l, NULL, NULL));
	say(cf, "accept, none pending -> %s", r);
	r = resfd(accept4(l, NULL, NULL, SOCK_NONBLOCK));
	say(cf, "accept4(SOCK_NONBLOCK), none pending -> %s", r);
	p = (struct pollfd){ .fd = l, .events = POLLIN };
	r = res(poll(&p, 1, 0));
	say(cf, "poll(IN, 0) -> %s revents %s", r, poll_ev(p.revents));
	sync_point(cf, "ready");

	p.revents = 0;
	r = res(poll(&p, 1, -1));
	say(cf, "poll(IN, -1) after a connect -> %s revents %s", r,
	    poll_ev(p.revents));
	a = accept(l, NULL, NULL);
	r = resfd(a);
	say(cf, "accept -> %s", r);
	r = resfd(accept(l, NULL, NULL));
	say(cf, "accept again -> %s", r);
	r = res(poll(&p, 1, 0));
	say(cf, "poll(IN, 0) -> %s revents %s", r, poll_ev(p.revents));
	close(a);
	close(l);
	sync_point(cf, "done");
}

void
c_accept_nonblocking(struct conform *cf)
{
	int fd;

	sync_point(cf, "ready");
	fd = tcp_connect_to(cf, cf->server, 0);
	say(cf, "connect: ok");
	sync_point(cf, "done");
	close(fd);
}

/* ---- accept_three_threads -------------------------------------------- */

#define ACC_CONNS 30
#define ACC_THREADS 3
#define ACC_STOP 0xffffffffu

struct acc_shared {
	int listener;
	pthread_mutex_t lock;
	int seen[ACC_CONNS];     /* accepts per connection id */
	int stopped;             /* threads ended by a stop connection */
	int errors;              /* failed accept/read/write, unknown ids */
};

/* Accept until a stop connection arrives: each thread takes exactly one
 * stop (then leaves), so ACC_THREADS stops end them all. */
static void *
acc_worker(void *arg)
{
	struct acc_shared *sh = arg;

	for (;;) {
		int fd = accept(sh->listener, NULL, NULL);
		uint32_t id;
		bool ok;

		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0) {
			pthread_mutex_lock(&sh->lock);
			sh->errors++;
			pthread_mutex_unlock(&sh->lock);
			return NULL;
		}
		ok = read_full(fd, &id, sizeof(id)) == sizeof(id);
		pthread_mutex_lock(&sh->lock);
		if (ok && id == ACC_STOP)
			sh->stopped++;
		else if (ok && id < ACC_CONNS)
			sh->seen[id]++;
		else
			sh->errors++;
		pthread_mutex_unlock(&sh->lock);
		if (ok && id == ACC_STOP) {
			close(fd);
			return NULL;
		}
		if (write_full(fd, "k", 1) != 1) {
			pthread_mutex_lock(&sh->lock);
			sh->errors++;
			pthread_mutex_unlock(&sh->lock);
		}
		close(fd);
	}
}

void
s_accept_three_threads(struct conform *cf)
{
	struct acc_shared sh = { .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t t[ACC_THREADS];
	int i, once = 0;

	sh.listener = tcp_listen_on(cf, cf->server, 0, 0);
	for (i = 0; i < ACC_THREADS; i++)
		pthread_create(&t[i], NULL, acc_worker, &sh);
	sync_point(cf, "ready");
	sync_point(cf, "done");
	for (i = 0; i < ACC_THREADS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < ACC_CONNS; i++)
		once += sh.seen[i] == 1;
	say(cf, "%d threads blocked in accept on one listener: %d of %d "
	    "connections accepted exactly once", ACC_THREADS, once, ACC_CONNS);
	say(cf, "threads ended by a stop connection: %d, errors: %d",
	    sh.stopped, sh.errors);
	close(sh.listener);
}

void
c_accept_three_threads(struct conform *cf)
{
	uint32_t stop = ACC_STOP;
	int acked, i, fd;

	sync_point(cf, "ready");
	acked = send_ids(cf, ACC_CONNS);
	for (i = 0; i < ACC_THREADS; i++) {
		fd = tcp_connect_to(cf, cf->server, 0);
		write_full(fd, &stop, sizeof(stop));
		close(fd);
	}
	say(cf, "%d of %d connections acknowledged, %d stop connections sent",
	    acked, ACC_CONNS, ACC_THREADS);
	sync_point(cf, "done");
}

/* ---- accept_woken_by_shutdown ---------------------------------------- */

/* Whether the thread is already blocked when shutdown() comes or calls
 * accept() after it, Linux answers EINVAL: the listener is closed. */
void
s_accept_woken_by_shutdown(struct conform *cf)
{
	struct bg_call bc;
	const char *r;
	int a;

	bg_start(cf, &bc, tcp_listen_on(cf, cf->server, 0, 0), true);
	r = res(shutdown(bc.fd, SHUT_RD));
	say(cf, "shutdown(listener, SHUT_RD) while another thread accepts -> %s", r);
	r = resfd(bg_join(&bc));
	say(cf, "accept in the other thread -> %s", r);
	r = res(listen(bc.fd, 8));
	say(cf, "listen again on the same socket -> %s", r);
	sync_point(cf, "relisten");
	a = accept(bc.fd, NULL, NULL);
	r = resfd(a);
	say(cf, "accept -> %s", r);
	close(a);
	close(bc.fd);
}

void
c_accept_woken_by_shutdown(struct conform *cf)
{
	struct sockaddr_in sa = sin_of(cf->server, P(0));
	int fd = client_socket(cf);
	const char *r;

	sync_point(cf, "relisten");
	r = res(connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	say(cf, "connect to the listener listening again -> %s", r);
	close(fd);
}

/* ---- fd_shared_by_threads -------------------------------------------- */

#define SHARED_BYTES 65536

struct relay {
	int listener;
	int ab[2], bc[2];          /* pipes passing the fd on */
	int fd;                    /* as thread A accepted it */
	int acc_err;
	ssize_t nread;
	char digest[17];
	ssize_t nwritten;
	int w_err, close_rc, close_err;
};

static void *
relay_accept(void *arg)
{
	struct relay *rl = arg;

	rl->fd = accept(rl->listener, NULL, NULL);
	rl->acc_err = errno;
	write_full(rl->ab[1], &rl->fd, sizeof(rl->fd));
	return NULL;
}

static void *
relay_read(void *arg)
{
	struct relay *rl = arg;
	static char buf[SHARED_BYTES];
	int fd = -1;

	if (read_full(rl->ab[0], &fd, sizeof(fd)) == sizeof(fd)) {
		rl->nread = read_full(fd, buf, sizeof(buf));
		memcpy(rl->digest, sha_s(buf, rl->nread > 0 ? (size_t)rl->nread : 0), 17);
	}
	write_full(rl->bc[1], &fd, sizeof(fd));
	return NULL;
}

static void *
relay_close(void *arg)
{
	struct relay *rl = arg;
	int fd = -1;

	if (read_full(rl->bc[0], &fd, sizeof(fd)) != sizeof(fd))
		return NULL;
	rl->nwritten = write(fd, "done", 4);
	rl->w_err = errno;
	rl->close_rc = close(fd);
	rl->close_err = errno;
	return NULL;
}

void
s_fd_shared_by_threads(struct conform *cf)
{
	struct relay rl = { .fd = -1, .nread = -1 };
	struct bg_call bc;
	pthread_t t[3];
	const char *r;
	char byte;
	int i;

	rl.listener = tcp_listen_on(cf, cf->server, 0, 0);
	if (pipe(rl.ab) < 0 || pipe(rl.bc) < 0)
		die(cf, "pipe: %s", err_name(errno));
	pthread_create(&t[0], NULL, relay_accept, &rl);
	pthread_create(&t[1], NULL, relay_read, &rl);
	pthread_create(&t[2], NULL, relay_close, &rl);
	sync_point(cf, "ready");
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	errno = rl.acc_err;
	r = resfd(rl.fd);
	say(cf, "thread A: accept -> %s", r);
	say(cf, "thread B: read %zd bytes, sha256 %s", rl.nread, rl.digest);
	errno = rl.w_err;
	r = res(rl.nwritten);
	say(cf, "thread C: write 'done' -> %s", r);
	errno = rl.close_err;
	r = res(rl.close_rc);
	say(cf, "thread C: close -> %s", r);
	r = res(read(rl.fd, &byte, 1));
	say(cf, "main thread: read on the fd thread C closed -> %s", r);
	for (i = 0; i < 2; i++) {
		close(rl.ab[i]);
		close(rl.bc[i]);
	}
	sync_point(cf, "part2");

	bg_start(cf, &bc, accept_or_die(cf, rl.listener), false);
	r = res(shutdown(bc.fd, SHUT_RDWR));
	say(cf, "shutdown(SHUT_RDWR) while another thread is in recv -> %s", r);
	r = res(bg_join(&bc));
	say(cf, "recv in the other thread -> %s", r);
	sync_point(cf, "shut");
	close(bc.fd);
	close(rl.listener);
}

void
c_fd_shared_by_threads(struct conform *cf)
{
	static char data[SHARED_BYTES];
	char buf[16];
	const char *r;
	ssize_t n;
	int fd;

	sync_point(cf, "ready");
	fd = tcp_connect_to(cf, cf->server, 0);
	pattern(data, sizeof(data), 7);
	n = write_full(fd, data, sizeof(data));
	say(cf, "wrote %zd bytes, sha256 %s", n, sha_s(data, sizeof(data)));
	memset(buf, 0, sizeof(buf));
	n = read_full(fd, buf, sizeof(buf) - 1);
	r = res(n);
	say(cf, "read until EOF -> %s '%s'", r, buf);
	close(fd);
	sync_point(cf, "part2");
	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "shut");
	r = res(read(fd, buf, sizeof(buf)));
	say(cf, "read after the server's shutdown(SHUT_RDWR) -> %s", r);
	close(fd);
}
