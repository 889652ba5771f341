/* vnc.c: an RFB (VNC) server as TigerVNC's Xvnc answers (by persona
 * data): the ProtocolVersion, the security types (3.7/3.8) or the one type
 * (3.3), VNC authentication's 16-byte challenge, VeNCrypt's version and
 * sub-type negotiation, the failures with the daemon's delay, texts and
 * per-address blacklist. A "login" event per challenge response, with the
 * pair in the form crackers take and a guess from a short list of common
 * passwords. A password vnc.accept lists logs in to a desktop where nothing
 * is drawn: ServerInit, a black frame for each full update request, every
 * client message an event.
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
 *                            this (input meanwhile read and ignored)
 *   vnc.guess "password ..."  candidates tried against each response
 *   vnc.accept               [repeated] a password that logs in ("*":
 *                            any response)
 *   vnc.geometry "W H"       the screen (1024 768; at most 2048 each)
 *   vnc.pixel_format         ServerInit's 16-byte pixel format
 *   vnc.desktop              the desktop's name; %h: the host name
 *
 * Events: "login" per challenge response (no user.name: VNC has none):
 * lure.auth.method "vnc", lure.auth.hash ("$vnc$*" + challenge hex + "*" +
 * response hex, upper case: John the Ripper's vnc format), and when a
 * vnc.guess candidate gives the same response lure.auth.password with
 * lure.auth.password_source "challenge-guess" (or the vnc.accept password
 * that matched); lure.vnc.client_version
 * (the client's 12 bytes, the newline cut), lure.vnc.security_type (2 or
 * 19), lure.vnc.vencrypt_subtype, event.outcome. After a login, each
 * client message but an incremental update request is an event with
 * lure.vnc.message: "request" for set_pixel_format (lure.vnc.bpp),
 * set_encodings (lure.vnc.encodings: how many), unknown (lure.payload; Xvnc
 * closes); "command" for key (lure.vnc.key the keysym, lure.vnc.down,
 * lure.command the character when printable ASCII), pointer
 * (lure.vnc.buttons, .x, .y) and cut_text (lure.command: the text, cut at
 * VNC_CUT bytes, lure.truncated). A client that
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
 * - a response that came in one segment with the version or the security
 *   type waits for more input (Xvnc reads it on the next wake-up).
 * - blacklist (rfb/Blacklist.cxx): every connection from an address counts
 *   (a login clears them); the fifth starts a block of 10 s
 *   (TigerVNC counts whole seconds), meanwhile a connection gets
 *   vnc.blacklisted_version, 0 and the reason, then close; the first after
 *   the block is let in and starts a block twice as long. Kept for
 *   VNC_BL_SLOTS addresses (the oldest forgotten first; Xvnc forgets none).
 * - no time-out before authentication (Xvnc has none: the core's
 *   limits.idle_timeout applies).
 * - after a login: SecurityResult 0, ServerInit on ClientInit (shared or
 *   not); a full update request is answered as Xvnc answers for a black
 *   screen: rows of at most 65536 pixels per rectangle (EncodeManager's
 *   SubRectMaxArea), each Raw, or RRE (no sub-rectangle) when the client
 *   listed RRE, else Hextile (a background tile, then empty ones) when it
 *   listed Hextile; an incremental one gets the same the first time,
 *   nothing after an update (nothing changes). Xvnc tracks the changed
 *   region: after a first update of part of the screen, its incremental
 *   updates send the rest; here they send nothing.
 * Not modelled: the desktop itself (Xvnc shows what the session's
 * xstartup draws: here nothing is), Tight (Xvnc sends a client listing it
 * Tight's fill; here RRE, Hextile or Raw) and ZRLE without RRE, cursor and
 * desktop-size pseudo-encodings, fences, bell, clipboard from the server;
 * the None type; TLS: a ClientHello after the TLSVnc go-ahead gets the
 * failure at once where GnuTLS answers with a TLS 1.3 ServerHello and
 * fails later; the close after more than the input buffer (4 KiB) came at
 * once: Xvnc shuts its side down and reads on (a FIN), lure closes with
 * input unread (an RST).
 * State: 96 bytes per connection (struct vnc_state). */
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
#define VNC_CUT 1024 /* ClientCutText bytes logged */

enum vnc_phase {
	VNC_VERSION, /* waiting for the client's ProtocolVersion */
	VNC_TYPE, /* its security type (3.7, 3.8) */
	VNC_VENC_VERSION, /* VeNCrypt: its version */
	VNC_VENC_SUBTYPE, /* VeNCrypt: its sub-type */
	VNC_TLS, /* after the TLS go-ahead */
	VNC_RESPONSE, /* the 16-byte answer to the challenge */
	VNC_FAILING, /* a failure waits for vnc.fail_delay_ms */
	VNC_INIT, /* logged in: waiting for ClientInit */
	VNC_SESSION, /* client messages */
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
	uint8_t bypp; /* bytes per pixel of the client's pixel format */
	uint8_t enc; /* solid-frame encoding: 0 Raw, 2 RRE, 5 Hextile */
	uint8_t encs_seen; /* what SetEncodings listed: 1 RRE, 2 Hextile */
	uint8_t framing; /* a FramebufferUpdate is being sent */
	uint8_t drawn; /* one was: the client has the screen */
	uint16_t fx, fy, fw, fh; /* its rectangle, clamped to the screen */
	uint16_t frow; /* the next row to send */
	uint16_t nenc; /* SetEncodings: encodings still to read */
	uint32_t skip; /* ClientCutText bytes still to drop */
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

/* A login clears the address's marks (Blacklist::clearBlackmark). */
static void
vnc_blackmark_clear(const char *addr)
{
	size_t i;

	for (i = 0; addr && i < VNC_BL_SLOTS; i++)
		if (vnc_bl[i].addr[0] && strcmp(vnc_bl[i].addr, addr) == 0)
			memset(&vnc_bl[i], 0, sizeof vnc_bl[i]);
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

/* ok: the password of the vnc.accept entry that matched (pn bytes; "*"
 * when any response is), or NULL: a failure. */
static void
vnc_login(struct emu_ctx *ctx, struct vnc_state *st, const char *ok, size_t pn)
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
	if (ok && !(pn == 1 && ok[0] == '*'))
		event_bytes(e, "lure.auth.password", ok, pn, EVENT_CAP_DEFAULT);
	else if (e && (g = vnc_guess(st, &gl)) != NULL) {
		event_bytes(e, "lure.auth.password", g, gl, EVENT_CAP_DEFAULT);
		event_str(e, "lure.auth.password_source", "challenge-guess");
	}
	vnc_fields(e, st);
	event_str(e, "event.outcome", ok ? "success" : "failure");
	event_commit(e);
}

/* --- after a login ------------------------------------------------------ */

/* TigerVNC's EncodeManager cuts an update into rectangles of at most this
 * many pixels (SubRectMaxArea), whole rows here */
#define VNC_SUB_AREA 65536
static uint8_t vnc_zero[VNC_SUB_AREA * 4]; /* a black frame's pixels */

/* The vnc.accept entry the response matches ("*": any), or NULL. */
static const struct persona_kv *
vnc_accepted(const struct vnc_state *st)
{
	const struct persona_kv *kv;
	size_t i = 0;
	uint8_t r[16];

	while ((kv = persona_next("vnc.accept", &i)) != NULL) {
		if (kv->len == 1 && kv->val[0] == '*')
			return kv;
		des_vnc_response(kv->val, kv->len, st->challenge, r);
		if (memcmp(r, st->response, 16) == 0)
			return kv;
	}
	return NULL;
}

static void
vnc_geometry(unsigned *w, unsigned *h)
{
	const char *g = persona_get("vnc.geometry", NULL);
	char *end;

	*w = 1024;
	*h = 768;
	if (g) {
		*w = (unsigned)strtoul(g, &end, 10);
		*h = (unsigned)strtoul(end, NULL, 10);
	}
	/* a rectangle of rows stays under SubRectMaxWidth (2048) */
	*w = *w < 1 ? 1 : *w > 2048 ? 2048 : *w;
	*h = *h < 1 ? 1 : *h > 2048 ? 2048 : *h;
}

/* ServerInit: the size, the pixel format, the desktop's name. */
static void
vnc_server_init(struct emu_ctx *ctx, struct vnc_state *st)
{
	uint8_t m[4 + 16 + 4 + 200];
	size_t n, pn, k = 0;
	const char *pf = vnc_text("vnc.pixel_format", &pn);
	const char *d = vnc_text("vnc.desktop", &n), *host = emu_hostname(ctx);
	unsigned w, h, i;

	vnc_geometry(&w, &h);
	m[0] = (uint8_t)(w >> 8);
	m[1] = (uint8_t)w;
	m[2] = (uint8_t)(h >> 8);
	m[3] = (uint8_t)h;
	memset(m + 4, 0, 16);
	memcpy(m + 4, pf, pn < 16 ? pn : 16);
	st->bypp = (uint8_t)(m[4] == 8 || m[4] == 16 ? m[4] / 8 : 4);
	for (i = 0; i < n && k < sizeof m - 24 - 64; i++) {
		if (d[i] == '%' && i + 1 < n && d[i + 1] == 'h' && host) {
			size_t hl = strlen(host) < 64 ? strlen(host) : 64;
			memcpy(m + 24 + k, host, hl);
			k += hl;
			i++;
		} else
			m[24 + k++] = (uint8_t)d[i];
	}
	vnc_put32(m + 20, (uint32_t)k);
	emu_send(ctx, m, 24 + k);
}

/* One rectangle's header. */
static size_t
vnc_rect(uint8_t *m, unsigned x, unsigned y, unsigned w, unsigned h, int enc)
{
	m[0] = (uint8_t)(x >> 8);
	m[1] = (uint8_t)x;
	m[2] = (uint8_t)(y >> 8);
	m[3] = (uint8_t)y;
	m[4] = (uint8_t)(w >> 8);
	m[5] = (uint8_t)w;
	m[6] = (uint8_t)(h >> 8);
	m[7] = (uint8_t)h;
	vnc_put32(m + 8, (uint32_t)enc);
	return 12;
}

/* The FramebufferUpdate of a black screen, as many rectangles as the
 * output takes now: 1 when all is sent. */
static int
vnc_frame(struct emu_ctx *ctx, struct vnc_state *st)
{
	unsigned rows = VNC_SUB_AREA / st->fw, end = st->fy + st->fh;
	uint8_t m[1024];

	if (!st->framing) {
		unsigned nr = (st->fh + rows - 1) / rows;
		if (emu_space(ctx) < 4)
			return 0;
		m[0] = 0;
		m[1] = 0;
		m[2] = (uint8_t)(nr >> 8);
		m[3] = (uint8_t)nr;
		emu_send(ctx, m, 4);
		st->framing = 1;
		st->frow = st->fy;
	}
	while (st->frow < end) {
		unsigned rh = end - st->frow < rows ? end - st->frow : rows;
		size_t k = vnc_rect(m, st->fx, st->frow, st->fw, rh, st->enc);
		if (st->enc == 2) { /* RRE: no sub-rectangle, the background */
			memset(m + k, 0, 4 + st->bypp);
			k += 4 + st->bypp;
		} else if (st->enc == 5) { /* Hextile: the first tile says the
			                    * background, the others repeat it */
			size_t tiles = ((st->fw + 15) / 16) * ((rh + 15) / 16);
			memset(m + k, 0, tiles + st->bypp);
			m[k] = 2;
			k += tiles + st->bypp;
		}
		if (emu_space(ctx) < k)
			return 0;
		emu_send(ctx, m, k);
		if (st->enc == 0)
			emu_send_const(
			        ctx, vnc_zero, (size_t)st->fw * rh * st->bypp);
		st->frow = (uint16_t)(st->frow + rh);
	}
	st->framing = 0;
	st->drawn = 1;
	return 1;
}

static uint32_t
vnc_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static struct event *
vnc_message_event(struct emu_ctx *ctx, const char *action, const char *what)
{
	struct event *e = emu_event(ctx, action);

	event_str(e, "lure.vnc.message", what);
	return e;
}

/* One client message after ServerInit (RFC 6143 7.5). */
static size_t
vnc_message(
        struct emu_ctx *ctx, struct vnc_state *st, const uint8_t *p, size_t n)
{
	struct event *e;
	size_t k;

	if (st->skip) { /* the rest of a long ClientCutText */
		k = n < st->skip ? n : st->skip;
		st->skip -= (uint32_t)k;
		return k;
	}
	if (st->nenc) { /* SetEncodings' list */
		if (n < 4)
			return 0;
		for (k = 0; k + 4 <= n && st->nenc; k += 4, st->nenc--) {
			uint32_t v = vnc_get32(p + k);
			st->encs_seen |= v == 2 ? 1 : v == 5 ? 2 : 0;
		}
		if (!st->nenc) /* the solid-rectangle encoder Xvnc picks */
			st->enc = (uint8_t)(st->encs_seen & 1   ? 2
			                    : st->encs_seen & 2 ? 5
			                                        : 0);
		return k;
	}
	switch (p[0]) {
	case 0: /* SetPixelFormat */
		if (n < 20)
			return 0;
		st->bypp = (uint8_t)(p[4] == 8 || p[4] == 16 ? p[4] / 8 : 4);
		e = vnc_message_event(ctx, "request", "set_pixel_format");
		event_int(e, "lure.vnc.bpp", p[4]);
		event_commit(e);
		return 20;
	case 2: /* SetEncodings */
		if (n < 4)
			return 0;
		st->nenc = (uint16_t)(p[2] << 8 | p[3]);
		st->encs_seen = 0;
		if (!st->nenc)
			st->enc = 0;
		e = vnc_message_event(ctx, "request", "set_encodings");
		event_int(e, "lure.vnc.encodings", st->nenc);
		event_commit(e);
		return 4;
	case 3: { /* FramebufferUpdateRequest */
		unsigned w, h, x, y, rw, rh;
		if (n < 10)
			return 0;
		/* incremental: nothing changed on a still screen once the
		 * client has it (the first update is whole either way) */
		if (p[1] && st->drawn && !st->framing)
			return 10;
		if (!st->framing) {
			vnc_geometry(&w, &h);
			x = (unsigned)(p[2] << 8 | p[3]);
			y = (unsigned)(p[4] << 8 | p[5]);
			rw = (unsigned)(p[6] << 8 | p[7]);
			rh = (unsigned)(p[8] << 8 | p[9]);
			if (x >= w || y >= h || !rw || !rh)
				return 10;
			st->fx = (uint16_t)x;
			st->fy = (uint16_t)y;
			st->fw = (uint16_t)(rw < w - x ? rw : w - x);
			st->fh = (uint16_t)(rh < h - y ? rh : h - y);
		}
		return vnc_frame(ctx, st) ? 10 : 0;
	}
	case 4: /* KeyEvent */
		if (n < 8)
			return 0;
		e = vnc_message_event(ctx, "command", "key");
		event_int(e, "lure.vnc.key", vnc_get32(p + 4));
		event_bool(e, "lure.vnc.down", p[1] != 0);
		if (p[4] == 0 && p[5] == 0 && p[6] == 0 && p[7] >= 0x20 &&
		        p[7] < 0x7f)
			event_bytes(e, "lure.command", p + 7, 1, 1);
		event_commit(e);
		return 8;
	case 5: /* PointerEvent */
		if (n < 6)
			return 0;
		e = vnc_message_event(ctx, "command", "pointer");
		event_int(e, "lure.vnc.buttons", p[1]);
		event_int(e, "lure.vnc.x", p[2] << 8 | p[3]);
		event_int(e, "lure.vnc.y", p[4] << 8 | p[5]);
		event_commit(e);
		return 6;
	case 6: { /* ClientCutText */
		uint32_t len;
		if (n < 8)
			return 0;
		len = vnc_get32(p + 4);
		/* the text up to the cap (in_min holds it), the rest dropped */
		k = len < VNC_CUT ? len : VNC_CUT;
		if (n - 8 < k)
			return 0;
		e = vnc_message_event(ctx, "command", "cut_text");
		event_bytes(e, "lure.command", p + 8, k, EVENT_CAP_DEFAULT);
		if (k < len)
			event_bool(e, "lure.truncated", 1);
		event_commit(e);
		st->skip = len - (uint32_t)k;
		return 8 + k;
	}
	default: /* Xvnc closes on an unknown message type */
		e = vnc_message_event(ctx, "request", "unknown");
		event_bytes(e, "lure.payload", p, n < 64 ? n : 64, 64);
		event_str(e, "event.outcome", "failure");
		event_commit(e);
		st->phase = VNC_DONE;
		emu_close(ctx);
		return n;
	}
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
		{
			const struct persona_kv *ok = vnc_accepted(st);
			vnc_login(
			        ctx, st, ok ? ok->val : NULL, ok ? ok->len : 0);
			if (!ok) {
				vnc_fail(ctx, st, "vnc.error.auth");
				return 16;
			}
		}
		vnc_put32(m, 0); /* SecurityResult OK */
		emu_send(ctx, m, 4);
		vnc_blackmark_clear(emu_peer_addr(ctx));
		st->phase = VNC_INIT;
		return 16;
	case VNC_INIT: /* ClientInit: shared or not, one answer */
		vnc_server_init(ctx, st);
		st->phase = VNC_SESSION;
		return 1;
	case VNC_SESSION: return vnc_message(ctx, st, p, n);
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
        .in_min = 8 + VNC_CUT,
        .on_open = vnc_open,
        .on_data = vnc_data,
        .on_timeout = vnc_timeout,
        .on_close = vnc_close,
};
