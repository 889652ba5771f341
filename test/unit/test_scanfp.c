/* test_scanfp.c: scanner tools and OS guesses from packet headers. The
 * "real" vectors are IP + TCP (or ICMP) headers captured with tcpdump
 * 4.99 in a network namespace on Debian 12, sent by nmap 7.93 (-sS, -O,
 * -6 -sS), masscan 1.3.2 (IPv4 and IPv6), zmap 2.1.1 (tcp_synscan,
 * icmp_echoscan), hping3 3.0.0-alpha-2 (-S) and Linux 6.x connect(); the
 * crafted ones follow each rule's source (Mirai, and the OS signatures
 * of p0f.fp we have no machine to capture from). */
#include "lure.h"
#include "scanfp.h"
#include "unit.h"

static uint8_t pkt[80];

/* hex to bytes; spaces (for reading) skipped */
static size_t
unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v = 0, d = 0;

	for (; *h && n < cap; h++) {
		if (*h == ' ')
			continue;
		v = v << 4 |
		    (unsigned)(*h <= '9' ? *h - '0' : (*h | 0x20) - 'a' + 10);
		if (++d % 2 == 0)
			out[n++] = (uint8_t)v;
	}
	return n;
}

static int
same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The fields scanfp reads, from an IPv4 or IPv6 header followed by a TCP
 * or ICMP header (a test's own parser: src/scanpkt.c is scan's). */
static void
parse(struct scanpkt *p, const uint8_t *b)
{
	const uint8_t *t;

	memset(p, 0, sizeof *p);
	p->family = b[0] >> 4;
	if (p->family == 4) {
		p->proto = b[9], p->ttl = b[8], p->df = (b[6] & 0x40) != 0;
		p->ip_id = (uint16_t)(b[4] << 8 | b[5]);
		memcpy(p->src, b + 12, 4), memcpy(p->dst, b + 16, 4);
		t = b + (b[0] & 15) * 4;
	} else {
		p->proto = b[6], p->ttl = b[7];
		memcpy(p->src, b + 8, 16), memcpy(p->dst, b + 24, 16);
		t = b + 40;
	}
	p->transport = p->proto == 6    ? SCANPKT_TCP
	               : p->proto == 17 ? SCANPKT_UDP
	                                : SCANPKT_ICMP;
	if (p->transport != SCANPKT_TCP)
		return;
	p->sport = (uint16_t)(t[0] << 8 | t[1]);
	p->dport = (uint16_t)(t[2] << 8 | t[3]);
	p->seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 |
	         (uint32_t)t[6] << 8 | t[7];
	p->flags = t[13];
	p->win = (uint16_t)(t[14] << 8 | t[15]);
	p->optlen = (uint8_t)((t[12] >> 4) * 4 - 20);
	p->opt = t + 20;
}

static const struct {
	const char *name, *hex, *tool, *os;
} real[] = {
        /* nmap -sS: TTL 52 and 47, window 1024, MSS 1460 alone, no DF */
        {"nmap-sS",
                "4500002c3e2f0000340632a70afa00010afa0002b1b000504de58d33000000"
                "0060020400f1160000020405b4",
                "nmap", NULL},
        {"nmap-sS-2",
                "4500002c497e00002f062c580afa00010afa0002b1b01f904de58d33000000"
                "0060020400d1d60000020405b4",
                "nmap", NULL},
        /* nmap -O: SEQ 1 to 6, ECN, T3, T5 */
        {"nmap-O-seq1",
                "4500003c3d4e0000300637780afa00010afa0002b9131f90b0fe1cd6cc9282"
                "a4a0020001335f000003030a01020405b4080affffffff000000000402",
                "nmap", NULL},
        {"nmap-O-seq2",
                "4500003c84e200002b06f4e30afa00010afa0002b9141f90b0fe1cd7cc9282"
                "a4a002003f3d5c0000020405780303000402080affffffff0000000000",
                "nmap", NULL},
        {"nmap-O-seq3",
                "4500003cbf6900002d06b85c0afa00010afa0002b9151f90b0fe1cd8cc9282"
                "a4a00200043e8d0000080affffffff0000000001010303050102040280",
                "nmap", NULL},
        {"nmap-O-seq4",
                "450000381d310000260661990afa00010afa0002b9161f90b0fe1cd9cc9282"
                "a4900200044b1300000402080affffffff0000000003030a00",
                "nmap", NULL},
        {"nmap-O-seq5",
                "4500003c79d800002d06fded0afa00010afa0002b9171f90b0fe1cdacc9282"
                "a4a002001036e50000020402180402080affffffff0000000003030a00",
                "nmap", NULL},
        {"nmap-O-seq6",
                "450000385be900002c061ce10afa00010afa0002b9181f90b0fe1cdbcc9282"
                "a49002020053090000020401090402080affffffff00000000",
                "nmap", NULL},
        {"nmap-O-ecn",
                "45000034e77a00002d0690530afa00010afa0002b91f1f90b0fe1cd6000000"
                "0088c20003a8e3f7f503030a01020405b404020101",
                "nmap", NULL},
        {"nmap-O-t3",
                "4500003cba8f00003606b4360afa00010afa0002b9221f90b0fe1cd6cc9282"
                "a4a02b010036d3000003030a0102040109080affffffff000000000402",
                "nmap", NULL},
        {"nmap-O-t5",
                "4500003c259f0000360649270afa00010afa0002b9240001b0fe1cd6cc9282"
                "a4a0027a69dd1f000003030a0102040109080affffffff000000000402",
                "nmap", NULL},
        {"nmap-6-sS",
                "60000000001806fffd000250000000000000000000000001fd000250000000"
                "000000000000000002bfe200562c327dcb00000000600204002b4c00000204"
                "05b4",
                "nmap", NULL},
        /* masscan: TTL 255, window 1024, no options (1.3.2), IP ID
	 * 0xf517 = 0x0002 (10.250.0.2) ^ 82 ^ 0xf547 (seq) */
        {"masscan",
                "45000028f5170000ff06b0c10afa00010afa0002e9230052c7a9f547000000"
                "0050020400ef840000",
                "masscan", NULL},
        {"masscan-2",
                "450000284b620000ff065a770afa00010afa0002e9230051cfd84b31000000"
                "0050020400916d0000",
                "masscan", NULL},
        {"masscan-6",
                "60000000001406fffd000250000000000000000000000001fd000250000000"
                "000000000000000002e95200556923b0b60000000050020400a9bc0000",
                "masscan", NULL},
        /* zmap: IP ID 54321, TTL 255, TCP window 65535 */
        {"zmap-tcp",
                "45000028d4310000ff06d1a70afa00010afa00029e370053e49aadd0000000"
                "005002ffff68f60000",
                "zmap", NULL},
        {"zmap-icmp",
                "45000028d4310000ff01d1ac0afa00010afa0002080047c5b03a0000",
                "zmap", NULL},
        /* hping3 -S: TTL 64, no DF, window 512, no options: nothing */
        {"hping3",
                "4500002813010000400651d90afa00010afa00020bc000541a3fc19c6c993d"
                "895002020005da0000",
                NULL, NULL},
        /* connect() from Linux: no tool, and Linux */
        {"linux",
                "4500003c63a740004006c11e0afa00010afa000296761f90f158584a000000"
                "00a002faf016250000020405b40402080a55a476a1000000000103030a",
                NULL, "linux"},
        {"linux-6",
                "600328e100280640fd000250000000000000000000000001fd000250000000"
                "000000000000000002e5320057783808a500000000a002fd20fed200000204"
                "05a00402080aad9d2182000000000103030a",
                NULL, "linux"},
};

static void
test_real(void)
{
	struct scanpkt p;
	struct scanfp f;

	for (size_t i = 0; i < LURE_ARRAY_LEN(real); i++) {
		unhex(real[i].hex, pkt, sizeof pkt);
		parse(&p, pkt);
		scanfp_guess(&p, &f);
		if (!same(f.tool, real[i].tool) || !same(f.os, real[i].os) ||
		        !f.evidence != !f.tool) {
			unit_fail(__FILE__, __LINE__, real[i].name);
			return;
		}
	}
	/* the fields of the Linux SYN */
	unhex(real[LURE_ARRAY_LEN(real) - 2].hex, pkt, sizeof pkt);
	parse(&p, pkt);
	scanfp_guess(&p, &f);
	CHECK_STR(f.opts, "MSTNW");
	CHECK(f.mss == 1460 && f.wscale == 10);
	CHECK(f.ttl_initial == 64 && f.hops == 0);
	CHECK(f.evidence == NULL);
	/* nmap's TTL 52 is 12 hops from 64 */
	unhex(real[0].hex, pkt, sizeof pkt);
	parse(&p, pkt);
	scanfp_guess(&p, &f);
	CHECK(f.ttl_initial == 64 && f.hops == 12);
	CHECK(same(f.evidence, "tcp.window+options=syn-scan"));
	CHECK_STR(f.opts, "M");
}

/* A SYN from 10.250.0.1 to 10.250.0.2:23 with these fields. */
static void
syn(struct scanpkt *p, uint8_t ttl, int df, uint16_t win, const char *opts)
{
	static uint8_t o[40];

	memset(p, 0, sizeof *p);
	p->family = 4, p->proto = 6, p->transport = SCANPKT_TCP;
	p->ttl = ttl, p->df = (uint8_t)df, p->win = win;
	p->ip_id = 4242, p->seq = 0x12345678, p->flags = 0x02;
	memcpy(p->src, "\x0a\xfa\x00\x01", 4);
	memcpy(p->dst, "\x0a\xfa\x00\x02", 4);
	p->sport = 40000, p->dport = 23;
	p->optlen = (uint8_t)unhex(opts, o, sizeof o);
	p->opt = o;
}

static void
test_mirai(void)
{
	struct scanpkt p;
	struct scanfp f;

	/* Mirai scanner.c: seq = daddr, TTL 64, no DF, random window, no
	 * options */
	syn(&p, 64, 0, 0x9c3e, "");
	p.seq = 0x0afa0002;
	scanfp_guess(&p, &f);
	CHECK(same(f.tool, "mirai"));
	CHECK(same(f.evidence, "tcp.seq=ip.dst"));
	CHECK(f.os == NULL);
	p.seq = 0x020afa0a; /* the address byte-swapped: not Mirai's */
	scanfp_guess(&p, &f);
	CHECK(f.tool == NULL);
	p.seq = 0x0afa0002, p.df = 1; /* a kernel's SYN sets DF */
	scanfp_guess(&p, &f);
	CHECK(f.tool == NULL);
}

static void
test_not_tools(void)
{
	struct scanpkt p;
	struct scanfp f;

	/* a Linux SYN that happens to carry IP ID 54321: DF set, not ZMap */
	syn(&p, 64, 1, 65535, "020405b40402080a55a476a1000000000103030a");
	p.ip_id = 54321;
	scanfp_guess(&p, &f);
	CHECK(f.tool == NULL);
	CHECK(same(f.os, "linux"));
	/* without DF, window 65535 and ID 54321: ZMap */
	p.df = 0;
	scanfp_guess(&p, &f);
	CHECK(same(f.tool, "zmap"));
	CHECK(f.os == NULL); /* a tool's packet says nothing of an OS */
	/* masscan's IP ID, but window 64240: not masscan */
	syn(&p, 255, 0, 64240, "");
	p.ip_id = (uint16_t)(0x0002 ^ 23 ^ 0x5678);
	scanfp_guess(&p, &f);
	CHECK(f.tool == NULL);
	p.win = 1024;
	scanfp_guess(&p, &f);
	CHECK(same(f.tool, "masscan"));
	/* nmap's window and MSS, but DF and TTL 128: not nmap */
	syn(&p, 120, 1, 1024, "020405b4");
	scanfp_guess(&p, &f);
	CHECK(f.tool == NULL);
	syn(&p, 120, 0, 1024, "020405b4");
	scanfp_guess(&p, &f);
	CHECK(f.tool == NULL);
	/* MSS 1380: not nmap's probe */
	syn(&p, 50, 0, 1024, "02040564");
	scanfp_guess(&p, &f);
	CHECK(f.tool == NULL);
	/* a SYN-ACK is not a probe: no nmap, no OS */
	syn(&p, 50, 0, 1024, "020405b4");
	p.flags = 0x12;
	scanfp_guess(&p, &f);
	CHECK(f.tool == NULL);
	syn(&p, 64, 1, 64240, "020405b40402080a55a476a1000000000103030a");
	p.flags = 0x12;
	scanfp_guess(&p, &f);
	CHECK(f.os == NULL);
}

/* p0f.fp [tcp:request] signatures, one SYN each */
static const struct {
	uint8_t ttl, df;
	uint16_t win;
	const char *opts, *os;
} os_v[] = {
        /* Windows 10/11: 64240, mss,nop,ws 8,nop,nop,sok; 12 hops */
        {116, 1, 64240, "020405b4010303080101 0402", "windows"},
        /* Windows 7: 8192, mss,nop,nop,sok */
        {128, 1, 8192, "020405b401010402", "windows"},
        /* Windows 7 or 8: 8192,2:mss,nop,ws,sok,ts */
        {128, 1, 8192, "020405b40103030204 02080a0000000100000000", "windows"},
        /* macOS: 65535, mss,nop,ws 6,nop,nop,ts,sok,eol,eol */
        {60, 1, 65535, "020405b4010303060101080a1234567800000000 04020000",
                "macos"},
        /* FreeBSD 9+: 65535, mss,nop,ws 6,sok,ts */
        {64, 1, 65535, "020405b401030306 0402080a1234567800000000", "freebsd"},
        /* OpenBSD: 16384, mss,nop,nop,sok,nop,ws 3,nop,nop,ts */
        {64, 1, 16384, "020405b4010104020103030301 01080a1234567800000000",
                "openbsd"},
        /* Linux without timestamps: mss,nop,nop,sok,nop,ws */
        {64, 1, 29200, "020405b401010402 01030307", "linux"},
        /* the Linux layout with Windows' TTL: nothing */
        {128, 1, 64240, "020405b40402080a55a476a1000000000103030a", NULL},
        /* Linux layout without DF (a crafted SYN): nothing */
        {64, 0, 64240, "020405b40402080a55a476a1000000000103030a", NULL},
        /* FreeBSD's layout with another window: nothing */
        {64, 1, 8192, "020405b4010303060402080a1234567800000000", NULL},
        /* Solaris 8 (not in our table): nothing */
        {64, 1, 32850, "01030301 0101080a1234567800000000 01010402020405b4",
                NULL},
};

static void
test_os(void)
{
	struct scanpkt p;
	struct scanfp f;

	for (size_t i = 0; i < LURE_ARRAY_LEN(os_v); i++) {
		syn(&p, os_v[i].ttl, os_v[i].df, os_v[i].win, os_v[i].opts);
		scanfp_guess(&p, &f);
		if (!same(f.os, os_v[i].os) || f.tool) {
			unit_fail(__FILE__, __LINE__, os_v[i].opts);
			return;
		}
	}
	/* the Windows 10 SYN: 128 - 116 = 12 hops, window scale 8 */
	syn(&p, 116, 1, 64240, "020405b40103030801010402");
	scanfp_guess(&p, &f);
	CHECK(f.ttl_initial == 128 && f.hops == 12 && f.wscale == 8);
	CHECK_STR(f.opts, "MNWNNS");
	/* IPv6 has no DF: the layout and hop limit decide */
	syn(&p, 64, 0, 64800, "020405a00402080a55a476a1000000000103030a");
	p.family = 6;
	scanfp_guess(&p, &f);
	CHECK(same(f.os, "linux"));
}

static void
test_ttl_opts(void)
{
	static const uint8_t ttl[][3] = {
	        {1, 32, 31},
	        {32, 32, 0},
	        {33, 64, 31},
	        {64, 64, 0},
	        {65, 128, 63},
	        {128, 128, 0},
	        {129, 255, 126},
	        {255, 255, 0},
	};
	struct scanpkt p;
	struct scanfp f;

	for (size_t i = 0; i < LURE_ARRAY_LEN(ttl); i++) {
		syn(&p, ttl[i][0], 1, 1, "");
		scanfp_guess(&p, &f);
		CHECK(f.ttl_initial == ttl[i][1] && f.hops == ttl[i][2]);
	}
	syn(&p, 64, 1, 1, "");
	scanfp_guess(&p, &f);
	CHECK_STR(f.opts, "");
	CHECK(f.mss == -1 && f.wscale == -1);
	/* an unknown kind, then a length past the end */
	syn(&p, 64, 1, 1, "1e0300 0204");
	p.optlen = 5;
	scanfp_guess(&p, &f);
	CHECK_STR(f.opts, "?!");
	CHECK(f.mss == -1);
	/* a length of 1 (less than 2) stops at once */
	syn(&p, 64, 1, 1, "0201");
	scanfp_guess(&p, &f);
	CHECK_STR(f.opts, "!");
	/* a kind alone at the end, no length byte */
	syn(&p, 64, 1, 1, "0103");
	scanfp_guess(&p, &f);
	CHECK_STR(f.opts, "N!");
	/* EOL ends the list; what follows is padding */
	syn(&p, 64, 1, 1, "000204ffff");
	scanfp_guess(&p, &f);
	CHECK_STR(f.opts, "E");
	CHECK(f.mss == -1);
	/* 40 NOPs: 15 letters kept */
	syn(&p, 64, 1, 1,
	        "01010101010101010101010101010101010101010101010101010101010101"
	        "010101010101010101");
	scanfp_guess(&p, &f);
	CHECK_STR(f.opts, "NNNNNNNNNNNNNNN");
	/* MSS 65535 and window scale 14 read right */
	syn(&p, 64, 1, 1, "0204ffff01030 30e");
	scanfp_guess(&p, &f);
	CHECK(f.mss == 65535);
	/* UDP and ICMP: TTL only (and ZMap's IP ID) */
	syn(&p, 200, 0, 0, "");
	p.transport = SCANPKT_UDP, p.proto = 17, p.ip_id = 54321;
	scanfp_guess(&p, &f);
	CHECK(same(f.tool, "zmap"));
	CHECK(same(f.evidence, "ip.id=54321"));
	CHECK(f.os == NULL && f.ttl_initial == 255 && f.hops == 55);
}

const struct unit_test unit_scanfp[] = {
        {"real", test_real},
        {"mirai", test_mirai},
        {"not_tools", test_not_tools},
        {"os", test_os},
        {"ttl_opts", test_ttl_opts},
        {NULL, NULL},
};
