/* t_data.c — data transfer: in-order delivery and ACKs, the acceptability
 * test (RFC 9293 §3.10.7.4 "first, check sequence number"), out-of-order
 * segments, ACKs of unsent data, the receive window, zero window,
 * sequence wraparound, bulk transfers with and without impairment. */
#include "t_common.h"
#include "tcp_seq.h"
#include "tests.h"
#include "tcp_internal.h"

#include <rte_mempool.h>

/* Receive everything the engine sends to rp, acking as it goes, until
 * `want` bytes came; returns them in out. */
static size_t raw_drain(struct raw_peer *rp, uint8_t *out, size_t want, uint32_t max_ms,
			struct sim_seg *fin)
{
	struct sim_pkt *p = malloc(sizeof(*p));
	size_t have = 0;
	CHECK(p != NULL);
	for (uint32_t i = 0; i < max_ms && have < want; i++) {
		bool got = false;
		while (raw_pop(rp, p)) {
			if ((p->seg.flags & F_FIN) && fin != NULL)
				*fin = p->seg;
			if (p->seg.len == 0)
				continue;
			if (p->seg.seq != rp->rcv_nxt)
				continue; /* retransmission or gap */
			CHECK(have + p->seg.len <= want);
			memcpy(out + have, p->data, p->seg.len);
			have += p->seg.len;
			rp->rcv_nxt += p->seg.len;
			got = true;
		}
		if (got)
			raw_ack(rp);
		sim_step(rp->s);
	}
	free(p);
	return have;
}

/* In-order data both ways with exact ACKs: each segment is acked with
 * <SEQ=SND.NXT><ACK=RCV.NXT> (delack 0), data is delivered intact. */
void test_data_transfer_in_order(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, true);
	static uint8_t d[600];
	sim_fill_pattern(d, sizeof(d), 21);
	raw_data(&rp, d, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, 1101);
	raw_data(&rp, d + 100, 200);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, 1301);
	raw_data(&rp, d + 300, 300);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, 1601);
	CHECK_EQ(0, p.seg.len);
	CHECK_EQ(600, a->rx_len);
	CHECK_PATTERN(a->rx, 600, 21);
	CHECK_EQ(1, a->ev_count[DPT_EV_READABLE] ? 1 : 0);
	CHECK_STAT(s, SIM_A, rx_bytes, 600);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(1601, in.rcv_nxt);

	static uint8_t e[1000];
	sim_fill_pattern(e, sizeof(e), 22);
	uint32_t seq0 = rp.rcv_nxt;
	CHECK_EQ(sizeof(e), dpt_send(s->eng[SIM_A], a->c, e, sizeof(e)));
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, seq0, 1601);
	CHECK_EQ(1000, p.seg.len);
	CHECK_PATTERN(p.data, 1000, 22);
	RAW_EXPECT_NONE(&rp);
	raw_send(&rp, F_ACK, rp.snd_nxt, seq0 + 1000, NULL, 0);
	RAW_EXPECT_NONE(&rp);
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(seq0 + 1000, in.snd_una);
	CHECK_EQ(seq0 + 1000, in.snd_nxt);
	CHECK_EQ(0, in.snd_queued);
	CHECK_STAT(s, SIM_A, tx_bytes, 1000);
	CHECK_STAT(s, SIM_A, retransmits, 0);
	sim_free(s);
}

/* RFC 9293 §3.10.7.4 first: an unacceptable segment (old duplicate, or
 * beyond the window) is answered <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and
 * dropped; a segment overlapping RCV.NXT is trimmed to its new part. */
void test_unacceptable_segment_acked(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, true);
	static uint8_t d[300];
	sim_fill_pattern(d, sizeof(d), 23);
	raw_data(&rp, d, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, 1101);
	uint64_t unacc = sim_stats(s, SIM_A)->rx_unacceptable;

	/* old duplicate */
	raw_send(&rp, F_ACK | F_PSH, 1001, rp.rcv_nxt, d, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, 1101);
	CHECK_EQ(100, a->rx_len);
	CHECK_EQ(unacc + 1, sim_stats(s, SIM_A)->rx_unacceptable);

	/* beyond the right edge */
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	raw_send(&rp, F_ACK | F_PSH, 1101 + in.rcv_wnd + 10, rp.rcv_nxt, d, 50);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, 1101);
	CHECK_EQ(100, a->rx_len);
	CHECK_EQ(unacc + 2, sim_stats(s, SIM_A)->rx_unacceptable);

	/* overlap: bytes 50..149 of the stream, 50 of them new */
	raw_send(&rp, F_ACK | F_PSH, 1051, rp.rcv_nxt, d + 50, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, 1151);
	CHECK_EQ(150, a->rx_len);
	CHECK_PATTERN(a->rx, 150, 23);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	sim_free(s);
}

/* A segment beyond RCV.NXT (a gap): RFC 5681 §4.2 immediate duplicate ACK
 * of RCV.NXT, and the data is kept in the reassembly queue
 * (rx_ooo_queued); when the gap is filled one ACK covers both segments and
 * the sender need not resend anything. */
void test_out_of_order_segment_queued_and_acked(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, true);
	static uint8_t d[200];
	sim_fill_pattern(d, sizeof(d), 24);
	raw_send(&rp, F_ACK | F_PSH, 1101, rp.rcv_nxt, d + 100, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, 1001);
	CHECK_EQ(0, p.seg.len);
	RAW_EXPECT_NONE(&rp);
	CHECK_EQ(0, a->rx_len);
	CHECK_STAT(s, SIM_A, rx_ooo_queued, 1);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(1001, in.rcv_nxt);

	raw_send(&rp, F_ACK | F_PSH, 1001, rp.rcv_nxt, d, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, 1201);
	RAW_EXPECT_NONE(&rp);
	CHECK_EQ(200, a->rx_len);
	CHECK_PATTERN(a->rx, 200, 24);
	CHECK_STAT(s, SIM_A, rx_ooo_drop, 0);
	CHECK_STAT(s, SIM_A, rx_ooo_dup, 0);
	CHECK_STAT(s, SIM_A, rx_bytes, 200);
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(1201, in.rcv_nxt);
	sim_free(s);
}

/* RFC 9293 §3.10.7.4 fifth (ESTABLISHED): "If the ACK acks something not
 * yet sent (SEG.ACK > SND.NXT), then send an ACK, drop the segment, and
 * return" — its data is not delivered. */
void test_ack_of_unsent_data_acked_and_dropped(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, true);
	static const uint8_t d[50] = "0123456789";
	raw_send(&rp, F_ACK | F_PSH, rp.snd_nxt, rp.rcv_nxt + 1000, d, sizeof(d));
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_EQ(0, a->rx_len);
	CHECK_STAT(s, SIM_A, rx_ack_too_new, 1);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(rp.rcv_nxt, in.snd_una);
	CHECK_EQ(rp.snd_nxt, in.rcv_nxt);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	/* the same data with a sane ACK is taken */
	raw_data(&rp, d, sizeof(d));
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_EQ(sizeof(d), a->rx_len);
	sim_free(s);
}

/* The advertised window is the free receive buffer: rcv_buf 16384, the app
 * does not read; each ACK's window shrinks by what arrived, down to zero;
 * reading opens it again and the engine says so with a window update. */
void test_receive_window_from_free_space(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].rcv_buf_bytes = 16384;
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	int r;
	s = mk_sim_opts(&o);
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	l->auto_read = false;
	raw_init(&rp, s, SIM_A, 40000, SRV_PORT);
	struct sim_seg synack = raw_handshake(&rp, 1000, 1460);
	CHECK_EQ(16384, synack.win);
	struct sim_conn *a = l->accepted[0];
	static uint8_t d[16384 + 1000];
	sim_fill_pattern(d, sizeof(d), 25);

	raw_data(&rp, d, 1000);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_EQ(16384 - 1000, p.seg.win);
	raw_data(&rp, d + 1000, 1460);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(16384 - 2460, p.seg.win);
	CHECK_EQ(2460, dpt_readable(a->c));
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(2460, in.rcv_queued);
	CHECK_EQ(16384 - 2460, in.rcv_wnd);

	/* fill it to exactly zero */
	size_t off = 2460;
	while (off < 16384) {
		uint16_t n = (uint16_t)RTE_MIN(1460u, 16384 - off);
		raw_data(&rp, d + off, n);
		off += n;
		RAW_EXPECT(&rp, &p);
		CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
		CHECK_EQ(16384 - off, p.seg.win);
	}
	CHECK_EQ(16384, dpt_readable(a->c));
	/* the app reads everything: a window update goes out */
	static uint8_t got[16384];
	ssize_t n = dpt_recv(s->eng[SIM_A], a->c, got, sizeof(got));
	CHECK_EQ(16384, n);
	CHECK_PATTERN(got, 16384, 25);
	sim_run(s);
	sim_step(s);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_EQ(16384, p.seg.win);
	raw_data(&rp, d + off, 1);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(16383, p.seg.win);
	sim_free(s);
}

/* The sender never goes past the receiver's advertised right edge (one
 * byte allowed for a zero-window probe, RFC 9293 §3.8.6.1); when the
 * receiver reads, the transfer completes. B's buffer: 4096 bytes. */
void test_zero_window_then_reopen(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.cfg[SIM_B].rcv_buf_bytes = 4096;
	struct sim *s = mk_sim_opts(&o);
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	b->auto_read = false;
	unsigned int mark = sim_mark(s);
	static uint8_t d[20000];
	sim_fill_pattern(d, sizeof(d), 26);
	sim_conn_send(a, d, sizeof(d), 0);
	sim_advance(s, 3000);
	CHECK_EQ(4096, dpt_readable(b->c));
	bool saw_zero = false;
	for (unsigned int i = mark; i < sim_mark(s); i++) {
		const struct sim_seg *g = sim_trace(s, i);
		if (g->from == SIM_B && g->win == 0 && (g->flags & F_ACK))
			saw_zero = true;
	}
	CHECK(saw_zero);
	b->auto_read = true;
	SIM_RUN_UNTIL(s, b->rx_len == sizeof(d), 30000);
	CHECK_EQ(sizeof(d), b->rx_len);
	CHECK_PATTERN(b->rx, b->rx_len, 26);

	/* replay the trace: A's data never beyond B's last advertised edge */
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
			CHECK_MSG(seq_leq(g->seq + g->len, edge + 1),
				  "A sent #%u seq %u len %u beyond B's window edge %u", g->idx, g->seq,
				  g->len, edge);
		}
	}
	sim_free(s);
}

/* Sequence numbers wrap (RFC 9293 §3.4): the raw peer starts at ISN
 * 0xFFFFFF00 and sends 4000 bytes across 2^32; every ACK is the wrapped
 * value and the data is intact. Then ISN 0xFFFFFFFF: the SYN-ACK acks 0. */
void test_seq_wraparound_transfer(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *a = raw_established(&s, &rp, 0xFFFFFF00u, NULL, true);
	static uint8_t d[4000];
	sim_fill_pattern(d, sizeof(d), 27);
	for (int i = 0; i < 8; i++) {
		raw_data(&rp, d + i * 500, 500);
		RAW_EXPECT(&rp, &p);
		CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, (uint32_t)(0xFFFFFF01u + (i + 1) * 500));
	}
	CHECK_EQ(0xFFFFFF01u + 4000u, rp.snd_nxt);
	CHECK_EQ(4000, a->rx_len);
	CHECK_PATTERN(a->rx, 4000, 27);

	/* and back, acked with wrapped numbers on our side */
	static uint8_t e[3000];
	static uint8_t got[3000];
	sim_fill_pattern(e, sizeof(e), 28);
	sim_conn_send(a, e, sizeof(e), 1);
	struct sim_seg fin;
	memset(&fin, 0, sizeof(fin));
	size_t n = raw_drain(&rp, got, sizeof(e), 2000, &fin);
	CHECK_EQ(sizeof(e), n);
	CHECK_PATTERN(got, n, 28);
	CHECK_MSG(fin.flags & F_FIN, "no FIN after the data");
	CHECK_EQ(rp.rcv_nxt, fin.seq + fin.len);
	CHECK_EQ(0xFFFFFF01u + 4000u, fin.ack);

	struct raw_peer rp2;
	raw_init(&rp2, s, SIM_A, 40001, SRV_PORT);
	raw_send_mss(&rp2, F_SYN, 0xFFFFFFFFu, 0, 1460);
	RAW_EXPECT(&rp2, &p);
	CHECK_SEG(&p.seg, F_SYN | F_ACK, p.seg.seq, 0);
	raw_send(&rp2, F_ACK, 0, p.seg.seq + 1, NULL, 0);
	rp2.snd_nxt = 0;
	rp2.rcv_nxt = p.seg.seq + 1;
	raw_data(&rp2, d, 10);
	RAW_EXPECT(&rp2, &p);
	CHECK_SEG(&p.seg, F_ACK, rp2.rcv_nxt, 10);
	sim_free(s);
}

/* tcp_seq.h: comparisons modulo 2^32 (RFC 9293 §3.4, RFC 1982). */
void test_seq_arith_wrap(void)
{
	CHECK(seq_lt(0xFFFFFFF0u, 0x10));
	CHECK(!seq_lt(0x10, 0xFFFFFFF0u));
	CHECK(seq_gt(0x10, 0xFFFFFFF0u));
	CHECK(!seq_gt(0xFFFFFFF0u, 0x10));
	CHECK(seq_leq(0xFFFFFFFFu, 0));
	CHECK(seq_leq(5, 5));
	CHECK(seq_geq(5, 5));
	CHECK(!seq_lt(5, 5));
	CHECK(!seq_gt(5, 5));
	CHECK(seq_geq(0, 0xFFFFFFFFu));
	CHECK(seq_lt(0, 0x7FFFFFFFu));
	CHECK(seq_gt(0x7FFFFFFFu, 0));
	CHECK(seq_lt(0x80000001u, 0));       /* more than 2^31 ahead = behind */
	CHECK(seq_in(0x5, 0xFFFFFFF0u, 0x10));
	CHECK(seq_in(0xFFFFFFF0u, 0xFFFFFFF0u, 0x10));
	CHECK(!seq_in(0x10, 0xFFFFFFF0u, 0x10));
	CHECK(!seq_in(0xFFFFFFEFu, 0xFFFFFFF0u, 0x10));
	CHECK(seq_in(0, 0xFFFFFFFFu, 1));
	CHECK(!seq_in(7, 7, 7));
	CHECK_EQ(0x10, seq_max(0xFFFFFFF0u, 0x10));
	CHECK_EQ(0xFFFFFFF0u, seq_min(0xFFFFFFF0u, 0x10));
	CHECK_EQ(3, seq_max(3, 2));
	CHECK_EQ(2, seq_min(3, 2));
}

static void bulk(struct sim *s, size_t len, uint32_t max_ms, bool exact, bool read_in_cb)
{
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	a->read_in_cb = b->read_in_cb = read_in_cb;
	uint8_t *da = malloc(len), *db = malloc(len);
	CHECK(da != NULL && db != NULL);
	sim_fill_pattern(da, len, 31);
	sim_fill_pattern(db, len, 32);
	/* half-close after sending, full close after reading the peer's FIN */
	sim_conn_send(a, da, len, 2);
	sim_conn_send(b, db, len, 2);
	a->close_on_eof = b->close_on_eof = true;
	SIM_RUN_UNTIL(s, !a->alive && !b->alive, max_ms);
	CHECK_MSG(s->app_errors == 0, "%" PRIu64 " API errors, last %s() = %d", s->app_errors,
		  s->last_app_err_call, s->last_app_err);
	CHECK_EQ(len, b->rx_len);
	CHECK_EQ(len, a->rx_len);
	CHECK_PATTERN(b->rx, len, 31);
	CHECK_PATTERN(a->rx, len, 32);
	CHECK_EQ(1, a->ev_count[DPT_EV_PEER_CLOSED]);
	CHECK_EQ(1, b->ev_count[DPT_EV_PEER_CLOSED]);
	CHECK_EQ(1, a->ev_count[DPT_EV_CLOSED]);
	CHECK_EQ(1, b->ev_count[DPT_EV_CLOSED]);
	CHECK_EQ(0, s->app_errors);
	sim_advance(s, 2 * RTE_MAX(s->opts.cfg[SIM_A].msl_ms, s->opts.cfg[SIM_B].msl_ms) + 10);
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_TIME_WAIT) +
			    sim_state_count(s, SIM_A, DPT_ESTABLISHED));
	CHECK_EQ(0, sim_state_count(s, SIM_B, DPT_TIME_WAIT) +
			    sim_state_count(s, SIM_B, DPT_ESTABLISHED));
	for (unsigned int i = 0; i < sim_mark(s); i++)
		CHECK_MSG(sim_trace(s, i)->len <= 1460, "segment #%u of %u bytes", i,
			  sim_trace(s, i)->len);
	if (exact) {
		/* a lossless wire: no retransmission at all */
		CHECK_STAT(s, SIM_A, retransmits, 0);
		CHECK_STAT(s, SIM_B, retransmits, 0);
		CHECK_STAT(s, SIM_A, rx_bytes, len);
		CHECK_STAT(s, SIM_B, rx_bytes, len);
	}
	free(da);
	free(db);
}

void test_bulk_transfer_1MiB_both_ways(void)
{
	struct sim *s = mk_sim();
	bulk(s, 1u << 20, 60000, true, false);
	sim_free(s);
}

/* 256 KiB each way over a wire with 1 ms delay, up to 3 ms of jitter
 * (reordering), 2% loss and 1% duplication, seeded ($DPT_SEED varies it).
 * The applications read inside their READABLE/PEER_CLOSED callbacks: data
 * arriving together with the FIN is test_fin_wait_2_data_with_fin_stays_
 * readable's subject, not this test's. */
void test_bulk_transfer_with_loss_dup_reorder(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.latency_us = 1000;
	/* TIME_WAIT must outlast the peer's backed-off retransmission of its
	 * FIN when our last ACK is lost — what 2*MSL is for (RFC 9293 §3.6). */
	o.cfg[SIM_A].msl_ms = o.cfg[SIM_B].msl_ms = 5000;
	struct sim *s = mk_sim_opts(&o);
	sim_set_impair(s, sim_seed(0xD1CE5EEDull), 20000, 10000, 3000);
	bulk(s, 256u << 10, 600000, false, true);
	sim_free(s);
}

/* RFC 9293 §3.8.6.1: "the receiving TCP MUST still send an acknowledgment"
 * to a zero-window probe (§3.10.7.4: with RCV.WND = 0 a segment with data
 * is not acceptable and is answered <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>);
 * without that answer a sender whose window update was lost waits forever.
 * Once the app read, the same probe is taken. */
void test_zero_window_probe_answered(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].rcv_buf_bytes = 4096;
	struct sim *s = mk_sim_opts(&o);
	struct raw_peer rp;
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	l->auto_read = false;
	raw_init(&rp, s, SIM_A, 40000, SRV_PORT);
	raw_handshake(&rp, 1000, 1460);
	struct sim_conn *a = l->accepted[0];
	static uint8_t d[4096 + 10];
	sim_fill_pattern(d, sizeof(d), 29);
	raw_data(&rp, d, 1460);
	raw_data(&rp, d + 1460, 1460);
	raw_data(&rp, d + 2920, 1176);
	while (raw_pop(&rp, &p))
		;
	CHECK_EQ(0, p.seg.win);
	CHECK_EQ(rp.snd_nxt, p.seg.ack);
	CHECK_EQ(4096, dpt_readable(a->c));

	/* 1-byte probe at RCV.NXT */
	raw_send(&rp, F_ACK, rp.snd_nxt, rp.rcv_nxt, d + 4096, 1);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_EQ(0, p.seg.win);
	CHECK_EQ(4096, dpt_readable(a->c));
	/* a full segment into the zero window: refused and acked */
	raw_send(&rp, F_ACK | F_PSH, rp.snd_nxt, rp.rcv_nxt, d, 100);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_EQ(0, p.seg.win);
	CHECK_EQ(4096, dpt_readable(a->c));

	static uint8_t got[4096];
	CHECK_EQ(4096, dpt_recv(s->eng[SIM_A], a->c, got, sizeof(got)));
	CHECK_PATTERN(got, 4096, 29);
	sim_run(s);
	while (raw_pop(&rp, &p))
		;
	raw_data(&rp, d + 4096, 1);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_EQ(4095, p.seg.win);
	CHECK_EQ(1, dpt_readable(a->c));
	sim_free(s);
}

/* RFC 9293 §3.8.6.1 (RFC 1122 4.2.2.17): facing a zero window the sender
 * probes, backing off, and "MUST NOT close the connection as long as the
 * receiver continues to respond" — even past data_retries; when the
 * window opens the rest flows. */
void test_persist_probes_zero_window(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].data_retries = 3;
	o.cfg[SIM_A].rto_max_ms = 4000;
	struct sim *s = mk_sim_opts(&o);
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *c = raw_accept(s, &rp, 7000, 1000, 1460, 10);
	/* the peer's window: 1000 bytes, then closed */
	rp.win = 1000;
	raw_ack(&rp);
	static uint8_t d[5000];
	sim_fill_pattern(d, sizeof(d), 30);
	static uint8_t got[5000];
	size_t have = 0;
	CHECK_EQ(sizeof(d), dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	while (raw_pop(&rp, &p)) {
		CHECK_EQ(rp.rcv_nxt, p.seg.seq);
		memcpy(got + have, p.data, p.seg.len);
		have += p.seg.len;
		rp.rcv_nxt += p.seg.len;
	}
	CHECK_EQ(1000, have);
	rp.win = 0;
	raw_ack(&rp);
	unsigned int pos = sim_mark(s);
	uint64_t t[64];
	unsigned int n = 0;
	for (int ms = 0; ms < 60000; ms++) {
		sim_step(s);
		while (raw_pop(&rp, &p)) {
			/* a probe: one byte at SND.UNA, or an empty segment at
			 * SND.UNA - 1 (the BSD/Linux style) */
			CHECK_MSG((p.seg.seq == rp.rcv_nxt && p.seg.len <= 1) ||
					  (p.seg.seq == rp.rcv_nxt - 1 && p.seg.len == 0),
				  "not a zero-window probe: seq %u len %u (SND.UNA %u)", p.seg.seq,
				  p.seg.len, rp.rcv_nxt);
			if (n < 64)
				t[n] = s->now_us;
			n++;
			raw_ack(&rp); /* "still here, window 0" */
		}
	}
	CHECK_MSG(n >= 5, "only %u zero-window probes in 60 s", n);
	for (unsigned int i = 2; i < n && i < 64; i++)
		CHECK_CMP(t[i] - t[i - 1] + 2000, >=, t[i - 1] - t[i - 2]);
	CHECK(c->alive);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(c));
	(void)pos;

	/* the window opens: the rest arrives */
	rp.win = 65535;
	raw_ack(&rp);
	for (int i = 0; i < 5000 && have < sizeof(d); i++) {
		bool any = false;
		while (raw_pop(&rp, &p)) {
			if (p.seg.len == 0 || p.seg.seq != rp.rcv_nxt)
				continue;
			CHECK(have + p.seg.len <= sizeof(got));
			memcpy(got + have, p.data, p.seg.len);
			have += p.seg.len;
			rp.rcv_nxt += p.seg.len;
			any = true;
		}
		if (any)
			raw_ack(&rp);
		sim_step(s);
	}
	CHECK_EQ(sizeof(d), have);
	CHECK_PATTERN(got, have, 30);
	sim_free(s);
}

/* RFC 5681 §4.2 / RFC 1122 4.2.3.2 with delack_ms 40: a lone segment is
 * acked after the delayed-ACK timeout (not at once, not later); every
 * second full-sized segment is acked at once. */
void test_delayed_ack_timer_and_every_second_segment(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].delack_ms = 40;
	struct sim *s = mk_sim_opts(&o);
	struct raw_peer rp;
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	raw_init(&rp, s, SIM_A, 40000, SRV_PORT);
	raw_handshake(&rp, 1000, 1460);
	CHECK_EQ(1, l->naccepted);
	static uint8_t d[2920];
	raw_data(&rp, d, 100);
	RAW_EXPECT_NONE(&rp);
	uint64_t t0 = s->now_us;
	SIM_RUN_UNTIL(s, sim_raw_pending(s) > 0, 1000);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_CMP(s->now_us - t0, >=, 39000);
	CHECK_CMP(s->now_us - t0, <=, 42000);

	/* two full segments in one burst: ACK at once */
	struct seg_spec sp = {
		.saddr = rp.ip, .daddr = SIM_IP_A, .sport = rp.port, .dport = SRV_PORT,
		.seq = rp.snd_nxt, .ack = rp.rcv_nxt, .flags = F_ACK, .win = 65535,
		.data = d, .len = 1460,
	};
	sim_inject(s, &sp);
	sp.seq += 1460;
	sim_inject(s, &sp);
	rp.snd_nxt += 2920;
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	sim_free(s);
}

/* RFC 5961 §5.2: an ACK below SND.UNA - MAX.SND.WND is not acceptable:
 * "send an ACK and discard the segment" — its data is not taken. */
void test_ack_too_old_dropped(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, true);
	static const uint8_t d[40] = "too old";
	raw_send(&rp, F_ACK | F_PSH, rp.snd_nxt, rp.rcv_nxt - 200000, d, sizeof(d));
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_EQ(0, a->rx_len);
	CHECK_STAT(s, SIM_A, rx_old_ack, 1);
	/* a merely duplicate ACK (within MAX.SND.WND) carries data fine */
	raw_send(&rp, F_ACK | F_PSH, rp.snd_nxt, rp.rcv_nxt - 10, d, sizeof(d));
	rp.snd_nxt += sizeof(d);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt);
	CHECK_EQ(sizeof(d), a->rx_len);
	sim_free(s);
}

/* Sender silly-window avoidance (RFC 9293 §3.8.6.2.1, RFC 1122 4.2.3.4):
 * while the application keeps the send buffer full, every data segment
 * of a lossless 1 MiB transfer is full-sized, except the very last. */
void test_sender_avoids_silly_window(void)
{
	struct sim *s = mk_sim();
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	size_t len = 1u << 20;
	uint8_t *d = malloc(len);
	CHECK(d != NULL);
	sim_fill_pattern(d, len, 34);
	unsigned int mark = sim_mark(s);
	sim_conn_send(a, d, len, 2);
	SIM_RUN_UNTIL(s, b->rx_len == len, 60000);
	CHECK_EQ(len, b->rx_len);
	unsigned int small = 0, segs = 0, first_small = 0, small_len = 0;
	uint32_t last_seq = 0;
	for (unsigned int i = mark; i < sim_mark(s); i++) {
		const struct sim_seg *g = sim_trace(s, i);
		if (g->from != SIM_A || g->len == 0)
			continue;
		segs++;
		if (seq_gt(g->seq, last_seq) || segs == 1)
			last_seq = g->seq;
	}
	for (unsigned int i = mark; i < sim_mark(s); i++) {
		const struct sim_seg *g = sim_trace(s, i);
		/* 1448: 1460 less the timestamps option (RFC 7323 §3.2). */
		if (g->from != SIM_A || g->len == 0 || g->len == 1448 || g->seq == last_seq)
			continue;
		if (small++ == 0) {
			first_small = i;
			small_len = g->len;
		}
	}
	CHECK_MSG(small == 0,
		  "%u of %u data segments were smaller than the MSS before the end of the "
		  "stream (first: #%u, %u bytes)",
		  small, segs, first_small, small_len);
	free(d);
	sim_free(s);
}

/* Harsh wire: 10% loss, 5% duplication, up to 8 ms jitter; 64 KiB each
 * way must still arrive intact and both ends close cleanly. */
void test_bulk_transfer_heavy_loss(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.latency_us = 2000;
	o.cfg[SIM_A].msl_ms = o.cfg[SIM_B].msl_ms = 2000;
	struct sim *s = mk_sim_opts(&o);
	sim_set_impair(s, sim_seed(0xBADC0FFEEull), 100000, 50000, 8000);
	bulk(s, 64u << 10, 900000, false, true);
	sim_free(s);
}

/* --- reassembly queue ------------------------------------------------------ */

/* The raw peer sends d[off, off+len) at stream offset off (stream starts at
 * seq base) with `flags`; exactly one pure ACK <SEQ=eng snd><ACK=exp_ack>
 * must come back at once (same virtual instant). Returns its window. */
static uint16_t ooo_send_expect(struct raw_peer *rp, uint32_t base, const uint8_t *d,
				uint32_t off, uint16_t len, uint8_t flags, uint32_t exp_ack)
{
	struct sim_pkt *p = malloc(sizeof(*p));
	CHECK(p != NULL);
	uint64_t t0 = rp->s->now_us;
	raw_send(rp, flags, base + off, rp->rcv_nxt, d + off, len);
	RAW_EXPECT(rp, p);
	CHECK_SEG(&p->seg, F_ACK, rp->rcv_nxt, exp_ack);
	CHECK_EQ(0, p->seg.len);
	CHECK_EQ(t0, p->seg.t_us);
	RAW_EXPECT_NONE(rp);
	uint16_t win = p->seg.win;
	free(p);
	return win;
}

static unsigned int mbufs_in_use(struct sim *s)
{
	return rte_mempool_in_use_count(s->tx_pool) + rte_mempool_in_use_count(s->wire_pool);
}

/* Segments 2, 3, 4 (1000 bytes each) before segment 1: three immediate
 * duplicate ACKs of RCV.NXT (RFC 5681 §4.2, one per segment), then segment
 * 1 brings one ACK of all 4000 bytes; the application reads them in order. */
void test_ooo_segments_reassembled_when_gap_filled(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	/* the application reads only when told, so that no window update
	 * (a consequence of reading) mixes with the ACKs under test */
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, false);
	static uint8_t d[4000];
	static uint8_t buf[5000];
	sim_fill_pattern(d, sizeof(d), 61);
	const uint32_t base = 1001;
	for (uint32_t i = 1; i < 4; i++) {
		ooo_send_expect(&rp, base, d, i * 1000, 1000, F_ACK | F_PSH, base);
		CHECK_EQ(0, dpt_readable(a->c));
		CHECK_STAT(s, SIM_A, rx_ooo_queued, i);
	}
	CHECK_EQ(0, a->ev_count[DPT_EV_READABLE]);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(base, in.rcv_nxt);
	CHECK_EQ(0, in.rcv_queued);

	/* segment 1: exactly one ACK, of all 4000 bytes */
	ooo_send_expect(&rp, base, d, 0, 1000, F_ACK | F_PSH, base + 4000);
	CHECK_EQ(1, a->ev_count[DPT_EV_READABLE]);
	CHECK_EQ(4000, dpt_readable(a->c));
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(base + 4000, in.rcv_nxt);
	CHECK_EQ(4000, dpt_recv(s->eng[SIM_A], a->c, buf, sizeof(buf)));
	CHECK_PATTERN(buf, 4000, 61);
	CHECK_EQ(-EAGAIN, dpt_recv(s->eng[SIM_A], a->c, buf, sizeof(buf)));
	CHECK_STAT(s, SIM_A, rx_bytes, 4000);
	CHECK_STAT(s, SIM_A, rx_ooo_dup, 0);
	CHECK_STAT(s, SIM_A, rx_ooo_drop, 0);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	sim_run(s);
	while (raw_pop(&rp, &p))     /* a window update after the read, if any */
		CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, base + 4000);
	/* the stream goes on normally */
	rp.snd_nxt = base + 4000;
	raw_data(&rp, d, 10);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, base + 4010);
	CHECK_EQ(10, dpt_readable(a->c));
	sim_free(s);
}

/* Overlapping and duplicate out-of-order segments: the queue is trimmed
 * against its neighbours (one new segment covers two queued ones and
 * replaces them); exact duplicates and segments inside a queued one count
 * rx_ooo_dup; the bytes read are exactly the stream. */
void test_ooo_overlapping_segments_trimmed(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, true);
	static uint8_t d[700];
	sim_fill_pattern(d, sizeof(d), 62);
	const uint32_t B = 1001;
	const uint8_t fl = F_ACK | F_PSH;

	ooo_send_expect(&rp, B, d, 100, 100, fl, B);   /* [100,200) */
	ooo_send_expect(&rp, B, d, 300, 100, fl, B);   /* [300,400) */
	CHECK_STAT(s, SIM_A, rx_ooo_queued, 2);
	ooo_send_expect(&rp, B, d, 100, 100, fl, B);   /* exact duplicate */
	CHECK_STAT(s, SIM_A, rx_ooo_dup, 1);
	ooo_send_expect(&rp, B, d, 320, 60, fl, B);    /* inside [300,400) */
	CHECK_STAT(s, SIM_A, rx_ooo_dup, 2);
	CHECK_STAT(s, SIM_A, rx_ooo_queued, 2);
	ooo_send_expect(&rp, B, d, 50, 100, fl, B);    /* [50,150) -> [50,100) */
	ooo_send_expect(&rp, B, d, 500, 50, fl, B);    /* [500,550) */
	ooo_send_expect(&rp, B, d, 600, 50, fl, B);    /* [600,650) */
	ooo_send_expect(&rp, B, d, 480, 220, fl, B);   /* covers both: [480,700) */
	ooo_send_expect(&rp, B, d, 180, 140, fl, B);   /* [180,320) -> [200,300) */
	CHECK_STAT(s, SIM_A, rx_ooo_queued, 7);
	CHECK_STAT(s, SIM_A, rx_ooo_dup, 2);
	CHECK_STAT(s, SIM_A, rx_ooo_drop, 0);
	CHECK_EQ(0, a->rx_len);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	/* queued: [50,400) and [480,700) = 570 bytes */
	CHECK_EQ(65535, in.rcv_wnd); /* the right edge never moves left */

	/* [0,60) overlaps the queued [50,100): everything up to 400 joins */
	ooo_send_expect(&rp, B, d, 0, 60, fl, B + 400);
	CHECK_EQ(400, a->rx_len);
	CHECK_PATTERN(a->rx, 400, 62);
	/* a duplicate of delivered data is an old duplicate, not queued */
	ooo_send_expect(&rp, B, d, 200, 100, fl, B + 400);
	/* [390,490) fills the last hole, overlapping both sides */
	ooo_send_expect(&rp, B, d, 390, 100, fl, B + 700);
	CHECK_EQ(700, a->rx_len);
	CHECK_PATTERN(a->rx, 700, 62);
	CHECK_STAT(s, SIM_A, rx_bytes, 700);
	CHECK_STAT(s, SIM_A, rx_ooo_queued, 7);
	CHECK_STAT(s, SIM_A, rx_ooo_dup, 2);
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(B + 700, in.rcv_nxt);
	CHECK_EQ(0, in.rcv_queued);
	/* receiver SWS avoidance (RFC 9293 §3.8.6.2.2): 700 bytes read is
	 * less than an MSS, so the right edge B + 65535 stays where it was */
	CHECK_EQ(65535 - 700, in.rcv_wnd);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	sim_free(s);
}

/* The last segment, carrying FIN, and the middle one arrive before the
 * first: the FIN is not acknowledged nor reported until the hole is filled;
 * then one ACK covers data and FIN, the state is CLOSE_WAIT and PEER_CLOSED
 * comes with all 3000 bytes readable before EOF. */
void test_ooo_fin_processed_when_gap_filled(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, false);
	static uint8_t d[3000];
	static uint8_t buf[4000];
	sim_fill_pattern(d, sizeof(d), 63);
	const uint32_t B = 1001;

	ooo_send_expect(&rp, B, d, 2000, 1000, F_ACK | F_PSH | F_FIN, B);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	CHECK(!sim_has_event(a, DPT_EV_PEER_CLOSED));
	ooo_send_expect(&rp, B, d, 1000, 1000, F_ACK | F_PSH, B);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	CHECK(!sim_has_event(a, DPT_EV_PEER_CLOSED));
	CHECK_EQ(0, dpt_readable(a->c));
	CHECK_STAT(s, SIM_A, rx_ooo_queued, 2);

	ooo_send_expect(&rp, B, d, 0, 1000, F_ACK | F_PSH, B + 3000 + 1);
	CHECK_STATE(DPT_CLOSE_WAIT, sim_state(a));
	CHECK_EQ(1, a->ev_count[DPT_EV_PEER_CLOSED]);
	CHECK(a->ev_count[DPT_EV_READABLE] >= 1);
	CHECK_EQ(3000, dpt_readable(a->c));
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(B + 3001, in.rcv_nxt);
	size_t got = 0;
	for (;;) {
		ssize_t n = dpt_recv(s->eng[SIM_A], a->c, buf + got, sizeof(buf) - got);
		CHECK_CMP(n, >=, 0);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	CHECK_EQ(3000, got);
	CHECK_PATTERN(buf, 3000, 63);
	sim_run(s);
	while (raw_pop(&rp, &p))     /* a window update after the read, if any */
		CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, B + 3001);

	/* and the connection closes normally */
	rp.snd_nxt = B + 3001;
	CHECK_EQ(0, dpt_close(s->eng[SIM_A], a->c));
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK | F_FIN, rp.rcv_nxt, B + 3001);
	CHECK_STATE(DPT_LAST_ACK, sim_state(a));
	raw_send(&rp, F_ACK, rp.snd_nxt, rp.rcv_nxt + 1, NULL, 0);
	CHECK_EQ(DPT_STATE_COUNT, sim_tuple_state(s, SIM_A, SRV_PORT, rp.ip, rp.port));
	sim_raw_clear(s);
	CHECK_EQ(0, mbufs_in_use(s));
	CHECK_EQ(0, sim_free(s));
}

/* 300 one-byte out-of-order segments with holes between them: each pins
 * an mbuf, so the queue's memory bound (2 * rcv_buf of mbuf data rooms,
 * tcp_input.c ooo_budget()) keeps the first cap of them and counts the
 * others in rx_ooo_drop (each still dup-acked); filling the holes delivers
 * exactly what was queued; a full queue freed by an abort leaks no mbuf. */
void test_ooo_queue_bound(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, true);
	static uint8_t d[1300];
	sim_fill_pattern(d, sizeof(d), 64);
	const uint32_t B = 1001;

	const uint32_t cap = RTE_MAX(2 * a->c->rcv_buf, TCP_OOO_MIN_MEM) /
			     RTE_MBUF_DEFAULT_BUF_SIZE;
	CHECK(cap >= 40 && cap < 300);
	for (uint32_t i = 0; i < 300; i++)
		ooo_send_expect(&rp, B, d, 2 + 2 * i, 1, F_ACK | F_PSH, B);
	CHECK_STAT(s, SIM_A, rx_ooo_queued, cap);
	CHECK_STAT(s, SIM_A, rx_ooo_drop, 300 - cap);
	CHECK_EQ(cap, a->c->ooo_blocks);
	CHECK(a->c->ooo_mem <= 2 * a->c->rcv_buf);
	CHECK_EQ(0, a->rx_len);
	/* a duplicate of a queued byte with the queue full: dropped either way */
	ooo_send_expect(&rp, B, d, 2, 1, F_ACK | F_PSH, B);
	CHECK_EQ(300 - cap + 1, sim_stats(s, SIM_A)->rx_ooo_drop + sim_stats(s, SIM_A)->rx_ooo_dup);
	uint64_t drop0 = sim_stats(s, SIM_A)->rx_ooo_drop;

	/* bytes 0,1 fill the first hole: byte 2 joins, byte 3 is a hole */
	ooo_send_expect(&rp, B, d, 0, 2, F_ACK | F_PSH, B + 3);
	CHECK_EQ(3, a->rx_len);
	/* all the rest up to 602 in one segment: the queued bytes are covered
	 * (those beyond the cap were never queued) */
	ooo_send_expect(&rp, B, d, 3, 599, F_ACK | F_PSH, B + 602);
	CHECK_EQ(602, a->rx_len);
	CHECK_PATTERN(a->rx, 602, 64);
	CHECK_STAT(s, SIM_A, rx_bytes, 602);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(0, in.rcv_queued);    /* nothing left queued */
	/* receiver SWS avoidance (RFC 9293 §3.8.6.2.2): the right edge moves
	 * only by an MSS or more, so after 602 bytes it has not moved */
	CHECK_EQ(65535 - 602, in.rcv_wnd);

	/* the queue works again after draining: fill it once more */
	uint64_t q0 = sim_stats(s, SIM_A)->rx_ooo_queued;
	for (uint32_t i = 0; i < cap + 4; i++)
		ooo_send_expect(&rp, B, d, 604 + 2 * i, 1, F_ACK | F_PSH, B + 602);
	CHECK_EQ(q0 + cap, sim_stats(s, SIM_A)->rx_ooo_queued);
	CHECK_EQ(drop0 + 4, sim_stats(s, SIM_A)->rx_ooo_drop);
	/* abort with a full queue */
	CHECK_EQ(0, dpt_abort(s->eng[SIM_A], a->c));
	a->alive = false;
	a->c = NULL;
	sim_run(s);
	sim_raw_clear(s);
	CHECK_EQ(DPT_STATE_COUNT, sim_tuple_state(s, SIM_A, SRV_PORT, rp.ip, rp.port));
	CHECK_EQ(0, mbufs_in_use(s));
	CHECK_EQ(0, sim_free(s));
}

/* Holes at segments 0 and 1000, then 2,798 full segments inside a 4 MiB
 * window (more than a CUBIC window at 5 ms, issue 6): every one is kept (no rx_ooo_drop, the
 * queue is bounded by memory, not by a segment count), each ACK's first
 * SACK block is the one holding the newest segment (RFC 2018 §4), then
 * the older block; filling the holes delivers the stream intact. */
#define OOO_N 2800u
void test_ooo_full_window_kept(void)
{
	struct sim_opts so;
	sim_opts_default(&so);
	so.with_b = false;
	so.cfg[SIM_A].rcv_buf_bytes = 4u << 20;
	struct sim *s = mk_sim_opts(&so);
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	l->auto_read = true;
	struct raw_peer rp;
	raw_init(&rp, s, SIM_A, 40000, SRV_PORT);
	struct raw_opts o = { .mss = 1460, .ws = 7, .sack_ok = true };
	raw_handshake_o(&rp, 1000, &o);
	CHECK_EQ(1, l->naccepted);
	struct sim_conn *a = l->accepted[0];
	const uint32_t M = 1460, B = rp.snd_nxt, H = 1000;
	static uint8_t d[OOO_N * 1460];
	sim_fill_pattern(d, sizeof(d), 77);
	struct sim_pkt p;

	/* holes at segments 0 and H */
	for (uint32_t i = 1; i < OOO_N; i++) {
		if (i == H)
			continue;
		raw_send(&rp, F_ACK, B + i * M, rp.rcv_nxt, d + i * M, (uint16_t)M);
		RAW_EXPECT(&rp, &p);
		CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, B);
		RAW_EXPECT_NONE(&rp);
		if (i < H) {
			CHECK_EQ(1, p.seg.nsack);
			CHECK_EQ(B + M, p.seg.sack[0][0]);
			CHECK_EQ(B + (i + 1) * M, p.seg.sack[0][1]);
		} else {
			CHECK_EQ(2, p.seg.nsack);
			CHECK_EQ(B + (H + 1) * M, p.seg.sack[0][0]);
			CHECK_EQ(B + (i + 1) * M, p.seg.sack[0][1]);
			CHECK_EQ(B + M, p.seg.sack[1][0]);
			CHECK_EQ(B + H * M, p.seg.sack[1][1]);
		}
	}
	CHECK_STAT(s, SIM_A, rx_ooo_queued, OOO_N - 2);
	CHECK_STAT(s, SIM_A, rx_ooo_drop, 0);
	CHECK_EQ(2, a->c->ooo_blocks);
	CHECK_EQ((OOO_N - 2) * M, a->c->ooo_bytes);
	/* a duplicate inside the older block: D-SACK first (RFC 2883 §4),
	 * then the block holding it */
	raw_send(&rp, F_ACK, B + 5 * M, rp.rcv_nxt, d + 5 * M, (uint16_t)M);
	RAW_EXPECT(&rp, &p);
	CHECK_EQ(3, p.seg.nsack);
	CHECK_EQ(B + 5 * M, p.seg.sack[0][0]);
	CHECK_EQ(B + 6 * M, p.seg.sack[0][1]);
	CHECK_EQ(B + M, p.seg.sack[1][0]);
	CHECK_EQ(B + H * M, p.seg.sack[1][1]);
	CHECK_EQ(B + (H + 1) * M, p.seg.sack[2][0]);
	CHECK_STAT(s, SIM_A, rx_ooo_dup, 1);
	/* segment H joins the two blocks into one */
	raw_send(&rp, F_ACK, B + H * M, rp.rcv_nxt, d + H * M, (uint16_t)M);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.irs + 1, B);
	CHECK_EQ(1, p.seg.nsack);
	CHECK_EQ(B + M, p.seg.sack[0][0]);
	CHECK_EQ(B + OOO_N * M, p.seg.sack[0][1]);
	CHECK_EQ(1, a->c->ooo_blocks);
	/* segment 0: everything is in order */
	raw_send(&rp, F_ACK, B, rp.rcv_nxt, d, (uint16_t)M);
	sim_run(s);
	CHECK_EQ(OOO_N * M, a->rx_len);
	CHECK_PATTERN(a->rx, a->rx_len, 77);
	CHECK_STAT(s, SIM_A, rx_bytes, OOO_N * M);
	CHECK_STAT(s, SIM_A, rx_ooo_drop, 0);
	CHECK(a->c->ooo == NULL);
	CHECK_EQ(0, a->c->ooo_mem);
	sim_free(s);
}

/* Queued out-of-order bytes count as used receive buffer (rcv_buf 16384,
 * the application not reading): the window never moves its right edge left
 * (RFC 9293 §3.8.6), but once the application reads, the window offered
 * is the buffer minus what sits in the out-of-order queue. */
void test_ooo_window_counts_queued_bytes(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].rcv_buf_bytes = 16384;
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *a = raw_established(&s, &rp, 1000, &o, false);
	static uint8_t d[6000];
	static uint8_t buf[6000];
	sim_fill_pattern(d, sizeof(d), 65);
	const uint32_t B = 1001;
	struct dpt_conn_info in;

	for (uint32_t i = 0; i < 3; i++) {
		uint16_t w = ooo_send_expect(&rp, B, d, i * 1000, 1000, F_ACK | F_PSH,
					     B + (i + 1) * 1000);
		CHECK_EQ(16384 - (i + 1) * 1000, w);
	}
	rp.snd_nxt = B + 3000;
	/* 1000 bytes beyond a 1000-byte hole: right edge unchanged */
	CHECK_EQ(16384 - 3000, ooo_send_expect(&rp, B, d, 4000, 1000, F_ACK | F_PSH, B + 3000));
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(16384 - 3000, in.rcv_wnd);

	/* the application reads the 3000 in-order bytes */
	CHECK_EQ(3000, dpt_recv(s->eng[SIM_A], a->c, buf, sizeof(buf)));
	CHECK_PATTERN(buf, 3000, 65);
	sim_run(s);
	while (raw_pop(&rp, &p)) {   /* a window update, if any */
		CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, B + 3000);
		CHECK_EQ(16384 - 1000, p.seg.win);
	}
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(0, in.rcv_queued);
	CHECK_EQ(16384 - 1000, in.rcv_wnd);
	/* a duplicate of the queued segment forces an ACK: window = buffer
	 * minus the 1000 queued bytes (rx_ooo_dup) */
	CHECK_EQ(16384 - 1000, ooo_send_expect(&rp, B, d, 4000, 1000, F_ACK | F_PSH, B + 3000));
	CHECK_STAT(s, SIM_A, rx_ooo_dup, 1);
	/* a second out-of-order segment: 2000 bytes queued; the offered right
	 * edge is kept (free space 14384 < promised 15384) */
	CHECK_EQ(16384 - 1000, ooo_send_expect(&rp, B, d, 5000, 1000, F_ACK | F_PSH, B + 3000));
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(16384 - 1000, in.rcv_wnd);
	/* the hole is filled: 3000 bytes now in the receive queue. Free space
	 * would put the right edge at B + 19384, 1000 bytes beyond the offered
	 * B + 18384 — less than an MSS, so receiver SWS avoidance (RFC 9293
	 * §3.8.6.2.2) keeps it: window 18384 - 6000 */
	CHECK_EQ(16384 - 4000, ooo_send_expect(&rp, B, d, 3000, 1000, F_ACK | F_PSH, B + 6000));
	CHECK(sim_conn_info(a, &in));
	CHECK_EQ(3000, in.rcv_queued);
	CHECK_EQ(16384 - 4000, in.rcv_wnd);
	CHECK_EQ(3000, dpt_recv(s->eng[SIM_A], a->c, buf, sizeof(buf)));
	CHECK(memcmp(buf, d + 3000, 3000) == 0);
	sim_free(s);
}

/* A FIN alone beyond a gap is answered by a duplicate ACK at once (RFC 5681
 * §4.2); the FIN counts once the peer sends it again in order. */
void test_ooo_bare_fin_beyond_gap_dup_acked(void)
{
	struct sim *s;
	struct raw_peer rp;
	static uint8_t d[2000];
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, false);
	const uint32_t B = 1001;

	sim_fill_pattern(d, sizeof(d), 71);
	ooo_send_expect(&rp, B, d, 2000, 0, F_ACK | F_FIN, B);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	ooo_send_expect(&rp, B, d, 1000, 1000, F_ACK | F_PSH, B);
	ooo_send_expect(&rp, B, d, 0, 1000, F_ACK | F_PSH, B + 2000);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	CHECK(!sim_has_event(a, DPT_EV_PEER_CLOSED));
	ooo_send_expect(&rp, B, d, 2000, 0, F_ACK | F_FIN, B + 2001);
	CHECK_STATE(DPT_CLOSE_WAIT, sim_state(a));
	CHECK_EQ(1, a->ev_count[DPT_EV_PEER_CLOSED]);
	sim_raw_clear(s);
	CHECK_EQ(0, sim_free(s));
}

/* A FIN on a segment whose data is already queued out of order is kept
 * with the queued data, and counts when the gap is filled. */
void test_ooo_fin_on_covered_segment_kept(void)
{
	struct sim *s;
	struct raw_peer rp;
	static uint8_t d[1000];
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, false);
	const uint32_t B = 1001;

	sim_fill_pattern(d, sizeof(d), 72);
	ooo_send_expect(&rp, B, d, 500, 500, F_ACK | F_PSH, B);
	ooo_send_expect(&rp, B, d, 600, 400, F_ACK | F_PSH | F_FIN, B);
	CHECK_STAT(s, SIM_A, rx_ooo_dup, 1);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	ooo_send_expect(&rp, B, d, 0, 500, F_ACK | F_PSH, B + 1000 + 1);
	CHECK_STATE(DPT_CLOSE_WAIT, sim_state(a));
	CHECK_EQ(1, a->ev_count[DPT_EV_PEER_CLOSED]);
	CHECK_EQ(1000, dpt_readable(a->c));
	sim_raw_clear(s);
	CHECK_EQ(0, sim_free(s));
}
