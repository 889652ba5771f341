/* proxyproto.h: HAProxy's PROXY protocol header, versions 1 (text) and 2
 * (binary), as a receiver (haproxy doc/proxy-protocol.txt). Stateless: call
 * proxyproto_parse() on every byte received so far until it stops
 * returning 0. A header that says LOCAL (v2), UNKNOWN (v1) or a family
 * other than TCP/UDP over IPv4/IPv6 (v2 AF_UNSPEC, AF_UNIX) is valid and
 * keeps the connection's own addresses (family 0). v2 TLVs are skipped. */
#ifndef LURE_PROXYPROTO_H
#define LURE_PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>

struct proxyproto {
	int family; /* 4, 6, or 0: keep the connection's addresses */
	uint8_t src[16], dst[16]; /* network order; v4 in the first 4 */
	uint16_t sport, dport;
	const char *error; /* why -1, a constant string */
};

/* >0: a complete header of that many bytes (h filled in); 0: a valid
 * prefix, call again with more bytes; -1: not a valid header (h->error). */
int
proxyproto_parse(const uint8_t *p, size_t n, struct proxyproto *h);

#endif
