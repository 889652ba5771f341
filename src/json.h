/* json.h: write JSON text into caller-owned buffers.
 * json_escape() turns arbitrary bytes (NUL, control bytes, invalid UTF-8) into
 * the body of a valid JSON string: valid UTF-8 passes through, control bytes
 * become \n, \t... or \u00XX, and each byte of an invalid UTF-8 sequence
 * becomes the six characters \\xNN (a literal backslash, x, two hex digits),
 * as Zeek does. Output never exceeds cap and never splits an escape or a
 * UTF-8 sequence. */
#ifndef LURE_JSON_H
#define LURE_JSON_H

#include <stddef.h>
#include <stdint.h>

struct json_escape_result {
	size_t out_len; /* bytes written to out */
	size_t in_used; /* input bytes represented */
	int truncated; /* 1 when in_used < input length */
};

struct json_escape_result
json_escape(char *out, size_t cap, const uint8_t *in, size_t n);

/* Length of the UTF-8 sequence at p (1..4) if it is valid (RFC 3629: no
 * overlongs, no surrogates, <= U+10FFFF), else 0. */
size_t
json_utf8_len(const uint8_t *p, size_t n);

/* "2026-11-27T18:02:43.123Z" (24 chars + NUL) from Unix ms. */
void
json_time(char out[32], int64_t unix_ms);

/* Strict JSON syntax check of one text (RFC 8259, UTF-8 validated, nesting
 * up to 32): returns -1 when valid, else the offset of the first error. */
long
json_check(const char *s, size_t n);

#endif
