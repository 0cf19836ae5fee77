#!/bin/bash
# shim_kernel_fds: under dptcp-run, a program's kernel fds (a file, a pipe,
# AF_UNIX sockets, UDP, TCP to 127.0.0.1) work as without the shim, and a
# dptcp connection mixes with them in epoll (LT, ET, ONESHOT, RDHUP), poll
# and select; dup/dup2, FD_CLOEXEC, O_NONBLOCK and FIONREAD on the dptcp
# socket. dptcpd sees exactly one active open: the loopback TCP was the
# kernel's.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=shim_lib.sh
. "$(dirname "$0")/shim_lib.sh"
shim_init shim_kernel_fds
dpt_net_up 1500
shim_start_dptcpd
# Echo server in the peer namespace; "CLOSE" makes it close the connection.
dpt_bg ip netns exec "$NS_PEER" "$DPT_PY" -c '
import socket
ls = socket.create_server(("0.0.0.0", 7200))
c, _ = ls.accept()
while True:
    b = c.recv(65536)
    if not b or b == b"CLOSE":
        break
    c.sendall(b)
c.close()
'
for ((i = 0; i < 100; i++)); do
	dpt_peer ss -Htln | grep -q ':7200 ' && break
	sleep 0.1
done
shim_run "$DPT_PY" "$SHIM_DIR/kernel_fds.py" "$DPT_TMP" "$PEER_IP" 7200 ||
	dpt_fail "kernel_fds.py under dptcp-run failed"
n=$(shim_stat connects)
[[ $n == 1 ]] || dpt_fail "dptcpd counted $n active opens, expected 1 (the peer's echo only)"
dpt_log "dptcpd counted exactly 1 active open: loopback TCP, UDP and AF_UNIX stayed the kernel's"
