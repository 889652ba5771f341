/* mysql.c: a MariaDB server over the client/server protocol: Handshake V10
 * with the persona's version, capabilities and a per-connection scramble;
 * the client's HandshakeResponse41 (user, auth data, database, auth plugin,
 * connect attributes) logged as a "login" event with the scramble response
 * in the form crackers take; the account model of the persona decides
 * between an AuthSwitchRequest to mysql_native_password and the errors
 * MariaDB sends (1045, 1698); a pair mysql.accept lists gets an OK and a
 * session that answers the queries bots send first from persona rows, one
 * "command" event per COM_QUERY.
 *
 * Persona keys. Error values are "CODE SQLSTATE text" with %u (user), %a
 * (the client's host as the server names it: "localhost" over loopback,
 * else the address), %p (YES or NO: a password was sent), %d (database),
 * %q (the start of the statement); result rows are described below.
 *   mysql.version            [required] server version of the greeting
 *   mysql.capabilities       [required] the greeting's 32 capability bits
 *                            (decimal or 0x hex)
 *   mysql.ext_capabilities   MariaDB's extended capability bits (0)
 *   mysql.charset            collation id of the greeting (45)
 *   mysql.status             server status flags (2: autocommit)
 *   mysql.connect_timeout_ms 10000: a handshake not done by then is reset
 *                            (connect_timeout)
 *   mysql.auth_plugin        [required] plugin named in the greeting and in
 *                            an AuthSwitchRequest
 *   mysql.account            [repeated] "USER KIND" in the server's own
 *                            order of accounts; KIND is native (a password:
 *                            1045), socket: Debian's stock root and mysql
 *                            (unix_socket OR an invalid password: 1698),
 *                            socket_password (unix_socket OR a password:
 *                            a switch, then 1045, or 1698 when empty),
 *                            locked (native, but an empty password gets
 *                            "this account is locked": mariadb.sys). A
 *                            user not listed is judged as the account
 *                            MariaDB picks for it (a hash of the name)
 *   mysql.accept             [repeated] "USER:PASSWORD" ("*" for any) that
 *                            log in, as ssh.accept
 *   mysql.database           [repeated] databases USE and COM_INIT_DB know
 *   mysql.result             [repeated] "query|N|col1..colN|values..."
 *                            a query (lower case, blanks as one space, no
 *                            trailing ';') and its rows: N columns (a
 *                            name starting '#' is a number), then values
 *                            row after row; "\N" is NULL; %u %a %d expand
 *   mysql.error.<name>       the errors: denied, denied_socket,
 *                            locked, out_of_order, bad_handshake,
 *                            unknown_command,
 *                            unknown_db, syntax, no_db
 *
 * Events: "login" with user.name, lure.auth.method (the plugin the answer
 * was computed for), lure.auth.hash ("$mysqlna$" + scramble hex + "*" +
 * response hex, hashcat 11200 / John's mysqlna format, when the response is
 * 20 bytes), lure.auth.password (only when the persona knows it: an
 * accepted or empty password), lure.mysql.client_plugin, lure.mysql.database,
 * lure.mysql.attrs ("key=value" pairs, "; " between), lure.mysql.client_name
 * and client_version, event.outcome; a client that leaves after the
 * AuthSwitchRequest gets one at close with its first answer (the method
 * its plugin). "command" per COM_QUERY: lure.command
 * (the statement), lure.indicators.url and .ip (also from the bytes of
 * its 0x... literals), tags outfile, dumpfile,
 * load_file, udf (CREATE FUNCTION ... SONAME, sys_eval/sys_exec), elf (an
 * 0x7f454c46 hex literal). A first packet that is not a handshake answer
 * (its sequence number is not 1) is a "request" event with lure.payload.
 *
 * Compared byte for byte with Debian 12's mariadb-server 10.11 (mariadbd
 * with Debian's utf8mb4 defaults, accounts from mariadb-install-db
 * --user=mysql, root given a password with IDENTIFIED VIA unix_socket OR
 * mysql_native_password) on 127.0.0.1 (test/persona/test_diff_mysql.py):
 * - greeting: protocol 10, version, thread id, scramble as 8 + 12 printable
 *   bytes (33-126), capabilities, collation, status, 21, MariaDB's 4 bytes
 *   of extended capabilities, the plugin name.
 * - a first packet whose sequence number is not 1 (HTTP, TLS, a command
 *   before the handshake) gets "Got packets out of order" (sequence 1) and
 *   a reset; a packet 1 shorter than 32 bytes, without CLIENT_PROTOCOL_41,
 *   or whose fields overrun it, "Bad handshake" (sequence 2) and a close.
 * - an unknown user is judged as the account acl_users[hash % count] of
 *   sql_acl.cc's find_mpvio_user (latin1 hash_sort of the name).
 * - a client naming caching_sha2_password (or any other plugin) gets an
 *   AuthSwitchRequest to mysql_native_password with the same scramble.
 * - errors close with a FIN, or a reset when the client sent more; a
 *   command sent before the answer to a switch is out of order (sequence
 *   3), a reset; a handshake not done in 10 s is reset (connect_timeout).
 * - a login naming a database: 1049 for one the persona lacks, else an OK
 *   with SESSION_TRACK_SCHEMA when the client tracks state.
 * Deliberately unlike Debian's server, which runs as mysql with a plugin
 * directory owned by root: the persona is the misconfigured one whose
 * plugin directory is writable, so INTO DUMPFILE says 1 row affected,
 * CREATE FUNCTION ... SONAME works and the function returns NULL (the
 * attacker goes on to show its payload).
 * Not modelled: TLS (CLIENT_SSL is not offered), COM_CHANGE_USER, prepared
 * statements, compression, wait_timeout (limits.idle_timeout applies),
 * host matching of accounts (every account is reachable from every
 * address, as with 'root'@'%'), the column types and lengths of result
 * sets (strings or numbers), SQL itself: a statement that is not a
 * persona row gets a plausible answer by its first word (SELECT: one
 * column named by the expression, NULL; INTO OUTFILE/DUMPFILE: 1 row
 * affected; SHOW: no rows; SET, CREATE, DROP...: OK; anything else: a
 * syntax error); packets of 16 MiB and more (continued packets) are
 * skipped, not joined, and max_allowed_packet is not enforced. State: 688
 * bytes per connection on 64-bit targets (struct mysql_state). */
#include <string.h>

#include "emu.h"
#include "fmt.h"
#include "hash.h"
#include "indicators.h"
#include "lure.h"
#include "persona.h"

#define MY_HOLD 2048 /* bytes of a packet looked at; the rest is skipped */
#define MY_USER \
	128 /* bytes of a user name kept (MariaDB's USERNAME_CHAR_LENGTH) */
#define MY_DB 64
#define MY_ATTRS 320 /* connect attributes text kept for the login event */
#define MY_PLUGIN 32
#define MY_RESP 32 /* auth response bytes kept */
#define MY_TEXT 512 /* an expanded persona text (error, cell) */
#define MY_ROOM 768 /* output room wanted before a command is read */

/* capability bits (mysql_com.h) */
#define CAP_CONNECT_WITH_DB 0x8u
#define CAP_PROTOCOL_41 0x200u
#define CAP_SECURE_CONN 0x8000u
#define CAP_PLUGIN_AUTH 0x80000u
#define CAP_CONNECT_ATTRS 0x100000u
#define CAP_LENENC_DATA 0x200000u
#define CAP_SESSION_TRACK 0x800000u
#define CAP_DEPRECATE_EOF 0x1000000u
#define SERVER_SESSION_STATE_CHANGED 0x4000u
#define EXT_EXTENDED_METADATA 0x8u /* a type-info string in column defs */
#define EXT_CACHE_METADATA 0x10u /* "metadata follows" after the count */

enum my_phase { MY_HELLO, MY_SWITCH, MY_SESSION, MY_DONE, MY__MAX };
enum my_kind { K_NATIVE, K_SOCKET, K_SOCKET_PASSWORD, K_LOCKED };

struct mysql_state {
	uint8_t phase;
	uint8_t kind;
	uint8_t user_len, db_len, plugin_len, resp_len;
	uint8_t user_cut;
	uint8_t native; /* the client answered for mysql_native_password */
	uint16_t attrs_len;
	uint32_t client_caps;
	uint32_t client_ext; /* MariaDB's extended capabilities, both sides */
	uint32_t skip; /* bytes of an over-long packet still to drop */
	uint8_t skip_reply; /* 1, 2 (bad): a handshake answered after its skip */
	uint8_t scramble[20];
	char user[MY_USER];
	char db[MY_DB];
	char plugin[MY_PLUGIN];
	uint8_t resp[MY_RESP];
	char attrs[MY_ATTRS];
	char client_name[32], client_version[32];
};

/* One packet's answer, built here (one connection at a time). */
static uint8_t my_out[4096];
static size_t my_outn;
static struct ind_result my_ind;
static uint8_t my_ind_text[IND_TEXT]; /* the statement and its hex decoded */
static char my_norm[MY_HOLD + 1];
static uint32_t my_thread_id;

static void
my_begin(void)
{
	my_outn = 0;
}

/* Start a packet of sequence seq; returns its offset for my_end(). */
static size_t
my_pkt(uint8_t seq)
{
	size_t at = my_outn;

	if (my_outn + 4 <= sizeof my_out) {
		my_out[my_outn + 3] = seq;
		my_outn += 4;
	}
	return at;
}

static void
my_end(size_t at)
{
	size_t n;

	if (at + 4 > my_outn)
		return; /* my_pkt found no room */
	n = my_outn - at - 4;

	my_out[at] = (uint8_t)n;
	my_out[at + 1] = (uint8_t)(n >> 8);
	my_out[at + 2] = (uint8_t)(n >> 16);
}

static void
my_put(const void *p, size_t n)
{
	if (n > sizeof my_out - my_outn)
		n = sizeof my_out - my_outn;
	memcpy(my_out + my_outn, p, n);
	my_outn += n;
}

static void
my_u8(unsigned v)
{
	uint8_t b = (uint8_t)v;

	my_put(&b, 1);
}

static void
my_le(uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		my_u8((unsigned)(v >> (8 * i)) & 0xff);
}

static void
my_lenenc(uint64_t v)
{
	if (v < 251)
		my_u8((unsigned)v);
	else if (v < 0x10000) {
		my_u8(0xfc);
		my_le(v, 2);
	} else if (v < 0x1000000) {
		my_u8(0xfd);
		my_le(v, 3);
	} else {
		my_u8(0xfe);
		my_le(v, 8);
	}
}

static void
my_lenstr(const void *p, size_t n)
{
	my_lenenc(n);
	my_put(p, n);
}

static void
my_flush(struct emu_ctx *ctx)
{
	if (my_outn)
		emu_send(ctx, my_out, my_outn);
	my_outn = 0;
}

static const char *
my_host(struct emu_ctx *ctx)
{
	const char *a = emu_peer_addr(ctx);

	if (strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0)
		return "localhost";
	return a;
}

/* Expand a persona text into out: %u %a %p %d %q (q: the statement). */
static size_t
my_expand(struct emu_ctx *ctx, const struct mysql_state *st, const char *t,
        size_t tn, const char *q, size_t qn, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < tn && o < cap; i++) {
		const char *s = NULL;
		size_t sn = 0;
		if (t[i] != '%' || i + 1 == tn) {
			out[o++] = t[i];
			continue;
		}
		switch (t[++i]) {
		case 'u': s = st->user, sn = st->user_len; break;
		case 'a': s = my_host(ctx), sn = strlen(s); break;
		case 'p':
			s = st->resp_len ? "YES" : "NO", sn = strlen(s);
			break;
		case 'd': s = st->db, sn = st->db_len; break;
		case 'q': s = q, sn = qn; break;
		default: out[o++] = t[i]; continue;
		}
		if (sn > cap - o)
			sn = cap - o;
		memcpy(out + o, s, sn);
		o += sn;
	}
	return o;
}

/* An error packet from mysql.error.<name> ("CODE SQLSTATE text"). */
static void
my_error(struct emu_ctx *ctx, const struct mysql_state *st, uint8_t seq,
        const char *name, const char *q, size_t qn)
{
	char key[40], text[MY_TEXT];
	size_t n, at;
	const char *v;
	char *end;
	long code;

	fmt_snprintf(key, sizeof key, "mysql.error.%s", name);
	v = persona_get(key, &n);
	if (!v || n < 10)
		return;
	code = fmt_strtol(v, &end, 10);
	if (end == v || (size_t)(end - v) + 7 > n)
		return;
	at = my_pkt(seq);
	my_u8(0xff);
	my_le((uint64_t)code, 2);
	my_u8('#');
	my_put(end + 1, 5);
	my_put(text, my_expand(ctx, st, end + 7, n - (size_t)(end + 7 - v), q,
	                     qn, text, sizeof text));
	my_end(at);
}

static void
my_ok(uint8_t seq, uint64_t affected)
{
	size_t at = my_pkt(seq);

	my_u8(0);
	my_lenenc(affected);
	my_u8(0);
	my_le((uint64_t)persona_int("mysql.status", 2), 2);
	my_le(0, 2);
	my_end(at);
}

/* OK after a change of database: with CLIENT_SESSION_TRACK it carries the
 * new schema (SESSION_TRACK_SCHEMA), as MariaDB's does. */
static void
my_ok_db(const struct mysql_state *st, uint8_t seq)
{
	size_t at;

	if (!(st->client_caps & CAP_SESSION_TRACK)) {
		my_ok(seq, 0);
		return;
	}
	at = my_pkt(seq);
	my_u8(0);
	my_u8(0);
	my_u8(0);
	my_le((uint64_t)persona_int("mysql.status", 2) |
	                SERVER_SESSION_STATE_CHANGED,
	        2);
	my_le(0, 2);
	my_u8(0); /* info */
	my_lenenc((uint64_t)st->db_len + 3);
	my_u8(1); /* SESSION_TRACK_SCHEMA */
	my_lenenc((uint64_t)st->db_len + 1);
	my_lenstr(st->db, st->db_len);
	my_end(at);
}

static int
my_known_db(const char *d, size_t dn)
{
	size_t i = 0;
	const struct persona_kv *kv;

	while ((kv = persona_next("mysql.database", &i)))
		if (kv->len == dn && memcmp(kv->val, d, dn) == 0)
			return 1;
	return 0;
}

static uint32_t
my_caps(void)
{
	const char *v = persona_get("mysql.capabilities", NULL);

	return v ? (uint32_t)fmt_strtoll(
	                   v, NULL, v[0] == '0' && v[1] == 'x' ? 16 : 10)
	         : 0;
}

static void
my_open(struct emu_ctx *ctx, void *state)
{
	struct mysql_state *st = state;
	size_t vn, pn, at;
	const char *ver = persona_get("mysql.version", &vn);
	const char *plugin = persona_get("mysql.auth_plugin", &pn);
	uint32_t caps = my_caps();

	lure_random(st->scramble, sizeof st->scramble);
	for (size_t i = 0; i < sizeof st->scramble; i++)
		st->scramble[i] = (uint8_t)(33 + st->scramble[i] % 94);
	if (!my_thread_id)
		lure_random(&my_thread_id, 1),
		        my_thread_id = 3 + my_thread_id % 64;
	my_begin();
	at = my_pkt(0);
	my_u8(10);
	my_put(ver ? ver : "", ver ? vn : 0);
	my_u8(0);
	my_le(my_thread_id++, 4);
	my_put(st->scramble, 8);
	my_u8(0);
	my_le(caps, 2);
	my_u8((unsigned)persona_int("mysql.charset", 45));
	my_le((uint64_t)persona_int("mysql.status", 2), 2);
	my_le(caps >> 16, 2);
	my_u8(21);
	my_le(0, 6);
	my_le((uint64_t)persona_int("mysql.ext_capabilities", 0), 4);
	my_put(st->scramble + 8, 12);
	my_u8(0);
	my_put(plugin ? plugin : "", plugin ? pn : 0);
	my_u8(0);
	my_end(at);
	my_flush(ctx);
	emu_timer(ctx, persona_int("mysql.connect_timeout_ms", 10000));
}

/* MariaDB's my_hash_sort_simple under latin1_swedish_ci, as
 * find_mpvio_user uses it to pick an account for an unknown user. */
static uint64_t
my_user_hash(const char *u, size_t n)
{
	uint64_t nr1 = 1, nr2 = 4;

	while (n && u[n - 1] == ' ')
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned c = (uint8_t)u[i];
		if (c >= 'a' && c <= 'z')
			c -= 32;
		nr1 ^= (((nr1 & 63) + nr2) * c) + (nr1 << 8);
		nr2 += 3;
	}
	return nr1;
}

static enum my_kind
my_kind_of(const char *v, size_t n)
{
	const char *sp = memchr(v, ' ', n);
	size_t kn;

	if (!sp)
		return K_NATIVE;
	kn = n - (size_t)(sp + 1 - v);
	if (kn == 6 && memcmp(sp + 1, "socket", 6) == 0)
		return K_SOCKET;
	if (kn == 15 && memcmp(sp + 1, "socket_password", 15) == 0)
		return K_SOCKET_PASSWORD;
	if (kn == 6 && memcmp(sp + 1, "locked", 6) == 0)
		return K_LOCKED;
	return K_NATIVE;
}

static enum my_kind
my_account(const struct mysql_state *st)
{
	size_t i = 0, count = 0, pick;
	const struct persona_kv *kv;

	while ((kv = persona_next("mysql.account", &i))) {
		const char *sp = memchr(kv->val, ' ', kv->len);
		size_t un = sp ? (size_t)(sp - kv->val) : kv->len;
		count++;
		if (!st->user_cut && un == st->user_len &&
		        memcmp(kv->val, st->user, un) == 0)
			return my_kind_of(kv->val, kv->len);
	}
	if (!count)
		return K_NATIVE;
	pick = (size_t)(my_user_hash(st->user, st->user_len) % count);
	i = 0;
	while ((kv = persona_next("mysql.account", &i)) && pick--)
		;
	/* a made-up user fails before the lock is looked at */
	if (!kv || my_kind_of(kv->val, kv->len) == K_LOCKED)
		return K_NATIVE;
	return my_kind_of(kv->val, kv->len);
}

/* mysql_native_password: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))). */
static int
my_native_ok(const struct mysql_state *st, const char *pw, size_t pn)
{
	uint8_t h1[20], h2[20], h3[20];
	struct hash_part a = {pw, pn}, b[2];

	if (!pn)
		return st->resp_len == 0;
	if (st->resp_len != 20)
		return 0;
	hash_sha1(&a, 1, h1);
	a.p = h1, a.n = 20;
	hash_sha1(&a, 1, h2);
	b[0].p = st->scramble, b[0].n = 20;
	b[1].p = h2, b[1].n = 20;
	hash_sha1(b, 2, h3);
	for (size_t i = 0; i < 20; i++)
		if ((h1[i] ^ h3[i]) != st->resp[i])
			return 0;
	return 1;
}

/* The mysql.accept line that lets the user in; NULL when none. */
static const struct persona_kv *
my_accepted(const struct mysql_state *st, size_t *pwoff)
{
	size_t i = 0;
	const struct persona_kv *kv;

	if (st->user_cut || !st->native)
		return NULL;
	while ((kv = persona_next("mysql.accept", &i))) {
		const char *colon = memchr(kv->val, ':', kv->len);
		size_t ku, kp;
		if (!colon)
			continue;
		ku = (size_t)(colon - kv->val);
		kp = kv->len - ku - 1;
		if (!(ku == 1 && kv->val[0] == '*') &&
		        !(ku == st->user_len &&
		                memcmp(kv->val, st->user, ku) == 0))
			continue;
		if ((kp == 1 && colon[1] == '*') ||
		        my_native_ok(st, colon + 1, kp)) {
			*pwoff = ku + 1;
			return kv;
		}
	}
	return NULL;
}

static void
my_login_event(struct emu_ctx *ctx, const struct mysql_state *st,
        const struct persona_kv *ok, size_t pwoff)
{
	struct event *e = emu_event(ctx, "login");
	char hash[9 + 40 + 1 + 64 + 1];

	event_bytes(e, "user.name", st->user, st->user_len, EVENT_CAP_DEFAULT);
	if (st->native)
		event_str(e, "lure.auth.method", "mysql_native_password");
	else
		event_bytes(e, "lure.auth.method", st->plugin, st->plugin_len,
		        MY_PLUGIN);
	if (st->native && st->resp_len == 20) {
		memcpy(hash, "$mysqlna$", 9);
		hash_hex(st->scramble, 20, hash + 9);
		hash[49] = '*';
		hash_hex(st->resp, 20, hash + 50);
		event_str(e, "lure.auth.hash", hash);
	}
	if (ok && !(ok->len - pwoff == 1 && ok->val[pwoff] == '*'))
		event_bytes(e, "lure.auth.password", ok->val + pwoff,
		        ok->len - pwoff, EVENT_CAP_DEFAULT);
	else if (st->native && !st->resp_len)
		event_str(e, "lure.auth.password", "");
	if (st->plugin_len)
		event_bytes(e, "lure.mysql.client_plugin", st->plugin,
		        st->plugin_len, MY_PLUGIN);
	if (st->db_len)
		event_bytes(
		        e, "lure.mysql.database", st->db, st->db_len, MY_DB);
	if (st->attrs_len)
		event_bytes(e, "lure.mysql.attrs", st->attrs, st->attrs_len,
		        MY_ATTRS);
	if (st->client_name[0])
		event_str(e, "lure.mysql.client_name", st->client_name);
	if (st->client_version[0])
		event_str(e, "lure.mysql.client_version", st->client_version);
	if (st->user_cut)
		event_bool(e, "lure.truncated", 1);
	event_str(e, "event.outcome", ok ? "success" : "failure");
	event_commit(e);
}

/* Judge the answer (native response in st->resp); seq of the reply. */
static void
my_judge(struct emu_ctx *ctx, struct mysql_state *st, uint8_t seq)
{
	size_t pwoff = 0;
	const struct persona_kv *ok = my_accepted(st, &pwoff);

	my_login_event(ctx, st, ok, pwoff);
	if (ok && st->db_len && !my_known_db(st->db, st->db_len)) {
		my_error(ctx, st, seq, "unknown_db", NULL, 0);
		st->phase = MY_DONE;
		return;
	}
	if (ok) {
		emu_timer(ctx, 0);
		if (st->db_len)
			my_ok_db(st, seq);
		else
			my_ok(seq, 0);
		st->phase = MY_SESSION;
		return;
	}
	if (st->kind == K_SOCKET ||
	        (st->kind == K_SOCKET_PASSWORD && !st->resp_len))
		my_error(ctx, st, seq, "denied_socket", NULL, 0);
	else if (st->kind == K_LOCKED && !st->resp_len)
		my_error(ctx, st, seq, "locked", NULL, 0);
	else
		my_error(ctx, st, seq, "denied", NULL, 0);
	st->phase = MY_DONE;
}

static void
my_switch(struct mysql_state *st, uint8_t seq)
{
	size_t pn, at = my_pkt(seq);
	const char *plugin = persona_get("mysql.auth_plugin", &pn);

	my_u8(0xfe);
	my_put(plugin ? plugin : "", plugin ? pn : 0);
	my_u8(0);
	my_put(st->scramble, 20);
	my_u8(0);
	my_end(at);
	st->phase = MY_SWITCH;
}

/* A length-encoded integer at p[*i..n); -1 when it overruns. */
static int64_t
my_getlen(const uint8_t *p, size_t n, size_t *i)
{
	unsigned w;
	uint64_t v = 0;

	if (*i >= n)
		return -1;
	if (p[*i] < 251)
		return p[(*i)++];
	w = p[*i] == 0xfc ? 2 : p[*i] == 0xfd ? 3 : p[*i] == 0xfe ? 8 : 0;
	if (!w || n - *i - 1 < w)
		return -1;
	for (unsigned k = 0; k < w; k++)
		v |= (uint64_t)p[*i + 1 + k] << (8 * k);
	*i += 1 + w;
	return v > n ? -1 : (int64_t)v;
}

static void
my_copy(char *dst, size_t cap, const void *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static void
my_attrs(struct mysql_state *st, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		int64_t kl, vl;
		const uint8_t *k, *v;
		if ((kl = my_getlen(p, n, &i)) < 0 || (size_t)kl > n - i)
			return;
		k = p + i, i += (size_t)kl;
		if ((vl = my_getlen(p, n, &i)) < 0 || (size_t)vl > n - i)
			return;
		v = p + i, i += (size_t)vl;
		if (kl == 12 && memcmp(k, "_client_name", 12) == 0)
			my_copy(st->client_name, sizeof st->client_name, v,
			        (size_t)vl);
		if (kl == 15 && memcmp(k, "_client_version", 15) == 0)
			my_copy(st->client_version, sizeof st->client_version,
			        v, (size_t)vl);
		if (st->attrs_len + kl + vl + 3 > MY_ATTRS)
			continue;
		if (st->attrs_len) {
			memcpy(st->attrs + st->attrs_len, "; ", 2);
			st->attrs_len += 2;
		}
		memcpy(st->attrs + st->attrs_len, k, (size_t)kl);
		st->attrs_len += (uint16_t)kl;
		st->attrs[st->attrs_len++] = '=';
		memcpy(st->attrs + st->attrs_len, v, (size_t)vl);
		st->attrs_len += (uint16_t)vl;
	}
}

/* A NUL-terminated string at p[*i..n); its length, or -1 without a NUL. */
static long
my_getz(const uint8_t *p, size_t n, size_t *i)
{
	const uint8_t *z = *i < n ? memchr(p + *i, 0, n - *i) : NULL;
	long len;

	if (!z)
		return -1;
	len = (long)(z - (p + *i));
	*i += (size_t)len + 1;
	return len;
}

/* HandshakeResponse41 in b[0..n): 0, or -1 for "Bad handshake". */
static int
my_parse_hello(struct mysql_state *st, const uint8_t *b, size_t n)
{
	size_t i = 32, at;
	long l;
	int64_t al;

	if (n < 32)
		return -1;
	st->client_caps = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
	                  (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	if (!(st->client_caps & CAP_PROTOCOL_41))
		return -1;
	if (!(st->client_caps & 1)) /* a MariaDB client: bytes 28-31 */
		st->client_ext =
		        ((uint32_t)b[28] | (uint32_t)b[29] << 8 |
		                (uint32_t)b[30] << 16 | (uint32_t)b[31] << 24) &
		        (uint32_t)persona_int("mysql.ext_capabilities", 0);
	at = i;
	if ((l = my_getz(b, n, &i)) < 0)
		return -1;
	st->user_cut = (size_t)l >= MY_USER;
	st->user_len = (uint8_t)(st->user_cut ? MY_USER : (size_t)l);
	memcpy(st->user, b + at, st->user_len);
	if (st->client_caps & CAP_LENENC_DATA)
		al = my_getlen(b, n, &i);
	else if (st->client_caps & CAP_SECURE_CONN)
		al = i < n ? b[i++] : -1;
	else {
		at = i;
		al = my_getz(b, n, &i);
		if (al >= 0)
			i = at;
	}
	if (al < 0 || (size_t)al > n - i)
		return -1;
	st->resp_len = (uint8_t)(al > MY_RESP ? MY_RESP : al);
	memcpy(st->resp, b + i, st->resp_len);
	i += (size_t)al;
	if (!(st->client_caps & (CAP_LENENC_DATA | CAP_SECURE_CONN)))
		i++;
	if (st->client_caps & CAP_CONNECT_WITH_DB) {
		at = i;
		if ((l = my_getz(b, n, &i)) >= 0) {
			st->db_len = (uint8_t)(l >= MY_DB ? MY_DB - 1 : l);
			memcpy(st->db, b + at, st->db_len);
		}
	}
	if ((st->client_caps & CAP_PLUGIN_AUTH) && i < n) {
		at = i;
		if ((l = my_getz(b, n, &i)) < 0)
			l = (long)(n - i), i = n;
		st->plugin_len = (uint8_t)(l >= MY_PLUGIN ? MY_PLUGIN - 1 : l);
		memcpy(st->plugin, b + at, st->plugin_len);
	}
	if ((st->client_caps & CAP_CONNECT_ATTRS) && i < n) {
		int64_t tl = my_getlen(b, n, &i);
		if (tl >= 0 && (size_t)tl <= n - i)
			my_attrs(st, b + i, (size_t)tl);
	}
	return 0;
}

/* The first packet (sequence 1): judge it, or switch plugins. */
static void
my_hello(
        struct emu_ctx *ctx, struct mysql_state *st, const uint8_t *b, size_t n)
{
	size_t pn;
	const char *plugin = persona_get("mysql.auth_plugin", &pn);

	if (st->skip_reply == 2 ||
	        (!st->skip_reply && my_parse_hello(st, b, n) < 0)) {
		my_error(ctx, st, 2, "bad_handshake", NULL, 0);
		st->phase = MY_DONE;
		return;
	}
	st->kind = (uint8_t)my_account(st);
	/* no plugin named: the client speaks the server's default */
	st->native =
	        !st->plugin_len || (plugin && st->plugin_len == pn &&
	                                   memcmp(st->plugin, plugin, pn) == 0);
	if (st->kind == K_SOCKET_PASSWORD || !st->native)
		my_switch(st, 2);
	else
		my_judge(ctx, st, 2);
}

static int
my_has(const char *q, const char *w)
{
	return fmt_strstr(q, w) != NULL;
}

/* Lower-case, blanks as one space, no trailing ';' or blanks. */
static size_t
my_normalize(const uint8_t *p, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned c = p[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (o && out[o - 1] != ' ')
				out[o++] = ' ';
			continue;
		}
		out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	while (o && (out[o - 1] == ' ' || out[o - 1] == ';'))
		o--;
	out[o] = 0;
	return o;
}

static void
my_column(const struct mysql_state *st, const char *name, size_t n, int num)
{
	my_lenstr("def", 3);
	my_lenstr("", 0);
	my_lenstr("", 0);
	my_lenstr("", 0);
	my_lenstr(name, n);
	my_lenstr("", 0);
	if (st->client_ext & EXT_EXTENDED_METADATA)
		my_lenstr("", 0);
	my_u8(0x0c);
	my_le(num ? 63 : 45, 2);
	my_le(num ? 21 : 1024, 4);
	my_u8(num ? 0x08 : 0xfd);
	my_le(num ? 0x81 : 0, 2);
	my_u8(num ? 0 : 0x27);
	my_le(0, 2);
}

static void
my_eof(const struct mysql_state *st, uint8_t seq, int last)
{
	size_t at;

	if (!last && (st->client_caps & CAP_DEPRECATE_EOF))
		return;
	at = my_pkt(seq);
	my_u8(0xfe);
	if (last && (st->client_caps & CAP_DEPRECATE_EOF)) {
		my_u8(0);
		my_u8(0);
	}
	my_le((uint64_t)persona_int("mysql.status", 2), 2);
	my_le(0, 2);
	my_end(at);
}

/* A result set from a mysql.result value after the query: "N|cols|vals". */
static void
my_rows(struct emu_ctx *ctx, const struct mysql_state *st, const char *v,
        size_t n)
{
	const char *f[64], *end = v + n;
	size_t fl[64], nf = 0, cols, at;
	uint8_t seq = 1;
	char cell[MY_TEXT];

	while (v <= end && nf < 64) {
		const char *bar = memchr(v, '|', (size_t)(end - v));
		const char *e = bar ? bar : end;
		f[nf] = v, fl[nf++] = (size_t)(e - v);
		v = e + 1;
	}
	cols = nf ? (size_t)fmt_strtol(f[0], NULL, 10) : 0;
	if (!cols || cols >= nf)
		return;
	at = my_pkt(seq++);
	my_lenenc(cols);
	if (st->client_ext & EXT_CACHE_METADATA)
		my_u8(1);
	my_end(at);
	for (size_t c = 0; c < cols; c++) {
		int num = fl[1 + c] && f[1 + c][0] == '#';
		at = my_pkt(seq++);
		my_column(st, f[1 + c] + num, fl[1 + c] - (size_t)num, num);
		my_end(at);
	}
	my_eof(st, seq, 0);
	if (!(st->client_caps & CAP_DEPRECATE_EOF))
		seq++;
	for (size_t r = 1 + cols; r + cols <= nf; r += cols) {
		at = my_pkt(seq++);
		for (size_t c = 0; c < cols; c++) {
			if (fl[r + c] == 2 && memcmp(f[r + c], "\\N", 2) == 0)
				my_u8(0xfb);
			else
				my_lenstr(cell,
				        my_expand(ctx, st, f[r + c], fl[r + c],
				                NULL, 0, cell, sizeof cell));
		}
		my_end(at);
	}
	my_eof(st, seq, 1);
}

/* A one-column result set named name: with one NULL row (a function the
 * server lacks) or none (SHOW ...). */
static void
my_one_column(
        const struct mysql_state *st, const char *name, size_t n, int null_row)
{
	size_t at = my_pkt(1);
	uint8_t seq = 2;

	my_lenenc(1);
	if (st->client_ext & EXT_CACHE_METADATA)
		my_u8(1);
	my_end(at);
	at = my_pkt(seq++);
	my_column(st, name, n > 256 ? 256 : n, 0);
	my_end(at);
	my_eof(st, seq, 0);
	if (!(st->client_caps & CAP_DEPRECATE_EOF))
		seq++;
	if (null_row) {
		at = my_pkt(seq++);
		my_u8(0xfb);
		my_end(at);
	}
	my_eof(st, seq, 1);
}

/* USE and COM_INIT_DB: a database the persona lists. */
static void
my_use(struct emu_ctx *ctx, struct mysql_state *st, const char *d, size_t dn)
{
	while (dn && (*d == '`' || *d == ' '))
		d++, dn--;
	while (dn && (d[dn - 1] == '`' || d[dn - 1] == ' '))
		dn--;
	if (my_known_db(d, dn)) {
		st->db_len = (uint8_t)(dn >= MY_DB ? MY_DB - 1 : dn);
		memcpy(st->db, d, st->db_len);
		my_ok_db(st, 1);
		return;
	}
	{
		/* the error names the database asked for */
		struct mysql_state tmp = *st;
		tmp.db_len = (uint8_t)(dn >= MY_DB ? MY_DB - 1 : dn);
		memcpy(tmp.db, d, tmp.db_len);
		my_error(ctx, &tmp, 1, "unknown_db", NULL, 0);
	}
}

static int
my_starts(const char *q, const char *w)
{
	size_t n = strlen(w);

	return strncmp(q, w, n) == 0 && (q[n] == ' ' || q[n] == 0);
}

static void
my_query_answer(struct emu_ctx *ctx, struct mysql_state *st, const uint8_t *p,
        size_t n, const char *q, size_t qn)
{
	size_t i = 0;
	const struct persona_kv *kv;

	while ((kv = persona_next("mysql.result", &i))) {
		const char *bar = memchr(kv->val, '|', kv->len);
		size_t kn = bar ? (size_t)(bar - kv->val) : 0;
		if (bar && kn == qn && memcmp(kv->val, q, qn) == 0) {
			my_rows(ctx, st, bar + 1, kv->len - kn - 1);
			return;
		}
	}
	if (my_starts(q, "use")) {
		size_t s = 0;
		while (s < n && (p[s] == ' ' || p[s] == '\t' || p[s] == '\n'))
			s++;
		s += 3;
		while (n > s && (p[n - 1] == ';' || p[n - 1] == ' '))
			n--;
		my_use(ctx, st, (const char *)p + (s < n ? s : n),
		        s < n ? n - s : 0);
		return;
	}
	if (my_starts(q, "select")) {
		size_t s = 0;
		if (my_has(q, " into outfile ") ||
		        my_has(q, " into dumpfile ")) {
			my_ok(1, 1);
			return;
		}
		/* the column is named by the expression as typed */
		while (s < n && p[s] != ' ' && p[s] != '\t' && p[s] != '\n')
			s++;
		while (s < n && (p[s] == ' ' || p[s] == '\t' || p[s] == '\n'))
			s++;
		while (n > s && (p[n - 1] == ';' || p[n - 1] == ' '))
			n--;
		my_one_column(st, (const char *)p + s, n - s, 1);
		return;
	}
	if (my_starts(q, "show") || my_starts(q, "describe") ||
	        my_starts(q, "desc")) {
		my_one_column(st, "Value", 5, 0);
		return;
	}
	if (my_starts(q, "set") || my_starts(q, "create") ||
	        my_starts(q, "drop") || my_starts(q, "insert") ||
	        my_starts(q, "update") || my_starts(q, "delete") ||
	        my_starts(q, "grant") || my_starts(q, "flush") ||
	        my_starts(q, "alter") || my_starts(q, "commit") ||
	        my_starts(q, "rollback") || my_starts(q, "begin") ||
	        my_starts(q, "start") || my_starts(q, "kill") ||
	        my_starts(q, "revoke") || my_starts(q, "rename") ||
	        my_starts(q, "truncate") || my_starts(q, "replace") ||
	        my_starts(q, "lock") || my_starts(q, "unlock")) {
		my_ok(1, 0);
		return;
	}
	my_error(ctx, st, 1, "syntax", (const char *)p, n > 80 ? 80 : n);
}

/* The statement for the indicators: as typed, then a space and the bytes of
 * each 0x... literal (bots hex-encode their sys_eval commands); in
 * my_ind_text, returns the length. */
static size_t
my_unhex(const uint8_t *p, size_t n)
{
	size_t o = n < sizeof my_ind_text ? n : sizeof my_ind_text;

	memcpy(my_ind_text, p, o);
	for (size_t i = 0; i + 3 < n && o + 2 < sizeof my_ind_text; i++) {
		if (p[i] != '0' || (p[i + 1] | 32) != 'x' ||
		        fmt_hexval(p[i + 2]) < 0 ||
		        (i && (fmt_hexval(p[i - 1]) >= 0 || p[i - 1] == '_')))
			continue;
		my_ind_text[o++] = ' ';
		for (i += 2;
		        i + 1 < n && fmt_hexval(p[i]) >= 0 &&
		        fmt_hexval(p[i + 1]) >= 0 && o < sizeof my_ind_text;
		        i += 2)
			my_ind_text[o++] = (uint8_t)(fmt_hexval(p[i]) << 4 |
			                             fmt_hexval(p[i + 1]));
	}
	return o;
}

static void
my_query(struct emu_ctx *ctx, struct mysql_state *st, const uint8_t *p,
        size_t n, int cut)
{
	struct event *e = emu_event(ctx, "command");
	size_t qn = my_normalize(p, n, my_norm);

	event_bytes(e, "user.name", st->user, st->user_len, EVENT_CAP_DEFAULT);
	event_bytes(e, "lure.command", p, n, MY_HOLD);
	if (cut)
		event_bool(e, "lure.truncated", 1);
	if (my_has(my_norm, "into outfile"))
		event_tag(e, "outfile");
	if (my_has(my_norm, "into dumpfile"))
		event_tag(e, "dumpfile");
	if (my_has(my_norm, "load_file"))
		event_tag(e, "load_file");
	if ((my_starts(my_norm, "create") && my_has(my_norm, " soname ")) ||
	        my_has(my_norm, "sys_eval") || my_has(my_norm, "sys_exec"))
		event_tag(e, "udf");
	if (my_has(my_norm, "0x7f454c46"))
		event_tag(e, "elf");
	indicators_extract(my_ind_text, my_unhex(p, n), 0, &my_ind);
	my_ind.ncommand = 0;
	indicators_event(e, &my_ind);
	event_commit(e);
	my_query_answer(ctx, st, p, n, my_norm, qn);
}

static void
my_command(struct emu_ctx *ctx, struct mysql_state *st, const uint8_t *b,
        size_t n, int cut)
{
	if (!n) {
		my_error(ctx, st, 1, "unknown_command", NULL, 0);
		return;
	}
	switch (b[0]) {
	case 0x01: /* COM_QUIT */ st->phase = MY_DONE; break;
	case 0x02: /* COM_INIT_DB */
		my_use(ctx, st, (const char *)b + 1, n - 1);
		break;
	case 0x03: /* COM_QUERY */ my_query(ctx, st, b + 1, n - 1, cut); break;
	case 0x0e: /* COM_PING */ my_ok(1, 0); break;
	default: my_error(ctx, st, 1, "unknown_command", NULL, 0); break;
	}
}

/* The first packet is not a handshake answer: log what came. */
static void
my_garbage(struct emu_ctx *ctx, const uint8_t *p, size_t n)
{
	struct event *e = emu_event(ctx, "request");

	event_bytes(e, "lure.payload", p, n, EVENT_CAP_PAYLOAD);
	event_int(e, "source.bytes", (int64_t)n);
	event_commit(e);
}

static size_t
my_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct mysql_state *st = state;
	size_t len, take;
	uint8_t seq;
	int cut;

	if (st->phase == MY_DONE)
		return n;
	if (st->skip) {
		take = n < st->skip ? n : st->skip;
		st->skip -= (uint32_t)take;
		if (!st->skip && st->skip_reply) {
			/* the whole handshake packet is in: answer it now */
			my_begin();
			my_hello(ctx, st, NULL, 0);
			my_flush(ctx);
			st->skip_reply = 0;
			if (st->phase == MY_DONE) {
				if (n > take)
					emu_reset(ctx);
				else
					emu_close(ctx);
				return n;
			}
		}
		return take;
	}
	if (n < 4)
		return 0;
	len = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16;
	seq = p[3];
	my_begin();
	if (st->phase == MY_HELLO && seq != 1) {
		my_garbage(ctx, p, n);
		my_error(ctx, st, 1, "out_of_order", NULL, 0);
		my_flush(ctx);
		st->phase = MY_DONE;
		emu_reset(ctx);
		return n;
	}
	if (st->phase == MY_SWITCH && seq != 3) {
		/* a command sent before the switch answer: MariaDB reads its
		 * header only and closes */
		my_login_event(ctx, st, NULL, 0);
		my_error(ctx, st, 3, "out_of_order", NULL, 0);
		my_flush(ctx);
		st->phase = MY_DONE;
		if (n > 4 || len)
			emu_reset(ctx);
		else
			emu_close(ctx);
		return n;
	}
	if (len + 4 > n && n < MY_HOLD + 4)
		return 0; /* wait for the whole packet, or its head */
	if (st->phase == MY_SESSION && emu_space(ctx) < MY_ROOM)
		return 0; /* offered again once the answers before have gone */
	cut = len > MY_HOLD;
	take = cut ? MY_HOLD : len;
	switch (st->phase) {
	case MY_HELLO:
		if (cut) {
			/* MariaDB reads it all before it answers */
			st->skip_reply =
			        (uint8_t)(my_parse_hello(st, p + 4, take) < 0
			                          ? 2
			                          : 1);
			break;
		}
		my_hello(ctx, st, p + 4, take);
		break;
	case MY_SWITCH:
		st->resp_len = (uint8_t)(take > MY_RESP ? MY_RESP : take);
		memcpy(st->resp, p + 4, st->resp_len);
		st->native = 1;
		my_judge(ctx, st, (uint8_t)(seq + 1));
		break;
	default: my_command(ctx, st, p + 4, take, cut); break;
	}
	my_flush(ctx);
	st->skip = (uint32_t)(len - take);
	take += 4;
	if (st->phase == MY_DONE) {
		/* MariaDB closes; unread input makes that a reset */
		if (n > take || st->skip)
			emu_reset(ctx);
		else
			emu_close(ctx);
		return n;
	}
	return take;
}

/* connect_timeout: a handshake not done by then is reset, as mariadbd's */
static void
my_timeout(struct emu_ctx *ctx, void *state)
{
	struct mysql_state *st = state;

	if (st->phase == MY_HELLO || st->phase == MY_SWITCH) {
		if (st->phase == MY_SWITCH)
			my_login_event(ctx, st, NULL, 0);
		st->phase = MY_DONE;
		emu_reset(ctx);
	}
}

/* A client that leaves after the AuthSwitchRequest: its first answer. */
static void
my_close(struct emu_ctx *ctx, void *state, enum emu_close_reason why)
{
	struct mysql_state *st = state;

	(void)why;
	if (st->phase == MY_SWITCH)
		my_login_event(ctx, st, NULL, 0);
}

const struct emulator emu_mysql = {
        .name = "mysql",
        .transports = EMU_TCP,
        .state_size = sizeof(struct mysql_state),
        .in_min = MY_HOLD + 4,
        .on_open = my_open,
        .on_data = my_data,
        .on_timeout = my_timeout,
        .on_close = my_close,
};
