/* ssh.c: an SSH-2 server transport as the persona's daemon speaks it:
 * version exchange, binary packets, KEXINIT, key exchange (src/sshkex.c),
 * NEWKEYS, strict KEX, EXT_INFO, the userauth service with password,
 * keyboard-interactive and publickey captured, and after a "successful"
 * login a session channel into the fake shell (src/shell.c): an exec
 * request is one shell_run() and its exit status, a shell request a
 * prompt and one shell_run() per typed line until the shell says exit
 * (with a pty the typed bytes are echoed and edited by the pty line editor
 * telnet sessions use, src/lineedit.c: DEL and ^H, ^U, ^W, ^V, ^R, tabs,
 * controls shown as ^X; ^C ^\ ^Z drop the line, ^D on an empty one logs
 * out).
 *
 * Persona keys (strings are sent as they are; lists are SSH name-lists in
 * the daemon's order, sent in KEXINIT whether or not lure implements every
 * name: a client that settles on one lure lacks is disconnected):
 *   ssh.daemon           "openssh" (default) or "dropbear": whose transport
 *                        and auth rules apply (below)
 *   ssh.version          [required] identification string without CR LF
 *   ssh.kex ssh.hostkey ssh.cipher ssh.mac ssh.compression   [required]
 *                        KEXINIT lists
 *   ssh.ext_info         [repeated] "NAME VALUE": EXT_INFO after the first
 *                        NEWKEYS when the client offered ext-info-c
 *   ssh.auth_methods     "publickey,password" (the USERAUTH_FAILURE list)
 *   ssh.accept           [repeated] "USER:PASSWORD" ("*" for any) that
 *                        log in
 *   ssh.fail_delay_ms    before a password or keyboard-interactive failure
 *   ssh.fail_jitter_ms   a random 0..N-1 ms more (dropbear: 250 + 100)
 *   ssh.max_auth_tries   failures before "Too many authentication failures"
 *                        (dropbear: the last one closes without a word)
 *   ssh.login_grace_ms   silent close when not logged in by then (0: never)
 *   ssh.banner_delay_ms  "MIN MAX": the identification line after MIN
 *                        to MAX ms (uniform, per connection): the daemon's
 *                        fork, and sshd's re-execution (absent: at once)
 *   ssh.max_startups     sshd's MaxStartups "start:rate:full" (10:30:100)
 *                        over the connections not logged in: beyond
 *                        start, "Exceeded MaxStartups" and a close, with
 *                        rate% rising to 100% at full (src/sshlimit.c)
 *   ssh.max_unauth       dropbear's "per_address total" (5 30): a
 *                        connection beyond either is closed before the
 *                        banner without a byte
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
 *   ssh.motd_cmd         a login with a terminal first shows the output of
 *                        this line run by the fake shell (no event)
 *   ssh.motd             then this text, then the prompt
 *   ssh.lastlog          set (any value): sshd's "Last login: ... from
 *                        ..." line after the motd (src/sshchan.c)
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
 * persona/test_linux_ssh.py, test_diff_ssh.py): KEXINIT after the client's
 * version line (up to 8192 bytes), zero padding before keys; a complaint
 * about the version line is a write, then CR LF in a second one (1 ms
 * later: its own segment, with the FIN), or an RST instead of the CR LF
 * when the client sent more than the line (sshd exits with it unread);
 * nothing is decided before a whole first block (8 bytes) is in; bad
 * packet lengths, padding errors and MAC failures close without a word
 * (a FIN: sshd has read all there was), a padding length under 4 with
 * "Corrupted padlen"; types 0 and 192-255 get DISCONNECT "Invalid ssh2
 * packet type: N" at any time, types 50 and up before the first NEWKEYS
 * a silent close;
 * unexpected messages get UNIMPLEMENTED (a DISCONNECT under strict KEX);
 * "none" does not count as a failure, the max_auth_tries-th failure is a
 * DISCONNECT; another user name on the same connection is a DISCONNECT; the
 * session channel opens with window 0 and gets 2 MiB when a program runs.
 *
 * dropbear (ssh.daemon dropbear): followed from dropbear 2022.83
 * (common-session.c, packet.c, process-packet.c, common-kex.c,
 * common-algo.c, svr-auth*.c) and checked against Debian 12's dropbear on
 * loopback (test/persona/test_dropbear.py, test_diff_ssh.py): banner and
 * KEXINIT at once, random padding from the first packet; the version line
 * is at most 255 bytes (CRs dropped anywhere, the rest read as packets),
 * anything but "SSH-2." or "SSH-1.99-" closes silently; packet length
 * checks without a padding minimum; during a key exchange only the awaited
 * message (requirenext): other transport messages get UNIMPLEMENTED, the
 * rest and anything above 60 before a login close; a wrong guess of the
 * first KEX packet is dropped (kexguess2@matt.ucc.asn.au rule when the
 * client lists it); more than 50 names in a list close; every error closes
 * without a DISCONNECT, with an RST when more input was there than dropbear
 * had taken in (the line, or the first block or the packet); failures wait
 * 250-350 ms and count for password and unknown methods, not for none or
 * publickey; no service request needed before userauth; another user name
 * closes.
 *
 * Compression: zlib@openssh.com (src/sshzlib.c) from USERAUTH_SUCCESS on,
 * both directions, as sshd and dropbear delay it; what lure sends is stored
 * deflate blocks (valid for any inflater, larger than sshd's). A persona
 * listing plain "zlib" (compression from NEWKEYS on) is refused at KEXINIT.
 *
 * Not modelled: packets larger than the input buffer (sshd takes 256 KiB,
 * dropbear 35000 bytes), the rest of an OpenSSH version line over
 * SSH_VER_KEEP bytes (accepted, not kept for the event),
 * umac MACs (named in KEXINIT, not implemented: a client that settles on
 * them is disconnected), more than SSHZLIB_POOL compressed sessions at once
 * (the next one is closed after its login), rekeying limits, keepalives,
 * PAM's randomised delay (libpam seeds it from the clock: sshd's
 * connections failing in the same second wait the same time, 1.95 to
 * 4.3 s measured; a per-connection jitter would be the tell), the shape
 * of the banner latency's spread (uniform here). The grace
 * timer keeps the core's limits.idle_timeout off until it fires: a quiet
 * client is closed at ssh.login_grace_ms, as by sshd and dropbear.
 *
 * Files: this one has the version exchange, KEXINIT, the key exchange and
 * the message dispatch (filters, then a {type, handler} table);
 * src/sshpkt.c the binary packets, ciphers and MACs; src/sshauth.c the
 * userauth service; src/sshchan.c the session channel (its pty line
 * editor is src/lineedit.c, telnet's); src/sshstate.h the state they
 * share; src/sshkex.c the key exchange's cryptography and host keys. */
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "hash.h"
#include "lure.h"
#include "sshlimit.h"
#include "sshstate.h"

#define SSH_VER_LIMIT 8192 /* sshd's SSH_MAX_BANNER_LEN */
#define SSH_DB_VER 255 /* dropbear's ident_readln() buffer, less its NUL */
#define SSH_DB_ALGOS 50 /* dropbear's MAX_PROPOSED_ALGO */
#define SSH_MSG_LOCAL_MIN 192 /* OpenSSH's SSH2_MSG_LOCAL_MIN */

static int
daemon_is_dropbear(void)
{
	size_t n;
	const char *d = sshstate_get("ssh.daemon", "openssh", &n);

	return n == 8 && memcmp(d, "dropbear", 8) == 0;
}

/* Our KEXINIT payload (cookie from the state) into b. */
static void
kexinit_put(struct sshkex_buf *b, const struct ssh_state *st)
{
	static const char *const keys[] = {"ssh.kex", "ssh.hostkey",
	        "ssh.cipher", "ssh.cipher", "ssh.mac", "ssh.mac",
	        "ssh.compression", "ssh.compression"};
	size_t n;

	sshkex_u8(b, SSH_MSG_KEXINIT);
	sshkex_put(b, st->cookie, 16);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *v = sshstate_get(keys[i], "", &n);
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
	struct sshkex_buf b = sshpkt_begin_raw();

	lure_random(st->cookie, sizeof st->cookie);
	kexinit_put(&b, st);
	return sshpkt_send(ctx, st, &b);
}

/* --- version exchange ------------------------------------------------------ */
/* One scanf %d as sshd's glibc reads it: C-locale white space skipped, a
 * sign, at least one decimal digit, the value saturated to a 64-bit long
 * (strtol) and stored as an int (its low 32 bits). The end, or NULL when
 * there is no number. */
static const char *
ver_int(const char *p, int *v)
{
	uint64_t x = 0, max;
	int neg;

	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	neg = *p == '-';
	if (*p == '+' || *p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return NULL;
	max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p >= '0' && *p <= '9'; p++)
		x = x > (max - (uint64_t)(*p - '0')) / 10
		            ? max
		            : x * 10 + (uint64_t)(*p - '0');
	*v = (int)(uint32_t)(neg ? 0 - x : x);
	return p;
}

/* sshd's sscanf(line, "SSH-%d.%d-%[^\n]\n", ...) == 3: "SSH-", two
 * numbers around a '.', a '-', then at least one byte before the NUL or
 * a LF. (A hand parser: scanf links musl's float parsing.) */
static int
ver_parse(const char *s, int *major, int *minor)
{
	if (strncmp(s, "SSH-", 4) != 0 || !(s = ver_int(s + 4, major)) ||
	        *s != '.' || !(s = ver_int(s + 1, minor)) || *s != '-')
		return -1;
	return s[1] == 0 || s[1] == '\n' ? -1 : 0;
}

/* more: input follows the line. sshd writes its complaint and CR LF in
 * two writes and exits with that input unread: the kernel resets the
 * connection, and Nagle has held the CR LF back, so it never arrives. */
static void
version_done(struct emu_ctx *ctx, struct ssh_state *st, int more)
{
	int major = 0, minor = 0;
	const char *msg = NULL;
	size_t n;

	st->ver[st->ver_len] = 0;
	if (st->ver_total > SSH_VER_LIMIT ||
	        ver_parse(st->ver, &major, &minor) < 0)
		msg = sshstate_get("ssh.msg_invalid",
		        "Invalid SSH identification string.", &n);
	else if (!(major == 2 || (major == 1 && minor == 99)))
		msg = sshstate_get("ssh.msg_bad_major",
		        "Protocol major versions differ.", &n);
	if (msg) {
		struct event *e = emu_event(ctx, "request");
		sshauth_ev_client(e, st);
		event_str(e, "event.outcome", "failure");
		event_commit(e);
		(void)emu_send(ctx, msg, n);
		if (more) { /* sshd exits with that input unread */
			emu_reset(ctx);
			return;
		}
		/* the CR LF is sshd's second write: its own segment, with
		 * the FIN (ssh_timeout()) */
		st->bye_crlf = 1;
		emu_timer(ctx, 1);
		return;
	}
	st->phase = SSH_P_KEXINIT;
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
				sshauth_ev_client(e, st);
				event_str(e, "event.outcome", "failure");
				event_commit(e);
				/* dropbear exits with the rest unread */
				if (i + 1 < n)
					emu_reset(ctx);
				else
					emu_close(ctx);
				return n;
			}
			st->phase = SSH_P_KEXINIT;
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
			st->ver_total = SSH_VER_LIMIT + 1;
			version_done(ctx, st, i + 1 < n);
			return n;
		}
		if (st->ver_len < SSH_VER_KEEP) /* sshd takes up to 8192 */
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

/* The client's list l and the persona's key start with the same name. */
static int
same_first(const uint8_t *l, size_t n, const char *key)
{
	size_t sn, a = 0, b = 0;
	const char *s = sshstate_get(key, "", &sn);

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
	const char *s = sshstate_get(key, "", &sn), *o;

	while (a < n && l[a] != ',')
		a++;
	return a && negotiate(l, a, s, sn, &o, &on) == 0;
}

/* The client's KEXINIT (p[0..n)): the HASSH "request" event, strict KEX
 * and ext-info-c, each algorithm chosen from both lists (a miss closes),
 * the first-packet guess, and the exchange hash started. */
static void
kexinit_negotiate(
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
		sshauth_ev_client(e, st);
		event_bytes(e, "lure.ssh.hassh_algorithms", alg, an,
		        EVENT_CAP_PAYLOAD);
		event_commit(e);
	}
	/* strict KEX when both sides name it (a persona without
	 * kex-strict-s-v00@openssh.com, e.g. a daemon from before
	 * CVE-2023-48795, keeps counting sequence numbers) */
	sl = sshstate_get("ssh.kex", "", &sn);
	if (!st->first_done &&
	        sshstate_list_has(
	                l[0], ln[0], "kex-strict-c-v00@openssh.com") &&
	        sshstate_list_has((const uint8_t *)sl, sn,
	                "kex-strict-s-v00@openssh.com")) {
		st->strict = 1;
		if (st->seq_in != 1 && st->db) {
			emu_close(ctx); /* "First packet wasn't kexinit" */
			return;
		}
		if (st->seq_in != 1) {
			sshpkt_disconnect(ctx, st, 2,
			        "strict KEX violation: KEXINIT was not the "
			        "first "
			        "packet");
			return;
		}
	}
	if (!st->first_done)
		st->ext_info = sshstate_list_has(l[0], ln[0], "ext-info-c");

	/* kex, host key, ciphers, MACs, compression */
	sl = sshstate_get("ssh.kex", "", &sn);
	if (negotiate(l[0], ln[0], sl, sn, &o, &on) < 0 ||
	        (st->kex = sshkex_kex_find(o, on)) == SSHKEX_NONE)
		goto fail;
	sl = sshstate_get("ssh.hostkey", "", &sn);
	if (negotiate(l[1], ln[1], sl, sn, &o, &on) < 0 ||
	        (st->hk = sshkex_hostkey_find(o, on)) == SSHKEX_HK_NONE)
		goto fail;
	memset(&ci, 0, sizeof ci);
	memset(&co, 0, sizeof co);
	sl = sshstate_get("ssh.cipher", "", &sn);
	if (negotiate(l[2], ln[2], sl, sn, &o, &on) < 0 ||
	        sshpkt_cipher(o, on, &ci) < 0)
		goto fail;
	if (negotiate(l[3], ln[3], sl, sn, &o, &on) < 0 ||
	        sshpkt_cipher(o, on, &co) < 0)
		goto fail;
	sl = sshstate_get("ssh.mac", "", &sn);
	if (ci.cipher == SSH_C_CTR &&
	        (negotiate(l[4], ln[4], sl, sn, &o, &on) < 0 ||
	                sshpkt_mac(o, on, &ci) < 0))
		goto fail;
	if (co.cipher == SSH_C_CTR &&
	        (negotiate(l[5], ln[5], sl, sn, &o, &on) < 0 ||
	                sshpkt_mac(o, on, &co) < 0))
		goto fail;
	sl = sshstate_get("ssh.compression", "", &sn);
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
	        sshstate_list_has(l[0], ln[0], "kexguess2@matt.ucc.asn.au"))
		st->skip_next = !first_known(l[0], ln[0], "ssh.kex") ||
		                !first_known(l[1], ln[1], "ssh.hostkey");

	/* H starts with V_C, V_S, I_C, I_S */
	{
		struct sshkex_buf b = sshpkt_begin_raw();
		const char *vs =
		        sshstate_get("ssh.version", "SSH-2.0-OpenSSH", &sn);
		sshkex_hstart(&st->h, sshkex_kex_hash(st->kex));
		/* dropbear hashes its C string: up to a NUL */
		sshkex_hstr(&st->h, st->ver,
		        st->db ? strnlen(st->ver, st->ver_len) : st->ver_len);
		sshkex_hstr(&st->h, vs, sn);
		sshkex_hstr(&st->h, p, n);
		kexinit_put(&b, st);
		sshkex_hstr(&st->h, b.p, b.n);
	}
	st->phase = SSH_P_KEX;
	return;
fail:
	/* sshd: "Unable to negotiate", no message */
	emu_close(ctx);
}

/* --- key exchange ---------------------------------------------------------- */
/* A message of the negotiated key exchange method (30..49): GEX_REQUEST
 * gets the group; the client's public value (ECDH_INIT, KEXDH_INIT,
 * GEX_INIT) gets the signed reply, keys and NEWKEYS (and EXT_INFO after
 * the first); anything else is unexpected. */
static void
kex_exchange(struct emu_ctx *ctx, struct ssh_state *st, uint8_t type,
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

	if (st->kex == SSHKEX_GEX && st->phase == SSH_P_KEX) {
		if (type != SSH_MSG_GEX_REQUEST)
			goto unexpected;
		st->gex_min = sshkex_get32(&in);
		st->gex_n = sshkex_get32(&in);
		st->gex_max = sshkex_get32(&in);
		mf = persona_file(
		        sshstate_get("ssh.moduli", "etc/ssh/moduli", NULL));
		if (in.err || in.n != n ||
		        sshkex_gex_choose(st->gex_min, st->gex_n, st->gex_max,
		                mf ? mf->data : NULL, mf ? mf->len : 0,
		                &st->gex) < 0) {
			emu_close(ctx);
			return;
		}
		out = sshpkt_begin(SSH_MSG_KEX_REPLY);
		sshkex_gex_put(&out, &st->gex);
		st->phase = SSH_P_GEX_INIT;
		(void)sshpkt_send(ctx, st, &out);
		return;
	}
	if (type !=
	        (st->kex == SSHKEX_GEX ? SSH_MSG_GEX_INIT : SSH_MSG_KEX_INIT))
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
		struct sshkex_buf mb = {mm, 0, sizeof mm, 0};
		sshkex_u32(&mb, st->gex_min);
		sshkex_u32(&mb, st->gex_n);
		sshkex_u32(&mb, st->gex_max);
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
		        st->nkey_in + 80, sshpkt_mac_len(st->next_in.mac));
		sshkex_derive(ha, kenc, kb.n, h, st->sid, hl, 'F',
		        st->nkey_out + 80, sshpkt_mac_len(st->next_out.mac));
	}
	out = sshpkt_begin(
	        st->kex == SSHKEX_GEX ? SSH_MSG_GEX_REPLY : SSH_MSG_KEX_REPLY);
	sshkex_str(&out, blob, bn);
	sshkex_put(&out, reply, rb.n);
	sshkex_str(&out, sig, sgn);
	if (sshpkt_send(ctx, st, &out) < 0)
		return;
	out = sshpkt_begin(SSH_MSG_NEWKEYS);
	if (sshpkt_send(ctx, st, &out) < 0)
		return;
	if (sshpkt_keys(&st->out, &st->next_out, st->nkey_out)) {
		emu_close(ctx);
		return;
	}
	if (st->strict)
		st->seq_out = 0;
	st->phase = SSH_P_NEWKEYS;
	if (st->ext_info && !st->first_done) {
		size_t i = 0, cnt = 0;
		const struct persona_kv *kv;
		out = sshpkt_begin(SSH_MSG_EXT_INFO);
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
		(void)sshpkt_send(ctx, st, &out);
	}
	return;
unexpected:
	if (st->strict && !st->first_done) {
		char m[96];
		fmt_snprintf(m, sizeof m,
		        "strict KEX violation: unexpected packet type %u "
		        "(seqnr %u)",
		        type, st->seq_in - 1);
		sshpkt_disconnect(ctx, st, 2, m);
		return;
	}
	sshpkt_unimplemented(ctx, st, st->seq_in - 1);
}

/* --- the message filters --------------------------------------------------- */
/* dropbear's process_packet() before its handlers: during a key exchange
 * only the awaited message (ses.requirenext); other transport messages get
 * UNIMPLEMENTED, the rest end the session, as does anything above 60
 * before a login. 1: the packet is dealt with. */
static int
db_filter(struct emu_ctx *ctx, struct ssh_state *st, uint8_t type)
{
	int first_strict = st->strict && !st->first_done;
	uint8_t need = st->phase == SSH_P_KEXINIT   ? SSH_MSG_KEXINIT
	               : st->phase == SSH_P_KEX     ? SSH_MSG_KEX_INIT
	               : st->phase == SSH_P_NEWKEYS ? SSH_MSG_NEWKEYS
	                                            : 0;

	if (type == SSH_MSG_DISCONNECT) {
		emu_close(ctx);
		return 1;
	}
	if (!first_strict && (type == SSH_MSG_IGNORE || type == SSH_MSG_DEBUG ||
	                             type == SSH_MSG_UNIMPLEMENTED))
		return 1;
	if (need && type != need) {
		if (type >= 1 && type <= 49 &&
		        type != SSH_MSG_SERVICE_REQUEST &&
		        type != SSH_MSG_SERVICE_ACCEPT &&
		        type != SSH_MSG_KEXINIT && !first_strict)
			sshpkt_unimplemented(ctx, st, st->seq_in - 1);
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

/* --- the message dispatch -------------------------------------------------- */
/* After the filters above, a table of {type, handler} as dropbear's
 * packettypes[] (process-packet.c), with a range where the RFC gives one
 * (30..49 the key exchange method's, 50..79 userauth's, 90..100 the
 * connection's): the first entry whose range holds the type takes the
 * packet p[0..n) (p[0] is the type). A handler returns 0 when it dealt with
 * the packet, -1 when it is not expected in this phase: UNIMPLEMENTED. */
static int
on_quiet(struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	/* IGNORE, UNIMPLEMENTED, DEBUG (a key exchange: the filters) */
	return st->phase == SSH_P_OPEN ? 0 : -1;
}

static int
on_service_request(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	struct sshkex_buf r = {(uint8_t *)p, 1, n, 0}, b;
	size_t sn;
	const uint8_t *s;

	if (st->phase != SSH_P_OPEN)
		return -1;
	s = sshkex_getstr(&r, &sn);
	if (st->db) {
		/* ssh-userauth at any time, ssh-connection after a login;
		 * anything else ends it without a word */
		if (r.err ||
		        !((sn == 12 && !memcmp(s, "ssh-userauth", 12)) ||
		                (sn == 14 && st->authed &&
		                        !memcmp(s, "ssh-connection", 14)))) {
			emu_close(ctx);
			return 0;
		}
	} else if (r.err || sn != 12 || memcmp(s, "ssh-userauth", 12) ||
	           st->authed) {
		char m[160];
		fmt_snprintf(m, sizeof m, "bad service request %.*s",
		        (int)LURE_MIN(sn, 100), (const char *)s);
		sshpkt_disconnect(ctx, st, 2, m);
		return 0;
	}
	st->service = 1;
	b = sshpkt_begin(SSH_MSG_SERVICE_ACCEPT);
	sshkex_str(&b, s, sn);
	(void)sshpkt_send(ctx, st, &b);
	return 0;
}

static int
on_kexinit(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	if (st->phase == SSH_P_OPEN) {
		/* a rekey from the client */
		if (send_kexinit(ctx, st) < 0)
			return 0;
		st->phase = SSH_P_KEXINIT;
	} else if (st->phase != SSH_P_KEXINIT) {
		return -1;
	}
	kexinit_negotiate(ctx, st, p, n);
	return 0;
}

static int
on_newkeys(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	if (st->phase != SSH_P_NEWKEYS)
		return -1;
	if (sshpkt_keys(&st->in, &st->next_in, st->nkey_in)) {
		emu_close(ctx);
		return 0;
	}
	if (st->strict)
		st->seq_in = 0;
	st->first_done = 1;
	st->phase = SSH_P_OPEN;
	return 0;
}

static int
on_kex(struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	if (st->phase != SSH_P_KEX && st->phase != SSH_P_GEX_INIT)
		return -1;
	kex_exchange(ctx, st, p[0], p, n);
	return 0;
}

/* userauth messages after a login: sshd ignores them */
static int
on_userauth_done(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	return st->phase == SSH_P_OPEN && st->authed ? 0 : -1;
}

static int
on_userauth_request(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	if (st->phase != SSH_P_OPEN)
		return -1;
	/* dropbear needs no service request first */
	if ((st->db || st->service) && !st->authed) {
		sshauth_request(ctx, st, p, n);
		return 0;
	}
	return st->db ? 0 : on_userauth_done(ctx, st, p, n);
}

static int
on_info_response(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	if (st->phase == SSH_P_OPEN && st->kbd_pending) {
		sshauth_info_response(ctx, st, p, n);
		return 0;
	}
	return on_userauth_done(ctx, st, p, n);
}

static int
on_global_request(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	struct sshkex_buf r = {(uint8_t *)p, 1, n, 0};
	size_t rn;
	const uint8_t *rq;
	uint8_t want;

	if (st->phase != SSH_P_OPEN)
		return -1;
	rq = sshkex_getstr(&r, &rn);
	want = sshkex_get8(&r);
	if (!r.err && want && st->authed && rn == 29 &&
	        memcmp(rq, "hostkeys-prove-00@openssh.com", 29) == 0) {
		sshauth_hostkeys_prove(ctx, st, &r);
		return 0;
	}
	if (want && !r.err) {
		struct sshkex_buf b = sshpkt_begin(SSH_MSG_REQUEST_FAILURE);
		(void)sshpkt_send(ctx, st, &b);
	}
	return 0;
}

static int
on_channel(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	if (st->phase != SSH_P_OPEN || !st->authed)
		return -1;
	sshchan_in(ctx, st, p, n);
	return 0;
}

static const struct {
	uint8_t type, last; /* the messages type..last */
	int (*fn)(
	        struct emu_ctx *, struct ssh_state *, const uint8_t *, size_t);
} handlers[] = {
        {SSH_MSG_IGNORE, SSH_MSG_DEBUG, on_quiet},
        {SSH_MSG_SERVICE_REQUEST, SSH_MSG_SERVICE_REQUEST, on_service_request},
        {SSH_MSG_KEXINIT, SSH_MSG_KEXINIT, on_kexinit},
        {SSH_MSG_NEWKEYS, SSH_MSG_NEWKEYS, on_newkeys},
        {SSH_MSG_KEX_INIT, SSH_MSG_KEX_LAST, on_kex},
        {SSH_MSG_USERAUTH_REQUEST, SSH_MSG_USERAUTH_REQUEST,
                on_userauth_request},
        {SSH_MSG_USERAUTH_INFO_RESPONSE, SSH_MSG_USERAUTH_INFO_RESPONSE,
                on_info_response},
        {SSH_MSG_USERAUTH_REQUEST, SSH_MSG_USERAUTH_LAST, on_userauth_done},
        {SSH_MSG_GLOBAL_REQUEST, SSH_MSG_GLOBAL_REQUEST, on_global_request},
        {SSH_MSG_CHANNEL_OPEN, SSH_MSG_CHANNEL_FAILURE, on_channel},
};

static void
dispatch(struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	uint8_t type = p[0];

	if (st->db) {
		if (db_filter(ctx, st, type))
			return;
	} else if (type == 0 || type >= SSH_MSG_LOCAL_MIN) {
		/* sshd's ssh_packet_read_poll2(), at any time */
		char m[40];
		fmt_snprintf(m, sizeof m, "Invalid ssh2 packet type: %u", type);
		sshpkt_disconnect(ctx, st, 2, m);
		return;
	} else if (type >= SSH_MSG_USERAUTH_REQUEST && !st->first_done) {
		emu_close(ctx); /* sshd: no word before its first keys */
		return;
	} else if (type == SSH_MSG_DISCONNECT) {
		emu_close(ctx);
		return;
	} else if (st->skip_next) {
		st->skip_next = 0;
		return;
	} else if (st->phase != SSH_P_OPEN) {
		/* a key exchange: only its own messages (strict KEX also
		 * refuses IGNORE and DEBUG in the first one) */
		int kexmsg =
		        type == SSH_MSG_KEXINIT || type == SSH_MSG_NEWKEYS ||
		        (type >= SSH_MSG_KEX_INIT && type <= SSH_MSG_KEX_LAST);
		int strict = st->strict && !st->first_done;
		if (!kexmsg && !strict &&
		        (type == SSH_MSG_IGNORE || type == SSH_MSG_DEBUG ||
		                type == SSH_MSG_UNIMPLEMENTED))
			return;
		if (!kexmsg) {
			if (strict) {
				char m[96];
				fmt_snprintf(m, sizeof m,
				        "strict KEX violation: unexpected "
				        "packet type %u (seqnr %u)",
				        type, st->seq_in - 1);
				sshpkt_disconnect(ctx, st, 2, m);
				return;
			}
			sshpkt_unimplemented(ctx, st, st->seq_in - 1);
			return;
		}
	}
	for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
		if (type >= handlers[i].type && type <= handlers[i].last) {
			if (handlers[i].fn(ctx, st, p, n) == 0)
				return;
			break;
		}
	sshpkt_unimplemented(ctx, st, st->seq_in - 1);
}

/* Packets from p[0..n): bytes consumed, 0 to wait for more. */
static size_t
packet_in(struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	const uint8_t *pl;
	size_t pln, used = sshpkt_in(ctx, st, p, n, &pl, &pln);

	if (pl)
		dispatch(ctx, st, pl, pln);
	return used;
}

/* --- the emulator ---------------------------------------------------------- */
static int
ssh_start(char *err, size_t errlen)
{
	return sshkex_setup(
	        (unsigned)persona_int("ssh.rsa_bits", 3072), err, errlen);
}

/* ssh.max_startups and ssh.max_unauth, read once. */
static const struct sshlimit *
ssh_limit(void)
{
	static struct sshlimit l;
	static int done;
	const char *v;
	char *end;

	if (done)
		return &l;
	done = 1;
	if ((v = persona_get("ssh.max_startups", NULL))) {
		l.start = l.full = (unsigned)fmt_strtol(v, &end, 10);
		l.rate = 100;
		if (*end == ':') {
			l.rate = (unsigned)fmt_strtol(end + 1, &end, 10);
			if (*end == ':')
				l.full =
				        (unsigned)fmt_strtol(end + 1, &end, 10);
		}
		if (l.rate > 100 || l.full < l.start)
			l.start = 0; /* sshd refuses to start on these */
	}
	if ((v = persona_get("ssh.max_unauth", NULL))) {
		l.per_addr = (unsigned)fmt_strtol(v, &end, 10);
		l.total = (unsigned)fmt_strtol(end, &end, 10);
	}
	return &l;
}

/* ssh.banner_delay_ms "MIN MAX": this connection's delay in ms. */
static long
ssh_banner_delay(void)
{
	const char *v = persona_get("ssh.banner_delay_ms", NULL);
	char *end;
	long lo, hi;
	uint32_t r;

	if (!v)
		return 0;
	lo = fmt_strtol(v, &end, 10);
	hi = fmt_strtol(end, &end, 10);
	if (lo <= 0 || hi < lo)
		return lo > 0 ? lo : 0;
	lure_random(&r, sizeof r);
	return lo + (long)(r % (uint32_t)(hi - lo + 1));
}

/* The identification line (and dropbear's KEXINIT). */
static void
ssh_greet(struct emu_ctx *ctx, struct ssh_state *st)
{
	size_t n;
	const char *v = sshstate_get("ssh.version", "SSH-2.0-OpenSSH", &n);

	st->greet = 0;
	(void)emu_send(ctx, v, n);
	(void)emu_send(ctx, "\r\n", 2);
	if (st->db) /* dropbear does not wait for the client's line */
		(void)send_kexinit(ctx, st);
}

static void
ssh_open(struct emu_ctx *ctx, void *state)
{
	struct ssh_state *st = state;
	char err[160];
	long grace = persona_int("ssh.login_grace_ms", 120000), delay;

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
	switch (sshlimit_admit(ssh_limit(), emu_peer_addr(ctx), &st->unauth)) {
	case SSHLIMIT_OK: break;
	case SSHLIMIT_EXCEEDED:
		(void)emu_send(ctx, "Exceeded MaxStartups\r\n", 22);
		/* fall through */
	case SSHLIMIT_DROP: emu_close(ctx); return;
	}
	if (grace > 0) {
		st->grace_at = lure_now() + grace;
		emu_timer(ctx, grace);
	}
	/* the daemon forks (and sshd re-executes itself) before its line */
	if ((delay = ssh_banner_delay()) > 0) {
		st->greet = 1;
		emu_wake(ctx, delay);
		return;
	}
	ssh_greet(ctx, st);
}

static size_t
ssh_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct ssh_state *st = state;

	if (st->delay_msg || st->sleep_at)
		return 0;
	if (st->bye_crlf)
		return n;
	if (st->phase == SSH_P_VERSION)
		return version_in(ctx, st, p, n);
	return packet_in(ctx, st, p, n);
}

static void
ssh_timeout(struct emu_ctx *ctx, void *state)
{
	struct ssh_state *st = state;

	if (st->greet) {
		ssh_greet(ctx, st);
		return;
	}
	if (st->bye_crlf) {
		(void)emu_send(ctx, "\r\n", 2);
		emu_close(ctx);
		return;
	}
	if (st->sleep_at || (st->pend_len && st->chan_open == 1)) {
		/* a shell line's sleep is over, or room in the output
		 * buffer again; then the input held meanwhile is read */
		sshchan_flush(ctx, st);
		if (!st->sleep_at && !st->pend_len)
			emu_wake(ctx, 1);
		return;
	}
	if (st->delay_msg && lure_now() >= st->delay_at) {
		sshauth_delay_end(ctx, st);
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
	sshlimit_done(&st->unauth);
	sshpkt_keys_free(&st->in);
	sshpkt_keys_free(&st->out);
	sshzlib_put(st->z);
	st->z = NULL;
	if (st->phase >= SSH_P_KEX && st->phase <= SSH_P_GEX_INIT) {
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
