/* httprange.h: nginx's byte ranges on a static answer (src/httprange.c). */
#ifndef LURE_HTTPRANGE_H
#define LURE_HTTPRANGE_H

#include <stddef.h>
#include <stdint.h>

#include "httpparse.h"

#define HTTPRANGE_MAX 16 /* ranges modelled in one Range header */

/* The Range header of q (p: the input its offsets point into) against a
 * static 200 of len bytes whose ETag and Last-Modified are etag[0..el) and
 * lm (29 bytes): 0 (no range: the whole file), 206 with rg[0] = [start,
 * end) (one range), 416 (not satisfiable), or 2 (several: rg[0..*count)). */
int
httprange_parse(const struct httpparse_req *q, const uint8_t *p, int64_t len,
        const char *etag, size_t el, const char *lm, int64_t (*rg)[2],
        size_t *count);
/* The Content-Range value "bytes S-E/LEN" into out (64 bytes), or "bytes
 * * /LEN" (not satisfiable) when s < 0; returns its length. */
size_t
httprange_content_range(char *out, int64_t s, int64_t e, int64_t len);
/* nginx's multipart/byteranges body of rg[0..count) of f[0..len) with
 * Content-Type t into out[0..cap), and its Content-Type into type; the
 * body's length, or -1 when it does not fit. */
long
httprange_multipart(uint8_t *out, size_t cap, const uint8_t *f, int64_t len,
        const char *t, size_t tl, const int64_t (*rg)[2], size_t count,
        char *type, size_t tcap);

#endif
