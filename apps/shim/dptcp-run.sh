#!/bin/sh
# dptcp-run PROGRAM [ARGS...] — run an unmodified program on dptcp: its
# IPv4 TCP sockets on dptcp's address are served by a running dptcpd, every
# other fd stays the kernel's. Like Onload's `onload`.
#   DPTCP_SOCKET   dptcpd's Unix socket ([shim] socket_path; default
#                  /run/dptcp/dptcpd.sock)
#   DPTCP_PRELOAD  the shim library (default: next to this script)
if [ $# -eq 0 ] || [ "$1" = "--help" ] || [ "$1" = "-h" ]; then
	echo "usage: dptcp-run PROGRAM [ARGS...]   (DPTCP_SOCKET=path of dptcpd's socket)" >&2
	[ $# -eq 0 ] && exit 2
	exit 0
fi
here=$(dirname "$(readlink -f "$0")")
lib=${DPTCP_PRELOAD:-$here/shim/libdptcp_preload.so}
if [ ! -f "$lib" ]; then
	echo "dptcp-run: $lib not found (set DPTCP_PRELOAD)" >&2
	exit 127
fi
export DPTCP_SOCKET="${DPTCP_SOCKET:-/run/dptcp/dptcpd.sock}"
export LD_PRELOAD="$lib${LD_PRELOAD:+ $LD_PRELOAD}"
exec "$@"
