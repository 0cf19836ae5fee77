#!/bin/bash
# bench/goodput.sh — goodput under loss and delay, dptcp next to Linux,
# measured in the same run through the same seeded impairment bridge
# (tests/impair/dptcp-impair) with the same settings (never asserted):
#
#   sender                      bridge (both directions)        receiver
#   dptcp-perf --mode bulk  -->  loss L, delay D ± D/5  -->  dptcp-kecho (Linux)
#   dptcp-kperf --mode bulk -->  (the same)             -->  dptcp-kecho (Linux)
#
# The receiver answers one byte per 64 KiB, so the figure is the sender's
# goodput: dptcp's loss recovery and congestion control against Linux's.
#
#   bench/goodput.sh [-b BUILD] [-d SECONDS] [-o DIR] [-c cubic|newreno]
#
# Grid: loss 0, 1, 2, 5 %; delay 0 and 5 ms each way. JSON per run and
# the table in DIR (default build/bench-goodput). Root needed (namespaces).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=$ROOT/build
DUR=5
OUT=
CC=cubic
while getopts "b:d:o:c:h" opt; do
	case $opt in
	b) BUILD=$(cd "$OPTARG" && pwd) ;;
	d) DUR=$OPTARG ;;
	o) OUT=$OPTARG ;;
	c) CC=$OPTARG ;;
	*) sed -n '2,18p' "$0"; exit 2 ;;
	esac
done
[[ -n $OUT ]] || OUT=$BUILD/bench-goodput
mkdir -p "$OUT"
rm -f "$OUT"/*.json
export DPTCP_IMPAIR=$BUILD/tests/impair/dptcp-impair
PERF=$BUILD/apps/dptcp-perf
KPERF=$BUILD/bench/kernel/dptcp-kperf
KECHO=$BUILD/bench/kernel/dptcp-kecho
for b in "$DPTCP_IMPAIR" "$PERF" "$KPERF" "$KECHO"; do
	[[ -x $b ]] || { echo "goodput: $b is not built" >&2; exit 1; }
done
LOSSES=(${GOODPUT_LOSSES:-0 0.01 0.02 0.05})
DELAYS=(${GOODPUT_DELAYS:-0 5})

# One stack's whole grid, in a subshell with its own namespaces and trap.
run_stack() (
	local stack=$1 loss delay jit name i
	# shellcheck source-path=SCRIPTDIR source=../tests/interop/lib.sh
	. "$ROOT/tests/interop/lib.sh"
	# shellcheck source-path=SCRIPTDIR source=../tests/interop/impair_lib.sh
	. "$ROOT/tests/interop/impair_lib.sh"
	dpt_impair_init "goodput_$stack"
	if [[ $stack == dptcp ]]; then
		dpt_impair_net_up 1500
	else
		dpt_impair_net_up_linux 1500
	fi
	printf '[tcp]\ncc = %s\nsnd_buf_bytes = 4194304\n' "$CC" >"$DPT_TMP/perf.ini"
	dpt_bg ip netns exec "$NS_PEER" taskset -c 1 "$KECHO" --port 7 --size 65536 --resp-size 1
	for ((i = 0; i < 50; i++)); do
		[[ -n $(dpt_peer ss -Hltn "sport = :7") ]] && break
		sleep 0.1
	done
	for delay in "${DELAYS[@]}"; do
		for loss in "${LOSSES[@]}"; do
			name="$stack-loss$loss-delay$delay"
			jit=$((delay / 5))
			dpt_impair_start --dir both --loss "$loss" --delay-ms "$delay" \
				--jitter-ms "$jit" --seed 42 >/dev/null
			if [[ $stack == dptcp ]]; then
				ip netns exec "$NS_DP" "$PERF" -l 0 --no-huge -m 1024 --no-pci \
					"--file-prefix=$DPT_BASE_PREFIX-perf" \
					"--vdev=net_af_packet0,iface=$VETH_DP" --log-level=lib.eal:notice \
					-- --ip "$DP_IP/$DPT_PREFIX_LEN" --config "$DPT_TMP/perf.ini" \
					--server "$PEER_IP:7" --mode bulk --conns 1 --duration "$DUR" \
					--warmup 1 --json </dev/null >"$OUT/$name.json" 2>"$OUT/$name.log" || true
				rm -rf "/var/run/dpdk/$DPT_BASE_PREFIX-perf"
			else
				ip netns exec "$NS_DP" taskset -c 0 "$KPERF" --server "$PEER_IP:7" \
					--mode bulk --conns 1 --duration "$DUR" --warmup 1 --json \
					</dev/null >"$OUT/$name.json" 2>"$OUT/$name.log" || true
			fi
			dpt_impair_stop >/dev/null
			echo "goodput: $name done" >&2
		done
	done
)

echo "== $(nproc) CPUs, Linux $(uname -r); dptcp congestion control: $CC; Linux: $(sysctl -n net.ipv4.tcp_congestion_control)"
run_stack dptcp
run_stack linux
/usr/bin/python3 - "$OUT" "${LOSSES[*]}" "${DELAYS[*]}" <<'PYEOF' | tee "$OUT/table.txt"
import json, os, sys
out, losses, delays = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
def g(stack, loss, delay):
    try:
        d = json.load(open(os.path.join(out, "%s-loss%s-delay%s.json" % (stack, loss, delay))))
        return d.get("gbit_s") * 1000.0
    except (OSError, ValueError, TypeError):
        return None
print("%-8s %-9s %14s %14s %8s" % ("loss", "delay", "dptcp Mbit/s", "Linux Mbit/s", "ratio"))
for delay in delays:
    for loss in losses:
        d, l = g("dptcp", loss, delay), g("linux", loss, delay)
        ratio = "%.2fx" % (d / l) if d and l else "-"
        f = lambda v: "-" if v is None else "%.0f" % v
        print("%-8s %-9s %14s %14s %8s" % ("%g %%" % (float(loss) * 100), "%s ms" % delay,
                                           f(d), f(l), ratio))
print("(goodput of one bulk sender; ratio: dptcp / Linux; goal: >= 1 at every loss rate)")
PYEOF
