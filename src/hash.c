/* hash.c: MD5 (RFC 1321), SHA-1 and SHA-256 (FIPS 180-4), hex and base64, written from
 * the specifications for small inputs: each call streams its parts through
 * one 64-byte block buffer on the stack. */
#include <string.h>

#include "hash.h"

#define ROL(x, c) (((x) << (c)) | ((x) >> (32 - (c))))
#define LURE_HASH_MIN(a, b) ((a) < (b) ? (a) : (b))

static void
md5_block(uint32_t h[4], const uint8_t b[64])
{
	static const uint32_t k[64] = {0xd76aa478, 0xe8c7b756, 0x242070db,
	        0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122,
	        0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
	        0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681,
	        0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	        0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942,
	        0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9,
	        0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa, 0xd4ef3085,
	        0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3,
	        0x8f0ccc92, 0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0,
	        0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
	        0xeb86d391};
	static const uint8_t r[16] = {
	        7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21};
	uint32_t w[16], a = h[0], bb = h[1], c = h[2], d = h[3];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
		       (uint32_t)b[4 * i + 2] << 16 |
		       (uint32_t)b[4 * i + 3] << 24;
	for (int i = 0; i < 64; i++) {
		uint32_t f, t;
		int g;
		if (i < 16)
			f = (bb & c) | (~bb & d), g = i;
		else if (i < 32)
			f = (d & bb) | (~d & c), g = (5 * i + 1) % 16;
		else if (i < 48)
			f = bb ^ c ^ d, g = (3 * i + 5) % 16;
		else
			f = c ^ (bb | ~d), g = (7 * i) % 16;
		t = d;
		d = c;
		c = bb;
		f += a + k[i] + w[g];
		bb += ROL(f, r[(i / 16) * 4 + i % 4]);
		a = t;
	}
	h[0] += a, h[1] += bb, h[2] += c, h[3] += d;
}

static void
sha1_block(uint32_t h[5], const uint8_t b[64])
{
	uint32_t w[80], a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
		       (uint32_t)b[4 * i + 2] << 8 | (uint32_t)b[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;
		if (i < 20)
			f = (bb & c) | (~bb & d), k = 0x5a827999;
		else if (i < 40)
			f = bb ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (bb & c) | (bb & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = bb ^ c ^ d, k = 0xca62c1d6;
		t = ROL(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = ROL(bb, 30);
		bb = a;
		a = t;
	}
	h[0] += a, h[1] += bb, h[2] += c, h[3] += d, h[4] += e;
}

/* Merkle-Damgard over the parts; big: length and words big-endian. */
static void
hash_run(const struct hash_part *parts, size_t n, uint32_t *h, int big,
        void (*block)(uint32_t *, const uint8_t *))
{
	uint8_t b[64];
	size_t k = 0;
	uint64_t bits = 0;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = parts[i].p;
		for (size_t j = 0; j < parts[i].n; j++) {
			b[k++] = p[j];
			if (k == 64)
				block(h, b), k = 0;
		}
		bits += (uint64_t)parts[i].n * 8;
	}
	b[k++] = 0x80;
	if (k > 56) {
		memset(b + k, 0, 64 - k);
		block(h, b);
		k = 0;
	}
	memset(b + k, 0, 56 - k);
	for (int i = 0; i < 8; i++)
		b[56 + i] = (uint8_t)(bits >> (big ? 56 - 8 * i : 8 * i));
	block(h, b);
}

void
hash_md5(const struct hash_part *parts, size_t n, uint8_t out[16])
{
	uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

	hash_run(parts, n, h, 0, md5_block);
	for (int i = 0; i < 16; i++)
		out[i] = (uint8_t)(h[i / 4] >> (8 * (i % 4)));
}

void
hash_sha1(const struct hash_part *parts, size_t n, uint8_t out[20])
{
	uint32_t h[5] = {
	        0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};

	hash_run(parts, n, h, 1, sha1_block);
	for (int i = 0; i < 20; i++)
		out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

#define ROR(x, c) (((x) >> (c)) | ((x) << (32 - (c))))

static void
sha256_block(uint32_t h[8], const uint8_t b[64])
{
	static const uint32_t k[64] = {0x428a2f98, 0x71374491, 0xb5c0fbcf,
	        0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74,
	        0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	        0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc,
	        0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
	        0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb,
	        0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70,
	        0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3,
	        0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f,
	        0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	        0xc67178f2};
	uint32_t w[64], v[8];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
		       (uint32_t)b[4 * i + 2] << 8 | (uint32_t)b[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^
		              (w[i - 15] >> 3),
		         s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^
		              (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, h, sizeof v);
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = v[7] +
		              (ROR(v[4], 6) ^ ROR(v[4], 11) ^ ROR(v[4], 25)) +
		              ((v[4] & v[5]) ^ (~v[4] & v[6])) + k[i] + w[i],
		         t2 = (ROR(v[0], 2) ^ ROR(v[0], 13) ^ ROR(v[0], 22)) +
		              ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof v[0]);
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		h[i] += v[i];
}

void
hash_sha256_init(struct hash_sha256 *c)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
	        0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(c->h, iv, sizeof iv);
	c->len = 0;
}

void
hash_sha256_update(struct hash_sha256 *c, const void *p, size_t n)
{
	const uint8_t *s = p;

	while (n) {
		size_t k = c->len % 64, take = LURE_HASH_MIN(64 - k, n);
		memcpy(c->b + k, s, take);
		c->len += take, s += take, n -= take;
		if ((c->len % 64) == 0)
			sha256_block(c->h, c->b);
	}
}

void
hash_sha256_final(struct hash_sha256 *c, uint8_t out[32])
{
	uint64_t bits = c->len * 8;
	size_t k = c->len % 64;

	c->b[k++] = 0x80;
	if (k > 56) {
		memset(c->b + k, 0, 64 - k);
		sha256_block(c->h, c->b);
		k = 0;
	}
	memset(c->b + k, 0, 56 - k);
	for (int i = 0; i < 8; i++)
		c->b[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_block(c->h, c->b);
	for (int i = 0; i < 32; i++)
		out[i] = (uint8_t)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

void
hash_hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = "0123456789abcdef"[p[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[p[i] & 15];
	}
	out[2 * n] = 0;
}

static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
hash_b64(const uint8_t *p, size_t n, char *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[k++] = b64[v >> 18];
		out[k++] = b64[(v >> 12) & 63];
		out[k++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[k++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[k] = 0;
	return k;
}

static int
b64_value(uint8_t c)
{
	return c >= 'A' && c <= 'Z'   ? c - 'A'
	       : c >= 'a' && c <= 'z' ? c - 'a' + 26
	       : c >= '0' && c <= '9' ? c - '0' + 52
	       : c == '+'             ? 62
	       : c == '/'             ? 63
	                              : -1;
}

long
hash_unb64(const char *s, size_t n, uint8_t *out, size_t cap, unsigned flags)
{
	const char *pad;
	uint32_t acc = 0;
	size_t k = 0, bits = 0;

	if ((flags & HASH_B64_PAD_ENDS) && (pad = memchr(s, '=', n)))
		n = (size_t)(pad - s);
	while (n && s[n - 1] == '=')
		n--;
	if ((flags & HASH_B64_WHOLE) && n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((uint8_t)s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (k == cap)
				return -1;
			out[k++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)k;
}
