#!/bin/bash
# http_time_wait: with `Connection: close`, dptcp-http closes after the
# response, so dptcp is the active closer: its connections sit in TIME_WAIT
# (telemetry) right after, and are gone after 2·MSL (msl_ms from a config
# file); Linux, the passive closer, sees EOF in CLOSE_WAIT and never enters
# TIME_WAIT (ss). Keep-alive requests on one connection work before that.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
dpt_init http_time_wait
: "${DPTCP_HTTP:?DPTCP_HTTP must name the dptcp-http binary}"
dpt_need curl ss
MSL_MS=5000
cat >"$DPT_TMP/dptcp.ini" <<INI
; written by tests/interop/http_time_wait.sh: a short MSL
[tcp]
msl_ms = $MSL_MS
INI
dpt_net_up 1500
dpt_start_app "$DPTCP_HTTP" 80 "$DPT_TMP/dptcp.ini"

# curl: one GET with Connection: close, from a known local port.
CURL_PORT=40123
out=$(dpt_peer curl -sS --max-time 60 --local-port "$CURL_PORT" -H 'Connection: close' \
	-o "$DPT_TMP/body" -w '%{http_code} %{size_download}' "http://$DP_IP/1234") ||
	dpt_fail "curl failed: $out"
dpt_log "curl GET /1234 (Connection: close) -> $out"
[[ $out == "200 1234" ]] || dpt_fail "curl: expected '200 1234', got '$out'"

dpt_py - "$DP_IP" 80 "$DPT_FILE_PREFIX" "$MSL_MS" "$CURL_PORT" <<'PYEOF'
import socket, subprocess, sys, time
from dptlib import (Fail, check, log, main_guard, recv_exact, tcp_state,
                    state_counts, wait_no_conns, fmt_counts, stat, wait_stat)

ip, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
msl_ms, curl_port = int(sys.argv[4]), int(sys.argv[5])
CLIENTS = 3

def read_response(s):
    head = bytearray()
    while not head.endswith(b"\r\n\r\n"):
        b = s.recv(1)
        if not b:
            raise Fail("EOF inside the response header: %r" % bytes(head))
        head += b
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ", 2)
    check(len(status) >= 2 and status[0].startswith("HTTP/1."), "bad status line %r" % lines[0])
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    check("content-length" in hdrs, "response without Content-Length: %r" % lines)
    body = recv_exact(s, int(hdrs["content-length"]))
    return int(status[1]), hdrs, body

def get(s, n, close=False):
    req = "GET /%d HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (
        n, ip, "Connection: close\r\n" if close else "")
    s.sendall(req.encode())
    code, hdrs, body = read_response(s)
    check(code == 200, "GET /%d: status %d" % (n, code))
    check(len(body) == n, "GET /%d: %d bytes of body" % (n, len(body)))
    return hdrs

def ss_time_wait():
    out = subprocess.run(["ss", "-Htan", "state", "time-wait"],
                         capture_output=True, text=True, check=True).stdout
    ports = set()
    for ln in out.splitlines():
        f = ln.split()
        # Recv-Q Send-Q Local:Port Peer:Port
        local = f[2] if len(f) >= 4 else f[-2]
        ports.add(int(local.rsplit(":", 1)[1]))
    return ports, out

def run():
    tw_before = stat(prefix, "tw_expired")
    ports = []
    for i in range(CLIENTS):
        s = socket.create_connection((ip, port), timeout=60)  # hang protection
        ports.append(s.getsockname()[1])
        get(s, 10)
        get(s, 70000)                       # keep-alive: same connection
        get(s, 5, close=True)
        check(s.recv(1) == b"", "expected EOF after the Connection: close response")
        st = tcp_state(s)
        # dptcp's FIN came first: Linux is the passive closer.
        check(st == "CLOSE_WAIT", "Linux socket after EOF: %s, expected CLOSE_WAIT" % st)
        s.close()
        log("client %d (port %d): GET /10, /70000 keep-alive, /5 Connection: close, "
            "EOF in CLOSE_WAIT" % (i, ports[-1]))
    # Telemetry is a snapshot that trails by a few ms, and each connection
    # reaches TIME_WAIT only when Linux's FIN arrives after its close(): wait
    # for all of them, for at most MSL (TIME_WAIT lasts 2*MSL, so none can
    # have expired yet; a stale snapshot with fewer must not end the wait).
    deadline = time.monotonic() + msl_ms / 1000
    while True:
        counts = state_counts(prefix)
        if counts["TIME_WAIT"] == CLIENTS + 1 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    log("dptcp right after: %s" % fmt_counts(counts))
    check(counts["TIME_WAIT"] == CLIENTS + 1,
          "dptcp TIME_WAIT = %d, expected %d (3 Python + 1 curl connection)"
          % (counts["TIME_WAIT"], CLIENTS + 1))
    tw_ports, out = ss_time_wait()
    log("Linux TIME_WAIT sockets: %s" % (out.strip() or "(none)"))
    for p in ports:
        check(p not in tw_ports, "Linux entered TIME_WAIT on port %d" % p)
    if curl_port in tw_ports:
        # curl closes as soon as it has the body; if that beats dptcp's FIN
        # (simultaneous close) both sides go through TIME_WAIT. Legal TCP.
        log("note: curl's socket (port %d) closed before dptcp's FIN arrived "
            "(simultaneous close): Linux is in TIME_WAIT for that one" % curl_port)
    # 2*MSL later (hang protection: 2*MSL + 30 s) no connection is left.
    t0 = time.monotonic()
    counts = wait_no_conns(prefix, 2 * msl_ms / 1000 + 30)
    log("dptcp after TIME_WAIT (2*MSL = %d ms): %s, %.1f s after the check"
        % (2 * msl_ms, fmt_counts(counts), time.monotonic() - t0))
    tw_after = wait_stat(prefix, "tw_expired", lambda v: v - (tw_before or 0) >= CLIENTS)
    if tw_before is not None and tw_after is not None:
        log("dptcp tw_expired: %d -> %d" % (tw_before, tw_after))
        check(tw_after - tw_before >= CLIENTS, "tw_expired rose by %d, expected >= %d"
              % (tw_after - tw_before, CLIENTS))
    tw_ports, out = ss_time_wait()
    for p in ports:
        check(p not in tw_ports, "Linux in TIME_WAIT on port %d" % p)

main_guard(run)
PYEOF
