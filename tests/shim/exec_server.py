"""exec_server.py PORT READY_FILE — a server that execs itself (run under
dptcp-run): dptcp sockets without FD_CLOEXEC must keep working in the new
image, close-on-exec ones must be closed by the exec.

Stage 1 listens (inheritable), accepts "keep" (made inheritable) and
"drop" (Python's default: close-on-exec), tries an exec that fails and
checks that "keep" still works, then execs itself with the fd numbers.
Stage 2 (the new image, same pid) finds "drop" gone, talks on "keep" and
accepts a new connection on the inherited listener. READY gets the pid
once it listens. Exits 0 when all went as planned."""
import os
import socket
import sys


def stage1(port, ready):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(16)
    ls.set_inheritable(True)
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(ready + ".tmp", ready)
    keep, _ = ls.accept()
    drop, _ = ls.accept()
    keep.set_inheritable(True)
    assert not drop.get_inheritable()
    try:
        os.execv("/nonexistent/dptcp-exec-test", ["x"])
    except OSError as e:
        print("failed exec: %s (as expected)" % e.strerror, flush=True)
    keep.sendall(b"failed exec changed nothing\n")
    os.execv(sys.executable, [sys.executable, "-u", __file__, "--stage2",
                              str(ls.fileno()), str(keep.fileno()),
                              str(drop.fileno()), str(os.getpid())])


def stage2(lfd, kfd, dfd, pid):
    assert os.getpid() == pid, "exec keeps the pid"
    try:
        os.fstat(dfd)
        print("FAIL: the close-on-exec socket is still open", flush=True)
        sys.exit(1)
    except OSError:
        pass
    ls = socket.socket(fileno=lfd)
    keep = socket.socket(fileno=kfd)
    keep.sendall(b"new image %d\n" % os.getpid())
    data = keep.recv(100)
    keep.sendall(b"echo " + data)
    keep.close()
    c, _ = ls.accept()
    c.sendall(b"accepted by the new image\n")
    c.close()
    ls.close()
    print("stage 2 done", flush=True)


if sys.argv[1] == "--stage2":
    stage2(*(int(a) for a in sys.argv[2:6]))
else:
    stage1(int(sys.argv[1]), sys.argv[2])
