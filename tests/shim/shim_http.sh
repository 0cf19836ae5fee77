#!/bin/bash
# shim_http: `python3 -m http.server` (threads, blocking sockets) under
# dptcp-run serves curl in the peer namespace: a directory listing, a
# 16 MiB file (SHA-256 equal), three files on one keep-alive connection,
# and 20 sequential GETs; the server's own getsockname/accept addresses
# show up in its log as the client's.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=shim_lib.sh
. "$(dirname "$0")/shim_lib.sh"
shim_init shim_http
dpt_need curl
dpt_net_up 1500
shim_start_dptcpd "[tcp]\nmsl_ms = 1000"   # the server closes first: short TIME_WAIT
www="$DPT_TMP/www"
mkdir -p "$www"
head -c $((16 << 20)) /dev/urandom >"$www/big.bin"
for f in a b c; do echo "file $f" >"$www/$f.txt"; done
cd "$www"
shim_bg "$DPT_PY" -u -m http.server --bind 0.0.0.0 8080 >"$DPT_TMP/http.log" 2>&1
shim_wait_log "$DPT_TMP/http.log" "Serving HTTP" http.server
dpt_log "http.server under dptcp-run: $(head -1 "$DPT_TMP/http.log")"

listing=$(dpt_peer curl -sS --max-time 60 "http://$DP_IP:8080/")
grep -q 'big.bin' <<<"$listing" || dpt_fail "directory listing lacks big.bin: $listing"
dpt_log "GET / : directory listing names big.bin, a.txt, b.txt, c.txt"

want=$(sha256sum "$www/big.bin" | cut -d' ' -f1)
got=$(dpt_peer curl -sS --max-time 120 "http://$DP_IP:8080/big.bin" | sha256sum | cut -d' ' -f1)
[[ $got == "$want" ]] || dpt_fail "big.bin differs: sha256 $got, expected $want"
dpt_log "GET /big.bin: 16 MiB, sha256 equal"

out=$(dpt_peer curl -sS --max-time 60 -w '%{num_connects} ' \
	"http://$DP_IP:8080/a.txt" "http://$DP_IP:8080/b.txt" "http://$DP_IP:8080/c.txt")
dpt_log "three GETs with curl's connection reuse: $(tr '\n' ' ' <<<"$out")"
grep -q "file a" <<<"$out" && grep -q "file c" <<<"$out" || dpt_fail "bodies wrong: $out"

for ((i = 0; i < 20; i++)); do
	body=$(dpt_peer curl -sS --max-time 30 "http://$DP_IP:8080/b.txt")
	[[ $body == "file b" ]] || dpt_fail "GET $i returned '$body'"
done
dpt_log "20 sequential GETs: all 200 with the right body"
grep -q "\"GET /big.bin HTTP/1.1\" 200" "$DPT_TMP/http.log" || dpt_fail "server log lacks the GET"
grep -q "^$PEER_IP " "$DPT_TMP/http.log" || dpt_fail "server log does not name the client $PEER_IP"
dpt_log "server log names the client $PEER_IP (accept's address)"
shim_check_clean
