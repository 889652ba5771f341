/* sshzlib.c: zlib@openssh.com for the SSH emulator (contract: sshzlib.h).
 * Inflate follows RFC 1950/1951 with canonical Huffman decoding bit by bit
 * (short sessions: simplicity over speed). It works unit by unit (a block
 * header, a stored run, one literal or length/distance pair); a unit that
 * runs out of input is rolled back and its bytes and bits are carried to the
 * next packet, which is how a Z_PARTIAL_FLUSH stream continues. */
#include <string.h>

#include "sshzlib.h"

#define ZW 32768 /* the window: deflate's largest distance */
#define ZCARRY 1024 /* input of one unfinished unit carried over */
#define ZIN_MAX 65536 /* one packet's compressed payload */
#define ZBITS 15

enum { B_HEAD, B_STORED, B_HUFF, B_DONE };

struct huff {
	uint16_t count[ZBITS + 1];
	uint16_t sym[288];
};

struct sshzlib {
	uint8_t used, in_hdr, out_hdr, blk, last, fixed;
	uint8_t bitcnt;
	uint16_t stored_left, carry_len;
	uint32_t bitbuf;
	uint32_t wpos, wfill;
	struct huff lit, dist;
	uint8_t carry[ZCARRY];
	uint8_t win[ZW];
};

static struct sshzlib pool[SSHZLIB_POOL];
static uint8_t work[ZCARRY + ZIN_MAX];
static struct huff fixed_lit, fixed_dist;

/* the reader over work[]: a unit checks need() before taking bits */
struct rd {
	const uint8_t *p;
	size_t n, pos;
	uint32_t bitbuf;
	unsigned bitcnt;
};

struct sshzlib *
sshzlib_get(void)
{
	for (size_t i = 0; i < SSHZLIB_POOL; i++)
		if (!pool[i].used) {
			memset(&pool[i], 0, sizeof pool[i] - ZW);
			pool[i].used = 1;
			return &pool[i];
		}
	return NULL;
}

void
sshzlib_put(struct sshzlib *z)
{
	if (z)
		z->used = 0;
}

static int
need(struct rd *r, unsigned k)
{
	while (r->bitcnt < k) {
		if (r->pos == r->n)
			return -1;
		r->bitbuf |= (uint32_t)r->p[r->pos++] << r->bitcnt;
		r->bitcnt += 8;
	}
	return 0;
}

static unsigned
take(struct rd *r, unsigned k)
{
	unsigned v = r->bitbuf & ((1u << k) - 1);

	r->bitbuf >>= k;
	r->bitcnt -= k;
	return v;
}

/* Canonical code from code lengths: 0, 1 if incomplete, -1 if
 * over-subscribed. */
static int
build(struct huff *h, const uint8_t *len, unsigned n)
{
	uint16_t offs[ZBITS + 1];
	int left = 1;

	memset(h->count, 0, sizeof h->count);
	for (unsigned s = 0; s < n; s++)
		h->count[len[s]]++;
	for (unsigned l = 1; l <= ZBITS; l++) {
		left = left * 2 - h->count[l];
		if (left < 0)
			return -1;
	}
	offs[1] = 0;
	for (unsigned l = 1; l < ZBITS; l++)
		offs[l + 1] = (uint16_t)(offs[l] + h->count[l]);
	for (unsigned s = 0; s < n; s++)
		if (len[s])
			h->sym[offs[len[s]]++] = (uint16_t)s;
	return left > 0;
}

/* A symbol, -1 for an invalid code, -2 when the input ran out. */
static int
decode(struct rd *r, const struct huff *h)
{
	int code = 0, first = 0, index = 0;

	for (unsigned l = 1; l <= ZBITS; l++) {
		int count = h->count[l];
		if (need(r, 1) < 0)
			return -2;
		code |= (int)take(r, 1);
		if (code - count < first)
			return h->sym[index + (code - first)];
		index += count;
		first = (first + count) << 1;
		code <<= 1;
	}
	return -1;
}

static void
fixed_tables(void)
{
	uint8_t len[288];
	unsigned s;

	if (fixed_lit.count[7])
		return;
	for (s = 0; s < 144; s++)
		len[s] = 8;
	for (; s < 256; s++)
		len[s] = 9;
	for (; s < 280; s++)
		len[s] = 7;
	for (; s < 288; s++)
		len[s] = 8;
	(void)build(&fixed_lit, len, 288);
	for (s = 0; s < 30; s++)
		len[s] = 5;
	(void)build(&fixed_dist, len, 30);
}

/* The code lengths of a dynamic block into z->lit and z->dist: 0, -1 bad,
 * -2 more input. */
static int
dynamic(struct sshzlib *z, struct rd *r)
{
	static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11,
	        4, 12, 3, 13, 2, 14, 1, 15};
	uint8_t len[286 + 30];
	struct huff cl;
	unsigned nlen, ndist, ncode, i;

	if (need(r, 14) < 0)
		return -2;
	nlen = take(r, 5) + 257;
	ndist = take(r, 5) + 1;
	ncode = take(r, 4) + 4;
	if (nlen > 286 || ndist > 30)
		return -1;
	memset(len, 0, sizeof len);
	for (i = 0; i < ncode; i++) {
		if (need(r, 3) < 0)
			return -2;
		len[order[i]] = (uint8_t)take(r, 3);
	}
	if (build(&cl, len, 19) != 0)
		return -1; /* the code length code must be complete */
	for (i = 0; i < nlen + ndist;) {
		int sym = decode(r, &cl);
		unsigned rep, val = 0;
		if (sym < 0)
			return sym;
		if (sym < 16) {
			len[i++] = (uint8_t)sym;
			continue;
		}
		if (sym == 16) {
			if (i == 0)
				return -1;
			val = len[i - 1];
			if (need(r, 2) < 0)
				return -2;
			rep = 3 + take(r, 2);
		} else if (sym == 17) {
			if (need(r, 3) < 0)
				return -2;
			rep = 3 + take(r, 3);
		} else {
			if (need(r, 7) < 0)
				return -2;
			rep = 11 + take(r, 7);
		}
		if (i + rep > nlen + ndist)
			return -1;
		while (rep--)
			len[i++] = (uint8_t)val;
	}
	if (len[256] == 0)
		return -1; /* no end-of-block code */
	if (build(&z->lit, len, nlen) < 0 ||
	        build(&z->dist, len + nlen, ndist) < 0)
		return -1;
	return 0;
}

struct outp {
	uint8_t *p;
	size_t len, cap;
};

static int
put(struct sshzlib *z, struct outp *o, uint8_t b)
{
	if (o->len == o->cap)
		return -1;
	o->p[o->len++] = b;
	z->win[z->wpos] = b;
	z->wpos = (z->wpos + 1) & (ZW - 1);
	if (z->wfill < ZW)
		z->wfill++;
	return 0;
}

/* One literal or length/distance pair: 1 at the end of the block, 0, -1
 * bad, -2 more input. Nothing is written before the pair is whole. */
static int
symbol(struct sshzlib *z, struct rd *r, struct outp *o)
{
	static const uint16_t lbase[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15,
	        17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163,
	        195, 227, 258};
	static const uint8_t lext[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2,
	        2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
	static const uint16_t dbase[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33,
	        49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
	        3073, 4097, 6145, 8193, 12289, 16385, 24577};
	static const uint8_t dext[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5,
	        5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
	const struct huff *lit = z->fixed ? &fixed_lit : &z->lit;
	const struct huff *dist = z->fixed ? &fixed_dist : &z->dist;
	int sym = decode(r, lit), ds;
	unsigned n, d;

	if (sym < 0)
		return sym;
	if (sym < 256)
		return put(z, o, (uint8_t)sym);
	if (sym == 256)
		return 1;
	sym -= 257;
	if (sym >= 29)
		return -1;
	if (need(r, lext[sym]) < 0)
		return -2;
	n = lbase[sym] + take(r, lext[sym]);
	if ((ds = decode(r, dist)) < 0)
		return ds;
	if (ds >= 30)
		return -1;
	if (need(r, dext[ds]) < 0)
		return -2;
	d = dbase[ds] + take(r, dext[ds]);
	if (d > z->wfill || o->cap - o->len < n)
		return -1;
	while (n--)
		(void)put(z, o, z->win[(z->wpos - d) & (ZW - 1)]);
	return 0;
}

/* One unit of the stream; 0 done, -1 bad, -2 more input. */
static int
unit(struct sshzlib *z, struct rd *r, struct outp *o)
{
	int rc;

	if (!z->in_hdr) {
		unsigned cmf, flg;
		if (need(r, 16) < 0)
			return -2;
		cmf = take(r, 8);
		flg = take(r, 8);
		if ((cmf & 15) != 8 || (cmf >> 4) > 7 ||
		        (cmf * 256 + flg) % 31 || (flg & 32))
			return -1;
		z->in_hdr = 1;
		return 0;
	}
	switch (z->blk) {
	case B_HEAD:
		if (need(r, 3) < 0)
			return -2;
		z->last = (uint8_t)take(r, 1);
		switch (take(r, 2)) {
		case 0:
			take(r, r->bitcnt & 7);
			if (need(r, 16) < 0)
				return -2;
			z->stored_left = (uint16_t)take(r, 16);
			if (need(r, 16) < 0)
				return -2;
			if (take(r, 16) != (~z->stored_left & 0xffffu))
				return -1;
			z->blk = B_STORED;
			return 0;
		case 1:
			fixed_tables();
			z->fixed = 1;
			z->blk = B_HUFF;
			return 0;
		case 2:
			if ((rc = dynamic(z, r)) < 0)
				return rc;
			z->fixed = 0;
			z->blk = B_HUFF;
			return 0;
		default: return -1;
		}
	case B_STORED:
		if (z->stored_left == 0) {
			z->blk = z->last ? B_DONE : B_HEAD;
			return 0;
		}
		if (need(r, 8) < 0)
			return -2;
		z->stored_left--;
		return put(z, o, (uint8_t)take(r, 8));
	case B_HUFF:
		if ((rc = symbol(z, r, o)) == 1)
			z->blk = z->last ? B_DONE : B_HEAD;
		return rc < 0 ? rc : 0;
	default: /* B_DONE: sshzlib_inflate() skips the trailer */ return -1;
	}
}

long
sshzlib_inflate(struct sshzlib *z, const uint8_t *in, size_t n, uint8_t *out,
        size_t cap)
{
	struct rd r, cp;
	struct outp o = {out, 0, cap};
	struct sshzlib save;
	int rc;

	if (n > ZIN_MAX)
		return -1;
	memcpy(work, z->carry, z->carry_len);
	memcpy(work + z->carry_len, in, n);
	r = (struct rd){work, z->carry_len + n, 0, z->bitbuf, z->bitcnt};
	for (;;) {
		size_t olen = o.len;
		if (z->in_hdr && z->blk == B_DONE) {
			/* the stream ended (OpenSSH never ends it): its
			 * trailer and anything after it are ignored */
			r.pos = r.n;
			r.bitbuf = 0;
			r.bitcnt = 0;
			break;
		}
		cp = r;
		/* the block state a unit may change before it runs out */
		memcpy(&save, z, offsetof(struct sshzlib, lit));
		rc = unit(z, &r, &o);
		if (rc == -1)
			return -1;
		if (rc == -2) {
			/* nothing of the unit was written: see symbol() */
			if (o.len != olen)
				return -1;
			memcpy(z, &save, offsetof(struct sshzlib, lit));
			r = cp;
			break;
		}
	}
	if (r.n - r.pos > ZCARRY)
		return -1;
	z->carry_len = (uint16_t)(r.n - r.pos);
	memmove(z->carry, work + r.pos, z->carry_len);
	z->bitbuf = r.bitbuf;
	z->bitcnt = (uint8_t)r.bitcnt;
	return (long)o.len;
}

long
sshzlib_deflate(struct sshzlib *z, const uint8_t *in, size_t n, uint8_t *out,
        size_t cap)
{
	size_t o = 0;

	if (n > 65535 || cap < n + 7)
		return -1;
	if (!z->out_hdr) {
		/* what zlib's deflateInit(level 6) starts with, as sshd's */
		out[o++] = 0x78;
		out[o++] = 0x9c;
		z->out_hdr = 1;
	}
	/* a stored block: BFINAL 0, BTYPE 00, padding to the byte (we are
	 * always byte-aligned), LEN, NLEN */
	out[o++] = 0;
	out[o++] = (uint8_t)n;
	out[o++] = (uint8_t)(n >> 8);
	out[o++] = (uint8_t)~n;
	out[o++] = (uint8_t)(~n >> 8);
	memcpy(out + o, in, n);
	return (long)(o + n);
}
