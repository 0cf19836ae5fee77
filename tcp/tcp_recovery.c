/* tcp_recovery.c — loss detection and recovery of the sender: duplicate
 * ACKs and fast retransmit (RFC 5681 §3.2) with limited transmit
 * (RFC 3042) and NewReno fast recovery (RFC 6582) without SACK; with
 * SACK, RACK decides what is lost (RFC 8985 §6, tcp_rack.c) and the
 * scoreboard's pipe what may be sent (RFC 6675); the tail loss probe
 * (RFC 8985 §7); undoing a window reduction that D-SACKs or timestamps
 * show was spurious (RFC 2883, RFC 3522, as Linux); how fast the window
 * comes down during SACK recovery (PRR, RFC 6937). The congestion window
 * itself belongs to the cc_ops (tcp_cc.h). */
#include "tcp_internal.h"

/* RFC 8985 §7.2 WCDelAckT, added to the PTO when one segment is in flight,
 * the RFC's recommended 200 ms: a peer's delayed ACK (Linux: 40..200 ms)
 * must not look like a tail loss (50 ms made Linux peers draw hundreds of
 * spurious probes in the interop echo tests). With rto_min_ms = 200 a lone
 * segment is thus left to the RTO; longer flights probe after 2*SRTT. */
#define TCP_TLP_WCDELACK_US 200000u

void tcp_recovery_init(struct tcp_engine *eng, struct tcp_conn *c)
{
	c->cc_ops = tcp_cc_get(eng->cfg.cc);
	c->tlp = eng->cfg.tlp != 0;
	c->t_tlp.kind = TCP_T_TLP;
	c->dupacks = 0;
	tcp_sack_clear(c);
	tcp_rack_init(c);
	c->cc_ops->init(c);
}

/* RFC 5681 §2 DUPLICATE ACKNOWLEDGMENT: data outstanding, no data and no
 * SYN/FIN in the segment, SEG.ACK = SND.UNA, and the same window. Decided
 * before the segment updates anything. */
bool tcp_is_dupack(const struct tcp_conn *c, const struct tcp_seg *seg)
{
	uint32_t payload = rte_pktmbuf_pkt_len(seg->m) - seg->hdr_len;

	return c->snd_max != c->snd_una && payload == 0 &&
	       !(seg->flags & (TH_SYN | TH_FIN)) && seg->ack == c->snd_una &&
	       seg->wnd == c->snd_wnd;
}

/* cwnd with RFC 3042 limited transmit: each of the first two duplicate
 * ACKs lets one more new segment go (cwnd itself does not change). */
uint32_t tcp_send_window(const struct tcp_conn *c)
{
	uint32_t cwnd = c->cwnd;

	if (!(c->flags & TF_RECOVERY) && c->dupacks > 0 &&
	    c->dupacks < TCP_DUPTHRESH)
		cwnd += c->dupacks * c->snd_mss;
	return RTE_MIN(c->snd_wnd, cwnd);
}

/* Stops the TLP and RACK's reordering timer (they share the slot). */
static void tlp_cancel(struct tcp_engine *eng, struct tcp_conn *c)
{
	c->flags &= ~(TF_TLP_OUT | TF_TLP_RXT | TF_RACK_TIMER);
	tcp_timer_stop(&eng->wheel, &c->t_tlp);
}

/* A reduction starts: remember what to restore if it proves spurious.
 * A resent probe still out counts as one of the episode's resends: its
 * D-SACK must not stand for a resend that repaired a real hole (Linux
 * commit "tcp: fix incorrect undo caused by DSACK of TLP retransmit"). */
static void undo_start(struct tcp_conn *c)
{
	c->prior_cwnd = c->cwnd;
	c->prior_ssthresh = c->ssthresh;
	c->prior_cc = c->cc;
	c->undo_retrans = (c->flags & TF_TLP_OUT) && (c->flags & TF_TLP_RXT);
	c->undo_ts = false;
	c->flags |= TF_UNDO;
}

/* Every resend of the episode: counted for D-SACK undo; the first one's
 * TSval for the timestamp test. */
static void undo_note_resend(struct tcp_engine *eng, struct tcp_conn *c)
{
	if (!(c->flags & TF_UNDO))
		return;
	c->undo_retrans++;
	if (!c->undo_ts && c->ts_ok) {
		c->undo_tsval = tcp_ts_now(eng, c->ts_offset);
		c->undo_ts = true;
	}
}

/* The reduction was spurious: the window and the cc state before it come
 * back (RFC 4015 §2 restores cwnd/ssthresh, as Linux's undo; cubic's
 * epoch and W_max too, so the curve goes on as if nothing happened). */
static void undo(struct tcp_engine *eng, struct tcp_conn *c, uint64_t *counter)
{
	uint32_t cwnd = c->cwnd;

	c->flags &= ~TF_UNDO;
	(*counter)++;
	c->cc = c->prior_cc;
	c->cwnd = RTE_MAX(cwnd, c->prior_cwnd);
	c->ssthresh = RTE_MAX(c->ssthresh, c->prior_ssthresh);
	tcp_output_mark(eng, c);
}

/* RFC 6937 prr_out: what SACK recovery sent, resends and new data. */
static void prr_sent(struct tcp_conn *c, uint32_t n)
{
	if (c->flags & TF_SACK_RECOVERY)
		c->prr_out += n;
}

/* RFC 6937 §3, on each ACK of SACK recovery: the window lets out what
 * keeps the sending rate proportional to delivery while the pipe is
 * above ssthresh (the reduction is spread over the recovery round
 * instead of sending nothing until the pipe has fallen below ssthresh,
 * RFC 6675's behaviour), and grows back towards ssthresh at most one
 * segment faster than delivery when the pipe is below it (PRR-SSRB).
 * Sending on every ACK that delivers keeps ACKs coming: a recovery whose
 * last send is a resend waits for nothing but that resend's ACK. */
static void prr_ack(struct tcp_conn *c, uint32_t delivered)
{
	uint32_t pipe = tcp_sack_pipe(c), ssthresh = c->ssthresh, sndcnt;
	uint64_t due;

	c->prr_delivered += delivered;
	if (pipe > ssthresh) {
		due = ((uint64_t)c->prr_delivered * ssthresh +
		       c->prr_recover_fs - 1) / RTE_MAX(c->prr_recover_fs, 1u);
		sndcnt = due > c->prr_out ? (uint32_t)(due - c->prr_out) : 0;
	} else {
		uint32_t ahead = c->prr_delivered > c->prr_out ?
				 c->prr_delivered - c->prr_out : 0;

		sndcnt = RTE_MIN(ssthresh - pipe,
				 RTE_MAX(ahead, delivered) + c->snd_mss);
	}
	c->cwnd = pipe + sndcnt;
}

/* Resends [seq, seq + len) in recovery; HighRxt covers it afterwards. */
static uint32_t resend(struct tcp_engine *eng, struct tcp_conn *c,
		       uint32_t seq, uint32_t len)
{
	uint32_t n = tcp_retransmit_seg(eng, c, seq, len);

	if (n == 0)
		return 0;
	prr_sent(c, n);
	undo_note_resend(eng, c);
	if (seq_lt(seq, c->sb.high_rxt))
		eng->stats.rack_lost_resends++;
	c->sb.high_rxt = seq_max(c->sb.high_rxt, seq + n);
	return n;
}

/* RFC 5681 §3.2 steps 2-4 / RFC 6582 §3.2 step 2 / RFC 6675 §5 (4); with
 * SACK the first resend is what RACK found lost (RFC 8985 §6.2). */
static void enter_recovery(struct tcp_engine *eng, struct tcp_conn *c,
			   uint32_t delivered)
{
	bool sack = c->sack_ok;
	uint32_t n = 0, seq = c->snd_una, len = c->snd_mss;

	eng->stats.recoveries++;
	if (sack)
		eng->stats.sack_recoveries++;
	undo_start(c);
	tlp_cancel(eng, c);
	c->recover = c->snd_max;
	c->cc_ops->on_congestion(c, eng->now_us);
	c->flags |= TF_RECOVERY | (sack ? TF_SACK_RECOVERY : 0);
	c->sb.high_rxt = c->snd_una;
	c->prr_delivered = 0;
	c->prr_out = 0;
	c->prr_recover_fs = c->snd_max - c->snd_una;
	if (!sack || tcp_sack_next_hole(c, &seq, &len))
		n = resend(eng, c, seq, len);
	if (n > 0)
		eng->stats.fast_retransmits++;
	if (!sack)      /* the three segments that left the network */
		c->cwnd = c->ssthresh + TCP_DUPTHRESH * c->snd_mss;
	else            /* the ACK that began it is PRR's first */
		prr_ack(c, delivered);
	tcp_output_mark(eng, c);
}

/* RFC 6582 §3.2 step 3: a full ACK ends recovery. RFC 3522: when its
 * TSecr is older than our first resend, the receiver had the originals
 * before any resend arrived — the episode was spurious. */
static void exit_recovery(struct tcp_engine *eng, struct tcp_conn *c,
			  const struct tcp_seg *seg)
{
	c->flags &= ~(TF_RECOVERY | TF_SACK_RECOVERY);
	c->dupacks = 0;
	c->cc_ops->on_recovery_exit(c, eng->now_us);
	tcp_rack_recovery_done(c);
	if ((c->flags & TF_UNDO) && c->undo_ts && seg->opts.has_ts &&
	    seg->opts.ts_ecr != 0 && seq_lt(seg->opts.ts_ecr, c->undo_tsval))
		undo(eng, c, &eng->stats.undo_ts);
	tcp_output_mark(eng, c);
}

/* RFC 2883 §4 / Linux's D-SACK undo: each duplicate reported below
 * recover may be one of our resends that was not needed; when all of the
 * episode's are, the reduction is undone. */
static void dsack_input(struct tcp_engine *eng, struct tcp_conn *c,
			const struct tcp_sack_block *b)
{
	uint32_t segs;

	tcp_rack_dsack(c, b->start, b->end);
	if (!(c->flags & TF_UNDO) || c->undo_retrans == 0 ||
	    !seq_lt(b->start, c->recover))
		return;
	segs = (b->end - b->start + c->snd_mss - 1) / c->snd_mss;
	segs = RTE_MAX(segs, 1u);
	c->undo_retrans -= RTE_MIN(segs, c->undo_retrans);
	if (c->undo_retrans == 0)
		undo(eng, c, &eng->stats.undo_dsack);
}

/* RFC 6582 §3.2 step 4: retransmit the next hole, deflate cwnd by what
 * was acknowledged, add back one SMSS if that was at least one. With SACK
 * the scoreboard decides what to send (RFC 6675 §5 (C)). */
static void partial_ack(struct tcp_engine *eng, struct tcp_conn *c,
			uint32_t acked)
{
	eng->stats.partial_acks++;
	if (!(c->flags & TF_SACK_RECOVERY)) {
		if (tcp_retransmit_seg(eng, c, c->snd_una, c->snd_mss) > 0)
			undo_note_resend(eng, c);
		c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
		if (acked >= c->snd_mss)
			c->cwnd += c->snd_mss;
		c->cwnd = RTE_MAX(c->cwnd, c->snd_mss);
	}
	tcp_output_mark(eng, c);
}

/* RFC 8985 §7.4.2 (TLP_process_ack, as Linux's tcp_process_tlp_ack()):
 * once SND.UNA reaches the probe's TLP.end_seq, a resent probe is judged
 * - D-SACKed: the original had arrived, the probe was a duplicate: no
 *   loss (counted tlp_spurious, cwnd untouched);
 * - an ACK beyond TLP.end_seq without that D-SACK: the probe repaired a
 *   tail loss, a congestion event with SACK (tlp_recoveries);
 * - a pure duplicate ACK of TLP.end_seq without SACK blocks (same
 *   window: not a window update): the probe arrived after the original
 *   at a receiver without D-SACK: no loss;
 * - an ACK of exactly TLP.end_seq: undecided. It may be the original's
 *   late ACK with the probe's D-SACK to follow, so the episode stays
 *   open (counting it a recovery there made every probe that only
 *   outran a late ACK a cwnd reduction). The next ACK decides.
 * Without SACK no D-SACK can come; the count is then an upper bound and
 * cwnd is left alone. */
static void tlp_ack(struct tcp_engine *eng, struct tcp_conn *c,
		    const struct tcp_seg *seg, bool advanced, bool dsack)
{
	const struct tcp_sack_block *d = &seg->opts.sack[0];

	if (!(c->flags & TF_TLP_OUT) || seq_lt(c->snd_una, c->tlp_high_seq))
		return;
	if (!(c->flags & TF_TLP_RXT)) {
		/* a probe of new data: nothing to judge */
	} else if (dsack && seq_gt(d->end, c->tlp_rxt_seq) &&
		   seq_lt(d->start, c->tlp_high_seq)) {
		eng->stats.tlp_spurious++;
	} else if (seq_gt(c->snd_una, c->tlp_high_seq)) {
		eng->stats.tlp_recoveries++;
		if (c->sack_ok) {
			c->cc_ops->on_congestion(c, eng->now_us);
			c->cc_ops->on_recovery_exit(c, eng->now_us);
		}
	} else if (!advanced && seg->ack == c->tlp_high_seq &&
		   seg->len == 0 && seg->opts.nsack == 0 &&
		   seg->wnd == c->snd_wnd &&
		   !(seg->flags & (TH_SYN | TH_FIN))) {
		eng->stats.tlp_spurious++;
	} else {
		return;
	}
	c->flags &= ~(TF_TLP_OUT | TF_TLP_RXT);
}

/* SACK input of one ACK (before the cumulative ACK's trim): the
 * scoreboard, and RACK's view of what was delivered (RFC 8985 §6.2
 * steps 1-4). *sack_new: bytes SACKed for the first time. */
static void sack_ack(struct tcp_engine *eng, struct tcp_conn *c,
		     const struct tcp_seg *seg, uint32_t prev_una,
		     bool *sack_new, bool *dsack)
{
	struct tcp_sack_block b[TCP_SACK_MAX_BLOCKS], newp[TCP_SACK_NEW_MAX];
	uint32_t fack = c->rack.fack_ok ? c->rack.fack : prev_una;
	uint32_t ecr = seg->opts.has_ts ? seg->opts.ts_ecr : 0, e;
	unsigned int nb, nnew = 0, i;

	if (c->snd_una != prev_una) {
		e = tcp_sack_delivered_end(c, prev_una, c->snd_una);
		if (e != prev_una)
			tcp_rack_delivered(eng, c, prev_una, e, fack, ecr);
	}
	nb = tcp_opt_sack_blocks(seg, b);
	if (nb > 0) {
		*sack_new = tcp_sack_update(eng, c, b, nb, seg->ack, dsack,
					    newp, &nnew);
		for (i = 0; i < nnew; i++)
			tcp_rack_delivered(eng, c, newp[i].start, newp[i].end,
					   fack, ecr);
		if (*dsack)
			dsack_input(eng, c, &b[0]);
	}
	tcp_sack_trim(c);
}

/* Every acceptable ACK, after SND.UNA moved (acked: data bytes newly
 * acknowledged, rtt_us: its RTT sample or 0) and before the window update;
 * dupack was decided before anything changed. */
void tcp_recovery_ack(struct tcp_engine *eng, struct tcp_conn *c,
		      const struct tcp_seg *seg, uint32_t prev_una,
		      uint32_t acked, uint32_t rtt_us, bool dupack)
{
	bool advanced = c->snd_una != prev_una, sack_new = false, dsack = false;
	bool lost = false;
	uint32_t sacked_before = c->sb.sacked, delivered;

	if (c->sack_ok)
		sack_ack(eng, c, seg, prev_una, &sack_new, &dsack);
	/* RFC 6937 DeliveredData: SND.UNA's advance and the change in
	 * SACKed bytes (a range the scoreboard had to drop can make that
	 * negative: none then) */
	delivered = c->snd_una - prev_una + c->sb.sacked;
	delivered = delivered > sacked_before ? delivered - sacked_before : 0;
	tlp_ack(eng, c, seg, advanced, dsack);
	if ((c->flags & TF_RTO_RECOVER) && seq_geq(c->snd_una, c->recover))
		c->flags &= ~TF_RTO_RECOVER;
	if (c->sack_ok)
		lost = tcp_rack_detect(eng, c);

	if (c->flags & TF_RECOVERY) {
		/* the recovery probe measures a PTO without progress: new
		 * SACK information restarts it (after output) */
		if (sack_new && !(c->flags & (TF_RACK_TIMER | TF_TLP_OUT)))
			tcp_timer_stop(&eng->wheel, &c->t_tlp);
		if (seq_geq(c->snd_una, c->recover)) {
			exit_recovery(eng, c, seg);
			return;
		}
		/* an undone reduction is not carried on (TF_UNDO gone) */
		if ((c->flags & TF_SACK_RECOVERY) && (c->flags & TF_UNDO))
			prr_ack(c, delivered);
		if (advanced)
			partial_ack(eng, c, acked);
		else if (dupack || sack_new || lost) {
			/* RFC 5681 §3.2 step 4: inflate by the segment that
			 * left; the scoreboard's pipe does that with SACK. */
			if (!(c->flags & TF_SACK_RECOVERY))
				c->cwnd += c->snd_mss;
			tcp_output_mark(eng, c);
		}
		return;
	}
	if (advanced) {
		c->dupacks = 0;
		/* RFC 5681 §3.1: only new data grows cwnd, and only while it
		 * limits the sender (RFC 7661 spirit: a window that is not
		 * used would only grow until it wraps). */
		if (acked > 0 &&
		    c->cwnd < 2 * RTE_MAX(c->max_snd_wnd, c->snd_mss))
			c->cc_ops->on_ack(c, acked, rtt_us, eng->now_us);
		/* RFC 8985 §6.2: RACK may find a loss on any ACK. */
		if (lost && !(c->flags & TF_RTO_RECOVER))
			enter_recovery(eng, c, delivered);
		return;
	}
	if (!dupack && !(sack_new && seg->ack == c->snd_una)) {
		if (lost && !(c->flags & TF_RTO_RECOVER))
			enter_recovery(eng, c, delivered);
		return;
	}
	if (c->dupacks < UINT8_MAX)
		c->dupacks++;
	/* RFC 6582 §4: duplicate ACKs of data sent before an RTO start no
	 * fast retransmit until SND.UNA passed recover. */
	if (c->flags & TF_RTO_RECOVER)
		return;
	/* Without SACK, the third duplicate ACK (RFC 5681 §3.2); with SACK,
	 * RACK's verdict alone (RFC 8985 §6.2: reordering shorter than the
	 * reordering window is not a loss, however many ACKs it takes). */
	if (c->sack_ok ? lost : c->dupacks >= TCP_DUPTHRESH)
		enter_recovery(eng, c, delivered);
	else
		tcp_output_mark(eng, c);        /* RFC 3042, or SACK pipe */
}

/* An RTO ends any recovery: the cc collapses cwnd, the scoreboard is
 * forgotten (RFC 6675 §5.1) and go-back-N resends from SND.UNA. */
void tcp_recovery_rto(struct tcp_engine *eng, struct tcp_conn *c)
{
	c->cc_ops->on_rto(c, eng->now_us);
	c->flags &= ~(TF_RECOVERY | TF_SACK_RECOVERY);
	c->flags |= TF_RTO_RECOVER;
	c->recover = c->snd_max;
	c->dupacks = 0;
	c->flags &= ~TF_UNDO;
	tcp_sack_clear(c);
	tcp_rack_forget_resends(c);
	tlp_cancel(eng, c);
}

/* RFC 6675 §5 (C): while cwnd - pipe >= 1 SMSS, send what NextSeg()
 * names: a lost hole (rule 1: what RACK holds lost, lost resends
 * included), then new data (rule 2). Not rule 3 (resend a hole nobody
 * holds lost when no new data may go): with RACK every loss is found by
 * time, and under reordering rule 3 resent holes that were only late,
 * whenever the peer's window stopped new data (as Linux, which has no
 * rule 3). Also outside recovery while data is SACKed: what the receiver
 * holds out of order has left the network, so new data may take its
 * place (as Linux counts packets in flight). */
bool tcp_sack_output(struct tcp_engine *eng, struct tcp_conn *c)
{
	uint32_t pipe = tcp_sack_pipe(c), seq, len, n;
	bool rec = (c->flags & TF_SACK_RECOVERY) != 0, sent = false;

	while (pipe + c->snd_mss <= c->cwnd) {
		len = c->snd_mss;
		if (rec && tcp_sack_next_hole(c, &seq, &len)) {
			n = resend(eng, c, seq, len);
		} else if ((n = tcp_send_new_segment(eng, c)) > 0) {
			prr_sent(c, n);         /* rule 2 */
		} else {
			break;
		}
		if (n == 0)
			break;
		pipe += n;
		sent = true;
	}
	return sent;
}

/* A probe in SACK recovery (not in RFC 8985 §7.2, which arms none
 * there): recovery that made no progress for a PTO. Seen on a 0 ms path
 * at 1 % loss (issue 6): the flight ends with the resend RACK found lost
 * and pipe >= cwnd stops new data; when the receiver's one cumulative ACK
 * of it all is lost, or the resend is (no later send can be delivered
 * for RACK to see it), nothing comes back and only the 200 ms RTO ended
 * the stall — 7-9 of them in a 4 s run, most of the lost time. One
 * segment past cwnd draws an ACK: the lost one's information again, or
 * SACK of data sent after a lost resend, which RACK then marks. */
static bool tlp_in_recovery(const struct tcp_conn *c)
{
	return (c->flags & TF_SACK_RECOVERY) && !(c->flags & TF_RACK_TIMER);
}

static bool tlp_allowed(const struct tcp_conn *c)
{
	return c->tlp && (c->flags & TF_SYN_ACKED) && c->snd_max != c->snd_una &&
	       c->srtt_us != 0 && c->retries == 0 &&
	       c->snd_nxt == c->snd_max &&
	       (tlp_in_recovery(c) ||
		(c->sb.n == 0 && !(c->flags & TF_RECOVERY))) &&
	       !(c->flags & (TF_TLP_OUT | TF_PERSIST | TF_RTO_RECOVER)) &&
	       c->state != DPT_TIME_WAIT && c->state != DPT_CLOSED;
}

/* RFC 8985 §7.2: PTO = 2*SRTT (+ WCDelAckT with one segment in flight);
 * not armed when the RTO would come first. Called after output, and so
 * again after each ACK that moved SND.UNA (which stopped it). */
void tcp_tlp_arm(struct tcp_engine *eng, struct tcp_conn *c)
{
	uint32_t pto;

	if (c->flags & TF_RACK_TIMER)
		return;                 /* the slot is RACK's */
	if (!tlp_allowed(c)) {
		if (!(c->flags & TF_TLP_OUT))
			tcp_timer_stop(&eng->wheel, &c->t_tlp);
		return;
	}
	if (tcp_timer_armed(&c->t_tlp))
		return;
	pto = 2 * c->srtt_us;
	if (c->snd_max - c->snd_una <= c->snd_mss)
		pto += TCP_TLP_WCDELACK_US;
	pto = RTE_MAX(pto, 2 * eng->cfg.tick_us);
	if (pto >= tcp_rto_backed_off(eng, c))
		return;
	tcp_timer_arm(&eng->wheel, &c->t_tlp,
		      tcp_us_to_tick(eng, eng->now_us + pto) + 1);
}

/* RFC 8985 §7.3's "the highest-sequence segment sent", read as the
 * highest one not SACKed: the end of the data sent (queued data the
 * window kept back was never sent; a FIN past it is resent with it),
 * moved below the SACKed ranges that reach it, at most an MSS of the
 * hole found there. Without SACKed data it is the last segment sent. In
 * recovery (tlp_in_recovery()) the last one is often SACKed already: its
 * resend would draw a D-SACK that tells RACK nothing, while the hole's
 * resend either repairs it or is D-SACKed in turn. */
static uint32_t tlp_resend_seq(const struct tcp_conn *c)
{
	uint32_t end = seq_min(c->sndq_seq + c->sndq.bytes, c->snd_max);
	uint32_t lo = c->snd_una;
	int i;

	for (i = c->sb.n - 1; i >= 0; i--) {
		const struct tcp_sack_block *r = &c->sb.r[i];

		if (seq_geq(r->start, end))
			continue;               /* above the data sent */
		if (seq_geq(r->end, end)) {
			end = r->start;         /* SACKed up to end */
			continue;
		}
		lo = r->end;                    /* the hole [r->end, end) */
		break;
	}
	if (!seq_gt(end, lo))
		return end;
	return end - RTE_MIN(end - lo, c->snd_mss);
}

/* RFC 8985 §7.3: send one new segment if the peer's window allows it,
 * else resend the last one (tlp_resend_seq()); then the RTO runs again. */
void tcp_tlp_timeout(struct tcp_engine *eng, struct tcp_conn *c)
{
	uint32_t seq, n;
	bool rec;

	if (c->flags & TF_RACK_TIMER) {
		/* RFC 8985 §6.3: the reordering window of something sent
		 * before the last delivery has passed. */
		c->flags &= ~TF_RACK_TIMER;
		eng->stats.rack_timeouts++;
		if (tcp_rack_detect(eng, c)) {
			if (!(c->flags & TF_RECOVERY))
				enter_recovery(eng, c, 0);
			tcp_output_mark(eng, c);
		}
		return;
	}
	if (!tlp_allowed(c))
		return;
	rec = (c->flags & TF_RECOVERY) != 0;
	n = tcp_send_new_segment(eng, c);
	if (n == 0) {
		seq = tlp_resend_seq(c);
		n = tcp_retransmit_seg(eng, c, seq, c->snd_mss);
		if (n == 0)
			return;
		/* In recovery the episode owns the verdict (no second
		 * reduction from tlp_ack()); the resend counts for D-SACK
		 * undo like the episode's others. */
		if (rec) {
			undo_note_resend(eng, c);
		} else {
			c->flags |= TF_TLP_RXT;
			c->tlp_rxt_seq = seq;
		}
	}
	prr_sent(c, n);
	eng->stats.tlp_probes++;
	if (rec)
		eng->stats.tlp_recovery_probes++;
	c->flags |= TF_TLP_OUT;
	c->tlp_high_seq = c->snd_max;
	tcp_arm_rexmit(eng, c);
}
