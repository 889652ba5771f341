/* harness.h: drive one emulator without sockets, as the core would: bytes in,
 * bytes out, events out. Used by transcripts, the property driver and fuzzers. */
#ifndef LURE_HARNESS_H
#define LURE_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "emu_ctx.h"

#define HARNESS_IN 4096 /* same as the core's default per-connection input */
#define HARNESS_IN_MAX 65536 /* room for an emulator's in_min */
#define HARNESS_OUT 4096

struct harness {
	struct emu_ctx ctx;
	const struct emulator *emu;
	uint8_t state[65536] __attribute__((aligned(16)));
	uint8_t in[HARNESS_IN_MAX];
	size_t in_len, in_cap; /* held; HARNESS_IN or the emulator's in_min */
	uint8_t out[HARNESS_OUT];
	int closed; /* the emulator or the harness closed it */
	int outbox; /* consumer id */
	/* a data channel (emu_side_listen()) once harness_sides() is called:
	 * 0 none, 1 listening, 2 connected, 3 sending its bytes */
	int side;
};

/* Once per process: outbox, identity, clock pinned to wall_ms (0: real). */
void
harness_global(int64_t wall_ms);
/* Open a connection to emulator name on persona port; -1 if unknown. */
int
harness_open(struct harness *h, const char *name, uint16_t port, int udp);
/* Client sends bytes (split as given); returns -1 once closed. */
int
harness_send(struct harness *h, const void *p, size_t n);
/* Advance the clock; fires on_timeout when due. */
void
harness_tick(struct harness *h, int64_t ms);
/* Peer closes (or harness gives up): on_close. */
void
harness_close(struct harness *h, enum emu_close_reason why);
/* Give the emulator data channels (the core's, src/conn_side.h), played
 * by harness_side(): off by default (emu_side_listen() gives -1). */
void
harness_sides(struct harness *h);
/* The data channel's next step: a listener gets its connection, a
 * connection sending gets closed once sent, an idle one brings a few
 * bytes (an upload). */
void
harness_side(struct harness *h);
/* Take what the server sent since the last call. */
size_t
harness_take_output(struct harness *h, uint8_t *buf, size_t cap);
/* Take committed event lines (NDJSON) since the last call. */
size_t
harness_take_events(struct harness *h, char *buf, size_t cap);

#endif
