#!/bin/bash
# connect_refused: a SYN to a port with no listener is answered with a RST
# (RFC 9293 §3.10.7.1): the kernel's connect() fails with ECONNREFUSED,
# while the port that has a listener accepts.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
dpt_init connect_refused
: "${DPTCP_ECHO:?DPTCP_ECHO must name the dptcp-echo binary}"
dpt_net_up 1500
dpt_start_app "$DPTCP_ECHO" 7
dpt_py - "$DP_IP" 7 "$DPT_FILE_PREFIX" <<'PYEOF'
import errno, socket, sys
from dptlib import check, log, main_guard, stat, wait_stat

ip, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def attempt(p):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(60)  # hang protection: a lost SYN would retry for minutes
    try:
        s.connect((ip, p))
        return 0
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return e.errno
    finally:
        s.close()

def run():
    rst_before = stat(prefix, "tx_rst")
    # The listener's port first: proves the path works at all.
    check(attempt(port) == 0, "connect to the listening port %d failed" % port)
    for p in (port + 1, 80, 65535):
        r = attempt(p)
        log("connect to %s:%d -> %s" % (ip, p, errno.errorcode.get(r, r) if r else "connected"))
        check(r == errno.ECONNREFUSED,
              "connect to port %d without listener: expected ECONNREFUSED, got %s"
              % (p, errno.errorcode.get(r, r) if r else "success"))
    rst_after = wait_stat(prefix, "tx_rst", lambda v: v - (rst_before or 0) >= 3)
    if rst_before is None or rst_after is None:
        log("note: /dptcp/stats has no tx_rst counter; RST count not checked")
    else:
        log("dptcp tx_rst: %d -> %d" % (rst_before, rst_after))
        check(rst_after - rst_before >= 3, "dptcp counted %d RSTs, expected >= 3"
              % (rst_after - rst_before))

main_guard(run)
PYEOF
