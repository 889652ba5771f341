/* httpresp.c: HTTP responses built from persona data (see httpresp.h):
 * http.head.<kind> expanded, the body framed, ${...} page templates. */
#include <stdio.h>
#include <string.h>

#include "digest.h"
#include "emu.h"
#include "fmt.h"
#include "hash.h"
#include "httpresp.h"
#include "identity.h"
#include "lure.h"
#include "persona.h"

static char httpresp_tmpl_buf[8192];

size_t
httpresp_date(char out[32], int64_t t)
{
	static const char wd[] = "ThuFriSatSunMonTueWed";
	static const char mo[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	/* the last two made: a response's Date (this second) and the page's
	 * Last-Modified, asked again by every request */
	static struct {
		int64_t t;
		char text[32];
	} seen[2] = {{INT64_MIN, ""}, {INT64_MIN, ""}};
	static unsigned next;
	int64_t days = t / 86400, s = t % 86400;
	long y, m, d;

	for (unsigned i = 0; i < 2; i++)
		if (seen[i].t == t) {
			memcpy(out, seen[i].text, 30);
			return 29;
		}
	if (s < 0)
		s += 86400, days--;
	fmt_civil_from_days((long)days, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = 1970;
	memcpy(out, wd + 3 * (((days % 7) + 7) % 7), 3);
	out[3] = ',';
	out[4] = ' ';
	out[5] = (char)('0' + d / 10);
	out[6] = (char)('0' + d % 10);
	out[7] = ' ';
	memcpy(out + 8, mo + 3 * (m - 1), 3);
	out[11] = ' ';
	out[12] = (char)('0' + y / 1000);
	out[13] = (char)('0' + y / 100 % 10);
	out[14] = (char)('0' + y / 10 % 10);
	out[15] = (char)('0' + y % 10);
	out[16] = ' ';
	out[17] = (char)('0' + s / 36000);
	out[18] = (char)('0' + s / 3600 % 10);
	out[19] = ':';
	out[20] = (char)('0' + s % 3600 / 600);
	out[21] = (char)('0' + s % 600 / 60);
	out[22] = ':';
	out[23] = (char)('0' + s % 60 / 10);
	out[24] = (char)('0' + s % 10);
	memcpy(out + 25, " GMT", 5);
	seen[next].t = t;
	memcpy(seen[next].text, out, 30);
	next ^= 1;
	return 29;
}

const char *
httpresp_realm(size_t *n)
{
	static char realm[IDENTITY_VALUE_MAX];
	size_t rn;
	const char *v = persona_get("http.realm", &rn);

	*n = v ? identity_expand(v, rn, realm, sizeof realm) : 0;
	return realm;
}

size_t
httpresp_etag(char *out, size_t cap, int64_t mtime, int64_t flen)
{
	size_t n, k = 0;
	const char *f = persona_get("http.etag", &n);

	for (size_t i = 0; f && i < n && k + 17 < cap; i++) {
		if (f[i] == '%' && i + 1 < n && f[i + 1] == 'w') {
			/* IIS: the file's FILETIME (100 ns since 1601; its
			 * 100 ns part drawn from mtime), each byte of it
			 * little-endian in %x: "557c50d443acd81" */
			uint64_t ft =
			        ((uint64_t)mtime + 11644473600u) * 10000000u +
			        (uint64_t)mtime * 2654435761u % 10000000u;
			for (unsigned b = 0; b < 8; b++, ft >>= 8)
				k += fmt_hex(out + k, ft & 0xff);
			i++;
			continue;
		}
		if (f[i] == '%' && i + 1 < n &&
		        (f[i + 1] == 'm' || f[i + 1] == 'l')) {
			k += fmt_hex(out + k,
			        (uint64_t)(f[++i] == 'm' ? mtime : flen));
			continue;
		}
		out[k++] = f[i];
	}
	return k;
}

/* Status line and headers of kind o->kind into out; returns the length, or
 * 0 when they do not fit. A line whose placeholder has no value here is
 * left out. */
static size_t
httpresp_head(const struct httpresp_out *o, char *out, size_t cap)
{
	char key[32], val[128];
	const struct persona_kv *kv;
	size_t it = 0, k = 0, kl = strnlen(o->kind, sizeof key - 11);

	memcpy(key, "http.head.", 10);
	memcpy(key + 10, o->kind, kl);
	key[10 + kl] = 0;
	while ((kv = persona_next(key, &it))) {
		size_t line = k;
		int drop = 0;
		for (size_t i = 0; i < kv->len && !drop; i++) {
			const char *v = val;
			size_t vn = 0;
			if (kv->val[i] != '%' || i + 1 == kv->len) {
				if (k + 1 >= cap)
					return 0;
				out[k++] = kv->val[i];
				continue;
			}
			switch (kv->val[++i]) {
			case 'S': v = o->status, vn = o->status_len; break;
			case 'D':
				vn = httpresp_date(val, lure_wall() / 1000);
				break;
			case 'T':
				v = o->type, vn = o->type_len;
				drop = !v;
				break;
			case 'L':
				drop = o->len < 0;
				if (!drop)
					vn = fmt_dec(val, (uint64_t)o->len);
				break;
			case 'M':
				drop = o->mtime < 0;
				if (!drop)
					vn = httpresp_date(val, o->mtime);
				break;
			case 'E':
				drop = o->mtime < 0;
				if (!drop)
					vn = httpresp_etag(val, sizeof val,
					        o->mtime, o->flen);
				break;
			case 'C':
				v = NULL;
				if (o->keepalive)
					v = persona_get(
					        "http.keepalive_token", &vn);
				if (!v) {
					v = o->keepalive ? "keep-alive"
					                 : "close";
					vn = strlen(v);
				}
				break;
			case 'G':
				v = o->crange, vn = o->crange_len;
				drop = !v;
				break;
			case 'X':
				drop = !o->chunked;
				v = "chunked", vn = 7;
				break;
			case 'V':
				vn = fmt_dec(val, o->major);
				val[vn++] = '.';
				vn += fmt_dec(val + vn, o->minor);
				break;
			case 'N':
				vn = digest_nonce_stamped(val, sizeof val);
				break;
			case 'R': v = httpresp_realm(&vn); break;
			case 'k': /* "timeout=T"; K adds ", max=N" */
			case 'K':
				drop = !o->keepalive;
				memcpy(val, "timeout=", 8);
				vn = 8 +
				     fmt_dec(val + 8, (uint64_t)o->ka_timeout);
				if (kv->val[i] == 'k')
					break;
				memcpy(val + vn, ", max=", 6);
				vn += 6;
				vn += fmt_dec(val + vn, o->ka_left);
				break;
			default:
				v = kv->val + i - 1,
				vn = 2; /* %% gives "%" below */
				if (kv->val[i] == '%')
					vn = 1;
				break;
			}
			if (drop)
				break;
			if (k + vn + 1 >= cap)
				return 0;
			memcpy(out + k, v, vn);
			k += vn;
		}
		if (drop) {
			k = line;
			continue;
		}
		if (k + 2 >= cap)
			return 0;
		out[k++] = '\r';
		out[k++] = '\n';
	}
	if (k + 2 >= cap)
		return 0;
	out[k++] = '\r';
	out[k++] = '\n';
	return k;
}

int
httpresp_send(struct emu_ctx *ctx, const struct httpresp_out *o, int cont)
{
	char head[2048];
	size_t hn;

	if (o->major == 0) { /* HTTP/0.9: the body alone */
		if ((o->b2 || o->copy) && emu_send(ctx, o->b1, o->b1n) < 0)
			return -1;
		if (o->copy)
			return 0;
		return emu_send_const(
		        ctx, o->b2 ? o->b2 : o->b1, o->b2 ? o->b2n : o->b1n);
	}
	if (!(hn = httpresp_head(o, head, sizeof head)))
		return -1;
	if (cont) {
		size_t cn;
		const char *c = persona_get("http.continue", &cn);
		if (c && emu_send(ctx, c, cn) < 0)
			return -1;
	}
	if (emu_send(ctx, head, hn) < 0)
		return -1;
	if (o->head)
		return 0;
	if (o->chunked && !o->b1n) /* no body: the last chunk alone */
		return emu_send(ctx, "0\r\n\r\n", 5);
	if (o->chunked) {
		char line[24];
		size_t ln = fmt_hex(line, o->b1n);
		line[ln++] = '\r';
		line[ln++] = '\n';
		if (emu_send(ctx, line, ln) < 0 ||
		        emu_send(ctx, o->b1, o->b1n) < 0 ||
		        emu_send(ctx, "\r\n0\r\n\r\n", 7) < 0)
			return -1;
		return 0;
	}
	if (o->b2) {
		if (emu_send(ctx, o->b1, o->b1n) < 0)
			return -1;
		return emu_send_const(ctx, o->b2, o->b2n);
	}
	if (o->copy)
		return emu_send(ctx, o->b1, o->b1n);
	return o->b1n ? emu_send_const(ctx, o->b1, o->b1n) : 0;
}

/* Year, month, day, hour, minute, second of Unix seconds (UTC). */
static void
httpresp_civil(int64_t t, int64_t out[6])
{
	int64_t days = t / 86400, s = t % 86400;
	long y, m, d;

	if (s < 0)
		s += 86400, days--;
	fmt_civil_from_days((long)days, &y, &m, &d);
	out[0] = y;
	out[1] = m;
	out[2] = d;
	out[3] = s / 3600;
	out[4] = s % 3600 / 60;
	out[5] = s % 60;
}

/* Request text (the path) is XML-escaped: pages put it in XML. */
long
httpresp_template(const uint8_t *in, size_t n, const uint8_t *path, size_t plen,
        const char **body)
{
	char *out = httpresp_tmpl_buf, val[64];
	size_t cap = sizeof httpresp_tmpl_buf, k = 0;
	int64_t c[6];

	*body = httpresp_tmpl_buf;
	httpresp_civil(lure_wall() / 1000, c);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *end;
		const char *v = NULL;
		char name[32];
		size_t nl, vn = 0;
		int esc = 0;

		if (in[i] != '$' || i + 1 >= n || in[i + 1] != '{' ||
		        !(end = memchr(in + i + 2, '}', n - i - 2)) ||
		        (nl = (size_t)(end - in - i - 2)) >= sizeof name) {
			if (k + 1 > cap)
				return -1;
			out[k++] = (char)in[i];
			continue;
		}
		memcpy(name, in + i + 2, nl);
		name[nl] = 0;
		if (nl == 5 && memcmp(name, "now.", 4) == 0 &&
		        strchr("YmdHMS", name[4])) {
			vn = fmt_dec(
			        val, (uint64_t)c[strchr("YmdHMS", name[4]) -
			                         "YmdHMS"]);
			v = val;
		} else if (strcmp(name, "now.iso") == 0) {
			vn = (size_t)fmt_snprintf(val, sizeof val,
			        "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)c[0],
			        (int)c[1], (int)c[2], (int)c[3], (int)c[4],
			        (int)c[5]);
			v = val;
		} else if (strcmp(name, "req.rand32") == 0) {
			uint8_t rnd[16];
			lure_random(rnd, sizeof rnd);
			hash_hex(rnd, sizeof rnd, val);
			v = val, vn = 32;
		} else if (strcmp(name, "req.path") == 0) {
			v = (const char *)path, vn = plen;
			esc = 1;
		} else if ((v = identity_get(name))) {
			vn = strlen(v);
		}
		if (!v) {
			if (k + 1 > cap)
				return -1;
			out[k++] = (char)in[i];
			continue;
		}
		for (size_t j = 0; j < vn; j++) {
			const char *rep = NULL;
			if (esc && v[j] == '<')
				rep = "&lt;";
			else if (esc && v[j] == '>')
				rep = "&gt;";
			else if (esc && v[j] == '&')
				rep = "&amp;";
			else if (esc && v[j] == '"')
				rep = "&quot;";
			if (k + (rep ? strlen(rep) : 1) > cap)
				return -1;
			if (rep) {
				memcpy(out + k, rep, strlen(rep));
				k += strlen(rep);
			} else {
				out[k++] = v[j];
			}
		}
		i = (size_t)(end - in);
	}
	return (long)k;
}
