/* dptcpd_ports.c — the port table of dptcpd (shm_proto.h "PORTS"): which
 * dptcp sockets of which programs are bound or listen on which local
 * address and port, kept by the control thread from what programs ask on
 * their Unix sockets (never read from shared memory), so that bind() and
 * listen() give EADDRINUSE across programs as Linux does, and port 0
 * picks a free ephemeral port. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_random.h>

#include "dp.h"
#include "dptcpd.h"

/* Linux's default net.ipv4.ip_local_port_range. */
#define PORT_EPH_LO 32768u
#define PORT_EPH_HI 60999u

struct port_ent {
	struct port_ent *bnext, **bprev;   /* its port's bucket */
	struct port_ent *pnext, **pprev;   /* its program's list */
	struct shim_prog *p;
	uint32_t handle;
	uint32_t ip;                       /* host order, 0: any */
	uint16_t port, flags;              /* SHM_PORT_* */
	bool listening;
	uint64_t members;                  /* members holding it (FORK) */
};

static struct port_ent *port_bucket[65536];
static uint32_t port_next_handle = 1;

/* Does o keep e from binding (or from listening)? Linux's
 * inet_bind_conflict for TCP: the addresses overlap (equal, or either is
 * the wildcard) and neither rule lets them share the port: SO_REUSEADDR on
 * both while o does not listen (so two may bind, but only one listen), or
 * SO_REUSEPORT on both under one uid (any number may listen). */
static bool
port_clash(const struct port_ent *e, const struct port_ent *o)
{
	if (o == e || o->port != e->port)
		return false;
	if (e->ip != 0 && o->ip != 0 && e->ip != o->ip)
		return false;
	if ((e->flags & SHM_PORT_REUSEPORT) && (o->flags & SHM_PORT_REUSEPORT) &&
	    e->p->uid == o->p->uid)
		return false;
	if ((e->flags & SHM_PORT_REUSEADDR) && (o->flags & SHM_PORT_REUSEADDR) &&
	    !o->listening)
		return false;
	return true;
}

static bool
port_free_for(const struct port_ent *e)
{
	const struct port_ent *o;

	for (o = port_bucket[e->port]; o != NULL; o = o->bnext)
		if (port_clash(e, o))
			return false;
	return true;
}

static void
port_link(struct port_ent *e)
{
	e->bnext = port_bucket[e->port];
	if (e->bnext != NULL)
		e->bnext->bprev = &e->bnext;
	e->bprev = &port_bucket[e->port];
	port_bucket[e->port] = e;
	e->pnext = e->p->ports;
	if (e->pnext != NULL)
		e->pnext->pprev = &e->pnext;
	e->pprev = &e->p->ports;
	e->p->ports = e;
	e->p->n_ports++;
}

static void
port_unlink(struct port_ent *e)
{
	*e->bprev = e->bnext;
	if (e->bnext != NULL)
		e->bnext->bprev = e->bprev;
	*e->pprev = e->pnext;
	if (e->pnext != NULL)
		e->pnext->pprev = e->pprev;
	e->p->n_ports--;
	free(e);
}

static struct port_ent *
port_find(struct shim_prog *p, uint32_t handle, uint16_t port)
{
	struct port_ent *e;

	for (e = port_bucket[port]; e != NULL; e = e->bnext)
		if (e->p == p && e->handle == handle)
			return e;
	return NULL;
}

/* bind(): port 0 takes a port nobody uses, from a random start in the
 * ephemeral range as Linux's inet_csk_find_open_port does. */
static int
port_bind(struct shim_prog *p, unsigned int m, const struct shm_port_req *rq,
	  struct shm_port_ack *a)
{
	struct port_ent *e = calloc(1, sizeof(*e));
	uint32_t n = PORT_EPH_HI - PORT_EPH_LO + 1, start, i;

	if (e == NULL)
		return -ENOMEM;
	/* One handle per socket: a program asking for more than it has
	 * slots is lying, and must not grow dptcpd's memory. */
	if (p->n_ports >= p->max_sockets) {
		free(e);
		return -ENOBUFS;
	}
	/* Linux: ports below ip_unprivileged_port_start (1024) need
	 * CAP_NET_BIND_SERVICE; here, root (the program's SO_PEERCRED). */
	if (rq->port != 0 && rq->port < 1024 && p->uid != 0) {
		free(e);
		return -EACCES;
	}
	e->p = p;
	e->ip = rq->ip;
	e->flags = rq->flags & (SHM_PORT_REUSEADDR | SHM_PORT_REUSEPORT);
	e->members = 1ull << m;
	if (rq->port != 0) {
		e->port = rq->port;
		if (!port_free_for(e)) {
			free(e);
			return -EADDRINUSE;
		}
	} else {
		start = (uint32_t)(rte_rand() % n);
		for (i = 0; i < n; i++) {
			e->port = (uint16_t)(PORT_EPH_LO + (start + i) % n);
			if (port_bucket[e->port] == NULL)
				break;
		}
		if (i == n) {
			free(e);
			return -EADDRINUSE;
		}
	}
	e->handle = port_next_handle++;
	if (e->handle == 0)
		e->handle = port_next_handle++;
	port_link(e);
	a->handle = e->handle;
	a->port = e->port;
	return 0;
}

void
shim_ports_request(struct shim_prog *p, unsigned int m,
		   const struct shm_port_req *rq, struct shm_port_ack *a)
{
	struct port_ent *e = NULL;

	memset(a, 0, sizeof(*a));
	a->magic = SHM_PORT_MAGIC;
	a->seq = rq->seq;
	if (rq->op != SHM_PORT_BIND) {
		e = port_find(p, rq->handle, rq->port);
		if (e == NULL) {
			a->status = -EBADF;
			return;
		}
		a->handle = e->handle;
		a->port = e->port;
	}
	switch (rq->op) {
	case SHM_PORT_BIND:
		a->status = port_bind(p, m, rq, a);
		break;
	case SHM_PORT_LISTEN:
		e->flags = rq->flags & (SHM_PORT_REUSEADDR | SHM_PORT_REUSEPORT);
		if (!e->listening && !port_free_for(e))
			a->status = -EADDRINUSE;
		else
			e->listening = true;
		break;
	case SHM_PORT_UNLISTEN:
		e->listening = false;
		break;
	case SHM_PORT_RELEASE:
		e->members &= ~(1ull << m);
		if (e->members == 0)
			port_unlink(e);
		break;
	default:
		a->status = -EINVAL;
		break;
	}
}

/* The new member holds every port its parent holds. */
void
shim_ports_fork(struct shim_prog *p, unsigned int from, unsigned int to)
{
	struct port_ent *e;

	for (e = p->ports; e != NULL; e = e->pnext)
		if (e->members & (1ull << from))
			e->members |= 1ull << to;
}

void
shim_ports_member_gone(struct shim_prog *p, unsigned int m)
{
	struct port_ent *e = p->ports, *next;

	for (; e != NULL; e = next) {
		next = e->pnext;
		e->members &= ~(1ull << m);
		if (e->members == 0)
			port_unlink(e);
	}
}

/* A dead program's ports are free at once: restarted, it binds again. */
void
shim_ports_prog_gone(struct shim_prog *p)
{
	while (p->ports != NULL)
		port_unlink(p->ports);
}
