/* tcp_timewait.c — compact TIME_WAIT (RFC 9293 §3.6): once the application
 * has heard CLOSED, a connection in TIME_WAIT gives back its TCB and
 * buffers and lives on for 2*MSL as a small record from a per-engine pool,
 * in the connection table (tagged) and on the timer wheel; this file
 * answers the segments that reach it (RFC 9293 §3.10.7.4, RFC 1337,
 * RFC 6191, RFC 5961), exactly as the full TCB in TIME_WAIT would. */
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>

#include "tcp_internal.h"

int tcp_tw_create(struct tcp_engine *eng, unsigned int id, int socket)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	snprintf(name, sizeof(name), "dpt_tw_%u", id);
	/* Not cache-aligned: records are small and touched one at a time. */
	eng->tw_pool = tcp_obj_pool_create(name,
		RTE_MAX(eng->cfg.max_time_wait, 1u), sizeof(struct tcp_tw),
		socket, RTE_MEMPOOL_F_NO_CACHE_ALIGN);
	return eng->tw_pool == NULL ? -rte_errno : 0;
}

void tcp_tw_destroy(struct tcp_engine *eng)
{
	rte_mempool_free(eng->tw_pool);
	eng->tw_pool = NULL;
}

static void tw_queue(struct tcp_engine *eng, struct tcp_tw *tw)
{
	if (tw->flags & TW_QUEUED)
		return;
	tw->flags |= TW_QUEUED;
	tw->next = eng->tw_batch;
	eng->tw_batch = tw;
}

/* At most one ACK per record per batch, like TF_ACK_NOW for a TCB. */
static void tw_send_ack(struct tcp_engine *eng, struct tcp_tw *tw)
{
	tw->flags |= TW_ACK_NOW;
	tw_queue(eng, tw);
}

static void tw_restart(struct tcp_engine *eng, struct tcp_tw *tw)
{
	tcp_timer_arm(&eng->wheel, &tw->timer, tcp_us_to_tick(eng,
		eng->now_us) + tcp_ms_to_tick(eng, 2ull * eng->cfg.msl_ms));
}

/* The tuple is free again; the memory returns when the batch ends, so
 * bulk lookup results of this burst may still test TW_DEAD. */
static void tw_release(struct tcp_engine *eng, struct tcp_tw *tw)
{
	tcp_timer_stop(&eng->wheel, &tw->timer);
	tcp_table_del(eng, &tw->tuple);
	eng->ntw--;
	eng->state_count[DPT_TIME_WAIT]--;
	eng->stats.conn_closed++;
	tw->flags = (uint8_t)((tw->flags & ~TW_ACK_NOW) | TW_DEAD);
	tw_queue(eng, tw);
}

/* c is in TIME_WAIT and the application has had CLOSED: the record takes
 * over c's table entry and the rest of its 2*MSL, and an ACK c owed. With
 * max_time_wait records already, c closes without TIME_WAIT (tw_overflow,
 * as Linux does past tcp_max_tw_buckets). */
void tcp_tw_from_conn(struct tcp_engine *eng, struct tcp_conn *c)
{
	struct tcp_tw *tw;
	uint64_t expires;

	if (eng->ntw >= eng->cfg.max_time_wait ||
	    rte_mempool_get(eng->tw_pool, (void **)&tw) < 0) {
		eng->stats.tw_overflow++;
		if (c->flags & TF_ACK_NOW)
			tcp_send_ack_now(eng, c);
		tcp_conn_release(eng, c);
		return;
	}
	expires = tcp_timer_armed(&c->t_linger) ? c->t_linger.expires :
		tcp_us_to_tick(eng, eng->now_us) +
		tcp_ms_to_tick(eng, 2ull * eng->cfg.msl_ms);
	*tw = (struct tcp_tw){
		.tuple = c->tuple,
		.snd_nxt = c->snd_max,
		.rcv_nxt = c->rcv_nxt,
		.rcv_wnd = tcp_rcv_window(c),
		.max_snd_wnd = c->max_snd_wnd,
		.ts_recent = c->ts_recent,
		.mss = (uint16_t)c->snd_mss,
		.flags = c->ts_ok ? TW_TS : 0,
		.rcv_wscale = c->ws_ok ? c->rcv_wscale : 0,
		.timer.kind = TCP_T_TW,
	};
	/* Replacing the data of an existing key cannot fail. */
	tcp_table_set(eng, &tw->tuple, tcp_tw_ent(tw));
	eng->ntw++;
	eng->state_count[DPT_TIME_WAIT]++;
	tcp_timer_arm(&eng->wheel, &tw->timer, expires);
	if (c->flags & TF_ACK_NOW)
		tw_send_ack(eng, tw);
	tcp_conn_retire(eng, c);
}

void tcp_tw_expire(struct tcp_engine *eng, struct tcp_tw *tw)
{
	eng->stats.tw_expired++;
	tw_release(eng, tw);
}

/* Batch end: owed ACKs go out, released records go back to the pool. */
void tcp_tw_flush(struct tcp_engine *eng)
{
	struct tcp_tw *tw;

	while ((tw = eng->tw_batch) != NULL) {
		eng->tw_batch = tw->next;
		tw->flags &= ~TW_QUEUED;
		if (tw->flags & TW_DEAD) {
			rte_mempool_put(eng->tw_pool, tw);
			continue;
		}
		if (tw->flags & TW_ACK_NOW) {
			tw->flags &= ~TW_ACK_NOW;
			tcp_send_ack_tw(eng, tw);
		}
	}
}

/* RFC 6191 §2: may a SYN reaching a connection in TIME_WAIT open a new
 * incarnation? When the old one used timestamps and the new one would
 * (the SYN has TSopt and we do timestamps): if its TSval is newer than
 * TS.Recent, or equal with a higher sequence number. Otherwise: if its
 * sequence number is higher than the old RCV.NXT. */
bool tcp_tw_syn_is_new(const struct tcp_engine *eng, bool ts_ok,
		       uint32_t ts_recent, uint32_t rcv_nxt,
		       const struct tcp_seg *seg)
{
	if (ts_ok && seg->opts.has_ts && eng->cfg.timestamps) {
		if (seq_gt(seg->opts.ts_val, ts_recent))
			return true;
		return seg->opts.ts_val == ts_recent &&
		       seq_gt(seg->seq, rcv_nxt);
	}
	return seq_gt(seg->seq, rcv_nxt);
}

/* RFC 6191: an unambiguously new SYN to a listening port starts a new
 * incarnation; RFC 1122 §4.2.2.13: its ISS must lie beyond the old
 * sequence numbers. */
static bool tw_reuse(struct tcp_engine *eng, struct tcp_tw *tw,
		     struct tcp_seg *seg)
{
	struct tcp_listener *l;
	uint32_t old_max;

	if ((seg->flags & (TH_SYN | TH_ACK | TH_RST)) != TH_SYN)
		return false;
	if (!tcp_tw_syn_is_new(eng, tw->flags & TW_TS, tw->ts_recent,
			       tw->rcv_nxt, seg)) {
		if ((tw->flags & TW_TS) && seg->opts.has_ts)
			eng->stats.rx_tw_syn_ts_old++;
		return false;
	}
	l = tcp_listener_find(eng, seg->ip->dst_addr, seg->th->dst_port);
	if (l == NULL)
		return false;
	eng->stats.rx_syn_in_tw++;
	old_max = tw->snd_nxt;
	tw_release(eng, tw);
	tcp_listen_syn(eng, l, seg, &old_max);
	return true;
}

/* RFC 5961 §7 rate limit, shared with the engine's connections. */
static void tw_challenge_ack(struct tcp_engine *eng, struct tcp_tw *tw)
{
	if (tcp_challenge_ack_allowed(eng))
		tw_send_ack(eng, tw);
}

/* RFC 9293 §3.10.7.4 for TIME-WAIT, step by step as tcp_segment_arrives()
 * takes a TCB in TIME_WAIT: first the sequence number (unacceptable: ACK,
 * a FIN restarts 2*MSL), second RST (RFC 5961 §3.2 challenge, or ignored:
 * RFC 1337), fourth SYN (RFC 5961 §4 challenge), fifth ACK (too new or
 * too old: ACK), seventh text (ignored), eighth FIN (a retransmitted FIN:
 * ACK and restart 2*MSL). */
void tcp_tw_input(struct tcp_engine *eng, struct tcp_tw *tw,
		  struct tcp_seg *seg)
{
	enum tcp_seq_verdict v;
	uint32_t skip;

	if (tw_reuse(eng, tw, seg))
		return;
	/* RFC 7323 §5.3 R1 (PAWS), as for a TCB (2*MSL is far below the
	 * 24 days of §5.5); a segment without TSopt is not dropped here. */
	if ((tw->flags & TW_TS) && seg->opts.has_ts &&
	    !(seg->flags & TH_RST) && seq_lt(seg->opts.ts_val, tw->ts_recent)) {
		eng->stats.rx_paws_drop++;
		tw_send_ack(eng, tw);
		return;
	}
	v = tcp_seq_check(eng, seg, tw->rcv_nxt, tw->rcv_wnd, &skip);
	if (v != TCP_SEQ_BAD && (tw->flags & TW_TS) && seg->opts.has_ts &&
	    seq_geq(seg->opts.ts_val, tw->ts_recent) &&
	    seq_leq(seg->seq, tw->rcv_nxt))
		tw->ts_recent = seg->opts.ts_val;      /* RFC 7323 §4.3 */
	if (v == TCP_SEQ_PROBE)
		tw_send_ack(eng, tw);
	if (v == TCP_SEQ_BAD) {
		eng->stats.rx_unacceptable++;
		if (seg->flags & TH_RST) {
			eng->stats.rx_rst_ignored++;
			return;
		}
		if (seg->flags & TH_FIN)
			tw_restart(eng, tw);
		tw_send_ack(eng, tw);
		return;
	}
	if (seg->flags & TH_RST) {
		if (seg->seq != tw->rcv_nxt) {
			eng->stats.rx_rst_challenged++;
			tw_challenge_ack(eng, tw);
		} else {
			eng->stats.rx_rst_ignored++;   /* RFC 1337 */
		}
		return;
	}
	if ((seg->flags | seg->th->tcp_flags) & TH_SYN) {
		eng->stats.rx_syn_challenged++;
		tw_challenge_ack(eng, tw);
		return;
	}
	if (!(seg->flags & TH_ACK))
		return;
	if (seq_gt(seg->ack, tw->snd_nxt)) {
		eng->stats.rx_ack_too_new++;
		tw_send_ack(eng, tw);
		return;
	}
	if (seq_lt(seg->ack, tw->snd_nxt - tw->max_snd_wnd)) {
		eng->stats.rx_old_ack++;
		tw_send_ack(eng, tw);
		return;
	}
	if (seg->th->tcp_flags & TH_URG)
		eng->stats.rx_urg++;
	if (!(seg->flags & TH_FIN))
		return;
	if (seg->seq + seg->len == tw->rcv_nxt) {
		tw_restart(eng, tw);
		tw_send_ack(eng, tw);
	} else if (seq_gt(seg->seq, tw->rcv_nxt) && seg->len == 0) {
		/* A bare FIN beyond a gap: a duplicate ACK at once. */
		tcp_send_ack_tw(eng, tw);
	}
}

void tcp_tw_info(const struct tcp_tw *tw, struct dpt_conn_info *out)
{
	*out = (struct dpt_conn_info){
		.local_ip = rte_be_to_cpu_32(tw->tuple.lip),
		.remote_ip = rte_be_to_cpu_32(tw->tuple.rip),
		.local_port = rte_be_to_cpu_16(tw->tuple.lport),
		.remote_port = rte_be_to_cpu_16(tw->tuple.rport),
		.state = DPT_TIME_WAIT,
		.snd_una = tw->snd_nxt, .snd_nxt = tw->snd_nxt,
		.rcv_nxt = tw->rcv_nxt, .rcv_wnd = tw->rcv_wnd,
		.mss = tw->mss,
	};
}
