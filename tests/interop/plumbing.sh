#!/bin/bash
# plumbing: lib.sh itself, without dptcp. The namespaces and veth come up
# with offloads off and the MTU asked for, the two ends reach each other
# (a temporary kernel address on dptcp's end stands in for dptcp), and the
# trap removes everything when the script ends normally, fails, or gets
# SIGTERM — including a background process it started.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
dpt_init plumbing

# One child run per way of ending; each prints its names, then ends.
child() {
	local how=$1
	DPT_LIB="$DPT_LIB_DIR/lib.sh" HOW=$how bash -c '
		set -euo pipefail
		. "$DPT_LIB"
		dpt_init "plumbing_$HOW"
		dpt_net_up 1400
		dpt_bg sleep 600
		echo "NAMES $NS_DP $NS_PEER $DPT_TMP $DPT_BG_PID"
		ip -n "$NS_DP" addr add "$DP_IP/24" dev "$VETH_DP"
		ip netns exec "$NS_PEER" ping -c 2 -W 5 "$DP_IP" >/dev/null
		ip netns exec "$NS_DP" ping -c 2 -W 5 "$PEER_IP" >/dev/null
		for ns in "$NS_DP" "$NS_PEER"; do
			[[ $(ip -n "$ns" link show | grep -c "mtu 1400") == 1 ]]
		done
		off=$(ip netns exec "$NS_PEER" ethtool -k "$VETH_PEER")
		grep -q "^tx-checksumming: off" <<<"$off"
		grep -q "^generic-segmentation-offload: off" <<<"$off"
		grep -q "^generic-receive-offload: off" <<<"$off"
		echo "CHECKS OK"
		case $HOW in
		ok) exit 0 ;;
		fail) dpt_fail "deliberate failure" ;;
		term) kill -TERM $$; sleep 30 ;;
		esac
	' 2>&1
}

for how in ok fail term; do
	set +e
	out=$(child "$how")
	rc=$?
	set -e
	sed "s/^/  [$how] /" <<<"$out"
	grep -q "CHECKS OK" <<<"$out" || dpt_fail "$how: setup checks did not pass"
	case $how in
	ok) ((rc == 0)) || dpt_fail "ok: exit $rc" ;;
	fail) ((rc == 1)) || dpt_fail "fail: exit $rc, expected 1" ;;
	term) ((rc == 143)) || dpt_fail "term: exit $rc, expected 143" ;;
	esac
	read -r _ ns_dp ns_peer tmp bgpid < <(grep '^NAMES ' <<<"$out")
	for ns in "$ns_dp" "$ns_peer"; do
		! ip netns list | grep -qw "$ns" || dpt_fail "$how: namespace $ns left behind"
	done
	[[ ! -e $tmp ]] || dpt_fail "$how: temp dir $tmp left behind"
	! kill -0 "$bgpid" 2>/dev/null || dpt_fail "$how: background pid $bgpid still running"
	dpt_log "$how: exit $rc, namespaces, temp dir and background process gone"
done
