/* emu_ctx.h: the connection context behind the emulator API. The core embeds
 * one per connection; test drivers and fuzzers make their own with their own
 * buffers. Output is out[out_off..out_len) followed by ref[0..ref_len). */
#ifndef LURE_EMU_CTX_H
#define LURE_EMU_CTX_H

#include "emu.h"

#ifndef LURE_EMU_TLS
#define LURE_EMU_TLS 0
#endif

struct emu_ctx {
	const struct emulator *emu;
	uint8_t *out;
	size_t out_off, out_len, out_cap;
	const uint8_t *ref;
	size_t ref_len;
	int close; /* emulator asked to close after flushing (2: RST) */
	size_t refused; /* bytes emu_send() refused (UDP: over the budget) */
	int excluded; /* source never logged: emu_event() gives NULL */
	/* the emulator made a request, login or command event: the first
	 * request is done (the core's limits.request_timeout stops) */
	uint8_t requested;
	/* data channels (src/conn_side.h): the core's, NULL in test drivers */
	int (*side)(struct emu_ctx *c, int op, const void *p, size_t n);
	uint32_t side_slot;
	/* STARTTLS: 1 when this port may (the core sets it; a test driver
	 * may too), 2 once emu_starttls() asked (input waits), 3 once
	 * emu_starttls_now() did (the input held is the ClientHello's) */
	uint8_t starttls;
	int64_t wake_at; /* lure_now() ms, 0 = none; holds input */
	int64_t timer_at; /* lure_now() ms, 0 = none; does not */
	uint8_t transport; /* EMU_TCP / EMU_UDP */
	uint16_t local_port, persona_port, src_port;
	char src_ip[48], dst_ip[48];
	char session[40]; /* "<boot>-<n>": shared by a connection's events */
	const char *hostname;
	/* TLS ports: the client's fingerprints once its ClientHello is
	 * parsed (conn.c), put on every event of the connection */
	const char *tls_ja3, *tls_ja4;
#if LURE_EMU_TLS
	/* emu_tls_*(): the core's (src/emu_tls.c), NULL in test drivers;
	 * the session */
	int (*tls_op)(struct emu_ctx *c, int op, const uint8_t *p, size_t n,
	        uint8_t *out, size_t cap, size_t *outn);
	struct tls *tls_s;
#endif
};

/* Reset the per-connection fields; buffers stay. */
void
emu_ctx_reset(struct emu_ctx *c);
/* Bytes still to send (buffer + reference). */
size_t
emu_ctx_pending(const struct emu_ctx *c);
/* Next contiguous chunk to send; then emu_ctx_sent(n). */
size_t
emu_ctx_peek(const struct emu_ctx *c, const uint8_t **p);
void
emu_ctx_sent(struct emu_ctx *c, size_t n);

/* Offer buffered input in[0..*len) to the emulator the way the core does:
 * call on_data while input remains, no wake-up is pending, the output is
 * drained and no close was asked; shift out what it consumed. Returns -1 when
 * the buffer is full (len == cap) and the emulator consumed nothing. */
int
emu_ctx_pump(
        struct emu_ctx *c, void *state, uint8_t *in, size_t *len, size_t cap);
/* emu_tls_*() (src/emu.h) as the core serves them (src/emu_tls.c) */
enum { EMU_TLS_SHAKE, EMU_TLS_READ, EMU_TLS_WRITE, EMU_TLS_END };
int
emu_tls_op(struct emu_ctx *c, int op, const uint8_t *p, size_t n, uint8_t *out,
        size_t cap, size_t *outn);

#endif
