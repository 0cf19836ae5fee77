#!/bin/bash
# bench/goodput.sh — goodput under loss and delay, dptcp next to Linux,
# measured in the same run through the same seeded impairment bridge
# (tests/impair/dptcp-impair) with the same settings (never asserted).
#
#   dptcp sends (table 1):
#     dptcp-perf --mode bulk    --> bridge --> dptcp-kecho  (Linux receiver)
#     dptcp-kperf --cc cubic    --> bridge --> dptcp-kecho
#     dptcp-kperf (default cc)  --> bridge --> dptcp-kecho
#   dptcp receives (table 2):
#     dptcp-kperf --cc cubic    --> bridge --> dptcp-echo --resp-size 1
#     dptcp-kperf --cc cubic    --> bridge --> dptcp-kecho  (Linux receiver)
#
# The bridge applies loss L and delay D ± D/5 (uniform jitter, which
# reorders) to both directions. The receiver answers one byte per 64 KiB
# it has read; goodput is the bytes those answers confirm, per second of
# the measured window: data the receiving application really got.
#
# CPUs (2 on these machines): the process in the first namespace (dptcp,
# or the Linux program in its place) runs alone on CPU 0 — dptcp polls
# without sleeping; the bridge and the Linux peer share CPU 1. Both
# stacks get the same layout. Offloads (TSO/GSO/GRO, checksum) are off on
# every veth, so both stacks put MTU-sized frames on the wire.
#
#   bench/goodput.sh [-b BUILD] [-B BEFORE_BUILD] [-d SECONDS] [-o DIR]
#                    [-c cubic|newreno] [-n REPEATS] [-D fwd|rev|both]
#
# Grid: loss 0, 1, 2, 5 % (GOODPUT_LOSSES); delay 0 and 5 ms each way
# (GOODPUT_DELAYS). REPEATS rounds of the whole grid, every stack in each
# round (so a change of machine load hits all of them); the median per
# cell is shown. -B adds a "dptcp before" column: the same runs with
# another build's dptcp-perf and dptcp-echo (a before/after comparison
# in one run). JSON per run and the tables in DIR (default
# BUILD/bench-goodput). Root needed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=$ROOT/build
DUR=5
OUT=
CC=cubic
REP=1
DIRS=both
BEFORE=
while getopts "b:B:d:o:c:n:D:h" opt; do
	case $opt in
	b) BUILD=$(cd "$OPTARG" && pwd) ;;
	B) BEFORE=$(cd "$OPTARG" && pwd) ;;
	d) DUR=$OPTARG ;;
	o) OUT=$OPTARG ;;
	c) CC=$OPTARG ;;
	n) REP=$OPTARG ;;
	D) DIRS=$OPTARG ;;
	*) sed -n '2,36p' "$0"; exit 2 ;;
	esac
done
[[ $DIRS == fwd || $DIRS == rev || $DIRS == both ]] || { echo "goodput: -D fwd|rev|both" >&2; exit 2; }
[[ -n $OUT ]] || OUT=$BUILD/bench-goodput
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.log
export DPTCP_IMPAIR=$BUILD/tests/impair/dptcp-impair
PERF=$BUILD/apps/dptcp-perf
ECHO=$BUILD/apps/dptcp-echo
KPERF=$BUILD/bench/kernel/dptcp-kperf
KECHO=$BUILD/bench/kernel/dptcp-kecho
for b in "$DPTCP_IMPAIR" "$PERF" "$ECHO" "$KPERF" "$KECHO" \
	${BEFORE:+"$BEFORE/apps/dptcp-perf" "$BEFORE/apps/dptcp-echo"}; do
	[[ -x $b ]] || { echo "goodput: $b is not built" >&2; exit 1; }
done
LOSSES=(${GOODPUT_LOSSES:-0 0.01 0.02 0.05})
DELAYS=(${GOODPUT_DELAYS:-0 5})
SIZE=65536
# Hang protection only.
TMO=$((${DUR%.*} + 40))

# One stack's whole grid in one direction (round r), in a subshell with
# its own namespaces and trap. stack: dptcp | dptcp-before | linux-cubic
# | linux-default.
run_grid() (
	local stack=$1 dir=$2 r=$3 loss delay name i
	local perf=$PERF echo=$ECHO
	if [[ $stack == dptcp-before ]]; then
		perf=$BEFORE/apps/dptcp-perf
		echo=$BEFORE/apps/dptcp-echo
	fi
	# shellcheck source-path=SCRIPTDIR source=../tests/interop/lib.sh
	. "$ROOT/tests/interop/lib.sh"
	# shellcheck source-path=SCRIPTDIR source=../tests/interop/impair_lib.sh
	. "$ROOT/tests/interop/impair_lib.sh"
	dpt_impair_init "goodput_${stack//-/_}_$dir"
	if [[ $stack == dptcp* ]]; then
		dpt_impair_net_up 1500
	else
		dpt_impair_net_up_linux 1500
	fi
	printf '[tcp]\ncc = %s\nsnd_buf_bytes = 4194304\nrcv_buf_bytes = 4194304\n' \
		"$CC" >"$DPT_TMP/dptcp.ini"
	local kcc=()
	[[ $stack == linux-cubic ]] && kcc=(--cc cubic)
	[[ $dir == rev ]] && kcc=(--cc cubic)   # the Linux sender of table 2
	# The receiver, for the whole grid.
	if [[ $dir == fwd ]]; then
		dpt_bg ip netns exec "$NS_PEER" taskset -c 1 "$KECHO" --port 7 \
			--size "$SIZE" --resp-size 1
		for ((i = 0; i < 50; i++)); do
			[[ -n $(dpt_peer ss -Hltn "sport = :7") ]] && break
			sleep 0.1
		done
	elif [[ $stack == dptcp* ]]; then
		# Up once it answers ping, through a clean bridge.
		dpt_impair_start --dir both >/dev/null
		dpt_bg ip netns exec "$NS_DP" "$echo" -l 0 --no-huge -m 1024 --no-pci \
			"--file-prefix=$DPT_FILE_PREFIX" "--vdev=net_af_packet0,iface=$VETH_DP" \
			--log-level=lib.eal:notice -- --ip "$DP_IP/$DPT_PREFIX_LEN" --port 7 \
			--config "$DPT_TMP/dptcp.ini" --size "$SIZE" --resp-size 1 \
			</dev/null >"$OUT/$dir-$stack-echo-$r.log" 2>&1
		for ((i = 0; i < 120; i++)); do
			dpt_peer ping -c 1 -W 1 "$DP_IP" >/dev/null 2>&1 && break
			kill -0 "$DPT_BG_PID" 2>/dev/null || dpt_fail "dptcp-echo exited"
			sleep 0.5
		done
		dpt_impair_stop >/dev/null
	else
		dpt_bg ip netns exec "$NS_DP" taskset -c 0 "$KECHO" --port 7 \
			--size "$SIZE" --resp-size 1
		for ((i = 0; i < 50; i++)); do
			[[ -n $(dpt_impair_dp ss -Hltn "sport = :7") ]] && break
			sleep 0.1
		done
	fi
	for delay in "${DELAYS[@]}"; do
		for loss in "${LOSSES[@]}"; do
			{
				name="$dir-$stack-loss$loss-delay$delay-$r"
				dpt_impair_start --dir both --loss "$loss" --delay-ms "$delay" \
					--jitter-ms "$((delay / 5))" --seed $((41 + r)) >/dev/null
				taskset -pc 1 "$DPT_IMPAIR_PID" >/dev/null
				if [[ $dir == rev ]]; then
					ip netns exec "$NS_PEER" timeout "$TMO" taskset -c 1 "$KPERF" \
						--server "$DP_IP:7" --mode bulk --size "$SIZE" --conns 1 \
						--duration "$DUR" --warmup 1 --json "${kcc[@]}" \
						</dev/null >"$OUT/$name.json" 2>"$OUT/$name.log" || true
				elif [[ $stack == dptcp* ]]; then
					ip netns exec "$NS_DP" timeout "$TMO" "$perf" -l 0 --no-huge \
						-m 1024 --no-pci "--file-prefix=$DPT_BASE_PREFIX-perf" \
						"--vdev=net_af_packet0,iface=$VETH_DP" \
						--log-level=lib.eal:notice -- --ip "$DP_IP/$DPT_PREFIX_LEN" \
						--config "$DPT_TMP/dptcp.ini" --server "$PEER_IP:7" \
						--mode bulk --size "$SIZE" --conns 1 --duration "$DUR" \
						--warmup 1 --json </dev/null >"$OUT/$name.json" \
						2>"$OUT/$name.log" || true
					rm -rf "/var/run/dpdk/$DPT_BASE_PREFIX-perf"
				else
					ip netns exec "$NS_DP" timeout "$TMO" taskset -c 0 "$KPERF" \
						--server "$PEER_IP:7" --mode bulk --size "$SIZE" --conns 1 \
						--duration "$DUR" --warmup 1 --json "${kcc[@]}" \
						</dev/null >"$OUT/$name.json" 2>"$OUT/$name.log" || true
				fi
				dpt_impair_stop >/dev/null
				cp "$DPT_IMPAIR_JSON" "$OUT/$name.bridge.json" 2>/dev/null || true
				echo "goodput: $name done" >&2
			}
		done
	done
)

echo "== $(nproc) CPUs, Linux $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== dptcp congestion control: $CC; Linux default: $(sysctl -n net.ipv4.tcp_congestion_control)"
for ((round = 1; round <= REP; round++)); do
	if [[ $DIRS != rev ]]; then
		run_grid dptcp fwd "$round"
		[[ -n $BEFORE ]] && run_grid dptcp-before fwd "$round"
		run_grid linux-cubic fwd "$round"
		run_grid linux-default fwd "$round"
	fi
	if [[ $DIRS != fwd ]]; then
		run_grid dptcp rev "$round"
		[[ -n $BEFORE ]] && run_grid dptcp-before rev "$round"
		run_grid linux-cubic rev "$round"
	fi
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$HERE/goodput_report.py" "$OUT" "$DIRS" "$REP" \
	"${LOSSES[*]}" "${DELAYS[*]}" "${BEFORE:+before}" | tee "$OUT/table.txt"
