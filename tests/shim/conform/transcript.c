/* transcript.c — how results are written so that two runs (the kernel,
 * dptcp under dptcp-run) can be diffed: return values, errno names, event
 * masks by name, addresses by role and ports by scenario slot; never fd
 * numbers, timings or ephemeral values. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <arpa/inet.h>

#include "conform.h"
#include "sha256.h"

#define RING 8
#define SLOT 160

/* Per thread: a worker thread may format a result the main thread prints. */
static char *
slot(void)
{
	static __thread char ring[RING][SLOT];
	static __thread unsigned next;

	return ring[next++ % RING];
}

void
say(struct conform *cf, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", cf->scenario);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void
die(struct conform *cf, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("%s: FATAL %s\n", cf->scenario, msg);
	fflush(stdout);
	fprintf(stderr, "conform %s: %s: FATAL %s\n",
		cf->role == ROLE_SERVER ? "server" : "client", cf->scenario, msg);
	exit(1);
}

const char *
err_name(int err)
{
	const char *n;
	char *s;

	if (err == 0)
		return "0";
	n = strerrorname_np(err);
	if (n != NULL)
		return n;
	s = slot();
	snprintf(s, SLOT, "errno%d", err);
	return s;
}

const char *
res(long rc)
{
	int err = errno;
	char *s = slot();

	if (rc < 0)
		snprintf(s, SLOT, "%ld %s", rc, err_name(err));
	else
		snprintf(s, SLOT, "%ld", rc);
	return s;
}

const char *
resfd(long rc)
{
	int err = errno;
	char *s = slot();

	if (rc < 0)
		snprintf(s, SLOT, "%ld %s", rc, err_name(err));
	else
		snprintf(s, SLOT, "fd");
	return s;
}

struct bit_name {
	uint32_t bit;
	const char *name;
};

static const char *
bits_s(uint32_t v, const struct bit_name *names, size_t n)
{
	char *s = slot();
	size_t i, len = 0;

	s[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!(v & names[i].bit))
			continue;
		len += (size_t)snprintf(s + len, SLOT - len, "%s%s",
					len ? "|" : "", names[i].name);
		v &= ~names[i].bit;
	}
	if (v != 0)
		len += (size_t)snprintf(s + len, SLOT - len, "%s0x%x",
					len ? "|" : "", v);
	if (len == 0)
		snprintf(s, SLOT, "0");
	return s;
}

const char *
poll_ev(short ev)
{
	static const struct bit_name n[] = {
		{ POLLIN, "IN" }, { POLLPRI, "PRI" }, { POLLOUT, "OUT" },
		{ POLLERR, "ERR" }, { POLLHUP, "HUP" }, { POLLNVAL, "NVAL" },
		{ POLLRDNORM, "RDNORM" }, { POLLRDBAND, "RDBAND" },
		{ POLLWRNORM, "WRNORM" }, { POLLWRBAND, "WRBAND" },
		{ POLLMSG, "MSG" }, { POLLRDHUP, "RDHUP" },
	};

	return bits_s((uint16_t)ev, n, sizeof(n) / sizeof(n[0]));
}

const char *
epoll_ev(uint32_t ev)
{
	static const struct bit_name n[] = {
		{ EPOLLIN, "IN" }, { EPOLLPRI, "PRI" }, { EPOLLOUT, "OUT" },
		{ EPOLLERR, "ERR" }, { EPOLLHUP, "HUP" },
		{ EPOLLRDNORM, "RDNORM" }, { EPOLLRDBAND, "RDBAND" },
		{ EPOLLWRNORM, "WRNORM" }, { EPOLLWRBAND, "WRBAND" },
		{ EPOLLMSG, "MSG" }, { EPOLLRDHUP, "RDHUP" },
		{ EPOLLEXCLUSIVE, "EXCLUSIVE" }, { EPOLLWAKEUP, "WAKEUP" },
		{ EPOLLONESHOT, "ONESHOT" }, { EPOLLET, "ET" },
	};

	return bits_s(ev, n, sizeof(n) / sizeof(n[0]));
}

const char *
fl_s(int flags)
{
	static const struct bit_name n[] = {
		{ O_NONBLOCK, "O_NONBLOCK" }, { O_APPEND, "O_APPEND" },
		{ O_ASYNC, "O_ASYNC" }, { O_DIRECT, "O_DIRECT" },
		{ O_NOATIME, "O_NOATIME" },
	};
	const char *acc, *rest;
	char *s = slot();

	if (flags < 0)
		return res(flags);
	switch (flags & O_ACCMODE) {
	case O_RDONLY: acc = "O_RDONLY"; break;
	case O_WRONLY: acc = "O_WRONLY"; break;
	default: acc = "O_RDWR"; break;
	}
	rest = bits_s((uint32_t)(flags & ~O_ACCMODE), n, sizeof(n) / sizeof(n[0]));
	if (strcmp(rest, "0") == 0)
		snprintf(s, SLOT, "%s", acc);
	else
		snprintf(s, SLOT, "%s|%s", acc, rest);
	return s;
}

const char *
fd_s(int flags)
{
	static const struct bit_name n[] = { { FD_CLOEXEC, "FD_CLOEXEC" } };

	if (flags < 0)
		return res(flags);
	return bits_s((uint32_t)flags, n, 1);
}

const char *
port_s(struct conform *cf, uint16_t port)
{
	int first = cf->base + cf->index * PORTS_PER_SCENARIO;
	char *s = slot();

	if (port == 0)
		return "0";
	if (port >= first && port < first + PORTS_PER_SCENARIO) {
		snprintf(s, SLOT, "P%d", port - first);
		return s;
	}
	return "ephemeral";
}

const char *
addr_s(struct conform *cf, const struct sockaddr_in *sa, socklen_t len)
{
	const char *who;
	char *s = slot();

	if (len < sizeof(*sa) || sa->sin_family != AF_INET) {
		snprintf(s, SLOT, "family %d len %u", sa->sin_family, (unsigned)len);
		return s;
	}
	if (sa->sin_addr.s_addr == cf->server.s_addr)
		who = "server";
	else if (sa->sin_addr.s_addr == cf->client.s_addr)
		who = "client";
	else if (sa->sin_addr.s_addr == htonl(INADDR_ANY))
		who = "any";
	else
		who = "other";
	snprintf(s, SLOT, "AF_INET %s:%s", who, port_s(cf, ntohs(sa->sin_port)));
	return s;
}

const char *
sha_s(const void *buf, size_t n)
{
	struct sha256 h;
	char *s = slot();

	sha256_init(&h);
	sha256_update(&h, buf, n);
	sha256_hex16(&h, s);
	return s;
}

const char *
yes(bool b)
{
	return b ? "yes" : "NO";
}
