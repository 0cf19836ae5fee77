/* sha256.h — SHA-256 (FIPS 180-4) for the transcript's data digests: the
 * conformance program needs no crypto library. */
#ifndef CONFORM_SHA256_H
#define CONFORM_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;          /* bytes hashed so far */
	uint8_t blk[64];
	size_t fill;           /* bytes waiting in blk */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, uint8_t out[32]);
/* First 16 hex digits of the digest (enough to tell two streams apart). */
void sha256_hex16(struct sha256 *s, char out[17]);

#endif
