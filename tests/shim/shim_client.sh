#!/bin/bash
# shim_client: programs under dptcp-run as clients of Linux servers in the
# peer namespace: a Python client (blocking and non-blocking connect,
# EINPROGRESS/POLLOUT/SO_ERROR, ECONNREFUSED both ways, names, options,
# timeouts, 4 MiB echo with half-close) and curl (a 4 MiB file from
# `python3 -m http.server`, SHA-256 equal). Each active open is dptcp's
# (its `connects` counter rises by one per connect: 5 for the Python client).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=shim_lib.sh
. "$(dirname "$0")/shim_lib.sh"
shim_init shim_client
dpt_need curl
dpt_net_up 1500
shim_start_dptcpd
# A Linux echo server (threads) and a web server in the peer namespace.
dpt_bg ip netns exec "$NS_PEER" "$DPT_PY" -c '
import socket, threading
ls = socket.create_server(("0.0.0.0", 7100), backlog=64)
def serve(c):
    while True:
        b = c.recv(65536)
        if not b:
            break
        c.sendall(b)
    c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'
mkdir -p "$DPT_TMP/www"
head -c $((4 << 20)) /dev/urandom >"$DPT_TMP/www/f.bin"
dpt_bg ip netns exec "$NS_PEER" "$DPT_PY" -m http.server --bind 0.0.0.0 \
	--directory "$DPT_TMP/www" 8081 >/dev/null 2>&1
for ((i = 0; i < 100; i++)); do
	dpt_peer ss -Htln | grep -q ':8081 ' && dpt_peer ss -Htln | grep -q ':7100 ' && break
	sleep 0.1
done

shim_run "$DPT_PY" "$SHIM_DIR/client_checks.py" "$PEER_IP" 7100 7199 "$DP_IP" ||
	dpt_fail "client checks under dptcp-run failed"
c1=$(shim_stat connects)
[[ $c1 == 5 ]] || dpt_fail "dptcpd counted $c1 active opens, expected 5 (every connect went through dptcp)"
dpt_log "dptcpd counted $c1 active opens: every connect of the client was dptcp's"

want=$(sha256sum "$DPT_TMP/www/f.bin" | cut -d' ' -f1)
got=$(shim_run curl -sS --max-time 60 "http://$PEER_IP:8081/f.bin" | sha256sum | cut -d' ' -f1)
[[ $got == "$want" ]] || dpt_fail "curl under dptcp-run: sha256 $got, expected $want"
[[ $(shim_stat connects) == $((c1 + 1)) ]] || dpt_fail "curl's connection did not go through dptcp"
dpt_log "curl under dptcp-run fetched 4 MiB from Linux's http.server, sha256 equal"
