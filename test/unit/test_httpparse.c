/* test_httpparse.c: nginx's verdicts on request heads (the codes nginx
 * 1.22 answers these with), URI normalisation, Host, chunked bodies, and
 * the gzip and ETag tests, each parser fed whole and byte by byte. */
#include "httpparse.h"
#include "unit.h"

#include <stdio.h>

/* Parse a whole head as emu/http.c does; returns HTTPPARSE_HEAD_DONE, a
 * status, or HTTPPARSE_AGAIN. step: bytes offered per call (0: all). */
static int
head(const char *s, size_t step, struct httpparse_req *r)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = strlen(s), lim = step ? 0 : n;
	int rc;
	unsigned id;

	memset(r, 0, sizeof *r);
	for (;;) {
		if (r->rl != HTTPPARSE_RL_DONE) {
			rc = httpparse_request_line(r, p, lim);
			if (rc == HTTPPARSE_LINE && r->major == 0)
				return HTTPPARSE_HEAD_DONE;
		} else {
			rc = httpparse_header_line(r, p, lim);
			if (rc == HTTPPARSE_LINE &&
			        (rc = httpparse_header(r, p, &id)) == 0)
				continue;
		}
		if (rc == HTTPPARSE_AGAIN) {
			if (lim == n)
				return rc;
			lim = lim + step < n ? lim + step : n;
			continue;
		}
		if (rc != HTTPPARSE_LINE)
			return rc;
	}
}

static const struct {
	const char *req;
	int want;
} heads[] = {
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTPPARSE_HEAD_DONE},
        {"GET /\r\n", HTTPPARSE_HEAD_DONE}, /* HTTP/0.9 */
        {"POST /\r\n", 400}, /* 0.9 is GET only */
        {"get / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\n\r\n", 505},
        {"GET / HTTP/1.10\r\n\r\n", HTTPPARSE_HEAD_DONE},
        {"GET / XTTP/1.1\r\n\r\n", 400},
        {"GET /\x01 HTTP/1.1\r\n\r\n", 400},
        {"GET http://h:80/x?y HTTP/1.1\r\n\r\n", HTTPPARSE_HEAD_DONE},
        {"GET / HTTP/1.1\nHost: a\nHost: b\n\n", 400}, /* unique */
        {"GET / HTTP/1.1\r\nUser-Agent: a\r\nUser-Agent: b\r\n\r\n",
                HTTPPARSE_HEAD_DONE},
        {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a..b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nX_Y: x\r\n\r\n", HTTPPARSE_HEAD_DONE},
        {"GET / HTTP/1.1\r\nHost: a\r\n", HTTPPARSE_AGAIN},
};

static void
test_heads(void)
{
	struct httpparse_req r;

	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
		CHECK(head(heads[i].req, 0, &r) == heads[i].want);
		CHECK(head(heads[i].req, 1, &r) == heads[i].want);
		CHECK(head(heads[i].req, 7, &r) == heads[i].want);
	}
}

static void
test_fields(void)
{
	struct httpparse_req r;
	const char *s = "GET http://Ex.com:8080/a?b=1 HTTP/1.1\r\n"
	                "Host: ex.com.:80\r\nConnection: Keep-Alive\r\n"
	                "Connection: close\r\n\r\n";

	CHECK(head(s, 0, &r) == HTTPPARSE_HEAD_DONE);
	CHECK(r.method_end == 3 && r.major == 1 && r.minor == 1);
	CHECK(r.host_end - r.host_start == 6);
	CHECK(memcmp(s + r.uri_start, "/a?b=1", 6) == 0);
	CHECK(r.uri_end - r.uri_start == 6 && s[r.args_start] == 'b');
	CHECK(r.flags & HTTPPARSE_F_GET);
	CHECK(r.h[HTTPPARSE_H_HOST].len == 6); /* port and last dot cut */
	CHECK(r.conn == HTTPPARSE_CONN_CLOSE); /* the last one decides */
	CHECK(r.head_end == strlen(s));
}

static long
uri(const char *target, char *out)
{
	char req[256];
	struct httpparse_req r;

	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", target);
	if (head(req, 0, &r) != HTTPPARSE_HEAD_DONE)
		return -2;
	long n = httpparse_uri(&r, (const uint8_t *)req, (uint8_t *)out);
	if (n >= 0)
		out[n] = 0;
	return n;
}

static void
test_uri(void)
{
	char out[256];

	CHECK(uri("/a//b/./c/../d", out) > 0);
	CHECK_STR(out, "/a/b/d");
	CHECK(uri("/%41%2f..", out) > 0);
	CHECK_STR(out, "/");
	CHECK(uri("/a/%2e%2e/b?x=/..", out) > 0);
	CHECK_STR(out, "/b");
	CHECK(uri("/..", out) == -1);
	CHECK(uri("/%zz", out) == -1);
	CHECK(uri("/%00", out) == -1);
	CHECK(uri("/a#frag", out) > 0);
	CHECK_STR(out, "/a");
	CHECK(uri("http://h?q", out) > 0);
	CHECK_STR(out, "/");
}

static void
test_host(void)
{
	CHECK(httpparse_host((const uint8_t *)"a.b:80", 6) == 3);
	CHECK(httpparse_host((const uint8_t *)"[::1]:80", 8) == 5);
	CHECK(httpparse_host((const uint8_t *)"a.", 2) == 1);
	CHECK(httpparse_host((const uint8_t *)"", 0) == -1);
	CHECK(httpparse_host((const uint8_t *)".", 1) == -1);
	CHECK(httpparse_host((const uint8_t *)"a b", 3) == -1);
}

static void
test_chunked(void)
{
	const char *s = "4;x=y\r\nabcd\r\n2\r\nef\r\n0\r\nT: v\r\n\r\nNEXT";
	size_t n = strlen(s), used = 0, olen = 0;
	uint8_t out[8];
	uint64_t data = 0;
	int rc = HTTPPARSE_CK_AGAIN;
	struct httpparse_chunk c = {0};

	/* byte by byte, as a body trickles in */
	while (used < n && rc == HTTPPARSE_CK_AGAIN)
		used += httpparse_chunked(&c, (const uint8_t *)s + used, 1, &rc,
		        out, &olen, sizeof out, &data);
	CHECK(rc == HTTPPARSE_CK_DONE && used == n - 4);
	CHECK(data == 6 && olen == 6 && memcmp(out, "abcdef", 6) == 0);
	memset(&c, 0, sizeof c);
	httpparse_chunked(
	        &c, (const uint8_t *)"x\r\n", 3, &rc, NULL, &olen, 0, &data);
	CHECK(rc == HTTPPARSE_CK_ERROR);
	memset(&c, 0, sizeof c);
	httpparse_chunked(&c, (const uint8_t *)"fffffffffffffffff\r\n", 19, &rc,
	        NULL, &olen, 0, &data);
	CHECK(rc == HTTPPARSE_CK_ERROR); /* size overflow */
}

static int
gzip(const char *ae)
{
	char req[256];
	struct httpparse_req r;

	snprintf(req, sizeof req,
	        "GET / HTTP/1.1\r\nHost: h\r\nAccept-Encoding: %s\r\n\r\n", ae);
	if (head(req, 0, &r) != HTTPPARSE_HEAD_DONE)
		return -1;
	return httpparse_gzip_ok(&r, (const uint8_t *)req);
}

static void
test_gzip_etag(void)
{
	const char *et = "\"5f-1\"";
	size_t el = strlen(et);

	CHECK(gzip("gzip, deflate") == 1);
	CHECK(gzip("deflate, GZIP") == 1);
	CHECK(gzip("gzip;q=0") == 0);
	CHECK(gzip("gzip; q=0.5") == 1);
	CHECK(gzip("xgzip") == 0);
	CHECK(gzip("gzip;q=1.0001") == 0);
	CHECK(httpparse_etag_match((const uint8_t *)"*", 1, et, el, 0));
	CHECK(httpparse_etag_match(
	        (const uint8_t *)"\"a\", \"5f-1\"", 11, et, el, 0));
	CHECK(!httpparse_etag_match(
	        (const uint8_t *)"W/\"5f-1\"", 8, et, el, 0));
	CHECK(httpparse_etag_match(
	        (const uint8_t *)"W/\"5f-1\"", 8, et, el, 1));
}

const struct unit_test unit_httpparse[] = {
        {"heads", test_heads},
        {"fields", test_fields},
        {"uri", test_uri},
        {"host", test_host},
        {"chunked", test_chunked},
        {"gzip_etag", test_gzip_etag},
        {0, 0},
};
