/* telnet.c: BusyBox telnetd + login, down to the pty: negotiation, prompts,
 * the tty's echo and line editing, failure delay, tries and login timeout;
 * a "login" event per password (always a failure: there is no shell).
 *
 * Persona keys. Strings are wire bytes ("%h": hostname, "%%": '%'; absent:
 * nothing sent), keep each under TN_RESERVE; numbers default to BusyBox's.
 *   telnet.negotiate         sent on connect
 *   telnet.banner            then this (telnetd's newline + issue file)
 *   telnet.login_prompt      asks for the user name
 *   telnet.password_prompt   asks for the password
 *   telnet.password_end      sent when the password line ends
 *   telnet.fail              sent once telnet.fail_delay_ms has passed
 *   telnet.timeout           sent, then close, telnet.login_timeout_ms
 *                            after connect
 *   telnet.ayt               reply to IAC AYT
 *   telnet.fail_delay_ms     3000
 *   telnet.login_timeout_ms  60000 (0: none)
 *   telnet.max_tries         3 failed logins, then close (0: no limit)
 *   telnet.max_empty         10: the Nth blank user-name line closes (0: never)
 *   telnet.user_max          61: a longer user-name line closes (0: no limit)
 *   telnet.echo              1: echo the user name (telnetd said WILL ECHO)
 *
 * Events: "login" has user.name (the line from its first non-blank byte, not
 * cut at a blank as login does), lure.auth.password (absent when ^C or ^D
 * ended the read), event.outcome; the session's first event also carries
 * lure.telnet.options (the client's distinct option commands in order, e.g.
 * ["will:31","sb:31"]) and lure.telnet.naws ("80x24"). At close, input since
 * the last login event that held a data byte (or an unfinished command) is
 * one "request" event: lure.payload (first TN_RAW raw bytes), source.bytes.
 *
 * Verified against BusyBox 1.35 source (networking/telnetd.c,
 * loginutils/login.c, libbb/login.c, libbb/bb_askpass.c) and byte for byte
 * against Debian 12's busybox-static "telnetd -l login" on 127.0.0.1:
 * - telnetd answers no WILL/WONT/DO/DONT (it skips them), answers AYT with
 *   IAC NOP which its own IAC doubling sends as FF FF F1, takes IAC IAC as
 *   0xff, skips a third byte after IAC <byte below 240>; it passes CR to the
 *   pty and drops an LF or NUL right after it in the same read only (CR and
 *   LF in two reads are two line ends); a NUL ending a read is dropped.
 * - The pty (Linux defaults + ICRNL ONLCR XTABS): CR/LF end a line, DEL
 *   erases (BS SP BS, twice for a ^X; a tab back to its column), ^U kills,
 *   ^W erases a word, ^V quotes, ^R reprints, ^D pushes or is EOF, ^S/^Q
 *   vanish; ^C/^\ kill login (close) but ^C in the password read fails the
 *   login; ^Z is dropped with the line; echo shows controls as ^X, 0xff as
 *   FF FF, tabs as spaces to the next 8-column stop.
 * - login: blank lines prompt again (the 10th closes); a user name over 61
 *   bytes or with a NUL after its first byte closes; type-ahead is flushed
 *   before each prompt (here: the rest of the input that ended the line,
 *   echoed if it came with echo on); the password is read without echo, a
 *   newline follows, 3 s pause, "Login incorrect", 3 failures close; 60 s
 *   after start it prints the time-out and exits. 12 negotiation bytes: the
 *   DO LFLOW (FF FD 21) of nmap's 4206 line went in BusyBox 1.14 (d814c98).
 * Not verified or not modelled: other kernels' ttys (old embedded Linux);
 * signal dispositions (^C/^\ close only if telnetd runs with default
 * SIGINT/SIGQUIT, as from init; with them ignored login survives); the
 * type-ahead flush races on a slow device; telnetd feeds SB payloads other
 * than NAWS to login as typed bytes (we parse them to IAC SE); bytes typed
 * during the
 * failure delay are read after it as if typed at the new prompt (BusyBox
 * echoes then flushes them); ^S does not stop output; no 4095-byte tty line
 * limit; a locked or root account (BusyBox skips the password prompt) is
 * not modelled; only TN_LINE bytes of a line are kept (a reprint or tab
 * erase beyond them is approximate). */
#include <stdio.h>
#include <string.h>

#include "emu.h"
#include "lure.h"
#include "persona.h"

#define TN_LINE 128 /* bytes kept of the line being typed */
#define TN_RAW 256 /* raw bytes kept for the request event */
#define TN_OPTS 24 /* distinct option commands remembered */
#define TN_HOST_MAX 255 /* bytes of hostname a "%h" expands to */
#define TN_RESERVE 1024 /* output room wanted before taking another byte */

enum {
	T_SE = 240,
	T_AYT = 246,
	T_SB = 250,
	T_WILL = 251,
	T_IAC = 255,
	T_NAWS = 31,
};

/* Control characters of the pty (Linux defaults). */
enum {
	C_INTR = 0x03,
	C_EOF = 0x04,
	C_START = 0x11,
	C_REPRINT = 0x12,
	C_STOP = 0x13,
	C_KILL = 0x15,
	C_LNEXT = 0x16,
	C_WERASE = 0x17,
	C_SUSP = 0x1a,
	C_QUIT = 0x1c,
	C_ERASE = 0x7f,
};

enum tn_state { TN_USER, TN_PASS, TN_DELAY, TN_DONE, TN__MAX };
enum tn_parse { TP_DATA, TP_IAC, TP_OPT, TP_SB_OPT, TP_SB, TP_SB_IAC, TP__MAX };
enum tn_erase { TE_CHAR, TE_WORD, TE_LINE };

struct telnet_state {
	int64_t deadline; /* lure_now() when login gives up; 0: never */
	uint32_t len; /* line length typed (may exceed TN_LINE) */
	uint32_t canon; /* line bytes pushed by ^D: no longer erasable */
	uint32_t col, col0; /* output column; column where the line began */
	uint32_t raw_total; /* raw bytes since the last login event */
	int32_t fail_delay;
	uint16_t user_max, user_len, raw_len, sb_len, naws_w, naws_h;
	uint8_t st, tp, cmd, sb_opt;
	uint8_t tries, max_tries, empties, max_empty;
	uint8_t echo, echo_user; /* echo now; echo at the user-name prompt */
	uint8_t ahead; /* rest of this input is type-ahead login flushes */
	uint8_t cr; /* last data byte was CR: drop an LF or NUL next */
	uint8_t lnext, raw_data, user_cut, logged, nopts, have_naws;
	uint8_t sb[4];
	uint8_t opts[TN_OPTS][2];
	uint8_t line[TN_LINE];
	uint8_t user[TN_LINE];
	uint8_t raw[TN_RAW];
};

static void
tn_emit(struct emu_ctx *ctx, const void *p, size_t n)
{
	(void)emu_send(ctx, p, n); /* room was checked: TN_RESERVE */
}

/* Follow the pty's output column (OPOST), for tabs. */
static void
tn_col(struct telnet_state *st, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r' || p[i] == '\n')
			st->col = 0;
		else if (p[i] == '\b')
			st->col -= st->col > 0;
		else if (p[i] == '\t')
			st->col = (st->col | 7) + 1;
		else if (p[i] >= 0x20 && p[i] != 0x7f)
			st->col++;
	}
}

/* Bytes through telnetd's output path: IAC doubled. */
static void
tn_emit_data(struct emu_ctx *ctx, struct telnet_state *st, const uint8_t *p,
        size_t n)
{
	static const uint8_t iac2[2] = {T_IAC, T_IAC};
	size_t i = 0;

	while (i < n) {
		size_t run = i;
		while (run < n && p[run] != T_IAC)
			run++;
		tn_emit(ctx, p + i, run - i);
		tn_col(st, p + i, run - i);
		if (run < n) {
			tn_emit(ctx, iac2, 2);
			st->col++;
			run++;
		}
		i = run;
	}
}

/* Send a persona string; "%h" is the hostname, "%%" a percent sign. */
static void
tn_say(struct emu_ctx *ctx, struct telnet_state *st, const char *key, int track)
{
	size_t n, i = 0;
	const uint8_t *v = (const uint8_t *)persona_get(key, &n);

	while (v && i < n) {
		size_t run = i;
		while (run < n && v[run] != '%')
			run++;
		tn_emit(ctx, v + i, run - i);
		if (track)
			tn_col(st, v + i, run - i);
		if (run == n)
			return;
		if (run + 1 < n && v[run + 1] == 'h') {
			const char *h = emu_hostname(ctx);
			tn_emit_data(ctx, st, (const uint8_t *)h,
			        LURE_MIN(strlen(h), TN_HOST_MAX));
			i = run + 2;
			continue;
		}
		tn_emit(ctx, "%", 1);
		st->col += track != 0;
		i = run + 1 + (run + 1 < n && v[run + 1] == '%');
	}
}

static int
tn_ctrl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

/* The kernel's isalnum() (Latin-1 letters count) or '_'. */
static int
tn_word(uint8_t c)
{
	return (c >= '0' && c <= '9') ||
	       ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_' ||
	       (c >= 0xc0 && c != 0xd7 && c != 0xf7);
}

/* Byte i of the line; beyond what is kept, a plain letter. */
static uint8_t
tn_at(const struct telnet_state *st, uint32_t i)
{
	return i < TN_LINE ? st->line[i] : 'x';
}

/* Echo as the tty does: ^X for controls, tabs to spaces (XTABS). */
static void
tn_echo_char(struct emu_ctx *ctx, struct telnet_state *st, uint8_t c)
{
	static const char spaces[] = "        ";

	if (c == '\t') {
		unsigned n = 8 - (st->col & 7);
		tn_emit(ctx, spaces, n);
		st->col += n;
	} else if (tn_ctrl(c)) {
		uint8_t two[2] = {'^', (uint8_t)(c ^ 0x40)};
		tn_emit(ctx, two, 2);
		st->col += 2;
	} else {
		tn_emit_data(ctx, st, &c, 1);
	}
}

static void
tn_echo_erase(struct emu_ctx *ctx, struct telnet_state *st, uint8_t c)
{
	static const char bs[] = "\b\b\b\b\b\b\b\b";
	unsigned n;

	if (c == '\t') {
		/* back to the tab's column: count what follows the line's
		 * start or the previous tab (n_tty's eraser) */
		uint32_t i = st->len, num = 0;
		int after_tab = 0;
		if (i > TN_LINE) {
			num = i - LURE_MAX(st->canon, TN_LINE);
			i = LURE_MAX(st->canon, TN_LINE);
		}
		for (; i > st->canon; i--) {
			uint8_t d = tn_at(st, i - 1);
			if (d == '\t') {
				after_tab = 1;
				break;
			}
			num += tn_ctrl(d) ? 2 : 1;
		}
		if (!after_tab)
			num += st->col0;
		n = 8 - (num & 7);
		tn_emit(ctx, bs, n);
		st->col -= LURE_MIN(st->col, n);
		return;
	}
	for (n = tn_ctrl(c) ? 2 : 1; n > 0; n--) {
		tn_emit(ctx, "\b \b", 3);
		st->col -= st->col > 0;
	}
}

static void
tn_line_reset(struct telnet_state *st)
{
	st->len = st->canon = 0;
	st->lnext = 0;
}

static void
tn_put(struct emu_ctx *ctx, struct telnet_state *st, uint8_t c)
{
	if (st->echo) {
		if (st->len == st->canon)
			st->col0 = st->col;
		tn_echo_char(ctx, st, c);
	}
	if (st->len < TN_LINE)
		st->line[st->len] = c;
	if (st->len < UINT32_MAX)
		st->len++;
}

static void
tn_erase(struct emu_ctx *ctx, struct telnet_state *st, enum tn_erase kind)
{
	int seen_word = 0;

	while (st->len > st->canon) {
		uint8_t c = tn_at(st, st->len - 1);
		if (kind == TE_WORD) {
			if (tn_word(c))
				seen_word = 1;
			else if (seen_word)
				break;
		}
		st->len--;
		if (st->echo)
			tn_echo_erase(ctx, st, c);
		if (kind == TE_CHAR)
			break;
	}
}

static void
tn_reprint(struct emu_ctx *ctx, struct telnet_state *st)
{
	tn_echo_char(ctx, st, C_REPRINT);
	tn_emit(ctx, "\r\n", 2);
	st->col = 0;
	for (uint32_t i = st->canon; i < LURE_MIN(st->len, TN_LINE); i++)
		tn_echo_char(ctx, st, st->line[i]);
}

/* --- events --------------------------------------------------------------- */

static void
tn_options(struct event *e, struct telnet_state *st)
{
	static const char *const verb[] = {"sb", "will", "wont", "do", "dont"};
	char json[TN_OPTS * 12 + 3];
	size_t n = 0;

	if (st->logged)
		return;
	st->logged = 1;
	if (st->nopts) {
		json[n++] = '[';
		for (unsigned i = 0; i < st->nopts; i++)
			n += (size_t)snprintf(json + n, sizeof json - n,
			        "%s\"%s:%u\"", i ? "," : "",
			        verb[st->opts[i][0] - T_SB], st->opts[i][1]);
		json[n++] = ']';
		event_raw(e, "lure.telnet.options", json, n);
	}
	if (st->have_naws) {
		snprintf(json, sizeof json, "%ux%u", st->naws_w, st->naws_h);
		event_str(e, "lure.telnet.naws", json);
	}
}

static void
tn_finish(struct emu_ctx *ctx, struct telnet_state *st)
{
	st->st = TN_DONE;
	emu_wake(ctx, 0);
	emu_close(ctx);
}

static void
tn_timeout(struct emu_ctx *ctx, struct telnet_state *st)
{
	tn_say(ctx, st, "telnet.timeout", 1);
	tn_finish(ctx, st);
}

/* The password read ended (pw NULL: interrupted or EOF): log it, then
 * login's failure delay; the rest of this input is flushed type-ahead. */
static void
tn_login(struct emu_ctx *ctx, struct telnet_state *st, const uint8_t *pw,
        uint32_t pw_len)
{
	struct event *e;
	int64_t wait = st->fail_delay;

	tn_say(ctx, st, "telnet.password_end", 1);
	e = emu_event(ctx, "login");
	event_bytes(e, "user.name", st->user, st->user_len, EVENT_CAP_DEFAULT);
	if (pw)
		event_bytes(e, "lure.auth.password", pw,
		        LURE_MIN(pw_len, TN_LINE), EVENT_CAP_DEFAULT);
	event_str(e, "event.outcome", "failure");
	if (st->user_cut || (pw && pw_len > TN_LINE))
		event_bool(e, "lure.truncated", 1);
	tn_options(e, st);
	event_commit(e);
	st->raw_len = 0;
	st->raw_total = 0;
	st->raw_data = 0;
	if (st->tries < 255)
		st->tries++;
	tn_line_reset(st);
	st->st = TN_DELAY;
	st->ahead = 1;
	st->echo = 0;
	if (st->deadline) {
		int64_t left = st->deadline - lure_now();
		if (left <= 0) {
			tn_timeout(ctx, st);
			return;
		}
		wait = LURE_MIN(wait, left);
	}
	emu_wake(ctx, wait > 0 ? wait : 1);
}

/* --- what login does with a line ------------------------------------------ */

static int
tn_blank(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static void
tn_line_user(struct emu_ctx *ctx, struct telnet_state *st)
{
	uint32_t kept = LURE_MIN(st->len, TN_LINE), first = 0, n;

	while (first < kept && tn_blank(st->line[first]))
		first++;
	if (first == st->len) { /* blank: prompt again, up to max_empty */
		tn_line_reset(st);
		if (st->max_empty && ++st->empties >= st->max_empty)
			tn_finish(ctx, st);
		else
			tn_say(ctx, st, "telnet.login_prompt", 1);
		return;
	}
	n = st->len - first;
	/* fgets() into login's buffer found no newline: login exits */
	if ((st->user_max && n > st->user_max) ||
	        (first + 1 < kept &&
	                memchr(st->line + first + 1, 0, kept - first - 1))) {
		tn_finish(ctx, st);
		return;
	}
	st->user_len = (uint16_t)(kept - first);
	memcpy(st->user, st->line + first, st->user_len);
	st->user_cut = st->len > TN_LINE;
	tn_line_reset(st);
	st->st = TN_PASS;
	st->ahead = 1; /* the password prompt follows the type-ahead's echo */
}

static void
tn_line_pass(struct emu_ctx *ctx, struct telnet_state *st)
{
	tn_login(ctx, st, st->line, st->len);
}

/* Indexed by enum tn_state: a line ended (not type-ahead). */
static void (*const tn_on_line[TN__MAX])(
        struct emu_ctx *, struct telnet_state *) = {
        [TN_USER] = tn_line_user,
        [TN_PASS] = tn_line_pass,
};

static void
tn_newline(struct emu_ctx *ctx, struct telnet_state *st)
{
	if (st->echo) {
		tn_emit(ctx, "\r\n", 2);
		st->col = 0;
	}
	if (st->ahead || st->st >= TN__MAX || !tn_on_line[st->st]) {
		tn_line_reset(st);
		return;
	}
	tn_on_line[st->st](ctx, st);
}

/* ^D: push the line to login, or EOF when nothing is pending. */
static void
tn_eof(struct emu_ctx *ctx, struct telnet_state *st)
{
	if (st->ahead)
		return;
	if (st->len > st->canon) {
		st->canon = st->len;
		return;
	}
	if (st->st == TN_USER)
		tn_finish(ctx, st);
	else if (st->st == TN_PASS) /* the read got EOF */
		tn_login(ctx, st, st->len ? st->line : NULL, st->len);
}

/* ^C ^\ ^Z: the tty echoes, flushes the line and signals login. */
static void
tn_signal(struct emu_ctx *ctx, struct telnet_state *st, uint8_t c)
{
	if (st->echo)
		tn_echo_char(ctx, st, c);
	tn_line_reset(st);
	if (c == C_SUSP) /* login's process group is orphaned: ignored */
		return;
	if (c == C_INTR && st->st == TN_PASS && !st->ahead)
		tn_login(ctx, st, NULL, 0); /* bb_ask_noecho() interrupted */
	else
		tn_finish(ctx, st); /* default action: login dies */
}

/* One byte from the client, as the pty's line discipline takes it. */
static void
tn_data(struct emu_ctx *ctx, struct telnet_state *st, uint8_t c)
{
	st->raw_data = 1;
	if (st->st == TN_DONE)
		return;
	if (st->st == TN_DELAY)
		st->ahead = 1;
	if (st->lnext) {
		st->lnext = 0;
		tn_put(ctx, st, c);
		return;
	}
	switch (c) {
	case '\r': /* ICRNL */
	case '\n': tn_newline(ctx, st); return;
	case C_ERASE: tn_erase(ctx, st, TE_CHAR); return;
	case C_WERASE: tn_erase(ctx, st, TE_WORD); return;
	case C_KILL: tn_erase(ctx, st, TE_LINE); return;
	case C_LNEXT:
		st->lnext = 1;
		if (st->echo)
			tn_emit(ctx, "^\b", 2);
		return;
	case C_REPRINT:
		if (!st->echo)
			break;
		tn_reprint(ctx, st);
		return;
	case C_EOF: tn_eof(ctx, st); return;
	case C_START:
	case C_STOP: return;
	case C_INTR:
	case C_QUIT:
	case C_SUSP: tn_signal(ctx, st, c); return;
	}
	tn_put(ctx, st, c);
}

/* --- the telnet layer (telnetd) ------------------------------------------- */

static void
tn_note(struct telnet_state *st, uint8_t cmd, uint8_t opt)
{
	for (unsigned i = 0; i < st->nopts; i++)
		if (st->opts[i][0] == cmd && st->opts[i][1] == opt)
			return;
	if (st->nopts < TN_OPTS) {
		st->opts[st->nopts][0] = cmd;
		st->opts[st->nopts][1] = opt;
		st->nopts++;
	}
}

static void
tp_data(struct emu_ctx *ctx, struct telnet_state *st, uint8_t b)
{
	if (b == T_IAC) {
		st->tp = TP_IAC;
		st->cr = 0;
		return;
	}
	if (st->cr) {
		st->cr = 0;
		if (b == '\n' || b == 0) {
			if (st->raw_total == 1 && !st->raw_data) {
				/* the LF of a login's line: not kept */
				st->raw_len = 0;
				st->raw_total = 0;
			}
			return;
		}
	}
	st->cr = b == '\r';
	tn_data(ctx, st, b);
}

static void
tp_iac(struct emu_ctx *ctx, struct telnet_state *st, uint8_t b)
{
	st->tp = TP_DATA;
	if (b == T_IAC)
		tn_data(ctx, st, b);
	else if (b == T_SB)
		st->tp = TP_SB_OPT;
	else if (b >= T_WILL)
		st->cmd = b, st->tp = TP_OPT;
	else if (b == T_AYT)
		tn_say(ctx, st, "telnet.ayt", 0);
	else if (b < T_SE) /* not a command: telnetd skips a third byte */
		st->cmd = 0, st->tp = TP_OPT;
}

static void
tp_opt(struct emu_ctx *ctx, struct telnet_state *st, uint8_t b)
{
	(void)ctx;
	if (st->cmd)
		tn_note(st, st->cmd, b);
	st->tp = TP_DATA;
}

static void
tp_sb_opt(struct emu_ctx *ctx, struct telnet_state *st, uint8_t b)
{
	(void)ctx;
	st->sb_opt = b;
	st->sb_len = 0;
	tn_note(st, T_SB, b);
	st->tp = TP_SB;
}

/* Only the first bytes are kept: a long subnegotiation is dropped. */
static void
tn_sb_byte(struct telnet_state *st, uint8_t b)
{
	if (st->sb_len < sizeof st->sb)
		st->sb[st->sb_len] = b;
	if (st->sb_len < UINT16_MAX)
		st->sb_len++;
}

static void
tp_sb(struct emu_ctx *ctx, struct telnet_state *st, uint8_t b)
{
	(void)ctx;
	if (b == T_IAC)
		st->tp = TP_SB_IAC;
	else
		tn_sb_byte(st, b);
}

static void
tp_sb_iac(struct emu_ctx *ctx, struct telnet_state *st, uint8_t b)
{
	if (b == T_IAC) {
		tn_sb_byte(st, b);
		st->tp = TP_SB;
		return;
	}
	if (b != T_SE) { /* IAC <cmd> ends the subnegotiation too */
		tp_iac(ctx, st, b);
		return;
	}
	st->tp = TP_DATA;
	if (st->sb_opt == T_NAWS && st->sb_len == 4 && !st->have_naws) {
		st->have_naws = 1;
		st->naws_w = (uint16_t)(st->sb[0] << 8 | st->sb[1]);
		st->naws_h = (uint16_t)(st->sb[2] << 8 | st->sb[3]);
	}
}

/* Indexed by enum tn_parse. */
static void (*const tn_parse[TP__MAX])(
        struct emu_ctx *, struct telnet_state *, uint8_t) = {
        [TP_DATA] = tp_data,
        [TP_IAC] = tp_iac,
        [TP_OPT] = tp_opt,
        [TP_SB_OPT] = tp_sb_opt,
        [TP_SB] = tp_sb,
        [TP_SB_IAC] = tp_sb_iac,
};

/* --- the emulator --------------------------------------------------------- */

static long
tn_num(const char *key, long def, long max)
{
	long v = persona_int(key, def);
	return v < 0 ? 0 : v > max ? max : v;
}

static void
telnet_open(struct emu_ctx *ctx, void *state)
{
	struct telnet_state *st = state;
	long t = tn_num("telnet.login_timeout_ms", 60000, INT32_MAX);

	st->fail_delay =
	        (int32_t)tn_num("telnet.fail_delay_ms", 3000, INT32_MAX);
	st->max_tries = (uint8_t)tn_num("telnet.max_tries", 3, 255);
	st->max_empty = (uint8_t)tn_num("telnet.max_empty", 10, 255);
	st->user_max = (uint16_t)tn_num("telnet.user_max", 61, UINT16_MAX);
	st->echo = st->echo_user = tn_num("telnet.echo", 1, 1) != 0;
	if (t) {
		st->deadline = lure_now() + t;
		emu_timer(ctx, t); /* fires while a line is being read too */
	}
	tn_say(ctx, st, "telnet.negotiate", 0);
	tn_say(ctx, st, "telnet.banner", 1);
	tn_say(ctx, st, "telnet.login_prompt", 1);
}

/* The input ended: login flushes what was typed ahead, then prompts. */
static void
tn_input_end(struct emu_ctx *ctx, struct telnet_state *st)
{
	if (!st->ahead || st->st == TN_DELAY)
		return;
	st->ahead = 0;
	tn_line_reset(st);
	if (st->st == TN_PASS) {
		st->echo = 0;
		tn_say(ctx, st, "telnet.password_prompt", 1);
	}
}

static void
tn_raw(struct telnet_state *st, uint8_t b)
{
	if (st->raw_len < TN_RAW)
		st->raw[st->raw_len++] = b;
	if (st->raw_total < UINT32_MAX)
		st->raw_total++;
}

static size_t
telnet_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct telnet_state *st = state;
	size_t i;

	if (st->st >= TN_DONE)
		return n;
	if (st->deadline && lure_now() >= st->deadline) {
		tn_timeout(ctx, st);
		return n;
	}
	st->cr = 0; /* telnetd drops LF/NUL after CR within one read only */
	for (i = 0; i < n && st->st < TN_DONE; i++) {
		if (i && emu_space(ctx) < TN_RESERVE)
			break;
		tn_raw(st, p[i]);
		if (i == n - 1 && p[i] == 0 && st->tp == TP_DATA)
			continue; /* telnetd drops a NUL that ends a read */
		if (st->tp < TP__MAX)
			tn_parse[st->tp](ctx, st, p[i]);
	}
	if (st->st >= TN_DONE) { /* read, though login is gone */
		for (; i < n; i++)
			tn_raw(st, p[i]);
		return n;
	}
	if (i == n)
		tn_input_end(ctx, st);
	return i;
}

static void
telnet_timeout(struct emu_ctx *ctx, void *state)
{
	struct telnet_state *st = state;

	if (st->st >= TN_DONE)
		return;
	if (st->deadline && lure_now() >= st->deadline) {
		tn_timeout(ctx, st);
		return;
	}
	if (st->st != TN_DELAY)
		return;
	tn_say(ctx, st, "telnet.fail", 1);
	if (st->max_tries && st->tries >= st->max_tries) {
		tn_finish(ctx, st);
		return;
	}
	st->st = TN_USER;
	st->ahead = 0;
	st->empties = 0;
	st->echo = st->echo_user;
	tn_line_reset(st);
	tn_say(ctx, st, "telnet.login_prompt", 1);
}

static void
telnet_close(struct emu_ctx *ctx, void *state, enum emu_close_reason why)
{
	struct telnet_state *st = state;
	struct event *e;

	(void)why;
	if (!st->raw_data && !(st->raw_total && st->tp != TP_DATA))
		return;
	e = emu_event(ctx, "request");
	event_bytes(e, "lure.payload", st->raw, st->raw_len, EVENT_CAP_PAYLOAD);
	event_int(e, "source.bytes", st->raw_total);
	if (st->raw_total > st->raw_len)
		event_bool(e, "lure.truncated", 1);
	tn_options(e, st);
	event_commit(e);
}

const struct emulator emu_telnet = {
        .name = "telnet",
        .transports = EMU_TCP,
        .state_size = sizeof(struct telnet_state),
        .on_open = telnet_open,
        .on_data = telnet_data,
        .on_timeout = telnet_timeout,
        .on_close = telnet_close,
};
