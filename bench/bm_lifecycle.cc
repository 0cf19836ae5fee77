// bm_lifecycle.cc — benchmark 2: the full life of a connection on the
// server side, as lifecycles per second on one core.
//
// BM_ServerLifecycle: one engine (the server, with an echo-like app on
// port 80) and a scripted client made of pre-built segments. A wave of W
// connections goes through five input bursts of W segments:
//   SYN(MSS)          -> server: SYN_RECEIVED, sends SYN-ACK
//   ACK               -> ESTABLISHED, app gets ACCEPTED
//   64-byte request   -> app: READABLE, dpt_recv 64, dpt_send 64 (response)
//   FIN+ACK(response) -> CLOSE_WAIT, app: PEER_CLOSED, dpt_close: FIN sent
//   ACK(FIN)          -> LAST_ACK -> CLOSED, app: CLOSED, memory freed
// The client closes first, so the server ends in CLOSED (no TIME_WAIT on
// the server; the client would hold it): the steady state of a server.
// Timed: those five tcp_input_burst() calls with a tcp_engine_poll() after
// each, the server's callbacks and its three segments (SYN-ACK, response,
// FIN) built and freed by the transmit function, and the scripted
// client's only runtime work: reading the server's ISS from each SYN-ACK
// and storing the four ACK numbers that depend on it into its pre-built
// segments (four 4-byte stores). Not timed: copying the client's segments
// from templates into mbufs, 512 connections' worth per pause.
//
// BM_TwoEngineLifecycle: the same exchange between two dptcp engines (a
// client engine with dpt_connect and a server engine) on one core over an
// in-memory wire; the figure is both engines' cost, including the
// client's TIME_WAIT entry (created, then expired by its 2*MSL timer).
#include <cstring>
#include <vector>

#include "bench_common.h"

namespace {

using namespace bench;

constexpr unsigned int kConnsPerBuild = 512;
constexpr uint16_t kMsgLen = 64;
constexpr unsigned int kPhases = 5;

// The server application, shared by both benchmarks: read the request,
// answer with 64 bytes, close when the peer has closed.
struct ServerApp {
	uint64_t accepted = 0, closed = 0, failed = 0, requests = 0;
	uint8_t req[kMsgLen];
	uint8_t resp[kMsgLen];
};

void server_cb(struct tcp_engine *eng, struct tcp_conn *c, enum dpt_event ev,
	       int err, void *user)
{
	auto *app = static_cast<ServerApp *>(user);

	switch (ev) {
	case DPT_EV_ACCEPTED:
		app->accepted++;
		break;
	case DPT_EV_READABLE:
		if (dpt_recv(eng, c, app->req, sizeof(app->req)) == kMsgLen) {
			app->requests++;
			if (dpt_send(eng, c, app->resp, kMsgLen) != kMsgLen)
				app->failed++;
		}
		break;
	case DPT_EV_PEER_CLOSED:
		dpt_close(eng, c);
		break;
	case DPT_EV_CLOSED:
		app->closed++;
		break;
	case DPT_EV_RESET:
	case DPT_EV_ERROR:
		app->failed++;
		break;
	default:
		break;
	}
}

// ------------------------------------------------------ scripted client

struct ClientConn {
	struct rte_mbuf *m[kPhases];   // SYN, ACK, request, FIN, last ACK
	uint32_t ciss;
};

struct LifecycleBench {
	struct rte_mempool *rx_pool = nullptr, *tx_pool = nullptr;
	struct tcp_engine *eng = nullptr;
	TxSink sink;
	ServerApp app;
	uint64_t now_us = 1;
	std::vector<ClientConn> conns;
	ClientConn *by_port[65536];
	uint32_t next_client = 0;      // rotates source address and port
	uint64_t synacks = 0, data_segs = 0, fins = 0, other = 0;
	SegTemplate tmpl[kPhases];
};

// Tuple n: 10.1.(n>>8 & 0xff).(n & 0xff)... spread over 64 addresses and
// ports 1024-65535, so the table sees new keys, not 32 hot ones.
void client_tuple(uint32_t n, uint32_t *ip, uint16_t *port)
{
	*port = (uint16_t)(1024 + n % 64512);
	*ip = 0x0a010000u | ((n / 64512) % 64);
}

// Server output: the client learns the server's ISS from the SYN-ACK and
// patches the acknowledgement numbers of its later segments.
void client_rx(void *ctx, struct rte_mbuf *m)
{
	auto *b = static_cast<LifecycleBench *>(ctx);
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	uint8_t fl = seg_get_flags(ip);
	ClientConn *cc = b->by_port[seg_get_dport(ip)];

	if ((fl & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
		uint32_t siss = seg_get_seq(ip);
		b->synacks++;
		seg_set_ack(rte_pktmbuf_mtod(cc->m[1], uint8_t *), siss + 1);
		seg_set_ack(rte_pktmbuf_mtod(cc->m[2], uint8_t *), siss + 1);
		seg_set_ack(rte_pktmbuf_mtod(cc->m[3], uint8_t *), siss + 1 + kMsgLen);
		seg_set_ack(rte_pktmbuf_mtod(cc->m[4], uint8_t *), siss + 2 + kMsgLen);
	} else if (fl & TH_FIN) {
		b->fins++;
	} else if (m->pkt_len > 40) {
		b->data_segs++;
	} else {
		b->other++;
	}
}

// Pre-builds the five segments of kConnsPerBuild new client connections.
bool client_build(LifecycleBench *b)
{
	for (auto &cc : b->conns) {
		uint32_t ip;
		uint16_t port;
		client_tuple(b->next_client++, &ip, &port);
		cc.ciss = 0x20000000u + b->next_client * 7919u;
		b->by_port[port] = &cc;
		const uint32_t seqs[kPhases] = {
			cc.ciss, cc.ciss + 1, cc.ciss + 1,
			cc.ciss + 1 + kMsgLen, cc.ciss + 2 + kMsgLen,
		};
		for (unsigned int p = 0; p < kPhases; p++) {
			SegTemplate &t = b->tmpl[p];
			uint8_t *h = t.bytes;
			// saddr and sport differ per connection: patch them in
			// the template (checksums are not verified: RX offload).
			h[12] = (uint8_t)(ip >> 24);
			h[13] = (uint8_t)(ip >> 16);
			h[14] = (uint8_t)(ip >> 8);
			h[15] = (uint8_t)ip;
			h[20] = (uint8_t)(port >> 8);
			h[21] = (uint8_t)port;
			seg_set_seq(h, seqs[p]);
			cc.m[p] = seg_mbuf(b->rx_pool, t, false);
			if (cc.m[p] == nullptr)
				return false;
		}
	}
	return true;
}

void client_free_unused(LifecycleBench *b, size_t from)
{
	for (size_t i = from; i < b->conns.size(); i++)
		for (unsigned int p = 0; p < kPhases; p++)
			if (b->conns[i].m[p] != nullptr)
				rte_pktmbuf_free(b->conns[i].m[p]);
}

// One wave: the five phases of `wave` pre-built connections from
// conns[first], one input burst and one poll per phase.
void server_wave(LifecycleBench *b, unsigned int wave, size_t first)
{
	struct rte_mbuf *burst[kBurst];

	for (unsigned int p = 0; p < kPhases; p++) {
		for (unsigned int i = 0; i < wave; i++) {
			burst[i] = b->conns[first + i].m[p];
			b->conns[first + i].m[p] = nullptr;
		}
		b->now_us++;
		tcp_input_burst(b->eng, burst, (uint16_t)wave, b->now_us);
		tcp_engine_poll(b->eng, b->now_us);
	}
}

void BM_ServerLifecycle(benchmark::State &st)
{
	const unsigned int wave = (unsigned int)st.range(0);
	auto *b = new LifecycleBench();
	struct tcp_config cfg;

	tcp_config_defaults(&cfg);
	b->rx_pool = pool_create("lrx", kConnsPerBuild * kPhases + 1024);
	b->tx_pool = pool_create("ltx", 4095);
	b->eng = b->rx_pool && b->tx_pool ?
		engine_create(cfg, kServerIp, b->tx_pool, tx_sink, &b->sink) :
		nullptr;
	b->sink.hook = client_rx;
	b->sink.hook_ctx = b;
	b->conns.resize(kConnsPerBuild);
	memset(b->app.resp, 'r', sizeof(b->app.resp));
	static const uint8_t req[kMsgLen] = { 'G', 'E', 'T' };
	const uint8_t phase_flags[kPhases] = {
		TH_SYN, TH_ACK, TH_ACK | TH_PSH, TH_FIN | TH_ACK, TH_ACK,
	};
	for (unsigned int p = 0; p < kPhases; p++) {
		SegSpec s;
		s.saddr = 0x0a010000u;
		s.daddr = kServerIp;
		s.sport = 1024;
		s.dport = kServerPort;
		s.flags = phase_flags[p];
		s.mss = p == 0 ? 1460 : 0;
		s.payload = p == 2 ? req : nullptr;
		s.len = p == 2 ? kMsgLen : 0;
		seg_build(&b->tmpl[p], s);
	}
	if (!expect(st, b->eng != nullptr, "engine create") ||
	    !expect(st, dpt_listen(b->eng, 0, kServerPort, 0, server_cb,
				   &b->app) == 0, "dpt_listen")) {
		if (b->eng)
			tcp_engine_destroy(b->eng);
		rte_mempool_free(b->rx_pool);
		rte_mempool_free(b->tx_pool);
		delete b;
		return;
	}

	// Warm-up, untimed: as many lifecycles as the engine has connection
	// objects, so that the timed part sees the steady state (the
	// connection pool hands objects out in FIFO order: each has been used
	// before, none is being touched for the first time).
	size_t next = kConnsPerBuild;
	uint64_t warm = 0;
	bool ok = true;
	while (ok && warm < cfg.max_conns) {
		if (next + wave > kConnsPerBuild) {
			ok = client_build(b);
			next = 0;
		}
		if (ok) {
			server_wave(b, wave, next);
			next += wave;
			warm += wave;
		}
	}

	uint64_t done = 0;
	for (auto _ : st) {
		if (next + wave > kConnsPerBuild) {
			st.PauseTiming();
			ok = client_build(b);
			next = 0;
			st.ResumeTiming();
			if (!ok)
				break;
		}
		server_wave(b, wave, next);
		next += wave;
		done += wave;
	}
	client_free_unused(b, next);

	const struct tcp_stats *ts = tcp_engine_stats(b->eng);
	uint32_t counts[DPT_STATE_COUNT];
	tcp_engine_state_counts(b->eng, counts);
	const uint64_t all = warm + done;
	if (expect(st, ok, "RX pool exhausted") &&
	    expect(st, b->app.accepted == all && b->app.closed == all &&
			   b->app.requests == all && b->app.failed == 0,
		   "a connection did not complete its lifecycle") &&
	    expect(st, b->synacks == all && b->data_segs == all &&
			   b->fins == all && b->other == 0,
		   "server sent other than SYN-ACK, response, FIN") &&
	    expect(st, ts->conn_closed == all && ts->tx_rst == 0 &&
			   counts[DPT_TIME_WAIT] == 0,
		   "connections left over")) {
		st.SetItemsProcessed((int64_t)done);
		st.counters["lifecycles/s"] = benchmark::Counter(
			(double)done, benchmark::Counter::kIsRate);
		st.counters["segs/lifecycle"] =
			(double)(ts->rx_segs + ts->tx_segs) / (double)all;
	}
	tcp_engine_destroy(b->eng);
	rte_mempool_free(b->rx_pool);
	rte_mempool_free(b->tx_pool);
	delete b;
}

BENCHMARK(BM_ServerLifecycle)->ArgName("wave")->Arg(32)->Arg(1);

// ------------------------------------------------- two engines, one wire

struct Wire;

struct WireEnd {
	Wire *w;
	int to;                        // node the packets are for
};

struct Wire {
	std::vector<struct rte_mbuf *> q[2];
	WireEnd end[2];
};

// An engine's transmit function: the packet goes to the other engine's
// queue, with the RX metadata a NIC with checksum offload would give.
uint16_t wire_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	auto *e = static_cast<WireEnd *>(ctx);

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD |
			      RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		m->packet_type = RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP;
		e->w->q[e->to].push_back(m);
	}
	return n;
}

struct ClientApp {
	uint64_t connected = 0, closed = 0, failed = 0;
	uint8_t req[kMsgLen];
	uint8_t buf[kMsgLen];
};

void client_cb(struct tcp_engine *eng, struct tcp_conn *c, enum dpt_event ev,
	       int err, void *user)
{
	auto *app = static_cast<ClientApp *>(user);

	switch (ev) {
	case DPT_EV_CONNECTED:
		app->connected++;
		if (dpt_send(eng, c, app->req, kMsgLen) != kMsgLen)
			app->failed++;
		break;
	case DPT_EV_READABLE:
		if (dpt_recv(eng, c, app->buf, sizeof(app->buf)) == kMsgLen)
			dpt_close(eng, c);      // the client closes first
		break;
	case DPT_EV_CLOSED:
		app->closed++;
		break;
	case DPT_EV_RESET:
	case DPT_EV_ERROR:
		app->failed++;
		break;
	default:
		break;
	}
}

enum { NODE_CLIENT = 0, NODE_SERVER = 1 };

struct TwoEngines {
	struct tcp_engine **eng;
	Wire *w;
	ClientApp *capp;
	uint64_t now_us;
	uint64_t started;
	std::vector<struct rte_mbuf *> batch;
};

// One wave: W dpt_connect()s, then deliver until the wire is quiet (32
// segments per burst, a poll after each engine's turn), then one tick of
// virtual time so that the client's TIME_WAITs of earlier waves expire.
bool two_engine_wave(TwoEngines *te, unsigned int wave)
{
	for (unsigned int i = 0; i < wave; i++) {
		struct tcp_conn *c;
		if (dpt_connect(te->eng[NODE_CLIENT], kServerIp, kServerPort, 0,
				client_cb, te->capp, &c) < 0)
			return false;
		te->started++;
	}
	for (;;) {
		bool moved = false;
		for (int node = 0; node < 2; node++) {
			if (te->w->q[node].empty())
				continue;
			moved = true;
			te->batch.swap(te->w->q[node]);
			for (size_t i = 0; i < te->batch.size(); i += kBurst) {
				uint16_t n = (uint16_t)RTE_MIN((size_t)kBurst,
							       te->batch.size() - i);
				te->now_us++;
				tcp_input_burst(te->eng[node], &te->batch[i], n,
						te->now_us);
			}
			te->batch.clear();
			tcp_engine_poll(te->eng[node], te->now_us);
		}
		if (!moved)
			break;
	}
	te->now_us += 1000;
	tcp_engine_poll(te->eng[NODE_CLIENT], te->now_us);
	tcp_engine_poll(te->eng[NODE_SERVER], te->now_us);
	return true;
}

void BM_TwoEngineLifecycle(benchmark::State &st)
{
	const unsigned int wave = (unsigned int)st.range(0);
	struct tcp_config scfg, ccfg;
	Wire w;
	ServerApp sapp;
	ClientApp capp;
	struct tcp_engine *eng[2];

	tcp_config_defaults(&scfg);
	tcp_config_defaults(&ccfg);
	ccfg.msl_ms = 1;                 // client TIME_WAIT: 2 ms of virtual time
	memset(capp.req, 'q', sizeof(capp.req));
	memset(sapp.resp, 'r', sizeof(sapp.resp));
	w.end[NODE_CLIENT] = { &w, NODE_SERVER };
	w.end[NODE_SERVER] = { &w, NODE_CLIENT };
	w.q[0].reserve(4096);
	w.q[1].reserve(4096);
	struct rte_mempool *pool = pool_create("w2", 8191);
	eng[NODE_CLIENT] = engine_create(ccfg, kClientIp, pool, wire_tx,
					 &w.end[NODE_CLIENT]);
	eng[NODE_SERVER] = engine_create(scfg, kServerIp, pool, wire_tx,
					 &w.end[NODE_SERVER]);
	if (!expect(st, pool && eng[0] && eng[1], "engine create") ||
	    !expect(st, dpt_listen(eng[NODE_SERVER], 0, kServerPort, 0,
				   server_cb, &sapp) == 0, "dpt_listen")) {
		for (auto e : eng)
			if (e)
				tcp_engine_destroy(e);
		rte_mempool_free(pool);
		return;
	}

	// Warm-up, untimed: cycle both engines' connection pools once (see
	// BM_ServerLifecycle).
	TwoEngines te{ eng, &w, &capp, 1, 0, {} };
	te.batch.reserve(4096);
	bool ok = true;
	while (ok && te.started < scfg.max_conns)
		ok = two_engine_wave(&te, wave);
	const uint64_t started0 = te.started;

	for (auto _ : st) {
		if (!two_engine_wave(&te, wave)) {
			ok = false;
			break;
		}
	}
	const uint64_t started = te.started - started0;
	// Let the remaining TIME_WAITs end, outside the figure.
	te.now_us += 10000;
	tcp_engine_poll(eng[NODE_CLIENT], te.now_us);

	if (expect(st, ok, "dpt_connect failed") &&
	    expect(st, capp.connected == te.started &&
			   capp.closed == te.started &&
			   sapp.closed == te.started &&
			   sapp.requests == te.started &&
			   capp.failed == 0 && sapp.failed == 0,
		   "a connection did not complete its lifecycle")) {
		st.SetItemsProcessed((int64_t)started);
		st.counters["lifecycles/s"] = benchmark::Counter(
			(double)started, benchmark::Counter::kIsRate);
	}
	for (auto e : eng)
		tcp_engine_destroy(e);
	rte_mempool_free(pool);
}

BENCHMARK(BM_TwoEngineLifecycle)->ArgName("wave")->Arg(32);

} // namespace
