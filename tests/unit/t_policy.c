/* t_policy.c — when to send (issue 6): Nagle and DPT_OPT_NODELAY, the
 * delayed-ACK exceptions, receiver SWS avoidance, persist backoff,
 * keepalive, the FIN_WAIT_2 timeout and the per-connection option API.
 * Mostly against the raw peer, which controls every ACK's timing. */
#include "t_common.h"
#include "tcp_seq.h"
#include "tests.h"
#include "tcp_internal.h"

/* Engine A actively connected to the raw peer (handshake RTT 0), with
 * its config changed by the caller through o (NULL: defaults). */
static struct sim_conn *raw_conn(struct sim **sp, struct raw_peer *rp,
				 const struct sim_opts *o)
{
	struct sim_opts d;
	if (o == NULL) {
		sim_opts_default(&d);
		o = &d;
	}
	struct sim_opts oo = *o;
	oo.with_b = false;
	struct sim *s = mk_sim_opts(&oo);
	*sp = s;
	return raw_accept(s, rp, 7000, 5000, 1460, 0);
}

/* RFC 9293 §3.7.4 / RFC 1122 §4.2.3.4, Minshall's variant (RFC 9293
 * Appendix A.3): a small segment goes at once when nothing small is in
 * flight; further small writes wait until it is acknowledged and then go
 * as one segment; full segments never wait, nor does the tail of a large
 * write when no small segment is outstanding. */
void test_nagle_holds_small_segment_until_acked(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *c = raw_conn(&s, &rp, NULL);
	struct tcp_engine *eng = s->eng[SIM_A];
	static uint8_t d[4000];
	sim_fill_pattern(d, sizeof(d), 71);
	int v = -1;
	CHECK_EQ(0, dpt_getopt(eng, c->c, DPT_OPT_NODELAY, &v));
	CHECK_EQ(0, v); /* Nagle on by default */
	uint32_t una = rp.rcv_nxt;

	CHECK_EQ(100, dpt_send(eng, c->c, d, 100));
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, una, rp.snd_nxt);
	CHECK_EQ(100, p.seg.len);
	/* two more small writes while the first is unacknowledged: held */
	CHECK_EQ(50, dpt_send(eng, c->c, d + 100, 50));
	CHECK_EQ(30, dpt_send(eng, c->c, d + 150, 30));
	sim_run(s);
	sim_advance(s, 100); /* less than the RTO: time alone releases nothing */
	RAW_EXPECT_NONE(&rp);
	CHECK_CMP(sim_stats(s, SIM_A)->nagle_delayed, >=, 1);
	/* the ACK releases both writes as one segment */
	raw_send(&rp, F_ACK, rp.snd_nxt, una + 100, NULL, 0);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, una + 100, rp.snd_nxt);
	CHECK_EQ(80, p.seg.len);
	CHECK(memcmp(p.data, d + 100, 80) == 0);
	RAW_EXPECT_NONE(&rp);
	raw_send(&rp, F_ACK, rp.snd_nxt, una + 180, NULL, 0);
	RAW_EXPECT_NONE(&rp);

	/* a large write: two full segments and its 80-byte tail, all at once */
	CHECK_EQ(3000, dpt_send(eng, c->c, d + 180, 3000));
	sim_run(s);
	uint16_t lens[3] = { 1460, 1460, 80 };
	for (int i = 0; i < 3; i++) {
		RAW_EXPECT(&rp, &p);
		CHECK_SEG(&p.seg, F_ACK, una + 180 + (uint32_t)i * 1460, rp.snd_nxt);
		CHECK_EQ(lens[i], p.seg.len);
	}
	/* but a small write behind that unacknowledged tail waits for it */
	CHECK_EQ(10, dpt_send(eng, c->c, d + 3180, 10));
	sim_run(s);
	RAW_EXPECT_NONE(&rp);
	raw_send(&rp, F_ACK, rp.snd_nxt, una + 3180, NULL, 0);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, una + 3180, rp.snd_nxt);
	CHECK_EQ(10, p.seg.len);
	sim_free(s);
}

/* While our ACKs carry a SACK block (the peer's data arrived out of
 * order), a segment holds the MSS less the block's 12 bytes: that is a
 * full segment, and Nagle must not hold the next one behind it (it did:
 * against Linux with 2 % loss, one 1436-byte segment per delayed ACK of
 * the peer, 40 ms each, after one of its small replies was lost). */
void test_nagle_full_segment_is_mss_less_sack_blocks(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *c = raw_conn(&s, &rp, NULL);
	struct tcp_engine *eng = s->eng[SIM_A];
	static uint8_t d[4000];
	uint32_t una = rp.rcv_nxt;
	uint8_t byte = 'x';

	c->c->sack_ok = true;          /* what option negotiation sets */
	/* one byte of the peer's is missing, the next one arrives */
	rp.snd_nxt++;
	raw_data(&rp, &byte, 1);
	RAW_EXPECT(&rp, &p);           /* the duplicate ACK, with a SACK block */
	CHECK_EQ(1, p.seg.nsack);
	sim_fill_pattern(d, sizeof(d), 73);
	CHECK_EQ(sizeof(d), dpt_send(eng, c->c, d, sizeof(d)));
	sim_run(s);
	/* 1448, 1448 and the 1104-byte tail, at once, no ACK needed */
	uint16_t lens[3] = { 1448, 1448, 1104 };
	uint32_t off = 0;
	for (int i = 0; i < 3; i++) {
		RAW_EXPECT(&rp, &p);
		CHECK_SEG(&p.seg, F_ACK, una + off, rp.snd_nxt - 2);
		CHECK_EQ(lens[i], p.seg.len);
		CHECK_EQ(1, p.seg.nsack);
		CHECK(memcmp(p.data, d + off, lens[i]) == 0);
		off += lens[i];
	}
	RAW_EXPECT_NONE(&rp);
	CHECK_STAT(s, SIM_A, nagle_delayed, 0);
	sim_raw_clear(s);
	sim_free(s);
}

/* RFC 9293 §3.7.4 (MUST-17): Nagle can be turned off per connection.
 * Turning it off sends what it held; afterwards small writes go at once.
 * [tcp] nodelay = 1 makes it the default; bad calls get Linux's errors. */
void test_nodelay_sends_small_segments_at_once(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *c = raw_conn(&s, &rp, NULL);
	struct tcp_engine *eng = s->eng[SIM_A];
	static uint8_t d[300];
	uint32_t una = rp.rcv_nxt;
	int v = -1;

	CHECK_EQ(100, dpt_send(eng, c->c, d, 100));
	CHECK_EQ(50, dpt_send(eng, c->c, d + 100, 50));
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(100, p.seg.len);
	RAW_EXPECT_NONE(&rp); /* the 50 are held */
	CHECK_EQ(0, dpt_setopt(eng, c->c, DPT_OPT_NODELAY, 1));
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, una + 100, rp.snd_nxt);
	CHECK_EQ(50, p.seg.len);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(10, dpt_send(eng, c->c, d + 150 + i * 10, 10));
		sim_run(s);
		RAW_EXPECT(&rp, &p);
		CHECK_SEG(&p.seg, F_ACK, una + 150 + (uint32_t)i * 10, rp.snd_nxt);
		CHECK_EQ(10, p.seg.len);
	}
	CHECK_EQ(0, dpt_getopt(eng, c->c, DPT_OPT_NODELAY, &v));
	CHECK_EQ(1, v);
	/* errors, as setsockopt() would give them */
	CHECK_EQ(-ENOPROTOOPT, dpt_setopt(eng, c->c, (enum dpt_opt)99, 1));
	CHECK_EQ(-ENOPROTOOPT, dpt_getopt(eng, c->c, (enum dpt_opt)99, &v));
	CHECK_EQ(-EINVAL, dpt_getopt(eng, c->c, DPT_OPT_NODELAY, NULL));
	CHECK_EQ(-EINVAL, dpt_setopt(eng, c->c, DPT_OPT_KEEPIDLE_S, 0));
	CHECK_EQ(-EINVAL, dpt_setopt(eng, c->c, DPT_OPT_KEEPIDLE_S, 32768));
	CHECK_EQ(-EINVAL, dpt_setopt(eng, c->c, DPT_OPT_KEEPINTVL_S, -1));
	CHECK_EQ(-EINVAL, dpt_setopt(eng, c->c, DPT_OPT_KEEPCNT, 128));
	sim_raw_clear(s);
	sim_free(s);

	/* the config's default */
	struct sim_opts o;
	sim_opts_default(&o);
	o.cfg[SIM_A].nodelay = 1;
	c = raw_conn(&s, &rp, &o);
	CHECK_EQ(0, dpt_getopt(s->eng[SIM_A], c->c, DPT_OPT_NODELAY, &v));
	CHECK_EQ(1, v);
	CHECK_EQ(100, dpt_send(s->eng[SIM_A], c->c, d, 100));
	CHECK_EQ(100, dpt_send(s->eng[SIM_A], c->c, d, 100));
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(100, p.seg.len);
	CHECK_STAT(s, SIM_A, nagle_delayed, 0);
	sim_free(s);
}

/* The config's timer defaults are Linux's, and a new connection takes
 * its per-connection options from the config. */
void test_config_timer_defaults(void)
{
	struct tcp_config cfg;
	tcp_config_defaults(&cfg);
	CHECK_EQ(0, cfg.nodelay);
	CHECK_EQ(40, cfg.delack_ms);
	CHECK_EQ(60000, cfg.fin_wait2_ms);
	CHECK_EQ(7200, cfg.keepalive_idle_s);
	CHECK_EQ(75, cfg.keepalive_intvl_s);
	CHECK_EQ(9, cfg.keepalive_cnt);

	struct sim_opts o;
	sim_opts_default(&o);
	o.cfg[SIM_A].keepalive_idle_s = 30;
	o.cfg[SIM_A].keepalive_intvl_s = 5;
	o.cfg[SIM_A].keepalive_cnt = 4;
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *c = raw_conn(&s, &rp, &o);
	int v;
	CHECK_EQ(0, dpt_getopt(s->eng[SIM_A], c->c, DPT_OPT_KEEPALIVE, &v));
	CHECK_EQ(0, v); /* off unless asked for */
	CHECK_EQ(0, dpt_getopt(s->eng[SIM_A], c->c, DPT_OPT_KEEPIDLE_S, &v));
	CHECK_EQ(30, v);
	CHECK_EQ(0, dpt_getopt(s->eng[SIM_A], c->c, DPT_OPT_KEEPINTVL_S, &v));
	CHECK_EQ(5, v);
	CHECK_EQ(0, dpt_getopt(s->eng[SIM_A], c->c, DPT_OPT_KEEPCNT, &v));
	CHECK_EQ(4, v);
	/* off by default: hours of silence, no probe */
	sim_advance(s, 120000);
	RAW_EXPECT_NONE(&rp);
	CHECK_STAT(s, SIM_A, keepalive_probes, 0);
	sim_free(s);
}

/* Delayed ACK's exceptions (RFC 5681 §4.2, RFC 1122 §4.2.3.2) with
 * delack_ms 40: a lone in-order segment waits; an out-of-order segment
 * and the one filling the gap are ACKed at once; when the application's
 * read opens a zero window, the window update goes at once. */
void test_ack_at_once_for_gap_and_window_open(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].delack_ms = 40;
	o.cfg[SIM_A].rcv_buf_bytes = 4096;
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *a = raw_established(&s, &rp, 1000, &o, false);
	static uint8_t d[4096];
	static uint8_t got[4096];
	sim_fill_pattern(d, sizeof(d), 72);
	const uint32_t B = rp.snd_nxt;

	raw_data(&rp, d, 100);
	RAW_EXPECT_NONE(&rp); /* delayed */
	/* [200,300) beyond a hole: a duplicate ACK at once */
	raw_send(&rp, F_ACK, B + 200, rp.rcv_nxt, d + 200, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, B + 100);
	/* [100,200) fills it: ACK of everything at once */
	raw_send(&rp, F_ACK, B + 100, rp.rcv_nxt, d + 100, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, B + 300);
	RAW_EXPECT_NONE(&rp);
	rp.snd_nxt = B + 300;
	/* fill the window: the last ACK says 0 */
	uint32_t off = 300;
	while (off < 4096) {
		uint16_t n = (uint16_t)RTE_MIN(1460u, 4096 - off);
		raw_data(&rp, d + off, n);
		off += n;
	}
	sim_advance(s, 50);
	while (raw_pop(&rp, &p))
		;
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, B + 4096);
	CHECK_EQ(0, p.seg.win);
	/* the application reads 2000 bytes: the window opens, at once */
	uint64_t wu = sim_stats(s, SIM_A)->win_updates;
	CHECK_EQ(2000, dpt_recv(s->eng[SIM_A], a->c, got, 2000));
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, B + 4096);
	CHECK_EQ(2000, p.seg.win);
	CHECK_EQ(wu + 1, sim_stats(s, SIM_A)->win_updates);
	CHECK_PATTERN(got, 2000, 72);
	sim_free(s);
}

/* Receiver SWS avoidance (RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.3.3): an
 * application reading one byte at a time out of a full 4096-byte buffer
 * opens the window in steps of min(4096/2, MSS) = 1460 bytes, never in
 * dribbles, and every segment we send keeps the right edge where it is
 * (never shrinking it) until it can move by a whole step. */
void test_receiver_sws_window_opens_in_mss_steps(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].rcv_buf_bytes = 4096;
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *a = raw_established(&s, &rp, 1000, &o, false);
	static uint8_t d[4096 + 10];
	sim_fill_pattern(d, sizeof(d), 73);
	unsigned int pos = sim_mark(s);
	raw_data(&rp, d, 1460);
	raw_data(&rp, d + 1460, 1460);
	raw_data(&rp, d + 2920, 1176);
	while (raw_pop(&rp, &p))
		;
	CHECK_EQ(0, p.seg.win);
	uint32_t edge = rp.snd_nxt; /* the right edge: nothing beyond */
	unsigned int updates = 0;
	for (unsigned int i = 1; i <= 4096; i++) {
		uint8_t b;
		CHECK_EQ(1, dpt_recv(s->eng[SIM_A], a->c, &b, 1));
		CHECK_EQ(d[i - 1], b);
		sim_run(s);
		while (raw_pop(&rp, &p)) {
			updates++;
			CHECK_MSG(i == 1460 || i == 2920,
				  "a window update after %u bytes read (win %u)", i, p.seg.win);
			CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
			CHECK_EQ(i, p.seg.win);
		}
	}
	CHECK_EQ(2, updates);
	/* a byte arrives: the ACK keeps the edge (window 2919, not 4095) */
	raw_data(&rp, d + 4096, 1);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_EQ(2919, p.seg.win);
	/* over the whole run the right edge only grew, in steps >= 1460 */
	const struct sim_seg *g;
	while ((g = sim_next_from(s, &pos, SIM_A)) != NULL) {
		uint32_t e = g->ack + g->win;
		CHECK_MSG(seq_geq(e, edge), "#%u moved the right edge back from %u to %u", g->idx,
			  edge, e);
		CHECK_MSG(e == edge || e - edge >= 1460, "#%u moved the right edge by %u bytes",
			  g->idx, e - edge);
		edge = e;
	}
	CHECK_EQ(2, sim_stats(s, SIM_A)->win_updates);
	sim_free(s);
}

/* Persist timer (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17) between two
 * engines: B stops reading; A fills B's 4096-byte window and probes it at
 * intervals that double (RTO 200 ms, 400, 800, ...), never sending a byte
 * beyond B's window and never giving up while B answers (data_retries 3
 * is long exceeded); when B reads again the transfer resumes and every
 * byte arrives. */
void test_persist_intervals_double_and_transfer_resumes(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.cfg[SIM_B].rcv_buf_bytes = 4096;
	o.cfg[SIM_A].data_retries = 3;
	struct sim *s = mk_sim_opts(&o);
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	b->auto_read = false;
	unsigned int mark = sim_mark(s);
	static uint8_t d[20000];
	sim_fill_pattern(d, sizeof(d), 74);
	sim_conn_send(a, d, sizeof(d), 0);
	sim_advance(s, 30000);
	CHECK_EQ(4096, dpt_readable(b->c));
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));

	/* the probes: A's empty segments one below B's ACK */
	uint64_t t[32];
	unsigned int n = 0;
	uint32_t b_ack = 0;
	for (unsigned int i = mark; i < sim_mark(s); i++) {
		const struct sim_seg *g = sim_trace(s, i);
		if (g->from == SIM_B && (g->flags & F_ACK))
			b_ack = g->ack;
		else if (g->from == SIM_A && g->len == 0 && g->flags == F_ACK &&
			 g->seq == b_ack - 1 && n < 32)
			t[n++] = g->t_us;
	}
	CHECK_MSG(n >= 6, "only %u zero-window probes in 30 s", n);
	for (unsigned int i = 2; i < n; i++) {
		int64_t prev = (int64_t)(t[i - 1] - t[i - 2]), cur = (int64_t)(t[i] - t[i - 1]);
		CHECK_MSG(cur >= 2 * prev - 3000 && cur <= 2 * prev + 3000,
			  "probe %u came %" PRId64 " us after the previous one, which came %" PRId64
			  " us after its own: the interval does not double",
			  i, cur, prev);
	}
	CHECK_CMP(t[1] - t[0], >=, 380000); /* 2 x RTO (200 ms) */
	CHECK_CMP(sim_stats(s, SIM_A)->persist_probes, >=, n);
	CHECK_STAT(s, SIM_A, persist_timeouts, 0);
	CHECK_STAT(s, SIM_A, conn_timeout, 0);

	/* B reads again: all of it arrives, in order, intact */
	b->auto_read = true;
	SIM_RUN_UNTIL(s, b->rx_len == sizeof(d), 60000);
	CHECK_EQ(sizeof(d), b->rx_len);
	CHECK_PATTERN(b->rx, b->rx_len, 74);
	CHECK(sim_stats(s, SIM_B)->win_updates >= 1);

	/* A never sent a byte beyond B's advertised right edge */
	uint32_t edge = 0;
	bool have_edge = false;
	for (unsigned int i = mark; i < sim_mark(s); i++) {
		const struct sim_seg *g = sim_trace(s, i);
		if (g->from == SIM_B && (g->flags & F_ACK)) {
			uint32_t e = g->ack + g->win;
			if (!have_edge || seq_gt(e, edge))
				edge = e;
			have_edge = true;
		} else if (g->from == SIM_A && g->len > 0 && have_edge) {
			CHECK_MSG(seq_leq(g->seq + g->len, edge),
				  "A sent #%u seq %u len %u beyond B's window edge %u", g->idx, g->seq,
				  g->len, edge);
		}
	}
	sim_free(s);
}

/* A peer that closes its window and then falls silent: the probes go
 * unanswered, and after data_retries of them the connection is reset
 * and the application hears -ETIMEDOUT (Linux: tcp_retries2 probes). */
void test_persist_gives_up_when_probes_unanswered(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.cfg[SIM_A].data_retries = 3;
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *c = raw_conn(&s, &rp, &o);
	static uint8_t d[1000];
	rp.win = 0;
	raw_ack(&rp);
	CHECK_EQ(1000, dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	RAW_EXPECT_NONE(&rp); /* the window is closed */
	unsigned int probes = 0;
	bool rst = false;
	for (int i = 0; i < 20000 && c->alive; i++) {
		sim_step(s);
		while (raw_pop(&rp, &p)) {
			if (p.seg.flags & F_RST) {
				rst = true;
				continue;
			}
			CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt - 1, rp.snd_nxt);
			CHECK_EQ(0, p.seg.len);
			probes++;
		}
	}
	CHECK(!c->alive);
	CHECK_EQ(3, probes);
	CHECK(rst);
	CHECK_EQ(1, c->ev_count[DPT_EV_ERROR]);
	CHECK_EQ(-ETIMEDOUT, c->last_err);
	CHECK_STAT(s, SIM_A, persist_timeouts, 1);
	CHECK_STAT(s, SIM_A, persist_probes, 3);
	sim_free(s);
}

/* Runs the simulation until t_ms (virtual ms since start_us); returns the
 * keepalive probes that reached the raw peer meanwhile (checked: SEQ =
 * SND.NXT - 1, no data). answer: the peer ACKs each one. */
static unsigned int keep_run(struct sim *s, struct raw_peer *rp, uint64_t start_us, uint64_t t_ms,
			     bool answer, uint64_t *last_us, bool *rst)
{
	struct sim_pkt p;
	unsigned int n = 0;
	while (s->now_us < start_us + t_ms * 1000) {
		sim_step(s);
		while (raw_pop(rp, &p)) {
			if (p.seg.flags & F_RST) {
				if (rst != NULL)
					*rst = true;
				continue;
			}
			CHECK_SEG(&p.seg, F_ACK, rp->rcv_nxt - 1, rp->snd_nxt);
			CHECK_EQ(0, p.seg.len);
			n++;
			if (last_us != NULL)
				*last_us = s->now_us;
			if (answer)
				raw_ack(rp);
		}
	}
	return n;
}

/* Keepalive (RFC 1122 §4.2.3.6) against a silent peer: idle 10 s,
 * interval 2 s, count 3 — probes at 10, 12 and 14 s, then at 16 s a RST
 * and DPT_EV_ERROR -ETIMEDOUT. */
void test_keepalive_detects_silent_peer(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *c = raw_conn(&s, &rp, NULL);
	struct tcp_engine *eng = s->eng[SIM_A];
	CHECK_EQ(0, dpt_setopt(eng, c->c, DPT_OPT_KEEPALIVE, 1));
	CHECK_EQ(0, dpt_setopt(eng, c->c, DPT_OPT_KEEPIDLE_S, 10));
	CHECK_EQ(0, dpt_setopt(eng, c->c, DPT_OPT_KEEPINTVL_S, 2));
	CHECK_EQ(0, dpt_setopt(eng, c->c, DPT_OPT_KEEPCNT, 3));
	int v;
	CHECK_EQ(0, dpt_getopt(eng, c->c, DPT_OPT_KEEPALIVE, &v));
	CHECK_EQ(1, v);
	uint64_t t0 = s->now_us, last = 0;
	bool rst = false;
	CHECK_EQ(0, keep_run(s, &rp, t0, 9990, false, NULL, NULL));
	CHECK_EQ(1, keep_run(s, &rp, t0, 10010, false, &last, NULL));
	CHECK_CMP(last - t0, >=, 10000000);
	CHECK_EQ(1, keep_run(s, &rp, t0, 12010, false, &last, NULL));
	CHECK_EQ(1, keep_run(s, &rp, t0, 14010, false, &last, NULL));
	CHECK(c->alive);
	CHECK_EQ(0, keep_run(s, &rp, t0, 16010, false, NULL, &rst));
	CHECK(!c->alive);
	CHECK(rst);
	CHECK_EQ(1, c->ev_count[DPT_EV_ERROR]);
	CHECK_EQ(-ETIMEDOUT, c->last_err);
	uint64_t terr = c->ev_t_us[c->nevs - 1];
	CHECK_CMP(terr - t0, >=, 16000000);
	CHECK_CMP(terr - t0, <=, 16010000);
	CHECK_STAT(s, SIM_A, keepalive_probes, 3);
	CHECK_STAT(s, SIM_A, keepalive_timeouts, 1);
	sim_free(s);
}

/* Keepalive's idle time restarts with every segment from the peer, and an
 * answered probe counts as traffic: a peer that talks now and then, or
 * just answers the probes, is kept for ever; turning keepalive off stops
 * the probes. */
void test_keepalive_reset_by_traffic(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *c = raw_conn(&s, &rp, NULL);
	struct tcp_engine *eng = s->eng[SIM_A];
	static const uint8_t d[10] = "hello";
	CHECK_EQ(0, dpt_setopt(eng, c->c, DPT_OPT_KEEPIDLE_S, 10));
	CHECK_EQ(0, dpt_setopt(eng, c->c, DPT_OPT_KEEPINTVL_S, 2));
	CHECK_EQ(0, dpt_setopt(eng, c->c, DPT_OPT_KEEPCNT, 3));
	CHECK_EQ(0, dpt_setopt(eng, c->c, DPT_OPT_KEEPALIVE, 1));
	uint64_t t0 = s->now_us, last = 0;

	CHECK_EQ(0, keep_run(s, &rp, t0, 6000, false, NULL, NULL));
	raw_data(&rp, d, sizeof(d)); /* at 6 s: idle restarts */
	sim_raw_clear(s);            /* its ACK */
	CHECK_EQ(0, keep_run(s, &rp, t0, 15990, false, NULL, NULL));
	CHECK_EQ(1, keep_run(s, &rp, t0, 16010, true, &last, NULL)); /* answered */
	CHECK_CMP(last - t0, >=, 16000000);
	/* the answer restarted the idle time: next probe 10 s later, and
	 * the connection lives through many answered probes */
	CHECK_EQ(0, keep_run(s, &rp, t0, 25990, true, NULL, NULL));
	CHECK_EQ(11, keep_run(s, &rp, t0, 126010, true, NULL, NULL)); /* 26..126 s */
	CHECK(c->alive);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(c));
	CHECK_STAT(s, SIM_A, keepalive_timeouts, 0);
	CHECK_EQ(10, c->rx_len);
	/* off: silence is fine */
	CHECK_EQ(0, dpt_setopt(eng, c->c, DPT_OPT_KEEPALIVE, 0));
	CHECK_EQ(0, keep_run(s, &rp, t0, 200000, false, NULL, NULL));
	CHECK(c->alive);
	sim_free(s);
}

/* FIN_WAIT_2 timeout (Linux semantics): after dpt_shutdown() only, the
 * half-closed connection waits for the peer's FIN as long as it takes and
 * keeps receiving; once the application closes it, fin_wait2_ms later it
 * is reset and freed — no TCB, no TIME_WAIT record left. */
void test_fin_wait_2_after_shutdown_not_timed_out(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.cfg[SIM_B].fin_wait2_ms = 500;
	struct sim *s = mk_sim_opts(&o);
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	CHECK_EQ(0, dpt_shutdown(s->eng[SIM_B], b->c));
	sim_run(s);
	CHECK_STATE(DPT_FIN_WAIT_2, sim_state(b));
	CHECK_STATE(DPT_CLOSE_WAIT, sim_state(a));
	sim_advance(s, 5000);
	CHECK_STATE(DPT_FIN_WAIT_2, sim_state(b));
	static uint8_t d[3000];
	sim_fill_pattern(d, sizeof(d), 75);
	sim_conn_send(a, d, sizeof(d), 0);
	SIM_RUN_UNTIL(s, b->rx_len == sizeof(d), 1000);
	CHECK_EQ(sizeof(d), b->rx_len);
	CHECK_PATTERN(b->rx, b->rx_len, 75);
	CHECK_STATE(DPT_FIN_WAIT_2, sim_state(b));
	CHECK_STAT(s, SIM_B, fin_wait2_timeouts, 0);

	/* now closed by the application: the timeout applies */
	CHECK_EQ(0, dpt_close(s->eng[SIM_B], b->c));
	sim_advance(s, 480);
	CHECK_STATE(DPT_FIN_WAIT_2, sim_state(b));
	sim_advance(s, 40);
	CHECK(!b->alive);
	CHECK_EQ(1, b->ev_count[DPT_EV_ERROR]);
	CHECK_EQ(-ETIMEDOUT, b->last_err);
	CHECK_STAT(s, SIM_B, fin_wait2_timeouts, 1);
	for (int st = 0; st < DPT_STATE_COUNT; st++)
		if (st != DPT_LISTEN)
			CHECK_EQ(0, sim_state_count(s, SIM_B, (enum dpt_state)st));
	/* the RST told A */
	CHECK(!a->alive);
	CHECK_EQ(1, a->ev_count[DPT_EV_RESET]);
	sim_free(s);
}
