/* outbox.h: a bounded ring of NDJSON lines between emulators and outputs.
 * Each output is a consumer with its own cursor; a line leaves the ring only
 * when every consumer has acknowledged it. When a new line does not fit, the
 * oldest lines are dropped (even unacknowledged ones) and counted. */
#ifndef LURE_OUTBOX_H
#define LURE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#define OUTBOX_MAX_CONSUMERS 4

/* Memory is allocated once here (size in bytes, rounded to a power of 2). */
int
outbox_init(size_t size);
void
outbox_reset(void);
/* Add one line (must end with '\n'); returns 0, or -1 if longer than the ring. */
int
outbox_push(const char *line, size_t n);
/* Register a consumer; returns its id. */
int
outbox_consumer(void);
/* Contiguous unread bytes for consumer c (whole lines are not guaranteed at
 * the wrap point); returns length, sets *p. */
size_t
outbox_peek(int c, const char **p);
/* Consumer c has taken n bytes. */
void
outbox_ack(int c, size_t n);
/* Bytes consumer c has not yet taken. */
size_t
outbox_pending(int c);

struct outbox_stats {
	uint64_t pushed, dropped, dropped_bytes;
	size_t used, size;
};
void
outbox_stats(struct outbox_stats *st);

#endif
