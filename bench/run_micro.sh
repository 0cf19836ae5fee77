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
# shared machine inflates them less than wall time would). With
# --benchmark_repetitions=N the table shows the median and the best run. The JSON of the
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

rows = {}      # name -> items/s: the median with repetitions, else the run
best = {}      # name -> the highest items/s of the repetitions
order = []
reps = any(b.get("run_type") == "aggregate" for b in doc["benchmarks"])
for b in doc["benchmarks"]:
    name = b.get("run_name", b["name"])
    if name not in order:
        order.append(name)
    if b.get("error_occurred"):
        rows[name] = None
        continue
    ips = b.get("items_per_second")
    if not ips or rows.get(name, 0) is None:
        continue
    if b.get("run_type") == "aggregate":
        if b.get("aggregate_name") == "median":
            rows[name] = ips
        continue
    best[name] = max(best.get(name, 0), ips)
    if not reps:
        rows[name] = ips
order = [n for n in order if n in rows]

def goal(name, table):
    """(goal text, met) or None for figures reported without a goal."""
    ips = table.get(name)
    if ips is None:
        return None
    if name.startswith("BM_DataSegmentsInOrder/"):
        return ("<= 100 ns/segment", 1e9 / ips <= 100)
    if name == "BM_ServerLifecycle/wave:32":
        return (">= 1,000,000 lifecycles/s", ips >= 1e6)
    m = re.match(r"BM_TimerWheel/(\w+)/(timers:\d+)", name)
    if m:
        other = "BM_RteTimer/%s/%s" % (m.group(1), m.group(2))
        if table.get(other):
            ratio = ips / table[other]
            return (">= 5x rte_timer (%.1fx)" % ratio, ratio >= 5)
    m = re.match(r"BM_TableLookup/BULK(_WITH_HASH)?/(miss_pct:\d+)", name)
    if m:
        other = "BM_TableLookup/ONE_BY_ONE/%s" % m.group(2)
        if table.get(other):
            return ("(info: %.2fx one-by-one)" % (ips / table[other]), None)
    return None

def si(v):
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= div:
            return "%.2f%s" % (v / div, unit)
    return "%.0f" % v

def met(g):
    return "" if g is None or g[1] is None else ("yes" if g[1] else "NO")

w = max([len(n) for n in order] + [9])
if reps:
    print("%-*s %9s %9s %9s  %-28s %s" % (w, "benchmark", "ns/op", "best", "ops/s",
                                          "goal", "met? (median/best)"))
else:
    print("%-*s %9s %9s  %-28s %s" % (w, "benchmark", "ns/op", "ops/s", "goal", "met?"))
print("-" * (w + 70))
for n in order:
    ips = rows[n]
    if ips is None:
        print("%-*s %9s  FAILED (see the log above)" % (w, n, "-"))
        continue
    g = goal(n, rows)
    gtext = g[0] if g else ""
    if reps:
        gb = goal(n, best)
        m = "%s/%s" % (met(g), met(gb)) if g and g[1] is not None else ""
        if gb and g and gb[0] != g[0]:
            x = re.search(r"(\d+\.\d+x)", gb[0])
            gtext += " best %s" % (x.group(1) if x else gb[0])
        print("%-*s %9.1f %9.1f %9s  %-28s %s" % (w, n, 1e9 / ips, 1e9 / best[n],
                                                  si(ips), gtext, m))
    else:
        print("%-*s %9.1f %9s  %-28s %s" % (w, n, 1e9 / ips, si(ips), gtext, met(g)))
print()
print("ns/op = CPU ns per item: a segment, a lifecycle, a timer operation, a key.")
if reps:
    print("ns/op and ops/s: median of the repetitions; best: the fastest repetition.")
ctx = doc.get("context", {})
print("host: %s CPUs @ %s MHz, %s" % (ctx.get("num_cpus"), ctx.get("mhz_per_cpu"),
                                      ctx.get("date")))
EOF
exit $rc
