/* identity.h: who this sensor is. A persona declares identity templates
 * (persona.conf: `identity.NAME "TEMPLATE"`); lure draws a 32-byte seed on
 * first start, expands every template from it and keeps seed and values in
 * the state file (config "state_file"), so a sensor stays the same device
 * across restarts and no two sensors share a serial, MAC or key. Generated
 * blobs (TLS key and certificate, host keys) are kept there as well.
 *
 * Without identity_load() (transcripts, fuzzers, unit tests) the seed is
 * all zeros and values are expanded on first use: output is deterministic.
 * Writes happen only at start-up (identity_load, identity_blob_put), before
 * privileges are dropped.
 *
 * Persona keys:
 *   identity.<name>          a template (below); ${name} in persona strings
 *                            is its value
 *
 * Template syntax: literal text plus
 *   {hex:N} {HEX:N}  N random hex digits (lower / upper case)
 *   {dec:N}          N random decimal digits
 *   {B36:N}          N random base-36 digits, upper case: A-Z and 0-9
 *                    (a Windows host name's "WIN-" suffix)
 *   {date:YYYYMMDD:YYYYMMDD:FMT}  a random day in the range, FMT of the
 *                    letters Y (4 digits) y (2) m d and literal characters
 *   {uuid}           a random RFC 4122 version 4 UUID, lower case
 *   {ref:NAME}       the value of an identity declared earlier
 *   {hexof:NAME}     the same, keeping only its hex digits (a MAC's)
 *   {md5crypt:PW} {sha512crypt:PW}  crypt(3) of the password PW with
 *                    a random salt: "$1$" + 8 (BusyBox, OpenWrt) or "$6$"
 *                    + 16 (glibc, rounds 5000): an /etc/shadow hash that
 *                    PW verifies (src/pwhash.h; built in only for the
 *                    personas that use them: Makefile PWHASH)
 *   {{ }}            literal braces
 * Values are derived per NAME from the seed, so adding a template to a
 * persona never changes the values of the others. */
#ifndef LURE_IDENTITY_H
#define LURE_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#define IDENTITY_VALUE_MAX 128

/* Load path, or create it with a fresh seed (mode 0600, written to a
 * temporary file, fsync'ed and renamed). Values missing from the file are
 * expanded and the file rewritten. path "" = an ephemeral identity (new
 * random seed, nothing written). Returns 0, or -1 with a message in err. */
int
identity_load(const char *path, char *err, size_t errlen);

/* Value of identity NAME ("serial", "mac"...), or NULL when the persona
 * declares no such identity. */
const char *
identity_get(const char *name);

/* The 32-byte per-instance secret seed (for ETag seeds, nonce keys...). */
const uint8_t *
identity_seed(void);

/* Fill out with n bytes derived from the seed and label (deterministic per
 * instance; not for secrets that must differ per connection). */
void
identity_derive(const char *label, uint8_t *out, size_t n);

/* A stored blob (e.g. "tls.key"): returns 0 and sets *p, *n, or -1. */
int
identity_blob_get(const char *name, const uint8_t **p, size_t *n);
/* Store a blob and rewrite the state file (start-up only). 0 or -1 with a
 * message in err. With an ephemeral identity it is kept in memory only. */
int
identity_blob_put(
        const char *name, const uint8_t *p, size_t n, char *err, size_t errlen);

/* Expand template t[0..tn) as identity `name` would be (the random stream
 * is keyed by name and the seed) into out (cap bytes, NUL-terminated).
 * Returns 0, or -1 with the reason in err (bad template, too long). */
int
identity_template(const char *name, const char *t, size_t tn, char *out,
        size_t cap, char *err, size_t errlen);

/* Copy in[0..n) to out (cap bytes, always NUL-terminated), replacing each
 * "${name}" with identity_get(name). Unknown names are copied as they are.
 * Returns the length written (without the NUL); output that does not fit is
 * cut and the return value is cap (so callers can tell). */
size_t
identity_expand(const char *in, size_t n, char *out, size_t cap);

#endif
