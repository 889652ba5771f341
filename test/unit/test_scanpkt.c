/* test_scanpkt.c: the frame parser (src/scanpkt.c) on frames captured
 * by tcpdump on the sensor's side of test/scan's veth pair (nmap -sS over
 * IPv4 and IPv6, hping3 -1, nmap -sU's SSDP probe, an ARP request), the
 * same frames as IP packets and in a Linux cooked header, IPv6 extension
 * headers, and every truncation of each frame refused. Runs under
 * qemu-user for the cross targets (make test-cross). */
#include <string.h>

#include "scanpkt.h"
#include "unit.h"

static const uint8_t syn4[] = {
        0xe2,
        0xaf,
        0x00,
        0x31,
        0xb4,
        0xa8,
        0x2a,
        0x52,
        0x4b,
        0x90,
        0x67,
        0x4d,
        0x08,
        0x00,
        0x45,
        0x00,
        0x00,
        0x2c,
        0xaf,
        0xbd,
        0x00,
        0x00,
        0x26,
        0x06,
        0xd0,
        0x72,
        0x0a,
        0x4d,
        0x00,
        0x02,
        0x0a,
        0x4d,
        0x00,
        0x01,
        0xfe,
        0x87,
        0x00,
        0x17,
        0x8b,
        0x04,
        0x91,
        0xdd,
        0x00,
        0x00,
        0x00,
        0x00,
        0x60,
        0x02,
        0x04,
        0x00,
        0x64,
        0x09,
        0x00,
        0x00,
        0x02,
        0x04,
        0x05,
        0xb4,
};
static const uint8_t syn6[] = {
        0xe2,
        0xaf,
        0x00,
        0x31,
        0xb4,
        0xa8,
        0x2a,
        0x52,
        0x4b,
        0x90,
        0x67,
        0x4d,
        0x86,
        0xdd,
        0x60,
        0x00,
        0x00,
        0x00,
        0x00,
        0x18,
        0x06,
        0xff,
        0xfd,
        0x77,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x02,
        0xfd,
        0x77,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x01,
        0xc2,
        0xce,
        0x00,
        0x16,
        0x34,
        0x8d,
        0x00,
        0x59,
        0x00,
        0x00,
        0x00,
        0x00,
        0x60,
        0x02,
        0x04,
        0x00,
        0xa1,
        0x69,
        0x00,
        0x00,
        0x02,
        0x04,
        0x05,
        0xb4,
};
static const uint8_t icmp4[] = {
        0xe2,
        0xaf,
        0x00,
        0x31,
        0xb4,
        0xa8,
        0x2a,
        0x52,
        0x4b,
        0x90,
        0x67,
        0x4d,
        0x08,
        0x00,
        0x45,
        0x00,
        0x00,
        0x1c,
        0xb5,
        0x59,
        0x00,
        0x00,
        0x40,
        0x01,
        0xb0,
        0xeb,
        0x0a,
        0x4d,
        0x00,
        0x02,
        0x0a,
        0x4d,
        0x00,
        0x01,
        0x08,
        0x00,
        0xbe,
        0xba,
        0x39,
        0x45,
        0x00,
        0x00,
};
static const uint8_t udp4[] = {
        0xe2,
        0xaf,
        0x00,
        0x31,
        0xb4,
        0xa8,
        0x2a,
        0x52,
        0x4b,
        0x90,
        0x67,
        0x4d,
        0x08,
        0x00,
        0x45,
        0x00,
        0x00,
        0x7a,
        0x0c,
        0x40,
        0x00,
        0x00,
        0x25,
        0x11,
        0x74,
        0x97,
        0x0a,
        0x4d,
        0x00,
        0x02,
        0x0a,
        0x4d,
        0x00,
        0x01,
        0xb5,
        0x6f,
        0x07,
        0x6c,
        0x00,
        0x66,
        0x81,
        0xb9,
        0x4d,
        0x2d,
        0x53,
        0x45,
        0x41,
        0x52,
        0x43,
        0x48,
        0x20,
        0x2a,
        0x20,
        0x48,
        0x54,
        0x54,
        0x50,
        0x2f,
        0x31,
        0x2e,
        0x31,
        0x0d,
        0x0a,
        0x48,
        0x6f,
        0x73,
        0x74,
        0x3a,
        0x20,
        0x32,
        0x33,
        0x39,
        0x2e,
        0x32,
        0x35,
        0x35,
        0x2e,
        0x32,
        0x35,
        0x35,
        0x2e,
        0x32,
        0x35,
        0x30,
        0x3a,
        0x31,
        0x39,
        0x30,
        0x30,
        0x0d,
        0x0a,
        0x4d,
        0x61,
        0x6e,
        0x3a,
        0x20,
        0x22,
        0x73,
        0x73,
        0x64,
        0x70,
        0x3a,
        0x64,
        0x69,
        0x73,
        0x63,
        0x6f,
        0x76,
        0x65,
        0x72,
        0x22,
        0x0d,
        0x0a,
        0x4d,
        0x58,
        0x3a,
        0x20,
        0x35,
        0x0d,
        0x0a,
        0x53,
        0x54,
        0x3a,
        0x20,
        0x73,
        0x73,
        0x64,
        0x70,
        0x3a,
        0x61,
        0x6c,
        0x6c,
        0x0d,
        0x0a,
        0x0d,
        0x0a,
};
static const uint8_t arp[] = {
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0x2a,
        0x52,
        0x4b,
        0x90,
        0x67,
        0x4d,
        0x08,
        0x06,
        0x00,
        0x01,
        0x08,
        0x00,
        0x06,
        0x04,
        0x00,
        0x01,
        0x2a,
        0x52,
        0x4b,
        0x90,
        0x67,
        0x4d,
        0x0a,
        0x4d,
        0x00,
        0x02,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x0a,
        0x4d,
        0x00,
        0x01,
};

static void
test_ipv4_syn(void)
{
	struct scanpkt p;

	CHECK(scanpkt_parse(&p, syn4, sizeof syn4, SCANPKT_ETH) == 0);
	CHECK(p.family == 4 && p.transport == SCANPKT_TCP && p.proto == 6);
	CHECK(p.src[0] == 10 && p.src[1] == 77 && p.src[3] == 2);
	CHECK(p.dst[3] == 1 && p.sport == 0xfe87 && p.dport == 23);
	CHECK(p.flags == 0x02 && p.win == 1024 && p.ttl == 0x26 && !p.df);
	CHECK(p.ip_id == 0xafbd && p.seq == 0x8b0491dd && p.ack == 0);
	CHECK(p.optlen == 4 && p.opt[0] == 2 && p.opt[1] == 4);
	CHECK(p.payload_len == 0);
	/* the IP packet alone, and behind a cooked header */
	CHECK(scanpkt_parse(&p, syn4 + 14, sizeof syn4 - 14, SCANPKT_IP) == 0);
	CHECK(p.dport == 23);
	{
		uint8_t sll[16 + sizeof syn4 - 14];
		memset(sll, 0, 16);
		sll[14] = 0x08;
		memcpy(sll + 16, syn4 + 14, sizeof syn4 - 14);
		CHECK(scanpkt_parse(&p, sll, sizeof sll, SCANPKT_SLL) == 0);
		CHECK(p.dport == 23 && p.win == 1024);
	}
}

static void
test_ipv6_syn(void)
{
	struct scanpkt p;

	CHECK(scanpkt_parse(&p, syn6, sizeof syn6, SCANPKT_ETH) == 0);
	CHECK(p.family == 6 && p.transport == SCANPKT_TCP && p.ttl == 255);
	CHECK(p.src[0] == 0xfd && p.src[15] == 2 && p.dst[15] == 1);
	CHECK(p.dport == 22 && p.flags == 0x02 && p.optlen == 4);
}

static void
test_icmp_udp_arp(void)
{
	struct scanpkt p;

	CHECK(scanpkt_parse(&p, icmp4, sizeof icmp4, SCANPKT_ETH) == 0);
	CHECK(p.transport == SCANPKT_ICMP && p.icmp_type == 8);
	CHECK(p.icmp_id == 0x3945 && p.dport == 0);
	CHECK(scanpkt_parse(&p, udp4, sizeof udp4, SCANPKT_ETH) == 0);
	CHECK(p.transport == SCANPKT_UDP && p.dport == 1900);
	CHECK(p.payload_len == 94 && memcmp(p.payload, "M-SEARCH * ", 11) == 0);
	CHECK(scanpkt_parse(&p, arp, sizeof arp, SCANPKT_ETH) < 0);
}

/* An IPv6 packet: hop-by-hop, then a first fragment, then ICMPv6 echo. */
static void
test_ipv6_extension_headers(void)
{
	uint8_t f[40 + 8 + 8 + 8] = {0x60};
	struct scanpkt p;

	f[5] = 24;
	f[6] = 0; /* hop-by-hop */
	f[7] = 64;
	f[40] = 44; /* next: fragment */
	f[48] = 58; /* next: ICMPv6; offset 0 */
	f[56] = 128;
	CHECK(scanpkt_parse(&p, f, sizeof f, SCANPKT_IP) == 0);
	CHECK(p.proto == 58 && p.transport == SCANPKT_ICMP &&
	        p.icmp_type == 128);
	f[51] = 8; /* a later fragment: refused */
	CHECK(scanpkt_parse(&p, f, sizeof f, SCANPKT_IP) < 0);
	f[51] = 0;
	f[41] = 1; /* hop-by-hop of 16 bytes: runs past the payload */
	CHECK(scanpkt_parse(&p, f, sizeof f, SCANPKT_IP) < 0);
}

/* Every frame cut short by any number of bytes is refused (a length
 * field then says more than the frame holds). */
static void
test_truncated(void)
{
	const struct {
		const uint8_t *f;
		size_t n;
	} t[] = {{syn4, sizeof syn4}, {syn6, sizeof syn6},
	        {icmp4, sizeof icmp4}, {udp4, sizeof udp4}};
	struct scanpkt p;

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		for (size_t n = 0; n < t[i].n; n++)
			CHECK(scanpkt_parse(&p, t[i].f, n, SCANPKT_ETH) < 0);
}

const struct unit_test unit_scanpkt[] = {
        {"ipv4_syn", test_ipv4_syn},
        {"ipv6_syn", test_ipv6_syn},
        {"icmp_udp_arp", test_icmp_udp_arp},
        {"ipv6_extension_headers", test_ipv6_extension_headers},
        {"truncated", test_truncated},
        {NULL, NULL},
};
