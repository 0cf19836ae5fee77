#!/bin/bash
# shim_exit: a program under dptcp-run dies with two connections open,
# first by exiting without closing anything, then (restarted on the same
# port, which it can listen on at once) by SIGKILL. Each time Linux, the
# peer, sees what it would see from a Linux program: on the connection
# whose data the program had read, all 1 MiB the program wrote, then FIN
# (EOF); on the one with 100 unread bytes, a reset (ECONNRESET). dptcpd
# then holds no slot, no connection (after a short TIME_WAIT) and has
# reclaimed the program's region.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=shim_lib.sh
. "$(dirname "$0")/shim_lib.sh"
shim_init shim_exit
dpt_net_up 1500
shim_start_dptcpd "[tcp]\nmsl_ms = 500"
for mode in exit kill; do
	rm -f "$DPT_TMP/ready"
	shim_bg "$DPT_PY" "$SHIM_DIR/hold.py" "$mode" 7300 "$DPT_TMP/ready"
	prog=$SHIM_BG_PID
	shim_wait_file "$DPT_TMP/ready" "hold.py ($mode)"
	dpt_log "hold.py $mode: listening on port 7300 (pid $prog)"
	dpt_py - "$DP_IP" 7300 >"$DPT_TMP/client.out" 2>&1 <<'PY' &
import socket, sys
ip, port = sys.argv[1], int(sys.argv[2])
a = socket.create_connection((ip, port), timeout=60)
a.sendall(b"AAAA")
b = socket.create_connection((ip, port), timeout=60)
b.sendall(b"B" * 100)
got = bytearray()
while True:
    x = a.recv(65536)
    if not x:
        break
    got += x
want = bytes(range(256)) * 4096
print("A: %d bytes, %s, then EOF" % (len(got), "identical" if got == want else "DIFFERENT"))
try:
    x = b.recv(100)
    print("B: recv returned %r, expected a reset" % x)
except ConnectionResetError:
    print("B: ECONNRESET")
PY
	client=$!
	for ((i = 0; i < 300; i++)); do
		grep -q held "$DPT_TMP/ready" 2>/dev/null && break
		sleep 0.1
	done
	grep -q held "$DPT_TMP/ready" || dpt_fail "hold.py did not get both connections"
	if [[ $mode == kill ]]; then
		kill -KILL "$prog"
		dpt_log "hold.py: SIGKILL"
	fi
	wait "$prog" 2>/dev/null || true
	wait "$client" || dpt_fail "the Linux client failed: $(cat "$DPT_TMP/client.out")"
	dpt_log "Linux client: $(tr '\n' ';' <"$DPT_TMP/client.out")"
	grep -q "A: 1048576 bytes, identical, then EOF" "$DPT_TMP/client.out" ||
		dpt_fail "connection A: expected 1 MiB then EOF"
	grep -q "B: ECONNRESET" "$DPT_TMP/client.out" ||
		dpt_fail "connection B (unread data): expected a reset"
	"$DPT_PY" - "$DPT_FILE_PREFIX" "$mode" <<'PY' || dpt_fail "dptcpd did not let go of the program"
import sys, time
from dptlib import check, log, main_guard, wait_no_conns, fmt_counts, tel
def run():
    prefix, mode = sys.argv[1], sys.argv[2]
    deadline = time.monotonic() + 30          # hang protection
    while True:
        st = tel(prefix, "/dptcp/shim")
        if st["programs_now"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    counts = wait_no_conns(prefix, 30)
    log("after %s: dptcp connections %s; /dptcp/shim %s" % (mode, fmt_counts(counts),
        {k: v for k, v in st.items() if v}))
    check(st["programs_now"] == 0 and st["engine_programs"] == 0, "program still attached")
    check(st["slots_bound"] == 0 and st["orphans"] == 0, "slots or connections held")
    check(counts["LISTEN"] == 0, "the dead program's listener is still there")
main_guard(run)
PY
done
[[ $(shim_stat resets_on_close) == 2 ]] || dpt_fail "expected 2 resets for unread data, got $(shim_stat resets_on_close)"
[[ $(shim_stat programs_detached) == 2 ]] || dpt_fail "expected 2 programs reclaimed"
dpt_log "two deaths, two resets for unread data, two regions reclaimed"
