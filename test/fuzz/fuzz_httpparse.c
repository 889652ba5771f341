/* fuzz_httpparse.c: libFuzzer target for nginx's request parsers
 * (src/httpparse.c): any bytes give a verdict without reading past the
 * input; the verdict and every offset are the same whether the head comes
 * whole or split in two (as reads deliver it); offsets stay inside what was
 * parsed; the normalised path fits its bound; a chunked body gives the same
 * result whole and byte by byte. */
#include <stdlib.h>
#include <string.h>

#include "httpparse.h"

static uint8_t path[65536 + 2];

/* The head of p[0..n) offered in two reads, the first of cut bytes;
 * returns HTTPPARSE_HEAD_DONE, HTTPPARSE_AGAIN or a status. */
static int
head(const uint8_t *p, size_t n, size_t cut, struct httpparse_req *r)
{
	size_t lim = cut < n ? cut : n;
	unsigned id;
	int rc;

	memset(r, 0, sizeof *r);
	for (;;) {
		if (r->rl != HTTPPARSE_RL_DONE) {
			rc = httpparse_request_line(r, p, lim);
			if (rc == HTTPPARSE_LINE && r->major == 0)
				return HTTPPARSE_HEAD_DONE;
		} else {
			rc = httpparse_header_line(r, p, lim);
			if (rc == HTTPPARSE_HEAD_DONE)
				return rc;
			if (rc == HTTPPARSE_LINE) {
				if (r->hname > r->hname_end ||
				        r->hval > r->hval_end ||
				        r->hval_end > r->pos || r->pos > lim)
					abort();
				rc = httpparse_header(r, p, &id);
				if (rc == 0)
					continue;
				return rc;
			}
		}
		if (rc == HTTPPARSE_AGAIN) {
			if (r->pos != lim)
				abort();
			if (lim == n)
				return rc;
			lim = n;
			continue;
		}
		if (rc != HTTPPARSE_LINE)
			return rc;
		if (r->method_end == 0 || r->method_end >= r->line_end ||
		        r->line_end > lim || r->uri_start > r->uri_end ||
		        r->uri_end >= r->line_end)
			abort();
		if (r->flags & HTTPPARSE_F_NORMALISE) {
			long u = httpparse_uri(r, p, path);
			if (u > (long)(r->uri_end - r->uri_start) + 1)
				abort();
		}
		if (r->host_end > r->host_start)
			httpparse_host(
			        p + r->host_start, r->host_end - r->host_start);
	}
}

static void
chunked(const uint8_t *p, size_t n)
{
	struct httpparse_chunk a = {0}, b = {0};
	uint8_t out[64];
	size_t ua, ub = 0, oa = 0, ob = 0;
	uint64_t da = 0, db = 0;
	int ra, rb = HTTPPARSE_CK_AGAIN;

	ua = httpparse_chunked(&a, p, n, &ra, out, &oa, sizeof out, &da);
	while (ub < n && rb == HTTPPARSE_CK_AGAIN)
		ub += httpparse_chunked(&b, p + ub, 1, &rb, NULL, &ob, 0, &db);
	if (ua > n || oa > sizeof out || da > n || ra != rb ||
	        (ra != HTTPPARSE_CK_ERROR && (ua != ub || da != db)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpparse_req a, b;
	int ra, rb;

	if (size > 65535)
		return 0;
	ra = head(data, size, size, &a);
	rb = head(data, size, size ? data[0] % size : 0, &b);
	if (ra != rb || (ra < 400 && memcmp(&a, &b, sizeof a) != 0))
		abort();
	if (ra == HTTPPARSE_HEAD_DONE && a.major) {
		for (unsigned i = 0; i < HTTPPARSE_H__MAX; i++)
			if ((a.seen & (1u << i)) &&
			        a.h[i].off + a.h[i].len > a.head_end)
				abort();
		httpparse_gzip_ok(&a, data);
		if (a.seen & (1u << HTTPPARSE_H_IF_MATCH))
			httpparse_etag_match(
			        data + a.h[HTTPPARSE_H_IF_MATCH].off,
			        a.h[HTTPPARSE_H_IF_MATCH].len, "\"5f-1\"", 6,
			        0);
		chunked(data + a.head_end, size - a.head_end);
	} else {
		chunked(data, size);
	}
	return 0;
}
