/* dp_icmp.c — ICMP (RFC 792): answers echo requests addressed to us; every
 * other message is counted and dropped. */
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp_internal.h"

#define DP_ICMP_TTL 64

/* m's data starts at a validated IPv4 header (l3_len set, trimmed). */
void
dp_icmp_input(struct dp_ctx *ctx, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *icmp;
	uint32_t len, addr;

	if (unlikely(!rte_pktmbuf_is_contiguous(m))) {
		ctx->stats.ip_multiseg++;
		goto drop;
	}
	len = rte_pktmbuf_pkt_len(m) - m->l3_len;
	if (unlikely(len < sizeof(*icmp))) {
		ctx->stats.icmp_short++;
		goto drop;
	}
	ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	icmp = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, m->l3_len);
	if (unlikely(rte_raw_cksum(icmp, len) != 0xffff)) {
		ctx->stats.icmp_bad_csum++;
		goto drop;
	}
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code) {
		ctx->stats.icmp_other++;
		goto drop;
	}
	/* The reply is the request with addresses swapped (RFC 792). */
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, len);
	addr = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = addr;
	ip->time_to_live = DP_ICMP_TTL;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, m->l3_len);
	m->ol_flags = 0;
	ctx->stats.icmp_echo_reply++;
	dp_ipv4_output(ctx, m);
	return;
drop:
	rte_pktmbuf_free(m);
}
