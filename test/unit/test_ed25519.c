/* test_ed25519.c: src/ed25519.c against RFC 8032 section 7.1 (tests 1, 2
 * and 3), signatures made by OpenSSL (python3-cryptography) for messages
 * across SHA-512's block edges, RFC 7748 section 5.2's X25519 vectors (and
 * its 1,000 iterations), and small-order points refused. */
#include <string.h>

#include "ed25519.h"
#include "unit.h"

static void
unhex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char c = h[2 * i + (size_t)j];
			v = v * 16 +
			    (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
		}
		out[i] = (uint8_t)v;
	}
}

/* seed, public key, signature; the message is msg (hex) or, when msg is
 * NULL, n bytes (i * 7 + 3) */
static const struct {
	const char *seed, *pk, *sig, *msg;
	size_t n;
} sign_v[] = {
        {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f7"
                "07511a",
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522"
                "4901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe246551"
                "41438e7a100b",
                "", 0},
        {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12a"
                "f4660c",
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223eb"
                "db69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d"
                "291612bb0c00",
                "72", 1},
        {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
                "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548"
                "908025",
                "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db"
                "5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027"
                "beceea1ec40a",
                "af82", 2},
        {"7b70301b9b0436208bbc80c2462e8c200e9228961b3d2cfc18358e9671c17b1e",
                "9c74780e2e67d521263ce91c982355638a9d7f2aa8dfb9f1db530e7a11"
                "090972",
                "9866407168719e09baa4944f5d64c566c21b9625c8078a12d20fc21a1b"
                "9d46df6088352fbff0b428a395255be75b55ba5d22ed681cf4c515d0e4"
                "deaf6ac37b0e",
                NULL, 1},
        {"f93cb0c8eb7e467170712d4d8a91db321afffa0c11aa20b454b7e1ff09ded20c",
                "885394cc9b85258cb3cdb9a72d32cd4ef4a998d2e7c2b9a094125524c2"
                "fd2e00",
                "6fdbc5683cc12c9ea8ab3e56cbafaba3e0f2071cd6f140ad7070e97c62"
                "38079c246315c424f33315f4d391cbdef9f429801b48b48d6fa5b1a21c"
                "cb6603665d08",
                NULL, 111},
        {"5ab72079a57e70ee2b125a052394891840258964dccaeda77bf1ecc8a4b66e64",
                "dd7684cafe75554ac1ec640d8562fa4bb0352148e5b0695c1cfabe7799"
                "d84c46",
                "b41575aec16456d94a97f2183688c03d1127370301afd624d467aa0dfe"
                "033e6329c50d43feb23d89be51b249e563c2a2b47b2dc7b3015e880188"
                "6a083a4bbd08",
                NULL, 112},
        {"d03f5d67f45e1e6c1abfd0c04f94aa984968acaa3f7415e472826e50676a7b52",
                "0d020fda0c8f2fef49353111a962d3213ac1f7e6d63ef1c612d65dfdaf"
                "e5265f",
                "75d265c9dde5cbdc8faa22aee467ddd091fb548088fe5647815f7d2338"
                "dcc7817d0579db3fc74b94b7e31b3434bd7508b389d0365907db782b26"
                "52c5d832bb06",
                NULL, 128},
        {"9e420bee0f0c55150ef666abde04a37f216b99da81e68e2ed215d67a5a091734",
                "6a7e3163a4ced625d0aee2a5b769f2c0e8ca964d5f8f887117f053f49a"
                "4fa101",
                "fa1b4c66201a92f20c3d3b39d851615e353991ce47d1210b27bb35c7a9"
                "6c4a159b869695629fe0955c22d55bbc8190f1b9fc45092660e1bf8411"
                "21269d49c403",
                NULL, 300},
};

static void
test_sign(void)
{
	for (size_t i = 0; i < sizeof sign_v / sizeof sign_v[0]; i++) {
		uint8_t seed[32], pk[32], want_pk[32], msg[300], sig[64],
		        want[64];
		size_t n = sign_v[i].n;

		unhex(sign_v[i].seed, seed, 32);
		unhex(sign_v[i].pk, want_pk, 32);
		unhex(sign_v[i].sig, want, 64);
		if (sign_v[i].msg)
			unhex(sign_v[i].msg, msg, n);
		else
			for (size_t j = 0; j < n; j++)
				msg[j] = (uint8_t)(j * 7 + 3);
		ed25519_public(pk, seed);
		CHECK(memcmp(pk, want_pk, 32) == 0);
		ed25519_sign(sig, msg, n, seed, pk);
		CHECK(memcmp(sig, want, 64) == 0);
	}
}

static void
test_x25519_rfc7748(void)
{
	static const char *v[][3] = {
	        {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449"
	         "a"
	         "c4",
	                "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903"
	                "a6d0ab1c4c",
	                "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b407"
	                "5577a28552"},
	        {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918b"
	         "a"
	         "0d",
	                "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd5"
	                "49c715a493",
	                "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7"
	                "647aac7957"},
	};
	uint8_t k[32], u[32], out[32], want[32];

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		unhex(v[i][0], k, 32);
		unhex(v[i][1], u, 32);
		unhex(v[i][2], want, 32);
		CHECK(ed25519_x25519(out, k, u) == 0);
		CHECK(memcmp(out, want, 32) == 0);
	}
	/* k = u = 9; then k, u = X25519(k, u), k */
	memset(k, 0, 32);
	k[0] = 9;
	memcpy(u, k, 32);
	for (int i = 1; i <= 1000; i++) {
		CHECK(ed25519_x25519(out, k, u) == 0);
		memcpy(u, k, 32);
		memcpy(k, out, 32);
		if (i == 1) {
			unhex("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b78"
			      "3c60e80311ae3079",
			        want, 32);
			CHECK(memcmp(k, want, 32) == 0);
		}
	}
	unhex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c"
	      "51",
	        want, 32);
	CHECK(memcmp(k, want, 32) == 0);
}

/* u = 0, 1, p - 1 (order 2), p (0 again), and 2^255 + 1 (its top bit
 * ignored: 1): an all-zero result, refused */
static void
test_x25519_small_order(void)
{
	uint8_t k[32], u[32], out[32];

	memset(k, 0x5a, 32);
	for (int i = 0; i < 5; i++) {
		memset(u, i == 2 || i == 3 ? 0xff : 0, 32);
		if (i == 1 || i == 4)
			u[0] = 1;
		if (i == 2 || i == 3) {
			u[0] = i == 2 ? 0xec : 0xed;
			u[31] = 0x7f;
		}
		if (i == 4)
			u[31] = 0x80;
		CHECK(ed25519_x25519(out, k, u) == -1);
	}
}

const struct unit_test unit_ed25519[] = {
        {"sign", test_sign},
        {"x25519_rfc7748", test_x25519_rfc7748},
        {"x25519_small_order", test_x25519_small_order},
        {0, 0},
};
