#!/bin/bash
# bench/shim_bench.sh — unmodified programs through the socket shim against
# the same programs on the Linux kernel, and the in-process dptcp figure,
# measured in one run and printed side by side (issue 7; never asserted).
#
#   bench/shim_bench.sh [-b BUILD] [-r ROUNDS] [-d SECONDS] [-n REQUESTS] [-o DIR] [-R]
#
# Network (tests/interop/lib.sh names, a PID in every name): namespaces DP
# and PEER joined by three veth pairs, offloads off on both ends.
#   link 0  dptcp's port (net_af_packet, no kernel address) <-> PEER
#           dptcpd + programs under dptcp-run, or in-process dptcp-echo
#   link 1  a kernel address in DP <-> PEER: the same programs on Linux
#   link 2  dptcp-echo (DP) <-> dptcp-perf (PEER): dptcp on both ends
# Clients run in PEER on Linux sockets, except dptcp-perf.
#
# Each round (default 3) runs one after the other:
#   shim      dptcpd (lcore 0 = CPU 0, busy-polls); under dptcp-run on CPU 1:
#             `sockperf server`, `dptcp-kecho` (epoll, ET), `redis-server`;
#             clients on CPU 1: `sockperf ping-pong --tcp -m 64 --full-rtt`,
#             `dptcp-kperf --mode rr` (64 B), `redis-benchmark -t get,set
#             -c 50` without and with -P 16
#   in-proc   dptcp-echo on link 0 (CPU 0) with the same dptcp-kperf: the
#             shim's path without dptcpd and the shim; dptcp-perf rr
#             (CPU 1) -> dptcp-echo (CPU 0) over link 2: issue 7's figure
#   kernel    the same servers on link 1's kernel address (CPU 0), the
#             same clients (CPU 1)
# The client is on CPU 1 in every case and the server side has CPU 0; the
# shim's program shares CPU 1 with the client because dptcpd's engine takes
# CPU 0 whole (it busy-polls). Also recorded: each server's CPU use, and
# /dptcp/shim's wakeups, kicks, connection services and engine loops per
# round trip. The table has the medians over rounds; every figure of every
# run is in DIR/runs.tsv (default BUILD/bench-shim) with the tools' logs.
# -R: round trips only (no redis). SHIM_BENCH_INI: extra [shim] lines for
# dptcpd (e.g. 'spin_us = 0').
#
# net_af_packet puts a kernel socket (and veth's softirq) under dptcp's
# PMD, so every dptcp figure here pays kernel work per packet that a NIC
# would not; see bench/README.md "Shim against the kernel".
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=$ROOT/build
ROUNDS=3
DUR=5
NREQ=100000
OUT=
REDIS=1
while getopts "b:r:d:n:o:Rh" opt; do
	case $opt in
	b) BUILD=$(cd "$OPTARG" && pwd) ;;
	r) ROUNDS=$OPTARG ;;
	d) DUR=$OPTARG ;;
	n) NREQ=$OPTARG ;;
	o) OUT=$OPTARG ;;
	R) REDIS=0 ;;
	*) sed -n '2,38p' "$0"; exit 2 ;;
	esac
done
[[ -n $OUT ]] || OUT=$BUILD/bench-shim
mkdir -p "$OUT"
rm -f "$OUT"/*.log "$OUT"/*.json "$OUT"/*.csv
RUNS=$OUT/runs.tsv
: >"$RUNS"
export DPTCPD=${DPTCPD:-$BUILD/apps/dptcpd}
export DPTCP_RUN=${DPTCP_RUN:-$BUILD/apps/dptcp-run}
ECHO=$BUILD/apps/dptcp-echo
PERF=$BUILD/apps/dptcp-perf
KPERF=$BUILD/bench/kernel/dptcp-kperf
KECHO=$BUILD/bench/kernel/dptcp-kecho
for b in "$DPTCPD" "$DPTCP_RUN" "$ECHO" "$PERF" "$KPERF" "$KECHO"; do
	[[ -x $b ]] || { echo "shim_bench: $b is not built" >&2; exit 1; }
done
# shellcheck source-path=SCRIPTDIR source=../tests/shim/shim_lib.sh
. "$ROOT/tests/shim/shim_lib.sh"
shim_init shim_bench
dpt_need sockperf redis-server redis-benchmark taskset

SP_PORT=11111
RD_PORT=6379
KE_PORT=7
APP_CPU=1      # the program under dptcp-run, next to the client
CLI_CPU=1
SRV_CPU=0      # dptcpd's engine, dptcp-echo, the kernel's servers

dpt_net_up 1500 2
L2_DP=$VETH_DP L2_PEER=$VETH_PEER L2_DP_IP=$DP_IP L2_PEER_IP=$PEER_IP
L2_PREFIX=$DPT_FILE_PREFIX
# dptcp-perf owns link 2's PEER end: the kernel must not answer there.
ip -n "$NS_PEER" addr flush dev "$L2_PEER"
dpt_net_up 1500 1
K_IP=$DP_IP
ip -n "$NS_DP" addr add "$K_IP/$DPT_PREFIX_LEN" dev "$VETH_DP"
dpt_net_up 1500 0

shim_tel() {   # /dptcp/shim of dptcpd, as JSON
	"$DPT_PY" - "$DPT_FILE_PREFIX" <<-'PY'
	import json, sys
	from dptlib import tel
	print(json.dumps(tel(sys.argv[1], "/dptcp/shim")))
	PY
}

json_get() {   # json_get FILE KEY
	"$DPT_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# tel_per_rt PREFIX N: /dptcp/shim counters moved between tel0 and tel1,
# per round trip (N round trips, warm-up included, as the counters see it).
tel_per_rt() {
	"$DPT_PY" - "$OUT/tel0" "$OUT/tel1" "$2" <<-'PY' |
	import json, sys
	a, b = (json.load(open(f)) for f in sys.argv[1:3])
	n = float(sys.argv[3] or 0)
	for k in ("wakeups", "conn_kicks", "conn_services", "engine_loops"):
	    print(k, "%.2f" % ((b.get(k, 0) - a.get(k, 0)) / n if n else 0))
	PY
	while read -r f v; do record shim "$1_$f" "$v"; done
}

# record SIDE FIGURE VALUE
record() { printf '%s\t%s\t%s\t%s\n' "$ROUND" "$1" "$2" "$3" >>"$RUNS"; }

# Start a server (already under taskset/dptcp-run as the caller wants) in
# DP in the background, remember its PID.
srv_bg() {
	ip netns exec "$NS_DP" "$@" >>"$OUT/server.log" 2>&1 &
	SRV_PID=$!
	DPT_PIDS+=("$SRV_PID")
}

srv_stop() {
	[[ -n ${SRV_PID:-} ]] && dpt_kill_pid "$SRV_PID"
	SRV_PID=
}

wait_port() {   # wait_port IP PORT: until a TCP connect from PEER succeeds
	local i
	for ((i = 0; i < 150; i++)); do
		dpt_peer timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null && return 0
		sleep 0.2
	done
	dpt_fail "nothing answers on $1:$2"
}

# cpu_ticks PID: user + system clock ticks of a process so far.
cpu_ticks() {
	local f
	read -r -a f <"/proc/$1/stat" || { echo 0; return 0; }
	# Fields after "(comm)": comm has no space for our servers.
	echo $((f[13] + f[14]))
}

# cpu_record SIDE FIG T0 SECONDS: the server's CPU use since T0, in % of a CPU.
cpu_record() {
	local t1
	t1=$(cpu_ticks "$SRV_PID")
	record "$1" "$2" "$(awk -v a="$3" -v b="$t1" -v s="$4" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.0f", (b - a) * 100 / hz / s }')"
}

# sockperf SIDE IP: ping-pong, 64-byte messages, round-trip times.
sockperf_pp() {
	local side=$1 ip=$2 log t0
	log=$OUT/sockperf-$side-$ROUND.log
	t0=$(cpu_ticks "$SRV_PID")
	dpt_peer taskset -c $CLI_CPU sockperf ping-pong --tcp -i "$ip" -p $SP_PORT \
		-m 64 -t "$DUR" --full-rtt >"$log" 2>&1 ||
		{ tail -5 "$log" >&2; dpt_fail "sockperf ping-pong to $side failed"; }
	cpu_record "$side" sp_cpu "$t0" "$DUR"
	# "Summary: Round trip is 23.456 usec", "---> percentile 50.000 =  21.3"
	record "$side" sp_avg "$(sed -n 's/.*Summary: Round trip is \([0-9.]*\) usec.*/\1/p' "$log")"
	record "$side" sp_p50 "$(sed -n 's/.*---> percentile 50.000 = *\([0-9.]*\).*/\1/p' "$log")"
	record "$side" sp_p99 "$(sed -n 's/.*---> percentile 99.000 = *\([0-9.]*\).*/\1/p' "$log")"
}

# kperf_rr SIDE IP PORT: dptcp-kperf rr (Linux sockets, one connection,
# 64 B each way) against an echo server: the same client for all three.
kperf_rr() {
	local side=$1 ip=$2 port=$3 log t0
	log=$OUT/kperf-$side-$ROUND.json
	t0=$(cpu_ticks "$SRV_PID")
	dpt_peer taskset -c $CLI_CPU "$KPERF" --server "$ip:$port" --mode rr \
		--conns 1 --size 64 --duration "$DUR" --warmup 1 --json \
		</dev/null >"$log" 2>"$OUT/kperf-$side-$ROUND.log" ||
		dpt_fail "dptcp-kperf to $side failed: $(tail -3 "$OUT/kperf-$side-$ROUND.log")"
	cpu_record "$side" kp_cpu "$t0" $((DUR + 1))
	perf_json "$side" kp "$log"
}

# perf_json SIDE PREFIX FILE: p50/p99/mean of a dptcp-perf/kperf --json.
perf_json() {
	local side=$1 pre=$2 f v
	while read -r f v; do
		record "$side" "${pre}_$f" "$v"
	done < <("$DPT_PY" - "$3" <<-'PY'
	import json, sys
	d = json.load(open(sys.argv[1]))
	l = d["latency_us"]
	print("p50", l["p50"]); print("p99", l["p99"]); print("avg", l["mean"])
	PY
	)
}

# redis SIDE IP: GET and SET, 50 connections, without and with -P 16.
redis_bench() {
	local side=$1 ip=$2 p out t rps
	for p in 1 16; do
		out=$(dpt_peer taskset -c $CLI_CPU timeout 300 redis-benchmark -h "$ip" \
			-p $RD_PORT -t get,set -c 50 -P $p -n $((p == 1 ? NREQ : NREQ * 4)) \
			-r 100000 -q --csv 2>&1) || dpt_fail "redis-benchmark to $side failed: $out"
		printf '%s\n' "$out" >"$OUT/redis-$side-P$p-$ROUND.csv"
		for t in GET SET; do
			rps=$(awk -F'"' -v t="$t" '$2 == t { print $4 }' <<<"$out")
			[[ -n $rps ]] || dpt_fail "no $t figure from redis-benchmark ($side): $out"
			record "$side" "redis_${t,,}_P$p" "$rps"
		done
	done
}

redis_args() {   # redis_args IP: a server with nothing on disk
	printf '%s\n' --bind "$1" --port $RD_PORT --save '' --appendonly no \
		--protected-mode no --dir "$DPT_TMP" --logfile '' --daemonize no \
		--supervised no --databases 1
}

phase_shim() {
	dpt_link_names 0
	shim_start_dptcpd "${SHIM_BENCH_INI:-}"
	srv_bg env DPTCP_SOCKET="$SHIM_SOCK" taskset -c $APP_CPU "$DPTCP_RUN" \
		sockperf server --tcp -i "$DP_IP" -p $SP_PORT
	wait_port "$DP_IP" $SP_PORT
	shim_tel >"$OUT/tel0"
	sockperf_pp shim "$DP_IP"
	shim_tel >"$OUT/tel1"
	tel_per_rt sp "$(sed -n 's/.*\[Total Run\].*ReceivedMessages=\([0-9]*\).*/\1/p' \
		"$OUT/sockperf-shim-$ROUND.log")"
	srv_stop
	srv_bg env DPTCP_SOCKET="$SHIM_SOCK" taskset -c $APP_CPU "$DPTCP_RUN" \
		"$KECHO" --port $KE_PORT --bind "$DP_IP"
	wait_port "$DP_IP" $KE_PORT
	shim_tel >"$OUT/tel0"
	kperf_rr shim "$DP_IP" $KE_PORT
	shim_tel >"$OUT/tel1"
	tel_per_rt kp "$(awk -v t="$(json_get "$OUT/kperf-shim-$ROUND.json" tps)" \
		-v d="$DUR" 'BEGIN { printf "%d", t * (d + 1) }')"
	srv_stop
	((REDIS)) || { dpt_stop_app; return 0; }
	mapfile -t ra < <(redis_args "$DP_IP")
	srv_bg env DPTCP_SOCKET="$SHIM_SOCK" taskset -c $APP_CPU "$DPTCP_RUN" \
		redis-server "${ra[@]}"
	wait_port "$DP_IP" $RD_PORT
	redis_bench shim "$DP_IP"
	srv_stop
	dpt_stop_app
	rm -rf "/var/run/dpdk/$DPT_FILE_PREFIX"
}

phase_inproc() {
	local log i
	dpt_link_names 0
	dpt_start_app "$ECHO" $KE_PORT "" $SRV_CPU
	SRV_PID=$DPT_APP_PID   # for its CPU use (a busy-polling core)
	kperf_rr inproc "$DP_IP" $KE_PORT
	SRV_PID=
	dpt_stop_app
	rm -rf "/var/run/dpdk/$DPT_FILE_PREFIX"
	# dptcp on both ends of link 2 (dptcp-perf resolves dptcp-echo by ARP).
	ip netns exec "$NS_DP" "$ECHO" -l $SRV_CPU --no-huge -m 1024 --no-pci \
		"--file-prefix=$L2_PREFIX" "--vdev=net_af_packet0,iface=$L2_DP" \
		--log-level=lib.eal:notice -- --ip "$L2_DP_IP/$DPT_PREFIX_LEN" \
		--port 7 </dev/null >"$OUT/echo2-$ROUND.log" 2>&1 &
	SRV_PID=$!
	DPT_PIDS+=("$SRV_PID")
	for ((i = 0; i < 300; i++)); do
		grep -qs "poll loop on lcore" "$OUT/echo2-$ROUND.log" && break
		kill -0 "$SRV_PID" 2>/dev/null || dpt_fail "dptcp-echo on link 2 exited"
		sleep 0.1
	done
	log=$OUT/perf-$ROUND.json
	dpt_peer "$PERF" -l $CLI_CPU --no-huge -m 1024 --no-pci \
		"--file-prefix=$L2_PREFIX-perf" "--vdev=net_af_packet0,iface=$L2_PEER" \
		--log-level=lib.eal:notice -- --ip "$L2_PEER_IP/$DPT_PREFIX_LEN" \
		--server "$L2_DP_IP:7" --mode rr --conns 1 --size 64 \
		--duration "$DUR" --warmup 1 --json </dev/null >"$log" 2>"$OUT/perf-$ROUND.log" ||
		dpt_fail "dptcp-perf failed: $(tail -3 "$OUT/perf-$ROUND.log")"
	srv_stop
	rm -rf "/var/run/dpdk/$L2_PREFIX" "/var/run/dpdk/$L2_PREFIX-perf"
	perf_json inproc dp "$log"
}

phase_kernel() {
	srv_bg taskset -c $SRV_CPU sockperf server --tcp -i "$K_IP" -p $SP_PORT
	wait_port "$K_IP" $SP_PORT
	sockperf_pp kernel "$K_IP"
	srv_stop
	srv_bg taskset -c $SRV_CPU "$KECHO" --port $KE_PORT --bind "$K_IP"
	wait_port "$K_IP" $KE_PORT
	kperf_rr kernel "$K_IP" $KE_PORT
	srv_stop
	((REDIS)) || return 0
	mapfile -t ra < <(redis_args "$K_IP")
	srv_bg taskset -c $SRV_CPU redis-server "${ra[@]}"
	wait_port "$K_IP" $RD_PORT
	redis_bench kernel "$K_IP"
	srv_stop
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
	dpt_log "round $ROUND/$ROUNDS (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	phase_shim
	phase_inproc
	phase_kernel
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

{
	echo "== shim_bench $(date -u '+%F %H:%M UTC'), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r), DPDK $(pkg-config --modversion libdpdk 2>/dev/null), HEAD $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
	echo "== $ROUNDS rounds, sockperf -t $DUR s, redis-benchmark -n $NREQ (x4 with -P 16); load average $LOAD0 at start, $LOAD1 at end"
	"$DPT_PY" "$HERE/shim_report.py" "$RUNS"
} | tee "$OUT/table.txt"
