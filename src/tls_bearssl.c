/* tls_bearssl.c: src/tls.h on BearSSL 0.6, built by toolchains/deps.sh.
 * BearSSL does no I/O itself: tls_net_* expose its record buffers directly.
 * TLS 1.2 only, the same six ECDHE AEAD suites as src/mbedtls_config.h; no
 * heap at all: trust anchors live in one static arena (LURE_TLS_HEAP),
 * reported as the "heap" of tls.h. Error texts follow tls_mbedtls.c.
 * Server sessions (emulated HTTPS): a pool allocated once by
 * tls_server_init(), an RSA key and certificate from src/certgen.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "bearssl.h"

#include "fdio.h"
#include "fmt.h"
#include "hash.h"
#include "tls.h"

/* Trust anchors (DN and key of each CA certificate) in one arena: about
 * 400 B for a P-256 CA, 700 B for RSA-4096. */
#ifndef LURE_TLS_HEAP
#define LURE_TLS_HEAP (64 * 1024)
#endif
#ifndef LURE_TLS_MAX_CA
#define LURE_TLS_MAX_CA 256
#endif
/* The leaf certificate is kept for the iPAddress check of IP literals. */
#define LEAF_MAX 8192
/* A server session's records carry at most 4 KiB; the client's (the
 * shipper's bulk requests) full 16 KiB records, from client_obuf: a quarter
 * of the records to seal and of the sends. Records in are up to 16 KiB. */
#define OUT_BUF (4096 + 85)

/* An X.509 engine wrapping br_x509_minimal: in insecure mode it only
 * decodes the leaf's key; for an IP literal it checks the leaf's
 * subjectAltName iPAddress entries itself (BearSSL checks DNS names only). */
struct xwrap {
	const br_x509_class *vtable;
	br_x509_minimal_context *inner;
	br_x509_decoder_context dec;
	int depth, insecure, iplen;
	unsigned err;
	uint8_t ip[16];
	size_t leaf_len, leaf_want;
	uint8_t leaf[LEAF_MAX];
};

struct tls {
	br_ssl_engine_context *eng; /* &u.c.cc.eng or &u.sc.eng */
	int in_use, server, failed, peer_eof, done, closed;
	char name[256];
	char err[640];
	union {
		struct {
			br_ssl_client_context cc;
			br_x509_minimal_context xc;
			struct xwrap xw;
		} c;
		br_ssl_server_context sc;
	} u;
	unsigned char ibuf[BR_SSL_BUFSIZE_INPUT], obuf[OUT_BUF];
};

static unsigned char client_obuf[BR_SSL_BUFSIZE_OUTPUT];
static _Alignas(16) unsigned char heap[LURE_TLS_HEAP];
static size_t heap_len;
static br_x509_trust_anchor anchors[LURE_TLS_MAX_CA];
static size_t n_anchors;
static int ready, insecure;
static unsigned sbusy; /* server sessions in use */
static struct tls session;
static char global_err[256];

static const uint16_t suites[] = {
        BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384};

/* mbedTLS's names, so logs and events read the same with either backend */
static const struct {
	uint16_t id;
	const char *name;
} suite_names[] = {{BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                           "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256"},
        {BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
                "TLS-ECDHE-RSA-WITH-CHACHA20-POLY1305-SHA256"},
        {BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"},
        {BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256"},
        {BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384"},
        {BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                "TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384"},
        {BR_TLS_RSA_WITH_AES_128_GCM_SHA256, "TLS-RSA-WITH-AES-128-GCM-SHA256"},
        {BR_TLS_RSA_WITH_AES_256_GCM_SHA384,
                "TLS-RSA-WITH-AES-256-GCM-SHA384"}};

/* TLS alert names (RFC 8446 6, RFC 5246 7.2): codes and names by index */
static const uint16_t alert_codes[] = {0, 10, 20, 22, 40, 42, 43, 44, 45, 46,
        47, 48, 49, 50, 51, 70, 71, 80, 86, 90, 109, 110, 112, 116, 120};
static const char alert_names[] =
        "close_notify\0unexpected_message\0bad_record_mac\0"
        "record_overflow\0handshake_failure\0bad_certificate\0"
        "unsupported_certificate\0certificate_revoked\0"
        "certificate_expired\0certificate_unknown\0illegal_parameter\0"
        "unknown_ca\0access_denied\0decode_error\0decrypt_error\0"
        "protocol_version (this client speaks TLS 1.2 only)\0"
        "insufficient_security\0internal_error\0inappropriate_fallback\0"
        "user_canceled\0missing_extension\0unsupported_extension\0"
        "unrecognized_name\0certificate_required\0"
        "no_application_protocol";

/* Certificate failures worded as mbedTLS words them: codes (BearSSL's
 * X.509 errors are 32 to 63) and texts by index */
static const uint16_t x509_codes[] = {BR_ERR_X509_NOT_TRUSTED,
        BR_ERR_X509_BAD_SERVER_NAME, BR_ERR_X509_EXPIRED,
        BR_ERR_X509_TIME_UNKNOWN, BR_ERR_X509_BAD_SIGNATURE, BR_ERR_X509_NOT_CA,
        BR_ERR_X509_FORBIDDEN_KEY_USAGE, BR_ERR_X509_WEAK_PUBLIC_KEY,
        BR_ERR_X509_CRITICAL_EXTENSION, BR_ERR_X509_UNSUPPORTED,
        BR_ERR_X509_DN_MISMATCH, BR_ERR_X509_EMPTY_CHAIN,
        BR_ERR_X509_LIMIT_EXCEEDED};
static const char x509_texts[] =
        "The certificate is not correctly signed by the trusted CA\0"
        "The certificate Common Name (CN) does not match with the expected CN\0"
        "The certificate validity has expired or starts in the future\0"
        "The current time is unknown\0"
        "A certificate signature is invalid\0"
        "An intermediate certificate is not a CA\0"
        "Usage does not match the keyUsage extension\0"
        "The public key is too weak\0"
        "An unsupported critical extension\0"
        "An unsupported algorithm in the chain\0"
        "The chain's names do not link up\0"
        "The server sent no certificate\0"
        "The chain exceeds a BearSSL limit";

static void *
arena(size_t n)
{
	void *p;

	n = (n + 7) & ~(size_t)7;
	if (n > sizeof heap - heap_len)
		return NULL;
	p = heap + heap_len;
	heap_len += n;
	return p;
}

/* --- trust anchors from a PEM or DER file ------------------------------ */

struct ca_load {
	br_x509_decoder_context dec;
	unsigned char *dn;
	size_t dn_len, mark; /* mark: the arena before this certificate */
	int oom;
};

static void
ca_dn(void *ctx, const void *buf, size_t len)
{
	struct ca_load *l = ctx;

	/* the DN arrives in pieces: keep them contiguous in the arena */
	if (l->dn == NULL) {
		heap_len = (heap_len + 7) & ~(size_t)7;
		l->dn = heap + heap_len;
	}
	if (len > sizeof heap - heap_len) {
		l->oom = 1;
		return;
	}
	memcpy(heap + heap_len, buf, len);
	heap_len += len;
	l->dn_len += len;
}

/* br_x509_decoder_push() once the certificate is complete or broken runs
 * a finished decoder (a NULL dereference in BearSSL 0.6): bytes after the
 * end, or after an error, are dropped here. */
static void
dec_push(br_x509_decoder_context *dc, const void *buf, size_t len)
{
	/* last_error() says TRUNCATED until the end: the fields tell */
	if (dc->err == 0 && !dc->decoded)
		br_x509_decoder_push(dc, buf, len);
}

static void
ca_begin(struct ca_load *l)
{
	l->dn = NULL;
	l->dn_len = 0;
	l->mark = heap_len;
	br_x509_decoder_init(&l->dec, ca_dn, l);
}

static unsigned char *
copy(const unsigned char *p, size_t n)
{
	unsigned char *q = arena(n);

	if (q != NULL)
		memcpy(q, p, n);
	return q;
}

/* The certificate fed to l->dec is complete: keep it as an anchor.
 * Returns 0, 1 when it was skipped (undecodable), -1 when out of room. */
static int
ca_end(struct ca_load *l)
{
	br_x509_trust_anchor *ta;
	const br_x509_pkey *pk;

	if (l->oom)
		return -1;
	pk = br_x509_decoder_get_pkey(&l->dec);
	if (pk == NULL || br_x509_decoder_last_error(&l->dec) != 0) {
		heap_len = l->mark; /* its DN */
		return 1;
	}
	if (n_anchors == LURE_TLS_MAX_CA)
		return -1;
	ta = &anchors[n_anchors];
	memset(ta, 0, sizeof *ta);
	ta->dn.data = l->dn;
	ta->dn.len = l->dn_len;
	ta->flags = br_x509_decoder_isCA(&l->dec) ? BR_X509_TA_CA : 0;
	ta->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = copy(pk->key.rsa.n, pk->key.rsa.nlen);
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = copy(pk->key.rsa.e, pk->key.rsa.elen);
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
		if (ta->pkey.key.rsa.n == NULL || ta->pkey.key.rsa.e == NULL)
			return -1;
	} else {
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = copy(pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
		if (ta->pkey.key.ec.q == NULL)
			return -1;
	}
	n_anchors++;
	return 0;
}

/* PEM (RFC 7468) by lines: "-----BEGIN CERTIFICATE-----" (or X509
 * CERTIFICATE) to "-----END ...-----", its base64 decoded (hash_unb64)
 * in whole quanta as the lines come into the X.509 decoder; other objects
 * and text outside them skipped. 0, 1 (malformed: a BEGIN inside an
 * object, an END outside one, bad base64, a file ending inside one), -1
 * (out of room). BearSSL's own PEM decoder is 1.8 KB more code. */
static int
load_pem(struct fdio *f, struct ca_load *l, int *skipped)
{
	char line[256], q[512];
	uint8_t out[384];
	size_t nq = 0;
	int in = 0; /* 1: in a certificate, 2: in another object */

	while (fdio_gets(f, line, sizeof line)) {
		if (strncmp(line, "-----BEGIN ", 11) == 0) {
			if (in)
				return 1;
			in = strncmp(line + 11, "CERTIFICATE-----", 16) == 0 ||
			                     strncmp(line + 11,
			                             "X509 CERTIFICATE-----",
			                             21) == 0
			             ? 1
			             : 2;
			nq = 0;
			if (in == 1)
				ca_begin(l);
			continue;
		}
		if (strncmp(line, "-----END ", 9) == 0) {
			int r;
			if (!in)
				return 1;
			if (in == 1) {
				long n = hash_unb64(q, nq, out, sizeof out, 0);
				if (n < 0)
					return 1;
				dec_push(&l->dec, out, (size_t)n);
				if ((r = ca_end(l)) < 0)
					return -1;
				*skipped += r;
			}
			in = 0;
			continue;
		}
		for (char *c = line; in == 1 && *c; c++) {
			long n;
			if (*c == ' ' || (*c >= '\t' && *c <= '\r'))
				continue;
			q[nq++] = *c;
			if (nq < sizeof q)
				continue;
			if ((n = hash_unb64(q, nq, out, sizeof out, 0)) < 0)
				return 1;
			dec_push(&l->dec, out, (size_t)n);
			nq = 0;
		}
	}
	return in != 0;
}

/* A DER file streams straight into the X.509 decoder, a PEM file line by
 * line (load_pem): no copy of the file is kept. */
static int
load_ca(const char *file, char *err, size_t errlen)
{
	static struct ca_load l;
	static struct fdio f;
	unsigned char buf[2048];
	int skipped = 0, r = 0, bad = 0, der;
	ssize_t n;

	if (fdio_open(&f, file) < 0) {
		fmt_snprintf(err, errlen, "tls: CA file %s: %s", file,
		        fmt_strerror(errno));
		return -1;
	}
	n = pread(f.fd, buf, 1, 0);
	if ((der = n == 1 && buf[0] == 0x30)) {
		ca_begin(&l);
		while ((n = read(f.fd, buf, sizeof buf)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;
			dec_push(&l.dec, buf, (size_t)n);
		}
	} else if (n >= 0) {
		r = load_pem(&f, &l, &skipped);
		bad = r == 1;
		r = r < 0 ? -1 : 0;
	}
	if (n < 0) {
		fmt_snprintf(err, errlen, "tls: CA file %s: %s", file,
		        fmt_strerror(errno));
		fdio_close(&f);
		return -1;
	}
	fdio_close(&f);
	if (der) {
		r = ca_end(&l);
		skipped += r == 1;
		r = r < 0 ? -1 : 0;
	}
	if (r < 0) {
		fmt_snprintf(err, errlen,
		        "tls: CA file %s: more than fits the TLS heap (%zu "
		        "bytes, %d certificates; build with a larger "
		        "LURE_TLS_HEAP)",
		        file, sizeof heap, LURE_TLS_MAX_CA);
		return -1;
	}
	if (n_anchors == 0) {
		fmt_snprintf(err, errlen, "tls: CA file %s: %s", file,
		        bad || skipped == 0
		                ? "X509 - The CRT/CRL/CSR format is invalid"
		                : "no usable certificate");
		return -1;
	}
	if (skipped > 0)
		fmt_snprintf(err, errlen,
		        "tls: CA file %s: %d certificates skipped (unsupported "
		        "algorithms or malformed)",
		        file, skipped);
	return 0;
}

/* --- the X.509 wrapper ------------------------------------------------- */

/* DER: read one TLV at *p (< end); 0 and *p past it, or -1. */
static int
der_next(const uint8_t **p, const uint8_t *end, unsigned *tag,
        const uint8_t **v, size_t *len)
{
	const uint8_t *q = *p;
	size_t n, k;

	if (end - q < 2)
		return -1;
	*tag = *q++;
	n = *q++;
	if (n & 0x80) {
		k = n & 0x7f;
		if (k == 0 || k > 3 || (size_t)(end - q) < k)
			return -1;
		for (n = 0; k > 0; k--)
			n = n << 8 | *q++;
	}
	if ((size_t)(end - q) < n)
		return -1;
	*v = q;
	*len = n;
	*p = q + n;
	return 0;
}

/* Does the certificate list ip (4 or 16 bytes) as a subjectAltName
 * iPAddress? */
static int
san_has_ip(const uint8_t *c, size_t clen, const uint8_t *ip, size_t iplen)
{
	static const uint8_t san_oid[] = {0x55, 0x1d, 0x11};
	const uint8_t *p = c, *end = c + clen, *v, *tbs_end, *e, *ee;
	unsigned tag;
	size_t len;

	/* Certificate SEQUENCE, then tbsCertificate SEQUENCE */
	if (der_next(&p, end, &tag, &v, &len) || tag != 0x30)
		return 0;
	p = v;
	if (der_next(&p, v + len, &tag, &v, &len) || tag != 0x30)
		return 0;
	p = v;
	tbs_end = v + len;
	while (p < tbs_end) { /* up to extensions [3] */
		if (der_next(&p, tbs_end, &tag, &v, &len))
			return 0;
		if (tag == 0xa3)
			break;
	}
	if (tag != 0xa3)
		return 0;
	p = v;
	if (der_next(&p, v + len, &tag, &v, &len) || tag != 0x30)
		return 0;
	for (e = v, ee = v + len; e < ee;) { /* each Extension */
		const uint8_t *x, *xe;
		if (der_next(&e, ee, &tag, &v, &len) || tag != 0x30)
			return 0;
		x = v;
		xe = v + len;
		if (der_next(&x, xe, &tag, &v, &len) || tag != 0x06)
			return 0;
		if (len != sizeof san_oid || memcmp(v, san_oid, len) != 0)
			continue;
		if (der_next(&x, xe, &tag, &v, &len))
			return 0;
		if (tag == 0x01 && der_next(&x, xe, &tag, &v, &len))
			return 0; /* critical */
		if (tag != 0x04)
			return 0;
		x = v;
		if (der_next(&x, v + len, &tag, &v, &len) || tag != 0x30)
			return 0;
		for (x = v, xe = v + len; x < xe;) { /* GeneralNames */
			if (der_next(&x, xe, &tag, &v, &len))
				return 0;
			if (tag == 0x87 && len == iplen &&
			        memcmp(v, ip, iplen) == 0)
				return 1;
		}
		return 0;
	}
	return 0;
}

static void
xw_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct xwrap *w = (struct xwrap *)(void *)ctx;

	w->depth = 0;
	w->err = 0;
	w->leaf_len = 0;
	if (w->insecure)
		return;
	/* an IP literal: no DNS name check, ours below */
	w->inner->vtable->start_chain(
	        &w->inner->vtable, w->iplen ? NULL : server_name);
}

static void
xw_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct xwrap *w = (struct xwrap *)(void *)ctx;

	if (w->depth == 0) {
		w->leaf_want = length;
		if (w->insecure)
			br_x509_decoder_init(&w->dec, NULL, NULL);
	}
	if (!w->insecure)
		w->inner->vtable->start_cert(&w->inner->vtable, length);
}

static void
xw_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct xwrap *w = (struct xwrap *)(void *)ctx;

	if (w->depth == 0) {
		if (w->insecure)
			dec_push(&w->dec, buf, len);
		if (w->iplen && len <= sizeof w->leaf - w->leaf_len)
			memcpy(w->leaf + w->leaf_len, buf, len);
		w->leaf_len += len;
	}
	if (!w->insecure)
		w->inner->vtable->append(&w->inner->vtable, buf, len);
}

static void
xw_end_cert(const br_x509_class **ctx)
{
	struct xwrap *w = (struct xwrap *)(void *)ctx;

	if (!w->insecure)
		w->inner->vtable->end_cert(&w->inner->vtable);
	w->depth++;
}

static unsigned
xw_end_chain(const br_x509_class **ctx)
{
	struct xwrap *w = (struct xwrap *)(void *)ctx;

	if (w->insecure) {
		w->err = w->depth == 0 ? BR_ERR_X509_EMPTY_CHAIN
		         : br_x509_decoder_get_pkey(&w->dec) == NULL
		                 ? BR_ERR_X509_UNSUPPORTED
		                 : 0;
		return w->err;
	}
	w->err = w->inner->vtable->end_chain(&w->inner->vtable);
	if (w->err == 0 && w->iplen &&
	        (w->leaf_len > sizeof w->leaf ||
	                !san_has_ip(
	                        w->leaf, w->leaf_len, w->ip, (size_t)w->iplen)))
		w->err = BR_ERR_X509_BAD_SERVER_NAME;
	return w->err;
}

static const br_x509_pkey *
xw_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct xwrap *w = (struct xwrap *)(void *)ctx;

	if (w->insecure) {
		if (usages != NULL)
			*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
		return br_x509_decoder_get_pkey(&w->dec);
	}
	if (w->err != 0)
		return NULL;
	return w->inner->vtable->get_pkey(
	        (const br_x509_class *const *)&w->inner->vtable, usages);
}

static const br_x509_class xw_vtable = {sizeof(struct xwrap), xw_start_chain,
        xw_start_cert, xw_append, xw_end_cert, xw_end_chain, xw_get_pkey};

/* --- errors ---------------------------------------------------------- */

static int
fail(struct tls *t, const char *what)
{
	int e = br_ssl_engine_last_error(t->eng);
	const char *text = NULL;

	t->failed = 1;
	if (e >= BR_ERR_X509_OK && e <= BR_ERR_X509_NOT_TRUSTED) {
		if (!t->server && t->u.c.xw.err != 0)
			e = (int)t->u.c.xw.err;
		text = fmt_pick(
		        x509_codes, sizeof x509_codes / 2, x509_texts, e);
		if (text != NULL)
			fmt_snprintf(t->err, sizeof t->err,
			        "certificate verify failed for %s: %s", t->name,
			        text);
		else
			fmt_snprintf(t->err, sizeof t->err,
			        "certificate verify failed for %s: X.509 "
			        "error %d (BearSSL)",
			        t->name, e);
	} else if (e >= BR_ERR_RECV_FATAL_ALERT &&
	           e < BR_ERR_SEND_FATAL_ALERT) {
		unsigned code = (unsigned)(e - BR_ERR_RECV_FATAL_ALERT);
		if (!(text = fmt_pick(alert_codes, sizeof alert_codes / 2,
		              alert_names, (int)code)))
			text = "unknown";
		fmt_snprintf(t->err, sizeof t->err,
		        "%s: the %s sent the fatal alert %u %s", what,
		        t->server ? "client" : "server", code, text);
	} else if (!t->done &&
	           (e == BR_ERR_UNSUPPORTED_VERSION ||
	                   e == BR_ERR_UNKNOWN_TYPE || e == BR_ERR_BAD_LENGTH ||
	                   e == BR_ERR_TOO_LARGE)) {
		fmt_snprintf(t->err, sizeof t->err,
		        "%s: the %s does not speak TLS (invalid record)", what,
		        t->server ? "client" : "server");
	} else if (e == BR_ERR_OK || e == BR_ERR_IO) {
		fmt_snprintf(t->err, sizeof t->err,
		        "%s: the %s closed the connection", what,
		        t->server ? "client" : "server");
	} else if (e == BR_ERR_NO_RANDOM) {
		fmt_snprintf(
		        t->err, sizeof t->err, "%s: no random bytes", what);
	} else {
		fmt_snprintf(
		        t->err, sizeof t->err, "%s: BearSSL error %d", what, e);
	}
	return TLS_ERR;
}

/* --- tls.h ------------------------------------------------------------- */

int
tls_global_init(const struct tls_conf *c, char *err, size_t errlen)
{
	fmt_snprintf(err, errlen, "%s", "");
	if (ready) {
		fmt_snprintf(err, errlen, "tls: already initialised");
		return -1;
	}
	if (!c->insecure && (c->ca_file == NULL || c->ca_file[0] == '\0')) {
		fmt_snprintf(err, errlen,
		        "tls: no CA file to verify the server with (set a CA "
		        "file, or insecure to skip verification)");
		return -1;
	}
	heap_len = 0;
	n_anchors = 0;
	insecure = c->insecure;
	if (!insecure && load_ca(c->ca_file, err, errlen) != 0)
		return -1;
	ready = 1;
	return 0;
}

/* The client's curves: X25519, P-256, P-384 and P-521 as br_ec_all_m31
 * offers them, but on BearSSL's generic code only (prime_i31, whose i31
 * arithmetic the RSA verifier shares, and c25519_i31) without p256_m31's
 * and c25519_m31's fast paths: 8 KiB less code on x86_64, 6 KiB on armhf,
 * for 1-2 ms more per handshake on x86_64 (a multiplication takes 0.5 ms
 * instead of 0.2 on X25519, 1.6 ms instead of 0.5 on P-256). A build with
 * a TLS server links ec_all_m31 as well, for its own handshakes. */
static const br_ec_impl *
ec_of(int curve)
{
	return curve == BR_EC_curve25519 ? &br_ec_c25519_i31 : &br_ec_prime_i31;
}

static const unsigned char *
ec_generator(int curve, size_t *len)
{
	return ec_of(curve)->generator(curve, len);
}

static const unsigned char *
ec_order(int curve, size_t *len)
{
	return ec_of(curve)->order(curve, len);
}

static size_t
ec_xoff(int curve, size_t *len)
{
	return ec_of(curve)->xoff(curve, len);
}

static uint32_t
ec_mul(unsigned char *g, size_t glen, const unsigned char *k, size_t klen,
        int curve)
{
	return ec_of(curve)->mul(g, glen, k, klen, curve);
}

static size_t
ec_mulgen(unsigned char *r, const unsigned char *k, size_t klen, int curve)
{
	return ec_of(curve)->mulgen(r, k, klen, curve);
}

static uint32_t
ec_muladd(unsigned char *a, const unsigned char *b, size_t len,
        const unsigned char *x, size_t xlen, const unsigned char *y,
        size_t ylen, int curve)
{
	return ec_of(curve)->muladd(a, b, len, x, xlen, y, ylen, curve);
}

static const br_ec_impl client_ec = {
        1u << BR_EC_secp256r1 | 1u << BR_EC_secp384r1 | 1u << BR_EC_secp521r1 |
                1u << BR_EC_curve25519,
        ec_generator, ec_order, ec_xoff, ec_mul, ec_mulgen, ec_muladd};

static void
setup(struct tls *t)
{
	/* certificate signatures: the SHA-2 family, as mbedTLS's default
	 * verify profile (a chain signed with SHA-1 is refused; a SHA-1
	 * self-signed root still loads: an anchor's own signature is never
	 * checked); TLS 1.2 itself (PRF, handshake signatures) uses
	 * SHA-256/384/512 */
	static const struct {
		int id;
		const br_hash_class *impl;
	} hashes[] = {{br_sha224_ID, &br_sha224_vtable},
	        {br_sha256_ID, &br_sha256_vtable},
	        {br_sha384_ID, &br_sha384_vtable},
	        {br_sha512_ID, &br_sha512_vtable}};
	br_ssl_engine_context *eng = t->eng;
	size_t i;

	br_ssl_client_zero(&t->u.c.cc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, sizeof suites / sizeof suites[0]);
	br_x509_minimal_init(&t->u.c.xc, &br_sha256_vtable, anchors, n_anchors);
	/* RSA on i31 on every CPU (the default is i62 on 64-bit ones): the
	 * code prime_i31 already brings, 1.6 KiB less on x86_64 */
	br_ssl_engine_set_rsavrfy(eng, &br_rsa_i31_pkcs1_vrfy);
	br_ssl_engine_set_ec(eng, &client_ec);
	br_ssl_engine_set_ecdsa(eng, &br_ecdsa_i31_vrfy_asn1);
	br_x509_minimal_set_rsa(&t->u.c.xc, br_ssl_engine_get_rsavrfy(eng));
	br_x509_minimal_set_ecdsa(&t->u.c.xc, br_ssl_engine_get_ec(eng),
	        br_ssl_engine_get_ecdsa(eng));
	for (i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
		br_x509_minimal_set_hash(
		        &t->u.c.xc, hashes[i].id, hashes[i].impl);
		if (hashes[i].id >= br_sha256_ID)
			br_ssl_engine_set_hash(
			        eng, hashes[i].id, hashes[i].impl);
	}
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	/* the portable record ciphers on every CPU, as the defaults pick
	 * them where the CPU has no AES-NI, PCLMUL or SSE2: the defaults
	 * also link that code (~4 KB on x86_64); ChaCha20-Poly1305 is
	 * offered first */
	br_ssl_engine_set_gcm(
	        eng, &br_sslrec_in_gcm_vtable, &br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_chapol(
	        eng, &br_sslrec_in_chapol_vtable, &br_sslrec_out_chapol_vtable);
	br_ssl_engine_set_chacha20(eng, &br_chacha20_ct_run);
#if UINTPTR_MAX > 0xffffffffu
	br_ssl_engine_set_aes_ctr(eng, &br_aes_ct64_ctr_vtable);
	br_ssl_engine_set_ghash(eng, &br_ghash_ctmul64);
#else
	br_ssl_engine_set_aes_ctr(eng, &br_aes_ct_ctr_vtable);
	br_ssl_engine_set_ghash(eng, &br_ghash_ctmul);
#endif
	br_ssl_engine_set_poly1305(eng, &br_poly1305_ctmul_run);
	t->u.c.xw.vtable = &xw_vtable;
	t->u.c.xw.inner = &t->u.c.xc;
	t->u.c.xw.insecure = insecure;
	br_ssl_engine_set_x509(eng, &t->u.c.xw.vtable);
	br_ssl_engine_set_buffers_bidi(
	        eng, t->ibuf, sizeof t->ibuf, client_obuf, sizeof client_obuf);
}

struct tls *
tls_client_new(const char *server_name)
{
	struct tls *t = &session;
	unsigned char seed[32];
	size_t got = 0;

	if (!ready || t->in_use) {
		fmt_snprintf(global_err, sizeof global_err, "tls: %s",
		        ready ? "a session is already open"
		              : "tls_global_init() was not called");
		return NULL;
	}
	if (server_name == NULL || server_name[0] == '\0' ||
	        strlen(server_name) >= sizeof t->name) {
		fmt_snprintf(global_err, sizeof global_err,
		        "tls: a server name is required");
		return NULL;
	}
	/* getrandom() without blocking: early in boot, fail and retry */
	while (got < sizeof seed) {
		ssize_t r =
		        getrandom(seed + got, sizeof seed - got, GRND_NONBLOCK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 && errno != ENOSYS) {
			fmt_snprintf(global_err, sizeof global_err,
			        "tls: no random bytes from the kernel yet "
			        "(getrandom: %s); retry later",
			        fmt_strerror(errno));
			return NULL;
		}
		if (r <= 0)
			break; /* kernels before 3.17: BearSSL reads urandom */
		got += (size_t)r;
	}
	memset(t, 0, sizeof *t);
	t->eng = &t->u.c.cc.eng;
	fmt_snprintf(t->name, sizeof t->name, "%s", server_name);
	if (inet_pton(AF_INET, server_name, t->u.c.xw.ip) == 1)
		t->u.c.xw.iplen = 4;
	else if (inet_pton(AF_INET6, server_name, t->u.c.xw.ip) == 1)
		t->u.c.xw.iplen = 16;
	setup(t);
	if (got > 0)
		br_ssl_engine_inject_entropy(t->eng, seed, got);
	/* an IP literal is not sent as SNI (RFC 6066) */
	if (!br_ssl_client_reset(
	            &t->u.c.cc, t->u.c.xw.iplen ? NULL : t->name, 0)) {
		fmt_snprintf(global_err, sizeof global_err,
		        "tls: new session: BearSSL error %d",
		        br_ssl_engine_last_error(t->eng));
		return NULL;
	}
	t->in_use = 1;
	return t;
}

/* The engine's state; a peer that closed its end while the engine still
 * waits for records is the end of the session. */
static unsigned
state(struct tls *t)
{
	unsigned s = br_ssl_engine_current_state(t->eng);

	if (t->peer_eof && !(s & (BR_SSL_CLOSED | BR_SSL_SENDREC |
	                                 BR_SSL_RECVAPP | BR_SSL_SENDAPP)))
		s = BR_SSL_CLOSED;
	return s;
}

int
tls_handshake(struct tls *t)
{
	unsigned s;

	if (t->failed)
		return TLS_ERR;
	if (t->done)
		return TLS_OK;
	s = state(t);
	if (s & BR_SSL_CLOSED)
		return fail(t, "handshake");
	if (s & BR_SSL_SENDAPP) {
		t->done = 1;
		return TLS_OK;
	}
	return TLS_WANT_IO;
}

size_t
tls_net_in_space(struct tls *t, uint8_t **p)
{
	size_t len = 0;

	*p = t->failed || t->peer_eof ? NULL
	                              : br_ssl_engine_recvrec_buf(t->eng, &len);
	return *p != NULL ? len : 0;
}

void
tls_net_in_done(struct tls *t, size_t n)
{
	size_t len = 0;

	if (n == 0)
		t->peer_eof = 1;
	else if (br_ssl_engine_recvrec_buf(t->eng, &len) != NULL && n <= len)
		br_ssl_engine_recvrec_ack(t->eng, n);
}

size_t
tls_net_out_pending(struct tls *t, const uint8_t **p)
{
	size_t len = 0;

	*p = br_ssl_engine_sendrec_buf(t->eng, &len);
	return *p != NULL ? len : 0;
}

void
tls_net_out_done(struct tls *t, size_t n)
{
	size_t len = 0;

	if (n > 0 && br_ssl_engine_sendrec_buf(t->eng, &len) != NULL)
		br_ssl_engine_sendrec_ack(t->eng, n < len ? n : len);
}

ssize_t
tls_write(struct tls *t, const void *buf, size_t n)
{
	unsigned char *p;
	size_t len = 0;
	unsigned s;

	if (t->failed)
		return TLS_ERR;
	if (!t->done)
		return tls_handshake(t) == TLS_ERR ? TLS_ERR : TLS_WANT_IO;
	if (n == 0)
		return 0;
	s = state(t);
	if (s & BR_SSL_CLOSED)
		return fail(t, "write");
	p = br_ssl_engine_sendapp_buf(t->eng, &len);
	if (p == NULL || len == 0)
		return TLS_WANT_IO; /* records wait in sendrec */
	if (n > len)
		n = len;
	memcpy(p, buf, n);
	br_ssl_engine_sendapp_ack(t->eng, n);
	br_ssl_engine_flush(t->eng, 0); /* one record per call */
	return (ssize_t)n;
}

ssize_t
tls_read(struct tls *t, void *buf, size_t n)
{
	unsigned char *p;
	size_t len = 0;
	unsigned s;

	if (t->failed)
		return TLS_ERR;
	if (t->closed)
		return 0;
	if (!t->done)
		return tls_handshake(t) == TLS_ERR ? TLS_ERR : TLS_WANT_IO;
	p = br_ssl_engine_recvapp_buf(t->eng, &len);
	if (p != NULL && len > 0) {
		if (n > len)
			n = len;
		memcpy(buf, p, n);
		br_ssl_engine_recvapp_ack(t->eng, n);
		return (ssize_t)n;
	}
	s = state(t);
	if (s & BR_SSL_CLOSED) {
		int e = br_ssl_engine_last_error(t->eng);
		/* close_notify, or the end of the stream without one (as
		 * tls_mbedtls.c: an HTTP server may just close) */
		if (e == BR_ERR_OK || t->peer_eof) {
			t->closed = 1;
			return 0;
		}
		return fail(t, "read");
	}
	return TLS_WANT_IO;
}

int
tls_close_notify(struct tls *t)
{
	if (t->failed || !t->done)
		return TLS_ERR;
	br_ssl_engine_close(t->eng);
	return TLS_OK;
}

void
tls_info(struct tls *t, const char **version, const char **cipher)
{
	uint16_t id = t->eng->session.cipher_suite;
	size_t i;

	*version = t->done ? "TLSv1.2" : "";
	*cipher = "";
	for (i = 0; t->done && i < sizeof suite_names / sizeof suite_names[0];
	        i++)
		if (suite_names[i].id == id)
			*cipher = suite_names[i].name;
}

const char *
tls_error(const struct tls *t)
{
	return t != NULL ? t->err : global_err;
}

void
tls_free(struct tls *t)
{
	if (t == NULL || !t->in_use)
		return;
	t->in_use = 0;
	if (t->server && sbusy > 0)
		sbusy--;
}

/* --- server side (emulated HTTPS) ---------------------------------------- */

static struct tls *spool; /* tls_server_init(): one array, never freed */
static unsigned smax;
static br_rsa_private_key skey;
static unsigned char skey_buf[5 * 512]; /* p q dp dq iq, up to RSA-4096 */
static br_x509_certificate schain;
static int scert_ready;

/* ECDHE first, then plain RSA key exchange (old scanners, TLS 1.2 only). */
static const uint16_t server_suites[] = {
        BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        BR_TLS_RSA_WITH_AES_128_GCM_SHA256, BR_TLS_RSA_WITH_AES_256_GCM_SHA384};

/* A persona's own list (tls_server_suites()), enforced in its order. */
static uint16_t psuites[TLS_SUITES_MAX];
static size_t npsuites;

/* What the server engine below can run with an RSA certificate. */
static int
server_has(uint16_t id)
{
	switch (id) {
	case BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:
	case BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
	case BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:
	case BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:
	case BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:
	case BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256:
	case BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384:
	case BR_TLS_RSA_WITH_AES_128_GCM_SHA256:
	case BR_TLS_RSA_WITH_AES_256_GCM_SHA384:
	case BR_TLS_RSA_WITH_AES_128_CBC_SHA:
	case BR_TLS_RSA_WITH_AES_256_CBC_SHA:
	case BR_TLS_RSA_WITH_AES_128_CBC_SHA256:
	case BR_TLS_RSA_WITH_AES_256_CBC_SHA256: return 1;
	}
	return 0;
}

int
tls_server_suites(const uint16_t *ids, size_t n, char *err, size_t errlen)
{
	if (!scert_ready || n == 0 || n > TLS_SUITES_MAX)
		return -1; /* certgen.c calls it right */
	for (size_t i = 0; i < n; i++) {
		if (!server_has(ids[i])) {
			fmt_snprintf(err, errlen,
			        "tls: suite 0x%04x is not in this build's "
			        "BearSSL server",
			        ids[i]);
			return -1;
		}
		psuites[i] = ids[i];
	}
	npsuites = n;
	return 0;
}

int
tls_server_init(unsigned sessions, char *err, size_t errlen)
{
	fmt_snprintf(err, errlen, "%s", "");
	if (spool != NULL || sessions == 0) {
		fmt_snprintf(err, errlen,
		        "tls: tls_server_init() must come first, "
		        "once, with at least one session");
		return -1;
	}
	/* start-up only: the pool is all the server side ever allocates */
	spool = calloc(sessions, sizeof *spool);
	if (spool == NULL) {
		fmt_snprintf(err, errlen,
		        "tls: no memory for %u TLS server sessions (%zu bytes "
		        "each)",
		        sessions, sizeof *spool);
		return -1;
	}
	smax = sessions;
	return 0;
}

/* The RSA private key of a PKCS#1 DER, decoded into dc (which holds it). */
static const br_rsa_private_key *
rsa_key(br_skey_decoder_context *dc, const uint8_t *key, size_t keylen)
{
	br_skey_decoder_init(dc);
	br_skey_decoder_push(dc, key, keylen);
	if (br_skey_decoder_last_error(dc) != 0 ||
	        br_skey_decoder_key_type(dc) != BR_KEYTYPE_RSA)
		return NULL;
	return br_skey_decoder_get_rsa(dc);
}

int
tls_server_cert(const uint8_t *key, size_t keylen, const uint8_t *cert,
        size_t certlen, char *err, size_t errlen)
{
	static br_skey_decoder_context dc;
	const br_rsa_private_key *k;
	unsigned char *c, *p = skey_buf;

	if (spool == NULL) {
		fmt_snprintf(err, errlen,
		        "tls: tls_server_cert() needs tls_server_init() with "
		        "sessions first");
		return -1;
	}
	k = rsa_key(&dc, key, keylen);
	if (k == NULL || k->plen + k->qlen + k->dplen + k->dqlen + k->iqlen >
	                         sizeof skey_buf) {
		fmt_snprintf(err, errlen,
		        "tls: server key: not an RSA key (up to "
		        "4096 bits) in PKCS#1 DER");
		return -1;
	}
	c = scert_ready ? schain.data : NULL;
	c = realloc(c, certlen); /* start-up only */
	if (c == NULL) {
		fmt_snprintf(err, errlen, "tls: no memory for the certificate");
		return -1;
	}
	memcpy(c, cert, certlen);
	schain.data = c;
	schain.data_len = certlen;
	skey = *k;
#define TAKE(f, l)                     \
	do {                           \
		memcpy(p, k->f, k->l); \
		skey.f = p;            \
		p += k->l;             \
	} while (0)
	TAKE(p, plen);
	TAKE(q, qlen);
	TAKE(dp, dplen);
	TAKE(dq, dqlen);
	TAKE(iq, iqlen);
#undef TAKE
	scert_ready = 1;
	return 0;
}

static int
seed_engine(br_ssl_engine_context *eng)
{
	unsigned char seed[32];
	ssize_t r;

	do
		r = getrandom(seed, sizeof seed, GRND_NONBLOCK);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		br_ssl_engine_inject_entropy(eng, seed, (size_t)r);
	return r > 0 || errno == ENOSYS ? 0 : -1;
}

struct tls *
tls_server_new(void)
{
	br_ssl_server_context *sc;
	br_ssl_engine_context *eng;
	struct tls *t = NULL;
	unsigned i;

	for (i = 0; spool != NULL && i < smax && t == NULL; i++)
		if (!spool[i].in_use)
			t = &spool[i];
	if (t == NULL || !scert_ready) {
		fmt_snprintf(global_err, sizeof global_err, "tls: %s",
		        spool == NULL || !scert_ready
		                ? "no TLS server side (tls_server_init and "
		                  "tls_server_cert first)"
		                : "every TLS server session is busy");
		return NULL;
	}
	memset(t, 0, offsetof(struct tls, ibuf));
	t->server = 1;
	sc = &t->u.sc;
	eng = t->eng = &sc->eng;
	br_ssl_server_zero(sc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	if (npsuites) {
		br_ssl_engine_set_suites(eng, psuites, npsuites);
		br_ssl_engine_add_flags(eng, BR_OPT_ENFORCE_SERVER_PREFERENCES);
		br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
		br_ssl_engine_set_default_aes_cbc(eng);
	} else {
		br_ssl_engine_set_suites(eng, server_suites,
		        sizeof server_suites / sizeof server_suites[0]);
	}
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_ec(eng);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
	br_ssl_server_set_single_rsa(sc, &schain, 1, &skey,
	        BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN, br_rsa_private_get_default(),
	        br_rsa_pkcs1_sign_get_default());
	br_ssl_engine_set_buffers_bidi(
	        eng, t->ibuf, sizeof t->ibuf, t->obuf, sizeof t->obuf);
	if (seed_engine(eng) < 0 || !br_ssl_server_reset(sc)) {
		fmt_snprintf(global_err, sizeof global_err,
		        "tls: server session: %s",
		        br_ssl_engine_last_error(eng) == BR_ERR_NO_RANDOM ||
		                        errno == EAGAIN
		                ? "no random bytes yet"
		                : "BearSSL error");
		return NULL;
	}
	fmt_snprintf(t->name, sizeof t->name, "client");
	t->in_use = 1;
	sbusy++;
	tls_heap_used(); /* the peak */
	return t;
}

unsigned
tls_server_busy(void)
{
	return sbusy;
}

unsigned
tls_server_max(void)
{
	return scert_ready ? smax : 0;
}

/* --- primitives ---------------------------------------------------------- */

int
tls_md5(const void *p, size_t n, uint8_t out[16])
{
	br_md5_context c;

	br_md5_init(&c);
	br_md5_update(&c, p, n);
	br_md5_out(&c, out);
	return 0;
}

int
tls_sha256(const void *p, size_t n, uint8_t out[32])
{
	br_sha256_context c;

	br_sha256_init(&c);
	br_sha256_update(&c, p, n);
	br_sha256_out(&c, out);
	return 0;
}

ssize_t
tls_rsa_keygen(
        unsigned bits, uint8_t *key, size_t cap, char *err, size_t errlen)
{
	static unsigned char kpriv[BR_RSA_KBUF_PRIV_SIZE(4096)];
	static unsigned char kpub[BR_RSA_KBUF_PUB_SIZE(4096)];
	static unsigned char d[512];
	br_hmac_drbg_context rng;
	br_rsa_private_key sk;
	br_rsa_public_key pk;
	unsigned char seed[32];
	size_t dlen, len;
	ssize_t r;

	if (bits < 1024 || bits > 4096) {
		fmt_snprintf(err, errlen, "tls: RSA keys of 1024 to 4096 bits");
		return -1;
	}
	do
		r = getrandom(seed, sizeof seed, 0); /* start-up: may wait */
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)sizeof seed) {
		fmt_snprintf(err, errlen, "tls: no random bytes for a key: %s",
		        fmt_strerror(errno));
		return -1;
	}
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof seed);
	if (!br_rsa_keygen_get_default()(
	            &rng.vtable, &sk, kpriv, &pk, kpub, bits, 65537) ||
	        (dlen = br_rsa_compute_privexp_get_default()(d, &sk, 65537)) ==
	                0) {
		fmt_snprintf(err, errlen, "tls: RSA key generation failed");
		return -1;
	}
	len = br_encode_rsa_raw_der(NULL, &sk, &pk, d, dlen);
	if (len == 0 || len > cap) {
		fmt_snprintf(err, errlen,
		        "tls: RSA key DER: %zu bytes do not fit", len);
		return -1;
	}
	return (ssize_t)br_encode_rsa_raw_der(key, &sk, &pk, d, dlen);
}

/* Sizes of a DER tag and length, and of an INTEGER holding the unsigned
 * big-endian v (leading zeros dropped, a zero added before a high bit). */
static size_t
der_head_len(size_t len)
{
	return len < 128 ? 2 : len < 256 ? 3 : 4;
}

static size_t
der_uint_len(const uint8_t *v, size_t n)
{
	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	n += v[0] >> 7;
	return der_head_len(n) + n;
}

/* Write them at p; return their size. */
static size_t
der_head(uint8_t *p, unsigned tag, size_t len)
{
	size_t n = der_head_len(len);

	p[0] = (uint8_t)tag;
	if (n == 2) {
		p[1] = (uint8_t)len;
	} else if (n == 3) {
		p[1] = 0x81;
		p[2] = (uint8_t)len;
	} else {
		p[1] = 0x82;
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
	}
	return n;
}

static size_t
der_uint(uint8_t *p, const uint8_t *v, size_t n)
{
	size_t pad, h;

	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	pad = v[0] >> 7;
	h = der_head(p, 0x02, n + pad);
	p[h] = 0;
	memcpy(p + h + pad, v, n);
	return h + pad + n;
}

ssize_t
tls_rsa_pubkey(const uint8_t *key, size_t keylen, uint8_t *out, size_t cap)
{
	static const uint8_t algid[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86,
	        0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
	static br_skey_decoder_context dc;
	const br_rsa_private_key *k = rsa_key(&dc, key, keylen);
	uint8_t n[512], e[4];
	size_t nlen, ints, bits, all, o;
	uint32_t pe;

	if (k == NULL)
		return -1;
	nlen = br_rsa_compute_modulus_get_default()(NULL, k);
	pe = br_rsa_compute_pubexp_get_default()(k);
	if (nlen == 0 || nlen > sizeof n || pe == 0)
		return -1;
	br_rsa_compute_modulus_get_default()(n, k);
	e[0] = (uint8_t)(pe >> 24);
	e[1] = (uint8_t)(pe >> 16);
	e[2] = (uint8_t)(pe >> 8);
	e[3] = (uint8_t)pe;
	/* SEQUENCE { algid, BIT STRING { 0, SEQUENCE { INTEGER n, e } } } */
	ints = der_uint_len(n, nlen) + der_uint_len(e, 4);
	bits = 1 + der_head_len(ints) + ints;
	all = sizeof algid + der_head_len(bits) + bits;
	if (der_head_len(all) + all > cap)
		return -1;
	o = der_head(out, 0x30, all);
	memcpy(out + o, algid, sizeof algid);
	o += sizeof algid;
	o += der_head(out + o, 0x03, bits);
	out[o++] = 0;
	o += der_head(out + o, 0x30, ints);
	o += der_uint(out + o, n, nlen);
	o += der_uint(out + o, e, 4);
	return (ssize_t)o;
}

ssize_t
tls_rsa_sign_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg,
        size_t n, uint8_t *sig, size_t cap)
{
	static br_skey_decoder_context dc;
	const br_rsa_private_key *k = rsa_key(&dc, key, keylen);
	uint8_t h[32];
	size_t len;

	if (k == NULL)
		return -1;
	len = (k->n_bitlen + 7) / 8;
	if (len > cap)
		return -1;
	tls_sha256(msg, n, h);
	if (!br_rsa_pkcs1_sign_get_default()(
	            BR_HASH_OID_SHA256, h, sizeof h, k, sig))
		return -1;
	return (ssize_t)len;
}

/* The "heap" of tls.h: the trust-anchor arena plus the server sessions
 * in use (each a fixed struct from the pool of tls_server_init()). */
static size_t heap_peak;

size_t
tls_heap_used(void)
{
	size_t used = heap_len + sbusy * sizeof(struct tls);

	if (used > heap_peak)
		heap_peak = used;
	return used;
}

size_t
tls_heap_peak(void)
{
	tls_heap_used();
	return heap_peak;
}

size_t
tls_heap_size(void)
{
	return sizeof heap + smax * sizeof(struct tls);
}
