/* test_tlshello.c: ClientHello parsing and fingerprints against published
 * values: the JA4 specification's worked example (FoxIO JA4.md) and a
 * Chrome 143 hello whose JA3 string, JA3 MD5 and JA4 were published
 * together (browserleaks-style record), both rebuilt here byte by byte
 * with GREASE values inserted where Chrome puts them; records split and
 * bytes fed one at a time; malformed input. */
#include <stdio.h>
#include <string.h>

#include "tlshello.h"
#include "unit.h"

struct hello {
	const uint16_t *ciphers, *exts, *sigalgs, *groups, *versions;
	size_t nc, ne, ns, ng, nv;
	const char *alpn0; /* first ALPN name (a second, http/1.1, follows) */
	size_t alpn0_len;
	const char *sni;
};

static size_t
p16(uint8_t *b, size_t o, unsigned v)
{
	b[o] = (uint8_t)(v >> 8);
	b[o + 1] = (uint8_t)v;
	return o + 2;
}

/* Extension body for type t, as a real client would send it. */
static size_t
ext_data(const struct hello *h, unsigned t, uint8_t *b)
{
	size_t o = 0, i;

	switch (t) {
	case 0:
		o = p16(b, 0, (unsigned)strlen(h->sni) + 3);
		b[o++] = 0;
		o = p16(b, o, (unsigned)strlen(h->sni));
		memcpy(b + o, h->sni, strlen(h->sni));
		return o + strlen(h->sni);
	case 10:
		o = p16(b, 0, (unsigned)h->ng * 2);
		for (i = 0; i < h->ng; i++)
			o = p16(b, o, h->groups[i]);
		return o;
	case 11: b[0] = 1, b[1] = 0; return 2;
	case 13:
		o = p16(b, 0, (unsigned)h->ns * 2);
		for (i = 0; i < h->ns; i++)
			o = p16(b, o, h->sigalgs[i]);
		return o;
	case 16:
		o = p16(b, 0, (unsigned)(h->alpn0_len + 1 + 9));
		b[o++] = (uint8_t)h->alpn0_len;
		memcpy(b + o, h->alpn0, h->alpn0_len);
		o += h->alpn0_len;
		b[o++] = 8;
		memcpy(b + o, "http/1.1", 8);
		return o + 8;
	case 43:
		b[o++] = (uint8_t)(h->nv * 2);
		for (i = 0; i < h->nv; i++)
			o = p16(b, o, h->versions[i]);
		return o;
	default: return 0;
	}
}

/* The whole TLS record stream; split > 0 cuts the handshake message into
 * two records at that offset. */
static size_t
build(const struct hello *h, uint8_t *out, size_t split)
{
	static uint8_t msg[8192], ext[1024];
	size_t o = 4, el = 0, i, total;

	o = p16(msg, o, 0x0303);
	memset(msg + o, 0x42, 32);
	o += 32;
	msg[o++] = 32;
	memset(msg + o, 0x17, 32);
	o += 32;
	o = p16(msg, o, (unsigned)h->nc * 2);
	for (i = 0; i < h->nc; i++)
		o = p16(msg, o, h->ciphers[i]);
	msg[o++] = 1;
	msg[o++] = 0;
	for (i = 0; i < h->ne; i++) {
		size_t n = ext_data(h, h->exts[i], ext + 4);
		p16(ext, 0, h->exts[i]);
		p16(ext, 2, (unsigned)n);
		memcpy(msg + o + 2 + el, ext, n + 4);
		el += n + 4;
	}
	o = p16(msg, o, (unsigned)el) + el;
	msg[0] = 1;
	msg[1] = 0;
	p16(msg, 2, (unsigned)(o - 4));
	if (!split || split >= o)
		split = o;
	out[0] = 0x16;
	p16(out, 1, 0x0301);
	p16(out, 3, (unsigned)split);
	memcpy(out + 5, msg, split);
	total = 5 + split;
	if (split < o) {
		out[total] = 0x16;
		p16(out, total + 1, 0x0303);
		p16(out, total + 3, (unsigned)(o - split));
		memcpy(out + total + 5, msg + split, o - split);
		total += 5 + o - split;
	}
	return total;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const uint16_t sig8[] = {
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};

/* FoxIO JA4.md "Example": ciphers and extensions in the order given for
 * JA4_ro; the spec's JA4 is t13d1516h2_8daaf6152771_e5627efa2ab1. */
static const uint16_t spec_ciphers[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
        0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f,
        0x0035};
static const uint16_t spec_exts[] = {0x001b, 0x0000, 0x0033, 0x0010, 0x4469,
        0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b,
        0x000a, 0x0015};
static const uint16_t spec_groups[] = {0x001d, 0x0017, 0x0018};
static const uint16_t v13[] = {0x0304, 0x0303};

static void
test_ja4_spec_example(void)
{
	static uint8_t b[8192];
	static struct tlshello h;
	struct hello in = {spec_ciphers, spec_exts, sig8, spec_groups, v13,
	        N(spec_ciphers), N(spec_exts), N(sig8), N(spec_groups), N(v13),
	        "h2", 2, "example.org"};
	size_t n = build(&in, b, 0);

	CHECK(tlshello_parse(b, n, &h) == TLSHELLO_DONE);
	CHECK_STR(h.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	CHECK_STR(h.ja4_r,
	        "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,"
	        "c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,"
	        "0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,"
	        "0805,0501,0806,0601");
	CHECK(h.hello_len == n);
	CHECK(h.sni_len == 11 && memcmp(h.sni, "example.org", 11) == 0);
}

/* Chrome 143 (Android), published with its JA3 and JA4:
 * ja3_text 771,4865-...-53,45-51-16-65037-23-17613-0-11-10-43-65281-35-18-
 * 5-13-27,4588-29-23-24,0; ja3 98487aa16281980e7d1120d399efb6a4;
 * ja4 t13d1516h2_8daaf6152771_d8a2da3f94cd. GREASE added as Chrome sends
 * it (first cipher, first and last extension, first group, first version),
 * which both fingerprints must ignore. */
static const uint16_t chrome_ciphers[] = {0x8a8a, 0x1301, 0x1302, 0x1303,
        0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
        0x009d, 0x002f, 0x0035};
static const uint16_t chrome_exts[] = {0x3a3a, 45, 51, 16, 65037, 23, 17613, 0,
        11, 10, 43, 65281, 35, 18, 5, 13, 27, 0xdada};
static const uint16_t chrome_groups[] = {0x4a4a, 4588, 29, 23, 24};
static const uint16_t chrome_versions[] = {0x6a6a, 0x0304, 0x0303};

static void
chrome(uint8_t *b, size_t *n, size_t split)
{
	struct hello in = {chrome_ciphers, chrome_exts, sig8, chrome_groups,
	        chrome_versions, N(chrome_ciphers), N(chrome_exts), N(sig8),
	        N(chrome_groups), N(chrome_versions), "h2", 2,
	        "tls.browserleaks.com"};
	*n = build(&in, b, split);
}

static void
test_chrome_143(void)
{
	static uint8_t b[8192];
	static struct tlshello h;
	size_t n;

	chrome(b, &n, 0);
	CHECK(tlshello_parse(b, n, &h) == TLSHELLO_DONE);
	CHECK_STR(h.ja3_str,
	        "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-"
	        "49172-156-157-47-53,45-51-16-65037-23-17613-0-11-10-43-65281-"
	        "35-18-5-13-27,4588-29-23-24,0");
	CHECK_STR(h.ja3, "98487aa16281980e7d1120d399efb6a4");
	CHECK_STR(h.ja4, "t13d1516h2_8daaf6152771_d8a2da3f94cd");
}

/* The same hello split over two records, and fed one byte at a time:
 * MORE until the last byte, then the same fingerprints. */
static void
test_split_and_bytewise(void)
{
	static uint8_t b[8192];
	static struct tlshello h;
	size_t n;

	chrome(b, &n, 100);
	for (size_t i = 0; i < n; i++)
		if (tlshello_parse(b, i, &h) != TLSHELLO_MORE) {
			char msg[64];
			snprintf(msg, sizeof msg, "not MORE at %zu of %zu", i,
			        n);
			unit_fail(__FILE__, __LINE__, msg);
			return;
		}
	CHECK(tlshello_parse(b, n, &h) == TLSHELLO_DONE);
	CHECK(h.hello_len == n);
	CHECK_STR(h.ja3, "98487aa16281980e7d1120d399efb6a4");
	CHECK_STR(h.ja4, "t13d1516h2_8daaf6152771_d8a2da3f94cd");
	/* application bytes after the hello do not matter */
	memcpy(b + n, "\x14\x03\x03\x00\x01\x01", 6);
	CHECK(tlshello_parse(b, n + 6, &h) == TLSHELLO_DONE);
	CHECK(h.hello_len == n);
}

static void
test_alpn_and_versions(void)
{
	static uint8_t b[8192];
	static struct tlshello h;
	static const uint16_t c[] = {0x002f}, e[] = {16};
	struct hello in = {
	        c, e, NULL, NULL, NULL, 1, 1, 0, 0, 0, "\xab\xcd", 2, NULL};
	size_t n = build(&in, b, 0);

	/* non-alphanumeric ALPN: outer hex digits; no SNI, no sigalgs */
	CHECK(tlshello_parse(b, n, &h) == TLSHELLO_DONE);
	CHECK(strncmp(h.ja4, "t12i0101ad_", 11) == 0);
	CHECK_STR(h.ja3_str, "771,47,16,,");
	/* no extension left after SNI/ALPN removal: JA4_c is zeros */
	CHECK_STR(h.ja4 + 24, "000000000000");
	in.alpn0 = "x";
	in.alpn0_len = 1;
	n = build(&in, b, 0);
	CHECK(tlshello_parse(b, n, &h) == TLSHELLO_DONE);
	CHECK(strncmp(h.ja4, "t12i0101xx_", 11) == 0);
	CHECK(tlshello_grease(0x0a0a) && tlshello_grease(0xfafa));
	CHECK(!tlshello_grease(0x0a1a) && !tlshello_grease(0x1301));
}

static void
test_not_tls(void)
{
	static struct tlshello h;
	static const uint8_t v2[] = {0x80, 0x2e, 0x01, 0x00, 0x02};
	static const uint8_t alert[] = {0x15, 0x03, 0x01, 0x00, 0x02, 2, 40};
	static const uint8_t ccs_first[] = {
	        0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00};

	CHECK(tlshello_parse((const uint8_t *)"GET / HTTP/1.1\r\n", 16, &h) ==
	        TLSHELLO_NOT_TLS);
	CHECK(tlshello_parse(v2, sizeof v2, &h) == TLSHELLO_NOT_TLS);
	CHECK_STR(h.error, "SSLv2 ClientHello");
	CHECK(tlshello_parse(alert, sizeof alert, &h) == TLSHELLO_NOT_TLS);
	/* a ServerHello where a ClientHello should be */
	CHECK(tlshello_parse(ccs_first, sizeof ccs_first, &h) == TLSHELLO_BAD);
	CHECK(tlshello_parse((const uint8_t *)"\x16\x03", 2, &h) ==
	        TLSHELLO_MORE);
	CHECK(tlshello_parse(NULL, 0, &h) == TLSHELLO_MORE);
}

/* Every shortened extension block is BAD, never a read past the end. */
static void
test_truncated_lengths(void)
{
	static uint8_t b[8192], c[8192];
	static struct tlshello h;
	size_t n;
	int r, whole = 0;

	chrome(b, &n, 0);
	for (size_t cut = 1; cut < 200; cut++) {
		size_t hl = (size_t)b[6] << 16 | (size_t)b[7] << 8 | b[8];
		memcpy(c, b, n);
		/* shrink the message and the record, keep the inner lengths */
		hl -= cut;
		c[6] = (uint8_t)(hl >> 16);
		c[7] = (uint8_t)(hl >> 8);
		c[8] = (uint8_t)hl;
		c[3] = (uint8_t)((hl + 4) >> 8);
		c[4] = (uint8_t)(hl + 4);
		r = tlshello_parse(c, hl + 9, &h);
		/* cut right after compression_methods: a valid hello without
		 * extensions (SSL 3.0 style) */
		if (r == TLSHELLO_DONE && h.nexts == 0 && h.nciphers == 16) {
			whole++;
			continue;
		}
		CHECK(r == TLSHELLO_BAD);
		CHECK(h.error != NULL);
	}
	CHECK(whole == 1);
}

const struct unit_test unit_tlshello[] = {
        {"ja4_spec_example", test_ja4_spec_example},
        {"chrome_143", test_chrome_143},
        {"split_and_bytewise", test_split_and_bytewise},
        {"alpn_and_versions", test_alpn_and_versions},
        {"not_tls", test_not_tls},
        {"truncated_lengths", test_truncated_lengths},
        {0, 0},
};
