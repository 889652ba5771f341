/* shell.h: a BusyBox-ash-like shell for the sessions SSH and Telnet open
 * after a login that "works". It runs nothing and fetches nothing: every
 * command line is parsed, answered from persona data (the device's files
 * under files/fs/, uname fields, the CPU's ELF header, the applet list) and
 * recorded. Bytes in, bytes out, no I/O: the caller (emu/ssh.c,
 * emu/telnet.c) owns the transport, the line editing and the event.
 *
 * The persona keys (shell.*) are documented in src/shell.c's header. */
#ifndef LURE_SHELL_H
#define LURE_SHELL_H

#include <stddef.h>
#include <stdint.h>

#include "emu.h"
#include "event.h"

#define SHELL_LINE 1024 /* longest command line taken (longer: cut) */
#define SHELL_OUT 2048 /* most output one command line gives */
#define SHELL_SLEEP_MAX 50000 /* ms a line sleeps at most (idle limits) */

enum shell_result {
	SHELL_CONT, /* print the prompt and read the next line */
	SHELL_EXIT /* the session ends (exit/logout at the top level) */
};

struct shell {
	char user[33];
	char cwd[128];
	uint8_t depth; /* nested shells (shell.nest) that "exit" leaves */
	uint8_t last_status; /* $? */
	/* set by the caller after shell_init(), for a session without a tty:
	 * exec 1 runs each line as "sh -c" does (errors named by
	 * shell.name_exec, e.g. "bash:" rather than the login shell's
	 * "-bash:"); err, when set, takes what goes to stderr (SSH's extended
	 * data) instead of out: at most err_cap bytes, err_len after a run */
	uint8_t exec;
	/* set by the caller: 1 an SSH session, 2 one with a pty (the
	 * environment's SSH_CLIENT, SSH_CONNECTION, SSH_TTY) */
	uint8_t ssh;
	uint8_t *err;
	size_t err_cap, err_len;
	/* after a run: how long its sleeps last (ms, SHELL_SLEEP_MAX at most);
	 * the caller holds the output and the input that long (a timer) */
	uint32_t sleep_ms;
	/* room for the implementation's own per-session state (written files
	 * of an echo dropper, ...) follows; callers only zero and pass it */
	_Alignas(8) uint8_t priv[1536];
};

/* A new session for user (n bytes, cut to fit), cwd = the user's home. */
void
shell_init(struct shell *sh, const char *user, size_t n);

/* Set variable name (NUL-terminated) to v[0..n) in the session (TERM from
 * a pty request); nothing in a build without the shell's language. */
void
shell_setenv(struct shell *sh, const char *name, const void *v, size_t n);

/* The prompt into buf (at most cap bytes, no NUL); returns its length. */
size_t
shell_prompt(
        const struct shell *sh, struct emu_ctx *ctx, char *buf, size_t cap);

/* Run one command line line[0..n) (no line end; may hold any byte).
 * Writes the output to out (at most cap bytes, '\n' line ends: a caller
 * with a tty turns them into "\r\n"), *outlen its length. Adds the line's
 * fields to e (NULL is fine): lure.command (the line), lure.indicators.url
 * and lure.indicators.ip (URLs and IPv4s it names, wget/curl/tftp/ftpget
 * targets included), tags. The caller creates and commits e. */
enum shell_result
shell_run(struct shell *sh, struct emu_ctx *ctx, struct event *e,
        const uint8_t *line, size_t n, uint8_t *out, size_t cap,
        size_t *outlen);

#endif
