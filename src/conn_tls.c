/* conn_tls.c: see conn_tls.h. The ClientHello is read whatever happens
 * next, so even a client that gives up (or finds every session busy) leaves
 * its fingerprints; the server session then takes every byte gathered and
 * the input buffer holds plaintext from then on. The loop's rules hold: no
 * call blocks, a socket error or a failed session closes one connection
 * (after the failed session's fatal alert, sent best effort).
 *
 * Sessions under pressure. A handshake must end (the session's first
 * plaintext may be read) within the handshake deadline of accept, whatever
 * trickles in meanwhile, as nginx arms client_header_timeout once at
 * accept for the whole SSL handshake; then the close has event.reason
 * "handshake_timeout" (a ClientHello still incomplete gets its "request"
 * event first). A ClientHello that finds every session busy takes one
 * from the slowest holder: of the sessions at least RECLAIM_MS old, one of
 * a source (an IPv4 address, an IPv6 /64) holding two or more first, then
 * one still in its handshake; the oldest of those. Never from a source that
 * already holds a session: its newcomer waits. A ClientHello that gets no
 * session waits unanswered (its "request" event has
 * lure.tls_hello.busy), trying again every RETRY_MS, until a session frees
 * or the deadline passes: what a client of a loaded server sees, a
 * ServerHello late or a close at the deadline, not a close right after its
 * hello (a connection limit's tell).
 *
 * Persona keys:
 *   tls.handshake_timeout  seconds from accept to the end of the handshake
 *                          (default 60, nginx's client_header_timeout);
 *                          the config key of that name overrides it
 *
 * Not modelled: TLS session resumption; a queue in arrival order (waiting
 * ClientHellos take a free session as their next try comes). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "conn_tls.h"
#include "emu_ctx.h"
#include "fmt.h"
#include "lure.h"
#include "persona.h"
#include "tls.h"
#include "tlshello.h"

#define RECLAIM_MS 1000 /* a younger session is never reclaimed */
#define RETRY_MS 200 /* a waiting ClientHello's next try for a session */

/* gathering the ClientHello, waiting for a session, handshake, open */
enum { CT_HELLO, CT_WAIT, CT_SHAKE, CT_OPEN };
struct conn_tls {
	struct tls *t; /* NULL until a session is taken */
	uint8_t st, opened, notified;
	int64_t t0; /* accept */
	uint64_t src; /* the source: IPv4 address or IPv6 /64 */
	char ja3[33], ja4[37];
};
static struct conn_tls *ctls;
static uint32_t *held, nheld; /* the slots holding a session */
static int64_t shake_ms;
static void (*evict_slot)(size_t slot);
static struct tlshello hello;
/* event.dataset "lure.tls" for the ClientHello event */
static const struct emulator tls_hello_emu = {
        .name = "tls", .transports = EMU_TCP};

int
conn_tls_setup(const struct config *c, void (*evict)(size_t slot))
{
	long s = c->tls_handshake_timeout;

	if (!s)
		s = persona_int("tls.handshake_timeout", 60);
	shake_ms = s * 1000;
	evict_slot = evict;
	if (!ctls && (!(ctls = calloc(c->max_conns, sizeof *ctls)) ||
	                     !(held = calloc(tls_server_max(), 4))))
		return -1;
	return 0;
}

void
conn_tls_reset(size_t slot, int upgrade)
{
	memset(&ctls[slot], 0, sizeof ctls[slot]);
	ctls[slot].t0 = lure_now();
	ctls[slot].opened = (uint8_t)upgrade;
}

int
conn_tls_active(size_t slot)
{
	return ctls[slot].t != NULL;
}

int
conn_tls_opened(size_t slot)
{
	return ctls[slot].opened;
}

/* connection.close on a tls port: what the handshake came to. */
void
conn_tls_close_fields(struct event *e, size_t slot)
{
	struct conn_tls *x = &ctls[slot];
	const char *v, *cs;

	event_bool(e, "tls.established", x->st == CT_OPEN);
	if (!x->t)
		return;
	tls_info(x->t, &v, &cs);
	if (v[0] && strncmp(v, "TLSv", 4) == 0) {
		event_str(e, "tls.version_protocol", "tls");
		event_str(e, "tls.version", v + 4);
	}
	if (cs[0])
		event_str(e, "tls.cipher", cs);
	if (tls_error(x->t)[0])
		event_str(e, "error.message", tls_error(x->t));
}

void
conn_tls_free(size_t slot)
{
	if (ctls[slot].t) {
		tls_free(ctls[slot].t);
		ctls[slot].t = NULL;
		for (uint32_t i = 0; i < nheld; i++)
			if (held[i] == slot)
				held[i] = held[--nheld];
	}
}

/* One request event (event.dataset lure.tls) for the ClientHello: the
 * fingerprints, or why there are none. */
static void
hello_event(
        const struct conn_tls_io *io, int r, const struct tlshello *h, int busy)
{
	const struct emulator *emu = io->ctx->emu;
	struct event *e;
	char list[512];
	size_t n = 0;

	io->ctx->emu = &tls_hello_emu;
	e = emu_event(io->ctx, "request");
	io->ctx->emu = emu;
	if (!e)
		return;
	if (r == TLSHELLO_DONE) {
		event_str(e, "lure.tls_hello.ja3_string", h->ja3_str);
		event_str(e, "lure.tls_hello.ja4_r", h->ja4_r);
		if (h->sni_len)
			event_bytes(e, "tls.client.server_name", h->sni,
			        h->sni_len, 256);
		/* ALPN names as "h2,http/1.1" (escaped as attacker bytes) */
		for (size_t i = 0; i + 1 <= h->alpn_len;) {
			size_t l = h->alpn[i];
			if (i + 1 + l > h->alpn_len || n + l + 1 >= sizeof list)
				break;
			if (n)
				list[n++] = ',';
			memcpy(list + n, h->alpn + i + 1, l);
			n += l;
			i += 1 + l;
		}
		if (n)
			event_bytes(e, "lure.tls_hello.alpn", list, n, 256);
		n = 0;
		for (size_t i = 0; i < h->nversions && n + 6 < sizeof list; i++)
			n += (size_t)fmt_snprintf(list + n, sizeof list - n,
			        "%s%04x", i ? "," : "", h->versions[i]);
		if (n)
			event_str(e, "lure.tls_hello.versions", list);
		if (h->truncated)
			event_bool(e, "lure.tls_hello.truncated", 1);
		if (busy)
			event_bool(e, "lure.tls_hello.busy", 1);
	} else {
		event_str(e, "error.message",
		        h->error ? h->error
		                 : "connection closed before a complete "
		                   "ClientHello");
		event_bytes(e, "lure.payload", io->in, *io->in_len, 256);
	}
	event_commit(e);
}

/* 1 when another holder than held[i] has its source. */
static int
shared(uint32_t i)
{
	for (uint32_t j = 0; j < nheld; j++)
		if (j != i && ctls[held[j]].src == ctls[held[i]].src)
			return 1;
	return 0;
}

/* A session for slot, reclaimed from the slowest holder if none is free
 * (see the top of this file); NULL: none. */
static struct tls *
take(size_t slot, int64_t now)
{
	struct conn_tls *v = NULL;
	uint32_t vi = 0;
	int vs = 0;

	for (uint32_t i = 0; i < nheld && nheld >= tls_server_max(); i++) {
		struct conn_tls *y = &ctls[held[i]];
		int sc = 2 * shared(i) + (y->st != CT_OPEN);
		if (y->src == ctls[slot].src)
			return NULL;
		if (now - y->t0 >= RECLAIM_MS &&
		        (sc > vs || (sc == vs && v && y->t0 < v->t0))) {
			vs = sc;
			v = y;
			vi = held[i];
		}
	}
	if (v)
		evict_slot(vi);
	if (!(ctls[slot].t = tls_server_new()))
		return NULL;
	held[nheld++] = (uint32_t)slot;
	return ctls[slot].t;
}

/* A complete ClientHello, its session taken if one is to be had: hand it
 * every byte gathered. 0: serve; 1: still waiting; -1: close with *why. */
static int
start(size_t slot, const struct conn_tls_io *io, enum emu_close_reason *why)
{
	struct conn_tls *x = &ctls[slot];
	uint8_t *p;
	size_t off = 0, n;

	if (!x->t && !take(slot, lure_now())) {
		*why = EMU_CLOSE_PEER; /* gave up waiting */
		return *io->peer_eof ? -1 : 1;
	}
	x->st = CT_SHAKE;
	while (off < *io->in_len) {
		if ((n = tls_net_in_space(x->t, &p)) == 0 &&
		        tls_handshake(x->t) == TLS_ERR)
			break;
		if (n == 0 && (n = tls_net_in_space(x->t, &p)) == 0)
			break;
		n = LURE_MIN(n, *io->in_len - off);
		memcpy(p, io->in + off, n);
		tls_net_in_done(x->t, n);
		off += n;
	}
	*io->in_len = 0; /* from now on the input buffer holds plaintext */
	if (*io->peer_eof)
		tls_net_in_done(x->t, 0);
	*io->peer_eof = 0; /* the engine reports the end of the stream */
	return 0;
}

int
conn_tls_hello(
        size_t slot, const struct conn_tls_io *io, enum emu_close_reason *why)
{
	struct conn_tls *x = &ctls[slot];
	uint8_t a[16] = {0};
	int r, v6;

	if (x->st == CT_WAIT)
		return start(slot, io, why);
	r = tlshello_parse(io->in, *io->in_len, &hello);
	if (r == TLSHELLO_MORE && *io->in_len < io->in_cap && !*io->peer_eof)
		return 1;
	if (*io->in_len == 0) { /* opened and closed: a port scan, no hello */
		*why = EMU_CLOSE_PEER;
		return -1;
	}
	if (r == TLSHELLO_MORE && *io->in_len == io->in_cap)
		hello.error = "ClientHello larger than the input buffer";
	if (r != TLSHELLO_DONE) {
		hello_event(io, TLSHELLO_BAD, &hello, 0);
		*why = EMU_CLOSE_INPUT;
		return -1;
	}
	memcpy(x->ja3, hello.ja3, sizeof x->ja3);
	memcpy(x->ja4, hello.ja4, sizeof x->ja4);
	io->ctx->tls_ja3 = x->ja3;
	io->ctx->tls_ja4 = x->ja4;
	v6 = strchr(io->ctx->src_ip, ':') != NULL;
	inet_pton(v6 ? AF_INET6 : AF_INET, io->ctx->src_ip, a);
	memcpy(&x->src, a, sizeof x->src); /* the address, or the /64 */
	x->st = CT_WAIT;
	take(slot, lure_now());
	hello_event(io, r, &hello, x->t == NULL);
	return start(slot, io, why);
}

int
conn_tls_tick(size_t slot, const struct conn_tls_io *io, int64_t now,
        int64_t *at, enum emu_close_reason *why)
{
	struct conn_tls *x = &ctls[slot];
	int r;

	*at = INT64_MAX;
	if (x->st == CT_OPEN)
		return 0;
	*at = x->t0 + shake_ms;
	if (now >= *at) {
		if (x->st == CT_HELLO && *io->in_len) {
			hello.error = "no complete ClientHello before the "
			              "handshake deadline";
			hello_event(io, TLSHELLO_BAD, &hello, 0);
		}
		*why = EMU_CLOSE_HANDSHAKE;
		return -1;
	}
	if (x->st != CT_WAIT)
		return 0;
	*at = LURE_MIN(*at, now + RETRY_MS);
	r = start(slot, io, why);
	return r < 0 ? -1 : !r;
}

int
conn_tls_recv(size_t slot, const struct conn_tls_io *io, uint64_t max_input,
        enum emu_close_reason *why)
{
	uint8_t *p;
	size_t space = tls_net_in_space(ctls[slot].t, &p);
	ssize_t n;

	if (space == 0)
		return 0;
	n = recv(io->fd, p, space, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 1;
		*why = errno == ECONNRESET ? EMU_CLOSE_PEER : EMU_CLOSE_ERROR;
		return -1;
	}
	tls_net_in_done(ctls[slot].t, (size_t)n);
	*io->bytes_in += (uint64_t)n;
	if (n > 0)
		*io->t_active = lure_now();
	if (*io->bytes_in > max_input) {
		*why = EMU_CLOSE_INPUT;
		return -1;
	}
	return 0;
}

/* A failed session's fatal alert (handshake_failure, protocol_version...)
 * goes out before the close, as a TLS server's would: best effort, once. */
static void
last_words(size_t slot, const struct conn_tls_io *io)
{
	const uint8_t *p;
	size_t n = tls_net_out_pending(ctls[slot].t, &p);
	ssize_t w = n ? send(io->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT) : 0;

	if (w > 0)
		*io->bytes_out += (uint64_t)w;
}

int
conn_tls_pull(
        size_t slot, const struct conn_tls_io *io, enum emu_close_reason *why)
{
	struct conn_tls *x = &ctls[slot];
	const struct emulator *emu = io->ctx->emu;
	ssize_t r;

	if (!x->t)
		return 0;
	if (x->st == CT_SHAKE) {
		int h = tls_handshake(x->t);
		if (h == TLS_ERR) {
			last_words(slot, io);
			*why = EMU_CLOSE_ERROR;
			return -1;
		}
		if (h == TLS_WANT_IO)
			return 0;
		x->st = CT_OPEN;
		if (!x->opened && emu->on_open)
			emu->on_open(io->ctx, io->state);
		x->opened = 1;
	}
	while (!*io->peer_eof && *io->in_len < io->in_cap) {
		r = tls_read(
		        x->t, io->in + *io->in_len, io->in_cap - *io->in_len);
		if (r == TLS_WANT_IO)
			break;
		if (r == TLS_ERR) {
			last_words(slot, io);
			*why = EMU_CLOSE_ERROR;
			return -1;
		}
		if (r == 0)
			*io->peer_eof = 1;
		*io->in_len += (size_t)r;
	}
	return 0;
}

/* Emulator output -> engine -> socket. Returns -1 (a send or the session
 * failed), 1 when the socket took all there was, else 0. */
static int
flush(struct conn_tls *x, const struct conn_tls_io *io)
{
	const uint8_t *p;
	size_t n;
	ssize_t w;

	if (!x->t)
		return 1;
	for (int guard = 0; guard < 256; guard++) {
		int moved = 0;
		while (x->st == CT_OPEN &&
		        (n = emu_ctx_peek(io->ctx, &p)) > 0) {
			w = tls_write(x->t, p, n);
			if (w == TLS_WANT_IO)
				break;
			if (w <= 0)
				return -1;
			emu_ctx_sent(io->ctx, (size_t)w);
		}
		while ((n = tls_net_out_pending(x->t, &p)) > 0) {
			w = send(io->fd, p, n, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return 0;
			if (w <= 0)
				return -1;
			tls_net_out_done(x->t, (size_t)w);
			*io->bytes_out += (uint64_t)w;
			*io->t_active = lure_now();
			moved = 1;
		}
		if (!moved || !emu_ctx_pending(io->ctx))
			break;
	}
	return tls_net_out_pending(x->t, &p) == 0;
}

int
conn_tls_flush(
        size_t slot, const struct conn_tls_io *io, enum emu_close_reason *why)
{
	struct conn_tls *x = &ctls[slot];
	struct emu_ctx *ctx = io->ctx;
	int r = flush(x, io);

	*why = EMU_CLOSE_ERROR;
	if (r < 0)
		return -1;
	if (ctx->close && !emu_ctx_pending(ctx) && r == 1 && x->t &&
	        !x->notified && x->st == CT_OPEN) {
		/* the device closes with close_notify, as servers do */
		x->notified = 1;
		tls_close_notify(x->t);
		if ((r = flush(x, io)) < 0)
			return -1;
	}
	if (r == 1 && ctx->close && !emu_ctx_pending(ctx)) {
		*why = EMU_CLOSE_EMU;
		return -1;
	}
	if (r == 1 && *io->peer_eof && !ctx->wake_at && !emu_ctx_pending(ctx)) {
		*why = EMU_CLOSE_PEER;
		return -1;
	}
	return 0;
}

int
conn_tls_wants(size_t slot, const struct conn_tls_io *io)
{
	struct conn_tls *x = &ctls[slot];
	const uint8_t *o;
	uint8_t *i;

	if (tls_net_out_pending(x->t, &o) ||
	        (emu_ctx_pending(io->ctx) && x->st == CT_OPEN))
		return POLLOUT;
	if (*io->peer_eof || io->ctx->wake_at || *io->in_len >= io->in_cap)
		return 0;
	if (tls_net_in_space(x->t, &i))
		return POLLIN;
	return CONN_TLS_STUCK;
}
