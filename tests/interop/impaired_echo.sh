#!/bin/bash
# impaired_echo: the Linux kernel sends 64 MiB to dptcp-echo and reads the
# 64 MiB echo back through the seeded impairment bridge: 2 % loss in each
# direction, 5 ms ± 1 ms delay each way, 5 % reordering. What comes back is
# byte-for-byte what was sent (SHA-256, length). While the transfer runs,
# Linux's TCP_INFO (tcpi_options) shows window scaling, timestamps and SACK
# negotiated with dptcp (this kernel's `ss -i` does not print them; its
# line is logged as it is). The run reports dptcp's retransmissions, fast
# retransmits, recoveries, tail-loss probes and RTO expiries (reported,
# not asserted: how many a run needs depends on the draws), and Linux's
# tcpi_total_retrans and tcpi_reordering. The first argument names dptcp's
# congestion control (cubic, the default, or newreno): issue 6 asks for
# both against Linux.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=impair_lib.sh
. "$(dirname "$0")/impair_lib.sh"
CC=${1:-cubic}
case $CC in cubic|newreno) ;; *) echo "impaired_echo: unknown congestion control '$CC'" >&2; exit 2 ;; esac
dpt_impair_init impaired_echo
: "${DPTCP_ECHO:?DPTCP_ECHO must name the dptcp-echo binary}"
dpt_need ss
dpt_impair_net_up 1500
SEED=${DPT_SEED:-$((RANDOM * 32768 + RANDOM))}
dpt_impair_start --dir both --loss 0.02 --delay-ms 5 --jitter-ms 1 \
	--reorder 0.05 --seed "$SEED"
cat >"$DPT_TMP/echo.ini" <<EOF
[tcp]
rcv_buf_bytes = 4194304
snd_buf_bytes = 4194304
cc = $CC
EOF
echo "impaired_echo: dptcp-echo runs congestion control $CC"
dpt_start_app "$DPTCP_ECHO" 7 "$DPT_TMP/echo.ini"
dpt_py - "$DP_IP" 7 "$DPT_FILE_PREFIX" "$NS_PEER" <<'PYEOF'
import hashlib, os, random, socket, subprocess, sys, threading, time
from dptlib import Fail, check, log, main_guard, stat, wait_no_conns, fmt_counts

ip, port, prefix, ns = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
TOTAL = 64 << 20
CHUNK = 256 << 10
seed = int.from_bytes(os.urandom(4), "big")

def tcp_options(s):
    """What Linux negotiated, from struct tcp_info: tcpi_options (byte 5:
    TCPI_OPT_TIMESTAMPS 1, SACK 2, WSCALE 4) and the two window shifts
    (byte 6: snd_wscale low nibble, rcv_wscale high nibble)."""
    b = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    opts, ws = b[5], b[6]
    return {"ts": bool(opts & 1), "sack": bool(opts & 2), "wscale": bool(opts & 4),
            "snd_wscale": ws & 15, "rcv_wscale": ws >> 4}

def run():
    rng = random.Random(seed)
    log("64 MiB each way through 2%% loss, 5±1 ms, 5%% reorder (payload seed %d)" % seed)
    s = socket.create_connection((ip, port), timeout=120)  # hang protection per call
    sent_hash, got_hash = hashlib.sha256(), hashlib.sha256()
    err, info = [], []

    def writer():
        try:
            left = TOTAL
            while left:
                n = min(CHUNK, left)
                buf = rng.randbytes(n)
                sent_hash.update(buf)
                s.sendall(buf)
                left -= n
                if not info and left < TOTAL // 2:
                    info.append(tcp_options(s))
                    info.append(subprocess.run(["ss", "-tin", "dst", ip],
                                               capture_output=True, text=True).stdout)
            s.shutdown(socket.SHUT_WR)
        except Exception as e:  # reported by the main thread
            err.append(e)

    t0 = time.monotonic()
    t = threading.Thread(target=writer)
    t.start()
    got = 0
    try:
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            got_hash.update(b)
            got += len(b)
    except socket.timeout:
        raise Fail("no data for 120 s after %d of %d bytes" % (got, TOTAL))
    finally:
        t.join(300)
    secs = time.monotonic() - t0
    # struct tcp_info: tcpi_reordering (u32) at offset 88, tcpi_total_retrans at 100
    ti = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    linux_reord = int.from_bytes(ti[88:92], sys.byteorder)
    linux_retrans = int.from_bytes(ti[100:104], sys.byteorder)
    s.close()
    check(not err, "writer failed: %r" % (err[:1],))
    log("echoed %d bytes in %.1f s (%.1f MB/s each way)" % (got, secs, got / secs / 1e6))
    check(got == TOTAL, "received %d bytes, sent %d" % (got, TOTAL))
    check(got_hash.digest() == sent_hash.digest(), "echoed bytes differ from sent bytes")
    opts = info[0] if info else {}
    log("Linux's TCP_INFO mid-transfer: %s" % opts)
    if len(info) > 1:
        log("ss -tin mid-transfer: %s" % " ".join(info[1].split()))
    log("Linux: total_retrans %d, reordering %d" % (linux_retrans, linux_reord))
    check(opts.get("wscale") and opts.get("snd_wscale", 0) > 0,
          "window scaling not negotiated (or dptcp offers shift 0): %s" % opts)
    check(opts.get("ts"), "timestamps not negotiated: %s" % opts)
    check(opts.get("sack"), "SACK not negotiated: %s" % opts)
    counts = wait_no_conns(prefix, 60)
    log("dptcp connections after close: %s" % fmt_counts(counts))
    names = ["retransmits", "fast_retransmits", "recoveries", "sack_recoveries",
             "tlp_probes", "tlp_recoveries", "tlp_spurious", "rto_expired", "rx_dsack",
             "tx_dsack", "undo_dsack", "undo_ts", "rack_lost_resends", "rx_ooo_queued"]
    log("dptcp: " + ", ".join("%s %s" % (n, stat(prefix, n)) for n in names))

main_guard(run)
PYEOF
dpt_impair_stop
dpt_log "bridge: ab lost $(dpt_impair_stat ab lost), ba lost $(dpt_impair_stat ba lost), seed $SEED"
dpt_log "PASS"
