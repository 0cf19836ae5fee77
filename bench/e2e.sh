#!/bin/bash
# bench/e2e.sh — end-to-end figures: dptcp-perf and its kernel twin
# dptcp-kperf in the same modes, measured in the same run on the same
# machine, printed side by side with their ratio (never asserted).
#
#   bench/e2e.sh [-b BUILD] [-d SECONDS] [-o DIR] [SETUP...]
#
# Default setups: loopback memif (dptcp over shared memory against Linux
# over loopback: each stack's fastest local path). The JSON of every run,
# the table and rr-latency.png (gnuplot: latency distributions) are kept in
# DIR (default build/bench-e2e).
#
#   loopback  dptcp-kperf -> dptcp-kecho over 127.0.0.1 (no dptcp)
#   veth      dptcp-perf on one end of a veth (net_af_packet) -> dptcp-kecho
#             in a namespace; then dptcp-kperf over the same veth, kernel
#             on both ends: the Linux baseline of the same path
#   memif     dptcp-perf (lcore 1) -> dptcp-echo (lcore 0) over net_memif;
#             needs hugepages: sets vm.nr_hugepages to 512 (and mounts
#             /dev/hugepages if needed) for the run, restores both after
#
# Modes: rr 1 and 16 connections, crr 4 connections closed by FIN and by
# RST, bulk 1 connection. The client runs on CPU 0, the server on CPU 1
# (dptcp-perf busy-polls: a server sharing its CPU would be starved). Root is needed for veth and memif. Everything it
# makes (namespaces, veth, hugepages, sockets, EAL files) is removed on exit.
# Figures move from run to run on a shared 2-core machine: compare only
# figures of one run.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=$ROOT/build
DUR=3
OUT=
while getopts "b:d:o:h" opt; do
	case $opt in
	b) BUILD=$(cd "$OPTARG" && pwd) ;;
	d) DUR=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*) sed -n '2,28p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
(($# > 0)) || set -- loopback memif
PERF=$BUILD/apps/dptcp-perf
ECHO=$BUILD/apps/dptcp-echo
KPERF=$BUILD/bench/kernel/dptcp-kperf
KECHO=$BUILD/bench/kernel/dptcp-kecho
for b in "$PERF" "$ECHO" "$KPERF" "$KECHO"; do
	[[ -x $b ]] || { echo "e2e: $b is not built" >&2; exit 1; }
done
PY=/usr/bin/python3
[[ -n $OUT ]] || OUT=$BUILD/bench-e2e
rm -f "$OUT"/*.json "$OUT"/*.log
mkdir -p "$OUT"
TAG=dptp-$$
KECHO_PID=
ECHO_PID=
MEMIF_SOCK=/tmp/$TAG.sock
HP_OLD=
HP_MOUNTED=0
NS_A=
NS_B=

cleanup() {
	local rc=$?
	set +e
	for p in $KECHO_PID $ECHO_PID; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	[[ -n $NS_A ]] && ip netns del "$NS_A" 2>/dev/null
	[[ -n $NS_B ]] && ip netns del "$NS_B" 2>/dev/null
	rm -f "$MEMIF_SOCK" "/tmp/$TAG.ini"
	rm -rf /var/run/dpdk/"$TAG"-*
	((HP_MOUNTED)) && umount /dev/hugepages
	[[ -n $HP_OLD ]] && echo "$HP_OLD" >/proc/sys/vm/nr_hugepages
	((rc == 0)) || echo "e2e: failed (exit $rc); JSON and logs in $OUT" >&2
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# crr closes first: a short MSL keeps TIME_WAIT (2 * MSL = 0.2 s) from
# using up the 28232 local ports below ~140000 connections/s (memif
# reached 54000/s: with 0.4 s some connects found no free port).
printf '[tcp]\nmsl_ms = 100\n' >"/tmp/$TAG.ini"

MODES=("rr 1" "rr 16" "crr 4 fin" "crr 4 rst" "bulk 1")

# one SETUP STACK OUTNAME CMD...: a run whose JSON lands in $OUT/NAME.json.
one() {
	local setup=$1 stack=$2 name=$3
	shift 3
	echo "e2e: $setup/$stack: $*" >&2
	if ! "$@" --json </dev/null >"$OUT/$setup-$stack-$name.json" \
		2>"$OUT/$setup-$stack-$name.log"; then
		echo "e2e: $setup/$stack/$name: no transaction (see $OUT/$setup-$stack-$name.log)" >&2
	fi
}

mode_args() {   # "crr 4 rst" -> --mode crr --conns 4 --close rst
	local -a m
	read -r -a m <<<"$1"
	printf '%s\n' --mode "${m[0]}" --conns "${m[1]}"
	[[ ${m[2]:-} ]] && printf '%s\n' --close "${m[2]}"
	return 0
}

mode_name() { tr ' ' '-' <<<"$1"; }

wait_listen() {   # wait_listen NETNS-OR-EMPTY PORT
	local i
	for ((i = 0; i < 50; i++)); do
		if [[ -n $1 ]]; then
			[[ -n $(ip netns exec "$1" ss -Hltn "sport = :$2") ]] && return 0
		else
			[[ -n $(ss -Hltn "sport = :$2") ]] && return 0
		fi
		sleep 0.1
	done
	echo "e2e: nothing listens on port $2" >&2
	return 1
}

setup_loopback() {
	local port=$((20000 + $$ % 20000)) m
	taskset -c 1 "$KECHO" --port "$port" --bind 127.0.0.1 2>/dev/null &
	KECHO_PID=$!
	wait_listen "" "$port"
	for m in "${MODES[@]}"; do
		mapfile -t a < <(mode_args "$m")
		one loopback linux "$(mode_name "$m")" taskset -c 0 "$KPERF" \
			--server "127.0.0.1:$port" --duration "$DUR" --warmup 1 "${a[@]}"
	done
	kill -TERM "$KECHO_PID"; wait "$KECHO_PID" 2>/dev/null || true
	KECHO_PID=
}

setup_veth() {
	local net=10.91.$(($$ % 250)) m
	NS_A=$TAG-a
	NS_B=$TAG-b
	ip netns add "$NS_A"
	ip netns add "$NS_B"
	for ns in "$NS_A" "$NS_B"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_A" link add "$TAG-a" type veth peer name "$TAG-b" netns "$NS_B"
	ip -n "$NS_A" link set "$TAG-a" up
	ip -n "$NS_B" addr add "$net.2/24" dev "$TAG-b"
	ip -n "$NS_B" link set "$TAG-b" up
	ip netns exec "$NS_B" ethtool -K "$TAG-b" tx off tso off gso off gro off >/dev/null
	ip netns exec "$NS_A" ethtool -K "$TAG-a" tx off tso off gso off gro off >/dev/null
	ip netns exec "$NS_B" taskset -c 1 "$KECHO" --port 7 2>/dev/null &
	KECHO_PID=$!
	wait_listen "$NS_B" 7
	for m in "${MODES[@]}"; do
		mapfile -t a < <(mode_args "$m")
		one veth dptcp "$(mode_name "$m")" ip netns exec "$NS_A" "$PERF" \
			-l 0 --no-huge -m 1024 --no-pci "--file-prefix=$TAG-perf" \
			"--vdev=net_af_packet0,iface=$TAG-a" --log-level=lib.eal:notice \
			-- --ip "$net.1/24" --config "/tmp/$TAG.ini" --server "$net.2:7" \
			--duration "$DUR" --warmup 1 "${a[@]}"
		rm -rf "/var/run/dpdk/$TAG-perf"
	done
	# The same path with the kernel on both ends.
	ip -n "$NS_A" addr add "$net.1/24" dev "$TAG-a"
	ip netns exec "$NS_B" ip neigh flush dev "$TAG-b"
	for m in "${MODES[@]}"; do
		mapfile -t a < <(mode_args "$m")
		one veth linux "$(mode_name "$m")" ip netns exec "$NS_A" \
			taskset -c 0 "$KPERF" \
			--server "$net.2:7" --duration "$DUR" --warmup 1 "${a[@]}"
	done
	kill -TERM "$KECHO_PID"; wait "$KECHO_PID" 2>/dev/null || true
	KECHO_PID=
	ip netns del "$NS_A"; ip netns del "$NS_B"
	NS_A=''
	NS_B=''
}

setup_memif() {
	local m
	HP_OLD=$(cat /proc/sys/vm/nr_hugepages)
	echo 512 >/proc/sys/vm/nr_hugepages
	if ! mount | grep -q " /dev/hugepages type hugetlbfs"; then
		mkdir -p /dev/hugepages
		mount -t hugetlbfs nodev /dev/hugepages
		HP_MOUNTED=1
	fi
	"$ECHO" -l 0 -m 400 --no-pci "--file-prefix=$TAG-echo" \
		"--vdev=net_memif0,role=server,socket=$MEMIF_SOCK" \
		--log-level=lib.eal:notice -- --ip 10.91.250.1/24 --port 7 \
		--config "/tmp/$TAG.ini" </dev/null >"$OUT/memif-echo.log" 2>&1 &
	ECHO_PID=$!
	sleep 2
	kill -0 "$ECHO_PID" || { echo "e2e: dptcp-echo died" >&2; return 1; }
	for m in "${MODES[@]}"; do
		mapfile -t a < <(mode_args "$m")
		one memif dptcp "$(mode_name "$m")" "$PERF" -l 1 -m 400 --no-pci \
			"--file-prefix=$TAG-perf" \
			"--vdev=net_memif0,role=client,socket=$MEMIF_SOCK" \
			--log-level=lib.eal:notice -- --ip 10.91.250.2/24 \
			--config "/tmp/$TAG.ini" --server 10.91.250.1:7 \
			--duration "$DUR" --warmup 1 "${a[@]}"
		rm -rf "/var/run/dpdk/$TAG-perf"
	done
	kill -TERM "$ECHO_PID"; wait "$ECHO_PID" 2>/dev/null || true
	ECHO_PID=
	rm -rf "/var/run/dpdk/$TAG-echo"
}

for s in "$@"; do
	case $s in
	loopback) setup_loopback ;;
	veth) setup_veth ;;
	memif) setup_memif ;;
	*) echo "e2e: unknown setup '$s'" >&2; exit 2 ;;
	esac
done

echo "== $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r), DPDK $(pkg-config --modversion libdpdk 2>/dev/null)"
"$PY" "$HERE/e2e_report.py" "$OUT" | tee "$OUT/table.txt"
