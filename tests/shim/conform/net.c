/* net.c — socket set-up and data helpers the scenarios share. Set-up that
 * fails leaves a scenario nothing to test, so it dies naming the call; the
 * calls a scenario is about are made in the scenario and printed there. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "conform.h"
#include "sha256.h"

uint16_t
port_n(struct conform *cf, int n)
{
	return (uint16_t)(cf->base + cf->index * PORTS_PER_SCENARIO + n);
}

struct sockaddr_in
sin_of(struct in_addr a, uint16_t port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr = a,
	};
	return sa;
}

/* SO_REUSEADDR: a rerun never waits for an earlier run's TIME_WAIT. */
int
tcp_listen_on(struct conform *cf, struct in_addr a, int n, int type_flags)
{
	struct sockaddr_in sa = sin_of(a, P(n));
	int fd = socket(AF_INET, SOCK_STREAM | type_flags, 0);

	if (fd < 0)
		die(cf, "socket: %s", err_name(errno));
	set_int_opt(cf, fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(cf, "bind P%d: %s", n, err_name(errno));
	if (listen(fd, 64) < 0)
		die(cf, "listen P%d: %s", n, err_name(errno));
	return fd;
}

/* The client binds its address first: with CLIENT_ADDR not the first
 * address of its interface, the kernel would pick another source. */
int
client_socket(struct conform *cf)
{
	struct sockaddr_in me = sin_of(cf->client, 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die(cf, "socket: %s", err_name(errno));
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0)
		die(cf, "bind(client:0): %s", err_name(errno));
	return fd;
}

int
tcp_connect_to(struct conform *cf, struct in_addr a, int n)
{
	struct sockaddr_in sa = sin_of(a, P(n));
	int fd = client_socket(cf);

	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(cf, "connect P%d: %s", n, err_name(errno));
	return fd;
}

int
accept_or_die(struct conform *cf, int listener)
{
	int fd;

	do
		fd = accept(listener, NULL, NULL);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		die(cf, "accept: %s", err_name(errno));
	return fd;
}

void
set_int_opt(struct conform *cf, int fd, int level, int name, int val)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)) < 0)
		die(cf, "setsockopt(%d, %d): %s", level, name, err_name(errno));
}

uint16_t
local_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return 0;
	return ntohs(sa.sin_port);
}

ssize_t
read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return got ? (ssize_t)got : -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

ssize_t
write_full(int fd, const void *buf, size_t n)
{
	size_t put = 0;

	while (put < n) {
		ssize_t r = send(fd, (const char *)buf + put, n - put, MSG_NOSIGNAL);

		if (r < 0 && errno == ENOTSOCK)
			r = write(fd, (const char *)buf + put, n - put);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return put ? (ssize_t)put : -1;
		put += (size_t)r;
	}
	return (ssize_t)put;
}

size_t
read_to_eof(int fd, char digest[17], int *err)
{
	struct sha256 h;
	char buf[16384];
	size_t total = 0;

	*err = 0;
	sha256_init(&h);
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*err = errno;
			break;
		}
		if (r == 0)
			break;
		sha256_update(&h, buf, (size_t)r);
		total += (size_t)r;
	}
	sha256_hex16(&h, digest);
	return total;
}

/* xorshift32: the same bytes on both sides and in every run. */
void
pattern(void *buf, size_t n, uint32_t seed)
{
	uint8_t *p = buf;
	uint32_t x = seed ? seed : 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

short
wait_ev(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, -1);
	while (r < 0 && errno == EINTR);
	return r < 0 ? POLLNVAL : p.revents;
}

void
set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static void *
bg_run(void *arg)
{
	struct bg_call *bc = arg;
	char buf[16];

	do
		bc->rc = bc->accept ? accept(bc->fd, NULL, NULL) :
				      recv(bc->fd, buf, sizeof(buf), 0);
	while (bc->rc < 0 && errno == EINTR);
	bc->err = errno;
	return NULL;
}

void
bg_start(struct conform *cf, struct bg_call *bc, int fd, bool accept_it)
{
	bc->fd = fd;
	bc->accept = accept_it;
	bc->rc = -1;
	bc->err = 0;
	if (pthread_create(&bc->tid, NULL, bg_run, bc) != 0)
		die(cf, "pthread_create failed");
}

long
bg_join(struct bg_call *bc)
{
	pthread_join(bc->tid, NULL);
	errno = bc->err;
	return bc->rc;
}

/* Connections to the server's P0 one after another, each sending its id
 * (0..count-1, host order) and waiting for the one-byte 'k' that says a
 * server thread took it; returns how many were acknowledged. */
int
send_ids(struct conform *cf, uint32_t count)
{
	uint32_t id;
	int acked = 0;
	char k;

	for (id = 0; id < count; id++) {
		int fd = tcp_connect_to(cf, cf->server, 0);

		if (write_full(fd, &id, sizeof(id)) == sizeof(id) &&
		    read_full(fd, &k, 1) == 1 && k == 'k')
			acked++;
		close(fd);
	}
	return acked;
}
