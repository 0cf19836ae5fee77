/* tcp_output.c — what to send: SYN/SYN-ACK, data within the peer's window
 * and cwnd (sender SWS avoidance and Nagle decide when a short segment
 * may go), FIN after the data, the window we offer (receiver SWS
 * avoidance), pure ACKs (at most one per connection per
 * batch, sent when the batch ends — the only exception being the
 * duplicate ACK owed at once to each out-of-order segment, RFC 5681 §4.2),
 * RSTs, retransmission on timeout (RFC 6298), zero-window and keepalive
 * probes.
 * Builds IPv4+TCP packets and hands a batch's packets to the transmit
 * function in one call at its end (earlier only past TCP_TXQ_MAX). */
#include <errno.h>
#include <string.h>

#include "tcp_internal.h"

/* The batch's output list is FIFO: connections send in the order they
 * became ready (a burst of SYNs is answered in arrival order). */
void tcp_output_mark(struct tcp_engine *eng, struct tcp_conn *c)
{
	if (c->flags & (TF_IN_OUTQ | TF_DEAD))
		return;
	c->flags |= TF_IN_OUTQ;
	c->out_next = NULL;
	if (eng->outq == NULL)
		eng->outq = c;
	else
		eng->outq_tail->out_next = c;
	eng->outq_tail = c;
}

void tcp_output_flush(struct tcp_engine *eng)
{
	while (eng->outq != NULL) {
		struct tcp_conn *c = eng->outq;
		eng->outq = c->out_next;
		c->flags &= ~TF_IN_OUTQ;
		if (!(c->flags & TF_DEAD))
			tcp_output(eng, c);
	}
}

void tcp_tx_flush(struct tcp_engine *eng)
{
	uint16_t n = eng->ntx, sent;

	if (n == 0)
		return;
	eng->ntx = 0;
	sent = eng->tx(eng->tx_ctx, eng->txq, n);
	if (sent < n) {
		eng->stats.tx_drop += n - sent;
		rte_pktmbuf_free_bulk(&eng->txq[sent], n - sent);
	}
}

static void tx_enqueue(struct tcp_engine *eng, struct rte_mbuf *m)
{
	eng->txq[eng->ntx++] = m;
	if (eng->ntx == TCP_TXQ_MAX)
		tcp_tx_flush(eng);
}

/* Copies len bytes at byte offset off of q into dst. The walk starts at
 * the queue's hint when off is at or past it (the next new segment),
 * else at the head (a retransmission), and leaves the hint at the mbuf
 * where the copy ended. */
static void mq_copy(struct tcp_mq *q, uint32_t off, uint8_t *dst,
		    uint32_t len)
{
	struct rte_mbuf *m = q->head;
	uint32_t base = 0;             /* queue offset of m's first byte */

	if (q->cur != NULL && off >= q->cur_off) {
		m = q->cur;
		base = q->cur_off;
	}
	off -= base;
	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		base += m->data_len;
		m = m->next;
	}
	while (len > 0 && m != NULL) {
		uint32_t n = RTE_MIN(len, (uint32_t)m->data_len - off);
		memcpy(dst, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), n);
		dst += n;
		len -= n;
		off += n;
		if (off < m->data_len)
			break;
		if (m->next == NULL)
			break;          /* the tail: the next copy starts here */
		off = 0;
		base += m->data_len;
		m = m->next;
	}
	q->cur = m;
	q->cur_off = base;
}

/* The window we offer. Receiver SWS avoidance (RFC 9293 §3.8.6.2.2,
 * RFC 1122 §4.2.3.3): the right edge RCV.NXT + RCV.WND moves only when it
 * can move by at least min(rcv_buf / 2, MSS), so a slow reader never
 * invites tiny segments; and it never moves back (§3.8.6: a window
 * offered is not shrunk). Every segment we send carries this.
 * With window scaling (RFC 7323 §2.3) at most 65535 << our shift; the
 * field rounds up rather than shrink the edge (wnd_field(), §2.4). */
uint32_t tcp_rcv_window(const struct tcp_conn *c)
{
	uint32_t used = c->rcvq.bytes + c->ooo_bytes;
	uint32_t free_bytes = c->rcv_buf > used ? c->rcv_buf - used : 0;
	uint32_t promised = seq_gt(c->rcv_adv, c->rcv_nxt) ?
			    c->rcv_adv - c->rcv_nxt : 0;
	uint32_t wnd = promised;

	if (free_bytes > promised &&
	    free_bytes - promised >= RTE_MIN(c->rcv_buf / 2, c->snd_mss))
		wnd = free_bytes;
	return RTE_MIN(wnd, TCP_MAX_WIN << c->rcv_wscale);
}

/* The window field for wnd bytes at shift ws (RFC 7323 §2.3): rounded
 * down, except that the edge already promised is kept by rounding up
 * (§2.4), as Linux does. *adv: the bytes the field offers. */
static uint16_t wnd_field(uint32_t wnd, uint32_t promised, uint8_t ws,
			  uint32_t *adv)
{
	uint32_t f = wnd >> ws;

	if ((f << ws) < promised)
		f = (promised + (1u << ws) - 1) >> ws;
	f = RTE_MIN(f, TCP_MAX_WIN);
	*adv = f << ws;
	return (uint16_t)f;
}

struct seg_spec {
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	const struct tcp_optspec *opts; /* NULL: no options */
	struct tcp_mq *data;         /* payload source, or NULL */
	uint32_t data_off, len;
};

/* Builds one IPv4+TCP packet for tuple t and queues it for transmission. */
static int emit(struct tcp_engine *eng, const struct tcp_tuple *t,
		const struct seg_spec *s)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(eng->pool);
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint32_t optlen = 0, hlen;
	uint8_t opts[40];

	if (m == NULL) {
		eng->stats.tx_nombuf++;
		return -ENOBUFS;
	}
	if (s->opts != NULL)
		optlen = tcp_write_options(s->opts, opts);
	hlen = sizeof(*ip) + sizeof(*th) + optlen;
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, hlen + s->len);
	if (ip == NULL) {
		rte_pktmbuf_free(m);
		eng->stats.tx_nombuf++;
		return -ENOBUFS;
	}
	th = (struct rte_tcp_hdr *)(ip + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(hlen + s->len));
	ip->packet_id = rte_cpu_to_be_16((uint16_t)eng->ip_id++);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->hdr_checksum = 0;
	ip->src_addr = t->lip;
	ip->dst_addr = t->rip;
	th->src_port = t->lport;
	th->dst_port = t->rport;
	th->sent_seq = rte_cpu_to_be_32(s->seq);
	th->recv_ack = rte_cpu_to_be_32(s->ack);
	th->data_off = (uint8_t)(((sizeof(*th) + optlen) / 4) << 4);
	th->tcp_flags = s->flags;
	th->rx_win = rte_cpu_to_be_16(s->wnd);
	th->cksum = 0;
	th->tcp_urp = 0;
	if (optlen)
		memcpy(th + 1, opts, optlen);
	if (s->len)
		mq_copy(s->data, s->data_off, (uint8_t *)ip + hlen, s->len);

	m->l2_len = 0;
	m->l3_len = sizeof(*ip);
	m->l4_len = (uint16_t)(sizeof(*th) + optlen);
	if (eng->tx_cksum_offload) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
			       RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else {
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	}
	eng->stats.tx_segs++;
	eng->stats.tx_bytes += s->len;
	tx_enqueue(eng, m);
	return 0;
}

/* Every segment we send on a connection carries the current ACK and
 * window, so sending one settles any ACK we owed. After a timeout snd_nxt
 * goes back to snd_una to resend (go-back-N), so the RFC's SND.NXT — the
 * sequence number of pure ACKs and RSTs — is snd_max: a pure ACK below what
 * the peer already received would be unacceptable to it (RFC 9293
 * §3.10.7.4), and two such peers would trade ACKs forever. */
static int conn_emit(struct tcp_engine *eng, struct tcp_conn *c,
		     struct seg_spec *s, struct tcp_optspec *o)
{
	uint32_t wnd = tcp_rcv_window(c), adv;
	uint32_t promised = seq_gt(c->rcv_adv, c->rcv_nxt) ?
			    c->rcv_adv - c->rcv_nxt : 0;
	bool ack;

	if (s->flags & TH_SYN) {
		/* RFC 7323 §2.2: the window of a SYN is never scaled. */
		adv = RTE_MIN(wnd, TCP_MAX_WIN);
		s->wnd = (uint16_t)adv;
	} else {
		s->wnd = wnd_field(wnd, promised, c->rcv_wscale, &adv);
	}
	ack = c->state != DPT_SYN_SENT || (s->flags & TH_ACK);
	if (ack) {
		s->ack = c->rcv_nxt;
		s->flags |= TH_ACK;
	}
	if (!(s->flags & TH_SYN) && (c->ts_ok || (ack && c->sack_ok))) {
		/* RFC 7323 §3.2: once negotiated, every segment carries TSopt;
		 * RFC 2018 §4: ACKs carry SACK blocks. */
		*o = (struct tcp_optspec){ .has_ts = c->ts_ok };
		o->ts_val = tcp_ts_now(eng, c->ts_offset);
		o->ts_ecr = c->ts_recent;
		if (ack && c->sack_ok)
			o->nsack = (uint8_t)tcp_sack_build(c, o->sack,
				c->ts_ok ? 3 : TCP_SACK_MAX);
		s->opts = o;
	}
	if (emit(eng, &c->tuple, s) < 0)
		return -ENOBUFS;
	if (s->opts != NULL && s->opts->nsack > 0) {
		eng->stats.tx_sack_blocks += s->opts->nsack;
		if (c->dsack_owed) {
			eng->stats.tx_dsack++;
			c->dsack_owed = false;
		}
	}
	if (ack)
		c->last_ack_sent = c->rcv_nxt;
	if (seq_gt(c->rcv_nxt + adv, c->rcv_adv) || promised == 0)
		c->rcv_adv = c->rcv_nxt + adv;
	c->rcv_wup = c->rcv_nxt;
	c->flags &= ~(TF_ACK_NOW | TF_DELACK);
	tcp_timer_stop(&eng->wheel, &c->t_delack);
	return 0;
}

/* Payload bytes a segment may carry: the MSS less the SACK blocks an ACK
 * would carry now (TSopt is already off snd_mss, RFC 7323 §3.2 / RFC 6691). */
static uint32_t seg_payload_max(const struct tcp_conn *c)
{
	uint32_t n;

	if (!c->sack_ok || (c->ooo == NULL && !c->dsack_owed))
		return c->snd_mss;
	n = c->ooo_blocks + c->dsack_owed;
	n = RTE_MIN(n, c->ts_ok ? 3u : (uint32_t)TCP_SACK_MAX);
	return RTE_MAX(c->snd_mss - (4 + 8 * n), 64u);
}

uint32_t tcp_rto_backed_off(const struct tcp_engine *eng,
			    const struct tcp_conn *c)
{
	uint64_t rto = (uint64_t)c->rto_us << RTE_MIN(c->retries, 20);

	return (uint32_t)RTE_MIN(rto, (uint64_t)eng->cfg.rto_max_ms * 1000);
}

void tcp_arm_rexmit(struct tcp_engine *eng, struct tcp_conn *c)
{
	tcp_timer_arm(&eng->wheel, &c->t_rexmit,
		      tcp_us_to_tick(eng, eng->now_us +
					  tcp_rto_backed_off(eng, c)) + 1);
}

/* The segment at SND.UNA goes again: an ACK of it that echoes an older
 * TSval was drawn by an earlier transmission (tcp_input.c's ack_advance()
 * takes no RTT sample from it). */
static void note_una_resent(struct tcp_engine *eng, struct tcp_conn *c,
			    uint32_t seq)
{
	if (seq == c->snd_una) {
		c->una_rxt_ts = tcp_ts_now(eng, c->ts_offset);
		c->flags |= TF_UNA_RXT;
	}
}

static void start_rtt(struct tcp_engine *eng, struct tcp_conn *c, uint32_t seq)
{
	if (!(c->flags & TF_RTT_TIMING) && seq == c->snd_max) {
		c->flags |= TF_RTT_TIMING;
		c->rtt_seq = seq;
		c->rtt_start_us = eng->now_us;
	}
}

/* SYN (SYN_SENT) or SYN-ACK (passive / simultaneous open), RFC 9293 §3.5. */
static bool send_syn(struct tcp_engine *eng, struct tcp_conn *c)
{
	struct tcp_optspec o;
	struct seg_spec s = {
		.seq = c->iss,
		.flags = TH_SYN | (c->state == DPT_SYN_SENT ? 0 : TH_ACK),
		.opts = &o,
	};

	tcp_syn_optspec(eng, c, &o);
	if (c->snd_max != c->iss)
		note_una_resent(eng, c, c->iss);
	start_rtt(eng, c, c->iss);
	if (conn_emit(eng, c, &s, &o) < 0)
		return false;
	c->snd_nxt = c->iss + 1;
	return true;
}

/* Nagle's algorithm (RFC 9293 §3.7.4, RFC 1122 §4.2.3.4) in Minshall's
 * form (RFC 9293 Appendix A.3, as Linux): new data that makes a segment
 * shorter than the MSS waits while an earlier short segment is not yet
 * acknowledged — one small segment in flight at a time. Full segments
 * never wait, so the tail of a large write goes with it; retransmissions
 * and a segment carrying our FIN are never held; DPT_OPT_NODELAY turns
 * it off. */
static bool nagle_holds(const struct tcp_conn *c, uint32_t seq)
{
	return !(c->flags & TF_NODELAY) && seq_geq(seq, c->snd_max) &&
	       seq_gt(c->snd_sml, c->snd_una);
}

/* Sends data and FIN from snd_nxt up to wnd_end, at most max_segs
 * segments; returns the sequence space sent. */
static uint32_t send_data(struct tcp_engine *eng, struct tcp_conn *c,
			  uint32_t wnd_end, uint32_t max_segs)
{
	uint32_t data_end = c->sndq_seq + c->sndq.bytes;
	uint32_t mss = seg_payload_max(c);
	struct tcp_optspec o;
	uint32_t sent = 0;

	while (max_segs-- > 0) {
		uint32_t seq = c->snd_nxt, lim = UINT32_MAX;
		uint32_t avail, usable, len;
		struct seg_spec s = { .data = &c->sndq };
		bool fin;

		/* Go-back-N after an RTO resends only what the peer has not
		 * SACKed since (RFC 6675 §5.1: the scoreboard was cleared at
		 * the RTO and holds only the SACKs that came after it). */
		if (c->sb.n > 0 && seq_lt(seq, c->snd_max)) {
			seq = tcp_sack_skip(c, seq, &lim);
			c->snd_nxt = seq;
		}
		avail = seq_lt(seq, data_end) ? data_end - seq : 0;
		usable = seq_lt(seq, wnd_end) ? wnd_end - seq : 0;
		len = RTE_MIN(RTE_MIN(RTE_MIN(avail, usable), mss), lim);
		s.seq = seq;
		s.data_off = seq - c->sndq_seq;

		if (avail > 0 && len == 0)
			break;                  /* window closed */
		/* RFC 9293 §3.8.6.2.1 (sender SWS avoidance): a segment shorter
		 * than the MSS while more data waits goes only if it is at least
		 * half the peer's largest window, or nothing is in flight.
		 * (A resent hole ends at the SACKed data: len == lim.) */
		if (len < mss && len < avail && len < lim &&
		    len < c->max_snd_wnd / 2 && c->snd_max != c->snd_una)
			break;
		fin = (c->flags & TF_FIN_QUEUED) && seq + len == data_end;
		/* "Full-sized" is what a segment can carry now: the SACK
		 * blocks our ACKs owe take room (seg_payload_max(); Linux's
		 * tcp_current_mss()), and a full segment is never small. */
		if (len > 0 && len < mss && !fin && nagle_holds(c, seq)) {
			eng->stats.nagle_delayed++;
			break;
		}
		if (len == 0 && !fin)
			break;
		s.len = len;
		s.flags = (uint8_t)((fin ? TH_FIN : 0) |
				    (len && seq + len == data_end ? TH_PSH : 0));
		start_rtt(eng, c, seq);
		if (conn_emit(eng, c, &s, &o) < 0)
			break;
		if (seq_lt(seq, c->snd_max)) {
			note_una_resent(eng, c, seq);
			eng->stats.retransmits++;
			if (seq_leq(seq, c->rtt_seq))
				c->flags &= ~TF_RTT_TIMING;
		}
		if (c->sack_ok && len > 0) {    /* RACK's send times */
			if (seq_gt(seq + len, c->snd_max))
				tcp_rack_sent(eng, c, seq + len);
			else
				tcp_rack_resent(eng, c, seq, seq + len);
		}
		c->snd_nxt = seq + len + (fin ? 1 : 0);
		if (len > 0 && len < mss &&
		    seq_geq(seq + len, c->snd_sml))
			c->snd_sml = seq + len;
		if (fin)
			c->flags |= TF_FIN_SENT;
		c->snd_max = seq_max(c->snd_max, c->snd_nxt);
		sent += len + (fin ? 1 : 0);
		if (fin)
			break;
	}
	return sent;
}

/* One new segment (RFC 6675 NextSeg rule 2, RFC 8985 §7.3 probe): the
 * peer's window bounds it, cwnd does not (the caller's pipe or PTO
 * decided). */
uint32_t tcp_send_new_segment(struct tcp_engine *eng, struct tcp_conn *c)
{
	if (c->snd_nxt != c->snd_max)
		return 0;
	return send_data(eng, c, c->snd_una + c->snd_wnd, 1);
}

/* Resends [seq, seq + len) of what was sent before, len at most max_len
 * and one SMSS, with the FIN if it ends there; snd_nxt does not move.
 * Returns the sequence space resent (0: nothing). */
uint32_t tcp_retransmit_seg(struct tcp_engine *eng, struct tcp_conn *c,
			    uint32_t seq, uint32_t max_len)
{
	uint32_t data_end = c->sndq_seq + c->sndq.bytes;
	uint32_t len = 0;
	bool fin;
	struct seg_spec s = { .seq = seq, .data = &c->sndq };
	struct tcp_optspec o;

	if (seq_lt(seq, c->sndq_seq) || !seq_lt(seq, c->snd_max))
		return 0;
	if (seq_lt(seq, data_end))
		len = RTE_MIN(RTE_MIN(data_end - seq, seg_payload_max(c)),
			      max_len);
	len = RTE_MIN(len, c->snd_max - seq);
	fin = (c->flags & TF_FIN_SENT) && seq + len == data_end &&
	      seq_gt(c->snd_max, data_end);
	if (len == 0 && !fin)
		return 0;
	s.len = len;
	s.data_off = seq - c->sndq_seq;
	s.flags = (uint8_t)((fin ? TH_FIN : 0) |
			    (len && seq + len == data_end ? TH_PSH : 0));
	if (conn_emit(eng, c, &s, &o) < 0)
		return 0;
	eng->stats.retransmits++;
	c->retransmits++;
	note_una_resent(eng, c, seq);
	if (c->sack_ok && len > 0)
		tcp_rack_resent(eng, c, seq, seq + len);
	if ((c->flags & TF_RTT_TIMING) && seq_leq(seq, c->rtt_seq))
		c->flags &= ~TF_RTT_TIMING;     /* Karn */
	return len + (fin ? 1 : 0);
}

void tcp_output(struct tcp_engine *eng, struct tcp_conn *c)
{
	bool sent = false;

	if (c->state == DPT_CLOSED || c->state == DPT_LISTEN)
		return;
	if (!(c->flags & TF_SYN_ACKED)) {
		if (c->snd_nxt == c->iss)
			sent = send_syn(eng, c);
		/* RFC 9293 §3.10.4: close in SYN_RECEIVED sends FIN at once
		 * when nothing is queued. */
		if (c->state == DPT_FIN_WAIT_1 && c->sndq.bytes == 0 &&
		    c->snd_nxt == c->iss + 1)
			sent |= send_data(eng, c, c->snd_una +
					  tcp_send_window(c), UINT32_MAX) > 0;
	} else if (c->state != DPT_TIME_WAIT) {
		if ((c->flags & TF_SACK_RECOVERY) ||
		    (c->sb.n > 0 && !(c->flags & (TF_RECOVERY | TF_RTO_RECOVER))))
			sent = tcp_sack_output(eng, c);
		else
			sent = send_data(eng, c, c->snd_una +
					 tcp_send_window(c), UINT32_MAX) > 0;
	}
	if (!sent && (c->flags & TF_ACK_NOW) && c->state != DPT_SYN_SENT) {
		struct seg_spec s = { .seq = c->snd_max };
		struct tcp_optspec o;
		conn_emit(eng, c, &s, &o);
	}
	c->snd_max = seq_max(c->snd_max, c->snd_nxt);

	if (c->snd_max != c->snd_una) {
		if (!tcp_timer_armed(&c->t_rexmit) || (c->flags & TF_PERSIST)) {
			c->flags &= ~TF_PERSIST;
			tcp_arm_rexmit(eng, c);
		}
	} else if (c->snd_wnd == 0 && c->sndq.bytes > 0 &&
		   !tcp_timer_armed(&c->t_rexmit)) {
		/* RFC 9293 §3.8.6.1: probe a zero window. */
		c->flags |= TF_PERSIST;
		tcp_arm_rexmit(eng, c);
	}
	tcp_tlp_arm(eng, c);
}

/* An ACK that cannot wait for the end of the batch: a duplicate ACK for
 * each out-of-order segment (RFC 5681 §4.2), so the sender can count three. */
void tcp_send_ack_now(struct tcp_engine *eng, struct tcp_conn *c)
{
	struct seg_spec s = { .seq = c->snd_max };
	struct tcp_optspec o;

	conn_emit(eng, c, &s, &o);
}

void tcp_send_ack(struct tcp_engine *eng, struct tcp_conn *c)
{
	c->flags |= TF_ACK_NOW;
	tcp_output_mark(eng, c);
}

void tcp_send_rst_tuple(struct tcp_engine *eng, const struct tcp_tuple *t,
			uint32_t seq, uint32_t ack, uint8_t flags)
{
	struct seg_spec s = { .seq = seq, .ack = ack, .flags = flags };

	if (emit(eng, t, &s) == 0)
		eng->stats.tx_rst++;
}

/* RFC 9293 §3.10.7.1: the reply to a segment that has no connection. */
void tcp_send_rst_for(struct tcp_engine *eng, const struct tcp_seg *seg)
{
	struct tcp_tuple t = {
		.lip = seg->ip->dst_addr, .rip = seg->ip->src_addr,
		.lport = seg->th->dst_port, .rport = seg->th->src_port,
	};

	if (seg->flags & TH_RST)
		return;
	if (seg->flags & TH_ACK)
		tcp_send_rst_tuple(eng, &t, seg->ack, 0, TH_RST);
	else
		tcp_send_rst_tuple(eng, &t, 0, seg->seq + seg->len +
				   !!(seg->flags & TH_SYN) +
				   !!(seg->flags & TH_FIN), TH_RST | TH_ACK);
}

/* A pure ACK with no TCB behind it: a TIME_WAIT record's, with the
 * window at the connection's shift and, when timestamps were on, TSopt. */
void tcp_send_ack_tw(struct tcp_engine *eng, const struct tcp_tw *tw)
{
	struct tcp_optspec o = { .has_ts = true, .ts_ecr = tw->ts_recent };
	struct seg_spec s = {
		.seq = tw->snd_nxt, .ack = tw->rcv_nxt, .flags = TH_ACK,
		/* rounded up: the edge the TCB offered stays (RFC 7323 §2.4) */
		.wnd = (uint16_t)RTE_MIN((tw->rcv_wnd + (1u << tw->rcv_wscale) - 1)
					 >> tw->rcv_wscale, TCP_MAX_WIN),
	};

	if (tw->flags & TW_TS) {
		o.ts_val = tcp_ts_now(eng, tcp_ts_offset(eng, tw->tuple.lip,
							 tw->tuple.rip));
		s.opts = &o;
	}
	emit(eng, &tw->tuple, &s);
}

/* A SYN-ACK with no TCB behind it (a SYN cookie), with options o.
 * RFC 7323 §2.2: the window of a SYN is never scaled. */
void tcp_send_synack_tuple(struct tcp_engine *eng, const struct tcp_tuple *t,
			   uint32_t iss, uint32_t ack, uint32_t wnd,
			   const struct tcp_optspec *o)
{
	struct seg_spec s = {
		.seq = iss, .ack = ack, .flags = TH_SYN | TH_ACK,
		.wnd = (uint16_t)RTE_MIN(wnd, TCP_MAX_WIN), .opts = o,
	};

	emit(eng, t, &s);
}

/* Abort: <SEQ=SND.NXT><CTL=RST> (RFC 9293 §3.10.5), with the ACK as Linux.
 * SND.NXT of the RFC is snd_max here (see conn_emit()). */
void tcp_send_rst_conn(struct tcp_engine *eng, struct tcp_conn *c)
{
	struct seg_spec s = {
		.seq = c->snd_max, .ack = c->rcv_nxt, .flags = TH_RST | TH_ACK,
	};

	if (c->state == DPT_SYN_SENT || c->state == DPT_CLOSED ||
	    c->state == DPT_TIME_WAIT)
		return;
	if (emit(eng, &c->tuple, &s) == 0)
		eng->stats.tx_rst++;
}

/* RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17: a zero-window probe, the first
 * one RTO after the window closed, then at exponentially growing
 * intervals (the backed-off RTO, at most rto_max_ms). The probe is an old
 * sequence number with no data, so it never goes beyond the window and
 * draws an ACK with the current window. A peer that answers keeps the
 * connection for ever; data_retries probes in a row with no answer at all
 * abort it (as Linux's tcp_retries2 does). */
static void persist_probe(struct tcp_engine *eng, struct tcp_conn *c)
{
	struct seg_spec s = { .seq = c->snd_una - 1 };
	struct tcp_optspec o;

	if (c->persist_unanswered >= eng->cfg.data_retries) {
		eng->stats.persist_timeouts++;
		eng->stats.conn_timeout++;
		tcp_send_rst_conn(eng, c);
		tcp_conn_finish(eng, c, DPT_EV_ERROR, -ETIMEDOUT);
		return;
	}
	conn_emit(eng, c, &s, &o);
	eng->stats.persist_probes++;
	c->persist_unanswered++;
	if (c->retries < 30)
		c->retries++;
	c->flags |= TF_PERSIST;
	tcp_arm_rexmit(eng, c);
}

/* RFC 1122 §4.2.3.6: a keepalive probe is <SEQ=SND.NXT-1> with no data,
 * which the peer must answer with an ACK. */
void tcp_send_keepalive_probe(struct tcp_engine *eng, struct tcp_conn *c)
{
	struct seg_spec s = { .seq = c->snd_max - 1 };
	struct tcp_optspec o;

	conn_emit(eng, c, &s, &o);
}

/* RFC 6298 §5: on expiry retransmit the earliest unacknowledged segment,
 * back off the timer, and give up after the configured retries. */
void tcp_rexmit_timeout(struct tcp_engine *eng, struct tcp_conn *c)
{
	uint32_t limit;

	if (c->flags & TF_PERSIST) {
		persist_probe(eng, c);
		return;
	}
	if (c->snd_max == c->snd_una)
		return;
	if (c->snd_wnd == 0 && (c->flags & TF_SYN_ACKED)) {
		/* The peer shrank its window to zero with data in flight: it
		 * is alive, so probe it (RFC 1122 §4.2.2.17) rather than count
		 * retries towards an abort; resend from snd_una once it opens. */
		c->snd_nxt = c->snd_una;
		c->flags &= ~TF_RTT_TIMING;
		persist_probe(eng, c);
		return;
	}
	eng->stats.rto_expired++;
	limit = c->state == DPT_SYN_SENT ? eng->cfg.syn_retries :
		c->state == DPT_SYN_RECEIVED ? eng->cfg.synack_retries :
		eng->cfg.data_retries;
	if (c->retries >= limit) {
		eng->stats.conn_timeout++;
		if (c->state == DPT_SYN_RECEIVED && (c->flags & TF_PASSIVE)) {
			tcp_conn_release(eng, c);   /* back to LISTEN */
			return;
		}
		tcp_send_rst_conn(eng, c);
		tcp_conn_finish(eng, c, DPT_EV_ERROR, -ETIMEDOUT);
		return;
	}
	tcp_recovery_rto(eng, c);
	c->retries++;
	c->retransmits++;
	c->flags &= ~TF_RTT_TIMING;      /* Karn: no sample from a retransmit */
	c->snd_nxt = c->snd_una;
	if (!(c->flags & TF_SYN_ACKED))
		c->snd_nxt = c->iss;
	if (!(c->flags & TF_SYN_ACKED)) {
		eng->stats.retransmits++;
		c->flags |= TF_SYN_RXT;         /* RFC 6298 §5.7 */
	}
	tcp_arm_rexmit(eng, c);
	tcp_output_mark(eng, c);
}
