#!/bin/bash
# perf_tool: dptcp-perf drives dptcp-kecho (Linux, in the peer namespace)
# for ~2 s in each mode — rr, crr (FIN close, then RST close) and bulk —
# and, with two engines (workers = 2), rr and crr again; each run completes
# transactions without a single error and prints one valid JSON object with
# the figures the README promises, the engines' shares adding up. No timing
# or speed is asserted.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
dpt_init perf_tool
: "${DPTCP_PERF:?DPTCP_PERF must name the dptcp-perf binary}"
: "${DPTCP_KECHO:?DPTCP_KECHO must name the dptcp-kecho binary}"
[[ -x $DPTCP_PERF ]] || dpt_fail "dptcp-perf '$DPTCP_PERF' is not built"
[[ -x $DPTCP_KECHO ]] || dpt_fail "dptcp-kecho '$DPTCP_KECHO' is not built"
dpt_need ss
dpt_net_up 1500

PORT=7
# crr closes first and so keeps TIME_WAIT: a short MSL keeps the local
# ports of a fast run from running out (0.4 s of TIME_WAIT instead of 60 s:
# 28232 ephemeral ports last up to 70000 connections/s).
cat >"$DPT_TMP/perf.ini" <<'EOF'
[tcp]
msl_ms = 200
EOF
{ printf '[dataplane]\nworkers = 2\n'; cat "$DPT_TMP/perf.ini"; } >"$DPT_TMP/perf2.ini"

dpt_bg ip netns exec "$NS_PEER" "$DPTCP_KECHO" --port "$PORT" --threads 1
KECHO_PID=$DPT_BG_PID
for ((i = 0; i < 100; i++)); do
	kill -0 "$KECHO_PID" 2>/dev/null || dpt_fail "dptcp-kecho exited"
	[[ -n $(dpt_peer ss -Hltn "sport = :$PORT") ]] && break
	sleep 0.1
done
[[ -n $(dpt_peer ss -Hltn "sport = :$PORT") ]] || dpt_fail "dptcp-kecho does not listen"
dpt_log "dptcp-kecho listening on $PEER_IP:$PORT (pid $KECHO_PID)"

# [ENGINES=N] run_perf NAME PERF-OPTIONS...: one run of dptcp-perf on our
# end of the veth, with N engines (default 1); its JSON in $DPT_TMP/NAME.json,
# its log in $DPT_TMP/NAME.log.
run_perf() {
	local name=$1 engines=${ENGINES:-1} pid rc i ini lcores
	shift
	ini=$DPT_TMP/perf.ini lcores=0
	((engines == 2)) && ini=$DPT_TMP/perf2.ini lcores=0-1
	local -a args=(-l "$lcores" --no-huge -m 1024 --no-pci
		"--file-prefix=$DPT_BASE_PREFIX-perf"
		"--vdev=net_af_packet0,iface=$VETH_DP"
		--log-level=lib.eal:notice
		-- --ip "$DP_IP/$DPT_PREFIX_LEN" --config "$ini"
		--server "$PEER_IP:$PORT" --conns 4 --duration 2 --warmup 0.5
		--json "$@")
	dpt_log "run: $(basename "$DPTCP_PERF") ${args[*]}"
	DPT_APP_LOG="$DPT_TMP/$name.log"
	ip netns exec "$NS_DP" "$DPTCP_PERF" "${args[@]}" </dev/null \
		>"$DPT_TMP/$name.json" 2>"$DPT_APP_LOG" &
	pid=$!
	DPT_PIDS+=("$pid")
	# Hang protection only: the run itself takes ~3 s plus EAL start-up.
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && dpt_fail "$name: dptcp-perf still running after 60 s"
	rc=0
	wait "$pid" || rc=$?
	((rc == 0)) || { dpt_app_log_tail; cat "$DPT_TMP/$name.json" >&2; dpt_fail "$name: dptcp-perf exited $rc"; }
	"$DPT_PY" - "$DPT_TMP/$name.json" "$engines" "$@" <<'PYEOF' || dpt_fail "$name: bad report"
import json, sys
path, engines, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
mode = argv[argv.index("--mode") + 1]
text = open(path).read()
d = json.loads(text)          # exactly one JSON object, nothing else
def check(cond, what):
    if not cond:
        print("FAIL: %s\n%s" % (what, text[:2000]), file=sys.stderr)
        sys.exit(1)
for k in ("mode", "conns", "engines", "duration_s", "transactions",
          "gbit_s", "latency_us", "errors", "hist"):
    check(k in d, "no key %r" % k)
check(d["mode"] == mode, "mode %r" % d["mode"])
check(d["conns"] == 4 and d["engines"] == engines, "conns/engines")
check(d["duration_s"] > 0, "duration_s %r" % d["duration_s"])
check(d["transactions"] > 0, "no transaction completed")
check(d["errors"] == 0, "errors: %r" % d.get("error_detail"))
check(d["bytes_tx"] > 0 and d["bytes_rx"] > 0, "no bytes moved")
check(("cps" if mode == "crr" else "tps") in d, "rate key")
check(len(d["per_engine"]) == d["engines"] and
      sum(e["transactions"] for e in d["per_engine"]) == d["transactions"],
      "per_engine does not add up")
lat = d["latency_us"]
for k in ("p50", "p90", "p99", "p999", "max", "mean"):
    check(k in lat, "latency_us has no %r" % k)
if mode == "bulk":
    check(d["hist"] == [], "bulk has no latency histogram")
else:
    check(isinstance(d["hist"], list) and d["hist"], "empty histogram")
    check(sum(c for _, c in d["hist"]) == d["transactions"],
          "histogram counts != transactions")
    bounds = [b for b, _ in d["hist"]]
    check(bounds == sorted(bounds), "histogram not sorted")
    check(0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"],
          "percentiles out of order: %r" % lat)
print("  %s on %d engine(s): %d transactions (%s), errors %d, p50 %.1f us, %.3f Gbit/s" %
      (mode, engines, d["transactions"],
       "+".join(str(e["transactions"]) for e in d["per_engine"]),
       d["errors"], lat["p50"], d["gbit_s"]))
PYEOF
}

run_perf rr --mode rr
run_perf crr_fin --mode crr
run_perf crr_rst --mode crr --close rst
run_perf bulk --mode bulk
if (($(nproc) >= 2)); then
	ENGINES=2 run_perf rr_2engines --mode rr
	ENGINES=2 run_perf crr_2engines --mode crr
else
	dpt_log "one CPU: the two-engine runs are left out"
fi
DPT_APP_LOG=
