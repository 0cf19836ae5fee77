/* tcp_user.c — the application's calls (RFC 9293 §3.10.1-§3.10.6: OPEN,
 * SEND, RECEIVE, CLOSE, ABORT, STATUS) on the engine's own core. Output
 * they cause is sent at the end of the current batch, or at once when
 * called between batches. */
#include <errno.h>
#include <string.h>

#include "tcp_internal.h"

/* Called outside input/poll: send now rather than at the next poll. */
static void kick(struct tcp_engine *eng)
{
	if (eng->depth == 0) {
		tcp_api_enter(eng);
		tcp_engine_leave(eng);
	}
}

static bool port_owned(struct tcp_engine *eng, const struct tcp_tuple *t,
		       uint16_t lport)
{
	return eng->owned == NULL ||
	       eng->owned(eng->owned_ctx, rte_be_to_cpu_32(t->lip), lport,
			  rte_be_to_cpu_32(t->rip), rte_be_to_cpu_16(t->rport));
}

/* The per-engine ephemeral port pool: a cursor walks the range, so
 * consecutive connects take consecutive ports this engine owns (with N
 * engines about every N-th), and a port is free when its 4-tuple has no
 * entry in the table — which holds connections and TIME_WAIT records
 * alike. Amortised O(N) per connect while the range has room; a
 * destination found full is remembered until some tuple is freed, so a
 * connect storm against it fails in O(1) instead of rescanning. */
static int pick_port(struct tcp_engine *eng, struct tcp_tuple *t)
{
	uint16_t lo = (uint16_t)eng->cfg.ephemeral_port_lo;
	uint16_t hi = (uint16_t)eng->cfg.ephemeral_port_hi;
	uint32_t range = (uint32_t)(hi - lo) + 1, i;

	if (eng->eph_full.valid && eng->eph_full.rip == t->rip &&
	    eng->eph_full.rport == t->rport &&
	    eng->eph_full.tuples_freed == eng->tuples_freed)
		return -EADDRNOTAVAIL;
	for (i = 0; i < range; i++) {
		uint16_t p = eng->next_ephemeral;
		eng->next_ephemeral = p >= hi ? lo : (uint16_t)(p + 1);
		t->lport = rte_cpu_to_be_16(p);
		if (!port_owned(eng, t, p))
			continue;        /* replies would reach another core */
		if (tcp_table_lookup(eng, t) == NULL)
			return 0;
	}
	eng->eph_full.valid = true;
	eng->eph_full.rip = t->rip;
	eng->eph_full.rport = t->rport;
	eng->eph_full.tuples_freed = eng->tuples_freed;
	return -EADDRNOTAVAIL;
}

int dpt_connect(struct tcp_engine *eng, uint32_t ip, uint16_t port,
		uint16_t lport, dpt_event_fn fn, void *user,
		struct tcp_conn **out)
{
	struct tcp_tuple t = {
		.lip = eng->local_ip, .rip = rte_cpu_to_be_32(ip),
		.rport = rte_cpu_to_be_16(port),
	};
	struct tcp_conn *c;
	int rc;

	if (ip == 0 || port == 0 || fn == NULL || out == NULL)
		return -EINVAL;
	if (lport != 0) {
		t.lport = rte_cpu_to_be_16(lport);
		if (!port_owned(eng, &t, lport))
			return -EADDRNOTAVAIL;   /* replies go to another core */
		if (tcp_table_lookup(eng, &t) != NULL)
			return -EADDRINUSE;      /* TIME_WAIT included */
	} else if ((rc = pick_port(eng, &t)) < 0) {
		return rc;
	}
	c = tcp_conn_alloc(eng, &t);
	if (c == NULL)
		return -ENOBUFS;
	c->fn = fn;
	c->user = user;
	c->snd_mss = eng->our_mss;
	tcp_set_state(eng, c, DPT_SYN_SENT);
	tcp_output_mark(eng, c);
	*out = c;
	kick(eng);
	return 0;
}

static bool can_send(const struct tcp_conn *c)
{
	return (c->state == DPT_ESTABLISHED || c->state == DPT_CLOSE_WAIT) &&
	       !(c->flags & TF_FIN_QUEUED);
}

ssize_t dpt_send(struct tcp_engine *eng, struct tcp_conn *c, const void *buf,
		 size_t len)
{
	const uint8_t *src = buf;
	size_t done = 0;

	if (c->state == DPT_SYN_SENT || c->state == DPT_SYN_RECEIVED)
		return -ENOTCONN;
	if (!can_send(c))
		return -EPIPE;
	while (done < len && c->sndq.bytes < c->snd_buf) {
		struct rte_mbuf *m = c->sndq.tail;
		size_t n;

		if (m == NULL || rte_pktmbuf_tailroom(m) == 0) {
			m = rte_pktmbuf_alloc(eng->pool);
			if (m == NULL) {
				eng->stats.tx_nombuf++;
				break;
			}
			m->data_off = 0;
			if (c->sndq.tail == NULL)
				c->sndq.head = m;
			else
				c->sndq.tail->next = m;
			c->sndq.tail = m;
		}
		n = RTE_MIN(len - done, (size_t)rte_pktmbuf_tailroom(m));
		n = RTE_MIN(n, (size_t)(c->snd_buf - c->sndq.bytes));
		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len),
		       src + done, n);
		m->data_len = (uint16_t)(m->data_len + n);
		m->pkt_len = m->data_len;
		c->sndq.bytes += (uint32_t)n;
		done += n;
	}
	if (done < len)
		c->flags |= TF_WANT_WRITE;
	if (done == 0)
		return c->sndq.bytes < c->snd_buf ? -ENOBUFS : -EAGAIN;
	tcp_output_mark(eng, c);
	kick(eng);
	return (ssize_t)done;
}

/* After the application read: a window update goes at once when the
 * right edge can move (by the receiver's SWS step, see tcp_rcv_window())
 * and the window the peer knows is below half the buffer, so it may be
 * stalled on it (RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.3.3; Linux's
 * tcp_cleanup_rbuf() has the same "small window" test). A larger window
 * reaches the peer with the next ACK. */
static void window_update(struct tcp_engine *eng, struct tcp_conn *c)
{
	uint32_t adv = seq_gt(c->rcv_adv, c->rcv_nxt) ?
		       c->rcv_adv - c->rcv_nxt : 0;

	if (!tcp_synchronized(c->state) || (c->flags & TF_RCVD_FIN))
		return;
	if (adv < c->rcv_buf / 2 && tcp_rcv_window(c) > adv) {
		eng->stats.win_updates++;
		c->flags |= TF_ACK_NOW;
		tcp_output_mark(eng, c);
		kick(eng);
	}
}

ssize_t dpt_recv(struct tcp_engine *eng, struct tcp_conn *c, void *buf,
		 size_t len)
{
	uint8_t *dst = buf;
	size_t done = 0;

	if (c->rcvq.bytes == 0) {
		if (c->flags & TF_RCVD_FIN)
			return 0;
		if (c->state == DPT_SYN_SENT || c->state == DPT_SYN_RECEIVED)
			return -ENOTCONN;
		if (c->state == DPT_CLOSED)
			return 0;
		return -EAGAIN;
	}
	while (done < len && c->rcvq.head != NULL) {
		struct rte_mbuf *m = c->rcvq.head;
		size_t n = RTE_MIN(len - done, (size_t)m->data_len);

		memcpy(dst + done, rte_pktmbuf_mtod(m, uint8_t *), n);
		done += n;
		if (n < m->data_len) {
			rte_pktmbuf_adj(m, (uint16_t)n);
			break;
		}
		c->rcvq.head = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	if (c->rcvq.head == NULL)
		c->rcvq.tail = NULL;
	c->rcvq.bytes -= (uint32_t)done;
	if ((c->flags & TF_CLOSE_PENDING) && c->rcvq.bytes == 0)
		/* CLOSED at the next tick, not inside this call. */
		tcp_timer_arm(&eng->wheel, &c->t_delack,
			      tcp_us_to_tick(eng, eng->now_us) + 1);
	else
		window_update(eng, c);
	return (ssize_t)done;
}

size_t dpt_readable(const struct tcp_conn *c)
{
	return c->rcvq.bytes;
}

size_t dpt_writable(const struct tcp_conn *c)
{
	return can_send(c) ? c->snd_buf - c->sndq.bytes : 0;
}

/* Queues our FIN after the data (RFC 9293 §3.10.4). */
static int queue_fin(struct tcp_engine *eng, struct tcp_conn *c)
{
	switch (c->state) {
	case DPT_SYN_RECEIVED:
	case DPT_ESTABLISHED:
		tcp_set_state(eng, c, DPT_FIN_WAIT_1);
		break;
	case DPT_CLOSE_WAIT:
		tcp_set_state(eng, c, DPT_LAST_ACK);
		break;
	default:
		return 0;                  /* FIN already queued */
	}
	c->flags |= TF_FIN_QUEUED;
	tcp_output_mark(eng, c);
	return 0;
}

int dpt_shutdown(struct tcp_engine *eng, struct tcp_conn *c)
{
	if (c->state == DPT_SYN_SENT)
		return -ENOTCONN;
	queue_fin(eng, c);
	kick(eng);
	return 0;
}

int dpt_close(struct tcp_engine *eng, struct tcp_conn *c)
{
	if (c->flags & (TF_APP_CLOSED | TF_DETACHED))
		return -EBADF;
	c->flags |= TF_APP_CLOSED;
	tcp_api_enter(eng);
	if (c->state == DPT_TIME_WAIT) {
		/* CLOSED was owed once the data was read; it is given up. */
		tcp_mq_free(&c->rcvq);
		c->flags &= ~TF_CLOSE_PENDING;
		tcp_event(eng, c, DPT_EV_CLOSED, 0);
		tcp_tw_from_conn(eng, c);
	} else if (c->state == DPT_SYN_SENT) {
		tcp_conn_finish(eng, c, DPT_EV_CLOSED, 0);
	} else if (c->rcvq.bytes > 0) {
		/* Unread data is lost: tell the peer (RFC 2525 §2.17). */
		tcp_send_rst_conn(eng, c);
		tcp_conn_finish(eng, c, DPT_EV_CLOSED, 0);
	} else {
		queue_fin(eng, c);
		if (c->state == DPT_FIN_WAIT_2 && eng->cfg.fin_wait2_ms)
			tcp_timer_arm(&eng->wheel, &c->t_linger,
				tcp_us_to_tick(eng, eng->now_us) +
				tcp_ms_to_tick(eng, eng->cfg.fin_wait2_ms));
	}
	tcp_engine_leave(eng);
	return 0;
}

int dpt_abort(struct tcp_engine *eng, struct tcp_conn *c)
{
	if (c->flags & TF_DEAD)
		return -EBADF;
	c->flags |= TF_DETACHED;
	tcp_api_enter(eng);
	tcp_send_rst_conn(eng, c);
	tcp_conn_release(eng, c);
	tcp_engine_leave(eng);
	return 0;
}

/* Linux's limits for TCP_KEEPIDLE/TCP_KEEPINTVL (MAX_TCP_KEEPIDLE,
 * MAX_TCP_KEEPINTVL) and TCP_KEEPCNT (MAX_TCP_KEEPCNT). */
#define KEEP_S_MAX 32767
#define KEEPCNT_MAX 127

int dpt_setopt(struct tcp_engine *eng, struct tcp_conn *c, enum dpt_opt opt,
	       int value)
{
	if (c->flags & (TF_DETACHED | TF_DEAD))
		return -EBADF;
	switch (opt) {
	case DPT_OPT_NODELAY:
		if (value) {
			c->flags |= TF_NODELAY;
			/* What Nagle held goes now (Linux pushes too). */
			tcp_output_mark(eng, c);
			kick(eng);
		} else {
			c->flags &= ~TF_NODELAY;
		}
		return 0;
	case DPT_OPT_KEEPALIVE:
		if (value && !(c->flags & TF_KEEPALIVE)) {
			c->flags |= TF_KEEPALIVE;
			/* The first probe idle seconds from now at the
			 * earliest, as Linux's SO_KEEPALIVE. */
			c->last_rx_us = RTE_MAX(c->last_rx_us, eng->now_us);
			tcp_keepalive_reset(eng, c);
		} else if (!value) {
			c->flags &= ~TF_KEEPALIVE;
			tcp_keepalive_reset(eng, c);
		}
		return 0;
	case DPT_OPT_KEEPIDLE_S:
		if (value < 1 || value > KEEP_S_MAX)
			return -EINVAL;
		c->ka_idle_s = (uint16_t)value;
		tcp_keepalive_reset(eng, c);
		return 0;
	case DPT_OPT_KEEPINTVL_S:
		if (value < 1 || value > KEEP_S_MAX)
			return -EINVAL;
		c->ka_intvl_s = (uint16_t)value;
		return 0;
	case DPT_OPT_KEEPCNT:
		if (value < 1 || value > KEEPCNT_MAX)
			return -EINVAL;
		c->ka_cnt = (uint8_t)value;
		return 0;
	}
	return -ENOPROTOOPT;
}

int dpt_getopt(struct tcp_engine *eng, const struct tcp_conn *c,
	       enum dpt_opt opt, int *value)
{
	(void)eng;
	if (value == NULL)
		return -EINVAL;
	if (c->flags & (TF_DETACHED | TF_DEAD))
		return -EBADF;
	switch (opt) {
	case DPT_OPT_NODELAY:
		*value = !!(c->flags & TF_NODELAY);
		return 0;
	case DPT_OPT_KEEPALIVE:
		*value = !!(c->flags & TF_KEEPALIVE);
		return 0;
	case DPT_OPT_KEEPIDLE_S:
		*value = c->ka_idle_s;
		return 0;
	case DPT_OPT_KEEPINTVL_S:
		*value = c->ka_intvl_s;
		return 0;
	case DPT_OPT_KEEPCNT:
		*value = c->ka_cnt;
		return 0;
	}
	return -ENOPROTOOPT;
}

void dpt_set_user(struct tcp_conn *c, void *user)
{
	c->user = user;
}

void *dpt_get_user(const struct tcp_conn *c)
{
	return c->user;
}

enum dpt_state dpt_conn_state(const struct tcp_conn *c)
{
	return c->state;
}

void dpt_conn_info(const struct tcp_conn *c, struct dpt_conn_info *out)
{
	*out = (struct dpt_conn_info){
		.local_ip = rte_be_to_cpu_32(c->tuple.lip),
		.remote_ip = rte_be_to_cpu_32(c->tuple.rip),
		.local_port = rte_be_to_cpu_16(c->tuple.lport),
		.remote_port = rte_be_to_cpu_16(c->tuple.rport),
		.state = c->state,
		.snd_una = c->snd_una, .snd_nxt = c->snd_nxt,
		.snd_wnd = c->snd_wnd, .rcv_nxt = c->rcv_nxt,
		.rcv_wnd = tcp_rcv_window(c), .mss = c->snd_mss,
		.srtt_us = c->srtt_us, .rto_us = c->rto_us,
		.min_rtt_us = c->rack.min_rtt_us,
		.cwnd = c->cwnd, .ssthresh = c->ssthresh,
		.retransmits = c->retransmits,
		.snd_queued = c->sndq.bytes, .rcv_queued = c->rcvq.bytes,
	};
}
