/* tcp_cc_newreno.c — NewReno congestion control: slow start and
 * congestion avoidance with appropriate byte counting (RFC 5681 §3.1,
 * RFC 3465), halving on loss (RFC 5681 §3.2) and the RFC 6582 window at
 * the end of recovery. Also the table of algorithms. */
#include "tcp_internal.h"

uint32_t tcp_cc_flight(const struct tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}

/* RFC 5681 §3.1 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS). */
uint32_t tcp_cc_half_flight(const struct tcp_conn *c)
{
	return RTE_MAX(tcp_cc_flight(c) / 2, 2 * c->snd_mss);
}

static void newreno_init(struct tcp_conn *c)
{
	c->cc.bytes_acked = 0;
}

static void newreno_on_ack(struct tcp_conn *c, uint32_t acked,
			   uint32_t rtt_us, uint64_t now_us)
{
	RTE_SET_USED(rtt_us);
	RTE_SET_USED(now_us);
	if (c->cwnd < c->ssthresh) {
		/* Slow start, L = 2 SMSS (RFC 3465 §2.2): a delayed ACK
		 * of two segments grows the window by two. */
		c->cwnd += RTE_MIN(acked, 2 * c->snd_mss);
		return;
	}
	/* Congestion avoidance: one SMSS per cwnd of data acknowledged,
	 * counted in bytes (RFC 3465 §2.1; no division). */
	c->cc.bytes_acked += acked;
	if (c->cc.bytes_acked >= c->cwnd) {
		c->cc.bytes_acked -= c->cwnd;
		c->cwnd += c->snd_mss;
	}
}

static void newreno_on_congestion(struct tcp_conn *c, uint64_t now_us)
{
	RTE_SET_USED(now_us);
	c->ssthresh = tcp_cc_half_flight(c);
	c->cwnd = c->ssthresh;
	c->cc.bytes_acked = 0;
}

static void newreno_on_rto(struct tcp_conn *c, uint64_t now_us)
{
	RTE_SET_USED(now_us);
	/* RFC 5681 §3.1: a segment retransmitted by the timer more than
	 * once leaves ssthresh as it is. */
	if (c->retries == 0)
		c->ssthresh = tcp_cc_half_flight(c);
	c->cwnd = c->snd_mss;
	c->cc.bytes_acked = 0;
}

/* The window when recovery ends. With SACK, PRR (RFC 6937) kept the
 * pipe near ssthresh through the episode: cwnd = ssthresh, as RFC 6582
 * §3.2 step 3 option (2) and Linux (option (1) left the window at what
 * PRR had in flight at the last ACK, often well below ssthresh). Without
 * SACK the window was inflated and deflated by duplicate ACKs: option
 * (1), no burst out of a deflated window. */
void tcp_cc_exit_window(struct tcp_conn *c)
{
	uint32_t w = RTE_MAX(tcp_cc_flight(c), c->snd_mss) + c->snd_mss;

	c->cwnd = c->sack_ok ? c->ssthresh : RTE_MIN(c->ssthresh, w);
}

static void newreno_on_recovery_exit(struct tcp_conn *c, uint64_t now_us)
{
	RTE_SET_USED(now_us);
	tcp_cc_exit_window(c);
	c->cc.bytes_acked = 0;
}

const struct tcp_cc_ops tcp_cc_newreno = {
	.name = "newreno",
	.init = newreno_init,
	.on_ack = newreno_on_ack,
	.on_congestion = newreno_on_congestion,
	.on_rto = newreno_on_rto,
	.on_recovery_exit = newreno_on_recovery_exit,
};

const struct tcp_cc_ops *tcp_cc_get(uint32_t algo)
{
	return algo == TCP_CC_NEWRENO ? &tcp_cc_newreno : &tcp_cc_cubic;
}
