"""fork_server.py PORT READY_FILE — a forking server (run under dptcp-run).

The parent listens, accepts two connections, then forks: a "handoff" child
that serves the second connection after the parent closed its copy, and
two workers (A, B) that accept on the inherited listener (nginx-style).
The parent keeps the first connection ("keeper") and echoes on it until
EOF; then it kills the workers and accepts one connection itself. READY
gets "A_PID B_PID" once the workers are forked; READY.parent once the
parent accepts again; READY.listen once it listens. Exits 0 when all went as planned."""
import os
import signal
import socket
import sys

port, ready = int(sys.argv[1]), sys.argv[2]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", port))
ls.listen(64)
open(ready + ".listen", "w").write("listening\n")
keep, _ = ls.accept()
hand, _ = ls.accept()

hpid = os.fork()
if hpid == 0:                    # handoff child: the parent closes its copy
    ls.close()
    keep.close()
    data = hand.recv(100)
    hand.sendall(b"handoff child got " + data)
    hand.close()
    os._exit(0)
hand.close()

workers = []
for name in ("A", "B"):
    pid = os.fork()
    if pid == 0:
        keep.close()
        while True:
            c, _ = ls.accept()
            d = c.recv(100)
            c.sendall(("%s %d " % (name, os.getpid())).encode() + d)
            c.close()
    workers.append(pid)
with open(ready + ".tmp", "w") as f:
    f.write("%d %d\n" % tuple(workers))
os.rename(ready + ".tmp", ready)

while True:                      # the keeper outlives worker A's death
    d = keep.recv(100)
    if not d:
        break
    keep.sendall(b"parent " + d)
keep.close()
for w in workers:
    try:
        os.kill(w, signal.SIGKILL)
    except ProcessLookupError:
        pass
for p in [hpid] + workers:
    os.waitpid(p, 0)
with open(ready + ".parent", "w") as f:
    f.write("accepting\n")
c, _ = ls.accept()
c.sendall(b"parent accepted " + c.recv(100))
c.close()
ls.close()
sys.exit(0)
