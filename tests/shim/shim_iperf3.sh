#!/bin/bash
# shim_iperf3: Debian's iperf3 -s (select loop, a control and a data
# connection per test) under dptcp-run on dptcp's address; iperf3 -c from
# the peer namespace, Linux sending (normal) and then dptcp sending (-R),
# a few seconds each: both JSON reports show bytes > 0 and no error, and
# the server goes on to serve the second test. Afterwards dptcpd holds no
# connection and no slot, no violation.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=shim_lib.sh
. "$(dirname "$0")/shim_lib.sh"
shim_init shim_iperf3
dpt_need iperf3
dpt_net_up 1500
shim_start_dptcpd "[tcp]\nmsl_ms = 1000"   # the server closes some connections first: short TIME_WAIT
SECS=${SHIM_IPERF3_SECS:-3}

shim_bg iperf3 -s -B "$DP_IP" -p 5201 --forceflush >"$DPT_TMP/iperf3-s.log" 2>&1
shim_wait_log "$DPT_TMP/iperf3-s.log" "Server listening" "iperf3 -s"
dpt_log "iperf3 -s under dptcp-run on $DP_IP:5201"

# check_json FILE WHAT: no "error", sent and received bytes > 0.
check_json() {
	"$DPT_PY" - "$1" "$2" <<-'PY'
	import json, sys
	from dptlib import check, log, main_guard
	def run():
	    with open(sys.argv[1]) as f:
	        r = json.load(f)
	    check("error" not in r, "%s: iperf3 error: %s" % (sys.argv[2], r.get("error")))
	    s = r["end"]["sum_sent"]
	    d = r["end"]["sum_received"]
	    check(s["bytes"] > 0 and d["bytes"] > 0,
	          "%s: bytes sent %d, received %d" % (sys.argv[2], s["bytes"], d["bytes"]))
	    log("%s: %d bytes sent, %d received, %.0f Mbit/s (receiver)" %
	        (sys.argv[2], s["bytes"], d["bytes"], d["bits_per_second"] / 1e6))
	main_guard(run)
	PY
}

dpt_peer timeout $((SECS + 60)) iperf3 -c "$DP_IP" -p 5201 -t "$SECS" -J \
	>"$DPT_TMP/fwd.json" 2>&1 || dpt_fail "iperf3 -c failed: $(tail -5 "$DPT_TMP/fwd.json")"
check_json "$DPT_TMP/fwd.json" "Linux -> dptcp"
dpt_peer timeout $((SECS + 60)) iperf3 -c "$DP_IP" -p 5201 -t "$SECS" -J -R \
	>"$DPT_TMP/rev.json" 2>&1 || dpt_fail "iperf3 -c -R failed: $(tail -5 "$DPT_TMP/rev.json")"
check_json "$DPT_TMP/rev.json" "dptcp -> Linux (-R)"
kill -0 "$SHIM_BG_PID" 2>/dev/null || dpt_fail "iperf3 -s exited: $(tail -5 "$DPT_TMP/iperf3-s.log")"

dpt_kill_pid "$SHIM_BG_PID"
shim_check_clean
