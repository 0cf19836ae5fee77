// bm_table.cc — benchmark 4: connection table lookups, a burst of 32 keys
// at a time, over a table of 65536 connections (real ones, made with
// tcp_conn_alloc(), in an engine with max_conns = 131072, i.e. the
// rte_hash about half full):
//   Bulk:         tcp_table_lookup_bulk() of the 32 keys (what
//                 tcp_input_burst() does; the hash is computed inside)
//   OneByOne:     32 x tcp_table_lookup()
//   BulkWithHash: rte_hash_lookup_with_hash_bulk_data() with signatures
//                 computed beforehand, i.e. the DESIGN's "signature = RSS
//                 hash already in the mbuf", which tcp_table.c does not use
//                 yet: the figure shows what it would save
// Keys are drawn at random from the 65536 (so most lookups miss the CPU
// caches, as with many flows); miss_pct of them are tuples not in the
// table. Timed: the lookups only; per-key figure = 1e9 / items_per_second.
#include <random>
#include <vector>

#include <rte_hash.h>

#include "bench_common.h"

namespace {

using namespace bench;

constexpr uint32_t kConns = 65536;
constexpr uint32_t kKeyBursts = 8192;   // 256k keys, cycled

struct TableFix {
	struct rte_mempool *pool = nullptr;
	struct tcp_engine *eng = nullptr;
	TxSink sink;
	std::vector<struct tcp_tuple> keys;     // kKeyBursts * 32
	std::vector<hash_sig_t> sigs;
	std::vector<bool> hit;
	uint64_t expected_hits = 0;
};

struct tcp_tuple tuple_of(uint32_t i, bool present)
{
	// Present: 10.2.x.y:port, 64 addresses x 1024 ports; absent: 10.3.*.
	struct tcp_tuple t = {};     // padding zero: part of the key
	t.lip = rte_cpu_to_be_32(kServerIp);
	t.rip = rte_cpu_to_be_32((present ? 0x0a020000u : 0x0a030000u) | (i >> 10));
	t.lport = rte_cpu_to_be_16(kServerPort);
	t.rport = rte_cpu_to_be_16((uint16_t)(10000 + (i & 1023)));
	return t;
}

TableFix *table_setup(benchmark::State &st, int miss_pct)
{
	auto *f = new TableFix();
	struct tcp_config cfg;

	tcp_config_defaults(&cfg);
	cfg.max_conns = 2 * kConns;
	f->pool = pool_create("tbl", 1023);
	f->eng = f->pool ? engine_create(cfg, kServerIp, f->pool, tx_sink,
					 &f->sink) : nullptr;
	if (!expect(st, f->eng != nullptr, "engine create"))
		return f;
	for (uint32_t i = 0; i < kConns; i++) {
		struct tcp_tuple t = tuple_of(i, true);
		if (tcp_conn_alloc(f->eng, &t) == nullptr) {
			expect(st, false, "tcp_conn_alloc: table full");
			return f;
		}
	}
	std::mt19937 rng(7);
	std::uniform_int_distribution<uint32_t> pick(0, kConns - 1);
	std::uniform_int_distribution<int> pct(0, 99);
	f->keys.resize(kKeyBursts * kBurst);
	f->sigs.resize(f->keys.size());
	f->hit.resize(f->keys.size());
	for (size_t i = 0; i < f->keys.size(); i++) {
		bool present = pct(rng) >= miss_pct;
		f->keys[i] = tuple_of(pick(rng), present);
		f->sigs[i] = rte_hash_hash(f->eng->conns, &f->keys[i]);
		f->hit[i] = present;
		f->expected_hits += present;
	}
	return f;
}

void table_teardown(TableFix *f)
{
	if (f->eng != nullptr)
		tcp_engine_destroy(f->eng);
	rte_mempool_free(f->pool);
	delete f;
}

enum Mode { BULK, ONE_BY_ONE, BULK_WITH_HASH };

void BM_TableLookup(benchmark::State &st, Mode mode)
{
	const int miss_pct = (int)st.range(0);
	TableFix *f = table_setup(st, miss_pct);
	void *out[kBurst];     // the engine's entries (connection or TIME_WAIT record)
	uint64_t lookups = 0, hits = 0, rounds = 0;
	uint32_t b = 0;

	if (f->eng == nullptr || f->keys.empty()) {
		table_teardown(f);
		return;
	}
	for (auto _ : st) {
		const struct tcp_tuple *k = &f->keys[b * kBurst];
		switch (mode) {
		case BULK:
			tcp_table_lookup_bulk(f->eng, k, kBurst, out);
			break;
		case ONE_BY_ONE:
			for (unsigned int i = 0; i < kBurst; i++)
				out[i] = tcp_table_lookup(f->eng, &k[i]);
			break;
		case BULK_WITH_HASH: {
			const void *kp[kBurst];
			void *data[kBurst];
			uint64_t mask = 0;
			for (unsigned int i = 0; i < kBurst; i++)
				kp[i] = &k[i];
			rte_hash_lookup_with_hash_bulk_data(f->eng->conns, kp,
				&f->sigs[b * kBurst], kBurst, &mask, data);
			for (unsigned int i = 0; i < kBurst; i++)
				out[i] = (mask >> i) & 1 ? data[i] : nullptr;
			break;
		}
		}
		for (unsigned int i = 0; i < kBurst; i++)
			hits += out[i] != nullptr;
		lookups += kBurst;
		if (++b == kKeyBursts) {
			b = 0;
			rounds++;
		}
	}
	// Hits expected: whole rounds of the key array plus the partial one.
	uint64_t exp = rounds * f->expected_hits;
	for (uint32_t i = 0; i < b * kBurst; i++)
		exp += f->hit[i];
	if (expect(st, hits == exp, "lookup results differ from the table")) {
		st.SetItemsProcessed((int64_t)lookups);
		st.counters["lookups/s"] = benchmark::Counter(
			(double)lookups, benchmark::Counter::kIsRate);
	}
	table_teardown(f);
}

#define TABLE_BENCH(mode)                                                   \
	BENCHMARK_CAPTURE(BM_TableLookup, mode, mode)                       \
		->ArgName("miss_pct")                                       \
		->Arg(0)                                                    \
		->Arg(25)

TABLE_BENCH(BULK);
TABLE_BENCH(ONE_BY_ONE);
TABLE_BENCH(BULK_WITH_HASH);

} // namespace
