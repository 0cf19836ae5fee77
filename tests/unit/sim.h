/* sim.h — the simulated in-memory wire of the unit tests.
 * Two engines (A = 10.0.0.1, B = 10.0.0.2, B optional) whose transmit
 * functions append IPv4 packets to one queue; virtual time; every segment
 * is parsed, checked and logged before delivery; a filter may drop, hold or
 * duplicate it; the test may inject hand-crafted segments and play a "raw"
 * peer: anything addressed to an address without an engine lands in the raw
 * inbox, where the test reads it. */
#ifndef DPT_TEST_SIM_H
#define DPT_TEST_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "dpt.h"
#include "tcp_engine.h"

#define SIM_A 0
#define SIM_B 1
#define SIM_RAW 2 /* the test, playing a peer (or anything without an engine) */

#define SIM_IP_A 0x0a000001u /* 10.0.0.1 */
#define SIM_IP_B 0x0a000002u /* 10.0.0.2 */
#define SIM_IP_RAW 0x0a000002u /* the raw peer takes B's address when B has no engine */

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20

/* A segment as seen on the wire (all fields host order). */
struct sim_seg {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint16_t urp;
	uint16_t len;       /* payload bytes */
	uint8_t doff;       /* header length, bytes */
	int mss;            /* -1: no MSS option */
	int wscale;         /* -1: none */
	bool sack_ok, has_ts;
	uint32_t tsval, tsecr;
	uint8_t nsack;      /* SACK blocks (RFC 2018), first 4 */
	uint32_t sack[4][2];/* [start, end) */
	bool ip_csum_ok, tcp_csum_ok, well_formed;
	int from, to;       /* SIM_A / SIM_B / SIM_RAW */
	uint64_t t_us;      /* virtual time it was sent */
	int verdict;        /* enum sim_verdict given by the filter */
	unsigned int idx;   /* position in the trace */
};

/* A segment read from the raw inbox, with its payload. */
struct sim_pkt {
	struct sim_seg seg;
	uint8_t data[9216];
};

enum sim_verdict { SIM_PASS, SIM_DROP, SIM_HOLD, SIM_DUP };

struct sim;
typedef enum sim_verdict (*sim_filter_fn)(struct sim *s, const struct sim_seg *seg,
					  void *ctx);

/* --- application side: one record per connection handle --------------- */

#define SIM_MAX_EVS 64

struct sim_conn {
	uint32_t magic;
	struct sim *s;
	int node;
	struct tcp_conn *c;     /* NULL once CLOSED/RESET/ERROR arrived */
	bool alive;
	bool passive;
	uint32_t lip, rip;
	uint16_t lport, rport;
	/* events */
	unsigned int ev_count[8];
	enum dpt_event evs[SIM_MAX_EVS]; /* all but READABLE/WRITABLE */
	int ev_err[SIM_MAX_EVS];
	uint64_t ev_t_us[SIM_MAX_EVS];
	unsigned int nevs;
	int last_err;
	enum dpt_state state_at_end; /* dpt_conn_state() inside the final event */
	uint32_t states_seen;        /* bit per enum dpt_state */
	/* application behaviour, run between loop iterations */
	bool auto_read;
	bool read_in_cb;             /* auto_read inside READABLE/PEER_CLOSED callbacks too */
	uint8_t *rx;
	size_t rx_len, rx_cap;
	bool eof;                    /* dpt_recv() returned 0 */
	const uint8_t *tx;
	size_t tx_len, tx_off;
	int after_tx;                /* 0 nothing, 1 dpt_close, 2 dpt_shutdown */
	bool after_tx_done;
	bool close_on_eof;           /* dpt_close() once dpt_recv() returned 0 */
	bool close_on_eof_done;
};

struct sim_listener {
	uint32_t magic;
	struct sim *s;
	int node;
	uint16_t port;
	bool auto_read;              /* given to accepted connections */
	struct sim_conn *accepted[256];
	unsigned int naccepted;
};

struct sim_opts {
	struct tcp_config cfg[2];
	uint16_t mtu[2];
	bool with_b;                 /* false: B's address is the raw peer */
	uint64_t isn_secret[2][2];
	uint32_t latency_us;         /* one-way wire delay */
	tcp_flow_owned_fn owned[2];  /* flow ownership callbacks (NULL: own all) */
	void *owned_ctx[2];
};

/* Defaults used by every test: msl 100 ms, delack 0, tick 1 ms, 1500 MTU,
 * small max_conns and max_time_wait (1024, 4096), rcv_buf 65535, snd_buf 262144, rto_min 200, rto_init
 * 1000, rto_max 60000. */
void sim_opts_default(struct sim_opts *o);

struct sim {
	uint64_t now_us;
	struct rte_mempool *tx_pool, *wire_pool;
	struct tcp_engine *eng[2];
	uint32_t ip[2];
	struct sim_opts opts;
	sim_filter_fn filter;
	void *filter_ctx;
	/* seeded impairment applied to engine output after the filter */
	uint64_t rng;
	uint32_t loss_ppm, dup_ppm, jitter_us;
	uint32_t corrupt_ppm;        /* TCP checksum broken in transit */
	/* the wire */
	struct sim_wire_ent *wire;
	unsigned int nwire, capwire;
	struct sim_wire_ent *held;
	unsigned int nheld, capheld;
	/* raw inbox */
	struct rte_mbuf **inbox;
	unsigned int inbox_head, inbox_tail, capinbox;
	/* trace of every segment that entered the wire */
	struct sim_seg *trace;
	unsigned int ntrace, captrace;
	/* application records */
	struct sim_conn conns[512];
	unsigned int nconns;
	struct sim_listener listeners[8];
	unsigned int nlisteners;
	uint32_t states_seen[2];     /* from tcp_engine_state_counts after each step */
	struct sim_txctx {
		struct sim *s;
		int node;
	} txctx[2];
	uint16_t ip_id;
	unsigned int tx_calls[2];    /* calls of each engine's transmit function */
	bool in_loop;
	uint64_t stray_events;       /* events whose user pointer made no sense */
	uint64_t app_errors;         /* dpt_send/dpt_recv errors other than -EAGAIN */
	int last_app_err;            /* the last of them, and where */
	const char *last_app_err_call;
	int first_app_err;
	const char *first_app_err_call;
	uint64_t first_app_err_us;
};

/* --- lifetime ---------------------------------------------------------- */
int sim_eal_init(const char *argv0);
/* Removes the EAL runtime directory (also run at exit). */
void sim_eal_cleanup(void);
struct sim *sim_new(const struct sim_opts *o);
/* Destroys the engines, frees everything; returns mbufs still in use. */
unsigned int sim_free(struct sim *s);

/* --- time and delivery --------------------------------------------------- */
void sim_run(struct sim *s);             /* settle at the current time */
void sim_step(struct sim *s);            /* +1 ms, then settle */
void sim_advance(struct sim *s, uint32_t ms);
void sim_advance_us(struct sim *s, uint64_t us);
#define SIM_RUN_UNTIL(s, cond, max_ms)                                   \
	do {                                                              \
		for (uint32_t _i = 0; _i < (max_ms) && !(cond); _i++)      \
			sim_step(s);                                      \
	} while (0)

void sim_set_filter(struct sim *s, sim_filter_fn fn, void *ctx);
/* base, mixed with $DPT_SEED when set (to explore other seeded runs) */
uint64_t sim_seed(uint64_t base);
void sim_set_impair(struct sim *s, uint64_t seed, uint32_t loss_ppm,
		    uint32_t dup_ppm, uint32_t jitter_us);
/* Also corrupt (flip the TCP checksum of) ppm of engine output that passed
 * the other impairments, drawn from the same seeded generator. */
void sim_set_corrupt(struct sim *s, uint32_t corrupt_ppm);
unsigned int sim_nheld(const struct sim *s);
/* Release held segments (all, or the i-th) into the wire, not filtered again. */
void sim_release_all(struct sim *s);
void sim_release(struct sim *s, unsigned int i);
void sim_drop_held(struct sim *s);
const struct sim_seg *sim_held_seg(const struct sim *s, unsigned int i);

/* --- the trace ------------------------------------------------------------ */
unsigned int sim_mark(const struct sim *s);            /* = ntrace */
const struct sim_seg *sim_trace(const struct sim *s, unsigned int i);
/* Next segment at index >= *pos from `from` (SIM_A, SIM_B, SIM_RAW or -1 any);
 * advances *pos past it; NULL if none. */
const struct sim_seg *sim_next_from(const struct sim *s, unsigned int *pos, int from);
unsigned int sim_count_from(const struct sim *s, unsigned int mark, int from,
			    uint8_t flags_mask, uint8_t flags_val);
void sim_dump_trace(const struct sim *s, unsigned int from_idx);
void sim_fmt_seg(const struct sim_seg *g, char *buf, size_t n);
const char *sim_flags_str(uint8_t f, char *buf);

/* --- raw packets ------------------------------------------------------------ */
struct seg_spec {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	int mss;                     /* 0: no MSS option */
	const void *data;
	uint16_t len;
	const uint8_t *opts;         /* raw option bytes (padded by the builder) */
	uint8_t optlen;
	bool bad_csum;
	uint64_t ol_flags;           /* RX flags to set on the mbuf */
};
struct rte_mbuf *sim_build(struct sim *s, const struct seg_spec *sp);
/* Queue a crafted packet on the wire toward the engine owning sp->daddr
 * (logged, filtered like any other, from = SIM_RAW). No delivery yet. */
void sim_inject(struct sim *s, const struct seg_spec *sp);
/* Queue raw IPv4 bytes (as given, checksums untouched) like sim_inject. */
void sim_inject_bytes(struct sim *s, const uint8_t *ip, uint16_t len, uint64_t ol_flags);
/* Rewrite the IPv4 header checksum and the TCP checksum of a packet
 * (lengths from the IPv4 header). */
void sim_fix_csums(uint8_t *ip);
/* Hand an mbuf straight to an engine's tcp_input_burst (no trace). */
void sim_input_direct(struct sim *s, int node, struct rte_mbuf **m, uint16_t n);
/* Pop the oldest segment sent to a non-engine address; false if empty. */
bool sim_raw_pop(struct sim *s, struct sim_pkt *p);
unsigned int sim_raw_pending(const struct sim *s);
void sim_raw_clear(struct sim *s);
bool sim_parse(const uint8_t *ip, uint32_t len, struct sim_seg *g);

/* A raw peer: the test playing one end of a connection to engine `node`. */
struct raw_peer {
	struct sim *s;
	int node;
	uint32_t ip, eng_ip;
	uint16_t port, eng_port;
	uint32_t iss, snd_nxt, rcv_nxt, irs;
	uint16_t win;
};
void raw_init(struct raw_peer *rp, struct sim *s, int node, uint16_t port,
	      uint16_t eng_port);
/* Enqueue a segment from the peer and settle the simulation. */
void raw_send(struct raw_peer *rp, uint8_t flags, uint32_t seq, uint32_t ack,
	      const void *data, uint16_t len);
void raw_send_mss(struct raw_peer *rp, uint8_t flags, uint32_t seq, uint32_t ack,
		  int mss);
/* Pop the next inbox segment addressed to this peer (others are discarded). */
bool raw_pop(struct raw_peer *rp, struct sim_pkt *p);

/* --- application ------------------------------------------------------------ */
struct sim_listener *sim_listen(struct sim *s, int node, uint16_t port,
				int backlog, int *ret);
struct sim_conn *sim_connect(struct sim *s, int node, uint32_t ip, uint16_t port,
			     uint16_t lport, int *ret);
struct sim_conn *sim_conn_of(struct sim *s, struct tcp_conn *c);
void sim_conn_send(struct sim_conn *sc, const void *buf, size_t len, int after);
enum dpt_state sim_state(struct sim_conn *sc); /* DPT_CLOSED when gone */
bool sim_conn_info(struct sim_conn *sc, struct dpt_conn_info *out);
/* State of the engine's connection with that tuple (TIME_WAIT included),
 * DPT_STATE_COUNT when the engine has none. */
enum dpt_state sim_tuple_state(struct sim *s, int node, uint16_t lport,
			       uint32_t rip, uint16_t rport);
bool sim_tuple_info(struct sim *s, int node, uint16_t lport, uint32_t rip,
		    uint16_t rport, struct dpt_conn_info *out);
uint32_t sim_state_count(struct sim *s, int node, enum dpt_state st);
const struct tcp_stats *sim_stats(struct sim *s, int node);
bool sim_has_event(const struct sim_conn *sc, enum dpt_event ev);
void sim_fill_pattern(uint8_t *buf, size_t len, uint32_t seed);

#endif
