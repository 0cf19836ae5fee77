#!/bin/bash
# echo_half_close: the Linux client sends data and shutdown(SHUT_WR) before
# reading anything. While its socket is in FIN_WAIT_1/2 it still receives
# every byte (identical), then EOF: dptcp (CLOSE_WAIT) sent the rest, then
# its FIN (LAST_ACK). Linux, the active closer, ends in TIME_WAIT; dptcp
# ends with no connection.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
dpt_init echo_half_close
: "${DPTCP_ECHO:?DPTCP_ECHO must name the dptcp-echo binary}"
dpt_net_up 1500
dpt_start_app "$DPTCP_ECHO" 7
dpt_py - "$DP_IP" 7 "$DPT_FILE_PREFIX" <<'PYEOF'
import os, socket, subprocess, sys, threading
from dptlib import (Fail, check, log, main_guard, recv_exact, tcp_state,
                    wait_no_conns, fmt_counts)

ip, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# Small enough to sit in the buffers on the way (Linux send + dptcp receive
# and send + Linux receive) without the client reading: the whole of it is
# still to be read when the FIN goes out.
SIZE = 160 << 10

def run():
    s = socket.create_connection((ip, port), timeout=60)  # hang protection
    lport = s.getsockname()[1]
    # 1. An ordinary round trip on the fresh connection.
    hello = b"hello before the half-close\n"
    s.sendall(hello)
    check(recv_exact(s, len(hello)) == hello, "first round trip differs")
    # 2. Send SIZE bytes and half-close before reading any of the echo.
    data = os.urandom(SIZE)
    done = threading.Event()

    def writer():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        done.set()

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    check(done.wait(60), "sendall of %d bytes did not complete without reading" % SIZE)
    # 3. Read it all back: the first bytes arrive in FIN_WAIT_1/2.
    first = recv_exact(s, 1)
    st = tcp_state(s)
    log("Linux socket state after SHUT_WR, while data still arrives: %s" % st)
    check(st in ("FIN_WAIT1", "FIN_WAIT2"), "expected FIN_WAIT1/2, got %s" % st)
    rest = recv_exact(s, SIZE - 1)
    check(first + rest == data, "echoed bytes differ from sent bytes")
    log("received all %d bytes after shutdown(SHUT_WR), identical" % SIZE)
    # 4. Then EOF, and nothing more.
    tail = s.recv(4096)
    check(tail == b"", "expected EOF, got %d more bytes" % len(tail))
    log("EOF after the data")
    s.close()
    counts = wait_no_conns(prefix, 60)
    log("dptcp connections after close: %s" % fmt_counts(counts))
    ss = subprocess.run(["ss", "-Htan", "state", "time-wait",
                         "( sport = :%d )" % lport],
                        capture_output=True, text=True, check=True).stdout
    log("ss (Linux, time-wait, sport %d): %s" % (lport, ss.strip() or "(none)"))
    check(ss.strip() != "", "Linux (the active closer) is not in TIME_WAIT")

main_guard(run)
PYEOF
