/* emu.h: the emulator contract. An emulator never touches a socket: the core
 * hands it bytes, it queues bytes to send, emits events and asks for a close
 * or a wake-up. The same code runs under the loop, transcripts and fuzzers.
 *
 * on_data gets every unconsumed input byte and returns how many it consumed;
 * the rest is offered again with more input, or when the output has drained
 * (so an emulator handles one request per call and pipelining stays bounded).
 * If the input buffer is full and on_data consumes nothing, the core closes
 * the connection ("input cap"). For UDP, each datagram is one on_open,
 * on_data, on_close sequence on fresh state; emu_send() replies to the sender,
 * one datagram, within the budget src/udpguard.h gives that source: an answer
 * beyond it is refused (-1) and the core sends none of the datagram's answer,
 * so send the whole answer in one emu_send() and log that it was refused. */
#ifndef LURE_EMU_H
#define LURE_EMU_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum emu_transport { EMU_TCP = 1, EMU_UDP = 2 };

enum emu_close_reason {
	EMU_CLOSE_PEER, /* peer closed or reset */
	EMU_CLOSE_EMU, /* emulator asked */
	EMU_CLOSE_IDLE, /* idle timeout */
	EMU_CLOSE_SESSION, /* session timeout */
	EMU_CLOSE_INPUT, /* input byte cap or unconsumed full buffer */
	EMU_CLOSE_ERROR, /* socket error */
	EMU_CLOSE_SHUTDOWN,
	EMU_CLOSE_HANDSHAKE, /* TLS handshake deadline */
	EMU_CLOSE_EVICTED, /* its slot went to a newcomer */
	EMU_CLOSE_REQUEST, /* no first request by limits.request_timeout */
	EMU_CLOSE__MAX
};
extern const char *const emu_close_reason_name[EMU_CLOSE__MAX];

struct emu_ctx; /* owned by the core (or a test driver) */

struct emulator {
	const char *name; /* also the protocol in event.dataset */
	unsigned transports; /* EMU_TCP | EMU_UDP it can serve */
	size_t state_size; /* zeroed before on_open */
	/* input bytes a connection may hold at least, whatever limits.in_buf
	 * says (an SSH packet must be whole before its MAC is checked); 0:
	 * limits.in_buf */
	size_t in_min;
	void (*on_open)(struct emu_ctx *ctx, void *state);
	size_t (*on_data)(
	        struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n);
	void (*on_timeout)(struct emu_ctx *ctx, void *state);
	/* 1: the answers to requests that arrived together leave in one
	 * segment (an HTTP server under tcp_nopush), not one each */
	uint8_t pipeline;
	void (*on_close)(
	        struct emu_ctx *ctx, void *state, enum emu_close_reason why);
	/* Optional: a data channel of emu_side_listen() (below) connected
	 * (EMU_SIDE_OPEN), brought bytes (EMU_SIDE_DATA, p and n), or closed
	 * (EMU_SIDE_END; n: bytes of emu_side_send_const() left unsent) */
	void (*on_side)(struct emu_ctx *ctx, void *state, int ev,
	        const uint8_t *p, size_t n);
	/* Optional, once at start-up after identity_load() and before
	 * privileges are dropped (host keys...): 0, or -1 with a message in
	 * err, which stops lure. Test drivers do not call it. */
	int (*on_start)(char *err, size_t errlen);
};

/* Queue bytes; returns 0, or -1 (nothing queued) when they do not fit. */
int
emu_send(struct emu_ctx *ctx, const void *p, size_t n);
/* Queue a reference to bytes that live forever (persona data), sent after
 * what emu_send() queued; one at a time. Returns 0 or -1 if one is pending. */
int
emu_send_const(struct emu_ctx *ctx, const void *p, size_t n);
/* Free space for emu_send(). */
size_t
emu_space(struct emu_ctx *ctx);
/* Close once the queued output has been sent. */
void
emu_close(struct emu_ctx *ctx);
/* The same, ending with an RST instead of a FIN: what the kernel does when
 * a daemon exits with input it has not read (plain TCP only). */
void
emu_reset(struct emu_ctx *ctx);
/* A data channel (FTP's PASV): a TCP listener on the local address the
 * client reached, on a random port from 1024, that takes one connection,
 * from the client's own address only; then on_side() hears of it. One per
 * connection: a second call replaces the first; it closes with the
 * connection. Returns the port, or -1 (none free, or a test driver: answer
 * with a port nothing listens on). src/conn_side.h has the rest. */
enum {
	EMU_SIDE_OPEN = 1,
	EMU_SIDE_DATA,
	EMU_SIDE_END,
	EMU_SIDE_LISTEN,
	EMU_SIDE_CLOSE,
	EMU_SIDE_SEND
};
int
emu_side_listen(struct emu_ctx *ctx);
/* Send bytes that live forever (persona data) on the data connection, then
 * close it (EMU_SIDE_END follows). 0, or -1 when none is connected or a
 * send is under way. */
int
emu_side_send_const(struct emu_ctx *ctx, const void *p, size_t n);
/* The same with a copy (a listing made now): at most EMU_SIDE_COPY
 * bytes, else -1. */
#define EMU_SIDE_COPY 1024
int
emu_side_send(struct emu_ctx *ctx, const void *p, size_t n);
/* Close the data channel now (listener or connection), without
 * EMU_SIDE_END. */
void
emu_side_close(struct emu_ctx *ctx);
/* STARTTLS (SMTP, FTP's AUTH TLS): once the output queued so far is sent,
 * the connection becomes the server side of a TLS session with the
 * persona's certificate, as on a tls port; the emulator sees plaintext
 * after the handshake (no second on_open) and nothing meanwhile: input
 * that arrived before the handshake is dropped (as Postfix drops it, the
 * CVE-2011-0411 fix). Returns 0, or -1 when this port cannot (its persona
 * line has no "starttls", the build or the configuration has no TLS server,
 * or TLS is already on): then answer as a daemon without TLS. */
int
emu_starttls(struct emu_ctx *ctx);
/* The same for a client that starts TLS where a request was due (RDP's
 * direct approach: a ClientHello as its first bytes): nothing to send
 * first, and the bytes this on_data call leaves unconsumed (consume none
 * of the hello) are the start of the handshake, kept for it. */
int
emu_starttls_now(struct emu_ctx *ctx);
/* TLS inside the protocol's own framing (TDS carries its handshake in
 * PRELOGIN packets, then bare records): the server side of a session with
 * the persona's certificate, on a port whose persona line says "starttls",
 * driven by the bytes the emulator unwraps; the emulator frames what comes
 * out. One per connection, ended with it (or by emu_tls_end()). Built for
 * the personas whose emulators use it (Makefile: EMU_TLS); elsewhere, and
 * in test drivers, every call fails.
 * emu_tls_shake(): the client's bytes p[0..n) in, the handshake run (the
 * first call takes a session), the bytes to send in out[0..*outn) of cap.
 * 1: the handshake is done, 0: it needs more, -1: failed (no session to be
 * had: the port, the build, every session busy; or the handshake failed).
 * emu_tls_read(): after it, records p[0..n) in, their plaintext in out
 * (at most cap): its length (0: no record whole yet), or -1.
 * emu_tls_write(): plaintext p[0..n) to records in out: length, or -1.
 * emu_tls_able(): 1 when this connection may have a session (the port,
 * the build, the core; not a test driver), else 0: answer as a daemon
 * without TLS. */
int
emu_tls_able(struct emu_ctx *ctx);
int
emu_tls_shake(struct emu_ctx *ctx, const uint8_t *p, size_t n, uint8_t *out,
        size_t cap, size_t *outn);
int
emu_tls_read(struct emu_ctx *ctx, const uint8_t *p, size_t n, uint8_t *out,
        size_t cap);
int
emu_tls_write(struct emu_ctx *ctx, const uint8_t *p, size_t n, uint8_t *out,
        size_t cap);
void
emu_tls_end(struct emu_ctx *ctx);
/* Call on_timeout after ms (replaces an earlier request; 0 cancels). While a
 * wake-up is pending the core does not read input (a login delay holds). */
void
emu_wake(struct emu_ctx *ctx, int64_t ms);
/* Call on_timeout after ms while input keeps flowing (a session time-out);
 * independent of emu_wake(); 0 cancels. */
void
emu_timer(struct emu_ctx *ctx, int64_t ms);
/* Begin an event with the connection's fields filled in (source.*,
 * destination.*, network.transport, protocol = emulator name), or NULL when
 * the source is excluded from logging: emulators must handle NULL by
 * skipping their event_*() calls (all event_*() accept NULL). */
struct event *
emu_event(struct emu_ctx *ctx, const char *action);
/* Payload capture (the banner emulator's, and the catch-all's fallback): a
 * "request" event with lure.payload (at most what is left of cap bytes) and
 * source.bytes n, while *captured < cap and *events < max_events. */
void
emu_capture(struct emu_ctx *ctx, const uint8_t *p, size_t n, size_t *captured,
        unsigned *events, size_t cap, unsigned max_events);
/* Local port the client reached (after offsets) and the persona's port. */
uint16_t
emu_port(struct emu_ctx *ctx);
/* The local address the client reached, numeric ("192.0.2.7", "2001:db8::1";
 * v4-mapped as v4): for answers that name the device's own address (ONVIF
 * XAddrs, SADP). Over UDP on a wildcard listener it is the address of the
 * interface the datagram came in on. */
const char *
emu_local_addr(struct emu_ctx *ctx);
/* The client's address, as text (as in source.ip), and its port. */
const char *
emu_peer_addr(struct emu_ctx *ctx);
uint16_t
emu_peer_port(struct emu_ctx *ctx);
/* Persona hostname for prompts (config "hostname" or persona default). */
const char *
emu_hostname(struct emu_ctx *ctx);

/* Registry generated from EMUS (build/<t>/emu_list.h). */
extern const struct emulator *const emu_registry[];
const struct emulator *
emu_find(const char *name);

#endif
