/* udpguard.h: the one rule every UDP answer obeys, whatever the emulator (a
 * sensor must not be a reflector: a UDP source address can be forged).
 * Within its window (UDPGUARD_WINDOW_S from its first datagram) a source
 * gets at most the bytes it sent in that window (plus limits.udp_grace,
 * 0 by default), credit earned by one datagram spent by a later answer;
 * then at most UDPGUARD_SRC_MAX answers per source window and
 * UDPGUARD_RATE answers a second in all. Sources are kept in a fixed table
 * under a keyed hash; a live source is never evicted for a new one (a source
 * that finds no room is judged on its datagram alone). No allocation. */
#ifndef LURE_UDPGUARD_H
#define LURE_UDPGUARD_H

#include <stddef.h>
#include <stdint.h>

#define UDPGUARD_WINDOW_S 10
#define UDPGUARD_SRC_MAX 4
#define UDPGUARD_RATE 64

/* A datagram of n bytes came from ip (family 4: ip[0..4), 6: ip[0..16)):
 * returns the most bytes its answer may have, 0 for none; grace is
 * limits.udp_grace. */
size_t
udpguard_in(int family, const uint8_t ip[16], size_t n, unsigned grace);
/* The answer to that datagram: m bytes sent (after udpguard_in()). */
void
udpguard_out(size_t m);

#endif
