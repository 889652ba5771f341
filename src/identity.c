/* identity.c: per-instance identity (src/identity.h). Values come from the
 * persona's "identity.NAME" templates and a per-name splitmix64 stream
 * keyed by the seed; the state file keeps seed, values and blobs as text
 * lines ("seed HEX", "value NAME TEXT", "blob NAME HEX"). */
#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "fmt.h"
#include "lure.h"
#include "persona.h"
#if LURE_PWHASH
#include "pwhash.h"
#endif

#define IDENTITY_MAX 32
#define IDENTITY_BLOBS 8
#define IDENTITY_BLOB_BYTES 16384

static uint8_t seed[32];
static int ready; /* values expanded */
static char path_buf[256];
static struct {
	char name[32];
	char value[IDENTITY_VALUE_MAX];
} ids[IDENTITY_MAX];
static int nids;
static struct {
	char name[32];
	size_t off, len;
} blobs[IDENTITY_BLOBS];
static int nblobs;
static uint8_t blob_mem[IDENTITY_BLOB_BYTES];
static size_t blob_used;

/* --- a per-name random stream ------------------------------------------- */
struct rng {
	uint64_t s;
};

static uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
rng_init(struct rng *r, const char *label)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *c = label; *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
	r->s = h;
	for (size_t i = 0; i < sizeof seed; i++) {
		r->s ^= (uint64_t)seed[i] << (8 * (i % 8));
		if (i % 8 == 7)
			(void)rng_next(r);
	}
}

/* Uniform in [0, n) (n > 0), by rejection. */
static uint64_t
rng_below(struct rng *r, uint64_t n)
{
	uint64_t lim = UINT64_MAX - UINT64_MAX % n, v;

	while ((v = rng_next(r)) >= lim)
		;
	return v % n;
}

void
identity_derive(const char *label, uint8_t *out, size_t n)
{
	struct rng r;

	rng_init(&r, label);
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(rng_next(&r) >> 56);
}

const uint8_t *
identity_seed(void)
{
	return seed;
}

/* --- template expansion --------------------------------------------------- */
static int
find(const char *name, size_t n)
{
	for (int i = 0; i < nids; i++)
		if (strlen(ids[i].name) == n &&
		        memcmp(ids[i].name, name, n) == 0)
			return i;
	return -1;
}

static int
ymd(const char *s, long *days)
{
	long v = 0;

	for (int i = 0; i < 8; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + s[i] - '0';
	}
	*days = fmt_days_from_civil(v / 10000, v / 100 % 100, v % 100);
	return 0;
}

int
identity_template(const char *name, const char *t, size_t tn, char *out,
        size_t cap, char *err, size_t errlen)
{
	struct rng r;
	size_t o = 0;

	rng_init(&r, name);
#define PUT(c)                        \
	do {                          \
		if (o + 1 >= cap)     \
			goto toolong; \
		out[o++] = (char)(c); \
	} while (0)
	for (size_t i = 0; i < tn; i++) {
		const char *spec, *end;
		size_t sn;
		unsigned long n = 0;

		if ((t[i] == '{' || t[i] == '}') && i + 1 < tn &&
		        t[i + 1] == t[i]) {
			PUT(t[i++]);
			continue;
		}
		if (t[i] != '{') {
			PUT(t[i]);
			continue;
		}
		spec = t + i + 1;
		end = memchr(spec, '}', tn - i - 1);
		if (!end)
			goto bad;
		sn = (size_t)(end - spec);
		i += sn + 1;
		if ((sn > 4 && memcmp(spec, "hex:", 4) == 0) ||
		        (sn > 4 && memcmp(spec, "HEX:", 4) == 0) ||
		        (sn > 4 && memcmp(spec, "dec:", 4) == 0) ||
		        (sn > 4 && memcmp(spec, "B36:", 4) == 0)) {
			/* upper-case hex and decimal digits are its prefixes */
			const char *digits = spec[0] == 'h'
			                             ? "0123456789abcdef"
			                             : "0123456789ABCDEFGHIJKLM"
			                               "NOPQRSTUVWXYZ";
			unsigned base = spec[0] == 'd'   ? 10
			                : spec[0] == 'B' ? 36
			                                 : 16;
			for (size_t k = 4; k < sn; k++) {
				if (spec[k] < '0' || spec[k] > '9')
					goto bad;
				n = n * 10 + (unsigned long)(spec[k] - '0');
				if (n > 64)
					goto bad;
			}
			for (unsigned long k = 0; k < n; k++)
				PUT(digits[rng_below(&r, base)]);
		} else if (sn == 4 && memcmp(spec, "uuid", 4) == 0) {
			static const char x[] = "0123456789abcdef";
			for (int k = 0; k < 36; k++) {
				unsigned v = (unsigned)rng_below(&r, 16);
				if (k == 8 || k == 13 || k == 18 || k == 23)
					PUT('-');
				else if (k == 14)
					PUT('4');
				else if (k == 19)
					PUT(x[8 + (v & 3)]);
				else
					PUT(x[v]);
			}
		} else if ((sn > 4 && memcmp(spec, "ref:", 4) == 0) ||
		           (sn > 6 && memcmp(spec, "hexof:", 6) == 0)) {
			int hexof = spec[0] == 'h', skip = hexof ? 6 : 4;
			int j = find(spec + skip, sn - (size_t)skip);
			if (j < 0)
				goto bad;
			for (const char *c = ids[j].value; *c; c++)
				if (!hexof ||
				        strchr("0123456789abcdefABCDEF", *c))
					PUT(*c);
		} else if (sn > 23 && memcmp(spec, "date:", 5) == 0 &&
		           spec[13] == ':' && spec[22] == ':') {
			long a, b, y, m, d;
			if (ymd(spec + 5, &a) < 0 || ymd(spec + 14, &b) < 0 ||
			        b < a)
				goto bad;
			fmt_civil_from_days(
			        a + (long)rng_below(&r, (uint64_t)(b - a + 1)),
			        &y, &m, &d);
			for (size_t k = 23; k < sn; k++) {
				char f[24];
				switch (spec[k]) {
				case 'Y':
					fmt_snprintf(f, sizeof f, "%04ld", y);
					break;
				case 'y':
					fmt_snprintf(
					        f, sizeof f, "%02ld", y % 100);
					break;
				case 'm':
					fmt_snprintf(f, sizeof f, "%02ld", m);
					break;
				case 'd':
					fmt_snprintf(f, sizeof f, "%02ld", d);
					break;
				default: f[0] = spec[k], f[1] = 0;
				}
				for (char *c = f; *c; c++)
					PUT(*c);
			}
		}
#if LURE_PWHASH
		else if ((sn > 9 && memcmp(spec, "md5crypt:", 9) == 0) ||
		         (sn > 12 && memcmp(spec, "sha512crypt:", 12) == 0)) {
			/* crypt(3) of the password with a salt of this
			 * device's: 8 characters for $1$, 16 for $6$ */
			int md5 = spec[0] == 'm';
			size_t pl = md5 ? 9 : 12;
			char salt[16], h[PWHASH_MAX];
			for (int k = 0; k < (md5 ? 8 : 16); k++)
				salt[k] = pwhash_b64[rng_below(&r, 64)];
			if (md5)
				pwhash_md5crypt(spec + pl, sn - pl, salt, 8, h);
			else
				pwhash_sha512crypt(
				        spec + pl, sn - pl, salt, 16, h);
			for (char *c = h; *c; c++)
				PUT(*c);
		}
#endif
		else {
			goto bad;
		}
	}
#undef PUT
	out[o] = 0;
	return 0;
bad:
	fmt_snprintf(err, errlen, "identity.%s: bad template \"%.*s\"", name,
	        (int)tn, t);
	return -1;
toolong:
	fmt_snprintf(err, errlen, "identity.%s: value longer than %d bytes",
	        name, IDENTITY_VALUE_MAX - 1);
	return -1;
}

/* Expand every persona template not yet known (from the state file).
 * Returns how many were added, or -1. */
static int
expand_all(char *err, size_t errlen)
{
	int added = 0;

	for (size_t i = 0; i < persona_nkv; i++) {
		const struct persona_kv *kv = &persona_kv[i];
		const char *name = persona_key(kv) + 9;
		size_t nl = kv->klen - 9;

		if (kv->klen <= 9 ||
		        memcmp(persona_key(kv), "identity.", 9) != 0)
			continue;
		if (find(name, nl) >= 0)
			continue;
		if (nids == IDENTITY_MAX || nl >= sizeof ids[0].name) {
			fmt_snprintf(err, errlen,
			        "identity.%.*s: too many identities "
			        "or name too long",
			        (int)nl, name);
			return -1;
		}
		memcpy(ids[nids].name, name, nl);
		ids[nids].name[nl] = 0;
		if (identity_template(ids[nids].name, kv->val, kv->len,
		            ids[nids].value, sizeof ids[0].value, err,
		            errlen) < 0)
			return -1;
		nids++;
		added++;
	}
	ready = 1;
	return added;
}

const char *
identity_get(const char *name)
{
	int i;

	if (!ready) {
		char err[160];
		if (expand_all(err, sizeof err) < 0)
			lure_die(2, "%s",
			        err); /* a persona bug: caught by tests */
	}
	i = find(name, strlen(name));
	return i < 0 ? NULL : ids[i].value;
}

/* --- the state file ------------------------------------------------------- */
static void
hex(struct fdio *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char h[2] = {"0123456789abcdef"[p[i] >> 4],
		        "0123456789abcdef"[p[i] & 15]};
		fdio_put(f, h, 2);
	}
}

static int
unhex(const char *s, uint8_t *out, size_t cap, size_t *n)
{
	size_t i = 0;

	for (; s[0] && s[1]; s += 2) {
		int a = fmt_hexval(s[0]), b = fmt_hexval(s[1]);
		if (a < 0 || b < 0 || i == cap)
			return -1;
		out[i++] = (uint8_t)(a * 16 + b);
	}
	if (*s)
		return -1;
	*n = i;
	return 0;
}

static int
save(char *err, size_t errlen)
{
	char tmp[300];
	struct fdio f;
	int fd;

	if (!path_buf[0])
		return 0;
	fmt_snprintf(tmp, sizeof tmp, "%s.tmp", path_buf);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fmt_snprintf(err, errlen, "%s: %s", tmp, fmt_strerror(errno));
		return -1;
	}
	fdio_init(&f, fd);
	fdio_puts(&f, "# lure state: this sensor's identity (keep private: it "
	              "holds keys)\nseed ");
	hex(&f, seed, sizeof seed);
	for (int i = 0; i < nids; i++) {
		fdio_puts(&f, "\nvalue ");
		fdio_puts(&f, ids[i].name);
		fdio_puts(&f, " ");
		fdio_puts(&f, ids[i].value);
	}
	for (int i = 0; i < nblobs; i++) {
		fdio_puts(&f, "\nblob ");
		fdio_puts(&f, blobs[i].name);
		fdio_puts(&f, " ");
		hex(&f, blob_mem + blobs[i].off, blobs[i].len);
	}
	fdio_puts(&f, "\n");
	if (fdio_flush(&f) < 0 || fsync(fd) < 0) {
		fmt_snprintf(err, errlen, "%s: %s", tmp, fmt_strerror(errno));
		fdio_close(&f);
		return -1;
	}
	fdio_close(&f);
	if (rename(tmp, path_buf) < 0) {
		fmt_snprintf(
		        err, errlen, "%s: %s", path_buf, fmt_strerror(errno));
		return -1;
	}
	return 0;
}

static int
blob_add(const char *name, const uint8_t *p, size_t n)
{
	int i;

	for (i = 0; i < nblobs; i++)
		if (strcmp(blobs[i].name, name) == 0)
			break;
	if (strlen(name) >= sizeof blobs[0].name ||
	        (i == nblobs && nblobs == IDENTITY_BLOBS) ||
	        n > sizeof blob_mem - blob_used)
		return -1;
	if (i == nblobs)
		fmt_snprintf(
		        blobs[nblobs++].name, sizeof blobs[0].name, "%s", name);
	memcpy(blob_mem + blob_used, p, n); /* a replaced blob's old bytes leak:
	                                     * start-up only, bounded */
	blobs[i].off = blob_used;
	blobs[i].len = n;
	blob_used += n;
	return 0;
}

int
identity_load(const char *path, char *err, size_t errlen)
{
	static char line[2 * IDENTITY_BLOB_BYTES + 128];
	static uint8_t bin[IDENTITY_BLOB_BYTES];
	int have_seed = 0, lineno = 0, added;
	struct fdio f;

	*err = 0;
	nids = nblobs = 0;
	blob_used = 0;
	ready = 0;
	if (strlen(path) >= sizeof path_buf) {
		fmt_snprintf(err, errlen, "state_file: path too long");
		return -1;
	}
	strcpy(path_buf, path);
	if (!path[0]) {
		fdio_init(&f, -1);
	} else if (fdio_open(&f, path) < 0 && errno != ENOENT) {
		fmt_snprintf(err, errlen, "%s: %s", path, fmt_strerror(errno));
		return -1;
	}
	while (f.fd >= 0 && fdio_gets(&f, line, sizeof line)) {
		char *k = line, *name, *v;
		size_t n;

		lineno++;
		line[strcspn(line, "\n")] = 0;
		if (!*k || *k == '#')
			continue;
		name = strchr(k, ' ');
		if (!name)
			goto bad;
		*name++ = 0;
		if (strcmp(k, "seed") == 0) {
			if (unhex(name, seed, sizeof seed, &n) < 0 ||
			        n != sizeof seed)
				goto bad;
			have_seed = 1;
			continue;
		}
		v = strchr(name, ' ');
		if (!v)
			goto bad;
		*v++ = 0;
		if (strcmp(k, "value") == 0) {
			if (nids == IDENTITY_MAX ||
			        strlen(name) >= sizeof ids[0].name ||
			        strlen(v) >= sizeof ids[0].value)
				goto bad;
			strcpy(ids[nids].name, name);
			strcpy(ids[nids++].value, v);
		} else if (strcmp(k, "blob") == 0) {
			if (unhex(v, bin, sizeof bin, &n) < 0 ||
			        blob_add(name, bin, n) < 0)
				goto bad;
		} else {
			goto bad;
		}
	}
	fdio_close(&f);
	if (!have_seed) {
		if (nids || nblobs) {
			fmt_snprintf(err, errlen, "%s: no seed line", path);
			return -1;
		}
		lure_random(seed, sizeof seed);
	}
	if ((added = expand_all(err, errlen)) < 0)
		return -1;
	if (!have_seed || added)
		return save(err, errlen);
	return 0;
bad:
	fdio_close(&f);
	fmt_snprintf(err, errlen, "%s:%d: not a lure state line", path, lineno);
	return -1;
}

int
identity_blob_get(const char *name, const uint8_t **p, size_t *n)
{
	for (int i = 0; i < nblobs; i++)
		if (strcmp(blobs[i].name, name) == 0) {
			*p = blob_mem + blobs[i].off;
			*n = blobs[i].len;
			return 0;
		}
	return -1;
}

int
identity_blob_put(
        const char *name, const uint8_t *p, size_t n, char *err, size_t errlen)
{
	if (blob_add(name, p, n) < 0) {
		fmt_snprintf(err, errlen,
		        "state: no room for blob %s (%zu bytes)", name, n);
		return -1;
	}
	return save(err, errlen);
}

size_t
identity_expand(const char *in, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	if (!cap)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *end, *v = NULL;
		char name[32];

		if (in[i] == '$' && i + 1 < n && in[i + 1] == '{' &&
		        (end = memchr(in + i + 2, '}', n - i - 2)) &&
		        (size_t)(end - in - i - 2) < sizeof name) {
			size_t nl = (size_t)(end - in - i - 2);
			memcpy(name, in + i + 2, nl);
			name[nl] = 0;
			if ((v = identity_get(name))) {
				size_t vl = strlen(v);
				if (o + vl >= cap)
					goto full;
				memcpy(out + o, v, vl);
				o += vl;
				i = (size_t)(end - in);
				continue;
			}
		}
		if (o + 1 >= cap)
			goto full;
		out[o++] = in[i];
	}
	out[o] = 0;
	return o;
full:
	out[o] = 0;
	return cap;
}
