/* test_event.c: nesting, ordering, escaping, caps and ids of encoded events. */
#include <stdio.h>

#include "event.h"
#include "lure.h"
#include "outbox.h"
#include "unit.h"

static void
setup(void)
{
	struct event_identity id = {
	        "s1", "host", "generic", "00ff00ff00ff00ff"};

	lure_clock_fix(1767323045000LL);
	event_setup(&id);
}

static void
test_nesting(void)
{
	char buf[EVENT_LINE_MAX];
	struct event *e;
	size_t n;

	setup();
	e = event_begin("login", "telnet");
	event_str(e, "user.name", "root");
	event_bytes(e, "lure.auth.password", "x\"\n", 3, 100);
	event_int(e, "source.port", 5);
	event_str(e, "source.ip", "192.0.2.7");
	event_tag(e, "a");
	event_tag(e, "b\"c");
	n = event_encode(e, buf, sizeof buf, 42);
	CHECK(n > 0 && buf[n - 1] == '\n');
	buf[n - 1] = 0;
	CHECK_STR(buf,
	        "{\"@timestamp\":\"2026-01-02T03:04:05.000Z\",\"event\":{"
	        "\"action\":\"login\",\"category\":[\"authentication\"],"
	        "\"dataset\":\"lure.telnet\",\"id\":\"s1-00ff00ff00ff00ff-42\","
	        "\"kind\":\"event\",\"sequence\":42,\"type\":[\"start\"]},"
	        "\"lure\":{\"auth\":{\"password\":\"x\\\"\\n\"},"
	        "\"persona\":\"generic\"},\"network\":{\"protocol\":\"telnet\"}"
	        ","
	        "\"observer\":{\"hostname\":\"host\",\"name\":\"s1\","
	        "\"product\":\"lure\",\"type\":\"honeypot\",\"version\":"
	        "\"" LURE_VERSION
	        "\"},\"source\":{\"ip\":\"192.0.2.7\",\"port\":5},"
	        "\"tags\":[\"a\",\"b\\\"c\"],\"user\":{\"name\":\"root\"}}");
	event_discard(e);
}

static void
test_cap_and_truncated(void)
{
	static char big[100000];
	char buf[EVENT_LINE_MAX];
	struct event *e;
	size_t n;

	setup();
	memset(big, 'A', sizeof big);
	e = event_begin("request", "banner");
	event_bytes(e, "lure.payload", big, sizeof big, 10);
	n = event_encode(e, buf, sizeof buf, 1);
	buf[n] = 0;
	CHECK(strstr(buf, "\"payload\":\"AAAAAAAAAA\""));
	CHECK(strstr(buf, "\"truncated\":true"));
	event_discard(e);

	/* a value that is huge once escaped still leaves a valid line */
	memset(big, 1, sizeof big);
	e = event_begin("request", "banner");
	event_bytes(e, "lure.payload", big, sizeof big, sizeof big);
	event_str(e, "user.name", "after");
	CHECK(event_commit(e) > 0);
}

static void
test_first_writer_wins(void)
{
	char buf[EVENT_LINE_MAX];
	struct event *e;

	setup();
	e = event_begin("request", "http");
	event_str(e, "url.path", "/one");
	event_str(e, "url.path", "/two");
	event_encode(e, buf, sizeof buf, 1);
	CHECK(strstr(buf, "/one") && !strstr(buf, "/two"));
	event_discard(e);
}

/* An event of a shape seen before (its keys added in the same order) is
 * written from the remembered text: the same line as the first time, and
 * one that no longer fits is cut as the first would be. */
static void
test_shape_seen_again(void)
{
	static char big[20000]; /* more than a line holds */
	char a[EVENT_LINE_MAX], b[EVENT_LINE_MAX];
	size_t na = 0, nb = 0;
	struct event *e;

	setup();
	for (int round = 0; round < 3; round++) {
		e = event_begin("request", "http");
		event_str(e, "zz.shape.b", "x\"y");
		event_int(e, "zz.shape.a", -7);
		event_str(e, "zz.shape.b", "repeated: not written");
		event_str(e, "url.path", "/p");
		event_tag(e, "t");
		if (round < 2) {
			nb = event_encode(e, round ? b : a, sizeof a, 9);
			na = round ? na : nb;
		} else {
			memset(big, 'B', sizeof big);
			event_bytes(e, "lure.payload", big, 20000, 20000);
			CHECK(event_commit(e) > 0);
		}
		event_discard(e);
	}
	CHECK(na > 0 && na == nb && memcmp(a, b, na) == 0);
	a[na - 1] = 0;
	CHECK(strstr(a, "\"zz\":{\"shape\":{\"a\":-7,\"b\":\"x\\\"y\"}}"));
	CHECK(!strstr(a, "repeated"));
	/* the same keys, one value now too long: the line still fits */
	e = event_begin("request", "http");
	event_str(e, "zz.shape.b", "x\"y");
	event_int(e, "zz.shape.a", -7);
	event_str(e, "zz.shape.b", "repeated: not written");
	event_bytes(e, "url.path", big, 16000, 16000);
	event_tag(e, "t");
	nb = event_encode(e, b, sizeof b, 9);
	CHECK(nb == 0); /* too long: event_commit cuts */
	CHECK(event_commit(e) > 0);
}

static void
test_null_event_is_ignored(void)
{
	event_str(NULL, "a", "b");
	event_bytes(NULL, "a", "b", 1, 1);
	event_int(NULL, "a", 1);
	event_tag(NULL, "x");
	CHECK(event_commit(NULL) == 0);
}

static void
test_commit_sequence(void)
{
	struct event *e;
	uint64_t a, b;
	const char *p;
	int c;

	setup();
	outbox_init(1 << 16);
	c = outbox_consumer();
	a = event_commit(event_begin("scan", "banner"));
	e = event_begin("scan", "banner");
	b = event_commit(e);
	CHECK(b == a + 1);
	CHECK(outbox_peek(c, &p) > 0);
	CHECK(strncmp(p, "{\"@timestamp\"", 13) == 0);
}

const struct unit_test unit_event[] = {
        {"nesting", test_nesting},
        {"cap_and_truncated", test_cap_and_truncated},
        {"first_writer_wins", test_first_writer_wins},
        {"shape_seen_again", test_shape_seen_again},
        {"null_event_is_ignored", test_null_event_is_ignored},
        {"commit_sequence", test_commit_sequence},
        {0, 0},
};
