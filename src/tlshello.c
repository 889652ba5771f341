/* tlshello.c: see tlshello.h. The handshake message is reassembled from
 * the record fragments into a static buffer (one parse at a time), then
 * read with a bounds-checked cursor: a short or inconsistent length anywhere
 * makes the hello BAD, never a read past the input. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "lure.h"
#include "tls.h"
#include "tlshello.h"

struct cur {
	const uint8_t *p;
	size_t n;
	int bad;
};

static unsigned
u8(struct cur *c)
{
	if (c->n < 1) {
		c->bad = 1;
		return 0;
	}
	c->n--;
	return *c->p++;
}

static unsigned
u16(struct cur *c)
{
	unsigned v;

	if (c->n < 2) {
		c->bad = 1;
		c->n = 0;
		return 0;
	}
	v = (unsigned)c->p[0] << 8 | c->p[1];
	c->p += 2;
	c->n -= 2;
	return v;
}

/* A sub-cursor over the next len bytes (len-prefixed vectors). */
static struct cur
sub(struct cur *c, size_t len)
{
	struct cur s = {c->p, len, 0};

	if (len > c->n) {
		c->bad = 1;
		s.n = 0;
		s.bad = 1;
		len = c->n;
	}
	c->p += len;
	c->n -= len;
	return s;
}

int
tlshello_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static void
add16(struct tlshello *h, uint16_t *list, size_t *n, unsigned v)
{
	if (*n < TLSHELLO_LIST_MAX)
		list[(*n)++] = (uint16_t)v;
	else
		h->truncated = 1;
}

/* A list of u16 (the vector's bytes); an odd length is BAD. */
static void
list16(struct tlshello *h, struct cur *c, uint16_t *list, size_t *n)
{
	if (c->n % 2)
		c->bad = 1;
	while (c->n >= 2)
		add16(h, list, n, u16(c));
}

static void
ext_body(struct tlshello *h, unsigned type, struct cur *e)
{
	struct cur v;

	switch (type) {
	case 0: /* server_name: the first host_name */
		h->has_sni = 1;
		v = sub(e, u16(e));
		while (v.n >= 3 && !v.bad) {
			unsigned t = u8(&v);
			struct cur name = sub(&v, u16(&v));
			if (t == 0 && !h->sni_len && !name.bad &&
			        name.n <= sizeof h->sni) {
				memcpy(h->sni, name.p, name.n);
				h->sni_len = name.n;
			}
		}
		break;
	case 10: /* supported_groups */
		v = sub(e, u16(e));
		list16(h, &v, h->groups, &h->ngroups);
		e->bad |= v.bad;
		break;
	case 11: /* ec_point_formats */
		v = sub(e, u8(e));
		while (v.n > 0) {
			unsigned f = u8(&v);
			if (h->nformats < TLSHELLO_LIST_MAX)
				h->formats[h->nformats++] = (uint8_t)f;
			else
				h->truncated = 1;
		}
		break;
	case 13: /* signature_algorithms */
		h->has_sigalgs = 1;
		v = sub(e, u16(e));
		list16(h, &v, h->sigalgs, &h->nsigalgs);
		e->bad |= v.bad;
		break;
	case 16: /* ALPN: kept raw, checked when printed */
		v = sub(e, u16(e));
		if (!v.bad && v.n <= sizeof h->alpn) {
			memcpy(h->alpn, v.p, v.n);
			h->alpn_len = v.n;
		}
		break;
	case 43: /* supported_versions (client form: u8 length) */
		h->has_versions = 1;
		v = sub(e, u8(e));
		list16(h, &v, h->versions, &h->nversions);
		e->bad |= v.bad;
		break;
	default: break;
	}
}

/* The ClientHello body after the 4-byte handshake header. */
static int
body(struct tlshello *h, struct cur *c)
{
	struct cur v, exts;

	h->version = (uint16_t)u16(c);
	sub(c, 32); /* random */
	sub(c, u8(c)); /* legacy_session_id */
	v = sub(c, u16(c));
	list16(h, &v, h->ciphers, &h->nciphers);
	if (v.bad || c->bad) {
		h->error = "truncated ClientHello";
		return TLSHELLO_BAD;
	}
	sub(c, u8(c)); /* compression methods */
	if (c->bad) {
		h->error = "truncated ClientHello";
		return TLSHELLO_BAD;
	}
	if (c->n == 0)
		return TLSHELLO_DONE; /* no extensions (SSL 3.0 style) */
	exts = sub(c, u16(c));
	while (exts.n > 0 && !exts.bad) {
		unsigned type = u16(&exts);
		struct cur e = sub(&exts, u16(&exts));
		add16(h, h->exts, &h->nexts, type);
		ext_body(h, type, &e);
		if (e.bad) {
			h->error = "malformed extension";
			return TLSHELLO_BAD;
		}
	}
	if (exts.bad || c->bad) {
		h->error = "truncated extensions";
		return TLSHELLO_BAD;
	}
	return TLSHELLO_DONE;
}

/* --- fingerprints -------------------------------------------------------- */

struct out {
	char *p;
	size_t cap, len;
	int cut;
};

static void
put(struct out *o, const char *fmt, unsigned v)
{
	int n;

	if (o->cut)
		return;
	n = fmt_snprintf(o->p + o->len, o->cap - o->len, fmt, v);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->p[o->len] = '\0';
		o->cut = 1;
		return;
	}
	o->len += (size_t)n;
}

/* Decimal dash-joined list without GREASE (JA3). */
static void
ja3_list(struct out *o, const uint16_t *l, size_t n)
{
	int first = 1;

	for (size_t i = 0; i < n; i++) {
		if (tlshello_grease(l[i]))
			continue;
		put(o, first ? "%u" : "-%u", l[i]);
		first = 0;
	}
}

static int
cmp16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Copy l without GREASE (and without skip_a/skip_b when >= 0), sorted if
 * asked; returns the count. */
static size_t
filtered(uint16_t *dst, const uint16_t *l, size_t n, int sort, long skip_a,
        long skip_b)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (!tlshello_grease(l[i]) && l[i] != skip_a && l[i] != skip_b)
			dst[m++] = l[i];
	if (sort)
		qsort(dst, m, sizeof dst[0], cmp16);
	return m;
}

static void
hex_list(struct out *o, const uint16_t *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(o, i ? ",%04x" : "%04x", l[i]);
}

static void
hex(char *dst, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = digits[p[i] >> 4];
		dst[2 * i + 1] = digits[p[i] & 15];
	}
	dst[2 * n] = '\0';
}

static int
alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z');
}

/* JA4's ALPN pair from the first protocol name: its first and last
 * characters, or the outer hex digits when either is not alphanumeric. */
static void
ja4_alpn(const struct tlshello *h, char out[3])
{
	static const char digits[] = "0123456789abcdef";
	size_t len = h->alpn_len >= 1 ? h->alpn[0] : 0;
	const uint8_t *v = h->alpn + 1;

	out[0] = out[1] = '0';
	out[2] = '\0';
	if (len == 0 || 1 + len > h->alpn_len)
		return;
	if (alnum(v[0]) && alnum(v[len - 1])) {
		out[0] = (char)v[0];
		out[1] = (char)v[len - 1];
	} else {
		out[0] = digits[v[0] >> 4];
		out[1] = digits[v[len - 1] & 15];
	}
}

static const char *
ja4_version(const struct tlshello *h)
{
	static const struct {
		uint16_t v;
		const char *s;
	} names[] = {{0x0304, "13"}, {0x0303, "12"}, {0x0302, "11"},
	        {0x0301, "10"}, {0x0300, "s3"}, {0x0002, "s2"}, {0xfeff, "d1"},
	        {0xfefd, "d2"}, {0xfefc, "d3"}};
	unsigned v = h->version;

	if (h->has_versions) {
		v = 0;
		for (size_t i = 0; i < h->nversions; i++)
			if (!tlshello_grease(h->versions[i]) &&
			        h->versions[i] > v)
				v = h->versions[i];
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].v == v)
			return names[i].s;
	return "00";
}

/* First 12 hex digits of SHA-256(s), or "000000000000" for an empty list
 * (and with TLS=none, where there is no hash). */
static void
trunc_sha256(char dst[13], const char *s, size_t n, int empty)
{
	uint8_t d[32];
	char full[65];

	if (empty || tls_sha256(s, n, d) < 0) {
		memcpy(dst, "000000000000", 13);
		return;
	}
	hex(full, d, 32);
	memcpy(dst, full, 12);
	dst[12] = '\0';
}

static void
fingerprints(struct tlshello *h)
{
	static uint16_t tmp[TLSHELLO_LIST_MAX];
	static char buf[4096];
	struct out o = {h->ja3_str, sizeof h->ja3_str, 0, 0};
	struct out r = {h->ja4_r, sizeof h->ja4_r, 0, 0};
	struct out b = {buf, sizeof buf, 0, 0};
	char a[11], alpn[3], hb[13], hc[13];
	size_t nc, ne, m;
	uint8_t md[16];

	/* JA3: SSLVersion,Ciphers,Extensions,EllipticCurves,PointFormats */
	put(&o, "%u,", h->version);
	ja3_list(&o, h->ciphers, h->nciphers);
	put(&o, ",", 0);
	ja3_list(&o, h->exts, h->nexts);
	put(&o, ",", 0);
	ja3_list(&o, h->groups, h->ngroups);
	put(&o, ",", 0);
	for (size_t i = 0; i < h->nformats; i++)
		put(&o, i ? "-%u" : "%u", h->formats[i]);
	h->truncated |= o.cut;
	h->ja3[0] = '\0';
	if (tls_md5(h->ja3_str, o.len, md) == 0)
		hex(h->ja3, md, 16);

	/* JA4_a: t, version, d|i, cipher count, extension count, ALPN */
	nc = filtered(tmp, h->ciphers, h->nciphers, 0, -1, -1);
	ne = filtered(tmp, h->exts, h->nexts, 0, -1, -1);
	ja4_alpn(h, alpn);
	fmt_snprintf(a, sizeof a, "t%s%c%02u%02u%s", ja4_version(h),
	        h->has_sni ? 'd' : 'i', (unsigned)(nc > 99 ? 99 : nc),
	        (unsigned)(ne > 99 ? 99 : ne), alpn);
	r.len = (size_t)fmt_snprintf(h->ja4_r, sizeof h->ja4_r, "%s_", a);

	/* JA4_b: sorted ciphers */
	m = filtered(tmp, h->ciphers, h->nciphers, 1, -1, -1);
	hex_list(&b, tmp, m);
	hex_list(&r, tmp, m);
	trunc_sha256(hb, buf, b.len, m == 0);

	/* JA4_c: sorted extensions without SNI and ALPN, "_", sigalgs */
	b.len = 0;
	b.cut = 0;
	put(&r, "_", 0);
	ne = filtered(tmp, h->exts, h->nexts, 1, 0x0000, 0x0010);
	hex_list(&b, tmp, ne);
	hex_list(&r, tmp, ne);
	m = filtered(tmp, h->sigalgs, h->nsigalgs, 0, -1, -1);
	if (m > 0) {
		put(&b, "_", 0);
		put(&r, "_", 0);
		hex_list(&b, tmp, m);
		hex_list(&r, tmp, m);
	}
	trunc_sha256(hc, buf, b.len, ne == 0);
	h->truncated |= r.cut | b.cut;
	fmt_snprintf(h->ja4, sizeof h->ja4, "%s_%s_%s", a, hb, hc);
}

/* --- records ------------------------------------------------------------- */

int
tlshello_parse(const uint8_t *p, size_t n, struct tlshello *h)
{
	static uint8_t msg[TLSHELLO_MSG_MAX];
	size_t mlen = 0, off = 0, need = 0;
	struct cur c;
	int r;

	memset(h, 0, offsetof(struct tlshello, ja3_str));
	h->ja3_str[0] = h->ja3[0] = h->ja4[0] = h->ja4_r[0] = '\0';
	if (n >= 1 && p[0] != 0x16) {
		h->error = (p[0] & 0x80) && n >= 3 && p[2] == 1
		                   ? "SSLv2 ClientHello"
		                   : "not a TLS handshake record";
		return TLSHELLO_NOT_TLS;
	}
	if (n >= 2 && p[1] != 3) {
		h->error = "not a TLS handshake record";
		return TLSHELLO_NOT_TLS;
	}
	if (n < 5)
		return TLSHELLO_MORE;
	h->record_version = (uint16_t)(p[1] << 8 | p[2]);
	/* gather handshake fragments, the last one possibly partial */
	while (off + 5 <= n) {
		size_t rlen = (size_t)p[off + 3] << 8 | p[off + 4], take;
		if (p[off] != 0x16 || p[off + 1] != 3) {
			h->error =
			        "ClientHello interleaved with another record";
			return TLSHELLO_BAD;
		}
		if (rlen == 0 || rlen > 16384 + 2048) {
			h->error = "bad record length";
			return TLSHELLO_BAD;
		}
		take = LURE_MIN(rlen, n - off - 5);
		if (take > sizeof msg - mlen) {
			h->error = "ClientHello too large";
			return TLSHELLO_BAD;
		}
		memcpy(msg + mlen, p + off + 5, take);
		mlen += take;
		off += 5 + take;
		if (mlen >= 4 && !need) {
			if (msg[0] != 1) {
				h->error = "first handshake message is not a "
				           "ClientHello";
				return TLSHELLO_BAD;
			}
			need = 4 + ((size_t)msg[1] << 16 | (size_t)msg[2] << 8 |
			                   msg[3]);
			if (need > sizeof msg) {
				h->error = "ClientHello too large";
				return TLSHELLO_BAD;
			}
		}
		if (need && mlen >= need) {
			h->hello_len = off;
			break;
		}
		if (take < rlen)
			return TLSHELLO_MORE;
	}
	if (!need || mlen < need)
		return TLSHELLO_MORE;
	c = (struct cur){msg + 4, need - 4, 0};
	r = body(h, &c);
	if (r == TLSHELLO_DONE)
		fingerprints(h);
	return r;
}
