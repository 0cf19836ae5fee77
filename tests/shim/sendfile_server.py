"""A minimal HTTP/1.0 file server that sends bodies with sendfile(2), run
under dptcp-run by shim_sendfile.sh.

GET /block/NAME : blocking socket, socket.sendfile() (os.sendfile with an
                  offset: the offset-pointer form of sendfile(2));
GET /nb/NAME    : non-blocking socket, os.sendfile(out, in, None, count)
                  (the file-position form) in a select() loop: partial
                  sends and EAGAIN; afterwards the file position must equal
                  the bytes sent (a partial send must not consume more of
                  the file than went out).
Before serving it checks sendfile's argument errors on a connected socket
when the first request arrives and logs one line per check.

usage: sendfile_server.py ADDR PORT DIR READYFILE"""
import errno
import os
import select
import socket
import sys

addr, port, root, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def log(msg):
    print(msg, flush=True)


def read_request(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = c.recv(4096)
        if not b:
            return None
        buf += b
    return buf.split(b" ")[1].decode()


def header(c, size):
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % size)


def serve_nonblocking(c, f, size):
    c.setblocking(False)
    sent = 0
    eagain = 0
    partial = 0
    while sent < size:
        want = min(size - sent, 1 << 20)
        try:
            n = os.sendfile(c.fileno(), f.fileno(), None, want)
        except BlockingIOError:
            eagain += 1
            select.select([], [c], [], 30)
            continue
        if n == 0:
            raise RuntimeError("sendfile returned 0 before the end")
        if n < want:
            partial += 1
        sent += n
        pos = os.lseek(f.fileno(), 0, os.SEEK_CUR)
        if pos != sent:
            raise RuntimeError("file position %d after %d bytes sent" % (pos, sent))
    log("nb: %d bytes, %d partial sends, %d EAGAIN, file position = bytes sent" %
        (sent, partial, eagain))


def checks(c):
    """sendfile(2)'s errors and edge cases on a connected dptcp socket."""
    path = os.path.join(root, "small.txt")
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            os.sendfile(c.fileno(), fd, -1, 10)
            log("check: negative offset: no error")
        except OSError as e:
            log("check: negative offset: %s" % errno.errorcode[e.errno])
        size = os.fstat(fd).st_size
        n = os.sendfile(c.fileno(), fd, size, 10)
        log("check: offset at EOF: %d" % n)
        n = os.sendfile(c.fileno(), fd, 0, 0)
        log("check: count 0: %d" % n)
        wfd = os.open(path, os.O_WRONLY)
        try:
            os.sendfile(c.fileno(), wfd, 0, 10)
            log("check: write-only file: no error")
        except OSError as e:
            log("check: write-only file: %s" % errno.errorcode[e.errno])
        finally:
            os.close(wfd)
    finally:
        os.close(fd)


ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((addr, port))
ls.listen(16)
with open(ready, "w") as r:
    r.write("ready\n")
checked = False
while True:
    c, _ = ls.accept()
    path = read_request(c)
    if path is None:
        c.close()
        continue
    if path == "/quit":
        c.close()
        break
    kind, name = path.strip("/").split("/", 1)
    with open(os.path.join(root, name), "rb") as f:
        size = os.fstat(f.fileno()).st_size
        header(c, size)
        if not checked:
            checks(c)        # sends nothing: every call moves 0 bytes
            checked = True
        if kind == "block":
            n = c.sendfile(f)
            log("block: %d bytes with socket.sendfile" % n)
        else:
            serve_nonblocking(c, f, size)
    c.close()
