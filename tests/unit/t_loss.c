/* t_loss.c — loss recovery and congestion control (issue 6): fast
 * retransmit after exactly three duplicate ACKs, NewReno partial ACKs,
 * SACK recovery that resends only the holes, D-SACK, isolated losses and
 * tail losses repaired without an RTO, CUBIC's window against W_cubic in
 * virtual time, and 16 MiB each way over impaired wires with both
 * algorithms. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "t_common.h"
#include "tests.h"
#include "tcp_internal.h"

#define MSS 1460u

/* --- a scripted receiver: the raw peer acks each segment it takes, with
 * SACK blocks when sack is set (RFC 2018 §4: the block holding the newest
 * segment first), and "loses" the first transmission of chosen segments. */

#define NSEG 40

struct rx_model {
	struct raw_peer *rp;
	uint32_t base;             /* seq of segment 0 */
	bool got[NSEG];
	unsigned int sent[NSEG];   /* transmissions seen per segment */
	bool lose[NSEG];           /* drop its first transmission */
	bool sack;
	unsigned int dupacks_sent;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* An ACK from the raw peer carrying SACK blocks (NOP NOP SACK). */
static void raw_ack_sack(struct raw_peer *rp, uint32_t ack, const uint32_t (*b)[2],
			 unsigned int n)
{
	uint8_t opt[40];
	unsigned int k = 0;
	if (n > 0) {
		opt[k++] = 1;
		opt[k++] = 1;
		opt[k++] = 5;
		opt[k++] = (uint8_t)(2 + 8 * n);
		for (unsigned int i = 0; i < n; i++, k += 8) {
			put32(opt + k, b[i][0]);
			put32(opt + k + 4, b[i][1]);
		}
	}
	struct seg_spec sp = {
		.saddr = rp->ip, .daddr = rp->eng_ip, .sport = rp->port,
		.dport = rp->eng_port, .seq = rp->snd_nxt, .ack = ack, .flags = F_ACK,
		.win = rp->win, .opts = n ? opt : NULL, .optlen = (uint8_t)k,
	};
	sim_inject(rp->s, &sp);
}

static void rx_ack(struct rx_model *m, unsigned int newest)
{
	unsigned int first = 0, nb = 0;
	uint32_t b[3][2];
	while (first < NSEG && m->got[first])
		first++;
	if (m->sack && first < NSEG) {
		/* the range holding the newest segment, then the others upwards */
		unsigned int lo = newest, hi = newest;
		if (newest > first && m->got[newest]) {
			while (lo > 0 && m->got[lo - 1])
				lo--;
			while (hi + 1 < NSEG && m->got[hi + 1])
				hi++;
			b[nb][0] = m->base + lo * MSS;
			b[nb][1] = m->base + (hi + 1) * MSS;
			nb++;
		}
		for (unsigned int i = first; i < NSEG && nb < 3; i++) {
			if (!m->got[i] || (i >= lo && i <= hi && nb > 0 && newest > first))
				continue;
			unsigned int j = i;
			while (j + 1 < NSEG && m->got[j + 1])
				j++;
			if (!(newest > first && i == lo)) {
				b[nb][0] = m->base + i * MSS;
				b[nb][1] = m->base + (j + 1) * MSS;
				nb++;
			}
			i = j;
		}
	}
	raw_ack_sack(m->rp, m->base + first * MSS, b, nb);
}

/* Reads what the engine sent, acks each segment, until it sends nothing
 * more at this virtual instant. */
static void rx_run(struct rx_model *m)
{
	struct sim_pkt *p = malloc(sizeof(*p));
	CHECK(p != NULL);
	for (;;) {
		sim_run(m->rp->s);
		unsigned int n = 0;
		while (raw_pop(m->rp, p)) {
			if (p->seg.len == 0)
				continue;
			unsigned int i = (p->seg.seq - m->base) / MSS;
			CHECK_MSG(i < NSEG && (p->seg.seq - m->base) % MSS == 0 &&
					  p->seg.len == MSS,
				  "unexpected segment seq %u len %u", p->seg.seq, p->seg.len);
			m->sent[i]++;
			n++;
			if (m->lose[i] && m->sent[i] == 1)
				continue;
			m->got[i] = true;
			rx_ack(m, i);
		}
		if (n == 0)
			break;
	}
	free(p);
}

static struct sim_conn *loss_setup(struct sim **sp, struct raw_peer *rp, uint32_t cc)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].cc = cc;
	struct sim *s = mk_sim_opts(&o);
	*sp = s;
	return raw_accept(s, rp, 7000, 90000, 1460, 10);
}

/* Two lost segments of a 40-segment send; every other one is sent once. */
static void lose_two(uint32_t cc, bool sack)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *c = loss_setup(&s, &rp, cc);
	static uint8_t d[NSEG * MSS];
	static struct rx_model m;
	memset(&m, 0, sizeof(m));
	m.rp = &rp;
	m.base = rp.rcv_nxt;
	m.sack = sack;
	m.lose[2] = m.lose[5] = true;
	c->c->sack_ok = sack;          /* what option negotiation will set */
	CHECK_EQ(sizeof(d), dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	rx_run(&m);
	for (unsigned int i = 0; i < NSEG; i++) {
		CHECK_MSG(m.got[i], "segment %u never arrived", i);
		CHECK_MSG(m.sent[i] == (m.lose[i] ? 2u : 1u), "segment %u sent %u times", i,
			  m.sent[i]);
	}
	const struct tcp_stats *st = sim_stats(s, SIM_A);
	printf("%s %s: retransmits %" PRIu64 " fast %" PRIu64 " partial %" PRIu64
	       " sack_recoveries %" PRIu64 " rto %" PRIu64 "\n",
	       cc == TCP_CC_CUBIC ? "cubic" : "newreno", sack ? "sack" : "newreno-recovery",
	       st->retransmits, st->fast_retransmits, st->partial_acks, st->sack_recoveries,
	       st->rto_expired);
	CHECK_STAT(s, SIM_A, rto_expired, 0);
	CHECK_STAT(s, SIM_A, retransmits, 2);
	CHECK_STAT(s, SIM_A, fast_retransmits, 1);
	CHECK_STAT(s, SIM_A, recoveries, 1);
	CHECK_STAT(s, SIM_A, sack_recoveries, sack ? 1 : 0);
	if (!sack)
		CHECK_CMP(sim_stats(s, SIM_A)->partial_acks, >=, 1);
	CHECK(!(c->c->flags & TF_RECOVERY));
	CHECK_EQ(c->c->snd_una, c->c->snd_max);
	sim_free(s);
}

/* RFC 5681 §3.2: the third duplicate ACK, not the second, retransmits
 * SND.UNA; the first two each let one new segment go (RFC 3042). */
void test_fast_retransmit_after_three_dupacks_not_two(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *c = loss_setup(&s, &rp, TCP_CC_NEWRENO);
	static uint8_t d[40 * MSS];
	uint32_t base = rp.rcv_nxt;
	CHECK_EQ(sizeof(d), dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	unsigned int n = 0;
	while (raw_pop(&rp, &p))
		n++;
	CHECK_EQ(10, n);
	/* segment 0 arrived, segment 1 lost: a new ACK (cwnd grows by one) */
	raw_send(&rp, F_ACK, rp.snd_nxt, base + MSS, NULL, 0);
	n = 0;
	while (raw_pop(&rp, &p))
		n++;
	CHECK_EQ(2, n);
	for (unsigned int dup = 1; dup <= 3; dup++) {
		uint32_t snd_max = c->c->snd_max;
		raw_send(&rp, F_ACK, rp.snd_nxt, base + MSS, NULL, 0);
		CHECK_MSG(raw_pop(&rp, &p), "nothing sent after duplicate ACK %u", dup);
		if (dup < 3) {
			CHECK_MSG(p.seg.seq == snd_max, "dup ACK %u: seq %u, expected new data at %u",
				  dup, p.seg.seq, snd_max);
			CHECK_STAT(s, SIM_A, fast_retransmits, 0);
		} else {
			CHECK_SEG(&p.seg, F_ACK, base + MSS, rp.snd_nxt);
			CHECK_EQ(MSS, p.seg.len);
			CHECK_STAT(s, SIM_A, fast_retransmits, 1);
		}
		CHECK(!raw_pop(&rp, &p));
	}
	CHECK_STAT(s, SIM_A, recoveries, 1);
	CHECK_STAT(s, SIM_A, rto_expired, 0);
	sim_free(s);
}

/* RFC 6582 §3.2 step 4: segments 2 and 5 lost; the ACK that covers 2 but
 * not recover is partial and resends 5 at once; each loss is sent twice,
 * everything else once, no RTO. */
void test_newreno_partial_ack_retransmits_next_hole(void)
{
	lose_two(TCP_CC_NEWRENO, false);
	lose_two(TCP_CC_CUBIC, false);
}

/* RFC 6675: with SACK the scoreboard names the holes; only they are
 * resent (each once), none of the SACKed data. */
void test_sack_recovery_retransmits_only_holes(void)
{
	lose_two(TCP_CC_CUBIC, true);
	lose_two(TCP_CC_NEWRENO, true);
}

/* RFC 6675 §5.1: after an RTO the sender SHOULD use the SACKs that
 * arrive to choose what to resend: go-back-N skips the segments SACKed
 * since, and resends only the holes. (RACK resends the two holes a
 * quarter RTT after the SACKs; those resends are lost too, and with no
 * later data to be delivered only the RTO is left.) */
void test_rto_resend_skips_sacked_segments(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *c = loss_setup(&s, &rp, TCP_CC_NEWRENO);
	static uint8_t d[4 * MSS];
	uint32_t base = rp.rcv_nxt;
	c->c->sack_ok = true;
	/* the RTO's resend is under test: no probe in recovery before it */
	c->c->tlp = false;
	CHECK_EQ(sizeof(d), dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	unsigned int n = 0;
	while (raw_pop(&rp, &p))
		n++;
	CHECK_EQ(4, n);
	/* segments 0 and 1 lost, 2 and 3 arrive: two SACKs, no TLP with
	 * SACKed data; RACK's timer resends 0 and 1, and they are lost */
	uint32_t b[1][2] = { { base + 2 * MSS, base + 3 * MSS } };
	raw_ack_sack(&rp, base, b, 1);
	b[0][1] = base + 4 * MSS;
	raw_ack_sack(&rp, base, b, 1);
	sim_run(s);
	CHECK(!raw_pop(&rp, &p));
	unsigned int pos = sim_mark(s);
	SIM_RUN_UNTIL(s, sim_count_from(s, pos, SIM_A, 0, 0) > 0, 5000);
	CHECK_STAT(s, SIM_A, rack_timeouts, 1);
	CHECK_STAT(s, SIM_A, rto_expired, 0);
	for (uint32_t k = 0; k < 2; k++) {
		CHECK_MSG(raw_pop(&rp, &p), "hole %u not resent by RACK", k);
		CHECK_SEG(&p.seg, F_ACK, base + k * MSS, rp.snd_nxt);
	}
	CHECK(!raw_pop(&rp, &p));
	pos = sim_mark(s);
	SIM_RUN_UNTIL(s, sim_count_from(s, pos, SIM_A, 0, 0) > 0, 5000);
	CHECK_STAT(s, SIM_A, rto_expired, 1);
	CHECK_MSG(raw_pop(&rp, &p), "no resend after the RTO");
	CHECK_SEG(&p.seg, F_ACK, base, rp.snd_nxt);
	CHECK(!raw_pop(&rp, &p));
	/* segment 0 arrives; the receiver still holds 2 and 3 */
	raw_ack_sack(&rp, base + MSS, b, 1);
	sim_run(s);
	CHECK_MSG(raw_pop(&rp, &p), "segment 1 not resent");
	CHECK_SEG(&p.seg, F_ACK, base + MSS, rp.snd_nxt);
	CHECK_EQ(MSS, p.seg.len);
	CHECK_MSG(!raw_pop(&rp, &p), "resent SACKed data at seq %u", p.seg.seq - base);
	raw_ack_sack(&rp, base + 4 * MSS, NULL, 0);
	sim_run(s);
	CHECK_EQ(c->c->snd_una, c->c->snd_max);
	CHECK_STAT(s, SIM_A, retransmits, 4);
	sim_free(s);
}

/* RFC 2883 / RFC 6675 §4: a D-SACK (first block below the cumulative ACK)
 * is counted and is not a loss: nothing is retransmitted. The ACKs come
 * one 10 ms round trip after the data: with SACK, RACK (RFC 8985) waits
 * a quarter of the minimum RTT before it calls the hole below the SACKed
 * segment lost, and no ACK here comes that late. */
void test_dsack_counted_not_loss(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *c = loss_setup(&s, &rp, TCP_CC_CUBIC);
	static uint8_t d[10 * MSS];
	uint32_t base = rp.rcv_nxt;
	c->c->sack_ok = true;
	CHECK_EQ(sizeof(d), dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	while (raw_pop(&rp, &p))
		;
	sim_advance(s, 10);
	uint32_t b[2][2] = { { base, base + MSS }, { base + 4 * MSS, base + 5 * MSS } };
	for (int i = 0; i < 3; i++) {
		/* segment 0 twice (D-SACK), 2..3 acked, 4 SACKed */
		raw_ack_sack(&rp, base + 3 * MSS, b, 2);
		sim_run(s);
	}
	CHECK_STAT(s, SIM_A, rx_dsack, 3);
	CHECK_STAT(s, SIM_A, retransmits, 0);
	CHECK_STAT(s, SIM_A, recoveries, 0);
	sim_free(s);
}

/* --- two engines ------------------------------------------------------- */

struct drop_nth {
	int from;
	unsigned int nth;          /* drop the nth data segment from `from` (1-based) */
	unsigned int seen;
	uint32_t seq;
	bool dropped;
};

static enum sim_verdict drop_nth_filter(struct sim *s, const struct sim_seg *g, void *ctx)
{
	struct drop_nth *f = ctx;
	(void)s;
	if (g->from != f->from || g->len == 0 || f->dropped)
		return SIM_PASS;
	if (++f->seen == f->nth) {
		f->dropped = true;
		f->seq = g->seq;
		return SIM_DROP;
	}
	return SIM_PASS;
}

static void one_way(struct sim *s, struct sim_conn *from, struct sim_conn *to, size_t len,
		    uint32_t seed)
{
	uint8_t *d = malloc(len);
	CHECK(d != NULL);
	sim_fill_pattern(d, len, seed);
	to->auto_read = true;
	sim_conn_send(from, d, len, 0);
	SIM_RUN_UNTIL(s, to->rx_len == len && from->c->snd_una == from->c->snd_max, 60000);
	CHECK_EQ(len, to->rx_len);
	CHECK_PATTERN(to->rx, len, seed);
	free(d);
}

/* An isolated loss mid-flight is repaired by fast retransmit, an isolated
 * tail loss by the probe: no RTO for either (both algorithms). */
void test_isolated_losses_recovered_without_rto(void)
{
	for (uint32_t cc = 0; cc < TCP_CC_COUNT; cc++) {
		struct sim_opts o;
		sim_opts_default(&o);
		o.latency_us = 1000;
		o.cfg[SIM_A].cc = o.cfg[SIM_B].cc = cc;
		/* the tail's last segment is alone in flight once the others
		 * are acked: PTO = 2*SRTT + 200 ms (RFC 8985 WCDelAckT), which
		 * beats an RTO of 1 s but not one of 200 ms */
		o.cfg[SIM_A].rto_min_ms = o.cfg[SIM_B].rto_min_ms = 1000;
		struct sim *s = mk_sim_opts(&o);
		struct sim_conn *b, *a;
		pair_connect(s, &b, &a);

		/* 1 MiB from A; its 300th data segment is lost once */
		struct drop_nth f = { .from = SIM_A, .nth = 300 };
		sim_set_filter(s, drop_nth_filter, &f);
		one_way(s, a, b, 1u << 20, 41);
		CHECK(f.dropped);
		const struct tcp_stats *st = sim_stats(s, SIM_A);
		printf("%s mid-flight loss: retransmits %" PRIu64 " fast %" PRIu64
		       " rto %" PRIu64 "\n", cc ? "newreno" : "cubic", st->retransmits,
		       st->fast_retransmits, st->rto_expired);
		CHECK_STAT(s, SIM_A, rto_expired, 0);
		CHECK_STAT(s, SIM_A, fast_retransmits, 1);
		CHECK_STAT(s, SIM_A, retransmits, 1);

		/* a 20-segment response whose last segment is lost once */
		sim_advance(s, 1100);
		struct drop_nth t = { .from = SIM_A, .nth = 20 };
		sim_set_filter(s, drop_nth_filter, &t);
		b->rx_len = 0;
		/* 20 full segments: timestamps (RFC 7323 §3.2) take 12 bytes
		 * of each, so the payload MSS is the connection's, not MSS */
		struct dpt_conn_info in;
		CHECK(sim_conn_info(a, &in));
		one_way(s, a, b, 20 * in.mss, 42);
		CHECK(t.dropped);
		printf("%s tail loss: retransmits %" PRIu64 " tlp_probes %" PRIu64
		       " tlp_recoveries %" PRIu64 " rto %" PRIu64 "\n", cc ? "newreno" : "cubic",
		       st->retransmits, st->tlp_probes, st->tlp_recoveries, st->rto_expired);
		CHECK_STAT(s, SIM_A, rto_expired, 0);
		CHECK_STAT(s, SIM_A, tlp_probes, 1);
		CHECK_STAT(s, SIM_A, retransmits, 2);
		CHECK_STAT(s, SIM_B, rto_expired, 0);
		/* RFC 8985 §7.4.2: the ACK of exactly TLP.end_seq leaves the
		 * verdict open (a D-SACK may follow); the next ACK beyond it
		 * says the probe repaired a loss */
		CHECK_STAT(s, SIM_A, tlp_recoveries, 0);
		b->rx_len = 0;
		one_way(s, a, b, 1000, 43);
		CHECK_STAT(s, SIM_A, tlp_recoveries, 1);
		CHECK_STAT(s, SIM_A, tlp_spurious, 0);
		sim_free(s);
	}
}

/* --- CUBIC against RFC 9438 eq. 1 in virtual time ---------------------- */

/* From a loss at cwnd = 100 segments (RTT 100 ms, an ACK per segment,
 * cwnd-limited), cwnd(t) tracks W_cubic(t) = C (t - K)^3 + W_max with
 * C = 0.4, K = cbrt(W_max (1 - beta) / C) = cbrt(75) s. */
void test_cubic_window_follows_w_cubic(void)
{
	struct tcp_conn *c = calloc(1, sizeof(*c));
	CHECK(c != NULL);
	c->snd_mss = MSS;
	c->cc_ops = &tcp_cc_cubic;
	c->cc_ops->init(c);
	c->cwnd = 100 * MSS;
	c->ssthresh = UINT32_MAX;
	c->snd_una = 0;
	c->snd_max = 100 * MSS;
	c->srtt_us = 100000;
	uint64_t now = 1000000;
	c->cc_ops->on_congestion(c, now);
	CHECK_CMP(c->ssthresh, >=, 70 * MSS - 200);
	CHECK_CMP(c->ssthresh, <=, 70 * MSS + 200);
	CHECK_EQ(c->ssthresh, c->cwnd);
	double K = cbrt(100.0 * 0.3 / 0.4);
	double checks[] = { 0.5, 1.0, 2.0, 3.0, K, 5.0, 6.0 };
	unsigned int ci = 0;
	uint64_t t0 = now;
	while (ci < RTE_DIM(checks)) {
		/* one RTT: cwnd/MSS ACKs spread over 100 ms */
		uint32_t acks = c->cwnd / MSS;
		for (uint32_t i = 0; i < acks; i++) {
			now += 100000 / acks;
			c->snd_max = c->snd_una + c->cwnd;  /* cwnd-limited */
			c->cc_ops->on_ack(c, MSS, 100000, now);
		}
		double t = (double)(now - t0) / 1e6;
		if (t >= checks[ci]) {
			double w = 0.4 * pow(t - K, 3) + 100.0;
			double got = (double)c->cwnd / MSS;
			printf("cubic t=%.2fs cwnd %.1f segments, W_cubic(t) %.1f\n", t, got, w);
			CHECK_MSG(fabs(got - w) <= RTE_MAX(0.05 * w, 2.0),
				  "t=%.2f s: cwnd %.1f segments, W_cubic %.1f", t, got, w);
			ci++;
		}
	}
	/* §4.7 fast convergence: a loss below W_max remembers 0.85 cwnd */
	uint32_t before = c->cwnd = 90 * MSS;
	c->snd_max = c->snd_una + c->cwnd;
	c->cc.cubic.w_max = 100 * MSS;
	c->cc_ops->on_congestion(c, now);
	CHECK_CMP(c->cc.cubic.w_max, >=, before * 85 / 100 - 200);
	CHECK_CMP(c->cc.cubic.w_max, <=, before * 85 / 100 + 200);
	/* NewReno halves */
	c->cc_ops = &tcp_cc_newreno;
	c->cwnd = 100 * MSS;
	c->snd_max = c->snd_una + c->cwnd;
	c->cc_ops->on_congestion(c, now);
	CHECK_EQ(50 * MSS, c->ssthresh);
	free(c);
}

/* [tcp] cc picks the algorithm of new connections. */
void test_cc_config_selects_algorithm(void)
{
	for (uint32_t cc = 0; cc < TCP_CC_COUNT; cc++) {
		struct sim_opts o;
		sim_opts_default(&o);
		o.cfg[SIM_A].cc = o.cfg[SIM_B].cc = cc;
		struct sim *s = mk_sim_opts(&o);
		struct sim_conn *b, *a;
		pair_connect(s, &b, &a);
		const struct tcp_cc_ops *want = cc == TCP_CC_NEWRENO ? &tcp_cc_newreno :
								       &tcp_cc_cubic;
		CHECK(a->c->cc_ops == want);
		CHECK(b->c->cc_ops == want);
		sim_free(s);
	}
	struct tcp_config cfg;
	tcp_config_defaults(&cfg);
	CHECK_EQ(TCP_CC_CUBIC, cfg.cc);
}

/* --- 16 MiB each way over impaired wires ---------------------------------- */

enum impair { I_LOSS1, I_LOSS5, I_LOSS20, I_REORDER, I_DUP, I_CORRUPT, I_DELAY, I_MIXED };

static void bulk_impaired(enum impair im, uint32_t cc, const char *name)
{
	struct sim_opts o;
	sim_opts_default(&o);
	size_t len = 16u << 20;
	o.latency_us = 1000;
	o.cfg[SIM_A].cc = o.cfg[SIM_B].cc = cc;
	o.cfg[SIM_A].msl_ms = o.cfg[SIM_B].msl_ms = 5000;
	if (im == I_DELAY)
		o.latency_us = 20000;
	struct sim *s = mk_sim_opts(&o);
	uint64_t seed = sim_seed(0x6105500ull + im * 16 + cc);
	switch (im) {
	case I_LOSS1: sim_set_impair(s, seed, 10000, 0, 0); break;
	case I_LOSS5: sim_set_impair(s, seed, 50000, 0, 0); break;
	case I_LOSS20: sim_set_impair(s, seed, 200000, 0, 0); break;
	case I_REORDER: sim_set_impair(s, seed, 0, 0, 3000); break;
	case I_DUP: sim_set_impair(s, seed, 0, 20000, 0); break;
	case I_CORRUPT:
		sim_set_impair(s, seed, 0, 0, 0);
		sim_set_corrupt(s, 20000);
		break;
	case I_DELAY: sim_set_impair(s, seed, 0, 0, 0); break;
	case I_MIXED:
		sim_set_impair(s, seed, 20000, 10000, 3000);
		sim_set_corrupt(s, 10000);
		break;
	}
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	a->read_in_cb = b->read_in_cb = true;
	uint8_t *da = malloc(len), *db = malloc(len);
	CHECK(da != NULL && db != NULL);
	sim_fill_pattern(da, len, 51);
	sim_fill_pattern(db, len, 52);
	sim_conn_send(a, da, len, 2);
	sim_conn_send(b, db, len, 2);
	a->close_on_eof = b->close_on_eof = true;
	SIM_RUN_UNTIL(s, !a->alive && !b->alive, 3600000);
	const struct tcp_stats *sa = sim_stats(s, SIM_A), *sb = sim_stats(s, SIM_B);
	printf("%s (%s, %zu MiB each way, %.1f s virtual): retransmits A %" PRIu64 " B %" PRIu64
	       ", rto A %" PRIu64 " B %" PRIu64 ", fast %" PRIu64 "/%" PRIu64
	       ", partial %" PRIu64 "/%" PRIu64 ", tlp %" PRIu64 "/%" PRIu64
	       " (recovered %" PRIu64 "/%" PRIu64 ", spurious %" PRIu64 "/%" PRIu64
	       "), recoveries %" PRIu64 "/%" PRIu64 " (sack %" PRIu64 "/%" PRIu64
	       ", undone %" PRIu64 "/%" PRIu64 "), rack lost resends %" PRIu64 "/%" PRIu64
	       ", bad csum %" PRIu64 "/%" PRIu64 "\n",
	       name, cc ? "newreno" : "cubic", len >> 20, (double)s->now_us / 1e6,
	       sa->retransmits, sb->retransmits, sa->rto_expired, sb->rto_expired,
	       sa->fast_retransmits, sb->fast_retransmits, sa->partial_acks, sb->partial_acks,
	       sa->tlp_probes, sb->tlp_probes, sa->tlp_recoveries, sb->tlp_recoveries,
	       sa->tlp_spurious, sb->tlp_spurious, sa->recoveries, sb->recoveries,
	       sa->sack_recoveries, sb->sack_recoveries, sa->undo_dsack + sa->undo_ts,
	       sb->undo_dsack + sb->undo_ts, sa->rack_lost_resends, sb->rack_lost_resends,
	       sa->rx_bad_csum, sb->rx_bad_csum);
	CHECK_MSG(s->app_errors == 0, "%" PRIu64 " API errors", s->app_errors);
	CHECK_EQ(len, b->rx_len);
	CHECK_EQ(len, a->rx_len);
	CHECK_PATTERN(b->rx, len, 51);
	CHECK_PATTERN(a->rx, len, 52);
	CHECK_EQ(1, a->ev_count[DPT_EV_CLOSED]);
	CHECK_EQ(1, b->ev_count[DPT_EV_CLOSED]);
	if (im == I_REORDER || im == I_DUP || im == I_DELAY) {
		/* nothing lost: no timeout */
		CHECK_STAT(s, SIM_A, rto_expired, 0);
		CHECK_STAT(s, SIM_B, rto_expired, 0);
	}
	if (im == I_DELAY) {
		CHECK_STAT(s, SIM_A, retransmits, 0);
		CHECK_STAT(s, SIM_B, retransmits, 0);
	}
	free(da);
	free(db);
	sim_free(s);
}

#define BULK_TEST(im, tag)                                                   \
	void test_bulk16_##tag##_cubic(void) { bulk_impaired(im, TCP_CC_CUBIC, #tag); } \
	void test_bulk16_##tag##_newreno(void) { bulk_impaired(im, TCP_CC_NEWRENO, #tag); }
BULK_TEST(I_LOSS1, loss1)
BULK_TEST(I_LOSS5, loss5)
BULK_TEST(I_LOSS20, loss20)
BULK_TEST(I_REORDER, reorder)
BULK_TEST(I_DUP, dup)
BULK_TEST(I_CORRUPT, corrupt)
BULK_TEST(I_DELAY, delay)
BULK_TEST(I_MIXED, mixed)

/* --- RACK (RFC 8985), undo ------------------------------------------------ */

static void pop_all(struct raw_peer *rp)
{
	struct sim_pkt p;
	while (raw_pop(rp, &p))
		;
}

/* RFC 8985 §6.2: once reordering was seen (an original delivered below
 * data delivered earlier), a hole with six segments SACKed above it is
 * not lost before a quarter of the minimum RTT has passed: the hole
 * (left 1 ms before the segments above it, as the limited transmit of
 * the first SACK) filled 1 ms after their SACKs, i.e. 2 ms of reordering
 * with RTT 10 ms, is not resent. RFC 6675's three duplicate ACKs resent it (a spurious fast
 * retransmit and a halved window). */
void test_rack_reordering_within_window_not_lost(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *c = loss_setup(&s, &rp, TCP_CC_CUBIC); /* RTT 10 ms */
	static uint8_t d[60 * MSS];
	uint32_t base = rp.rcv_nxt;
	c->c->sack_ok = true;
	CHECK_EQ(sizeof(d), dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	pop_all(&rp);                  /* segments 0..9 */
	sim_advance(s, 10);
	/* segment 1 arrives before 0: one SACK, not (yet) a loss */
	uint32_t b1[1][2] = { { base + MSS, base + 2 * MSS } };
	raw_ack_sack(&rp, base, b1, 1);
	sim_run(s);
	CHECK_STAT(s, SIM_A, retransmits, 0);
	sim_advance(s, 1);
	raw_ack_sack(&rp, base + 10 * MSS, NULL, 0);  /* 0 came, and the rest */
	sim_run(s);
	CHECK_STAT(s, SIM_A, rack_reordering, 1);
	CHECK_STAT(s, SIM_A, retransmits, 0);
	uint32_t hole = c->c->snd_una, cwnd = c->c->cwnd;
	pop_all(&rp);
	sim_advance(s, 10);
	/* the next segment is late; six after it arrive, one SACK each */
	for (uint32_t k = 1; k <= 6; k++) {
		uint32_t b[1][2] = { { hole + MSS, hole + (k + 1) * MSS } };
		raw_ack_sack(&rp, hole, b, 1);
		sim_run(s);
	}
	CHECK_STAT(s, SIM_A, retransmits, 0);
	CHECK_STAT(s, SIM_A, recoveries, 0);
	/* 2 ms of reordering against segments sent 1 ms after the hole:
	 * 12 ms after the hole left, below RACK.rtt + reo_wnd = 12.5 ms */
	sim_advance(s, 1);
	raw_ack_sack(&rp, hole + 7 * MSS, NULL, 0);
	sim_run(s);
	CHECK_STAT(s, SIM_A, retransmits, 0);
	CHECK_STAT(s, SIM_A, recoveries, 0);
	CHECK_CMP(c->c->cwnd, >=, cwnd);
	sim_raw_clear(s);
	sim_free(s);
}

/* One jitter episode on a 40 ms path: 18 segments leave one per ms from
 * SND.UNA (segment k at k ms); at 40 + y ms segments below x are acked and
 * segment y alone is SACKed (segment x, sent y - x ms before y, is late).
 * Then x..y arrive, then the rest. Returns the retransmissions the late
 * segment cost; *resent: the first byte resent, if any. */
#define JIT_N 18u
static uint64_t jitter_episode(struct sim *s, struct raw_peer *rp, struct sim_conn *c,
			       uint32_t x, uint32_t y, uint32_t *resent)
{
	static uint8_t d[MSS];
	struct sim_pkt p;
	uint32_t base = c->c->snd_una;
	uint64_t r0 = sim_stats(s, SIM_A)->retransmits;

	CHECK_EQ(c->c->snd_una, c->c->snd_max);
	CHECK(!(c->c->flags & TF_RECOVERY));
	c->c->cwnd = 64 * MSS;         /* the episode is not cwnd-limited */
	for (uint32_t k = 0; k < JIT_N; k++) {
		CHECK_EQ(MSS, dpt_send(s->eng[SIM_A], c->c, d, MSS));
		sim_run(s);
		pop_all(rp);
		sim_advance(s, 1);
	}
	CHECK_EQ(base + JIT_N * MSS, c->c->snd_max);
	sim_advance(s, 40 + y - JIT_N);
	uint32_t b[1][2] = { { base + y * MSS, base + (y + 1) * MSS } };
	raw_ack_sack(rp, base + x * MSS, b, 1);
	sim_run(s);
	*resent = 0;
	while (raw_pop(rp, &p))
		if (p.seg.len > 0 && *resent == 0)
			*resent = p.seg.seq;
	uint64_t cost = sim_stats(s, SIM_A)->retransmits - r0;
	sim_advance(s, 1);
	raw_ack_sack(rp, base + (y + 1) * MSS, NULL, 0);
	sim_run(s);
	pop_all(rp);
	sim_advance(s, 5);
	raw_ack_sack(rp, base + JIT_N * MSS, NULL, 0);
	sim_run(s);
	pop_all(rp);
	sim_advance(s, 50);
	sim_run(s);
	pop_all(rp);
	return cost;
}

static struct sim_conn *jitter_setup(struct sim **sp, struct raw_peer *rp)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].cc = TCP_CC_CUBIC;
	o.cfg[SIM_A].tlp = false;      /* no probe in the episodes */
	struct sim *s = mk_sim_opts(&o);
	*sp = s;
	struct sim_conn *c = raw_accept(s, rp, 7000, 90000, 1460, 40);
	c->c->sack_ok = true;
	CHECK_EQ(40000, c->c->rack.min_rtt_us == 0 ? 40000 : c->c->rack.min_rtt_us);
	return c;
}

/* RFC 8985 §6.2: a segment delivered less than RACK.reo_wnd (min_RTT / 4
 * = 10 ms here) after one sent before it does not make that one lost.
 * Send times are kept per srtt/16 marks (tcp_rack.c): dating the
 * delivered segment by its mark's end (as with srtt/8 marks before) made
 * a 7 ms reordering look like 12 ms and resent it at once. */
void test_rack_reordering_below_reo_wnd_not_resent(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *c = jitter_setup(&s, &rp);
	uint32_t at;

	CHECK_EQ(0, jitter_episode(s, &rp, c, 5, 12, &at));
	CHECK_EQ(0, jitter_episode(s, &rp, c, 2, 11, &at));
	CHECK_STAT(s, SIM_A, retransmits, 0);
	CHECK_STAT(s, SIM_A, recoveries, 0);
	CHECK_STAT(s, SIM_A, rto_expired, 0);
	sim_raw_clear(s);
	sim_free(s);
}

/* RFC 8985 §6.2 step 4: a D-SACK of a resend widens the reordering window
 * (reo_wnd_mult 2: 20 ms), so the same 13 ms reordering that cost a
 * resend once costs none the next time; it stays wide for 16 recoveries. */
void test_rack_dsack_widens_reo_wnd(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *c = jitter_setup(&s, &rp);
	uint32_t at;

	CHECK_EQ(1, c->c->rack.reo_mult);
	uint64_t first = jitter_episode(s, &rp, c, 2, 15, &at);
	CHECK_CMP(first, >=, 1);
	CHECK_EQ(c->c->snd_una, c->c->snd_max);
	/* the receiver got the resend too: D-SACK (below the ACK) */
	uint32_t b[1][2] = { { at, at + MSS } };
	raw_ack_sack(&rp, c->c->snd_una, b, 1);
	sim_run(s);
	pop_all(&rp);
	CHECK_STAT(s, SIM_A, rx_dsack, 1);
	CHECK_EQ(2, c->c->rack.reo_mult);
	CHECK_EQ(0, jitter_episode(s, &rp, c, 2, 15, &at));
	CHECK_STAT(s, SIM_A, retransmits, first);
	CHECK_EQ(2, c->c->rack.reo_mult);
	sim_raw_clear(s);
	sim_free(s);
}

/* Drops the first `drops` transmissions of the nth data segment from A. */
struct drop_rxt {
	unsigned int nth, seen, drops, dropped;
	uint32_t seq;
	bool armed;
};

static enum sim_verdict drop_rxt_filter(struct sim *s, const struct sim_seg *g, void *ctx)
{
	struct drop_rxt *f = ctx;
	(void)s;
	if (g->from != SIM_A || g->len == 0)
		return SIM_PASS;
	if (!f->armed && ++f->seen == f->nth) {
		f->armed = true;
		f->seq = g->seq;
	}
	if (f->armed && g->seq == f->seq && f->dropped < f->drops) {
		f->dropped++;
		return SIM_DROP;
	}
	return SIM_PASS;
}

/* RFC 8985 §6.2: a resend is lost like any segment once data sent after
 * it was delivered and its reordering window passed: the same segment
 * lost twice mid-flight is sent a third time, no RTO (RFC 6675 could
 * only wait for the timeout). B's window (256 KiB, scaled) leaves A
 * free to send new data after the resend; a 64 KiB one can stop A right
 * after it, which is tlp_resend_seq()'s case. */
void test_rack_lost_retransmission_resent_without_rto(void)
{
	struct sim_conn *b, *a;
	struct sim_opts o;
	sim_opts_default(&o);
	o.latency_us = 5000;
	o.cfg[SIM_B].rcv_buf_bytes = 262144;
	struct sim *s = mk_sim_opts(&o);
	pair_connect(s, &b, &a);
	struct drop_rxt f = { .nth = 300, .drops = 2 };
	sim_set_filter(s, drop_rxt_filter, &f);
	one_way(s, a, b, 1u << 20, 43);
	CHECK_EQ(2, f.dropped);
	const struct tcp_stats *st = sim_stats(s, SIM_A);
	printf("lost resend: retransmits %" PRIu64 " lost resends %" PRIu64 " rto %" PRIu64
	       " recoveries %" PRIu64 "\n", st->retransmits, st->rack_lost_resends,
	       st->rto_expired, st->recoveries);
	CHECK_STAT(s, SIM_A, rto_expired, 0);
	CHECK_STAT(s, SIM_A, rack_lost_resends, 1);
	CHECK_STAT(s, SIM_A, retransmits, 2);
	CHECK_STAT(s, SIM_A, recoveries, 1);
	sim_free(s);
}

/* The same segment lost twice while B does not read: its 64 KiB window
 * is full right after the resend, so nothing new can follow it for RACK
 * to see delivered, and the last segment sent is SACKed already. The
 * probe in recovery (RFC 8985 §7.3, tlp_resend_seq()) resends the
 * highest segment not SACKed, the hole. Before, it picked the last
 * segment of the data queued (never sent: nothing went out) and only the
 * RTO repaired the hole. */
void test_recovery_probe_resends_hole_when_window_full(void)
{
	struct sim_conn *b, *a;
	struct sim *s = mk_pair_latency(5000, &b, &a);
	struct drop_rxt f = { .nth = 40, .drops = 2 };
	size_t len = 80 * 1024;
	uint8_t *d = malloc(len);
	CHECK(d != NULL);
	sim_fill_pattern(d, len, 44);
	b->auto_read = false;
	sim_set_filter(s, drop_rxt_filter, &f);
	sim_conn_send(a, d, len, 0);
	SIM_RUN_UNTIL(s, f.dropped == 2 && seq_gt(a->c->snd_una, f.seq), 2000);
	const struct tcp_stats *st = sim_stats(s, SIM_A);
	printf("window full after a lost resend: retransmits %" PRIu64 " recovery probes %"
	       PRIu64 " rto %" PRIu64 " recoveries %" PRIu64 ", B's window %u\n",
	       st->retransmits, st->tlp_recovery_probes, st->rto_expired, st->recoveries,
	       a->c->snd_wnd);
	CHECK_EQ(2, f.dropped);
	CHECK(seq_gt(a->c->snd_una, f.seq));
	CHECK_STAT(s, SIM_A, rto_expired, 0);
	CHECK_STAT(s, SIM_A, tlp_recovery_probes, 1);
	CHECK_STAT(s, SIM_A, recoveries, 1);
	b->auto_read = true;
	SIM_RUN_UNTIL(s, b->rx_len == len && a->c->snd_una == a->c->snd_max, 5000);
	CHECK_EQ(len, b->rx_len);
	CHECK_PATTERN(b->rx, len, 44);
	CHECK_STAT(s, SIM_A, rto_expired, 0);
	free(d);
	sim_free(s);
}

/* Drops A's nth data segment once, then the first ACK from B that covers
 * its resend (the receiver's one cumulative ACK of the whole tail). */
struct drop_tail_ack {
	unsigned int nth, seen;
	uint32_t seq;
	bool data_dropped, resent, ack_dropped;
};

static enum sim_verdict drop_tail_ack_filter(struct sim *s, const struct sim_seg *g,
					     void *ctx)
{
	struct drop_tail_ack *f = ctx;
	(void)s;
	if (g->from == SIM_A && g->len > 0) {
		if (!f->data_dropped && ++f->seen == f->nth) {
			f->data_dropped = true;
			f->seq = g->seq;
			return SIM_DROP;
		}
		if (f->data_dropped && g->seq == f->seq)
			f->resent = true;
		return SIM_PASS;
	}
	if (g->from == SIM_B && f->resent && !f->ack_dropped &&
	    seq_gt(g->ack, f->seq)) {
		f->ack_dropped = true;
		return SIM_DROP;
	}
	return SIM_PASS;
}

/* Issue 6, a 0 ms path: the last send of a recovery is the resend RACK
 * found lost, nothing new may follow (the transfer ended; in bulk, pipe >=
 * cwnd), and the receiver's one ACK of everything is lost. Nothing else
 * would draw an ACK before the 200 ms RTO; a probe in recovery after a
 * PTO does (one resend of the last segment, D-SACKed), without an RTO. */
void test_recovery_probe_when_final_ack_lost(void)
{
	struct sim_conn *b, *a;
	struct sim *s = mk_pair_latency(100, &b, &a);   /* RTT 0.2 ms, RTO 200 ms */
	one_way(s, a, b, 64 * 1024, 50);        /* an SRTT */
	b->rx_len = 0;

	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	struct drop_tail_ack f = { .nth = 25 };
	sim_set_filter(s, drop_tail_ack_filter, &f);
	uint64_t t0 = s->now_us;
	one_way(s, a, b, 30 * in.mss, 51);
	CHECK(f.data_dropped && f.resent && f.ack_dropped);
	const struct tcp_stats *st = sim_stats(s, SIM_A);
	printf("final ACK lost: %" PRIu64 " us, retransmits %" PRIu64 " recovery probes %"
	       PRIu64 " rto %" PRIu64 "\n", s->now_us - t0, st->retransmits,
	       st->tlp_recovery_probes, st->rto_expired);
	CHECK_STAT(s, SIM_A, rto_expired, 0);
	CHECK_STAT(s, SIM_A, recoveries, 1);
	CHECK_STAT(s, SIM_A, tlp_recovery_probes, 1);
	CHECK_STAT(s, SIM_A, retransmits, 2);
	CHECK(s->now_us - t0 < 100000);
	sim_free(s);
}

/* RFC 2883 / Linux's D-SACK undo: a fast retransmit whose only resend the
 * receiver reports as a duplicate (the original was late, not lost)
 * gives back the window and ssthresh it took. */
void test_undo_when_dsack_reports_every_resend(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *c = loss_setup(&s, &rp, TCP_CC_CUBIC);
	static uint8_t d[40 * MSS];
	uint32_t base = rp.rcv_nxt;
	c->c->sack_ok = true;
	CHECK_EQ(sizeof(d), dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	pop_all(&rp);
	sim_advance(s, 10);
	uint32_t cwnd = c->c->cwnd, ssthresh = c->c->ssthresh;
	/* 1..3 before 0: no reordering seen yet, so 0 is lost (§6.2) */
	for (uint32_t k = 1; k <= 3; k++) {
		uint32_t b[1][2] = { { base + MSS, base + (k + 1) * MSS } };
		raw_ack_sack(&rp, base, b, 1);
		sim_run(s);
	}
	CHECK_STAT(s, SIM_A, recoveries, 1);
	CHECK_STAT(s, SIM_A, retransmits, 1);
	CHECK_CMP(c->c->cwnd, <, cwnd);
	pop_all(&rp);
	/* the original arrives: everything sent so far acknowledged */
	sim_advance(s, 1);
	uint32_t all = c->c->snd_max;
	raw_ack_sack(&rp, all, NULL, 0);
	sim_run(s);
	CHECK(!(c->c->flags & TF_RECOVERY));
	CHECK_STAT(s, SIM_A, undo_dsack, 0);
	/* then the resend, reported as a duplicate */
	uint32_t dup[1][2] = { { base, base + MSS } };
	raw_ack_sack(&rp, all, dup, 1);
	sim_run(s);
	CHECK_STAT(s, SIM_A, rx_dsack, 1);
	CHECK_STAT(s, SIM_A, undo_dsack, 1);
	CHECK_CMP(c->c->cwnd, >=, cwnd);
	CHECK_EQ(ssthresh, c->c->ssthresh);
	sim_raw_clear(s);
	sim_free(s);
}

/* Holds the first transmission of the nth data segment from A. */
struct hold_nth {
	unsigned int nth, seen;
	bool held;
};

static enum sim_verdict hold_nth_filter(struct sim *s, const struct sim_seg *g, void *ctx)
{
	struct hold_nth *f = ctx;
	(void)s;
	if (g->from != SIM_A || g->len == 0 || f->held)
		return SIM_PASS;
	if (++f->seen == f->nth) {
		f->held = true;
		return SIM_HOLD;
	}
	return SIM_PASS;
}

/* RFC 3522 (Eifel detection, as Linux's tcp_packet_delayed()): a segment
 * held 8 ms on a 10 ms path is resent on the SACKs of the segments after
 * it, but the original reaches the receiver first, so the ACK that ends
 * recovery echoes the original's TSval, older than the resend's: the
 * reduction is undone (slow start goes on). */
void test_undo_when_tsecr_predates_resend(void)
{
	struct sim_conn *b, *a;
	struct sim *s = mk_pair_latency(5000, &b, &a);
	uint32_t ssthresh = a->c->ssthresh;
	struct hold_nth f = { .nth = 5 };
	sim_set_filter(s, hold_nth_filter, &f);
	static uint8_t d[20 * MSS];
	sim_fill_pattern(d, sizeof(d), 44);
	b->auto_read = true;
	sim_conn_send(a, d, sizeof(d), 0);
	SIM_RUN_UNTIL(s, f.held, 100);
	CHECK(f.held);
	SIM_RUN_UNTIL(s, sim_stats(s, SIM_A)->recoveries > 0, 20);
	CHECK_STAT(s, SIM_A, recoveries, 1);
	sim_release_all(s);            /* the original, late */
	SIM_RUN_UNTIL(s, b->rx_len == sizeof(d) && a->c->snd_una == a->c->snd_max, 1000);
	CHECK_EQ(sizeof(d), b->rx_len);
	CHECK_PATTERN(b->rx, b->rx_len, 44);
	CHECK_STAT(s, SIM_A, undo_ts, 1);
	CHECK_EQ(ssthresh, a->c->ssthresh);
	sim_free(s);
}

/* Holds the first pure ACK from B that acknowledges ack. */
struct hold_ack {
	uint32_t ack;
	bool held;
};

static enum sim_verdict hold_ack_filter(struct sim *s, const struct sim_seg *g, void *ctx)
{
	struct hold_ack *f = ctx;
	(void)s;
	if (g->from != SIM_B || g->len != 0 || f->held || g->ack != f->ack)
		return SIM_PASS;
	f->held = true;
	return SIM_HOLD;
}

/* RFC 8985 §7.4.2: a resent probe that only outran the late ACK of the
 * original is reported by the receiver as a duplicate (D-SACK): no loss
 * — counted tlp_spurious, not tlp_recoveries, and the window stays. The
 * late ACK comes first and reaches exactly TLP.end_seq: that alone must
 * not count as a repaired loss. */
void test_tlp_dsacked_probe_counted_spurious(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.latency_us = 1000;
	o.cfg[SIM_A].rto_min_ms = o.cfg[SIM_B].rto_min_ms = 1000;
	struct sim *s = mk_sim_opts(&o);
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	CHECK(a->c->sack_ok);
	struct dpt_conn_info in;
	CHECK(sim_conn_info(a, &in));
	static uint8_t d[20 * 1460];
	sim_fill_pattern(d, sizeof(d), 45);
	size_t len = 20u * in.mss;
	struct hold_ack f = { .ack = a->c->snd_max + (uint32_t)len };
	sim_set_filter(s, hold_ack_filter, &f);
	b->auto_read = true;
	sim_conn_send(a, d, len, 0);
	SIM_RUN_UNTIL(s, sim_stats(s, SIM_A)->tlp_probes > 0, 2000);
	CHECK(f.held);
	CHECK_STAT(s, SIM_A, tlp_probes, 1);
	CHECK_STAT(s, SIM_A, retransmits, 1);
	uint32_t cwnd = a->c->cwnd, ssthresh = a->c->ssthresh;
	sim_release_all(s);            /* the original's ACK, late */
	SIM_RUN_UNTIL(s, a->c->snd_una == a->c->snd_max &&
		      sim_stats(s, SIM_A)->rx_dsack > 0, 1000);
	CHECK_EQ(len, b->rx_len);
	CHECK_PATTERN(b->rx, len, 45);
	CHECK_STAT(s, SIM_A, rx_dsack, 1);
	CHECK_STAT(s, SIM_A, tlp_spurious, 1);
	CHECK_STAT(s, SIM_A, tlp_recoveries, 0);
	CHECK_STAT(s, SIM_A, rto_expired, 0);
	CHECK_EQ(ssthresh, a->c->ssthresh);
	CHECK_CMP(a->c->cwnd, >=, cwnd);
	sim_set_filter(s, NULL, NULL);
	sim_free(s);
}

/* RFC 8985 §6.2 with send times kept per srtt/16 mark (tcp_rack.c): a
 * segment SACKed within srtt/16 of the hole below it (a sub-millisecond
 * path with an SRTT still high from the handshake) shares the hole's
 * mark, and sends after the SACK move the mark's time past RACK.xmit_ts.
 * The hole left before the SACKed segment (a mark sends in sequence
 * order), so it is lost once RACK.rtt + reo_wnd has passed: resent at
 * once, not after the 200 ms RTO. Before: no loss, no RACK timer, no TLP
 * (SACKed data), rto_expired 1. */
void test_rack_hole_in_mark_of_sacked_segment(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *c = loss_setup(&s, &rp, TCP_CC_CUBIC); /* SRTT 10 ms */
	static uint8_t d[3 * MSS];
	struct sim_pkt p;
	uint32_t base = rp.rcv_nxt, resent = 0;
	c->c->sack_ok = true;
	CHECK_EQ(2 * MSS, dpt_send(s->eng[SIM_A], c->c, d, 2 * MSS));
	sim_run(s);
	pop_all(&rp);                  /* segments 0 and 1, one mark */
	sim_advance_us(s, 100);
	/* 1 arrives, 0 does not */
	uint32_t b1[1][2] = { { base + MSS, base + 2 * MSS } };
	raw_ack_sack(&rp, base, b1, 1);
	sim_run(s);
	/* new data within srtt/16 of the mark's start joins the mark */
	CHECK_EQ(MSS, dpt_send(s->eng[SIM_A], c->c, d, MSS));
	sim_run(s);
	pop_all(&rp);
	CHECK_EQ(1, c->c->rack.o_n);
	sim_advance(s, 5);
	while (raw_pop(&rp, &p))
		if (p.seg.len > 0 && resent == 0)
			resent = p.seg.seq;
	CHECK_STAT(s, SIM_A, retransmits, 1);
	CHECK_EQ(base, resent);
	CHECK_STAT(s, SIM_A, rto_expired, 0);
	sim_raw_clear(s);
	sim_free(s);
}

/* RFC 6937: in SACK recovery the window comes down in proportion to what
 * is delivered. Segment 0 of a 20-segment flight (cwnd 20) is lost and
 * 1..19 arrive, one SACK each; recovery begins at the third (RACK,
 * reo_wnd 0 with three segments SACKed; two new segments left on the
 * first two) and ssthresh is 14. PRR sends ~0.64 new segments per
 * segment delivered from there on (14 of the 22 in flight); RFC 6675
 * alone sent nothing until the pipe fell below ssthresh (the ninth SACK),
 * so the ACK clock stalled for a quarter of a round trip. */
void test_prr_spreads_sends_over_recovery(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_conn *c = loss_setup(&s, &rp, TCP_CC_CUBIC);  /* RTT 10 ms */
	static uint8_t d[40 * MSS];
	struct sim_pkt p;
	uint32_t base = rp.rcv_nxt;
	unsigned int fresh = 0, resent = 0, fresh_at3 = 0, fresh_at8 = 0;
	c->c->sack_ok = true;
	c->c->cwnd = 20 * MSS;
	CHECK_EQ(sizeof(d), dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
	sim_run(s);
	uint32_t high = base;
	while (raw_pop(&rp, &p))
		if (p.seg.len > 0)
			high = p.seg.seq + p.seg.len;
	CHECK_EQ(base + 20 * MSS, high);
	sim_advance(s, 10);
	for (uint32_t k = 1; k <= 19; k++) {
		uint32_t b[1][2] = { { base + MSS, base + (k + 1) * MSS } };
		raw_ack_sack(&rp, base, b, 1);
		sim_run(s);
		while (raw_pop(&rp, &p)) {
			if (p.seg.len == 0)
				continue;
			if (seq_lt(p.seg.seq, high))
				resent++;
			else
				fresh++, high = p.seg.seq + p.seg.len;
		}
		if (k == 3)             /* recovery began */
			fresh_at3 = fresh;
		if (k == 8)
			fresh_at8 = fresh;
	}
	printf("PRR: new segments before recovery %u, in its first 5 SACKs %u, in all %u;"
	       " resent %u\n", fresh_at3, fresh_at8 - fresh_at3, fresh - fresh_at3, resent);
	CHECK_STAT(s, SIM_A, recoveries, 1);
	CHECK_EQ(1, resent);
	CHECK_CMP(fresh_at8 - fresh_at3, >=, 2);
	/* the recovery round sends about ssthresh (14) in all */
	CHECK_CMP(fresh - fresh_at3 + resent, >=, 12);
	CHECK_CMP(fresh - fresh_at3 + resent, <=, 14);
	/* the resend arrives: the ACK covers the 22 segments of the flight
	 * at entry and ends recovery with cwnd = ssthresh (RFC 6582 §3.2
	 * step 3 option (2), as Linux; option (1), min(ssthresh, flight +
	 * SMSS), gave 12 segments here) */
	uint32_t ssthresh = c->c->ssthresh;
	CHECK_CMP(ssthresh / MSS, ==, 14);
	raw_ack_sack(&rp, base + 22 * MSS, NULL, 0);
	sim_run(s);
	CHECK(!(c->c->flags & TF_RECOVERY));
	CHECK_EQ(ssthresh, c->c->cwnd);
	sim_raw_clear(s);
	sim_free(s);
}

/* RFC 3465 §2.2 with L = 2 SMSS: in slow start, an ACK of two segments
 * (a delayed ACK, Linux's every other segment) grows the window by two
 * segments, so slow start doubles cwnd per round trip against a
 * delayed-ACK receiver (L = 1 SMSS grew it by half). */
void test_slow_start_counts_two_segments_per_ack(void)
{
	for (uint32_t cc = 0; cc < 2; cc++) {
		struct sim *s;
		struct raw_peer rp;
		struct sim_conn *c = loss_setup(&s, &rp, cc ? TCP_CC_NEWRENO : TCP_CC_CUBIC);
		static uint8_t d[20 * MSS];
		uint32_t base = rp.rcv_nxt, cwnd = c->c->cwnd;
		CHECK_CMP(c->c->ssthresh, >, 20 * MSS);
		CHECK_EQ(sizeof(d), dpt_send(s->eng[SIM_A], c->c, d, sizeof(d)));
		sim_run(s);
		pop_all(&rp);
		sim_advance(s, 10);
		raw_ack_sack(&rp, base + 2 * MSS, NULL, 0);
		sim_run(s);
		CHECK_EQ(cwnd + 2 * MSS, c->c->cwnd);
		raw_ack_sack(&rp, base + 5 * MSS, NULL, 0);  /* a stretch ACK */
		sim_run(s);
		CHECK_EQ(cwnd + 4 * MSS, c->c->cwnd);
		sim_raw_clear(s);
		sim_free(s);
	}
}
