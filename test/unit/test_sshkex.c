/* test_sshkex.c: the SSH wire helpers (RFC 4251's mpint examples, bounded
 * reads), algorithm names, and GEX's group choice as sshd 9.2 makes it
 * (bounds, best size from a moduli file, the RFC 3526 fallback). */
#include <stdio.h>

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

const struct unit_test unit_sshkex[] = {
        {"mpint_rfc4251", test_mpint_rfc4251},
        {"reads_bounded", test_reads_bounded},
        {"names", test_names},
        {"hash_sha1", test_hash_sha1},
        {"gex_choice", test_gex_choice},
        {0, 0},
};
