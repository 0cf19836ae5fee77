#!/bin/bash
# shim_echo: two unmodified Python echo servers under dptcp-run (one thread
# per connection with blocking calls; one thread with non-blocking sockets
# and epoll through selectors) serve Linux clients in the peer namespace:
# several connections at once to each, 8 MiB each way per connection, the
# client half-closes after sending; every byte comes back (SHA-256 equal),
# then EOF. dptcpd ends with no connection and no slot held.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=shim_lib.sh
. "$(dirname "$0")/shim_lib.sh"
shim_init shim_echo
dpt_net_up 1500
shim_start_dptcpd
shim_bg "$DPT_PY" "$SHIM_DIR/echo_servers.py" threads 7000 "$DPT_TMP/ready.threads"
shim_bg "$DPT_PY" "$SHIM_DIR/echo_servers.py" selectors 7001 "$DPT_TMP/ready.selectors"
for m in threads selectors; do
	shim_wait_file "$DPT_TMP/ready.$m" "the $m server"
	dpt_log "$m server under dptcp-run: listening on $(cat "$DPT_TMP/ready.$m")"
done
dpt_py - "$DP_IP" "$DPT_FILE_PREFIX" <<'PYEOF'
import hashlib, os, socket, sys, threading
from dptlib import check, log, main_guard, wait_no_conns, fmt_counts, tel

ip, prefix = sys.argv[1], sys.argv[2]
SIZE, CONNS = 8 << 20, 3

def one(port, results, k):
    data = os.urandom(SIZE)
    s = socket.create_connection((ip, port), timeout=120)  # hang protection
    got = hashlib.sha256()
    n = [0]

    def reader():
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            got.update(b)
            n[0] += len(b)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(300)
    s.close()
    results[k] = (n[0], got.hexdigest() == hashlib.sha256(data).hexdigest())

def run():
    results = {}
    ts = [threading.Thread(target=one, args=(port, results, (port, i)))
          for port in (7000, 7001) for i in range(CONNS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(600)
    for (port, i), (n, same) in sorted(results.items()):
        log("port %d conn %d: sent %d, got %d back then EOF, sha256 %s"
            % (port, i, SIZE, n, "equal" if same else "DIFFERENT"))
        check(n == SIZE and same, "echo on port %d conn %d is wrong" % (port, i))
    check(len(results) == 2 * CONNS, "only %d of %d connections finished"
          % (len(results), 2 * CONNS))
    counts = wait_no_conns(prefix, 60)
    log("dptcp connections after the clients closed: %s" % fmt_counts(counts))
    st = tel(prefix, "/dptcp/shim")
    log("/dptcp/shim: %s" % {k: v for k, v in st.items() if v})
    check(st["slots_bound"] == 0 and st["orphans"] == 0,
          "dptcpd still holds slots: %s" % st)
    check(st["violations"] == 0, "protocol violations: %s" % st)
    check(st["accepted"] == 2 * CONNS, "accepted %d, expected %d"
          % (st["accepted"], 2 * CONNS))

main_guard(run)
PYEOF
