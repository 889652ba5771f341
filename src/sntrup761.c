/* sntrup761.c: sntrup761 written from the NTRU Prime round-3 specification
 * (Bernstein et al., 2020): the rings Z[x]/(x^761-x-1) mod q and mod 3, the
 * generic Encode/Decode, Short and Small from 32-bit random words, and the
 * KEM with implicit rejection. Loop bounds and memory indices never depend
 * on a secret; secrets only flow through arithmetic and masks. */
#include <string.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/sha512.h>
#include <mbedtls/version.h>

#include "sntrup761.h"

/* The constant-time check (test/unit/test_sntrup761.c under valgrind) marks
 * secrets undefined; this marks a value that may be published as defined. */
#ifndef SNTRUP761_DECLASSIFY
#define SNTRUP761_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

#if MBEDTLS_VERSION_MAJOR >= 3
#define sha512_starts mbedtls_sha512_starts
#define sha512_update mbedtls_sha512_update
#define sha512_finish mbedtls_sha512_finish
#else
#define sha512_starts mbedtls_sha512_starts_ret
#define sha512_update mbedtls_sha512_update_ret
#define sha512_finish mbedtls_sha512_finish_ret
#endif

#define P 761
#define Q 4591
#define W 286
#define Q12 ((Q - 1) / 2)
#define SMALL_BYTES ((P + 3) / 4)
#define HASH_BYTES 32
#define PK_BYTES SNTRUP761_PUBLICKEY_BYTES
#define CT_BYTES SNTRUP761_CIPHERTEXT_BYTES
#define ROUNDED_BYTES (CT_BYTES - HASH_BYTES)
/* sk = Small(f) | Small(1/g in R/3) | pk | rho | Hash_prefix(4, pk) */
#define SK_V SMALL_BYTES
#define SK_PK (2 * SMALL_BYTES)
#define SK_RHO (SK_PK + PK_BYTES)
#define SK_CACHE (SK_RHO + SMALL_BYTES)
_Static_assert(SK_CACHE + HASH_BYTES == SNTRUP761_SECRETKEY_BYTES, "sk");

typedef int8_t small; /* -1, 0, 1 */
typedef int16_t fq; /* -Q12..Q12 */

/* --- masks and constant-time division ---------------------------------- */

static int32_t
neg_mask(int32_t x) /* -1 when x < 0 */
{
	return -(int32_t)((uint32_t)x >> 31);
}

static int32_t
nonzero_mask(int32_t x) /* -1 when x != 0 */
{
	uint32_t u = (uint32_t)x;

	return -(int32_t)((u | (0u - u)) >> 31);
}

#define RECIP32(m) ((((uint64_t)1) << 32) / (m))

/* u / m and u % m for 0 < m < 2^16, with v = RECIP32(m): the quotient
 * estimate u*v/2^32 is low by at most one, and one masked step fixes it,
 * so no division instruction (variable-time on many CPUs) sees u. */
static uint32_t
udivmod(uint32_t *rem, uint32_t u, uint32_t m, uint64_t v)
{
	uint32_t t = (uint32_t)((u * v) >> 32);
	uint32_t r = u - t * m; /* < 2m <= 2^17: r - m wraps when r < m */
	uint32_t ge = ((r - m) >> 31) - 1u;

	*rem = r - (m & ge);
	return t - ge;
}

/* x mod q in -Q12..Q12, for |x| < 2^26 */
static fq
fq_freeze(int32_t x)
{
	uint32_t r;

	udivmod(&r, (uint32_t)(x + Q12 + Q * 16384), Q, RECIP32(Q));
	return (fq)((int32_t)r - Q12);
}

/* x mod 3 in -1..1, for |x| < 2^20 */
static small
f3_freeze(int32_t x)
{
	uint32_t r;

	udivmod(&r, (uint32_t)(x + 1 + 3 * (1 << 20)), 3, RECIP32(3));
	return (small)((int32_t)r - 1);
}

/* 1/a in Z/q by Fermat (a^(q-2)): the exponent is public */
static fq
fq_recip(fq a)
{
	int32_t r = 1, b = a;

	for (uint32_t e = Q - 2; e; e >>= 1) {
		if (e & 1)
			r = fq_freeze(r * b);
		b = fq_freeze(b * b);
	}
	return (fq)r;
}

/* --- arithmetic in R/q and R/3 ------------------------------------------ */

/* Karatsuba's multiplication over int32, n = KBASE * 2^k coefficients of
 * a and b: r[0..2n) = a*b (r[2n-1] = 0). Three half products a level, from
 * 768 down to 24 (5 levels: 243 schoolbook products of 24, a quarter of
 * the multiplications of one of 768, at -Os too), whose fixed trip counts
 * compilers vectorise at -O2. Sizes are public; the values only meet
 * + - *. scratch holds 4n. No overflow: at depth d the inputs are at most
 * 2^d |a| and 2^d, so every sum is below 768 * 2^5 * 2295 < 2^26. */
#define KBASE 24
#define KN 768 /* P padded to KBASE * 2^5 */
static void
kmul(int32_t *r, const int32_t *a, const int32_t *b, int n, int32_t *scratch)
{
	int h = n / 2;
	int32_t *as = scratch, *bs = scratch + h, *m = scratch + n;

	if (n == KBASE) {
		memset(r, 0, 2 * (size_t)n * sizeof r[0]);
		for (int i = 0; i < n; i++) {
			int32_t ai = a[i], *ri = r + i;

			for (int j = 0; j < KBASE; j++)
				ri[j] += ai * b[j];
		}
		return;
	}
	for (int i = 0; i < h; i++) {
		as[i] = a[i] + a[h + i];
		bs[i] = b[i] + b[h + i];
	}
	kmul(m, as, bs, h, scratch + 2 * n); /* (a0 + a1)(b0 + b1) */
	kmul(r, a, b, h, scratch + 2 * n); /* a0 b0 */
	kmul(r + n, a + h, b + h, h, scratch + 2 * n); /* a1 b1 */
	for (int i = 0; i < n; i++)
		m[i] -= r[i] + r[n + i];
	for (int i = 0; i < n; i++)
		r[h + i] += m[i];
}

/* out = a*b folded by x^p = x + 1, not reduced: |out| < 3 * P * max|a|.
 * The operands and the scratch are static (single-threaded, like the
 * rest of lure) to keep the stack small; all are wiped after use. */
static struct {
	int32_t a[KN], b[KN], t[2 * KN], scratch[4 * KN];
} kw;
_Static_assert(
        KN >= P && KN % KBASE == 0 && ((KN / KBASE) & (KN / KBASE - 1)) == 0,
        "KN: P padded to KBASE times a power of two");

static void
mul_fold(int32_t out[P], const fq a[P], const small b[P])
{
	int32_t *t = kw.t;

	for (int j = 0; j < KN; j++) {
		kw.a[j] = j < P ? a[j] : 0;
		kw.b[j] = j < P ? b[j] : 0;
	}
	kmul(t, kw.a, kw.b, KN, kw.scratch);
	/* x^(p+k) = x^(k+1) + x^k, and k + 1 < p for every k here */
	for (int i = P; i < 2 * P - 1; i++) {
		t[i - P] += t[i];
		t[i - P + 1] += t[i];
	}
	memcpy(out, t, P * sizeof t[0]);
	mbedtls_platform_zeroize(&kw, sizeof kw);
}

static void
rq_mul_small(fq h[P], const fq a[P], const small b[P])
{
	int32_t t[P];

	mul_fold(t, a, b);
	for (int i = 0; i < P; i++)
		h[i] = fq_freeze(t[i]);
	mbedtls_platform_zeroize(t, sizeof t);
}

static void
r3_mul(small h[P], const small a[P], const small b[P])
{
	int32_t t[P];
	fq a16[P];

	for (int i = 0; i < P; i++)
		a16[i] = a[i];
	mul_fold(t, a16, b);
	for (int i = 0; i < P; i++)
		h[i] = f3_freeze(t[i]);
	mbedtls_platform_zeroize(t, sizeof t);
	mbedtls_platform_zeroize(a16, sizeof a16);
}

/*
 * Inversion by the Bernstein-Yang divstep recurrence ("Fast constant-time
 * gcd computation and modular inversion", 2019): f starts as the
 * modulus x^p - x - 1 and g as the input, both reversed in p+1 slots; each
 * of the 2p-1 steps swaps (f,v) with (g,r) when delta > 0 and g(0) != 0,
 * then cancels g(0) with f and divides g by x while v is multiplied by x.
 * After the last step the input is invertible exactly when delta == 0, and
 * its inverse is v reversed over p slots, divided by f(0).
 */

static void
divstep_swap(int32_t *delta, int32_t *swap, int32_t g0)
{
	*swap = neg_mask(-*delta) & nonzero_mask(g0);
	*delta = (*delta ^ (*swap & (*delta ^ -*delta))) + 1;
}

/* out = 1/a in R/3; returns 0, or -1 when a is not invertible */
static int32_t
r3_recip(small out[P], const small a[P])
{
	small f[P + 1], g[P + 1], v[P + 1], r[P + 1];
	int32_t delta = 1, swap;

	memset(f, 0, sizeof f);
	memset(v, 0, sizeof v);
	memset(r, 0, sizeof r);
	f[0] = 1;
	f[P - 1] = f[P] = -1;
	for (int i = 0; i < P; i++)
		g[i] = a[P - 1 - i];
	g[P] = 0;
	r[0] = 1;
	for (int step = 0; step < 2 * P - 1; step++) {
		memmove(v + 1, v, P);
		v[0] = 0;
		divstep_swap(&delta, &swap, g[0]);
		for (int i = 0; i <= P; i++) {
			small t = (small)(swap & (f[i] ^ g[i]));
			f[i] ^= t;
			g[i] ^= t;
			t = (small)(swap & (v[i] ^ r[i]));
			v[i] ^= t;
			r[i] ^= t;
		}
		int32_t f0 = f[0], g0 = g[0];
		for (int i = 0; i < P; i++)
			g[i] = f3_freeze(f0 * g[i + 1] - g0 * f[i + 1]);
		g[P] = 0;
		for (int i = 0; i <= P; i++)
			r[i] = f3_freeze(f0 * r[i] - g0 * v[i]);
	}
	/* f(0) is 1 or -1, its own inverse */
	for (int i = 0; i < P; i++)
		out[i] = (small)(f[0] * v[P - 1 - i]);
	mbedtls_platform_zeroize(f, sizeof f);
	mbedtls_platform_zeroize(g, sizeof g);
	mbedtls_platform_zeroize(v, sizeof v);
	mbedtls_platform_zeroize(r, sizeof r);
	return nonzero_mask(delta);
}

/* out = 1/(3a) in R/q, a nonzero (R/q is a field: always invertible) */
static void
rq_recip3(fq out[P], const small a[P])
{
	fq f[P + 1], g[P + 1], v[P + 1], r[P + 1];
	int32_t delta = 1, swap;

	memset(f, 0, sizeof f);
	memset(v, 0, sizeof v);
	memset(r, 0, sizeof r);
	f[0] = 1;
	f[P - 1] = f[P] = -1;
	for (int i = 0; i < P; i++)
		g[i] = a[P - 1 - i];
	g[P] = 0;
	r[0] = fq_recip(3);
	for (int step = 0; step < 2 * P - 1; step++) {
		memmove(v + 1, v, P * sizeof v[0]);
		v[0] = 0;
		divstep_swap(&delta, &swap, g[0]);
		for (int i = 0; i <= P; i++) {
			fq t = (fq)(swap & (f[i] ^ g[i]));
			f[i] ^= t;
			g[i] ^= t;
			t = (fq)(swap & (v[i] ^ r[i]));
			v[i] ^= t;
			r[i] ^= t;
		}
		int32_t f0 = f[0], g0 = g[0];
		for (int i = 0; i < P; i++)
			g[i] = fq_freeze(f0 * g[i + 1] - g0 * f[i + 1]);
		g[P] = 0;
		for (int i = 0; i <= P; i++)
			r[i] = fq_freeze(f0 * r[i] - g0 * v[i]);
	}
	int32_t scale = fq_recip(f[0]);
	for (int i = 0; i < P; i++)
		out[i] = fq_freeze(scale * v[P - 1 - i]);
	mbedtls_platform_zeroize(f, sizeof f);
	mbedtls_platform_zeroize(g, sizeof g);
	mbedtls_platform_zeroize(v, sizeof v);
	mbedtls_platform_zeroize(r, sizeof r);
}

/* --- encodings ------------------------------------------------------------ */

/*
 * The spec's Encode(R, M) for M = (m, ..., m, mlast): neighbours are merged
 * pairwise, level by level, in place; a merged value gives out its low bytes
 * while its modulus is >= 2^14, and the last value gives out bytes while its
 * modulus is > 1. How many bytes depends on the moduli only, so on nothing
 * secret. Values of level k+1 come after all bytes of level k.
 */
static void
encode(uint8_t *out, uint32_t *r, size_t len, uint32_t m, uint32_t mlast)
{
	while (len > 1) {
		size_t i, n = 0;
		uint32_t m2 = m, mlast2 = mlast;

		for (i = 0; i + 1 < len; i += 2) {
			int last = i + 2 == len;
			uint32_t mm = m * (last ? mlast : m);
			uint32_t x = r[i] + r[i + 1] * m;

			for (; mm >= 16384; mm = (mm + 255) >> 8, x >>= 8)
				*out++ = (uint8_t)x;
			r[n++] = x;
			if (last)
				mlast2 = mm;
			else
				m2 = mm;
		}
		if (i < len)
			r[n++] = r[i];
		len = n;
		m = m2;
		mlast = mlast2;
	}
	for (; mlast > 1; mlast = (mlast + 255) >> 8, r[0] >>= 8)
		*out++ = (uint8_t)r[0];
}

/* The inverse, for any input bytes: each output is reduced mod its modulus
 * (len values, all moduli m) */
static void
decode(uint32_t *r, const uint8_t *s, size_t len, uint32_t m)
{
	struct {
		const uint8_t *s; /* the level's first byte */
		size_t len, step; /* values; bytes per pair but the last */
		uint32_t m, mlast;
	} lv[40];
	size_t n = 0;
	uint32_t mlast = m, x, t, mm;

	/* up: where each level's bytes start, and its moduli */
	for (; len > 1; n++, len = (len + 1) / 2) {
		uint32_t m2 = m, mlast2 = mlast;

		lv[n].s = s;
		lv[n].len = len;
		lv[n].step = 0;
		lv[n].m = m;
		lv[n].mlast = mlast;
		for (size_t i = 0; i + 1 < len; i += 2) {
			int last = i + 2 == len;
			size_t b = 0;

			for (mm = m * (last ? mlast : m); mm >= 16384; b++)
				mm = (mm + 255) >> 8;
			s += b;
			if (last) {
				mlast2 = mm;
			} else {
				lv[n].step = b;
				m2 = mm;
			}
		}
		m = m2;
		mlast = mlast2;
	}
	for (x = 0, t = 1, mm = mlast; mm > 1; mm = (mm + 255) >> 8, t <<= 8)
		x += *s++ * t;
	udivmod(&r[0], x, mlast, RECIP32(mlast));
	/* down: split each value into the pair it was merged from */
	while (n--) {
		size_t half = (lv[n].len + 1) / 2;
		uint32_t m0 = lv[n].m;
		uint64_t v0 = RECIP32(m0);

		if (lv[n].len & 1)
			r[lv[n].len - 1] = r[half - 1];
		for (size_t k = lv[n].len / 2; k-- > 0;) {
			int last = 2 * k + 2 == lv[n].len;
			uint32_t m1 = last ? lv[n].mlast : m0, lo, hi;
			const uint8_t *b = lv[n].s + k * lv[n].step;

			for (x = 0, t = 1, mm = m0 * m1; mm >= 16384;
			        mm = (mm + 255) >> 8, t <<= 8)
				x += *b++ * t;
			x += t * r[k];
			hi = udivmod(&lo, x, m0, v0);
			udivmod(&hi, hi, m1, RECIP32(m1));
			r[2 * k] = lo;
			r[2 * k + 1] = hi;
		}
	}
}

static void
rq_encode(uint8_t out[PK_BYTES], const fq a[P])
{
	uint32_t r[P];

	for (int i = 0; i < P; i++)
		r[i] = (uint32_t)(a[i] + Q12);
	encode(out, r, P, Q, Q);
}

static void
rq_decode(fq a[P], const uint8_t s[PK_BYTES])
{
	uint32_t r[P];

	decode(r, s, P, Q);
	for (int i = 0; i < P; i++)
		a[i] = (fq)((int32_t)r[i] - Q12);
}

/* multiples of 3 in -Q12..Q12, sent as (c + Q12)/3 mod (q+2)/3 */
static void
rounded_encode(uint8_t out[ROUNDED_BYTES], const fq a[P])
{
	uint32_t r[P];

	/* 10923/2^15 divides a multiple of 3 below 2^15 exactly */
	for (int i = 0; i < P; i++)
		r[i] = ((uint32_t)(a[i] + Q12) * 10923) >> 15;
	encode(out, r, P, (Q + 2) / 3, (Q + 2) / 3);
}

static void
rounded_decode(fq a[P], const uint8_t s[ROUNDED_BYTES])
{
	uint32_t r[P];

	decode(r, s, P, (Q + 2) / 3);
	for (int i = 0; i < P; i++)
		a[i] = (fq)(3 * (int32_t)r[i] - Q12);
}

/* four coefficients a byte, c+1 in two bits, the first in the low bits */
static void
small_encode(uint8_t out[SMALL_BYTES], const small a[P])
{
	memset(out, 0, SMALL_BYTES);
	for (int i = 0; i < P; i++)
		out[i >> 2] |= (uint8_t)((a[i] + 1) << (2 * (i & 3)));
}

static void
small_decode(small a[P], const uint8_t s[SMALL_BYTES])
{
	for (int i = 0; i < P; i++)
		a[i] = (small)(((s[i >> 2] >> (2 * (i & 3))) & 3) - 1);
}

/* --- random elements ------------------------------------------------------ */

static uint32_t
le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static void
minmax(uint32_t *a, uint32_t *b)
{
	uint32_t x = *a, y = *b;
	uint32_t c = 0u - (uint32_t)(((uint64_t)y - x) >> 63); /* y < x */
	uint32_t d = (x ^ y) & c;

	*a = x ^ d;
	*b = y ^ d;
}

/* Batcher's merge exchange (Knuth, TAOCP 5.2.2, Algorithm M): the same
 * compare-exchange network for any contents */
static void
sort_u32(uint32_t *x, size_t n)
{
	size_t t = 1;

	while (((size_t)1 << t) < n)
		t++;
	for (size_t p = (size_t)1 << (t - 1); p > 0; p >>= 1) {
		size_t q = (size_t)1 << (t - 1), r = 0, d = p;

		for (;;) {
			for (size_t i = 0; i + d < n; i++)
				if ((i & p) == r)
					minmax(&x[i], &x[i + d]);
			if (q == p)
				break;
			d = q - p;
			q >>= 1;
			r = p;
		}
	}
}

/* Short: w coefficients +-1, the rest 0, in an order given by sorting the
 * words: the first w words get low bits 00 or 10 (-1 or 1), the others 01 */
static void
short_from_words(small out[P], const uint8_t buf[4 * P])
{
	uint32_t l[P];

	for (int i = 0; i < P; i++) {
		uint32_t x = le32(buf + 4 * i);
		l[i] = i < W ? x & ~1u : (x & ~3u) | 1;
	}
	sort_u32(l, P);
	for (int i = 0; i < P; i++)
		out[i] = (small)((int32_t)(l[i] & 3) - 1);
	mbedtls_platform_zeroize(l, sizeof l);
}

/* Small: each coefficient floor(3 * (30 bits) / 2^30) - 1 */
static void
small_from_words(small out[P], const uint8_t buf[4 * P])
{
	for (int i = 0; i < P; i++) {
		uint32_t x = le32(buf + 4 * i) & 0x3fffffff;

		out[i] = (small)((int32_t)((x * 3) >> 30) - 1);
	}
}

/* --- the KEM -------------------------------------------------------------- */

/* Hash_prefix(b, x | y): the first 32 bytes of SHA-512(b | x | y) */
static int
hash_prefix(uint8_t out[HASH_BYTES], uint8_t b, const uint8_t *x, size_t xn,
        const uint8_t *y, size_t yn)
{
	mbedtls_sha512_context c;
	uint8_t h[64];
	int ret;

	mbedtls_sha512_init(&c);
	ret = sha512_starts(&c, 0);
	if (!ret)
		ret = sha512_update(&c, &b, 1);
	if (!ret)
		ret = sha512_update(&c, x, xn);
	if (!ret && yn)
		ret = sha512_update(&c, y, yn);
	if (!ret)
		ret = sha512_finish(&c, h);
	mbedtls_sha512_free(&c);
	memcpy(out, h, HASH_BYTES);
	mbedtls_platform_zeroize(h, sizeof h);
	return ret ? -1 : 0;
}

/* ct = Rounded(h*r) | HashConfirm, hr = Hash_prefix(3, Small(r)) */
static int
hide(uint8_t ct[CT_BYTES], uint8_t hr[HASH_BYTES], const small r[P],
        const uint8_t pk[PK_BYTES], const uint8_t cache[HASH_BYTES])
{
	uint8_t r_enc[SMALL_BYTES];
	fq h[P], c[P];
	int ret;

	small_encode(r_enc, r);
	ret = hash_prefix(hr, 3, r_enc, SMALL_BYTES, NULL, 0);
	rq_decode(h, pk);
	rq_mul_small(c, h, r);
	for (int i = 0; i < P; i++)
		c[i] = (fq)(c[i] - f3_freeze(c[i]));
	rounded_encode(ct, c);
	ret |= hash_prefix(
	        ct + ROUNDED_BYTES, 2, hr, HASH_BYTES, cache, HASH_BYTES);
	mbedtls_platform_zeroize(r_enc, sizeof r_enc);
	mbedtls_platform_zeroize(c, sizeof c);
	return ret;
}

int
sntrup761_keypair(uint8_t pk[SNTRUP761_PUBLICKEY_BYTES],
        uint8_t sk[SNTRUP761_SECRETKEY_BYTES], sntrup761_rng *rng,
        void *rng_ctx)
{
	uint8_t buf[4 * P];
	small g[P], gi[P], f[P];
	fq fi[P], h[P];
	int ret = -1;

	for (;;) {
		if (rng(rng_ctx, buf, sizeof buf))
			goto out;
		small_from_words(g, buf);
		int32_t bad = r3_recip(gi, g);
		/* a g without inverse is thrown away: that says nothing of
		 * the g that is kept */
		SNTRUP761_DECLASSIFY(&bad, sizeof bad);
		if (!bad)
			break;
	}
	if (rng(rng_ctx, buf, sizeof buf))
		goto out;
	short_from_words(f, buf);
	rq_recip3(fi, f);
	rq_mul_small(h, fi, g);
	rq_encode(pk, h);
	small_encode(sk, f);
	small_encode(sk + SK_V, gi);
	memcpy(sk + SK_PK, pk, PK_BYTES);
	if (rng(rng_ctx, sk + SK_RHO, SMALL_BYTES))
		goto out;
	ret = hash_prefix(sk + SK_CACHE, 4, pk, PK_BYTES, NULL, 0);
out:
	mbedtls_platform_zeroize(buf, sizeof buf);
	mbedtls_platform_zeroize(g, sizeof g);
	mbedtls_platform_zeroize(gi, sizeof gi);
	mbedtls_platform_zeroize(f, sizeof f);
	mbedtls_platform_zeroize(fi, sizeof fi);
	if (ret) {
		mbedtls_platform_zeroize(pk, PK_BYTES);
		mbedtls_platform_zeroize(sk, SNTRUP761_SECRETKEY_BYTES);
	}
	return ret;
}

int
sntrup761_enc(uint8_t ct[SNTRUP761_CIPHERTEXT_BYTES],
        uint8_t k[SNTRUP761_KEY_BYTES],
        const uint8_t pk[SNTRUP761_PUBLICKEY_BYTES], sntrup761_rng *rng,
        void *rng_ctx)
{
	uint8_t buf[4 * P], cache[HASH_BYTES], hr[HASH_BYTES];
	small r[P];
	int ret = -1;

	if (rng(rng_ctx, buf, sizeof buf))
		goto out;
	short_from_words(r, buf);
	ret = hash_prefix(cache, 4, pk, PK_BYTES, NULL, 0);
	ret |= hide(ct, hr, r, pk, cache);
	ret |= hash_prefix(k, 1, hr, HASH_BYTES, ct, CT_BYTES);
out:
	mbedtls_platform_zeroize(buf, sizeof buf);
	mbedtls_platform_zeroize(r, sizeof r);
	mbedtls_platform_zeroize(hr, sizeof hr);
	if (ret) {
		mbedtls_platform_zeroize(ct, CT_BYTES);
		mbedtls_platform_zeroize(k, SNTRUP761_KEY_BYTES);
	}
	return ret;
}

/* r = Decrypt(c): e = 3fc in R/q taken mod 3, r = e/g in R/3; an r of the
 * wrong weight becomes (1,...,1,0,...,0), which re-encrypts to another c */
static void
decrypt(small r[P], const fq c[P], const small f[P], const small gi[P])
{
	fq cf[P];
	small e[P];
	int32_t weight = 0, bad;

	rq_mul_small(cf, c, f);
	for (int i = 0; i < P; i++)
		e[i] = f3_freeze(fq_freeze(3 * cf[i]));
	r3_mul(r, e, gi);
	for (int i = 0; i < P; i++)
		weight += r[i] & 1;
	bad = nonzero_mask(weight - W);
	for (int i = 0; i < P; i++)
		r[i] = (small)((r[i] & ~bad) | ((i < W) & bad));
	mbedtls_platform_zeroize(cf, sizeof cf);
	mbedtls_platform_zeroize(e, sizeof e);
}

int
sntrup761_dec(uint8_t k[SNTRUP761_KEY_BYTES],
        const uint8_t ct[SNTRUP761_CIPHERTEXT_BYTES],
        const uint8_t sk[SNTRUP761_SECRETKEY_BYTES])
{
	uint8_t cnew[CT_BYTES], hr[HASH_BYTES], hrho[HASH_BYTES];
	small f[P], gi[P], r[P];
	fq c[P];
	uint32_t diff = 0;
	int32_t bad;
	int ret;

	small_decode(f, sk);
	small_decode(gi, sk + SK_V);
	rounded_decode(c, ct);
	decrypt(r, c, f, gi);
	ret = hide(cnew, hr, r, sk + SK_PK, sk + SK_CACHE);
	/* implicit rejection: another ciphertext hashes rho, with prefix 0 */
	ret |= hash_prefix(hrho, 3, sk + SK_RHO, SMALL_BYTES, NULL, 0);
	for (int i = 0; i < CT_BYTES; i++)
		diff |= ct[i] ^ cnew[i];
	bad = nonzero_mask((int32_t)diff);
	for (int i = 0; i < HASH_BYTES; i++)
		hr[i] ^= (uint8_t)(bad & (hr[i] ^ hrho[i]));
	ret |= hash_prefix(k, (uint8_t)(1 + bad), hr, HASH_BYTES, ct, CT_BYTES);
	mbedtls_platform_zeroize(cnew, sizeof cnew);
	mbedtls_platform_zeroize(hr, sizeof hr);
	mbedtls_platform_zeroize(hrho, sizeof hrho);
	mbedtls_platform_zeroize(f, sizeof f);
	mbedtls_platform_zeroize(gi, sizeof gi);
	mbedtls_platform_zeroize(r, sizeof r);
	if (ret)
		mbedtls_platform_zeroize(k, SNTRUP761_KEY_BYTES);
	return ret ? -1 : 0;
}
