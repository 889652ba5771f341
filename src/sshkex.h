/* sshkex.h: the SSH server's cryptography, for emu/ssh.c: per-instance host
 * keys (RSA, ECDSA P-256, Ed25519) kept in the identity state file, the key
 * exchange methods of OpenSSH 9.2 (sntrup761x25519, X25519, ECDH on the NIST
 * curves, finite-field DH with the RFC 3526 groups and group exchange), the
 * exchange hash, key derivation, and the wire helpers both files use. All
 * primitives come from mbedTLS, Ed25519 and X25519 from src/ed25519.c,
 * sntrup761 from src/sntrup761.c. Randomness is lure_random(). */
#ifndef LURE_SSHKEX_H
#define LURE_SSHKEX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mbedtls/sha1.h"
#include "mbedtls/sha256.h"
#include "mbedtls/sha512.h"

/* --- wire format (RFC 4251): a bounded writer and reader ------------------ */
struct sshkex_buf {
	uint8_t *p;
	size_t n, cap;
	int err; /* set when a write did not fit or a read ran out */
};

static inline void
sshkex_put(struct sshkex_buf *b, const void *p, size_t n)
{
	if (b->err || n > b->cap - b->n) {
		b->err = 1;
		return;
	}
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static inline void
sshkex_u8(struct sshkex_buf *b, uint8_t v)
{
	sshkex_put(b, &v, 1);
}

static inline void
sshkex_u32(struct sshkex_buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	        (uint8_t)(v >> 8), (uint8_t)v};
	sshkex_put(b, x, 4);
}

static inline void
sshkex_str(struct sshkex_buf *b, const void *p, size_t n)
{
	sshkex_u32(b, (uint32_t)n);
	sshkex_put(b, p, n);
}

static inline void
sshkex_cstr(struct sshkex_buf *b, const char *s)
{
	sshkex_str(b, s, strlen(s));
}

static inline uint32_t
sshkex_peek32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* mpint of the unsigned big-endian number p[0..n) */
void
sshkex_mpint(struct sshkex_buf *b, const uint8_t *p, size_t n);

/* Readers: on a short buffer they set err and return 0 / NULL. */
uint8_t
sshkex_get8(struct sshkex_buf *b);
uint32_t
sshkex_get32(struct sshkex_buf *b);
const uint8_t *
sshkex_getstr(struct sshkex_buf *b, size_t *n);

/* --- algorithms ------------------------------------------------------------ */
enum sshkex_kex {
	SSHKEX_NONE,
	SSHKEX_SNTRUP761, /* sntrup761x25519-sha512(@openssh.com) */
	SSHKEX_X25519, /* curve25519-sha256(@libssh.org) */
	SSHKEX_P256,
	SSHKEX_P384,
	SSHKEX_P521,
	SSHKEX_DH14, /* diffie-hellman-group14-sha256 */
	SSHKEX_DH16, /* diffie-hellman-group16-sha512 */
	SSHKEX_DH18, /* diffie-hellman-group18-sha512 */
	SSHKEX_GEX, /* diffie-hellman-group-exchange-sha256 */
	SSHKEX_DH14_SHA1, /* diffie-hellman-group14-sha1 (dropbear) */
	SSHKEX__MAX
};
enum sshkex_hostkey {
	SSHKEX_HK_NONE,
	SSHKEX_HK_RSA512, /* rsa-sha2-512 */
	SSHKEX_HK_RSA256, /* rsa-sha2-256 */
	SSHKEX_HK_ECDSA, /* ecdsa-sha2-nistp256 */
	SSHKEX_HK_ED25519, /* ssh-ed25519 */
	SSHKEX_HK_RSA1, /* ssh-rsa: the RSA key, SHA-1 signatures (dropbear) */
	SSHKEX_HK__MAX
};
enum sshkex_hash { SSHKEX_SHA256, SSHKEX_SHA384, SSHKEX_SHA512, SSHKEX_SHA1 };

/* The method of a name, or SSHKEX_NONE when not implemented. */
enum sshkex_kex
sshkex_kex_find(const char *name, size_t n);
enum sshkex_hostkey
sshkex_hostkey_find(const char *name, size_t n);
enum sshkex_hash
sshkex_kex_hash(enum sshkex_kex k);
size_t
sshkex_hash_len(enum sshkex_hash h);

/* --- host keys ------------------------------------------------------------- */
/* Load the host keys from the identity blobs "ssh.rsa", "ssh.ecdsa",
 * "ssh.ed25519", or generate and store them (rsa_bits: RSA modulus size).
 * Start-up only; later calls return 0 at once. 0, or -1 with err. */
int
sshkex_setup(unsigned rsa_bits, char *err, size_t errlen);
/* The public key blob of alg (string type || ...); 0 if not loaded. */
size_t
sshkex_hostkey_blob(enum sshkex_hostkey alg, uint8_t *out, size_t cap);
/* The signature blob of alg over the exchange hash h: length, or 0. */
size_t
sshkex_sign(enum sshkex_hostkey alg, const uint8_t *h, size_t hn, uint8_t *out,
        size_t cap);

/* --- the exchange hash ----------------------------------------------------- */
struct sshkex_hctx {
	enum sshkex_hash alg;
	union {
		mbedtls_sha256_context s256;
		mbedtls_sha512_context s512;
		mbedtls_sha1_context s1;
	} u;
};
void
sshkex_hstart(struct sshkex_hctx *h, enum sshkex_hash alg);
void
sshkex_hupdate(struct sshkex_hctx *h, const void *p, size_t n);
/* Finish into out (the hash length); the context is freed. */
void
sshkex_hfinish(struct sshkex_hctx *h, uint8_t *out);
/* Hash a string-encoded value: uint32 length || bytes. */
void
sshkex_hstr(struct sshkex_hctx *h, const void *p, size_t n);

/* --- key exchange ---------------------------------------------------------- */
/* A finite-field group: the prime in hex (not NUL-terminated; it may point
 * into persona data) and the generator. */
struct sshkex_group {
	const char *hex;
	size_t hexlen;
	unsigned g;
};

/* The server side of one ECDH-like exchange (all but GEX's group message):
 * from the client's value c[0..cn) (Q_C, or the mpint e with its length
 * for DH), write the server's value (Q_S or f) as its wire encoding (string
 * or mpint, with length) to reply, and the shared secret K in its wire
 * encoding (mpint, or string for sntrup761) to kout. grp: GEX's group
 * (NULL for the others). Returns 0, or -1 on a bad client value or an
 * internal failure. */
int
sshkex_exchange(enum sshkex_kex k, const struct sshkex_group *grp,
        const uint8_t *c, size_t cn, struct sshkex_buf *reply,
        struct sshkex_buf *kout);
/* The group GEX answers (min, n, max) with, as sshd 9.2 picks it: bounds
 * clamped to 2048..8192 bits, then OpenSSH's choose_dh() over the moduli
 * file text m[0..mn) (a random one of the best size), or without a fitting
 * line (or no file: m NULL) the RFC 3526 fallback by max. Returns 0, or -1
 * for a request sshd refuses. */
int
sshkex_gex_choose(uint32_t min, uint32_t n, uint32_t max, const uint8_t *m,
        size_t mn, struct sshkex_group *out);
/* Write mpint p and mpint g of grp. */
void
sshkex_gex_put(struct sshkex_buf *b, const struct sshkex_group *grp);

/* RFC 4253 7.2 key derivation: need bytes of key letter x ('A'..'F') from
 * the encoded K, the exchange hash h and the session id. */
void
sshkex_derive(enum sshkex_hash alg, const uint8_t *k, size_t kn,
        const uint8_t *h, const uint8_t *sid, size_t hn, char x, uint8_t *out,
        size_t need);

#endif
