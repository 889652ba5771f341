/* test_sshkex.c: the SSH wire helpers (RFC 4251's mpint examples, bounded
 * reads), algorithm names, GEX's group choice as sshd 9.2 makes it
 * (bounds, best size from a moduli file, the RFC 3526 fallback), and the
 * X25519 exchange (src/ed25519.c) against mbedTLS's as the client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/ecdh.h"
#include "mbedtls/platform.h"
#include "sshkex.h"
#include "unit.h"

static const char *
mpint_hex(const uint8_t *p, size_t n)
{
	static char hex[64];
	uint8_t out[32];
	struct sshkex_buf b = {out, 0, sizeof out, 0};

	sshkex_mpint(&b, p, n);
	for (size_t i = 0; i < b.n; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
	hex[2 * b.n] = 0;
	return hex;
}

static void
test_mpint_rfc4251(void)
{
	static const uint8_t a[] = {
	        0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7};
	static const uint8_t b[] = {0x80};
	static const uint8_t z[] = {0x00, 0x00};

	CHECK_STR(mpint_hex(z, 0), "00000000");
	CHECK_STR(mpint_hex(z, 2), "00000000"); /* leading zeros dropped */
	CHECK_STR(mpint_hex(a, sizeof a), "0000000809a378f9b2e332a7");
	CHECK_STR(mpint_hex(b, 1), "000000020080");
}

static void
test_reads_bounded(void)
{
	uint8_t msg[] = {0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 9, 'x'};
	struct sshkex_buf r = {msg, 0, sizeof msg, 0};
	size_t n;
	const uint8_t *s = sshkex_getstr(&r, &n);

	CHECK(s && n == 3 && memcmp(s, "abc", 3) == 0 && !r.err);
	CHECK(sshkex_getstr(&r, &n) == NULL && r.err); /* 9 > what is left */
	r = (struct sshkex_buf){msg, 17, sizeof msg, 0}; /* past the end */
	CHECK(sshkex_get32(&r) == 0 && r.err);
	r = (struct sshkex_buf){msg, sizeof msg, sizeof msg, 0};
	CHECK(sshkex_get8(&r) == 0 && r.err);
}

static void
test_names(void)
{
	CHECK(sshkex_kex_find("curve25519-sha256@libssh.org", 28) ==
	        SSHKEX_X25519);
	CHECK(sshkex_kex_find("sntrup761x25519-sha512", 22) ==
	        SSHKEX_SNTRUP761);
	CHECK(sshkex_kex_find("kex-strict-s-v00@openssh.com", 28) ==
	        SSHKEX_NONE);
	CHECK(sshkex_kex_find("curve25519-sha25", 16) == SSHKEX_NONE);
	CHECK(sshkex_kex_hash(SSHKEX_P384) == SSHKEX_SHA384);
	CHECK(sshkex_kex_hash(SSHKEX_SNTRUP761) == SSHKEX_SHA512);
	CHECK(sshkex_hostkey_find("rsa-sha2-512", 12) == SSHKEX_HK_RSA512);
	/* dropbear's SHA-1 pair */
	CHECK(sshkex_hostkey_find("ssh-rsa", 7) == SSHKEX_HK_RSA1);
	CHECK(sshkex_hostkey_find("ssh-dss", 7) == SSHKEX_HK_NONE);
	CHECK(sshkex_kex_find("diffie-hellman-group14-sha1", 27) ==
	        SSHKEX_DH14_SHA1);
	CHECK(sshkex_kex_hash(SSHKEX_DH14_SHA1) == SSHKEX_SHA1);
	CHECK(sshkex_hash_len(SSHKEX_SHA1) == 20);
	CHECK(sshkex_kex_find("kexguess2@matt.ucc.asn.au", 25) == SSHKEX_NONE);
}

/* The exchange hash context on SHA-1: FIPS 180's "abc" vector, in two
 * updates. */
static void
test_hash_sha1(void)
{
	struct sshkex_hctx h;
	uint8_t out[20];
	char hex[41];

	sshkex_hstart(&h, SSHKEX_SHA1);
	sshkex_hupdate(&h, "a", 1);
	sshkex_hupdate(&h, "bc", 2);
	sshkex_hfinish(&h, out);
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
	CHECK_STR(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

static const char moduli[] =
        "# Time Type Tests Tries Size Generator Modulus\n"
        "20220714110357 2 6 100 2047 2 C7\n"
        "20220714110357 2 6 100 3071 5 D3\n"
        "20220714110357 1 6 100 4095 2 E5\n" /* not a safe prime */
        "20220714110357 2 6 100 6143 2 F1\n"
        "garbage line\n"
        "20220714110357 2 6 100 8191 2 FB\n";

static const char *
pick(uint32_t min, uint32_t n, uint32_t max, int with_file)
{
	static char out[16];
	struct sshkex_group g;

	if (sshkex_gex_choose(min, n, max,
	            with_file ? (const uint8_t *)moduli : NULL,
	            sizeof moduli - 1, &g) < 0)
		return "refused";
	if (g.hexlen > 4) /* an RFC 3526 group: its size */
		snprintf(out, sizeof out, "rfc%zu", g.hexlen * 4);
	else
		snprintf(out, sizeof out, "%.*s/%u", (int)g.hexlen, g.hex, g.g);
	return out;
}

static void
test_gex_choice(void)
{
	/* the smallest size at or above n; else the largest below */
	CHECK_STR(pick(2048, 3072, 8192, 1), "D3/5");
	CHECK_STR(pick(2048, 2048, 8192, 1), "C7/2");
	CHECK_STR(pick(2048, 4096, 8192, 1), "F1/2"); /* 4096 is type 1 */
	CHECK_STR(pick(2048, 8192, 8192, 1), "FB/2");
	CHECK_STR(pick(2048, 7000, 7000, 1), "F1/2");
	CHECK_STR(pick(2048, 8192, 7000, 1), "refused"); /* max < n */
	CHECK_STR(pick(1024, 1024, 1024, 1), "refused"); /* max < 2048 */
	CHECK_STR(pick(4096, 3072, 8192, 1), "refused"); /* n < min */
	CHECK_STR(pick(1024, 1536, 2048, 1), "C7/2"); /* bounds clamped */
	/* no fitting line, or no file: dh_new_group_fallback(max) */
	CHECK_STR(pick(2048, 2048, 2048, 0), "rfc2048");
	CHECK_STR(pick(2048, 3072, 4096, 0), "rfc4096");
	CHECK_STR(pick(2048, 8192, 8192, 0), "rfc8192");
	CHECK_STR(pick(7000, 7000, 7500, 1), "rfc8192");
}

/* a fixed byte stream for the client's key: the test is reproducible */
static int
test_rng(void *ctx, unsigned char *out, size_t n)
{
	unsigned *x = ctx;

	for (size_t i = 0; i < n; i++)
		out[i] =
		        (unsigned char)((*x = *x * 1103515245u + 12345u) >> 16);
	return 0;
}

/* Direct calls into libc, as sshkex_setup installs for lure: mbedTLS's
 * default allocator is a pointer to calloc itself, and on MIPS the C
 * library is PIC (it finds its $gp from $t9) while our code is not and
 * calls through a pointer without setting $t9: calloc then crashes. */
static void *
test_calloc(size_t n, size_t size)
{
	return calloc(n, size);
}

static void
test_free(void *p)
{
	free(p);
}

/* curve25519-sha256: the client's side computed by mbedTLS's ECP; both
 * must reach the same K (RFC 8731: the 32 bytes read as big-endian) */
static void
test_x25519_exchange(void)
{
	mbedtls_ecp_group g;
	mbedtls_mpi d, z;
	mbedtls_ecp_point q, qs;
	unsigned seed = 7;
	uint8_t qc[32], rb[64], kb[64], zle[32], want[64];
	struct sshkex_buf reply = {rb, 0, sizeof rb, 0};
	struct sshkex_buf kout = {kb, 0, sizeof kb, 0};
	struct sshkex_buf w = {want, 0, sizeof want, 0};
	size_t n;
	int rc;

	mbedtls_platform_set_calloc_free(test_calloc, test_free);
	mbedtls_ecp_group_init(&g);
	mbedtls_mpi_init(&d);
	mbedtls_mpi_init(&z);
	mbedtls_ecp_point_init(&q);
	mbedtls_ecp_point_init(&qs);
	rc = mbedtls_ecp_group_load(&g, MBEDTLS_ECP_DP_CURVE25519);
	if (!rc)
		rc = mbedtls_ecp_gen_keypair(&g, &d, &q, test_rng, &seed);
	if (!rc)
		rc = mbedtls_ecp_point_write_binary(
		        &g, &q, MBEDTLS_ECP_PF_UNCOMPRESSED, &n, qc, 32);
	if (!rc)
		rc = sshkex_exchange(
		        SSHKEX_X25519, NULL, qc, 32, &reply, &kout);
	/* reply: string Q_S */
	if (!rc)
		rc = reply.n != 36 || sshkex_peek32(rb) != 32;
	if (!rc)
		rc = mbedtls_ecp_point_read_binary(&g, &qs, rb + 4, 32);
	if (!rc)
		rc = mbedtls_ecdh_compute_shared(
		        &g, &z, &qs, &d, test_rng, &seed);
	if (!rc)
		rc = mbedtls_mpi_write_binary_le(&z, zle, 32);
	mbedtls_ecp_group_free(&g);
	mbedtls_mpi_free(&d);
	mbedtls_mpi_free(&z);
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_point_free(&qs);
	CHECK(rc == 0);
	sshkex_mpint(&w, zle, 32);
	CHECK(!kout.err && kout.n == w.n && memcmp(kb, want, w.n) == 0);
}

/* small-order points (and a non-canonical encoding of one) give an
 * all-zero secret: refused, as OpenSSH refuses them */
static void
test_x25519_small_order(void)
{
	static const uint8_t bad[][32] = {
	        {0}, /* 0 */
	        {1}, /* 1 */
	        {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                0xff, 0xff, 0xff, 0x7f}, /* p - 1 */
	        {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                0xff, 0xff, 0xff, 0x7f}, /* p: 0 again */
	};
	uint8_t rb[64], kb[64];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sshkex_buf reply = {rb, 0, sizeof rb, 0};
		struct sshkex_buf kout = {kb, 0, sizeof kb, 0};

		CHECK(sshkex_exchange(SSHKEX_X25519, NULL, bad[i], 32, &reply,
		              &kout) == -1);
	}
}

const struct unit_test unit_sshkex[] = {
        {"mpint_rfc4251", test_mpint_rfc4251},
        {"reads_bounded", test_reads_bounded},
        {"names", test_names},
        {"hash_sha1", test_hash_sha1},
        {"gex_choice", test_gex_choice},
        {"x25519_exchange", test_x25519_exchange},
        {"x25519_small_order", test_x25519_small_order},
        {0, 0},
};
