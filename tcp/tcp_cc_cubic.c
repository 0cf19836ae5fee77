/* tcp_cc_cubic.c — CUBIC congestion control (RFC 9438): the window follows
 * W_cubic(t) = C*(t - K)^3 + W_max after a reduction by beta = 0.7, with
 * the Reno-friendly estimate W_est (§4.3) and fast convergence (§4.7).
 * Fixed point, no floating point: t and K in 2^-10 s, windows in bytes.
 * The per-ACK path is additions and shifts; one division re-derives the
 * bytes-per-SMSS growth step when cwnd changed or 1/32 s passed, and a
 * cube root is taken once per congestion epoch. */
#include "tcp_internal.h"

#define CUBIC_BETA_1024       717u   /* beta_cubic = 0.7 */
#define CUBIC_FC_1024         870u   /* (1 + beta) / 2 = 0.85 (§4.7) */
#define CUBIC_C_1024          410u   /* C = 0.4 */
#define CUBIC_ALPHA_1024      542u   /* 3 (1 - beta) / (1 + beta) = 0.529 */
#define CUBIC_RECALC_US       31250u /* re-derive cnt at least every 1/32 s */
#define CUBIC_MAX_T_FP        (1u << 16)  /* |t - K| cap: 64 s */

/* Microseconds to 2^-10 s: x * 1024 / 10^6 ~= x * 1073 / 2^20 (0.07%). */
static inline uint64_t us_to_fp(uint64_t us)
{
	return (us * 1073u) >> 20;
}

static uint32_t icbrt64(uint64_t x)
{
	uint64_t lo = 0, hi = 1u << 21;    /* (2^21)^3 = 2^63 */

	while (lo < hi) {
		uint64_t mid = (lo + hi + 1) / 2;
		if (mid * mid * mid <= x)
			lo = mid;
		else
			hi = mid - 1;
	}
	return (uint32_t)lo;
}

/* C * d^3 in bytes, d in 2^-10 s: 0.4 * SMSS * d^3 / 2^30. */
static uint64_t cubic_offs(uint32_t mss, uint64_t d)
{
	if (d > CUBIC_MAX_T_FP)
		d = CUBIC_MAX_T_FP;
	return (((d * d * d) >> 10) * (CUBIC_C_1024 * (uint64_t)mss)) >> 30;
}

/* RFC 9438 §4.2 eq. 1 with t in 2^-10 s; exposed for the unit tests. */
uint64_t tcp_cubic_w(const struct tcp_cubic *cb, uint32_t mss, uint64_t t_fp)
{
	uint64_t offs;

	if (t_fp >= cb->k_fp)
		return cb->origin + cubic_offs(mss, t_fp - cb->k_fp);
	offs = cubic_offs(mss, cb->k_fp - t_fp);
	return offs < cb->origin ? cb->origin - offs : 0;
}

/* K = cbrt((W_max - cwnd_epoch) / C) seconds (§4.2 eq. 2). The only
 * division, once per epoch. */
static uint32_t cubic_k(uint32_t w_max, uint32_t cwnd, uint32_t mss)
{
	uint64_t segs_fp30;

	if (w_max <= cwnd)
		return 0;
	/* (W_max - cwnd) / (C * SMSS), in 2^-30 s^3. */
	segs_fp30 = (((uint64_t)(w_max - cwnd) << 30) / mss) * 1024 /
		    CUBIC_C_1024;
	return icbrt64(segs_fp30);
}

static void cubic_init(struct tcp_conn *c)
{
	memset(&c->cc.cubic, 0, sizeof(c->cc.cubic));
}

static void cubic_epoch_start(struct tcp_conn *c, uint64_t now_us)
{
	struct tcp_cubic *cb = &c->cc.cubic;

	cb->epoch_us = now_us ? now_us : 1;
	cb->k_fp = cubic_k(cb->w_max, c->cwnd, c->snd_mss);
	cb->origin = RTE_MAX(cb->w_max, c->cwnd);
	cb->w_est = c->cwnd;
	cb->est_acked = 0;
	cb->acked = 0;
	cb->last_cwnd = 0;
}

/* §4.2: target = W_cubic(t + RTT) clamped to [cwnd, 1.5 cwnd]; cwnd grows
 * by (target - cwnd) / cwnd per SMSS acked, i.e. one SMSS every
 * cwnd * SMSS / (target - cwnd) bytes. */
static void cubic_update_cnt(struct tcp_conn *c, uint64_t now_us)
{
	struct tcp_cubic *cb = &c->cc.cubic;
	uint64_t t_fp, target, w;
	uint32_t cwnd = c->cwnd;

	cb->last_cwnd = cwnd;
	cb->last_us = now_us;
	t_fp = us_to_fp(now_us - cb->epoch_us + c->srtt_us);
	w = tcp_cubic_w(cb, c->snd_mss, t_fp);
	cb->w_cubic = (uint32_t)RTE_MIN(w, (uint64_t)UINT32_MAX);
	target = RTE_MAX(w, (uint64_t)cwnd);
	target = RTE_MIN(target, (uint64_t)cwnd + cwnd / 2);
	if (target > cwnd)
		cb->cnt = (uint32_t)RTE_MAX((uint64_t)cwnd * c->snd_mss /
					    (target - cwnd), (uint64_t)1);
	else
		cb->cnt = 100 * cwnd;   /* plateau: almost no growth */
}

static void cubic_on_ack(struct tcp_conn *c, uint32_t acked, uint32_t rtt_us,
			 uint64_t now_us)
{
	struct tcp_cubic *cb = &c->cc.cubic;
	uint32_t alpha;

	RTE_SET_USED(rtt_us);
	if (c->cwnd < c->ssthresh) {
		/* §4.10 slow start, L = 2 SMSS (RFC 3465 §2.2) */
		c->cwnd += RTE_MIN(acked, 2 * c->snd_mss);
		return;
	}
	if (cb->epoch_us == 0)
		cubic_epoch_start(c, now_us);
	if (c->cwnd != cb->last_cwnd ||
	    now_us - cb->last_us > CUBIC_RECALC_US)
		cubic_update_cnt(c, now_us);

	/* §4.3 Reno-friendly region: W_est grows by alpha SMSS per cwnd
	 * acknowledged, alpha = 1 once it passed the pre-loss window. */
	alpha = cb->w_est >= cb->w_max ? 1024 : CUBIC_ALPHA_1024;
	cb->est_acked += acked;
	if (cb->est_acked >= c->cwnd) {
		cb->est_acked -= c->cwnd;
		cb->w_est += (c->snd_mss * alpha) >> 10;
	}
	if (cb->w_est > cb->w_cubic && cb->w_est > c->cwnd) {
		c->cwnd = cb->w_est;
		return;
	}
	cb->acked += acked;
	while (cb->acked >= cb->cnt) {
		cb->acked -= cb->cnt;
		c->cwnd += c->snd_mss;
	}
}

/* §4.6 multiplicative decrease with §4.7 fast convergence. */
static void cubic_reduce(struct tcp_conn *c)
{
	struct tcp_cubic *cb = &c->cc.cubic;
	uint32_t flight = RTE_MIN(tcp_cc_flight(c), c->cwnd);

	if (c->cwnd < cb->w_max)
		cb->w_max = (uint32_t)(((uint64_t)c->cwnd * CUBIC_FC_1024) >> 10);
	else
		cb->w_max = c->cwnd;
	c->ssthresh = RTE_MAX((uint32_t)(((uint64_t)flight *
					  CUBIC_BETA_1024) >> 10),
			      2 * c->snd_mss);
	cb->epoch_us = 0;
}

static void cubic_on_congestion(struct tcp_conn *c, uint64_t now_us)
{
	RTE_SET_USED(now_us);
	cubic_reduce(c);
	c->cwnd = c->ssthresh;
}

static void cubic_on_rto(struct tcp_conn *c, uint64_t now_us)
{
	RTE_SET_USED(now_us);
	if (c->retries == 0)           /* §4.8, and RFC 5681 §3.1 */
		cubic_reduce(c);
	c->cc.cubic.epoch_us = 0;
	c->cwnd = c->snd_mss;
}

static void cubic_on_recovery_exit(struct tcp_conn *c, uint64_t now_us)
{
	RTE_SET_USED(now_us);
	tcp_cc_exit_window(c);
	c->cc.cubic.epoch_us = 0;      /* the epoch starts with the next ACK */
}

const struct tcp_cc_ops tcp_cc_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.on_congestion = cubic_on_congestion,
	.on_rto = cubic_on_rto,
	.on_recovery_exit = cubic_on_recovery_exit,
};
