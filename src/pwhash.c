/* pwhash.c: md5crypt (Poul-Henning Kamp's FreeBSD scheme, as glibc and
 * BusyBox compute it) over src/hash.c's MD5, and sha512crypt (Ulrich
 * Drepper's "Unix crypt using SHA-256 and SHA-512", rounds 5000) over
 * mbedTLS's SHA-512, written from their descriptions. Checked against
 * `openssl passwd -1 / -6 -salt` and Python's crypt by
 * test/unit/test_pwhash.c. Start-up only (identity templates): 1000 MD5
 * or 5000 SHA-512 blocks per hash. */
#include "pwhash.h"

#include <string.h>

#include <mbedtls/sha512.h>

#include "hash.h"

const char pwhash_b64[] =
        "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* n characters of the 24 bits a:b:c, least significant first */
static size_t
put24(char *o, unsigned a, unsigned b, unsigned c, int n)
{
	unsigned long w = (unsigned long)a << 16 | b << 8 | c;

	for (int i = 0; i < n; i++, w >>= 6)
		o[i] = pwhash_b64[w & 63];
	return (size_t)n;
}

/* "$I$" and the salt (cut to max) into out; returns the length so far */
static size_t
head(char *out, char id, const char *s, size_t sn, size_t max, size_t *sl)
{
	if (sn > max)
		sn = max;
	for (size_t i = 0; i < sn; i++)
		if (s[i] == '$' || s[i] == ':' || s[i] == '\n' || !s[i]) {
			sn = i; /* crypt stops the salt there */
			break;
		}
	out[0] = '$', out[1] = id, out[2] = '$';
	memcpy(out + 3, s, sn);
	out[3 + sn] = '$';
	*sl = sn;
	return 4 + sn;
}

size_t
pwhash_md5crypt(const char *pw, size_t pn, const char *s, size_t sn, char *out)
{
	static const uint8_t perm[16] = {
	        0, 6, 12, 1, 7, 13, 2, 8, 14, 3, 9, 15, 4, 10, 5, 11};
	struct hash_part p[20];
	uint8_t d[16], t[16];
	size_t o, np = 0;

	if (pn > PWHASH_PW_MAX)
		pn = PWHASH_PW_MAX;
	o = head(out, '1', s, sn, 8, &sn);
	p[0] = (struct hash_part){pw, pn};
	p[1] = (struct hash_part){s, sn};
	p[2] = p[0];
	hash_md5(p, 3, d); /* the "alternate" sum */
	p[np++] = (struct hash_part){pw, pn};
	p[np++] = (struct hash_part){"$1$", 3};
	p[np++] = (struct hash_part){s, sn};
	for (size_t l = pn; l > 0; l -= l > 16 ? 16 : l)
		p[np++] = (struct hash_part){d, l > 16 ? 16 : l};
	for (size_t i = pn; i; i >>= 1) /* a NUL byte, or the first */
		p[np++] = (struct hash_part){i & 1 ? "" : pw, 1};
	hash_md5(p, np, d);
	for (int i = 0; i < 1000; i++) {
		np = 0;
		p[np++] = i & 1 ? (struct hash_part){pw, pn}
		                : (struct hash_part){d, 16};
		if (i % 3)
			p[np++] = (struct hash_part){s, sn};
		if (i % 7)
			p[np++] = (struct hash_part){pw, pn};
		p[np++] = i & 1 ? (struct hash_part){d, 16}
		                : (struct hash_part){pw, pn};
		hash_md5(p, np, t);
		memcpy(d, t, 16);
	}
	for (int i = 0; i < 15; i += 3)
		o += put24(
		        out + o, d[perm[i]], d[perm[i + 1]], d[perm[i + 2]], 4);
	o += put24(out + o, 0, 0, d[11], 2);
	out[o] = 0;
	return o;
}

/* SHA-512 of a part given n times */
static void
sha512_rep(const void *a, size_t an, size_t n, uint8_t out[64])
{
	mbedtls_sha512_context c;

	mbedtls_sha512_init(&c);
	(void)mbedtls_sha512_starts_ret(&c, 0);
	while (n--)
		(void)mbedtls_sha512_update_ret(&c, a, an);
	(void)mbedtls_sha512_finish_ret(&c, out);
	mbedtls_sha512_free(&c);
}

size_t
pwhash_sha512crypt(
        const char *pw, size_t pn, const char *s, size_t sn, char *out)
{
	mbedtls_sha512_context c;
	uint8_t a[64], b[64], pp[64], ss[64];
	size_t o;

	if (pn > PWHASH_PW_MAX)
		pn = PWHASH_PW_MAX;
	o = head(out, '6', s, sn, 16, &sn);
	mbedtls_sha512_init(&c);
	(void)mbedtls_sha512_starts_ret(&c, 0); /* B = H(pw salt pw) */
	(void)mbedtls_sha512_update_ret(&c, (const uint8_t *)pw, pn);
	(void)mbedtls_sha512_update_ret(&c, (const uint8_t *)s, sn);
	(void)mbedtls_sha512_update_ret(&c, (const uint8_t *)pw, pn);
	(void)mbedtls_sha512_finish_ret(&c, b);
	(void)mbedtls_sha512_starts_ret(&c, 0); /* A */
	(void)mbedtls_sha512_update_ret(&c, (const uint8_t *)pw, pn);
	(void)mbedtls_sha512_update_ret(&c, (const uint8_t *)s, sn);
	(void)mbedtls_sha512_update_ret(&c, b, pn); /* pn <= 64 */
	for (size_t i = pn; i; i >>= 1)
		(void)mbedtls_sha512_update_ret(
		        &c, i & 1 ? b : (const uint8_t *)pw, i & 1 ? 64 : pn);
	(void)mbedtls_sha512_finish_ret(&c, a);
	sha512_rep(pw, pn, pn, pp); /* P: DP's first pn bytes */
	sha512_rep(s, sn, 16u + a[0], ss); /* S: DS's first sn bytes */
	for (int i = 0; i < 5000; i++) {
		(void)mbedtls_sha512_starts_ret(&c, 0);
		(void)mbedtls_sha512_update_ret(
		        &c, i & 1 ? pp : a, i & 1 ? pn : 64);
		if (i % 3)
			(void)mbedtls_sha512_update_ret(&c, ss, sn);
		if (i % 7)
			(void)mbedtls_sha512_update_ret(&c, pp, pn);
		(void)mbedtls_sha512_update_ret(
		        &c, i & 1 ? a : pp, i & 1 ? 64 : pn);
		(void)mbedtls_sha512_finish_ret(&c, a);
	}
	mbedtls_sha512_free(&c);
	/* bytes k*22, +21, +42 (mod 63) per group of four characters */
	for (unsigned k = 0, x; k < 21; k++) {
		x = k * 22 % 63;
		o += put24(
		        out + o, a[x], a[(x + 21) % 63], a[(x + 42) % 63], 4);
	}
	o += put24(out + o, 0, 0, a[63], 2);
	out[o] = 0;
	return o;
}
