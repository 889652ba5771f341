/* scanfp.h: who sent a packet, from its headers alone: the scanner tool
 * whose packet builder left a mark (ZMap, Masscan, Mirai and its
 * descendants, Nmap) and a p0f-style guess of the sender's OS from a TCP
 * SYN's initial TTL, window, option layout and DF bit. No state, no
 * allocation, no I/O: src/scan.c puts the result on its events. */
#ifndef LURE_SCANFP_H
#define LURE_SCANFP_H

#include <stdint.h>

#include "scanpkt.h"

struct scanfp {
	const char *tool; /* "zmap" "masscan" "mirai" "nmap", or NULL */
	const char *evidence; /* the rule that named it (constant), or NULL */
	const char *os; /* "linux" "windows" "macos" "freebsd" "openbsd",
			 * or NULL; only for a TCP SYN no tool claimed */
	uint8_t ttl_initial; /* the TTL rounded up to 32, 64, 128 or 255 */
	uint8_t hops; /* ttl_initial - ttl */
	int32_t mss, wscale; /* TCP option values, -1 when absent */
	/* the TCP options' layout, one letter each in wire order (M mss,
	 * N nop, W window scale, S SACK permitted, T timestamps, E end of
	 * list, where it stops; ? any other kind, ! a bad length, where it
	 * stops), at most 15 letters, NUL-terminated; "" for none */
	char opts[16];
};

/* Classifies the parsed packet p into out (every field set). */
void
scanfp_guess(const struct scanpkt *p, struct scanfp *out);

#endif
