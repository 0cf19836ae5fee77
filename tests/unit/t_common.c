/* t_common.c — see t_common.h. */
#include "t_common.h"
#include "tcp_internal.h"     /* sack_ok, ts_ok of the connection */

struct sim *mk_sim_opts(const struct sim_opts *o)
{
	return sim_new(o);
}

struct sim *mk_sim(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	return sim_new(&o);
}

struct sim *mk_sim_raw(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.with_b = false;
	return sim_new(&o);
}

void pair_connect(struct sim *s, struct sim_conn **client_b, struct sim_conn **server_a)
{
	int r;
	struct sim_listener *l = NULL;
	for (unsigned int i = 0; i < s->nlisteners; i++)
		if (s->listeners[i].node == SIM_A && s->listeners[i].port == SRV_PORT)
			l = &s->listeners[i];
	if (l == NULL) {
		l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
		CHECK_EQ(0, r);
		CHECK(l != NULL);
	}
	unsigned int before = l->naccepted;
	struct sim_conn *c = sim_connect(s, SIM_B, SIM_IP_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	CHECK(c != NULL);
	sim_run(s);
	SIM_RUN_UNTIL(s, sim_has_event(c, DPT_EV_CONNECTED) && l->naccepted > before, 5000);
	CHECK(sim_has_event(c, DPT_EV_CONNECTED));
	CHECK_EQ(before + 1, l->naccepted);
	CHECK_STATE(DPT_ESTABLISHED, sim_state(c));
	CHECK_STATE(DPT_ESTABLISHED, sim_state(l->accepted[before]));
	*client_b = c;
	*server_a = l->accepted[before];
}

struct sim *mk_pair_latency(uint32_t latency_us, struct sim_conn **client_b,
			    struct sim_conn **server_a)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.latency_us = latency_us;
	struct sim *s = mk_sim_opts(&o);
	pair_connect(s, client_b, server_a);
	CHECK((*server_a)->c->sack_ok && (*server_a)->c->ts_ok);
	return s;
}

struct sim_seg raw_handshake(struct raw_peer *rp, uint32_t isn, int mss)
{
	struct sim_pkt *p = malloc(sizeof(*p));
	CHECK(p != NULL);
	rp->iss = isn;
	raw_send_mss(rp, F_SYN, isn, 0, mss);
	RAW_EXPECT(rp, p);
	CHECK_SEG(&p->seg, F_SYN | F_ACK, p->seg.seq, isn + 1);
	rp->irs = p->seg.seq;
	rp->rcv_nxt = p->seg.seq + 1;
	rp->snd_nxt = isn + 1;
	raw_send(rp, F_ACK, rp->snd_nxt, rp->rcv_nxt, NULL, 0);
	struct sim_seg g = p->seg;
	free(p);
	return g;
}

struct sim_conn *raw_accept(struct sim *s, struct raw_peer *rp, uint16_t port, uint32_t isn,
			    int mss, uint32_t delay_ms)
{
	struct sim_pkt *p = malloc(sizeof(*p));
	int r;
	CHECK(p != NULL);
	raw_init(rp, s, SIM_A, port, 0);
	struct sim_conn *sc = sim_connect(s, SIM_A, rp->ip, port, 0, &r);
	CHECK_EQ(0, r);
	CHECK(sc != NULL);
	sim_run(s);
	CHECK_MSG(sim_raw_pop(s, p), "no SYN after dpt_connect");
	CHECK_FLAGS(&p->seg, F_SYN);
	CHECK_EQ(port, p->seg.dport);
	rp->eng_port = p->seg.sport;
	rp->irs = p->seg.seq;
	rp->rcv_nxt = p->seg.seq + 1;
	rp->iss = isn;
	rp->snd_nxt = isn + 1;
	if (delay_ms)
		sim_advance(s, delay_ms);
	sim_raw_clear(s); /* SYN retransmissions during the delay */
	raw_send_mss(rp, F_SYN | F_ACK, isn, rp->rcv_nxt, mss);
	RAW_EXPECT(rp, p);
	CHECK_SEG(&p->seg, F_ACK, rp->irs + 1, isn + 1);
	CHECK_EQ(0, p->seg.len);
	CHECK(sim_has_event(sc, DPT_EV_CONNECTED));
	CHECK_STATE(DPT_ESTABLISHED, sim_state(sc));
	free(p);
	return sc;
}

void raw_data(struct raw_peer *rp, const void *data, uint16_t len)
{
	raw_send(rp, F_ACK | F_PSH, rp->snd_nxt, rp->rcv_nxt, data, len);
	rp->snd_nxt += len;
}

void raw_ack(struct raw_peer *rp)
{
	raw_send(rp, F_ACK, rp->snd_nxt, rp->rcv_nxt, NULL, 0);
}

void check_pattern(const char *file, int line, const uint8_t *got, size_t len, uint32_t seed)
{
	uint8_t *exp = malloc(len ? len : 1);
	if (exp == NULL)
		check_fail(file, line, "out of memory");
	sim_fill_pattern(exp, len, seed);
	for (size_t i = 0; i < len; i++) {
		if (got[i] != exp[i]) {
			unsigned int e = exp[i], g = got[i];
			free(exp);
			check_fail(file, line, "payload differs at byte %zu of %zu: expected 0x%02x, got 0x%02x",
				   i, len, e, g);
		}
	}
	free(exp);
}

struct sim_seg next_seg(const char *file, int line, struct sim *s, unsigned int *pos, int from)
{
	const struct sim_seg *g = sim_next_from(s, pos, from);
	if (g == NULL)
		check_fail(file, line, "expected another segment from %s on the wire, none",
			   from == SIM_A ? "A" : from == SIM_B ? "B" : from == SIM_RAW ? "raw" : "anyone");
	return *g;
}

void no_seg(const char *file, int line, struct sim *s, unsigned int pos, int from)
{
	const struct sim_seg *g = sim_next_from(s, &pos, from);
	if (g != NULL) {
		char buf[512];
		sim_fmt_seg(g, buf, sizeof(buf));
		check_fail(file, line, "expected no segment, got %s", buf);
	}
}

/* Engine A listening on SRV_PORT, connected (passively) to the raw peer
 * 40000 with the given ISN and MSS 1460; o NULL = mk_sim_raw(). */
struct sim_conn *raw_established(struct sim **sp, struct raw_peer *rp, uint32_t isn,
					const struct sim_opts *o, bool auto_read)
{
	int r;
	struct sim *s;
	if (o != NULL) {
		s = mk_sim_opts(o);
	} else {
		s = mk_sim_raw();
	}
	struct sim_listener *l = sim_listen(s, SIM_A, SRV_PORT, 0, &r);
	CHECK_EQ(0, r);
	l->auto_read = auto_read;
	raw_init(rp, s, SIM_A, 40000, SRV_PORT);
	raw_handshake(rp, isn, 1460);
	CHECK_EQ(1, l->naccepted);
	*sp = s;
	return l->accepted[0];
}

static uint8_t raw_opts_write(const struct raw_opts *o, uint8_t *b)
{
	uint8_t k = 0;
	if (o->mss > 0) {
		b[k++] = 2; b[k++] = 4;
		b[k++] = (uint8_t)(o->mss >> 8); b[k++] = (uint8_t)o->mss;
	}
	if (o->sack_ok) {
		b[k++] = 1; b[k++] = 1; b[k++] = 4; b[k++] = 2;
	}
	if (o->ts) {
		b[k++] = 1; b[k++] = 1; b[k++] = 8; b[k++] = 10;
		for (int i = 0; i < 4; i++)
			b[k++] = (uint8_t)(o->tsval >> (24 - 8 * i));
		for (int i = 0; i < 4; i++)
			b[k++] = (uint8_t)(o->tsecr >> (24 - 8 * i));
	}
	if (o->ws >= 0) {
		b[k++] = 1; b[k++] = 3; b[k++] = 3; b[k++] = (uint8_t)o->ws;
	}
	if (o->nsack) {
		b[k++] = 1; b[k++] = 1; b[k++] = 5; b[k++] = (uint8_t)(2 + 8 * o->nsack);
		for (unsigned int j = 0; j < o->nsack; j++)
			for (int e = 0; e < 2; e++)
				for (int i = 0; i < 4; i++)
					b[k++] = (uint8_t)(o->sack[j][e] >> (24 - 8 * i));
	}
	return k;
}

void raw_send_o(struct raw_peer *rp, uint8_t flags, uint32_t seq, uint32_t ack,
		const void *data, uint16_t len, const struct raw_opts *o)
{
	uint8_t b[64];
	uint8_t n = raw_opts_write(o, b);
	CHECK_MSG(n <= 40, "raw_send_o: %u option bytes", n);
	struct seg_spec sp = {
		.saddr = rp->ip, .daddr = rp->eng_ip, .sport = rp->port,
		.dport = rp->eng_port, .seq = seq, .ack = ack, .flags = flags,
		.win = rp->win, .data = data, .len = len, .opts = b, .optlen = n,
	};
	sim_inject(rp->s, &sp);
	sim_run(rp->s);
}

struct sim_seg raw_handshake_o(struct raw_peer *rp, uint32_t isn, const struct raw_opts *o)
{
	struct sim_pkt *p = malloc(sizeof(*p));
	CHECK(p != NULL);
	rp->iss = isn;
	raw_send_o(rp, F_SYN, isn, 0, NULL, 0, o);
	RAW_EXPECT(rp, p);
	CHECK_SEG(&p->seg, F_SYN | F_ACK, p->seg.seq, isn + 1);
	rp->irs = p->seg.seq;
	rp->rcv_nxt = p->seg.seq + 1;
	rp->snd_nxt = isn + 1;
	struct raw_opts a = RAW_OPTS_NONE;
	if (o->ts && p->seg.has_ts) {
		a.ts = true;
		a.tsval = o->tsval + 1;
		a.tsecr = p->seg.tsval;
	}
	raw_send_o(rp, F_ACK, rp->snd_nxt, rp->rcv_nxt, NULL, 0, &a);
	struct sim_seg g = p->seg;
	free(p);
	return g;
}
