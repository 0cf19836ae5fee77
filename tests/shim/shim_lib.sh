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

# shim_wait_log FILE TEXT WHAT: until the server started last by shim_bg
# wrote TEXT to its log FILE (its "ready"); fails at once if it exited,
# hang protection 30 s; the failure shows the log's tail.
shim_wait_log() {
	local i
	for ((i = 0; i < 300; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$SHIM_BG_PID" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "$2" "$1" 2>/dev/null ||
		dpt_fail "$3 did not start: $(tail -n 20 "$1" 2>&1)"
}

# shim_redis_server ADDR PORT: the redis-server command line the tests run
# (no persistence, every file in DPT_TMP, log in DPT_TMP/redis.log), in the
# array SHIM_REDIS_SERVER; the caller starts it where it wants.
shim_redis_server() {
	# shellcheck disable=SC2034 # the callers expand it
	SHIM_REDIS_SERVER=(redis-server --bind "$1" --port "$2" --save '' --appendonly no
		--protected-mode no --dir "$DPT_TMP" --logfile "$DPT_TMP/redis.log"
		--daemonize no --supervised no)
}

# shim_check_redis_bench OUT: redis-benchmark -t set,get --csv printed no
# error and a positive rate for SET and for GET (a stall prints neither).
shim_check_redis_bench() {
	local t rps
	grep -qi 'error' <<<"$1" && dpt_fail "redis-benchmark reported an error"
	for t in SET GET; do
		rps=$(awk -F'"' -v t="$t" '$2 == t { print $4 }' <<<"$1")
		if [[ -z $rps ]] || ! awk -v r="$rps" 'BEGIN { exit !(r > 0) }'; then
			dpt_fail "no $t result in redis-benchmark's output"
		fi
	done
}

# shim_redis_commands ADDR PORT: total_commands_processed of the redis
# at ADDR:PORT, asked from the peer namespace.
shim_redis_commands() {
	dpt_peer redis-cli -h "$1" -p "$2" info stats |
		awk -F: '/^total_commands_processed/ { print $2+0 }'
}

# shim_check_clean [violations]: the end of a shim test. Waits until dptcp
# has no connection (hang protection 60 s), logs /dptcp/shim, and checks
# that dptcpd holds no slot and counted no violation ("violations": only
# the latter, for tests whose programs may still hold a slot).
# shellcheck disable=SC2120 # the argument is optional
shim_check_clean() {
	"$DPT_PY" - "$DPT_FILE_PREFIX" "${1:-all}" <<-'PY'
	import sys
	from dptlib import check, log, main_guard, wait_no_conns, fmt_counts, tel
	def run():
	    counts = wait_no_conns(sys.argv[1], 60)
	    st = tel(sys.argv[1], "/dptcp/shim")
	    log("dptcp connections: %s; /dptcp/shim: %s" % (fmt_counts(counts), {k: v for k, v in st.items() if v}))
	    bad = []
	    if sys.argv[2] == "all" and st["slots_bound"] != 0:
	        bad.append("%d slots held" % st["slots_bound"])
	    if st["violations"] != 0:
	        bad.append("%d violations" % st["violations"])
	    check(not bad, "%s; /dptcp/shim: %s" % (", ".join(bad), st))
	main_guard(run)
	PY
}
