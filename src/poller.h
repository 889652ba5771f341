/* poller.h: the loop's readiness backend and its timers. Interest is kept
 * per reference (a small integer the caller names: the output file, the
 * shipper, then conn.c's listeners and slots), so a pass costs what is
 * ready or due, not what is open. One backend is compiled in, picked by
 * the Makefile (POLLER=epoll on Linux, POLLER=poll elsewhere), as redis's
 * ae picks one file; src/poller.c holds the timers, whatever the backend. */
#ifndef LURE_POLLER_H
#define LURE_POLLER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* the loop's references; conn.c's start at POLLER_CONN */
enum { POLLER_OUT, POLLER_SHIP, POLLER_CONN };

/* Room for references [0, n) and their timers. -1: out of memory. */
int
poller_init(size_t n);
/* Poll fd for events (POLLIN, POLLOUT) under ref; 0 stops. A call that
 * changes nothing costs nothing. fd -1: the descriptor is being closed
 * (the kernel forgets it; the backend only forgets the reference).
 * -1: fd cannot be polled (epoll refuses a regular file: always ready). */
int
poller_set(uint32_t ref, int fd, short events);
/* Wait until something is ready, timeout_ms passes (-1: no time-out) or a
 * signal comes; the signal mask is mask while waiting (nothing is lost
 * between a flag check and the sleep). Returns how many are ready, 0, or
 * -1 with errno. */
int
poller_wait(int64_t timeout_ms, const sigset_t *mask);
/* The i-th ready reference of the last poller_wait() and its revents. */
short
poller_ready(int i, uint32_t *ref);

/* Timers: at most one deadline per reference, in a binary heap. */
int
poller_timer_init(size_t n);
/* Set (0: clear) ref's deadline. */
void
poller_timer_set(uint32_t ref, int64_t at);
/* The earliest deadline, 0 when none. */
int64_t
poller_timer_first(void);
/* Take one reference whose deadline is <= now off the heap: 1 and *ref,
 * or 0 when none is due. */
int
poller_timer_due(int64_t now, uint32_t *ref);

#endif
