/* event.h: build one event, commit it as one NDJSON line into the outbox.
 * Keys are dotted ECS names ("source.ip") and must outlive the event (string
 * literals); the encoder sorts them and nests them ({"source":{"ip":...}}).
 * A key must not be both a leaf and a prefix of another key. Only one event is
 * under construction at a time (single-threaded). Values from attackers go
 * through event_bytes(), which escapes and caps them and, when it cuts,
 * sets "lure.truncated": true. Once a line would exceed EVENT_LINE_MAX,
 * further fields are cut or dropped (and flagged); the line is always valid. */
#ifndef LURE_EVENT_H
#define LURE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#define EVENT_MAX_FIELDS 64
#define EVENT_LINE_MAX 16384 /* one encoded line, newline included */
#define EVENT_CAP_DEFAULT 1024 /* attacker string cap, in input bytes */
#define EVENT_CAP_PAYLOAD 4096 /* lure.payload, bodies */

struct event;
struct outbox_keys;

/* Identity stamped on every event (set once at start). */
struct event_identity {
	const char *sensor_id; /* observer.name */
	const char *hostname; /* observer.hostname */
	const char *persona; /* lure.persona */
	char boot_id[17]; /* 16 hex chars */
};
void
event_setup(const struct event_identity *id);
const struct event_identity *
event_identity(void);

/* Start an event: action is one of connection.open, connection.close, login,
 * request, command, exploit, scan, status; protocol names event.dataset
 * ("lure.<protocol>") and network.protocol. Sets @timestamp, event.* from a
 * table keyed by action, observer.*, lure.persona. */
struct event *
event_begin(const char *action, const char *protocol);

void
event_str(struct event *e, const char *key, const char *s);
void
event_bytes(
        struct event *e, const char *key, const void *p, size_t n, size_t cap);
void
event_int(struct event *e, const char *key, int64_t v);
void
event_bool(struct event *e, const char *key, int v);
/* value is already JSON text (an array or object built by the caller). */
void
event_raw(struct event *e, const char *key, const char *json, size_t n);
/* Append a string to the "tags" array. */
void
event_tag(struct event *e, const char *tag);

/* Encode and push into the outbox, with where the line's event.id and
 * @timestamp values are (outbox_keys); assigns event.sequence and event.id
 * ("<sensor>-<boot>-<seq>"). Returns the sequence number. */
uint64_t
event_commit(struct event *e);
/* Encode into buf without committing (tests); returns length or 0. */
size_t
event_encode(struct event *e, char *buf, size_t cap, uint64_t seq);
void
event_discard(struct event *e);
/* Find event.id and @timestamp in a line this encoder wrote (a line read
 * back from the spool, possibly from an earlier run): walks the top-level
 * members only as far as both, skipping the values between. @timestamp sorts
 * first and "event" early, so a line is read for a few hundred bytes at most
 * (the rest is not validated). Returns 0, or -1 when either is missing. */
int
event_keys(const char *line, size_t n, struct outbox_keys *k);

/* Counters for status events. */
uint64_t
event_count(void);

#endif
