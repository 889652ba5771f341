/* proxyproto.c: see proxyproto.h. Checked against the specification's
 * examples (test/unit/test_proxyproto.c) and what it requires of a
 * receiver: v1 is at most 107 bytes with CRLF, single spaces, ports
 * without leading zeros and addresses of the named family; v2 starts with
 * the 12-byte signature, version 2, command LOCAL or PROXY, and an address
 * block at least as long as its family needs. Not modelled: v2 TLVs
 * (skipped, CRC32c not checked), a v1 header split from its CRLF across
 * more than 107 bytes (rejected, as the spec asks). */
#include <arpa/inet.h>
#include <string.h>

#include "proxyproto.h"

static const uint8_t sig2[12] = "\r\n\r\n\0\r\nQUIT\n";

/* A port: 1-5 digits, no leading zero, at most 65535. */
static int
port_of(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (!n || n > 5 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*port = (uint16_t)v;
	return v > 65535 ? -1 : 0;
}

static int
fail(struct proxyproto *h, const char *why)
{
	h->error = why;
	return -1;
}

static int
parse_v1(const uint8_t *p, size_t n, struct proxyproto *h)
{
	char line[108], *f[6], *s;
	const uint8_t *cr = memchr(p, '\r', n < 107 ? n : 107);
	int nf = 0, af;

	if (!cr)
		return n < 107 && !memchr(p, '\n', n)
		               ? 0
		               : fail(h, "PROXY v1 line without CRLF in 107 "
		                         "bytes");
	if ((size_t)(cr - p) + 1 >= n)
		return 0;
	if (cr[1] != '\n')
		return fail(h, "PROXY v1 line without CRLF in 107 bytes");
	memcpy(line, p, (size_t)(cr - p));
	line[cr - p] = 0;
	for (s = line; nf < 6; nf++) {
		f[nf] = s;
		if (!(s = strchr(s, ' '))) {
			nf++;
			break;
		}
		*s++ = 0;
	}
	if (nf >= 2 && strcmp(f[1], "UNKNOWN") == 0)
		return (int)(cr - p) + 2; /* anything may follow UNKNOWN */
	if (s || nf != 6)
		return fail(h, "PROXY v1 line has not six fields");
	af = strcmp(f[1], "TCP4") == 0   ? AF_INET
	     : strcmp(f[1], "TCP6") == 0 ? AF_INET6
	                                 : 0;
	if (!af)
		return fail(h, "PROXY v1 protocol not TCP4, TCP6 or UNKNOWN");
	if (inet_pton(af, f[2], h->src) != 1 ||
	        inet_pton(af, f[3], h->dst) != 1)
		return fail(h, "PROXY v1 address not of its family");
	if (port_of(f[4], &h->sport) < 0 || port_of(f[5], &h->dport) < 0)
		return fail(h, "PROXY v1 port not a number 0-65535");
	h->family = af == AF_INET ? 4 : 6;
	return (int)(cr - p) + 2;
}

static int
parse_v2(const uint8_t *p, size_t n, struct proxyproto *h)
{
	size_t len, need;

	if (n < 16)
		return 0;
	if ((p[12] >> 4) != 2)
		return fail(h, "PROXY v2 version not 2");
	if ((p[12] & 15) > 1)
		return fail(h, "PROXY v2 command not LOCAL or PROXY");
	len = (size_t)p[14] << 8 | p[15];
	need = (p[13] >> 4) == 1 ? 12 : (p[13] >> 4) == 2 ? 36 : 0;
	if ((p[12] & 15) == 0 || (p[13] & 15) == 0 || (p[13] & 15) > 2)
		need = 0; /* LOCAL, or not TCP/UDP: the real addresses */
	if (len < need)
		return fail(h, "PROXY v2 address block too short");
	if (n < 16 + len)
		return 0;
	if (need) {
		size_t a = need == 12 ? 4 : 16;
		h->family = need == 12 ? 4 : 6;
		memcpy(h->src, p + 16, a);
		memcpy(h->dst, p + 16 + a, a);
		h->sport = (uint16_t)(p[16 + 2 * a] << 8 | p[17 + 2 * a]);
		h->dport = (uint16_t)(p[18 + 2 * a] << 8 | p[19 + 2 * a]);
	}
	return (int)(16 + len);
}

int
proxyproto_parse(const uint8_t *p, size_t n, struct proxyproto *h)
{
	memset(h, 0, sizeof *h);
	if (n && p[0] == 'P') {
		if (memcmp(p, "PROXY ", n < 6 ? n : 6))
			return fail(h, "not a PROXY protocol header");
		return n < 6 ? 0 : parse_v1(p, n, h);
	}
	if (memcmp(p, sig2, n < 12 ? n : 12))
		return fail(h, "not a PROXY protocol header");
	return parse_v2(p, n, h);
}
