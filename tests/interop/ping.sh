#!/bin/bash
# ping: dptcp answers ARP and ICMP echo; `ping -c 3` from the Linux
# namespace gets 3 replies, and the kernel learned dptcp's MAC.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
dpt_init ping
: "${DPTCP_ECHO:?DPTCP_ECHO must name the dptcp-echo binary}"
dpt_net_up 1500
dpt_start_app "$DPTCP_ECHO" 7

out=$(dpt_peer ping -c 3 -W 5 -s 200 "$DP_IP") || { echo "$out"; dpt_fail "ping failed"; }
echo "$out"
grep -q '3 packets transmitted, 3 received' <<<"$out" || dpt_fail "expected 3 replies"
# Replies must carry our request's payload size: 200 + 8 bytes of ICMP.
[[ $(grep -c "^208 bytes from $DP_IP" <<<"$out") == 3 ]] || dpt_fail "expected three 208-byte replies from $DP_IP"

mac=$(ip -n "$NS_DP" -br link show "$VETH_DP" | awk '{print $3}')
neigh=$(dpt_peer ip neigh show "$DP_IP" dev "$VETH_PEER")
dpt_log "kernel neighbour entry: $neigh (dptcp port MAC $mac)"
grep -qi "lladdr $mac" <<<"$neigh" || dpt_fail "kernel's ARP entry for $DP_IP is not dptcp's MAC $mac"
