/* t_timer.c — retransmission (RFC 6298): exponential backoff, the abort
 * after data_retries, and Karn's rule (no RTT sample from a retransmitted
 * segment). The raw peer controls every ACK's timing. */
#include "t_common.h"
#include "tests.h"

/* Engine A connected to the raw peer with a handshake RTT of rtt_ms. */
static struct sim_conn *setup(struct sim **sp, struct raw_peer *rp, uint32_t data_retries,
			      uint32_t rtt_ms)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].data_retries = data_retries;
	/* These tests time the RTO itself; a tail loss probe (RFC 8985 §7)
	 * would come first at 2*SRTT: its own tests are in t_loss.c. */
	o.cfg[SIM_A].tlp = 0;
	struct sim *s = mk_sim_opts(&o);
	*sp = s;
	return raw_accept(s, rp, 7000, 90000, 1460, rtt_ms);
}

/* Times of the data segments (len > 0) A sent since pos. */
static unsigned int data_times(struct sim *s, unsigned int pos, uint64_t *t, unsigned int max,
			       uint32_t seq, uint16_t len)
{
	unsigned int n = 0;
	const struct sim_seg *g;
	while ((g = sim_next_from(s, &pos, SIM_A)) != NULL) {
		if (g->len == 0)
			continue;
		CHECK_SEG(g, F_ACK, seq, g->ack);
		CHECK_EQ(len, g->len);
		if (n < max)
			t[n] = g->t_us;
		n++;
	}
	return n;
}

/* RFC 6298 §5.5: each expiry doubles the RTO; the retransmission is the
 * same segment (same seq, same length). */
void test_retransmit_backoff_doubles(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *c = setup(&s, &rp, 8, 50);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(c, &in));
	uint64_t rto = in.rto_us;
	CHECK_CMP(rto, >=, 200000); /* rto_min */
	CHECK_CMP(rto, <=, 1000000);
	unsigned int pos = sim_mark(s);
	static uint8_t d[100];
	CHECK_EQ(100, dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	uint64_t total = 0;
	for (int i = 0; i < 5; i++)
		total += rto << i;
	sim_advance(s, (uint32_t)(total / 1000) + 50);
	uint64_t t[16];
	unsigned int n = data_times(s, pos, t, 16, rp.rcv_nxt, 100);
	CHECK_CMP(n, >=, 6);
	for (unsigned int i = 1; i < 6; i++) {
		uint64_t want = rto << (i - 1);
		CHECK_MSG(t[i] - t[i - 1] + 2000 >= want && t[i] - t[i - 1] <= want + 2000,
			  "retransmission %u came %" PRIu64 " us after the previous one, expected %" PRIu64
			  " (RTO %" PRIu64 " doubled %u times)",
			  i, t[i] - t[i - 1], want, rto, i - 1);
	}
	CHECK(sim_conn_info(c, &in));
	CHECK_CMP(in.retransmits, >=, 5);
	CHECK_CMP(sim_stats(s, SIM_A)->retransmits, >=, 5);
	CHECK_CMP(sim_stats(s, SIM_A)->rto_expired, >=, 5);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(c));
	/* an ACK ends it; the RTO is recomputed from a later clean sample */
	raw_send(&rp, F_ACK, rp.snd_nxt, rp.rcv_nxt + 100, NULL, 0);
	unsigned int p2 = sim_mark(s);
	sim_advance(s, 120000);
	NO_SEG(s, p2, SIM_A);
	sim_free(s);
}

/* data_retries retransmissions, then DPT_EV_ERROR -ETIMEDOUT when the
 * next RTO expires; the connection is gone. */
void test_data_retries_abort(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *c = setup(&s, &rp, 3, 50);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(c, &in));
	uint64_t rto = in.rto_us;
	unsigned int pos = sim_mark(s);
	static uint8_t d[100];
	CHECK_EQ(100, dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	SIM_RUN_UNTIL(s, !c->alive, 120000);
	CHECK(!c->alive);
	uint64_t t[16];
	unsigned int n = data_times(s, pos, t, 16, rp.rcv_nxt, 100);
	CHECK_EQ(4, n); /* original + data_retries */
	CHECK_EQ(1, c->ev_count[DPT_EV_ERROR]);
	CHECK_EQ(-ETIMEDOUT, c->last_err);
	uint64_t terr = c->ev_t_us[c->nevs - 1];
	uint64_t want = rto << 3;
	CHECK_MSG(terr - t[3] + 2000 >= want && terr - t[3] <= want + 2000,
		  "abort %" PRIu64 " us after the last retransmission, expected %" PRIu64, terr - t[3],
		  want);
	CHECK_STATE(DPT_CLOSED, sim_state(c));
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_ESTABLISHED));
	CHECK_STAT(s, SIM_A, conn_timeout, 1);
	CHECK_STAT(s, SIM_A, retransmits, 3);
	sim_free(s);
}

/* Karn's algorithm (RFC 6298 §3): an ACK for a retransmitted segment is
 * ambiguous and gives no RTT sample; the next clean one does. */
void test_karn_no_rtt_sample_from_retransmit(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *c = setup(&s, &rp, 8, 20);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(c, &in));
	uint32_t srtt0 = in.srtt_us;
	static uint8_t d[100];
	sim_raw_clear(s);
	CHECK_EQ(100, dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(100, p.seg.len);
	unsigned int pos = sim_mark(s);
	/* wait for the retransmission */
	SIM_RUN_UNTIL(s, sim_count_from(s, pos, SIM_A, 0, 0) > 0, 5000);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(100, p.seg.len);
	CHECK_EQ(rp.rcv_nxt, p.seg.seq);
	sim_advance(s, 5);
	raw_send(&rp, F_ACK, rp.snd_nxt, rp.rcv_nxt + 100, NULL, 0);
	rp.rcv_nxt += 100;
	CHECK(sim_conn_info(c, &in));
	CHECK_EQ(rp.rcv_nxt, in.snd_una);
	CHECK_MSG(in.srtt_us == srtt0,
		  "srtt changed from %u to %u us on the ACK of a retransmitted segment", srtt0,
		  in.srtt_us);

	/* a clean sample of 40 ms moves srtt */
	sim_raw_clear(s);
	CHECK_EQ(100, dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(100, p.seg.len);
	sim_advance(s, 40);
	raw_send(&rp, F_ACK, rp.snd_nxt, rp.rcv_nxt + 100, NULL, 0);
	CHECK(sim_conn_info(c, &in));
	CHECK_MSG(in.srtt_us != srtt0, "srtt stayed %u us after a clean 40 ms sample", srtt0);
	if (srtt0 != 0) {
		/* RFC 6298 §2.3: srtt = 7/8 srtt + 1/8 R */
		uint32_t want = srtt0 - srtt0 / 8 + 40000 / 8;
		CHECK_CMP(in.srtt_us, >=, want - 1500);
		CHECK_CMP(in.srtt_us, <=, want + 1500);
	}
	sim_free(s);
}

/* RFC 5681 §3.1: after an RTO "cwnd MUST be set to no more than the loss window, LW, which
 * equals 1 full-sized segment": one segment is retransmitted, and once it
 * is acked slow start sends two. */
void test_rto_collapses_cwnd_to_one_segment(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *c = setup(&s, &rp, 8, 10);
	static uint8_t d[30 * 1460];
	CHECK_EQ(sizeof(d), dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	unsigned int n = 0;
	uint32_t una = rp.rcv_nxt;
	while (raw_pop(&rp, &p))
		n++; /* the initial window: test_initial_window_rfc6928 */
	CHECK_CMP(n, >=, 2);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(c, &in));
	SIM_RUN_UNTIL(s, sim_raw_pending(s) > 0, in.rto_us / 1000 + 10);
	sim_advance(s, 20);
	n = 0;
	while (raw_pop(&rp, &p)) {
		CHECK_SEG(&p.seg, F_ACK, una, rp.snd_nxt);
		CHECK_EQ(1460, p.seg.len);
		n++;
	}
	CHECK_EQ(1, n);
	raw_send(&rp, F_ACK, rp.snd_nxt, una + 1460, NULL, 0);
	n = 0;
	while (raw_pop(&rp, &p)) {
		CHECK_EQ(una + 1460 + n * 1460, p.seg.seq);
		n++;
	}
	CHECK_EQ(2, n);
	sim_free(s);
}

/* RFC 6928 / RFC 5681 §3.1: the first flight is IW = min(10*MSS,
 * max(2*MSS, 14600)) = 10 segments of 1460 — and nothing more: the ACK of
 * our SYN acknowledges no data and must not grow cwnd. */
void test_initial_window_rfc6928(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *c = setup(&s, &rp, 8, 10);
	static uint8_t d[30 * 1460];
	CHECK_EQ(sizeof(d), dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	unsigned int n = 0;
	uint32_t una = rp.rcv_nxt, bytes = 0;
	while (raw_pop(&rp, &p)) {
		CHECK_EQ(una + bytes, p.seg.seq);
		CHECK_MSG(p.seg.len == 1460, "segment %u of the initial window has %u bytes", n,
			  p.seg.len);
		bytes += p.seg.len;
		n++;
	}
	CHECK_EQ(10, n);
	CHECK_EQ(14600, bytes);
	sim_free(s);
}

/* After a timeout snd_nxt goes back to snd_una to resend, but a pure ACK
 * still carries the highest sequence number sent (the RFC's SND.NXT): the
 * peer may already hold that data, and a pure ACK below its RCV.NXT is
 * unacceptable to it (RFC 9293 §3.10.7.4) — two such peers trade ACKs
 * without ever processing one another's ACK field. */
void test_pure_ack_after_rto_carries_snd_max(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *c = setup(&s, &rp, 8, 50);
	static uint8_t d[3000];
	struct sim_pkt p;
	uint32_t una = rp.rcv_nxt;
	bool rexmit = false;

	CHECK_EQ(3000, dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	sim_raw_clear(s);
	sim_advance(s, 300);                 /* one RTO (rto_min 200 ms) */
	while (raw_pop(&rp, &p))
		rexmit |= p.seg.seq == una && p.seg.len > 0;
	CHECK_MSG(rexmit, "no retransmission from snd_una after the RTO");
	/* An old duplicate from the peer draws a pure ACK at once. */
	raw_send(&rp, F_ACK | F_PSH, rp.snd_nxt - 10, una, d, 10);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, una + 3000, rp.snd_nxt);
	sim_raw_clear(s);
	sim_free(s);
}

/* A peer that shrinks its window to zero with data in flight is alive:
 * the timer probes it (RFC 1122 §4.2.2.17) for as long as it answers, and
 * never counts towards data_retries; when the window opens the rest goes. */
void test_zero_window_shrink_probes_not_abort(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *c = setup(&s, &rp, 3, 50);
	static uint8_t d[3000];
	struct sim_pkt p;
	uint32_t una = rp.rcv_nxt;
	unsigned int probes = 0;
	bool resent = false;

	CHECK_EQ(3000, dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	sim_raw_clear(s);
	rp.win = 0;                          /* takes 1000 bytes, then shrinks */
	raw_send(&rp, F_ACK, rp.snd_nxt, una + 1000, NULL, 0);
	for (int i = 0; i < 120; i++) {      /* two minutes, data_retries = 3 */
		sim_advance(s, 1000);
		while (raw_pop(&rp, &p)) {
			probes++;
			raw_send(&rp, F_ACK, rp.snd_nxt, una + 1000, NULL, 0);
		}
	}
	CHECK_CMP(probes, >=, 4);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(c));
	CHECK_STAT(s, SIM_A, conn_timeout, 0);
	rp.win = 65535;
	raw_send(&rp, F_ACK, rp.snd_nxt, una + 1000, NULL, 0);
	while (raw_pop(&rp, &p))
		resent |= p.seg.seq == una + 1000 && p.seg.len > 0;
	CHECK_MSG(resent, "no data from snd_una once the window opened");
	sim_raw_clear(s);
	sim_free(s);
}

static int unlisten_accepted;

static void unlisten_on_accept(struct tcp_engine *eng, struct tcp_conn *c,
			       enum dpt_event ev, int err, void *user)
{
	if (ev == DPT_EV_ACCEPTED) {
		unlisten_accepted++;
		CHECK_EQ(0, dpt_unlisten(eng, 0, 80));
	}
}

/* dpt_unlisten() from the listener's own ACCEPTED callback: the accepted
 * connection stays, the listener is gone (a new SYN gets a RST), and the
 * listener's memory is not touched after the call. */
void test_unlisten_inside_accept_callback(void)
{
	struct sim_opts o;
	struct raw_peer rp, rp2;
	struct sim_pkt p;

	sim_opts_default(&o);
	o.with_b = false;
	struct sim *s = mk_sim_opts(&o);
	unlisten_accepted = 0;
	CHECK_EQ(0, dpt_listen(s->eng[SIM_A], 0, 80, 0, unlisten_on_accept, NULL));
	raw_init(&rp, s, SIM_A, 40000, 80);
	raw_send(&rp, F_SYN, 5000, 0, NULL, 0);
	RAW_EXPECT(&rp, &p);
	CHECK_FLAGS(&p.seg, F_SYN | F_ACK);
	rp.rcv_nxt = p.seg.seq + 1;
	raw_send(&rp, F_ACK, 5001, rp.rcv_nxt, NULL, 0);
	CHECK_EQ(1, unlisten_accepted);
	CHECK_EQ(1, sim_state_count(s, SIM_A, DPT_ESTABLISHED));
	raw_init(&rp2, s, SIM_A, 40001, 80);
	raw_send(&rp2, F_SYN, 9000, 0, NULL, 0);
	RAW_EXPECT(&rp2, &p);
	CHECK_FLAGS(&p.seg, F_RST | F_ACK);
	sim_raw_clear(s);
	sim_free(s);
}

/* Time from sending 100 bytes to their first retransmission (no ACK). */
static uint64_t first_rto_us(struct sim *s, struct sim_conn *c, struct raw_peer *rp)
{
	static uint8_t d[100];
	struct sim_pkt p;
	sim_raw_clear(s);
	unsigned int pos = sim_mark(s);
	CHECK_EQ(100, dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	RAW_EXPECT(rp, &p);
	CHECK_EQ(100, p.seg.len);
	uint64_t t0 = p.seg.t_us;
	SIM_RUN_UNTIL(s, sim_count_from(s, pos, SIM_A, 0, 0) > 1, 10000);
	uint64_t t[2];
	CHECK_EQ(2, data_times(s, pos, t, 2, rp->rcv_nxt, 100));
	CHECK_EQ(t0, t[0]);
	return t[1] - t[0];
}

/* RFC 6298 §5.7: after the SYN (active open) or the SYN-ACK (passive)
 * was retransmitted, the data's RTO is 3 s — the handshake gave no RTT
 * sample (Karn, no timestamps). A clean handshake's sample gives the
 * usual RTO (rto_min 200 ms here). */
void test_rto_3s_after_syn_retransmitted(void)
{
	struct sim *s;
	struct raw_peer rp;
	/* clean active open, 20 ms: RTO from the sample */
	struct sim_conn *c = setup(&s, &rp, 8, 20);
	uint64_t d = first_rto_us(s, c, &rp);
	CHECK_CMP(d, >=, 200000 - 2000);
	CHECK_CMP(d, <=, 300000);
	CHECK_STAT(s, SIM_A, rto_syn_fallback, 0);
	sim_free(s);

	/* the SYN-ACK comes 1.1 s late: the SYN went twice */
	c = setup(&s, &rp, 8, 1100);
	CHECK_STAT(s, SIM_A, rto_syn_fallback, 1);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(c, &in));
	CHECK_EQ(0, in.srtt_us);
	d = first_rto_us(s, c, &rp);
	CHECK_CMP(d, >=, 3000000 - 2000);
	CHECK_CMP(d, <=, 3000000 + 2000);
	sim_free(s);

	/* passive: the ACK of the SYN-ACK comes after its retransmission */
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].tlp = 0;
	s = mk_sim_opts(&o);
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	raw_init(&rp, s, SIM_A, 40000, SRV_PORT);
	struct sim_pkt p;
	raw_send_mss(&rp, F_SYN, 5000, 0, 1460);
	RAW_EXPECT(&rp, &p);
	CHECK_FLAGS(&p.seg, F_SYN | F_ACK);
	rp.irs = p.seg.seq;
	rp.rcv_nxt = p.seg.seq + 1;
	rp.snd_nxt = 5001;
	unsigned int pos = sim_mark(s);
	SIM_RUN_UNTIL(s, sim_count_from(s, pos, SIM_A, 0, 0) > 0, 5000);
	CHECK_STAT(s, SIM_A, rto_syn_fallback, 0);
	raw_send(&rp, F_ACK, rp.snd_nxt, rp.rcv_nxt, NULL, 0);
	CHECK_EQ(1, l->naccepted);
	CHECK_STAT(s, SIM_A, rto_syn_fallback, 1);
	d = first_rto_us(s, l->accepted[0], &rp);
	CHECK_CMP(d, >=, 3000000 - 2000);
	CHECK_CMP(d, <=, 3000000 + 2000);
	sim_free(s);
}
