/* admit.c: see admit.h. Refusals wait in a small table, one row per
 * source, port and reason, until the window that the first of them opened
 * ends (or the table is full: then it ends early); only sources already
 * holding their share can be refused for pool_share, so the table stays
 * small. A source at per_ip is not refused (src/conn.c: its least recently
 * active connection makes room); the reason stays in the table.
 *
 * Events: connection.refused (event.dataset lure.refused, event.type
 * connection/denied) with event.reason (per_ip, pool_share, pool_full,
 * nofile), source.ip (an IPv4 address, or the first address of an IPv6
 * prefix), destination.port, lure.refused.count, event.start (the first
 * refusal; @timestamp is the window's end). Compared with: the reserve
 * descriptor of libuv's EMFILE trick and nginx's accept pause on EMFILE
 * (500 ms there, 1 s here); nginx's limit_conn counts a key, not an
 * address, as this counts a prefix. Not modelled: a daemon's own answer
 * to a refusal (every refusal, eviction and request_timeout is a plain
 * close, as nginx's client_header_timeout is). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "admit.h"
#include "config.h"
#include "event.h"
#include "fmt.h"
#include "json.h"
#include "lure.h"
#include "persona.h"
#include "platform.h"

#define REFUSALS 32
/* descriptors other than listeners and connections: stdio, the output,
 * the reserve, the poller, the shipper's socket, resolver, spool and
 * dead-letter files, with room to spare */
#define FD_OTHERS 32

struct refusal {
	int64_t first; /* lure_wall() of the first refusal */
	uint32_t n; /* 0: free */
	uint8_t tag[20]; /* source key (16), port (2), family, reason */
};

static const char *const reasons[] = {
        "", "per_ip", "pool_share", "pool_full", "nofile"};

static const struct config *cfg;
static struct refusal refusals[REFUSALS];
static int64_t flush_at, rest_until, next_log; /* lure_now() */
static uint64_t refused, nofile_errors;
static long nofile;
static int reserve = -1;
int admit_resting;

static void
spare(void)
{
	if (reserve < 0)
		reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void
admit_setup(struct config *c)
{
	long room;

	cfg = c;
	nofile = platform_raise_nofile(0x7fffffffL);
	room = nofile - FD_OTHERS - (long)(persona_nports * (size_t)c->nlisten);
	if (room < (long)c->max_conns) {
		lure_log("NOFILE limit=%ld max_conns=%ld configured=%u", nofile,
		        LURE_MAX(room, 1L), c->max_conns);
		c->max_conns = (unsigned)LURE_MAX(room, 1L);
	}
	spare();
}

void
admit_key(int family, uint8_t ip[16])
{
	unsigned bits = family == 4 ? 32 : cfg->ipv6_prefix;

	for (unsigned i = 0; i < 16; i++) {
		ip[i] &= (uint8_t)(0xff00 >> LURE_MIN(bits, 8));
		bits -= LURE_MIN(bits, 8);
	}
}

int
admit_check(unsigned n)
{
	if (n >= cfg->per_ip)
		return ADMIT_PER_IP;
	return n >= LURE_MAX(cfg->max_conns / 2, 1u) ? ADMIT_SHARE : ADMIT_OK;
}

static void
emit(struct refusal *r)
{
	struct event *e = event_begin("connection.refused", NULL);
	char t[48];
	uint16_t port;

	memcpy(&port, r->tag + 16, 2);
	event_str(e, "event.dataset", "lure.refused");
	event_str(e, "event.reason", reasons[r->tag[19]]);
	fmt_ntop(r->tag[18] == 4 ? AF_INET : AF_INET6, r->tag, t, sizeof t);
	event_str(e, "source.ip", t);
	event_int(e, "destination.port", port);
	event_int(e, "lure.refused.count", r->n);
	json_time(t, r->first);
	event_str(e, "event.start", t);
	event_commit(e);
	r->n = 0;
}

/* The window ends: every refusal event waiting is written. */
static void
flush(void)
{
	for (size_t i = 0; i < REFUSALS; i++)
		if (refusals[i].n)
			emit(&refusals[i]);
	flush_at = 0;
}

void
admit_refuse(int family, const uint8_t key[16], uint16_t port, int why)
{
	struct refusal *r = NULL, *room = NULL;
	uint8_t tag[20];

	refused++;
	if (!why)
		return;
	memcpy(tag, key, 16);
	memcpy(tag + 16, &port, 2);
	tag[18] = (uint8_t)family;
	tag[19] = (uint8_t)why;
	for (size_t i = 0; !r && i < REFUSALS; i++) {
		struct refusal *x = &refusals[i];
		if (x->n && !memcmp(x->tag, tag, sizeof tag))
			r = x;
		else if (!x->n)
			room = x;
	}
	if (!r) {
		if (!room) { /* more sources than rows: the window ends early */
			flush();
			room = refusals;
		}
		r = room;
		r->first = lure_wall();
		memcpy(r->tag, tag, sizeof tag);
		if (!flush_at)
			flush_at = lure_now() +
			           (int64_t)cfg->refused_window * 1000;
	}
	r->n++;
}

int
admit_nofile(void)
{
	int64_t now = lure_now();

	nofile_errors++;
	rest_until = now + 1000;
	admit_resting = 1;
	if (now >= next_log) {
		lure_log("ACCEPT error=%s count=%llu resting=1s",
		        fmt_strerror(errno), (unsigned long long)nofile_errors);
		next_log = now + 60000;
	}
	if (reserve < 0)
		return 0;
	close(reserve);
	reserve = -1;
	return 1;
}

void
admit_tick(int64_t now)
{
	if (now >= rest_until) {
		admit_resting = 0;
		spare();
	}
	if (flush_at && now >= flush_at)
		flush();
}

int64_t
admit_deadline(void)
{
	return admit_resting && (!flush_at || rest_until < flush_at)
	               ? rest_until
	               : flush_at;
}

void
admit_status(struct event *e)
{
	event_int(e, "lure.nofile", nofile);
	event_int(e, "lure.connections.refused", (int64_t)refused);
}
