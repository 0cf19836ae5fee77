# tests/shim/shim_lib.sh — what the shim tests add to tests/interop/lib.sh:
# start dptcpd on the veth with a [shim] config in the test's temp dir,
# run a program under dptcp-run (in dptcp's namespace, so even its kernel
# sockets stay off the root namespace), and read /dptcp/shim.
# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR source=../interop/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../interop/lib.sh"

: "${DPTCPD:?DPTCPD must name the dptcpd binary}"
: "${DPTCP_RUN:?DPTCP_RUN must name the dptcp-run script}"
DPTCPD=$(readlink -f "$DPTCPD")
DPTCP_RUN=$(readlink -f "$DPTCP_RUN")
SHIM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

SHIM_PIDS=()

# Programs under dptcp-run stop before dptcpd does (lib.sh's cleanup stops
# dptcpd first): call after dpt_init.
shim_init() {
	dpt_init "$1"
	trap shim_cleanup EXIT
}

shim_cleanup() {
	local rc=$? pid
	set +e
	for pid in "${SHIM_PIDS[@]}"; do
		dpt_kill_pid "$pid"
	done
	(exit "$rc")
	dpt_cleanup
}

# shim_start_dptcpd [EXTRA_INI_LINES]: dptcpd on link 0, socket in DPT_TMP.
shim_start_dptcpd() {
	SHIM_SOCK="$DPT_TMP/dptcpd.sock"
	printf '[shim]\nsocket_path = %s\nsocket_mode = 0600\nmax_sockets = 256\n%b\n' \
		"$SHIM_SOCK" "${1:-}" >"$DPT_TMP/dptcpd.ini"
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
	SHIM_PIDS+=("$SHIM_BG_PID")
}

# shim_stat NAME: a counter of /dptcp/shim.
shim_stat() {
	"$DPT_PY" - "$DPT_FILE_PREFIX" "$1" <<-'PY'
	import sys
	from dptlib import tel
	print(tel(sys.argv[1], "/dptcp/shim")[sys.argv[2]])
	PY
}

# shim_wait_file FILE WHAT: until a program wrote FILE (its "ready"),
# hang protection 30 s.
shim_wait_file() {
	local i
	for ((i = 0; i < 300; i++)); do
		[[ -s $1 ]] && return 0
		sleep 0.1
	done
	dpt_fail "$2 did not start within 30 s"
}

# shim_nginx_conf DIR ADDR PORT WORKERS MASTER(on|off): an nginx.conf in DIR
# that serves DIR/www on ADDR:PORT in the foreground, with every path
# (pid, logs, temp files) inside DIR; access.log has one "PID STATUS" line
# per request (which worker answered); prints its path.
shim_nginx_conf() {
	local dir=$1 addr=$2 port=$3 workers=$4 master=$5 t
	for t in client_body proxy fastcgi uwsgi scgi; do
		mkdir -p "$dir/tmp/$t"
	done
	mkdir -p "$dir/www"
	cat >"$dir/nginx.conf" <<-CONF
	user root;
	worker_processes $workers;
	master_process $master;
	daemon off;
	pid $dir/nginx.pid;
	error_log $dir/error.log notice;
	events { worker_connections 1024; use epoll; }
	http {
	    log_format pidstatus '\$pid \$status';
	    access_log $dir/access.log pidstatus;
	    sendfile on;
	    tcp_nopush on;
	    tcp_nodelay on;
	    keepalive_requests 100000;
	    client_body_temp_path $dir/tmp/client_body;
	    proxy_temp_path $dir/tmp/proxy;
	    fastcgi_temp_path $dir/tmp/fastcgi;
	    uwsgi_temp_path $dir/tmp/uwsgi;
	    scgi_temp_path $dir/tmp/scgi;
	    types { text/plain txt; application/octet-stream bin; }
	    server {
	        listen $addr:$port;
	        root $dir/www;
	    }
	}
	CONF
	echo "$dir/nginx.conf"
}
