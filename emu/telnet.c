/* telnet.c: BusyBox telnetd + login, down to the pty: negotiation, prompts,
 * the tty's echo and line editing, failure delay, tries and login timeout;
 * a "login" event per password; a pair telnet.accept lists logs in to the
 * fake shell (src/shell.h), one "command" event per line.
 *
 * Persona keys. Strings are wire bytes ("%h": hostname, "%%": '%'; absent:
 * nothing sent), keep each under 256 bytes (the room kept per input byte
 * is TN_RESERVE, or half of a smaller output buffer); numbers default to
 * BusyBox's.
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
 *   telnet.accept            [repeated] "USER:PASSWORD" ("*" for any) that
 *                            log in, as ssh.accept
 *   telnet.login_ok          sent when such a login succeeds (the shell's
 *                            greeting), then the persona file named by
 *   telnet.motd_file         (its "\n" sent as "\r\n"), then the prompt
 *
 * Events: "login" has user.name (the line from its first non-blank byte, not
 * cut at a blank as login does), lure.auth.password (absent when ^C or ^D
 * ended the read), event.outcome; the session's first event also carries
 * lure.telnet.options (the client's distinct option commands in order, e.g.
 * ["will:31","sb:31"]) and lure.telnet.naws ("80x24"). At close, input since
 * the last login event that held a data byte (or an unfinished command) is
 * one "request" event: lure.payload (first TN_RAW raw bytes), source.bytes.
 * A login that works: "login" with event.outcome success, then per line a
 * "command" event with user.name and what shell_run() adds (lure.command,
 * lure.indicators.*). Shell output goes out with "\n" as "\r\n" (ONLCR)
 * and 0xff doubled; what does not fit the output buffer waits in the
 * session and input is held (emu_wake) until it has gone; after a line
 * whose sleeps last N ms (shell.h: sleep_ms) its output and prompt wait N
 * ms, input held, as the shell's wait holds the terminal. Sessions come
 * from a static pool of TN_SHELLS (idle connections stay small); when it
 * is empty the login fails, tagged shell_pool_full.
 *
 * Verified against BusyBox 1.35 source (networking/telnetd.c,
 * loginutils/login.c, libbb/login.c, libbb/bb_askpass.c) and byte for byte
 * against Debian 12's busybox-static "telnetd -l login" on 127.0.0.1:
 * - telnetd sends its 12 negotiation bytes in a write of their own; the
 *   banner and login's prompt follow when login has started (TN_GREET_MS).
 * - telnetd answers no WILL/WONT/DO/DONT (it skips them), answers AYT with
 *   IAC NOP which its own IAC doubling sends as FF FF F1 (not while the
 *   answer to an AYT just before, or echo, waits in its buffer: see
 *   tn_chunk), takes IAC IAC as 0xff, skips a third byte after IAC <byte
 *   below 240>; IAC SB NAWS takes the next 4 bytes as they are; any other
 *   IAC SB <option> is skipped as a three-byte command: its payload (TTYPE,
 *   NEW-ENVIRON's USER...) goes to login as typed bytes, IAC SE is a no-op;
 *   an IAC and one byte ending a read are eaten; an IAC SB NAWS short of its
 *   4 bytes drops the rest of the read. It passes CR to the pty and drops
 *   an LF or NUL right after it in the same read only (CR and LF in two
 *   reads are two line ends); a NUL ending a read is dropped.
 * - The pty (Linux defaults + ICRNL ONLCR XTABS; its line editor is
 *   src/lineedit.c, which SSH sessions with a pty share): CR/LF end a
 *   line, DEL erases (BS SP BS, twice for a ^X; a tab back to its column),
 *   ^U kills, ^W erases a word, ^V quotes, ^R reprints, ^D pushes or is
 *   EOF, ^S/^Q vanish; ^C/^\ kill login (the tty still echoes the rest of
 *   that read, then telnetd closes) but ^C in the password read fails the
 *   login; ^Z is dropped with the line; echo shows controls
 *   as ^X, 0xff as FF FF, tabs as spaces to the next 8-column stop.
 * - The pty's signal characters (^C ^\ ^Z) flush its output queue: echo
 *   telnetd had not yet read is lost ("adm^C" in one read shows "^C"
 *   alone; telnetd reads the echo of a chunk of its input a turn later).
 *   Login restores the echo when the password read ends: what is typed
 *   during the failure delay is echoed, then flushed.
 * - login: blank lines prompt again (the 10th closes); a user name over 61
 *   bytes or with a NUL after its first byte closes; type-ahead is flushed
 *   before each prompt (here: the rest of the input that ended the line,
 *   echoed if it came with echo on); the password is read without echo, a
 *   newline follows, 3 s pause, "Login incorrect", 3 failures close; 60 s
 *   after start it prints the time-out and exits. 12 negotiation bytes: the
 *   DO LFLOW (FF FD 21) of nmap's 4206 line went in BusyBox 1.14 (d814c98).
 * test/it/test_telnet_busybox.py and test/it/test_telnet_probes.py (what
 * scanners, bots and honeypot detectors send: bytes, segments, close kind,
 * timing) compare all this live with the real telnetd and login. Racy in
 * the real pair, modelled one way: several lines sent at once (telnetd
 * writes them one per CR; login may turn the echo off before the next
 * arrives, which then is the password); where AYT answers fall among echo.
 * The shell session: the tty model stays (BusyBox ash's line editor echoes
 * and edits much alike); ^C ^\ ^Z print "^C" and a new prompt; ^D on an
 * empty line ends the shell, then telnetd closes. Unverified: ash's exact
 * ^C output and cursor handling of its line editor.
 * Not verified or not modelled: other kernels' ttys (old embedded Linux);
 * signal dispositions (^C/^\ close only if telnetd runs with default
 * SIGINT/SIGQUIT, as from init; with them ignored login survives); the
 * type-ahead flush races on a slow device; the tty's column after a signal
 * flushed its output (a tab after it is 2 columns short); ^S does
 * not stop output; no 4095-byte tty line limit; a locked or root account
 * (BusyBox skips the password prompt) is not modelled; only TN_LINE bytes
 * of a login line (SHELL_LINE of a shell line) are kept (a reprint or tab
 * erase beyond them is approximate). */
#include <stdio.h>
#include <string.h>

#include "emu.h"
#include "fmt.h"
#include "lineedit.h"
#include "lure.h"
#include "persona.h"
#include "shell.h"

#define TN_LINE 128 /* bytes kept of the line being typed */
#define TN_RAW 256 /* raw bytes kept for the request event */
#define TN_OPTS 24 /* distinct option commands remembered */
#define TN_HOST_MAX 255 /* bytes of hostname a "%h" expands to */
#define TN_RESERVE 1024 /* output room wanted before taking another byte */
#define TN_STAGE 512 /* pty output of one read held back (see tn_emit) */
#define TN_SHELLS 32 /* logged-in sessions at once (a static pool) */
#define TN_PROMPT 128 /* longest prompt */
#define TN_DRAIN_MS 10 /* retry while shell output waits for room */
#define TN_GREET_MS 2 /* telnetd's negotiation, then login's first words */

enum {
	T_SE = 240,
	T_AYT = 246,
	T_SB = 250,
	T_WILL = 251,
	T_IAC = 255,
	T_NAWS = 31,
};

/* Signal characters the session tells apart (the pty's: lineedit.c). */
enum {
	C_INTR = 0x03,
	C_SUSP = 0x1a,
};

enum tn_state { TN_USER, TN_PASS, TN_DELAY, TN_SHELL, TN_DONE, TN__MAX };
enum tn_parse { TP_DATA, TP_IAC, TP_OPT, TP_SB_OPT, TP_NAWS, TP_EAT, TP__MAX };

struct telnet_state {
	int64_t deadline; /* lure_now() when login gives up; 0: never */
	int64_t delay_end; /* lure_now() when the failure delay ends (TN_DELAY) */
	uint32_t raw_total; /* raw bytes since the last login event */
	int32_t fail_delay;
	uint16_t user_max, user_len, raw_len, sb_len, naws_w, naws_h;
	uint8_t st, tp, cmd, sb_opt;
	uint8_t tries, max_tries, empties, max_empty;
	uint8_t echo_user; /* echo at the user-name prompt */
	uint8_t ahead; /* rest of this input is type-ahead login flushes */
	uint8_t cr; /* last data byte was CR: drop an LF or NUL next */
	uint8_t raw_data, user_cut, logged, nopts, have_naws;
	uint8_t shell; /* 1 + index in tn_shells[] while logged in; 0: none */
	uint8_t closing; /* the shell exited: close once its output is sent */
	uint8_t partial; /* the last on_data left bytes: the same read goes on */
	uint8_t greet; /* banner and prompt not yet sent: login is starting */
	uint8_t dying; /* a signal killed login: the tty echoes the rest of
	                * the read, then telnetd closes */
	struct ledit ed; /* the pty: echo, column, the line being typed in
	                  * line[] or the shell's */
	uint8_t sb[4];
	uint8_t opts[TN_OPTS][2];
	uint8_t line[TN_LINE];
	uint8_t user[TN_LINE];
	uint8_t raw[TN_RAW];
};

/* A logged-in session: the shell, its longer line, and its output still
 * to send. In a pool, not in every connection's state: idle connections
 * stay small, and few connections ever log in. */
struct tn_shell {
	uint8_t used;
	uint16_t off, len; /* out[off..len): not yet sent */
	int64_t sleep_at; /* the line slept: out waits till then */
	struct shell sh;
	uint8_t line[SHELL_LINE];
	uint8_t out[SHELL_OUT + TN_PROMPT];
};
static struct tn_shell tn_shells[TN_SHELLS];

static struct tn_shell *
tn_sh(const struct telnet_state *st)
{
	return st->shell && st->shell <= TN_SHELLS ? &tn_shells[st->shell - 1]
	                                           : NULL;
}

/* The pty output of the read being taken (see tn_emit): empty between
 * on_data calls, so one buffer serves every connection. */
static uint8_t tn_stage[TN_STAGE];
static size_t tn_stage_len;
static int tn_staging;

/* telnetd takes a read in chunks, one per turn of its loop: a run of data
 * bytes up to a CR (and the LF or NUL after it), or one IAC sequence. The
 * pty's echo of chunk k is read at turn k+1 and sent at turn k+2, so a
 * signal character in chunk k flushes the echo of chunks k-1 and k only,
 * and an AYT is answered only when telnetd's output buffer is empty (no
 * echo of chunk k-2, no answer to an AYT in chunk k-1). Per read: stage
 * lengths when chunks k-1 and k began; whether chunks k-1, k-2 echoed;
 * whether chunks k-1, k were answered AYTs; in a data run. */
static size_t tn_mark1, tn_mark2;
static uint8_t tn_out1, tn_out2, tn_ayt1, tn_ayt0, tn_run;

static void
tn_chunk(void)
{
	tn_out2 = tn_out1;
	tn_out1 = tn_stage_len > tn_mark1;
	tn_mark2 = tn_mark1;
	tn_mark1 = tn_stage_len;
	tn_ayt1 = tn_ayt0;
	tn_ayt0 = 0;
}

/* Send the first n bytes of the stage. */
static void
tn_stage_send(struct emu_ctx *ctx, size_t n)
{
	n = LURE_MIN(n, tn_stage_len);
	(void)emu_send(ctx, tn_stage, n);
	memmove(tn_stage, tn_stage + n, tn_stage_len - n);
	tn_stage_len -= n;
	tn_mark1 = tn_mark1 > n ? tn_mark1 - n : 0;
	tn_mark2 = tn_mark2 > n ? tn_mark2 - n : 0;
}

static void
tn_stage_flush(struct emu_ctx *ctx)
{
	tn_stage_send(ctx, tn_stage_len);
}

/* A signal character: the pty drops the echo telnetd has not read. */
static void
tn_stage_drop(void)
{
	tn_stage_len = LURE_MIN(tn_stage_len, tn_mark2);
	tn_mark1 = LURE_MIN(tn_mark1, tn_stage_len);
}

/* Output of the pty (echo, login's text). While a read is being taken it
 * is held in stage[]: a signal character later in the same read flushes
 * the pty's output queue (n_tty isig(), no NOFLSH) before telnetd has read
 * it, so "adm^C" in one read shows only "^C". */
static void
tn_emit(struct emu_ctx *ctx, const void *p, size_t n)
{
	if (!tn_staging) {
		(void)emu_send(ctx, p, n); /* room was checked: TN_RESERVE */
		return;
	}
	if (tn_stage_len + n > TN_STAGE)
		tn_stage_flush(ctx);
	if (n > TN_STAGE) {
		(void)emu_send(ctx, p, n);
		return;
	}
	memcpy(tn_stage + tn_stage_len, p, n);
	tn_stage_len += n;
}

/* The pty's output through telnetd: IAC doubled (the line editor's
 * output function; arg: the emu_ctx). */
static void
tn_pty_out(void *arg, const void *p, size_t n)
{
	static const uint8_t iac2[2] = {T_IAC, T_IAC};
	const uint8_t *b = p;
	size_t i = 0;

	while (i < n) {
		size_t run = i;
		while (run < n && b[run] != T_IAC)
			run++;
		tn_emit(arg, b + i, run - i);
		if (run < n) {
			tn_emit(arg, iac2, 2);
			run++;
		}
		i = run;
	}
}

/* Bytes through telnetd's output path, their column followed. */
static void
tn_emit_data(struct emu_ctx *ctx, struct telnet_state *st, const uint8_t *p,
        size_t n)
{
	tn_pty_out(ctx, p, n);
	ledit_track(&st->ed, p, n);
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
			ledit_track(&st->ed, v + i, run - i);
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
		st->ed.col += track != 0;
		i = run + 1 + (run + 1 < n && v[run + 1] == '%');
	}
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
			n += (size_t)fmt_snprintf(json + n, sizeof json - n,
			        "%s\"%s:%u\"", i ? "," : "",
			        verb[st->opts[i][0] - T_SB], st->opts[i][1]);
		json[n++] = ']';
		event_raw(e, "lure.telnet.options", json, n);
	}
	if (st->have_naws) {
		fmt_snprintf(
		        json, sizeof json, "%ux%u", st->naws_w, st->naws_h);
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

/* The timer: the earlier of the login deadline and the delay's end. */
static void
tn_arm(struct emu_ctx *ctx, struct telnet_state *st)
{
	int64_t due = st->deadline;

	if (st->st == TN_DELAY && (!due || st->delay_end < due))
		due = st->delay_end;
	if (due) {
		int64_t left = due - lure_now();
		emu_timer(ctx, left > 0 ? left : 1);
	} else {
		emu_timer(ctx, 0);
	}
}

/* --- the session after a login that works ---------------------------------- */

/* "USER:PASSWORD" of a telnet.accept line matches ("*": any), as ssh.accept. */
static int
tn_accepted(const struct telnet_state *st, const uint8_t *pw, size_t pwn)
{
	return !st->user_cut && persona_accepts("telnet.accept", st->user,
	                                st->user_len, pw, pwn);
}

static void
tn_raw_reset(struct telnet_state *st)
{
	st->raw_len = 0;
	st->raw_total = 0;
	st->raw_data = 0;
}

/* Send what the shell wrote, through the pty (ONLCR: "\n" -> "\r\n") and
 * telnetd (IAC doubled), as far as there is room; returns 1 when all went.
 * What does not fit waits: input is held (emu_wake) until it has gone. */
static int
tn_sh_drain(struct emu_ctx *ctx, struct telnet_state *st)
{
	static const uint8_t crlf[2] = {'\r', '\n'}, iac2[2] = {T_IAC, T_IAC};
	struct tn_shell *sh = tn_sh(st);

	if (!sh)
		return 1;
	tn_stage_flush(ctx);
	if (sh->sleep_at > lure_now()) {
		emu_wake(ctx, sh->sleep_at - lure_now());
		return 0;
	}
	while (sh->off < sh->len) {
		size_t room = emu_space(ctx), run = sh->off;
		uint8_t c = sh->out[sh->off];
		if (c == '\n' || c == T_IAC) {
			if (room < 2)
				break;
			(void)emu_send(ctx, c == '\n' ? crlf : iac2, 2);
			ledit_track(&st->ed, c == '\n' ? crlf : iac2,
			        c == '\n' ? 2 : 1);
			sh->off++;
			continue;
		}
		while (run < sh->len && run - sh->off < room &&
		        sh->out[run] != '\n' && sh->out[run] != T_IAC)
			run++;
		if (run == sh->off)
			break;
		(void)emu_send(ctx, sh->out + sh->off, run - sh->off);
		ledit_track(&st->ed, sh->out + sh->off, run - sh->off);
		sh->off = (uint16_t)run;
	}
	if (sh->off < sh->len) {
		emu_wake(ctx, TN_DRAIN_MS);
		return 0;
	}
	sh->off = sh->len = 0;
	emu_wake(ctx, 0);
	if (st->closing)
		tn_finish(ctx, st);
	return 1;
}

/* Append the shell's prompt to what waits to be sent. */
static void
tn_sh_prompt(struct emu_ctx *ctx, struct tn_shell *sh)
{
	size_t room = sizeof sh->out - sh->len;

	sh->len = (uint16_t)(sh->len + shell_prompt(&sh->sh, ctx,
	                                       (char *)sh->out + sh->len,
	                                       LURE_MIN(room, TN_PROMPT)));
}

/* login exec'd the shell: telnet.login_ok, the motd file, the prompt.
 * Returns 0 when every session of the pool is taken (the login fails). */
static int
tn_sh_start(struct emu_ctx *ctx, struct telnet_state *st)
{
	struct tn_shell *sh = NULL;
	const struct persona_file *f = NULL;
	const char *motd = persona_get("telnet.motd_file", NULL);

	for (unsigned i = 0; i < TN_SHELLS && !sh; i++)
		if (!tn_shells[i].used) {
			sh = &tn_shells[i];
			st->shell = (uint8_t)(i + 1);
		}
	if (!sh)
		return 0;
	sh->used = 1;
	sh->off = sh->len = 0;
	memset(&sh->sh, 0, sizeof sh->sh);
	shell_init(&sh->sh, (const char *)st->user, st->user_len);
	st->st = TN_SHELL;
	st->deadline = 0; /* login's time-out ends with login */
	emu_timer(ctx, 0);
	st->ed.echo = 1; /* the shell's line editor echoes */
	st->ahead = 0; /* type-ahead is not flushed: the shell reads it */
	st->ed.buf = sh->line;
	st->ed.cap = SHELL_LINE;
	ledit_reset(&st->ed);
	tn_say(ctx, st, "telnet.login_ok", 1);
	if (motd && (f = persona_file(motd)) != NULL) {
		sh->len = (uint16_t)LURE_MIN(f->len, SHELL_OUT);
		memcpy(sh->out, f->data, sh->len);
	}
	tn_sh_prompt(ctx, sh);
	tn_sh_drain(ctx, st);
	return 1;
}

static int
tn_blank(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* A line for the shell: one "command" event, the output, the prompt. */
static void
tn_line_shell(struct emu_ctx *ctx, struct telnet_state *st)
{
	struct tn_shell *sh = tn_sh(st);
	uint32_t kept = ledit_kept(&st->ed), k = 0;
	size_t outlen = 0;
	enum shell_result r;
	struct event *e;

	if (!sh) {
		tn_finish(ctx, st);
		return;
	}
	while (k < kept && tn_blank(sh->line[k]))
		k++;
	ledit_reset(&st->ed);
	sh->off = sh->len = 0;
	if (k == kept) { /* nothing to run: a new prompt */
		tn_sh_prompt(ctx, sh);
		tn_sh_drain(ctx, st);
		return;
	}
	e = emu_event(ctx, "command");
	event_bytes(e, "user.name", st->user, st->user_len, EVENT_CAP_DEFAULT);
	tn_options(e, st);
	r = shell_run(
	        &sh->sh, ctx, e, sh->line, kept, sh->out, SHELL_OUT, &outlen);
	event_commit(e);
	tn_raw_reset(st);
	sh->len = (uint16_t)LURE_MIN(outlen, SHELL_OUT);
	sh->sleep_at = lure_now() + sh->sh.sleep_ms; /* sleep's wait */
	if (r == SHELL_EXIT)
		st->closing = 1; /* the shell is gone: telnetd closes */
	else
		tn_sh_prompt(ctx, sh);
	tn_sh_drain(ctx, st);
}

/* The password read ended (pw NULL: interrupted or EOF): log it; a pair
 * telnet.accept lists starts the shell, anything else gets login's failure
 * delay and the rest of this input is flushed type-ahead. */
static void
tn_login(struct emu_ctx *ctx, struct telnet_state *st, const uint8_t *pw,
        uint32_t pw_len)
{
	struct event *e;
	int64_t now = lure_now();
	int ok = pw && pw_len <= TN_LINE && tn_accepted(st, pw, pw_len);
	int full = 0;

	tn_say(ctx, st, "telnet.password_end", 1);
	if (ok && !tn_sh_start(ctx, st))
		ok = 0, full = 1;
	e = emu_event(ctx, "login");
	event_bytes(e, "user.name", st->user, st->user_len, EVENT_CAP_DEFAULT);
	if (pw)
		event_bytes(e, "lure.auth.password", pw,
		        LURE_MIN(pw_len, TN_LINE), EVENT_CAP_DEFAULT);
	event_str(e, "event.outcome", ok ? "success" : "failure");
	if (st->user_cut || (pw && pw_len > TN_LINE))
		event_bool(e, "lure.truncated", 1);
	if (full)
		event_raw(e, "tags", "[\"shell_pool_full\"]", 18);
	tn_options(e, st);
	event_commit(e);
	tn_raw_reset(st);
	if (ok)
		return;
	if (st->tries < 255)
		st->tries++;
	ledit_reset(&st->ed);
	st->st = TN_DELAY;
	st->ahead = 1;
	st->ed.echo = 0;
	if (st->deadline && st->deadline <= now) {
		tn_timeout(ctx, st);
		return;
	}
	/* a timer, not emu_wake(): input keeps flowing during the delay, as
	 * into the tty (echoed, then flushed by login) */
	st->delay_end = now + st->fail_delay;
	tn_arm(ctx, st);
}

/* --- what login does with a line ------------------------------------------ */

static void
tn_line_user(struct emu_ctx *ctx, struct telnet_state *st)
{
	uint32_t kept = ledit_kept(&st->ed), first = 0, n;

	while (first < kept && tn_blank(st->line[first]))
		first++;
	if (first == st->ed.len) { /* blank: prompt again, up to max_empty */
		ledit_reset(&st->ed);
		if (st->max_empty && ++st->empties >= st->max_empty)
			tn_finish(ctx, st);
		else
			tn_say(ctx, st, "telnet.login_prompt", 1);
		return;
	}
	n = st->ed.len - first;
	/* fgets() into login's buffer found no newline: login exits */
	if ((st->user_max && n > st->user_max) ||
	        (first + 1 < kept &&
	                memchr(st->line + first + 1, 0, kept - first - 1))) {
		tn_finish(ctx, st);
		return;
	}
	st->user_len = (uint16_t)(kept - first);
	memcpy(st->user, st->line + first, st->user_len);
	st->user_cut = st->ed.len > TN_LINE;
	ledit_reset(&st->ed);
	st->st = TN_PASS;
	st->ahead = 1; /* the password prompt follows the type-ahead's echo */
}

static void
tn_line_pass(struct emu_ctx *ctx, struct telnet_state *st)
{
	tn_login(ctx, st, st->line, st->ed.len);
}

/* Indexed by enum tn_state: a line ended (not type-ahead). */
static void (*const tn_on_line[TN__MAX])(
        struct emu_ctx *, struct telnet_state *) = {
        [TN_USER] = tn_line_user,
        [TN_PASS] = tn_line_pass,
        [TN_SHELL] = tn_line_shell,
};

static void
tn_newline(struct emu_ctx *ctx, struct telnet_state *st)
{
	if (st->ahead || st->st >= TN__MAX || !tn_on_line[st->st]) {
		ledit_reset(&st->ed);
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
	if (ledit_push(&st->ed))
		return;
	if (st->st == TN_USER || st->st == TN_SHELL) /* login or ash exits */
		tn_finish(ctx, st);
	else if (st->st == TN_PASS) /* the read got EOF */
		tn_login(ctx, st, st->ed.len ? st->line : NULL, st->ed.len);
}

/* ^C ^\ ^Z: the tty echoes, flushes the line and signals login. */
static void
tn_signal(struct emu_ctx *ctx, struct telnet_state *st, uint8_t c)
{
	struct tn_shell *sh = tn_sh(st);

	if (st->st == TN_SHELL && sh) { /* ash: the line is dropped */
		ledit_echo(&st->ed, c);
		tn_emit(ctx, "\r\n", 2);
		st->ed.col = 0;
		ledit_reset(&st->ed);
		sh->off = sh->len = 0;
		tn_sh_prompt(ctx, sh);
		tn_sh_drain(ctx, st);
		return;
	}
	tn_stage_drop(); /* the output flush (see tn_emit) */
	if (st->ed.echo)
		ledit_echo(&st->ed, c);
	ledit_reset(&st->ed);
	if (c == C_SUSP) /* login's process group is orphaned: ignored */
		return;
	if (c == C_INTR && st->st == TN_PASS && !st->ahead)
		tn_login(ctx, st, NULL, 0); /* bb_ask_noecho() interrupted */
	else
		st->dying = 1; /* default action: login dies (see tn_data) */
}

/* One byte from the client, as the pty's line discipline takes it. */
static void
tn_data(struct emu_ctx *ctx, struct telnet_state *st, uint8_t c)
{
	st->raw_data = 1;
	if (st->st == TN_DONE)
		return;
	if (st->dying) { /* telnetd wrote the whole read to the pty */
		enum ledit_key k = ledit_key(&st->ed, c);
		if (k == LEDIT_SIGNAL) {
			tn_stage_drop();
			if (st->ed.echo)
				ledit_echo(&st->ed, c);
		}
		if (k != LEDIT_NONE)
			ledit_reset(&st->ed);
		return;
	}
	if (st->st == TN_DELAY)
		st->ahead = 1;
	switch (ledit_key(&st->ed, c)) {
	case LEDIT_EOL: tn_newline(ctx, st); return;
	case LEDIT_EOF: tn_eof(ctx, st); return;
	case LEDIT_SIGNAL: tn_signal(ctx, st, c); return;
	case LEDIT_NONE: return;
	}
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

/* Bytes of the read being taken after the one being parsed: telnetd
 * handles an IAC sequence cut by the end of its buffer its own way. */
static size_t tn_left;

static void
tp_data(struct emu_ctx *ctx, struct telnet_state *st, uint8_t b)
{
	if (b == T_IAC) {
		st->tp = TP_IAC;
		st->cr = 0;
		tn_chunk();
		tn_run = 0;
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
	if (!tn_run)
		tn_chunk();
	tn_run = b != '\r';
	tn_data(ctx, st, b);
}

/* telnetd's safe_write_to_pty_decode_iac(): IAC IAC is 0xff; AYT is
 * answered unless the answer to the AYT just before still waits in its
 * output buffer; the other commands of 240..249 are two bytes; a command
 * whose IAC and first byte end the buffer is eaten there; IAC SB NAWS and
 * 4 bytes set the size (IAC SE then is a two-byte command); any other SB
 * is skipped as a three-byte command, its payload goes to the pty as
 * typed bytes. */
static void
tp_iac(struct emu_ctx *ctx, struct telnet_state *st, uint8_t b)
{
	st->tp = TP_DATA;
	if (b == T_IAC) {
		tn_data(ctx, st, b);
		return;
	}
	if (b == T_AYT && !tn_out2 && !tn_ayt1) {
		/* telnetd's own output: after what it sent at the turns
		 * before, ahead of the echo of the chunk before */
		int staging = tn_staging;
		tn_stage_send(ctx, tn_mark2);
		tn_staging = 0;
		tn_say(ctx, st, "telnet.ayt", 0);
		tn_staging = staging;
		tn_ayt0 = 1;
	}
	if (b == T_AYT)
		return;
	if ((b >= T_SE && b < T_SB) || !tn_left)
		return;
	if (b == T_SB) {
		st->tp = TP_SB_OPT;
		return;
	}
	/* WILL..DONT, or not a command: telnetd skips a third byte */
	st->cmd = b >= T_WILL ? b : 0;
	st->tp = TP_OPT;
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
	tn_note(st, T_SB, b);
	st->sb_len = 0;
	if (b != T_NAWS)
		st->tp = TP_DATA; /* the payload is typed bytes */
	else if (tn_left < 4)
		st->tp = TP_EAT; /* incomplete: telnetd drops its buffer */
	else
		st->tp = TP_NAWS;
}

/* The 4 bytes after IAC SB NAWS, as they are (no IAC IAC undoubling). */
static void
tp_naws(struct emu_ctx *ctx, struct telnet_state *st, uint8_t b)
{
	(void)ctx;
	st->sb[st->sb_len++] = b;
	if (st->sb_len < 4)
		return;
	st->tp = TP_DATA;
	if (!st->have_naws) {
		st->have_naws = 1;
		st->naws_w = (uint16_t)(st->sb[0] << 8 | st->sb[1]);
		st->naws_h = (uint16_t)(st->sb[2] << 8 | st->sb[3]);
	}
}

/* The rest of the read is dropped (TP_DATA again when it ends). */
static void
tp_eat(struct emu_ctx *ctx, struct telnet_state *st, uint8_t b)
{
	(void)ctx;
	(void)st;
	(void)b;
}

/* Indexed by enum tn_parse. */
static void (*const tn_parse[TP__MAX])(
        struct emu_ctx *, struct telnet_state *, uint8_t) = {
        [TP_DATA] = tp_data,
        [TP_IAC] = tp_iac,
        [TP_OPT] = tp_opt,
        [TP_SB_OPT] = tp_sb_opt,
        [TP_NAWS] = tp_naws,
        [TP_EAT] = tp_eat,
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
	ledit_init(&st->ed, st->line, TN_LINE);
	st->ed.out = tn_pty_out;
	st->ed.arg = ctx;
	st->ed.echo = st->echo_user = tn_num("telnet.echo", 1, 1) != 0;
	if (t) {
		st->deadline = lure_now() + t;
		emu_timer(ctx, t); /* fires while a line is being read too */
	}
	tn_say(ctx, st, "telnet.negotiate", 0);
	/* telnetd writes its negotiation, then forks login: the banner and
	 * the prompt are a write of their own, a moment later (a timer: input
	 * that comes first is taken after them) */
	st->greet = 1;
	emu_timer(ctx, TN_GREET_MS);
}

/* login has started: the banner and its prompt. */
static void
tn_greet(struct emu_ctx *ctx, struct telnet_state *st)
{
	st->greet = 0;
	tn_say(ctx, st, "telnet.banner", 1);
	tn_say(ctx, st, "telnet.login_prompt", 1);
	tn_arm(ctx, st); /* the login time-out again */
}

/* The input ended: login flushes what was typed ahead, then prompts. */
static void
tn_input_end(struct emu_ctx *ctx, struct telnet_state *st)
{
	if (st->st == TN_DELAY) {
		/* login restored the echo when the password read ended: what
		 * comes during the delay is echoed (then flushed unread) */
		st->ed.echo = st->echo_user;
		return;
	}
	if (!st->ahead)
		return;
	st->ahead = 0;
	ledit_reset(&st->ed);
	if (st->st == TN_PASS) {
		st->ed.echo = 0;
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

/* The failure delay is over: "Login incorrect", then (after login's
 * tcflush of what was typed meanwhile) the next try or the end. */
static void
tn_delay_end(struct emu_ctx *ctx, struct telnet_state *st)
{
	tn_say(ctx, st, "telnet.fail", 1);
	if (st->max_tries && st->tries >= st->max_tries) {
		tn_finish(ctx, st);
		return;
	}
	st->st = TN_USER;
	st->ahead = 0;
	st->empties = 0;
	st->ed.echo = st->echo_user;
	ledit_reset(&st->ed);
	tn_say(ctx, st, "telnet.login_prompt", 1);
}

static size_t
telnet_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct telnet_state *st = state;
	/* room kept for the output of one more byte: TN_RESERVE, or half the
	 * buffer when it is smaller (limits.out_buf 512) */
	size_t i, reserve = LURE_MIN(TN_RESERVE, emu_space(ctx) / 2);

	if (st->st >= TN_DONE)
		return n;
	st->ed.arg = ctx;
	if (st->greet)
		tn_greet(ctx, st);
	if (st->deadline && lure_now() >= st->deadline) {
		tn_timeout(ctx, st);
		return n;
	}
	if (st->st == TN_DELAY && lure_now() >= st->delay_end) {
		tn_delay_end(
		        ctx, st); /* the timer is late: end the delay first */
		if (st->st >= TN_DONE)
			return n;
		tn_arm(ctx, st);
	}
	if (!st->partial)
		st->cr = 0; /* telnetd drops LF/NUL after CR in one read only */
	tn_staging = 1;
	tn_stage_len = 0;
	tn_mark1 = tn_mark2 = 0;
	tn_out1 = tn_out2 = tn_ayt1 = tn_ayt0 = tn_run = 0;
	for (i = 0; i < n && st->st < TN_DONE; i++) {
		if (i && (emu_space(ctx) < reserve + tn_stage_len ||
		                 (st->shell && tn_sh(st)->len)))
			break;
		tn_raw(st, p[i]);
		tn_left = n - i - 1;
		if (i == n - 1 && p[i] == 0 && st->tp == TP_DATA)
			continue; /* telnetd drops a NUL that ends a read */
		if (st->tp < TP__MAX)
			tn_parse[st->tp](ctx, st, p[i]);
	}
	tn_staging = 0;
	tn_stage_flush(ctx);
	if (st->dying && i == n)
		tn_finish(ctx, st); /* login is gone: telnetd closes */
	if (st->st >= TN_DONE) { /* read, though login is gone */
		for (; i < n; i++)
			tn_raw(st, p[i]);
		return n;
	}
	st->partial = i < n;
	if (i == n && st->tp == TP_EAT)
		st->tp = TP_DATA;
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
	st->ed.arg = ctx;
	if (st->greet) {
		tn_greet(ctx, st);
		if (st->deadline && lure_now() >= st->deadline)
			tn_timeout(ctx, st);
		return;
	}
	if (st->st == TN_SHELL) {
		struct tn_shell *sh = tn_sh(st);
		/* the last of the output went out from here: one more wake-up,
		 * so the input held meanwhile is offered again once it is sent
		 * (the core reads the input buffer after input or a wake-up) */
		if (sh && sh->len && tn_sh_drain(ctx, st) && !st->closing)
			emu_wake(ctx, 1);
		return;
	}
	if (st->deadline && lure_now() >= st->deadline) {
		tn_timeout(ctx, st);
		return;
	}
	if (st->st == TN_DELAY && lure_now() >= st->delay_end)
		tn_delay_end(ctx, st);
	if (st->st < TN_DONE)
		tn_arm(ctx, st);
}

static void
telnet_close(struct emu_ctx *ctx, void *state, enum emu_close_reason why)
{
	struct telnet_state *st = state;
	struct tn_shell *sh = tn_sh(st);
	struct event *e;

	(void)why;
	if (sh) { /* back to the pool */
		sh->used = 0;
		st->shell = 0;
		st->ed.buf = st->line;
		st->ed.cap = TN_LINE;
	}
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
