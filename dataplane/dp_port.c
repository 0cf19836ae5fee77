/* dp_port.c — ethdev setup for the dataplane: the first probed port, one
 * RX and one TX queue per worker as far as the port has them, RSS with the
 * steering key and RETA when the port offers it, the mbuf pool, MTU,
 * checksum offloads when the port offers them, and teardown. */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dp_internal.h"
#include "dp_log.h"

#define DP_MBUF_CACHE 256

/* Room for one full frame of the configured MTU in a single mbuf. */
static uint16_t
dp_mbuf_data_room(uint16_t mtu)
{
	uint32_t frame = (uint32_t)mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN +
			 2 * RTE_VLAN_HLEN;
	uint32_t room = RTE_MAX((uint32_t)RTE_MBUF_DEFAULT_DATAROOM,
				RTE_ALIGN_CEIL(frame, 1024));

	return (uint16_t)(room + RTE_PKTMBUF_HEADROOM);
}

static int
dp_port_socket(uint16_t port_id)
{
	int s = rte_eth_dev_socket_id(port_id);

	return s >= 0 ? s : (int)rte_socket_id();
}

/* Offloads: RX checksums when offered; TX IPv4+TCP checksums only as a
 * pair, since the engine either writes both sums or neither. */
static void
dp_port_offloads(struct dp_ctx *ctx, const struct rte_eth_dev_info *info,
		 struct rte_eth_conf *conf)
{
	const uint64_t tx_cksum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
				  RTE_ETH_TX_OFFLOAD_TCP_CKSUM;

	conf->rxmode.offloads |= info->rx_offload_capa &
		(RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM);
	ctx->rx_ip_cksum_offload =
		(conf->rxmode.offloads & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0;
	ctx->tx_cksum_offload = (info->tx_offload_capa & tx_cksum) == tx_cksum;
	if (ctx->tx_cksum_offload)
		conf->txmode.offloads |= tx_cksum;
	conf->txmode.offloads |= info->tx_offload_capa &
				 RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
}

/* rte_eth_dev_set_mtu() is allowed to fail (some virtual ports cannot):
 * then the engine is told the MTU the port keeps. */
static void
dp_port_mtu(struct dp_ctx *ctx, uint16_t want)
{
	uint16_t have = 0;
	int ret;

	ret = rte_eth_dev_set_mtu(ctx->port_id, want);
	if (ret == 0) {
		ctx->mtu = want;
		return;
	}
	if (rte_eth_dev_get_mtu(ctx->port_id, &have) != 0 || have == 0)
		have = RTE_ETHER_MTU;
	ctx->mtu = RTE_MIN(want, have);
	DP_LOG(WARNING, "port %u refused MTU %u (%s); using %u",
	       ctx->port_id, want, strerror(-ret), ctx->mtu);
}

static int
dp_port_queues(struct dp_ctx *ctx, const struct dp_port_config *pc,
	       const struct rte_eth_dev_info *info,
	       const struct rte_eth_conf *conf, const struct dp_steer *st)
{
	struct rte_eth_rxconf rxq = info->default_rxconf;
	struct rte_eth_txconf txq = info->default_txconf;
	uint16_t nb_rx = pc->rx_desc, nb_tx = pc->tx_desc, q;
	int socket = dp_port_socket(ctx->port_id);
	int ret;

	ret = rte_eth_dev_adjust_nb_rx_tx_desc(ctx->port_id, &nb_rx, &nb_tx);
	if (ret < 0)
		return ret;
	rxq.offloads = conf->rxmode.offloads;
	txq.offloads = conf->txmode.offloads;
	for (q = 0; q < st->n_rxq; q++) {
		ret = rte_eth_rx_queue_setup(ctx->port_id, q, nb_rx, socket,
					     &rxq, ctx->pool);
		if (ret < 0) {
			DP_LOG(ERR, "port %u: RX queue %u setup (%u descriptors): %s",
			       ctx->port_id, q, nb_rx, strerror(-ret));
			return ret;
		}
	}
	for (q = 0; q < st->n_txq; q++) {
		ret = rte_eth_tx_queue_setup(ctx->port_id, q, nb_tx, socket,
					     &txq);
		if (ret < 0) {
			DP_LOG(ERR, "port %u: TX queue %u setup (%u descriptors): %s",
			       ctx->port_id, q, nb_tx, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Queues: one per worker as far as the port has them. RSS: only when
 * every worker gets its own RX queue and the port hashes IPv4/TCP with a
 * key we may set; then the NIC's RETA is the steering RETA. */
static void
dp_port_rss(struct dp_ctx *ctx, const struct rte_eth_dev_info *info,
	    struct rte_eth_conf *conf, struct dp_steer *st, bool want_rss)
{
	unsigned int n = st->n_workers;

	st->n_rxq = (uint16_t)RTE_MIN(n, (unsigned int)info->max_rx_queues);
	st->n_txq = (uint16_t)RTE_MIN(n, (unsigned int)info->max_tx_queues);
	if (st->n_rxq == 0)
		st->n_rxq = 1;
	if (st->n_txq == 0)
		st->n_txq = 1;
	st->hw_rss = want_rss && n > 1 && st->n_rxq == n &&
		(info->flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP) &&
		info->hash_key_size > 0 &&
		info->hash_key_size <= DP_RSS_KEY_MAX &&
		info->reta_size > 0 && info->reta_size <= DP_RETA_MAX;
	if (!st->hw_rss)
		return;
	st->key_len = info->hash_key_size;
	dp_steer_default_reta(st, info->reta_size);
	conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	conf->rx_adv_conf.rss_conf.rss_key = st->key;
	conf->rx_adv_conf.rss_conf.rss_key_len = st->key_len;
	conf->rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_NONFRAG_IPV4_TCP;
	conf->rxmode.offloads |= info->rx_offload_capa &
				 RTE_ETH_RX_OFFLOAD_RSS_HASH;
	(void)ctx;
}

/* After start: the NIC's RETA = the steering RETA (queue w = worker w). */
static int
dp_port_reta(struct dp_ctx *ctx, struct dp_steer *st)
{
	struct rte_eth_rss_reta_entry64 conf[DP_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	unsigned int i;
	int ret;

	memset(conf, 0, sizeof(conf));
	for (i = 0; i < st->reta_size; i++) {
		conf[i / RTE_ETH_RETA_GROUP_SIZE].mask |=
			1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
		conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i %
			RTE_ETH_RETA_GROUP_SIZE] = st->reta[i];
	}
	ret = rte_eth_dev_rss_reta_update(ctx->port_id, conf, st->reta_size);
	if (ret != 0) {
		/* The NIC keeps its own RETA: steer in software. */
		DP_LOG(WARNING, "port %u: RETA update: %s; software steering",
		       ctx->port_id, strerror(-ret));
		st->hw_rss = false;
		dp_steer_default_reta(st, 128);
	}
	return 0;
}

static int
dp_port_pool(struct dp_ctx *ctx, const struct dp_port_config *pc)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	snprintf(name, sizeof(name), "dp_mbuf_p%u", ctx->port_id);
	ctx->pool = rte_pktmbuf_pool_create(name, pc->mbufs, DP_MBUF_CACHE, 0,
					    dp_mbuf_data_room(pc->mtu),
					    dp_port_socket(ctx->port_id));
	if (ctx->pool == NULL) {
		DP_LOG(ERR, "mbuf pool of %u mbufs: %s (more memory: -m)",
		       pc->mbufs, rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

static void
dp_port_log(const struct dp_ctx *ctx, const struct rte_eth_dev_info *info,
	    const struct rte_eth_conf *conf)
{
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	struct rte_eth_link link;

	rte_ether_format_addr(mac, sizeof(mac), &ctx->mac);
	memset(&link, 0, sizeof(link));
	rte_eth_link_get_nowait(ctx->port_id, &link);
	DP_LOG(INFO, "port %u (%s): MAC %s, MTU %u, link %s, rx cksum offload %s, tx cksum offload %s",
	       ctx->port_id, info->driver_name, mac, ctx->mtu,
	       link.link_status ? "up" : "down",
	       ctx->rx_ip_cksum_offload ? "on" : "off",
	       ctx->tx_cksum_offload ? "on" : "off");
}

int
dp_port_init(struct dp_ctx *ctx, const struct dp_port_config *pc,
	     struct dp_steer *st, bool want_rss)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t pid;
	int ret;

	ctx->port_id = RTE_MAX_ETHPORTS;
	RTE_ETH_FOREACH_DEV(pid) {
		ctx->port_id = pid;
		break;
	}
	if (ctx->port_id == RTE_MAX_ETHPORTS) {
		DP_LOG(ERR, "no ethdev port: give one, e.g. --vdev=net_af_packet0,iface=IFACE");
		return -ENODEV;
	}
	ret = rte_eth_dev_info_get(ctx->port_id, &info);
	if (ret < 0)
		return ret;
	memset(&conf, 0, sizeof(conf));
	dp_port_offloads(ctx, &info, &conf);
	dp_port_rss(ctx, &info, &conf, st, want_rss);
	ret = rte_eth_dev_configure(ctx->port_id, st->n_rxq, st->n_txq, &conf);
	if (ret < 0) {
		DP_LOG(ERR, "port %u: configure: %s", ctx->port_id,
		       strerror(-ret));
		return ret;
	}
	ret = dp_port_pool(ctx, pc);
	if (ret == 0)
		ret = dp_port_queues(ctx, pc, &info, &conf, st);
	if (ret < 0)
		return ret;
	dp_port_mtu(ctx, pc->mtu);
	ret = rte_eth_promiscuous_disable(ctx->port_id);
	if (ret != 0 && ret != -ENOTSUP)
		DP_LOG(WARNING, "port %u: promiscuous off: %s", ctx->port_id,
		       strerror(-ret));
	ret = rte_eth_dev_start(ctx->port_id);
	if (ret < 0) {
		DP_LOG(ERR, "port %u: start: %s", ctx->port_id, strerror(-ret));
		return ret;
	}
	ret = rte_eth_dev_set_link_up(ctx->port_id);
	if (ret != 0 && ret != -ENOTSUP)
		DP_LOG(WARNING, "port %u: link up: %s", ctx->port_id,
		       strerror(-ret));
	if (st->hw_rss)
		dp_port_reta(ctx, st);
	rte_eth_macaddr_get(ctx->port_id, &ctx->mac);
	dp_port_log(ctx, &info, &conf);
	DP_LOG(INFO, "port %u: %u workers, %u RX / %u TX queues, %s",
	       ctx->port_id, st->n_workers, st->n_rxq, st->n_txq,
	       st->n_workers == 1 ? "no steering needed" :
	       st->hw_rss ? "RSS with the symmetric key steers flows" :
	       "software steering (the port has no usable RSS)");
	return 0;
}

void
dp_port_fini(struct dp_ctx *ctx)
{
	int ret;

	if (ctx->port_id == RTE_MAX_ETHPORTS)
		return;
	ret = rte_eth_dev_stop(ctx->port_id);
	if (ret != 0)
		DP_LOG(WARNING, "port %u: stop: %s", ctx->port_id,
		       strerror(-ret));
	rte_eth_dev_close(ctx->port_id);
	ctx->port_id = RTE_MAX_ETHPORTS;
	rte_mempool_free(ctx->pool);
	ctx->pool = NULL;
}
