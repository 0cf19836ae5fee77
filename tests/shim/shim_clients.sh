#!/bin/bash
# shim_clients: Debian's client programs under dptcp-run against Linux
# servers in the peer namespace: curl fetches a 16 MiB file from a kernel
# nginx (SHA-256 equal), and redis-benchmark (SET and GET, 50 connections,
# pipelining 16) runs against a kernel redis-server without an error.
# Every connection of theirs goes through dptcp (dptcpd's connects
# counter), and afterwards dptcpd holds no slot, no violation.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=shim_lib.sh
. "$(dirname "$0")/shim_lib.sh"
shim_init shim_clients
dpt_need curl nginx redis-server redis-benchmark redis-cli
dpt_net_up 1500
shim_start_dptcpd "[tcp]\nmsl_ms = 1000"   # our clients close first: short TIME_WAIT
N=${SHIM_CLIENTS_N:-20000}

ngx="$DPT_TMP/nginx"
mkdir -p "$ngx"
conf=$(shim_nginx_conf "$ngx" "$PEER_IP" 8088 1 off)
head -c $((16 << 20)) /dev/urandom >"$ngx/www/f.bin"
dpt_bg ip netns exec "$NS_PEER" nginx -e "$ngx/error.log" -p "$ngx/" -c "$conf"
shim_redis_server "$PEER_IP" 6380
dpt_bg ip netns exec "$NS_PEER" "${SHIM_REDIS_SERVER[@]}"
for ((i = 0; i < 300; i++)); do
	dpt_peer ss -Htln | grep -q ':8088 ' && dpt_peer ss -Htln | grep -q ':6380 ' && break
	sleep 0.1
done
dpt_peer ss -Htln | grep -q ':8088 ' || dpt_fail "kernel nginx did not start: $(cat "$ngx/error.log")"
dpt_peer ss -Htln | grep -q ':6380 ' || dpt_fail "kernel redis did not start: $(tail -5 "$DPT_TMP/redis.log")"

c0=$(shim_stat connects)
want=$(sha256sum "$ngx/www/f.bin" | cut -d' ' -f1)
got=$(shim_run curl -sS --max-time 120 "http://$PEER_IP:8088/f.bin" | sha256sum | cut -d' ' -f1)
[[ $got == "$want" ]] || dpt_fail "curl under dptcp-run: sha256 $got, expected $want"
c1=$(shim_stat connects)
((c1 == c0 + 1)) || dpt_fail "curl's connection did not go through dptcp (connects $c0 -> $c1)"
dpt_log "curl under dptcp-run fetched 16 MiB from a kernel nginx, sha256 equal"

out=$(timeout 180 ip netns exec "$NS_DP" env DPTCP_SOCKET="$SHIM_SOCK" "$DPTCP_RUN" \
	redis-benchmark -h "$PEER_IP" -p 6380 -t set,get -c 50 -P 16 -n "$N" \
	-r 10000 -q --csv 2>&1) || dpt_fail "redis-benchmark under dptcp-run failed: $out"
dpt_log "redis-benchmark -t set,get -c 50 -P 16 -n $N under dptcp-run against a kernel redis:"
printf '%s\n' "$out" | sed 's/^/    /'
shim_check_redis_bench "$out"
c2=$(shim_stat connects)
((c2 - c1 >= 50)) || dpt_fail "redis-benchmark opened $((c2 - c1)) connections through dptcp, expected >= 50"
total=$(shim_redis_commands "$PEER_IP" 6380)
((total >= 2 * N)) || dpt_fail "the kernel redis processed $total commands, expected >= $((2 * N))"
dpt_log "dptcpd counted $((c2 - c1)) active opens for redis-benchmark; redis processed $total commands"

shim_check_clean
