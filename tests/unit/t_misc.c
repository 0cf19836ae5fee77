/* t_misc.c — whole-engine properties: all eleven states reachable and
 * observed, no mbuf leaked, malformed input dropped and counted, and
 * seeded fuzzing of tcp_input_burst against a listener and an established
 * connection (must not crash, must count drops, must not leak). */
#include "t_common.h"
#include "tcp_seq.h"
#include "tests.h"

static enum sim_verdict hold_synack(struct sim *s, const struct sim_seg *g, void *ctx)
{
	(void)s;
	(void)ctx;
	return (g->flags & (F_SYN | F_ACK)) == (F_SYN | F_ACK) ? SIM_HOLD : SIM_PASS;
}

static enum sim_verdict hold_acks_from(struct sim *s, const struct sim_seg *g, void *ctx)
{
	(void)s;
	int from = *(int *)ctx;
	return g->from == from && (g->flags & ~F_PSH) == F_ACK && g->len == 0 ? SIM_HOLD : SIM_PASS;
}

static enum sim_verdict hold_all_acks(struct sim *s, const struct sim_seg *g, void *ctx)
{
	(void)s;
	(void)ctx;
	return (g->flags & ~F_PSH) == F_ACK && g->len == 0 ? SIM_HOLD : SIM_PASS;
}

/* Drives two engines through every state of RFC 9293 §3.3.2 and checks,
 * from tcp_engine_state_counts() after every loop round, dpt_conn_state()
 * and the state inside the final event, that each of the eleven was seen. */
void test_every_state_visited(void)
{
	struct sim *s = mk_sim();
	int r, from;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);

	/* LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED */
	sim_set_filter(s, hold_synack, NULL);
	struct sim_conn *b = sim_connect(s, SIM_B, SIM_IP_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	sim_run(s);
	CHECK_STATE(DPT_SYN_SENT, sim_state(b));
	CHECK_EQ(1, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	sim_set_filter(s, NULL, NULL);
	sim_release_all(s);
	sim_run(s);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(b));
	CHECK_EQ(1, l->naccepted);
	struct sim_conn *a = l->accepted[0];

	/* FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT */
	from = SIM_A;
	sim_set_filter(s, hold_acks_from, &from);
	CHECK_EQ(0, dpt_close(s->eng[SIM_B], b->c));
	sim_run(s);
	CHECK_STATE(DPT_FIN_WAIT_1, sim_state(b));
	CHECK_STATE(DPT_CLOSE_WAIT, sim_state(a));
	sim_set_filter(s, NULL, NULL);
	sim_release_all(s);
	sim_run(s);
	CHECK_STATE(DPT_FIN_WAIT_2, sim_state(b));

	/* LAST_ACK, TIME_WAIT, CLOSED */
	from = SIM_B;
	sim_set_filter(s, hold_acks_from, &from);
	CHECK_EQ(0, dpt_close(s->eng[SIM_A], a->c));
	sim_run(s);
	CHECK_STATE(DPT_LAST_ACK, sim_state(a));
	CHECK_STATE(DPT_TIME_WAIT, sim_state(b));
	sim_set_filter(s, NULL, NULL);
	sim_release_all(s);
	sim_run(s);
	CHECK_STATE(DPT_CLOSED, sim_state(a));

	/* CLOSING: a second connection closed from both ends at once */
	struct sim_conn *b2, *a2;
	pair_connect(s, &b2, &a2);
	sim_set_filter(s, hold_all_acks, NULL);
	CHECK_EQ(0, dpt_close(s->eng[SIM_A], a2->c));
	CHECK_EQ(0, dpt_close(s->eng[SIM_B], b2->c));
	sim_run(s);
	CHECK_STATE(DPT_CLOSING, sim_state(a2));
	sim_set_filter(s, NULL, NULL);
	sim_release_all(s);
	sim_advance(s, 300);

	uint32_t seen = s->states_seen[SIM_A] | s->states_seen[SIM_B];
	for (unsigned int i = 0; i < s->nconns; i++)
		seen |= s->conns[i].states_seen;
	char missing[256] = "";
	for (int st = 0; st < DPT_STATE_COUNT; st++)
		if (!(seen & (1u << st))) {
			strcat(missing, " ");
			strcat(missing, check_state_name((enum dpt_state)st));
		}
	CHECK_MSG(missing[0] == '\0', "states never observed:%s", missing);
	/* dpt_state_name agrees with the RFC's names */
	CHECK(strcmp(dpt_state_name(DPT_SYN_RECEIVED), "SYN_RECEIVED") == 0 ||
	      strcmp(dpt_state_name(DPT_SYN_RECEIVED), "SYN-RECEIVED") == 0);
	CHECK_CMP(sim_stats(s, SIM_A)->state_changes, >=, 9);
	sim_free(s);
}

/* Every mbuf comes back: transfers with loss and duplication, a refused
 * connect, a reset, malformed input, and connections still holding send
 * and receive data when the engines are destroyed. */
void test_no_mbuf_leak(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.cfg[SIM_B].rcv_buf_bytes = 8192;
	struct sim *s = mk_sim_opts(&o);
	sim_set_impair(s, sim_seed(777), 20000, 20000, 0);
	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	static uint8_t d[200000];
	sim_fill_pattern(d, sizeof(d), 41);
	sim_conn_send(a, d, sizeof(d), 2);
	sim_conn_send(b, d, 50000, 2);
	a->close_on_eof = b->close_on_eof = true;
	SIM_RUN_UNTIL(s, !a->alive && !b->alive, 120000);
	CHECK(!a->alive && !b->alive); /* (data integrity: the bulk tests) */
	sim_set_impair(s, 1, 0, 0, 0);

	/* refused, reset */
	int r;
	struct sim_conn *x = sim_connect(s, SIM_B, SIM_IP_A, 81, 0, &r);
	CHECK_EQ(0, r);
	sim_run(s);
	CHECK_EQ(-ECONNREFUSED, x->last_err);
	struct sim_conn *b2, *a2;
	pair_connect(s, &b2, &a2);
	sim_conn_send(a2, d, 30000, 0);
	sim_run(s);
	CHECK_EQ(0, dpt_abort(s->eng[SIM_A], a2->c));
	a2->alive = false;
	a2->c = NULL;
	sim_run(s);
	CHECK(!b2->alive);

	/* malformed input */
	uint8_t pkt[60];
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[2] = 0;
	pkt[3] = 60;
	pkt[8] = 64;
	pkt[9] = 6;
	pkt[12] = 10, pkt[15] = 9;
	pkt[16] = 10, pkt[19] = 1;
	pkt[20 + 12] = 0x30; /* doff 3 */
	sim_fix_csums(pkt);
	sim_inject_bytes(s, pkt, 60, 0);
	pkt[20 + 12] = 0x50;
	pkt[20 + 16] ^= 0xff; /* bad checksum */
	sim_inject_bytes(s, pkt, 60, 0);
	sim_run(s);

	/* left open at destroy: unacked data in A's send queue, unread data
	 * in B's receive queue */
	struct sim_conn *b3, *a3;
	pair_connect(s, &b3, &a3);
	b3->auto_read = false;
	sim_conn_send(a3, d, sizeof(d), 0);
	sim_advance(s, 500);
	CHECK_EQ(8192, dpt_readable(b3->c));
	CHECK_CMP(dpt_writable(a3->c), <, o.cfg[SIM_A].snd_buf_bytes);

	unsigned int inuse = sim_free(s);
	g_sim = NULL;
	CHECK_MSG(inuse == 0, "%u mbufs still in use after tcp_engine_destroy()", inuse);
}

static uint8_t *tcp_of(uint8_t *ip) { return ip + (ip[0] & 0xf) * 4; }

/* Malformed segments are dropped and counted; RX checksum flags are
 * honoured (BAD drops, GOOD is trusted, UNKNOWN is verified); chained
 * mbufs are refused (rx_multiseg). The connection is unharmed. */
void test_bad_checksum_dropped(void)
{
	struct sim *s;
	struct raw_peer rp;
	struct sim_pkt p;
	struct sim_conn *a = raw_established(&s, &rp, 1000, NULL, true);
	static uint8_t d[100];
	sim_fill_pattern(d, sizeof(d), 51);
	struct seg_spec sp = {
		.saddr = rp.ip, .daddr = SIM_IP_A, .sport = rp.port, .dport = SRV_PORT,
		.seq = rp.snd_nxt, .ack = rp.rcv_nxt, .flags = F_ACK | F_PSH, .win = 65535,
		.data = d, .len = 100,
	};

	/* UNKNOWN + wrong checksum: verified in software, dropped */
	sp.bad_csum = true;
	sim_inject(s, &sp);
	sim_run(s);
	RAW_EXPECT_NONE(&rp);
	CHECK_EQ(0, a->rx_len);
	CHECK_STAT(s, SIM_A, rx_bad_csum, 1);

	/* BAD flag + right checksum: the NIC said bad */
	sp.bad_csum = false;
	sp.ol_flags = RTE_MBUF_F_RX_L4_CKSUM_BAD;
	sim_inject(s, &sp);
	sim_run(s);
	RAW_EXPECT_NONE(&rp);
	CHECK_EQ(0, a->rx_len);
	CHECK_STAT(s, SIM_A, rx_bad_csum, 2);

	/* GOOD flag + wrong checksum: the NIC vouched, the engine trusts it */
	sp.bad_csum = true;
	sp.ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	sim_inject(s, &sp);
	sim_run(s);
	RAW_EXPECT(&rp, &p);
	CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt + 100);
	rp.snd_nxt += 100;
	CHECK_EQ(100, a->rx_len);
	CHECK_STAT(s, SIM_A, rx_bad_csum, 2);

	/* a SYN with a bad checksum opens nothing */
	struct seg_spec syn = {
		.saddr = rp.ip, .daddr = SIM_IP_A, .sport = 40001, .dport = SRV_PORT,
		.seq = 5, .flags = F_SYN, .win = 65535, .mss = 1460, .bad_csum = true,
	};
	sim_inject(s, &syn);
	sim_run(s);
	CHECK_EQ(0, sim_raw_pending(s));
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	CHECK_STAT(s, SIM_A, rx_bad_csum, 3);

	/* header length below 20, above the segment, segment shorter than a
	 * header: rx_bad_hdr (checksums right) */
	uint8_t pkt[200];
	struct rte_mbuf *m = sim_build(s, &(struct seg_spec){
		.saddr = rp.ip, .daddr = SIM_IP_A, .sport = rp.port, .dport = SRV_PORT,
		.seq = rp.snd_nxt, .ack = rp.rcv_nxt, .flags = F_ACK, .win = 65535,
		.data = d, .len = 20});
	uint16_t len = (uint16_t)rte_pktmbuf_pkt_len(m);
	memcpy(pkt, rte_pktmbuf_mtod(m, uint8_t *), len);
	rte_pktmbuf_free(m);
	tcp_of(pkt)[12] = 0x40; /* 16 bytes */
	sim_fix_csums(pkt);
	sim_inject_bytes(s, pkt, len, 0);
	tcp_of(pkt)[12] = 0xf0; /* 60 bytes > 40 */
	sim_fix_csums(pkt);
	sim_inject_bytes(s, pkt, len, 0);
	pkt[2] = 0;
	pkt[3] = 20 + 12; /* 12 bytes of TCP */
	tcp_of(pkt)[12] = 0x50;
	sim_fix_csums(pkt);
	sim_inject_bytes(s, pkt, 32, 0);
	sim_run(s);
	RAW_EXPECT_NONE(&rp);
	CHECK_STAT(s, SIM_A, rx_bad_hdr, 3);
	CHECK_EQ(100, a->rx_len);

	/* a chained mbuf */
	struct rte_mbuf *h = sim_build(s, &(struct seg_spec){
		.saddr = rp.ip, .daddr = SIM_IP_A, .sport = rp.port, .dport = SRV_PORT,
		.seq = rp.snd_nxt, .ack = rp.rcv_nxt, .flags = F_ACK | F_PSH, .win = 65535,
		.data = d, .len = 100});
	struct rte_mbuf *t = rte_pktmbuf_alloc(s->wire_pool);
	CHECK(h != NULL && t != NULL);
	uint8_t *td = (uint8_t *)rte_pktmbuf_append(t, 50);
	memcpy(td, rte_pktmbuf_mtod_offset(h, uint8_t *, 90), 50);
	rte_pktmbuf_trim(h, 50);
	CHECK_EQ(0, rte_pktmbuf_chain(h, t));
	sim_input_direct(s, SIM_A, &h, 1);
	sim_run(s);
	CHECK_STAT(s, SIM_A, rx_multiseg, 1);

	/* the connection is fine */
	CHECK_STATE(DPT_ESTABLISHED, sim_state(a));
	raw_data(&rp, d, 10);
	while (raw_pop(&rp, &p))
		;
	CHECK_EQ(110, a->rx_len);
	CHECK_EQ(0, sim_free(s));
}

/* ------------------------------------------------------------- fuzzing */

static uint64_t fz_state;

static uint32_t fz(void)
{
	fz_state ^= fz_state >> 12;
	fz_state ^= fz_state << 25;
	fz_state ^= fz_state >> 27;
	return (uint32_t)((fz_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint32_t fz_n(uint32_t n) { return n ? fz() % n : 0; }

static void fz_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)fz();
}

/* Random option bytes: real kinds with sane or insane lengths. */
static unsigned int fz_opts(uint8_t *o, unsigned int max)
{
	unsigned int n = 0;
	while (n < max && fz_n(4) != 0) {
		unsigned int room = max - n;
		switch (fz_n(8)) {
		case 0:
			o[n++] = 1;
			break;
		case 1:
			o[n++] = 0;
			break;
		case 2:
			if (room >= 4) {
				o[n++] = 2;
				o[n++] = fz_n(3) ? 4 : (uint8_t)fz_n(8);
				o[n++] = (uint8_t)fz();
				o[n++] = (uint8_t)fz();
			}
			break;
		case 3:
			if (room >= 3) {
				o[n++] = 3;
				o[n++] = fz_n(3) ? 3 : (uint8_t)fz_n(8);
				o[n++] = (uint8_t)fz_n(20);
			}
			break;
		case 4:
			if (room >= 2) {
				o[n++] = 4;
				o[n++] = fz_n(3) ? 2 : (uint8_t)fz();
			}
			break;
		case 5:
			if (room >= 10) {
				o[n++] = 8;
				o[n++] = fz_n(3) ? 10 : (uint8_t)fz_n(12);
				fz_bytes(o + n, 8);
				n += 8;
			}
			break;
		default:
			if (room >= 2) {
				o[n++] = (uint8_t)fz();
				o[n++] = (uint8_t)fz();
			}
			break;
		}
	}
	return n;
}

struct fz_target {
	uint32_t saddr;
	uint16_t sport, dport;
	uint32_t seq, ack;   /* centres for the random numbers */
	bool near;           /* draw seq/ack near the centres */
};

/* One random packet; valid IPv4 header (the dataplane guarantees it),
 * random TCP. Returns its length. */
static uint16_t fz_packet(uint8_t *pkt, const struct fz_target *tg)
{
	unsigned int ihl = fz_n(10) == 0 ? 20 + 4 * fz_n(4) : 20;
	uint8_t *t = pkt + ihl;
	unsigned int tlen;
	int strategy = (int)fz_n(4);
	memset(pkt, 0, ihl);
	for (unsigned int i = 20; i < ihl; i++)
		pkt[i] = 1; /* IP NOP options */
	if (strategy == 0 || strategy == 1) {
		/* raw random TCP bytes, checksum right half of the time */
		tlen = fz_n(70);
		fz_bytes(t, tlen);
		if (tlen >= 4 && fz_n(2)) {
			t[0] = (uint8_t)(tg->sport >> 8), t[1] = (uint8_t)tg->sport;
			t[2] = (uint8_t)(tg->dport >> 8), t[3] = (uint8_t)tg->dport;
		}
	} else {
		unsigned int optlen = fz_n(3) ? 0 : fz_opts(t + 20, 40);
		unsigned int hl = 20 + ((optlen + 3) & ~3u);
		for (unsigned int i = 20 + optlen; i < hl; i++)
			t[i] = 0;
		unsigned int plen = fz_n(4) ? fz_n(200) : fz_n(1460);
		tlen = hl + plen;
		uint16_t sport = fz_n(4) ? tg->sport : (uint16_t)fz();
		uint16_t dport = fz_n(8) ? tg->dport : (uint16_t)fz_n(100);
		uint32_t seq = tg->near ? tg->seq + fz_n(140000) - 70000 : fz();
		uint32_t ack = tg->near ? tg->ack + fz_n(140000) - 70000 : fz();
		if (tg->near && fz_n(3) == 0)
			seq = tg->seq;
		if (tg->near && fz_n(3) == 0)
			ack = tg->ack;
		t[0] = (uint8_t)(sport >> 8), t[1] = (uint8_t)sport;
		t[2] = (uint8_t)(dport >> 8), t[3] = (uint8_t)dport;
		t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16);
		t[6] = (uint8_t)(seq >> 8), t[7] = (uint8_t)seq;
		t[8] = (uint8_t)(ack >> 24), t[9] = (uint8_t)(ack >> 16);
		t[10] = (uint8_t)(ack >> 8), t[11] = (uint8_t)ack;
		t[12] = (uint8_t)((fz_n(16) ? hl / 4 : fz_n(16)) << 4);
		uint8_t fl = (uint8_t)fz();
		if (fz_n(50) != 0)
			fl &= (uint8_t)~F_RST; /* RSTs rarely: they end the fun */
		if (strategy == 3)
			fl = fz_n(2) ? F_SYN : (F_ACK | (uint8_t)(fz() & (F_PSH | F_FIN)));
		t[13] = fl;
		t[14] = (uint8_t)fz(), t[15] = (uint8_t)fz();
		t[18] = fz_n(8) ? 0 : (uint8_t)fz();
		t[19] = fz_n(8) ? 0 : (uint8_t)fz();
		fz_bytes(t + hl, plen);
	}
	uint16_t tot = (uint16_t)(ihl + tlen);
	pkt[0] = (uint8_t)(0x40 | ihl / 4);
	pkt[2] = (uint8_t)(tot >> 8);
	pkt[3] = (uint8_t)tot;
	pkt[8] = 64;
	pkt[9] = 6;
	pkt[12] = (uint8_t)(tg->saddr >> 24), pkt[13] = (uint8_t)(tg->saddr >> 16);
	pkt[14] = (uint8_t)(tg->saddr >> 8), pkt[15] = (uint8_t)tg->saddr;
	pkt[16] = 10, pkt[17] = 0, pkt[18] = 0, pkt[19] = 1;
	bool good_csum = strategy == 0 ? false : strategy == 1 ? true : fz_n(10) != 0;
	sim_fix_csums(pkt);
	if (!good_csum && tlen >= 18)
		t[16] ^= (uint8_t)(1 + fz_n(255));
	return tot;
}

#define FUZZ_ITERS 4000

/* Every segment handed over is accounted for: rx_segs counts them all
 * ("TCP segments handed to the engine"), or rx_segs counts the valid ones
 * and the drop counters the rest. */
static void check_accounted(uint64_t handed, const struct tcp_stats *st)
{
	uint64_t drops = st->rx_bad_hdr + st->rx_bad_csum + st->rx_multiseg;
	CHECK_MSG(st->rx_segs == handed || st->rx_segs + drops == handed,
		  "%" PRIu64 " segments handed, rx_segs %" PRIu64 " + drops %" PRIu64, handed,
		  st->rx_segs, drops);
}

/* Random segments against two listeners (and whatever embryonic and
 * established connections they create): no crash, every segment counted,
 * drops counted, the listener still works, nothing leaks. */
void test_fuzz_listener(void)
{
	struct sim *s = mk_sim_raw();
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	CHECK(sim_listen(s, SIM_A, 443, 0, &r) != NULL);
	fz_state = sim_seed(0x5EED0001ULL) | 1;
	static uint8_t pkt[1600];
	static struct sim_pkt p;
	uint64_t injected = 0;
	uint32_t last_synack = 0, last_syn = 0;
	uint16_t last_port = 0;
	for (int it = 0; it < FUZZ_ITERS; it++) {
		struct fz_target tg = {
			.saddr = SIM_IP_RAW, .sport = (uint16_t)(50000 + fz_n(8)),
			.dport = fz_n(2) ? SRV_PORT : 443, .seq = fz(), .ack = fz(),
			.near = false,
		};
		if (last_port && fz_n(2)) {
			/* complete (or disturb) the handshake it answered */
			tg.sport = last_port;
			tg.seq = last_syn;
			tg.ack = last_synack + 1;
			tg.near = true;
		}
		unsigned int burst = 1 + fz_n(16);
		for (unsigned int k = 0; k < burst; k++) {
			uint16_t len = fz_packet(pkt, &tg);
			sim_inject_bytes(s, pkt, len, 0);
			injected++;
		}
		sim_run(s);
		while (sim_raw_pop(s, &p)) {
			if ((p.seg.flags & (F_SYN | F_ACK)) == (F_SYN | F_ACK)) {
				last_synack = p.seg.seq;
				last_syn = p.seg.ack;
				last_port = p.seg.dport;
			}
		}
		if (fz_n(16) == 0)
			sim_advance(s, fz_n(2000));
		if (s->ntrace > 200000)
			s->ntrace = 0; /* the trace is not needed here */
	}
	const struct tcp_stats *st = sim_stats(s, SIM_A);
	check_note("seed base 0x5EED0001 (DPT_SEED mixes in): %" PRIu64 " segments, bad_hdr %" PRIu64 " bad_csum %" PRIu64
		   " no_conn %" PRIu64 " unacceptable %" PRIu64 " accepted %u",
		   injected, st->rx_bad_hdr, st->rx_bad_csum, st->rx_no_conn, st->rx_unacceptable,
		   l->naccepted);
	check_accounted(injected, st);
	CHECK_CMP(st->rx_bad_hdr, >, 0);
	CHECK_CMP(st->rx_bad_csum, >, 0);
	CHECK_CMP(st->rx_no_conn, >, 0);

	/* let every timer run out, then the listener must still work */
	sim_advance(s, 200000);
	sim_raw_clear(s);
	struct raw_peer rp;
	raw_init(&rp, s, SIM_A, 60001, SRV_PORT);
	unsigned int before = l->naccepted;
	raw_handshake(&rp, 123456, 1460);
	CHECK_EQ(before + 1, l->naccepted);
	unsigned int inuse = sim_free(s);
	CHECK_MSG(inuse == 0, "%u mbufs leaked", inuse);
}

/* Random segments aimed at an established connection's 4-tuple with
 * sequence and acknowledgment numbers around the live ones, while the
 * application sends and receives: invariants hold, nothing crashes, drops
 * are counted, nothing leaks. A connection killed by a lucky RST is
 * replaced. */
void test_fuzz_established(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	/* random SYNs leave embryos for a minute: room for them */
	o.cfg[SIM_A].syn_backlog = 4000;
	o.cfg[SIM_A].max_conns = 8192;
	struct sim *s = mk_sim_opts(&o);
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	fz_state = sim_seed(0x5EED0002ULL) | 1;
	static uint8_t pkt[1600];
	static uint8_t txd[65536];
	sim_fill_pattern(txd, sizeof(txd), 61);
	struct raw_peer rp;
	uint16_t port = 40000;
	raw_init(&rp, s, SIM_A, port, SRV_PORT);
	raw_handshake(&rp, fz(), 1460);
	struct sim_conn *a = l->accepted[l->naccepted - 1];
	sim_conn_send(a, txd, sizeof(txd), 0);
	uint64_t injected = 0, reopened = 0;
	for (int it = 0; it < FUZZ_ITERS; it++) {
		if (!a->alive) {
			reopened++;
			/* a fresh tuple (a random segment may have opened one) */
			do
				++port;
			while (sim_tuple_state(s, SIM_A, SRV_PORT, rp.ip, port) != DPT_STATE_COUNT);
			raw_init(&rp, s, SIM_A, port, SRV_PORT);
			raw_handshake(&rp, fz(), fz_n(2) ? 1460 : (int)(1 + fz_n(2000)));
			a = l->accepted[l->naccepted - 1];
			sim_conn_send(a, txd, sizeof(txd), 0);
			CHECK(l->naccepted < 250);
		}
		struct dpt_conn_info in;
		CHECK(sim_conn_info(a, &in));
		CHECK_MSG(seq_leq(in.snd_una, in.snd_nxt), "snd_una %u > snd_nxt %u", in.snd_una,
			  in.snd_nxt);
		CHECK_CMP(in.rcv_queued, <=, 65535);
		CHECK_CMP(in.snd_queued, <=, 262144);
		CHECK_CMP(in.rcv_wnd, <=, 65535);
		struct fz_target tg = {
			.saddr = rp.ip, .sport = rp.port, .dport = SRV_PORT,
			.seq = in.rcv_nxt, .ack = in.snd_nxt, .near = true,
		};
		unsigned int burst = 1 + fz_n(8);
		for (unsigned int k = 0; k < burst; k++) {
			if (fz_n(4) == 0) {
				/* a valid in-order segment, so the stream moves */
				static uint8_t d[1460];
				uint16_t n = (uint16_t)fz_n(1461);
				fz_bytes(d, n);
				struct seg_spec sp = {
					.saddr = rp.ip, .daddr = SIM_IP_A, .sport = rp.port,
					.dport = SRV_PORT, .seq = in.rcv_nxt, .ack = in.snd_nxt,
					.flags = F_ACK, .win = (uint16_t)fz(), .data = d, .len = n,
				};
				sim_inject(s, &sp);
				in.rcv_nxt += n;
			} else {
				uint16_t len = fz_packet(pkt, &tg);
				sim_inject_bytes(s, pkt, len, 0);
			}
			injected++;
		}
		sim_run(s);
		sim_raw_clear(s);
		if (fz_n(8) == 0)
			sim_advance(s, fz_n(300));
		if (a->alive && a->tx_off == a->tx_len)
			sim_conn_send(a, txd, sizeof(txd), 0);
		if (s->ntrace > 200000)
			s->ntrace = 0;
	}
	const struct tcp_stats *st = sim_stats(s, SIM_A);
	check_note("seed base 0x5EED0002 (DPT_SEED mixes in): %" PRIu64 " segments, %" PRIu64 " reopened, bad_hdr %" PRIu64
		   " bad_csum %" PRIu64 " unacceptable %" PRIu64 " rst acc/chal/ign %" PRIu64 "/%" PRIu64
		   "/%" PRIu64 " rx_bytes %" PRIu64,
		   injected, reopened, st->rx_bad_hdr, st->rx_bad_csum, st->rx_unacceptable,
		   st->rx_rst_accepted, st->rx_rst_challenged, st->rx_rst_ignored, st->rx_bytes);
	/* + SYN and ACK of each handshake */
	check_accounted(injected + 2 * (reopened + 1), st);
	CHECK_CMP(st->rx_bad_hdr, >, 0);
	CHECK_CMP(st->rx_bad_csum, >, 0);
	CHECK_CMP(st->rx_unacceptable, >, 0);
	CHECK_CMP(st->rx_bytes, >, 0);
	sim_advance(s, 200000);
	unsigned int inuse = sim_free(s);
	CHECK_MSG(inuse == 0, "%u mbufs leaked", inuse);
}

/* The API's error returns (dpt.h): -ENOTCONN before the handshake,
 * -EPIPE after shutdown, -EAGAIN with nothing to read, 0 at end of stream,
 * -EADDRINUSE for a second listener or a taken local port. */
void test_api_errors(void)
{
	struct sim *s = mk_sim();
	int r;
	char buf[16];
	struct sim_conn *x = sim_connect(s, SIM_B, SIM_IP_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	CHECK_EQ(-ENOTCONN, dpt_send(s->eng[SIM_B], x->c, "a", 1));
	sim_run(s); /* refused: no listener yet */
	CHECK(!x->alive);

	struct sim_conn *b, *a;
	pair_connect(s, &b, &a);
	b->auto_read = false;
	CHECK_EQ(-EAGAIN, dpt_recv(s->eng[SIM_B], b->c, buf, sizeof(buf)));
	CHECK(sim_listen(s, SIM_A, SRV_PORT, 0, &r) == NULL);
	CHECK_EQ(-EADDRINUSE, r);
	struct sim_conn *dup = sim_connect(s, SIM_B, SIM_IP_A, SRV_PORT, b->lport, &r);
	CHECK(dup == NULL);
	CHECK_EQ(-EADDRINUSE, r);

	CHECK_EQ(0, dpt_shutdown(s->eng[SIM_A], a->c));
	CHECK_EQ(-EPIPE, dpt_send(s->eng[SIM_A], a->c, "a", 1));
	CHECK_EQ(0, dpt_writable(a->c));
	sim_run(s);
	CHECK_EQ(0, dpt_recv(s->eng[SIM_B], b->c, buf, sizeof(buf)));
	CHECK_EQ(1, b->ev_count[DPT_EV_PEER_CLOSED]);
	CHECK_EQ(3, dpt_send(s->eng[SIM_B], b->c, "xyz", 3));
	sim_run(s);
	CHECK_EQ(3, a->rx_len);
	sim_free(s);
}
