/* tcp_input.c — "SEGMENT ARRIVES" (RFC 9293 §3.10.7): validation of each
 * segment of a burst, one bulk table lookup, then per segment the RFC's
 * steps in order — sequence check, RST, SYN, ACK, URG, text, FIN — as
 * small functions, with RFC 5961 for RST/SYN/ACK. */
#include <errno.h>
#include <string.h>

#include "tcp_internal.h"

enum verdict { SEG_CONTINUE, SEG_DONE };

/* Validates the TCP header and checksum; fills seg. The IP header was
 * validated by the dataplane (see tcp_input_burst() in tcp_engine.h). */
static int parse_segment(struct tcp_engine *eng, struct rte_mbuf *m,
			 struct tcp_seg *seg)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint32_t ihl, doff, plen = rte_pktmbuf_pkt_len(m);
	uint64_t ck;

	if (m->nb_segs != 1) {
		eng->stats.rx_multiseg++;
		return -1;
	}
	ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	if (plen < sizeof(*ip) || ihl < sizeof(*ip) ||
	    plen < ihl + sizeof(struct rte_tcp_hdr)) {
		eng->stats.rx_bad_hdr++;
		return -1;
	}
	seg->th = (struct rte_tcp_hdr *)((uint8_t *)ip + ihl);
	doff = (uint32_t)(seg->th->data_off >> 4) * 4;
	if (doff < sizeof(struct rte_tcp_hdr) || ihl + doff > plen ||
	    seg->th->src_port == 0 || seg->th->dst_port == 0) {
		eng->stats.rx_bad_hdr++;
		return -1;
	}
	ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
	    (ck == RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN &&
	     rte_ipv4_udptcp_cksum_verify(ip, seg->th) != 0)) {
		eng->stats.rx_bad_csum++;
		return -1;
	}
	seg->m = m;
	seg->ip = ip;
	seg->hdr_len = (uint16_t)(ihl + doff);
	seg->len = plen - ihl - doff;
	seg->seq = rte_be_to_cpu_32(seg->th->sent_seq);
	seg->ack = rte_be_to_cpu_32(seg->th->recv_ack);
	seg->wnd = rte_be_to_cpu_16(seg->th->rx_win);
	seg->flags = seg->th->tcp_flags & 0x3f;
	memset(&seg->opts, 0, sizeof(seg->opts));
	if (doff > sizeof(struct rte_tcp_hdr))
		tcp_parse_options(eng, (const uint8_t *)(seg->th + 1),
				  doff - sizeof(struct rte_tcp_hdr),
				  &seg->opts);
	eng->stats.rx_segs++;
	return 0;
}

void tcp_rtt_sample(struct tcp_engine *eng, struct tcp_conn *c, uint32_t r)
{
	uint32_t rto;

	if (r == 0)
		r = 1;
	tcp_rack_rtt(c, r);
	if (c->srtt_us == 0) {
		c->srtt_us = r;                 /* RFC 6298 §2.2 */
		c->rttvar_us = r / 2;
	} else {                                /* RFC 6298 §2.3 */
		uint32_t d = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;
		c->rttvar_us = (3 * c->rttvar_us + d) / 4;
		c->srtt_us = (7 * c->srtt_us + r) / 8;
	}
	rto = c->srtt_us + RTE_MAX(eng->cfg.tick_us, 4 * c->rttvar_us);
	rto = RTE_MAX(rto, eng->cfg.rto_min_ms * 1000);
	c->rto_us = RTE_MIN(rto, eng->cfg.rto_max_ms * 1000);
}

/* RFC 6298 §5.7: "If the timer expires awaiting the ACK of a SYN segment
 * and the TCP implementation is using an RTO less than 3 seconds, the RTO
 * MUST be re-initialized to 3 seconds when data transmission begins".
 * Called when the connection becomes ESTABLISHED. An RTT sample of the
 * handshake (the SYN-ACK or ACK echoing the resent SYN's TSval: no Karn
 * ambiguity) sets the RTO by §2.2 instead — as Linux, which falls back
 * to 3 s only when the handshake gave no sample; the first sample of the
 * data phase replaces the 3 s (§2.2). */
static void syn_rxt_rto(struct tcp_engine *eng, struct tcp_conn *c)
{
	if (!(c->flags & TF_SYN_RXT) || c->srtt_us != 0)
		return;
	c->rto_us = RTE_MIN(RTE_MAX(c->rto_us, 3000000u),
			    eng->cfg.rto_max_ms * 1000);
	eng->stats.rto_syn_fallback++;
}

static void set_peer_mss(struct tcp_engine *eng, struct tcp_conn *c,
			 const struct tcp_seg *seg)
{
	uint32_t mss = seg->opts.mss ? seg->opts.mss : TCP_DEFAULT_MSS;

	c->snd_mss = RTE_MAX(RTE_MIN(mss, (uint32_t)eng->our_mss), 64u);
	/* RFC 6691 / RFC 7323 §3.2: the MSS does not count options; every
	 * segment carries TSopt, so a full one has 12 payload bytes less. */
	if (c->ts_ok)
		c->snd_mss = RTE_MAX(c->snd_mss - TCP_TS_OPTLEN, 64u);
	/* RFC 6928 initial window. */
	c->cwnd = RTE_MIN(10 * c->snd_mss, RTE_MAX(2 * c->snd_mss, 14600u));
	c->ssthresh = UINT32_MAX;
}

/* The peer's SYN fixed irs; shared by passive and active opens. */
void tcp_conn_init_from_syn(struct tcp_engine *eng, struct tcp_conn *c,
			    const struct tcp_seg *seg)
{
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->rcv_wup = c->rcv_nxt;
	c->last_ack_sent = c->rcv_nxt;
	tcp_opts_negotiate(eng, c, &seg->opts);
	c->snd_wnd = seg->wnd;             /* RFC 7323 §2.2: not scaled */
	c->max_snd_wnd = seg->wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	set_peer_mss(eng, c, seg);
	c->rcv_mss = RTE_MIN((uint32_t)TCP_DEFAULT_MSS, (uint32_t)eng->our_mss);
}

/* RFC 5961 §7: at most TCP_CHALLENGE_ACK_PER_S challenge ACKs a second
 * per engine, so that blind attackers cannot use us as an amplifier.
 * True (and counted) when one may be sent now. */
bool tcp_challenge_ack_allowed(struct tcp_engine *eng)
{
	uint64_t sec = eng->now_us / 1000000;

	if (sec != eng->challenge_sec) {
		eng->challenge_sec = sec;
		eng->challenge_count = 0;
	}
	if (eng->challenge_count >= TCP_CHALLENGE_ACK_PER_S) {
		eng->stats.challenge_ack_limited++;
		return false;
	}
	eng->challenge_count++;
	eng->stats.tx_challenge_ack++;
	return true;
}

static void challenge_ack(struct tcp_engine *eng, struct tcp_conn *c)
{
	if (tcp_challenge_ack_allowed(eng))
		tcp_send_ack(eng, c);
}

/* Copies a small payload (len bytes at m's data) into the free tail of
 * the mbuf tail, so that tiny segments do not pin one mbuf each (receive
 * and out-of-order queues). False: it does not fit, m is to be linked. */
static bool tail_absorb(struct rte_mbuf *tail, const struct rte_mbuf *m,
			uint32_t len)
{
	if (tail == NULL || len > 512 || rte_pktmbuf_tailroom(tail) < len)
		return false;
	memcpy(rte_pktmbuf_mtod_offset(tail, uint8_t *, tail->data_len),
	       rte_pktmbuf_mtod(m, const uint8_t *), len);
	tail->data_len = (uint16_t)(tail->data_len + len);
	tail->pkt_len = tail->data_len;
	return true;
}

static void rcvq_link(struct tcp_conn *c, struct rte_mbuf *m, uint32_t len)
{
	m->next = NULL;
	if (c->rcvq.tail == NULL)
		c->rcvq.head = m;
	else
		c->rcvq.tail->next = m;
	c->rcvq.tail = m;
	c->rcvq.bytes += len;
}

/* Takes the payload of an in-order segment into the receive queue. Small
 * payloads are copied into the tail mbuf so tiny segments cannot pin one
 * mbuf each. */
static void rcvq_append(struct tcp_conn *c, struct tcp_seg *seg,
			uint32_t skip)
{
	struct rte_mbuf *m = seg->m, *tail = c->rcvq.tail;
	uint32_t len = seg->len;

	rte_pktmbuf_adj(m, (uint16_t)(seg->hdr_len + skip));
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - len));
	if (tail_absorb(tail, m, len)) {
		c->rcvq.bytes += len;
		return;                      /* seg->m still freed by caller */
	}
	rcvq_link(c, m, len);
	seg->m = NULL;
}

/* RFC 9293 §3.10.7.4 first: the acceptability test against RCV.NXT and
 * RCV.WND. On success the segment is trimmed to the window and *skip is
 * the payload bytes to drop from its front; TCP_SEQ_PROBE: a zero-window
 * probe, acceptable (as an ACK) but owed an ACK (§3.8.6.1). */
enum tcp_seq_verdict tcp_seq_check(struct tcp_engine *eng,
				   struct tcp_seg *seg, uint32_t rcv_nxt,
				   uint32_t wnd, uint32_t *skip)
{
	uint32_t seglen = seg->len + !!(seg->flags & TH_SYN) +
			  !!(seg->flags & TH_FIN);
	uint32_t end = rcv_nxt + wnd;
	bool ok;

	*skip = 0;
	if (seglen == 0)
		ok = wnd == 0 ? seg->seq == rcv_nxt :
			seq_in(seg->seq, rcv_nxt, end);
	else if (wnd == 0)
		ok = false;
	else
		ok = seq_in(seg->seq, rcv_nxt, end) ||
		     seq_in(seg->seq + seglen - 1, rcv_nxt, end);
	if (!ok) {
		/* §3.10.7.4: with a zero window, still take ACKs and RSTs. */
		if (wnd == 0 && seg->seq == rcv_nxt) {
			/* A zero-window probe: it MUST be answered (§3.8.6.1). */
			if (seg->len > 0)
				eng->stats.rx_rcvbuf_full++;
			seg->len = 0;
			seg->flags &= ~(TH_SYN | TH_FIN);
			return TCP_SEQ_PROBE;
		}
		return TCP_SEQ_BAD;
	}
	if (seq_lt(seg->seq, rcv_nxt)) {
		uint32_t drop = rcv_nxt - seg->seq;
		if (seg->flags & TH_SYN) {
			seg->flags &= ~TH_SYN;
			drop--;
			seg->seq++;
		}
		drop = RTE_MIN(drop, seg->len);
		*skip = drop;
		seg->len -= drop;
		seg->seq += drop;
	}
	if (seq_gt(seg->seq + seg->len, end)) {
		eng->stats.rx_rcvbuf_full++;
		seg->len = end - seg->seq;
		seg->flags &= ~TH_FIN;
	}
	return TCP_SEQ_OK;
}

static bool seq_acceptable(struct tcp_engine *eng, struct tcp_conn *c,
			   struct tcp_seg *seg, uint32_t *skip)
{
	enum tcp_seq_verdict v = tcp_seq_check(eng, seg, c->rcv_nxt,
					       tcp_rcv_window(c), skip);

	if (v == TCP_SEQ_PROBE)
		tcp_send_ack(eng, c);
	return v != TCP_SEQ_BAD;
}

/* RFC 9293 §3.10.7.4 second, with RFC 5961 §3.2. */
static enum verdict rst_input(struct tcp_engine *eng, struct tcp_conn *c,
			      struct tcp_seg *seg)
{
	if (seg->seq != c->rcv_nxt) {
		eng->stats.rx_rst_challenged++;
		challenge_ack(eng, c);
		return SEG_DONE;
	}
	if (c->state == DPT_TIME_WAIT) {
		eng->stats.rx_rst_ignored++;   /* RFC 1337 */
		return SEG_DONE;
	}
	eng->stats.rx_rst_accepted++;
	if (c->state == DPT_SYN_RECEIVED && (c->flags & TF_PASSIVE)) {
		tcp_conn_release(eng, c);      /* back to LISTEN */
		return SEG_DONE;
	}
	if (c->state == DPT_SYN_RECEIVED)
		tcp_conn_finish(eng, c, DPT_EV_ERROR, -ECONNREFUSED);
	else
		tcp_conn_finish(eng, c, DPT_EV_RESET, -ECONNRESET);
	return SEG_DONE;
}

static void notify_writable(struct tcp_engine *eng, struct tcp_conn *c)
{
	if ((c->flags & TF_WANT_WRITE) &&
	    c->snd_buf - c->sndq.bytes >= c->snd_buf / 4) {
		c->flags &= ~TF_WANT_WRITE;
		tcp_event(eng, c, DPT_EV_WRITABLE, 0);
	}
}

/* Frees acknowledged bytes from the head of the send queue. */
static void sndq_ack(struct tcp_conn *c, uint32_t n)
{
	/* The copy hint (tcp_mq) stays valid when its mbuf is neither freed
	 * nor trimmed: when it starts at or past the cut. */
	if (c->sndq.cur != NULL) {
		if (c->sndq.cur_off < n)
			c->sndq.cur = NULL;
		else
			c->sndq.cur_off -= n;
	}
	c->sndq.bytes -= n;
	c->sndq_seq += n;
	while (n > 0) {
		struct rte_mbuf *m = c->sndq.head;
		if (n < m->data_len) {
			rte_pktmbuf_adj(m, (uint16_t)n);
			break;
		}
		n -= m->data_len;
		c->sndq.head = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	if (c->sndq.head == NULL)
		c->sndq.tail = NULL;
}

static bool fin_acked(const struct tcp_conn *c)
{
	return (c->flags & TF_FIN_SENT) &&
	       seq_gt(c->snd_una, c->sndq_seq + c->sndq.bytes);
}

/* A new cumulative ACK (SND.UNA < SEG.ACK <= SND.MAX). Returns the data
 * bytes it acknowledged; *rtt_us is its RTT sample (0: none). cwnd is the
 * congestion control's, through tcp_recovery_ack(). */
static uint32_t ack_advance(struct tcp_engine *eng, struct tcp_conn *c,
			    const struct tcp_seg *seg, uint32_t *rtt_us)
{
	uint32_t data;

	*rtt_us = 0;
	if (!(c->flags & TF_SYN_ACKED) && seq_gt(seg->ack, c->iss))
		c->flags |= TF_SYN_ACKED;
	data = seq_gt(seg->ack, c->sndq_seq) ? seg->ack - c->sndq_seq : 0;
	data = RTE_MIN(data, c->sndq.bytes);
	sndq_ack(c, data);
	c->snd_una = seg->ack;
	if (seq_lt(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	if ((c->flags & TF_RTT_TIMING) && seq_gt(seg->ack, c->rtt_seq)) {
		c->flags &= ~TF_RTT_TIMING;
		*rtt_us = (uint32_t)(eng->now_us - c->rtt_start_us);
		tcp_rtt_sample(eng, c, *rtt_us);
		*rtt_us = RTE_MAX(*rtt_us, 1u);
	} else if (!(c->flags & TF_RTT_TIMING) && c->ts_ok &&
		   seg->opts.has_ts && seg->opts.ts_ecr != 0) {
		/* RFC 7323 §4.1: TSecr echoes the TSval of the segment that
		 * drew this ACK, retransmission or not, so it gives a sample
		 * where Karn's rule leaves the timed one out (as Linux: only
		 * when no segment is timed; the timer's is finer than 1 ms).
		 * But a TSecr older than our last resend of SND.UNA says this
		 * ACK is not that resend's (RFC 8985 §6.2 step 2, RFC 3522):
		 * an earlier transmission got through and its ACK was lost or
		 * late, and this one came only because we resent. Its "RTT"
		 * holds our own wait for the RTO — taken, every lost ACK
		 * would raise the RTO that the next such sample measures. */
		uint32_t d = tcp_ts_now(eng, c->ts_offset) - seg->opts.ts_ecr;
		if ((c->flags & TF_UNA_RXT) &&
		    seq_lt(seg->opts.ts_ecr, c->una_rxt_ts))
			eng->stats.rtt_ts_stale++;
		else if (d < 2 && c->srtt_us != 0)
			/* Our TSval ticks in ms: 0 or 1 tick is any RTT
			 * below 2 ms, which the timed segment measures in
			 * us. Taken as 1 ms, these samples (most ACKs)
			 * held SRTT of a 0.25 ms path near 1 ms (issue 6):
			 * the PTO, RACK's marks and CUBIC's t + RTT
			 * followed. */
			eng->stats.rtt_ts_coarse++;
		else if (d < INT32_MAX / 1000) {
			eng->stats.rtt_ts_samples++;
			*rtt_us = RTE_MAX(d, 1u) * 1000;
			tcp_rtt_sample(eng, c, *rtt_us);
		}
	}
	c->flags &= ~TF_UNA_RXT;         /* a new SND.UNA, not resent yet */
	c->retries = 0;
	/* RFC 6298 §5.2/5.3; RFC 8985 §7.2: the PTO restarts after output
	 * (RACK's timer, in the same slot, is re-armed by this ACK's
	 * detection, tcp_recovery_ack()). */
	c->flags &= ~TF_RACK_TIMER;
	tcp_timer_stop(&eng->wheel, &c->t_tlp);
	if (c->snd_una == c->snd_max)
		tcp_timer_stop(&eng->wheel, &c->t_rexmit);
	else
		tcp_arm_rexmit(eng, c);
	tcp_output_mark(eng, c);
	return data;
}

/* RFC 9293 §3.10.7.4 fifth, with RFC 5961 §5.2. */
static enum verdict ack_input(struct tcp_engine *eng, struct tcp_conn *c,
			      struct tcp_seg *seg)
{
	uint32_t prev_una, acked = 0, rtt_us = 0;
	bool dupack, new_ack;

	if (c->state == DPT_SYN_RECEIVED) {
		if (!seq_gt(seg->ack, c->snd_una) ||
		    seq_gt(seg->ack, c->snd_max)) {
			tcp_send_rst_for(eng, seg);
			return SEG_DONE;
		}
		if (!(c->flags & TF_PASSIVE))
			tcp_set_state(eng, c, DPT_ESTABLISHED);
		else if (tcp_listen_established(eng, c) < 0)
			return SEG_DONE;      /* accept queue full: stay */
		if (c->flags & TF_DEAD)
			return SEG_DONE;
		/* before this ACK's RTT sample, which takes precedence */
		syn_rxt_rto(eng, c);
	}
	if (seq_gt(seg->ack, c->snd_max)) {
		eng->stats.rx_ack_too_new++;
		tcp_send_ack(eng, c);
		return SEG_DONE;
	}
	if (seq_lt(seg->ack, c->snd_una - c->max_snd_wnd)) {
		eng->stats.rx_old_ack++;
		tcp_send_ack(eng, c);
		return SEG_DONE;
	}
	/* RFC 9293 §3.10.7.4: SND.WND is updated from a segment newer than
	 * the one that set it (SND.WL1/WL2) — and, as Linux's
	 * tcp_may_update_window(), from any ACK of new data: the window is
	 * used from SND.UNA on, so when a retransmission or reordered data
	 * (older SEG.SEQ) moves SND.UNA, a window kept from an older segment
	 * would reach past the right edge the peer offers now (seen against
	 * Linux with scaled windows: data sent beyond its window, dropped,
	 * and our ACKs, at SND.NXT, no longer acceptable to it). */
	dupack = tcp_is_dupack(c, seg);
	prev_una = c->snd_una;
	new_ack = seq_gt(seg->ack, c->snd_una);
	if (new_ack)
		acked = ack_advance(eng, c, seg, &rtt_us);
	tcp_recovery_ack(eng, c, seg, prev_una, acked, rtt_us, dupack);
	if (seq_geq(seg->ack, c->snd_una) &&
	    (new_ack || seq_lt(c->snd_wl1, seg->seq) ||
	     (c->snd_wl1 == seg->seq && seq_leq(c->snd_wl2, seg->ack)))) {
		if (c->snd_wnd == 0 && seg->wnd > 0)
			c->retries = 0;
		if (seg->wnd > c->snd_wnd)
			tcp_output_mark(eng, c);      /* more may go now */
		c->snd_wnd = seg->wnd;
		c->max_snd_wnd = RTE_MAX(c->max_snd_wnd, seg->wnd);
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
	}

	switch (c->state) {
	case DPT_FIN_WAIT_1:
		if (fin_acked(c)) {
			tcp_set_state(eng, c, DPT_FIN_WAIT_2);
			if ((c->flags & TF_APP_CLOSED) && eng->cfg.fin_wait2_ms)
				tcp_timer_arm(&eng->wheel, &c->t_linger,
					tcp_us_to_tick(eng, eng->now_us) +
					tcp_ms_to_tick(eng, eng->cfg.fin_wait2_ms));
		}
		break;
	case DPT_CLOSING:
		if (fin_acked(c)) {
			tcp_enter_time_wait(eng, c);
			return SEG_DONE;
		}
		break;
	case DPT_LAST_ACK:
		if (fin_acked(c)) {
			tcp_conn_finish(eng, c, DPT_EV_CLOSED, 0);
			return SEG_DONE;
		}
		break;
	default:
		break;
	}
	notify_writable(eng, c);
	return (c->flags & TF_DEAD) ? SEG_DONE : SEG_CONTINUE;
}

/* RFC 2018 §4: remember that new data arrived at seq (a block holding it
 * goes first in the next SACK option). */
static void sack_note(struct tcp_conn *c, uint32_t seq)
{
	uint32_t i, n = RTE_MIN(c->nsack_recent, (uint8_t)(TCP_SACK_MAX - 1));

	if (!c->sack_ok)
		return;
	memmove(&c->sack_recent[1], &c->sack_recent[0],
		n * sizeof(c->sack_recent[0]));
	c->sack_recent[0] = seq;
	c->nsack_recent = (uint8_t)(n + 1);
	for (i = 1; i < c->nsack_recent; i++)
		if (c->sack_recent[i] == seq) {
			memmove(&c->sack_recent[i], &c->sack_recent[i + 1],
				(c->nsack_recent - i - 1) *
				sizeof(c->sack_recent[0]));
			c->nsack_recent--;
			break;
		}
}

/* RFC 2883 §4: [start, end) arrived twice; the next ACK reports it. */
static void dsack_note(struct tcp_conn *c, uint32_t start, uint32_t end)
{
	if (!c->sack_ok || start == end)
		return;
	c->dsack = (struct tcp_sack_block){ start, end };
	c->dsack_owed = true;
}

/* Out-of-order data waits in c->ooo as blocks: runs of contiguous bytes,
 * sorted, disjoint and never adjacent (a segment that joins two blocks
 * merges them), each an mbuf chain linked through m->next. The block's
 * bounds sit in the headroom of its first mbuf (headers were stripped,
 * so the bytes at buf_addr are free). Walks are over blocks, not
 * segments, and the common arrival after a hole (at or past the last
 * block, or into the block the previous segment went to) finds its place
 * in O(1) through ooo_tail / ooo_hint; so do the SACK blocks of the ACK. */
struct ooo_blk {
	uint32_t start, end;       /* [start, end) */
	struct rte_mbuf *last;     /* the chain's last mbuf */
	struct rte_mbuf *next;     /* the next block */
	uint8_t fin;               /* a FIN follows end */
};

static inline struct ooo_blk *ooo_blk(const struct rte_mbuf *m)
{
	return (struct ooo_blk *)m->buf_addr;
}

/* What the queue may pin: a window of full-sized segments costs about
 * buf_len / MSS (1.5 for 1448 bytes in 2 KiB) times its bytes, so twice
 * the receive buffer holds any window that fits in it; tiny segments
 * that do not touch a block each pin a whole mbuf and meet the bound
 * (counted drops, rx_ooo_drop). The window bounds the bytes already. */
static inline uint32_t ooo_budget(const struct tcp_conn *c)
{
	return RTE_MAX(2 * c->rcv_buf, TCP_OOO_MIN_MEM);
}

/* An mbuf leaves the queue (freed, or passed to the receive queue). */
static inline void ooo_unaccount(struct tcp_conn *c, const struct rte_mbuf *m)
{
	c->ooo_bytes -= m->data_len;
	c->ooo_mem -= m->buf_len;
}

static void ooo_chain_free(struct tcp_conn *c, struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		ooo_unaccount(c, m);
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
}

void tcp_ooo_free(struct tcp_conn *c)
{
	struct rte_mbuf *b = c->ooo;

	while (b != NULL) {
		struct rte_mbuf *next = ooo_blk(b)->next;
		ooo_chain_free(c, b);
		b = next;
	}
	c->ooo = c->ooo_tail = c->ooo_hint = NULL;
	c->ooo_bytes = c->ooo_mem = c->ooo_blocks = 0;
}

/* The first block that ends at or after seq (the one seq joins, or the
 * first one after it); *link: where a new block before it is linked. */
static struct rte_mbuf *ooo_find(struct tcp_conn *c, uint32_t seq,
				 struct rte_mbuf ***link)
{
	struct rte_mbuf **l = &c->ooo, *t = c->ooo_tail, *h = c->ooo_hint;

	if (t != NULL && seq_geq(seq, ooo_blk(t)->start)) {
		*link = &ooo_blk(t)->next;
		return seq_leq(seq, ooo_blk(t)->end) ? t : NULL;
	}
	if (h != NULL && seq_geq(seq, ooo_blk(h)->start) &&
	    seq_leq(seq, ooo_blk(h)->end)) {
		*link = NULL;              /* joins h: no new block */
		return h;
	}
	while (*l != NULL && seq_lt(ooo_blk(*l)->end, seq))
		l = &ooo_blk(*l)->next;
	*link = l;
	return *l;
}

/* Adds len bytes in m (trimmed) at the end of block b (small payloads
 * copied, tail_absorb()). True: m was kept. */
static bool ooo_append(struct tcp_conn *c, struct rte_mbuf *b,
		       struct rte_mbuf *m, uint32_t len)
{
	struct ooo_blk *k = ooo_blk(b);
	struct rte_mbuf *tail = k->last;

	k->end += len;
	c->ooo_bytes += len;
	if (tail_absorb(tail, m, len))
		return false;
	tail->next = m;
	m->next = NULL;
	k->last = m;
	c->ooo_mem += m->buf_len;
	return true;
}

/* Keeps a segment that arrived beyond rcv_nxt (already inside the window),
 * trimmed against the blocks around it so that the queue never overlaps:
 * it extends the block it touches, or makes a new one; blocks it covers
 * go, and a block it reaches is merged. */
static void ooo_insert(struct tcp_engine *eng, struct tcp_conn *c,
		       struct tcp_seg *seg, uint32_t skip)
{
	struct rte_mbuf *m = seg->m, *b, *nxt, *join = NULL, **link;
	uint32_t seq = seg->seq, len = seg->len;
	bool fin = seg->flags & TH_FIN, kept = true;

	if (c->ooo_mem + m->buf_len > ooo_budget(c)) {
		eng->stats.rx_ooo_drop++;
		return;
	}
	b = ooo_find(c, seq, &link);
	if (b != NULL && seq_leq(ooo_blk(b)->start, seq)) {
		struct ooo_blk *k = ooo_blk(b);

		if (seq_geq(k->end, seq + len)) {
			eng->stats.rx_ooo_dup++;       /* all of it is queued */
			dsack_note(c, seq, seq + len);
			sack_note(c, seq);
			if (fin && k->end == seq + len)
				k->fin = 1;            /* but not its FIN */
			return;
		}
		skip += k->end - seq;
		len -= k->end - seq;
		seq = k->end;
		nxt = k->next;
	} else {
		nxt = b;                       /* a new block before b */
		b = NULL;
	}
	/* Blocks wholly covered by the segment go; one it reaches joins. */
	while (nxt != NULL && seq_leq(ooo_blk(nxt)->start, seq + len)) {
		struct ooo_blk *k = ooo_blk(nxt);

		if (seq_leq(k->end, seq + len)) {
			struct rte_mbuf *after = k->next;

			if (k->fin && k->end == seq + len)
				fin = true;        /* keep the FIN it carried */
			ooo_chain_free(c, nxt);
			c->ooo_blocks--;
			nxt = after;
			continue;
		}
		len = k->start - seq;
		fin = false;
		join = nxt;
		nxt = k->next;
		break;
	}
	rte_pktmbuf_adj(m, (uint16_t)(seg->hdr_len + skip));
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - len));
	if (b == NULL) {
		*ooo_blk(m) = (struct ooo_blk){ .start = seq, .end = seq + len,
						.last = m };
		m->next = NULL;
		*link = m;
		b = m;
		c->ooo_bytes += len;
		c->ooo_mem += m->buf_len;
		c->ooo_blocks++;
	} else {
		kept = ooo_append(c, b, m, len);
	}
	ooo_blk(b)->fin = fin;
	ooo_blk(b)->next = nxt;
	if (join != NULL) {
		struct ooo_blk *k = ooo_blk(b), *j = ooo_blk(join);

		k->last->next = join;
		k->last = j->last;
		k->end = j->end;
		k->fin = j->fin;
		c->ooo_blocks--;
	}
	if (nxt == NULL)
		c->ooo_tail = b;
	c->ooo_hint = b;
	eng->stats.rx_ooo_queued++;
	sack_note(c, seq);
	if (kept)
		seg->m = NULL;
}

/* The block holding seq, if any: the latest one and the last one first. */
static bool ooo_block_of(const struct tcp_conn *c, uint32_t seq,
			 struct tcp_sack_block *r)
{
	const struct rte_mbuf *b = c->ooo_hint;

	if (b == NULL || !seq_in(seq, ooo_blk(b)->start, ooo_blk(b)->end))
		b = c->ooo_tail;
	if (b == NULL || !seq_in(seq, ooo_blk(b)->start, ooo_blk(b)->end))
		for (b = c->ooo; b != NULL && seq_geq(seq, ooo_blk(b)->end);
		     b = ooo_blk(b)->next)
			;
	if (b == NULL || !seq_in(seq, ooo_blk(b)->start, ooo_blk(b)->end))
		return false;
	r->start = ooo_blk(b)->start;
	r->end = ooo_blk(b)->end;
	return true;
}

static bool block_listed(const struct tcp_sack_block *b, uint32_t n,
			 uint32_t from, const struct tcp_sack_block *r)
{
	uint32_t i;

	for (i = from; i < n; i++)
		if (b[i].start == r->start && b[i].end == r->end)
			return true;
	return false;
}

/* The SACK blocks of our next ACK (RFC 2018 §4): a D-SACK block first
 * when one is owed (RFC 2883 §4), then the block holding the most
 * recently received out-of-order segment, then the blocks reported first
 * before it, newest first, then any other queued data in sequence order;
 * at most max blocks. */
uint32_t tcp_sack_build(const struct tcp_conn *c, struct tcp_sack_block *b,
			uint32_t max)
{
	const struct rte_mbuf *m;
	struct tcp_sack_block r;
	uint32_t n = 0, i, first;

	if (c->dsack_owed && n < max)
		b[n++] = c->dsack;
	first = n;
	for (i = 0; i < c->nsack_recent && n < max; i++)
		if (ooo_block_of(c, c->sack_recent[i], &r) &&
		    !block_listed(b, n, first, &r))
			b[n++] = r;
	for (m = c->ooo; n < max && m != NULL; m = ooo_blk(m)->next) {
		r.start = ooo_blk(m)->start;
		r.end = ooo_blk(m)->end;
		if (!block_listed(b, n, first, &r))
			b[n++] = r;
	}
	return n;
}

/* Moves queued data that rcv_nxt has reached into the receive queue.
 * Returns true when a FIN became in order. */
static bool ooo_drain(struct tcp_engine *eng, struct tcp_conn *c)
{
	struct rte_mbuf *b;

	while ((b = c->ooo) != NULL &&
	       seq_leq(ooo_blk(b)->start, c->rcv_nxt)) {
		struct ooo_blk k = *ooo_blk(b);
		struct rte_mbuf *m = b;
		uint32_t s = k.start;

		c->ooo = k.next;
		c->ooo_blocks--;
		if (c->ooo_tail == b)
			c->ooo_tail = NULL;
		if (c->ooo_hint == b)
			c->ooo_hint = NULL;
		while (m != NULL) {
			struct rte_mbuf *next = m->next;
			uint32_t e = s + m->data_len;

			ooo_unaccount(c, m);
			if (seq_leq(e, c->rcv_nxt)) {
				m->next = NULL;
				rte_pktmbuf_free_seg(m);
			} else {
				uint32_t len = e - c->rcv_nxt;
				rte_pktmbuf_adj(m, (uint16_t)(c->rcv_nxt - s));
				rcvq_link(c, m, len);
				c->rcv_nxt = e;
				eng->stats.rx_bytes += len;
			}
			s = e;
			m = next;
		}
		if (k.fin && k.end == c->rcv_nxt)
			return true;
	}
	return false;
}

/* RFC 9293 §3.10.7.4 seventh: segment text. In-order data goes to the
 * receive queue, and any queued out-of-order data it joins follows. */
static enum verdict text_input(struct tcp_engine *eng, struct tcp_conn *c,
			       struct tcp_seg *seg, uint32_t skip)
{
	bool fin_joined = false;

	if (seg->len == 0)
		return SEG_CONTINUE;
	if (c->state != DPT_ESTABLISHED && c->state != DPT_FIN_WAIT_1 &&
	    c->state != DPT_FIN_WAIT_2)
		return SEG_CONTINUE;
	if (c->flags & TF_APP_CLOSED) {
		/* Nobody will read it: reset, as Linux does (RFC 2525 §2.17). */
		tcp_send_rst_conn(eng, c);
		tcp_conn_finish(eng, c, DPT_EV_ERROR, -ECONNABORTED);
		return SEG_DONE;
	}
	if (seg->seq != c->rcv_nxt) {
		/* RFC 5681 §4.2: an out-of-order segment is ACKed at once. */
		ooo_insert(eng, c, seg, skip);
		tcp_send_ack_now(eng, c);
		return SEG_DONE;
	}
	rcvq_append(c, seg, skip);
	c->rcv_nxt += seg->len;
	eng->stats.rx_bytes += seg->len;
	if (c->ooo != NULL) {
		/* It filled (part of) a gap: ACK at once (RFC 5681 §4.2). */
		fin_joined = ooo_drain(eng, c);
		c->flags |= TF_ACK_NOW;
	}
	/* Delayed ACK (RFC 1122 §4.2.3.2, RFC 5681 §4.2): at most delack_ms
	 * late, and at once when more than one full-sized segment of data is
	 * unacknowledged (so at the latest on the second one), or with the
	 * FIN. "Full-sized" is the largest segment seen, at least 536 bytes
	 * and at most the MSS we announced, as Linux estimates it
	 * (tcp_measure_rcv_mss): a peer sending small messages is ACKed every
	 * few of them, not only after 2 * MSS. */
	if (seg->len > c->rcv_mss)
		c->rcv_mss = RTE_MIN(seg->len, (uint32_t)eng->our_mss);
	if (c->rcv_nxt - c->rcv_wup > c->rcv_mss ||
	    eng->cfg.delack_ms == 0 || (seg->flags & TH_FIN)) {
		c->flags |= TF_ACK_NOW;
	} else if (!(c->flags & TF_DELACK)) {
		c->flags |= TF_DELACK;
		tcp_timer_arm(&eng->wheel, &c->t_delack,
			      tcp_us_to_tick(eng, eng->now_us) +
			      tcp_ms_to_tick(eng, eng->cfg.delack_ms));
	}
	tcp_output_mark(eng, c);
	tcp_event(eng, c, DPT_EV_READABLE, 0);
	if (c->flags & TF_DEAD)
		return SEG_DONE;
	if (fin_joined) {
		/* Hand the queued FIN to the eighth step as if it came now. */
		seg->flags |= TH_FIN;
		seg->seq = c->rcv_nxt;
		seg->len = 0;
	}
	return SEG_CONTINUE;
}

/* RFC 9293 §3.10.7.4 eighth. */
static void fin_input(struct tcp_engine *eng, struct tcp_conn *c,
		      struct tcp_seg *seg)
{
	if (!(seg->flags & TH_FIN))
		return;
	if (seg->seq + seg->len != c->rcv_nxt) {
		/* A bare FIN beyond a gap: a duplicate ACK, as for data
		 * (RFC 5681 §4.2); the peer sends it again after the gap. */
		if (seq_gt(seg->seq, c->rcv_nxt) && seg->len == 0)
			tcp_send_ack_now(eng, c);
		return;
	}
	if (c->flags & TF_RCVD_FIN) {
		if (c->state == DPT_TIME_WAIT)
			tcp_enter_time_wait(eng, c);   /* restart 2*MSL */
		tcp_send_ack(eng, c);
		return;
	}
	c->rcv_nxt++;
	c->flags |= TF_RCVD_FIN | TF_ACK_NOW;
	tcp_output_mark(eng, c);
	switch (c->state) {
	case DPT_SYN_RECEIVED:
	case DPT_ESTABLISHED:
		tcp_set_state(eng, c, DPT_CLOSE_WAIT);
		tcp_event(eng, c, DPT_EV_PEER_CLOSED, 0);
		break;
	case DPT_FIN_WAIT_1:
		tcp_set_state(eng, c, DPT_CLOSING);
		tcp_event(eng, c, DPT_EV_PEER_CLOSED, 0);
		break;
	case DPT_FIN_WAIT_2:
		tcp_timer_stop(&eng->wheel, &c->t_linger);
		tcp_event(eng, c, DPT_EV_PEER_CLOSED, 0);
		if (!(c->flags & TF_DEAD))
			tcp_enter_time_wait(eng, c);
		break;
	default:
		break;
	}
}

/* RFC 9293 §3.10.7.3: SYN_SENT. */
static void syn_sent_input(struct tcp_engine *eng, struct tcp_conn *c,
			   struct tcp_seg *seg)
{
	bool has_ack = seg->flags & TH_ACK;

	if (has_ack && (seq_leq(seg->ack, c->iss) ||
			seq_gt(seg->ack, c->snd_max))) {
		tcp_send_rst_for(eng, seg);
		return;
	}
	if (seg->flags & TH_RST) {
		if (has_ack) {
			eng->stats.rx_rst_accepted++;
			tcp_conn_finish(eng, c, DPT_EV_ERROR, -ECONNREFUSED);
		} else {
			eng->stats.rx_rst_ignored++;
		}
		return;
	}
	if (!(seg->flags & TH_SYN))
		return;
	tcp_conn_init_from_syn(eng, c, seg);
	tcp_peer_heard(eng, c);
	if (has_ack) {
		uint32_t rtt_us;

		ack_advance(eng, c, seg, &rtt_us);
		tcp_set_state(eng, c, DPT_ESTABLISHED);
		syn_rxt_rto(eng, c);
		eng->stats.conn_opened_active++;
		c->flags |= TF_ACK_NOW;
		tcp_event(eng, c, DPT_EV_CONNECTED, 0);
		if (c->flags & TF_DEAD)
			return;
		seg->seq++;
		seg->flags &= ~TH_SYN;
		if (seg->len > tcp_rcv_window(c)) {
			eng->stats.rx_rcvbuf_full++;
			seg->len = tcp_rcv_window(c);
			seg->flags &= ~TH_FIN;
		}
		if (text_input(eng, c, seg, 0) == SEG_CONTINUE)
			fin_input(eng, c, seg);
		return;
	}
	/* Simultaneous open: answer with SYN,ACK from SYN_RECEIVED. */
	tcp_set_state(eng, c, DPT_SYN_RECEIVED);
	c->snd_nxt = c->iss;
	tcp_timer_stop(&eng->wheel, &c->t_rexmit);
	tcp_output_mark(eng, c);
}

/* RFC 6191: a SYN that is unambiguously new (a newer timestamp, or a higher
 * sequence number: tcp_tw_syn_is_new()) may start a new incarnation. This is the
 * TCB still in TIME_WAIT (CLOSED owed); tcp_timewait.c does the same for
 * the compact records. */
static bool time_wait_reuse(struct tcp_engine *eng, struct tcp_conn *c,
			    struct tcp_seg *seg)
{
	struct tcp_listener *l;
	uint32_t old_max;

	if ((seg->flags & (TH_SYN | TH_ACK | TH_RST)) != TH_SYN ||
	    !tcp_tw_syn_is_new(eng, c->ts_ok, c->ts_recent, c->rcv_nxt, seg))
		return false;
	l = tcp_listener_find(eng, seg->ip->dst_addr, seg->th->dst_port);
	if (l == NULL)
		return false;
	eng->stats.rx_syn_in_tw++;
	if (c->flags & TF_CLOSE_PENDING)
		tcp_event(eng, c, DPT_EV_CLOSED, 0);   /* the handle ends here */
	old_max = c->snd_max;
	tcp_conn_release(eng, c);
	/* RFC 1122 §4.2.2.13: the new ISS must lie beyond the old
	 * incarnation's sequence numbers. */
	tcp_listen_syn(eng, l, seg, &old_max);
	return true;
}

/* The ACK owed to an unacceptable or PAWS-failed segment (RFC 9293
 * §3.10.7.4, RFC 7323 §5.3). A segment without data gets one at most
 * every TCP_OOW_ACK_MS (Linux's tcp_invalid_ratelimit, RFC 5961 §7's
 * spirit): ACKs overtaken on a reordering path are out of window or
 * PAWS-old by the thousand, and answering each one doubled the ACK
 * traffic without telling the peer anything. */
static void oow_ack(struct tcp_engine *eng, struct tcp_conn *c,
		    const struct tcp_seg *seg, uint32_t len)
{
	if (len == 0 && !(seg->flags & (TH_SYN | TH_FIN))) {
		if (c->oow_ack_ms != 0 &&
		    eng->now_ms + 1 - c->oow_ack_ms < TCP_OOW_ACK_MS) {
			eng->stats.rx_oow_ack_limited++;
			return;
		}
		c->oow_ack_ms = eng->now_ms + 1;
	}
	tcp_send_ack(eng, c);
}

/* A pure duplicate ACK that only lost a race with a later segment of
 * the peer (Linux's tcp_disordered_ack(), "PAWS as specified is broken
 * wrt. pure-ACKs"): SEG.SEQ = RCV.NXT, SEG.ACK = SND.UNA, the same window,
 * and a TSval behind TS.Recent by less than an RTO. Reordered ACKs carry
 * the SACK blocks recovery needs; dropping them (and answering each with
 * an ACK) cost a 5 ms path with 1 ms of jitter thousands of ACKs a
 * second. Its TSval never becomes TS.Recent (§4.3 keeps the newest). */
static bool disordered_ack(const struct tcp_conn *c, const struct tcp_seg *seg)
{
	uint32_t lag_ms = c->ts_recent - seg->opts.ts_val;

	return (seg->flags & (TH_ACK | TH_SYN | TH_FIN | TH_RST)) == TH_ACK &&
	       seg->len == 0 && seg->seq == c->rcv_nxt &&
	       seg->ack == c->snd_una && seg->wnd == c->snd_wnd &&
	       lag_ms <= c->rto_us / 1000;
}

/* RFC 7323 §3.2 and §5.3 R1, before the sequence check: on a connection
 * with timestamps, a segment without TSopt is dropped silently, and one
 * whose TSval is older than TS.Recent (PAWS) is dropped and ACKed — unless
 * TS.Recent has been idle for 24 days (§5.5): then it is invalid and the
 * segment's TSval replaces it — or it is a reordered duplicate ACK
 * (disordered_ack()). RSTs pass (§3.2, §5.3). False: drop. */
static bool paws_check(struct tcp_engine *eng, struct tcp_conn *c,
		       const struct tcp_seg *seg)
{
	if (!c->ts_ok || (seg->flags & TH_RST))
		return true;
	if (!seg->opts.has_ts) {
		eng->stats.rx_ts_missing++;
		return false;
	}
	if (!seq_lt(seg->opts.ts_val, c->ts_recent))
		return true;
	if (disordered_ack(c, seg)) {
		eng->stats.rx_paws_reordered_ack++;
		return true;
	}
	if (eng->now_ms - c->ts_recent_ms > TCP_PAWS_IDLE_MS) {
		eng->stats.rx_paws_idle++;
		c->ts_recent = seg->opts.ts_val;
		c->ts_recent_ms = eng->now_ms;
		return true;
	}
	eng->stats.rx_paws_drop++;
	oow_ack(eng, c, seg, seg->len);
	return false;
}

/* RFC 7323 §4.3 (2): TS.Recent takes the TSval of an acceptable segment
 * that is not older and covers Last.ACK.sent (so that an ACK we delayed
 * echoes the earliest segment it acknowledges). seq: SEG.SEQ before the
 * sequence check trimmed it. */
static void ts_update(struct tcp_engine *eng, struct tcp_conn *c,
		      const struct tcp_seg *seg, uint32_t seq)
{
	if (c->ts_ok && seg->opts.has_ts &&
	    seq_geq(seg->opts.ts_val, c->ts_recent) &&
	    seq_leq(seq, c->last_ack_sent)) {
		c->ts_recent = seg->opts.ts_val;
		c->ts_recent_ms = eng->now_ms;
	}
}

/* The peer's SACK blocks, checked before the ACK moves SND.UNA (see
 * struct tcp_opts): a D-SACK first block (RFC 2883 §4: below SEG.ACK, or
 * inside the second block) is kept as such; other blocks must lie within
 * SND.UNA..SND.MAX (RFC 2018 says nothing of others: ignored, counted). */
static void sack_input(struct tcp_engine *eng, struct tcp_conn *c,
		       struct tcp_seg *seg)
{
	struct tcp_opts *o = &seg->opts;
	uint32_t i, n = 0;

	if (o->nsack == 0)
		return;
	if (!c->sack_ok || !(seg->flags & TH_ACK)) {
		o->nsack = 0;
		return;
	}
	for (i = 0; i < o->nsack; i++) {
		struct tcp_sack_block b = o->sack[i];

		if (!seq_lt(b.start, b.end) || seq_gt(b.end, c->snd_max)) {
			eng->stats.rx_sack_bad++;
			continue;
		}
		if (i == 0 && (seq_lt(b.start, seg->ack) ||
			       (o->nsack > 1 &&
				seq_geq(b.start, o->sack[1].start) &&
				seq_leq(b.end, o->sack[1].end)))) {
			o->dsack = true;        /* counted rx_dsack by recovery */
			o->sack[n++] = b;
			continue;
		}
		if (seq_lt(b.start, c->snd_una)) {
			eng->stats.rx_sack_bad++;
			continue;
		}
		eng->stats.rx_sack_blocks++;
		o->sack[n++] = b;
	}
	o->nsack = (uint8_t)n;
}

void tcp_segment_arrives(struct tcp_engine *eng, struct tcp_conn *c,
			 struct tcp_seg *seg)
{
	bool was_syn_rcvd;
	uint32_t skip, seq0, len0;

	if (c->state == DPT_SYN_SENT) {
		syn_sent_input(eng, c, seg);
		return;
	}
	if (c->state == DPT_TIME_WAIT && time_wait_reuse(eng, c, seg))
		return;
	/* A retransmitted SYN in SYN_RECEIVED: our SYN,ACK was lost. */
	if (c->state == DPT_SYN_RECEIVED && (seg->flags & TH_SYN) &&
	    !(seg->flags & (TH_ACK | TH_RST)) && seg->seq == c->irs) {
		c->snd_nxt = c->iss;
		tcp_output_mark(eng, c);
		return;
	}
	/* RFC 7323 §2.3: SEG.WND of every segment but a SYN is scaled. */
	if (c->ws_ok && !(seg->th->tcp_flags & TH_SYN))
		seg->wnd <<= c->snd_wscale;
	if (!paws_check(eng, c, seg))
		return;
	seq0 = seg->seq;
	len0 = seg->len;
	if (!seq_acceptable(eng, c, seg, &skip)) {
		eng->stats.rx_unacceptable++;
		if (seg->flags & TH_RST) {
			eng->stats.rx_rst_ignored++;
			return;
		}
		if (c->state == DPT_TIME_WAIT && (seg->flags & TH_FIN))
			tcp_enter_time_wait(eng, c);
		/* RFC 2883 §4: data wholly below RCV.NXT arrived again. If it
		 * reaches Last.ACK.sent, it resends what our last ACK
		 * acknowledged (that ACK was lost): its TSval goes to
		 * TS.Recent (RFC 7323 §4.3 (2) read as Linux and FreeBSD do,
		 * Stevens vol. 2 p. 869), so the ACK echoes this transmission
		 * and the peer measures this round trip, not the time since
		 * its first transmission — which includes its own RTO and would
		 * inflate its RTO with every lost ACK. */
		if (len0 > 0 && seq_leq(seq0 + len0, c->rcv_nxt)) {
			dsack_note(c, seq0, seq0 + len0);
			if (seq_geq(seq0 + len0, c->last_ack_sent))
				ts_update(eng, c, seg, seq0);
		}
		oow_ack(eng, c, seg, len0);
		return;
	}
	tcp_peer_heard(eng, c);
	ts_update(eng, c, seg, seq0);
	if (skip > 0)
		dsack_note(c, seg->seq - skip, seg->seq);   /* RFC 2883 §4 */
	if (seg->flags & TH_RST) {
		rst_input(eng, c, seg);
		return;
	}
	if ((seg->flags | seg->th->tcp_flags) & TH_SYN) {
		/* RFC 9293 §3.10.7.4 fourth: a passive SYN_RECEIVED goes back
		 * to LISTEN; otherwise RFC 5961 §4: challenge ACK, whatever the
		 * sequence number (so also when trimming removed the SYN). */
		if (c->state == DPT_SYN_RECEIVED && (c->flags & TF_PASSIVE)) {
			tcp_conn_release(eng, c);
			return;
		}
		eng->stats.rx_syn_challenged++;
		challenge_ack(eng, c);
		return;
	}
	if (!(seg->flags & TH_ACK))
		return;
	sack_input(eng, c, seg);
	was_syn_rcvd = c->state == DPT_SYN_RECEIVED;
	if (ack_input(eng, c, seg) == SEG_DONE)
		return;
	if (was_syn_rcvd && !(c->flags & TF_PASSIVE)) {
		eng->stats.conn_opened_active++;
		tcp_event(eng, c, DPT_EV_CONNECTED, 0);
		if (c->flags & TF_DEAD)
			return;
	}
	if (seg->th->tcp_flags & TH_URG)
		eng->stats.rx_urg++;            /* sixth: URG ignored */
	if (text_input(eng, c, seg, skip) == SEG_DONE)
		return;
	fin_input(eng, c, seg);
}

static void dispatch(struct tcp_engine *eng, void *ent, struct tcp_seg *seg)
{
	struct tcp_listener *l;

	if (ent != NULL && tcp_ent_is_tw(ent)) {
		tcp_tw_input(eng, tcp_ent_tw(ent), seg);
		return;
	}
	if (ent != NULL) {
		tcp_segment_arrives(eng, ent, seg);
		return;
	}
	l = tcp_listener_find(eng, seg->ip->dst_addr, seg->th->dst_port);
	if (l != NULL) {
		tcp_listen_input(eng, l, seg);
		return;
	}
	eng->stats.rx_no_conn++;
	tcp_send_rst_for(eng, seg);           /* §3.10.7.1: CLOSED */
}

/* An entry found by the burst's bulk lookup that an earlier segment of
 * the burst released (its memory is still there until the batch ends). */
static bool ent_dead(void *ent)
{
	if (tcp_ent_is_tw(ent))
		return tcp_ent_tw(ent)->flags & TW_DEAD;
	return ((struct tcp_conn *)ent)->flags & TF_DEAD;
}

/* A tuple that missed the bulk lookup: may a connection have been made
 * for it since (by an earlier segment of the chunk, or a callback)? */
static bool maybe_made(const struct tcp_engine *eng, const struct tcp_tuple *t)
{
	return eng->new_any && tcp_bits_test(eng->new_bits, tcp_tuple_bit(t));
}

/* One bulk lookup for the chunk, then each segment in order. SYNs to
 * listeners wait in the listener batch until the chunk's end (one batch of
 * SYN-ACKs or cookies); a later segment of a tuple with a waiting SYN
 * first settles the batch, so it meets the state it would have without
 * batching. */
static void input_chunk(struct tcp_engine *eng, struct rte_mbuf **pkts,
			uint16_t n)
{
	struct tcp_seg segs[TCP_BURST_MAX];
	struct tcp_tuple keys[TCP_BURST_MAX];
	void *conns[TCP_BURST_MAX];
	struct rte_mbuf *done[TCP_BURST_MAX];  /* freed in one call at the end */
	uint32_t k = 0, i, ndone = 0;

	for (i = 0; i < n; i++) {
		struct tcp_seg *s = &segs[k];
		if (parse_segment(eng, pkts[i], s) < 0) {
			done[ndone++] = pkts[i];
			continue;
		}
		keys[k] = (struct tcp_tuple){
			.lip = s->ip->dst_addr, .rip = s->ip->src_addr,
			.lport = s->th->dst_port, .rport = s->th->src_port,
		};
		k++;
	}
	tcp_table_lookup_bulk(eng, keys, k, conns);
	eng->chunk_depth++;
	for (i = 0; i < k; i++) {
		void *c = conns[i];
		/* Earlier segments of this burst may have made or ended it. */
		if (c != NULL ? ent_dead(c) : maybe_made(eng, &keys[i]))
			c = tcp_table_lookup(eng, &keys[i]);
		if (c == NULL && eng->nsyn > 0 &&
		    tcp_listen_batch_has(eng, &keys[i])) {
			tcp_listen_flush(eng);
			c = tcp_table_lookup(eng, &keys[i]);
		}
		dispatch(eng, c, &segs[i]);
		if (segs[i].m != NULL)
			done[ndone++] = segs[i].m;
	}
	tcp_listen_flush(eng);
	if (ndone > 1)
		rte_pktmbuf_free_bulk(done, ndone);
	else if (ndone == 1)
		rte_pktmbuf_free(done[0]);      /* inline: cheaper for one */
	if (--eng->chunk_depth == 0 && eng->new_any) {
		memset(eng->new_bits, 0, sizeof(eng->new_bits));
		eng->new_any = false;
	}
}

void tcp_input_burst(struct tcp_engine *eng, struct rte_mbuf **pkts,
		     uint16_t n, uint64_t now_us)
{
	uint16_t done = 0;

	tcp_engine_enter(eng, now_us);
	while (done < n) {
		uint16_t k = RTE_MIN((uint16_t)(n - done), TCP_BURST_MAX);
		input_chunk(eng, pkts + done, k);
		done += k;
	}
	tcp_engine_leave(eng);
}
