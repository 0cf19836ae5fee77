/* t_rst.c — RST and SYN authenticity: RFC 5961 §3 (RST exact / in window /
 * outside), §4 (SYN in a synchronized state), and the RST a closed port
 * sends (RFC 9293 §3.10.7.1) or a listener sends to an ACK (§3.10.7.2). */
#include "t_common.h"
#include "tests.h"

/* RFC 5961 §3.2: RST with SEQ == RCV.NXT resets the connection; nothing
 * is sent back. */
void test_rst_exact_seq_accepted(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, true);
	static const uint8_t d[100] = {1, 2, 3};
	raw_data(&rp, d, sizeof(d));
	sim_raw_clear(s);
	raw_send(&rp, F_RST, rp.snd_nxt, 0, NULL, 0);
	RAW_EXPECT_NONE(&rp);
	CHECK(!a->alive);
	CHECK_EQ(1, a->ev_count[DPT_EV_RESET]);
	CHECK_STATE(DPT_CLOSED, sim_state(a));
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_ESTABLISHED));
	CHECK_STAT(s, SIM_A, rx_rst_accepted, 1);
	CHECK_STAT(s, SIM_A, conn_reset, 1);
	CHECK_STAT(s, SIM_A, tx_challenge_ack, 0);
	/* the tuple is free: a later segment meets a closed port */
	raw_send(&rp, F_ACK, rp.snd_nxt, rp.rcv_nxt, NULL, 0);
	struct sim_pkt p;
	RAW_EXPECT(&rp, &p);
	CHECK_SEG_NOACK(&p.seg, F_RST, rp.rcv_nxt);
	sim_free(s);
}

/* RFC 5961 §3.2: RST in the window but not exact → challenge ACK
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; the connection stays. */
void test_rst_in_window_challenged(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, true);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(rp.snd_nxt, in.rcv_nxt);
	CHECK_CMP(in.rcv_wnd, >, 1000);

	raw_send(&rp, F_RST, rp.snd_nxt + 1, 0, NULL, 0);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_EQ(0, p.seg.len);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));

	raw_send(&rp, F_RST | F_ACK, rp.snd_nxt + in.rcv_wnd - 1, rp.rcv_nxt, NULL, 0);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	CHECK(a->alive);
	CHECK_EQ(0, a->ev_count[DPT_EV_RESET]);
	CHECK_STAT(s, SIM_A, rx_rst_challenged, 2);
	CHECK_STAT(s, SIM_A, tx_challenge_ack, 2);
	CHECK_STAT(s, SIM_A, rx_rst_accepted, 0);

	/* still usable */
	static const uint8_t d[10] = "abcdefghi";
	raw_data(&rp, d, sizeof(d));
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_EQ(sizeof(d), a->rx_len);
	sim_free(s);
}

/* RFC 5961 §3.2 / RFC 9293 §3.10.7.4: a RST outside the window is dropped
 * silently. */
void test_rst_out_of_window_ignored(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, true);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	raw_send(&rp, F_RST, rp.snd_nxt + in.rcv_wnd, 0, NULL, 0);
	raw_send(&rp, F_RST, rp.snd_nxt - 1, 0, NULL, 0);
	raw_send(&rp, F_RST | F_ACK, rp.snd_nxt + 0x80000000u, rp.rcv_nxt, NULL, 0);
	raw_send(&rp, F_RST, rp.snd_nxt - 70000, 0, NULL, 0);
	RAW_EXPECT_NONE(&rp);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	CHECK(a->alive);
	CHECK_EQ(0, a->nevs - a->ev_count[DPT_EV_ACCEPTED]);
	CHECK_STAT(s, SIM_A, rx_rst_ignored, 4);
	CHECK_STAT(s, SIM_A, rx_rst_accepted, 0);
	CHECK_STAT(s, SIM_A, tx_challenge_ack, 0);
	sim_free(s);
}

/* RFC 5961 §4 / RFC 9293 §3.10.7.4 "fourth, check the SYN bit": a SYN in a
 * synchronized state gets a challenge ACK whatever its sequence number,
 * and the connection is not reset. */
void test_syn_in_established_challenge_ack(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, true);

	raw_send_mss(&rp, F_SYN, rp.snd_nxt + 10, 0, 1460);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	CHECK_STAT(s, SIM_A, rx_syn_challenged, 1);
	CHECK_STAT(s, SIM_A, tx_challenge_ack, 1);

	/* exactly at RCV.NXT (the most dangerous one) */
	raw_send_mss(&rp, F_SYN, rp.snd_nxt, 0, 1460);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);

	/* the old ISN (outside the window): an ACK as well */
	raw_send_mss(&rp, F_SYN, rp.iss, 0, 1460);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	CHECK(a->alive);
	CHECK_EQ(0, a->ev_count[DPT_EV_RESET] + a->ev_count[DPT_EV_ERROR]);
	CHECK_STAT(s, SIM_A, tx_rst, 0);
	sim_free(s);
}

/* RFC 9293 §3.10.7.1 (CLOSED): no ACK in the segment →
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; ACK set → <SEQ=SEG.ACK>
 * <CTL=RST>; a RST is never answered. SEG.LEN counts SYN and FIN. And
 * §3.10.7.2 (LISTEN): an ACK to a listener gets <SEQ=SEG.ACK><CTL=RST>. */
void test_rst_to_closed_port(void)
{
	struct sim *s = mk_sim_raw();
	struct raw_peer rp;
	struct sim_pkt p;
	static const uint8_t d[20] = "01234567890123456789";
	raw_init(&rp, s, SIM_A, 40000, 9);

	raw_send_mss(&rp, F_SYN, 1000, 0, 1460);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_RST | F_ACK, 0, 1001);
	CHECK_EQ(0, p.seg.len);
	CHECK_EQ(9, p.seg.sport);
	CHECK_EQ(40000, p.seg.dport);

	raw_send(&rp, F_PSH, 5000, 0, d, 10);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_RST | F_ACK, 0, 5010);

	raw_send(&rp, F_FIN, 7000, 0, d, 5);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_RST | F_ACK, 0, 7006);

	raw_send(&rp, F_ACK, 1, 12345, NULL, 0);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG_NOACK(&p.seg, F_RST, 12345);

	raw_send(&rp, F_ACK | F_PSH, 3, 0xfffffff0u, d, 20);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG_NOACK(&p.seg, F_RST, 0xfffffff0u);

	raw_send(&rp, F_RST, 1, 0, NULL, 0);
	raw_send(&rp, F_RST | F_ACK, 1, 2, NULL, 0);
	RAW_EXPECT_NONE(&rp);
	CHECK_STAT(s, SIM_A, rx_no_conn, 7);
	CHECK_STAT(s, SIM_A, tx_rst, 5);

	/* LISTEN: any ACK-bearing segment is bad */
	int r;
	CHECK(sim_listen(s, SIM_A, SRV_PORT, 0, &r) != NULL);
	struct raw_peer lp;
	raw_init(&lp, s, SIM_A, 40001, SRV_PORT);
	raw_send(&lp, F_ACK, 77, 4242, NULL, 0);
	RAW_EXPECT(&lp, &p);
	CHECK_SEG_NOACK(&p.seg, F_RST, 4242);
	raw_send(&lp, F_RST, 77, 0, NULL, 0);
	RAW_EXPECT_NONE(&lp);
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	sim_free(s);
}

/* RFC 5961 §7: challenge ACKs are rate-limited (TCP_CHALLENGE_ACK_PER_S,
 * 1000 a second per engine), so a blind attacker cannot use them as an
 * amplifier; the budget comes back the next second. */
void test_challenge_ack_rate_limited(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	raw_established(&s, &rp, 1000, NULL, true);
	uint64_t base = sim_stats(s, SIM_A)->tx_challenge_ack;
	for (int i = 0; i < 1100; i++) {
		struct seg_spec sp = {
			.saddr = rp.ip, .daddr = SIM_IP_A, .sport = rp.port, .dport = SRV_PORT,
			.seq = rp.snd_nxt + 1 + (uint32_t)i, .flags = F_RST, .win = 65535,
		};
		sim_inject(s, &sp);
	}
	sim_run(s);
	unsigned int n = 0;
	while (raw_pop(&rp, &p))
		n++;
	const struct tcp_stats *st = sim_stats(s, SIM_A);
	CHECK_EQ(1100, st->rx_rst_challenged);
	CHECK_CMP(st->tx_challenge_ack - base, <=, 1000);
	CHECK_EQ(1100, st->tx_challenge_ack - base + st->challenge_ack_limited);
	CHECK_CMP(n, <=, 1000);
	CHECK_CMP(n, >=, 1);
	sim_advance(s, 1000);
	raw_send(&rp, F_RST, rp.snd_nxt + 5, 0, NULL, 0);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	sim_free(s);
}
