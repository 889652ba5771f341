/* scanpkt.c: see scanpkt.h. Every read is checked against the end of
 * the frame before it is made; the IPv4 total length and the IPv6 payload
 * length, when they say less than the frame holds (Ethernet padding), cut
 * it, and when they say more the frame is refused (a truncated capture
 * is not a packet we can vouch for). Compared with: tcpdump's
 * print-ip.c/print-ip6.c walk (the same extension headers; AH and ESP are
 * not walked here: a scan under IPsec is not a scan). */
#include <string.h>

#include "scanpkt.h"

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

/* The transport header at q[0..n): 0 or -1. */
static int
transport(struct scanpkt *p, const uint8_t *q, size_t n)
{
	size_t h;

	switch (p->proto) {
	case 6:
		if (n < 20 || (h = (size_t)(q[12] >> 4) * 4) < 20 || h > n)
			return -1;
		p->transport = SCANPKT_TCP;
		p->seq = be32(q + 4);
		p->ack = be32(q + 8);
		p->flags = q[13];
		p->win = be16(q + 14);
		p->urg = be16(q + 18);
		p->opt = q + 20;
		p->optlen = (uint8_t)(h - 20);
		break;
	case 17:
		if (n < (h = 8))
			return -1;
		p->transport = SCANPKT_UDP;
		break;
	case 1:
	case 58:
		if (n < (h = 8))
			return -1;
		p->transport = SCANPKT_ICMP;
		p->icmp_type = q[0];
		p->icmp_code = q[1];
		p->icmp_id = be16(q + 4);
		p->icmp_seq = be16(q + 6);
		p->payload = q + h;
		p->payload_len = n - h;
		return 0;
	default: return -1;
	}
	p->sport = be16(q);
	p->dport = be16(q + 2);
	p->payload = q + h;
	p->payload_len = n - h;
	return 0;
}

static int
ipv4(struct scanpkt *p, const uint8_t *q, size_t n)
{
	size_t h, len;

	if (n < 20 || (q[0] >> 4) != 4 || (h = (size_t)(q[0] & 15) * 4) < 20 ||
	        (len = be16(q + 2)) < h || len > n)
		return -1;
	if (be16(q + 6) & 0x1fff) /* a later fragment: no header to read */
		return -1;
	p->family = 4;
	p->tos = q[1];
	p->ip_len = (uint16_t)len;
	p->ip_id = be16(q + 4);
	p->df = (q[6] >> 6) & 1;
	p->ttl = q[8];
	p->proto = q[9];
	memcpy(p->src, q + 12, 4);
	memcpy(p->dst, q + 16, 4);
	return transport(p, q + h, len - h);
}

static int
ipv6(struct scanpkt *p, const uint8_t *q, size_t n)
{
	size_t at = 40, len;
	uint8_t nh;

	if (n < 40 || (q[0] >> 4) != 6 || (len = 40 + (size_t)be16(q + 4)) > n)
		return -1;
	p->family = 6;
	p->tos = (uint8_t)(be16(q) >> 4);
	p->flow = be32(q) & 0xfffff;
	p->ip_len = (uint16_t)len;
	p->ttl = q[7];
	memcpy(p->src, q + 8, 16);
	memcpy(p->dst, q + 24, 16);
	for (nh = q[6]; nh == 0 || nh == 43 || nh == 44 || nh == 60;) {
		const uint8_t *x = q + at;
		if (at + 8 > len)
			return -1;
		if (nh == 44 && (be16(x + 2) & 0xfff8)) /* a later fragment */
			return -1;
		at += nh == 44 ? 8 : 8 + (size_t)x[1] * 8;
		nh = x[0];
		if (at > len)
			return -1;
	}
	p->proto = nh;
	return transport(p, q + at, len - at);
}

int
scanpkt_parse(struct scanpkt *p, const uint8_t *f, size_t n, int link)
{
	size_t at = 0;
	uint16_t type = 0;

	memset(p, 0, sizeof *p);
	if (link == SCANPKT_ETH) {
		for (at = 12;; at += 4) {
			if (n < at + 2 || at > 20)
				return -1;
			type = be16(f + at);
			if (type != 0x8100 && type != 0x88a8)
				break;
		}
		at += 2;
	} else if (link == SCANPKT_SLL) {
		if (n < 16)
			return -1;
		type = be16(f + 14);
		at = 16;
	} else if (n) {
		type = f[0] >> 4 == 6 ? 0x86dd : 0x0800;
	}
	if (type == 0x0800)
		return ipv4(p, f + at, n - at);
	return type == 0x86dd ? ipv6(p, f + at, n - at) : -1;
}
