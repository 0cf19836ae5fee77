#!/usr/bin/python3
"""shim_report.py RUNS.tsv — the table of bench/shim_bench.sh: medians over
rounds of each figure (lines "round side figure value"; sides: shim,
inproc = sockperf -> in-process dptcp-echo, perf = dptcp-perf rr ->
dptcp-echo, kernel), ratios, and issue 7's goals (reported, never
asserted)."""

import statistics
import sys
from collections import defaultdict

vals = defaultdict(list)
for line in open(sys.argv[1]):
    parts = line.split("\t")
    if len(parts) != 4 or not parts[3].strip():
        continue
    vals[(parts[1], parts[2])].append(float(parts[3]))


def med(side, fig):
    v = vals.get((side, fig))
    return statistics.median(v) if v else None


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "us":
        return "%.1f" % v
    return "%.0f %%" % v if unit == "pct" else "{:,.0f}".format(v)


def ratio(a, b):
    return "%.2fx" % (a / b) if a is not None and b else "-"


ROWS = [
    # label, figure, unit ("us": lower is better, "ops": higher)
    ("sockperf ping-pong p50 (us)", "sp_p50", "us"),
    ("sockperf ping-pong p99 (us)", "sp_p99", "us"),
    ("sockperf ping-pong avg (us)", "sp_avg", "us"),
    ("  server program CPU %", "sp_cpu", "pct"),
    ("kperf rr -> echo p50 (us)", "kp_p50", "us"),
    ("kperf rr -> echo p99 (us)", "kp_p99", "us"),
    ("  server program CPU %", "kp_cpu", "pct"),
    ("dptcp-perf rr -> echo p50 (us)", "dp_p50", "us"),
    ("dptcp-perf rr -> echo p99 (us)", "dp_p99", "us"),
    ("redis GET ops/s, 50 conns", "redis_get_P1", "ops"),
    ("redis SET ops/s, 50 conns", "redis_set_P1", "ops"),
    ("redis GET ops/s, 50 conns, -P 16", "redis_get_P16", "ops"),
    ("redis SET ops/s, 50 conns, -P 16", "redis_set_P16", "ops"),
]

print("%-33s %9s %9s %9s %8s %8s  %s" % (
    "figure", "shim", "in-proc", "Linux", "shim/", "shim/", "goal (issue 7)"))
print("%-33s %9s %9s %9s %8s %8s" % ("", "", "dptcp", "kernel", "in-proc", "Linux"))
dp50 = med("inproc", "dp_p50")
for label, fig, unit in ROWS:
    s, i, k = (med(x, fig) for x in ("shim", "inproc", "kernel"))
    goal = ""
    if fig == "sp_p50" and s is not None:
        goal = "<= 2x dptcp-perf p50 (%s): %s; < Linux: %s" % (
            fmt(dp50, unit),
            "met" if dp50 and s <= 2 * dp50 else "NOT met",
            "met" if k is not None and s < k else "NOT met")
    if fig == "sp_p50":
        i_ratio = ratio(s, dp50)
    elif unit == "pct":
        i_ratio = ""
    else:
        i_ratio = ratio(s, i)
    if fig == "redis_get_P1" or fig == "redis_get_P16":
        if s is not None and k is not None:
            goal = ">= Linux: %s" % ("met" if s >= k else "NOT met")
    print("%-33s %9s %9s %9s %8s %8s  %s" % (
        label, fmt(s, unit), fmt(i, unit), fmt(k, unit),
        i_ratio, ratio(s, k) if unit != "pct" else "", goal))
for pre, what in (("sp", "sockperf message"), ("kp", "kperf round trip")):
    per = ["%s %.2f" % (k, med("shim", pre + "_" + k))
           for k in ("wakeups", "conn_kicks", "conn_services", "engine_loops")
           if med("shim", pre + "_" + k) is not None]
    if per:
        print("per %s through the shim (/dptcp/shim): %s" % (what, ", ".join(per)))
n = max((len(v) for v in vals.values()), default=0)
print("medians of %d rounds. sockperf: its server under dptcp-run / on Linux;"
      " kperf rr -> echo: dptcp-kperf (Linux) against dptcp-kecho under"
      " dptcp-run / in-process dptcp-echo / dptcp-kecho on Linux;"
      " dptcp-perf rr -> echo: dptcp at both ends (issue 7's in-process"
      " figure; the sockperf row's shim/in-proc is against it)." % n)
