// bm_timer.cc — benchmark 3: the engine's timer wheel (tcp_timer.c) against
// DPDK's rte_timer, one million timers, same workload on both:
//   Start:  arm every timer (stopped before) at a random expiry
//   Rearm:  every timer armed; re-arm each, in random order, to a new
//           random expiry (what an RTO restart per ACK does)
//   Stop:   every timer armed; stop each, in random order
//   Expire: every timer armed; advance time past the last expiry and run
//           the expiry pass so that all of them fire (callback counts)
// Expiries are uniform over a horizon of 2^16 units: wheel ticks (65 s at
// the engine's 1 ms tick: levels 0 and 1 of the wheel, so expiry includes
// one cascade for most timers), and for rte_timer TSC cycles scaled so the
// horizon spans about one second for 1M timers (rte_timer counts real TSC
// time, so the Expire run busy-waits, untimed, until all are due). Each
// timer is armed "delta from now": the wheel's now is frozen during a
// round (virtual time), rte_timer's is the TSC, which moves while it arms.
// Only the operation named is timed; the set-up of each round is not.
// Per-op figure = 1e9 / items_per_second.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_timer.h>

#include "bench_common.h"

namespace {

using namespace bench;

constexpr uint32_t kHorizonUnits = 1u << 16;

struct Workload {
	uint32_t n = 0;
	std::vector<uint32_t> delta;   // start expiry, in units
	std::vector<uint32_t> delta2;  // re-arm expiry
	std::vector<uint32_t> perm;    // random order for stop / re-arm
};

const Workload &workload(uint32_t n)
{
	static Workload w;

	if (w.n != n) {
		std::mt19937_64 rng(42);
		std::uniform_int_distribution<uint32_t> d(1, kHorizonUnits - 1);
		w.n = n;
		w.delta.resize(n);
		w.delta2.resize(n);
		w.perm.resize(n);
		for (uint32_t i = 0; i < n; i++) {
			w.delta[i] = d(rng);
			w.delta2[i] = d(rng);
			w.perm[i] = i;
		}
		std::shuffle(w.perm.begin(), w.perm.end(), rng);
	}
	return w;
}

void report(benchmark::State &st, uint64_t ops)
{
	st.SetItemsProcessed((int64_t)ops);
	st.counters["ops/s"] = benchmark::Counter((double)ops,
						  benchmark::Counter::kIsRate);
}

// ------------------------------------------------------------------ wheel

struct WheelFix {
	struct tcp_wheel w;
	std::vector<struct tcp_timer> t;
	uint64_t fired = 0;
};

void wheel_cb(void *ctx, struct tcp_timer *t)
{
	++*static_cast<uint64_t *>(ctx);
}

void wheel_reset(WheelFix *f, uint32_t n)
{
	uint64_t now = f->w.now_tick;

	f->t.assign(n, tcp_timer{});
	tcp_wheel_init(&f->w, now);
}

void wheel_arm_all(WheelFix *f, const Workload &wl)
{
	const uint64_t now = f->w.now_tick;

	for (uint32_t i = 0; i < wl.n; i++)
		tcp_timer_arm(&f->w, &f->t[i], now + wl.delta[i]);
}

enum Op { OP_START, OP_REARM, OP_STOP, OP_EXPIRE };

void BM_TimerWheel(benchmark::State &st, Op op)
{
	const uint32_t n = (uint32_t)st.range(0);
	const Workload &wl = workload(n);
	auto *f = new WheelFix();
	uint64_t ops = 0;
	bool ok = true;

	tcp_wheel_init(&f->w, 1000);
	wheel_reset(f, n);
	for (auto _ : st) {
		st.PauseTiming();
		wheel_reset(f, n);
		if (op != OP_START)
			wheel_arm_all(f, wl);
		const uint64_t now = f->w.now_tick;
		f->fired = 0;
		st.ResumeTiming();
		switch (op) {
		case OP_START:
			wheel_arm_all(f, wl);
			break;
		case OP_REARM:
			for (uint32_t i = 0; i < n; i++) {
				uint32_t k = wl.perm[i];
				tcp_timer_arm(&f->w, &f->t[k], now + wl.delta2[k]);
			}
			break;
		case OP_STOP:
			for (uint32_t i = 0; i < n; i++)
				tcp_timer_stop(&f->w, &f->t[wl.perm[i]]);
			break;
		case OP_EXPIRE:
			tcp_wheel_run(&f->w, now + kHorizonUnits, wheel_cb,
				      &f->fired);
			break;
		}
		benchmark::ClobberMemory();
		ops += n;
		if (op == OP_EXPIRE && f->fired != n)
			ok = false;
		if (op != OP_EXPIRE && f->w.armed != (op == OP_STOP ? 0 : n))
			ok = false;
	}
	if (expect(st, ok, "wheel: wrong number of timers armed or fired"))
		report(st, ops);
	delete f;
}

// -------------------------------------------------------------- rte_timer

struct RteFix {
	struct rte_timer *t = nullptr;     // calloc'd: not a C++ value type
	uint32_t n = 0;
	uint64_t fired = 0;
	uint64_t cycles_per_unit = 1;
};

void rte_cb(struct rte_timer *t, void *arg)
{
	++*static_cast<uint64_t *>(arg);
}

bool g_rte_timer_ready;

void rte_arm_all(RteFix *f, const Workload &wl, const std::vector<uint32_t> &d)
{
	const unsigned int lcore = rte_lcore_id();

	for (uint32_t i = 0; i < wl.n; i++)
		rte_timer_reset(&f->t[i], d[i] * f->cycles_per_unit, SINGLE,
				lcore, rte_cb, &f->fired);
}

// Untimed: every timer must be pending; then wait until all are due and
// let rte_timer_manage() expire them (back to "all stopped"; a million
// rte_timer_stop() calls take seconds). True if all were pending and fired.
bool rte_drain(RteFix *f)
{
	bool all = true;

	for (uint32_t i = 0; i < f->n; i++)
		all &= rte_timer_pending(&f->t[i]) != 0;
	f->fired = 0;
	const uint64_t until = rte_get_timer_cycles() +
			       (uint64_t)kHorizonUnits * f->cycles_per_unit;
	while (rte_get_timer_cycles() < until)
		rte_pause();
	rte_timer_manage();
	return all && f->fired == f->n;
}

// Stops whatever is left (on the way out, before the memory goes).
void rte_stop_all(RteFix *f)
{
	for (uint32_t i = 0; i < f->n; i++)
		rte_timer_stop(&f->t[i]);
}

void BM_RteTimer(benchmark::State &st, Op op)
{
	const uint32_t n = (uint32_t)st.range(0);
	const Workload &wl = workload(n);
	auto *f = new RteFix();
	uint64_t ops = 0;
	bool ok = true;

	if (!g_rte_timer_ready) {
		if (!expect(st, rte_timer_subsystem_init() == 0,
			    "rte_timer_subsystem_init")) {
			delete f;
			return;
		}
		g_rte_timer_ready = true;
	}
	// The horizon, 2^16 units, spans about one second of TSC time for a
	// million timers (arming them takes about as long), less for fewer.
	f->cycles_per_unit = RTE_MAX((uint64_t)((double)(rte_get_timer_hz() >> 16) *
						RTE_MIN(n, 1000000u) / 1e6),
				     (uint64_t)1);
	f->n = n;
	f->t = static_cast<struct rte_timer *>(calloc(n, sizeof(*f->t)));
	if (!expect(st, f->t != nullptr, "calloc")) {
		delete f;
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		rte_timer_init(&f->t[i]);
	for (auto _ : st) {
		st.PauseTiming();
		if (op != OP_START)
			rte_arm_all(f, wl, wl.delta);
		if (op == OP_EXPIRE) {
			// rte_timer knows only real time: wait until all are due.
			const uint64_t until = rte_get_timer_cycles() +
				(uint64_t)kHorizonUnits * f->cycles_per_unit;
			while (rte_get_timer_cycles() < until)
				rte_pause();
		}
		f->fired = 0;
		st.ResumeTiming();
		switch (op) {
		case OP_START:
			rte_arm_all(f, wl, wl.delta);
			break;
		case OP_REARM:
			for (uint32_t i = 0; i < n; i++) {
				uint32_t k = wl.perm[i];
				rte_timer_reset(&f->t[k],
						wl.delta2[k] * f->cycles_per_unit,
						SINGLE, rte_lcore_id(), rte_cb,
						&f->fired);
			}
			break;
		case OP_STOP:
			for (uint32_t i = 0; i < n; i++)
				rte_timer_stop(&f->t[wl.perm[i]]);
			break;
		case OP_EXPIRE:
			rte_timer_manage();
			break;
		}
		benchmark::ClobberMemory();
		ops += n;
		st.PauseTiming();
		if (op == OP_EXPIRE && f->fired != n)
			ok = false;
		if ((op == OP_START || op == OP_REARM) && !rte_drain(f))
			ok = false;
		st.ResumeTiming();
	}
	if (expect(st, ok, "rte_timer: timers not pending or not fired"))
		report(st, ops);
	rte_stop_all(f);
	free(f->t);
	delete f;
}

} // namespace

namespace bench {

// Registered from main() so that --dpt_timers=N (the smoke test) can
// shrink the million.
void register_timer_benchmarks(uint32_t n)
{
	static const struct {
		const char *name;
		void (*fn)(benchmark::State &, Op);
		Op op;
	} list[] = {
		{ "BM_TimerWheel/start", BM_TimerWheel, OP_START },
		{ "BM_RteTimer/start", BM_RteTimer, OP_START },
		{ "BM_TimerWheel/rearm", BM_TimerWheel, OP_REARM },
		{ "BM_RteTimer/rearm", BM_RteTimer, OP_REARM },
		{ "BM_TimerWheel/stop", BM_TimerWheel, OP_STOP },
		{ "BM_RteTimer/stop", BM_RteTimer, OP_STOP },
		{ "BM_TimerWheel/expire", BM_TimerWheel, OP_EXPIRE },
		{ "BM_RteTimer/expire", BM_RteTimer, OP_EXPIRE },
	};
	for (const auto &b : list)
		benchmark::RegisterBenchmark(b.name, b.fn, b.op)
			->ArgName("timers")
			->Arg(n)
			->Unit(benchmark::kMillisecond);
}

} // namespace bench
