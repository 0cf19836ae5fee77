"""bench/goodput_report.py — the tables of bench/goodput.sh from its JSON
files: goodput confirmed by the receiver (one answer byte per --size bytes
it read), median of the repeats, per loss rate and delay.

    goodput_report.py DIR fwd|rev|both REPEATS "LOSSES" "DELAYS" [before]

With "before", a column for the stack "dptcp-before" (goodput.sh -B).
"""
import json
import os
import statistics
import sys

out, dirs, rep = sys.argv[1], sys.argv[2], int(sys.argv[3])
losses, delays = sys.argv[4].split(), sys.argv[5].split()
before = len(sys.argv) > 6 and sys.argv[6] == "before"


def load(direction, stack, loss, delay, r):
    path = os.path.join(out, "%s-%s-loss%s-delay%s-%d.json" % (direction, stack, loss, delay, r))
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def goodput(d):
    """Mbit/s of data the receiving application confirmed."""
    if not d or not d.get("duration_s"):
        return None
    return d["bytes_rx"] * d["size"] * 8 / d["duration_s"] / 1e6


def cell(direction, stack, loss, delay):
    runs = [load(direction, stack, loss, delay, r) for r in range(1, rep + 1)]
    g = [goodput(d) for d in runs]
    g = [x for x in g if x is not None]
    return (statistics.median(g) if g else None), [d for d in runs if d]


def fmt(v):
    return "-" if v is None else "%.0f" % v


def ratio(a, b):
    return "%.2fx" % (a / b) if a is not None and b else "-"


def cc_of(direction, stack):
    for loss in losses:
        for delay in delays:
            for d in cell(direction, stack, loss, delay)[1]:
                if d.get("cc"):
                    return d["cc"]
    return "?"


def counters(runs):
    """dptcp's own figures, added over the repeats."""
    tot = {}
    for d in runs:
        for k, v in (d.get("stack_counters") or {}).items():
            tot[k] = tot.get(k, 0) + v
    return tot


def row(cols, widths):
    return " ".join(("%-*s" if i < 2 else "%*s") % (w, c) for i, (c, w) in enumerate(zip(cols, widths)))


if dirs in ("fwd", "both"):
    dcc = cc_of("fwd", "dptcp")
    lcc = cc_of("fwd", "linux-default")
    print()
    print("dptcp sends: goodput (Mbit/s) confirmed by a Linux receiver, median of %d" % rep)
    h1 = ["loss", "delay", "dptcp"] + (["dptcp"] if before else []) + \
        ["Linux", "Linux", "dptcp/", "dptcp/", "rexmit", "RTOs", "undone", "recov"]
    h2 = ["", "", dcc] + (["before"] if before else []) + \
        ["cubic", lcc, "cubic", lcc, "%", "", "", ""]
    w = [6, 6, 8] + ([8] if before else []) + [8, 8, 8, 8, 7, 5, 6, 6]
    print(row(h1, w))
    print(row(h2, w))
    for delay in delays:
        for loss in losses:
            d, druns = cell("fwd", "dptcp", loss, delay)
            o, _ = cell("fwd", "dptcp-before", loss, delay)
            c, _ = cell("fwd", "linux-cubic", loss, delay)
            b, _ = cell("fwd", "linux-default", loss, delay)
            k = counters(druns)
            segs = k.get("tx_segs", 0)
            rx = "%.1f" % (100.0 * k.get("retransmits", 0) / segs) if segs else "-"
            cols = ["%g%%" % (float(loss) * 100), "%sms" % delay, fmt(d)] + \
                ([fmt(o)] if before else []) + \
                [fmt(c), fmt(b), ratio(d, c), ratio(d, b), rx,
                 str(k.get("rto_expired", "-")),
                 str(k.get("undo_dsack", 0) + k.get("undo_ts", 0)) if k else "-",
                 str(k.get("recoveries", "-"))]
            print(row(cols, w))
    print("(rexmit %, RTOs, undone and recov(eries): dptcp's engine counters, all repeats)")

if dirs in ("rev", "both"):
    scc = cc_of("rev", "dptcp")
    print()
    print("dptcp receives: goodput (Mbit/s) from a Linux sender (%s), median of %d" % (scc, rep))
    h = ["loss", "delay", "dptcp recv"] + (["dptcp before"] if before else []) + \
        ["Linux recv", "ratio"]
    w = [6, 6, 12] + ([12] if before else []) + [12, 8]
    print(row(h, w))
    for delay in delays:
        for loss in losses:
            d, _ = cell("rev", "dptcp", loss, delay)
            o, _ = cell("rev", "dptcp-before", loss, delay)
            l, _ = cell("rev", "linux-cubic", loss, delay)
            cols = ["%g%%" % (float(loss) * 100), "%sms" % delay, fmt(d)] + \
                ([fmt(o)] if before else []) + [fmt(l), ratio(d, l)]
            print(row(cols, w))
print()
print("(loss L and delay D +- D/5 each way through dptcp-impair; goal: dptcp >= Linux)")
