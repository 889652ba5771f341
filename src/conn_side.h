/* conn_side.h: data channels (FTP's passive mode), for src/conn.c and
 * src/emu_ctx.c only. emu_side_listen() (src/emu.h) opens a TCP listener on
 * the local address the owner connection reached, on a random port from
 * 1024 (vsftpd's pasv_min_port 0 picks one so), that takes one connection:
 * from the owner's peer address only (vsftpd's pasv_promiscuous NO; others
 * are closed unread), after which the listener closes. Bytes that arrive
 * go to the owner's emulator (on_side); bytes it hands over
 * (emu_side_send_const()) go out, then the data connection closes. At
 * most CONN_SIDE_MAX at once, one per owner, closed with their owner; they
 * hold no timers: the owner's emulator has its own (vsftpd's
 * accept_timeout and data_connection_timeout). Compiled in when the persona
 * has an emulator that uses them (LURE_SIDE, the Makefile's SIDE). */
#ifndef LURE_CONN_SIDE_H
#define LURE_CONN_SIDE_H

#include <stddef.h>
#include <stdint.h>

#include "emu.h"

#define CONN_SIDE_MAX 32

/* What conn.c lends: the owner slot's context and state, and a call after
 * on_side() has run (its output and input may move now). */
struct conn_side_owner {
	struct emu_ctx *(*ctx)(size_t slot);
	void *(*state)(size_t slot);
	void (*kick)(size_t slot);
};

/* Once: the poller references [ref0, ref0 + CONN_SIDE_MAX) are the
 * channels'. */
void
conn_side_setup(uint32_t ref0, const struct conn_side_owner *owner);
/* A connection of slot opens: its context may open a channel. */
void
conn_side_attach(struct emu_ctx *ctx, size_t slot);
/* revents of channel i (its reference minus ref0). */
void
conn_side_handle(uint32_t i, short revents);
/* The owner closes: its channel goes without a word to the emulator. */
void
conn_side_drop(size_t slot);

#endif
