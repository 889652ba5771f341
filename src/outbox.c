/* outbox.c: byte ring of NDJSON lines with per-consumer cursors. Positions
 * are 64-bit running counters; the ring index is pos & mask. A line that a
 * consumer has half taken is never dropped (it would tear the output): then
 * the new line is dropped instead, and counted the same way. */
#include <stdlib.h>
#include <string.h>

#include "lure.h"
#include "outbox.h"

static char *ring;
static size_t held; /* bytes of ring allocated */
static size_t mask;
static uint64_t head, tail; /* tail = oldest byte kept */
/* start of the line holding tail: below tail when every consumer has taken
 * part of the oldest line; scanned = how far '\n' was searched */
static uint64_t line_start, scanned;
static uint64_t cur[OUTBOX_MAX_CONSUMERS], cdrop[OUTBOX_MAX_CONSUMERS];
static int ncons;
static uint64_t pushed, dropped, dropped_bytes;
/* the keys side ring: one record per line pushed with keys, oldest first;
 * records of lines already dropped or read are skipped lazily */
struct keyrec {
	uint64_t start; /* the line's position */
	struct outbox_keys k;
};
static struct keyrec *keys;
static size_t kmask;
static uint64_t khead, ktail;

int
outbox_init(size_t size)
{
	size_t n = 4096;

	while (n < size)
		n <<= 1;
	/* a key record per 512 bytes: event lines are longer than that (the
	 * shortest about 530); a line whose keys were forgotten is read back.
	 * Start-up only: a ring as large is kept, a larger one is new (never
	 * free(): src/fdio.h) */
	kmask = n / 512 - 1;
	if (n > held) {
		held = 0;
		if (!(ring = malloc(n)) ||
		        !(keys = malloc((kmask + 1) * sizeof *keys)))
			return -1;
		held = n;
	}
	mask = n - 1;
	outbox_reset();
	ncons = 0;
	return 0;
}

void
outbox_reset(void)
{
	head = tail = line_start = scanned = 0;
	khead = ktail = 0;
	for (int i = 0; i < OUTBOX_MAX_CONSUMERS; i++)
		cur[i] = cdrop[i] = 0;
	pushed = dropped = dropped_bytes = 0;
}

int
outbox_consumer(void)
{
	if (ncons == OUTBOX_MAX_CONSUMERS)
		return -1;
	cur[ncons] = tail;
	return ncons++;
}

/* End (exclusive) of the line at p, or 0 when it has no newline yet;
 * searched one contiguous run at a time. */
static uint64_t
line_end(uint64_t p)
{
	while (p < head) {
		size_t at = (size_t)(p & mask);
		size_t run =
		        (size_t)LURE_MIN(head - p, (uint64_t)(mask + 1 - at));
		const char *nl = memchr(ring + at, '\n', run);
		if (nl)
			return p + (uint64_t)(nl - (ring + at)) + 1;
		p += run;
	}
	return 0;
}

/* End (exclusive) of the oldest line. */
static uint64_t
oldest_end(void)
{
	uint64_t end = line_end(tail);

	return end ? end : head;
}

int
outbox_push_keys(const char *line, size_t n, const struct outbox_keys *k)
{
	uint64_t start = head;

	if (outbox_push(line, n) < 0)
		return -1;
	if (head == start || !k || !k->id_len)
		return 0; /* dropped, or nothing to keep */
	if (khead - ktail > kmask)
		ktail++; /* full: that line will be read without its keys */
	keys[khead & kmask].start = start;
	keys[khead & kmask].k = *k;
	khead++;
	return 0;
}

int
outbox_push(const char *line, size_t n)
{
	size_t size = mask + 1;

	if (!ring || n > size)
		return -1;
	while (head + n - tail > size) {
		uint64_t end = oldest_end();
		for (int i = 0; i < ncons; i++)
			if (cur[i] > line_start && cur[i] < end) {
				for (i = 0; i < ncons; i++)
					cdrop[i]++;
				dropped++, dropped_bytes += n;
				return 0; /* the oldest is being written: drop newest */
			}
		for (int i = 0; i < ncons; i++)
			if (cur[i] < end)
				cur[i] = end, cdrop[i]++;
		dropped++, dropped_bytes += end - tail;
		tail = line_start = scanned = end;
	}
	for (size_t k = 0; k < n;) {
		size_t at = (head + k) & mask;
		size_t run = LURE_MIN(n - k, size - at);
		memcpy(ring + at, line + k, run);
		k += run;
	}
	head += n;
	pushed++;
	return 0;
}

size_t
outbox_peek(int c, const char **p)
{
	uint64_t at = cur[c];
	size_t idx = at & mask;

	*p = ring + idx;
	return (size_t)LURE_MIN(head - at, (uint64_t)(mask + 1 - idx));
}

static void
advance_tail(void)
{
	uint64_t low = head;

	for (int i = 0; i < ncons; i++)
		low = LURE_MIN(low, cur[i]);
	tail = LURE_MAX(tail, low);
	/* the last newline in [scanned, tail) starts the line holding tail;
	 * searched backwards one contiguous run at a time */
	for (uint64_t end = tail, from = LURE_MAX(scanned, line_start);
	        end > from;) {
		size_t at = (size_t)((end - 1) & mask);
		size_t run = (size_t)LURE_MIN(end - from, (uint64_t)at + 1);
		const char *nl = memrchr(ring + at + 1 - run, '\n', run);
		if (nl) {
			line_start = end - (uint64_t)(ring + at - nl);
			break;
		}
		end -= run;
	}
	scanned = tail;
}

void
outbox_ack(int c, size_t n)
{
	cur[c] += n;
	if (cur[c] > head)
		cur[c] = head;
	advance_tail();
}

size_t
outbox_pending(int c)
{
	return (size_t)(head - cur[c]);
}

void
outbox_stats(struct outbox_stats *st)
{
	st->pushed = pushed;
	st->dropped = dropped;
	st->dropped_bytes = dropped_bytes;
	st->used = (size_t)(head - tail);
	st->size = mask + 1;
}

uint64_t
outbox_lines(int c, uint64_t *dropped_for_c)
{
	uint64_t n = 0;

	*dropped_for_c = cdrop[c];
	for (uint64_t p = cur[c]; (p = line_end(p)) != 0; n++)
		;
	return n;
}

uint64_t
outbox_cursor(int c)
{
	return cur[c];
}

void
outbox_ack_to(int c, uint64_t pos)
{
	if (pos > cur[c])
		outbox_ack(c, (size_t)(pos - cur[c]));
}

long
outbox_line(int c, uint64_t *pos, char *dst, size_t cap, struct outbox_keys *k)
{
	uint64_t end, p;

	if (*pos < cur[c])
		*pos = cur[c];
	if (!(end = line_end(*pos)))
		return 0;
	if (end - *pos > cap) {
		*pos = end;
		return -1;
	}
	for (p = *pos; p < end;) {
		size_t at = (size_t)(p & mask);
		size_t run =
		        (size_t)LURE_MIN(end - p, (uint64_t)(mask + 1 - at));
		memcpy(dst, ring + at, run);
		dst += run;
		p += run;
	}
	if (k) {
		while (ktail < khead && keys[ktail & kmask].start < *pos)
			ktail++;
		if (ktail < khead && keys[ktail & kmask].start == *pos)
			*k = keys[ktail & kmask]
			             .k; /* kept: it may be read again */
		else
			memset(k, 0, sizeof *k);
	}
	p = end - *pos;
	*pos = end;
	return (long)p;
}
