/* sc_data.c — scenarios about moving bytes and ending connections: the
 * read and write call families with MSG_PEEK / MSG_DONTWAIT / MSG_WAITALL,
 * half-close, EOF after the peer's close, the peer's reset (ECONNRESET,
 * EPIPE, SIGPIPE) and a close with unread data (our reset). */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conform.h"
#include "sha256.h"

static const char *
fionread(int fd)
{
	int n = -12345;
	long rc = ioctl(fd, FIONREAD, &n);

	return rc < 0 ? res(rc) : res(n);
}

/* The client's half of a step: wait for the server to be ready, write. */
static void
c_send_step(struct conform *cf, int fd, const char *label, const char *s)
{
	sync_point(cf, label);
	if (write_full(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die(cf, "write '%s': %s", s, err_name(errno));
}

static void
linger0(struct conform *cf, int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		die(cf, "SO_LINGER: %s", err_name(errno));
}

/* ---- data_calls: the receive side ------------------------------------ */

void
s_data_calls(struct conform *cf)
{
	struct sockaddr_in sa;
	char buf[4096], b1[8], b2[8], b3[128];
	struct iovec iov[3];
	struct msghdr mh;
	socklen_t len;
	const char *r;
	ssize_t n;
	int l, a, z;

	l = tcp_listen_on(cf, cf->server, 0, 0);
	sync_point(cf, "listening");
	a = accept_or_die(cf, l);

	sync_point(cf, "s1");
	n = recv(a, buf, 64, MSG_PEEK);
	r = res(n);
	say(cf, "recv(64, MSG_PEEK) -> %s '%.*s'", r, (int)(n > 0 ? n : 0), buf);
	say(cf, "ioctl(FIONREAD) -> %s", fionread(a));
	n = recv(a, buf, 4, 0);
	r = res(n);
	say(cf, "recv(4) -> %s '%.*s'", r, (int)(n > 0 ? n : 0), buf);
	n = recv(a, buf, 64, MSG_PEEK | MSG_DONTWAIT);
	r = res(n);
	say(cf, "recv(64, MSG_PEEK|MSG_DONTWAIT) -> %s '%.*s'", r,
	    (int)(n > 0 ? n : 0), buf);
	n = read(a, buf, 64);
	r = res(n);
	say(cf, "read(64) -> %s '%.*s'", r, (int)(n > 0 ? n : 0), buf);
	r = res(recv(a, buf, 64, MSG_DONTWAIT));
	say(cf, "recv(64, MSG_DONTWAIT), nothing left -> %s", r);
	r = res(read(a, buf, 0));
	say(cf, "read(0 bytes) -> %s", r);
	say(cf, "ioctl(FIONREAD) -> %s", fionread(a));

	sync_point(cf, "s2");
	say(cf, "poll(IN) -> %s", poll_ev(wait_ev(a, POLLIN)));
	memset(b1, 0, sizeof(b1));
	memset(b2, 0, sizeof(b2));
	memset(b3, 0, sizeof(b3));
	iov[0] = (struct iovec){ b1, 5 };
	iov[1] = (struct iovec){ b2, 5 };
	iov[2] = (struct iovec){ b3, 100 };
	r = res(readv(a, iov, 3));
	say(cf, "readv({5, 5, 100}) -> %s '%s|%s|%s'", r, b1, b2, b3);

	sync_point(cf, "s3");
	n = recv(a, buf, 3000, MSG_WAITALL);
	r = res(n);
	say(cf, "recv(3000, MSG_WAITALL) over three writes -> %s, sha256 %s", r,
	    sha_s(buf, n > 0 ? (size_t)n : 0));

	sync_point(cf, "s4");
	say(cf, "poll(IN) -> %s", poll_ev(wait_ev(a, POLLIN)));
	memset(b1, 0, sizeof(b1));
	memset(b3, 0, sizeof(b3));
	iov[0] = (struct iovec){ b1, 4 };
	iov[1] = (struct iovec){ b3, 100 };
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &sa;
	mh.msg_namelen = sizeof(sa);
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	mh.msg_control = buf;
	mh.msg_controllen = 64;
	mh.msg_flags = 0x7f;
	r = res(recvmsg(a, &mh, 0));
	say(cf, "recvmsg({4, 100}, name, control) -> %s '%s|%s', namelen %u, "
	    "controllen %zu, flags 0x%x", r, b1, b3, (unsigned)mh.msg_namelen,
	    (size_t)mh.msg_controllen, (unsigned)mh.msg_flags);

	sync_point(cf, "s5");
	say(cf, "poll(IN) -> %s", poll_ev(wait_ev(a, POLLIN)));
	len = sizeof(sa);
	n = recvfrom(a, buf, 100, 0, (struct sockaddr *)&sa, &len);
	r = res(n);
	say(cf, "recvfrom(100, &addr, &len) -> %s '%.*s', len %u", r,
	    (int)(n > 0 ? n : 0), buf, (unsigned)len);

	sync_point(cf, "s6");
	say(cf, "poll(IN) -> %s", poll_ev(wait_ev(a, POLLIN)));
	n = recv(a, buf, 100, MSG_WAITALL | MSG_DONTWAIT);
	r = res(n);
	say(cf, "recv(100, MSG_WAITALL|MSG_DONTWAIT) with 5 there -> %s '%.*s'",
	    r, (int)(n > 0 ? n : 0), buf);

	z = socket(AF_INET, SOCK_STREAM, 0);
	r = res(read(z, buf, 1));
	say(cf, "read on a socket never connected -> %s", r);
	r = res(recv(z, buf, 1, MSG_DONTWAIT));
	say(cf, "recv(MSG_DONTWAIT) on it -> %s", r);
	close(z);

	sync_point(cf, "s7");
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "read after the client's close -> %s", r);
	close(a);
	close(l);
}

void
c_data_calls(struct conform *cf)
{
	char chunk[1000];
	int fd, i;

	sync_point(cf, "listening");
	fd = tcp_connect_to(cf, cf->server, 0);
	c_send_step(cf, fd, "s1", "0123456789");
	c_send_step(cf, fd, "s2", "abcdefghijklmnopqrst");
	sync_point(cf, "s3");
	for (i = 0; i < 3; i++) {
		pattern(chunk, sizeof(chunk), 100 + i);
		write_full(fd, chunk, sizeof(chunk));
	}
	c_send_step(cf, fd, "s4", "recvmsg-data");
	c_send_step(cf, fd, "s5", "recvfrom");
	c_send_step(cf, fd, "s6", "12345");
	sync_point(cf, "s7");
	close(fd);
	say(cf, "sent the steps' data, closed");
}

/* ---- send_calls: the send side --------------------------------------- */

struct sent {
	struct sha256 h;
	long total;
	uint32_t seed;
};

/* Each call sends fresh pattern bytes; what was accepted is hashed. */
static char *
next_bytes(struct sent *st, size_t n)
{
	static char buf[64];

	pattern(buf, n, st->seed++);
	return buf;
}

static void
took(struct sent *st, const char *p, long rc)
{
	if (rc > 0) {
		sha256_update(&st->h, p, (size_t)rc);
		st->total += rc;
	}
}

void
s_send_calls(struct conform *cf)
{
	struct sockaddr_in to = sin_of(cf->client, 9);
	struct sent st = { .seed = 500 };
	struct iovec iov[3];
	struct msghdr mh;
	char all[64], digest[17];
	const char *r;
	char *p;
	long rc;
	int l, a, z, pipes;

	sha256_init(&st.h);
	l = tcp_listen_on(cf, cf->server, 0, 0);
	sync_point(cf, "listening");
	a = accept_or_die(cf, l);

	p = next_bytes(&st, 10);
	rc = write(a, p, 10);
	took(&st, p, rc);
	say(cf, "write(10) -> %s", res(rc));
	p = next_bytes(&st, 10);
	rc = send(a, p, 10, 0);
	took(&st, p, rc);
	say(cf, "send(10, 0) -> %s", res(rc));
	p = next_bytes(&st, 10);
	rc = send(a, p, 10, MSG_DONTWAIT);
	took(&st, p, rc);
	say(cf, "send(10, MSG_DONTWAIT) -> %s", res(rc));
	p = next_bytes(&st, 10);
	rc = send(a, p, 10, MSG_NOSIGNAL);
	took(&st, p, rc);
	say(cf, "send(10, MSG_NOSIGNAL) -> %s", res(rc));
	p = next_bytes(&st, 10);
	rc = sendto(a, p, 10, 0, NULL, 0);
	took(&st, p, rc);
	say(cf, "sendto(10, NULL, 0) -> %s", res(rc));
	p = next_bytes(&st, 10);
	rc = sendto(a, p, 10, 0, (struct sockaddr *)&to, sizeof(to));
	took(&st, p, rc);
	say(cf, "sendto(10, another address) on the connected socket -> %s",
	    res(rc));

	/* writev/sendmsg: several buffers, one call. */
	memcpy(all, next_bytes(&st, 12), 12);
	iov[0] = (struct iovec){ all, 3 };
	iov[1] = (struct iovec){ all + 3, 4 };
	iov[2] = (struct iovec){ all + 7, 5 };
	rc = writev(a, iov, 3);
	took(&st, all, rc);
	say(cf, "writev({3, 4, 5}) -> %s", res(rc));
	memcpy(all, next_bytes(&st, 13), 13);
	iov[0] = (struct iovec){ all, 6 };
	iov[1] = (struct iovec){ all + 6, 7 };
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	rc = sendmsg(a, &mh, 0);
	took(&st, all, rc);
	say(cf, "sendmsg({6, 7}) -> %s", res(rc));
	memcpy(all, next_bytes(&st, 9), 9);
	iov[0] = (struct iovec){ all, 9 };
	mh.msg_iovlen = 1;
	mh.msg_name = &to;
	mh.msg_namelen = sizeof(to);
	rc = sendmsg(a, &mh, 0);
	took(&st, all, rc);
	say(cf, "sendmsg({9}, another address) on the connected socket -> %s",
	    res(rc));
	rc = write(a, all, 0);
	say(cf, "write(0 bytes) -> %s", res(rc));
	rc = send(a, all, 0, 0);
	say(cf, "send(0 bytes) -> %s", res(rc));
	p = next_bytes(&st, 10);
	rc = send(a, p, 10, MSG_MORE);
	took(&st, p, rc);
	say(cf, "send(10, MSG_MORE) -> %s", res(rc));
	p = next_bytes(&st, 10);
	rc = send(a, p, 10, 0);
	took(&st, p, rc);
	say(cf, "send(10, 0) -> %s", res(rc));
	sha256_hex16(&st.h, digest);
	say(cf, "accepted %ld bytes in all, sha256 %s", st.total, digest);
	ctl_put(cf, "total", st.total);
	r = res(shutdown(a, SHUT_WR));
	say(cf, "shutdown(SHUT_WR) -> %s", r);
	sync_point(cf, "read");

	/* Sending on a socket that never connected: EPIPE, and SIGPIPE too
	 * unless MSG_NOSIGNAL. */
	z = socket(AF_INET, SOCK_STREAM, 0);
	r = res(send(z, "x", 1, MSG_NOSIGNAL));
	say(cf, "send(MSG_NOSIGNAL) on a socket never connected -> %s", r);
	pipes = conform_sigpipes;
	r = res(write(z, "x", 1));
	say(cf, "write on it -> %s, SIGPIPEs delivered %d", r,
	    (int)(conform_sigpipes - pipes));
	to = sin_of(cf->client, P(1));
	r = res(sendto(z, "x", 1, MSG_NOSIGNAL, (struct sockaddr *)&to, sizeof(to)));
	say(cf, "sendto(an address, MSG_NOSIGNAL) on it -> %s", r);
	r = res(shutdown(z, SHUT_WR));
	say(cf, "shutdown(SHUT_WR) on it -> %s", r);
	close(z);
	close(a);
	close(l);
}

void
c_send_calls(struct conform *cf)
{
	char digest[17];
	long total;
	size_t n;
	int fd, err;

	sync_point(cf, "listening");
	fd = tcp_connect_to(cf, cf->server, 0);
	total = ctl_get(cf, "total");
	n = read_to_eof(fd, digest, &err);
	say(cf, "read %zu bytes until EOF (%s), sha256 %s, the server's total: %s",
	    n, err_name(err), digest, yes((long)n == total));
	sync_point(cf, "read");
	close(fd);
}

/* ---- half_close ------------------------------------------------------ */

#define HALF_IN (100 * 1024)
#define HALF_OUT (50 * 1024)

void
s_half_close(struct conform *cf)
{
	static char out[HALF_OUT];
	struct pollfd p;
	char digest[17];
	const char *r;
	size_t n;
	int l, a, err;

	l = tcp_listen_on(cf, cf->server, 0, 0);
	sync_point(cf, "listening");
	a = accept_or_die(cf, l);
	n = read_to_eof(a, digest, &err);
	say(cf, "read until EOF -> %zu bytes (%s), sha256 %s", n, err_name(err),
	    digest);
	r = res(read(a, out, 1));
	say(cf, "read again -> %s", r);
	p = (struct pollfd){ .fd = a, .events = POLLIN | POLLOUT | POLLRDHUP };
	r = res(poll(&p, 1, 0));
	say(cf, "poll(IN|OUT|RDHUP) -> %s revents %s", r, poll_ev(p.revents));
	pattern(out, sizeof(out), 21);
	r = res(write_full(a, out, sizeof(out)));
	say(cf, "write %d bytes into the half-closed connection -> %s, sha256 %s",
	    HALF_OUT, r, sha_s(out, sizeof(out)));
	r = res(shutdown(a, SHUT_WR));
	say(cf, "shutdown(SHUT_WR) -> %s", r);
	r = res(send(a, "x", 1, MSG_NOSIGNAL));
	say(cf, "send(MSG_NOSIGNAL) after it -> %s", r);
	p.revents = 0;
	r = res(poll(&p, 1, 0));
	say(cf, "poll(IN|OUT|RDHUP) -> %s revents %s", r, poll_ev(p.revents));
	sync_point(cf, "done");
	close(a);
	close(l);
}

void
c_half_close(struct conform *cf)
{
	static char in[HALF_IN];
	char digest[17];
	const char *r;
	size_t n;
	int fd, err;

	sync_point(cf, "listening");
	fd = tcp_connect_to(cf, cf->server, 0);
	pattern(in, sizeof(in), 20);
	r = res(write_full(fd, in, sizeof(in)));
	say(cf, "write %d bytes -> %s, sha256 %s", HALF_IN, r, sha_s(in, sizeof(in)));
	r = res(shutdown(fd, SHUT_WR));
	say(cf, "shutdown(SHUT_WR) -> %s", r);
	n = read_to_eof(fd, digest, &err);
	say(cf, "read until EOF -> %zu bytes (%s), sha256 %s", n, err_name(err),
	    digest);
	sync_point(cf, "done");
	close(fd);
}

/* ---- peer_close_eof -------------------------------------------------- */

void
s_peer_close_eof(struct conform *cf)
{
	struct pollfd p;
	char buf[64];
	const char *r;
	ssize_t n;
	int l, a, err, pipes;
	socklen_t len = sizeof(err);

	l = tcp_listen_on(cf, cf->server, 0, 0);
	sync_point(cf, "listening");
	a = accept_or_die(cf, l);
	sync_point(cf, "accepted");
	sync_point(cf, "closed");
	n = read(a, buf, sizeof(buf));
	r = res(n);
	say(cf, "read -> %s '%.*s'", r, (int)(n > 0 ? n : 0), buf);
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "read -> %s (EOF)", r);
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "read again -> %s", r);
	p = (struct pollfd){ .fd = a, .events = POLLIN | POLLOUT | POLLRDHUP };
	r = res(poll(&p, 1, 0));
	say(cf, "poll(IN|OUT|RDHUP) -> %s revents %s", r, poll_ev(p.revents));
	/* The peer's socket is gone: our data draws its RST. */
	r = res(send(a, "more", 4, MSG_NOSIGNAL));
	say(cf, "send(4) to the closed peer -> %s", r);
	p.events = 0;
	r = res(poll(&p, 1, -1));
	say(cf, "poll(no events, -1) until the peer's reset -> %s revents %s", r,
	    poll_ev(p.revents));
	p.events = POLLIN | POLLOUT | POLLRDHUP;
	r = res(poll(&p, 1, 0));
	say(cf, "poll(IN|OUT|RDHUP) -> %s revents %s", r, poll_ev(p.revents));
	err = -1;
	r = res(getsockopt(a, SOL_SOCKET, SO_ERROR, &err, &len));
	say(cf, "SO_ERROR -> %s, value %s", r, err_name(err));
	r = res(send(a, "x", 1, MSG_NOSIGNAL));
	say(cf, "send(MSG_NOSIGNAL) -> %s", r);
	pipes = conform_sigpipes;
	r = res(write(a, "x", 1));
	say(cf, "write -> %s, SIGPIPEs delivered %d", r,
	    (int)(conform_sigpipes - pipes));
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "read -> %s", r);
	close(a);
	close(l);
}

void
c_peer_close_eof(struct conform *cf)
{
	int fd;

	sync_point(cf, "listening");
	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "accepted");
	write_full(fd, "bye", 3);
	close(fd);
	say(cf, "wrote 'bye', closed");
	sync_point(cf, "closed");
}

/* ---- peer_reset ------------------------------------------------------ */

/* poll() with no events returns only for ERR/HUP: it waits for the RST
 * itself, whatever else is readable. */
static void
s_after_reset(struct conform *cf, int a, const char *part)
{
	struct pollfd p = { .fd = a, .events = 0 };
	const char *r;

	r = res(poll(&p, 1, -1));
	say(cf, "%s: poll(no events, -1) until the reset -> %s revents %s", part,
	    r, poll_ev(p.revents));
	p.events = POLLIN | POLLOUT | POLLRDHUP;
	r = res(poll(&p, 1, 0));
	say(cf, "%s: poll(IN|OUT|RDHUP) -> %s revents %s", part, r,
	    poll_ev(p.revents));
}

void
s_peer_reset(struct conform *cf)
{
	struct bg_call bc;
	char buf[64];
	const char *r;
	int l, a, err;
	socklen_t len = sizeof(err);

	l = tcp_listen_on(cf, cf->server, 0, 0);
	sync_point(cf, "listening");

	/* 1: nothing pending when the RST comes. */
	a = accept_or_die(cf, l);
	sync_point(cf, "accepted1");
	sync_point(cf, "reset1");
	s_after_reset(cf, a, "1");
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "1: read -> %s", r);
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "1: read again -> %s", r);
	r = res(send(a, "x", 1, MSG_NOSIGNAL));
	say(cf, "1: send(MSG_NOSIGNAL) -> %s", r);
	err = -1;
	r = res(getsockopt(a, SOL_SOCKET, SO_ERROR, &err, &len));
	say(cf, "1: SO_ERROR -> %s, value %s", r, err_name(err));
	close(a);

	/* 2: unread data when the RST comes. */
	a = accept_or_die(cf, l);
	sync_point(cf, "sent2");
	say(cf, "2: poll(IN) -> %s", poll_ev(wait_ev(a, POLLIN)));
	say(cf, "2: ioctl(FIONREAD) -> %s", fionread(a));
	sync_point(cf, "have2");
	sync_point(cf, "reset2");
	s_after_reset(cf, a, "2");
	say(cf, "2: ioctl(FIONREAD) -> %s", fionread(a));
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "2: read -> %s", r);
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "2: read again -> %s", r);
	close(a);

	/* 3: a send is the first call after the RST. */
	a = accept_or_die(cf, l);
	sync_point(cf, "accepted3");
	sync_point(cf, "reset3");
	s_after_reset(cf, a, "3");
	r = res(send(a, "x", 1, MSG_NOSIGNAL));
	say(cf, "3: send(MSG_NOSIGNAL) -> %s", r);
	r = res(send(a, "x", 1, MSG_NOSIGNAL));
	say(cf, "3: send(MSG_NOSIGNAL) again -> %s", r);
	r = res(read(a, buf, sizeof(buf)));
	say(cf, "3: read -> %s", r);
	close(a);

	/* 4: another thread is in recv() when the RST comes (or calls it
	 * after: the answer is the same). */
	bg_start(cf, &bc, accept_or_die(cf, l), false);
	sync_point(cf, "accepted4");
	sync_point(cf, "reset4");
	r = res(bg_join(&bc));
	say(cf, "4: recv in another thread -> %s", r);
	close(bc.fd);
	close(l);
}

void
c_peer_reset(struct conform *cf)
{
	int fd;

	sync_point(cf, "listening");
	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "accepted1");
	linger0(cf, fd);
	close(fd);
	say(cf, "1: SO_LINGER {1, 0}, close (reset)");
	sync_point(cf, "reset1");

	fd = tcp_connect_to(cf, cf->server, 0);
	write_full(fd, "unread!!", 8);
	sync_point(cf, "sent2");
	sync_point(cf, "have2");
	linger0(cf, fd);
	close(fd);
	say(cf, "2: wrote 8 bytes, SO_LINGER {1, 0}, close (reset)");
	sync_point(cf, "reset2");

	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "accepted3");
	linger0(cf, fd);
	close(fd);
	say(cf, "3: SO_LINGER {1, 0}, close (reset)");
	sync_point(cf, "reset3");

	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "accepted4");
	linger0(cf, fd);
	close(fd);
	say(cf, "4: SO_LINGER {1, 0}, close (reset)");
	sync_point(cf, "reset4");
}

/* ---- close_with_unread_data ------------------------------------------ */

void
s_close_with_unread_data(struct conform *cf)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	const char *r;
	int l, a;

	l = tcp_listen_on(cf, cf->server, 0, 0);
	sync_point(cf, "listening");

	a = accept_or_die(cf, l);
	say(cf, "poll(IN) -> %s", poll_ev(wait_ev(a, POLLIN)));
	say(cf, "ioctl(FIONREAD) -> %s", fionread(a));
	r = res(close(a));
	say(cf, "close with 10 bytes unread -> %s", r);
	sync_point(cf, "closed1");

	a = accept_or_die(cf, l);
	/* The reset must not overtake the client's connect(): a blocking
	 * connect that wakes to a reset fails with ECONNRESET. */
	sync_point(cf, "connected2");
	r = res(setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	say(cf, "SO_LINGER {1, 0} -> %s", r);
	r = res(close(a));
	say(cf, "close -> %s", r);
	sync_point(cf, "closed2");

	a = accept_or_die(cf, l);
	r = res(write(a, "x", 1));
	say(cf, "write(1) -> %s", r);
	r = res(close(a));
	say(cf, "close -> %s", r);
	sync_point(cf, "closed3");
	close(l);
}

void
c_close_with_unread_data(struct conform *cf)
{
	char buf[16];
	const char *r;
	int fd;

	sync_point(cf, "listening");
	fd = tcp_connect_to(cf, cf->server, 0);
	write_full(fd, "0123456789", 10);
	sync_point(cf, "closed1");
	r = res(read(fd, buf, sizeof(buf)));
	say(cf, "1: read after the server closed with our data unread -> %s", r);
	r = res(read(fd, buf, sizeof(buf)));
	say(cf, "1: read again -> %s", r);
	close(fd);

	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "connected2");
	sync_point(cf, "closed2");
	r = res(read(fd, buf, sizeof(buf)));
	say(cf, "2: read after the server's SO_LINGER {1, 0} close -> %s", r);
	close(fd);

	fd = tcp_connect_to(cf, cf->server, 0);
	sync_point(cf, "closed3");
	r = res(read(fd, buf, sizeof(buf)));
	say(cf, "3: read after the server wrote 1 byte and closed -> %s", r);
	r = res(read(fd, buf, sizeof(buf)));
	say(cf, "3: read again -> %s", r);
	close(fd);
}
