/* dp_telemetry.c — /dptcp/stats and /dptcp/conns. Telemetry handlers run
 * on DPDK's telemetry thread, so they never touch the engine: the poll
 * loop publishes double-buffered snapshots that the handlers copy. */
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

/* Written by the poll loop only; read by the telemetry thread. */
static struct dp_snap dp_snap[2];
static atomic_uint_fast64_t dp_snap_gen;
static struct dp_conn_snap dp_conns[2];
static atomic_uint_fast64_t dp_conns_gen;
static atomic_int dp_conns_wanted;
static uint64_t dp_next_snap_us;

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
	if (ctx->now_us >= dp_next_snap_us) {
		struct dp_snap *s = dp_pub_begin(&dp_snap_gen, dp_snap,
						 sizeof(dp_snap[0]));

		dp_next_snap_us = ctx->now_us + DP_SNAP_PERIOD_US;
		s->tcp = *tcp_engine_stats(ctx->eng);
		s->dp = ctx->stats;
		tcp_engine_state_counts(ctx->eng, s->states);
		s->mbuf_in_use = rte_mempool_in_use_count(ctx->pool);
		s->mbuf_avail = rte_mempool_avail_count(ctx->pool);
		s->time_us = ctx->now_us;
		dp_pub_end(&dp_snap_gen);
	}
	if (atomic_exchange_explicit(&dp_conns_wanted, 0,
				     memory_order_acq_rel)) {
		struct dp_conn_snap *c = dp_pub_begin(&dp_conns_gen, dp_conns,
						      sizeof(dp_conns[0]));

		c->n = 0;
		c->seen = 0;
		tcp_engine_foreach_conn(ctx->eng, dp_conn_visit, c);
		dp_pub_end(&dp_conns_gen);
	}
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

	if (!dp_pub_read(&dp_snap_gen, dp_snap, sizeof(dp_snap[0]), &s))
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

static struct rte_tel_data *
dp_tel_conn_list(const struct dp_conn_snap *c, uint32_t offset)
{
	struct rte_tel_data *list = rte_tel_data_alloc();
	char line[RTE_TEL_MAX_STRING_LEN], l[16], r[16];
	uint32_t i;

	if (list == NULL)
		return NULL;
	rte_tel_data_start_array(list, RTE_TEL_STRING_VAL);
	for (i = offset; i < c->n && i < offset + DP_CONN_REPLY_MAX; i++) {
		const struct dpt_conn_info *x = &c->rec[i];

		snprintf(line, sizeof(line), "%s:%u %s:%u %s",
			 dp_ip_str(x->local_ip, l, sizeof(l)), x->local_port,
			 dp_ip_str(x->remote_ip, r, sizeof(r)), x->remote_port,
			 dpt_state_name(x->state));
		rte_tel_data_add_array_string(list, line);
	}
	return list;
}

/* Asks the poll loop for a fresh list; waits briefly, else serves the
 * last one (the loop may not be running). */
static bool
dp_tel_fetch_conns(struct dp_conn_snap *c)
{
	uint64_t g0 = atomic_load_explicit(&dp_conns_gen, memory_order_acquire);
	int ms;

	atomic_store_explicit(&dp_conns_wanted, 1, memory_order_release);
	for (ms = 0; ms < DP_CONN_WAIT_MS; ms++) {
		if (atomic_load_explicit(&dp_conns_gen,
					 memory_order_acquire) != g0)
			break;
		usleep(1000);
	}
	return dp_pub_read(&dp_conns_gen, dp_conns, sizeof(dp_conns[0]), c);
}

/* /dptcp/conns[,OFFSET]: counts per state, then up to DP_CONN_REPLY_MAX
 * connections from OFFSET as "lip:lport rip:rport STATE". */
static int
dp_tel_conns(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_conn_snap *c;
	struct rte_tel_data *list;
	struct dp_snap s;
	uint32_t offset = 0;
	char *end;

	if (params != NULL && *params != '\0') {
		offset = (uint32_t)strtoul(params, &end, 10);
		if (*end != '\0')
			return -EINVAL;
	}
	if (!dp_pub_read(&dp_snap_gen, dp_snap, sizeof(dp_snap[0]), &s))
		return -EAGAIN;
	/* Each telemetry client has its own thread: no static buffer. */
	c = malloc(sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	dp_tel_states(d, s.states);
	if (dp_tel_fetch_conns(c)) {
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
	DP_TEL_F(srtt_us) DP_TEL_F(rto_us) DP_TEL_F(retransmits)
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
	struct dp_conn_snap *c;
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
	c = malloc(sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	if (dp_tel_fetch_conns(c)) {
		for (i = 0; i < c->n; i++)
			if (i == idx || (idx == UINT32_MAX &&
					 dp_conn_matches(&c->rec[i], ip, port)))
				break;
		if (i < c->n) {
			dp_tel_conn_detail(d, &c->rec[i]);
			ret = 0;
		}
	}
	free(c);
	return ret;
}

int
dp_telemetry_init(void)
{
	int ret;

	ret = rte_telemetry_register_cmd("/dptcp/stats", dp_tel_stats,
		"dptcp engine (tcp) and dataplane (dp_) counters. No parameters");
	if (ret == 0)
		ret = rte_telemetry_register_cmd("/dptcp/conns", dp_tel_conns,
			"Connections per state, and a list of up to 200. Parameter: list offset");
	if (ret == 0)
		ret = rte_telemetry_register_cmd("/dptcp/conn", dp_tel_conn,
			"One connection in detail. Parameter: list index, or remote A.B.C.D:PORT");
	if (ret != 0)
		DP_LOG(WARNING, "telemetry commands not registered: %s",
		       strerror(-ret));
	return ret;
}
