/* rtsp.c: an RTSP/1.0 server that answers like a camera which wants a login
 * for everything but OPTIONS: one request per on_data call, a "request" event
 * per request, a "login" event per credential seen (Authorization: Basic or
 * Digest, or user:password in the request URL). Nothing ever succeeds, so no
 * media is described or streamed. A malformed request line or header line
 * closes the connection without an answer. Interleaved binary frames
 * ('$' channel length16 data) are skipped, bodies (Content-Length) too.
 * Every answer is persona data.
 *
 * Persona keys:
 *   rtsp.head.ok rtsp.head.auth rtsp.head.error "line"  [required, repeated]
 *     in order: the status line, then the header lines of one kind of
 *     answer: ok (methods in rtsp.open), auth (methods in rtsp.auth) or
 *     error (any other method). Placeholders: %S the status of an error
 *     (rtsp.unknown), %Q the request's CSeq value as sent, %P rtsp.public,
 *     %R the realm, %N a fresh 32-hex nonce (one per answer), %D the date
 *     (rtsp.date), %% a '%'. A line whose placeholder has no value (%Q
 *     without a CSeq) is left out.
 *   rtsp.open "METHOD ..."   methods answered with the ok kind.
 *   rtsp.auth "METHOD ..."   methods answered with the auth kind.
 *   rtsp.unknown "code text" the status of the error kind.
 *   rtsp.public "text"       %P.
 *   rtsp.realm "text"        %R, expanded with identity_expand() (${name}).
 *   rtsp.date "strftime format"  %D, UTC, C locale.
 *   rtsp.guess "password ..."  candidates tried against each Digest answer
 *     (MD5, with or without qop=auth): a match is logged as the password,
 *     with lure.auth.password_source "digest-guess", so the passwords that
 *     Digest clients try show up in clear when they are common ones. Every
 *     Digest parameter is logged as well, for cracking offline. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "digest.h"
#include "emu.h"
#include "event.h"
#include "fmt.h"
#include "hash.h"
#include "identity.h"
#include "lure.h"
#include "persona.h"

#define RTSP_LINE_MAX 512 /* one answer line after expansion */

enum rtsp_kind { RTSP_OK, RTSP_AUTH, RTSP_ERROR, RTSP__MAX };
static const char *const rtsp_head_key[RTSP__MAX] = {
        "rtsp.head.ok", "rtsp.head.auth", "rtsp.head.error"};

struct rtsp_state {
	size_t skip; /* body or interleaved-frame bytes still to drop */
	unsigned requests;
};

struct span {
	const uint8_t *p;
	size_t n;
};

struct rtsp_req {
	struct span method, uri, version, cseq, ua, auth, headers, body;
	int has_cseq;
	size_t head_len; /* through the blank line */
	size_t clen; /* Content-Length */
};

/* --- small helpers ------------------------------------------------------- */

static int
rtsp_tchar(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

static int
rtsp_caseeq(const uint8_t *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n && lit[i]; i++) {
		uint8_t a = s[i], b = (uint8_t)lit[i];
		if (a >= 'A' && a <= 'Z')
			a = (uint8_t)(a + 32);
		if (b >= 'A' && b <= 'Z')
			b = (uint8_t)(b + 32);
		if (a != b)
			return 0;
	}
	return i == n && !lit[i];
}

static struct span
rtsp_trim(const uint8_t *p, size_t n)
{
	struct span s;

	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		n--;
	s.p = p;
	s.n = n;
	return s;
}

/* Is the method one of the space-separated words of persona key? */
static int
rtsp_in_list(const char *key, struct span m)
{
	const char *l = persona_get(key, NULL);

	while (l && *l) {
		size_t w;
		while (*l == ' ')
			l++;
		w = strcspn(l, " ");
		if (w && w == m.n && memcmp(l, m.p, w) == 0)
			return 1;
		l += w;
	}
	return 0;
}

/* --- parsing -------------------------------------------------------------- */

enum { RTSP_AGAIN = 0, RTSP_DONE = 1, RTSP_BAD = -1 };

/* Parse one request head at p[0..n); leading blank lines were skipped. */
static int
rtsp_parse(struct rtsp_req *r, const uint8_t *p, size_t n)
{
	size_t i = 0, line = 0, ln = 0;
	int first = 1;

	memset(r, 0, sizeof *r);
	while (i < n) {
		const uint8_t *nl = memchr(p + i, '\n', n - i);
		size_t end, len;
		if (!nl)
			return RTSP_AGAIN;
		end = (size_t)(nl - p);
		len = end - i;
		if (len && p[i + len - 1] == '\r')
			len--;
		line = i;
		ln = len;
		i = end + 1;
		if (first) {
			/* METHOD SP URI SP VERSION, single or repeated spaces */
			struct span t[3];
			size_t k = 0, j = 0;
			first = 0;
			while (j < ln && k < 3) {
				size_t s;
				while (j < ln && p[line + j] == ' ')
					j++;
				if (j == ln)
					break;
				s = j;
				while (j < ln && p[line + j] != ' ')
					j++;
				t[k].p = p + line + s;
				t[k].n = j - s;
				k++;
			}
			while (j < ln && p[line + j] == ' ')
				j++;
			if (k != 3 || j != ln)
				return RTSP_BAD;
			for (size_t c = 0; c < t[0].n; c++)
				if (!rtsp_tchar(t[0].p[c]))
					return RTSP_BAD;
			for (size_t c = 0; c < t[1].n; c++)
				if (t[1].p[c] < 0x21 || t[1].p[c] == 0x7f)
					return RTSP_BAD;
			r->method = t[0];
			r->uri = t[1];
			r->version = t[2];
			r->headers.p = p + i;
			continue;
		}
		if (ln == 0) { /* end of head */
			r->headers.n = (size_t)(p + line - r->headers.p);
			r->head_len = i;
			return RTSP_DONE;
		}
		if (p[line] == ' ' || p[line] == '\t')
			continue; /* folded continuation of the previous line */
		{
			const uint8_t *colon = memchr(p + line, ':', ln);
			size_t nl_ = colon ? (size_t)(colon - (p + line)) : 0;
			struct span v;
			if (!colon || !nl_)
				return RTSP_BAD;
			for (size_t c = 0; c < nl_; c++)
				if (!rtsp_tchar(p[line + c]))
					return RTSP_BAD;
			v = rtsp_trim(colon + 1, ln - nl_ - 1);
			if (rtsp_caseeq(p + line, nl_, "cseq")) {
				r->cseq = v;
				r->has_cseq = 1;
			} else if (rtsp_caseeq(p + line, nl_, "user-agent")) {
				r->ua = v;
			} else if (rtsp_caseeq(
			                   p + line, nl_, "authorization")) {
				r->auth = v;
			} else if (rtsp_caseeq(
			                   p + line, nl_, "content-length")) {
				size_t cl = 0;
				if (!v.n || v.n > 9)
					return RTSP_BAD;
				for (size_t c = 0; c < v.n; c++) {
					if (v.p[c] < '0' || v.p[c] > '9')
						return RTSP_BAD;
					cl = cl * 10 + (size_t)(v.p[c] - '0');
				}
				r->clen = cl;
			}
		}
	}
	return RTSP_AGAIN;
}

/* --- answers -------------------------------------------------------------- */

static size_t
rtsp_date(char *out, size_t cap)
{
	const char *fmt = persona_get("rtsp.date", NULL);
	time_t t = (time_t)(lure_wall() / 1000);
	struct tm tm;

	if (!fmt || !gmtime_r(&t, &tm))
		return 0;
	return strftime(out, cap, fmt, &tm);
}

/* Append s[0..n) to out; 0, or -1 when it does not fit. CSeq bytes from the
 * client lose their control characters so an answer stays one line each. */
static int
rtsp_put(char *out, size_t *o, size_t cap, const void *s, size_t n, int clean)
{
	const uint8_t *b = s;

	for (size_t i = 0; i < n; i++) {
		if (clean && (b[i] < 0x20 || b[i] == 0x7f))
			continue;
		if (*o + 1 >= cap)
			return -1;
		out[(*o)++] = (char)b[i];
	}
	return 0;
}

/* Expand one head line; returns its length, 0 to leave it out, -1 if too
 * long. */
static long
rtsp_expand(const char *tpl, size_t tn, const struct rtsp_req *r,
        const char *status, const char *nonce, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < tn; i++) {
		char v[160];
		const char *s = v;
		size_t sn = 0;
		int clean = 0;
		if (tpl[i] != '%' || i + 1 == tn) {
			if (rtsp_put(out, &o, cap, tpl + i, 1, 0) < 0)
				return -1;
			continue;
		}
		switch (tpl[++i]) {
		case 'S': s = status, sn = status ? strlen(status) : 0; break;
		case 'Q':
			if (!r->has_cseq)
				return 0;
			s = (const char *)r->cseq.p;
			sn = LURE_MIN(r->cseq.n, 64);
			clean = 1;
			break;
		case 'P': s = persona_get("rtsp.public", &sn); break;
		case 'R': {
			size_t rn;
			const char *realm = persona_get("rtsp.realm", &rn);
			sn = realm ? identity_expand(realm, rn, v, sizeof v)
			           : 0;
			if (sn >= sizeof v)
				sn = sizeof v - 1;
			break;
		}
		case 'N': s = nonce, sn = 32; break;
		case 'D': sn = rtsp_date(v, sizeof v); break;
		case '%': s = "%", sn = 1; break;
		default: s = tpl + i - 1, sn = 2;
		}
		if (!s || !sn)
			return 0;
		if (rtsp_put(out, &o, cap, s, sn, clean) < 0)
			return -1;
	}
	return (long)o;
}

static void
rtsp_answer(struct emu_ctx *ctx, enum rtsp_kind kind, const struct rtsp_req *r,
        const char *status)
{
	char line[RTSP_LINE_MAX], nonce[33];
	const struct persona_kv *kv;
	size_t it = 0;

	digest_nonce_random(nonce);
	while ((kv = persona_next(rtsp_head_key[kind], &it))) {
		long n = rtsp_expand(kv->val, kv->len, r, status, nonce, line,
		        sizeof line - 2);
		if (n <= 0)
			continue;
		line[n] = '\r';
		line[n + 1] = '\n';
		emu_send(ctx, line, (size_t)n + 2);
	}
	emu_send(ctx, "\r\n", 2);
}

/* --- events ---------------------------------------------------------------- */

/* The rtsp.guess candidate whose Digest response is d's, or NULL. */
static const char *
rtsp_guess(const struct rtsp_req *r, const struct digest *d, size_t *len)
{
	const char *l = persona_get("rtsp.guess", NULL);

	if (!l || !d->v[DIGEST_REALM])
		return NULL;
	while (*l) {
		size_t w;
		while (*l == ' ')
			l++;
		w = strcspn(l, " ");
		if (w &&
		        digest_check(d, r->method.p, r->method.n,
		                d->v[DIGEST_REALM], d->n[DIGEST_REALM], l, w)) {
			*len = w;
			return l;
		}
		l += w;
	}
	return NULL;
}

/* One "login" event: user (and password) or, for Digest, d. */
static void
rtsp_login(struct emu_ctx *ctx, const struct rtsp_req *r, const char *scheme,
        struct span user, struct span pass, const struct digest *d)
{
	struct event *e = emu_event(ctx, "login");

	event_str(e, "lure.auth.scheme", scheme);
	if (d) {
		size_t gl;
		const char *g = rtsp_guess(r, d, &gl);
		digest_event(e, d);
		if (g) {
			event_bytes(e, "lure.auth.password", g, gl,
			        EVENT_CAP_DEFAULT);
			event_str(
			        e, "lure.auth.password_source", "digest-guess");
		}
	} else {
		event_bytes(e, "user.name", user.p, user.n, EVENT_CAP_DEFAULT);
		if (pass.p)
			event_bytes(e, "lure.auth.password", pass.p, pass.n,
			        EVENT_CAP_DEFAULT);
	}
	event_bytes(e, "lure.rtsp.method", r->method.p, r->method.n,
	        EVENT_CAP_DEFAULT);
	event_bytes(e, "url.original", r->uri.p, r->uri.n, EVENT_CAP_DEFAULT);
	event_str(e, "event.outcome", "failure");
	event_commit(e);
}

static void
rtsp_credentials(struct emu_ctx *ctx, const struct rtsp_req *r)
{
	struct span a = r->auth;
	struct digest d;

	if (a.n > 6 && rtsp_caseeq(a.p, 6, "basic ")) {
		uint8_t buf[512];
		struct span t = rtsp_trim(a.p + 6, a.n - 6);
		long dn = hash_unb64((const char *)t.p, t.n, buf, sizeof buf,
		        HASH_B64_PAD_ENDS);
		const uint8_t *colon =
		        dn > 0 ? memchr(buf, ':', (size_t)dn) : NULL;
		if (colon) {
			struct span u = {buf, (size_t)(colon - buf)};
			struct span pw = {colon + 1, (size_t)dn - u.n - 1};
			rtsp_login(ctx, r, "basic", u, pw, NULL);
		}
	} else if (digest_parse(a.p, a.n, &d)) {
		/* logged whole (with the method) to be cracked offline */
		struct span none = {NULL, 0};
		rtsp_login(ctx, r, "digest", none, none, &d);
	}
	/* rtsp://user:password@host/...: credentials in the URL */
	if (r->uri.n > 7 && rtsp_caseeq(r->uri.p, 7, "rtsp://")) {
		const uint8_t *h = r->uri.p + 7;
		size_t hn = r->uri.n - 7, end = 0;
		while (end < hn && h[end] != '/')
			end++;
		const uint8_t *at = end ? memchr(h, '@', end) : NULL;
		if (at) {
			size_t un = (size_t)(at - h);
			const uint8_t *colon = memchr(h, ':', un);
			struct span u = {h, colon ? (size_t)(colon - h) : un};
			struct span pw = {NULL, 0};
			if (colon) {
				pw.p = colon + 1;
				pw.n = un - u.n - 1;
			}
			rtsp_login(ctx, r, "url", u, pw, NULL);
		}
	}
}

static void
rtsp_request_event(struct emu_ctx *ctx, const struct rtsp_req *r, int status)
{
	struct event *e = emu_event(ctx, "request");

	event_bytes(e, "lure.rtsp.method", r->method.p, r->method.n,
	        EVENT_CAP_DEFAULT);
	event_bytes(e, "url.original", r->uri.p, r->uri.n, EVENT_CAP_DEFAULT);
	event_bytes(e, "lure.rtsp.version", r->version.p, r->version.n,
	        EVENT_CAP_DEFAULT);
	if (r->has_cseq)
		event_bytes(e, "lure.rtsp.cseq", r->cseq.p, r->cseq.n,
		        EVENT_CAP_DEFAULT);
	if (r->ua.p)
		event_bytes(e, "user_agent.original", r->ua.p, r->ua.n,
		        EVENT_CAP_DEFAULT);
	if (r->headers.n)
		event_bytes(e, "lure.rtsp.headers", r->headers.p, r->headers.n,
		        EVENT_CAP_PAYLOAD);
	if (r->body.n)
		event_bytes(e, "lure.rtsp.body", r->body.p, r->body.n,
		        EVENT_CAP_PAYLOAD);
	if (r->clen)
		event_int(e, "source.bytes", (int64_t)(r->head_len + r->clen));
	event_int(e, "lure.rtsp.status_code", status);
	event_commit(e);
}

static void
rtsp_bad(struct emu_ctx *ctx, const uint8_t *p, size_t n)
{
	struct event *e = emu_event(ctx, "request");

	event_bytes(e, "lure.payload", p, n, EVENT_CAP_PAYLOAD);
	event_str(e, "lure.rtsp.error", "bad request");
	event_commit(e);
	emu_close(ctx);
}

/* The status code an answer of this kind carries, for the event: the
 * digits after the version in its status line (or in %S). */
static int
rtsp_status(enum rtsp_kind kind, const char *stext)
{
	size_t it = 0;
	const struct persona_kv *kv = persona_next(rtsp_head_key[kind], &it);
	const char *c = kv ? memchr(kv->val, ' ', kv->len) : NULL;
	int status = 0;

	if (c && c[1] == '%' && c[2] == 'S')
		c = stext;
	else if (c)
		c++;
	for (; c && *c >= '0' && *c <= '9'; c++)
		status = status * 10 + (*c - '0');
	return status;
}

/* --- the emulator ---------------------------------------------------------- */

static size_t
rtsp_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct rtsp_state *st = state;
	struct rtsp_req r;
	size_t lead = 0;
	int rc, status = 0;
	enum rtsp_kind kind;
	char text[64];
	const char *stext = NULL;

	if (st->skip) {
		size_t k = LURE_MIN(st->skip, n);
		st->skip -= k;
		return k;
	}
	if (p[0] == '$') { /* interleaved frame: '$' channel len16 data */
		if (n < 4)
			return 0;
		st->skip = ((size_t)p[2] << 8 | p[3]);
		return 4;
	}
	while (lead < n && (p[lead] == '\r' || p[lead] == '\n'))
		lead++;
	if (lead)
		return lead;
	rc = rtsp_parse(&r, p, n);
	if (rc == RTSP_AGAIN)
		return 0; /* a head larger than the input buffer: the core closes */
	if (rc == RTSP_BAD) {
		const uint8_t *nl = memchr(p, '\n', n);
		rtsp_bad(ctx, p, nl ? (size_t)(nl - p) + 1 : n);
		return n;
	}
	st->requests++;
	r.body.p = p + r.head_len;
	r.body.n = LURE_MIN(r.clen, n - r.head_len);
	if (rtsp_in_list("rtsp.open", r.method)) {
		kind = RTSP_OK;
	} else if (rtsp_in_list("rtsp.auth", r.method)) {
		kind = RTSP_AUTH;
	} else {
		size_t sl;
		const char *s = persona_get("rtsp.unknown", &sl);
		kind = RTSP_ERROR;
		fmt_snprintf(
		        text, sizeof text, "%.*s", s ? (int)sl : 0, s ? s : "");
		stext = text;
	}
	status = rtsp_status(kind, stext);
	rtsp_answer(ctx, kind, &r, stext);
	rtsp_request_event(ctx, &r, status);
	if (r.auth.p || r.uri.n > 7)
		rtsp_credentials(ctx, &r);
	st->skip = r.clen - r.body.n;
	return r.head_len + r.body.n;
}

const struct emulator emu_rtsp = {
        .name = "rtsp",
        .transports = EMU_TCP,
        .state_size = sizeof(struct rtsp_state),
        .on_data = rtsp_data,
};
