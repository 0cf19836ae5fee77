// bench_common.cc — EAL setup, pools, engines and segment templates shared
// by the micro-benchmarks (see bench_common.h).
#include "bench_common.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_random.h>

namespace bench {

static char g_runtime_dir[512];
static unsigned int g_pool_seq;
static unsigned int g_engine_seq;

int eal_init(const char *argv0)
{
	// One lcore; DPT_BENCH_LCORE picks which CPU (default 0).
	const char *core = getenv("DPT_BENCH_LCORE");
	std::string lcore = core ? core : "0";
	std::string prefix = "--file-prefix=dptbench" + std::to_string(getpid());
	std::vector<std::string> args = {
		argv0, "--no-huge", "-m", "1024", "--no-pci", "--no-shconf",
		prefix, "-l", lcore, "--log-level=lib.*:error", "--no-telemetry",
	};
	std::vector<char *> argv;
	for (auto &a : args)
		argv.push_back(a.data());
	argv.push_back(nullptr);
	if (rte_eal_init((int)args.size(), argv.data()) < 0)
		return -rte_errno;
	snprintf(g_runtime_dir, sizeof(g_runtime_dir), "%s",
		 rte_eal_get_runtime_dir());
	rte_srand(0xbe7c4);
	return 0;
}

void eal_cleanup()
{
	rte_eal_cleanup();
	// --no-shconf still creates an (empty) runtime directory.
	if (g_runtime_dir[0] != '\0')
		rmdir(g_runtime_dir);
}

struct rte_mempool *pool_create(const char *what, unsigned int n)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	snprintf(name, sizeof(name), "b%s%u", what, g_pool_seq++);
	return rte_pktmbuf_pool_create(name, n, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
}

uint16_t tx_sink(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	auto *s = static_cast<TxSink *>(ctx);

	s->calls++;
	s->pkts += n;
	if (s->hook != nullptr)
		for (uint16_t i = 0; i < n; i++)
			s->hook(s->hook_ctx, pkts[i]);
	rte_pktmbuf_free_bulk(pkts, n);
	return n;
}

struct tcp_engine *engine_create(const struct tcp_config &cfg, uint32_t ip,
				 struct rte_mempool *tx_pool, tcp_tx_fn tx,
				 void *tx_ctx)
{
	struct tcp_engine_params p;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.local_ip = ip;
	p.mtu = 1500;
	p.socket_id = (int)rte_socket_id();
	p.engine_id = 1000 + g_engine_seq++;
	p.pool = tx_pool;
	p.tx = tx;
	p.tx_ctx = tx_ctx;
	p.tx_cksum_offload = true;
	p.isn_secret[0] = 0x0123456789abcdefull;
	p.isn_secret[1] = 0xfedcba9876543210ull;
	return tcp_engine_create(&p);
}

// ---------------------------------------------------------------- segments

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint8_t *tcp_hdr(uint8_t *ip) { return ip + (ip[0] & 0xf) * 4; }
static inline const uint8_t *tcp_hdr(const uint8_t *ip)
{
	return ip + (ip[0] & 0xf) * 4;
}

void seg_build(SegTemplate *t, const SegSpec &s)
{
	uint32_t thl = 20 + (s.mss ? 4 : 0);
	uint32_t tot = 20 + thl + s.len;
	uint8_t *ip = t->bytes;
	uint8_t *th = ip + 20;

	memset(t, 0, sizeof(*t));
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)tot);
	wr16(ip + 6, 0x4000);  // DF
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	wr32(ip + 12, s.saddr);
	wr32(ip + 16, s.daddr);
	wr16(th, s.sport);
	wr16(th + 2, s.dport);
	wr32(th + 4, s.seq);
	wr32(th + 8, s.ack);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = s.flags;
	wr16(th + 14, s.win);
	if (s.mss) {
		th[20] = 2;
		th[21] = 4;
		wr16(th + 22, s.mss);
	}
	if (s.len) {
		if (s.payload != nullptr)
			memcpy(th + thl, s.payload, s.len);
		else
			for (uint32_t i = 0; i < s.len; i++)
				th[thl + i] = (uint8_t)(i * 7 + 1);
	}
	auto *iph = reinterpret_cast<struct rte_ipv4_hdr *>(ip);
	iph->hdr_checksum = rte_ipv4_cksum(iph);
	seg_fix_tcp_csum(ip);
	t->len = (uint16_t)tot;
	t->seq_off = 20 + 4;
	t->ack_off = 20 + 8;
}

void seg_set_seq(uint8_t *ip, uint32_t seq) { wr32(tcp_hdr(ip) + 4, seq); }
void seg_set_ack(uint8_t *ip, uint32_t ack) { wr32(tcp_hdr(ip) + 8, ack); }
uint32_t seg_get_seq(const uint8_t *ip) { return rd32(tcp_hdr(ip) + 4); }
uint32_t seg_get_ack(const uint8_t *ip) { return rd32(tcp_hdr(ip) + 8); }
uint8_t seg_get_flags(const uint8_t *ip) { return tcp_hdr(ip)[13]; }
uint16_t seg_get_dport(const uint8_t *ip)
{
	const uint8_t *th = tcp_hdr(ip);
	return (uint16_t)(th[2] << 8 | th[3]);
}

void seg_fix_tcp_csum(uint8_t *ip)
{
	auto *iph = reinterpret_cast<struct rte_ipv4_hdr *>(ip);
	auto *th = reinterpret_cast<struct rte_tcp_hdr *>(tcp_hdr(ip));

	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum(iph, th);
}

struct rte_mbuf *seg_mbuf(struct rte_mempool *pool, const SegTemplate &t,
			  bool sw_csum)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	if (m == nullptr)
		return nullptr;
	char *d = rte_pktmbuf_append(m, t.len);
	if (d == nullptr) {
		rte_pktmbuf_free(m);
		return nullptr;
	}
	memcpy(d, t.bytes, t.len);
	m->l2_len = 0;
	m->l3_len = 20;
	m->packet_type = RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP;
	m->ol_flags = sw_csum ? 0 :
		RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	return m;
}

unsigned int g_failures;

bool expect(benchmark::State &st, bool cond, const char *what)
{
	if (!cond) {
		g_failures++;
		st.SkipWithError(what);
	}
	return cond;
}

} // namespace bench
