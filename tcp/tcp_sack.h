/* tcp_sack.h — the sender's SACK scoreboard (RFC 6675 §3-4): the ranges
 * above SND.UNA the peer reported received, in a small fixed array per
 * connection (no allocation per ACK), with the pipe estimate and
 * NextSeg()'s hole rule; which holes are lost is RACK's (tcp_rack.h). */
#ifndef TCP_SACK_H
#define TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_SACK_MAX_RANGES 8      /* ranges kept; beyond, the highest goes */
#define TCP_SACK_MAX_BLOCKS 4      /* blocks one SACK option can carry */
#define TCP_DUPTHRESH       3      /* RFC 5681 §3.2, RFC 6675 DupThresh */
#define TCP_SACK_NEW_MAX    8      /* newly SACKed pieces one ACK reports */

struct tcp_sack_block {
	uint32_t start, end;       /* [start, end) */
};

struct tcp_scoreboard {
	struct tcp_sack_block r[TCP_SACK_MAX_RANGES];  /* sorted, disjoint */
	uint8_t n;
	uint32_t sacked;           /* bytes in r[] */
	uint32_t high_rxt;         /* RFC 6675 HighRxt (exclusive) */
};

struct tcp_engine;
struct tcp_conn;

void tcp_sack_clear(struct tcp_conn *c);
/* Records the blocks of one ACK (after D-SACK detection, RFC 2883 §4:
 * *dsack, the block stays b[0]): returns true when they SACKed bytes not
 * SACKed before, which newp[0..*nnew) lists (at most TCP_SACK_NEW_MAX). */
bool tcp_sack_update(struct tcp_engine *eng, struct tcp_conn *c,
		     const struct tcp_sack_block *b, unsigned int nb,
		     uint32_t ack, bool *dsack, struct tcp_sack_block *newp,
		     unsigned int *nnew);
/* The cumulative ACK moved SND.UNA from prev_una to una: [prev_una, the
 * result) holds what it delivered that no range had SACKed before (call
 * before tcp_sack_trim()). */
uint32_t tcp_sack_delivered_end(const struct tcp_conn *c, uint32_t prev_una,
				uint32_t una);
/* Forgets what SND.UNA passed. */
void tcp_sack_trim(struct tcp_conn *c);
/* RFC 6675 §4 SetPipe(): bytes the sender believes are in the network. */
uint32_t tcp_sack_pipe(const struct tcp_conn *c);
/* RFC 6675 §5.1: resending after an RTO, skip what the peer SACKed since.
 * Returns seq, moved past any SACKed range holding it; *lim: the bytes
 * from there to the next SACKed range (UINT32_MAX: none). */
uint32_t tcp_sack_skip(const struct tcp_conn *c, uint32_t seq, uint32_t *lim);
/* RFC 6675 §4 NextSeg() rule (1) (rule 2, new data, is the output's; no
 * rule 3, see tcp_sack_output()): the lowest hole RACK holds lost, lost
 * resends included, at most *len bytes of it. */
bool tcp_sack_next_hole(const struct tcp_conn *c, uint32_t *seq,
			uint32_t *len);

#endif
