/* scanpkt.h: one captured frame to the header fields that scan
 * observation (src/scan.c) and tool fingerprints (src/scanfp.h) read.
 * Bytes in, fields out: no I/O, no allocation, nothing read past n. A
 * frame is an IPv4 or IPv6 packet (what a SOCK_DGRAM packet socket
 * gives), or an Ethernet (with up to two VLAN tags) or Linux cooked
 * (SLL) frame around one. IPv6 extension headers (hop-by-hop, routing,
 * destination options, fragment) are walked; a non-first fragment, a
 * header cut short, a length field pointing past the frame, or a transport
 * other than TCP, UDP, ICMP and ICMPv6 is refused. */
#ifndef LURE_SCANPKT_H
#define LURE_SCANPKT_H

#include <stddef.h>
#include <stdint.h>

enum { SCANPKT_IP, SCANPKT_ETH, SCANPKT_SLL }; /* what the frame starts with */
enum { SCANPKT_TCP, SCANPKT_UDP, SCANPKT_ICMP }; /* transport (ICMPv6 too) */

struct scanpkt {
	uint8_t family; /* 4 or 6 */
	uint8_t transport; /* SCANPKT_TCP... */
	uint8_t proto; /* the IP protocol number: 6, 17, 1 or 58 */
	uint8_t ttl; /* TTL or hop limit */
	uint8_t src[16], dst[16]; /* network order; IPv4 in the first 4 */
	uint16_t ip_id; /* IPv4 identification (0 for IPv6) */
	uint16_t ip_len; /* IPv4 total length, IPv6 payload length + 40 */
	uint8_t df; /* IPv4 don't-fragment bit */
	uint8_t tos; /* IPv4 TOS, IPv6 traffic class */
	uint32_t flow; /* IPv6 flow label (0 for IPv4) */
	uint16_t sport, dport; /* TCP/UDP ports; ICMP: 0 */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq; /* echo request identifier, sequence */
	/* TCP */
	uint32_t seq, ack;
	uint8_t flags; /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10... */
	uint16_t win, urg;
	uint8_t optlen; /* TCP options: opt[0..optlen) */
	const uint8_t *opt;
	/* after the transport header, cut to what the frame holds */
	const uint8_t *payload;
	size_t payload_len;
};

/* Parse frame[0..n) (link: SCANPKT_IP, _ETH or _SLL) into p. 0, or -1
 * when the frame is refused. */
int
scanpkt_parse(struct scanpkt *p, const uint8_t *frame, size_t n, int link);

#endif
