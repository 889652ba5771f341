/* vnc.c: an RFB (VNC) server up to the end of authentication, as TigerVNC's
 * Xvnc answers (by persona data): the ProtocolVersion, the security types
 * (3.7/3.8) or the one type (3.3), VNC authentication's 16-byte challenge,
 * VeNCrypt's version and sub-type negotiation, and the failures with the
 * daemon's delay, texts and per-address blacklist. Nothing ever logs in:
 * no ServerInit, no frame buffer (see below). A "login" event per
 * challenge response, with the pair in the form crackers take and a guess
 * from a short list of common passwords.
 *
 * Persona keys. Texts are sent as they are (no NUL added); failure reasons
 * go out as RFB strings (a 32-bit length, then the bytes).
 *   vnc.version              [required] the server's ProtocolVersion
 *                            ("RFB 003.008\n")
 *   vnc.types                [required] security types offered to 3.7 and
 *                            3.8 clients, in order (decimal, space-separated:
 *                            "19 2"); 3.3 clients are given 2 (VNC
 *                            authentication). Only 2 and 19 (VeNCrypt) are
 *                            served; another type listed is refused as an
 *                            unlisted one is
 *   vnc.vencrypt.version     VeNCrypt's version, sent when 19 is chosen
 *                            ("\x00\x02": 0.2, the only one served)
 *   vnc.vencrypt.subtypes    VeNCrypt sub-types offered ("2 258": VncAuth,
 *                            TLSVnc), decimal; 2 goes on to the challenge,
 *                            258 (and any other listed) to a TLS
 *                            handshake that fails (vnc.tls_alert and
 *                            vnc.error.tls)
 *   vnc.tls_alert            bytes sent when the input after the TLS
 *                            go-ahead is not a TLS handshake
 *   vnc.error.version        [required] reason sent to a client whose
 *                            major version is not 3; %v: its version as
 *                            the server prints it ("4.0")
 *   vnc.error.auth           [required] reason of a wrong response (3.8)
 *   vnc.error.vencrypt_old vnc.error.vencrypt_bad  reasons after a
 *                            VeNCrypt version 0.0/0.1, or another
 *   vnc.error.vencrypt_subtype  reason for an unlisted sub-type
 *   vnc.error.tls            reason after a failed TLS handshake
 *   vnc.error.blacklisted    [required] reason given to a blacklisted
 *                            address
 *   vnc.blacklisted_version  [required] the ProtocolVersion a blacklisted
 *                            address gets ("RFB 003.003\n")
 *   vnc.blacklist_threshold  5 (TigerVNC's BlacklistThreshold; 0: none)
 *   vnc.blacklist_timeout_ms 10000 (BlacklistTimeout)
 *   vnc.fail_delay_ms        100: an authentication failure is sent after
 *                            this, input held
 *   vnc.guess "password ..."  candidates tried against each response
 *
 * Events: "login" per challenge response (no user.name: VNC has none):
 * lure.auth.method "vnc", lure.auth.hash ("$vnc$*" + challenge hex + "*" +
 * response hex, upper case: John the Ripper's vnc format), and when a
 * vnc.guess candidate gives the same response lure.auth.password with
 * lure.auth.password_source "challenge-guess"; lure.vnc.client_version
 * (the client's 12 bytes, the newline cut), lure.vnc.security_type (2 or
 * 19), lure.vnc.vencrypt_subtype, event.outcome failure. A client that
 * stops short of a response gets a "request" event at close or failure with
 * the same lure.vnc fields, event.reason the server's reason when one was
 * given, event.outcome failure when the server refused (an unreadable or
 * unsupported version, a type not offered, a VeNCrypt failure), and
 * lure.payload for a ProtocolVersion it could not read; a blacklisted
 * address a "request" event with event.reason.
 *
 * Compared byte for byte with Debian 12's Xvnc (tigervnc-standalone-server
 * 1.12.0+dfsg-8) run as `vncserver -localhost no` runs it: SecurityTypes
 * VncAuth,TLSVnc, a password file from vncpasswd, test/persona/
 * test_diff_vnc.py sending the same inputs to both:
 * - ProtocolVersion: 12 bytes read, then sscanf "RFB %03d.%03d\n" as
 *   SConnection::processVersionMsg does (so "RFB 003.8\n" waits for two
 *   more bytes, "RFB 003.00x" is 3.0); not two numbers: close without a
 *   word; a major version other than 3: a 0 byte and the reason; minor 8
 *   and above is served as 3.8, 7 as 3.7, any other as 3.3.
 * - a security type not offered: close without a word; VeNCrypt versions
 *   0.0/0.1 and others: 0xFF, then the failure; a sub-type not offered:
 *   the failure.
 * - a wrong response: after 100 ms, SecurityResult 1 and (3.8 only) the
 *   reason, then close. Input that follows a failure is ignored.
 * - blacklist (rfb/Blacklist.cxx): every connection from an address counts
 *   (a success would clear it: none here); the fifth starts a block of 10 s
 *   (TigerVNC counts whole seconds), meanwhile a connection gets
 *   vnc.blacklisted_version, 0 and the reason, then close; the first after
 *   the block is let in and starts a block twice as long. Kept for
 *   VNC_BL_SLOTS addresses (the oldest forgotten first; Xvnc forgets none).
 * - no time-out before authentication (Xvnc has none: the core's
 *   limits.idle_timeout applies).
 * Not modelled: accepted passwords and everything after authentication
 * (ServerInit, the frame buffer, input events): every response fails; the
 * None type; TLS: a ClientHello after the TLSVnc go-ahead gets the failure
 * at once where GnuTLS answers with a TLS 1.3 ServerHello and fails later.
 * State: 72 bytes per connection (struct vnc_state). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "des.h"
#include "emu.h"
#include "event.h"
#include "hash.h"
#include "lure.h"
#include "persona.h"

#define VNC_BL_SLOTS 128 /* addresses the blacklist remembers */
#define VNC_ADDR 46 /* INET6_ADDRSTRLEN */
#define VNC_MSG 256 /* a failure: type or result, length, reason */

enum vnc_phase {
	VNC_VERSION, /* waiting for the client's ProtocolVersion */
	VNC_TYPE, /* its security type (3.7, 3.8) */
	VNC_VENC_VERSION, /* VeNCrypt: its version */
	VNC_VENC_SUBTYPE, /* VeNCrypt: its sub-type */
	VNC_TLS, /* after the TLS go-ahead */
	VNC_RESPONSE, /* the 16-byte answer to the challenge */
	VNC_FAILING, /* a failure waits for vnc.fail_delay_ms */
	VNC_DONE, /* input ignored until the close */
	VNC__MAX
};

struct vnc_state {
	uint8_t phase;
	uint8_t minor; /* 3, 7 or 8: the version served */
	uint8_t logged; /* an event told the story */
	uint8_t type; /* security type chosen (0: none yet) */
	uint32_t subtype; /* VeNCrypt sub-type chosen (0: none) */
	/* input bytes that were already there when the challenge left: Xvnc
	 * reads the response only once more input arrives (1 + their count,
	 * 0: not waiting) */
	uint32_t held;
	const char *fail; /* persona key of the reason to send */
	char client[13]; /* the client's ProtocolVersion, NUL-ended */
	uint8_t challenge[16];
	uint8_t response[16];
};

/* --- the blacklist (TigerVNC's rfb/Blacklist.cxx, per source address) --- */

struct vnc_bl {
	char addr[VNC_ADDR];
	uint8_t marks;
	int64_t until; /* lure_now() ms; 0: not blocked yet */
	int64_t timeout; /* the next block's length, ms */
	int64_t used; /* last seen: the oldest is forgotten first */
};
static struct vnc_bl vnc_bl[VNC_BL_SLOTS];

/* 1: the address is blocked now; else it gains a mark (Blacklist::
 * isBlackmarked). */
static int
vnc_blackmarked(const char *addr)
{
	long threshold = persona_int("vnc.blacklist_threshold", 5);
	int64_t now = lure_now();
	struct vnc_bl *b = NULL, *old = &vnc_bl[0];
	size_t i;

	if (threshold <= 0 || !addr)
		return 0;
	for (i = 0; i < VNC_BL_SLOTS; i++) {
		if (vnc_bl[i].addr[0] && strcmp(vnc_bl[i].addr, addr) == 0) {
			b = &vnc_bl[i];
			break;
		}
		if (vnc_bl[i].used < old->used)
			old = &vnc_bl[i];
	}
	if (!b) {
		b = old;
		memset(b, 0, sizeof *b);
		snprintf(b->addr, sizeof b->addr, "%s", addr);
		b->marks = 1;
		b->timeout = persona_int("vnc.blacklist_timeout_ms", 10000);
	}
	b->used = now;
	if (b->marks >= threshold) {
		if (now >= b->until) {
			b->until = now + b->timeout;
			if (b->timeout < (int64_t)1 << 40)
				b->timeout *= 2;
			return 0;
		}
		return 1;
	}
	b->marks++;
	return 0;
}

/* --- output -------------------------------------------------------------- */

static void
vnc_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* head bytes, then the persona text of key as an RFB string. */
static void
vnc_send_reason(struct emu_ctx *ctx, const uint8_t *head, size_t hn,
        const char *text, size_t tn)
{
	uint8_t m[VNC_MSG];

	if (tn > sizeof m - hn - 4)
		tn = sizeof m - hn - 4;
	memcpy(m, head, hn);
	vnc_put32(m + hn, (uint32_t)tn);
	memcpy(m + hn + 4, text, tn);
	emu_send(ctx, m, hn + 4 + tn);
}

static const char *
vnc_text(const char *key, size_t *n)
{
	const char *t = persona_get(key, n);

	if (!t) {
		*n = 0;
		return "";
	}
	return t;
}

/* Is v one of the decimal numbers of persona key? */
static int
vnc_listed(const char *key, uint32_t v)
{
	const char *l = persona_get(key, NULL);
	char *end;

	while (l && *l) {
		unsigned long x = strtoul(l, &end, 10);
		if (end == l)
			break;
		if (x == v)
			return 1;
		l = end;
	}
	return 0;
}

/* The decimal numbers of key, as count byte + each (width bytes). */
static size_t
vnc_list(const char *key, unsigned width, uint8_t *out, size_t cap)
{
	const char *l = persona_get(key, NULL);
	size_t n = 1;
	char *end;

	out[0] = 0;
	while (l && *l && n + width <= cap && out[0] < 255) {
		unsigned long x = strtoul(l, &end, 10);
		if (end == l)
			break;
		if (width == 4)
			vnc_put32(out + n, (uint32_t)x);
		else
			out[n] = (uint8_t)x;
		n += width;
		out[0]++;
		l = end;
	}
	return n;
}

/* --- events -------------------------------------------------------------- */

static void
vnc_fields(struct event *e, const struct vnc_state *st)
{
	if (st->client[0])
		event_bytes(e, "lure.vnc.client_version", st->client,
		        strcspn(st->client, "\n"), 12);
	if (st->type)
		event_int(e, "lure.vnc.security_type", st->type);
	if (st->subtype)
		event_int(e, "lure.vnc.vencrypt_subtype", st->subtype);
}

/* A "request" event for a client that went no further (reason: the
 * server's, rn bytes, or NULL; failed: refused). */
static void
vnc_request(struct emu_ctx *ctx, struct vnc_state *st, const char *reason,
        size_t rn, int failed)
{
	struct event *e;

	if (st->logged)
		return;
	st->logged = 1;
	e = emu_event(ctx, "request");
	vnc_fields(e, st);
	if (reason)
		event_bytes(e, "event.reason", reason, rn, EVENT_CAP_DEFAULT);
	if (failed)
		event_str(e, "event.outcome", "failure");
	event_commit(e);
}

/* The same with the reason of persona key. */
static void
vnc_refused(struct emu_ctx *ctx, struct vnc_state *st, const char *key)
{
	size_t n;
	const char *t = vnc_text(key, &n);

	vnc_request(ctx, st, t, n, 1);
}

/* The first vnc.guess candidate whose response matches, or NULL. */
static const char *
vnc_guess(const struct vnc_state *st, size_t *len)
{
	const char *l = persona_get("vnc.guess", NULL);
	uint8_t r[16];

	while (l && *l) {
		size_t w;
		while (*l == ' ')
			l++;
		w = strcspn(l, " ");
		if (w) {
			des_vnc_response(l, w, st->challenge, r);
			if (memcmp(r, st->response, 16) == 0) {
				*len = w;
				return l;
			}
		}
		l += w;
	}
	return NULL;
}

static void
vnc_login(struct emu_ctx *ctx, struct vnc_state *st)
{
	struct event *e = emu_event(ctx, "login");
	char hash[6 + 32 + 1 + 32 + 1];
	const char *g;
	size_t gl, i;

	st->logged = 1;
	memcpy(hash, "$vnc$*", 6);
	hash_hex(st->challenge, 16, hash + 6);
	hash[38] = '*';
	hash_hex(st->response, 16, hash + 39);
	for (i = 6; hash[i]; i++)
		if (hash[i] >= 'a' && hash[i] <= 'f')
			hash[i] = (char)(hash[i] - 32);
	event_str(e, "lure.auth.method", "vnc");
	event_str(e, "lure.auth.hash", hash);
	if (e && (g = vnc_guess(st, &gl)) != NULL) {
		event_bytes(e, "lure.auth.password", g, gl, EVENT_CAP_DEFAULT);
		event_str(e, "lure.auth.password_source", "challenge-guess");
	}
	vnc_fields(e, st);
	event_str(e, "event.outcome", "failure");
	event_commit(e);
}

/* --- the handshake ------------------------------------------------------- */

/* An authentication failure (reason: a persona key), after the delay. */
static void
vnc_fail(struct emu_ctx *ctx, struct vnc_state *st, const char *reason)
{
	st->fail = reason;
	st->phase = VNC_FAILING;
	/* a timer, not a wake-up: Xvnc goes on reading (and ignoring) */
	emu_timer(ctx, persona_int("vnc.fail_delay_ms", 100));
}

/* The challenge; left: input bytes after those consumed now. */
static void
vnc_challenge(struct emu_ctx *ctx, struct vnc_state *st, size_t left)
{
	lure_random(st->challenge, sizeof st->challenge);
	emu_send(ctx, st->challenge, sizeof st->challenge);
	st->phase = VNC_RESPONSE;
	st->held = (uint32_t)left + 1;
}

static void
vnc_open(struct emu_ctx *ctx, void *state)
{
	struct vnc_state *st = state;
	const char *v;
	size_t n;

	st->phase = VNC_VERSION;
	if (vnc_blackmarked(emu_peer_addr(ctx))) {
		/* the version, security type 0 (a failure), the reason */
		uint8_t m[32] = {0};
		size_t tn;
		const char *t = vnc_text("vnc.error.blacklisted", &tn);
		v = vnc_text("vnc.blacklisted_version", &n);
		if (n > sizeof m - 4)
			n = sizeof m - 4;
		memcpy(m, v, n);
		vnc_send_reason(ctx, m, n + 4, t, tn);
		vnc_refused(ctx, st, "vnc.error.blacklisted");
		st->phase = VNC_DONE;
		emu_close(ctx);
		return;
	}
	v = vnc_text("vnc.version", &n);
	emu_send_const(ctx, v, n);
}

/* ProtocolVersion: 12 bytes of the n there are. */
static void
vnc_version(
        struct emu_ctx *ctx, struct vnc_state *st, const uint8_t *p, size_t n)
{
	int major, minor;
	uint8_t types[64];

	memcpy(st->client, p, 12);
	st->client[12] = 0;
	/* as SConnection::processVersionMsg reads it: a NUL ends it early */
	if (sscanf(st->client, "RFB %03d.%03d\n", &major, &minor) != 2) {
		struct event *e = emu_event(ctx, "request");
		st->logged = 1;
		event_bytes(e, "lure.payload", p, 12, 12);
		event_str(e, "event.outcome", "failure");
		event_commit(e);
		st->client[0] = 0;
		st->phase = VNC_DONE;
		emu_close(ctx);
		return;
	}
	if (major != 3) {
		char msg[VNC_MSG], ver[32];
		size_t tn, m = 0;
		const char *t = vnc_text("vnc.error.version", &tn), *pc;
		static const uint8_t zero = 0;
		snprintf(ver, sizeof ver, "%d.%d", major, minor);
		for (pc = t; pc < t + tn && m < sizeof msg - sizeof ver; pc++) {
			if (pc[0] == '%' && pc + 1 < t + tn && pc[1] == 'v') {
				memcpy(msg + m, ver, strlen(ver));
				m += strlen(ver);
				pc++;
			} else
				msg[m++] = *pc;
		}
		vnc_send_reason(ctx, &zero, 1, msg, m);
		vnc_request(ctx, st, msg, m, 1);
		st->phase = VNC_DONE;
		emu_close(ctx);
		return;
	}
	st->minor = (uint8_t)(minor >= 8 ? 8 : minor == 7 ? 7 : 3);
	if (st->minor == 3) {
		uint8_t t[4];
		st->type = 2;
		vnc_put32(t, 2);
		emu_send(ctx, t, 4);
		vnc_challenge(ctx, st, n - 12);
		return;
	}
	n = vnc_list("vnc.types", 1, types, sizeof types);
	emu_send(ctx, types, n);
	st->phase = VNC_TYPE;
}

static size_t
vnc_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct vnc_state *st = state;
	uint8_t m[1 + 1 + 4 * 32];
	size_t k;

	switch (st->phase) {
	case VNC_VERSION:
		if (n < 12)
			return 0;
		vnc_version(ctx, st, p, n);
		return st->phase == VNC_DONE ? n : 12;
	case VNC_TYPE:
		st->type = p[0];
		if (p[0] == 2 && vnc_listed("vnc.types", 2)) {
			vnc_challenge(ctx, st, n - 1);
		} else if (p[0] == 19 && vnc_listed("vnc.types", 19)) {
			size_t vn;
			const char *v = vnc_text("vnc.vencrypt.version", &vn);
			emu_send(ctx, v, vn);
			st->phase = VNC_VENC_VERSION;
		} else {
			/* Xvnc closes without a word */
			vnc_request(ctx, st, NULL, 0, 1);
			st->phase = VNC_DONE;
			emu_close(ctx);
			return n;
		}
		return 1;
	case VNC_VENC_VERSION: {
		unsigned v;
		if (n < 2)
			return 0;
		v = (unsigned)p[0] << 8 | p[1];
		if (v != 2) {
			m[0] = 0xff;
			emu_send(ctx, m, 1);
			vnc_fail(ctx, st,
			        v < 2 ? "vnc.error.vencrypt_old"
			              : "vnc.error.vencrypt_bad");
			return 2;
		}
		m[0] = 0;
		k = vnc_list("vnc.vencrypt.subtypes", 4, m + 1, sizeof m - 1);
		emu_send(ctx, m, 1 + k);
		st->phase = VNC_VENC_SUBTYPE;
		return 2;
	}
	case VNC_VENC_SUBTYPE:
		if (n < 4)
			return 0;
		st->subtype = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		              (uint32_t)p[2] << 8 | p[3];
		if (!st->subtype ||
		        !vnc_listed("vnc.vencrypt.subtypes", st->subtype)) {
			vnc_fail(ctx, st, "vnc.error.vencrypt_subtype");
		} else if (st->subtype == 2) {
			vnc_challenge(ctx, st, n - 4);
		} else {
			m[0] = 1; /* go ahead with TLS */
			emu_send(ctx, m, 1);
			st->phase = VNC_TLS;
		}
		return 4;
	case VNC_TLS: {
		size_t an;
		const char *a = vnc_text("vnc.tls_alert", &an);
		if (p[0] != 0x16)
			emu_send(ctx, a, an);
		vnc_fail(ctx, st, "vnc.error.tls");
		return n;
	}
	case VNC_RESPONSE:
		if (st->held && n < st->held)
			return 0; /* nothing new since the challenge */
		st->held = 0;
		if (n < 16)
			return 0;
		memcpy(st->response, p, 16);
		vnc_login(ctx, st);
		vnc_fail(ctx, st, "vnc.error.auth");
		return 16;
	default: return n;
	}
}

static void
vnc_timeout(struct emu_ctx *ctx, void *state)
{
	struct vnc_state *st = state;
	uint8_t r[4];

	if (st->phase != VNC_FAILING)
		return;
	vnc_put32(r, 1);
	if (st->minor == 8) {
		size_t n;
		const char *t = vnc_text(st->fail, &n);
		vnc_send_reason(ctx, r, 4, t, n);
	} else
		emu_send(ctx, r, 4);
	vnc_refused(ctx, st, st->fail);
	st->phase = VNC_DONE;
	emu_close(ctx);
}

static void
vnc_close(struct emu_ctx *ctx, void *state, enum emu_close_reason why)
{
	struct vnc_state *st = state;

	(void)why;
	if (st->client[0])
		vnc_request(ctx, st, NULL, 0, 0);
}

const struct emulator emu_vnc = {
        .name = "vnc",
        .transports = EMU_TCP,
        .state_size = sizeof(struct vnc_state),
        .on_open = vnc_open,
        .on_data = vnc_data,
        .on_timeout = vnc_timeout,
        .on_close = vnc_close,
};
