"""A server that dies with connections open (run under dptcp-run).
Usage: hold.py exit|kill PORT READY_FILE
Accepts two connections and tells them apart by peeking at their first
byte: on 'A' it reads the 4 bytes sent and writes 1 MiB back; on 'B' it
reads nothing (100 bytes stay unread). Then it writes READY_FILE and
either exits at once without closing anything (exit) or waits to be
killed (kill)."""
import os
import select
import socket
import sys
import time

mode, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def say(what):
    with open(ready + ".tmp", "w") as f:
        f.write(what + "\n")
    os.rename(ready + ".tmp", ready)


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", port))
ls.listen(8)
say("listening")
conns = {}
while len(conns) < 2:
    c, _ = ls.accept()
    select.select([c], [], [], 30)
    conns[c.recv(1, socket.MSG_PEEK)] = c
a, b = conns[b"A"], conns[b"B"]
got = b""
while len(got) < 4:
    got += a.recv(4 - len(got))
# B's 100 bytes: all there, none read (FIONREAD sees them).
a.sendall(bytes(range(256)) * 4096)
say("held")
if mode == "exit":
    os._exit(0)
time.sleep(3600)
