/* conn.h: listeners (persona port map x listen addresses, TCP and UDP) and
 * the fixed connection pool. All memory is taken in conn_setup(); after
 * that, accepting, serving and closing allocate nothing. */
#ifndef LURE_CONN_H
#define LURE_CONN_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

struct config;

/* Allocate the pool and bind every listener (before dropping privileges).
 * Returns 0, or -1 after a message naming the address and port. */
int
conn_setup(const struct config *c);
/* JSON array of the listeners for the status event. */
const char *
conn_listeners_json(void);
/* Fire the timers due at now (idle, session, emulator wake-ups) and settle
 * each connection: what it wants polled next is decided here. */
void
conn_tick(int64_t now);
/* Append the pollfds the pool wants (listeners only while a slot is free)
 * and lower *deadline to the earliest connection deadline; no side effects
 * (conn_tick() ran first). Returns how many were added. */
size_t
conn_poll_prepare(struct pollfd *pfd, size_t cap, int64_t *deadline);
/* Act on the revents of the pollfds conn_poll_prepare() added. */
void
conn_poll_handle(const struct pollfd *pfd, size_t n);
/* Most pollfds conn_poll_prepare() can add. */
size_t
conn_poll_max(void);
/* Close every connection (on_close with EMU_CLOSE_SHUTDOWN) and listener. */
void
conn_shutdown(void);

struct conn_stats {
	uint64_t accepted, rejected_per_ip, datagrams, closed;
	unsigned open, max;
};
void
conn_stats(struct conn_stats *st);

#endif
