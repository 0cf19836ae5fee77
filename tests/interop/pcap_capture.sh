#!/bin/bash
# pcap_capture: dptcp-http --pcap FILE writes what its port received and
# transmitted as pcapng (in-process, rte_pcapng). After one curl GET /1000
# and SIGTERM, tshark reads the file and finds the peer's ARP request and
# our reply, the peer's SYN (inbound), our SYN-ACK (outbound) and the
# 200 response carrying 1000 bytes of body.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
dpt_init pcap_capture
: "${DPTCP_HTTP:?DPTCP_HTTP must name the dptcp-http binary}"
dpt_need curl tshark
[[ -x $DPTCP_HTTP ]] || dpt_fail "app '$DPTCP_HTTP' is not built"
PCAP="$DPT_TMP/dptcp.pcapng"
# dpt_start_app builds the app's options itself: a wrapper adds --pcap.
# It execs, so `ip netns exec` still hands dpt_start_app the app's PID.
cat >"$DPT_TMP/dptcp-http-pcap" <<SH
#!/bin/bash
exec "$DPTCP_HTTP" "\$@" --pcap "$PCAP"
SH
chmod +x "$DPT_TMP/dptcp-http-pcap"
dpt_net_up 1500
dpt_start_app "$DPT_TMP/dptcp-http-pcap" 80

CURL_PORT=40125
out=$(dpt_peer curl -sS --max-time 60 --local-port "$CURL_PORT" \
	-o "$DPT_TMP/body" -w '%{http_code} %{size_download}' "http://$DP_IP/1000") ||
	dpt_fail "curl failed: $out"
dpt_log "curl GET /1000 -> $out"
[[ $out == "200 1000" ]] || dpt_fail "curl: expected '200 1000', got '$out'"

# SIGTERM and wait: dp_fini closes the capture file.
dpt_stop_app
grep -q 'pcap: .* frames written' "$DPT_APP_LOG" ||
	dpt_fail "the app did not report closing the capture"
[[ -s $PCAP ]] || dpt_fail "no capture file at $PCAP"

# Count of frames matching a display filter; a file tshark cannot read fails.
tsh_count() {
	local o
	o=$(tshark -n -r "$PCAP" -Y "$1" -T fields -e frame.number 2>&1) ||
		dpt_fail "tshark -r failed on the capture: $o"
	grep -c '^[0-9]' <<<"$o" || true
}
total=$(tsh_count 'frame')
dpt_log "capture: $total frames in $PCAP"
tshark -n -r "$PCAP" 2>/dev/null | head -n 40 | sed 's/^/  /'

# expect NAME FILTER: at least one frame matches.
expect() {
	local n
	n=$(tsh_count "$2")
	dpt_log "$1: $n frame(s) [$2]"
	((n > 0)) || dpt_fail "capture holds no $1"
}
IN='frame.packet_flags_direction == 1'
OUT='frame.packet_flags_direction == 2'
expect "ARP request for us (received)" \
	"arp.opcode == 1 && arp.dst.proto_ipv4 == $DP_IP && arp.src.proto_ipv4 == $PEER_IP && $IN"
expect "ARP reply from us (sent)" \
	"arp.opcode == 2 && arp.src.proto_ipv4 == $DP_IP && $OUT"
expect "SYN from the peer (received)" \
	"ip.src == $PEER_IP && ip.dst == $DP_IP && tcp.srcport == $CURL_PORT && tcp.dstport == 80 && tcp.flags.syn == 1 && tcp.flags.ack == 0 && $IN"
expect "SYN-ACK from us (sent)" \
	"ip.src == $DP_IP && ip.dst == $PEER_IP && tcp.srcport == 80 && tcp.dstport == $CURL_PORT && tcp.flags.syn == 1 && tcp.flags.ack == 1 && $OUT"
expect "HTTP 200 response with a 1000-byte body (sent)" \
	"ip.src == $DP_IP && tcp.srcport == 80 && tcp.dstport == $CURL_PORT && http.response.code == 200 && http.content_length == 1000 && $OUT"

# Every response byte: our payload on that connection covers the body.
bytes=$(tshark -n -r "$PCAP" -Y "ip.src == $DP_IP && tcp.srcport == 80 && tcp.dstport == $CURL_PORT && $OUT" \
	-T fields -e tcp.len 2>/dev/null | awk '{s += $1} END {print s + 0}')
dpt_log "response payload sent on the connection: $bytes bytes"
((bytes >= 1000)) || dpt_fail "capture holds only $bytes response bytes (< 1000 of body)"
