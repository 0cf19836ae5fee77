/* dp_ipv4.c — IPv4 (RFC 791, RFC 1122 §3.2.1): validates received
 * headers before anything reads beyond them, dispatches TCP and ICMP, and
 * picks the next hop (on-link or gateway) for transmission. */
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp_internal.h"

static bool
dp_ipv4_cksum_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
		 uint32_t hlen)
{
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	if (f == RTE_MBUF_F_RX_IP_CKSUM_GOOD || f == RTE_MBUF_F_RX_IP_CKSUM_NONE)
		return true;
	if (f == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return false;
	return rte_raw_cksum(ip, hlen) == 0xffff;
}

/* RFC 1122 §3.2.1.3: no 0/8, loopback, multicast or broadcast source. */
static bool
dp_ipv4_src_ok(const struct dp_ctx *ctx, uint32_t src)
{
	uint8_t a = (uint8_t)(src >> 24);

	return a != 0 && a != 127 && src < 0xe0000000 && src != ctx->ip &&
	       (src | ctx->netmask) != UINT32_MAX;
}

/* Checks every length before the field behind it is read. */
bool
dp_ipv4_input(struct dp_ctx *ctx, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip;
	uint32_t hlen, tot, pkt_len = rte_pktmbuf_pkt_len(m);

	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*ip))) {
		ctx->stats.ip_short++;
		goto drop;
	}
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	if (unlikely((ip->version_ihl >> 4) != 4)) {
		ctx->stats.ip_bad_version++;
		goto drop;
	}
	hlen = (uint32_t)(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) *
	       RTE_IPV4_IHL_MULTIPLIER;
	if (unlikely(hlen < sizeof(*ip) || hlen > rte_pktmbuf_data_len(m))) {
		ctx->stats.ip_bad_ihl++;
		goto drop;
	}
	tot = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(tot < hlen || tot > pkt_len)) {
		ctx->stats.ip_bad_len++;
		goto drop;
	}
	if (unlikely(!dp_ipv4_cksum_ok(m, ip, hlen))) {
		ctx->stats.ip_bad_csum++;
		goto drop;
	}
	if (unlikely(ip->fragment_offset &
		     rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG |
				      RTE_IPV4_HDR_OFFSET_MASK))) {
		ctx->stats.ip_frag++;
		goto drop;
	}
	if (unlikely(rte_be_to_cpu_32(ip->dst_addr) != ctx->ip)) {
		ctx->stats.ip_not_ours++;
		goto drop;
	}
	if (unlikely(!dp_ipv4_src_ok(ctx, rte_be_to_cpu_32(ip->src_addr)))) {
		ctx->stats.ip_bad_src++;
		goto drop;
	}
	/* Ethernet pads short frames: the IP total length is the truth. */
	if (pkt_len > tot && rte_pktmbuf_trim(m, (uint16_t)(pkt_len - tot))) {
		ctx->stats.ip_multiseg++;
		goto drop;
	}
	m->l3_len = hlen;
	if (likely(ip->next_proto_id == IPPROTO_TCP))
		return true;
	if (ip->next_proto_id == IPPROTO_ICMP) {
		dp_icmp_input(ctx, m);
		return false;
	}
	ctx->stats.ip_other_proto++;
drop:
	rte_pktmbuf_free(m);
	return false;
}

/* m's data starts at a complete IPv4 header. */
void
dp_ipv4_output(struct dp_ctx *ctx, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip;
	uint32_t dst, nh;

	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*ip))) {
		ctx->stats.tx_no_route++;
		rte_pktmbuf_free(m);
		return;
	}
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	dst = rte_be_to_cpu_32(ip->dst_addr);
	if (likely((dst & ctx->netmask) == (ctx->ip & ctx->netmask)))
		nh = dst;
	else
		nh = ctx->gateway;
	if (unlikely(nh == 0 || nh == ctx->ip ||
		     (nh | ctx->netmask) == UINT32_MAX)) {
		ctx->stats.tx_no_route++;
		rte_pktmbuf_free(m);
		return;
	}
	dp_arp_output(ctx, m, nh);
}
