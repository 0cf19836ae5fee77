/* tcp_keepalive.c — keepalive (RFC 1122 §4.2.3.6), off unless the
 * application turns it on (DPT_OPT_KEEPALIVE): after ka_idle_s without a
 * segment from the peer, a probe every ka_intvl_s; ka_cnt probes without
 * an answer abort the connection with -ETIMEDOUT. One timer per
 * connection (t_keep); received segments only note the time, and the
 * timer catches up when it fires, so the hot path never touches the wheel. */
#include <errno.h>

#include "tcp_internal.h"

static void keep_arm(struct tcp_engine *eng, struct tcp_conn *c, uint64_t at_us)
{
	uint64_t tick = (at_us + eng->cfg.tick_us - 1) / eng->cfg.tick_us;
	uint64_t now = tcp_us_to_tick(eng, eng->now_us);

	tcp_timer_arm(&eng->wheel, &c->t_keep, RTE_MAX(tick, now + 1));
}

static uint64_t idle_us(const struct tcp_conn *c)
{
	return (uint64_t)c->ka_idle_s * 1000000;
}

/* Keepalive was turned on or its idle time changed: the first probe
 * goes idle seconds after the peer was last heard, at the earliest now
 * (Linux: tcp_sock_set_keepidle_locked). Off: the timer stops. */
void tcp_keepalive_reset(struct tcp_engine *eng, struct tcp_conn *c)
{
	if (!(c->flags & TF_KEEPALIVE) || c->state == DPT_CLOSED ||
	    c->state == DPT_TIME_WAIT) {
		tcp_timer_stop(&eng->wheel, &c->t_keep);
		return;
	}
	keep_arm(eng, c, c->last_rx_us + idle_us(c));
}

void tcp_keepalive_timeout(struct tcp_engine *eng, struct tcp_conn *c)
{
	if (!(c->flags & TF_KEEPALIVE) || c->state == DPT_CLOSED ||
	    c->state == DPT_TIME_WAIT)
		return;
	/* During the handshake, or with data in flight or waiting for the
	 * window, the retransmission and persist timers watch the peer. */
	if (!tcp_synchronized(c->state) || c->snd_max != c->snd_una ||
	    c->sndq.bytes > 0) {
		keep_arm(eng, c, eng->now_us + idle_us(c));
		return;
	}
	if (eng->now_us - c->last_rx_us < idle_us(c)) {
		keep_arm(eng, c, c->last_rx_us + idle_us(c));   /* heard since */
		return;
	}
	if (c->ka_probes >= c->ka_cnt) {
		eng->stats.keepalive_timeouts++;
		tcp_send_rst_conn(eng, c);
		tcp_conn_finish(eng, c, DPT_EV_ERROR, -ETIMEDOUT);
		return;
	}
	tcp_send_keepalive_probe(eng, c);
	eng->stats.keepalive_probes++;
	c->ka_probes++;
	keep_arm(eng, c, eng->now_us + (uint64_t)c->ka_intvl_s * 1000000);
}
