/* test_json.c: escaping vectors (RFC 8259 strings from arbitrary bytes). */
#include <stdio.h>

#include "json.h"
#include "unit.h"

static const struct {
	const char *in;
	size_t n;
	const char *out;
} vectors[] = {
        {"plain", 5, "plain"}, {"q\"b\\s/", 6, "q\\\"b\\\\s/"},
        {"\n\r\t\b\f", 5, "\\n\\r\\t\\b\\f"},
        {"\x00\x01\x1f\x7f", 4, "\\u0000\\u0001\\u001f\\u007f"},
        {"\xc3\xa9", 2, "\xc3\xa9"}, /* e-acute */
        {"\xe2\x82\xac", 3, "\xe2\x82\xac"}, /* euro */
        {"\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80"}, /* emoji */
        {"\xc0\x80", 2, "\\\\xc0\\\\x80"}, /* overlong NUL */
        {"\xe0\x80\xaf", 3, "\\\\xe0\\\\x80\\\\xaf"}, /* overlong / */
        {"\xed\xa0\x80", 3, "\\\\xed\\\\xa0\\\\x80"}, /* surrogate */
        {"\xf4\x90\x80\x80", 4,
                "\\\\xf4\\\\x90\\\\x80\\\\x80"}, /* > U+10FFFF */
        {"\xf5", 1, "\\\\xf5"}, {"\x80", 1, "\\\\x80"}, /* lone continuation */
        {"a\xc3", 2, "a\\\\xc3"}, /* cut sequence */
        {"\xff\xfd\x01", 3, "\\\\xff\\\\xfd\\u0001"}, /* telnet IAC DO */
};

static void
test_vectors(void)
{
	char out[256];

	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		struct json_escape_result r = json_escape(out, sizeof out - 1,
		        (const uint8_t *)vectors[i].in, vectors[i].n);
		out[r.out_len] = 0;
		CHECK(!r.truncated);
		CHECK(r.in_used == vectors[i].n);
		CHECK_STR(out, vectors[i].out);
	}
}

static void
test_cap_never_splits(void)
{
	char out[16];
	struct json_escape_result r;

	/* "\u0001" is 6 chars: with 5 left it must stop before it */
	r = json_escape(out, 7, (const uint8_t *)"ab\x01", 3);
	CHECK(r.truncated && r.out_len == 2 && r.in_used == 2);
	/* a 4-byte sequence does not fit in 3 */
	r = json_escape(out, 3, (const uint8_t *)"\xf0\x9f\x98\x80", 4);
	CHECK(r.truncated && r.out_len == 0 && r.in_used == 0);
	r = json_escape(out, 0, (const uint8_t *)"x", 1);
	CHECK(r.truncated && r.out_len == 0);
}

static void
test_utf8_len(void)
{
	CHECK(json_utf8_len((const uint8_t *)"\xe2\x82", 2) == 0);
	CHECK(json_utf8_len((const uint8_t *)"\xef\xbf\xbf", 3) == 3);
	CHECK(json_utf8_len((const uint8_t *)"\xf4\x8f\xbf\xbf", 4) == 4);
	CHECK(json_utf8_len((const uint8_t *)"\xc1\xbf", 2) == 0);
}

static void
test_time(void)
{
	char t[32];

	json_time(t, 0);
	CHECK_STR(t, "1970-01-01T00:00:00.000Z");
	json_time(t, 1767323045123LL);
	CHECK_STR(t, "2026-01-02T03:04:05.123Z");
	json_time(t, -1);
	CHECK_STR(t, "1969-12-31T23:59:59.999Z");
}

const struct unit_test unit_json[] = {
        {"vectors", test_vectors},
        {"cap_never_splits", test_cap_never_splits},
        {"utf8_len", test_utf8_len},
        {"time", test_time},
        {0, 0},
};
