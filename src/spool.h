/* spool.h: an on-disk queue of NDJSON lines for the shipper, so events
 * survive an outage, a restart and a kill -9. <path> holds the lines,
 * <path>.ack how far they were acknowledged (and which file that offset
 * belongs to). Only acknowledged lines are ever removed; beyond the byte cap
 * the oldest lines are dropped and counted (the file itself never grows past
 * the cap: it is compacted in place). A line acknowledged by the server
 * but not yet in <path>.ack when the process dies is sent again: the
 * deterministic _id makes that a 409, not a duplicate.
 * The lines are stored as they are (no record around them): the shipper
 * reads each one's event.id and @timestamp back with event_keys(), which
 * stops a few hundred bytes in, so spool files of every version replay
 * alike and stay plain NDJSON that a person can read or replay by hand. */
#ifndef LURE_SPOOL_H
#define LURE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

int
spool_open(const char *path, uint64_t max_bytes);
int
spool_enabled(void);
/* Append one line (newline included); -1 on a write error. */
int
spool_append(const char *line, size_t n);
/* Line at *pos (forwarded past dropped lines) into dst; see outbox_line(). */
long
spool_line(uint64_t *pos, char *dst, size_t cap);
uint64_t
spool_cursor(void);
/* The reader has taken the line ending at pos into its batch: a line behind
 * pos that the cap drops is not counted as dropped (its batch counts it). */
void
spool_take(uint64_t pos);
/* Everything before pos is acknowledged: persist, compact when worth it. */
void
spool_ack_to(uint64_t pos);

/* unread: lines not yet taken; recovered: lines found at open */
struct spool_stats {
	uint64_t bytes, unread, dropped, dropped_bytes, recovered;
};
void
spool_stats(struct spool_stats *st);

#endif
