/* redis.c: a Redis server as a Debian VPS runs it, with no password: RESP
 * multibulk and inline commands parsed as Redis 7.0's networking.c does
 * (same limits, same protocol errors, then a close), one "command" event
 * per command, answers for what bots type (PING ECHO INFO CONFIG SET GET
 * KEYS DEL FLUSHALL SAVE SLAVEOF MODULE EVAL CLIENT COMMAND SELECT AUTH
 * HELLO QUIT...), "exploit" events for the known attacks.
 *
 * Persona keys. Texts are wire bytes; %s/%c/%d are the argument the
 * daemon prints there (cut at 128 bytes, CR and LF sent as spaces, as
 * addReplyErrorFormat does).
 *   redis.version            HELLO's version
 *   redis.requirepass        a password: commands but AUTH, HELLO and QUIT
 *                            get redis.err_noauth until AUTH gives it
 *   redis.err_unknown        unknown command (the quoted args follow)
 *   redis.err_arity          wrong number of arguments
 *   redis.err_subcommand     unknown subcommand (%s twice: it, the command)
 *   redis.err_noauth redis.err_wrongpass redis.err_nopass  AUTH's
 *   redis.err_syntax redis.err_int redis.err_db  argument errors
 *   redis.err_port           SLAVEOF's port is not one
 *   redis.err_config_set     CONFIG SET of an unknown parameter
 *   redis.err_protected      CONFIG SET dir or dbfilename
 *   redis.err_module         MODULE LOAD, LOADEX and UNLOAD
 *   redis.err_cluster        CLUSTER's subcommands (no cluster)
 *   redis.err_lua_global     EVAL reading a global the sandbox lacks
 *   redis.err_noscript       EVALSHA
 *   redis.err_numkeys redis.err_negkeys  EVAL's numkeys
 *   redis.err_noproto redis.err_hello  HELLO's version: unknown, no number
 *   redis.err_proto          "Protocol error: %s", with one of
 *   redis.err_unbalanced redis.err_inline redis.err_mbulk  the reasons
 *   redis.err_mbulk_big redis.err_bulk redis.err_bulk_big redis.err_dollar
 *   redis.msg_bgsave         BGSAVE's status
 *   redis.command_count      COMMAND COUNT
 *   redis.client_line        CLIENT LIST and CLIENT INFO: %i id, %a peer,
 *                            %l local address, %A age, %n name, %d db, %c
 *                            command, %r protocol, %q the request's
 *                            length (qbuf), %f 20474 less it (qbuf-free)
 *   redis.info               [repeated] one INFO section each, in order:
 *                            %u %D uptime (s, days), %T server_time_usec,
 *                            %L lru_clock, %S start time, %P port, %c
 *                            clients now, %n connections, %m commands,
 *                            %K the keyspace lines, ${identity} values
 *   redis.keyspace           a line of %K: %d db, %n keys
 *   redis.config "name value"  [repeated] CONFIG GET's parameters
 *   redis.cmd "name arity"   [repeated] the daemon's commands and
 *                            subcommands ("config|get -3")
 *   redis.help.<word>        [repeated] the lines of "<word> HELP"
 * identity.redis_run_id, redis_replid, redis_pid: INFO's; redis_uptime: the
 * seconds it had been up when lure started.
 *
 * Events: "command" per command: lure.redis.args (the words, each cut at
 * 1 KiB), process.command_line (them joined by spaces), user.name
 * ("default"), event.outcome (failure: the answer was an error), and
 * lure.indicators.url/ip (and lure.command) found in the words
 * (src/indicators.h). "exploit" just before it, with lure.redis.value
 * (the value, path or script) where there is one: CONFIG SET dir or dbfilename
 * (rule.name redis-config-write; tags redis, config_write and cron or
 * ssh_keys or webshell by the value), SLAVEOF/REPLICAOF to a host
 * (redis-rogue-master; lure.redis.master_host and master_port: the master
 * is recorded, never contacted), MODULE LOAD (redis-module-load, file.path)
 * and EVAL reaching for package, loadlib, os, io (redis-lua-escape;
 * vulnerability.id CVE-2022-0543 for package.loadlib or luaopen_). A
 * protocol error, an over-long line or control bytes in a line not yet
 * ended (a TLS ClientHello: Redis waits for the line's end): one "request"
 * event with lure.payload (the first bytes) and error.message.
 *
 * Compared with Debian 12's redis-server 7.0.15 on 127.0.0.1 (its config
 * as the persona's), byte for byte: test/persona/test_redis.py. Requests
 * are read as networking.c reads them (src/resp.h). Over 64 KiB without a
 * line end: "too big inline request" (or mbulk count
 * string), then a close. A "host:" or "post" command (an HTTP request)
 * closes at once, and answers to commands read with it are not sent.
 *
 * Not modelled: keys are per connection, at most RD_KEYS strings of
 * RD_KLEN bytes, values kept to RD_VLEN bytes (longer ones read back cut);
 * no types but strings, no expiry (TTL -1), no MULTI, no pub/sub, no
 * replication (SLAVEOF answers +OK and the role stays master), no Lua
 * (EVAL answers "return <number>" and "return '<text>'", the sandbox
 * error, else nil); CONFIG SET changes nothing (requirepass neither);
 * COMMAND's own lists (answered with an empty array);
 * a command the daemon has that is not modelled answers nil after its
 * arity check; a multibulk request that outgrows the input buffer
 * (limits.in_buf, at least RD_IN) is read as it comes, its first
 * RESP_BIG_ARGS words kept to RESP_BIG_KEEP bytes (a value SET so is read back
 * cut, STRLEN says its length), an inline line
 * over RESP_LONG_LINE bytes that ends before 64 KiB is read and not answered;
 * INFO's counters but clients, connections and commands are the
 * captured ones; Errorstats stays empty. */
#include <limits.h>
#include <string.h>

#include "emu.h"
#include "event.h"
#include "fmt.h"
#include "hash.h"
#include "identity.h"
#include "indicators.h"
#include "json.h"
#include "lure.h"
#include "persona.h"
#include "resp.h"

#define RD_KEYS 4 /* keys kept per connection */
#define RD_KLEN 24 /* bytes of a key name kept (longer: not stored) */
#define RD_VLEN 80 /* bytes of a value kept */
#define RD_NAME 32 /* CLIENT SETNAME */
#define RD_IN 4096 /* input a connection holds at least */
#define RD_ERRARG 128 /* bytes of an argument printed in an error */
#define RD_OUT 16384 /* the largest answer (CONFIG GET *: 6.7 KB) */
#define RD_PAYLOAD 256 /* bytes of a bad request logged */
#define RD_DRAIN_MS 50 /* quiet input after a protocol error, then close */

struct rd_key {
	uint8_t used, db, klen, vlen;
	uint32_t vfull; /* the value's whole length */
	char k[RD_KLEN];
	char v[RD_VLEN];
};

struct redis_state {
	struct rd_key keys[RD_KEYS];
	struct resp_big big;
	char name[RD_NAME];
	uint8_t name_len, db, resp, authed;
	uint8_t skip_nul; /* the over-long line holds a NUL: no end */
	uint8_t skip_mbulk; /* it is a multibulk count ('*'): ends at '\r' */
	uint8_t busy; /* an answer is being queued in parts */
	uint8_t held; /* the garbage held (no line end yet) was logged */
	uint8_t draining; /* after a protocol error: read, drop, then close */
	uint32_t skip; /* bytes of an over-long inline line read */
	uint32_t sent; /* bytes of the answer in parts queued */
	uint32_t id; /* CLIENT ID */
	int64_t open_ms; /* wall ms: CLIENT LIST's age */
	int64_t at_ms; /* when the answer (maybe in parts) was made */
	uint32_t snap_clients, snap_conns, snap_cmds; /* INFO's, then */
};

/* the goal for a connection's emulator state */
_Static_assert(sizeof(struct redis_state) <= 1024, "redis_state over 1 KiB");

/* The answer being made: rd_out, shared (one request at a time). */
static char rd_out[RD_OUT];
static size_t rd_len;
static uint64_t rd_conns, rd_cmds; /* INFO's counters since start */
static unsigned rd_clients;
static uint32_t rd_next_id;
static int64_t rd_t0; /* wall ms of the first connection (start) */

/* --- the answer ---------------------------------------------------------- */

static void
rd_put(const void *p, size_t n)
{
	if (n > RD_OUT - rd_len)
		n = RD_OUT - rd_len;
	memcpy(rd_out + rd_len, p, n);
	rd_len += n;
}

static void
rd_puts(const char *s)
{
	rd_put(s, strlen(s));
}

static void
rd_putn(char type, int64_t v)
{
	char b[32];
	int n = fmt_snprintf(b, sizeof b, "%c%lld\r\n", type, (long long)v);
	rd_put(b, (size_t)n);
}

static void
rd_bulk(const void *p, size_t n)
{
	rd_putn('$', (int64_t)n);
	rd_put(p, n);
	rd_put("\r\n", 2);
}

static void
rd_bulks(const char *s)
{
	rd_bulk(s, strlen(s));
}

static void
rd_null(const struct redis_state *st)
{
	rd_puts(st->resp == 3 ? "_\r\n" : "$-1\r\n");
}

/* A persona text as it is. */
static void
rd_key(const char *key)
{
	size_t n;
	const char *v = persona_get(key, &n);
	if (v)
		rd_put(v, n);
}

/* An argument as an error prints it: %.128s, CR and LF as spaces (a NUL
 * ends it, as the C string it is there). */
static size_t
rd_errarg(const struct resp_arg *a, char *out)
{
	size_t n = 0;
	while (n < a->n && n < RD_ERRARG && a->p[n]) {
		out[n] = (a->p[n] == '\r' || a->p[n] == '\n') ? ' '
		                                              : (char)a->p[n];
		n++;
	}
	return n;
}

/* A persona template: %x is vals[x] (lens[x] bytes), %% a '%'; other
 * letters stay as they are. */
struct rd_vars {
	const char *v[128];
	size_t n[128];
};

static void
rd_tmpl(const char *t, size_t tn, const struct rd_vars *vars)
{
	for (size_t i = 0; i < tn; i++) {
		unsigned char c = (unsigned char)t[i + 1];
		if (t[i] != '%' || i + 1 >= tn) {
			rd_put(t + i, 1);
		} else if (c == '%') {
			rd_put("%", 1);
			i++;
		} else if (c < 128 && vars->v[c]) {
			rd_put(vars->v[c], vars->n[c]);
			i++;
		} else {
			rd_put(t + i, 1);
		}
	}
}

static void
rd_var(struct rd_vars *vars, char c, const char *s, size_t n)
{
	vars->v[(unsigned char)c] = s;
	vars->n[(unsigned char)c] = n;
}

/* An error text with its %s (and %c, %d) from arguments. */
static void
rd_err(const char *key, const struct resp_arg *a, const struct resp_arg *b)
{
	char s1[RD_ERRARG], s2[RD_ERRARG];
	size_t n, n1 = a ? rd_errarg(a, s1) : 0, n2 = b ? rd_errarg(b, s2) : 0;
	const char *t = persona_get(key, &n);
	size_t k = 0;

	if (!t)
		return;
	/* %s the first time, then the second argument */
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '%' && i + 1 < n && t[i + 1] == 's') {
			if (k++ == 0)
				rd_put(s1, n1);
			else
				rd_put(s2, n2);
			i++;
		} else {
			rd_put(t + i, 1);
		}
	}
}

/* --- parsing -------------------------------------------------------------- */

/* --- helpers ------------------------------------------------------------- */

static int
rd_eq(const struct resp_arg *a, const char *s)
{
	size_t n = strlen(s);
	return a->n == n && fmt_caseeq((const char *)a->p, s, n);
}

/* The daemon's arity of "name" or "cmd|sub" (persona redis.cmd), 0 when
 * it has no such command. */
static int
rd_arity(const char *name, size_t nn)
{
	size_t i = 0;
	const struct persona_kv *kv;

	while ((kv = persona_next("redis.cmd", &i))) {
		if (kv->len > nn && kv->val[nn] == ' ' &&
		        fmt_caseeq(kv->val, name, nn)) {
			char *end;
			long v = fmt_strtol(kv->val + nn + 1, &end, 10);
			return (int)v;
		}
	}
	return 0;
}

static int
rd_arity_ok(int arity, size_t argc)
{
	return arity > 0 ? argc == (size_t)arity : argc >= (size_t)-arity;
}

static struct rd_key *
rd_find(struct redis_state *st, const struct resp_arg *k)
{
	for (size_t i = 0; i < RD_KEYS; i++) {
		struct rd_key *e = &st->keys[i];
		if (e->used && e->db == st->db && e->klen == k->n &&
		        !memcmp(e->k, k->p, k->n))
			return e;
	}
	return NULL;
}

static unsigned
rd_dbsize(const struct redis_state *st, unsigned db)
{
	unsigned n = 0;
	for (size_t i = 0; i < RD_KEYS; i++)
		n += st->keys[i].used && st->keys[i].db == db;
	return n;
}

static int64_t
rd_uptime_ms(int64_t wall)
{
	const char *u = identity_get("redis_uptime");
	int64_t base = u ? (int64_t)fmt_strtoll(u, NULL, 10) : 0;
	return base * 1000 + (wall - rd_t0);
}

/* --- commands ------------------------------------------------------------ */

struct rd_run {
	struct emu_ctx *ctx;
	struct redis_state *st;
	const struct resp_req *r;
	const struct resp_arg *a;
	int replay; /* the answer is made again: no side effects */
	int close; /* close once it is sent */
	size_t reqlen; /* the request's bytes (CLIENT LIST's qbuf) */
};

/* The name of a subcommand, "config|get" (lower case), in out. */
static size_t
rd_subname(const struct resp_arg *c, const struct resp_arg *s, char *out,
        size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n && n + 2 < cap; i++)
		out[n++] = (char)resp_lower(c->p[i]);
	out[n++] = '|';
	for (size_t i = 0; i < s->n && n + 1 < cap; i++)
		out[n++] = (char)resp_lower(s->p[i]);
	out[n] = 0;
	return n;
}

static void
rd_info_section(const struct rd_run *x, const char *t, size_t n)
{
	static struct rd_vars vars;
	static char up[24], days[24], usec[24], lru[24], start[24], port[8],
	        cl[12], conns[24], cmds[24];
	static char ks[16 * 64];
	size_t ksn = 0, kn;
	int64_t wall = x->st->at_ms, upms = rd_uptime_ms(wall);
	const char *kt = persona_get("redis.keyspace", &kn);

	rd_var(&vars, 'u', up,
	        (size_t)fmt_snprintf(
	                up, sizeof up, "%lld", (long long)(upms / 1000)));
	rd_var(&vars, 'D', days,
	        (size_t)fmt_snprintf(days, sizeof days, "%lld",
	                (long long)(upms / 86400000)));
	rd_var(&vars, 'T', usec,
	        (size_t)fmt_snprintf(
	                usec, sizeof usec, "%lld", (long long)wall * 1000));
	rd_var(&vars, 'L', lru,
	        (size_t)fmt_snprintf(lru, sizeof lru, "%lld",
	                (long long)(wall / 1000) & 0xffffff));
	rd_var(&vars, 'S', start,
	        (size_t)fmt_snprintf(start, sizeof start, "%lld",
	                (long long)(rd_t0 / 1000)));
	rd_var(&vars, 'P', port,
	        (size_t)fmt_snprintf(
	                port, sizeof port, "%u", (unsigned)emu_port(x->ctx)));
	rd_var(&vars, 'c', cl,
	        (size_t)fmt_snprintf(cl, sizeof cl, "%u", x->st->snap_clients));
	rd_var(&vars, 'n', conns,
	        (size_t)fmt_snprintf(conns, sizeof conns, "%llu",
	                (unsigned long long)x->st->snap_conns));
	rd_var(&vars, 'm', cmds,
	        (size_t)fmt_snprintf(cmds, sizeof cmds, "%llu",
	                (unsigned long long)x->st->snap_cmds));
	for (unsigned db = 0; kt && db < 16; db++) {
		unsigned k = rd_dbsize(x->st, db);
		char d[8], c[8];
		struct rd_vars kv;
		size_t save = rd_len;
		if (!k)
			continue;
		memset(&kv, 0, sizeof kv);
		rd_var(&kv, 'd', d,
		        (size_t)fmt_snprintf(d, sizeof d, "%u", db));
		rd_var(&kv, 'n', c, (size_t)fmt_snprintf(c, sizeof c, "%u", k));
		rd_tmpl(kt, kn, &kv); /* into rd_out, moved to ks */
		if (ksn + rd_len - save <= sizeof ks) {
			memcpy(ks + ksn, rd_out + save, rd_len - save);
			ksn += rd_len - save;
		}
		rd_len = save;
	}
	rd_var(&vars, 'K', ks, ksn);
	{
		/* ${identity} first, into a scratch */
		static char ex[4096];
		size_t en = identity_expand(t, n, ex, sizeof ex);
		rd_tmpl(ex, LURE_MIN(en, sizeof ex - 1), &vars);
	}
}

/* The section's name: "# Server\r\n" -> "server". */
static int
rd_info_wants(const struct resp_req *r, const char *t, size_t n, int dflt)
{
	size_t b = 2, e = 2;
	if (n < 2 || t[0] != '#')
		return 0;
	while (e < n && t[e] != '\r')
		e++;
	if (r->kept < 2)
		return dflt;
	for (size_t i = 1; i < r->kept; i++) {
		const struct resp_arg *a = &r->a[i];
		if (rd_eq(a, "all") || rd_eq(a, "default") ||
		        rd_eq(a, "everything"))
			return 1;
		if (a->n == e - b &&
		        fmt_caseeq((const char *)a->p, t + b, e - b))
			return 1;
	}
	return 0;
}

static void
rd_info(struct rd_run *x)
{
	static char body[RD_OUT];
	size_t i = 0, save = rd_len, bn, sections = 0;
	const struct persona_kv *kv;

	while ((kv = persona_next("redis.info", &i))) {
		if (!rd_info_wants(x->r, kv->val, kv->len, 1))
			continue;
		if (sections++)
			rd_put("\r\n", 2);
		rd_info_section(x, kv->val, kv->len);
	}
	bn = rd_len - save;
	memcpy(body, rd_out + save, bn);
	rd_len = save;
	rd_bulk(body, bn);
}

static void
rd_config_get(struct rd_run *x)
{
	static char body[RD_OUT];
	size_t save = rd_len, pairs = 0, bn;

	for (size_t k = 2; k < x->r->kept; k++) {
		size_t i = 0;
		const struct persona_kv *kv;
		const struct resp_arg *pat = &x->a[k];
		while ((kv = persona_next("redis.config", &i))) {
			const char *sp = memchr(kv->val, ' ', kv->len);
			size_t nn = sp ? (size_t)(sp - kv->val) : kv->len;
			if (!resp_match(pat->p, pat->n,
			            (const uint8_t *)kv->val, nn, 1))
				continue;
			/* a name without a glob character comes back as typed */
			if (resp_glob(pat))
				rd_bulk(kv->val, nn);
			else
				rd_bulk(pat->p, pat->n);
			rd_bulk(sp ? sp + 1 : "", sp ? kv->len - nn - 1 : 0);
			pairs++;
		}
	}
	bn = rd_len - save;
	memcpy(body, rd_out + save, bn);
	rd_len = save;
	rd_putn(x->st->resp == 3 ? '%' : '*',
	        (int64_t)(x->st->resp == 3 ? pairs : pairs * 2));
	rd_put(body, bn);
}

static int
rd_config_known(const struct resp_arg *a)
{
	size_t i = 0;
	const struct persona_kv *kv;
	while ((kv = persona_next("redis.config", &i)))
		if (kv->len > a->n && kv->val[a->n] == ' ' &&
		        fmt_caseeq(kv->val, (const char *)a->p, a->n))
			return 1;
	return 0;
}

static void
rd_exploit(struct rd_run *x, const char *rule, const char *vuln,
        const char *tag, const struct resp_arg *v)
{
	static struct ind_result ind;
	struct event *e;

	if (x->replay)
		return;
	e = emu_event(x->ctx, "exploit");
	event_str(e, "rule.name", rule);
	if (vuln)
		event_str(e, "vulnerability.id", vuln);
	event_tag(e, "redis");
	event_tag(e, tag);
	if (v) {
		const char *s = (const char *)v->p;
		if (fmt_caseeq(rule, "redis-config-write", 18)) {
			if (memmem(s, v->n, "cron", 4))
				event_tag(e, "cron");
			else if (memmem(s, v->n, ".ssh", 4) ||
			         memmem(s, v->n, "authorized_keys", 15))
				event_tag(e, "ssh_keys");
			else if (memmem(s, v->n, "www", 3) ||
			         memmem(s, v->n, ".php", 4))
				event_tag(e, "webshell");
		}
		event_bytes(
		        e, "lure.redis.value", v->p, v->n, EVENT_CAP_DEFAULT);
		indicators_extract(v->p, v->n, 0, &ind);
		indicators_event(e, &ind);
	}
	event_commit(e);
}

static void
rd_config(struct rd_run *x, const struct resp_arg *sub)
{
	if (rd_eq(sub, "get")) {
		rd_config_get(x);
	} else if (rd_eq(sub, "set")) {
		if (x->r->argc % 2) {
			rd_key("redis.err_syntax");
			return;
		}
		for (size_t k = 2; k + 1 < x->r->kept; k += 2) {
			const struct resp_arg *n = &x->a[k];
			if (!rd_config_known(n)) {
				rd_err("redis.err_config_set", n, NULL);
				return;
			}
			if (rd_eq(n, "dir") || rd_eq(n, "dbfilename")) {
				rd_exploit(x, "redis-config-write", NULL,
				        "config_write", &x->a[k + 1]);
				rd_err("redis.err_protected", n, NULL);
				return;
			}
		}
		rd_puts("+OK\r\n");
	} else { /* resetstat, rewrite */
		rd_puts("+OK\r\n");
	}
}

static void
rd_client_line(struct rd_run *x, const char *cmd)
{
	static struct rd_vars vars;
	static char id[16], addr[80], laddr[80], age[24], db[8], rp[4], qb[12],
	        qf[12];
	size_t n;
	const char *t = persona_get("redis.client_line", &n);
	char body[1024];
	size_t save = rd_len, bn;

	if (!t)
		return;
	rd_var(&vars, 'i', id,
	        (size_t)fmt_snprintf(id, sizeof id, "%u", (unsigned)x->st->id));
	rd_var(&vars, 'a', addr,
	        (size_t)fmt_snprintf(addr, sizeof addr, "%s:%u",
	                emu_peer_addr(x->ctx), 40000u));
	rd_var(&vars, 'l', laddr,
	        (size_t)fmt_snprintf(laddr, sizeof laddr, "%s:%u",
	                emu_local_addr(x->ctx), (unsigned)emu_port(x->ctx)));
	rd_var(&vars, 'A', age,
	        (size_t)fmt_snprintf(age, sizeof age, "%lld",
	                (long long)((x->st->at_ms - x->st->open_ms) / 1000)));
	rd_var(&vars, 'n', x->st->name, x->st->name_len);
	rd_var(&vars, 'd', db,
	        (size_t)fmt_snprintf(db, sizeof db, "%u", (unsigned)x->st->db));
	rd_var(&vars, 'c', cmd, strlen(cmd));
	rd_var(&vars, 'q', qb,
	        (size_t)fmt_snprintf(qb, sizeof qb, "%u", (unsigned)x->reqlen));
	rd_var(&vars, 'f', qf,
	        (size_t)fmt_snprintf(qf, sizeof qf, "%u",
	                (unsigned)(x->reqlen < 20474 ? 20474 - x->reqlen : 0)));
	rd_var(&vars, 'r', rp,
	        (size_t)fmt_snprintf(
	                rp, sizeof rp, "%u", x->st->resp == 3 ? 3u : 2u));
	rd_tmpl(t, n, &vars);
	bn = LURE_MIN(rd_len - save, sizeof body);
	memcpy(body, rd_out + save, bn);
	rd_len = save;
	if (x->st->resp == 3)
		rd_putn('=', (int64_t)bn + 4), rd_put("txt:", 4),
		        rd_put(body, bn), rd_put("\r\n", 2);
	else
		rd_bulk(body, bn);
}

static void
rd_client(struct rd_run *x, const struct resp_arg *sub)
{
	struct redis_state *st = x->st;

	if (rd_eq(sub, "list")) {
		rd_client_line(x, "client|list");
	} else if (rd_eq(sub, "info")) {
		rd_client_line(x, "client|info");
	} else if (rd_eq(sub, "id")) {
		rd_putn(':', st->id);
	} else if (rd_eq(sub, "getname")) {
		if (st->name_len)
			rd_bulk(st->name, st->name_len);
		else
			rd_null(st);
	} else if (rd_eq(sub, "setname")) {
		const struct resp_arg *n = &x->a[2];
		if (!x->replay) {
			st->name_len = (uint8_t)LURE_MIN(n->n, RD_NAME);
			memcpy(st->name, n->p, st->name_len);
		}
		rd_puts("+OK\r\n");
	} else {
		rd_puts("+OK\r\n");
	}
}

static void
rd_eval(struct rd_run *x)
{
	const struct resp_arg *s = &x->a[1];
	long long nk;
	int line;
	const char *g;

	if (resp_ll(x->a[2].p, x->a[2].n, &nk) < 0) {
		rd_key("redis.err_int");
		return;
	}
	if (nk < 0) {
		rd_key("redis.err_negkeys");
		return;
	}
	if ((unsigned long long)nk > x->r->argc - 3) {
		rd_key("redis.err_numkeys");
		return;
	}
	g = resp_lua_global(s, &line);
	if (g || memmem(s->p, s->n, "loadlib", 7) ||
	        memmem(s->p, s->n, "luaopen_", 8))
		rd_exploit(x, "redis-lua-escape",
		        memmem(s->p, s->n, "package.loadlib", 15) ||
		                        memmem(s->p, s->n, "luaopen_", 8)
		                ? "CVE-2022-0543"
		                : NULL,
		        "lua_escape", s);
	if (g) {
		static struct rd_vars vars;
		struct hash_part hp = {s->p, s->n};
		uint8_t sha[20];
		char hex[41], ln[12];
		size_t tn;
		const char *t = persona_get("redis.err_lua_global", &tn);
		hash_sha1(&hp, 1, sha);
		hash_hex(sha, 20, hex);
		rd_var(&vars, 'd', ln,
		        (size_t)fmt_snprintf(ln, sizeof ln, "%d", line));
		rd_var(&vars, 's', g, strlen(g));
		if (t) {
			/* the second %s is the script's SHA1 */
			const char *second = NULL;
			for (size_t i = 0; i + 1 < tn; i++)
				if (t[i] == '%' && t[i + 1] == 's' &&
				        (second = memmem(t + i + 2, tn - i - 2,
				                 "%s", 2)))
					break;
			if (second) {
				rd_tmpl(t, (size_t)(second - t), &vars);
				rd_var(&vars, 's', hex, 40);
				rd_tmpl(second, tn - (size_t)(second - t),
				        &vars);
			} else {
				rd_tmpl(t, tn, &vars);
			}
		}
		return;
	}
	/* "return 1", "return 'x'": the value; anything else nil */
	{
		const uint8_t *p = s->p;
		size_t i = 0, n = s->n;
		long long v;
		while (i < n && resp_space(p[i]))
			i++;
		if (n - i > 7 && !memcmp(p + i, "return", 6) &&
		        resp_space(p[i + 6])) {
			size_t b, e = n;
			i += 7;
			while (i < n && resp_space(p[i]))
				i++;
			while (e > i &&
			        (resp_space(p[e - 1]) || p[e - 1] == ';'))
				e--;
			b = i;
			if (e > b && resp_ll(p + b, e - b, &v) == 0) {
				rd_putn(':', v);
				return;
			}
			if (e - b >= 2 && (p[b] == '"' || p[b] == '\'') &&
			        p[e - 1] == p[b] &&
			        !memchr(p + b + 1, p[b], e - b - 2)) {
				rd_bulk(p + b + 1, e - b - 2);
				return;
			}
		}
		rd_null(x->st);
	}
}

static void
rd_set(struct rd_run *x)
{
	struct redis_state *st = x->st;
	const struct resp_arg *k = &x->a[1], *v = &x->a[2];
	struct rd_key *e = rd_find(st, k);
	int nx = 0, xx = 0;

	for (size_t i = 3; i < x->r->kept; i++) {
		const struct resp_arg *o = &x->a[i];
		long long t;
		if (rd_eq(o, "nx") && !xx) {
			nx = 1;
		} else if (rd_eq(o, "xx") && !nx) {
			xx = 1;
		} else if (rd_eq(o, "keepttl")) {
			continue;
		} else if ((rd_eq(o, "ex") || rd_eq(o, "px") ||
		                   rd_eq(o, "exat") || rd_eq(o, "pxat")) &&
		           i + 1 < x->r->kept) {
			if (resp_ll(x->a[i + 1].p, x->a[i + 1].n, &t) < 0) {
				rd_key("redis.err_int");
				return;
			}
			i++;
		} else {
			rd_key("redis.err_syntax");
			return;
		}
	}
	if ((nx && e) || (xx && !e)) {
		rd_null(st);
		return;
	}
	if (!x->replay && !e && k->n <= RD_KLEN) {
		for (size_t i = 0; i < RD_KEYS && !e; i++)
			if (!st->keys[i].used)
				e = &st->keys[i];
		if (e) {
			e->used = 1;
			e->db = st->db;
			e->klen = (uint8_t)k->n;
			memcpy(e->k, k->p, k->n);
		}
	}
	if (!x->replay && e) {
		e->vlen = (uint8_t)LURE_MIN(v->n, RD_VLEN);
		e->vfull = (uint32_t)LURE_MIN(
		        x->r->len2 ? x->r->len2 : v->n, UINT32_MAX);
		memcpy(e->v, v->p, e->vlen);
	}
	rd_puts("+OK\r\n");
}

/* HELLO [protover [AUTH user pass] [SETNAME name]] */
static void
rd_hello(struct rd_run *x)
{
	struct redis_state *st = x->st;
	long long v = st->resp == 3 ? 3 : 2;
	size_t vn;
	const char *ver = persona_get("redis.version", &vn);

	if (x->r->kept >= 2 && (resp_ll(x->a[1].p, x->a[1].n, &v) < 0 ||
	                               v > INT_MAX || v < INT_MIN)) {
		rd_key("redis.err_hello");
		return;
	}
	if (v < 2 || v > 3) {
		rd_key("redis.err_noproto");
		return;
	}
	if (!x->replay)
		st->resp = (uint8_t)v;
	rd_putn(v == 3 ? '%' : '*', v == 3 ? 7 : 14);
	rd_bulks("server");
	rd_bulks("redis");
	rd_bulks("version");
	rd_bulk(ver ? ver : "", ver ? vn : 0);
	rd_bulks("proto");
	rd_putn(':', v);
	rd_bulks("id");
	rd_putn(':', st->id);
	rd_bulks("mode");
	rd_bulks("standalone");
	rd_bulks("role");
	rd_bulks("master");
	rd_bulks("modules");
	rd_puts("*0\r\n");
}

static void
rd_auth(struct rd_run *x)
{
	size_t pn;
	const char *pass = persona_get("redis.requirepass", &pn);
	const struct resp_arg *pw = &x->a[x->r->argc == 2 ? 1 : 2];

	if (x->r->argc > 3) {
		rd_key("redis.err_syntax");
		return;
	}
	if (x->r->argc == 3 && !rd_eq(&x->a[1], "default")) {
		rd_key("redis.err_wrongpass");
		return;
	}
	if (!pass) {
		if (x->r->argc == 2)
			rd_key("redis.err_nopass");
		else
			rd_puts("+OK\r\n");
		return;
	}
	if (pw->n == pn && !memcmp(pw->p, pass, pn)) {
		if (!x->replay)
			x->st->authed = 1;
		rd_puts("+OK\r\n");
	} else {
		rd_key("redis.err_wrongpass");
	}
}

static void
rd_keys(struct rd_run *x)
{
	struct redis_state *st = x->st;
	size_t n = 0;
	const struct resp_arg *pat = &x->a[1];

	for (size_t i = 0; i < RD_KEYS; i++) {
		struct rd_key *e = &st->keys[i];
		n += e->used && e->db == st->db &&
		     resp_match(
		             pat->p, pat->n, (const uint8_t *)e->k, e->klen, 0);
	}
	rd_putn('*', (int64_t)n);
	for (size_t i = 0; i < RD_KEYS; i++) {
		struct rd_key *e = &st->keys[i];
		if (e->used && e->db == st->db &&
		        resp_match(pat->p, pat->n, (const uint8_t *)e->k,
		                e->klen, 0))
			rd_bulk(e->k, e->klen);
	}
}

/* The command in x->a[0], its arity checked: the answer into rd_out. */
static void
rd_exec(struct rd_run *x)
{
	struct redis_state *st = x->st;
	const struct resp_arg *c = &x->a[0];
	const struct resp_req *r = x->r;
	long long v;

	if (rd_eq(c, "ping")) {
		if (r->argc > 2)
			rd_err("redis.err_arity",
			        &(struct resp_arg){(const uint8_t *)"ping", 4},
			        NULL);
		else if (r->argc == 2)
			rd_bulk(x->a[1].p, x->a[1].n);
		else
			rd_puts("+PONG\r\n");
	} else if (rd_eq(c, "echo")) {
		rd_bulk(x->a[1].p, x->a[1].n);
	} else if (rd_eq(c, "quit")) {
		rd_puts("+OK\r\n");
		x->close = 1;
	} else if (rd_eq(c, "shutdown")) {
		x->close = 1; /* the daemon exits */
	} else if (rd_eq(c, "auth")) {
		rd_auth(x);
	} else if (rd_eq(c, "hello")) {
		rd_hello(x);
	} else if (rd_eq(c, "select")) {
		if (resp_ll(x->a[1].p, x->a[1].n, &v) < 0 || v > INT_MAX ||
		        v < INT_MIN)
			rd_key("redis.err_int");
		else if (v < 0 || v > 15)
			rd_key("redis.err_db");
		else {
			if (!x->replay)
				st->db = (uint8_t)v;
			rd_puts("+OK\r\n");
		}
	} else if (rd_eq(c, "set")) {
		rd_set(x);
	} else if (rd_eq(c, "get")) {
		struct rd_key *e = rd_find(st, &x->a[1]);
		if (e)
			rd_bulk(e->v, e->vlen);
		else
			rd_null(st);
	} else if (rd_eq(c, "del") || rd_eq(c, "exists") ||
	           rd_eq(c, "unlink")) {
		int del = !rd_eq(c, "exists");
		int64_t n = 0;
		for (size_t i = 1; i < r->kept; i++) {
			struct rd_key *e = rd_find(st, &x->a[i]);
			if (e) {
				n++;
				if (del && !x->replay)
					e->used = 0;
			}
		}
		rd_putn(':', n);
	} else if (rd_eq(c, "type")) {
		rd_puts(rd_find(st, &x->a[1]) ? "+string\r\n" : "+none\r\n");
	} else if (rd_eq(c, "ttl") || rd_eq(c, "pttl")) {
		rd_putn(':', rd_find(st, &x->a[1]) ? -1 : -2);
	} else if (rd_eq(c, "strlen")) {
		struct rd_key *e = rd_find(st, &x->a[1]);
		rd_putn(':', e ? (int64_t)e->vfull : 0);
	} else if (rd_eq(c, "keys")) {
		rd_keys(x);
	} else if (rd_eq(c, "dbsize")) {
		rd_putn(':', rd_dbsize(st, st->db));
	} else if (rd_eq(c, "flushall") || rd_eq(c, "flushdb")) {
		int all = rd_eq(c, "flushall");
		if (r->argc > 2 || (r->argc == 2 && !rd_eq(&x->a[1], "async") &&
		                           !rd_eq(&x->a[1], "sync"))) {
			rd_key("redis.err_syntax");
			return;
		}
		for (size_t i = 0; i < RD_KEYS && !x->replay; i++)
			if (all || st->keys[i].db == st->db)
				st->keys[i].used = 0;
		rd_puts("+OK\r\n");
	} else if (rd_eq(c, "save")) {
		rd_puts("+OK\r\n");
	} else if (rd_eq(c, "bgsave")) {
		rd_key("redis.msg_bgsave");
	} else if (rd_eq(c, "lastsave")) {
		rd_putn(':', rd_t0 / 1000);
	} else if (rd_eq(c, "time")) {
		char s[24], u[12];
		int64_t t = st->at_ms;
		rd_puts("*2\r\n");
		rd_bulk(s, (size_t)fmt_snprintf(
		                   s, sizeof s, "%lld", (long long)(t / 1000)));
		rd_bulk(u, (size_t)fmt_snprintf(u, sizeof u, "%lld",
		                   (long long)(t % 1000) * 1000));
	} else if (rd_eq(c, "role")) {
		rd_puts("*3\r\n");
		rd_bulks("master");
		rd_puts(":0\r\n*0\r\n");
	} else if (rd_eq(c, "info")) {
		rd_info(x);
	} else if (rd_eq(c, "slaveof") || rd_eq(c, "replicaof")) {
		if (rd_eq(&x->a[1], "no") && rd_eq(&x->a[2], "one")) {
			rd_puts("+OK\r\n");
		} else if (resp_ll(x->a[2].p, x->a[2].n, &v) < 0 || v < 0 ||
		           v > 65535) {
			rd_key("redis.err_port");
		} else {
			if (!x->replay) {
				struct event *e = emu_event(x->ctx, "exploit");
				event_str(e, "rule.name", "redis-rogue-master");
				event_tag(e, "redis");
				event_tag(e, "rogue_master");
				event_bytes(e, "lure.redis.master_host",
				        x->a[1].p, x->a[1].n,
				        EVENT_CAP_DEFAULT);
				event_int(e, "lure.redis.master_port", v);
				event_commit(e);
			}
			rd_puts("+OK\r\n");
		}
	} else if (rd_eq(c, "eval") || rd_eq(c, "eval_ro")) {
		rd_eval(x);
	} else if (rd_eq(c, "evalsha") || rd_eq(c, "evalsha_ro")) {
		rd_key("redis.err_noscript");
	} else {
		rd_null(st); /* a command of the daemon's that is not modelled */
	}
}

/* Container commands (CONFIG, CLIENT, MODULE, COMMAND): the subcommand. */
static void
rd_exec_sub(struct rd_run *x)
{
	const struct resp_arg *c = &x->a[0], *s = &x->a[1];
	char key[48];

	if (rd_eq(s, "help") && c->n < 32) {
		size_t i = 0, lines = 0, kn = 11;
		const struct persona_kv *kv;
		memcpy(key, "redis.help.", 11);
		for (size_t k = 0; k < c->n; k++)
			key[kn++] = (char)resp_lower(c->p[k]);
		key[kn] = 0;
		while (persona_next(key, &i))
			lines++;
		if (lines) {
			rd_putn('*', (int64_t)lines);
			for (i = 0; (kv = persona_next(key, &i));) {
				rd_put("+", 1);
				rd_put(kv->val, kv->len);
				rd_put("\r\n", 2);
			}
			return;
		}
	}
	if (rd_eq(c, "config")) {
		rd_config(x, s);
	} else if (rd_eq(c, "client")) {
		rd_client(x, s);
	} else if (rd_eq(c, "module")) {
		if (rd_eq(s, "list")) {
			rd_puts("*0\r\n");
		} else {
			if (!x->replay && rd_eq(s, "load") && x->r->kept > 2) {
				struct event *e = emu_event(x->ctx, "exploit");
				event_str(e, "rule.name", "redis-module-load");
				event_tag(e, "redis");
				event_tag(e, "module_load");
				event_bytes(e, "file.path", x->a[2].p,
				        x->a[2].n, EVENT_CAP_DEFAULT);
				event_commit(e);
			}
			rd_key("redis.err_module");
		}
	} else if (rd_eq(c, "command") && rd_eq(s, "count")) {
		rd_putn(':', persona_int("redis.command_count", 0));
	} else if (rd_eq(c, "cluster")) {
		rd_key("redis.err_cluster");
	} else if (rd_eq(c, "pubsub") && (rd_eq(s, "numpat"))) {
		rd_puts(":0\r\n");
	} else if (rd_eq(c, "acl") && rd_eq(s, "whoami")) {
		rd_bulks("default");
	} else {
		/* COMMAND's lists, PUBSUB CHANNELS, help texts... */
		rd_puts("*0\r\n");
	}
}

/* 1 when the daemon has subcommands of name ("config|get"...). */
static int
rd_container(const char *name, size_t nn)
{
	size_t i = 0;
	const struct persona_kv *kv;

	while ((kv = persona_next("redis.cmd", &i)))
		if (kv->len > nn && kv->val[nn] == '|' &&
		        fmt_caseeq(kv->val, name, nn))
			return 1;
	return 0;
}

/* Dispatch as processCommand(): unknown, arity, auth, then the command. */
static void
rd_command(struct rd_run *x)
{
	const struct resp_req *r = x->r;
	const struct resp_arg *c = &x->a[0];
	char name[64];
	size_t nn = 0;
	int arity, container;

	for (; nn < c->n && nn < sizeof name - 1; nn++)
		name[nn] = (char)resp_lower(c->p[nn]);
	name[nn] = 0;
	arity = (c->n < sizeof name - 1 && !memchr(c->p, '|', c->n))
	                ? rd_arity(name, nn)
	                : 0;
	if (!arity) {
		char args[RD_ERRARG + 8];
		size_t an = 0, cn;
		char cmd[RD_ERRARG];
		size_t tn;
		const char *t = persona_get("redis.err_unknown", &tn);
		cn = rd_errarg(c, cmd);
		for (size_t i = 1; i < r->kept && an < RD_ERRARG; i++) {
			size_t room = RD_ERRARG - an, k = 0;
			args[an++] = '\'';
			while (k < x->a[i].n && k < room && x->a[i].p[k]) {
				uint8_t b = x->a[i].p[k++];
				args[an++] = (b == '\r' || b == '\n') ? ' '
				                                      : (char)b;
			}
			args[an++] = '\'';
			args[an++] = ' ';
		}
		for (size_t i = 0; t && i < tn; i++) {
			if (t[i] == '%' && i + 1 < tn && t[i + 1] == 's')
				rd_put(cmd, cn), i++;
			else
				rd_put(t + i, 1);
		}
		rd_put(args, an);
		rd_put("\r\n", 2);
		return;
	}
	if (!rd_arity_ok(arity, r->argc)) {
		struct resp_arg a = {(const uint8_t *)name, nn};
		rd_err("redis.err_arity", &a, NULL);
		return;
	}
	container = rd_container(name, nn);
	if (container && r->argc >= 2) {
		char full[64 + RD_ERRARG];
		size_t fn = rd_subname(c, &x->a[1], full, sizeof full);
		int sa = x->a[1].n < RD_ERRARG ? rd_arity(full, fn) : 0;
		if (!sa) {
			char up[64];
			size_t un = 0;
			for (; un < nn; un++)
				up[un] = (char)(name[un] -
				                32 * (name[un] >= 'a' &&
				                             name[un] <= 'z'));
			struct resp_arg u = {(const uint8_t *)up, un};
			rd_err("redis.err_subcommand", &x->a[1], &u);
			return;
		}
		if (!rd_arity_ok(sa, r->argc)) {
			struct resp_arg a = {(const uint8_t *)full, fn};
			rd_err("redis.err_arity", &a, NULL);
			return;
		}
	}
	if (persona_get("redis.requirepass", NULL) && !x->st->authed &&
	        !rd_eq(c, "auth") && !rd_eq(c, "hello") && !rd_eq(c, "quit")) {
		rd_key("redis.err_noauth");
		return;
	}
	if (container) {
		if (r->argc < 2)
			rd_puts("*0\r\n"); /* COMMAND alone: not modelled */
		else
			rd_exec_sub(x);
		return;
	}
	rd_exec(x);
}

/* --- events -------------------------------------------------------------- */

static void
rd_log_command(struct rd_run *x, int failed)
{
	static char json[EVENT_CAP_PAYLOAD * 2];
	static char line[IND_TEXT];
	static struct ind_result ind;
	struct event *e = emu_event(x->ctx, "command");
	size_t jn = 0, ln = 0;

	if (!e)
		return;
	json[jn++] = '[';
	for (size_t i = 0; i < x->r->kept; i++) {
		struct json_escape_result er;
		size_t take = LURE_MIN(x->a[i].n, EVENT_CAP_DEFAULT);
		if (jn + 16 > sizeof json)
			break;
		if (i)
			json[jn++] = ',';
		json[jn++] = '"';
		er = json_escape(
		        json + jn, sizeof json - jn - 3, x->a[i].p, take);
		jn += er.out_len;
		json[jn++] = '"';
		if (ln < sizeof line) {
			size_t k = LURE_MIN(x->a[i].n, sizeof line - ln);
			if (i)
				line[ln++] = ' ';
			k = LURE_MIN(k, sizeof line - ln);
			memcpy(line + ln, x->a[i].p, k);
			ln += k;
		}
	}
	json[jn++] = ']';
	event_raw(e, "lure.redis.args", json, jn);
	event_bytes(e, "process.command_line", line, ln, EVENT_CAP_DEFAULT);
	event_str(e, "user.name", "default");
	event_str(e, "event.outcome", failed ? "failure" : "success");
	indicators_extract((const uint8_t *)line, ln, 0, &ind);
	indicators_event(e, &ind);
	event_commit(e);
}

static void
rd_log_bad(struct emu_ctx *ctx, const uint8_t *p, size_t n, const char *msg,
        size_t mn)
{
	struct event *e = emu_event(ctx, "request");

	event_bytes(e, "lure.payload", p, n, RD_PAYLOAD);
	event_int(e, "source.bytes", (int64_t)n);
	if (msg)
		event_bytes(e, "error.message", msg, mn, EVENT_CAP_DEFAULT);
	event_commit(e);
}

/* --- the contract -------------------------------------------------------- */

static void
redis_open(struct emu_ctx *ctx, void *state)
{
	struct redis_state *st = state;

	(void)ctx;
	if (!rd_t0)
		rd_t0 = lure_wall();
	rd_conns++;
	rd_clients++;
	st->id = 3 + rd_next_id++;
	st->open_ms = lure_wall();
	st->resp = 2;
}

static void
redis_close(struct emu_ctx *ctx, void *state, enum emu_close_reason why)
{
	(void)ctx, (void)state, (void)why;
	if (rd_clients)
		rd_clients--;
}

/* Queue rd_out from st->sent on: 1 when all of it went. */
static int
rd_flush(struct emu_ctx *ctx, struct redis_state *st)
{
	size_t left = rd_len - st->sent, room = emu_space(ctx);
	size_t take = LURE_MIN(left, room);

	if (take && emu_send(ctx, rd_out + st->sent, take) == 0)
		st->sent += (uint32_t)take;
	return st->sent >= rd_len;
}

/* A protocol error: the reason, logged, then close. */
static void
rd_proto_error(struct emu_ctx *ctx, struct redis_state *st, const uint8_t *p,
        size_t n, const char *why, uint8_t got)
{
	size_t tn, wn;
	const char *t = persona_get("redis.err_proto", &tn);
	const char *w = persona_get(why, &wn);

	rd_len = 0;
	for (size_t i = 0; t && i < tn; i++) {
		if (t[i] == '%' && i + 1 < tn && t[i + 1] == 's') {
			for (size_t k = 0; w && k < wn; k++) {
				if (w[k] == '%' && k + 1 < wn &&
				        w[k + 1] == 'c') {
					char g = (got == '\r' || got == '\n')
					                 ? ' '
					                 : (char)got;
					rd_put(&g, 1);
					k++;
				} else {
					rd_put(w + k, 1);
				}
			}
			i++;
		} else {
			rd_put(t + i, 1);
		}
	}
	/* the message as sent, without "-" and CRLF */
	rd_log_bad(ctx, p, n, rd_len > 3 ? rd_out + 1 : NULL, rd_len - 3);
	emu_send(ctx, rd_out, rd_len);
	/* Redis has read what came with it (16 KiB reads): read the rest
	 * that is there, then close, so that the close is a FIN */
	st->draining = 1;
	emu_timer(ctx, RD_DRAIN_MS);
}

/* An HTTP request ("host:" or "post" among the lines held): Redis closes
 * without a word (securityWarningCommand), answers before it unsent. */
static int
rd_http(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i && p[i - 1] != '\n')
			continue;
		if ((n - i >= 5 &&
		            fmt_caseeq((const char *)p + i, "host:", 5)) ||
		        (n - i >= 5 &&
		                fmt_caseeq((const char *)p + i, "post", 4) &&
		                resp_space(p[i + 4])))
			return 1;
	}
	return 0;
}

/* The big request's words as a request; the bytes its last part took
 * (in big.i until it is answered: offered again, they are still there). */
static size_t
rd_big_req(struct redis_state *st, struct resp_req *r)
{
	r->argc = st->big.argc;
	r->kept = LURE_MIN(st->big.argc, RESP_BIG_ARGS);
	r->len2 = st->big.len2;
	for (size_t i = 0; i < r->kept; i++) {
		r->a[i].p = (const uint8_t *)st->big.a[i];
		r->a[i].n = st->big.kept[i];
	}
	return st->big.i;
}

static size_t
redis_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct redis_state *st = state;
	static struct resp_req r;
	struct rd_run x = {ctx, st, &r, r.a, 0, 0, 0};
	size_t used = 0;
	const char *why = NULL;
	uint8_t got = 0;
	enum resp_parse k;

	if (st->draining) {
		emu_timer(ctx, RD_DRAIN_MS);
		return n;
	}
	if (st->skip) { /* the rest of an over-long line */
		uint8_t end = st->skip_mbulk ? '\r' : '\n';
		const uint8_t *nl = st->skip_nul ? NULL : resp_chr(p, n, end);
		size_t take = nl ? (size_t)(nl - p) + 1 : n;
		if (!nl && memchr(p, 0, n))
			st->skip_nul = 1;
		if ((size_t)st->skip + take >
		        RESP_INLINE_MAX + (nl ? 1u : 0u)) {
			rd_proto_error(ctx, st, p, LURE_MIN(n, RD_PAYLOAD),
			        st->skip_mbulk ? "redis.err_mbulk_big"
			                       : "redis.err_inline",
			        0);
			return n;
		}
		if (nl && st->skip_mbulk) { /* no count is that long */
			rd_proto_error(ctx, st, p, LURE_MIN(n, RD_PAYLOAD),
			        "redis.err_mbulk", 0);
			return n;
		}
		st->skip += (uint32_t)take;
		if (nl)
			st->skip = 0, st->skip_nul = 0;
		return take;
	}
	if (st->big.on == 1) { /* the rest of a big request */
		used = resp_big_feed(&st->big, p, n, &why, &got);
		if (why) {
			rd_proto_error(
			        ctx, st, p, LURE_MIN(n, RD_PAYLOAD), why, got);
			return n;
		}
		if (st->big.on == 1)
			return used;
		st->big.i = (uint32_t)used; /* what the last call took */
	}
	if (st->big.on == 2) { /* its words are all in: the command */
		used = rd_big_req(st, &r);
		k = RESP_CMD;
		goto run;
	}
	k = resp_parse(p, n, &r, &used, &why, &got);
	if (k == RESP_NEED) {
		if (p[0] == '*' && n >= RESP_LONG_LINE) {
			used = resp_big_start(&st->big, p, n, &why, &got);
			if (why) {
				rd_proto_error(ctx, st, p,
				        LURE_MIN(n, RD_PAYLOAD), why, got);
				return n;
			}
			if (st->big.on == 1)
				return used;
			if (st->big.on == 2) {
				st->big.i = (uint32_t)used;
				used = rd_big_req(st, &r);
				goto run;
			}
		}
		if (!st->held && p[0] != '*' && resp_binary(p, n)) {
			/* Redis waits for the line's end */
			rd_log_bad(ctx, p, n, NULL, 0);
			st->held = 1;
		}
		return 0;
	}
	st->held = 0;
	if (k == RESP_EMPTY)
		return used;
	if (k == RESP_ERR) {
		rd_proto_error(ctx, st, p, LURE_MIN(n, RD_PAYLOAD), why, got);
		return n;
	}
	if (k == RESP_LONG || k == RESP_LONG_MBULK) {
		rd_log_bad(ctx, p, n, NULL, 0);
		st->skip = (uint32_t)n;
		st->skip_mbulk = k == RESP_LONG_MBULK;
		st->skip_nul = memchr(p, 0, n) != NULL;
		return n;
	}
	if (!st->busy && rd_http(p, n) &&
	        (rd_eq(&r.a[0], "host:") || rd_eq(&r.a[0], "post") ||
	                p[0] != '*')) {
		rd_log_command(&x, 1);
		emu_close(ctx);
		return n;
	}
run:
	x.replay = st->busy;
	x.reqlen = used;
	if (!st->busy) { /* what an answer made again must show the same */
		st->at_ms = lure_wall();
		st->snap_clients = rd_clients;
		st->snap_conns = (uint32_t)rd_conns;
		st->snap_cmds = (uint32_t)rd_cmds;
	}
	rd_len = 0;
	rd_command(&x);
	if (!st->busy) {
		rd_cmds++;
		rd_log_command(&x, rd_len && rd_out[0] == '-');
		st->busy = 1;
		st->sent = 0;
	}
	if (!rd_flush(ctx, st))
		return 0; /* the rest when the output has drained */
	st->busy = 0;
	st->sent = 0;
	st->big.on = 0;
	if (x.close)
		emu_close(ctx);
	return used;
}

static void
redis_timeout(struct emu_ctx *ctx, void *state)
{
	struct redis_state *st = state;
	if (st->draining)
		emu_close(ctx);
}

const struct emulator emu_redis = {
        .name = "redis",
        .transports = EMU_TCP,
        .state_size = sizeof(struct redis_state),
        .in_min = RD_IN,
        .on_open = redis_open,
        .on_data = redis_data,
        .on_timeout = redis_timeout,
        .on_close = redis_close,
};
