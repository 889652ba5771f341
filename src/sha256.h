/* sha256.h: streaming SHA-256 (FIPS 180-4) for what arrives in pieces and
 * is never held whole (a mail's DATA): 104 bytes of context, no buffer
 * beyond one block. Built only where an emulator needs it (smtp). */
#ifndef LURE_SHA256_H
#define LURE_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes so far */
	uint8_t blk[64];
};

void
sha256_init(struct sha256 *s);
void
sha256_update(struct sha256 *s, const void *p, size_t n);
void
sha256_final(struct sha256 *s, uint8_t out[32]);

#endif
