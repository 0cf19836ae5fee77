#!/bin/bash
# tests/shim/conform/run_dptcp.sh — the conformance run with the server's
# socket calls served by dptcp (meson test conform_dptcp, suite shim):
# run.sh in its dptcp-run mode, dptcpd on the veth's host end, `conform
# server` under dptcp-run, the client on the kernel; the transcript must
# equal the kernel's (expected.txt). DPTCPD and DPTCP_RUN name the
# binaries (meson sets them).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
: "${DPTCPD:?DPTCPD must name the dptcpd binary}"
: "${DPTCP_RUN:?DPTCP_RUN must name the dptcp-run script}"
DPTCPD=$(readlink -f "$DPTCPD")
DPTCP_RUN=$(readlink -f "$DPTCP_RUN")
export SERVER_DAEMON="printf '[shim]\nsocket_path = %s\n' \"\$CONFORM_TMP/d.sock\" \
>\"\$CONFORM_TMP/d.ini\" && exec '$DPTCPD' -l 0 --no-huge -m 1024 --no-pci \
--file-prefix=\$FILE_PREFIX --vdev=net_af_packet0,iface=\$HOST_IFACE \
-- --ip \$SERVER_ADDR/\$PREFIX_LEN --port 9 --config \$CONFORM_TMP/d.ini"
export SERVER_WAIT_FOR='$CONFORM_TMP/d.sock'
export SERVER_PREFIX="env DPTCP_SOCKET=\$CONFORM_TMP/d.sock '$DPTCP_RUN'"
exec bash "$HERE/run.sh"
