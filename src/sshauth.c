/* sshauth.c: the SSH userauth service (RFC 4252, RFC 4256) as sshd and
 * dropbear run it for a user they do not know: every password,
 * keyboard-interactive answer and public key offer is a "login" event and
 * fails (after ssh.fail_delay_ms plus jitter, counted against
 * ssh.max_auth_tries) unless ssh.accept lists the pair; a login that works
 * gets USERAUTH_SUCCESS, delayed compression and sshd's hostkeys-00
 * announcement. The daemons' differences are in emu/ssh.c's header. */
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "hash.h"
#include "lure.h"
#include "sshlimit.h"
#include "sshstate.h"

void
sshauth_ev_client(struct event *e, const struct ssh_state *st)
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

	sshauth_ev_client(e, st);
	event_bytes(e, "user.name", st->user, st->user_len, EVENT_CAP_DEFAULT);
	event_str(e, "lure.auth.method", method);
	if (pw)
		event_bytes(
		        e, "lure.auth.password", pw, pwn, EVENT_CAP_DEFAULT);
	event_str(e, "event.outcome", ok ? "success" : "failure");
	event_commit(e);
}

static int
accepted(const struct ssh_state *st, const uint8_t *pw, size_t pwn)
{
	return persona_accepts("ssh.accept", st->user, st->user_len, pw, pwn);
}

static void
auth_failure_now(struct emu_ctx *ctx, struct ssh_state *st)
{
	size_t n;
	const char *m =
	        sshstate_get("ssh.auth_methods", "publickey,password", &n);
	struct sshkex_buf b = sshpkt_begin(SSH_MSG_USERAUTH_FAILURE);

	sshkex_str(&b, m, n);
	sshkex_u8(&b, 0);
	(void)sshpkt_send(ctx, st, &b);
}

void
sshauth_delay_end(struct emu_ctx *ctx, struct ssh_state *st)
{
	int last = st->delay_msg == 2;

	st->delay_msg = 0;
	if (last && st->db) {
		emu_close(ctx); /* "Max auth tries reached" */
		return;
	}
	if (last) {
		sshpkt_disconnect(ctx, st, 2,
		        sshstate_get("ssh.msg_too_many",
		                "Too many authentication failures", NULL));
		return;
	}
	auth_failure_now(ctx, st);
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
	sshauth_delay_end(ctx, st);
}

static void
auth_success(struct emu_ctx *ctx, struct ssh_state *st)
{
	static const enum sshkex_hostkey keys[] = {
	        SSHKEX_HK_RSA512, SSHKEX_HK_ECDSA, SSHKEX_HK_ED25519};
	struct sshkex_buf b = sshpkt_begin(SSH_MSG_USERAUTH_SUCCESS);
	uint8_t blob[1024];

	st->authed = 1;
	sshlimit_done(&st->unauth);
	if (sshpkt_send(ctx, st, &b) < 0)
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
	b = sshpkt_begin(SSH_MSG_GLOBAL_REQUEST);
	sshkex_cstr(&b, "hostkeys-00@openssh.com");
	sshkex_u8(&b, 0);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		size_t n = sshkex_hostkey_blob(keys[i], blob, sizeof blob);
		if (n)
			sshkex_str(&b, blob, n);
	}
	(void)sshpkt_send(ctx, st, &b);
}

/* hostkeys-prove-00@openssh.com: a signature by each named host key over
 * (the request name, the session id, the key), as sshd makes them. */
void
sshauth_hostkeys_prove(
        struct emu_ctx *ctx, struct ssh_state *st, struct sshkex_buf *r)
{
	static const enum sshkex_hostkey keys[] = {
	        SSHKEX_HK_RSA512, SSHKEX_HK_ECDSA, SSHKEX_HK_ED25519};
	static const char name[] = "hostkeys-prove-00@openssh.com";
	uint8_t mine[1024], msg[1200], sig[1100];
	struct sshkex_buf b = sshpkt_begin(SSH_MSG_REQUEST_SUCCESS);

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
			b = sshpkt_begin(SSH_MSG_REQUEST_FAILURE);
			break;
		}
		sshkex_str(&b, sig, sn);
	}
	(void)sshpkt_send(ctx, st, &b);
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
	const char *l =
	        sshstate_get("ssh.auth_methods", "publickey,password", &n);

	return k && sshstate_list_has((const uint8_t *)l, n, m);
}

void
sshauth_request(
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
			sshauth_ev_client(e, st);
			event_bytes(
			        e, "user.name", user, un, EVENT_CAP_DEFAULT);
			event_str(e, "lure.auth.method", "password");
			if (pw)
				event_bytes(e, "lure.auth.password", pw, pwn,
				        EVENT_CAP_DEFAULT);
			event_str(e, "event.outcome", "failure");
			event_commit(e);
		}
		fmt_snprintf(m, sizeof m,
		        "Change of username or service not allowed: "
		        "(%.*s,%.*s) -> (%.*s,%.*s)",
		        (int)st->user_len, st->user, (int)st->svc_len, st->svc,
		        (int)LURE_MIN(un, 64), (const char *)user,
		        (int)LURE_MIN(sn, 64), (const char *)svc);
		if (st->db)
			emu_close(ctx); /* "Client trying multiple usernames" */
		else
			sshpkt_disconnect(ctx, st, 2, m);
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
		const char *pr =
		        sshstate_get("ssh.kbd_prompt", "Password: ", &pn);
		struct sshkex_buf b =
		        sshpkt_begin(SSH_MSG_USERAUTH_INFO_REQUEST);
		sshkex_cstr(&b, "");
		sshkex_cstr(&b, "");
		sshkex_cstr(&b, "");
		sshkex_u32(&b, 1);
		sshkex_str(&b, pr, pn);
		sshkex_u8(&b, 0);
		st->kbd_pending = 1;
		(void)sshpkt_send(ctx, st, &b);
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
		fmt_snprintf(fps, sizeof fps, "SHA256:%s", b64);
		e = emu_event(ctx, "login");
		sshauth_ev_client(e, st);
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

void
sshauth_info_response(
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
