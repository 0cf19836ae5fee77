/* tcp_recovery.c — loss detection and recovery of the sender: duplicate
 * ACKs and fast retransmit (RFC 5681 §3.2) with limited transmit
 * (RFC 3042), NewReno fast recovery (RFC 6582), SACK-based recovery
 * (RFC 6675) when SACK was negotiated, and the tail loss probe (RFC 8985
 * §7). The congestion window itself belongs to the cc_ops (tcp_cc.h). */
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

static void tlp_cancel(struct tcp_engine *eng, struct tcp_conn *c)
{
	c->flags &= ~(TF_TLP_OUT | TF_TLP_RXT);
	tcp_timer_stop(&eng->wheel, &c->t_tlp);
}

/* RFC 5681 §3.2 steps 2-4 / RFC 6582 §3.2 step 2 / RFC 6675 §5 (4). */
static void enter_recovery(struct tcp_engine *eng, struct tcp_conn *c)
{
	bool sack = c->sack_ok;
	uint32_t n;

	eng->stats.recoveries++;
	if (sack)
		eng->stats.sack_recoveries++;
	tlp_cancel(eng, c);
	c->recover = c->snd_max;
	c->cc_ops->on_congestion(c, eng->now_us);
	c->flags |= TF_RECOVERY | (sack ? TF_SACK_RECOVERY : 0);
	c->sb.high_rxt = c->snd_una;
	n = tcp_retransmit_seg(eng, c, c->snd_una, c->snd_mss);
	if (n > 0)
		eng->stats.fast_retransmits++;
	if (sack)
		c->sb.high_rxt = c->snd_una + n;
	else    /* the three segments that left the network */
		c->cwnd = c->ssthresh + TCP_DUPTHRESH * c->snd_mss;
	tcp_output_mark(eng, c);
}

/* RFC 6582 §3.2 step 3: a full ACK ends recovery. */
static void exit_recovery(struct tcp_engine *eng, struct tcp_conn *c)
{
	c->flags &= ~(TF_RECOVERY | TF_SACK_RECOVERY);
	c->dupacks = 0;
	c->cc_ops->on_recovery_exit(c, eng->now_us);
	tcp_output_mark(eng, c);
}

/* RFC 6582 §3.2 step 4: retransmit the next hole, deflate cwnd by what
 * was acknowledged, add back one SMSS if that was at least one. With SACK
 * the scoreboard decides what to send (RFC 6675 §5 (C)). */
static void partial_ack(struct tcp_engine *eng, struct tcp_conn *c,
			uint32_t acked)
{
	eng->stats.partial_acks++;
	if (!(c->flags & TF_SACK_RECOVERY)) {
		tcp_retransmit_seg(eng, c, c->snd_una, c->snd_mss);
		c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
		if (acked >= c->snd_mss)
			c->cwnd += c->snd_mss;
		c->cwnd = RTE_MAX(c->cwnd, c->snd_mss);
	}
	tcp_output_mark(eng, c);
}

/* RFC 8985 §7.4: the probe's episode ends when SND.UNA passes it. A
 * retransmitted probe with no D-SACK reporting it repaired a tail loss:
 * with SACK that is a congestion event (§7.4.2). Without SACK nothing
 * tells a spurious probe apart, so the count is an upper bound and cwnd
 * is left alone. */
static void tlp_ack(struct tcp_engine *eng, struct tcp_conn *c, bool dsack)
{
	if (!(c->flags & TF_TLP_OUT) || seq_lt(c->snd_una, c->tlp_high_seq))
		return;
	if ((c->flags & TF_TLP_RXT) && !dsack) {
		eng->stats.tlp_recoveries++;
		if (c->sack_ok) {
			c->cc_ops->on_congestion(c, eng->now_us);
			c->cc_ops->on_recovery_exit(c, eng->now_us);
		}
	}
	c->flags &= ~(TF_TLP_OUT | TF_TLP_RXT);
}

/* Every acceptable ACK, after SND.UNA moved (acked: data bytes newly
 * acknowledged, rtt_us: its RTT sample or 0) and before the window update;
 * dupack was decided before anything changed. */
void tcp_recovery_ack(struct tcp_engine *eng, struct tcp_conn *c,
		      const struct tcp_seg *seg, uint32_t prev_una,
		      uint32_t acked, uint32_t rtt_us, bool dupack)
{
	struct tcp_sack_block b[TCP_SACK_MAX_BLOCKS];
	bool advanced = c->snd_una != prev_una, sack_new = false, dsack = false;
	unsigned int nb;

	if (c->sack_ok) {
		nb = tcp_opt_sack_blocks(seg, b);
		if (nb > 0)
			sack_new = tcp_sack_update(eng, c, b, nb, seg->ack,
						   &dsack);
		tcp_sack_trim(c);
	}
	tlp_ack(eng, c, dsack);
	if ((c->flags & TF_RTO_RECOVER) && seq_geq(c->snd_una, c->recover))
		c->flags &= ~TF_RTO_RECOVER;

	if (c->flags & TF_RECOVERY) {
		if (seq_geq(c->snd_una, c->recover))
			exit_recovery(eng, c);
		else if (advanced)
			partial_ack(eng, c, acked);
		else if (dupack || sack_new) {
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
		/* RFC 6675 §5: the scoreboard may show a loss on any ACK. */
		if (c->sb.n > 0 && !(c->flags & TF_RTO_RECOVER) &&
		    tcp_sack_is_lost(c, c->snd_una))
			enter_recovery(eng, c);
		return;
	}
	if (!dupack && !(sack_new && seg->ack == c->snd_una))
		return;
	if (c->dupacks < UINT8_MAX)
		c->dupacks++;
	/* RFC 6582 §4: duplicate ACKs of data sent before an RTO start no
	 * fast retransmit until SND.UNA passed recover. */
	if (c->flags & TF_RTO_RECOVER)
		return;
	if (c->dupacks >= TCP_DUPTHRESH ||
	    (c->sack_ok && tcp_sack_is_lost(c, c->snd_una)))
		enter_recovery(eng, c);
	else
		tcp_output_mark(eng, c);        /* RFC 3042 */
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
	tcp_sack_clear(c);
	tlp_cancel(eng, c);
}

/* RFC 6675 §5 (C): while cwnd - pipe >= 1 SMSS, send what NextSeg()
 * names: a lost hole (rule 1), new data (rule 2), another hole below the
 * highest SACKed byte (rule 3). */
bool tcp_sack_output(struct tcp_engine *eng, struct tcp_conn *c)
{
	uint32_t pipe = tcp_sack_pipe(c), seq, len, n;
	bool sent = false;

	while (pipe + c->snd_mss <= c->cwnd) {
		len = c->snd_mss;
		if (tcp_sack_next_hole(c, false, &seq, &len)) {
			n = tcp_retransmit_seg(eng, c, seq, len);
			c->sb.high_rxt = seq + n;
		} else if ((n = tcp_send_new_segment(eng, c)) > 0) {
			/* rule 2 */
		} else if (tcp_sack_next_hole(c, true, &seq, &len)) {
			n = tcp_retransmit_seg(eng, c, seq, len);
			c->sb.high_rxt = seq + n;
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

static bool tlp_allowed(const struct tcp_conn *c)
{
	return c->tlp && (c->flags & TF_SYN_ACKED) && c->snd_max != c->snd_una &&
	       c->srtt_us != 0 && c->retries == 0 &&
	       c->snd_nxt == c->snd_max && c->sb.n == 0 &&
	       !(c->flags & (TF_RECOVERY | TF_TLP_OUT | TF_PERSIST |
			     TF_RTO_RECOVER)) &&
	       c->state != DPT_TIME_WAIT && c->state != DPT_CLOSED;
}

/* RFC 8985 §7.2: PTO = 2*SRTT (+ WCDelAckT with one segment in flight);
 * not armed when the RTO would come first. Called after output, and so
 * again after each ACK that moved SND.UNA (which stopped it). */
void tcp_tlp_arm(struct tcp_engine *eng, struct tcp_conn *c)
{
	uint32_t pto;

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

/* RFC 8985 §7.3: send one new segment if the peer's window allows it,
 * else retransmit the last one; then the RTO runs again. */
void tcp_tlp_timeout(struct tcp_engine *eng, struct tcp_conn *c)
{
	uint32_t data_end = c->sndq_seq + c->sndq.bytes, seq, n;

	if (!tlp_allowed(c))
		return;
	n = tcp_send_new_segment(eng, c);
	if (n == 0) {
		seq = seq_gt(data_end, c->snd_una) ?
		      data_end - RTE_MIN(data_end - c->snd_una, c->snd_mss) :
		      data_end;
		n = tcp_retransmit_seg(eng, c, seq, c->snd_mss);
		if (n == 0)
			return;
		c->flags |= TF_TLP_RXT;
	}
	eng->stats.tlp_probes++;
	c->flags |= TF_TLP_OUT;
	c->tlp_high_seq = c->snd_max;
	tcp_arm_rexmit(eng, c);
}
