/* sshlimit.h: an SSH daemon's own limit on connections not logged in yet,
 * as a scanner meets it on the port (src/sshlimit.c). No I/O. */
#ifndef LURE_SSHLIMIT_H
#define LURE_SSHLIMIT_H

#include <stdint.h>

/* connections before authentication tracked at once (sshd's MaxStartups
 * full, dropbear's MAX_UNAUTH_CLIENTS: both are below) */
#define SSHLIMIT_MAX 128

struct sshlimit {
	/* sshd's MaxStartups start:rate:full (0 start: not this rule) */
	unsigned start, rate, full;
	/* dropbear's MAX_UNAUTH_PER_IP and MAX_UNAUTH_CLIENTS (0: not this
	 * rule) */
	unsigned per_addr, total;
};

enum sshlimit_verdict {
	SSHLIMIT_OK, /* *id holds the connection's place until sshlimit_done */
	SSHLIMIT_DROP, /* close before the banner, without a word (dropbear) */
	SSHLIMIT_EXCEEDED, /* "Exceeded MaxStartups\r\n", then close (sshd) */
};

/* A new connection from addr (text, as in its events). */
enum sshlimit_verdict
sshlimit_admit(const struct sshlimit *l, const char *addr, uint8_t *id);
/* The connection logged in or closed: its place is free (*id becomes 0;
 * nothing when it is 0). */
void
sshlimit_done(uint8_t *id);
/* Connections holding a place now. */
unsigned
sshlimit_count(void);

#endif
