/* preload_port.c — the shim's half of dptcpd's port table (shm_proto.h
 * "PORTS"): bind(), listen() and the last close of a bound socket ask
 * dptcpd over this member's Unix socket, one request at a time. */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "preload_internal.h"

#define PS_PORT_WAIT_MS 5000

static pthread_mutex_t ps_port_mu = PTHREAD_MUTEX_INITIALIZER;
static uint32_t ps_port_seq;

void
ps_port_lock(void)
{
	pthread_mutex_lock(&ps_port_mu);
}

void
ps_port_unlock(void)
{
	pthread_mutex_unlock(&ps_port_mu);
}

void
ps_port_child(void)
{
	pthread_mutex_init(&ps_port_mu, NULL);
}

/* One request, its answer; -ECONNABORTED when dptcpd is gone. */
static int
ps_port_call(struct shm_port_req *rq, struct shm_port_ack *a)
{
	struct pollfd pf;
	int ret = -ECONNABORTED, saved = errno, r;

	if (atomic_load(&ps_shm.dead))
		return -ECONNABORTED;
	pthread_mutex_lock(&ps_port_mu);
	rq->magic = SHM_PORT_MAGIC;
	rq->seq = ++ps_port_seq;
	if (ps_real.send(ps_shm.ctl_fd, rq, sizeof(*rq), MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(*rq))
		goto out;
	for (;;) {
		pf.fd = ps_shm.ctl_fd;
		pf.events = POLLIN;
		r = ps_real.poll(&pf, 1, PS_PORT_WAIT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || !(pf.revents & POLLIN))
			break;
		r = (int)ps_real.recv(ps_shm.ctl_fd, a, sizeof(*a), MSG_DONTWAIT);
		if (r == 0)
			break;               /* dptcpd closed it */
		if (r < 0 && errno == EAGAIN)
			continue;            /* another reader's, or spurious */
		if (r == (int)sizeof(*a) && a->magic == SHM_PORT_MAGIC &&
		    a->seq == rq->seq) {
			ret = a->status;
			goto out;
		}
		if (r < 0)
			break;
		/* an answer to a request that timed out: skip it */
	}
	atomic_store(&ps_shm.dead, 1);
out:
	pthread_mutex_unlock(&ps_port_mu);
	errno = saved;
	return ret;
}

static uint16_t
ps_port_flags(int reuseaddr, int reuseport)
{
	return (uint16_t)((reuseaddr ? SHM_PORT_REUSEADDR : 0) |
			  (reuseport ? SHM_PORT_REUSEPORT : 0));
}

int
ps_port_bind(uint32_t ip, uint16_t port, int reuseaddr, int reuseport,
	     uint32_t *handle, uint16_t *port_out)
{
	struct shm_port_req rq = { .op = SHM_PORT_BIND, .ip = ip, .port = port,
				   .flags = ps_port_flags(reuseaddr, reuseport) };
	struct shm_port_ack a;
	int ret = ps_port_call(&rq, &a);

	if (ret == 0) {
		*handle = a.handle;
		*port_out = a.port;
	}
	return ret;
}

/* LISTEN / UNLISTEN / RELEASE of ps's port; 0 when it holds none. */
int
ps_port_op(struct ps_sock *ps, uint32_t op)
{
	struct shm_port_req rq = { .op = op, .handle = ps->port_handle,
				   .ip = ps->lip, .port = ps->lport,
				   .flags = ps_port_flags(ps->reuseaddr,
							  ps->reuseport) };
	struct shm_port_ack a;
	int ret;

	if (ps->port_handle == 0)
		return 0;
	ret = ps_port_call(&rq, &a);
	if (op == SHM_PORT_RELEASE)
		ps->port_handle = 0;
	return ret;
}
