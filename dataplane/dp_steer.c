/* dp_steer.c — flow ownership and software steering (DESIGN.md "Flow
 * affinity"). One function decides which worker owns a flow: the Toeplitz
 * hash of the 4-tuple with a symmetric key (both directions hash alike),
 * then a RETA from hash to worker. With hardware RSS the port is programmed
 * with the same key and RETA, so each flow arrives at its owner's queue;
 * without it, the worker that polls a queue computes the hash and passes
 * the segment to the owner over a single-producer/single-consumer ring.
 * Active opens ask the same function (dp_steer_owned) for a local port. */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_tcp.h>
#include <rte_thash.h>

#include "dp_internal.h"
#include "dp_log.h"

/* Symmetric Toeplitz key: a 16-bit period makes hash(src, dst, sport,
 * dport) == hash(dst, src, dport, sport), since swapping the addresses
 * (32 bits) or the ports (16 bits) shifts the key by whole periods.
 * (Woo and Park, "Scalable TCP Session Monitoring with Symmetric RSS".) */
static const uint8_t dp_sym_key_period[2] = { 0x6d, 0x5a };

void
dp_steer_default_reta(struct dp_steer *st, uint16_t reta_size)
{
	unsigned int i;

	if (reta_size == 0 || reta_size > DP_RETA_MAX ||
	    (reta_size & (reta_size - 1)) != 0)
		reta_size = 128;
	st->reta_size = reta_size;
	for (i = 0; i < reta_size; i++)
		st->reta[i] = (uint8_t)(i % st->n_workers);
}

int
dp_steer_init(struct dp_steer *st, unsigned int n, int socket)
{
	char name[RTE_RING_NAMESIZE];
	unsigned int from, to, i;

	memset(st, 0, sizeof(*st));
	st->n_workers = n;
	st->key_len = 40;
	for (i = 0; i < DP_RSS_KEY_MAX; i++)
		st->key[i] = dp_sym_key_period[i & 1];
	rte_convert_rss_key((const uint32_t *)st->key, st->key_be,
			    DP_RSS_KEY_MAX);
	dp_steer_default_reta(st, 128);
	if (n == 1)
		return 0;
	st->ring = rte_zmalloc_socket("dp_steer_rings",
				      sizeof(*st->ring) * n * n, 0, socket);
	st->tx = rte_zmalloc_socket("dp_steer_tx", sizeof(*st->tx) * n, 0,
				    socket);
	if (st->ring == NULL || st->tx == NULL)
		return -ENOMEM;
	for (from = 0; from < n; from++) {
		for (to = 0; to < n; to++) {
			if (from == to)
				continue;
			snprintf(name, sizeof(name), "dp_steer_%u_%u", from & 0xff, to & 0xff);
			st->ring[from * n + to] = rte_ring_create(name,
				DP_STEER_RING, socket,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (st->ring[from * n + to] == NULL) {
				DP_LOG(ERR, "steering ring %s: %s", name,
				       rte_strerror(rte_errno));
				return -rte_errno;
			}
		}
	}
	return 0;
}

/* Rings for workers that have no TX queue, once the port said how many
 * queues it has. */
static int
dp_steer_tx_rings(struct dp_steer *st, int socket)
{
	char name[RTE_RING_NAMESIZE];
	unsigned int w;

	for (w = st->n_txq; w < st->n_workers; w++) {
		snprintf(name, sizeof(name), "dp_txr_%u", w & 0xff);
		st->tx[w] = rte_ring_create(name, DP_TX_RING, socket,
					    RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (st->tx[w] == NULL) {
			DP_LOG(ERR, "TX ring %s: %s", name,
			       rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	return 0;
}

void
dp_steer_fini(struct dp_steer *st)
{
	unsigned int i, n = st->n_workers;

	if (st->ring != NULL)
		for (i = 0; i < n * n; i++)
			rte_ring_free(st->ring[i]);
	if (st->tx != NULL)
		for (i = 0; i < n; i++)
			rte_ring_free(st->tx[i]);
	rte_free(st->ring);
	rte_free(st->tx);
	st->ring = NULL;
	st->tx = NULL;
}

static inline unsigned int
dp_steer_reta(const struct dp_steer *st, uint32_t hash)
{
	return st->reta[hash & (st->reta_size - 1u)];
}

/* The hash a NIC computes for RTE_ETH_RSS_NONFRAG_IPV4_TCP: source
 * address, destination address, source port, destination port. */
static inline uint32_t
dp_steer_hash(const struct dp_steer *st, uint32_t sip, uint32_t dip,
	      uint16_t sport, uint16_t dport)
{
	uint32_t tuple[3] = { sip, dip, (uint32_t)sport << 16 | dport };

	return rte_softrss_be(tuple, RTE_DIM(tuple),
			      (const uint8_t *)st->key_be);
}

unsigned int
dp_steer_owner(const struct dp_steer *st, uint32_t sip, uint32_t dip,
	       uint16_t sport, uint16_t dport)
{
	if (st->n_workers == 1)
		return 0;
	return dp_steer_reta(st, dp_steer_hash(st, sip, dip, sport, dport));
}

unsigned int
dp_steer_owner_mbuf(const struct dp_steer *st, const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *th;

	if (st->hw_rss && (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH))
		return dp_steer_reta(st, m->hash.rss);
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	/* dp_ipv4_input checked that a whole TCP header follows l3_len. */
	th = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *, m->l3_len);
	return dp_steer_owner(st, rte_be_to_cpu_32(ip->src_addr),
			      rte_be_to_cpu_32(ip->dst_addr),
			      rte_be_to_cpu_16(th->src_port),
			      rte_be_to_cpu_16(th->dst_port));
}

/* The peer's segments of this flow carry (rip, lip, rport, lport). */
bool
dp_steer_owned(void *arg, uint32_t lip, uint16_t lport, uint32_t rip,
	       uint16_t rport)
{
	const struct dp_ctx *ctx = arg;

	return dp_steer_owner(ctx->steer, rip, lip, rport, lport) ==
	       ctx->worker;
}

void
dp_steer_push(struct dp_ctx *ctx, unsigned int w, struct rte_mbuf *m,
	      bool arp)
{
	m->packet_type = arp ? RTE_PTYPE_L2_ETHER_ARP :
			       RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP;
	if (ctx->steer_n[w] == DP_RX_BURST)
		dp_steer_flush(ctx);
	ctx->steer_out[w][ctx->steer_n[w]++] = m;
}

void
dp_steer_flush(struct dp_ctx *ctx)
{
	const struct dp_steer *st = ctx->steer;
	unsigned int w, i, n, sent;

	for (w = 0; w < st->n_workers; w++) {
		n = ctx->steer_n[w];
		if (n == 0)
			continue;
		sent = rte_ring_sp_enqueue_burst(
			st->ring[ctx->worker * st->n_workers + w],
			(void **)ctx->steer_out[w], n, NULL);
		for (i = sent; i < n; i++)
			rte_pktmbuf_free(ctx->steer_out[w][i]);
		ctx->stats.steer_full += n - sent;
		ctx->steer_n[w] = 0;
	}
}

/* The owner's side: segments go to its engine as one burst. */
static void
dp_steer_deliver(struct dp_ctx *ctx, struct rte_mbuf **pkts, unsigned int n)
{
	struct rte_mbuf *segs[DP_RX_BURST];
	unsigned int i, nseg = 0;

	for (i = 0; i < n; i++) {
		if (unlikely(pkts[i]->packet_type == RTE_PTYPE_L2_ETHER_ARP)) {
			dp_arp_input(ctx, pkts[i], true);
			continue;
		}
		segs[nseg++] = pkts[i];
	}
	if (nseg == 0)
		return;
	ctx->stats.steer_in += nseg;
	ctx->stats.tcp_to_engine += nseg;
	tcp_input_burst(ctx->eng, segs, (uint16_t)nseg, ctx->now_us);
}

void
dp_steer_poll(struct dp_ctx *ctx)
{
	const struct dp_steer *st = ctx->steer;
	struct rte_mbuf *pkts[DP_RX_BURST];
	unsigned int from, n;

	for (from = 0; from < st->n_workers; from++) {
		if (from == ctx->worker)
			continue;
		n = rte_ring_sc_dequeue_burst(
			st->ring[from * st->n_workers + ctx->worker],
			(void **)pkts, DP_RX_BURST, NULL);
		if (n > 0)
			dp_steer_deliver(ctx, pkts, n);
	}
}

bool
dp_steer_tx_enqueue(struct dp_ctx *ctx, struct rte_mbuf **pkts, uint16_t n,
		    uint16_t *taken)
{
	struct rte_ring *r = ctx->steer->tx[ctx->worker];

	if (r == NULL)
		return false;
	*taken = (uint16_t)rte_ring_sp_enqueue_burst(r, (void **)pkts, n,
						     NULL);
	ctx->stats.tx_via_ring += *taken;
	ctx->stats.tx_ring_full += n - *taken;
	return true;
}

/* Worker t transmits for every worker w >= n_txq with w % n_txq == t. */
void
dp_steer_tx_drain(struct dp_ctx *ctx)
{
	const struct dp_steer *st = ctx->steer;
	struct rte_mbuf *pkts[DP_RX_BURST];
	unsigned int w, n, sent, i;

	if (st->tx == NULL || ctx->txq == DP_NO_QUEUE)
		return;
	for (w = st->n_txq + ctx->worker; w < st->n_workers; w += st->n_txq) {
		n = rte_ring_sc_dequeue_burst(st->tx[w], (void **)pkts,
					      RTE_DIM(pkts), NULL);
		if (n == 0)
			continue;
		sent = rte_eth_tx_burst(ctx->port_id, ctx->txq, pkts,
					(uint16_t)n);
		for (i = 0; i < sent; i++)
			ctx->stats.tx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
		for (i = sent; i < n; i++)
			rte_pktmbuf_free(pkts[i]);
		ctx->stats.tx_pkts += sent;
		ctx->stats.tx_refused += n - sent;
	}
}

int
dp_steer_tx_setup(struct dp_steer *st, int socket)
{
	if (st->n_workers == 1 || st->n_txq >= st->n_workers)
		return 0;
	return dp_steer_tx_rings(st, socket);
}
