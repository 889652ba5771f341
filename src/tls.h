/* tls.h: TLS client and server as a sans-I/O engine. The TLS code never touches a
 * socket: the caller (the shipper, in the poll loop) moves bytes between the
 * socket and the engine's fixed buffers, then retries the operation that
 * returned TLS_WANT_IO. Exactly one backend is linked: TLS=mbedtls
 * (src/tls_mbedtls.c), TLS=bearssl (src/tls_bearssl.c) or TLS=none
 * (src/tls_none.c: every call fails with one message). One client session at a time, in static storage, and a
 * fixed pool of server sessions (see the server side below); the backend
 * allocates only from its heap (LURE_TLS_HEAP bytes, plus
 * LURE_TLS_SERVER_HEAP per server session, sized once at start-up).
 *
 * Moving bytes never advances the engine by itself, so after moving any
 * byte, call the operation again in the same pass. For the connected,
 * non-blocking socket fd and op = tls_handshake() (until TLS_OK), then
 * tls_write() / tls_read():
 *	do {
 *		r = op;
 *		moved = 0;
 *		while ((n = tls_net_out_pending(t, &o)) > 0 &&
 *			(w = send(fd, o, n, MSG_NOSIGNAL)) > 0)
 *			tls_net_out_done(t, w), moved = 1;
 *		while ((n = tls_net_in_space(t, &i)) > 0 &&
 *			(w = recv(fd, i, n, 0)) >= 0)
 *			tls_net_in_done(t, w), moved = 1;  (w == 0: closed)
 *	} while (r == TLS_WANT_IO && moved);
 *	then poll for POLLIN, and POLLOUT while tls_net_out_pending() > 0
 *	(TLS_WANT_IO from tls_write() always leaves bytes pending).
 * tls_read() returns what one record holds: call it until TLS_WANT_IO.
 * A send()/recv() error (other than EAGAIN) is the caller's: tls_free().
 * A session that returned TLS_ERR stays failed: log tls_error(), send what
 * tls_net_out_pending() still holds if convenient (an alert), tls_free().
 * Deadlines (handshake, idle) are the caller's too. */
#ifndef LURE_TLS_H
#define LURE_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* 1 when the persona has a tls port (the Makefile sets it from the
 * persona): src/conn_tls.c and src/certgen.c serve it. 0: their calls
 * compile out, and so does the server side they pull in. */
#ifndef LURE_TLS_SERVER
#define LURE_TLS_SERVER 1
#endif

enum {
	TLS_OK = 0,
	TLS_WANT_IO = -1, /* move bytes (see above), then call again */
	TLS_ERR = -2 /* fatal for the session: see tls_error() */
};

struct tls_conf {
	const char *ca_file; /* PEM (or DER) CA certificates to trust */
	int insecure; /* 1: no certificate or name check at all */
};

/* Once at start-up: static heap, CA certificates (into the heap; a large
 * bundle needs a large LURE_TLS_HEAP). Returns 0, or -1 with a message in
 * err. On success err may still hold a note to log (certificates of the file
 * that were skipped as unsupported); otherwise it is "". */
int
tls_global_init(const struct tls_conf *c, char *err, size_t errlen);

struct tls;

/* A client session for server_name: sent as SNI and checked against the
 * certificate (DNS names in subjectAltName or CN; an IP literal is checked
 * against iPAddress entries and not sent as SNI). Returns NULL when a
 * session is already open, on an uninitialised or out-of-memory engine, or
 * when no random bytes are available yet (early boot): tls_error(NULL). */
struct tls *
tls_client_new(const char *server_name);

/* TLS_OK once the handshake is complete, TLS_WANT_IO, or TLS_ERR. */
int
tls_handshake(struct tls *t);

/* Where to recv() socket bytes: returns the free space (0: none now, or
 * the peer has closed) and sets *p. Then report n bytes received; n == 0
 * means the peer closed the connection (recv() returned 0). */
size_t
tls_net_in_space(struct tls *t, uint8_t **p);
void
tls_net_in_done(struct tls *t, size_t n);

/* Bytes waiting to be sent (sets *p), and how many send() took. */
size_t
tls_net_out_pending(struct tls *t, const uint8_t **p);
void
tls_net_out_done(struct tls *t, size_t n);

/* Application data, after the handshake. tls_write returns how many bytes
 * it took (> 0; at most one record: 16 KiB for the client, 4 KiB for a
 * server session), TLS_WANT_IO or TLS_ERR.
 * tls_read returns bytes read (> 0), 0 when the server has closed the
 * connection (close_notify or end of stream), TLS_WANT_IO or TLS_ERR. */
ssize_t
tls_write(struct tls *t, const void *buf, size_t n);
ssize_t
tls_read(struct tls *t, void *buf, size_t n);

/* Queue a close_notify alert (then send tls_net_out_pending()). */
int
tls_close_notify(struct tls *t);

/* Protocol and cipher suite after the handshake ("TLSv1.2",
 * "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256"); "" before. */
void
tls_info(struct tls *t, const char **version, const char **cipher);

/* Human text for the last failure, e.g. "certificate verify failed for
 * es.example.org: The certificate is not correctly signed by the trusted
 * CA"; t == NULL: the failure of tls_client_new() or tls_global_init(). */
const char *
tls_error(const struct tls *t);

/* End the session (no alert: see tls_close_notify) and free its memory. */
void
tls_free(struct tls *t);

/* --- server side (emulated HTTPS) ----------------------------------------
 * A fixed number of server sessions, each a struct tls driven with the same
 * calls as the client session above (tls_handshake, tls_net_*, tls_read,
 * tls_write, tls_close_notify, tls_info, tls_error, tls_free). */

/* Once at start-up, before tls_global_init() and before the key and
 * certificate primitives below: room for `sessions` concurrent server
 * sessions (the heap grows by LURE_TLS_SERVER_HEAP each and is taken once;
 * nothing is allocated later). Returns 0 or -1 with a message in err. */
int
tls_server_init(unsigned sessions, char *err, size_t errlen);

/* The server's private key (DER, as tls_rsa_keygen() writes it) and its
 * certificate (DER). Returns 0 or -1 with a message in err. */
int
tls_server_cert(const uint8_t *key, size_t keylen, const uint8_t *cert,
        size_t certlen, char *err, size_t errlen);

/* The server's cipher suites (IANA numbers), in its order of preference,
 * which it enforces; after tls_server_cert(), before the first session.
 * Without it a backend offers its own list (src/mbedtls_config.h,
 * tls_bearssl.c). Returns 0, or -1 naming a suite the backend lacks. */
#define TLS_SUITES_MAX 32
int
tls_server_suites(const uint16_t *ids, size_t n, char *err, size_t errlen);

/* A free server session, or NULL when every session is busy or the server
 * side is not set up (tls_error(NULL) says which). */
struct tls *
tls_server_new(void);

/* Server sessions in use now, and configured. */
unsigned
tls_server_busy(void);
unsigned
tls_server_max(void);

/* --- primitives (certificates, fingerprints): a backend provides them so
 * src/certgen.c and src/tlshello.c need no crypto code of their own. Each
 * returns -1 (TLS=none, or failure) or as stated. */

/* Digests: 0 and the digest in out. */
int
tls_md5(const void *p, size_t n, uint8_t out[16]);
int
tls_sha256(const void *p, size_t n, uint8_t out[32]);

/* A new RSA key of bits (e = 65537) as a PKCS#1 RSAPrivateKey DER in key;
 * returns its length. Slow (seconds on a router): start-up only. */
ssize_t
tls_rsa_keygen(
        unsigned bits, uint8_t *key, size_t cap, char *err, size_t errlen);

/* The SubjectPublicKeyInfo DER of a key from tls_rsa_keygen(): length. */
ssize_t
tls_rsa_pubkey(const uint8_t *key, size_t keylen, uint8_t *out, size_t cap);

/* RSASSA-PKCS1-v1_5 signature with SHA-256 of msg: its length. */
ssize_t
tls_rsa_sign_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg,
        size_t n, uint8_t *sig, size_t cap);

/* The static heap: bytes now in use, the most ever in use (allocator block
 * headers included; the CA certificates stay in use), and its size. */
size_t
tls_heap_used(void);
size_t
tls_heap_peak(void);
size_t
tls_heap_size(void);

#endif
