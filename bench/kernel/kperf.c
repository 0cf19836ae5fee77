/* dptcp-kperf — the kernel-socket twin of dptcp-perf, for a Linux baseline
 * measured with the same modes, options and report: rr, crr and bulk over
 * non-blocking sockets (TCP_NODELAY), one edge-triggered epoll per thread;
 * each thread owns its connections, counters and histogram, merged at the
 * end. Timestamps: CLOCK_MONOTONIC. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
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

#include "perf_report.h"

#define KP_PROG "dptcp-kperf"
#define KP_RXBUF 65536
#define KP_EVENTS 256
#define KP_SCAN_NS 1000000ull        /* timeouts, reconnects, end of run */
#define KP_RETRY_NS 10000000ull      /* after an error, before reconnecting */

enum kc_state { KC_IDLE, KC_CONNECTING, KC_ACTIVE };

struct kconn {
	int fd;                      /* -1 when KC_IDLE */
	enum kc_state st;
	uint64_t t_start, t_progress, retry_at;   /* ns */
	uint32_t sent, rcvd;
};

struct kthread {
	pthread_t tid;
	int ep;
	struct kconn *conns;
	uint32_t nconns;
	struct perf_counters ctr;
	uint8_t rxbuf[KP_RXBUF];
};

static struct {
	struct perf_opts o;
	uint64_t t_measure, t_end;   /* ns */
	uint64_t timeout_ns;
	uint8_t *txbuf;
	struct sockaddr_in sa;
	atomic_int quit;             /* SIGINT/SIGTERM */
	char cc[16];                 /* congestion control in use */
} run;

static inline uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline bool
in_window(uint64_t t)
{
	return t >= run.t_measure && t < run.t_end;
}

/* Began and ended inside the window (see dptcp-perf's txn_in_window). */
static inline bool
txn_in_window(uint64_t start, uint64_t end)
{
	return start >= run.t_measure && end < run.t_end;
}

static void
kc_idle(struct kconn *kc, uint64_t retry_at)
{
	kc->fd = -1;
	kc->st = KC_IDLE;
	kc->retry_at = retry_at;
}

/* Our side ends the connection: FIN (close) or RST (SO_LINGER 0). */
static void
kc_close(struct kconn *kc, bool rst, uint64_t retry_at)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (kc->fd >= 0) {
		if (rst)
			setsockopt(kc->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(kc->fd);
	}
	kc_idle(kc, retry_at);
}

static void
kc_fail(struct kconn *kc, uint64_t *counter, uint64_t now)
{
	(*counter)++;
	kc_close(kc, true, now + KP_RETRY_NS);
}

static void
kc_open(struct kthread *kt, struct kconn *kc, uint64_t now)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP |
					    EPOLLET, .data.ptr = kc };
	int one = 1, fd;

	kc->sent = kc->rcvd = 0;
	kc->t_start = kc->t_progress = now;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		kt->ctr.err_connect++;
		kc_idle(kc, now + KP_RETRY_NS);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (run.o.cc[0] != '\0' &&
	    setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, run.o.cc,
		       (socklen_t)strlen(run.o.cc)) < 0) {
		kc->fd = fd;
		kc_fail(kc, &kt->ctr.err_other, now);
		return;
	}
	kc->fd = fd;
	kc->st = KC_CONNECTING;
	if (connect(fd, (struct sockaddr *)&run.sa, sizeof(run.sa)) < 0 &&
	    errno != EINPROGRESS)
		kc_fail(kc, errno == EADDRNOTAVAIL ? &kt->ctr.err_no_port :
			&kt->ctr.err_connect, now);
	else if (epoll_ctl(kt->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		kc_fail(kc, &kt->ctr.err_other, now);
}

static uint64_t *
errno_counter(struct kthread *kt, int err)
{
	switch (err) {
	case ECONNRESET:
	case EPIPE:
		return &kt->ctr.err_reset;
	case ETIMEDOUT:
		return &kt->ctr.err_timeout;
	default:
		return &kt->ctr.err_other;
	}
}

/* Sends what the mode wants sent. false when the connection failed. */
static bool
kc_send(struct kthread *kt, struct kconn *kc, uint64_t now, bool *moved)
{
	const struct perf_opts *o = &run.o;
	size_t want;
	ssize_t n;

	while (kc->sent < o->size) {
		want = o->size - kc->sent;
		n = send(kc->fd, run.txbuf + kc->sent, want, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;   /* EPOLLOUT follows */
			kc_fail(kc, errno_counter(kt, errno), now);
			return false;
		}
		*moved = true;
		kc->sent += (uint32_t)n;
		if (in_window(now))
			kt->ctr.bytes_tx += (uint64_t)n;
		if (o->mode == PERF_BULK && kc->sent == o->size) {
			kc->sent = 0;
			if (in_window(now))
				kt->ctr.transactions++;
		}
		if ((size_t)n < want)
			return true;
	}
	return true;
}

/* Moves bytes until the socket would block (edge-triggered epoll needs
 * exactly that); completes transactions. Mirrors dptcp-perf's pc_pump(). */
static void
kc_pump(struct kthread *kt, struct kconn *kc)
{
	const struct perf_opts *o = &run.o;
	bool moved, eof;
	uint64_t now, t;
	ssize_t n;

	while (kc->fd >= 0 && kc->st == KC_ACTIVE) {
		now = now_ns();
		moved = eof = false;
		if (!kc_send(kt, kc, now, &moved))
			return;
		for (;;) {
			n = recv(kc->fd, kt->rxbuf, KP_RXBUF, 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n == 0) {
				eof = true;
				break;
			}
			if (n < 0) {
				kc_fail(kc, errno_counter(kt, errno), now);
				return;
			}
			moved = true;
			kc->rcvd += (uint32_t)n;
			if (in_window(now))
				kt->ctr.bytes_rx += (uint64_t)n;
		}
		if (moved)
			kc->t_progress = now;
		if (o->mode == PERF_BULK || kc->sent < o->size ||
		    kc->rcvd < o->resp_size) {
			if (eof)
				kc_fail(kc, &kt->ctr.err_closed, now);
			return;
		}
		t = now_ns();
		if (txn_in_window(kc->t_start, t)) {
			kt->ctr.transactions++;
			perf_hist_record(&kt->ctr.hist, t - kc->t_start);
		}
		kc->rcvd -= o->resp_size;
		kc->sent = 0;
		if (o->mode == PERF_CRR) {
			kc_close(kc, o->close == PERF_CLOSE_RST, t);
			if (t < run.t_end && !atomic_load(&run.quit))
				kc_open(kt, kc, t);
			return;
		}
		if (eof) {
			kc_fail(kc, &kt->ctr.err_closed, t);
			return;
		}
		kc->t_start = kc->t_progress = t;
	}
}

static void
kc_event(struct kthread *kt, struct kconn *kc, uint32_t events)
{
	int err = 0;
	socklen_t len = sizeof(err);
	uint64_t now;

	if (kc->st == KC_CONNECTING) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		now = now_ns();
		if (getsockopt(kc->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			kc_fail(kc, err == ETIMEDOUT ? &kt->ctr.err_timeout :
				&kt->ctr.err_connect, now);
			return;
		}
		kc->st = KC_ACTIVE;
		kt->ctr.connects++;
		kc->t_progress = now;
		if (run.o.mode != PERF_CRR)
			kc->t_start = now;
	}
	kc_pump(kt, kc);
}

static void *
kthread_main(void *arg)
{
	struct kthread *kt = arg;
	struct epoll_event evs[KP_EVENTS];
	uint64_t now = now_ns(), next_scan = now + KP_SCAN_NS;
	uint32_t i;
	int n, k;

	for (i = 0; i < kt->nconns; i++)
		kc_open(kt, &kt->conns[i], now);
	for (;;) {
		n = epoll_wait(kt->ep, evs, KP_EVENTS, run.o.spin ? 0 : 1);
		for (k = 0; k < n; k++)
			kc_event(kt, evs[k].data.ptr, evs[k].events);
		now = now_ns();
		if (now < next_scan)
			continue;
		next_scan = now + KP_SCAN_NS;
		if (now >= run.t_end || atomic_load(&run.quit))
			break;
		for (i = 0; i < kt->nconns; i++) {
			struct kconn *kc = &kt->conns[i];

			if (kc->st == KC_IDLE) {
				if (now >= kc->retry_at)
					kc_open(kt, kc, now);
			} else if (now > kc->t_progress &&
				   now - kc->t_progress > run.timeout_ns) {
				kc_fail(kc, &kt->ctr.err_timeout, now);
			}
		}
	}
	for (i = 0; i < kt->nconns; i++)
		kc_close(&kt->conns[i], run.o.close == PERF_CLOSE_RST, 0);
	return NULL;
}

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&run.quit, 1);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s --server A.B.C.D:PORT [options]\n", KP_PROG);
	perf_opts_usage(f, PERF_OPT_KERNEL);
}

/* The congestion control the connections will use: --cc set on a probe
 * socket (refused names fail here, not connection by connection), or
 * the namespace's default. */
static int
probe_cc(char *name, size_t len)
{
	socklen_t n = (socklen_t)len;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", KP_PROG, strerror(errno));
		return -1;
	}
	if (run.o.cc[0] != '\0' &&
	    setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, run.o.cc,
		       (socklen_t)strlen(run.o.cc)) < 0) {
		fprintf(stderr, "%s: --cc '%s': %s (see net.ipv4.tcp_available_congestion_control)\n",
			KP_PROG, run.o.cc, strerror(errno));
		close(fd);
		return -1;
	}
	memset(name, 0, len);
	if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &n) < 0)
		snprintf(name, len, "?");
	name[len - 1] = '\0';
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct perf_counters **parts;
	struct perf_counters *total;
	struct kthread **kts;
	struct perf_result res;
	struct sigaction sa;
	uint32_t share, extra, t, i;
	uint64_t t_stop;
	int r, code;

	perf_opts_defaults(&run.o);
	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		r = perf_opt_parse(argc, argv, &a, &run.o, KP_PROG,
				   PERF_OPT_KERNEL);
		if (r == 0)
			fprintf(stderr, "%s: unknown option '%s'\n", KP_PROG,
				argv[a]);
		if (r <= 0) {
			usage(stderr);
			return 2;
		}
	}
	if (perf_opts_check(&run.o, KP_PROG) < 0) {
		usage(stderr);
		return 2;
	}
	if (probe_cc(run.cc, sizeof(run.cc)) < 0)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	run.sa.sin_family = AF_INET;
	run.sa.sin_addr.s_addr = htonl(run.o.server_ip);
	run.sa.sin_port = htons(run.o.server_port);
	run.timeout_ns = (uint64_t)(run.o.timeout_s * 1e9);
	run.txbuf = malloc(run.o.size);
	kts = calloc(run.o.threads, sizeof(*kts));
	total = calloc(1, sizeof(*total));
	parts = calloc(run.o.threads, sizeof(*parts));
	if (run.txbuf == NULL || kts == NULL || total == NULL ||
	    parts == NULL) {
		fprintf(stderr, "%s: out of memory\n", KP_PROG);
		return 1;
	}
	for (i = 0; i < run.o.size; i++)
		run.txbuf[i] = (uint8_t)('a' + i % 26);
	share = run.o.conns / run.o.threads;
	extra = run.o.conns % run.o.threads;
	for (t = 0; t < run.o.threads; t++) {
		kts[t] = calloc(1, sizeof(*kts[t]));
		if (kts[t] == NULL)
			return 1;
		kts[t]->nconns = share + (t < extra ? 1 : 0);
		kts[t]->conns = calloc(kts[t]->nconns + 1, sizeof(struct kconn));
		kts[t]->ep = epoll_create1(EPOLL_CLOEXEC);
		if (kts[t]->conns == NULL || kts[t]->ep < 0) {
			fprintf(stderr, "%s: out of memory or epoll: %s\n",
				KP_PROG, strerror(errno));
			return 1;
		}
		for (i = 0; i < kts[t]->nconns; i++)
			kc_idle(&kts[t]->conns[i], 0);
	}
	run.t_measure = now_ns() + (uint64_t)(run.o.warmup_s * 1e9);
	run.t_end = run.t_measure + (uint64_t)(run.o.duration_s * 1e9);
	for (t = 0; t < run.o.threads; t++) {
		r = pthread_create(&kts[t]->tid, NULL, kthread_main, kts[t]);
		if (r != 0) {
			fprintf(stderr, "%s: pthread_create: %s\n", KP_PROG,
				strerror(r));
			atomic_store(&run.quit, 1);
			run.o.threads = t;
			break;
		}
	}
	for (t = 0; t < run.o.threads; t++) {
		pthread_join(kts[t]->tid, NULL);
		perf_counters_merge(total, &kts[t]->ctr);
		parts[t] = &kts[t]->ctr;
	}
	t_stop = now_ns();
	if (t_stop > run.t_end)
		t_stop = run.t_end;
	res = (struct perf_result){
		.tool = KP_PROG,
		.stack = "linux",
		.opts = &run.o,
		.engines = run.o.threads,
		.duration_s = t_stop > run.t_measure ?
			(double)(t_stop - run.t_measure) / 1e9 : 0,
		.c = total,
		.parts = parts,
		.nparts = run.o.threads,
		.cc = run.cc,
	};
	perf_report(stdout, &res);
	code = perf_exit_code(&res);
	for (t = 0; t < run.o.threads; t++) {
		close(kts[t]->ep);
		free(kts[t]->conns);
		free(kts[t]);
	}
	free(kts);
	free(parts);
	free(total);
	free(run.txbuf);
	return code;
}
