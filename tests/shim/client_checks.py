"""Client-side checks run under dptcp-run (/usr/bin/python3): connects to
a Linux echo server in the peer namespace through dptcp.
Usage: client_checks.py PEER_IP ECHO_PORT CLOSED_PORT DP_IP"""
import errno
import hashlib
import os
import select
import socket
import sys
import threading

peer, port, closed, dp_ip = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]


def check(cond, msg):
    if not cond:
        print("FAIL: " + msg, flush=True)
        sys.exit(1)


def log(msg):
    print(msg, flush=True)


def echo(s, size):
    data = os.urandom(size)
    got = []

    def rd():
        while True:
            b = s.recv(65536)
            if not b:
                break
            got.append(b)

    t = threading.Thread(target=rd)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(120)
    back = b"".join(got)
    return hashlib.sha256(back).digest() == hashlib.sha256(data).digest() and len(back) == size


# 1. Blocking connect, names, 4 MiB each way, half-close, EOF.
s = socket.socket()
s.connect((peer, port))
lip, lport = s.getsockname()
check(lip == dp_ip and 32768 <= lport <= 60999,
      "getsockname %s:%d: expected dptcp's %s and an ephemeral port" % (lip, lport, dp_ip))
check(s.getpeername() == (peer, port), "getpeername %r" % (s.getpeername(),))
check(echo(s, 4 << 20), "blocking echo of 4 MiB differs")
s.close()
log("blocking connect from %s:%d: 4 MiB echoed intact, EOF after half-close" % (lip, lport))

# 2. Non-blocking connect: EINPROGRESS, POLLOUT, SO_ERROR 0.
s = socket.socket()
s.setblocking(False)
e = s.connect_ex((peer, port))
check(e == errno.EINPROGRESS, "non-blocking connect returned %s, expected EINPROGRESS" % errno.errorcode.get(e, e))
p = select.poll()
p.register(s, select.POLLOUT)
ev = p.poll(10000)
check(ev and ev[0][1] & select.POLLOUT, "no POLLOUT after non-blocking connect: %r" % ev)
check(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0, "SO_ERROR not 0")
# Linux: the next connect() reports the outcome (0), the one after EISCONN.
e = s.connect_ex((peer, port))
check(e == 0, "second connect: %s, expected 0" % errno.errorcode.get(e, e))
e = s.connect_ex((peer, port))
check(e == errno.EISCONN, "third connect: %s, expected EISCONN" % errno.errorcode.get(e, e))
s.setblocking(True)
check(echo(s, 256 << 10), "echo after non-blocking connect differs")
s.close()
log("non-blocking connect: EINPROGRESS, then POLLOUT, SO_ERROR 0, connect again 0 then EISCONN; 256 KiB echoed")

# 3. Refused, blocking.
s = socket.socket()
try:
    s.connect((peer, closed))
    check(False, "connect to a closed port succeeded")
except ConnectionRefusedError:
    pass
s.close()
log("blocking connect to closed port %d: ECONNREFUSED" % closed)

# 4. Refused, non-blocking: POLLOUT|POLLERR|POLLHUP, SO_ERROR ECONNREFUSED once.
s = socket.socket()
s.setblocking(False)
e = s.connect_ex((peer, closed))
check(e == errno.EINPROGRESS, "non-blocking connect: %s" % errno.errorcode.get(e, e))
p = select.poll()
p.register(s, select.POLLOUT)
ev = p.poll(10000)
check(ev and ev[0][1] & select.POLLERR and ev[0][1] & select.POLLHUP,
      "refused: poll says %r, expected POLLERR|POLLHUP" % ev)
err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
check(err == errno.ECONNREFUSED, "SO_ERROR %s, expected ECONNREFUSED" % errno.errorcode.get(err, err))
check(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0, "SO_ERROR not cleared")
s.close()
log("non-blocking connect to closed port: poll POLLERR|POLLHUP, SO_ERROR ECONNREFUSED then 0")

# 5. Python's own timeout machinery (non-blocking + poll) and options.
s = socket.create_connection((peer, port), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
check(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1, "TCP_NODELAY not kept")
s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
check(s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1, "SO_KEEPALIVE not kept")
try:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 0)
    check(False, "TCP_KEEPCNT 0 accepted")
except OSError as x:
    check(x.errno == errno.EINVAL, "TCP_KEEPCNT 0: %s" % x)
check(s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM, "SO_TYPE")
s.sendall(b"ping\n")
check(s.recv(100) == b"ping\n", "echo with timeout set")
s.settimeout(0.3)
try:
    s.recv(100)
    check(False, "recv returned without data")
except socket.timeout:
    pass
s.close()
log("create_connection(timeout=10), TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPCNT=0 -> EINVAL, recv timeout: as Linux")
log("client checks: OK")
