/* dptcpd_ctl.c — dptcpd's control thread (a plain pthread, not an engine):
 * accepts programs on the Unix socket, makes each one's shared region
 * (a sealed memfd) and doorbells, hands them over with SCM_RIGHTS, and
 * tells the engines through their SPSC rings when a program arrives and
 * when it is gone. A program's memory is unmapped only after every engine
 * has said it let go (shm_proto.h, "PROGRAM DEATH"). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_ring.h>

#include "dp.h"
#include "dptcpd.h"

#define CTL_POLL_MS 10
#define CTL_MAX_PROGS 1024

static pthread_t ctl_thread;
static int ctl_lsock = -1;
static struct shim_prog *ctl_progs;
static uint32_t ctl_next_id = 1;

static void
ctl_send_eng_members(struct shim_daemon *d, unsigned int e,
		     enum shim_ctl_type t, struct shim_prog *p, uint32_t from,
		     uint32_t to)
{
	struct shim_ctl_msg *m = malloc(sizeof(*m));

	while (m == NULL) {          /* control path: wait for memory */
		usleep(1000);
		m = malloc(sizeof(*m));
	}
	m->type = t;
	m->engine = e;
	m->prog = p;
	m->from = from;
	m->to = to;
	while (rte_ring_enqueue(d->to_eng[e], m) != 0)
		usleep(100);         /* the engine drains it every iteration */
}

static void
ctl_send_eng(struct shim_daemon *d, unsigned int e, enum shim_ctl_type t,
	     struct shim_prog *p)
{
	ctl_send_eng_members(d, e, t, p, 0, 0);
}

static void
prog_free(struct shim_prog *p)
{
	unsigned int c;

	for (c = 0; c < p->n_channels; c++)
		if (p->doorbell[c] >= 0)
			close(p->doorbell[c]);
	if (p->base != NULL)
		munmap(p->base, p->lay.region_bytes);
	for (c = 0; c < SHM_MAX_MEMBERS; c++)
		if (p->sock[c] >= 0)
			close(p->sock[c]);
	free(p);
}

/* The program is gone (or misbehaved): every engine lets go of it. */
static void
prog_detach(struct shim_daemon *d, struct shim_prog *p)
{
	unsigned int e, m;

	if (p->detaching)
		return;
	p->detaching = true;
	for (m = 0; m < SHM_MAX_MEMBERS; m++)
		if (p->sock[m] >= 0) {
			close(p->sock[m]);
			p->sock[m] = -1;
		}
	p->members = 0;
	shim_ports_prog_gone(p);
	if (p->fork_to >= 0)
		p->fork_to = -1;     /* its socket is closed: the child sees it */
	for (e = 0; e < d->n_engines; e++)
		ctl_send_eng(d, e, SHIM_MSG_DETACH, p);
	DP_LOG(INFO, "shim: program %u (pid %d) gone; engines letting go",
	       p->id, (int)p->pid);
}

static void
prog_unlink(struct shim_prog *p)
{
	struct shim_prog **pp;

	for (pp = &ctl_progs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

static void
prog_maybe_free(struct shim_daemon *d, struct shim_prog *p)
{
	if (!p->detaching || p->acks < d->n_engines)
		return;
	prog_unlink(p);
	atomic_fetch_sub(&d->programs_now, 1);
	atomic_fetch_add(&d->programs_detached, 1);
	DP_LOG(INFO, "shim: program %u (pid %d): region reclaimed", p->id,
	       (int)p->pid);
	prog_free(p);
}

/* Every engine has given the new member its references: tell it (the
 * parent waits for this before fork() goes on, see shm_proto.h "FORK"). */
static void
ctl_fork_done(struct shim_prog *p, int status)
{
	struct shm_fork_ack a = { .magic = SHM_FORK_MAGIC, .status = status };
	int m = p->fork_to;

	p->fork_to = -1;
	if (m < 0 || p->sock[m] < 0)
		return;
	a.member = (uint32_t)m;
	if (send(p->sock[m], &a, sizeof(a), MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)sizeof(a))
		DP_LOG(WARNING, "shim: program %u: fork answer lost", p->id);
}

static void
ctl_from_engines(struct shim_daemon *d)
{
	struct shim_ctl_msg *m;
	unsigned int e;

	for (e = 0; e < d->n_engines; e++) {
		while (rte_ring_dequeue(d->from_eng[e], (void **)&m) == 0) {
			struct shim_prog *p = m->prog;

			if (m->type == SHIM_MSG_DETACHED) {
				p->acks++;
				prog_maybe_free(d, p);
			} else if (m->type == SHIM_MSG_FORKED) {
				if (++p->fork_acks == d->n_engines)
					ctl_fork_done(p, 0);
			} else if (m->type == SHIM_MSG_VIOLATION) {
				prog_detach(d, p);
				prog_maybe_free(d, p);
			}
			free(m);
		}
	}
}

static int
ctl_make_region(struct shim_daemon *d, struct shim_prog *p, int *memfd)
{
	struct shm_hdr *h;
	int fd;

	shm_layout(d->n_engines, d->n_channels, d->cfg.max_sockets,
		   d->cfg.rx_ring_bytes, d->cfg.tx_ring_bytes, &p->lay);
	fd = memfd_create("dptcp-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)p->lay.region_bytes) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	p->base = mmap(NULL, p->lay.region_bytes, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);
	if (p->base == MAP_FAILED) {
		int err = -errno;

		p->base = NULL;
		close(fd);
		return err;
	}
	h = p->base;
	h->version = SHM_VERSION;
	h->prog_id = p->id;
	h->region_bytes = p->lay.region_bytes;
	h->n_engines = d->n_engines;
	h->n_channels = d->n_channels;
	h->max_sockets = d->cfg.max_sockets;
	h->qlen = SHM_QLEN;
	h->rx_ring_bytes = d->cfg.rx_ring_bytes;
	h->tx_ring_bytes = d->cfg.tx_ring_bytes;
	h->spin_us = d->cfg.spin_us;
	h->local_ip = d->local_ip;
	h->prefix_len = d->prefix_len;
	h->gateway = d->gateway;
	h->off_chan = p->lay.off_chan;
	h->chan_bytes = p->lay.chan_bytes;
	h->off_slots = p->lay.off_slots;
	h->slot_bytes = p->lay.slot_bytes;
	h->off_data = p->lay.off_data;
	atomic_thread_fence(memory_order_release);
	h->magic = SHM_MAGIC;
	p->n_engines = d->n_engines;
	p->n_channels = d->n_channels;
	p->max_sockets = d->cfg.max_sockets;
	p->rx_bytes = d->cfg.rx_ring_bytes;
	p->tx_bytes = d->cfg.tx_ring_bytes;
	p->local_ip = d->local_ip;
	*memfd = fd;
	return 0;
}

static int
ctl_welcome(struct shim_prog *p, int memfd, int status)
{
	struct shm_welcome w = {
		.magic = SHM_HELLO_MAGIC,
		.status = status,
		.region_bytes = status == 0 ? p->lay.region_bytes : 0,
		.n_channels = status == 0 ? p->n_channels : 0,
		.prog_id = p->id,
	};
	union {
		char buf[CMSG_SPACE(sizeof(int) * (1 + SHM_MAX_CHANNELS))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &w, .iov_len = sizeof(w) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	int *fds;
	unsigned int c;

	if (status == 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (1 + p->n_channels));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (1 + p->n_channels));
		fds = (int *)CMSG_DATA(cm);
		fds[0] = memfd;
		for (c = 0; c < p->n_channels; c++)
			fds[1 + c] = p->doorbell[c];
	}
	return sendmsg(p->sock[0], &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(w) ?
	       0 : -errno;
}

static void
ctl_accept(struct shim_daemon *d)
{
	struct timeval tv = { .tv_sec = 2 };
	struct shm_hello hello;
	struct shim_prog *p;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int s, memfd = -1, ret;
	unsigned int c, e, n = 0;

	s = accept4(ctl_lsock, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		return;
	for (p = ctl_progs; p != NULL; p = p->next)
		n++;
	p = calloc(1, sizeof(*p));
	if (p == NULL || n >= CTL_MAX_PROGS) {
		free(p);
		close(s);
		atomic_fetch_add(&d->attach_errors, 1);
		return;
	}
	for (c = 0; c < SHM_MAX_MEMBERS; c++)
		p->sock[c] = -1;
	p->sock[0] = s;
	p->members = 1;
	p->fork_to = -1;
	p->id = ctl_next_id++;
	for (c = 0; c < SHM_MAX_CHANNELS; c++)
		p->doorbell[c] = -1;
	/* A program that connects and says nothing must not stall us. */
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (recv(s, &hello, sizeof(hello), 0) != (ssize_t)sizeof(hello) ||
	    hello.magic != SHM_HELLO_MAGIC || hello.version != SHM_VERSION) {
		DP_LOG(WARNING, "shim: a program sent no valid hello; refused");
		ret = -EPROTO;
		goto fail;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0) {
		p->pid = cred.pid;
		p->uid = cred.uid;
	}
	ret = ctl_make_region(d, p, &memfd);
	for (c = 0; ret == 0 && c < d->n_channels; c++) {
		p->doorbell[c] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (p->doorbell[c] < 0)
			ret = -errno;
	}
	if (ret == 0)
		ret = ctl_welcome(p, memfd, 0);
	if (memfd >= 0)
		close(memfd);        /* the mapping stays */
	if (ret < 0)
		goto fail;
	p->next = ctl_progs;
	ctl_progs = p;
	for (e = 0; e < d->n_engines; e++)
		ctl_send_eng(d, e, SHIM_MSG_ATTACH, p);
	atomic_fetch_add(&d->programs_attached, 1);
	atomic_fetch_add(&d->programs_now, 1);
	DP_LOG(INFO, "shim: program %u (pid %d) attached: region %llu bytes, %u channels",
	       p->id, (int)p->pid, (unsigned long long)p->lay.region_bytes,
	       p->n_channels);
	return;
fail:
	atomic_fetch_add(&d->attach_errors, 1);
	if (ret != -EPROTO)
		DP_LOG(ERR, "shim: attaching pid %d failed: %s", (int)p->pid,
		       strerror(-ret));
	ctl_welcome(p, -1, ret);
	prog_free(p);
}

/* Member m's socket closed. The last one: the program is gone. Else only
 * m's references go (shm_proto.h "FORK"), and its channel claims. */
static void
ctl_member_gone(struct shim_daemon *d, struct shim_prog *p, unsigned int m)
{
	unsigned int e, c;

	close(p->sock[m]);
	p->sock[m] = -1;
	p->members &= ~(1ull << m);
	if (p->members == 0) {
		prog_detach(d, p);
		return;
	}
	for (c = 0; c < p->n_channels; c++) {
		struct shm_chan *ch = shm_chan_at(p->base, &p->lay, c);
		uint32_t want = m + 1;

		atomic_compare_exchange_strong(&ch->claimed, &want, 0);
	}
	shim_ports_member_gone(p, m);
	for (e = 0; e < d->n_engines; e++)
		ctl_send_eng_members(d, e, SHIM_MSG_MEMBER_GONE, p, m, 0);
	DP_LOG(INFO, "shim: program %u: member %u gone, %d left", p->id, m,
	       __builtin_popcountll(p->members));
}

/* A port request (shm_proto.h "PORTS"): answered at once on the same
 * socket; the member is the socket's, whatever the request says. */
static void
ctl_port_msg(struct shim_prog *p, unsigned int m, const void *buf, ssize_t r)
{
	struct shm_port_req rq;
	struct shm_port_ack a;

	if (r != (ssize_t)sizeof(rq))
		return;
	memcpy(&rq, buf, sizeof(rq));
	shim_ports_request(p, m, &rq, &a);
	/* A program that does not read its answers loses them (and times
	 * out); no log line per request, it could flood the log. */
	(void)!send(p->sock[m], &a, sizeof(a), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Something arrived on member m's socket: a fork request, a port request,
 * or its end. */
static void
ctl_member_msg(struct shim_daemon *d, struct shim_prog *p, unsigned int m,
	       short revents)
{
	union {
		struct shm_fork_req fork;
		struct shm_port_req port;
		uint32_t magic;
	} rb;
	struct shm_fork_req req;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &rb, .iov_len = sizeof(rb) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	int nfd = -1, i, n;
	unsigned int e, to;
	ssize_t r;

	memset(&u, 0, sizeof(u));
	r = recvmsg(p->sock[m], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (r < 0 && errno == EAGAIN && !(revents & (POLLHUP | POLLERR)))
		return;
	if (r <= 0) {
		ctl_member_gone(d, p, m);
		return;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (i = 0; i < n; i++) {
			int fd = ((int *)CMSG_DATA(cm))[i];

			if (nfd < 0)
				nfd = fd;
			else
				close(fd);
		}
	}
	if (r >= (ssize_t)sizeof(uint32_t) && rb.magic == SHM_PORT_MAGIC &&
	    nfd < 0 && !p->detaching) {
		ctl_port_msg(p, m, &rb, r);
		return;
	}
	memcpy(&req, &rb, sizeof(req));
	if (r != (ssize_t)sizeof(req) || req.magic != SHM_FORK_MAGIC ||
	    nfd < 0 || p->detaching) {
		if (nfd >= 0)
			close(nfd);
		return;              /* nothing else is expected; ignore */
	}
	if (~p->members == 0) {
		struct shm_fork_ack a = { .magic = SHM_FORK_MAGIC,
					  .status = -EMFILE };

		(void)!send(nfd, &a, sizeof(a), MSG_NOSIGNAL | MSG_DONTWAIT);
		close(nfd);
		return;
	}
	to = (unsigned int)__builtin_ctzll(~p->members);
	p->sock[to] = nfd;
	p->members |= 1ull << to;
	p->fork_to = (int)to;
	p->fork_acks = 0;
	/* The sender's own number, not the one it claims: the socket says
	 * who it is. */
	shim_ports_fork(p, m, to);
	for (e = 0; e < d->n_engines; e++)
		ctl_send_eng_members(d, e, SHIM_MSG_FORK, p, m, to);
	DP_LOG(INFO, "shim: program %u: member %u forked member %u", p->id, m,
	       to);
}

static void *
ctl_main(void *arg)
{
	struct shim_daemon *d = arg;
	struct pollfd pfd[1 + CTL_MAX_PROGS * 4];
	struct shim_prog *ps[1 + CTL_MAX_PROGS * 4];
	unsigned int pm[1 + CTL_MAX_PROGS * 4];
	struct shim_prog *p;
	unsigned int n, i, m;

	while (!atomic_load(&d->stop)) {
		n = 0;
		pfd[n].fd = ctl_lsock;
		pfd[n].events = POLLIN;
		ps[n++] = NULL;
		for (p = ctl_progs; p != NULL; p = p->next) {
			/* One fork at a time per program: the rest waits in
			 * its sockets. */
			if (p->fork_to >= 0)
				continue;
			for (m = 0; m < SHM_MAX_MEMBERS && n < RTE_DIM(pfd); m++) {
				if (p->sock[m] < 0)
					continue;
				pfd[n].fd = p->sock[m];
				pfd[n].events = POLLIN;
				pm[n] = m;
				ps[n++] = p;
			}
		}
		if (poll(pfd, n, CTL_POLL_MS) > 0) {
			/* Departures before arrivals: a restarted program's
			 * listen must find the old listener gone. */
			for (i = 1; i < n; i++) {
				if (pfd[i].revents == 0 ||
				    ps[i]->sock[pm[i]] != pfd[i].fd ||
				    ps[i]->fork_to >= 0)
					continue;
				ctl_member_msg(d, ps[i], pm[i], pfd[i].revents);
			}
			if (pfd[0].revents & POLLIN)
				ctl_accept(d);
		}
		ctl_from_engines(d);
	}
	return NULL;
}

static int
ctl_mkdirs(const char *path)
{
	char dir[DP_SHIM_PATH_MAX], *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (p == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int
shim_ctl_start(struct shim_daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	cpu_set_t all;
	pthread_attr_t attr;
	long ncpu, c;
	int ret;

	ret = ctl_mkdirs(d->cfg.socket_path);
	if (ret < 0) {
		DP_LOG(ERR, "shim: cannot create the directory of %s: %s",
		       d->cfg.socket_path, strerror(-ret));
		return ret;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->cfg.socket_path);
	ctl_lsock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (ctl_lsock < 0)
		return -errno;
	/* A socket file left by a dptcpd that died: nobody answers on it. */
	unlink(sa.sun_path);
	if (bind(ctl_lsock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, d->cfg.socket_mode) < 0 ||
	    listen(ctl_lsock, 64) < 0) {
		ret = -errno;
		DP_LOG(ERR, "shim: socket %s: %s", sa.sun_path, strerror(-ret));
		close(ctl_lsock);
		ctl_lsock = -1;
		return ret;
	}
	/* Not pinned to an engine's core: it sleeps in poll() and should
	 * run wherever the kernel finds room. */
	CPU_ZERO(&all);
	ncpu = sysconf(_SC_NPROCESSORS_CONF);
	for (c = 0; c < ncpu && c < CPU_SETSIZE; c++)
		CPU_SET(c, &all);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(all), &all);
	ret = pthread_create(&ctl_thread, &attr, ctl_main, d);
	pthread_attr_destroy(&attr);
	if (ret != 0) {
		close(ctl_lsock);
		ctl_lsock = -1;
		return -ret;
	}
	DP_LOG(INFO, "shim: programs attach at %s (mode %03o)", sa.sun_path,
	       d->cfg.socket_mode);
	return 0;
}

void
shim_ctl_stop(struct shim_daemon *d)
{
	struct shim_prog *p;

	if (ctl_lsock < 0)
		return;
	atomic_store(&d->stop, 1);
	pthread_join(ctl_thread, NULL);
	close(ctl_lsock);
	ctl_lsock = -1;
	unlink(d->cfg.socket_path);
	/* The engines have stopped (dp_run returned): nothing uses these. */
	while ((p = ctl_progs) != NULL) {
		ctl_progs = p->next;
		shim_ports_prog_gone(p);
		prog_free(p);
	}
}
