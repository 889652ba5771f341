/* json.c: JSON string escaping and timestamps; pure functions, no I/O. */
#include "json.h"

#include <string.h>

#include "fmt.h"

size_t
json_utf8_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (n >= 2 && (p[1] & 0xc0) == 0x80) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && p[1] >= 0xa0)
			return 0; /* UTF-16 surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		        (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xf4 && p[1] >= 0x90)
			return 0; /* above U+10FFFF */
		return 4;
	}
	return 0;
}

/* None of the 8 bytes at p needs escaping (printable ASCII but '"' and
 * '\\'), tested a word at a time: a byte below 0x20, 0x80 and up, or equal
 * to '"', '\\' or 0x7f sets its top bit in the sum (the usual bit tricks;
 * exact for "any byte"). */
static int
json_plain8(const uint8_t *p)
{
	const uint64_t ones = 0x0101010101010101u, top = 0x8080808080808080u;
	uint64_t v, q, b, d;

	memcpy(&v, p, 8);
	q = v ^ (ones * '"');
	b = v ^ (ones * '\\');
	d = v ^ (ones * 0x7f);
	return !((((v - ones * 0x20) & ~v) | ((q - ones) & ~q) |
	                 ((b - ones) & ~b) | ((d - ones) & ~d) | v) &
	         top);
}

struct json_escape_result
json_escape(char *out, size_t cap, const uint8_t *in, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	struct json_escape_result r = {0, 0, 0};
	char tmp[8];

	while (r.in_used < n) {
		const uint8_t *p = in + r.in_used;
		size_t ulen, run = 0;

		/* a run of printable ASCII needs no escaping: copy it whole */
		while (r.in_used + run + 8 <= n && json_plain8(p + run))
			run += 8;
		while (r.in_used + run < n && p[run] >= 0x20 && p[run] < 0x7f &&
		        p[run] != '"' && p[run] != '\\')
			run++;
		if (run) {
			if (run > cap - r.out_len) {
				run = cap - r.out_len;
				r.truncated = 1;
			}
			memcpy(out + r.out_len, p, run);
			r.out_len += run;
			r.in_used += run;
			if (r.truncated)
				break;
			continue;
		}
		ulen = json_utf8_len(p, n - r.in_used);
		size_t olen, step;
		const char *src;

		if (ulen == 0) {
			tmp[0] = '\\', tmp[1] = '\\', tmp[2] = 'x';
			tmp[3] = hex[p[0] >> 4], tmp[4] = hex[p[0] & 15];
			src = tmp, olen = 5, step = 1;
		} else if (ulen > 1) {
			src = (const char *)p, olen = ulen, step = ulen;
		} else {
			step = 1, src = tmp, olen = 2;
			tmp[0] = '\\';
			switch (p[0]) {
			case '"': tmp[1] = '"'; break;
			case '\\': tmp[1] = '\\'; break;
			case '\n': tmp[1] = 'n'; break;
			case '\r': tmp[1] = 'r'; break;
			case '\t': tmp[1] = 't'; break;
			case '\b': tmp[1] = 'b'; break;
			case '\f': tmp[1] = 'f'; break;
			default:
				if (p[0] < 0x20 || p[0] == 0x7f) {
					memcpy(tmp, "\\u00", 4);
					tmp[4] = hex[p[0] >> 4];
					tmp[5] = hex[p[0] & 15];
					olen = 6;
				} else {
					src = (const char *)p, olen = 1;
				}
			}
		}
		if (r.out_len + olen > cap) {
			r.truncated = 1;
			break;
		}
		memcpy(out + r.out_len, src, olen);
		r.out_len += olen;
		r.in_used += step;
	}
	return r;
}

void
json_time(char out[32], int64_t unix_ms)
{
	/* one date per second: events come in bursts */
	static int64_t cached_s = INT64_MIN;
	static char prefix[24];
	int64_t sec = unix_ms / 1000;
	int ms = (int)(unix_ms % 1000);
	size_t k;

	if (ms < 0)
		ms += 1000, sec -= 1;
	if (sec != cached_s) {
		fmt_utc(prefix, sizeof prefix, sec, 'T');
		cached_s = sec;
	}
	k = strlen(prefix);
	memcpy(out, prefix, k);
	out[k++] = '.';
	out[k++] = (char)('0' + ms / 100);
	out[k++] = (char)('0' + ms / 10 % 10);
	out[k++] = (char)('0' + ms % 10);
	out[k++] = 'Z';
	out[k] = 0;
}

/* A strict RFC 8259 syntax pass (jsmn lets trailing and missing commas
 * through). Bytes >= 0x80 inside strings are checked as UTF-8 too. */
struct syn {
	const char *s;
	size_t n, i;
	int depth;
};

static void
syn_ws(struct syn *y)
{
	while (y->i < y->n && strchr(" \t\r\n", y->s[y->i]) && y->s[y->i])
		y->i++;
}

static int
syn_value(struct syn *y);

static int
syn_string(struct syn *y)
{
	if (y->i >= y->n || y->s[y->i] != '"')
		return -1;
	for (y->i++; y->i < y->n; y->i++) {
		unsigned char c = (unsigned char)y->s[y->i];
		if (c == '"') {
			y->i++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c >= 0x80) {
			size_t l = json_utf8_len(
			        (const uint8_t *)y->s + y->i, y->n - y->i);
			if (!l)
				return -1;
			y->i += l - 1;
			continue;
		}
		if (c == '\\') {
			if (++y->i >= y->n ||
			        !strchr("\"\\/bfnrtu", y->s[y->i]) ||
			        !y->s[y->i])
				return -1;
			if (y->s[y->i] == 'u')
				for (int k = 0; k < 4; k++)
					if (++y->i >= y->n ||
					        !strchr("0123456789abcdefABCDE"
					                "F",
					                y->s[y->i]) ||
					        !y->s[y->i])
						return -1;
		}
	}
	return -1;
}

static int
syn_number(struct syn *y)
{
	size_t start = y->i;

	if (y->i < y->n && y->s[y->i] == '-')
		y->i++;
	if (y->i >= y->n || y->s[y->i] < '0' || y->s[y->i] > '9')
		return -1;
	if (y->s[y->i] == '0')
		y->i++;
	else
		while (y->i < y->n && y->s[y->i] >= '0' && y->s[y->i] <= '9')
			y->i++;
	if (y->i < y->n && y->s[y->i] == '.') {
		if (++y->i >= y->n || y->s[y->i] < '0' || y->s[y->i] > '9')
			return -1;
		while (y->i < y->n && y->s[y->i] >= '0' && y->s[y->i] <= '9')
			y->i++;
	}
	if (y->i < y->n && (y->s[y->i] == 'e' || y->s[y->i] == 'E')) {
		y->i++;
		if (y->i < y->n && (y->s[y->i] == '+' || y->s[y->i] == '-'))
			y->i++;
		if (y->i >= y->n || y->s[y->i] < '0' || y->s[y->i] > '9')
			return -1;
		while (y->i < y->n && y->s[y->i] >= '0' && y->s[y->i] <= '9')
			y->i++;
	}
	return y->i > start ? 0 : -1;
}

static int
syn_container(struct syn *y, char close)
{
	if (++y->depth > 32)
		return -1;
	y->i++;
	syn_ws(y);
	if (y->i < y->n && y->s[y->i] == close) {
		y->i++;
		y->depth--;
		return 0;
	}
	for (;;) {
		syn_ws(y);
		if (close == '}') {
			if (syn_string(y) < 0)
				return -1;
			syn_ws(y);
			if (y->i >= y->n || y->s[y->i] != ':')
				return -1;
			y->i++;
			syn_ws(y);
		}
		if (syn_value(y) < 0)
			return -1;
		syn_ws(y);
		if (y->i < y->n && y->s[y->i] == ',') {
			y->i++;
			continue;
		}
		if (y->i < y->n && y->s[y->i] == close) {
			y->i++;
			y->depth--;
			return 0;
		}
		return -1;
	}
}

static int
syn_value(struct syn *y)
{
	static const char *const lit[] = {"true", "false", "null"};

	if (y->i >= y->n)
		return -1;
	switch (y->s[y->i]) {
	case '{': return syn_container(y, '}');
	case '[': return syn_container(y, ']');
	case '"': return syn_string(y);
	}
	for (size_t k = 0; k < 3; k++) {
		size_t l = strlen(lit[k]);
		if (y->n - y->i >= l && memcmp(y->s + y->i, lit[k], l) == 0) {
			y->i += l;
			return 0;
		}
	}
	return syn_number(y);
}

long
json_check(const char *s, size_t n)
{
	struct syn y = {s, n, 0, 0};

	syn_ws(&y);
	if (syn_value(&y) == 0) {
		syn_ws(&y);
		if (y.i == n)
			return -1;
	}
	return (long)y.i;
}
