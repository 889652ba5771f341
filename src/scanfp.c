/* scanfp.c: see scanfp.h. Tool rules first, in order, the first match
 * wins; each names a value the tool's packet builder writes and an
 * ordinary stack does not (the source of each rule is next to it). The OS
 * guess is p0f's method on a table of our own, condensed from p0f 3's
 * p0f.fp [tcp:request] signatures: initial TTL, window (where p0f fixes
 * it), option layout and the DF bit, for a SYN no tool rule claimed (a
 * crafted packet says nothing of its sender's kernel).
 *
 * Events: none of its own; src/scan.c writes the result as a tag and
 * lure.scan.tool, .tool_evidence, .os, .ttl_initial, .hops, .tcp.options,
 * .tcp.mss, .tcp.wscale.
 *
 * Compared with: the sources (masscan src/templ-pkt.c at 1.3.2-219, zmap
 * src/probe_modules/packet.c at 4.3.3, nmap tcpip.cc, nmap.h and
 * osscan2.cc, Mirai bot/scanner.c of the 2016 source release, p0f 3.09b
 * p0f.fp and fp_tcp.c), and packets captured from Debian 12's nmap 7.93
 * (-sS, -O, -6), masscan 1.3.2 (IPv4, IPv6), zmap 2.1.1, hping3 and
 * Linux's connect() (test/unit/test_scanfp.c).
 *
 * Not modelled: p0f's window-as-MSS-multiple and quirk matching (id+,
 * ecn, opt+ ...), its MTU and HTTP signatures, versions within an OS;
 * ZMap's and Masscan's non-default --probe-ttl / templates; masscan's
 * IPv6 SYN since it carries MSS 1460 (nmap -6 -sS's fields: tagged nmap);
 * unicornscan and other tools without a fixed mark. */
#include <string.h>

#include "lure.h"
#include "scanfp.h"

/* SYN signatures: a window (0: any), an MSS (0: any; a layout without M
 * has none), the option layout, an initial TTL (0: any) and what a match
 * means (sig_names[]). At most one matches a packet. */
static const struct {
	uint16_t win, mss;
	char opts[10];
	uint8_t ttl, what;
} sigs[] = {
        /* nmap -sS: nmap.h TCP_SYN_PROBE_OPTIONS is MSS 1460 alone;
	 * tcpip.cc build_tcp() sends window 1024 ("Who cares"), 1024 * (1
	 * to 4) before 2011 (commit 4aa4a154f); p0f.fp "NMap:SYN scan"
	 * lists all four */
        {1024, 1460, "M", 0, 0},
        {2048, 1460, "M", 0, 0},
        {3072, 1460, "M", 0, 0},
        {4096, 1460, "M", 0, 0},
        /* nmap -O: osscan2.cc prbOpts[] and prbWindowSz[]: SEQ probes 1
	 * to 6, ECN (prbOpts[6]), T3 and T5 (prbOpts[8] and [10]), the ones
	 * with SYN and without ACK */
        {1, 1460, "WNMTS", 0, 1},
        {63, 1400, "MWSTE", 0, 1},
        {4, 640, "TNNWNM", 0, 1},
        {4, 0, "STWE", 0, 1},
        {16, 536, "MSTWE", 0, 1},
        {512, 265, "MST", 0, 1},
        {3, 1460, "WNMSNN", 0, 1},
        {256, 265, "WNMTS", 0, 1},
        {31337, 265, "WNMTS", 0, 1},
        /* OS guesses: p0f.fp [tcp:request], the generic ("g:") signatures
	 * unless named. Linux:2.2.x-3.x: *:64:0:*:*,*:mss,sok,ts,nop,ws */
        {0, 0, "MSTNW", 64, 2},
        /* Linux:2.2.x-3.x (no timestamps): mss,nop,nop,sok,nop,ws */
        {0, 0, "MNNSNW", 64, 2},
        /* Windows:NT kernel: *:128:0:*:*,*:mss,nop,nop,sok and
	 * mss,nop,ws,nop,nop,sok */
        {0, 0, "MNNS", 128, 3},
        {0, 0, "MNWNNS", 128, 3},
        /* s:win:Windows:7 or 8: *:128:0:*:8192,2:mss,nop,ws,sok,ts */
        {8192, 0, "MNWST", 128, 3},
        /* Mac OS X: *:64:0:*:65535,*:mss,nop,ws,nop,nop,ts,sok,eol+1 */
        {65535, 0, "MNWNNTSE", 64, 4},
        /* FreeBSD: *:64:0:*:65535,*:mss,nop,ws,sok,ts */
        {65535, 0, "MNWST", 64, 5},
        /* s:unix:OpenBSD:4.x-5.x:
	 * *:64:0:*:16384,*:mss,nop,nop,sok,nop,ws,nop,nop,ts */
        {16384, 0, "MNNSNWNNT", 64, 6},
};

static const char *const sig_names[] = {"tcp.window+options=syn-scan",
        "tcp.window+options=os-probe", "linux", "windows", "macos", "freebsd",
        "openbsd"};

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/* The option layout letters, MSS and window scale (RFC 9293 3.2: kinds 0
 * and 1 are one byte, every other kind has a length byte that counts
 * itself and the kind). */
static void
layout(const struct scanpkt *p, struct scanfp *o)
{
	static const char kinds[] = "ENMWS???T"; /* kinds 0 to 8 */
	size_t i = 0, k = 0, len;
	uint8_t kind;

	while (i < p->optlen && k < sizeof o->opts - 1) {
		kind = p->opt[i];
		o->opts[k++] = kind <= 8 ? kinds[kind] : '?';
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		len = i + 1 < p->optlen ? p->opt[i + 1] : 0;
		if (len < 2 || len > p->optlen - i) {
			o->opts[k - 1] = '!';
			break;
		}
		if (kind == 2 && len == 4)
			o->mss = (p->opt[i + 2] << 8 | p->opt[i + 3]);
		if (kind == 3 && len == 3)
			o->wscale = p->opt[i + 2];
		i += len;
	}
}

void
scanfp_guess(const struct scanpkt *p, struct scanfp *o)
{
	int v4 = p->family == 4, tcp = p->transport == SCANPKT_TCP;
	uint32_t dst = be32(p->dst);
	size_t i;

	memset(o, 0, sizeof *o);
	o->mss = o->wscale = -1;
	/* p0f fp_tcp.c guess_dist(): the next of 32, 64, 128, 255 */
	o->ttl_initial = p->ttl <= 32    ? 32
	                 : p->ttl <= 64  ? 64
	                 : p->ttl <= 128 ? 128
	                                 : 255;
	o->hops = (uint8_t)(o->ttl_initial - p->ttl);
	if (tcp)
		layout(p, o);

	/* The IPv4 rules want DF clear: the three builders write ip_off 0
	 * (zmap make_ip_header(), masscan's templates, Mirai's iphdr left
	 * zeroed) where the stacks p0f.fp lists all set it on a SYN. */
	if (v4 && !p->df && p->ip_id == 54321 && (!tcp || p->win == 65535)) {
		/* zmap packet.c make_ip_header(): ip_id = htons(54321) in
		 * every probe module; make_tcp_header(): th_win 65535 */
		o->tool = "zmap";
		o->evidence = "ip.id=54321";
	} else if (v4 && !p->df && tcp && p->win == 1024 &&
	           p->ip_id == ((dst ^ p->dport ^ p->seq) & 0xffff)) {
		/* masscan templ-pkt.c template_set_target(): ip_id = ip_them
		 * ^ port_them ^ seqno (16 bits kept); default_tcp_template:
		 * window 1024 */
		o->tool = "masscan";
		o->evidence = "ip.id=dst^dport^seq";
	} else if (!v4 && tcp && o->ttl_initial == 255 && p->win == 1024 &&
	           !o->opts[0]) {
		/* masscan templ-pkt.c _template_init_ipv6(): hop limit 255 and
		 * the IPv4 template's window 1024; no IP ID in IPv6. Seen from
		 * Debian's 1.3.2 (no options); since 1.3.2-git the template
		 * has MSS 1460 and looks like nmap -6 -sS */
		o->tool = "masscan";
		o->evidence = "hop_limit=255 tcp.window=1024";
	} else if (v4 && !p->df && tcp && p->seq == dst) {
		/* Mirai bot/scanner.c scanner_init(): tcph->seq =
		 * iph->daddr, kept by its many forks */
		o->tool = "mirai";
		o->evidence = "tcp.seq=ip.dst";
	}
	if (o->tool || !tcp || (p->flags & 0x12) != 0x02) /* SYN, no ACK */
		return;
	for (i = 0; i < LURE_ARRAY_LEN(sigs); i++)
		if ((!sigs[i].win || sigs[i].win == p->win) &&
		        (!sigs[i].mss || sigs[i].mss == o->mss) &&
		        (!sigs[i].ttl || sigs[i].ttl == o->ttl_initial) &&
		        !strcmp(sigs[i].opts, o->opts))
			break;
	if (i == LURE_ARRAY_LEN(sigs))
		return;
	if (sigs[i].what < 2) {
		/* nmap over IPv4: tcpip.cc build_ip_raw(): TTL 37 to 59
		 * unless --ttl (p0f: "64-"), no DF unless --df. IPv6: any
		 * hop limit (nmap 7.93 -6 -sS was seen with 255) */
		if (!v4 || (o->ttl_initial <= 64 && !p->df))
			o->tool = "nmap", o->evidence = sig_names[sigs[i].what];
	} else if (!v4 || p->df) {
		/* all the OS signatures above carry p0f's "df" quirk: an IPv4
		 * SYN without DF is a crafted one */
		o->os = sig_names[sigs[i].what];
	}
}
