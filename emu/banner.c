/* banner.c: send the persona's banner for this port (or nothing), then record
 * what the client sends: one "request" event per chunk read, with the bytes
 * in lure.payload, until banner.capture bytes or banner.events events have
 * been logged; later bytes are read and discarded. Over UDP, banner.<port> is
 * the reply to every datagram.
 * Persona keys:
 *   banner.<port>            bytes sent at once; over UDP, the reply to
 *                            every datagram
 *   banner.reply.<port>      bytes sent once, after the first bytes the
 *                            client sends (services silent until spoken to)
 *   banner.capture           bytes logged at most (4096)
 *   banner.events            events logged at most (16) */
#include <stdio.h>

#include "emu.h"
#include "fmt.h"
#include "persona.h"

struct banner_state {
	size_t captured;
	unsigned events;
	int replied;
};

static const char *
banner_for(struct emu_ctx *ctx, const char *kind, size_t *len)
{
	char key[40];

	fmt_snprintf(
	        key, sizeof key, "banner.%s%u", kind, (unsigned)emu_port(ctx));
	return persona_get(key, len);
}

static void
banner_open(struct emu_ctx *ctx, void *state)
{
	size_t n;
	const char *b = banner_for(ctx, "", &n);

	(void)state;
	if (b && n)
		emu_send_const(ctx, b, n);
}

static size_t
banner_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct banner_state *st = state;
	size_t cap = (size_t)persona_int("banner.capture", 4096);
	unsigned max_events = (unsigned)persona_int("banner.events", 16);
	size_t rn;
	const char *reply = st->replied ? NULL : banner_for(ctx, "reply.", &rn);

	if (reply && rn) {
		emu_send_const(ctx, reply, rn);
		st->replied = 1;
	}
	emu_capture(ctx, p, n, &st->captured, &st->events, cap, max_events);
	return n;
}

const struct emulator emu_banner = {
        .name = "banner",
        .transports = EMU_TCP | EMU_UDP,
        .state_size = sizeof(struct banner_state),
        .on_open = banner_open,
        .on_data = banner_data,
};
