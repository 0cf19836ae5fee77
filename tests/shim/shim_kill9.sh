#!/bin/bash
# shim_kill9: two unmodified Python echo servers under dptcp-run (A on
# port 7400, B on 7401), each in the middle of transfers with three Linux
# clients; A is killed with SIGKILL while its clients are still sending.
# A killed Linux process has its sockets closed by the kernel: reset where
# data is left unread (A's clients keep sending, so its receive side is
# never empty): every A client sees ECONNRESET (or EPIPE on a send after
# it). B's transfers finish intact (SHA-256). A restarted at once listens
# on the same port (its bind/listen would fail if the dead listener were
# still there) and echoes. Once everything settles dptcpd holds no slot,
# no orphan connection, no connection but the two listeners, and as many
# mbufs as before the transfers.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=shim_lib.sh
. "$(dirname "$0")/shim_lib.sh"
shim_init shim_kill9
dpt_net_up 1500
shim_start_dptcpd "[tcp]\nmsl_ms = 500"
shim_bg "$DPT_PY" "$SHIM_DIR/echo_servers.py" threads 7400 "$DPT_TMP/ready.A"
prog_a=$SHIM_BG_PID
shim_bg "$DPT_PY" "$SHIM_DIR/echo_servers.py" selectors 7401 "$DPT_TMP/ready.B"
for m in A B; do
	shim_wait_file "$DPT_TMP/ready.$m" "echo server $m"
	dpt_log "server $m under dptcp-run: listening on $(cat "$DPT_TMP/ready.$m")"
done
# The clients run in the background: they tell us (file "flowing") when
# every connection has had bytes echoed, then wait for "restarted".
dpt_py - "$DP_IP" "$DPT_FILE_PREFIX" "$DPT_TMP" >"$DPT_TMP/clients.out" 2>&1 <<'PYEOF' &
import hashlib, os, socket, sys, threading, time
from dptlib import check, log, main_guard, wait_no_conns, fmt_counts, tel, mbufs_in_use

ip, prefix, tmp = sys.argv[1], sys.argv[2], sys.argv[3]
CONNS, SIZE_B, CHUNK = 3, 16 << 20, 1 << 16

def echo_one(port, size, results, k, flowing):
    """Send size random bytes (half-close after), read them back."""
    data = os.urandom(size)
    s = socket.create_connection((ip, port), timeout=120)  # hang protection
    got = hashlib.sha256()
    n = [0]

    def reader():
        while True:
            b = s.recv(CHUNK)
            if not b:
                break
            got.update(b)
            n[0] += len(b)
            if n[0] >= (1 << 20):
                flowing.add(k)
    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(300)
    s.close()
    results[k] = (n[0], got.hexdigest() == hashlib.sha256(data).hexdigest())

def victim(results, k, flowing):
    """Send to A until it dies; record how the connection ended."""
    s = socket.create_connection((ip, 7400), timeout=120)
    end = {}
    n = [0]

    def reader():
        try:
            while True:
                b = s.recv(CHUNK)
                if not b:
                    # Nothing was unread at the kill: a FIN first, as
                    # Linux sends; our next data then draws the reset.
                    end["eof_first"] = True
                    return
                n[0] += len(b)
                if n[0] >= (1 << 20):
                    flowing.add(k)
        except ConnectionResetError:
            end.setdefault("how", "ECONNRESET")
        except OSError as e:
            end.setdefault("how", "recv error %s" % e)
    t = threading.Thread(target=reader)
    t.start()
    buf = os.urandom(CHUNK)
    try:
        while True:                     # until the reset stops us
            s.sendall(buf)
    except ConnectionResetError:
        end.setdefault("how", "ECONNRESET")
    except BrokenPipeError:
        end.setdefault("how", "ECONNRESET")   # EPIPE after the reset
    except OSError as e:
        end.setdefault("how", "send error %s" % e)
    t.join(60)
    s.close()
    how = end.get("how", "?")
    if end.get("eof_first"):
        how = "EOF, then " + how if how != "ECONNRESET" else how
        log("A conn %d: FIN before the reset (nothing was unread when it died)" % k[1])
    results[k] = (n[0], how)

def say(name):
    with open(os.path.join(tmp, name + ".tmp"), "w") as f:
        f.write("yes\n")
    os.rename(os.path.join(tmp, name + ".tmp"), os.path.join(tmp, name))

def run():
    mbuf_start = mbufs_in_use(prefix)
    log("before: mbufs in use %s" % mbuf_start)
    res_a, res_b, flowing = {}, {}, set()
    ts = [threading.Thread(target=victim, args=(res_a, ("A", i), flowing))
          for i in range(CONNS)]
    ts += [threading.Thread(target=echo_one, args=(7401, SIZE_B, res_b, ("B", i), flowing))
           for i in range(CONNS)]
    for t in ts:
        t.start()
    deadline = time.monotonic() + 120     # hang protection
    while len(flowing) < 2 * CONNS and time.monotonic() < deadline:
        time.sleep(0.05)
    check(len(flowing) == 2 * CONNS, "only %d connections got data flowing" % len(flowing))
    log("all %d connections are transferring: killing A" % (2 * CONNS))
    say("flowing")
    for t in ts:
        t.join(600)
    for k, (n, how) in sorted(res_a.items()):
        log("A conn %d: %d bytes echoed, then %s" % (k[1], n, how))
        check(how == "ECONNRESET", "A conn %d ended with %s, expected a reset" % (k[1], how))
    for k, (n, same) in sorted(res_b.items()):
        log("B conn %d: sent %d, got %d back then EOF, sha256 %s"
            % (k[1], SIZE_B, n, "equal" if same else "DIFFERENT"))
        check(n == SIZE_B and same, "B conn %d is wrong" % k[1])
    check(len(res_a) == CONNS and len(res_b) == CONNS, "not every connection finished")
    # A restarted: it must serve at once.
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(tmp, "restarted")):
        check(time.monotonic() < deadline, "A was not restarted")
        time.sleep(0.05)
    res = {}
    echo_one(7400, 1 << 20, res, ("A2", 0), set())
    n, same = res[("A2", 0)]
    log("restarted A: 1 MiB echoed, sha256 %s" % ("equal" if same else "DIFFERENT"))
    check(n == 1 << 20 and same, "restarted A echoed %d bytes wrongly" % n)
    counts = wait_no_conns(prefix, 60)
    log("dptcp connections after the clients closed: %s" % fmt_counts(counts))
    check(counts.get("LISTEN", 0) >= 2, "listeners missing: %s" % fmt_counts(counts))
    deadline = time.monotonic() + 20
    while True:                          # packets in flight hold mbufs briefly
        st = tel(prefix, "/dptcp/shim")
        mbuf_end = mbufs_in_use(prefix)
        if (st["slots_bound"] == 0 and st["orphans"] == 0 and mbuf_end == mbuf_start) \
                or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    log("/dptcp/shim: %s" % {k: v for k, v in st.items() if v})
    log("after: mbufs in use %s" % mbuf_end)
    check(st["slots_bound"] == 0 and st["orphans"] == 0, "dptcpd holds slots: %s" % st)
    check(st["programs_now"] == 2, "programs attached: %s" % st)
    check(st["programs_detached"] == 1, "the killed program was not reclaimed: %s" % st)
    check(st["violations"] == 0, "protocol violations: %s" % st)
    check(mbuf_end == mbuf_start, "mbufs in use %s, before %s" % (mbuf_end, mbuf_start))

main_guard(run)
PYEOF
clients=$!
DPT_PIDS+=("$clients")
for ((i = 0; i < 1300; i++)); do
	[[ -e $DPT_TMP/flowing ]] && break
	kill -0 "$clients" 2>/dev/null || break
	sleep 0.1
done
[[ -e $DPT_TMP/flowing ]] || { cat "$DPT_TMP/clients.out" >&2; dpt_fail "transfers did not start"; }
kill -KILL "$prog_a"
wait "$prog_a" 2>/dev/null || true
dpt_log "A (pid $prog_a): SIGKILL; restarting it on the same port"
rm -f "$DPT_TMP/ready.A"
shim_bg "$DPT_PY" "$SHIM_DIR/echo_servers.py" threads 7400 "$DPT_TMP/ready.A"
prog_a2=$SHIM_BG_PID
shim_wait_file "$DPT_TMP/ready.A" "restarted A"
kill -0 "$prog_a2" 2>/dev/null || dpt_fail "restarted A exited"
dpt_log "restarted A (pid $prog_a2): listening on $(cat "$DPT_TMP/ready.A")"
: >"$DPT_TMP/restarted"
rc=0
wait "$clients" || rc=$?
cat "$DPT_TMP/clients.out"
((rc == 0)) || dpt_fail "the Linux clients failed"
dpt_log "A's peers saw resets, B's transfers were intact, A listened again at once, nothing leaked"
