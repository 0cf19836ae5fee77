// bench_common.h — what every micro-benchmark shares: the EAL brought up
// once by main(), mbuf pools, engines with a counting transmit function,
// and IPv4/TCP segments crafted from templates (a scripted peer that costs
// a few stores per segment, so the figures are the engine's).
#ifndef DPT_BENCH_COMMON_H
#define DPT_BENCH_COMMON_H

#include <cstddef>
#include <cstdint>

#include <benchmark/benchmark.h>

extern "C" {
#include "dpt.h"
#include "tcp_engine.h"
#include "tcp_internal.h"
}

namespace bench {

constexpr uint32_t kServerIp = 0x0a000001u;  // 10.0.0.1, the engine under test
constexpr uint32_t kClientIp = 0x0a000002u;  // 10.0.0.2, the scripted peer
constexpr uint16_t kServerPort = 80;
constexpr unsigned int kBurst = 32;

// EAL (called once from main before any benchmark runs).
int eal_init(const char *argv0);
void eal_cleanup();

// A packet mbuf pool with a unique name ("what" names its use).
struct rte_mempool *pool_create(const char *what, unsigned int n);

// Transmit sink: counts what the engine sends and frees it, or hands it to
// a hook first (which must not keep the mbufs).
struct TxSink {
	uint64_t pkts = 0;
	uint64_t calls = 0;
	void (*hook)(void *ctx, struct rte_mbuf *m) = nullptr;
	void *hook_ctx = nullptr;
};
uint16_t tx_sink(void *ctx, struct rte_mbuf **pkts, uint16_t n);

// An engine at `ip` whose transmit function is tx_sink(sink). Checksum
// offload on transmit is on (as with a NIC); engine ids are unique.
struct tcp_engine *engine_create(const struct tcp_config &cfg, uint32_t ip,
				 struct rte_mempool *tx_pool, tcp_tx_fn tx,
				 void *tx_ctx);

// ---------------------------------------------------------------- segments

// One IPv4+TCP segment, as it would arrive from a NIC: bytes from the IPv4
// header on, with the offsets of the fields a scripted peer patches.
struct SegTemplate {
	uint8_t bytes[20 + 20 + 4 + 1460];
	uint16_t len;        // IPv4 total length
	uint16_t seq_off;    // byte offset of the TCP sequence number
	uint16_t ack_off;
};

struct SegSpec {
	uint32_t saddr, daddr;   // host order
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;           // TH_*
	uint16_t win = 65535;
	uint16_t mss = 0;        // 0: no MSS option
	const uint8_t *payload = nullptr;
	uint16_t len = 0;
};

// Builds the bytes with correct IPv4 and TCP checksums.
void seg_build(SegTemplate *t, const SegSpec &s);

// Rewrites seq and/or ack (host order) in a template or packet.
void seg_set_seq(uint8_t *ip, uint32_t seq);
void seg_set_ack(uint8_t *ip, uint32_t ack);
uint32_t seg_get_seq(const uint8_t *ip);
uint32_t seg_get_ack(const uint8_t *ip);
uint8_t seg_get_flags(const uint8_t *ip);
uint16_t seg_get_dport(const uint8_t *ip);
// Recomputes the TCP checksum (for runs that verify checksums in software).
void seg_fix_tcp_csum(uint8_t *ip);

// An mbuf holding a copy of the template, with the RX metadata a NIC
// gives (l3_len, packet type). sw_csum: L4 checksum status UNKNOWN (the
// engine verifies it in software); otherwise RX_{IP,L4}_CKSUM_GOOD.
struct rte_mbuf *seg_mbuf(struct rte_mempool *pool, const SegTemplate &t,
			  bool sw_csum);

// Timer wheel vs rte_timer with n timers (bm_timer.cc).
void register_timer_benchmarks(uint32_t n);

// Aborts the benchmark run (SkipWithError), counts it in g_failures (main
// then exits 1) and returns false when cond is false.
bool expect(benchmark::State &st, bool cond, const char *what);
extern unsigned int g_failures;

} // namespace bench

#endif
