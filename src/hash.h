/* hash.h: the small digests protocols ask for, not for secrets: MD5 (HTTP
 * and RTSP Digest authentication, JA3), SHA-1 (WS-Security PasswordDigest),
 * hex and base64 encodings (the one base64 of lure: HTTP and RTSP Basic,
 * WS-Security, the shipper's Basic, SSH fingerprints). One call hashes one buffer list; no state kept; SHA-256 (an upload's file.hash.sha256)
 * hashes a stream. */
#ifndef LURE_HASH_H
#define LURE_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash_part {
	const void *p;
	size_t n;
};

/* Digest of the concatenation of parts[0..n). */
void
hash_md5(const struct hash_part *parts, size_t n, uint8_t out[16]);
void
hash_sha1(const struct hash_part *parts, size_t n, uint8_t out[20]);

/* SHA-256 (FIPS 180-4) of a stream that arrives in pieces (an upload):
 * init, update as bytes come, final. */
struct hash_sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes so far */
	uint8_t b[64];
};
void
hash_sha256_init(struct hash_sha256 *c);
void
hash_sha256_update(struct hash_sha256 *c, const void *p, size_t n);
void
hash_sha256_final(struct hash_sha256 *c, uint8_t out[32]);

/* Lower-case hex of p[0..n) into out (2n chars and a NUL). */
void
hash_hex(const uint8_t *p, size_t n, char *out);

/* Standard base64 with padding into out (4*ceil(n/3) chars and a NUL);
 * returns the length. */
size_t
hash_b64(const uint8_t *p, size_t n, char *out);
/* Decode standard base64 s[0..n) into out; returns the length, or -1 on a
 * character outside the alphabet (an '=' but trailing ones) or when more
 * than cap bytes would be written. Trailing '=' are optional; the bits of
 * a last character that make no whole byte are dropped. With
 * HASH_B64_PAD_ENDS the first '=' ends the text and what follows is not
 * looked at (cameras' decoders); with HASH_B64_WHOLE 4k+1 characters (a
 * lone 6 bits) is an error, as in nginx's ngx_decode_base64(). */
#define HASH_B64_PAD_ENDS 1
#define HASH_B64_WHOLE 2
long
hash_unb64(const char *s, size_t n, uint8_t *out, size_t cap, unsigned flags);

#endif
