/* hash.h: the small digests protocols ask for, not for secrets: MD5 (HTTP
 * and RTSP Digest authentication, JA3), SHA-1 (WS-Security PasswordDigest),
 * hex and base64 encodings. One call hashes one buffer list; no state kept. */
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

/* Lower-case hex of p[0..n) into out (2n chars and a NUL). */
void
hash_hex(const uint8_t *p, size_t n, char *out);

/* Standard base64 with padding into out (4*ceil(n/3) chars and a NUL);
 * returns the length. */
size_t
hash_b64(const uint8_t *p, size_t n, char *out);
/* Decode base64 (padding optional); returns the length, or -1 on a bad
 * character or when more than cap bytes would be written. */
long
hash_unb64(const char *s, size_t n, uint8_t *out, size_t cap);

#endif
