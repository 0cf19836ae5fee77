/* t_close.c — closing: the four-way close, simultaneous close through
 * CLOSING, half-close, CLOSE_WAIT and LAST_ACK, TIME_WAIT = 2*MSL and its
 * rules (RFC 9293 §3.6, §3.10.7.4; RFC 1337; RFC 6191), close/abort from
 * the application (RFC 9293 §3.10.4-5, RFC 1122 4.2.2.13). */
#include "t_common.h"
#include "tests.h"

#define MSL_MS 100

static struct dpt_conn_info info_of(struct sim_conn *sc)
{
	struct dpt_conn_info in;
	memset(&in, 0, sizeof(in));
	CHECK(sim_conn_info(sc, &in));
	return in;
}

/* Active close by B, passive by A: FIN, ACK, FIN, ACK with exact numbers;
 * B: FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT → gone; A: CLOSE_WAIT → LAST_ACK
 * → CLOSED. */
void test_active_close_four_way(void)
{
	struct sim *s = mk_sim();
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	struct dpt_conn_info ib = info_of(b), ia = info_of(a);
	unsigned int pos = sim_mark(s);

	CHECK_EQ(0, dpt_close(s->eng[SIM_B], b->c));
	CHECK_STATE(DPT_FIN_WAIT_1, sim_state(b));
	sim_run(s);
	struct sim_seg fin_b = NEXT_SEG(s, &pos, SIM_B);
	CHECK_SEG(&fin_b, F_FIN | F_ACK, ib.snd_nxt, ib.rcv_nxt);
	CHECK_EQ(0, fin_b.len);
	struct sim_seg ack_a = NEXT_SEG(s, &pos, SIM_A);
	CHECK_SEG(&ack_a, F_ACK, ia.snd_nxt, fin_b.seq + 1);
	NO_SEG(s, pos, -1);
	CHECK_STATE(DPT_FIN_WAIT_2, sim_state(b));
	CHECK_STATE(DPT_CLOSE_WAIT, sim_state(a));
	CHECK_EQ(1, a->ev_count[DPT_EV_PEER_CLOSED]);
	CHECK(a->eof);

	CHECK_EQ(0, dpt_close(s->eng[SIM_A], a->c));
	CHECK_STATE(DPT_LAST_ACK, sim_state(a));
	sim_run(s);
	struct sim_seg fin_a = NEXT_SEG(s, &pos, SIM_A);
	CHECK_SEG(&fin_a, F_FIN | F_ACK, ia.snd_nxt, fin_b.seq + 1);
	struct sim_seg ack_b = NEXT_SEG(s, &pos, SIM_B);
	CHECK_SEG(&ack_b, F_ACK, fin_b.seq + 1, fin_a.seq + 1);
	NO_SEG(s, pos, -1);
	CHECK_STATE(DPT_CLOSED, sim_state(a));
	CHECK_EQ(1, a->ev_count[DPT_EV_CLOSED]);
	CHECK_EQ(0, a->ev_count[DPT_EV_RESET] + a->ev_count[DPT_EV_ERROR]);
	CHECK_STATE(DPT_TIME_WAIT, sim_state(b));
	CHECK_EQ(1, sim_state_count(s, SIM_B, DPT_TIME_WAIT));

	sim_advance(s, 2 * MSL_MS + 10);
	CHECK_STATE(DPT_CLOSED, sim_state(b));
	CHECK_EQ(0, sim_state_count(s, SIM_B, DPT_TIME_WAIT));
	CHECK_EQ(1, b->ev_count[DPT_EV_CLOSED]);
	CHECK_EQ(0, b->ev_count[DPT_EV_RESET] + b->ev_count[DPT_EV_ERROR]);
	CHECK_STAT(s, SIM_A, conn_closed, 1);
	CHECK_STAT(s, SIM_B, conn_closed, 1);
	CHECK_STAT(s, SIM_B, tw_expired, 1);
	sim_advance(s, 1000);
	CHECK_EQ(pos, sim_mark(s)); /* nothing more on the wire */
	sim_free(s);
}

static enum sim_verdict hold_pure_acks(struct sim *s, const struct sim_seg *g, void *ctx)
{
	(void)s;
	(void)ctx;
	return (g->flags & (F_SYN | F_FIN | F_RST)) == 0 && g->len == 0 ? SIM_HOLD : SIM_PASS;
}

/* RFC 9293 §3.6 figure 13: both FINs cross; each side goes FIN_WAIT_1 →
 * CLOSING on the peer's FIN, then TIME_WAIT on the ACK of its own FIN;
 * both TIME_WAITs expire after 2*MSL. */
void test_simultaneous_close_reaches_closing_then_time_wait(void)
{
	struct sim *s = mk_sim();
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	struct dpt_conn_info ib = info_of(b), ia = info_of(a);
	unsigned int pos = sim_mark(s);

	sim_set_filter(s, hold_pure_acks, NULL);
	CHECK_EQ(0, dpt_close(s->eng[SIM_A], a->c));
	CHECK_EQ(0, dpt_close(s->eng[SIM_B], b->c));
	sim_run(s);
	unsigned int pa = pos, pb = pos;
	struct sim_seg fin_a = NEXT_SEG(s, &pa, SIM_A);
	struct sim_seg fin_b = NEXT_SEG(s, &pb, SIM_B);
	CHECK_SEG(&fin_a, F_FIN | F_ACK, ia.snd_nxt, ia.rcv_nxt);
	CHECK_SEG(&fin_b, F_FIN | F_ACK, ib.snd_nxt, ib.rcv_nxt);
	CHECK_STATE(DPT_CLOSING, sim_state(a));
	CHECK_STATE(DPT_CLOSING, sim_state(b));
	CHECK_EQ(2, sim_nheld(s));
	struct sim_seg ack_a = NEXT_SEG(s, &pa, SIM_A);
	struct sim_seg ack_b = NEXT_SEG(s, &pb, SIM_B);
	CHECK_SEG(&ack_a, F_ACK, fin_a.seq + 1, fin_b.seq + 1);
	CHECK_SEG(&ack_b, F_ACK, fin_b.seq + 1, fin_a.seq + 1);

	sim_set_filter(s, NULL, NULL);
	sim_release_all(s);
	sim_run(s);
	CHECK_STATE(DPT_TIME_WAIT, sim_state(a));
	CHECK_STATE(DPT_TIME_WAIT, sim_state(b));
	CHECK(a->states_seen & (1u << DPT_CLOSING));
	CHECK(b->states_seen & (1u << DPT_CLOSING));
	unsigned int quiet = sim_mark(s);
	sim_advance(s, 2 * MSL_MS - 10);
	CHECK_STATE(DPT_TIME_WAIT, sim_state(a));
	CHECK_STATE(DPT_TIME_WAIT, sim_state(b));
	sim_advance(s, 20);
	CHECK_STATE(DPT_CLOSED, sim_state(a));
	CHECK_STATE(DPT_CLOSED, sim_state(b));
	CHECK_EQ(quiet, sim_mark(s));
	CHECK_EQ(1, a->ev_count[DPT_EV_CLOSED]);
	CHECK_EQ(1, b->ev_count[DPT_EV_CLOSED]);
	CHECK_STAT(s, SIM_A, tw_expired, 1);
	CHECK_STAT(s, SIM_B, tw_expired, 1);
	sim_free(s);
}

/* Half-close (RFC 9293 §3.6): after dpt_shutdown() B sits in FIN_WAIT_2
 * and keeps receiving everything A sends from CLOSE_WAIT. */
void test_half_close_fin_wait_2_keeps_receiving(void)
{
	struct sim *s = mk_sim();
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	CHECK_EQ(0, dpt_shutdown(s->eng[SIM_B], b->c));
	sim_run(s);
	CHECK_STATE(DPT_FIN_WAIT_2, sim_state(b));
	CHECK_STATE(DPT_CLOSE_WAIT, sim_state(a));
	CHECK(dpt_send(s->eng[SIM_B], b->c, "x", 1) < 0);

	static uint8_t d[100000];
	sim_fill_pattern(d, sizeof(d), 11);
	sim_conn_send(a, d, sizeof(d), 0);
	for (int i = 0; i < 10000 && b->rx_len < sizeof(d); i++) {
		sim_step(s);
		CHECK_STATE(DPT_FIN_WAIT_2, sim_state(b));
	}
	CHECK_EQ(sizeof(d), b->rx_len);
	CHECK_PATTERN(b->rx, b->rx_len, 11);
	CHECK(!b->eof);
	CHECK_EQ(0, dpt_close(s->eng[SIM_A], a->c));
	sim_run(s);
	/* EOF: PEER_CLOSED (CLOSED may follow in the same batch, as B
	 * enters TIME_WAIT, before dpt_recv() could return 0) */
	CHECK_EQ(1, b->ev_count[DPT_EV_PEER_CLOSED]);
	CHECK_STATE(DPT_TIME_WAIT, sim_state(b));
	CHECK_STATE(DPT_CLOSED, sim_state(a));
	sim_free(s);
}

/* CLOSE_WAIT (RFC 9293 §3.10.7.4): after the peer's FIN the engine still
 * sends, each segment acking the FIN; its own close then goes LAST_ACK →
 * CLOSED. The peer is raw, so every number is checked. */
void test_close_wait_keeps_sending(void)
{
	struct sim *s = mk_sim_raw();
	struct raw_peer rp;
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	raw_init(&rp, s, SIM_A, 40000, SRV_PORT);
	raw_handshake(&rp, 1000, 1460);
	struct sim_conn *a = l->accepted[0];

	raw_send(&rp, F_FIN | F_ACK, rp.snd_nxt, rp.rcv_nxt, NULL, 0);
	rp.snd_nxt++;
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_STATE(DPT_CLOSE_WAIT, sim_state(a));
	CHECK_EQ(1, a->ev_count[DPT_EV_PEER_CLOSED]);
	CHECK(a->eof);

	static uint8_t d[6000];
	sim_fill_pattern(d, sizeof(d), 12);
	CHECK(dpt_writable(a->c) > 0);
	ssize_t n = dpt_send(s->eng[SIM_A], a->c, d, sizeof(d));
	CHECK_EQ(sizeof(d), n);
	sim_run(s);
	uint8_t got[6000];
	size_t have = 0;
	for (int i = 0; i < 50 && have < sizeof(d); i++) {
		while (raw_pop(&rp, &p)) {
			if (p.seg.len == 0)
				continue;
			CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
			CHECK(have + p.seg.len <= sizeof(got));
			memcpy(got + have, p.data, p.seg.len);
			have += p.seg.len;
			rp.rcv_nxt += p.seg.len;
		}
		raw_ack(&rp);
		CHECK_STATE(DPT_CLOSE_WAIT, sim_state(a));
		sim_step(s);
	}
	CHECK_EQ(sizeof(d), have);
	CHECK_PATTERN(got, have, 12);

	CHECK_EQ(0, dpt_close(s->eng[SIM_A], a->c));
	sim_run(s);
	CHECK_STATE(DPT_LAST_ACK, sim_state(a));
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_FIN | F_ACK, rp.rcv_nxt, rp.snd_nxt);
	raw_send(&rp, F_ACK, rp.snd_nxt, rp.rcv_nxt + 1, NULL, 0);
	RAW_EXPECT_NONE(&rp);
	CHECK_STATE(DPT_CLOSED, sim_state(a));
	CHECK_EQ(1, a->ev_count[DPT_EV_CLOSED]);
	sim_free(s);
}

static enum sim_verdict hold_b_acks(struct sim *s, const struct sim_seg *g, void *ctx)
{
	(void)s;
	(void)ctx;
	return g->from == SIM_B && (g->flags & ~F_PSH) == F_ACK && g->len == 0 ? SIM_HOLD : SIM_PASS;
}

/* LAST_ACK (RFC 9293 §3.10.7.4): the connection stays there until its FIN
 * is acked, then CLOSED; a lost final ACK makes it retransmit the FIN,
 * which the peer in TIME_WAIT acks again. */
void test_last_ack_to_closed(void)
{
	/* MSL 1 s: B's TIME_WAIT must outlive A's FIN retransmission */
	struct sim_opts o;
	sim_opts_default(&o);
	o.cfg[SIM_A].msl_ms = o.cfg[SIM_B].msl_ms = 1000;
	struct sim *s = mk_sim_opts(&o);
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	CHECK_EQ(0, dpt_close(s->eng[SIM_B], b->c));
	sim_run(s);
	CHECK_STATE(DPT_CLOSE_WAIT, sim_state(a));

	sim_set_filter(s, hold_b_acks, NULL);
	unsigned int pos = sim_mark(s);
	CHECK_EQ(0, dpt_close(s->eng[SIM_A], a->c));
	sim_run(s);
	CHECK_STATE(DPT_LAST_ACK, sim_state(a));
	CHECK_STATE(DPT_TIME_WAIT, sim_state(b));
	CHECK_EQ(1, sim_nheld(s));
	struct sim_seg fin_a = NEXT_SEG(s, &pos, SIM_A);
	CHECK_FLAGS(&fin_a, F_FIN | F_ACK);

	/* The final ACK is lost: A retransmits its FIN after an RTO. */
	sim_set_filter(s, NULL, NULL);
	sim_drop_held(s);
	struct dpt_conn_info ia = info_of(a);
	CHECK_CMP(ia.rto_us, >=, 200000);
	sim_advance(s, ia.rto_us / 1000 + 5);
	struct sim_seg fin2 = NEXT_SEG(s, &pos, SIM_A);
	CHECK_SEG(&fin2, F_FIN | F_ACK, fin_a.seq, fin_a.ack);
	struct sim_seg ack2 = NEXT_SEG(s, &pos, SIM_B);
	CHECK_SEG(&ack2, F_ACK, fin_a.ack, fin_a.seq + 1);
	CHECK_STATE(DPT_CLOSED, sim_state(a));
	CHECK_EQ(1, a->ev_count[DPT_EV_CLOSED]);
	CHECK_EQ(0, a->ev_count[DPT_EV_ERROR] + a->ev_count[DPT_EV_RESET]);
	CHECK_STAT(s, SIM_A, conn_closed, 1);
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_LAST_ACK));
	sim_free(s);
}

/* TIME_WAIT lasts exactly 2*MSL (RFC 9293 §3.6): msl 100 ms, then the
 * default MSL of 30 s (60 s of virtual time). */
void test_time_wait_expires_after_2msl(void)
{
	for (int round = 0; round < 2; round++) {
		struct sim_opts o;
		sim_opts_default(&o);
		uint32_t msl = round == 0 ? MSL_MS : 30000;
		o.cfg[SIM_A].msl_ms = o.cfg[SIM_B].msl_ms = msl;
		struct sim *s = mk_sim_opts(&o);
		struct sim_conn *b, *a;
		pair_connect(s, &b, &a);
		CHECK_EQ(0, dpt_close(s->eng[SIM_B], b->c));
		sim_run(s);
		CHECK_EQ(0, dpt_close(s->eng[SIM_A], a->c));
		sim_run(s);
		CHECK_STATE(DPT_TIME_WAIT, sim_state(b));
		CHECK_EQ(1, sim_state_count(s, SIM_B, DPT_TIME_WAIT));
		sim_advance(s, 2 * msl - 3);
		CHECK_STATE(DPT_TIME_WAIT, sim_state(b));
		CHECK_EQ(0, sim_stats(s, SIM_B)->tw_expired);
		sim_advance(s, 6);
		CHECK_STATE(DPT_CLOSED, sim_state(b));
		CHECK_EQ(0, sim_state_count(s, SIM_B, DPT_TIME_WAIT));
		CHECK_STAT(s, SIM_B, tw_expired, 1);
		sim_free(s);
	}
}

/* Engine A actively closes a connection to the raw peer and ends in
 * TIME_WAIT; returns the handle; rp's numbers are current. */
static struct sim_conn *raw_to_time_wait(struct sim *s, struct raw_peer *rp)
{
	struct sim_pkt p;
	struct sim_conn *c = raw_accept(s, rp, 7000, 50000, 1460, 0);
	CHECK_EQ(0, dpt_close(s->eng[SIM_A], c->c));
	sim_run(s);
	RAW_EXPECT(rp, &p);
	CHECK_SEG(&p.seg, F_FIN | F_ACK, rp->rcv_nxt, rp->snd_nxt);
	rp->rcv_nxt++;
	raw_ack(rp);
	CHECK_STATE(DPT_FIN_WAIT_2, sim_state(c));
	raw_send(rp, F_FIN | F_ACK, rp->snd_nxt, rp->rcv_nxt, NULL, 0);
	rp->snd_nxt++;
	RAW_EXPECT(rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp->rcv_nxt, rp->snd_nxt);
	CHECK_STATE(DPT_TIME_WAIT, sim_state(c));
	return c;
}

/* RFC 9293 §3.10.7.4 TIME-WAIT: "The only thing that can arrive in this
 * state is a retransmission of the remote FIN. Acknowledge it, and restart
 * the 2 MSL timeout." */
void test_time_wait_acks_retransmitted_fin(void)
{
	struct sim *s = mk_sim_raw();
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *c = raw_to_time_wait(s, &rp);
	sim_advance(s, 150);
	CHECK_STATE(DPT_TIME_WAIT, sim_state(c));
	raw_send(&rp, F_FIN | F_ACK, rp.snd_nxt - 1, rp.rcv_nxt, NULL, 0);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	/* restarted: still there past the original expiry (t = 200 ms) */
	sim_advance(s, 2 * MSL_MS - 10);
	CHECK_STATE(DPT_TIME_WAIT, sim_state(c));
	sim_advance(s, 20);
	CHECK_STATE(DPT_CLOSED, sim_state(c));
	RAW_EXPECT_NONE(&rp);
	sim_free(s);
}

/* RFC 1337 (TIME-WAIT assassination): a RST, even with the exact sequence
 * number, does not end TIME_WAIT early. */
void test_time_wait_ignores_rst(void)
{
	struct sim *s = mk_sim_raw();
	struct raw_peer rp;
	struct sim_conn *c = raw_to_time_wait(s, &rp);
	raw_send(&rp, F_RST, rp.snd_nxt, 0, NULL, 0);
	raw_send(&rp, F_RST | F_ACK, rp.snd_nxt, rp.rcv_nxt, NULL, 0);
	RAW_EXPECT_NONE(&rp);
	CHECK_STATE(DPT_TIME_WAIT, sim_state(c));
	sim_advance(s, 2 * MSL_MS - 10);
	CHECK_STATE(DPT_TIME_WAIT, sim_state(c));
	sim_advance(s, 20);
	CHECK_STATE(DPT_CLOSED, sim_state(c));
	CHECK_EQ(0, c->ev_count[DPT_EV_RESET]);
	sim_free(s);
}

/* RFC 6191 / RFC 1122 4.2.2.13: a SYN hitting a server's TIME_WAIT tuple
 * opens a new connection when its ISN is above the old rcv_nxt; an older
 * one does not. */
void test_time_wait_syn_with_higher_isn_opens(void)
{
	struct sim *s = mk_sim_raw();
	struct raw_peer rp;
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	raw_init(&rp, s, SIM_A, 40000, SRV_PORT);
	raw_handshake(&rp, 1000, 1460);
	struct sim_conn *a = l->accepted[0];
	CHECK_EQ(0, dpt_close(s->eng[SIM_A], a->c));
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_FIN | F_ACK, rp.rcv_nxt, rp.snd_nxt);
	rp.rcv_nxt++;
	raw_send(&rp, F_FIN | F_ACK, rp.snd_nxt, rp.rcv_nxt, NULL, 0);
	rp.snd_nxt++;
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_STATE(DPT_TIME_WAIT, sim_state(a));

	/* old ISN: no new connection */
	raw_send_mss(&rp, F_SYN, 500, 0, 1460);
	while (raw_pop(&rp, &p))
		CHECK_MSG(!(p.seg.flags & F_SYN), "SYN-ACK to a SYN older than the TIME_WAIT");
	CHECK_EQ(1, l->naccepted);
	CHECK_STATE(DPT_TIME_WAIT, sim_state(a));

	/* newer ISN: a new incarnation */
	uint32_t isn = rp.snd_nxt + 100000;
	raw_send_mss(&rp, F_SYN, isn, 0, 1460);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_SYN | F_ACK, p.seg.seq, isn + 1);
	CHECK_STAT(s, SIM_A, rx_syn_in_tw, 1);
	raw_send(&rp, F_ACK, isn + 1, p.seg.seq + 1, NULL, 0);
	CHECK_EQ(2, l->naccepted);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(l->accepted[1]));
	sim_free(s);
}

/* A listener can be reopened on a port whose connections sit in TIME_WAIT
 * (SO_REUSEADDR semantics for listeners), and new connections work. */
void test_listen_reopens_over_time_wait(void)
{
	struct sim *s = mk_sim();
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	CHECK_EQ(0, dpt_close(s->eng[SIM_A], a->c));
	sim_run(s);
	CHECK_EQ(0, dpt_close(s->eng[SIM_B], b->c));
	sim_run(s);
	CHECK_STATE(DPT_TIME_WAIT, sim_state(a));
	CHECK_EQ(0, dpt_unlisten(s->eng[SIM_A], 0, SRV_PORT));
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_LISTEN));
	int r;
	struct sim_listener *l2 = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	CHECK(l2 != NULL);
	CHECK_STATE(DPT_TIME_WAIT, sim_state(a));
	struct sim_conn *c2 = sim_connect(s, SIM_B, SIM_IP_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	SIM_RUN_UNTIL(s, sim_has_event(c2, DPT_EV_CONNECTED), 1000);
	CHECK(sim_has_event(c2, DPT_EV_CONNECTED));
	CHECK_EQ(1, l2->naccepted);
	/* a second listener on the same port is refused */
	CHECK(sim_listen(s, SIM_A, SRV_PORT, 0, &r) == NULL);
	CHECK_EQ(-EADDRINUSE, r);
	sim_free(s);
}

/* dpt.h: "Data arriving after close gets a RST" (RFC 1122 4.2.2.13, RFC
 * 2525 §2.17): the RST carries SEQ = SND.NXT so the peer accepts it. */
void test_data_after_close_gets_rst(void)
{
	struct sim *s = mk_sim();
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	CHECK_EQ(0, dpt_close(s->eng[SIM_A], a->c));
	sim_run(s);
	CHECK_STATE(DPT_FIN_WAIT_2, sim_state(a));
	CHECK_STATE(DPT_CLOSE_WAIT, sim_state(b));
	struct dpt_conn_info ia = info_of(a);
	unsigned int pos = sim_mark(s);
	CHECK_EQ(100, dpt_send(s->eng[SIM_B], b->c, "0123456789012345678901234567890123456789"
						       "0123456789012345678901234567890123456789"
						       "01234567890123456789", 100));
	sim_run(s);
	struct sim_seg data = NEXT_SEG(s, &pos, SIM_B);
	CHECK_EQ(100, data.len);
	struct sim_seg rst = NEXT_SEG(s, &pos, SIM_A);
	CHECK_MSG(rst.flags & F_RST, "expected a RST after data to a closed handle");
	CHECK_EQ(ia.snd_nxt, rst.seq);
	CHECK(!(rst.flags & (F_SYN | F_FIN)));
	CHECK(!a->alive);
	CHECK_STATE(DPT_CLOSED, sim_state(a));
	CHECK_EQ(1, b->ev_count[DPT_EV_RESET]);
	CHECK_STATE(DPT_CLOSED, sim_state(b));
	CHECK_EQ(0, a->rx_len);
	sim_free(s);
}

/* dpt_abort(): RST with SEQ = SND.NXT at once (RFC 9293 §3.10.5), no more
 * events for the handle; the peer hears DPT_EV_RESET. */
void test_abort_sends_rst(void)
{
	struct sim *s = mk_sim();
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	struct dpt_conn_info ib = info_of(b);
	unsigned int pos = sim_mark(s);
	unsigned int nevs = b->nevs;
	CHECK_EQ(0, dpt_abort(s->eng[SIM_B], b->c));
	CHECK_EQ(nevs, b->nevs);
	b->alive = false;
	b->c = NULL;
	sim_run(s);
	struct sim_seg rst = NEXT_SEG(s, &pos, SIM_B);
	CHECK_MSG(rst.flags & F_RST, "dpt_abort sent no RST");
	CHECK_EQ(ib.snd_nxt, rst.seq);
	CHECK_EQ(0, rst.len);
	NO_SEG(s, pos, -1);
	CHECK_EQ(nevs, b->nevs);
	CHECK_EQ(0, sim_state_count(s, SIM_B, DPT_ESTABLISHED));
	CHECK_EQ(1, a->ev_count[DPT_EV_RESET]);
	CHECK(!a->alive);
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_ESTABLISHED));
	CHECK_STAT(s, SIM_A, rx_rst_accepted, 1);
	CHECK_STAT(s, SIM_A, conn_reset, 1);
	sim_free(s);
}

/* fin_wait2_ms: after close() a FIN_WAIT_2 whose peer never sends its FIN
 * is ended once the timeout expires. */
void test_fin_wait_2_timeout(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.cfg[SIM_B].fin_wait2_ms = 500;
	struct sim *s = mk_sim_opts(&o);
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	CHECK_EQ(0, dpt_close(s->eng[SIM_B], b->c));
	sim_run(s);
	CHECK_STATE(DPT_FIN_WAIT_2, sim_state(b));
	sim_advance(s, 480);
	CHECK_STATE(DPT_FIN_WAIT_2, sim_state(b));
	sim_advance(s, 40);
	CHECK_MSG(sim_state(b) != DPT_FIN_WAIT_2, "still FIN_WAIT_2 20 ms after fin_wait2_ms");
	sim_advance(s, 2 * MSL_MS + 10);
	CHECK_STATE(DPT_CLOSED, sim_state(b));
	CHECK_EQ(0, sim_state_count(s, SIM_B, DPT_FIN_WAIT_2));
	CHECK(!b->alive);
	CHECK_EQ(1, b->ev_count[DPT_EV_CLOSED] + b->ev_count[DPT_EV_ERROR] +
			    b->ev_count[DPT_EV_RESET]);
	sim_free(s);
}

/* After dpt_shutdown() (FIN_WAIT_2), the peer's last data and its FIN
 * arrive together — one segment, or two in one burst — and the
 * connection goes to TIME_WAIT. The application must still get every
 * byte (dpt_recv() between poll iterations, as dpt.h allows) before the
 * handle goes away: "PEER_CLOSED: dpt_recv() returns 0 once drained". */
void test_fin_wait_2_data_with_fin_stays_readable(void)
{
	for (int variant = 0; variant < 2; variant++) {
		struct sim *s = mk_sim_raw();
		struct raw_peer rp;
		struct sim_pkt p;
		struct sim_conn *c = raw_accept(s, &rp, 7000, 3000, 1460, 0);
		CHECK_EQ(0, dpt_shutdown(s->eng[SIM_A], c->c));
		sim_run(s);
		RAW_EXPECT(&rp, &p);
		CHECK_SEG(&p.seg, F_FIN | F_ACK, rp.rcv_nxt, rp.snd_nxt);
		rp.rcv_nxt++;
		raw_ack(&rp);
		CHECK_STATE(DPT_FIN_WAIT_2, sim_state(c));
		static uint8_t d[300];
		sim_fill_pattern(d, sizeof(d), 33);
		if (variant == 0) {
			raw_send(&rp, F_FIN | F_PSH | F_ACK, rp.snd_nxt, rp.rcv_nxt, d, 300);
		} else {
			struct seg_spec sp = {
				.saddr = rp.ip, .daddr = SIM_IP_A, .sport = rp.port,
				.dport = rp.eng_port, .seq = rp.snd_nxt, .ack = rp.rcv_nxt,
				.flags = F_ACK | F_PSH, .win = 65535, .data = d, .len = 300,
			};
			sim_inject(s, &sp);
			sp.seq += 300;
			sp.flags = F_FIN | F_ACK;
			sp.len = 0;
			sim_inject(s, &sp);
			sim_run(s);
		}
		rp.snd_nxt += 301;
		RAW_EXPECT(&rp, &p);
		CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
		CHECK_EQ(1, c->ev_count[DPT_EV_PEER_CLOSED]);
		CHECK_MSG(c->rx_len == 300,
			  "variant %d: the application got %zu of the 300 bytes that came with the FIN "
			  "(events READABLE=%u PEER_CLOSED=%u CLOSED=%u)",
			  variant, c->rx_len, c->ev_count[DPT_EV_READABLE],
			  c->ev_count[DPT_EV_PEER_CLOSED], c->ev_count[DPT_EV_CLOSED]);
		CHECK_PATTERN(c->rx, 300, 33);
		sim_free(s);
	}
}
