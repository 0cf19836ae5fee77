/* preload_internal.h — what the files of libdptcp_preload.so share: the
 * attachment to dptcpd (preload_core.c), the table of dptcp sockets by fd,
 * channels and commands, readiness and waiting; the socket calls
 * (preload_sock.c) and poll/select/epoll (preload_poll.c) build on it.
 *
 * A dptcp socket is a kernel eventfd whose number is the socket's fd: it
 * comes from the kernel's fd space (no collision with the program's other
 * fds, dup/dup2 work, FD_CLOEXEC is the kernel's), and the shim's table
 * maps that number to a struct ps_sock. socket() always makes a kernel
 * socket: only bind() (to dptcp's address or INADDR_ANY) or connect() (to
 * an address dptcp reaches) decide that an unbound AF_INET stream socket
 * is dptcp's; then its options and flags are read from the kernel socket
 * and an eventfd is dup3()ed over the same fd number. Every other fd is
 * the kernel's, untouched. */
#ifndef PRELOAD_INTERNAL_H
#define PRELOAD_INTERNAL_H

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "shm_proto.h"

#define PS_EXPORT __attribute__((visibility("default")))
#define PS_FD_MAX 65536

/* The real libc functions (dlsym RTLD_NEXT), resolved at load. */
struct ps_real {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*shutdown)(int, int);
	int (*close)(int);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
	int (*epoll_create)(int);
	int (*epoll_create1)(int);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
	int (*epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *,
			    const sigset_t *);
};
extern struct ps_real ps_real;

enum ps_kind {
	PS_FRESH,      /* taken by connect(): no local address yet */
	PS_BOUND,      /* bound to a dptcp address, not listening or connected */
	PS_LISTEN,
	PS_CONN,
};

/* One dptcp socket (an open file description: dup()s share it). */
struct ps_sock {
	pthread_mutex_t mu;       /* state changes: connect, listen, close */
	pthread_mutex_t rx_mu;    /* readers, one at a time */
	pthread_mutex_t tx_mu;    /* writers, one at a time */
	_Atomic int fdrefs;       /* fds naming it */
	_Atomic int refs;         /* fds + calls in progress + epoll items */
	_Atomic int dead;         /* its last fd is closed */
	enum ps_kind kind;
	uint32_t slot, gen, engine;
	_Atomic int nonblock;
	bool shut_rd, shut_wr;
	bool err_reported;        /* SO_ERROR / a call returned slot.err */
	bool connect_reported;    /* a connect() result was returned */
	int backlog;
	uint32_t lip, rip;        /* host order */
	uint16_t lport, rport;
	uint32_t rx_cons, tx_prod;  /* our indices (mirrored in the slot) */
	uint32_t port_handle;     /* dptcpd's port table entry, 0: none */
	/* options (SOL_SOCKET / IPPROTO_TCP / IPPROTO_IP), as Linux keeps them */
	int reuseaddr, reuseport, keepalive, nodelay;
	int keepidle, keepintvl, keepcnt;
	int rcvbuf, sndbuf, rcvlowat, oobinline, tos, ttl, quickack, cork;
	int linger_on, linger_s;
	struct timeval rcvtimeo, sndtimeo;
};

/* The attachment. */
struct ps_shm {
	_Atomic int state;        /* 0 not tried, 1 attached, -1 off */
	void *base;
	struct shm_layout lay;
	uint32_t n_engines, n_channels, max_sockets;
	uint32_t rx_bytes, tx_bytes, spin_us;
	uint32_t local_ip, prefix_len, gateway;
	int ctl_fd;               /* this member's Unix socket */
	int memfd;                /* the region (kept for exec) */
	uint32_t member;          /* shm_proto.h "FORK": 0 unless forked */
	pid_t pid;                /* the process that attached, forked or exec'd */
	uint32_t exec_gen;        /* execs of this member so far (EXEC) */
	int doorbell[SHM_MAX_CHANNELS];
	_Atomic int dead;         /* dptcpd went away */
};
extern struct ps_shm ps_shm;

struct ps_chan {
	pthread_mutex_t mu;       /* threads sharing a channel need it */
	uint32_t c;
	uint32_t users;           /* threads of ours on it (ps_chan_mu) */
	uint32_t seq;
	uint32_t cmd_prod[SHM_MAX_ENGINES];
	uint32_t evt_cons[SHM_MAX_ENGINES];
};

/* preload_core.c */
void ps_resolve(void);
bool ps_attach(void);                   /* true when dptcpd serves us */
int ps_internal_fd(int fd);             /* the shim's own fds */
struct ps_sock *ps_get(int fd);         /* +ref, or NULL: not ours */
void ps_put(struct ps_sock *ps);
static inline bool ps_maybe(int fd);    /* cheap "could be ours" */
struct ps_sock *ps_sock_new(void);
int ps_fd_install(int fd, struct ps_sock *ps);  /* +fdref */
struct ps_sock *ps_fd_remove(int fd);   /* NULL: not ours */
void ps_fd_dropped(struct ps_sock *ps); /* an fd of ps went away */
struct ps_chan *ps_chan_get(void);
bool ps_chan_ours(uint32_t c);           /* claimed by this process */
int ps_cmd(uint32_t engine, struct shm_msg *m);  /* status, m = completion */
int ps_slot_alloc(uint32_t *slot, uint32_t *gen);
void ps_slot_free(uint32_t slot);       /* never bound, or unlistened */
void ps_slot_closing(uint32_t slot);    /* free once the stack releases it */
void ps_core_lock(void);                /* fork: every shim lock */
void ps_core_unlock(void);
enum ps_child_mode {
	PS_CHILD_UNATTACHED,  /* the parent had not attached: locks only */
	PS_CHILD_JOINED,      /* dptcpd made the child a member */
	PS_CHILD_DETACHED,    /* it could not: the child keeps off the region */
};
void ps_core_child(enum ps_child_mode mode, int member_sock, uint32_t member);
int ps_use_region(int memfd, uint64_t region_bytes);
void ps_exec_adopt(void);               /* preload_exec.c: constructor */
void ps_fork_prepare(void);             /* preload_fork.c: pthread_atfork */
void ps_fork_parent(void);
void ps_fork_child(void);
struct shm_slot *ps_slot(uint32_t s);
uint8_t *ps_rx_ring(uint32_t s);
uint8_t *ps_tx_ring(uint32_t s);
uint32_t ps_events(struct ps_sock *ps); /* POLLIN|POLLOUT|POLLERR|... now */
void ps_arm(struct ps_sock *ps, struct ps_chan *ch);
/* Sleep on this thread's doorbell and the given kernel fds (which may be
 * NULL/0) for at most timeout_ms (-1: no limit); returns poll()'s result
 * for the kernel fds (their revents set). */
int ps_sleep(struct ps_chan *ch, struct pollfd *kfds, nfds_t nk,
	     int timeout_ms);
/* The same with the caller's signal mask in force during the sleep only
 * (ppoll, pselect, epoll_pwait); NULL: as ps_sleep. */
int ps_sleep_mask(struct ps_chan *ch, struct pollfd *kfds, nfds_t nk,
		  int timeout_ms, const sigset_t *mask);
/* Wait until ps_events(ps) & want, or timeout; 0, or -ETIMEDOUT. */
int ps_wait(struct ps_sock *ps, uint32_t want, int timeout_ms);
uint64_t ps_now_us(void);
int ps_set_errno(int neg);              /* errno = -neg; returns -1 */

extern _Atomic(struct ps_sock *) ps_fds[PS_FD_MAX];

static inline bool
ps_maybe(int fd)
{
	return fd >= 0 && fd < PS_FD_MAX &&
	       atomic_load_explicit(&ps_fds[fd], memory_order_acquire) != NULL;
}

/* preload_port.c: dptcpd's port table (shm_proto.h "PORTS") */
int ps_port_bind(uint32_t ip, uint16_t port, int reuseaddr, int reuseport,
		 uint32_t *handle, uint16_t *port_out);
int ps_port_op(struct ps_sock *ps, uint32_t op);   /* SHM_PORT_* op */
void ps_port_lock(void);
void ps_port_unlock(void);
void ps_port_child(void);

/* preload_sock.c */
ssize_t ps_recv_iov(struct ps_sock *ps, const struct iovec *iov, int n,
		    int flags);
ssize_t ps_send_iov(struct ps_sock *ps, const struct iovec *iov, int n,
		    int flags);
void ps_sock_closed(struct ps_sock *ps);   /* last fd gone: tell the stack */

/* preload_poll.c */
void ps_epoll_fd_closed(int fd);
int ps_poll_impl(struct pollfd *fds, nfds_t n, int timeout_ms,
		 const sigset_t *mask);

#endif
