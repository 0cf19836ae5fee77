#!/bin/bash
# tests/shim/conform/run.sh — the socket conformance run of issue 7.
#
# A private network from tests/interop/lib.sh: namespace NS_DP stands for
# the host (the server role runs there, on the veth's host end) and
# namespace NS_PEER holds the client role, always on the Linux kernel.
# `conform server` and `conform client` run the same fixed script of
# scenarios in step, synchronised over a Unix socket in the temp dir (never
# through the stack under test), and each prints a transcript of what its
# calls returned. "== server ==", the server's transcript, "== client ==",
# the client's must equal expected.txt; a mismatch prints the diff, fails.
#
# Kernel mode (the default; meson test conform_kernel, suite shim): the
# host end has the kernel address SERVER_ADDR (host .1 of the test's /24)
# and `conform server` runs on the kernel like the client.
#
# dptcp-run mode (when issue 7's dptcpd and dptcp-run exist): the same run
# with the server's socket calls served by dptcp, against the SAME
# expected.txt — any difference is a place where the shim does not behave
# as Linux does. For example (dptcpd's flags as tests/shim/shim_lib.sh
# uses them on the issue7-shim branch):
#
#   SERVER_DAEMON='printf "[shim]\nsocket_path = %s\n" "$CONFORM_TMP/d.sock" \
#       >"$CONFORM_TMP/d.ini" && exec build/apps/dptcpd -l 0 --no-huge \
#       -m 1024 --no-pci --file-prefix=$FILE_PREFIX \
#       --vdev=net_af_packet0,iface=$HOST_IFACE \
#       -- --ip $SERVER_ADDR/$PREFIX_LEN --port 9 --config $CONFORM_TMP/d.ini' \
#   SERVER_WAIT_FOR='$CONFORM_TMP/d.sock' \
#   SERVER_PREFIX='env DPTCP_SOCKET=$CONFORM_TMP/d.sock build/apps/dptcp-run' \
#   bash tests/shim/conform/run.sh
#
#   SERVER_DAEMON   optional; run by `bash -c` in the host namespace (it
#                   must end by exec'ing the daemon: that PID is stopped
#                   with SIGTERM at the end). When it is set the kernel gets
#                   no address on the host end (dptcp owns the link, as in
#                   the interop tests), and the run waits until SERVER_ADDR
#                   answers ping from the client's namespace.
#   SERVER_WAIT_FOR optional; a path the run also waits for (the daemon's
#                   socket).
#   SERVER_PREFIX   put in front of the server command, run by `bash -c`
#                   in the host namespace ("build/apps/dptcp-run").
#   SERVER_ADDR     address the server binds: a dotted quad, or a bare
#                   number N for host N of the test's /24 (default 1).
#   CLIENT_ADDR     the client's address, the same two forms (default 2).
# All three strings are expanded by bash with these exported: HOST_NS,
# HOST_IFACE (the veth's host end), SERVER_ADDR, CLIENT_ADDR, PREFIX_LEN,
# FILE_PREFIX (a unique DPDK --file-prefix) and CONFORM_TMP (the run's
# temp dir, removed at the end).
#
# Other knobs: CONFORM (the binary; meson sets it), CONFORM_PORT (first
# port, default 20000), CONFORM_ONLY=NAME (one scenario: no diff, the
# transcripts are printed), CONFORM_OUT=DIR (keep the transcripts),
# UPDATE_EXPECTED=1 (write expected.txt from this run: only from a kernel
# run, after changing the script on purpose), DPT_KEEP=1 (keep the temp
# dir of a failed run).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../../interop/lib.sh
. "$HERE/../../interop/lib.sh"
dpt_init conform
CONFORM=${CONFORM:-$HERE/../../../build/tests/shim/conform/conform}
[[ -x $CONFORM ]] || dpt_fail "conform binary '$CONFORM' is not built (ninja -C build)"
CONFORM=$(readlink -f "$CONFORM")
PORT=${CONFORM_PORT:-20000}
RUN_TIMEOUT=120

dpt_net_up 1500
SUBNET=${DP_IP%.*}
addr_arg() {   # "N" -> host N of the test's /24; a dotted quad as it is
	if [[ $1 =~ ^[0-9]+$ ]]; then echo "$SUBNET.$1"; else echo "$1"; fi
}
SERVER_ADDR=$(addr_arg "${SERVER_ADDR:-1}")
CLIENT_ADDR=$(addr_arg "${CLIENT_ADDR:-2}")
export HOST_NS=$NS_DP HOST_IFACE=$VETH_DP SERVER_ADDR CLIENT_ADDR \
	PREFIX_LEN=$DPT_PREFIX_LEN FILE_PREFIX=$DPT_FILE_PREFIX CONFORM_TMP=$DPT_TMP

# lib.sh gave the client end PEER_IP; the client binds CLIENT_ADDR.
if [[ $CLIENT_ADDR != "$PEER_IP" ]]; then
	ip -n "$NS_PEER" addr add "$CLIENT_ADDR/$DPT_PREFIX_LEN" dev "$VETH_PEER"
fi
if [[ -z ${SERVER_DAEMON:-} ]]; then
	ip -n "$NS_DP" addr add "$SERVER_ADDR/$DPT_PREFIX_LEN" dev "$VETH_DP"
	dpt_log "kernel mode: the server binds $SERVER_ADDR on the host end's kernel"
else
	dpt_log "daemon: $SERVER_DAEMON"
	dpt_bg ip netns exec "$NS_DP" bash -c "$SERVER_DAEMON" \
		>"$DPT_TMP/daemon.log" 2>&1 </dev/null
	daemon_pid=$DPT_BG_PID
	DPT_APP_LOG=$DPT_TMP/daemon.log
	wait_for=
	[[ -n ${SERVER_WAIT_FOR:-} ]] && wait_for=$(eval "printf '%s' \"$SERVER_WAIT_FOR\"")
	for ((i = 0; ; i++)); do
		kill -0 "$daemon_pid" 2>/dev/null || dpt_fail "SERVER_DAEMON exited during start-up"
		if dpt_peer ping -c 1 -W 1 "$SERVER_ADDR" >/dev/null 2>&1 &&
			[[ -z $wait_for || -e $wait_for ]]; then
			break
		fi
		((i < 120)) || dpt_fail "SERVER_DAEMON: no ping answer from $SERVER_ADDR${wait_for:+ or no $wait_for} within 60 s"
		sleep 0.5
	done
	dpt_log "daemon up (pid $daemon_pid), answers ping at $SERVER_ADDR"
fi

CTL=$DPT_TMP/ctl.sock
ONLY=()
[[ -n ${CONFORM_ONLY:-} ]] && ONLY=(--only "$CONFORM_ONLY")
dpt_log "server: ${SERVER_PREFIX:-}${SERVER_PREFIX:+ }conform server --addr $SERVER_ADDR (namespace $NS_DP)"
dpt_log "client: conform client --addr $CLIENT_ADDR (namespace $NS_PEER)"
start=$(date +%s.%N)
dpt_bg ip netns exec "$NS_DP" timeout "$RUN_TIMEOUT" \
	bash -c "exec ${SERVER_PREFIX:-} \"\$@\"" conform-server "$CONFORM" server \
	--addr "$SERVER_ADDR" --peer "$CLIENT_ADDR" --ctl "$CTL" --port "$PORT" "${ONLY[@]}" \
	>"$DPT_TMP/server.txt" 2>"$DPT_TMP/server.err" </dev/null
server_pid=$DPT_BG_PID
client_rc=0
ip netns exec "$NS_PEER" timeout "$RUN_TIMEOUT" "$CONFORM" client \
	--addr "$CLIENT_ADDR" --peer "$SERVER_ADDR" --ctl "$CTL" --port "$PORT" "${ONLY[@]}" \
	>"$DPT_TMP/client.txt" 2>"$DPT_TMP/client.err" </dev/null || client_rc=$?
server_rc=0
wait "$server_pid" || server_rc=$?
end=$(date +%s.%N)
{
	echo "== server =="
	cat "$DPT_TMP/server.txt"
	echo "== client =="
	cat "$DPT_TMP/client.txt"
} >"$DPT_TMP/transcript.txt"
dpt_log "server exit $server_rc, client exit $client_rc; transcript $(wc -l <"$DPT_TMP/transcript.txt") lines; run took $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s (informational)"
if [[ -n ${CONFORM_OUT:-} ]]; then
	mkdir -p "$CONFORM_OUT"
	cp "$DPT_TMP"/{server,client,transcript}.txt "$CONFORM_OUT"/
	cp "$DPT_TMP"/{server,client}.err "$CONFORM_OUT"/ 2>/dev/null || true
fi
for side in server client; do
	if [[ -s $DPT_TMP/$side.err ]]; then
		printf '[conform] ---- %s stderr ----\n' "$side" >&2
		cat "$DPT_TMP/$side.err" >&2
	fi
done

if [[ -n ${CONFORM_ONLY:-} ]]; then
	cat "$DPT_TMP/transcript.txt"
	((server_rc == 0 && client_rc == 0)) || dpt_fail "a role failed (server $server_rc, client $client_rc)"
	exit 0
fi
if [[ -n ${UPDATE_EXPECTED:-} ]]; then
	((server_rc == 0 && client_rc == 0)) || dpt_fail "not updating: a role failed"
	[[ -z ${SERVER_PREFIX:-}${SERVER_DAEMON:-} ]] || dpt_fail "not updating: expected.txt comes from a kernel run"
	cp "$DPT_TMP/transcript.txt" "$HERE/expected.txt"
	dpt_log "wrote $HERE/expected.txt"
	exit 0
fi
if ! diff -u --label expected.txt --label "this run" "$HERE/expected.txt" \
	"$DPT_TMP/transcript.txt" >"$DPT_TMP/diff.txt"; then
	printf '[conform] ---- transcript differs from expected.txt ----\n' >&2
	cat "$DPT_TMP/diff.txt" >&2
	dpt_fail "transcript differs from expected.txt ($(grep -c '^[-+][^-+]' "$DPT_TMP/diff.txt") lines; server exit $server_rc, client exit $client_rc)"
fi
((server_rc == 0 && client_rc == 0)) || dpt_fail "transcript matches but a role failed (server $server_rc, client $client_rc)"
dpt_log "transcript equals expected.txt ($(grep -c '' "$HERE/expected.txt") lines)"
