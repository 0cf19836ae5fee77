/* dp_arp.c — ARP (RFC 826): answers requests for our address, learns from
 * requests and replies, resolves next hops for transmission with a small
 * pending queue per address, and ages entries (refresh, then expiry). */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp_internal.h"

#define DP_ARP_FRAME_LEN 60       /* minimum Ethernet frame without FCS */

static inline unsigned int
dp_arp_home(uint32_t ip)
{
	uint32_t h = ip * 0x9e3779b1u;

	return (h ^ (h >> 16)) & (DP_ARP_SLOTS - 1);
}

static struct dp_arp_entry *
dp_arp_lookup(struct dp_arp_table *t, uint32_t ip)
{
	unsigned int i = dp_arp_home(ip);

	while (t->slot[i].state != DP_ARP_FREE) {
		if (t->slot[i].ip == ip)
			return &t->slot[i];
		i = (i + 1) & (DP_ARP_SLOTS - 1);
	}
	return NULL;
}

static struct dp_arp_entry *
dp_arp_insert(struct dp_arp_table *t, uint32_t ip)
{
	unsigned int i = dp_arp_home(ip);

	if (t->n >= DP_ARP_MAX_ENTRIES)
		return NULL;
	while (t->slot[i].state != DP_ARP_FREE)
		i = (i + 1) & (DP_ARP_SLOTS - 1);
	memset(&t->slot[i], 0, sizeof(t->slot[i]));
	t->slot[i].ip = ip;
	t->n++;
	return &t->slot[i];
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void
dp_arp_delete(struct dp_arp_table *t, struct dp_arp_entry *e)
{
	unsigned int i = (unsigned int)(e - t->slot), j = i, k;

	for (;;) {
		j = (j + 1) & (DP_ARP_SLOTS - 1);
		if (t->slot[j].state == DP_ARP_FREE)
			break;
		k = dp_arp_home(t->slot[j].ip);
		/* slot j stays if its home lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->slot[i] = t->slot[j];
		i = j;
	}
	memset(&t->slot[i], 0, sizeof(t->slot[i]));
	t->n--;
}

void
dp_arp_init(struct dp_ctx *ctx)
{
	memset(&ctx->arp, 0, sizeof(ctx->arp));
}

/* A request for tip, broadcast, or unicast to dst when refreshing. */
static void
dp_arp_send_request(struct dp_ctx *ctx, uint32_t tip,
		    const struct rte_ether_addr *dst)
{
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	struct rte_mbuf *m;

	m = rte_pktmbuf_alloc(ctx->pool);
	if (m == NULL) {
		ctx->stats.tx_nombuf++;
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, DP_ARP_FRAME_LEN);
	memset(eth, 0, DP_ARP_FRAME_LEN);
	if (dst != NULL)
		rte_ether_addr_copy(dst, &eth->dst_addr);
	else
		memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(&ctx->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = ctx->mac;
	arp->arp_data.arp_sip = rte_cpu_to_be_32(ctx->ip);
	arp->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	ctx->stats.arp_tx_request++;
	dp_eth_queue(ctx, m);
}

/* The address answered: send what waited for it. */
static void
dp_arp_confirm(struct dp_ctx *ctx, struct dp_arp_entry *e,
	       const struct rte_ether_addr *mac)
{
	uint16_t i;

	e->mac = *mac;
	if (e->state == DP_ARP_INCOMPLETE)
		ctx->stats.arp_resolved++;
	e->state = DP_ARP_REACHABLE;
	e->tries = 0;
	e->deadline_us = ctx->now_us + DP_ARP_REACHABLE_US;
	for (i = 0; i < e->n_pending; i++)
		dp_eth_output(ctx, e->pending[i], &e->mac, RTE_ETHER_TYPE_IPV4);
	e->n_pending = 0;
}

/* Turns the request in m into our reply, in place. */
static void
dp_arp_reply(struct dp_ctx *ctx, struct rte_mbuf *m, struct rte_ether_hdr *eth,
	     struct rte_arp_hdr *arp)
{
	struct rte_ether_addr requester = arp->arp_data.arp_sha;
	uint32_t sip = arp->arp_data.arp_sip;

	eth->dst_addr = requester;
	eth->src_addr = ctx->mac;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = requester;
	arp->arp_data.arp_tip = sip;
	arp->arp_data.arp_sha = ctx->mac;
	arp->arp_data.arp_sip = rte_cpu_to_be_32(ctx->ip);
	m->ol_flags = 0;
	ctx->stats.arp_tx_reply++;
	dp_eth_queue(ctx, m);
}

static bool
dp_arp_header_ok(const struct rte_arp_hdr *arp)
{
	uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);

	return arp->arp_hardware == rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) &&
	       arp->arp_protocol == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
	       arp->arp_hlen == RTE_ETHER_ADDR_LEN && arp->arp_plen == 4 &&
	       (op == RTE_ARP_OP_REQUEST || op == RTE_ARP_OP_REPLY);
}

/* Every worker keeps its own cache (no sharing on the data path): an ARP
 * packet that passed the header checks is copied to the other workers. */
static void
dp_arp_share(struct dp_ctx *ctx, const struct rte_mbuf *m)
{
	unsigned int w;
	struct rte_mbuf *c;

	for (w = 0; w < ctx->steer->n_workers; w++) {
		if (w == ctx->worker)
			continue;
		c = rte_pktmbuf_copy(m, ctx->pool, 0, UINT32_MAX);
		if (c == NULL) {
			ctx->stats.tx_nombuf++;
			continue;
		}
		ctx->stats.arp_shared++;
		dp_steer_push(ctx, w, c, true);
	}
}

/* RFC 826 "Packet Reception": merge the sender into an existing entry;
 * add it only when the packet is for us. m's data starts at Ethernet. A
 * copy from another worker only updates this worker's cache. */
void
dp_arp_input(struct dp_ctx *ctx, struct rte_mbuf *m, bool copy)
{
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	struct rte_ether_addr sha;
	struct dp_arp_entry *e;
	uint32_t sip, tip;
	bool request;

	if (rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*arp)) {
		ctx->stats.arp_short++;
		goto drop;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	arp = (struct rte_arp_hdr *)(eth + 1);
	if (!dp_arp_header_ok(arp)) {
		ctx->stats.arp_bad_hdr++;
		goto drop;
	}
	request = arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	sha = arp->arp_data.arp_sha;
	sip = rte_be_to_cpu_32(arp->arp_data.arp_sip);
	tip = rte_be_to_cpu_32(arp->arp_data.arp_tip);
	if (!rte_is_valid_assigned_ether_addr(&sha) || sip >= 0xe0000000) {
		ctx->stats.arp_bad_sender++;
		goto drop;
	}
	if (unlikely(sip == ctx->ip)) {
		ctx->stats.arp_conflict++;
		goto drop;
	}
	if (sip == 0) {
		/* RFC 5227 probe: answer if it is for us, learn nothing. */
		if (request && tip == ctx->ip && !copy) {
			ctx->stats.arp_rx_request++;
			dp_arp_reply(ctx, m, eth, arp);
			return;
		}
		ctx->stats.arp_bad_sender++;
		goto drop;
	}
	if (!copy && ctx->steer->n_workers > 1)
		dp_arp_share(ctx, m);
	e = dp_arp_lookup(&ctx->arp, sip);
	if (e != NULL)
		dp_arp_confirm(ctx, e, &sha);
	if (tip != ctx->ip) {
		if (!copy)
			ctx->stats.arp_not_ours++;
		goto drop;
	}
	if (e == NULL) {
		e = dp_arp_insert(&ctx->arp, sip);
		if (e != NULL) {
			ctx->stats.arp_learned++;
			dp_arp_confirm(ctx, e, &sha);
		} else {
			ctx->stats.arp_table_full++;
		}
	}
	if (copy)
		goto drop;
	if (request) {
		ctx->stats.arp_rx_request++;
		dp_arp_reply(ctx, m, eth, arp);
		return;
	}
	ctx->stats.arp_rx_reply++;
drop:
	rte_pktmbuf_free(m);
}

void
dp_arp_output(struct dp_ctx *ctx, struct rte_mbuf *m, uint32_t nh)
{
	struct dp_arp_entry *e = dp_arp_lookup(&ctx->arp, nh);

	if (likely(e != NULL && e->state != DP_ARP_INCOMPLETE)) {
		dp_eth_output(ctx, m, &e->mac, RTE_ETHER_TYPE_IPV4);
		return;
	}
	if (e == NULL) {
		e = dp_arp_insert(&ctx->arp, nh);
		if (e == NULL) {
			ctx->stats.arp_table_full++;
			rte_pktmbuf_free(m);
			return;
		}
		e->state = DP_ARP_INCOMPLETE;
		e->deadline_us = ctx->now_us + DP_ARP_RETRY_US;
		dp_arp_send_request(ctx, nh, NULL);
	}
	if (e->n_pending == DP_ARP_PENDING_MAX) {
		ctx->stats.arp_pending_full++;
		rte_pktmbuf_free(m);
		return;
	}
	e->pending[e->n_pending++] = m;
}

/* One due entry: retry, start refreshing, or give up. Returns true when
 * the entry is to be deleted. */
static bool
dp_arp_age(struct dp_ctx *ctx, struct dp_arp_entry *e)
{
	uint16_t i;

	switch (e->state) {
	case DP_ARP_REACHABLE:
		/* Keep using the address while asking it to confirm. */
		e->state = DP_ARP_PROBE;
		e->tries = 0;
		e->deadline_us = ctx->now_us + DP_ARP_RETRY_US;
		dp_arp_send_request(ctx, e->ip, &e->mac);
		return false;
	case DP_ARP_INCOMPLETE:
	case DP_ARP_PROBE:
		if (e->tries < DP_ARP_RETRIES) {
			e->tries++;
			e->deadline_us = ctx->now_us + DP_ARP_RETRY_US;
			dp_arp_send_request(ctx, e->ip, NULL);
			return false;
		}
		if (e->state == DP_ARP_PROBE)
			ctx->stats.arp_expired++;
		for (i = 0; i < e->n_pending; i++)
			rte_pktmbuf_free(e->pending[i]);
		ctx->stats.arp_unresolved += e->n_pending;
		e->n_pending = 0;
		return true;
	default:
		return false;
	}
}

void
dp_arp_tick(struct dp_ctx *ctx)
{
	struct dp_arp_table *t = &ctx->arp;
	uint32_t doomed[DP_ARP_SLOTS];
	unsigned int i, n = 0;

	if (ctx->now_us < t->next_scan_us)
		return;
	t->next_scan_us = ctx->now_us + DP_ARP_SCAN_US;
	for (i = 0; i < DP_ARP_SLOTS; i++) {
		struct dp_arp_entry *e = &t->slot[i];

		if (e->state != DP_ARP_FREE && ctx->now_us >= e->deadline_us &&
		    dp_arp_age(ctx, e))
			doomed[n++] = e->ip;
	}
	/* Deleting moves entries, so it waits until the scan is done. */
	for (i = 0; i < n; i++)
		dp_arp_delete(t, dp_arp_lookup(t, doomed[i]));
}

void
dp_arp_fini(struct dp_ctx *ctx)
{
	unsigned int i;
	uint16_t j;

	for (i = 0; i < DP_ARP_SLOTS; i++) {
		struct dp_arp_entry *e = &ctx->arp.slot[i];

		for (j = 0; j < e->n_pending; j++)
			rte_pktmbuf_free(e->pending[j]);
		e->n_pending = 0;
	}
}
