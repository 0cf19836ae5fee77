/* tcp_engine.c — one engine's lifecycle: creation from the config, the
 * connection object's life (alloc, state changes, events, release), the
 * poll entry point that runs timers and output, and read-only views for
 * telemetry. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "tcp_internal.h"

RTE_LOG_REGISTER(tcp_logtype, dptcp.tcp, INFO);

static const char *const state_names[DPT_STATE_COUNT] = {
	[DPT_LISTEN] = "LISTEN",
	[DPT_SYN_SENT] = "SYN_SENT",
	[DPT_SYN_RECEIVED] = "SYN_RECEIVED",
	[DPT_ESTABLISHED] = "ESTABLISHED",
	[DPT_FIN_WAIT_1] = "FIN_WAIT_1",
	[DPT_FIN_WAIT_2] = "FIN_WAIT_2",
	[DPT_CLOSE_WAIT] = "CLOSE_WAIT",
	[DPT_CLOSING] = "CLOSING",
	[DPT_LAST_ACK] = "LAST_ACK",
	[DPT_TIME_WAIT] = "TIME_WAIT",
	[DPT_CLOSED] = "CLOSED",
};

const char *dpt_state_name(enum dpt_state s)
{
	return (unsigned int)s < DPT_STATE_COUNT ? state_names[s] : "?";
}

const char *dpt_event_name(enum dpt_event ev)
{
	static const char *const names[] = {
		"ACCEPTED", "CONNECTED", "READABLE", "WRITABLE",
		"PEER_CLOSED", "CLOSED", "RESET", "ERROR",
	};
	return (unsigned int)ev < RTE_DIM(names) ? names[ev] : "?";
}

void tcp_config_defaults(struct tcp_config *cfg)
{
	*cfg = (struct tcp_config){
		.msl_ms = 30000,
		.snd_buf_bytes = 262144,
		.rcv_buf_bytes = 262144,
		.backlog = 128,
		.syn_backlog = 256,
		.max_conns = 65536,
		.rto_min_ms = 200,
		.rto_max_ms = 60000,
		.rto_init_ms = 1000,
		.syn_retries = 6,
		.synack_retries = 5,
		.data_retries = 15,
		.fin_wait2_ms = 60000,
		.delack_ms = 40,
		.nodelay = 0,
		.keepalive_idle_s = 7200,
		.keepalive_intvl_s = 75,
		.keepalive_cnt = 9,
		.tick_us = 1000,
		.syncookies = 1,
		.max_time_wait = 262144,
		.ephemeral_port_lo = 32768,
		.ephemeral_port_hi = 60999,
		.cc = TCP_CC_CUBIC,
		.tlp = 1,
		.window_scaling = 1,
		.timestamps = 1,
		.sack = 1,
	};
}

/* Called once per poll-loop iteration: a multiply, no division. The factor
 * is the same for every core, so a race on first use is harmless. */
uint64_t tcp_clock_us(void)
{
	static double us_per_cycle;

	if (us_per_cycle == 0)
		us_per_cycle = 1e6 / (double)rte_get_tsc_hz();
	return (uint64_t)((double)rte_get_tsc_cycles() * us_per_cycle);
}

/* A pool of connection objects or TIME_WAIT records. Its per-lcore cache
 * is a LIFO stack: a freed object is the next one handed out, still in
 * the CPU's cache, where the bare ring would hand out the one freed
 * longest ago (cold once the pool outgrows the cache). Only this engine's
 * lcore uses the pool, so no object is stranded in another lcore's cache;
 * the cache is at most half the pool (DPDK needs 1.5 x cache <= n). */
struct rte_mempool *tcp_obj_pool_create(const char *name, uint32_t n,
					uint32_t size, int socket,
					unsigned int flags)
{
	return rte_mempool_create(name, n, size, RTE_MIN(TCP_POOL_CACHE, n / 2),
				  0, NULL, NULL, NULL, NULL, socket,
				  RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET |
				  flags);
}

struct tcp_engine *tcp_engine_create(const struct tcp_engine_params *p)
{
	struct tcp_engine *eng;
	char name[RTE_MEMPOOL_NAMESIZE];

	if (p->pool == NULL || p->tx == NULL || p->mtu < 68 + 40 ||
	    p->cfg.tick_us == 0 || p->cfg.max_conns == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (p->cfg.ephemeral_port_lo == 0 || p->cfg.ephemeral_port_hi > 65535 ||
	    p->cfg.ephemeral_port_lo > p->cfg.ephemeral_port_hi) {
		TCP_LOG(ERR, "[tcp] ephemeral_port_lo..ephemeral_port_hi = %u..%u: expected 1 <= lo <= hi <= 65535\n",
			p->cfg.ephemeral_port_lo, p->cfg.ephemeral_port_hi);
		rte_errno = EINVAL;
		return NULL;
	}
	eng = rte_zmalloc_socket("tcp_engine", sizeof(*eng),
				 RTE_CACHE_LINE_SIZE, p->socket_id);
	if (eng == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	eng->cfg = p->cfg;
	eng->tick_recip = UINT64_MAX / eng->cfg.tick_us;
	eng->id = p->engine_id;
	eng->owned = p->owned;
	eng->owned_ctx = p->owned_ctx;
	/* RFC 7323 §2.3: the largest window a shift of 14 can offer. */
	if (eng->cfg.rcv_buf_bytes > (TCP_MAX_WIN << TCP_MAX_WSCALE))
		eng->cfg.rcv_buf_bytes = TCP_MAX_WIN << TCP_MAX_WSCALE;
	eng->local_ip = rte_cpu_to_be_32(p->local_ip);
	eng->our_mss = p->mtu - 40;
	eng->pool = p->pool;
	eng->tx = p->tx;
	eng->tx_ctx = p->tx_ctx;
	eng->tx_cksum_offload = p->tx_cksum_offload;
	eng->isn_key[0] = p->isn_secret[0];
	eng->isn_key[1] = p->isn_secret[1];
	if (eng->isn_key[0] == 0 && eng->isn_key[1] == 0) {
		eng->isn_key[0] = rte_rand();
		eng->isn_key[1] = rte_rand();
	}
	eng->next_ephemeral = (uint16_t)(eng->cfg.ephemeral_port_lo +
		rte_rand() % (eng->cfg.ephemeral_port_hi -
			      eng->cfg.ephemeral_port_lo + 1));

	snprintf(name, sizeof(name), "dpt_conn_%u", p->engine_id);
	eng->conn_pool = tcp_obj_pool_create(name, eng->cfg.max_conns,
		sizeof(struct tcp_conn), p->socket_id, 0);
	if (eng->conn_pool == NULL || tcp_table_create(eng, p->engine_id,
						       p->socket_id) < 0 ||
	    tcp_tw_create(eng, p->engine_id, p->socket_id) < 0) {
		int err = rte_errno ? rte_errno : ENOMEM;
		tcp_tw_destroy(eng);
		tcp_table_free(eng);
		rte_mempool_free(eng->conn_pool);
		rte_free(eng);
		rte_errno = err;
		return NULL;
	}
	tcp_wheel_init(&eng->wheel, 0);
	eng->trace = rte_log_can_log(tcp_logtype, RTE_LOG_DEBUG);
	return eng;
}

void tcp_engine_destroy(struct tcp_engine *eng)
{
	const void *key;
	void *data;
	uint32_t iter = 0;

	if (eng == NULL)
		return;
	while (rte_hash_iterate(eng->conns, &key, &data, &iter) >= 0) {
		struct tcp_conn *c = data;
		if (tcp_ent_is_tw(data))
			continue;
		tcp_mq_free(&c->sndq);
		tcp_mq_free(&c->rcvq);
		tcp_ooo_free(c);
	}
	tcp_listeners_free(eng);
	tcp_table_free(eng);
	rte_pktmbuf_free_bulk(eng->txq, eng->ntx);
	tcp_tw_destroy(eng);
	rte_mempool_free(eng->conn_pool);
	rte_free(eng);
}

void tcp_set_state(struct tcp_engine *eng, struct tcp_conn *c,
		   enum dpt_state s)
{
	if (c->state == s)
		return;
	eng->state_count[c->state]--;
	eng->state_count[s]++;
	eng->stats.state_changes++;
	TCP_TRACE(eng, "%u->%u %s -> %s\n",
		rte_be_to_cpu_16(c->tuple.lport),
		rte_be_to_cpu_16(c->tuple.rport),
		dpt_state_name(c->state), dpt_state_name(s));
	c->state = s;
}

struct tcp_conn *tcp_conn_alloc(struct tcp_engine *eng,
				const struct tcp_tuple *t)
{
	struct tcp_conn *c;

	if (eng->nconns >= eng->cfg.max_conns) {
		eng->stats.conn_limit++;
		return NULL;
	}
	if (rte_mempool_get(eng->conn_pool, (void **)&c) < 0) {
		eng->stats.conn_limit++;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->tuple = *t;
	c->state = DPT_CLOSED;
	c->t_rexmit.kind = TCP_T_REXMIT;
	c->t_delack.kind = TCP_T_DELACK;
	c->t_linger.kind = TCP_T_LINGER;
	c->t_keep.kind = TCP_T_KEEP;
	if (eng->cfg.nodelay)
		c->flags |= TF_NODELAY;
	c->ka_idle_s = (uint16_t)RTE_MIN(RTE_MAX(eng->cfg.keepalive_idle_s, 1u),
					 32767u);
	c->ka_intvl_s = (uint16_t)RTE_MIN(RTE_MAX(eng->cfg.keepalive_intvl_s, 1u),
					  32767u);
	c->ka_cnt = (uint8_t)RTE_MIN(RTE_MAX(eng->cfg.keepalive_cnt, 1u), 127u);
	c->last_rx_us = eng->now_us;
	c->snd_buf = eng->cfg.snd_buf_bytes;
	c->rcv_buf = eng->cfg.rcv_buf_bytes;
	c->snd_mss = TCP_DEFAULT_MSS;
	c->rto_us = eng->cfg.rto_init_ms * 1000;
	c->rcv_wscale = tcp_wscale_for(c->rcv_buf);
	c->ts_offset = tcp_ts_offset(eng, t->lip, t->rip);
	tcp_conn_set_iss(c, tcp_isn(eng, t));
	tcp_recovery_init(eng, c);
	if (tcp_table_set(eng, &c->tuple, c) < 0) {
		rte_mempool_put(eng->conn_pool, c);
		eng->stats.conn_limit++;
		return NULL;
	}
	eng->nconns++;
	if (eng->chunk_depth > 0) {
		tcp_bits_set(eng->new_bits, tcp_tuple_bit(t));
		eng->new_any = true;
	}
	eng->state_count[DPT_CLOSED]++;
	return c;
}

void tcp_mq_free(struct tcp_mq *q)
{
	struct rte_mbuf *m = q->head;

	while (m != NULL) {
		struct rte_mbuf *next = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
	q->head = q->tail = NULL;
	q->bytes = 0;
	q->cur = NULL;
}

/* Takes c out of timers, listener and counts; the memory goes back to the
 * pool when the current batch ends, so pointers held by the batch (bulk
 * lookup results, callers up the stack) stay safe to test for TF_DEAD. */
static void conn_unlink(struct tcp_engine *eng, struct tcp_conn *c)
{
	tcp_set_state(eng, c, DPT_CLOSED);
	c->flags |= TF_DEAD;
	tcp_timer_stop(&eng->wheel, &c->t_rexmit);
	tcp_timer_stop(&eng->wheel, &c->t_delack);
	tcp_timer_stop(&eng->wheel, &c->t_linger);
	tcp_timer_stop(&eng->wheel, &c->t_tlp);
	tcp_timer_stop(&eng->wheel, &c->t_keep);
	tcp_listen_detach(eng, c);
	tcp_mq_free(&c->sndq);
	tcp_mq_free(&c->rcvq);
	tcp_ooo_free(c);
	eng->nconns--;
	c->dead_next = eng->dead;
	eng->dead = c;
}

/* The connection reached CLOSED: its tuple is free again. */
void tcp_conn_release(struct tcp_engine *eng, struct tcp_conn *c)
{
	if (c->flags & TF_DEAD)
		return;
	tcp_table_del(eng, &c->tuple);
	conn_unlink(eng, c);
	eng->stats.conn_closed++;
	if (eng->depth == 0)
		tcp_engine_leave(eng);
}

/* The TCB goes but the tuple lives on: its table entry was handed to a
 * TIME_WAIT record (tcp_tw_from_conn()), which counts the close later. */
void tcp_conn_retire(struct tcp_engine *eng, struct tcp_conn *c)
{
	if (c->flags & TF_DEAD)
		return;
	conn_unlink(eng, c);
	if (eng->depth == 0)
		tcp_engine_leave(eng);
}

void tcp_event(struct tcp_engine *eng, struct tcp_conn *c,
	       enum dpt_event ev, int err)
{
	if ((c->flags & TF_DETACHED) || c->fn == NULL)
		return;
	if (ev == DPT_EV_CLOSED || ev == DPT_EV_RESET || ev == DPT_EV_ERROR)
		c->flags |= TF_DETACHED;
	eng->depth++;
	c->fn(eng, c, ev, err, c->user);
	eng->depth--;
}

/* The connection is over for the application: tell it once, then free. */
void tcp_conn_finish(struct tcp_engine *eng, struct tcp_conn *c,
		     enum dpt_event ev, int err)
{
	if (ev == DPT_EV_RESET)
		eng->stats.conn_reset++;
	tcp_set_state(eng, c, DPT_CLOSED);
	tcp_event(eng, c, ev, err);
	tcp_conn_release(eng, c);
}

/* RFC 9293 §3.6: TIME_WAIT holds the tuple for 2*MSL. The application's
 * part is over, so it hears CLOSED now and the whole TCB gives way to a
 * compact TIME_WAIT record (tcp_timewait.c) — unless data it has not read
 * yet is buffered: then the TCB stays, in TIME_WAIT, and CLOSED waits
 * until it has read it (dpt_recv() arms the delivery), closes it, or
 * 2*MSL ends; the TCB becomes a record when CLOSED is delivered. Also
 * called again to restart 2*MSL for such a TCB. */
void tcp_enter_time_wait(struct tcp_engine *eng, struct tcp_conn *c)
{
	tcp_set_state(eng, c, DPT_TIME_WAIT);
	tcp_timer_stop(&eng->wheel, &c->t_rexmit);
	tcp_timer_stop(&eng->wheel, &c->t_delack);
	tcp_timer_stop(&eng->wheel, &c->t_tlp);
	tcp_timer_stop(&eng->wheel, &c->t_keep);
	tcp_timer_arm(&eng->wheel, &c->t_linger, tcp_us_to_tick(eng,
		eng->now_us) + tcp_ms_to_tick(eng, 2ull * eng->cfg.msl_ms));
	tcp_mq_free(&c->sndq);
	tcp_ooo_free(c);
	if (c->rcvq.bytes > 0 && c->fn != NULL &&
	    !(c->flags & (TF_DETACHED | TF_APP_CLOSED))) {
		c->flags |= TF_CLOSE_PENDING;
		return;
	}
	tcp_mq_free(&c->rcvq);
	tcp_event(eng, c, DPT_EV_CLOSED, 0);
	if (!(c->flags & TF_DEAD))
		tcp_tw_from_conn(eng, c);
}

/* TIME_WAIT's deferred CLOSED, once the application drained the data. */
static void close_pending_fire(struct tcp_engine *eng, struct tcp_conn *c)
{
	if (!(c->flags & TF_CLOSE_PENDING) || c->rcvq.bytes > 0)
		return;
	c->flags &= ~TF_CLOSE_PENDING;
	tcp_event(eng, c, DPT_EV_CLOSED, 0);
	if (!(c->flags & TF_DEAD))
		tcp_tw_from_conn(eng, c);
}

static void timer_fire(void *ctx, struct tcp_timer *t)
{
	struct tcp_engine *eng = ctx;
	struct tcp_conn *c;

	switch (t->kind) {
	case TCP_T_REXMIT:
		c = container_of(t, struct tcp_conn, t_rexmit);
		tcp_rexmit_timeout(eng, c);
		break;
	case TCP_T_DELACK:
		c = container_of(t, struct tcp_conn, t_delack);
		if (c->state == DPT_TIME_WAIT) {
			close_pending_fire(eng, c);
		} else if (c->flags & TF_DELACK) {
			eng->stats.delack_sent++;
			c->flags |= TF_ACK_NOW;
			tcp_output_mark(eng, c);
		}
		break;
	case TCP_T_LINGER:
		c = container_of(t, struct tcp_conn, t_linger);
		if (c->state == DPT_TIME_WAIT) {
			eng->stats.tw_expired++;
			if (c->flags & TF_CLOSE_PENDING)
				tcp_event(eng, c, DPT_EV_CLOSED, 0);
			tcp_conn_release(eng, c);
		} else {
			/* FIN_WAIT_2 timeout: the peer never sent its FIN.
			 * Armed only after dpt_close() (not after a mere
			 * dpt_shutdown(): Linux times out orphans only). */
			eng->stats.fin_wait2_timeouts++;
			tcp_send_rst_conn(eng, c);
			tcp_conn_finish(eng, c, DPT_EV_ERROR, -ETIMEDOUT);
		}
		break;
	case TCP_T_TLP:
		tcp_tlp_timeout(eng, container_of(t, struct tcp_conn, t_tlp));
		break;
	case TCP_T_TW:
		tcp_tw_expire(eng, container_of(t, struct tcp_tw, timer));
		break;
	case TCP_T_KEEP:
		tcp_keepalive_timeout(eng, container_of(t, struct tcp_conn,
							t_keep));
		break;
	}
}

/* The engine keeps time from the first clock value it is given, so any
 * monotonic clock works (the TSC, or a test's virtual time); calls made
 * before that act at time 0. */
void tcp_engine_enter(struct tcp_engine *eng, uint64_t now_us)
{
	if (eng->depth++ != 0)
		return;
	if (!eng->clock_started) {
		eng->clock_started = true;
		eng->clock_origin = now_us;
	}
	now_us -= eng->clock_origin;
	if ((int64_t)(now_us - eng->now_us) > 0) {
		eng->now_us = now_us;
		eng->now_ms = now_us / 1000;
	}
}

/* End of a batch: send what is owed, then free what was released. */
void tcp_engine_leave(struct tcp_engine *eng)
{
	if (eng->depth > 0 && --eng->depth > 0)
		return;
	eng->depth++;
	tcp_listen_flush(eng);
	tcp_output_flush(eng);
	tcp_tw_flush(eng);
	tcp_tx_flush(eng);
	eng->depth--;
	while (eng->dead != NULL) {
		struct tcp_conn *c = eng->dead;
		eng->dead = c->dead_next;
		eng->state_count[DPT_CLOSED]--;
		rte_mempool_put(eng->conn_pool, c);
	}
	tcp_listeners_reap(eng);
}

void tcp_engine_poll(struct tcp_engine *eng, uint64_t now_us)
{
	uint64_t tick;

	tcp_engine_enter(eng, now_us);
	tick = tcp_us_to_tick(eng, eng->now_us);
	if (unlikely(tick != eng->trace_tick)) {
		eng->trace_tick = tick;
		eng->trace = rte_log_can_log(tcp_logtype, RTE_LOG_DEBUG);
	}
	tcp_wheel_run(&eng->wheel, tick, timer_fire, eng);
	tcp_engine_leave(eng);
}

const struct tcp_stats *tcp_engine_stats(const struct tcp_engine *eng)
{
	return &eng->stats;
}

const char *tcp_engine_cc_name(const struct tcp_engine *eng)
{
	return tcp_cc_get(eng->cfg.cc)->name;
}

void tcp_engine_state_counts(const struct tcp_engine *eng, uint32_t *counts)
{
	memcpy(counts, eng->state_count, sizeof(eng->state_count));
	counts[DPT_LISTEN] = eng->nlisteners;
}

void tcp_engine_foreach_conn(const struct tcp_engine *eng,
			     tcp_conn_visit_fn fn, void *arg)
{
	const void *key;
	void *data;
	uint32_t iter = 0;
	struct dpt_conn_info info;

	while (rte_hash_iterate(eng->conns, &key, &data, &iter) >= 0) {
		if (tcp_ent_is_tw(data))
			tcp_tw_info(tcp_ent_tw(data), &info);
		else
			dpt_conn_info(data, &info);
		if (fn(&info, arg) != 0)
			break;
	}
}

unsigned int
tcp_engine_id(const struct tcp_engine *eng)
{
	return eng->id;
}
