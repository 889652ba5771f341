/* resp.h: Redis requests read as Redis 7.0's networking.c reads them (for
 * emu/redis.c). The first byte '*' makes a multibulk request: its count and
 * lengths by string2ll (no sign but '-', no leading zero), count up to
 * INT_MAX, bulk up to proto-max-bulk-len 512 MB, the two bytes after a bulk
 * not checked. Anything else is an inline line to '\n' (a '\r' before it
 * dropped, a NUL before it hides it as strchr does), split as sdssplitargs
 * splits (quotes, \xHH; unbalanced quotes are an error). Errors name the
 * persona key of their reason ("redis.err_bulk"...). Plus stringmatchlen's
 * glob and a look at a Lua script for the globals Redis's sandbox lacks. */
#ifndef LURE_RESP_H
#define LURE_RESP_H

#include <stddef.h>
#include <stdint.h>

#define RESP_ARGS 64 /* words kept of a request (more are counted) */
#define RESP_LONG_LINE 2048 /* a line this long without its end: RESP_LONG */
#define RESP_INLINE_MAX (64 * 1024) /* PROTO_INLINE_MAX_SIZE */
#define RESP_BULK_MAX (512LL * 1024 * 1024) /* proto-max-bulk-len */
#define RESP_SPLIT_MAX 8192 /* an inline line split at most */

struct resp_arg {
	const uint8_t *p;
	size_t n;
};

/* One request, parsed: words in a[] (at most RESP_ARGS kept of argc). */
struct resp_req {
	struct resp_arg a[RESP_ARGS];
	size_t argc, kept;
	size_t len2; /* the third word's whole length when it was cut, or 0 */
};

enum resp_parse {
	RESP_NEED, /* not all there yet */
	RESP_CMD, /* a request, *used bytes */
	RESP_EMPTY, /* nothing to run ("*0", a blank line): skip *used */
	RESP_ERR, /* a protocol error: *why, *got */
	RESP_LONG, /* an inline line without its end, over RESP_LONG_LINE */
	RESP_LONG_MBULK /* the same of a multibulk count */
};

#define RESP_BIG_ARGS 3 /* words kept of a request bigger than the input */
#define RESP_BIG_KEEP 130 /* bytes kept of each (an error prints 128) */

/* A multibulk request too big for the input buffer, read as it comes: the
 * first bytes of its first words are kept. */
struct resp_big {
	uint32_t argc, i; /* its words, the one being read */
	uint32_t len, left; /* that word's length, its bytes still to come
	                       (CRLF included); left 0: its header is next */
	uint8_t on; /* 1 reading, 2 answering (the words are all in) */
	uint8_t kept[RESP_BIG_ARGS];
	uint32_t len2; /* the third word's whole length (SET's value) */
	char a[RESP_BIG_ARGS][RESP_BIG_KEEP];
};

/* A multibulk request that outgrows the input: its count from p[0..n),
 * its words fed; the bytes taken (0: not even the count is there). */
size_t
resp_big_start(struct resp_big *b, const uint8_t *p, size_t n, const char **why,
        uint8_t *got);
/* More of its words from p[0..n): the bytes taken (0: a word's header is
 * not all there yet); b->on is 2 once all are in; *why on a protocol
 * error. */
size_t
resp_big_feed(struct resp_big *b, const uint8_t *p, size_t n, const char **why,
        uint8_t *got);

/* One request from p[0..n) (n > 0); inline words point into a static
 * buffer, valid until the next call. */
enum resp_parse
resp_parse(const uint8_t *p, size_t n, struct resp_req *r, size_t *used,
        const char **why, uint8_t *got);
/* string2ll(): 0, or -1 when p[0..n) is not one. */
int
resp_ll(const uint8_t *p, size_t n, long long *v);
/* strchr() in p[0..n): a NUL first hides c. */
const uint8_t *
resp_chr(const uint8_t *p, size_t n, uint8_t c);
int
resp_space(int c);
int
resp_lower(int c);
/* stringmatchlen(): * ? [...] [^...] [a-z] \x, with or without case. */
int
resp_match(
        const uint8_t *pat, size_t pn, const uint8_t *s, size_t sn, int nocase);
/* 1 when a holds a glob character (* ? [). */
int
resp_glob(const struct resp_arg *a);
/* 1 when p[0..n) holds bytes no one types (a TLS ClientHello...). */
int
resp_binary(const uint8_t *p, size_t n);
/* The first global of a Lua script the sandbox lacks (package, os, io,
 * dofile, loadfile, require, module) outside strings and comments, and its
 * line; NULL when none. */
const char *
resp_lua_global(const struct resp_arg *s, int *line);

#endif
