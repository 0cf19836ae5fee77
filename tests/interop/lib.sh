# tests/interop/lib.sh — plumbing shared by the interop tests and the demo.
# shellcheck shell=bash
# Sourced, not run. It builds a private little network, starts a dptcp app
# on it, and tears everything down on exit, whatever happened:
#
#   namespace NS_DP    (dptcp's side)          namespace NS_PEER (Linux side)
#   VETH_DP  <------------- veth pair ------------->  VETH_PEER  PEER_IP/24
#   driven by dptcp through net_af_packet           the kernel TCP stack
#
# Both ends live in namespaces this script creates, so no test frame ever
# reaches the root namespace (and never eth0). Names carry our PID (unique
# per run), the subnet is derived from the test name (readable, and unique
# per test even though the namespaces would isolate equal subnets anyway).
#
# Usage in a test:
#   . "$(dirname "$0")/lib.sh"
#   dpt_init my_test            # traps, names, temp dir
#   dpt_net_up [MTU]            # namespaces + veth, offloads off
#   dpt_start_app "$DPTCP_ECHO" 7 [CONFIG_FILE]
#   dpt_peer CMD...             # run CMD in the peer namespace
#   dpt_py SCRIPT ARGS...       # /usr/bin/python3 in the peer namespace
#   dpt_tel CMD                 # telemetry reply (JSON) of the app

# /usr/bin/python3 is Debian's (scapy and friends); `python3` on the PATH
# may be another interpreter without Debian's modules.
DPT_PY=/usr/bin/python3
DPT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONPATH="$DPT_LIB_DIR${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1

DPT_NAME=${DPT_NAME:-interop}
DPT_PIDS=()        # every process we started, killed by PID in cleanup
DPT_APP_PID=
DPT_APP_LOG=
DPT_LINKS=0

dpt_log()  { printf '[%s] %s\n' "$DPT_NAME" "$*"; }
dpt_fail() { printf '[%s] FAIL: %s\n' "$DPT_NAME" "$*" >&2; exit 1; }
# Exit 77 = SKIP for meson; .ci/run counts a skip as a failure, so say why.
dpt_skip() { printf '[%s] SKIP (counted as failure): %s\n' "$DPT_NAME" "$*" >&2; exit 77; }

dpt_need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || [[ -x $t ]] ||
			dpt_skip "required tool '$t' is not installed (./dptcp.sh installs it)"
	done
}

# Namespaces left behind by an interop run that was killed with SIGKILL
# (no trap ran): only our own pattern, and only when that PID is gone.
dpt_reap_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^dpti-([0-9]+)-(dp|peer)$ ]] || continue
		pid=${BASH_REMATCH[1]}
		[[ $pid == "$$" ]] && continue
		kill -0 "$pid" 2>/dev/null && continue
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "/var/run/dpdk/dpti-$pid-"* 2>/dev/null || true
	done
}

dpt_init() {
	DPT_NAME=$1
	[[ $(id -u) == 0 ]] || dpt_skip "needs root (network namespaces, af_packet)"
	dpt_need ip ethtool ping "$DPT_PY"
	local h
	h=$(printf '%s' "$DPT_NAME" | cksum | cut -d' ' -f1)
	DPT_NET_A=$((100 + h % 100))
	DPT_NET_B=$(((h / 100) % 200))
	NS_DP="dpti-$$-dp"
	NS_PEER="dpti-$$-peer"
	DPT_BASE_PREFIX="dpti-$$-$DPT_NAME"
	DPT_TMP=$(mktemp -d "/tmp/dpti-$DPT_NAME.XXXXXX")
	trap dpt_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	dpt_reap_stale
	dpt_link_names 0
}

# Names and addresses of link K (0 for tests; the demo uses 0 and 1).
dpt_link_names() {
	local k=$1
	VETH_DP="dpti$$d$k"
	VETH_PEER="dpti$$p$k"
	DP_IP="10.$DPT_NET_A.$((DPT_NET_B + k)).1"
	PEER_IP="10.$DPT_NET_A.$((DPT_NET_B + k)).2"
	DPT_PREFIX_LEN=24
	DPT_FILE_PREFIX="$DPT_BASE_PREFIX-$k"   # --file-prefix of the app on link K
}

dpt_peer() { ip netns exec "$NS_PEER" "$@"; }
dpt_py()   { ip netns exec "$NS_PEER" "$DPT_PY" "$@"; }
dpt_tel()  { "$DPT_PY" "$DPT_LIB_DIR/dptlib.py" tel "$DPT_FILE_PREFIX" "$1"; }

# dpt_net_up [MTU] [K]: namespaces (first call) and veth pair K, with both
# namespaces quiet: no IPv6 (router solicitations, MLD), no forwarding.
dpt_net_up() {
	local mtu=${1:-1500} k=${2:-0} ns
	dpt_link_names "$k"
	if ((DPT_LINKS == 0)); then
		ip netns add "$NS_DP"
		ip netns add "$NS_PEER"
		for ns in "$NS_DP" "$NS_PEER"; do
			ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
			ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
			ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.forwarding=0
			ip -n "$ns" link set lo up
		done
	fi
	DPT_LINKS=$((DPT_LINKS + 1))
	# Created inside NS_DP with its peer end straight in NS_PEER: nothing
	# ever appears in the root namespace.
	ip -n "$NS_DP" link add "$VETH_DP" mtu "$mtu" type veth \
		peer name "$VETH_PEER" mtu "$mtu" netns "$NS_PEER"
	# The kernel on dptcp's end must not answer for anything: no address.
	ip -n "$NS_DP" link set "$VETH_DP" up
	ip -n "$NS_PEER" addr add "$PEER_IP/$DPT_PREFIX_LEN" dev "$VETH_PEER"
	ip -n "$NS_PEER" link set "$VETH_PEER" up
	# veth hands partial checksums and GSO super-frames to af_packet
	# otherwise; dptcp must see what a NIC would put on the wire.
	ip netns exec "$NS_PEER" ethtool -K "$VETH_PEER" tx off tso off gso off gro off >/dev/null
	ip netns exec "$NS_DP" ethtool -K "$VETH_DP" tx off tso off gso off gro off >/dev/null 2>&1 || true
	dpt_log "net: $NS_PEER/$VETH_PEER $PEER_IP <-> $NS_DP/$VETH_DP (dptcp $DP_IP), mtu $mtu"
}

# dpt_start_app APP PORT [CONFIG] [LCORES]: start APP on link 0 (or the link
# named last by dpt_net_up/dpt_link_names) and wait until it answers ping.
# LCORES is the EAL -l list ("0-1": two workers by default). DPT_VDEV_EXTRA
# is appended to the net_af_packet arguments (",qpairs=2").
# Sets DPT_APP_PID and DPT_APP_LOG.
dpt_start_app() {
	local app=$1 port=$2 config=${3:-} lcore=${4:-0} i
	[[ -x $app ]] || dpt_fail "app '$app' is not built"
	DPT_APP_LOG="$DPT_TMP/$(basename "$app")-$DPT_LINKS.log"
	local -a args=(-l "$lcore" --no-huge -m 1024 --no-pci
		"--file-prefix=$DPT_FILE_PREFIX"
		"--vdev=net_af_packet0,iface=$VETH_DP${DPT_VDEV_EXTRA:-}"
		--log-level=lib.eal:notice
		-- --ip "$DP_IP/$DPT_PREFIX_LEN" --port "$port")
	[[ -n $config ]] && args+=(--config "$config")
	dpt_log "start: $app ${args[*]}"
	# `ip netns exec` execs the app: $! is the app's own PID.
	ip netns exec "$NS_DP" "$app" "${args[@]}" </dev/null >"$DPT_APP_LOG" 2>&1 &
	DPT_APP_PID=$!
	DPT_PIDS+=("$DPT_APP_PID")
	# Hang protection only (EAL start-up and ARP): up to 60 s.
	for ((i = 0; i < 120; i++)); do
		if ! kill -0 "$DPT_APP_PID" 2>/dev/null; then
			dpt_app_log_tail
			dpt_fail "$(basename "$app") exited during start-up"
		fi
		if [[ -S /var/run/dpdk/$DPT_FILE_PREFIX/dpdk_telemetry.v2 ]] &&
			dpt_peer ping -c 1 -W 1 "$DP_IP" >/dev/null 2>&1; then
			dpt_log "app up: pid $DPT_APP_PID, answers ping at $DP_IP, telemetry prefix $DPT_FILE_PREFIX"
			return 0
		fi
		sleep 0.5
	done
	dpt_app_log_tail
	dpt_fail "$(basename "$app") did not answer ping at $DP_IP within 60 s"
}

# Stop the app started last (SIGTERM, then SIGKILL after 10 s).
dpt_stop_app() {
	[[ -n $DPT_APP_PID ]] || return 0
	dpt_kill_pid "$DPT_APP_PID"
	DPT_APP_PID=
}

dpt_kill_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}

# Start a background helper (tcpdump...) that cleanup must kill.
dpt_bg() {
	"$@" &
	DPT_PIDS+=("$!")
	# shellcheck disable=SC2034 # read by the caller
	DPT_BG_PID=$!
}

dpt_app_log_tail() {
	[[ -n $DPT_APP_LOG && -f $DPT_APP_LOG ]] || return 0
	printf '[%s] ---- last lines of %s ----\n' "$DPT_NAME" "$DPT_APP_LOG" >&2
	tail -n 40 "$DPT_APP_LOG" >&2
	printf '[%s] ----\n' "$DPT_NAME" >&2
}

# On failure: what dptcp says about itself while it still runs.
dpt_app_diag() {
	[[ -n $DPT_APP_PID ]] && kill -0 "$DPT_APP_PID" 2>/dev/null || return 0
	printf '[%s] ---- dptcp telemetry at failure (non-zero values) ----\n' "$DPT_NAME" >&2
	timeout 20 "$DPT_PY" "$DPT_LIB_DIR/dptlib.py" diag "$DPT_FILE_PREFIX" >&2 || true
	# Frames on the wire, to tell loss on the link from loss inside dptcp.
	ip -n "$NS_PEER" -s link show "$VETH_PEER" 2>/dev/null | sed 's/^/  linux end: /' >&2 || true
	ip -n "$NS_DP" -s link show "$VETH_DP" 2>/dev/null | sed 's/^/  dptcp end: /' >&2 || true
	printf '[%s] ----\n' "$DPT_NAME" >&2
}

dpt_cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	set +e
	# Diagnostics on failure and on SIGTERM (meson's timeout), not on Ctrl-C.
	if ((rc != 0 && rc != 130)); then
		dpt_app_log_tail
		dpt_app_diag
	fi
	for pid in "${DPT_PIDS[@]}"; do
		dpt_kill_pid "$pid"
	done
	[[ -n ${NS_PEER:-} ]] && ip netns del "$NS_PEER" 2>/dev/null
	[[ -n ${NS_DP:-} ]] && ip netns del "$NS_DP" 2>/dev/null
	[[ -n ${DPT_BASE_PREFIX:-} ]] && rm -rf "/var/run/dpdk/$DPT_BASE_PREFIX-"*
	if [[ -n ${DPT_TMP:-} && -d $DPT_TMP ]]; then
		if ((rc != 0)) && [[ -n ${DPT_KEEP:-} ]]; then
			dpt_log "kept $DPT_TMP for inspection"
		else
			rm -rf "$DPT_TMP"
		fi
	fi
	if ((rc == 0)); then
		dpt_log "${DPT_DONE_MSG:-PASS}"
	elif ((rc == 130)); then
		dpt_log "interrupted; apps stopped, namespaces deleted"
	elif ((rc != 77)); then
		dpt_log "FAILED (exit $rc)"
	fi
	exit "$rc"
}
