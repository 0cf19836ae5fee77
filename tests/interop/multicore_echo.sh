#!/bin/bash
# multicore_echo MODE: dptcp-echo with two workers (EAL lcores 0-1) serves
# 10,000 connections from the Linux kernel, each echoing a random message.
#   MODE=qpairs : net_af_packet with qpairs=2 — two RX/TX queues filled by
#                 the kernel's PACKET_FANOUT hash, which is not ours, so
#                 about half the segments arrive at the wrong worker and are
#                 steered in software to the flow's owner;
#   MODE=single : one queue (the port has no more) — worker 0 polls it and
#                 steers, worker 1 has no queue at all and transmits through
#                 worker 0.
# Asserted: every echo intact; both workers accepted connections (and the
# counts add up to 10,000); no segment ever reached an engine that did not
# own its flow (such a segment finds no connection: rx_no_conn, or is
# reset at the listener, which breaks its echo);
# nothing dropped on a steering ring; and, for 256 connections held open,
# the worker that holds each one is the one the symmetric Toeplitz hash of
# its 4-tuple names, recomputed here independently of dptcp.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
MODE=${1:?usage: multicore_echo.sh qpairs|single}
dpt_init "multicore_echo_$MODE"
: "${DPTCP_ECHO:?DPTCP_ECHO must name the dptcp-echo binary}"
case $MODE in
qpairs) DPT_VDEV_EXTRA=",qpairs=2" ;;
single) DPT_VDEV_EXTRA="" ;;
*) dpt_fail "unknown mode '$MODE'" ;;
esac
((${DPT_NCPU:-$(nproc)} >= 2)) || dpt_skip "needs 2 CPUs for two workers"
dpt_net_up 1500
cat >"$DPT_TMP/two.ini" <<'EOF'
[dataplane]
workers = 2
EOF
dpt_start_app "$DPTCP_ECHO" 7 "$DPT_TMP/two.ini" 0-1
dpt_py - "$DP_IP" 7 "$DPT_FILE_PREFIX" "$MODE" <<'PYEOF'
import asyncio, os, random, socket, sys
from dptlib import Fail, check, log, main_guard, tel, wait_no_conns, fmt_counts

ip, port, prefix, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
TOTAL = 10000
PARALLEL = 64
HELD = 256
seed = int.from_bytes(os.urandom(4), "big")
rng = random.Random(seed)

# Symmetric Toeplitz (the key's 16-bit period 0x6d5a), as a NIC computes it
# for IPv4/TCP: source address, destination address, source port,
# destination port; worker = RETA[hash % 128], RETA[i] = i % workers.
KEY = bytes([0x6d, 0x5a] * 20)

def toeplitz(data):
    k = int.from_bytes(KEY, "big")
    kbits = len(KEY) * 8
    h = 0
    for i, byte in enumerate(data):
        for b in range(8):
            if byte & (0x80 >> b):
                h ^= (k >> (kbits - 32 - (i * 8 + b))) & 0xffffffff
    return h

def owner(src, sport, dst, dport, workers=2):
    data = socket.inet_aton(src) + socket.inet_aton(dst) + \
        sport.to_bytes(2, "big") + dport.to_bytes(2, "big")
    return (toeplitz(data) % 128) % workers

async def echo_once(i, sem, failures):
    async with sem:
        msg = rng.randbytes(rng.randint(1, 2000))
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(ip, port), 30)
            w.write(msg)
            await w.drain()
            got = await asyncio.wait_for(r.readexactly(len(msg)), 30)
            w.close()
            await w.wait_closed()
        except Exception as e:  # counted; reported below
            failures.append("conn %d: %r" % (i, e))
            return
        if got != msg:
            failures.append("conn %d: echo differs" % i)

async def hold_and_check():
    """Open HELD connections, ask dptcp which worker holds each, compare."""
    conns = []
    for _ in range(HELD):
        s = socket.create_connection((ip, port), timeout=30)
        s.sendall(b"x")
        check(s.recv(1) == b"x", "held connection did not echo")
        conns.append(s)
    seen, offset, wrong, mine = 0, 0, [], {}
    for s in conns:
        mine[s.getsockname()[1]] = s
    while True:
        reply = tel(prefix, "/dptcp/conns,%d" % offset)
        lst = reply.get("list", [])
        for line in lst:
            f = line.split()   # LIP:LPORT RIP:RPORT STATE wN
            rip, rport = f[1].split(":")
            lip, lport = f[0].split(":")
            if int(rport) not in mine or f[2] != "ESTABLISHED":
                continue
            seen += 1
            want = owner(rip, int(rport), lip, int(lport))
            if f[3] != "w%d" % want:
                wrong.append("%s held by %s, hash says w%d" % (line, f[3], want))
        offset += len(lst)
        if not lst or offset >= reply.get("list_kept", 0):
            break
    for s in conns:
        s.close()
    log("held %d connections: %d listed, %d on the wrong worker" % (HELD, seen, len(wrong)))
    check(seen == HELD, "telemetry listed %d of the %d held connections" % (seen, HELD))
    check(not wrong, "; ".join(wrong[:5]))

def workers():
    """/dptcp/workers, with its per-worker arrays also as one dict per
    worker under "list" (a queue number 65535 means none: -1)."""
    w = tel(prefix, "/dptcp/workers")
    arrays = {k: v for k, v in w.items() if isinstance(v, list)}
    w["list"] = [{k: v[i] for k, v in arrays.items()} for i in range(w["workers"])]
    for x in w["list"]:
        x["worker"] = w["list"].index(x)
        for q in ("rx_queue", "tx_queue"):
            x[q] = -1 if x[q] == 65535 else x[q]
    return w

async def main():
    log("mode %s, seed %d: %d connections, %d at a time" % (mode, seed, TOTAL, PARALLEL))
    w0 = workers()
    log("workers: %s" % {k: v for k, v in w0.items() if not isinstance(v, list)})
    check(w0["workers"] == 2, "dptcp runs %s workers, want 2" % w0["workers"])
    check(w0["steering"] == "software", "steering %s, want software" % w0["steering"])
    want_rxq = 2 if mode == "qpairs" else 1
    check(w0["rx_queues"] == want_rxq, "%d RX queues, want %d" % (w0["rx_queues"], want_rxq))
    await hold_and_check()
    sem = asyncio.Semaphore(PARALLEL)
    failures = []
    await asyncio.gather(*(echo_once(i, sem, failures) for i in range(TOTAL)))
    check(not failures, "%d of %d failed: %s" % (len(failures), TOTAL, "; ".join(failures[:5])))
    log("%d echoes intact" % TOTAL)

def run():
    asyncio.run(main())
    counts = wait_no_conns(prefix, 60)
    check(sum(n for s, n in counts.items() if s != "LISTEN") == 0,
          "connections left: %s" % fmt_counts(counts))
    w = workers()
    per = w["list"]
    for x in per:
        log("worker %(worker)d (lcore %(lcore)d, rxq %(rx_queue)d, txq %(tx_queue)d): "
            "accepted %(conn_opened_passive)d, engine rx %(rx_segs)d, steered out "
            "%(dp_steer_out)d / in %(dp_steer_in)d, full %(dp_steer_full)d, "
            "tx via ring %(dp_tx_via_ring)d, no_conn %(rx_no_conn)d, rst %(tx_rst)d" % x)
    total = TOTAL + HELD
    acc = [x["conn_opened_passive"] for x in per]
    check(sum(acc) == total, "accepted %s, want %d in all" % (acc, total))
    check(all(a > total // 5 for a in acc), "one worker took almost nothing: %s" % acc)
    check(all(x["rx_no_conn"] == 0 for x in per),
          "segments reached an engine that does not own their flow (rx_no_conn)")
    # An ACK that reaches a listener without a connection is reset, as any
    # TCP does. On a loaded machine that happens legitimately: our FIN goes
    # out twice (a tail-loss probe or RTO while Linux's ACK was delayed),
    # Linux in TIME_WAIT acknowledges both, the first ACK closes the
    # connection and the second finds only the listener. So RSTs to such
    # stray ACKs are allowed (and counted); any other RST is not. A segment
    # of a live connection at the wrong engine would also meet the listener,
    # but its connection would be reset and its echo, or one of the held
    # connections above, would fail.
    stray = sum(x["tx_rst_listen_ack"] for x in per)
    if stray:
        log("%d RST(s) to stray ACKs of closed connections" % stray)
    check(all(x["tx_rst"] == x["tx_rst_listen_ack"] for x in per),
          "RSTs other than to stray ACKs at a listener were sent")
    check(all(x["dp_steer_full"] == 0 and x["dp_tx_ring_full"] == 0 for x in per),
          "a steering ring overflowed")
    out = sum(x["dp_steer_out"] for x in per)
    inn = sum(x["dp_steer_in"] for x in per)
    check(out == inn, "steered out %d, in %d" % (out, inn))
    check(out > 0, "nothing was steered: the test did not exercise steering")
    if mode == "single":
        check(per[1]["dp_rx_pkts"] == 0, "worker 1 polled a queue it does not have")
        check(per[1]["dp_tx_via_ring"] > 0, "worker 1 did not transmit through worker 0")

main_guard(run)
PYEOF
dpt_log "PASS"
