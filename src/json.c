/* json.c: JSON string escaping and timestamps; pure functions, no I/O. */
#include "json.h"

#include <string.h>
#include <time.h>

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

struct json_escape_result
json_escape(char *out, size_t cap, const uint8_t *in, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	struct json_escape_result r = {0, 0, 0};
	char tmp[8];

	while (r.in_used < n) {
		const uint8_t *p = in + r.in_used;
		size_t ulen = json_utf8_len(p, n - r.in_used);
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
	time_t s = (time_t)(unix_ms / 1000);
	int ms = (int)(unix_ms % 1000);
	struct tm tm;
	size_t k;

	if (ms < 0)
		ms += 1000, s -= 1;
	gmtime_r(&s, &tm);
	k = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	out[k++] = '.';
	out[k++] = (char)('0' + ms / 100);
	out[k++] = (char)('0' + ms / 10 % 10);
	out[k++] = (char)('0' + ms % 10);
	out[k++] = 'Z';
	out[k] = 0;
}
