"""reuseport_server.py NAME PORT READY_FILE [reuseport|plain] — run under
dptcp-run. "reuseport": bind with SO_REUSEPORT, listen, write READY, then
answer every connection with NAME and close it, until killed. "plain":
bind without SO_REUSEPORT; print the errno name of bind (EADDRINUSE
expected) and exit 0 whatever it was."""
import errno
import os
import socket
import sys

name, port, ready, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ls = socket.socket()
if mode == "reuseport":
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
try:
    ls.bind(("0.0.0.0", port))
except OSError as e:
    print("bind: %s" % errno.errorcode.get(e.errno, e.errno), flush=True)
    sys.exit(0)
if mode != "reuseport":
    print("bind: 0", flush=True)
    sys.exit(0)
ls.listen(64)
with open(ready + ".tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(ready + ".tmp", ready)
while True:
    c, _ = ls.accept()
    c.sendall(name.encode() + b"\n")
    c.close()
