#!/bin/bash
# shim_exec: a Python server under dptcp-run that execs itself
# (exec_server.py): a failed exec changes nothing; after the exec the new
# image keeps serving the inherited dptcp listener and connection, and the
# close-on-exec connection's peer sees its FIN. dptcpd holds no slot and
# counted no violation at the end.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=shim_lib.sh
. "$(dirname "$0")/shim_lib.sh"
shim_init shim_exec
dpt_net_up 1500
shim_start_dptcpd "[tcp]\nmsl_ms = 500"
shim_bg "$DPT_PY" -u "$SHIM_DIR/exec_server.py" 7410 "$DPT_TMP/ready" >"$DPT_TMP/server.log" 2>&1
server=$SHIM_BG_PID
shim_wait_file "$DPT_TMP/ready" "exec_server.py"
dpt_log "exec_server.py under dptcp-run listens on port 7410 (pid $server)"
if ! dpt_py "$SHIM_DIR/exec_client.py" "$DP_IP" 7410 >"$DPT_TMP/client.out" 2>&1; then
	cat "$DPT_TMP/client.out" >&2
	dpt_fail "the client failed; server log: $(cat "$DPT_TMP/server.log")"
fi
while read -r line; do dpt_log "$line"; done <"$DPT_TMP/client.out"
rc=0
wait "$server" || rc=$?
[[ $rc == 0 ]] || dpt_fail "exec_server.py exited $rc: $(cat "$DPT_TMP/server.log")"
while read -r line; do dpt_log "server: $line"; done <"$DPT_TMP/server.log"
shim_check_clean
