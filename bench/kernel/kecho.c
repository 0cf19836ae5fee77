/* dptcp-kecho — a TCP echo server on kernel sockets, the Linux peer of
 * dptcp-perf / dptcp-kperf benchmarks: one SO_REUSEPORT listener and one
 * edge-triggered epoll per thread, non-blocking sockets, TCP_NODELAY.
 * Echo stops reading while its echo cannot be sent (backpressure), like
 * dptcp-echo. With --resp-size it answers every --size bytes received
 * with --resp-size bytes instead (a request/response server). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KE_PROG "dptcp-kecho"
#define KE_BUF 16384
#define KE_EVENTS 256

struct econn {
	int fd;
	uint32_t off, len;           /* echo: buf[off, len) still to send */
	uint32_t req_have;           /* rr: request bytes received so far */
	uint64_t resp_owed;          /* rr: response bytes still to send */
	uint8_t buf[KE_BUF];
};

struct ethread {
	pthread_t tid;
	int ep, lfd;
	uint64_t accepted, bytes_tx;
};

static struct {
	uint32_t bind_ip;            /* host order */
	uint16_t port;
	uint32_t threads;
	uint32_t req_size, resp_size;   /* resp_size 0: echo */
	double duration_s;           /* 0: until SIGINT/SIGTERM */
	atomic_int quit;
	uint8_t txbuf[KE_BUF];
} cfg = { .threads = 1 };

static void
ec_close(struct econn *ec)
{
	close(ec->fd);               /* also leaves the epoll set */
	free(ec);
}

/* Send what is owed, then read, until the socket would block. */
static void
ec_pump(struct ethread *et, struct econn *ec)
{
	ssize_t n;

	for (;;) {
		if (cfg.resp_size == 0) {
			while (ec->off < ec->len) {
				n = send(ec->fd, ec->buf + ec->off,
					 ec->len - ec->off, MSG_NOSIGNAL);
				if (n < 0 && errno == EAGAIN)
					return;   /* EPOLLOUT follows */
				if (n < 0) {
					ec_close(ec);
					return;
				}
				ec->off += (uint32_t)n;
				et->bytes_tx += (uint64_t)n;
			}
			ec->off = ec->len = 0;
		} else {
			while (ec->resp_owed > 0) {
				size_t want = ec->resp_owed < KE_BUF ?
					(size_t)ec->resp_owed : KE_BUF;

				n = send(ec->fd, cfg.txbuf, want, MSG_NOSIGNAL);
				if (n < 0 && errno == EAGAIN)
					return;
				if (n < 0) {
					ec_close(ec);
					return;
				}
				ec->resp_owed -= (uint64_t)n;
				et->bytes_tx += (uint64_t)n;
			}
		}
		n = recv(ec->fd, ec->buf, KE_BUF, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {                /* EOF (all sent): FIN; or error */
			ec_close(ec);
			return;
		}
		if (cfg.resp_size == 0) {
			ec->len = (uint32_t)n;
		} else {
			ec->req_have += (uint32_t)n;
			while (ec->req_have >= cfg.req_size) {
				ec->req_have -= cfg.req_size;
				ec->resp_owed += cfg.resp_size;
			}
		}
	}
}

static void
et_accept(struct ethread *et)
{
	struct epoll_event ev;
	struct econn *ec;
	int fd, one = 1;

	for (;;) {
		fd = accept4(et->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;          /* EAGAIN, or an aborted connection */
		ec = malloc(sizeof(*ec));
		if (ec == NULL) {
			close(fd);
			continue;
		}
		memset(ec, 0, offsetof(struct econn, buf));
		ec->fd = fd;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = ec;
		if (epoll_ctl(et->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			ec_close(ec);
			continue;
		}
		et->accepted++;
		ec_pump(et, ec);
	}
}

static int
et_listen(struct ethread *et)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int one = 1;

	sa.sin_addr.s_addr = htonl(cfg.bind_ip);
	sa.sin_port = htons(cfg.port);
	et->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	et->ep = epoll_create1(EPOLL_CLOEXEC);
	if (et->lfd < 0 || et->ep < 0 ||
	    setsockopt(et->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(et->lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(et->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(et->lfd, 4096) < 0 ||
	    epoll_ctl(et->ep, EPOLL_CTL_ADD, et->lfd, &ev) < 0) {
		fprintf(stderr, "%s: listen on port %u: %s\n", KE_PROG,
			cfg.port, strerror(errno));
		return -1;
	}
	return 0;
}

static void *
ethread_main(void *arg)
{
	struct ethread *et = arg;
	struct epoll_event evs[KE_EVENTS];
	int n, k;

	while (!atomic_load(&cfg.quit)) {
		n = epoll_wait(et->ep, evs, KE_EVENTS, 100);
		for (k = 0; k < n; k++) {
			if (evs[k].data.ptr == NULL)
				et_accept(et);
			else
				ec_pump(et, evs[k].data.ptr);
		}
	}
	return NULL;
}

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&cfg.quit, 1);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: %s --port P [--bind A.B.C.D] [--threads N] [--duration S]\n"
		"          [--size B --resp-size B]\n"
		"  --port P         TCP port to listen on (required)\n"
		"  --bind A.B.C.D   address to listen on (default: all)\n"
		"  --threads N      threads, one SO_REUSEPORT listener each (default 1)\n"
		"  --duration S     exit after S seconds (default: at SIGINT/SIGTERM)\n"
		"  --resp-size B    answer each --size B request bytes (default 64) with\n"
		"                   B response bytes instead of echoing\n",
		KE_PROG);
}

static int
parse_ulong(const char *v, unsigned long lo, unsigned long hi,
	    unsigned long *out)
{
	char *end;

	if (v == NULL || *v == '\0' || *v == '-')
		return -1;
	errno = 0;
	*out = strtoul(v, &end, 10);
	return errno == 0 && *end == '\0' && *out >= lo && *out <= hi ? 0 : -1;
}

static int
parse_args(int argc, char **argv)
{
	unsigned long x;
	struct in_addr a;
	char *end;
	int i;

	cfg.req_size = 64;
	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(o, "--port") == 0 &&
			   parse_ulong(v, 1, 65535, &x) == 0) {
			cfg.port = (uint16_t)x;
		} else if (strcmp(o, "--threads") == 0 &&
			   parse_ulong(v, 1, 1024, &x) == 0) {
			cfg.threads = (uint32_t)x;
		} else if (strcmp(o, "--size") == 0 &&
			   parse_ulong(v, 1, 1ul << 26, &x) == 0) {
			cfg.req_size = (uint32_t)x;
		} else if (strcmp(o, "--resp-size") == 0 &&
			   parse_ulong(v, 1, 1ul << 26, &x) == 0) {
			cfg.resp_size = (uint32_t)x;
		} else if (strcmp(o, "--bind") == 0 && v != NULL &&
			   inet_pton(AF_INET, v, &a) == 1) {
			cfg.bind_ip = ntohl(a.s_addr);
		} else if (strcmp(o, "--duration") == 0 && v != NULL &&
			   (cfg.duration_s = strtod(v, &end), *end == '\0') &&
			   cfg.duration_s >= 0) {
		} else {
			fprintf(stderr, "%s: bad option or value: '%s'%s%s\n",
				KE_PROG, o, v ? " " : "", v ? v : "");
			return -1;
		}
		i++;
	}
	if (cfg.port == 0) {
		fprintf(stderr, "%s: --port P is required\n", KE_PROG);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct ethread *ets;
	struct sigaction sa;
	struct timespec t0, t;
	uint64_t accepted = 0, bytes = 0;
	uint32_t i, started = 0;
	int r;

	if (parse_args(argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	memset(cfg.txbuf, 'r', sizeof(cfg.txbuf));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ets = calloc(cfg.threads, sizeof(*ets));
	if (ets == NULL)
		return 1;
	for (i = 0; i < cfg.threads; i++)
		if (et_listen(&ets[i]) < 0)
			return 1;
	for (i = 0; i < cfg.threads; i++) {
		r = pthread_create(&ets[i].tid, NULL, ethread_main, &ets[i]);
		if (r != 0) {
			fprintf(stderr, "%s: pthread_create: %s\n", KE_PROG,
				strerror(r));
			atomic_store(&cfg.quit, 1);
			break;
		}
		started++;
	}
	fprintf(stderr, "%s: listening on port %u, %u thread(s), %s\n",
		KE_PROG, cfg.port, started, cfg.resp_size ? "request/response" :
		"echo");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!atomic_load(&cfg.quit)) {
		usleep(100000);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (cfg.duration_s > 0 &&
		    (double)(t.tv_sec - t0.tv_sec) +
		    (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= cfg.duration_s)
			atomic_store(&cfg.quit, 1);
	}
	for (i = 0; i < started; i++) {
		pthread_join(ets[i].tid, NULL);
		accepted += ets[i].accepted;
		bytes += ets[i].bytes_tx;
	}
	fprintf(stderr, "%s: %" PRIu64 " connections accepted, %" PRIu64
		" bytes sent\n", KE_PROG, accepted, bytes);
	return 0;
}
