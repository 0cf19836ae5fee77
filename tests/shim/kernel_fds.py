"""Run under dptcp-run (/usr/bin/python3): the program's kernel fds work as
without the shim, and mix with a dptcp socket in epoll, poll and select.
Usage: kernel_fds.py TMPDIR PEER_IP ECHO_PORT"""
import errno
import fcntl
import os
import select
import socket
import struct
import sys
import termios

tmp, peer, port = sys.argv[1], sys.argv[2], int(sys.argv[3])


def check(cond, msg):
    if not cond:
        print("FAIL: " + msg, flush=True)
        sys.exit(1)


def log(msg):
    print(msg, flush=True)


# A file.
path = os.path.join(tmp, "kf.txt")
with open(path, "wb") as f:
    f.write(b"x" * 100000)
fd = os.open(path, os.O_RDONLY)
check(len(os.read(fd, 200000)) == 100000, "file read")
os.close(fd)
log("file: 100000 bytes written and read back")

# A pipe.
r, w = os.pipe()
os.write(w, b"through the pipe")
check(select.select([r], [], [], 5)[0] == [r], "select on a pipe")
check(os.read(r, 100) == b"through the pipe", "pipe read")
log("pipe: write, select, read")

# AF_UNIX: a socketpair and a listening socket.
x, y = socket.socketpair()
x.sendall(b"unix pair")
check(y.recv(100) == b"unix pair", "socketpair")
upath = os.path.join(tmp, "u.sock")
us = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
us.bind(upath)
us.listen(1)
uc = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
uc.connect(upath)
ua, _ = us.accept()
uc.sendall(b"unix stream")
check(ua.recv(100) == b"unix stream", "AF_UNIX stream")
log("AF_UNIX: socketpair and a listening socket")

# UDP on loopback.
u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u1.bind(("127.0.0.1", 0))
u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u2.sendto(b"datagram", u1.getsockname())
data, addr = u1.recvfrom(100)
check(data == b"datagram" and addr[0] == "127.0.0.1", "UDP")
log("UDP: a datagram over 127.0.0.1")

# TCP over loopback stays the kernel's.
kl = socket.socket()
kl.bind(("127.0.0.1", 0))
kl.listen(1)
kc = socket.create_connection(kl.getsockname(), timeout=10)
ka, _ = kl.accept()
kc.sendall(b"kernel tcp")
check(ka.recv(100) == b"kernel tcp", "kernel TCP")
check(kc.getsockname()[0] == "127.0.0.1", "kernel TCP local address")
log("TCP to 127.0.0.1: the kernel's (local address %s:%d)" % kc.getsockname())

# A dptcp connection, with dup, flags and FIONREAD.
d = socket.create_connection((peer, port), timeout=10)
d.settimeout(None)
fd2 = os.dup(d.fileno())
# Python's os.dup is F_DUPFD_CLOEXEC (PEP 446): the kernel keeps the flag.
check(fcntl.fcntl(fd2, fcntl.F_GETFD) & fcntl.FD_CLOEXEC, "os.dup() sets FD_CLOEXEC")
fcntl.fcntl(fd2, fcntl.F_SETFD, 0)
check(fcntl.fcntl(fd2, fcntl.F_GETFD) & fcntl.FD_CLOEXEC == 0, "FD_CLOEXEC cleared")
d2 = socket.socket(fileno=fd2)
d.close()                         # the dup keeps the connection
d2.sendall(b"via the dup")
check(d2.recv(100) == b"via the dup", "dup'ed dptcp socket")
fd3 = 900
os.dup2(d2.fileno(), fd3)
os.write(fd3, b"dup2")
check(os.read(fd3, 100) == b"dup2", "dup2'ed dptcp socket")
os.close(fd3)
fl = fcntl.fcntl(d2.fileno(), fcntl.F_GETFL)
fcntl.fcntl(d2.fileno(), fcntl.F_SETFL, fl | os.O_NONBLOCK)
check(fcntl.fcntl(d2.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK, "O_NONBLOCK")
try:
    os.read(d2.fileno(), 10)
    check(False, "non-blocking read returned data")
except BlockingIOError:
    pass
fcntl.fcntl(d2.fileno(), fcntl.F_SETFL, fl)
d2.sendall(b"12345")
select.select([d2], [], [], 10)
n = struct.unpack("i", fcntl.ioctl(d2.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
check(n == 5, "FIONREAD %d, expected 5" % n)
check(d2.recv(5) == b"12345", "recv after FIONREAD")
log("dptcp socket: dup, close the original, dup2 to fd 900, FD_CLOEXEC, O_NONBLOCK (EAGAIN), FIONREAD")

# epoll with a pipe and the dptcp socket: LT, ET, ONESHOT, RDHUP.
ep = select.epoll()
ep.register(r, select.EPOLLIN)
ep.register(d2.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
check(ep.poll(0) == [], "nothing ready yet")
os.write(w, b"p")
ev = dict(ep.poll(5))
check(ev.get(r, 0) & select.EPOLLIN and d2.fileno() not in ev, "epoll: the pipe alone: %r" % ev)
os.read(r, 1)
d2.sendall(b"echo")
ev = {}
for _ in range(50):
    ev = dict(ep.poll(0.2))
    if ev:
        break
check(ev.get(d2.fileno(), 0) & select.EPOLLIN and r not in ev, "epoll: the dptcp socket alone: %r" % ev)
ev = dict(ep.poll(0))
check(ev.get(d2.fileno(), 0) & select.EPOLLIN, "level-triggered: reported again while unread")
check(d2.recv(100) == b"echo", "echo via epoll")
ep.modify(d2.fileno(), select.EPOLLIN | select.EPOLLET)
d2.sendall(b"edge")
select.select([d2], [], [], 10)
ev1 = dict(ep.poll(5))
ev2 = dict(ep.poll(0.1))
check(d2.fileno() in ev1 and d2.fileno() not in ev2, "edge-triggered: once (%r, %r)" % (ev1, ev2))
d2.recv(100)
ep.modify(d2.fileno(), select.EPOLLIN | select.EPOLLONESHOT)
d2.sendall(b"one")
select.select([d2], [], [], 10)
ev1 = dict(ep.poll(5))
ev2 = dict(ep.poll(0.1))
check(d2.fileno() in ev1 and d2.fileno() not in ev2, "oneshot: once (%r, %r)" % (ev1, ev2))
d2.recv(100)
log("epoll: pipe and dptcp socket in one set; LT, ET and ONESHOT as Linux")

# poll() and select() over both kinds.
p = select.poll()
p.register(r, select.POLLIN)
p.register(d2.fileno(), select.POLLIN | select.POLLOUT)
ev = dict(p.poll(1000))
check(ev.get(d2.fileno(), 0) & select.POLLOUT and r not in ev, "poll: dptcp writable, pipe empty: %r" % ev)
os.write(w, b"q")
rl, wl, _ = select.select([r, d2], [d2], [], 5)
check(r in rl and d2 in wl and d2 not in rl, "select: %r %r" % (rl, wl))
os.read(r, 1)
log("poll and select: a pipe and the dptcp socket together")

# The peer closes: EPOLLRDHUP, then EOF.
ep.modify(d2.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
d2.sendall(b"CLOSE")
ev = {}
for _ in range(50):
    ev = dict(ep.poll(0.2))
    if ev.get(d2.fileno(), 0) & select.EPOLLRDHUP:
        break
check(ev.get(d2.fileno(), 0) & select.EPOLLRDHUP, "no EPOLLRDHUP after the peer's FIN: %r" % ev)
check(d2.recv(100) == b"", "EOF after the peer's FIN")
d2.close()
ep.close()
log("peer's FIN: EPOLLRDHUP, then EOF")
log("kernel fds: OK")
