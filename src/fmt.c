/* fmt.c: snprintf and dprintf for the conversions fmt.h lists, written from
 * C11 7.21.6.1. One formatter writes into a buffer; the string functions
 * stop storing at its end (and keep counting), the descriptor functions
 * write(2) the full buffer and go on. Also inet_ntop, gmtime_r and a UTC
 * date, strtoll and strstr, whose musl versions bring time zone code, the
 * FILE machinery (strtol reads through a fake FILE) or 0.9 KB of two-way
 * search. Compared with glibc's and musl's snprintf, inet_ntop, gmtime_r +
 * strftime, strtol and strstr by test/unit/test_fmt.c. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"

struct out {
	char *buf;
	size_t cap; /* bytes buf can take (the string's minus its NUL) */
	size_t len; /* bytes in buf */
	size_t total; /* bytes produced */
	int fd; /* -1: a string, truncated at cap */
};

/* write(2) all of p[0..n), retrying short writes and EINTR; a failure
 * drops the rest (as stdio's unbuffered stderr would). */
static void
flush(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w, n -= (size_t)w;
	}
}

static void
put(struct out *o, const char *s, size_t n)
{
	o->total += n;
	while (n) {
		if (o->len == o->cap) {
			if (o->fd < 0)
				return;
			flush(o->fd, o->buf, o->len);
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
	struct out o = {buf, size ? size - 1 : 0, 0, 0, -1};

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
fmt_vdprintf(int fd, const char *fmt, va_list ap)
{
	char b[256];
	struct out o = {b, sizeof b, 0, 0, fd};
	int saved = errno;

	format(&o, fmt, ap);
	flush(fd, b, o.len);
	errno = saved;
	return o.total > INT_MAX ? -1 : (int)o.total;
}

int
fmt_dprintf(int fd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = fmt_vdprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}

const char *
fmt_ntop(int af, const void *src, char *dst, size_t cap)
{
	const unsigned char *a = src;
	unsigned w[8];
	char b[64];
	size_t n, k, best = 0, max = 2;

	if (af == AF_INET) { /* every accept asks: no format string */
		n = 0;
		for (int i = 0; i < 4; i++) {
			n += fmt_dec(b + n, a[i]);
			b[n++] = '.';
		}
		if (!cap)
			return NULL;
		n--; /* the last '.' */
		k = n < cap ? n : cap - 1; /* cut to fit, as musl's */
		memcpy(dst, b, k);
		dst[k] = 0;
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

long
fmt_days_from_civil(long y, long m, long d)
{
	long era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

void
fmt_civil_from_days(long z, long *y, long *m, long *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

struct tm *
fmt_gmtime(int64_t sec, struct tm *tm)
{
	int64_t days = sec / 86400, rem = sec % 86400;
	long y, m, d;

	if (rem < 0)
		rem += 86400, days--;
	if (days > LONG_MAX / 2 || days < LONG_MIN / 2)
		return NULL;
	fmt_civil_from_days((long)days, &y, &m, &d);
	if (y - 1900 > INT_MAX || y - 1900 < INT_MIN)
		return NULL;
	memset(tm, 0, sizeof *tm);
	tm->tm_year = (int)(y - 1900);
	tm->tm_mon = (int)m - 1;
	tm->tm_mday = (int)d;
	tm->tm_hour = (int)(rem / 3600);
	tm->tm_min = (int)(rem / 60 % 60);
	tm->tm_sec = (int)(rem % 60);
	tm->tm_wday = (int)(((days + 4) % 7 + 7) % 7); /* 1970-01-01: Thu */
	tm->tm_yday = (int)(days - fmt_days_from_civil(y, 1, 1));
	return tm;
}

int
fmt_utc(char *out, size_t cap, int64_t sec, char sep)
{
	struct tm tm;

	if (!fmt_gmtime(sec, &tm))
		return fmt_snprintf(out, cap, "?");
	return fmt_snprintf(out, cap, "%04lld-%02d-%02d%c%02d:%02d:%02d",
	        (long long)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, sep,
	        tm.tm_hour, tm.tm_min, tm.tm_sec);
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

long long
fmt_strtoll(const char *s, char **end, int base)
{
	const char *p = s;
	unsigned long long v = 0, lim;
	int neg = 0, any = 0, over = 0;

	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (base == 16 && p[0] == '0' && (p[1] | 0x20) == 'x' &&
	        ((p[2] >= '0' && p[2] <= '9') ||
	                ((p[2] | 0x20) >= 'a' && (p[2] | 0x20) <= 'f')))
		p += 2;
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	for (;; p++, any = 1) {
		unsigned c = (unsigned char)*p, dv;
		if (c >= '0' && c <= '9')
			dv = c - '0';
		else if (base == 16 && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			dv = (c | 0x20) - 'a' + 10;
		else
			break;
		if (v > (lim - dv) / (unsigned)base)
			over = 1;
		else
			v = v * (unsigned)base + dv;
	}
	if (end)
		*end = (char *)(any ? p : s);
	if (over) {
		errno = ERANGE;
		return neg ? LLONG_MIN : LLONG_MAX;
	}
	return neg ? (long long)(0 - v) : (long long)v;
}

int
fmt_caseeq(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		unsigned x = (unsigned char)*a, y = (unsigned char)*b;
		x |= x - 'A' < 26 ? 0x20 : 0;
		y |= y - 'A' < 26 ? 0x20 : 0;
		if (x != y)
			return 0;
		if (!x)
			break;
	}
	return 1;
}

long
fmt_strtol(const char *s, char **end, int base)
{
	long long v = fmt_strtoll(s, end, base);

	if (v > LONG_MAX || v < LONG_MIN) {
		errno = ERANGE;
		return v > 0 ? LONG_MAX : LONG_MIN;
	}
	return (long)v;
}

char *
fmt_strstr(const char *h, const char *n)
{
	size_t k = strlen(n);

	if (!k)
		return (char *)h;
	for (; *h; h++)
		if (*h == *n && strncmp(h, n, k) == 0)
			return (char *)h;
	return NULL;
}

/* the errnos (MIPS has some above 1000), and their texts one after the
 * other: a table of pointers or a switch is twice the size */
#define FMT_ERRORS                                                  \
	M(EPERM, "Operation not permitted")                         \
	M(ENOENT, "No such file or directory")                      \
	M(EINTR, "Interrupted system call")                         \
	M(EIO, "Input/output error")                                \
	M(ENXIO, "No such device or address")                       \
	M(EBADF, "Bad file descriptor")                             \
	M(EAGAIN, "Resource temporarily unavailable")               \
	M(ENOMEM, "Cannot allocate memory")                         \
	M(EACCES, "Permission denied")                              \
	M(EBUSY, "Device or resource busy")                         \
	M(EEXIST, "File exists")                                    \
	M(EXDEV, "Invalid cross-device link")                       \
	M(ENODEV, "No such device")                                 \
	M(ENOTDIR, "Not a directory")                               \
	M(EISDIR, "Is a directory")                                 \
	M(EINVAL, "Invalid argument")                               \
	M(ENFILE, "Too many open files in system")                  \
	M(EMFILE, "Too many open files")                            \
	M(EFBIG, "File too large")                                  \
	M(ENOSPC, "No space left on device")                        \
	M(EROFS, "Read-only file system")                           \
	M(EPIPE, "Broken pipe")                                     \
	M(ENAMETOOLONG, "File name too long")                       \
	M(ENOSYS, "Function not implemented")                       \
	M(ELOOP, "Too many levels of symbolic links")               \
	M(EMSGSIZE, "Message too long")                             \
	M(ENOPROTOOPT, "Protocol not available")                    \
	M(EPROTONOSUPPORT, "Protocol not supported")                \
	M(EOPNOTSUPP, "Operation not supported")                    \
	M(EAFNOSUPPORT, "Address family not supported by protocol") \
	M(EADDRINUSE, "Address already in use")                     \
	M(EADDRNOTAVAIL, "Cannot assign requested address")         \
	M(ENETDOWN, "Network is down")                              \
	M(ENETUNREACH, "Network is unreachable")                    \
	M(ECONNABORTED, "Software caused connection abort")         \
	M(ECONNRESET, "Connection reset by peer")                   \
	M(ENOBUFS, "No buffer space available")                     \
	M(ENOTCONN, "Transport endpoint is not connected")          \
	M(ETIMEDOUT, "Connection timed out")                        \
	M(ECONNREFUSED, "Connection refused")                       \
	M(EHOSTUNREACH, "No route to host")                         \
	M(EINPROGRESS, "Operation now in progress")                 \
	M(EDQUOT, "Disk quota exceeded")
#define M(e, t) _Static_assert(e > 0 && e < 65536, #e);
FMT_ERRORS
#undef M

const char *
fmt_pick(const uint16_t *codes, size_t n, const char *texts, int code)
{
	for (size_t i = 0; i < n; i++, texts += strlen(texts) + 1)
		if (codes[i] == code)
			return texts;
	return NULL;
}

const char *
fmt_strerror(int e)
{
#define M(e, t) e,
	static const uint16_t codes[] = {FMT_ERRORS};
#undef M
#define M(e, t) t "\0"
	static const char texts[] = FMT_ERRORS;
#undef M
	static char unknown[32];
	const char *t = fmt_pick(codes, sizeof codes / 2, texts, e);

	if (t)
		return t;
	fmt_snprintf(unknown, sizeof unknown, "Unknown error %d", e);
	return unknown;
}

int
fmt_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}
