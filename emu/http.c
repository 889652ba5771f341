/* http.c: an HTTP/1.0 and 1.1 server (and 0.9) whose request-line, header,
 * URI and chunked parsers follow nginx 1.22's state machines, so malformed
 * input gets the answers nginx gives. One request per on_data call (pipelining
 * stays bounded), keep-alive up to a request cap, bodies read and dropped as
 * they stream in, one "request" event per request plus a "login" event for
 * Basic credentials. Every page, header line and status text is persona data:
 *
 *   http.head.<kind> "line"  repeated, in order: the status line, then the
 *     header lines of one kind of response: file (a route), gzip (a route's
 *     gz= variant), error (4xx/5xx pages), errgzip (an error's gz= variant),
 *     304. Placeholders: %S status ("404 Not Found"), %D Date, %T the route's
 *     type, %L body length, %M Last-Modified, %E the ETag (http.etag), %C
 *     "keep-alive" or "close", %X "chunked" on a chunked body, %V the request
 *     version, %% a '%'. A line with a placeholder that has no value in this
 *     response (no %L on a chunked body...) is left out.
 *   http.etag "fmt"          the ETag: %m mtime and %l length in hex.
 *   http.mtime "base span"   files' mtime: base + hash(sensor id) % span, so
 *     Last-Modified and ETag are stable per sensor and differ between them.
 *   http.route "path file [gz=file] type..."  a page at an exact normalised
 *     path (GET/HEAD; any other method gets 405); type is the rest.
 *   http.status "code text"  the text of 200 and 304.
 *   http.error "code file [gz=file] [padgz=file] status..."  error pages;
 *     code 494 is the "header too large" page (its status may differ).
 *   http.padding file, http.padding_ua "+pattern" or "-pattern" (repeated;
 *     the first pattern found in the User-Agent decides, '?' is any byte):
 *     appended to 4xx/5xx pages (nginx's msie_padding).
 *   http.continue "bytes"    sent before a route's answer to "Expect:
 *     100-continue".
 *   http.keepalive_requests (default 1000), http.body_max (1048576, larger
 *     Content-Length gets 413), http.body_wait (500 ms, see below).
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
 * the head is parsed.
 * Every request is checked against the exploit rules (src/rules.h): a
 * match adds an "exploit" event with vulnerability.id, tags, rule.name
 * and the commands, URLs and IPs of its payload (src/indicators.h).
 * Digest and WS-Security credentials give "login" events with the
 * exchange in lure.auth.* (scheme, realm, nonce, uri, response, ...).
 *
 * Divergences from nginx, on purpose: the head must fit in HTTP_HEAD_MAX
 * (the core's input buffer; nginx allows 8 KiB per line): beyond it, 414 when
 * still in the request line, else the 494 page. Range, If-Unmodified-Since,
 * keepalive_disable msie6 and keepalive_time are not modelled;
 * If-Modified-Since is compared as text with Last-Modified (nginx parses the
 * date). No directories but "/" (no 301/403). The answer goes out as soon as
 * the head is parsed, as nginx does, but a body that arrives split is logged
 * only when complete, when the buffer is full, or http.body_wait ms later
 * (the core reads no input during that wait). After "Connection: close" the
 * rest of a body is drained (at most http.body_max bytes) before closing,
 * where nginx lingers on a timer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "event.h"
#include "hash.h"
#include "identity.h"
#include "indicators.h"
#include "lure.h"
#include "persona.h"
#include "rules.h"

#define HTTP_HEAD_MAX 4096 /* core input buffer: a head and a logged body */

enum http_phase { HTTP_HEAD, HTTP_BODY, HTTP_DRAIN, HTTP_DONE, HTTP__MAX };

/* Parser results; errors are HTTP status codes (>= 400). */
enum { HTTP_AGAIN = 0, HTTP_LINE = 1, HTTP_HEAD_DONE = 2 };

/* Request-line states, nginx's ngx_http_parse_request_line(). */
enum {
	RL_START,
	RL_METHOD,
	RL_SPACES_BEFORE_URI,
	RL_SCHEMA,
	RL_SCHEMA_SLASH,
	RL_SCHEMA_SLASH_SLASH,
	RL_HOST_START,
	RL_HOST,
	RL_HOST_END,
	RL_HOST_IP_LITERAL,
	RL_PORT,
	RL_AFTER_SLASH_IN_URI,
	RL_CHECK_URI,
	RL_URI,
	RL_HTTP_09,
	RL_HTTP_H,
	RL_HTTP_HT,
	RL_HTTP_HTT,
	RL_HTTP_HTTP,
	RL_FIRST_MAJOR_DIGIT,
	RL_MAJOR_DIGIT,
	RL_FIRST_MINOR_DIGIT,
	RL_MINOR_DIGIT,
	RL_SPACES_AFTER_DIGIT,
	RL_ALMOST_DONE,
	RL_DONE
};

/* Header-line states, nginx's ngx_http_parse_header_line(). */
enum {
	HL_START,
	HL_NAME,
	HL_SPACE_BEFORE_VALUE,
	HL_VALUE,
	HL_SPACE_AFTER_VALUE,
	HL_ALMOST_DONE,
	HL_HEADER_ALMOST_DONE
};

/* Chunked-body states, nginx's ngx_http_parse_chunked(). */
enum {
	CK_START,
	CK_SIZE,
	CK_EXT,
	CK_EXT_ALMOST_DONE,
	CK_DATA,
	CK_AFTER_DATA,
	CK_AFTER_DATA_ALMOST_DONE,
	CK_LAST_EXT,
	CK_LAST_EXT_ALMOST_DONE,
	CK_TRAILER,
	CK_TRAILER_ALMOST_DONE,
	CK_TRAILER_HEADER,
	CK_TRAILER_HEADER_ALMOST_DONE
};
enum { CK_AGAIN, CK_DONE, CK_ERROR };

/* Headers the emulator looks at; bit i of seen means header i was sent. */
enum {
	H_HOST,
	H_CONNECTION,
	H_USER_AGENT,
	H_REFERER,
	H_CONTENT_TYPE,
	H_CONTENT_LENGTH,
	H_TRANSFER_ENCODING,
	H_EXPECT,
	H_ACCEPT_ENCODING,
	H_VIA,
	H_AUTHORIZATION,
	H_IF_MATCH,
	H_IF_NONE_MATCH,
	H_IF_MODIFIED_SINCE,
	H_IF_UNMODIFIED_SINCE,
	H_CONTENT_RANGE,
	H_IF_RANGE,
	H__MAX
};

#define F_COMPLEX 0x01 /* URI needs normalising */
#define F_QUOTED 0x02 /* URI has %XX */
#define F_EMPTY_PATH 0x04 /* "http://host?args" */
#define F_INVALID 0x08 /* header line with an invalid name: ignored */
#define F_GET 0x10
#define F_HEAD 0x20
#define F_CONNECT 0x40
#define F_TRACE 0x80

#define CONN_CLOSE 1
#define CONN_KEEP_ALIVE 2

struct http_span {
	uint16_t off, len;
};

struct http_chunk {
	uint64_t size; /* data bytes left in this chunk */
	uint8_t state;
};

/* One request. Offsets index the unconsumed input, which starts with the
 * request line until the request is logged (nothing is consumed before). */
struct http_req {
	uint16_t pos; /* next byte to parse */
	uint8_t rl, hl; /* parser states */
	uint8_t flags; /* F_* */
	uint8_t conn; /* CONN_* from Connection */
	uint8_t pad; /* User-Agent asks for error page padding */
	uint8_t keepalive; /* the answer said keep-alive */
	uint8_t close; /* close after the answer whatever it said */
	uint8_t chunked; /* Transfer-Encoding: chunked */
	uint8_t waited; /* http.body_wait has passed */
	uint8_t waiting; /* a wake-up is pending */
	uint8_t defer; /* answer once the body is in */
	uint8_t ck_err; /* the chunked body read so far is bad */
	uint16_t ka_left; /* requests left on this connection (%K) */
	uint16_t major, minor;
	uint16_t status; /* what the status line said */
	uint16_t method_end; /* one past the method */
	uint16_t target; /* start of the request target */
	uint16_t uri_start, uri_end, args_start, schema_end;
	uint16_t host_start, host_end; /* host of an absolute URI */
	uint16_t proto; /* "HTTP/" */
	uint16_t line_end; /* one past the request line */
	uint16_t hname, hname_end, hval, hval_end;
	uint16_t head_end; /* one past the empty line */
	uint32_t seen; /* 1 << H_* */
	struct http_span h[H__MAX];
	uint64_t cl; /* Content-Length */
};

struct http_state {
	uint8_t phase; /* enum http_phase */
	uint8_t closing; /* emu_close() was called */
	uint32_t requests; /* on this connection, this one included */
	uint64_t left; /* Content-Length bytes still to drain */
	uint64_t drained; /* body bytes drained after logging */
	struct http_chunk ck;
	struct http_req r;
};

/* A response: what the template placeholders and the body need. */
struct http_out {
	const char *kind; /* http.head.<kind> */
	const char *status;
	size_t status_len;
	const char *type;
	size_t type_len;
	int64_t len; /* %L, -1: none */
	int64_t mtime; /* %M, %E; -1: none */
	int64_t flen; /* file length for %E */
	int chunked; /* %X, body sent as one chunk */
	int copy; /* b1 is scratch: copy it (emu_send) */
	char kbuf[24]; /* kind named by an entry's k= */
	const uint8_t *b1, *b2; /* body: b1 then b2 (b2 may be NULL) */
	size_t b1n, b2n;
};

/* Scratch that lives only during one on_data call. */
static uint8_t http_scratch[HTTP_HEAD_MAX + 2];
static uint8_t http_body_buf[EVENT_CAP_PAYLOAD];

static const uint32_t http_usual[] = {
        0x00000000,
        0x7fff37d6,
        0xffffffff,
        0x7fffffff,
        0xffffffff,
        0xffffffff,
        0xffffffff,
        0xffffffff,
};
#define HTTP_USUAL(c) (http_usual[(c) >> 5] & (1U << ((c)&0x1f)))

static const struct {
	const char *name;
	uint8_t unique; /* a second one is a 400 */
} http_headers[H__MAX] = {
        [H_HOST] = {"host", 1},
        [H_CONNECTION] = {"connection", 0},
        [H_USER_AGENT] = {"user-agent", 0},
        [H_REFERER] = {"referer", 0},
        [H_CONTENT_TYPE] = {"content-type", 0},
        [H_CONTENT_LENGTH] = {"content-length", 1},
        [H_TRANSFER_ENCODING] = {"transfer-encoding", 1},
        [H_EXPECT] = {"expect", 1},
        [H_ACCEPT_ENCODING] = {"accept-encoding", 0},
        [H_VIA] = {"via", 0},
        [H_AUTHORIZATION] = {"authorization", 1},
        [H_IF_MATCH] = {"if-match", 1},
        [H_IF_NONE_MATCH] = {"if-none-match", 1},
        [H_IF_MODIFIED_SINCE] = {"if-modified-since", 1},
        [H_IF_UNMODIFIED_SINCE] = {"if-unmodified-since", 1},
        [H_CONTENT_RANGE] = {"content-range", 1},
        [H_IF_RANGE] = {"if-range", 1},
};

/* --- small helpers ------------------------------------------------------ */

static int
http_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive search of a NUL-free needle in s[0..n). */
static const uint8_t *
http_find(const uint8_t *s, size_t n, const char *needle, int fold)
{
	size_t m = strlen(needle);

	for (size_t i = 0; m <= n && i <= n - m; i++) {
		size_t j = 0;
		while (j < m && (fold ? http_lower(s[i + j]) == needle[j]
		                      : s[i + j] == (uint8_t)needle[j]))
			j++;
		if (j == m)
			return s + i;
	}
	return NULL;
}

/* Case-sensitive search of lit[0..m) in s[0..n) (s may be NULL). */
static const uint8_t *
http_find_lit(const uint8_t *s, size_t n, const char *lit, size_t m)
{
	for (size_t i = 0; s && m <= n && i <= n - m; i++)
		if (memcmp(s + i, lit, m) == 0)
			return s + i;
	return NULL;
}

static int
http_eq(const uint8_t *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static int
http_caseeq(const uint8_t *s, size_t n, const char *lower)
{
	if (strlen(lower) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (http_lower(s[i]) != lower[i])
			return 0;
	return 1;
}

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

/* "Fri, 02 Jan 2026 03:04:05 GMT" (29 chars) from Unix seconds. */
static size_t
http_date(char out[32], int64_t t)
{
	static const char wd[] = "ThuFriSatSunMonTueWed";
	static const char mo[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int64_t days = t / 86400, s = t % 86400;
	long y, m, d;

	if (s < 0)
		s += 86400, days--;
	lure_civil_from_days((long)days, &y, &m, &d);
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
	return 29;
}

static size_t
http_hex(char *out, uint64_t v)
{
	char tmp[16];
	size_t n = 0, k = 0;

	do
		tmp[n++] = "0123456789abcdef"[v & 15];
	while (v >>= 4);
	while (n)
		out[k++] = tmp[--n];
	return k;
}

static size_t
http_dec(char *out, uint64_t v)
{
	char tmp[20];
	size_t n = 0, k = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		out[k++] = tmp[--n];
	return k;
}

/* The pages' mtime: per sensor, stable across restarts. */
static int64_t
http_mtime(void)
{
	const char *v = persona_get("http.mtime", NULL);
	const char *id = event_identity()->sensor_id;
	uint32_t h = 2166136261u;
	long long base = 0, span = 0;
	char *end;

	if (!v)
		return 0;
	base = strtoll(v, &end, 10);
	span = strtoll(end, NULL, 10);
	for (; id && *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return base + (span > 0 ? (int64_t)(h % (uint64_t)span) : 0);
}

/* --- parsers (ports of nginx's) ---------------------------------------- */

static int
http_parse_request_line(struct http_req *r, const uint8_t *p, size_t n)
{
	unsigned st = r->rl;
	size_t i;
	uint8_t c, ch;

	for (i = r->pos; i < n; i++) {
		ch = p[i];
		switch (st) {
		case RL_START:
			if ((ch < 'A' || ch > 'Z') && ch != '_' && ch != '-')
				goto invalid;
			st = RL_METHOD;
			break;
		case RL_METHOD:
			if (ch == ' ') {
				r->method_end = (uint16_t)i;
				st = RL_SPACES_BEFORE_URI;
				break;
			}
			if ((ch < 'A' || ch > 'Z') && ch != '_' && ch != '-')
				goto invalid;
			break;
		case RL_SPACES_BEFORE_URI:
			if (ch == '/') {
				r->target = r->uri_start = (uint16_t)i;
				st = RL_AFTER_SLASH_IN_URI;
				break;
			}
			c = (uint8_t)(ch | 0x20);
			if (c >= 'a' && c <= 'z') {
				r->target = (uint16_t)i;
				st = RL_SCHEMA;
				break;
			}
			if (ch != ' ')
				goto invalid;
			break;
		case RL_SCHEMA:
			c = (uint8_t)(ch | 0x20);
			if ((c >= 'a' && c <= 'z') ||
			        (ch >= '0' && ch <= '9') || ch == '+' ||
			        ch == '-' || ch == '.')
				break;
			if (ch != ':')
				goto invalid;
			r->schema_end = (uint16_t)i;
			st = RL_SCHEMA_SLASH;
			break;
		case RL_SCHEMA_SLASH:
			if (ch != '/')
				goto invalid;
			st = RL_SCHEMA_SLASH_SLASH;
			break;
		case RL_SCHEMA_SLASH_SLASH:
			if (ch != '/')
				goto invalid;
			st = RL_HOST_START;
			break;
		case RL_HOST_START:
			r->host_start = (uint16_t)i;
			if (ch == '[') {
				st = RL_HOST_IP_LITERAL;
				break;
			}
			st = RL_HOST;
			/* fall through */
		case RL_HOST:
			c = (uint8_t)(ch | 0x20);
			if ((c >= 'a' && c <= 'z') ||
			        (ch >= '0' && ch <= '9') || ch == '.' ||
			        ch == '-')
				break;
			/* fall through */
		case RL_HOST_END:
			r->host_end = (uint16_t)i;
			if (ch == ':') {
				st = RL_PORT;
			} else if (ch == '/') {
				r->uri_start = (uint16_t)i;
				st = RL_AFTER_SLASH_IN_URI;
			} else if (ch == '?') {
				r->uri_start = (uint16_t)i;
				r->args_start = (uint16_t)(i + 1);
				r->flags |= F_EMPTY_PATH;
				st = RL_URI;
			} else if (ch == ' ') {
				/* the "/" of "://" stands for the path */
				r->uri_start = (uint16_t)(r->schema_end + 1);
				r->uri_end = (uint16_t)(r->schema_end + 2);
				st = RL_HTTP_09;
			} else {
				goto invalid;
			}
			break;
		case RL_HOST_IP_LITERAL:
			c = (uint8_t)(ch | 0x20);
			if ((ch >= '0' && ch <= '9') ||
			        (c >= 'a' && c <= 'z') || ch == ':' ||
			        strchr("-._~!$&'()*+,;=", ch))
				break;
			if (ch != ']' || ch == 0)
				goto invalid;
			st = RL_HOST_END;
			break;
		case RL_PORT:
			if (ch >= '0' && ch <= '9')
				break;
			if (ch == '/') {
				r->uri_start = (uint16_t)i;
				st = RL_AFTER_SLASH_IN_URI;
			} else if (ch == '?') {
				r->uri_start = (uint16_t)i;
				r->args_start = (uint16_t)(i + 1);
				r->flags |= F_EMPTY_PATH;
				st = RL_URI;
			} else if (ch == ' ') {
				r->uri_start = (uint16_t)(r->schema_end + 1);
				r->uri_end = (uint16_t)(r->schema_end + 2);
				st = RL_HTTP_09;
			} else {
				goto invalid;
			}
			break;
		case RL_AFTER_SLASH_IN_URI:
			if (HTTP_USUAL(ch)) {
				st = RL_CHECK_URI;
				break;
			}
			switch (ch) {
			case ' ':
				r->uri_end = (uint16_t)i;
				st = RL_HTTP_09;
				break;
			case '\r':
				r->uri_end = (uint16_t)i;
				r->minor = 9;
				st = RL_ALMOST_DONE;
				break;
			case '\n':
				r->uri_end = (uint16_t)i;
				r->minor = 9;
				goto done;
			case '.':
			case '/':
			case '#':
				r->flags |= F_COMPLEX;
				st = RL_URI;
				break;
			case '%':
				r->flags |= F_QUOTED;
				st = RL_URI;
				break;
			case '?':
				r->args_start = (uint16_t)(i + 1);
				st = RL_URI;
				break;
			case '+': break;
			default:
				if (ch < 0x20 || ch == 0x7f)
					goto invalid;
				st = RL_CHECK_URI;
				break;
			}
			break;
		case RL_CHECK_URI:
			if (HTTP_USUAL(ch))
				break;
			switch (ch) {
			case '/': st = RL_AFTER_SLASH_IN_URI; break;
			case '.':
			case '+': break;
			case ' ':
				r->uri_end = (uint16_t)i;
				st = RL_HTTP_09;
				break;
			case '\r':
				r->uri_end = (uint16_t)i;
				r->minor = 9;
				st = RL_ALMOST_DONE;
				break;
			case '\n':
				r->uri_end = (uint16_t)i;
				r->minor = 9;
				goto done;
			case '%':
				r->flags |= F_QUOTED;
				st = RL_URI;
				break;
			case '?':
				r->args_start = (uint16_t)(i + 1);
				st = RL_URI;
				break;
			case '#':
				r->flags |= F_COMPLEX;
				st = RL_URI;
				break;
			default:
				if (ch < 0x20 || ch == 0x7f)
					goto invalid;
				break;
			}
			break;
		case RL_URI:
			if (HTTP_USUAL(ch))
				break;
			switch (ch) {
			case ' ':
				r->uri_end = (uint16_t)i;
				st = RL_HTTP_09;
				break;
			case '\r':
				r->uri_end = (uint16_t)i;
				r->minor = 9;
				st = RL_ALMOST_DONE;
				break;
			case '\n':
				r->uri_end = (uint16_t)i;
				r->minor = 9;
				goto done;
			case '#': r->flags |= F_COMPLEX; break;
			default:
				if (ch < 0x20 || ch == 0x7f)
					goto invalid;
				break;
			}
			break;
		case RL_HTTP_09:
			if (ch == ' ')
				break;
			if (ch == '\r') {
				r->minor = 9;
				st = RL_ALMOST_DONE;
				break;
			}
			if (ch == '\n') {
				r->minor = 9;
				goto done;
			}
			if (ch != 'H')
				goto invalid;
			r->proto = (uint16_t)i;
			st = RL_HTTP_H;
			break;
		case RL_HTTP_H:
		case RL_HTTP_HT:
		case RL_HTTP_HTT:
		case RL_HTTP_HTTP:
			if (ch != (uint8_t) "TTP/"[st - RL_HTTP_H])
				goto invalid;
			st++;
			break;
		case RL_FIRST_MAJOR_DIGIT:
			if (ch < '1' || ch > '9')
				goto invalid;
			r->major = (uint16_t)(ch - '0');
			if (r->major > 1)
				goto bad_version;
			st = RL_MAJOR_DIGIT;
			break;
		case RL_MAJOR_DIGIT:
			if (ch == '.') {
				st = RL_FIRST_MINOR_DIGIT;
				break;
			}
			if (ch < '0' || ch > '9')
				goto invalid;
			r->major = (uint16_t)(r->major * 10 + (ch - '0'));
			if (r->major > 1)
				goto bad_version;
			break;
		case RL_FIRST_MINOR_DIGIT:
			if (ch < '0' || ch > '9')
				goto invalid;
			r->minor = (uint16_t)(ch - '0');
			st = RL_MINOR_DIGIT;
			break;
		case RL_MINOR_DIGIT:
			if (ch == '\r') {
				st = RL_ALMOST_DONE;
				break;
			}
			if (ch == '\n')
				goto done;
			if (ch == ' ') {
				st = RL_SPACES_AFTER_DIGIT;
				break;
			}
			if (ch < '0' || ch > '9' || r->minor > 99)
				goto invalid;
			r->minor = (uint16_t)(r->minor * 10 + (ch - '0'));
			break;
		case RL_SPACES_AFTER_DIGIT:
			if (ch == ' ')
				break;
			if (ch == '\r') {
				st = RL_ALMOST_DONE;
				break;
			}
			if (ch == '\n')
				goto done;
			goto invalid;
		case RL_ALMOST_DONE:
			if (ch == '\n')
				goto done;
			goto invalid;
		default: goto invalid;
		}
	}
	r->pos = (uint16_t)i;
	r->rl = (uint8_t)st;
	return HTTP_AGAIN;
invalid:
	r->pos = (uint16_t)i;
	return 400;
bad_version:
	r->pos = (uint16_t)i;
	return 505;
done:
	r->pos = r->line_end = (uint16_t)(i + 1);
	r->rl = RL_DONE;
	if (http_eq(p, r->method_end, "GET"))
		r->flags |= F_GET;
	else if (http_eq(p, r->method_end, "HEAD"))
		r->flags |= F_HEAD;
	else if (http_eq(p, r->method_end, "CONNECT"))
		r->flags |= F_CONNECT;
	else if (http_eq(p, r->method_end, "TRACE"))
		r->flags |= F_TRACE;
	if (r->major == 0 && !(r->flags & F_GET))
		return 400; /* HTTP/0.9 knows only GET */
	return HTTP_LINE;
}

static int
http_name_char(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-';
}

static int
http_parse_header_line(struct http_req *r, const uint8_t *p, size_t n)
{
	size_t i;
	uint8_t ch;

	for (i = r->pos; i < n; i++) {
		ch = p[i];
		switch (r->hl) {
		case HL_START:
			r->hname = (uint16_t)i;
			r->flags &= (uint8_t)~F_INVALID;
			if (ch == '\r') {
				r->hl = HL_HEADER_ALMOST_DONE;
				break;
			}
			if (ch == '\n')
				goto header_done;
			r->hl = HL_NAME;
			if (http_name_char(ch))
				break;
			if (ch <= 0x20 || ch == 0x7f || ch == ':')
				goto invalid;
			r->flags |=
			        F_INVALID; /* '_' too: no underscores_in_headers */
			break;
		case HL_NAME:
			if (http_name_char(ch))
				break;
			if (ch == ':') {
				r->hname_end = (uint16_t)i;
				r->hl = HL_SPACE_BEFORE_VALUE;
				break;
			}
			if (ch == '\r' || ch == '\n') {
				r->hname_end = r->hval = r->hval_end =
				        (uint16_t)i;
				if (ch == '\n')
					goto done;
				r->hl = HL_ALMOST_DONE;
				break;
			}
			if (ch <= 0x20 || ch == 0x7f)
				goto invalid;
			r->flags |= F_INVALID;
			break;
		case HL_SPACE_BEFORE_VALUE:
			if (ch == ' ')
				break;
			if (ch == 0)
				goto invalid;
			r->hval = (uint16_t)i;
			if (ch == '\r' || ch == '\n') {
				r->hval_end = (uint16_t)i;
				if (ch == '\n')
					goto done;
				r->hl = HL_ALMOST_DONE;
				break;
			}
			r->hl = HL_VALUE;
			break;
		case HL_VALUE:
			if (ch == 0)
				goto invalid;
			if (ch == ' ' || ch == '\r' || ch == '\n') {
				r->hval_end = (uint16_t)i;
				if (ch == '\n')
					goto done;
				r->hl = ch == ' ' ? HL_SPACE_AFTER_VALUE
				                  : HL_ALMOST_DONE;
			}
			break;
		case HL_SPACE_AFTER_VALUE:
			if (ch == ' ')
				break;
			if (ch == 0)
				goto invalid;
			if (ch == '\n')
				goto done;
			r->hl = ch == '\r' ? HL_ALMOST_DONE : HL_VALUE;
			break;
		case HL_ALMOST_DONE:
			if (ch == '\n')
				goto done;
			if (ch != '\r')
				goto invalid;
			break;
		case HL_HEADER_ALMOST_DONE:
			if (ch == '\n')
				goto header_done;
			goto invalid;
		default: goto invalid;
		}
	}
	r->pos = (uint16_t)i;
	return HTTP_AGAIN;
invalid:
	r->pos = (uint16_t)i;
	return 400;
done:
	r->pos = (uint16_t)(i + 1);
	r->hl = HL_START;
	return HTTP_LINE;
header_done:
	r->pos = r->head_end = (uint16_t)(i + 1);
	r->hl = HL_START;
	return HTTP_HEAD_DONE;
}

/* Feed a chunked body; returns bytes used (all of p unless done or bad).
 * Data bytes are counted in *data and copied to out[*olen..cap). */
static size_t
http_parse_chunked(struct http_chunk *c, const uint8_t *p, size_t n, int *rc,
        uint8_t *out, size_t *olen, size_t cap, uint64_t *data)
{
	size_t i = 0;
	uint8_t ch, lc;

	*rc = CK_AGAIN;
	while (i < n) {
		ch = p[i];
		if (c->state == CK_DATA) {
			size_t take =
			        (size_t)LURE_MIN((uint64_t)(n - i), c->size);
			if (out && *olen < cap) {
				size_t k = LURE_MIN(take, cap - *olen);
				memcpy(out + *olen, p + i, k);
				*olen += k;
			}
			*data += take;
			c->size -= take;
			i += take;
			if (!c->size)
				c->state = CK_AFTER_DATA;
			continue;
		}
		lc = (uint8_t)(ch | 0x20);
		switch (c->state) {
		case CK_START:
		case CK_SIZE:
			if (c->state == CK_SIZE && c->size > INT64_MAX / 16)
				goto invalid;
			if ((ch >= '0' && ch <= '9') ||
			        (lc >= 'a' && lc <= 'f')) {
				c->size = c->size * 16 +
				          (uint64_t)(ch <= '9' ? ch - '0'
				                               : lc - 'a' + 10);
				c->state = CK_SIZE;
				break;
			}
			if (c->state == CK_START)
				goto invalid;
			if (ch == '\r')
				c->state = c->size ? CK_EXT_ALMOST_DONE
				                   : CK_LAST_EXT_ALMOST_DONE;
			else if (ch == '\n')
				c->state = c->size ? CK_DATA : CK_TRAILER;
			else if (ch == ';' || ch == ' ' || ch == '\t')
				c->state = c->size ? CK_EXT : CK_LAST_EXT;
			else
				goto invalid;
			break;
		case CK_EXT:
		case CK_LAST_EXT:
			if (ch == '\r')
				c->state = c->state == CK_EXT
				                   ? CK_EXT_ALMOST_DONE
				                   : CK_LAST_EXT_ALMOST_DONE;
			else if (ch == '\n')
				c->state = c->state == CK_EXT ? CK_DATA
				                              : CK_TRAILER;
			break;
		case CK_EXT_ALMOST_DONE:
			if (ch != '\n')
				goto invalid;
			c->state = CK_DATA;
			break;
		case CK_AFTER_DATA:
			if (ch == '\r')
				c->state = CK_AFTER_DATA_ALMOST_DONE;
			else if (ch == '\n')
				c->state = CK_START;
			else
				goto invalid;
			break;
		case CK_AFTER_DATA_ALMOST_DONE:
			if (ch != '\n')
				goto invalid;
			c->state = CK_START;
			break;
		case CK_LAST_EXT_ALMOST_DONE:
			if (ch != '\n')
				goto invalid;
			c->state = CK_TRAILER;
			break;
		case CK_TRAILER:
			if (ch == '\r') {
				c->state = CK_TRAILER_ALMOST_DONE;
			} else if (ch == '\n') {
				*rc = CK_DONE;
				return i + 1;
			} else {
				c->state = CK_TRAILER_HEADER;
			}
			break;
		case CK_TRAILER_ALMOST_DONE:
			if (ch != '\n')
				goto invalid;
			*rc = CK_DONE;
			return i + 1;
		case CK_TRAILER_HEADER:
			if (ch == '\r')
				c->state = CK_TRAILER_HEADER_ALMOST_DONE;
			else if (ch == '\n')
				c->state = CK_TRAILER;
			break;
		case CK_TRAILER_HEADER_ALMOST_DONE:
			if (ch != '\n')
				goto invalid;
			c->state = CK_TRAILER;
			break;
		default: goto invalid;
		}
		i++;
	}
	if (c->size > INT64_MAX - 5)
		goto invalid;
	return i;
invalid:
	*rc = CK_ERROR;
	return i;
}

/* nginx's ngx_http_parse_complex_uri() with merge_slashes on: the path of
 * p[r->uri_start..r->uri_end) decoded into http_scratch; -1 when invalid. */
static long
http_normalise(const struct http_req *r, const uint8_t *p)
{
	enum { S_USUAL, S_SLASH, S_DOT, S_DOT_DOT, S_QUOTED, S_QUOTED2 };
	uint8_t *o = http_scratch;
	int state = S_USUAL, quoted_state = S_USUAL;
	uint8_t ch, c, decoded = 0;
	size_t q = r->uri_start;
	long u = 0;

	if (r->flags & F_EMPTY_PATH)
		o[u++] = '/';
	ch = p[q++];
	while (q <= r->uri_end) {
		switch (state) {
		case S_USUAL:
			if (HTTP_USUAL(ch)) {
				o[u++] = ch;
				ch = p[q++];
				break;
			}
			switch (ch) {
			case '/':
				state = S_SLASH;
				o[u++] = ch;
				break;
			case '%':
				quoted_state = state;
				state = S_QUOTED;
				break;
			case '?':
			case '#': return u;
			default: o[u++] = ch; break;
			}
			ch = p[q++];
			break;
		case S_SLASH:
			if (HTTP_USUAL(ch)) {
				state = S_USUAL;
				o[u++] = ch;
				ch = p[q++];
				break;
			}
			switch (ch) {
			case '/': break;
			case '.':
				state = S_DOT;
				o[u++] = ch;
				break;
			case '%':
				quoted_state = state;
				state = S_QUOTED;
				break;
			case '?':
			case '#': return u;
			default:
				state = S_USUAL;
				o[u++] = ch;
				break;
			}
			ch = p[q++];
			break;
		case S_DOT:
			if (HTTP_USUAL(ch)) {
				state = S_USUAL;
				o[u++] = ch;
				ch = p[q++];
				break;
			}
			switch (ch) {
			case '/':
				state = S_SLASH;
				u--;
				break;
			case '.':
				state = S_DOT_DOT;
				o[u++] = ch;
				break;
			case '%':
				quoted_state = state;
				state = S_QUOTED;
				break;
			case '?':
			case '#': return u - 1;
			default:
				state = S_USUAL;
				o[u++] = ch;
				break;
			}
			ch = p[q++];
			break;
		case S_DOT_DOT:
			if (HTTP_USUAL(ch)) {
				state = S_USUAL;
				o[u++] = ch;
				ch = p[q++];
				break;
			}
			switch (ch) {
			case '/':
			case '?':
			case '#':
				u -= 4;
				for (;;) {
					if (u < 0)
						return -1;
					if (o[u] == '/') {
						u++;
						break;
					}
					u--;
				}
				if (ch != '/')
					return u;
				state = S_SLASH;
				break;
			case '%':
				quoted_state = state;
				state = S_QUOTED;
				break;
			default:
				state = S_USUAL;
				o[u++] = ch;
				break;
			}
			ch = p[q++];
			break;
		case S_QUOTED:
			c = (uint8_t)(ch | 0x20);
			if (ch >= '0' && ch <= '9')
				decoded = (uint8_t)(ch - '0');
			else if (c >= 'a' && c <= 'f')
				decoded = (uint8_t)(c - 'a' + 10);
			else
				return -1;
			state = S_QUOTED2;
			ch = p[q++];
			break;
		case S_QUOTED2:
			c = (uint8_t)(ch | 0x20);
			if (ch >= '0' && ch <= '9') {
				ch = (uint8_t)((decoded << 4) + (ch - '0'));
				if (ch == '%' || ch == '#') {
					state = S_USUAL;
					o[u++] = ch;
					ch = p[q++];
					break;
				}
				if (ch == 0)
					return -1;
				state = quoted_state;
				break;
			}
			if (c >= 'a' && c <= 'f') {
				ch = (uint8_t)((decoded << 4) + (c - 'a') + 10);
				if (ch == '?') {
					state = S_USUAL;
					o[u++] = ch;
					ch = p[q++];
					break;
				}
				state = quoted_state;
				break;
			}
			return -1;
		}
	}
	if (state == S_QUOTED || state == S_QUOTED2)
		return -1;
	if (state == S_DOT) {
		u--;
	} else if (state == S_DOT_DOT) {
		u -= 4;
		for (;;) {
			if (u < 0)
				return -1;
			if (o[u] == '/') {
				u++;
				break;
			}
			u--;
		}
	}
	return u;
}

/* nginx's ngx_http_validate_host(): length without port, or -1. */
static long
http_validate_host(const uint8_t *h, size_t n)
{
	size_t dot = n, len = n;
	int state = 0; /* 0 usual, 1 IP literal, 2 rest */

	for (size_t i = 0; i < n; i++) {
		uint8_t ch = h[i];
		if (ch == '.') {
			if (dot == i - 1)
				return -1;
			dot = i;
		} else if (ch == ':') {
			if (state == 0)
				len = i, state = 2;
		} else if (ch == '[') {
			if (i == 0)
				state = 1;
		} else if (ch == ']') {
			if (state == 1)
				len = i + 1, state = 2;
		} else if (ch == '/' || ch <= 0x20 || ch == 0x7f) {
			return -1;
		}
	}
	if (len && dot == len - 1)
		len--;
	return len ? (long)len : -1;
}

/* nginx's ngx_http_gzip_ok() for "gzip_http_version 1.1; gzip_proxied off". */
static int
http_gzip_ok(const struct http_req *r, const uint8_t *p)
{
	const uint8_t *s = p + r->h[H_ACCEPT_ENCODING].off, *g;
	size_t n = r->h[H_ACCEPT_ENCODING].len, i, j;
	unsigned q = 0, digits = 0;

	if (!(r->seen & (1u << H_ACCEPT_ENCODING)) || n < 4 ||
	        r->major * 1000 + r->minor < 1001 || (r->seen & (1u << H_VIA)))
		return 0;
	if (n >= 5 && memcmp(s, "gzip,", 5) == 0)
		return 1;
	for (i = 0;;) {
		if (!(g = http_find(s + i, n - i, "gzip", 1)))
			return 0;
		if (g == s || g[-1] == ',' || g[-1] == ' ')
			break;
		i = (size_t)(g - s) + 4;
	}
	for (i = (size_t)(g - s) + 4; i < n;) {
		uint8_t ch = s[i++];
		if (ch == ',')
			return 1;
		if (ch == ';')
			goto quantity;
		if (ch != ' ')
			return 0;
	}
	return 1;
quantity:
	while (i < n) {
		uint8_t ch = s[i++];
		if (ch == 'q' || ch == 'Q')
			goto equal;
		if (ch != ' ')
			return 0;
	}
	return 1;
equal:
	if (i + 2 > n || s[i++] != '=')
		return 0;
	if (s[i] != '0' && s[i] != '1')
		return 0;
	q = (unsigned)(s[i++] - '0') * 100;
	if (i < n && s[i] != ',' && s[i] != ' ') {
		if (s[i++] != '.')
			return 0;
		for (j = i; j < n && s[j] != ',' && s[j] != ' '; j++) {
			if (s[j] < '0' || s[j] > '9')
				return 0;
			q += (unsigned)(s[j] - '0');
			digits++;
		}
		if (q > 100 || digits > 3)
			return 0;
	}
	return q != 0;
}

/* nginx's ngx_http_test_if_match() against a strong ETag. */
static int
http_etag_match(
        const uint8_t *s, size_t n, const char *etag, size_t el, int weak)
{
	size_t i = 0;

	if (n == 1 && s[0] == '*')
		return 1;
	while (i < n) {
		if (weak && n - i > 2 && s[i] == 'W' && s[i + 1] == '/')
			i += 2;
		if (el > n - i)
			return 0;
		if (memcmp(s + i, etag, el) == 0) {
			i += el;
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
			if (i == n || s[i] == ',')
				return 1;
		}
		while (i < n && s[i] != ',')
			i++;
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
	}
	return 0;
}

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

/* One complete header line: nginx's ngx_http_headers_in handlers. Returns
 * 0 or an error status. */
static int
http_header(struct http_req *r, const uint8_t *p)
{
	const uint8_t *name = p + r->hname, *val = p + r->hval;
	size_t nl = (size_t)(r->hname_end - r->hname);
	size_t vl = (size_t)(r->hval_end - r->hval);
	unsigned id;

	if (r->flags & F_INVALID)
		return 0; /* ignore_invalid_headers */
	for (id = 0; id < H__MAX; id++)
		if (http_caseeq(name, nl, http_headers[id].name))
			break;
	if (id == H__MAX)
		return 0;
	if (r->seen & (1u << id)) {
		if (http_headers[id].unique)
			return 400;
		if (id != H_CONNECTION)
			return 0; /* the first one counts */
	}
	r->seen |= 1u << id;
	r->h[id].off = r->hval;
	r->h[id].len = (uint16_t)vl;
	if (id == H_HOST) {
		long hl = http_validate_host(val, vl);
		if (hl < 0)
			return 400;
		r->h[id].len = (uint16_t)hl;
	} else if (id == H_CONNECTION) {
		if (http_find(val, vl, "close", 1))
			r->conn = CONN_CLOSE;
		else if (http_find(val, vl, "keep-alive", 1))
			r->conn = CONN_KEEP_ALIVE;
	} else if (id == H_USER_AGENT) {
		r->pad = (uint8_t)http_pad_ua(val, vl);
	}
	return 0;
}

/* --- responses ---------------------------------------------------------- */

/* The realm: http.realm with ${identity} expanded. */
static const char *
http_realm(size_t *n)
{
	static char realm[IDENTITY_VALUE_MAX];
	size_t rn;
	const char *v = persona_get("http.realm", &rn);

	*n = v ? identity_expand(v, rn, realm, sizeof realm) : 0;
	return realm;
}

/* A Digest nonce as such cameras make them: the hex of the base64 of
 * "<time hex>:<hex>", here the second part keyed per sensor and counted. */
static size_t
http_nonce(char *out, size_t cap)
{
	static uint32_t counter;
	uint8_t key[16], md[16];
	char plain[32], b64[48];
	uint64_t t = (uint64_t)(lure_wall() / 1000);
	size_t n, b;
	struct hash_part parts[3] = {
	        {key, sizeof key}, {&counter, sizeof counter}, {&t, sizeof t}};

	counter++;
	identity_derive("http.nonce", key, sizeof key);
	hash_md5(parts, 3, md);
	n = (size_t)snprintf(plain, sizeof plain, "%x:%x", (unsigned)t,
	        (unsigned)md[0] << 24 | (unsigned)md[1] << 16 |
	                (unsigned)md[2] << 8 | md[3]);
	b = hash_b64((const uint8_t *)plain, n, b64);
	if (2 * b + 1 > cap)
		return 0;
	hash_hex((const uint8_t *)b64, b, out);
	return 2 * b;
}

/* Expand http.etag into out; returns its length. */
static size_t
http_etag(char *out, size_t cap, int64_t mtime, int64_t flen)
{
	size_t n, k = 0;
	const char *f = persona_get("http.etag", &n);

	for (size_t i = 0; f && i < n && k + 17 < cap; i++) {
		if (f[i] == '%' && i + 1 < n &&
		        (f[i + 1] == 'm' || f[i + 1] == 'l')) {
			k += http_hex(out + k,
			        (uint64_t)(f[++i] == 'm' ? mtime : flen));
			continue;
		}
		out[k++] = f[i];
	}
	return k;
}

/* Status line and headers of kind o->kind into out; returns the length, or
 * 0 when they do not fit. */
static size_t
http_expand(const struct http_req *r, const struct http_out *o, char *out,
        size_t cap)
{
	char key[32], val[128];
	const struct persona_kv *kv;
	size_t it = 0, k = 0;

	memcpy(key, "http.head.", 10);
	strncpy(key + 10, o->kind, sizeof key - 11);
	key[sizeof key - 1] = 0;
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
				vn = http_date(val, lure_wall() / 1000);
				break;
			case 'T':
				v = o->type, vn = o->type_len;
				drop = !v;
				break;
			case 'L':
				drop = o->len < 0;
				if (!drop)
					vn = http_dec(val, (uint64_t)o->len);
				break;
			case 'M':
				drop = o->mtime < 0;
				if (!drop)
					vn = http_date(val, o->mtime);
				break;
			case 'E':
				drop = o->mtime < 0;
				if (!drop)
					vn = http_etag(val, sizeof val,
					        o->mtime, o->flen);
				break;
			case 'C':
				v = NULL;
				if (r->keepalive)
					v = persona_get(
					        "http.keepalive_token", &vn);
				if (!v) {
					v = r->keepalive ? "keep-alive"
					                 : "close";
					vn = strlen(v);
				}
				break;
			case 'X':
				drop = !o->chunked;
				v = "chunked", vn = 7;
				break;
			case 'V':
				vn = http_dec(val, r->major);
				val[vn++] = '.';
				vn += http_dec(val + vn, r->minor);
				break;
			case 'N': vn = http_nonce(val, sizeof val); break;
			case 'R': v = http_realm(&vn); break;
			case 'k': /* "timeout=T"; K adds ", max=N" */
			case 'K':
				drop = !r->keepalive;
				memcpy(val, "timeout=", 8);
				vn = 8 +
				     http_dec(val + 8,
				             (uint64_t)persona_int(
				                     "http.keepalive_timeout",
				                     10));
				if (kv->val[i] == 'k')
					break;
				memcpy(val + vn, ", max=", 6);
				vn += 6;
				vn += http_dec(val + vn, r->ka_left);
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

/* Queue a response; 0, or -1 when it did not fit (the caller closes). */
static int
http_send(struct emu_ctx *ctx, const struct http_req *r,
        const struct http_out *o, int cont)
{
	char head[2048];
	size_t hn;

	if (r->major == 0) { /* HTTP/0.9: the body alone */
		if ((o->b2 || o->copy) && emu_send(ctx, o->b1, o->b1n) < 0)
			return -1;
		if (o->copy)
			return 0;
		return emu_send_const(
		        ctx, o->b2 ? o->b2 : o->b1, o->b2 ? o->b2n : o->b1n);
	}
	if (!(hn = http_expand(r, o, head, sizeof head)))
		return -1;
	if (cont) {
		size_t cn;
		const char *c = persona_get("http.continue", &cn);
		if (c && emu_send(ctx, c, cn) < 0)
			return -1;
	}
	if (emu_send(ctx, head, hn) < 0)
		return -1;
	if (r->flags & F_HEAD)
		return 0;
	if (o->chunked && !o->b1n) /* no body: the last chunk alone */
		return emu_send(ctx, "0\r\n\r\n", 5);
	if (o->chunked) {
		char line[24];
		size_t ln = http_hex(line, o->b1n);
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

/* Look up http.<table> "code file [gz=] [padgz=] status..." or a route;
 * key is the first word to match. */
static int
http_status_code(const char *s, size_t n);
static size_t
http_b64(const uint8_t *s, size_t n, uint8_t *out);

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
		return http_eq(m, ml, "GET") || http_eq(m, ml, "HEAD");
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
		if (e->need && !http_find_lit(body, blen, e->need, e->need_len))
			continue;
		return 1;
	}
	return 0;
}

static int
http_status_code(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n && s[i] >= '0' && s[i] <= '9' && v < 1000; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static void
http_kind(struct http_out *o, const struct http_entry *e, const char *def)
{
	size_t n = LURE_MIN(e->kind_len, sizeof o->kbuf - 1);

	o->kind = def;
	if (e->kind) {
		memcpy(o->kbuf, e->kind, n);
		o->kbuf[n] = 0;
		o->kind = o->kbuf;
	}
}

static long
http_template(const uint8_t *in, size_t n);
static char http_tmpl_buf[8192];

/* c=1: the answer to an HTTP/1.1 request (not HEAD) goes chunked. */
static void
http_chunk_opt(const struct http_req *r, const struct http_entry *e,
        struct http_out *o)
{
	if (e->chunk && r->major == 1 && r->minor >= 1 &&
	        !(r->flags & F_HEAD)) {
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
	struct http_out o;
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
		long tn = http_template(e.file->data, e.file->len);
		if (tn >= 0) { /* else the page as it is */
			o.b1 = (const uint8_t *)http_tmpl_buf;
			o.b1n = (size_t)tn;
			o.copy = 1;
		}
	}
	o.len = (int64_t)(o.b1n + o.b2n);
	http_chunk_opt(r, &e, &o);
	z = pad ? e.padgz : e.gz;
	if (z && http_gzip_ok(r, p) && z->len + 1024 <= emu_space(ctx)) {
		o.kind = "errgzip";
		o.len = -1;
		o.chunked = !(r->flags & F_HEAD);
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
	return http_send_error_key(ctx, r, p, key, 3, cont);
}

/* --- templates and credentials ------------------------------------------ */

/* Year, month, day, hour, minute, second of Unix seconds (UTC). */
static void
http_civil(int64_t t, int64_t out[6])
{
	int64_t days = t / 86400, s = t % 86400;
	long y, m, d;

	if (s < 0)
		s += 86400, days--;
	lure_civil_from_days((long)days, &y, &m, &d);
	out[0] = y;
	out[1] = m;
	out[2] = d;
	out[3] = s / 3600;
	out[4] = s % 3600 / 60;
	out[5] = s % 60;
}

static uint8_t http_path[HTTP_HEAD_MAX + 2]; /* the request's path */
static size_t http_path_len;

/* Expand ${...} in a template body into http_tmpl_buf; returns the length
 * or -1 when it does not fit. Request text is XML-escaped. */
static long
http_template(const uint8_t *in, size_t n)
{
	char *out = http_tmpl_buf, val[64];
	size_t cap = sizeof http_tmpl_buf, k = 0;
	int64_t c[6];

	http_civil(lure_wall() / 1000, c);
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
			vn = http_dec(
			        val, (uint64_t)c[strchr("YmdHMS", name[4]) -
			                         "YmdHMS"]);
			v = val;
		} else if (strcmp(name, "now.iso") == 0) {
			vn = (size_t)snprintf(val, sizeof val,
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
			v = (const char *)http_path, vn = http_path_len;
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

enum {
	HD_USERNAME,
	HD_REALM,
	HD_NONCE,
	HD_URI,
	HD_RESPONSE,
	HD_CNONCE,
	HD_NC,
	HD_QOP,
	HD_ALGORITHM,
	HD_OPAQUE,
	HD__MAX
};
static const char *const http_digest_keys[HD__MAX] = {"username", "realm",
        "nonce", "uri", "response", "cnonce", "nc", "qop", "algorithm",
        "opaque"};
static const char *const http_digest_fields[HD__MAX] = {"user.name",
        "lure.auth.realm", "lure.auth.nonce", "lure.auth.uri",
        "lure.auth.response", "lure.auth.cnonce", "lure.auth.nc",
        "lure.auth.qop", "lure.auth.algorithm", "lure.auth.opaque"};

struct http_digest {
	const uint8_t *v[HD__MAX];
	size_t n[HD__MAX];
};

/* Parse "Digest k=v, k="v"..."; 1 when it is Digest with a username. */
static int
http_digest_parse(const uint8_t *a, size_t n, struct http_digest *d)
{
	size_t i = 7;

	memset(d, 0, sizeof *d);
	if (n < 8 || !http_caseeq(a, 6, "digest") || a[6] != ' ')
		return 0;
	while (i < n) {
		size_t ks, kl, vs, ve;
		while (i < n && (a[i] == ' ' || a[i] == ',' || a[i] == '\t'))
			i++;
		ks = i;
		while (i < n && a[i] != '=' && a[i] != ',' && a[i] != ' ')
			i++;
		kl = i - ks;
		while (i < n && a[i] == ' ')
			i++;
		if (i >= n || a[i] != '=') {
			while (i < n && a[i] != ',')
				i++;
			continue;
		}
		i++;
		while (i < n && a[i] == ' ')
			i++;
		if (i < n && a[i] == '"') {
			vs = ++i;
			while (i < n && a[i] != '"')
				i += a[i] == '\\' && i + 1 < n ? 2 : 1;
			ve = LURE_MIN(i, n);
			i++;
		} else {
			vs = i;
			while (i < n && a[i] != ',' && a[i] != ' ')
				i++;
			ve = i;
		}
		for (unsigned k = 0; k < HD__MAX; k++)
			if (!d->v[k] &&
			        http_caseeq(a + ks, kl, http_digest_keys[k])) {
				d->v[k] = a + vs;
				d->n[k] = ve - vs;
			}
	}
	return d->v[HD_USERNAME] != NULL;
}

/* RFC 2617 MD5 response, with our realm, for the user's password. */
static int
http_digest_ok(const struct http_digest *d, const uint8_t *m, size_t ml)
{
	uint8_t md[16];
	char ha1[33], ha2[33], want[33];
	const char *pass;
	size_t pl, rn;
	const char *realm = http_realm(&rn);
	const int qop = d->v[HD_QOP] != NULL;

	if (!d->v[HD_RESPONSE] || d->n[HD_RESPONSE] != 32 || !d->v[HD_URI] ||
	        !d->v[HD_NONCE] ||
	        !(pass = http_user(d->v[HD_USERNAME], d->n[HD_USERNAME], &pl)))
		return 0;
	{
		struct hash_part a1[5] = {
		        {d->v[HD_USERNAME], d->n[HD_USERNAME]}, {":", 1},
		        {realm, rn}, {":", 1}, {pass, pl}};
		struct hash_part a2[3] = {
		        {m, ml}, {":", 1}, {d->v[HD_URI], d->n[HD_URI]}};
		hash_md5(a1, 5, md);
		hash_hex(md, 16, ha1);
		hash_md5(a2, 3, md);
		hash_hex(md, 16, ha2);
	}
	{
		struct hash_part r[11] = {{ha1, 32}, {":", 1},
		        {d->v[HD_NONCE], d->n[HD_NONCE]}, {":", 1},
		        {d->v[HD_NC], d->n[HD_NC]}, {":", 1},
		        {d->v[HD_CNONCE], d->n[HD_CNONCE]}, {":", 1},
		        {d->v[HD_QOP], d->n[HD_QOP]}, {":", 1}, {ha2, 32}};
		if (qop) {
			hash_md5(r, 11, md);
		} else {
			r[4] = r[10];
			hash_md5(r, 5, md);
		}
		hash_hex(md, 16, want);
	}
	for (size_t i = 0; i < 32; i++)
		if (http_lower(d->v[HD_RESPONSE][i]) != want[i])
			return 0;
	return 1;
}

/* Basic credentials into http_scratch: 1 and the spans, else 0. */
static int
http_basic(const uint8_t *a, size_t an, const uint8_t **user, size_t *ul,
        const uint8_t **pass, size_t *pl)
{
	size_t i = 5, dn;
	const uint8_t *colon;

	if (an <= 6 || !http_caseeq(a, 5, "basic") || a[5] != ' ')
		return 0;
	while (i < an && a[i] == ' ')
		i++;
	dn = http_b64(a + i, an - i, http_scratch);
	colon = dn != (size_t)-1 ? memchr(http_scratch, ':', dn) : NULL;
	if (!colon)
		return 0;
	*user = http_scratch;
	*ul = (size_t)(colon - http_scratch);
	*pass = colon + 1;
	*pl = dn - *ul - 1;
	return 1;
}

/* WS-Security UsernameToken fields of a SOAP body. */
enum { WS_USERNAME, WS_PASSWORD, WS_NONCE, WS_CREATED, WS__MAX };
static const char *const http_wsse_tags[WS__MAX] = {
        "Username", "Password", "Nonce", "Created"};
static const char *const http_wsse_fields[WS__MAX] = {"user.name",
        "lure.auth.response", "lure.auth.nonce", "lure.auth.created"};

struct http_wsse {
	const uint8_t *v[WS__MAX];
	size_t n[WS__MAX];
	int digest; /* Type="...#PasswordDigest" */
};

/* The text of the first element named tag (any namespace prefix). */
static int
http_xml_text(const uint8_t *b, size_t n, const char *tag, const uint8_t **v,
        size_t *vl, const uint8_t **attrs, size_t *al)
{
	size_t m = strlen(tag);

	for (size_t i = 0; i + m + 1 < n; i++) {
		size_t j = i + 1, k;
		if (b[i] != '<')
			continue;
		while (j < n && b[j] != ':' && b[j] != '>' && b[j] != ' ' &&
		        b[j] != '/' && b[j] != '<')
			j++;
		j = j < n && b[j] == ':' ? j + 1 : i + 1;
		if (n - j < m + 1 || memcmp(b + j, tag, m) != 0 ||
		        (b[j + m] != '>' && b[j + m] != ' '))
			continue;
		for (k = j + m; k < n && b[k] != '>'; k++)
			;
		if (k >= n)
			return 0;
		if (attrs)
			*attrs = b + j + m, *al = k - j - m;
		*v = b + k + 1;
		for (k++; k < n && b[k] != '<'; k++)
			;
		*vl = (size_t)(b + k - *v);
		return 1;
	}
	return 0;
}

static int
http_wsse_parse(const uint8_t *b, size_t n, struct http_wsse *w)
{
	const uint8_t *at = NULL, *tok;
	size_t al = 0;

	memset(w, 0, sizeof *w);
	if (!(tok = http_find_lit(b, n, "UsernameToken", 13)))
		return 0;
	n -= (size_t)(tok - b);
	b = tok;
	for (unsigned k = 0; k < WS__MAX; k++)
		http_xml_text(b, n, http_wsse_tags[k], &w->v[k], &w->n[k],
		        k == WS_PASSWORD ? &at : NULL, &al);
	w->digest = at && http_find_lit(at, al, "PasswordDigest", 14);
	return w->v[WS_USERNAME] != NULL;
}

/* Base64(SHA-1(nonce + created + password)) or the password itself. */
static int
http_wsse_ok(const struct http_wsse *w)
{
	uint8_t nonce[64], md[20];
	char want[32];
	const char *pass;
	size_t pl;
	long nl;

	if (!w->v[WS_PASSWORD] ||
	        !(pass = http_user(w->v[WS_USERNAME], w->n[WS_USERNAME], &pl)))
		return 0;
	if (!w->digest)
		return w->n[WS_PASSWORD] == pl &&
		       memcmp(w->v[WS_PASSWORD], pass, pl) == 0;
	nl = w->v[WS_NONCE] ? hash_unb64((const char *)w->v[WS_NONCE],
	                              w->n[WS_NONCE], nonce, sizeof nonce)
	                    : -1;
	if (nl < 0 || !w->v[WS_CREATED])
		return 0;
	{
		struct hash_part parts[3] = {{nonce, (size_t)nl},
		        {w->v[WS_CREATED], w->n[WS_CREATED]}, {pass, pl}};
		hash_sha1(parts, 3, md);
	}
	return hash_b64(md, 20, want) == w->n[WS_PASSWORD] &&
	       memcmp(want, w->v[WS_PASSWORD], w->n[WS_PASSWORD]) == 0;
}

/* Credentials in the Authorization header that http.user accepts. */
static int
http_auth_ok(const struct http_req *r, const uint8_t *p)
{
	const uint8_t *a = p + r->h[H_AUTHORIZATION].off, *u, *pw, *pass;
	size_t an = r->h[H_AUTHORIZATION].len, ul, pwl, pl;
	struct http_digest d;

	if (!(r->seen & (1u << H_AUTHORIZATION)))
		return 0;
	if (http_digest_parse(a, an, &d))
		return http_digest_ok(&d, p, r->method_end);
	if (persona_int("http.auth_basic", 0) &&
	        http_basic(a, an, &u, &ul, &pw, &pwl) &&
	        (pass = (const uint8_t *)http_user(u, ul, &pl)))
		return pl == pwl && memcmp(pass, pw, pl) == 0;
	return 0;
}

/* The normalised path of the request into http_path; 0, or -1 when
 * invalid. Uses http_scratch. */
static int
http_path_of(const struct http_req *r, const uint8_t *p)
{
	long plen = (r->flags & (F_COMPLEX | F_QUOTED | F_EMPTY_PATH))
	                    ? http_normalise(r, p)
	                    : -2;

	if (plen == -2) {
		plen = (long)((r->args_start ? r->args_start - 1u
		                             : r->uri_end) -
		              r->uri_start);
		memcpy(http_scratch, p + r->uri_start, (size_t)plen);
	}
	if (plen < 0)
		return -1;
	memcpy(http_path, http_scratch, (size_t)plen);
	http_path_len = (size_t)plen;
	return 0;
}

/* --- events ------------------------------------------------------------- */

static size_t
http_b64(const uint8_t *s, size_t n, uint8_t *out)
{
	uint32_t acc = 0;
	size_t k = 0, bits = 0;

	while (n && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		int v = c >= 'A' && c <= 'Z'   ? c - 'A'
		        : c >= 'a' && c <= 'z' ? c - 'a' + 26
		        : c >= '0' && c <= '9' ? c - '0' + 52
		        : c == '+'             ? 62
		        : c == '/'             ? 63
		                               : -1;
		if (v < 0)
			return (size_t)-1;
		acc = acc << 6 | (uint32_t)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[k++] = (uint8_t)(acc >> bits);
		}
	}
	return k;
}

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
	if (r->seen & (1u << id))
		event_bytes(e, key, p + r->h[id].off, r->h[id].len, cap);
}

static void
http_login_url(struct event *e, const struct http_req *r, const uint8_t *p)
{
	if (r->target && r->uri_end > r->target)
		event_bytes(e, "url.original", p + r->target,
		        r->uri_end - r->target, EVENT_CAP_PAYLOAD);
}

/* A Digest Authorization: the exchange, for offline cracking. */
static void
http_log_digest(struct emu_ctx *ctx, const struct http_req *r, const uint8_t *p)
{
	struct http_digest d;
	struct event *e;

	if (!(r->seen & (1u << H_AUTHORIZATION)) ||
	        !http_digest_parse(p + r->h[H_AUTHORIZATION].off,
	                r->h[H_AUTHORIZATION].len, &d))
		return;
	e = emu_event(ctx, "login");
	event_str(e, "lure.auth.scheme", "digest");
	for (unsigned k = 0; k < HD__MAX; k++)
		if (d.v[k])
			event_bytes(e, http_digest_fields[k], d.v[k], d.n[k],
			        EVENT_CAP_DEFAULT);
	if (r->method_end)
		event_bytes(e, "http.request.method", p, r->method_end,
		        EVENT_CAP_DEFAULT);
	event_str(e, "event.outcome",
	        http_digest_ok(&d, p, r->method_end) ? "success" : "failure");
	http_login_url(e, r, p);
	event_commit(e);
}

/* A WS-Security UsernameToken in a SOAP body. */
static void
http_log_wsse(struct emu_ctx *ctx, const struct http_req *r, const uint8_t *p,
        const uint8_t *body, size_t n)
{
	struct http_wsse w;
	struct event *e;

	if (!http_wsse_parse(body, n, &w))
		return;
	e = emu_event(ctx, "login");
	event_str(e, "lure.auth.scheme", w.digest ? "wsse-digest" : "wsse");
	for (unsigned k = 0; k < WS__MAX; k++)
		if (w.v[k])
			event_bytes(e,
			        k == WS_PASSWORD && !w.digest
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
	size_t it = 0, qs = r->target;

	if (http_path_of(r, p) < 0)
		return;
	while (qs < r->uri_end && p[qs] != '?')
		qs++;
	q.protocol = "http";
	q.method = p;
	q.method_len = r->method_end;
	q.path = http_path;
	q.path_len = http_path_len;
	if (qs < r->uri_end) {
		q.query = p + qs + 1;
		q.query_len = r->uri_end - qs - 1;
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
		event_bytes(e, "http.request.method", p, r->method_end,
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

	if (r->method_end)
		event_bytes(e, "http.request.method", p, r->method_end,
		        EVENT_CAP_DEFAULT);
	if (r->target) {
		int whole = r->uri_end > r->target;
		size_t end = whole ? r->uri_end : LURE_MIN(r->pos, n), i;
		event_bytes(e, "url.original", p + r->target, end - r->target,
		        EVENT_CAP_PAYLOAD);
		if (whole &&
		        ((r->flags & F_EMPTY_PATH) ||
		                (r->schema_end &&
		                        r->uri_start == r->schema_end + 1))) {
			event_str(e, "url.path", "/"); /* "http://host" */
		} else if (whole) {
			for (i = r->uri_start;
			        i < end && p[i] != '?' && p[i] != '#';)
				i++;
			event_bytes(e, "url.path", p + r->uri_start,
			        i - r->uri_start, EVENT_CAP_DEFAULT);
		}
		if (whole) {
			/* the query for the log: after the first '?' of the
			 * target, whichever nginx parser path saw it */
			size_t q = r->target;
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
	if (r->rl == RL_DONE) {
		char v[16];
		size_t vn = http_dec(v, r->major);
		v[vn++] = '.';
		vn += http_dec(v + vn, r->minor);
		v[vn] = 0;
		event_str(e, "http.version", v);
	}
	if (r->seen & (1u << H_HOST))
		http_span_event(
		        e, "url.domain", p, r, H_HOST, EVENT_CAP_DEFAULT);
	else if (r->host_end > r->host_start)
		event_bytes(e, "url.domain", p + r->host_start,
		        r->host_end - r->host_start, EVENT_CAP_DEFAULT);
	http_span_event(e, "user_agent.original", p, r, H_USER_AGENT,
	        EVENT_CAP_DEFAULT);
	http_span_event(
	        e, "http.request.referrer", p, r, H_REFERER, EVENT_CAP_DEFAULT);
	http_span_event(e, "http.request.mime_type", p, r, H_CONTENT_TYPE,
	        EVENT_CAP_DEFAULT);
	if (r->seen & (1u << H_AUTHORIZATION)) {
		const uint8_t *a = p + r->h[H_AUTHORIZATION].off;
		size_t an = r->h[H_AUTHORIZATION].len, i = 5;
		if (an > 6 && http_caseeq(a, 5, "basic") && a[5] == ' ') {
			while (i < an && a[i] == ' ')
				i++;
			size_t dn = http_b64(a + i, an - i, http_scratch);
			const uint8_t *colon =
			        dn != (size_t)-1 ? memchr(http_scratch, ':', dn)
			                         : NULL;
			if (colon) {
				user = http_scratch;
				ul = (size_t)(colon - http_scratch);
				pass = colon + 1;
				pl = dn - ul - 1;
				event_bytes(e, "user.name", user, ul,
				        EVENT_CAP_DEFAULT);
				event_bytes(e, "lure.auth.password", pass, pl,
				        EVENT_CAP_DEFAULT);
			}
		}
	}
	event_int(e, "http.response.status_code", r->status);
	if (r->line_end) {
		size_t he = r->head_end ? r->hname : LURE_MIN(r->pos, n);
		if (he > r->line_end)
			event_bytes(e, "lure.http.headers", p + r->line_end,
			        he - r->line_end, EVENT_CAP_PAYLOAD);
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
		        good && persona_int("http.auth_basic", 0) && gl == pl &&
		                        memcmp(good, pass, pl) == 0
		                ? "success"
		                : "failure");
		if (r->target && r->uri_end > r->target)
			event_bytes(e, "url.original", p + r->target,
			        r->uri_end - r->target, EVENT_CAP_PAYLOAD);
		event_commit(e);
	}
	http_log_digest(ctx, r, p);
	if (l->body_len)
		http_log_wsse(ctx, r, p, l->body, l->body_len);
	if (r->rl == RL_DONE && r->uri_end > r->target)
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
	return used;
}

/* An error before the request reached a handler: answer, log, close. */
static size_t
http_fail(struct emu_ctx *ctx, struct http_state *st, const uint8_t *p,
        size_t n, int code)
{
	struct http_log l = {0};

	st->r.keepalive = 0;
	http_send_error(ctx, &st->r, p, code, 0);
	l.payload = LURE_MIN(n, EVENT_CAP_PAYLOAD);
	http_log_event(ctx, &st->r, p, n, &l);
	emu_close(ctx);
	st->phase = HTTP_DONE;
	return n;
}

static size_t
http_body(
        struct emu_ctx *ctx, struct http_state *st, const uint8_t *p, size_t n);

/* 200 (or s=) or 304 for a route (o is filled but for status). */
static int
http_send_route(struct emu_ctx *ctx, struct http_req *r, const uint8_t *p,
        struct http_out *o, const struct http_entry *route, int not_modified,
        int cont)
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
	} else if (route->gz && !o->copy && r->major && http_gzip_ok(r, p) &&
	           route->gz->len + 1024 <= emu_space(ctx)) {
		o->kind = "gzip";
		o->len = -1;
		o->chunked = !(r->flags & F_HEAD);
		o->b1 = route->gz->data;
		o->b1n = route->gz->len;
	}
	return http_send(ctx, r, o, cont);
}

/* Route, check credentials and answer: nginx's phases of the Debian site
 * ("try_files $uri $uri/ =404", index, static) plus the options above.
 * body is what is known of the body (NULL before it is read). */
static void
http_answer(struct emu_ctx *ctx, struct http_state *st, const uint8_t *p,
        const uint8_t *body, size_t blen)
{
	struct http_req *r = &st->r;
	const struct http_span *h = r->h;
	unsigned version = r->major * 1000u + r->minor;
	struct http_entry route;
	struct http_out o;
	char etag[64], lm[32];
	size_t el;
	int code = 0, cont = 0, nm, seen = 0;
	int path_ok = http_path_of(r, p) == 0;

	if (r->cl > (uint64_t)persona_int("http.body_max", 1048576))
		code = 413;
	else if (!path_ok || !http_route(http_path, http_path_len, p,
	                             r->method_end, body, blen, &route, &seen))
		code = seen ? 405 : 404;
	if (code) {
		if (code == 413 || r->ck_err)
			r->keepalive = 0;
		if (http_send_error(ctx, r, p, code, 0) < 0)
			st->closing = 1;
		return;
	}
	/* the static handler: "100 Continue" and the body check come first */
	cont = !r->defer && version >= 1001 && (r->seen & (1u << H_EXPECT)) &&
	       http_caseeq(
	               p + h[H_EXPECT].off, h[H_EXPECT].len, "100-continue");
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
		return;
	}
	if (route.wsse) {
		struct http_wsse w;
		if (!http_wsse_parse(body, blen, &w) || !http_wsse_ok(&w)) {
			if (http_send_error_key(ctx, r, p,
			            (const uint8_t *)route.wsse, route.wsse_len,
			            cont) < 0)
				st->closing = 1;
			return;
		}
	}
	if (route.tmpl) {
		long tn = http_template(route.file->data, route.file->len);
		if (tn < 0) {
			if (http_send_error(ctx, r, p, 500, cont) < 0)
				st->closing = 1;
			return;
		}
		o.b1 = (const uint8_t *)http_tmpl_buf;
		o.b1n = (size_t)tn;
		o.flen = o.len = tn;
		o.copy = 1;
	}
	http_chunk_opt(r, &route, &o);
	el = http_etag(etag, sizeof etag, o.mtime, o.flen);
	http_date(lm, o.mtime);
	/* the not-modified filter (static files only) */
	nm = !o.copy && !route.status &&
	     (r->seen &
	             ((1u << H_IF_NONE_MATCH) | (1u << H_IF_MODIFIED_SINCE))) &&
	     (!(r->seen & (1u << H_IF_MODIFIED_SINCE)) ||
	             (h[H_IF_MODIFIED_SINCE].len == 29 &&
	                     memcmp(p + h[H_IF_MODIFIED_SINCE].off, lm, 29) ==
	                             0)) &&
	     (!(r->seen & (1u << H_IF_NONE_MATCH)) ||
	             http_etag_match(p + h[H_IF_NONE_MATCH].off,
	                     h[H_IF_NONE_MATCH].len, etag, el, 1));
	if (r->ck_err) {
		r->keepalive = 0;
		code = 400;
	} else if ((r->seen & (1u << H_IF_MATCH)) &&
	           !http_etag_match(p + h[H_IF_MATCH].off, h[H_IF_MATCH].len,
	                   etag, el, 0)) {
		r->close = 1; /* nginx says keep-alive, then closes */
		code = 412;
	}
	if (code ? http_send_error(ctx, r, p, code, cont) < 0
	         : http_send_route(ctx, r, p, &o, &route, nm, cont) < 0)
		st->closing = 1;
}

/* The head is complete (or an HTTP/0.9 line): nginx's
 * ngx_http_process_request_header(), then the answer now or, with
 * http.answer_after_body, once the body is in (http_body). */
static size_t
http_process(
        struct emu_ctx *ctx, struct http_state *st, const uint8_t *p, size_t n)
{
	struct http_req *r = &st->r;
	const struct http_span *h = r->h;
	unsigned version = r->major * 1000u + r->minor;
	struct http_chunk ck = {0, CK_START};
	size_t olen = 0;
	uint64_t data = 0;
	long kmax;
	int rc = CK_AGAIN;

	if (r->major) {
		if (!(r->seen & (1u << H_HOST)) && version > 1000)
			return http_fail(ctx, st, p, n, 400);
		if (r->seen & (1u << H_CONTENT_LENGTH)) { /* ngx_atoof() */
			const uint8_t *v = p + h[H_CONTENT_LENGTH].off;
			size_t vn = h[H_CONTENT_LENGTH].len;
			if (!vn)
				return http_fail(ctx, st, p, n, 400);
			for (size_t i = 0; i < vn; i++) {
				if (v[i] < '0' || v[i] > '9' ||
				        r->cl > (uint64_t)(INT64_MAX -
				                           (v[i] - '0')) /
				                        10)
					return http_fail(ctx, st, p, n, 400);
				r->cl = r->cl * 10 + (uint64_t)(v[i] - '0');
			}
		}
		if (r->seen & (1u << H_TRANSFER_ENCODING)) {
			if (version < 1001)
				return http_fail(ctx, st, p, n, 400);
			if (!http_caseeq(p + h[H_TRANSFER_ENCODING].off,
			            h[H_TRANSFER_ENCODING].len, "chunked"))
				return http_fail(ctx, st, p, n, 501);
			if (r->seen & (1u << H_CONTENT_LENGTH))
				return http_fail(ctx, st, p, n, 400);
			r->chunked = 1;
		}
		if (r->flags & (F_CONNECT | F_TRACE))
			return http_fail(ctx, st, p, n, 405);
	}
	r->keepalive = r->conn ? r->conn == CONN_KEEP_ALIVE : version > 1000;
	kmax = persona_int("http.keepalive_requests", 1000);
	if (st->requests >= (uint32_t)kmax)
		r->keepalive = 0;
	r->ka_left = (uint16_t)LURE_MIN(kmax - (long)st->requests, 65535);
	if (r->chunked) /* what the body discard finds already read */
		http_parse_chunked(&ck, p + r->head_end, n - r->head_end, &rc,
		        NULL, &olen, 0, &data);
	r->ck_err = rc == CK_ERROR;
	if (persona_int("http.answer_after_body", 0) && r->major &&
	        (r->chunked || r->cl) &&
	        r->cl <= (uint64_t)persona_int("http.body_max", 1048576) &&
	        !r->ck_err) {
		const char *c;
		size_t cn;
		r->defer = 1;
		if (version >= 1001 && (r->seen & (1u << H_EXPECT)) &&
		        http_caseeq(p + h[H_EXPECT].off, h[H_EXPECT].len,
		                "100-continue") &&
		        (c = persona_get("http.continue", &cn)))
			emu_send(ctx, c, cn);
	} else {
		http_answer(ctx, st, p, NULL, 0);
	}
	return http_body(ctx, st, p, n);
}

/* HTTP_HEAD: parse the request line and headers as they arrive. */
static size_t
http_head(
        struct emu_ctx *ctx, struct http_state *st, const uint8_t *p, size_t n)
{
	struct http_req *r = &st->r;
	size_t lim = LURE_MIN(n, HTTP_HEAD_MAX);
	int rc;

	if (r->pos == 0 && r->rl == RL_START) {
		size_t k = 0;
		while (k < n && (p[k] == '\r' || p[k] == '\n'))
			k++;
		if (k)
			return k; /* empty lines before a request are skipped */
	}
	if (r->rl != RL_DONE) {
		rc = http_parse_request_line(r, p, lim);
		if (rc == HTTP_AGAIN)
			return lim < HTTP_HEAD_MAX
			               ? 0
			               : http_fail(ctx, st, p, n, 414);
		st->requests++;
		if (rc >= 400) {
			if (r->rl != RL_DONE)
				r->major = 1; /* not known yet: not HTTP/0.9 */
			return http_fail(ctx, st, p, n, rc);
		}
		if ((r->flags & (F_COMPLEX | F_QUOTED | F_EMPTY_PATH)) &&
		        http_normalise(r, p) < 0)
			return http_fail(ctx, st, p, n, 400);
		if (r->host_end > r->host_start &&
		        http_validate_host(p + r->host_start,
		                r->host_end - r->host_start) < 0)
			return http_fail(ctx, st, p, n, 400);
		if (r->major == 0)
			return http_process(ctx, st, p, n);
	}
	for (;;) {
		rc = http_parse_header_line(r, p, lim);
		if (rc == HTTP_AGAIN)
			return lim < HTTP_HEAD_MAX
			               ? 0
			               : http_fail(ctx, st, p, n, 494);
		if (rc >= 400)
			return http_fail(ctx, st, p, n, rc);
		if (rc == HTTP_HEAD_DONE)
			return http_process(ctx, st, p, n);
		if ((rc = http_header(r, p)) != 0)
			return http_fail(ctx, st, p, n, rc);
	}
}

/* HTTP_BODY: the answer is out; log once the body is in (or the buffer is
 * full, or http.body_wait has passed), then drain the rest. */
static size_t
http_body(
        struct emu_ctx *ctx, struct http_state *st, const uint8_t *p, size_t n)
{
	struct http_req *r = &st->r;
	size_t h = r->head_end ? r->head_end : r->line_end, used = 0;
	struct http_log l = {0};
	struct http_chunk ck = {0, CK_START};
	int rc = CK_AGAIN, done;

	st->phase = HTTP_BODY;
	l.has_body = r->chunked || r->cl > 0;
	if (!l.has_body || r->major == 0) {
		l.has_body = 0;
		http_log_event(ctx, r, p, n, &l);
		return http_next(ctx, st, h, n);
	}
	if (r->chunked) {
		used = http_parse_chunked(&ck, p + h, n - h, &rc, http_body_buf,
		        &l.body_len, sizeof http_body_buf, &l.body_bytes);
		l.body = http_body_buf;
		done = rc != CK_AGAIN;
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
			emu_wake(ctx, persona_int("http.body_wait", 500));
		}
		return 0;
	}
	l.body_cut = !done || rc == CK_ERROR;
	if (rc == CK_ERROR) { /* bad framing: log the raw bytes */
		l.body = p + h;
		l.body_len = LURE_MIN(n - h, EVENT_CAP_PAYLOAD);
		l.body_bytes = n - h;
	}
	if (r->defer) {
		r->ck_err = rc == CK_ERROR;
		http_answer(ctx, st, p, l.body, l.body_len);
		r->defer = 0;
	}
	http_log_event(ctx, r, p, n, &l);
	if (rc == CK_ERROR || st->closing) {
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
	int rc = CK_AGAIN;

	if (st->r.chunked) {
		used = http_parse_chunked(
		        &st->ck, p, n, &rc, NULL, &olen, 0, &data);
	} else {
		used = (size_t)LURE_MIN((uint64_t)n, st->left);
		st->left -= used;
		rc = st->left ? CK_AGAIN : CK_DONE;
	}
	st->drained += used;
	if (rc == CK_ERROR ||
	        st->drained > (uint64_t)persona_int("http.body_max", 1048576)) {
		emu_close(ctx);
		st->phase = HTTP_DONE;
		return n;
	}
	return rc == CK_DONE ? http_next(ctx, st, used, n) : used;
}

static size_t
http_done(
        struct emu_ctx *ctx, struct http_state *st, const uint8_t *p, size_t n)
{
	(void)ctx, (void)st, (void)p;
	return n;
}

typedef size_t (*http_phase_fn)(
        struct emu_ctx *, struct http_state *, const uint8_t *, size_t);

static const http_phase_fn http_phases[HTTP__MAX] = {
        [HTTP_HEAD] = http_head,
        [HTTP_BODY] = http_body,
        [HTTP_DRAIN] = http_drain,
        [HTTP_DONE] = http_done,
};

static size_t
http_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct http_state *st = state;

	if (st->phase >= HTTP__MAX)
		st->phase = HTTP_DONE;
	return http_phases[st->phase](ctx, st, p, n);
}

static void
http_timeout(struct emu_ctx *ctx, void *state)
{
	struct http_state *st = state;

	(void)ctx;
	st->r.waited = 1;
	st->r.waiting = 0;
}

const struct emulator emu_http = {
        .name = "http",
        .transports = EMU_TCP,
        .state_size = sizeof(struct http_state),
        .on_data = http_data,
        .on_timeout = http_timeout,
};
