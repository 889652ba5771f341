/* sshchan.c: the connection protocol (RFC 4254) after a login: one
 * "session" channel at a time (another type, or a second one, gets
 * OPEN_FAILURE and a "request" event), its pty-req, env, window-change,
 * exec and shell requests, and the session behind it: an exec is one
 * shell_run() and its exit status; a shell shows the motd and the prompt
 * and runs each typed line. With a pty the typed bytes go through the
 * terminal line editor telnet sessions use (src/lineedit.c: echo, DEL and
 * ^H, ^U, ^W, ^V, ^R, ^D, tabs, controls shown as ^X); ^C ^\ ^Z drop the
 * line and print a new prompt, ^D on an empty line logs out. Without a pty
 * the bytes are the shell's input as they are, CR or LF ending a line. */
#include <string.h>

#include "fmt.h"
#include "lure.h"
#include "sshstate.h"

#define SSH_WINDOW 2097152 /* sshd's session window and packet size */
#define SSH_MAXPKT 32768

/* The session channel's output goes through st->pend (CR LF already made
 * for a pty) and leaves as CHANNEL_DATA within the client's window and
 * maximum packet and the room in the core's output buffer: what does not
 * fit waits for a WINDOW_ADJUST or, for room, a short wake-up (which also
 * holds the input back). pend_exit: close the channel with exit_status
 * once it is empty. After a line that slept (sleep_at) nothing leaves and
 * no input is read until its time: a wake-up, as the shell's own wait. */
static void
chan_close(struct emu_ctx *ctx, struct ssh_state *st, int status)
{
	struct sshkex_buf b = sshpkt_begin(SSH_MSG_CHANNEL_EOF);

	sshkex_u32(&b, st->chan_peer);
	if (sshpkt_send(ctx, st, &b) < 0)
		return;
	b = sshpkt_begin(SSH_MSG_CHANNEL_REQUEST);
	sshkex_u32(&b, st->chan_peer);
	sshkex_cstr(&b, "exit-status");
	sshkex_u8(&b, 0);
	sshkex_u32(&b, (uint32_t)status);
	if (sshpkt_send(ctx, st, &b) < 0)
		return;
	b = sshpkt_begin(SSH_MSG_CHANNEL_CLOSE);
	sshkex_u32(&b, st->chan_peer);
	(void)sshpkt_send(ctx, st, &b);
	st->chan_open = 2; /* closing */
}

/* No session channel (a new one starts from here) */
static void
chan_reset(struct ssh_state *st)
{
	st->chan_open = st->chan_shell = st->pty = 0;
	st->pend_off = st->pend_len = st->pend_exit = 0;
	st->sleep_at = 0; /* a sleep the client did not wait for */
	ledit_reset(&st->ed);
}

void
sshchan_flush(struct emu_ctx *ctx, struct ssh_state *st)
{
	if (st->sleep_at) { /* the shell sleeps: all waits (emu/ssh.c) */
		if (lure_now() < st->sleep_at) {
			emu_wake(ctx, st->sleep_at - lure_now());
			return;
		}
		st->sleep_at = 0;
	}
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
		b = sshpkt_begin(SSH_MSG_CHANNEL_DATA);
		sshkex_u32(&b, st->chan_peer);
		sshkex_str(&b, st->pend + st->pend_off, n);
		if (sshpkt_send(ctx, st, &b) < 0)
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
	ledit_track(&st->ed, p, n);
}

/* The line editor's echo (arg: the state), its column its own. */
static void
chan_echo(void *arg, const void *p, size_t n)
{
	struct ssh_state *st = arg;
	size_t k = LURE_MIN(n, sizeof st->pend - st->pend_len);

	memcpy(st->pend + st->pend_len, p, k);
	st->pend_len = (uint16_t)(st->pend_len + k);
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
	v = sshstate_get("ssh.prompt", "$ ", &vn);
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

/* sshd's "Last login: Mon Dec  7 10:11:12 2026 from 192.0.2.1" (lastlog,
 * UTC) after the motd of a login with a terminal, when ssh.lastlog is set:
 * the user's previous such login since lure started (none before the
 * first, as on a box where nobody logged in yet); SSH_LASTLOG users. */
#define SSH_LASTLOG 4
static void
chan_lastlog(struct emu_ctx *ctx, struct ssh_state *st)
{
	static struct {
		char user[33], from[48];
		int64_t at;
	} seen[SSH_LASTLOG];
	static unsigned next;
	static const char days[] = "ThuFriSatSunMonTueWed",
	                  months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *v = persona_get("ssh.lastlog", NULL);
	unsigned i = 0;
	char b[96];

	while (i < SSH_LASTLOG && strcmp(seen[i].user, st->sh.user) != 0)
		i++;
	if (v && i < SSH_LASTLOG) {
		int64_t t = seen[i].at / 1000;
		long y, m, d, sec = (long)(t % 86400);
		fmt_civil_from_days((long)(t / 86400), &y, &m, &d);
		int n = fmt_snprintf(b, sizeof b,
		        "Last login: %.3s %.3s %2ld %02ld:%02ld:%02ld "
		        "%ld from %s\n",
		        days + t / 86400 % 7 * 3, months + (m - 1) * 3, d,
		        sec / 3600, sec / 60 % 60, sec % 60, y, seen[i].from);
		chan_put(st, (const uint8_t *)b,
		        LURE_MIN((size_t)n, sizeof b - 1), 1);
	}
	if (i == SSH_LASTLOG) {
		i = next++ % SSH_LASTLOG;
		fmt_snprintf(
		        seen[i].user, sizeof seen[i].user, "%s", st->sh.user);
	}
	seen[i].at = lure_wall();
	fmt_snprintf(
	        seen[i].from, sizeof seen[i].from, "%s", emu_peer_addr(ctx));
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

	sshauth_ev_client(e, st);
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
			        sshpkt_begin(SSH_MSG_CHANNEL_EXTENDED_DATA);
			sshkex_u32(&b, st->chan_peer);
			sshkex_u32(&b, 1); /* SSH_EXTENDED_DATA_STDERR */
			sshkex_str(&b, err, en);
			if (sshpkt_send(ctx, st, &b) < 0)
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
	if (st->sh.sleep_ms) /* the output, prompt or exit status wait */
		st->sleep_at = lure_now() + st->sh.sleep_ms;
	return r;
}

/* A line ended (a pty has echoed CR LF): it runs, then the prompt. */
static void
chan_line(struct emu_ctx *ctx, struct ssh_state *st)
{
	uint32_t n = ledit_kept(&st->ed);

	ledit_reset(&st->ed);
	if (n && chan_run(ctx, st, st->line, n, st->pty) == SHELL_EXIT) {
		st->pend_exit = 1;
		return;
	}
	chan_prompt(ctx, st);
}

/* Typed bytes of a shell session, CR LF one line end: with a pty through
 * the line editor, without one as they are. */
static void
chan_typed(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *d, size_t dn)
{
	for (size_t i = 0; i < dn && !st->pend_exit; i++) {
		uint8_t c = d[i];
		if (c == '\n' && st->last_cr) {
			st->last_cr = 0;
			continue;
		}
		st->last_cr = c == '\r' && !(st->pty && st->ed.lnext);
		if (!st->pty) {
			if (c == '\r' || c == '\n')
				chan_line(ctx, st);
			else if (st->ed.len < st->ed.cap)
				st->line[st->ed.len++] = c;
			continue;
		}
		switch (ledit_key(&st->ed, c)) {
		case LEDIT_EOL: chan_line(ctx, st); break;
		case LEDIT_EOF: /* logout when nothing is pending */
			if (!ledit_push(&st->ed)) {
				chan_put(st, (const uint8_t *)"\r\n", 2, 0);
				st->exit_status = 0;
				st->pend_exit = 1;
			}
			break;
		case LEDIT_SIGNAL: /* the shell drops the line */
			ledit_echo(&st->ed, c);
			chan_put(st, (const uint8_t *)"\r\n", 2, 0);
			ledit_reset(&st->ed);
			chan_prompt(ctx, st);
			break;
		case LEDIT_NONE: break;
		}
	}
	sshchan_flush(ctx, st);
}

void
sshchan_in(
        struct emu_ctx *ctx, struct ssh_state *st, const uint8_t *p, size_t n)
{
	uint8_t type = p[0];
	struct sshkex_buf r = {(uint8_t *)p, 1, n, 0}, b;

	if (type == SSH_MSG_CHANNEL_OPEN) {
		size_t tn;
		const uint8_t *t = sshkex_getstr(&r, &tn);
		uint32_t peer = sshkex_get32(&r);
		uint32_t win = sshkex_get32(&r), max = sshkex_get32(&r);
		if (r.err) {
			emu_close(ctx);
			return;
		}
		if (tn == 7 && memcmp(t, "session", 7) == 0 &&
		        st->chan_open != 1) {
			/* a session while the last one closes (the client's
			 * CLOSE not in yet): sshd's next free number */
			st->chan_id = st->chan_open ? st->chan_id ^ 1 : 0;
			chan_reset(st);
			st->chan_peer = peer;
			st->chan_open = 1;
			st->peer_win = win;
			st->peer_max = max;
			/* sshd opens with window 0 and grants it once a
			 * program runs; dropbear gives its recv_window */
			b = sshpkt_begin(SSH_MSG_CHANNEL_OPEN_CONFIRMATION);
			sshkex_u32(&b, peer);
			sshkex_u32(&b, st->chan_id);
			sshkex_u32(&b, (uint32_t)persona_int("ssh.window", 0));
			sshkex_u32(&b, (uint32_t)persona_int(
			                       "ssh.max_packet", SSH_MAXPKT));
		} else {
			struct event *e = emu_event(ctx, "request");
			sshauth_ev_client(e, st);
			event_bytes(e, "lure.ssh.channel_type", t, tn,
			        EVENT_CAP_DEFAULT);
			event_bytes(e, "lure.payload", p, n, EVENT_CAP_PAYLOAD);
			event_commit(e);
			b = sshpkt_begin(SSH_MSG_CHANNEL_OPEN_FAILURE);
			sshkex_u32(&b, peer);
			sshkex_u32(&b, 1);
			sshkex_cstr(&b, "administratively prohibited");
			sshkex_cstr(&b, "");
		}
		(void)sshpkt_send(ctx, st, &b);
		return;
	}
	if (sshkex_get32(&r) != st->chan_id || r.err)
		return; /* not our channel (or one closed) */
	if (st->chan_open == 2) {
		/* ours is closed; the client's CLOSE frees the channel for
		 * the next session (clients that run commands one after
		 * the other on one connection) */
		if (type == SSH_MSG_CHANNEL_CLOSE)
			chan_reset(st);
		return;
	}
	if (st->chan_open != 1)
		return;
	if (type == SSH_MSG_CHANNEL_WINDOW_ADJUST) {
		uint32_t add = sshkex_get32(&r);
		if (!r.err)
			st->peer_win = add > UINT32_MAX - st->peer_win
			                       ? UINT32_MAX
			                       : st->peer_win + add;
		sshchan_flush(ctx, st);
		return;
	}
	if (type == SSH_MSG_CHANNEL_REQUEST) {
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
			size_t tn;
			const uint8_t *term = sshkex_getstr(&r, &tn);
			ok = st->pty = 1;
			st->term_len =
			        (uint8_t)(r.err || tn >= sizeof st->term ? 0
			                                                 : tn);
			memcpy(st->term, term, st->term_len);
		} else if (rn == 3 && memcmp(req, "env", 3) == 0) {
			ok = 1;
		} else if (rn == 13 && memcmp(req, "window-change", 13) == 0) {
			ok = 1;
		}
		if ((run || shell) && !persona_int("ssh.window", 0)) {
			b = sshpkt_begin(SSH_MSG_CHANNEL_WINDOW_ADJUST);
			sshkex_u32(&b, st->chan_peer);
			sshkex_u32(&b, SSH_WINDOW);
			if (sshpkt_send(ctx, st, &b) < 0)
				return;
		}
		if (want) {
			b = sshpkt_begin(ok ? SSH_MSG_CHANNEL_SUCCESS
			                    : SSH_MSG_CHANNEL_FAILURE);
			sshkex_u32(&b, st->chan_peer);
			if (sshpkt_send(ctx, st, &b) < 0)
				return;
		}
		if (run || shell) {
			st->chan_shell = 1;
			shell_init(&st->sh, st->user, st->user_len);
			st->sh.ssh = (uint8_t)(st->pty ? 2 : 1);
			if (st->pty) /* sshd: $TERM is the pty's */
				shell_setenv(&st->sh, "TERM", st->term,
				        st->term_len);
			ledit_init(&st->ed, st->line, sizeof st->line);
			st->ed.out = chan_echo;
			st->ed.arg = st;
			st->ed.echo = st->pty;
			st->ed.bs_erase = 1; /* readline takes ^H as DEL */
			/* sshd runs "$SHELL -c CMD" for an exec */
			st->sh.exec = (uint8_t)run;
		}
		if (run) {
			(void)chan_run(ctx, st, cmd, cn, 0);
			st->pend_exit = 1;
			sshchan_flush(ctx, st);
		} else if (shell) {
			if (st->pty) {
				chan_motd(ctx, st);
				chan_lastlog(ctx, st);
			}
			chan_prompt(ctx, st);
			sshchan_flush(ctx, st);
		}
		return;
	}
	if (type == SSH_MSG_CHANNEL_DATA && st->chan_shell && !st->pend_exit) {
		size_t dn;
		const uint8_t *d = sshkex_getstr(&r, &dn);
		if (!r.err)
			chan_typed(ctx, st, d, dn);
		return;
	}
	if (type == SSH_MSG_CHANNEL_CLOSE) {
		/* the client closes first: ours goes back, the channel is
		 * free again */
		chan_close(ctx, st, st->sh.last_status);
		chan_reset(st);
		return;
	}
	if (type == SSH_MSG_CHANNEL_EOF) {
		if (st->chan_shell && !st->pend_exit) {
			st->exit_status = st->sh.last_status;
			st->pend_exit = 1;
			sshchan_flush(ctx, st);
		}
		return;
	}
}
