/* outbox.h: a bounded ring of NDJSON lines between emulators and outputs.
 * Each output is a consumer with its own cursor; a line leaves the ring only
 * when every consumer has acknowledged it. When a new line does not fit, the
 * oldest lines are dropped (even unacknowledged ones) and counted. */
#ifndef LURE_OUTBOX_H
#define LURE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#define OUTBOX_MAX_CONSUMERS 4

/* What a reader needs of an event line without parsing it back: where the
 * string values of its event.id and @timestamp lie (offsets into the line,
 * quotes excluded; id_len 0: not known). */
struct outbox_keys {
	uint16_t id_off, id_len, ts_off, ts_len;
};

/* Memory is allocated once here (size in bytes, rounded to a power of 2). */
int
outbox_init(size_t size);
void
outbox_reset(void);
/* Add one line (must end with '\n'); returns 0, or -1 if longer than the ring. */
int
outbox_push(const char *line, size_t n);
/* The same, with the line's keys kept beside it (in a small side ring: when
 * lines are unusually short, the oldest lines' keys are forgotten first). */
int
outbox_push_keys(const char *line, size_t n, const struct outbox_keys *k);
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
/* Whole lines consumer c has not yet taken; *dropped_for_c: lines dropped
 * before c took them (what c itself lost, where the ring counts each once). */
uint64_t
outbox_lines(int c, uint64_t *dropped_for_c);

/* For a consumer that reads ahead of what it acknowledges (the shipper):
 * copy the line at *pos (moved forward first if older lines were dropped
 * while it was not yet acknowledged) into dst and advance *pos. Returns the
 * line length (newline included), 0 when there is none, or -1 when the line
 * is longer than cap (*pos then skips it). When k is not NULL it gets the
 * keys pushed with the line (id_len 0 when there were none). Only one
 * consumer may ask for keys: older keys are forgotten as it reads on. */
long
outbox_line(int c, uint64_t *pos, char *dst, size_t cap, struct outbox_keys *k);
/* The consumer's acknowledged position; acknowledge everything before pos. */
uint64_t
outbox_cursor(int c);
void
outbox_ack_to(int c, uint64_t pos);

struct outbox_stats {
	uint64_t pushed, dropped, dropped_bytes;
	size_t used, size;
};
void
outbox_stats(struct outbox_stats *st);

#endif
