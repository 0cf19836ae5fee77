/* tcp_listen.c — listeners: the LISTEN state's segment processing
 * (RFC 9293 §3.10.7.2) with the SYNs of a burst answered as one batch at
 * its end, a bounded SYN queue (SYN_RECEIVED children; beyond it, SYN
 * cookies: tcp_cookie.c) and a bounded accept queue (ESTABLISHED, not yet
 * handed to the application). */
#include <errno.h>
#include <string.h>

#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "tcp_internal.h"

static struct tcp_listen_key listen_key(uint32_t ip_be, uint16_t port_be)
{
	return (struct tcp_listen_key){ .ip = ip_be, .port = port_be };
}

/* The signature computed inline (one crc32 instruction for the 8-byte
 * key; the table's hash_func is the same rte_hash_crc), as tcp_table.c
 * does: a SYN costs two of these lookups (exact address, then any). */
static struct tcp_listener *lookup(struct tcp_engine *eng,
				   const struct tcp_listen_key *k)
{
	void *data;

	if (rte_hash_lookup_with_hash_data(eng->listeners, k,
			rte_hash_crc(k, sizeof(*k), 0), &data) < 0)
		return NULL;
	return data;
}

struct tcp_listener *tcp_listener_find(struct tcp_engine *eng,
				       uint32_t ip, uint16_t port)
{
	struct tcp_listen_key k = listen_key(ip, port);
	struct tcp_listener *l = lookup(eng, &k);

	if (l == NULL && eng->nlisteners > 0) {
		k.ip = 0;
		l = lookup(eng, &k);
	}
	return l;
}

/* RFC 9293 §3.10.7.2: LISTEN. A SYN joins the burst's listener batch; an
 * ACK may be the answer to one of our SYN cookies, otherwise it is reset. */
void tcp_listen_input(struct tcp_engine *eng, struct tcp_listener *l,
		      struct tcp_seg *seg)
{
	if (seg->flags & TH_RST)
		return;
	if (seg->flags & TH_ACK) {
		if ((seg->flags & TH_SYN) || !tcp_cookie_accept(eng, l, seg)) {
			eng->stats.tx_rst_listen_ack++;
			tcp_send_rst_for(eng, seg);
		}
		return;
	}
	if (!(seg->flags & TH_SYN))
		return;
	tcp_listen_syn(eng, l, seg, NULL);
}

/* Keeps what the answer to a SYN needs until the end of the burst
 * (the mbuf is freed before). iss_floor: the ISS must exceed it by more
 * than a window (a TIME_WAIT tuple reused, RFC 1122 §4.2.2.13). */
void tcp_listen_syn(struct tcp_engine *eng, struct tcp_listener *l,
		    const struct tcp_seg *seg, const uint32_t *iss_floor)
{
	struct tcp_syn_req *r;

	if (eng->nsyn == TCP_BURST_MAX)
		tcp_listen_flush(eng);
	r = &eng->syn_batch[eng->nsyn++];
	*r = (struct tcp_syn_req){
		.l = l,
		.tuple = {
			.lip = seg->ip->dst_addr, .rip = seg->ip->src_addr,
			.lport = seg->th->dst_port, .rport = seg->th->src_port,
		},
		.irs = seg->seq, .wnd = seg->wnd,
		.iss_floor = iss_floor != NULL ? *iss_floor : 0,
		.has_floor = iss_floor != NULL,
		.opts = seg->opts,
	};
	tcp_bits_set(eng->syn_bits, tcp_tuple_bit(&r->tuple));
}

bool tcp_listen_batch_has(const struct tcp_engine *eng,
			  const struct tcp_tuple *t)
{
	uint16_t i;

	if (!tcp_bits_test(eng->syn_bits, tcp_tuple_bit(t)))
		return false;
	for (i = 0; i < eng->nsyn; i++)
		if (tcp_tuple_eq(&eng->syn_batch[i].tuple, t))
			return true;
	return false;
}

/* A SYN_RECEIVED child for the SYN (RFC 9293 §3.10.7.2: "set RCV.NXT to
 * SEG.SEQ+1, IRS is set to SEG.SEQ ... <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>"). */
static void syn_child(struct tcp_engine *eng, struct tcp_listener *l,
		      const struct tcp_syn_req *r)
{
	struct tcp_seg syn = { .seq = r->irs, .wnd = r->wnd, .opts = r->opts };
	struct tcp_conn *c = tcp_conn_alloc(eng, &r->tuple);

	if (c == NULL)
		return;                 /* counted conn_limit */
	c->flags |= TF_PASSIVE;
	c->listener = l;
	TAILQ_INSERT_TAIL(&l->syn_q, c, lnode);
	l->syn_count++;
	tcp_conn_init_from_syn(eng, c, &syn);
	if (r->has_floor && seq_leq(c->iss, r->iss_floor + 65535))
		tcp_conn_set_iss(c, r->iss_floor + 65536 + (c->iss & 0xffff));
	tcp_set_state(eng, c, DPT_SYN_RECEIVED);
	tcp_output_mark(eng, c);       /* SYN,ACK */
}

static void syn_answer(struct tcp_engine *eng, const struct tcp_syn_req *r)
{
	struct tcp_listener *l = r->l;

	if (l->closed) {
		/* Unlistened during the burst: as if its child were reset. */
		l = tcp_listener_find(eng, r->tuple.lip, r->tuple.lport);
		if (l == NULL) {
			eng->stats.rx_no_conn++;
			tcp_send_rst_tuple(eng, &r->tuple, 0, r->irs + 1,
					   TH_RST | TH_ACK);
			return;
		}
	}
	if (l->accept_count >= l->backlog) {
		/* Dropped, not refused: the client retries (as Linux). */
		eng->stats.listen_overflow++;
		return;
	}
	if (tcp_cookie_wanted(eng, l)) {
		tcp_cookie_send(eng, l, r);
		return;
	}
	if (l->syn_count >= eng->cfg.syn_backlog) {
		eng->stats.listen_overflow++;
		return;
	}
	syn_child(eng, l, r);
}

/* Answers the burst's SYNs, oldest first; their SYN-ACKs leave with the
 * rest of the batch's output. */
void tcp_listen_flush(struct tcp_engine *eng)
{
	uint16_t i, n = eng->nsyn;

	if (n == 0)
		return;
	eng->nsyn = 0;
	memset(eng->syn_bits, 0, sizeof(eng->syn_bits));
	for (i = 0; i < n; i++)
		syn_answer(eng, &eng->syn_batch[i]);
}

/* Hands every queued connection to the application, oldest first. */
void tcp_listen_deliver(struct tcp_engine *eng, struct tcp_listener *l)
{
	struct tcp_conn *c;

	while (l->accepting && (c = TAILQ_FIRST(&l->accept_q)) != NULL) {
		TAILQ_REMOVE(&l->accept_q, c, lnode);
		l->accept_count--;
		c->listener = NULL;
		c->flags &= ~TF_ACCEPTQ;
		c->fn = l->fn;
		c->user = l->user;
		tcp_event(eng, c, DPT_EV_ACCEPTED, 0);
		if (!(c->flags & TF_DEAD) && c->rcvq.bytes > 0)
			tcp_event(eng, c, DPT_EV_READABLE, 0);
		if (!(c->flags & TF_DEAD) && (c->flags & TF_RCVD_FIN))
			tcp_event(eng, c, DPT_EV_PEER_CLOSED, 0);
	}
}

/* SYN_RECEIVED -> ESTABLISHED for a passive open: move to the accept queue
 * or refuse (the caller drops the ACK; the SYN,ACK will be retransmitted). */
int tcp_listen_established(struct tcp_engine *eng, struct tcp_conn *c)
{
	struct tcp_listener *l = c->listener;

	if (l->accept_count >= l->backlog) {
		eng->stats.accept_overflow++;
		return -ENOSPC;
	}
	TAILQ_REMOVE(&l->syn_q, c, lnode);
	l->syn_count--;
	TAILQ_INSERT_TAIL(&l->accept_q, c, lnode);
	l->accept_count++;
	c->flags |= TF_ACCEPTQ;
	tcp_set_state(eng, c, DPT_ESTABLISHED);
	eng->stats.conn_opened_passive++;
	tcp_listen_deliver(eng, l);
	return 0;
}

void tcp_listen_detach(struct tcp_engine *eng, struct tcp_conn *c)
{
	struct tcp_listener *l = c->listener;

	if (l == NULL)
		return;
	TAILQ_REMOVE(c->flags & TF_ACCEPTQ ? &l->accept_q : &l->syn_q, c,
		     lnode);
	if (c->flags & TF_ACCEPTQ)
		l->accept_count--;
	else
		l->syn_count--;
	c->flags &= ~TF_ACCEPTQ;
	c->listener = NULL;
}

static void reset_children(struct tcp_engine *eng, struct tcp_listener *l)
{
	struct tcp_conn *c;

	while ((c = TAILQ_FIRST(&l->syn_q)) != NULL ||
	       (c = TAILQ_FIRST(&l->accept_q)) != NULL) {
		tcp_send_rst_conn(eng, c);
		tcp_conn_release(eng, c);
	}
}

int dpt_listen(struct tcp_engine *eng, uint32_t ip, uint16_t port,
	       int backlog, dpt_event_fn fn, void *user)
{
	struct tcp_listen_key k;
	struct tcp_listener *l;

	if (port == 0 || fn == NULL || backlog < 0)
		return -EINVAL;
	if (ip != 0 && rte_cpu_to_be_32(ip) != eng->local_ip)
		return -EADDRNOTAVAIL;
	k = listen_key(rte_cpu_to_be_32(ip), rte_cpu_to_be_16(port));
	if (lookup(eng, &k) != NULL)
		return -EADDRINUSE;
	l = rte_zmalloc("tcp_listener", sizeof(*l), 0);
	if (l == NULL)
		return -ENOMEM;
	l->key = k;
	l->backlog = backlog ? (uint32_t)backlog : eng->cfg.backlog;
	l->fn = fn;
	l->user = user;
	l->accepting = true;
	TAILQ_INIT(&l->syn_q);
	TAILQ_INIT(&l->accept_q);
	if (rte_hash_add_key_data(eng->listeners, &k, l) < 0) {
		rte_free(l);
		return -ENOMEM;
	}
	eng->nlisteners++;
	return 0;
}

static struct tcp_listener *find_exact(struct tcp_engine *eng, uint32_t ip,
				       uint16_t port)
{
	struct tcp_listen_key k = listen_key(rte_cpu_to_be_32(ip),
					     rte_cpu_to_be_16(port));
	return lookup(eng, &k);
}

int dpt_unlisten(struct tcp_engine *eng, uint32_t ip, uint16_t port)
{
	struct tcp_listener *l = find_exact(eng, ip, port);

	if (l == NULL)
		return -ENOENT;
	tcp_api_enter(eng);
	reset_children(eng, l);
	rte_hash_del_key(eng->listeners, &l->key);
	eng->nlisteners--;
	l->closed = true;
	/* May be called from this listener's own ACCEPTED callback, inside
	 * tcp_listen_deliver(): free it when the batch ends. */
	l->accepting = false;
	l->dead_next = eng->dead_listeners;
	eng->dead_listeners = l;
	tcp_engine_leave(eng);
	return 0;
}

int dpt_listen_set_accepting(struct tcp_engine *eng, uint32_t ip,
			     uint16_t port, int on)
{
	struct tcp_listener *l = find_exact(eng, ip, port);

	if (l == NULL)
		return -ENOENT;
	l->accepting = on != 0;
	tcp_api_enter(eng);
	tcp_listen_deliver(eng, l);
	tcp_engine_leave(eng);
	return 0;
}

void tcp_listeners_reap(struct tcp_engine *eng)
{
	while (eng->dead_listeners != NULL) {
		struct tcp_listener *l = eng->dead_listeners;
		eng->dead_listeners = l->dead_next;
		rte_free(l);
	}
}

void tcp_listeners_free(struct tcp_engine *eng)
{
	tcp_listeners_reap(eng);
	const void *key;
	void *data;
	uint32_t iter = 0;

	while (rte_hash_iterate(eng->listeners, &key, &data, &iter) >= 0)
		rte_free(data);
	rte_hash_reset(eng->listeners);
	eng->nlisteners = 0;
}
