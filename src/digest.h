/* digest.h: HTTP Digest access authentication (RFC 2617, and RFC 7616 with
 * MD5) as cameras' HTTP and RTSP servers speak it: the Authorization value
 * parsed into its parameters, the expected response computed for a password
 * and compared, the parameters put in a "login" event (for cracking offline)
 * and the nonces the personas hand out. No state; spans point into the
 * caller's header bytes. */
#ifndef LURE_DIGEST_H
#define LURE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

struct event;

enum {
	DIGEST_USERNAME,
	DIGEST_REALM,
	DIGEST_NONCE,
	DIGEST_URI,
	DIGEST_RESPONSE,
	DIGEST_CNONCE,
	DIGEST_NC,
	DIGEST_QOP,
	DIGEST_ALGORITHM,
	DIGEST_OPAQUE,
	DIGEST__MAX
};

/* The parameters sent (v[k] NULL: not sent); quoted values without their
 * quotes, escapes left as sent. */
struct digest {
	const uint8_t *v[DIGEST__MAX];
	size_t n[DIGEST__MAX];
};

/* Parse an Authorization value a[0..n), "Digest k=v, k="v"...": 1 when it
 * is Digest with a username. The first of a repeated parameter counts;
 * parameters are separated by commas, spaces and tabs, an unquoted value
 * ends at a comma or a space, unknown and malformed ones are skipped. */
int
digest_parse(const uint8_t *a, size_t n, struct digest *d);

/* Does d's response (32 hex digits, any case) answer for password pass in
 * realm to a request with this method? MD5; with qop, RFC 2617's
 * HA1:nonce:nc:cnonce:qop:HA2, without, RFC 2069's HA1:nonce:HA2. 0 when
 * the response, uri or nonce is missing. */
int
digest_check(const struct digest *d, const void *method, size_t ml,
        const void *realm, size_t rn, const void *pass, size_t pl);

/* The parameters sent as event fields: user.name, lure.auth.realm, .nonce,
 * .uri, .response, .cnonce, .nc, .qop, .algorithm, .opaque. */
void
digest_event(struct event *e, const struct digest *d);

/* A nonce of 32 random hex digits (RTSP cameras); out gets a NUL. */
void
digest_nonce_random(char out[33]);

/* A nonce as Hikvision's web server makes them: the hex of the base64 of
 * "<time hex>:<hex>", the second part keyed per sensor (identity) and
 * counted. Returns its length (0 when cap is too small); out gets a NUL. */
size_t
digest_nonce_stamped(char *out, size_t cap);

/* Basic credentials (RFC 7617, as nginx reads them: a whole base64 text)
 * of the Authorization value a[0..an) decoded into buf[0..cap): 1 and the
 * user and password spans in buf, else 0. */
int
digest_basic(const uint8_t *a, size_t an, uint8_t *buf, size_t cap,
        const uint8_t **user, size_t *ul, const uint8_t **pass, size_t *pl);

#endif
