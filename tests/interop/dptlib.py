"""dptlib.py — helpers for the interop tests: a DPDK telemetry client and
the few readings the tests assert on (connections per state, counters,
mbufs in use), plus small socket helpers for the Linux-side clients.

Run with /usr/bin/python3. As a script:
    dptlib.py tel PREFIX CMD          print the reply to CMD as JSON
    dptlib.py conns PREFIX            print state counts, one "STATE N" a line
    dptlib.py wait-no-conns PREFIX S  wait (hang protection: S seconds) until
                                      dptcp has no connection but listeners
    dptlib.py mbufs PREFIX            print "POOL IN_USE" a line
    dptlib.py diag PREFIX             non-zero counters, for failure reports
"""

import json
import os
import socket
import sys
import time

RUN_DIR = os.environ.get("RUNTIME_DIRECTORY") or "/var/run"

# RFC 9293 state names, as dpt_state_name() spells them.
STATES = ["LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
          "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
          "CLOSED"]

# Linux's enum of TCP states (include/net/tcp_states.h), for TCP_INFO.
LINUX_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV",
                4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT", 7: "CLOSE",
                8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}


class Fail(Exception):
    pass


def check(cond, msg):
    """An assertion that survives python -O and says what was expected."""
    if not cond:
        raise Fail(msg)


def log(msg):
    print(msg, flush=True)


def main_guard(fn):
    """Run fn(); a Fail or any exception ends the process with status 1."""
    try:
        fn()
    except Fail as e:
        print("FAIL: %s" % e, file=sys.stderr, flush=True)
        sys.exit(1)


# ---------------------------------------------------------------- telemetry

def tel(prefix, cmd, timeout=10.0):
    """Send one telemetry command to the DPDK process with --file-prefix
    PREFIX and return the value of its reply (the JSON under the command's
    name)."""
    path = os.path.join(RUN_DIR, "dpdk", prefix, "dpdk_telemetry.v2")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    try:
        s.connect(path)
        hello = json.loads(s.recv(4096).decode())
        bufsize = max(int(hello.get("max_output_len", 16384)), 65536)
        s.send(cmd.encode())
        reply = json.loads(s.recv(bufsize).decode())
    finally:
        s.close()
    key = cmd.split(",", 1)[0]
    if isinstance(reply, dict) and key in reply:
        return reply[key]
    return reply


def _walk(node):
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def state_counts(prefix):
    """Connections per RFC state from /dptcp/conns: the first object in the
    reply whose keys are state names. States it leaves out count 0."""
    reply = tel(prefix, "/dptcp/conns")
    for node in _walk(reply):
        if isinstance(node, dict) and any(s in node for s in STATES) and \
                all(isinstance(node[s], int) for s in STATES if s in node):
            return {s: int(node.get(s, 0)) for s in STATES}
    raise Fail("/dptcp/conns has no per-state counts: %s" %
               json.dumps(reply)[:500])


def conn_total(counts):
    """Connections that are not listeners."""
    return sum(n for s, n in counts.items() if s != "LISTEN")


def fmt_counts(counts):
    shown = ["%s=%d" % (s, n) for s, n in counts.items() if n]
    return " ".join(shown) if shown else "(none)"


def stat(prefix, name):
    """Counter NAME from /dptcp/stats (summed if it appears per engine).
    None when the reply has no such counter."""
    reply = tel(prefix, "/dptcp/stats")
    found = None
    for node in _walk(reply):
        if isinstance(node, dict) and isinstance(node.get(name), int):
            found = (found or 0) + node[name]
    return found


def wait_stat(prefix, name, pred, limit_s=10, poll_s=0.05):
    """Counter NAME once pred(value) holds. Telemetry serves a snapshot the
    poll loop refreshes every few ms, so a counter may lag the packets just
    exchanged; limit_s is hang protection. Returns the last value (None if
    there is no such counter); the caller asserts on it."""
    deadline = time.monotonic() + limit_s
    while True:
        v = stat(prefix, name)
        if v is None or pred(v) or time.monotonic() > deadline:
            return v
        time.sleep(poll_s)


def wait_no_conns(prefix, limit_s, poll_s=0.25):
    """Poll until dptcp has no connection but listeners. limit_s is hang
    protection, not a measurement. Returns the last counts."""
    deadline = time.monotonic() + limit_s
    while True:
        counts = state_counts(prefix)
        if conn_total(counts) == 0:
            return counts
        if time.monotonic() > deadline:
            raise Fail("dptcp still has connections after %.0f s: %s" %
                       (limit_s, fmt_counts(counts)))
        time.sleep(poll_s)


def mbufs_in_use(prefix):
    """{pool: objects in use} for the process's mempools.

    DPDK 22.11's /mempool/info gives no occupancy (later releases add
    common_pool_count and total_cache_count; those are used when present),
    so the figure comes from the app's own telemetry: every integer under
    /dptcp/stats whose key contains "in_use" (e.g. mbuf_in_use, from
    rte_mempool_in_use_count())."""
    out = {}
    names = tel(prefix, "/mempool/list") or []
    for name in names:
        info = tel(prefix, "/mempool/info,%s" % name)
        if "common_pool_count" in info:
            free = int(info["common_pool_count"]) + \
                int(info.get("total_cache_count", 0))
            out[name] = int(info["size"]) - free
    if out:
        return out
    reply = tel(prefix, "/dptcp/stats")

    def visit(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                visit(v, path + [str(k)])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                visit(v, path + [str(i)])
        elif isinstance(node, int) and path and "in_use" in path[-1]:
            out["/".join(path)] = node
    visit(reply, [])
    if not out:
        raise Fail("no mbuf occupancy in telemetry: DPDK 22.11's /mempool/info "
                   "has none, and /dptcp/stats has no key containing 'in_use' "
                   "(the dataplane should report rte_mempool_in_use_count() "
                   "of its pools, e.g. as mbuf_in_use)")
    return out


# ----------------------------------------------------------- Linux sockets

def tcp_state(sock):
    """Linux's state of a connected socket (TCP_INFO's first byte)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    return LINUX_STATES.get(info[0], str(info[0]))


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise Fail("EOF after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def _main(argv):
    if len(argv) >= 3 and argv[0] == "tel":
        print(json.dumps(tel(argv[1], argv[2]), indent=2))
    elif len(argv) >= 2 and argv[0] == "conns":
        for s, n in state_counts(argv[1]).items():
            print("%s %d" % (s, n))
    elif len(argv) >= 3 and argv[0] == "wait-no-conns":
        print(fmt_counts(wait_no_conns(argv[1], float(argv[2]))))
    elif len(argv) >= 2 and argv[0] == "mbufs":
        for name, n in mbufs_in_use(argv[1]).items():
            print("%s %d" % (name, n))
    elif len(argv) >= 2 and argv[0] == "diag":
        for cmd in ("/dptcp/stats", "/dptcp/conns", "/ethdev/stats,0"):
            try:
                r = tel(argv[1], cmd)
            except (OSError, ValueError) as e:
                print("%s: %s" % (cmd, e))
                continue
            if isinstance(r, dict):
                r = {k: v for k, v in r.items() if v and not isinstance(v, list)}
            print("%s %s" % (cmd, json.dumps(r)))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main_guard(lambda: _main(sys.argv[1:]))
