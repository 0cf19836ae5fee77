// bm_data.cc — benchmark 1: in-order data segments through one engine in
// bursts of 32, on one ESTABLISHED connection.
//
// Timed, per burst: tcp_input_burst() of 32 pre-built in-order segments
// (parse, bulk lookup, RFC 9293 checks, receive queue), the application's
// READABLE callback draining each segment with dpt_recv() into its buffer
// (one memcpy of the payload, mbuf freed), the one ACK the engine sends
// per burst (built, handed to the transmit function, freed there), and one
// tcp_engine_poll() (the timer wheel's per-loop run).
// Not timed: building the segments. Every 64 bursts the timer is paused
// and 64 x 32 segments are copied from a template into fresh mbufs from
// the RX pool (the NIC's work); they are then warm in cache, as DMA with
// DDIO leaves them.
// Argument sw_csum=0: the RX checksum flags say GOOD (NIC offload);
// sw_csum=1: UNKNOWN, so the engine verifies the TCP checksum in software.
#include <cstring>
#include <vector>

#include "bench_common.h"

namespace {

using namespace bench;

constexpr unsigned int kPrebuiltBursts = 64;
constexpr uint16_t kPeerPort = 40000;

struct DataBench {
	struct rte_mempool *rx_pool = nullptr, *tx_pool = nullptr;
	struct tcp_engine *eng = nullptr;
	TxSink sink;
	struct tcp_conn *conn = nullptr;
	uint64_t now_us = 1;
	uint64_t bytes_read = 0;
	uint64_t readable_events = 0;
	uint32_t peer_seq = 0;      // next sequence number the peer sends
	uint32_t server_next = 0;   // engine's snd_nxt: the peer's ACK field
	uint32_t synack_seq = 0;
	bool synack_seen = false;
	alignas(64) uint8_t app_buf[65536];
};

void server_cb(struct tcp_engine *eng, struct tcp_conn *c, enum dpt_event ev,
	       int err, void *user)
{
	auto *b = static_cast<DataBench *>(user);

	switch (ev) {
	case DPT_EV_ACCEPTED:
		b->conn = c;
		break;
	case DPT_EV_READABLE:
		b->readable_events++;
		for (;;) {
			ssize_t r = dpt_recv(eng, c, b->app_buf, sizeof(b->app_buf));
			if (r <= 0)
				break;
			b->bytes_read += (uint64_t)r;
		}
		break;
	case DPT_EV_CLOSED:
	case DPT_EV_RESET:
	case DPT_EV_ERROR:
		b->conn = nullptr;
		break;
	default:
		break;
	}
}

void capture_synack(void *ctx, struct rte_mbuf *m)
{
	auto *b = static_cast<DataBench *>(ctx);
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);

	if ((seg_get_flags(ip) & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
		b->synack_seq = seg_get_seq(ip);
		b->synack_seen = true;
	}
}

// Engine, listener, and a connection made by a crafted handshake.
bool setup(benchmark::State &st, DataBench *b)
{
	struct tcp_config cfg;

	tcp_config_defaults(&cfg);       // delack 40 ms, rcv_buf 65535
	b->rx_pool = pool_create("drx", 8191);
	b->tx_pool = pool_create("dtx", 1023);
	if (!expect(st, b->rx_pool && b->tx_pool, "mempool create"))
		return false;
	b->eng = engine_create(cfg, kServerIp, b->tx_pool, tx_sink, &b->sink);
	if (!expect(st, b->eng != nullptr, "tcp_engine_create"))
		return false;
	if (!expect(st, dpt_listen(b->eng, 0, kServerPort, 0, server_cb, b) == 0,
		    "dpt_listen"))
		return false;

	SegTemplate t;
	SegSpec s;
	s.saddr = kClientIp;
	s.daddr = kServerIp;
	s.sport = kPeerPort;
	s.dport = kServerPort;
	s.seq = 0x10000000u;
	s.flags = TH_SYN;
	s.mss = 1460;
	seg_build(&t, s);
	b->sink.hook = capture_synack;
	b->sink.hook_ctx = b;
	struct rte_mbuf *m = seg_mbuf(b->rx_pool, t, false);
	tcp_input_burst(b->eng, &m, 1, b->now_us);
	b->sink.hook = nullptr;
	if (!expect(st, b->synack_seen, "no SYN-ACK"))
		return false;

	s.seq += 1;
	s.ack = b->synack_seq + 1;
	s.flags = TH_ACK;
	s.mss = 0;
	seg_build(&t, s);
	m = seg_mbuf(b->rx_pool, t, false);
	tcp_input_burst(b->eng, &m, 1, ++b->now_us);
	if (!expect(st, b->conn != nullptr &&
			dpt_conn_state(b->conn) == DPT_ESTABLISHED,
		    "handshake did not reach ESTABLISHED"))
		return false;
	b->peer_seq = s.seq;
	b->server_next = s.ack;
	return true;
}

void teardown(DataBench *b)
{
	if (b->eng != nullptr)
		tcp_engine_destroy(b->eng);
	rte_mempool_free(b->rx_pool);
	rte_mempool_free(b->tx_pool);
}

void BM_DataSegmentsInOrder(benchmark::State &st)
{
	const uint16_t size = (uint16_t)st.range(0);
	const bool sw_csum = st.range(1) != 0;
	auto *b = new DataBench();

	if (!setup(st, b)) {
		teardown(b);
		delete b;
		return;
	}
	SegTemplate t;
	SegSpec s;
	s.saddr = kClientIp;
	s.daddr = kServerIp;
	s.sport = kPeerPort;
	s.dport = kServerPort;
	s.seq = b->peer_seq;
	s.ack = b->server_next;
	s.flags = TH_ACK | TH_PSH;
	s.len = size;
	seg_build(&t, s);

	std::vector<struct rte_mbuf *> pre(kPrebuiltBursts * kBurst);
	unsigned int next = kPrebuiltBursts;
	uint64_t bursts = 0;
	const uint64_t tx0 = b->sink.pkts, rx_bytes0 = tcp_engine_stats(b->eng)->rx_bytes;
	bool ok = true;

	for (auto _ : st) {
		if (next == kPrebuiltBursts) {
			st.PauseTiming();
			for (auto &m : pre) {
				seg_set_seq(t.bytes, b->peer_seq);
				if (sw_csum)
					seg_fix_tcp_csum(t.bytes);
				m = seg_mbuf(b->rx_pool, t, sw_csum);
				if (m == nullptr)
					ok = false;
				b->peer_seq += size;
			}
			next = 0;
			st.ResumeTiming();
			if (!ok)
				break;
		}
		b->now_us++;
		tcp_input_burst(b->eng, &pre[next * kBurst], kBurst, b->now_us);
		tcp_engine_poll(b->eng, b->now_us);
		next++;
		bursts++;
	}
	// Segments built but not consumed.
	if (next < kPrebuiltBursts)
		rte_pktmbuf_free_bulk(&pre[next * kBurst],
				      (kPrebuiltBursts - next) * kBurst);

	const struct tcp_stats *ts = tcp_engine_stats(b->eng);
	const uint64_t segs = bursts * kBurst;
	if (expect(st, ok, "RX pool exhausted") &&
	    expect(st, ts->rx_bytes - rx_bytes0 == segs * size,
		   "engine did not accept every byte in order") &&
	    expect(st, b->bytes_read == segs * size + 0,
		   "application did not read every byte") &&
	    expect(st, ts->rx_unacceptable == 0 && ts->rx_rcvbuf_full == 0,
		   "segments refused (window?)") &&
	    expect(st, b->conn != nullptr &&
			   dpt_conn_state(b->conn) == DPT_ESTABLISHED,
		   "connection left ESTABLISHED")) {
		st.SetItemsProcessed((int64_t)segs);
		st.SetBytesProcessed((int64_t)(segs * size));
		st.counters["segments/s"] = benchmark::Counter(
			(double)segs, benchmark::Counter::kIsRate);
		st.counters["acks/burst"] = bursts ?
			(double)(b->sink.pkts - tx0) / (double)bursts : 0;
	}
	teardown(b);
	delete b;
}

BENCHMARK(BM_DataSegmentsInOrder)
	->ArgNames({"payload", "sw_csum"})
	->Args({64, 0})
	->Args({1448, 0})
	->Args({1448, 1});

} // namespace
