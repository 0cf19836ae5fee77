#!/bin/bash
# run_micro.sh — runs dptcp-bench and prints one compact table:
#   benchmark, ns/op, ops/s, goal, met?
# Figures are reported, never asserted: the exit status is dptcp-bench's
# (non-zero only when a benchmark failed its own consistency checks).
#
#   bench/run_micro.sh [BUILD_DIR] [-- extra dptcp-bench flags]
#
# Defaults: BUILD_DIR=build, --benchmark_min_time=0.2. Examples:
#   bench/run_micro.sh                                   # everything
#   bench/run_micro.sh build -- --benchmark_filter=Lifecycle
#   bench/run_micro.sh build -- --benchmark_repetitions=5   # medians
# ns/op and ops/s are from CPU time (the process's own, so other load on a
# shared machine inflates them less than wall time would). The JSON of the
# run is kept in $BUILD_DIR/bench-micro.json.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
bin=$build/bench/dptcp-bench
if [ ! -x "$bin" ]; then
	echo "run_micro.sh: $bin not found (meson setup build && ninja -C build)" >&2
	exit 2
fi
json=$build/bench-micro.json
min_time=(--benchmark_min_time=0.2)
for a in "$@"; do
	case $a in --benchmark_min_time=*) min_time=() ;; esac
done

rc=0
"$bin" "${min_time[@]}" "$@" --benchmark_out="$json" \
	--benchmark_out_format=json >&2 || rc=$?

/usr/bin/python3 - "$json" <<'EOF'
import json, re, sys

with open(sys.argv[1]) as f:
    doc = json.load(f)

rows = {}
order = []
for b in doc["benchmarks"]:
    # With repetitions, keep the medians; otherwise the single runs.
    if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
        continue
    name = b.get("run_name", b["name"])
    if b.get("run_type") == "iteration" and any(
            x.get("run_type") == "aggregate" for x in doc["benchmarks"]):
        continue
    if b.get("error_occurred"):
        rows[name] = None
        order.append(name)
        continue
    ips = b.get("items_per_second")
    if not ips:
        continue
    if name not in rows:
        order.append(name)
    rows[name] = ips

def ns(name):
    v = rows.get(name)
    return 1e9 / v if v else None

def goal(name):
    """(goal text, met) or None for figures reported without a goal."""
    ips = rows.get(name)
    if ips is None:
        return None
    if name.startswith("BM_DataSegmentsInOrder/"):
        return ("<= 100 ns/segment", 1e9 / ips <= 100)
    if name == "BM_ServerLifecycle/wave:32":
        return (">= 1,000,000 lifecycles/s", ips >= 1e6)
    m = re.match(r"BM_TimerWheel/(\w+)/(timers:\d+)", name)
    if m:
        other = "BM_RteTimer/%s/%s" % (m.group(1), m.group(2))
        if rows.get(other):
            ratio = ips / rows[other]
            return (">= 5x rte_timer (%.1fx)" % ratio, ratio >= 5)
    m = re.match(r"BM_TableLookup/BULK(_WITH_HASH)?/(miss_pct:\d+)", name)
    if m:
        other = "BM_TableLookup/ONE_BY_ONE/%s" % m.group(2)
        if rows.get(other):
            return ("(info: %.2fx one-by-one)" % (ips / rows[other]), None)
    return None

def si(v):
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= div:
            return "%.2f%s" % (v / div, unit)
    return "%.0f" % v

w = max([len(n) for n in order] + [9])
print("%-*s %10s %10s  %-28s %s" % (w, "benchmark", "ns/op", "ops/s", "goal", "met?"))
print("-" * (w + 58))
for n in order:
    ips = rows[n]
    if ips is None:
        print("%-*s %10s %10s  %-28s %s" % (w, n, "-", "-", "", "FAILED (see log)"))
        continue
    g = goal(n)
    gtext, met = (g if g else ("", None))
    mtext = "" if met is None else ("yes" if met else "NO")
    print("%-*s %10.1f %10s  %-28s %s" % (w, n, 1e9 / ips, si(ips), gtext, mtext))
print()
print("ns/op = CPU ns per item: a segment, a lifecycle, a timer operation, a key.")
ctx = doc.get("context", {})
print("host: %s CPUs @ %s MHz, %s" % (ctx.get("num_cpus"), ctx.get("mhz_per_cpu"),
                                      ctx.get("date")))
EOF
exit $rc
