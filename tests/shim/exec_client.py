"""exec_client.py ADDR PORT — the Linux side of shim_exec (exec_server.py)."""
import socket
import sys

from dptlib import check, log, main_guard


def line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(100)
        check(d, "EOF before a full line (got %r)" % buf)
        buf += d
    return buf.decode().strip()


def run():
    addr, port = sys.argv[1], int(sys.argv[2])
    keep = socket.create_connection((addr, port), timeout=20)
    drop = socket.create_connection((addr, port), timeout=20)
    got = line(keep)
    check(got == "failed exec changed nothing", "keep: %r" % got)
    got = line(keep)
    check(got.startswith("new image "), "keep after exec: %r" % got)
    log("keep: %r" % got)
    keep.sendall(b"ping\n")
    got = line(keep)
    check(got == "echo ping", "keep echo: %r" % got)
    check(keep.recv(100) == b"", "keep: EOF after the new image closed it")
    d = drop.recv(100)
    check(d == b"", "the close-on-exec connection: EOF expected, got %r" % d)
    log("close-on-exec connection: EOF (FIN) after the exec")
    c = socket.create_connection((addr, port), timeout=20)
    got = line(c)
    check(got == "accepted by the new image", "new connection: %r" % got)
    log("new connection accepted on the inherited listener")


main_guard(run)
