/* sntrup761.h: the Streamlined NTRU Prime KEM sntrup761 (NTRU Prime round 3,
 * p=761 q=4591 w=286) with the byte strings of the NIST submission, which
 * OpenSSH's sntrup761x25519-sha512 sends as they are. Constant time in all
 * secrets; randomness from the caller; no heap, at most 30 KiB of stack,
 * and a 24 KiB static work area for products (one call at a time). */
#ifndef LURE_SNTRUP761_H
#define LURE_SNTRUP761_H

#include <stddef.h>
#include <stdint.h>

#define SNTRUP761_PUBLICKEY_BYTES 1158
#define SNTRUP761_SECRETKEY_BYTES 1763
#define SNTRUP761_CIPHERTEXT_BYTES 1039
#define SNTRUP761_KEY_BYTES 32

/* Fill out with len random bytes, return 0 (or nonzero on failure): the
 * signature of mbedTLS's f_rng, so mbedtls_ctr_drbg_random fits. Each
 * operation asks for whole blocks in the order of the reference code (the
 * NIST known-answer tests depend on it): keypair 3044 bytes per candidate g,
 * 3044 for f, 191 for rho; enc 3044 for r. */
typedef int
sntrup761_rng(void *ctx, unsigned char *out, size_t len);

/* A key pair: pk is what the client sends in SSH_MSG_KEX_ECDH_INIT before
 * its X25519 key. Returns 0, or -1 when rng or SHA-512 failed. */
int
sntrup761_keypair(uint8_t pk[SNTRUP761_PUBLICKEY_BYTES],
        uint8_t sk[SNTRUP761_SECRETKEY_BYTES], sntrup761_rng *rng,
        void *rng_ctx);

/* Encapsulate to any 1158-byte string pk (every string decodes to a key):
 * ct for the peer, k the 32-byte shared key. Returns 0, or -1 when rng or
 * SHA-512 failed (ct and k are then zero). */
int
sntrup761_enc(uint8_t ct[SNTRUP761_CIPHERTEXT_BYTES],
        uint8_t k[SNTRUP761_KEY_BYTES],
        const uint8_t pk[SNTRUP761_PUBLICKEY_BYTES], sntrup761_rng *rng,
        void *rng_ctx);

/* Decapsulate any 1039-byte string: the shared key when ct is the
 * encapsulation it claims to be, else the implicit-rejection key (a hash of
 * the secret rho and ct), with no difference in timing. Returns 0, or -1
 * when SHA-512 failed (k is then zero). */
int
sntrup761_dec(uint8_t k[SNTRUP761_KEY_BYTES],
        const uint8_t ct[SNTRUP761_CIPHERTEXT_BYTES],
        const uint8_t sk[SNTRUP761_SECRETKEY_BYTES]);

#endif
