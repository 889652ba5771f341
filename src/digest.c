/* digest.c: Digest authentication for emu/http.c and emu/rtsp.c (see
 * digest.h). The parameter parser is the lenient one both emulators had:
 * scanners send all sorts, and whatever looks like a parameter is logged. */
#include <stdio.h>
#include <string.h>

#include "digest.h"
#include "event.h"
#include "fmt.h"
#include "hash.h"
#include "httpparse.h"
#include "identity.h"
#include "lure.h"

static const char *const digest_keys[DIGEST__MAX] = {"username", "realm",
        "nonce", "uri", "response", "cnonce", "nc", "qop", "algorithm",
        "opaque"};
static const char *const digest_fields[DIGEST__MAX] = {"user.name",
        "lure.auth.realm", "lure.auth.nonce", "lure.auth.uri",
        "lure.auth.response", "lure.auth.cnonce", "lure.auth.nc",
        "lure.auth.qop", "lure.auth.algorithm", "lure.auth.opaque"};

static int
digest_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* s[0..n) equals the lower-case lit, ignoring case. */
static int
digest_caseeq(const uint8_t *s, size_t n, const char *lit)
{
	if (strlen(lit) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (digest_lower(s[i]) != lit[i])
			return 0;
	return 1;
}

int
digest_parse(const uint8_t *a, size_t n, struct digest *d)
{
	size_t i = 7;

	memset(d, 0, sizeof *d);
	if (n < 8 || !digest_caseeq(a, 6, "digest") || a[6] != ' ')
		return 0;
	while (i < n) {
		size_t ks, kl, vs, ve;
		while (i < n && (a[i] == ' ' || a[i] == ',' || a[i] == '\t'))
			i++;
		ks = i;
		while (i < n && a[i] != '=' && a[i] != ',' && a[i] != ' ')
			i++;
		kl = i - ks;
		while (i < n && a[i] == ' ')
			i++;
		if (i >= n || a[i] != '=') {
			while (i < n && a[i] != ',')
				i++;
			continue;
		}
		i++;
		while (i < n && a[i] == ' ')
			i++;
		if (i < n && a[i] == '"') {
			vs = ++i;
			while (i < n && a[i] != '"')
				i += a[i] == '\\' && i + 1 < n ? 2 : 1;
			ve = LURE_MIN(i, n);
			i++;
		} else {
			vs = i;
			while (i < n && a[i] != ',' && a[i] != ' ')
				i++;
			ve = i;
		}
		for (unsigned k = 0; k < DIGEST__MAX; k++)
			if (!d->v[k] &&
			        digest_caseeq(a + ks, kl, digest_keys[k])) {
				d->v[k] = a + vs;
				d->n[k] = ve - vs;
			}
	}
	return d->v[DIGEST_USERNAME] != NULL;
}

int
digest_check(const struct digest *d, const void *method, size_t ml,
        const void *realm, size_t rn, const void *pass, size_t pl)
{
	uint8_t md[16];
	char ha1[33], ha2[33], want[33];
	const int qop = d->v[DIGEST_QOP] != NULL;

	if (!d->v[DIGEST_RESPONSE] || d->n[DIGEST_RESPONSE] != 32 ||
	        !d->v[DIGEST_URI] || !d->v[DIGEST_NONCE])
		return 0;
	{
		struct hash_part a1[5] = {
		        {d->v[DIGEST_USERNAME], d->n[DIGEST_USERNAME]},
		        {":", 1}, {realm, rn}, {":", 1}, {pass, pl}};
		struct hash_part a2[3] = {{method, ml}, {":", 1},
		        {d->v[DIGEST_URI], d->n[DIGEST_URI]}};
		hash_md5(a1, 5, md);
		hash_hex(md, 16, ha1);
		hash_md5(a2, 3, md);
		hash_hex(md, 16, ha2);
	}
	{
		struct hash_part r[11] = {{ha1, 32}, {":", 1},
		        {d->v[DIGEST_NONCE], d->n[DIGEST_NONCE]}, {":", 1},
		        {d->v[DIGEST_NC], d->n[DIGEST_NC]}, {":", 1},
		        {d->v[DIGEST_CNONCE], d->n[DIGEST_CNONCE]}, {":", 1},
		        {d->v[DIGEST_QOP], d->n[DIGEST_QOP]}, {":", 1},
		        {ha2, 32}};
		if (qop) {
			hash_md5(r, 11, md);
		} else {
			r[4] = r[10];
			hash_md5(r, 5, md);
		}
		hash_hex(md, 16, want);
	}
	for (size_t i = 0; i < 32; i++)
		if (digest_lower(d->v[DIGEST_RESPONSE][i]) != want[i])
			return 0;
	return 1;
}

void
digest_event(struct event *e, const struct digest *d)
{
	for (unsigned k = 0; k < DIGEST__MAX; k++)
		if (d->v[k])
			event_bytes(e, digest_fields[k], d->v[k], d->n[k],
			        EVENT_CAP_DEFAULT);
}

void
digest_nonce_random(char out[33])
{
	uint8_t b[16];

	lure_random(b, sizeof b);
	hash_hex(b, sizeof b, out);
}

size_t
digest_nonce_stamped(char *out, size_t cap)
{
	static uint32_t counter;
	uint8_t key[16], md[16];
	char plain[32], b64[48];
	uint64_t t = (uint64_t)(lure_wall() / 1000);
	size_t n, b;
	struct hash_part parts[3] = {
	        {key, sizeof key}, {&counter, sizeof counter}, {&t, sizeof t}};

	counter++;
	identity_derive("http.nonce", key, sizeof key);
	hash_md5(parts, 3, md);
	n = (size_t)fmt_snprintf(plain, sizeof plain, "%x:%x", (unsigned)t,
	        (unsigned)md[0] << 24 | (unsigned)md[1] << 16 |
	                (unsigned)md[2] << 8 | md[3]);
	b = hash_b64((const uint8_t *)plain, n, b64);
	if (2 * b + 1 > cap)
		return 0;
	hash_hex((const uint8_t *)b64, b, out);
	return 2 * b;
}

int
digest_basic(const uint8_t *a, size_t an, uint8_t *buf, size_t cap,
        const uint8_t **user, size_t *ul, const uint8_t **pass, size_t *pl)
{
	size_t i = 5;
	long dn;
	const uint8_t *colon;

	if (an <= 6 || !httpparse_caseeq(a, 5, "basic") || a[5] != ' ')
		return 0;
	while (i < an && a[i] == ' ')
		i++;
	dn = hash_unb64((const char *)a + i, an - i, buf, cap, HASH_B64_WHOLE);
	colon = dn >= 0 ? memchr(buf, ':', (size_t)dn) : NULL;
	if (!colon)
		return 0;
	*user = buf;
	*ul = (size_t)(colon - buf);
	*pass = colon + 1;
	*pl = (size_t)dn - *ul - 1;
	return 1;
}
