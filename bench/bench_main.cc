// bench_main.cc — dptcp-bench's main: brings the EAL up once (no
// hugepages, no PCI, one lcore), registers the timer benchmarks with their
// size, then runs the benchmarks with Google Benchmark's usual flags
// (--benchmark_filter, --benchmark_min_time, --benchmark_format, ...).
// Own flag: --dpt_timers=N (default 1000000) timers in the wheel/rte_timer
// benchmarks; the smoke test uses a small N.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <benchmark/benchmark.h>

#include "bench_common.h"

int main(int argc, char **argv)
{
	uint32_t timers = 1000000;
	int k = 1;

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--dpt_timers=", 13) == 0)
			timers = (uint32_t)strtoul(argv[i] + 13, nullptr, 0);
		else
			argv[k++] = argv[i];
	}
	argc = k;
	argv[argc] = nullptr;
	if (timers == 0) {
		fprintf(stderr, "dptcp-bench: --dpt_timers needs N > 0\n");
		return 1;
	}
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	int rc = bench::eal_init(argv[0]);
	if (rc < 0) {
		fprintf(stderr, "dptcp-bench: rte_eal_init failed: %s\n",
			strerror(-rc));
		return 1;
	}
	bench::register_timer_benchmarks(timers);
	benchmark::AddCustomContext("engine_build",
				    "C11 -O2 -g (meson debugoptimized)");
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	bench::eal_cleanup();
	if (bench::g_failures > 0) {
		fprintf(stderr, "dptcp-bench: %u benchmark run(s) failed their checks\n",
			bench::g_failures);
		return 1;
	}
	return 0;
}
