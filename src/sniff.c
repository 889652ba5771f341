/* sniff.c: see sniff.h. The catch-all listener (config catch_all.port)
 * receives connections that nftables redirected from every port the
 * persona does not open (platform/nftables/lure-catchall.nft); conn.c
 * gives each the port the scanner aimed at (SO_ORIGINAL_DST) and, before
 * any emulator, asks sniff_kind() about its first bytes.
 * Contract: a TLS record header (0x16 0x03) is a ClientHello; a known
 * HTTP method and a space, or "PRI * HTTP/2", is HTTP; "SSH-" is SSH;
 * anything else, or a prefix that the connection's end or a full buffer
 * cuts short, is payload for capture. A client silent for SNIFF_WAIT_MS
 * gets one event saying so and then the capture emulator (which sends the
 * persona's banner.<port>, if any): a server-first protocol cannot be
 * known from nothing.
 * Events: request (event.dataset lure.catchall): lure.catchall.silent_ms
 * for a silent client; for a ClientHello with no TLS server in the
 * persona tls.client.ja3/ja4 and lure.tls_hello.ja3_string, ja4_r, or
 * error.message and lure.payload. request (lure.proxy): error.message,
 * lure.payload for a bad PROXY header (conn.c then closes, input_cap).
 * Compared with: Glutton's first-payload dispatch (TLS, HTTP, SSH by
 * prefix, else a TCP sink). Not modelled: other server-first protocols
 * (SMTP, FTP...) on ports the persona does not name. */
#include <string.h>

#include "emu_ctx.h"
#include "lure.h"
#include "persona.h"
#include "sniff.h"
#include "tlshello.h"

const struct emulator sniff_catchall = {.name = "catchall"};
const struct emulator sniff_proxy = {.name = "proxy"};

/* request lines by prefix (RFC 9110's methods, the HTTP/2 preface) */
static const char methods[][9] = {"GET ", "POST ", "HEAD ", "PUT ", "DELETE ",
        "OPTIONS ", "CONNECT ", "TRACE ", "PATCH ", "PRI * "};

enum sniff_kind
sniff_kind(const uint8_t *p, size_t n)
{
	int more = 0;

	if (n >= 2 && p[0] == 0x16 && p[1] == 3)
		return SNIFF_TLS;
	if (n && !memcmp(p, "SSH-", n < 4 ? n : 4))
		return n < 4 ? SNIFF_MORE : SNIFF_SSH;
	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
		size_t l = strlen(methods[i]);
		if (!memcmp(p, methods[i], n < l ? n : l)) {
			if (n >= l)
				return SNIFF_HTTP;
			more = 1;
		}
	}
	return more || (n == 1 && p[0] == 0x16) ? SNIFF_MORE : SNIFF_OTHER;
}

struct capture_state {
	size_t captured;
	unsigned events;
};

/* The banner emulator's capture, for personas built without it. */
static size_t
capture_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct capture_state *st = state;

	emu_capture(ctx, p, n, &st->captured, &st->events, 4096, 16);
	return n;
}

static const struct emulator capture = {
        .name = "banner",
        .transports = EMU_TCP,
        .state_size = sizeof(struct capture_state),
        .on_data = capture_data,
};

const struct emulator *
sniff_emu(enum sniff_kind k)
{
	const struct emulator *e = NULL;

	if (k == SNIFF_HTTP)
		e = emu_find("http");
	else if (k == SNIFF_SSH)
		e = emu_find("ssh");
	if (!e)
		e = emu_find("banner");
	return e ? e : &capture;
}

void
sniff_event(struct emu_ctx *ctx, const char *why, const uint8_t *p, size_t n,
        int64_t silent_ms)
{
	struct event *e = emu_event(ctx, "request");

	if (why)
		event_str(e, "error.message", why);
	if (n)
		event_bytes(e, "lure.payload", p, n, 256);
	if (silent_ms >= 0)
		event_int(e, "lure.catchall.silent_ms", silent_ms);
	event_commit(e);
}

int
sniff_tls(struct emu_ctx *ctx, const uint8_t *p, size_t n, int more)
{
	static struct tlshello h;
	struct event *e;
	int r = tlshello_parse(p, n, &h);

	if (r == TLSHELLO_MORE && more)
		return 1;
	if (r != TLSHELLO_DONE) {
		sniff_event(ctx, h.error ? h.error : "no complete ClientHello",
		        p, n, -1);
		return 0;
	}
	ctx->tls_ja3 = h.ja3;
	ctx->tls_ja4 = h.ja4;
	e = emu_event(ctx, "request");
	event_str(e, "lure.tls_hello.ja3_string", h.ja3_str);
	event_str(e, "lure.tls_hello.ja4_r", h.ja4_r);
	if (h.sni_len)
		event_bytes(e, "tls.client.server_name", h.sni, h.sni_len, 256);
	event_commit(e);
	return 0;
}
