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
#include <stdio.h>

int
fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int
fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

/* Formats through a 256-byte buffer handed to fwrite, so a FILE keeps its
 * own buffering (stderr: written at once); returns the length. */
int
fmt_fprintf(FILE *f, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
int
fmt_vfprintf(FILE *f, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));
#define fmt_printf(...) fmt_fprintf(stdout, __VA_ARGS__)

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

/* v in decimal or in lower-case hex into out (no NUL: at most 20 or 16
 * bytes); returns the length. */
size_t
fmt_dec(char *out, uint64_t v);
size_t
fmt_hex(char *out, uint64_t v);

#endif
