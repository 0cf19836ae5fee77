#!/bin/bash
# syn_flood: a bounded SYN flood from the Linux namespace (scapy, raw
# frames: 3,000 SYNs from random source ports, and the kernel's RSTs to our
# SYN-ACKs dropped by iptables so that nothing frees the SYN queue) fills
# dptcp-echo's SYN queue ([tcp] syn_backlog = 32). From then on dptcp
# answers with SYN cookies and keeps no state: the SYN queue stays at its
# bound, syncookies_sent rises, and legitimate kernel clients, connecting
# while a second flood runs, still connect and echo 256 KiB each, their
# handshakes completed through a cookie (syncookies_ok).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
dpt_init syn_flood
: "${DPTCP_ECHO:?DPTCP_ECHO must name the dptcp-echo binary}"
dpt_need iptables
dpt_net_up 1500
cat >"$DPT_TMP/flood.ini" <<'EOF'
[tcp]
syn_backlog = 32
syncookies = 1
EOF
dpt_start_app "$DPTCP_ECHO" 7 "$DPT_TMP/flood.ini"
# The flood's SYN-ACKs reach the namespace's kernel, which has no socket
# for them and would answer RST (freeing our SYN queue): drop those RSTs.
dpt_peer iptables -A OUTPUT -p tcp --tcp-flags RST RST -d "$DP_IP" -j DROP
dpt_py - "$DP_IP" 7 "$DPT_FILE_PREFIX" "$VETH_PEER" <<'PYEOF'
import os, socket, sys, threading, time
from dptlib import Fail, check, log, main_guard, stat, state_counts, wait_stat, fmt_counts

ip, port, prefix, iface = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
FLOOD = 3000
LEGIT = 10
from scapy.all import Ether, IP, TCP, conf, get_if_addr, get_if_hwaddr, getmacbyip  # noqa: E402
conf.verb = 0
src = get_if_addr(iface)

def flood(n, sport0):
    """n SYNs from src:sport0.. (below the kernel's ephemeral range, so a
    legitimate connection never shares a 4-tuple with the flood)."""
    dmac = getmacbyip(ip)
    check(dmac is not None, "no ARP answer from dptcp")
    base = Ether(src=get_if_hwaddr(iface), dst=dmac) / IP(src=src, dst=ip)
    frames = [bytes(base / TCP(sport=sport0 + i, dport=port, flags="S",
                               seq=(i * 2654435761) & 0xffffffff,
                               options=[("MSS", 1460)]))
              for i in range(n)]
    s = conf.L2socket(iface=iface)
    try:
        # Paced (32 frames, then 1 ms): the test is about cookies, not
        # about how many frames af_packet's ring holds while we hog a CPU.
        for i, f in enumerate(frames):
            s.send(f)
            if i % 32 == 31:
                time.sleep(0.001)
    finally:
        s.close()

def echo_once(i):
    msg = os.urandom(256 << 10)
    s = socket.create_connection((ip, port), timeout=30)
    t = threading.Thread(target=lambda: (s.sendall(msg), s.shutdown(socket.SHUT_WR)))
    t.start()
    got = bytearray()
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        got += b
    t.join(30)
    s.close()
    check(bytes(got) == msg, "legitimate connection %d: echo differs (%d of %d bytes)" % (i, len(got), len(msg)))

def settled(name):
    """Counter NAME once two readings 300 ms apart agree (telemetry
    trails the packets by a snapshot period; 30 s hang protection)."""
    last, deadline = None, time.monotonic() + 30
    while time.monotonic() < deadline:
        v = stat(prefix, name)
        if v == last:
            return v
        last = v
        time.sleep(0.3)
    return last

def run():
    try:
        os.sched_setaffinity(0, {1})   # dptcp polls on CPU 0
    except OSError:
        pass
    sent0 = stat(prefix, "syncookies_sent")
    check(sent0 is not None, "dptcp has no syncookies_sent counter")
    rx0 = stat(prefix, "rx_segs")
    log("flood 1: %d SYNs from %s" % (FLOOD, src))
    flood(FLOOD, 2000)
    rx = settled("rx_segs") - rx0
    sent = settled("syncookies_sent") - sent0
    counts = state_counts(prefix)
    log("after flood 1: %s; %d SYNs reached the engine, %d cookies sent, listen_overflow %s" % (
        fmt_counts(counts), rx, sent, stat(prefix, "listen_overflow")))
    # A loaded machine loses some of the flood in af_packet's ring before
    # dptcp sees it; what matters is what happened to those that arrived.
    check(rx >= 32 + 200, "only %d of %d SYNs reached dptcp" % (rx, FLOOD))
    check(counts["SYN_RECEIVED"] == 32, "SYN queue holds %d, want its bound 32" % counts["SYN_RECEIVED"])
    # Every SYN beyond the 32 queued got a cookie, none was dropped.
    check(sent == rx - 32, "%d cookies for %d SYNs beyond a 32-entry queue" % (sent, rx - 32))

    ok0 = stat(prefix, "syncookies_ok") or 0
    log("flood 2 runs while %d legitimate clients echo 256 KiB each" % LEGIT)
    t = threading.Thread(target=flood, args=(FLOOD, 6000))
    t.start()
    for i in range(LEGIT):
        echo_once(i)
    t.join(120)
    ok = wait_stat(prefix, "syncookies_ok", lambda v: v >= ok0 + LEGIT)
    counts = state_counts(prefix)
    log("after flood 2: %s; syncookies_sent %s, syncookies_ok %s, syncookies_failed %s" % (
        fmt_counts(counts), stat(prefix, "syncookies_sent"), ok, stat(prefix, "syncookies_failed")))
    check(ok >= ok0 + LEGIT, "only %d of %d legitimate handshakes completed by cookie" % (ok - ok0, LEGIT))
    check(counts["SYN_RECEIVED"] <= 32, "SYN queue above its bound: %d" % counts["SYN_RECEIVED"])
    log("%d legitimate connections echoed intact during the flood" % LEGIT)

main_guard(run)
PYEOF
dpt_log "PASS"
