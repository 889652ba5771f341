/* http.c: an HTTP/1.0 and 1.1 server (and 0.9) whose request-line, header,
 * URI and chunked parsers are nginx 1.22's state machines (src/httpparse.c),
 * so malformed input gets the answers nginx gives; Digest authentication is
 * src/digest.c's, shared with RTSP; status and header lines, bodies and page
 * templates are built by src/httpresp.c. One request per on_data call
 * (pipelining stays bounded), keep-alive up to a request cap, bodies read and
 * dropped as they stream in, one "request" event per request plus a "login"
 * event for Basic credentials. Every page, header line and status text is
 * persona data.
 *
 * Persona keys:
 *   http.head.<kind> "line"  [repeated] in order: the status line, then the
 *     header lines of one kind of response: file (a route), gzip (a route's
 *     gz= variant), error (4xx/5xx pages), errgzip (an error's gz= variant),
 *     304. Placeholders: %S status ("404 Not Found"), %D Date, %T the route's
 *     type, %L body length, %M Last-Modified, %E the ETag (http.etag), %C
 *     "keep-alive" or "close", %X "chunked" on a chunked body, %V the request
 *     version, %G the Content-Range (http.ranges), %% a '%'. A line with a placeholder that has no value in this
 *     response (no %L on a chunked body...) is left out.
 *   http.head.file http.head.error  [required]
 *   http.etag "fmt"          the ETag: %m mtime and %l length in hex, %w the mtime as IIS writes it (a FILETIME's bytes).
 *   http.mtime "base span"   files' mtime: base + hash(sensor id) % span, so
 *     Last-Modified and ETag are stable per sensor and differ between them.
 *   http.route "path file [gz=file] type..."  [repeated] a page at an
 *     exact normalised path (GET/HEAD; any other method gets 405); type is the rest.
 *   http.status "code text"  [repeated] the text of 200 and 304.
 *   http.error "code file [gz=file] [padgz=file] status..."  [repeated]
 *     error pages; code 494 is the "header too large" page, 400host the 400 to an HTTP/1.1 head without Host (their status may differ).
 *   http.padding file        appended to 4xx/5xx pages (nginx's
 *     msie_padding) when the User-Agent matches
 *   http.padding_ua "+pattern" or "-pattern"  [repeated] the first pattern
 *     found in the User-Agent decides, '?' is any byte.
 *   http.continue "bytes"    sent before a route's answer to "Expect:
 *     100-continue".
 *   http.keepalive_requests  (default 1000)
 *   http.body_max            (1048576) a larger Content-Length gets 413
 *   http.body_wait           (500 ms, see below)
 *   http.keepalive_hold      seconds a kept-alive connection waits for its
 *     next request before it is closed (nginx: keepalive_timeout, 75); 0
 *     (default): until limits.idle_timeout
 *   http.ranges              1: "Range: bytes=" on a route's 200 as
 *     nginx's range filter (206 with %G the Content-Range, kind "range";
 *     not satisfiable: the http.error 416 page, %G "bytes * /LEN"); else
 *     Range is ignored
 *
 * Beyond nginx (devices' web servers), route and error options, written
 * between the file and the type: m=PUT,POST (methods; default GET and
 * HEAD), s=CODE (status instead of 200, its text from http.status),
 * k=KIND (http.head.KIND instead of file/error), t=1 (the body is a
 * template: ${name} from identity, ${now.Y} .m .d .H .M .S .iso (UTC),
 * ${req.path}, ${req.rand32} 32 random hex digits), b=TEXT (only when the body holds TEXT), auth=1 (needs
 * credentials: Digest, or Basic with http.auth_basic 1, checked against
 * http.user "name password"; else the 401 error page), wsse=KEY (needs a
 * WS-Security UsernameToken, PasswordDigest or PasswordText, checked the
 * same way; else the http.error page KEY). A route path ending in '*'
 * matches by prefix; the first route whose path, method and b= fit wins.
 * More placeholders: %N a fresh Digest nonce, %R the realm (http.realm,
 * ${identity} expanded), %K "timeout=T, max=N" (keep-alive only; T from
 * http.keepalive_timeout), %k "timeout=T" alone (keep-alive only). Option
 * c=1 on a route or error: an HTTP/1.1 answer (not HEAD) goes chunked with
 * no length, as uhttpd sends CGI output and its error pages; t=1 works on
 * error pages too. http.keepalive_token is %C's word for keep-alive
 * ("keep-alive"; uhttpd says "Keep-Alive"). http.answer_after_body 1
 * answers once the body is in (as such servers do) instead of as soon as
 * the head is parsed. These keys:
 *   http.realm               %R
 *   http.user "name password"  [repeated] credentials that log in
 *   http.auth_basic          1: Basic credentials are checked too
 *   http.keepalive_timeout   T of %K and %k
 *   http.keepalive_token     %C's word for keep-alive
 *   http.answer_after_body   1: answer once the body is in
 * Every request is checked against the exploit rules (src/rules.h): a
 * match adds an "exploit" event with vulnerability.id, tags, rule.name
 * and the commands, URLs and IPs of its payload (src/indicators.h).
 * Digest and WS-Security credentials give "login" events with the
 * exchange in lure.auth.* (scheme, realm, nonce, uri, response, ...).
 *
 * Sizes as nginx's buffers (client_header_buffer_size 1k,
 * large_client_header_buffers 4 8k, see HTTP_BUF0): a request line that
 * outgrows them gets 414, a header line the 494 page, and the rest of the
 * input is read and dropped until it stops (nginx's lingering close) so the
 * close is a FIN, not a reset.
 * Divergences from nginx, on purpose: several ranges (multipart/byteranges),
 * If-Unmodified-Since, keepalive_disable msie6 and keepalive_time are not
 * modelled;
 * If-Modified-Since is compared as text with Last-Modified (nginx parses the
 * date). No directories but "/" (no 301/403). The answer goes out as soon as
 * the head is parsed, as nginx does, but a body that arrives split is logged
 * only when complete, when the buffer is full, or http.body_wait ms later
 * (the core reads no input during that wait). After "Connection: close" the
 * rest of a body is drained (at most http.body_max bytes) before closing,
 * where nginx lingers on a timer. */
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "emu.h"
#include "event.h"
#include "fmt.h"
#include "hash.h"
#include "httpparse.h"
#include "httprange.h"
#include "httpresp.h"
#include "indicators.h"
#include "lure.h"
#include "persona.h"
#include "rules.h"
#include "wsse.h"

/* nginx's header buffers (client_header_buffer_size 1k,
 * large_client_header_buffers 4 8k): a head is read into 1 KiB; a line that
 * does not fit moves to an 8 KiB buffer, at most 4 of them, and a line must
 * fit in one. The connection's input buffer (.in_min) holds the largest head
 * nginx takes, 33 KiB: calloc'd per slot and touched only as far as a
 * connection's input goes (SSH's in_min is already 35000). */
#define HTTP_BUF0 1024
#define HTTP_LINE_MAX 8192
#define HTTP_LARGE_BUFS 4
#define HTTP_HEAD_MAX (HTTP_BUF0 + HTTP_LARGE_BUFS * HTTP_LINE_MAX)
#define HTTP_LINGER_MS 500 /* nginx: lingering_timeout 5s */
#define HTTP_KA_STEP 30000u /* ms, see http_ka_step() */

enum http_phase {
	HTTP_HEAD,
	HTTP_ANSWER, /* the head is parsed, "100 Continue" is on its way */
	HTTP_BODY,
	HTTP_DRAIN,
	HTTP_DONE,
	HTTP__MAX
};

/* One request: what the parsers found, and what the emulator decided. */
struct http_req {
	struct httpparse_req q; /* offsets into the unconsumed input */
	uint8_t pad; /* User-Agent asks for error page padding */
	uint8_t keepalive; /* the answer said keep-alive */
	uint8_t close; /* close after the answer whatever it said */
	uint8_t chunked; /* Transfer-Encoding: chunked */
	uint8_t waited; /* http.body_wait has passed */
	uint8_t waiting; /* a wake-up is pending */
	uint8_t defer; /* answer once the body is in */
	uint8_t ck_err; /* the chunked body read so far is bad */
	uint8_t cont_sent; /* "100 Continue" went out */
	uint16_t ka_left; /* requests left on this connection (%K) */
	uint16_t status; /* what the status line said */
	uint16_t bstart; /* where nginx's current header buffer starts */
	uint8_t nlarge; /* large header buffers used */
	uint64_t cl; /* Content-Length */
};

struct http_state {
	uint8_t phase; /* enum http_phase */
	uint8_t closing; /* emu_close() was called */
	uint8_t linger; /* HTTP_DONE: close once input stops */
	uint8_t ka_wait; /* kept alive, no byte of the next request yet */
	uint32_t ka_left; /* ms of http.keepalive_hold after this step */
	uint32_t requests; /* on this connection, this one included */
	uint64_t left; /* Content-Length bytes still to drain */
	uint64_t drained; /* body bytes drained after logging */
	struct httpparse_chunk ck;
	struct http_req r;
};

/* Scratch that lives only during one on_data call. */
static uint8_t http_scratch[HTTP_LINE_MAX + 2];
static uint8_t http_body_buf[EVENT_CAP_PAYLOAD];
/* The last request's normalised path (http_path_of): routes, ${req.path}. */
static uint8_t http_path[HTTP_LINE_MAX + 2];
static size_t http_path_len;
/* The Content-Range of the answer being sent (%G), 0: none. */
static char http_crange[64];
static size_t http_crange_len;

/* --- small helpers ------------------------------------------------------ */

/* Next space-separated word of s[*i..n). */
static int
http_word(const char *s, size_t n, size_t *i, const char **w, size_t *wl)
{
	while (*i < n && s[*i] == ' ')
		(*i)++;
	if (*i == n)
		return 0;
	*w = s + *i;
	while (*i < n && s[*i] != ' ')
		(*i)++;
	*wl = (size_t)(s + *i - *w);
	return 1;
}

static const struct persona_file *
http_file(const char *name, size_t n)
{
	char buf[128];

	if (n >= sizeof buf)
		return NULL;
	memcpy(buf, name, n);
	buf[n] = 0;
	return persona_file(buf);
}

/* The persona's numbers that every request reads, looked up once (the
 * persona is constant data). */
static struct {
	int read;
	long body_max, keepalive_requests, answer_after_body, auth_basic;
	long keepalive_timeout, body_wait, ranges, keepalive_hold;
	const char *mtime_id; /* the sensor id mtime was made for */
	int64_t mtime;
} http_conf;

static void
http_conf_read(void)
{
	if (http_conf.read)
		return;
	http_conf.body_max = persona_int("http.body_max", 1048576);
	http_conf.keepalive_requests =
	        persona_int("http.keepalive_requests", 1000);
	http_conf.answer_after_body = persona_int("http.answer_after_body", 0);
	http_conf.auth_basic = persona_int("http.auth_basic", 0);
	http_conf.keepalive_timeout = persona_int("http.keepalive_timeout", 10);
	http_conf.body_wait = persona_int("http.body_wait", 500);
	http_conf.ranges = persona_int("http.ranges", 0);
	http_conf.keepalive_hold = persona_int("http.keepalive_hold", 0);
	http_conf.read = 1;
}

/* The pages' mtime: per sensor, stable across restarts. */
static int64_t
http_mtime(void)
{
	const char *v, *id = event_identity()->sensor_id;
	uint32_t h = 2166136261u;
	long long base = 0, span = 0;
	char *end;

	if (http_conf.mtime_id == id && id)
		return http_conf.mtime;
	http_conf.mtime_id = id;
	if (!(v = persona_get("http.mtime", NULL)))
		return http_conf.mtime = 0;
	base = fmt_strtoll(v, &end, 10);
	span = fmt_strtoll(end, NULL, 10);
	for (; id && *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return http_conf.mtime =
	               base + (span > 0 ? (int64_t)(h % (uint64_t)span) : 0);
}

/* --- parsers (ports of nginx's) ---------------------------------------- */

/* Does the User-Agent ask for padded error pages (http.padding_ua)? */
static int
http_pad_ua(const uint8_t *ua, size_t n)
{
	const struct persona_kv *kv;
	size_t it = 0;

	while ((kv = persona_next("http.padding_ua", &it))) {
		const char *pat = kv->val + 1;
		size_t m = kv->len ? kv->len - 1 : 0;
		for (size_t i = 0; m && m <= n && i <= n - m; i++) {
			size_t j = 0;
			while (j < m &&
			        (pat[j] == '?' || (uint8_t)pat[j] == ua[i + j]))
				j++;
			if (j == m)
				return kv->val[0] == '+';
		}
	}
	return 0;
}

/* One complete header line: nginx's headers_in, then the User-Agent's
 * padding wish. Returns 0 or an error status. */
static int
http_header(struct http_req *r, const uint8_t *p)
{
	unsigned id;
	int rc = httpparse_header(&r->q, p, &id);

	if (rc == 0 && id == HTTPPARSE_H_USER_AGENT)
		r->pad = (uint8_t)http_pad_ua(
		        p + r->q.h[id].off, r->q.h[id].len);
	return rc;
}

/* --- routes and responses (built by src/httpresp.c) --------------------- */

/* Queue a response as this request's head asks; 0, or -1 when it did not
 * fit (the caller closes). */
static int
http_send(struct emu_ctx *ctx, const struct http_req *r, struct httpresp_out *o,
        int cont)
{
	o->major = r->q.major;
	o->minor = r->q.minor;
	o->head = (r->q.flags & HTTPPARSE_F_HEAD) != 0;
	o->keepalive = r->keepalive;
	o->ka_left = r->ka_left;
	o->ka_timeout = http_conf.keepalive_timeout;
	o->crange = http_crange_len ? http_crange : NULL;
	o->crange_len = http_crange_len;
	return httpresp_send(ctx, o, cont);
}

static int
http_status_code(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n && s[i] >= '0' && s[i] <= '9' && v < 1000; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

struct http_entry {
	const struct persona_file *file, *gz, *padgz;
	const char *rest; /* status text or content type */
	size_t rest_len;
	const char *methods, *kind, *need, *wsse; /* m= k= b= wsse= */
	size_t methods_len, kind_len, need_len, wsse_len;
	int status; /* s=, 0: 200 */
	uint8_t auth, tmpl, chunk; /* auth=1, t=1, c=1 */
};

static int
http_opt(const char *w, size_t wl, const char *name, const char **v, size_t *vl)
{
	size_t m = strlen(name);

	if (wl <= m || memcmp(w, name, m) != 0)
		return 0;
	*v = w + m;
	*vl = wl - m;
	return 1;
}

/* The words of an entry after its key, from s[*i..n). */
static int
http_entry_parse(const char *s, size_t n, size_t i, struct http_entry *e)
{
	const char *w, *v;
	size_t wl, vl;

	memset(e, 0, sizeof *e);
	if (!http_word(s, n, &i, &w, &wl))
		return 0;
	e->file = http_file(w, wl);
	while (http_word(s, n, &i, &w, &wl)) {
		if (http_opt(w, wl, "gz=", &v, &vl)) {
			e->gz = http_file(v, vl);
		} else if (http_opt(w, wl, "padgz=", &v, &vl)) {
			e->padgz = http_file(v, vl);
		} else if (http_opt(w, wl, "m=", &v, &vl)) {
			e->methods = v, e->methods_len = vl;
		} else if (http_opt(w, wl, "k=", &v, &vl)) {
			e->kind = v, e->kind_len = vl;
		} else if (http_opt(w, wl, "b=", &v, &vl)) {
			e->need = v, e->need_len = vl;
		} else if (http_opt(w, wl, "wsse=", &v, &vl)) {
			e->wsse = v, e->wsse_len = vl;
		} else if (http_opt(w, wl, "s=", &v, &vl)) {
			e->status = http_status_code(v, vl);
		} else if (http_opt(w, wl, "auth=", &v, &vl)) {
			e->auth = v[0] == '1';
		} else if (http_opt(w, wl, "t=", &v, &vl)) {
			e->tmpl = v[0] == '1';
		} else if (http_opt(w, wl, "c=", &v, &vl)) {
			e->chunk = v[0] == '1';
		} else {
			e->rest = w;
			e->rest_len = (size_t)(s + n - w);
			break;
		}
	}
	return e->file != NULL;
}

/* Look up http.<table> "code file [gz=] [padgz=] status..." or a route;
 * key is the first word to match. */
static int
http_entry(const char *table, const uint8_t *key, size_t keylen,
        struct http_entry *e)
{
	const struct persona_kv *kv;
	size_t it = 0;

	memset(e, 0, sizeof *e);
	while ((kv = persona_next(table, &it))) {
		const char *w, *s = kv->val;
		size_t wl, i = 0, n = kv->len;
		if (!http_word(s, n, &i, &w, &wl) || wl != keylen ||
		        memcmp(w, key, keylen) != 0)
			continue;
		return http_entry_parse(s, n, i, e);
	}
	return 0;
}

/* Is the method in the comma list (NULL: GET and HEAD)? */
static int
http_method_ok(const struct http_entry *e, const uint8_t *m, size_t ml)
{
	size_t i = 0;

	if (!e->methods)
		return (ml == 3 && memcmp(m, "GET", 3) == 0) ||
		       (ml == 4 && memcmp(m, "HEAD", 4) == 0);
	while (i < e->methods_len) {
		size_t j = i;
		while (j < e->methods_len && e->methods[j] != ',')
			j++;
		if (j - i == ml && memcmp(e->methods + i, m, ml) == 0)
			return 1;
		i = j + 1;
	}
	return 0;
}

/* The route for path, method and body: 1 and *e, else 0 with *seen set
 * when some route had the path (405 rather than 404). */
static int
http_route(const uint8_t *path, size_t plen, const uint8_t *m, size_t ml,
        const uint8_t *body, size_t blen, struct http_entry *e, int *seen)
{
	const struct persona_kv *kv;
	size_t it = 0;

	*seen = 0;
	while ((kv = persona_next("http.route", &it))) {
		const char *w, *s = kv->val;
		size_t wl, i = 0, n = kv->len;
		if (!http_word(s, n, &i, &w, &wl))
			continue;
		if (wl && w[wl - 1] == '*') {
			if (plen < wl - 1 || memcmp(path, w, wl - 1) != 0)
				continue;
		} else if (wl != plen || memcmp(w, path, plen) != 0) {
			continue;
		}
		if (!http_entry_parse(s, n, i, e))
			continue;
		*seen = 1;
		if (!http_method_ok(e, m, ml))
			continue;
		if (e->need &&
		        !httpparse_find(body, blen, e->need, e->need_len))
			continue;
		return 1;
	}
	return 0;
}

static void
http_kind(struct httpresp_out *o, const struct http_entry *e, const char *def)
{
	size_t n = LURE_MIN(e->kind_len, sizeof o->kbuf - 1);

	o->kind = def;
	if (e->kind) {
		memcpy(o->kbuf, e->kind, n);
		o->kbuf[n] = 0;
		o->kind = o->kbuf;
	}
}

/* c=1: the answer to an HTTP/1.1 request (not HEAD) goes chunked. */
static void
http_chunk_opt(const struct http_req *r, const struct http_entry *e,
        struct httpresp_out *o)
{
	if (e->chunk && r->q.major == 1 && r->q.minor >= 1 &&
	        !(r->q.flags & HTTPPARSE_F_HEAD)) {
		o->chunked = 1;
		o->len = -1;
	}
}

/* An error page, nginx's special response, by http.error key; 0 or -1
 * (nothing fitted). */
static int
http_send_error_key(struct emu_ctx *ctx, struct http_req *r, const uint8_t *p,
        const uint8_t *key, size_t keylen, int cont)
{
	struct httpresp_out o;
	struct http_entry e;
	const struct persona_file *pad = NULL, *z;
	const char *pf;
	size_t pn;

	if (!http_entry("http.error", key, keylen, &e) &&
	        !http_entry("http.error", (const uint8_t *)"400", 3, &e))
		return -1;
	memset(&o, 0, sizeof o);
	http_kind(&o, &e, "error");
	o.status = e.rest ? e.rest : "";
	o.status_len = e.rest ? e.rest_len : 0;
	o.mtime = o.flen = -1;
	r->status = (uint16_t)http_status_code(o.status, o.status_len);
	if (r->pad && (pf = persona_get("http.padding", &pn)))
		pad = http_file(pf, pn);
	o.b1 = e.file->data;
	o.b1n = e.file->len;
	if (pad) {
		o.b2 = pad->data;
		o.b2n = pad->len;
	}
	if (e.tmpl) {
		const char *tb;
		long tn = httpresp_template(e.file->data, e.file->len,
		        http_path, http_path_len, &tb);
		if (tn >= 0) { /* else the page as it is */
			o.b1 = (const uint8_t *)tb;
			o.b1n = (size_t)tn;
			o.copy = 1;
		}
	}
	o.len = (int64_t)(o.b1n + o.b2n);
	http_chunk_opt(r, &e, &o);
	z = pad ? e.padgz : e.gz;
	if (z && httpparse_gzip_ok(&r->q, p) &&
	        z->len + 1024 <= emu_space(ctx)) {
		o.kind = "errgzip";
		o.len = -1;
		o.chunked = !(r->q.flags & HTTPPARSE_F_HEAD);
		o.b1 = z->data;
		o.b1n = z->len;
		o.b2 = NULL;
		o.b2n = 0;
	}
	return http_send(ctx, r, &o, cont);
}

static int
http_send_error(struct emu_ctx *ctx, struct http_req *r, const uint8_t *p,
        int code, int cont)
{
	uint8_t key[3];

	key[0] = (uint8_t)('0' + code / 100 % 10);
	key[1] = (uint8_t)('0' + code / 10 % 10);
	key[2] = (uint8_t)('0' + code % 10);
	r->status = (uint16_t)code;
	if (code == 400 && r->q.head_end &&
	        r->q.major * 1000 + r->q.minor > 1000 &&
	        !(r->q.seen & (1u << HTTPPARSE_H_HOST)))
		return http_send_error_key(
		        ctx, r, p, (const uint8_t *)"400host", 7, cont);
	return http_send_error_key(ctx, r, p, key, 3, cont);
}

/* --- credentials -------------------------------------------------------- */

/* Is name/password one of http.user "name password"? */
static const char *
http_user(const uint8_t *name, size_t nl, size_t *pl)
{
	const struct persona_kv *kv;
	size_t it = 0;

	while ((kv = persona_next("http.user", &it))) {
		const char *sp = memchr(kv->val, ' ', kv->len);
		if (sp && (size_t)(sp - kv->val) == nl &&
		        memcmp(kv->val, name, nl) == 0) {
			*pl = kv->len - nl - 1;
			return sp + 1;
		}
	}
	return NULL;
}

/* A Digest answer for a user of http.user, in our realm. */
static int
http_digest_ok(const struct digest *d, const uint8_t *m, size_t ml)
{
	size_t pl, rn;
	const char *realm = httpresp_realm(&rn);
	const char *pass =
	        http_user(d->v[DIGEST_USERNAME], d->n[DIGEST_USERNAME], &pl);

	return pass && digest_check(d, m, ml, realm, rn, pass, pl);
}

static const char *const http_wsse_fields[WSSE__MAX] = {"user.name",
        "lure.auth.response", "lure.auth.nonce", "lure.auth.created"};

/* Base64(SHA-1(nonce + created + password)) or the password itself. */
static int
http_wsse_ok(const struct wsse *w)
{
	uint8_t nonce[64], md[20];
	char want[32];
	const char *pass;
	size_t pl;
	long nl;

	if (!w->v[WSSE_PASSWORD] || !(pass = http_user(w->v[WSSE_USERNAME],
	                                      w->n[WSSE_USERNAME], &pl)))
		return 0;
	if (!w->digest)
		return w->n[WSSE_PASSWORD] == pl &&
		       memcmp(w->v[WSSE_PASSWORD], pass, pl) == 0;
	nl = w->v[WSSE_NONCE]
	             ? hash_unb64((const char *)w->v[WSSE_NONCE],
	                       w->n[WSSE_NONCE], nonce, sizeof nonce, 0)
	             : -1;
	if (nl < 0 || !w->v[WSSE_CREATED])
		return 0;
	{
		struct hash_part parts[3] = {{nonce, (size_t)nl},
		        {w->v[WSSE_CREATED], w->n[WSSE_CREATED]}, {pass, pl}};
		hash_sha1(parts, 3, md);
	}
	return hash_b64(md, 20, want) == w->n[WSSE_PASSWORD] &&
	       memcmp(want, w->v[WSSE_PASSWORD], w->n[WSSE_PASSWORD]) == 0;
}

/* Credentials in the Authorization header that http.user accepts. */
static int
http_auth_ok(const struct http_req *r, const uint8_t *p)
{
	const uint8_t *a = p + r->q.h[HTTPPARSE_H_AUTHORIZATION].off, *u, *pw,
	              *pass;
	size_t an = r->q.h[HTTPPARSE_H_AUTHORIZATION].len, ul, pwl, pl;
	struct digest d;

	if (!(r->q.seen & (1u << HTTPPARSE_H_AUTHORIZATION)))
		return 0;
	if (digest_parse(a, an, &d))
		return http_digest_ok(&d, p, r->q.method_end);
	if (http_conf.auth_basic &&
	        digest_basic(a, an, http_scratch, sizeof http_scratch, &u, &ul,
	                &pw, &pwl) &&
	        (pass = (const uint8_t *)http_user(u, ul, &pl)))
		return pl == pwl && memcmp(pass, pw, pl) == 0;
	return 0;
}

/* The normalised path of the request into http_path; 0, or -1 when
 * invalid. Uses http_scratch. */
static int
http_path_of(const struct http_req *r, const uint8_t *p)
{
	long plen = (r->q.flags & HTTPPARSE_F_NORMALISE)
	                    ? httpparse_uri(&r->q, p, http_scratch)
	                    : -2;

	if (plen == -2) {
		plen = (long)((r->q.args_start ? r->q.args_start - 1u
		                               : r->q.uri_end) -
		              r->q.uri_start);
		memcpy(http_scratch, p + r->q.uri_start, (size_t)plen);
	}
	if (plen < 0)
		return -1;
	memcpy(http_path, http_scratch, (size_t)plen);
	http_path_len = (size_t)plen;
	return 0;
}

/* --- events ------------------------------------------------------------- */

struct http_log {
	const uint8_t *body; /* logged body bytes */
	size_t body_len;
	uint64_t body_bytes; /* body size (declared or seen) */
	int has_body, body_cut;
	size_t payload; /* bytes of raw input for lure.payload, 0: none */
};

static void
http_span_event(struct event *e, const char *key, const uint8_t *p,
        const struct http_req *r, unsigned id, size_t cap)
{
	if (r->q.seen & (1u << id))
		event_bytes(e, key, p + r->q.h[id].off, r->q.h[id].len, cap);
}

static void
http_login_url(struct event *e, const struct http_req *r, const uint8_t *p)
{
	if (r->q.target && r->q.uri_end > r->q.target)
		event_bytes(e, "url.original", p + r->q.target,
		        r->q.uri_end - r->q.target, EVENT_CAP_PAYLOAD);
}

/* A Digest Authorization: the exchange, for offline cracking. */
static void
http_log_digest(struct emu_ctx *ctx, const struct http_req *r, const uint8_t *p)
{
	struct digest d;
	struct event *e;

	if (!(r->q.seen & (1u << HTTPPARSE_H_AUTHORIZATION)) ||
	        !digest_parse(p + r->q.h[HTTPPARSE_H_AUTHORIZATION].off,
	                r->q.h[HTTPPARSE_H_AUTHORIZATION].len, &d))
		return;
	e = emu_event(ctx, "login");
	event_str(e, "lure.auth.scheme", "digest");
	digest_event(e, &d);
	if (r->q.method_end)
		event_bytes(e, "http.request.method", p, r->q.method_end,
		        EVENT_CAP_DEFAULT);
	event_str(e, "event.outcome",
	        http_digest_ok(&d, p, r->q.method_end) ? "success" : "failure");
	http_login_url(e, r, p);
	event_commit(e);
}

/* A WS-Security UsernameToken in a SOAP body. */
static void
http_log_wsse(struct emu_ctx *ctx, const struct http_req *r, const uint8_t *p,
        const uint8_t *body, size_t n)
{
	struct wsse w;
	struct event *e;

	if (!wsse_parse(body, n, &w))
		return;
	e = emu_event(ctx, "login");
	event_str(e, "lure.auth.scheme", w.digest ? "wsse-digest" : "wsse");
	for (unsigned k = 0; k < WSSE__MAX; k++)
		if (w.v[k])
			event_bytes(e,
			        k == WSSE_PASSWORD && !w.digest
			                ? "lure.auth.password"
			                : http_wsse_fields[k],
			        w.v[k], w.n[k], EVENT_CAP_DEFAULT);
	event_str(e, "event.outcome", http_wsse_ok(&w) ? "success" : "failure");
	http_login_url(e, r, p);
	event_commit(e);
}

/* The exploit rules (src/rules.h): one "exploit" event per match. */
static void
http_log_exploits(struct emu_ctx *ctx, const struct http_req *r,
        const uint8_t *p, const struct http_log *l)
{
	static struct ind_result ind;
	struct rules_req q = {0};
	const struct rule *rule;
	size_t it = 0, qs = r->q.target;

	if (http_path_of(r, p) < 0)
		return;
	while (qs < r->q.uri_end && p[qs] != '?')
		qs++;
	q.protocol = "http";
	q.method = p;
	q.method_len = r->q.method_end;
	q.path = http_path;
	q.path_len = http_path_len;
	if (qs < r->q.uri_end) {
		q.query = p + qs + 1;
		q.query_len = r->q.uri_end - qs - 1;
	}
	q.body = l->body_len ? l->body : NULL;
	q.body_len = l->body_len;
	while ((rule = rules_match(&q, &it))) {
		struct event *e = emu_event(ctx, "exploit");
		const char *t = rule->tags;
		event_str(e, "rule.name", rule->name);
		if (rule->vuln)
			event_str(e, "vulnerability.id", rule->vuln);
		while (t && *t) {
			char tag[32];
			size_t tl = strcspn(t, ",");
			if (tl < sizeof tag) {
				memcpy(tag, t, tl);
				tag[tl] = 0;
				event_tag(e, tag);
			}
			t += tl + (t[tl] == ',');
		}
		event_bytes(e, "http.request.method", p, r->q.method_end,
		        EVENT_CAP_DEFAULT);
		http_login_url(e, r, p);
		if (rule->payload == RULES_BODY && q.body) {
			indicators_extract(
			        q.body, q.body_len, rule->ind_flags, &ind);
			indicators_event(e, &ind);
		} else if (rule->payload == RULES_QUERY && q.query) {
			indicators_extract(
			        q.query, q.query_len, rule->ind_flags, &ind);
			indicators_event(e, &ind);
		}
		event_commit(e);
	}
}

static void
http_log_event(struct emu_ctx *ctx, const struct http_req *r, const uint8_t *p,
        size_t n, const struct http_log *l)
{
	struct event *e = emu_event(ctx, "request");
	const uint8_t *user = NULL, *pass = NULL;
	size_t ul = 0, pl = 0;

	if (r->q.method_end)
		event_bytes(e, "http.request.method", p, r->q.method_end,
		        EVENT_CAP_DEFAULT);
	if (r->q.target) {
		int whole = r->q.uri_end > r->q.target;
		size_t end = whole ? r->q.uri_end : LURE_MIN(r->q.pos, n), i;
		event_bytes(e, "url.original", p + r->q.target,
		        end - r->q.target, EVENT_CAP_PAYLOAD);
		if (whole && ((r->q.flags & HTTPPARSE_F_EMPTY_PATH) ||
		                     (r->q.schema_end &&
		                             r->q.uri_start ==
		                                     r->q.schema_end + 1))) {
			event_str(e, "url.path", "/"); /* "http://host" */
		} else if (whole) {
			for (i = r->q.uri_start;
			        i < end && p[i] != '?' && p[i] != '#';)
				i++;
			event_bytes(e, "url.path", p + r->q.uri_start,
			        i - r->q.uri_start, EVENT_CAP_DEFAULT);
		}
		if (whole) {
			/* the query for the log: after the first '?' of the
			 * target, whichever nginx parser path saw it */
			size_t q = r->q.target;
			while (q < end && p[q] != '?' && p[q] != '#')
				q++;
			if (q < end && p[q] == '?') {
				for (i = ++q; i < end && p[i] != '#';)
					i++;
				event_bytes(e, "url.query", p + q, i - q,
				        EVENT_CAP_DEFAULT);
			}
		}
	}
	if (r->q.rl == HTTPPARSE_RL_DONE) {
		char v[16];
		size_t vn = fmt_dec(v, r->q.major);
		v[vn++] = '.';
		vn += fmt_dec(v + vn, r->q.minor);
		v[vn] = 0;
		event_str(e, "http.version", v);
	}
	if (r->q.seen & (1u << HTTPPARSE_H_HOST))
		http_span_event(e, "url.domain", p, r, HTTPPARSE_H_HOST,
		        EVENT_CAP_DEFAULT);
	else if (r->q.host_end > r->q.host_start)
		event_bytes(e, "url.domain", p + r->q.host_start,
		        r->q.host_end - r->q.host_start, EVENT_CAP_DEFAULT);
	http_span_event(e, "user_agent.original", p, r, HTTPPARSE_H_USER_AGENT,
	        EVENT_CAP_DEFAULT);
	http_span_event(e, "http.request.referrer", p, r, HTTPPARSE_H_REFERER,
	        EVENT_CAP_DEFAULT);
	http_span_event(e, "http.request.mime_type", p, r,
	        HTTPPARSE_H_CONTENT_TYPE, EVENT_CAP_DEFAULT);
	if ((r->q.seen & (1u << HTTPPARSE_H_AUTHORIZATION)) &&
	        digest_basic(p + r->q.h[HTTPPARSE_H_AUTHORIZATION].off,
	                r->q.h[HTTPPARSE_H_AUTHORIZATION].len, http_scratch,
	                sizeof http_scratch, &user, &ul, &pass, &pl)) {
		event_bytes(e, "user.name", user, ul, EVENT_CAP_DEFAULT);
		event_bytes(
		        e, "lure.auth.password", pass, pl, EVENT_CAP_DEFAULT);
	}
	event_int(e, "http.response.status_code", r->status);
	if (r->q.line_end) {
		size_t he = r->q.head_end ? r->q.hname : LURE_MIN(r->q.pos, n);
		if (he > r->q.line_end)
			event_bytes(e, "lure.http.headers", p + r->q.line_end,
			        he - r->q.line_end, EVENT_CAP_PAYLOAD);
	}
	if (l->has_body) {
		event_int(e, "http.request.body.bytes", (int64_t)l->body_bytes);
		if (l->body_len)
			event_bytes(e, "http.request.body.content", l->body,
			        l->body_len, EVENT_CAP_PAYLOAD);
		if (l->body_cut)
			event_bool(e, "lure.truncated", 1);
	}
	if (l->payload)
		event_bytes(
		        e, "lure.payload", p, l->payload, EVENT_CAP_PAYLOAD);
	event_commit(e);
	if (user) {
		size_t gl = 0;
		const char *good = http_user(user, ul, &gl);
		e = emu_event(ctx, "login");
		event_bytes(e, "user.name", user, ul, EVENT_CAP_DEFAULT);
		event_bytes(
		        e, "lure.auth.password", pass, pl, EVENT_CAP_DEFAULT);
		event_str(e, "event.outcome",
		        good && http_conf.auth_basic && gl == pl &&
		                        memcmp(good, pass, pl) == 0
		                ? "success"
		                : "failure");
		if (r->q.target && r->q.uri_end > r->q.target)
			event_bytes(e, "url.original", p + r->q.target,
			        r->q.uri_end - r->q.target, EVENT_CAP_PAYLOAD);
		event_commit(e);
	}
	http_log_digest(ctx, r, p);
	if (l->body_len)
		http_log_wsse(ctx, r, p, l->body, l->body_len);
	if (r->q.rl == HTTPPARSE_RL_DONE && r->q.uri_end > r->q.target)
		http_log_exploits(ctx, r, p, l);
}

/* --- phases ------------------------------------------------------------- */

static void
http_reset(struct http_state *st)
{
	memset(&st->r, 0, sizeof st->r);
	memset(&st->ck, 0, sizeof st->ck);
	st->left = st->drained = 0;
	st->phase = HTTP_HEAD;
}

/* A kept-alive connection waits for its next request: the next step of
 * http.keepalive_hold. Steps of HTTP_KA_STEP ms: each wake-up counts as
 * activity for the core, so a hold beyond limits.idle_timeout works when
 * that is at least a step (else the core closes first, a safety net). */
static void
http_ka_step(struct emu_ctx *ctx, struct http_state *st)
{
	uint32_t step = LURE_MIN(st->ka_left, HTTP_KA_STEP);

	st->ka_left -= step;
	st->ka_wait = 1;
	emu_timer(ctx, step);
}

/* The request is over (body and all): next one, or close. */
static size_t
http_next(struct emu_ctx *ctx, struct http_state *st, size_t used, size_t n)
{
	if (!st->r.keepalive || st->r.close || st->closing) {
		emu_close(ctx);
		st->phase = HTTP_DONE;
		return n;
	}
	http_reset(st);
	if (http_conf.keepalive_hold > 0) { /* held idle, then closed */
		st->ka_left = (uint32_t)http_conf.keepalive_hold * 1000u;
		http_ka_step(ctx, st);
	}
	return used;
}

/* An error before the request reached a handler: answer, log, close. With
 * linger (a head too large: more of it is on its way), read and drop input
 * until it stops for HTTP_LINGER_MS, then close, as nginx's lingering close
 * does: closing with unread input would reset the connection. */
static size_t
http_fail(struct emu_ctx *ctx, struct http_state *st, const uint8_t *p,
        size_t n, int code, int linger)
{
	struct http_log l = {0};

	st->r.keepalive = 0;
	http_send_error(ctx, &st->r, p, code, 0);
	l.payload = LURE_MIN(n, EVENT_CAP_PAYLOAD);
	http_log_event(ctx, &st->r, p, n, &l);
	st->phase = HTTP_DONE;
	st->linger = (uint8_t)linger;
	if (linger)
		emu_timer(ctx, HTTP_LINGER_MS);
	else
		emu_close(ctx);
	return n;
}

static size_t
http_body(
        struct emu_ctx *ctx, struct http_state *st, const uint8_t *p, size_t n);

/* 200 (or s=) or 304 for a route (o is filled but for status). */
static int
http_send_route(struct emu_ctx *ctx, struct http_req *r, const uint8_t *p,
        struct httpresp_out *o, const struct http_entry *route,
        int not_modified, int cont)
{
	const struct persona_kv *kv;
	int st = not_modified ? 304 : route->status ? route->status : 200;
	char code[3] = {(char)('0' + st / 100 % 10), (char)('0' + st / 10 % 10),
	        (char)('0' + st % 10)};
	size_t it = 0;

	o->status = code;
	o->status_len = 3;
	while ((kv = persona_next("http.status", &it)))
		if (kv->len > 3 && memcmp(kv->val, code, 3) == 0) {
			o->status = kv->val;
			o->status_len = kv->len;
			break;
		}
	r->status = (uint16_t)st;
	if (not_modified) {
		o->kind = "304";
		o->len = -1;
		o->chunked = 0;
		o->type = NULL;
		o->b1n = 0;
	} else if (route->gz && !o->copy && r->q.major &&
	           httpparse_gzip_ok(&r->q, p) &&
	           route->gz->len + 1024 <= emu_space(ctx)) {
		o->kind = "gzip";
		o->len = -1;
		o->chunked = !(r->q.flags & HTTPPARSE_F_HEAD);
		o->b1 = route->gz->data;
		o->b1n = route->gz->len;
	}
	return http_send(ctx, r, o, cont);
}

/* Route, check credentials and answer: nginx's phases of the Debian site
 * ("try_files $uri $uri/ =404", index, static) plus the options above.
 * body is what is known of the body (NULL before it is read). Returns 0,
 * or 1 when only "100 Continue" went out: the answer follows in
 * HTTP_ANSWER once it has been sent. */
static int
http_answer(struct emu_ctx *ctx, struct http_state *st, const uint8_t *p,
        const uint8_t *body, size_t blen)
{
	struct http_req *r = &st->r;
	const struct httpparse_span *h = r->q.h;
	unsigned version = r->q.major * 1000u + r->q.minor;
	struct http_entry route;
	struct httpresp_out o;
	char etag[64], lm[32];
	size_t el;
	int code = 0, cont = 0, nm, seen = 0;
	int path_ok = http_path_of(r, p) == 0;

	if (r->cl > (uint64_t)http_conf.body_max)
		code = 413;
	else if (!path_ok ||
	         !http_route(http_path, http_path_len, p, r->q.method_end, body,
	                 blen, &route, &seen))
		code = seen ? 405 : 404;
	if (code) {
		if (code == 413 || r->ck_err)
			r->keepalive = 0;
		if (http_send_error(ctx, r, p, code, 0) < 0)
			st->closing = 1;
		return 0;
	}
	/* the static handler: "100 Continue" and the body check come first */
	cont = !r->defer && !r->cont_sent && version >= 1001 &&
	       (r->q.seen & (1u << HTTPPARSE_H_EXPECT)) &&
	       httpparse_caseeq(p + h[HTTPPARSE_H_EXPECT].off,
	               h[HTTPPARSE_H_EXPECT].len, "100-continue");
	if (cont) { /* nginx's own write: a segment of its own */
		const char *c;
		size_t cn;
		if ((c = persona_get("http.continue", &cn)) &&
		        emu_send(ctx, c, cn) == 0) {
			r->cont_sent = 1;
			st->phase = HTTP_ANSWER;
			emu_wake(ctx, 1);
			return 1;
		}
	}
	memset(&o, 0, sizeof o);
	http_kind(&o, &route, "file");
	o.type = route.rest;
	o.type_len = route.rest_len;
	o.mtime = http_mtime();
	o.flen = o.len = (int64_t)route.file->len;
	o.b1 = route.file->data;
	o.b1n = route.file->len;
	if (route.auth && !http_auth_ok(r, p)) {
		if (http_send_error(ctx, r, p, 401, cont) < 0)
			st->closing = 1;
		return 0;
	}
	if (route.wsse) {
		struct wsse w;
		if (!wsse_parse(body, blen, &w) || !http_wsse_ok(&w)) {
			if (http_send_error_key(ctx, r, p,
			            (const uint8_t *)route.wsse, route.wsse_len,
			            cont) < 0)
				st->closing = 1;
			return 0;
		}
	}
	if (route.tmpl) {
		const char *tb;
		long tn = httpresp_template(route.file->data, route.file->len,
		        http_path, http_path_len, &tb);
		if (tn < 0) {
			if (http_send_error(ctx, r, p, 500, cont) < 0)
				st->closing = 1;
			return 0;
		}
		o.b1 = (const uint8_t *)tb;
		o.b1n = (size_t)tn;
		o.flen = o.len = tn;
		o.copy = 1;
	}
	http_chunk_opt(r, &route, &o);
	el = httpresp_etag(etag, sizeof etag, o.mtime, o.flen);
	httpresp_date(lm, o.mtime);
	/* the not-modified filter (static files only) */
	nm = !o.copy && !route.status &&
	     (r->q.seen & ((1u << HTTPPARSE_H_IF_NONE_MATCH) |
	                          (1u << HTTPPARSE_H_IF_MODIFIED_SINCE))) &&
	     (!(r->q.seen & (1u << HTTPPARSE_H_IF_MODIFIED_SINCE)) ||
	             (h[HTTPPARSE_H_IF_MODIFIED_SINCE].len == 29 &&
	                     memcmp(p + h[HTTPPARSE_H_IF_MODIFIED_SINCE].off,
	                             lm, 29) == 0)) &&
	     (!(r->q.seen & (1u << HTTPPARSE_H_IF_NONE_MATCH)) ||
	             httpparse_etag_match(p + h[HTTPPARSE_H_IF_NONE_MATCH].off,
	                     h[HTTPPARSE_H_IF_NONE_MATCH].len, etag, el, 1));
	if (r->ck_err) {
		r->keepalive = 0;
		code = 400;
	} else if ((r->q.seen & (1u << HTTPPARSE_H_IF_MATCH)) &&
	           !httpparse_etag_match(p + h[HTTPPARSE_H_IF_MATCH].off,
	                   h[HTTPPARSE_H_IF_MATCH].len, etag, el, 0)) {
		r->close = 1; /* nginx says keep-alive, then closes */
		code = 412;
	}
	if (!code && !nm && http_conf.ranges && !route.status && !o.copy &&
	        !o.chunked && !(route.gz && httpparse_gzip_ok(&r->q, p))) {
		static int64_t rgs[HTTPRANGE_MAX][2];
		static char mtype[96];
		size_t nr = 0;
		int rg = httprange_parse(
		        &r->q, p, o.len, etag, el, lm, rgs, &nr);
		int64_t rs = rgs[0][0], re = rgs[0][1];
		long mn = rg == 2 ? httprange_multipart(http_scratch,
		                            HTTP_LINE_MAX, o.b1, o.len,
		                            route.rest, route.rest_len, rgs, nr,
		                            mtype, sizeof mtype)
		                  : -1;
		if (rg == 416) {
			http_crange_len = httprange_content_range(
			        http_crange, -1, 0, o.len);
			code = 416;
		} else if (mn >= 0) {
			o.kind = "range";
			o.type = mtype;
			o.type_len = strlen(mtype);
			o.b1 = http_scratch;
			o.b1n = (size_t)mn;
			o.len = mn;
			o.copy = 1;
			route.status = 206;
			route.gz = NULL;
		} else if (rg == 206) {
			http_crange_len = httprange_content_range(
			        http_crange, rs, re - 1, o.len);
			o.kind = "range";
			o.b1 += rs;
			o.b1n = (size_t)(re - rs);
			o.len = re - rs;
			route.status = 206;
			route.gz = NULL;
		}
	}
	if (code ? http_send_error(ctx, r, p, code, cont) < 0
	         : http_send_route(ctx, r, p, &o, &route, nm, cont) < 0)
		st->closing = 1;
	http_crange_len = 0;
	return 0;
}

/* The head is complete (or an HTTP/0.9 line): nginx's
 * ngx_http_process_request_header(), then the answer now or, with
 * http.answer_after_body, once the body is in (http_body). */
static size_t
http_process(
        struct emu_ctx *ctx, struct http_state *st, const uint8_t *p, size_t n)
{
	struct http_req *r = &st->r;
	const struct httpparse_span *h = r->q.h;
	unsigned version = r->q.major * 1000u + r->q.minor;
	struct httpparse_chunk ck = {0};
	size_t olen = 0;
	uint64_t data = 0;
	long kmax;
	int rc = HTTPPARSE_CK_AGAIN;

	if (r->q.major) {
		if (!(r->q.seen & (1u << HTTPPARSE_H_HOST)) && version > 1000)
			return http_fail(ctx, st, p, n, 400, 0);
		if (r->q.seen &
		        (1u << HTTPPARSE_H_CONTENT_LENGTH)) { /* ngx_atoof() */
			const uint8_t *v =
			        p + h[HTTPPARSE_H_CONTENT_LENGTH].off;
			size_t vn = h[HTTPPARSE_H_CONTENT_LENGTH].len;
			if (!vn)
				return http_fail(ctx, st, p, n, 400, 0);
			for (size_t i = 0; i < vn; i++) {
				if (v[i] < '0' || v[i] > '9' ||
				        r->cl > (uint64_t)(INT64_MAX -
				                           (v[i] - '0')) /
				                        10)
					return http_fail(ctx, st, p, n, 400, 0);
				r->cl = r->cl * 10 + (uint64_t)(v[i] - '0');
			}
		}
		if (r->q.seen & (1u << HTTPPARSE_H_TRANSFER_ENCODING)) {
			if (version < 1001)
				return http_fail(ctx, st, p, n, 400, 0);
			if (!httpparse_caseeq(
			            p + h[HTTPPARSE_H_TRANSFER_ENCODING].off,
			            h[HTTPPARSE_H_TRANSFER_ENCODING].len,
			            "chunked"))
				return http_fail(ctx, st, p, n, 501, 0);
			if (r->q.seen & (1u << HTTPPARSE_H_CONTENT_LENGTH))
				return http_fail(ctx, st, p, n, 400, 0);
			r->chunked = 1;
		}
		if (r->q.flags & (HTTPPARSE_F_CONNECT | HTTPPARSE_F_TRACE))
			return http_fail(ctx, st, p, n, 405, 0);
	}
	r->keepalive = r->q.conn ? r->q.conn == HTTPPARSE_CONN_KEEP_ALIVE
	                         : version > 1000;
	kmax = http_conf.keepalive_requests;
	if (st->requests >= (uint32_t)kmax)
		r->keepalive = 0;
	r->ka_left = (uint16_t)LURE_MIN(kmax - (long)st->requests, 65535);
	if (r->chunked) /* what the body discard finds already read */
		httpparse_chunked(&ck, p + r->q.head_end, n - r->q.head_end,
		        &rc, NULL, &olen, 0, &data);
	r->ck_err = rc == HTTPPARSE_CK_ERROR;
	if (http_conf.answer_after_body && r->q.major &&
	        (r->chunked || r->cl) &&
	        r->cl <= (uint64_t)http_conf.body_max && !r->ck_err) {
		const char *c;
		size_t cn;
		r->defer = 1;
		if (version >= 1001 &&
		        (r->q.seen & (1u << HTTPPARSE_H_EXPECT)) &&
		        httpparse_caseeq(p + h[HTTPPARSE_H_EXPECT].off,
		                h[HTTPPARSE_H_EXPECT].len, "100-continue") &&
		        (c = persona_get("http.continue", &cn)))
			emu_send(ctx, c, cn);
	} else if (http_answer(ctx, st, p, NULL, 0)) {
		return 0;
	}
	return http_body(ctx, st, p, n);
}

/* HTTP_ANSWER: "100 Continue" is out; now the answer. */
static size_t
http_answer_now(
        struct emu_ctx *ctx, struct http_state *st, const uint8_t *p, size_t n)
{
	http_answer(ctx, st, p, NULL, 0);
	return http_body(ctx, st, p, n);
}

/* Where nginx's current header buffer ends (the parsers stop there). */
static size_t
http_bend(const struct http_req *r)
{
	return (size_t)r->bstart + (r->nlarge ? HTTP_LINE_MAX : HTTP_BUF0);
}

/* The head filled nginx's current header buffer: move the line being
 * parsed, from s, to a new large buffer as
 * ngx_http_alloc_large_header_buffer() does; 0, or -1 when nginx declines
 * (a line longer than a buffer, or all of them used). */
static int
http_large_buf(struct http_req *r, size_t s, int partial)
{
	if ((partial && r->q.pos - s >= HTTP_LINE_MAX) ||
	        r->nlarge >= HTTP_LARGE_BUFS)
		return -1;
	r->nlarge++;
	r->bstart = (uint16_t)s;
	return 0;
}

/* HTTP_HEAD: parse the request line and headers as they arrive. */
static size_t
http_head(
        struct emu_ctx *ctx, struct http_state *st, const uint8_t *p, size_t n)
{
	struct http_req *r = &st->r;
	int rc;

	if (r->q.pos == 0 && r->q.rl == HTTPPARSE_RL_START) {
		size_t k = 0;
		while (k < n && (p[k] == '\r' || p[k] == '\n'))
			k++;
		if (k)
			return k; /* empty lines before a request are skipped */
	}
	while (r->q.rl != HTTPPARSE_RL_DONE) {
		rc = httpparse_request_line(
		        &r->q, p, LURE_MIN(n, http_bend(r)));
		if (rc == HTTPPARSE_AGAIN) {
			if (r->q.pos < http_bend(r))
				return 0;
			if (http_large_buf(r, 0, 1) == 0)
				continue;
			st->requests++;
			r->q.major = 1; /* not known yet: not HTTP/0.9 */
			r->q.minor = 1;
			return http_fail(ctx, st, p, n, 414, 1);
		}
		st->requests++;
		if (rc >= 400) {
			if (r->q.rl != HTTPPARSE_RL_DONE)
				r->q.major =
				        1; /* not known yet: not HTTP/0.9 */
			return http_fail(ctx, st, p, n, rc, 0);
		}
		if ((r->q.flags & HTTPPARSE_F_NORMALISE) &&
		        httpparse_uri(&r->q, p, http_scratch) < 0)
			return http_fail(ctx, st, p, n, 400, 0);
		if (r->q.host_end > r->q.host_start &&
		        httpparse_host(p + r->q.host_start,
		                r->q.host_end - r->q.host_start) < 0)
			return http_fail(ctx, st, p, n, 400, 0);
		if (r->q.major == 0)
			return http_process(ctx, st, p, n);
	}
	for (;;) {
		rc = httpparse_header_line(&r->q, p, LURE_MIN(n, http_bend(r)));
		if (rc == HTTPPARSE_AGAIN) {
			/* a header line under way, or the buffer ended with
			 * one (nginx then copies that line again) */
			size_t s = r->q.hname > r->q.line_end ? r->q.hname
			                                      : r->q.pos;
			if (r->q.pos < http_bend(r))
				return 0;
			if (http_large_buf(r, s, r->q.hl != 0) == 0)
				continue;
			return http_fail(ctx, st, p, n, 494, 1);
		}
		if (rc >= 400)
			return http_fail(ctx, st, p, n, rc, 0);
		if (rc == HTTPPARSE_HEAD_DONE)
			return http_process(ctx, st, p, n);
		if ((rc = http_header(r, p)) != 0)
			return http_fail(ctx, st, p, n, rc, 0);
	}
}

/* HTTP_BODY: the answer is out; log once the body is in (or the buffer is
 * full, or http.body_wait has passed), then drain the rest. */
static size_t
http_body(
        struct emu_ctx *ctx, struct http_state *st, const uint8_t *p, size_t n)
{
	struct http_req *r = &st->r;
	size_t h = r->q.head_end ? r->q.head_end : r->q.line_end, used = 0;
	struct http_log l = {0};
	struct httpparse_chunk ck = {0};
	int rc = HTTPPARSE_CK_AGAIN, done;

	st->phase = HTTP_BODY;
	l.has_body = r->chunked || r->cl > 0;
	if (!l.has_body || r->q.major == 0) {
		l.has_body = 0;
		http_log_event(ctx, r, p, n, &l);
		return http_next(ctx, st, h, n);
	}
	if (r->chunked) {
		used = httpparse_chunked(&ck, p + h, n - h, &rc, http_body_buf,
		        &l.body_len, sizeof http_body_buf, &l.body_bytes);
		l.body = http_body_buf;
		done = rc != HTTPPARSE_CK_AGAIN;
	} else {
		used = (size_t)LURE_MIN((uint64_t)(n - h), r->cl);
		l.body = p + h;
		l.body_len = LURE_MIN(used, EVENT_CAP_PAYLOAD);
		l.body_bytes = r->cl;
		done = used == r->cl;
	}
	if (!done && n < HTTP_HEAD_MAX && !r->waited && !st->closing) {
		if (!r->waiting) {
			r->waiting = 1;
			emu_wake(ctx, http_conf.body_wait);
		}
		return 0;
	}
	l.body_cut = !done || rc == HTTPPARSE_CK_ERROR;
	if (rc == HTTPPARSE_CK_ERROR) { /* bad framing: log the raw bytes */
		l.body = p + h;
		l.body_len = LURE_MIN(n - h, EVENT_CAP_PAYLOAD);
		l.body_bytes = n - h;
	}
	if (r->defer) {
		r->ck_err = rc == HTTPPARSE_CK_ERROR;
		http_answer(ctx, st, p, l.body, l.body_len);
		r->defer = 0;
	}
	http_log_event(ctx, r, p, n, &l);
	if (rc == HTTPPARSE_CK_ERROR || st->closing) {
		emu_close(ctx);
		st->phase = HTTP_DONE;
		return n;
	}
	if (done)
		return http_next(ctx, st, h + used, n);
	st->ck = ck;
	st->left = r->chunked ? 0 : r->cl - used;
	st->phase = HTTP_DRAIN;
	return h + used;
}

/* HTTP_DRAIN: read and drop the rest of a body. */
static size_t
http_drain(
        struct emu_ctx *ctx, struct http_state *st, const uint8_t *p, size_t n)
{
	size_t used, olen = 0;
	uint64_t data = 0;
	int rc = HTTPPARSE_CK_AGAIN;

	if (st->r.chunked) {
		used = httpparse_chunked(
		        &st->ck, p, n, &rc, NULL, &olen, 0, &data);
	} else {
		used = (size_t)LURE_MIN((uint64_t)n, st->left);
		st->left -= used;
		rc = st->left ? HTTPPARSE_CK_AGAIN : HTTPPARSE_CK_DONE;
	}
	st->drained += used;
	if (rc == HTTPPARSE_CK_ERROR ||
	        st->drained > (uint64_t)http_conf.body_max) {
		emu_close(ctx);
		st->phase = HTTP_DONE;
		return n;
	}
	return rc == HTTPPARSE_CK_DONE ? http_next(ctx, st, used, n) : used;
}

static size_t
http_done(
        struct emu_ctx *ctx, struct http_state *st, const uint8_t *p, size_t n)
{
	(void)p;
	if (st->linger)
		emu_timer(ctx, HTTP_LINGER_MS);
	return n;
}

typedef size_t (*http_phase_fn)(
        struct emu_ctx *, struct http_state *, const uint8_t *, size_t);

static const http_phase_fn http_phases[HTTP__MAX] = {
        [HTTP_HEAD] = http_head,
        [HTTP_ANSWER] = http_answer_now,
        [HTTP_BODY] = http_body,
        [HTTP_DRAIN] = http_drain,
        [HTTP_DONE] = http_done,
};

static size_t
http_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct http_state *st = state;

	http_conf_read();
	if (st->ka_wait) { /* the next request has begun */
		st->ka_wait = 0;
		emu_timer(ctx, 0);
	}
	if (st->phase >= HTTP__MAX)
		st->phase = HTTP_DONE;
	return http_phases[st->phase](ctx, st, p, n);
}

static void
http_timeout(struct emu_ctx *ctx, void *state)
{
	struct http_state *st = state;

	if (st->linger) {
		emu_close(ctx);
		return;
	}
	if (st->ka_wait) {
		if (st->ka_left)
			http_ka_step(ctx, st);
		else
			emu_close(ctx); /* nginx's keepalive_timeout */
		return;
	}
	if (st->phase == HTTP_ANSWER)
		return; /* "100 Continue" went out: on_data answers */
	st->r.waited = 1;
	st->r.waiting = 0;
}

const struct emulator emu_http = {
        .name = "http",
        .transports = EMU_TCP,
        .state_size = sizeof(struct http_state),
        .in_min = HTTP_HEAD_MAX,
        .on_data = http_data,
        .on_timeout = http_timeout,
        .pipeline = 1,
};
