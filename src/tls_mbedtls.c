/* tls_mbedtls.c: src/tls.h on mbedTLS 2.28, built by toolchains/deps.sh
 * with src/mbedtls_config.h. mbedTLS's BIO callbacks only copy between the
 * session's fixed net_in/net_out arrays and return WANT_READ/WANT_WRITE when
 * those are empty/full. Every mbedTLS allocation comes from one static heap.
 * CTR_DRBG is seeded from getrandom() at the first session, never blocking:
 * early in boot the session fails and the caller retries later. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/md5.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/pem.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/rsa.h"
#include "mbedtls/sha1.h"
#include "mbedtls/sha256.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_internal.h"
#include "mbedtls/x509_crt.h"

#include "tls.h"

/* MBEDTLS_PLATFORM_GMTIME_R_ALT (src/mbedtls_config.h): certificate
 * validity dates without musl's gmtime_r and its time zone code. */
struct tm *
mbedtls_platform_gmtime_r(const mbedtls_time_t *tt, struct tm *tm_buf)
{
	return fmt_gmtime((int64_t)*tt, tm_buf);
}

#if !defined(MBEDTLS_MEMORY_BUFFER_ALLOC_C) || !defined(MBEDTLS_MEMORY_DEBUG)
#error "src/mbedtls_config.h: MEMORY_BUFFER_ALLOC_C and MEMORY_DEBUG are needed"
#endif

/* Measured peaks (CA file included): 32 KiB with an RSA-2048 server, 36 KiB
 * with P-256, 43 KiB for RSA-4096 root -> RSA-2048 intermediate -> P-384
 * leaf. The 16 KiB input record buffer is most of it. A CA file adds about
 * 1.5-3 KiB per certificate while loaded; Debian's whole bundle (144) needs
 * 700 KiB: give a single root, or build with -DLURE_TLS_HEAP=... */
#ifndef LURE_TLS_HEAP
#define LURE_TLS_HEAP (64 * 1024)
#endif
/* Added per server session (tls_server_init). Measured with an RSA-2048
 * key (test/persona/test_hik_https.py): the server's key and certificate
 * take 4.3 KiB; each session in its handshake 23 KiB (22 KiB once
 * established), the 16 KiB input record buffer being most of it; the
 * first handshake adds 8 KiB that are freed again (RSA signature). The
 * rest is slack against fragmentation. */
#ifndef LURE_TLS_SERVER_HEAP
#define LURE_TLS_SERVER_HEAP (28 * 1024)
#endif
/* Socket-side buffers: any size works, larger means fewer poll passes. */
#ifndef LURE_TLS_NET_BUF
#define LURE_TLS_NET_BUF 4096
#endif
/* The client's (the shipper's) outgoing side: a bulk request is sealed
 * into records until this much is queued, then sent with one send(). */
#ifndef LURE_TLS_CLIENT_OUT
#define LURE_TLS_CLIENT_OUT (64 * 1024)
#endif
/* memory_buffer_alloc's per-block header: 8 words (magics, sizes, links). */
#define HEAP_HDR (8 * sizeof(void *))

struct tls {
	mbedtls_ssl_context ssl;
	int in_use, failed, peer_eof, closed, done, server;
	size_t iplen; /* server name is an IP literal of this length */
	uint8_t ip[16];
	char name[256];
	size_t in_off, in_len, out_len, out_cap;
	uint8_t *out; /* own_out, or client_out for the client session */
	uint8_t in[LURE_TLS_NET_BUF], own_out[LURE_TLS_NET_BUF];
	char err[640];
};

/* The client-only heap is static; with server sessions it is taken once
 * with malloc in tls_server_init() (heap_ready: the allocator runs). */
static _Alignas(16) unsigned char static_heap[LURE_TLS_HEAP];
static unsigned char *heap = static_heap;
static size_t heap_size = sizeof static_heap;
static int heap_ready;
static mbedtls_ssl_config conf;
static mbedtls_ctr_drbg_context drbg;
static mbedtls_x509_crt ca;
static int ready, seeded;
static struct tls session;
static uint8_t client_out[LURE_TLS_CLIENT_OUT];
static char global_err[256];
/* server side (none in a client-only library: src/mbedtls_config_client.h) */
#if defined(MBEDTLS_SSL_SRV_C)
static mbedtls_ssl_config sconf;
static mbedtls_x509_crt scert;
static mbedtls_pk_context skey;
static struct tls *servers;
#endif
static unsigned nservers, sbusy;
static int sready;

/* Preference: X25519 first (constant time, cheap), then the NIST curves. */
static const mbedtls_ecp_group_id curves[] = {MBEDTLS_ECP_DP_CURVE25519,
        MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1,
        MBEDTLS_ECP_DP_NONE};

static const struct {
	uint8_t code;
	const char *name;
} alerts[] = {{0, "close_notify"}, {10, "unexpected_message"},
        {20, "bad_record_mac"}, {22, "record_overflow"},
        {40, "handshake_failure"}, {42, "bad_certificate"},
        {43, "unsupported_certificate"}, {44, "certificate_revoked"},
        {45, "certificate_expired"}, {46, "certificate_unknown"},
        {47, "illegal_parameter"}, {48, "unknown_ca"}, {49, "access_denied"},
        {50, "decode_error"}, {51, "decrypt_error"},
        {70, "protocol_version (this client speaks TLS 1.2 only)"},
        {71, "insufficient_security"}, {80, "internal_error"},
        {86, "inappropriate_fallback"}, {90, "user_canceled"},
        {109, "missing_extension"}, {110, "unsupported_extension"},
        {112, "unrecognized_name"}, {116, "certificate_required"},
        {120, "no_application_protocol"}};

#if defined(MBEDTLS_SHA1_PROCESS_ALT)
/* The client-only library's SHA-1 block function (src/mbedtls_config.h):
 * the 80 rounds as one loop, 0.3 KiB instead of mbedTLS's 4.7 KiB unrolled
 * ones. It hashes certificates only (public data: no zeroising). */
static uint32_t
rol32(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

int
mbedtls_internal_sha1_process(
        mbedtls_sha1_context *ctx, const unsigned char data[64])
{
	uint32_t w[16], s[5], f, k, t;
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)data[4 * i] << 24 |
		       (uint32_t)data[4 * i + 1] << 16 |
		       (uint32_t)data[4 * i + 2] << 8 | data[4 * i + 3];
	memcpy(s, ctx->state, sizeof s);
	for (i = 0; i < 80; i++) {
		if (i >= 16) {
			t = w[(i + 13) & 15] ^ w[(i + 8) & 15] ^
			    w[(i + 2) & 15] ^ w[i & 15];
			w[i & 15] = rol32(t, 1);
		}
		if (i < 20) {
			f = (s[1] & s[2]) | (~s[1] & s[3]);
			k = 0x5A827999;
		} else if (i < 40) {
			f = s[1] ^ s[2] ^ s[3];
			k = 0x6ED9EBA1;
		} else if (i < 60) {
			f = (s[1] & s[2]) | (s[3] & (s[1] | s[2]));
			k = 0x8F1BBCDC;
		} else {
			f = s[1] ^ s[2] ^ s[3];
			k = 0xCA62C1D6;
		}
		t = rol32(s[0], 5) + f + s[4] + k + w[i & 15];
		s[4] = s[3];
		s[3] = s[2];
		s[2] = rol32(s[1], 30);
		s[1] = s[0];
		s[0] = t;
	}
	for (i = 0; i < 5; i++)
		ctx->state[i] += s[i];
	return 0;
}
#endif

/* getrandom() without blocking; ENOSYS (kernels before 3.17): urandom. */
static int
entropy(void *ctx, unsigned char *p, size_t n)
{
	(void)ctx;
	while (n > 0) {
		ssize_t r = getrandom(p, n, GRND_NONBLOCK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == ENOSYS) {
			int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
			r = fd < 0 ? -1 : read(fd, p, n);
			if (fd >= 0)
				close(fd);
		}
		if (r <= 0)
			return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls *t = ctx;
	size_t n = t->out_cap - t->out_len;

	if (n == 0)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	if (n > len)
		n = len;
	memcpy(t->out + t->out_len, buf, n);
	t->out_len += n;
	return (int)n;
}

static int
bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls *t = ctx;
	size_t n = t->in_len - t->in_off;

	if (n == 0)
		return t->peer_eof ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
	if (n > len)
		n = len;
	memcpy(buf, t->in + t->in_off, n);
	t->in_off += n;
	return (int)n;
}

/* The leaf certificate must list the IP literal we connected to: mbedTLS
 * 2.28 checks DNS names only. */
static int
verify_ip(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	const struct tls *t = ctx;
	const mbedtls_x509_sequence *s;

	if (depth != 0)
		return 0;
	for (s = &crt->subject_alt_names; s != NULL; s = s->next)
		if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC |
		                          MBEDTLS_X509_SAN_IP_ADDRESS) &&
		        s->buf.len == t->iplen &&
		        memcmp(s->buf.p, t->ip, t->iplen) == 0)
			return 0;
	*flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
	return 0;
}

/* mbedTLS codes are -(high | low): a module's code plus the lower
 * layer's (ASN.1, bignum) that caused it. */
static int
is_alloc_error(int ret)
{
	static const int high[] = {MBEDTLS_ERR_SSL_ALLOC_FAILED,
	        MBEDTLS_ERR_X509_ALLOC_FAILED, MBEDTLS_ERR_PK_ALLOC_FAILED,
	        MBEDTLS_ERR_ECP_ALLOC_FAILED, MBEDTLS_ERR_CIPHER_ALLOC_FAILED,
	        MBEDTLS_ERR_MD_ALLOC_FAILED, MBEDTLS_ERR_PEM_ALLOC_FAILED};
	int h = -(-ret & 0xff80), l = -(-ret & 0x7f);
	size_t i;

	if (l == MBEDTLS_ERR_MPI_ALLOC_FAILED ||
	        l == MBEDTLS_ERR_ASN1_ALLOC_FAILED)
		return 1;
	for (i = 0; i < sizeof high / sizeof high[0]; i++)
		if (h == high[i])
			return 1;
	return 0;
}

/* The texts of mbedTLS's error.c (MBEDTLS_ERROR_C: 13 KiB for every
 * module) for the codes a client meets: a CA file that does not parse, a
 * handshake that fails, a record that does not verify. mbedtls_strerror()
 * joins the module's text and the lower layer's with " : ". */
static const struct {
	int code;
	const char *text;
} errors[] = {
        {MBEDTLS_ERR_X509_INVALID_FORMAT,
                "X509 - The CRT/CRL/CSR format is invalid, e.g. different type "
                "expected"},
        {MBEDTLS_ERR_X509_INVALID_VERSION,
                "X509 - The CRT/CRL/CSR version element is invalid"},
        {MBEDTLS_ERR_X509_INVALID_SERIAL,
                "X509 - The serial tag or value is invalid"},
        {MBEDTLS_ERR_X509_INVALID_ALG,
                "X509 - The algorithm tag or value is invalid"},
        {MBEDTLS_ERR_X509_INVALID_NAME,
                "X509 - The name tag or value is invalid"},
        {MBEDTLS_ERR_X509_INVALID_DATE,
                "X509 - The date tag or value is invalid"},
        {MBEDTLS_ERR_X509_INVALID_SIGNATURE,
                "X509 - The signature tag or value invalid"},
        {MBEDTLS_ERR_X509_INVALID_EXTENSIONS,
                "X509 - The extension tag or value is invalid"},
        {MBEDTLS_ERR_X509_UNKNOWN_VERSION,
                "X509 - CRT/CRL/CSR has an unsupported version number"},
        {MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG,
                "X509 - Signature algorithm (oid) is unsupported"},
        {MBEDTLS_ERR_X509_SIG_MISMATCH,
                "X509 - Signature algorithms do not match. (see \\c "
                "::mbedtls_x509_crt sig_oid)"},
        {MBEDTLS_ERR_X509_CERT_UNKNOWN_FORMAT,
                "X509 - Format not recognized as DER or PEM"},
        {MBEDTLS_ERR_X509_BAD_INPUT_DATA, "X509 - Input invalid"},
        {MBEDTLS_ERR_X509_FILE_IO_ERROR, "X509 - Read/write of file failed"},
        {MBEDTLS_ERR_X509_CERT_VERIFY_FAILED,
                "X509 - Certificate verification failed, e.g. CRL, CA or "
                "signature check failed"},
        {MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT,
                "PEM - No PEM header or footer found"},
        {MBEDTLS_ERR_PEM_INVALID_DATA, "PEM - PEM string is not as expected"},
        {MBEDTLS_ERR_PEM_BAD_INPUT_DATA,
                "PEM - Bad input parameters to function"},
        {MBEDTLS_ERR_PK_KEY_INVALID_FORMAT, "PK - Invalid key tag or value"},
        {MBEDTLS_ERR_PK_UNKNOWN_PK_ALG, "PK - Key algorithm is unsupported "
                                        "(only RSA and EC are supported)"},
        {MBEDTLS_ERR_PK_INVALID_PUBKEY,
                "PK - The pubkey tag or value is invalid (only RSA and EC are "
                "supported)"},
        {MBEDTLS_ERR_PK_BAD_INPUT_DATA,
                "PK - Bad input parameters to function"},
        {MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE,
                "SSL - The requested feature is not available"},
        {MBEDTLS_ERR_SSL_BAD_INPUT_DATA,
                "SSL - Bad input parameters to function"},
        {MBEDTLS_ERR_SSL_INVALID_MAC,
                "SSL - Verification of the message MAC failed"},
        {MBEDTLS_ERR_SSL_UNKNOWN_CIPHER,
                "SSL - An unknown cipher was received"},
        {MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN,
                "SSL - The server has no ciphersuites in common with the "
                "client"},
        {MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE,
                "SSL - An unexpected message was received from our peer"},
        {MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED,
                "SSL - Verification of our peer failed"},
        {MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO,
                "SSL - Processing of the ServerHello handshake message failed"},
        {MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE,
                "SSL - Processing of the Certificate handshake message failed"},
        {MBEDTLS_ERR_SSL_BAD_HS_SERVER_KEY_EXCHANGE,
                "SSL - Processing of the ServerKeyExchange handshake message "
                "failed"},
        {MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO_DONE,
                "SSL - Processing of the ServerHelloDone handshake message "
                "failed"},
        {MBEDTLS_ERR_SSL_BAD_HS_CHANGE_CIPHER_SPEC,
                "SSL - Processing of the ChangeCipherSpec handshake message "
                "failed"},
        {MBEDTLS_ERR_SSL_BAD_HS_FINISHED,
                "SSL - Processing of the Finished handshake message failed"},
        {MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION,
                "SSL - Handshake protocol not within min/max boundaries"},
        {MBEDTLS_ERR_SSL_INTERNAL_ERROR, "SSL - Internal error (eg, unexpected "
                                         "failure in lower-level module)"},
        {MBEDTLS_ERR_ASN1_OUT_OF_DATA,
                "ASN1 - Out of data when parsing an ASN1 data structure"},
        {MBEDTLS_ERR_ASN1_UNEXPECTED_TAG,
                "ASN1 - ASN1 tag was of an unexpected value"},
        {MBEDTLS_ERR_ASN1_INVALID_LENGTH,
                "ASN1 - Error when trying to determine the length or invalid "
                "length"},
        {MBEDTLS_ERR_ASN1_LENGTH_MISMATCH,
                "ASN1 - Actual length differs from expected length"},
        {MBEDTLS_ERR_ASN1_INVALID_DATA, "ASN1 - Data is invalid"},
        {MBEDTLS_ERR_ECP_VERIFY_FAILED, "ECP - The signature is not valid"},
        {MBEDTLS_ERR_RSA_VERIFY_FAILED, "RSA - The PKCS#1 verification failed"},
        {MBEDTLS_ERR_RSA_INVALID_PADDING,
                "RSA - Input data contains invalid padding and is rejected"},
};

static size_t
strerr(int code, char *out, size_t cap)
{
	for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
		if (errors[i].code == -code)
			return (size_t)fmt_snprintf(
			        out, cap, "%s", errors[i].text);
	return (size_t)fmt_snprintf(
	        out, cap, "UNKNOWN ERROR CODE (%04X)", code);
}

/* err = "<what>: <text> (-0xNNNN)", the text as mbedtls_strerror() has it. */
static void
describe(char *err, size_t len, const char *what, int ret)
{
	char text[160];
	int high = -ret & 0xff80, low = -ret & 0x7f;
	size_t n = 0;

	if (is_alloc_error(ret)) {
		fmt_snprintf(err, len,
		        "%s: out of TLS heap (%zu bytes; build with a larger "
		        "LURE_TLS_HEAP)",
		        what, heap_size);
		return;
	}
	text[0] = '\0';
	if (high)
		n = strerr(high, text, sizeof text);
	if (low && high != -MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE &&
	        n + 5 < sizeof text) {
		if (n) {
			memcpy(text + n, " : ", 4);
			n += 3;
		}
		strerr(low, text + n, sizeof text - n);
	}
	fmt_snprintf(err, len, "%s: %s (-0x%04x)", what, text, (unsigned)-ret);
}

/* Record why the session failed; it stays failed. */
static int
fail(struct tls *t, const char *what, int ret)
{
	uint32_t flags;
	char info[256], *p;
	size_t i;

	t->failed = 1;
	if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED &&
	        (flags = mbedtls_ssl_get_verify_result(&t->ssl)) != 0) {
		/* " text\n" per flag, joined as "text; text" */
		mbedtls_x509_crt_verify_info(info, sizeof info, " ", flags);
		for (p = info; (p = strchr(p, '\n')) != NULL;)
			*p = p[1] ? ';' : '\0';
		fmt_snprintf(t->err, sizeof t->err,
		        "certificate verify failed for %s:%s", t->name, info);
	} else if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE &&
	           t->ssl.in_msg != NULL) {
		unsigned code = t->ssl.in_msg[1];
		const char *name = "unknown";
		for (i = 0; i < sizeof alerts / sizeof alerts[0]; i++)
			if (alerts[i].code == code)
				name = alerts[i].name;
		fmt_snprintf(t->err, sizeof t->err,
		        "%s: the %s sent the fatal alert %u %s", what,
		        t->server ? "client" : "server", code, name);
	} else if (ret == MBEDTLS_ERR_SSL_INVALID_RECORD && !t->done) {
		fmt_snprintf(t->err, sizeof t->err,
		        "%s: the %s does not speak TLS (invalid record)", what,
		        t->server ? "client" : "server");
	} else if (ret == MBEDTLS_ERR_SSL_CONN_EOF) {
		fmt_snprintf(t->err, sizeof t->err,
		        "%s: the %s closed the connection", what,
		        t->server ? "client" : "server");
	} else {
		describe(t->err, sizeof t->err, what, ret);
	}
	return TLS_ERR;
}

/* Move what mbedTLS still holds of an earlier record into net_out; 0 when
 * nothing is left behind. */
static int
pump_out(struct tls *t)
{
	int ret;

	if (t->ssl.out_left == 0)
		return 0;
	ret = mbedtls_ssl_flush_output(&t->ssl);
	if (ret != 0 && ret != MBEDTLS_ERR_SSL_WANT_WRITE)
		fail(t, "send", ret);
	return t->ssl.out_left != 0;
}

static void
heap_init(void)
{
	if (!heap_ready)
		mbedtls_memory_buffer_alloc_init(heap, heap_size);
	heap_ready = 1;
}

/* CTR_DRBG from getrandom(), once; -1 with global_err early in boot. */
static int
seed(void)
{
	static const char pers[] = "lure tls";
	int ret;

	if (seeded)
		return 0;
	heap_init();
	mbedtls_ctr_drbg_init(&drbg);
	ret = mbedtls_ctr_drbg_seed(&drbg, entropy, NULL,
	        (const unsigned char *)pers, sizeof pers - 1);
	if (ret != 0) {
		mbedtls_ctr_drbg_free(&drbg);
		fmt_snprintf(global_err, sizeof global_err,
		        "tls: no random bytes from the kernel yet "
		        "(getrandom: %s); retry later",
		        fmt_strerror(errno));
		return -1;
	}
	seeded = 1;
	return 0;
}

/* Read the CA file into the static heap and parse it (PEM or DER): no
 * stdio, no libc malloc. Returns 0 or -1 with err set; err may hold a note
 * on success. */
static int
load_ca(const char *file, char *err, size_t errlen)
{
	unsigned char *buf;
	struct stat st;
	size_t len = 0;
	ssize_t r = 0;
	int fd, ret;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		fmt_snprintf(err, errlen, "tls: CA file %s: %s", file,
		        fmt_strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	buf = st.st_size < (off_t)heap_size
	              ? mbedtls_calloc(1, (size_t)st.st_size + 1)
	              : NULL;
	while (buf != NULL && len < (size_t)st.st_size &&
	        ((r = read(fd, buf + len, (size_t)st.st_size - len)) > 0 ||
	                (r < 0 && errno == EINTR)))
		len += r > 0 ? (size_t)r : 0;
	close(fd);
	if (buf == NULL || r < 0) {
		if (buf == NULL)
			fmt_snprintf(err, errlen,
			        "tls: CA file %s: %lld bytes do not fit the "
			        "TLS "
			        "heap (%zu bytes; build with a larger "
			        "LURE_TLS_HEAP)",
			        file, (long long)st.st_size, heap_size);
		else
			fmt_snprintf(err, errlen, "tls: CA file %s: %s", file,
			        fmt_strerror(errno));
		mbedtls_free(buf);
		return -1;
	}
	/* PEM is parsed as a string (length with the NUL), DER as is */
	buf[len] = '\0';
	if (fmt_strstr((const char *)buf, "-----BEGIN ") != NULL)
		len++;
	ret = mbedtls_x509_crt_parse(&ca, buf, len);
	mbedtls_free(buf);
	if (ca.raw.p == NULL) {
		char what[300];
		fmt_snprintf(what, sizeof what, "tls: CA file %s", file);
		if (ret >= 0)
			fmt_snprintf(
			        err, errlen, "%s: no usable certificate", what);
		else
			describe(err, errlen, what, ret);
		return -1;
	}
	if (ret > 0)
		fmt_snprintf(err, errlen,
		        "tls: CA file %s: %d certificates skipped (unsupported "
		        "algorithms or malformed)",
		        file, ret);
	return 0;
}

int
tls_global_init(const struct tls_conf *c, char *err, size_t errlen)
{
	int ret;

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
	heap_init();
	mbedtls_ssl_config_init(&conf);
	mbedtls_x509_crt_init(&ca);
	ret = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT,
	        MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret != 0) {
		describe(err, errlen, "tls: config", ret);
	} else if (c->insecure) {
		mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
	} else if ((ret = load_ca(c->ca_file, err, errlen)) == 0) {
		mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
		mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	}
	if (ret != 0) {
		mbedtls_x509_crt_free(&ca);
		mbedtls_ssl_config_free(&conf);
		return -1;
	}
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_curves(&conf, curves);
	ready = 1;
	return 0;
}

struct tls *
tls_client_new(const char *server_name)
{
	struct tls *t = &session;
	int ret;

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
	if (seed() < 0)
		return NULL;
	memset(t, 0, sizeof *t);
	t->out = client_out;
	t->out_cap = sizeof client_out;
	mbedtls_ssl_init(&t->ssl);
	fmt_snprintf(t->name, sizeof t->name, "%s", server_name);
	if (inet_pton(AF_INET, server_name, t->ip) == 1)
		t->iplen = 4;
	else if (inet_pton(AF_INET6, server_name, t->ip) == 1)
		t->iplen = 16;
	ret = mbedtls_ssl_setup(&t->ssl, &conf);
	if (ret == 0 && t->iplen != 0)
		mbedtls_ssl_set_verify(&t->ssl, verify_ip, t);
	else if (ret == 0)
		ret = mbedtls_ssl_set_hostname(&t->ssl, server_name);
	if (ret != 0) {
		describe(
		        global_err, sizeof global_err, "tls: new session", ret);
		mbedtls_ssl_free(&t->ssl);
		return NULL;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	t->in_use = 1;
	return t;
}

int
tls_handshake(struct tls *t)
{
	int ret;

	if (t->failed)
		return TLS_ERR;
	if (t->done)
		return TLS_OK;
	ret = mbedtls_ssl_handshake(&t->ssl);
	if (ret == 0) {
		t->done = 1;
		return TLS_OK;
	}
	if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
	        ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return TLS_WANT_IO;
	return fail(t, "handshake", ret);
}

size_t
tls_net_in_space(struct tls *t, uint8_t **p)
{
	if (t->in_off > 0) {
		memmove(t->in, t->in + t->in_off, t->in_len - t->in_off);
		t->in_len -= t->in_off;
		t->in_off = 0;
	}
	*p = t->in + t->in_len;
	return t->peer_eof || t->failed ? 0 : sizeof t->in - t->in_len;
}

void
tls_net_in_done(struct tls *t, size_t n)
{
	if (n == 0)
		t->peer_eof = 1;
	else if (n <= sizeof t->in - t->in_len)
		t->in_len += n;
}

size_t
tls_net_out_pending(struct tls *t, const uint8_t **p)
{
	pump_out(t);
	*p = t->out;
	return t->out_len;
}

void
tls_net_out_done(struct tls *t, size_t n)
{
	if (n > t->out_len)
		n = t->out_len;
	memmove(t->out, t->out + n, t->out_len - n);
	t->out_len -= n;
}

ssize_t
tls_write(struct tls *t, const void *buf, size_t n)
{
	int ret;

	if (t->failed)
		return TLS_ERR;
	if (!t->done)
		return tls_handshake(t) == TLS_ERR ? TLS_ERR : TLS_WANT_IO;
	if (n == 0)
		return 0;
	if (pump_out(t))
		return t->failed ? TLS_ERR : TLS_WANT_IO;
	ret = mbedtls_ssl_write(&t->ssl, buf, n);
	if (ret > 0)
		return ret;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE && t->ssl.out_left != 0) {
		/* The record is sealed and partly in net_out; mbedTLS would
		 * want the same call again, so the caller's bytes count as
		 * taken and pump_out() delivers the rest. */
		int max = mbedtls_ssl_get_max_out_record_payload(&t->ssl);
		return max > 0 && (size_t)max < n ? max : (ssize_t)n;
	}
	if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
	        ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return TLS_WANT_IO;
	return fail(t, "write", ret);
}

ssize_t
tls_read(struct tls *t, void *buf, size_t n)
{
	int ret;

	if (t->failed)
		return TLS_ERR;
	if (t->closed)
		return 0;
	if (!t->done)
		return tls_handshake(t) == TLS_ERR ? TLS_ERR : TLS_WANT_IO;
	/* an alert mbedTLS writes while a record is left behind would be
	 * lost (it would only flush), so read once net_out took it all */
	if (pump_out(t))
		return t->failed ? TLS_ERR : TLS_WANT_IO;
	ret = mbedtls_ssl_read(&t->ssl, buf, n);
	if (ret > 0)
		return ret;
	if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
	        ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return TLS_WANT_IO;
	if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
	        ret == MBEDTLS_ERR_SSL_CONN_EOF) {
		t->closed = 1;
		return 0;
	}
	return fail(t, "read", ret);
}

int
tls_close_notify(struct tls *t)
{
	int ret;

	if (t->failed || !t->done)
		return TLS_ERR;
	if (pump_out(t))
		return t->failed ? TLS_ERR : TLS_WANT_IO;
	ret = mbedtls_ssl_close_notify(&t->ssl);
	if (ret == 0 || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return TLS_OK; /* sealed; the rest leaves via pump_out() */
	return fail(t, "close", ret);
}

void
tls_info(struct tls *t, const char **version, const char **cipher)
{
	*version = t->done ? mbedtls_ssl_get_version(&t->ssl) : "";
	*cipher = t->done ? mbedtls_ssl_get_ciphersuite(&t->ssl) : "";
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
	mbedtls_ssl_free(&t->ssl);
	t->in_use = 0;
	if (t->server)
		sbusy--;
}

size_t
tls_heap_used(void)
{
	size_t used = 0, blocks = 0;

	if (heap_ready)
		mbedtls_memory_buffer_alloc_cur_get(&used, &blocks);
	return used + blocks * HEAP_HDR;
}

size_t
tls_heap_peak(void)
{
	size_t used = 0, blocks = 0;

	if (heap_ready)
		mbedtls_memory_buffer_alloc_max_get(&used, &blocks);
	return used + blocks * HEAP_HDR;
}

size_t
tls_heap_size(void)
{
	return heap_size;
}

/* --- server side --------------------------------------------------------- */

#if !defined(MBEDTLS_SSL_SRV_C)
/* A client-only library: no server sessions (certgen.h logs and skips the
 * tls ports, as with TLS=none). */
int
tls_server_init(unsigned sessions, char *err, size_t errlen)
{
	fmt_snprintf(err, errlen, "%s", "");
	if (sessions > 0) {
		fmt_snprintf(err, errlen,
		        "tls: this build's mbedTLS has no server side");
		return -1;
	}
	heap_init();
	return 0;
}

int
tls_server_cert(const uint8_t *key, size_t keylen, const uint8_t *cert,
        size_t certlen, char *err, size_t errlen)
{
	fmt_snprintf(
	        err, errlen, "tls: this build's mbedTLS has no server side");
	return -1;
}

int
tls_server_suites(const uint16_t *ids, size_t n, char *err, size_t errlen)
{
	(void)ids;
	(void)n;
	fmt_snprintf(
	        err, errlen, "tls: this build's mbedTLS has no server side");
	return -1;
}

struct tls *
tls_server_new(void)
{
	fmt_snprintf(global_err, sizeof global_err,
	        "tls: the server side is not set up");
	return NULL;
}
#else
int
tls_server_init(unsigned sessions, char *err, size_t errlen)
{
	fmt_snprintf(err, errlen, "%s", "");
	if (heap_ready || servers != NULL) {
		fmt_snprintf(err, errlen,
		        "tls: tls_server_init() must come first, once");
		return -1;
	}
	if (sessions > 0) {
		heap_size =
		        LURE_TLS_HEAP + (size_t)sessions * LURE_TLS_SERVER_HEAP;
		heap = malloc(heap_size);
		servers = calloc(sessions, sizeof *servers);
		if (heap == NULL || servers == NULL) {
			fmt_snprintf(err, errlen,
			        "tls: out of memory for %u server sessions "
			        "(%zu bytes of heap)",
			        sessions, heap_size);
			free(heap);
			free(servers);
			heap = static_heap;
			heap_size = sizeof static_heap;
			servers = NULL;
			return -1;
		}
	}
	nservers = sessions;
	heap_init();
	return 0;
}

int
tls_server_cert(const uint8_t *key, size_t keylen, const uint8_t *cert,
        size_t certlen, char *err, size_t errlen)
{
	int ret;

	fmt_snprintf(err, errlen, "%s", "");
	if (servers == NULL || sready) {
		fmt_snprintf(err, errlen,
		        "tls: tls_server_cert() needs tls_server_init() with "
		        "sessions, once");
		return -1;
	}
	if (seed() < 0) {
		fmt_snprintf(err, errlen, "%s", global_err);
		return -1;
	}
	mbedtls_x509_crt_init(&scert);
	mbedtls_pk_init(&skey);
	mbedtls_ssl_config_init(&sconf);
	if ((ret = mbedtls_x509_crt_parse_der(&scert, cert, certlen)) != 0)
		describe(err, errlen, "tls: server certificate", ret);
	else if ((ret = mbedtls_pk_parse_key(&skey, key, keylen, NULL, 0)) != 0)
		describe(err, errlen, "tls: server key", ret);
	else if ((ret = mbedtls_ssl_config_defaults(&sconf,
	                  MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
	                  MBEDTLS_SSL_PRESET_DEFAULT)) != 0)
		describe(err, errlen, "tls: server config", ret);
	else if ((ret = mbedtls_ssl_conf_own_cert(&sconf, &scert, &skey)) != 0)
		describe(err, errlen, "tls: server certificate and key", ret);
	if (ret != 0) {
		mbedtls_ssl_config_free(&sconf);
		mbedtls_pk_free(&skey);
		mbedtls_x509_crt_free(&scert);
		return -1;
	}
	mbedtls_ssl_conf_rng(&sconf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_curves(&sconf, curves);
	sready = 1;
	return 0;
}

int
tls_server_suites(const uint16_t *ids, size_t n, char *err, size_t errlen)
{
	static int list[TLS_SUITES_MAX + 1];

	if (!sready || n == 0 || n > TLS_SUITES_MAX)
		return -1; /* certgen.c calls it right */
	for (size_t i = 0; i < n; i++) {
		if (mbedtls_ssl_ciphersuite_from_id(ids[i]) == NULL) {
			fmt_snprintf(err, errlen,
			        "tls: suite 0x%04x is not in this build's "
			        "mbedTLS",
			        ids[i]);
			return -1;
		}
		list[i] = ids[i];
	}
	list[n] = 0;
	/* mbedTLS's server takes the first of its own list that the client
	 * offers */
	mbedtls_ssl_conf_ciphersuites(&sconf, list);
	return 0;
}

struct tls *
tls_server_new(void)
{
	struct tls *t = NULL;
	int ret;

	if (!sready) {
		fmt_snprintf(global_err, sizeof global_err,
		        "tls: the server side is not set up");
		return NULL;
	}
	for (unsigned i = 0; i < nservers && t == NULL; i++)
		if (!servers[i].in_use)
			t = &servers[i];
	if (t == NULL) {
		fmt_snprintf(global_err, sizeof global_err,
		        "tls: all %u server sessions are busy", nservers);
		return NULL;
	}
	memset(t, 0, sizeof *t);
	t->server = 1;
	t->out = t->own_out;
	t->out_cap = sizeof t->own_out;
	mbedtls_ssl_init(&t->ssl);
	if ((ret = mbedtls_ssl_setup(&t->ssl, &sconf)) != 0) {
		describe(global_err, sizeof global_err,
		        "tls: new server session", ret);
		mbedtls_ssl_free(&t->ssl);
		return NULL;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	t->in_use = 1;
	sbusy++;
	return t;
}

#endif

unsigned
tls_server_busy(void)
{
	return sbusy;
}

unsigned
tls_server_max(void)
{
	return sready ? nservers : 0;
}

/* --- primitives ---------------------------------------------------------- */

int
tls_md5(const void *p, size_t n, uint8_t out[16])
{
#if defined(MBEDTLS_MD5_C)
	return mbedtls_md5_ret(p, n, out) == 0 ? 0 : -1;
#else
	return -1;
#endif
}

int
tls_sha256(const void *p, size_t n, uint8_t out[32])
{
	return mbedtls_sha256_ret(p, n, out, 0) == 0 ? 0 : -1;
}

#if defined(MBEDTLS_GENPRIME) && defined(MBEDTLS_PK_WRITE_C)
/* mbedTLS writes DER at the end of the buffer: move it to the front. */
static ssize_t
der_front(uint8_t *buf, size_t cap, int len)
{
	if (len <= 0)
		return -1;
	memmove(buf, buf + cap - (size_t)len, (size_t)len);
	return len;
}

ssize_t
tls_rsa_keygen(
        unsigned bits, uint8_t *key, size_t cap, char *err, size_t errlen)
{
	mbedtls_pk_context pk;
	ssize_t n = -1;
	int ret;

	if (seed() < 0) {
		fmt_snprintf(err, errlen, "%s", global_err);
		return -1;
	}
	mbedtls_pk_init(&pk);
	ret = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
	if (ret == 0)
		ret = mbedtls_rsa_gen_key(mbedtls_pk_rsa(pk),
		        mbedtls_ctr_drbg_random, &drbg, bits, 65537);
	if (ret == 0) {
		n = der_front(
		        key, cap, mbedtls_pk_write_key_der(&pk, key, cap));
		if (n < 0)
			fmt_snprintf(
			        err, errlen, "tls: RSA key: buffer too small");
	} else {
		describe(err, errlen, "tls: RSA key generation", ret);
	}
	mbedtls_pk_free(&pk);
	return n;
}

ssize_t
tls_rsa_pubkey(const uint8_t *key, size_t keylen, uint8_t *out, size_t cap)
{
	mbedtls_pk_context pk;
	ssize_t n = -1;

	heap_init();
	mbedtls_pk_init(&pk);
	if (mbedtls_pk_parse_key(&pk, key, keylen, NULL, 0) == 0)
		n = der_front(
		        out, cap, mbedtls_pk_write_pubkey_der(&pk, out, cap));
	mbedtls_pk_free(&pk);
	return n;
}
#else
ssize_t
tls_rsa_keygen(
        unsigned bits, uint8_t *key, size_t cap, char *err, size_t errlen)
{
	fmt_snprintf(err, errlen,
	        "tls: this build's mbedTLS has no RSA key "
	        "generation");
	return -1;
}

ssize_t
tls_rsa_pubkey(const uint8_t *key, size_t keylen, uint8_t *out, size_t cap)
{
	return -1;
}
#endif

ssize_t
tls_rsa_sign_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg,
        size_t n, uint8_t *sig, size_t cap)
{
	mbedtls_pk_context pk;
	uint8_t hash[32];
	size_t len = 0;
	int ret;

	if (seed() < 0)
		return -1;
	mbedtls_pk_init(&pk);
	ret = mbedtls_pk_parse_key(&pk, key, keylen, NULL, 0);
	if (ret == 0 && mbedtls_pk_get_len(&pk) > cap)
		ret = -1;
	if (ret == 0)
		ret = mbedtls_sha256_ret(msg, n, hash, 0);
	if (ret == 0)
		ret = mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, hash, sizeof hash,
		        sig, &len, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_pk_free(&pk);
	return ret == 0 ? (ssize_t)len : -1;
}
