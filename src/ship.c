/* ship.c: see ship.h. One batch at a time: lines are copied from the queue
 * into the request body (action line + event line per item) while the batch
 * is open; once sent, the batch is closed until every item is resolved, and
 * only then is the queue acknowledged up to the batch's end. Item i of a
 * request answers item i of the body (Elasticsearch keeps the order). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JSMN_STATIC
#define JSMN_STRICT
/* each token knows its parent: without, jsmn finds the enclosing array
 * after every item by scanning back over all tokens before it, quadratic
 * in the items of a bulk answer (a sixth of the shipper's CPU at 1000) */
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "config.h"
#include "event.h"
#include "fdio.h"
#include "fmt.h"
#include "hash.h"
#include "json.h"
#include "lure.h"
#include "outbox.h"
#include "resolve.h"
#include "ship.h"
#include "spool.h"
#include "tls.h"

#define BACKOFF_BASE_MS 500
#define FILTER                                                  \
	"filter_path=errors,items.*.status,items.*.error.type," \
	"items.*.error.reason"

enum ship_state {
	S_OFF,
	S_IDLE, /* batch open, waiting for lines or the flush timer */
	S_BACKOFF, /* waiting before the next try */
	S_RESOLVE,
	S_CONNECT,
	S_TLS,
	S_SEND,
	S_RECV,
	S__MAX
};
static const char *const state_name[S__MAX] = {
        "off", "idle", "backoff", "resolve", "connect", "tls", "send", "recv"};

enum item_state { I_PENDING, I_DONE };

struct item {
	uint32_t off, len; /* action + event line in the body */
	uint32_t line_off; /* where the event line starts */
};

enum req_kind { REQ_TEMPLATE, REQ_PIPELINE, REQ_BULK };

static struct {
	struct config_es *c;
	enum ship_state st;
	int tls, fd, cons, reused, template_done, pipeline_done;
	char host[256], hostport[300], prefix[256], auth[600];
	const char *pipeline; /* "": none (or its install was refused) */
	uint16_t port;
	int64_t deadline, opened_at, last_error_at;
	unsigned attempt;
	/* the batch */
	char *body;
	size_t body_len, body_cap;
	struct item *items;
	size_t nitems, cap_items, limit, sent_items;
	uint64_t read_pos, end_pos;
	int closed; /* sent at least once: no more lines join */
	/* the request in flight */
	enum req_kind kind;
	char head[1024];
	size_t head_len, out_off, out_len;
	char *resp;
	size_t resp_len, resp_cap;
	/* bulk response items */
	int *status;
	const char **reason;
	size_t *reason_len;
	jsmntok_t *tok;
	size_t ntok;
	char *tmpl, *pipe; /* index template, ingest pipeline */
	size_t tmpl_len, pipe_len;
	int dlq_fd, clock_warned;
	struct tls *t;
	char last_error[256], io_err[200];
	int eof; /* the TLS peer's end of stream went into the engine */
	uint64_t shipped, dead, retried, requests, lost;
} sh;

/* Its -1s set before main(): an initializer would put the whole of sh
 * (3 KB, mostly zeros) in the binary's data. */
__attribute__((constructor)) static void
sh_unset(void)
{
	sh.fd = sh.dlq_fd = sh.cons = -1;
}

static char line[EVENT_LINE_MAX];

/* --- helpers ---------------------------------------------------------- */

static int
unhex(int c)
{
	return c >= '0' && c <= '9'                 ? c - '0'
	       : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10
	                                            : -1;
}

/* Percent-decode src[0..n) into dst (cap bytes, NUL-terminated). */
static int
pct_decode(char *dst, size_t cap, const char *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int ch = src[i];
		if (ch == '%' && i + 2 < n + 0 && unhex(src[i + 1]) >= 0 &&
		        unhex(src[i + 2]) >= 0) {
			ch = unhex(src[i + 1]) * 16 + unhex(src[i + 2]);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		dst[o++] = (char)ch;
	}
	dst[o] = 0;
	return 0;
}

static void
set_error(const char *fmt, const char *a)
{
	char msg[256];
	int64_t now = lure_now();
	struct event *e;

	fmt_snprintf(msg, sizeof msg, fmt, a ? a : "");
	/* a new error is reported at once, a repeated one once a minute */
	if (strcmp(msg, sh.last_error) == 0 && now - sh.last_error_at < 60000)
		return;
	fmt_snprintf(sh.last_error, sizeof sh.last_error, "%s", msg);
	sh.last_error_at = now;
	lure_log("SHIP error=\"%s\"", msg);
	e = event_begin("status", NULL);
	event_str(e, "event.dataset", "lure.status");
	event_str(e, "event.reason", "ship_error");
	event_str(e, "event.outcome", "failure");
	event_bytes(e, "error.message", msg, strlen(msg), 256);
	event_str(e, "url.domain", sh.host);
	event_int(e, "url.port", sh.port);
	event_commit(e);
}

/* --- the queue: the outbox, or the spool fed from it -------------------- */

/* The next line and where its event.id and @timestamp are: kept beside it
 * in the outbox by event_commit(); read back from a spool line (the spool
 * holds plain lines, so files from earlier versions replay unchanged). */
static long
src_line(uint64_t *pos, char *dst, size_t cap, struct outbox_keys *k)
{
	long n;

	if (spool_enabled())
		n = spool_line(pos, dst, cap);
	else
		n = outbox_line(sh.cons, pos, dst, cap, k);
	if (n > 0 && (spool_enabled() || !k->id_len) &&
	        event_keys(dst, (size_t)n, k) < 0)
		memset(k, 0, sizeof *k);
	return n;
}

/* A line is in the batch now (or lost): the outbox lets it go at once (the
 * body holds it; what the ring drops later was never the shipper's), the
 * spool keeps it until the batch is acknowledged. */
static void
take(uint64_t pos)
{
	sh.read_pos = pos;
	if (spool_enabled())
		spool_take(pos);
	else
		outbox_ack_to(sh.cons, pos);
}

static void
feed_spool(void)
{
	uint64_t pos = outbox_cursor(sh.cons);
	long n;

	while ((n = outbox_line(sh.cons, &pos, line, sizeof line, NULL)) != 0) {
		if (n > 0 && spool_append(line, (size_t)n) < 0)
			break; /* disk trouble: keep the rest in memory */
		outbox_ack_to(sh.cons, pos);
	}
}

/* --- setup ------------------------------------------------------------ */

static int
parse_url(struct config_es *c)
{
	const char *u = c->url, *host, *end, *at, *colon;
	char user[128] = "", pass[128] = "";
	size_t hl;

	if (strncmp(u, "https://", 8) == 0)
		sh.tls = 1, host = u + 8, sh.port = 443;
	else if (strncmp(u, "http://", 7) == 0)
		sh.tls = 0, host = u + 7, sh.port = 80;
	else
		return -1;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (at) {
		const char *sep = memchr(host, ':', (size_t)(at - host));
		if (pct_decode(user, sizeof user, host,
		            (size_t)((sep ? sep : at) - host)) < 0 ||
		        (sep && pct_decode(pass, sizeof pass, sep + 1,
		                        (size_t)(at - sep - 1)) < 0))
			return -1;
		host = at + 1;
	}
	if (*host == '[') { /* [v6]:port */
		const char *rb = memchr(host, ']', (size_t)(end - host));
		if (!rb)
			return -1;
		hl = (size_t)(rb - host - 1);
		if (hl >= sizeof sh.host)
			return -1;
		memcpy(sh.host, host + 1, hl);
		sh.host[hl] = 0;
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
		hl = (size_t)((colon ? colon : end) - host);
		if (hl == 0 || hl >= sizeof sh.host)
			return -1;
		memcpy(sh.host, host, hl);
		sh.host[hl] = 0;
	}
	if (colon) {
		char *pe;
		long p = fmt_strtol(colon + 1, &pe, 10);
		if (pe != end || p < 1 || p > 65535)
			return -1;
		sh.port = (uint16_t)p;
	}
	fmt_snprintf(sh.prefix, sizeof sh.prefix, "%.*s",
	        (int)strcspn(end, "?#"), end);
	hl = strlen(sh.prefix);
	while (hl && sh.prefix[hl - 1] == '/')
		sh.prefix[--hl] = 0;
	fmt_snprintf(sh.hostport, sizeof sh.hostport,
	        strchr(sh.host, ':') ? "[%s]:%u" : "%s:%u", sh.host, sh.port);
	if (!user[0] && c->user[0]) {
		fmt_snprintf(user, sizeof user, "%s", c->user);
		fmt_snprintf(pass, sizeof pass, "%s", c->password);
	}
	if (c->api_key[0]) {
		fmt_snprintf(sh.auth, sizeof sh.auth,
		        "Authorization: ApiKey %s\r\n", c->api_key);
	} else if (user[0]) {
		char cred[260], enc[360];
		int n = fmt_snprintf(cred, sizeof cred, "%s:%s", user, pass);
		hash_b64((const uint8_t *)cred, (size_t)n, enc);
		fmt_snprintf(sh.auth, sizeof sh.auth,
		        "Authorization: Basic %s\r\n", enc);
	}
	return 0;
}

/* A JSON file of at most 1 MiB PUT before the first bulk (key: its
 * configuration key, for messages); 0 or -1 after the message. */
static int
load_json(const char *path, const char *key, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	off_t n = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || (n = st.st_size) <= 0 ||
	        n > 1 << 20 || !(*buf = malloc((size_t)n)) ||
	        fdio_read_all(fd, *buf, (size_t)n) != n) {
		fmt_dprintf(2, "lure: %s \"%s\": %s\n", key, path,
		        fd >= 0 ? "unreadable" : fmt_strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	*len = (size_t)n;
	if (json_check(*buf, *len) != -1) {
		fmt_dprintf(2, "lure: %s \"%s\": not valid JSON\n", key, path);
		return -1;
	}
	return 0;
}

/* A pipeline name goes into the URL as is: [A-Za-z0-9._-] only. */
static int
pipeline_bad(const char *name)
{
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		            (*p >= '0' && *p <= '9') || strchr("._-", *p)))
			return 1;
	return 0;
}

/* The first conversion of an elasticsearch.index that index_name does not
 * write (the event time has only a date and an hour), or NULL. */
static const char *
index_bad(const char *pat)
{
	for (const char *p = pat; (p = strchr(p, '%')) != NULL; p += 2)
		if (!p[1] || !strchr("YyCmdeHF%", p[1]))
			return p;
	return NULL;
}

int
ship_setup(struct config *cf)
{
	struct config_es *c = &cf->es;
	const char *bad;

	if (!c->url[0])
		return 1;
	sh.c = c;
	if (parse_url(c) < 0) {
		fmt_dprintf(2,
		        "lure: elasticsearch.url \"%s\": expected "
		        "http[s]://[user:password@]host[:port][/path]\n",
		        c->url);
		return -1;
	}
	if (sh.tls && strcmp(LURE_TLS, "none") == 0) {
		fmt_dprintf(2, "lure: elasticsearch.url: https needs a TLS "
		               "build (make TLS=mbedtls)\n");
		return -1;
	}
	if (!c->data_stream && strchr(c->index, '/')) {
		fmt_dprintf(2, "lure: elasticsearch.index: no '/' allowed\n");
		return -1;
	}
	if (!c->data_stream && (bad = index_bad(c->index)) != NULL) {
		fmt_dprintf(2,
		        "lure: elasticsearch.index: %.2s: not one of the event "
		        "time's %%Y %%y %%C %%m %%d %%e %%H %%F %%%%\n",
		        bad);
		return -1;
	}
	if (c->template_file[0] &&
	        load_json(c->template_file, "elasticsearch.template", &sh.tmpl,
	                &sh.tmpl_len) < 0)
		return -1;
	if (pipeline_bad(c->pipeline) ||
	        (c->pipeline_file[0] && !c->pipeline[0])) {
		fmt_dprintf(2, "lure: elasticsearch.pipeline: %s\n",
		        c->pipeline[0] ? "letters, digits, '.', '_', '-' only"
		                       : "pipeline_file needs a pipeline name");
		return -1;
	}
	if (c->pipeline_file[0] &&
	        load_json(c->pipeline_file, "elasticsearch.pipeline_file",
	                &sh.pipe, &sh.pipe_len) < 0)
		return -1;
	if (sh.tls) {
		char err[256];
		struct tls_conf tc = {
		        c->ca_file[0] ? c->ca_file : NULL, c->insecure};
		if (tls_global_init(&tc, err, sizeof err) < 0) {
			fmt_dprintf(2, "lure: elasticsearch TLS: %s\n", err);
			return -1;
		}
	}
	if (lure_checking) /* lure -t: open nothing (main.c checks the paths) */
		return 0;
	if (c->dead_letter[0]) {
		sh.dlq_fd = open(c->dead_letter,
		        O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (sh.dlq_fd < 0) {
			fmt_dprintf(2,
			        "lure: elasticsearch.dead_letter \"%s\": "
			        "%s\n",
			        c->dead_letter, fmt_strerror(errno));
			return -1;
		}
	}
	if (c->spool[0] && spool_open(c->spool, c->spool_max_bytes) < 0)
		return -1;
	sh.cap_items = c->batch_events;
	/* one line of any size must fit an empty batch: it goes out alone */
	sh.body_cap = LURE_MAX(c->batch_bytes + c->batch_events * 200u,
	        (unsigned)EVENT_LINE_MAX + 512u);
	sh.resp_cap = 16384 + c->batch_events * 512u;
	sh.ntok = 64 + c->batch_events * 16u;
	sh.body = malloc(sh.body_cap);
	sh.items = calloc(sh.cap_items, sizeof *sh.items);
	sh.resp = malloc(sh.resp_cap + 1);
	sh.status = calloc(sh.cap_items, sizeof *sh.status);
	sh.reason = calloc(sh.cap_items, sizeof *sh.reason);
	sh.reason_len = calloc(sh.cap_items, sizeof *sh.reason_len);
	sh.tok = calloc(sh.ntok, sizeof *sh.tok);
	if (!sh.body || !sh.items || !sh.resp || !sh.status || !sh.reason ||
	        !sh.reason_len || !sh.tok) {
		fmt_dprintf(2, "lure: out of memory for the shipper\n");
		return -1;
	}
	sh.cons = outbox_consumer();
	sh.read_pos = spool_enabled() ? spool_cursor() : outbox_cursor(sh.cons);
	sh.template_done = !sh.tmpl;
	sh.pipeline_done = !sh.pipe;
	sh.pipeline = c->pipeline;
	sh.st = S_IDLE;
	return 0;
}

int
ship_enabled(void)
{
	return sh.st != S_OFF;
}

/* --- building the batch --------------------------------------------------- */

/* elasticsearch.index on the event's UTC date and hour t (year, month, day,
 * hour): strftime's %Y %y %C %m %d %e %H %F and %% as musl writes them
 * (ship_setup refuses every other conversion); the length, 0 when it does
 * not fit (as strftime). */
static size_t
index_name(char *out, size_t cap, const char *pat, const long t[4])
{
	size_t n = 0;
	int w;

	for (const char *p = pat; *p; p++) {
		if (*p != '%') {
			w = 1;
			if (n + 1 < cap)
				out[n] = *p;
		} else {
			char *o = out + n;
			size_t room = cap - n;
			switch (*++p) {
			case 'Y':
				w = fmt_snprintf(o, room, "%04ld", t[0]);
				break;
			case 'y':
				w = fmt_snprintf(o, room, "%02ld", t[0] % 100);
				break;
			case 'C':
				w = fmt_snprintf(o, room, "%02ld", t[0] / 100);
				break;
			case 'm':
				w = fmt_snprintf(o, room, "%02ld", t[1]);
				break;
			case 'd':
				w = fmt_snprintf(o, room, "%02ld", t[2]);
				break;
			case 'e':
				w = fmt_snprintf(o, room, "%2ld", t[2]);
				break;
			case 'H':
				w = fmt_snprintf(o, room, "%02ld", t[3]);
				break;
			case 'F':
				w = fmt_snprintf(o, room, "%04ld-%02ld-%02ld",
				        t[0], t[1], t[2]);
				break;
			default: w = fmt_snprintf(o, room, "%%"); break;
			}
		}
		n += (size_t)w;
		if (n >= cap)
			return 0;
	}
	out[n] = '\0';
	return n;
}

/* Action line for one event line; returns its length, 0 if unusable. */
static size_t
action_for(const char *ev, const struct outbox_keys *k, char *out, size_t cap)
{
	const char *id = ev + k->id_off, *ts = ev + k->ts_off;
	size_t idl = k->id_len, tsl = k->ts_len;
	char index[160];
	int w;

	if (!idl || !tsl || idl > 200)
		return 0;
	if (sh.c->data_stream) {
		fmt_snprintf(index, sizeof index, "%s", sh.c->index);
	} else {
		long t[4];
		if (tsl < 19 || ts[4] != '-' || ts[7] != '-' || ts[10] != 'T' ||
		        (t[0] = lure_digits(ts, 4)) < 0 ||
		        (t[1] = lure_digits(ts + 5, 2)) < 0 ||
		        (t[2] = lure_digits(ts + 8, 2)) < 0 ||
		        (t[3] = lure_digits(ts + 11, 2)) < 0 ||
		        !index_name(index, sizeof index, sh.c->index, t))
			return 0;
	}
	w = fmt_snprintf(out, cap,
	        "{\"create\":{\"_index\":\"%s\",\"_id\":\"%.*s\"}}\n", index,
	        (int)idl, id);
	return w > 0 && (size_t)w < cap ? (size_t)w : 0;
}

static void
dead_letter(size_t i, int status, const char *why, size_t whylen)
{
	struct item *it = &sh.items[i];
	char ts[32], head[1200];
	struct json_escape_result r;
	int n;

	sh.dead++;
	if (sh.dlq_fd < 0)
		return;
	json_time(ts, lure_wall());
	n = fmt_snprintf(head, sizeof head,
	        "{\"@timestamp\":\"%s\",\"status\":%d,"
	        "\"error\":\"",
	        ts, status);
	r = json_escape(head + n, sizeof head - (size_t)n - 16,
	        (const uint8_t *)why, whylen);
	n += (int)r.out_len;
	n += fmt_snprintf(head + n, sizeof head - (size_t)n, "\",\"event\":");
	/* the event line is JSON already: embed it, newline included */
	if (write(sh.dlq_fd, head, (size_t)n) != n ||
	        write(sh.dlq_fd, sh.body + it->line_off,
	                it->len - (it->line_off - it->off) - 1) < 0 ||
	        write(sh.dlq_fd, "}\n", 2) != 2)
		lure_log(
		        "SHIP dead_letter_write error=%s", fmt_strerror(errno));
}

/* Take more lines into the open batch. A line is copied once, from the
 * queue into the body past room for its action line, then moved down behind
 * the action; only when the body has less room than a line can need does it
 * go through the line buffer (so a line that does not fit stays queued). */
static void
fill_batch(void)
{
	char action[300];

	while (!sh.closed && sh.nitems < sh.cap_items) {
		uint64_t p = sh.read_pos;
		int direct = sh.body_cap - sh.body_len >=
		             sizeof action + sizeof line;
		char *dst =
		        direct ? sh.body + sh.body_len + sizeof action : line;
		struct outbox_keys k;
		long n = src_line(&p, dst, sizeof line, &k);
		size_t al;

		if (n == 0)
			break;
		if (n < 0) { /* longer than a line can be: cannot happen */
			take(p);
			sh.lost++;
			continue;
		}
		al = action_for(dst, &k, action, sizeof action);
		if (!al) {
			take(p);
			sh.lost++;
			lure_log("SHIP skip=unparsable_line");
			continue;
		}
		if (sh.body_len + al + (size_t)n > sh.body_cap)
			break;
		if (sh.nitems == 0)
			sh.opened_at = lure_now();
		sh.items[sh.nitems].off = (uint32_t)sh.body_len;
		memmove(sh.body + sh.body_len + al, dst, (size_t)n);
		memcpy(sh.body + sh.body_len, action, al);
		sh.items[sh.nitems].line_off = (uint32_t)(sh.body_len + al);
		sh.items[sh.nitems].len = (uint32_t)(al + (size_t)n);
		sh.body_len += al + (size_t)n;
		sh.nitems++;
		take(p);
		sh.end_pos = p;
	}
}

/* Drop resolved items from the body, keeping order. */
static void
compact(const uint8_t *done)
{
	size_t w = 0, o = 0;

	for (size_t i = 0; i < sh.nitems; i++) {
		struct item it = sh.items[i];
		if (done[i])
			continue;
		memmove(sh.body + o, sh.body + it.off, it.len);
		sh.items[w].off = (uint32_t)o;
		sh.items[w].line_off = (uint32_t)(o + it.line_off - it.off);
		sh.items[w].len = it.len;
		o += it.len;
		w++;
	}
	sh.nitems = w;
	sh.body_len = o;
}

/* --- connection --------------------------------------------------------- */

static void
disconnect(void)
{
	if (sh.t)
		tls_free(sh.t);
	sh.t = NULL;
	if (sh.fd >= 0)
		close(sh.fd);
	sh.fd = -1;
	sh.reused = 0;
	sh.eof = 0;
	resolve_cancel();
}

static void
backoff(void)
{
	int64_t d = BACKOFF_BASE_MS;
	uint32_t r;

	disconnect();
	for (unsigned i = 0; i < sh.attempt && d < sh.c->retry_max_ms; i++)
		d *= 2;
	if (d > sh.c->retry_max_ms)
		d = sh.c->retry_max_ms;
	lure_random(&r, sizeof r);
	d = d / 2 + (int64_t)(r % (uint32_t)(d / 2 + 1)); /* jitter */
	sh.attempt++;
	sh.st = S_BACKOFF;
	sh.deadline = lure_now() + d;
}

/* The server's own address is never logged. 127.0.0.1 and ::1 are the
 * exception: excluding them would hide every local client of a sensor that
 * ships to a node (or tunnel) on the same host. */
static void
exclude_server(const struct sockaddr_storage *ss)
{
	static const uint8_t lo4[4] = {127, 0, 0, 1};
	static const uint8_t lo6[16] = {
	        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct cidr c = {0, 0, {0}};

	if (config.nexclude >= CONFIG_MAX_EXCLUDE)
		return;
	if (ss->ss_family == AF_INET) {
		c.family = 4, c.bits = 32;
		memcpy(c.addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else {
		c.family = 6, c.bits = 128;
		memcpy(c.addr, &((const struct sockaddr_in6 *)ss)->sin6_addr,
		        16);
	}
	if (memcmp(c.addr, c.family == 4 ? lo4 : lo6, c.family == 4 ? 4 : 16) ==
	        0)
		return;
	for (int i = 0; i < config.nexclude; i++)
		if (memcmp(&config.exclude[i], &c, sizeof c) == 0)
			return;
	config.exclude[config.nexclude++] = c;
}

static void
start_connect(void)
{
	socklen_t sl;
	const struct sockaddr_storage *ss = resolve_result(&sl);
	int one = 1;

	exclude_server(ss);
	sh.fd = socket(
	        ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sh.fd < 0) {
		set_error("socket: %s", fmt_strerror(errno));
		backoff();
		return;
	}
	setsockopt(sh.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(sh.fd, (const struct sockaddr *)ss, sl) < 0 &&
	        errno != EINPROGRESS) {
		set_error("connect: %s", fmt_strerror(errno));
		backoff();
		return;
	}
	sh.st = S_CONNECT;
	sh.deadline = lure_now() + sh.c->timeout_ms;
}

static void
begin_request(void);

static void
connected(void)
{
	if (sh.tls) {
		if (!(sh.t = tls_client_new(sh.host))) {
			set_error("TLS: %s", tls_error(NULL));
			backoff();
			return;
		}
		sh.st = S_TLS;
		return;
	}
	begin_request();
}

/* --- requests ----------------------------------------------------------- */

static void
begin_request(void)
{
	size_t len = 0;
	int n;

	if (!sh.template_done || !sh.pipeline_done) {
		int tp = !sh.template_done; /* the template first */
		sh.kind = tp ? REQ_TEMPLATE : REQ_PIPELINE;
		len = tp ? sh.tmpl_len : sh.pipe_len;
		n = fmt_snprintf(sh.head, sizeof sh.head,
		        "PUT %s/%s%s HTTP/1.1\r\nHost: %s\r\n"
		        "User-Agent: lure/%s\r\nContent-Type: "
		        "application/json\r\n"
		        "Content-Length: %zu\r\n%s\r\n",
		        sh.prefix,
		        tp ? "_index_template/lure" : "_ingest/pipeline/",
		        tp ? "" : sh.pipeline, sh.hostport, LURE_VERSION, len,
		        sh.auth);
	} else {
		sh.kind = REQ_BULK;
		sh.sent_items =
		        LURE_MIN(sh.limit ? sh.limit : sh.nitems, sh.nitems);
		len = sh.items[sh.sent_items - 1].off +
		      sh.items[sh.sent_items - 1].len;
		n = fmt_snprintf(sh.head, sizeof sh.head,
		        "POST %s/_bulk?%s%s%s" FILTER
		        " HTTP/1.1\r\nHost: %s\r\n"
		        "User-Agent: lure/%s\r\n"
		        "Content-Type: application/x-ndjson\r\n"
		        "Content-Length: %zu\r\n%s\r\n",
		        sh.prefix, sh.pipeline[0] ? "pipeline=" : "",
		        sh.pipeline, sh.pipeline[0] ? "&" : "", sh.hostport,
		        LURE_VERSION, len, sh.auth);
	}
	sh.head_len = (size_t)n;
	sh.out_off = 0;
	sh.out_len = sh.head_len + len;
	sh.resp_len = 0;
	sh.closed = 1;
	sh.requests++;
	sh.st = S_SEND;
	sh.deadline = lure_now() + sh.c->timeout_ms;
}

/* The bytes of the request at offset off (head, then body). */
static size_t
request_at(size_t off, const char **p)
{
	if (off < sh.head_len) {
		*p = sh.head + off;
		return sh.head_len - off;
	}
	off -= sh.head_len;
	*p = (sh.kind == REQ_TEMPLATE          ? sh.tmpl
	             : sh.kind == REQ_PIPELINE ? sh.pipe
	                                       : sh.body) +
	     off;
	return sh.out_len - sh.head_len - off;
}

/* Plain or TLS transport: >0 bytes, 0 would block, -1 error (the reason in
 * sh.io_err), -2 the peer closed. */
static ssize_t
net_send(const char *p, size_t n)
{
	ssize_t w;

	if (sh.t) {
		w = tls_write(sh.t, p, n);
		if (w == TLS_WANT_IO)
			return 0;
		if (w < 0)
			fmt_snprintf(sh.io_err, sizeof sh.io_err, "TLS: %s",
			        tls_error(sh.t));
		return w < 0 ? -1 : w;
	}
	w = send(sh.fd, p, n, MSG_NOSIGNAL);
	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (w < 0)
		fmt_snprintf(sh.io_err, sizeof sh.io_err, "send: %s",
		        fmt_strerror(errno));
	return w < 0 ? -1 : w;
}

static ssize_t
net_recv(char *p, size_t n)
{
	ssize_t r;

	if (sh.t) {
		r = tls_read(sh.t, p, n);
		if (r == TLS_WANT_IO)
			return 0;
		if (r < 0) {
			fmt_snprintf(sh.io_err, sizeof sh.io_err, "TLS: %s",
			        tls_error(sh.t));
			return -1;
		}
		return r == 0 ? -2 : r;
	}
	r = recv(sh.fd, p, n, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r < 0)
		fmt_snprintf(sh.io_err, sizeof sh.io_err, "recv: %s",
		        fmt_strerror(errno));
	return r < 0 ? -1 : r == 0 ? -2 : r;
}

/* Move TLS records between the engine and the socket: returns the bytes
 * moved (an end of stream counts as progress once), or -1. */
static long
tls_pump(void)
{
	const uint8_t *op;
	uint8_t *ip;
	size_t n;
	ssize_t r;
	long moved = 0;

	while ((n = tls_net_out_pending(sh.t, &op)) > 0) {
		r = send(sh.fd, op, n, MSG_NOSIGNAL);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (r <= 0) {
			fmt_snprintf(sh.io_err, sizeof sh.io_err, "send: %s",
			        r < 0 ? fmt_strerror(errno) : "nothing sent");
			return -1;
		}
		tls_net_out_done(sh.t, (size_t)r);
		moved += r;
	}
	while (!sh.eof && (n = tls_net_in_space(sh.t, &ip)) > 0) {
		r = recv(sh.fd, ip, n, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (r < 0) {
			fmt_snprintf(sh.io_err, sizeof sh.io_err, "recv: %s",
			        fmt_strerror(errno));
			return -1;
		}
		tls_net_in_done(sh.t, (size_t)r);
		if (r == 0) {
			sh.eof = 1; /* the engine reports it from tls_read() */
			return moved + 1;
		}
		moved += r;
	}
	return moved;
}

int
ship_parse_http(char *h, size_t len, size_t cap, int *code, const char **body,
        size_t *blen, int *close_after)
{
	char *end, *lim = h + len;
	size_t hl;
	long clen = -1;
	int chunked = 0;

	h[len] = 0; /* the buffer has one byte more than cap */
	if (!(end = fmt_strstr(h, "\r\n\r\n")))
		return len >= cap ? -1 : 0;
	hl = (size_t)(end - h) + 4;
	if (strncmp(h, "HTTP/1.", 7) != 0 || h[7] < '0' || h[7] > '9' ||
	        h[8] != ' ' || (*code = (int)lure_digits(h + 9, 3)) < 0)
		return -1;
	*close_after = strncmp(h, "HTTP/1.0", 8) == 0;
	for (char *l = fmt_strstr(h, "\r\n") + 2; l < end;
	        l = fmt_strstr(l, "\r\n") + 2) {
		char *eol = fmt_strstr(l, "\r\n");
		if (fmt_caseeq(l, "content-length:", 15)) {
			char *e;
			clen = fmt_strtol(l + 15, &e, 10);
			if (clen < 0 || e == l + 15)
				return -1;
		} else if (fmt_caseeq(l, "transfer-encoding:", 18)) {
			char *c = fmt_strstr(l, "chunked");
			chunked = c && c < eol;
		} else if (fmt_caseeq(l, "connection:", 11) &&
		           fmt_caseeq(
		                   l + 11 + strspn(l + 11, " "), "close", 5)) {
			*close_after = 1;
		}
	}
	if (chunked) {
		/* decode in place once the terminating chunk is here */
		char *r = h + hl, *w = h + hl;
		for (;;) {
			char *e, *nl = fmt_strstr(r, "\r\n");
			long sz = fmt_strtol(r, &e, 16);
			if (!nl || e == r || sz < 0 || sz > (long)cap)
				return len >= cap ? -1 : 0;
			r = nl + 2;
			if (sz == 0) {
				/* the blank line after optional trailers */
				if (strncmp(r, "\r\n", 2) != 0 &&
				        !fmt_strstr(r, "\r\n\r\n"))
					return len >= cap ? -1 : 0;
				break;
			}
			if (sz + 2 > lim - r)
				return len >= cap ? -1 : 0;
			memmove(w, r, (size_t)sz);
			w += sz;
			r += sz + 2;
		}
		*body = h + hl;
		*blen = (size_t)(w - (h + hl));
		return 1;
	}
	if (clen < 0)
		clen = 0; /* no body */
	if ((size_t)clen > cap - hl)
		return -1;
	if (len < hl + (size_t)clen)
		return 0;
	*body = h + hl;
	*blen = (size_t)clen;
	return 1;
}

long
ship_parse_bulk(const char *body, size_t len, int *status, const char **reason,
        size_t *reason_len, size_t n)
{
	jsmn_parser p;
	int nt, i, end;
	size_t k = 0;
	jsmntok_t *t = sh.tok;
	static jsmntok_t own[4096];

	if (!t || sh.ntok < 4096)
		t = own;
	jsmn_init(&p);
	nt = jsmn_parse(&p, body, len, t, t == own ? 4096 : (unsigned)sh.ntok);
	if (nt < 1 || t[0].type != JSMN_OBJECT)
		return -1;
	for (size_t q = 0; q < n; q++)
		status[q] = 0, reason[q] = NULL, reason_len[q] = 0;
	/* find "items" at the top level */
	for (i = 1; i < nt; i++) {
		if (t[i].type == JSMN_STRING && t[i].end - t[i].start == 5 &&
		        memcmp(body + t[i].start, "items", 5) == 0 &&
		        i + 1 < nt && t[i + 1].type == JSMN_ARRAY)
			break;
	}
	if (i >= nt)
		return -1;
	end = t[i + 1].end;
	for (i += 2; i < nt && t[i].start < end; i++) {
		/* an item: {"create": {"status": N, "error": {...}}} */
		int item_end;
		if (t[i].type != JSMN_OBJECT || i + 2 >= nt ||
		        t[i + 2].type != JSMN_OBJECT)
			return -1;
		item_end = t[i].end;
		for (i += 3; i < nt && t[i].start < item_end; i++) {
			if (t[i].type != JSMN_STRING || i + 1 >= nt)
				continue;
			if (t[i].end - t[i].start == 6 && k < n &&
			        memcmp(body + t[i].start, "status", 6) == 0)
				status[k] = (int)fmt_strtol(
				        body + t[i + 1].start, NULL, 10);
			if (t[i].end - t[i].start == 6 && k < n &&
			        memcmp(body + t[i].start, "reason", 6) == 0 &&
			        t[i + 1].type == JSMN_STRING && !reason[k]) {
				reason[k] = body + t[i + 1].start;
				reason_len[k] =
				        (size_t)(t[i + 1].end - t[i + 1].start);
			}
		}
		i--; /* the for loop steps onto the next item */
		k++;
	}
	return (long)k;
}

static void
batch_done(void)
{
	spool_ack_to(sh.end_pos);
	sh.nitems = sh.body_len = 0;
	sh.closed = 0;
	sh.limit = 0;
	sh.attempt = 0;
}

/* Resolve the items of a bulk answer; returns 1 if a retry is due. */
static int
handle_bulk(int code, const char *body, size_t blen)
{
	uint8_t done[10000];
	long found;
	int retry = 0;

	memset(done, 0, sh.nitems);
	if (code == 413) {
		if (sh.sent_items == 1) {
			dead_letter(0, 413, "request entity too large", 24);
			done[0] = 1;
		} else {
			sh.limit = LURE_MAX(1, sh.sent_items / 2);
			return 0; /* send the first half now */
		}
	} else if (code == 429 || code >= 500 || code == 401 || code == 403) {
		/* overload, outage or credentials: keep the events, try later */
		char m[64];
		fmt_snprintf(m, sizeof m, "bulk request answered %d", code);
		set_error("%s", m);
		return 1;
	} else if (code >= 400 || code < 200) {
		/* the whole request refused: every item is dead-lettered */
		for (size_t i = 0; i < sh.sent_items; i++) {
			dead_letter(i, code, body, LURE_MIN(blen, 512));
			done[i] = 1;
		}
	} else {
		found = ship_parse_bulk(body, blen, sh.status, sh.reason,
		        sh.reason_len, sh.sent_items);
		if (found != (long)sh.sent_items) {
			set_error("%s",
			        "bulk response does not match the request");
			return 1;
		}
		for (size_t i = 0; i < sh.sent_items; i++) {
			int s = sh.status[i];
			if ((s >= 200 && s < 300) || s == 409) {
				done[i] = 1;
				sh.shipped++;
			} else if (s == 429 || s >= 500 || s == 0) {
				retry = 1;
				sh.retried++;
			} else {
				dead_letter(i, s,
				        sh.reason[i] ? sh.reason[i] : "",
				        sh.reason_len[i]);
				done[i] = 1;
			}
		}
	}
	compact(done);
	if (sh.nitems == 0) {
		batch_done();
		return 0;
	}
	/* a split batch keeps the size that fitted for the rest of it */
	return retry;
}

static void
finish_response(void)
{
	const char *body = NULL;
	size_t blen = 0;
	int code = 0, close_after = 0, r;

	r = ship_parse_http(sh.resp, sh.resp_len, sh.resp_cap, &code, &body,
	        &blen, &close_after);
	if (r == 0)
		return;
	if (r < 0) {
		if (sh.kind == REQ_BULK && sh.sent_items > 1) {
			/* an answer too big to read: smaller requests */
			sh.limit = LURE_MAX(1, sh.sent_items / 2);
			disconnect();
			sh.st = S_IDLE;
			return;
		}
		set_error("%s", "malformed HTTP response");
		backoff();
		return;
	}
	sh.reused = 1;
	if (close_after)
		disconnect();
	if (sh.kind != REQ_BULK) {
		int tp = sh.kind == REQ_TEMPLATE;
		if (code >= 200 && code < 300) {
			*(tp ? &sh.template_done : &sh.pipeline_done) = 1;
			lure_log(tp ? "SHIP template=installed"
			            : "SHIP pipeline=installed");
		} else {
			/* 4xx will not change (rights, size limit): ship
			 * without it; overload or outage: try again later */
			char m[96];
			int give_up = code >= 400 && code < 500 && code != 429;
			fmt_snprintf(m, sizeof m, "%s refused: HTTP %d%s",
			        tp ? "index template" : "ingest pipeline", code,
			        give_up ? "; shipping without it" : "");
			set_error("%s", m);
			if (!give_up) {
				backoff();
				return;
			}
			*(tp ? &sh.template_done : &sh.pipeline_done) = 1;
			if (!tp) /* a missing pipeline would fail every item */
				sh.pipeline = "";
		}
	} else if (handle_bulk(code, body, blen)) {
		backoff();
		return;
	}
	sh.last_error[0] = 0;
	sh.attempt = 0;
	sh.st = S_IDLE;
}

/* --- the state machine ----------------------------------------------------- */

static void
ship_io(void);

static void
start_send(void)
{
	if (sh.fd >= 0) { /* kept alive: write the request at once */
		begin_request();
		ship_io();
		return;
	}
	switch (resolve_start(
	        sh.host, sh.port, sh.c->resolver[0] ? sh.c->resolver : NULL)) {
	case RESOLVE_DONE: start_connect(); break;
	case RESOLVE_PENDING:
		sh.st = S_RESOLVE;
		sh.deadline = resolve_deadline();
		break;
	default: set_error("resolve: %s", resolve_error()); backoff();
	}
}

static int
batch_due(void)
{
	if (!sh.template_done || !sh.pipeline_done)
		return 1;
	if (!sh.nitems)
		return 0;
	return sh.closed || sh.nitems >= sh.cap_items ||
	       sh.body_len * 10 >= sh.c->batch_bytes * 9 ||
	       lure_now() - sh.opened_at >= sh.c->flush_ms;
}

/* Routers boot in 1970: date-named indices wait for a real clock. */
static int
clock_set(void)
{
	return sh.c->data_stream || !strchr(sh.c->index, '%') ||
	       lure_wall() >= 1577836800000LL;
}

static int
clock_ok(void)
{
	if (clock_set())
		return 1;
	if (!sh.clock_warned) {
		sh.clock_warned = 1;
		set_error("%s", "clock before 2020: holding events until it is "
		                "set (date-named index)");
	}
	return 0;
}

void
ship_feed(void)
{
	if (sh.st != S_OFF && spool_enabled())
		feed_spool();
}

void
ship_tick(void)
{
	int64_t now = lure_now();

	if (sh.st == S_OFF)
		return;
	if (spool_enabled())
		feed_spool();
	if (sh.st == S_BACKOFF && now >= sh.deadline)
		sh.st = S_IDLE;
	if (sh.st == S_IDLE) {
		fill_batch();
		if (batch_due() && clock_ok())
			start_send();
	}
	if (sh.st == S_RESOLVE && now >= sh.deadline) {
		int r = resolve_step();
		if (r == RESOLVE_DONE)
			start_connect();
		else if (r == RESOLVE_FAIL) {
			set_error("resolve: %s", resolve_error());
			backoff();
		} else
			sh.deadline = resolve_deadline();
	} else if (sh.st >= S_CONNECT && now >= sh.deadline) {
		static const char *const what[S__MAX] = {
		        [S_CONNECT] = "timed out connecting",
		        [S_TLS] = "timed out in the TLS handshake",
		        [S_SEND] = "timed out sending the request",
		        [S_RECV] = "timed out waiting for the response"};
		set_error("%s", what[sh.st] ? what[sh.st] : "timed out");
		backoff();
	}
}

int64_t
ship_deadline(void)
{
	int64_t now = lure_now();

	if (sh.st == S_OFF)
		return 0;
	if (sh.st == S_IDLE) {
		/* start_send() may have come back here at once (a 413 answered
		 * on a kept-alive connection): the next request is due now */
		if (sh.nitems && !clock_set())
			return now + 10000;
		if (batch_due())
			return now;
		if (sh.nitems && !sh.closed)
			return sh.opened_at + sh.c->flush_ms;
		return 0;
	}
	return sh.deadline;
}

void
ship_pollfd(struct pollfd *pfd)
{
	pfd->fd = -1;
	pfd->events = 0;
	pfd->revents = 0;
	switch (sh.st) {
	case S_RESOLVE:
		pfd->fd = resolve_fd();
		pfd->events = POLLIN;
		break;
	case S_CONNECT:
		pfd->fd = sh.fd;
		pfd->events = POLLOUT;
		break;
	case S_TLS:
	case S_SEND:
	case S_RECV:
		pfd->fd = sh.fd;
		if (sh.t) {
			const uint8_t *p;
			pfd->events = POLLIN;
			if (tls_net_out_pending(sh.t, &p) || sh.st == S_SEND)
				pfd->events |= POLLOUT;
		} else {
			pfd->events = sh.st == S_SEND ? POLLOUT : POLLIN;
		}
		break;
	default: break;
	}
}

static void
io_failed(const char *what)
{
	/* a kept-alive connection the server closed: reconnect at once */
	if (sh.reused && sh.resp_len == 0) {
		disconnect();
		sh.st = S_IDLE;
		return;
	}
	set_error("%s", what);
	backoff();
}

/* Handshake, send, receive until nothing moves: each TLS operation is
 * called again after bytes were moved for it (see tls.h). */
static void
ship_io(void)
{
	for (int guard = 0; guard < 256; guard++) {
		long progress = 0;

		if (sh.st != S_TLS && sh.st != S_SEND && sh.st != S_RECV)
			return;
		if (sh.t) {
			long m = tls_pump();
			if (m < 0) {
				io_failed(sh.io_err);
				return;
			}
			progress += m;
		}
		if (sh.st == S_TLS) {
			int r = tls_handshake(sh.t);
			if (r == TLS_ERR) {
				set_error("TLS: %s", tls_error(sh.t));
				backoff();
				return;
			}
			if (r == TLS_OK) {
				begin_request();
				progress++;
			} else if (sh.eof) {
				io_failed("TLS: connection closed during the "
				          "handshake");
				return;
			}
		}
		while (sh.st == S_SEND) {
			const char *p;
			size_t n = request_at(sh.out_off, &p);
			ssize_t w = net_send(p, n);
			if (w < 0) {
				io_failed(sh.io_err);
				return;
			}
			if (w == 0)
				break;
			progress += w;
			sh.out_off += (size_t)w;
			if (sh.out_off == sh.out_len) {
				sh.st = S_RECV;
				sh.deadline = lure_now() + sh.c->timeout_ms;
			}
		}
		while (sh.st == S_RECV) {
			ssize_t r = net_recv(sh.resp + sh.resp_len,
			        sh.resp_cap - sh.resp_len);
			if (r == -2 && sh.resp_len) {
				/* a close ends a response without a length */
				finish_response();
				if (sh.st == S_RECV)
					io_failed("connection closed "
					          "mid-response");
				return;
			}
			if (r < 0) {
				io_failed(r == -2 ? "connection closed"
				                  : sh.io_err);
				return;
			}
			if (r == 0)
				break;
			progress += r;
			sh.resp_len += (size_t)r;
			finish_response();
			if (sh.st == S_RECV && sh.resp_len >= sh.resp_cap)
				break;
		}
		if (sh.t && (sh.st == S_TLS || sh.st == S_SEND ||
		                    sh.st == S_RECV)) {
			/* records the operations just made: out they go */
			const uint8_t *o;
			if (tls_net_out_pending(sh.t, &o)) {
				long m = tls_pump();
				if (m < 0) {
					io_failed(sh.io_err);
					return;
				}
				progress += m;
			}
		}
		if (!progress)
			return;
	}
}

void
ship_handle(short revents)
{
	if (sh.st == S_RESOLVE) {
		int r = resolve_step();
		if (r == RESOLVE_DONE)
			start_connect();
		else if (r == RESOLVE_FAIL) {
			set_error("resolve: %s", resolve_error());
			backoff();
		}
		return;
	}
	if (sh.st == S_CONNECT) {
		int err = 0;
		socklen_t el = sizeof err;
		getsockopt(sh.fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			set_error("connect: %s", fmt_strerror(err));
			backoff();
			return;
		}
		connected();
	}
	ship_io();
	(void)revents;
}

void
ship_drain(int64_t ms)
{
	int64_t until = lure_now() + ms;

	if (sh.st == S_OFF)
		return;
	while (lure_now() < until) {
		struct pollfd pfd;
		int64_t d, wait;

		ship_tick();
		d = ship_deadline();
		if (sh.st == S_IDLE && !sh.nitems)
			break;
		if (sh.st == S_BACKOFF)
			break; /* the server is away: the spool or file keeps them */
		if (sh.st == S_IDLE && sh.nitems && !sh.closed) {
			sh.closed =
			        1; /* flush now, do not wait for the timer */
			continue;
		}
		ship_pollfd(&pfd);
		wait = d ? d - lure_now() : 100;
		if (wait > until - lure_now())
			wait = until - lure_now();
		if (poll(&pfd, pfd.fd >= 0, (int)LURE_MAX(wait, 0)) > 0)
			ship_handle(pfd.revents);
	}
	disconnect();
}

void
ship_stats(struct ship_stats *st)
{
	struct spool_stats sp;

	memset(st, 0, sizeof *st);
	st->shipped = sh.shipped;
	st->dead_lettered = sh.dead;
	st->retried = sh.retried;
	st->requests = sh.requests;
	st->queued = outbox_lines(sh.cons, &st->dropped) + sh.nitems;
	st->dropped += sh.lost;
	st->in_flight = sh.nitems;
	st->state = state_name[sh.st];
	st->spool = spool_enabled() ? sh.c->spool : "memory";
	st->last_error = sh.last_error;
	if (spool_enabled()) {
		spool_stats(&sp);
		st->queued_bytes = sp.bytes;
		st->queued += sp.unread;
		st->recovered = sp.recovered;
		st->dropped += sp.dropped;
	} else if (sh.cons >= 0) {
		st->queued_bytes = outbox_pending(sh.cons);
	}
}
