/* shell_env.c: the session's environment (see src/shell.c): what the
 * daemon, PAM and the login put there (shell.env, shell.env_login), the
 * variables the session exported (TERM from a pty request among them),
 * and the commands that show it: env and printenv in the order the real
 * shell hands its environment to a program, export with no operand in its
 * own sorted format, $NAME of any of them. Built only for the personas
 * whose shell_lang.conf has shell.env (Makefile SHELL_ENV).
 *
 * The order: bash keeps its variables in a table of 1024 lists indexed by
 * the 32-bit FNV-1 hash of the name, the newest first in each, and builds
 * a program's environment walking it; BusyBox ash in 39 lists indexed by
 * (first byte << 4) + the sum of the name's bytes, the oldest first. Both
 * checked against bash 5.2 and BusyBox 1.35 by
 * test/persona/test_diff_shell.py. */
#include <string.h>

#include "emu.h"
#include "fmt.h"
#include "shell_int.h"

#define SH_ENVS 40 /* variables shown at most */

struct sh_env {
	char text[SHELL_OUT]; /* "NAME=value\0"... */
	size_t used, n;
	uint16_t off[SH_ENVS]; /* each one's text */
	uint16_t key[SH_ENVS]; /* its list in the shell's table */
	uint8_t bare[SH_ENVS]; /* exported with no value (bash's OLDPWD) */
};

/* the list of the shell's table where name[0..n) is (shell.env_hash) */
static unsigned
sh_env_key(const char *name, size_t n, int ash)
{
	uint32_t h = ash ? (uint32_t)(uint8_t)name[0] << 4 : 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = ash ? h + (uint8_t)name[i]
		        : (h * 16777619u) ^ (uint8_t)name[i];
	return ash ? h % 39 : h & 1023;
}

/* t[0..tl) with its fields into out (cap bytes, NUL-terminated): its
 * length, or -1 when the session has no value for a field (not SSH), -2
 * when that field is %o (no cd yet: bash exports OLDPWD without a value) */
static long
sh_env_expand(struct sh_run *r, const char *t, size_t tl, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < tl; i++) {
		char b[SH_PATH + 8];
		const char *s = b;
		size_t kl;
		b[0] = t[i], b[1] = 0;
		if (t[i] == '%' && i + 1 < tl) {
			switch (t[++i]) {
			case 'u': s = r->sh->user; break;
			case '~': shellfs_home(r->sh, b, sizeof b); break;
			case 'w': s = r->sh->cwd; break;
			case 'l': /* bash -c runs its last command in its place */
				b[0] = r->last && r->applet && r->sh->exec
				               ? '0'
				               : '1';
				break;
			case 'P':
			case 'S':
				s = shell_key(t[i] == 'P' ? "shell.path"
				                          : "shell.path_sh",
				        &kl);
				if (!s)
					return -1;
				break;
			case 'o':
				if (!r->pv->oldpwd[0])
					return -2;
				s = r->pv->oldpwd;
				break;
			case 't': /* SSH_TTY: an SSH session's pty */
				if (r->sh->ssh != 2)
					return -1;
				b[0] = 0;
				break;
			case 'C':
			case 'N':
				if (!r->sh->ssh || !r->ctx)
					return -1;
				if (t[i] == 'C')
					fmt_snprintf(b, sizeof b, "%s %u %u",
					        emu_peer_addr(r->ctx),
					        emu_peer_port(r->ctx),
					        emu_port(r->ctx));
				else
					fmt_snprintf(b, sizeof b, "%s %u %s %u",
					        emu_peer_addr(r->ctx),
					        emu_peer_port(r->ctx),
					        emu_local_addr(r->ctx),
					        emu_port(r->ctx));
				break;
			default: b[0] = '%', b[1] = t[i], b[2] = 0;
			}
		}
		for (; *s && o + 1 < cap; s++)
			out[o++] = *s;
	}
	out[o] = 0;
	return (long)o;
}

/* s[0..n) ("NAME=value", or a bare NAME) into e; a name already there
 * gets the new value in its old place */
static void
sh_env_add(struct sh_env *e, const char *s, size_t n, int ash, int bare)
{
	size_t nl = bare ? n : strcspn(s, "="), i;

	for (i = 0; i < e->n; i++) {
		const char *t = e->text + e->off[i];
		if (strncmp(t, s, nl) == 0 && (t[nl] == '=' || !t[nl]))
			break;
	}
	if ((i == e->n && i == SH_ENVS) || n + 1 > sizeof e->text - e->used)
		return;
	memcpy(e->text + e->used, s, n);
	e->text[e->used + n] = 0;
	e->off[i] = (uint16_t)e->used;
	e->used += n + 1;
	e->bare[i] = (uint8_t)bare;
	if (i == e->n)
		e->key[e->n++] = (uint16_t)sh_env_key(s, nl, ash);
}

/* The session's environment into e, in the order the variables went in:
 * shell.env's, a login shell's shell.env_login, then the session's
 * exported variables (new values of the others in their places). */
static void
sh_env_collect(struct sh_run *r, struct sh_env *e)
{
	int ash = shell_listed("shell.env_hash", (const uint8_t *)"ash", 3);
	const char *keys[2] = {"shell.env", "shell.env_login"};
	const struct persona_kv *kv;
	char b[256];

	memset(e, 0, sizeof *e);
	for (int k = 0; k < (r->sh->exec ? 1 : 2); k++) {
		size_t i = 0;
		while ((kv = persona_next(keys[k], &i))) {
			const char *eq = memchr(kv->val, '=', kv->len);
			long n =
			        sh_env_expand(r, kv->val, kv->len, b, sizeof b);
			if (eq && n >= 0)
				sh_env_add(e, b, (size_t)n, ash, 0);
			else if (eq && n == -2 && !ash) /* OLDPWD, no cd yet */
				sh_env_add(e, kv->val, (size_t)(eq - kv->val),
				        ash, 1);
		}
	}
	for (const char *v = r->pv->vars; *v; v += strlen(v) + 1)
		if (*v == SH_EXPORTED)
			sh_env_add(e, v + 1, strlen(v + 1), ash, 0);
}

/* e's first n variables in order by key, ties as they went in (ash) or
 * the newest first (bash); not the bare ones */
static void
sh_env_print(struct sh_run *r, struct sh_env *e, size_t n, int ash)
{
	uint8_t idx[SH_ENVS];

	for (size_t i = 0; i < n; i++)
		idx[i] = (uint8_t)i;
	for (size_t i = 1; i < n; i++) /* insertion sort: stable */
		for (size_t j = i; j > 0; j--) {
			uint8_t a = idx[j - 1], b = idx[j];
			if (e->key[a] < e->key[b] ||
			        (e->key[a] == e->key[b] &&
			                (ash ? a < b : a > b)))
				break;
			idx[j - 1] = b, idx[j] = a;
		}
	for (size_t i = 0; i < n; i++)
		if (!e->bare[idx[i]]) {
			shell_puts(r, 1, e->text + e->off[idx[i]]);
			shell_write(r, 1, "\n", 1);
		}
}

int
shellenv_cmd(struct sh_run *r, int ac, struct sh_arg *av)
{
	static struct sh_env e;
	int ash = shell_listed("shell.env_hash", (const uint8_t *)"ash", 3), i;
	size_t tl, n;
	const char *t;

	sh_env_collect(r, &e);
	if (av[0].p[0] == 'p' && ac > 1) { /* printenv NAME...: the values */
		int st = 0;
		for (i = 1; i < ac; i++) {
			size_t k;
			for (k = 0; k < e.n; k++)
				if (!e.bare[k] &&
				        strncmp(e.text + e.off[k],
				                (const char *)av[i].p,
				                av[i].n) == 0 &&
				        e.text[e.off[k] + av[i].n] == '=')
					break;
			if (k == e.n) {
				st = 1;
				continue;
			}
			shell_puts(r, 1, e.text + e.off[k] + av[i].n + 1);
			shell_write(r, 1, "\n", 1);
		}
		return st;
	}
	/* env [-i] [NAME=value]... [COMMAND...]: a command runs with the
	 * new variables (those the session had not set), or env prints its
	 * environment: the shell's, its "_", then what it set itself */
	n = e.n;
	for (i = 1; i < ac; i++) {
		size_t l = shellvar_name(av[i].p, av[i].n);
		if (shell_eq(av[i], "-i") || shell_eq(av[i], "-"))
			e.n = n = 0;
		else if (!l || l == av[i].n || av[i].p[l] != '=')
			break;
		else
			sh_env_add(&e, (const char *)av[i].p, av[i].n, ash, 0);
	}
	if (i < ac) {
		int st, k;
		uint8_t set[SH_ARGS];
		for (k = 1; k < i; k++) {
			size_t l = shellvar_name(av[k].p, av[k].n);
			set[k] = l && !shellvar_get(r->pv, av[k].p, l);
			if (set[k]) {
				shellvar_set(r->pv, av[k].p, l, av[k].p + l + 1,
				        av[k].n - l - 1);
				shellvar_export(r->pv, av[k].p, l);
			}
		}
		st = shellcmd_run(r, ac - i, av + i);
		for (k = 1; k < i; k++)
			if (set[k])
				shellvar_set(r->pv, av[k].p,
				        shellvar_name(av[k].p, av[k].n), NULL,
				        0);
		return st;
	}
	sh_env_print(r, &e, n, ash);
	if ((t = shell_key("shell.env_last", &tl))) { /* bash's $_ */
		struct sh_fa fa = {.c = av[0]};
		shell_tmpl(r, 1, t, tl, &fa);
		shell_write(r, 1, "\n", 1);
	}
	for (; n < e.n; n++) {
		shell_puts(r, 1, e.text + e.off[n]);
		shell_write(r, 1, "\n", 1);
	}
	return 0;
}

int
shellenv_export(struct sh_run *r)
{
	static struct sh_env e;
	size_t tl, bl, last = 0;
	const char *t = shell_key("shell.env_export", &tl),
	           *bt = shell_key("shell.env_export_bare", &bl);

	sh_env_collect(r, &e);
	for (size_t n = 0; n < e.n; n++) { /* by name, one at a time */
		const char *best = NULL, *s;
		size_t bi = 0;
		for (size_t k = 0; k < e.n; k++) {
			s = e.text + e.off[k];
			if ((!n || strcmp(s, e.text + e.off[last]) > 0) &&
			        (!best || strcmp(s, best) < 0))
				best = s, bi = k;
		}
		last = bi;
		s = strchr(best, '=');
		struct sh_fa fa = {
		        .c = {(const uint8_t *)best,
		                s ? (size_t)(s - best) : strlen(best)},
		        .a = {(const uint8_t *)(s ? s + 1 : ""),
		                s ? strlen(s + 1) : 0}};
		if (e.bare[bi] ? !bt : !t)
			continue;
		shell_tmpl(
		        r, 1, e.bare[bi] ? bt : t, e.bare[bi] ? bl : tl, &fa);
		shell_write(r, 1, "\n", 1);
	}
	return 0;
}

const char *
shellenv_get(
        struct sh_run *r, const uint8_t *name, size_t n, char *buf, size_t cap)
{
	const char *keys[3] = {"shell.env", "shell.env_login", "shell.var"};
	const struct persona_kv *kv;

	for (int k = 0; k < 3; k++) {
		size_t i = 0;
		if (k == 1 && r->sh->exec)
			continue;
		while ((kv = persona_next(keys[k], &i)))
			if (kv->len > n && kv->val[n] == '=' &&
			        memcmp(kv->val, name, n) == 0 &&
			        sh_env_expand(r, kv->val + n + 1,
			                kv->len - n - 1, buf, cap) >= 0)
				return buf;
	}
	return NULL;
}
