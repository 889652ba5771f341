/* shell_cmd.c: one command of the fake shell (see shell_int.h): a path (a
 * written file runs, a binary runs as its applet), a builtin, a nested
 * shell, a fixed answer (shell.cmd), an applet on the PATH (shell.bin), or
 * "not found". The builtins are here (cd, echo, printf, kill...), and the
 * applets that print persona data (uname, id, ps, busybox...) or record
 * downloads (wget, curl, tftp, ftpget); the applets on files are in
 * src/shell_file.c. Persona keys: src/shell.c.
 */
#include <string.h>

#include "event.h"
#include "fmt.h"
#include "hash.h"
#include "lure.h"
#include "persona.h"
#include "shell_int.h"

typedef int (*sh_fn)(struct sh_run *r, int ac, struct sh_arg *av);

/* ---- echo and printf ------------------------------------------------- */

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
			shell_write(r, 1, &c, 1);
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
			shell_write(r, 1, &v, 1);
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
			shell_write(r, 1, &v, 1);
		} else if (c && (f = strchr(from, c))) {
			shell_write(r, 1, to + (f - from), 1);
		} else {
			shell_write(r, 1, "\\", 1);
			shell_write(r, 1, &c, 1);
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
			shell_write(r, 1, " ", 1);
		if (!esc)
			shell_write(r, 1, av[i].p, av[i].n);
		else if (sh_esc(r, av[i].p, av[i].n))
			return 0;
	}
	if (nl)
		shell_write(r, 1, "\n", 1);
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
				shell_write(r, 1, "%", 1);
				continue;
			}
			if (a < ac)
				x = av[a];
			a++;
			used = 1;
			if (f[k] == 's') {
				shell_write(r, 1, x.p, x.n);
			} else if (f[k] == 'b') {
				if (sh_esc(r, x.p, x.n))
					return 0;
			} else if (f[k] == 'c') {
				shell_write(r, 1, x.p, x.n ? 1 : 0);
			} else {
				shell_putu(r, 1, shell_atoul(x, 0));
			}
		}
		if (!used)
			break;
	} while (a < ac);
	return 0;
}

/* ---- downloads: recorded, never fetched ------------------------------ */

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
	h = fmt_strstr(u, "://") ? (size_t)(fmt_strstr(u, "://") - u) + 3 : k;
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
	t = shell_ipv4(host, hl) ? NULL : shell_key(key_name, &tl);
	if (!t)
		t = shell_key(key, &tl);
	if (t) {
		shell_tmpl(r, 2, t, tl, &fa);
		shell_write(r, 2, "\n", 1);
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
	shell_err(r, key, cmd, cmd);
	return 1;
}

static int
sh_in(struct sh_arg a, const char *const *list)
{
	for (; *list; list++)
		if (shell_eq(a, *list))
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
		if ((shell_eq(av[i], "-r") || shell_eq(av[i], "-l") ||
		            shell_eq(av[i], "-b")) &&
		        i + 1 < ac) {
			if (av[i].p[1] == 'r')
				rem = av[i + 1];
			else if (av[i].p[1] == 'l')
				loc = av[i + 1];
			i++;
		} else if (shell_eq(av[i], "-c") && i + 2 < ac) {
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
		if ((shell_eq(av[i], "-u") || shell_eq(av[i], "-p") ||
		            shell_eq(av[i], "-P")) &&
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

/* ---- running a file the attacker wrote ------------------------------ */

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
		shell_err(r, "shell.err.noperm", name, name);
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
		st = shell_sub(r, script[r->level], n);
		return st;
	}
	if ((t = shell_key("shell.exec", &tl))) {
		struct sh_fa fa = {.c = name, .a = name};
		shell_tmpl(r, 2, t, tl, &fa);
	}
	return (int)shell_num("shell.exec_status", 139);
}

/* ---- builtins and small applets -------------------------------------- */

static int
h_cd(struct sh_run *r, int ac, struct sh_arg *av)
{
	char path[SH_PATH];
	int vf, k;
	struct sh_arg a = ac > 1 ? av[1] : sh_a("~");

	if (ac > 1 && shell_eq(a, "-")) {
		size_t ol = strlen(r->pv->oldpwd);
		a = ol ? (struct sh_arg){(const uint8_t *)r->pv->oldpwd, ol}
		       : sh_a(r->sh->cwd);
		shell_write(r, 1, a.p, a.n);
		shell_write(r, 1, "\n", 1);
	}
	if (ac > 1 && !a.n) /* cd "": stays */
		return 0;
	k = shellfs_look(r, a, path, &vf);
	if (k == SH_NONE) {
		shell_err(r, "shell.err.cd_noent", av[0], a);
		return (int)shell_num("shell.cd_status", 2);
	}
	if (k != SH_DIR) {
		shell_err(r, "shell.err.cd_notdir", av[0], a);
		return (int)shell_num("shell.cd_status", 2);
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
	shell_puts(r, 1, r->sh->cwd);
	shell_write(r, 1, "\n", 1);
	return 0;
}

static int
h_exit(struct sh_run *r, int ac, struct sh_arg *av)
{
	r->exit = 1;
	return ac > 1 ? (int)(shell_atoul(av[1], 0) & 0xff)
	              : r->sh->last_status;
}

/* sleep N...: whole seconds, added up for the caller to wait (a fraction
 * or a unit suffix is not read: "1.5" waits 1 s) */
static int
h_sleep(struct sh_run *r, int ac, struct sh_arg *av)
{
	uint32_t ms = r->sh->sleep_ms;

	for (int i = 1; i < ac; i++) {
		uint32_t v = 0;
		for (size_t k = 0;
		        k < av[i].n && (unsigned)(av[i].p[k] - '0') < 10 &&
		        v < SHELL_SLEEP_MAX;
		        k++)
			v = v * 10 + (uint32_t)(av[i].p[k] - '0') * 1000;
		ms += v;
	}
	r->sh->sleep_ms = LURE_MIN(ms, SHELL_SLEEP_MAX);
	return 0;
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
		shell_write(r, 1, b + k, sizeof b - k);
	}
	shell_puts(r, 1, " history\n");
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
	const char *nm = shell_name(r, &nl);
	struct sh_arg who =
	        r->applet || !nm ? av[0]
	                         : (struct sh_arg){(const uint8_t *)nm +
	                                                   (nl && nm[0] == '-'),
	                                   nl - (nl && nm[0] == '-')};

	for (int i = 1; i < ac; i++) {
		if (av[i].n && av[i].p[0] == '-')
			continue;
		any = 1;
		if (shell_atoul(av[i], 0) == 0 || !sh_ps_has(av[i])) {
			shell_err(r, "shell.err.kill", who, av[i]);
			st = 1;
		}
	}
	if (!any) {
		shell_err(r, "shell.err.kill_usage", who, who);
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
		v = shell_key(key, &vl);
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
			shell_write(r, 1, " ", 1);
		shell_write(r, 1, v, vl);
		first = 0;
	}
	shell_write(r, 1, "\n", 1);
	return 0;
}

static int
h_id(struct sh_run *r, int ac, struct sh_arg *av)
{
	size_t tl;
	int root = strcmp(r->sh->user, "root") == 0;
	const char *t = shell_key(root ? "shell.id" : "shell.id_user", &tl);
	struct sh_fa fa = {.c = av[0], .a = av[0]};

	(void)ac;
	if (t) {
		shell_tmpl(r, 1, t, tl, &fa);
		shell_write(r, 1, "\n", 1);
	}
	return 0;
}

static int
h_whoami(struct sh_run *r, int ac, struct sh_arg *av)
{
	(void)ac;
	(void)av;
	shell_puts(r, 1, r->sh->user);
	shell_write(r, 1, "\n", 1);
	return 0;
}

static int
h_hostname(struct sh_run *r, int ac, struct sh_arg *av)
{
	(void)ac;
	(void)av;
	shell_puts(r, 1, emu_hostname(r->ctx));
	shell_write(r, 1, "\n", 1);
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
	shell_lines(r, key);
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
		if (shell_eq(av[i], "-c"))
			return i + 1 < ac
			               ? shell_sub(r, av[i + 1].p, av[i + 1].n)
			               : 2;
		if (av[i].n && av[i].p[0] == '-')
			continue;
		k = shellfs_look(r, av[i], path, &vf);
		if (k == SH_VFILE)
			return sh_run_vfile(r, vf, av[i], 1);
		if (k == SH_NONE || k == SH_DIR) {
			shell_err(r, "shell.err.sh_open", av[0], av[i]);
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
		return n ? shell_sub(r, script[r->level], n) : 0;
	}
	if (r->sh->depth < SH_NEST && r->level == 0)
		r->sh->depth++;
	return 0;
}

/* ---- finding the command -------------------------------------------- */

struct sh_cmdtab {
	const char *name;
	sh_fn fn;
};

/* the shell's own commands: there whatever the applets */
static const struct sh_cmdtab sh_builtins[] = {{"cd", h_cd}, {"pwd", h_pwd},
        {"echo", h_echo}, {"exit", h_exit}, {"logout", h_exit},
#if LURE_SHELL_LANG
        {"export", shellvar_cmd}, {"unset", shellvar_cmd}, {"test", shell_test},
        {"[", shell_test},
#else
        {"export", h_true}, {"unset", h_true},
#endif
        {"alias", h_true}, {"set", h_true}, {"umask", h_true}, {"trap", h_true},
        {"wait", h_true}, {"read", h_true}, {"ulimit", h_true},
        {"true", h_true}, {"false", h_true}, {":", h_true},
        {"history", h_history}, {"kill", h_kill}, {"printf", h_printf},
        {NULL, NULL}};

/* programs, there when shell.applet lists them */
static const struct sh_cmdtab sh_applets[] = {{"cat", shellfile_cat},
        {"ls", shellfile_ls}, {"dd", shellfile_dd}, {"head", shellfile_head},
        {"tail", shellfile_head}, {"grep", shellfile_grep},
        {"egrep", shellfile_grep}, {"wc", shellfile_wc}, {"uname", h_uname},
        {"id", h_id}, {"whoami", h_whoami}, {"hostname", h_hostname},
        {"ps", h_lines}, {"free", h_lines}, {"df", h_lines}, {"nproc", h_lines},
        {"wget", h_wget}, {"curl", h_curl}, {"tftp", h_tftp},
        {"ftpget", h_ftpget}, {"chmod", shellfile_chmod}, {"rm", shellfile_rm},
        {"cp", shellfile_cp}, {"mv", shellfile_cp}, {"mkdir", shellfile_mkdir},
        {"touch", shellfile_touch}, {"busybox", h_busybox}, {"echo", h_echo},
        {"pwd", h_pwd}, {"kill", h_kill}, {"false", h_true},
        {"printf", h_printf}, {"sleep", h_sleep},
#if LURE_SHELL_LANG
        {"awk", shellawk_run}, {"mawk", shellawk_run},
#endif
#if LURE_SHELL_ENV
        {"env", shellenv_cmd}, {"printenv", shellenv_cmd},
#endif
        {NULL, NULL}};

static sh_fn
sh_find(const struct sh_cmdtab *t, struct sh_arg name)
{
	for (; t->name; t++)
		if (shell_eq(name, t->name))
			return t->fn;
	return NULL;
}

#if LURE_SHELL_OUTS /* the personas with shell.out lines (Makefile) */
/* Does the space-separated word list w[0..n) name av[0..ac)? A last word
 * "*" stands for any further words, or none. */
static int
sh_out_match(const char *w, size_t n, int ac, const struct sh_arg *av)
{
	int k = 0;

	for (size_t i = 0; i < n; k++) {
		size_t e = i;
		while (e < n && w[e] != ' ')
			e++;
		if (e - i == 1 && w[i] == '*' && e == n)
			return 1;
		if (k == ac || av[k].n != e - i ||
		        memcmp(av[k].p, w + i, e - i))
			return 0;
		i = e + 1;
	}
	return k == ac;
}

/* A program's fixed answer to these words: the first shell.out_exec line
 * (exec requests only, no terminal) or shell.out line that names them,
 * "WORDS\tSTATUS\tSTDOUT\tSTDERR" (templates); its status, or -1. */
static int
sh_out(struct sh_run *r, int ac, struct sh_arg *av)
{
	const char *key = r->sh->exec ? "shell.out_exec" : "shell.out";

	for (;; key = "shell.out") {
		const struct persona_kv *kv;
		size_t i = 0;
		while ((kv = persona_next(key, &i))) {
			const char *v = kv->val, *end = v + kv->len, *f[3];
			struct sh_fa fa = {av[0], ac > 1 ? av[1] : av[0], NULL,
			        NULL, NULL, NULL};
			int st = 0;
			f[0] = memchr(v, '\t', kv->len);
			if (!f[0] ||
			        !sh_out_match(v, (size_t)(f[0] - v), ac, av))
				continue;
			for (f[1] = f[0] + 1;
			        f[1] < end && *f[1] >= '0' && *f[1] <= '9';)
				st = st * 10 + *f[1]++ - '0';
			f[2] = f[1] < end ? memchr(f[1] + 1, '\t',
			                            (size_t)(end - f[1] - 1))
			                  : NULL;
			if (f[1] < end)
				shell_tmpl(r, 1, f[1] + 1,
				        (size_t)((f[2] ? f[2] : end) - f[1] -
				                 1),
				        &fa);
			if (f[2])
				shell_tmpl(r, 2, f[2] + 1,
				        (size_t)(end - f[2] - 1), &fa);
			return st;
		}
		if (!strcmp(key, "shell.out"))
			return -1;
	}
}
#endif

/* An applet by name: its handler, or nothing to say (sync, sleep...). */
static int
sh_applet(struct sh_run *r, int ac, struct sh_arg *av)
{
	sh_fn fn = sh_find(sh_applets, av[0]);

	r->applet = 1;
#if LURE_SHELL_OUTS
	int st = sh_out(r, ac, av);
	if (st >= 0)
		return st;
#endif
	if (shell_listed("shell.nest", av[0].p, av[0].n))
		return h_sh(r, ac, av);
	return fn ? fn(r, ac, av) : 0;
}

static int
h_busybox(struct sh_run *r, int ac, struct sh_arg *av)
{
	if (ac < 2 || !persona_get("shell.busybox", NULL)) {
		shell_lines(r, "shell.busybox");
		return 0;
	}
	if (shell_eq(av[1], "--list")) {
		size_t i = 0;
		const struct persona_kv *kv;
		while ((kv = persona_next("shell.applet", &i)))
			for (size_t j = 0; j < kv->len; j++)
				shell_write(r, 1,
				        kv->val[j] == ' ' ? "\n" : kv->val + j,
				        1);
		if (i)
			shell_write(r, 1, "\n", 1);
		return 0;
	}
	if (shell_listed("shell.applet", av[1].p, av[1].n))
		return sh_applet(r, ac - 1, av + 1);
	shell_err(r, "shell.err.applet", av[1], av[1]);
	return 127;
}

#if LURE_SHELL_LANG
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
			shell_write(r, 1, tab + 1,
			        kv->len - (size_t)(tab + 1 - kv->val));
			return 1;
		}
	}
	return 0;
}
#endif

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

#if LURE_SHELL_LANG
/* The first "DIR/name" along shell.path that shell.bin lists, into out
 * (SH_PATH); its length, 0 when none. */
static size_t
sh_which(struct sh_arg name, char *out)
{
	size_t pl, d = 0;
	const char *pv = shell_key("shell.path", &pl);

	while (pv && d < pl && name.n && !memchr(name.p, '/', name.n)) {
		size_t e = d, n;
		while (e < pl && pv[e] != ':')
			e++;
		n = e - d + 1 + name.n;
		if (n < SH_PATH) {
			memcpy(out, pv + d, e - d);
			out[e - d] = '/';
			memcpy(out + e - d + 1, name.p, name.n);
			if (shell_listed("shell.bin", (const uint8_t *)out, n))
				return n;
		}
		d = e + 1;
	}
	return 0;
}

/* which NAME...: each one's path; command -v NAME: the same, or the name
 * of a builtin; command NAME ARGS: NAME runs (not a function: there are
 * none) */
static int
h_which(struct sh_run *r, int ac, struct sh_arg *av)
{
	char path[SH_PATH];
	int st = 0, cmd = av[0].p[0] == 'c';

	if (cmd && (ac < 2 || !shell_eq(av[1], "-v")))
		return shellcmd_run(r, ac - 1, av + 1);
	for (int i = 1 + cmd; i < ac; i++) {
		size_t n;
		if (cmd && sh_find(sh_builtins, av[i])) /* before the path */
			shell_write(r, 1, av[i].p, n = av[i].n);
		else
			shell_write(r, 1, path, n = sh_which(av[i], path));
		if (n)
			shell_write(r, 1, "\n", 1);
		st |= !n;
	}
	return st;
}
#endif

int
shellcmd_run(struct sh_run *r, int ac, struct sh_arg *av)
{
	sh_fn fn;

	if (!ac)
		return 0;
	if (memchr(av[0].p, '/', av[0].n)) {
		char path[SH_PATH];
		int vf, k = shellfs_look(r, av[0], path, &vf);
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
			shell_err(r, "shell.err.noent", av[0], av[0]);
			return 127;
		}
		shell_err(r, "shell.err.noperm", av[0], av[0]);
		return 126;
	}
	r->applet = 0;
	if ((fn = sh_find(sh_builtins, av[0])))
		return fn(r, ac, av);
#if LURE_SHELL_LANG
	if (shell_eq(av[0], "command") ||
	        (shell_eq(av[0], "which") && sh_in_path(av[0])))
		return h_which(r, ac, av);
#endif
	if (shell_eq(av[0], "exec"))
		return shellcmd_run(r, ac - 1, av + 1);
	if (shell_listed("shell.nest", av[0].p, av[0].n))
		return h_sh(r, ac, av);
#if LURE_SHELL_LANG
	if (sh_fixed(r, av[0]))
		return 0;
#endif
	if (sh_in_path(av[0]))
		return sh_applet(r, ac, av);
	shell_err(r, "shell.err.notfound", av[0], av[0]);
	return 127;
}
