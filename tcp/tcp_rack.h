/* tcp_rack.h — RACK loss detection of the sender (RFC 8985 §6), for
 * connections with SACK: a segment is lost when a segment sent
 * sufficiently later has been delivered (time, not duplicate-ACK counts),
 * so reordering shorter than the reordering window costs no
 * retransmission, and a lost retransmission is found like any other loss
 * instead of waiting for the RTO. Send times are kept in bounded rings
 * per connection (no per-segment records): original transmissions as
 * "data below SEQ left at or before T" marks, retransmissions as ranges. */
#ifndef TCP_RACK_H
#define TCP_RACK_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_RACK_MARKS 32          /* original-send time marks kept */
#define TCP_RACK_RXTS  8           /* retransmission time ranges kept */

/* Data in (previous mark's seq, seq] was first sent between t0 and t
 * (sends within srtt/16 of each other share a mark; a mark that falls out
 * of the ring leaves its data and its t0 to the next one). A candidate
 * for loss is dated by t (its latest possible send), the delivered
 * segment that RACK.rtt is measured from by t0 (its earliest): so the
 * marks can delay a loss decision by at most srtt/16, never hasten it,
 * and never shrink min_RTT and the reordering window (RFC 8985 §6.2). */
struct tcp_rack_mark {
	uint32_t seq;
	uint32_t t;                /* engine microseconds, low 32 bits */
	uint32_t t0;               /* the first send of the mark */
};

struct tcp_rack_rxt {
	uint32_t start, end;       /* [start, end) resent at t */
	uint32_t t;
};

struct tcp_rack {
	struct tcp_rack_mark o[TCP_RACK_MARKS];  /* ring, oldest at o_head */
	struct tcp_rack_rxt r[TCP_RACK_RXTS];    /* ring, oldest at r_head */
	uint8_t o_head, o_n, r_head, r_n;
	uint32_t o_first_t;        /* when the newest mark was started */
	bool valid;                /* xmit_t / end_seq describe a delivery */
	bool reord_seen;           /* RFC 8985 RACK.reordering_seen */
	uint8_t reo_mult;          /* RACK.reo_wnd_mult (§6.2 step 4) */
	uint8_t reo_persist;       /* RACK.reo_wnd_persist */
	bool dsack_round;          /* a D-SACK grew reo_mult this round */
	uint32_t dsack_round_end;  /* ... the round ends when SND.UNA passes it */
	uint32_t xmit_t;           /* RACK.xmit_ts: most recent send time of
				    * data delivered (us, low 32 bits) */
	uint32_t end_seq;          /* RACK.end_seq */
	uint32_t rtt_us;           /* RACK.rtt */
	uint32_t min_rtt_us;       /* smallest RACK.rtt / RTT sample, 0 = none */
	uint32_t fack;             /* RACK.fack: highest byte delivered */
	bool fack_ok;
	/* From the last tcp_rack_detect(): original data below lost_end is
	 * lost; a send at time t of data ending at e is lost when
	 * lost_at(t, e) (cut_t: the latest time that is, xmit_t / end_seq
	 * its tie). */
	uint32_t lost_end;
	uint32_t cut_t;
	bool cut_ok;               /* some send can be lost (RACK valid) */
};

struct tcp_engine;
struct tcp_conn;

void tcp_rack_init(struct tcp_conn *c);
/* New data [.., end) left now (tcp_output). */
void tcp_rack_sent(struct tcp_engine *eng, struct tcp_conn *c, uint32_t end);
/* [start, end) was sent again now. */
void tcp_rack_resent(struct tcp_engine *eng, struct tcp_conn *c,
		     uint32_t start, uint32_t end);
/* Forget what a timeout or a new connection state made meaningless. */
void tcp_rack_forget_resends(struct tcp_conn *c);
/* Bytes [s, e) were delivered by this ACK (cumulatively or by SACK), not
 * before; fack_before: the highest byte delivered before this ACK.
 * Updates RACK.xmit_ts/end_seq/rtt and RACK.reordering_seen (§6.2 steps
 * 1-3). */
void tcp_rack_delivered(struct tcp_engine *eng, struct tcp_conn *c,
			uint32_t s, uint32_t e, uint32_t fack_before,
			uint32_t ts_ecr);
/* A D-SACK reported [s, e) received twice (§6.2 step 4). */
void tcp_rack_dsack(struct tcp_conn *c, uint32_t s, uint32_t e);
/* §6.2 step 5: recomputes what is lost now and arms the reordering timer
 * (§6.3) for what would become lost later. True: something is lost. */
bool tcp_rack_detect(struct tcp_engine *eng, struct tcp_conn *c);
/* An RTT sample of the connection (RFC 6298's too): RACK's min_RTT. */
void tcp_rack_rtt(struct tcp_conn *c, uint32_t rtt_us);
/* After a recovery episode ended (§6.2 step 4: reo_wnd_persist). */
void tcp_rack_recovery_done(struct tcp_conn *c);
/* Was byte s resent: when (the newest resend) and where that resend
 * ended (end may be NULL). */
bool tcp_rack_resent_at(const struct tcp_conn *c, uint32_t s, uint32_t *t,
			uint32_t *end);
/* Is the send at time t of data ending at e lost (after tcp_rack_detect)? */
bool tcp_rack_lost_at(const struct tcp_conn *c, uint32_t t, uint32_t e);
/* The reordering timer expired (timer slot shared with the TLP). */
void tcp_rack_timeout(struct tcp_engine *eng, struct tcp_conn *c);

#endif
