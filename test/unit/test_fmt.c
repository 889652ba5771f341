/* test_fmt.c: fmt_snprintf against the C library's snprintf, one vector per
 * conversion, flag, width, precision and length lure uses, each at several
 * buffer sizes (0, 1, cut in the middle, exact, ample): same return value,
 * same bytes, nothing written past size. fmt_dprintf past its buffer. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fmt.h"
#include "unit.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"
#pragma GCC diagnostic ignored "-Wformat-zero-length"

static int failed;

/* Both into buffers of 'x' at sizes 0, 1, 2, 5, the length, the length + 1
 * and 64; compare return values and all 72 bytes. */
#define V(...)                                                                 \
	do {                                                                   \
		static const size_t sizes[] = {0, 1, 2, 5, 0, 0, 64};          \
		char want[72], got[72];                                        \
		int len = snprintf(NULL, 0, __VA_ARGS__);                      \
		for (size_t i_ = 0; i_ < sizeof sizes / sizeof *sizes; i_++) { \
			size_t n_ = i_ == 4   ? (size_t)len                    \
			            : i_ == 5 ? (size_t)len + 1                \
			                      : sizes[i_];                     \
			if (n_ > 64)                                           \
				continue;                                      \
			memset(want, 'x', sizeof want);                        \
			memset(got, 'x', sizeof got);                          \
			int a_ = snprintf(n_ ? want : NULL, n_, __VA_ARGS__);  \
			int b_ = fmt_snprintf(                                 \
			        n_ ? got : NULL, n_, __VA_ARGS__);             \
			if (a_ != b_ || memcmp(want, got, sizeof want) != 0) { \
				fprintf(stderr, "fmt: size %zu: %s\n", n_,     \
				        #__VA_ARGS__);                         \
				failed++;                                      \
			}                                                      \
		}                                                              \
	} while (0)

static void
test_strings(void)
{
	failed = 0;
	V("plain text");
	V("%s", "");
	V("");
	V("%s", "abc");
	V("a%sb%sc", "12", "345");
	V("%.*s", 2, "abcdef");
	V("%.*s", 0, "abcdef");
	V("%.*s", 10, "abc");
	V("%.*s", -1, "abc");
	V("%.6sZ", "123456789");
	V("%.3s", "ab");
	V("[%8s]", "abc");
	V("[%-8s]", "abc");
	V("[%2s]", "abcdef");
	V("[%*s]", 6, "ab");
	V("[%*s]", -6, "ab");
	V("[%-*.*s]", 7, 2, "abcdef");
	V("%c%c%c", 'a', 0x7f, '%');
	V("[%3c][%-3c]", 'a', 'b');
	V("100%%");
	V("%%%s%%", "x");
	V("%s", "a string longer than the 64-byte buffer of this test, so "
	        "that every size cuts it");
	CHECK(failed == 0);
}

static void
test_signed(void)
{
	failed = 0;
	V("%d", 0);
	V("%d %i", 42, -42);
	V("%d %d", INT_MAX, INT_MIN);
	V("[%5d][%-5d][%05d]", -12, -12, -12);
	V("[%02d][%02d][%04d]", 7, 123, 45);
	V("[%.3d][%.0d][%.0d][%5.3d]", 7, 0, 1, -7);
	V("%ld %ld", LONG_MAX, LONG_MIN);
	V("%02ld%04ld", 5L, 2026L);
	V("%lld %lld", LLONG_MAX, LLONG_MIN);
	V("%lld", (long long)-1);
	V("%zd %zd", (ssize_t)-5, (ssize_t)123456789);
	V("%hd %hhd", (short)-300, (signed char)-3);
	V("%jd %td", (intmax_t)-9, (ptrdiff_t)77);
	CHECK(failed == 0);
}

static void
test_unsigned(void)
{
	failed = 0;
	V("%u %u", 0u, UINT_MAX);
	V("%02u%02u%02u", 1u, 23u, 59u);
	V("[%9u][%-9u]", 12345u, 12345u);
	V("%lu %llu", ULONG_MAX, ULLONG_MAX);
	V("%zu %zu", (size_t)0, SIZE_MAX);
	V("%x %X", 0xdeadbeefu, 0xdeadbeefu);
	V("%02x%02x", 0x0u, 0xabu);
	V("%04x %04X %08x", 0x1fu, 0xabcu, 0x1234u);
	V("-0x%04x", 0x7080u);
	V("(%04X)", 0x12345u);
	V("%lx %llx %zx", 0xfffffUL, 0x123456789abcdefULL, (size_t)255);
	V("%hu %hhu %hx %hhx", (unsigned short)65535, (unsigned char)255,
	        (unsigned short)0xbeef, (unsigned char)0x7f);
	V("[%.4x][%.0u][%-6x]", 0xau, 0u, 0xabu);
	V("%ju %tu", (uintmax_t)18, (ptrdiff_t)19);
	V("%u.%u.%u.%u", 192u, 168u, 0u, 1u);
	CHECK(failed == 0);
}

static void
test_file(void)
{
	/* past the 256-byte buffer of fmt_vfprintf, then read back */
	static char big[700], back[1100];
	FILE *f = tmpfile();

	CHECK(f != NULL);
	memset(big, 'b', sizeof big - 1);
	CHECK(fmt_dprintf(fileno(f), "<%s|%-300d|%05u>", big, -1, 42u) ==
	        1 + 699 + 1 + 300 + 1 + 5 + 1);
	rewind(f);
	size_t n = fread(back, 1, sizeof back, f);
	fclose(f);
	CHECK(n == 1008);
	char want[1009];
	snprintf(want, sizeof want, "<%s|%-300d|%05u>", big, -1, 42u);
	CHECK(memcmp(back, want, n) == 0);
}

/* fmt_ntop: musl's inet_ntop output (glibc's differs for ::a.b.c.d) */
static const char *
ntop6(const char *text)
{
	static char out[64];
	uint8_t a[16];

	if (inet_pton(AF_INET6, text, a) != 1)
		return "(bad test)";
	return fmt_ntop(AF_INET6, a, out, sizeof out) ? out : "(null)";
}

static void
test_ntop(void)
{
	static const char *same[] = {"::", "::1", "2001:db8::1",
	        "1::", "::ffff:1.2.3.4", "::ffff:0.0.0.0", "fe80::1:2",
	        "1:0:0:2::3", "1::2:0:0:3:4", "1:2:3:4:5:6:0:8",
	        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0:1:0:1:0:1:0:1",
	        "2001:db8:0:1:1:1:1:1", "::102:304"};
	const uint8_t v4[4] = {192, 168, 0, 255}, zero4[4] = {0};
	const uint8_t v6[16] = {0x20, 0x01};
	char b[16];

	for (size_t i = 0; i < sizeof same / sizeof *same; i++)
		CHECK_STR(ntop6(same[i]), same[i]);
	CHECK_STR(ntop6("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
	CHECK_STR(ntop6("::1.2.3.4"), "::102:304");
	CHECK_STR(fmt_ntop(AF_INET, v4, b, sizeof b), "192.168.0.255");
	CHECK_STR(fmt_ntop(AF_INET, zero4, b, 8), "0.0.0.0");
	CHECK(fmt_ntop(AF_INET, v4, b, 13) == NULL);
	CHECK_STR(b, "192.168.0.25");
	memcpy(b, "keep", 5);
	CHECK(fmt_ntop(AF_INET6, v6, b, 6) == NULL); /* "2001::" */
	CHECK(fmt_ntop(AF_INET6 + AF_INET, v4, b, sizeof b) == NULL);
	CHECK_STR(b, "keep");
}

/* fmt_caseeq against strncasecmp and strcasecmp */
static void
test_caseeq(void)
{
	static const char *w[] = {"", "a", "A",
	        "Content-Length:", "content-length:", "CONTENT-LENGTH: 5",
	        "close", "Close", "closed", "@", "`", "[", "{", "Z", "z",
	        "\xc0", "\xe0", "localhost", "LocalHost"};

	for (size_t i = 0; i < sizeof w / sizeof *w; i++)
		for (size_t j = 0; j < sizeof w / sizeof *w; j++) {
			CHECK(fmt_caseeq(w[i], w[j], SIZE_MAX) ==
			        (strcasecmp(w[i], w[j]) == 0));
			for (size_t n = 0; n < 18; n++)
				CHECK(fmt_caseeq(w[i], w[j], n) ==
				        (strncasecmp(w[i], w[j], n) == 0));
		}
}

/* fmt_utc against gmtime_r and strftime, 1900 to 9999, leap days */
static void
test_utc(void)
{
	static const int64_t at[] = {0, -1, 59, 86399, 86400, 951782400,
	        951868799, 951868800, 1709164800, 4107542399, -2208988800,
	        -2203891200, 253402300799, 1796595000, 68256000};
	char want[32], got[32];

	for (size_t i = 0; i < sizeof at / sizeof *at + 2000; i++) {
		int64_t s = i < sizeof at / sizeof *at
		                    ? at[i]
		                    : (int64_t)(i * 126230401u) - 2208988800;
		time_t t = (time_t)s;
		struct tm tm;
		CHECK(gmtime_r(&t, &tm) != NULL);
		strftime(want, sizeof want, "%Y-%m-%d %H:%M:%S", &tm);
		CHECK(fmt_utc(got, sizeof got, s, ' ') == 19);
		CHECK_STR(got, want);
		/* fmt_gmtime: every field gmtime_r sets */
		struct tm mine;
		CHECK(fmt_gmtime(s, &mine) == &mine);
		CHECK(mine.tm_year == tm.tm_year && mine.tm_mon == tm.tm_mon &&
		        mine.tm_mday == tm.tm_mday &&
		        mine.tm_hour == tm.tm_hour &&
		        mine.tm_min == tm.tm_min && mine.tm_sec == tm.tm_sec &&
		        mine.tm_wday == tm.tm_wday &&
		        mine.tm_yday == tm.tm_yday && mine.tm_isdst == 0);
	}
	CHECK(fmt_utc(got, 10, 0, 'T') == 19);
	CHECK_STR(got, "1970-01-0");
}

/* fmt_dec and fmt_hex against the C library's %llu and %llx. */
static void
test_digits(void)
{
	static const uint64_t v[] = {0, 1, 9, 10, 15, 16, 255, 4096, 99999,
	        4294967295u, 18446744073709551615u};
	char got[24], want[24];

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t n = fmt_dec(got, v[i]);
		got[n] = 0;
		snprintf(want, sizeof want, "%llu", (unsigned long long)v[i]);
		CHECK_STR(got, want);
		n = fmt_hex(got, v[i]);
		got[n] = 0;
		snprintf(want, sizeof want, "%llx", (unsigned long long)v[i]);
		CHECK_STR(got, want);
	}
}

/* fmt_strtol/fmt_strtoll against glibc's (value, end, ERANGE; musl's,
 * under test-cross, ends "0x" and "0xg" elsewhere: there only the fixed
 * vectors), fmt_strstr against strstr. */
static void
test_strtol(void)
{
	static const struct {
		const char *s;
		int base;
		long long v;
		size_t end;
		int err;
	} fixed[] = {{"42", 10, 42, 2, 0}, {"  -7x", 10, -7, 4, 0},
	        {"0x1f", 16, 31, 4, 0}, {"ff", 16, 255, 2, 0},
	        {"x", 10, 0, 0, 0},
	        {"9223372036854775808", 10, LLONG_MAX, 19, ERANGE},
	        {"-9223372036854775809", 10, LLONG_MIN, 20, ERANGE}};

	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
		char *e;
		errno = 0;
		CHECK(fmt_strtoll(fixed[i].s, &e, fixed[i].base) ==
		                fixed[i].v &&
		        (size_t)(e - fixed[i].s) == fixed[i].end &&
		        errno == fixed[i].err);
	}
#ifdef __GLIBC__
	static const char *in[] = {"0", "42", "-42", "+7", "  \t\n12x", "x12",
	        "", "-", "+", " ", "0x1f", "0X1F", "0xg", "0x", "ff", "FFz",
	        "9223372036854775807", "9223372036854775808",
	        "-9223372036854775808", "-9223372036854775809",
	        "99999999999999999999999", "2147483647", "2147483648",
	        "-2147483649", "4294967296", "007", "1 2", "--1", "-+1",
	        "12345678901234567890123456789x", "0x7fffffffffffffff",
	        "0x8000000000000000", "-0x8000000000000000", "\v\f\r5"};

	for (size_t i = 0; i < sizeof in / sizeof *in; i++)
		for (int base = 10; base <= 16; base += 6) {
			char *e1, *e2;
			int r1, r2;
			errno = 0;
			long long a = strtoll(in[i], &e1, base);
			r1 = errno;
			errno = 0;
			long long b = fmt_strtoll(in[i], &e2, base);
			r2 = errno;
			CHECK(a == b && e1 == e2 && r1 == r2);
			errno = 0;
			long c = strtol(in[i], &e1, base);
			r1 = errno;
			errno = 0;
			long d = fmt_strtol(in[i], &e2, base);
			r2 = errno;
			CHECK(c == d && e1 == e2 && r1 == r2);
		}
#endif
	static const char *hay[] = {"", "a", "abc", "aab", "\r\n\r\n",
	        "x\r\ny\r\n\r\nz", "chunked", "gzip, chunked", "://"};
	static const char *needle[] = {"", "a", "ab", "b", "\r\n", "\r\n\r\n",
	        "chunked", "://", "abcd"};
	for (size_t i = 0; i < sizeof hay / sizeof *hay; i++)
		for (size_t j = 0; j < sizeof needle / sizeof *needle; j++)
			CHECK(fmt_strstr(hay[i], needle[j]) ==
			        strstr(hay[i], needle[j]));
}

/* fmt_strerror: glibc's texts (the unit tests run on glibc) */
static void
test_strerror(void)
{
	static const int e[] = {EPERM, ENOENT, EINTR, EIO, ENXIO, EBADF, EAGAIN,
	        ENOMEM, EACCES, EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR, EISDIR,
	        EINVAL, ENFILE, EMFILE, EFBIG, ENOSPC, EROFS, EPIPE,
	        ENAMETOOLONG, ENOSYS, ELOOP, EMSGSIZE, ENOPROTOOPT,
	        EPROTONOSUPPORT, EOPNOTSUPP, EAFNOSUPPORT, EADDRINUSE,
	        EADDRNOTAVAIL, ENETDOWN, ENETUNREACH, ECONNABORTED, ECONNRESET,
	        ENOBUFS, ENOTCONN, ETIMEDOUT, ECONNREFUSED, EHOSTUNREACH,
	        EINPROGRESS, EDQUOT};

#ifdef __GLIBC__ /* musl's texts differ ("Address in use") */
	for (size_t i = 0; i < sizeof e / sizeof *e; i++)
		CHECK_STR(fmt_strerror(e[i]), strerror(e[i]));
#else
	(void)e;
#endif
	CHECK_STR(fmt_strerror(EADDRINUSE), "Address already in use");
	CHECK_STR(fmt_strerror(EMFILE), "Too many open files");
	CHECK_STR(fmt_strerror(EACCES), "Permission denied");
	CHECK_STR(fmt_strerror(4000), "Unknown error 4000");
	CHECK_STR(fmt_strerror(-1), "Unknown error -1");
}

const struct unit_test unit_fmt[] = {
        {"strings", test_strings},
        {"strtol", test_strtol},
        {"strerror", test_strerror},
        {"signed", test_signed},
        {"unsigned", test_unsigned},
        {"file", test_file},
        {"ntop", test_ntop},
        {"caseeq", test_caseeq},
        {"utc", test_utc},
        {"digits", test_digits},
        {0, 0},
};
