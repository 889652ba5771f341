/* certgen.h: the TLS server side of a persona at start-up. When a persona
 * port is marked tls, certgen_setup() sizes the TLS heap for the server
 * sessions, takes the per-instance key and self-signed certificate from the
 * identity state file (blobs "tls.key", "tls.cert") or generates them on
 * first start from the persona's tls.cert.* keys, and loads them into the
 * TLS backend. Call it after identity_load() and before anything else uses
 * TLS (the shipper) and before privileges are dropped. */
#ifndef LURE_CERTGEN_H
#define LURE_CERTGEN_H

#include <stddef.h>
#include <stdint.h>

/* Returns 1 when the server side is ready; 0 when there is nothing to
 * serve (no tls port, tls.server_sessions 0) or the backend cannot serve
 * (TLS=none, no server side, no memory: a log line says why, and conn.c
 * skips those ports); -1 with a message in err (key, certificate, state
 * file). */
int
certgen_setup(unsigned sessions, char *err, size_t errlen);

/* The DER certificate of the persona's subject for key (a PKCS#1 DER from
 * tls_rsa_keygen), self-signed with serial and validity as given: length,
 * or -1 with err. Exposed for tests. not_before is "YYYYMMDDhhmmss". */
long
certgen_make(const uint8_t *key, size_t keylen, const char *subject,
        const char *issuer, const uint8_t serial[8], const char *not_before,
        unsigned days, uint8_t *out, size_t cap, char *err, size_t errlen);

#endif
