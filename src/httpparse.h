/* httpparse.h: nginx 1.22's HTTP/1.x request parsers, ported state for
 * state, so malformed input gets nginx's verdicts: the request line
 * (ngx_http_parse_request_line), header lines (ngx_http_parse_header_line)
 * and the headers nginx acts on (ngx_http_headers_in), the complex URI
 * (ngx_http_parse_complex_uri, merge_slashes on), Host
 * (ngx_http_validate_host), chunked bodies (ngx_http_parse_chunked), and the
 * Accept-Encoding and If-Match tests of the gzip and not-modified filters.
 * Bytes in, offsets out: offsets index the caller's unconsumed input (at
 * most 65535 bytes), which starts with the request line; a parser stopped
 * for want of bytes resumes from where it stopped when called again with
 * more. Nothing is allocated and nothing is copied but the normalised path.
 * Errors are the HTTP status nginx answers with (400, 505...). */
#ifndef LURE_HTTPPARSE_H
#define LURE_HTTPPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Parser results; errors are HTTP status codes (>= 400). */
enum { HTTPPARSE_AGAIN = 0, HTTPPARSE_LINE = 1, HTTPPARSE_HEAD_DONE = 2 };

/* Request-line parser states worth naming outside: before the first byte
 * and after the line (the others are private). */
enum { HTTPPARSE_RL_START = 0, HTTPPARSE_RL_DONE = 255 };

/* The headers nginx acts on; bit i of seen means header i was sent. */
enum {
	HTTPPARSE_H_HOST,
	HTTPPARSE_H_CONNECTION,
	HTTPPARSE_H_USER_AGENT,
	HTTPPARSE_H_REFERER,
	HTTPPARSE_H_CONTENT_TYPE,
	HTTPPARSE_H_CONTENT_LENGTH,
	HTTPPARSE_H_TRANSFER_ENCODING,
	HTTPPARSE_H_EXPECT,
	HTTPPARSE_H_ACCEPT_ENCODING,
	HTTPPARSE_H_VIA,
	HTTPPARSE_H_AUTHORIZATION,
	HTTPPARSE_H_IF_MATCH,
	HTTPPARSE_H_IF_NONE_MATCH,
	HTTPPARSE_H_IF_MODIFIED_SINCE,
	HTTPPARSE_H_IF_UNMODIFIED_SINCE,
	HTTPPARSE_H_CONTENT_RANGE,
	HTTPPARSE_H_IF_RANGE,
	HTTPPARSE_H_RANGE,
	HTTPPARSE_H__MAX
};

/* flags */
#define HTTPPARSE_F_COMPLEX 0x01 /* the URI needs normalising */
#define HTTPPARSE_F_QUOTED 0x02 /* the URI has %XX */
#define HTTPPARSE_F_EMPTY_PATH 0x04 /* "http://host?args" */
#define HTTPPARSE_F_INVALID 0x08 /* header line with an invalid name */
#define HTTPPARSE_F_GET 0x10
#define HTTPPARSE_F_HEAD 0x20
#define HTTPPARSE_F_CONNECT 0x40
#define HTTPPARSE_F_TRACE 0x80
#define HTTPPARSE_F_NORMALISE \
	(HTTPPARSE_F_COMPLEX | HTTPPARSE_F_QUOTED | HTTPPARSE_F_EMPTY_PATH)

/* conn, from Connection */
#define HTTPPARSE_CONN_CLOSE 1
#define HTTPPARSE_CONN_KEEP_ALIVE 2

struct httpparse_span {
	uint16_t off, len;
};

/* One request head. Zero it before the first byte. */
struct httpparse_req {
	uint16_t pos; /* next byte to parse */
	uint8_t rl, hl; /* parser states */
	uint8_t flags; /* HTTPPARSE_F_* */
	uint8_t conn; /* HTTPPARSE_CONN_* */
	uint16_t major, minor;
	uint16_t method_end; /* one past the method */
	uint16_t target; /* start of the request target */
	uint16_t uri_start, uri_end, args_start, schema_end;
	uint16_t host_start, host_end; /* host of an absolute URI */
	uint16_t proto; /* "HTTP/" */
	uint16_t line_end; /* one past the request line */
	uint16_t hname, hname_end, hval, hval_end; /* the last header line */
	uint16_t head_end; /* one past the empty line */
	uint32_t seen; /* 1 << HTTPPARSE_H_* */
	struct httpparse_span h[HTTPPARSE_H__MAX]; /* their values */
};

/* Parse p[r->pos..n): HTTPPARSE_AGAIN (all used), HTTPPARSE_LINE (the
 * request line is complete; rl is HTTPPARSE_RL_DONE), or 400, 505. */
int
httpparse_request_line(struct httpparse_req *r, const uint8_t *p, size_t n);

/* Parse the next header line of p[r->pos..n): HTTPPARSE_AGAIN,
 * HTTPPARSE_LINE (hname..hval_end set), HTTPPARSE_HEAD_DONE (the empty line;
 * head_end set) or 400. */
int
httpparse_header_line(struct httpparse_req *r, const uint8_t *p, size_t n);

/* The header line just parsed, as ngx_http_headers_in does: record a known
 * header in seen and h[] (the first one counts; Host is validated and its
 * port cut off; Connection sets conn). *id is the header recorded, or
 * HTTPPARSE_H__MAX when the line was ignored. Returns 0 or 400 (a second
 * unique header, a bad Host). */
int
httpparse_header(struct httpparse_req *r, const uint8_t *p, unsigned *id);

/* The path of p[r->uri_start..r->uri_end] (after HTTPPARSE_LINE) decoded
 * and normalised into out (room for uri_end - uri_start + 2 bytes);
 * returns its length, or -1 when nginx would answer 400. */
long
httpparse_uri(const struct httpparse_req *r, const uint8_t *p, uint8_t *out);

/* Host h[0..n): its length without the port, or -1 when invalid. */
long
httpparse_host(const uint8_t *h, size_t n);

/* Chunked-body state. Zero it before the body. */
struct httpparse_chunk {
	uint64_t size; /* data bytes left in this chunk */
	uint8_t state;
};
enum { HTTPPARSE_CK_AGAIN, HTTPPARSE_CK_DONE, HTTPPARSE_CK_ERROR };

/* Feed p[0..n) of a chunked body; *rc is HTTPPARSE_CK_*. Returns the bytes
 * used (all of p unless done or bad). Data bytes are counted in *data and
 * copied to out[*olen..cap) (out may be NULL). */
size_t
httpparse_chunked(struct httpparse_chunk *c, const uint8_t *p, size_t n,
        int *rc, uint8_t *out, size_t *olen, size_t cap, uint64_t *data);

/* Would nginx gzip the answer ("gzip_http_version 1.1; gzip_proxied off"):
 * Accept-Encoding, the version and Via of a parsed head. */
int
httpparse_gzip_ok(const struct httpparse_req *r, const uint8_t *p);

/* Does the If-Match (weak 0) or If-None-Match (weak 1) list s[0..n) match
 * the strong ETag etag[0..el)? */
int
httpparse_etag_match(
        const uint8_t *s, size_t n, const char *etag, size_t el, int weak);

/* s[0..n) equals the lower-case lit, ignoring ASCII case. */
int
httpparse_caseeq(const uint8_t *s, size_t n, const char *lit);

/* Case-sensitive search of lit[0..m) in s[0..n) (s may be NULL). */
const uint8_t *
httpparse_find(const uint8_t *s, size_t n, const char *lit, size_t m);

#endif
