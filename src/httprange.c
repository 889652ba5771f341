/* httprange.c: nginx's range filter (ngx_http_range_filter_module) on a
 * static answer: the Range header parsed as ngx_http_range_parse does, the
 * Content-Range value, and the multipart/byteranges body of several
 * ranges. Used by emu/http.c (persona key http.ranges). */
#include <stdint.h>
#include <string.h>

#include "fmt.h"
#include "httpparse.h"
#include "httprange.h"

size_t
httprange_content_range(char *out, int64_t s, int64_t e, int64_t len)
{
	size_t k = 6;

	memcpy(out, "bytes ", 6);
	if (s < 0) {
		out[k++] = '*';
	} else {
		k += fmt_dec(out + k, (uint64_t)s);
		out[k++] = '-';
		k += fmt_dec(out + k, (uint64_t)e);
	}
	out[k++] = '/';
	return k + fmt_dec(out + k, (uint64_t)len);
}

/* ngx_http_range_parse on a static 200 of len
 * bytes whose ETag and Last-Modified are etag and lm: 0 (no range: the
 * whole file, Accept-Ranges), 206 with [*start, *end) (one range), 416 (not
 * satisfiable), or 2 (several ranges: multipart/byteranges, not modelled). */
int
httprange_parse(const struct httpparse_req *q, const uint8_t *p, int64_t len,
        const char *etag, size_t el, const char *lm, int64_t (*rg)[2],
        size_t *count)
{
	const struct httpparse_span *h = q->h;
	const uint8_t *v = p + h[HTTPPARSE_H_RANGE].off;
	size_t n = h[HTTPPARSE_H_RANGE].len, i = 6;
	int64_t size = 0, cut = INT64_MAX / 10;

	*count = 0;
	if (!(q->seen & (1u << HTTPPARSE_H_RANGE)) || n < 7 ||
	        !httpparse_caseeq(v, 6, "bytes="))
		return 0;
	if (q->seen & (1u << HTTPPARSE_H_IF_RANGE)) {
		const uint8_t *ir = p + h[HTTPPARSE_H_IF_RANGE].off;
		size_t irn = h[HTTPPARSE_H_IF_RANGE].len;
		if (irn >= 2 && ir[irn - 1] == '"') {
			if (irn != el || memcmp(ir, etag, el) != 0)
				return 0;
		} else if (irn != 29 || memcmp(ir, lm, 29) != 0) {
			return 0; /* nginx parses the date: compared as text */
		}
	}
	for (;;) {
		int64_t s = 0, e = 0;
		int suffix = 0;
		while (i < n && v[i] == ' ')
			i++;
		if (i < n && v[i] == '-') {
			suffix = 1;
			i++;
		} else {
			if (i == n || v[i] < '0' || v[i] > '9')
				return 416;
			while (i < n && v[i] >= '0' && v[i] <= '9') {
				if (s >= cut && (s > cut || v[i] - '0' > 7))
					return 416;
				s = s * 10 + (v[i++] - '0');
			}
			while (i < n && v[i] == ' ')
				i++;
			if (i == n || v[i++] != '-')
				return 416;
			while (i < n && v[i] == ' ')
				i++;
			if (i == n || v[i] == ',') {
				e = len;
				goto found;
			}
		}
		if (i == n || v[i] < '0' || v[i] > '9')
			return 416;
		while (i < n && v[i] >= '0' && v[i] <= '9') {
			if (e >= cut && (e > cut || v[i] - '0' > 7))
				return 416;
			e = e * 10 + (v[i++] - '0');
		}
		while (i < n && v[i] == ' ')
			i++;
		if (i < n && v[i] != ',')
			return 416;
		if (suffix) {
			s = e < len ? len - e : 0;
			e = len - 1;
		}
		e = e >= len ? len : e + 1;
	found:
		if (s < e) {
			if (*count < HTTPRANGE_MAX) {
				rg[*count][0] = s;
				rg[*count][1] = e;
			}
			++*count;
			if (size > INT64_MAX - (e - s))
				return 416;
			size += e - s;
		} else if (s == 0) {
			return 0;
		}
		if (i == n || v[i++] != ',')
			break;
	}
	if (!*count)
		return 416;
	if (size > len || *count > HTTPRANGE_MAX)
		return 0; /* more than HTTPRANGE_MAX: whole, nginx sends them */
	return *count == 1 ? 206 : 2;
}

/* Several ranges: nginx's multipart/byteranges body into out and
 * its Content-Type into type; the body's length, or -1 when it does not
 * fit. The boundary is nginx's temp-file counter (ngx_next_temp_number),
 * counted here per process. */
long
httprange_multipart(uint8_t *out, size_t cap, const uint8_t *f, int64_t len,
        const char *t, size_t tl, const int64_t (*rg)[2], size_t count,
        char *type, size_t tcap)
{
	static uint64_t counter;
	char b[24];
	size_t k = 0, bl;
	uint64_t v = ++counter;

	for (bl = 20; bl-- > 0; v /= 10)
		b[bl] = (char)('0' + v % 10);
	if (tl + 52 > tcap)
		return -1;
	memcpy(type, "multipart/byteranges; boundary=", 31);
	memcpy(type + 31, b, 20);
	type[51] = 0;
	for (size_t i = 0; i <= count; i++) {
		size_t dn = i < count ? (size_t)(rg[i][1] - rg[i][0]) : 0;
		if (k + 4 + 20 + 16 + tl + 23 + 3 * 20 + 7 + dn > cap)
			return -1;
		memcpy(out + k, "\r\n--", 4);
		memcpy(out + k + 4, b, 20);
		k += 24;
		if (i == count) {
			memcpy(out + k, "--\r\n", 4);
			return (long)(k + 4);
		}
		memcpy(out + k, "\r\nContent-Type: ", 16);
		memcpy(out + k + 16, t, tl);
		k += 16 + tl;
		memcpy(out + k, "\r\nContent-Range: bytes ", 23);
		k += 23;
		k += fmt_dec((char *)out + k, (uint64_t)rg[i][0]);
		out[k++] = '-';
		k += fmt_dec((char *)out + k, (uint64_t)rg[i][1] - 1);
		out[k++] = '/';
		k += fmt_dec((char *)out + k, (uint64_t)len);
		memcpy(out + k, "\r\n\r\n", 4);
		k += 4;
		memcpy(out + k, f + rg[i][0], dn);
		k += dn;
	}
	return -1;
}
