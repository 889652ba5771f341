/* conn.c: see conn.h. Each connection has a slot in four parallel arrays
 * (struct conn, emulator state, input, output) so an idle connection only
 * touches the pages it uses: RSS grows with traffic, not with max_conns.
 * An error closes one connection, never the process.
 * On a tls port (persona "port 443 tcp http tls") src/conn_tls.c sits
 * between the socket and the slot's buffers: the ClientHello first, then a
 * server session; the emulator sees plaintext only, exactly as on a plain
 * port (input buffer in, emu_ctx output out).
 * Before any emulator a connection may have a phase (c->pre): a PROXY
 * protocol header to read first (config proxy_protocol, src/proxyproto.h),
 * then on the catch-all listener (config catch_all.port) the first bytes
 * that src/sniff.h names a protocol from; open_conn() then hands the slot
 * to that emulator (on_open, then the held bytes). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admit.h"
#include "config.h"
#include "conn.h"
#include "conn_side.h"
#include "conn_tls.h"
#include "emu_ctx.h"
#include "fmt.h"
#include "lure.h"
#include "out_file.h"
#include "persona.h"
#include "poller.h"
#include "proxyproto.h"
#include "sniff.h"
#include "tls.h"
#include "udpguard.h"

#define LISTEN_MAX 256
#define ACCEPT_BURST 64
#define UDP_BURST 64
#define UDP_MAX 65536
#define SNIFF_WAIT_MS 3000 /* a silent catch-all client gets the banner */
/* input bytes of a slot whose pages stay resident after a close; a
 * connection that held more (a 30 KB HTTP head, a 35 KB SSH packet) gives
 * the rest of its slot's pages back, so one burst of large inputs does not
 * keep max_conns x in_stride resident */
#define IN_KEEP 4096
#define SO_ORIGINAL_DST 80 /* linux/netfilter_ipv4.h; IPv6's is also 80 */

struct listener {
	int fd;
	uint8_t transport, tls;
	uint16_t port, persona_port;
	const struct emulator *emu; /* NULL: the catch-all */
	char addr[48];
	char local[48]; /* a specific bound address as accept sees it; "" */
};

struct conn {
	int fd; /* -1: free */
	uint32_t ip_next; /* per-IP hash chain: slot + 1, 0 ends */
	uint32_t free_next; /* free list: slot + 1 */
	uint8_t family, ip[16];
	uint8_t peer_eof;
	uint8_t dirty; /* in dirty_list: conn_tick() settles it */
	/* output queued in this pass: sent when the pass is settled, after
	 * one write of every event the pass made (plain TCP) */
	uint8_t want_flush;
	/* TCP_CORK on while requests that came together are answered: their
	 * answers leave in one segment, as from nginx (tcp_nopush) */
	uint8_t corked;
	uint64_t ev_seq; /* event_count() when its output was queued */
	uint8_t pre; /* PRE_*: no emulator yet (ctx.emu is sniff.h's) */
	uint8_t tls; /* src/conn_tls.c sits in between */
	uint8_t in_big; /* held more than IN_KEEP input bytes at some point */
	const struct listener *l;
	int64_t t_open, t_active;
	uint64_t bytes_in, bytes_out;
	size_t in_len, in_cap; /* input bytes held; most held */
	struct emu_ctx ctx;
};

static const struct config *cfg;
static struct listener listeners[LISTEN_MAX];
static size_t nlisteners;
static struct conn *conns;
static uint8_t *states, *inbufs, *outbufs;
static size_t state_max;
/* bytes between two slots' input buffers: limits.in_buf or the largest
 * in_min of an emulator (mmap'd by calloc: untouched pages cost no RSS) */
static size_t in_stride;
static size_t page; /* the page size: madvise() takes whole pages */
static uint32_t *ip_bucket, ip_mask, free_head;
/* slots [0, used) have been initialised; beyond is untouched memory, so the
 * pool costs RSS only up to the most connections seen at once */
static uint32_t used;
static unsigned nopen;
static struct conn_stats stats;
static char listeners_json[LISTEN_MAX * 112];
static size_t jl; /* its length */
/* slots that had I/O or are due: the only ones conn_tick() looks at */
static uint32_t *dirty_list, ndirty;
static int listening = -1; /* TCP listeners polled (a slot is free) */
static uint64_t session_counter;
/* every event up to this event_count() is in the output file */
static uint64_t synced;
static int no_victim; /* full, and victim() found none: wait for a close */
static const struct emulator *tls_emu; /* a tls port's, for the catch-all */

enum { PRE_PROXY = 1, PRE_SNIFF = 2 };

/* a tls port's connection (always 0 when the persona has none: the
 * calls to conn_tls.c compile out) */
static int
is_tls(size_t slot)
{
	return LURE_TLS_SERVER && conns[slot].tls;
}

static void
close_conn(size_t slot, enum emu_close_reason why);
static void
serve(size_t slot);
static void
dirty(size_t slot);
static int
tls_hello(size_t slot);

#if LURE_SIDE
/* what src/conn_side.c borrows of a slot */
static struct emu_ctx *
side_ctx(size_t slot)
{
	return &conns[slot].ctx;
}

static void *
side_state(size_t slot);

static void
side_kick(size_t slot)
{
	conns[slot].t_active = lure_now();
	serve(slot);
	dirty(slot);
}

static const struct conn_side_owner side_owner = {
        side_ctx, side_state, side_kick};
#endif

/* conn_tls.c reclaims a TLS session from the slowest holder */
static void
tls_evict(size_t slot)
{
	close_conn(slot, EMU_CLOSE_EVICTED);
}

/* The one place that decides whether the TCP listeners are polled: not
 * while descriptors have run out (admit.c rests them), nor while the pool
 * is full with no connection to evict (a close ends that). Otherwise a
 * full pool still accepts: the newcomer takes a victim()'s slot. */
static int
pool_full(void)
{
	return admit_resting ||
	       (no_victim && !free_head && used >= cfg->max_conns);
}

/* The connection whose slot a newcomer from source key takes (-1: none):
 * its own source's first, then the oldest that has made no request yet,
 * then the one that has sent least per second; never an excluded
 * source's. */
static long
victim(int family, const uint8_t *key, int64_t now)
{
	long best = -1;
	int64_t low = 0;

	for (size_t s = 0; s < used; s++) {
		const struct conn *c = &conns[s];
		int64_t age = now - c->t_open + 1, v;
		if (c->fd < 0 || c->ctx.excluded)
			continue;
		v = c->ctx.requested
		            ? (int64_t)(c->bytes_in * 1000 / (uint64_t)age)
		            : -age; /* ages and rates stay far below 2^40 */
		v -= (int64_t)(c->family == family && !memcmp(c->ip, key, 16))
		     << 40;
		if (best < 0 || v < low)
			low = v, best = (long)s;
	}
	return best;
}

static void *
state_of(size_t slot)
{
	return states + slot * state_max;
}

#if LURE_SIDE
static void *
side_state(size_t slot)
{
	return state_of(slot);
}
#endif

/* The slot as conn_tls.c sees it. */
static const struct conn_tls_io *
io_of(size_t slot, struct conn_tls_io *io)
{
	struct conn *c = &conns[slot];

	io->fd = c->fd;
	io->in = inbufs + slot * in_stride;
	io->in_len = &c->in_len;
	io->in_cap = c->in_cap;
	io->peer_eof = &c->peer_eof;
	io->bytes_in = &c->bytes_in;
	io->bytes_out = &c->bytes_out;
	io->t_active = &c->t_active;
	io->ctx = &c->ctx;
	io->state = state_of(slot);
	return io;
}

static uint32_t
ip_hash(int family, const uint8_t *ip)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++) /* a key from admit_key() */
		h = (h ^ ip[i]) * 16777619u;
	return h & ip_mask;
}

/* How many connections the source holds, and in *lra its least recently
 * active one: the one that makes room when the source is at
 * limits.per_ip (nginx closes its idle kept-alive connections when short
 * of them; telnetd and sshd have no such limit), so a newcomer is served
 * where a refusal would be the honeypot's tell (ties: the oldest, last in
 * the chain). */
static unsigned
ip_count(int family, const uint8_t *ip, long *lra)
{
	unsigned n = 0;

	for (uint32_t s = ip_bucket[ip_hash(family, ip)]; s;
	        s = conns[s - 1].ip_next) {
		const struct conn *c = &conns[s - 1];
		if (c->family == family && memcmp(c->ip, ip, 16) == 0 &&
		        (n++ == 0 || c->t_active <= conns[*lra].t_active))
			*lra = (long)s - 1;
	}
	return n;
}

static void
ip_remove(size_t slot)
{
	struct conn *c = &conns[slot];
	uint32_t *p = &ip_bucket[ip_hash(c->family, c->ip)];

	while (*p && *p != slot + 1)
		p = &conns[*p - 1].ip_next;
	if (*p)
		*p = c->ip_next;
	c->ip_next = 0;
}

/* Numeric address of a sockaddr; v4-mapped v6 addresses become v4. */
static void
addr_of(const struct sockaddr_storage *ss, int *family, uint8_t ip[16],
        uint16_t *port, char *text, size_t cap)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		*port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			*family = 4;
			memcpy(ip, s6->sin6_addr.s6_addr + 12, 4);
			fmt_ntop(AF_INET, ip, text, cap);
		} else {
			*family = 6;
			memcpy(ip, s6->sin6_addr.s6_addr, 16);
			fmt_ntop(AF_INET6, ip, text, cap);
		}
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;
		*family = 4;
		*port = ntohs(s4->sin_port);
		memcpy(ip, &s4->sin_addr, 4);
		fmt_ntop(AF_INET, ip, text, cap);
	}
}

/* A listener bound to one address: that address as accepted sockets'
 * getsockname() would give it, so accept need not ask (l->local stays ""
 * for a wildcard). */
static void
local_of(struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	uint8_t ip[16];
	uint16_t port;
	int family;

	l->local[0] = 0;
	if (getsockname(l->fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	addr_of(&ss, &family, ip, &port, l->local, sizeof l->local);
	if (strcmp(l->local, "0.0.0.0") == 0 || strcmp(l->local, "::") == 0)
		l->local[0] = 0;
}

/* A UDP port on the IPv4 wildcard also listens on the persona's multicast
 * group for it ("multicast.<port> group", e.g. the discovery protocols),
 * joined on the default interface; no group or no multicast route: unicast
 * only. */
static void
join_group(int fd, const struct listener *l, const char *addr)
{
	char key[32];
	const char *g;
	struct ip_mreqn m;

	fmt_snprintf(
	        key, sizeof key, "multicast.%u", (unsigned)l->persona_port);
	if (l->transport != EMU_UDP || strcmp(addr, "0.0.0.0") != 0 ||
	        !(g = persona_get(key, NULL)))
		return;
	memset(&m, 0, sizeof m);
	if (inet_pton(AF_INET, g, &m.imr_multiaddr) == 1 &&
	        setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0)
		LURE_TRACE("MCAST group=%s port=%u errno=%d", g,
		        (unsigned)l->port, errno);
}

static int
bind_one(struct listener *l, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd, family;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) ==
	        1) {
		struct sockaddr_in *s4 = (void *)&ss;
		family = s4->sin_family = AF_INET;
		s4->sin_port = htons(l->port);
		sl = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (void *)&ss;
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		family = s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(l->port);
		sl = sizeof *s6;
	}
	fd = socket(family,
	        (l->transport == EMU_UDP ? SOCK_DGRAM : SOCK_STREAM) |
	                SOCK_NONBLOCK | SOCK_CLOEXEC,
	        0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (l->transport == EMU_UDP) /* each datagram's local address */
		setsockopt(fd, family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
		        family == AF_INET6 ? IPV6_RECVPKTINFO : IP_PKTINFO,
		        &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
	        (l->transport == EMU_TCP && listen(fd, 511) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	join_group(fd, l, addr);
	l->fd = fd;
	fmt_snprintf(l->addr, sizeof l->addr, "%s", addr);
	local_of(l);
	return 0;
}

static uint16_t
local_port(const struct config *c, uint16_t persona_port, int offset)
{
	for (int i = 0; i < c->nportmap; i++)
		if (c->portmap[i].from == persona_port)
			return c->portmap[i].to;
	return (uint16_t)(persona_port + offset > 65535
	                          ? 0
	                          : persona_port + offset);
}

/* Bind port on every listen address; the catch-all's emu is NULL. */
static int
listen_on(const struct config *c, uint16_t port, uint16_t persona_port,
        uint8_t transport, const struct emulator *emu, uint8_t tls)
{
	for (int a = 0; a < c->nlisten; a++) {
		struct listener *l = &listeners[nlisteners];
		if (nlisteners == LISTEN_MAX) {
			fmt_dprintf(2, "lure: more than %d listeners\n",
			        LISTEN_MAX);
			return -1;
		}
		l->transport = transport;
		l->port = port;
		l->persona_port = persona_port;
		l->emu = emu;
		l->tls = tls;
		if (bind_one(l, c->listen[a]) < 0) {
			if (errno == EAFNOSUPPORT &&
			        strchr(c->listen[a], ':')) {
				lure_log("BIND addr=%s port=%u skipped=no_ipv6",
				        c->listen[a], port);
				continue;
			}
			fmt_dprintf(2, "lure: bind %s port %u/%s: %s\n",
			        c->listen[a], port,
			        transport == EMU_UDP ? "udp" : "tcp",
			        fmt_strerror(errno));
			return -1;
		}
		jl += (size_t)fmt_snprintf(listeners_json + jl,
		        sizeof listeners_json - jl,
		        "%s{\"address\":\"%s\",\"port\":%u,"
		        "\"persona_port\":%u,\"transport\":\"%s\","
		        "\"emulator\":\"%s\"%s}",
		        nlisteners ? "," : "", l->addr, port, persona_port,
		        transport == EMU_UDP ? "udp" : "tcp",
		        emu ? emu->name : "catchall",
		        !LURE_TLS_SERVER || !tls ? ""
		        : tls == 1               ? ",\"tls\":true"
		                                 : ",\"starttls\":true");
		nlisteners++;
	}
	return 0;
}

int
conn_setup(const struct config *c)
{
	int offset = c->port_offset >= 0 ? c->port_offset
	                                 : (geteuid() == 0 ? 0 : 8000);
	int need_tls = 0;

	cfg = c;
	if (!LURE_CATCHALL && (c->catch_all_port || c->proxy_protocol)) {
		fmt_dprintf(2, "lure: catch_all and proxy_protocol are "
		               "not compiled in (CATCHALL=0)\n");
		return -1;
	}
	for (size_t i = 0; emu_registry[i]; i++)
		state_max = LURE_MAX(state_max, emu_registry[i]->state_size);
	in_stride = c->in_buf;
	page = (size_t)getauxval(AT_PAGESZ); /* not sysconf: 0.9 KiB of musl */
	for (size_t i = 0; emu_registry[i]; i++)
		in_stride = LURE_MAX(in_stride, emu_registry[i]->in_min);
	state_max = (state_max + 15) & ~(size_t)15;
	conns = calloc(c->max_conns, sizeof *conns);
	states = calloc(c->max_conns, state_max ? state_max : 16);
	inbufs = calloc(c->max_conns, in_stride);
	outbufs = calloc(c->max_conns, c->out_buf);
	for (ip_mask = 1; ip_mask < c->max_conns * 2; ip_mask <<= 1)
		;
	ip_bucket = calloc(ip_mask, sizeof *ip_bucket);
	ip_mask--;
	dirty_list = calloc(c->max_conns, sizeof *dirty_list);
	if (!conns || !states || !inbufs || !outbufs || !ip_bucket ||
	        !dirty_list) {
		fmt_dprintf(2, "lure: out of memory for %u connections\n",
		        c->max_conns);
		return -1;
	}
	free_head = 0;
	used = 0;
	stats.max = c->max_conns;

	jl = 0;
	listeners_json[jl++] = '[';
	for (size_t p = 0; p < persona_nports; p++) {
		const struct persona_port *pp = &persona_ports[p];
		const struct emulator *emu = emu_find(pp->emu);
		uint16_t port = local_port(c, pp->port, offset);

		if (!emu) {
			fmt_dprintf(2,
			        "lure: port %u: emulator \"%s\" is not "
			        "compiled in\n",
			        pp->port, pp->emu);
			return -1;
		}
		if (!(emu->transports & pp->transport)) {
			fmt_dprintf(2,
			        "lure: port %u: emulator \"%s\" cannot "
			        "serve %s\n",
			        pp->port, pp->emu,
			        pp->transport == EMU_UDP ? "udp" : "tcp");
			return -1;
		}
		if (!port) /* disabled by the config */
			continue;
		if (pp->tls == 1 && tls_server_max() == 0) {
			lure_log("PORT port=%u emulator=%s "
			         "skipped=tls_unavailable",
			        pp->port, pp->emu);
			continue;
		}
		if (pp->tls == 1)
			tls_emu = emu;
		need_tls |= LURE_TLS_SERVER && pp->tls && tls_server_max();
		if (listen_on(c, port, pp->port, pp->transport, emu, pp->tls) <
		        0)
			return -1;
	}
	if (LURE_CATCHALL && c->catch_all_port &&
	        listen_on(c, (uint16_t)c->catch_all_port,
	                (uint16_t)c->catch_all_port, EMU_TCP, NULL, 0) < 0)
		return -1;
	fmt_snprintf(listeners_json + jl, sizeof listeners_json - jl, "]");
	if (!c->catch_all_port || !tls_server_max())
		tls_emu = NULL; /* the catch-all hands no ClientHello on */
	if (LURE_TLS_SERVER && need_tls && conn_tls_setup(c, tls_evict) < 0) {
		fmt_dprintf(2, "lure: out of memory for TLS state\n");
		return -1;
	}
#if LURE_SIDE
	conn_side_setup(POLLER_CONN + (uint32_t)(nlisteners + c->max_conns),
	        &side_owner);
#endif
	return 0;
}

const char *
conn_listeners_json(void)
{
	return listeners_json;
}

size_t
conn_poll_max(void)
{
	return cfg->max_conns + nlisteners + (LURE_SIDE ? CONN_SIDE_MAX : 0);
}

/* A slot's poller reference: after the loop's and the listeners'. */
static uint32_t
conn_ref(size_t slot)
{
	return POLLER_CONN + (uint32_t)(nlisteners + slot);
}

/* To be settled by the next conn_tick(): anything that may change what a
 * connection wants polled or its deadline (I/O, a new connection, a change
 * made from another slot) marks it. */
static void
dirty(size_t slot)
{
	if (!conns[slot].dirty) {
		conns[slot].dirty = 1;
		dirty_list[ndirty++] = (uint32_t)slot;
	}
}

static void
close_conn(size_t slot, enum emu_close_reason why)
{
	struct conn *c = &conns[slot];
	struct event *e;

	if (c->fd < 0)
		return;
	if (c->ctx.emu->on_close && (!is_tls(slot) || conn_tls_opened(slot)))
		c->ctx.emu->on_close(&c->ctx, state_of(slot), why);
	if ((e = emu_event(&c->ctx, "connection.close"))) {
		event_int(e, "event.duration",
		        (lure_now() - c->t_open) * 1000000LL);
		event_int(e, "source.bytes", (int64_t)c->bytes_in);
		event_int(e, "destination.bytes", (int64_t)c->bytes_out);
		event_str(e, "event.reason", emu_close_reason_name[why]);
		if (is_tls(slot))
			conn_tls_close_fields(e, slot);
		event_commit(e);
	}
	if (c->corked) /* what waits in the socket leaves before the close */
		(void)setsockopt(
		        c->fd, IPPROTO_TCP, TCP_CORK, &(int){0}, sizeof(int));
	c->corked = 0;
#if LURE_SIDE
	conn_side_drop(slot);
#endif
#if LURE_EMU_TLS
	emu_tls_end(&c->ctx);
#endif
	if (is_tls(slot))
		conn_tls_free(slot);
	else if (c->ctx.close == 2) { /* emu_reset(): linger 0 sends an RST */
		struct linger lg = {1, 0};
		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
	close(c->fd);
	c->fd = -1;
	if (c->in_big) {
		uintptr_t pg = page,
		          b = (uintptr_t)inbufs + slot * in_stride + IN_KEEP,
		          end = (uintptr_t)inbufs + (slot + 1) * in_stride;
		b = (b + pg - 1) & ~(pg - 1);
		end &= ~(pg - 1);
		if (end > b)
			(void)madvise((void *)b, end - b, MADV_DONTNEED);
		c->in_big = 0;
	}
	poller_set(conn_ref(slot), -1, 0);
	poller_timer_set(conn_ref(slot), 0);
	ip_remove(slot);
	c->free_next = free_head;
	free_head = (uint32_t)slot + 1;
	nopen--;
	stats.closed++;
	no_victim = 0;
}

/* Send what the emulator queued; close when it asked and all is sent. */
static void
flush_conn(size_t slot)
{
	struct conn *c = &conns[slot];

	c->want_flush = 0;
	/* the events first, then the bytes: this connection's events (and
	 * those before them), not the close events of the answers sent
	 * just before in the same pass */
	if (is_tls(slot) || (emu_ctx_pending(&c->ctx) && c->ev_seq > synced)) {
		out_file_sync();
		if (!out_file_pending())
			synced = event_count();
	}
	if (is_tls(slot)) {
		struct conn_tls_io io;
		enum emu_close_reason why;
		if (conn_tls_flush(slot, io_of(slot, &io), &why) < 0)
			close_conn(slot, why);
		return;
	}
	while (emu_ctx_pending(&c->ctx)) {
		/* copied bytes and a referenced page in one call */
		size_t first = c->ctx.out_len - c->ctx.out_off;
		struct iovec iov[2] = {{c->ctx.out + c->ctx.out_off, first},
		        {(void *)c->ctx.ref, c->ctx.ref_len}};
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			close_conn(slot, EMU_CLOSE_ERROR);
			return;
		}
		if ((size_t)w > first) {
			emu_ctx_sent(&c->ctx, first);
			emu_ctx_sent(&c->ctx, (size_t)w - first);
		} else {
			emu_ctx_sent(&c->ctx, (size_t)w);
		}
		c->bytes_out += (uint64_t)w;
		c->t_active = lure_now();
	}
	if (LURE_TLS_SERVER && c->ctx.starttls >= 2 && !c->ctx.close) {
		/* emu_starttls(): its answer is out, a ClientHello comes next;
		 * what the client sent before it is dropped. emu_starttls_now():
		 * what the emulator left is the ClientHello */
		int now = c->ctx.starttls == 3;
		c->ctx.starttls = 0;
		if (!now)
			c->in_len = 0;
		c->tls = 1;
		conn_tls_reset(slot, 1);
		if (now && c->in_len) {
			if (tls_hello(slot) == 0)
				flush_conn(slot);
			return;
		}
	}
	if (c->ctx.close)
		close_conn(slot, EMU_CLOSE_EMU);
	else if (c->peer_eof && !c->ctx.wake_at)
		close_conn(slot, EMU_CLOSE_PEER);
}

/* Offer input, send output, repeat while the emulator makes progress. */
static void
serve(size_t slot)
{
	struct conn *c = &conns[slot];

	for (int guard = 0; guard < 64 && c->fd >= 0; guard++) {
		size_t before;
		struct conn_tls_io io;
		enum emu_close_reason why;
		if (is_tls(slot) &&
		        conn_tls_pull(slot, io_of(slot, &io), &why) < 0) {
			close_conn(slot, why);
			return;
		}
		before = c->in_len;
		c->in_big |= c->in_len > IN_KEEP;
		if (emu_ctx_pump(&c->ctx, state_of(slot),
		            inbufs + slot * in_stride, &c->in_len,
		            c->in_cap) < 0) {
			close_conn(slot, EMU_CLOSE_INPUT);
			return;
		}
		c->ev_seq = event_count();
		if (!is_tls(slot) && emu_ctx_pending(&c->ctx)) {
			c->want_flush = 1; /* settle() sends it */
			dirty(slot);
			return;
		}
		flush_conn(slot);
		if (c->fd < 0 || emu_ctx_pending(&c->ctx) ||
		        c->in_len == before || c->ctx.wake_at)
			return;
	}
}

/* connection.open, once its source is known (after a PROXY header) */
static void
announce(size_t slot)
{
	struct event *e = emu_event(&conns[slot].ctx, "connection.open");

	if (e)
		event_commit(e);
}

/* The slot's emulator from now on: on_open (a tls port's after the
 * handshake), then the bytes held so far. tls: the listener's (1: a tls
 * port, 2: a starttls one). */
static void
open_conn(size_t slot, const struct emulator *emu, uint8_t tls)
{
	struct conn *c = &conns[slot];

	c->pre = 0;
	c->tls = tls == 1;
	if (LURE_TLS_SERVER)
		c->ctx.starttls = tls == 2 && tls_server_max();
	c->ctx.emu = emu;
	if (emu->state_size)
		memset(state_of(slot), 0, emu->state_size);
	if (is_tls(slot)) { /* on_open once the handshake is done */
		conn_tls_reset(slot, 0);
		if (c->in_len && tls_hello(slot) < 0)
			return;
	} else if (emu->on_open)
		emu->on_open(&c->ctx, state_of(slot));
	serve(slot);
	/* a greeting leaves at once: a crowd accepted in one pass may evict
	 * this connection before the pass is settled */
	if (c->fd >= 0 && c->want_flush)
		flush_conn(slot);
}

/* A redirected connection's original destination (nftables redirect):
 * the address and port the scanner aimed at, in its events. */
static void
orig_dst(int fd, struct emu_ctx *ctx)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	uint8_t ip[16];
	int family;

	if (getsockopt(fd, IPPROTO_IP, SO_ORIGINAL_DST, &ss, &sl) == 0 ||
	        (sl = sizeof ss, getsockopt(fd, IPPROTO_IPV6, SO_ORIGINAL_DST,
	                                 &ss, &sl) == 0)) {
		addr_of(&ss, &family, ip, &ctx->local_port, ctx->dst_ip,
		        sizeof ctx->dst_ip);
		ctx->persona_port = ctx->local_port;
	}
}

/* The phase before any emulator, on every input: the PROXY header (a bad
 * one closes with an event saying why), then the catch-all's guess. */
static void
pre_conn(size_t slot)
{
	struct conn *c = &conns[slot];
	uint8_t *in = inbufs + slot * in_stride;
	int more = !c->peer_eof && c->in_len < c->in_cap, r;
	enum sniff_kind k;

	if (c->pre & PRE_PROXY) {
		struct proxyproto h;
		if (!(r = proxyproto_parse(in, c->in_len, &h)) && !more)
			r = -1, h.error = "no complete PROXY header";
		if (r < 0) {
			sniff_event(&c->ctx, h.error, in, c->in_len, -1);
			close_conn(slot, EMU_CLOSE_INPUT);
		}
		if (r <= 0)
			return;
		if (h.family) {
			fmt_ntop(h.family == 4 ? AF_INET : AF_INET6, h.src,
			        c->ctx.src_ip, sizeof c->ctx.src_ip);
			c->ctx.src_port = h.sport;
			c->ctx.excluded = config_excluded(cfg, h.family, h.src);
		}
		c->in_len -= (size_t)r;
		memmove(in, in + r, c->in_len);
		c->ctx.emu = c->l->emu ? c->l->emu : &sniff_catchall;
		announce(slot);
		if (!(c->pre &= (uint8_t)~PRE_PROXY)) {
			open_conn(slot, c->l->emu, c->l->tls);
			return;
		}
	}
	if (!c->in_len) {
		if (c->peer_eof) /* a connect scan: nothing to guess */
			close_conn(slot, EMU_CLOSE_PEER);
		return;
	}
	k = sniff_kind(in, c->in_len);
	if (k == SNIFF_MORE && more)
		return;
	if (k == SNIFF_TLS && tls_emu)
		open_conn(slot, tls_emu, 1);
	else if (k == SNIFF_TLS) {
		if (!sniff_tls(&c->ctx, in, c->in_len, more))
			close_conn(slot, EMU_CLOSE_EMU);
	} else
		open_conn(slot, sniff_emu(k), 0);
}

static void
read_conn(size_t slot);

static void
accept_tcp(struct listener *l)
{
	for (int k = 0; k < ACCEPT_BURST && !pool_full(); k++) {
		struct sockaddr_storage peer, local;
		socklen_t pl = sizeof peer, ll = sizeof local;
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &pl,
		        SOCK_NONBLOCK | SOCK_CLOEXEC);
		size_t slot;
		struct conn *c;
		int family, excl, why = ADMIT_OK;
		long v = -1;
		uint8_t ip[16], lip[16];
		uint16_t lport, sport;
		char text[48];

		if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
			if (!admit_nofile() ||
			        (fd = accept4(l->fd, (struct sockaddr *)&peer,
			                 &pl, SOCK_CLOEXEC)) < 0)
				return;
			why = ADMIT_NOFILE;
		}
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			        errno != EINTR && errno != ECONNABORTED)
				lure_log("ACCEPT port=%u error=%s", l->port,
				        fmt_strerror(errno));
			return;
		}
		addr_of(&peer, &family, ip, &sport, text, sizeof text);
		excl = config_excluded(cfg, family, ip);
		admit_key(family, ip);
		if (!why)
			why = admit_check(ip_count(family, ip, &v));
		if (why == ADMIT_PER_IP) { /* v: the source's, made room */
			stats.rejected_per_ip++;
			why = ADMIT_OK;
		} else
			v = -1;
		if (!why && v < 0 && !free_head && used >= cfg->max_conns &&
		        (v = victim(family, ip, lure_now())) < 0)
			why = ADMIT_FULL, no_victim = 1;
		if (why) {
			close(fd);
			admit_refuse(
			        family, ip, l->port, excl ? ADMIT_OK : why);
			continue;
		}
		/* the victim's answer of this pass goes out first */
		if (v >= 0 && conns[v].want_flush)
			flush_conn((size_t)v);
		if (v >= 0 && conns[v].fd >= 0)
			close_conn((size_t)v, EMU_CLOSE_EVICTED);
		slot = free_head ? free_head - 1 : used;
		c = &conns[slot];
		c->ctx.out = outbufs + slot * cfg->out_buf;
		c->ctx.out_cap = cfg->out_buf;
		memcpy(c->ctx.src_ip, text, sizeof text);
		c->ctx.src_port = sport;
		if (free_head)
			free_head = c->free_next;
		else
			used++;
		c->fd = fd;
		c->l = l;
		c->family = (uint8_t)family;
		memcpy(c->ip, ip, 16);
		c->ip_next = ip_bucket[ip_hash(family, ip)];
		ip_bucket[ip_hash(family, ip)] = (uint32_t)slot + 1;
		c->peer_eof = c->want_flush = c->corked = 0;
		c->ev_seq = 0;
		c->t_open = c->t_active = lure_now();
		c->bytes_in = c->bytes_out = 0;
		c->in_len = 0;
		c->in_cap = l->emu ? LURE_MAX(cfg->in_buf, l->emu->in_min)
		                   : in_stride;
		emu_ctx_reset(&c->ctx);
#if LURE_EMU_TLS
		c->ctx.tls_op = emu_tls_op;
#endif
#if LURE_SIDE
		conn_side_attach(&c->ctx, slot);
#endif
		c->pre = (uint8_t)(!LURE_CATCHALL
		                           ? 0
		                           : (cfg->proxy_protocol ? PRE_PROXY
		                                                  : 0) |
		                                     (l->emu ? 0 : PRE_SNIFF));
		c->tls = 0;
		c->ctx.emu = !c->pre              ? l->emu
		             : c->pre & PRE_PROXY ? &sniff_proxy
		                                  : &sniff_catchall;
		c->ctx.transport = EMU_TCP;
		c->ctx.local_port = l->port;
		c->ctx.persona_port = l->persona_port;
		c->ctx.hostname = cfg->hostname[0] ? cfg->hostname : NULL;
		c->ctx.excluded = excl;
		if (l->local[0]) /* nginx too asks only a wildcard socket */
			memcpy(c->ctx.dst_ip, l->local, sizeof l->local);
		else if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0)
			addr_of(&local, &family, lip, &lport, c->ctx.dst_ip,
			        sizeof c->ctx.dst_ip);
		else
			fmt_snprintf(c->ctx.dst_ip, sizeof c->ctx.dst_ip, "%s",
			        l->addr);
		{ /* "<boot>-<n>": 16 + 1 + at most 20 digits + NUL */
			const char *b = event_identity()->boot_id;
			size_t bl = strnlen(b, 16);
			memcpy(c->ctx.session, b, bl);
			c->ctx.session[bl] = '-';
			c->ctx.session[bl + 1 +
			               fmt_dec(c->ctx.session + bl + 1,
			                       ++session_counter)] = 0;
		}
		if (LURE_CATCHALL && !l->emu)
			orig_dst(fd, &c->ctx);
		nopen++;
		stats.accepted++;
		if (!(c->pre & PRE_PROXY))
			announce(slot);
		if (!c->pre)
			open_conn(slot, l->emu, l->tls);
		dirty(slot);
		/* a client's first bytes often came with the handshake: read
		 * them now, and a connection answered and closed in this pass
		 * is never registered with the poller */
		if (c->fd >= 0 && !emu_ctx_pending(&c->ctx) && !c->ctx.wake_at)
			read_conn(slot);
	}
}

/* The local address a datagram reached (IP_PKTINFO, IPV6_PKTINFO), or the
 * listener's address when the kernel gave none. */
static void
udp_local_addr(
        struct msghdr *mh, const struct listener *l, char *text, size_t cap)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			fmt_ntop(AF_INET, &pi.ipi_spec_dst, text, cap);
			return;
		}
		if (c->cmsg_level == IPPROTO_IPV6 &&
		        c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			if (IN6_IS_ADDR_V4MAPPED(&pi.ipi6_addr))
				fmt_ntop(AF_INET, pi.ipi6_addr.s6_addr + 12,
				        text, cap);
			else
				fmt_ntop(AF_INET6, &pi.ipi6_addr, text, cap);
			return;
		}
	}
	fmt_snprintf(text, cap, "%s", l->addr);
}

static void
recv_udp(struct listener *l)
{
	static uint8_t buf[UDP_MAX], reply[UDP_MAX];
	static uint8_t state[4096] __attribute__((aligned(16)));
	static struct emu_ctx ctx;

	for (int k = 0; k < UDP_BURST; k++) {
		struct sockaddr_storage peer;
		union {
			struct cmsghdr h;
			uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		} cm;
		struct iovec iov = {buf, sizeof buf};
		struct msghdr mh = {.msg_name = &peer,
		        .msg_namelen = sizeof peer,
		        .msg_iov = &iov,
		        .msg_iovlen = 1,
		        .msg_control = &cm,
		        .msg_controllen = sizeof cm};
		ssize_t n = recvmsg(l->fd, &mh, 0);
		socklen_t pl = mh.msg_namelen;
		uint8_t ip[16];
		int family;
		size_t rl = 0, m, budget;
		const uint8_t *p;

		if (n < 0)
			return;
		stats.datagrams++;
		memset(&ctx, 0, sizeof ctx);
		ctx.emu = l->emu;
		ctx.out = reply;
		ctx.transport = EMU_UDP;
		ctx.local_port = l->port;
		ctx.persona_port = l->persona_port;
		ctx.hostname = cfg->hostname[0] ? cfg->hostname : NULL;
		addr_of(&peer, &family, ip, &ctx.src_port, ctx.src_ip,
		        sizeof ctx.src_ip);
		/* the emulator's emu_send() refuses an answer beyond it */
		budget = udpguard_in(family, ip, (size_t)n, cfg->udp_grace);
		ctx.out_cap = LURE_MIN(budget, sizeof reply);
		udp_local_addr(&mh, l, ctx.dst_ip, sizeof ctx.dst_ip);
		ctx.excluded = config_excluded(cfg, family, ip);
		if (l->emu->state_size > sizeof state)
			return;
		memset(state, 0, l->emu->state_size);
		if (l->emu->on_open)
			l->emu->on_open(&ctx, state);
		if (l->emu->on_data)
			l->emu->on_data(&ctx, state, buf, (size_t)n);
		if (l->emu->on_close)
			l->emu->on_close(&ctx, state, EMU_CLOSE_PEER);
		/* one datagram back: buffered bytes then the reference */
		while ((m = emu_ctx_peek(&ctx, &p)) > 0) {
			if (p != reply + rl) {
				m = LURE_MIN(m, sizeof reply - rl);
				memmove(reply + rl, p, m);
			}
			rl += m;
			emu_ctx_sent(&ctx, m);
			if (rl == sizeof reply)
				break;
		}
		if (ctx.refused || rl > budget) { /* whole or nothing */
			stats.udp_withheld++;
			stats.udp_withheld_bytes += ctx.refused + rl;
			rl = 0;
		}
		out_file_sync(); /* the events before the datagram */
		if (rl)
			sendto(l->fd, reply, rl, 0, (struct sockaddr *)&peer,
			        pl);
		udpguard_out(rl);
	}
}

/* Socket -> engine, once the session exists. */
static void
read_tls(size_t slot)
{
	struct conn_tls_io io;
	enum emu_close_reason why;
	int r = conn_tls_recv(slot, io_of(slot, &io), cfg->max_input, &why);

	if (r < 0)
		close_conn(slot, why);
	else if (r == 0)
		serve(slot);
}

/* Socket bytes in the input buffer -> ClientHello. -1: closed, or no
 * session yet (nothing for the emulator). */
static int
tls_hello(size_t slot)
{
	struct conn_tls_io io;
	enum emu_close_reason why;
	int r = conn_tls_hello(slot, io_of(slot, &io), &why);

	if (r < 0)
		close_conn(slot, why);
	return r ? -1 : 0;
}

/* The handshake deadline, a waiting ClientHello's next try: the next
 * deadline, 0: closed. */
static int64_t
tls_tick(size_t slot, int64_t now)
{
	struct conn_tls_io io;
	enum emu_close_reason why;
	int64_t at;
	int r = conn_tls_tick(slot, io_of(slot, &io), now, &at, &why);

	if (r < 0)
		close_conn(slot, why);
	else if (r > 0)
		serve(slot);
	return conns[slot].fd < 0 ? 0 : at;
}

static void
read_conn(size_t slot)
{
	struct conn *c = &conns[slot];
	uint8_t *in = inbufs + slot * in_stride;
	ssize_t n;

	if (is_tls(slot) && conn_tls_active(slot)) {
		read_tls(slot);
		return;
	}
	n = recv(c->fd, in + c->in_len, c->in_cap - c->in_len, 0);

	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			close_conn(slot, errno == ECONNRESET ? EMU_CLOSE_PEER
			                                     : EMU_CLOSE_ERROR);
		return;
	}
	if (n == 0) {
		c->peer_eof = 1;
		if (LURE_CATCHALL && c->pre) {
			pre_conn(slot);
			return;
		}
		if (is_tls(slot) && tls_hello(slot) < 0)
			return;
		serve(slot);
		if (c->fd >= 0 && !emu_ctx_pending(&c->ctx) && !c->ctx.wake_at)
			close_conn(slot, EMU_CLOSE_PEER);
		return;
	}
	c->in_len += (size_t)n;
	c->bytes_in += (uint64_t)n;
	c->t_active = lure_now();
	if (c->bytes_in > cfg->max_input) {
		close_conn(slot, EMU_CLOSE_INPUT);
		return;
	}
	if (LURE_CATCHALL && c->pre)
		pre_conn(slot);
	else if (is_tls(slot) && tls_hello(slot) < 0)
		return;
	else
		serve(slot);
}

/* Fire due timers; returns the connection's next deadline. */
static int64_t
tick_conn(size_t slot, int64_t now)
{
	struct conn *c = &conns[slot];
	int64_t idle = c->t_active + (int64_t)cfg->idle_timeout * 1000;
	int64_t session = c->t_open + (int64_t)cfg->session_timeout * 1000;
	/* the first request's deadline, which trickling cannot move (nginx's
	 * client_header_timeout); an emulator's own timer (a login grace
	 * time) stands for its daemon's instead */
	int64_t first =
	        c->ctx.requested || c->ctx.timer_at
	                ? session
	                : c->t_open + (int64_t)cfg->request_timeout * 1000;

	if (now >= LURE_MIN(session, first)) {
		close_conn(slot,
		        now >= session ? EMU_CLOSE_SESSION : EMU_CLOSE_REQUEST);
		return 0;
	}
	session = LURE_MIN(session, first);
	/* a silent catch-all client (or one that stopped within a prefix):
	 * record it, then the banner emulator */
	if (LURE_CATCHALL && c->pre == PRE_SNIFF) {
		int64_t at = c->t_open + SNIFF_WAIT_MS;
		if (now < at)
			return LURE_MIN(session, at);
		if (!c->in_len)
			sniff_event(&c->ctx, NULL, NULL, 0, now - c->t_open);
		open_conn(slot, sniff_emu(SNIFF_OTHER), 0);
		if (c->fd < 0)
			return 0;
	}
	if (is_tls(slot) && !(session = LURE_MIN(session, tls_tick(slot, now))))
		return 0;
	if ((c->ctx.wake_at && now >= c->ctx.wake_at) ||
	        (c->ctx.timer_at && now >= c->ctx.timer_at)) {
		if (c->ctx.wake_at && now >= c->ctx.wake_at)
			c->ctx.wake_at = 0;
		if (c->ctx.timer_at && now >= c->ctx.timer_at)
			c->ctx.timer_at = 0;
		c->t_active = now; /* a pending delay is not idleness */
		if (c->ctx.emu->on_timeout)
			c->ctx.emu->on_timeout(&c->ctx, state_of(slot));
		serve(slot);
		if (c->fd < 0)
			return 0;
		if (c->peer_eof && !emu_ctx_pending(&c->ctx) &&
		        !c->ctx.wake_at) {
			close_conn(slot, EMU_CLOSE_PEER);
			return 0;
		}
		idle = c->t_active + (int64_t)cfg->idle_timeout * 1000;
	}
	/* an emulator's timer stands for its daemon's own limit (sshd's
	 * LoginGraceTime 120 s, login's 60 s, a keep-alive's end): the
	 * connection is not idle before it fires; limits.session_timeout
	 * still ends it */
	if (c->ctx.timer_at)
		idle = LURE_MAX(idle, c->ctx.timer_at);
	if (now >= idle && !c->ctx.wake_at) {
		close_conn(slot, EMU_CLOSE_IDLE);
		return 0;
	}
	if (c->ctx.timer_at)
		session = LURE_MIN(session, c->ctx.timer_at);
	if (c->ctx.wake_at)
		return LURE_MIN(session, c->ctx.wake_at);
	return LURE_MIN(session, idle);
}

/* poll events for a connection with a TLS session. A session that wants
 * no bytes and has none to send while the emulator waits for input has
 * failed or closed inside the engine (BearSSL closes after its alert):
 * one more pass lets it say so; if nothing changes, close. -1: closed. */
static short
tls_wants(size_t s)
{
	struct conn_tls_io io;
	int ev = conn_tls_wants(s, io_of(s, &io));

	if (ev == CONN_TLS_STUCK) {
		serve(s);
		if (conns[s].fd < 0)
			return -1;
		ev = conn_tls_wants(s, io_of(s, &io));
	}
	if (ev == CONN_TLS_STUCK) {
		close_conn(s, EMU_CLOSE_ERROR);
		return -1;
	}
	return (short)ev;
}

/* What a connection wants polled and its next deadline, registered. */
static void
settle(size_t s, int64_t now)
{
	struct conn *c = &conns[s];
	int64_t at;
	short ev = 0;

	c->dirty = 0;
	if (c->want_flush && c->fd >= 0) {
		/* more input waits for this answer (pipelined requests) */
		if (c->in_len && !c->corked && c->ctx.emu->pipeline)
			c->corked = !setsockopt(c->fd, IPPROTO_TCP, TCP_CORK,
			        &(int){1}, sizeof(int));
		/* the first of the pass writes the pass's events: one write
		 * for all the answers sent here, not one per answer */
		flush_conn(s);
		if (c->fd >= 0 && !emu_ctx_pending(&c->ctx))
			serve(s); /* input that waited for the answer */
	}
	/* the last answer of the run is queued or sent: let them go */
	if (c->corked && c->fd >= 0 && !c->want_flush) {
		setsockopt(
		        c->fd, IPPROTO_TCP, TCP_CORK, &(int){0}, sizeof(int));
		c->corked = 0;
	}
	if (c->fd < 0 || !(at = tick_conn(s, now)))
		return;
	if (is_tls(s) && conn_tls_active(s)) {
		if ((ev = tls_wants(s)) < 0)
			return;
	} else if (emu_ctx_pending(&c->ctx))
		ev = POLLOUT;
	else if (!c->peer_eof && !c->ctx.wake_at && c->in_len < c->in_cap)
		ev = POLLIN;
	poller_set(conn_ref(s), c->fd, ev);
	poller_timer_set(conn_ref(s), at);
}

void
conn_tick(int64_t now)
{
	uint32_t ref;
	int on;

	while (poller_timer_due(now, &ref))
		dirty(ref - conn_ref(0));
	for (uint32_t i = 0; i < ndirty; i++)
		settle(dirty_list[i], now);
	ndirty = 0;
	/* a full pool takes the TCP listeners out of the poll set (asked
	 * after the timers: they may have freed a slot) */
	on = !pool_full();
	for (size_t i = 0; on != listening && i < nlisteners; i++)
		poller_set(POLLER_CONN + (uint32_t)i, listeners[i].fd,
		        on || listeners[i].transport == EMU_UDP ? POLLIN : 0);
	listening = on;
}

void
conn_poll_handle(uint32_t ref, short ev)
{
	size_t s = ref - nlisteners;

	if (ref < nlisteners) {
		if (listeners[ref].transport == EMU_UDP)
			recv_udp(&listeners[ref]);
		else
			accept_tcp(&listeners[ref]);
		return;
	}
#if LURE_SIDE
	if (s >= cfg->max_conns) { /* a data channel */
		conn_side_handle((uint32_t)(s - cfg->max_conns), ev);
		return;
	}
#endif
	if (conns[s].fd < 0)
		return; /* closed in this pass */
	dirty(s);
	if (ev & POLLOUT)
		flush_conn(s);
	else if (ev & (POLLIN | POLLHUP | POLLERR))
		read_conn(s);
	if (conns[s].fd >= 0 && (ev & POLLOUT) &&
	        !emu_ctx_pending(&conns[s].ctx))
		serve(s);
}

void
conn_shutdown(void)
{
	for (size_t s = 0; cfg && s < used; s++) {
		if (conns[s].fd >= 0 && conns[s].want_flush)
			flush_conn(s); /* the last pass's answers */
		if (conns[s].fd >= 0)
			close_conn(s, EMU_CLOSE_SHUTDOWN);
	}
	for (size_t i = 0; i < nlisteners; i++)
		close(listeners[i].fd);
	nlisteners = 0;
	admit_tick(INT64_MAX); /* every refusal still counted */
}

void
conn_stats(struct conn_stats *st)
{
	*st = stats;
	st->open = nopen;
}
