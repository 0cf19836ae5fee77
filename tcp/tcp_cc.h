/* tcp_cc.h — the congestion-control interface: a small table of hooks
 * that loss recovery (tcp_input.c, tcp_output.c) calls, and the per-
 * connection state of each algorithm, kept in the TCB. The algorithms
 * own cwnd and ssthresh growth and reduction; the engine owns when a
 * congestion event happened (fast retransmit, RTO) and recovery itself. */
#ifndef TCP_CC_H
#define TCP_CC_H

#include <stdint.h>

#include "tcp_engine.h"            /* enum tcp_cc_algo */

struct tcp_conn;

/* CUBIC (RFC 9438) per-connection state; windows in bytes, times in us. */
struct tcp_cubic {
	uint32_t w_max;            /* cwnd before the last reduction */
	uint32_t k_fp;             /* K, in 2^-10 s */
	uint32_t origin;           /* W_max or cwnd: the curve's plateau */
	uint32_t w_est;            /* Reno-friendly estimate (§4.3) */
	uint32_t est_acked;        /* bytes acked towards the next w_est step */
	uint32_t w_cubic;          /* W_cubic(t + RTT) at the last update */
	uint32_t cnt;              /* bytes acked per cwnd += SMSS */
	uint32_t acked;            /* bytes acked towards the next step */
	uint32_t last_cwnd;        /* cwnd when cnt was computed */
	uint64_t last_us;          /* ... and when */
	uint64_t epoch_us;         /* start of the epoch, 0 = none yet */
};

struct tcp_cc_state {
	uint32_t bytes_acked;      /* NewReno: RFC 3465 byte counting */
	struct tcp_cubic cubic;
};

struct tcp_cc_ops {
	const char *name;
	/* cwnd and ssthresh were set to their initial values (RFC 6928). */
	void (*init)(struct tcp_conn *c);
	/* New data acknowledged outside recovery: acked bytes, the RTT
	 * sample of this ACK (0 = none), the engine's clock. */
	void (*on_ack)(struct tcp_conn *c, uint32_t acked, uint32_t rtt_us,
		       uint64_t now_us);
	/* Loss detected by duplicate ACKs / SACK / TLP: set ssthresh and
	 * cwnd for the recovery that starts now (RFC 5681 §3.2 step 2). */
	void (*on_congestion)(struct tcp_conn *c, uint64_t now_us);
	/* Retransmission timeout (RFC 5681 §3.1 eq. 4, cwnd = 1 SMSS). */
	void (*on_rto)(struct tcp_conn *c, uint64_t now_us);
	/* Recovery ended with a full ACK: cwnd deflates (RFC 6582 §3.2 3). */
	void (*on_recovery_exit)(struct tcp_conn *c, uint64_t now_us);
};

extern const struct tcp_cc_ops tcp_cc_newreno;
extern const struct tcp_cc_ops tcp_cc_cubic;

const struct tcp_cc_ops *tcp_cc_get(uint32_t algo);

/* Shared by the algorithms: the flight size (RFC 5681 FlightSize) and the
 * RFC 5681 §3.1 eq. 4 bound. */
uint32_t tcp_cc_flight(const struct tcp_conn *c);
uint32_t tcp_cc_half_flight(const struct tcp_conn *c);
/* RFC 6582 §3.2 step 3 (1): cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS). */
void tcp_cc_exit_window(struct tcp_conn *c);
/* W_cubic(t) in bytes for t in 2^-10 s since the epoch (RFC 9438 eq. 1). */
uint64_t tcp_cubic_w(const struct tcp_cubic *cb, uint32_t mss, uint64_t t_fp);

#endif
