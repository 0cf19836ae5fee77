#!/bin/bash
# shim_redis: Debian's redis-server (event loop on epoll, non-blocking
# sockets, no persistence) under dptcp-run, bound to dptcp's address;
# redis-benchmark in the peer namespace (SET and GET, 50 connections,
# pipelining 16) completes every request without an error; redis-cli from
# the peer namespace writes and reads a value back; afterwards dptcpd holds
# no connection and no slot, no violation.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=shim_lib.sh
. "$(dirname "$0")/shim_lib.sh"
shim_init shim_redis
dpt_need redis-server redis-benchmark redis-cli
dpt_net_up 1500
shim_start_dptcpd
N=${SHIM_REDIS_N:-20000}

# Its own config in the temp dir: no persistence, nothing outside DPT_TMP.
shim_redis_server "$DP_IP" 6379
shim_bg "${SHIM_REDIS_SERVER[@]}" --databases 1
shim_wait_log "$DPT_TMP/redis.log" "Ready to accept connections" redis-server
dpt_log "redis-server under dptcp-run: $(grep -m1 -o 'Redis version=[^ ,]*' "$DPT_TMP/redis.log")"

pong=$(dpt_peer redis-cli -h "$DP_IP" -p 6379 ping)
[[ $pong == PONG ]] || dpt_fail "redis-cli ping answered '$pong'"

out=$(dpt_peer timeout 180 redis-benchmark -h "$DP_IP" -p 6379 -t set,get -c 50 -P 16 \
	-n "$N" -r 10000 -q --csv 2>&1) || dpt_fail "redis-benchmark failed: $out"
dpt_log "redis-benchmark -t set,get -c 50 -P 16 -n $N from Linux:"
printf '%s\n' "$out" | sed 's/^/    /'
shim_check_redis_bench "$out"
# Every SET landed: the keyspace has keys (-r 10000: key:000000000000..).
keys=$(dpt_peer redis-cli -h "$DP_IP" -p 6379 dbsize)
((keys > 0)) || dpt_fail "dbsize after the benchmark is '$keys'"
total=$(shim_redis_commands "$DP_IP" 6379)
((total >= 2 * N)) || dpt_fail "redis processed $total commands, expected at least $((2 * N))"
dpt_log "redis counted $total commands, $keys keys"

val="dptcp-$RANDOM-$$"
[[ $(dpt_peer redis-cli -h "$DP_IP" -p 6379 set shim:check "$val") == OK ]] ||
	dpt_fail "SET failed"
got=$(dpt_peer redis-cli -h "$DP_IP" -p 6379 get shim:check)
[[ $got == "$val" ]] || dpt_fail "GET returned '$got', expected '$val'"
dpt_log "redis-cli from Linux: SET then GET returned the value"

dpt_kill_pid "$SHIM_BG_PID"
shim_check_clean
