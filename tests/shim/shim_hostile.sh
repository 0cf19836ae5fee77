#!/bin/bash
# shim_hostile: dptcp-hostile (tests/shim/hostile.c) attaches to dptcpd as
# the shim does, listens, accepts three Linux connections and queues data
# on them, then writes bad values into its own shared region: one run per
# kind of violation (command queue index, event queue index, unknown op,
# unbound slot/generation, TX ring index, RX ring index) and three seeded
# runs of random writes over queue indices, command entries, slot indices
# and words of the channels and slots. Each time dptcpd counts it (the
# violation kind's own counter for the targeted runs), disconnects that
# program (its Linux peers see resets, its region is reclaimed) and goes
# on; meanwhile an unmodified Python echo server under dptcp-run serves
# Linux clients round after round, every byte intact (SHA-256). At the end
# dptcpd holds no slot, no orphan, no connection but B's listener, and as
# many mbufs as before.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=shim_lib.sh
. "$(dirname "$0")/shim_lib.sh"
: "${DPTCP_HOSTILE:?DPTCP_HOSTILE must name the dptcp-hostile binary}"
shim_init shim_hostile
dpt_net_up 1500
shim_start_dptcpd "[tcp]\nmsl_ms = 500"
dptcpd_pid=$DPT_APP_PID
shim_bg "$DPT_PY" "$SHIM_DIR/echo_servers.py" selectors 7501 "$DPT_TMP/ready.B"
shim_wait_file "$DPT_TMP/ready.B" "echo server B"
dpt_log "server B under dptcp-run: listening on $(cat "$DPT_TMP/ready.B")"
mbuf_start=$("$DPT_PY" - "$DPT_FILE_PREFIX" <<'PY'
import sys
from dptlib import mbufs_in_use
print(repr(mbufs_in_use(sys.argv[1])))
PY
)
# B's clients: rounds of two 4 MiB echoes until the file "stop" appears.
dpt_py - "$DP_IP" "$DPT_TMP" >"$DPT_TMP/b.out" 2>&1 <<'PYEOF' &
import hashlib, os, socket, sys, threading
from dptlib import check, log, main_guard
ip, tmp = sys.argv[1], sys.argv[2]
SIZE = 4 << 20

def one(res, k):
    data = os.urandom(SIZE)
    s = socket.create_connection((ip, 7501), timeout=120)  # hang protection
    got, n = hashlib.sha256(), [0]
    def reader():
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            got.update(b)
            n[0] += len(b)
    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(120)
    s.close()
    res[k] = n[0] == SIZE and got.digest() == hashlib.sha256(data).digest()

def run():
    rounds = 0
    while rounds == 0 or not os.path.exists(os.path.join(tmp, "stop")):
        res = {}
        ts = [threading.Thread(target=one, args=(res, i)) for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(300)
        check(len(res) == 2 and all(res.values()), "B round %d: %s" % (rounds, res))
        rounds += 1
    log("B: %d rounds of 2 x 4 MiB echoed intact during the attacks" % rounds)

main_guard(run)
PYEOF
b_clients=$!
DPT_PIDS+=("$b_clients")

viol() { shim_stat "$1"; }
declare -A kind=([cmdq]=viol_cmdq_index [evtq]=viol_evtq_index [op]=viol_bad_op
	[slot]=viol_bad_slot [txring]=viol_tx_ring [rxring]=viol_rx_ring)
runs=(cmdq:1 evtq:2 op:3 slot:4 txring:5 rxring:6 random:11 random:12 random:13)
port=7600
for run in "${runs[@]}"; do
	mode=${run%%:*} seed=${run##*:}
	port=$((port + 1))
	st="$DPT_TMP/hostile.$mode.$seed"
	v0=$(viol violations)
	[[ $mode == random ]] || k0=$(viol "${kind[$mode]}")
	dpt_bg "$DPTCP_HOSTILE" "$SHIM_SOCK" "$port" "$mode" "$seed" "$st"
	hpid=$DPT_BG_PID
	shim_wait_file "$st" "dptcp-hostile $mode"
	dpt_py - "$DP_IP" "$port" >"$DPT_TMP/peer.out" 2>&1 <<'PY' &
import socket, sys, threading
ip, port = sys.argv[1], int(sys.argv[2])
out = {}
def one(i):
    s = socket.create_connection((ip, port), timeout=60)   # hang protection
    s.sendall(b"x" * 1000)
    n = 0
    try:
        while True:
            b = s.recv(65536)
            if not b:
                out[i] = "EOF after %d bytes" % n
                return
            n += len(b)
    except ConnectionResetError:
        out[i] = "ECONNRESET"
    except OSError as e:
        out[i] = "error %s" % e
ts = [threading.Thread(target=one, args=(i,)) for i in range(3)]
for t in ts:
    t.start()
for t in ts:
    t.join(90)
print(" ".join("conn%d:%s" % (i, out.get(i, "hung")) for i in range(3)))
PY
	peer=$!
	rc=0
	wait "$hpid" || rc=$?
	wait "$peer" || true
	status=$(cat "$st")
	dpt_log "hostile $mode seed $seed: $status; its Linux peers: $(cat "$DPT_TMP/peer.out")"
	((rc == 0)) || dpt_fail "dptcp-hostile $mode (seed $seed) exited $rc: $status"
	kill -0 "$dptcpd_pid" 2>/dev/null || dpt_fail "dptcpd died"
	[[ $(grep -o ECONNRESET "$DPT_TMP/peer.out" | wc -l) == 3 ]] ||
		dpt_fail "hostile $mode: its peers did not all see a reset"
	v1=$(viol violations)
	((v1 == v0 + 1)) || dpt_fail "hostile $mode: violations $v0 -> $v1, expected +1"
	if [[ $mode != random ]]; then
		k1=$(viol "${kind[$mode]}")
		((k1 == k0 + 1)) || dpt_fail "hostile $mode: its counter $k0 -> $k1, expected +1"
	fi
done
dpt_log "viol counters: $(for k in cmdq_index evtq_index bad_op bad_slot tx_ring rx_ring; do printf '%s=%s ' "$k" "$(viol viol_$k)"; done)"
: >"$DPT_TMP/stop"
rc=0
wait "$b_clients" || rc=$?
cat "$DPT_TMP/b.out"
((rc == 0)) || dpt_fail "B's transfers failed during the attacks"
"$DPT_PY" - "$DPT_FILE_PREFIX" "${#runs[@]}" "$mbuf_start" <<'PY' || dpt_fail "dptcpd did not settle"
import ast, sys, time
from dptlib import check, log, main_guard, wait_no_conns, fmt_counts, tel, mbufs_in_use
def run():
    prefix, n, mbuf_start = sys.argv[1], int(sys.argv[2]), ast.literal_eval(sys.argv[3])
    counts = wait_no_conns(prefix, 60)
    deadline = time.monotonic() + 30          # hang protection
    while True:
        st = tel(prefix, "/dptcp/shim")
        mbuf_end = mbufs_in_use(prefix)
        if (st["programs_detached"] == n and st["slots_bound"] == 0 and st["orphans"] == 0
                and mbuf_end == mbuf_start) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    log("dptcp connections %s; /dptcp/shim %s; mbufs in use %s (before %s)"
        % (fmt_counts(counts), {k: v for k, v in st.items() if v}, mbuf_end, mbuf_start))
    check(counts.get("LISTEN", 0) == 1, "expected B's listener only")
    check(st["programs_now"] == 1 and st["programs_detached"] == n, "programs not reclaimed")
    check(st["slots_bound"] == 0 and st["orphans"] == 0, "slots or connections held")
    check(mbuf_end == mbuf_start, "mbufs leaked")
main_guard(run)
PY
dpt_log "every hostile program counted and disconnected, B unharmed, nothing leaked"
