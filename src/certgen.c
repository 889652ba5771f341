/* certgen.c: see certgen.h. The X.509 v3 certificate is written here as
 * DER (the shape of `openssl req -x509`: SKI, AKI, CA:TRUE), so a backend
 * only provides RSA key generation, public-key DER and a SHA-256 signature
 * (src/tls.h). Persona keys (tls.conf), all optional but the subject:
 *   tls.cert.subject     [required] "C=CN, ST=ZJ, O=Acme, CN=${serial}" (${} expanded;
 *                        C ST L O OU CN emailAddress; no commas in values)
 *   tls.cert.issuer      as subject; default: the subject (self-signed)
 *   tls.cert.not_before  "YYYYMMDD" or "YYYYMMDDhhmmss", ${} expanded; a
 *                        date alone gets a per-instance time of day
 *   tls.cert.days        validity in days (default 3650)
 *   tls.cert.renew       1: made again, with a new key, each time it
 *                        expires (Windows's Remote Desktop certificate):
 *                        not_before moves on by whole periods of days to
 *                        the last one begun at start-up (default 0)
 *   tls.cert.key         "rsa:BITS" (default rsa:2048)
 *   tls.suites           the server's cipher suites, IANA numbers in hex
 *                        ("cca8 c02f c030"), in its order of preference,
 *                        which it enforces; default: the backend's list */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certgen.h"
#include "emu.h"
#include "fmt.h"
#include "identity.h"
#include "lure.h"
#include "persona.h"
#include "tls.h"

#define DER_MAX 4096

struct der {
	uint8_t b[DER_MAX];
	size_t n;
	int err;
};

static void
put(struct der *d, const void *p, size_t n)
{
	if (d->err || n > sizeof d->b - d->n) {
		d->err = 1;
		return;
	}
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

/* tag, DER length, content */
static void
tlv(struct der *d, uint8_t tag, const void *p, size_t n)
{
	uint8_t h[4] = {tag};
	size_t hl;

	if (n < 0x80) {
		h[1] = (uint8_t)n;
		hl = 2;
	} else if (n < 0x100) {
		h[1] = 0x81;
		h[2] = (uint8_t)n;
		hl = 3;
	} else {
		h[1] = 0x82;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	}
	if (n > 0xffff)
		d->err = 1;
	put(d, h, hl);
	put(d, p, n);
}

/* Wrap the whole of inner as one TLV appended to d. */
static void
wrap(struct der *d, uint8_t tag, const struct der *inner)
{
	d->err |= inner->err;
	tlv(d, tag, inner->b, inner->n);
}

static const struct {
	const char *key;
	uint8_t oid[9];
	size_t oidlen;
	uint8_t strtag; /* PrintableString 0x13, UTF8String 0x0c, IA5 0x16 */
} attrs[] = {
        {"C", {0x55, 0x04, 0x06}, 3, 0x13},
        {"ST", {0x55, 0x04, 0x08}, 3, 0x0c},
        {"L", {0x55, 0x04, 0x07}, 3, 0x0c},
        {"O", {0x55, 0x04, 0x0a}, 3, 0x0c},
        {"OU", {0x55, 0x04, 0x0b}, 3, 0x0c},
        {"CN", {0x55, 0x04, 0x03}, 3, 0x0c},
        {"emailAddress", {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01},
                9, 0x16},
};

/* "K=V, K=V" -> Name (a SEQUENCE of one-attribute SETs). */
static int
name(struct der *out, const char *s, char *err, size_t errlen)
{
	struct der rdns = {.n = 0}, set, atv, oid;

	while (*s) {
		const char *k, *v, *end;
		size_t kl, vl, i;

		while (*s == ' ' || *s == ',')
			s++;
		if (!*s)
			break;
		k = s;
		v = strchr(k, '=');
		if (!v) {
			fmt_snprintf(err, errlen, "no '=' in \"%s\"", k);
			return -1;
		}
		kl = (size_t)(v - k);
		while (kl && k[kl - 1] == ' ')
			kl--;
		for (v++; *v == ' '; v++)
			;
		end = strchr(v, ',');
		if (!end)
			end = v + strlen(v);
		vl = (size_t)(end - v);
		while (vl && v[vl - 1] == ' ')
			vl--;
		for (i = 0; i < LURE_ARRAY_LEN(attrs); i++)
			if (strlen(attrs[i].key) == kl &&
			        memcmp(attrs[i].key, k, kl) == 0)
				break;
		if (i == LURE_ARRAY_LEN(attrs) || vl == 0) {
			fmt_snprintf(err, errlen,
			        "unknown or empty attribute \"%.*s\" (C ST L O "
			        "OU CN emailAddress)",
			        (int)kl, k);
			return -1;
		}
		oid.n = oid.err = atv.n = atv.err = set.n = set.err = 0;
		tlv(&oid, 0x06, attrs[i].oid, attrs[i].oidlen);
		tlv(&oid, attrs[i].strtag, v, vl);
		wrap(&atv, 0x30, &oid);
		wrap(&set, 0x31, &atv);
		put(&rdns, set.b, set.n);
		rdns.err |= set.err;
		s = end;
	}
	wrap(out, 0x30, &rdns);
	return 0;
}

/* UTCTime before 2050, GeneralizedTime from then on (RFC 5280). */
static void
timeval(struct der *d, long y, unsigned m, unsigned day, const char *hms)
{
	char t[20];

	if (y >= 1950 && y < 2050) {
		fmt_snprintf(t, sizeof t, "%02ld%02u%02u%.6sZ", y % 100, m, day,
		        hms);
		tlv(d, 0x17, t, 13);
	} else {
		fmt_snprintf(t, sizeof t, "%04ld%02u%02u%.6sZ", y, m, day, hms);
		tlv(d, 0x18, t, 15);
	}
}

/* One DER header at *off: tag and content length (checked against n). */
static int
der_hdr(const uint8_t *p, size_t n, size_t *off, uint8_t *tag, size_t *len)
{
	size_t l, k;

	if (*off + 2 > n)
		return -1;
	*tag = p[*off];
	l = p[*off + 1];
	*off += 2;
	if (l & 0x80) {
		k = l & 0x7f;
		if (k == 0 || k > 2 || *off + k > n)
			return -1;
		for (l = 0; k--;)
			l = l << 8 | p[(*off)++];
	}
	if (l > n - *off)
		return -1;
	*len = l;
	return 0;
}

/* The BIT STRING content (after the unused-bits byte) of an SPKI. */
static int
spki_bits(const uint8_t *p, size_t n, const uint8_t **bits, size_t *len)
{
	size_t off = 0, l;
	uint8_t tag;

	if (der_hdr(p, n, &off, &tag, &l) < 0 || tag != 0x30 ||
	        der_hdr(p, n, &off, &tag, &l) < 0 || tag != 0x30)
		return -1;
	off += l;
	if (der_hdr(p, n, &off, &tag, &l) < 0 || tag != 0x03 || l < 1)
		return -1;
	*bits = p + off + 1;
	*len = l - 1;
	return 0;
}

/* Scratch for one certificate: taken for the call only (start-up). */
struct work {
	struct der tbs, cert, tmp, ext, exts, val;
	uint8_t spki[1024], sig[1024];
};

static long
build(struct work *w, const uint8_t *key, size_t keylen, const char *subject,
        const char *issuer, const uint8_t serial[8], const char *not_before,
        unsigned days, uint8_t *out, size_t cap, char *err, size_t errlen)
{
	static const uint8_t sha256rsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86,
	        0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
	static const uint8_t v3[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
	static const uint8_t ca_true[] = {0x30, 0x03, 0x01, 0x01, 0xff};
	const uint8_t *bits;
	uint8_t kid[32], ser[9];
	long y, z, lm, ld;
	unsigned m, d, hh, mm, ss;
	size_t serlen = 0, bitslen;
	ssize_t sl, gl;
	char hms[7];

	if (strlen(not_before) < 8 || (y = lure_digits(not_before, 4)) < 0 ||
	        (m = (unsigned)lure_digits(not_before + 4, 2)) < 1 || m > 12 ||
	        (d = (unsigned)lure_digits(not_before + 6, 2)) < 1 || d > 31) {
		fmt_snprintf(err, errlen,
		        "tls.cert.not_before \"%s\": want "
		        "YYYYMMDD[hhmmss]",
		        not_before);
		return -1;
	}
	hh = mm = ss = 0;
	if (strlen(not_before) >= 14 &&
	        ((hh = (unsigned)lure_digits(not_before + 8, 2)) > 23 ||
	                (mm = (unsigned)lure_digits(not_before + 10, 2)) > 59 ||
	                (ss = (unsigned)lure_digits(not_before + 12, 2)) >
	                        59)) {
		fmt_snprintf(err, errlen,
		        "tls.cert.not_before \"%s\": bad time", not_before);
		return -1;
	}
	fmt_snprintf(hms, sizeof hms, "%02u%02u%02u", hh, mm, ss);
	if ((sl = tls_rsa_pubkey(key, keylen, w->spki, sizeof w->spki)) < 0 ||
	        spki_bits(w->spki, (size_t)sl, &bits, &bitslen) < 0 ||
	        tls_sha256(bits, bitslen, kid) < 0) {
		fmt_snprintf(err, errlen, "the key is not a usable RSA key");
		return -1;
	}
	/* positive INTEGER: a leading 0 when the top bit is set */
	if (serial[0] & 0x80)
		ser[serlen++] = 0;
	memcpy(ser + serlen, serial, 8);
	serlen += 8;

	put(&w->tbs, v3, sizeof v3);
	tlv(&w->tbs, 0x02, ser, serlen);
	put(&w->tbs, sha256rsa, sizeof sha256rsa);
	if (name(&w->tbs, issuer, err, errlen) < 0)
		return -1;
	memset(&w->tmp, 0, sizeof w->tmp);
	timeval(&w->tmp, y, m, d, hms);
	z = fmt_days_from_civil(y, m, d) + (long)days;
	fmt_civil_from_days(z, &y, &lm, &ld);
	timeval(&w->tmp, y, (unsigned)lm, (unsigned)ld, hms);
	wrap(&w->tbs, 0x30, &w->tmp);
	if (name(&w->tbs, subject, err, errlen) < 0)
		return -1;
	put(&w->tbs, w->spki, (size_t)sl);

	/* extensions: SKI, AKI (keyid), basicConstraints CA:TRUE; the key id
	 * is SHA-256 of the key cut to 160 bits (RFC 7093 method 1) */
	memset(&w->exts, 0, sizeof w->exts);
	memset(&w->ext, 0, sizeof w->ext);
	memset(&w->val, 0, sizeof w->val);
	tlv(&w->val, 0x04, kid, 20);
	tlv(&w->ext, 0x06, "\x55\x1d\x0e", 3);
	wrap(&w->ext, 0x04, &w->val);
	wrap(&w->exts, 0x30, &w->ext);
	memset(&w->ext, 0, sizeof w->ext);
	memset(&w->val, 0, sizeof w->val);
	memset(&w->tmp, 0, sizeof w->tmp);
	tlv(&w->tmp, 0x80, kid, 20);
	wrap(&w->val, 0x30, &w->tmp);
	tlv(&w->ext, 0x06, "\x55\x1d\x23", 3);
	wrap(&w->ext, 0x04, &w->val);
	wrap(&w->exts, 0x30, &w->ext);
	memset(&w->ext, 0, sizeof w->ext);
	tlv(&w->ext, 0x06, "\x55\x1d\x13", 3);
	tlv(&w->ext, 0x04, ca_true, sizeof ca_true);
	wrap(&w->exts, 0x30, &w->ext);
	memset(&w->tmp, 0, sizeof w->tmp);
	wrap(&w->tmp, 0x30, &w->exts);
	wrap(&w->tbs, 0xa3, &w->tmp);

	memset(&w->tmp, 0, sizeof w->tmp);
	wrap(&w->tmp, 0x30, &w->tbs);
	if (w->tmp.err) {
		fmt_snprintf(err, errlen, "certificate larger than %d bytes",
		        DER_MAX);
		return -1;
	}
	gl = tls_rsa_sign_sha256(
	        key, keylen, w->tmp.b, w->tmp.n, w->sig + 1, sizeof w->sig - 1);
	if (gl < 0) {
		fmt_snprintf(err, errlen, "signing the certificate failed");
		return -1;
	}
	w->sig[0] = 0; /* no unused bits */
	put(&w->cert, w->tmp.b, w->tmp.n);
	put(&w->cert, sha256rsa, sizeof sha256rsa);
	tlv(&w->cert, 0x03, w->sig, (size_t)gl + 1);
	memset(&w->tmp, 0, sizeof w->tmp);
	wrap(&w->tmp, 0x30, &w->cert);
	if (w->tmp.err || w->tmp.n > cap) {
		fmt_snprintf(err, errlen, "certificate larger than the buffer");
		return -1;
	}
	memcpy(out, w->tmp.b, w->tmp.n);
	return (long)w->tmp.n;
}

long
certgen_make(const uint8_t *key, size_t keylen, const char *subject,
        const char *issuer, const uint8_t serial[8], const char *not_before,
        unsigned days, uint8_t *out, size_t cap, char *err, size_t errlen)
{
	struct work *w = calloc(1, sizeof *w);
	long n;

	if (!w) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = build(w, key, keylen, subject, issuer, serial, not_before, days,
	        out, cap, err, errlen);
	free(w);
	return n;
}

/* persona value of key, ${} expanded into out; def when absent. */
static const char *
pvalue(const char *key, const char *def, char *out, size_t cap)
{
	size_t len;
	const char *v = persona_get(key, &len);

	if (!v)
		return def;
	if (identity_expand(v, len, out, cap) >= cap)
		out[cap - 1] = '\0';
	return out;
}

#define KEY_MAX 2400 /* PKCS#1 DER of an RSA-4096 key: 2350 bytes */

/* With tls.cert.renew, the validity periods of `days` begun between the
 * date nb ("YYYYMMDD...") and now; 0 without it, or before nb. */
static long
renewals(const char *nb, unsigned days)
{
	long y = lure_digits(nb, 4), m = lure_digits(nb + 4, 2),
	     d = lure_digits(nb + 6, 2), since;

	if (!persona_int("tls.cert.renew", 0) || days == 0 || y < 0 || m < 1 ||
	        d < 1)
		return 0;
	since = (long)(lure_wall() / 86400000) - fmt_days_from_civil(y, m, d);
	return since > 0 ? since / (long)days : 0;
}

/* Key and certificate into key[KEY_MAX] and cert[DER_MAX], stored. */
static int
generate_into(uint8_t *key, uint8_t *cert, char *err, size_t errlen)
{
	static char subject[512], issuer[512], nb[32], e[200];
	const char *subj, *iss, *nbv, *kt;
	unsigned bits = 2048, days;
	char *end;
	uint8_t serial[8], t[3];
	ssize_t kl;
	long cl, k;
	char kt_buf[24];

	subj = pvalue("tls.cert.subject", NULL, subject, sizeof subject);
	if (!subj) {
		fmt_snprintf(err, errlen,
		        "persona %s: a tls port needs tls.cert.subject",
		        persona_name);
		return -1;
	}
	iss = pvalue("tls.cert.issuer", subj, issuer, sizeof issuer);
	nbv = pvalue("tls.cert.not_before", "20190909", nb, sizeof nb);
	days = (unsigned)persona_int("tls.cert.days", 3650);
	kt = persona_get("tls.cert.key", NULL);
	if (kt && (strncmp(kt, "rsa:", 4) != 0 ||
	                  (bits = (unsigned)(unsigned long)fmt_strtol(
	                           kt + 4, &end, 10)) < 1024 ||
	                  bits > 4096 || *end)) {
		fmt_snprintf(err, errlen,
		        "persona %s: tls.cert.key \"%s\": want rsa:BITS "
		        "(1024-4096)",
		        persona_name, kt);
		return -1;
	}
	if (strlen(nbv) == 8) { /* a date: the time of day per instance */
		identity_derive("tls.cert.time", t, sizeof t);
		fmt_snprintf(nb + 8, sizeof nb - 8, "%02u%02u%02u", t[0] % 24u,
		        t[1] % 60u, t[2] % 60u);
		if (nbv != nb)
			memcpy(nb, nbv, 8);
		nbv = nb;
	}
	if ((k = renewals(nbv, days)) > 0) { /* the period begun last */
		long y, m, d;

		fmt_civil_from_days(fmt_days_from_civil(lure_digits(nbv, 4),
		                            lure_digits(nbv + 4, 2),
		                            lure_digits(nbv + 6, 2)) +
		                            k * (long)days,
		        &y, &m, &d);
		fmt_snprintf(
		        e, sizeof e, "%04ld%02ld%02ld%s", y, m, d, nbv + 8);
		memcpy(nb, e, sizeof nb);
		nb[sizeof nb - 1] = 0;
		nbv = nb;
	}
	lure_log("TLS generating=rsa:%u subject=\"%s\"", bits, subj);
	if ((kl = tls_rsa_keygen(bits, key, KEY_MAX, err, errlen)) < 0)
		return -1;
	lure_random(serial, sizeof serial);
	serial[0] &= 0x7f;
	serial[0] |= 0x40; /* 8 significant bytes, like the device's */
	cl = certgen_make(key, (size_t)kl, subj, iss, serial, nbv, days, cert,
	        DER_MAX, e, sizeof e);
	if (cl < 0) {
		fmt_snprintf(err, errlen, "persona %s: tls certificate: %s",
		        persona_name, e);
		return -1;
	}
	fmt_snprintf(kt_buf, sizeof kt_buf, "%ld", k);
	if (identity_blob_put("tls.key", key, (size_t)kl, err, errlen) < 0 ||
	        identity_blob_put("tls.cert", cert, (size_t)cl, err, errlen) <
	                0 ||
	        identity_blob_put("tls.cert.renewals", (const uint8_t *)kt_buf,
	                strlen(kt_buf), err, errlen) < 0)
		return -1;
	return 0;
}

/* The stored certificate is the one of the period now (tls.cert.renew). */
static int
current(void)
{
	static char nb[32], want[24];
	const char *nbv =
	        pvalue("tls.cert.not_before", "20190909", nb, sizeof nb);
	const uint8_t *p;
	size_t n;

	if (!persona_int("tls.cert.renew", 0))
		return 1;
	fmt_snprintf(want, sizeof want, "%ld",
	        renewals(nbv, (unsigned)persona_int("tls.cert.days", 3650)));
	return identity_blob_get("tls.cert.renewals", &p, &n) == 0 &&
	       n == strlen(want) && memcmp(p, want, n) == 0;
}

static int
generate(char *err, size_t errlen)
{
	uint8_t *buf = malloc(KEY_MAX + DER_MAX);
	int r = -1;

	if (!buf)
		fmt_snprintf(err, errlen, "out of memory for the TLS key");
	else
		r = generate_into(buf, buf + KEY_MAX, err, errlen);
	free(buf);
	return r;
}

/* The persona's tls.suites, if any, to the backend. */
static int
suites(char *err, size_t errlen)
{
	uint16_t ids[TLS_SUITES_MAX];
	size_t n = 0;
	const char *s = persona_get("tls.suites", NULL);
	int d;

	while (s && *s) {
		unsigned v = 0, digits = 0;
		while (*s == ' ')
			s++;
		while ((d = fmt_hexval(*s)) >= 0 && digits < 5) {
			v = v << 4 | (unsigned)d;
			digits++;
			s++;
		}
		if (digits == 0 || digits > 4 || (*s && *s != ' ') ||
		        n == TLS_SUITES_MAX) {
			fmt_snprintf(err, errlen,
			        "tls.suites: hex numbers of 4 digits at most, "
			        "%d of them at most",
			        TLS_SUITES_MAX);
			return -1;
		}
		ids[n++] = (uint16_t)v;
		while (*s == ' ')
			s++;
	}
	return n ? tls_server_suites(ids, n, err, errlen) : 0;
}

int
certgen_setup(unsigned sessions, char *err, size_t errlen)
{
	const uint8_t *key, *cert;
	size_t kl, cl;
	int any = 0;

	for (size_t i = 0; LURE_TLS_SERVER && i < persona_nports; i++)
		any |= persona_ports[i].tls;
	if (!any)
		return 0;
	if (sessions == 0) {
		lure_log("TLS ports=skipped reason=tls.server_sessions_is_0");
		return 0;
	}
	if (tls_server_init(sessions, err, errlen) < 0) {
		/* TLS=none, a backend without a server side, no memory: the
		 * sensor runs without its tls ports rather than not at all */
		lure_log("TLS ports=skipped tls=%s reason=\"%s\"", LURE_TLS,
		        err);
		err[0] = '\0';
		return 0;
	}
	if (!(current() && identity_blob_get("tls.key", &key, &kl) == 0 &&
	            identity_blob_get("tls.cert", &cert, &cl) == 0 &&
	            tls_server_cert(key, kl, cert, cl, err, errlen) == 0) &&
	        (generate(err, errlen) < 0 ||
	                identity_blob_get("tls.key", &key, &kl) < 0 ||
	                identity_blob_get("tls.cert", &cert, &cl) < 0 ||
	                tls_server_cert(key, kl, cert, cl, err, errlen) < 0))
		return -1;
	return suites(err, errlen) < 0 ? -1 : 1;
}
