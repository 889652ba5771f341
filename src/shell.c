/* shell.c: the fake shell behind SSH and Telnet logins (see shell.h): the
 * session, output and the run loop. A line is parsed whole by
 * src/shell_parse.c (;
 * && || | & and newlines, quotes, backslashes, $VAR, $(...) and backticks,
 * > >> 2> 2>&1 into a small per-session file table, pipes carrying stdout
 * to the next command), then each command is expanded and answered from
 * persona data (src/shell_cmd.c, src/shell_file.c) over the file system of
 * src/shell_fs.c. Nothing runs, nothing is fetched.
 *
 * Persona keys (emu/personas/<p>/shell.conf; strings take the C escapes of
 * src/persona.h). Templates: %n shell.name, %u user, %h hostname, %c the
 * command word, %a its argument, %D the UTC wall clock "2026-01-02
 * 03:04:05", %L shell.exec_line, %% a percent sign (another % stays as
 * it is: df's "10%"); downloads also %U URL, %H host, %P port, %F file
 * name. An absent key prints nothing.
 *
 *   shell.prompt    "%u@%h:%w%$ ": %w cwd with the home as "~", %W its
 *                   last part, %$ '#' for root else '$'.
 *   shell.name      the error prefix: "-sh", "-ash", "-bash".
 *   shell.name_exec the same for an SSH exec request, run as "sh -c"
 *                   does ("bash", "ash"); absent: shell.name.
 *   shell.name_exec_err  what the shell's own errors start with there,
 *                   when not shell.name_exec (bash -c: "bash: line 1").
 *   shell.exec_line what %L gives in an error template there (BusyBox's
 *                   ash -c: "line 0: " after a builtin's name); nothing
 *                   in a login shell.
 *   shell.home      root's home ("/root")
 *   shell.home_user others' home ("/home/%u").
 *   shell.logout    printed when the session's shell exits ("logout\n":
 *                   bash).
 *   shell.path, shell.path_sh, shell.pid   $PATH, $SHELL, $$ (${name}
 *                   identities expanded in shell.pid and in the lines of
 *                   the repeated keys below: a PID of this device's).
 *   shell.id        `id` for root
 *   shell.id_user   `id` for others (%u).
 *   shell.uname.s shell.uname.n shell.uname.r shell.uname.v  uname -s -n
 *   shell.uname.m shell.uname.p shell.uname.i shell.uname.o  -r -v -m -p
 *                   -i -o (.n defaults to the hostname); -a prints s n r v
 *                   m, p and i when present, o; an absent -p/-i alone is
 *                   "unknown".
 *   shell.elf.class shell.elf.data shell.elf.machine shell.elf.flags
 *   shell.elf.osabi shell.elf.type shell.elf.entry shell.elf.align
 *   shell.elf.interp shell.elf.size  the ELF header of shell.bin files:
 *                   class 32|64; data lsb|msb; machine e_machine (3 i386,
 *                   8 MIPS, 40 ARM, 62 x86-64, 183 AArch64); flags e_flags
 *                   (0x..); osabi; type 2 EXEC | 3 DYN; entry; align (LOAD
 *                   alignment, 0x10000); interp (absent: static); size (ls
 *                   -l, dd counts). cat/dd/head/tail of a shell.bin path
 *                   give that ELF header, program headers and interpreter
 *                   path, then code-like filler, SH_BIN_OUT bytes at most.
 *   shell.bin       [repeated] space-separated: the executables. A command
 *                   word is found when a shell.bin path ends in "/word".
 *   shell.dir       [repeated] space-separated: directories besides those
 *                   files/fs/ and shell.bin imply (/tmp, /var/run...).
 *   shell.devnull   [repeated] space-separated paths a redirection
 *                   discards.
 *   shell.busybox   [repeated] what `busybox` alone prints (lines).
 *   shell.applet    [repeated] space-separated: `busybox --list`; `busybox
 *                   NAME` runs NAME when listed, else shell.err.applet.
 *   shell.nest      [repeated] space-separated: commands that start a
 *                   nested shell (`exit` leaves one; `sh -c TEXT`, `sh
 *                   FILE` and `... | sh` run TEXT, FILE or the pipe a level
 *                   down).
 *   shell.cmd       [repeated] "name\toutput": a builtin's fixed answer
 *                   (with the shell language only).
 *   shell.out       [repeated] "WORDS\tSTATUS\tSTDOUT\tSTDERR": what a
 *                   program on the path answers to exactly WORDS (a last
 *                   word "*": any further ones), templates with %T the
 *                   clock "13:04:05" and %Y the time since boot as uptime
 *                   prints it; the first match wins, else its handler.
 *   shell.out_exec  [repeated] the same, tried first for an exec request
 *                   (no terminal: top, w).
 *   shell.cd_status exit status of a failed cd (ash 2, bash 1).
 *   shell.ps, shell.free, shell.df, shell.nproc   [repeated] their lines.
 *   shell.ls_date   the date column of ls -l.
 *   shell.bin_size  [repeated] "NAME SIZE DATE": a binary's size (ls -l,
 *                   wc -c, cp) and ls -l date, else shell.elf.size and
 *                   shell.ls_date (with the shell language).
 *   shell.gnu       1: GNU coreutils' columns: ls -l's (single spaces, the
 *                   size column as wide as the listing's widest, -h) and
 *                   wc's; else BusyBox's (with the shell language).
 *   shell.err.wc_noent  wc's error for a missing file (%a).
 *   shell.err.syntax_exec shell.err.syntax_nl_exec  the syntax errors of an
 *                   exec request, %c the line (bash -c quotes it); absent:
 *                   shell.err.syntax and _nl.
 *   shell.dev_zero shell.dev_random  space-separated devices (of
 *                   shell.devnull) that read as endless zeros or random
 *                   bytes; the others read empty (the code, with dd's
 *                   units, is built in only for a persona that sets them).
 *   shell.brace     1: bash's brace expansion ({a,b}, {1..5}, {a..e}) of
 *                   words typed without quotes, $ or `: the Makefile
 *                   builds it in for a persona whose shell_lang.conf has
 *                   the key (nothing looks at its value at run time).
 *   shell.err.syntax_eof  a redirection with no word at the input's end
 *                   (ash: "end of file"); absent: shell.err.syntax_nl.
 *   shell.err.syntax_pat  a case pattern list with a word and no "|"
 *                   (ash: "expecting )"); absent: shell.err.syntax.
 *   shell.ls_noent_status  ls's exit status when an operand does not
 *                   exist (BusyBox 1, GNU 2); absent: 1.
 *   shell.wget, shell.curl, shell.tftp, shell.ftpget   what the tool prints
 *                   (stderr) when the host is an IPv4 address. Exit status
 *                   1.
 *   shell.wget_name, shell.curl_name, shell.tftp_name, shell.ftpget_name
 *                   the same when the host is a name.
 *   shell.usage.wget, shell.usage.curl, shell.usage.tftp, shell.usage.ftpget
 *                   what the tool prints without an operand.
 *   shell.exec      what running a file the attacker wrote prints
 *                   ("Segmentation fault\n")
 *   shell.exec_status  its exit status (139).
 *   shell.err.notfound shell.err.noent shell.err.noperm shell.err.syntax
 *   shell.err.syntax_nl shell.err.create shell.err.create_isdir
 *   shell.err.cd_noent shell.err.cd_notdir shell.err.cat_noent
 *   shell.err.cat_isdir shell.err.ls_noent shell.err.rm_noent
 *   shell.err.chmod_noent shell.err.cp_noent shell.err.cp_create
 *   shell.err.mkdir_noent shell.err.mkdir_exist shell.err.touch_noent
 *   shell.err.dd_noent shell.err.head_noent shell.err.grep_noent
 *   shell.err.kill shell.err.kill_usage shell.err.sh_open shell.err.applet
 *   shell.err.test_bracket shell.err.test_int shell.err.arith_syntax
 *   shell.err.arith_zero shell.err.awk shell.err.awk_noent
 *                   error lines (a newline is added): notfound (unknown
 *                   command), noent (a path that does not exist), syntax
 *                   (%a the token), create (redirection into a missing
 *                   directory), head_noent (also tail), kill (%c "kill" for
 *                   the applet, the shell's name without '-' for the
 *                   builtin), test_bracket ([ without its ]), test_int (%a not
 *                   a number), arith_syntax and arith_zero (%a the
 *                   expression, %c its last token on).
 *   shell.arith_status  the status a $((...)) error ends the line with
 *                   (bash 1, ash 2).
 *   shell.awk_status    awk's on an error (mawk 2, BusyBox 1;
 *                   src/shell_awk.c).
 *   shell.file_tmpl [repeated] space-separated files of files/fs/ made
 *                   when read: ${name} an identity (a shadow hash), %U
 *                   the seconds since boot ("1234.56", the clock of %Y),
 *                   %I the CPUs' idle seconds, %% a percent sign (the code
 *                   is built in only for a persona that has the key; ls
 *                   -l shows /proc's files as 0 bytes there).
 *   shell.proc_idle hundredths of a second the CPUs idle per second (%I).
 *   shell.env       [repeated] "NAME=VALUE": the session's environment as
 *                   the daemon and PAM hand it over, in that order (env,
 *                   printenv, export, $NAME; src/shell_env.c): %u user, %~
 *                   home, %P shell.path, %S shell.path_sh, %w cwd, %o the
 *                   last directory, %l bash's SHLVL (0 for an exec
 *                   request's last command, which bash -c runs in its
 *                   place; else 1), %C "PEER PEERPORT PORT" and %N "PEER
 *                   PEERPORT ADDR PORT" (SSH_CLIENT, SSH_CONNECTION), %t
 *                   nothing; a line whose field has no value in the
 *                   session (%o before a cd, %C %N outside SSH, %t without
 *                   an SSH pty) is left out. Built in only for a persona
 *                   that has the key.
 *   shell.env_login [repeated] the same, in a login shell only (its
 *                   profile's exports).
 *   shell.symlink   [repeated] "PATH TARGET": ls -l shows PATH as a
 *                   symbolic link to TARGET (reading it reads the file:
 *                   the persona lists both); built in only for a persona
 *                   that has the key.
 *   shell.var       [repeated] "NAME=VALUE": a variable the shell sets
 *                   itself without exporting it (bash's TERM=dumb).
 *   shell.env_hash  "bash" or "ash": whose order env prints in.
 *   shell.env_last  a line env prints last (bash's "_=/usr/bin/%c").
 *   shell.env_export shell.env_export_bare  export's line per variable
 *                   (%c its name, %a its value), sorted by name; _bare for
 *                   one exported without a value (bash's OLDPWD).
 * Files: files/fs/<path> is the device's file <path> (cat, ls, cd, grep).
 *
 * Events (added to the caller's): lure.command (the line), lure.indicators
 * .url / .ip (what the line names plus the download targets built, e.g.
 * tftp://host/file), tags "download" (wget/curl/tftp/ftpget ran) and
 * "dropper" (a written file ran: file.path, file.size, file.hash.md5 and
 * .sha1 when all its bytes were kept).
 *
 * The language: words and quotes, $VAR and ${...} (the session's
 * variables first, src/shell_lang.c), $(...) and backticks, $((...)), ~,
 * test and [, and if/then/elif/else/fi, for/do/done, while, until and
 * case/esac (with break and continue) as reserved words leading commands,
 * run over the parsed line (an open one
 * waits for its closing word on the same line; SH_STEPS loop rounds per
 * line at most, as a caller's time limit would).
 *
 * Compared with the real BusyBox (Debian's busybox-static, by
 * test/unit/test_shell.c): `echo -ne` of 300 random strings, the applets'
 * error lines, and lines whose output depends only on the parser and on
 * echo, true, false, cat, head, tail, wc and grep, run by its ash; with
 * bash 5.2 and BusyBox's ash through an SSH exec request, by
 * test/persona/test_diff_shell.py. Not modelled: globbing, functions,
 * ( ) and { } groups, field splitting outside a
 * for list, input redirection (< FILE is dropped), here documents (a
 * syntax error), compound commands spread over several typed lines; a
 * line ending in && or || counts as ended.
 */
#include <string.h>

#include "fmt.h"
#include "identity.h"
#include "indicators.h"
#include "json.h"
#include "lure.h"
#include "persona.h"
#include "shell_int.h"

/* one level's parse and the argv of the running command */
static struct sh_parse sh_p[SH_DEPTH], sh_p1[SH_DEPTH];
static struct ind_result sh_ind;

/* ---- persona data ---------------------------------------------------- */

const char *
shell_key(const char *key, size_t *len)
{
	size_t l = 0;
	const char *v = persona_get(key, &l);

	*len = v ? l : 0;
	return v;
}

/* Is word w[0..n) one of the space-separated names of the values of key? */
int
shell_listed(const char *key, const uint8_t *w, size_t n)
{
	size_t i = 0;
	const struct persona_kv *kv;

	if (!n)
		return 0;
	while ((kv = persona_next(key, &i))) {
		const char *v = kv->val, *end = kv->val + kv->len;
		while (v < end) {
			const char *s;
			while (v < end && *v == ' ')
				v++;
			s = v;
			while (v < end && *v != ' ')
				v++;
			if ((size_t)(v - s) == n && memcmp(s, w, n) == 0)
				return 1;
		}
	}
	return 0;
}

unsigned long long
shell_num(const char *key, unsigned long long def)
{
	size_t l;
	const char *v = shell_key(key, &l);
	unsigned long long n = 0;
	int base = 10;

	if (!v || !l)
		return def;
	if (l > 2 && v[0] == '0' && (v[1] | 0x20) == 'x') {
		base = 16;
		v += 2;
		l -= 2;
	}
	for (size_t i = 0; i < l; i++) {
		int d = v[i] >= '0' && v[i] <= '9' ? v[i] - '0'
		        : base == 16 && (v[i] | 0x20) >= 'a' &&
		                        (v[i] | 0x20) <= 'f'
		                ? (v[i] | 0x20) - 'a' + 10
		                : -1;
		if (d < 0)
			return def;
		n = n * (unsigned)base + (unsigned)d;
	}
	return n;
}

int
shell_eq(struct sh_arg a, const char *s)
{
	return a.n == strlen(s) && memcmp(a.p, s, a.n) == 0;
}

unsigned long
shell_atoul(struct sh_arg a, unsigned long def)
{
	unsigned long v = 0;

	if (!a.n)
		return def;
	for (size_t i = 0; i < a.n; i++) {
		if (a.p[i] < '0' || a.p[i] > '9' || v > 100000000UL)
			return def;
		v = v * 10 + (unsigned long)(a.p[i] - '0');
	}
	return v;
}

/* ---- output ---------------------------------------------------------- */

void
shell_write(struct sh_run *r, int fd, const void *p, size_t n)
{
	size_t room;

	if (r->sink[fd] == SINK_NULL || !n)
		return;
	if (r->sink[fd] == SINK_FILE) {
		shellfs_append(r, r->sinkf[fd], p, n);
		return;
	}
	if (r->sink[fd] == SINK_PIPE) {
		room = SHELL_OUT - *r->pipe_len;
		if (n > room)
			n = room;
		memcpy(r->pipe + *r->pipe_len, p, n);
		*r->pipe_len += n;
		return;
	}
	if (fd == 2 && r->sh->err) {
		room = r->sh->err_cap - r->sh->err_len;
		if (n > room)
			n = room;
		memcpy(r->sh->err + r->sh->err_len, p, n);
		r->sh->err_len += n;
		return;
	}
	room = r->cap - r->len;
	if (n > room)
		n = room;
	memcpy(r->out + r->len, p, n);
	r->len += n;
}

/* The name errors and $0 give: shell.name, or shell.name_exec when the
 * line runs as "sh -c" (an SSH exec request). */
const char *
shell_name(const struct sh_run *r, size_t *l)
{
	const char *s;

	if (r->sh->exec && (s = shell_key("shell.name_exec", l)))
		return s;
	return shell_key("shell.name", l);
}

void
shell_puts(struct sh_run *r, int fd, const char *s)
{
	shell_write(r, fd, s, strlen(s));
}

void
shell_putu(struct sh_run *r, int fd, unsigned long v)
{
	char b[24];

	shell_write(r, fd, b, (size_t)fmt_snprintf(b, sizeof b, "%lu", v));
}

/* "2026-01-02 03:04:05" (UTC wall clock) */
static void
sh_date(struct sh_run *r, int fd, int clock)
{
	int64_t t = lure_wall() / 1000;
	long y, m, d, sec = (long)(t % 86400);
	char b[24];
	int n = 0;

	fmt_civil_from_days((long)(t / 86400), &y, &m, &d);
	if (!clock)
		n = fmt_snprintf(b, sizeof b, "%04ld-%02ld-%02ld ", y, m, d);
	n += fmt_snprintf(b + n, sizeof b - (size_t)n, "%02ld:%02ld:%02ld",
	        sec / 3600, sec / 60 % 60, sec % 60);
	shell_write(r, fd, b, (size_t)n);
}

#if LURE_SHELL_OUTS
/* %Y: the time since boot as procps's uptime and w print it ("3 days,
 * 4:05", "1 day, 7 min", "12:34"): the host's monotonic clock, which
 * starts at its boot. */
static void
sh_uptime(struct sh_run *r, int fd)
{
	long up = (long)(lure_now() / 60000), days = up / 1440;
	char b[40];
	int n = 0;

	if (days)
		n = fmt_snprintf(
		        b, sizeof b, "%ld day%s, ", days, days == 1 ? "" : "s");
	if (up / 60 % 24)
		n += fmt_snprintf(b + n, sizeof b - (size_t)n, "%2ld:%02ld",
		        up / 60 % 24, up % 60);
	else
		n += fmt_snprintf(
		        b + n, sizeof b - (size_t)n, "%ld min", up % 60);
	shell_write(r, fd, b, (size_t)n);
}
#endif

void
shell_tmpl(struct sh_run *r, int fd, const char *t, size_t tl,
        const struct sh_fa *fa)
{
	for (size_t i = 0; i < tl; i++) {
		const char *s = NULL;
		size_t sl = 0, j;
		if (t[i] != '%' || i + 1 == tl) {
			for (j = i; j < tl && t[j] != '%'; j++)
				;
			if (j == i)
				j++;
			shell_write(r, fd, t + i, j - i);
			i = j - 1;
			continue;
		}
		switch (t[++i]) {
		case 'c': shell_write(r, fd, fa->c.p, fa->c.n); break;
		case 'a': shell_write(r, fd, fa->a.p, fa->a.n); break;
		case 'n':
			s = r->sh->exec ? shell_key("shell.name_exec_err", &sl)
			                : NULL;
			if (!s)
				s = shell_name(r, &sl);
			break;
#if LURE_SHELL_LANG /* SHELL_LANG=0: x86_64 generic, no SSH exec */
		case 'L':
			s = r->sh->exec ? shell_key("shell.exec_line", &sl)
			                : NULL;
			break;
#if LURE_SHELL_OUTS
		case 'T': sh_date(r, fd, 1); break;
		case 'Y': sh_uptime(r, fd); break;
#endif
#endif
		case 'u': s = r->sh->user; break;
		case 'h': s = emu_hostname(r->ctx); break;
		case 'H': s = fa->H; break;
		case 'P': s = fa->P; break;
		case 'U': s = fa->U; break;
		case 'F': s = fa->F; break;
		case 'D': sh_date(r, fd, 0); break;
		case '%': shell_write(r, fd, "%", 1); break;
		default: shell_write(r, fd, t + i - 1, 2); break; /* as it is */
		}
		if (s)
			shell_write(r, fd, s, sl ? sl : strlen(s));
	}
}

/* An error line from key shell.err.<id> to stderr (absent: nothing). */
void
shell_err(struct sh_run *r, const char *key, struct sh_arg c, struct sh_arg a)
{
	size_t tl;
	const char *t = shell_key(key, &tl);
	struct sh_fa fa = {.c = c, .a = a};

	if (!t)
		return;
	shell_tmpl(r, 2, t, tl, &fa);
	shell_write(r, 2, "\n", 1);
}

/* Every value of a repeated key, each followed by a newline. */
void
shell_lines(struct sh_run *r, const char *key)
{
	size_t i = 0;
	const struct persona_kv *kv;
	struct sh_fa fa = {{NULL, 0}, {NULL, 0}, NULL, NULL, NULL, NULL};

	while ((kv = persona_next(key, &i))) {
		char b[256]; /* ${name}: this device's (a PID) */
		shell_tmpl(r, 1, b,
		        identity_expand(kv->val, kv->len, b, sizeof b), &fa);
		shell_write(r, 1, "\n", 1);
	}
}

/* ---- lines ----------------------------------------------------------- */

/* Point fd's sink at the file word w names (>, >>); 0 or -1 (error said). */
static int
sh_redirect(struct sh_run *r, struct sh_parse *p, int fd, int w, int app,
        struct sh_arg cmd)
{
	char path[SH_PATH];
	struct sh_arg a = {p->text + p->w[w].off, p->w[w].len};
	int fi;

	if (!shellfs_path(r->sh, a.p, a.n, path)) {
		shell_err(r, "shell.err.create", cmd, a);
		return -1;
	}
	if (shell_listed(
	            "shell.devnull", (const uint8_t *)path, strlen(path))) {
		r->sink[fd] = SINK_NULL;
		return 0;
	}
	fi = shellfs_find(r->pv, path);
	if (fi >= 0 && r->pv->f[fi].dir) {
		shell_err(r, "shell.err.create_isdir", cmd, a);
		return -1;
	}
	if (fi < 0 || !app) {
		if (shellfs_is_dir(r->pv, path)) {
			shell_err(r, "shell.err.create_isdir", cmd, a);
			return -1;
		}
		if (!shellfs_parent_ok(r->pv, path) ||
		        (fi = shellfs_create(r->pv, path, 0)) < 0) {
			shell_err(r, "shell.err.create", cmd, a);
			return -1;
		}
	}
	r->sink[fd] = SINK_FILE;
	r->sinkf[fd] = fi;
	return 0;
}

/* ---- if, for, while, until ------------------------------------------ */

#define SH_OPENS                                                       \
	(1u << KW_IF | 1u << KW_CASE | 1u << KW_FOR | 1u << KW_WHILE | \
	        1u << KW_UNTIL)
#define SH_CLOSES (1u << KW_FI | 1u << KW_ESAC | 1u << KW_DONE)
#define SH_FRAMES 6 /* open if/for/while/until per level */
#define SH_STEPS 256 /* loop rounds per line, all levels (then a loop ends) */

/* an open compound command: where it started (while, until: the word to
 * run again), where a for's body starts, its list and the next item */
struct sh_frame {
	uint8_t kind, c, w, bc, bw, nl;
	uint16_t k, ln;
	char var[16];
	uint8_t list[240];
};

static struct sh_frame sh_frames[SH_DEPTH][SH_FRAMES];
static uint8_t sh_nframes[SH_DEPTH];

/* From word *pw of command *pc on, the first reserved word of the kinds in
 * want outside any compound command that opens on the way: its command
 * and word there; -1 when the line ends first. */
static int
sh_seek(struct sh_parse *p, size_t *pc, size_t *pw, unsigned want)
{
	int depth = 0;

	for (size_t c = *pc, w = *pw; c < p->nc;
	        c++, w = c < p->nc ? p->c[c].w0 : 0)
		for (; w < p->c[c].w1; w++) {
			struct sh_arg a = {p->text + p->w[w].off, p->w[w].len};
			int k = shellparse_kw(a);
			if (k < 0)
				break;
			if (!depth && (want >> k & 1)) {
				*pc = c;
				*pw = w - p->c[c].w0;
				return k;
			}
			if (SH_OPENS >> k & 1)
				depth++;
			else if ((SH_CLOSES >> k & 1) && depth)
				depth--;
		}
	return -1;
}

/* The for frame's next item into its variable; 0 when none is left. */
static int
sh_for_next(struct sh_run *r, struct sh_frame *f)
{
	size_t i = f->k, e;

	while (i < f->ln && f->list[i] == ' ')
		i++;
	for (e = i; e < f->ln && f->list[e] != ' '; e++)
		;
	f->k = (uint16_t)e;
	if (i == e)
		return 0;
	shellvar_set(r->pv, (const uint8_t *)f->var, f->nl, f->list + i, e - i);
	return 1;
}

/* Does the case pattern g match t[0..tn)? * ? [set] [!set] */
static int
sh_glob(const uint8_t *g, size_t gn, const uint8_t *t, size_t tn)
{
	size_t i = 0, j = 0, si = (size_t)-1, sj = 0;

	while (j < tn) {
		if (i < gn && g[i] == '*') {
			si = i++;
			sj = j;
			continue;
		}
		if (i < gn && g[i] == '[') {
			size_t e = i + 1 + (i + 1 < gn && g[i + 1] == '!');
			int in = 0, neg = e > i + 1;
			for (e += e < gn && g[e] == ']'; e < gn && g[e] != ']';
			        e++) {
				uint8_t lo = g[e], hi = lo;
				if (e + 2 < gn && g[e + 1] == '-' &&
				        g[e + 2] != ']')
					hi = g[e += 2];
				in |= t[j] >= lo && t[j] <= hi;
			}
			if (e < gn && in != neg) {
				i = e + 1;
				j++;
				continue;
			}
		} else if (i < gn && (g[i] == '?' || g[i] == t[j])) {
			i++;
			j++;
			continue;
		}
		if (si == (size_t)-1)
			return 0;
		i = si + 1; /* the last * takes one more */
		j = ++sj;
	}
	while (i < gn && g[i] == '*')
		i++;
	return i == gn;
}

/* The reserved words that lead command c (from word *x of av): their
 * effect on the frames. Returns 1 when the run goes on at command *jc,
 * word *jw instead (*jc past the line: it ends), else 0 with *x past
 * them. */
static int
sh_control(struct sh_run *r, struct sh_parse *p, size_t c, struct sh_arg *av,
        int ac, int *x, int *st, size_t *jc, size_t *jw)
{
	struct sh_frame *fr = sh_frames[r->level];
	uint8_t *nf = &sh_nframes[r->level];
	int k, found;

	if (p->c[c].sep == SEP_PAT) { /* a case item's patterns */
		struct sh_frame *f = *nf ? &fr[*nf - 1] : NULL;
		int hit = !f || f->kind != KW_CASE;
		for (; *x < ac; (*x)++)
			hit |= sh_glob(av[*x].p, av[*x].n, f ? f->list : NULL,
			        f ? f->ln : 0);
		if (hit)
			return 0; /* its commands run */
		/* else the next item (past this one's ";;") or past esac */
		*jc = c + 1;
		*jw = *jc < p->nc ? p->c[*jc].w0 : 0;
		found = sh_seek(p, jc, jw, 1u << KW_DSEMI | 1u << KW_ESAC);
		if (found < 0)
			goto end;
		(*jw)++;
		if (found == KW_ESAC) {
			(*nf)--;
			*st = 0; /* no pattern matched */
		}
		return 1;
	}
	while (*x < ac && (k = shellparse_kw(av[*x])) >= 0) {
		struct sh_frame *f = *nf ? &fr[*nf - 1] : NULL;
		unsigned want = 0;
		int failed = k == KW_THEN || k == KW_DO || k == KW_FOR ||
		             k >= KW_BREAK;
		(*x)++;
		if (SH_OPENS >> k & 1) {
			if (*nf == SH_FRAMES)
				goto end;
			f = &fr[(*nf)++];
			memset(f, 0, offsetof(struct sh_frame, list));
			f->kind = (uint8_t)k;
			f->c = (uint8_t)c;
			f->w = (uint8_t)(*x - 1);
			if (k == KW_CASE && *x < ac) { /* case WORD in */
				f->ln = (uint16_t)(av[*x].n < sizeof f->list
				                           ? av[*x].n
				                           : sizeof f->list);
				memcpy(f->list, av[*x].p, f->ln);
				*x = ac;
			}
			if (k != KW_FOR)
				continue;
			/* for NAME [in WORDS...]: the words split at blanks */
			if (*x < ac) {
				size_t nl = shellvar_name(av[*x].p, av[*x].n);
				f->nl = (uint8_t)(nl < sizeof f->var ? nl : 0);
				memcpy(f->var, av[*x].p, f->nl);
			}
			for (int i = *x + 2; i < ac && *x + 1 < ac &&
			                     shell_eq(av[*x + 1], "in");
			        i++)
				for (size_t j = 0;
				        j <= av[i].n && f->ln < sizeof f->list;
				        j++) {
					uint8_t ch =
					        j < av[i].n ? av[i].p[j] : ' ';
					f->list[f->ln++] =
					        ch == '\t' || ch == '\n' ? ' '
					                                 : ch;
				}
			*x = ac;
			if (f->nl && sh_for_next(r, f))
				return 0;
			want = 1u << KW_DONE;
		} else if (!f) {
			continue; /* a stray word: nothing to do */
		} else if (k >= KW_BREAK) {
			/* out of the ifs to the innermost loop, then on to its
			 * done: past it (break) or to it (continue) */
			while (*nf && fr[*nf - 1].kind < KW_FOR)
				(*nf)--;
			if (!*nf)
				continue;
			want = 1u << KW_DONE;
		} else if (k == KW_THEN) {
			if (!*st)
				continue;
			want = 1u << KW_ELIF | 1u << KW_ELSE | 1u << KW_FI;
		} else if (k == KW_ELIF || k == KW_ELSE) {
			want = 1u << KW_FI; /* after the branch that ran */
		} else if (k == KW_DO) {
			f->bc = (uint8_t)c;
			f->bw = (uint8_t)*x;
			if (f->kind == KW_FOR || (f->kind == KW_WHILE) == !*st)
				continue;
			want = 1u << KW_DONE;
		} else if (k == KW_DONE) {
			if (++r->steps > SH_STEPS) {
				(*nf)--;
				continue;
			}
			if (f->kind == KW_FOR) {
				if (!sh_for_next(r, f)) {
					(*nf)--;
					continue;
				}
				*jc = f->bc;
				*jw = f->bw;
			} else { /* the condition again */
				*jc = f->c;
				*jw = f->w;
				(*nf)--;
			}
			return 1;
		} else if (k == KW_DSEMI) { /* a case item ran: past esac */
			want = 1u << KW_ESAC;
		} else { /* fi, esac */
			(*nf)--;
			continue;
		}
		/* on to the word wanted, past it (continue: to its done) */
		*jc = c;
		*jw = p->c[c].w0 + (size_t)*x;
		found = sh_seek(p, jc, jw, want);
		if (found < 0)
			goto end;
		if (k != KW_CONTINUE) {
			(*jw)++;
			if (SH_CLOSES >> found & 1)
				(*nf)--;
		}
		if (failed && (found == KW_FI || found == KW_DONE))
			*st = 0; /* no branch or round ran, or left the loop */
		return 1;
	}
	return 0;
end:
	*jc = p->nc;
	return 1;
}

static int
sh_line(struct sh_run *r, const uint8_t *s, size_t n)
{
	struct sh_parse *p;
	const char *bad = "";
	size_t badn = 0, jc = 0, jw = 0;
	int st = r->sh->last_status, saved[3], savedf[3];

	if (r->level >= SH_DEPTH)
		return 0;
	p = &sh_p[r->level];
	p->subst = p->pat = 0;
	if (shellparse_split(r, p, s, n, &bad, &badn) < 0) {
		struct sh_arg a = {(const uint8_t *)bad, badn};
		const char *key = bad != shellparse_newline
		                          ? "shell.err.syntax"
		                          : "shell.err.syntax_nl";
#if LURE_SHELL_LANG /* %c: the line (bash -c quotes it) */
		struct sh_arg line = {s, 0};
		char k2[32];
		size_t kl;
		while (line.n < n && s[line.n] != '\n')
			line.n++;
		if (bad == shellparse_eof)
			key = shell_key("shell.err.syntax_eof", &kl)
			              ? "shell.err.syntax_eof"
			              : "shell.err.syntax_nl";
		fmt_snprintf(k2, sizeof k2, "%s_exec", key);
		if (p->pat == 2 && shell_key("shell.err.syntax_pat", &kl))
			key = "shell.err.syntax_pat";
		else if (r->sh->exec && shell_key(k2, &kl))
			key = k2;
		shell_err(r, key, line, a);
#else
		shell_err(r, key, a, a);
#endif
		r->sh->last_status = 2;
		return 2;
	}
	memcpy(saved, r->sink, sizeof saved);
	memcpy(savedf, r->sinkf, sizeof savedf);
	sh_nframes[r->level] = 0;
	for (size_t c = 0, cur = 0; c < p->nc && !r->exit && !r->abort; c++) {
		/* a pipe: the left side's stdout is the right side's stdin */
		static uint8_t pbuf[SH_DEPTH][2][SHELL_OUT];
		static size_t plen[SH_DEPTH][2];
		uint8_t *opipe = r->pipe;
		size_t *oplen = r->pipe_len;
		struct sh_parse *q = &sh_p1[r->level];
		struct sh_cmd *cm;
		int prev = c ? p->c[c - 1].sep : SEP_SEMI;
		struct sh_arg av[SH_ARGS];
		int ac = 0, x = (int)jw, a = 0, neg;
		size_t l;
		jw = 0;
		if ((prev == SEP_AND && st != 0) || (prev == SEP_OR && st == 0))
			continue;
		/* words are expanded as the command runs ($? of the one
		 * before, $(...)): parse its bytes again */
		q->subst = 1;
		q->pat = p->c[c].sep == SEP_PAT;
		if (shellparse_split(r, q, s + p->c[c].s0,
		            p->c[c].s1 - p->c[c].s0, &bad, &badn) < 0 ||
		        q->nc != 1)
			continue;
		if (r->abort) { /* the words said an error */
			r->sh->last_status = (uint8_t)(st = r->abort);
			break;
		}
		cm = &q->c[0];
		for (int w = cm->w0; w < cm->w1; w++)
			if (!q->redir[w])
				av[ac++] = (struct sh_arg){
				        q->text + q->w[w].off, q->w[w].len};
		if (LURE_SHELL_LANG &&
		        sh_control(r, p, c, av, ac, &x, &st, &jc, &jw)) {
			r->sh->last_status = (uint8_t)st;
			c = jc - 1; /* the loop's c++ makes it jc */
			continue;
		}
		if (x == ac && x) /* reserved words only: $? stays */
			continue;
		neg = LURE_SHELL_LANG && x < ac && shell_eq(av[x], "!");
		x += neg;
		/* NAME=value words first: set (alone) or dropped (before a
		 * command, whose environment they are) */
		while (LURE_SHELL_LANG && a + x < ac &&
		        (l = shellvar_name(av[a + x].p, av[a + x].n)) &&
		        l < av[a + x].n && av[a + x].p[l] == '=')
			a++;
		if (a && a + x == ac) {
			for (int i = x; i < ac; i++) {
				l = shellvar_name(av[i].p, av[i].n);
				shellvar_set(r->pv, av[i].p, l, av[i].p + l + 1,
				        av[i].n - l - 1);
			}
			r->sh->last_status = (uint8_t)(st = 0);
			continue;
		}
		x += a;
		r->piped = prev == SEP_PIPE;
		if (r->piped) {
			r->in = pbuf[r->level][cur ^ 1];
			r->in_len = plen[r->level][cur ^ 1];
		} else if (c) {
			r->in = NULL;
			r->in_len = 0;
		}
		if (p->c[c].sep == SEP_PIPE) {
			plen[r->level][cur] = 0;
			r->pipe = pbuf[r->level][cur];
			r->pipe_len = &plen[r->level][cur];
			r->sink[1] = SINK_PIPE;
		}
		if ((cm->out_w >= 0 &&
		            sh_redirect(r, q, 1, cm->out_w, cm->out_app,
		                    ac > x ? av[x] : sh_a("")) < 0) ||
		        (cm->err_w >= 0 &&
		                sh_redirect(r, q, 2, cm->err_w, cm->err_app,
		                        ac > x ? av[x] : sh_a("")) < 0)) {
			st = 1;
		} else {
			if (cm->err_dup) {
				r->sink[2] = r->sink[1];
				r->sinkf[2] = r->sinkf[1];
			}
			if (LURE_SHELL_ENV) /* bash -c execs it: SHLVL 0 */
				r->last = !r->level && c + 1 == p->nc &&
				          prev != SEP_PIPE &&
				          p->c[c].sep != SEP_PIPE;
			st = shellcmd_run(r, ac - x, av + x);
		}
		if (neg)
			st = !st;
		r->sh->last_status = (uint8_t)st;
		memcpy(r->sink, saved, sizeof saved);
		memcpy(r->sinkf, savedf, sizeof savedf);
		r->pipe = opipe;
		r->pipe_len = oplen;
		if (p->c[c].sep == SEP_PIPE)
			cur ^= 1;
	}
	r->piped = 0;
	r->in = NULL;
	r->in_len = 0;
	return st;
}

/* Run text one level down (sh -c, a script): its exit ends only it. */
int
shell_sub(struct sh_run *r, const uint8_t *s, size_t n)
{
	int st;

	const uint8_t *in = r->in;
	size_t in_len = r->in_len;
	int piped = r->piped;

	if (r->level + 1 >= SH_DEPTH)
		return 0;
	r->level++;
	st = sh_line(r, s, n);
	r->level--;
	r->exit = 0;
	r->in = in;
	r->in_len = in_len;
	r->piped = piped;
	return st;
}

/* ---- the API --------------------------------------------------------- */

void
shell_init(struct shell *sh, const char *user, size_t n)
{
	size_t k = 0;

	memset(sh, 0, sizeof *sh);
	for (size_t i = 0; i < n && k < sizeof sh->user - 1; i++)
		if (user[i]) /* a NUL would end the name early */
			sh->user[k++] = user[i];
	sh->user[k] = 0;
	if (shellfs_home(sh, sh->cwd, sizeof sh->cwd) == 0)
		memcpy(sh->cwd, "/", 2);
}

void
shell_setenv(struct shell *sh, const char *name, const void *v, size_t n)
{
	if (LURE_SHELL_LANG)
		shellvar_set((struct sh_priv *)(void *)sh->priv,
		        (const uint8_t *)name, strlen(name), v, n);
#if LURE_SHELL_ENV
	shellvar_export((struct sh_priv *)(void *)sh->priv,
	        (const uint8_t *)name, strlen(name));
#endif
}

size_t
shell_prompt(const struct shell *sh, struct emu_ctx *ctx, char *buf, size_t cap)
{
	size_t tl, k = 0;
	const char *t = shell_key("shell.prompt", &tl);
	char home[SH_PATH];
	size_t hl = shellfs_home(sh, home, sizeof home);
	int root = strcmp(sh->user, "root") == 0;

	for (size_t i = 0; t && i < tl; i++) {
		const char *s = NULL;
		char one[2] = {0, 0};
		if (t[i] != '%' || i + 1 == tl) {
			one[0] = t[i];
			s = one;
		} else {
			switch (t[++i]) {
			case 'u': s = sh->user; break;
			case 'h': s = ctx ? emu_hostname(ctx) : ""; break;
			case '$': s = root ? "#" : "$"; break;
			case 'w':
			case 'W':
				if (hl > 1 && strncmp(sh->cwd, home, hl) == 0 &&
				        (sh->cwd[hl] == '/' || !sh->cwd[hl])) {
					if (t[i] == 'W' && sh->cwd[hl])
						s = strrchr(sh->cwd, '/') + 1;
					else {
						if (k < cap)
							buf[k++] = '~';
						s = t[i] == 'w' ? sh->cwd + hl
						                : "";
					}
				} else {
					s = t[i] == 'W' && sh->cwd[1]
					            ? strrchr(sh->cwd, '/') + 1
					            : sh->cwd;
				}
				break;
			default: one[0] = t[i]; s = one;
			}
		}
		for (; *s && k < cap; s++)
			buf[k++] = *s;
	}
	return k;
}

/* A JSON array of strings from a[0..n) (NUL-terminated). */
static void
sh_array(struct event *e, const char *key, const char *const *a, size_t n)
{
	static char buf[(IND_MAX + SH_DL) * 200 + 8];
	size_t k = 0;

	if (!n)
		return;
	buf[k++] = '[';
	for (size_t i = 0; i < n; i++) {
		struct json_escape_result er;
		if (i)
			buf[k++] = ',';
		buf[k++] = '"';
		er = json_escape(buf + k, sizeof buf - k - 4,
		        (const uint8_t *)a[i], strlen(a[i]));
		k += er.out_len;
		buf[k++] = '"';
		if (sizeof buf - k < 200)
			break;
	}
	buf[k++] = ']';
	event_raw(e, key, buf, k);
}

static size_t
sh_merge(const char **list, size_t n, size_t max, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return n;
	if (n < max)
		list[n++] = s;
	return n;
}

int
shell_ipv4(const char *h, size_t n)
{
	unsigned dots = 0, digits = 0;

	for (size_t i = 0; i < n; i++)
		if (h[i] == '.') {
			if (!digits)
				return 0;
			dots++;
			digits = 0;
		} else if (h[i] >= '0' && h[i] <= '9' && digits < 3) {
			digits++;
		} else {
			return 0;
		}
	return dots == 3 && digits;
}
enum shell_result
shell_run(struct shell *sh, struct emu_ctx *ctx, struct event *e,
        const uint8_t *line, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	static struct sh_run r;
	static char hosts[SH_DL][64];
	const char *urls[IND_MAX + SH_DL], *ips[IND_MAX + SH_DL];
	size_t nu = 0, ni = 0, taken = n > SHELL_LINE ? SHELL_LINE : n;

	memset(&r, 0, sizeof r);
	r.sh = sh;
	r.pv = (struct sh_priv *)(void *)sh->priv;
	r.ctx = ctx;
	r.e = e;
	r.out = out;
	r.cap = cap < SHELL_OUT ? cap : SHELL_OUT;
	sh->err_len = sh->sleep_ms = 0;
	event_bytes(e, "lure.command", line, n, SHELL_LINE);
	if (r.pv->lines < UINT16_MAX)
		r.pv->lines++;
	sh_line(&r, line, taken);
	/* indicators: what the line names, and the download targets */
	indicators_extract(line, taken, 0, &sh_ind);
	for (size_t i = 0; i < sh_ind.nurl; i++)
		nu = sh_merge(urls, nu, IND_MAX + SH_DL, sh_ind.url[i]);
	for (size_t i = 0; i < sh_ind.nip; i++)
		ni = sh_merge(ips, ni, IND_MAX + SH_DL, sh_ind.ip[i]);
	for (size_t i = 0; i < r.nurl; i++) {
		const char *h = fmt_strstr(r.url[i], "://"), *he;
		h = h ? h + 3 : r.url[i];
		he = h;
		nu = sh_merge(urls, nu, IND_MAX + SH_DL, r.url[i]);
		while (*he && *he != '/' && *he != ':')
			he++;
		if (shell_ipv4(h, (size_t)(he - h))) {
			memcpy(hosts[i], h, (size_t)(he - h));
			hosts[i][he - h] = 0;
			ni = sh_merge(ips, ni, IND_MAX + SH_DL, hosts[i]);
		}
	}
	sh_array(e, "lure.indicators.url", urls, nu);
	sh_array(e, "lure.indicators.ip", ips, ni);
	if (r.dl)
		event_tag(e, "download");
	*outlen = r.len;
	if (r.exit) {
		size_t tl;
		const char *t;
		if (sh->depth > 0) {
			sh->depth--;
			return SHELL_CONT;
		}
		if ((t = shell_key("shell.logout", &tl)) &&
		        r.len + tl <= r.cap) {
			memcpy(out + r.len, t, tl);
			*outlen = r.len + tl;
		}
		return SHELL_EXIT;
	}
	return SHELL_CONT;
}
