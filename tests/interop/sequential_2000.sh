#!/bin/bash
# sequential_2000: 2,000 connections one after another (connect, a small
# echo, close) all succeed. Linux closes first each time, so dptcp goes
# CLOSE_WAIT -> LAST_ACK -> CLOSED: afterwards it has no connection at all,
# its counters saw 2,000 passive opens, and its mbufs in use are back to
# the level measured before the first connection.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
dpt_init sequential_2000
: "${DPTCP_ECHO:?DPTCP_ECHO must name the dptcp-echo binary}"
dpt_net_up 1500
dpt_start_app "$DPTCP_ECHO" 7
dpt_py - "$DP_IP" 7 "$DPT_FILE_PREFIX" <<'PYEOF'
import socket, sys, time
from dptlib import (Fail, check, log, main_guard, recv_exact, state_counts,
                    wait_no_conns, fmt_counts, stat, wait_stat, mbufs_in_use)

ip, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
N = 2000

def run():
    mbuf_start = mbufs_in_use(prefix)
    opened0 = stat(prefix, "conn_opened_passive")
    closed0 = stat(prefix, "conn_closed")
    log("before: mbufs in use %s, connections %s" % (mbuf_start, fmt_counts(state_counts(prefix))))
    ports = set()
    for i in range(N):
        msg = b"connection %d\n" % i
        try:
            s = socket.create_connection((ip, port), timeout=30)  # hang protection
            ports.add(s.getsockname()[1])
            s.sendall(msg)
            got = recv_exact(s, len(msg))
            s.close()
        except OSError as e:
            raise Fail("connection %d of %d: %s" % (i + 1, N, e))
        check(got == msg, "connection %d: echo %r, sent %r" % (i + 1, got, msg))
        if (i + 1) % 500 == 0:
            log("%d connections done" % (i + 1))
    log("%d connections, %d distinct local ports, all echoed" % (N, len(ports)))
    counts = wait_no_conns(prefix, 120)
    log("after: dptcp connections %s" % fmt_counts(counts))
    opened = wait_stat(prefix, "conn_opened_passive", lambda v: v - (opened0 or 0) >= N)
    closed = wait_stat(prefix, "conn_closed", lambda v: v - (closed0 or 0) >= N)
    if opened0 is not None and opened is not None:
        log("dptcp conn_opened_passive +%d, conn_closed +%s"
            % (opened - opened0, (closed - closed0) if closed is not None else "?"))
        check(opened - opened0 == N, "conn_opened_passive rose by %d, expected %d"
              % (opened - opened0, N))
    if closed0 is not None and closed is not None:
        check(closed - closed0 == N, "conn_closed rose by %d, expected %d" % (closed - closed0, N))
    # A packet in flight holds an mbuf for a moment: poll (10 s at most).
    deadline = time.monotonic() + 10
    while True:
        mbuf_end = mbufs_in_use(prefix)
        if mbuf_end == mbuf_start or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    log("after: mbufs in use %s" % mbuf_end)
    check(mbuf_end == mbuf_start, "mbufs in use %s, at the start %s" % (mbuf_end, mbuf_start))

main_guard(run)
PYEOF
