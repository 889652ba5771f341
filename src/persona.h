/* persona.h: the device persona, generated at build time by tools/mkpersona
 * from emu/personas/<name>/persona.conf and files/. Emulators read their
 * strings here and hold none of their own.
 *
 * persona.conf: one "key value" per line; '#' starts a comment line. A value
 * is the rest of the line, or a "quoted string" with C escapes (\r \n \t \\
 * \" \xNN \0). Keys may repeat (order kept), e.g. http.header. Values may hold
 * placeholders the emulators expand, documented in the persona file.
 *
 * Persona keys of persona.conf itself. Every other key is declared in the
 * first comment of the module that reads it (emu/<emulator>.c, src/shell.c,
 * src/identity.h, src/certgen.c; the format is in tools/mkpersona.c), and
 * the build fails on a key nobody declared:
 *   port                     [required, repeated] "<port> tcp|udp
 *                            <emulator> [tls|starttls]": a listener
 *                            (tls: TLS from the first byte; starttls:
 *                            the emulator may start it, emu_starttls())
 *   hostname                 the device name (%h) unless the configuration
 *                            sets one (absent: "localhost")
 *   multicast.<port>         IPv4 group that UDP port joins when bound to
 *                            0.0.0.0 (src/conn.c) */
#ifndef LURE_PERSONA_H
#define LURE_PERSONA_H

#include <stddef.h>
#include <stdint.h>

/* 16 bytes on 64-bit targets (12 on 32-bit): the key is an offset into
 * persona_keys[], which holds each distinct key once (tools/mkpersona
 * writes designated initializers); persona_key() gives it */
struct persona_kv {
	const char *val; /* NUL-terminated too, but may hold NULs: use len */
	uint32_t len;
	uint16_t key, klen;
};

struct persona_file {
	const char *name; /* path under files/, e.g. "index.html" */
	const uint8_t *data;
	size_t len;
};

struct persona_port {
	uint16_t port;
	uint8_t transport; /* EMU_TCP or EMU_UDP */
	const char *emu;
	/* 1: TLS in front of the emulator ("port 443 tcp http tls"); 2: the
	 * emulator may start it ("port 25 tcp smtp starttls") */
	uint8_t tls;
};

extern const char persona_name[];
extern const struct persona_kv persona_kv[];
extern const char persona_keys[];
extern const size_t persona_nkv;
extern const struct persona_file persona_files[];
extern const size_t persona_nfiles;
extern const struct persona_port persona_ports[];
extern const size_t persona_nports;

/* The key of an entry (NUL-terminated, klen bytes). */
static inline const char *
persona_key(const struct persona_kv *kv)
{
	return persona_keys + kv->key;
}

/* First value of key (len may be NULL), or NULL. */
const char *
persona_get(const char *key, size_t *len);
/* Integer value of key, or def when absent or not a number. */
long
persona_int(const char *key, long def);
/* Iterate the values of a repeated key: start with *i = 0. */
const struct persona_kv *
persona_next(const char *key, size_t *i);
/* 1 when a value of the repeated key ("USER:PASSWORD", "*" for any user
 * or any password: ssh.accept, telnet.accept) lets user/pw log in. */
int
persona_accepts(const char *key, const void *user, size_t un, const void *pw,
        size_t pn);
const struct persona_file *
persona_file(const char *name);

#endif
