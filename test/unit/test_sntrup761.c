/* test_sntrup761.c: sntrup761 against the published known-answer tests (the
 * NIST AES-256 CTR_DRBG feeding keypair/enc, the KAT text hashed with
 * SHA-256 as liboqs and PQClean record it), round trips, implicit rejection.
 * Built with -DSNTRUP761_CT=1 it is instead a constant-time check to run
 * under valgrind memcheck (make test-ct-sntrup761). */
#include <stdio.h>
#include <string.h>

#include <mbedtls/aes.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/version.h>

#include "sntrup761.h"

#ifndef SNTRUP761_CT
#define SNTRUP761_CT 0
#endif

#if MBEDTLS_VERSION_MAJOR >= 3
#define sha256_starts mbedtls_sha256_starts
#define sha256_update mbedtls_sha256_update
#define sha256_finish mbedtls_sha256_finish
#define sha512_all mbedtls_sha512
#else
#define sha256_starts mbedtls_sha256_starts_ret
#define sha256_update mbedtls_sha256_update_ret
#define sha256_finish mbedtls_sha256_finish_ret
#define sha512_all mbedtls_sha512_ret
#endif

/* --- the NIST KAT generator's randombytes: AES-256 CTR_DRBG, no derivation
 * function, the whole state updated after every call (SP 800-90A 10.2) --- */

struct nist_drbg {
	uint8_t key[32], v[16];
};

static void
drbg_block(mbedtls_aes_context *aes, uint8_t v[16], uint8_t out[16])
{
	for (int j = 15; j >= 0; j--)
		if (++v[j])
			break;
	mbedtls_aes_crypt_ecb(aes, MBEDTLS_AES_ENCRYPT, v, out);
}

static void
drbg_update(struct nist_drbg *d, const uint8_t *provided)
{
	mbedtls_aes_context aes;
	uint8_t t[48];

	mbedtls_aes_init(&aes);
	mbedtls_aes_setkey_enc(&aes, d->key, 256);
	for (int i = 0; i < 3; i++)
		drbg_block(&aes, d->v, t + 16 * i);
	mbedtls_aes_free(&aes);
	for (int i = 0; provided && i < 48; i++)
		t[i] ^= provided[i];
	memcpy(d->key, t, 32);
	memcpy(d->v, t + 32, 16);
}

static void
drbg_init(struct nist_drbg *d, const uint8_t seed[48])
{
	memset(d, 0, sizeof *d);
	drbg_update(d, seed);
}

static int
drbg_random(void *ctx, unsigned char *out, size_t len)
{
	struct nist_drbg *d = ctx;
	mbedtls_aes_context aes;
	uint8_t b[16];

	mbedtls_aes_init(&aes);
	mbedtls_aes_setkey_enc(&aes, d->key, 256);
	for (size_t n; len; out += n, len -= n) {
		drbg_block(&aes, d->v, b);
		n = len < 16 ? len : 16;
		memcpy(out, b, n);
	}
	mbedtls_aes_free(&aes);
	drbg_update(d, NULL);
	return 0;
}

#if !SNTRUP761_CT

#include "unit.h"

/* Published values. The NIST generator seeds its DRBG with the bytes 0..47
 * and draws one 48-byte seed per count: count 0 is the same in every NIST
 * KAT file. The SHA-256 of the KAT text: "single" is count 0 (lines
 * "count = 0" to "ss = ..." of kat_kem.rsp; PQClean META.yml
 * nistkat-sha256 and liboqs tests/KATs/kem/kats.json agree), "all" the 100
 * entries separated by blank lines (liboqs kats.json, kat_kem --all). */
static const char kat_seed0[] =
        "061550234D158C5EC95595FE04EF7A25767F2E24CC2BC479D09D86DC9ABCFDE7"
        "056A8C266F9EF97ED08541DBD2E1FFA1";
static const char kat_single[] =
        "afc42c3a5b10f4ef69654250097ebda9b9564570f4086744b24a6daf2bd1f89a";
static const char kat_all[] =
        "36e1e53d4e6e295e8fb804449958ad9a3719aa350e91933c65791b9117382d57";

static void
hex(char *out, const uint8_t *b, size_t n, const char *digits)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
}

/* one "name = HEX\n" line into both hashes (into single only while on) */
static void
kat_line(mbedtls_sha256_context *h, int n_h, const char *name, const uint8_t *b,
        size_t n)
{
	static char line[16 + 2 * SNTRUP761_SECRETKEY_BYTES + 2];
	size_t len = (size_t)snprintf(line, 16, "%s = ", name);

	hex(line + len, b, n, "0123456789ABCDEF");
	len += 2 * n;
	line[len++] = '\n';
	for (int i = 0; i < n_h; i++)
		sha256_update(&h[i], (const uint8_t *)line, len);
}

static void
test_kat(void)
{
	static uint8_t pk[SNTRUP761_PUBLICKEY_BYTES],
	        sk[SNTRUP761_SECRETKEY_BYTES], ct[SNTRUP761_CIPHERTEXT_BYTES];
	uint8_t seed[48], k[32], k2[32], sum[32];
	char text[2 * 48 + 1];
	struct nist_drbg outer, inner;
	mbedtls_sha256_context h[2]; /* all, single */

	for (int i = 0; i < 48; i++)
		seed[i] = (uint8_t)i;
	drbg_init(&outer, seed);
	for (int i = 0; i < 2; i++) {
		mbedtls_sha256_init(&h[i]);
		sha256_starts(&h[i], 0);
	}
	for (int count = 0; count < 100; count++) {
		int n_h = count == 0 ? 2 : 1;
		char head[32];

		drbg_random(&outer, seed, sizeof seed);
		if (count == 0) {
			hex(text, seed, sizeof seed, "0123456789ABCDEF");
			CHECK_STR(text, kat_seed0);
		} else {
			sha256_update(&h[0], (const uint8_t *)"\n", 1);
		}
		snprintf(head, sizeof head, "count = %d\n", count);
		for (int i = 0; i < n_h; i++)
			sha256_update(
			        &h[i], (const uint8_t *)head, strlen(head));
		kat_line(h, n_h, "seed", seed, sizeof seed);
		drbg_init(&inner, seed);
		CHECK(sntrup761_keypair(pk, sk, drbg_random, &inner) == 0);
		kat_line(h, n_h, "pk", pk, sizeof pk);
		kat_line(h, n_h, "sk", sk, sizeof sk);
		CHECK(sntrup761_enc(ct, k, pk, drbg_random, &inner) == 0);
		kat_line(h, n_h, "ct", ct, sizeof ct);
		kat_line(h, n_h, "ss", k, sizeof k);
		CHECK(sntrup761_dec(k2, ct, sk) == 0);
		CHECK(memcmp(k, k2, sizeof k) == 0);
		if (count == 0) {
			sha256_finish(&h[1], sum);
			hex(text, sum, sizeof sum, "0123456789abcdef");
			CHECK_STR(text, kat_single);
		}
	}
	sha256_finish(&h[0], sum);
	hex(text, sum, sizeof sum, "0123456789abcdef");
	CHECK_STR(text, kat_all);
	for (int i = 0; i < 2; i++)
		mbedtls_sha256_free(&h[i]);
}

static int
fail_rng(void *ctx, unsigned char *out, size_t len)
{
	int *left = ctx;

	memset(out, 0x5a, len);
	return (*left)-- <= 0 ? -1 : 0;
}

static void
test_round_trip(void)
{
	static uint8_t pk[SNTRUP761_PUBLICKEY_BYTES],
	        sk[SNTRUP761_SECRETKEY_BYTES], ct[SNTRUP761_CIPHERTEXT_BYTES],
	        ct1[SNTRUP761_CIPHERTEXT_BYTES];
	uint8_t seed[48], k[32], k1[32], k2[32];
	struct nist_drbg d;

	memset(seed, 0xa7, sizeof seed);
	drbg_init(&d, seed);
	CHECK(sntrup761_keypair(pk, sk, drbg_random, &d) == 0);
	CHECK(memcmp(sk + 2 * 191, pk, sizeof pk) == 0);
	for (int i = 0; i < 8; i++) {
		CHECK(sntrup761_enc(ct, k, pk, drbg_random, &d) == 0);
		CHECK(sntrup761_dec(k2, ct, sk) == 0);
		CHECK(memcmp(k, k2, sizeof k) == 0);
		if (i > 0) { /* fresh randomness, fresh ciphertext and key */
			CHECK(memcmp(ct, ct1, sizeof ct) != 0);
			CHECK(memcmp(k, k1, sizeof k) != 0);
		}
		memcpy(ct1, ct, sizeof ct);
		memcpy(k1, k, sizeof k);
	}
	/* a failing rng is reported, and leaves no key behind */
	int left = 0;
	CHECK(sntrup761_enc(ct, k, pk, fail_rng, &left) == -1);
	memset(k2, 0, sizeof k2);
	CHECK(memcmp(k, k2, sizeof k) == 0);
	left = 2; /* the third call fails */
	CHECK(sntrup761_keypair(pk, sk, fail_rng, &left) == -1);
	CHECK(sk[0] == 0 && sk[sizeof sk - 1] == 0);
}

/* The implicit-rejection key, computed here from the spec: Hash_prefix(0,
 * Hash_prefix(3, rho) | ct) with Hash_prefix(b, x) = SHA-512(b | x)[0:32] */
static void
reject_key(uint8_t k[32], const uint8_t *sk, const uint8_t *ct)
{
	static uint8_t in[1 + 32 + SNTRUP761_CIPHERTEXT_BYTES];
	uint8_t h[64];

	in[0] = 3;
	memcpy(in + 1, sk + 2 * 191 + SNTRUP761_PUBLICKEY_BYTES, 191);
	sha512_all(in, 1 + 191, h, 0);
	in[0] = 0;
	memcpy(in + 1, h, 32);
	memcpy(in + 33, ct, SNTRUP761_CIPHERTEXT_BYTES);
	sha512_all(in, sizeof in, h, 0);
	memcpy(k, h, 32);
}

static void
test_reject(void)
{
	static uint8_t pk[SNTRUP761_PUBLICKEY_BYTES],
	        sk[SNTRUP761_SECRETKEY_BYTES], ct[SNTRUP761_CIPHERTEXT_BYTES],
	        bad[SNTRUP761_CIPHERTEXT_BYTES];
	/* in the rounded part (first, middle, last byte), in the confirm hash */
	static const size_t at[] = {0, 1, 500, 1006, 1007, 1038};
	uint8_t seed[48], k[32], k2[32], want[32];
	struct nist_drbg d;

	memset(seed, 0x3c, sizeof seed);
	drbg_init(&d, seed);
	CHECK(sntrup761_keypair(pk, sk, drbg_random, &d) == 0);
	CHECK(sntrup761_enc(ct, k, pk, drbg_random, &d) == 0);
	reject_key(want, sk, ct);
	CHECK(memcmp(k, want, 32) != 0);
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			memcpy(bad, ct, sizeof ct);
			bad[at[i]] ^= (uint8_t)(1 << bit);
			CHECK(sntrup761_dec(k2, bad, sk) == 0);
			reject_key(want, sk, bad);
			CHECK(memcmp(k2, want, 32) == 0);
		}
	}
	/* arbitrary bytes, and a ciphertext for another key */
	memset(bad, 0xff, sizeof bad);
	CHECK(sntrup761_dec(k2, bad, sk) == 0);
	reject_key(want, sk, bad);
	CHECK(memcmp(k2, want, 32) == 0);
	drbg_random(&d, bad, sizeof bad);
	CHECK(sntrup761_dec(k2, bad, sk) == 0);
	reject_key(want, sk, bad);
	CHECK(memcmp(k2, want, 32) == 0);
	/* the untouched ciphertext still gives the shared key */
	CHECK(sntrup761_dec(k2, ct, sk) == 0);
	CHECK(memcmp(k2, k, 32) == 0);
}

/* Any 1158 bytes are a public key (Decode reduces each value): encapsulating
 * to one is deterministic for a fixed rng, and never crashes. */
static void
test_any_pk(void)
{
	static uint8_t pk[SNTRUP761_PUBLICKEY_BYTES],
	        ct[2][SNTRUP761_CIPHERTEXT_BYTES];
	uint8_t seed[48] = {1}, k[2][32];
	struct nist_drbg d;

	for (int fill = 0; fill < 256; fill += 255) {
		memset(pk, fill, sizeof pk);
		for (int i = 0; i < 2; i++) {
			drbg_init(&d, seed);
			CHECK(sntrup761_enc(ct[i], k[i], pk, drbg_random, &d) ==
			        0);
		}
		CHECK(memcmp(ct[0], ct[1], sizeof ct[0]) == 0);
		CHECK(memcmp(k[0], k[1], sizeof k[0]) == 0);
	}
}

const struct unit_test unit_sntrup761[] = {
        {"kat", test_kat},
        {"round_trip", test_round_trip},
        {"reject", test_reject},
        {"any_pk", test_any_pk},
        {NULL, NULL},
};

#else /* SNTRUP761_CT: memcheck reports a branch or index on these bytes */

#include <valgrind/memcheck.h>

static int
secret_rng(void *ctx, unsigned char *out, size_t len)
{
	drbg_random(ctx, out, len);
	VALGRIND_MAKE_MEM_UNDEFINED(out, len);
	return 0;
}

int
main(void)
{
	static uint8_t pk[SNTRUP761_PUBLICKEY_BYTES],
	        sk[SNTRUP761_SECRETKEY_BYTES], ct[SNTRUP761_CIPHERTEXT_BYTES];
	uint8_t seed[48] = {7}, k[32], k2[32], k3[32];
	struct nist_drbg d;

	if (!RUNNING_ON_VALGRIND) {
		fprintf(stderr, "ct_sntrup761: run me under valgrind\n");
		return 2;
	}
	drbg_init(&d, seed);
	sntrup761_keypair(pk, sk, secret_rng, &d);
	VALGRIND_MAKE_MEM_DEFINED(pk, sizeof pk); /* public */
	sntrup761_enc(ct, k, pk, secret_rng, &d);
	VALGRIND_MAKE_MEM_DEFINED(ct, sizeof ct);
	sntrup761_dec(k2, ct, sk);
	ct[5] ^= 1; /* the rejection path */
	sntrup761_dec(k3, ct, sk);
	VALGRIND_MAKE_MEM_DEFINED(k, sizeof k);
	VALGRIND_MAKE_MEM_DEFINED(k2, sizeof k2);
	VALGRIND_MAKE_MEM_DEFINED(k3, sizeof k3);
	if (memcmp(k, k2, 32) != 0 || memcmp(k, k3, 32) == 0) {
		fprintf(stderr, "ct_sntrup761: wrong keys\n");
		return 1;
	}
	printf("ct_sntrup761: keypair, enc, dec, rejecting dec done\n");
	return 0;
}

#endif
