/* tcp_sack.c — the SACK scoreboard of the sender (RFC 6675), bounded per
 * connection: TCP_SACK_MAX_RANGES disjoint ranges, sorted. Forgetting the
 * highest range when full is safe: that data is merely resent. */
#include "tcp_internal.h"

void tcp_sack_clear(struct tcp_conn *c)
{
	c->sb.n = 0;
	c->sb.sacked = 0;
	c->sb.high_rxt = c->snd_una;
}

static void sb_recount(struct tcp_scoreboard *sb)
{
	uint32_t i, sum = 0;

	for (i = 0; i < sb->n; i++)
		sum += sb->r[i].end - sb->r[i].start;
	sb->sacked = sum;
}

/* Merges [s, e) into the sorted array. */
static void sb_insert(struct tcp_scoreboard *sb, uint32_t s, uint32_t e)
{
	uint32_t i = 0, j;

	while (i < sb->n && seq_lt(sb->r[i].end, s))
		i++;
	/* r[i] is the first range that ends at or after s. */
	if (i < sb->n && seq_leq(sb->r[i].start, e)) {
		sb->r[i].start = seq_min(sb->r[i].start, s);
		sb->r[i].end = seq_max(sb->r[i].end, e);
		/* swallow successors it now reaches */
		j = i + 1;
		while (j < sb->n && seq_leq(sb->r[j].start, sb->r[i].end)) {
			sb->r[i].end = seq_max(sb->r[i].end, sb->r[j].end);
			j++;
		}
		if (j > i + 1) {
			memmove(&sb->r[i + 1], &sb->r[j],
				(sb->n - j) * sizeof(sb->r[0]));
			sb->n = (uint8_t)(sb->n - (j - i - 1));
		}
		return;
	}
	if (sb->n == TCP_SACK_MAX_RANGES) {
		if (i == sb->n)
			return;                 /* the highest: not kept */
		sb->n--;                        /* forget the highest */
	}
	memmove(&sb->r[i + 1], &sb->r[i], (sb->n - i) * sizeof(sb->r[0]));
	sb->r[i].start = s;
	sb->r[i].end = e;
	sb->n++;
}

bool tcp_sack_update(struct tcp_engine *eng, struct tcp_conn *c,
		     const struct tcp_sack_block *b, unsigned int nb,
		     uint32_t ack, bool *dsack)
{
	uint32_t before = c->sb.sacked, i;

	*dsack = false;
	if (nb == 0)
		return false;
	/* RFC 2883 §4: a first block below the cumulative ACK, or inside the
	 * second block, reports a duplicate — never a loss (RFC 6675 §4). */
	if (seq_leq(b[0].end, ack) ||
	    (nb > 1 && seq_geq(b[0].start, b[1].start) &&
	     seq_leq(b[0].end, b[1].end))) {
		eng->stats.rx_dsack++;
		*dsack = true;
		b++;
		nb--;
	}
	for (i = 0; i < nb; i++) {
		uint32_t s = b[i].start, e = b[i].end;

		if (!seq_lt(s, e) || seq_leq(e, c->snd_una) ||
		    seq_gt(e, c->snd_max))
			continue;               /* bogus or old: ignored */
		s = seq_max(s, c->snd_una);
		sb_insert(&c->sb, s, e);
	}
	sb_recount(&c->sb);
	return c->sb.sacked > before;
}

void tcp_sack_trim(struct tcp_conn *c)
{
	struct tcp_scoreboard *sb = &c->sb;
	uint32_t i = 0;

	if (seq_lt(sb->high_rxt, c->snd_una))
		sb->high_rxt = c->snd_una;
	if (sb->n == 0)
		return;
	while (i < sb->n && seq_leq(sb->r[i].end, c->snd_una))
		i++;
	if (i > 0) {
		memmove(&sb->r[0], &sb->r[i], (sb->n - i) * sizeof(sb->r[0]));
		sb->n = (uint8_t)(sb->n - i);
	}
	if (sb->n > 0 && seq_lt(sb->r[0].start, c->snd_una))
		sb->r[0].start = c->snd_una;
	sb_recount(sb);
}

/* RFC 6675 §4 IsLost: DupThresh discontiguous SACKed sequences above seq,
 * or more than (DupThresh - 1) * SMSS bytes SACKed above it. */
bool tcp_sack_is_lost(const struct tcp_conn *c, uint32_t seq)
{
	const struct tcp_scoreboard *sb = &c->sb;
	uint32_t bytes = 0, ranges = 0, i;

	for (i = sb->n; i-- > 0;) {
		if (seq_leq(sb->r[i].end, seq))
			break;
		bytes += sb->r[i].end - seq_max(sb->r[i].start, seq);
		ranges++;
	}
	return ranges >= TCP_DUPTHRESH ||
	       bytes > (TCP_DUPTHRESH - 1) * c->snd_mss;
}

/* The next SMSS chunk of a hole at or after *s, [*s, *e), below SND.MAX;
 * *i is the first range not yet passed. */
static bool hole_chunk(const struct tcp_conn *c, uint32_t *s, uint32_t *e,
		       uint32_t *i)
{
	while (*i < c->sb.n && seq_geq(*s, c->sb.r[*i].start)) {
		*s = seq_max(*s, c->sb.r[*i].end);
		(*i)++;
	}
	if (!seq_lt(*s, c->snd_max))
		return false;
	*e = seq_min(*s + c->snd_mss,
		     *i < c->sb.n ? c->sb.r[*i].start : c->snd_max);
	return true;
}

uint32_t tcp_sack_pipe(const struct tcp_conn *c)
{
	uint32_t s, e, i, pipe = 0;

	for (s = c->snd_una, i = 0; hole_chunk(c, &s, &e, &i); s = e) {
		if (!tcp_sack_is_lost(c, s))
			pipe += e - s;
		if (seq_lt(s, c->sb.high_rxt))
			pipe += e - s;
	}
	return pipe;
}

uint32_t tcp_sack_skip(const struct tcp_conn *c, uint32_t seq, uint32_t *lim)
{
	uint32_t i;

	*lim = UINT32_MAX;
	for (i = 0; i < c->sb.n; i++) {
		if (seq_lt(seq, c->sb.r[i].start)) {
			*lim = c->sb.r[i].start - seq;
			break;
		}
		if (seq_lt(seq, c->sb.r[i].end))
			seq = c->sb.r[i].end;
	}
	return seq;
}

bool tcp_sack_next_hole(const struct tcp_conn *c, bool rule3, uint32_t *seq,
			uint32_t *len)
{
	uint32_t s, e, i;
	uint32_t high_sacked = c->sb.n ? c->sb.r[c->sb.n - 1].end : c->snd_una;

	for (s = c->snd_una, i = 0; hole_chunk(c, &s, &e, &i); s = e) {
		if (seq_geq(s, c->sb.high_rxt) && seq_lt(s, high_sacked) &&
		    (rule3 || tcp_sack_is_lost(c, s))) {
			*seq = s;
			*len = e - s;
			return true;
		}
	}
	return false;
}
