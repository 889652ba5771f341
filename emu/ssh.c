/* ssh.c: an SSH-2 server transport as the persona's daemon speaks it:
 * version exchange, binary packets, KEXINIT, key exchange (src/sshkex.c),
 * NEWKEYS, strict KEX, EXT_INFO, the userauth service with password,
 * keyboard-interactive and publickey captured, and after a "successful"
 * login a session channel into the fake shell (src/shell.c): an exec
 * request is one shell_run() and its exit status, a shell request a
 * prompt and one shell_run() per typed line until the shell says exit.
 *
 * Persona keys (strings are sent as they are; lists are SSH name-lists in
 * the daemon's order, sent in KEXINIT whether or not lure implements every
 * name: a client that settles on one lure lacks is disconnected):
 *   ssh.daemon           "openssh" (default) or "dropbear": whose transport
 *                        and auth rules apply (below)
 *   ssh.version          identification string without CR LF
 *   ssh.kex ssh.hostkey ssh.cipher ssh.mac ssh.compression   KEXINIT lists
 *   ssh.ext_info         repeated "NAME VALUE": EXT_INFO after the first
 *                        NEWKEYS when the client offered ext-info-c
 *   ssh.auth_methods     "publickey,password" (the USERAUTH_FAILURE list)
 *   ssh.accept           repeated "USER:PASSWORD" ("*" for any) that log in
 *   ssh.fail_delay_ms    before a password or keyboard-interactive failure
 *   ssh.fail_jitter_ms   a random 0..N-1 ms more (dropbear: 250 + 100)
 *   ssh.max_auth_tries   failures before "Too many authentication failures"
 *                        (dropbear: the last one closes without a word)
 *   ssh.login_grace_ms   silent close when not logged in by then (0: never)
 *   ssh.rsa_bits         RSA host key size at first start (3072)
 *   ssh.moduli           the file (under files/) GEX picks primes from as
 *                        sshd does from /etc/ssh/moduli ("etc/ssh/moduli";
 *                        absent: the RFC 3526 fallback groups)
 *   ssh.msg_bad_major    sent (and CR LF unless more input is queued, see
 *                        version_done()), then close, on a version other
 *                        than 2 or 1.99
 *   ssh.msg_invalid      the same for a malformed version line
 *   ssh.msg_too_many     the DISCONNECT text at max_auth_tries
 *   ssh.kbd_prompt       keyboard-interactive's one prompt
 *   ssh.notify_hostkeys  1: after a login, announce every host key
 *                        (hostkeys-00@openssh.com) and prove them
 *   ssh.window           the session channel's initial window (0: sshd's
 *                        0, then 2 MiB once a program runs; dropbear: its
 *                        recv_window, 24576 unless -W)
 *   ssh.max_packet       the channel's maximum packet (32768; dropbear
 *                        32759)
 *   ssh.prompt           the prompt when the persona has no shell.prompt
 *                        ("%h": hostname)
 *
 * Events: "request" once the client's KEXINIT is in (lure.ssh.client_version,
 * lure.ssh.hassh, lure.ssh.hassh_algorithms: the HASSH string, kex;enc;mac;
 * compression of client to server), or for a bad version line
 * (lure.ssh.client_version, event.outcome failure), or for a channel other
 * than one session (lure.ssh.channel_type, lure.payload: the open request);
 * "login" per password, keyboard-interactive answer or public key offer
 * (user.name, lure.auth.method, lure.auth.password or lure.ssh.key_type and
 * lure.ssh.key_fingerprint "SHA256:...", event.outcome, the client version
 * and HASSH); "command" per exec request or typed line (user.name, the
 * client version and HASSH, and what shell_run() adds: lure.command,
 * lure.indicators.*, tags).
 *
 * OpenSSH: followed from OpenSSH 9.2p1 (kex.c, packet.c, auth2*.c,
 * serverloop.c) and checked against Debian 12's sshd on loopback (test/
 * persona/test_linux_ssh.py): KEXINIT after the client's version line, zero
 * padding before keys; bad packet lengths, padding errors and MAC failures
 * close without a word, a padding length under 4 with "Corrupted padlen";
 * unexpected messages get UNIMPLEMENTED (a DISCONNECT under strict KEX);
 * "none" does not count as a failure, the max_auth_tries-th failure is a
 * DISCONNECT; another user name on the same connection is a DISCONNECT; the
 * session channel opens with window 0 and gets 2 MiB when a program runs.
 *
 * dropbear (ssh.daemon dropbear): followed from dropbear 2022.83
 * (common-session.c, packet.c, process-packet.c, common-kex.c,
 * common-algo.c, svr-auth*.c) and checked against Debian 12's dropbear on
 * loopback (test/persona/test_dropbear.py): banner and KEXINIT at once,
 * random padding from the first packet; the version line is at most 255
 * bytes (CRs dropped anywhere, the rest read as packets), anything but
 * "SSH-2." or "SSH-1.99-" closes silently; packet length checks without a
 * padding minimum; during a key exchange only the awaited message
 * (requirenext): other transport messages get UNIMPLEMENTED, the rest and
 * anything above 60 before a login close; a wrong guess of the first KEX
 * packet is dropped (kexguess2@matt.ucc.asn.au rule when the client lists
 * it); more than 50 names in a list close; every error closes without a
 * DISCONNECT; failures wait 250-350 ms and count for password and unknown
 * methods, not for none or publickey; no service request needed before
 * userauth; another user name closes.
 *
 * Compression: zlib@openssh.com (src/sshzlib.c) from USERAUTH_SUCCESS on,
 * both directions, as sshd and dropbear delay it; what lure sends is stored
 * deflate blocks (valid for any inflater, larger than sshd's). A persona
 * listing plain "zlib" (compression from NEWKEYS on) is refused at KEXINIT.
 *
 * Not modelled: packets larger than the input buffer (sshd takes 256 KiB,
 * dropbear 35000 bytes), OpenSSH version lines over SSH_VER_KEEP bytes,
 * umac MACs (named in KEXINIT, not implemented: a client that settles on
 * them is disconnected), more than SSHZLIB_POOL compressed sessions at once
 * (the next one is closed after its login), rekeying limits, keepalives,
 * PAM's randomised delay. */
#include <stdio.h>
#include <string.h>

#include "emu.h"
#include "hash.h"
#include "lure.h"
#include "mbedtls/aes.h"
#include "mbedtls/chacha20.h"
#include "mbedtls/gcm.h"
#include "mbedtls/md.h"
#include "mbedtls/poly1305.h"
#include "persona.h"
#include "shell.h"
#include "sshkex.h"
#include "sshzlib.h"

#define SSH_VER_KEEP 256 /* bytes of the client's version line kept */
#define SSH_VER_LIMIT 8192 /* sshd's SSH_MAX_BANNER_LEN */
#define SSH_DB_VER 255 /* dropbear's ident_readln() buffer, less its NUL */
#define SSH_DB_PKT_MAX 35000 /* dropbear's RECV_MAX_PACKET_LEN */
#define SSH_DB_ALGOS 50 /* dropbear's MAX_PROPOSED_ALGO */
#define SSH_PKT_MAX 35000 /* a 32 KiB channel packet; also .in_min */
#define SSH_PKT_LIMIT (256 * 1024) /* sshd's PACKET_MAX_SIZE */
#define SSH_OUT_MAX 8192 /* largest packet built */
#define SSH_USER_MAX 64
#define SSH_WINDOW 2097152 /* sshd's session window and packet size */
#define SSH_MAXPKT 32768

enum {
	M_DISCONNECT = 1,
	M_IGNORE = 2,
	M_UNIMPLEMENTED = 3,
	M_DEBUG = 4,
	M_SERVICE_REQUEST = 5,
	M_SERVICE_ACCEPT = 6,
	M_EXT_INFO = 7,
	M_KEXINIT = 20,
	M_NEWKEYS = 21,
	M_KEX_INIT = 30, /* ECDH_INIT / KEXDH_INIT */
	M_KEX_REPLY = 31, /* ECDH_REPLY / KEXDH_REPLY / GEX_GROUP */
	M_GEX_INIT = 32,
	M_GEX_REPLY = 33,
	M_GEX_REQUEST = 34,
	M_USERAUTH_REQUEST = 50,
	M_USERAUTH_FAILURE = 51,
	M_USERAUTH_SUCCESS = 52,
	M_USERAUTH_INFO_REQUEST = 60,
	M_USERAUTH_INFO_RESPONSE = 61,
	M_GLOBAL_REQUEST = 80,
	M_REQUEST_SUCCESS = 81,
	M_REQUEST_FAILURE = 82,
	M_CHANNEL_OPEN = 90,
	M_CHANNEL_OPEN_CONFIRMATION = 91,
	M_CHANNEL_OPEN_FAILURE = 92,
	M_CHANNEL_WINDOW_ADJUST = 93,
	M_CHANNEL_DATA = 94,
	M_CHANNEL_EXTENDED_DATA = 95,
	M_CHANNEL_EOF = 96,
	M_CHANNEL_CLOSE = 97,
	M_CHANNEL_REQUEST = 98,
	M_CHANNEL_SUCCESS = 99,
	M_CHANNEL_FAILURE = 100,
};

enum ssh_phase {
	P_VERSION, /* reading the client's identification line */
	P_KEXINIT, /* our KEXINIT sent, the client's awaited */
	P_KEX, /* waiting for the client's KEX_INIT (or GEX_REQUEST) */
	P_GEX_INIT, /* GEX group sent, waiting for GEX_INIT */
	P_NEWKEYS, /* our NEWKEYS sent, waiting for the client's */
	P_OPEN, /* keys in place: service, auth, channels */
	P__MAX
};

enum ssh_cipher { C_NONE, C_CHACHA, C_CTR, C_GCM };
enum ssh_mac { H_NONE, H_SHA1, H_SHA256, H_SHA512 };

/* One direction's algorithms and keys. */
struct ssh_alg {
	uint8_t cipher, mac, etm, keylen;
};

struct ssh_dir {
	struct ssh_alg a;
	uint8_t key[64]; /* chacha: K2 || K1 (main, then length key) */
	uint8_t iv[16]; /* CTR counter, or GCM fixed + invocation */
	uint8_t mackey[64];
	uint8_t stream[16];
	size_t nc_off;
	uint8_t ready; /* aes below is set up */
	mbedtls_aes_context aes; /* CTR; GCM builds its context per packet */
};

struct ssh_state {
	uint8_t phase;
	uint8_t strict, first_done, ext_info, skip_next, authed;
	uint8_t failures, max_tries, kbd_pending, chan_open, chan_shell;
	uint8_t pty, delay_msg, zlib, user_set, service;
	/* zlib@openssh.com: negotiated (bit 0 client to server, bit 1 server
	 * to client), and on since USERAUTH_SUCCESS with its context */
	uint8_t zlib_on;
	struct sshzlib *z;
	uint8_t db; /* ssh.daemon dropbear: its transport and auth rules */
	enum sshkex_kex kex;
	enum sshkex_hostkey hk;
	struct sshkex_group gex; /* points into persona data */
	uint32_t seq_in, seq_out, gex_min, gex_n, gex_max;
	uint32_t chan_peer, line_len, peer_win, peer_max;
	uint16_t pend_off, pend_len; /* channel output not yet sent */
	uint8_t pend_exit, exit_status, last_cr;
	uint32_t ver_total; /* bytes of the version line so far */
	int64_t grace_at, delay_at;
	struct ssh_alg next_in, next_out; /* negotiated, not yet in use */
	uint8_t nkey_in[64 + 16 + 64], nkey_out[64 + 16 + 64];
	uint8_t cookie[16];
	uint8_t sid[64], sid_len;
	struct sshkex_hctx h; /* the exchange hash, from KEXINIT on */
	struct ssh_dir in, out;
	char hassh[33];
	uint16_t ver_len, user_len;
	uint8_t ver_cr; /* the version line's last byte was CR */
	char ver[SSH_VER_KEEP + 1];
	char user[SSH_USER_MAX];
	char svc[SSH_USER_MAX];
	uint16_t svc_len;
	char line[SHELL_LINE];
	uint8_t pend[2 * SHELL_OUT + 256];
	struct shell sh; /* the session's fake shell (src/shell.c) */
};

/* Packets are decrypted and built in these (single-threaded; nothing
 * stays in them between calls). 4 bytes before each packet hold the
 * sequence number for the MAC. */
static uint8_t ibuf[4 + SSH_PKT_MAX + 64];
static uint8_t obuf[4 + SSH_OUT_MAX + 128];

static const char *
pget(const char *key, const char *def, size_t *n)
{
	size_t len;
	const char *v = persona_get(key, &len);

	if (!v) {
		v = def;
		len = strlen(def);
	}
	if (n)
		*n = len;
	return v;
}

static int
daemon_is_dropbear(void)
{
	size_t n;
	const char *d = pget("ssh.daemon", "openssh", &n);

	return n == 8 && memcmp(d, "dropbear", 8) == 0;
}

/* --- algorithms ------------------------------------------------------------ */
static int
alg_cipher(const char *s, size_t n, struct ssh_alg *a)
{
	static const struct {
		const char *name;
		uint8_t cipher, keylen;
	} t[] = {
	        {"chacha20-poly1305@openssh.com", C_CHACHA, 64},
	        {"aes128-ctr", C_CTR, 16},
	        {"aes192-ctr", C_CTR, 24},
	        {"aes256-ctr", C_CTR, 32},
	        {"aes128-gcm@openssh.com", C_GCM, 16},
	        {"aes256-gcm@openssh.com", C_GCM, 32},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strlen(t[i].name) == n && memcmp(t[i].name, s, n) == 0) {
			a->cipher = t[i].cipher;
			a->keylen = t[i].keylen;
			return 0;
		}
	return -1;
}

static int
alg_mac(const char *s, size_t n, struct ssh_alg *a)
{
	static const struct {
		const char *name;
		uint8_t mac, etm;
	} t[] = {
	        {"hmac-sha2-256-etm@openssh.com", H_SHA256, 1},
	        {"hmac-sha2-512-etm@openssh.com", H_SHA512, 1},
	        {"hmac-sha1-etm@openssh.com", H_SHA1, 1},
	        {"hmac-sha2-256", H_SHA256, 0},
	        {"hmac-sha2-512", H_SHA512, 0},
	        {"hmac-sha1", H_SHA1, 0},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strlen(t[i].name) == n && memcmp(t[i].name, s, n) == 0) {
			a->mac = t[i].mac;
			a->etm = t[i].etm;
			return 0;
		}
	return -1;
}

static size_t
mac_len(uint8_t mac)
{
	return mac == H_SHA1     ? 20
	       : mac == H_SHA256 ? 32
	       : mac == H_SHA512 ? 64
	                         : 0;
}

static const mbedtls_md_info_t *
mac_md(uint8_t mac)
{
	return mbedtls_md_info_from_type(mac == H_SHA1     ? MBEDTLS_MD_SHA1
	                                 : mac == H_SHA256 ? MBEDTLS_MD_SHA256
	                                                   : MBEDTLS_MD_SHA512);
}

/* Bytes of tag after the packet: AEAD tag or MAC. */
static size_t
tag_len(const struct ssh_alg *a)
{
	if (a->cipher == C_CHACHA || a->cipher == C_GCM)
		return 16;
	return a->cipher == C_NONE ? 0 : mac_len(a->mac);
}

static size_t
block_len(const struct ssh_alg *a)
{
	return a->cipher == C_CTR || a->cipher == C_GCM ? 16 : 8;
}

/* OpenSSH's aadlen: the length is outside the padded, aligned part. */
static size_t
aad_len(const struct ssh_alg *a)
{
	return a->cipher == C_CHACHA || a->cipher == C_GCM ||
	                       (a->cipher == C_CTR && a->etm)
	               ? 4
	               : 0;
}

static void
dir_free(struct ssh_dir *d)
{
	if (d->ready)
		mbedtls_aes_free(&d->aes);
	memset(d, 0, sizeof *d);
}

/* Put negotiated algorithms and derived keys (iv || key || mackey) in use. */
static int
dir_set(struct ssh_dir *d, const struct ssh_alg *a, const uint8_t *k)
{
	dir_free(d);
	d->a = *a;
	memcpy(d->iv, k, 16);
	memcpy(d->key, k + 16, a->keylen);
	memcpy(d->mackey, k + 16 + 64, 64);
	if (a->cipher == C_CTR) {
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
static struct sshkex_buf
pkt_begin(uint8_t type)
{
	struct sshkex_buf b = {obuf + 4 + 5, 0, SSH_OUT_MAX - 5 - 64, 0};

	sshkex_u8(&b, type);
	return b;
}

/* Pad, protect and queue the packet whose payload is b; -1 closes. */
static int
pkt_send(struct emu_ctx *ctx, struct ssh_state *st, struct sshkex_buf *b)
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
	if (d->a.cipher == C_NONE && !st->db)
		memset(pkt + 5 + b->n, 0, pad); /* sshd; dropbear: random */
	else
		lure_random(pkt + 5 + b->n, pad);
	put32(obuf, st->seq_out);
	switch (d->a.cipher) {
	case C_CHACHA:
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
	case C_GCM:
		if (gcm_packet(d, 1, pkt, len))
			return -1;
		gcm_next(d);
		break;
	case C_CTR:
		if (d->a.etm) {
			if (mbedtls_aes_crypt_ctr(&d->aes, len, &d->nc_off,
			            d->iv, d->stream, pkt + 4, pkt + 4) ||
			        mbedtls_md_hmac(mac_md(d->a.mac), d->mackey,
			                mac_len(d->a.mac), obuf, 8 + len,
			                pkt + 4 + len))
				return -1;
		} else {
			if (mbedtls_md_hmac(mac_md(d->a.mac), d->mackey,
			            mac_len(d->a.mac), obuf, 8 + len,
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

static void
send_disconnect(struct emu_ctx *ctx, struct ssh_state *st, uint32_t code,
        const char *msg)
{
	struct sshkex_buf b = pkt_begin(M_DISCONNECT);

	sshkex_u32(&b, code);
	sshkex_cstr(&b, msg);
	sshkex_cstr(&b, "");
	(void)pkt_send(ctx, st, &b);
	emu_close(ctx);
}

static void
send_unimplemented(struct emu_ctx *ctx, struct ssh_state *st, uint32_t seq)
{
	struct sshkex_buf b = pkt_begin(M_UNIMPLEMENTED);

	sshkex_u32(&b, seq);
	(void)pkt_send(ctx, st, &b);
}

/* Our KEXINIT payload (cookie from the state) into b. */
static void
kexinit_put(struct sshkex_buf *b, const struct ssh_state *st)
{
	static const char *const keys[] = {"ssh.kex", "ssh.hostkey",
	        "ssh.cipher", "ssh.cipher", "ssh.mac", "ssh.mac",
	        "ssh.compression", "ssh.compression"};
	size_t n;

	sshkex_u8(b, M_KEXINIT);
	sshkex_put(b, st->cookie, 16);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *v = pget(keys[i], "", &n);
		sshkex_str(b, v, n);
	}
	sshkex_u32(b, 0); /* languages */
	sshkex_u32(b, 0);
	sshkex_u8(b, 0); /* first_kex_packet_follows */
	sshkex_u32(b, 0);
}

static int
send_kexinit(struct emu_ctx *ctx, struct ssh_state *st)
{
	struct sshkex_buf b = {obuf + 4 + 5, 0, SSH_OUT_MAX - 5 - 64, 0};

	lure_random(st->cookie, sizeof st->cookie);
	kexinit_put(&b, st);
	return pkt_send(ctx, st, &b);
}

static void
ssh_timeout(struct emu_ctx *ctx, void *state);

/* --- events ---------------------------------------------------------------- */
static void
ev_common(struct event *e, struct ssh_state *st)
{
	event_bytes(e, "lure.ssh.client_version", st->ver, st->ver_len,
	        EVENT_CAP_DEFAULT);
	if (st->hassh[0])
		event_str(e, "lure.ssh.hassh", st->hassh);
}

static void
ev_login(struct emu_ctx *ctx, struct ssh_state *st, const char *method,
        const uint8_t *pw, size_t pwn, int ok)
{
	struct event *e = emu_event(ctx, "login");

	ev_common(e, st);
	event_bytes(e, "user.name", st->user, st->user_len, EVENT_CAP_DEFAULT);
	event_str(e, "lure.auth.method", method);
	if (pw)
		event_bytes(
		        e, "lure.auth.password", pw, pwn, EVENT_CAP_DEFAULT);
	event_str(e, "event.outcome", ok ? "success" : "failure");
	event_commit(e);
}

/* --- version exchange ------------------------------------------------------ */
/* more: input follows the line. sshd writes its complaint and CR LF in
 * two writes and exits with that input unread: the kernel resets the
 * connection, and Nagle has held the CR LF back, so it never arrives. */
static void
version_done(struct emu_ctx *ctx, struct ssh_state *st, int more)
{
	int major = 0, minor = 0;
	char rest[SSH_VER_KEEP + 1];
	const char *msg = NULL;
	size_t n;

	st->ver[st->ver_len] = 0;
	if (st->ver_total > SSH_VER_KEEP ||
	        sscanf(st->ver, "SSH-%d.%d-%[^\n]\n", &major, &minor, rest) !=
	                3)
		msg = pget("ssh.msg_invalid",
		        "Invalid SSH identification string.", &n);
	else if (!(major == 2 || (major == 1 && minor == 99)))
		msg = pget("ssh.msg_bad_major",
		        "Protocol major versions differ.", &n);
	if (msg) {
		struct event *e = emu_event(ctx, "request");
		ev_common(e, st);
		event_str(e, "event.outcome", "failure");
		event_commit(e);
		(void)emu_send(ctx, msg, n);
		if (!more)
			(void)emu_send(ctx, "\r\n", 2);
		emu_close(ctx);
		return;
	}
	st->phase = P_KEXINIT;
	(void)send_kexinit(ctx, st);
}

/* dropbear's ident_readln(): one line of at most 255 bytes (CRs dropped
 * wherever they are, NUL kept), then "SSH-2." or "SSH-1.99-" or a silent
 * close; its KEXINIT went out with the banner. */
static size_t
version_in_db(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int full = 0;
		if (p[i] == '\r')
			continue;
		if (p[i] != '\n') {
			st->ver[st->ver_len++] = (char)p[i];
			full = ++st->ver_total >= SSH_DB_VER;
		}
		if (p[i] == '\n' || full) {
			st->ver[st->ver_len] = 0;
			if (!(st->ver_len >= 6 &&
			            memcmp(st->ver, "SSH-2.", 6) == 0) &&
			        !(st->ver_len >= 9 &&
			                memcmp(st->ver, "SSH-1.99-", 9) == 0)) {
				struct event *e = emu_event(ctx, "request");
				ev_common(e, st);
				event_str(e, "event.outcome", "failure");
				event_commit(e);
				emu_close(ctx);
				return n;
			}
			st->phase = P_KEXINIT;
			return i + 1;
		}
	}
	return n;
}

/* Take version-line bytes: consumed count. */
static size_t
version_in(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	if (st->db)
		return version_in_db(ctx, st, p, n);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == '\n') {
			version_done(ctx, st, i + 1 < n);
			return i + 1;
		}
		if (c == '\r') {
			st->ver_cr = 1;
			continue;
		}
		if (c == 0 || st->ver_cr || ++st->ver_total > SSH_VER_LIMIT) {
			/* sshd: invalid characters or a line too long */
			st->ver_total = SSH_VER_KEEP + 1;
			version_done(ctx, st, 1);
			return n;
		}
		if (st->ver_len < SSH_VER_KEEP)
			st->ver[st->ver_len++] = (char)c;
	}
	return n;
}

/* --- KEXINIT --------------------------------------------------------------- */
/* First name of the client's list cl that is in the server's list sl. */
static int
negotiate(const uint8_t *cl, size_t cn, const char *sl, size_t sn,
        const char **out, size_t *on)
{
	size_t i = 0;

	while (i < cn) {
		size_t j = i;
		while (j < cn && cl[j] != ',')
			j++;
		for (size_t a = 0; a < sn && j > i;) {
			size_t b = a;
			while (b < sn && sl[b] != ',')
				b++;
			if (b - a == j - i &&
			        memcmp(sl + a, cl + i, j - i) == 0) {
				*out = (const char *)cl + i;
				*on = j - i;
				return 0;
			}
			a = b + 1;
		}
		i = j + 1;
	}
	return -1;
}

static int
list_has(const uint8_t *l, size_t n, const char *name)
{
	size_t k = strlen(name), i = 0;

	while (i < n) {
		size_t j = i;
		while (j < n && l[j] != ',')
			j++;
		if (j - i == k && memcmp(l + i, name, k) == 0)
			return 1;
		i = j + 1;
	}
	return 0;
}

/* The client's list l and the persona's key start with the same name. */
static int
same_first(const uint8_t *l, size_t n, const char *key)
{
	size_t sn, a = 0, b = 0;
	const char *s = pget(key, "", &sn);

	while (a < n && l[a] != ',')
		a++;
	while (b < sn && s[b] != ',')
		b++;
	return a == b && memcmp(l, s, a) == 0;
}

/* The client's list l starts with a name the persona's key lists. */
static int
first_known(const uint8_t *l, size_t n, const char *key)
{
	size_t sn, a = 0, on;
	const char *s = pget(key, "", &sn), *o;

	while (a < n && l[a] != ',')
		a++;
	return a && negotiate(l, a, s, sn, &o, &on) == 0;
}

static void
kexinit_in(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	struct sshkex_buf r = {(uint8_t *)p, 1 + 16, n, 0};
	const uint8_t *l[10];
	size_t ln[10], sn, on;
	const char *sl, *o;
	uint8_t follows;
	struct ssh_alg ci, co;

	for (int i = 0; i < 10; i++)
		l[i] = sshkex_getstr(&r, &ln[i]);
	follows = sshkex_get8(&r);
	(void)sshkex_get32(&r);
	if (r.err) {
		emu_close(ctx);
		return;
	}
	for (int i = 0; st->db && i < 8; i++) {
		size_t commas = 0;
		for (size_t j = 0; j < ln[i]; j++)
			commas += l[i][j] == ',';
		if (commas >= SSH_DB_ALGOS || memchr(l[i], 0, ln[i])) {
			emu_close(ctx); /* "Too many remote algorithms" */
			return;
		}
	}
	if (!st->hassh[0]) {
		/* HASSH: MD5 of kex;enc c2s;mac c2s;comp c2s */
		static char alg[4 * 1024];
		size_t an = 0, room;
		uint8_t md[16];
		struct hash_part part;
		for (int i = 0; i < 4; i++) {
			int k = i == 0 ? 0 : i == 1 ? 2 : i == 2 ? 4 : 6;
			room = an + 3 < sizeof alg ? sizeof alg - 3 - an : 0;
			size_t take = LURE_MIN(ln[k], room);
			memcpy(alg + an, l[k], take);
			an += take;
			if (i < 3)
				alg[an++] = ';';
		}
		part.p = alg;
		part.n = an;
		hash_md5(&part, 1, md);
		hash_hex(md, 16, st->hassh);
		struct event *e = emu_event(ctx, "request");
		ev_common(e, st);
		event_bytes(e, "lure.ssh.hassh_algorithms", alg, an,
		        EVENT_CAP_PAYLOAD);
		event_commit(e);
	}
	/* strict KEX when both sides name it (a persona without
	 * kex-strict-s-v00@openssh.com, e.g. a daemon from before
	 * CVE-2023-48795, keeps counting sequence numbers) */
	sl = pget("ssh.kex", "", &sn);
	if (!st->first_done &&
	        list_has(l[0], ln[0], "kex-strict-c-v00@openssh.com") &&
	        list_has((const uint8_t *)sl, sn,
	                "kex-strict-s-v00@openssh.com")) {
		st->strict = 1;
		if (st->seq_in != 1 && st->db) {
			emu_close(ctx); /* "First packet wasn't kexinit" */
			return;
		}
		if (st->seq_in != 1) {
			send_disconnect(ctx, st, 2,
			        "strict KEX violation: KEXINIT was not the "
			        "first "
			        "packet");
			return;
		}
	}
	if (!st->first_done)
		st->ext_info = list_has(l[0], ln[0], "ext-info-c");

	/* kex, host key, ciphers, MACs, compression */
	sl = pget("ssh.kex", "", &sn);
	if (negotiate(l[0], ln[0], sl, sn, &o, &on) < 0 ||
	        (st->kex = sshkex_kex_find(o, on)) == SSHKEX_NONE)
		goto fail;
	sl = pget("ssh.hostkey", "", &sn);
	if (negotiate(l[1], ln[1], sl, sn, &o, &on) < 0 ||
	        (st->hk = sshkex_hostkey_find(o, on)) == SSHKEX_HK_NONE)
		goto fail;
	memset(&ci, 0, sizeof ci);
	memset(&co, 0, sizeof co);
	sl = pget("ssh.cipher", "", &sn);
	if (negotiate(l[2], ln[2], sl, sn, &o, &on) < 0 ||
	        alg_cipher(o, on, &ci) < 0)
		goto fail;
	if (negotiate(l[3], ln[3], sl, sn, &o, &on) < 0 ||
	        alg_cipher(o, on, &co) < 0)
		goto fail;
	sl = pget("ssh.mac", "", &sn);
	if (ci.cipher == C_CTR &&
	        (negotiate(l[4], ln[4], sl, sn, &o, &on) < 0 ||
	                alg_mac(o, on, &ci) < 0))
		goto fail;
	if (co.cipher == C_CTR &&
	        (negotiate(l[5], ln[5], sl, sn, &o, &on) < 0 ||
	                alg_mac(o, on, &co) < 0))
		goto fail;
	sl = pget("ssh.compression", "", &sn);
	st->zlib = 0;
	for (int i = 6; i < 8; i++) {
		if (negotiate(l[i], ln[i], sl, sn, &o, &on) < 0)
			goto fail;
		if (on == 16 && memcmp(o, "zlib@openssh.com", 16) == 0)
			st->zlib |= (uint8_t)(1 << (i - 6));
		else if (!(on == 4 && memcmp(o, "none", 4) == 0))
			goto fail; /* "zlib" (not delayed): not implemented */
	}
	st->next_in = ci;
	st->next_out = co;

	/* a wrong guess of the client's first KEX packet is skipped: right
	 * only when both sides list the same kex and host key first
	 * (OpenSSH's proposals_match) */
	if (follows && (!same_first(l[0], ln[0], "ssh.kex") ||
	                       !same_first(l[1], ln[1], "ssh.hostkey")))
		st->skip_next = 1;
	/* dropbear's kexguess2: the guess is right when the client's first
	 * kex and host key names are both ones the server has */
	if (follows && st->db &&
	        list_has(l[0], ln[0], "kexguess2@matt.ucc.asn.au"))
		st->skip_next = !first_known(l[0], ln[0], "ssh.kex") ||
		                !first_known(l[1], ln[1], "ssh.hostkey");

	/* H starts with V_C, V_S, I_C, I_S */
	{
		struct sshkex_buf b = {obuf, 0, sizeof obuf, 0};
		const char *vs = pget("ssh.version", "SSH-2.0-OpenSSH", &sn);
		sshkex_hstart(&st->h, sshkex_kex_hash(st->kex));
		/* dropbear hashes its C string: up to a NUL */
		sshkex_hstr(&st->h, st->ver,
		        st->db ? strnlen(st->ver, st->ver_len) : st->ver_len);
		sshkex_hstr(&st->h, vs, sn);
		sshkex_hstr(&st->h, p, n);
		kexinit_put(&b, st);
		sshkex_hstr(&st->h, b.p, b.n);
	}
	st->phase = P_KEX;
	return;
fail:
	/* sshd: "Unable to negotiate", no message */
	emu_close(ctx);
}

/* --- key exchange ---------------------------------------------------------- */
static void
kex_init_in(struct emu_ctx *ctx, struct ssh_state *st, uint8_t type,
        const uint8_t *p, size_t n)
{
	static uint8_t kenc[1100], reply[1200], blob[1024], sig[1100];
	struct sshkex_buf kb = {kenc, 0, sizeof kenc, 0};
	struct sshkex_buf rb = {reply, 0, sizeof reply, 0};
	struct sshkex_buf in = {(uint8_t *)p, 1, n, 0}, out;
	const uint8_t *c;
	size_t cn, bn, sgn, hl = sshkex_hash_len(sshkex_kex_hash(st->kex));
	uint8_t h[64];
	int dh = st->kex >= SSHKEX_DH14;
	const struct persona_file *mf;

	if (st->kex == SSHKEX_GEX && st->phase == P_KEX) {
		if (type != M_GEX_REQUEST)
			goto unexpected;
		st->gex_min = sshkex_get32(&in);
		st->gex_n = sshkex_get32(&in);
		st->gex_max = sshkex_get32(&in);
		mf = persona_file(pget("ssh.moduli", "etc/ssh/moduli", NULL));
		if (in.err || in.n != n ||
		        sshkex_gex_choose(st->gex_min, st->gex_n, st->gex_max,
		                mf ? mf->data : NULL, mf ? mf->len : 0,
		                &st->gex) < 0) {
			emu_close(ctx);
			return;
		}
		out = pkt_begin(M_KEX_REPLY);
		sshkex_gex_put(&out, &st->gex);
		st->phase = P_GEX_INIT;
		(void)pkt_send(ctx, st, &out);
		return;
	}
	if (type != (st->kex == SSHKEX_GEX ? M_GEX_INIT : M_KEX_INIT))
		goto unexpected;
	if (dh) {
		c = p + 1; /* the mpint e with its length */
		cn = n - 1;
	} else {
		c = sshkex_getstr(&in, &cn);
		if (in.err || in.n != n) {
			emu_close(ctx);
			return;
		}
	}
	bn = sshkex_hostkey_blob(st->hk, blob, sizeof blob);
	if (!bn || sshkex_exchange(st->kex, &st->gex, c, cn, &rb, &kb)) {
		emu_close(ctx); /* sshd: a bad public value ends it too */
		return;
	}
	sshkex_hstr(&st->h, blob, bn);
	if (st->kex == SSHKEX_GEX) {
		struct sshkex_buf g = {sig, 0, sizeof sig, 0};
		uint8_t mm[12];
		put32(mm, st->gex_min);
		put32(mm + 4, st->gex_n);
		put32(mm + 8, st->gex_max);
		sshkex_hupdate(&st->h, mm, 12);
		sshkex_gex_put(&g, &st->gex);
		sshkex_hupdate(&st->h, sig, g.n);
	}
	if (dh)
		sshkex_hupdate(&st->h, c, cn);
	else
		sshkex_hstr(&st->h, c, cn);
	sshkex_hupdate(&st->h, reply, rb.n);
	sshkex_hupdate(&st->h, kenc, kb.n);
	sshkex_hfinish(&st->h, h);
	if (!st->sid_len) {
		memcpy(st->sid, h, hl);
		st->sid_len = (uint8_t)hl;
	}
	sgn = sshkex_sign(st->hk, h, hl, sig, sizeof sig);
	if (!sgn) {
		emu_close(ctx);
		return;
	}
	/* keys: A/C/E client to server, B/D/F server to client */
	{
		enum sshkex_hash ha = sshkex_kex_hash(st->kex);
		sshkex_derive(
		        ha, kenc, kb.n, h, st->sid, hl, 'A', st->nkey_in, 16);
		sshkex_derive(
		        ha, kenc, kb.n, h, st->sid, hl, 'B', st->nkey_out, 16);
		sshkex_derive(ha, kenc, kb.n, h, st->sid, hl, 'C',
		        st->nkey_in + 16, st->next_in.keylen);
		sshkex_derive(ha, kenc, kb.n, h, st->sid, hl, 'D',
		        st->nkey_out + 16, st->next_out.keylen);
		sshkex_derive(ha, kenc, kb.n, h, st->sid, hl, 'E',
		        st->nkey_in + 80, mac_len(st->next_in.mac));
		sshkex_derive(ha, kenc, kb.n, h, st->sid, hl, 'F',
		        st->nkey_out + 80, mac_len(st->next_out.mac));
	}
	out = pkt_begin(st->kex == SSHKEX_GEX ? M_GEX_REPLY : M_KEX_REPLY);
	sshkex_str(&out, blob, bn);
	sshkex_put(&out, reply, rb.n);
	sshkex_str(&out, sig, sgn);
	if (pkt_send(ctx, st, &out) < 0)
		return;
	out = pkt_begin(M_NEWKEYS);
	if (pkt_send(ctx, st, &out) < 0)
		return;
	if (dir_set(&st->out, &st->next_out, st->nkey_out)) {
		emu_close(ctx);
		return;
	}
	if (st->strict)
		st->seq_out = 0;
	st->phase = P_NEWKEYS;
	if (st->ext_info && !st->first_done) {
		size_t i = 0, cnt = 0;
		const struct persona_kv *kv;
		out = pkt_begin(M_EXT_INFO);
		while (persona_next("ssh.ext_info", &i))
			cnt++;
		sshkex_u32(&out, (uint32_t)cnt);
		i = 0;
		while ((kv = persona_next("ssh.ext_info", &i))) {
			const char *sp = memchr(kv->val, ' ', kv->len);
			size_t k = sp ? (size_t)(sp - kv->val) : kv->len;
			sshkex_str(&out, kv->val, k);
			sshkex_str(&out, kv->val + k + (sp != NULL),
			        kv->len - k - (sp != NULL));
		}
		(void)pkt_send(ctx, st, &out);
	}
	return;
unexpected:
	if (st->strict && !st->first_done) {
		char m[96];
		snprintf(m, sizeof m,
		        "strict KEX violation: unexpected packet type %u "
		        "(seqnr %u)",
		        type, st->seq_in - 1);
		send_disconnect(ctx, st, 2, m);
		return;
	}
	send_unimplemented(ctx, st, st->seq_in - 1);
}

/* --- userauth -------------------------------------------------------------- */
static int
accepted(const struct ssh_state *st, const uint8_t *pw, size_t pwn)
{
	return persona_accepts("ssh.accept", st->user, st->user_len, pw, pwn);
}

static void
auth_failure_now(struct emu_ctx *ctx, struct ssh_state *st)
{
	size_t n;
	const char *m = pget("ssh.auth_methods", "publickey,password", &n);
	struct sshkex_buf b = pkt_begin(M_USERAUTH_FAILURE);

	sshkex_str(&b, m, n);
	sshkex_u8(&b, 0);
	(void)pkt_send(ctx, st, &b);
}

/* A counted failure: the reply (or the DISCONNECT) after delay_ms. */
static void
auth_failed(struct emu_ctx *ctx, struct ssh_state *st, long delay_ms)
{
	st->failures++;
	st->delay_msg = st->failures >= st->max_tries ? 2 : 1;
	st->delay_at = 0;
	if (delay_ms > 0) {
		st->delay_at = lure_now() + delay_ms;
		emu_wake(ctx, delay_ms);
		return;
	}
	ssh_timeout(ctx, st);
}

static void
auth_success(struct emu_ctx *ctx, struct ssh_state *st)
{
	static const enum sshkex_hostkey keys[] = {
	        SSHKEX_HK_RSA512, SSHKEX_HK_ECDSA, SSHKEX_HK_ED25519};
	struct sshkex_buf b = pkt_begin(M_USERAUTH_SUCCESS);
	uint8_t blob[1024];

	st->authed = 1;
	if (pkt_send(ctx, st, &b) < 0)
		return;
	if (st->zlib) {
		/* sshd's delayed compression starts in both directions
		 * right after USERAUTH_SUCCESS */
		if (!st->z && !(st->z = sshzlib_get())) {
			emu_close(ctx); /* every context in use */
			return;
		}
		st->zlib_on = st->zlib;
	}
	if (!persona_int("ssh.notify_hostkeys", 0))
		return;
	/* sshd's notify_hostkeys(): every host key, for UpdateHostKeys */
	b = pkt_begin(M_GLOBAL_REQUEST);
	sshkex_cstr(&b, "hostkeys-00@openssh.com");
	sshkex_u8(&b, 0);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		size_t n = sshkex_hostkey_blob(keys[i], blob, sizeof blob);
		if (n)
			sshkex_str(&b, blob, n);
	}
	(void)pkt_send(ctx, st, &b);
}

/* hostkeys-prove-00@openssh.com: a signature by each named host key over
 * (the request name, the session id, the key), as sshd makes them. */
static void
hostkeys_prove(struct emu_ctx *ctx, struct ssh_state *st, struct sshkex_buf *r)
{
	static const enum sshkex_hostkey keys[] = {
	        SSHKEX_HK_RSA512, SSHKEX_HK_ECDSA, SSHKEX_HK_ED25519};
	static const char name[] = "hostkeys-prove-00@openssh.com";
	uint8_t mine[1024], msg[1200], sig[1100];
	struct sshkex_buf b = pkt_begin(M_REQUEST_SUCCESS);

	while (r->n < r->cap && !r->err) {
		size_t bn, mn, sn = 0;
		const uint8_t *blob = sshkex_getstr(r, &bn);
		enum sshkex_hostkey k = SSHKEX_HK_NONE;
		struct sshkex_buf m = {msg, 0, sizeof msg, 0};
		for (size_t i = 0; blob && i < sizeof keys / sizeof keys[0];
		        i++) {
			mn = sshkex_hostkey_blob(keys[i], mine, sizeof mine);
			if (mn && mn == bn && memcmp(mine, blob, bn) == 0)
				k = keys[i];
		}
		/* RSA: the negotiated rsa-sha2 flavour, else SHA-512 */
		if (k == SSHKEX_HK_RSA512 && st->hk == SSHKEX_HK_RSA256)
			k = SSHKEX_HK_RSA256;
		sshkex_str(&m, name, sizeof name - 1);
		sshkex_str(&m, st->sid, st->sid_len);
		sshkex_str(&m, blob, bn);
		if (k != SSHKEX_HK_NONE && !m.err)
			sn = sshkex_sign(k, msg, m.n, sig, sizeof sig);
		if (!sn) {
			b = pkt_begin(M_REQUEST_FAILURE);
			break;
		}
		sshkex_str(&b, sig, sn);
	}
	(void)pkt_send(ctx, st, &b);
}

/* ssh.fail_delay_ms plus a random part under ssh.fail_jitter_ms */
static long
fail_delay(void)
{
	long d = persona_int("ssh.fail_delay_ms", 2600);
	long j = persona_int("ssh.fail_jitter_ms", 0);
	uint32_t r;

	if (j > 0) {
		lure_random(&r, sizeof r);
		d += (long)(r % (uint32_t)j);
	}
	return d;
}

static void
password_in(struct emu_ctx *ctx, struct ssh_state *st, const char *method,
        const uint8_t *pw, size_t pwn)
{
	int ok = accepted(st, pw, pwn);

	ev_login(ctx, st, method, pw, pwn, ok);
	if (ok) {
		auth_success(ctx, st);
		return;
	}
	auth_failed(ctx, st, fail_delay());
}

static int
method_allowed(const char *m)
{
	size_t n, k = strlen(m);
	const char *l = pget("ssh.auth_methods", "publickey,password", &n);

	return k && list_has((const uint8_t *)l, n, m);
}

static void
userauth_in(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	struct sshkex_buf r = {(uint8_t *)p, 1, n, 0};
	const uint8_t *user, *svc, *meth;
	size_t un, sn, mn;

	user = sshkex_getstr(&r, &un);
	svc = sshkex_getstr(&r, &sn);
	meth = sshkex_getstr(&r, &mn);
	if (r.err) {
		emu_close(ctx);
		return;
	}
	/* dropbear: "unknown service in auth" (its test lets any 14-byte
	 * name and any name starting "ssh-connection" pass) and "Attempted
	 * username with a null byte" end it */
	if (st->db &&
	        ((sn != 14 && (sn < 14 || memcmp(svc, "ssh-connection", 14))) ||
	                (un <= 100 && memchr(user, 0, un)))) {
		emu_close(ctx);
		return;
	}
	if (st->user_set &&
	        (LURE_MIN(un, sizeof st->user) != st->user_len ||
	                memcmp(user, st->user, st->user_len) ||
	                (!st->db &&
	                        (LURE_MIN(sn, sizeof st->svc) != st->svc_len ||
	                                memcmp(svc, st->svc, st->svc_len))))) {
		/* sshd: "Change of username or service not allowed"; the
		 * password it never looks at is logged all the same */
		char m[200];
		if (mn == 8 && memcmp(meth, "password", 8) == 0) {
			const uint8_t *pw;
			size_t pwn;
			struct event *e;
			(void)sshkex_get8(&r);
			pw = sshkex_getstr(&r, &pwn);
			e = emu_event(ctx, "login");
			ev_common(e, st);
			event_bytes(
			        e, "user.name", user, un, EVENT_CAP_DEFAULT);
			event_str(e, "lure.auth.method", "password");
			if (pw)
				event_bytes(e, "lure.auth.password", pw, pwn,
				        EVENT_CAP_DEFAULT);
			event_str(e, "event.outcome", "failure");
			event_commit(e);
		}
		snprintf(m, sizeof m,
		        "Change of username or service not allowed: "
		        "(%.*s,%.*s) -> (%.*s,%.*s)",
		        (int)st->user_len, st->user, (int)st->svc_len, st->svc,
		        (int)LURE_MIN(un, 64), (const char *)user,
		        (int)LURE_MIN(sn, 64), (const char *)svc);
		if (st->db)
			emu_close(ctx); /* "Client trying multiple usernames" */
		else
			send_disconnect(ctx, st, 2, m);
		return;
	}
	if (!st->user_set) {
		st->user_set = 1;
		st->user_len = (uint16_t)LURE_MIN(un, sizeof st->user);
		memcpy(st->user, user, st->user_len);
		st->svc_len = (uint16_t)LURE_MIN(sn, sizeof st->svc);
		memcpy(st->svc, svc, st->svc_len);
	}
	st->kbd_pending = 0;
	if (mn == 8 && memcmp(meth, "password", 8) == 0 &&
	        method_allowed("password")) {
		const uint8_t *pw;
		size_t pwn;
		(void)sshkex_get8(&r);
		pw = sshkex_getstr(&r, &pwn);
		if (r.err) {
			emu_close(ctx);
			return;
		}
		password_in(ctx, st, "password", pw, pwn);
		return;
	}
	if (mn == 20 && memcmp(meth, "keyboard-interactive", 20) == 0 &&
	        method_allowed("keyboard-interactive")) {
		size_t pn;
		const char *pr = pget("ssh.kbd_prompt", "Password: ", &pn);
		struct sshkex_buf b = pkt_begin(M_USERAUTH_INFO_REQUEST);
		sshkex_cstr(&b, "");
		sshkex_cstr(&b, "");
		sshkex_cstr(&b, "");
		sshkex_u32(&b, 1);
		sshkex_str(&b, pr, pn);
		sshkex_u8(&b, 0);
		st->kbd_pending = 1;
		(void)pkt_send(ctx, st, &b);
		return;
	}
	if (mn == 9 && memcmp(meth, "publickey", 9) == 0 &&
	        method_allowed("publickey")) {
		const uint8_t *alg, *blob;
		size_t an, bn;
		uint8_t fp[32];
		char b64[48], fps[64];
		struct event *e;
		(void)sshkex_get8(&r);
		alg = sshkex_getstr(&r, &an);
		blob = sshkex_getstr(&r, &bn);
		if (r.err) {
			emu_close(ctx);
			return;
		}
		(void)mbedtls_sha256_ret(blob, bn, fp, 0);
		n = hash_b64(fp, 32, b64);
		while (n && b64[n - 1] == '=')
			n--;
		b64[n] = 0;
		snprintf(fps, sizeof fps, "SHA256:%s", b64);
		e = emu_event(ctx, "login");
		ev_common(e, st);
		event_bytes(e, "user.name", st->user, st->user_len,
		        EVENT_CAP_DEFAULT);
		event_str(e, "lure.auth.method", "publickey");
		event_bytes(e, "lure.ssh.key_type", alg, an, EVENT_CAP_DEFAULT);
		event_str(e, "lure.ssh.key_fingerprint", fps);
		event_str(e, "event.outcome", "failure");
		event_commit(e);
		if (st->db) /* dropbear: no delay, not counted */
			auth_failure_now(ctx, st);
		else
			auth_failed(ctx, st, 0);
		return;
	}
	if (mn == 4 && memcmp(meth, "none", 4) == 0) {
		auth_failure_now(ctx, st);
		return;
	}
	/* an unknown method: sshd counts it at once, dropbear after its
	 * failure delay */
	auth_failed(ctx, st, st->db ? fail_delay() : 0);
}

static void
info_response_in(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	struct sshkex_buf r = {(uint8_t *)p, 1, n, 0};
	uint32_t cnt = sshkex_get32(&r);
	const uint8_t *a = NULL;
	size_t an = 0;

	if (cnt >= 1)
		a = sshkex_getstr(&r, &an);
	if (r.err || cnt > 100) {
		emu_close(ctx);
		return;
	}
	st->kbd_pending = 0;
	password_in(ctx, st, "keyboard-interactive",
	        a ? a : (const uint8_t *)"", an);
}

/* --- connection ------------------------------------------------------------ */
/* The session channel's output goes through st->pend (CR LF already made
 * for a pty) and leaves as CHANNEL_DATA within the client's window and
 * maximum packet and the room in the core's output buffer: what does not
 * fit waits for a WINDOW_ADJUST or, for room, a short wake-up (which also
 * holds the input back). pend_exit: close the channel with exit_status
 * once it is empty. */
static void
chan_close(struct emu_ctx *ctx, struct ssh_state *st, int status)
{
	struct sshkex_buf b = pkt_begin(M_CHANNEL_EOF);

	sshkex_u32(&b, st->chan_peer);
	if (pkt_send(ctx, st, &b) < 0)
		return;
	b = pkt_begin(M_CHANNEL_REQUEST);
	sshkex_u32(&b, st->chan_peer);
	sshkex_cstr(&b, "exit-status");
	sshkex_u8(&b, 0);
	sshkex_u32(&b, (uint32_t)status);
	if (pkt_send(ctx, st, &b) < 0)
		return;
	b = pkt_begin(M_CHANNEL_CLOSE);
	sshkex_u32(&b, st->chan_peer);
	(void)pkt_send(ctx, st, &b);
	st->chan_open = 2; /* closing */
}

static void
chan_flush(struct emu_ctx *ctx, struct ssh_state *st)
{
	while (st->pend_off < st->pend_len && st->chan_open == 1) {
		size_t n = st->pend_len - st->pend_off, room = emu_space(ctx);
		struct sshkex_buf b;
		n = LURE_MIN(n, st->peer_win);
		n = LURE_MIN(n, st->peer_max);
		n = LURE_MIN(n, SSH_OUT_MAX - 256);
		if (room < 256) {
			emu_wake(ctx, 20);
			return;
		}
		n = LURE_MIN(n, room - 192);
		if (!n)
			return; /* the client's window is shut */
		b = pkt_begin(M_CHANNEL_DATA);
		sshkex_u32(&b, st->chan_peer);
		sshkex_str(&b, st->pend + st->pend_off, n);
		if (pkt_send(ctx, st, &b) < 0)
			return;
		st->peer_win -= (uint32_t)n;
		st->pend_off += (uint16_t)n;
	}
	st->pend_off = st->pend_len = 0;
	if (st->pend_exit && st->chan_open == 1) {
		st->pend_exit = 0;
		chan_close(ctx, st, st->exit_status);
	}
}

/* Queue p[0..n) for the channel; lf: turn '\n' into "\r\n" (a pty). What
 * does not fit is cut. */
static void
chan_put(struct ssh_state *st, const uint8_t *p, size_t n, int lf)
{
	for (size_t i = 0; i < n; i++) {
		if (lf && p[i] == '\n' && st->pend_len < sizeof st->pend)
			st->pend[st->pend_len++] = '\r';
		if (st->pend_len < sizeof st->pend)
			st->pend[st->pend_len++] = p[i];
	}
}

/* The shell's prompt (shell.prompt), or for a persona without one the
 * fixed ssh.prompt ("%h": the hostname). None without a pty: the shell
 * reads a pipe and is not interactive. */
static void
chan_prompt(struct emu_ctx *ctx, struct ssh_state *st)
{
	char buf[256];
	size_t n, vn, o = 0;
	const char *v;

	if (!st->pty)
		return;
	if (persona_get("shell.prompt", NULL)) {
		n = shell_prompt(&st->sh, ctx, buf, sizeof buf);
		chan_put(st, (const uint8_t *)buf, n, 0);
		return;
	}
	v = pget("ssh.prompt", "$ ", &vn);
	for (size_t i = 0; i < vn && o < sizeof buf; i++) {
		if (v[i] == '%' && i + 1 < vn && v[i + 1] == 'h') {
			const char *h = emu_hostname(ctx);
			size_t hl = LURE_MIN(strlen(h), sizeof buf - o);
			memcpy(buf + o, h, hl);
			o += hl;
			i++;
			continue;
		}
		buf[o++] = v[i];
	}
	chan_put(st, (const uint8_t *)buf, o, 0);
}

/* What a login with a terminal shows before the first prompt: the output
 * of ssh.motd_cmd run by the fake shell (no event), then ssh.motd. */
static void
chan_motd(struct emu_ctx *ctx, struct ssh_state *st)
{
	static uint8_t out[SHELL_OUT];
	size_t n, on = 0;
	const char *v = persona_get("ssh.motd_cmd", &n);

	if (v) {
		(void)shell_run(&st->sh, ctx, NULL, (const uint8_t *)v, n, out,
		        sizeof out, &on);
		chan_put(st, out, on, 1);
	}
	if ((v = persona_get("ssh.motd", &n)))
		chan_put(st, (const uint8_t *)v, n, 1);
}

/* One command line through the fake shell: a "command" event, its output
 * queued. interactive: a shell with a terminal (only that one says
 * shell.logout when it ends: not `bash -c`, not a shell reading a pipe).
 * Returns the shell's verdict. */
static enum shell_result
chan_run(struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n,
        int interactive)
{
	static uint8_t out[SHELL_OUT], err[1024];
	size_t on = 0;
	struct event *e = emu_event(ctx, "command");
	enum shell_result r;

	ev_common(e, st);
	event_bytes(e, "user.name", st->user, st->user_len, EVENT_CAP_DEFAULT);
	/* without a pty stderr is its own stream: EXTENDED_DATA */
	st->sh.err = st->pty ? NULL : err;
	st->sh.err_cap = sizeof err;
	r = shell_run(&st->sh, ctx, e, p, n, out, sizeof out, &on);
	event_commit(e);
	if (st->sh.err && st->sh.err_len) {
		size_t en = LURE_MIN(st->sh.err_len, st->peer_win);
		en = LURE_MIN(en, st->peer_max);
		if (en) {
			struct sshkex_buf b =
			        pkt_begin(M_CHANNEL_EXTENDED_DATA);
			sshkex_u32(&b, st->chan_peer);
			sshkex_u32(&b, 1); /* SSH_EXTENDED_DATA_STDERR */
			sshkex_str(&b, err, en);
			if (pkt_send(ctx, st, &b) < 0)
				return SHELL_EXIT;
			st->peer_win -= (uint32_t)en;
		}
	}
	if (r == SHELL_EXIT && !interactive) {
		size_t tl;
		const char *t = persona_get("shell.logout", &tl);
		if (t && tl <= on && memcmp(out + on - tl, t, tl) == 0)
			on -= tl;
	}
	chan_put(st, out, on, st->pty);
	st->exit_status = st->sh.last_status;
	return r;
}

/* Typed bytes of a shell session: pty echo and line editing (BS/DEL, ^C,
 * ^D on an empty line, ^U), each line through the shell. */
static void
chan_typed(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *d, size_t dn)
{
	for (size_t i = 0; i < dn && !st->pend_exit; i++) {
		uint8_t c = d[i];
		if (c == '\r' || c == '\n') {
			if (c == '\n' && st->last_cr) {
				st->last_cr = 0;
				continue; /* CR LF: one line end */
			}
			st->last_cr = c == '\r';
			if (st->pty)
				chan_put(st, (const uint8_t *)"\r\n", 2, 0);
			if (st->line_len &&
			        chan_run(ctx, st, (uint8_t *)st->line,
			                st->line_len, st->pty) == SHELL_EXIT) {
				st->line_len = 0;
				st->pend_exit = 1;
				break;
			}
			st->line_len = 0;
			chan_prompt(ctx, st);
			continue;
		}
		st->last_cr = 0;
		if (!st->pty) {
			if (st->line_len < sizeof st->line)
				st->line[st->line_len++] = (char)c;
			continue;
		}
		if (c == 0x7f || c == 0x08) {
			if (st->line_len) {
				st->line_len--;
				chan_put(st, (const uint8_t *)"\b \b", 3, 0);
			}
		} else if (c == 0x03) { /* ^C: the line is dropped */
			chan_put(st, (const uint8_t *)"^C\r\n", 4, 0);
			st->line_len = 0;
			chan_prompt(ctx, st);
		} else if (c == 0x15) { /* ^U */
			while (st->line_len) {
				st->line_len--;
				chan_put(st, (const uint8_t *)"\b \b", 3, 0);
			}
		} else if (c == 0x04) { /* ^D: logout on an empty line */
			if (!st->line_len) {
				chan_put(st, (const uint8_t *)"\r\n", 2, 0);
				st->exit_status = 0;
				st->pend_exit = 1;
			}
		} else if (c >= 0x20 || c == '\t' || c == 0x1b) {
			if (st->line_len < sizeof st->line) {
				st->line[st->line_len++] = (char)c;
				chan_put(st, &c, 1, 0);
			}
		}
	}
	chan_flush(ctx, st);
}

static void
channel_in(struct emu_ctx *ctx, struct ssh_state *st, uint8_t type,
        const uint8_t *p, size_t n)
{
	struct sshkex_buf r = {(uint8_t *)p, 1, n, 0}, b;

	if (type == M_CHANNEL_OPEN) {
		size_t tn;
		const uint8_t *t = sshkex_getstr(&r, &tn);
		uint32_t peer = sshkex_get32(&r);
		uint32_t win = sshkex_get32(&r), max = sshkex_get32(&r);
		if (r.err) {
			emu_close(ctx);
			return;
		}
		if (tn == 7 && memcmp(t, "session", 7) == 0 && !st->chan_open) {
			st->chan_peer = peer;
			st->chan_open = 1;
			st->peer_win = win;
			st->peer_max = max;
			/* sshd opens with window 0 and grants it once a
			 * program runs; dropbear gives its recv_window */
			b = pkt_begin(M_CHANNEL_OPEN_CONFIRMATION);
			sshkex_u32(&b, peer);
			sshkex_u32(&b, 0);
			sshkex_u32(&b, (uint32_t)persona_int("ssh.window", 0));
			sshkex_u32(&b, (uint32_t)persona_int(
			                       "ssh.max_packet", SSH_MAXPKT));
		} else {
			struct event *e = emu_event(ctx, "request");
			ev_common(e, st);
			event_bytes(e, "lure.ssh.channel_type", t, tn,
			        EVENT_CAP_DEFAULT);
			event_bytes(e, "lure.payload", p, n, EVENT_CAP_PAYLOAD);
			event_commit(e);
			b = pkt_begin(M_CHANNEL_OPEN_FAILURE);
			sshkex_u32(&b, peer);
			sshkex_u32(&b, 1);
			sshkex_cstr(&b, "administratively prohibited");
			sshkex_cstr(&b, "");
		}
		(void)pkt_send(ctx, st, &b);
		return;
	}
	if (sshkex_get32(&r) != 0 || r.err)
		return; /* not our channel */
	if (st->chan_open == 2) {
		/* ours is closed; the client's CLOSE frees the channel for
		 * the next session (clients that run commands one after
		 * the other on one connection) */
		if (type == M_CHANNEL_CLOSE) {
			st->chan_open = st->chan_shell = st->pty = 0;
			st->pend_off = st->pend_len = st->pend_exit = 0;
			st->line_len = 0;
		}
		return;
	}
	if (st->chan_open != 1)
		return;
	if (type == M_CHANNEL_WINDOW_ADJUST) {
		uint32_t add = sshkex_get32(&r);
		if (!r.err)
			st->peer_win = add > UINT32_MAX - st->peer_win
			                       ? UINT32_MAX
			                       : st->peer_win + add;
		chan_flush(ctx, st);
		return;
	}
	if (type == M_CHANNEL_REQUEST) {
		size_t rn, cn;
		const uint8_t *req = sshkex_getstr(&r, &rn), *cmd = NULL;
		uint8_t want = sshkex_get8(&r);
		int ok = 0, run = 0, shell = 0;
		if (r.err) {
			emu_close(ctx);
			return;
		}
		if (rn == 4 && memcmp(req, "exec", 4) == 0 && !st->chan_shell) {
			cmd = sshkex_getstr(&r, &cn);
			ok = run = !r.err;
		} else if (rn == 5 && memcmp(req, "shell", 5) == 0 &&
		           !st->chan_shell) {
			ok = shell = 1;
		} else if ((rn == 7 && memcmp(req, "pty-req", 7) == 0)) {
			ok = st->pty = 1;
		} else if (rn == 3 && memcmp(req, "env", 3) == 0) {
			ok = 1;
		} else if (rn == 13 && memcmp(req, "window-change", 13) == 0) {
			ok = 1;
		}
		if ((run || shell) && !persona_int("ssh.window", 0)) {
			b = pkt_begin(M_CHANNEL_WINDOW_ADJUST);
			sshkex_u32(&b, st->chan_peer);
			sshkex_u32(&b, SSH_WINDOW);
			if (pkt_send(ctx, st, &b) < 0)
				return;
		}
		if (want) {
			b = pkt_begin(
			        ok ? M_CHANNEL_SUCCESS : M_CHANNEL_FAILURE);
			sshkex_u32(&b, st->chan_peer);
			if (pkt_send(ctx, st, &b) < 0)
				return;
		}
		if (run || shell) {
			st->chan_shell = 1;
			shell_init(&st->sh, st->user, st->user_len);
			/* sshd runs "$SHELL -c CMD" for an exec */
			st->sh.exec = (uint8_t)run;
		}
		if (run) {
			(void)chan_run(ctx, st, cmd, cn, 0);
			st->pend_exit = 1;
			chan_flush(ctx, st);
		} else if (shell) {
			if (st->pty)
				chan_motd(ctx, st);
			chan_prompt(ctx, st);
			chan_flush(ctx, st);
		}
		return;
	}
	if (type == M_CHANNEL_DATA && st->chan_shell && !st->pend_exit) {
		size_t dn;
		const uint8_t *d = sshkex_getstr(&r, &dn);
		if (!r.err)
			chan_typed(ctx, st, d, dn);
		return;
	}
	if (type == M_CHANNEL_CLOSE) {
		/* the client closes first: ours goes back, the channel is
		 * free again */
		chan_close(ctx, st, st->sh.last_status);
		st->chan_open = st->chan_shell = st->pty = 0;
		st->pend_off = st->pend_len = st->pend_exit = 0;
		st->line_len = 0;
		return;
	}
	if (type == M_CHANNEL_EOF) {
		if (st->chan_shell && !st->pend_exit) {
			st->exit_status = st->sh.last_status;
			st->pend_exit = 1;
			chan_flush(ctx, st);
		}
		return;
	}
}

/* --- packets --------------------------------------------------------------- */
/* dropbear's process_packet() before its handlers: during a key exchange
 * only the awaited message (ses.requirenext); other transport messages get
 * UNIMPLEMENTED, the rest end the session, as does anything above 60
 * before a login. 1: the packet is dealt with. */
static int
db_filter(struct emu_ctx *ctx, struct ssh_state *st, uint8_t type)
{
	int first_strict = st->strict && !st->first_done;
	uint8_t need = st->phase == P_KEXINIT   ? M_KEXINIT
	               : st->phase == P_KEX     ? M_KEX_INIT
	               : st->phase == P_NEWKEYS ? M_NEWKEYS
	                                        : 0;

	if (type == M_DISCONNECT) {
		emu_close(ctx);
		return 1;
	}
	if (!first_strict && (type == M_IGNORE || type == M_DEBUG ||
	                             type == M_UNIMPLEMENTED))
		return 1;
	if (need && type != need) {
		if (type >= 1 && type <= 49 && type != M_SERVICE_REQUEST &&
		        type != M_SERVICE_ACCEPT && type != M_KEXINIT &&
		        !first_strict)
			send_unimplemented(ctx, st, st->seq_in - 1);
		else
			emu_close(ctx); /* "Unexpected packet type" */
		return 1;
	}
	if (st->skip_next) {
		st->skip_next = 0;
		return 1;
	}
	if (!st->authed && type > 60) {
		emu_close(ctx); /* "Received message %d before userauth" */
		return 1;
	}
	return 0;
}

static void
dispatch(struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	uint8_t type = p[0];
	struct sshkex_buf b;

	if (st->db) {
		if (db_filter(ctx, st, type))
			return;
	} else if (type == M_DISCONNECT) {
		emu_close(ctx);
		return;
	} else if (st->skip_next) {
		st->skip_next = 0;
		return;
	} else if (st->phase != P_OPEN) {
		/* a key exchange: only its own messages (strict KEX also
		 * refuses IGNORE and DEBUG in the first one) */
		int kexmsg = type == M_KEXINIT || type == M_NEWKEYS ||
		             (type >= 30 && type <= 49);
		int strict = st->strict && !st->first_done;
		if (!kexmsg && !strict &&
		        (type == M_IGNORE || type == M_DEBUG ||
		                type == M_UNIMPLEMENTED))
			return;
		if (!kexmsg) {
			if (strict) {
				char m[96];
				snprintf(m, sizeof m,
				        "strict KEX violation: unexpected "
				        "packet type %u (seqnr %u)",
				        type, st->seq_in - 1);
				send_disconnect(ctx, st, 2, m);
				return;
			}
			send_unimplemented(ctx, st, st->seq_in - 1);
			return;
		}
	}
	switch (st->phase) {
	case P_KEXINIT:
		if (type != M_KEXINIT)
			break;
		kexinit_in(ctx, st, p, n);
		return;
	case P_KEX:
	case P_GEX_INIT:
		if (type < 30 || type > 49)
			break;
		kex_init_in(ctx, st, type, p, n);
		return;
	case P_NEWKEYS:
		if (type != M_NEWKEYS)
			break;
		if (dir_set(&st->in, &st->next_in, st->nkey_in)) {
			emu_close(ctx);
			return;
		}
		if (st->strict)
			st->seq_in = 0;
		st->first_done = 1;
		st->phase = P_OPEN;
		return;
	case P_OPEN:
		if (type == M_KEXINIT) {
			/* a rekey from the client */
			if (send_kexinit(ctx, st) < 0)
				return;
			st->phase = P_KEXINIT;
			kexinit_in(ctx, st, p, n);
			return;
		}
		if (type == M_IGNORE || type == M_DEBUG ||
		        type == M_UNIMPLEMENTED)
			return;
		if (type == M_SERVICE_REQUEST && st->db) {
			/* ssh-userauth at any time, ssh-connection after a
			 * login; anything else ends it without a word */
			struct sshkex_buf r = {(uint8_t *)p, 1, n, 0};
			size_t sn;
			const uint8_t *s = sshkex_getstr(&r, &sn);
			if (r.err ||
			        !((sn == 12 &&
			                  !memcmp(s, "ssh-userauth", 12)) ||
			                (sn == 14 && st->authed &&
			                        !memcmp(s, "ssh-connection",
			                                14)))) {
				emu_close(ctx);
				return;
			}
			st->service = 1;
			b = pkt_begin(M_SERVICE_ACCEPT);
			sshkex_str(&b, s, sn);
			(void)pkt_send(ctx, st, &b);
			return;
		}
		if (type == M_SERVICE_REQUEST) {
			struct sshkex_buf r = {(uint8_t *)p, 1, n, 0};
			size_t sn;
			const uint8_t *s = sshkex_getstr(&r, &sn);
			if (r.err || sn != 12 ||
			        memcmp(s, "ssh-userauth", 12) || st->authed) {
				char m[160];
				snprintf(m, sizeof m,
				        "bad service request %.*s",
				        (int)LURE_MIN(sn, 100),
				        (const char *)s);
				send_disconnect(ctx, st, 2, m);
				return;
			}
			st->service = 1;
			b = pkt_begin(M_SERVICE_ACCEPT);
			sshkex_str(&b, s, sn);
			(void)pkt_send(ctx, st, &b);
			return;
		}
		if (type == M_USERAUTH_REQUEST && st->db) {
			/* dropbear needs no service request first */
			if (!st->authed)
				userauth_in(ctx, st, p, n);
			return;
		}
		if (type == M_USERAUTH_REQUEST && st->service && !st->authed) {
			userauth_in(ctx, st, p, n);
			return;
		}
		if (type == M_USERAUTH_INFO_RESPONSE && st->kbd_pending) {
			info_response_in(ctx, st, p, n);
			return;
		}
		if (type == M_GLOBAL_REQUEST) {
			struct sshkex_buf r = {(uint8_t *)p, 1, n, 0};
			size_t rn;
			const uint8_t *rq = sshkex_getstr(&r, &rn);
			uint8_t want = sshkex_get8(&r);
			if (!r.err && want && st->authed && rn == 29 &&
			        memcmp(rq, "hostkeys-prove-00@openssh.com",
			                29) == 0) {
				hostkeys_prove(ctx, st, &r);
				return;
			}
			if (want && !r.err) {
				b = pkt_begin(M_REQUEST_FAILURE);
				(void)pkt_send(ctx, st, &b);
			}
			return;
		}
		if (type >= M_CHANNEL_OPEN && type <= M_CHANNEL_FAILURE &&
		        st->authed) {
			channel_in(ctx, st, type, p, n);
			return;
		}
		if (type >= 50 && type <= 79 && st->authed)
			return; /* sshd ignores userauth after success */
		break;
	default: break;
	}
	send_unimplemented(ctx, st, st->seq_in - 1);
}

/* One packet from p[0..n): bytes consumed, 0 to wait for more. */
static size_t
packet_in(struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	struct ssh_dir *d = &st->in;
	uint8_t *pkt = ibuf + 4, first[16], nonce[12] = {0}, poly[32], tag[64];
	uint32_t len;
	size_t tl = tag_len(&d->a), bs = block_len(&d->a), total, pad;

	if (d->a.cipher == C_CTR && !d->a.etm) {
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
		if (n < 4)
			return 0;
		memcpy(first, p, 4);
		if (d->a.cipher == C_CHACHA) {
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
	memcpy(pkt, p, total);
	put32(ibuf, st->seq_in);
	switch (d->a.cipher) {
	case C_CHACHA:
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
	case C_GCM:
		if (gcm_packet(d, 0, pkt, len))
			goto bad;
		gcm_next(d);
		break;
	case C_CTR:
		if (d->a.etm) {
			if (mbedtls_md_hmac(mac_md(d->a.mac), d->mackey,
			            mac_len(d->a.mac), ibuf, 8 + len, tag) ||
			        ct_differ(tag, pkt + 4 + len, tl))
				goto bad;
			if (mbedtls_aes_crypt_ctr(&d->aes, len, &d->nc_off,
			            d->iv, d->stream, pkt + 4, pkt + 4))
				goto bad;
		} else {
			if (mbedtls_aes_crypt_ctr(&d->aes, 4 + len, &d->nc_off,
			            d->iv, d->stream, pkt, pkt) ||
			        mbedtls_md_hmac(mac_md(d->a.mac), d->mackey,
			                mac_len(d->a.mac), ibuf, 8 + len,
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
		snprintf(m, sizeof m, "Corrupted padlen %u on input.",
		        (unsigned)pad);
		send_disconnect(ctx, st, 2, m);
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
		dispatch(ctx, st, plain, (size_t)zn);
		return total;
	}
	dispatch(ctx, st, pkt + 5, len - 1 - pad);
	return total;
bad:
	emu_close(ctx);
	return n;
}

/* --- the emulator ---------------------------------------------------------- */
static int
ssh_start(char *err, size_t errlen)
{
	return sshkex_setup(
	        (unsigned)persona_int("ssh.rsa_bits", 3072), err, errlen);
}

static void
ssh_open(struct emu_ctx *ctx, void *state)
{
	struct ssh_state *st = state;
	size_t n;
	const char *v = pget("ssh.version", "SSH-2.0-OpenSSH", &n);
	char err[160];
	long grace = persona_int("ssh.login_grace_ms", 120000);

	if (sshkex_setup((unsigned)persona_int("ssh.rsa_bits", 3072), err,
	            sizeof err) < 0) {
		lure_log("SSH error=\"%s\"", err);
		emu_close(ctx);
		return;
	}
	st->max_tries = (uint8_t)persona_int("ssh.max_auth_tries", 6);
	if (!st->max_tries)
		st->max_tries = 255;
	st->db = daemon_is_dropbear();
	(void)emu_send(ctx, v, n);
	(void)emu_send(ctx, "\r\n", 2);
	if (st->db) /* dropbear does not wait for the client's line */
		(void)send_kexinit(ctx, st);
	if (grace > 0) {
		st->grace_at = lure_now() + grace;
		emu_timer(ctx, grace);
	}
}

static size_t
ssh_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct ssh_state *st = state;

	if (st->delay_msg)
		return 0;
	if (st->phase == P_VERSION)
		return version_in(ctx, st, p, n);
	return packet_in(ctx, st, p, n);
}

static void
ssh_timeout(struct emu_ctx *ctx, void *state)
{
	struct ssh_state *st = state;

	if (st->pend_len && st->chan_open == 1) {
		chan_flush(ctx, st); /* room in the output buffer again */
		return;
	}
	if (st->delay_msg && lure_now() >= st->delay_at) {
		int last = st->delay_msg == 2;
		st->delay_msg = 0;
		if (last && st->db) {
			emu_close(ctx); /* "Max auth tries reached" */
			return;
		}
		if (last) {
			send_disconnect(ctx, st, 2,
			        pget("ssh.msg_too_many",
			                "Too many authentication failures",
			                NULL));
			return;
		}
		auth_failure_now(ctx, st);
		return;
	}
	if (st->grace_at && lure_now() >= st->grace_at && !st->authed)
		emu_close(ctx); /* sshd: "Timeout before authentication" */
}

static void
ssh_close(struct emu_ctx *ctx, void *state, enum emu_close_reason why)
{
	struct ssh_state *st = state;

	(void)ctx;
	(void)why;
	dir_free(&st->in);
	dir_free(&st->out);
	sshzlib_put(st->z);
	st->z = NULL;
	if (st->phase >= P_KEX && st->phase <= P_GEX_INIT) {
		uint8_t h[64];
		sshkex_hfinish(&st->h, h); /* frees the hash context */
	}
}

const struct emulator emu_ssh = {
        .name = "ssh",
        .transports = EMU_TCP,
        .state_size = sizeof(struct ssh_state),
        /* a whole packet before its MAC is checked: dropbear's limit */
        .in_min = SSH_PKT_MAX,
        .on_open = ssh_open,
        .on_data = ssh_data,
        .on_timeout = ssh_timeout,
        .on_close = ssh_close,
        .on_start = ssh_start,
};
