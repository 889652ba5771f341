/* conn.h: listeners (persona port map x listen addresses, TCP and UDP) and
 * the fixed connection pool. All memory is taken in conn_setup(); after
 * that, accepting, serving and closing allocate nothing. */
#ifndef LURE_CONN_H
#define LURE_CONN_H

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
/* Fire the connection timers due at now (idle, session, emulator
 * wake-ups; src/poller.h's heap) and settle each connection that is due or
 * had I/O since the last call: what it wants polled and its next deadline
 * are registered with src/poller.h here. */
void
conn_tick(int64_t now);
/* Act on revents of conn.c's poller reference ref (counted from
 * POLLER_CONN). */
void
conn_poll_handle(uint32_t ref, short revents);
/* How many poller references conn.c uses (listeners and slots). */
size_t
conn_poll_max(void);
/* Close every connection (on_close with EMU_CLOSE_SHUTDOWN) and listener. */
void
conn_shutdown(void);

struct conn_stats {
	uint64_t accepted, rejected_per_ip, datagrams, closed;
	/* answers src/udpguard.h did not let out, and their bytes */
	uint64_t udp_withheld, udp_withheld_bytes;
	unsigned open, max;
};
void
conn_stats(struct conn_stats *st);

#endif
