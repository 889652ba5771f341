/* sshpkt.c: the SSH binary packet protocol (RFC 4253 section 6) as sshd and
 * dropbear frame it: the ciphers chacha20-poly1305@openssh.com, aes*-ctr
 * and aes*-gcm@openssh.com, the MACs hmac-sha1/-sha2-256/-sha2-512 and
 * their -etm@openssh.com forms, sequence numbers, padding, and
 * zlib@openssh.com (src/sshzlib.c) around the payload. Bytes in, payloads
 * out; payloads in, bytes out (emu_send). The length and padding checks
 * and what each daemon says about them are in emu/ssh.c's header. */
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "lure.h"
#include "mbedtls/chacha20.h"
#include "mbedtls/gcm.h"
#include "mbedtls/md.h"
#include "mbedtls/poly1305.h"
#include "sshstate.h"

#define SSH_DB_PKT_MAX 35000 /* dropbear's RECV_MAX_PACKET_LEN */
#define SSH_PKT_LIMIT (256 * 1024) /* sshd's PACKET_MAX_SIZE */

/* Packets are decrypted and built in these (single-threaded; nothing
 * stays in them between calls). 4 bytes before each packet hold the
 * sequence number for the MAC. */
static uint8_t ibuf[4 + SSH_PKT_MAX + 64];
static uint8_t obuf[4 + SSH_OUT_MAX + 128];

/* --- algorithms ------------------------------------------------------------ */
int
sshpkt_cipher(const char *s, size_t n, struct ssh_alg *a)
{
	static const struct {
		const char *name;
		uint8_t cipher, keylen;
	} t[] = {
	        {"chacha20-poly1305@openssh.com", SSH_C_CHACHA, 64},
	        {"aes128-ctr", SSH_C_CTR, 16},
	        {"aes192-ctr", SSH_C_CTR, 24},
	        {"aes256-ctr", SSH_C_CTR, 32},
	        {"aes128-gcm@openssh.com", SSH_C_GCM, 16},
	        {"aes256-gcm@openssh.com", SSH_C_GCM, 32},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strlen(t[i].name) == n && memcmp(t[i].name, s, n) == 0) {
			a->cipher = t[i].cipher;
			a->keylen = t[i].keylen;
			return 0;
		}
	return -1;
}

int
sshpkt_mac(const char *s, size_t n, struct ssh_alg *a)
{
	static const struct {
		const char *name;
		uint8_t mac, etm;
	} t[] = {
	        {"hmac-sha2-256-etm@openssh.com", SSH_H_SHA256, 1},
	        {"hmac-sha2-512-etm@openssh.com", SSH_H_SHA512, 1},
	        {"hmac-sha1-etm@openssh.com", SSH_H_SHA1, 1},
	        {"hmac-sha2-256", SSH_H_SHA256, 0},
	        {"hmac-sha2-512", SSH_H_SHA512, 0},
	        {"hmac-sha1", SSH_H_SHA1, 0},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strlen(t[i].name) == n && memcmp(t[i].name, s, n) == 0) {
			a->mac = t[i].mac;
			a->etm = t[i].etm;
			return 0;
		}
	return -1;
}

size_t
sshpkt_mac_len(uint8_t mac)
{
	return mac == SSH_H_SHA1     ? 20
	       : mac == SSH_H_SHA256 ? 32
	       : mac == SSH_H_SHA512 ? 64
	                             : 0;
}

int
sshpkt_needs_mac(const struct ssh_alg *a)
{
	return a->cipher == SSH_C_CTR;
}

static const mbedtls_md_info_t *
mac_md(uint8_t mac)
{
	return mbedtls_md_info_from_type(mac == SSH_H_SHA1 ? MBEDTLS_MD_SHA1
	                                 : mac == SSH_H_SHA256
	                                         ? MBEDTLS_MD_SHA256
	                                         : MBEDTLS_MD_SHA512);
}

/* Bytes of tag after the packet: AEAD tag or MAC. */
static size_t
tag_len(const struct ssh_alg *a)
{
	if (a->cipher == SSH_C_CHACHA || a->cipher == SSH_C_GCM)
		return 16;
	return a->cipher == SSH_C_NONE ? 0 : sshpkt_mac_len(a->mac);
}

static size_t
block_len(const struct ssh_alg *a)
{
	return a->cipher == SSH_C_CTR || a->cipher == SSH_C_GCM ? 16 : 8;
}

/* OpenSSH's aadlen: the length is outside the padded, aligned part. */
static size_t
aad_len(const struct ssh_alg *a)
{
	return a->cipher == SSH_C_CHACHA || a->cipher == SSH_C_GCM ||
	                       (a->cipher == SSH_C_CTR && a->etm)
	               ? 4
	               : 0;
}

void
sshpkt_keys_free(struct ssh_dir *d)
{
	if (d->ready)
		mbedtls_aes_free(&d->aes);
	memset(d, 0, sizeof *d);
}

/* Put negotiated algorithms and derived keys (iv || key || mackey) in use. */
int
sshpkt_keys(struct ssh_dir *d, const struct ssh_alg *a, const uint8_t *k)
{
	sshpkt_keys_free(d);
	d->a = *a;
	memcpy(d->iv, k, 16);
	memcpy(d->key, k + 16, a->keylen);
	memcpy(d->mackey, k + 16 + 64, 64);
	if (a->cipher == SSH_C_CTR) {
		mbedtls_aes_init(&d->aes);
		d->ready = 1;
		return mbedtls_aes_setkey_enc(
		        &d->aes, d->key, (unsigned)a->keylen * 8);
	}
	return 0;
}

/* AES-GCM over one packet (pkt: length, then len bytes, then the tag).
 * The context lives for this call only: mbedTLS allocates its AES context
 * from the process-wide allocator, which the TLS backend may change. */
static int
gcm_packet(struct ssh_dir *d, int enc, uint8_t *pkt, size_t len)
{
	mbedtls_gcm_context g;
	int rc;

	mbedtls_gcm_init(&g);
	rc = mbedtls_gcm_setkey(
	        &g, MBEDTLS_CIPHER_ID_AES, d->key, (unsigned)d->a.keylen * 8);
	if (!rc && enc)
		rc = mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, len,
		        d->iv, 12, pkt, 4, pkt + 4, pkt + 4, 16, pkt + 4 + len);
	else if (!rc)
		rc = mbedtls_gcm_auth_decrypt(&g, len, d->iv, 12, pkt, 4,
		        pkt + 4 + len, 16, pkt + 4, pkt + 4);
	mbedtls_gcm_free(&g);
	return rc;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
chacha_nonce(uint8_t nonce[12], uint32_t seq)
{
	memset(nonce, 0, 8);
	put32(nonce + 8, seq);
}

static void
gcm_next(struct ssh_dir *d)
{
	for (int i = 11; i >= 4; i--)
		if (++d->iv[i])
			break;
}

static int
ct_differ(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= a[i] ^ b[i];
	return acc != 0;
}

/* --- output ---------------------------------------------------------------- */
/* A writer over obuf's payload area. */
struct sshkex_buf
sshpkt_begin(uint8_t type)
{
	struct sshkex_buf b = {obuf + 4 + 5, 0, SSH_OUT_MAX - 5 - 64, 0};

	sshkex_u8(&b, type);
	return b;
}

struct sshkex_buf
sshpkt_begin_raw(void)
{
	struct sshkex_buf b = {obuf + 4 + 5, 0, SSH_OUT_MAX - 5 - 64, 0};

	return b;
}

/* Pad, protect and queue the packet whose payload is b; -1 closes. */
int
sshpkt_send(struct emu_ctx *ctx, struct ssh_state *st, struct sshkex_buf *b)
{
	struct ssh_dir *d = &st->out;
	uint8_t *pkt = obuf + 4, nonce[12], poly[32];
	size_t bs = block_len(&d->a), aad = aad_len(&d->a);
	size_t pad, len, tl = tag_len(&d->a);

	if (b->err)
		return -1;
	if (st->zlib_on & 2) {
		static uint8_t plain[SSH_OUT_MAX];
		long zn;
		memcpy(plain, b->p, b->n);
		/* room: obuf less the header, the padding and the tag */
		zn = sshzlib_deflate(st->z, plain, b->n, b->p,
		        sizeof obuf - 4 - 5 - 40 - 64);
		if (zn < 0) {
			emu_close(ctx);
			return -1;
		}
		b->n = (size_t)zn;
	}
	pad = bs - ((4 + 1 + b->n - aad) % bs);
	if (pad < 4)
		pad += bs;
	len = 1 + b->n + pad;
	put32(pkt, (uint32_t)len);
	pkt[4] = (uint8_t)pad;
	if (d->a.cipher == SSH_C_NONE && !st->db)
		memset(pkt + 5 + b->n, 0, pad); /* sshd; dropbear: random */
	else
		lure_random(pkt + 5 + b->n, pad);
	put32(obuf, st->seq_out);
	switch (d->a.cipher) {
	case SSH_C_CHACHA:
		chacha_nonce(nonce, st->seq_out);
		memset(poly, 0, sizeof poly);
		if (mbedtls_chacha20_crypt(
		            d->key + 32, nonce, 0, 4, pkt, pkt) ||
		        mbedtls_chacha20_crypt(
		                d->key, nonce, 0, 32, poly, poly) ||
		        mbedtls_chacha20_crypt(
		                d->key, nonce, 1, len, pkt + 4, pkt + 4) ||
		        mbedtls_poly1305_mac(poly, pkt, 4 + len, pkt + 4 + len))
			return -1;
		break;
	case SSH_C_GCM:
		if (gcm_packet(d, 1, pkt, len))
			return -1;
		gcm_next(d);
		break;
	case SSH_C_CTR:
		if (d->a.etm) {
			if (mbedtls_aes_crypt_ctr(&d->aes, len, &d->nc_off,
			            d->iv, d->stream, pkt + 4, pkt + 4) ||
			        mbedtls_md_hmac(mac_md(d->a.mac), d->mackey,
			                sshpkt_mac_len(d->a.mac), obuf, 8 + len,
			                pkt + 4 + len))
				return -1;
		} else {
			if (mbedtls_md_hmac(mac_md(d->a.mac), d->mackey,
			            sshpkt_mac_len(d->a.mac), obuf, 8 + len,
			            pkt + 4 + len) ||
			        mbedtls_aes_crypt_ctr(&d->aes, 4 + len,
			                &d->nc_off, d->iv, d->stream, pkt, pkt))
				return -1;
		}
		break;
	default: break;
	}
	st->seq_out++;
	if (emu_send(ctx, pkt, 4 + len + tl) < 0) {
		emu_close(ctx);
		return -1;
	}
	return 0;
}

void
sshpkt_disconnect(struct emu_ctx *ctx, struct ssh_state *st, uint32_t code,
        const char *msg)
{
	struct sshkex_buf b = sshpkt_begin(SSH_MSG_DISCONNECT);

	sshkex_u32(&b, code);
	sshkex_cstr(&b, msg);
	sshkex_cstr(&b, "");
	(void)sshpkt_send(ctx, st, &b);
	emu_close(ctx);
}

void
sshpkt_unimplemented(struct emu_ctx *ctx, struct ssh_state *st, uint32_t seq)
{
	struct sshkex_buf b = sshpkt_begin(SSH_MSG_UNIMPLEMENTED);

	sshkex_u32(&b, seq);
	(void)sshpkt_send(ctx, st, &b);
}

size_t
sshpkt_in(struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n,
        const uint8_t **pl, size_t *pln)
{
	struct ssh_dir *d = &st->in;
	uint8_t *pkt = ibuf + 4, first[16], nonce[12] = {0}, poly[32], tag[64];
	uint32_t len;
	size_t tl = tag_len(&d->a), bs = block_len(&d->a), total, pad;
	size_t got = bs; /* what dropbear has read when it gives up */

	*pl = NULL;

	if (d->a.cipher == SSH_C_CTR && !d->a.etm) {
		uint8_t ctr[16], stream[16];
		size_t off = d->nc_off;
		if (n < 16)
			return 0;
		memcpy(ctr, d->iv, 16);
		memcpy(stream, d->stream, 16);
		if (mbedtls_aes_crypt_ctr(
		            &d->aes, 16, &off, ctr, stream, p, first))
			goto bad;
	} else {
		/* sshd and dropbear read a whole first block (8 bytes in
		 * clear) before they look at the length */
		if (n < (aad_len(&d->a) ? 4 : bs))
			return 0;
		memcpy(first, p, 4);
		if (d->a.cipher == SSH_C_CHACHA) {
			chacha_nonce(nonce, st->seq_in);
			if (mbedtls_chacha20_crypt(
			            d->key + 32, nonce, 0, 4, p, first))
				goto bad;
		}
	}
	len = sshkex_peek32(first);
	if (st->db) {
		/* dropbear's read_packet_init(): "Integrity error (bad
		 * packet size)"; no minimum padding, see below */
		uint64_t plen = (uint64_t)len + 4 - aad_len(&d->a);
		if (plen < bs || plen % bs ||
		        4 + (uint64_t)len + tl > SSH_DB_PKT_MAX)
			goto bad;
	} else if (len < 5 || len > SSH_PKT_LIMIT)
		goto bad; /* sshd: "Bad packet length", no message */
	if ((len + 4 - aad_len(&d->a)) % bs != 0)
		goto bad; /* sshd: "padding error" */
	total = 4 + len + tl;
	if (total > SSH_PKT_MAX)
		goto bad;
	if (n < total)
		return 0;
	got = total;
	memcpy(pkt, p, total);
	put32(ibuf, st->seq_in);
	switch (d->a.cipher) {
	case SSH_C_CHACHA:
		memset(poly, 0, sizeof poly);
		if (mbedtls_chacha20_crypt(d->key, nonce, 0, 32, poly, poly) ||
		        mbedtls_poly1305_mac(poly, pkt, 4 + len, tag) ||
		        ct_differ(tag, pkt + 4 + len, 16))
			goto bad;
		if (mbedtls_chacha20_crypt(
		            d->key, nonce, 1, len, pkt + 4, pkt + 4))
			goto bad;
		memcpy(pkt, first, 4);
		break;
	case SSH_C_GCM:
		if (gcm_packet(d, 0, pkt, len))
			goto bad;
		gcm_next(d);
		break;
	case SSH_C_CTR:
		if (d->a.etm) {
			if (mbedtls_md_hmac(mac_md(d->a.mac), d->mackey,
			            sshpkt_mac_len(d->a.mac), ibuf, 8 + len,
			            tag) ||
			        ct_differ(tag, pkt + 4 + len, tl))
				goto bad;
			if (mbedtls_aes_crypt_ctr(&d->aes, len, &d->nc_off,
			            d->iv, d->stream, pkt + 4, pkt + 4))
				goto bad;
		} else {
			if (mbedtls_aes_crypt_ctr(&d->aes, 4 + len, &d->nc_off,
			            d->iv, d->stream, pkt, pkt) ||
			        mbedtls_md_hmac(mac_md(d->a.mac), d->mackey,
			                sshpkt_mac_len(d->a.mac), ibuf, 8 + len,
			                tag) ||
			        ct_differ(tag, pkt + 4 + len, tl))
				goto bad;
		}
		break;
	default: break;
	}
	pad = pkt[4];
	if (st->db && pad + 1 >= len)
		goto bad; /* dropbear: "Bad packet size" (no payload) */
	if (pad < 4 && !st->db) {
		char m[48];
		fmt_snprintf(m, sizeof m, "Corrupted padlen %u on input.",
		        (unsigned)pad);
		sshpkt_disconnect(ctx, st, 2, m);
		return n;
	}
	if (pad > len - 2)
		goto bad;
	st->seq_in++;
	if (st->zlib_on & 1) {
		static uint8_t plain[SSH_PKT_MAX];
		long zn = sshzlib_inflate(
		        st->z, pkt + 5, len - 1 - pad, plain, sizeof plain);
		if (zn <= 0)
			goto bad; /* sshd: "decompress: inflate returned" */
		*pl = plain;
		*pln = (size_t)zn;
		return total;
	}
	*pl = pkt + 5;
	*pln = len - 1 - pad;
	return total;
bad:
	/* sshd has read all there was (a FIN); dropbear reads a block, then
	 * the rest of the packet, and exits with the rest unread (an RST) */
	if (st->db && n > got)
		emu_reset(ctx);
	else
		emu_close(ctx);
	return n;
}
