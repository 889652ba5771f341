/* sniff.h: the catch-all listener's protocol guess from a connection's
 * first bytes (conn.c hands the connection to the emulator it names), and
 * the events of the catch-all and PROXY header phases that come before any
 * emulator (event.dataset lure.catchall, lure.proxy). */
#ifndef LURE_SNIFF_H
#define LURE_SNIFF_H

#include <stddef.h>
#include <stdint.h>

#include "emu.h"

/* CATCHALL=0 (Makefile) compiles the catch-all and PROXY header phases
 * out of conn.c; catch_all.port and proxy_protocol are then refused. */
#ifndef LURE_CATCHALL
#define LURE_CATCHALL 1
#endif

enum sniff_kind {
	SNIFF_MORE, /* a prefix of several: wait for more bytes */
	SNIFF_TLS, /* a TLS handshake record (ClientHello) */
	SNIFF_HTTP, /* an HTTP/1 request line or the HTTP/2 preface */
	SNIFF_SSH, /* "SSH-" */
	SNIFF_OTHER /* payload capture */
};

/* Before any emulator: the phase's name as event.dataset. */
extern const struct emulator sniff_catchall, sniff_proxy;

enum sniff_kind
sniff_kind(const uint8_t *p, size_t n);
/* The compiled-in emulator for a kind (TLS: none, conn.c decides): http,
 * ssh, else banner, else a built-in payload capture. */
const struct emulator *
sniff_emu(enum sniff_kind k);
/* A ClientHello on the catch-all of a persona with no TLS server: 1 while
 * it is incomplete (and more may come), else 0 after one request event
 * with its JA3/JA4 (or why there are none). */
int
sniff_tls(struct emu_ctx *ctx, const uint8_t *p, size_t n, int more);
/* One request event of the pre-emulator phase: error.message why (NULL:
 * none), the bytes held, and the silence before them in ms (<0: none). */
void
sniff_event(struct emu_ctx *ctx, const char *why, const uint8_t *p, size_t n,
        int64_t silent_ms);

#endif
