/* test_spool.c: the on-disk queue keeps what was not acknowledged across a
 * reopen, drops the oldest beyond its cap, never applies an ack offset
 * to another file, and its lines (plain NDJSON, as every version wrote them)
 * give the shipper their event.id and @timestamp back. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "outbox.h"
#include "spool.h"
#include "unit.h"

static char path[64];

static void
fresh(void)
{
	char ack[80];

	snprintf(path, sizeof path, "/tmp/lure-unit-spool-%d", (int)getpid());
	snprintf(ack, sizeof ack, "%s.ack", path);
	unlink(path);
	unlink(ack);
}

static int
count(uint64_t from)
{
	char buf[256];
	int n = 0;

	while (spool_line(&from, buf, sizeof buf) > 0)
		n++;
	return n;
}

static void
test_reopen(void)
{
	char line[64], buf[64];
	uint64_t pos;

	fresh();
	CHECK(spool_open(path, 1 << 20) == 0);
	for (int i = 0; i < 10; i++) {
		int n = snprintf(line, sizeof line, "{\"n\":%d}\n", i);
		CHECK(spool_append(line, (size_t)n) == 0);
	}
	pos = spool_cursor();
	for (int i = 0; i < 4; i++)
		CHECK(spool_line(&pos, buf, sizeof buf) > 0);
	spool_ack_to(pos);
	/* "restart": what was acknowledged stays gone */
	CHECK(spool_open(path, 1 << 20) == 0);
	pos = spool_cursor();
	CHECK(spool_line(&pos, buf, sizeof buf) > 0);
	CHECK(strncmp(buf, "{\"n\":4}", 7) == 0);
	CHECK(count(spool_cursor()) == 6);
	pos = spool_cursor();
	while (spool_line(&pos, buf, sizeof buf) > 0)
		;
	spool_ack_to(pos);
	CHECK(count(spool_cursor()) == 0);
	unlink(path);
}

static void
test_torn_tail_and_cap(void)
{
	char line[200];
	struct spool_stats st;
	FILE *f;

	fresh();
	CHECK(spool_open(path, 65536) == 0);
	CHECK(spool_append("{\"a\":1}\n", 8) == 0);
	f = fopen(path, "a");
	fputs("{\"torn", f); /* a crash in the middle of a write */
	fclose(f);
	CHECK(spool_open(path, 65536) == 0);
	CHECK(count(spool_cursor()) == 1);
	memset(line, 'x', sizeof line);
	line[0] = '"', line[198] = '"', line[199] = '\n';
	for (int i = 0; i < 1000; i++)
		spool_append(line, sizeof line);
	spool_stats(&st);
	CHECK(st.dropped > 0 && st.bytes <= 65536);
	unlink(path);
}

/* The file itself never passes the cap (nothing acknowledged, or a reader
 * acknowledging now and then), compacted in place; every line appended is
 * counted once: taken by the reader, dropped, or still unread; a reopen
 * counts the unacknowledged lines as recovered. */
static void
test_file_within_cap(void)
{
	char line[200], buf[256];
	struct spool_stats st;
	struct stat sb;
	uint64_t pos;
	int taken = 0, big = 0;

	fresh();
	CHECK(spool_open(path, 65536) == 0);
	memset(line, 'x', sizeof line);
	line[0] = '"', line[198] = '"', line[199] = '\n';
	pos = spool_cursor();
	for (int i = 0; i < 3000; i++) {
		CHECK(spool_append(line, sizeof line) == 0);
		if (i >= 1000 && i % 3 == 0 &&
		        spool_line(&pos, buf, sizeof buf) > 0)
			spool_take(pos), taken++;
		if (i >= 2000 && i % 200 == 0)
			spool_ack_to(pos);
		CHECK(stat(path, &sb) == 0);
		big += sb.st_size > 65536;
	}
	CHECK(big == 0);
	spool_stats(&st);
	CHECK(st.dropped > 0 && taken + st.dropped + st.unread == 3000);
	CHECK(spool_open(path, 65536) == 0);
	spool_stats(&st);
	CHECK(st.recovered == (uint64_t)count(spool_cursor()));
	CHECK(st.recovered > 0 && st.unread == st.recovered);
	unlink(path);
}

/* A reader's position survives the file being emptied and compacted. */
static void
test_position_survives_truncation(void)
{
	char buf[64];
	uint64_t pos;

	fresh();
	CHECK(spool_open(path, 65536) == 0);
	CHECK(spool_append("{\"a\":1}\n", 8) == 0);
	pos = spool_cursor();
	CHECK(spool_line(&pos, buf, sizeof buf) == 8);
	spool_ack_to(pos); /* all delivered: the file is emptied */
	CHECK(spool_append("{\"b\":2}\n", 8) == 0);
	CHECK(spool_line(&pos, buf, sizeof buf) == 8);
	CHECK(strncmp(buf, "{\"b\":2}", 7) == 0);
	/* compaction: ack more than half the cap, keep one line unread */
	for (int i = 0; i < 5000; i++)
		spool_append("{\"c\":3}\n", 8);
	CHECK(spool_append("{\"d\":4}\n", 8) == 0);
	for (int i = 0; i < 5000; i++)
		CHECK(spool_line(&pos, buf, sizeof buf) == 8);
	spool_ack_to(pos);
	CHECK(spool_line(&pos, buf, sizeof buf) == 8);
	CHECK(strncmp(buf, "{\"d\":4}", 7) == 0);
	unlink(path);
}

/* A spool file left by an earlier run (lines only, no keys stored): after a
 * restart each line's keys are read back from the line itself. */
static void
test_keys_after_restart(void)
{
	static const char old[] =
	        "{\"@timestamp\":\"2026-12-01T10:00:00.000Z\",\"destination\":"
	        "{\"port\":80},\"event\":{\"action\":\"request\",\"id\":"
	        "\"s1-00aa-7\",\"sequence\":7},\"url\":{\"path\":\"/\"}}\n";
	char buf[EVENT_LINE_MAX];
	struct outbox_keys k;
	struct event *e;
	uint64_t pos;
	size_t n;
	FILE *f;
	long l;

	fresh();
	f = fopen(path, "w");
	fputs(old, f);
	e = event_begin("login", "ssh");
	event_str(e, "user.name", "root\",\"id\":\"x");
	n = event_encode(e, buf, sizeof buf, 42);
	event_discard(e);
	CHECK(n > 0 && fwrite(buf, 1, n, f) == n);
	fclose(f);
	CHECK(spool_open(path, 1 << 20) == 0);
	pos = spool_cursor();
	l = spool_line(&pos, buf, sizeof buf);
	CHECK(l == (long)strlen(old) && event_keys(buf, (size_t)l, &k) == 0);
	CHECK(k.id_len == 9 && memcmp(buf + k.id_off, "s1-00aa-7", 9) == 0);
	CHECK(k.ts_off == 15 && k.ts_len == 24);
	l = spool_line(&pos, buf, sizeof buf);
	CHECK(l > 0 && event_keys(buf, (size_t)l, &k) == 0);
	CHECK(k.id_len > 3 &&
	        memcmp(buf + k.id_off + k.id_len - 3, "-42", 3) == 0);
	unlink(path);
}

const struct unit_test unit_spool[] = {
        {"position_survives_truncation", test_position_survives_truncation},
        {"reopen", test_reopen},
        {"torn_tail_and_cap", test_torn_tail_and_cap},
        {"file_within_cap", test_file_within_cap},
        {"keys_after_restart", test_keys_after_restart},
        {0, 0},
};
