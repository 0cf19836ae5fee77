/* dptcpd_eng.c — dptcpd's work on each engine's lcore: serve the programs'
 * command queues, move bytes between their rings and dpt_send()/dpt_recv(),
 * turn engine events into slot state, and ring doorbells of programs that
 * sleep. Everything here belongs to one engine (no locks, no atomics but
 * the shared-memory protocol's); every value read from a region is loaded
 * once and checked (shm_proto.h, "VALIDATION"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <rte_ring.h>

#include "dp.h"
#include "dpt.h"
#include "dptcpd.h"

#define SLOT_NONE UINT32_MAX
#define CMDS_PER_POLL 16     /* per channel per iteration: fairness */

enum pslot_kind { PS_NONE = 0, PS_CONN, PS_LSN };

struct shim_pe;

/* A connection of a program on this engine. */
struct shim_conn {
	struct shim_pe *pe;          /* not to be used once orphan */
	struct shim_eng_stats *st;
	struct tcp_conn *c;          /* NULL once the engine dropped it */
	struct shim_lsn *lsn;        /* while waiting in lsn's accept queue */
	uint32_t slot, gen;          /* SLOT_NONE: not bound to a slot */
	uint32_t rx_prod, tx_cons;   /* our indices of its byte rings */
	bool rx_ready;               /* dpt_recv() may have something */
	bool rx_eof;                 /* dpt_recv() said end of stream */
	bool tx_blocked;             /* wait for DPT_EV_WRITABLE */
	bool shut_pending;           /* FIN after the TX ring drains */
	bool close_pending;          /* the program closed it: drain, dpt_close */
	bool orphan;                 /* slot released, TCP still closing */
	bool active;                 /* on pe->active (shm_proto.h KICKS) */
	TAILQ_ENTRY(shim_conn) link; /* pe->conns, or lsn->accq */
	TAILQ_ENTRY(shim_conn) alink; /* pe->active */
};
TAILQ_HEAD(shim_conn_list, shim_conn);

struct shim_group;

struct shim_lsn {
	struct shim_pe *pe;
	struct shim_group *g;        /* the engine listener it shares */
	uint32_t slot, gen;
	uint32_t ip;
	uint16_t port;
	uint32_t backlog, nq;
	bool reuseport;              /* LISTEN said SO_REUSEPORT */
	struct shim_conn_list accq;
};

/* One engine listener (ip, port) and the program listeners it feeds: one,
 * or several SO_REUSEPORT ones (of any programs of one user, as Linux
 * allows), each new connection going to one of them by its flow hash
 * (shm_proto.h "PORTS"). The engine itself never sees more than one
 * listener per (ip, port). */
#define SHIM_GROUP_MAX 64
struct shim_group {
	uint32_t ip;
	uint16_t port;
	uint32_t n;
	bool paused;                 /* the engine keeps new ones queued */
	struct shim_lsn *lsn[SHIM_GROUP_MAX];
	struct shim_group *next;
};

struct shim_pslot {
	uint32_t gen;
	uint8_t kind;                /* enum pslot_kind */
	uint64_t members;            /* members holding it (shm_proto.h "FORK") */
	void *obj;
};

/* One program as this engine sees it. */
struct shim_pe {
	struct shim_prog *p;
	struct tcp_engine *eng;
	unsigned int e;
	struct shim_eng_stats *st;
	struct shim_pslot *ps;       /* max_sockets entries */
	uint32_t cmd_cons[SHM_MAX_CHANNELS];
	uint32_t evt_prod[SHM_MAX_CHANNELS];
	uint64_t wake;               /* doorbells to ring this iteration */
	uint64_t chan_mask;
	uint64_t members;            /* live member numbers, as control said */
	struct shim_conn_list conns; /* bound to slots, or closing */
	struct shim_conn_list active; /* of conns: those to service */
	bool dying;                  /* DETACH received or violation */
	bool violated;
	bool aborted;                /* every connection reset after a violation */
	struct shim_pe *next;
};

struct shim_eng {
	struct shim_pe *progs;
	struct shim_group *groups;
	struct shim_daemon *d;
} __attribute__((aligned(64)));

static struct shim_eng shim_engs[SHM_MAX_ENGINES];

static inline void
st_inc(_Atomic uint64_t *c, int64_t v)
{
	/* Only this engine writes it: a relaxed load and store, no lock. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed)
			      + (uint64_t)v, memory_order_relaxed);
}

static inline struct shm_slot *
pe_slot(struct shim_pe *pe, uint32_t s)
{
	return shm_slot_at(pe->p->base, &pe->p->lay, s);
}

const char *const shim_viol_names[SHIM_VIOL_COUNT] = {
	[SHIM_VIOL_CMDQ_INDEX] = "cmdq_index",
	[SHIM_VIOL_EVTQ_INDEX] = "evtq_index",
	[SHIM_VIOL_BAD_OP] = "bad_op",
	[SHIM_VIOL_BAD_SLOT] = "bad_slot",
	[SHIM_VIOL_TX_RING] = "tx_ring",
	[SHIM_VIOL_RX_RING] = "rx_ring",
};

/* The connection has something to move or finish: service it each loop
 * until it goes quiet (shm_proto.h, KICKS). */
static inline void
conn_activate(struct shim_pe *pe, struct shim_conn *sc)
{
	if (sc->active || sc->orphan || sc->slot == SLOT_NONE)
		return;
	sc->active = true;
	TAILQ_INSERT_TAIL(&pe->active, sc, alink);
	atomic_store_explicit(&pe_slot(pe, sc->slot)->eng_idle, 0,
			      memory_order_relaxed);
}

static inline void
conn_deactivate(struct shim_pe *pe, struct shim_conn *sc)
{
	if (!sc->active)
		return;
	sc->active = false;
	TAILQ_REMOVE(&pe->active, sc, alink);
}

/* A protocol violation: count it (the first per program and engine: the
 * program is not served further), tell the control thread (which
 * disconnects it). */
static void
pe_violation(struct shim_pe *pe, enum shim_viol kind, const char *what)
{
	if (pe->violated)
		return;
	pe->violated = true;
	st_inc(&pe->st->violations, 1);
	st_inc(&pe->st->viol[kind], 1);
	DP_LOG(WARNING, "shim: program %u (pid %d) violated the protocol on engine %u: %s; disconnecting it",
	       pe->p->id, (int)pe->p->pid, pe->e, what);
	struct shim_ctl_msg *m = malloc(sizeof(*m));

	if (m != NULL) {
		m->type = SHIM_MSG_VIOLATION;
		m->engine = pe->e;
		m->prog = pe->p;
		if (rte_ring_enqueue(shim_engs[pe->e].d->from_eng[pe->e], m) != 0)
			free(m);
	}
}

/* The slot's state changed: wake the channels waiting on it (after the
 * fence, see shm_proto.h "WAKEUP"). */
static inline void
slot_changed(struct shim_pe *pe, struct shm_slot *sl)
{
	const struct shm_layout *l = &pe->p->lay;
	uint64_t w, x, s;

	atomic_thread_fence(memory_order_seq_cst);
	w = atomic_load_explicit(&sl->waiters, memory_order_relaxed);
	x = atomic_load_explicit(&sl->xwaiters, memory_order_relaxed) &
	    pe->chan_mask;
	if (w == 0 && x == 0)
		return;
	if (w != 0)
		w = atomic_exchange(&sl->waiters, 0) & pe->chan_mask;
	/* EXCLUSIVE: one of them, the one whose bit we cleared. */
	while (x != 0) {
		uint64_t b = x & -x;

		if (atomic_fetch_and(&sl->xwaiters, ~b) & b) {
			w |= b;
			break;
		}
		x &= x - 1;
	}
	if (w == 0)
		return;
	pe->wake |= w;
	/* NOTES: name the slot to each channel woken, before its doorbell. */
	s = (uint64_t)((uint8_t *)sl - ((uint8_t *)pe->p->base + l->off_slots)) /
	    l->slot_bytes;
	while (w != 0) {
		struct shm_kick *n = shm_note_at(pe->p->base, l,
					(uint32_t)__builtin_ctzll(w));

		w &= w - 1;
		atomic_fetch_or(&n->words[s / 64], 1ull << (s % 64));
		atomic_fetch_or(&n->summary, 1ull << ((s / 64) % 64));
	}
}

static void
pe_flush_wake(struct shim_pe *pe)
{
	uint64_t w = pe->wake, one = 1;
	unsigned int c;

	pe->wake = 0;
	while (w != 0) {
		c = (unsigned int)__builtin_ctzll(w);
		w &= w - 1;
		if (write(pe->p->doorbell[c], &one, sizeof(one)) < 0) {
			/* EAGAIN: the counter is saturated, a wake is pending anyway. */
		}
		st_inc(&pe->st->wakeups, 1);
	}
}

/* --- slots ------------------------------------------------------------ */

static void
slot_bind_conn(struct shim_pe *pe, struct shim_conn *sc, uint32_t s,
	       uint32_t gen, uint32_t state)
{
	struct shm_slot *sl = pe_slot(pe, s);
	struct dpt_conn_info ci;

	sc->slot = s;
	sc->gen = gen;
	sc->rx_prod = 0;
	sc->tx_cons = 0;
	pe->ps[s].gen = gen;
	pe->ps[s].kind = PS_CONN;
	pe->ps[s].obj = sc;
	atomic_store_explicit(&sl->rx_prod, 0, memory_order_relaxed);
	atomic_store_explicit(&sl->tx_cons, 0, memory_order_relaxed);
	atomic_store_explicit(&sl->flags, 0, memory_order_relaxed);
	atomic_store_explicit(&sl->err, 0, memory_order_relaxed);
	if (sc->c != NULL) {
		dpt_conn_info(sc->c, &ci);
		atomic_store_explicit(&sl->lip, ci.local_ip, memory_order_relaxed);
		atomic_store_explicit(&sl->lport, ci.local_port, memory_order_relaxed);
		atomic_store_explicit(&sl->rip, ci.remote_ip, memory_order_relaxed);
		atomic_store_explicit(&sl->rport, ci.remote_port, memory_order_relaxed);
	}
	atomic_store_explicit(&sl->eng_idle, 0, memory_order_relaxed);
	atomic_store_explicit(&sl->state, state, memory_order_release);
	TAILQ_INSERT_TAIL(&pe->conns, sc, link);
	st_inc(&pe->st->slots_bound, 1);
	conn_activate(pe, sc);
}

/* The program may reuse the slot: we never touch it again. */
static void
slot_release_conn(struct shim_pe *pe, struct shim_conn *sc)
{
	if (sc->slot == SLOT_NONE)
		return;
	pe->ps[sc->slot].kind = PS_NONE;
	pe->ps[sc->slot].obj = NULL;
	atomic_store_explicit(&pe_slot(pe, sc->slot)->released, sc->gen,
			      memory_order_release);
	TAILQ_REMOVE(&pe->conns, sc, link);
	conn_deactivate(pe, sc);
	sc->slot = SLOT_NONE;
	st_inc(&pe->st->slots_bound, -1);
}

/* The connection is gone from the engine (CLOSED, RESET, ERROR). */
static void
conn_gone(struct shim_conn *sc, int err, bool fin)
{
	struct shim_pe *pe = sc->pe;
	struct shm_slot *sl;

	sc->c = NULL;
	if (sc->orphan) {            /* pe may be gone already */
		st_inc(&sc->st->orphans, -1);
		free(sc);
		return;
	}
	if (sc->lsn != NULL) {           /* never accepted by the program */
		struct shim_lsn *l = sc->lsn;

		TAILQ_REMOVE(&l->accq, sc, link);
		l->nq--;
		atomic_store_explicit(&pe_slot(pe, l->slot)->accq[pe->e], l->nq,
				      memory_order_release);
		free(sc);
		return;
	}
	if (sc->slot == SLOT_NONE)
		return;
	sl = pe_slot(pe, sc->slot);
	if (fin)
		atomic_fetch_or_explicit(&sl->flags, SHM_SF_RX_FIN,
					 memory_order_release);
	atomic_store_explicit(&sl->err, err, memory_order_relaxed);
	atomic_store_explicit(&sl->state, SHM_ST_CLOSED, memory_order_release);
	slot_changed(pe, sl);
	conn_activate(pe, sc);       /* a pending close can finish now */
}

/* Which listener of the group gets a new connection: with SO_REUSEPORT,
 * Linux hashes the 4-tuple and scales it over the group's sockets
 * (reciprocal_scale of inet_ehashfn in inet_lookup_reuseport), so one flow
 * always lands on the same listener while the group is unchanged; the
 * same here, with a fixed mix of the tuple. */
static struct shim_lsn *
group_pick(struct shim_group *g, struct tcp_conn *c)
{
	struct dpt_conn_info ci;
	uint64_t h;

	if (g->n == 1)
		return g->lsn[0];
	dpt_conn_info(c, &ci);
	h = ((uint64_t)ci.remote_ip << 32 | (uint32_t)ci.remote_port << 16 |
	     ci.local_port) * 0x9e3779b97f4a7c15ull;
	h ^= h >> 29;
	return g->lsn[(uint32_t)(((h & 0xffffffffu) * g->n) >> 32)];
}

static void
shim_event(struct tcp_engine *eng, struct tcp_conn *c, enum dpt_event ev,
	   int err, void *user)
{
	struct shim_conn *sc = user;
	struct shim_lsn *l;
	struct shim_pe *pe;

	switch (ev) {
	case DPT_EV_ACCEPTED:            /* user is the listener group */
		l = group_pick(user, c);
		pe = l->pe;
		sc = calloc(1, sizeof(*sc));
		if (sc == NULL) {
			dpt_abort(eng, c);
			return;
		}
		sc->pe = pe;
		sc->st = pe->st;
		sc->c = c;
		sc->lsn = l;
		sc->slot = SLOT_NONE;
		sc->rx_ready = true;
		dpt_set_user(c, sc);
		TAILQ_INSERT_TAIL(&l->accq, sc, link);
		l->nq++;
		st_inc(&pe->st->accepted, 1);
		if (l->nq >= l->backlog && !l->g->paused) {
			/* The rest waits in the engine's own accept queue. */
			l->g->paused = true;
			dpt_listen_set_accepting(eng, l->ip, l->port, 0);
		}
		atomic_store_explicit(&pe_slot(pe, l->slot)->accq[pe->e], l->nq,
				      memory_order_release);
		slot_changed(pe, pe_slot(pe, l->slot));
		break;
	case DPT_EV_CONNECTED:
		pe = sc->pe;
		if (!sc->orphan && sc->slot != SLOT_NONE) {
			struct shm_slot *sl = pe_slot(pe, sc->slot);

			atomic_store_explicit(&sl->state, SHM_ST_ESTABLISHED,
					      memory_order_release);
			slot_changed(pe, sl);
		}
		sc->rx_ready = true;
		conn_activate(pe, sc);
		break;
	case DPT_EV_READABLE:
	case DPT_EV_PEER_CLOSED:
		sc->rx_ready = true;
		conn_activate(sc->pe, sc);
		break;
	case DPT_EV_WRITABLE:
		sc->tx_blocked = false;
		conn_activate(sc->pe, sc);
		break;
	case DPT_EV_CLOSED:
		conn_gone(sc, 0, true);
		break;
	case DPT_EV_RESET:
		conn_gone(sc, ECONNRESET, false);
		break;
	case DPT_EV_ERROR:
		conn_gone(sc, err < 0 ? -err : (err > 0 ? err : ECONNABORTED),
			  false);
		break;
	}
}

/* --- byte rings -------------------------------------------------------- */

/* TX ring -> dpt_send(). Returns true when the ring is empty. */
static bool
conn_drain_tx(struct shim_pe *pe, struct shim_conn *sc, struct shm_slot *sl,
	      bool *changed)
{
	uint32_t size = pe->p->tx_bytes, mask = size - 1;
	uint32_t prod = atomic_load_explicit(&sl->tx_prod, memory_order_acquire);
	uint32_t n = prod - sc->tx_cons, start = sc->tx_cons;
	uint8_t *ring;

	if (n > size) {
		pe_violation(pe, SHIM_VIOL_TX_RING, "TX ring index out of range");
		return true;
	}
	if (n == 0)
		return true;
	if (sc->tx_blocked || sc->c == NULL)
		return false;
	ring = shm_tx_ring(pe->p->base, &pe->p->lay, sc->slot, pe->p->rx_bytes,
			   size);
	while (n > 0) {
		uint32_t off = sc->tx_cons & mask;
		uint32_t piece = size - off < n ? size - off : n;
		ssize_t r = dpt_send(pe->eng, sc->c, ring + off, piece);

		if (r == -EAGAIN) {
			sc->tx_blocked = true;
			break;
		}
		if (r == -ENOBUFS || r == -ENOTCONN)
			break;           /* retried next iteration */
		if (r < 0) {             /* -EPIPE: nowhere to go */
			sc->tx_cons += n;
			n = 0;
			break;
		}
		sc->tx_cons += (uint32_t)r;
		n -= (uint32_t)r;
		if ((uint32_t)r < piece) {
			sc->tx_blocked = true;
			break;
		}
	}
	if (sc->tx_cons != start) {
		atomic_store_explicit(&sl->tx_cons, sc->tx_cons,
				      memory_order_release);
		*changed = true;
	}
	return n == 0;
}

/* dpt_recv() -> RX ring, while it has room. */
static void
conn_fill_rx(struct shim_pe *pe, struct shim_conn *sc, struct shm_slot *sl,
	     bool *changed)
{
	uint32_t size = pe->p->rx_bytes, mask = size - 1;
	uint32_t cons = atomic_load_explicit(&sl->rx_cons, memory_order_acquire);
	uint32_t used = sc->rx_prod - cons, start = sc->rx_prod;
	uint8_t *ring;

	if (used > size) {
		pe_violation(pe, SHIM_VIOL_RX_RING, "RX ring index out of range");
		return;
	}
	if (!sc->rx_ready || sc->rx_eof || sc->c == NULL)
		return;
	ring = shm_rx_ring(pe->p->base, &pe->p->lay, sc->slot, size,
			   pe->p->tx_bytes);
	while (used < size) {
		uint32_t off = sc->rx_prod & mask;
		uint32_t room = size - used;
		uint32_t piece = size - off < room ? size - off : room;
		ssize_t r = dpt_recv(pe->eng, sc->c, ring + off, piece);

		if (r == 0) {
			sc->rx_eof = true;
			sc->rx_ready = false;
			atomic_fetch_or_explicit(&sl->flags, SHM_SF_RX_FIN,
						 memory_order_release);
			*changed = true;
			break;
		}
		if (r < 0) {
			sc->rx_ready = false;
			break;
		}
		sc->rx_prod += (uint32_t)r;
		used += (uint32_t)r;
	}
	if (sc->rx_prod != start) {
		atomic_store_explicit(&sl->rx_prod, sc->rx_prod,
				      memory_order_release);
		*changed = true;
	}
}

/* The program closed the slot (or died): reset if it left data unread, as
 * Linux does; else FIN after what it wrote. */
static void
conn_close_now(struct shim_pe *pe, struct shim_conn *sc, bool abort)
{
	struct tcp_conn *c = sc->c;

	slot_release_conn(pe, sc);
	if (c == NULL) {
		free(sc);
		return;
	}
	sc->orphan = true;
	st_inc(&pe->st->orphans, 1);
	if (abort) {
		dpt_abort(pe->eng, c);   /* no further event */
		st_inc(&pe->st->orphans, -1);
		free(sc);
		return;
	}
	dpt_close(pe->eng, c);           /* may free sc (CLOSED inside) */
}

static bool
conn_unread(struct shim_pe *pe, struct shim_conn *sc, struct shm_slot *sl)
{
	uint32_t cons = atomic_load_explicit(&sl->rx_cons, memory_order_acquire);

	if (sc->rx_prod != cons)
		return true;
	return sc->c != NULL && dpt_readable(sc->c) > 0;
}

static void
conn_service(struct shim_pe *pe, struct shim_conn *sc)
{
	struct shm_slot *sl = pe_slot(pe, sc->slot);
	bool changed = false, tx_empty;

	st_inc(&pe->st->services, 1);
	tx_empty = conn_drain_tx(pe, sc, sl, &changed);
	if (pe->violated)
		return;
	if (tx_empty && sc->shut_pending && sc->c != NULL) {
		sc->shut_pending = false;
		dpt_shutdown(pe->eng, sc->c);
		atomic_fetch_or_explicit(&sl->flags, SHM_SF_TX_SHUT,
					 memory_order_release);
	}
	if (!sc->close_pending)
		conn_fill_rx(pe, sc, sl, &changed);
	if (changed)
		slot_changed(pe, sl);
	if (sc->close_pending && (tx_empty || sc->c == NULL))
		conn_close_now(pe, sc, false);
}

/* Nothing for the engine to do until TCP or the program moves: TX ring
 * empty (or TCP's buffer full: DPT_EV_WRITABLE re-activates), and nothing
 * to read from TCP (or the RX ring full: the program's kick re-activates). */
static bool
conn_quiet(struct shim_pe *pe, struct shim_conn *sc, struct shm_slot *sl)
{
	uint32_t tx_prod, rx_cons;

	if (sc->shut_pending || sc->close_pending)
		return false;
	if (sc->c == NULL)
		return true;
	tx_prod = atomic_load_explicit(&sl->tx_prod, memory_order_acquire);
	rx_cons = atomic_load_explicit(&sl->rx_cons, memory_order_acquire);
	if (tx_prod != sc->tx_cons && !sc->tx_blocked)
		return false;
	return !sc->rx_ready || sc->rx_eof ||
	       sc->rx_prod - rx_cons >= pe->p->rx_bytes;
}

/* Service the active connections; drop the quiet ones from the list with
 * the KICKS handshake (eng_idle = SHM_IDLE*, fence, re-check). With no
 * more data from TCP (our own flags: they change only on TCP events,
 * which re-activate) the program's reads need not kick: SHM_IDLE_RX_DONE. */
static void
pe_service_active(struct shim_pe *pe)
{
	struct shim_conn *sc, *nsc;

	for (sc = TAILQ_FIRST(&pe->active); sc != NULL && !pe->violated;
	     sc = nsc) {
		struct shm_slot *sl;

		nsc = TAILQ_NEXT(sc, alink);
		conn_service(pe, sc);
		if (!sc->active || pe->violated)
			continue;        /* released (maybe freed), or stopping */
		sl = pe_slot(pe, sc->slot);
		if (!conn_quiet(pe, sc, sl))
			continue;
		atomic_store_explicit(&sl->eng_idle,
				      sc->c == NULL || !sc->rx_ready ||
				      sc->rx_eof ? SHM_IDLE_RX_DONE : SHM_IDLE,
				      memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
		if (!conn_quiet(pe, sc, sl)) {
			atomic_store_explicit(&sl->eng_idle, 0,
					      memory_order_relaxed);
			continue;
		}
		conn_deactivate(pe, sc);
		st_inc(&pe->st->idled, 1);
	}
}

/* The program's kicks (shm_proto.h, KICKS): activate the slots named.
 * Bits of unknown or unbound slots are ignored (a kick may race with a
 * close); the work is bounded by the bitmap's size. */
static void
pe_kicks(struct shim_pe *pe)
{
	struct shm_kick *k = shm_kick_at(pe->p->base, &pe->p->lay, pe->e);
	uint32_t nwords = shm_kick_words(pe->p->max_sockets), w;
	uint64_t sum, bits;

	if (atomic_load_explicit(&k->summary, memory_order_relaxed) == 0)
		return;
	sum = atomic_exchange(&k->summary, 0);
	while (sum != 0) {
		uint32_t b = (uint32_t)__builtin_ctzll(sum);

		sum &= sum - 1;
		for (w = b; w < nwords; w += 64) {
			if (atomic_load_explicit(&k->words[w],
						 memory_order_relaxed) == 0)
				continue;
			bits = atomic_exchange(&k->words[w], 0);
			while (bits != 0) {
				uint32_t s = w * 64 + (uint32_t)__builtin_ctzll(bits);

				bits &= bits - 1;
				if (s < pe->p->max_sockets &&
				    pe->ps[s].kind == PS_CONN) {
					conn_activate(pe, pe->ps[s].obj);
					st_inc(&pe->st->kicks, 1);
				}
			}
		}
	}
}

/* --- commands ---------------------------------------------------------- */

static struct shim_conn *
cmd_conn(struct shim_pe *pe, const struct shm_msg *m)
{
	if (m->slot >= pe->p->max_sockets || pe->ps[m->slot].kind != PS_CONN ||
	    pe->ps[m->slot].gen != m->gen)
		return NULL;
	return pe->ps[m->slot].obj;
}

static struct shim_lsn *
cmd_lsn(struct shim_pe *pe, const struct shm_msg *m)
{
	if (m->slot >= pe->p->max_sockets || pe->ps[m->slot].kind != PS_LSN ||
	    pe->ps[m->slot].gen != m->gen)
		return NULL;
	return pe->ps[m->slot].obj;
}

static bool
slot_free_here(struct shim_pe *pe, uint32_t s)
{
	return s < pe->p->max_sockets && pe->ps[s].kind == PS_NONE;
}

static void
lsn_drop(struct shim_pe *pe, struct shim_lsn *l)
{
	struct shim_group *g = l->g, **gp;
	struct shim_conn *sc;
	uint32_t i;

	/* Linux resets what waits in a closed listener's queue, also when
	 * SO_REUSEPORT siblings go on listening. */
	for (i = 0; i < g->n; i++)
		if (g->lsn[i] == l) {
			g->lsn[i] = g->lsn[--g->n];
			break;
		}
	if (g->n == 0) {
		dpt_unlisten(pe->eng, g->ip, g->port);
		for (gp = &shim_engs[pe->e].groups; *gp != NULL;
		     gp = &(*gp)->next)
			if (*gp == g) {
				*gp = g->next;
				break;
			}
		free(g);
	} else if (g->paused) {
		g->paused = false;
		dpt_listen_set_accepting(pe->eng, g->ip, g->port, 1);
	}
	while ((sc = TAILQ_FIRST(&l->accq)) != NULL) {
		TAILQ_REMOVE(&l->accq, sc, link);
		if (sc->c != NULL)
			dpt_abort(pe->eng, sc->c);
		free(sc);
	}
	atomic_store_explicit(&pe_slot(pe, l->slot)->accq[pe->e], 0,
			      memory_order_release);
	pe->ps[l->slot].kind = PS_NONE;
	pe->ps[l->slot].obj = NULL;
	free(l);
}

/* A second listener on (ip, port) joins the group when it and every
 * member set SO_REUSEPORT and all belong to one user (Linux's rule; the
 * uid is the program's SO_PEERCRED, not a value from the region). */
static int
group_join(struct shim_pe *pe, struct shim_lsn *l)
{
	struct shim_group *g;
	uint32_t i;
	int ret;

	for (g = shim_engs[pe->e].groups; g != NULL; g = g->next)
		if (g->ip == l->ip && g->port == l->port)
			break;
	if (g != NULL) {
		if (!l->reuseport || g->n == SHIM_GROUP_MAX)
			return -EADDRINUSE;
		for (i = 0; i < g->n; i++)
			if (!g->lsn[i]->reuseport ||
			    g->lsn[i]->pe->p->uid != pe->p->uid)
				return -EADDRINUSE;
		g->lsn[g->n++] = l;
		l->g = g;
		return 0;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	g->ip = l->ip;
	g->port = l->port;
	ret = dpt_listen(pe->eng, l->ip, l->port, (int)l->backlog, shim_event,
			 g);
	if (ret < 0) {
		free(g);
		return ret;
	}
	g->lsn[g->n++] = l;
	l->g = g;
	g->next = shim_engs[pe->e].groups;
	shim_engs[pe->e].groups = g;
	return 0;
}

static int
cmd_listen(struct shim_pe *pe, const struct shm_msg *m)
{
	struct shim_lsn *l;
	uint32_t backlog = m->arg;
	int ret;

	if (!slot_free_here(pe, m->slot))
		return -EBADF;
	if (m->port == 0)
		return -EINVAL;
	if (m->ip != 0 && m->ip != pe->p->local_ip)
		return -EADDRNOTAVAIL;
	if (backlog == 0 || backlog > 65535)
		backlog = backlog == 0 ? 1 : 65535;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	l->pe = pe;
	l->slot = m->slot;
	l->gen = m->gen;
	l->ip = m->ip;
	l->port = m->port;
	l->backlog = backlog;
	l->reuseport = (m->arg2 & SHM_LISTEN_REUSEPORT) != 0;
	TAILQ_INIT(&l->accq);
	ret = group_join(pe, l);
	if (ret < 0) {
		free(l);
		return ret;
	}
	pe->ps[m->slot].gen = m->gen;
	pe->ps[m->slot].kind = PS_LSN;
	pe->ps[m->slot].obj = l;
	atomic_store_explicit(&pe_slot(pe, m->slot)->accq[pe->e], 0,
			      memory_order_relaxed);
	atomic_store_explicit(&pe_slot(pe, m->slot)->state, SHM_ST_LISTEN,
			      memory_order_release);
	return 0;
}

static int
cmd_accept(struct shim_pe *pe, const struct shm_msg *m, struct shm_msg *r)
{
	struct shim_lsn *l = cmd_lsn(pe, m);
	struct shim_conn *sc;
	struct dpt_conn_info ci;

	if (l == NULL)
		return -EBADF;
	if (!slot_free_here(pe, m->arg))
		return -EBADF;
	sc = TAILQ_FIRST(&l->accq);
	if (sc == NULL)
		return -EAGAIN;
	TAILQ_REMOVE(&l->accq, sc, link);
	sc->lsn = NULL;
	l->nq--;
	atomic_store_explicit(&pe_slot(pe, l->slot)->accq[pe->e], l->nq,
			      memory_order_release);
	if (l->g->paused && l->nq < l->backlog) {
		l->g->paused = false;
		dpt_listen_set_accepting(pe->eng, l->ip, l->port, 1);
	}
	slot_bind_conn(pe, sc, m->arg, m->arg2, SHM_ST_ESTABLISHED);
	dpt_conn_info(sc->c, &ci);
	r->ip = ci.remote_ip;
	r->port = ci.remote_port;
	r->lip = ci.local_ip;
	r->lport = ci.local_port;
	r->arg = m->arg;
	return 0;
}

static int
cmd_connect(struct shim_pe *pe, const struct shm_msg *m, struct shm_msg *r)
{
	struct shim_conn *sc;
	struct tcp_conn *c = NULL;
	struct dpt_conn_info ci;
	int ret;

	if (!slot_free_here(pe, m->slot))
		return -EBADF;
	if (m->ip == 0 || m->port == 0)
		return -EINVAL;
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	sc->pe = pe;
	sc->st = pe->st;
	sc->slot = SLOT_NONE;
	ret = dpt_connect(pe->eng, m->ip, m->port, m->lport, shim_event, sc, &c);
	if (ret < 0) {
		free(sc);
		return ret;
	}
	sc->c = c;
	slot_bind_conn(pe, sc, m->slot, m->gen, SHM_ST_CONNECTING);
	st_inc(&pe->st->connects, 1);
	dpt_conn_info(c, &ci);
	r->lip = ci.local_ip;
	r->lport = ci.local_port;
	r->ip = ci.remote_ip;
	r->port = ci.remote_port;
	return 0;
}

/* CLOSE / UNLISTEN from a member: drop its reference. True when others
 * still hold the slot (the command then does nothing more). */
static bool
slot_still_held(struct shim_pe *pe, const struct shm_msg *m)
{
	struct shim_pslot *p = &pe->ps[m->slot];

	p->members &= ~(1ull << m->member);
	return p->members != 0;
}

static void
pe_exec(struct shim_pe *pe, const struct shm_msg *m, struct shm_msg *r)
{
	struct shim_conn *sc;
	struct shim_lsn *l;

	memset(r, 0, sizeof(*r));
	r->op = m->op;
	r->seq = m->seq;
	r->slot = m->slot;
	r->gen = m->gen;
	if (m->member >= SHM_MAX_MEMBERS ||
	    !(pe->members & (1ull << m->member))) {
		/* A departed member's leftover (or a lie): nothing to do. */
		r->status = -ESRCH;
		return;
	}
	switch (m->op) {
	case SHM_OP_LISTEN:
		r->status = cmd_listen(pe, m);
		break;
	case SHM_OP_UNLISTEN:
		l = cmd_lsn(pe, m);
		if (l == NULL)
			r->status = -EBADF;
		else if (slot_still_held(pe, m))
			r->status = SHM_HELD;
		else
			lsn_drop(pe, l);
		break;
	case SHM_OP_ACCEPT:
		r->status = cmd_accept(pe, m, r);
		break;
	case SHM_OP_CONNECT:
		r->status = cmd_connect(pe, m, r);
		break;
	case SHM_OP_SHUTDOWN:
		sc = cmd_conn(pe, m);
		if (sc == NULL)
			r->status = -EBADF;
		else if (sc->c != NULL) {
			sc->shut_pending = true;
			conn_activate(pe, sc);
		}
		break;
	case SHM_OP_CLOSE:
		sc = cmd_conn(pe, m);
		if (sc == NULL) {
			r->status = -EBADF;
			break;
		}
		if (slot_still_held(pe, m)) {
			r->status = SHM_HELD;
			break;
		}
		if (m->arg != 0 || conn_unread(pe, sc, pe_slot(pe, sc->slot))) {
			if (sc->c != NULL)
				st_inc(&pe->st->resets_on_close, 1);
			conn_close_now(pe, sc, true);
		} else {
			sc->close_pending = true;
			conn_activate(pe, sc);   /* drains, then dpt_close() */
		}
		break;
	case SHM_OP_SETOPT:
		sc = cmd_conn(pe, m);
		if (sc == NULL)
			r->status = -EBADF;
		else if (sc->c == NULL)
			r->status = 0;
		else
			r->status = dpt_setopt(pe->eng, sc->c,
					       (enum dpt_opt)m->arg,
					       (int)m->arg2);
		break;
	default:
		pe_violation(pe, SHIM_VIOL_BAD_OP, "unknown command");
		r->status = -EINVAL;
		break;
	}
	/* A correct shim never names a slot that is not its own here. */
	if (r->status == -EBADF)
		pe_violation(pe, SHIM_VIOL_BAD_SLOT, "command on a slot not bound here");
	/* A new slot belongs to its creator (the accepted one for ACCEPT). */
	if (r->status == 0 && (m->op == SHM_OP_LISTEN ||
			       m->op == SHM_OP_CONNECT))
		pe->ps[m->slot].members = 1ull << m->member;
	else if (r->status == 0 && m->op == SHM_OP_ACCEPT)
		pe->ps[m->arg].members = 1ull << m->member;
}

static void
pe_commands(struct shim_pe *pe)
{
	struct shim_prog *p = pe->p;
	uint32_t c;

	for (c = 0; c < p->n_channels && !pe->violated; c++) {
		struct shm_q *cq = shm_cmdq(p->base, &p->lay, c, pe->e);
		struct shm_q *eq = shm_evtq(p->base, &p->lay, c, pe->e);
		uint32_t prod = atomic_load_explicit(&cq->prod,
						     memory_order_acquire);
		uint32_t n = prod - pe->cmd_cons[c], done = 0;
		bool posted = false;

		if (n == 0)
			continue;
		if (n > SHM_QLEN) {
			pe_violation(pe, SHIM_VIOL_CMDQ_INDEX, "command queue index out of range");
			return;
		}
		while (n > 0 && done < CMDS_PER_POLL && !pe->violated) {
			uint32_t econs = atomic_load_explicit(&eq->cons,
							memory_order_acquire);
			uint32_t used = pe->evt_prod[c] - econs;
			struct shm_msg m, r;

			if (used > SHM_QLEN) {
				pe_violation(pe, SHIM_VIOL_EVTQ_INDEX, "event queue index out of range");
				return;
			}
			if (used == SHM_QLEN)
				break;           /* the program will drain it */
			memcpy(&m, &cq->e[pe->cmd_cons[c] % SHM_QLEN], sizeof(m));
			pe->cmd_cons[c]++;
			n--;
			done++;
			pe_exec(pe, &m, &r);
			memcpy(&eq->e[pe->evt_prod[c] % SHM_QLEN], &r, sizeof(r));
			pe->evt_prod[c]++;
			atomic_store_explicit(&eq->prod, pe->evt_prod[c],
					      memory_order_release);
			posted = true;
		}
		atomic_store_explicit(&cq->cons, pe->cmd_cons[c],
				      memory_order_release);
		st_inc(&pe->st->commands, done);
		if (posted) {
			struct shm_chan *ch = shm_chan_at(p->base, &p->lay, c);

			atomic_thread_fence(memory_order_seq_cst);
			if (atomic_load_explicit(&ch->sleeping,
						 memory_order_relaxed) != 0 &&
			    atomic_exchange(&ch->sleeping, 0) != 0)
				pe->wake |= 1ull << c;
		}
	}
}

/* --- program life ------------------------------------------------------ */

static void
pe_let_go_all(struct shim_pe *pe)
{
	struct shim_conn *sc, *next;
	uint32_t s;

	for (s = 0; s < pe->p->max_sockets; s++)
		if (pe->ps[s].kind == PS_LSN)
			lsn_drop(pe, pe->ps[s].obj);
	for (sc = TAILQ_FIRST(&pe->conns); sc != NULL; sc = next) {
		next = TAILQ_NEXT(sc, link);
		if (pe->violated) {
			conn_close_now(pe, sc, true);
		} else if (!sc->close_pending) {
			bool unread = conn_unread(pe, sc,
						  pe_slot(pe, sc->slot));

			if (unread) {
				if (sc->c != NULL)
					st_inc(&pe->st->resets_on_close, 1);
				conn_close_now(pe, sc, true);
			} else {
				sc->close_pending = true;
				conn_activate(pe, sc);
			}
		}
	}
}

/* A fork: member to holds whatever member from holds, as a child holds
 * every descriptor of its parent. */
static void
pe_fork(struct shim_pe *pe, uint32_t from, uint32_t to)
{
	uint32_t s;

	pe->members |= 1ull << to;
	for (s = 0; s < pe->p->max_sockets; s++)
		if (pe->ps[s].kind != PS_NONE &&
		    (pe->ps[s].members & (1ull << from)))
			pe->ps[s].members |= 1ull << to;
}

/* Member m is gone (exit, kill, exec): its references go; a slot nobody
 * holds any more is closed as if the program had closed it. */
static void
pe_member_gone(struct shim_pe *pe, uint32_t m)
{
	struct shim_conn *sc, *next;
	uint64_t bit = 1ull << m;
	uint32_t s;

	pe->members &= ~bit;
	for (s = 0; s < pe->p->max_sockets; s++) {
		if (pe->ps[s].kind != PS_LSN || !(pe->ps[s].members & bit))
			continue;
		pe->ps[s].members &= ~bit;
		if (pe->ps[s].members == 0)
			lsn_drop(pe, pe->ps[s].obj);
	}
	for (sc = TAILQ_FIRST(&pe->conns); sc != NULL; sc = next) {
		struct shim_pslot *p;

		next = TAILQ_NEXT(sc, link);
		if (sc->slot == SLOT_NONE || sc->close_pending)
			continue;
		p = &pe->ps[sc->slot];
		if (!(p->members & bit))
			continue;
		p->members &= ~bit;
		if (p->members != 0)
			continue;
		if (conn_unread(pe, sc, pe_slot(pe, sc->slot))) {
			if (sc->c != NULL)
				st_inc(&pe->st->resets_on_close, 1);
			conn_close_now(pe, sc, true);
		} else {
			sc->close_pending = true;
			conn_activate(pe, sc);
		}
	}
}

static void
pe_detached(struct shim_eng *se, struct shim_pe *pe)
{
	struct shim_pe **pp;
	struct shim_ctl_msg *m;

	for (pp = &se->progs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == pe) {
			*pp = pe->next;
			break;
		}
	st_inc(&pe->st->programs, -1);
	m = malloc(sizeof(*m));
	if (m != NULL) {
		m->type = SHIM_MSG_DETACHED;
		m->engine = pe->e;
		m->prog = pe->p;
		/* The ring holds more than all programs' messages: never full. */
		while (rte_ring_enqueue(se->d->from_eng[pe->e], m) != 0)
			;
	}
	free(pe->ps);
	free(pe);
}

static void
eng_control(struct shim_eng *se, struct tcp_engine *eng, unsigned int e)
{
	struct shim_ctl_msg *m;
	struct shim_pe *pe;

	while (rte_ring_dequeue(se->d->to_eng[e], (void **)&m) == 0) {
		if (m->type == SHIM_MSG_ATTACH) {
			pe = calloc(1, sizeof(*pe));
			if (pe != NULL)
				pe->ps = calloc(m->prog->max_sockets,
						sizeof(*pe->ps));
			if (pe == NULL || pe->ps == NULL) {
				/* Cannot serve it: treat as detached at once. */
				DP_LOG(ERR, "shim: engine %u: no memory for program %u",
				       e, m->prog->id);
				if (pe != NULL)
					free(pe);
				m->type = SHIM_MSG_DETACHED;
				m->engine = e;
				while (rte_ring_enqueue(se->d->from_eng[e], m) != 0)
					;
				continue;
			}
			pe->p = m->prog;
			pe->eng = eng;
			pe->e = e;
			pe->st = &se->d->eng_stats[e];
			pe->chan_mask = m->prog->n_channels >= 64 ? UINT64_MAX :
					(1ull << m->prog->n_channels) - 1;
			pe->members = 1;     /* the first process is member 0 */
			TAILQ_INIT(&pe->conns);
			TAILQ_INIT(&pe->active);
			pe->next = se->progs;
			se->progs = pe;
			st_inc(&pe->st->programs, 1);
		} else if (m->type == SHIM_MSG_FORK) {
			for (pe = se->progs; pe != NULL; pe = pe->next)
				if (pe->p == m->prog)
					break;
			if (pe != NULL)
				pe_fork(pe, m->from, m->to);
			m->type = SHIM_MSG_FORKED;
			m->engine = e;
			while (rte_ring_enqueue(se->d->from_eng[e], m) != 0)
				;
			continue;        /* m is the answer now */
		} else if (m->type == SHIM_MSG_MEMBER_GONE) {
			for (pe = se->progs; pe != NULL; pe = pe->next)
				if (pe->p == m->prog)
					break;
			if (pe != NULL && !pe->dying)
				pe_member_gone(pe, m->from);
		} else if (m->type == SHIM_MSG_DETACH) {
			for (pe = se->progs; pe != NULL; pe = pe->next)
				if (pe->p == m->prog)
					break;
			if (pe != NULL && !pe->dying) {
				pe->dying = true;
				pe_let_go_all(pe);
			}
		}
		free(m);
	}
}

void
shim_eng_hook(struct tcp_engine *eng, uint64_t now_us, void *arg)
{
	struct shim_daemon *d = arg;
	unsigned int e = tcp_engine_id(eng);
	struct shim_eng *se = &shim_engs[e];
	struct shim_pe *pe, *next;

	(void)now_us;
	se->d = d;
	st_inc(&d->eng_stats[e].loops, 1);
	if (!rte_ring_empty(d->to_eng[e]))
		eng_control(se, eng, e);
	for (pe = se->progs; pe != NULL; pe = next) {
		next = pe->next;
		if (!pe->dying && !pe->violated) {
			pe_kicks(pe);
			pe_commands(pe);
		}
		pe_service_active(pe);
		if (pe->violated && !pe->aborted) {
			/* Stop at once: reset everything, wait for DETACH.
			 * Also when it was already dying: connections still
			 * draining its TX rings (close_pending) would never be
			 * serviced again once violated. */
			pe->dying = true;
			pe->aborted = true;
			pe_let_go_all(pe);
		}
		pe_flush_wake(pe);
		if (pe->dying && TAILQ_EMPTY(&pe->conns))
			pe_detached(se, pe);
	}
}

int
shim_eng_init(struct shim_daemon *d)
{
	unsigned int e;

	for (e = 0; e < d->n_engines; e++)
		shim_engs[e].d = d;
	return 0;
}

void
shim_eng_fini(struct shim_daemon *d)
{
	unsigned int e;
	struct shim_pe *pe;

	/* The loops have stopped: free our bookkeeping; the engines free
	 * their connections in dp_fini(). */
	for (e = 0; e < d->n_engines; e++) {
		while ((pe = shim_engs[e].progs) != NULL) {
			struct shim_conn *sc;
			uint32_t s;

			shim_engs[e].progs = pe->next;
			while ((sc = TAILQ_FIRST(&pe->conns)) != NULL) {
				TAILQ_REMOVE(&pe->conns, sc, link);
				free(sc);
			}
			for (s = 0; s < pe->p->max_sockets; s++)
				if (pe->ps[s].kind == PS_LSN)
					free(pe->ps[s].obj);
			free(pe->ps);
			free(pe);
		}
	}
}
