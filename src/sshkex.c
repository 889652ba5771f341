/* sshkex.c: see sshkex.h. Host keys are kept as bytes; every exchange and
 * signature done with mbedTLS allocates its bignums from mbedTLS's
 * allocator and frees them before returning (a few KiB; DH group 18 the
 * most); X25519 and Ed25519 (src/ed25519.c) and sntrup761 allocate
 * nothing.
 * The RFC 3526 primes are the numbers OpenSSH's dh.c carries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed25519.h"
#include "fmt.h"
#include "identity.h"
#include "lure.h"
#include "mbedtls/bignum.h"
#include "mbedtls/ecdh.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/rsa.h"
#include "sntrup761.h"
#include "sshkex.h"

/* RFC 3526 MODP groups 14 (2048 bits), 16 (4096), 18 (8192); g = 2 */
static const char dh_group14[] =
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
        "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
        "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
        "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
        "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
        "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
        "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
        "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF";
static const char dh_group16[] =
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
        "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
        "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
        "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
        "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
        "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
        "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
        "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
        "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
        "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
        "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
        "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
        "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
        "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
        "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
        "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF";
static const char dh_group18[] =
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
        "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
        "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
        "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
        "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
        "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
        "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
        "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
        "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
        "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
        "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
        "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
        "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
        "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
        "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
        "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C93402849236C3FAB4D27C7026"
        "C1D4DCB2602646DEC9751E763DBA37BDF8FF9406AD9E530EE5DB382F413001AE"
        "B06A53ED9027D831179727B0865A8918DA3EDBEBCF9B14ED44CE6CBACED4BB1B"
        "DB7F1447E6CC254B332051512BD7AF426FB8F401378CD2BF5983CA01C64B92EC"
        "F032EA15D1721D03F482D7CE6E74FEF6D55E702F46980C82B5A84031900B1C9E"
        "59E7C97FBEC7E8F323A97A7E36CC88BE0F1D45B7FF585AC54BD407B22B4154AA"
        "CC8F6D7EBF48E1D814CC5ED20F8037E0A79715EEF29BE32806A1D58BB7C5DA76"
        "F550AA3D8A1FBFF0EB19CCB1A313D55CDA56C9EC2EF29632387FE8D76E3C0468"
        "043E8F663F4860EE12BF2D5B0B7474D6E694F91E6DBE115974A3926F12FEE5E4"
        "38777CB6A932DF8CD8BEC4D073B931BA3BC832B68D9DD300741FA7BF8AFC47ED"
        "2576F6936BA424663AAB639C5AE4F5683423B4742BF1C978238F16CBE39D652D"
        "E3FDB8BEFC848AD922222E04A4037C0713EB57A81A23F0C73473FC646CEA306B"
        "4BCBC8862F8385DDFA9D4B7FA2C087E879683303ED5BDD3A062B3CF5B3A278A6"
        "6D2A13F83F44F82DDF310EE074AB6A364597E899A0255DC164F31CC50846851D"
        "F9AB48195DED7EA1B1D510BD7EE74D73FAF36BC31ECFA268359046F4EB879F92"
        "4009438B481C6CD7889A002ED5EE382BC9190DA6FC026E479558E4475677E9AA"
        "9E3050E2765694DFC81F56E880B96E7160C980DD98EDD3DFFFFFFFFFFFFFFFFF";

static int
rng(void *ctx, unsigned char *out, size_t n)
{
	(void)ctx;
	lure_random(out, n);
	return 0;
}

/* --- wire ------------------------------------------------------------------ */
void
sshkex_mpint(struct sshkex_buf *b, const uint8_t *p, size_t n)
{
	while (n && !*p)
		p++, n--;
	if (n && (*p & 0x80)) {
		sshkex_u32(b, (uint32_t)n + 1);
		sshkex_u8(b, 0);
	} else {
		sshkex_u32(b, (uint32_t)n);
	}
	sshkex_put(b, p, n);
}

static void
put_mpi(struct sshkex_buf *b, const mbedtls_mpi *x)
{
	uint8_t tmp[1100];
	size_t n = mbedtls_mpi_size(x);

	if (n > sizeof tmp || mbedtls_mpi_write_binary(x, tmp, n) != 0) {
		b->err = 1;
		return;
	}
	sshkex_mpint(b, tmp, n);
}

uint8_t
sshkex_get8(struct sshkex_buf *b)
{
	if (b->err || b->n >= b->cap) {
		b->err = 1;
		return 0;
	}
	return b->p[b->n++];
}

uint32_t
sshkex_get32(struct sshkex_buf *b)
{
	uint32_t v;

	if (b->err || b->n > b->cap || b->cap - b->n < 4) {
		b->err = 1;
		return 0;
	}
	v = sshkex_peek32(b->p + b->n);
	b->n += 4;
	return v;
}

const uint8_t *
sshkex_getstr(struct sshkex_buf *b, size_t *n)
{
	uint32_t len = sshkex_get32(b);
	const uint8_t *p;

	if (b->err || len > b->cap - b->n) {
		b->err = 1;
		*n = 0;
		return NULL;
	}
	p = b->p + b->n;
	b->n += len;
	*n = len;
	return p;
}

/* --- names ----------------------------------------------------------------- */
static int
is(const char *name, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(name, s, n) == 0;
}

enum sshkex_kex
sshkex_kex_find(const char *name, size_t n)
{
	static const struct {
		const char *s;
		enum sshkex_kex k;
	} t[] = {
	        {"sntrup761x25519-sha512", SSHKEX_SNTRUP761},
	        {"sntrup761x25519-sha512@openssh.com", SSHKEX_SNTRUP761},
	        {"curve25519-sha256", SSHKEX_X25519},
	        {"curve25519-sha256@libssh.org", SSHKEX_X25519},
	        {"ecdh-sha2-nistp256", SSHKEX_P256},
	        {"ecdh-sha2-nistp384", SSHKEX_P384},
	        {"ecdh-sha2-nistp521", SSHKEX_P521},
	        {"diffie-hellman-group14-sha256", SSHKEX_DH14},
	        {"diffie-hellman-group14-sha1", SSHKEX_DH14_SHA1},
	        {"diffie-hellman-group16-sha512", SSHKEX_DH16},
	        {"diffie-hellman-group18-sha512", SSHKEX_DH18},
	        {"diffie-hellman-group-exchange-sha256", SSHKEX_GEX},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (is(name, n, t[i].s))
			return t[i].k;
	return SSHKEX_NONE;
}

enum sshkex_hostkey
sshkex_hostkey_find(const char *name, size_t n)
{
	if (is(name, n, "rsa-sha2-512"))
		return SSHKEX_HK_RSA512;
	if (is(name, n, "rsa-sha2-256"))
		return SSHKEX_HK_RSA256;
	if (is(name, n, "ecdsa-sha2-nistp256"))
		return SSHKEX_HK_ECDSA;
	if (is(name, n, "ssh-ed25519"))
		return SSHKEX_HK_ED25519;
	if (is(name, n, "ssh-rsa"))
		return SSHKEX_HK_RSA1;
	return SSHKEX_HK_NONE;
}

enum sshkex_hash
sshkex_kex_hash(enum sshkex_kex k)
{
	switch (k) {
	case SSHKEX_SNTRUP761:
	case SSHKEX_P521:
	case SSHKEX_DH16:
	case SSHKEX_DH18: return SSHKEX_SHA512;
	case SSHKEX_P384: return SSHKEX_SHA384;
	case SSHKEX_DH14_SHA1: return SSHKEX_SHA1;
	default: return SSHKEX_SHA256;
	}
}

size_t
sshkex_hash_len(enum sshkex_hash h)
{
	return h == SSHKEX_SHA1     ? 20
	       : h == SSHKEX_SHA256 ? 32
	       : h == SSHKEX_SHA384 ? 48
	                            : 64;
}

/* --- hashing --------------------------------------------------------------- */
void
sshkex_hstart(struct sshkex_hctx *h, enum sshkex_hash alg)
{
	h->alg = alg;
	if (alg == SSHKEX_SHA1) {
		mbedtls_sha1_init(&h->u.s1);
		(void)mbedtls_sha1_starts_ret(&h->u.s1);
	} else if (alg == SSHKEX_SHA256) {
		mbedtls_sha256_init(&h->u.s256);
		(void)mbedtls_sha256_starts_ret(&h->u.s256, 0);
	} else {
		mbedtls_sha512_init(&h->u.s512);
		(void)mbedtls_sha512_starts_ret(
		        &h->u.s512, alg == SSHKEX_SHA384);
	}
}

void
sshkex_hupdate(struct sshkex_hctx *h, const void *p, size_t n)
{
	if (h->alg == SSHKEX_SHA1)
		(void)mbedtls_sha1_update_ret(&h->u.s1, p, n);
	else if (h->alg == SSHKEX_SHA256)
		(void)mbedtls_sha256_update_ret(&h->u.s256, p, n);
	else
		(void)mbedtls_sha512_update_ret(&h->u.s512, p, n);
}

void
sshkex_hstr(struct sshkex_hctx *h, const void *p, size_t n)
{
	uint8_t l[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16),
	        (uint8_t)(n >> 8), (uint8_t)n};
	sshkex_hupdate(h, l, 4);
	sshkex_hupdate(h, p, n);
}

void
sshkex_hfinish(struct sshkex_hctx *h, uint8_t *out)
{
	uint8_t full[64];

	if (h->alg == SSHKEX_SHA1) {
		(void)mbedtls_sha1_finish_ret(&h->u.s1, out);
		mbedtls_sha1_free(&h->u.s1);
		return;
	}
	if (h->alg == SSHKEX_SHA256) {
		(void)mbedtls_sha256_finish_ret(&h->u.s256, out);
		mbedtls_sha256_free(&h->u.s256);
		return;
	}
	(void)mbedtls_sha512_finish_ret(&h->u.s512, full);
	mbedtls_sha512_free(&h->u.s512);
	memcpy(out, full, sshkex_hash_len(h->alg));
}

void
sshkex_derive(enum sshkex_hash alg, const uint8_t *k, size_t kn,
        const uint8_t *h, const uint8_t *sid, size_t hn, char x, uint8_t *out,
        size_t need)
{
	uint8_t blk[64 * 3];
	size_t have = 0;
	struct sshkex_hctx c;

	if (need > sizeof blk)
		need = sizeof blk;
	sshkex_hstart(&c, alg);
	sshkex_hupdate(&c, k, kn);
	sshkex_hupdate(&c, h, hn);
	sshkex_hupdate(&c, &x, 1);
	sshkex_hupdate(&c, sid, hn);
	sshkex_hfinish(&c, blk);
	have = hn;
	while (have < need) {
		sshkex_hstart(&c, alg);
		sshkex_hupdate(&c, k, kn);
		sshkex_hupdate(&c, h, hn);
		sshkex_hupdate(&c, blk, have);
		sshkex_hfinish(&c, blk + have);
		have += hn;
	}
	memcpy(out, blk, need);
	mbedtls_platform_zeroize(blk, sizeof blk);
}

/* --- host keys ------------------------------------------------------------- */
/* mbedTLS has one allocator for the process, and the TLS backend may put
 * its static heap in place after start-up: so nothing of ours stays
 * allocated between calls. Keys are kept as bytes (the RSA key as PKCS#1
 * DER, parsed for each signature) and the public blobs ready-made. */
static uint8_t rsa_der[2400], ec_d[32], ec_q[65];
static size_t rsa_der_len;
static uint8_t blob_rsa[1024], blob_ec[128], blob_ed[64];
static size_t blob_rsa_len, blob_ec_len, blob_ed_len;

/* Direct calls into libc: on MIPS the C library is PIC and a function
 * pointer to calloc itself (mbedTLS's default) jumps in without $t9. */
static void *
ssh_calloc(size_t n, size_t size)
{
	return calloc(n, size);
}

static void
ssh_free(void *p)
{
	free(p);
}

/* The TLS backend's heap, when lure has one (not in test drivers). */
extern size_t
tls_heap_used(void) __attribute__((weak));

static int
fail(char *err, size_t errlen, const char *what, int rc)
{
	fmt_snprintf(err, errlen, "ssh host key: %s (mbedTLS -0x%04x)", what,
	        (unsigned)-rc);
	return -1;
}

static int
setup_rsa(unsigned bits, char *err, size_t errlen)
{
	mbedtls_pk_context pk;
	const uint8_t *p;
	size_t n;
	int rc, gen = identity_blob_get("ssh.rsa", &p, &n) != 0;
	struct sshkex_buf b = {blob_rsa, 0, sizeof blob_rsa, 0};

	mbedtls_pk_init(&pk);
	if (!gen) {
		rc = mbedtls_pk_parse_key(&pk, p, n, NULL, 0);
	} else {
		rc = mbedtls_pk_setup(
		        &pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
		if (!rc)
			rc = mbedtls_rsa_gen_key(
			        mbedtls_pk_rsa(pk), rng, NULL, bits, 65537);
	}
	if (!rc && mbedtls_pk_get_type(&pk) != MBEDTLS_PK_RSA)
		rc = MBEDTLS_ERR_PK_TYPE_MISMATCH;
	if (!rc) {
		rc = mbedtls_pk_write_key_der(&pk, rsa_der, sizeof rsa_der);
		if (rc > 0) {
			rsa_der_len = (size_t)rc;
			memmove(rsa_der, rsa_der + sizeof rsa_der - rsa_der_len,
			        rsa_der_len);
			rc = 0;
		}
	}
	if (!rc) {
		mbedtls_rsa_context *r = mbedtls_pk_rsa(pk);
		sshkex_cstr(&b, "ssh-rsa");
		put_mpi(&b, &r->E);
		put_mpi(&b, &r->N);
		blob_rsa_len = b.err ? 0 : b.n;
	}
	mbedtls_pk_free(&pk);
	if (rc)
		return fail(
		        err, errlen, gen ? "RSA generation" : "ssh.rsa", rc);
	if (gen && identity_blob_put(
	                   "ssh.rsa", rsa_der, rsa_der_len, err, errlen) < 0)
		return -1;
	return 0;
}

static int
setup_ecdsa(char *err, size_t errlen)
{
	mbedtls_ecdsa_context k;
	const uint8_t *p;
	size_t n, qn = 0;
	int rc, gen = identity_blob_get("ssh.ecdsa", &p, &n) != 0;
	struct sshkex_buf b = {blob_ec, 0, sizeof blob_ec, 0};

	mbedtls_ecdsa_init(&k);
	if (gen) {
		rc = mbedtls_ecdsa_genkey(
		        &k, MBEDTLS_ECP_DP_SECP256R1, rng, NULL);
	} else {
		rc = mbedtls_ecp_group_load(&k.grp, MBEDTLS_ECP_DP_SECP256R1);
		if (!rc)
			rc = mbedtls_mpi_read_binary(&k.d, p, n);
		if (!rc)
			rc = mbedtls_ecp_check_privkey(&k.grp, &k.d);
		if (!rc)
			rc = mbedtls_ecp_mul(
			        &k.grp, &k.Q, &k.d, &k.grp.G, rng, NULL);
	}
	if (!rc)
		rc = mbedtls_mpi_write_binary(&k.d, ec_d, sizeof ec_d);
	if (!rc)
		rc = mbedtls_ecp_point_write_binary(&k.grp, &k.Q,
		        MBEDTLS_ECP_PF_UNCOMPRESSED, &qn, ec_q, sizeof ec_q);
	mbedtls_ecdsa_free(&k);
	if (rc)
		return fail(err, errlen, gen ? "ECDSA generation" : "ssh.ecdsa",
		        rc);
	sshkex_cstr(&b, "ecdsa-sha2-nistp256");
	sshkex_cstr(&b, "nistp256");
	sshkex_str(&b, ec_q, qn);
	blob_ec_len = b.err ? 0 : b.n;
	if (gen && identity_blob_put(
	                   "ssh.ecdsa", ec_d, sizeof ec_d, err, errlen) < 0)
		return -1;
	return 0;
}

/* Ed25519 (src/ed25519.c): the secret seed and its public key */
static uint8_t ed_pk[32];
static uint8_t ed_seed[32];
static uint8_t ready;

int
sshkex_setup(unsigned rsa_bits, char *err, size_t errlen)
{
	const uint8_t *p;
	size_t n;
	struct sshkex_buf b = {blob_ed, 0, sizeof blob_ed, 0};

	if (ready)
		return 0;
	/* our allocator unless the TLS backend's heap already runs (then
	 * it is everyone's) */
	if (strcmp(LURE_TLS, "mbedtls") != 0 || !tls_heap_used ||
	        tls_heap_used() == 0)
		mbedtls_platform_set_calloc_free(ssh_calloc, ssh_free);
	if (setup_rsa(rsa_bits, err, errlen) < 0 ||
	        setup_ecdsa(err, errlen) < 0)
		return -1;
	/* Ed25519: the 32-byte seed */
	if (identity_blob_get("ssh.ed25519", &p, &n) == 0 && n == 32) {
		memcpy(ed_seed, p, 32);
	} else {
		lure_random(ed_seed, 32);
		if (identity_blob_put("ssh.ed25519", ed_seed, 32, err, errlen) <
		        0)
			return -1;
	}
	ed25519_public(ed_pk, ed_seed);
	sshkex_cstr(&b, "ssh-ed25519");
	sshkex_str(&b, ed_pk, sizeof ed_pk);
	blob_ed_len = b.err ? 0 : b.n;
	ready = 1;
	return 0;
}

size_t
sshkex_hostkey_blob(enum sshkex_hostkey alg, uint8_t *out, size_t cap)
{
	const uint8_t *p = NULL;
	size_t n = 0;

	switch (alg) {
	case SSHKEX_HK_RSA512:
	case SSHKEX_HK_RSA256:
	case SSHKEX_HK_RSA1:
		p = blob_rsa;
		n = blob_rsa_len;
		break;
	case SSHKEX_HK_ECDSA:
		p = blob_ec;
		n = blob_ec_len;
		break;
	case SSHKEX_HK_ED25519:
		p = blob_ed;
		n = blob_ed_len;
		break;
	default: break;
	}
	if (!ready || !n || n > cap)
		return 0;
	memcpy(out, p, n);
	return n;
}

/* hk: RSA512, RSA256 or RSA1 (ssh-rsa, SHA-1) */
static size_t
sign_rsa(enum sshkex_hostkey hk, const uint8_t *h, size_t hn,
        struct sshkex_buf *b)
{
	mbedtls_pk_context pk;
	uint8_t dig[64], sig[1024];
	size_t len = 0;
	int rc, s512 = hk == SSHKEX_HK_RSA512, s1 = hk == SSHKEX_HK_RSA1;
	mbedtls_md_type_t md = s512 ? MBEDTLS_MD_SHA512
	                       : s1 ? MBEDTLS_MD_SHA1
	                            : MBEDTLS_MD_SHA256;

	mbedtls_pk_init(&pk);
	rc = mbedtls_pk_parse_key(&pk, rsa_der, rsa_der_len, NULL, 0);
	if (!rc) {
		mbedtls_rsa_context *r = mbedtls_pk_rsa(pk);
		mbedtls_rsa_set_padding(r, MBEDTLS_RSA_PKCS_V15, 0);
		len = mbedtls_rsa_get_len(r);
		if (len > sizeof sig)
			rc = -1;
		if (!rc)
			rc = s512 ? mbedtls_sha512_ret(h, hn, dig, 0)
			     : s1 ? mbedtls_sha1_ret(h, hn, dig)
			          : mbedtls_sha256_ret(h, hn, dig, 0);
		if (!rc)
			rc = mbedtls_rsa_pkcs1_sign(r, rng, NULL,
			        MBEDTLS_RSA_PRIVATE, md,
			        s512 ? 64
			        : s1 ? 20
			             : 32,
			        dig, sig);
	}
	mbedtls_pk_free(&pk);
	if (rc)
		return 0;
	sshkex_cstr(b, s512 ? "rsa-sha2-512" : s1 ? "ssh-rsa" : "rsa-sha2-256");
	sshkex_str(b, sig, len);
	return b->err ? 0 : b->n;
}

static size_t
sign_ecdsa(const uint8_t *h, size_t hn, struct sshkex_buf *b)
{
	mbedtls_ecp_group g;
	mbedtls_mpi d, r, s;
	uint8_t dig[32], in[80];
	struct sshkex_buf ib = {in, 0, sizeof in, 0};
	int rc;

	mbedtls_ecp_group_init(&g);
	mbedtls_mpi_init(&d);
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	rc = mbedtls_sha256_ret(h, hn, dig, 0);
	if (!rc)
		rc = mbedtls_ecp_group_load(&g, MBEDTLS_ECP_DP_SECP256R1);
	if (!rc)
		rc = mbedtls_mpi_read_binary(&d, ec_d, sizeof ec_d);
	if (!rc)
		rc = mbedtls_ecdsa_sign(&g, &r, &s, &d, dig, 32, rng, NULL);
	if (!rc) {
		put_mpi(&ib, &r);
		put_mpi(&ib, &s);
	}
	mbedtls_ecp_group_free(&g);
	mbedtls_mpi_free(&d);
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	if (rc || ib.err)
		return 0;
	sshkex_cstr(b, "ecdsa-sha2-nistp256");
	sshkex_str(b, in, ib.n);
	return b->err ? 0 : b->n;
}

size_t
sshkex_sign(enum sshkex_hostkey alg, const uint8_t *h, size_t hn, uint8_t *out,
        size_t cap)
{
	struct sshkex_buf b = {out, 0, cap, 0};
	uint8_t sig[64];

	if (!ready)
		return 0;
	switch (alg) {
	case SSHKEX_HK_RSA512:
	case SSHKEX_HK_RSA256:
	case SSHKEX_HK_RSA1: return sign_rsa(alg, h, hn, &b);
	case SSHKEX_HK_ECDSA: return sign_ecdsa(h, hn, &b);
	case SSHKEX_HK_ED25519:
		ed25519_sign(sig, h, hn, ed_seed, ed_pk);
		sshkex_cstr(&b, "ssh-ed25519");
		sshkex_str(&b, sig, sizeof sig);
		return b.err ? 0 : b.n;
	default: return 0;
	}
}

/* --- exchanges ------------------------------------------------------------- */
/* X25519 (src/ed25519.c): q_s (32 bytes, our public value) and the shared
 * secret z (32 bytes, little-endian as RFC 7748 outputs it). The scalar is
 * made from random bytes as mbedTLS made it (ecp_gen_privkey_mx: 32 bytes
 * read big-endian, shifted right by one, then clamped), and 128 more are
 * drawn for what its coordinate blinding drew (32 bytes before and after
 * each of the two ladders), so that under the fixed RNG of the transcripts
 * (test/emu) every byte on the wire is what it was. The small-order points
 * (and their non-canonical encodings) give an all-zero z, refused as
 * mbedTLS and libsodium refused it. */
static int
x25519(const uint8_t *q_c, uint8_t *q_s, uint8_t *z)
{
	static const uint8_t nine[32] = {9}; /* the base point's u */
	uint8_t r[32 + 128], d[32];
	int rc;

	lure_random(r, sizeof r);
	for (int i = 0; i < 32; i++)
		d[i] = (uint8_t)(r[31 - i] >> 1 |
		                 (i < 31 ? r[30 - i] << 7 : 0));
	d[31] |= 0x40;
	d[0] &= 0xf8;
	rc = ed25519_x25519(q_s, d, nine);
	if (!rc)
		rc = ed25519_x25519(z, d, q_c);
	mbedtls_platform_zeroize(r, sizeof r);
	mbedtls_platform_zeroize(d, sizeof d);
	return rc ? -1 : 0;
}

static int
ecdh_nist(mbedtls_ecp_group_id id, const uint8_t *c, size_t cn,
        struct sshkex_buf *reply, struct sshkex_buf *kout)
{
	mbedtls_ecp_group g;
	mbedtls_mpi d, z;
	mbedtls_ecp_point q, qc;
	uint8_t qs[133], zb[66];
	size_t qn = 0, zn;
	int rc;

	mbedtls_ecp_group_init(&g);
	mbedtls_mpi_init(&d);
	mbedtls_mpi_init(&z);
	mbedtls_ecp_point_init(&q);
	mbedtls_ecp_point_init(&qc);
	rc = mbedtls_ecp_group_load(&g, id);
	if (!rc)
		rc = mbedtls_ecp_point_read_binary(&g, &qc, c, cn);
	if (!rc)
		rc = mbedtls_ecp_check_pubkey(&g, &qc);
	if (!rc)
		rc = mbedtls_ecp_gen_keypair(&g, &d, &q, rng, NULL);
	if (!rc)
		rc = mbedtls_ecp_point_write_binary(&g, &q,
		        MBEDTLS_ECP_PF_UNCOMPRESSED, &qn, qs, sizeof qs);
	if (!rc)
		rc = mbedtls_ecdh_compute_shared(&g, &z, &qc, &d, rng, NULL);
	zn = (g.pbits + 7) / 8;
	if (!rc)
		rc = mbedtls_mpi_write_binary(&z, zb, zn);
	mbedtls_ecp_group_free(&g);
	mbedtls_mpi_free(&d);
	mbedtls_mpi_free(&z);
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_point_free(&qc);
	if (rc)
		return -1;
	sshkex_str(reply, qs, qn);
	sshkex_mpint(kout, zb, zn);
	return 0;
}

static void
fixed_group(int group, struct sshkex_group *out)
{
	out->hex = group == 14   ? dh_group14
	           : group == 16 ? dh_group16
	                         : dh_group18;
	out->hexlen = strlen(out->hex);
	out->g = 2;
}

static int
read_prime(mbedtls_mpi *p, const struct sshkex_group *grp)
{
	char hex[2 * 1024 + 1];

	if (grp->hexlen >= sizeof hex)
		return -1;
	memcpy(hex, grp->hex, grp->hexlen);
	hex[grp->hexlen] = 0;
	return mbedtls_mpi_read_string(p, 16, hex);
}

static int
dh(const struct sshkex_group *grp, const uint8_t *c, size_t cn,
        struct sshkex_buf *reply, struct sshkex_buf *kout)
{
	mbedtls_mpi p, g, e, x, f, k, pm1;
	struct sshkex_buf in = {(uint8_t *)c, 0, cn, 0};
	const uint8_t *ep;
	size_t en;
	uint8_t xr[64];
	int rc;

	ep = sshkex_getstr(&in, &en);
	if (in.err || in.n != cn || !en || en > 1025 || (ep[0] & 0x80))
		return -1;
	mbedtls_mpi_init(&p);
	mbedtls_mpi_init(&g);
	mbedtls_mpi_init(&e);
	mbedtls_mpi_init(&x);
	mbedtls_mpi_init(&f);
	mbedtls_mpi_init(&k);
	mbedtls_mpi_init(&pm1);
	rc = read_prime(&p, grp);
	if (!rc)
		rc = mbedtls_mpi_lset(&g, grp->g);
	if (!rc)
		rc = mbedtls_mpi_read_binary(&e, ep, en);
	if (!rc)
		rc = mbedtls_mpi_sub_int(&pm1, &p, 1);
	/* 1 < e < p - 1 (OpenSSH's dh_pub_is_valid) */
	if (!rc && (mbedtls_mpi_cmp_int(&e, 1) <= 0 ||
	                   mbedtls_mpi_cmp_mpi(&e, &pm1) >= 0))
		rc = -1;
	/* a 512-bit exponent: twice the bits of the largest hash */
	lure_random(xr, sizeof xr);
	xr[0] |= 0x80;
	if (!rc)
		rc = mbedtls_mpi_read_binary(&x, xr, sizeof xr);
	if (!rc)
		rc = mbedtls_mpi_exp_mod(&f, &g, &x, &p, NULL);
	if (!rc)
		rc = mbedtls_mpi_exp_mod(&k, &e, &x, &p, NULL);
	if (!rc) {
		put_mpi(reply, &f);
		put_mpi(kout, &k);
	}
	mbedtls_platform_zeroize(xr, sizeof xr);
	mbedtls_mpi_free(&p);
	mbedtls_mpi_free(&g);
	mbedtls_mpi_free(&e);
	mbedtls_mpi_free(&x);
	mbedtls_mpi_free(&f);
	mbedtls_mpi_free(&k);
	mbedtls_mpi_free(&pm1);
	return rc ? -1 : 0;
}

/* One line of a moduli file: "time type tests tries size gen modulus";
 * sshd keeps safe primes (type 2) and counts size + 1 bits. */
static int
moduli_line(const uint8_t *l, size_t n, unsigned *bits, struct sshkex_group *g)
{
	const uint8_t *f[7];
	size_t fl[7], k = 0, i = 0;

	if (!n || l[0] == '#')
		return -1;
	while (k < 7 && i < n) {
		while (i < n && (l[i] == ' ' || l[i] == '\t'))
			i++;
		f[k] = l + i;
		while (i < n && l[i] != ' ' && l[i] != '\t' && l[i] != '\r')
			i++;
		fl[k] = (size_t)(l + i - f[k]);
		if (fl[k])
			k++;
		else
			break;
	}
	if (k < 7 || fl[1] != 1 || f[1][0] != '2' || fl[4] > 5 || fl[5] != 1 ||
	        f[5][0] < '2' || f[5][0] > '9')
		return -1;
	*bits = 0;
	for (size_t j = 0; j < fl[4]; j++) {
		if (f[4][j] < '0' || f[4][j] > '9')
			return -1;
		*bits = *bits * 10 + (unsigned)(f[4][j] - '0');
	}
	(*bits)++;
	g->hex = (const char *)f[6];
	g->hexlen = fl[6];
	g->g = (unsigned)(f[5][0] - '0');
	return 0;
}

int
sshkex_gex_choose(uint32_t min, uint32_t n, uint32_t max, const uint8_t *m,
        size_t mn, struct sshkex_group *out)
{
	unsigned best = 0, count = 0, which = 0, bits;
	struct sshkex_group g;

	/* kexgex_server.c: refuse, then clamp to DH_GRP_MIN..DH_GRP_MAX */
	if (max < min || n < min || max < n || max < 2048)
		return -1;
	min = min < 2048 ? 2048 : min;
	max = max > 8192 ? 8192 : max;
	n = n < 2048 ? 2048 : n > 8192 ? 8192 : n;
	for (int pass = 0; pass < 2 && m; pass++) {
		size_t i = 0;
		unsigned seen = 0;
		if (pass == 1) {
			if (!count)
				break;
			lure_random(&which, sizeof which);
			which %= count;
		}
		while (i < mn) {
			size_t e = i;
			while (e < mn && m[e] != '\n')
				e++;
			if (moduli_line(m + i, e - i, &bits, &g) == 0 &&
			        bits <= max && bits >= min) {
				if (pass == 0) {
					if ((bits > n && bits < best) ||
					        (bits > best && best < n)) {
						best = bits;
						count = 0;
					}
					count += bits == best;
				} else if (bits == best && seen++ == which) {
					*out = g;
					return 0;
				}
			}
			i = e + 1;
		}
	}
	/* dh_new_group_fallback(max) */
	fixed_group(max < 3072 ? 14 : max < 6144 ? 16 : 18, out);
	return 0;
}

void
sshkex_gex_put(struct sshkex_buf *b, const struct sshkex_group *grp)
{
	mbedtls_mpi p;
	uint8_t gb = (uint8_t)grp->g;

	mbedtls_mpi_init(&p);
	if (read_prime(&p, grp) != 0)
		b->err = 1;
	put_mpi(b, &p);
	mbedtls_mpi_free(&p);
	sshkex_mpint(b, &gb, 1);
}

int
sshkex_exchange(enum sshkex_kex k, const struct sshkex_group *grp,
        const uint8_t *c, size_t cn, struct sshkex_buf *reply,
        struct sshkex_buf *kout)
{
	struct sshkex_group fixed;
	static uint8_t ct[SNTRUP761_CIPHERTEXT_BYTES + 32];
	uint8_t qs[32], z[32], ks[SNTRUP761_KEY_BYTES + 32], kh[64];
	int rc;

	switch (k) {
	case SSHKEX_X25519:
		if (cn != 32 || x25519(c, qs, z) < 0)
			return -1;
		sshkex_str(reply, qs, 32);
		/* RFC 8731: the 32 bytes as a big-endian number */
		sshkex_mpint(kout, z, 32);
		mbedtls_platform_zeroize(z, sizeof z);
		return reply->err || kout->err ? -1 : 0;
	case SSHKEX_SNTRUP761:
		if (cn != SNTRUP761_PUBLICKEY_BYTES + 32)
			return -1;
		if (sntrup761_enc(ct, ks, c, rng, NULL) != 0)
			return -1;
		rc = x25519(c + SNTRUP761_PUBLICKEY_BYTES,
		        ct + SNTRUP761_CIPHERTEXT_BYTES, ks + 32);
		if (rc == 0)
			rc = mbedtls_sha512_ret(ks, sizeof ks, kh, 0);
		mbedtls_platform_zeroize(ks, sizeof ks);
		if (rc)
			return -1;
		sshkex_str(reply, ct, sizeof ct);
		sshkex_str(kout, kh, 64);
		mbedtls_platform_zeroize(kh, sizeof kh);
		return reply->err || kout->err ? -1 : 0;
	case SSHKEX_P256:
		return ecdh_nist(MBEDTLS_ECP_DP_SECP256R1, c, cn, reply, kout);
	case SSHKEX_P384:
		return ecdh_nist(MBEDTLS_ECP_DP_SECP384R1, c, cn, reply, kout);
	case SSHKEX_P521:
		return ecdh_nist(MBEDTLS_ECP_DP_SECP521R1, c, cn, reply, kout);
	case SSHKEX_DH14:
	case SSHKEX_DH14_SHA1:
	case SSHKEX_DH16:
	case SSHKEX_DH18:
		fixed_group(k == SSHKEX_DH14 || k == SSHKEX_DH14_SHA1 ? 14
		            : k == SSHKEX_DH16                        ? 16
		                                                      : 18,
		        &fixed);
		return dh(&fixed, c, cn, reply, kout);
	case SSHKEX_GEX: return grp ? dh(grp, c, cn, reply, kout) : -1;
	default: return -1;
	}
}
