/* ntlm.c: NTLMSSP's server side ([MS-NLMP]): the CHALLENGE (2.2.1.2) with
 * the persona's target information (2.2.2.1), and the AUTHENTICATE
 * (2.2.1.3) into the fields of a "login" event, the response as password
 * crackers take it. One host on every port: smb, and rdp's CredSSP and
 * tds's SSPI where they are built, read the same keys.
 *
 * Persona keys. Numbers are decimal; byte strings are wire bytes.
 *   ntlm.flags               CHALLENGE's NegotiateFlags always set
 *   ntlm.flags_echo          CHALLENGE's flags set when the client asks
 *   ntlm.version             CHALLENGE's Version (8 bytes, 2.2.2.10)
 *   ntlm.nb_domain ntlm.nb_computer ntlm.dns_domain ntlm.dns_computer
 *   ntlm.dns_tree            the target information (AV pairs 2 1 4 3 5,
 *                            ${identity} values expanded); nb_domain is
 *                            the TargetName too
 *
 * Hashes (hex lower case): NTLMv2, hashcat 5600 / John netntlmv2:
 * USER::DOMAIN:CHALLENGE:NTPROOFSTR:BLOB; a 24-byte NT response, 5500 /
 * netntlm: USER::DOMAIN:LM:NT:CHALLENGE. */
#include <string.h>

#include "bytes.h"
#include "event.h"
#include "fmt.h"
#include "hash.h"
#include "identity.h"
#include "lure.h"
#include "ntlm.h"
#include "persona.h"

#define NTLM_UNICODE 0x00000001u
#define NTLM_OEM 0x00000002u
#define NTLM_VERSION 0x02000000u

#define NTLM_NAME 256 /* UTF-8 bytes of a user, domain or workstation */
#define NTLM_NTRESP 1024 /* bytes of an NT response put in the hash */

static const uint8_t ntlm_sig[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};
static char ntlm_hash[2 * NTLM_NAME + 64 + 2 * NTLM_NTRESP + 64];

uint64_t
ntlm_filetime(void)
{
	return (uint64_t)lure_wall() * 10000u + 116444736000000000ull;
}

size_t
ntlm_der(uint8_t *p, uint8_t tag, size_t len)
{
	p[0] = tag;
	if (len < 0x80) {
		p[1] = (uint8_t)len;
		return 2;
	}
	if (len < 0x100) {
		p[1] = 0x81;
		p[2] = (uint8_t)len;
		return 3;
	}
	p[1] = 0x82;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	return 4;
}

size_t
ntlm_der_size(size_t len)
{
	return len < 0x80 ? 2 : len < 0x100 ? 3 : 4;
}

int
ntlm_spnego(const uint8_t *b, size_t n)
{
	return n > 0 && (b[0] == 0x60 || b[0] == 0xa1);
}

size_t
ntlm_spnego_resp(uint8_t *p, size_t cap, const uint8_t *mech, size_t ml,
        const uint8_t *t, size_t tn, int state)
{
	/* 1.3.6.1.4.1.311.2.2.10 */
	static const uint8_t oid[] = {0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01,
	        0x82, 0x37, 0x02, 0x02, 0x0a};
	size_t inner, seq, len;

	if (!mech) {
		mech = oid;
		ml = sizeof oid;
	}
	/* negState, then supportedMech and responseToken */
	inner = 5 +
	        (t ? ntlm_der_size(ml) + ml +
	                                ntlm_der_size(tn + ntlm_der_size(tn)) +
	                                ntlm_der_size(tn) + tn
	           : 0);
	seq = ntlm_der_size(inner) + inner;
	if (ntlm_der_size(seq) + seq > cap || seq > 0xffff)
		return 0;
	if (t) /* its place at the end, first: t may lie in p's buffer */
		memmove(p + ntlm_der_size(seq) + seq - tn, t, tn);
	len = ntlm_der(p, 0xa1, seq);
	len += ntlm_der(p + len, 0x30, inner);
	memcpy(p + len, "\xa0\x03\x0a\x01", 4);
	p[len + 4] = (uint8_t)state;
	len += 5;
	if (t) {
		len += ntlm_der(p + len, 0xa1, ml);
		memcpy(p + len, mech, ml);
		len += ml;
		len += ntlm_der(p + len, 0xa2, tn + ntlm_der_size(tn));
		len += ntlm_der(p + len, 0x04, tn);
		len += tn;
	}
	return len;
}

size_t
ntlm_utf16(const char *key, uint8_t *out, size_t cap)
{
	char tmp[IDENTITY_VALUE_MAX * 2];
	size_t len = 0, n;
	const char *v = persona_get(key, &len);

	if (!v)
		return 0;
	n = identity_expand(v, len, tmp, sizeof tmp);
	if (n >= sizeof tmp)
		n = sizeof tmp - 1;
	if (2 * n > cap)
		n = cap / 2;
	for (size_t i = 0; i < n; i++) /* ASCII names */
		bytes_put16(out + 2 * i, (uint8_t)tmp[i]);
	return 2 * n;
}

size_t
ntlm_utf8(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i + 1 < n; i += 2) {
		uint32_t c = bytes_le16(p + i);
		if (c >= 0xd800 && c < 0xdc00 && i + 3 < n &&
		        bytes_le16(p + i + 2) >= 0xdc00 &&
		        bytes_le16(p + i + 2) < 0xe000) {
			c = 0x10000 + ((c - 0xd800) << 10) +
			    (bytes_le16(p + i + 2) - 0xdc00);
			i += 2;
		} else if (c >= 0xd800 && c < 0xe000) {
			c = 0xfffd;
		}
		if (o + 4 > cap)
			break;
		if (c < 0x80) {
			out[o++] = (char)c;
		} else if (c < 0x800) {
			out[o++] = (char)(0xc0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			out[o++] = (char)(0xe0 | c >> 12);
			out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[o++] = (char)(0xf0 | c >> 18);
			out[o++] = (char)(0x80 | (c >> 12 & 0x3f));
			out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	return o;
}

const uint8_t *
ntlm_find(const uint8_t *b, size_t n, size_t *len)
{
	const uint8_t *s = n >= 12 ? memmem(b, n, ntlm_sig, 8) : NULL;

	if (!s || (size_t)(b + n - s) < 12)
		return NULL;
	*len = (size_t)(b + n - s);
	return s;
}

unsigned
ntlm_type(const uint8_t *m, size_t n)
{
	return n >= 12 ? bytes_le32(m + 8) : 0;
}

uint32_t
ntlm_flags(const uint8_t *m, size_t n)
{
	return n >= 16 ? bytes_le32(m + 12) : 0;
}

/* --- CHALLENGE ----------------------------------------------------------- */

static size_t
ntlm_av(uint8_t *p, unsigned id, const char *key, size_t cap)
{
	size_t n;

	if (cap < 4)
		return 0;
	n = ntlm_utf16(key, p + 4, cap - 4);
	bytes_put16(p, id);
	bytes_put16(p + 2, (uint32_t)n);
	return 4 + n;
}

size_t
ntlm_challenge(uint8_t *p, size_t cap, uint32_t client, uint8_t chal[8])
{
	size_t vl = 0, tn, o, ti;
	const char *ver = persona_get("ntlm.version", &vl);
	uint32_t fl =
	        (uint32_t)persona_int("ntlm.flags", 0x02818204) |
	        (client & (uint32_t)persona_int("ntlm.flags_echo", 0xE0080033));
	uint64_t ft = ntlm_filetime();

	if (fl & NTLM_UNICODE)
		fl &= ~NTLM_OEM;
	if (cap < 512)
		return 0;
	memset(p, 0, 56);
	memcpy(p, ntlm_sig, 8);
	bytes_put32(p + 8, 2);
	bytes_put32(p + 20, fl);
	lure_random(chal, 8);
	memcpy(p + 24, chal, 8);
	if (ver && vl == 8)
		memcpy(p + 48, ver, 8);
	tn = ntlm_utf16("ntlm.nb_domain", p + 56, 64);
	bytes_put16(p + 12, (uint32_t)tn);
	bytes_put16(p + 14, (uint32_t)tn);
	bytes_put32(p + 16, 56);
	o = ti = 56 + tn;
	o += ntlm_av(p + o, 2, "ntlm.nb_domain", cap - 16 - o);
	o += ntlm_av(p + o, 1, "ntlm.nb_computer", cap - 16 - o);
	o += ntlm_av(p + o, 4, "ntlm.dns_domain", cap - 16 - o);
	o += ntlm_av(p + o, 3, "ntlm.dns_computer", cap - 16 - o);
	o += ntlm_av(p + o, 5, "ntlm.dns_tree", cap - 16 - o);
	bytes_put16(p + o, 7); /* MsvAvTimestamp */
	bytes_put16(p + o + 2, 8);
	bytes_put32(p + o + 4, (uint32_t)ft);
	bytes_put32(p + o + 8, (uint32_t)(ft >> 32));
	bytes_put32(p + o + 12, 0); /* MsvAvEOL */
	o += 16;
	bytes_put16(p + 40, (uint32_t)(o - ti));
	bytes_put16(p + 42, (uint32_t)(o - ti));
	bytes_put32(p + 44, (uint32_t)ti);
	return o;
}

/* --- NEGOTIATE and AUTHENTICATE ------------------------------------------ */

/* A field (Len, MaxLen, Offset) of a message m[0..n): its bytes or NULL
 * (out of bounds: empty). */
static const uint8_t *
ntlm_field(const uint8_t *m, size_t n, size_t at, size_t *len)
{
	size_t l = bytes_le16(m + at), o = bytes_le32(m + at + 4);

	*len = 0;
	if (o > n || l > n - o)
		return NULL;
	*len = l;
	return m + o;
}

/* A name field as UTF-8 into out (NTLM_NAME bytes); its length. */
static size_t
ntlm_name(const uint8_t *m, size_t n, size_t at, int unicode, char *out)
{
	size_t l;
	const uint8_t *f = ntlm_field(m, n, at, &l);

	if (!f)
		return 0;
	if (unicode)
		return ntlm_utf8(f, l, out, NTLM_NAME);
	l = LURE_MIN(l, (size_t)NTLM_NAME);
	memcpy(out, f, l);
	return l;
}

/* The client's Version (2.2.2.10) v[0..8), when it sent one. */
static void
ntlm_client_version(struct event *e, const uint8_t *v, uint32_t fl)
{
	char s[24], *o = s;

	if (!(fl & NTLM_VERSION) || v[0] == 0)
		return;
	o += fmt_dec(o, v[0]);
	*o++ = '.';
	o += fmt_dec(o, v[1]);
	*o++ = '.';
	o += fmt_dec(o, bytes_le16(v + 2));
	*o = 0;
	event_str(e, "lure.auth.ntlm.client_version", s);
}

void
ntlm_negotiate_fields(struct event *e, const uint8_t *m, size_t n)
{
	event_str(e, "lure.auth.ntlm.message", "NEGOTIATE");
	/* the Version is there when no field's payload starts before it
	 * (FreeTDS sets the flag and puts its names at 32) */
	if (n >= 40 && (!bytes_le16(m + 16) || bytes_le32(m + 20) >= 40) &&
	        (!bytes_le16(m + 24) || bytes_le32(m + 28) >= 40))
		ntlm_client_version(e, m + 32, bytes_le32(m + 12));
}

int
ntlm_login(struct event *e, const uint8_t *m, size_t n, const uint8_t chal[8],
        const char *ws_field)
{
	static char user[NTLM_NAME], dom[NTLM_NAME], ws[NTLM_NAME];
	size_t ul, dl, wl, lml, ntl, h;
	uint32_t fl = n >= 64 ? bytes_le32(m + 60) : 0;
	int uni = (fl & NTLM_UNICODE) != 0, anon;
	const uint8_t *lm, *nt;
	char *x = ntlm_hash;

	if (n < 64)
		return -1;
	ul = ntlm_name(m, n, 36, uni, user);
	dl = ntlm_name(m, n, 28, uni, dom);
	wl = ntlm_name(m, n, 44, uni, ws);
	lm = ntlm_field(m, n, 12, &lml);
	nt = ntlm_field(m, n, 20, &ntl);
	anon = ul == 0 && ntl == 0 && (lml == 0 || (lml == 1 && lm[0] == 0));
	event_bytes(e, "user.name", user, ul, NTLM_NAME);
	if (dl)
		event_bytes(e, "user.domain", dom, dl, NTLM_NAME);
	if (wl)
		event_bytes(e, ws_field, ws, wl, NTLM_NAME);
	memcpy(x, user, ul);
	h = ul;
	memcpy(x + h, "::", 2);
	h += 2;
	memcpy(x + h, dom, dl);
	h += dl;
	x[h++] = ':';
	if (anon) {
		event_str(e, "lure.auth.method", "anonymous");
	} else if (nt && ntl == 24) {
		event_str(e, "lure.auth.method", "ntlmv1");
		hash_hex(lm && lml == 24 ? lm : nt, 24, x + h);
		h += 48;
		x[h++] = ':';
		hash_hex(nt, 24, x + h);
		h += 48;
		x[h++] = ':';
		hash_hex(chal, 8, x + h);
		event_str(e, "lure.auth.ntlm.hash", x);
	} else if (nt && ntl > 24) {
		event_str(e, "lure.auth.method", "ntlmv2");
		hash_hex(chal, 8, x + h);
		h += 16;
		x[h++] = ':';
		hash_hex(nt, 16, x + h);
		h += 32;
		x[h++] = ':';
		hash_hex(nt + 16, LURE_MIN(ntl - 16, (size_t)NTLM_NTRESP),
		        x + h);
		event_str(e, "lure.auth.ntlm.hash", x);
		if (ntl - 16 > NTLM_NTRESP)
			event_bool(e, "lure.truncated", 1);
	} else {
		event_str(e, "lure.auth.method", lml ? "lm" : "ntlm");
	}
	if (n >= 72)
		ntlm_client_version(e, m + 64, fl);
	return anon;
}
