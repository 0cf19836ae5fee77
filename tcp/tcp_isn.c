/* tcp_isn.c — initial sequence numbers per RFC 6528 §3:
 * ISN = M + F(localip, localport, remoteip, remoteport, secretkey), with M a
 * 4-microsecond clock and F SipHash-2-4 under a per-engine random key. */
#include "tcp_internal.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static inline void sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
	v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

/* SipHash-2-4 of n 64-bit words under key (also the SYN cookies' MAC). */
uint64_t tcp_siphash(const uint64_t k[2], const uint64_t *m, unsigned int n)
{
	uint64_t v[4] = {
		k[0] ^ 0x736f6d6570736575ull, k[1] ^ 0x646f72616e646f6dull,
		k[0] ^ 0x6c7967656e657261ull, k[1] ^ 0x7465646279746573ull,
	};
	uint64_t b = (uint64_t)(8 * n) << 56;
	unsigned int i;

	for (i = 0; i <= n; i++) {
		uint64_t w = i < n ? m[i] : b;
		v[3] ^= w;
		sipround(v);
		sipround(v);
		v[0] ^= w;
	}
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* The 12-byte tuple as two words, zero padded. */
uint32_t tcp_isn(const struct tcp_engine *eng, const struct tcp_tuple *t)
{
	uint64_t m[2] = {
		((uint64_t)t->lip << 32) | t->rip,
		((uint64_t)t->lport << 16) | t->rport,
	};

	return (uint32_t)tcp_siphash(eng->isn_key, m, 2) +
	       (uint32_t)(eng->now_us >> 2);
}

/* Sets the ISS of a connection whose SYN has not been sent yet. */
void tcp_conn_set_iss(struct tcp_conn *c, uint32_t iss)
{
	c->iss = iss;
	c->snd_una = c->snd_nxt = c->snd_max = c->snd_sml = iss;
	c->sndq_seq = iss + 1;
}
