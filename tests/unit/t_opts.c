/* t_opts.c — TCP options (issue 6): window scaling and timestamps
 * (RFC 7323: negotiation, scaled windows, TS.Recent, PAWS, RTT from TSecr,
 * TIME_WAIT reuse by timestamp, RFC 6191), SACK on the receiver side
 * (RFC 2018, D-SACK RFC 2883), and SYN cookies that keep WS/SACK. */
#include "t_common.h"

#include <rte_common.h>

#include "tcp_seq.h"

static struct raw_opts syn_opts(int ws, bool sack_ok, bool ts, uint32_t tsval)
{
	struct raw_opts o = { .mss = 1460, .ws = ws, .sack_ok = sack_ok, .ts = ts,
			      .tsval = tsval };
	return o;
}

/* A raw peer connected to engine A's listener, with SYN options o; the
 * peer's next TSval (when o.ts) is in *tsval. */
static struct sim_conn *raw_est_o(struct sim **sp, struct raw_peer *rp,
				  const struct sim_opts *so, const struct raw_opts *o,
				  struct sim_seg *synack)
{
	int r;
	struct sim_opts d;
	if (so == NULL) {
		sim_opts_default(&d);
		d.with_b = false;
		so = &d;
	}
	struct sim *s = mk_sim_opts(so);
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	l->auto_read = false;
	raw_init(rp, s, SIM_A, 40000, SRV_PORT);
	*synack = raw_handshake_o(rp, 1000, o);
	CHECK_EQ(1, l->naccepted);
	*sp = s;
	return l->accepted[0];
}

/* raw_est_o() with default options and a SYN of MSS 1460 and TSopt (TSval
 * tsval), no window scaling, no SACK: the timestamp tests' connection. */
static struct sim_conn *raw_est_ts(struct sim **sp, struct raw_peer *rp, uint32_t tsval,
				   struct sim_seg *synack)
{
	struct raw_opts o = syn_opts(-1, false, true, tsval);
	return raw_est_o(sp, rp, NULL, &o, synack);
}

/* Data from the raw peer with TSopt (tsval, echoing the engine's last). */
static void raw_data_ts(struct raw_peer *rp, uint32_t seq, const void *d, uint16_t len,
			uint32_t tsval, uint32_t tsecr)
{
	struct raw_opts o = RAW_OPTS_NONE;
	o.ts = true;
	o.tsval = tsval;
	o.tsecr = tsecr;
	raw_send_o(rp, F_ACK, seq, rp->rcv_nxt, d, len, &o);
}

/* RFC 7323 §2.2: both SYNs carry WS (shift from rcv_buf_bytes: 262144 -> 3);
 * after the handshake each side scales the other's window field, the SYNs'
 * own windows are not scaled. */
void test_wscale_negotiated_both_directions(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.cfg[SIM_A].rcv_buf_bytes = 262144;
	o.cfg[SIM_B].rcv_buf_bytes = 1u << 20;
	struct sim *s = mk_sim_opts(&o);
	struct sim_conn *b, *a;
	unsigned int pos = sim_mark(s);
	pair_connect(s, &b, &a);
	struct sim_seg syn = NEXT_SEG(s, &pos, SIM_B);
	CHECK_FLAGS(&syn, F_SYN);
	CHECK_EQ(5, syn.wscale);                 /* 2^20 >> 5 = 32768 */
	CHECK_EQ(65535, syn.win);                /* unscaled, capped */
	struct sim_seg synack = NEXT_SEG(s, &pos, SIM_A);
	CHECK_FLAGS(&synack, F_SYN | F_ACK);
	CHECK_EQ(3, synack.wscale);
	CHECK_EQ(65535, synack.win);
	struct sim_seg ack = NEXT_SEG(s, &pos, SIM_B);
	CHECK_FLAGS(&ack, F_ACK);
	CHECK_EQ(-1, ack.wscale);
	CHECK_EQ((1u << 20) >> 5, ack.win);      /* 32768 << 5 = 1 MiB */
	struct dpt_conn_info ia, ib;
	CHECK(sim_conn_info(a, &ia));
	CHECK(sim_conn_info(b, &ib));
	CHECK_EQ(1u << 20, ia.snd_wnd);
	/* A has only answered with the SYN-ACK: B knows its unscaled 65535 */
	CHECK_EQ(65535, ib.snd_wnd);
	/* A's first segment after the SYN-ACK is scaled by 3 */
	pos = sim_mark(s);
	sim_conn_send(a, "x", 1, 0);
	SIM_RUN_UNTIL(s, b->rx_len == 1, 100);
	struct sim_seg d = NEXT_SEG(s, &pos, SIM_A);
	CHECK_EQ(1, d.len);
	CHECK_EQ(262144 >> 3, d.win);
	CHECK(sim_conn_info(b, &ib));
	CHECK_EQ(262144, ib.snd_wnd);
	sim_free(s);
}

/* RFC 7323 §2.2: a SYN-ACK carries WS (and SACK-permitted, TSopt) only if
 * the SYN did; without WS neither side scales: a 262144-byte buffer is
 * offered as 65535. */
void test_options_not_sent_when_peer_syn_lacks_them(void)
{
	struct sim_opts so;
	sim_opts_default(&so);
	so.with_b = false;
	so.cfg[SIM_A].rcv_buf_bytes = 262144;
	struct raw_peer rp;
	struct sim_seg synack;
	struct raw_opts o = syn_opts(-1, false, false, 0);
	struct sim *s;
	struct sim_conn *a = raw_est_o(&s, &rp, &so, &o, &synack);
	CHECK_EQ(1460, synack.mss);
	CHECK_EQ(-1, synack.wscale);
	CHECK(!synack.sack_ok);
	CHECK(!synack.has_ts);
	CHECK_EQ(65535, synack.win);
	/* data: the ACK carries no options, its window is not scaled */
	struct sim_pkt p;
	raw_data(&rp, "hello", 5);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, 1006);
	CHECK_EQ(20, p.seg.doff);
	CHECK_EQ(65535, p.seg.win);
	/* a peer window field of 1000 means 1000 bytes */
	rp.win = 1000;
	raw_ack(&rp);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(1000, in.snd_wnd);
	CHECK_EQ(1460, in.mss);                  /* no TSopt: full MSS */
	sim_free(s);
}

/* Window scaling off on our side: our SYN has no WS, the peer's SYN-ACK
 * WS is ignored, and neither window is scaled (RFC 7323 §2.2). */
void test_wscale_off_locally_not_negotiated(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.cfg[SIM_B].window_scaling = 0;
	o.cfg[SIM_A].rcv_buf_bytes = 262144;
	o.cfg[SIM_B].rcv_buf_bytes = 262144;
	struct sim *s = mk_sim_opts(&o);
	struct sim_conn *b, *a;
	unsigned int pos = sim_mark(s);
	pair_connect(s, &b, &a);
	struct sim_seg syn = NEXT_SEG(s, &pos, SIM_B);
	CHECK_EQ(-1, syn.wscale);
	CHECK(syn.sack_ok && syn.has_ts);        /* the others still offered */
	struct sim_seg synack = NEXT_SEG(s, &pos, SIM_A);
	CHECK_EQ(-1, synack.wscale);
	CHECK(synack.sack_ok && synack.has_ts);
	struct sim_seg ack = NEXT_SEG(s, &pos, SIM_B);
	CHECK_EQ(65535, ack.win);
	pos = sim_mark(s);
	sim_conn_send(a, "x", 1, 0);
	SIM_RUN_UNTIL(s, b->rx_len == 1, 100);
	struct sim_seg d = NEXT_SEG(s, &pos, SIM_A);
	CHECK_EQ(65535, d.win);
	struct dpt_conn_info ia, ib;
	CHECK(sim_conn_info(a, &ia));
	CHECK(sim_conn_info(b, &ib));
	CHECK_EQ(65535, ia.snd_wnd);
	CHECK_EQ(65535, ib.snd_wnd);
	sim_free(s);
}

/* Active open: the peer's SYN-ACK with WS 2 makes a window field of 730
 * worth 2920 bytes (RFC 7323 §2.3), and the engine sends exactly that. */
void test_wscale_peer_window_scaled_and_used(void)
{
	struct sim_opts so;
	sim_opts_default(&so);
	so.with_b = false;
	struct sim *s = mk_sim_opts(&so);
	struct sim_pkt p;
	struct raw_peer rp;
	int r;
	raw_init(&rp, s, SIM_A, 5555, 0);
	struct sim_conn *sc = sim_connect(s, SIM_A, rp.ip, 5555, 0, &r);
	CHECK_EQ(0, r);
	sim_run(s);
	CHECK(sim_raw_pop(s, &p));
	CHECK_FLAGS(&p.seg, F_SYN);
	CHECK_EQ(0, p.seg.wscale);               /* 65535 fits: shift 0 */
	rp.eng_port = p.seg.sport;
	rp.irs = p.seg.seq;
	rp.rcv_nxt = p.seg.seq + 1;
	rp.snd_nxt = 5001;
	rp.win = 730;
	struct raw_opts o = syn_opts(2, false, false, 0);
	raw_send_o(&rp, F_SYN | F_ACK, 5000, rp.rcv_nxt, NULL, 0, &o);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, 5001);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(sc, &in));
	CHECK_EQ(730, in.snd_wnd);               /* the SYN-ACK's: unscaled */
	raw_ack(&rp);
	CHECK(sim_conn_info(sc, &in));
	CHECK_EQ(2920, in.snd_wnd);
	static uint8_t d[10000];
	CHECK_EQ((ssize_t)sizeof(d), dpt_send(s->eng[SIM_A], sc->c, d, sizeof(d)));
	sim_run(s);
	uint32_t sent = 0;
	while (raw_pop(&rp, &p))
		sent += p.seg.len;
	CHECK_EQ(2920, sent);                    /* two full segments */
	sim_free(s);
}

/* RFC 7323 §2.4: with scaling the advertised right edge never moves left:
 * a window that would round below the promised edge is rounded up. */
void test_scaled_window_right_edge_never_shrinks(void)
{
	struct sim_opts so;
	sim_opts_default(&so);
	so.with_b = false;
	so.cfg[SIM_A].rcv_buf_bytes = 100000;    /* shift 1 */
	struct raw_peer rp;
	struct sim_seg synack;
	struct raw_opts o = syn_opts(0, false, false, 0);
	struct sim *s;
	raw_est_o(&s, &rp, &so, &o, &synack);
	CHECK_EQ(1, synack.wscale);
	static uint8_t d[1001];
	struct sim_pkt p;
	uint32_t edge = 0;
	for (int i = 0; i < 60; i++) {
		raw_data(&rp, d, (uint16_t)(i % 2 ? 1001 : 999));
		RAW_EXPECT(&rp, &p);
		uint32_t e = p.seg.ack + ((uint32_t)p.seg.win << 1);
		if (i > 0)
			CHECK_MSG(seq_geq(e, edge), "right edge moved left: %u -> %u", edge, e);
		edge = e;
	}
	sim_free(s);
}

/* A 4 MiB receive buffer (shift 7) on a 20 ms round trip: the window
 * offered is 4 MiB and the data in flight grows past the 64 KiB a 16-bit
 * window allows (RFC 7323 §1.1, the long fat pipe). */
void test_long_fat_pipe_4MiB_window(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.latency_us = 10000;
	o.cfg[SIM_B].rcv_buf_bytes = 4u << 20;
	o.cfg[SIM_A].snd_buf_bytes = 1u << 20;
	struct sim *s = mk_sim_opts(&o);
	struct sim_conn *b, *a;
	unsigned int pos = sim_mark(s);
	pair_connect(s, &b, &a);
	struct sim_seg syn = NEXT_SEG(s, &pos, SIM_B);
	CHECK_EQ(7, syn.wscale);
	b->auto_read = true;
	size_t len = 4u << 20;
	uint8_t *d = malloc(len);
	CHECK(d != NULL);
	sim_fill_pattern(d, len, 77);
	unsigned int mark = sim_mark(s);
	sim_conn_send(a, d, len, 0);
	SIM_RUN_UNTIL(s, b->rx_len == len, 20000);
	CHECK_EQ(len, b->rx_len);
	CHECK_PATTERN(b->rx, b->rx_len, 77);
	/* the most A had sent beyond what B had acknowledged */
	uint32_t hi = 0, acked = 0, max_flight = 0;
	bool have_hi = false, have_ack = false;
	for (unsigned int i = mark; i < sim_mark(s); i++) {
		const struct sim_seg *g = sim_trace(s, i);
		if (g->from == SIM_A && g->len > 0) {
			uint32_t end = g->seq + g->len;
			if (!have_hi || seq_gt(end, hi))
				hi = end;
			have_hi = true;
		} else if (g->from == SIM_B && (g->flags & F_ACK)) {
			if (!have_ack || seq_gt(g->ack, acked))
				acked = g->ack;
			have_ack = true;
		}
		if (have_hi && have_ack && seq_gt(hi, acked))
			max_flight = RTE_MAX(max_flight, hi - acked);
	}
	check_note("max bytes in flight %u", max_flight);
	/* The receiver offers 4 MiB (field 32768 << 7); how far past 64 KiB
	 * the flight goes is up to the sender's congestion control. */
	CHECK_CMP(max_flight, >, 65536);
	free(d);
	sim_free(s);
}

/* RFC 7323 §3.2/§4.3: every segment carries TSopt; TSecr echoes TS.Recent,
 * which takes a segment's TSval only when the segment covers Last.ACK.sent:
 * an out-of-order segment's newer TSval is not echoed, the one filling the
 * gap is. */
void test_ts_echoed_and_updated_per_4_3(void)
{
	struct raw_peer rp;
	struct sim_seg synack;
	struct sim *s;
	raw_est_ts(&s, &rp, 100, &synack);
	CHECK(synack.has_ts);
	CHECK_EQ(100, synack.tsecr);
	uint32_t ets = synack.tsval;
	struct sim_pkt p;
	static uint8_t d[300];
	/* in order: echoed */
	raw_data_ts(&rp, rp.snd_nxt, d, 100, 200, ets);
	rp.snd_nxt += 100;
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, rp.snd_nxt);
	CHECK(p.seg.has_ts);
	CHECK_EQ(200, p.seg.tsecr);
	CHECK_CMP(seq_geq(p.seg.tsval, ets), ==, 1);
	/* beyond a gap, newer TSval: the duplicate ACK still echoes 200 */
	raw_data_ts(&rp, rp.snd_nxt + 100, d, 100, 400, ets);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, rp.snd_nxt);
	CHECK_EQ(200, p.seg.tsecr);
	/* the gap filled (TSval 300 covers Last.ACK.sent): 300 */
	raw_data_ts(&rp, rp.snd_nxt, d, 100, 300, ets);
	rp.snd_nxt += 200;
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, rp.snd_nxt);
	CHECK_EQ(300, p.seg.tsecr);
	/* a segment without TSopt on a timestamped connection: dropped */
	raw_data(&rp, d, 10);
	rp.snd_nxt -= 10;
	RAW_EXPECT_NONE(&rp);
	CHECK_STAT(s, SIM_A, rx_ts_missing, 1);
	sim_free(s);
}

/* RFC 7323 §4.3 as Linux and FreeBSD apply it: a retransmission of the
 * segment our last ACK acknowledged (that ACK was lost) refreshes
 * TS.Recent, so the ACK it draws echoes the retransmission, not the first
 * transmission; an older duplicate, below Last.ACK.sent, does not. */
void test_ts_recent_from_retransmission_of_last_acked(void)
{
	struct raw_peer rp;
	struct sim_seg synack;
	struct sim *s;
	raw_est_ts(&s, &rp, 100, &synack);
	uint32_t ets = synack.tsval;
	struct sim_pkt p;
	static uint8_t d[100];
	uint32_t seq1 = rp.snd_nxt;
	raw_data_ts(&rp, seq1, d, 100, 200, ets);
	rp.snd_nxt += 100;
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, rp.snd_nxt);
	CHECK_EQ(200, p.seg.tsecr);
	/* the same segment again (its ACK "lost"), TSval 500 */
	raw_data_ts(&rp, seq1, d, 100, 500, ets);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, rp.snd_nxt);
	CHECK_EQ(500, p.seg.tsecr);
	/* the next segment, then the first one once more: below
	 * Last.ACK.sent, so TS.Recent stays 600 */
	uint32_t seq2 = rp.snd_nxt;
	raw_data_ts(&rp, seq2, d, 100, 600, ets);
	rp.snd_nxt += 100;
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(600, p.seg.tsecr);
	raw_data_ts(&rp, seq1, d, 100, 900, ets);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, rp.snd_nxt);
	CHECK_EQ(600, p.seg.tsecr);
	/* nor does one with an older TSval (RFC 7323 §4.3 (2)) */
	raw_data_ts(&rp, seq2, d, 100, 550, ets);
	RAW_EXPECT(&rp, &p);
	CHECK(p.seg.tsecr == 600);
	CHECK_STAT(s, SIM_A, rx_unacceptable, 2);
	sim_free(s);
}

/* RFC 7323 §5.3 R1: a segment whose TSval is older than TS.Recent is
 * dropped (its data not taken) and ACKed; counted rx_paws_drop. */
void test_paws_drops_old_ts_and_acks(void)
{
	struct raw_peer rp;
	struct sim_seg synack;
	struct sim *s;
	struct sim_conn *a = raw_est_ts(&s, &rp, 1000, &synack);
	struct sim_pkt p;
	static uint8_t d[100];
	raw_data_ts(&rp, rp.snd_nxt, d, 100, 5000, synack.tsval);
	rp.snd_nxt += 100;
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(5000, p.seg.tsecr);
	/* an old duplicate of the next data, TSval 4000 < 5000 */
	raw_data_ts(&rp, rp.snd_nxt, d, 100, 4000, synack.tsval);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, rp.snd_nxt);
	CHECK_EQ(0, p.seg.len);
	CHECK_EQ(5000, p.seg.tsecr);
	CHECK_STAT(s, SIM_A, rx_paws_drop, 1);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(rp.snd_nxt, in.rcv_nxt);
	CHECK_EQ(100, in.rcv_queued);
	/* the same data with a current TSval is taken */
	raw_data_ts(&rp, rp.snd_nxt, d, 100, 5001, synack.tsval);
	rp.snd_nxt += 100;
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, rp.snd_nxt);
	CHECK_EQ(5001, p.seg.tsecr);
	/* an RST is not subject to PAWS (§5.3): an old TSval still resets */
	raw_data_ts(&rp, rp.snd_nxt, NULL, 0, 1, 0);
	RAW_EXPECT(&rp, &p);                         /* (a pure ACK: PAWS-dropped, ACKed) */
	struct raw_opts ro = RAW_OPTS_NONE;
	ro.ts = true;
	ro.tsval = 1;
	raw_send_o(&rp, F_RST, rp.snd_nxt, 0, NULL, 0, &ro);
	CHECK(sim_has_event(a, DPT_EV_RESET));
	CHECK_STAT(s, SIM_A, rx_paws_drop, 2);
	sim_free(s);
}

/* Linux's tcp_disordered_ack(): a pure duplicate ACK (SEG.SEQ = RCV.NXT,
 * SEG.ACK = SND.UNA, same window) whose TSval trails TS.Recent by less
 * than an RTO was overtaken on the path, not replayed: kept (its SACK
 * blocks count), not answered. One that trails by more is PAWS-dropped. */
void test_paws_keeps_reordered_dup_ack(void)
{
	struct raw_peer rp;
	struct sim_seg synack;
	struct sim *s;
	raw_est_ts(&s, &rp, 1000, &synack);
	struct sim_pkt p;
	static uint8_t d[100];
	raw_data_ts(&rp, rp.snd_nxt, d, 100, 5000, synack.tsval);
	rp.snd_nxt += 100;
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(5000, p.seg.tsecr);
	/* a pure ACK sent before that data (TSval 4990: 10 ms older) */
	raw_data_ts(&rp, rp.snd_nxt, NULL, 0, 4990, synack.tsval);
	RAW_EXPECT_NONE(&rp);
	CHECK_STAT(s, SIM_A, rx_paws_reordered_ack, 1);
	CHECK_STAT(s, SIM_A, rx_paws_drop, 0);
	/* TS.Recent did not go back */
	raw_data_ts(&rp, rp.snd_nxt, d, 10, 5001, synack.tsval);
	rp.snd_nxt += 10;
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(5001, p.seg.tsecr);
	/* older than an RTO (1 s here): a replay, dropped and ACKed */
	raw_data_ts(&rp, rp.snd_nxt, NULL, 0, 3000, synack.tsval);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, rp.snd_nxt);
	CHECK_STAT(s, SIM_A, rx_paws_drop, 1);
	CHECK_STAT(s, SIM_A, rx_paws_reordered_ack, 1);
	sim_free(s);
}

/* An unacceptable segment is answered with an ACK (RFC 9293 §3.10.7.4,
 * RFC 7323 §5.3), but a pure ACK at most every 500 ms (as Linux's
 * tcp_invalid_ratelimit): ACKs overtaken on a reordering path are
 * unacceptable by the thousand and need no answer. Data always gets one. */
void test_oow_pure_ack_answer_rate_limited(void)
{
	struct raw_peer rp;
	struct sim_seg synack;
	struct sim *s;
	raw_est_ts(&s, &rp, 1000, &synack);
	struct sim_pkt p;
	static uint8_t d[100];
	raw_data_ts(&rp, rp.snd_nxt, d, 100, 5000, synack.tsval);
	rp.snd_nxt += 100;
	RAW_EXPECT(&rp, &p);
	/* pure ACKs below RCV.NXT: the first is answered, the next not */
	for (int i = 0; i < 3; i++) {
		raw_data_ts(&rp, rp.snd_nxt - 50, NULL, 0, 5000, synack.tsval);
		if (i == 0) {
			RAW_EXPECT(&rp, &p);
			CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, rp.snd_nxt);
		} else {
			RAW_EXPECT_NONE(&rp);
		}
	}
	CHECK_STAT(s, SIM_A, rx_oow_ack_limited, 2);
	/* old data still gets its ACK (and D-SACK-less duplicate ACK) */
	raw_data_ts(&rp, rp.snd_nxt - 100, d, 100, 5000, synack.tsval);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, rp.snd_nxt);
	/* 500 ms later a pure ACK is answered again */
	sim_advance(s, 500);
	sim_raw_clear(s);
	raw_data_ts(&rp, rp.snd_nxt - 50, NULL, 0, 5600, synack.tsval);
	RAW_EXPECT(&rp, &p);
	CHECK_STAT(s, SIM_A, rx_oow_ack_limited, 2);
	sim_free(s);
}

/* RFC 7323 §4.1: the ACK of a retransmitted segment echoes the
 * retransmission's TSval, so it gives an RTT sample where Karn's rule
 * gives none (compare test_karn_no_rtt_sample_from_retransmit). */
void test_rtt_sample_from_ts_on_retransmit(void)
{
	struct raw_peer rp;
	struct sim_seg synack;
	struct sim *s;
	struct sim_conn *a = raw_est_ts(&s, &rp, 1000, &synack);
	struct sim_pkt p;
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	uint32_t srtt0 = in.srtt_us;
	static uint8_t d[100];
	CHECK_EQ(100, dpt_send(s->eng[SIM_A], a->c, d, sizeof(d)));
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(100, p.seg.len);
	uint32_t ts1 = p.seg.tsval;
	unsigned int pos = sim_mark(s);
	SIM_RUN_UNTIL(s, sim_count_from(s, pos, SIM_A, 0, 0) > 0, 5000);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(100, p.seg.len);
	CHECK_EQ(rp.rcv_nxt, p.seg.seq);
	uint32_t ts2 = p.seg.tsval;
	CHECK_CMP(ts2 - ts1, >=, 200);               /* ms clock: the RTO passed */
	sim_advance(s, 50);
	uint64_t n0 = sim_stats(s, SIM_A)->rtt_ts_samples;
	struct raw_opts ao = RAW_OPTS_NONE;
	ao.ts = true;
	ao.tsval = 1001;
	ao.tsecr = ts2;
	raw_send_o(&rp, F_ACK, rp.snd_nxt, rp.rcv_nxt + 100, NULL, 0, &ao);
	rp.rcv_nxt += 100;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(rp.rcv_nxt, in.snd_una);
	CHECK_EQ(n0 + 1, sim_stats(s, SIM_A)->rtt_ts_samples);
	CHECK_MSG(in.srtt_us != srtt0, "no RTT sample from the retransmission's TSecr");
	/* the handshake's sample was ~0; 7/8 of it plus 50 ms / 8 */
	CHECK_CMP(in.srtt_us, >=, 50000 / 8);
	CHECK_CMP(in.srtt_us, <=, 51000);
	sim_free(s);
}

/* An ACK echoing a TSval of this millisecond, while no segment is timed,
 * says only "RTT below 2 ms" (our TS clock ticks in ms): no sample. Taken
 * as 1 ms, such samples held SRTT of a 0.25 ms path near 1 ms (issue 6);
 * the timed segment measures that path in microseconds. */
void test_rtt_ts_sample_below_tick_skipped(void)
{
	struct raw_peer rp;
	struct sim_seg synack;
	struct sim *s;
	struct sim_conn *a = raw_est_ts(&s, &rp, 1000, &synack);
	struct sim_pkt p;
	struct dpt_conn_info in;
	static uint8_t d[2 * 1448];
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(1448, in.mss);
	CHECK_EQ(sizeof(d), dpt_send(s->eng[SIM_A], a->c, d, sizeof(d)));
	sim_run(s);
	RAW_EXPECT(&rp, &p);           /* the timed segment */
	uint32_t ts1 = p.seg.tsval;
	RAW_EXPECT(&rp, &p);
	uint32_t ts2 = p.seg.tsval;
	sim_advance_us(s, 200);
	struct raw_opts ao = RAW_OPTS_NONE;
	ao.ts = true;
	ao.tsval = 1001;
	ao.tsecr = ts1;
	raw_send_o(&rp, F_ACK, rp.snd_nxt, rp.rcv_nxt + 1448, NULL, 0, &ao);
	CHECK(sim_conn_info(a, &in));
	uint32_t srtt = in.srtt_us;
	uint64_t n0 = sim_stats(s, SIM_A)->rtt_ts_samples;
	ao.tsval = 1002;
	ao.tsecr = ts2;
	raw_send_o(&rp, F_ACK, rp.snd_nxt, rp.rcv_nxt + 2 * 1448, NULL, 0, &ao);
	rp.rcv_nxt += 2 * 1448;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(rp.rcv_nxt, in.snd_una);
	CHECK_EQ(srtt, in.srtt_us);
	CHECK_EQ(n0, sim_stats(s, SIM_A)->rtt_ts_samples);
	CHECK_STAT(s, SIM_A, rtt_ts_coarse, 1);
	sim_free(s);
}

/* RFC 8985 §6.2 step 2 / RFC 3522: an ACK of the RTO's resend that
 * echoes the first transmission's TSval (the first ACK was lost; the
 * resend drew this one) gives no RTT sample: the time since the first
 * transmission holds our own RTO. The next segment's echo gives one. */
void test_no_rtt_sample_from_echo_older_than_resend(void)
{
	struct raw_peer rp;
	struct sim_seg synack;
	struct sim *s;
	struct sim_conn *a = raw_est_ts(&s, &rp, 1000, &synack);
	struct sim_pkt p;
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	uint32_t srtt0 = in.srtt_us, rto0 = in.rto_us;
	static uint8_t d[100];
	CHECK_EQ(100, dpt_send(s->eng[SIM_A], a->c, d, sizeof(d)));
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	uint32_t ts1 = p.seg.tsval;
	unsigned int pos = sim_mark(s);
	SIM_RUN_UNTIL(s, sim_count_from(s, pos, SIM_A, 0, 0) > 0, 5000);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(100, p.seg.len);
	CHECK_CMP(p.seg.tsval - ts1, >=, 200);       /* the RTO's resend */
	sim_advance(s, 5);
	struct raw_opts ao = RAW_OPTS_NONE;
	ao.ts = true;
	ao.tsval = 1001;
	ao.tsecr = ts1;                              /* the first transmission */
	raw_send_o(&rp, F_ACK, rp.snd_nxt, rp.rcv_nxt + 100, NULL, 0, &ao);
	rp.rcv_nxt += 100;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(rp.rcv_nxt, in.snd_una);
	CHECK_STAT(s, SIM_A, rtt_ts_stale, 1);
	CHECK_EQ(srtt0, in.srtt_us);
	CHECK_EQ(rto0, in.rto_us);
	/* new data, acked 5 ms later echoing its own TSval: sampled */
	CHECK_EQ(100, dpt_send(s->eng[SIM_A], a->c, d, sizeof(d)));
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	sim_advance(s, 5);
	ao.tsval = 1002;
	ao.tsecr = p.seg.tsval;
	raw_send_o(&rp, F_ACK, rp.snd_nxt, rp.rcv_nxt + 100, NULL, 0, &ao);
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(rp.rcv_nxt + 100, in.snd_una);
	CHECK_STAT(s, SIM_A, rtt_ts_stale, 1);
	CHECK_CMP(in.srtt_us, !=, srtt0);
	sim_free(s);

	/* the same for a resent SYN: a SYN-ACK echoing the first SYN */
	struct sim_opts so;
	sim_opts_default(&so);
	so.with_b = false;
	s = mk_sim_opts(&so);
	int r;
	raw_init(&rp, s, SIM_A, 7000, 0);
	a = sim_connect(s, SIM_A, rp.ip, 7000, 0, &r);
	CHECK_EQ(0, r);
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	CHECK_FLAGS(&p.seg, F_SYN);
	CHECK(p.seg.has_ts);
	ts1 = p.seg.tsval;
	rp.eng_port = p.seg.sport;
	rp.irs = p.seg.seq;
	rp.rcv_nxt = p.seg.seq + 1;
	rp.iss = 5000;
	rp.snd_nxt = 5001;
	pos = sim_mark(s);
	SIM_RUN_UNTIL(s, sim_count_from(s, pos, SIM_A, 0, 0) > 0, 5000);
	RAW_EXPECT(&rp, &p);
	CHECK_FLAGS(&p.seg, F_SYN);                  /* the RTO's resend */
	sim_advance(s, 5);
	struct raw_opts sa = RAW_OPTS_NONE;
	sa.mss = 1460;
	sa.ts = true;
	sa.tsval = 7;
	sa.tsecr = ts1;
	raw_send_o(&rp, F_SYN | F_ACK, 5000, rp.rcv_nxt, NULL, 0, &sa);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	CHECK(sim_conn_info(a, &in));
	CHECK_STAT(s, SIM_A, rtt_ts_stale, 1);
	CHECK_EQ(0, in.srtt_us);
	sim_free(s);
}

/* RFC 7323 §3.2 / RFC 6691: with TSopt on every segment a full segment
 * carries the MSS less 12 bytes, and never more. */
void test_ts_option_bytes_reduce_payload(void)
{
	struct raw_peer rp;
	struct sim_seg synack;
	struct sim *s;
	struct sim_conn *a = raw_est_ts(&s, &rp, 1000, &synack);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(1448, in.mss);
	static uint8_t d[3000];
	CHECK_EQ(3000, dpt_send(s->eng[SIM_A], a->c, d, sizeof(d)));
	sim_run(s);
	struct sim_pkt p;
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(1448, p.seg.len);
	CHECK_EQ(32, p.seg.doff);
	sim_free(s);
}

static void cookie_sim(struct sim **sp, struct sim_listener **lp)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].syncookies = 2;
	o.cfg[SIM_A].rcv_buf_bytes = 262144;
	int r;
	*sp = mk_sim_opts(&o);
	*lp = sim_listen(*sp, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
}

/* SYN cookies with timestamps: the peer's WS and SACK-permitted ride in
 * the low bits of our TSval (as Linux) and come back in the ACK's TSecr:
 * the connection scales windows and sends SACK blocks. Without timestamps
 * a cookie connection has neither (as Linux). */
void test_syn_cookie_keeps_wscale_sack_with_ts(void)
{
	struct sim *s;
	struct sim_listener *l;
	cookie_sim(&s, &l);
	struct raw_peer rp;
	struct sim_pkt p;
	raw_init(&rp, s, SIM_A, 40000, SRV_PORT);
	struct raw_opts o = syn_opts(5, true, true, 7777);
	raw_send_o(&rp, F_SYN, 100, 0, NULL, 0, &o);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_SYN | F_ACK, p.seg.seq, 101);
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	CHECK_EQ(3, p.seg.wscale);
	CHECK(p.seg.sack_ok);
	CHECK(p.seg.has_ts);
	CHECK_EQ(7777, p.seg.tsecr);
	CHECK_EQ(5 | 0x10, p.seg.tsval & 0x1f);
	rp.irs = p.seg.seq;
	rp.rcv_nxt = p.seg.seq + 1;
	rp.snd_nxt = 101;
	rp.win = 100;                                /* 100 << 5 = 3200 */
	struct raw_opts a = RAW_OPTS_NONE;
	a.ts = true;
	a.tsval = 7778;
	a.tsecr = p.seg.tsval;
	raw_send_o(&rp, F_ACK, 101, rp.rcv_nxt, NULL, 0, &a);
	CHECK_EQ(1, l->naccepted);
	CHECK_STAT(s, SIM_A, syncookies_ok, 1);
	CHECK_STAT(s, SIM_A, syncookies_opts, 1);
	struct sim_conn *c = l->accepted[0];
	struct dpt_conn_info in;
	CHECK(sim_conn_info(c, &in));
	CHECK_EQ(3200, in.snd_wnd);
	CHECK_EQ(1448, in.mss);
	/* SACK on: data beyond a gap draws an ACK with a SACK block */
	static uint8_t d[100];
	a.tsval = 7779;
	raw_send_o(&rp, F_ACK, 201, rp.rcv_nxt, d, 100, &a);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, 101);
	CHECK_EQ(1, p.seg.nsack);
	CHECK_EQ(201, p.seg.sack[0][0]);
	CHECK_EQ(301, p.seg.sack[0][1]);
	CHECK_EQ(7778, p.seg.tsecr);
	CHECK_EQ((262144 - 100) >> 3, p.seg.win);   /* scaled by our 3 */

	/* without timestamps: MSS only, no scaling, no SACK */
	struct raw_peer rq;
	raw_init(&rq, s, SIM_A, 40001, SRV_PORT);
	o = syn_opts(5, true, false, 0);
	raw_send_o(&rq, F_SYN, 500, 0, NULL, 0, &o);
	RAW_EXPECT(&rq, &p);
	CHECK_EQ(-1, p.seg.wscale);
	CHECK(!p.seg.sack_ok);
	CHECK(!p.seg.has_ts);
	CHECK_EQ(1460, p.seg.mss);
	rq.irs = p.seg.seq;
	rq.rcv_nxt = p.seg.seq + 1;
	rq.win = 100;
	raw_send(&rq, F_ACK, 501, rq.rcv_nxt, NULL, 0);
	CHECK_EQ(2, l->naccepted);
	CHECK(sim_conn_info(l->accepted[1], &in));
	CHECK_EQ(100, in.snd_wnd);
	raw_send(&rq, F_ACK, 601, rq.rcv_nxt, d, 100);
	RAW_EXPECT(&rq, &p);
	CHECK_EQ(0, p.seg.nsack);
	CHECK_EQ(65535, p.seg.win);
	sim_free(s);
}

/* RFC 2018 §4: SACK blocks from the out-of-order queue, the block of the
 * most recently received segment first, then the blocks reported before,
 * newest first; at most 4 blocks without timestamps, 3 with. */
static void sack_order(bool ts)
{
	struct raw_peer rp;
	struct sim_seg synack;
	struct raw_opts o = syn_opts(-1, true, ts, 1000);
	struct sim *s;
	raw_est_o(&s, &rp, NULL, &o, &synack);
	CHECK(synack.sack_ok);
	struct sim_pkt p;
	static uint8_t d[100];
	uint32_t base = rp.snd_nxt;
	struct raw_opts so = RAW_OPTS_NONE;
	so.ts = ts;
	so.tsval = 1001;
	so.tsecr = synack.tsval;
	/* segments at 200, 400, 600, 800, 1000 (relative), in this order */
	static const uint32_t at[] = { 400, 200, 800, 1000, 600 };
	for (unsigned int i = 0; i < RTE_DIM(at); i++) {
		raw_send_o(&rp, F_ACK, base + at[i], rp.rcv_nxt, d, 100, &so);
		RAW_EXPECT(&rp, &p);
		CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, base);
		unsigned int max = ts ? 3 : 4;
		CHECK_EQ(RTE_MIN(i + 1, max), p.seg.nsack);
		/* newest first, then the earlier first blocks newest first */
		for (unsigned int k = 0; k < p.seg.nsack; k++) {
			CHECK_EQ(base + at[i - k], p.seg.sack[k][0]);
			CHECK_EQ(base + at[i - k] + 100, p.seg.sack[k][1]);
		}
	}
	/* 100..200 joins 200..300: that block is first, and it grew */
	raw_send_o(&rp, F_ACK, base + 100, rp.rcv_nxt, d, 100, &so);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(base + 100, p.seg.sack[0][0]);
	CHECK_EQ(base + 300, p.seg.sack[0][1]);
	CHECK_EQ(base + 600, p.seg.sack[1][0]);
	/* the gap at the front filled: 0..300 is in order, 400.. remain */
	raw_send_o(&rp, F_ACK, base, rp.rcv_nxt, d, 100, &so);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, base + 300);
	CHECK_CMP(p.seg.nsack, >=, 1);
	for (unsigned int k = 0; k < p.seg.nsack; k++)
		CHECK(seq_gt(p.seg.sack[k][0], base + 300));
	CHECK_STAT(s, SIM_A, tx_dsack, 0);
	sim_free(s);
}

void test_sack_blocks_most_recent_first_max4(void)
{
	sack_order(false);
}

void test_sack_blocks_max3_with_timestamps(void)
{
	sack_order(true);
}

/* RFC 2883 §4: a duplicate segment is reported in the first SACK block,
 * below the cumulative ACK; an out-of-order duplicate as the first block,
 * followed by the block containing it. */
void test_dsack_for_duplicate_segment(void)
{
	struct raw_peer rp;
	struct sim_seg synack;
	struct raw_opts o = syn_opts(-1, true, false, 0);
	struct sim *s;
	raw_est_o(&s, &rp, NULL, &o, &synack);
	struct sim_pkt p;
	static uint8_t d[100];
	uint32_t base = rp.snd_nxt;
	raw_data(&rp, d, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, base + 100);
	CHECK_EQ(0, p.seg.nsack);
	/* the same segment again */
	raw_send(&rp, F_ACK, base, rp.rcv_nxt, d, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, base + 100);
	CHECK_EQ(1, p.seg.nsack);
	CHECK_EQ(base, p.seg.sack[0][0]);
	CHECK_EQ(base + 100, p.seg.sack[0][1]);
	CHECK_STAT(s, SIM_A, tx_dsack, 1);
	/* reported once: the next ACK has no D-SACK */
	raw_data(&rp, d, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(0, p.seg.nsack);
	/* an out-of-order segment twice: D-SACK, then its block */
	base = rp.snd_nxt;
	raw_send(&rp, F_ACK, base + 200, rp.rcv_nxt, d, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(1, p.seg.nsack);
	raw_send(&rp, F_ACK, base + 200, rp.rcv_nxt, d, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(2, p.seg.nsack);
	CHECK_EQ(base + 200, p.seg.sack[0][0]);
	CHECK_EQ(base + 300, p.seg.sack[0][1]);
	CHECK_EQ(base + 200, p.seg.sack[1][0]);
	CHECK_EQ(base + 300, p.seg.sack[1][1]);
	CHECK_STAT(s, SIM_A, tx_dsack, 2);
	/* a partial duplicate: the old part is reported */
	raw_send(&rp, F_ACK, base - 50, rp.rcv_nxt, d, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, base + 50);
	CHECK_EQ(base - 50, p.seg.sack[0][0]);
	CHECK_EQ(base, p.seg.sack[0][1]);
	CHECK_STAT(s, SIM_A, tx_dsack, 3);
	sim_free(s);
}

/* The peer's SACK blocks are parsed for the sender side: blocks inside
 * SND.UNA..SND.MAX are kept (rx_sack_blocks), a first block below the ACK
 * is a D-SACK (rx_dsack), others are ignored (rx_sack_bad); a connection
 * without SACK ignores them all. */
void test_sack_blocks_received_validated(void)
{
	struct raw_peer rp;
	struct sim_seg synack;
	struct raw_opts o = syn_opts(-1, true, false, 0);
	struct sim *s;
	struct sim_conn *a = raw_est_o(&s, &rp, NULL, &o, &synack);
	static uint8_t d[4000];
	CHECK_EQ(4000, dpt_send(s->eng[SIM_A], a->c, d, sizeof(d)));
	sim_run(s);
	struct sim_pkt p;
	uint32_t una = rp.rcv_nxt, max = una;
	while (raw_pop(&rp, &p))
		max = p.seg.seq + p.seg.len;
	CHECK_EQ(una + 4000, max);
	struct raw_opts ao = RAW_OPTS_NONE;
	ao.nsack = 3;
	ao.sack[0][0] = una + 1460; ao.sack[0][1] = una + 2920;   /* valid */
	ao.sack[1][0] = una + 2920; ao.sack[1][1] = max + 100;    /* beyond SND.MAX */
	ao.sack[2][0] = una + 3000; ao.sack[2][1] = una + 2990;   /* empty */
	raw_send_o(&rp, F_ACK, rp.snd_nxt, una, NULL, 0, &ao);
	CHECK_STAT(s, SIM_A, rx_sack_blocks, 1);
	CHECK_STAT(s, SIM_A, rx_sack_bad, 2);
	CHECK_STAT(s, SIM_A, rx_dsack, 0);
	/* an ACK of 1460 with a D-SACK of 0..1460 (below SEG.ACK) */
	ao.nsack = 2;
	ao.sack[0][0] = una; ao.sack[0][1] = una + 1460;
	ao.sack[1][0] = una + 2920; ao.sack[1][1] = una + 4000;
	raw_send_o(&rp, F_ACK, rp.snd_nxt, una + 1460, NULL, 0, &ao);
	CHECK_STAT(s, SIM_A, rx_dsack, 1);
	CHECK_STAT(s, SIM_A, rx_sack_blocks, 2);
	/* a block below SND.UNA that is not first: ignored */
	ao.nsack = 2;
	ao.sack[0][0] = una + 2920; ao.sack[0][1] = una + 4000;
	ao.sack[1][0] = una; ao.sack[1][1] = una + 100;
	raw_send_o(&rp, F_ACK, rp.snd_nxt, una + 1460, NULL, 0, &ao);
	CHECK_STAT(s, SIM_A, rx_sack_blocks, 3);
	CHECK_STAT(s, SIM_A, rx_sack_bad, 3);
	CHECK_STAT(s, SIM_A, rx_bad_opts, 0);
	sim_free(s);

	/* no SACK-permitted on the SYN: blocks are not looked at */
	o = syn_opts(-1, false, false, 0);
	a = raw_est_o(&s, &rp, NULL, &o, &synack);
	CHECK_EQ(100, dpt_send(s->eng[SIM_A], a->c, d, 100));
	sim_run(s);
	sim_raw_clear(s);
	ao.nsack = 1;
	ao.sack[0][0] = rp.rcv_nxt; ao.sack[0][1] = rp.rcv_nxt + 50;
	raw_send_o(&rp, F_ACK, rp.snd_nxt, rp.rcv_nxt, NULL, 0, &ao);
	CHECK_STAT(s, SIM_A, rx_sack_blocks, 0);
	CHECK_STAT(s, SIM_A, rx_sack_bad, 0);
	sim_free(s);
}

/* TIME_WAIT records keep TS.Recent: their ACKs carry TSopt, and a SYN
 * reuses the tuple when its timestamp is newer even with a lower sequence
 * number (RFC 6191 §2), not when it is older. */
void test_time_wait_ts_kept_and_reuse_by_newer_ts(void)
{
	struct raw_peer rp;
	struct sim_seg synack;
	struct sim *s;
	struct sim_conn *a = raw_est_ts(&s, &rp, 1000, &synack);
	struct sim_pkt p;
	/* engine closes first: FIN_WAIT_1 -> (ACK+FIN) -> TIME_WAIT */
	CHECK_EQ(0, dpt_close(s->eng[SIM_A], a->c));
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	CHECK(p.seg.flags & F_FIN);
	uint32_t ets = p.seg.tsval;
	struct raw_opts f = RAW_OPTS_NONE;
	f.ts = true;
	f.tsval = 2000;
	f.tsecr = ets;
	raw_send_o(&rp, F_ACK | F_FIN, rp.snd_nxt, p.seg.seq + 1, NULL, 0, &f);
	rp.snd_nxt++;
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, p.seg.seq, rp.snd_nxt);
	CHECK_EQ(DPT_TIME_WAIT, sim_tuple_state(s, SIM_A, SRV_PORT, rp.ip, rp.port));
	CHECK_EQ(1, sim_state_count(s, SIM_A, DPT_TIME_WAIT));
	/* the record answers a retransmitted FIN with TSopt echoing 2000: the
	 * FIN is below the window, so its TSval 2001 is not taken (RFC 7323
	 * §5.3 R3 comes after the sequence check) */
	f.tsval = 2001;
	raw_send_o(&rp, F_ACK | F_FIN, rp.snd_nxt - 1, p.seg.seq, NULL, 0, &f);
	RAW_EXPECT(&rp, &p);
	CHECK(p.seg.has_ts);
	CHECK_EQ(2000, p.seg.tsecr);
	/* an older TSval, higher sequence number: no new incarnation */
	struct raw_opts so = syn_opts(-1, false, true, 1500);
	raw_send_o(&rp, F_SYN, rp.snd_nxt + 100000, 0, NULL, 0, &so);
	CHECK_STAT(s, SIM_A, rx_syn_in_tw, 0);
	CHECK_STAT(s, SIM_A, rx_tw_syn_ts_old, 1);
	sim_raw_clear(s);
	/* a newer TSval, lower sequence number: accepted */
	so = syn_opts(-1, false, true, 3000);
	raw_send_o(&rp, F_SYN, 10, 0, NULL, 0, &so);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_SYN | F_ACK, p.seg.seq, 11);
	CHECK_STAT(s, SIM_A, rx_syn_in_tw, 1);
	CHECK_EQ(3000, p.seg.tsecr);
	sim_free(s);
}

/* An ACK of new data updates the send window even when its SEG.SEQ is
 * older than the segment that set SND.WL1 (a retransmission or reordered
 * data from the peer), as Linux does: otherwise SND.UNA + the stale window
 * reaches past the right edge the peer offers now. */
void test_window_update_from_ack_of_new_data_old_seq(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	rp.win = 8760;
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, true);
	rp.win = 8760;
	raw_ack(&rp);
	static uint8_t d[20000];
	CHECK_EQ((ssize_t)sizeof(d), dpt_send(s->eng[SIM_A], a->c, d, sizeof(d)));
	sim_run(s);
	uint32_t una = rp.rcv_nxt, hi = una;
	while (raw_pop(&rp, &p))
		hi = p.seg.seq + p.seg.len;
	CHECK_EQ(una + 8760, hi);
	/* data beyond a gap (newer SEG.SEQ) sets SND.WL1 */
	raw_send(&rp, F_ACK, rp.snd_nxt + 100, una, d, 100);
	sim_raw_clear(s);
	/* the gap filled (older SEG.SEQ) ACKs 2000 and offers 1000 */
	rp.win = 1000;
	raw_send(&rp, F_ACK, rp.snd_nxt, una + 2000, d, 100);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(1000, in.snd_wnd);
	while (raw_pop(&rp, &p))
		CHECK_MSG(p.seg.len == 0 || seq_leq(p.seg.seq + p.seg.len, una + 3000),
			  "data up to %u beyond the right edge %u", p.seg.seq + p.seg.len,
			  una + 3000);
	sim_free(s);
}
