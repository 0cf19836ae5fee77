/* dp_pcap.c — in-process packet capture (--pcap FILE): every frame port 0
 * receives and every frame handed to it for transmission is written to a
 * pcapng file with DPDK's rte_pcapng.
 *
 * Why in-process: dpdk-dumpcap is a secondary process; it cannot attach to
 * a --no-huge primary, and with hugepages Debian's build picks a mempool
 * driver that drops every packet. So the primary captures itself.
 *
 * Where: ethdev RX/TX callbacks on every queue of port 0. The RX callback runs
 * inside rte_eth_rx_burst() right after the driver filled the burst; the
 * TX callback runs inside rte_eth_tx_burst() right before the driver sees
 * the frames (so a frame the TX queue then refuses, counted in
 * dp_tx_refused, is still in the capture). Without --pcap no callback is
 * registered and the data path is the same as before (ethdev's own test of
 * its callback list is the one predictable branch).
 *
 * Each frame is copied (rte_pcapng_copy) into a small dedicated pool, the
 * burst is written at once, and the copies are freed: the data path's
 * mbufs are only read. A frame that finds the copy pool empty is counted
 * in dp_pcap_drop. Writes are synchronous (one writev per burst) and,
 * with several workers, serialised by a spinlock: this is a debugging
 * tool, not for line-rate runs. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pcapng.h>
#include <rte_spinlock.h>

#include "dp_internal.h"
#include "dp_log.h"

/* Copies in flight at once: at most one TX batch (DP_TX_BATCH) or one RX
 * burst, since every burst is written and freed before the callback
 * returns. */
#define DP_PCAP_POOL_SIZE 1023    /* 2^n - 1 */
#define DP_PCAP_OVERHEAD 64       /* VLAN tags, slack above MTU + Ethernet */

struct dp_pcap {
	struct dp_ctx *ctx;       /* worker 0: owns the port */
	rte_spinlock_t lock;      /* one burst at a time into the file */
	uint64_t drops;           /* under lock; shown as dp_pcap_drop */
	uint16_t n_rxq, n_txq;
	rte_pcapng_t *w;
	struct rte_mempool *pool;
	uint32_t snaplen;
	uint64_t written;         /* frames written to the file */
	uint64_t start_ns;
	const struct rte_eth_rxtx_callback *rx_cb[DP_MAX_WORKERS];
	const struct rte_eth_rxtx_callback *tx_cb[DP_MAX_WORKERS];
	bool write_failed;
};

static void
dp_pcap_burst(struct dp_pcap *pc, uint16_t port, uint16_t queue,
	      struct rte_mbuf **pkts, uint16_t n,
	      enum rte_pcapng_direction dir)
{
	struct rte_mbuf *copy[DP_TX_BATCH];
	uint64_t ts = rte_get_tsc_cycles();
	uint16_t i, nc = 0;
	ssize_t w;

	rte_spinlock_lock(&pc->lock);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *c;

		if (nc == RTE_DIM(copy)) {
			pc->drops += n - i;
			break;
		}
		c = rte_pcapng_copy(port, queue, pkts[i], pc->pool,
				    pc->snaplen, ts, dir);
		if (c == NULL) {
			pc->drops++;
			continue;
		}
		copy[nc++] = c;
	}
	if (nc == 0)
		goto out;
	w = rte_pcapng_write_packets(pc->w, copy, nc);
	if (w < 0) {
		pc->drops += nc;
		if (!pc->write_failed)
			DP_LOG(ERR, "pcap: write failed: %s",
			       rte_strerror(rte_errno));
		pc->write_failed = true;
	} else {
		pc->written += nc;
	}
	rte_pktmbuf_free_bulk(copy, nc);
out:
	pc->ctx->stats.pcap_drop = pc->drops;
	rte_spinlock_unlock(&pc->lock);
}

static uint16_t
dp_pcap_rx_cb(uint16_t port, uint16_t queue, struct rte_mbuf *pkts[],
	      uint16_t n, uint16_t max, void *arg)
{
	(void)max;
	if (n > 0)
		dp_pcap_burst(arg, port, queue, pkts, n,
			      RTE_PCAPNG_DIRECTION_IN);
	return n;
}

static uint16_t
dp_pcap_tx_cb(uint16_t port, uint16_t queue, struct rte_mbuf *pkts[],
	      uint16_t n, void *arg)
{
	if (n > 0)
		dp_pcap_burst(arg, port, queue, pkts, n,
			      RTE_PCAPNG_DIRECTION_OUT);
	return n;
}

static uint64_t
dp_pcap_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int
dp_pcap_open(struct dp_ctx **workers, unsigned int n, const char *path)
{
	struct dp_ctx *ctx = workers[0];
	struct dp_pcap *pc;
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned int i;
	uint16_t q;
	int fd, ret;

	pc = rte_zmalloc("dp_pcap", sizeof(*pc), RTE_CACHE_LINE_SIZE);
	if (pc == NULL)
		return -ENOMEM;
	pc->ctx = ctx;
	rte_spinlock_init(&pc->lock);
	pc->n_rxq = ctx->steer->n_rxq;
	pc->n_txq = ctx->steer->n_txq;
	pc->snaplen = (uint32_t)ctx->mtu + RTE_ETHER_HDR_LEN + DP_PCAP_OVERHEAD;
	snprintf(name, sizeof(name), "dp_pcap_%u", ctx->port_id);
	/* Cache 0: the pool has one user, and a cache would hide copies
	 * from the drop count's point of view. */
	pc->pool = rte_pktmbuf_pool_create(name, DP_PCAP_POOL_SIZE, 0, 0,
			(uint16_t)rte_pcapng_mbuf_size(pc->snaplen),
			(int)rte_socket_id());
	if (pc->pool == NULL) {
		ret = -rte_errno;
		DP_LOG(ERR, "pcap: copy pool: %s", rte_strerror(rte_errno));
		goto fail;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		DP_LOG(ERR, "pcap: %s: %s", path, strerror(errno));
		goto fail;
	}
	/* 22.11 writes one interface block per ethdev port here (there is
	 * no rte_pcapng_add_interface before 23.07): port 0 must exist. */
	pc->w = rte_pcapng_fdopen(fd, NULL, NULL, "dptcp", NULL);
	if (pc->w == NULL) {
		ret = -rte_errno;
		DP_LOG(ERR, "pcap: %s: rte_pcapng_fdopen: %s", path,
		       rte_strerror(rte_errno));
		close(fd);
		goto fail;
	}
	pc->start_ns = dp_pcap_now_ns();
	ret = 0;
	for (q = 0; q < pc->n_rxq && ret == 0; q++) {
		pc->rx_cb[q] = rte_eth_add_rx_callback(ctx->port_id, q,
						       dp_pcap_rx_cb, pc);
		if (pc->rx_cb[q] == NULL)
			ret = -rte_errno;
	}
	for (q = 0; q < pc->n_txq && ret == 0; q++) {
		pc->tx_cb[q] = rte_eth_add_tx_callback(ctx->port_id, q,
						       dp_pcap_tx_cb, pc);
		if (pc->tx_cb[q] == NULL)
			ret = -rte_errno;
	}
	if (ret != 0 || pc->rx_cb[0] == NULL) {
		DP_LOG(ERR, "pcap: ethdev callbacks: %s (needs RTE_ETHDEV_RXTX_CALLBACKS)",
		       rte_strerror(rte_errno));
		ctx->pcap = pc;
		dp_pcap_close(ctx);
		return ret != 0 ? ret : -ENOTSUP;
	}
	for (i = 0; i < n; i++)
		workers[i]->pcap = pc;
	DP_LOG(INFO, "pcap: capturing port %u RX and TX to %s (snaplen %u)",
	       ctx->port_id, path, pc->snaplen);
	return 0;
fail:
	rte_mempool_free(pc->pool);
	rte_free(pc);
	return ret != 0 ? ret : -EIO;
}

void
dp_pcap_close(struct dp_ctx *ctx)
{
	struct dp_pcap *pc = ctx->pcap;
	uint16_t q;

	if (pc == NULL)
		return;
	/* The poll loops have stopped: no burst is in flight, the callbacks
	 * can be freed. */
	for (q = 0; q < pc->n_rxq; q++)
		if (pc->rx_cb[q] != NULL &&
		    rte_eth_remove_rx_callback(ctx->port_id, q,
					       pc->rx_cb[q]) == 0)
			rte_free((void *)(uintptr_t)pc->rx_cb[q]);
	for (q = 0; q < pc->n_txq; q++)
		if (pc->tx_cb[q] != NULL &&
		    rte_eth_remove_tx_callback(ctx->port_id, q,
					       pc->tx_cb[q]) == 0)
			rte_free((void *)(uintptr_t)pc->tx_cb[q]);
	ctx->stats.pcap_drop = pc->drops;
	rte_pcapng_write_stats(pc->w, ctx->port_id, "dptcp --pcap",
			       pc->start_ns, dp_pcap_now_ns(),
			       pc->written, pc->drops);
	rte_pcapng_close(pc->w);  /* closes the file descriptor */
	DP_LOG(INFO, "pcap: %" PRIu64 " frames written, %" PRIu64 " dropped",
	       pc->written, pc->drops);
	rte_mempool_free(pc->pool);
	rte_free(pc);
	ctx->pcap = NULL;
}
