"""fork_client.py IP PORT READY_FILE — drives fork_server.py from the peer
namespace and prints one line per check (the test greps "FAIL")."""
import os
import signal
import socket
import sys
import time

ip, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def wait_file(path):
    for _ in range(300):
        if os.path.exists(path):
            return open(path).read().split()
        time.sleep(0.1)
    fail("%s never appeared" % path)


def recv_all(s):
    got = b""
    while True:
        d = s.recv(4096)
        if not d:
            return got
        got += d


def one(data):
    s = socket.create_connection((ip, port), timeout=30)
    s.sendall(data)
    r = recv_all(s)
    s.close()
    return r.decode()


keep = socket.create_connection((ip, port), timeout=30)
hand = socket.create_connection((ip, port), timeout=30)
hand.sendall(b"x")
r = recv_all(hand)
if r != b"handoff child got x":
    fail("handoff connection: %r" % r)
print("connected socket used by a child after the parent closed its copy: %r then EOF" % r.decode())
pid_a, pid_b = (int(x) for x in wait_file(ready))
seen = {}
for i in range(20):
    r = one(b"ping%d" % i).split()
    if len(r) != 3 or r[0] not in ("A", "B") or r[2] != "ping%d" % i:
        fail("connection %d answered %r" % (i, r))
    seen[r[0]] = seen.get(r[0], 0) + 1
print("20 connections, each accepted once by a worker on the inherited listener: %s" % sorted(seen.items()))
os.kill(pid_a, signal.SIGKILL)
print("worker A (pid %d) killed with SIGKILL" % pid_a)
keep.sendall(b"after")
r = keep.recv(100)
if r != b"parent after":
    fail("keeper after the kill: %r" % r)
print("parent's connection still works after the child died: %r" % r.decode())
for i in range(10):
    r = one(b"again%d" % i).split()
    if len(r) != 3 or r[0] != "B":
        fail("after the kill, connection %d answered %r" % (i, r))
print("10 more connections all served by worker B: the listener outlives worker A")
keep.close()
wait_file(ready + ".parent")
r = one(b"z")
if r != "parent accepted z":
    fail("parent accept after the workers died: %r" % r)
print("workers gone, the parent accepts on its listener: %r" % r)
