/* shell.c: the fake shell behind SSH and Telnet logins (see shell.h). A line
 * is parsed whole (; && || | & and newlines, quotes, backslashes, $VAR,
 * $(...) and backticks, > >> 2> 2>&1 into a small per-session file table,
 * pipes carrying stdout to the next command), then each command is
 * expanded and answered from persona data. Nothing runs, nothing is fetched.
 *
 * Persona keys (emu/personas/<p>/shell.conf; strings take the C escapes of
 * src/persona.h). Templates: %n shell.name, %u user, %h hostname, %c the
 * command word, %a its argument, %D the UTC wall clock "2026-01-02
 * 03:04:05", %% a percent sign; downloads also %U URL, %H host, %P port, %F
 * file name. An absent key prints nothing.
 *
 * shell.prompt      "%u@%h:%w%$ ": %w cwd with the home as "~", %W its last
 *                   part, %$ '#' for root else '$'.
 * shell.name        the error prefix: "-sh", "-ash", "-bash".
 * shell.name_exec   the same for an SSH exec request, run as "sh -c"
 *                   does ("bash", "ash"); absent: shell.name.
 * shell.home        root's home ("/root"); shell.home_user others' ("/home/%u").
 * shell.logout      printed when the session's shell exits ("logout\n": bash).
 * shell.path, shell.path_sh, shell.pid   $PATH, $SHELL, $$.
 * shell.id          `id` for root; shell.id_user for others (%u).
 * shell.uname.s .n .r .v .m .p .i .o   uname -s -n -r -v -m -p -i -o (.n
 *                   defaults to the hostname); -a prints s n r v m, p and i
 *                   when present, o; an absent -p/-i alone is "unknown".
 * shell.elf.class   32|64; shell.elf.data lsb|msb; shell.elf.machine
 *                   e_machine (3 i386, 8 MIPS, 40 ARM, 62 x86-64, 183
 *                   AArch64); .flags e_flags (0x..); .osabi; .type 2 EXEC |
 *                   3 DYN; .entry; .align (LOAD alignment, 0x10000);
 *                   .interp (absent: static); .size (ls -l, dd counts).
 *                   cat/dd/head/tail of a shell.bin path give that ELF
 *                   header, program headers and interpreter path, then
 *                   code-like filler, SH_BIN_OUT bytes at most.
 * shell.bin         repeated, space-separated: the executables. A command
 *                   word is found when a shell.bin path ends in "/word".
 * shell.dir         repeated, space-separated: directories besides those
 *                   files/fs/ and shell.bin imply (/tmp, /var/run...).
 * shell.devnull     space-separated paths a redirection discards.
 * shell.busybox     repeated: what `busybox` alone prints (lines).
 * shell.applet      repeated, space-separated: `busybox --list`; `busybox
 *                   NAME` runs NAME when listed, else shell.err.applet.
 * shell.nest        space-separated: commands that start a nested shell
 *                   (`exit` leaves one; `sh -c TEXT`, `sh FILE` and
 *                   `... | sh` run TEXT, FILE or the pipe a level down).
 * shell.cmd         repeated: "name\toutput": a fixed answer.
 * shell.cd_status   exit status of a failed cd (ash 2, bash 1).
 * shell.ps, shell.free, shell.df, shell.nproc   repeated: their lines.
 * shell.ls_date     the date column of ls -l.
 * shell.wget, shell.curl, shell.tftp, shell.ftpget   what the tool prints
 *                   (stderr) when the host is an IPv4 address; *_name when
 *                   it is a name. Exit status 1.
 * shell.exec        what running a file the attacker wrote prints
 *                   ("Segmentation fault\n"); shell.exec_status (139).
 * shell.err.*       error lines (a newline is added): notfound (unknown
 *                   command), noent (a path that does not exist), noperm,
 *                   syntax (%a the token), syntax_nl, create (redirection
 *                   into a missing directory), create_isdir, cd_noent,
 *                   cd_notdir, cat_noent, cat_isdir, ls_noent, rm_noent,
 *                   chmod_noent, cp_noent, cp_create, mkdir_noent,
 *                   mkdir_exist, touch_noent, dd_noent, head_noent (also
 *                   tail), grep_noent, kill (%c "kill" for the applet, the
 *                   shell's name without '-' for the builtin), kill_usage,
 *                   sh_open, applet.
 * Files: files/fs/<path> is the device's file <path> (cat, ls, cd, grep).
 *
 * Events (added to the caller's): lure.command (the line), lure.indicators
 * .url / .ip (what the line names plus the download targets built, e.g.
 * tftp://host/file), tags "download" (wget/curl/tftp/ftpget ran) and
 * "dropper" (a written file ran: file.path, file.size, file.hash.md5 and
 * .sha1 when all its bytes were kept).
 */
#include <string.h>

#include "hash.h"
#include "indicators.h"
#include "json.h"
#include "lure.h"
#include "persona.h"
#include "shell.h"

#define SH_VFILES 6 /* files an attacker can write per session */
#define SH_PATH 128 /* longest path handled (longer: not found) */
#define SH_NAME 48 /* longest path of a written file */
#define SH_ARGS 48 /* words per line (all commands) */
#define SH_CMDS 24 /* commands per line */
#define SH_DEPTH 3 /* sh -c "..." inside sh -c: levels parsed */
#define SH_NEST 8 /* interactive nested shells */
#define SH_BIN_OUT 1024 /* most bytes of a binary one command prints */
#define SH_DL 8 /* download targets per line */
#define SH_WTEXT (2 * SHELL_LINE) /* expanded words of one level */

struct sh_vfile {
	char path[SH_NAME];
	uint32_t size; /* logical size (a copied binary: its size) */
	uint16_t off, len; /* bytes kept in the pool */
	uint8_t used, exec, dir, lost; /* lost: size != len (not all kept) */
};

struct sh_priv {
	struct sh_vfile f[SH_VFILES];
	char oldpwd[64];
	uint16_t pool_used, lines;
	uint8_t pool[1536 - SH_VFILES * sizeof(struct sh_vfile) - 64 - 4];
};
_Static_assert(sizeof(struct sh_priv) <= sizeof((struct shell *)0)->priv,
        "struct sh_priv does not fit in struct shell");

struct sh_word {
	uint16_t off, len;
};

enum { SEP_END, SEP_SEMI, SEP_AND, SEP_OR, SEP_PIPE, SEP_BG };

struct sh_cmd {
	uint16_t s0, s1; /* its bytes in the line */
	uint8_t w0, w1, sep; /* words [w0, w1) minus redirection targets */
	int16_t out_w, err_w; /* redirection target words, -1: none */
	uint8_t out_app, err_app, err_dup; /* >>, 2>>, 2>&1 */
};

struct sh_parse {
	struct sh_word w[SH_ARGS];
	uint8_t redir[SH_ARGS]; /* word is a redirection target */
	struct sh_cmd c[SH_CMDS];
	uint8_t text[SH_WTEXT];
	size_t nw, nc, used;
	int subst; /* run $(...) and `...` (the pass that executes) */
};

enum { SINK_TTY, SINK_NULL, SINK_FILE, SINK_PIPE };

struct sh_run {
	struct shell *sh;
	struct sh_priv *pv;
	struct emu_ctx *ctx;
	struct event *e;
	uint8_t *out;
	size_t cap, len;
	int sink[3], sinkf[3]; /* per stream: SINK_*, file index */
	int piped; /* stdin is a pipe: in[0..in_len) */
	const uint8_t *in;
	size_t in_len;
	uint8_t *pipe; /* SINK_PIPE writes here, up to SHELL_OUT */
	size_t *pipe_len;
	int level; /* sh -c depth */
	int dl, dropper, exit;
	int applet; /* the command runs as a program, not a builtin */
	const char *url[SH_DL];
	size_t nurl;
	char urlbuf[SH_DL][160];
};

/* one level's parse and the argv of the running command */
static struct sh_parse sh_p[SH_DEPTH], sh_p1[SH_DEPTH];
static struct ind_result sh_ind;

struct sh_arg {
	const uint8_t *p;
	size_t n;
};

/* ---- persona data ---------------------------------------------------- */

static const char *
sh_key(const char *key, size_t *len)
{
	size_t l = 0;
	const char *v = persona_get(key, &l);

	*len = v ? l : 0;
	return v;
}

/* Is word w[0..n) one of the space-separated names of the values of key? */
static int
sh_listed(const char *key, const uint8_t *w, size_t n)
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

/* ---- output ---------------------------------------------------------- */

static void
sh_vf_append(struct sh_run *r, int fi, const uint8_t *p, size_t n);

static void
sh_write(struct sh_run *r, int fd, const void *p, size_t n)
{
	size_t room;

	if (r->sink[fd] == SINK_NULL || !n)
		return;
	if (r->sink[fd] == SINK_FILE) {
		sh_vf_append(r, r->sinkf[fd], p, n);
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
static const char *
sh_name(const struct sh_run *r, size_t *l)
{
	const char *s;

	if (r->sh->exec && (s = sh_key("shell.name_exec", l)))
		return s;
	return sh_key("shell.name", l);
}

static void
sh_puts(struct sh_run *r, int fd, const char *s)
{
	sh_write(r, fd, s, strlen(s));
}

static void
sh_putu(struct sh_run *r, int fd, unsigned long v)
{
	char b[24];
	size_t k = sizeof b;

	do
		b[--k] = (char)('0' + v % 10);
	while ((v /= 10) && k);
	sh_write(r, fd, b + k, sizeof b - k);
}

/* "2026-01-02 03:04:05" (UTC wall clock) */
static void
sh_date(struct sh_run *r, int fd)
{
	int64_t t = lure_wall() / 1000;
	long y, m, d, sec = (long)(t % 86400);
	char b[20];
	unsigned long v[6];

	lure_civil_from_days((long)(t / 86400), &y, &m, &d);
	v[0] = (unsigned long)y;
	v[1] = (unsigned long)m;
	v[2] = (unsigned long)d;
	v[3] = (unsigned long)(sec / 3600);
	v[4] = (unsigned long)(sec / 60 % 60);
	v[5] = (unsigned long)(sec % 60);
	for (int i = 0, k = 0; i < 6; i++) {
		int w = i ? 2 : 4;
		for (int j = w - 1; j >= 0; j--, v[i] /= 10)
			b[k + j] = (char)('0' + v[i] % 10);
		k += w;
		if (i < 5)
			b[k++] = "-- ::"[i];
	}
	sh_write(r, fd, b, 19);
}

/* Template arguments: %c command, %a argument, %H host, %P port, %U URL,
 * %F file; %n shell.name, %u user, %h hostname, %% percent. */
struct sh_fa {
	struct sh_arg c, a;
	const char *H, *P, *U, *F;
};

static void
sh_tmpl(struct sh_run *r, int fd, const char *t, size_t tl,
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
			sh_write(r, fd, t + i, j - i);
			i = j - 1;
			continue;
		}
		switch (t[++i]) {
		case 'c': sh_write(r, fd, fa->c.p, fa->c.n); break;
		case 'a': sh_write(r, fd, fa->a.p, fa->a.n); break;
		case 'n': s = sh_name(r, &sl); break;
		case 'u': s = r->sh->user; break;
		case 'h': s = emu_hostname(r->ctx); break;
		case 'H': s = fa->H; break;
		case 'P': s = fa->P; break;
		case 'U': s = fa->U; break;
		case 'F': s = fa->F; break;
		case 'D': sh_date(r, fd); break;
		default: sh_write(r, fd, t + i, 1); break;
		}
		if (s)
			sh_write(r, fd, s, sl ? sl : strlen(s));
	}
}

/* An error line from key shell.err.<id> to stderr (absent: nothing). */
static void
sh_err(struct sh_run *r, const char *key, struct sh_arg c, struct sh_arg a)
{
	size_t tl;
	const char *t = sh_key(key, &tl);
	struct sh_fa fa = {.c = c, .a = a};

	if (!t)
		return;
	sh_tmpl(r, 2, t, tl, &fa);
	sh_write(r, 2, "\n", 1);
}

/* Every value of a repeated key, each followed by a newline. */
static void
sh_lines(struct sh_run *r, const char *key)
{
	size_t i = 0;
	const struct persona_kv *kv;
	struct sh_fa fa = {{NULL, 0}, {NULL, 0}, NULL, NULL, NULL, NULL};

	while ((kv = persona_next(key, &i))) {
		sh_tmpl(r, 1, kv->val, kv->len, &fa);
		sh_write(r, 1, "\n", 1);
	}
}

/* ---- the file system: files/fs/, shell.bin, shell.dir, written files -- */

static size_t
sh_home(const struct shell *sh, char *buf, size_t cap)
{
	size_t tl, k = 0;
	int root = strcmp(sh->user, "root") == 0;
	const char *t = sh_key(root ? "shell.home" : "shell.home_user", &tl);

	if (!t) {
		t = "/";
		tl = 1;
	}
	for (size_t i = 0; i < tl && k + 1 < cap; i++) {
		if (t[i] == '%' && i + 1 < tl && t[i + 1] == 'u') {
			for (const char *u = sh->user; *u && k + 1 < cap; u++)
				buf[k++] = *u;
			i++;
		} else {
			buf[k++] = t[i];
		}
	}
	buf[k] = 0;
	return k;
}

/* Absolute, normalised path of a[0..n) into out[SH_PATH]; 0 when too long
 * or holding a NUL. */
static size_t
sh_path(const struct shell *sh, const uint8_t *a, size_t n, char *out)
{
	char tmp[2 * SH_PATH + 2];
	size_t k = 0, o = 0;

	if (n >= SH_PATH || memchr(a, 0, n))
		return 0;
	if (n && a[0] == '~' && (n == 1 || a[1] == '/')) {
		k = sh_home(sh, tmp, SH_PATH);
		a++;
		n--;
	} else if (!n || a[0] != '/') {
		k = strlen(sh->cwd);
		memcpy(tmp, sh->cwd, k);
	}
	tmp[k++] = '/';
	memcpy(tmp + k, a, n);
	k += n;
	/* walk components */
	for (size_t i = 0; i < k;) {
		size_t j = i, cl;
		while (j < k && tmp[j] != '/')
			j++;
		cl = j - i;
		if (cl == 0 || (cl == 1 && tmp[i] == '.')) {
		} else if (cl == 2 && tmp[i] == '.' && tmp[i + 1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			if (o + 1 + cl >= SH_PATH)
				return 0;
			out[o++] = '/';
			memcpy(out + o, tmp + i, cl);
			o += cl;
		}
		i = j + 1;
	}
	if (!o)
		out[o++] = '/';
	out[o] = 0;
	return o;
}

static const struct persona_file *
sh_pfile(const char *path)
{
	char name[SH_PATH + 4] = "fs";

	memcpy(name + 2, path, strlen(path) + 1);
	return persona_file(name);
}

static int
sh_vf_find(const struct sh_priv *pv, const char *path)
{
	for (int i = 0; i < SH_VFILES; i++)
		if (pv->f[i].used && strcmp(pv->f[i].path, path) == 0)
			return i;
	return -1;
}

static int
sh_is_bin(const char *path)
{
	return sh_listed("shell.bin", (const uint8_t *)path, strlen(path));
}

/* Does some value of key (space-separated paths) start with pre (pl)? */
static int
sh_key_prefix(const char *key, const char *pre, size_t pl)
{
	size_t i = 0;
	const struct persona_kv *kv;

	while ((kv = persona_next(key, &i)))
		for (const char *v = kv->val; *v;) {
			size_t l;
			while (*v == ' ')
				v++;
			for (l = 0; v[l] && v[l] != ' '; l++)
				;
			if (l >= pl && memcmp(v, pre, pl) == 0 &&
			        (l == pl || v[pl] == '/'))
				return 1;
			v += l;
		}
	return 0;
}

static int
sh_is_dir(const struct sh_priv *pv, const char *path)
{
	size_t pl = strlen(path);
	int i;

	if (pl == 1)
		return 1;
	if ((i = sh_vf_find(pv, path)) >= 0)
		return pv->f[i].dir;
	for (size_t k = 0; k < persona_nfiles; k++) {
		const char *nm = persona_files[k].name;
		if (nm[0] == 'f' && nm[1] == 's' &&
		        strncmp(nm + 2, path, pl) == 0 && nm[2 + pl] == '/')
			return 1;
	}
	if (sh_key_prefix("shell.dir", path, pl))
		return 1;
	/* a parent of a binary ("/usr/bin" of "/usr/bin/wget") */
	{
		char pre[SH_PATH + 1];
		memcpy(pre, path, pl);
		pre[pl] = '/';
		pre[pl + 1] = 0;
		size_t i2 = 0;
		const struct persona_kv *kv;
		while ((kv = persona_next("shell.bin", &i2)))
			for (const char *v = kv->val; (v = strstr(v, pre));)
				if (v == kv->val || v[-1] == ' ')
					return 1;
				else
					v++;
	}
	return 0;
}

enum { SH_NONE, SH_FILE, SH_DIR, SH_BIN, SH_VFILE };

static int
sh_kind(const struct sh_priv *pv, const char *path, int *vf)
{
	int i = sh_vf_find(pv, path);

	*vf = i;
	if (i >= 0)
		return pv->f[i].dir ? SH_DIR : SH_VFILE;
	if (sh_is_bin(path))
		return SH_BIN;
	if (sh_pfile(path))
		return SH_FILE;
	return sh_is_dir(pv, path) ? SH_DIR : SH_NONE;
}

/* Take file i's bytes out of the pool (others move down). */
static void
sh_vf_unpool(struct sh_priv *pv, int i)
{
	struct sh_vfile *f = &pv->f[i];
	size_t end = (size_t)f->off + f->len;

	/* an empty file's offset means nothing (others moved under it) */
	if (f->len) {
		memmove(pv->pool + f->off, pv->pool + end, pv->pool_used - end);
		for (int j = 0; j < SH_VFILES; j++)
			if (j != i && pv->f[j].used && pv->f[j].len &&
			        pv->f[j].off >= end)
				pv->f[j].off =
				        (uint16_t)(pv->f[j].off - f->len);
	}
	pv->pool_used = (uint16_t)(pv->pool_used - f->len);
	f->off = pv->pool_used;
	f->len = 0;
}

static void
sh_vf_free(struct sh_priv *pv, int i)
{
	sh_vf_unpool(pv, i);
	memset(&pv->f[i], 0, sizeof pv->f[i]);
}

/* A new empty file (or dir) at path; -1 when the table is full or the path
 * too long. An existing one is truncated. */
static int
sh_vf_create(struct sh_priv *pv, const char *path, int dir)
{
	int i = sh_vf_find(pv, path);
	size_t pl = strlen(path);

	if (pl >= SH_NAME)
		return -1;
	if (i < 0)
		for (i = 0; i < SH_VFILES && pv->f[i].used; i++)
			;
	if (i >= SH_VFILES)
		return -1;
	int exec = pv->f[i].used && pv->f[i].exec; /* ">f" keeps the mode */
	if (pv->f[i].used)
		sh_vf_unpool(pv, i);
	memset(&pv->f[i], 0, sizeof pv->f[i]);
	memcpy(pv->f[i].path, path, pl + 1);
	pv->f[i].used = 1;
	pv->f[i].exec = (uint8_t)exec;
	pv->f[i].dir = (uint8_t)dir;
	pv->f[i].off = pv->pool_used;
	return i;
}

static void
sh_vf_append(struct sh_run *r, int fi, const uint8_t *p, size_t n)
{
	struct sh_priv *pv = r->pv;
	struct sh_vfile *f = &pv->f[fi];
	size_t room;

	if ((size_t)f->off + f->len != pv->pool_used) {
		/* not last: move it to the end */
		uint8_t tmp[sizeof pv->pool];
		size_t len = f->len;
		memcpy(tmp, pv->pool + f->off, len);
		sh_vf_unpool(pv, fi);
		memcpy(pv->pool + pv->pool_used, tmp, len);
		f->len = (uint16_t)len;
		pv->pool_used = (uint16_t)(pv->pool_used + len);
	}
	f->size = f->size + n < f->size ? UINT32_MAX : (uint32_t)(f->size + n);
	if (f->lost) /* a gap: keep no more bytes */
		return;
	room = sizeof pv->pool - pv->pool_used;
	if (n > room) {
		n = room;
		f->lost = 1;
	}
	memcpy(pv->pool + pv->pool_used, p, n);
	f->len = (uint16_t)(f->len + n);
	pv->pool_used = (uint16_t)(pv->pool_used + n);
}

/* ---- the CPU's ELF (what cat/dd/head of a shell.bin path print) ------- */

static unsigned long long
sh_num(const char *key, unsigned long long def)
{
	size_t l;
	const char *v = sh_key(key, &l);
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

struct sh_elfw {
	uint8_t *b;
	size_t k, cap;
	int msb, w64;
};

static void
sh_put(struct sh_elfw *w, unsigned long long v, int bytes)
{
	for (int i = 0; i < bytes; i++) {
		int sh = w->msb ? 8 * (bytes - 1 - i) : 8 * i;
		if (w->k < w->cap)
			w->b[w->k++] = (uint8_t)(v >> sh);
	}
}

/* an address-sized field */
static void
sh_puta(struct sh_elfw *w, unsigned long long v)
{
	sh_put(w, v, w->w64 ? 8 : 4);
}

static void
sh_phdr(struct sh_elfw *w, unsigned type, unsigned flags,
        unsigned long long off, unsigned long long vaddr,
        unsigned long long fsz, unsigned long long msz, unsigned long long al)
{
	sh_put(w, type, 4);
	if (w->w64)
		sh_put(w, flags, 4);
	sh_puta(w, off);
	sh_puta(w, vaddr);
	sh_puta(w, vaddr);
	sh_puta(w, fsz);
	sh_puta(w, msz);
	if (!w->w64)
		sh_put(w, flags, 4);
	sh_puta(w, al);
}

/* The first min(size, cap) bytes of the persona's executable; returns the
 * length. Header and program headers as a linker lays them out (PHDR,
 * INTERP, two LOADs, DYNAMIC, GNU_STACK; static: LOADs and GNU_STACK),
 * then the interpreter path, then code-like filler. */
static size_t
sh_elf(uint8_t *b, size_t cap)
{
	struct sh_elfw w = {b, 0, cap, 0, 0};
	size_t il;
	const char *interp = sh_key("shell.elf.interp", &il);
	unsigned long long size = sh_num("shell.elf.size", 0);
	unsigned long long entry = sh_num("shell.elf.entry", 0);
	unsigned type = (unsigned)sh_num("shell.elf.type", 2);
	unsigned long long base = type == 3 ? 0 : entry & ~0xffffULL;
	unsigned long long al = sh_num("shell.elf.align", 0x10000);
	unsigned long long ehs, phs, phoff, text, data, shnum = 27;
	unsigned phnum = interp ? 6 : 3;
	size_t dl;
	const char *d = sh_key("shell.elf.data", &dl);
	uint32_t x = 0x9e3779b9u;

	w.msb = d && dl == 3 && memcmp(d, "msb", 3) == 0;
	w.w64 = sh_num("shell.elf.class", 32) == 64;
	ehs = w.w64 ? 64 : 52;
	phs = w.w64 ? 56 : 32;
	phoff = ehs;
	if (size < 65536)
		size = 65536;
	text = (size * 3 / 4) & ~0xfULL;
	data = size - text - shnum * (w.w64 ? 64 : 40);
	static const uint8_t mag[4] = {0x7f, 'E', 'L', 'F'};
	for (int i = 0; i < 4; i++)
		sh_put(&w, mag[i], 1);
	sh_put(&w, w.w64 ? 2 : 1, 1);
	sh_put(&w, w.msb ? 2 : 1, 1);
	sh_put(&w, 1, 1);
	sh_put(&w, sh_num("shell.elf.osabi", 0), 1);
	for (int i = 0; i < 8; i++)
		sh_put(&w, 0, 1);
	sh_put(&w, type, 2);
	sh_put(&w, sh_num("shell.elf.machine", 0), 2);
	sh_put(&w, 1, 4);
	sh_puta(&w, entry);
	sh_puta(&w, phoff);
	sh_puta(&w, size - shnum * (w.w64 ? 64 : 40));
	sh_put(&w, sh_num("shell.elf.flags", 0), 4);
	sh_put(&w, ehs, 2);
	sh_put(&w, phs, 2);
	sh_put(&w, phnum, 2);
	sh_put(&w, w.w64 ? 64 : 40, 2);
	sh_put(&w, shnum, 2);
	sh_put(&w, shnum - 1, 2);
	if (interp) {
		unsigned long long io = phoff + phnum * phs;
		sh_phdr(&w, 6, 4, phoff, base + phoff, phnum * phs, phnum * phs,
		        w.w64 ? 8 : 4);
		sh_phdr(&w, 3, 4, io, base + io, il + 1, il + 1, 1);
	}
	sh_phdr(&w, 1, 5, 0, base, text, text, al);
	sh_phdr(&w, 1, 6, text, base + al + text, data, data + 0x400, al);
	if (interp)
		sh_phdr(&w, 2, 6, text + 0x10, base + al + text + 0x10,
		        w.w64 ? 0x1f0 : 0xf8, w.w64 ? 0x1f0 : 0xf8,
		        w.w64 ? 8 : 4);
	sh_phdr(&w, 0x6474e551u, 6, 0, 0, 0, 0, 16);
	for (size_t i = 0; interp && i <= il; i++)
		sh_put(&w, i < il ? (uint8_t)interp[i] : 0, 1);
	while (w.k < w.cap && w.k < size) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		/* mostly small values, as code and tables are */
		w.b[w.k++] = (uint8_t)((x & 3) ? (x >> 8) & 0x3f : x >> 24);
	}
	return w.k;
}

static unsigned long
sh_bin_size(void)
{
	unsigned long long s = sh_num("shell.elf.size", 0);

	return (unsigned long)(s < 65536 ? 65536 : s);
}

/* ---- the parser ------------------------------------------------------ */

static int
sh_is_op(uint8_t c)
{
	return c == ';' || c == '&' || c == '|' || c == '\n' || c == '<' ||
	       c == '>' || c == '(' || c == ')';
}

static void
sh_emit(struct sh_parse *p, const void *s, size_t n)
{
	if (n > sizeof p->text - p->used)
		n = sizeof p->text - p->used;
	memcpy(p->text + p->used, s, n);
	p->used += n;
}

/* $NAME, ${NAME}, $?, $$, $0 */
static void
sh_var(struct sh_run *r, struct sh_parse *p, const uint8_t *v, size_t n)
{
	char b[SH_PATH];
	size_t l;
	const char *s = NULL;

	if (n == 1 && v[0] == '?') {
		char d[4];
		size_t k = sizeof d;
		unsigned st = r->sh->last_status;
		do
			d[--k] = (char)('0' + st % 10);
		while ((st /= 10) && k);
		sh_emit(p, d + k, sizeof d - k);
		return;
	}
#define SH_IS(lit) (n == sizeof lit - 1 && memcmp(v, lit, n) == 0)
	if (SH_IS("HOME")) {
		sh_home(r->sh, b, sizeof b);
		s = b;
	} else if (SH_IS("PWD")) {
		s = r->sh->cwd;
	} else if (SH_IS("USER") || SH_IS("LOGNAME")) {
		s = r->sh->user;
	} else if (SH_IS("0")) {
		s = sh_name(r, &l);
	} else if (SH_IS("PATH")) {
		s = sh_key("shell.path", &l);
	} else if (SH_IS("SHELL")) {
		s = sh_key("shell.path_sh", &l);
	} else if (SH_IS("$")) {
		s = sh_key("shell.pid", &l);
	}
#undef SH_IS
	if (s)
		sh_emit(p, s, strlen(s));
}

/* The end of a $(...) or `...`: i is at its '(' or '`'. Returns the index
 * after it (n when it is not closed). */
static size_t
sh_skip_subst(const uint8_t *s, size_t n, size_t i)
{
	unsigned depth = 0;

	if (s[i] == '`') {
		for (i++; i < n && s[i] != '`'; i++)
			if (s[i] == '\\')
				i++;
		return i < n ? i + 1 : n;
	}
	for (; i < n; i++) {
		if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && --depth == 0)
			return i + 1;
		else if (s[i] == '\'')
			while (i + 1 < n && s[++i] != '\'')
				;
	}
	return n;
}

static int
sh_sub(struct sh_run *r, const uint8_t *s, size_t n);

/* $(...) or `...` at s[i]: when the pass executes, its text runs a level
 * down and its stdout (trailing newlines cut) goes into the word. $((...))
 * arithmetic expands to nothing. Returns the index after it. */
static size_t
sh_subst(struct sh_run *r, struct sh_parse *p, const uint8_t *s, size_t n,
        size_t i)
{
	static uint8_t cap[SH_DEPTH][SHELL_OUT];
	static size_t caplen[SH_DEPTH];
	size_t end = sh_skip_subst(s, n, i), a = i + 1, b;
	int sink = r->sink[1], lv = r->level;
	uint8_t *pipe = r->pipe;
	size_t *pipe_len = r->pipe_len;

	if (!p->subst || lv + 1 >= SH_DEPTH)
		return end;
	if (s[i] == '(' && i + 1 < n && s[i + 1] == '(')
		return end;
	b = end > a && end <= n && s[end - 1] == (s[i] == '`' ? '`' : ')')
	            ? end - 1
	            : end;
	caplen[lv] = 0;
	r->sink[1] = SINK_PIPE;
	r->pipe = cap[lv];
	r->pipe_len = &caplen[lv];
	sh_sub(r, s + a, b > a ? b - a : 0);
	r->sink[1] = sink;
	r->pipe = pipe;
	r->pipe_len = pipe_len;
	while (caplen[lv] && cap[lv][caplen[lv] - 1] == '\n')
		caplen[lv]--;
	sh_emit(p, cap[lv], caplen[lv]);
	return end;
}

/* A '$' at s[i]: expands into p; returns the index after it. */
static size_t
sh_dollar(struct sh_run *r, struct sh_parse *p, const uint8_t *s, size_t n,
        size_t i)
{
	size_t j;

	if (i + 1 >= n) {
		sh_emit(p, "$", 1);
		return n;
	}
	if (s[i + 1] == '(')
		return sh_subst(r, p, s, n, i + 1);
	if (s[i + 1] == '{') {
		for (j = i + 2; j < n && s[j] != '}'; j++)
			;
		sh_var(r, p, s + i + 2, j - i - 2);
		return j < n ? j + 1 : n;
	}
	if (s[i + 1] == '?' || s[i + 1] == '$' ||
	        (s[i + 1] >= '0' && s[i + 1] <= '9')) {
		sh_var(r, p, s + i + 1, 1);
		return i + 2;
	}
	for (j = i + 1; j < n &&
	                (s[j] == '_' || (s[j] >= '0' && s[j] <= '9') ||
	                        ((s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z'));
	        j++)
		;
	if (j == i + 1) {
		sh_emit(p, "$", 1);
		return i + 1;
	}
	sh_var(r, p, s + i + 1, j - i - 1);
	return j;
}

/* One word from s[*i] (not a blank or an operator) into p->w; returns its
 * index, or -1 when the word table is full (the word is still consumed). */
static int
sh_word(struct sh_run *r, struct sh_parse *p, const uint8_t *s, size_t n,
        size_t *ip)
{
	size_t i = *ip, start = p->used;

	while (i < n && s[i] != ' ' && s[i] != '\t' && !sh_is_op(s[i])) {
		uint8_t c = s[i];
		if (c == '\\') {
			if (i + 1 < n)
				sh_emit(p, s + i + 1, 1);
			i += 2;
		} else if (c == '\'') {
			size_t j = i + 1;
			while (j < n && s[j] != '\'')
				j++;
			sh_emit(p, s + i + 1, j - i - 1);
			i = j + 1;
		} else if (c == '"') {
			for (i++; i < n && s[i] != '"';) {
				if (s[i] == '\\' && i + 1 < n &&
				        (s[i + 1] == '"' || s[i + 1] == '\\' ||
				                s[i + 1] == '$' ||
				                s[i + 1] == '`')) {
					sh_emit(p, s + i + 1, 1);
					i += 2;
				} else if (s[i] == '$') {
					i = sh_dollar(r, p, s, n, i);
				} else if (s[i] == '`') {
					i = sh_subst(r, p, s, n, i);
				} else {
					sh_emit(p, s + i, 1);
					i++;
				}
			}
			i++;
		} else if (c == '$') {
			i = sh_dollar(r, p, s, n, i);
		} else if (c == '`') {
			i = sh_subst(r, p, s, n, i);
		} else {
			sh_emit(p, s + i, 1);
			i++;
		}
	}
	*ip = i > n ? n : i;
	if (p->nw >= SH_ARGS) {
		p->used = start;
		return -1;
	}
	p->redir[p->nw] = 0;
	p->w[p->nw].off = (uint16_t)start;
	p->w[p->nw].len = (uint16_t)(p->used - start);
	return (int)p->nw++;
}

static const char sh_newline[] = "newline";

/* Split s[0..n) into commands. Returns 0, or -1 on a syntax error with the
 * unexpected token in *bad (*badn bytes). */
static int
sh_parse(struct sh_run *r, struct sh_parse *p, const uint8_t *s, size_t n,
        const char **bad, size_t *badn)
{
	struct sh_cmd *c;
	int empty = 1; /* current command has no word and no redirection */

	p->nw = p->nc = p->used = 0; /* p->subst is the caller's */
	c = &p->c[0];
	memset(c, 0, sizeof *c);
	c->out_w = c->err_w = -1;
	for (size_t i = 0; i < n;) {
		uint8_t ch = s[i];
		if (ch == ' ' || ch == '\t' || ch == '\r') {
			i++;
		} else if (ch == '#') { /* at a word's start: a comment */
			break;
		} else if (ch == ';' || ch == '&' || ch == '|' || ch == '\n') {
			int sep = ch == ';' || ch == '\n' ? SEP_SEMI
			          : ch == '&'             ? SEP_BG
			                                  : SEP_PIPE;
			size_t ol = 1;
			if (ch == ';' && i + 1 < n && s[i + 1] == ';') {
				/* ";;" belongs to case, which is not here */
				*bad = (const char *)s + i;
				*badn = 2;
				return -1;
			}
			if (i + 1 < n && ch != '\n' && ch != ';' &&
			        s[i + 1] == ch) {
				sep = ch == '&' ? SEP_AND : SEP_OR;
				ol = 2;
			}
			if (empty) {
				if (ch == '\n') {
					i++;
					continue;
				}
				*bad = (const char *)s + i;
				*badn = ol;
				return -1;
			}
			c->sep = (uint8_t)sep;
			c->w1 = (uint8_t)p->nw;
			c->s1 = (uint16_t)i;
			i += ol;
			if (p->nc + 1 >= SH_CMDS)
				break;
			c = &p->c[++p->nc];
			memset(c, 0, sizeof *c);
			c->out_w = c->err_w = -1;
			c->w0 = (uint8_t)p->nw;
			c->s0 = (uint16_t)i;
			empty = 1;
		} else if (ch == '(' || ch == ')') {
			*bad = (const char *)s + i;
			*badn = 1;
			return -1;
		} else if (ch == '<' || ch == '>' ||
		           (ch >= '0' && ch <= '9' && i + 1 < n &&
		                   s[i + 1] == '>')) {
			int fd = ch == '<' ? 0 : ch == '>' ? 1 : ch - '0';
			int app = 0, dup = 0, w;
			if (ch != '<' && ch != '>')
				i++;
			i++;
			if (i < n && s[i] == '>' && s[i - 1] == '>') {
				app = 1;
				i++;
			} else if (i < n && s[i] == '&') {
				dup = 1;
				i++;
			}
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
			if (i >= n || sh_is_op(s[i])) {
				*bad = i >= n || s[i] == '\n'
				               ? sh_newline
				               : (const char *)s + i;
				*badn = *bad == sh_newline ? 7 : 1;
				return -1;
			}
			w = sh_word(r, p, s, n, &i);
			empty = 0;
			if (w < 0)
				continue;
			p->redir[w] = 1;
			if (fd == 0 || fd > 2)
				continue;
			if (dup) {
				/* 2>&1: stderr follows stdout; >&2 ignored */
				if (fd == 2)
					c->err_dup = 1;
				continue;
			}
			if (fd == 1) {
				c->out_w = (int16_t)w;
				c->out_app = (uint8_t)app;
			} else {
				c->err_w = (int16_t)w;
				c->err_app = (uint8_t)app;
			}
		} else {
			sh_word(r, p, s, n, &i);
			empty = 0;
		}
	}
	c->w1 = (uint8_t)p->nw;
	c->s1 = (uint16_t)n;
	if (!empty)
		p->nc++;
	else if (p->nc && p->c[p->nc - 1].sep != SEP_SEMI &&
	         p->c[p->nc - 1].sep != SEP_BG) {
		/* "a &&" at the end: ash asks for more; we take it as done */
		p->c[p->nc - 1].sep = SEP_SEMI;
	}
	return 0;
}

/* ---- commands -------------------------------------------------------- */

typedef int (*sh_fn)(struct sh_run *r, int ac, struct sh_arg *av);

static int
sh_parent_ok(const struct sh_priv *pv, const char *path);

static int
sh_line(struct sh_run *r, const uint8_t *s, size_t n);
static int
sh_command(struct sh_run *r, int ac, struct sh_arg *av);

/* Run text one level down (sh -c, a script): its exit ends only it. */
static int
sh_sub(struct sh_run *r, const uint8_t *s, size_t n)
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

static struct sh_arg
sh_a(const char *s)
{
	struct sh_arg a = {(const uint8_t *)s, strlen(s)};
	return a;
}

static int
sh_eq(struct sh_arg a, const char *s)
{
	return a.n == strlen(s) && memcmp(a.p, s, a.n) == 0;
}

/* Path of argument a into path[SH_PATH]; kind of file; vf index. */
static int
sh_look(struct sh_run *r, struct sh_arg a, char *path, int *vf)
{
	*vf = -1;
	if (!sh_path(r->sh, a.p, a.n, path)) {
		path[0] = 0; /* too long, or a NUL: no such file */
		return SH_NONE;
	}
	return sh_kind(r->pv, path, vf);
}

/* A file's bytes (a binary's first SH_BIN_OUT); returns the length. */
static size_t
sh_bytes(struct sh_run *r, int kind, int vf, const char *path,
        const uint8_t **pp)
{
	static uint8_t elf[SH_BIN_OUT];
	const uint8_t *p = NULL;
	size_t n = 0;

	if (kind == SH_VFILE) {
		p = r->pv->pool + r->pv->f[vf].off;
		n = r->pv->f[vf].len;
	} else if (kind == SH_FILE) {
		const struct persona_file *pf = sh_pfile(path);
		p = pf->data;
		n = pf->len;
	} else if (kind == SH_BIN) {
		n = sh_elf(elf, sizeof elf);
		p = elf;
	}
	*pp = p;
	return n;
}

/* Print a file's bytes [off, off + max) to fd 1; returns how many. */
static size_t
sh_file_bytes(struct sh_run *r, int kind, int vf, const char *path, size_t off,
        size_t max)
{
	const uint8_t *p;
	size_t n = sh_bytes(r, kind, vf, path, &p);

	if (off >= n)
		return 0;
	n -= off;
	if (n > max)
		n = max;
	sh_write(r, 1, p + off, n);
	return n;
}

static int
h_cat(struct sh_run *r, int ac, struct sh_arg *av)
{
	int st = 0, files = 0;

	for (int i = 1; i < ac; i++)
		files += !(av[i].n && av[i].p[0] == '-');
	if (!files && r->in)
		sh_write(r, 1, r->in, r->in_len);
	for (int i = 1; i < ac; i++) {
		char path[SH_PATH];
		int vf, k;
		if (av[i].n && av[i].p[0] == '-')
			continue;
		k = sh_look(r, av[i], path, &vf);
		if (k == SH_DIR) {
			sh_err(r, "shell.err.cat_isdir", av[0], av[i]);
			st = 1;
		} else if (k == SH_NONE) {
			sh_err(r, "shell.err.cat_noent", av[0], av[i]);
			st = 1;
		} else {
			sh_file_bytes(r, k, vf, path, 0, SHELL_OUT);
		}
	}
	return st;
}

static unsigned long
sh_atoul(struct sh_arg a, unsigned long def)
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

/* dd if= of= bs= count= skip=: BusyBox's record counts on stderr */
static int
h_dd(struct sh_run *r, int ac, struct sh_arg *av)
{
	struct sh_arg in = {NULL, 0}, of = {NULL, 0};
	unsigned long bs = 512, count = (unsigned long)-1, skip = 0, got = 0;
	char path[SH_PATH];
	int vf = -1, k = SH_NONE, saved = r->sink[1], savedf = r->sinkf[1];

	for (int i = 1; i < ac; i++) {
		struct sh_arg v = {av[i].p + 3, av[i].n > 3 ? av[i].n - 3 : 0};
		if (av[i].n > 3 && memcmp(av[i].p, "if=", 3) == 0)
			in = v;
		else if (av[i].n > 3 && memcmp(av[i].p, "of=", 3) == 0)
			of = v;
		else if (av[i].n > 3 && memcmp(av[i].p, "bs=", 3) == 0)
			bs = sh_atoul(v, 512);
		else if (av[i].n > 6 && memcmp(av[i].p, "count=", 6) == 0)
			count = sh_atoul(
			        (struct sh_arg){av[i].p + 6, av[i].n - 6},
			        (unsigned long)-1);
		else if (av[i].n > 5 && memcmp(av[i].p, "skip=", 5) == 0)
			skip = sh_atoul(
			        (struct sh_arg){av[i].p + 5, av[i].n - 5}, 0);
	}
	if (!bs)
		bs = 512;
	if (in.p) {
		k = sh_look(r, in, path, &vf);
		if (k == SH_NONE || k == SH_DIR) {
			sh_err(r, "shell.err.dd_noent", av[0], in);
			return 1;
		}
	}
	if (of.p) {
		char op[SH_PATH];
		int fi = -1;
		if (sh_path(r->sh, of.p, of.n, op) &&
		        !sh_listed("shell.devnull", (const uint8_t *)op,
		                strlen(op)) &&
		        sh_parent_ok(r->pv, op))
			fi = sh_vf_create(r->pv, op, 0);
		r->sink[1] = fi >= 0 ? SINK_FILE : SINK_NULL;
		r->sinkf[1] = fi;
	}
	if (in.p) {
		/* 64-bit products: unsigned long is 32 bits on the routers */
		unsigned long long want = (unsigned long long)count * bs,
		                   off = (unsigned long long)skip * bs;
		got = off > SHELL_OUT
		              ? 0
		              : sh_file_bytes(r, k, vf, path, (size_t)off,
		                        want > SHELL_OUT ? SHELL_OUT
		                                         : (size_t)want);
		if (k == SH_BIN) {
			unsigned long long sz = sh_bin_size();
			unsigned long long left = sz > off ? sz - off : 0;
			got = (unsigned long)(want < left ? want : left);
		}
	}
	r->sink[1] = saved;
	r->sinkf[1] = savedf;
	/* records: full + partial */
	sh_putu(r, 2, got / bs);
	sh_write(r, 2, "+", 1);
	sh_putu(r, 2, got % bs ? 1 : 0);
	sh_puts(r, 2, " records in\n");
	sh_putu(r, 2, got / bs);
	sh_write(r, 2, "+", 1);
	sh_putu(r, 2, got % bs ? 1 : 0);
	sh_puts(r, 2, " records out\n");
	return 0;
}

/* Lines [from, to) of p[0..n) (to 0: all) to stdout. */
static void
sh_put_lines(struct sh_run *r, const uint8_t *p, size_t n, unsigned long from,
        unsigned long to)
{
	unsigned long line = 0;
	size_t start = 0;

	for (size_t j = 0; j < n; j++)
		if (p[j] == '\n' || j + 1 == n) {
			if (line >= from && (!to || line < to))
				sh_write(r, 1, p + start, j + 1 - start);
			line++;
			start = j + 1;
		}
}

static unsigned long
sh_count_lines(const uint8_t *p, size_t n)
{
	unsigned long l = 0;

	for (size_t j = 0; j < n; j++)
		l += p[j] == '\n' || (j + 1 == n && p[j] != '\n');
	return l;
}

/* head/tail [-c N] [-n N] [-N] [FILE...]; stdin without a file */
static int
h_head(struct sh_run *r, int ac, struct sh_arg *av)
{
	unsigned long bytes = 0, lines = 10;
	int st = 0, files = 0, tail = av[0].n && av[0].p[0] == 't';
	uint8_t isfile[SH_ARGS] = {0};

	for (int i = 1; i < ac; i++) {
		if ((sh_eq(av[i], "-c") || sh_eq(av[i], "-n")) && i + 1 < ac) {
			if (av[i].p[1] == 'c')
				bytes = sh_atoul(av[i + 1], 0);
			else
				lines = sh_atoul(av[i + 1], 10);
			i++;
		} else if (av[i].n > 2 && av[i].p[0] == '-' &&
		           (av[i].p[1] == 'n' || av[i].p[1] == 'c')) {
			struct sh_arg v = {av[i].p + 2, av[i].n - 2};
			if (av[i].p[1] == 'c')
				bytes = sh_atoul(v, 0);
			else
				lines = sh_atoul(v, 10);
		} else if (av[i].n > 1 && av[i].p[0] == '-') {
			lines = sh_atoul(
			        (struct sh_arg){av[i].p + 1, av[i].n - 1}, 10);
		} else {
			isfile[i] = 1;
			files++;
		}
	}
	for (int i = files ? 1 : 0; i < (files ? ac : 1); i++) {
		char path[SH_PATH];
		int vf, k;
		const uint8_t *p = r->in;
		size_t n = r->in_len;
		if (files) {
			if (!isfile[i])
				continue;
			k = sh_look(r, av[i], path, &vf);
			if (k == SH_NONE || k == SH_DIR) {
				sh_err(r, "shell.err.head_noent", av[0], av[i]);
				st = 1;
				continue;
			}
			n = sh_bytes(r, k, vf, path, &p);
		}
		if (!p || !n)
			continue;
		if (bytes) {
			sh_write(r, 1, tail && n > bytes ? p + n - bytes : p,
			        n < bytes ? n : bytes);
		} else if (tail) {
			unsigned long t = sh_count_lines(p, n);
			sh_put_lines(r, p, n, t > lines ? t - lines : 0, 0);
		} else if (lines) {
			sh_put_lines(r, p, n, 0, lines);
		}
	}
	return st;
}

static int
sh_ieq(uint8_t a, uint8_t b, int icase)
{
	if (a == b)
		return 1;
	return icase && (a | 0x20) == (b | 0x20) && (a | 0x20) >= 'a' &&
	       (a | 0x20) <= 'z';
}

/* grep [-i] [-v] [-c] [-q] [-E|-F] TEXT [FILE...]: fixed text only */
static int
h_grep(struct sh_run *r, int ac, struct sh_arg *av)
{
	int icase = 0, inv = 0, count = 0, quiet = 0, pat = 0;
	unsigned long hits = 0;

	for (int i = 1; i < ac && !pat; i++)
		if (av[i].n > 1 && av[i].p[0] == '-')
			for (size_t j = 1; j < av[i].n; j++) {
				icase |= av[i].p[j] == 'i';
				inv |= av[i].p[j] == 'v';
				count |= av[i].p[j] == 'c';
				quiet |= av[i].p[j] == 'q';
			}
		else
			pat = i;
	if (!pat)
		return 2;
	for (int i = pat + 1; i <= ac; i++) {
		char path[SH_PATH];
		int vf, k;
		const uint8_t *p = r->in;
		size_t n = r->in_len, start = 0;
		struct sh_arg t = av[pat];
		if (i == ac && pat + 1 < ac)
			break;
		if (i < ac) {
			k = sh_look(r, av[i], path, &vf);
			if (k == SH_NONE || k == SH_DIR) {
				sh_err(r, "shell.err.grep_noent", av[0], av[i]);
				continue;
			}
			n = sh_bytes(r, k, vf, path, &p);
		}
		for (size_t j = 0; p && j < n; j++) {
			int m = 0;
			if (p[j] != '\n' && j + 1 < n)
				continue;
			for (size_t a = start; !m && a + t.n <= j + 1; a++) {
				size_t b = 0;
				while (b < t.n &&
				        sh_ieq(p[a + b], t.p[b], icase))
					b++;
				m = b == t.n;
			}
			if (m != inv) {
				hits++;
				if (!count && !quiet) {
					sh_write(
					        r, 1, p + start, j + 1 - start);
					if (p[j] != '\n')
						sh_write(r, 1, "\n", 1);
				}
			}
			start = j + 1;
		}
	}
	if (count) {
		sh_putu(r, 1, hits);
		sh_write(r, 1, "\n", 1);
	}
	return hits ? 0 : 1;
}

/* wc [-l] [-w] [-c]: stdin (or the files, summed) */
static int
h_wc(struct sh_run *r, int ac, struct sh_arg *av)
{
	unsigned long v[3] = {0, 0, 0};
	unsigned want = 0, shown = 0;
	int files = 0;

	for (int i = 1; i < ac; i++)
		if (av[i].n > 1 && av[i].p[0] == '-')
			for (size_t j = 1; j < av[i].n; j++)
				want |= av[i].p[j] == 'l'   ? 1u
				        : av[i].p[j] == 'w' ? 2u
				        : av[i].p[j] == 'c' ? 4u
				                            : 0u;
		else
			files++;
	if (!want)
		want = 7;
	for (int i = files ? 1 : 0; i < (files ? ac : 1); i++) {
		char path[SH_PATH];
		int vf, k, inword = 0;
		const uint8_t *p = r->in;
		size_t n = r->in_len;
		if (files) {
			if (av[i].n > 1 && av[i].p[0] == '-')
				continue;
			if ((k = sh_look(r, av[i], path, &vf)) == SH_NONE ||
			        k == SH_DIR)
				continue;
			n = sh_bytes(r, k, vf, path, &p);
		}
		for (size_t j = 0; p && j < n; j++) {
			int sp = p[j] == ' ' || (p[j] >= '\t' && p[j] <= '\r');
			v[0] += p[j] == '\n';
			v[1] += !sp && !inword;
			inword = !sp;
		}
		v[2] += n;
	}
	for (int b = 0; b < 3; b++) {
		char pad[16];
		size_t k = sizeof pad;
		unsigned long x = v[b];
		if (!(want & (1u << b)))
			continue;
		do
			pad[--k] = (char)('0' + x % 10);
		while ((x /= 10) && k);
		/* one count alone is bare; several are %9u apart */
		while (want != 1 && want != 2 && want != 4 &&
		        k > sizeof pad - 9)
			pad[--k] = ' ';
		if (shown++)
			sh_write(r, 1, " ", 1);
		sh_write(r, 1, pad + k, sizeof pad - k);
	}
	sh_write(r, 1, "\n", 1);
	return 0;
}

/* p[0..n) to stdout with BusyBox's escapes: \a \b \e \f \n \r \t \v \\,
 * \xHH, \NNN and \0NNN octal (stopping before a value over 255); other
 * escapes stay as they are. Returns 1 at a \c (output stops there). */
static int
sh_esc(struct sh_run *r, const uint8_t *p, size_t n)
{
	static const char from[] = "abefnrtv\\";
	static const char to[] = "\a\b\033\f\n\r\t\v\\";

	for (size_t j = 0; j < n; j++) {
		uint8_t c = p[j], v = 0;
		const char *f;
		if (c != '\\' || j + 1 == n) {
			sh_write(r, 1, &c, 1);
			continue;
		}
		c = p[++j];
		if (c == 'c')
			return 1;
		if (c == 'x' && j + 1 < n && p[j + 1] &&
		        strchr("0123456789abcdefABCDEF", p[j + 1])) {
			for (int d = 0; d < 2 && j + 1 < n; d++) {
				uint8_t h = p[j + 1] | 0x20;
				if (h >= '0' && h <= '9')
					v = (uint8_t)(v * 16 + h - '0');
				else if (h >= 'a' && h <= 'f')
					v = (uint8_t)(v * 16 + h - 'a' + 10);
				else
					break;
				j++;
			}
			sh_write(r, 1, &v, 1);
		} else if (c >= '0' && c <= '7') {
			int d = 0;
			if (c == '0') /* \0NNN: the 0 is not a digit */
				j++;
			for (unsigned o = 0;
			        d < 3 && j < n && p[j] >= '0' && p[j] <= '7' &&
			        (o = v * 8u + p[j] - '0') < 256;
			        d++, j++)
				v = (uint8_t)o;
			j--;
			sh_write(r, 1, &v, 1);
		} else if (c && (f = strchr(from, c))) {
			sh_write(r, 1, to + (f - from), 1);
		} else {
			sh_write(r, 1, "\\", 1);
			sh_write(r, 1, &c, 1);
		}
	}
	return 0;
}

static int
h_echo(struct sh_run *r, int ac, struct sh_arg *av)
{
	int nl = 1, esc = 0, i = 1;

	/* BusyBox echo: leading -n -e -E (combined), anything else is text */
	for (; i < ac; i++) {
		size_t j;
		if (av[i].n < 2 || av[i].p[0] != '-')
			break;
		for (j = 1;
		        j < av[i].n && av[i].p[j] && strchr("neE", av[i].p[j]);
		        j++)
			;
		if (j != av[i].n)
			break;
		for (j = 1; j < av[i].n; j++)
			if (av[i].p[j] == 'n')
				nl = 0;
			else
				esc = av[i].p[j] == 'e';
	}
	for (int first = 1; i < ac; i++, first = 0) {
		if (!first)
			sh_write(r, 1, " ", 1);
		if (!esc)
			sh_write(r, 1, av[i].p, av[i].n);
		else if (sh_esc(r, av[i].p, av[i].n))
			return 0;
	}
	if (nl)
		sh_write(r, 1, "\n", 1);
	return 0;
}

/* printf FORMAT [ARG...]: escapes as echo -e, %s %b %c %d %i %u %%, flags
 * and widths skipped; the format repeats while arguments remain. */
static int
h_printf(struct sh_run *r, int ac, struct sh_arg *av)
{
	int a = 2;

	if (ac < 2)
		return 1;
	do {
		const uint8_t *f = av[1].p;
		size_t n = av[1].n, start = 0;
		int used = 0;
		for (size_t j = 0; j <= n; j++) {
			struct sh_arg x = {(const uint8_t *)"", 0};
			size_t k;
			if (j < n && f[j] != '%')
				continue;
			if (sh_esc(r, f + start, j - start))
				return 0;
			if (j == n)
				break;
			for (k = j + 1; k < n &&
			                strchr("-+ #0123456789.", f[k]) && f[k];
			        k++)
				;
			start = k + 1;
			j = k;
			if (k >= n)
				break;
			if (f[k] == '%') {
				sh_write(r, 1, "%", 1);
				continue;
			}
			if (a < ac)
				x = av[a];
			a++;
			used = 1;
			if (f[k] == 's') {
				sh_write(r, 1, x.p, x.n);
			} else if (f[k] == 'b') {
				if (sh_esc(r, x.p, x.n))
					return 0;
			} else if (f[k] == 'c') {
				sh_write(r, 1, x.p, x.n ? 1 : 0);
			} else {
				sh_putu(r, 1, sh_atoul(x, 0));
			}
		}
		if (!used)
			break;
	} while (a < ac);
	return 0;
}

/* ---- ls -------------------------------------------------------------- */

#define SH_LS_MAX 96
static char sh_ls_name[SH_LS_MAX][40];
static size_t sh_ls_n;

static void
sh_ls_add(const char *s, size_t n)
{
	if (!n || n >= sizeof sh_ls_name[0] || sh_ls_n >= SH_LS_MAX)
		return;
	for (size_t i = 0; i < sh_ls_n; i++)
		if (strncmp(sh_ls_name[i], s, n) == 0 && !sh_ls_name[i][n])
			return;
	memcpy(sh_ls_name[sh_ls_n], s, n);
	sh_ls_name[sh_ls_n++][n] = 0;
}

/* The entry of dir (pl bytes, "/" = 0) that path p names, if under it. */
static void
sh_ls_child(const char *dir, size_t pl, const char *p, size_t n)
{
	size_t e;

	if (n <= pl + 1 || memcmp(p, dir, pl) || p[pl] != '/')
		return;
	for (e = pl + 1; e < n && p[e] != '/'; e++)
		;
	sh_ls_add(p + pl + 1, e - pl - 1);
}

static void
sh_ls_key(const char *key, const char *dir, size_t pl)
{
	size_t i = 0;
	const struct persona_kv *kv;

	while ((kv = persona_next(key, &i)))
		for (const char *v = kv->val; *v;) {
			size_t l;
			while (*v == ' ')
				v++;
			for (l = 0; v[l] && v[l] != ' '; l++)
				;
			sh_ls_child(dir, pl, v, l);
			v += l;
		}
}

static void
sh_ls_entry(struct sh_run *r, const char *dir, const char *name, int lng)
{
	char path[SH_PATH];
	int vf = -1, k;
	unsigned long size = 0;
	size_t dl = strlen(dir), nl = strlen(name), tl;
	const char *t;

	if (!lng) {
		sh_puts(r, 1, name);
		return;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		k = SH_DIR;
	} else if (dl + nl + 2 >= SH_PATH) {
		k = SH_FILE;
	} else if (!dl) {
		memcpy(path, name, nl + 1);
		k = sh_kind(r->pv, path, &vf);
	} else {
		memcpy(path, dir, dl);
		path[dl] = '/';
		memcpy(path + (dl > 1 ? dl + 1 : 1), name, nl + 1);
		k = sh_kind(r->pv, path, &vf);
	}
	if (k == SH_VFILE)
		size = r->pv->f[vf].size;
	else if (k == SH_BIN)
		size = sh_bin_size();
	else if (k == SH_FILE)
		size = (unsigned long)sh_pfile(path)->len;
	sh_puts(r, 1,
	        k == SH_DIR ? "drwxr-xr-x    2 "
	        : k == SH_BIN || (k == SH_VFILE && r->pv->f[vf].exec)
	                ? "-rwxr-xr-x    1 "
	                : "-rw-r--r--    1 ");
	sh_puts(r, 1, "root     root     ");
	{
		char b[12];
		size_t j = sizeof b;
		unsigned long v = size;
		do
			b[--j] = (char)('0' + v % 10);
		while ((v /= 10) && j);
		while (j > sizeof b - 9)
			b[--j] = ' ';
		sh_write(r, 1, b + j, sizeof b - j);
	}
	sh_write(r, 1, " ", 1);
	if ((t = sh_key("shell.ls_date", &tl)))
		sh_write(r, 1, t, tl);
	sh_write(r, 1, " ", 1);
	sh_puts(r, 1, name);
}

/* Print the names gathered (sorted, dot files only with -a) as BusyBox
 * ls does on an 80-column tty: columns of the widest name + 2, filled down
 * first; -l and -1 one a line. */
static void
sh_ls_show(struct sh_run *r, const char *dir, int all, int lng, int one)
{
	size_t width = 0, cols, rows, o = 0;

	for (size_t x = 1; x < sh_ls_n; x++)
		for (size_t y = x;
		        y > 0 && strcmp(sh_ls_name[y - 1], sh_ls_name[y]) > 0;
		        y--) {
			char t[sizeof sh_ls_name[0]];
			memcpy(t, sh_ls_name[y], sizeof t);
			memcpy(sh_ls_name[y], sh_ls_name[y - 1], sizeof t);
			memcpy(sh_ls_name[y - 1], t, sizeof t);
		}
	for (size_t x = 0; x < sh_ls_n; x++)
		if (all || sh_ls_name[x][0] != '.')
			memmove(sh_ls_name[o++], sh_ls_name[x],
			        sizeof sh_ls_name[0]);
	sh_ls_n = o;
	if (!sh_ls_n)
		return;
	for (size_t x = 0; x < sh_ls_n; x++)
		if (strlen(sh_ls_name[x]) > width)
			width = strlen(sh_ls_name[x]);
	width += 2;
	cols = lng || one ? 1 : 80 / width;
	if (cols < 1)
		cols = 1;
	rows = (sh_ls_n + cols - 1) / cols;
	for (size_t row = 0; row < rows; row++) {
		size_t column = 0, nexttab = 0;
		for (size_t c = 0; c < cols; c++) {
			size_t x = c * rows + row;
			if (x >= sh_ls_n)
				continue;
			while (column > 0 && column < nexttab) {
				sh_write(r, 1, " ", 1);
				column++;
			}
			nexttab = column + width;
			sh_ls_entry(r, dir, sh_ls_name[x], lng);
			column += strlen(sh_ls_name[x]);
		}
		sh_write(r, 1, "\n", 1);
	}
}

/* ls [-a] [-l] [-1] [PATH...]: errors first, then the files named, then
 * each directory ("name:" when more than one path was given). */
static int
h_ls(struct sh_run *r, int ac, struct sh_arg *av)
{
	int all = 0, lng = 0, one = 0, st = 0, nargs = 0, shown = 0;
	char path[SH_PATH];
	int vf, k;

	for (int i = 1; i < ac; i++)
		if (av[i].n > 1 && av[i].p[0] == '-')
			for (size_t j = 1; j < av[i].n; j++)
				all |= av[i].p[j] == 'a',
				        lng |= av[i].p[j] == 'l',
				        one |= av[i].p[j] == '1';
		else
			nargs++;
	if (!nargs) {
		av = NULL;
		ac = 0;
	}
	for (int i = 1; i < ac; i++)
		if (!(av[i].n > 1 && av[i].p[0] == '-') &&
		        sh_look(r, av[i], path, &vf) == SH_NONE) {
			sh_err(r, "shell.err.ls_noent", av[0], av[i]);
			st = 1;
		}
	sh_ls_n = 0;
	for (int i = 1; i < ac; i++)
		if (!(av[i].n > 1 && av[i].p[0] == '-') &&
		        (k = sh_look(r, av[i], path, &vf)) != SH_NONE &&
		        k != SH_DIR) {
			sh_ls_add((const char *)av[i].p, av[i].n);
			shown = 1;
		}
	if (shown)
		sh_ls_show(r, "", 1, lng, one);
	for (int i = nargs ? 1 : 0; i < (nargs ? ac : 1); i++) {
		struct sh_arg a = nargs ? av[i] : sh_a(".");
		size_t pl;
		if (nargs && ((a.n > 1 && a.p[0] == '-') ||
		                     sh_look(r, a, path, &vf) != SH_DIR))
			continue;
		if (!nargs)
			sh_look(r, a, path, &vf);
		if (shown++)
			sh_write(r, 1, "\n", 1);
		if (nargs > 1) {
			sh_write(r, 1, a.p, a.n);
			sh_puts(r, 1, ":\n");
		}
		pl = strcmp(path, "/") ? strlen(path) : 0;
		sh_ls_n = 0;
		if (all) {
			sh_ls_add(".", 1);
			sh_ls_add("..", 2);
		}
		for (size_t f = 0; f < persona_nfiles; f++) {
			const char *nm = persona_files[f].name;
			if (nm[0] == 'f' && nm[1] == 's')
				sh_ls_child(path, pl, nm + 2, strlen(nm + 2));
		}
		sh_ls_key("shell.dir", path, pl);
		sh_ls_key("shell.bin", path, pl);
		for (int f = 0; f < SH_VFILES; f++)
			if (r->pv->f[f].used)
				sh_ls_child(path, pl, r->pv->f[f].path,
				        strlen(r->pv->f[f].path));
		sh_ls_show(r, path, all, lng, one);
	}
	return st;
}

/* ---- downloads: recorded, never fetched ------------------------------ */

static int
sh_ipv4(const char *h, size_t n)
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

/* Record scheme://target (target may hold its own scheme) and print the
 * tool's failure from key (an IPv4 host) or key_name (a host name). */
static int
sh_fetch(struct sh_run *r, const char *key, const char *key_name,
        const char *scheme, struct sh_arg target, const char *path)
{
	char *u, host[64], port[8];
	size_t k = 0, h, he, tl, hl;
	const char *t, *sep;
	struct sh_fa fa = {.c = {NULL, 0}, .a = target};

	r->dl = 1;
	if (r->nurl >= SH_DL)
		return 1;
	u = r->urlbuf[r->nurl];
	sep = NULL;
	for (size_t i = 0; i + 2 < target.n; i++)
		if (memcmp(target.p + i, "://", 3) == 0) {
			sep = (const char *)target.p + i;
			break;
		}
	if (!sep) {
		k = strlen(scheme);
		memcpy(u, scheme, k);
		memcpy(u + k, "://", 3);
		k += 3;
	}
	for (size_t i = 0; i < target.n && k + 1 < sizeof r->urlbuf[0]; i++)
		u[k++] = target.p[i] ? (char)target.p[i] : ' ';
	for (const char *q = path; q && *q && k + 1 < sizeof r->urlbuf[0]; q++)
		u[k++] = *q;
	u[k] = 0;
	r->url[r->nurl++] = u;
	/* host and port */
	h = strstr(u, "://") ? (size_t)(strstr(u, "://") - u) + 3 : k;
	for (he = h; u[he] && u[he] != '/' && u[he] != ':' && u[he] != '?';
	        he++)
		if (u[he] == '@')
			h = he + 1;
	hl = he - h < sizeof host - 1 ? he - h : sizeof host - 1;
	memcpy(host, u + h, hl);
	host[hl] = 0;
	k = 0;
	if (u[he] == ':')
		for (size_t i = he + 1;
		        u[i] >= '0' && u[i] <= '9' && k + 1 < sizeof port; i++)
			port[k++] = u[i];
	if (!k) {
		const char *d = strncmp(u, "https", 5) == 0  ? "443"
		                : strncmp(u, "ftp:", 4) == 0 ? "21"
		                : strncmp(u, "tftp", 4) == 0 ? "69"
		                                             : "80";
		k = strlen(d);
		memcpy(port, d, k);
	}
	port[k] = 0;
	fa.H = host;
	fa.P = port;
	fa.U = u;
	fa.F = strrchr(u + h, '/') ? strrchr(u + h, '/') + 1 : "index.html";
	t = sh_ipv4(host, hl) ? NULL : sh_key(key_name, &tl);
	if (!t)
		t = sh_key(key, &tl);
	if (t) {
		sh_tmpl(r, 2, t, tl, &fa);
		sh_write(r, 2, "\n", 1);
	}
	return 1;
}

/* shell.usage.<command>: what a tool prints without an operand */
static int
sh_usage(struct sh_run *r, struct sh_arg cmd)
{
	char key[32] = "shell.usage.";

	if (cmd.n > sizeof key - 13 || memchr(cmd.p, 0, cmd.n))
		return 1;
	memcpy(key + 12, cmd.p, cmd.n);
	key[12 + cmd.n] = 0;
	sh_err(r, key, cmd, cmd);
	return 1;
}

static int
sh_in(struct sh_arg a, const char *const *list)
{
	for (; *list; list++)
		if (sh_eq(a, *list))
			return 1;
	return 0;
}

static int
h_wget(struct sh_run *r, int ac, struct sh_arg *av)
{
	static const char *const val[] = {"-O", "-o", "-P", "-T", "-U", "-Y",
	        "-t", "-e", "--header", "--user-agent", "--output-document",
	        NULL};
	int st = 0, any = 0;

	for (int i = 1; i < ac; i++) {
		if (sh_in(av[i], val)) {
			i++;
			continue;
		}
		if (av[i].n && av[i].p[0] == '-')
			continue;
		st = sh_fetch(r, "shell.wget", "shell.wget_name", "http", av[i],
		        NULL);
		any = 1;
	}
	return any ? st : sh_usage(r, av[0]);
}

static int
h_curl(struct sh_run *r, int ac, struct sh_arg *av)
{
	static const char *const val[] = {"-o", "-H", "-A", "-u", "-X", "-d",
	        "-e", "-m", "-x", "-b", "-c", "-w", "-T", "-K", "-E", "-F",
	        "-r", "--output", "--header", "--user-agent", "--data",
	        "--connect-timeout", "--max-time", "--retry", "--proxy", NULL};
	int st = 0, any = 0, silent = 0, saved = r->sink[2];

	/* -s hides the error, -S shows it again */
	for (int i = 1; i < ac; i++)
		if (av[i].n > 1 && av[i].p[0] == '-' && av[i].p[1] != '-') {
			if (memchr(av[i].p, 's', av[i].n))
				silent |= 1;
			if (memchr(av[i].p, 'S', av[i].n))
				silent |= 2;
		}
	if (silent == 1)
		r->sink[2] = SINK_NULL;
	for (int i = 1; i < ac; i++) {
		if (sh_in(av[i], val)) {
			i++;
			continue;
		}
		if (av[i].n && av[i].p[0] == '-')
			continue;
		st = sh_fetch(r, "shell.curl", "shell.curl_name", "http", av[i],
		        NULL);
		any = 1;
	}
	r->sink[2] = saved;
	return any ? st : sh_usage(r, av[0]) + 1;
}

/* Paste host (and port) and "/" file into a target in buf. */
static struct sh_arg
sh_target(char *buf, size_t cap, struct sh_arg host, struct sh_arg port,
        struct sh_arg file)
{
	size_t k = 0;
	struct sh_arg parts[4] = {host, {(const uint8_t *)":", 1}, port,
	        {(const uint8_t *)"/", 1}};

	for (int i = 0; i < 4; i++) {
		if ((i == 1 || i == 2) && !port.n)
			continue;
		for (size_t j = 0; j < parts[i].n && k + 1 < cap; j++)
			buf[k++] = (char)parts[i].p[j];
	}
	for (size_t j = file.n && file.p[0] == '/'; j < file.n && k + 1 < cap;
	        j++)
		buf[k++] = (char)file.p[j];
	return (struct sh_arg){(const uint8_t *)buf, k};
}

/* BusyBox tftp [-g|-p] [-l LOCAL] [-r REMOTE] HOST [PORT]; also tftp-hpa's
 * "tftp HOST -c get FILE" */
static int
h_tftp(struct sh_run *r, int ac, struct sh_arg *av)
{
	struct sh_arg host = {NULL, 0}, port = {NULL, 0}, rem = {NULL, 0},
	              loc = {NULL, 0};
	char buf[160];

	for (int i = 1; i < ac; i++) {
		if ((sh_eq(av[i], "-r") || sh_eq(av[i], "-l") ||
		            sh_eq(av[i], "-b")) &&
		        i + 1 < ac) {
			if (av[i].p[1] == 'r')
				rem = av[i + 1];
			else if (av[i].p[1] == 'l')
				loc = av[i + 1];
			i++;
		} else if (sh_eq(av[i], "-c") && i + 2 < ac) {
			rem = av[i + 2];
			i += 2;
		} else if (av[i].n && av[i].p[0] == '-') {
		} else if (!host.n) {
			host = av[i];
		} else if (!port.n) {
			port = av[i];
		}
	}
	if (!rem.n)
		rem = loc;
	if (!host.n)
		return sh_usage(r, av[0]);
	sh_fetch(r, "shell.tftp", "shell.tftp_name", "tftp",
	        sh_target(buf, sizeof buf, host, port, rem), NULL);
	return 1;
}

/* ftpget [-c] [-v] [-u USER] [-p PASS] [-P PORT] HOST LOCAL [REMOTE] */
static int
h_ftpget(struct sh_run *r, int ac, struct sh_arg *av)
{
	struct sh_arg pos[3] = {{NULL, 0}, {NULL, 0}, {NULL, 0}},
	              port = {NULL, 0};
	int np = 0;
	char buf[160];

	for (int i = 1; i < ac; i++) {
		if ((sh_eq(av[i], "-u") || sh_eq(av[i], "-p") ||
		            sh_eq(av[i], "-P")) &&
		        i + 1 < ac) {
			if (av[i].p[1] == 'P')
				port = av[i + 1];
			i++;
		} else if (av[i].n && av[i].p[0] == '-') {
		} else if (np < 3) {
			pos[np++] = av[i];
		}
	}
	if (np < 2)
		return sh_usage(r, av[0]);
	sh_fetch(r, "shell.ftpget", "shell.ftpget_name", "ftp",
	        sh_target(buf, sizeof buf, pos[0], port,
	                np == 3 ? pos[2] : pos[1]),
	        NULL);
	return 1;
}

/* ---- files ----------------------------------------------------------- */

/* Does the parent directory of path exist? */
static int
sh_parent_ok(const struct sh_priv *pv, const char *path)
{
	char d[SH_PATH];
	const char *sl = strrchr(path, '/');
	size_t l = sl ? (size_t)(sl - path) : 0;

	if (!sl)
		return 0;
	if (l == 0)
		return 1;
	memcpy(d, path, l);
	d[l] = 0;
	return sh_is_dir(pv, d);
}

static int
h_chmod(struct sh_run *r, int ac, struct sh_arg *av)
{
	int x = 0, st = 0, i = 1;

	if (ac < 3)
		return 1;
	for (; i < ac && av[i].n && av[i].p[0] == '-'; i++)
		;
	if (i >= ac)
		return 1;
	/* +x, u+x, a+rwx, 755, 777 (an odd digit: executable for someone) */
	for (size_t j = 0; j < av[i].n; j++)
		if (av[i].p[j] == 'x' ||
		        (av[i].p[j] >= '1' && av[i].p[j] <= '7' &&
		                (av[i].p[j] & 1)))
			x = 1;
	for (i++; i < ac; i++) {
		char path[SH_PATH];
		int vf, k = sh_look(r, av[i], path, &vf);
		if (k == SH_NONE) {
			sh_err(r, "shell.err.chmod_noent", av[0], av[i]);
			st = 1;
		} else if (k == SH_VFILE) {
			r->pv->f[vf].exec = (uint8_t)x;
		}
	}
	return st;
}

static int
h_rm(struct sh_run *r, int ac, struct sh_arg *av)
{
	int force = 0, st = 0;

	for (int i = 1; i < ac; i++)
		if (av[i].n > 1 && av[i].p[0] == '-')
			force |= memchr(av[i].p, 'f', av[i].n) != NULL;
	for (int i = 1; i < ac; i++) {
		char path[SH_PATH];
		int vf, k;
		if (av[i].n > 1 && av[i].p[0] == '-')
			continue;
		k = sh_look(r, av[i], path, &vf);
		if (k == SH_NONE && !force) {
			sh_err(r, "shell.err.rm_noent", av[0], av[i]);
			st = 1;
		} else if (vf >= 0) {
			sh_vf_free(r->pv, vf);
		}
		/* the device's own files "go" too, but stay listed: a gap
		 * the attacker's next ls shows, accepted for no state */
	}
	return st;
}

/* cp/mv SRC DST: a written file is copied; a binary becomes a file of its
 * size whose bytes are not kept (the Mirai "cp /bin/busybox x; >x"). */
static int
h_cp(struct sh_run *r, int ac, struct sh_arg *av)
{
	struct sh_arg a[2];
	int na = 0, vf, k, d, dv;
	char src[SH_PATH], dst[SH_PATH];
	size_t dl;

	for (int i = 1; i < ac; i++)
		if (!(av[i].n > 1 && av[i].p[0] == '-') && na < 2)
			a[na++] = av[i];
	if (na < 2)
		return 1;
	k = sh_look(r, a[0], src, &vf);
	if (k == SH_NONE || k == SH_DIR) {
		sh_err(r, "shell.err.cp_noent", av[0], a[0]);
		return 1;
	}
	d = sh_look(r, a[1], dst, &dv);
	dl = strlen(dst);
	if (d == SH_DIR) {
		const char *b = strrchr(src, '/') + 1;
		if (dl + 1 + strlen(b) >= SH_PATH)
			return 1;
		if (dl > 1)
			dst[dl++] = '/';
		memcpy(dst + dl, b, strlen(b) + 1);
	}
	if (!dl || !sh_parent_ok(r->pv, dst) ||
	        (dv = sh_vf_create(r->pv, dst, 0)) < 0) {
		sh_err(r, "shell.err.cp_create", av[0], a[1]);
		return 1;
	}
	if (k == SH_VFILE && (vf = sh_vf_find(r->pv, src)) >= 0) {
		struct sh_vfile *s = &r->pv->f[vf];
		uint8_t tmp[sizeof r->pv->pool];
		size_t n = s->len;
		memcpy(tmp, r->pv->pool + s->off, n);
		sh_vf_append(r, dv, tmp, n);
		r->pv->f[dv].size = s->size;
		r->pv->f[dv].lost |= s->lost;
		r->pv->f[dv].exec = s->exec;
		if (sh_eq(av[0], "mv"))
			sh_vf_free(r->pv, vf);
	} else if (k == SH_FILE) {
		const struct persona_file *pf = sh_pfile(src);
		sh_vf_append(r, dv, pf->data, pf->len);
	} else {
		r->pv->f[dv].size = (uint32_t)sh_bin_size();
		r->pv->f[dv].lost = 1;
		r->pv->f[dv].exec = 1;
	}
	return 0;
}

static int
h_mkdir(struct sh_run *r, int ac, struct sh_arg *av)
{
	int st = 0, parents = 0;

	for (int i = 1; i < ac; i++)
		if (sh_eq(av[i], "-p"))
			parents = 1;
	for (int i = 1; i < ac; i++) {
		char path[SH_PATH];
		int vf, k;
		if (av[i].n > 1 && av[i].p[0] == '-')
			continue;
		k = sh_look(r, av[i], path, &vf);
		if (k != SH_NONE) {
			if (!parents) {
				sh_err(r, "shell.err.mkdir_exist", av[0],
				        av[i]);
				st = 1;
			}
		} else if (!sh_parent_ok(r->pv, path) ||
		           sh_vf_create(r->pv, path, 1) < 0) {
			sh_err(r, "shell.err.mkdir_noent", av[0], av[i]);
			st = 1;
		}
	}
	return st;
}

static int
h_touch(struct sh_run *r, int ac, struct sh_arg *av)
{
	int st = 0;

	for (int i = 1; i < ac; i++) {
		char path[SH_PATH];
		int vf, k;
		if (av[i].n > 1 && av[i].p[0] == '-')
			continue;
		k = sh_look(r, av[i], path, &vf);
		if (k == SH_NONE && (!sh_parent_ok(r->pv, path) ||
		                            sh_vf_create(r->pv, path, 0) < 0)) {
			sh_err(r, "shell.err.touch_noent", av[0], av[i]);
			st = 1;
		}
	}
	return st;
}

/* Running a file the attacker wrote: its size and digests go into the
 * event; an ELF "crashes" as shell.exec says, a script runs (nested). */
static int
sh_run_vfile(struct sh_run *r, int vf, struct sh_arg name, int as_script)
{
	static uint8_t script[SH_DEPTH][sizeof r->pv->pool];
	struct sh_vfile *f = &r->pv->f[vf];
	const uint8_t *p = r->pv->pool + f->off;
	int elf = f->len >= 4 && memcmp(p, "\177ELF", 4) == 0;
	size_t tl;
	const char *t;

	if (!f->exec && !as_script) {
		sh_err(r, "shell.err.noperm", name, name);
		return 126;
	}
	if (!r->dropper) {
		r->dropper = 1;
		event_str(r->e, "file.path", f->path);
		event_int(r->e, "file.size", f->size);
		if (!f->lost) {
			uint8_t d[20];
			char hex[41];
			struct hash_part part = {p, f->len};
			hash_md5(&part, 1, d);
			hash_hex(d, 16, hex);
			event_str(r->e, "file.hash.md5", hex);
			hash_sha1(&part, 1, d);
			hash_hex(d, 20, hex);
			event_str(r->e, "file.hash.sha1", hex);
		}
		event_tag(r->e, "dropper");
	}
	if (!elf && !as_script && f->lost && f->len == 0)
		elf = 1; /* a copied binary */
	if (!elf && r->level + 1 < SH_DEPTH) {
		size_t n = f->len;
		int st;
		memcpy(script[r->level], p, n);
		st = sh_sub(r, script[r->level], n);
		return st;
	}
	if ((t = sh_key("shell.exec", &tl))) {
		struct sh_fa fa = {.c = name, .a = name};
		sh_tmpl(r, 2, t, tl, &fa);
	}
	return (int)sh_num("shell.exec_status", 139);
}

/* ---- builtins and small applets -------------------------------------- */

static int
h_cd(struct sh_run *r, int ac, struct sh_arg *av)
{
	char path[SH_PATH];
	int vf, k;
	struct sh_arg a = ac > 1 ? av[1] : sh_a("~");

	if (ac > 1 && sh_eq(a, "-")) {
		size_t ol = strlen(r->pv->oldpwd);
		a = ol ? (struct sh_arg){(const uint8_t *)r->pv->oldpwd, ol}
		       : sh_a(r->sh->cwd);
		sh_write(r, 1, a.p, a.n);
		sh_write(r, 1, "\n", 1);
	}
	if (ac > 1 && !a.n) /* cd "": stays */
		return 0;
	k = sh_look(r, a, path, &vf);
	if (k == SH_NONE) {
		sh_err(r, "shell.err.cd_noent", av[0], a);
		return (int)sh_num("shell.cd_status", 2);
	}
	if (k != SH_DIR) {
		sh_err(r, "shell.err.cd_notdir", av[0], a);
		return (int)sh_num("shell.cd_status", 2);
	}
	if (strlen(r->sh->cwd) < sizeof r->pv->oldpwd)
		memcpy(r->pv->oldpwd, r->sh->cwd, strlen(r->sh->cwd) + 1);
	memcpy(r->sh->cwd, path, strlen(path) + 1);
	return 0;
}

static int
h_pwd(struct sh_run *r, int ac, struct sh_arg *av)
{
	(void)ac;
	(void)av;
	sh_puts(r, 1, r->sh->cwd);
	sh_write(r, 1, "\n", 1);
	return 0;
}

static int
h_exit(struct sh_run *r, int ac, struct sh_arg *av)
{
	r->exit = 1;
	return ac > 1 ? (int)(sh_atoul(av[1], 0) & 0xff) : r->sh->last_status;
}

static int
h_true(struct sh_run *r, int ac, struct sh_arg *av)
{
	(void)r;
	(void)ac;
	return av[0].n && av[0].p[0] == 'f' ? 1 : 0;
}

static int
h_history(struct sh_run *r, int ac, struct sh_arg *av)
{
	(void)ac;
	(void)av;
	/* only the count is kept: the line itself is the last entry */
	{
		char b[8];
		size_t k = sizeof b;
		unsigned v = r->pv->lines ? r->pv->lines - 1u : 0;
		do
			b[--k] = (char)('0' + v % 10);
		while ((v /= 10) && k);
		while (k > sizeof b - 4)
			b[--k] = ' ';
		sh_write(r, 1, b + k, sizeof b - k);
	}
	sh_puts(r, 1, " history\n");
	return 0;
}

/* Is pid one of the shell.ps lines' first numbers? */
static int
sh_ps_has(struct sh_arg pid)
{
	size_t i = 0;
	const struct persona_kv *kv;

	while ((kv = persona_next("shell.ps", &i))) {
		const char *v = kv->val;
		while (*v == ' ')
			v++;
		if (strncmp(v, (const char *)pid.p, pid.n) == 0 &&
		        v[pid.n] == ' ')
			return 1;
	}
	return 0;
}

static int
h_kill(struct sh_run *r, int ac, struct sh_arg *av)
{
	int st = 0, any = 0;
	/* ash's builtin reports under the shell's applet name ("-sh" ->
	 * "sh"), the applet as "kill" */
	size_t nl;
	const char *nm = sh_name(r, &nl);
	struct sh_arg who =
	        r->applet || !nm ? av[0]
	                         : (struct sh_arg){(const uint8_t *)nm +
	                                                   (nl && nm[0] == '-'),
	                                   nl - (nl && nm[0] == '-')};

	for (int i = 1; i < ac; i++) {
		if (av[i].n && av[i].p[0] == '-')
			continue;
		any = 1;
		if (sh_atoul(av[i], 0) == 0 || !sh_ps_has(av[i])) {
			sh_err(r, "shell.err.kill", who, av[i]);
			st = 1;
		}
	}
	if (!any) {
		sh_err(r, "shell.err.kill_usage", who, who);
		return 1;
	}
	return st;
}

static int
h_uname(struct sh_run *r, int ac, struct sh_arg *av)
{
	static const char order[] = "snrvmpio";
	unsigned want = 0;
	int first = 1;

	for (int i = 1; i < ac; i++)
		for (size_t j = 1; av[i].n && av[i].p[0] == '-' && j < av[i].n;
		        j++) {
			const char *f = strchr(order, av[i].p[j]);
			if (av[i].p[j] == 'a')
				want |= 0x1ff;
			else if (f && av[i].p[j])
				want |= 1u << (f - order);
		}
	if (!want)
		want = 1;
	for (int b = 0; b < 8; b++) {
		char key[16] = "shell.uname.";
		const char *v;
		size_t vl;
		if (!(want & (1u << b)))
			continue;
		key[12] = order[b];
		key[13] = 0;
		v = sh_key(key, &vl);
		if (b == 1 && !v) {
			v = emu_hostname(r->ctx);
			vl = strlen(v);
		}
		/* -a leaves out -p and -i when unknown (absent) */
		if (!v && want == 0x1ff)
			continue;
		if (!v) {
			v = "unknown";
			vl = 7;
		}
		if (!first)
			sh_write(r, 1, " ", 1);
		sh_write(r, 1, v, vl);
		first = 0;
	}
	sh_write(r, 1, "\n", 1);
	return 0;
}

static int
h_id(struct sh_run *r, int ac, struct sh_arg *av)
{
	size_t tl;
	int root = strcmp(r->sh->user, "root") == 0;
	const char *t = sh_key(root ? "shell.id" : "shell.id_user", &tl);
	struct sh_fa fa = {.c = av[0], .a = av[0]};

	(void)ac;
	if (t) {
		sh_tmpl(r, 1, t, tl, &fa);
		sh_write(r, 1, "\n", 1);
	}
	return 0;
}

static int
h_whoami(struct sh_run *r, int ac, struct sh_arg *av)
{
	(void)ac;
	(void)av;
	sh_puts(r, 1, r->sh->user);
	sh_write(r, 1, "\n", 1);
	return 0;
}

static int
h_hostname(struct sh_run *r, int ac, struct sh_arg *av)
{
	(void)ac;
	(void)av;
	sh_puts(r, 1, emu_hostname(r->ctx));
	sh_write(r, 1, "\n", 1);
	return 0;
}

static int
h_lines(struct sh_run *r, int ac, struct sh_arg *av)
{
	char key[24] = "shell.";

	(void)ac;
	if (av[0].n > 8)
		return 0;
	memcpy(key + 6, av[0].p, av[0].n);
	key[6 + av[0].n] = 0;
	sh_lines(r, key);
	return 0;
}

static int
h_busybox(struct sh_run *r, int ac, struct sh_arg *av);

/* sh, ash...: -c runs its text a level down, a file runs as a script, and
 * with neither a nested interactive shell starts (not when reading a pipe:
 * what wget would have piped never came). */
static int
h_sh(struct sh_run *r, int ac, struct sh_arg *av)
{
	for (int i = 1; i < ac; i++) {
		char path[SH_PATH];
		int vf, k;
		if (sh_eq(av[i], "-c"))
			return i + 1 < ac ? sh_sub(r, av[i + 1].p, av[i + 1].n)
			                  : 2;
		if (av[i].n && av[i].p[0] == '-')
			continue;
		k = sh_look(r, av[i], path, &vf);
		if (k == SH_VFILE)
			return sh_run_vfile(r, vf, av[i], 1);
		if (k == SH_NONE || k == SH_DIR) {
			sh_err(r, "shell.err.sh_open", av[0], av[i]);
			return 2;
		}
		return 2; /* a binary as a script: syntax errors */
	}
	if (r->piped) { /* "... | sh": runs what came down the pipe */
		static uint8_t script[SH_DEPTH][SHELL_OUT];
		size_t n = r->in_len;
		memcpy(script[r->level], r->in, n);
		r->in = NULL;
		r->in_len = 0;
		return n ? sh_sub(r, script[r->level], n) : 0;
	}
	if (r->sh->depth < SH_NEST && r->level == 0)
		r->sh->depth++;
	return 0;
}

struct sh_cmdtab {
	const char *name;
	sh_fn fn;
};

/* the shell's own commands: there whatever the applets */
static const struct sh_cmdtab sh_builtins[] = {{"cd", h_cd}, {"pwd", h_pwd},
        {"echo", h_echo}, {"exit", h_exit}, {"logout", h_exit},
        {"export", h_true}, {"unset", h_true}, {"alias", h_true},
        {"set", h_true}, {"umask", h_true}, {"trap", h_true}, {"wait", h_true},
        {"read", h_true}, {"ulimit", h_true}, {"true", h_true},
        {"false", h_true}, {":", h_true}, {"history", h_history},
        {"kill", h_kill}, {"printf", h_printf}, {NULL, NULL}};

/* programs, there when shell.applet lists them */
static const struct sh_cmdtab sh_applets[] = {{"cat", h_cat}, {"ls", h_ls},
        {"dd", h_dd}, {"head", h_head}, {"tail", h_head}, {"grep", h_grep},
        {"egrep", h_grep}, {"wc", h_wc}, {"uname", h_uname}, {"id", h_id},
        {"whoami", h_whoami}, {"hostname", h_hostname}, {"ps", h_lines},
        {"free", h_lines}, {"df", h_lines}, {"nproc", h_lines},
        {"wget", h_wget}, {"curl", h_curl}, {"tftp", h_tftp},
        {"ftpget", h_ftpget}, {"chmod", h_chmod}, {"rm", h_rm}, {"cp", h_cp},
        {"mv", h_cp}, {"mkdir", h_mkdir}, {"touch", h_touch},
        {"busybox", h_busybox}, {"echo", h_echo}, {"pwd", h_pwd},
        {"kill", h_kill}, {"false", h_true}, {"printf", h_printf},
        {NULL, NULL}};

static sh_fn
sh_find(const struct sh_cmdtab *t, struct sh_arg name)
{
	for (; t->name; t++)
		if (sh_eq(name, t->name))
			return t->fn;
	return NULL;
}

/* An applet by name: its handler, or nothing to say (sync, sleep...). */
static int
sh_applet(struct sh_run *r, int ac, struct sh_arg *av)
{
	sh_fn fn = sh_find(sh_applets, av[0]);

	r->applet = 1;
	if (sh_listed("shell.nest", av[0].p, av[0].n))
		return h_sh(r, ac, av);
	return fn ? fn(r, ac, av) : 0;
}

static int
h_busybox(struct sh_run *r, int ac, struct sh_arg *av)
{
	if (ac < 2 || !persona_get("shell.busybox", NULL)) {
		sh_lines(r, "shell.busybox");
		return 0;
	}
	if (sh_eq(av[1], "--list")) {
		size_t i = 0;
		const struct persona_kv *kv;
		while ((kv = persona_next("shell.applet", &i)))
			for (size_t j = 0; j < kv->len; j++)
				sh_write(r, 1,
				        kv->val[j] == ' ' ? "\n" : kv->val + j,
				        1);
		if (i)
			sh_write(r, 1, "\n", 1);
		return 0;
	}
	if (sh_listed("shell.applet", av[1].p, av[1].n))
		return sh_applet(r, ac - 1, av + 1);
	sh_err(r, "shell.err.applet", av[1], av[1]);
	return 127;
}

/* A fixed answer from shell.cmd "name\toutput"; 1 when name has one. */
static int
sh_fixed(struct sh_run *r, struct sh_arg name)
{
	size_t i = 0;
	const struct persona_kv *kv;

	while ((kv = persona_next("shell.cmd", &i))) {
		const char *tab = memchr(kv->val, '\t', kv->len);
		if (tab && (size_t)(tab - kv->val) == name.n &&
		        memcmp(kv->val, name.p, name.n) == 0) {
			sh_write(r, 1, tab + 1,
			        kv->len - (size_t)(tab + 1 - kv->val));
			return 1;
		}
	}
	return 0;
}

/* Is there a shell.bin path whose last part is name? (PATH search) */
static int
sh_in_path(struct sh_arg name)
{
	size_t i = 0;
	const struct persona_kv *kv;

	if (!name.n || memchr(name.p, 0, name.n))
		return 0;
	while ((kv = persona_next("shell.bin", &i)))
		for (const char *v = kv->val, *end = kv->val + kv->len;
		        v < end;) {
			const char *t;
			while (v < end && *v == ' ')
				v++;
			t = v;
			while (v < end && *v != ' ')
				v++;
			/* t..v is one path: compare its last part */
			if ((size_t)(v - t) > name.n &&
			        v[-(long)name.n - 1] == '/' &&
			        memcmp(v - name.n, name.p, name.n) == 0)
				return 1;
		}
	return 0;
}

static int
sh_command(struct sh_run *r, int ac, struct sh_arg *av)
{
	sh_fn fn;

	if (!ac)
		return 0;
	if (memchr(av[0].p, '/', av[0].n)) {
		char path[SH_PATH];
		int vf, k = sh_look(r, av[0], path, &vf);
		if (k == SH_VFILE)
			return sh_run_vfile(r, vf, av[0], 0);
		if (k == SH_BIN) {
			const char *b = strrchr(path, '/') + 1;
			struct sh_arg a0 = av[0];
			int st;
			av[0] = sh_a(b);
			st = sh_applet(r, ac, av);
			av[0] = a0;
			return st;
		}
		if (k == SH_NONE) {
			sh_err(r, "shell.err.noent", av[0], av[0]);
			return 127;
		}
		sh_err(r, "shell.err.noperm", av[0], av[0]);
		return 126;
	}
	r->applet = 0;
	if ((fn = sh_find(sh_builtins, av[0])))
		return fn(r, ac, av);
	if (sh_eq(av[0], "exec"))
		return sh_command(r, ac - 1, av + 1);
	if (sh_listed("shell.nest", av[0].p, av[0].n))
		return h_sh(r, ac, av);
	if (sh_fixed(r, av[0]))
		return 0;
	if (sh_in_path(av[0]))
		return sh_applet(r, ac, av);
	sh_err(r, "shell.err.notfound", av[0], av[0]);
	return 127;
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

	if (!sh_path(r->sh, a.p, a.n, path)) {
		sh_err(r, "shell.err.create", cmd, a);
		return -1;
	}
	if (sh_listed("shell.devnull", (const uint8_t *)path, strlen(path))) {
		r->sink[fd] = SINK_NULL;
		return 0;
	}
	fi = sh_vf_find(r->pv, path);
	if (fi >= 0 && r->pv->f[fi].dir) {
		sh_err(r, "shell.err.create_isdir", cmd, a);
		return -1;
	}
	if (fi < 0 || !app) {
		if (sh_is_dir(r->pv, path)) {
			sh_err(r, "shell.err.create_isdir", cmd, a);
			return -1;
		}
		if (!sh_parent_ok(r->pv, path) ||
		        (fi = sh_vf_create(r->pv, path, 0)) < 0) {
			sh_err(r, "shell.err.create", cmd, a);
			return -1;
		}
	}
	r->sink[fd] = SINK_FILE;
	r->sinkf[fd] = fi;
	return 0;
}

static int
sh_line(struct sh_run *r, const uint8_t *s, size_t n)
{
	struct sh_parse *p;
	const char *bad = "";
	size_t badn = 0;
	int st = r->sh->last_status, saved[3], savedf[3];

	if (r->level >= SH_DEPTH)
		return 0;
	p = &sh_p[r->level];
	p->subst = 0;
	if (sh_parse(r, p, s, n, &bad, &badn) < 0) {
		struct sh_arg a = {(const uint8_t *)bad, badn};
		sh_err(r,
		        bad != sh_newline ? "shell.err.syntax"
		                          : "shell.err.syntax_nl",
		        a, a);
		r->sh->last_status = 2;
		return 2;
	}
	memcpy(saved, r->sink, sizeof saved);
	memcpy(savedf, r->sinkf, sizeof savedf);
	for (size_t c = 0, cur = 0; c < p->nc && !r->exit; c++) {
		/* a pipe: the left side's stdout is the right side's stdin */
		static uint8_t pbuf[SH_DEPTH][2][SHELL_OUT];
		static size_t plen[SH_DEPTH][2];
		uint8_t *opipe = r->pipe;
		size_t *oplen = r->pipe_len;
		struct sh_parse *q = &sh_p1[r->level];
		struct sh_cmd *cm;
		int prev = c ? p->c[c - 1].sep : SEP_SEMI;
		struct sh_arg av[SH_ARGS];
		int ac = 0;
		if ((prev == SEP_AND && st != 0) || (prev == SEP_OR && st == 0))
			continue;
		/* words are expanded as the command runs ($? of the one
		 * before, $(...)): parse its bytes again */
		q->subst = 1;
		if (sh_parse(r, q, s + p->c[c].s0, p->c[c].s1 - p->c[c].s0,
		            &bad, &badn) < 0 ||
		        q->nc != 1)
			continue;
		cm = &q->c[0];
		for (int w = cm->w0; w < cm->w1; w++)
			if (!q->redir[w])
				av[ac++] = (struct sh_arg){
				        q->text + q->w[w].off, q->w[w].len};
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
		                    ac ? av[0] : sh_a("")) < 0) ||
		        (cm->err_w >= 0 &&
		                sh_redirect(r, q, 2, cm->err_w, cm->err_app,
		                        ac ? av[0] : sh_a("")) < 0)) {
			st = 1;
		} else {
			if (cm->err_dup) {
				r->sink[2] = r->sink[1];
				r->sinkf[2] = r->sinkf[1];
			}
			st = sh_command(r, ac, av);
		}
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
	if (sh_home(sh, sh->cwd, sizeof sh->cwd) == 0)
		memcpy(sh->cwd, "/", 2);
}

size_t
shell_prompt(const struct shell *sh, struct emu_ctx *ctx, char *buf, size_t cap)
{
	size_t tl, k = 0;
	const char *t = sh_key("shell.prompt", &tl);
	char home[SH_PATH];
	size_t hl = sh_home(sh, home, sizeof home);
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
	sh->err_len = 0;
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
		const char *h = strstr(r.url[i], "://"), *he;
		h = h ? h + 3 : r.url[i];
		he = h;
		nu = sh_merge(urls, nu, IND_MAX + SH_DL, r.url[i]);
		while (*he && *he != '/' && *he != ':')
			he++;
		if (sh_ipv4(h, (size_t)(he - h))) {
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
		if ((t = sh_key("shell.logout", &tl)) && r.len + tl <= r.cap) {
			memcpy(out + r.len, t, tl);
			*outlen = r.len + tl;
		}
		return SHELL_EXIT;
	}
	return SHELL_CONT;
}
