/* test_outbox.c: ring order, wrap, drop-oldest, no torn lines, and the
 * keys kept beside each event line for the shipper. */
#include <stdio.h>
#include <stdlib.h>

#include "event.h"
#include "outbox.h"
#include "unit.h"

static size_t
take_all(int c, char *out, size_t cap)
{
	const char *p;
	size_t n, got = 0;

	while ((n = outbox_peek(c, &p)) > 0 && got + n <= cap) {
		memcpy(out + got, p, n);
		got += n;
		outbox_ack(c, n);
	}
	out[got] = 0;
	return got;
}

static void
test_order_and_wrap(void)
{
	char line[64], out[1 << 14];
	int c;

	outbox_init(4096);
	c = outbox_consumer();
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 20; i++) {
			int n = snprintf(
			        line, sizeof line, "line %d %d\n", round, i);
			CHECK(outbox_push(line, (size_t)n) == 0);
		}
		take_all(c, out, sizeof out);
		CHECK(strncmp(out, "line ", 5) == 0);
		snprintf(line, sizeof line, "line %d 19\n", round);
		CHECK(strstr(out, line) != NULL);
	}
	struct outbox_stats st;
	outbox_stats(&st);
	CHECK(st.dropped == 0 && st.used == 0 && st.pushed == 1000);
}

static void
test_drop_oldest(void)
{
	char line[128], out[1 << 14];
	struct outbox_stats st;
	int c;

	outbox_init(4096);
	c = outbox_consumer();
	for (int i = 0; i < 100; i++) {
		int n = snprintf(line, sizeof line, "%064d\n", i);
		outbox_push(line, (size_t)n);
	}
	outbox_stats(&st);
	CHECK(st.dropped == 100 - 4096 / 65);
	take_all(c, out, sizeof out);
	/* what is left is the newest lines, whole */
	CHECK(strlen(out) % 65 == 0);
	snprintf(line, sizeof line, "%064d\n", 99);
	CHECK(strcmp(out + strlen(out) - 65, line) == 0);
}

static void
test_partial_line_never_torn(void)
{
	char line[128];
	const char *p;
	struct outbox_stats st;
	int c;

	outbox_init(4096);
	c = outbox_consumer();
	snprintf(line, sizeof line, "%063d\n", 0);
	outbox_push(line, 64);
	outbox_ack(c, 10); /* a writer took 10 bytes of the oldest line */
	for (int i = 1; i < 200; i++)
		outbox_push(line, 64);
	outbox_stats(&st);
	CHECK(st.dropped > 0);
	/* the consumer still continues the half-written line, then whole ones */
	CHECK(outbox_peek(c, &p) > 0 && p[52] == '0' && p[53] == '\n');
}

static void
test_two_consumers(void)
{
	const char *p;
	int a, b;

	outbox_init(4096);
	a = outbox_consumer();
	b = outbox_consumer();
	outbox_push("x\n", 2);
	outbox_ack(a, 2);
	CHECK(outbox_pending(a) == 0);
	CHECK(outbox_pending(b) == 2);
	CHECK(outbox_peek(b, &p) == 2 && p[0] == 'x');
	outbox_ack(b, 2);
	struct outbox_stats st;
	outbox_stats(&st);
	CHECK(st.used == 0);
}

/* The keys event_commit() pushes are where the line has its event.id and
 * @timestamp, and the same as event_keys() finds reading the line back. */
static void
test_keys_from_commit(void)
{
	char line[EVENT_LINE_MAX], id[64];
	struct outbox_keys k, back;
	uint64_t pos;
	struct event *e;
	long n;
	int c;

	outbox_init(1 << 16);
	c = outbox_consumer();
	for (int i = 0; i < 3; i++) {
		e = event_begin("request", "http");
		event_str(e, "url.original", "/\"id\":\"x\"");
		event_raw(e, "destination.geo", "{\"id\":\"no\"}", 12);
		event_commit(e);
	}
	pos = outbox_cursor(c);
	for (int i = 0; i < 3; i++) {
		uint64_t seq = event_count() - 2 + (uint64_t)i;
		n = outbox_line(c, &pos, line, sizeof line, &k);
		CHECK(n > 0 && k.id_len > 0 && k.ts_len == 24);
		CHECK(k.ts_off == 15 &&
		        memcmp(line, "{\"@timestamp\":\"", 15) == 0);
		snprintf(id, sizeof id, "%s-%s-%llu",
		        event_identity()->sensor_id, event_identity()->boot_id,
		        (unsigned long long)seq);
		CHECK(k.id_len == strlen(id) &&
		        memcmp(line + k.id_off, id, k.id_len) == 0);
		CHECK(event_keys(line, (size_t)n, &back) == 0);
		CHECK(memcmp(&k, &back, sizeof k) == 0);
	}
	CHECK(outbox_line(c, &pos, line, sizeof line, &k) == 0);
}

/* Lines pushed without keys, keys of dropped lines, and more keyed lines
 * than the side ring holds: a line is never given another line's keys. */
static void
test_keys_stay_with_their_line(void)
{
	char line[128], out[128];
	struct outbox_keys k = {1, 2, 3, 4}, got;
	uint64_t pos;
	long n;
	int c;

	outbox_init(4096); /* 8 key records */
	c = outbox_consumer();
	outbox_push("plain\n", 6);
	for (int i = 0; i < 40; i++) {
		n = snprintf(line, sizeof line, "%d\n", i);
		k.id_off = (uint16_t)i;
		outbox_push_keys(line, (size_t)n, &k);
	}
	pos = outbox_cursor(c);
	CHECK(outbox_line(c, &pos, out, sizeof out, &got) == 6);
	CHECK(got.id_len == 0);
	for (int i = 0; i < 40; i++) {
		CHECK(outbox_line(c, &pos, out, sizeof out, &got) > 0);
		CHECK(atoi(out) == i);
		/* the 32 oldest lost their keys to the 8 newest */
		CHECK(i < 32 ? got.id_len == 0 : got.id_off == i);
	}
	/* drops: what is read after them still matches */
	outbox_init(4096);
	c = outbox_consumer();
	for (int i = 0; i < 100; i++) {
		n = snprintf(line, sizeof line, "%063d\n", i);
		k.id_off = (uint16_t)i;
		outbox_push_keys(line, (size_t)n, &k);
	}
	pos = 0;
	while ((n = outbox_line(c, &pos, out, sizeof out, &got)) > 0)
		CHECK(got.id_len == 0 || got.id_off == atoi(out));
	CHECK(got.id_off == 99);
}

const struct unit_test unit_outbox[] = {
        {"order_and_wrap", test_order_and_wrap},
        {"drop_oldest", test_drop_oldest},
        {"partial_line_never_torn", test_partial_line_never_torn},
        {"two_consumers", test_two_consumers},
        {"keys_from_commit", test_keys_from_commit},
        {"keys_stay_with_their_line", test_keys_stay_with_their_line},
        {0, 0},
};
