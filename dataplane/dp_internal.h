/* dp_internal.h — the dataplane's per-lcore context and the functions its
 * modules (eth, arp, ipv4, icmp, port, telemetry) call on each other.
 * Not for apps: they use dp.h. */
#ifndef DP_INTERNAL_H
#define DP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dp_config.h"
#include "dp_stats.h"
#include "tcp_engine.h"

struct dp_pcap;

#define DP_RX_BURST 32
#define DP_RX_BURSTS_MAX 8        /* full bursts taken before timers run */
#define DP_TX_BATCH 512           /* flushed early when full */

#define DP_MAX_WORKERS 128        /* [dataplane] workers upper bound */
#define DP_NO_QUEUE UINT16_MAX    /* worker without its own RX/TX queue */
#define DP_RETA_MAX 512           /* hash -> worker table entries */
#define DP_RSS_KEY_MAX 64
#define DP_STEER_RING 1024        /* per (from, to) worker pair */
#define DP_TX_RING 2048           /* per worker without a TX queue */

/* ARP cache: open addressing (linear probing, backward-shift delete). */
#define DP_ARP_SLOTS 512          /* power of two */
#define DP_ARP_MAX_ENTRIES 256    /* keeps the load factor <= 1/2 */
#define DP_ARP_PENDING_MAX 16     /* packets held per unresolved address */
#define DP_ARP_RETRIES 3          /* requests after the first one */
#define DP_ARP_RETRY_US 1000000ULL
#define DP_ARP_REACHABLE_US (300ULL * 1000000)  /* 5 minutes */
#define DP_ARP_SCAN_US 100000ULL  /* retry/expiry scan period */

enum dp_arp_state {
	DP_ARP_FREE = 0,
	DP_ARP_INCOMPLETE,        /* request sent, packets pending */
	DP_ARP_REACHABLE,         /* confirmed within DP_ARP_REACHABLE_US */
	DP_ARP_PROBE,             /* aged: still used, refresh requests sent */
};

struct dp_arp_entry {
	uint32_t ip;              /* host order; key */
	uint8_t state;            /* enum dp_arp_state */
	uint8_t tries;            /* requests sent in this state */
	uint16_t n_pending;
	struct rte_ether_addr mac;
	uint64_t deadline_us;     /* next retry, or end of REACHABLE */
	struct rte_mbuf *pending[DP_ARP_PENDING_MAX];
};

struct dp_arp_table {
	struct dp_arp_entry slot[DP_ARP_SLOTS];
	unsigned int n;
	uint64_t next_scan_us;
};

/* Flow steering (DESIGN.md "Flow affinity"): shared by all workers,
 * read-only once the port is started. The rings are single-producer /
 * single-consumer: ring[from * n + to] carries segments (and ARP copies)
 * from the worker that polled them to the flow's owner; tx[w] carries the
 * frames of a worker that has no TX queue to the worker that transmits
 * them (w % n_txq). */
struct dp_steer {
	unsigned int n_workers;
	uint16_t n_rxq, n_txq;    /* queues the port was configured with */
	bool hw_rss;              /* the port's RSS uses our key and RETA */
	uint16_t reta_size;       /* power of two */
	uint8_t key_len;
	uint8_t key[DP_RSS_KEY_MAX];        /* symmetric Toeplitz key */
	uint32_t key_be[DP_RSS_KEY_MAX / 4];/* for rte_softrss_be */
	uint8_t reta[DP_RETA_MAX];          /* hash -> worker */
	struct rte_ring **ring;   /* n_workers^2, NULL on the diagonal */
	struct rte_ring **tx;     /* n_workers, NULL where txq is ours */
};

/* Everything one lcore's dataplane owns. */
struct dp_ctx {
	unsigned int worker;      /* engine id; 0 runs on the main lcore */
	unsigned int lcore_id;
	uint16_t rxq, txq;        /* DP_NO_QUEUE: none of its own */
	struct dp_steer *steer;
	uint64_t next_snap_us;    /* telemetry */

	uint16_t port_id;
	struct rte_ether_addr mac;
	uint32_t ip;              /* host order */
	uint32_t netmask;         /* host order */
	uint32_t gateway;         /* host order; 0 = none */
	uint16_t mtu;
	bool tx_cksum_offload;
	bool rx_ip_cksum_offload;
	struct rte_mempool *pool;
	struct tcp_engine *eng;
	uint64_t now_us;

	uint16_t tx_n;
	struct rte_mbuf *tx_pkts[DP_TX_BATCH];

	struct dp_stats stats;
	struct dp_arp_table arp;
	struct dp_pcap *pcap;     /* --pcap capture (shared); NULL when off */

	/* Segments of other workers' flows, passed on after the burst. */
	uint16_t steer_n[DP_MAX_WORKERS];
	struct rte_mbuf *steer_out[DP_MAX_WORKERS][DP_RX_BURST];
};

/* dp_port.c: configures the port for st->n_workers workers (as many RX/TX
 * queues as it allows, RSS with st's key and RETA when asked and offered)
 * and fills in st->n_rxq, n_txq, hw_rss, reta. */
int dp_port_init(struct dp_ctx *ctx, const struct dp_port_config *pc,
		 struct dp_steer *st, bool want_rss);
void dp_port_fini(struct dp_ctx *ctx);

/* dp_steer.c */
int dp_steer_init(struct dp_steer *st, unsigned int n_workers, int socket);
void dp_steer_fini(struct dp_steer *st);
/* After dp_port_init: TX rings for the workers beyond the port's TX queues. */
int dp_steer_tx_setup(struct dp_steer *st, int socket);
/* The symmetric key and a RETA spreading hashes over the workers. */
void dp_steer_default_reta(struct dp_steer *st, uint16_t reta_size);
/* The one ownership function: worker of the flow (host order). */
unsigned int dp_steer_owner(const struct dp_steer *st, uint32_t sip,
			    uint32_t dip, uint16_t sport, uint16_t dport);
/* Worker of a received segment (data at its IPv4 header). */
unsigned int dp_steer_owner_mbuf(const struct dp_steer *st,
				 const struct rte_mbuf *m);
/* tcp_flow_owned_fn for the engine of ctx. */
bool dp_steer_owned(void *ctx, uint32_t lip, uint16_t lport, uint32_t rip,
		    uint16_t rport);
/* Queue m (a TCP segment at its IP header, or an ARP copy when arp) for
 * worker w; sent by dp_steer_flush. */
void dp_steer_push(struct dp_ctx *ctx, unsigned int w, struct rte_mbuf *m,
		   bool arp);
void dp_steer_flush(struct dp_ctx *ctx);
/* Takes what other workers passed to this one: segments to the engine,
 * ARP copies to the cache. */
void dp_steer_poll(struct dp_ctx *ctx);
/* Frames of workers without a TX queue, sent by their transmitting worker. */
bool dp_steer_tx_enqueue(struct dp_ctx *ctx, struct rte_mbuf **pkts,
			 uint16_t n, uint16_t *taken);
void dp_steer_tx_drain(struct dp_ctx *ctx);

/* dp_eth.c: receive path and the transmit batch. */
void dp_eth_rx(struct dp_ctx *ctx, struct rte_mbuf **pkts, uint16_t n);
/* Prepends Ethernet (dst, our MAC, type) and queues m for the port. */
void dp_eth_output(struct dp_ctx *ctx, struct rte_mbuf *m,
		   const struct rte_ether_addr *dst, uint16_t ether_type);
/* Queues a complete frame. */
void dp_eth_queue(struct dp_ctx *ctx, struct rte_mbuf *m);
void dp_eth_flush(struct dp_ctx *ctx);
/* The engine's tcp_tx_fn; ctx is the struct dp_ctx. */
uint16_t dp_tx_ipv4_burst(void *ctx, struct rte_mbuf **pkts, uint16_t n);

/* dp_arp.c. dp_arp_input: copy is set for an ARP packet another worker
 * received and passed on so that every worker's cache learns; a copy is
 * never answered or counted twice. */
void dp_arp_init(struct dp_ctx *ctx);
void dp_arp_input(struct dp_ctx *ctx, struct rte_mbuf *m, bool copy);
/* Sends the IPv4 packet m to next hop nh (host order), resolving first. */
void dp_arp_output(struct dp_ctx *ctx, struct rte_mbuf *m, uint32_t nh);
void dp_arp_tick(struct dp_ctx *ctx);
void dp_arp_fini(struct dp_ctx *ctx);

/* dp_ipv4.c: returns true when m is a TCP segment for the engine (data at
 * the IP header, l3_len set, trimmed); otherwise m was consumed. */
bool dp_ipv4_input(struct dp_ctx *ctx, struct rte_mbuf *m);
void dp_ipv4_output(struct dp_ctx *ctx, struct rte_mbuf *m);

/* dp_icmp.c: m's data starts at the ICMP header; ip is its IPv4 header. */
void dp_icmp_input(struct dp_ctx *ctx, struct rte_mbuf *m);

/* dp_pcap.c: capture of port 0's RX and TX frames to a pcapng file
 * (ethdev callbacks; nothing runs on the data path when not opened). */
int dp_pcap_open(struct dp_ctx **workers, unsigned int n, const char *path);
void dp_pcap_close(struct dp_ctx *ctx);   /* writes stats, closes; idempotent */

/* dp_telemetry.c: one snapshot slot per worker. */
int dp_telemetry_init(struct dp_ctx **workers, unsigned int n);
void dp_telemetry_fini(void);
/* Called by the poll loop: copies counters every ~10 ms, the connection
 * list when a telemetry client asked for it. */
void dp_telemetry_update(struct dp_ctx *ctx);

#endif
