#!/bin/bash
# mtu_1400: veth MTU 1400 on both ends and mtu = 1400 in dptcp's config.
# A GET of 1,000,000 bytes from dptcp-http is captured in the Linux
# namespace: dptcp's SYN-ACK advertises MSS 1360 (1400 - 40), and its
# largest TCP payload is <= 1360 (nothing above the MTU) and > 1000 (it
# does fill segments).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
dpt_init mtu_1400
: "${DPTCP_HTTP:?DPTCP_HTTP must name the dptcp-http binary}"
dpt_need curl tcpdump tshark
MTU=1400
MSS=$((MTU - 40))
SIZE=1000000
cat >"$DPT_TMP/dptcp.ini" <<INI
; written by tests/interop/mtu_1400.sh
[port]
mtu = $MTU
INI
dpt_net_up "$MTU"
dpt_start_app "$DPTCP_HTTP" 80 "$DPT_TMP/dptcp.ini"

pcap="$DPT_TMP/mtu.pcap"
dpt_bg ip netns exec "$NS_PEER" tcpdump -i "$VETH_PEER" -n -U --immediate-mode -s 128 -w "$pcap" tcp 2>"$DPT_TMP/tcpdump.err"
TCPDUMP_PID=$DPT_BG_PID
for ((i = 0; i < 100; i++)); do
	grep -q 'listening on' "$DPT_TMP/tcpdump.err" && break
	kill -0 "$TCPDUMP_PID" 2>/dev/null || { cat "$DPT_TMP/tcpdump.err"; dpt_fail "tcpdump exited"; }
	sleep 0.1
done

out=$(dpt_peer curl -sS --max-time 120 -o "$DPT_TMP/body" -w '%{http_code} %{size_download}' \
	"http://$DP_IP/$SIZE") || dpt_fail "curl failed: $out"
dpt_log "curl GET /$SIZE -> $out"
[[ $out == "200 $SIZE" ]] || dpt_fail "expected '200 $SIZE', got '$out'"
tsh() { tshark -n -r "$pcap" "$@" 2>/dev/null || true; }
dp_payload() { tsh -Y "ip.src==$DP_IP && tcp.len>0" -T fields -e tcp.len | awk '{s+=$1} END {print s+0}'; }
# Let the capture catch up with what curl already received (10 s at most).
for ((i = 0; i < 50; i++)); do
	(($(dp_payload) >= SIZE)) && break
	sleep 0.2
done
dpt_kill_pid "$TCPDUMP_PID"
cat "$DPT_TMP/tcpdump.err"

synack_mss=$(tsh -Y "ip.src==$DP_IP && tcp.flags.syn==1 && tcp.flags.ack==1" -T fields -e tcp.options.mss_val | sort -u)
syn_mss=$(tsh -Y "ip.dst==$DP_IP && tcp.flags.syn==1 && tcp.flags.ack==0" -T fields -e tcp.options.mss_val | sort -u)
max_payload=$(tsh -Y "ip.src==$DP_IP" -T fields -e tcp.len | sort -n | tail -n 1)
max_iplen=$(tsh -Y "ip.src==$DP_IP" -T fields -e ip.len | sort -n | tail -n 1)
data_segs=$(tsh -Y "ip.src==$DP_IP && tcp.len>0" -T fields -e tcp.len | wc -l)
payload_sum=$(dp_payload)
dpt_log "Linux SYN MSS: ${syn_mss:-none}; dptcp SYN-ACK MSS: ${synack_mss:-none}"
dpt_log "dptcp data segments: $data_segs, payload bytes $payload_sum, largest payload ${max_payload:-none}, largest IP packet ${max_iplen:-none}"

[[ $syn_mss == "$MSS" ]] || dpt_fail "Linux's SYN advertised MSS '$syn_mss', expected $MSS (capture/setup problem)"
[[ $synack_mss == "$MSS" ]] || dpt_fail "dptcp's SYN-ACK advertised MSS '$synack_mss', expected $MSS"
[[ -n $max_payload ]] || dpt_fail "no dptcp segment in the capture"
((max_payload <= MSS)) || dpt_fail "dptcp sent a $max_payload-byte payload, above MSS $MSS"
((max_payload > 1000)) || dpt_fail "dptcp's largest payload is $max_payload: segments are not filled"
((max_iplen <= MTU)) || dpt_fail "dptcp sent a $max_iplen-byte IP packet, above MTU $MTU"
((payload_sum >= SIZE)) || dpt_fail "capture holds $payload_sum payload bytes from dptcp, expected >= $SIZE"
