# tests/shim/shim_lib.sh — what the shim tests add to tests/interop/lib.sh:
# start dptcpd on the veth with a [shim] config in the test's temp dir,
# run a program under dptcp-run (in dptcp's namespace, so even its kernel
# sockets stay off the root namespace), and read /dptcp/shim.
# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR source=../interop/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../interop/lib.sh"

: "${DPTCPD:?DPTCPD must name the dptcpd binary}"
: "${DPTCP_RUN:?DPTCP_RUN must name the dptcp-run script}"
SHIM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shim_start_dptcpd [EXTRA_INI_LINES]: dptcpd on link 0, socket in DPT_TMP.
shim_start_dptcpd() {
	SHIM_SOCK="$DPT_TMP/dptcpd.sock"
	cat >"$DPT_TMP/dptcpd.ini" <<-INI
	[shim]
	socket_path = $SHIM_SOCK
	socket_mode = 0600
	max_sockets = 256
	${1:-}
	INI
	# dpt_start_app passes --port; dptcpd ignores it (no listener of its own).
	dpt_start_app "$DPTCPD" 9 "$DPT_TMP/dptcpd.ini"
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S $SHIM_SOCK ]] && return 0
		sleep 0.1
	done
	dpt_fail "dptcpd made no socket at $SHIM_SOCK"
}

# shim_run CMD...: CMD under dptcp-run in dptcp's namespace (foreground).
shim_run() {
	ip netns exec "$NS_DP" env DPTCP_SOCKET="$SHIM_SOCK" "$DPTCP_RUN" "$@"
}

# shim_bg CMD...: the same in the background; SHIM_BG_PID is its PID.
shim_bg() {
	ip netns exec "$NS_DP" env DPTCP_SOCKET="$SHIM_SOCK" "$DPTCP_RUN" "$@" &
	SHIM_BG_PID=$!
	DPT_PIDS+=("$SHIM_BG_PID")
}

# shim_stat NAME: a counter of /dptcp/shim.
shim_stat() {
	"$DPT_PY" - "$DPT_FILE_PREFIX" "$1" <<-'PY'
	import sys
	from dptlib import tel
	print(tel(sys.argv[1], "/dptcp/shim")[sys.argv[2]])
	PY
}

# shim_wait_port PORT: until something listens on dptcp's PORT (a kernel
# client in the peer namespace can connect), hang protection 30 s.
shim_wait_port() {
	local i
	for ((i = 0; i < 300; i++)); do
		dpt_py -c "import socket,sys; socket.create_connection(('$DP_IP', $1), timeout=1).close()" \
			2>/dev/null && return 0
		sleep 0.1
	done
	dpt_fail "nothing listens on $DP_IP:$1 after 30 s"
}
