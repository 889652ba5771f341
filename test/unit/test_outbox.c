/* test_outbox.c: ring order, wrap, drop-oldest, no torn lines. */
#include <stdio.h>

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

const struct unit_test unit_outbox[] = {
        {"order_and_wrap", test_order_and_wrap},
        {"drop_oldest", test_drop_oldest},
        {"partial_line_never_torn", test_partial_line_never_torn},
        {"two_consumers", test_two_consumers},
        {0, 0},
};
