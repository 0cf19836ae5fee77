#!/bin/bash
# echo_64mib: a Linux client sends 64 MiB of random bytes to dptcp-echo
# (writer thread) while reading the echo (main thread); what comes back is
# byte-for-byte what was sent (SHA-256 and length), then EOF after our FIN.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
dpt_init echo_64mib
: "${DPTCP_ECHO:?DPTCP_ECHO must name the dptcp-echo binary}"
dpt_net_up 1500
dpt_start_app "$DPTCP_ECHO" 7
dpt_py - "$DP_IP" 7 "$DPT_FILE_PREFIX" <<'PYEOF'
import hashlib, os, socket, sys, threading
from dptlib import Fail, check, log, main_guard, wait_no_conns, fmt_counts, stat, wait_stat

ip, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
TOTAL = 64 << 20
CHUNK = 256 << 10
seed = int.from_bytes(os.urandom(4), "big")

def run():
    import random
    rng = random.Random(seed)
    log("sending %d bytes (random, seed %d) to %s:%d" % (TOTAL, seed, ip, port))
    s = socket.create_connection((ip, port), timeout=60)  # hang protection per call
    sent_hash = hashlib.sha256()
    err = []

    def writer():
        try:
            left = TOTAL
            while left:
                n = min(CHUNK, left)
                buf = rng.randbytes(n)
                sent_hash.update(buf)
                s.sendall(buf)
                left -= n
            s.shutdown(socket.SHUT_WR)
        except Exception as e:  # reported by the main thread
            err.append(e)

    t = threading.Thread(target=writer)
    t.start()
    got_hash = hashlib.sha256()
    got = 0
    try:
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            got_hash.update(b)
            got += len(b)
    except socket.timeout:
        raise Fail("no data for 60 s after %d of %d bytes" % (got, TOTAL))
    finally:
        t.join(120)
    check(not t.is_alive(), "writer still blocked")
    check(not err, "writer failed: %r" % (err[:1],))
    s.close()
    log("received %d bytes, sha256 sent %s" % (got, sent_hash.hexdigest()))
    log("                    sha256 recv %s" % got_hash.hexdigest())
    check(got == TOTAL, "received %d bytes, sent %d" % (got, TOTAL))
    check(got_hash.digest() == sent_hash.digest(), "echoed bytes differ from sent bytes")
    counts = wait_no_conns(prefix, 60)
    log("dptcp connections after close: %s" % fmt_counts(counts))
    rx = wait_stat(prefix, "rx_bytes", lambda v: v >= TOTAL)
    if rx is not None:
        log("dptcp rx_bytes %d, tx_bytes %s, retransmits %s" %
            (rx, stat(prefix, "tx_bytes"), stat(prefix, "retransmits")))
        check(rx >= TOTAL, "dptcp rx_bytes %d < %d" % (rx, TOTAL))

main_guard(run)
PYEOF
