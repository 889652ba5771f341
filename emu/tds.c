/* tds.c: Microsoft SQL Server's TDS on 1433/tcp as SQL Server 2019 (RTM,
 * 15.0.2000.5, default instance, default settings) answers before a login:
 * PRELOGIN ([MS-TDS] 2.2.6.5) with the persona's version and the
 * encryption SQL Server picks for the client's choice, the TLS handshake
 * the client wraps in PRELOGIN packets (src/emu.h: emu_tls_*), LOGIN7
 * (2.2.6.4; in TLS, as clients send it when the server answers
 * ENCRYPT_OFF or ENCRYPT_ON) parsed into a "login" event with the
 * password de-obfuscated, then error 18456 "Login failed for user" (ERROR
 * and DONE tokens, 2.2.7.9 and 2.2.7.6) and a close. Integrated
 * authentication: the NTLMSSP NEGOTIATE in LOGIN7's SSPI data answered
 * with an SSPI token (0xED) holding the CHALLENGE (src/ntlm.c: the
 * persona's target information, what nmap's ms-sql-ntlm-info reads), the
 * AUTHENTICATE of the SSPI message (type 0x11) into a "login" event with
 * the NetNTLMv2 hash, then error 18452.
 *
 * Persona keys (tds.conf). Byte strings are wire bytes.
 *   tds.version       [required] PRELOGIN's VERSION (6 bytes: major,
 *                     minor, build big-endian, sub-build)
 *   tds.instance      the instance name that PRELOGIN's INSTOPT matches
 *                     (case-insensitively; an empty one matches too)
 *   tds.server_name   the ServerName of ERROR tokens (${identity}
 *                     expanded; ASCII)
 *   tds.login_error   the error number of a failed SQL login (18456)
 *   tds.login_text    its message, %s: the user name as the client sent it
 *   tds.sspi_error    the error number of a failed integrated login
 *   tds.sspi_text     its message
 *   tds.error_state   the errors' State (1: what clients are told)
 *   tds.error_class   their Class (severity, 14)
 *   tds.login_timeout_ms  a connection not done with its login by then
 *                     (from accept) is closed; this bounds the TLS
 *                     session a stalled handshake holds (default 60000)
 *   (ntlm.* keys: src/ntlm.h)
 *
 * Events. "request" per PRELOGIN: lure.tds.type (PRELOGIN),
 * lure.tds.client_version (its VERSION, a.b.c.d), lure.tds.encryption
 * (the client's: off, on, not_sup, req, or a number) and
 * lure.tds.encryption_answer, lure.tds.instance, lure.tds.mars; per
 * LOGIN7 that starts an integrated login: the LOGIN7 fields below and
 * lure.auth.ntlm.message, lure.auth.ntlm.client_version; per packet of
 * another type or out of place: lure.tds.type (its number), lure.payload,
 * error.message. "login" per SQL login: user.name, lure.auth.password (the
 * password de-obfuscated), lure.auth.method (sql), lure.tds.hostname,
 * lure.tds.app, lure.tds.server (the server name the client used),
 * lure.tds.library (CltIntName), lure.tds.database, lure.tds.language,
 * lure.tds.client_pid, lure.tds.client_version (ClientProgVer, hex),
 * lure.tds.version (the TDS version, hex: 74000004 is 7.4), lure.tds.tls
 * (the LOGIN7 came in TLS), event.outcome failure; per integrated login
 * (the AUTHENTICATE): user.name, user.domain, lure.tds.workstation,
 * lure.auth.method (ntlmv2...), lure.auth.ntlm.hash (hashcat 5600),
 * lure.tds.hostname, lure.tds.app, event.outcome failure.
 *
 * Sources (no SQL Server here to compare with): [MS-TDS] 2.2.3.1 (the
 * packet header), 2.2.6.5 (PRELOGIN, and the encryption table of
 * 2.2.6.5's ENCRYPTION: a server whose "Force Encryption" is off answers
 * OFF to OFF, ON to ON, NOT_SUP to NOT_SUP; with OFF the LOGIN7 alone is
 * in TLS, 3.3.5.3), 2.2.6.4 (LOGIN7 and its password scrambling),
 * 2.2.7.9/2.2.7.6 (ERROR, DONE; LineNumber and DoneRowCount are 4 and 8
 * bytes from TDS 7.2, 2 and 4 before); nmap's service database (the
 * ms-sql-s probe sends VERSION, ENCRYPTION, INSTOPT, THREADID and its
 * "Microsoft SQL Server 2019" line matches the answer with those four,
 * THREADID empty: SQL Server answers the options it was sent); impacket's
 * tds.py (the handshake in PRELOGIN packets, the 0xED SSPI token);
 * test/persona/test_windows_tds.py runs nmap, impacket's mssqlclient and
 * FreeTDS's tsql against it.
 *
 * TLS: the persona line needs "starttls" (tds.conf), and the build a TLS
 * server; without (test drivers, TLS=none) PRELOGIN answers NOT_SUP, as a
 * server without a certificate would. State: 148 bytes per connection,
 * plus a TLS session of the tls ports' pool (src/tls.h) from the
 * handshake to the LOGIN7 (ENCRYPT_OFF) or the close (ENCRYPT_ON).
 *
 * Not modelled: anything after a login (every login fails); TDS 8.0
 * (strict encryption, SQL Server 2022: a bare ClientHello is read as a
 * TDS header and waits); "Force Encryption" (ENCRYPT_REQ); PRELOGIN's
 * TRACEID, FEDAUTHREQUIRED and NONCEOPT (not answered), FEDAUTH logins; a
 * LOGIN7 over several TDS packets or TLS records (logged, closed);
 * SPNEGO's final round (a NEGOTIATE in a negTokenInit, Windows clients'
 * Negotiate package, gets the CHALLENGE in a negTokenResp; the failure
 * is the error, no reject token); Kerberos; the SPID (0 in every answer); a busy TLS
 * pool (no session: the handshake fails and the connection closes). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "emu.h"
#include "event.h"
#include "lure.h"
#include "ntlm.h"
#include "persona.h"

#define TDS_HDR 8
#define TDS_PKT 4096 /* the largest packet taken: the default packet size */
#define TDS_REC (TDS_PKT + 512) /* a TLS record with such a packet */
#define TDS_OUT 8192 /* the largest answer (a TLS flight), before framing */
#define TDS_NAME 128 /* characters of a LOGIN7 field kept (sysname) */
#define TDS_KEEP 64 /* UTF-8 bytes of host and app kept for NTLM's login */

/* packet types (2.2.3.1.1) */
#define PT_BATCH 0x01
#define PT_REPLY 0x04
#define PT_LOGIN7 0x10
#define PT_SSPI 0x11
#define PT_PRELOGIN 0x12

/* PRELOGIN options and ENCRYPTION values (2.2.6.5) */
enum { PO_VERSION, PO_ENCRYPTION, PO_INSTOPT, PO_THREADID, PO_MARS };
enum { ENC_OFF, ENC_ON, ENC_NOT_SUP, ENC_REQ };

enum tds_phase {
	TP_NEW, /* PRELOGIN or LOGIN7 */
	TP_SHAKE, /* TLS handshake in PRELOGIN packets */
	TP_LOGIN, /* LOGIN7 (plain, or in records when rec) */
	TP_SSPI, /* the CHALLENGE is out: the SSPI message */
	TP_DONE
};

struct tds_state {
	uint8_t phase;
	uint8_t enc; /* the answered ENCRYPTION */
	uint8_t rec; /* input comes as TLS records */
	uint8_t tls_all; /* ENCRYPT_ON: answers go in TLS too */
	uint8_t in_tls; /* the LOGIN7 came in TLS */
	uint32_t tdsver; /* LOGIN7's TDSVersion */
	uint8_t chal[8];
	char host[TDS_KEEP], app[TDS_KEEP];
};
_Static_assert(sizeof(struct tds_state) <= 1024, "tds_state grew");

static uint8_t tds_out[TDS_OUT]; /* an answer being built */
static uint8_t tds_wire[TDS_OUT + 512]; /* the same framed or in TLS */
static uint8_t tds_plain[TDS_REC]; /* a record's plaintext */

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
tds_header(uint8_t *b, uint8_t type, uint8_t status, size_t len, uint8_t id)
{
	b[0] = type;
	b[1] = status;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[4] = b[5] = 0; /* SPID */
	b[6] = id;
	b[7] = 0;
}

/* Bytes to the client: as they are, or in TLS (ENCRYPT_ON). */
static int
tds_emit(struct emu_ctx *ctx, struct tds_state *st, const uint8_t *b, size_t n)
{
	int k;

	if (!st->tls_all)
		return emu_send(ctx, b, n);
	k = emu_tls_write(ctx, b, n, tds_wire, sizeof tds_wire);
	return k < 0 ? -1 : emu_send(ctx, tds_wire, (size_t)k);
}

/* payload p[0..n) as packets of type: 4,096 bytes at most each */
static int
tds_send(struct emu_ctx *ctx, struct tds_state *st, uint8_t type,
        const uint8_t *p, size_t n)
{
	static uint8_t pkt[TDS_PKT];
	uint8_t id = 1;

	do {
		size_t k = LURE_MIN(n, (size_t)TDS_PKT - TDS_HDR);

		tds_header(pkt, type, k == n, k + TDS_HDR, id++);
		memcpy(pkt + TDS_HDR, p, k);
		if (tds_emit(ctx, st, pkt, k + TDS_HDR) < 0)
			return -1;
		p += k;
		n -= k;
	} while (n);
	return 0;
}

static const char *
tds_enc_name(unsigned v)
{
	static const char *const n[] = {"off", "on", "not_sup", "req"};

	return v < 4 ? n[v] : NULL;
}

/* A packet that is not what comes here now: logged, then a close (what
 * SQL Server does with a protocol error before a login). */
static void
tds_garbage(struct emu_ctx *ctx, const uint8_t *p, size_t n, const char *why)
{
	struct event *e = emu_event(ctx, "request");

	if (n)
		event_int(e, "lure.tds.type", p[0]);
	event_str(e, "error.message", why);
	event_bytes(e, "lure.payload", p, n, 256);
	event_int(e, "source.bytes", (int64_t)n);
	event_commit(e);
	emu_close(ctx);
}

/* --- PRELOGIN ------------------------------------------------------------ */

static void
tds_prelogin(
        struct emu_ctx *ctx, struct tds_state *st, const uint8_t *p, size_t n)
{
	/* the client's options present, and their data (offset, length) */
	uint16_t off[PO_MARS + 1] = {0}, len[PO_MARS + 1] = {0};
	uint8_t sent = 0, cenc = ENC_OFF, b[64], *d;
	size_t i = 0, vl = 0, nopt = 0, dl = 0;
	const char *ver = persona_get("tds.version", &vl);
	const char *inst = persona_get("tds.instance", NULL);
	char name[64] = "", cv[48] = "";
	struct event *e;

	/* [MS-TDS]'s server "Initial State": a PRELOGIN whose first
	 * option is not VERSION closes the connection */
	if (!n || p[0] != PO_VERSION) {
		tds_garbage(ctx, p, n, "bad PRELOGIN");
		return;
	}
	while (i < n && p[i] != 0xff) {
		if (n - i < 5) {
			tds_garbage(ctx, p, n, "bad PRELOGIN");
			return;
		}
		unsigned t = p[i], o = be16(p + i + 1), l = be16(p + i + 3);

		if (o > n || l > n - o) {
			tds_garbage(ctx, p, n, "bad PRELOGIN");
			return;
		}
		if (t <= PO_MARS) {
			sent |= (uint8_t)(1u << t);
			off[t] = (uint16_t)o;
			len[t] = (uint16_t)l;
		}
		i += 5;
	}
	if (len[PO_ENCRYPTION])
		cenc = p[off[PO_ENCRYPTION]] & 0x0f; /* without CLIENT_CERT */
	/* 2.2.6.5: "Force Encryption" off; no TLS here: a server without
	 * a certificate (NOT_SUP) */
	st->enc = cenc == ENC_REQ ? ENC_ON : cenc > ENC_REQ ? ENC_OFF : cenc;
	if (!emu_tls_able(ctx))
		st->enc = ENC_NOT_SUP;
	if (len[PO_INSTOPT]) {
		size_t l = strnlen(
		        (const char *)p + off[PO_INSTOPT], len[PO_INSTOPT]);

		l = LURE_MIN(l, sizeof name - 1);
		memcpy(name, p + off[PO_INSTOPT], l);
		name[l] = 0;
	}
	if (len[PO_VERSION] >= 6) {
		const uint8_t *v = p + off[PO_VERSION];

		snprintf(cv, sizeof cv, "%u.%u.%u.%u", v[0], v[1], be16(v + 2),
		        bytes_le16(v + 4));
	}
	e = emu_event(ctx, "request");
	event_str(e, "lure.tds.type", "PRELOGIN");
	if (cv[0])
		event_str(e, "lure.tds.client_version", cv);
	if (len[PO_ENCRYPTION]) {
		if (tds_enc_name(cenc))
			event_str(e, "lure.tds.encryption", tds_enc_name(cenc));
		else
			event_int(e, "lure.tds.encryption",
			        p[off[PO_ENCRYPTION]]);
	}
	event_str(e, "lure.tds.encryption_answer", tds_enc_name(st->enc));
	if (len[PO_INSTOPT])
		event_bytes(e, "lure.tds.instance", name, strlen(name), 64);
	if (len[PO_MARS])
		event_int(e, "lure.tds.mars", p[off[PO_MARS]]);
	event_commit(e);

	/* the answer: the options the client sent (VERSION and ENCRYPTION
	 * always), THREADID empty */
	sent |= 1u << PO_VERSION | 1u << PO_ENCRYPTION;
	for (unsigned t = 0; t <= PO_MARS; t++)
		nopt += sent >> t & 1;
	d = b + nopt * 5 + 1;
	for (unsigned t = 0, k = 0; t <= PO_MARS; t++) {
		size_t l = 0;
		uint8_t *q = d + dl;

		if (!(sent >> t & 1))
			continue;
		if (t == PO_VERSION) {
			l = LURE_MIN(vl, (size_t)6);
			memcpy(q, ver, l);
		} else if (t == PO_ENCRYPTION) {
			*q = st->enc, l = 1;
		} else if (t == PO_INSTOPT) {
			*q = name[0] && inst && strcasecmp(name, inst) != 0;
			l = 1;
		} else if (t == PO_MARS) {
			*q = len[PO_MARS] && p[off[PO_MARS]] == 1;
			l = 1;
		}
		b[k * 5] = (uint8_t)t;
		b[k * 5 + 1] = (uint8_t)((d - b + dl) >> 8);
		b[k * 5 + 2] = (uint8_t)(d - b + dl);
		b[k * 5 + 3] = 0;
		b[k * 5 + 4] = (uint8_t)l;
		dl += l;
		k++;
	}
	b[nopt * 5] = 0xff;
	if (tds_send(ctx, st, PT_REPLY, b, (size_t)(d - b) + dl) < 0) {
		emu_close(ctx);
		return;
	}
	st->phase = st->enc == ENC_NOT_SUP ? TP_LOGIN : TP_SHAKE;
}

/* A PRELOGIN packet of the TLS handshake: its TLS bytes in, the server's
 * answer out in PRELOGIN packets. */
static void
tds_shake(struct emu_ctx *ctx, struct tds_state *st, const uint8_t *p, size_t n)
{
	size_t k = 0;
	int r = emu_tls_shake(ctx, p, n, tds_out, sizeof tds_out, &k);

	if (r < 0) {
		struct event *e = emu_event(ctx, "request");

		event_str(e, "lure.tds.type", "PRELOGIN");
		event_str(e, "error.message", "TLS handshake failed");
		event_commit(e);
		emu_close(ctx);
		return;
	}
	if (k && tds_send(ctx, st, PT_PRELOGIN, tds_out, k) < 0) {
		emu_close(ctx);
		return;
	}
	if (r == 1) {
		st->phase = TP_LOGIN;
		st->rec = 1;
		st->tls_all = st->enc == ENC_ON;
	}
}

/* --- LOGIN7 -------------------------------------------------------------- */

/* LOGIN7's field whose offset and length (characters) are at p + at:
 * *len bytes of UTF-16LE, NULL when out of bounds or empty */
static const uint8_t *
tds_field(const uint8_t *p, size_t n, size_t at, size_t *len)
{
	size_t o = bytes_le16(p + at), l = 2u * bytes_le16(p + at + 2);

	*len = 0;
	if (!l || o > n || l > n - o)
		return NULL;
	*len = LURE_MIN(l, (size_t)2 * TDS_NAME);
	return p + o;
}

/* the field as UTF-8 in out (cap bytes); its length */
static size_t
tds_utf8(const uint8_t *p, size_t n, size_t at, char *out, size_t cap)
{
	size_t l;
	const uint8_t *f = tds_field(p, n, at, &l);

	return f ? ntlm_utf8(f, l, out, cap) : 0;
}

static void
tds_text(
        struct event *e, const uint8_t *p, size_t n, size_t at, const char *key)
{
	char s[3 * TDS_NAME + 1];
	size_t l = tds_utf8(p, n, at, s, sizeof s);

	if (l)
		event_bytes(e, key, s, l, sizeof s);
}

/* LOGIN7's fields but the credentials */
static void
tds_login_fields(
        struct event *e, struct tds_state *st, const uint8_t *p, size_t n)
{
	char v[16];

	tds_text(e, p, n, 36, "lure.tds.hostname");
	tds_text(e, p, n, 48, "lure.tds.app");
	tds_text(e, p, n, 52, "lure.tds.server");
	tds_text(e, p, n, 60, "lure.tds.library");
	tds_text(e, p, n, 64, "lure.tds.language");
	tds_text(e, p, n, 68, "lure.tds.database");
	event_int(e, "lure.tds.client_pid", bytes_le32(p + 16));
	snprintf(v, sizeof v, "%08x", (unsigned)bytes_le32(p + 12));
	event_str(e, "lure.tds.client_version", v);
	snprintf(v, sizeof v, "%08x", (unsigned)st->tdsver);
	event_str(e, "lure.tds.version", v);
	event_bool(e, "lure.tds.tls", st->in_tls);
}

/* ERROR number (text: UTF-16LE t[0..tn)) and DONE with the error flag */
static void
tds_fail(struct emu_ctx *ctx, struct tds_state *st, long number,
        const uint8_t *t, size_t tn)
{
	uint8_t srv[2 * 128], *b = tds_out;
	size_t sn = ntlm_utf16("tds.server_name", srv, sizeof srv), i = 3;
	int wide = st->tdsver >> 24 >= 0x72 || !st->tdsver;

	b[0] = 0xaa; /* ERROR */
	bytes_put32(b + i, (uint32_t)number);
	b[i + 4] = (uint8_t)persona_int("tds.error_state", 1);
	b[i + 5] = (uint8_t)persona_int("tds.error_class", 14);
	bytes_put16(b + i + 6, (uint32_t)tn / 2);
	memcpy(b + i + 8, t, tn);
	i += 8 + tn;
	b[i++] = (uint8_t)(sn / 2);
	memcpy(b + i, srv, sn);
	i += sn;
	b[i++] = 0; /* ProcName */
	bytes_put32(b + i, 1); /* LineNumber */
	i += wide ? 4 : 2;
	bytes_put16(b + 1, (uint32_t)(i - 3));
	b[i] = 0xfd; /* DONE: DONE_ERROR, no command, no rows */
	memset(b + i + 1, 0, 12);
	b[i + 1] = 2;
	i += wide ? 13 : 9;
	(void)tds_send(ctx, st, PT_REPLY, b, i);
	st->phase = TP_DONE;
	emu_close(ctx);
}

/* a persona message as UTF-16LE in out, "%s" replaced by u[0..un) */
static size_t
tds_message(
        const char *key, const uint8_t *u, size_t un, uint8_t *out, size_t cap)
{
	size_t ml = 0, o = 0;
	const char *m = persona_get(key, &ml);

	for (size_t i = 0; m && i < ml && o + 2 <= cap; i++) {
		if (m[i] == '%' && i + 1 < ml && m[i + 1] == 's') {
			size_t k = LURE_MIN(un, (cap - o) & ~(size_t)1);

			if (k)
				memcpy(out + o, u, k);
			o += k;
			i++;
			continue;
		}
		out[o++] = (uint8_t)m[i];
		out[o++] = 0;
	}
	return o;
}

/* error 18452: an integrated login refused */
static void
tds_sspi_fail(struct emu_ctx *ctx, struct tds_state *st)
{
	uint8_t msg[512];
	size_t l = tds_message("tds.sspi_text", NULL, 0, msg, sizeof msg);

	tds_fail(ctx, st, persona_int("tds.sspi_error", 18452), msg, l);
}

static void
tds_sql_login(
        struct emu_ctx *ctx, struct tds_state *st, const uint8_t *p, size_t n)
{
	uint8_t pw[2 * TDS_NAME], msg[1024];
	char s[3 * TDS_NAME + 1];
	size_t ul, pl, l;
	const uint8_t *u = tds_field(p, n, 40, &ul);
	const uint8_t *w = tds_field(p, n, 44, &pl);
	struct event *e = emu_event(ctx, "login");

	if ((l = tds_utf8(p, n, 40, s, sizeof s)))
		event_bytes(e, "user.name", s, l, sizeof s);
	else
		event_str(e, "user.name", "");
	for (size_t i = 0; i < pl; i++) { /* 2.2.6.4: XOR 0xA5, nibbles */
		uint8_t x = w[i] ^ 0xa5;

		pw[i] = (uint8_t)(x << 4 | x >> 4);
	}
	l = ntlm_utf8(pw, pl, s, sizeof s);
	event_bytes(e, "lure.auth.password", s, l, sizeof s);
	event_str(e, "lure.auth.method", "sql");
	tds_login_fields(e, st, p, n);
	event_str(e, "event.outcome", "failure");
	event_commit(e);
	l = tds_message("tds.login_text", u, u ? ul : 0, msg, sizeof msg);
	tds_fail(ctx, st, persona_int("tds.login_error", 18456), msg, l);
}

static void
tds_login7(
        struct emu_ctx *ctx, struct tds_state *st, const uint8_t *p, size_t n)
{
	static uint8_t chal[3 + 1024];
	size_t so, sl, ml = 0, cl;
	const uint8_t *m;
	struct event *e;

	if (n < 86 || bytes_le32(p) > n) {
		tds_garbage(ctx, p, n, "bad LOGIN7");
		return;
	}
	st->tdsver = bytes_le32(p + 4);
	if (!(p[25] & 0x80)) { /* OptionFlags2: fIntSecurity */
		tds_sql_login(ctx, st, p, n);
		return;
	}
	so = bytes_le16(p + 78);
	sl = bytes_le16(p + 80);
	if (sl == 0xffff && n >= 94)
		sl = bytes_le32(p + 90);
	if (so > n || sl > n - so)
		sl = 0;
	m = sl ? ntlm_find(p + so, sl, &ml) : NULL;
	e = emu_event(ctx, "request");
	event_str(e, "lure.tds.type", "LOGIN7");
	tds_login_fields(e, st, p, n);
	if (!m || ntlm_type(m, ml) != 1) {
		event_str(e, "error.message", "no NTLMSSP NEGOTIATE");
		if (sl)
			event_bytes(e, "lure.payload", p + so, sl, 256);
		event_commit(e);
		tds_sspi_fail(ctx, st);
		return;
	}
	ntlm_negotiate_fields(e, m, ml);
	event_commit(e);
	st->host[tds_utf8(p, n, 36, st->host, sizeof st->host - 1)] = 0;
	st->app[tds_utf8(p, n, 48, st->app, sizeof st->app - 1)] = 0;
	cl = ntlm_challenge(
	        chal + 3, sizeof chal - 3, ntlm_flags(m, ml), st->chal);
	/* Windows's clients (the Negotiate package) wrap it in SPNEGO: the
	 * CHALLENGE goes back wrapped the same way */
	if (cl && ntlm_spnego(p + so, sl))
		cl = ntlm_spnego_resp(
		        chal + 3, sizeof chal - 3, NULL, 0, chal + 3, cl, 1);
	chal[0] = 0xed; /* SSPI */
	bytes_put16(chal + 1, (uint32_t)cl);
	if (tds_send(ctx, st, PT_REPLY, chal, cl + 3) < 0) {
		emu_close(ctx);
		return;
	}
	st->phase = TP_SSPI;
}

static void
tds_sspi(struct emu_ctx *ctx, struct tds_state *st, const uint8_t *p, size_t n)
{
	size_t ml = 0;
	const uint8_t *m = ntlm_find(p, n, &ml);
	struct event *e;

	if (!m || ntlm_type(m, ml) != 3 || ml < 64) {
		tds_garbage(ctx, p, n, "no NTLMSSP AUTHENTICATE");
		return;
	}
	e = emu_event(ctx, "login");
	(void)ntlm_login(e, m, ml, st->chal, "lure.tds.workstation");
	if (st->host[0])
		event_str(e, "lure.tds.hostname", st->host);
	if (st->app[0])
		event_str(e, "lure.tds.app", st->app);
	event_bool(e, "lure.tds.tls", st->in_tls);
	event_str(e, "event.outcome", "failure");
	event_commit(e);
	tds_sspi_fail(ctx, st);
}

/* --- dispatch ------------------------------------------------------------ */

/* One whole packet p[0..n) */
static void
tds_packet(
        struct emu_ctx *ctx, struct tds_state *st, const uint8_t *p, size_t n)
{
	const uint8_t *q = p + TDS_HDR;
	size_t qn = n - TDS_HDR;

	if (p[0] == PT_PRELOGIN && st->phase == TP_NEW) {
		tds_prelogin(ctx, st, q, qn);
		return;
	}
	if (p[0] == PT_PRELOGIN && st->phase == TP_SHAKE) {
		tds_shake(ctx, st, q, qn);
		return;
	}
	if (!(p[1] & 1)) /* more packets of this message to come */ {
		tds_garbage(ctx, p, n, "message over several packets");
		return;
	}
	if (p[0] == PT_LOGIN7 &&
	        (st->phase == TP_NEW || st->phase == TP_LOGIN)) {
		st->in_tls = st->rec;
		if (st->rec && !st->tls_all) { /* ENCRYPT_OFF: LOGIN7 alone */
			st->rec = 0;
			emu_tls_end(ctx);
		}
		tds_login7(ctx, st, q, qn);
		return;
	}
	if (p[0] == PT_SSPI && st->phase == TP_SSPI) {
		tds_sspi(ctx, st, q, qn);
		return;
	}
	tds_garbage(ctx, p, n, "packet out of place");
}

static size_t
tds_records(
        struct emu_ctx *ctx, struct tds_state *st, const uint8_t *p, size_t n)
{
	size_t rl;
	int k;

	if (n < 5)
		return 0;
	rl = 5 + (size_t)be16(p + 3);
	if (p[0] < 0x14 || p[0] > 0x17 || rl > TDS_REC) {
		tds_garbage(ctx, p, LURE_MIN(n, (size_t)64), "not TLS");
		return n;
	}
	if (n < rl)
		return 0;
	k = emu_tls_read(ctx, p, rl, tds_plain, sizeof tds_plain);
	if (k < 0) {
		tds_garbage(ctx, p, 0, "TLS failed");
		return n;
	}
	if (k >= TDS_HDR && be16(tds_plain + 2) >= TDS_HDR &&
	        be16(tds_plain + 2) <= (size_t)k)
		tds_packet(ctx, st, tds_plain, be16(tds_plain + 2));
	else if (k)
		tds_garbage(ctx, tds_plain, (size_t)k,
		        "packet over several TLS records");
	return rl;
}

static size_t
tds_on_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct tds_state *st = state;
	size_t len;

	if (st->phase == TP_DONE)
		return n;
	if (st->rec)
		return tds_records(ctx, st, p, n);
	if (n < TDS_HDR)
		return 0;
	len = be16(p + 2);
	if (len < TDS_HDR || len > TDS_PKT) {
		tds_garbage(ctx, p, LURE_MIN(n, (size_t)256),
		        len < TDS_HDR ? "bad packet length"
		                      : "packet too long");
		return n;
	}
	if (n < len)
		return 0;
	tds_packet(ctx, st, p, len);
	return len;
}

static void
tds_on_open(struct emu_ctx *ctx, void *state)
{
	(void)state;
	emu_timer(ctx, persona_int("tds.login_timeout_ms", 60000));
}

/* tds.login_timeout_ms: a login not done by then ends the connection */
static void
tds_on_timeout(struct emu_ctx *ctx, void *state)
{
	struct tds_state *st = state;

	if (st->phase != TP_DONE) {
		st->phase = TP_DONE;
		emu_close(ctx);
	}
}

const struct emulator emu_tds = {
        .name = "tds",
        .transports = EMU_TCP,
        .state_size = sizeof(struct tds_state),
        .in_min = TDS_REC,
        .on_open = tds_on_open,
        .on_data = tds_on_data,
        .on_timeout = tds_on_timeout,
};
