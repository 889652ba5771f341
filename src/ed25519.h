/* ed25519.h: Ed25519 signatures (RFC 8032, the pure variant) for the SSH
 * host key and X25519 (RFC 7748) for its key exchanges, in a few KiB of
 * code: no precomputed tables in the binary, constant-time field and point
 * arithmetic. Signing only (an SSH server never verifies with its host
 * key). */
#ifndef LURE_ED25519_H
#define LURE_ED25519_H

#include <stddef.h>
#include <stdint.h>

/* The public key of the 32-byte secret seed. */
void
ed25519_public(uint8_t pk[32], const uint8_t seed[32]);

/* The 64-byte signature R || S of m[0..n) by the key seed whose public key
 * is pk (from ed25519_public). */
void
ed25519_sign(uint8_t sig[64], const uint8_t *m, size_t n,
        const uint8_t seed[32], const uint8_t pk[32]);

/* X25519 (RFC 7748): out = the scalar (clamped here) times u (its top
 * bit ignored). -1, out all zero, when that is zero (u of small order, or
 * such a u plus p), else 0. */
int
ed25519_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t u[32]);

#endif
