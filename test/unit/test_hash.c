/* test_hash.c: MD5, SHA-1 and SHA-256 known answers (RFC 1321, FIPS 180 examples),
 * split inputs, base64 both ways, and the RFC 2617 Digest example. */
#include "hash.h"
#include "unit.h"

static const char *
md5s(const char *a, const char *b)
{
	static char hex[33];
	uint8_t md[16];
	struct hash_part p[2] = {{a, strlen(a)}, {b, strlen(b)}};

	hash_md5(p, 2, md);
	hash_hex(md, 16, hex);
	return hex;
}

static const char *
sha1s(const char *a)
{
	static char hex[41];
	uint8_t md[20];
	struct hash_part p = {a, strlen(a)};

	hash_sha1(&p, 1, md);
	hash_hex(md, 20, hex);
	return hex;
}

static void
test_md5(void)
{
	CHECK_STR(md5s("", ""), "d41d8cd98f00b204e9800998ecf8427e");
	CHECK_STR(md5s("a", ""), "0cc175b9c0f1b6a831c399e269772661");
	CHECK_STR(md5s("abc", ""), "900150983cd24fb0d6963f7d28e17f72");
	CHECK_STR(
	        md5s("message ", "digest"), "f96b697d7cb7938d525a2f31aaf161d0");
	CHECK_STR(md5s("12345678901234567890123456789012345678901234567890",
	                  "123456789012345678901234567890"),
	        "57edf4a22be3c955ac49da2e2107b67a");
	/* 55, 56 and 64 bytes: the padding edges */
	CHECK_STR(
	        md5s("0123456789012345678901234567890123456789012345678901234",
	                ""),
	        "6e7a4fc92eb1c3f6e652425bcc8d44b5");
	CHECK_STR(
	        md5s("01234567890123456789012345678901234567890123456789012345",
	                ""),
	        "8af270b2847610e742b0791b53648c09");
}

/* a in pieces of step bytes (0: whole), times times */
static const char *
sha256s(const char *a, size_t step, int times)
{
	static char hex[65];
	uint8_t md[32];
	struct hash_sha256 c;
	size_t n = strlen(a);

	hash_sha256_init(&c);
	for (int t = 0; t < times; t++)
		for (size_t i = 0; i < n; i += step ? step : n)
			hash_sha256_update(
			        &c, a + i, step && n - i > step ? step : n - i);
	hash_sha256_final(&c, md);
	hash_hex(md, 32, hex);
	return hex;
}

/* FIPS 180-2 appendix B and the NIST example values */
static void
test_sha256(void)
{
	static char a1000[1001];

	CHECK_STR(sha256s("abc", 0, 1),
	        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015"
	        "ad");
	CHECK_STR(sha256s("", 0, 1),
	        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8"
	        "55");
	CHECK_STR(
	        sha256s("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopn"
	                "opq",
	                7, 1),
	        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06"
	        "c1");
	memset(a1000, 'a', 1000);
	CHECK_STR(sha256s(a1000, 333, 1000),
	        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112c"
	        "d0");
}

static void
test_sha1(void)
{
	CHECK_STR(sha1s("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
	CHECK_STR(sha1s(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	CHECK_STR(sha1s("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopno"
	                "pq"),
	        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

static void
test_digest_rfc2617(void)
{
	/* RFC 2617 section 3.5: Mufasa / "Circle Of Life" */
	char ha1[33], ha2[33], hex[33];
	uint8_t md[16];
	struct hash_part a1 = {"Mufasa:testrealm@host.com:Circle Of Life", 40};
	struct hash_part a2 = {"GET:/dir/index.html", 19};

	hash_md5(&a1, 1, md);
	hash_hex(md, 16, ha1);
	hash_md5(&a2, 1, md);
	hash_hex(md, 16, ha2);
	{
		struct hash_part r[3] = {{ha1, 32},
		        {":dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:"
		         "0a4f113b:"
		         "auth:",
		                59},
		        {ha2, 32}};
		hash_md5(r, 3, md);
	}
	hash_hex(md, 16, hex);
	CHECK_STR(hex, "6629fae49393a05397450978507c4ef1");
}

static void
test_base64(void)
{
	char out[64];
	uint8_t back[64];

	CHECK(hash_b64((const uint8_t *)"admin:11\n", 9, out) == 12);
	CHECK_STR(out, "YWRtaW46MTEK");
	CHECK(hash_b64((const uint8_t *)"ab", 2, out) == 4);
	CHECK_STR(out, "YWI=");
	CHECK(hash_unb64("YWI=", 4, back, sizeof back, 0) == 2);
	CHECK(back[0] == 'a' && back[1] == 'b');
	CHECK(hash_unb64("YWI", 3, back, sizeof back, 0) ==
	        2); /* pad optional */
	CHECK(hash_unb64("Y!I=", 4, back, sizeof back, 0) == -1);
	CHECK(hash_unb64("YWJjZA==", 8, back, 3, 0) == -1); /* over cap */
	CHECK(hash_unb64("YWJj", 4, back, 3, 0) == 3); /* exactly cap */
	CHECK(hash_unb64("", 0, back, sizeof back, 0) == 0);
	CHECK(hash_unb64("YW\0J", 4, back, sizeof back, 0) == -1); /* NUL */
	CHECK(hash_unb64("YWI=x", 5, back, sizeof back, 0) == -1);
	CHECK(hash_unb64("YW=I", 4, back, sizeof back, 0) == -1);
	/* the last 6 bits make no byte: dropped, or an error when WHOLE */
	CHECK(hash_unb64("YWJjZ", 5, back, sizeof back, 0) == 3);
	CHECK(hash_unb64("YWJjZ", 5, back, sizeof back, HASH_B64_WHOLE) == -1);
	CHECK(hash_unb64("YWJjZA=", 7, back, sizeof back, HASH_B64_WHOLE) == 4);
	/* PAD_ENDS: the first '=' ends the text, whatever follows */
	CHECK(hash_unb64("YWI=x!", 6, back, sizeof back, HASH_B64_PAD_ENDS) ==
	        2);
	CHECK(back[0] == 'a' && back[1] == 'b');
	CHECK(hash_unb64("Y!I=", 4, back, sizeof back, HASH_B64_PAD_ENDS) ==
	        -1);
	CHECK(hash_unb64("=YWI", 4, back, sizeof back, HASH_B64_PAD_ENDS) == 0);
	/* every byte value both ways */
	{
		uint8_t all[256], dec[256];
		char enc[345];
		for (int i = 0; i < 256; i++)
			all[i] = (uint8_t)i;
		CHECK(hash_b64(all, 256, enc) == 344);
		CHECK(hash_unb64(enc, 344, dec, sizeof dec, HASH_B64_WHOLE) ==
		        256);
		CHECK(memcmp(all, dec, 256) == 0);
	}
}

const struct unit_test unit_hash[] = {
        {"md5", test_md5},
        {"sha1", test_sha1},
        {"sha256", test_sha256},
        {"digest_rfc2617", test_digest_rfc2617},
        {"base64", test_base64},
        {0, 0},
};
