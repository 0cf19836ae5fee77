# tests/interop/impair_lib.sh — the impairment bridge in the middle of
# lib.sh's network. Sourced after lib.sh, not run.
# shellcheck shell=bash
#
#   NS_DP                      NS_MID                         NS_PEER
#   VETH_DP <--veth--> VETH_MA [dptcp-impair] VETH_MB <--veth--> VETH_PEER
#   dptcp (no IP), or          -a VETH_MA -b VETH_MB          Linux, PEER_IP/24
#   Linux DP_IP (baseline)     no IPs, no IPv6
#
# Direction "ab" of the bridge carries NS_DP -> NS_PEER, "ba" the replies.
# Everything else of lib.sh works unchanged (dpt_start_app, dpt_peer,
# dpt_py...): the names are its own (dpti-PID-*), and the extra namespace
# NS_MID, which lib.sh's dpt_cleanup does not know, is deleted by
# dpt_impair_cleanup, which then chains to dpt_cleanup.
#
# Usage in a test:
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/impair_lib.sh"
#   dpt_impair_init my_test          # dpt_init + NS_MID + the chained trap
#   dpt_impair_net_up [MTU]          # dptcp <-> bridge <-> Linux
#   dpt_impair_net_up_linux [MTU]    # or Linux (DP_IP) <-> bridge <-> Linux
#   dpt_impair_start --dir ab --loss 0.02 --seed 1   # dptcp-impair options
#   ... dpt_start_app / traffic ...
#   dpt_impair_stop                  # SIGTERM: counters, JSON, exit 0 checked
#   dpt_impair_stat ab lost          # a counter of the last run
# The bridge binary is $DPTCP_IMPAIR (tests/interop/meson.build sets it).

DPT_IMPAIR_PID=
DPT_IMPAIR_LOG=
DPT_IMPAIR_JSON=
DPT_IMPAIR_RUNS=0

dpt_impair_init() {
	dpt_init "$1"
	NS_MID="dpti-$$-mid"
	# dpt_init trapped EXIT with dpt_cleanup; ours runs first and chains.
	trap dpt_impair_cleanup EXIT
	dpt_impair_reap_stale
	: "${DPTCP_IMPAIR:?DPTCP_IMPAIR must name the dptcp-impair binary}"
	[[ -x $DPTCP_IMPAIR ]] || dpt_fail "dptcp-impair '$DPTCP_IMPAIR' is not built"
}

# lib.sh's dpt_reap_stale knows only -dp and -peer: middle namespaces of
# runs killed with SIGKILL are reaped here, again only when the PID is gone.
dpt_impair_reap_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^dpti-([0-9]+)-mid$ ]] || continue
		pid=${BASH_REMATCH[1]}
		[[ $pid == "$$" ]] && continue
		kill -0 "$pid" 2>/dev/null && continue
		ip netns del "$ns" 2>/dev/null || true
	done
}

# Set $? for the next function call (dpt_cleanup reads its exit status so).
_dpt_impair_status() { return "$1"; }

dpt_impair_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if [[ -n $DPT_IMPAIR_PID ]]; then
		dpt_kill_pid "$DPT_IMPAIR_PID"
		_dpt_impair_forget "$DPT_IMPAIR_PID"
		DPT_IMPAIR_PID=
		if ((rc != 0 && rc != 130)) && [[ -f $DPT_IMPAIR_LOG ]]; then
			printf '[%s] ---- dptcp-impair log (%s) ----\n' "$DPT_NAME" "$DPT_IMPAIR_LOG" >&2
			tail -n 20 "$DPT_IMPAIR_LOG" >&2
			printf '[%s] ----\n' "$DPT_NAME" >&2
		fi
	fi
	[[ -n ${NS_MID:-} ]] && ip netns del "$NS_MID" 2>/dev/null
	_dpt_impair_status "$rc"
	dpt_cleanup
}

# Drop PID from DPT_PIDS once we have reaped it (the number may be reused).
_dpt_impair_forget() {
	local p keep=()
	for p in "${DPT_PIDS[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	DPT_PIDS=("${keep[@]}")
}

dpt_impair_dp()  { ip netns exec "$NS_DP" "$@"; }
dpt_impair_mid() { ip netns exec "$NS_MID" "$@"; }

# _dpt_impair_net MTU dptcp|linux: the three namespaces and two veth pairs.
_dpt_impair_net() {
	local mtu=$1 mode=$2 ns
	dpt_link_names 0
	VETH_MA="dpti$$a0"
	VETH_MB="dpti$$b0"
	for ns in "$NS_DP" "$NS_MID" "$NS_PEER"; do
		ip netns add "$ns"
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.forwarding=0
		ip -n "$ns" link set lo up
	done
	# shellcheck disable=SC2034 # lib.sh's count (dpt_net_up, dpt_start_app)
	DPT_LINKS=1
	# Each pair is created in one namespace with its peer end straight in
	# the other: nothing ever appears in the root namespace.
	ip -n "$NS_DP" link add "$VETH_DP" mtu "$mtu" type veth \
		peer name "$VETH_MA" mtu "$mtu" netns "$NS_MID"
	ip -n "$NS_MID" link add "$VETH_MB" mtu "$mtu" type veth \
		peer name "$VETH_PEER" mtu "$mtu" netns "$NS_PEER"
	# Only the ends of the path have addresses (the bridge is L2).
	[[ $mode == linux ]] && ip -n "$NS_DP" addr add "$DP_IP/$DPT_PREFIX_LEN" dev "$VETH_DP"
	ip -n "$NS_PEER" addr add "$PEER_IP/$DPT_PREFIX_LEN" dev "$VETH_PEER"
	# Full checksums and frames no larger than the MTU on every end: the
	# bridge corrupts and forwards what a NIC would put on the wire.
	ip netns exec "$NS_DP" ethtool -K "$VETH_DP" tx off tso off gso off gro off >/dev/null
	ip netns exec "$NS_MID" ethtool -K "$VETH_MA" tx off tso off gso off gro off >/dev/null
	ip netns exec "$NS_MID" ethtool -K "$VETH_MB" tx off tso off gso off gro off >/dev/null
	ip netns exec "$NS_PEER" ethtool -K "$VETH_PEER" tx off tso off gso off gro off >/dev/null
	ip -n "$NS_DP" link set "$VETH_DP" up
	ip -n "$NS_MID" link set "$VETH_MA" up
	ip -n "$NS_MID" link set "$VETH_MB" up
	ip -n "$NS_PEER" link set "$VETH_PEER" up
	if [[ $mode == linux ]]; then
		dpt_log "net: $NS_DP/$VETH_DP $DP_IP (Linux) <-> $NS_MID/$VETH_MA|$VETH_MB (bridge) <-> $NS_PEER/$VETH_PEER $PEER_IP, mtu $mtu"
	else
		dpt_log "net: $NS_DP/$VETH_DP (dptcp $DP_IP) <-> $NS_MID/$VETH_MA|$VETH_MB (bridge) <-> $NS_PEER/$VETH_PEER $PEER_IP, mtu $mtu"
	fi
}

# dpt_impair_net_up [MTU]: dptcp's end (no IP; dpt_start_app drives it).
dpt_impair_net_up() { _dpt_impair_net "${1:-1500}" dptcp; }

# dpt_impair_net_up_linux [MTU]: the baseline; NS_DP's kernel owns DP_IP.
dpt_impair_net_up_linux() { _dpt_impair_net "${1:-1500}" linux; }

# dpt_impair_start OPTIONS...: start the bridge in NS_MID (one at a time)
# and wait until its sockets are bound. Sets DPT_IMPAIR_PID, DPT_IMPAIR_LOG
# and DPT_IMPAIR_JSON (written when it stops).
dpt_impair_start() {
	local i
	[[ -z $DPT_IMPAIR_PID ]] || dpt_fail "dptcp-impair already runs (pid $DPT_IMPAIR_PID)"
	DPT_IMPAIR_RUNS=$((DPT_IMPAIR_RUNS + 1))
	DPT_IMPAIR_LOG="$DPT_TMP/impair-$DPT_IMPAIR_RUNS.log"
	DPT_IMPAIR_JSON="$DPT_TMP/impair-$DPT_IMPAIR_RUNS.json"
	local -a args=(-a "$VETH_MA" -b "$VETH_MB" --stats-json "$DPT_IMPAIR_JSON" "$@")
	dpt_log "bridge: $(basename "$DPTCP_IMPAIR") ${args[*]}"
	# `ip netns exec` execs the bridge: $! is the bridge's own PID.
	ip netns exec "$NS_MID" "$DPTCP_IMPAIR" "${args[@]}" </dev/null >"$DPT_IMPAIR_LOG" 2>&1 &
	DPT_IMPAIR_PID=$!
	DPT_PIDS+=("$DPT_IMPAIR_PID")
	# Hang protection only.
	for ((i = 0; i < 200; i++)); do
		grep -qs '^dptcp-impair: ready$' "$DPT_IMPAIR_LOG" && break
		if ! kill -0 "$DPT_IMPAIR_PID" 2>/dev/null; then
			cat "$DPT_IMPAIR_LOG" >&2
			DPT_IMPAIR_PID=
			dpt_fail "dptcp-impair exited during start-up"
		fi
		sleep 0.05
	done
	grep -qs '^dptcp-impair: ready$' "$DPT_IMPAIR_LOG" || dpt_fail "dptcp-impair not ready within 10 s"
	sed 's/^/  /' "$DPT_IMPAIR_LOG"
}

# dpt_impair_stop: SIGTERM; the bridge must exit 0, print its counters and
# write DPT_IMPAIR_JSON.
dpt_impair_stop() {
	local pid=$DPT_IMPAIR_PID rc=0 i
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		_dpt_impair_forget "$pid"
		DPT_IMPAIR_PID=
		dpt_fail "dptcp-impair ignored SIGTERM for 10 s"
	fi
	wait "$pid" || rc=$?
	_dpt_impair_forget "$pid"
	DPT_IMPAIR_PID=
	grep -E '^dptcp-impair: (ab|ba): rx ' "$DPT_IMPAIR_LOG" | sed 's/^/  /'
	((rc == 0)) || dpt_fail "dptcp-impair exited $rc on SIGTERM (expected 0)"
	[[ -s $DPT_IMPAIR_JSON ]] || dpt_fail "dptcp-impair wrote no $DPT_IMPAIR_JSON"
}

# dpt_impair_stat DIR COUNTER [JSON]: one counter of a stopped bridge.
dpt_impair_stat() {
	"$DPT_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' \
		"${3:-$DPT_IMPAIR_JSON}" "$1" "$2"
}
