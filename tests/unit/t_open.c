/* t_open.c — opening a connection: three-way handshake, simultaneous open,
 * SYN-RECEIVED and SYN-SENT rules (RFC 9293 §3.5, §3.10.7.3-4), SYN and
 * SYN-ACK retransmission limits, refusal, MSS negotiation (§3.7.1), ISN. */
#include "t_common.h"
#include "tests.h"

/* RFC 9293 §3.5 figure 6: SYN, SYN-ACK, ACK with exact seq/ack and MSS. */
void test_three_way_handshake(void)
{
	struct sim *s = mk_sim();
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	unsigned int pos = sim_mark(s);
	struct sim_conn *c = sim_connect(s, SIM_B, SIM_IP_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	CHECK(c != NULL);
	CHECK_STATE(DPT_SYN_SENT, sim_state(c));
	sim_run(s);

	struct sim_seg syn = NEXT_SEG(s, &pos, SIM_B);
	CHECK_FLAGS(&syn, F_SYN);
	CHECK_EQ(SRV_PORT, syn.dport);
	CHECK(syn.sport != 0);
	CHECK_EQ(c->lport, syn.sport);
	CHECK_EQ(0, syn.len);
	CHECK_EQ(1460, syn.mss);
	CHECK_EQ(65535, syn.win);

	struct sim_seg synack = NEXT_SEG(s, &pos, SIM_A);
	CHECK_SEG(&synack, F_SYN | F_ACK, synack.seq, syn.seq + 1);
	CHECK_EQ(syn.sport, synack.dport);
	CHECK_EQ(SRV_PORT, synack.sport);
	CHECK_EQ(0, synack.len);
	CHECK_EQ(1460, synack.mss);
	CHECK_EQ(65535, synack.win);

	struct sim_seg ack = NEXT_SEG(s, &pos, SIM_B);
	CHECK_SEG(&ack, F_ACK, syn.seq + 1, synack.seq + 1);
	CHECK_EQ(0, ack.len);
	NO_SEG(s, pos, -1);

	CHECK_EQ(1, c->ev_count[DPT_EV_CONNECTED]);
	CHECK_EQ(1, l->naccepted);
	struct sim_conn *a = l->accepted[0];
	CHECK_EQ(1, a->ev_count[DPT_EV_ACCEPTED]);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(c));
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	CHECK(c->states_seen & (1u << DPT_SYN_SENT));

	struct dpt_conn_info ib, ia;
	CHECK(sim_conn_info(c, &ib));
	CHECK(sim_conn_info(a, &ia));
	CHECK_EQ(syn.seq + 1, ib.snd_una);
	CHECK_EQ(syn.seq + 1, ib.snd_nxt);
	CHECK_EQ(synack.seq + 1, ib.rcv_nxt);
	CHECK_EQ(synack.seq + 1, ia.snd_una);
	CHECK_EQ(synack.seq + 1, ia.snd_nxt);
	CHECK_EQ(syn.seq + 1, ia.rcv_nxt);
	/* RFC 7323 §3.2 / RFC 6691: both SYNs carried timestamps, so every
	 * segment carries 12 option bytes: the payload MSS is 1460 - 12. */
	CHECK(syn.has_ts && synack.has_ts);
	CHECK_EQ(1448, ia.mss);
	CHECK_EQ(1448, ib.mss);
	CHECK_EQ(SIM_IP_A, ib.remote_ip);
	CHECK_EQ(SIM_IP_B, ib.local_ip);
	CHECK_EQ(SRV_PORT, ia.local_port);
	CHECK_EQ(syn.sport, ia.remote_port);
	CHECK_EQ(1, sim_stats(s, SIM_B)->conn_opened_active);
	CHECK_EQ(1, sim_stats(s, SIM_A)->conn_opened_passive);
	CHECK_EQ(1, sim_state_count(s, SIM_A, DPT_LISTEN));
	sim_free(s);
}

static enum sim_verdict hold_synacks(struct sim *s, const struct sim_seg *g, void *ctx)
{
	(void)s;
	(void)ctx;
	return (g->flags & (F_SYN | F_ACK)) == (F_SYN | F_ACK) ? SIM_HOLD : SIM_PASS;
}

/* RFC 9293 §3.5 figure 7: both SYNs cross; each side goes SYN-SENT →
 * SYN-RECEIVED and answers <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>; both end
 * ESTABLISHED and can exchange data. */
void test_simultaneous_open_via_syn_received(void)
{
	struct sim *s = mk_sim();
	int r;
	unsigned int pos = sim_mark(s);
	struct sim_conn *a = sim_connect(s, SIM_A, SIM_IP_B, 6000, 5000, &r);
	CHECK_EQ(0, r);
	struct sim_conn *b = sim_connect(s, SIM_B, SIM_IP_A, 5000, 6000, &r);
	CHECK_EQ(0, r);
	CHECK_STATE(DPT_SYN_SENT, sim_state(a));
	CHECK_STATE(DPT_SYN_SENT, sim_state(b));
	sim_set_filter(s, hold_synacks, NULL);
	sim_run(s);

	unsigned int pa = pos, pb = pos;
	struct sim_seg syn_a = NEXT_SEG(s, &pa, SIM_A);
	struct sim_seg syn_b = NEXT_SEG(s, &pb, SIM_B);
	CHECK_FLAGS(&syn_a, F_SYN);
	CHECK_FLAGS(&syn_b, F_SYN);
	CHECK_EQ(5000, syn_a.sport);
	CHECK_EQ(6000, syn_b.sport);
	CHECK_STATE(DPT_SYN_RECEIVED, sim_state(a));
	CHECK_STATE(DPT_SYN_RECEIVED, sim_state(b));
	CHECK_EQ(2, sim_nheld(s));

	struct sim_seg sa = NEXT_SEG(s, &pa, SIM_A);
	CHECK_SEG(&sa, F_SYN | F_ACK, syn_a.seq, syn_b.seq + 1);
	CHECK_EQ(1460, sa.mss);
	struct sim_seg sb = NEXT_SEG(s, &pb, SIM_B);
	CHECK_SEG(&sb, F_SYN | F_ACK, syn_b.seq, syn_a.seq + 1);
	CHECK_EQ(1460, sb.mss);

	sim_set_filter(s, NULL, NULL);
	sim_release_all(s);
	sim_run(s);
	SIM_RUN_UNTIL(s, sim_state(a) == DPT_ESTABLISHED && sim_state(b) == DPT_ESTABLISHED, 3000);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	CHECK_STATE(DPT_ESTABLISHED, sim_state(b));
	CHECK_EQ(1, a->ev_count[DPT_EV_CONNECTED]);
	CHECK_EQ(1, b->ev_count[DPT_EV_CONNECTED]);
	CHECK(a->states_seen & (1u << DPT_SYN_RECEIVED));
	CHECK(b->states_seen & (1u << DPT_SYN_RECEIVED));

	struct dpt_conn_info ia, ib;
	CHECK(sim_conn_info(a, &ia));
	CHECK(sim_conn_info(b, &ib));
	CHECK_EQ(syn_a.seq + 1, ia.snd_una);
	CHECK_EQ(syn_b.seq + 1, ia.rcv_nxt);
	CHECK_EQ(syn_b.seq + 1, ib.snd_una);
	CHECK_EQ(syn_a.seq + 1, ib.rcv_nxt);

	static uint8_t da[3000], db[2000];
	sim_fill_pattern(da, sizeof(da), 1);
	sim_fill_pattern(db, sizeof(db), 2);
	sim_conn_send(a, da, sizeof(da), 0);
	sim_conn_send(b, db, sizeof(db), 0);
	SIM_RUN_UNTIL(s, a->rx_len == sizeof(db) && b->rx_len == sizeof(da), 5000);
	CHECK_EQ(sizeof(da), b->rx_len);
	CHECK_EQ(sizeof(db), a->rx_len);
	CHECK_PATTERN(b->rx, b->rx_len, 1);
	CHECK_PATTERN(a->rx, a->rx_len, 2);
	sim_free(s);
}

/* RFC 9293 §3.10.7.4 (SYN-RECEIVED, RST) with RFC 5961 §3.2 (exact seq):
 * a connection that came from LISTEN goes back to LISTEN, the user is not
 * told, and the listener keeps accepting. */
void test_syn_received_rst_returns_to_listen(void)
{
	struct sim *s = mk_sim_raw();
	struct raw_peer rp;
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	raw_init(&rp, s, SIM_A, 40000, SRV_PORT);
	raw_send_mss(&rp, F_SYN, 1000, 0, 1460);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_SYN | F_ACK, p.seg.seq, 1001);
	CHECK_EQ(1, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));

	raw_send(&rp, F_RST, 1001, 0, NULL, 0);
	RAW_EXPECT_NONE(&rp);
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_ESTABLISHED));
	CHECK_EQ(1, sim_state_count(s, SIM_A, DPT_LISTEN));
	CHECK_EQ(0, l->naccepted);
	CHECK_EQ(0, s->stray_events);
	CHECK_STAT(s, SIM_A, rx_rst_accepted, 1);

	/* No SYN-ACK retransmission for the dead embryo. */
	sim_advance(s, 5000);
	RAW_EXPECT_NONE(&rp);

	/* The listener still works, on the same tuple too. */
	raw_handshake(&rp, 777777, 1460);
	CHECK_EQ(1, l->naccepted);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(l->accepted[0]));
	struct raw_peer rp2;
	raw_init(&rp2, s, SIM_A, 40001, SRV_PORT);
	raw_handshake(&rp2, 5, 1460);
	CHECK_EQ(2, l->naccepted);
	sim_free(s);
}

/* RFC 9293 §3.10.4 CLOSE in SYN-RECEIVED with nothing to send: "form a FIN
 * segment and send it, and enter FIN-WAIT-1 state". Reached by an active
 * open that receives a bare SYN (simultaneous open). */
void test_close_in_syn_received_goes_fin_wait_1(void)
{
	struct sim *s = mk_sim_raw();
	struct raw_peer rp;
	struct sim_pkt p;
	int r;
	raw_init(&rp, s, SIM_A, 7000, 0);
	struct sim_conn *c = sim_connect(s, SIM_A, rp.ip, 7000, 0, &r);
	CHECK_EQ(0, r);
	sim_run(s);
	CHECK(sim_raw_pop(s, &p));
	CHECK_FLAGS(&p.seg, F_SYN);
	uint32_t iss = p.seg.seq;
	rp.eng_port = p.seg.sport;

	raw_send_mss(&rp, F_SYN, 5000, 0, 1460);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_SYN | F_ACK, iss, 5001);
	CHECK_STATE(DPT_SYN_RECEIVED, sim_state(c));

	CHECK_EQ(0, dpt_close(s->eng[SIM_A], c->c));
	sim_run(s);
	CHECK_STATE(DPT_FIN_WAIT_1, sim_state(c));
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_FIN | F_ACK, iss + 1, 5001);
	CHECK_EQ(0, p.seg.len);

	raw_send(&rp, F_ACK, 5001, iss + 2, NULL, 0);
	CHECK_STATE(DPT_FIN_WAIT_2, sim_state(c));
	raw_send(&rp, F_FIN | F_ACK, 5001, iss + 2, NULL, 0);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, iss + 2, 5002);
	CHECK_STATE(DPT_TIME_WAIT, sim_state(c));
	sim_advance(s, 2 * 100 + 20);
	CHECK_STATE(DPT_CLOSED, sim_state(c));
	CHECK(sim_has_event(c, DPT_EV_CLOSED));
	CHECK(!sim_has_event(c, DPT_EV_RESET));
	CHECK(!sim_has_event(c, DPT_EV_ERROR));
	sim_free(s);
}

/* syn_retries SYN retransmissions, RTO doubling from rto_init (RFC 6298
 * §5.5), then DPT_EV_ERROR -ETIMEDOUT and CLOSED when the next timeout
 * expires. */
void test_syn_sent_gives_up_after_retries(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].syn_retries = 3;
	struct sim *s = mk_sim_opts(&o);
	int r;
	unsigned int pos = sim_mark(s);
	struct sim_conn *c = sim_connect(s, SIM_A, SIM_IP_RAW, 7000, 0, &r);
	CHECK_EQ(0, r);
	sim_run(s);
	SIM_RUN_UNTIL(s, !c->alive, 60000);
	CHECK_MSG(!c->alive, "connection still alive after 60 s of unanswered SYNs");

	uint64_t t[8];
	uint32_t iss = 0;
	unsigned int n = 0;
	const struct sim_seg *g;
	while ((g = sim_next_from(s, &pos, SIM_A)) != NULL) {
		CHECK_FLAGS(g, F_SYN);
		CHECK_EQ(1460, g->mss);
		if (n == 0)
			iss = g->seq;
		CHECK_EQ(iss, g->seq);
		CHECK(n < 8);
		t[n++] = g->t_us;
	}
	CHECK_EQ(4, n); /* 1 + syn_retries */
	uint64_t rto = 1000000;
	for (unsigned int i = 1; i < n; i++) {
		CHECK_CMP(t[i] - t[i - 1], >=, rto - 2000);
		CHECK_CMP(t[i] - t[i - 1], <=, rto + 2000);
		rto *= 2;
	}
	CHECK_EQ(1, c->ev_count[DPT_EV_ERROR]);
	CHECK_EQ(-ETIMEDOUT, c->last_err);
	CHECK_STATE(DPT_CLOSED, c->state_at_end);
	uint64_t terr = c->ev_t_us[c->nevs - 1];
	CHECK_CMP(terr, >=, t[n - 1] + rto - 2000);
	CHECK_CMP(terr, <=, t[n - 1] + rto + 2000);
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_SYN_SENT));
	CHECK_STAT(s, SIM_A, conn_timeout, 1);
	sim_free(s);
}

/* SYN-RECEIVED: the SYN-ACK is retransmitted synack_retries times with
 * backoff, then the embryo is dropped; a late ACK then meets the listener,
 * which answers <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.2). */
void test_synack_retransmitted_then_given_up(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].synack_retries = 2;
	struct sim *s = mk_sim_opts(&o);
	struct raw_peer rp;
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	raw_init(&rp, s, SIM_A, 40000, SRV_PORT);
	unsigned int pos = sim_mark(s);
	raw_send_mss(&rp, F_SYN, 1000, 0, 1460);
	sim_advance(s, 30000);

	uint64_t t[8];
	unsigned int n = 0;
	uint32_t iss = 0;
	const struct sim_seg *g;
	while ((g = sim_next_from(s, &pos, SIM_A)) != NULL) {
		CHECK_SEG(g, F_SYN | F_ACK, n ? iss : g->seq, 1001);
		CHECK_EQ(1460, g->mss);
		iss = g->seq;
		CHECK(n < 8);
		t[n++] = g->t_us;
	}
	CHECK_EQ(3, n); /* 1 + synack_retries */
	uint64_t d1 = t[1] - t[0], d2 = t[2] - t[1];
	CHECK_CMP(d1, >=, 200000 - 2000);
	CHECK_CMP(d1, <=, 1000000 + 2000);
	CHECK_CMP(d2, >=, 2 * d1 - 2000);
	CHECK_CMP(d2, <=, 2 * d1 + 2000);
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	CHECK_EQ(1, sim_state_count(s, SIM_A, DPT_LISTEN));
	CHECK_EQ(0, l->naccepted);

	sim_raw_clear(s);
	raw_send(&rp, F_ACK, 1001, iss + 1, NULL, 0);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG_NOACK(&p.seg, F_RST, iss + 1);
	CHECK_EQ(0, l->naccepted);
	sim_free(s);
}

/* RFC 9293 §3.10.7.1: a SYN to a port with no listener gets
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; the connecting side reports
 * -ECONNREFUSED and enters CLOSED (§3.10.7.3). */
void test_connect_refused(void)
{
	struct sim *s = mk_sim();
	int r;
	unsigned int pos = sim_mark(s);
	struct sim_conn *c = sim_connect(s, SIM_B, SIM_IP_A, 81, 0, &r);
	CHECK_EQ(0, r);
	sim_run(s);
	struct sim_seg syn = NEXT_SEG(s, &pos, SIM_B);
	CHECK_FLAGS(&syn, F_SYN);
	struct sim_seg rst = NEXT_SEG(s, &pos, SIM_A);
	CHECK_SEG(&rst, F_RST | F_ACK, 0, syn.seq + 1);
	CHECK_EQ(0, rst.len);
	CHECK_EQ(81, rst.sport);
	CHECK_EQ(syn.sport, rst.dport);
	CHECK(!c->alive);
	CHECK_EQ(1, c->ev_count[DPT_EV_ERROR]);
	CHECK_EQ(-ECONNREFUSED, c->last_err);
	CHECK_STATE(DPT_CLOSED, c->state_at_end);
	CHECK_STAT(s, SIM_A, rx_no_conn, 1);
	CHECK_STAT(s, SIM_A, tx_rst, 1);
	sim_advance(s, 5000);
	CHECK_EQ(1, sim_count_from(s, 0, SIM_B, F_SYN, F_SYN));
	CHECK_EQ(0, sim_state_count(s, SIM_B, DPT_SYN_SENT));
	sim_free(s);
}

/* RFC 9293 §3.10.7.3 SYN-SENT: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT,
 * send a reset <SEQ=SEG.ACK><CTL=RST> and discard the segment"; the
 * connection stays in SYN-SENT and completes with a proper SYN-ACK. */
void test_syn_sent_bad_ack_gets_rst(void)
{
	struct sim *s = mk_sim_raw();
	struct raw_peer rp;
	struct sim_pkt p;
	int r;
	raw_init(&rp, s, SIM_A, 7000, 0);
	struct sim_conn *c = sim_connect(s, SIM_A, rp.ip, 7000, 0, &r);
	CHECK_EQ(0, r);
	sim_run(s);
	CHECK(sim_raw_pop(s, &p));
	uint32_t iss = p.seg.seq;
	rp.eng_port = p.seg.sport;

	raw_send_mss(&rp, F_SYN | F_ACK, 9000, iss + 1000, 1460);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG_NOACK(&p.seg, F_RST, iss + 1000);
	CHECK_STATE(DPT_SYN_SENT, sim_state(c));

	raw_send_mss(&rp, F_SYN | F_ACK, 9000, iss, 1460);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG_NOACK(&p.seg, F_RST, iss);
	CHECK_STATE(DPT_SYN_SENT, sim_state(c));
	CHECK(c->alive);
	CHECK_EQ(0, c->nevs);

	raw_send_mss(&rp, F_SYN | F_ACK, 9000, iss + 1, 1460);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, iss + 1, 9001);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(c));
	CHECK_EQ(1, c->ev_count[DPT_EV_CONNECTED]);
	sim_free(s);
}

/* RFC 9293 §3.10.7.3 SYN-SENT + RFC 5961 §3: a RST is only believed when it
 * carries an ACK of our SYN; without ACK or with a wrong ACK it is dropped
 * (and never answered with a RST). */
void test_syn_sent_rst_needs_acceptable_ack(void)
{
	struct sim *s = mk_sim_raw();
	struct raw_peer rp;
	struct sim_pkt p;
	int r;
	raw_init(&rp, s, SIM_A, 7000, 0);
	struct sim_conn *c = sim_connect(s, SIM_A, rp.ip, 7000, 0, &r);
	CHECK_EQ(0, r);
	sim_run(s);
	CHECK(sim_raw_pop(s, &p));
	uint32_t iss = p.seg.seq;
	rp.eng_port = p.seg.sport;

	raw_send(&rp, F_RST, 0, 0, NULL, 0);
	RAW_EXPECT_NONE(&rp);
	CHECK_STATE(DPT_SYN_SENT, sim_state(c));
	raw_send(&rp, F_RST | F_ACK, 0, iss + 7, NULL, 0);
	RAW_EXPECT_NONE(&rp);
	CHECK_STATE(DPT_SYN_SENT, sim_state(c));
	raw_send(&rp, F_RST | F_ACK, 0, iss, NULL, 0);
	RAW_EXPECT_NONE(&rp);
	CHECK_STATE(DPT_SYN_SENT, sim_state(c));
	CHECK(c->alive);

	raw_send(&rp, F_RST | F_ACK, 0, iss + 1, NULL, 0);
	RAW_EXPECT_NONE(&rp);
	CHECK(!c->alive);
	CHECK_EQ(1, c->ev_count[DPT_EV_ERROR]);
	CHECK_EQ(-ECONNREFUSED, c->last_err);
	CHECK_STATE(DPT_CLOSED, c->state_at_end);
	sim_free(s);
}

/* MSS option = mtu - 40 on SYN and SYN-ACK; each side sends at most
 * min(peer's MSS, own mtu - 40) bytes per segment (RFC 9293 §3.7.1,
 * RFC 6691). A: mtu 1500, B: mtu 1000. */
void test_mss_option_sent_and_honoured(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.mtu[SIM_B] = 1000;
	struct sim *s = mk_sim_opts(&o);
	struct sim_conn *b, *a;
	unsigned int pos = sim_mark(s);
	pair_connect(s, &b, &a);
	struct sim_seg syn = NEXT_SEG(s, &pos, SIM_B);
	CHECK_FLAGS(&syn, F_SYN);
	CHECK_EQ(960, syn.mss);
	struct sim_seg synack = NEXT_SEG(s, &pos, SIM_A);
	CHECK_FLAGS(&synack, F_SYN | F_ACK);
	CHECK_EQ(1460, synack.mss);
	struct dpt_conn_info ia, ib;
	CHECK(sim_conn_info(a, &ia));
	CHECK(sim_conn_info(b, &ib));
	/* Timestamps negotiated: 12 option bytes per segment (RFC 6691). */
	CHECK_EQ(948, ia.mss);
	CHECK_EQ(948, ib.mss);

	static uint8_t da[20000], db[20000];
	sim_fill_pattern(da, sizeof(da), 3);
	sim_fill_pattern(db, sizeof(db), 4);
	unsigned int mark = sim_mark(s);
	sim_conn_send(a, da, sizeof(da), 0);
	sim_conn_send(b, db, sizeof(db), 0);
	SIM_RUN_UNTIL(s, a->rx_len == sizeof(db) && b->rx_len == sizeof(da), 10000);
	CHECK_EQ(sizeof(da), b->rx_len);
	CHECK_EQ(sizeof(db), a->rx_len);
	CHECK_PATTERN(b->rx, b->rx_len, 3);
	CHECK_PATTERN(a->rx, a->rx_len, 4);
	unsigned int full_a = 0, full_b = 0;
	for (unsigned int i = mark; i < sim_mark(s); i++) {
		const struct sim_seg *g = sim_trace(s, i);
		CHECK_MSG(g->len <= 948, "segment of %u bytes above the 948-byte payload MSS (#%u from %s)",
			  g->len, i, g->from == SIM_A ? "A" : "B");
		if (g->len == 948)
			*(g->from == SIM_A ? &full_a : &full_b) += 1;
	}
	CHECK_CMP(full_a, >, 0);
	CHECK_CMP(full_b, >, 0);
	sim_free(s);
}

/* RFC 9293 §3.7.1 / RFC 1122 4.2.2.6: no MSS option in the peer's SYN
 * means 536; our SYN-ACK still carries ours. */
void test_mss_default_536(void)
{
	struct sim *s = mk_sim_raw();
	struct raw_peer rp;
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	raw_init(&rp, s, SIM_A, 40000, SRV_PORT);
	struct sim_seg synack = raw_handshake(&rp, 1000, 0);
	CHECK_EQ(1460, synack.mss);
	CHECK_EQ(1, l->naccepted);
	struct sim_conn *a = l->accepted[0];
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(536, in.mss);

	static uint8_t d[3000];
	sim_fill_pattern(d, sizeof(d), 5);
	sim_conn_send(a, d, sizeof(d), 0);
	sim_run(s);
	uint8_t got[3000];
	size_t n = 0;
	unsigned int full = 0;
	for (int iter = 0; iter < 100 && n < sizeof(d); iter++) {
		while (raw_pop(&rp, &p)) {
			CHECK_MSG(p.seg.len <= 536, "segment of %u bytes above the default MSS 536",
				  p.seg.len);
			if (p.seg.len == 0)
				continue;
			CHECK_EQ(rp.rcv_nxt, p.seg.seq);
			memcpy(got + n, p.data, p.seg.len);
			n += p.seg.len;
			rp.rcv_nxt += p.seg.len;
			full += p.seg.len == 536;
		}
		raw_ack(&rp);
		sim_step(s);
	}
	CHECK_EQ(sizeof(d), n);
	CHECK_PATTERN(got, n, 5);
	CHECK_CMP(full, >, 0);
	sim_free(s);
}

/* RFC 6528: ISN = M + F(4-tuple, secret); connections on different tuples
 * get unrelated ISNs even with the same clock. */
void test_isn_differs_per_connection(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.isn_secret[SIM_A][0] = 0x0123456789abcdefULL;
	o.isn_secret[SIM_A][1] = 0xfedcba9876543210ULL;
	struct sim *s = mk_sim_opts(&o);
	struct sim_pkt p;
	int r;
	uint32_t isn[4];
	for (int i = 0; i < 4; i++) {
		CHECK(sim_connect(s, SIM_A, SIM_IP_RAW, (uint16_t)(7000 + i), 0, &r) != NULL);
		CHECK_EQ(0, r);
	}
	sim_run(s);
	for (int i = 0; i < 4; i++) {
		CHECK(sim_raw_pop(s, &p));
		CHECK_FLAGS(&p.seg, F_SYN);
		isn[i] = p.seg.seq;
	}
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			CHECK_MSG(isn[i] != isn[j], "ISN %u repeated on two tuples", isn[i]);
	/* Not a plain counter: the 4-tuple hash spreads them out. */
	int close = 0;
	for (int i = 1; i < 4; i++)
		close += (uint32_t)(isn[i] - isn[i - 1]) < 65536u;
	CHECK_CMP(close, <, 3);
	sim_free(s);
}

/* A retransmitted SYN in SYN_RECEIVED means our SYN-ACK was lost: the
 * same SYN-ACK (same ISS) goes out again, no second connection. */
void test_duplicate_syn_in_syn_received_resends_synack(void)
{
	struct sim *s = mk_sim_raw();
	struct raw_peer rp;
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	raw_init(&rp, s, SIM_A, 40000, SRV_PORT);
	raw_send_mss(&rp, F_SYN, 1000, 0, 1460);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_SYN | F_ACK, p.seg.seq, 1001);
	uint32_t iss = p.seg.seq;
	raw_send_mss(&rp, F_SYN, 1000, 0, 1460);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_SYN | F_ACK, iss, 1001);
	CHECK_EQ(1460, p.seg.mss);
	RAW_EXPECT_NONE(&rp);
	CHECK_EQ(1, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	raw_send(&rp, F_ACK, 1001, iss + 1, NULL, 0);
	CHECK_EQ(1, l->naccepted);
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	RAW_EXPECT_NONE(&rp);
	sim_free(s);
}

/* RFC 9293 §3.10.7.4 SYN-RECEIVED, fifth (ACK): "If the segment
 * acknowledgment is not acceptable, form a reset segment
 * <SEQ=SEG.ACK><CTL=RST> and send it"; the embryo stays and completes
 * with the right ACK. */
void test_syn_received_bad_ack_gets_rst(void)
{
	struct sim *s = mk_sim_raw();
	struct raw_peer rp;
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	raw_init(&rp, s, SIM_A, 40000, SRV_PORT);
	raw_send_mss(&rp, F_SYN, 1000, 0, 1460);
	RAW_EXPECT(&rp, &p);
	uint32_t iss = p.seg.seq;
	raw_send(&rp, F_ACK, 1001, iss + 100, NULL, 0);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG_NOACK(&p.seg, F_RST, iss + 100);
	raw_send(&rp, F_ACK, 1001, iss, NULL, 0);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG_NOACK(&p.seg, F_RST, iss);
	CHECK_EQ(1, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	CHECK_EQ(0, l->naccepted);
	raw_send(&rp, F_ACK, 1001, iss + 1, NULL, 0);
	RAW_EXPECT_NONE(&rp);
	CHECK_EQ(1, l->naccepted);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(l->accepted[0]));
	sim_free(s);
}

/* RFC 6528 §3: M is a timer ticking every 4 microseconds, so the same
 * tuple reopened 1 s (virtual) later starts 250000 higher. */
void test_isn_clock_advances_4us(void)
{
	struct sim *s = mk_sim_raw();
	struct sim_pkt p;
	int r;
	struct sim_conn *c = sim_connect(s, SIM_A, SIM_IP_RAW, 7000, 5555, &r);
	CHECK_EQ(0, r);
	sim_run(s);
	CHECK(sim_raw_pop(s, &p));
	CHECK_FLAGS(&p.seg, F_SYN);
	uint32_t isn1 = p.seg.seq;
	CHECK_EQ(0, dpt_abort(s->eng[SIM_A], c->c));
	c->alive = false;
	c->c = NULL;
	sim_raw_clear(s);
	sim_advance(s, 1000);
	c = sim_connect(s, SIM_A, SIM_IP_RAW, 7000, 5555, &r);
	CHECK_EQ(0, r);
	sim_run(s);
	CHECK(sim_raw_pop(s, &p));
	CHECK_FLAGS(&p.seg, F_SYN);
	CHECK_EQ(5555, p.seg.sport);
	CHECK_EQ(250000u, p.seg.seq - isn1);
	sim_free(s);
}
