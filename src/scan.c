/* scan.c: see scan.h. Contract: frames in (a SOCK_DGRAM packet socket:
 * the network header first, whatever the link), events out; no packet is
 * ever sent, so a closed port stays closed (the kernel's RST) and an open
 * one is the persona's.
 *
 * Persona keys: none (observation is the same whatever the persona).
 *
 * Events (event.action scan, event.category network): per port, dataset
 * lure.scan: source.ip, source.port, destination.ip, destination.port
 * (TCP, UDP), network.transport (tcp, udp, icmp, ipv6-icmp), network.type,
 * lure.scan.payload (UDP: the first scan.payload_bytes, escaped, cut ones
 * flagged lure.truncated), and src/scanfp.h's tags and lure.scan.{tool,
 * tool_evidence,os,ttl,ttl_initial,hops,tcp.*}. Per source, dataset
 * lure.scan.summary: source.ip, network.type, event.reason (quiet,
 * window, evicted, full, stop), event.start, event.end,
 * lure.scan.{ports,port_list,packets,transports,events_limited}. Status:
 * lure.scan.{received,kernel_drops,refused,excluded,sources,evicted,
 * events_limited}.
 *
 * Socket mode: a TPACKET_V3 receive ring (8 blocks of 256 KiB, mapped,
 * libpcap's geometry for tcpdump's default 2 MiB buffer; a block is handed
 * over full or after RING_TOV_MS), chosen by measurement (masscan at
 * 50,000 and 200,000 packets/s into the sensor's namespace, host build):
 * plain recv() (up to 64 frames a wake-up) and recvmmsg() of 16 both cost
 * 2.0-3.2 us of CPU per packet, most of it the loop's pass per wake-up
 * while packets arrive one at a time; the ring of 8 x 64 KiB cost
 * 0.09-0.19 us (tcpdump -w /dev/null with the same filter, its own ring:
 * 0.03-0.06 us) and dropped 2-4% where tcpdump dropped 0-1.5%; 8 x 256
 * KiB: 0.08-0.12 us against tcpdump's 0.05, no more drops than tcpdump
 * (test/bench/scan.py, 2026-12-07, static x86_64 build, a load of 10 on
 * 2 cores), for 2 MiB of mapped blocks per
 * socket, resident once a burst has filled them. Events are written up to
 * RING_TOV_MS late. Windows are checked by a sweep once
 * a second, so a window or a quiet spell ends up to a second late.
 *
 * Compared with: tcpdump's BPF filter for the same traffic (the classic
 * program below, ancillary loads as libpcap emits them), OpenCanary's
 * portscan module (one line per iptables log entry, no aggregation),
 * admit.c's refusal windows. Not modelled: a per-interface name in the
 * event, IPv6 extension headers in the kernel filter (they pass, and the
 * parser decides), answers to our own UDP queries (DNS, NTP: on a host
 * that sends any, list their servers in exclude). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "fmt.h"
#include "json.h"
#include "lure.h"
#include "scan.h"
#include "scanfp.h"
#include "scanpkt.h"

#define SNAP_HEAD 192 /* IP, extension and transport headers */
/* the receive ring of each socket: blocks handed over whole */
#define RING_BLOCK (1 << 18)
#define RING_BLOCKS 8
#define RING_TOV_MS 100 /* a block not full is handed over after this */

struct source {
	uint8_t ip[16], family, transports, nlist, used;
	uint8_t bm[2]; /* its TCP and UDP port bitmaps: 1 + index, 0 none */
	uint32_t next; /* bucket chain; UINT32_MAX ends it */
	uint32_t gen; /* its port entries in seen[] carry it */
	int64_t first, last; /* lure_wall() */
	int64_t mfirst, mlast; /* lure_now() */
	uint32_t packets, ports, events, limited;
	uint16_t list[SCAN_LIST];
};

static const struct config *cfg;
static int fds[CONFIG_MAX_SCAN_IFACES], nfd;
static uint8_t *ring[CONFIG_MAX_SCAN_IFACES];
static unsigned ring_at[CONFIG_MAX_SCAN_IFACES]; /* next block */
static struct source *src;
static uint32_t *heads, nsrc, nbucket, cursor, live;
/* (source, generation, transport, port) seen in the source's window:
 * open addressing; entries of flushed sources go stale (their generation
 * moved on) and the whole set is cleared when it is 3/4 full */
static uint64_t *seen, key[2];
static uint32_t nseen, seen_used;
/* A source past SCAN_BM_FROM ports of TCP or UDP takes a bitmap of that
 * transport's 65,536 ports from a pool while one is free (a port sweep:
 * one bit test per packet, and seen[] does not fill up and end every
 * window early); given back when its window ends. */
#define SCAN_BM_FROM 64
#define SCAN_BMS 32
static uint8_t (*bms)[65536 / 8];
static uint8_t bm_free[SCAN_BMS], nbm_free;
static int64_t next_sweep;
static uint64_t received, drops, refused, excluded, evicted, limited;

static const char *const transports[] = {"tcp", "udp", "icmp"};
static const char *const reasons[] = {
        "quiet", "window", "evicted", "full", "stop"};

/* Classic BPF (the kernel's ABI, <linux/filter.h>, which musl's
 * headers do not carry) on the network header (SOCK_DGRAM), with the
 * ancillary loads for the packet type, interface and protocol. J(i, k, t,
 * f) is a jump at index i to indices t (true) and f (false). */
struct bpf_insn {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};
struct bpf_prog {
	unsigned short len;
	struct bpf_insn *insns;
};
/* <linux/if_packet.h>'s TPACKET_V3 ring, as far as it is read here */
struct packet_stats { /* struct tpacket_stats_v3 */
	unsigned packets, drops, freeze_q_cnt;
};
struct ring_req { /* struct tpacket_req3 */
	unsigned block_size, block_nr, frame_size, frame_nr, retire_blk_tov,
	        sizeof_priv, feature_req_word;
};
struct ring_block { /* struct tpacket_block_desc, tpacket_hdr_v1 */
	uint32_t version, offset_to_priv, status, num_pkts, first, len;
};
struct ring_frame { /* struct tpacket3_hdr */
	uint32_t next, sec, nsec, snaplen, len, status;
	uint16_t mac, net;
};
enum {
	BPF_LD = 0x00,
	BPF_LDX = 0x01,
	BPF_ALU = 0x04,
	BPF_JMP = 0x05,
	BPF_RET = 0x06,
	BPF_W = 0x00,
	BPF_H = 0x08,
	BPF_B = 0x10,
	BPF_ABS = 0x20,
	BPF_IND = 0x40,
	BPF_MSH = 0xa0,
	BPF_JEQ = 0x10,
	BPF_JSET = 0x40,
	BPF_AND = 0x50,
	BPF_K = 0x00,
	SKF_AD_PROTOCOL = 0,
	SKF_AD_PKTTYPE = 4,
	SKF_AD_IFINDEX = 8
};
#define J(i, k, t, f)                                                  \
	{                                                              \
		BPF_JMP | BPF_JEQ | BPF_K, (t) - (i)-1, (f) - (i)-1, k \
	}
#define LD(sz, mode, k)                         \
	{                                       \
		BPF_LD | (sz) | (mode), 0, 0, k \
	}
#define AD(x) ((uint32_t)-0x1000 + (x)) /* SKF_AD_OFF */
enum { ACC = 32, DROP = 33 };
static struct bpf_insn prog[] = {
        LD(BPF_W, BPF_ABS, AD(SKF_AD_PKTTYPE)), /* 0 */
        J(1, PACKET_HOST, 2, DROP), LD(BPF_W, BPF_ABS, AD(SKF_AD_IFINDEX)),
        J(3, 0 /* lo's index, set at start */, DROP, 4),
        LD(BPF_W, BPF_ABS, AD(SKF_AD_PROTOCOL)),
        J(5, ETH_P_IPV6, 19, 6), /* 5 */
        J(6, ETH_P_IP, 7, DROP),
        LD(BPF_H, BPF_ABS, 6), /* IPv4: a later fragment has no header */
        {BPF_JMP | BPF_JSET | BPF_K, DROP - 9, 0, 0x1fff},
        LD(BPF_B, BPF_ABS, 9), J(10, 17, ACC, 11), /* 10: UDP */
        {BPF_LDX | BPF_B | BPF_MSH, 0, 0, 0}, J(12, 6, 13, 16),
        LD(BPF_B, BPF_IND, 13), /* TCP flags: SYN without ACK */
        {BPF_ALU | BPF_AND | BPF_K, 0, 0, 0x12},
        J(15, 0x02, ACC, DROP), /* 15 */
        J(16, 1, 17, DROP), LD(BPF_B, BPF_IND, 0), /* ICMP echo request */
        J(18, 8, ACC, DROP), LD(BPF_B, BPF_ABS, 6), /* IPv6 next header */
        J(20, 17, ACC, 21), /* 20 */
        J(21, 6, 22, 25), LD(BPF_B, BPF_ABS, 40 + 13),
        {BPF_ALU | BPF_AND | BPF_K, 0, 0, 0x12}, J(24, 0x02, ACC, DROP),
        J(25, 58, 26, 28), /* 25 */
        LD(BPF_B, BPF_ABS, 40), /* ICMPv6 echo request */
        J(27, 128, ACC, DROP),
        J(28, 0, ACC, 29), /* extension headers: the parser decides */
        J(29, 43, ACC, 30), J(30, 44, ACC, 31), /* 30 */
        J(31, 60, ACC, DROP),
        {BPF_RET | BPF_K, 0, 0, SNAP_HEAD}, /* 32: ACC, + payload_bytes */
        {BPF_RET | BPF_K, 0, 0, 0}, /* 33: DROP */
};

static uint64_t
mix(uint64_t h)
{
	h = (h ^ key[0]) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29) ^ key[1];
}

static uint32_t
bucket(int family, const uint8_t ip[16])
{
	uint64_t h = (uint64_t)family, w;

	for (int i = 0; i < 16; i += 8) {
		memcpy(&w, ip + i, 8);
		h = mix(h ^ w);
	}
	return (uint32_t)h & (nbucket - 1);
}

/* if_nametoindex() on a socket at hand (not musl's, which pulls in
 * strncpy and a socket of its own): 0 and errno when there is none. */
static unsigned
ifindex(int fd, const char *name)
{
	struct ifreq r;
	size_t n = strlen(name);

	memset(&r, 0, sizeof r);
	if (n >= sizeof r.ifr_name) {
		errno = ENODEV;
		return 0;
	}
	memcpy(r.ifr_name, name, n);
	return ioctl(fd, SIOCGIFINDEX, &r) < 0 ? 0 : (unsigned)r.ifr_ifindex;
}

static int
open_one(const char *name)
{
	struct bpf_prog fp = {LURE_ARRAY_LEN(prog), prog};
	struct ring_req rq = {RING_BLOCK, RING_BLOCKS, 2048,
	        RING_BLOCK / 2048 * RING_BLOCKS, RING_TOV_MS, 0, 0};
	struct sockaddr_ll sa;
	int fd, v3 = 2; /* TPACKET_V3 */

	memset(&sa, 0, sizeof sa);
	sa.sll_family = AF_PACKET;
	sa.sll_protocol = htons(ETH_P_ALL);
	/* protocol 0 until the filter is on: nothing unfiltered is queued
	 * (nor, under -t, which only asks whether it may have one) */
	if ((fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	             0)) < 0)
		return -1;
	/* one interface, or every one but lo (none: index 0, no match) */
	prog[3].k = name ? 0 : ifindex(fd, "lo");
	if (name && !(sa.sll_ifindex = (int)ifindex(fd, name))) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	prog[ACC].k = SNAP_HEAD + cfg->scan_payload_bytes;
	if (lure_checking)
		return close(fd);
	fds[nfd] = fd;
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof v3) < 0 ||
	        setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) <
	                0 ||
	        setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &rq, sizeof rq) <
	                0 ||
	        (ring[nfd] = mmap(NULL, RING_BLOCK * RING_BLOCKS,
	                 PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
	                MAP_FAILED ||
	        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return -1;
	nfd++;
	return 0;
}

int
scan_setup(const struct config *c)
{
	cfg = c;
	if (!c->scan_enabled)
		return 0;
	for (int i = 0; i < LURE_MAX(c->nscan_ifaces, 1); i++) {
		const char *name = c->nscan_ifaces ? c->scan_ifaces[i] : NULL;
		if (open_one(name) < 0) {
			fmt_dprintf(2, "lure: scan.interfaces \"%s\": %s%s\n",
			        name ? name : "(every one)",
			        fmt_strerror(errno),
			        errno == EPERM ? " (a packet socket needs "
			                         "CAP_NET_RAW)"
			                       : "");
			return -1;
		}
	}
	if (lure_checking)
		return 0;
	nsrc = c->scan_max_sources;
	for (nbucket = 16; nbucket < nsrc; nbucket *= 2)
		;
	for (nseen = 4096; nseen < 16 * nsrc; nseen *= 2)
		;
	src = calloc(nsrc, sizeof *src);
	heads = malloc(nbucket * sizeof *heads);
	seen = calloc(nseen, sizeof *seen);
	bms = calloc(SCAN_BMS, sizeof *bms);
	if (!src || !heads || !seen || !bms) {
		fmt_dprintf(2, "lure: scan: out of memory\n");
		return -1;
	}
	memset(heads, 0xff, nbucket * sizeof *heads);
	for (nbm_free = 0; nbm_free < SCAN_BMS; nbm_free++)
		bm_free[nbm_free] = nbm_free;
	lure_random(key, sizeof key);
	return 0;
}

int
scan_count(void)
{
	return nfd;
}

int
scan_fd(int i)
{
	return fds[i];
}

static void
addr(struct event *e, const char *field, int family, const uint8_t *ip)
{
	char t[48];

	fmt_ntop(family == 4 ? AF_INET : AF_INET6, ip, t, sizeof t);
	event_str(e, field, t);
}

/* A scan event of dataset from the source at ip. */
static struct event *
begin(const char *dataset, int family, const uint8_t *ip)
{
	struct event *e = event_begin("scan", NULL);

	event_str(e, "event.dataset", dataset);
	event_str(e, "network.type", family == 4 ? "ipv4" : "ipv6");
	addr(e, "source.ip", family, ip);
	return e;
}

/* Write s's summary and free its row. */
static void
flush(struct source *s, int why)
{
	char t[48], list[SCAN_LIST * 6 + 2], tr[32];
	size_t n = 0, m = 0;
	struct event *e = begin("lure.scan.summary", s->family, s->ip);
	uint32_t *p = &heads[bucket(s->family, s->ip)];

	event_str(e, "event.reason", reasons[why]);
	json_time(t, s->first);
	event_str(e, "event.start", t);
	json_time(t, s->last);
	event_str(e, "event.end", t);
	event_int(e, "lure.scan.ports", s->ports);
	event_int(e, "lure.scan.packets", s->packets);
	list[n++] = '[';
	for (unsigned i = 0; i < s->nlist; i++) {
		if (i)
			list[n++] = ',';
		n += fmt_dec(list + n, s->list[i]);
	}
	list[n++] = ']';
	event_raw(e, "lure.scan.port_list", list, n);
	tr[m++] = '[';
	for (int i = 0; i < 3; i++)
		if (s->transports & 1 << i)
			m += (size_t)fmt_snprintf(tr + m, sizeof tr - m,
			        "%s\"%s\"", m > 1 ? "," : "", transports[i]);
	tr[m++] = ']';
	event_raw(e, "lure.scan.transports", tr, m);
	if (s->limited)
		event_int(e, "lure.scan.events_limited", s->limited);
	event_commit(e);
	for (int i = 0; i < 2; i++)
		if (s->bm[i])
			bm_free[nbm_free++] = (uint8_t)(s->bm[i] - 1);
	s->bm[0] = s->bm[1] = 0;
	while (*p != (uint32_t)(s - src)) /* unlink from its bucket */
		p = &src[*p].next;
	*p = s->next;
	s->used = 0;
	s->gen++;
	live--;
}

static void
flush_all(int why)
{
	for (uint32_t i = 0; i < nsrc; i++)
		if (src[i].used)
			flush(&src[i], why);
}

/* Two 16-byte addresses equal (musl's memcmp goes byte by byte: this is
 * on every packet). */
static int
ip_eq(const uint8_t *a, const uint8_t *b)
{
	uint64_t x[2], y[2];

	memcpy(x, a, 16);
	memcpy(y, b, 16);
	return !((x[0] ^ y[0]) | (x[1] ^ y[1]));
}

/* The row of p's source, made (evicting one when the table is full). */
static struct source *
lookup(const struct scanpkt *p, int64_t now, int64_t wall)
{
	static struct source *last; /* scans come in runs from one source */
	uint32_t b, i;
	struct source *s, *old = NULL;

	if (last && last->used && last->family == p->family &&
	        ip_eq(last->ip, p->src))
		return last;
	b = bucket(p->family, p->src);
	for (i = heads[b]; i != UINT32_MAX; i = src[i].next)
		if (src[i].family == p->family && ip_eq(src[i].ip, p->src))
			return last = &src[i];
	if (live == nsrc) { /* the least recent of 8 rows, clock-wise */
		for (int k = 0; k < 8; k++, cursor = (cursor + 1) % nsrc)
			if (!old || src[cursor].mlast < old->mlast)
				old = &src[cursor];
		evicted++;
		flush(old, 2);
	}
	while (src[cursor].used)
		cursor = (cursor + 1) % nsrc;
	s = &src[cursor];
	i = s->gen;
	memset(s, 0, sizeof *s);
	s->gen = i;
	s->used = 1;
	s->family = p->family;
	memcpy(s->ip, p->src, 16);
	s->first = wall;
	s->mfirst = now;
	s->next = heads[b];
	heads[b] = cursor;
	live++;
	return last = s;
}

/* s's bitmap of transport t from the pool, with the ports seen[] holds
 * for it; 0 when the pool is empty. */
static int
bm_take(struct source *s, unsigned t, uint64_t k)
{
	uint8_t *b;

	if (!nbm_free)
		return 0;
	s->bm[t] = (uint8_t)(bm_free[--nbm_free] + 1);
	b = bms[s->bm[t] - 1];
	memset(b, 0, sizeof *bms);
	k >>= 16; /* source, generation, transport */
	for (uint32_t i = 0; i < nseen; i++)
		if (seen[i] >> 16 == k)
			b[seen[i] >> 3 & 0x1fff] |=
			        (uint8_t)(1 << (seen[i] & 7));
	return 1;
}

/* 1 when (s, transport, port) is new in s's window. */
static int
first_seen(struct source *s, unsigned t, unsigned port)
{
	uint64_t k = 1ULL << 63 | (uint64_t)(s - src) << 40 |
	             (uint64_t)(s->gen & 0x3fffff) << 18 | t << 16 | port;
	uint32_t h = (uint32_t)mix(k) & (nseen - 1);
	uint8_t *b, bit = (uint8_t)(1 << (port & 7));

	if (t < 2 &&
	        (s->bm[t] || (s->ports >= SCAN_BM_FROM && bm_take(s, t, k)))) {
		b = &bms[s->bm[t] - 1][port >> 3];
		if (*b & bit)
			return 0;
		*b |= bit;
		return 1;
	}
	for (; seen[h]; h = (h + 1) & (nseen - 1))
		if (seen[h] == k)
			return 0;
	seen[h] = k;
	return ++seen_used;
}

/* The tool and OS guesses of src/scanfp.h, as tags and lure.scan.* */
static void
guess(struct event *e, const struct scanpkt *p)
{
	struct scanfp fp;

	scanfp_guess(p, &fp);
	if (fp.tool) {
		event_tag(e, fp.tool);
		event_str(e, "lure.scan.tool", fp.tool);
	}
	if (fp.evidence)
		event_str(e, "lure.scan.tool_evidence", fp.evidence);
	if (fp.os)
		event_str(e, "lure.scan.os", fp.os);
	event_int(e, "lure.scan.ttl", p->ttl);
	event_int(e, "lure.scan.ttl_initial", fp.ttl_initial);
	event_int(e, "lure.scan.hops", fp.hops);
	if (p->transport != SCANPKT_TCP)
		return;
	event_int(e, "lure.scan.tcp.window", p->win);
	event_str(e, "lure.scan.tcp.options", fp.opts);
	if (fp.mss >= 0)
		event_int(e, "lure.scan.tcp.mss", fp.mss);
	if (fp.wscale >= 0)
		event_int(e, "lure.scan.tcp.wscale", fp.wscale);
}

static void
packet(const uint8_t *f, size_t n, int64_t now, int64_t wall)
{
	struct scanpkt p;
	struct source *s;
	unsigned port;

	received++;
	if (scanpkt_parse(&p, f, n, SCANPKT_IP) < 0 ||
	        (p.transport == SCANPKT_TCP && (p.flags & 0x12) != 0x02) ||
	        (p.transport == SCANPKT_ICMP && p.icmp_type != 8 &&
	                p.icmp_type != 128)) {
		refused++;
		return;
	}
	if (config_excluded(cfg, p.family, p.src)) {
		excluded++;
		return;
	}
	s = lookup(&p, now, wall);
	s->packets++;
	s->last = wall;
	s->mlast = now;
	s->transports |= (uint8_t)(1 << p.transport);
	port = p.transport == SCANPKT_ICMP ? 0 : p.dport;
	if (!first_seen(s, p.transport, port))
		return;
	s->ports++;
	if (p.transport != SCANPKT_ICMP && s->nlist < SCAN_LIST)
		s->list[s->nlist++] = (uint16_t)port;
	if (s->events >= SCAN_EVENTS_MAX) {
		s->limited++, limited++;
	} else {
		struct event *e = begin("lure.scan", p.family, p.src);
		s->events++;
		event_str(e, "network.transport",
		        p.proto == 58 ? "ipv6-icmp" : transports[p.transport]);
		addr(e, "destination.ip", p.family, p.dst);
		if (p.transport != SCANPKT_ICMP) {
			event_int(e, "source.port", p.sport);
			event_int(e, "destination.port", p.dport);
		}
		if (p.transport == SCANPKT_UDP && cfg->scan_payload_bytes)
			event_bytes(e, "lure.scan.payload", p.payload,
			        p.payload_len, cfg->scan_payload_bytes);
		guess(e, &p);
		event_commit(e);
	}
	if (seen_used > nseen / 4 * 3) { /* every window ends early */
		flush_all(3);
		memset(seen, 0, nseen * sizeof *seen);
		seen_used = 0;
	}
}

void
scan_read(int i)
{
	int64_t now = lure_now(), wall = lure_wall();
	int k;

	/* every block the kernel has handed over, in ring order */
	for (k = 0; k < RING_BLOCKS; k++) {
		uint8_t *b = ring[i] + (size_t)ring_at[i] * RING_BLOCK, *f;
		struct ring_block *d = (struct ring_block *)b;

		if (!(__atomic_load_n(&d->status, __ATOMIC_ACQUIRE) & 1))
			break; /* TP_STATUS_USER */
		f = b + d->first;
		for (uint32_t n = d->num_pkts; n--;) {
			const struct ring_frame *h = (const void *)f;
			packet(f + h->net, h->snaplen, now, wall);
			f += h->next;
		}
		__atomic_store_n(&d->status, 0, __ATOMIC_RELEASE);
		ring_at[i] = (ring_at[i] + 1) % RING_BLOCKS;
	}
	if (!k) { /* no block: an error (the interface went down or away)
		   * that stays readable, the poller ready every pass, until
		   * it is taken */
		int err;
		socklen_t len = sizeof err;
		if (!getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len) &&
		        err)
			lure_log("SCAN error=%s", fmt_strerror(err));
	}
	if (live && !next_sweep)
		next_sweep = now + 1000;
}

void
scan_tick(int64_t now)
{
	int stop = now == INT64_MAX;

	/* at the end, a block the kernel is still filling (its count of
	 * packets, read as a hint): handed over within RING_TOV_MS */
	for (int i = 0; stop && i < nfd; i++) {
		struct pollfd p = {.fd = fds[i], .events = POLLIN};
		const struct ring_block *d =
		        (const void *)(ring[i] +
		                       (size_t)ring_at[i] * RING_BLOCK);
		if (__atomic_load_n(&d->num_pkts, __ATOMIC_RELAXED) &&
		        poll(&p, 1, RING_TOV_MS + 10) > 0)
			scan_read(i);
	}
	if (!live || (now < next_sweep && !stop))
		return;
	next_sweep = stop ? 0 : now + 1000;
	for (uint32_t i = 0; i < nsrc; i++) {
		struct source *s = &src[i];
		if (!s->used)
			continue;
		if (stop)
			flush(s, 4);
		else if (now - s->mfirst >= (int64_t)cfg->scan_window * 1000)
			flush(s, 1);
		else if (now - s->mlast >= SCAN_QUIET_S * 1000)
			flush(s, 0);
	}
	if (!live)
		next_sweep = 0;
}

int64_t
scan_deadline(void)
{
	return live ? next_sweep : 0;
}

void
scan_status(struct event *e)
{
	struct packet_stats st;
	socklen_t len = sizeof st;

	if (!cfg || !cfg->scan_enabled)
		return;
	/* the kernel resets them as it tells; freeze_q_cnt counts the times
	 * the ring was full, not packets (those are in drops) */
	for (int i = 0; i < nfd; i++)
		if (!getsockopt(
		            fds[i], SOL_PACKET, PACKET_STATISTICS, &st, &len))
			drops += st.drops;
	event_int(e, "lure.scan.received", (int64_t)received);
	event_int(e, "lure.scan.kernel_drops", (int64_t)drops);
	event_int(e, "lure.scan.refused", (int64_t)refused);
	event_int(e, "lure.scan.excluded", (int64_t)excluded);
	event_int(e, "lure.scan.sources", live);
	event_int(e, "lure.scan.evicted", (int64_t)evicted);
	event_int(e, "lure.scan.events_limited", (int64_t)limited);
}
