/* sc_proc.c — a socket seen through several fds and processes: dup, dup2
 * (also over a live socket), dup3, F_DUPFD_CLOEXEC; fork with an inherited
 * listener (nginx-style workers) and with a connection the parent closed;
 * exec, where FD_CLOEXEC decides what the new program still has. Children
 * print nothing: they answer with their exit status, the parent prints. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"

static const char *
status_s(int st)
{
	static char buf[64];

	if (WIFEXITED(st))
		snprintf(buf, sizeof(buf), "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof(buf), "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, sizeof(buf), "status 0x%x", st);
	return buf;
}

static int
wait_child(pid_t pid)
{
	int st = -1;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* Nothing buffered may be printed twice: flush before every fork. */
static pid_t
fork_or_die(struct conform *cf)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		die(cf, "fork: %s", err_name(errno));
	if (pid == 0)
		alarm(SCENARIO_TIMEOUT_S);
	return pid;
}

/* ---- dup_family ------------------------------------------------------ */

#define DUP2_TARGET 200
#define DUP3_TARGET 201
#define DUPFD_MIN 300

void
s_dup_family(struct conform *cf)
{
	int l, a, b, c, d, e, fx, fy;
	const char *r;
	long rc;

	l = tcp_listen_on(cf, cf->server, 0, 0);
	sync_point(cf, "listening");
	a = accept_or_die(cf, l);
	b = dup(a);
	say(cf, "dup(sock) -> %s, F_GETFD %s", resfd(b), fd_s(fcntl(b, F_GETFD)));
	fcntl(a, F_SETFL, O_NONBLOCK);
	fcntl(a, F_SETFD, FD_CLOEXEC);
	say(cf, "O_NONBLOCK and FD_CLOEXEC set on the original: the dup has "
	    "F_GETFL %s, F_GETFD %s", fl_s(fcntl(b, F_GETFL)),
	    fd_s(fcntl(b, F_GETFD)));
	fcntl(a, F_SETFL, 0);
	r = res(close(a));
	say(cf, "close(original) -> %s", r);
	r = res(write(b, "dup1", 4));
	say(cf, "write(dup, 'dup1') -> %s", r);

	rc = dup2(b, DUP2_TARGET);
	r = rc < 0 ? res(rc) : rc == DUP2_TARGET ? "the fd asked for" : "ANOTHER fd";
	say(cf, "dup2(dup, %d) -> %s, F_GETFD %s", DUP2_TARGET, r,
	    fd_s(fcntl(DUP2_TARGET, F_GETFD)));
	c = DUP2_TARGET;
	rc = dup3(b, DUP3_TARGET, O_CLOEXEC);
	r = rc < 0 ? res(rc) : rc == DUP3_TARGET ? "the fd asked for" : "ANOTHER fd";
	say(cf, "dup3(dup, %d, O_CLOEXEC) -> %s, F_GETFD %s", DUP3_TARGET, r,
	    fd_s(fcntl(DUP3_TARGET, F_GETFD)));
	d = DUP3_TARGET;
	r = res(dup3(b, b, 0));
	say(cf, "dup3(fd, same fd) -> %s", r);
	rc = dup2(b, b);
	say(cf, "dup2(fd, same fd) -> returns that fd: %s", yes(rc == b));
	r = res(dup3(b, DUP3_TARGET + 1, 0x1234));
	say(cf, "dup3(flags 0x1234) -> %s", r);
	e = fcntl(b, F_DUPFD_CLOEXEC, DUPFD_MIN);
	say(cf, "fcntl(F_DUPFD_CLOEXEC, %d) -> at least %d: %s, F_GETFD %s",
	    DUPFD_MIN, DUPFD_MIN, yes(e >= DUPFD_MIN), fd_s(fcntl(e, F_GETFD)));
	r = res(write(c, "dup2", 4));
	say(cf, "write(dup2's fd) -> %s", r);
	r = res(write(d, "dup3", 4));
	say(cf, "write(dup3's fd) -> %s", r);
	r = res(write(e, "dupfd", 5));
	say(cf, "write(F_DUPFD's fd) -> %s", r);
	sync_point(cf, "written");
	r = res(shutdown(d, SHUT_WR));
	say(cf, "shutdown(dup3's fd, SHUT_WR) -> %s", r);
	/* The peer is still open: the state is not CLOSED, so no ENOTCONN. */
	r = res(shutdown(c, SHUT_WR));
	say(cf, "shutdown(dup2's fd, SHUT_WR) again -> %s", r);
	r = res(send(b, "x", 1, MSG_NOSIGNAL));
	say(cf, "send(MSG_NOSIGNAL) on another dup -> %s", r);
	sync_point(cf, "shut");
	r = res(close(b) | close(c) | close(d) | close(e));
	say(cf, "close all four -> %s", r);

	say(cf, "-- dup2 over a live socket");
	sync_point(cf, "x");
	fx = accept_or_die(cf, l);
	sync_point(cf, "y");
	fy = accept_or_die(cf, l);
	rc = dup2(fx, fy);
	say(cf, "dup2(socket x, socket y's fd) -> that fd: %s", yes(rc == fy));
	r = res(write(fy, "to-x", 4));
	say(cf, "write(y's fd) -> %s", r);
	sync_point(cf, "swapped");
	r = res(close(fx));
	say(cf, "close(x's own fd) -> %s", r);
	r = res(write(fy, "!", 1));
	say(cf, "write(y's fd, now x) -> %s", r);
	r = res(close(fy));
	say(cf, "close(y's fd, now x) -> %s", r);
	sync_point(cf, "done");
	close(l);
}

void
c_dup_family(struct conform *cf)
{
	char buf[32];
	const char *r;
	ssize_t n;
	int fd, x, y;

	sync_point(cf, "listening");
	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "written");
	memset(buf, 0, sizeof(buf));
	n = read_full(fd, buf, 17);
	r = res(n);
	say(cf, "read(17) -> %s '%s'", r, buf);
	sync_point(cf, "shut");
	r = res(read(fd, buf, sizeof(buf)));
	say(cf, "read after shutdown through one dup -> %s", r);
	close(fd);

	x = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "x");
	y = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "y");
	r = res(read(y, buf, sizeof(buf)));
	say(cf, "y: read -> %s (its only fd was replaced by dup2)", r);
	memset(buf, 0, sizeof(buf));
	n = read_full(x, buf, 4);
	r = res(n);
	say(cf, "x: read(4) -> %s '%s'", r, buf);
	sync_point(cf, "swapped");
	memset(buf, 0, sizeof(buf));
	n = read_full(x, buf, sizeof(buf) - 1);
	r = res(n);
	say(cf, "x: read until EOF -> %s '%s'", r, buf);
	sync_point(cf, "done");
	close(x);
	close(y);
}

/* ---- fork_listener --------------------------------------------------- */

#define FORK_WORKERS 2

/* A worker: one connection from the inherited listener, then exit. */
static void
worker_child(int l)
{
	uint32_t id;
	int fd = accept(l, NULL, NULL);

	if (fd < 0)
		_exit(10);
	if (read_full(fd, &id, sizeof(id)) != sizeof(id))
		_exit(11);
	if (write_full(fd, "child", 5) != 5)
		_exit(12);
	close(fd);
	_exit(0);
}

void
s_fork_listener(struct conform *cf)
{
	pid_t pid[FORK_WORKERS];
	int l, a, i, ok = 0;
	const char *r;

	l = tcp_listen_on(cf, cf->server, 0, 0);
	for (i = 0; i < FORK_WORKERS; i++) {
		pid[i] = fork_or_die(cf);
		if (pid[i] == 0)
			worker_child(l);
	}
	say(cf, "forked %d children blocked in accept on the inherited listener",
	    FORK_WORKERS);
	sync_point(cf, "forked");
	for (i = 0; i < FORK_WORKERS; i++) {
		int st = wait_child(pid[i]);

		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			say(cf, "child %d: %s", i + 1, status_s(st));
	}
	say(cf, "children that each accepted and served one connection: %d of %d",
	    ok, FORK_WORKERS);
	sync_point(cf, "served");
	a = accept(l, NULL, NULL);
	r = resfd(a);
	say(cf, "accept in the parent afterwards -> %s", r);
	r = res(write(a, "parent", 6));
	say(cf, "write('parent') -> %s", r);
	close(a);
	close(l);
	sync_point(cf, "done");
}

void
c_fork_listener(struct conform *cf)
{
	char buf[8];
	const char *r;
	uint32_t id;
	int fd, served = 0;
	ssize_t n;

	sync_point(cf, "forked");
	for (id = 0; id < FORK_WORKERS; id++) {
		fd = tcp_connect_to(cf, cf->server, 0);
		memset(buf, 0, sizeof(buf));
		if (write_full(fd, &id, sizeof(id)) == sizeof(id) &&
		    read_full(fd, buf, 7) == 5 && strcmp(buf, "child") == 0)
			served++;
		close(fd);
	}
	say(cf, "connections answered 'child' then EOF: %d of %d", served,
	    FORK_WORKERS);
	sync_point(cf, "served");
	fd = tcp_connect_to(cf, cf->server, 0);
	memset(buf, 0, sizeof(buf));
	n = read_full(fd, buf, 7);
	r = res(n);
	say(cf, "read until EOF -> %s '%s'", r, buf);
	close(fd);
	sync_point(cf, "done");
}

/* ---- fork_connected -------------------------------------------------- */

void
s_fork_connected(struct conform *cf)
{
	int l, a, go[2], st;
	const char *r;
	pid_t pid;
	char c;

	l = tcp_listen_on(cf, cf->server, 0, 0);
	sync_point(cf, "listening");
	a = accept_or_die(cf, l);
	if (pipe(go) < 0)
		die(cf, "pipe: %s", err_name(errno));
	pid = fork_or_die(cf);
	if (pid == 0) {
		/* The child uses the connection once the parent has closed
		 * its copy: the peer must not have seen a FIN. */
		char buf[4];

		close(go[1]);
		if (read_full(go[0], &c, 1) != 1)
			_exit(9);
		if (write_full(a, "from child", 10) != 10)
			_exit(10);
		if (read_full(a, buf, 4) != 4 || memcmp(buf, "ack!", 4) != 0)
			_exit(11);
		if (close(a) != 0)
			_exit(12);
		_exit(0);
	}
	close(go[0]);
	r = res(close(a));
	say(cf, "parent: close(its copy of the connection) -> %s", r);
	write_full(go[1], "g", 1);
	close(go[1]);
	st = wait_child(pid);
	say(cf, "child (wrote 'from child', read 'ack!', closed): %s",
	    status_s(st));
	sync_point(cf, "done");
	close(l);
}

void
c_fork_connected(struct conform *cf)
{
	char buf[16];
	const char *r;
	ssize_t n;
	int fd;

	sync_point(cf, "listening");
	fd = tcp_connect_to(cf, cf->server, 0);
	memset(buf, 0, sizeof(buf));
	n = read_full(fd, buf, 10);
	r = res(n);
	say(cf, "read(10) -> %s '%s'", r, buf);
	r = res(write(fd, "ack!", 4));
	say(cf, "write('ack!') -> %s", r);
	r = res(read(fd, buf, sizeof(buf)));
	say(cf, "read -> %s", r);
	close(fd);
	sync_point(cf, "done");
}

/* ---- exec_cloexec ---------------------------------------------------- */

/* What the exec'd helper found, one bit each (exit status 31 = all). */
#define EX_PLAIN_OPEN   1      /* fd without FD_CLOEXEC still open */
#define EX_ACCEPT4_GONE 2      /* accept4(SOCK_CLOEXEC) fd closed (EBADF) */
#define EX_FCNTL_GONE   4      /* F_SETFD FD_CLOEXEC fd closed (EBADF) */
#define EX_IO           8      /* wrote 'exec', read 'ok' on the plain fd */
#define EX_LISTENER    16      /* accepted on the inherited listener */

void
s_exec_cloexec(struct conform *cf)
{
	char fa[16], fb[16], fc[16], fl[16];
	int l, a, b, c, st, bits;
	const char *r;
	pid_t pid;

	l = tcp_listen_on(cf, cf->server, 0, 0);
	sync_point(cf, "listening");
	a = accept_or_die(cf, l);
	sync_point(cf, "second");
	b = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (b < 0)
		die(cf, "accept4: %s", err_name(errno));
	sync_point(cf, "third");
	c = accept_or_die(cf, l);
	r = res(fcntl(c, F_SETFD, FD_CLOEXEC));
	say(cf, "three connections: plain, accept4(SOCK_CLOEXEC), "
	    "F_SETFD FD_CLOEXEC -> %s; the listener without FD_CLOEXEC", r);
	snprintf(fa, sizeof(fa), "%d", a);
	snprintf(fb, sizeof(fb), "%d", b);
	snprintf(fc, sizeof(fc), "%d", c);
	snprintf(fl, sizeof(fl), "%d", l);
	pid = fork_or_die(cf);
	if (pid == 0) {
		execl(cf->self, "conform", "exec-helper", fa, fb, fc, fl,
		      (char *)NULL);
		_exit(127);
	}
	st = wait_child(pid);
	bits = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
	say(cf, "exec'd helper: %s", status_s(st));
	say(cf, "exec'd helper: plain fd still open: %s", yes(bits & EX_PLAIN_OPEN));
	say(cf, "exec'd helper: SOCK_CLOEXEC fd closed: %s",
	    yes(bits & EX_ACCEPT4_GONE));
	say(cf, "exec'd helper: FD_CLOEXEC fd closed: %s", yes(bits & EX_FCNTL_GONE));
	say(cf, "exec'd helper: wrote and read on the plain fd: %s",
	    yes(bits & EX_IO));
	say(cf, "exec'd helper: accepted on the inherited listener: %s",
	    yes(bits & EX_LISTENER));
	r = res(close(a) | close(b) | close(c));
	say(cf, "parent: close the three -> %s", r);
	sync_point(cf, "done");
	close(l);
}

void
c_exec_cloexec(struct conform *cf)
{
	char buf[16];
	const char *r;
	int a, b, c, d;
	ssize_t n;

	sync_point(cf, "listening");
	a = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "second");
	b = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "third");
	c = tcp_connect_to(cf, cf->server, 0);
	memset(buf, 0, sizeof(buf));
	n = read_full(a, buf, 4);
	r = res(n);
	say(cf, "plain: read(4) -> %s '%s'", r, buf);
	r = res(write(a, "ok", 2));
	say(cf, "plain: write('ok') -> %s", r);
	d = tcp_connect_to(cf, cf->server, 0);
	memset(buf, 0, sizeof(buf));
	n = read_full(d, buf, sizeof(buf) - 1);
	r = res(n);
	say(cf, "fourth connection (to the helper's listener): read until EOF "
	    "-> %s '%s'", r, buf);
	close(d);
	sync_point(cf, "done");
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "plain: read -> %s", r);
	r = res(read(b, buf, sizeof(buf)));
	say(cf, "SOCK_CLOEXEC: read -> %s", r);
	r = res(read(c, buf, sizeof(buf)));
	say(cf, "FD_CLOEXEC: read -> %s", r);
	close(a);
	close(b);
	close(c);
}

/* conform exec-helper PLAIN ACCEPT4_CLOEXEC FCNTL_CLOEXEC LISTENER */
int
exec_helper(int argc, char **argv)
{
	int a, b, c, l, fd, bits = 0;
	char buf[2];

	if (argc != 5)
		return 100;
	a = atoi(argv[1]);
	b = atoi(argv[2]);
	c = atoi(argv[3]);
	l = atoi(argv[4]);
	alarm(SCENARIO_TIMEOUT_S);
	if (fcntl(a, F_GETFD) >= 0)
		bits |= EX_PLAIN_OPEN;
	if (fcntl(b, F_GETFD) < 0 && errno == EBADF)
		bits |= EX_ACCEPT4_GONE;
	if (fcntl(c, F_GETFD) < 0 && errno == EBADF)
		bits |= EX_FCNTL_GONE;
	if (write_full(a, "exec", 4) == 4 && read_full(a, buf, 2) == 2 &&
	    memcmp(buf, "ok", 2) == 0)
		bits |= EX_IO;
	fd = accept(l, NULL, NULL);
	if (fd >= 0 && write_full(fd, "L", 1) == 1)
		bits |= EX_LISTENER;
	if (fd >= 0)
		close(fd);
	return bits;
}
