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

#include "dp_config.h"
#include "dp_stats.h"
#include "tcp_engine.h"

struct dp_pcap;

#define DP_RX_BURST 32
#define DP_TX_BATCH 512           /* flushed early when full */

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

/* Everything one lcore's dataplane owns. */
struct dp_ctx {
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
	struct dp_pcap *pcap;     /* --pcap capture; NULL when off */
};

/* dp_port.c */
int dp_port_init(struct dp_ctx *ctx, const struct dp_port_config *pc);
void dp_port_fini(struct dp_ctx *ctx);

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

/* dp_arp.c */
void dp_arp_init(struct dp_ctx *ctx);
void dp_arp_input(struct dp_ctx *ctx, struct rte_mbuf *m);
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
int dp_pcap_open(struct dp_ctx *ctx, const char *path);
void dp_pcap_close(struct dp_ctx *ctx);   /* writes stats, closes; idempotent */

/* dp_telemetry.c */
int dp_telemetry_init(void);
/* Called by the poll loop: copies counters every ~10 ms, the connection
 * list when a telemetry client asked for it. */
void dp_telemetry_update(struct dp_ctx *ctx);

#endif
