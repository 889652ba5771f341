/* tls_none.c: src/tls.h for builds without TLS (TLS=none). Every call fails
 * with one message, so the shipper links and refuses https:// URLs, and
 * conn.c skips the persona's tls ports (tls_server_init() fails). */
#include <stdio.h>

#include "fmt.h"
#include "tls.h"

static const char msg[] = "TLS support is not compiled in (build with "
                          "TLS=mbedtls to ship over https://)";
static const char server_msg[] = "TLS support is not compiled in (build "
                                 "with TLS=mbedtls to serve tls ports)";

int
tls_global_init(const struct tls_conf *c, char *err, size_t errlen)
{
	(void)c;
	fmt_snprintf(err, errlen, "%s", msg);
	return -1;
}

struct tls *
tls_client_new(const char *server_name)
{
	(void)server_name;
	return NULL;
}

int
tls_handshake(struct tls *t)
{
	(void)t;
	return TLS_ERR;
}

size_t
tls_net_in_space(struct tls *t, uint8_t **p)
{
	(void)t;
	*p = NULL;
	return 0;
}

void
tls_net_in_done(struct tls *t, size_t n)
{
	(void)t;
	(void)n;
}

size_t
tls_net_out_pending(struct tls *t, const uint8_t **p)
{
	(void)t;
	*p = NULL;
	return 0;
}

void
tls_net_out_done(struct tls *t, size_t n)
{
	(void)t;
	(void)n;
}

ssize_t
tls_write(struct tls *t, const void *buf, size_t n)
{
	(void)t;
	(void)buf;
	(void)n;
	return TLS_ERR;
}

ssize_t
tls_read(struct tls *t, void *buf, size_t n)
{
	(void)t;
	(void)buf;
	(void)n;
	return TLS_ERR;
}

int
tls_close_notify(struct tls *t)
{
	(void)t;
	return TLS_ERR;
}

void
tls_info(struct tls *t, const char **version, const char **cipher)
{
	(void)t;
	*version = "";
	*cipher = "";
}

const char *
tls_error(const struct tls *t)
{
	(void)t;
	return msg;
}

void
tls_free(struct tls *t)
{
	(void)t;
}

size_t
tls_heap_used(void)
{
	return 0;
}

size_t
tls_heap_peak(void)
{
	return 0;
}

size_t
tls_heap_size(void)
{
	return 0;
}

int
tls_server_init(unsigned sessions, char *err, size_t errlen)
{
	(void)sessions;
	fmt_snprintf(err, errlen, "%s", server_msg);
	return -1;
}

int
tls_server_cert(const uint8_t *key, size_t keylen, const uint8_t *cert,
        size_t certlen, char *err, size_t errlen)
{
	(void)key;
	(void)keylen;
	(void)cert;
	(void)certlen;
	fmt_snprintf(err, errlen, "%s", server_msg);
	return -1;
}

int
tls_server_suites(const uint16_t *ids, size_t n, char *err, size_t errlen)
{
	(void)ids;
	(void)n;
	fmt_snprintf(err, errlen, "%s", server_msg);
	return -1;
}

struct tls *
tls_server_new(void)
{
	return NULL;
}

unsigned
tls_server_busy(void)
{
	return 0;
}

unsigned
tls_server_max(void)
{
	return 0;
}

int
tls_md5(const void *p, size_t n, uint8_t out[16])
{
	(void)p;
	(void)n;
	(void)out;
	return -1;
}

int
tls_sha256(const void *p, size_t n, uint8_t out[32])
{
	(void)p;
	(void)n;
	(void)out;
	return -1;
}

ssize_t
tls_rsa_keygen(
        unsigned bits, uint8_t *key, size_t cap, char *err, size_t errlen)
{
	(void)bits;
	(void)key;
	(void)cap;
	fmt_snprintf(err, errlen, "%s", msg);
	return -1;
}

ssize_t
tls_rsa_pubkey(const uint8_t *key, size_t keylen, uint8_t *out, size_t cap)
{
	(void)key;
	(void)keylen;
	(void)out;
	(void)cap;
	return -1;
}

ssize_t
tls_rsa_sign_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg_,
        size_t n, uint8_t *sig, size_t cap)
{
	(void)key;
	(void)keylen;
	(void)msg_;
	(void)n;
	(void)sig;
	(void)cap;
	return -1;
}
