/* conform.h — the socket conformance program's shared parts: the run
 * context, the scenario table entry, the control channel between the two
 * roles, the transcript and the socket helpers every scenario uses. */
#ifndef CONFORM_H
#define CONFORM_H

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

enum conform_role { ROLE_SERVER, ROLE_CLIENT };

/* Ports: scenario i owns base + 10*i + n for n in 0..9 (P(n) below), so no
 * scenario meets another's connections or TIME_WAIT. base is kept below
 * Linux's ephemeral range (32768-60999) so an ephemeral port is never
 * mistaken for a scenario's. */
#define PORTS_PER_SCENARIO 10
/* A scenario is stopped (whole run fails) if it has not ended by then. */
#define SCENARIO_TIMEOUT_S 15

struct conform {
	enum conform_role role;
	int ctl;                    /* control channel to the other role */
	struct in_addr server;      /* the server role binds this address */
	struct in_addr client;      /* the client role binds this address */
	uint16_t base;              /* first port of the run */
	const char *self;           /* this program's path, for exec */
	const char *scenario;       /* name: prefix of transcript lines */
	int index;                  /* position in the table: its ports */
};

struct scenario {
	const char *name;
	void (*server)(struct conform *cf);
	void (*client)(struct conform *cf);
};

/* SIGPIPEs delivered so far (a handler counts them, the run goes on). */
extern volatile sig_atomic_t conform_sigpipes;

/* ---- transcript (transcript.c) --------------------------------------- */

/* One line "scenario: text" on stdout, flushed (a crash keeps what ran). */
void say(struct conform *cf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Stop the run: "scenario: FATAL text" on stdout and stderr, exit 1. */
void die(struct conform *cf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* Results as the transcript shows them. Read errno at once: call them
 * straight on the result of the call, one per say(). Strings live in a
 * small per-thread ring (eight at a time). */
const char *res(long rc);          /* "N" or "-1 EAGAIN" */
const char *resfd(long rc);        /* "fd" or "-1 EBADF" (fd numbers vary) */
const char *err_name(int err);     /* "EAGAIN", "0" for 0 */
const char *poll_ev(short ev);     /* "IN|OUT|RDHUP", "0" */
const char *epoll_ev(uint32_t ev); /* "IN|OUT|ET", "0" */
const char *fl_s(int flags);       /* F_GETFL: "O_RDWR|O_NONBLOCK" */
const char *fd_s(int flags);       /* F_GETFD: "FD_CLOEXEC" or "0" */
/* "AF_INET server:P0" — address named by role, port by scenario slot. */
const char *addr_s(struct conform *cf, const struct sockaddr_in *sa,
		   socklen_t len);
const char *port_s(struct conform *cf, uint16_t port);
const char *sha_s(const void *buf, size_t n);   /* first 16 hex digits */
const char *yes(bool b);                         /* "yes" / "NO" */

/* ---- control channel (ctl.c) ----------------------------------------- */

/* Both sides name the same point; a mismatch or a silent peer is fatal. */
void sync_point(struct conform *cf, const char *label);
void ctl_put(struct conform *cf, const char *key, long value);
long ctl_get(struct conform *cf, const char *key);
int ctl_server(const char *path);                   /* listen, accept */
int ctl_client(const char *path);                   /* connect (retries) */

/* ---- sockets and data (net.c) ---------------------------------------- */

uint16_t port_n(struct conform *cf, int n);         /* P(n) */
struct sockaddr_in sin_of(struct in_addr a, uint16_t port);
/* Set-up steps whose failure leaves nothing to test: they die. */
int tcp_listen_on(struct conform *cf, struct in_addr a, int n, int type_flags);
int client_socket(struct conform *cf);     /* bound to the client's address */
int tcp_connect_to(struct conform *cf, struct in_addr a, int n);  /* client */
int accept_or_die(struct conform *cf, int listener);
void set_int_opt(struct conform *cf, int fd, int level, int name, int val);
uint16_t local_port(int fd);
/* Blocking helpers: all of n (or the error / EOF that stopped them). */
ssize_t read_full(int fd, void *buf, size_t n);
ssize_t write_full(int fd, const void *buf, size_t n);
/* Read until EOF: bytes read, digest of them; *err = errno of a failure. */
size_t read_to_eof(int fd, char digest[17], int *err);
void pattern(void *buf, size_t n, uint32_t seed);
int send_ids(struct conform *cf, uint32_t count);
/* Wait (blocking) until fd reports one of events; returns revents. */
short wait_ev(int fd, short events);
void set_nonblock(int fd, bool on);

/* One blocking accept() or recv() in another thread: whether it is
 * already blocked when this thread acts or starts after, Linux gives the
 * same answer in the cases the scenarios use. */
struct bg_call {
	int fd;
	bool accept;               /* accept(), else recv() of up to 16 bytes */
	long rc;
	int err;
	pthread_t tid;
};
void bg_start(struct conform *cf, struct bg_call *bc, int fd, bool accept_it);
long bg_join(struct bg_call *bc);        /* its result, errno set */

#define P(n) port_n(cf, (n))

/* ---- scenarios (sc_*.c) ---------------------------------------------- */

#define SCENARIO(name) \
	void s_##name(struct conform *cf); \
	void c_##name(struct conform *cf);
#include "scenarios.h"
#undef SCENARIO

/* The exec'd helper of the exec scenario (sc_proc.c). */
int exec_helper(int argc, char **argv);

#endif
