/* resp.c: Redis requests as networking.c reads them (src/resp.h). */
#include <limits.h>
#include <string.h>

#include "fmt.h"
#include "lure.h"
#include "resp.h"

static uint8_t resp_arg_buf[RESP_SPLIT_MAX]; /* inline words, unescaped */

/* string2ll (util.c): digits, an optional '-', no '+', no leading zero. */
int
resp_ll(const uint8_t *p, size_t n, long long *v)
{
	size_t i = 0;
	int neg = 0;
	unsigned long long u = 0;

	if (n == 0 || n > 20)
		return -1;
	if (n == 1 && p[0] == '0') {
		*v = 0;
		return 0;
	}
	if (p[0] == '-') {
		neg = 1;
		i++;
	}
	if (i >= n || p[i] < '1' || p[i] > '9')
		return -1;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (u > (ULLONG_MAX - 9) / 10)
			return -1;
		u = u * 10 + (unsigned)(p[i] - '0');
	}
	if (neg ? u > (unsigned long long)LLONG_MAX + 1 : u > LLONG_MAX)
		return -1;
	*v = neg ? (long long)(0 - u) : (long long)u;
	return 0;
}

/* strchr from p for c in n bytes: a NUL first hides it. */
const uint8_t *
resp_chr(const uint8_t *p, size_t n, uint8_t c)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == c)
			return p + i;
		if (!p[i])
			return NULL;
	}
	return NULL;
}

int
resp_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static void
resp_word(struct resp_req *r, const uint8_t *p, size_t n)
{
	if (r->kept < RESP_ARGS) {
		r->a[r->kept].p = p;
		r->a[r->kept].n = n;
		r->kept++;
	}
	r->argc++;
}

/* sdssplitargs() over s[0..n) into resp_arg_buf: 0, or -1 (unbalanced). */
static int
resp_split(const uint8_t *s, size_t n, struct resp_req *r)
{
	size_t i = 0, o = 0;

	for (;;) {
		int inq = 0, insq = 0, done = 0;
		size_t start;
		while (i < n && resp_space(s[i]))
			i++;
		if (i >= n)
			return 0;
		start = o;
		while (!done) {
			int c = i < n ? s[i] : 0, c1 = i + 1 < n ? s[i + 1] : 0;
			if (inq) {
				if (c == '\\' && c1 == 'x' && i + 3 < n &&
				        fmt_hexval(s[i + 2]) >= 0 &&
				        fmt_hexval(s[i + 3]) >= 0) {
					resp_arg_buf[o++] =
					        (uint8_t)(fmt_hexval(s[i + 2]) *
					                          16 +
					                  fmt_hexval(s[i + 3]));
					i += 3;
				} else if (c == '\\' && c1) {
					i++;
					resp_arg_buf[o++] =
					        c1 == 'n'   ? '\n'
					        : c1 == 'r' ? '\r'
					        : c1 == 't' ? '\t'
					        : c1 == 'b' ? '\b'
					        : c1 == 'a' ? '\a'
					                    : (uint8_t)c1;
				} else if (c == '"') {
					if (c1 && !resp_space(c1))
						return -1;
					done = 1;
				} else if (!c) {
					return -1;
				} else {
					resp_arg_buf[o++] = (uint8_t)c;
				}
			} else if (insq) {
				if (c == '\\' && c1 == '\'') {
					i++;
					resp_arg_buf[o++] = '\'';
				} else if (c == '\'') {
					if (c1 && !resp_space(c1))
						return -1;
					done = 1;
				} else if (!c) {
					return -1;
				} else {
					resp_arg_buf[o++] = (uint8_t)c;
				}
			} else {
				switch (c) {
				case ' ':
				case '\n':
				case '\r':
				case '\t':
				case 0: done = 1; break;
				case '"': inq = 1; break;
				case '\'': insq = 1; break;
				default: resp_arg_buf[o++] = (uint8_t)c; break;
				}
			}
			if (i < n)
				i++;
		}
		resp_word(r, resp_arg_buf + start, o - start);
	}
}

/* One request from p[0..n): what it is, the bytes it took (*used), the
 * error's reason key and its byte. */
enum resp_parse
resp_parse(const uint8_t *p, size_t n, struct resp_req *r, size_t *used,
        const char **why, uint8_t *got)
{
	const uint8_t *nl;
	long long ll, count;
	size_t pos;

	r->argc = r->kept = r->len2 = 0;
	if (p[0] != '*') {
		size_t len;
		nl = resp_chr(p, n, '\n');
		if (!nl) {
			if (n > RESP_INLINE_MAX)
				return *why = "redis.err_inline", RESP_ERR;
			return n >= RESP_LONG_LINE || memchr(p, 0, n)
			               ? RESP_LONG
			               : RESP_NEED;
		}
		*used = (size_t)(nl - p) + 1;
		len = (size_t)(nl - p);
		if (len && p[len - 1] == '\r')
			len--;
		if (len > sizeof resp_arg_buf)
			return RESP_LONG;
		if (resp_split(p, len, r) < 0)
			return *why = "redis.err_unbalanced", RESP_ERR;
		return r->argc ? RESP_CMD : RESP_EMPTY;
	}
	nl = resp_chr(p, n, '\r');
	if (!nl) {
		if (n > RESP_INLINE_MAX)
			return *why = "redis.err_mbulk_big", RESP_ERR;
		return n >= RESP_LONG_LINE || memchr(p, 0, n) ? RESP_LONG_MBULK
		                                              : RESP_NEED;
	}
	if ((size_t)(nl - p) + 2 > n)
		return RESP_NEED;
	if (resp_ll(p + 1, (size_t)(nl - p) - 1, &count) < 0 || count > INT_MAX)
		return *why = "redis.err_mbulk", RESP_ERR;
	pos = (size_t)(nl - p) + 2;
	if (count <= 0)
		return *used = pos, RESP_EMPTY;
	for (long long k = 0; k < count; k++) {
		nl = resp_chr(p + pos, n - pos, '\r');
		if (!nl)
			return n - pos > RESP_INLINE_MAX
			               ? (*why = "redis.err_bulk_big", RESP_ERR)
			               : RESP_NEED;
		if ((size_t)(nl - p) + 2 > n)
			return RESP_NEED;
		if (p[pos] != '$') {
			*got = p[pos];
			return *why = "redis.err_dollar", RESP_ERR;
		}
		if (resp_ll(p + pos + 1, (size_t)(nl - p) - pos - 1, &ll) < 0 ||
		        ll < 0 || ll > RESP_BULK_MAX)
			return *why = "redis.err_bulk", RESP_ERR;
		pos = (size_t)(nl - p) + 2;
		if ((unsigned long long)ll + 2 > n - pos)
			return RESP_NEED;
		resp_word(r, p + pos, (size_t)ll);
		pos += (size_t)ll + 2;
	}
	*used = pos;
	return RESP_CMD;
}

int
resp_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* stringmatchlen(): * ? [...] [^...] [a-z] and \x, nocase or not. Two
 * rows of state instead of recursion (a pattern of many '*' stays linear). */
int
resp_match(
        const uint8_t *pat, size_t pn, const uint8_t *s, size_t sn, int nocase)
{
	size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;

	while (si < sn) {
		if (pi < pn && pat[pi] == '*') {
			while (pi < pn && pat[pi] == '*')
				pi++;
			if (pi == pn)
				return 1;
			star_p = pi;
			star_s = si;
			continue;
		}
		if (pi < pn) {
			int ok = 0;
			size_t np = pi + 1;
			int c = nocase ? resp_lower(s[si]) : s[si];
			if (pat[pi] == '?') {
				ok = 1;
			} else if (pat[pi] == '[') {
				int not = 0, hit = 0;
				size_t j = pi + 1;
				if (j < pn && pat[j] == '^')
					not = 1, j++;
				while (j < pn && pat[j] != ']') {
					if (pat[j] == '\\' && j + 1 < pn) {
						j++;
						if ((nocase ? resp_lower(pat[j])
						            : pat[j]) == c)
							hit = 1;
					} else if (j + 2 < pn &&
					           pat[j + 1] == '-') {
						int lo = pat[j],
						    hi = pat[j + 2];
						if (lo > hi) {
							int t = lo;
							lo = hi, hi = t;
						}
						if (nocase) {
							lo = resp_lower(lo),
							hi = resp_lower(hi);
						}
						if (c >= lo && c <= hi)
							hit = 1;
						j += 2;
					} else if ((nocase ? resp_lower(pat[j])
					                   : pat[j]) == c) {
						hit = 1;
					}
					j++;
				}
				ok = not ? !hit : hit;
				np = j < pn ? j + 1 : j;
			} else {
				size_t j = pi;
				if (pat[j] == '\\' && j + 1 < pn)
					j++;
				ok = (nocase ? resp_lower(pat[j]) : pat[j]) ==
				     c;
				np = j + 1;
			}
			if (ok) {
				pi = np;
				si++;
				continue;
			}
		}
		if (star_p == (size_t)-1)
			return 0;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < pn && pat[pi] == '*')
		pi++;
	return pi == pn;
}

/* Lua: the first global the sandbox lacks (outside strings and
 * comments), its line; CVE-2022-0543's package.loadlib among them. */
const char *
resp_lua_global(const struct resp_arg *s, int *line)
{
	static const char *const bad[] = {"package", "os", "io", "dofile",
	        "loadfile", "require", "module"};
	const uint8_t *p = s->p;
	size_t n = s->n;

	*line = 1;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == '\n') {
			(*line)++;
		} else if (c == '"' || c == '\'') {
			for (i++; i < n && p[i] != c; i++) {
				if (p[i] == '\\')
					i++;
				else if (p[i] == '\n')
					(*line)++;
			}
		} else if (c == '-' && i + 1 < n && p[i + 1] == '-') {
			while (i + 1 < n && p[i + 1] != '\n')
				i++;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           c == '_') {
			size_t b = i;
			while (i + 1 < n &&
			        ((p[i + 1] >= 'a' && p[i + 1] <= 'z') ||
			                (p[i + 1] >= 'A' && p[i + 1] <= 'Z') ||
			                (p[i + 1] >= '0' && p[i + 1] <= '9') ||
			                p[i + 1] == '_'))
				i++;
			if (b && (p[b - 1] == '.' || p[b - 1] == ':'))
				continue;
			for (size_t k = 0; k < LURE_ARRAY_LEN(bad); k++)
				if (strlen(bad[k]) == i + 1 - b &&
				        !memcmp(bad[k], p + b, i + 1 - b))
					return bad[k];
		}
	}
	return NULL;
}

/* Read a big request's words from p[0..n): the bytes taken (0: a word's
 * header is not all there yet); *why on a protocol error. */
size_t
resp_big_feed(struct resp_big *b, const uint8_t *p, size_t n, const char **why,
        uint8_t *got)
{
	size_t pos = 0;

	while (b->i < b->argc) {
		size_t take, off;
		if (b->left == 0) { /* "$<len>\r\n" */
			const uint8_t *nl = resp_chr(p + pos, n - pos, '\r');
			long long ll;
			if (!nl || (size_t)(nl - p) + 2 > n)
				return pos;
			if (p[pos] != '$') {
				*got = p[pos];
				*why = "redis.err_dollar";
				return pos;
			}
			if (resp_ll(p + pos + 1, (size_t)(nl - p) - pos - 1,
			            &ll) < 0 ||
			        ll < 0 || ll > RESP_BULK_MAX) {
				*why = "redis.err_bulk";
				return pos;
			}
			pos = (size_t)(nl - p) + 2;
			b->len = (uint32_t)ll;
			b->left = (uint32_t)ll + 2;
			if (b->i == 2)
				b->len2 = b->len;
		}
		take = LURE_MIN((size_t)b->left, n - pos);
		off = (size_t)b->len + 2 - b->left; /* into the word */
		if (b->i < RESP_BIG_ARGS)
			for (size_t k = 0; k < take; k++, off++)
				if (off < b->len && off < RESP_BIG_KEEP)
					b->a[b->i][b->kept[b->i]++] =
					        (char)p[pos + k];
		b->left -= (uint32_t)take;
		pos += take;
		if (b->left)
			return pos;
		b->i++;
	}
	b->on = 2;
	return pos;
}

/* A request that outgrows the input: its count read, its words fed. */
size_t
resp_big_start(struct resp_big *b, const uint8_t *p, size_t n, const char **why,
        uint8_t *got)
{
	const uint8_t *nl = resp_chr(p, n, '\r');
	long long count;
	size_t pos;

	if (!nl || (size_t)(nl - p) + 2 > n ||
	        resp_ll(p + 1, (size_t)(nl - p) - 1, &count) < 0 ||
	        count <= 0 || count > INT_MAX)
		return 0;
	pos = (size_t)(nl - p) + 2;
	memset(b, 0, sizeof *b);
	b->on = 1;
	b->argc = (uint32_t)count;
	return pos + resp_big_feed(b, p + pos, n - pos, why, got);
}

int
resp_glob(const struct resp_arg *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->p[i] == '*' || a->p[i] == '?' || a->p[i] == '[')
			return 1;
	return 0;
}

/* Bytes no one types (a TLS ClientHello...) in a line without its end. */
int
resp_binary(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((p[i] < 0x20 && !resp_space(p[i])) || p[i] == 0x7f)
			return 1;
	return 0;
}
