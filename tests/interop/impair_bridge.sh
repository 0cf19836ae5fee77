#!/bin/bash
# impair_bridge: dptcp-impair between two Linux namespaces (the baseline
# topology of impair_lib.sh; no dptcp). Each impairment does what it says:
#  (a) --loss 0.2 on ab: 1000 pings lose 12-28 %, exactly as many as the
#      bridge counted;
#  (b) --delay-ms: the minimum RTT is at least the configured delays (a lower
#      bound only), per direction, jitter included;
#  (c) --dup 1.0 on ab: every ping is answered twice;
#  (d) --reorder 0.5: an 8 MiB TCP transfer arrives intact and the receiving
#      kernel counted out-of-order segments;
#  (e) the same seed twice: identical counters (a replayable run);
#  (f) --corrupt 1.0 on ab: no ping is answered, the peer kernel counted
#      checksum errors;
#  (g) --rate-mbit: a transfer takes at least its size over the rate;
#  (h) --tcp-only --loss 1.0: pings pass untouched, every SYN is dropped.
# No upper bound on any time is asserted.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=impair_lib.sh
. "$(dirname "$0")/impair_lib.sh"
dpt_impair_init impair_bridge
dpt_need nstat ss
dpt_impair_net_up_linux 1500

# ns_counter NS NAME: a kernel SNMP counter (absolute) of namespace NS.
ns_counter() {
	ip netns exec "$1" nstat -asz "$2" | awk -v n="$2" '$1 == n { print $2 }'
}

# ping_stat OUTPUT: "transmitted received duplicates" from ping's summary.
ping_stat() {
	local tx rx dup
	tx=$(sed -nE 's/^([0-9]+) packets transmitted.*/\1/p' <<<"$1")
	rx=$(sed -nE 's/.* ([0-9]+) received.*/\1/p' <<<"$1")
	dup=$(sed -nE 's/.*\+([0-9]+) duplicates.*/\1/p' <<<"$1")
	echo "${tx:-0} ${rx:-0} ${dup:-0}"
}

# ping_min_rtt OUTPUT: the minimum RTT in ms.
ping_min_rtt() {
	sed -nE 's|^rtt min/avg/max/mdev = ([0-9.]+)/.*|\1|p' <<<"$1"
}

# Python helpers: a receiver that prints "bytes sha256", and a sender of
# seeded pseudo-random bytes that prints "bytes sha256 seconds": from before
# connect() until the receiver closed, having read everything (monotonic
# clock). Every byte crossed the bridge inside that window.
cat >"$DPT_TMP/recv.py" <<'EOF'
import hashlib, socket, sys
ip, port = sys.argv[1], int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((ip, port))
s.listen(1)
c, _ = s.accept()
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(1 << 16)
    if not b:
        break
    h.update(b)
    n += len(b)
print(n, h.hexdigest(), flush=True)
c.close()
EOF
cat >"$DPT_TMP/send.py" <<'EOF'
import hashlib, random, socket, sys, time
ip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = random.Random(6).randbytes(n)
t0 = time.monotonic()
c = socket.create_connection((ip, port), timeout=120)
c.sendall(data)
c.shutdown(socket.SHUT_WR)
c.recv(1)
print(n, hashlib.sha256(data).hexdigest(), time.monotonic() - t0, flush=True)
EOF

# transfer BYTES: NS_DP sends BYTES to NS_PEER over TCP; sets XFER_SECONDS
# (the sender's connect-to-close time) and fails unless the data is intact.
XFER_PORT=5001
transfer() {
	local n=$1 out sent recvd pid i
	XFER_PORT=$((XFER_PORT + 1))
	ip netns exec "$NS_PEER" "$DPT_PY" "$DPT_TMP/recv.py" "$PEER_IP" "$XFER_PORT" \
		>"$DPT_TMP/recv.out" 2>&1 &
	pid=$!
	DPT_PIDS+=("$pid")
	for ((i = 0; i < 100; i++)); do
		[[ -n $(dpt_peer ss -Hltn "sport = :$XFER_PORT") ]] && break
		kill -0 "$pid" 2>/dev/null || { cat "$DPT_TMP/recv.out" >&2; dpt_fail "receiver exited"; }
		sleep 0.1
	done
	# Hang protection only.
	sent=$(timeout 180 ip netns exec "$NS_DP" "$DPT_PY" "$DPT_TMP/send.py" \
		"$PEER_IP" "$XFER_PORT" "$n") || dpt_fail "sender failed"
	wait "$pid" || { cat "$DPT_TMP/recv.out" >&2; dpt_fail "receiver failed"; }
	_dpt_impair_forget "$pid"
	recvd=$(cat "$DPT_TMP/recv.out")
	dpt_log "sent:     $sent"
	dpt_log "received: $recvd"
	[[ $recvd == "${sent% *}" ]] || dpt_fail "data not intact: sent '$sent', received '$recvd'"
	XFER_SECONDS=${sent##* }
}

# ---- (a) loss ----
dpt_impair_start --dir ab --loss 0.2 --seed 1
out=$(dpt_impair_dp ping -q -i 0.002 -c 1000 -W 1 "$PEER_IP") || true
echo "$out" | tail -n 3
read -r tx rx _ <<<"$(ping_stat "$out")"
dpt_impair_stop
lost=$((tx - rx))
dpt_log "(a) pings lost: $lost of $tx; bridge ab lost $(dpt_impair_stat ab lost)"
((tx == 1000)) || dpt_fail "(a) ping sent $tx, not 1000"
((lost >= 120 && lost <= 280)) || dpt_fail "(a) lost $lost of 1000 pings, outside 12-28 % for --loss 0.2"
[[ $(dpt_impair_stat ab lost) == "$lost" ]] || dpt_fail "(a) bridge counted $(dpt_impair_stat ab lost) lost, ping lost $lost"
[[ $(dpt_impair_stat ab impaired) == 1000 ]] || dpt_fail "(a) bridge impaired $(dpt_impair_stat ab impaired) frames on ab, not the 1000 requests"
[[ $(dpt_impair_stat ba lost) == 0 ]] || dpt_fail "(a) replies lost on ba without --loss there"

# ---- (b) delay and jitter: lower bounds only ----
dpt_impair_start --dir ab --delay-ms 20 --dir ba --delay-ms 10 --jitter-ms 5 --seed 2
out=$(dpt_impair_dp ping -i 0.05 -c 20 -W 5 "$PEER_IP") || true
echo "$out" | tail -n 2
dpt_impair_stop
min=$(ping_min_rtt "$out")
[[ -n $min ]] || dpt_fail "(b) no RTT in ping's output"
dpt_log "(b) min RTT $min ms with 20 ms (ab) + 10 +-5 ms (ba)"
awk -v m="$min" 'BEGIN { exit !(m >= 25.0) }' || dpt_fail "(b) min RTT $min ms < 25 ms"

# ---- (c) duplication ----
reps0=$(ns_counter "$NS_DP" IcmpInEchoReps)
dpt_impair_start --dir ab --dup 1.0 --seed 3
out=$(dpt_impair_dp ping -i 0.05 -c 20 -W 2 "$PEER_IP") || true
echo "$out" | tail -n 2
# ping stops at its 20th answer: the 20th duplicate may land after it
# exited. The kernel counts every reply; wait for all 40 (hang protection).
for ((i = 0; i < 50; i++)); do
	(($(ns_counter "$NS_DP" IcmpInEchoReps) - reps0 >= 40)) && break
	sleep 0.1
done
dpt_impair_stop
reps=$(($(ns_counter "$NS_DP" IcmpInEchoReps) - reps0))
read -r tx rx dup <<<"$(ping_stat "$out")"
dpt_log "(c) ping: $tx sent, $rx received, +$dup duplicates; kernel echo replies $reps; bridge ab duplicated $(dpt_impair_stat ab duplicated)"
((tx == 20 && rx == 20)) || dpt_fail "(c) expected 20 pings answered"
((reps == 40)) || dpt_fail "(c) $reps echo replies reached the kernel, expected 2 x 20"
((dup >= 19)) || dpt_fail "(c) ping saw only $dup duplicates"
# Every ping but possibly the last shows its duplicate.
for ((s = 1; s < 20; s++)); do
	grep -q "icmp_seq=$s .*DUP!" <<<"$out" || dpt_fail "(c) no DUP! reply for icmp_seq=$s"
done
[[ $(dpt_impair_stat ab duplicated) == 20 ]] || dpt_fail "(c) bridge duplicated $(dpt_impair_stat ab duplicated), not 20"

# ---- (d) reordering: 8 MiB intact, the receiver saw it out of order ----
ofo0=$(ns_counter "$NS_PEER" TcpExtTCPOFOQueue)
dpt_impair_start --reorder 0.5 --seed 4
transfer $((8 << 20))
dpt_impair_stop
ofo=$(($(ns_counter "$NS_PEER" TcpExtTCPOFOQueue) - ofo0))
sack_reorder=$(ns_counter "$NS_DP" TcpExtTCPSACKReorder)
dpt_log "(d) bridge ab reordered $(dpt_impair_stat ab reordered); receiver TcpExtTCPOFOQueue +$ofo; sender TcpExtTCPSACKReorder $sack_reorder"
(($(dpt_impair_stat ab reordered) > 0)) || dpt_fail "(d) the bridge reordered nothing"
((ofo > 0)) || dpt_fail "(d) the receiving kernel queued nothing out of order"

# ---- (e) the same seed twice: the same fate for the same frames ----
# replay SEED: one run; its deterministic counters in REPLAY.
replay() {
	local d f
	# Corrupted requests only: ping's raw socket would see corrupted replies
	# (the kernel's ICMP drops them after raw delivery) and linger for twice
	# the garbage RTT it reads from them.
	dpt_impair_start --loss 0.1 --dup 0.1 --reorder 0.2 --dir ab --corrupt 0.05 \
		--seed "$1"
	dpt_impair_dp ping -q -i 0.002 -c 500 -W 1 "$PEER_IP" | tail -n 2 || true
	dpt_impair_stop
	REPLAY=
	for d in ab ba; do
		for f in impaired lost duplicated reordered corrupted overflow; do
			REPLAY+="$d.$f=$(dpt_impair_stat "$d" "$f") "
		done
	done
}
replay 7; run1=$REPLAY
replay 7; run2=$REPLAY
replay 8; run3=$REPLAY
dpt_log "(e) seed 7: $run1"
dpt_log "(e) seed 7: $run2"
dpt_log "(e) seed 8: $run3(not asserted)"
[[ $run1 == "$run2" ]] || dpt_fail "(e) seed 7 twice gave different counters"
grep -q 'ab.impaired=500 ' <<<"$run1" || dpt_fail "(e) expected 500 impaired frames on ab"

# ---- (f) corruption: every request fails its checksum at the peer ----
csum0=$(ns_counter "$NS_PEER" IcmpInCsumErrors)
dpt_impair_start --dir ab --corrupt 1.0 --seed 5
out=$(dpt_impair_dp ping -i 0.05 -c 10 -W 1 "$PEER_IP") || true
dpt_impair_stop
read -r tx rx _ <<<"$(ping_stat "$out")"
csum=$(($(ns_counter "$NS_PEER" IcmpInCsumErrors) - csum0))
dpt_log "(f) ping: $tx sent, $rx answered; peer IcmpInCsumErrors +$csum; bridge ab corrupted $(dpt_impair_stat ab corrupted)"
((tx == 10 && rx == 0)) || dpt_fail "(f) corrupted pings were answered"
((csum == 10)) || dpt_fail "(f) peer counted $csum checksum errors, expected 10"

# ---- (g) rate: a lower bound on the time only ----
dpt_impair_start --dir ab --rate-mbit 20 --burst-bytes 16384 --seed 6
transfer $((2 << 20))
dpt_impair_stop
# All 2 MiB crossed the token bucket between the sender's connect() and the
# receiver's close: no faster than (2 MiB - burst) * 8 / 20e6 seconds.
bound=$(awk 'BEGIN { printf "%.3f", ((2 * 1048576) - 16384) * 8 / 20e6 }')
dpt_log "(g) 2 MiB at 20 Mbit/s took $XFER_SECONDS s (lower bound $bound s)"
awk -v t="$XFER_SECONDS" -v b="$bound" 'BEGIN { exit !(t >= b) }' ||
	dpt_fail "(g) 2 MiB crossed a 20 Mbit/s bridge in $XFER_SECONDS s < $bound s"

# ---- (h) --tcp-only: ICMP passes unimpaired, TCP is lost ----
dpt_impair_start --dir ab --tcp-only --loss 1.0 --seed 10
out=$(dpt_impair_dp ping -i 0.05 -c 5 -W 2 "$PEER_IP") || true
read -r tx rx _ <<<"$(ping_stat "$out")"
# No listener at the peer: a SYN that got through would be refused (RST);
# one that is dropped leaves connect() waiting until its timeout.
syn=$(dpt_impair_dp "$DPT_PY" -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], 9), timeout=1.5)
    print("connected")
except socket.timeout:
    print("timeout")
except ConnectionRefusedError:
    print("refused")' "$PEER_IP")
dpt_impair_stop
dpt_log "(h) ping $rx/$tx answered; TCP connect: $syn; bridge ab passed $(dpt_impair_stat ab passed) impaired $(dpt_impair_stat ab impaired) lost $(dpt_impair_stat ab lost)"
((tx == 5 && rx == 5)) || dpt_fail "(h) pings were impaired under --tcp-only"
[[ $syn == timeout ]] || dpt_fail "(h) TCP connect: $syn (expected every SYN dropped)"
(($(dpt_impair_stat ab passed) >= 5)) || dpt_fail "(h) the pings were not passed through"
(($(dpt_impair_stat ab lost) >= 1)) || dpt_fail "(h) no SYN counted lost"
[[ $(dpt_impair_stat ab lost) == "$(dpt_impair_stat ab impaired)" ]] ||
	dpt_fail "(h) frames other than the SYNs were impaired"
