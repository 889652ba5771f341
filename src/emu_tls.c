/* emu_tls.c: TLS inside an emulator's own framing (src/emu.h: emu_tls_*),
 * the core's side: a server session of the tls ports' pool (the persona's
 * certificate), fed with the bytes the emulator unwrapped and drained into
 * its buffer. Built when an emulator uses it (Makefile: EMU_TLS, for tds);
 * the loop ends the session with its connection (conn.c). The session is
 * not one conn_tls.c counts: under pressure it is never reclaimed, and a
 * client that finds none free gets the emulator's failure path. */
#include <string.h>

#include "emu_ctx.h"
#include "tls.h"

/* The engine's output appended to out[*outn..cap): -1 when it does not fit. */
static int
drain(struct tls *t, uint8_t *out, size_t cap, size_t *outn, int *moved)
{
	const uint8_t *o;
	size_t k;

	while ((k = tls_net_out_pending(t, &o)) > 0) {
		if (k > cap - *outn)
			return -1;
		memcpy(out + *outn, o, k);
		*outn += k;
		tls_net_out_done(t, k);
		*moved = 1;
	}
	return 0;
}

/* As much of p[0..*n) as the engine takes. */
static void
feed(struct tls *t, const uint8_t **p, size_t *n, int *moved)
{
	uint8_t *i;
	size_t k;

	while (*n && (k = tls_net_in_space(t, &i)) > 0) {
		if (k > *n)
			k = *n;
		memcpy(i, *p, k);
		tls_net_in_done(t, k);
		*p += k;
		*n -= k;
		*moved = 1;
	}
}

int
emu_tls_op(struct emu_ctx *c, int op, const uint8_t *p, size_t n, uint8_t *out,
        size_t cap, size_t *outn)
{
	struct tls *t = c->tls_s;
	int moved;
	ssize_t r;

	*outn = 0;
	if (op == EMU_TLS_END) {
		if (t)
			tls_free(t);
		c->tls_s = NULL;
		return 0;
	}
	if (!t && (op != EMU_TLS_SHAKE || c->starttls != 1 ||
	                  !(t = c->tls_s = tls_server_new())))
		return -1;
	if (op == EMU_TLS_WRITE) {
		while (n) {
			moved = 0;
			r = tls_write(t, p, n);
			if (r == TLS_ERR ||
			        drain(t, out, cap, outn, &moved) < 0)
				return -1;
			if (r > 0)
				p += r, n -= (size_t)r;
			else if (!moved)
				return -1;
		}
		return (int)*outn;
	}
	do {
		moved = 0;
		feed(t, &p, &n, &moved);
		if (op == EMU_TLS_SHAKE)
			r = tls_handshake(t);
		else if ((r = tls_read(t, out + *outn, cap - *outn)) > 0)
			*outn += (size_t)r, moved = 1;
		if (r == TLS_ERR)
			return -1;
		if (op == EMU_TLS_SHAKE && drain(t, out, cap, outn, &moved) < 0)
			return -1;
		if (op == EMU_TLS_SHAKE && r == TLS_OK)
			return 1;
	} while (moved && (op == EMU_TLS_SHAKE || *outn < cap) && r != 0);
	if (n)
		return -1; /* the engine took no more of it */
	return op == EMU_TLS_SHAKE ? 0 : (int)*outn;
}
