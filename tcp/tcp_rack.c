/* tcp_rack.c — RACK (RFC 8985 §6): when data is lost, by the send times
 * of what was delivered; the reordering window and its growth on D-SACK;
 * the reordering timer. Recovery itself (what to resend, cwnd) is
 * tcp_recovery.c's and the scoreboard's (tcp_sack.c), which ask here. */
#include "tcp_internal.h"

static inline uint32_t now32(const struct tcp_engine *eng)
{
	return (uint32_t)eng->now_us;
}

/* a - b for times on the 32-bit microsecond clock (wraps in 71 min; a
 * flight is never that old). */
static inline int32_t tdiff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

void tcp_rack_init(struct tcp_conn *c)
{
	memset(&c->rack, 0, sizeof(c->rack));
	c->rack.reo_mult = 1;
}

static struct tcp_rack_mark *mark_at(struct tcp_rack *r, unsigned int i)
{
	return &r->o[(r->o_head + i) % TCP_RACK_MARKS];
}

static struct tcp_rack_rxt *rxt_at(struct tcp_rack *r, unsigned int i)
{
	return &r->r[(r->r_head + i) % TCP_RACK_RXTS];
}

/* A new mark per srtt/16 of sending at most: a mark's data left within
 * srtt/16 of its bounds, and 32 marks cover two round trips of a window
 * (older data is dated by the next mark, which inherits its t0). */
void tcp_rack_sent(struct tcp_engine *eng, struct tcp_conn *c, uint32_t end)
{
	struct tcp_rack *r = &c->rack;
	uint32_t now = now32(eng);
	struct tcp_rack_mark *m;

	if (r->o_n > 0) {
		m = mark_at(r, r->o_n - 1u);
		if ((uint32_t)(now - r->o_first_t) <= (c->srtt_us >> 4)) {
			m->seq = seq_max(m->seq, end);
			m->t = now;
			return;
		}
	}
	if (r->o_n == TCP_RACK_MARKS) {
		uint32_t t0 = mark_at(r, 0)->t0;

		r->o_head = (uint8_t)((r->o_head + 1) % TCP_RACK_MARKS);
		r->o_n--;
		mark_at(r, 0)->t0 = t0;    /* o_n is TCP_RACK_MARKS - 1 */
	}
	m = mark_at(r, r->o_n);
	m->seq = end;
	m->t = now;
	m->t0 = now;
	r->o_first_t = now;
	r->o_n++;
}

void tcp_rack_resent(struct tcp_engine *eng, struct tcp_conn *c,
		     uint32_t start, uint32_t end)
{
	struct tcp_rack *r = &c->rack;
	uint32_t now = now32(eng);
	struct tcp_rack_rxt *x;

	if (r->r_n > 0) {
		x = rxt_at(r, r->r_n - 1u);
		if (x->end == start && x->t == now) {
			x->end = end;
			return;
		}
	}
	if (r->r_n == TCP_RACK_RXTS) {
		r->r_head = (uint8_t)((r->r_head + 1) % TCP_RACK_RXTS);
		r->r_n--;
	}
	x = rxt_at(r, r->r_n);
	*x = (struct tcp_rack_rxt){ start, end, now };
	r->r_n++;
}

void tcp_rack_forget_resends(struct tcp_conn *c)
{
	c->rack.r_n = 0;
}

bool tcp_rack_resent_at(const struct tcp_conn *c, uint32_t s, uint32_t *t,
			uint32_t *end)
{
	const struct tcp_rack *r = &c->rack;
	unsigned int i;

	for (i = r->r_n; i-- > 0;) {
		const struct tcp_rack_rxt *x =
			&r->r[(r->r_head + i) % TCP_RACK_RXTS];
		if (seq_leq(x->start, s) && seq_lt(s, x->end)) {
			*t = x->t;
			if (end != NULL)
				*end = x->end;
			return true;
		}
	}
	return false;
}

static bool resent_overlaps(const struct tcp_conn *c, uint32_t s, uint32_t e)
{
	const struct tcp_rack *r = &c->rack;
	unsigned int i;

	for (i = 0; i < r->r_n; i++) {
		const struct tcp_rack_rxt *x =
			&r->r[(r->r_head + i) % TCP_RACK_RXTS];
		if (seq_lt(x->start, e) && seq_gt(x->end, s))
			return true;
	}
	return false;
}

/* When byte s was first sent: at or after *t0, at or before *t; false
 * if no mark knows. */
static bool orig_time(const struct tcp_conn *c, uint32_t s, uint32_t *t,
		      uint32_t *t0)
{
	const struct tcp_rack *r = &c->rack;
	unsigned int i;

	for (i = 0; i < r->o_n; i++) {
		const struct tcp_rack_mark *m =
			&r->o[(r->o_head + i) % TCP_RACK_MARKS];
		if (seq_gt(m->seq, s)) {
			*t = m->t;
			*t0 = m->t0;
			return true;
		}
	}
	return false;
}

/* (t1, e1) was sent after (t2, e2): RFC 8985 §6.2 RACK_sent_after(). */
static bool sent_after(uint32_t t1, uint32_t e1, uint32_t t2, uint32_t e2)
{
	return tdiff(t1, t2) > 0 || (t1 == t2 && seq_gt(e1, e2));
}

/* t: the send's latest time (its order against other sends), t0: its
 * earliest (RACK.rtt from it is never shorter than the real one). */
static void rack_sample(struct tcp_engine *eng, struct tcp_conn *c,
			uint32_t t, uint32_t t0, uint32_t e)
{
	struct tcp_rack *r = &c->rack;
	uint32_t rtt;

	if (r->valid && !sent_after(t, e, r->xmit_t, r->end_seq))
		return;
	r->valid = true;
	r->xmit_t = t;
	r->end_seq = e;
	rtt = (uint32_t)RTE_MAX(tdiff(now32(eng), t0), 0);
	r->rtt_us = rtt;
	if (r->min_rtt_us == 0 || (rtt > 0 && rtt < r->min_rtt_us))
		r->min_rtt_us = rtt;
}

void tcp_rack_delivered(struct tcp_engine *eng, struct tcp_conn *c,
			uint32_t s, uint32_t e, uint32_t fack_before,
			uint32_t ts_ecr)
{
	struct tcp_rack *r = &c->rack;
	uint32_t t, t0, last = e - 1;
	bool resent = resent_overlaps(c, s, e);

	(void)ts_ecr;
	/* §6.2 step 2 for the last segment delivered: its newest send. A
	 * resend acknowledged sooner than min RTT after it left was the
	 * original arriving: no sample (the RFC's other test, TSecr, is
	 * too coarse here: our TSval ticks in ms). */
	if (tcp_rack_resent_at(c, last, &t, NULL)) {
		if (r->min_rtt_us == 0 ||
		    (uint32_t)RTE_MAX(tdiff(now32(eng), t), 0) >= r->min_rtt_us)
			rack_sample(eng, c, t, t, e);
	} else if (orig_time(c, last, &t, &t0)) {
		rack_sample(eng, c, t, t0, e);
	}
	/* §6.2 step 3: original data delivered below the highest byte
	 * delivered before arrived out of order. After a timeout
	 * everything below recover was resent: no evidence then. */
	if (!resent && !(c->flags & TF_RTO_RECOVER) && r->fack_ok &&
	    seq_lt(s, fack_before) && !r->reord_seen) {
		r->reord_seen = true;
		eng->stats.rack_reordering++;
	}
	if (!r->fack_ok || seq_gt(e, r->fack)) {
		r->fack = e;
		r->fack_ok = true;
	}
}

void tcp_rack_dsack(struct tcp_conn *c, uint32_t s, uint32_t e)
{
	struct tcp_rack *r = &c->rack;

	(void)e;
	/* §6.2 step 4: one step per round trip with D-SACKs, kept for 16
	 * recoveries. */
	if (!r->dsack_round || seq_geq(c->snd_una, r->dsack_round_end)) {
		r->reo_mult = (uint8_t)RTE_MIN(r->reo_mult + 1, 64);
		r->dsack_round = true;
		r->dsack_round_end = c->snd_max;
	}
	r->reo_persist = 16;
	/* A resend reported twice: the original was only late. That is
	 * reordering (or delay) even when no never-resent segment showed
	 * it (the late original filled the hole, §6.2 step 3 sees a resend). */
	if (seq_lt(s, c->snd_max) && resent_overlaps(c, s, e))
		r->reord_seen = true;
}

void tcp_rack_rtt(struct tcp_conn *c, uint32_t rtt_us)
{
	rtt_us = RTE_MAX(rtt_us, 1u);
	if (c->rack.min_rtt_us == 0 || rtt_us < c->rack.min_rtt_us)
		c->rack.min_rtt_us = rtt_us;
}

void tcp_rack_recovery_done(struct tcp_conn *c)
{
	struct tcp_rack *r = &c->rack;

	if (r->reo_persist > 0 && --r->reo_persist == 0)
		r->reo_mult = 1;
}

/* §6.2 step 4. */
static uint32_t reo_wnd(const struct tcp_conn *c)
{
	const struct tcp_rack *r = &c->rack;
	uint64_t w;

	if (!r->reord_seen &&
	    ((c->flags & TF_RECOVERY) ||
	     c->sb.sacked >= TCP_DUPTHRESH * c->snd_mss))
		return 0;
	w = (uint64_t)(r->min_rtt_us / 4) * r->reo_mult;
	return (uint32_t)RTE_MIN(w, (uint64_t)c->srtt_us);
}

/* A resend is lost only when it left strictly before RACK's segment:
 * sends of one poll-loop pass share a timestamp, and a resend dated like
 * the original it outran was not sent before it (RFC 8985's tie-break by
 * sequence number assumes finer clocks). */
bool tcp_rack_lost_at(const struct tcp_conn *c, uint32_t t, uint32_t e)
{
	const struct tcp_rack *r = &c->rack;

	(void)e;
	return r->cut_ok && tdiff(t, r->cut_t) <= 0 &&
	       tdiff(t, r->xmit_t) < 0;
}

/* The first un-SACKed byte in [s, e), if any. */
static bool hole_in(const struct tcp_conn *c, uint32_t s, uint32_t e,
		    uint32_t *at)
{
	unsigned int i;

	s = seq_max(s, c->snd_una);
	for (i = 0; i < c->sb.n && seq_lt(s, e); i++) {
		if (seq_leq(c->sb.r[i].end, s))
			continue;
		if (seq_lt(s, c->sb.r[i].start))
			break;
		s = c->sb.r[i].end;
	}
	if (!seq_lt(s, e))
		return false;
	*at = s;
	return true;
}

static void rack_timer_set(struct tcp_engine *eng, struct tcp_conn *c,
			   bool arm, uint32_t deadline)
{
	int32_t in;

	if (!arm) {
		if (c->flags & TF_RACK_TIMER) {
			c->flags &= ~TF_RACK_TIMER;
			tcp_timer_stop(&eng->wheel, &c->t_tlp);
		}
		return;
	}
	/* The TLP timer's slot: a probe is armed only with no SACKed data
	 * (RFC 8985 §7.2), the reordering timer only with some. */
	in = RTE_MAX(tdiff(deadline, now32(eng)), 0);
	c->flags |= TF_RACK_TIMER;
	tcp_timer_arm(&eng->wheel, &c->t_tlp,
		      tcp_us_to_tick(eng, eng->now_us + (uint32_t)in) + 1);
}

bool tcp_rack_detect(struct tcp_engine *eng, struct tcp_conn *c)
{
	struct tcp_rack *r = &c->rack;
	uint32_t reo, prev, lost_end, deadline = 0, at, t, e, s, i;
	bool lost = false, have_deadline = false;

	r->cut_ok = false;
	r->lost_end = c->snd_una;
	/* drop marks of acknowledged data */
	while (r->o_n > 0 && seq_leq(mark_at(r, 0)->seq, c->snd_una)) {
		r->o_head = (uint8_t)((r->o_head + 1) % TCP_RACK_MARKS);
		r->o_n--;
	}
	if (!r->valid || !c->sack_ok || (c->flags & TF_RTO_RECOVER) ||
	    c->snd_una == c->snd_max) {
		rack_timer_set(eng, c, false, 0);
		return false;
	}
	reo = reo_wnd(c);
	/* §6.2 step 5: a send at t is lost once t + RACK.rtt + reo_wnd has
	 * passed, if it left before the send RACK.xmit_ts was delivered. */
	r->cut_t = now32(eng) - r->rtt_us - reo;
	r->cut_ok = true;

	/* Original sends: the marks are in time order, so what is lost is
	 * a prefix of the sequence space. */
	prev = c->snd_una;
	lost_end = c->snd_una;
	for (i = 0; i < r->o_n; i++) {
		struct tcp_rack_mark *m = mark_at(r, i);
		uint32_t upto = m->seq, mt = m->t;
		bool last = false;

		/* RACK's segment ends in this mark, whose later sends moved
		 * its time past the one RACK took from it: a mark's original
		 * sends leave in sequence order, so its data below
		 * RACK.end_seq left by RACK.xmit_ts (the sequence tie-break
		 * of §6.2's RACK_sent_after). Without this the hole below a
		 * SACKed segment of the same mark was neither lost nor timed,
		 * and only the RTO ended it. */
		if (seq_lt(prev, r->end_seq) && seq_leq(r->end_seq, m->seq) &&
		    tdiff(mt, r->xmit_t) >= 0) {
			mt = r->xmit_t;
			upto = r->end_seq;
			last = true;
		} else if (tdiff(mt, r->xmit_t) >= 0) {
			/* this mark's data and all later left after RACK's
			 * segment */
			break;
		}
		if (tdiff(mt, r->cut_t) <= 0) {
			lost_end = seq_max(lost_end, upto);
		} else if (hole_in(c, prev, upto, &at)) {
			deadline = mt + r->rtt_us + reo;
			have_deadline = true;
			break;
		}
		prev = m->seq;
		if (last)
			break;
	}
	r->lost_end = lost_end;
	if (seq_gt(lost_end, c->sb.high_rxt) &&
	    hole_in(c, c->sb.high_rxt, lost_end, &at))
		lost = true;

	/* Resends: each still covering a hole is lost on its own time. */
	for (i = 0; i < r->r_n; i++) {
		struct tcp_rack_rxt *x = rxt_at(r, i);

		s = seq_max(x->start, c->snd_una);
		e = seq_min(x->end, c->sb.high_rxt);
		if (!seq_lt(s, e) || !hole_in(c, s, e, &at))
			continue;
		/* only the newest resend of that byte counts */
		if (!tcp_rack_resent_at(c, at, &t, NULL) || t != x->t)
			continue;
		if (tcp_rack_lost_at(c, x->t, x->end)) {
			lost = true;
		} else if (tdiff(x->t, r->xmit_t) < 0) {
			uint32_t d = x->t + r->rtt_us + reo;
			if (!have_deadline || tdiff(d, deadline) < 0)
				deadline = d;
			have_deadline = true;
		}
	}
	rack_timer_set(eng, c, have_deadline, deadline);
	return lost;
}
