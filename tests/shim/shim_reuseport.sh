#!/bin/bash
# shim_reuseport: two Python programs under dptcp-run bind and listen on
# one port with SO_REUSEPORT (dptcpd's port table and the engines' shared
# listener); connections from the namespace are spread over both by the
# flow hash, as Linux does (32 connections: each program must get some);
# a third program without SO_REUSEPORT gets EADDRINUSE from bind().
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=shim_lib.sh
. "$(dirname "$0")/shim_lib.sh"
shim_init shim_reuseport
dpt_net_up 1500
shim_start_dptcpd "[tcp]\nmsl_ms = 500"
pids=()
for name in A B; do
	shim_bg "$DPT_PY" -u "$SHIM_DIR/reuseport_server.py" "$name" 7420 \
		"$DPT_TMP/ready.$name" reuseport >"$DPT_TMP/server.$name.log" 2>&1
	pids+=("$SHIM_BG_PID")
	shim_wait_file "$DPT_TMP/ready.$name" "reuseport_server.py $name"
done
dpt_log "programs A and B (pids ${pids[*]}) listen on port 7420 with SO_REUSEPORT"
out=$(shim_run "$DPT_PY" -u "$SHIM_DIR/reuseport_server.py" C 7420 "$DPT_TMP/ready.C" plain)
dpt_log "program C without SO_REUSEPORT: $out"
[[ $out == "bind: EADDRINUSE" ]] || dpt_fail "program C: expected 'bind: EADDRINUSE', got '$out'"
if ! dpt_py "$SHIM_DIR/reuseport_client.py" "$DP_IP" 7420 32 >"$DPT_TMP/client.out" 2>&1; then
	cat "$DPT_TMP/client.out" >&2
	dpt_fail "the client failed; servers: $(cat "$DPT_TMP"/server.*.log)"
fi
while read -r line; do dpt_log "$line"; done <"$DPT_TMP/client.out"
for pid in "${pids[@]}"; do
	dpt_kill_pid "$pid"
done
shim_check_clean violations
