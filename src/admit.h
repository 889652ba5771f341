/* admit.h: who may take a slot of the connection pool, and the trace of
 * who was refused. A source is its IPv4 address or its IPv6 prefix
 * (limits.ipv6_prefix bits); one source holds at most limits.per_ip
 * connections (one more takes the place of its least recently active:
 * src/conn.c) and never more than half the pool. Refusals are counted per
 * source, port and reason and written as one connection.refused event
 * (event.dataset lure.refused) per limits.refused_window, so a flood of
 * refusals is a handful of lines. Descriptors: the soft limit is raised to
 * the hard one at start and the pool sized from what was obtained; one
 * descriptor is kept in reserve so that, out of descriptors (EMFILE,
 * ENFILE), a pending connection can still be taken off the backlog and
 * closed, and the listeners rest for a second instead of spinning. */
#ifndef LURE_ADMIT_H
#define LURE_ADMIT_H

#include <stdint.h>

struct config;
struct event;

enum admit_reason {
	ADMIT_OK,
	ADMIT_PER_IP, /* the source holds limits.per_ip connections */
	ADMIT_SHARE, /* the source holds half the pool */
	ADMIT_FULL, /* the pool is full and no connection may be evicted */
	ADMIT_NOFILE /* out of file descriptors */
};

/* Raise RLIMIT_NOFILE to its hard limit and lower c->max_conns to what the
 * descriptors obtained can serve (with a log line); take the reserve. */
void
admit_setup(struct config *c);
/* The source key of an address, in place: IPv6 cut to its prefix, the
 * unused bytes zeroed. */
void
admit_key(int family, uint8_t ip[16]);
/* ADMIT_OK, or why a source holding n connections may not open one more. */
int
admit_check(unsigned n);
/* Count a refused connection (key from admit_key(), port the local port)
 * and log it, aggregated; why ADMIT_OK: count only (an excluded source). */
void
admit_refuse(int family, const uint8_t key[16], uint16_t port, int why);
/* accept() failed with EMFILE or ENFILE: rest the listeners a second
 * (one log line a minute) and free the reserve, taken again when the rest
 * ends. 1: one accept() may now succeed (its connection is to be closed
 * and given to admit_refuse(..., ADMIT_NOFILE)). */
int
admit_nofile(void);
/* Write the refusal events that are due (all of them at INT64_MAX). */
void
admit_tick(int64_t now);
/* The next time admit_tick() has work, 0 when none. */
int64_t
admit_deadline(void);
/* lure.nofile and lure.connections.refused of the status event. */
void
admit_status(struct event *e);

/* Nonzero while the listeners rest (from admit_nofile() to the
 * admit_tick() a second later). */
extern int admit_resting;

#endif
