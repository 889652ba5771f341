/* ship.h: the Elasticsearch bulk shipper, a non-blocking state machine in the
 * poll loop: resolve, connect, TLS, POST /_bulk (create actions, _id =
 * event.id), keep-alive, per-item results. Lines leave the queue (the spool
 * file; in memory, the outbox and then the batch) only once the server has
 * acknowledged them: 2xx or 409 acked, 429/5xx retried with capped exponential backoff and
 * jitter, other 4xx written to the dead-letter file, 413 splits the batch. */
#ifndef LURE_SHIP_H
#define LURE_SHIP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

struct config;

/* Parse the URL, open spool and dead-letter files, allocate buffers.
 * Returns 0, 1 when shipping is off, -1 after a message (exit 2). */
int
ship_setup(struct config *c);
int
ship_enabled(void);
/* Work that needs no poll and is due now (moving lines to the spool,
 * building batches, starting a request, timeouts). */
void
ship_tick(void);
/* When ship_tick() has work next, in ms (0: none); no side effects. */
int64_t
ship_deadline(void);
/* Move queued lines into the spool (when there is one): called before
 * every write of the output file, so a line in the file is in the spool. */
void
ship_feed(void);
/* The pollfd the shipper wants (fd -1 when none). */
void
ship_pollfd(struct pollfd *pfd);
void
ship_handle(short revents);
/* Shutdown: try to deliver what is queued for up to ms, then stop. */
void
ship_drain(int64_t ms);

/* Every event the shipper was given (accepted + recovered: lines a spool
 * held at start) is in exactly one of shipped, dead_lettered, dropped and
 * queued (in the outbox, in the spool not yet taken, or in the batch). */
struct ship_stats {
	uint64_t shipped, dead_lettered, retried, requests, dropped;
	uint64_t queued, recovered;
	uint64_t queued_bytes, in_flight;
	const char *state, *last_error, *spool; /* its path, or "memory" */
};
void
ship_stats(struct ship_stats *st);

/* Bulk response parsing, exposed for tests and fuzzing: fills status[i] for
 * n items (0 when missing) and reason[i] (pointer into body, not NUL
 * terminated, length in reason_len[i]). Returns items found or -1. */
long
ship_parse_bulk(const char *body, size_t len, int *status, const char **reason,
        size_t *reason_len, size_t n);

/* An HTTP/1.x response in buf[0..len) (buf holds cap + 1 bytes; chunked
 * bodies are decoded in place): 1 complete (code, body, close_after set),
 * 0 incomplete, -1 malformed or larger than cap. */
int
ship_parse_http(char *buf, size_t len, size_t cap, int *code, const char **body,
        size_t *blen, int *close_after);

#endif
