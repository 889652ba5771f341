/* ed25519.c: see ed25519.h. Field elements mod p = 2^255 - 19 are five
 * limbs of 51 bits where the compiler has __int128 (x86_64, aarch64), else
 * ten signed limbs of 26 and 25 bits (radix 2^25.5, as in the ref10 code),
 * multiplied by one schoolbook loop; points are extended twisted Edwards
 * coordinates (X:Y:Z:T), added with the complete formula of Hisil, Wong,
 * Carter and Dawson (2008) and doubled with theirs; k * B four bits at a
 * time from a table of 0..15 * B made in RAM (2.5 KiB) on first use;
 * scalars mod L reduced byte-wise by 2^252 = -c (mod L); X25519 is RFC
 * 7748's ladder. What the secret bits select is read by masks: no branch
 * or index depends on them.
 *
 * Compared with: libsodium 1.0.18 (ref10), which lure linked before: the
 * same outputs for the RFC 8032 and RFC 7748 vectors and OpenSSL's
 * signatures (test/unit/test_ed25519.c), and OpenSSH's clients accept the
 * host key (test/persona). libsodium carries a 30 KiB table of base point
 * multiples and unrolled field code (66 KiB with its X25519 on mipsel);
 * this file is about 5 KiB there. The price is CPU (x86_64, -Os): a
 * signature 120 us (libsodium 19), an X25519 105 us (libsodium 51).
 *
 * Not modelled: verification, point decoding, the prehash and context
 * variants (Ed25519ph, Ed25519ctx). */
#include <string.h>

#include "ed25519.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha512.h"

/* 64-bit targets (__int128): five limbs of 51 bits; others: ten signed
 * limbs of 26 and 25 bits (radix 2^25.5), limb i holding bits from
 * ceil(25.5 i) on, where two odd limbs' product weighs twice its place */
#if defined(__SIZEOF_INT128__)
#define FE_N 5
typedef int64_t limb;
__extension__ typedef __int128 wide;
#define LIMB_BITS(i) 51
#define ODD2(i, j) 1
/* the limb loops unrolled: 1.6 times the speed for 0.8 KiB */
#define UNROLL _Pragma("GCC unroll 5")
/* 2d, and the base point of RFC 8032 (x, y = 4/5, t = xy) */
static const limb fe_d2[FE_N] = {1859910466990425, 932731440258426,
        1072319116312658, 1815898335770999, 633789495995903};
static const limb base_xyt[3][FE_N] = {
        {1738742601995546, 1146398526822698, 2070867633025821, 562264141797630,
                587772402128613},
        {1801439850948184, 1351079888211148, 450359962737049, 900719925474099,
                1801439850948198},
        {1841354044333475, 16398895984059, 755974180946558, 900171276175154,
                1821297809914039},
};
#else
#define FE_N 10
typedef int32_t limb;
typedef int64_t wide;
#define LIMB_BITS(i) (26 - ((i)&1))
#define ODD2(i, j) (1 + ((i) & (j)&1))
#define UNROLL
static const limb fe_d2[FE_N] = {45281625, 27714825, 36363642, 13898781, 229458,
        15978800, 54557047, 27058993, 29715967, 9444199};
static const limb base_xyt[3][FE_N] = {
        {52811034, 25909283, 16144682, 17082669, 27570973, 30858332, 40966398,
                8378388, 20764389, 8758491},
        {40265304, 26843545, 13421772, 20132659, 26843545, 6710886, 53687091,
                13421772, 40265318, 26843545},
        {28827043, 27438313, 39759291, 244362, 8635006, 11264893, 19351346,
                13413597, 16611511, 27139452},
};
#endif
typedef limb fe[FE_N];

/* t (any sign, far from overflow) into h with 0 <= h[i] < 2^LIMB_BITS(i)
 * but h[1] (a little outside: the last carry's) */
static void
fe_carry(fe h, wide *t)
{
	wide c;

	/* t - (t >> n << n) is t's low n bits, whatever its sign */
	UNROLL
	for (int i = 0; i < FE_N; i++) {
		c = t[i] >> LIMB_BITS(i);
		t[i] &= ((wide)1 << LIMB_BITS(i)) - 1;
		if (i < FE_N - 1)
			t[i + 1] += c;
		else
			t[0] += 19 * c;
	}
	c = t[0] >> LIMB_BITS(0);
	t[0] &= ((wide)1 << LIMB_BITS(0)) - 1;
	t[1] += c;
	for (int i = 0; i < FE_N; i++)
		h[i] = (limb)t[i];
}

/* h = f * g; the inputs each at most one addition or subtraction away
 * from fe_carry's output (limbs below twice its bound: every product and
 * sum fits) */
static void
fe_mul(fe h, const fe f, const fe g)
{
	wide t[2 * FE_N - 1] = {0};

	UNROLL
	for (int i = 0; i < FE_N; i++) {
		UNROLL
		for (int j = 0; j < FE_N; j++)
			t[i + j] += (wide)(f[i] * ODD2(i, j)) * g[j];
	}
	/* past the last limb, 2^255 = 19 */
	for (int i = 0; i < FE_N - 1; i++)
		t[i] += 19 * t[i + FE_N];
	fe_carry(h, t);
}

/* h = f^2: fe_mul's sum with each cross product once, doubled */
static void
fe_sq(fe h, const fe f)
{
	wide t[2 * FE_N - 1] = {0};

	UNROLL
	for (int i = 0; i < FE_N; i++) {
		t[2 * i] += (wide)(f[i] * ODD2(i, i)) * f[i];
		UNROLL
		for (int j = i + 1; j < FE_N; j++)
			t[i + j] += (wide)(f[i] * 2 * ODD2(i, j)) * f[j];
	}
	for (int i = 0; i < FE_N - 1; i++)
		t[i] += 19 * t[i + FE_N];
	fe_carry(h, t);
}

static void
fe_add(fe h, const fe f, const fe g)
{
	for (int i = 0; i < FE_N; i++)
		h[i] = f[i] + g[i];
}

static void
fe_sub(fe h, const fe f, const fe g)
{
	for (int i = 0; i < FE_N; i++)
		h[i] = f[i] - g[i];
}

static void
fe_set(fe h, limb v)
{
	memset(h, 0, sizeof(fe));
	h[0] = v;
}

/* h = f if b, else unchanged (b is 0 or 1) */
static void
fe_cmov(fe h, const fe f, limb b)
{
	for (int i = 0; i < FE_N; i++)
		h[i] ^= (h[i] ^ f[i]) & -b;
}

/* h carried (limbs as fe_carry leaves them) */
static void
fe_norm(fe h)
{
	wide t[FE_N];

	for (int i = 0; i < FE_N; i++)
		t[i] = h[i];
	fe_carry(h, t);
}

/* h = f^(2^n) * g */
static void
fe_sqmul(fe h, const fe f, int n, const fe g)
{
	fe t;

	memcpy(t, f, sizeof t);
	while (n--)
		fe_sq(t, t);
	fe_mul(h, t, g);
}

/* h = 1/f = f^(p-2), p - 2 = 2^255 - 21 */
static void
fe_invert(fe h, const fe f)
{
	fe z2, z9, z11, a, b, c;

	fe_sq(z2, f);
	fe_sqmul(z9, z2, 2, f); /* 9 */
	fe_mul(z11, z9, z2); /* 11 */
	fe_sqmul(a, z11, 1, z9); /* 2^5 - 1 */
	fe_sqmul(b, a, 5, a); /* 2^10 - 1 */
	fe_sqmul(c, b, 10, b); /* 2^20 - 1 */
	fe_sqmul(c, c, 20, c); /* 2^40 - 1 */
	fe_sqmul(b, c, 10, b); /* 2^50 - 1 */
	fe_sqmul(c, b, 50, b); /* 2^100 - 1 */
	fe_sqmul(a, c, 100, c); /* 2^200 - 1 */
	fe_sqmul(a, a, 50, b); /* 2^250 - 1 */
	fe_sqmul(h, a, 5, z11); /* 2^255 - 32 + 11 */
}

/* s = b + n (little-endian, 32 bytes, the carry out dropped) */
static void
bytes_add(uint8_t s[32], unsigned n)
{
	for (int i = 0; i < 32; i++) {
		n += s[i];
		s[i] = (uint8_t)n;
		n >>= 8;
	}
}

/* the canonical 32 bytes (little-endian, below p) of f */
static void
fe_tobytes(uint8_t s[32], const fe f)
{
	wide t[FE_N];
	uint64_t acc = 0;
	unsigned bits = 0, k = 0, top;
	uint8_t u[32], m;
	fe h;

	/* plus 2p (limbs 2^LIMB_BITS - 19, then 2^LIMB_BITS - 1), so that
	 * every limb is positive before the carry */
	for (int i = 0; i < FE_N; i++)
		t[i] = f[i] + 2 * (((wide)1 << LIMB_BITS(i)) - (i ? 1 : 19));
	fe_carry(h, t);
	for (int i = 0; i < FE_N; i++) {
		acc += (uint64_t)t[i] << bits;
		bits += LIMB_BITS(i);
		while (bits >= 8 && k < 31) {
			s[k++] = (uint8_t)acc;
			acc >>= 8;
			bits -= 8;
		}
	}
	s[31] = (uint8_t)acc;
	top = (unsigned)(acc >> 8) << 1;
	/* fold the bits at 2^255 and up (2^255 = 19) twice: below 2^255 */
	for (int r = 0; r < 2; r++) {
		top += s[31] >> 7;
		s[31] &= 0x7f;
		bytes_add(s, 19 * top);
		top = 0;
	}
	/* s >= p exactly when s + 19 reaches 2^255 */
	memcpy(u, s, 32);
	bytes_add(u, 19);
	m = (uint8_t) - (u[31] >> 7);
	u[31] &= 0x7f;
	for (int i = 0; i < 32; i++)
		s[i] ^= (s[i] ^ u[i]) & m;
}

/* --- points: (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z ------------------------ */
struct ge {
	fe x, y, z, t;
};

/* r = p + q (p == q allowed, r may be either) */
static void
ge_add(struct ge *r, const struct ge *p, const struct ge *q)
{
	fe a, b, c, d, e, f, g, h;

	fe_sub(a, p->y, p->x);
	fe_sub(h, q->y, q->x);
	fe_mul(a, a, h);
	fe_add(b, p->y, p->x);
	fe_add(h, q->y, q->x);
	fe_mul(b, b, h);
	fe_mul(c, p->t, fe_d2);
	fe_mul(c, c, q->t);
	fe_add(d, p->z, p->z);
	fe_mul(d, d, q->z);
	fe_sub(e, b, a);
	fe_sub(f, d, c);
	fe_add(g, d, c);
	fe_add(h, b, a);
	fe_mul(r->x, e, f);
	fe_mul(r->y, g, h);
	fe_mul(r->t, e, h);
	fe_mul(r->z, f, g);
}

/* r = 2p (r may be p): dbl-2008-hwcd with F and H negated (all four
 * coordinates negated: the same point) */
static void
ge_dbl(struct ge *r, const struct ge *p)
{
	fe a, b, c, e, f, g, h;

	fe_sq(a, p->x);
	fe_sq(b, p->y);
	fe_sq(c, p->z);
	fe_add(c, c, c);
	fe_add(h, a, b);
	fe_add(e, p->x, p->y);
	fe_sq(e, e);
	fe_sub(e, e, h);
	fe_norm(e);
	fe_sub(g, b, a);
	fe_sub(f, c, g);
	fe_norm(f);
	fe_mul(r->x, e, f);
	fe_mul(r->y, g, h);
	fe_mul(r->t, e, h);
	fe_mul(r->z, f, g);
}

static void
ge_zero(struct ge *p)
{
	memset(p, 0, sizeof *p);
	fe_set(p->y, 1);
	fe_set(p->z, 1);
}

/* k * B for k = 0..15, made on first use */
static struct ge base_tab[16];
static uint8_t base_tab_ready;

/* the encoding of s * B, s little-endian (all 256 bits used): four bits
 * at a time, each window's multiple read by a scan of the whole table */
static void
ge_base_mul(uint8_t out[32], const uint8_t s[32])
{
	struct ge q, t;
	fe zi, x, y;
	uint8_t xs[32];

	if (!base_tab_ready) {
		ge_zero(&base_tab[0]);
		memcpy(base_tab[1].x, base_xyt[0], sizeof(fe));
		memcpy(base_tab[1].y, base_xyt[1], sizeof(fe));
		memcpy(base_tab[1].t, base_xyt[2], sizeof(fe));
		fe_set(base_tab[1].z, 1);
		for (int k = 2; k < 16; k++)
			ge_add(&base_tab[k], &base_tab[k - 1], &base_tab[1]);
		base_tab_ready = 1;
	}
	ge_zero(&q);
	for (int i = 63; i >= 0; i--) {
		unsigned nib = (unsigned)(s[i / 2] >> 4 * (i & 1)) & 15;

		for (int d = 0; d < 4; d++)
			ge_dbl(&q, &q);
		t = base_tab[0];
		for (unsigned k = 1; k < 16; k++) {
			limb eq = (limb)((uint32_t)((k ^ nib) - 1) >> 31);
			fe_cmov(t.x, base_tab[k].x, eq);
			fe_cmov(t.y, base_tab[k].y, eq);
			fe_cmov(t.z, base_tab[k].z, eq);
			fe_cmov(t.t, base_tab[k].t, eq);
		}
		ge_add(&q, &q, &t);
	}
	fe_invert(zi, q.z);
	fe_mul(x, q.x, zi);
	fe_mul(y, q.y, zi);
	fe_tobytes(out, y);
	fe_tobytes(xs, x);
	out[31] |= (uint8_t)(xs[0] << 7);
	mbedtls_platform_zeroize(&q, sizeof q);
	mbedtls_platform_zeroize(&t, sizeof t);
}

/* --- scalars mod L = 2^252 + c ----------------------------------------- */
/* L, little-endian */
static const uint8_t sc_l[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
        0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, [31] = 0x10};

/* bytes 0..30 of x into [0, 256), the carries upwards */
static void
sc_carry(int64_t *x)
{
	for (int j = 0; j < 31; j++) {
		int64_t c = x[j] >> 8;
		x[j] -= c * 256;
		x[j + 1] += c;
	}
}

/* x - floor(x / 2^252) * L (x[0..31]) */
static void
sc_fold(int64_t *x)
{
	int64_t q;

	sc_carry(x);
	q = x[31] >> 4;
	for (int j = 0; j < 32; j++)
		x[j] -= q * sc_l[j];
	sc_carry(x);
}

/* out = x mod L; x is 64 signed byte-limbs (|x[i]| < 2^32) */
static void
sc_reduce(uint8_t out[32], int64_t *x)
{
	/* byte i >= 32 weighs 16 * 2^252 * 256^(i-32) = -16c * 256^(i-32):
	 * c is the first 16 bytes of L */
	for (int i = 63; i >= 32; i--) {
		for (int j = 0; j < 16; j++)
			x[i - 32 + j] -= 16 * x[i] * sc_l[j];
		x[i] = 0;
		for (int j = i - 32; j < i - 1; j++) {
			int64_t c = (x[j] + 128) >> 8;
			x[j] -= c * 256;
			x[j + 1] += c;
		}
	}
	/* now below 2^256 in size: three folds leave 0 <= x < L */
	for (int r = 0; r < 3; r++)
		sc_fold(x);
	for (int i = 0; i < 32; i++)
		out[i] = (uint8_t)x[i];
}

/* out = SHA-512(a || b || c) mod L */
static void
sc_hash(uint8_t out[32], const uint8_t *a, size_t an, const uint8_t *b,
        size_t bn, const uint8_t *c, size_t cn)
{
	mbedtls_sha512_context h;
	uint8_t d[64];
	int64_t x[64];

	mbedtls_sha512_init(&h);
	(void)mbedtls_sha512_starts_ret(&h, 0);
	(void)mbedtls_sha512_update_ret(&h, a, an);
	(void)mbedtls_sha512_update_ret(&h, b, bn);
	(void)mbedtls_sha512_update_ret(&h, c, cn);
	(void)mbedtls_sha512_finish_ret(&h, d);
	mbedtls_sha512_free(&h);
	for (int i = 0; i < 64; i++)
		x[i] = d[i];
	sc_reduce(out, x);
	mbedtls_platform_zeroize(d, sizeof d);
	mbedtls_platform_zeroize(x, sizeof x);
}

/* h = SHA-512(seed), its first half clamped: the secret scalar */
static void
expand(uint8_t h[64], const uint8_t seed[32])
{
	(void)mbedtls_sha512_ret(seed, 32, h, 0);
	h[0] &= 248;
	h[31] &= 127;
	h[31] |= 64;
}

void
ed25519_public(uint8_t pk[32], const uint8_t seed[32])
{
	uint8_t h[64];

	expand(h, seed);
	ge_base_mul(pk, h);
	mbedtls_platform_zeroize(h, sizeof h);
}

void
ed25519_sign(uint8_t sig[64], const uint8_t *m, size_t n,
        const uint8_t seed[32], const uint8_t pk[32])
{
	uint8_t h[64], r[32], k[32];
	int64_t x[64] = {0};

	expand(h, seed);
	sc_hash(r, h + 32, 32, m, n, NULL, 0);
	ge_base_mul(sig, r);
	sc_hash(k, sig, 32, pk, 32, m, n);
	/* S = r + k * a mod L */
	for (int i = 0; i < 32; i++) {
		x[i] += r[i];
		for (int j = 0; j < 32; j++)
			x[i + j] += (int64_t)k[i] * h[j];
	}
	sc_reduce(sig + 32, x);
	mbedtls_platform_zeroize(h, sizeof h);
	mbedtls_platform_zeroize(r, sizeof r);
	mbedtls_platform_zeroize(x, sizeof x);
}

/* --- X25519 ------------------------------------------------------------- */
int
ed25519_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t u[32])
{
	static const fe a24 = {121665};
	fe x1, x2, z2, x3, z3, a, aa, b, bb, e, c, d, t;
	wide w[FE_N];
	uint8_t s[32], nz = 0;
	limb swap = 0;

	memcpy(s, scalar, 32);
	s[0] &= 248;
	s[31] &= 127;
	s[31] |= 64;
	/* u into limbs, its bit 255 dropped */
	for (int i = 0, pos = 0; i < FE_N; pos += LIMB_BITS(i), i++) {
		uint64_t v = 0;
		for (int j = 0; j < 8 && pos / 8 + j < 32; j++)
			v |= (uint64_t)u[pos / 8 + j] << 8 * j;
		w[i] = (wide)((v >> (pos % 8)) &
		              (((uint64_t)1 << LIMB_BITS(i)) - 1));
	}
	fe_carry(x1, w);
	fe_set(x2, 1);
	fe_set(z2, 0);
	memcpy(x3, x1, sizeof(fe));
	fe_set(z3, 1);
	/* RFC 7748's ladder, the swaps by mask */
	for (int i = 254; i >= -1; i--) {
		limb bit = i < 0 ? 0 : s[i / 8] >> (i & 7) & 1;
		swap ^= bit;
		memcpy(t, x2, sizeof t);
		fe_cmov(x2, x3, swap);
		fe_cmov(x3, t, swap);
		memcpy(t, z2, sizeof t);
		fe_cmov(z2, z3, swap);
		fe_cmov(z3, t, swap);
		swap = bit;
		if (i < 0)
			break;
		fe_add(a, x2, z2);
		fe_sq(aa, a);
		fe_sub(b, x2, z2);
		fe_sq(bb, b);
		fe_sub(e, aa, bb);
		fe_add(c, x3, z3);
		fe_sub(d, x3, z3);
		fe_mul(d, d, a); /* DA */
		fe_mul(c, c, b); /* CB */
		fe_add(t, d, c);
		fe_sq(x3, t);
		fe_sub(t, d, c);
		fe_sq(t, t);
		fe_mul(z3, x1, t);
		fe_mul(x2, aa, bb);
		fe_mul(t, a24, e);
		fe_add(t, t, aa);
		fe_mul(z2, e, t);
	}
	fe_invert(z2, z2);
	fe_mul(x2, x2, z2);
	fe_tobytes(out, x2);
	mbedtls_platform_zeroize(s, sizeof s);
	for (int i = 0; i < 32; i++)
		nz |= out[i];
	return nz ? 0 : -1;
}
