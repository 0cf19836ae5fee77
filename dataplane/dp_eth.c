/* dp_eth.c — Ethernet: classifies received frames (IPv4, ARP, drop),
 * hands one burst of TCP segments to the engine, and owns the transmit
 * batch that the poll loop flushes to the port once per iteration. */
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "dp_internal.h"

static bool
dp_eth_addressed_to_us(const struct dp_ctx *ctx,
		       const struct rte_ether_hdr *eth)
{
	return rte_is_same_ether_addr(&eth->dst_addr, &ctx->mac) ||
	       rte_is_broadcast_ether_addr(&eth->dst_addr);
}

/* Returns true when m is a TCP segment now starting at its IP header. */
static bool
dp_eth_input(struct dp_ctx *ctx, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth;

	ctx->stats.rx_pkts++;
	ctx->stats.rx_bytes += rte_pktmbuf_pkt_len(m);
	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*eth))) {
		ctx->stats.eth_short++;
		goto drop;
	}
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (unlikely(!dp_eth_addressed_to_us(ctx, eth))) {
		ctx->stats.eth_not_ours++;
		goto drop;
	}
	if (unlikely(rte_is_multicast_ether_addr(&eth->src_addr))) {
		ctx->stats.eth_bad_src++;
		goto drop;
	}
	if (likely(eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
		rte_pktmbuf_adj(m, sizeof(*eth));
		m->l2_len = 0;
		return dp_ipv4_input(ctx, m);
	}
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		dp_arp_input(ctx, m, false);
		return false;
	}
	ctx->stats.eth_other_type++;
drop:
	rte_pktmbuf_free(m);
	return false;
}

/* Segments of flows another worker owns are passed on (dp_steer.c); the
 * rest go to this worker's engine as one burst. */
void
dp_eth_rx(struct dp_ctx *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *segs[DP_RX_BURST];
	bool steer = ctx->steer->n_workers > 1;
	uint16_t i, nseg = 0;
	unsigned int w;

	for (i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		if (!dp_eth_input(ctx, pkts[i]))
			goto next;
		if (steer) {
			w = dp_steer_owner_mbuf(ctx->steer, pkts[i]);
			if (w != ctx->worker) {
				ctx->stats.steer_out++;
				dp_steer_push(ctx, w, pkts[i], false);
				goto next;
			}
		}
		segs[nseg++] = pkts[i];
next:
		if (nseg == DP_RX_BURST || (i + 1 == n && nseg > 0)) {
			ctx->stats.tcp_to_engine += nseg;
			tcp_input_burst(ctx->eng, segs, nseg, ctx->now_us);
			nseg = 0;
		}
	}
}

void
dp_eth_queue(struct dp_ctx *ctx, struct rte_mbuf *m)
{
	if (unlikely(ctx->tx_n == DP_TX_BATCH))
		dp_eth_flush(ctx);
	ctx->tx_pkts[ctx->tx_n++] = m;
}

void
dp_eth_output(struct dp_ctx *ctx, struct rte_mbuf *m,
	      const struct rte_ether_addr *dst, uint16_t ether_type)
{
	struct rte_ether_hdr *eth;

	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (unlikely(eth == NULL)) {
		ctx->stats.tx_no_headroom++;
		rte_pktmbuf_free(m);
		return;
	}
	eth->dst_addr = *dst;
	eth->src_addr = ctx->mac;
	eth->ether_type = rte_cpu_to_be_16(ether_type);
	m->l2_len = sizeof(*eth);
	dp_eth_queue(ctx, m);
}

void
dp_eth_flush(struct dp_ctx *ctx)
{
	uint64_t bytes = 0, refused = 0;
	uint16_t i, n = ctx->tx_n, sent;

	if (n == 0)
		return;
	if (unlikely(ctx->txq == DP_NO_QUEUE)) {
		/* No TX queue of its own: the transmitting worker sends. */
		dp_steer_tx_enqueue(ctx, ctx->tx_pkts, n, &sent);
		for (i = sent; i < n; i++)
			rte_pktmbuf_free(ctx->tx_pkts[i]);
		ctx->tx_n = 0;
		return;
	}
	for (i = 0; i < n; i++)
		bytes += rte_pktmbuf_pkt_len(ctx->tx_pkts[i]);
	sent = rte_eth_tx_burst(ctx->port_id, ctx->txq, ctx->tx_pkts, n);
	for (i = sent; i < n; i++) {
		refused += rte_pktmbuf_pkt_len(ctx->tx_pkts[i]);
		rte_pktmbuf_free(ctx->tx_pkts[i]);
	}
	ctx->stats.tx_pkts += sent;
	ctx->stats.tx_bytes += bytes - refused;
	ctx->stats.tx_refused += n - sent;
	ctx->tx_n = 0;
}

/* The engine's transmit function: every packet is taken (sent, queued for
 * ARP, or dropped and counted here). */
uint16_t
dp_tx_ipv4_burst(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct dp_ctx *ctx = arg;
	uint16_t i;

	for (i = 0; i < n; i++)
		dp_ipv4_output(ctx, pkts[i]);
	return n;
}
