/* tlshello.h: a TLS ClientHello parser on raw socket bytes (records split
 * anywhere, the hello spread over several records) and the client
 * fingerprints computed from it: JA3 (salesforce/ja3: string and MD5) and
 * JA4 (FoxIO JA4, TLS over TCP: a_b_c with truncated SHA-256), GREASE
 * values excluded as both define. Stateless: call tlshello_parse() on all
 * bytes received so far until it stops returning TLSHELLO_MORE. No
 * allocation; the hashes come from the TLS backend (src/tls.h), so with
 * TLS=none ja3 and ja4 are "" while the strings are still filled in. */
#ifndef LURE_TLSHELLO_H
#define LURE_TLSHELLO_H

#include <stddef.h>
#include <stdint.h>

#define TLSHELLO_LIST_MAX 256 /* entries kept per list; more: truncated */
#define TLSHELLO_MSG_MAX 16384 /* largest ClientHello message accepted */

enum {
	TLSHELLO_DONE = 0, /* a complete ClientHello: h is filled in */
	TLSHELLO_MORE = 1, /* a valid prefix: call again with more bytes */
	TLSHELLO_NOT_TLS = -1, /* not a TLS handshake record: h->error */
	TLSHELLO_BAD = -2 /* a TLS record, but no valid ClientHello */
};

struct tlshello {
	uint16_t record_version; /* of the first record */
	uint16_t version; /* ClientHello.legacy_version (JA3's SSLVersion) */
	uint16_t ciphers[TLSHELLO_LIST_MAX];
	uint16_t exts[TLSHELLO_LIST_MAX];
	uint16_t groups[TLSHELLO_LIST_MAX];
	uint16_t sigalgs[TLSHELLO_LIST_MAX];
	uint16_t versions[TLSHELLO_LIST_MAX]; /* supported_versions */
	uint8_t formats[TLSHELLO_LIST_MAX]; /* ec_point_formats */
	size_t nciphers, nexts, ngroups, nsigalgs, nversions, nformats;
	int truncated; /* a list had more than TLSHELLO_LIST_MAX entries */
	int has_sni, has_sigalgs, has_versions;
	uint8_t sni[256]; /* first host_name, raw bytes (attacker data) */
	size_t sni_len;
	uint8_t alpn[256]; /* ALPN names, each u8-length-prefixed, raw */
	size_t alpn_len;
	size_t hello_len; /* bytes of the records that held the hello */
	const char *error; /* why NOT_TLS or BAD, a constant string */
	char ja3_str[4096]; /* "771,4865-4866,...": may be cut (truncated) */
	char ja3[33]; /* MD5 of ja3_str, lower-case hex; "" with TLS=none */
	char ja4[37]; /* "t13d1516h2_8daaf6152771_e5627efa2ab1" */
	char ja4_r[4096]; /* JA4_r: the sorted lists the hashes are over */
};

/* Parse the bytes received so far; on TLSHELLO_DONE the fingerprints are
 * computed. h is overwritten whatever the result. */
int
tlshello_parse(const uint8_t *p, size_t n, struct tlshello *h);

/* 1 for the GREASE values of RFC 8701 (0x0a0a, 0x1a1a ... 0xfafa). */
int
tlshello_grease(uint16_t v);

#endif
