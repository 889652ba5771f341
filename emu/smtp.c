/* smtp.c: an SMTP server (Postfix 3.7's smtpd as Debian 12 ships it, by
 * persona data): the greeting, HELO/EHLO, MAIL/RCPT/DATA/BDAT received and
 * logged but never relayed nor delivered, AUTH PLAIN/LOGIN where the port
 * offers it, STARTTLS (emu_starttls()), VRFY, ETRN, the error counter,
 * the idle time-out and the forbidden commands (an HTTP request). A "login"
 * event per AUTH attempt, a "command" per line, a "request" per message.
 *
 * Persona keys. Replies are wire bytes with "%" expansions: %h the host
 * name (emu_hostname()), %s the argument (an address, a queue ID), %n a
 * byte count (BDAT), %% '%'.
 *   smtp.greeting            [required] sent to each new client ("220 %h
 *                            ESMTP...")
 *   smtp.ehlo                [repeated] one EHLO keyword line each, in
 *                            order, after "250-%h"; "STARTTLS" is left out
 *                            once TLS is on, "AUTH ..." is sent only where
 *                            and when AUTH is offered
 *   smtp.r.<word>            a reply (the words: below and in the persona)
 *   smtp.submission.<port>   1: that port is master.cf's "submission"
 *                            (smtpd_tls_security_level=encrypt, AUTH only
 *                            under TLS, RCPT needs AUTH); else no AUTH
 *   smtp.auth_mechs          AUTH mechanisms offered ("PLAIN LOGIN")
 *   smtp.accept              [repeated] "USER:PASSWORD" that authenticate
 *                            ("*" for any), as ssh.accept
 *   smtp.domains             mydestination and the names it resolves
 *                            (space-separated, any case); the local address
 *                            as [a.b.c.d] too
 *   smtp.users               the local recipient table (passwd and
 *                            aliases, space-separated)
 *   smtp.mail_params         MAIL's ESMTP parameters (space-separated
 *                            names; others: smtp.r.bad_param); SIZE=
 *                            over smtp.size_limit: smtp.r.too_big
 *   smtp.rcpt_params         RCPT's
 *   smtp.size_limit          message_size_limit (10240000)
 *   smtp.helo_required       smtpd_helo_required (0): 1, smtp.r.need_helo
 *                            before MAIL, RCPT, DATA, ETRN, AUTH without it
 *   smtp.idle_ms             smtpd_timeout (300000): then smtp.r.timeout
 *   smtp.hard_errors         smtpd_hard_error_limit (20)
 *   smtp.soft_errors         smtpd_soft_error_limit (10): from then on
 *   smtp.error_sleep_ms      smtpd_error_sleep_time (1000) before each reply
 *   smtp.forbidden           smtpd_forbidden_commands (space-separated;
 *                            any first word not starting with a letter,
 *                            and a "Header:" word, are forbidden too)
 *
 * Events: "command" per line outside DATA and the AUTH dialogue:
 * lure.command (the line, CR LF cut), lure.smtp.code (the reply's status),
 * lure.smtp.helo once given, lure.smtp.mail_from (MAIL), lure.smtp.rcpt_to
 * (RCPT, VRFY), user.name once authenticated; tag "relay" on a recipient
 * outside smtp.domains. "login" per AUTH attempt: user.name,
 * lure.auth.password, lure.auth.method (PLAIN, LOGIN), event.outcome.
 * "request" per DATA or BDAT ... LAST message: email.from.address,
 * email.to.address (the first recipient), lure.smtp.rcpt_count,
 * email.subject (its first Subject: header), email.local_id (the queue ID
 * answered), file.size and file.hash.sha256 (the message as received,
 * dot-unstuffed, CR LF kept), lure.indicators.url (URLs of its lines),
 * lure.smtp.helo, event.outcome (failure: over smtp.size_limit).
 *
 * Compared with Debian 12's postfix 3.7.11-0+deb12u1 ("Internet Site",
 * myhostname debian, the stock main.cf; master.cf's submission block
 * uncommented with Cyrus SASL's sasldb, mech_list PLAIN LOGIN) on loopback:
 * test/persona/test_diff_smtp.py sends the same inputs to both.
 * - A line ends at LF; trailing CR goes; a line of SMTP_LINE bytes without
 *   an LF is taken as a command and the rest up to the LF skipped
 *   (line_length_limit). The verb is the first word, any case.
 * - Each 4xx/5xx answer counts an error; from smtp.soft_errors on each
 *   answer waits smtp.error_sleep_ms; at smtp.hard_errors the next command
 *   gets "421 ... too many errors" and a close.
 * - Addresses: <...> or a bare word after FROM:/TO: (spaces allowed before
 *   it); the local part is looked up in smtp.users lower-cased and cut at
 *   '+' (recipient_delimiter); no domain is local.
 * - The queue ID is Postfix's short form: five hex digits of the
 *   microsecond and the queue file's inode in hex, random here.
 * Not modelled: delivery of any kind (nothing leaves); the size counted is
 * the message's, not the queue file's (Postfix adds its Received: header);
 * improper pipelining is not told apart (Postfix only logs it); XCLIENT,
 * XFORWARD and smtpd_junk_command_limit; DSN parameters are accepted
 * without their syntax being checked; AUTH mechanisms other than PLAIN and
 * LOGIN fail as unavailable; base64 bodies are not decoded for URLs. */
#include <string.h>

#include "emu.h"
#include "fmt.h"
#include "hash.h"
#include "indicators.h"
#include "lure.h"
#include "persona.h"

#define SMTP_LINE 2048 /* line_length_limit */
#define SMTP_REPLY 1024 /* longest expanded reply but EHLO's */
#define SMTP_HELO 64
#define SMTP_ADDR 128
#define SMTP_USER 64
#define SMTP_SUBJ 128
#define SMTP_URLS 240 /* NUL-separated URLs of the message */
#define SMTP_AUTHBUF 384 /* a decoded AUTH response */

enum smtp_phase { SP_CMD, SP_DATA, SP_BDAT, SP_AUTH, SP_SKIP };
enum smtp_auth { SA_NONE, SA_PLAIN, SA_LOGIN_USER, SA_LOGIN_PASS };

struct smtp_state {
	int64_t idle_at;
	struct hash_sha256 sha;
	uint64_t msg_size, bdat_left;
	uint16_t rcpts, errors, code;
	uint8_t phase, auth, helo, tls, authed, mail, bdat_err, bdat_last;
	uint8_t done, slept, bol, in_hdr, data_ok, relay, dying;
	uint8_t helo_len, from_len, to_len, user_len, subj_len;
	uint16_t urls_len;
	char helo_name[SMTP_HELO];
	char from[SMTP_ADDR];
	char to[SMTP_ADDR];
	char user[SMTP_USER];
	char subj[SMTP_SUBJ];
	char urls[SMTP_URLS];
};

/* --- replies ------------------------------------------------------------- */

static uint64_t smtp_num; /* %n: set just before the reply that has it */

static void
smtp_expand(struct emu_ctx *ctx, struct smtp_state *st, const char *t,
        size_t tn, const char *arg, size_t an)
{
	char out[SMTP_REPLY], num[24];
	size_t o = 0, i;

	for (i = 0; i < tn; i++) {
		const char *s;
		size_t sl;

		if (t[i] != '%' || i + 1 >= tn) {
			if (o < sizeof out)
				out[o++] = t[i];
			continue;
		}
		switch (t[++i]) {
		case 'h': s = emu_hostname(ctx), sl = strlen(s); break;
		case 's': s = arg ? arg : "", sl = arg ? an : 0; break;
		case 'n':
			s = num, sl = (size_t)fmt_snprintf(num, sizeof num,
			                 "%llu", (unsigned long long)smtp_num);
			break;
		default: s = t + i, sl = 1; break;
		}
		if (sl > sizeof out - o)
			sl = sizeof out - o;
		memcpy(out + o, s, sl);
		o += sl;
	}
	if (o >= 3 && out[0] >= '1' && out[0] <= '5')
		st->code = (uint16_t)((out[0] - '0') * 100 +
		                      (out[1] - '0') * 10 + (out[2] - '0'));
	emu_send(ctx, out, o);
}

/* smtp.r.<word> with %s = arg */
static void
smtp_say_arg(struct emu_ctx *ctx, struct smtp_state *st, const char *word,
        const void *arg, size_t an)
{
	char key[40];
	size_t n;
	const char *t;

	fmt_snprintf(key, sizeof key, "smtp.r.%s", word);
	t = persona_get(key, &n);
	if (t)
		smtp_expand(ctx, st, t, n, arg, an);
}

static void
smtp_say(struct emu_ctx *ctx, struct smtp_state *st, const char *word)
{
	smtp_say_arg(ctx, st, word, NULL, 0);
}

/* A reply with the address as %s: Postfix echoes it inside <>. */
static void
smtp_say_addr(struct emu_ctx *ctx, struct smtp_state *st, const char *word,
        const uint8_t *a, size_t an)
{
	smtp_say_arg(ctx, st, word, a, an);
}

/* --- lists --------------------------------------------------------------- */

static int
smtp_in_list(const char *key, const uint8_t *w, size_t wn)
{
	size_t ln, i = 0;
	const char *l = persona_get(key, &ln);

	while (l && i < ln) {
		size_t j = i;

		while (j < ln && l[j] != ' ')
			j++;
		if (j - i == wn && wn && fmt_caseeq(l + i, (const char *)w, wn))
			return 1;
		i = j + 1;
	}
	return 0;
}

static int
smtp_is(const uint8_t *v, size_t vn, const char *w)
{
	size_t n = strlen(w);

	return vn == n && fmt_caseeq((const char *)v, w, n);
}

static int
smtp_submission(struct emu_ctx *ctx)
{
	char key[40];

	fmt_snprintf(
	        key, sizeof key, "smtp.submission.%u", (unsigned)emu_port(ctx));
	return persona_int(key, 0) == 1;
}

/* AUTH is offered now */
static int
smtp_auth_offered(struct emu_ctx *ctx, const struct smtp_state *st)
{
	return smtp_submission(ctx) && st->tls;
}

/* --- events -------------------------------------------------------------- */

static void
smtp_common(struct event *e, const struct smtp_state *st)
{
	if (st->helo_len)
		event_bytes(e, "lure.smtp.helo", st->helo_name, st->helo_len,
		        EVENT_CAP_DEFAULT);
	if (st->authed)
		event_bytes(e, "user.name", st->user, st->user_len,
		        EVENT_CAP_DEFAULT);
}

static void
smtp_login(struct emu_ctx *ctx, struct smtp_state *st, const char *method,
        const uint8_t *user, size_t un, const uint8_t *pw, size_t pn)
{
	struct event *e = emu_event(ctx, "login");
	int ok = persona_accepts("smtp.accept", user, un, pw, pn);

	event_bytes(e, "user.name", user, un, EVENT_CAP_DEFAULT);
	event_bytes(e, "lure.auth.password", pw, pn, EVENT_CAP_DEFAULT);
	event_str(e, "lure.auth.method", method);
	if (st->helo_len)
		event_bytes(e, "lure.smtp.helo", st->helo_name, st->helo_len,
		        EVENT_CAP_DEFAULT);
	event_str(e, "event.outcome", ok ? "success" : "failure");
	event_commit(e);
	st->auth = SA_NONE;
	st->phase = SP_CMD;
	if (ok) {
		st->authed = 1;
		st->user_len = (uint8_t)LURE_MIN(un, SMTP_USER);
		memcpy(st->user, user, st->user_len);
		smtp_say(ctx, st, "auth_ok");
	} else {
		smtp_say(ctx, st, "auth_fail");
	}
}

/* --- the transaction ----------------------------------------------------- */

static void
smtp_reset_mail(struct smtp_state *st)
{
	st->mail = 0;
	st->rcpts = 0;
	st->from_len = st->to_len = 0;
	st->relay = 0;
	st->bdat_err = 0;
	st->msg_size = 0;
	st->subj_len = 0;
	st->urls_len = 0;
	st->data_ok = 0;
}

static void
smtp_begin_msg(struct smtp_state *st)
{
	hash_sha256_init(&st->sha);
	st->msg_size = 0;
	st->subj_len = 0;
	st->urls_len = 0;
	st->bol = 1;
	st->in_hdr = 1;
}

/* the queue ID: Postfix's short form (%05X of the microsecond, the queue
 * file's inode in hex) */
static size_t
smtp_queue_id(char *out, size_t cap)
{
	uint32_t r[2];

	lure_random(r, sizeof r);
	return (size_t)fmt_snprintf(out, cap, "%05X%X",
	        (unsigned)(r[0] % 1000000),
	        (unsigned)(0x100000 + r[1] % 0xefffff));
}

static void
smtp_end_msg(struct emu_ctx *ctx, struct smtp_state *st, int bdat)
{
	uint8_t d[32];
	char hex[65], id[24];
	size_t idn = smtp_queue_id(id, sizeof id);
	long limit = persona_int("smtp.size_limit", 10240000);
	int big = limit > 0 && st->msg_size > (uint64_t)limit;
	struct event *e = emu_event(ctx, "request");
	struct ind_result *r = NULL;

	if (bdat && !st->bol) { /* cleanup ends the last line */
		hash_sha256_update(&st->sha, "\r\n", 2);
		st->msg_size += 2;
	}
	smtp_num = st->msg_size;
	hash_sha256_final(&st->sha, d);
	hash_hex(d, sizeof d, hex);
	event_bytes(e, "email.from.address", st->from, st->from_len,
	        EVENT_CAP_DEFAULT);
	event_bytes(
	        e, "email.to.address", st->to, st->to_len, EVENT_CAP_DEFAULT);
	event_int(e, "lure.smtp.rcpt_count", st->rcpts);
	if (st->subj_len)
		event_bytes(e, "email.subject", st->subj, st->subj_len,
		        EVENT_CAP_DEFAULT);
	if (!big)
		event_bytes(e, "email.local_id", id, idn, 64);
	event_int(e, "file.size", (int64_t)st->msg_size);
	event_str(e, "file.hash.sha256", hex);
	if (st->urls_len) {
		static struct ind_result ir;
		size_t i = 0;

		r = &ir;
		r->nurl = r->ncommand = r->nip = 0;
		r->truncated = 0;
		while (i < st->urls_len && r->nurl < IND_MAX) {
			r->url[r->nurl++] = st->urls + i;
			i += strlen(st->urls + i) + 1;
		}
		indicators_event(e, r);
	}
	smtp_common(e, st);
	event_str(e, "event.outcome", big ? "failure" : "success");
	event_commit(e);
	if (big)
		smtp_say(ctx, st, "too_big");
	else if (bdat)
		smtp_say_arg(ctx, st, "bdat_queued", id, idn);
	else
		smtp_say_arg(ctx, st, "queued", id, idn);
	st->phase = SP_CMD;
	smtp_reset_mail(st);
}

/* One line of the message (without its LF; with what CR it has), at the
 * start of a line when bol. */
static void
smtp_msg_bytes(struct smtp_state *st, const uint8_t *p, size_t n, int lf)
{
	int bol = st->bol;

	hash_sha256_update(&st->sha, p, n);
	st->msg_size += n;
	if (lf) {
		hash_sha256_update(&st->sha, "\n", 1);
		st->msg_size++;
	}
	st->bol = (uint8_t)lf;
	if (!bol)
		return;
	while (n && p[n - 1] == '\r')
		n--;
	if (st->in_hdr && !n) {
		st->in_hdr = 0;
		return;
	}
	if (st->in_hdr && !st->subj_len && n > 8 &&
	        fmt_caseeq((const char *)p, "Subject:", 8)) {
		size_t k = 8;

		while (k < n && (p[k] == ' ' || p[k] == '\t'))
			k++;
		st->subj_len = (uint8_t)LURE_MIN(n - k, SMTP_SUBJ);
		memcpy(st->subj, p + k, st->subj_len);
	}
	if (n > 8 && st->urls_len < SMTP_URLS - 8 &&
	        (memmem(p, n, "://", 3) || memmem(p, n, "www.", 4))) {
		static struct ind_result ir;
		size_t i;

		indicators_extract(p, n, 0, &ir);
		for (i = 0; i < ir.nurl; i++) {
			size_t ul = strlen(ir.url[i]);

			if (st->urls_len + ul + 1 > SMTP_URLS)
				break;
			memcpy(st->urls + st->urls_len, ir.url[i], ul + 1);
			st->urls_len = (uint16_t)(st->urls_len + ul + 1);
		}
	}
}

/* DATA: one line (or SMTP_LINE bytes of one) per call. */
static size_t
smtp_data_in(
        struct emu_ctx *ctx, struct smtp_state *st, const uint8_t *p, size_t n)
{
	size_t scan = LURE_MIN(n, SMTP_LINE);
	const uint8_t *lf = memchr(p, '\n', scan);
	size_t len, used;

	if (!lf && n < SMTP_LINE)
		return 0;
	len = lf ? (size_t)(lf - p) : scan;
	used = lf ? len + 1 : len;
	if (st->bol && lf && len >= 1 && p[0] == '.' &&
	        (len == 1 || (len == 2 && p[1] == '\r'))) {
		smtp_end_msg(ctx, st, 0);
		return used;
	}
	if (st->bol && len && p[0] == '.')
		p++, len--; /* dot-stuffing */
	smtp_msg_bytes(st, p, len, lf != NULL);
	return used;
}

/* BDAT: the chunk's bytes. */
static size_t
smtp_bdat_in(
        struct emu_ctx *ctx, struct smtp_state *st, const uint8_t *p, size_t n)
{
	size_t k = (size_t)LURE_MIN((uint64_t)n, st->bdat_left);

	if (!st->bdat_err) {
		size_t i = 0;

		while (i < k) { /* by lines, for the Subject and URLs */
			const uint8_t *lf = memchr(p + i, '\n', k - i);
			size_t e = lf ? (size_t)(lf - p) : k;

			smtp_msg_bytes(st, p + i, e - i, lf != NULL);
			i = lf ? e + 1 : e;
		}
	}
	st->bdat_left -= k;
	if (st->bdat_left)
		return k;
	st->phase = SP_CMD;
	if (st->bdat_err == 2) { /* the chunk of the BDAT refused at once */
		st->bdat_err = 1;
		return k;
	}
	if (st->bdat_err) {
		smtp_num = st->msg_size;
		smtp_say(ctx, st, "bdat_discard");
		if (st->bdat_last)
			smtp_reset_mail(st);
		return k;
	}
	if (st->bdat_last) {
		smtp_end_msg(ctx, st, 1);
		return k;
	}
	smtp_num = st->msg_size;
	smtp_say(ctx, st, "bdat_ok");
	return k;
}

/* --- commands ------------------------------------------------------------ */

/* The address after "FROM:" / "TO:" in arg: <...> or a word. Returns 0
 * with *a, *an (inside the brackets) and *rest (the parameters), or -1. */
static int
smtp_addr(const uint8_t *arg, size_t an, const char *kw, const uint8_t **a,
        size_t *al, const uint8_t **rest, size_t *rn)
{
	size_t kl = strlen(kw), i, j;

	if (an < kl || !fmt_caseeq((const char *)arg, kw, kl))
		return -1;
	i = kl;
	while (i < an && arg[i] == ' ')
		i++;
	if (i == an)
		return -1;
	if (arg[i] == '<') {
		const uint8_t *e = memchr(arg + i, '>', an - i);

		if (!e)
			return -2;
		j = (size_t)(e - arg);
		*a = arg + i + 1, *al = j - i - 1;
		j++;
	} else {
		j = i;
		while (j < an && arg[j] != ' ')
			j++;
		*a = arg + i, *al = j - i;
	}
	while (j < an && arg[j] == ' ')
		j++;
	*rest = arg + j, *rn = an - j;
	return 0;
}

/* The ESMTP parameters: 0, or the length of the first unknown one (at
 * *bad), -1 for a SIZE over the limit. */
static long
smtp_params(const uint8_t *p, size_t n, const char *known, const uint8_t **bad)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i, k;

		while (j < n && p[j] != ' ')
			j++;
		for (k = i; k < j && p[k] != '='; k++)
			;
		if (j > i && !smtp_in_list(known, p + i, k - i)) {
			*bad = p + i;
			return (long)(j - i);
		}
		if (k - i == 4 && fmt_caseeq((const char *)p + i, "SIZE", 4)) {
			uint64_t v = 0;
			size_t m;
			long lim = persona_int("smtp.size_limit", 10240000);

			for (m = k + 1; m < j && p[m] >= '0' && p[m] <= '9';
			        m++)
				if (v < (1ull << 62))
					v = v * 10 + (uint64_t)(p[m] - '0');
			if (lim > 0 && v > (uint64_t)lim)
				return -1;
		}
		i = j;
		while (i < n && p[i] == ' ')
			i++;
	}
	return 0;
}

/* smtpd_helo_required (smtp.helo_required 1): else MAIL, RCPT, ETRN...
 * need no HELO */
static int
smtp_helo_ok(struct emu_ctx *ctx, struct smtp_state *st)
{
	if (st->helo || persona_int("smtp.helo_required", 0) != 1)
		return 1;
	smtp_say(ctx, st, "need_helo");
	return 0;
}

static void
smtp_mail(struct emu_ctx *ctx, struct smtp_state *st, struct event *e,
        const uint8_t *arg, size_t an)
{
	const uint8_t *a, *rest, *bad;
	size_t al, rn;
	long pr;

	if (!smtp_helo_ok(ctx, st))
		return;
	if (st->bdat_err) {
		smtp_say(ctx, st, "mail_after_bdat");
		return;
	}
	if (st->mail) {
		smtp_say(ctx, st, "nested");
		return;
	}
	if (smtp_addr(arg, an, "FROM:", &a, &al, &rest, &rn) < 0) {
		smtp_say(ctx, st, "mail_syntax");
		return;
	}
	event_bytes(e, "lure.smtp.mail_from", a, al, EVENT_CAP_DEFAULT);
	pr = smtp_params(rest, rn, "smtp.mail_params", &bad);
	if (pr < 0) {
		smtp_say(ctx, st, "too_big");
		return;
	}
	if (pr > 0) {
		smtp_say_arg(ctx, st, "bad_param", bad, (size_t)pr);
		return;
	}
	st->mail = 1;
	st->from_len = (uint8_t)LURE_MIN(al, SMTP_ADDR);
	memcpy(st->from, a, st->from_len);
	smtp_say(ctx, st, "mail_ok");
}

/* 1: the address is this host's (no domain, a smtp.domains name or the
 * local address as a literal); *ll the local part's length, cut at '+' */
static int
smtp_local(struct emu_ctx *ctx, const uint8_t *a, size_t al, size_t *ll)
{
	const uint8_t *at = NULL;
	size_t i, dn;
	const uint8_t *d;

	for (i = al; i > 0; i--)
		if (a[i - 1] == '@') {
			at = a + i - 1;
			break;
		}
	*ll = at ? (size_t)(at - a) : al;
	for (i = 0; i < *ll; i++)
		if (a[i] == '+') {
			*ll = i;
			break;
		}
	if (!at)
		return 1;
	d = at + 1, dn = al - (size_t)(d - a);
	if (dn > 2 && d[0] == '[' && d[dn - 1] == ']') {
		const char *la = emu_local_addr(ctx);

		return strlen(la) == dn - 2 && !memcmp(la, d + 1, dn - 2);
	}
	return smtp_in_list("smtp.domains", d, dn);
}

/* RCPT and VRFY: 0 when the recipient is accepted, else the reply sent. */
static int
smtp_check_rcpt(struct emu_ctx *ctx, struct smtp_state *st, struct event *e,
        const uint8_t *a, size_t al)
{
	size_t ll;
	int local = smtp_local(ctx, a, al, &ll);

	if (!local) {
		event_tag(e, "relay");
		st->relay = 1;
	}
	if (smtp_submission(ctx)) {
		if (st->authed)
			return 0;
		smtp_say_addr(ctx, st, "access_denied", a, al);
		return -1;
	}
	if (!local && !st->authed) {
		smtp_say_addr(ctx, st, "relay", a, al);
		return -1;
	}
	if (local && !smtp_in_list("smtp.users", a, ll)) {
		smtp_say_addr(ctx, st, "unknown_user", a, al);
		return -1;
	}
	return 0;
}

static void
smtp_rcpt(struct emu_ctx *ctx, struct smtp_state *st, struct event *e,
        const uint8_t *arg, size_t an)
{
	const uint8_t *a, *rest, *bad;
	size_t al, rn;
	long pr;

	if (!smtp_helo_ok(ctx, st))
		return;
	if (!st->mail) {
		smtp_say(ctx, st, "need_mail");
		return;
	}
	if (smtp_addr(arg, an, "TO:", &a, &al, &rest, &rn) < 0) {
		smtp_say(ctx, st, "rcpt_syntax");
		return;
	}
	event_bytes(e, "lure.smtp.rcpt_to", a, al, EVENT_CAP_DEFAULT);
	pr = smtp_params(rest, rn, "smtp.rcpt_params", &bad);
	if (pr) {
		smtp_say_arg(
		        ctx, st, "bad_param", bad, pr > 0 ? (size_t)pr : 0);
		return;
	}
	if (smtp_check_rcpt(ctx, st, e, a, al))
		return;
	if (!st->rcpts) {
		st->to_len = (uint8_t)LURE_MIN(al, SMTP_ADDR);
		memcpy(st->to, a, st->to_len);
	}
	if (st->rcpts < 65535)
		st->rcpts++;
	smtp_say(ctx, st, "rcpt_ok");
}

static void
smtp_vrfy(struct emu_ctx *ctx, struct smtp_state *st, struct event *e,
        const uint8_t *arg, size_t an)
{
	const uint8_t *a = arg;
	size_t al = an;

	if (!an) {
		smtp_say(ctx, st, "vrfy_syntax");
		return;
	}
	if (al >= 2 && a[0] == '<' && a[al - 1] == '>')
		a++, al -= 2;
	event_bytes(e, "lure.smtp.rcpt_to", a, al, EVENT_CAP_DEFAULT);
	if (!smtp_check_rcpt(ctx, st, e, a, al))
		smtp_say_arg(ctx, st, "vrfy", arg, an);
}

static void
smtp_ehlo(struct emu_ctx *ctx, struct smtp_state *st, int ext,
        const uint8_t *arg, size_t an)
{
	const struct persona_kv *kv;
	size_t i = 0;
	char line[SMTP_REPLY];
	const struct persona_kv *last = NULL;

	if (!an) {
		smtp_say(ctx, st, ext ? "ehlo_syntax" : "helo_syntax");
		return;
	}
	smtp_reset_mail(st);
	st->helo = 1;
	st->helo_len = (uint8_t)LURE_MIN(an, SMTP_HELO);
	memcpy(st->helo_name, arg, st->helo_len);
	if (!ext) {
		smtp_say(ctx, st, "helo");
		return;
	}
	/* which keyword is the last one sent (it gets "250 ") */
	while ((kv = persona_next("smtp.ehlo", &i))) {
		if (kv->len == 8 && !memcmp(kv->val, "STARTTLS", 8) && st->tls)
			continue;
		if (kv->len >= 4 && !memcmp(kv->val, "AUTH", 4) &&
		        !smtp_auth_offered(ctx, st))
			continue;
		last = kv;
	}
	fmt_snprintf(line, sizeof line, "250%c%%h\r\n", last ? '-' : ' ');
	smtp_expand(ctx, st, line, strlen(line), NULL, 0);
	i = 0;
	while ((kv = persona_next("smtp.ehlo", &i))) {
		if (kv->len == 8 && !memcmp(kv->val, "STARTTLS", 8) && st->tls)
			continue;
		if (kv->len >= 4 && !memcmp(kv->val, "AUTH", 4) &&
		        !smtp_auth_offered(ctx, st))
			continue;
		fmt_snprintf(line, sizeof line, "250%c%.*s\r\n",
		        kv == last ? ' ' : '-', (int)LURE_MIN(kv->len, 900),
		        kv->val);
		emu_send(ctx, line, strlen(line));
	}
	st->code = 250;
}

/* AUTH PLAIN's response decoded: authzid NUL authcid NUL password */
static void
smtp_plain(struct emu_ctx *ctx, struct smtp_state *st, const uint8_t *b64,
        size_t n)
{
	uint8_t buf[SMTP_AUTHBUF];
	long dn = hash_unb64((const char *)b64, n, buf, sizeof buf, 0);
	const uint8_t *u, *p, *z1, *z2;

	if (dn < 0) {
		smtp_say(ctx, st, "auth_step");
		st->phase = SP_CMD, st->auth = SA_NONE;
		return;
	}
	z1 = memchr(buf, 0, (size_t)dn);
	z2 = z1 ? memchr(z1 + 1, 0, (size_t)(buf + dn - z1 - 1)) : NULL;
	if (!z2) {
		smtp_say(ctx, st, "auth_step");
		st->phase = SP_CMD, st->auth = SA_NONE;
		return;
	}
	u = z1 + 1, p = z2 + 1;
	smtp_login(ctx, st, "PLAIN", u, (size_t)(z2 - u), p,
	        (size_t)(buf + dn - p));
}

static void
smtp_auth(struct emu_ctx *ctx, struct smtp_state *st, const uint8_t *arg,
        size_t an)
{
	size_t mn = 0;
	const uint8_t *ir;
	size_t irn;

	if (smtp_submission(ctx) && !st->tls) {
		smtp_say(ctx, st, "tls_first");
		return;
	}
	if (!smtp_auth_offered(ctx, st)) {
		smtp_say(ctx, st, "auth_off");
		return;
	}
	if (!smtp_helo_ok(ctx, st))
		return;
	if (st->authed) {
		smtp_say(ctx, st, "auth_again");
		return;
	}
	if (st->mail) {
		smtp_say(ctx, st, "auth_in_mail");
		return;
	}
	while (mn < an && arg[mn] != ' ')
		mn++;
	if (!mn) {
		smtp_say(ctx, st, "auth_syntax");
		return;
	}
	ir = arg + mn, irn = an - mn;
	while (irn && *ir == ' ')
		ir++, irn--;
	if (!smtp_in_list("smtp.auth_mechs", arg, mn)) {
		smtp_say(ctx, st, "auth_mech");
		return;
	}
	if (smtp_is(arg, mn, "PLAIN")) {
		if (irn && !(irn == 1 && ir[0] == '=')) {
			smtp_plain(ctx, st, ir, irn);
			return;
		}
		st->auth = SA_PLAIN;
		smtp_say(ctx, st, "auth_empty");
	} else {
		st->auth = SA_LOGIN_USER;
		st->user_len = 0;
		if (irn) {
			long dn = hash_unb64((const char *)ir, irn,
			        (uint8_t *)st->user, sizeof st->user, 0);

			if (dn < 0) {
				smtp_say(ctx, st, "auth_step");
				st->auth = SA_NONE;
				return;
			}
			st->user_len = (uint8_t)dn;
			st->auth = SA_LOGIN_PASS;
		}
		smtp_say(ctx, st,
		        st->auth == SA_LOGIN_PASS ? "auth_pass" : "auth_user");
	}
	st->phase = SP_AUTH;
}

/* A line of the AUTH dialogue (not a command event: the login is). */
static void
smtp_auth_line(
        struct emu_ctx *ctx, struct smtp_state *st, const uint8_t *l, size_t n)
{
	uint8_t pw[SMTP_AUTHBUF];
	long dn;

	if (n == 1 && l[0] == '*') {
		st->phase = SP_CMD, st->auth = SA_NONE, st->user_len = 0;
		smtp_say(ctx, st, "auth_abort");
		return;
	}
	if (st->auth == SA_PLAIN) {
		smtp_plain(ctx, st, l, n);
		return;
	}
	dn = hash_unb64((const char *)l, n, pw, sizeof pw, 0);
	if (dn < 0) {
		st->phase = SP_CMD, st->auth = SA_NONE, st->user_len = 0;
		smtp_say(ctx, st, "auth_step");
		return;
	}
	if (st->auth == SA_LOGIN_USER) {
		st->user_len = (uint8_t)LURE_MIN((size_t)dn, SMTP_USER);
		memcpy(st->user, pw, st->user_len);
		st->auth = SA_LOGIN_PASS;
		smtp_say(ctx, st, "auth_pass");
		return;
	}
	smtp_login(ctx, st, "LOGIN", (const uint8_t *)st->user, st->user_len,
	        pw, (size_t)dn);
	if (!st->authed)
		st->user_len = 0;
}

static void
smtp_bdat(struct emu_ctx *ctx, struct smtp_state *st, const uint8_t *arg,
        size_t an)
{
	uint64_t v = 0;
	size_t i = 0;

	while (i < an && arg[i] >= '0' && arg[i] <= '9' && v < (1ull << 40))
		v = v * 10 + (uint64_t)(arg[i++] - '0');
	st->bdat_last = 0;
	if (!i || v >= (1ull << 40) ||
	        (i < an && !smtp_is(arg + i, an - i, " LAST"))) {
		smtp_say(ctx, st, "bdat_syntax");
		st->done = 1;
		emu_close(ctx);
		return;
	}
	st->bdat_last = i < an;
	st->bdat_left = v;
	if (!st->bdat_err && !st->rcpts) {
		st->bdat_err = 1;
		st->msg_size = 0;
		/* Postfix answers once the chunk is read */
		if (smtp_helo_ok(ctx, st))
			smtp_say(ctx, st, st->mail ? "no_rcpts" : "need_rcpt");
		st->msg_size = v;
		st->bdat_left = v;
		st->phase = v ? SP_BDAT : SP_CMD;
		st->bdat_err = 2; /* the discard message is not sent for it */
		return;
	}
	if (st->bdat_err) {
		st->msg_size = v;
	} else if (!st->data_ok) {
		st->data_ok = 1;
		smtp_begin_msg(st);
	}
	st->phase = SP_BDAT;
	if (!v)
		smtp_bdat_in(ctx, st, arg, 0);
}

static void
smtp_starttls(struct emu_ctx *ctx, struct smtp_state *st, size_t an)
{
	if (an) {
		smtp_say(ctx, st, "starttls_syntax");
		return;
	}
	if (st->tls) {
		smtp_say(ctx, st, "tls_active");
		return;
	}
	if (emu_starttls(ctx) < 0) {
		smtp_say(ctx, st, "tls_fail");
		return;
	}
	smtp_say(ctx, st, "tls_ready");
	/* Postfix forgets the HELO and the transaction (RFC 3207) */
	st->tls = 1;
	st->helo = 0;
	smtp_reset_mail(st);
}

/* a forbidden command: an HTTP method, a header, not a letter first */
static int
smtp_forbidden(const uint8_t *v, size_t vn)
{
	if (!vn)
		return 0;
	if (!((v[0] >= 'A' && v[0] <= 'Z') || (v[0] >= 'a' && v[0] <= 'z')))
		return 1;
	if (v[vn - 1] == ':')
		return 1;
	return smtp_in_list("smtp.forbidden", v, vn);
}

static void
smtp_command(struct emu_ctx *ctx, struct smtp_state *st, struct event *e,
        const uint8_t *v, size_t vn, const uint8_t *arg, size_t an)
{
	int sub_plain = smtp_submission(ctx) && !st->tls;

	if (smtp_is(v, vn, "EHLO") || smtp_is(v, vn, "HELO")) {
		smtp_ehlo(ctx, st, smtp_is(v, vn, "EHLO"), arg, an);
	} else if (smtp_is(v, vn, "QUIT")) {
		smtp_say(ctx, st, "bye");
		st->done = 1;
		emu_close(ctx);
	} else if (smtp_is(v, vn, "NOOP")) {
		smtp_say(ctx, st, "ok");
	} else if (smtp_is(v, vn, "RSET")) {
		if (an) {
			smtp_say(ctx, st, "rset_syntax");
		} else {
			smtp_reset_mail(st);
			smtp_say(ctx, st, "ok");
		}
	} else if (smtp_is(v, vn, "STARTTLS")) {
		smtp_starttls(ctx, st, an);
	} else if (smtp_is(v, vn, "AUTH")) {
		smtp_auth(ctx, st, arg, an);
	} else if (sub_plain &&
	           (smtp_is(v, vn, "MAIL") || smtp_is(v, vn, "RCPT") ||
	                   smtp_is(v, vn, "VRFY") || smtp_is(v, vn, "ETRN") ||
	                   smtp_is(v, vn, "DATA") || smtp_is(v, vn, "BDAT"))) {
		smtp_say(ctx, st, "tls_first");
	} else if (smtp_is(v, vn, "MAIL")) {
		smtp_mail(ctx, st, e, arg, an);
	} else if (smtp_is(v, vn, "RCPT")) {
		smtp_rcpt(ctx, st, e, arg, an);
	} else if (smtp_is(v, vn, "DATA")) {
		if (!smtp_helo_ok(ctx, st)) {
		} else if (st->bdat_err) {
			smtp_say(ctx, st, "data_after_bdat");
		} else if (!st->rcpts) {
			smtp_say(ctx, st, st->mail ? "no_rcpts" : "need_rcpt");
		} else if (an) {
			smtp_say(ctx, st, "data_syntax");
		} else {
			smtp_say(ctx, st, "data");
			smtp_begin_msg(st);
			st->phase = SP_DATA;
		}
	} else if (smtp_is(v, vn, "BDAT")) {
		smtp_bdat(ctx, st, arg, an);
	} else if (smtp_is(v, vn, "VRFY")) {
		smtp_vrfy(ctx, st, e, arg, an);
	} else if (smtp_is(v, vn, "ETRN")) {
		size_t k = 0;

		if (!an)
			smtp_say(ctx, st, "etrn_syntax");
		else if (!smtp_helo_ok(ctx, st))
			;
		else if (st->mail)
			smtp_say(ctx, st, "in_mail");
		else {
			while (k < an && (arg[k] == '@' || arg[k] == '#'))
				k++;
			smtp_say_arg(ctx, st, "etrn", arg + k, an - k);
		}
	} else if (smtp_forbidden(v, vn)) {
		smtp_say(ctx, st, "forbidden");
		st->done = 1;
		emu_close(ctx);
	} else {
		smtp_say(ctx, st, "unknown");
	}
}

static void
smtp_line(
        struct emu_ctx *ctx, struct smtp_state *st, const uint8_t *l, size_t n)
{
	size_t vn = 0, an;
	const uint8_t *arg;
	struct event *e;

	const uint8_t *z = memchr(l, 0, n);

	if (st->phase == SP_AUTH) {
		smtp_auth_line(ctx, st, l, n);
		return;
	}
	e = emu_event(ctx, "command");
	event_bytes(e, "lure.command", l, n, EVENT_CAP_DEFAULT);
	smtp_common(e, st);
	if (z) /* Postfix reads the line as a C string */
		n = (size_t)(z - l);
	while (n && (*l == ' ' || *l == '\t'))
		l++, n--;
	while (vn < n && l[vn] != ' ' && l[vn] != '\t')
		vn++;
	arg = l + vn;
	an = n - vn;
	while (an && (*arg == ' ' || *arg == '\t'))
		arg++, an--;
	while (an && (arg[an - 1] == ' ' || arg[an - 1] == '\t'))
		an--;
	if (!n) {
		smtp_say(ctx, st, "bad_syntax");
	} else {
		smtp_command(ctx, st, e, l, vn, arg, an);
	}
	if (st->code == 221 && st->done && !smtp_is(l, vn, "QUIT"))
		event_tag(e, "forbidden_command");
	event_int(e, "lure.smtp.code", st->code);
	event_commit(e);
}

/* --- the contract -------------------------------------------------------- */

static void
smtp_idle(struct emu_ctx *ctx, struct smtp_state *st)
{
	int64_t ms = persona_int("smtp.idle_ms", 300000);

	if (ms > 0) {
		st->idle_at = lure_now() + ms;
		emu_timer(ctx, ms);
	}
}

static void
smtp_open(struct emu_ctx *ctx, void *state)
{
	struct smtp_state *st = state;
	size_t n;
	const char *g = persona_get("smtp.greeting", &n);

	st->bol = 1;
	if (g)
		smtp_expand(ctx, st, g, n, NULL, 0);
	smtp_idle(ctx, st);
}

/* Postfix counts an error per 4xx/5xx answer; at smtp.hard_errors it
 * says so (after its sleep) and hangs up. */
static size_t
smtp_step(
        struct emu_ctx *ctx, struct smtp_state *st, const uint8_t *p, size_t n);

static size_t
smtp_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct smtp_state *st = state;
	size_t used;
	long hard = persona_int("smtp.hard_errors", 20);

	if (st->done || st->dying)
		return n;
	st->code = 0;
	used = smtp_step(ctx, st, p, n);
	if (st->code >= 400 && st->code != 421 && !st->done) {
		if (st->errors < 65535)
			st->errors++;
		if (hard > 0 && st->errors >= hard) {
			st->dying = 1;
			emu_wake(ctx, persona_int("smtp.error_sleep_ms", 1000));
		}
	}
	return used;
}

static size_t
smtp_step(
        struct emu_ctx *ctx, struct smtp_state *st, const uint8_t *p, size_t n)
{
	size_t scan = LURE_MIN(n, SMTP_LINE), len, used;
	const uint8_t *lf;
	long soft = persona_int("smtp.soft_errors", 10);

	if (emu_space(ctx) < SMTP_REPLY * 2)
		return 0; /* the answers before leave first */
	if (st->phase == SP_BDAT) {
		smtp_idle(ctx, st);
		return smtp_bdat_in(ctx, st, p, n);
	}
	if (st->phase == SP_DATA) {
		used = smtp_data_in(ctx, st, p, n);
		if (used)
			smtp_idle(ctx, st);
		return used;
	}
	lf = memchr(p, '\n', scan);
	if (st->phase == SP_SKIP) { /* the rest of a line too long */
		if (!lf)
			return scan;
		st->phase = SP_CMD;
		return (size_t)(lf - p) + 1;
	}
	if (!lf && n < SMTP_LINE)
		return 0;
	/* Postfix sleeps before each answer from smtp.soft_errors errors */
	if (soft > 0 && st->errors >= soft && !st->slept) {
		st->slept = 1;
		emu_wake(ctx, persona_int("smtp.error_sleep_ms", 1000));
		return 0;
	}
	st->slept = 0;
	smtp_idle(ctx, st);
	len = lf ? (size_t)(lf - p) : scan;
	used = lf ? len + 1 : len;
	if (!lf)
		st->phase = SP_SKIP;
	while (len && p[len - 1] == '\r')
		len--;
	smtp_line(ctx, st, p, len);
	if (st->phase == SP_SKIP && st->done)
		return n;
	return used;
}

static void
smtp_timeout(struct emu_ctx *ctx, void *state)
{
	struct smtp_state *st = state;

	if (st->dying && !st->done) {
		smtp_say(ctx, st, "too_many");
		st->done = 1;
		emu_close(ctx);
		return;
	}
	if (st->done || !st->idle_at || lure_now() < st->idle_at)
		return;
	smtp_say(ctx, st, "timeout");
	st->done = 1;
	emu_close(ctx);
}

const struct emulator emu_smtp = {
        .name = "smtp",
        .transports = EMU_TCP,
        .state_size = sizeof(struct smtp_state),
        .in_min = SMTP_LINE + 1,
        .on_open = smtp_open,
        .on_data = smtp_data,
        .on_timeout = smtp_timeout,
};
