/* test_proxyproto.c: the PROXY protocol header parser against the examples
 * of haproxy's doc/proxy-protocol.txt (v1 lines, the v2 signature and
 * address blocks), every prefix of a good header wanting more, and the
 * bad headers a receiver must refuse; and the catch-all's protocol guess
 * (src/sniff.h) on first bytes. */
#include <string.h>

#include "proxyproto.h"
#include "sniff.h"
#include "unit.h"

static struct proxyproto h;

static int
parse(const char *s, size_t n)
{
	return proxyproto_parse((const uint8_t *)s, n, &h);
}

#define P(s) parse(s, sizeof s - 1)

/* every strict prefix of a good header asks for more */
static void
prefixes(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		CHECK(parse(s, i) == 0);
	CHECK(parse(s, n) == (int)n);
}

static void
test_v1(void)
{
	static const char a[] = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443"
	                        "\r\nGET / HTTP/1.1\r\n";
	static const char worst[] =
	        "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";

	CHECK(P(a) == 45);
	CHECK(h.family == 4 && h.sport == 56324 && h.dport == 443);
	CHECK(!memcmp(h.src, "\xc0\x00\x02\x01", 4));
	CHECK(!memcmp(h.dst, "\xc6\x33\x64\x02", 4));
	CHECK(P(worst) == 104); /* 107 with UNKNOWN, the longest */
	CHECK(h.family == 6 && h.sport == 65535 && h.src[15] == 0xff);
	prefixes(worst, 104);
	CHECK(P("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n") ==
	        56);
	CHECK(P("PROXY UNKNOWN\r\n") == 15 && h.family == 0);
	CHECK(P("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 "
	        "65535\r\n") > 0);
	CHECK(h.family == 0);
	CHECK(P("PROXY TCP6 2001:db8::1 ::1 1 0\r\n") > 0 && h.dport == 0);
}

static void
test_v1_bad(void)
{
	static const char *const bad[] = {
	        "GET / HTTP/1.0\r\n",
	        "PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n",
	        "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443 x\r\n",
	        "PROXY TCP4 192.0.2.1  198.51.100.2 56324 443\r\n",
	        "PROXY TCP4 2001:db8::1 198.51.100.2 56324 443\r\n",
	        "PROXY TCP6 192.0.2.1 198.51.100.2 56324 443\r\n",
	        "PROXY TCP4 192.0.2.1 198.51.100.2 056324 443\r\n",
	        "PROXY TCP4 192.0.2.1 198.51.100.2 65536 443\r\n",
	        "PROXY TCP4 192.0.2.1 198.51.100.2 -1 443\r\n",
	        "PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n",
	        "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n",
	        "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\rX",
	        "proxy TCP4 192.0.2.1 198.51.100.2 1 2\r\n",
	};
	char long_line[200];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		CHECK(parse(bad[i], strlen(bad[i])) == -1);
		CHECK(h.error != NULL);
	}
	memset(long_line, 'a', sizeof long_line);
	memcpy(long_line, "PROXY UNKNOWN ", 14);
	CHECK(parse(long_line, sizeof long_line) == -1); /* > 107, no CRLF */
	CHECK(parse(long_line, 100) == 0);
}

static const char sig[] = "\r\n\r\n\0\r\nQUIT\n";

static void
test_v2(void)
{
	char b[64];

	memcpy(b, sig, 12);
	/* PROXY, TCP over IPv4, 12 address bytes and a 3-byte TLV */
	memcpy(b + 12, "\x21\x11\x00\x0f", 4);
	memcpy(b + 16, "\xc0\x00\x02\x01\xc6\x33\x64\x02\xdc\x04\x01\xbb", 12);
	memcpy(b + 28, "\x04\x00\x00", 3); /* PP2_TYPE_NOOP */
	prefixes(b, 31);
	CHECK(h.family == 4 && h.sport == 56324 && h.dport == 443);
	CHECK(!memcmp(h.src, "\xc0\x00\x02\x01", 4));
	/* TCP over IPv6 */
	memcpy(b + 12, "\x21\x21\x00\x24", 4);
	memset(b + 16, 0, 36);
	b[31] = 1, b[47] = 2, b[48] = 0x30, b[49] = 0x39;
	CHECK(parse(b, 52) == 52 && h.family == 6 && h.sport == 12345);
	CHECK(h.src[15] == 1 && h.dst[15] == 2);
	/* LOCAL (health checks): the connection's own addresses */
	memcpy(b + 12, "\x20\x00\x00\x00", 4);
	CHECK(parse(b, 16) == 16 && h.family == 0);
	/* AF_UNIX (216 address bytes): valid, addresses kept */
	memcpy(b + 12, "\x21\x31\x00\x00", 4);
	CHECK(parse(b, 16) == 16 && h.family == 0);
	/* UDP over IPv4 is an address too */
	memcpy(b + 12, "\x21\x12\x00\x0c", 4);
	CHECK(parse(b, 28) == 28 && h.family == 4);
}

static void
test_v2_bad(void)
{
	static const char *const bad[] = {
	        "\x11\x11\x00\x0c", /* version 1 in the binary form */
	        "\x22\x11\x00\x0c", /* command 2 */
	        "\x21\x11\x00\x0b", /* IPv4 needs 12 bytes */
	        "\x21\x21\x00\x0c", /* IPv6 needs 36 */
	};
	char b[64] = {0};

	memcpy(b, sig, 12);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		memcpy(b + 12, bad[i], 4);
		CHECK(parse(b, 40) == -1 && h.error != NULL);
	}
	memcpy(b, sig, 12);
	b[11] = 'X'; /* signature */
	CHECK(parse(b, 16) == -1);
	CHECK(parse("\r\n\r\n\0", 5) == 0); /* a prefix of it */
}

static void
test_sniff(void)
{
#define K(s) sniff_kind((const uint8_t *)s, sizeof s - 1)
	CHECK(K("GET / HTTP/1.1\r\n") == SNIFF_HTTP);
	CHECK(K("OPTIONS * HTTP/1.1") == SNIFF_HTTP);
	CHECK(K("PRI * HTTP/2.0\r\n") == SNIFF_HTTP);
	CHECK(K("GE") == SNIFF_MORE);
	CHECK(K("P") == SNIFF_MORE);
	CHECK(K("SSH-2.0-OpenSSH_9.2\r\n") == SNIFF_SSH);
	CHECK(K("SS") == SNIFF_MORE);
	CHECK(K("\x16\x03\x01\x02\x00") == SNIFF_TLS);
	CHECK(K("\x16") == SNIFF_MORE);
	CHECK(K("HELO x\r\n") == SNIFF_OTHER);
	CHECK(K("\x00\x01") == SNIFF_OTHER);
	CHECK(K("get / HTTP/1.1") == SNIFF_OTHER);
#undef K
}

const struct unit_test unit_proxyproto[] = {
        {"v1", test_v1},
        {"v1_bad", test_v1_bad},
        {"v2", test_v2},
        {"v2_bad", test_v2_bad},
        {"sniff", test_sniff},
        {NULL, NULL},
};
