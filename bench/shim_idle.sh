#!/bin/bash
# bench/shim_idle.sh — what idle shim connections cost the busy one.
#
#   DPTCPD=build/apps/dptcpd DPTCP_RUN=build/apps/dptcp-run bench/shim_idle.sh [IDLE]
#
# dptcpd on a veth (tests/shim/shim_lib.sh), two unmodified Python programs
# under dptcp-run: one holds IDLE (default 2000) accepted connections and
# never touches them, the other echoes. A Linux client in the namespace
# measures a 64-byte ping-pong on one connection, first with no idle
# connection, then with IDLE of them open, and prints p50/p99 round trip
# and, from /dptcp/shim, dptcpd's engine loop iterations per second and
# connection services (ring checks) per round trip (engine_loops,
# conn_services: 0 when the dptcpd measured has no such counter). Printed, never asserted; figures move from
# run to run on a shared machine: compare the two rows of one run.
# Then the same with one epoll program (Python's select.epoll under
# dptcp-run) holding the busy connection and IDLE idle ones in one epoll
# set: the shim's epoll items checked per epoll_wait (DPTCP_EPOLL_STATS;
# "n/a" for a shim without that counter) show whether a wait costs
# O(ready) or O(registered).
set -euo pipefail
DPT_NAME=shim_idle
# shellcheck source-path=SCRIPTDIR source=../tests/shim/shim_lib.sh
. "$(dirname "$0")/../tests/shim/shim_lib.sh"
IDLE=${1:-2000}
shim_init shim_idle
dpt_net_up 1500
SHIM_SOCK="$DPT_TMP/dptcpd.sock"
printf '[shim]\nsocket_path = %s\nsocket_mode = 0600\nmax_sockets = %d\nrx_ring_bytes = 4096\ntx_ring_bytes = 4096\n[tcp]\nbacklog = 1024\nsyn_backlog = 4096\n' \
	"$SHIM_SOCK" $((2 * IDLE + 64)) >"$DPT_TMP/dptcpd.ini"
dpt_start_app "$DPTCPD" 9 "$DPT_TMP/dptcpd.ini"
for ((i = 0; i < 100; i++)); do [[ -S $SHIM_SOCK ]] && break; sleep 0.1; done
cat >"$DPT_TMP/holder.py" <<'PY'
import os, socket, sys
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ls = socket.socket()
ls.bind(("0.0.0.0", port))
ls.listen(1024)
open(ready, "w").write("listening\n")
held = []
while True:
    c, _ = ls.accept()
    held.append(c)
    if len(held) == n:
        with open(ready + ".tmp", "w") as f:
            f.write("held %d\n" % n)
        os.rename(ready + ".tmp", ready + ".held")
PY
cat >"$DPT_TMP/epoll_echo.py" <<'PY'
import select, socket, sys
port, ready = int(sys.argv[1]), sys.argv[2]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", port))
ls.listen(1024)
ls.setblocking(False)
ep = select.epoll()
ep.register(ls.fileno(), select.EPOLLIN)
conns = {}
open(ready, "w").write("listening\n")
while True:
    for fd, ev in ep.poll():
        if fd == ls.fileno():
            while True:
                try:
                    c, _ = ls.accept()
                except BlockingIOError:
                    break
                c.setblocking(False)
                conns[c.fileno()] = c
                ep.register(c.fileno(), select.EPOLLIN)
            continue
        c = conns[fd]
        try:
            d = c.recv(65536)
        except BlockingIOError:
            continue
        if not d:
            ep.unregister(fd)
            c.close()
            del conns[fd]
            continue
        c.sendall(d)
PY
ulimit -n $((2 * IDLE + 1024))
shim_bg "$DPT_PY" "$DPT_TMP/holder.py" 7700 "$IDLE" "$DPT_TMP/ready.hold"
shim_bg "$DPT_PY" "$SHIM_DIR/echo_servers.py" threads 7701 "$DPT_TMP/ready.echo"
DPTCP_EPOLL_STATS="$DPT_TMP/epstats" shim_bg "$DPT_PY" "$DPT_TMP/epoll_echo.py" 7702 "$DPT_TMP/ready.epoll"
shim_wait_file "$DPT_TMP/ready.hold" holder
shim_wait_file "$DPT_TMP/ready.echo" "echo server"
shim_wait_file "$DPT_TMP/ready.epoll" "epoll echo server"
dpt_py - "$DP_IP" "$DPT_FILE_PREFIX" "$IDLE" "$DPT_TMP/ready.hold.held" "$DPT_TMP/epstats" <<'PY'
import os, resource, socket, sys, time
from dptlib import tel
ip, prefix, n, held, epstats = (sys.argv[1], sys.argv[2], int(sys.argv[3]),
                                sys.argv[4], sys.argv[5])
resource.setrlimit(resource.RLIMIT_NOFILE, (2 * n + 1024, 2 * n + 1024))
ROUNDS = 5000

def epstat():
    try:
        f = open(epstats).read().split()
        return int(f[1]), int(f[3])
    except (OSError, IndexError, ValueError):
        return None

def rr(port=7701):
    s = socket.create_connection((ip, port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"x" * 64
    for _ in range(200):                 # warm-up
        s.sendall(msg); s.recv(64)
    st0 = tel(prefix, "/dptcp/shim")
    e0 = epstat()
    t0 = time.monotonic()
    lat = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        s.sendall(msg)
        got = 0
        while got < 64:
            got += len(s.recv(64 - got))
        lat.append(time.perf_counter() - t)
    st1 = tel(prefix, "/dptcp/shim")
    dt = time.monotonic() - t0
    e1 = epstat()
    s.close()
    lat.sort()
    d = lambda k: st1.get(k, 0) - st0.get(k, 0)
    per_wait = "n/a"
    if e0 is not None and e1 is not None and e1[0] > e0[0]:
        per_wait = "%.1f" % ((e1[1] - e0[1]) / (e1[0] - e0[0]))
    return (lat[len(lat) // 2] * 1e6, lat[len(lat) * 99 // 100] * 1e6,
            d("engine_loops") / dt, d("conn_services") / ROUNDS, per_wait)

rows = [("0 idle",) + rr()]
idle = []
for i in range(n):
    idle.append(socket.create_connection((ip, 7700), timeout=30))
deadline = time.monotonic() + 60
while not os.path.exists(held) and time.monotonic() < deadline:
    time.sleep(0.1)
time.sleep(1)
rows.append(("%d idle" % n,) + rr())
rows.append(("epoll, 0 idle",) + rr(7702))
idle2 = []
for i in range(n):
    idle2.append(socket.create_connection((ip, 7702), timeout=30))
time.sleep(2)
rows.append(("epoll, %d idle" % n,) + rr(7702))
print("%-17s %8s %8s %15s %18s %19s" % ("", "p50 us", "p99 us", "engine loops/s",
      "conn services/rtt", "epoll checks/wait"))
for r in rows:
    print("%-17s %8.1f %8.1f %15.0f %18.1f %19s" % r)
for s in idle + idle2:
    s.close()
PY
