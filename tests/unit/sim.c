/* sim.c — the simulated wire: EAL setup, engine pair, virtual time,
 * segment parsing/validation/trace, filter and impairment, raw inbox,
 * packet builder, and the application records fed by dpt_event_fn. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_random.h>

#include "check.h"
#include "sim.h"

#define CONN_MAGIC 0xC0AA0001u
#define LISTENER_MAGIC 0x1157E4E7u
#define SIM_BURST 32
#define SIM_MAX_ROUNDS 200000
#define POOL_MBUFS 4095
#define POOL_DATAROOM RTE_MBUF_DEFAULT_BUF_SIZE

struct sim_wire_ent {
	struct rte_mbuf *m;
	uint64_t due_us;
	int from;
	bool released;
};

/* ------------------------------------------------------------------ EAL */

static char eal_runtime_dir[512];

/* --no-shconf still makes an empty runtime dir: remove ours at exit (a
 * passed or failed test), on a fatal or terminating signal (check.c) and
 * when rte_eal_init() fails after making it. rmdir() is async-signal-safe. */
void sim_eal_cleanup(void)
{
	if (eal_runtime_dir[0] != '\0')
		rmdir(eal_runtime_dir);
}

int sim_eal_init(const char *argv0)
{
	char pfx[64];
	char *argv[16];
	int argc = 0;

	snprintf(pfx, sizeof(pfx), "--file-prefix=dptu%d", (int)getpid());
	argv[argc++] = (char *)argv0;
	argv[argc++] = (char *)"--no-huge";
	argv[argc++] = (char *)"-m";
	argv[argc++] = (char *)"512";
	argv[argc++] = (char *)"--no-pci";
	argv[argc++] = (char *)"--no-shconf";
	argv[argc++] = pfx;
	argv[argc++] = (char *)"-l";
	argv[argc++] = (char *)"0";
	argv[argc++] = (char *)"--log-level=lib.*:error";
	argv[argc++] = (char *)"--no-telemetry"; /* its socket would outlive our rmdir */
	argv[argc] = NULL;
	atexit(sim_eal_cleanup);
	int r = rte_eal_init(argc, argv);
	int err = rte_errno;
	/* Our --file-prefix is our PID: the directory (if init got as far as
	 * making it) is this process's own, also when init failed. */
	snprintf(eal_runtime_dir, sizeof(eal_runtime_dir), "%s",
		 rte_eal_get_runtime_dir());
	if (r < 0)
		return -err;
	/* Deterministic runs: the engines' random ISN keys and ephemeral
	 * ports come from rte_rand(). DPT_SEED=n explores other seeds. */
	const char *seed = getenv("DPT_SEED");
	rte_srand(seed ? strtoull(seed, NULL, 0) : 0x5eedULL);
	return 0;
}

/* -------------------------------------------------------------- helpers */

static uint32_t csum_add(const void *p, size_t n, uint32_t s)
{
	const uint8_t *b = p;
	while (n > 1) {
		s += (uint32_t)(b[0] << 8 | b[1]);
		b += 2;
		n -= 2;
	}
	if (n)
		s += (uint32_t)b[0] << 8;
	return s;
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* TCP checksum over pseudo-header + segment; the segment's own checksum
 * field is included, so a correct segment sums to 0xffff. */
static uint16_t tcp_sum(const uint8_t *ip, const uint8_t *tcp, uint32_t tcplen)
{
	uint32_t s = csum_add(ip + 12, 8, 0);
	s += 6 + tcplen;
	s = csum_add(tcp, tcplen, s);
	return csum_fold(s);
}

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = (v >> 16) & 0xff; p[2] = (v >> 8) & 0xff; p[3] = v & 0xff;
}

static uint64_t rng_next(uint64_t *x)
{
	/* xorshift64* */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545F4914F6CDD1DULL;
}

void sim_fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
	uint64_t x = 0x9E3779B97F4A7C15ULL ^ seed;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(rng_next(&x) >> 56);
}

bool sim_parse(const uint8_t *ip, uint32_t len, struct sim_seg *g)
{
	memset(g, 0, sizeof(*g));
	g->mss = -1;
	g->wscale = -1;
	if (len < 20 || (ip[0] >> 4) != 4)
		return false;
	uint32_t ihl = (ip[0] & 0xf) * 4u;
	uint32_t tot = rd16(ip + 2);
	if (ihl < 20 || tot > len || tot < ihl + 20 || ip[9] != 6)
		return false;
	g->ip_csum_ok = csum_fold(csum_add(ip, ihl, 0)) == 0xffff;
	g->saddr = rd32(ip + 12);
	g->daddr = rd32(ip + 16);
	const uint8_t *t = ip + ihl;
	uint32_t tlen = tot - ihl;
	g->sport = rd16(t);
	g->dport = rd16(t + 2);
	g->seq = rd32(t + 4);
	g->ack = rd32(t + 8);
	g->doff = (uint8_t)((t[12] >> 4) * 4);
	g->flags = t[13];
	g->win = rd16(t + 14);
	g->urp = rd16(t + 18);
	g->tcp_csum_ok = tcp_sum(ip, t, tlen) == 0xffff;
	if (g->doff < 20 || g->doff > tlen)
		return false;
	g->len = (uint16_t)(tlen - g->doff);
	g->well_formed = true;
	/* options */
	const uint8_t *o = t + 20, *end = t + g->doff;
	while (o < end) {
		if (o[0] == 0)
			break;
		if (o[0] == 1) {
			o++;
			continue;
		}
		if (o + 1 >= end || o[1] < 2 || o + o[1] > end) {
			g->well_formed = false;
			break;
		}
		switch (o[0]) {
		case 2:
			if (o[1] == 4)
				g->mss = rd16(o + 2);
			break;
		case 3:
			if (o[1] == 3)
				g->wscale = o[2];
			break;
		case 4:
			g->sack_ok = true;
			break;
		case 5:
			for (unsigned int i = 0; i < (o[1] - 2u) / 8 && i < 4; i++) {
				g->sack[i][0] = rd32(o + 2 + 8 * i);
				g->sack[i][1] = rd32(o + 6 + 8 * i);
				g->nsack = (uint8_t)(i + 1);
			}
			break;
		case 8:
			if (o[1] == 10) {
				g->has_ts = true;
				g->tsval = rd32(o + 2);
				g->tsecr = rd32(o + 6);
			}
			break;
		default:
			break;
		}
		o += o[1];
	}
	return true;
}

const char *sim_flags_str(uint8_t f, char *buf)
{
	static const char *names[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
	buf[0] = '\0';
	for (int i = 0; i < 8; i++) {
		if (f & (1u << i)) {
			if (buf[0])
				strcat(buf, ",");
			strcat(buf, names[i]);
		}
	}
	if (!buf[0])
		strcpy(buf, "none");
	return buf;
}

static const char *node_name(int n)
{
	return n == SIM_A ? "A" : n == SIM_B ? "B" : "raw";
}

void sim_fmt_seg(const struct sim_seg *g, char *buf, size_t n)
{
	static const char *verd[] = {"", " [DROPPED]", " [HELD]", " [DUP]"};
	char fl[64], opt[256] = "";
	int k = 0;
	if (g->mss >= 0)
		k += snprintf(opt + k, sizeof(opt) - k, " mss=%d", g->mss);
	if (g->wscale >= 0)
		k += snprintf(opt + k, sizeof(opt) - k, " ws=%d", g->wscale);
	if (g->sack_ok)
		k += snprintf(opt + k, sizeof(opt) - k, " sackok");
	if (g->has_ts)
		k += snprintf(opt + k, sizeof(opt) - k, " ts=%u/%u", g->tsval, g->tsecr);
	for (unsigned int i = 0; i < g->nsack; i++)
		k += snprintf(opt + k, sizeof(opt) - k, "%s%u-%u", i ? "," : " sack=",
			      g->sack[i][0], g->sack[i][1]);
	snprintf(buf, n,
		 "#%u t=%" PRIu64 ".%03" PRIu64 "ms %s->%s %u.%u.%u.%u:%u > %u.%u.%u.%u:%u "
		 "[%s] seq=%u ack=%u win=%u len=%u%s%s%s%s",
		 g->idx, g->t_us / 1000, g->t_us % 1000, node_name(g->from), node_name(g->to),
		 g->saddr >> 24, (g->saddr >> 16) & 0xff, (g->saddr >> 8) & 0xff, g->saddr & 0xff,
		 g->sport, g->daddr >> 24, (g->daddr >> 16) & 0xff, (g->daddr >> 8) & 0xff,
		 g->daddr & 0xff, g->dport, sim_flags_str(g->flags, fl), g->seq, g->ack, g->win,
		 g->len, opt, g->tcp_csum_ok ? "" : " BADCSUM",
		 g->well_formed ? "" : " MALFORMED",
		 (g->verdict >= 0 && g->verdict <= 3) ? verd[g->verdict] : "");
}

void sim_dump_trace(const struct sim *s, unsigned int from_idx)
{
	char buf[512];
	for (unsigned int i = from_idx; i < s->ntrace; i++) {
		sim_fmt_seg(&s->trace[i], buf, sizeof(buf));
		fprintf(stderr, "  %s\n", buf);
	}
}

/* ------------------------------------------------------------ the wire */

static int route(const struct sim *s, uint32_t daddr)
{
	for (int i = 0; i < 2; i++)
		if (s->eng[i] != NULL && s->ip[i] == daddr)
			return i;
	return SIM_RAW;
}

static void wire_put(struct sim *s, struct rte_mbuf *m, int from, uint64_t due, bool released)
{
	if (s->nwire == s->capwire) {
		s->capwire = s->capwire ? s->capwire * 2 : 1024;
		s->wire = realloc(s->wire, s->capwire * sizeof(*s->wire));
		if (s->wire == NULL)
			check_fail(__FILE__, __LINE__, "out of memory");
	}
	s->wire[s->nwire++] = (struct sim_wire_ent){m, due, from, released};
}

static struct sim_seg *trace_add(struct sim *s)
{
	if (s->ntrace == s->captrace) {
		s->captrace = s->captrace ? s->captrace * 2 : 1024;
		s->trace = realloc(s->trace, s->captrace * sizeof(*s->trace));
		if (s->trace == NULL)
			check_fail(__FILE__, __LINE__, "out of memory");
	}
	struct sim_seg *g = &s->trace[s->ntrace];
	g->idx = s->ntrace++;
	return g;
}

/* A packet enters the wire: parse, validate (engine output only), log,
 * filter, impair, queue. */
static void wire_push(struct sim *s, struct rte_mbuf *m, int from)
{
	struct sim_seg g;
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	bool ok = sim_parse(ip, rte_pktmbuf_pkt_len(m), &g);
	g.from = from;
	g.to = route(s, g.daddr);
	g.t_us = s->now_us;
	g.verdict = SIM_PASS;
	struct sim_seg *tg = trace_add(s);
	unsigned int idx = tg->idx;
	*tg = g;
	tg->idx = idx;
	if (from != SIM_RAW) {
		char buf[512];
		sim_fmt_seg(tg, buf, sizeof(buf));
		uint32_t tot = rte_pktmbuf_pkt_len(m) >= 4 ? rd16(ip + 2) : 0;
		CHECK_MSG(ok && g.well_formed,
			  "engine %s transmitted a malformed IPv4/TCP packet: %s",
			  node_name(from), buf);
		CHECK_MSG(g.ip_csum_ok, "engine %s: bad IPv4 header checksum: %s",
			  node_name(from), buf);
		CHECK_MSG(g.tcp_csum_ok, "engine %s: bad TCP checksum: %s", node_name(from), buf);
		CHECK_MSG(tot == rte_pktmbuf_pkt_len(m),
			  "engine %s: IP total length %u != pkt_len %u: %s", node_name(from), tot,
			  rte_pktmbuf_pkt_len(m), buf);
		CHECK_MSG(g.saddr == s->ip[from], "engine %s: source address is not ours: %s",
			  node_name(from), buf);
		CHECK_MSG(ip[8] != 0, "engine %s: TTL 0: %s", node_name(from), buf);
	}
	enum sim_verdict v = SIM_PASS;
	if (s->filter != NULL && ok)
		v = s->filter(s, tg, s->filter_ctx);
	tg->verdict = v;
	uint64_t due = s->now_us + (from == SIM_RAW ? 0 : s->opts.latency_us);
	if (from != SIM_RAW && v == SIM_PASS) {
		if (s->loss_ppm && rng_next(&s->rng) % 1000000 < s->loss_ppm) {
			v = SIM_DROP;
			tg->verdict = SIM_DROP;
		} else if (s->dup_ppm && rng_next(&s->rng) % 1000000 < s->dup_ppm) {
			v = SIM_DUP;
			tg->verdict = SIM_DUP;
		}
		if (s->jitter_us)
			due += rng_next(&s->rng) % (s->jitter_us + 1);
		if (v != SIM_DROP && s->corrupt_ppm &&
		    rng_next(&s->rng) % 1000000 < s->corrupt_ppm) {
			uint8_t *b = rte_pktmbuf_mtod(m, uint8_t *);
			uint32_t ihl = (uint32_t)(b[0] & 0xf) * 4;
			b[ihl + 16] ^= 0x5a;   /* the TCP checksum */
			m->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;
		}
	}
	switch (v) {
	case SIM_DROP:
		rte_pktmbuf_free(m);
		break;
	case SIM_HOLD:
		if (s->nheld == s->capheld) {
			s->capheld = s->capheld ? s->capheld * 2 : 256;
			s->held = realloc(s->held, s->capheld * sizeof(*s->held));
			if (s->held == NULL)
				check_fail(__FILE__, __LINE__, "out of memory");
		}
		s->held[s->nheld++] = (struct sim_wire_ent){m, 0, from, false};
		break;
	case SIM_DUP: {
		struct rte_mbuf *c = rte_pktmbuf_copy(m, s->wire_pool, 0, UINT32_MAX);
		CHECK_MSG(c != NULL, "sim: wire pool exhausted");
		wire_put(s, m, from, due, false);
		wire_put(s, c, from, due, false);
		break;
	}
	default:
		wire_put(s, m, from, due, false);
		break;
	}
}

/* The engine's transmit function: linearize each packet into a fresh
 * wire mbuf (so chained or indirect TX mbufs look like a NIC's RX) and
 * free the original. */
static uint16_t sim_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct sim_txctx *tc = ctx;
	struct sim *s = tc->s;
	s->tx_calls[tc->node]++;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t len = rte_pktmbuf_pkt_len(m);
		struct rte_mbuf *c = rte_pktmbuf_alloc(s->wire_pool);
		CHECK_MSG(c != NULL, "sim: wire pool exhausted");
		CHECK_MSG(len <= POOL_DATAROOM - RTE_PKTMBUF_HEADROOM, "engine %s transmitted a %u-byte packet",
			  node_name(tc->node), len);
		uint8_t *dst = (uint8_t *)rte_pktmbuf_append(c, (uint16_t)len);
		CHECK_MSG(dst != NULL, "sim: append failed");
		const void *src = rte_pktmbuf_read(m, 0, len, dst);
		CHECK_MSG(src != NULL, "engine %s: mbuf shorter than pkt_len", node_name(tc->node));
		if (src != dst)
			memcpy(dst, src, len);
		rte_pktmbuf_free(m);
		wire_push(s, c, tc->node);
	}
	return n;
}

static void prep_rx(struct rte_mbuf *m, uint64_t ol_flags)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	m->l2_len = 0;
	m->l3_len = (ip[0] & 0xf) * 4;
	m->l4_len = 0;
	m->ol_flags = ol_flags;
	m->packet_type = RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP;
	m->hash.rss = 0;
}

static void inbox_put(struct sim *s, struct rte_mbuf *m)
{
	if (s->inbox_tail == s->capinbox) {
		if (s->inbox_head > 0) {
			memmove(s->inbox, s->inbox + s->inbox_head,
				(s->inbox_tail - s->inbox_head) * sizeof(*s->inbox));
			s->inbox_tail -= s->inbox_head;
			s->inbox_head = 0;
		}
		if (s->inbox_tail == s->capinbox) {
			s->capinbox = s->capinbox ? s->capinbox * 2 : 256;
			s->inbox = realloc(s->inbox, s->capinbox * sizeof(*s->inbox));
			if (s->inbox == NULL)
				check_fail(__FILE__, __LINE__, "out of memory");
		}
	}
	s->inbox[s->inbox_tail++] = m;
}

/* Deliver every wire packet due by now; true if any was delivered. */
static bool wire_deliver(struct sim *s)
{
	struct rte_mbuf *burst[2][SIM_BURST];
	uint16_t nb[2] = {0, 0};
	bool moved = false;
	unsigned int n = s->nwire, keep = 0;
	/* Take the due entries out first: input may transmit (append). */
	struct sim_wire_ent *due = malloc((n ? n : 1) * sizeof(*due));
	unsigned int ndue = 0;
	if (due == NULL)
		check_fail(__FILE__, __LINE__, "out of memory");
	for (unsigned int i = 0; i < n; i++) {
		if (s->wire[i].due_us <= s->now_us)
			due[ndue++] = s->wire[i];
		else
			s->wire[keep++] = s->wire[i];
	}
	/* entries appended meanwhile: none (no engine call above) */
	s->nwire = keep;
	for (unsigned int i = 0; i < ndue; i++) {
		struct rte_mbuf *m = due[i].m;
		const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t daddr = rte_pktmbuf_pkt_len(m) >= 20 ? rd32(ip + 16) : 0;
		int to = route(s, daddr);
		moved = true;
		if (to == SIM_RAW) {
			inbox_put(s, m);
			continue;
		}
		/* engine output arrives as a NIC would hand it over: no TX
		 * flags, L4 checksum status UNKNOWN; injected packets keep the
		 * RX flags the test chose */
		prep_rx(m, due[i].from == SIM_RAW ? m->ol_flags : 0);
		burst[to][nb[to]++] = m;
		if (nb[to] == SIM_BURST) {
			tcp_input_burst(s->eng[to], burst[to], nb[to], s->now_us);
			nb[to] = 0;
		}
	}
	for (int e = 0; e < 2; e++)
		if (nb[e])
			tcp_input_burst(s->eng[e], burst[e], nb[e], s->now_us);
	free(due);
	return moved;
}

/* ------------------------------------------------------------- app side */

static void note_states(struct sim *s)
{
	uint32_t counts[DPT_STATE_COUNT];
	for (int e = 0; e < 2; e++) {
		if (s->eng[e] == NULL)
			continue;
		memset(counts, 0, sizeof(counts));
		tcp_engine_state_counts(s->eng[e], counts);
		for (int st = 0; st < DPT_STATE_COUNT; st++)
			if (counts[st])
				s->states_seen[e] |= 1u << st;
	}
	for (unsigned int i = 0; i < s->nconns; i++) {
		struct sim_conn *sc = &s->conns[i];
		if (sc->alive && sc->c != NULL) {
			enum dpt_state st = dpt_conn_state(sc->c);
			if ((unsigned)st < DPT_STATE_COUNT)
				sc->states_seen |= 1u << st;
		}
	}
}

/* Drain a connection into sc->rx; true if anything happened. */
static bool app_read(struct sim *s, struct sim_conn *sc)
{
	static uint8_t buf[16384];
	bool moved = false;
	for (;;) {
		if (!sc->alive || sc->c == NULL)
			break;
		ssize_t r = dpt_recv(s->eng[sc->node], sc->c, buf, sizeof(buf));
		if (r > 0) {
			if (sc->rx_len + (size_t)r > sc->rx_cap) {
				size_t nc = sc->rx_cap ? sc->rx_cap * 2 : 65536;
				while (nc < sc->rx_len + (size_t)r)
					nc *= 2;
				sc->rx = realloc(sc->rx, nc);
				if (sc->rx == NULL)
					check_fail(__FILE__, __LINE__, "out of memory");
				sc->rx_cap = nc;
			}
			memcpy(sc->rx + sc->rx_len, buf, (size_t)r);
			sc->rx_len += (size_t)r;
			moved = true;
			continue;
		}
		if (r == 0) {
			sc->eof = true;
			moved = true;
		} else if (r != -EAGAIN && r != -ENOTCONN) {
			s->app_errors++;
			s->last_app_err = (int)r;
			s->last_app_err_call = "dpt_recv";
			if (s->first_app_err_call == NULL) {
				s->first_app_err = (int)r;
				s->first_app_err_call = "dpt_recv";
				s->first_app_err_us = s->now_us;
			}
		}
		break;
	}
	return moved;
}

static bool app_phase(struct sim *s)
{
	bool moved = false;
	for (unsigned int i = 0; i < s->nconns; i++) {
		struct sim_conn *sc = &s->conns[i];
		if (sc->alive && sc->auto_read && !sc->eof)
			moved |= app_read(s, sc);
		if (sc->alive && sc->c != NULL && sc->tx != NULL && sc->tx_off < sc->tx_len) {
			ssize_t r = dpt_send(s->eng[sc->node], sc->c, sc->tx + sc->tx_off,
					     sc->tx_len - sc->tx_off);
			if (r > 0) {
				sc->tx_off += (size_t)r;
				moved = true;
			} else if (r != -EAGAIN && r != 0) {
				s->app_errors++;
				s->last_app_err = (int)r;
				s->last_app_err_call = "dpt_send";
				if (s->first_app_err_call == NULL) {
					s->first_app_err = (int)r;
					s->first_app_err_call = "dpt_send";
					s->first_app_err_us = s->now_us;
				}
				sc->tx_len = sc->tx_off; /* stop trying */
			}
		}
		if (sc->alive && sc->c != NULL && sc->after_tx && !sc->after_tx_done &&
		    (sc->tx == NULL || sc->tx_off == sc->tx_len)) {
			sc->after_tx_done = true;
			if (sc->after_tx == 1)
				dpt_close(s->eng[sc->node], sc->c);
			else
				dpt_shutdown(s->eng[sc->node], sc->c);
			moved = true;
		}
		/* close once the peer's FIN was read and our own data is all
		 * handed to the engine (a send buffer smaller than the data) */
		if (sc->alive && sc->c != NULL && sc->close_on_eof && sc->eof &&
		    !sc->close_on_eof_done &&
		    (sc->tx == NULL || sc->tx_off == sc->tx_len)) {
			sc->close_on_eof_done = true;
			dpt_close(s->eng[sc->node], sc->c);
			moved = true;
		}
	}
	return moved;
}

/* --------------------------------------------------------- time / loop */

void sim_run(struct sim *s)
{
	CHECK_MSG(!s->in_loop, "sim_run called from inside an engine callback");
	s->in_loop = true;
	unsigned int round;
	for (round = 0; round < SIM_MAX_ROUNDS; round++) {
		bool moved = app_phase(s);
		for (int e = 0; e < 2; e++)
			if (s->eng[e] != NULL)
				tcp_engine_poll(s->eng[e], s->now_us);
		moved |= wire_deliver(s);
		note_states(s);
		if (!moved)
			break;
	}
	s->in_loop = false;
	CHECK_MSG(round < SIM_MAX_ROUNDS,
		  "the wire never went quiet at t=%" PRIu64 "us (segment storm?)", s->now_us);
}

void sim_step(struct sim *s)
{
	s->now_us += 1000;
	sim_run(s);
}

void sim_advance(struct sim *s, uint32_t ms)
{
	for (uint32_t i = 0; i < ms; i++)
		sim_step(s);
}

void sim_advance_us(struct sim *s, uint64_t us)
{
	s->now_us += us;
	sim_run(s);
}

void sim_set_filter(struct sim *s, sim_filter_fn fn, void *ctx)
{
	s->filter = fn;
	s->filter_ctx = ctx;
}

uint64_t sim_seed(uint64_t base)
{
	const char *e = getenv("DPT_SEED");
	return e ? base ^ (strtoull(e, NULL, 0) * 0x9E3779B97F4A7C15ULL) : base;
}

void sim_set_impair(struct sim *s, uint64_t seed, uint32_t loss_ppm, uint32_t dup_ppm,
		    uint32_t jitter_us)
{
	s->rng = seed ? seed : 1;
	s->loss_ppm = loss_ppm;
	s->dup_ppm = dup_ppm;
	s->jitter_us = jitter_us;
}

void sim_set_corrupt(struct sim *s, uint32_t corrupt_ppm)
{
	s->corrupt_ppm = corrupt_ppm;
}

unsigned int sim_nheld(const struct sim *s) { return s->nheld; }

const struct sim_seg *sim_held_seg(const struct sim *s, unsigned int i)
{
	static struct sim_seg g;
	if (i >= s->nheld)
		return NULL;
	sim_parse(rte_pktmbuf_mtod(s->held[i].m, const uint8_t *),
		  rte_pktmbuf_pkt_len(s->held[i].m), &g);
	g.from = s->held[i].from;
	g.to = route(s, g.daddr);
	return &g;
}

void sim_release(struct sim *s, unsigned int i)
{
	if (i >= s->nheld)
		return;
	wire_put(s, s->held[i].m, s->held[i].from, s->now_us, true);
	memmove(&s->held[i], &s->held[i + 1], (s->nheld - i - 1) * sizeof(*s->held));
	s->nheld--;
}

void sim_release_all(struct sim *s)
{
	for (unsigned int i = 0; i < s->nheld; i++)
		wire_put(s, s->held[i].m, s->held[i].from, s->now_us, true);
	s->nheld = 0;
}

void sim_drop_held(struct sim *s)
{
	for (unsigned int i = 0; i < s->nheld; i++)
		rte_pktmbuf_free(s->held[i].m);
	s->nheld = 0;
}

/* ---------------------------------------------------------------- trace */

unsigned int sim_mark(const struct sim *s) { return s->ntrace; }

const struct sim_seg *sim_trace(const struct sim *s, unsigned int i)
{
	return i < s->ntrace ? &s->trace[i] : NULL;
}

const struct sim_seg *sim_next_from(const struct sim *s, unsigned int *pos, int from)
{
	for (unsigned int i = *pos; i < s->ntrace; i++) {
		if (from < 0 || s->trace[i].from == from) {
			*pos = i + 1;
			return &s->trace[i];
		}
	}
	*pos = s->ntrace;
	return NULL;
}

unsigned int sim_count_from(const struct sim *s, unsigned int mark, int from,
			    uint8_t flags_mask, uint8_t flags_val)
{
	unsigned int n = 0;
	for (unsigned int i = mark; i < s->ntrace; i++)
		if ((from < 0 || s->trace[i].from == from) &&
		    (s->trace[i].flags & flags_mask) == flags_val)
			n++;
	return n;
}

/* ---------------------------------------------------------- raw packets */

struct rte_mbuf *sim_build(struct sim *s, const struct seg_spec *sp)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->wire_pool);
	CHECK_MSG(m != NULL, "sim: wire pool exhausted");
	uint8_t opts[60];
	unsigned int ol = 0;
	if (sp->mss > 0) {
		opts[ol++] = 2;
		opts[ol++] = 4;
		wr16(opts + ol, (uint16_t)sp->mss);
		ol += 2;
	}
	if (sp->optlen) {
		CHECK_MSG(ol + sp->optlen <= 40, "sim_build: too many option bytes");
		memcpy(opts + ol, sp->opts, sp->optlen);
		ol += sp->optlen;
	}
	while (ol % 4)
		opts[ol++] = 0; /* end of option list */
	uint32_t thl = 20 + ol;
	uint32_t tot = 20 + thl + sp->len;
	CHECK_MSG(tot <= 9216, "sim_build: packet too large");
	uint8_t *ip = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)tot);
	CHECK_MSG(ip != NULL, "sim_build: append failed");
	memset(ip, 0, 20 + thl);
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)tot);
	wr16(ip + 4, s->ip_id++);
	wr16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 6;
	wr32(ip + 12, sp->saddr);
	wr32(ip + 16, sp->daddr);
	wr16(ip + 10, (uint16_t)~csum_fold(csum_add(ip, 20, 0)));
	uint8_t *t = ip + 20;
	wr16(t, sp->sport);
	wr16(t + 2, sp->dport);
	wr32(t + 4, sp->seq);
	wr32(t + 8, sp->ack);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = sp->flags;
	wr16(t + 14, sp->win);
	memcpy(t + 20, opts, ol);
	if (sp->len)
		memcpy(t + thl, sp->data, sp->len);
	uint16_t c = (uint16_t)~tcp_sum(ip, t, thl + sp->len);
	if (sp->bad_csum)
		c ^= 0x0101;
	wr16(t + 16, c);
	prep_rx(m, sp->ol_flags);
	return m;
}

void sim_inject(struct sim *s, const struct seg_spec *sp)
{
	struct rte_mbuf *m = sim_build(s, sp);
	wire_push(s, m, SIM_RAW);
}

void sim_inject_bytes(struct sim *s, const uint8_t *ip, uint16_t len, uint64_t ol_flags)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->wire_pool);
	CHECK_MSG(m != NULL, "sim: wire pool exhausted");
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, len);
	CHECK_MSG(d != NULL, "sim_inject_bytes: %u bytes do not fit", len);
	memcpy(d, ip, len);
	prep_rx(m, ol_flags);
	wire_push(s, m, SIM_RAW);
}

void sim_fix_csums(uint8_t *ip)
{
	uint32_t ihl = (ip[0] & 0xf) * 4u;
	uint32_t tot = rd16(ip + 2);
	wr16(ip + 10, 0);
	wr16(ip + 10, (uint16_t)~csum_fold(csum_add(ip, ihl, 0)));
	if (tot >= ihl + 18) {
		uint8_t *t = ip + ihl;
		wr16(t + 16, 0);
		wr16(t + 16, (uint16_t)~tcp_sum(ip, t, tot - ihl));
	}
}

void sim_input_direct(struct sim *s, int node, struct rte_mbuf **m, uint16_t n)
{
	CHECK_MSG(s->eng[node] != NULL, "sim_input_direct: no engine %d", node);
	s->in_loop = true;
	tcp_input_burst(s->eng[node], m, n, s->now_us);
	s->in_loop = false;
}

unsigned int sim_raw_pending(const struct sim *s) { return s->inbox_tail - s->inbox_head; }

static void inbox_take(struct sim *s, unsigned int i, struct sim_pkt *p)
{
	struct rte_mbuf *m = s->inbox[i];
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	sim_parse(ip, rte_pktmbuf_pkt_len(m), &p->seg);
	/* find it in the trace for from/time/idx: the latest match */
	p->seg.from = SIM_RAW;
	p->seg.to = SIM_RAW;
	for (int e = 0; e < 2; e++)
		if (s->ip[e] == p->seg.saddr && s->eng[e] != NULL)
			p->seg.from = e;
	p->seg.t_us = s->now_us;
	if (p->seg.well_formed && p->seg.len)
		memcpy(p->data, ip + (ip[0] & 0xf) * 4 + p->seg.doff,
		       RTE_MIN((size_t)p->seg.len, sizeof(p->data)));
	rte_pktmbuf_free(m);
	memmove(&s->inbox[i], &s->inbox[i + 1], (s->inbox_tail - i - 1) * sizeof(*s->inbox));
	s->inbox_tail--;
}

bool sim_raw_pop(struct sim *s, struct sim_pkt *p)
{
	if (s->inbox_head == s->inbox_tail)
		return false;
	inbox_take(s, s->inbox_head, p);
	return true;
}

void sim_raw_clear(struct sim *s)
{
	for (unsigned int i = s->inbox_head; i < s->inbox_tail; i++)
		rte_pktmbuf_free(s->inbox[i]);
	s->inbox_head = s->inbox_tail = 0;
}

void raw_init(struct raw_peer *rp, struct sim *s, int node, uint16_t port, uint16_t eng_port)
{
	memset(rp, 0, sizeof(*rp));
	rp->s = s;
	rp->node = node;
	rp->ip = s->eng[SIM_B] == NULL ? SIM_IP_RAW : 0x0a000003u;
	rp->eng_ip = s->ip[node];
	rp->port = port;
	rp->eng_port = eng_port;
	rp->win = 65535;
}

void raw_send(struct raw_peer *rp, uint8_t flags, uint32_t seq, uint32_t ack,
	      const void *data, uint16_t len)
{
	struct seg_spec sp = {
		.saddr = rp->ip, .daddr = rp->eng_ip, .sport = rp->port,
		.dport = rp->eng_port, .seq = seq, .ack = ack, .flags = flags,
		.win = rp->win, .data = data, .len = len,
	};
	sim_inject(rp->s, &sp);
	sim_run(rp->s);
}

void raw_send_mss(struct raw_peer *rp, uint8_t flags, uint32_t seq, uint32_t ack, int mss)
{
	struct seg_spec sp = {
		.saddr = rp->ip, .daddr = rp->eng_ip, .sport = rp->port,
		.dport = rp->eng_port, .seq = seq, .ack = ack, .flags = flags,
		.win = rp->win, .mss = mss,
	};
	sim_inject(rp->s, &sp);
	sim_run(rp->s);
}

bool raw_pop(struct raw_peer *rp, struct sim_pkt *p)
{
	struct sim *s = rp->s;
	for (unsigned int i = s->inbox_head; i < s->inbox_tail; i++) {
		const uint8_t *ip = rte_pktmbuf_mtod(s->inbox[i], const uint8_t *);
		if (rd32(ip + 16) == rp->ip && rd16(ip + (ip[0] & 0xf) * 4 + 2) == rp->port) {
			inbox_take(s, i, p);
			return true;
		}
	}
	return false;
}

/* --------------------------------------------------------- application */

static struct sim_conn *conn_new(struct sim *s, int node)
{
	CHECK_MSG(s->nconns < RTE_DIM(s->conns), "sim: too many connection records");
	struct sim_conn *sc = &s->conns[s->nconns++];
	memset(sc, 0, sizeof(*sc));
	sc->magic = CONN_MAGIC;
	sc->s = s;
	sc->node = node;
	sc->auto_read = true;
	sc->state_at_end = DPT_STATE_COUNT;
	return sc;
}

static void fill_tuple(struct sim_conn *sc)
{
	struct dpt_conn_info in;
	memset(&in, 0, sizeof(in));
	dpt_conn_info(sc->c, &in);
	sc->lip = in.local_ip;
	sc->rip = in.remote_ip;
	sc->lport = in.local_port;
	sc->rport = in.remote_port;
}

static void sim_event_cb(struct tcp_engine *eng, struct tcp_conn *c, enum dpt_event ev,
			 int err, void *user)
{
	struct sim_conn *sc = NULL;
	uint32_t magic = user ? *(uint32_t *)user : 0;
	if (magic == LISTENER_MAGIC) {
		struct sim_listener *l = user;
		if (ev != DPT_EV_ACCEPTED) {
			/* an event for a connection the app never saw */
			sc = sim_conn_of(l->s, c);
			if (sc == NULL) {
				l->s->stray_events++;
				return;
			}
		} else {
			sc = conn_new(l->s, l->node);
			sc->passive = true;
			sc->alive = true;
			sc->c = c;
			sc->auto_read = l->auto_read;
			dpt_set_user(c, sc);
			fill_tuple(sc);
			if (l->naccepted < RTE_DIM(l->accepted))
				l->accepted[l->naccepted++] = sc;
		}
	} else if (magic == CONN_MAGIC) {
		sc = user;
	} else {
		if (g_sim)
			g_sim->stray_events++;
		return;
	}
	(void)eng;
	if (sc->c == NULL && sc->alive)
		sc->c = c;
	if ((unsigned)ev < 8)
		sc->ev_count[ev]++;
	/* READABLE/WRITABLE are only counted: they can come by the thousand */
	if (sc->nevs < SIM_MAX_EVS && ev != DPT_EV_READABLE && ev != DPT_EV_WRITABLE) {
		sc->evs[sc->nevs] = ev;
		sc->ev_err[sc->nevs] = err;
		sc->ev_t_us[sc->nevs] = sc->s->now_us;
		sc->nevs++;
	}
	if (ev == DPT_EV_CONNECTED)
		fill_tuple(sc);
	if ((ev == DPT_EV_READABLE || ev == DPT_EV_PEER_CLOSED) && sc->read_in_cb &&
	    sc->auto_read && !sc->eof)
		app_read(sc->s, sc);
	if (ev == DPT_EV_ERROR || ev == DPT_EV_RESET)
		sc->last_err = err;
	if (ev == DPT_EV_CLOSED || ev == DPT_EV_RESET || ev == DPT_EV_ERROR) {
		sc->state_at_end = dpt_conn_state(c);
		if ((unsigned)sc->state_at_end < DPT_STATE_COUNT) {
			sc->states_seen |= 1u << sc->state_at_end;
			sc->s->states_seen[sc->node] |= 1u << sc->state_at_end;
		}
		sc->alive = false;
		sc->c = NULL;
	}
}

struct sim_conn *sim_conn_of(struct sim *s, struct tcp_conn *c)
{
	for (unsigned int i = 0; i < s->nconns; i++)
		if (s->conns[i].alive && s->conns[i].c == c)
			return &s->conns[i];
	return NULL;
}

struct sim_listener *sim_listen(struct sim *s, int node, uint16_t port, int backlog, int *ret)
{
	CHECK_MSG(s->nlisteners < RTE_DIM(s->listeners), "sim: too many listeners");
	struct sim_listener *l = &s->listeners[s->nlisteners];
	memset(l, 0, sizeof(*l));
	l->magic = LISTENER_MAGIC;
	l->s = s;
	l->node = node;
	l->port = port;
	l->auto_read = true;
	int r = dpt_listen(s->eng[node], 0, port, backlog, sim_event_cb, l);
	if (ret)
		*ret = r;
	if (r != 0)
		return NULL;
	s->nlisteners++;
	note_states(s);
	return l;
}

struct sim_conn *sim_connect(struct sim *s, int node, uint32_t ip, uint16_t port,
			     uint16_t lport, int *ret)
{
	struct sim_conn *sc = conn_new(s, node);
	struct tcp_conn *c = NULL;
	sc->alive = true;
	int r = dpt_connect(s->eng[node], ip, port, lport, sim_event_cb, sc, &c);
	if (ret)
		*ret = r;
	if (r != 0) {
		sc->alive = false;
		return NULL;
	}
	if (sc->alive) {
		sc->c = c;
		fill_tuple(sc);
	}
	note_states(s);
	return sc;
}

void sim_conn_send(struct sim_conn *sc, const void *buf, size_t len, int after)
{
	sc->tx = buf;
	sc->tx_len = len;
	sc->tx_off = 0;
	sc->after_tx = after;
	sc->after_tx_done = false;
}

struct tuple_q {
	uint16_t lport, rport;
	uint32_t rip;
	bool found;
	struct dpt_conn_info info;
};

static int tuple_visit(const struct dpt_conn_info *in, void *arg)
{
	struct tuple_q *q = arg;
	if (in->local_port == q->lport && in->remote_port == q->rport && in->remote_ip == q->rip) {
		q->info = *in;
		q->found = true;
		return 1;
	}
	return 0;
}

bool sim_tuple_info(struct sim *s, int node, uint16_t lport, uint32_t rip, uint16_t rport,
		    struct dpt_conn_info *out)
{
	struct tuple_q q = {.lport = lport, .rport = rport, .rip = rip};
	tcp_engine_foreach_conn(s->eng[node], tuple_visit, &q);
	if (q.found && out)
		*out = q.info;
	return q.found;
}

enum dpt_state sim_tuple_state(struct sim *s, int node, uint16_t lport, uint32_t rip,
			       uint16_t rport)
{
	struct dpt_conn_info in;
	if (!sim_tuple_info(s, node, lport, rip, rport, &in))
		return DPT_STATE_COUNT;
	return in.state;
}

enum dpt_state sim_state(struct sim_conn *sc)
{
	if (sc->alive && sc->c != NULL)
		return dpt_conn_state(sc->c);
	enum dpt_state st = sim_tuple_state(sc->s, sc->node, sc->lport, sc->rip, sc->rport);
	return st == DPT_STATE_COUNT ? DPT_CLOSED : st;
}

bool sim_conn_info(struct sim_conn *sc, struct dpt_conn_info *out)
{
	if (sc->alive && sc->c != NULL) {
		dpt_conn_info(sc->c, out);
		return true;
	}
	return sim_tuple_info(sc->s, sc->node, sc->lport, sc->rip, sc->rport, out);
}

uint32_t sim_state_count(struct sim *s, int node, enum dpt_state st)
{
	uint32_t counts[DPT_STATE_COUNT];
	memset(counts, 0, sizeof(counts));
	tcp_engine_state_counts(s->eng[node], counts);
	return counts[st];
}

const struct tcp_stats *sim_stats(struct sim *s, int node)
{
	return tcp_engine_stats(s->eng[node]);
}

bool sim_has_event(const struct sim_conn *sc, enum dpt_event ev)
{
	return (unsigned)ev < 8 && sc->ev_count[ev] > 0;
}

/* ------------------------------------------------------------- lifetime */

void sim_opts_default(struct sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < 2; i++) {
		struct tcp_config *c = &o->cfg[i];
		tcp_config_defaults(c);
		c->msl_ms = 100;
		c->delack_ms = 0;
		c->tick_us = 1000;
		c->max_conns = 1024;
		c->max_time_wait = 4096;
		c->rcv_buf_bytes = 65535;
		c->snd_buf_bytes = 262144;
		c->rto_min_ms = 200;
		c->rto_init_ms = 1000;
		c->rto_max_ms = 60000;
		c->fin_wait2_ms = 0;
		if (c->backlog == 0)
			c->backlog = 128;
		if (c->syn_backlog == 0)
			c->syn_backlog = 128;
		o->mtu[i] = 1500;
	}
	o->with_b = true;
}

static unsigned int g_engine_ids;
static unsigned int g_pool_ids;

struct sim *sim_new(const struct sim_opts *o)
{
	struct sim *s = calloc(1, sizeof(*s));
	char name[RTE_MEMPOOL_NAMESIZE];
	if (s == NULL)
		check_fail(__FILE__, __LINE__, "out of memory");
	s->opts = *o;
	s->now_us = 1000000; /* start at t = 1 s */
	s->rng = 1;
	snprintf(name, sizeof(name), "simtx%u", g_pool_ids);
	s->tx_pool = rte_pktmbuf_pool_create(name, POOL_MBUFS, 0, 0, POOL_DATAROOM,
					     (int)rte_socket_id());
	snprintf(name, sizeof(name), "simwire%u", g_pool_ids++);
	s->wire_pool = rte_pktmbuf_pool_create(name, POOL_MBUFS, 0, 0, POOL_DATAROOM,
					       (int)rte_socket_id());
	CHECK_MSG(s->tx_pool != NULL && s->wire_pool != NULL, "mempool create: %s",
		  rte_strerror(rte_errno));
	s->ip[SIM_A] = SIM_IP_A;
	s->ip[SIM_B] = SIM_IP_B;
	g_sim = s;
	for (int i = 0; i < 2; i++) {
		if (i == SIM_B && !o->with_b)
			continue;
		struct tcp_engine_params p;
		memset(&p, 0, sizeof(p));
		p.cfg = o->cfg[i];
		p.local_ip = s->ip[i];
		p.mtu = o->mtu[i];
		p.socket_id = (int)rte_socket_id();
		p.engine_id = g_engine_ids++;
		p.pool = s->tx_pool;
		s->txctx[i].s = s;
		s->txctx[i].node = i;
		p.tx = sim_tx;
		p.tx_ctx = &s->txctx[i];
		p.tx_cksum_offload = false;
		p.isn_secret[0] = o->isn_secret[i][0];
		p.isn_secret[1] = o->isn_secret[i][1];
		p.owned = o->owned[i];
		p.owned_ctx = o->owned_ctx[i];
		s->eng[i] = tcp_engine_create(&p);
		CHECK_MSG(s->eng[i] != NULL, "tcp_engine_create(%s) failed", node_name(i));
	}
	return s;
}

unsigned int sim_free(struct sim *s)
{
	for (int i = 0; i < 2; i++)
		if (s->eng[i] != NULL)
			tcp_engine_destroy(s->eng[i]);
	for (unsigned int i = 0; i < s->nwire; i++)
		rte_pktmbuf_free(s->wire[i].m);
	sim_drop_held(s);
	sim_raw_clear(s);
	unsigned int inuse = rte_mempool_in_use_count(s->tx_pool) +
			     rte_mempool_in_use_count(s->wire_pool);
	rte_mempool_free(s->tx_pool);
	rte_mempool_free(s->wire_pool);
	for (unsigned int i = 0; i < s->nconns; i++)
		free(s->conns[i].rx);
	free(s->wire);
	free(s->held);
	free(s->inbox);
	free(s->trace);
	if (g_sim == s)
		g_sim = NULL;
	free(s);
	return inuse;
}
