/* fuzz_sntrup761.c: libFuzzer target. First byte even: the rest (cut or
 * zero-padded to 1039 bytes) is decapsulated with a fixed key: the result
 * must be the implicit-rejection key unless it is the one valid ciphertext.
 * Odd: the rest is a public key (any bytes decode): encapsulating to it
 * twice with the same randomness gives the same ciphertext and key. */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha512.h>
#include <mbedtls/version.h>

#include "sntrup761.h"

#if MBEDTLS_VERSION_MAJOR >= 3
#define sha512_all mbedtls_sha512
#else
#define sha512_all mbedtls_sha512_ret
#endif

static uint8_t pk[SNTRUP761_PUBLICKEY_BYTES], sk[SNTRUP761_SECRETKEY_BYTES];
static uint8_t ct_ok[SNTRUP761_CIPHERTEXT_BYTES], k_ok[SNTRUP761_KEY_BYTES];

/* xorshift64: a fixed stream, so the key pair (and the seed corpus's valid
 * ciphertext) is the same in every run */
static int
fixed_rng(void *ctx, unsigned char *out, size_t len)
{
	uint64_t *s = ctx;

	for (size_t i = 0; i < len; i++) {
		*s ^= *s << 13;
		*s ^= *s >> 7;
		*s ^= *s << 17;
		out[i] = (uint8_t)(*s >> 32);
	}
	return 0;
}

static void
setup(void)
{
	uint64_t s = 0x6c7572652d6b656dULL;

	if (sntrup761_keypair(pk, sk, fixed_rng, &s) ||
	        sntrup761_enc(ct_ok, k_ok, pk, fixed_rng, &s))
		abort();
}

/* Hash_prefix(0, Hash_prefix(3, rho) | ct), from the specification */
static void
reject_key(uint8_t k[32], const uint8_t *ct)
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static uint8_t buf[SNTRUP761_PUBLICKEY_BYTES];
	static uint8_t ct[2][SNTRUP761_CIPHERTEXT_BYTES];
	uint8_t k[2][SNTRUP761_KEY_BYTES], want[SNTRUP761_KEY_BYTES];

	if (!ready) {
		setup();
		ready = 1;
	}
	if (!size)
		return 0;
	memset(buf, 0, sizeof buf);
	memcpy(buf, data + 1, size - 1 < sizeof buf ? size - 1 : sizeof buf);
	if (data[0] % 2 == 0) {
		if (sntrup761_dec(k[0], buf, sk))
			abort();
		if (memcmp(buf, ct_ok, sizeof ct_ok) == 0)
			memcpy(want, k_ok, sizeof want);
		else
			reject_key(want, buf);
		if (memcmp(k[0], want, sizeof want) != 0)
			abort();
	} else {
		for (int i = 0; i < 2; i++) {
			uint64_t s = 0x1234567 + data[0];

			if (sntrup761_enc(ct[i], k[i], buf, fixed_rng, &s))
				abort();
		}
		if (memcmp(ct[0], ct[1], sizeof ct[0]) != 0 ||
		        memcmp(k[0], k[1], sizeof k[0]) != 0)
			abort();
		/* to the real key: the key pair's owner gets the same key */
		if (memcmp(buf, pk, sizeof pk) == 0) {
			if (sntrup761_dec(want, ct[0], sk) ||
			        memcmp(want, k[0], sizeof want) != 0)
				abort();
		}
	}
	return 0;
}
