/* preload_fork.c — fork() in a program using dptcp sockets: the child
 * becomes a new member of the program's group and inherits every dptcp
 * socket, listeners included, with Linux's lifetime (a socket lives while
 * any process holds a descriptor of it). The protocol is shm_proto.h
 * "FORK"; this file is the shim's half, run by pthread_atfork. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "preload_internal.h"

/* Written by the prepare handler, read by the parent / child handlers of
 * the same fork (ps_core_lock serialises forks). */
static int ps_fork_sock = -1;      /* the new member's Unix socket */
static uint32_t ps_fork_member;
static bool ps_fork_joined;

#define PS_FORK_WAIT_MS 5000

/* Ask dptcpd for a member for the child-to-be; true once every engine has
 * given it the parent's references (so nothing the child does can
 * overtake that copy). */
static bool
ps_fork_request(void)
{
	struct shm_fork_req req = { .magic = SHM_FORK_MAGIC,
				    .member = ps_shm.member };
	struct shm_fork_ack ack;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &req, .iov_len = sizeof(req) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	struct pollfd pf;
	int sv[2], saved = errno;
	bool ok = false;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		goto out;
	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &sv[1], sizeof(int));
	if (ps_real.sendmsg(ps_shm.ctl_fd, &mh, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(req)) {
		ps_real.close(sv[0]);
		ps_real.close(sv[1]);
		goto out;
	}
	ps_real.close(sv[1]);
	pf.fd = sv[0];
	pf.events = POLLIN;
	while (ps_real.poll(&pf, 1, PS_FORK_WAIT_MS) < 0 && errno == EINTR)
		;
	if ((pf.revents & POLLIN) &&
	    ps_real.recv(sv[0], &ack, sizeof(ack), MSG_DONTWAIT) ==
	    (ssize_t)sizeof(ack) && ack.magic == SHM_FORK_MAGIC &&
	    ack.status == 0 && ack.member < SHM_MAX_MEMBERS) {
		ps_fork_sock = sv[0];
		ps_fork_member = ack.member;
		ok = true;
	} else {
		ps_real.close(sv[0]);    /* dptcpd drops that member */
	}
out:
	errno = saved;
	return ok;
}

void
ps_fork_prepare(void)
{
	ps_core_lock();
	ps_fork_sock = -1;
	ps_fork_joined = false;
	if (atomic_load(&ps_shm.state) == 1 && !atomic_load(&ps_shm.dead))
		ps_fork_joined = ps_fork_request();
}

void
ps_fork_parent(void)
{
	/* The child has its copy; ours would keep the child's member alive. */
	if (ps_fork_sock >= 0)
		ps_real.close(ps_fork_sock);
	ps_fork_sock = -1;
	ps_core_unlock();
}

void
ps_fork_child(void)
{
	if (atomic_load(&ps_shm.state) != 1)
		ps_core_child(PS_CHILD_UNATTACHED, -1, 0);
	else if (ps_fork_joined)
		ps_core_child(PS_CHILD_JOINED, ps_fork_sock, ps_fork_member);
	else
		ps_core_child(PS_CHILD_DETACHED, -1, 0);
}
