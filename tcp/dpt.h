/* dpt.h — dptcp's public, in-process API.
 *
 * An application runs on the engine's core: it calls these functions from
 * its event callback or between poll-loop iterations, never from another
 * thread. Connections are opaque handles; data is copied in and out by
 * dpt_send()/dpt_recv(), so the same calls can later be served over shared
 * memory by the socket shim. Functions return 0 (or a byte count) on
 * success and a negative errno value on failure, like DPDK. */
#ifndef DPT_H
#define DPT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tcp_engine;
struct tcp_conn;

/* The eleven states of RFC 9293 §3.3.2, in the RFC's order. */
enum dpt_state {
	DPT_LISTEN,
	DPT_SYN_SENT,
	DPT_SYN_RECEIVED,
	DPT_ESTABLISHED,
	DPT_FIN_WAIT_1,
	DPT_FIN_WAIT_2,
	DPT_CLOSE_WAIT,
	DPT_CLOSING,
	DPT_LAST_ACK,
	DPT_TIME_WAIT,
	DPT_CLOSED,
	DPT_STATE_COUNT
};

const char *dpt_state_name(enum dpt_state s);

enum dpt_event {
	DPT_EV_ACCEPTED,    /* a new connection on a listener is ESTABLISHED */
	DPT_EV_CONNECTED,   /* dpt_connect() completed */
	DPT_EV_READABLE,    /* new bytes can be read with dpt_recv() */
	DPT_EV_WRITABLE,    /* send buffer space freed after dpt_send() fell short */
	DPT_EV_PEER_CLOSED, /* peer sent FIN: dpt_recv() returns 0 once drained */
	DPT_EV_CLOSED,      /* connection is gone (orderly); handle now invalid.
			     * An active closer hears it on entering TIME_WAIT
			     * (or once it has read the data that came before
			     * the FIN, see dpt_recv()); TIME_WAIT then goes on
			     * without the handle, visible only in telemetry. */
	DPT_EV_RESET,       /* connection reset by peer; handle now invalid */
	DPT_EV_ERROR,       /* aborted (err = -ETIMEDOUT, -ECONNREFUSED, ...); handle now invalid */
};

const char *dpt_event_name(enum dpt_event ev);

/* One callback per connection. For DPT_EV_ACCEPTED, conn is the new
 * connection and user is the listener's user data; the callback may call
 * dpt_set_user() to give it its own. After CLOSED, RESET or ERROR the
 * handle must not be used again. */
typedef void (*dpt_event_fn)(struct tcp_engine *eng, struct tcp_conn *conn,
			     enum dpt_event ev, int err, void *user);

/* Listen on ip:port (host byte order; ip 0 = the engine's address).
 * backlog 0 = the config's. Returns 0, -EADDRINUSE, -ENOMEM. A listener may
 * be opened while connections on its port sit in TIME_WAIT. */
int dpt_listen(struct tcp_engine *eng, uint32_t ip, uint16_t port,
	       int backlog, dpt_event_fn fn, void *user);
/* Stop listening; connections not yet accepted are reset. */
int dpt_unlisten(struct tcp_engine *eng, uint32_t ip, uint16_t port);
/* Pause (on = 0) or resume handing new connections to the application.
 * While paused, completed handshakes wait in the accept queue (at most
 * `backlog`; beyond it the final ACK is dropped and counted, as Linux does
 * for a program that does not call accept()). Resuming delivers them. */
int dpt_listen_set_accepting(struct tcp_engine *eng, uint32_t ip,
			     uint16_t port, int on);

/* Active open to ip:port (host order). The local port is chosen from the
 * ephemeral range unless lport != 0, and only among ports whose replies
 * reach this engine's core. *out gets the handle at once;
 * DPT_EV_CONNECTED or DPT_EV_ERROR follows. -EADDRNOTAVAIL: no free local
 * port (or lport's replies would reach another core); -EADDRINUSE: the
 * 4-tuple with lport exists (TIME_WAIT included). */
int dpt_connect(struct tcp_engine *eng, uint32_t ip, uint16_t port,
		uint16_t lport, dpt_event_fn fn, void *user,
		struct tcp_conn **out);

/* Queue up to len bytes; returns bytes taken (maybe fewer: then
 * DPT_EV_WRITABLE follows), -EAGAIN when the buffer is full (WRITABLE
 * follows), -ENOBUFS when the engine's mbuf pool is empty (no event
 * follows: retry later), -EPIPE after shutdown/close, -ENOTCONN before the
 * handshake. */
ssize_t dpt_send(struct tcp_engine *eng, struct tcp_conn *c, const void *buf,
		 size_t len);
/* Copy out up to len bytes; 0 at end of stream (peer closed, all read),
 * -EAGAIN when nothing is buffered. Reading opens the receive window.
 * Data that arrived with the peer's FIN stays readable: when the
 * connection reaches TIME_WAIT with unread data, DPT_EV_CLOSED waits until
 * it has been read (delivered at the next timer tick after the read that
 * empties it), dpt_close() is called (delivered inside the call), or
 * 2*MSL ends. Until then the handle stays valid and dpt_conn_state() says
 * DPT_TIME_WAIT; after CLOSED the engine keeps only a compact TIME_WAIT
 * record of the tuple. */
ssize_t dpt_recv(struct tcp_engine *eng, struct tcp_conn *c, void *buf,
		 size_t len);
/* Bytes ready for dpt_recv() / free space for dpt_send(). */
size_t dpt_readable(const struct tcp_conn *c);
size_t dpt_writable(const struct tcp_conn *c);

/* Half-close: send FIN after the queued data; reading continues. */
int dpt_shutdown(struct tcp_engine *eng, struct tcp_conn *c);
/* Full close: FIN after queued data; the handle stays valid until
 * DPT_EV_CLOSED (or RESET/ERROR). Data arriving after close gets a RST.
 * When unread data is still buffered the connection is reset at once (as
 * Linux does) and DPT_EV_CLOSED is delivered inside this call. */
int dpt_close(struct tcp_engine *eng, struct tcp_conn *c);
/* Abort: send RST, free at once. No further event for this handle. */
int dpt_abort(struct tcp_engine *eng, struct tcp_conn *c);

/* Per-connection options, what setsockopt() sets on a Linux socket. */
enum dpt_opt {
	DPT_OPT_NODELAY,     /* bool: send small segments at once (TCP_NODELAY);
			      * default [tcp] nodelay, i.e. Nagle's algorithm
			      * on (RFC 9293 §3.7.4, with Minshall's variant) */
	DPT_OPT_KEEPALIVE,   /* bool: keepalive probes (SO_KEEPALIVE); off */
	DPT_OPT_KEEPIDLE_S,  /* 1..32767: idle seconds before the first probe
			      * (TCP_KEEPIDLE), default [tcp] keepalive_idle_s */
	DPT_OPT_KEEPINTVL_S, /* 1..32767: seconds between probes (TCP_KEEPINTVL),
			      * default [tcp] keepalive_intvl_s */
	DPT_OPT_KEEPCNT,     /* 1..127: unanswered probes before the connection
			      * is aborted with DPT_EV_ERROR -ETIMEDOUT
			      * (TCP_KEEPCNT), default [tcp] keepalive_cnt */
};

/* Set or read an option: 0, -ENOPROTOOPT (unknown option), -EINVAL (value
 * out of range), -EBADF (handle already closed). Setting NODELAY sends
 * what Nagle held back; KEEPIDLE on a connection with keepalive on
 * re-arms its timer, as Linux does. */
int dpt_setopt(struct tcp_engine *eng, struct tcp_conn *c, enum dpt_opt opt,
	       int value);
int dpt_getopt(struct tcp_engine *eng, const struct tcp_conn *c,
	       enum dpt_opt opt, int *value);

void dpt_set_user(struct tcp_conn *c, void *user);
void *dpt_get_user(const struct tcp_conn *c);

struct dpt_conn_info {
	uint32_t local_ip, remote_ip;      /* host byte order */
	uint16_t local_port, remote_port;
	enum dpt_state state;
	uint32_t snd_una, snd_nxt, snd_wnd, rcv_nxt, rcv_wnd;
	uint32_t mss;                      /* effective send MSS */
	uint32_t srtt_us, rto_us;
	uint32_t min_rtt_us;               /* smallest RTT sample (RACK) */
	uint32_t cwnd, ssthresh;           /* bytes (as Linux's ss -ti) */
	uint64_t retransmits;
	uint32_t snd_queued, rcv_queued;   /* bytes in the buffers */
};

void dpt_conn_info(const struct tcp_conn *c, struct dpt_conn_info *out);
enum dpt_state dpt_conn_state(const struct tcp_conn *c);

#endif
