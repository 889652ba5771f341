/* conn_tls.h: the server side of a tls port ("port 443 tcp http tls"), for
 * src/conn.c only. Per connection slot: the ClientHello gathered in the
 * slot's input buffer and fingerprinted (tlshello.h, one "request" event of
 * event.dataset lure.tls), then a server session of src/tls.h between the
 * socket and the emulator, which sees plaintext only. conn.c keeps the
 * slots: it hands each call a struct conn_tls_io (the slot's socket,
 * buffers and counters) and closes the connection when a call returns -1,
 * with the reason the call gives. Compiled out with the calls to it when
 * the persona has no tls port (LURE_TLS_SERVER 0, src/tls.h).
 * The sessions (tls.server_sessions) are few: a ClientHello that finds
 * none free reclaims one (conn.c closes that slot, reason "evicted") or
 * waits for one, unanswered, as on a loaded server; the handshake has a
 * deadline from accept that trickled bytes do not extend (see
 * conn_tls.c). */
#ifndef LURE_CONN_TLS_H
#define LURE_CONN_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "emu.h"

struct config;
struct event;

struct conn_tls_io {
	int fd;
	uint8_t *in; /* the input buffer: ClientHello, then plaintext */
	size_t *in_len, in_cap;
	uint8_t *peer_eof;
	uint64_t *bytes_in, *bytes_out;
	int64_t *t_active;
	struct emu_ctx *ctx;
	void *state; /* the emulator's, for on_open after the handshake */
};

/* conn_tls_wants(): the session needs one more pass of the emulator. */
#define CONN_TLS_STUCK (-2)

/* Once, when a tls listener exists: state for c->max_conns slots, the
 * handshake deadline (c->tls_handshake_timeout, else the persona's), and
 * how to close a slot whose session is reclaimed. 0 or -1. */
int
conn_tls_setup(const struct config *c, void (*evict)(size_t slot));
/* A new connection on a tls port: ClientHello first. upgrade: a plain
 * connection whose emulator asked for TLS (emu_starttls()): it is open
 * already (no on_open after the handshake). */
void
conn_tls_reset(size_t slot, int upgrade);
/* 1 once the server session exists (after the ClientHello). */
int
conn_tls_active(size_t slot);
/* 1 when the emulator was opened (the handshake completed, or STARTTLS). */
int
conn_tls_opened(size_t slot);

/* Socket bytes held in the input buffer -> ClientHello: 0 to serve (the
 * session took every byte and the buffer now holds plaintext); 1 while
 * there is no session (more to gather, or waiting for one: the emulator
 * must not see these bytes); -1 to close with *why (the hello event is
 * written). */
int
conn_tls_hello(
        size_t slot, const struct conn_tls_io *io, enum emu_close_reason *why);
/* Socket -> engine once the session exists (one recv). 0: serve the
 * connection; 1: nothing to do now; -1: close with *why. */
int
conn_tls_recv(size_t slot, const struct conn_tls_io *io, uint64_t max_input,
        enum emu_close_reason *why);
/* Engine -> input buffer: the handshake (on_open when it completes), then
 * plaintext while there is room. 0, or -1: close with *why. */
int
conn_tls_pull(
        size_t slot, const struct conn_tls_io *io, enum emu_close_reason *why);
/* Emulator output -> engine -> socket, close_notify once the emulator
 * closes. 0, or -1: close with *why (EMU, PEER or ERROR). */
int
conn_tls_flush(
        size_t slot, const struct conn_tls_io *io, enum emu_close_reason *why);
/* POLLIN, POLLOUT or 0; CONN_TLS_STUCK when the session wants no bytes,
 * has none to send and the emulator waits for input: serve once, ask
 * again, and close if it is still stuck. */
int
conn_tls_wants(size_t slot, const struct conn_tls_io *io);
/* The handshake deadline, before conn.c's own timers: -1 to close with
 * *why (EMU_CLOSE_HANDSHAKE) when it passed; 1 when a waiting ClientHello
 * got its session (serve it), else 0. *at: the deadline, or the next try
 * of a waiting ClientHello (INT64_MAX once the handshake is done). */
int
conn_tls_tick(size_t slot, const struct conn_tls_io *io, int64_t now,
        int64_t *at, enum emu_close_reason *why);
/* connection.close: tls.established, tls.version, tls.cipher and the
 * session's error.message. */
void
conn_tls_close_fields(struct event *e, size_t slot);
/* End the slot's session, if any. */
void
conn_tls_free(size_t slot);

#endif
