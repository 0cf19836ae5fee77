#!/bin/bash
# shim_fork: a forking Python server under dptcp-run (fork_server.py):
# children inherit dptcp sockets. A child serves a connection the parent
# accepted and closed; two workers accept on the inherited listener; a
# worker killed by SIGKILL takes none of the parent's sockets with it (the
# parent's connection and the listener go on); the parent accepts again
# after its workers are gone. dptcpd holds no slot and counted no
# violation at the end.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=shim_lib.sh
. "$(dirname "$0")/shim_lib.sh"
shim_init shim_fork
dpt_net_up 1500
shim_start_dptcpd "[tcp]\nmsl_ms = 500"
shim_bg "$DPT_PY" -u "$SHIM_DIR/fork_server.py" 7400 "$DPT_TMP/ready" >"$DPT_TMP/server.log" 2>&1
server=$SHIM_BG_PID
shim_wait_file "$DPT_TMP/ready.listen" "fork_server.py"
dpt_log "fork_server.py under dptcp-run listens on port 7400 (pid $server)"
if ! dpt_py "$SHIM_DIR/fork_client.py" "$DP_IP" 7400 "$DPT_TMP/ready" >"$DPT_TMP/client.out" 2>&1; then
	cat "$DPT_TMP/client.out" >&2
	dpt_fail "the client failed; server log: $(cat "$DPT_TMP/server.log")"
fi
while read -r line; do dpt_log "$line"; done <"$DPT_TMP/client.out"
rc=0
wait "$server" || rc=$?
[[ $rc == 0 ]] || dpt_fail "fork_server.py exited $rc: $(cat "$DPT_TMP/server.log")"
dpt_log "fork_server.py exited 0"
shim_check_clean
