/* httpparse.c: nginx 1.22's request parsers (see httpparse.h), ported from
 * src/http/ngx_http_parse.c and the handlers of ngx_http_request.c and
 * ngx_http_core_module.c state for state; the nginx function each one
 * follows is named above it. Differences are in the offsets kept (16-bit,
 * into one buffer), not in the verdicts. */
#include <string.h>

#include "httpparse.h"
#include "lure.h"

/* Request-line states, nginx's ngx_http_parse_request_line(). */
enum {
	RL_START = HTTPPARSE_RL_START,
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
	RL_ALMOST_DONE
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

static const uint32_t usual[] = {
        0x00000000,
        0x7fff37d6,
        0xffffffff,
        0x7fffffff,
        0xffffffff,
        0xffffffff,
        0xffffffff,
        0xffffffff,
};
#define HTTP_USUAL(c) (usual[(c) >> 5] & (1U << ((c)&0x1f)))

static const struct {
	const char *name;
	uint8_t unique; /* a second one is a 400 */
} headers[HTTPPARSE_H__MAX] = {
        [HTTPPARSE_H_HOST] = {"host", 1},
        [HTTPPARSE_H_CONNECTION] = {"connection", 0},
        [HTTPPARSE_H_USER_AGENT] = {"user-agent", 0},
        [HTTPPARSE_H_REFERER] = {"referer", 0},
        [HTTPPARSE_H_CONTENT_TYPE] = {"content-type", 0},
        [HTTPPARSE_H_CONTENT_LENGTH] = {"content-length", 1},
        [HTTPPARSE_H_TRANSFER_ENCODING] = {"transfer-encoding", 1},
        [HTTPPARSE_H_EXPECT] = {"expect", 1},
        [HTTPPARSE_H_ACCEPT_ENCODING] = {"accept-encoding", 0},
        [HTTPPARSE_H_VIA] = {"via", 0},
        [HTTPPARSE_H_AUTHORIZATION] = {"authorization", 1},
        [HTTPPARSE_H_IF_MATCH] = {"if-match", 1},
        [HTTPPARSE_H_IF_NONE_MATCH] = {"if-none-match", 1},
        [HTTPPARSE_H_IF_MODIFIED_SINCE] = {"if-modified-since", 1},
        [HTTPPARSE_H_IF_UNMODIFIED_SINCE] = {"if-unmodified-since", 1},
        [HTTPPARSE_H_CONTENT_RANGE] = {"content-range", 1},
        [HTTPPARSE_H_IF_RANGE] = {"if-range", 1},
        [HTTPPARSE_H_RANGE] = {"range", 0},
};

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int
httpparse_caseeq(const uint8_t *s, size_t n, const char *lit)
{
	if (strlen(lit) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != lit[i])
			return 0;
	return 1;
}

/* Case-insensitive search of a lower-case needle in s[0..n). */
static const uint8_t *
find(const uint8_t *s, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	for (size_t i = 0; m <= n && i <= n - m; i++) {
		size_t j = 0;
		while (j < m && lower(s[i + j]) == needle[j])
			j++;
		if (j == m)
			return s + i;
	}
	return NULL;
}

static int
eq(const uint8_t *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

int
httpparse_request_line(struct httpparse_req *r, const uint8_t *p, size_t n)
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
				r->flags |= HTTPPARSE_F_EMPTY_PATH;
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
				r->flags |= HTTPPARSE_F_EMPTY_PATH;
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
				r->flags |= HTTPPARSE_F_COMPLEX;
				st = RL_URI;
				break;
			case '%':
				r->flags |= HTTPPARSE_F_QUOTED;
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
				r->flags |= HTTPPARSE_F_QUOTED;
				st = RL_URI;
				break;
			case '?':
				r->args_start = (uint16_t)(i + 1);
				st = RL_URI;
				break;
			case '#':
				r->flags |= HTTPPARSE_F_COMPLEX;
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
			case '#': r->flags |= HTTPPARSE_F_COMPLEX; break;
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
	return HTTPPARSE_AGAIN;
invalid:
	r->pos = (uint16_t)i;
	return 400;
bad_version:
	r->pos = (uint16_t)i;
	return 505;
done:
	r->pos = r->line_end = (uint16_t)(i + 1);
	r->rl = HTTPPARSE_RL_DONE;
	if (eq(p, r->method_end, "GET"))
		r->flags |= HTTPPARSE_F_GET;
	else if (eq(p, r->method_end, "HEAD"))
		r->flags |= HTTPPARSE_F_HEAD;
	else if (eq(p, r->method_end, "CONNECT"))
		r->flags |= HTTPPARSE_F_CONNECT;
	else if (eq(p, r->method_end, "TRACE"))
		r->flags |= HTTPPARSE_F_TRACE;
	if (r->major == 0 && !(r->flags & HTTPPARSE_F_GET))
		return 400; /* HTTP/0.9 knows only GET */
	return HTTPPARSE_LINE;
}

static int
name_char(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-';
}

int
httpparse_header_line(struct httpparse_req *r, const uint8_t *p, size_t n)
{
	size_t i;
	uint8_t ch;

	for (i = r->pos; i < n; i++) {
		ch = p[i];
		switch (r->hl) {
		case HL_START:
			r->hname = (uint16_t)i;
			r->flags &= (uint8_t)~HTTPPARSE_F_INVALID;
			if (ch == '\r') {
				r->hl = HL_HEADER_ALMOST_DONE;
				break;
			}
			if (ch == '\n')
				goto header_done;
			r->hl = HL_NAME;
			if (name_char(ch))
				break;
			if (ch <= 0x20 || ch == 0x7f || ch == ':')
				goto invalid;
			r->flags |=
			        HTTPPARSE_F_INVALID; /* '_' too: no underscores_in_headers */
			break;
		case HL_NAME:
			if (name_char(ch))
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
			r->flags |= HTTPPARSE_F_INVALID;
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
	return HTTPPARSE_AGAIN;
invalid:
	r->pos = (uint16_t)i;
	return 400;
done:
	r->pos = (uint16_t)(i + 1);
	r->hl = HL_START;
	return HTTPPARSE_LINE;
header_done:
	r->pos = r->head_end = (uint16_t)(i + 1);
	r->hl = HL_START;
	return HTTPPARSE_HEAD_DONE;
}

int
httpparse_header(struct httpparse_req *r, const uint8_t *p, unsigned *rid)
{
	const uint8_t *name = p + r->hname, *val = p + r->hval;
	size_t nl = (size_t)(r->hname_end - r->hname);
	size_t vl = (size_t)(r->hval_end - r->hval);
	unsigned id;

	*rid = HTTPPARSE_H__MAX;
	if (r->flags & HTTPPARSE_F_INVALID)
		return 0; /* ignore_invalid_headers */
	for (id = 0; id < HTTPPARSE_H__MAX; id++)
		if (httpparse_caseeq(name, nl, headers[id].name))
			break;
	if (id == HTTPPARSE_H__MAX)
		return 0;
	if (r->seen & (1u << id)) {
		if (headers[id].unique)
			return 400;
		if (id != HTTPPARSE_H_CONNECTION)
			return 0; /* the first one counts */
	}
	r->seen |= 1u << id;
	r->h[id].off = r->hval;
	r->h[id].len = (uint16_t)vl;
	if (id == HTTPPARSE_H_HOST) {
		long hl = httpparse_host(val, vl);
		if (hl < 0)
			return 400;
		r->h[id].len = (uint16_t)hl;
	} else if (id == HTTPPARSE_H_CONNECTION) {
		if (find(val, vl, "close"))
			r->conn = HTTPPARSE_CONN_CLOSE;
		else if (find(val, vl, "keep-alive"))
			r->conn = HTTPPARSE_CONN_KEEP_ALIVE;
	}
	*rid = id;
	return 0;
}

/* ngx_http_parse_complex_uri(); reads p[uri_end], the byte after the URI */
long
httpparse_uri(const struct httpparse_req *r, const uint8_t *p, uint8_t *out)
{
	enum { S_USUAL, S_SLASH, S_DOT, S_DOT_DOT, S_QUOTED, S_QUOTED2 };
	uint8_t *o = out;
	int state = S_USUAL, quoted_state = S_USUAL;
	uint8_t ch, c, decoded = 0;
	size_t q = r->uri_start;
	long u = 0;

	if (r->flags & HTTPPARSE_F_EMPTY_PATH)
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

/* ngx_http_validate_host() */
long
httpparse_host(const uint8_t *h, size_t n)
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

/* Feed a chunked body; returns bytes used (all of p unless done or bad).
 * Data bytes are counted in *data and copied to out[*olen..cap). */
size_t
httpparse_chunked(struct httpparse_chunk *c, const uint8_t *p, size_t n,
        int *rc, uint8_t *out, size_t *olen, size_t cap, uint64_t *data)
{
	size_t i = 0;
	uint8_t ch, lc;

	*rc = HTTPPARSE_CK_AGAIN;
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
				*rc = HTTPPARSE_CK_DONE;
				return i + 1;
			} else {
				c->state = CK_TRAILER_HEADER;
			}
			break;
		case CK_TRAILER_ALMOST_DONE:
			if (ch != '\n')
				goto invalid;
			*rc = HTTPPARSE_CK_DONE;
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
	*rc = HTTPPARSE_CK_ERROR;
	return i;
}

/* ngx_http_gzip_ok() */
int
httpparse_gzip_ok(const struct httpparse_req *r, const uint8_t *p)
{
	const uint8_t *s = p + r->h[HTTPPARSE_H_ACCEPT_ENCODING].off, *g;
	size_t n = r->h[HTTPPARSE_H_ACCEPT_ENCODING].len, i, j;
	unsigned q = 0, digits = 0;

	if (!(r->seen & (1u << HTTPPARSE_H_ACCEPT_ENCODING)) || n < 4 ||
	        r->major * 1000 + r->minor < 1001 ||
	        (r->seen & (1u << HTTPPARSE_H_VIA)))
		return 0;
	if (n >= 5 && memcmp(s, "gzip,", 5) == 0)
		return 1;
	for (i = 0;;) {
		if (!(g = find(s + i, n - i, "gzip")))
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

/* ngx_http_test_if_match() */
int
httpparse_etag_match(
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

const uint8_t *
httpparse_find(const uint8_t *s, size_t n, const char *lit, size_t m)
{
	for (size_t i = 0; s && m <= n && i <= n - m; i++)
		if (memcmp(s + i, lit, m) == 0)
			return s + i;
	return NULL;
}
