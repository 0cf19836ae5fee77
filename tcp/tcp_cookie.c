/* tcp_cookie.c — SYN cookies (RFC 4987 §3.6): when a listener's SYN queue
 * is full (syncookies = 1) or always (2), a SYN is answered with a SYN-ACK
 * whose ISS encodes what the connection needs, and no state is kept; the
 * peer's ACK of it (ack - 1 = the cookie) creates the connection.
 *
 * The ISS (32 bits):
 *   bits 31..3  29 bits of SipHash-2-4 (the ISN key of tcp_isn.c) over the
 *               4-tuple, the peer's ISN and the time counter
 *   bit  2      the time counter's low bit, so that the check computes one
 *               MAC: the counter is now or the one before
 *   bits 1..0   index into cookie_mss[], the largest entry not above the
 *               peer's MSS nor ours
 * The time counter is now_us >> 26 (67.1 s): a cookie is valid for 67 to
 * 134 s. The peer's ACK carries SEG.SEQ = its ISN + 1, so the MAC binds
 * both directions' sequence numbers.
 *
 * Options the cookie cannot hold: window scaling and SACK-permitted
 * (RFC 7323, RFC 2018) travel in the low bits of the SYN-ACK's timestamp
 * value as Linux does, echoed back in the ACK's TSecr:
 *   bits 3..0  the peer's window shift, 15 = no window scaling
 *   bit  4     SACK-permitted
 * (the TSval is our clock rounded down to 32 ms with these bits in; never
 * ahead of it). Our own shift follows from rcv_buf_bytes, so it needs no
 * bits. The ISS layout does not change. Without timestamps such a
 * connection has neither window scaling nor SACK (as Linux). */
#include "tcp_internal.h"

#define COOKIE_PERIOD_SHIFT 26            /* microseconds per counter tick */
#define COOKIE_MAC_MASK     0xfffffff8u
#define COOKIE_DOMAIN       0x636f6f6b00000000ull  /* "cook": not an ISN */
#define COOKIE_TS_BITS      5                      /* TSval bits for options */
#define COOKIE_TS_NO_WS     0xfu
#define COOKIE_TS_SACK      0x10u

static const uint16_t cookie_mss[4] = { 536, 1300, 1440, 1460 };

static uint32_t cookie_counter(const struct tcp_engine *eng)
{
	return (uint32_t)(eng->now_us >> COOKIE_PERIOD_SHIFT);
}

static uint32_t cookie_mac(const struct tcp_engine *eng,
			   const struct tcp_tuple *t, uint32_t irs,
			   uint32_t counter)
{
	uint64_t m[3] = {
		((uint64_t)t->lip << 32) | t->rip,
		((uint64_t)t->lport << 48) | ((uint64_t)t->rport << 32) | irs,
		COOKIE_DOMAIN | counter,
	};

	return (uint32_t)tcp_siphash(eng->isn_key, m, 3) & COOKIE_MAC_MASK;
}

static uint32_t cookie_make(const struct tcp_engine *eng,
			    const struct tcp_tuple *t, uint32_t irs,
			    uint32_t peer_mss)
{
	uint32_t counter = cookie_counter(eng);
	uint32_t mss = RTE_MIN(peer_mss, (uint32_t)eng->our_mss);
	uint32_t idx = RTE_DIM(cookie_mss) - 1;

	while (idx > 0 && cookie_mss[idx] > mss)
		idx--;
	return cookie_mac(eng, t, irs, counter) | (counter & 1) << 2 | idx;
}

/* True when cookie was made for (t, irs) now or one counter ago; *mss is
 * the MSS it carries. */
static bool cookie_check(const struct tcp_engine *eng,
			 const struct tcp_tuple *t, uint32_t irs,
			 uint32_t cookie, uint32_t *mss)
{
	uint32_t counter = cookie_counter(eng);

	if (((cookie >> 2) & 1) != (counter & 1))
		counter--;
	if (cookie_mac(eng, t, irs, counter) != (cookie & COOKIE_MAC_MASK))
		return false;
	*mss = cookie_mss[cookie & 3];
	return true;
}

bool tcp_cookie_wanted(const struct tcp_engine *eng,
		       const struct tcp_listener *l)
{
	return eng->cfg.syncookies >= 2 ||
	       (eng->cfg.syncookies == 1 &&
		l->syn_count >= eng->cfg.syn_backlog);
}

/* Only a listener that sent cookies lately checks ACKs for one (as
 * Linux): otherwise a stray ACK is reset, as without cookies, and blind
 * guessing has nothing to aim at. */
static bool cookie_recent(const struct tcp_engine *eng,
			  const struct tcp_listener *l)
{
	if (eng->cfg.syncookies >= 2)
		return true;
	return eng->cfg.syncookies == 1 && l->cookie_epoch != 0 &&
	       cookie_counter(eng) + 1 - l->cookie_epoch <= 1;
}

/* The SYN-ACK's options: MSS, and with timestamps also what was
 * negotiated, the choices kept in the TSval (see the top of the file). */
static void cookie_options(const struct tcp_engine *eng,
			   const struct tcp_syn_req *r, struct tcp_optspec *o)
{
	uint32_t now, bits = COOKIE_TS_NO_WS, ts;

	*o = (struct tcp_optspec){ .mss = eng->our_mss };
	if (!r->opts.has_ts || !eng->cfg.timestamps)
		return;
	if (r->opts.has_ws && eng->cfg.window_scaling) {
		o->has_ws = true;
		o->ws = tcp_wscale_for(eng->cfg.rcv_buf_bytes);
		bits = RTE_MIN(r->opts.ws, (uint8_t)TCP_MAX_WSCALE);
	}
	if (r->opts.sack_ok && eng->cfg.sack) {
		o->sack_ok = true;
		bits |= COOKIE_TS_SACK;
	}
	now = tcp_ts_now(eng, tcp_ts_offset(eng, r->tuple.lip, r->tuple.rip));
	ts = (now & ~((1u << COOKIE_TS_BITS) - 1)) | bits;
	if (seq_gt(ts, now))
		ts -= 1u << COOKIE_TS_BITS;
	o->has_ts = true;
	o->ts_val = ts;
	o->ts_ecr = r->opts.ts_val;
}

void tcp_cookie_send(struct tcp_engine *eng, struct tcp_listener *l,
		     const struct tcp_syn_req *r)
{
	uint32_t mss = r->opts.mss ? r->opts.mss : TCP_DEFAULT_MSS;
	uint32_t iss = cookie_make(eng, &r->tuple, r->irs, mss);
	struct tcp_optspec o;

	/* A cookie cannot honour a TIME_WAIT reuse's ISS floor (r->has_floor);
	 * neither does Linux's. */
	l->cookie_epoch = cookie_counter(eng) + 1;
	eng->stats.syncookies_sent++;
	cookie_options(eng, r, &o);
	tcp_send_synack_tuple(eng, &r->tuple, iss, r->irs + 1,
			      eng->cfg.rcv_buf_bytes, &o);
}

/* The options of the SYN the cookie answered, as far as they matter: from
 * the ACK's TSecr when it has timestamps, else the MSS alone. */
static void cookie_syn_opts(const struct tcp_engine *eng,
			    const struct tcp_seg *seg, uint32_t mss,
			    struct tcp_opts *o)
{
	uint32_t bits = seg->opts.ts_ecr & ((1u << COOKIE_TS_BITS) - 1);

	*o = (struct tcp_opts){ .mss = (uint16_t)mss };
	if (!seg->opts.has_ts || seg->opts.ts_ecr == 0 || !eng->cfg.timestamps)
		return;
	o->has_ts = true;
	o->ts_val = seg->opts.ts_val;
	if ((bits & COOKIE_TS_NO_WS) != COOKIE_TS_NO_WS) {
		o->has_ws = true;
		o->ws = (uint8_t)(bits & COOKIE_TS_NO_WS);
	}
	o->sack_ok = (bits & COOKIE_TS_SACK) != 0;
}

/* seg: an ACK (no SYN, no RST) to listener l with no connection. True
 * when it answered one of our cookies: the connection is made (from
 * SYN_RECEIVED through the usual ACK processing, so data and FIN in the
 * segment count) or, on a full accept queue or max_conns, the segment is
 * dropped and counted. False: no cookie (the caller resets). */
bool tcp_cookie_accept(struct tcp_engine *eng, struct tcp_listener *l,
		       struct tcp_seg *seg)
{
	struct tcp_tuple t = {
		.lip = seg->ip->dst_addr, .rip = seg->ip->src_addr,
		.lport = seg->th->dst_port, .rport = seg->th->src_port,
	};
	uint32_t irs = seg->seq - 1, iss = seg->ack - 1, mss;
	struct tcp_seg syn;
	struct tcp_conn *c;

	if (!cookie_recent(eng, l))
		return false;
	if (!cookie_check(eng, &t, irs, iss, &mss)) {
		eng->stats.syncookies_failed++;
		return false;
	}
	eng->stats.syncookies_ok++;
	if (l->accept_count >= l->backlog) {
		eng->stats.accept_overflow++;
		return true;
	}
	c = tcp_conn_alloc(eng, &t);
	if (c == NULL)
		return true;            /* counted conn_limit */
	c->flags |= TF_PASSIVE;
	c->listener = l;
	TAILQ_INSERT_TAIL(&l->syn_q, c, lnode);
	l->syn_count++;
	syn = (struct tcp_seg){ .seq = irs, .wnd = seg->wnd };
	cookie_syn_opts(eng, seg, mss, &syn.opts);
	if (syn.opts.has_ws || syn.opts.sack_ok)
		eng->stats.syncookies_opts++;
	tcp_conn_init_from_syn(eng, c, &syn);
	tcp_conn_set_iss(c, iss);
	c->snd_nxt = c->snd_max = iss + 1;     /* the SYN-ACK was sent */
	tcp_set_state(eng, c, DPT_SYN_RECEIVED);
	tcp_segment_arrives(eng, c, seg);
	return true;
}
