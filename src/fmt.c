/* fmt.c: snprintf and fprintf for the conversions fmt.h lists, written from
 * C11 7.21.6.1. One formatter writes into a buffer; the string functions
 * stop storing at its end (and keep counting), the FILE functions hand the
 * full buffer to fwrite and go on. Also inet_ntop and a UTC date, whose
 * libc versions call snprintf. Compared with glibc's and musl's snprintf,
 * inet_ntop, gmtime_r + strftime by test/unit/test_fmt.c. */
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "fmt.h"

struct out {
	char *buf;
	size_t cap; /* bytes buf can take (the string's minus its NUL) */
	size_t len; /* bytes in buf */
	size_t total; /* bytes produced */
	FILE *f; /* NULL: a string, truncated at cap */
};

static void
put(struct out *o, const char *s, size_t n)
{
	o->total += n;
	while (n) {
		if (o->len == o->cap) {
			if (!o->f)
				return;
			fwrite(o->buf, 1, o->len, o->f);
			o->len = 0;
		}
		size_t k = o->cap - o->len < n ? o->cap - o->len : n;
		memcpy(o->buf + o->len, s, k);
		o->len += k, s += k, n -= k;
	}
}

static void
pad(struct out *o, char c, size_t n)
{
	static const char zeros[16] = "0000000000000000";
	static const char spaces[16] = "                ";

	while (n) {
		size_t k = n < 16 ? n : 16;
		put(o, c == '0' ? zeros : spaces, k);
		n -= k;
	}
}

/* One field: prefix (a sign), zero padding (precision or the '0' flag),
 * body, and the width's spaces on the left or (flag '-') the right. */
static void
field(struct out *o, const char *sign, size_t slen, size_t zeros,
        const char *body, size_t blen, size_t width, int left)
{
	size_t n = slen + zeros + blen;
	size_t sp = width > n ? width - n : 0;

	if (!left)
		pad(o, ' ', sp);
	put(o, sign, slen);
	pad(o, '0', zeros);
	put(o, body, blen);
	if (left)
		pad(o, ' ', sp);
}

static void
format(struct out *o, const char *fmt, va_list ap)
{
	static const char hex[2][16] = {"0123456789abcdef", "0123456789ABCDEF"};

	while (*fmt) {
		const char *p = strchr(fmt, '%');
		if (!p) {
			put(o, fmt, strlen(fmt));
			return;
		}
		put(o, fmt, (size_t)(p - fmt));
		const char *spec = p++;
		int left = 0, zero = 0, prec = -1, lng = 0;
		size_t width = 0;
		for (;; p++) {
			if (*p == '-')
				left = 1;
			else if (*p == '0')
				zero = 1;
			else
				break;
		}
		if (*p == '*') {
			int w = va_arg(ap, int);
			if (w < 0)
				left = 1, w = -w;
			width = (size_t)w, p++;
		} else
			while (*p >= '0' && *p <= '9')
				width = width * 10 + (size_t)(*p++ - '0');
		if (*p == '.') {
			p++, prec = 0;
			if (*p == '*') {
				prec = va_arg(ap, int), p++;
				if (prec < 0)
					prec = -1;
			} else
				while (*p >= '0' && *p <= '9')
					prec = prec * 10 + (*p++ - '0');
		}
		/* lng: -2 hh, -1 h, 0 int, 1 long, 2 long long, 3 size_t,
		 * 4 intmax_t, 5 ptrdiff_t */
		if (*p == 'h')
			lng = *++p == 'h' ? (p++, -2) : -1;
		else if (*p == 'l')
			lng = *++p == 'l' ? (p++, 2) : 1;
		else if (*p == 'z' || *p == 'j' || *p == 't')
			lng = *p == 'z' ? 3 : *p == 'j' ? 4 : 5, p++;
		char c = *p++;
		char digits[24], ch;
		const char *s;
		size_t n;
		unsigned long long u;
		int neg = 0;
		switch (c) {
		case '%': put(o, "%", 1); break;
		case 'c':
			ch = (char)va_arg(ap, int);
			field(o, "", 0, 0, &ch, 1, width, left);
			break;
		case 's':
			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			n = prec < 0 ? strlen(s) : strnlen(s, (size_t)prec);
			field(o, "", 0, 0, s, n, width, left);
			break;
		case 'd':
		case 'i': {
			long long v;
			switch (lng) {
			case 1: v = va_arg(ap, long); break;
			case 2: v = va_arg(ap, long long); break;
			case 3: v = va_arg(ap, ssize_t); break;
			case 4: v = va_arg(ap, intmax_t); break;
			case 5: v = va_arg(ap, ptrdiff_t); break;
			default:
				v = va_arg(ap, int);
				v = lng == -2   ? (signed char)v
				    : lng == -1 ? (short)v
				                : v;
			}
			neg = v < 0;
			u = neg ? 0 - (unsigned long long)v
			        : (unsigned long long)v;
			goto number;
		}
		case 'u':
		case 'x':
		case 'X':
			switch (lng) {
			case 1: u = va_arg(ap, unsigned long); break;
			case 2: u = va_arg(ap, unsigned long long); break;
			case 3: u = va_arg(ap, size_t); break;
			case 4: u = va_arg(ap, uintmax_t); break;
			case 5:
				u = (unsigned long long)va_arg(ap, ptrdiff_t);
				break;
			default:
				u = va_arg(ap, unsigned);
				u = lng == -2   ? (unsigned char)u
				    : lng == -1 ? (unsigned short)u
				                : u;
			}
		number : {
			unsigned base = c == 'x' || c == 'X' ? 16 : 10;
			char *d = digits + sizeof digits;
			for (; u; u /= base)
				*--d = hex[c == 'X'][u % base];
			if (prec < 0 && d == digits + sizeof digits)
				*--d = '0';
			n = (size_t)(digits + sizeof digits - d);
			size_t z = 0, sl = neg ? 1 : 0;
			if (prec >= 0 && (size_t)prec > n)
				z = (size_t)prec - n;
			else if (prec < 0 && zero && !left && width > n + sl)
				z = width - n - sl;
			field(o, "-", sl, z, d, n, width, left);
			break;
		}
		default: /* not supported: copied as it is */
			if (!c)
				p--;
			put(o, spec, (size_t)(p - spec));
		}
		fmt = p;
	}
}

int
fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size ? size - 1 : 0, 0, 0, NULL};

	format(&o, fmt, ap);
	if (size)
		buf[o.len] = '\0';
	return o.total > INT_MAX ? -1 : (int)o.total;
}

int
fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int
fmt_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	char b[256];
	struct out o = {b, sizeof b, 0, 0, f};

	format(&o, fmt, ap);
	fwrite(b, 1, o.len, f);
	return o.total > INT_MAX ? -1 : (int)o.total;
}

int
fmt_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = fmt_vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

const char *
fmt_ntop(int af, const void *src, char *dst, size_t cap)
{
	const unsigned char *a = src;
	unsigned w[8];
	char b[64];
	size_t n, best = 0, max = 2;

	if (af == AF_INET) { /* cut to fit, as musl's */
		n = (size_t)fmt_snprintf(
		        dst, cap, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		return n < cap ? dst : NULL;
	}
	if (af != AF_INET6)
		return NULL;
	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	n = (size_t)fmt_snprintf(b, sizeof b, "%x:%x:%x:%x:%x:%x:", w[0], w[1],
	        w[2], w[3], w[4], w[5]);
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\377\377", 12))
		n += (size_t)fmt_snprintf(
		        b + n, sizeof b - n, "%x:%x", w[6], w[7]);
	else
		n += (size_t)fmt_snprintf(b + n, sizeof b - n, "%u.%u.%u.%u",
		        a[12], a[13], a[14], a[15]);
	/* the longest /(^0|:)[:0]{2,}/ becomes "::" (musl's rule) */
	for (size_t i = 0; i < n; i++) {
		if (i && b[i] != ':')
			continue;
		size_t j = strspn(b + i, ":0");
		if (j > max)
			best = i, max = j;
	}
	if (max > 3) {
		b[best] = b[best + 1] = ':';
		memmove(b + best + 2, b + best + max, n - best - max + 1);
		n -= max - 2;
	}
	if (n >= cap)
		return NULL;
	memcpy(dst, b, n + 1);
	return dst;
}

int
fmt_utc(char *out, size_t cap, int64_t sec, char sep)
{
	/* days to the civil date (H. Hinnant's days_from_civil inverse) */
	int64_t days = sec / 86400, rem = sec % 86400;
	if (rem < 0)
		rem += 86400, days--;
	days += 719468; /* from 0000-03-01 */
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	long long y = (long long)yoe + era * 400 + (m <= 2);

	return fmt_snprintf(out, cap, "%04lld-%02u-%02u%c%02u:%02u:%02u", y, m,
	        d, sep, (unsigned)rem / 3600, (unsigned)rem / 60 % 60,
	        (unsigned)rem % 60);
}

size_t
fmt_dec(char *out, uint64_t v)
{
	char t[20];
	size_t n = 0, k = 0;

	do
		t[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		out[k++] = t[--n];
	return k;
}

size_t
fmt_hex(char *out, uint64_t v)
{
	char t[16];
	size_t n = 0, k = 0;

	do
		t[n++] = "0123456789abcdef"[v & 15];
	while (v >>= 4);
	while (n)
		out[k++] = t[--n];
	return k;
}
