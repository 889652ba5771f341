/* fmt.h: the printf family lure uses, without libc's (musl's vfprintf and
 * its float formatting are 10 KB of every static binary). C99 semantics:
 * fmt_snprintf returns the length it would have written and NUL-terminates
 * whenever size > 0. Conversions: d i u x X c s %, with the flags '-' and
 * '0', a width and a precision (number or '*'), and the lengths hh h l ll z
 * j t. Nothing else (no floats, no %p %n, no '+' ' ' '#' flags; one is
 * copied to the output as it is): the format attribute checks the
 * arguments at compile time, test/unit/test_fmt.c compares the output with
 * the C library's. */
#ifndef LURE_FMT_H
#define LURE_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

int
fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int
fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

/* dprintf(3): formats through a 256-byte buffer written to fd as it fills
 * (a line of up to 256 bytes is one write); errno is kept; returns the
 * length. No stdio: its FILE machinery is not linked. */
int
fmt_dprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int
fmt_vdprintf(int fd, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));
#define fmt_printf(...) fmt_dprintf(1, __VA_ARGS__)

/* inet_ntop(af, src, dst, cap) as musl has it (musl's calls snprintf):
 * AF_INET dotted, AF_INET6 lower-case hex with the longest run of zero
 * groups as "::" and ::ffff:a.b.c.d for v4-mapped. NULL when it does not
 * fit (AF_INET6: dst unchanged; AF_INET: dst cut) or af is neither. */
const char *
fmt_ntop(int af, const void *src, char *dst, size_t cap);

/* "YYYY-MM-DD<sep>HH:MM:SS" of the Unix time sec, UTC, as gmtime_r and
 * strftime's "%Y-%m-%d %H:%M:%S" have it (without libc's time zone code);
 * fmt_snprintf's return value (19 for the years 0 to 9999). */
int
fmt_utc(char *out, size_t cap, int64_t sec, char sep);
/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H.
 * Hinnant's civil algorithms, integers only). */
long
fmt_days_from_civil(long y, long m, long d);
void
fmt_civil_from_days(long days, long *y, long *m, long *d);
/* gmtime_r(3) of the Unix time sec (every field of tm, tm_isdst 0); NULL
 * when the year does not fit an int. */
struct tm *
fmt_gmtime(int64_t sec, struct tm *tm);

/* strtoll(3) and strtol(3) for base 10 and 16 (leading white space, a sign,
 * "0x" for 16; ERANGE and the limit on overflow; *end = s without
 * digits). musl's read through a FILE. */
long long
fmt_strtoll(const char *s, char **end, int base);
long
fmt_strtol(const char *s, char **end, int base);
/* 1 when a and b are equal in their first n bytes (or up to their NUL),
 * ASCII case ignored: strncasecmp(a, b, n) == 0 (SIZE_MAX: strcasecmp) */
int
fmt_caseeq(const char *a, const char *b, size_t n);
/* The text for code in texts (n texts one after the other, each ended by
 * a NUL) at the index of code in codes[0..n); NULL when absent. A table
 * of pointers would be 8 bytes an entry more. */
const char *
fmt_pick(const uint16_t *codes, size_t n, const char *texts, int code);
/* strerror(3) with glibc's texts for the errors lure reports (its file,
 * socket and resource errors), "Unknown error N" for any other: musl's
 * table is 2.2 KB and words some differently ("Address in use"). */
const char *
fmt_strerror(int e);
/* The value of hex digit c (either case), or -1. */
int
fmt_hexval(int c);
/* strstr(3) by a plain scan (the needles are short). */
char *
fmt_strstr(const char *h, const char *n);

/* v in decimal or in lower-case hex into out (no NUL: at most 20 or 16
 * bytes); returns the length. */
size_t
fmt_dec(char *out, uint64_t v);
size_t
fmt_hex(char *out, uint64_t v);

#endif
