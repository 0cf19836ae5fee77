/* dp_telemetry.c — /dptcp/stats, /dptcp/workers, /dptcp/conns and
 * /dptcp/conn. Telemetry handlers run on DPDK's telemetry thread, so they
 * never touch an engine: each worker's poll loop publishes double-buffered
 * snapshots that the handlers copy and add up. */
#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_mempool.h>
#include <rte_telemetry.h>

#include "dp_internal.h"
#include "dp_log.h"
#include "dpt.h"

#define DP_SNAP_PERIOD_US 10000      /* counters: every 10 ms */
#define DP_CONN_SNAP_MAX 2048        /* connections copied per request */
#define DP_CONN_REPLY_MAX 200        /* per reply: replies are <= 16 KiB */
#define DP_CONN_WAIT_MS 200          /* for the poll loop to copy the list */

struct dp_snap {
	struct tcp_stats tcp;
	struct dp_stats dp;
	uint32_t states[DPT_STATE_COUNT];
	uint32_t mbuf_in_use, mbuf_avail;  /* gauges of the port's pool */
	uint64_t time_us;
};

struct dp_conn_snap {
	uint32_t n;                  /* records kept */
	uint32_t seen;               /* connections visited (may exceed n) */
	struct dpt_conn_info rec[DP_CONN_SNAP_MAX];
};

/* Every worker's list, in worker order. */
struct dp_conn_all {
	uint32_t n, seen;
	uint32_t first[DP_MAX_WORKERS + 1];   /* worker w: [first[w], first[w+1]) */
	struct dpt_conn_info rec[];
};

/* One per worker: written by its poll loop only, read by the telemetry
 * thread. */
struct dp_tel_worker {
	struct dp_snap snap[2];
	atomic_uint_fast64_t snap_gen;
	struct dp_conn_snap conns[2];
	atomic_uint_fast64_t conns_gen;
	atomic_int conns_wanted;
	unsigned int lcore_id;
	uint16_t rxq, txq;
};

static struct dp_tel_worker *dp_tel;
static unsigned int dp_tel_n;
static const struct dp_steer *dp_tel_steer;

/* Seqlock over two buffers: the writer fills the one readers are not
 * told about, then publishes it. A reader retries if the generation moved
 * while it copied (the writer may have reused its buffer). */
static void *
dp_pub_begin(atomic_uint_fast64_t *gen, void *bufs, size_t size)
{
	uint64_t g = atomic_load_explicit(gen, memory_order_relaxed);

	atomic_thread_fence(memory_order_release);
	return (char *)bufs + ((g + 1) & 1) * size;
}

static void
dp_pub_end(atomic_uint_fast64_t *gen)
{
	atomic_fetch_add_explicit(gen, 1, memory_order_release);
}

static bool
dp_pub_read(atomic_uint_fast64_t *gen, const void *bufs, size_t size,
	    void *out)
{
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		uint64_t g = atomic_load_explicit(gen, memory_order_acquire);

		if (g == 0)
			return false;
		memcpy(out, (const char *)bufs + (g & 1) * size, size);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(gen, memory_order_relaxed) == g)
			return true;
	}
	return false;
}

static int
dp_conn_visit(const struct dpt_conn_info *info, void *arg)
{
	struct dp_conn_snap *s = arg;

	s->seen++;
	if (s->n < DP_CONN_SNAP_MAX)
		s->rec[s->n++] = *info;
	return 0;
}

void
dp_telemetry_update(struct dp_ctx *ctx)
{
	struct dp_tel_worker *t;

	if (dp_tel == NULL)
		return;
	t = &dp_tel[ctx->worker];
	if (ctx->now_us >= ctx->next_snap_us) {
		struct dp_snap *s = dp_pub_begin(&t->snap_gen, t->snap,
						 sizeof(t->snap[0]));

		ctx->next_snap_us = ctx->now_us + DP_SNAP_PERIOD_US;
		s->tcp = *tcp_engine_stats(ctx->eng);
		s->dp = ctx->stats;
		tcp_engine_state_counts(ctx->eng, s->states);
		s->mbuf_in_use = rte_mempool_in_use_count(ctx->pool);
		s->mbuf_avail = rte_mempool_avail_count(ctx->pool);
		s->time_us = ctx->now_us;
		dp_pub_end(&t->snap_gen);
	}
	if (atomic_exchange_explicit(&t->conns_wanted, 0,
				     memory_order_acq_rel)) {
		struct dp_conn_snap *c = dp_pub_begin(&t->conns_gen, t->conns,
						      sizeof(t->conns[0]));

		c->n = 0;
		c->seen = 0;
		tcp_engine_foreach_conn(ctx->eng, dp_conn_visit, c);
		dp_pub_end(&t->conns_gen);
	}
}

/* Reads worker w's counters; false before its first snapshot. */
static bool
dp_tel_snap(unsigned int w, struct dp_snap *s)
{
	return dp_pub_read(&dp_tel[w].snap_gen, dp_tel[w].snap,
			   sizeof(dp_tel[w].snap[0]), s);
}

/* All workers added up (the mbuf gauges are the shared pool's). */
static bool
dp_tel_snap_sum(struct dp_snap *sum)
{
	struct dp_snap s;
	unsigned int w, i;
	bool any = false;

	memset(sum, 0, sizeof(*sum));
	for (w = 0; w < dp_tel_n; w++) {
		if (!dp_tel_snap(w, &s))
			continue;
#define DP_SUM_TCP(n) sum->tcp.n += s.tcp.n;
		TCP_STATS_LIST(DP_SUM_TCP)
#undef DP_SUM_TCP
#define DP_SUM_DP(n) sum->dp.n += s.dp.n;
		DP_STATS_LIST(DP_SUM_DP)
#undef DP_SUM_DP
		for (i = 0; i < DPT_STATE_COUNT; i++)
			sum->states[i] += s.states[i];
		if (!any || s.time_us > sum->time_us) {
			sum->mbuf_in_use = s.mbuf_in_use;
			sum->mbuf_avail = s.mbuf_avail;
			sum->time_us = s.time_us;
		}
		any = true;
	}
	return any;
}

/* Telemetry dict keys may hold only [A-Za-z0-9_/]. */
static void
dp_tel_key(char *out, size_t len, const char *prefix, const char *name)
{
	size_t i;

	snprintf(out, len, "%s%s", prefix, name);
	for (i = 0; out[i] != '\0'; i++)
		if (!isalnum((unsigned char)out[i]) && out[i] != '_')
			out[i] = '_';
}

static int
dp_tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_snap s;

	if (!dp_tel_snap_sum(&s))
		return -EAGAIN;
	rte_tel_data_start_dict(d);
#define DP_TEL_TCP(n) rte_tel_data_add_dict_u64(d, #n, s.tcp.n);
	TCP_STATS_LIST(DP_TEL_TCP)
#undef DP_TEL_TCP
#define DP_TEL_DP(n) rte_tel_data_add_dict_u64(d, "dp_" #n, s.dp.n);
	DP_STATS_LIST(DP_TEL_DP)
#undef DP_TEL_DP
	rte_tel_data_add_dict_u64(d, "dp_mbuf_in_use", s.mbuf_in_use);
	rte_tel_data_add_dict_u64(d, "dp_mbuf_avail", s.mbuf_avail);
	return 0;
}

/* One value per worker, as an array (22.11 telemetry nests arrays only). */
static void
dp_tel_per_worker(struct rte_tel_data *d, const char *name,
		  const struct dp_snap *snaps, const bool *ok,
		  uint64_t (*get)(const struct dp_snap *s, unsigned int w))
{
	struct rte_tel_data *a = rte_tel_data_alloc();
	unsigned int w;

	if (a == NULL)
		return;
	rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
	for (w = 0; w < dp_tel_n; w++)
		rte_tel_data_add_array_u64(a, ok[w] ? get(&snaps[w], w) : 0);
	rte_tel_data_add_dict_container(d, name, a, 0);
}

static uint64_t
dp_tel_w_lcore(const struct dp_snap *s, unsigned int w)
{
	return dp_tel[w].lcore_id;
}

/* -1 (no queue of its own) shows as 65535. */
static uint64_t
dp_tel_w_rxq(const struct dp_snap *s, unsigned int w)
{
	return dp_tel[w].rxq;
}

static uint64_t
dp_tel_w_txq(const struct dp_snap *s, unsigned int w)
{
	return dp_tel[w].txq;
}

static uint64_t
dp_tel_w_conns(const struct dp_snap *s, unsigned int w)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < DPT_STATE_COUNT; i++)
		if (i != DPT_LISTEN)
			n += s->states[i];
	return n;
}

#define DP_TEL_W_TCP(n) \
	static uint64_t dp_tel_w_##n(const struct dp_snap *s, unsigned int w) \
	{ return s->tcp.n; }
#define DP_TEL_W_DP(n) \
	static uint64_t dp_tel_w_dp_##n(const struct dp_snap *s, unsigned int w) \
	{ return s->dp.n; }
DP_TEL_W_TCP(conn_opened_passive) DP_TEL_W_TCP(conn_opened_active)
DP_TEL_W_TCP(rx_segs) DP_TEL_W_TCP(tx_segs) DP_TEL_W_TCP(rx_no_conn)
DP_TEL_W_TCP(tx_rst) DP_TEL_W_TCP(tx_rst_listen_ack)
DP_TEL_W_DP(rx_pkts) DP_TEL_W_DP(tx_pkts) DP_TEL_W_DP(tcp_to_engine)
DP_TEL_W_DP(steer_out) DP_TEL_W_DP(steer_in) DP_TEL_W_DP(steer_full)
DP_TEL_W_DP(tx_via_ring) DP_TEL_W_DP(tx_ring_full)
#undef DP_TEL_W_TCP
#undef DP_TEL_W_DP

/* /dptcp/workers: the steering mode; then, per worker (arrays indexed by
 * worker), its lcore, queues, connections and the counters that show
 * which worker handled which segments. */
static int
dp_tel_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_snap *snaps;
	bool ok[DP_MAX_WORKERS];
	unsigned int w;

	if (dp_tel == NULL)
		return -EAGAIN;
	snaps = calloc(dp_tel_n, sizeof(*snaps));
	if (snaps == NULL)
		return -ENOMEM;
	for (w = 0; w < dp_tel_n; w++)
		ok[w] = dp_tel_snap(w, &snaps[w]);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "workers", dp_tel_n);
	rte_tel_data_add_dict_string(d, "steering",
		dp_tel_n == 1 ? "none" :
		dp_tel_steer->hw_rss ? "rss" : "software");
	rte_tel_data_add_dict_u64(d, "rx_queues", dp_tel_steer->n_rxq);
	rte_tel_data_add_dict_u64(d, "tx_queues", dp_tel_steer->n_txq);
	rte_tel_data_add_dict_u64(d, "reta_size", dp_tel_steer->reta_size);
#define DP_W(name, fn) dp_tel_per_worker(d, name, snaps, ok, fn);
	DP_W("lcore", dp_tel_w_lcore)
	DP_W("rx_queue", dp_tel_w_rxq)
	DP_W("tx_queue", dp_tel_w_txq)
	DP_W("conns", dp_tel_w_conns)
	DP_W("conn_opened_passive", dp_tel_w_conn_opened_passive)
	DP_W("conn_opened_active", dp_tel_w_conn_opened_active)
	DP_W("rx_segs", dp_tel_w_rx_segs)
	DP_W("tx_segs", dp_tel_w_tx_segs)
	DP_W("rx_no_conn", dp_tel_w_rx_no_conn)
	DP_W("tx_rst", dp_tel_w_tx_rst)
	DP_W("tx_rst_listen_ack", dp_tel_w_tx_rst_listen_ack)
	DP_W("dp_rx_pkts", dp_tel_w_dp_rx_pkts)
	DP_W("dp_tx_pkts", dp_tel_w_dp_tx_pkts)
	DP_W("dp_tcp_to_engine", dp_tel_w_dp_tcp_to_engine)
	DP_W("dp_steer_out", dp_tel_w_dp_steer_out)
	DP_W("dp_steer_in", dp_tel_w_dp_steer_in)
	DP_W("dp_steer_full", dp_tel_w_dp_steer_full)
	DP_W("dp_tx_via_ring", dp_tel_w_dp_tx_via_ring)
	DP_W("dp_tx_ring_full", dp_tel_w_dp_tx_ring_full)
#undef DP_W
	free(snaps);
	return 0;
}

static void
dp_tel_states(struct rte_tel_data *d, const uint32_t *states)
{
	char key[64];
	uint64_t total = 0;
	int i;

	for (i = 0; i < DPT_STATE_COUNT; i++) {
		dp_tel_key(key, sizeof(key), "",
			   dpt_state_name((enum dpt_state)i));
		rte_tel_data_add_dict_u64(d, key, states[i]);
		total += states[i];
	}
	rte_tel_data_add_dict_u64(d, "total", total);
}

static unsigned int
dp_conn_worker(const struct dp_conn_all *c, uint32_t i)
{
	unsigned int w = 0;

	while (w + 1 < dp_tel_n && i >= c->first[w + 1])
		w++;
	return w;
}

static struct rte_tel_data *
dp_tel_conn_list(const struct dp_conn_all *c, uint32_t offset)
{
	struct rte_tel_data *list = rte_tel_data_alloc();
	char line[RTE_TEL_MAX_STRING_LEN], l[16], r[16];
	uint32_t i;

	if (list == NULL)
		return NULL;
	rte_tel_data_start_array(list, RTE_TEL_STRING_VAL);
	for (i = offset; i < c->n && i < offset + DP_CONN_REPLY_MAX; i++) {
		const struct dpt_conn_info *x = &c->rec[i];

		snprintf(line, sizeof(line), "%s:%u %s:%u %s w%u",
			 dp_ip_str(x->local_ip, l, sizeof(l)), x->local_port,
			 dp_ip_str(x->remote_ip, r, sizeof(r)), x->remote_port,
			 dpt_state_name(x->state), dp_conn_worker(c, i));
		rte_tel_data_add_array_string(list, line);
	}
	return list;
}

/* Asks every poll loop for a fresh list; waits briefly, else serves the
 * last one (a loop may not be running). Returns NULL when no worker ever
 * published one; the caller frees the result. */
static struct dp_conn_all *
dp_tel_fetch_conns(void)
{
	uint64_t g0[DP_MAX_WORKERS];
	struct dp_conn_snap *one;
	struct dp_conn_all *c;
	unsigned int w, fresh;
	bool any = false;
	int ms;

	for (w = 0; w < dp_tel_n; w++) {
		g0[w] = atomic_load_explicit(&dp_tel[w].conns_gen,
					     memory_order_acquire);
		atomic_store_explicit(&dp_tel[w].conns_wanted, 1,
				      memory_order_release);
	}
	for (ms = 0; ms < DP_CONN_WAIT_MS; ms++) {
		for (w = 0, fresh = 0; w < dp_tel_n; w++)
			fresh += atomic_load_explicit(&dp_tel[w].conns_gen,
					memory_order_acquire) != g0[w];
		if (fresh == dp_tel_n)
			break;
		usleep(1000);
	}
	one = malloc(sizeof(*one));
	c = malloc(sizeof(*c) + sizeof(c->rec[0]) * DP_CONN_SNAP_MAX * dp_tel_n);
	if (one == NULL || c == NULL) {
		free(one);
		free(c);
		return NULL;
	}
	c->n = 0;
	c->seen = 0;
	for (w = 0; w < dp_tel_n; w++) {
		c->first[w] = c->n;
		if (!dp_pub_read(&dp_tel[w].conns_gen, dp_tel[w].conns,
				 sizeof(dp_tel[w].conns[0]), one))
			continue;
		any = true;
		memcpy(&c->rec[c->n], one->rec, sizeof(one->rec[0]) * one->n);
		c->n += one->n;
		c->seen += one->seen;
	}
	c->first[dp_tel_n] = c->n;
	free(one);
	if (!any) {
		free(c);
		return NULL;
	}
	return c;
}

/* /dptcp/conns[,OFFSET]: counts per state, then up to DP_CONN_REPLY_MAX
 * connections from OFFSET as "lip:lport rip:rport STATE". */
static int
dp_tel_conns(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_conn_all *c;
	struct rte_tel_data *list;
	struct dp_snap s;
	uint32_t offset = 0;
	char *end;

	if (params != NULL && *params != '\0') {
		offset = (uint32_t)strtoul(params, &end, 10);
		if (*end != '\0')
			return -EINVAL;
	}
	if (!dp_tel_snap_sum(&s))
		return -EAGAIN;
	/* Each telemetry client has its own thread: no static buffer. */
	rte_tel_data_start_dict(d);
	dp_tel_states(d, s.states);
	c = dp_tel_fetch_conns();
	if (c != NULL) {
		rte_tel_data_add_dict_u64(d, "list_total", c->seen);
		rte_tel_data_add_dict_u64(d, "list_kept", c->n);
		rte_tel_data_add_dict_u64(d, "list_offset", offset);
		list = dp_tel_conn_list(c, offset);
		if (list != NULL)
			rte_tel_data_add_dict_container(d, "list", list, 0);
	}
	free(c);
	return 0;
}

/* Every field of one connection's dpt_conn_info. */
static void
dp_tel_conn_detail(struct rte_tel_data *d, const struct dpt_conn_info *x)
{
	char ip[16];

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "local_ip",
		dp_ip_str(x->local_ip, ip, sizeof(ip)));
	rte_tel_data_add_dict_u64(d, "local_port", x->local_port);
	rte_tel_data_add_dict_string(d, "remote_ip",
		dp_ip_str(x->remote_ip, ip, sizeof(ip)));
	rte_tel_data_add_dict_u64(d, "remote_port", x->remote_port);
	rte_tel_data_add_dict_string(d, "state", dpt_state_name(x->state));
#define DP_TEL_F(f) rte_tel_data_add_dict_u64(d, #f, x->f);
	DP_TEL_F(snd_una) DP_TEL_F(snd_nxt) DP_TEL_F(snd_wnd)
	DP_TEL_F(rcv_nxt) DP_TEL_F(rcv_wnd) DP_TEL_F(mss)
	DP_TEL_F(srtt_us) DP_TEL_F(rto_us) DP_TEL_F(min_rtt_us)
	DP_TEL_F(cwnd) DP_TEL_F(ssthresh) DP_TEL_F(retransmits)
	DP_TEL_F(snd_queued) DP_TEL_F(rcv_queued)
#undef DP_TEL_F
}

/* Is x the connection whose remote end is ip:port? */
static bool
dp_conn_matches(const struct dpt_conn_info *x, uint32_t ip, uint16_t port)
{
	return x->remote_port == port && (ip == 0 || x->remote_ip == ip);
}

/* /dptcp/conn,INDEX or /dptcp/conn,A.B.C.D:PORT (the remote end): the
 * connection's sequence numbers, windows, RTT and queues. */
static int
dp_tel_conn(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_conn_all *c;
	const char *colon;
	char ipbuf[16];
	uint32_t ip = 0, i, idx = UINT32_MAX;
	unsigned long v;
	uint16_t port = 0;
	char *end;
	int ret = -ENOENT;

	if (params == NULL || *params == '\0')
		return -EINVAL;
	colon = strchr(params, ':');
	if (colon != NULL) {
		size_t n = (size_t)(colon - params);

		if (n >= sizeof(ipbuf))
			return -EINVAL;
		memcpy(ipbuf, params, n);
		ipbuf[n] = '\0';
		v = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || v == 0 || v > UINT16_MAX ||
		    dp_parse_ipv4(ipbuf, &ip) < 0)
			return -EINVAL;
		port = (uint16_t)v;
	} else {
		v = strtoul(params, &end, 10);
		if (*end != '\0')
			return -EINVAL;
		idx = (uint32_t)v;
	}
	c = dp_tel_fetch_conns();
	if (c != NULL) {
		for (i = 0; i < c->n; i++)
			if (i == idx || (idx == UINT32_MAX &&
					 dp_conn_matches(&c->rec[i], ip, port)))
				break;
		if (i < c->n) {
			dp_tel_conn_detail(d, &c->rec[i]);
			rte_tel_data_add_dict_u64(d, "worker",
						  dp_conn_worker(c, i));
			ret = 0;
		}
	}
	free(c);
	return ret;
}

/* Commands are registered once per process; the per-worker slots are
 * (re)made for each dp_init. */
int
dp_telemetry_init(struct dp_ctx **workers, unsigned int n)
{
	static bool registered;
	unsigned int w;
	int ret;

	dp_tel = calloc(n, sizeof(*dp_tel));
	if (dp_tel == NULL)
		return -ENOMEM;
	for (w = 0; w < n; w++) {
		dp_tel[w].lcore_id = workers[w]->lcore_id;
		dp_tel[w].rxq = workers[w]->rxq;
		dp_tel[w].txq = workers[w]->txq;
	}
	dp_tel_steer = workers[0]->steer;
	dp_tel_n = n;
	if (registered)
		return 0;
	registered = true;
	ret = rte_telemetry_register_cmd("/dptcp/stats", dp_tel_stats,
		"dptcp engine (tcp) and dataplane (dp_) counters, all workers added up. No parameters");
	if (ret == 0)
		ret = rte_telemetry_register_cmd("/dptcp/workers", dp_tel_workers,
			"Steering mode; per worker its lcore, queues, connections and segment counters. No parameters");
	if (ret == 0)
		ret = rte_telemetry_register_cmd("/dptcp/conns", dp_tel_conns,
			"Connections per state, and a list of up to 200 (\"LIP:LPORT RIP:RPORT STATE wWORKER\"). Parameter: list offset");
	if (ret == 0)
		ret = rte_telemetry_register_cmd("/dptcp/conn", dp_tel_conn,
			"One connection in detail. Parameter: list index, or remote A.B.C.D:PORT");
	if (ret != 0)
		DP_LOG(WARNING, "telemetry commands not registered: %s",
		       strerror(-ret));
	return ret;
}

/* After the poll loops stopped; a telemetry request in flight at this
 * moment may still read the slots, so they are only dropped, not reused. */
void
dp_telemetry_fini(void)
{
	dp_tel_n = 0;
	dp_tel = NULL;   /* leaked on purpose: see above (once per process) */
}
