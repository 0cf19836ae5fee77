/* t_limit.c — a server's limits: the SYN queue (syn_backlog), the accept
 * queue (listen backlog) and max_conns; over-limit openings are refused,
 * counted (listen_overflow, accept_overflow, conn_limit), and the engine
 * keeps working. */
#include "t_common.h"
#include "tests.h"

/* SYN queue bounded by syn_backlog: with syncookies = 0, SYNs beyond it
 * get no SYN-ACK and are counted listen_overflow; completing one handshake
 * frees a slot. (With cookies: test_syn_cookies_when_syn_queue_full.) */
void test_syn_backlog_limit(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].syn_backlog = 4;
	o.cfg[SIM_A].syncookies = 0;
	struct sim *s = mk_sim_opts(&o);
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	struct raw_peer rp[11];
	uint32_t synack_seq[11];
	unsigned int answered = 0;
	for (int i = 0; i < 10; i++) {
		raw_init(&rp[i], s, SIM_A, (uint16_t)(40000 + i), SRV_PORT);
		raw_send_mss(&rp[i], F_SYN, 1000u * (i + 1), 0, 1460);
		if (raw_pop(&rp[i], &p)) {
			CHECK_SEG(&p.seg, F_SYN | F_ACK, p.seg.seq, 1000u * (i + 1) + 1);
			synack_seq[i] = p.seg.seq;
			CHECK_MSG(i < 4, "SYN #%d answered beyond syn_backlog 4", i);
			answered++;
		} else {
			CHECK_MSG(i >= 4, "SYN #%d not answered within syn_backlog 4", i);
		}
	}
	CHECK_EQ(4, answered);
	CHECK_EQ(4, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	CHECK_STAT(s, SIM_A, listen_overflow, 6);

	raw_send(&rp[0], F_ACK, 1001, synack_seq[0] + 1, NULL, 0);
	CHECK_EQ(1, l->naccepted);
	CHECK_EQ(3, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	raw_init(&rp[10], s, SIM_A, 40010, SRV_PORT);
	raw_send_mss(&rp[10], F_SYN, 77, 0, 1460);
	RAW_EXPECT(&rp[10], &p);
	CHECK_SEG(&p.seg, F_SYN | F_ACK, p.seg.seq, 78);
	CHECK_EQ(4, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	sim_free(s);
}

/* The accept queue (dpt.h, dpt_listen_set_accepting): while the
 * application does not take connections, completed handshakes wait there,
 * at most `backlog` (2); a final ACK beyond it is dropped and counted
 * accept_overflow (the embryo stays in SYN_RECEIVED, no RST, as Linux),
 * and new SYNs are dropped (listen_overflow). Resuming delivers the queued
 * ones in order; the others complete when their SYN-ACK is retransmitted
 * and re-acked. */
void test_accept_backlog_limit(void)
{
	struct sim *s = mk_sim_raw();
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 2, &r);
	CHECK_EQ(0, r);
	CHECK_EQ(0, dpt_listen_set_accepting(s->eng[SIM_A], 0, SRV_PORT, 0));
	struct raw_peer rp[6];
	uint32_t synack_seq[5];
	for (int i = 0; i < 5; i++) {
		raw_init(&rp[i], s, SIM_A, (uint16_t)(41000 + i), SRV_PORT);
		raw_send_mss(&rp[i], F_SYN, 500u + i, 0, 1460);
		RAW_EXPECT(&rp[i], &p);
		CHECK_SEG(&p.seg, F_SYN | F_ACK, p.seg.seq, 501u + i);
		synack_seq[i] = p.seg.seq;
	}
	for (int i = 0; i < 5; i++) {
		raw_send(&rp[i], F_ACK, 501u + i, synack_seq[i] + 1, NULL, 0);
		RAW_EXPECT_NONE(&rp[i]);
	}
	CHECK_EQ(0, l->naccepted);
	CHECK_EQ(2, sim_state_count(s, SIM_A, DPT_ESTABLISHED));
	CHECK_EQ(3, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	CHECK_STAT(s, SIM_A, accept_overflow, 3);
	CHECK_STAT(s, SIM_A, tx_rst, 0);

	/* a new SYN while the accept queue is full: dropped */
	raw_init(&rp[5], s, SIM_A, 41005, SRV_PORT);
	raw_send_mss(&rp[5], F_SYN, 9999, 0, 1460);
	RAW_EXPECT_NONE(&rp[5]);
	CHECK_STAT(s, SIM_A, listen_overflow, 1);

	/* resume: the two queued ones, oldest first */
	CHECK_EQ(0, dpt_listen_set_accepting(s->eng[SIM_A], 0, SRV_PORT, 1));
	CHECK_EQ(2, l->naccepted);
	CHECK_EQ(41000, l->accepted[0]->rport);
	CHECK_EQ(41001, l->accepted[1]->rport);
	CHECK_EQ(0, s->stray_events);

	/* the refused three: SYN-ACK retransmitted, re-acked, accepted */
	for (int ms = 0; ms < 5000 && l->naccepted < 5; ms++) {
		sim_step(s);
		for (int i = 2; i < 5; i++) {
			while (raw_pop(&rp[i], &p)) {
				CHECK_SEG(&p.seg, F_SYN | F_ACK, synack_seq[i], 501u + i);
				raw_send(&rp[i], F_ACK, 501u + i, synack_seq[i] + 1, NULL, 0);
			}
		}
	}
	CHECK_EQ(5, l->naccepted);
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	for (unsigned int i = 0; i < l->naccepted; i++) {
		struct sim_conn *a = l->accepted[i];
		CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
		CHECK_EQ(5, dpt_send(s->eng[SIM_A], a->c, "hello", 5));
	}
	sim_run(s);
	unsigned int got = 0;
	for (int i = 0; i < 5; i++)
		while (raw_pop(&rp[i], &p))
			got += p.seg.len == 5;
	CHECK_EQ(5, got);
	sim_free(s);
}

/* max_conns bounds connections in all states: SYNs beyond it are refused
 * and counted conn_limit, dpt_connect() fails with a negative errno, and a
 * slot freed by an abort is reusable. */
void test_max_conns_limit(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].max_conns = 3;
	struct sim *s = mk_sim_opts(&o);
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	struct raw_peer rp[6];
	unsigned int answered = 0;
	for (int i = 0; i < 5; i++) {
		raw_init(&rp[i], s, SIM_A, (uint16_t)(42000 + i), SRV_PORT);
		raw_send_mss(&rp[i], F_SYN, 9000u + i, 0, 1460);
		if (raw_pop(&rp[i], &p)) {
			CHECK_FLAGS(&p.seg, F_SYN | F_ACK);
			CHECK_MSG((unsigned)i == answered, "SYN #%d answered after a refusal", i);
			answered++;
			raw_send(&rp[i], F_ACK, 9001u + i, p.seg.seq + 1, NULL, 0);
		}
	}
	CHECK_CMP(answered, <=, 3);
	CHECK_CMP(answered, >=, 2);
	CHECK_EQ(answered, l->naccepted);
	CHECK_EQ(5 - answered, sim_stats(s, SIM_A)->conn_limit);

	uint64_t lim = sim_stats(s, SIM_A)->conn_limit;
	int rc = 0;
	CHECK_MSG(sim_connect(s, SIM_A, SIM_IP_RAW, 7000, 0, &rc) == NULL,
		  "dpt_connect succeeded with max_conns (3) reached");
	CHECK_CMP(rc, <, 0);
	CHECK_EQ(lim + 1, sim_stats(s, SIM_A)->conn_limit);

	/* free one slot */
	struct sim_conn *a0 = l->accepted[0];
	CHECK_EQ(0, dpt_abort(s->eng[SIM_A], a0->c));
	a0->alive = false;
	a0->c = NULL;
	sim_run(s);
	sim_raw_clear(s);
	raw_init(&rp[5], s, SIM_A, 42010, SRV_PORT);
	raw_send_mss(&rp[5], F_SYN, 4242, 0, 1460);
	RAW_EXPECT(&rp[5], &p);
	CHECK_SEG(&p.seg, F_SYN | F_ACK, p.seg.seq, 4243);
	sim_free(s);
}
