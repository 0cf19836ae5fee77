/* tcp_engine.h — what the dataplane (and tests) call to run one engine.
 * One struct tcp_engine per core; nothing in it is shared. The engine sees
 * IPv4 packets only: it never touches ethdev, Ethernet or ARP. */
#ifndef TCP_ENGINE_H
#define TCP_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "tcp_stats.h"

struct tcp_engine;

/* [tcp] cc: the congestion control of new connections (the config key
 * stores the index of the word: cubic, newreno). */
enum tcp_cc_algo {
	TCP_CC_CUBIC = 0,          /* RFC 9438, the default (as Linux) */
	TCP_CC_NEWRENO = 1,        /* RFC 5681 + RFC 6582 */
	TCP_CC_COUNT
};

/* TCP tunables, read from the [tcp] section of the config. */
struct tcp_config {
	uint32_t msl_ms;           /* TIME_WAIT lasts 2*msl_ms (default 30000) */
	uint32_t snd_buf_bytes;    /* per-connection send buffer (default 262144) */
	uint32_t rcv_buf_bytes;    /* per-connection receive buffer (default 262144; window scaling past 65535) */
	uint32_t backlog;          /* default accept queue bound per listener */
	uint32_t syn_backlog;      /* SYN_RECEIVED connections per listener */
	uint32_t max_conns;        /* connections per engine, all states (TIME_WAIT records: max_time_wait) */
	uint32_t rto_min_ms;       /* RFC 6298 lower bound (default 200, as Linux) */
	uint32_t rto_max_ms;       /* upper bound of the backed-off RTO */
	uint32_t rto_init_ms;      /* RTO before the first sample (RFC 6298: 1s) */
	uint32_t syn_retries;      /* SYN retransmissions before SYN_SENT gives up */
	uint32_t synack_retries;   /* SYN-ACK retransmissions in SYN_RECEIVED */
	uint32_t data_retries;     /* data retransmissions before abort */
	uint32_t fin_wait2_ms;     /* FIN_WAIT_2 timeout after close() (0 = none) */
	uint32_t delack_ms;        /* delayed ACK timeout (0 = ACK at once) */
	uint32_t nodelay;          /* 1: connections start with DPT_OPT_NODELAY (no Nagle) */
	uint32_t keepalive_idle_s; /* keepalive defaults (RFC 1122 §4.2.3.6), */
	uint32_t keepalive_intvl_s; /* for connections that enable it with */
	uint32_t keepalive_cnt;    /* DPT_OPT_KEEPALIVE (Linux: 7200, 75, 9) */
	uint32_t tick_us;          /* timer wheel tick */
	uint32_t syncookies;       /* 0 off, 1 when the SYN queue is full, 2 always */
	uint32_t max_time_wait;    /* TIME_WAIT records per engine (default 262144) */
	uint32_t ephemeral_port_lo; /* local ports of active opens, inclusive */
	uint32_t ephemeral_port_hi; /* (default 32768..60999, as Linux) */
	uint32_t cc;               /* enum tcp_cc_algo (default TCP_CC_CUBIC) */
	uint32_t tlp;              /* tail loss probes, RFC 8985 §7 (default 1) */
	uint32_t window_scaling;   /* RFC 7323 §2 window scale option (default 1) */
	uint32_t timestamps;       /* RFC 7323 §3 timestamps and PAWS (default 1) */
	uint32_t sack;             /* RFC 2018 SACK-permitted, SACK blocks (default 1) */
};

/* Fills in the defaults documented in config/dptcp.ini. */
void tcp_config_defaults(struct tcp_config *cfg);

/* Transmit: the engine hands over IPv4 packets (data starts at the IPv4
 * header; l3_len and l4_len are set; headroom >= RTE_PKTMBUF_HEADROOM).
 * The callee prepends L2 and sends or frees every mbuf; it returns how many
 * it took (the engine frees and counts the rest). */
typedef uint16_t (*tcp_tx_fn)(void *ctx, struct rte_mbuf **pkts, uint16_t n);

/* Flow ownership (DESIGN.md "Flow affinity"): true when the engine that
 * asks owns the 4-tuple, i.e. the peer's segments of that flow will be
 * delivered to it. Addresses and ports in host byte order. Active opens
 * pick only local ports for which it answers true. */
typedef bool (*tcp_flow_owned_fn)(void *ctx, uint32_t lip, uint16_t lport,
				  uint32_t rip, uint16_t rport);

struct tcp_engine_params {
	struct tcp_config cfg;
	uint32_t local_ip;         /* host byte order */
	uint16_t mtu;              /* IP MTU of the port: our MSS = mtu - 40 */
	int socket_id;             /* NUMA socket for the engine's memory */
	unsigned int engine_id;    /* names rte_hash tables; unique per process */
	struct rte_mempool *pool;  /* mbufs for transmission */
	tcp_tx_fn tx;
	void *tx_ctx;
	/* Checksum offload on transmit: when set the engine writes the
	 * pseudo-header sum and sets RTE_MBUF_F_TX_{IPV4,IP_CKSUM,TCP_CKSUM};
	 * otherwise it writes complete checksums. */
	bool tx_cksum_offload;
	uint64_t isn_secret[2];    /* RFC 6528 key; zero = random at create */
	tcp_flow_owned_fn owned;   /* NULL: this engine owns every flow */
	void *owned_ctx;
};

struct tcp_engine *tcp_engine_create(const struct tcp_engine_params *p);
/* Frees every connection (no segments sent) and the engine. */
void tcp_engine_destroy(struct tcp_engine *eng);

/* The engine_id it was created with. */
unsigned int tcp_engine_id(const struct tcp_engine *eng);

/* Segment input. Each mbuf's data starts at a validated IPv4 header
 * (version, length, header checksum, not a fragment, addressed to us,
 * protocol TCP) with pkt_len trimmed to the IP total length and l3_len set.
 * RX checksum flags (RTE_MBUF_F_RX_L4_CKSUM_*) are honoured. The engine
 * takes ownership of every mbuf. now_us is a monotonic clock. */
void tcp_input_burst(struct tcp_engine *eng, struct rte_mbuf **pkts,
		     uint16_t n, uint64_t now_us);

/* Runs timers due by now_us, then sends queued output (pending ACKs, data).
 * The poll loop calls it once per iteration, after input and app work. */
void tcp_engine_poll(struct tcp_engine *eng, uint64_t now_us);

/* Monotonic microseconds from the TSC, for callers with no clock of their own. */
uint64_t tcp_clock_us(void);

const struct tcp_stats *tcp_engine_stats(const struct tcp_engine *eng);

/* Name of the congestion control new connections use ("cubic", "newreno"). */
const char *tcp_engine_cc_name(const struct tcp_engine *eng);

/* Number of connections per state, indexed by enum dpt_state; TIME_WAIT
 * counts the compact TIME_WAIT records too. */
void tcp_engine_state_counts(const struct tcp_engine *eng,
			     uint32_t counts[/* DPT_STATE_COUNT */]);

/* Visit connections (for telemetry), TIME_WAIT records included (state
 * DPT_TIME_WAIT; snd_una = snd_nxt, no RTT or queue figures): stops when
 * fn returns non-zero. */
struct dpt_conn_info;
typedef int (*tcp_conn_visit_fn)(const struct dpt_conn_info *info, void *arg);
void tcp_engine_foreach_conn(const struct tcp_engine *eng,
			     tcp_conn_visit_fn fn, void *arg);

#endif
