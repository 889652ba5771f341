/* indicators.c: decoding, then three scans of the decoded text: command
 * substitutions (nesting-aware), URLs by scheme, IPv4 dotted quads. Items
 * are split on ';', '&&', '||' and newlines, trimmed and deduplicated. */
#include <string.h>

#include "fmt.h"
#include "indicators.h"
#include "json.h"

size_t
indicators_urldecode(
        const uint8_t *in, size_t n, uint8_t *out, size_t cap, int plus)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < cap; i++) {
		int hi, lo;
		if (in[i] == '%' && i + 2 < n &&
		        (hi = fmt_hexval(in[i + 1])) >= 0 &&
		        (lo = fmt_hexval(in[i + 2])) >= 0) {
			out[k++] = (uint8_t)(hi << 4 | lo);
			i += 2;
		} else if (plus && in[i] == '+') {
			out[k++] = ' ';
		} else {
			out[k++] = in[i];
		}
	}
	return k;
}

/* XML entities in place; returns the new length. */
static size_t
ind_xml(char *s, size_t n)
{
	static const struct {
		const char *name;
		char c;
	} ents[] = {{"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"quot;", '"'},
	        {"apos;", '\''}};
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;
		if (s[i] != '&') {
			s[k++] = s[i];
			continue;
		}
		for (j = 0; j < sizeof ents / sizeof ents[0]; j++) {
			size_t m = strlen(ents[j].name);
			if (n - i - 1 >= m &&
			        memcmp(s + i + 1, ents[j].name, m) == 0)
				break;
		}
		if (j < sizeof ents / sizeof ents[0]) {
			s[k++] = ents[j].c;
			i += strlen(ents[j].name);
			continue;
		}
		if (i + 3 < n && s[i + 1] == '#') {
			size_t q = i + 2;
			int hex = s[q] == 'x' || s[q] == 'X';
			unsigned v = 0, digits = 0;
			if (hex)
				q++;
			for (; q < n && digits < 6; q++, digits++) {
				int d = hex ? fmt_hexval((uint8_t)s[q])
				            : (s[q] >= '0' && s[q] <= '9'
				                              ? s[q] - '0'
				                              : -1);
				if (d < 0)
					break;
				v = v * (hex ? 16 : 10) + (unsigned)d;
			}
			if (digits && q < n && s[q] == ';' && v && v < 0x80) {
				s[k++] = (char)v;
				i = q;
				continue;
			}
		}
		s[k++] = s[i];
	}
	return k;
}

/* Store s[0..n) trimmed, unless empty or already in list. */
static void
ind_add(struct ind_result *r, const char **list, size_t *count, const char *s,
        size_t n)
{
	while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
	                    s[n - 1] == '\n'))
		n--;
	if (!n)
		return;
	for (size_t i = 0; i < *count; i++)
		if (strlen(list[i]) == n && memcmp(list[i], s, n) == 0)
			return;
	if (*count == IND_MAX || r->used + n + 1 > sizeof r->store) {
		r->truncated = 1;
		return;
	}
	memcpy(r->store + r->used, s, n);
	r->store[r->used + n] = 0;
	list[(*count)++] = r->store + r->used;
	r->used += n + 1;
}

/* Split a command list on ; && || and newlines. */
static void
ind_commands(struct ind_result *r, const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		size_t skip = 0;
		if (i == n || s[i] == ';' || s[i] == '\n')
			skip = 1;
		else if (i + 1 < n && ((s[i] == '&' && s[i + 1] == '&') ||
		                              (s[i] == '|' && s[i + 1] == '|')))
			skip = 2;
		if (!skip)
			continue;
		ind_add(r, r->command, &r->ncommand, s + start, i - start);
		i += skip - 1;
		start = i + 1;
	}
}

/* $(...) with nesting, and `...`; returns 1 if any was found. */
static int
ind_substitutions(struct ind_result *r, const char *s, size_t n)
{
	int found = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '$' && i + 1 < n && s[i + 1] == '(') {
			size_t j = i + 2, depth = 1;
			for (; j < n; j++) {
				if (s[j] == '(')
					depth++;
				else if (s[j] == ')' && --depth == 0)
					break;
			}
			ind_commands(r, s + i + 2, j - i - 2);
			found = 1;
			i = j;
		} else if (s[i] == '`') {
			const char *e = memchr(s + i + 1, '`', n - i - 1);
			size_t j = e ? (size_t)(e - s) : n;
			ind_commands(r, s + i + 1, j - i - 1);
			found = 1;
			i = j;
		}
	}
	return found;
}

static int
ind_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
ind_prefix(const char *s, size_t n, const char *p)
{
	size_t m = strlen(p);

	if (n < m)
		return 0;
	for (size_t i = 0; i < m; i++)
		if (ind_lower((uint8_t)s[i]) != p[i])
			return 0;
	return 1;
}

static int
ind_url_end(char c)
{
	return (uint8_t)c <= ' ' || c == '"' || c == '\'' || c == '<' ||
	       c == '>' || c == '`' || c == ';' || c == '|' || c == ')' ||
	       c == '\\' || c == 0x7f;
}

static void
ind_urls(struct ind_result *r, const char *s, size_t n)
{
	static const char *const schemes[] = {
	        "http://", "https://", "ftp://", "tftp://"};

	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof schemes / sizeof schemes[0];
		        k++) {
			size_t m = strlen(schemes[k]), j;
			if (!ind_prefix(s + i, n - i, schemes[k]))
				continue;
			if (i && ((s[i - 1] >= 'a' && s[i - 1] <= 'z') ||
			                 (s[i - 1] >= 'A' && s[i - 1] <= 'Z')))
				continue; /* "xhttp://" */
			for (j = i + m; j < n && !ind_url_end(s[j]); j++)
				;
			if (j > i + m)
				ind_add(r, r->url, &r->nurl, s + i, j - i);
			i = j;
			break;
		}
	}
}

static void
ind_ips(struct ind_result *r, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		int parts = 0;
		if (s[i] < '0' || s[i] > '9' ||
		        (i && ((s[i - 1] >= '0' && s[i - 1] <= '9') ||
		                      s[i - 1] == '.')))
			continue;
		while (parts < 4) {
			unsigned v = 0, d = 0;
			while (j < n && s[j] >= '0' && s[j] <= '9' && d < 4)
				v = v * 10 + (unsigned)(s[j++] - '0'), d++;
			if (!d || d > 3 || v > 255)
				break;
			if (++parts == 4 || j >= n || s[j] != '.')
				break;
			j++;
		}
		if (parts == 4 &&
		        !(j < n && ((s[j] >= '0' && s[j] <= '9') ||
		                           (s[j] == '.' && j + 1 < n &&
		                                   s[j + 1] >= '0' &&
		                                   s[j + 1] <= '9'))))
			ind_add(r, r->ip, &r->nip, s + i, j - i);
		i = j > i ? j - 1 : i;
		while (i + 1 < n && ((s[i + 1] >= '0' && s[i + 1] <= '9') ||
		                            s[i + 1] == '.'))
			i++;
	}
}

/* "x;cmd" or "x|cmd": the text after the first separator. */
static void
ind_semi(struct ind_result *r, const char *s, size_t n)
{
	const char *p = memchr(s, ';', n);
	size_t i;

	if (!p)
		return;
	i = (size_t)(p - s) + 1;
	while (i < n && s[i] == ' ')
		i++;
	if (i < n &&
	        ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '/' || s[i] == '.'))
		ind_commands(r, s + i, n - i);
}

void
indicators_extract(
        const uint8_t *s, size_t n, unsigned flags, struct ind_result *r)
{
	size_t k;

	r->used = r->ncommand = r->nurl = r->nip = 0;
	r->truncated = 0;
	if (flags & IND_URLDECODE) {
		k = indicators_urldecode(
		        s, n, (uint8_t *)r->text, sizeof r->text - 1, 1);
	} else {
		k = n < sizeof r->text - 1 ? n : sizeof r->text - 1;
		memcpy(r->text, s, k);
	}
	if (k < n && !(flags & IND_URLDECODE))
		r->truncated = 1;
	if (flags & IND_XML)
		k = ind_xml(r->text, k);
	for (size_t i = 0; i < k; i++)
		if (!r->text[i]) /* items are C strings */
			r->text[i] = ' ';
	r->text[k] = 0;
	r->text_len = k;
	if (!ind_substitutions(r, r->text, k) && (flags & IND_SEMI))
		ind_semi(r, r->text, k);
	ind_urls(r, r->text, k);
	ind_ips(r, r->text, k);
}

static void
ind_array(
        struct event *e, const char *key, const char *const *list, size_t count)
{
	static char buf[2 * IND_TEXT + 64];
	size_t k = 0;

	if (!count)
		return;
	buf[k++] = '[';
	for (size_t i = 0; i < count; i++) {
		struct json_escape_result er;
		if (k + 8 > sizeof buf)
			break;
		if (i)
			buf[k++] = ',';
		buf[k++] = '"';
		er = json_escape(buf + k, sizeof buf - k - 3,
		        (const uint8_t *)list[i], strlen(list[i]));
		k += er.out_len;
		buf[k++] = '"';
	}
	buf[k++] = ']';
	event_raw(e, key, buf, k);
}

void
indicators_event(struct event *e, const struct ind_result *r)
{
	ind_array(e, "lure.command", r->command, r->ncommand);
	ind_array(e, "lure.indicators.url", r->url, r->nurl);
	ind_array(e, "lure.indicators.ip", r->ip, r->nip);
	if (r->truncated)
		event_bool(e, "lure.truncated", 1);
}
