#!/usr/bin/python3
"""e2e_report.py DIR — the tables of bench/e2e.sh, from the --json output
of dptcp-perf and dptcp-kperf in DIR/SETUP-STACK-MODE.json (SETUP: loopback,
veth, memif; STACK: dptcp, linux; MODE: rr-1, rr-16, crr-4-fin, crr-4-rst,
bulk-1), and DIR/rr-latency.png, the rr-1 latency distributions (gnuplot).

First every run; then the headline: dptcp over memif against Linux over
loopback (each stack's fastest local path), with the ratio and the goals
of issue 4. Goals are reported, never asserted."""

import glob
import json
import os
import shutil
import subprocess
import sys

DIR = sys.argv[1]


def runs():
    out = {}
    for p in sorted(glob.glob(os.path.join(DIR, "*.json"))):
        setup, stack, mode = os.path.basename(p)[:-5].split("-", 2)
        try:
            with open(p) as f:
                out[(setup, stack, mode)] = json.load(f)
        except ValueError:
            pass
    return out


def rate(d):
    return d.get("tps", d.get("cps", 0.0))


def all_runs(r):
    print("%-8s %-10s %-6s %11s %9s %9s %9s %8s %6s %7s" % (
        "setup", "mode", "stack", "rate/s", "p50 us", "p99 us", "p99.9 us",
        "Gbit/s", "errors", "ratio"))
    for (setup, stack, mode), d in sorted(r.items(), key=lambda x: (x[0][0], x[0][2], x[0][1])):
        lat = d.get("latency_us", {})
        other = r.get((setup, "linux", mode)) if stack == "dptcp" else None
        ratio = ""
        if other is not None and rate(other):
            ratio = "%.2fx" % (rate(d) / rate(other))
        print("%-8s %-10s %-6s %11.0f %9.1f %9.1f %9.1f %8.3f %6d %7s" % (
            setup, mode, stack, rate(d), lat.get("p50", 0), lat.get("p99", 0),
            lat.get("p999", 0), d.get("gbit_s", 0), d.get("errors", 0), ratio))
    print("(rate: transactions, connections or --size writes per second; "
          "ratio: dptcp / Linux over the same path)")


# label, mode, value, "low" or "high" is better, goal
HEADLINE = [
    ("rr p50 latency (us)", "rr-1", lambda d: d["latency_us"]["p50"], "low",
     "dptcp at least 3x lower"),
    ("rr p99 latency (us)", "rr-1", lambda d: d["latency_us"]["p99"], "low", ""),
    ("rr transactions/s, 1 conn", "rr-1", rate, "high", ""),
    ("rr transactions/s, 16 conns", "rr-16", rate, "high", ""),
    ("crr connections/s (FIN)", "crr-4-fin", rate, "high",
     "dptcp at least 3x higher"),
    ("crr connections/s (RST)", "crr-4-rst", rate, "high", ""),
    ("bulk Gbit/s, 1 conn", "bulk-1", lambda d: d["gbit_s"], "high", ""),
]


def headline(r):
    print()
    print("dptcp (dptcp-perf <-> dptcp-echo, net_memif, one core each) vs "
          "Linux (dptcp-kperf <-> dptcp-kecho, loopback, one CPU each)")
    print("%-30s %10s %10s %8s  %s" % ("figure", "dptcp", "Linux", "better", "goal"))
    for label, mode, get, better, goal in HEADLINE:
        d, l = r.get(("memif", "dptcp", mode)), r.get(("loopback", "linux", mode))
        try:
            dv = get(d) if d else None
            lv = get(l) if l else None
        except (KeyError, TypeError):
            dv = lv = None
        times = "-"
        met = ""
        if dv and lv:
            x = lv / dv if better == "low" else dv / lv
            times = "%.2fx" % x
            if goal:
                met = " (met)" if x >= 3 else " (not met)"
        f = lambda v: "-" if v is None else ("%.1f" % v if v < 100 else "%.0f" % v)
        print("%-30s %10s %10s %8s  %s%s" % (label, f(dv), f(lv), times, goal, met))
    print("better: how many times better dptcp's figure is (Linux/dptcp for "
          "latencies, dptcp/Linux for rates)")


def cdf(hist):
    total = sum(c for _, c in hist) or 1
    acc, pts = 0, []
    for ub, c in sorted(hist):
        acc += c
        pts.append((ub / 1000.0, acc / total))
    return pts


def plot(r):
    if shutil.which("gnuplot") is None:
        print("gnuplot is not installed (apt-get install gnuplot-nox): no PNG")
        return
    names = {("memif", "dptcp"): "dptcp, net_memif",
             ("loopback", "linux"): "Linux, loopback",
             ("veth", "dptcp"): "dptcp, veth (af_packet)",
             ("veth", "linux"): "Linux, veth"}
    series = []
    for (setup, stack), title in names.items():
        d = r.get((setup, stack, "rr-1"))
        if not d or not d.get("hist"):
            continue
        path = os.path.join(DIR, "rr-1-%s-%s.dat" % (setup, stack))
        with open(path, "w") as f:
            for us, frac in cdf(d["hist"]):
                f.write("%.4f %.6f\n" % (us, frac))
        series.append("'%s' using 1:2 with steps lw 2 title '%s'" % (path, title))
    if not series:
        print("no rr-1 histogram: no PNG")
        return
    png = os.path.join(DIR, "rr-latency.png")
    script = """
set terminal png size 900,500 noenhanced
set output '%s'
set title 'rr, 1 connection, 64-byte request and response: latency distribution'
set xlabel 'round trip (us, log scale)'
set ylabel 'fraction of transactions at or below'
set logscale x
set yrange [0:1]
set grid
set key bottom right
plot %s
""" % (png, ", ".join(series))
    p = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    print("latency distributions: %s" % png if p.returncode == 0
          else "gnuplot failed: %s" % p.stderr.strip())


r = runs()
all_runs(r)
headline(r)
plot(r)
