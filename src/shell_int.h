/* shell_int.h: what the fake shell's files share; not an API (src/shell.h
 * is). src/shell.c: the session, output and run loop (compound commands
 * included); src/shell_parse.c: the parser;
 * src/shell_fs.c: the file system commands see, and the ELF of its
 * binaries; src/shell_cmd.c: command lookup, the builtins, and the applets
 * that print persona data or record downloads; src/shell_file.c: the
 * applets on files. Types keep the shell's short prefix sh_; a function one
 * file gives the others carries that file's prefix (shell_, shellfs_,
 * shellcmd_, shellfile_, shellparse_). */
#ifndef LURE_SHELL_INT_H
#define LURE_SHELL_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
#define SH_VARS 192 /* bytes of the session's variables */

struct sh_vfile {
	char path[SH_NAME];
	uint32_t size; /* logical size (a copied binary: its size) */
	uint32_t mtime; /* written last (s since 1970: ls -l) */
	uint16_t off, len; /* bytes kept in the pool */
	uint8_t used, exec, dir, lost; /* lost: size != len (not all kept) */
};

/* the session's own state, in struct shell's priv */
struct sh_priv {
	struct sh_vfile f[SH_VFILES];
	char oldpwd[64];
	char vars[SH_VARS]; /* "NAME=value\0"..., then an empty one */
	uint16_t pool_used, lines;
	uint8_t pool[1536 - SH_VFILES * sizeof(struct sh_vfile) - 64 - SH_VARS -
	             4];
};
_Static_assert(sizeof(struct sh_priv) <= sizeof((struct shell *)0)->priv,
        "struct sh_priv does not fit in struct shell");

enum { SINK_TTY, SINK_NULL, SINK_FILE, SINK_PIPE };

/* one shell_run(): where each stream goes, stdin, what the line fetched */
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
	unsigned steps; /* loop rounds run (src/shell.c: SH_STEPS) */
	int abort; /* the line ends here with this status ($((1/0))) */
	int applet; /* the command runs as a program, not a builtin */
	int last; /* the line's last command, at the top, not piped */
	const char *url[SH_DL];
	size_t nurl;
	char urlbuf[SH_DL][160];
};

/* a word of the command line (an argument), not NUL-terminated */
struct sh_arg {
	const uint8_t *p;
	size_t n;
};

/* s as an argument */
static inline struct sh_arg
sh_a(const char *s)
{
	struct sh_arg a = {(const uint8_t *)s, strlen(s)};
	return a;
}

/* Template arguments: %c command, %a argument, %H host, %P port, %U URL,
 * %F file; %n shell.name, %u user, %h hostname, %% percent. */
struct sh_fa {
	struct sh_arg c, a;
	const char *H, *P, *U, *F;
};

/* --- shell_parse.c: a line into commands and words -------------------- */

struct sh_word {
	uint16_t off, len;
};

/* SEP_PAT: a case pattern list, ended by its ")" */
enum { SEP_END, SEP_SEMI, SEP_AND, SEP_OR, SEP_PIPE, SEP_BG, SEP_PAT };

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
	int pat; /* the bytes are a case pattern list ("|" between words) */
};

enum {
	KW_IF,
	KW_THEN,
	KW_ELIF,
	KW_ELSE,
	KW_FI,
	KW_CASE,
	KW_ESAC,
	KW_DSEMI, /* ";;" (the parser makes it a command of its own) */
	KW_FOR,
	KW_WHILE,
	KW_UNTIL,
	KW_DO,
	KW_DONE,
	KW_BREAK,
	KW_CONTINUE
};

/* Split s[0..n) into p's commands (p->subst: run $(...) and `...`;
 * p->pat: the bytes are a case pattern list). 0, or -1 on a syntax error
 * with the unexpected token in *bad (*badn bytes), or shellparse_newline
 * (the line's end) or shellparse_eof (the input's end, with the language). */
int
shellparse_split(struct sh_run *r, struct sh_parse *p, const uint8_t *s,
        size_t n, const char **bad, size_t *badn);
/* The reserved word a is (KW_*), or -1. */
int
shellparse_kw(struct sh_arg a);
extern const char shellparse_newline[], shellparse_eof[];

/* --- shell.c: persona data, output, the run loop ------------------------ */

/* persona_get() with *len 0 when absent */
const char *
shell_key(const char *key, size_t *len);
/* Is word w[0..n) one of the space-separated names of the values of key? */
int
shell_listed(const char *key, const uint8_t *w, size_t n);
/* key as a decimal or 0x number; def when absent or not a number */
unsigned long long
shell_num(const char *key, unsigned long long def);
/* Is a the text s? */
int
shell_eq(struct sh_arg a, const char *s);
/* a as a decimal number (at most about 10^9); def when not one */
unsigned long
shell_atoul(struct sh_arg a, unsigned long def);
/* Is h[0..n) a dotted-quad IPv4 address? */
int
shell_ipv4(const char *h, size_t n);

/* n bytes to stream fd (0..2) wherever it goes now (cut at the room) */
void
shell_write(struct sh_run *r, int fd, const void *p, size_t n);
void
shell_puts(struct sh_run *r, int fd, const char *s);
void
shell_putu(struct sh_run *r, int fd, unsigned long v);
/* shell.name, or shell.name_exec for a line run as "sh -c" (SSH exec) */
const char *
shell_name(const struct sh_run *r, size_t *l);
/* template t[0..tl) to fd, its %-fields from fa (see src/shell.c) */
void
shell_tmpl(struct sh_run *r, int fd, const char *t, size_t tl,
        const struct sh_fa *fa);
/* the line of persona key (shell.err.*) to stderr: %c c, %a a */
void
shell_err(struct sh_run *r, const char *key, struct sh_arg c, struct sh_arg a);
/* every value of a repeated key to stdout, each with a newline */
void
shell_lines(struct sh_run *r, const char *key);
/* Run text one level down (sh -c, a script): its exit ends only it. */
int
shell_sub(struct sh_run *r, const uint8_t *s, size_t n);

/* --- shell_fs.c: the file system ---------------------------------------- */

/* kinds of path; SH_DEV: a shell.devnull device (shell.dev_zero...) */
enum { SH_NONE, SH_FILE, SH_DIR, SH_BIN, SH_VFILE, SH_DEV };

/* the user's home into buf (cap bytes, NUL-terminated); its length */
size_t
shellfs_home(const struct shell *sh, char *buf, size_t cap);
/* a[0..n) as an absolute, normalised path in out[SH_PATH]; its length, 0
 * when too long or holding a NUL */
size_t
shellfs_path(const struct shell *sh, const uint8_t *a, size_t n, char *out);
/* the device's file at path (files/fs/<path>), or NULL */
const struct persona_file *
shellfs_pfile(const char *path);
/* the device's file at path (there is one): its bytes in *pp (a
 * shell.file_tmpl file's made now, in a static buffer), its length */
#if LURE_SHELL_FTMPL
size_t
shellfs_pdata(const char *path, const uint8_t **pp);
#else
static inline size_t
shellfs_pdata(const char *path, const uint8_t **pp)
{
	const struct persona_file *pf = shellfs_pfile(path);

	*pp = pf->data;
	return pf->len;
}
#endif
/* the written file (or directory) at path: its index, or -1 */
int
shellfs_find(const struct sh_priv *pv, const char *path);
int
shellfs_is_dir(const struct sh_priv *pv, const char *path);
/* SH_* of path; *vf the written file's index (else -1) */
int
shellfs_kind(const struct sh_priv *pv, const char *path, int *vf);
/* Does the parent directory of path exist? */
int
shellfs_parent_ok(const struct sh_priv *pv, const char *path);
/* argument a as a path in path[SH_PATH]: shellfs_kind() of it */
int
shellfs_look(struct sh_run *r, struct sh_arg a, char *path, int *vf);
/* a new empty written file (dir: a directory) at path, an existing one
 * truncated: its index, or -1 (table full, path too long) */
int
shellfs_create(struct sh_priv *pv, const char *path, int dir);
/* bytes to the end of written file fi (what the pool cannot keep is lost,
 * and counted in its size) */
void
shellfs_append(struct sh_run *r, int fi, const uint8_t *p, size_t n);
void
shellfs_free(struct sh_priv *pv, int i);
/* ls -l size of a shell.bin file (shell.elf.size, at least 64 KiB) */
/* Does reading device path never end? 1 zeros, 2 random bytes, 0 no */
int
shellfs_dev_endless(const char *path);
unsigned long
shellfs_bin_size(const char *path, const char **date, size_t *dl);
/* a file's bytes in *pp (a binary's first SH_BIN_OUT, made from
 * shell.elf.*); returns the length */
size_t
shellfs_bytes(struct sh_run *r, int kind, int vf, const char *path,
        const uint8_t **pp);
/* a file's bytes [off, off + max) to stdout; returns how many */
size_t
shellfs_print(struct sh_run *r, int kind, int vf, const char *path, size_t off,
        size_t max);

/* --- shell_cmd.c: one command ------------------------------------------- */

/* Run the command av[0..ac) (words expanded); returns its exit status. */
int
shellcmd_run(struct sh_run *r, int ac, struct sh_arg *av);

/* --- shell_lang.c: variables, arithmetic, test ------------------------ */

/* the length of the variable name p[0..n) starts with (0: none) */
size_t
shellvar_name(const uint8_t *p, size_t n);
/* the session's variable name[0..n), or NULL when unset */
const char *
shellvar_get(struct sh_priv *pv, const uint8_t *name, size_t n);
/* set it to v[0..vn) (v NULL: unset it); dropped when there is no room */
void
shellvar_set(struct sh_priv *pv, const uint8_t *name, size_t n,
        const uint8_t *v, size_t vn);
/* the export and unset builtins */
int
shellvar_cmd(struct sh_run *r, int ac, struct sh_arg *av);
/* mark the variable exported (env shows it); nothing when unset */
void
shellvar_export(struct sh_priv *pv, const uint8_t *name, size_t n);
#define SH_EXPORTED '\1' /* a variable's first byte: exported */

/* --- shell_env.c: the environment (Makefile SHELL_ENV) ---------------- */

/* env and printenv (applets) */
int
shellenv_cmd(struct sh_run *r, int ac, struct sh_arg *av);
/* export with no operand (or -p): the exported variables, sorted */
int
shellenv_export(struct sh_run *r);
/* a shell.env variable's value in this session into buf (cap bytes,
 * NUL-terminated), or NULL when the session has none by that name */
const char *
shellenv_get(
        struct sh_run *r, const uint8_t *name, size_t n, char *buf, size_t cap);
/* $((s[0..n))) in decimal into buf[24]: its length, 0 on an error */
size_t
shell_arith(struct sh_run *r, const uint8_t *s, size_t n, char *buf);
/* the test and [ builtins */
int
shell_test(struct sh_run *r, int ac, struct sh_arg *av);

/* --- shell_awk.c: awk's common one-liners ------------------------------ */

int
shellawk_run(struct sh_run *r, int ac, struct sh_arg *av);

/* --- shell_file.c: applets on files (handlers of shell_cmd.c's table) --- */

int
shellfile_cat(struct sh_run *r, int ac, struct sh_arg *av);
int
shellfile_dd(struct sh_run *r, int ac, struct sh_arg *av);
int
shellfile_head(struct sh_run *r, int ac, struct sh_arg *av);
int
shellfile_grep(struct sh_run *r, int ac, struct sh_arg *av);
int
shellfile_wc(struct sh_run *r, int ac, struct sh_arg *av);
int
shellfile_ls(struct sh_run *r, int ac, struct sh_arg *av);
int
shellfile_chmod(struct sh_run *r, int ac, struct sh_arg *av);
int
shellfile_rm(struct sh_run *r, int ac, struct sh_arg *av);
int
shellfile_cp(struct sh_run *r, int ac, struct sh_arg *av);
int
shellfile_mkdir(struct sh_run *r, int ac, struct sh_arg *av);
int
shellfile_touch(struct sh_run *r, int ac, struct sh_arg *av);

#endif
