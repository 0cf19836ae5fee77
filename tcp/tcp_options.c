/* tcp_options.c — TCP options: parsing (RFC 9293 §3.2), what our segments
 * carry (MSS §3.7.1; window scale and timestamps, RFC 7323; SACK-permitted
 * and SACK blocks, RFC 2018) and the negotiation on the SYNs. Malformed
 * options are counted and parsing stops; the segment itself is still
 * processed. */
#include "tcp_internal.h"

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RFC 2018 §3: kind 5, length 2 + 8n, n = 1..4. The blocks are kept as
 * sent; tcp_input.c validates them against the connection. */
static void parse_sack(struct tcp_engine *eng, const uint8_t *p,
		       uint8_t olen, struct tcp_opts *o)
{
	uint32_t n = (uint32_t)(olen - 2) / 8, i;

	if ((olen - 2) % 8 != 0 || n == 0 || n > TCP_SACK_MAX) {
		eng->stats.rx_bad_opts++;
		return;
	}
	for (i = 0; i < n; i++) {
		o->sack[i].start = rd32(p + 2 + 8 * i);
		o->sack[i].end = rd32(p + 6 + 8 * i);
	}
	o->nsack = (uint8_t)n;
}

void tcp_parse_options(struct tcp_engine *eng, const uint8_t *p,
		       uint32_t len, struct tcp_opts *o)
{
	uint32_t i = 0;

	while (i < len) {
		uint8_t kind = p[i];
		uint8_t olen;

		if (kind == 0)
			break;                  /* End of Option List */
		if (kind == 1) {
			i++;                    /* NOP */
			continue;
		}
		if (i + 1 >= len || (olen = p[i + 1]) < 2 || i + olen > len) {
			eng->stats.rx_bad_opts++;
			return;
		}
		switch (kind) {
		case 2:
			if (olen == 4)
				o->mss = (uint16_t)(p[i + 2] << 8 | p[i + 3]);
			else
				eng->stats.rx_bad_opts++;
			break;
		case 3:
			if (olen == 3) {
				o->has_ws = true;
				o->ws = p[i + 2];
			}
			break;
		case 4:
			o->sack_ok = (olen == 2);
			break;
		case 5:
			parse_sack(eng, p + i, olen, o);
			break;
		case 8:
			if (olen == 10) {
				o->has_ts = true;
				o->ts_val = rd32(p + i + 2);
				o->ts_ecr = rd32(p + i + 6);
			}
			break;
		default:
			break;
		}
		i += olen;
	}
}

/* Linux's layouts, every option 4-byte aligned:
 *   SYN:  MSS | SACKOK,TS (or NOP,NOP,TS, or NOP,NOP,SACKOK) | NOP,WS
 *   else: NOP,NOP,TS | NOP,NOP,SACK(n)
 * At most 40 bytes: 12 + 4 + 8*3 with timestamps, 4 + 8*4 without. */
uint32_t tcp_write_options(const struct tcp_optspec *o, uint8_t *p)
{
	uint32_t k = 0, i;

	if (o->mss) {
		p[k++] = 2;
		p[k++] = 4;
		p[k++] = (uint8_t)(o->mss >> 8);
		p[k++] = (uint8_t)o->mss;
	}
	if (o->has_ts) {
		if (o->sack_ok) {
			p[k++] = 4;
			p[k++] = 2;
		} else {
			p[k++] = 1;
			p[k++] = 1;
		}
		p[k++] = 8;
		p[k++] = 10;
		wr32(p + k, o->ts_val);
		wr32(p + k + 4, o->ts_ecr);
		k += 8;
	} else if (o->sack_ok) {
		p[k++] = 1;
		p[k++] = 1;
		p[k++] = 4;
		p[k++] = 2;
	}
	if (o->has_ws) {
		p[k++] = 1;
		p[k++] = 3;
		p[k++] = 3;
		p[k++] = o->ws;
	}
	if (o->nsack) {
		p[k++] = 1;
		p[k++] = 1;
		p[k++] = 5;
		p[k++] = (uint8_t)(2 + 8 * o->nsack);
		for (i = 0; i < o->nsack; i++) {
			wr32(p + k, o->sack[i].start);
			wr32(p + k + 4, o->sack[i].end);
			k += 8;
		}
	}
	return k;
}

/* RFC 7323 §2.3: the smallest shift that lets the 16-bit field offer the
 * whole receive buffer, at most 14. */
uint8_t tcp_wscale_for(uint32_t rcv_buf)
{
	uint8_t s = 0;

	while (s < TCP_MAX_WSCALE && (rcv_buf >> s) > TCP_MAX_WIN)
		s++;
	return s;
}

/* RFC 7323 §5.4 / §7.1: a random offset for the timestamp clock, the same
 * for every connection between two addresses (as Linux), so that the
 * TSvals of successive incarnations of a 4-tuple still grow (RFC 6191). */
uint32_t tcp_ts_offset(const struct tcp_engine *eng, uint32_t lip,
		       uint32_t rip)
{
	uint64_t m[2] = { ((uint64_t)lip << 32) | rip, 0x7473ull << 48 };

	return (uint32_t)tcp_siphash(eng->isn_key, m, 2);
}

/* What our SYN (active open: all we are configured for) or SYN-ACK (what
 * was negotiated from the peer's SYN, RFC 7323 §2.2/§3.2, RFC 2018 §2)
 * carries. */
void tcp_syn_optspec(const struct tcp_engine *eng, const struct tcp_conn *c,
		     struct tcp_optspec *o)
{
	bool active = c->state == DPT_SYN_SENT;

	*o = (struct tcp_optspec){ .mss = eng->our_mss };
	if (active ? eng->cfg.window_scaling != 0 : c->ws_ok) {
		o->has_ws = true;
		o->ws = c->rcv_wscale;
	}
	o->sack_ok = active ? eng->cfg.sack != 0 : c->sack_ok;
	if (active ? eng->cfg.timestamps != 0 : c->ts_ok) {
		o->has_ts = true;
		o->ts_val = tcp_ts_now(eng, c->ts_offset);
		o->ts_ecr = active && !c->ts_ok ? 0 : c->ts_recent;
	}
}

/* The peer's SYN (or SYN-ACK) decides: an option is on when we are
 * configured for it and the peer's SYN carried it (RFC 7323 §2.2, §3.2;
 * RFC 2018 §2). A passive open sends back exactly these. */
void tcp_opts_negotiate(struct tcp_engine *eng, struct tcp_conn *c,
			const struct tcp_opts *syn)
{
	c->ws_ok = eng->cfg.window_scaling && syn->has_ws;
	if (c->ws_ok) {
		/* RFC 7323 §2.3: a shift above 14 is taken as 14. */
		if (syn->ws > TCP_MAX_WSCALE)
			eng->stats.rx_wscale_clamped++;
		c->snd_wscale = RTE_MIN(syn->ws, (uint8_t)TCP_MAX_WSCALE);
	} else {
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
	}
	c->sack_ok = eng->cfg.sack && syn->sack_ok;
	c->ts_ok = eng->cfg.timestamps && syn->has_ts;
	if (c->ts_ok) {
		c->ts_recent = syn->ts_val;
		c->ts_recent_ms = eng->now_ms;
	}
}

/* RFC 2018 §3: the SACK option's blocks, in the order received (the first
 * is the most recent, RFC 2018 §4; a D-SACK comes first, RFC 2883 §4), as
 * tcp_segment_arrives() left them in seg->opts (see struct tcp_opts):
 * parsed with the other options, blocks outside SND.UNA..SND.MAX dropped
 * (a D-SACK first block kept), none unless SACK was negotiated. */
unsigned int tcp_opt_sack_blocks(const struct tcp_seg *seg,
				 struct tcp_sack_block out[TCP_SACK_MAX_BLOCKS])
{
	unsigned int i;

	for (i = 0; i < seg->opts.nsack; i++)
		out[i] = seg->opts.sack[i];
	return seg->opts.nsack;
}
