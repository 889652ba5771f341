/* httpresp.h: an HTTP response as persona data, for emu/http.c: the status
 * line and header lines of http.head.<kind> with their %-placeholders
 * expanded (emu/http.c's header comment lists them), then the body whole,
 * as one chunk, or alone for HTTP/0.9; ${...} templates in page bodies; and
 * the dates, ETags, numbers and realm those print. The caller routes and
 * picks the kind, status and body. No state but the template buffer. */
#ifndef LURE_HTTPRESP_H
#define LURE_HTTPRESP_H

#include <stddef.h>
#include <stdint.h>

struct emu_ctx;

/* A response: what the placeholders and the body need. */
struct httpresp_out {
	const char *kind; /* http.head.<kind> */
	const char *status; /* %S */
	size_t status_len;
	const char *type; /* %T, NULL: none */
	size_t type_len;
	int64_t len; /* %L, -1: none */
	int64_t mtime; /* %M, %E; -1: none */
	int64_t flen; /* file length for %E */
	const char *crange; /* %G (Content-Range), NULL: none */
	size_t crange_len;
	int chunked; /* %X, body sent as one chunk */
	int copy; /* b1 is scratch: copy it (emu_send) */
	char kbuf[24]; /* kind named by an entry's k= */
	const uint8_t *b1, *b2; /* body: b1 then b2 (b2 may be NULL) */
	size_t b1n, b2n;
	/* from the request and the connection */
	uint16_t major, minor; /* %V; major 0: HTTP/0.9, the body alone */
	uint16_t ka_left; /* %K's max= */
	uint8_t head; /* a HEAD request: no body */
	uint8_t keepalive; /* %C, %K, %k */
	long ka_timeout; /* %K's and %k's timeout= */
};

/* Queue o (after http.continue when cont); 0, or -1 when it did not fit
 * (the caller closes). */
int
httpresp_send(struct emu_ctx *ctx, const struct httpresp_out *o, int cont);

/* Expand ${name} in a page body: identity values, ${now.Y} .m .d .H .M .S
 * .iso (UTC), ${req.path} (path[0..plen), XML-escaped), ${req.rand32};
 * unknown names stay as they are. *body gets the text (a static buffer
 * that the next call overwrites); returns its length, or -1 when it does
 * not fit. */
long
httpresp_template(const uint8_t *in, size_t n, const uint8_t *path, size_t plen,
        const char **body);

/* "Fri, 02 Jan 2026 03:04:05 GMT" from Unix seconds; returns 29 (no NUL). */
size_t
httpresp_date(char out[32], int64_t t);

/* http.etag with %m mtime and %l flen in hex, %w mtime as IIS prints
 * it (a FILETIME's bytes), into out; returns its length
 * (no NUL). */
size_t
httpresp_etag(char *out, size_t cap, int64_t mtime, int64_t flen);

/* The realm: http.realm with ${identity} expanded, in a static buffer;
 * *n gets its length, 0 without http.realm. */
const char *
httpresp_realm(size_t *n);

#endif
