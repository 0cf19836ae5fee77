/* hostile.c — a program that attaches to dptcpd as the shim does, behaves
 * for a while (listens, accepts connections, queues data), then writes bad
 * values into its own shared region: the test that "a program can only
 * hurt itself" (shm_proto.h, VALIDATION). Plain libc, like the shim.
 *
 * Usage: dptcp-hostile SOCKET PORT MODE SEED STATUS_FILE
 *   MODE cmdq    command queue prod far beyond cons
 *        evtq    event queue cons beyond what dptcpd produced, then a command
 *        op      a command with an unknown op
 *        slot    a command naming a slot/gen that is not bound
 *        txring  a connection's tx_prod beyond tx_cons + ring size
 *        rxring  a connection's rx_cons ahead of rx_prod
 *        random  random values (seeded) written over queue indices, command
 *                entries (ops, slots, generations, lengths, ports), slot
 *                indices, kick bits and words anywhere in the channels and
 *                slots, until
 *                dptcpd disconnects us
 * STATUS_FILE gets "listening", then "held N" once N connections are
 * accepted, then "disconnected after W writes" (exit 0), or the program
 * exits 1 if dptcpd did not disconnect it within 20 s (hang protection). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "shm_proto.h"

#define NCONN 3

static void *base;
static struct shm_layout lay;
static const struct shm_hdr *hdr;
static int sock = -1;
static uint32_t seq;
static const char *status_file;

static void
say(const char *fmt, unsigned long v)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", status_file);
	f = fopen(tmp, "w");
	if (f == NULL)
		exit(2);
	fprintf(f, fmt, v);
	fputc('\n', f);
	fclose(f);
	rename(tmp, status_file);
}

static void
die(const char *what)
{
	fprintf(stderr, "dptcp-hostile: %s: %s\n", what, strerror(errno));
	exit(2);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
attach(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct shm_hello h = { .magic = SHM_HELLO_MAGIC, .version = SHM_VERSION,
			       .pid = getpid() };
	struct shm_welcome w;
	union {
		char buf[CMSG_SPACE(sizeof(int) * (1 + SHM_MAX_CHANNELS))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &w, .iov_len = sizeof(w) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	int memfd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect to dptcpd");
	if (send(sock, &h, sizeof(h), 0) != sizeof(h))
		die("hello");
	if (recvmsg(sock, &mh, 0) != sizeof(w) || w.status != 0)
		die("welcome");
	cm = CMSG_FIRSTHDR(&mh);
	if (cm == NULL || cm->cmsg_type != SCM_RIGHTS)
		die("welcome without fds");
	memcpy(&memfd, CMSG_DATA(cm), sizeof(int));
	base = mmap(NULL, w.region_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		    memfd, 0);
	if (base == MAP_FAILED)
		die("mmap");
	hdr = base;
	shm_layout(hdr->n_engines, hdr->n_channels, hdr->max_sockets,
		   hdr->rx_ring_bytes, hdr->tx_ring_bytes, &lay);
}

/* dptcpd closed our Unix socket: we are disconnected. */
static int
disconnected(void)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	char b;

	if (poll(&p, 1, 0) <= 0)
		return 0;
	return recv(sock, &b, 1, MSG_DONTWAIT) <= 0;
}

static void
post(uint32_t e, const struct shm_msg *m)
{
	struct shm_q *q = shm_cmdq(base, &lay, 0, e);
	uint32_t prod = atomic_load(&q->prod);

	q->e[prod % SHM_QLEN] = *m;
	atomic_store_explicit(&q->prod, prod + 1, memory_order_release);
}

/* One command on channel 0 and its completion (well-behaved phase). */
static int
call(uint32_t e, struct shm_msg *m)
{
	struct shm_q *q = shm_evtq(base, &lay, 0, e);
	uint32_t cons = atomic_load(&q->cons);
	double limit = now_s() + 10;

	m->seq = ++seq;
	post(e, m);
	while (atomic_load_explicit(&q->prod, memory_order_acquire) == cons) {
		if (now_s() > limit || disconnected()) {
			fprintf(stderr, "dptcp-hostile: no completion\n");
			exit(2);
		}
		usleep(100);
	}
	*m = q->e[cons % SHM_QLEN];
	atomic_store_explicit(&q->cons, cons + 1, memory_order_release);
	return m->status;
}

static void
drain_events(void)
{
	uint32_t e;

	for (e = 0; e < hdr->n_engines; e++) {
		struct shm_q *q = shm_evtq(base, &lay, 0, e);

		atomic_store(&q->cons, atomic_load(&q->prod));
	}
}

static uint32_t conn_slot[NCONN], conn_eng[NCONN];

static void
behave(uint16_t port)
{
	struct shm_slot *ls = shm_slot_at(base, &lay, 0);
	struct shm_msg m;
	uint32_t e, n = 0, i;
	double limit;

	ls->waiters = 0;
	for (e = 0; e < hdr->n_engines; e++) {
		memset(&m, 0, sizeof(m));
		m.op = SHM_OP_LISTEN;
		m.slot = 0;
		m.gen = 1;
		m.port = port;
		m.arg = 16;
		if (call(e, &m) != 0) {
			fprintf(stderr, "dptcp-hostile: listen: %d\n", m.status);
			exit(2);
		}
	}
	say("listening", 0);
	limit = now_s() + 30;
	while (n < NCONN) {
		if (now_s() > limit) {
			fprintf(stderr, "dptcp-hostile: only %u connections\n", n);
			exit(2);
		}
		for (e = 0; e < hdr->n_engines && n < NCONN; e++) {
			if (atomic_load(&ls->accq[e]) == 0)
				continue;
			memset(&m, 0, sizeof(m));
			m.op = SHM_OP_ACCEPT;
			m.slot = 0;
			m.gen = 1;
			m.arg = 1 + n;
			m.arg2 = 1;
			if (call(e, &m) == 0) {
				conn_slot[n] = 1 + n;
				conn_eng[n] = e;
				n++;
			}
		}
		usleep(1000);
	}
	/* Queue some data on each (valid use of the TX ring). */
	for (i = 0; i < NCONN; i++) {
		struct shm_slot *sl = shm_slot_at(base, &lay, conn_slot[i]);
		uint8_t *tx = shm_tx_ring(base, &lay, conn_slot[i],
					  hdr->rx_ring_bytes, hdr->tx_ring_bytes);

		memset(tx, 'h', 4096);
		atomic_store_explicit(&sl->tx_prod, 4096, memory_order_release);
		shm_kick_if_idle(base, &lay, conn_eng[i], sl, conn_slot[i]);
	}
	say("held %lu", NCONN);
}

static uint32_t
rnd32(void)
{
	return ((uint32_t)random() << 16) ^ (uint32_t)random();
}

/* A random value of the kind a field might hold: small, near a limit, or
 * anything. */
static uint32_t
rnd_val(void)
{
	switch (random() % 4) {
	case 0:
		return random() % 8;
	case 1:
		return SHM_QLEN + random() % 4 - 2;
	case 2:
		return hdr->max_sockets + random() % 4 - 2;
	default:
		return rnd32();
	}
}

static void
random_write(void)
{
	uint32_t e = random() % hdr->n_engines;
	uint32_t c = random() % hdr->n_channels;
	struct shm_q *cq = shm_cmdq(base, &lay, c, e);
	uint32_t s = random() % 2 ? conn_slot[random() % NCONN] :
		     random() % hdr->max_sockets;
	struct shm_slot *sl = shm_slot_at(base, &lay, s);
	struct shm_kick *k = shm_kick_at(base, &lay, e);
	struct shm_msg m;

	switch (random() % 9) {
	case 0:                      /* a queue index */
		if (random() % 2)
			atomic_store(&cq->prod, atomic_load(&cq->cons) + rnd_val());
		else
			atomic_store(&shm_evtq(base, &lay, c, e)->cons, rnd_val());
		break;
	case 1:                      /* a command of random fields */
	case 2:
		memset(&m, 0, sizeof(m));
		m.op = random() % 2 ? random() % (SHM_OP_COUNT + 2) : rnd32();
		m.slot = random() % 2 ? conn_slot[random() % NCONN] : rnd_val();
		m.gen = random() % 2 ? 1 : rnd_val();
		m.arg = rnd_val();
		m.arg2 = rnd_val();
		m.ip = random() % 2 ? hdr->local_ip : rnd32();
		m.port = (uint16_t)rnd32();
		m.lport = (uint16_t)rnd32();
		post(e, &m);
		break;
	case 3:                      /* ring indices of a slot, then a kick */
		atomic_store(&sl->tx_prod, atomic_load(&sl->tx_cons) + rnd_val());
		shm_kick_if_idle(base, &lay, e, sl, s);
		break;
	case 4:
		atomic_store(&sl->rx_cons, atomic_load(&sl->rx_prod) - rnd_val());
		shm_kick_if_idle(base, &lay, e, sl, s);
		break;
	case 8:                      /* kick bits, any */
		atomic_store(&k->words[rnd32() % shm_kick_words(hdr->max_sockets)],
			     ((uint64_t)rnd32() << 32) | rnd32());
		atomic_store(&k->summary, ((uint64_t)rnd32() << 32) | rnd32());
		break;
	case 5:                      /* waiters: channel bits, any */
		atomic_store(&sl->waiters, ((uint64_t)rnd32() << 32) | rnd32());
		break;
	default: {                   /* a word anywhere in channels and slots */
		uint64_t words = (lay.off_data - lay.off_chan) / 4;
		uint32_t *w = (uint32_t *)((uint8_t *)base + lay.off_chan) +
			      (uint64_t)rnd32() % words;

		*(_Atomic uint32_t *)w = rnd_val();
		break;
	}
	}
}

static void
targeted(const char *mode)
{
	uint32_t e = conn_eng[0], s = conn_slot[0];
	struct shm_slot *sl = shm_slot_at(base, &lay, s);
	struct shm_q *cq = shm_cmdq(base, &lay, 0, e);
	struct shm_msg m;

	memset(&m, 0, sizeof(m));
	m.seq = ++seq;
	if (strcmp(mode, "cmdq") == 0) {
		atomic_store(&cq->prod, atomic_load(&cq->cons) + SHM_QLEN + 1 +
			     rnd32() % 100000);
	} else if (strcmp(mode, "evtq") == 0) {
		struct shm_q *eq = shm_evtq(base, &lay, 0, e);

		atomic_store(&eq->cons, atomic_load(&eq->prod) + 1 + rnd32() % 1000);
		m.op = SHM_OP_SETOPT;        /* valid: makes dptcpd look */
		m.slot = s;
		m.gen = 1;
		post(e, &m);
	} else if (strcmp(mode, "op") == 0) {
		m.op = SHM_OP_COUNT + rnd32() % 60000;
		m.slot = s;
		m.gen = 1;
		post(e, &m);
	} else if (strcmp(mode, "slot") == 0) {
		m.op = SHM_OP_CLOSE;
		m.slot = rnd32() % 2 ? rnd32() : s;
		m.gen = 2 + rnd32() % 1000;  /* never the bound generation */
		post(e, &m);
	} else if (strcmp(mode, "txring") == 0) {
		atomic_store(&sl->tx_prod, atomic_load(&sl->tx_cons) +
			     hdr->tx_ring_bytes + 1 + rnd32() % 100000);
		shm_kick_if_idle(base, &lay, e, sl, s);  /* as the shim does */
	} else if (strcmp(mode, "rxring") == 0) {
		atomic_store(&sl->rx_cons, atomic_load(&sl->rx_prod) + 1 +
			     rnd32() % 100000);
		shm_kick_if_idle(base, &lay, e, sl, s);
	} else {
		fprintf(stderr, "dptcp-hostile: unknown mode %s\n", mode);
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	unsigned long writes = 0;
	double limit;
	int rnd;

	if (argc != 6) {
		fprintf(stderr, "usage: dptcp-hostile SOCKET PORT MODE SEED STATUS_FILE\n");
		return 2;
	}
	status_file = argv[5];
	srandom((unsigned int)strtoul(argv[4], NULL, 0));
	attach(argv[1]);
	behave((uint16_t)atoi(argv[2]));
	usleep(200 * 1000);          /* let data flow a little */
	drain_events();
	rnd = strcmp(argv[3], "random") == 0;
	if (!rnd) {
		targeted(argv[3]);
		writes = 1;
	}
	limit = now_s() + 20;        /* hang protection */
	while (!disconnected()) {
		if (now_s() > limit) {
			say("NOT disconnected after %lu writes", writes);
			return 1;
		}
		if (rnd) {
			random_write();
			writes++;
			if (writes % 64 == 0)
				usleep(100);
		} else {
			usleep(1000);
		}
	}
	say("disconnected after %lu writes", writes);
	return 0;
}
