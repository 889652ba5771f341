/* sshstate.h: one SSH connection's state and the calls between the files of
 * the SSH emulator: emu/ssh.c (version exchange, KEXINIT, key exchange, the
 * message dispatch table, the emulator), src/sshpkt.c (binary packets,
 * ciphers and MACs), src/sshauth.c (the userauth service) and
 * src/sshchan.c (the session channel and its fake shell). Internal to
 * those four: nothing else includes it. The persona keys are listed in
 * emu/ssh.c's header. */
#ifndef LURE_SSHSTATE_H
#define LURE_SSHSTATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "emu.h"
#include "event.h"
#include "lineedit.h"
#include "mbedtls/aes.h"
#include "persona.h"
#include "shell.h"
#include "sshkex.h"
#include "sshzlib.h"

#define SSH_VER_KEEP 256 /* bytes of the client's version line kept */
#define SSH_PKT_MAX 35000 /* a 32 KiB channel packet; also .in_min */
#define SSH_OUT_MAX 8192 /* largest packet built */
#define SSH_USER_MAX 64

/* Message numbers (RFC 4250 4.1.2). */
enum {
	SSH_MSG_DISCONNECT = 1,
	SSH_MSG_IGNORE = 2,
	SSH_MSG_UNIMPLEMENTED = 3,
	SSH_MSG_DEBUG = 4,
	SSH_MSG_SERVICE_REQUEST = 5,
	SSH_MSG_SERVICE_ACCEPT = 6,
	SSH_MSG_EXT_INFO = 7,
	SSH_MSG_KEXINIT = 20,
	SSH_MSG_NEWKEYS = 21,
	SSH_MSG_KEX_INIT = 30, /* ECDH_INIT / KEXDH_INIT */
	SSH_MSG_KEX_REPLY = 31, /* ECDH_REPLY / KEXDH_REPLY / GEX_GROUP */
	SSH_MSG_GEX_INIT = 32,
	SSH_MSG_GEX_REPLY = 33,
	SSH_MSG_GEX_REQUEST = 34,
	SSH_MSG_KEX_LAST = 49, /* 30..49: the key exchange method's own */
	SSH_MSG_USERAUTH_REQUEST = 50,
	SSH_MSG_USERAUTH_FAILURE = 51,
	SSH_MSG_USERAUTH_SUCCESS = 52,
	SSH_MSG_USERAUTH_INFO_REQUEST = 60,
	SSH_MSG_USERAUTH_INFO_RESPONSE = 61,
	SSH_MSG_USERAUTH_LAST = 79, /* 50..79: the userauth service's */
	SSH_MSG_GLOBAL_REQUEST = 80,
	SSH_MSG_REQUEST_SUCCESS = 81,
	SSH_MSG_REQUEST_FAILURE = 82,
	SSH_MSG_CHANNEL_OPEN = 90,
	SSH_MSG_CHANNEL_OPEN_CONFIRMATION = 91,
	SSH_MSG_CHANNEL_OPEN_FAILURE = 92,
	SSH_MSG_CHANNEL_WINDOW_ADJUST = 93,
	SSH_MSG_CHANNEL_DATA = 94,
	SSH_MSG_CHANNEL_EXTENDED_DATA = 95,
	SSH_MSG_CHANNEL_EOF = 96,
	SSH_MSG_CHANNEL_CLOSE = 97,
	SSH_MSG_CHANNEL_REQUEST = 98,
	SSH_MSG_CHANNEL_SUCCESS = 99,
	SSH_MSG_CHANNEL_FAILURE = 100,
};

enum ssh_phase {
	SSH_P_VERSION, /* reading the client's identification line */
	SSH_P_KEXINIT, /* our KEXINIT sent, the client's awaited */
	SSH_P_KEX, /* waiting for the client's KEX_INIT (or GEX_REQUEST) */
	SSH_P_GEX_INIT, /* GEX group sent, waiting for GEX_INIT */
	SSH_P_NEWKEYS, /* our NEWKEYS sent, waiting for the client's */
	SSH_P_OPEN, /* keys in place: service, auth, channels */
	SSH_P__MAX
};

enum ssh_cipher { SSH_C_NONE, SSH_C_CHACHA, SSH_C_CTR, SSH_C_GCM };
enum ssh_mac { SSH_H_NONE, SSH_H_SHA1, SSH_H_SHA256, SSH_H_SHA512 };

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
	uint8_t bye_crlf; /* the CR LF after a version complaint is due */
	uint8_t failures, max_tries, kbd_pending, chan_open, chan_shell;
	uint8_t pty, delay_msg, zlib, user_set, service;
	/* zlib@openssh.com: negotiated (bit 0 client to server, bit 1 server
	 * to client), and on since USERAUTH_SUCCESS with its context */
	uint8_t zlib_on;
	struct sshzlib *z;
	uint8_t db; /* ssh.daemon dropbear: its transport and auth rules */
	uint8_t unauth; /* its place among those not logged in (sshlimit.h) */
	uint8_t greet; /* the identification line waits for ssh.banner_delay_ms */
	enum sshkex_kex kex;
	enum sshkex_hostkey hk;
	struct sshkex_group gex; /* points into persona data */
	uint32_t seq_in, seq_out, gex_min, gex_n, gex_max;
	uint32_t chan_peer, peer_win, peer_max;
	uint16_t pend_off, pend_len; /* channel output not yet sent */
	uint8_t pend_exit, exit_status, last_cr;
	uint8_t chan_id; /* ours: 1 when a session opened while 0 closed */
	uint8_t term_len; /* the pty-req's TERM */
	char term[32];
	uint32_t ver_total; /* bytes of the version line so far */
	int64_t grace_at, delay_at;
	int64_t sleep_at; /* a shell line sleeps: its output waits till then */
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
	struct ledit ed; /* the session's line in line[]: a pty's editor */
	uint8_t line[SHELL_LINE];
	uint8_t pend[2 * SHELL_OUT + 256];
	struct shell sh; /* the session's fake shell (src/shell.c) */
};

/* The persona's value of key (n: its length), or def. */
static inline const char *
sshstate_get(const char *key, const char *def, size_t *n)
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

/* The name-list l[0..n) holds name. */
static inline int
sshstate_list_has(const uint8_t *l, size_t n, const char *name)
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

/* --- src/sshpkt.c: binary packets, ciphers, MACs --------------------------- */
/* The cipher or MAC named s[0..n) into a; -1: not one lure implements. */
int
sshpkt_cipher(const char *s, size_t n, struct ssh_alg *a);
int
sshpkt_mac(const char *s, size_t n, struct ssh_alg *a);
/* The cipher needs a MAC of its own (not an AEAD). */
int
sshpkt_needs_mac(const struct ssh_alg *a);
size_t
sshpkt_mac_len(uint8_t mac);

/* Put negotiated algorithms and derived keys k (iv || key || mackey) in
 * use for one direction; -1 on a crypto error. */
int
sshpkt_keys(struct ssh_dir *d, const struct ssh_alg *a, const uint8_t *k);
void
sshpkt_keys_free(struct ssh_dir *d);

/* A writer over the output packet's payload, type written first (raw:
 * nothing written). The payload stays there until sshpkt_send() only. */
struct sshkex_buf
sshpkt_begin(uint8_t type);
struct sshkex_buf
sshpkt_begin_raw(void);
/* Compress, pad, protect and queue the payload b; -1: closed. */
int
sshpkt_send(struct emu_ctx *ctx, struct ssh_state *st, struct sshkex_buf *b);
/* DISCONNECT (code, msg) then close. */
void
sshpkt_disconnect(struct emu_ctx *ctx, struct ssh_state *st, uint32_t code,
        const char *msg);
/* UNIMPLEMENTED for the packet with sequence number seq. */
void
sshpkt_unimplemented(struct emu_ctx *ctx, struct ssh_state *st, uint32_t seq);

/* One packet from p[0..n): bytes consumed (0: wait for more). *pl, *pln:
 * its payload (decompressed) when there is one to handle, else NULL (a bad
 * packet closed the connection). */
size_t
sshpkt_in(struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n,
        const uint8_t **pl, size_t *pln);

/* --- src/sshauth.c: the userauth service ----------------------------------- */
/* The fields every event of the connection carries: the client's version
 * and HASSH. */
void
sshauth_ev_client(struct event *e, const struct ssh_state *st);
/* USERAUTH_REQUEST (p[0..n), the type byte first). */
void
sshauth_request(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n);
/* USERAUTH_INFO_RESPONSE to keyboard-interactive's prompt. */
void
sshauth_info_response(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n);
/* The failure delay (st->delay_msg) is over: FAILURE or the DISCONNECT. */
void
sshauth_delay_end(struct emu_ctx *ctx, struct ssh_state *st);
/* hostkeys-prove-00@openssh.com, the request's key blobs in r. */
void
sshauth_hostkeys_prove(
        struct emu_ctx *ctx, struct ssh_state *st, struct sshkex_buf *r);

/* --- src/sshchan.c: the session channel ------------------------------------ */
/* A connection message (CHANNEL_OPEN .. CHANNEL_FAILURE) after a login. */
void
sshchan_in(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n);
/* Send the channel output that waits, as far as the client's window and
 * the room in the output buffer allow (else a wake-up retries). */
void
sshchan_flush(struct emu_ctx *ctx, struct ssh_state *st);

#endif
