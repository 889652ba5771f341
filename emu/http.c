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
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "event.h"
#include "lure.h"
#include "persona.h"

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
	int64_t days = t / 86400, s = t % 86400, z, era, doe, yoe, doy, mp;
	int64_t y, m, d;

	if (s < 0)
		s += 86400, days--;
	/* civil_from_days (H. Hinnant) */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
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
				v = r->keepalive ? "keep-alive" : "close";
				vn = strlen(v);
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
		if (o->b2 && emu_send(ctx, o->b1, o->b1n) < 0)
			return -1;
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
	return o->b1n ? emu_send_const(ctx, o->b1, o->b1n) : 0;
}

/* Look up http.<table> "code file [gz=] [padgz=] status..." or a route;
 * key is the first word to match. */
struct http_entry {
	const struct persona_file *file, *gz, *padgz;
	const char *rest; /* status text or content type */
	size_t rest_len;
};

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
		if (!http_word(s, n, &i, &w, &wl))
			return 0;
		e->file = http_file(w, wl);
		while (http_word(s, n, &i, &w, &wl)) {
			if (wl > 3 && memcmp(w, "gz=", 3) == 0) {
				e->gz = http_file(w + 3, wl - 3);
			} else if (wl > 6 && memcmp(w, "padgz=", 6) == 0) {
				e->padgz = http_file(w + 6, wl - 6);
			} else {
				e->rest = w;
				e->rest_len = (size_t)(s + n - w);
				break;
			}
		}
		return e->file != NULL;
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

/* An error page, nginx's special response; 0 or -1 (nothing fitted). */
static int
http_send_error(struct emu_ctx *ctx, struct http_req *r, const uint8_t *p,
        int code, int cont)
{
	struct http_out o;
	struct http_entry e;
	const struct persona_file *pad = NULL, *z;
	uint8_t key[3];
	const char *pf;
	size_t pn;

	key[0] = (uint8_t)('0' + code / 100 % 10);
	key[1] = (uint8_t)('0' + code / 10 % 10);
	key[2] = (uint8_t)('0' + code % 10);
	r->status = (uint16_t)code;
	if (!http_entry("http.error", key, 3, &e) &&
	        !http_entry("http.error", (const uint8_t *)"400", 3, &e))
		return -1;
	memset(&o, 0, sizeof o);
	o.kind = "error";
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
	o.len = (int64_t)(o.b1n + o.b2n);
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
		e = emu_event(ctx, "login");
		event_bytes(e, "user.name", user, ul, EVENT_CAP_DEFAULT);
		event_bytes(
		        e, "lure.auth.password", pass, pl, EVENT_CAP_DEFAULT);
		event_str(e, "event.outcome", "failure");
		if (r->target && r->uri_end > r->target)
			event_bytes(e, "url.original", p + r->target,
			        r->uri_end - r->target, EVENT_CAP_PAYLOAD);
		event_commit(e);
	}
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

/* 200 or 304 for a route (o is filled but for status and kind). */
static int
http_send_route(struct emu_ctx *ctx, struct http_req *r, const uint8_t *p,
        struct http_out *o, const struct http_entry *route, int not_modified,
        int cont)
{
	const struct persona_kv *kv;
	const char *code = not_modified ? "304" : "200";
	size_t it = 0;

	o->status = code;
	o->status_len = 3;
	while ((kv = persona_next("http.status", &it)))
		if (kv->len > 3 && memcmp(kv->val, code, 3) == 0) {
			o->status = kv->val;
			o->status_len = kv->len;
			break;
		}
	r->status = not_modified ? 304 : 200;
	if (not_modified) {
		o->kind = "304";
		o->len = -1;
		o->type = NULL;
		o->b1n = 0;
	} else if (route->gz && r->major && http_gzip_ok(r, p) &&
	           route->gz->len + 1024 <= emu_space(ctx)) {
		o->kind = "gzip";
		o->len = -1;
		o->chunked = !(r->flags & F_HEAD);
		o->b1 = route->gz->data;
		o->b1n = route->gz->len;
	}
	return http_send(ctx, r, o, cont);
}

/* The head is complete (or an HTTP/0.9 line): nginx's request processing,
 * ngx_http_process_request_header() then the phases of the Debian site
 * ("try_files $uri $uri/ =404", index, static). */
static size_t
http_process(
        struct emu_ctx *ctx, struct http_state *st, const uint8_t *p, size_t n)
{
	struct http_req *r = &st->r;
	const struct http_span *h = r->h;
	unsigned version = r->major * 1000u + r->minor;
	struct http_entry route;
	struct http_chunk ck = {0, CK_START};
	struct http_out o;
	char etag[64], lm[32];
	size_t el, olen = 0;
	uint64_t data = 0;
	long plen;
	int code = 0, rc = CK_AGAIN, cont = 0, nm;

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
	if (st->requests >=
	        (uint32_t)persona_int("http.keepalive_requests", 1000))
		r->keepalive = 0;
	if (r->chunked) /* what the body discard finds already read */
		http_parse_chunked(&ck, p + r->head_end, n - r->head_end, &rc,
		        NULL, &olen, 0, &data);
	plen = (r->flags & (F_COMPLEX | F_QUOTED | F_EMPTY_PATH))
	               ? http_normalise(r, p)
	               : -2;
	if (plen == -2) {
		plen = (long)((r->args_start ? r->args_start - 1u
		                             : r->uri_end) -
		              r->uri_start);
		memcpy(http_scratch, p + r->uri_start, (size_t)plen);
	}
	if (r->cl > (uint64_t)persona_int("http.body_max", 1048576))
		code = 413;
	else if (plen < 0 ||
	         !http_entry("http.route", http_scratch, (size_t)plen, &route))
		code = 404;
	else if (!(r->flags & (F_GET | F_HEAD)))
		code = 405;
	if (code) {
		if (code == 413 || rc == CK_ERROR)
			r->keepalive = 0;
		if (http_send_error(ctx, r, p, code, 0) < 0)
			st->closing = 1;
		return http_body(ctx, st, p, n);
	}
	/* the static handler: "100 Continue" and the body check come first */
	cont = version >= 1001 && (r->seen & (1u << H_EXPECT)) &&
	       http_caseeq(
	               p + h[H_EXPECT].off, h[H_EXPECT].len, "100-continue");
	memset(&o, 0, sizeof o);
	o.kind = "file";
	o.type = route.rest;
	o.type_len = route.rest_len;
	o.mtime = http_mtime();
	o.flen = o.len = (int64_t)route.file->len;
	o.b1 = route.file->data;
	o.b1n = route.file->len;
	el = http_etag(etag, sizeof etag, o.mtime, o.flen);
	http_date(lm, o.mtime);
	/* the not-modified filter */
	nm = (r->seen &
	             ((1u << H_IF_NONE_MATCH) | (1u << H_IF_MODIFIED_SINCE))) &&
	     (!(r->seen & (1u << H_IF_MODIFIED_SINCE)) ||
	             (h[H_IF_MODIFIED_SINCE].len == 29 &&
	                     memcmp(p + h[H_IF_MODIFIED_SINCE].off, lm, 29) ==
	                             0)) &&
	     (!(r->seen & (1u << H_IF_NONE_MATCH)) ||
	             http_etag_match(p + h[H_IF_NONE_MATCH].off,
	                     h[H_IF_NONE_MATCH].len, etag, el, 1));
	if (rc == CK_ERROR) {
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
