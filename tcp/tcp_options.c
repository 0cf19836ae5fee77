/* tcp_options.c — TCP option parsing and the options we send on SYNs
 * (RFC 9293 §3.2; MSS §3.7.1). Malformed options are counted and parsing
 * stops; the segment itself is still processed. */
#include "tcp_internal.h"

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
		case 8:
			if (olen == 10) {
				o->has_ts = true;
				o->ts_val = rte_be_to_cpu_32(*(const unaligned_uint32_t *)&p[i + 2]);
				o->ts_ecr = rte_be_to_cpu_32(*(const unaligned_uint32_t *)&p[i + 6]);
			}
			break;
		default:
			break;
		}
		i += olen;
	}
}

/* MSS only, until window scaling, SACK and timestamps arrive (issue 6). */
uint32_t tcp_write_syn_options(const struct tcp_engine *eng, uint8_t *p)
{
	p[0] = 2;
	p[1] = 4;
	p[2] = (uint8_t)(eng->our_mss >> 8);
	p[3] = (uint8_t)eng->our_mss;
	return 4;
}

/* RFC 2018 §3: the SACK option's blocks, in the order received (the first
 * is the most recent, RFC 2018 §4; a D-SACK comes first, RFC 2883 §4).
 * Kept apart from tcp_parse_options() so that the sender's loss recovery
 * reads blocks without anything else depending on them; malformed options
 * were counted there. */
unsigned int tcp_opt_sack_blocks(const struct tcp_seg *seg,
				 struct tcp_sack_block out[TCP_SACK_MAX_BLOCKS])
{
	const uint8_t *p = (const uint8_t *)(seg->th + 1);
	uint32_t len = (uint32_t)(seg->th->data_off >> 4) * 4 -
		       sizeof(struct rte_tcp_hdr);
	uint32_t i = 0, n = 0, k;

	while (i < len) {
		uint8_t kind = p[i], olen;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || (olen = p[i + 1]) < 2 || i + olen > len)
			break;
		if (kind == 5 && olen >= 10 && (olen - 2) % 8 == 0) {
			for (k = i + 2; k + 8 <= i + olen &&
			     n < TCP_SACK_MAX_BLOCKS; k += 8, n++) {
				out[n].start = rte_be_to_cpu_32(
					*(const unaligned_uint32_t *)&p[k]);
				out[n].end = rte_be_to_cpu_32(
					*(const unaligned_uint32_t *)&p[k + 4]);
			}
			break;
		}
		i += olen;
	}
	return n;
}
