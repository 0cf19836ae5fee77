/* tcp_internal.h — the engine's private types: the TCB (struct tcp_conn),
 * listeners, the per-core struct tcp_engine and a parsed segment. Only
 * the engine's own files include this. */
#ifndef TCP_INTERNAL_H
#define TCP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <rte_branch_prediction.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "dpt.h"
#include "tcp_cc.h"
#include "tcp_engine.h"
#include "tcp_rack.h"
#include "tcp_sack.h"
#include "tcp_seq.h"
#include "tcp_stats.h"
#include "tcp_timer.h"

extern int tcp_logtype;
#define TCP_LOG(level, ...) \
	rte_log(RTE_LOG_##level, tcp_logtype, "dptcp: " __VA_ARGS__)
/* Per-packet tracing at DEBUG (state changes): a test of eng->trace when
 * it is off, no call and no argument evaluated. eng->trace follows the
 * log level (--log-level=dptcp.tcp:debug, or rte_log_set_level() at run
 * time) within a tick: tcp_engine_poll() re-reads it once per tick. */
#define TCP_TRACE(eng, ...) do { \
	if (unlikely((eng)->trace)) \
		TCP_LOG(DEBUG, __VA_ARGS__); \
} while (0)

#define TCP_BURST_MAX    64
#define TCP_TXQ_MAX      256       /* a batch's packets per tx call */
#define TCP_DEFAULT_MSS  536       /* RFC 9293 §3.7.1 when no MSS option */
#define TCP_MAX_WIN      65535u    /* the 16-bit window field */
#define TCP_MAX_WSCALE   14        /* RFC 7323 §2.3 */
#define TCP_TS_OPTLEN    12        /* NOP NOP TS: payload bytes it costs */
#define TCP_SACK_MAX     TCP_SACK_MAX_BLOCKS  /* tcp_sack.h: per option */
/* RFC 7323 §5.5: a TS.Recent older than 24 days is no longer valid. */
#define TCP_PAWS_IDLE_MS (24ull * 24 * 3600 * 1000)
#define TCP_CHALLENGE_ACK_PER_S 1000
#define TCP_OOW_ACK_MS   500u         /* ACKs to out-of-window pure ACKs */
/* Memory the out-of-order queue may pin (mbuf data rooms), at least:
 * the bound is otherwise 2 * rcv_buf (tcp_input.c ooo_budget()). */
#define TCP_OOO_MIN_MEM  65536u
#define TCP_POOL_CACHE   256u         /* per-lcore LIFO of conn/tw pools */

/* TCP header flags as on the wire. */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20

/* 4-tuple, network byte order; the connection table's key. 16 bytes, so
 * that rte_hash compares keys with one vector compare (its 16-byte
 * special case) instead of memcmp(); pad is always zero (every tuple is
 * built with a designated initializer). */
struct tcp_tuple {
	uint32_t lip;
	uint32_t rip;
	uint16_t lport;
	uint16_t rport;
	uint32_t pad;
};

static inline bool tcp_tuple_eq(const struct tcp_tuple *a,
				const struct tcp_tuple *b)
{
	return a->rip == b->rip && a->rport == b->rport &&
	       a->lport == b->lport && a->lip == b->lip;
}

/* One of 256 bits for a tuple (multiplicative hashing of its words): a
 * burst's Bloom filters of tuples made since its bulk lookup and of the
 * SYNs waiting in the listener batch. */
static inline unsigned int tcp_tuple_bit(const struct tcp_tuple *t)
{
	uint32_t w = t->lip ^ t->rip ^
		     ((uint32_t)t->rport << 16 | t->lport);

	return (w * 0x9e3779b1u) >> 24;
}

static inline void tcp_bits_set(uint64_t bits[4], unsigned int b)
{
	bits[b / 64] |= 1ull << (b % 64);
}

static inline bool tcp_bits_test(const uint64_t bits[4], unsigned int b)
{
	return (bits[b / 64] >> (b % 64)) & 1;
}

struct tcp_listen_key {
	uint32_t ip;               /* network order, 0 = any */
	uint16_t port;             /* network order */
	uint16_t pad;
};

/* Options seen in a segment (RFC 9293 §3.2, RFC 7323, RFC 2018).
 *
 * SACK blocks, for the sender side (loss recovery): tcp_parse_options()
 * stores the option's blocks as sent; on a connection with SACK
 * negotiated (c->sack_ok), tcp_segment_arrives() then validates them
 * before the ACK is processed (sack_input() in tcp_input.c): a D-SACK
 * block (RFC 2883 §4: the first block, below SEG.ACK or inside the
 * second block) sets dsack and stays as sack[0]; every other block is kept
 * only if SND.UNA <= start < end <= SND.MAX (the SND.UNA before this
 * ACK). What is left in sack[0..nsack) is what the scoreboard may use.
 * On a connection without SACK, nsack is 0. */
struct tcp_opts {
	uint16_t mss;              /* 0 = absent */
	uint8_t ws;                /* valid when has_ws */
	bool has_ws;
	bool sack_ok;
	bool has_ts;
	bool dsack;                /* sack[0] is a D-SACK block (RFC 2883) */
	uint8_t nsack;             /* blocks in sack[] */
	uint32_t ts_val, ts_ecr;
	struct tcp_sack_block sack[TCP_SACK_MAX];
};

/* One segment under input processing (RFC 9293 SEG.* variables). */
struct tcp_seg {
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint32_t seq, ack;
	uint32_t len;              /* payload bytes (SYN/FIN not counted) */
	uint32_t wnd;
	uint16_t hdr_len;          /* IP + TCP header bytes before payload */
	uint8_t flags;
	struct tcp_opts opts;
};

enum tcp_timer_kind {
	TCP_T_REXMIT,              /* retransmission / SYN / persist */
	TCP_T_DELACK,
	TCP_T_LINGER,              /* FIN_WAIT_2 timeout and 2*MSL */
	TCP_T_TW,                  /* 2*MSL of a compact TIME_WAIT record */
	TCP_T_TLP,                 /* tail loss probe (RFC 8985 §7) */
	TCP_T_KEEP,                /* keepalive (RFC 1122 §4.2.3.6) */
};

/* conn->flags */
#define TF_ACK_NOW      (1u << 0)  /* send an ACK in this flush */
#define TF_DELACK       (1u << 1)  /* an ACK is owed; delack timer armed */
#define TF_FIN_QUEUED   (1u << 2)  /* app shut the write side: FIN after data */
#define TF_FIN_SENT     (1u << 3)
#define TF_PASSIVE      (1u << 4)  /* created by a listener */
#define TF_APP_CLOSED   (1u << 5)  /* dpt_close(): no more reading */
#define TF_IN_OUTQ      (1u << 6)  /* on the engine's output list */
#define TF_RTT_TIMING   (1u << 7)  /* rtt_seq is being timed */
#define TF_WANT_WRITE   (1u << 8)  /* dpt_send fell short: WRITABLE owed */
#define TF_DETACHED     (1u << 9)  /* app told CLOSED/RESET/ERROR; no events */
#define TF_DEAD         (1u << 10) /* released; memory freed at end of batch */
#define TF_PERSIST      (1u << 11) /* REXMIT timer is probing a zero window */
#define TF_SYN_RXT      (1u << 12) /* our SYN or SYN-ACK was resent */
#define TF_ACCEPTQ      (1u << 13) /* on listener's accept queue */
#define TF_RCVD_FIN     (1u << 14)
#define TF_SYN_ACKED    (1u << 15)
#define TF_CLOSE_PENDING (1u << 16) /* in TIME_WAIT; CLOSED owed once read */
#define TF_RECOVERY     (1u << 17) /* fast recovery until snd_una >= recover */
#define TF_SACK_RECOVERY (1u << 18) /* ... driven by the scoreboard (RFC 6675) */
#define TF_TLP_OUT      (1u << 19) /* a tail loss probe is unacknowledged */
#define TF_TLP_RXT      (1u << 20) /* ... and it was a retransmission */
#define TF_RTO_RECOVER  (1u << 21) /* RTO'd: no fast retransmit below recover */
#define TF_NODELAY      (1u << 22) /* DPT_OPT_NODELAY: no Nagle */
#define TF_KEEPALIVE    (1u << 23) /* DPT_OPT_KEEPALIVE */
#define TF_UNA_RXT      (1u << 24) /* SND.UNA's segment was resent at
				    * TSval una_rxt_ts */
#define TF_RACK_TIMER   (1u << 25) /* t_tlp is RACK's reordering timer */
#define TF_UNDO         (1u << 26) /* the last cwnd reduction may be undone */

struct tcp_listener;
struct tcp_optspec;

/* A byte queue made of mbufs linked through m->next (each a single
 * segment; the chain's pkt_len/nb_segs are not maintained).
 * cur/cur_off: where the last copy out of the queue ended (the mbuf and
 * the queue offset of its first byte), so that the sender, which reads
 * the send queue at SND.NXT - SND.UNA, one segment after the other, does
 * not walk the whole flight from the head for each segment (a 4 MiB
 * flight is about 2000 mbufs). NULL: no hint. */
struct tcp_mq {
	struct rte_mbuf *head, *tail;
	uint32_t bytes;
	struct rte_mbuf *cur;
	uint32_t cur_off;
};

struct tcp_conn {
	struct tcp_tuple tuple;
	enum dpt_state state;
	uint32_t flags;

	/* Send sequence space (RFC 9293 §3.3.1). */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint32_t snd_mss;          /* effective: min(peer's, ours) */
	uint32_t max_snd_wnd;      /* largest window the peer offered */
	uint32_t cwnd, ssthresh;   /* RFC 5681; grown and cut by cc_ops */
	/* Receive sequence space. */
	uint32_t irs, rcv_nxt, rcv_adv;  /* rcv_adv: right edge advertised */
	uint32_t rcv_wup;          /* rcv_nxt in our last ACK (delayed ACK) */
	uint32_t rcv_mss;          /* the peer's full-sized segment, estimated */
	uint32_t snd_sml;          /* end of the last sub-MSS segment sent
				    * (Nagle, RFC 9293 Appendix A.3) */

	/* Options negotiated on the SYNs (RFC 7323, RFC 2018): each is on
	 * when we are configured for it and the peer's SYN carried it. Read
	 * these, never the config, to know what a connection uses:
	 *   ws_ok   window scaling: the peer's SEG.WND << snd_wscale, ours
	 *           >> rcv_wscale (both 0 when off; never on SYNs);
	 *   sack_ok SACK-permitted both ways (the field further down, read by
	 *           recovery): our ACKs carry SACK blocks; the peer's are validated
	 *           into seg->opts.sack, which tcp_opt_sack_blocks() returns;
	 *   ts_ok   timestamps: every segment carries TSopt, PAWS is on and
	 *           snd_mss already has the option's 12 bytes taken off. */
	bool ws_ok, ts_ok;         /* sack_ok: below, with loss recovery */
	uint8_t snd_wscale, rcv_wscale;
	uint32_t ts_offset;        /* our TSval = engine ms clock + ts_offset */
	uint32_t ts_recent;        /* RFC 7323 §4.3 TS.Recent */
	uint64_t ts_recent_ms;     /* engine ms when TS.Recent was set (§5.5) */
	uint32_t last_ack_sent;    /* RFC 7323 Last.ACK.sent */
	uint64_t oow_ack_ms;       /* 1 + engine ms of the last ACK answering
				    * an unacceptable pure ACK (0 = none) */
	/* SACK generation (RFC 2018 §4): a sequence number inside each of the
	 * last blocks that reported new out-of-order data, newest first; and a
	 * D-SACK block (RFC 2883) owed by the next ACK. */
	uint32_t sack_recent[TCP_SACK_MAX];
	uint8_t nsack_recent;
	bool dsack_owed;
	struct tcp_sack_block dsack;

	/* RFC 6298. */
	uint32_t srtt_us, rttvar_us, rto_us;
	uint32_t rtt_seq;
	uint64_t rtt_start_us;
	uint8_t retries;           /* consecutive expiries of TCP_T_REXMIT */
	uint32_t una_rxt_ts;       /* our TSval when SND.UNA was last resent */

	struct tcp_mq sndq;        /* data from snd_una on (seq sndq_seq) */
	uint32_t sndq_seq;
	struct tcp_mq rcvq;        /* in-order data the app has not read */
	/* Out-of-order data (tcp_input.c): blocks of contiguous bytes,
	 * sorted, disjoint and never adjacent; each block an mbuf chain whose
	 * head carries the block's bounds. ooo_tail: the last block;
	 * ooo_hint: the block the latest segment went into. */
	struct rte_mbuf *ooo, *ooo_tail, *ooo_hint;
	uint32_t ooo_bytes;        /* payload queued */
	uint32_t ooo_mem;          /* data room of the mbufs holding it */
	uint32_t ooo_blocks;
	uint32_t snd_buf, rcv_buf;

	struct tcp_timer t_rexmit, t_delack, t_linger, t_keep;

	/* Keepalive (RFC 1122 §4.2.3.6): per connection, from the config. */
	uint64_t last_rx_us;       /* last acceptable segment from the peer */
	uint16_t ka_idle_s, ka_intvl_s;
	uint8_t ka_cnt;
	uint8_t ka_probes;         /* sent since the peer was last heard */
	uint8_t persist_unanswered; /* zero-window probes with no reply */

	/* Congestion control and loss recovery (tcp_cc.h, tcp_recovery.c). */
	const struct tcp_cc_ops *cc_ops;
	struct tcp_cc_state cc;
	uint32_t recover;          /* RFC 6582 recover, RFC 6675 RecoveryPoint */
	uint32_t tlp_high_seq;     /* RFC 8985 §7.4 TLP.end_seq */
	uint32_t tlp_rxt_seq;      /* start of the resent probe (TF_TLP_RXT) */
	uint8_t dupacks;           /* RFC 5681 duplicate ACKs in a row */
	bool sack_ok;              /* SACK negotiated (RFC 2018): set by the
				    * options' negotiation, read by recovery */
	bool tlp;                  /* [tcp] tlp */
	struct tcp_scoreboard sb;  /* RFC 6675, used when sack_ok */
	struct tcp_rack rack;      /* RFC 8985 loss detection, when sack_ok */
	struct tcp_timer t_tlp;    /* TLP, or RACK's timer (TF_RACK_TIMER) */
	/* Undoing a reduction that proved spurious (RFC 3522 / RFC 2883
	 * evidence, RFC 4015's response as Linux's undo): the window and
	 * the cc state before it, the resends of the episode not yet
	 * reported as duplicates (D-SACK), our TSval on the first resend. */
	uint32_t prior_cwnd, prior_ssthresh;
	struct tcp_cc_state prior_cc;
	uint32_t undo_retrans;
	uint32_t undo_tsval;
	bool undo_ts;              /* undo_tsval is set */
	/* Proportional rate reduction in SACK recovery (RFC 6937). */
	uint32_t prr_delivered;    /* bytes delivered since recovery began */
	uint32_t prr_out;          /* bytes sent since recovery began */
	uint32_t prr_recover_fs;   /* RecoverFS: the flight when it began */

	struct tcp_listener *listener;     /* until accepted */
	TAILQ_ENTRY(tcp_conn) lnode;       /* listener's syn/accept lists */
	struct tcp_conn *out_next;         /* engine output list */
	struct tcp_conn *dead_next;

	dpt_event_fn fn;
	void *user;
	uint64_t retransmits;
};

TAILQ_HEAD(tcp_conn_list, tcp_conn);

/* A connection in TIME_WAIT once its TCB is gone (tcp_timewait.c): what
 * RFC 9293 §3.10.7.4 needs to answer segments for 2*MSL, and no more.
 * 80 bytes; pool objects are not cache-aligned, so with the mempool's
 * object header one record costs about 104 bytes. */
struct tcp_tw {
	struct tcp_tuple tuple;
	uint32_t snd_nxt;          /* the TCB's snd_max: SEQ of our ACKs */
	uint32_t rcv_nxt;          /* just past the peer's FIN */
	uint32_t rcv_wnd;          /* window our ACKs offer */
	uint32_t max_snd_wnd;      /* for the old-ACK test (RFC 5961 §5.2) */
	uint32_t ts_recent;        /* RFC 7323 TS.Recent (TW_TS) */
	uint16_t mss;              /* for telemetry */
	uint8_t flags;             /* TW_* */
	uint8_t rcv_wscale;        /* shift of the window our ACKs offer */
	struct tcp_tw *next;       /* engine's batch-end list */
	struct tcp_timer timer;    /* 2*MSL */
};

/* tcp_tw->flags */
#define TW_ACK_NOW 0x01            /* an ACK goes out at batch end */
#define TW_QUEUED  0x02            /* on eng->tw_batch */
#define TW_DEAD    0x04            /* released; memory back at batch end */
#define TW_TS      0x08            /* timestamps were on: ACKs carry TSopt */

/* The connection table maps a 4-tuple to a struct tcp_conn or to a
 * struct tcp_tw with bit 0 set (both are 8-byte aligned), so one bulk
 * lookup per burst finds both. */
static inline bool tcp_ent_is_tw(const void *e)
{
	return ((uintptr_t)e & 1) != 0;
}

static inline struct tcp_tw *tcp_ent_tw(void *e)
{
	return (struct tcp_tw *)((uintptr_t)e & ~(uintptr_t)1);
}

static inline void *tcp_tw_ent(struct tcp_tw *tw)
{
	return (void *)((uintptr_t)tw | 1);
}

/* A SYN to a listener, kept until the end of the burst (tcp_listen.c). */
struct tcp_syn_req {
	struct tcp_listener *l;
	struct tcp_tuple tuple;
	uint32_t irs, wnd;
	uint32_t iss_floor;        /* valid when has_floor (TIME_WAIT reuse) */
	bool has_floor;
	struct tcp_opts opts;
};

struct tcp_listener {
	struct tcp_listen_key key;
	uint32_t backlog;
	uint32_t syn_count;
	uint32_t accept_count;
	struct tcp_conn_list syn_q;        /* SYN_RECEIVED children */
	struct tcp_conn_list accept_q;     /* ESTABLISHED, not yet handed over */
	bool accepting;
	bool closed;                       /* dpt_unlisten()ed in this batch */
	uint32_t cookie_epoch;             /* last cookie's time counter + 1 */
	struct tcp_listener *dead_next;    /* closed; freed at batch end */
	dpt_event_fn fn;
	void *user;
};

struct tcp_engine {
	struct tcp_config cfg;
	uint32_t local_ip;                 /* network order */
	uint16_t our_mss;
	uint64_t now_us;                   /* since clock_origin */
	uint64_t tick_recip;               /* UINT64_MAX / cfg.tick_us */
	uint64_t now_ms;                   /* now_us / 1000: the TS clock */
	uint64_t clock_origin;             /* caller's time at the first batch */
	bool clock_started;
	uint32_t ip_id;
	bool tx_cksum_offload;

	struct rte_mempool *pool;          /* packet mbufs */
	struct rte_mempool *conn_pool;     /* struct tcp_conn */
	struct rte_hash *conns;            /* tcp_tuple -> tcp_conn or tcp_tw */
	struct rte_hash *listeners;        /* tcp_listen_key -> tcp_listener */
	uint32_t nconns;
	/* Bloom filter (tcp_tuple_bit) of the tuples allocated while an
	 * input chunk runs (nested ones included): a miss of the chunk's
	 * bulk lookup looks again only when its bit is set. Cleared when the
	 * outermost chunk ends. */
	uint64_t new_bits[4];
	bool new_any;                      /* a bit of new_bits is set */
	uint8_t chunk_depth;               /* input chunks running */
	uint32_t nlisteners;
	uint32_t state_count[DPT_STATE_COUNT];
	uint64_t tuples_freed;             /* table entries deleted, ever */
	uint16_t next_ephemeral;
	struct {                           /* last destination found full */
		uint32_t rip;
		uint16_t rport;
		bool valid;
		uint64_t tuples_freed;
	} eph_full;
	unsigned int id;                   /* params.engine_id */
	tcp_flow_owned_fn owned;           /* NULL: every flow is ours */
	void *owned_ctx;

	struct tcp_wheel wheel;
	struct tcp_conn *outq, *outq_tail; /* conns with output pending */
	struct tcp_conn *dead;             /* released this batch */
	struct tcp_listener *dead_listeners;
	struct tcp_syn_req syn_batch[TCP_BURST_MAX]; /* SYNs of this burst */
	uint16_t nsyn;
	uint64_t syn_bits[4];              /* their tuples' tcp_tuple_bit() */

	struct rte_mempool *tw_pool;       /* struct tcp_tw */
	uint32_t ntw;
	struct tcp_tw *tw_batch;           /* ACK owed or released this batch */
	unsigned int depth;                /* >0 while inside input/poll */
	bool trace;                        /* TCP_TRACE() prints */
	uint64_t trace_tick;               /* tick trace was last read */

	tcp_tx_fn tx;
	void *tx_ctx;
	struct rte_mbuf *txq[TCP_TXQ_MAX];
	uint16_t ntx;

	uint64_t isn_key[2];
	uint64_t challenge_sec;
	uint32_t challenge_count;
	struct tcp_stats stats;
};

/* tcp_engine.c */
struct rte_mempool *tcp_obj_pool_create(const char *name, uint32_t n,
					uint32_t size, int socket,
					unsigned int flags);
void tcp_set_state(struct tcp_engine *eng, struct tcp_conn *c,
		   enum dpt_state s);
struct tcp_conn *tcp_conn_alloc(struct tcp_engine *eng,
				const struct tcp_tuple *t);
void tcp_conn_release(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_conn_retire(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_event(struct tcp_engine *eng, struct tcp_conn *c,
	       enum dpt_event ev, int err);
void tcp_conn_finish(struct tcp_engine *eng, struct tcp_conn *c,
		     enum dpt_event ev, int err);
void tcp_enter_time_wait(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_engine_enter(struct tcp_engine *eng, uint64_t now_us);
void tcp_engine_leave(struct tcp_engine *eng);
/* An application call opens a batch at the engine's current time. */
static inline void tcp_api_enter(struct tcp_engine *eng) { eng->depth++; }

/* x / tick_us, exactly, without a division (every timer arm and every
 * poll): q = the high half of x * floor((2^64 - 1) / tick_us) is at most
 * the quotient and less than 2 below it (the reciprocal errs by less
 * than 1 + 1/tick_us per 2^64), and the remainder test adds what is
 * missing. */
static inline uint64_t tcp_tick_div(const struct tcp_engine *eng, uint64_t x)
{
	__extension__ typedef unsigned __int128 u128;
	uint64_t q = (uint64_t)(((u128)x * eng->tick_recip) >> 64);
	uint64_t r = x - q * eng->cfg.tick_us;

	while (r >= eng->cfg.tick_us) {
		q++;
		r -= eng->cfg.tick_us;
	}
	return q;
}

/* The tick containing time us (rounded down). */
static inline uint64_t tcp_us_to_tick(const struct tcp_engine *eng,
				      uint64_t us)
{
	return tcp_tick_div(eng, us);
}

/* A duration in ticks, rounded up: a timer never fires early. */
static inline uint64_t tcp_ms_to_tick(const struct tcp_engine *eng,
				      uint64_t ms)
{
	return tcp_tick_div(eng, ms * 1000 + eng->cfg.tick_us - 1);
}
void tcp_mq_free(struct tcp_mq *q);
void tcp_ooo_free(struct tcp_conn *c);
uint32_t tcp_rcv_window(const struct tcp_conn *c);
/* RFC 7323 §4: our TSval for a connection with ts_offset off. */
static inline uint32_t tcp_ts_now(const struct tcp_engine *eng,
				  uint32_t off)
{
	return (uint32_t)eng->now_ms + off;
}

/* tcp_table.c */
int tcp_table_create(struct tcp_engine *eng, unsigned int id, int socket);
void tcp_table_free(struct tcp_engine *eng);
void *tcp_table_lookup(struct tcp_engine *eng, const struct tcp_tuple *t);
int tcp_table_set(struct tcp_engine *eng, const struct tcp_tuple *t,
		  void *ent);
void tcp_table_del(struct tcp_engine *eng, const struct tcp_tuple *t);
void tcp_table_lookup_bulk(struct tcp_engine *eng,
			   const struct tcp_tuple *keys, uint32_t n,
			   void **out);

/* tcp_listen.c */
struct tcp_listener *tcp_listener_find(struct tcp_engine *eng,
				       uint32_t ip, uint16_t port);
void tcp_listen_input(struct tcp_engine *eng, struct tcp_listener *l,
		      struct tcp_seg *seg);
void tcp_listen_syn(struct tcp_engine *eng, struct tcp_listener *l,
		    const struct tcp_seg *seg, const uint32_t *iss_floor);
bool tcp_listen_batch_has(const struct tcp_engine *eng,
			  const struct tcp_tuple *t);
void tcp_listen_flush(struct tcp_engine *eng);
int tcp_listen_established(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_listen_detach(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_listen_deliver(struct tcp_engine *eng, struct tcp_listener *l);
void tcp_listeners_free(struct tcp_engine *eng);
void tcp_listeners_reap(struct tcp_engine *eng);

/* tcp_cookie.c */
bool tcp_cookie_wanted(const struct tcp_engine *eng,
		       const struct tcp_listener *l);
void tcp_cookie_send(struct tcp_engine *eng, struct tcp_listener *l,
		     const struct tcp_syn_req *req);
bool tcp_cookie_accept(struct tcp_engine *eng, struct tcp_listener *l,
		       struct tcp_seg *seg);

/* tcp_timewait.c */
int tcp_tw_create(struct tcp_engine *eng, unsigned int id, int socket);
void tcp_tw_destroy(struct tcp_engine *eng);
void tcp_tw_from_conn(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_tw_input(struct tcp_engine *eng, struct tcp_tw *tw,
		  struct tcp_seg *seg);
void tcp_tw_expire(struct tcp_engine *eng, struct tcp_tw *tw);
void tcp_tw_flush(struct tcp_engine *eng);
void tcp_tw_info(const struct tcp_tw *tw, struct dpt_conn_info *out);
bool tcp_tw_syn_is_new(const struct tcp_engine *eng, bool ts_ok,
		       uint32_t ts_recent, uint32_t rcv_nxt,
		       const struct tcp_seg *seg);

/* tcp_input.c */
enum tcp_seq_verdict { TCP_SEQ_BAD, TCP_SEQ_OK, TCP_SEQ_PROBE };
enum tcp_seq_verdict tcp_seq_check(struct tcp_engine *eng,
				   struct tcp_seg *seg, uint32_t rcv_nxt,
				   uint32_t wnd, uint32_t *skip);
bool tcp_challenge_ack_allowed(struct tcp_engine *eng);
void tcp_segment_arrives(struct tcp_engine *eng, struct tcp_conn *c,
			 struct tcp_seg *seg);
void tcp_conn_init_from_syn(struct tcp_engine *eng, struct tcp_conn *c,
			    const struct tcp_seg *seg);
void tcp_rtt_sample(struct tcp_engine *eng, struct tcp_conn *c, uint32_t rtt_us);
uint32_t tcp_sack_build(const struct tcp_conn *c, struct tcp_sack_block *b,
			uint32_t max);

/* tcp_output.c */
void tcp_output_mark(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_output_flush(struct tcp_engine *eng);
void tcp_output(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_send_ack(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_send_ack_now(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_send_rst_for(struct tcp_engine *eng, const struct tcp_seg *seg);
void tcp_send_rst_conn(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_send_rst_tuple(struct tcp_engine *eng, const struct tcp_tuple *t,
			uint32_t seq, uint32_t ack, uint8_t flags);
void tcp_send_ack_tw(struct tcp_engine *eng, const struct tcp_tw *tw);
void tcp_send_synack_tuple(struct tcp_engine *eng, const struct tcp_tuple *t,
			   uint32_t iss, uint32_t ack, uint32_t wnd,
			   const struct tcp_optspec *o);
void tcp_tx_flush(struct tcp_engine *eng);
void tcp_rexmit_timeout(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_arm_rexmit(struct tcp_engine *eng, struct tcp_conn *c);
uint32_t tcp_rto_backed_off(const struct tcp_engine *eng,
			    const struct tcp_conn *c);
uint32_t tcp_retransmit_seg(struct tcp_engine *eng, struct tcp_conn *c,
			    uint32_t seq, uint32_t max_len);
uint32_t tcp_send_new_segment(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_send_keepalive_probe(struct tcp_engine *eng, struct tcp_conn *c);

/* tcp_keepalive.c */
void tcp_keepalive_reset(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_keepalive_timeout(struct tcp_engine *eng, struct tcp_conn *c);

/* The peer was heard from (an acceptable segment): keepalive's idle time
 * starts again (its timer is moved lazily, see tcp_keepalive.c) and the
 * probes so far count as answered. */
static inline void tcp_peer_heard(struct tcp_engine *eng, struct tcp_conn *c)
{
	c->last_rx_us = eng->now_us;
	c->ka_probes = 0;
	c->persist_unanswered = 0;
}

/* tcp_isn.c */
uint64_t tcp_siphash(const uint64_t key[2], const uint64_t *m, unsigned int n);
uint32_t tcp_isn(const struct tcp_engine *eng, const struct tcp_tuple *t);
void tcp_conn_set_iss(struct tcp_conn *c, uint32_t iss);

/* tcp_options.c */
/* The options of one segment we send. */
struct tcp_optspec {
	uint16_t mss;              /* 0 = none */
	bool has_ws, sack_ok, has_ts;
	uint8_t ws;
	uint8_t nsack;             /* SACK blocks to send */
	uint32_t ts_val, ts_ecr;
	struct tcp_sack_block sack[TCP_SACK_MAX];
};
void tcp_parse_options(struct tcp_engine *eng, const uint8_t *p,
		       uint32_t len, struct tcp_opts *o);
uint32_t tcp_write_syn_options(const struct tcp_engine *eng, uint8_t *p);
unsigned int tcp_opt_sack_blocks(const struct tcp_seg *seg,
				 struct tcp_sack_block out[TCP_SACK_MAX_BLOCKS]);

/* tcp_recovery.c */
void tcp_recovery_init(struct tcp_engine *eng, struct tcp_conn *c);
bool tcp_is_dupack(const struct tcp_conn *c, const struct tcp_seg *seg);
void tcp_recovery_ack(struct tcp_engine *eng, struct tcp_conn *c,
		      const struct tcp_seg *seg, uint32_t prev_una,
		      uint32_t acked, uint32_t rtt_us, bool dupack);
void tcp_recovery_rto(struct tcp_engine *eng, struct tcp_conn *c);
uint32_t tcp_send_window(const struct tcp_conn *c);
bool tcp_sack_output(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_tlp_arm(struct tcp_engine *eng, struct tcp_conn *c);
void tcp_tlp_timeout(struct tcp_engine *eng, struct tcp_conn *c);
uint32_t tcp_write_options(const struct tcp_optspec *o, uint8_t *p);
uint8_t tcp_wscale_for(uint32_t rcv_buf);
uint32_t tcp_ts_offset(const struct tcp_engine *eng, uint32_t lip,
		       uint32_t rip);
void tcp_syn_optspec(const struct tcp_engine *eng, const struct tcp_conn *c,
		     struct tcp_optspec *o);
void tcp_opts_negotiate(struct tcp_engine *eng, struct tcp_conn *c,
			const struct tcp_opts *syn);

static inline bool tcp_synchronized(enum dpt_state s)
{
	return s >= DPT_ESTABLISHED && s <= DPT_TIME_WAIT;
}

#endif
