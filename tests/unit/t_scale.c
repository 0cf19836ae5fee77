/* t_scale.c — a busy server and a busy client (issue 4): the SYNs of a
 * burst answered as one batch, SYN cookies when the SYN queue is full,
 * compact TIME_WAIT records by the hundred thousand, the per-engine
 * ephemeral port pool with flow ownership, and one ACK per connection per
 * burst. */
#include "t_common.h"
#include "tests.h"

#include "tcp_internal.h" /* sizeof(struct tcp_tw), the engine's pools */

#define MSL_MS 100

static void noop_cb(struct tcp_engine *eng, struct tcp_conn *c, enum dpt_event ev, int err,
		    void *user)
{
	(void)eng, (void)c, (void)ev, (void)err, (void)user;
}

/* ------------------------------------------------------------ SYN batch */

/* 20 SYNs in one tcp_input_burst(): 20 SYN-ACKs, each acking its SYN,
 * handed to the transmit function in one call. */
void test_syn_burst_answered_in_one_batch(void)
{
	struct sim *s = mk_sim_raw();
	struct sim_pkt p;
	struct rte_mbuf *m[20];
	int r;
	sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	for (int i = 0; i < 20; i++) {
		struct seg_spec sp = {
			.saddr = SIM_IP_RAW, .daddr = SIM_IP_A, .sport = (uint16_t)(30000 + i),
			.dport = SRV_PORT, .seq = 1000u * (i + 1), .flags = F_SYN, .win = 65535,
			.mss = 1460,
		};
		m[i] = sim_build(s, &sp);
	}
	unsigned int calls = s->tx_calls[SIM_A];
	sim_input_direct(s, SIM_A, m, 20);
	CHECK_EQ(calls + 1, s->tx_calls[SIM_A]);
	sim_run(s);
	for (int i = 0; i < 20; i++) {
		CHECK_MSG(sim_raw_pop(s, &p), "SYN-ACK #%d missing", i);
		CHECK_EQ(30000 + i, p.seg.dport);
		CHECK_SEG(&p.seg, F_SYN | F_ACK, p.seg.seq, 1000u * (i + 1) + 1);
	}
	CHECK_EQ(20, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	CHECK_STAT(s, SIM_A, syncookies_sent, 0);
	sim_free(s);
}

/* ---------------------------------------------------------- SYN cookies */

/* syncookies = 1: past syn_backlog (4) SYNs get cookies, no state; the
 * cookie's low bits carry the MSS index (536/1300/1440/1460, at most the
 * peer's); the ACK makes an ESTABLISHED connection that is accepted and
 * carries data; a forged ACK is reset and counted. */
void test_syn_cookies_when_syn_queue_full(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].syn_backlog = 4;
	struct sim *s = mk_sim_opts(&o);
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	struct raw_peer rp[8];
	uint32_t cookie[8];
	static const int mss[8] = { 1460, 1460, 1460, 1460, 1460, 1400, 0, 9000 };
	static const uint32_t want_mss[8] = { 0, 0, 0, 0, 1460, 1300, 536, 1460 };
	for (int i = 0; i < 8; i++) {
		raw_init(&rp[i], s, SIM_A, (uint16_t)(40000 + i), SRV_PORT);
		raw_send_mss(&rp[i], F_SYN, 1000u * (i + 1), 0, mss[i]);
		RAW_EXPECT(&rp[i], &p);
		CHECK_SEG(&p.seg, F_SYN | F_ACK, p.seg.seq, 1000u * (i + 1) + 1);
		CHECK_EQ(1460, p.seg.mss);
		cookie[i] = p.seg.seq;
	}
	CHECK_EQ(4, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	CHECK_STAT(s, SIM_A, syncookies_sent, 4);
	CHECK_STAT(s, SIM_A, listen_overflow, 0);
	CHECK_EQ(3, cookie[4] & 3);
	CHECK_EQ(1, cookie[5] & 3);
	CHECK_EQ(0, cookie[6] & 3);
	CHECK_EQ(3, cookie[7] & 3);

	for (int i = 4; i < 8; i++) {
		rp[i].snd_nxt = 1000u * (i + 1) + 1;
		rp[i].rcv_nxt = cookie[i] + 1;
		raw_ack(&rp[i]);
		RAW_EXPECT_NONE(&rp[i]);
	}
	CHECK_STAT(s, SIM_A, syncookies_ok, 4);
	CHECK_EQ(4, l->naccepted);
	CHECK_EQ(4, sim_state_count(s, SIM_A, DPT_ESTABLISHED));
	for (unsigned int i = 0; i < 4; i++) {
		struct sim_conn *a = l->accepted[i];
		struct dpt_conn_info in;
		CHECK(sim_conn_info(a, &in));
		CHECK_EQ(40004 + i, in.remote_port);
		CHECK_EQ(want_mss[4 + i], in.mss);
		CHECK_EQ(cookie[4 + i] + 1, in.snd_nxt);
	}
	/* data both ways on a cookie connection */
	raw_data(&rp[5], "hello", 5);
	RAW_EXPECT(&rp[5], &p);
	CHECK_SEG(&p.seg, F_ACK, rp[5].rcv_nxt, rp[5].snd_nxt);
	CHECK_EQ(5, l->accepted[1]->rx_len);
	CHECK(memcmp(l->accepted[1]->rx, "hello", 5) == 0);
	CHECK_EQ(3, dpt_send(s->eng[SIM_A], l->accepted[1]->c, "abc", 3));
	sim_run(s);
	RAW_EXPECT(&rp[5], &p);
	CHECK_EQ(3, p.seg.len);
	CHECK_SEG(&p.seg, F_ACK | F_PSH, rp[5].rcv_nxt, rp[5].snd_nxt);

	/* a forged ACK: no connection, a RST, counted */
	struct raw_peer f;
	raw_init(&f, s, SIM_A, 41000, SRV_PORT);
	raw_send(&f, F_ACK, 5000, 0x12345678, NULL, 0);
	RAW_EXPECT(&f, &p);
	CHECK_SEG_NOACK(&p.seg, F_RST, 0x12345678);
	CHECK_STAT(s, SIM_A, syncookies_failed, 1);
	CHECK_EQ(4, l->naccepted);
	sim_free(s);
}

/* A cookie's ACK with the right cookie but another SEG.SEQ than the SYN's
 * ISN + 1 fails: the MAC covers the peer's ISN too. */
static void cookie_wrong_seq(struct sim *s)
{
	struct raw_peer rp;
	struct sim_pkt p;
	raw_init(&rp, s, SIM_A, 42000, SRV_PORT);
	raw_send_mss(&rp, F_SYN, 7000, 0, 1460);
	RAW_EXPECT(&rp, &p);
	uint64_t failed = sim_stats(s, SIM_A)->syncookies_failed;
	raw_send(&rp, F_ACK, 7002, p.seg.seq + 1, NULL, 0);
	RAW_EXPECT(&rp, &p);
	CHECK_FLAGS(&p.seg, F_RST);
	CHECK_EQ(failed + 1, sim_stats(s, SIM_A)->syncookies_failed);
}

/* syncookies = 2: every SYN gets a cookie and no SYN_RECEIVED state; a
 * cookie is good for one more time counter (67 s) — an ACK 100 s later
 * connects, one 140 s later is refused. */
void test_syn_cookies_always_and_expiry(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].syncookies = 2;
	struct sim *s = mk_sim_opts(&o);
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	struct raw_peer a, b;
	raw_init(&a, s, SIM_A, 40000, SRV_PORT);
	raw_init(&b, s, SIM_A, 40001, SRV_PORT);
	raw_send_mss(&a, F_SYN, 100, 0, 1460);
	RAW_EXPECT(&a, &p);
	uint32_t ca = p.seg.seq;
	raw_send_mss(&b, F_SYN, 200, 0, 1460);
	RAW_EXPECT(&b, &p);
	uint32_t cb = p.seg.seq;
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_SYN_RECEIVED));
	CHECK_STAT(s, SIM_A, syncookies_sent, 2);

	sim_advance_us(s, 100ull * 1000000);
	raw_send(&a, F_ACK, 101, ca + 1, NULL, 0);
	RAW_EXPECT_NONE(&a);
	CHECK_EQ(1, l->naccepted);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(l->accepted[0]));

	sim_advance_us(s, 40ull * 1000000);
	raw_send(&b, F_ACK, 201, cb + 1, NULL, 0);
	RAW_EXPECT(&b, &p);
	CHECK_SEG_NOACK(&p.seg, F_RST, cb + 1);
	CHECK_EQ(1, l->naccepted);
	CHECK_STAT(s, SIM_A, syncookies_ok, 1);
	CHECK_STAT(s, SIM_A, syncookies_failed, 1);
	cookie_wrong_seq(s);
	sim_free(s);
}

/* A valid cookie while the accept queue is full: dropped and counted
 * (accept_overflow), no RST, no connection; the peer's retransmission
 * gets in once there is room. */
void test_syn_cookie_accept_queue_full_dropped(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].syncookies = 2;
	struct sim *s = mk_sim_opts(&o);
	struct sim_pkt p;
	int r;
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 1, &r);
	CHECK_EQ(0, r);
	CHECK_EQ(0, dpt_listen_set_accepting(s->eng[SIM_A], 0, SRV_PORT, 0));
	struct raw_peer rp[2];
	uint32_t c[2];
	for (int i = 0; i < 2; i++) {
		raw_init(&rp[i], s, SIM_A, (uint16_t)(40000 + i), SRV_PORT);
		raw_send_mss(&rp[i], F_SYN, 100u * (i + 1), 0, 1460);
		RAW_EXPECT(&rp[i], &p);
		c[i] = p.seg.seq;
	}
	for (int i = 0; i < 2; i++) {
		raw_send(&rp[i], F_ACK, 100u * (i + 1) + 1, c[i] + 1, NULL, 0);
		RAW_EXPECT_NONE(&rp[i]);
	}
	CHECK_STAT(s, SIM_A, syncookies_ok, 2);
	CHECK_STAT(s, SIM_A, accept_overflow, 1);
	CHECK_STAT(s, SIM_A, tx_rst, 0);
	CHECK_EQ(1, sim_state_count(s, SIM_A, DPT_ESTABLISHED));
	CHECK_EQ(0, dpt_listen_set_accepting(s->eng[SIM_A], 0, SRV_PORT, 1));
	CHECK_EQ(1, l->naccepted);
	raw_send(&rp[1], F_ACK, 201, c[1] + 1, NULL, 0);
	CHECK_EQ(2, l->naccepted);
	CHECK_EQ(40001, l->accepted[1]->rport);
	sim_free(s);
}

/* ------------------------------------------------------------ TIME_WAIT */

struct tw_app {
	uint64_t accepted, closed;
};

/* Closes every accepted connection at once: the engine is the active
 * closer and ends in TIME_WAIT. */
static void close_at_once_cb(struct tcp_engine *eng, struct tcp_conn *c, enum dpt_event ev,
			     int err, void *user)
{
	struct tw_app *app = user;
	(void)err;
	if (ev == DPT_EV_ACCEPTED) {
		app->accepted++;
		CHECK_EQ(0, dpt_close(eng, c));
	} else if (ev == DPT_EV_CLOSED) {
		app->closed++;
	}
}

static uint32_t peer_ip(unsigned int i)
{
	return 0x0a010000u + (i >> 14); /* 10.1.x.y: any address is the raw peer */
}

static uint16_t peer_port(unsigned int i)
{
	return (uint16_t)(10000 + (i & 0x3fff));
}

static void inject(struct sim *s, unsigned int i, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct seg_spec sp = {
		.saddr = peer_ip(i), .daddr = SIM_IP_A, .sport = peer_port(i), .dport = SRV_PORT,
		.seq = seq, .ack = ack, .flags = flags, .win = 65535, .mss = flags & F_SYN ? 1460 : 0,
	};
	sim_inject(s, &sp);
}

/* Index of the peer a segment from A went to. */
static unsigned int peer_of(const struct sim_seg *g)
{
	return ((g->daddr - 0x0a010000u) << 14) + (unsigned int)(g->dport - 10000);
}

/* n peers (first..first+n-1) open, the engine closes, the peers answer
 * with FIN: n connections in TIME_WAIT. Peer i's ISN is i * 1000. */
static void open_close_batch(struct sim *s, unsigned int first, unsigned int n)
{
	struct sim_pkt *p = malloc(sizeof(*p));
	CHECK(p != NULL);
	for (unsigned int i = first; i < first + n; i++)
		inject(s, i, F_SYN, i * 1000u, 0);
	sim_run(s);
	for (unsigned int k = 0; k < n; k++) {
		CHECK_MSG(sim_raw_pop(s, p), "SYN-ACK %u of %u missing", k, n);
		CHECK_FLAGS(&p->seg, F_SYN | F_ACK);
		unsigned int i = peer_of(&p->seg);
		inject(s, i, F_ACK, i * 1000u + 1, p->seg.seq + 1);
	}
	sim_run(s);
	for (unsigned int k = 0; k < n; k++) {
		CHECK_MSG(sim_raw_pop(s, p), "FIN %u of %u missing", k, n);
		CHECK_FLAGS(&p->seg, F_FIN | F_ACK);
		unsigned int i = peer_of(&p->seg);
		inject(s, i, F_FIN | F_ACK, i * 1000u + 1, p->seg.seq + 1);
	}
	sim_run(s);
	for (unsigned int k = 0; k < n; k++) {
		CHECK_MSG(sim_raw_pop(s, p), "last ACK %u of %u missing", k, n);
		CHECK_FLAGS(&p->seg, F_ACK);
		unsigned int i = peer_of(&p->seg);
		CHECK_EQ(i * 1000u + 2, p->seg.ack);
	}
	CHECK_EQ(0, sim_raw_pending(s));
	s->ntrace = 0; /* the trace of 100,000 handshakes is not needed */
	free(p);
}

/* 100,000 connections in TIME_WAIT on one engine: each holds a compact
 * record (<= 128 bytes, pool overhead included), not a TCB — max_conns is
 * 2048 and the connection pool is empty; the state count and telemetry see
 * them; all expire after 2*MSL. */
void test_time_wait_100k_compact_records(void)
{
	enum { N = 100000, BATCH = 1000 };
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].max_conns = 2048;
	o.cfg[SIM_A].syn_backlog = 2048;
	o.cfg[SIM_A].max_time_wait = 131072;
	o.cfg[SIM_A].msl_ms = 5000;      /* the 100 batches take < 2*MSL */
	struct sim *s = mk_sim_opts(&o);
	struct tcp_engine *eng = s->eng[SIM_A];
	struct tw_app app = { 0, 0 };
	CHECK_CMP(sizeof(struct tcp_tw), <=, 128);
	size_t per_record = eng->tw_pool->header_size + eng->tw_pool->elt_size +
			    eng->tw_pool->trailer_size;
	CHECK_CMP(per_record, <=, 128);
	CHECK_EQ(0, dpt_listen(eng, 0, SRV_PORT, 2048, close_at_once_cb, &app));

	for (unsigned int first = 0; first < N; first += BATCH)
		open_close_batch(s, first, BATCH);
	CHECK_EQ(N, app.accepted);
	CHECK_EQ(N, app.closed);
	CHECK_EQ(N, sim_state_count(s, SIM_A, DPT_TIME_WAIT));
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_ESTABLISHED));
	CHECK_EQ(0, rte_mempool_in_use_count(eng->conn_pool));
	CHECK_EQ(N, rte_mempool_in_use_count(eng->tw_pool));
	CHECK_STAT(s, SIM_A, tw_overflow, 0);
	CHECK_STATE(DPT_TIME_WAIT, sim_tuple_state(s, SIM_A, SRV_PORT, peer_ip(N - 1),
						    peer_port(N - 1)));
	/* a record answers like the TCB: a retransmitted FIN is re-ACKed */
	inject(s, 7, F_FIN | F_ACK, 7001, 0);
	sim_run(s);
	struct sim_pkt p;
	CHECK(sim_raw_pop(s, &p));
	CHECK_FLAGS(&p.seg, F_ACK);
	CHECK_EQ(7002, p.seg.ack);

	sim_advance(s, 2 * 5000 + 10);
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_TIME_WAIT));
	CHECK_STAT(s, SIM_A, tw_expired, N);
	CHECK_STAT(s, SIM_A, conn_closed, N);
	CHECK_EQ(0, rte_mempool_in_use_count(eng->tw_pool));
	CHECK_EQ(DPT_STATE_COUNT, sim_tuple_state(s, SIM_A, SRV_PORT, peer_ip(7), peer_port(7)));
	CHECK_EQ(0, sim_free(s));
}

/* max_time_wait = 2: the third connection to end closes without TIME_WAIT
 * (tw_overflow), still ACKing the peer's FIN; the application hears
 * CLOSED either way. */
void test_time_wait_overflow_closes_without_time_wait(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].max_time_wait = 2;
	struct sim *s = mk_sim_opts(&o);
	struct tw_app app = { 0, 0 };
	CHECK_EQ(0, dpt_listen(s->eng[SIM_A], 0, SRV_PORT, 0, close_at_once_cb, &app));
	open_close_batch(s, 0, 3);
	CHECK_EQ(3, app.closed);
	CHECK_EQ(2, sim_state_count(s, SIM_A, DPT_TIME_WAIT));
	CHECK_STAT(s, SIM_A, tw_overflow, 1);
	CHECK_STAT(s, SIM_A, conn_closed, 1);
	sim_advance(s, 2 * MSL_MS + 10);
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_TIME_WAIT));
	CHECK_STAT(s, SIM_A, conn_closed, 3);
	sim_free(s);
}

/* -------------------------------------------------- ephemeral port pool */

struct own_ctx {
	uint64_t calls;
	uint16_t lo, hi;
};

/* "Engine 0 of 2": owns about half the local ports, by a hash. */
static bool owns_half(uint16_t lport)
{
	return (((uint32_t)lport * 0x9E3779B1u) >> 16 & 1) == 0;
}

static bool fake_owned(void *ctx, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	struct own_ctx *o = ctx;
	(void)lip, (void)rip, (void)rport;
	o->calls++;
	return owns_half(lport);
}

static struct sim *mk_owned_sim(struct own_ctx *own, uint32_t lo, uint32_t hi,
				uint32_t max_conns)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	o.cfg[SIM_A].ephemeral_port_lo = lo;
	o.cfg[SIM_A].ephemeral_port_hi = hi;
	o.cfg[SIM_A].max_conns = max_conns;
	o.owned[SIM_A] = fake_owned;
	o.owned_ctx[SIM_A] = own;
	return mk_sim_opts(&o);
}

/* With a flow-ownership callback that owns half the ports, every
 * dpt_connect() takes an owned port of the range, never one twice; a
 * storm of connects to one destination costs about two callback calls
 * each (O(1) amortised), and once the owned ports are used up a connect
 * fails at once (no rescan) until one is freed. */
void test_ephemeral_ports_owned_and_amortised(void)
{
	enum { STORM = 10000 };
	struct own_ctx own = { 0, 0, 0 };
	struct sim *s = mk_owned_sim(&own, 32768, 60999, 16384);
	struct tcp_engine *eng = s->eng[SIM_A];
	static uint8_t used[65536];
	static struct tcp_conn *conns[32768];
	unsigned int owned_total = 0, n = 0;
	memset(used, 0, sizeof(used));
	for (uint32_t p = 32768; p <= 60999; p++)
		owned_total += owns_half((uint16_t)p);

	for (n = 0; n < STORM; n++) {
		CHECK_EQ(0, dpt_connect(eng, SIM_IP_RAW, 7000, 0, noop_cb, NULL, &conns[n]));
		struct dpt_conn_info in;
		dpt_conn_info(conns[n], &in);
		CHECK_MSG(in.local_port >= 32768 && in.local_port <= 60999, "port %u",
			  in.local_port);
		CHECK_MSG(owns_half(in.local_port), "port %u not owned", in.local_port);
		CHECK_MSG(!used[in.local_port], "port %u twice", in.local_port);
		used[in.local_port] = 1;
		if (n % 1000 == 999) {
			sim_run(s);
			sim_raw_clear(s);
		}
	}
	CHECK_CMP(own.calls, <=, 3ull * STORM);
	/* the rest of the owned ports, then none */
	for (; n < owned_total; n++) {
		CHECK_EQ(0, dpt_connect(eng, SIM_IP_RAW, 7000, 0, noop_cb, NULL, &conns[n]));
		if (n % 1000 == 999) {
			sim_run(s);
			sim_raw_clear(s);
		}
	}
	sim_run(s);
	sim_raw_clear(s);
	struct tcp_conn *c;
	CHECK_EQ(-EADDRNOTAVAIL, dpt_connect(eng, SIM_IP_RAW, 7000, 0, noop_cb, NULL, &c));
	uint64_t calls = own.calls;
	for (int i = 0; i < 100; i++)
		CHECK_EQ(-EADDRNOTAVAIL, dpt_connect(eng, SIM_IP_RAW, 7000, 0, noop_cb, NULL, &c));
	CHECK_EQ(calls, own.calls);
	/* another destination has all its ports */
	CHECK_EQ(0, dpt_connect(eng, SIM_IP_RAW, 7001, 0, noop_cb, NULL, &c));
	/* a port freed is found again */
	struct dpt_conn_info in;
	dpt_conn_info(conns[123], &in);
	CHECK_EQ(0, dpt_abort(eng, conns[123]));
	CHECK_EQ(0, dpt_connect(eng, SIM_IP_RAW, 7000, 0, noop_cb, NULL, &c));
	struct dpt_conn_info in2;
	dpt_conn_info(c, &in2);
	CHECK_EQ(in.local_port, in2.local_port);
	sim_run(s);
	sim_raw_clear(s);
	sim_free(s);
}

/* Ephemeral range 40000..40015 with half the ports owned: once every
 * owned port has a connection to the peer's port 7000 in TIME_WAIT,
 * dpt_connect() to it returns -EADDRNOTAVAIL; to port 7001 it works;
 * after 2*MSL port 7000 can be reached again. */
void test_ephemeral_ports_exhausted_by_time_wait(void)
{
	struct own_ctx own = { 0, 0, 0 };
	struct sim *s = mk_owned_sim(&own, 40000, 40015, 1024);
	struct sim_pkt p;
	unsigned int owned_total = 0;
	for (uint32_t port = 40000; port <= 40015; port++)
		owned_total += owns_half((uint16_t)port);
	CHECK_CMP(owned_total, >=, 2);

	for (unsigned int i = 0; i < owned_total; i++) {
		struct raw_peer rp;
		struct sim_conn *c = raw_accept(s, &rp, 7000, 5000 + 1000 * i, 1460, 0);
		CHECK(owns_half(c->lport));
		CHECK_EQ(0, dpt_close(s->eng[SIM_A], c->c));
		sim_run(s);
		RAW_EXPECT(&rp, &p);
		CHECK_SEG(&p.seg, F_FIN | F_ACK, rp.rcv_nxt, rp.snd_nxt);
		rp.rcv_nxt++;
		raw_send(&rp, F_FIN | F_ACK, rp.snd_nxt, rp.rcv_nxt, NULL, 0);
		RAW_EXPECT(&rp, &p);
		CHECK_SEG(&p.seg, F_ACK, rp.rcv_nxt, rp.snd_nxt + 1);
		CHECK_STATE(DPT_TIME_WAIT, sim_state(c));
	}
	CHECK_EQ(owned_total, sim_state_count(s, SIM_A, DPT_TIME_WAIT));
	int r = 0;
	CHECK(sim_connect(s, SIM_A, SIM_IP_RAW, 7000, 0, &r) == NULL);
	CHECK_EQ(-EADDRNOTAVAIL, r);
	struct sim_conn *other = sim_connect(s, SIM_A, SIM_IP_RAW, 7001, 0, &r);
	CHECK_EQ(0, r);
	CHECK(other != NULL && owns_half(other->lport));
	sim_advance(s, 2 * MSL_MS + 10);
	CHECK_EQ(0, sim_state_count(s, SIM_A, DPT_TIME_WAIT));
	CHECK(sim_connect(s, SIM_A, SIM_IP_RAW, 7000, 0, &r) != NULL);
	CHECK_EQ(0, r);
	sim_free(s);
}

/* ------------------------------------------------------- output batching */

/* N in-order segments of one connection in one tcp_input_burst(): exactly
 * one ACK crosses the wire, cumulative, at the end of the burst — with
 * delayed ACKs off, and with them on (every second segment is owed an
 * ACK: one at burst end covers all). */
void test_one_ack_per_connection_per_burst(void)
{
	for (int variant = 0; variant < 2; variant++) {
		struct sim_opts o;
		sim_opts_default(&o);
		o.with_b = false;
		o.cfg[SIM_A].delack_ms = variant == 0 ? 0 : 40;
		struct raw_peer rp;
		struct sim *s;
		struct sim_conn *a = raw_established(&s, &rp, 1000, &o, true);
		enum { N = 9, LEN = 100 };
		static uint8_t d[N * LEN];
		struct rte_mbuf *m[N];
		sim_fill_pattern(d, sizeof(d), 44);
		for (int i = 0; i < N; i++) {
			struct seg_spec sp = {
				.saddr = rp.ip, .daddr = SIM_IP_A, .sport = rp.port,
				.dport = SRV_PORT, .seq = rp.snd_nxt + (uint32_t)(i * LEN),
				.ack = rp.rcv_nxt, .flags = F_ACK, .win = 65535,
				.data = d + i * LEN, .len = LEN,
			};
			m[i] = sim_build(s, &sp);
		}
		unsigned int pos = sim_mark(s), calls = s->tx_calls[SIM_A];
		sim_input_direct(s, SIM_A, m, N);
		CHECK_EQ(calls + 1, s->tx_calls[SIM_A]);
		sim_run(s);
		struct sim_seg ack = NEXT_SEG(s, &pos, SIM_A);
		CHECK_SEG(&ack, F_ACK, rp.rcv_nxt, rp.snd_nxt + N * LEN);
		CHECK_EQ(0, ack.len);
		NO_SEG(s, pos, SIM_A);
		CHECK_EQ(sizeof(d), a->rx_len);
		CHECK_PATTERN(a->rx, a->rx_len, 44);
		sim_advance(s, 100);
		NO_SEG(s, pos, SIM_A);  /* no delayed ACK follows */
		sim_free(s);
	}
}
