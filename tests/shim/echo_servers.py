"""Unmodified Python echo servers for the shim tests (run under dptcp-run
with /usr/bin/python3). Usage: echo_servers.py MODE PORT READY_FILE
  threads    one blocking thread per connection (accept in the main thread)
  selectors  one thread, non-blocking sockets, selectors.DefaultSelector
             (epoll), partial writes buffered until writable
Every byte received is sent back; on EOF the rest is sent, then close."""
import os
import selectors
import socket
import sys
import threading

mode, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]

ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", port))
ls.listen(64)


def say_ready():
    with open(ready + ".tmp", "w") as f:
        f.write("%s %s\n" % ls.getsockname())
    os.rename(ready + ".tmp", ready)


def serve_blocking(c):
    while True:
        b = c.recv(65536)
        if not b:
            break
        c.sendall(b)
    c.close()


def run_threads():
    say_ready()
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve_blocking, args=(c,), daemon=True).start()


def run_selectors():
    sel = selectors.DefaultSelector()
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ, None)
    pending = {}
    say_ready()
    while True:
        for key, ev in sel.select():
            s = key.fileobj
            if s is ls:
                try:
                    c, _ = ls.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                pending[c] = [bytearray(), False]
                sel.register(c, selectors.EVENT_READ, None)
                continue
            buf, eof = pending[s]
            if ev & selectors.EVENT_READ and not eof:
                try:
                    b = s.recv(65536)
                except BlockingIOError:
                    b = None
                if b == b"":
                    pending[s][1] = eof = True
                elif b:
                    buf += b
            if buf:
                try:
                    n = s.send(buf)
                    del buf[:n]
                except BlockingIOError:
                    pass
            if eof and not buf:
                sel.unregister(s)
                del pending[s]
                s.close()
                continue
            # Stop reading while a backlog waits (backpressure), write
            # when there is something to write.
            want = (0 if len(buf) > (1 << 20) or eof else selectors.EVENT_READ) | \
                   (selectors.EVENT_WRITE if buf else 0)
            sel.modify(s, want, None)


{"threads": run_threads, "selectors": run_selectors}[mode]()
