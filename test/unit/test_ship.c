/* test_ship.c: the shipper's parsers: HTTP responses, bulk items, DNS, and
 * reading event.id and @timestamp back from a line. */
#include <stdio.h>

#include "event.h"
#include "outbox.h"
#include "resolve.h"
#include "ship.h"
#include "unit.h"

static int
http(const char *in, int *code, char *body, int *close_after)
{
	static char buf[4097];
	const char *b;
	size_t bl;
	int r;

	snprintf(buf, sizeof buf, "%s", in);
	r = ship_parse_http(buf, strlen(in), 4096, code, &b, &bl, close_after);
	if (r == 1) {
		memcpy(body, b, bl);
		body[bl] = 0;
	}
	return r;
}

static void
test_http(void)
{
	char body[4096];
	int code = 0, cl = 0;

	CHECK(http("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", &code,
	              body, &cl) == 1);
	CHECK(code == 200 && !cl && strcmp(body, "{}") == 0);
	CHECK(http("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}", &code,
	              body, &cl) == 0);
	CHECK(http("HTTP/1.1 200 OK\r\nContent-Le", &code, body, &cl) == 0);
	CHECK(http("HTTP/1.1 413 Too Large\r\nconnection: close\r\n"
	           "content-length: 0\r\n\r\n",
	              &code, body, &cl) == 1);
	CHECK(code == 413 && cl);
	CHECK(http("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	           "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
	              &code, body, &cl) == 1);
	CHECK_STR(body, "abcde");
	CHECK(http("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	           "3\r\nabc\r\n0\r\n",
	              &code, body, &cl) == 0);
	CHECK(http("HTTP/1.0 200 OK\r\n\r\n", &code, body, &cl) == 1 && cl);
	CHECK(http("garbage\r\n\r\n", &code, body, &cl) == -1);
	CHECK(http("HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n", &code, body,
	              &cl) == -1);
	CHECK(http("HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n", &code,
	              body, &cl) == -1);
}

static void
test_bulk(void)
{
	const char *body =
	        "{\"errors\":true,\"items\":["
	        "{\"create\":{\"status\":201}},"
	        "{\"create\":{\"status\":409,\"error\":{\"type\":\"x\","
	        "\"reason\":\"exists\"}}},"
	        "{\"create\":{\"status\":400,\"error\":{\"type\":"
	        "\"mapper_parsing_exception\",\"reason\":\"bad "
	        "port\",\"caused_by\":{\"type\":\"y\",\"reason\":\"z\"}}}},"
	        "{\"index\":{\"status\":429}}]}";
	int st[4];
	const char *why[4];
	size_t wl[4];

	CHECK(ship_parse_bulk(body, strlen(body), st, why, wl, 4) == 4);
	CHECK(st[0] == 201 && st[1] == 409 && st[2] == 400 && st[3] == 429);
	CHECK(why[2] && wl[2] == 8 && strncmp(why[2], "bad port", 8) == 0);
	CHECK(!why[0] && !why[3]);
	CHECK(ship_parse_bulk("{\"errors\":false}", 16, st, why, wl, 4) == -1);
	CHECK(ship_parse_bulk("[]", 2, st, why, wl, 4) == -1);
	CHECK(ship_parse_bulk("{\"items\":[]}", 12, st, why, wl, 4) == 0);
}

static void
test_dns(void)
{
	/* answer for id 0x1234: question example.com A, a CNAME then an A */
	static const uint8_t ans[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0,
	        0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	        0, 1, 0, 1, 0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12,
	        0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7};
	uint8_t a[16], bad[sizeof ans];

	CHECK(resolve_parse(ans, sizeof ans, 0x1234, 1, a) == 1);
	CHECK(a[0] == 192 && a[3] == 7);
	CHECK(resolve_parse(ans, sizeof ans, 0x1235, 1, a) == -1);
	CHECK(resolve_parse(ans, sizeof ans, 0x1234, 28, a) == 0);
	CHECK(resolve_parse(ans, sizeof ans - 1, 0x1234, 1, a) == -1);
	memcpy(bad, ans, sizeof ans);
	bad[3] = 0x83; /* NXDOMAIN */
	CHECK(resolve_parse(bad, sizeof bad, 0x1234, 1, a) == -1);
	memcpy(bad, ans, sizeof ans);
	bad[12] = 60; /* a label running past the end */
	CHECK(resolve_parse(bad, sizeof bad, 0x1234, 1, a) == -1);
	memcpy(bad, ans, sizeof ans);
	bad[7] = 200; /* more answers than the packet holds */
	CHECK(resolve_parse(bad, sizeof bad - 4, 0x1234, 28, a) == -1);
}

static int
keys(const char *line, char *id, char *ts)
{
	struct outbox_keys k;

	if (event_keys(line, strlen(line), &k) < 0)
		return -1;
	snprintf(id, 64, "%.*s", (int)k.id_len, line + k.id_off);
	snprintf(ts, 64, "%.*s", (int)k.ts_len, line + k.ts_off);
	return 0;
}

static void
test_keys(void)
{
	char id[64], ts[64];

	CHECK(keys("{\"@timestamp\":\"T\",\"event\":{\"id\":\"a-b-1\"}}", id,
	              ts) == 0);
	CHECK_STR(id, "a-b-1");
	CHECK_STR(ts, "T");
	/* values before "event" are skipped whole: strings with quotes and
	 * braces, nested objects and arrays with their own "id" */
	CHECK(keys("{ \"@timestamp\" : \"T\", \"a\":\"\\\"id\\\":{[\",\"b\":"
	           "{\"id\":\"no\",\"c\":[1,{\"id\":\"no\"}]},\"d\":-1.5e3,"
	           "\"e\":true,\"event\":{\"kind\":\"x\",\"id\":\"yes\"}}",
	              id, ts) == 0);
	CHECK_STR(id, "yes");
	/* an escaped id is taken as it is written (it goes into JSON) */
	CHECK(keys("{\"@timestamp\":\"T\",\"event\":{\"id\":\"a\\\"b\"}}", id,
	              ts) == 0);
	CHECK_STR(id, "a\\\"b");
	CHECK(keys("{\"@timestamp\":\"T\",\"event\":{\"idx\":\"a\"}}", id, ts) <
	        0);
	CHECK(keys("{\"@timestamp\":\"T\",\"event\":{\"id\":7}}", id, ts) < 0);
	CHECK(keys("{\"event\":{\"id\":\"a\"}}", id, ts) < 0);
	CHECK(keys("{\"@timestamp\":\"T\",\"event\":{\"id\":\"a", id, ts) < 0);
	CHECK(keys("{\"@timestamp\":\"T\",\"event\":\"id\"}", id, ts) < 0);
	CHECK(keys("[\"@timestamp\"]", id, ts) < 0);
	CHECK(keys("", id, ts) < 0);
	CHECK(keys("{\"@timestamp\":\"T\",\"x\":{\"event\":{\"id\":\"a\"}", id,
	              ts) < 0);
}

const struct unit_test unit_ship[] = {
        {"http", test_http},
        {"bulk", test_bulk},
        {"dns", test_dns},
        {"keys", test_keys},
        {0, 0},
};
