/* t_common.h — building blocks shared by the tests: a default simulation,
 * a connected engine pair, a raw peer handshaking with an engine. */
#ifndef DPT_TEST_COMMON_H
#define DPT_TEST_COMMON_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sim.h"

#define SRV_PORT 80

/* Two engines, default options. */
struct sim *mk_sim(void);
/* Engine A only; B's address is the raw peer. */
struct sim *mk_sim_raw(void);
/* Applies o (after sim_opts_default + caller changes). */
struct sim *mk_sim_opts(const struct sim_opts *o);

/* A listens on SRV_PORT (the listener is reused if there is one), B connects; both ESTABLISHED on return. */
void pair_connect(struct sim *s, struct sim_conn **client_b, struct sim_conn **server_a);
/* Two engines with default options but a one-way latency of latency_us,
 * B connected to A by pair_connect(); fails unless both agreed on SACK and
 * timestamps (what the loss-recovery tests rely on). */
struct sim *mk_pair_latency(uint32_t latency_us, struct sim_conn **client_b,
			    struct sim_conn **server_a);

/* The raw peer opens a connection to a listener on the engine:
 * SYN(isn, mss) → expects SYN-ACK (ack = isn+1) → ACK. mss 0 = no option.
 * Fills rp->iss/irs/snd_nxt/rcv_nxt; returns the SYN-ACK. */
struct sim_seg raw_handshake(struct raw_peer *rp, uint32_t isn, int mss);

/* Engine A connects to the raw peer's port; the peer answers with SYN-ACK
 * (isn, mss) after delay_ms. Returns the engine's handle; rp is filled. */
/* Engine A listening on SRV_PORT, passively connected to the raw peer
 * 40000 (ISN isn, MSS 1460); o NULL = mk_sim_raw(). */
struct sim_conn *raw_established(struct sim **sp, struct raw_peer *rp, uint32_t isn,
				 const struct sim_opts *o, bool auto_read);
struct sim_conn *raw_accept(struct sim *s, struct raw_peer *rp, uint16_t port, uint32_t isn,
			    int mss, uint32_t delay_ms);

/* Raw peer sends data at rp->snd_nxt (advancing it). */
void raw_data(struct raw_peer *rp, const void *data, uint16_t len);
/* Raw peer acks everything received so far (rp->rcv_nxt). */
void raw_ack(struct raw_peer *rp);

/* Compare received bytes with sim_fill_pattern(seed). */
void check_pattern(const char *file, int line, const uint8_t *got, size_t len, uint32_t seed);
#define CHECK_PATTERN(got, len, seed) check_pattern(__FILE__, __LINE__, got, len, seed)

/* Copy of the next traced segment from `from` at or after *pos (fails if none). */
struct sim_seg next_seg(const char *file, int line, struct sim *s, unsigned int *pos, int from);
#define NEXT_SEG(s, pos, from) next_seg(__FILE__, __LINE__, (s), (pos), (from))
/* Fails if any segment from `from` was traced at or after *pos. */
void no_seg(const char *file, int line, struct sim *s, unsigned int pos, int from);
#define NO_SEG(s, pos, from) no_seg(__FILE__, __LINE__, (s), (pos), (from))

/* Options of a raw peer's segment (written in Linux's layout). */
struct raw_opts {
	int mss;                     /* 0: none */
	int ws;                      /* -1: none */
	bool sack_ok;
	bool ts;
	uint32_t tsval, tsecr;
	unsigned int nsack;
	uint32_t sack[4][2];
};
#define RAW_OPTS_NONE ((struct raw_opts){ .ws = -1 })
/* Like raw_send, with options o. */
void raw_send_o(struct raw_peer *rp, uint8_t flags, uint32_t seq, uint32_t ack,
		const void *data, uint16_t len, const struct raw_opts *o);
/* raw_handshake with SYN options o; returns the SYN-ACK. The ACK carries
 * TSopt (tsval o->tsval + 1, echoing the SYN-ACK's) when both SYNs had it. */
struct sim_seg raw_handshake_o(struct raw_peer *rp, uint32_t isn, const struct raw_opts *o);

#define CHECK_STAT(s, node, name, exp) CHECK_EQ((exp), sim_stats((s), (node))->name)

#endif
