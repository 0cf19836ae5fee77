/* tcp_sack.c — the SACK scoreboard of the sender (RFC 6675), bounded per
 * connection: TCP_SACK_MAX_RANGES disjoint ranges, sorted. Forgetting the
 * highest range when full is safe: that data is merely resent. What in
 * the holes is lost is RACK's verdict (tcp_rack.c, RFC 8985), not
 * RFC 6675's duplicate-ACK threshold. */
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

/* Appends to out the parts of [s, e) that no range covers yet. */
static void sb_uncovered(const struct tcp_scoreboard *sb, uint32_t s,
			 uint32_t e, struct tcp_sack_block *out,
			 unsigned int *n, unsigned int max)
{
	uint32_t i;

	for (i = 0; i < sb->n && seq_lt(s, e); i++) {
		if (seq_leq(sb->r[i].end, s))
			continue;
		if (seq_leq(e, sb->r[i].start))
			break;
		if (seq_lt(s, sb->r[i].start) && *n < max)
			out[(*n)++] = (struct tcp_sack_block){ s, sb->r[i].start };
		s = seq_max(s, sb->r[i].end);
	}
	if (seq_lt(s, e) && *n < max)
		out[(*n)++] = (struct tcp_sack_block){ s, e };
}

bool tcp_sack_update(struct tcp_engine *eng, struct tcp_conn *c,
		     const struct tcp_sack_block *b, unsigned int nb,
		     uint32_t ack, bool *dsack, struct tcp_sack_block *newp,
		     unsigned int *nnew)
{
	uint32_t before = c->sb.sacked, i;

	*dsack = false;
	*nnew = 0;
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
		sb_uncovered(&c->sb, s, e, newp, nnew, TCP_SACK_NEW_MAX);
		sb_insert(&c->sb, s, e);
	}
	sb_recount(&c->sb);
	return c->sb.sacked > before;
}

uint32_t tcp_sack_delivered_end(const struct tcp_conn *c, uint32_t prev_una,
				uint32_t una)
{
	uint32_t e = una, i;

	/* the ranges below the new SND.UNA were delivered before */
	for (i = c->sb.n; i-- > 0;) {
		if (seq_leq(c->sb.r[i].start, prev_una))
			break;
		if (seq_lt(c->sb.r[i].start, e) && seq_geq(c->sb.r[i].end, e))
			e = c->sb.r[i].start;
	}
	return seq_gt(e, prev_una) ? e : prev_una;
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

/* The next hole at or after *s: [*s, *e) up to the next range or
 * SND.MAX; *i is the first range not yet passed. */
static bool next_hole(const struct tcp_conn *c, uint32_t *s, uint32_t *e,
		      uint32_t *i)
{
	while (*i < c->sb.n && seq_geq(*s, c->sb.r[*i].start)) {
		*s = seq_max(*s, c->sb.r[*i].end);
		(*i)++;
	}
	if (!seq_lt(*s, c->snd_max))
		return false;
	*e = *i < c->sb.n ? c->sb.r[*i].start : c->snd_max;
	return true;
}

/* A resent piece of a hole, [x, *ce) below rx_end: whether RACK holds
 * its resend lost; a piece whose resend record is gone counts as in
 * flight (the RTO still covers it). */
static bool resent_piece_lost(const struct tcp_conn *c, uint32_t x,
			      uint32_t rx_end, uint32_t *ce)
{
	uint32_t t, end;

	if (tcp_rack_resent_at(c, x, &t, &end)) {
		*ce = seq_min(end, rx_end);
		return tcp_rack_lost_at(c, t, end);
	}
	*ce = seq_min(x + c->snd_mss, rx_end);
	return false;
}

/* RFC 6675 §4 SetPipe() as Linux counts it: every byte sent and neither
 * SACKed nor lost, plus resends not lost. Below HighRxt a hole was
 * resent (its original counts as lost); above it, original data is lost
 * below RACK's lost_end. */
uint32_t tcp_sack_pipe(const struct tcp_conn *c)
{
	uint32_t s = c->snd_una, e, i = 0, pipe = 0;
	uint32_t high_rxt = c->sb.high_rxt, lost_end = c->rack.lost_end;

	for (; next_hole(c, &s, &e, &i); s = e) {
		uint32_t rx_end = seq_min(e, high_rxt), x = s, ce, lo;

		for (; seq_lt(x, rx_end); x = ce)
			if (!resent_piece_lost(c, x, rx_end, &ce))
				pipe += ce - x;
		lo = seq_max(s, high_rxt);
		if (seq_lt(lo, e))
			pipe += e - seq_max(lo, seq_min(e, seq_max(lo, lost_end)));
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

bool tcp_sack_next_hole(const struct tcp_conn *c, uint32_t *seq,
			uint32_t *len)
{
	uint32_t s = c->snd_una, e, i = 0;
	uint32_t high_rxt = c->sb.high_rxt, lost_end = c->rack.lost_end;

	for (; next_hole(c, &s, &e, &i); s = e) {
		uint32_t rx_end = seq_min(e, high_rxt), x = s, ce, lo;

		/* a lost resend goes again (RFC 8985 §6.2) */
		for (; seq_lt(x, rx_end); x = ce) {
			if (resent_piece_lost(c, x, rx_end, &ce)) {
				*seq = x;
				*len = RTE_MIN(ce - x, c->snd_mss);
				return true;
			}
		}
		/* lost original data */
		lo = seq_max(s, high_rxt);
		if (seq_lt(lo, e) && seq_lt(lo, lost_end)) {
			*seq = lo;
			*len = RTE_MIN(e - lo, c->snd_mss);
			return true;
		}
	}
	return false;
}
