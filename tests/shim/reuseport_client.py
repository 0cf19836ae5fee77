"""reuseport_client.py ADDR PORT N — N connections to ADDR:PORT (each from
a new source port); every one must be answered by a name; prints the
count per name, and fails unless two names shared them."""
import socket
import sys

from dptlib import check, log, main_guard


def run():
    addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seen = {}
    for _ in range(n):
        s = socket.create_connection((addr, port), timeout=20)
        buf = b""
        while True:
            d = s.recv(100)
            if not d:
                break
            buf += d
        s.close()
        name = buf.decode().strip()
        check(name, "a connection got no name")
        seen[name] = seen.get(name, 0) + 1
    log("connections per listener: %s" % seen)
    check(len(seen) == 2, "expected both listeners to get connections: %s" % seen)


main_guard(run)
