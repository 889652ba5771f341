/* emu_ctx.c: the emulator API over an emu_ctx; no sockets here. */
#include <string.h>

#include "emu_ctx.h"
#include "lure.h"
#include "persona.h"

void
emu_ctx_reset(struct emu_ctx *c)
{
	c->out_off = c->out_len = 0;
	c->ref = NULL;
	c->ref_len = 0;
	c->close = 0;
	c->requested = 0;
	c->wake_at = 0;
	c->timer_at = 0;
	if (LURE_TLS_SERVER)
		c->starttls = 0;
	c->tls_ja3 = c->tls_ja4 = NULL;
}

int
emu_send(struct emu_ctx *c, const void *p, size_t n)
{
	if (c->ref_len) /* keep order: nothing may jump ahead of a reference */
		return -1;
	if (c->out_off && c->out_len + n > c->out_cap) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (n > c->out_cap - c->out_len) {
		c->refused += n;
		return -1;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return 0;
}

int
emu_send_const(struct emu_ctx *c, const void *p, size_t n)
{
	if (c->ref_len)
		return -1;
	c->ref = p;
	c->ref_len = n;
	return 0;
}

size_t
emu_space(struct emu_ctx *c)
{
	if (c->ref_len)
		return 0;
	return c->out_cap - (c->out_len - c->out_off);
}

void
emu_close(struct emu_ctx *c)
{
	c->close = 1;
}

void
emu_reset(struct emu_ctx *c)
{
	c->close = 2;
}

int
emu_side_listen(struct emu_ctx *c)
{
	return c->side ? c->side(c, EMU_SIDE_LISTEN, NULL, 0) : -1;
}

int
emu_side_send_const(struct emu_ctx *c, const void *p, size_t n)
{
	return c->side ? c->side(c, EMU_SIDE_DATA, p, n) : -1;
}

int
emu_side_send(struct emu_ctx *c, const void *p, size_t n)
{
	return c->side && n <= EMU_SIDE_COPY ? c->side(c, EMU_SIDE_SEND, p, n)
	                                     : -1;
}

void
emu_side_close(struct emu_ctx *c)
{
	if (c->side)
		c->side(c, EMU_SIDE_CLOSE, NULL, 0);
}

int
emu_starttls(struct emu_ctx *c)
{
	if (c->starttls != 1)
		return -1;
	c->starttls = 2;
	return 0;
}

int
emu_starttls_now(struct emu_ctx *c)
{
	if (c->starttls != 1)
		return -1;
	c->starttls = 3;
	return 0;
}

#if LURE_EMU_TLS
static int
tls_call(struct emu_ctx *c, int op, const uint8_t *p, size_t n, uint8_t *out,
        size_t cap, size_t *outn)
{
	*outn = 0;
	return c->tls_op ? c->tls_op(c, op, p, n, out, cap, outn) : -1;
}

int
emu_tls_shake(struct emu_ctx *c, const uint8_t *p, size_t n, uint8_t *out,
        size_t cap, size_t *outn)
{
	return tls_call(c, EMU_TLS_SHAKE, p, n, out, cap, outn);
}

int
emu_tls_read(
        struct emu_ctx *c, const uint8_t *p, size_t n, uint8_t *out, size_t cap)
{
	size_t k;

	return tls_call(c, EMU_TLS_READ, p, n, out, cap, &k);
}

int
emu_tls_write(
        struct emu_ctx *c, const uint8_t *p, size_t n, uint8_t *out, size_t cap)
{
	size_t k;

	return tls_call(c, EMU_TLS_WRITE, p, n, out, cap, &k);
}

int
emu_tls_able(struct emu_ctx *c)
{
	return c->tls_op && c->starttls == 1;
}

void
emu_tls_end(struct emu_ctx *c)
{
	size_t k;

	(void)tls_call(c, EMU_TLS_END, NULL, 0, NULL, 0, &k);
}
#endif

void
emu_wake(struct emu_ctx *c, int64_t ms)
{
	c->wake_at = ms > 0 ? lure_now() + ms : 0;
}

void
emu_timer(struct emu_ctx *c, int64_t ms)
{
	c->timer_at = ms > 0 ? lure_now() + ms : 0;
}

uint16_t
emu_port(struct emu_ctx *c)
{
	return c->persona_port;
}

const char *
emu_local_addr(struct emu_ctx *c)
{
	return c->dst_ip;
}

const char *
emu_peer_addr(struct emu_ctx *c)
{
	return c->src_ip;
}

uint16_t
emu_peer_port(struct emu_ctx *c)
{
	return c->src_port;
}

const char *
emu_hostname(struct emu_ctx *c)
{
	const char *h =
	        c->hostname ? c->hostname : persona_get("hostname", NULL);

	return h ? h : "localhost";
}

struct event *
emu_event(struct emu_ctx *c, const char *action)
{
	struct event *e;

	/* not the TLS ClientHello's (conn_tls.c: an emulator with no
	 * on_data) nor the core's connection.* */
	if (c->emu && c->emu->on_data && strncmp(action, "conn", 4))
		c->requested = 1;
	if (c->excluded)
		return NULL;
	e = event_begin(action, c->emu ? c->emu->name : "unknown");
	event_str(e, "source.ip", c->src_ip);
	event_int(e, "source.port", c->src_port);
	event_str(e, "destination.ip", c->dst_ip);
	event_int(e, "destination.port", c->local_port);
	if (c->persona_port != c->local_port)
		event_int(e, "lure.persona_port", c->persona_port);
	event_str(e, "network.transport",
	        c->transport == EMU_UDP ? "udp" : "tcp");
	if (c->session[0])
		event_str(e, "lure.session", c->session);
	if (c->tls_ja3 && c->tls_ja3[0])
		event_str(e, "tls.client.ja3", c->tls_ja3);
	if (c->tls_ja4 && c->tls_ja4[0])
		event_str(e, "tls.client.ja4", c->tls_ja4);
	return e;
}

void
emu_capture(struct emu_ctx *ctx, const uint8_t *p, size_t n, size_t *captured,
        unsigned *events, size_t cap, unsigned max_events)
{
	struct event *e;

	if (*captured >= cap || *events >= max_events)
		return;
	e = emu_event(ctx, "request");
	event_bytes(e, "lure.payload", p, n, LURE_MIN(n, cap - *captured));
	event_int(e, "source.bytes", (int64_t)n);
	event_commit(e);
	*captured += LURE_MIN(n, cap - *captured);
	(*events)++;
}

size_t
emu_ctx_pending(const struct emu_ctx *c)
{
	return c->out_len - c->out_off + c->ref_len;
}

size_t
emu_ctx_peek(const struct emu_ctx *c, const uint8_t **p)
{
	if (c->out_len > c->out_off) {
		*p = c->out + c->out_off;
		return c->out_len - c->out_off;
	}
	*p = c->ref;
	return c->ref_len;
}

void
emu_ctx_sent(struct emu_ctx *c, size_t n)
{
	if (c->out_len > c->out_off) {
		c->out_off += n;
		if (c->out_off == c->out_len)
			c->out_off = c->out_len = 0;
		return;
	}
	c->ref += n;
	c->ref_len -= n;
	if (!c->ref_len)
		c->ref = NULL;
}

int
emu_ctx_pump(
        struct emu_ctx *c, void *state, uint8_t *in, size_t *len, size_t cap)
{
	while (*len && !c->close && !c->wake_at &&
	        (!LURE_TLS_SERVER || c->starttls < 2) && !emu_ctx_pending(c)) {
		size_t used = c->emu->on_data(c, state, in, *len);
		if (used > *len)
			used = *len;
		if (!used)
			return *len >= cap ? -1 : 0;
		memmove(in, in + used, *len - used);
		*len -= used;
	}
	return 0;
}
