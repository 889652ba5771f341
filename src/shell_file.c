/* shell_file.c: the fake shell's applets on files (see shell_int.h): cat,
 * dd, head and tail, grep, wc, ls, chmod, rm, cp and mv, mkdir, touch, with
 * BusyBox's output and error texts (shell.err.*, src/shell.c), over the
 * file system of src/shell_fs.c.
 */
#include <string.h>

#include "fmt.h"
#include "lure.h"
#include "persona.h"
#include "shell_int.h"

/* ---- reading files: cat, dd, head, tail, grep, wc -------------------- */

int
shellfile_cat(struct sh_run *r, int ac, struct sh_arg *av)
{
	int st = 0, files = 0;

	for (int i = 1; i < ac; i++)
		files += !(av[i].n && av[i].p[0] == '-');
	if (!files && r->in)
		shell_write(r, 1, r->in, r->in_len);
	for (int i = 1; i < ac; i++) {
		char path[SH_PATH];
		int vf, k;
		if (av[i].n && av[i].p[0] == '-')
			continue;
		k = shellfs_look(r, av[i], path, &vf);
		if (k == SH_DIR) {
			shell_err(r, "shell.err.cat_isdir", av[0], av[i]);
			st = 1;
		} else if (k == SH_NONE) {
			shell_err(r, "shell.err.cat_noent", av[0], av[i]);
			st = 1;
		} else {
			shellfs_print(r, k, vf, path, 0, SHELL_OUT);
		}
	}
	return st;
}

#if LURE_SHELL_DEVS
/* dd's numbers: digits and a unit (c w b K k M G, KiB..., kB MB GB as
 * 1000s); def when it is not one. */
static unsigned long long
sh_dd_num(struct sh_arg a, unsigned long long def)
{
	static const char u[] = "cwbkKMGT";
	static const unsigned long m[] = {1, 2, 512, 1024, 1024};
	unsigned long long v = 0;
	size_t i = 0;
	const char *x;

	for (; i < a.n && a.p[i] >= '0' && a.p[i] <= '9' && v < 1ull << 40; i++)
		v = v * 10 + (a.p[i] - '0');
	if (!i || i == a.n)
		return i ? v : def;
	if (!(x = memchr(u, a.p[i], sizeof u - 1)))
		return def;
	if (x - u < 5)
		v *= m[x - u];
	else
		for (long k = x - u - 3; k > 0; k--)
			v *= 1024;
	if (i + 2 == a.n && a.p[i + 1] == 'B' && x - u >= 3) /* kB: 1000s */
		for (long k = x - u == 3 || x - u == 4 ? 1 : x - u - 3; k > 0;
		        k--)
			v = v / 1024 * 1000;
	else if (i + 1 != a.n &&
	         !(i + 3 == a.n && a.p[i + 1] == 'i' && a.p[i + 2] == 'B'))
		return def;
	return v;
}

#if LURE_SHELL_GNU /* the personas that set shell.gnu (Makefile) */
/* v in base-1000 (kB) or 1024 (KiB) units as GNU's human_readable
 * prints it: one decimal under 10, else rounded to the nearest whole. */
static size_t
sh_dd_human(char *b, unsigned long long v, int iec)
{
	static const char si[] = "kMGTP";
	unsigned long long d = iec ? 1024 : 1000;
	int u = 0;

	while (u < 4 && v >= d * (iec ? 1024 : 1000) - d / 20)
		d *= iec ? 1024 : 1000, u++;
	if ((v * 10 + d / 2) / d < 100)
		return (size_t)fmt_snprintf(b, 24, "%llu.%llu %c%sB",
		        (v * 10 + d / 2) / d / 10, (v * 10 + d / 2) / d % 10,
		        iec && !u ? 'K' : si[u], iec ? "i" : "");
	return (size_t)fmt_snprintf(b, 24, "%llu %c%sB", (v + d / 2) / d,
	        iec && !u ? 'K' : si[u], iec ? "i" : "");
}

/* GNU dd's third line: "N bytes (10 MB, 10 MiB) copied, T s, R/s", at a
 * write rate of 300-900 MB/s (a VPS disk): T as %g prints it, R with one
 * decimal. */
static void
sh_dd_stats(struct sh_run *r, unsigned long long n)
{
	unsigned long long ns = n * 1000 /
	                                (300 + (unsigned long long)lure_now() %
	                                                600) +
	                        20000,
	                   m = ns, div = 1, r10;
	char b[160], h1[24], h2[24], g[24];
	int l, d = 1, gl, u = 0;

	sh_dd_human(h1, n, 0);
	sh_dd_human(h2, n, 1);
	l = fmt_snprintf(b, sizeof b, n == 1 ? "1 byte" : "%llu bytes", n);
	if (n >= 1000)
		l += fmt_snprintf(b + l, sizeof b - (size_t)l,
		        n >= 1024 ? " (%s, %s)" : " (%s)", h1, h2);
	l += fmt_snprintf(b + l, sizeof b - (size_t)l, " copied, ");
	/* ns/1e9 with six significant digits, trailing zeros cut */
	for (unsigned long long t = ns; t >= 10; t /= 10)
		d++;
	for (int k = d; k > 6; k--)
		div *= 10;
	m = (ns + div / 2) / div;
	gl = fmt_snprintf(g, sizeof g, "%llu", m);
	while (gl > 1 && g[gl - 1] == '0')
		g[--gl] = 0;
	if (d - 10 < -4) { /* 5.6395e-05 */
		l += fmt_snprintf(b + l, sizeof b - (size_t)l, "%c%s%se-%02d",
		        g[0], gl > 1 ? "." : "", g + 1, 10 - d);
	} else if (d < 10) { /* 0.0250123 */
		l += fmt_snprintf(b + l, sizeof b - (size_t)l, "0.");
		for (int k = d; k < 9; k++)
			b[l++] = '0';
		l += fmt_snprintf(b + l, sizeof b - (size_t)l, "%s", g);
	} else { /* 2.5 */
		l += fmt_snprintf(b + l, sizeof b - (size_t)l, "%.*s%s%s",
		        d - 9 < gl ? d - 9 : gl, g, d - 9 < gl ? "." : "",
		        d - 9 < gl ? g + d - 9 : "");
	}
	/* the rate, bytes a second, in 1000s with one decimal */
	r10 = n * 1000000000ull / ns * 10 + n * 1000000000ull % ns * 10 / ns;
	for (div = 1; r10 / div >= 9995 && u < 4; u++)
		div *= 1000;
	r10 = (r10 + div / 2) / div;
	fmt_snprintf(b + l, sizeof b - (size_t)l, " s, %llu.%llu %sB/s\n",
	        r10 / 10, r10 % 10,
	        (const char *const[]){"", "k", "M", "G", "T"}[u]);
	shell_puts(r, 2, b);
}
#endif
#endif

/* dd if= of= bs= count= skip=: BusyBox's record counts on stderr */
int
shellfile_dd(struct sh_run *r, int ac, struct sh_arg *av)
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
#if LURE_SHELL_DEVS /* 1M, 4k, 2b... */
		else if (av[i].n > 3 && memcmp(av[i].p, "bs=", 3) == 0)
			bs = (unsigned long)sh_dd_num(v, 512);
		else if (av[i].n > 6 && memcmp(av[i].p, "count=", 6) == 0)
			count = (unsigned long)sh_dd_num(
			        (struct sh_arg){av[i].p + 6, av[i].n - 6},
			        (unsigned long)-1);
		else if (av[i].n > 5 && memcmp(av[i].p, "skip=", 5) == 0)
			skip = (unsigned long)sh_dd_num(
			        (struct sh_arg){av[i].p + 5, av[i].n - 5}, 0);
#else
		else if (av[i].n > 3 && memcmp(av[i].p, "bs=", 3) == 0)
			bs = shell_atoul(v, 512);
		else if (av[i].n > 6 && memcmp(av[i].p, "count=", 6) == 0)
			count = shell_atoul(
			        (struct sh_arg){av[i].p + 6, av[i].n - 6},
			        (unsigned long)-1);
		else if (av[i].n > 5 && memcmp(av[i].p, "skip=", 5) == 0)
			skip = shell_atoul(
			        (struct sh_arg){av[i].p + 5, av[i].n - 5}, 0);
#endif
	}
	if (!bs)
		bs = 512;
	if (in.p) {
		k = shellfs_look(r, in, path, &vf);
		if (k == SH_NONE || k == SH_DIR) {
			shell_err(r, "shell.err.dd_noent", av[0], in);
			return 1;
		}
	}
	if (of.p) {
		char op[SH_PATH];
		int fi = -1;
		if (shellfs_path(r->sh, of.p, of.n, op) &&
		        !shell_listed("shell.devnull", (const uint8_t *)op,
		                strlen(op)) &&
		        shellfs_parent_ok(r->pv, op))
			fi = shellfs_create(r->pv, op, 0);
		r->sink[1] = fi >= 0 ? SINK_FILE : SINK_NULL;
		r->sinkf[1] = fi;
	}
	if (in.p) {
		/* 64-bit products: unsigned long is 32 bits on the routers */
		unsigned long long want = (unsigned long long)count * bs,
		                   off = (unsigned long long)skip * bs;
		got = off > SHELL_OUT
		              ? 0
		              : shellfs_print(r, k, vf, path, (size_t)off,
		                        want > SHELL_OUT ? SHELL_OUT
		                                         : (size_t)want);
		if (k == SH_BIN) {
			unsigned long long sz =
			        shellfs_bin_size(path, NULL, NULL);
			unsigned long long left = sz > off ? sz - off : 0;
			got = (unsigned long)(want < left ? want : left);
		}
#if LURE_SHELL_DEVS /* /dev/zero, /dev/urandom: all that was asked */
		if (k == SH_DEV && shellfs_dev_endless(path) &&
		        count != (unsigned long)-1 && want < 1ull << 32) {
			got = (unsigned long)want;
			if (r->sink[1] == SINK_FILE)
				r->pv->f[r->sinkf[1]].size = (uint32_t)want;
		}
#endif
	}
#if LURE_SHELL_DEVS
	if (!in.p && r->piped) { /* ... | dd: what came down the pipe */
		shell_write(r, 1, r->in, r->in_len);
		got = (unsigned long)r->in_len;
	}
#endif
	r->sink[1] = saved;
	r->sinkf[1] = savedf;
	/* records: full + partial */
	shell_putu(r, 2, got / bs);
	shell_write(r, 2, "+", 1);
	shell_putu(r, 2, got % bs ? 1 : 0);
	shell_puts(r, 2, " records in\n");
	shell_putu(r, 2, got / bs);
	shell_write(r, 2, "+", 1);
	shell_putu(r, 2, got % bs ? 1 : 0);
	shell_puts(r, 2, " records out\n");
#if LURE_SHELL_GNU
	if (shell_num("shell.gnu", 0))
		sh_dd_stats(r, got);
#endif
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
				shell_write(r, 1, p + start, j + 1 - start);
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
int
shellfile_head(struct sh_run *r, int ac, struct sh_arg *av)
{
	unsigned long bytes = 0, lines = 10;
	int st = 0, files = 0, tail = av[0].n && av[0].p[0] == 't';
	uint8_t isfile[SH_ARGS] = {0};

	for (int i = 1; i < ac; i++) {
		if ((shell_eq(av[i], "-c") || shell_eq(av[i], "-n")) &&
		        i + 1 < ac) {
			if (av[i].p[1] == 'c')
				bytes = shell_atoul(av[i + 1], 0);
			else
				lines = shell_atoul(av[i + 1], 10);
			i++;
		} else if (av[i].n > 2 && av[i].p[0] == '-' &&
		           (av[i].p[1] == 'n' || av[i].p[1] == 'c')) {
			struct sh_arg v = {av[i].p + 2, av[i].n - 2};
			if (av[i].p[1] == 'c')
				bytes = shell_atoul(v, 0);
			else
				lines = shell_atoul(v, 10);
		} else if (av[i].n > 1 && av[i].p[0] == '-') {
			lines = shell_atoul(
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
			k = shellfs_look(r, av[i], path, &vf);
			if (k == SH_NONE || k == SH_DIR) {
				shell_err(r, "shell.err.head_noent", av[0],
				        av[i]);
				st = 1;
				continue;
			}
			n = shellfs_bytes(r, k, vf, path, &p);
		}
		if (!p || !n)
			continue;
		if (bytes) {
			shell_write(r, 1, tail && n > bytes ? p + n - bytes : p,
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
int
shellfile_grep(struct sh_run *r, int ac, struct sh_arg *av)
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
			k = shellfs_look(r, av[i], path, &vf);
			if (k == SH_NONE || k == SH_DIR) {
				shell_err(r, "shell.err.grep_noent", av[0],
				        av[i]);
				continue;
			}
			n = shellfs_bytes(r, k, vf, path, &p);
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
					shell_write(
					        r, 1, p + start, j + 1 - start);
					if (p[j] != '\n')
						shell_write(r, 1, "\n", 1);
				}
			}
			start = j + 1;
		}
	}
	if (count) {
		shell_putu(r, 1, hits);
		shell_write(r, 1, "\n", 1);
	}
	return hits ? 0 : 1;
}

/* wc [-l] [-w] [-c]: stdin (or the files, summed) */
/* Lines, words and bytes of p[0..n) added to v. */
static void
sh_wc_count(const uint8_t *p, size_t n, unsigned long *v)
{
	int inword = 0;

	for (size_t j = 0; p && j < n; j++) {
		int sp = p[j] == ' ' || (p[j] >= '\t' && p[j] <= '\r');
		v[0] += p[j] == '\n';
		v[1] += !sp && !inword;
		inword = !sp;
	}
	v[2] += n;
}

#if LURE_SHELL_LANG
/* One line of wc: the counts wanted, w wide, then the name (if any). */
static void
sh_wc_line(struct sh_run *r, const unsigned long *v, unsigned want, int w,
        const char *name, size_t nl)
{
	char b[24];

	for (int i = 0, sp = 0; i < 3; i++)
		if (want & (1u << i))
			shell_write(r, 1, b,
			        (size_t)fmt_snprintf(b, sizeof b, "%s%*lu",
			                sp++ ? " " : "", w, v[i]));
	if (nl) {
		shell_write(r, 1, " ", 1);
		shell_write(r, 1, name, nl);
	}
	shell_write(r, 1, "\n", 1);
}

/* wc [-lwc] [FILE...]: a line per file (a binary's and a written file's
 * size, not the bytes kept of them), "total" after several; one count of
 * one input is bare, else BusyBox's columns are 9 wide and GNU's (shell.gnu)
 * as wide as the operands' total size (7 for a pipe). */
int
shellfile_wc(struct sh_run *r, int ac, struct sh_arg *av)
{
	unsigned long tot[3] = {0, 0, 0}, sum = 0;
	unsigned want = 0;
	int files = 0, st = 0, w, bare, gnu;
	char path[SH_PATH];
	int vf, k;
	const uint8_t *fp;

	for (int i = 1; i < ac; i++)
		if (av[i].n > 1 && av[i].p[0] == '-')
			for (size_t j = 1; j < av[i].n; j++)
				want |= av[i].p[j] == 'l'   ? 1u
				        : av[i].p[j] == 'w' ? 2u
				        : av[i].p[j] == 'c' ? 4u
				                            : 0u;
		else if (files++,
		        (k = shellfs_look(r, av[i], path, &vf)) == SH_BIN)
			sum += shellfs_bin_size(path, NULL, NULL);
		else if (k == SH_VFILE)
			sum += r->pv->f[vf].size;
		else if (k == SH_FILE)
			sum += shellfs_pdata(path, &fp);
	if (!want)
		want = 7;
	bare = files < 2 && (want == 1 || want == 2 || want == 4);
	gnu = (int)shell_num("shell.gnu", 0);
	w = bare ? 1 : !gnu ? 9 : files ? 1 : 7;
	while (!bare && gnu && files && sum >= 10 && w < 20)
		w++, sum /= 10;
	for (int i = files ? 1 : 0; i < (files ? ac : 1); i++) {
		unsigned long v[3] = {0, 0, 0};
		const uint8_t *p = r->in;
		size_t n = r->in_len;
		k = SH_NONE;
		if (files) {
			if (av[i].n > 1 && av[i].p[0] == '-')
				continue;
			k = shellfs_look(r, av[i], path, &vf);
			if (k == SH_NONE) {
				shell_err(
				        r, "shell.err.wc_noent", av[0], av[i]);
				st = 1;
				continue;
			}
			if (k == SH_DIR)
				continue;
			n = shellfs_bytes(r, k, vf, path, &p);
		}
		sh_wc_count(p, n, v);
		v[2] = k == SH_BIN     ? shellfs_bin_size(path, NULL, NULL)
		       : k == SH_VFILE ? r->pv->f[vf].size
		                       : n;
		for (int b = 0; b < 3; b++)
			tot[b] += v[b];
		sh_wc_line(r, v, want, w, files ? (const char *)av[i].p : "",
		        files ? av[i].n : 0);
	}
	if (files > 1)
		sh_wc_line(r, tot, want, w, "total", 5);
	return st;
}
#else
int
shellfile_wc(struct sh_run *r, int ac, struct sh_arg *av)
{
	unsigned long v[3] = {0, 0, 0};
	unsigned want = 0, shown = 0;
	int files = 0;

	for (int i = 1; i < ac; i++)
		if (av[i].n > 1 && av[i].p[0] == '-')
			for (size_t j = 1; j < av[i].n; j++)
				want |= av[i].p[j] == 'l' ? 1u
				        : av[i].p[j] == 'w' ? 2u
				        : av[i].p[j] == 'c' ? 4u
				                            : 0u;
		else
			files++;
	if (!want)
		want = 7;
	for (int i = files ? 1 : 0; i < (files ? ac : 1); i++) {
		char path[SH_PATH];
		int vf, k;
		const uint8_t *p = r->in;
		size_t n = r->in_len;
		if (files) {
			if (av[i].n > 1 && av[i].p[0] == '-')
				continue;
			if ((k = shellfs_look(r, av[i], path, &vf)) ==
			                SH_NONE ||
			        k == SH_DIR)
				continue;
			n = shellfs_bytes(r, k, vf, path, &p);
		}
		sh_wc_count(p, n, v);
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
			shell_write(r, 1, " ", 1);
		shell_write(r, 1, pad + k, sizeof pad - k);
	}
	shell_write(r, 1, "\n", 1);
	return 0;
}

#endif

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

static const char sh_months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

#if LURE_SHELL_LINKS
/* the last entry sh_ls_stat() looked at: its shell.symlink target */
static const char *sh_ls_lnk;
static size_t sh_ls_lnkl;

/* path's target when shell.symlink ("PATH TARGET") makes it a link */
static const char *
sh_link(const char *path, size_t *n)
{
	size_t i = 0, pl = strlen(path);
	const struct persona_kv *kv;

	while ((kv = persona_next("shell.symlink", &i))) {
		const char *sp = memchr(kv->val, ' ', kv->len);
		if (sp && (size_t)(sp - kv->val) == pl &&
		        memcmp(kv->val, path, pl) == 0) {
			*n = kv->len - pl - 1;
			return sp + 1;
		}
	}
	return NULL;
}
#endif

/* What ls -l shows of dir/name: its kind, size (a directory's 4096),
 * whether it is executable and, for a binary, its date (*date NULL:
 * shell.ls_date's). */
static int
sh_ls_stat(struct sh_run *r, const char *dir, const char *name,
        unsigned long *size, int *x, const char **date, size_t *datel)
{
	char path[SH_PATH];
	int vf = -1, k;
	size_t dl = strlen(dir), nl = strlen(name);
	const uint8_t *fp;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		k = SH_DIR;
	} else if (!dl) { /* an operand: from the working directory */
		k = shellfs_look(r, sh_a(name), path, &vf);
	} else if (dl + nl + 2 >= SH_PATH) {
		k = SH_FILE;
		if (LURE_SHELL_FTMPL || LURE_SHELL_LINKS)
			path[0] = 0; /* shellfs_pdata(), sh_link() read it */
	} else {
		memcpy(path, dir, dl);
		path[dl] = '/';
		memcpy(path + (dl > 1 ? dl + 1 : 1), name, nl + 1);
		k = shellfs_kind(r->pv, path, &vf);
	}
	*size = 4096;
	*x = k == SH_BIN || (k == SH_VFILE && r->pv->f[vf].exec);
	if (k == SH_VFILE)
		*size = r->pv->f[vf].size;
	if (vf >= 0) /* written in this session (a file or a directory) */
		k |= (vf + 1) << 8;
	else if (k == SH_BIN)
		*size = shellfs_bin_size(path, date, datel);
	else if (k == SH_FILE) /* /proc's files: 0, made when read */
		*size = LURE_SHELL_FTMPL && strncmp(path, "/proc/", 6) == 0
		                ? 0
		                : (unsigned long)shellfs_pdata(path, &fp);
#if LURE_SHELL_LINKS
	sh_ls_lnk = vf < 0 ? sh_link(path, &sh_ls_lnkl) : NULL;
	if (sh_ls_lnk) { /* a link: its target's length, the install date */
		*size = sh_ls_lnkl;
		*x = 0;
		*date = NULL;
	}
#endif
	return k;
}

#if LURE_SHELL_GNU
/* GNU ls -h: ceiling, 1024s, one decimal under 10 ("4.0K", "69K"). */
static size_t
sh_human(unsigned long v, char *b)
{
	static const char units[] = "KMGT";
	unsigned long d = 1;
	int u = -1;

	if (v < 1024)
		return (size_t)fmt_snprintf(b, 16, "%lu", v);
	while (u < 3 && v / d >= 1024)
		d *= 1024, u++;
	if (v / d < 10 && (v * 10 + d - 1) / d < 100) {
		unsigned long t = (v * 10 + d - 1) / d;
		return (size_t)fmt_snprintf(
		        b, 16, "%lu.%lu%c", t / 10, t % 10, units[u]);
	}
	return (size_t)fmt_snprintf(b, 16, "%lu%c", (v + d - 1) / d, units[u]);
}
#endif

#if LURE_SHELL_LANG
/* ls -l's "total" line for a directory's listing (its blocks in KiB, as
 * BusyBox and GNU print it) and the size column's width: the widest size
 * with shell.gnu, else 0 (BusyBox's fixed columns). */
static int
sh_ls_total(struct sh_run *r, const char *dir, int hum)
{
	unsigned long kib = 0;
	int sw = 0, gnu = (int)shell_num("shell.gnu", 0);
	char b[32], h[16];

	(void)gnu, (void)hum;
	size_t hl;

	for (size_t x = 0; x < sh_ls_n; x++) {
		unsigned long size;
		const char *date;
		size_t dl;
		int ex;
		sh_ls_stat(r, dir, sh_ls_name[x], &size, &ex, &date, &dl);
		kib += (size + 4095) / 4096 * 4;
#if LURE_SHELL_LINKS
		if (sh_ls_lnk) /* a short link's target is in its inode */
			kib -= 4;
#endif
#if LURE_SHELL_GNU
		hl = hum ? sh_human(size, h)
		         : (size_t)fmt_snprintf(h, sizeof h, "%lu", size);
		if (gnu && (int)hl > sw)
			sw = (int)hl;
#endif
	}
	if (*dir) {
		hl = (size_t)fmt_snprintf(h, sizeof h, "%lu", kib);
#if LURE_SHELL_GNU
		if (gnu && hum)
			hl = sh_human(kib * 1024, h);
#endif
		shell_write(r, 1, b,
		        (size_t)fmt_snprintf(
		                b, sizeof b, "total %.*s\n", (int)hl, h));
	}
	return sw;
}
#endif

/* One ls entry; with -l, sw is the size column's width (GNU ls: the
 * widest of the listing's), 0 for BusyBox's fixed columns; hum: -h. */
static void
sh_ls_entry(struct sh_run *r, const char *dir, const char *name, int lng,
        int sw, int hum)
{
	unsigned long size;
	size_t tl;
	const char *t = NULL;
	int x, k = sh_ls_stat(r, dir, name, &size, &x, &t, &tl), vf = k >> 8;

	k &= 0xff;
	char b[48];

	if (!lng) {
		shell_puts(r, 1, name);
		return;
	}
	shell_puts(r, 1,
#if LURE_SHELL_LINKS
	        sh_ls_lnk ? "lrwxrwxrwx" :
#endif
	        k == SH_DIR ? "drwxr-xr-x"
	        : x         ? "-rwxr-xr-x"
	                    : "-rw-r--r--");
#if LURE_SHELL_GNU
	if (sw) {
		char h[16];
		size_t hl =
		        hum ? sh_human(size, h)
		            : (size_t)fmt_snprintf(h, sizeof h, "%lu", size);
		shell_write(r, 1, b,
		        (size_t)fmt_snprintf(b, sizeof b,
		                " %c root root %*s%.*s ",
		                k == SH_DIR ? '2' : '1', sw - (int)hl, "",
		                (int)hl, h));
	} else
#endif
		shell_write(r, 1, b,
		        (size_t)fmt_snprintf(b, sizeof b,
		                "    %c root     root     %9lu ",
		                k == SH_DIR ? '2' : '1', size));
	(void)hum;
	if (vf) { /* written in this session: a recent file's date */
		uint32_t s = r->pv->f[vf - 1].mtime;
		long y, m, d;
		fmt_civil_from_days((long)(s / 86400), &y, &m, &d);
		shell_write(r, 1, b,
		        (size_t)fmt_snprintf(b, sizeof b, "%.3s %2ld %02u:%02u",
		                sh_months + (m - 1) * 3, d, s / 3600 % 24,
		                s / 60 % 60));
	} else if (t || (t = shell_key("shell.ls_date", &tl))) {
		shell_write(r, 1, t, tl);
	}
	shell_write(r, 1, " ", 1);
	shell_puts(r, 1, name);
#if LURE_SHELL_LINKS
	if (sh_ls_lnk) {
		shell_write(r, 1, " -> ", 4);
		shell_write(r, 1, sh_ls_lnk, sh_ls_lnkl);
	}
#endif
}

/* Print the names gathered (sorted, dot files only with -a) as BusyBox
 * ls does on an 80-column tty: columns of the widest name + 2, filled down
 * first; -l and -1 one a line. */
static void
sh_ls_show(
        struct sh_run *r, const char *dir, int all, int lng, int one, int hum)
{
	size_t width = 0, cols, rows, o = 0;
	int sw = 0;

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
#if LURE_SHELL_LANG /* SHELL_LANG=0: x86_64 generic, BusyBox's columns */
	if (lng)
		sw = sh_ls_total(r, dir, hum);
#endif
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
				shell_write(r, 1, " ", 1);
				column++;
			}
			nexttab = column + width;
			sh_ls_entry(r, dir, sh_ls_name[x], lng, sw, hum);
			column += strlen(sh_ls_name[x]);
		}
		shell_write(r, 1, "\n", 1);
	}
}

/* ls [-a] [-l] [-1] [PATH...]: errors first, then the files named, then
 * each directory ("name:" when more than one path was given). */
int
shellfile_ls(struct sh_run *r, int ac, struct sh_arg *av)
{
	int all = 0, lng = 0, one = 0, hum = 0, st = 0, nargs = 0, shown = 0;
	char path[SH_PATH];
	int vf, k;

	for (int i = 1; i < ac; i++)
		if (av[i].n > 1 && av[i].p[0] == '-')
			for (size_t j = 1; j < av[i].n; j++)
				all |= av[i].p[j] == 'a',
				        lng |= av[i].p[j] == 'l',
				        one |= av[i].p[j] == '1',
				        hum |= av[i].p[j] == 'h';
		else
			nargs++;
	if (!nargs) {
		av = NULL;
		ac = 0;
	}
	for (int i = 1; i < ac; i++)
		if (!(av[i].n > 1 && av[i].p[0] == '-') &&
		        shellfs_look(r, av[i], path, &vf) == SH_NONE) {
			shell_err(r, "shell.err.ls_noent", av[0], av[i]);
			st = (int)shell_num("shell.ls_noent_status", 1);
		}
	sh_ls_n = 0;
	for (int i = 1; i < ac; i++)
		if (!(av[i].n > 1 && av[i].p[0] == '-') &&
		        (k = shellfs_look(r, av[i], path, &vf)) != SH_NONE &&
		        k != SH_DIR) {
			sh_ls_add((const char *)av[i].p, av[i].n);
			shown = 1;
		}
	if (shown)
		sh_ls_show(r, "", 1, lng, one, hum);
	for (int i = nargs ? 1 : 0; i < (nargs ? ac : 1); i++) {
		struct sh_arg a = nargs ? av[i] : sh_a(".");
		size_t pl;
		if (nargs && ((a.n > 1 && a.p[0] == '-') ||
		                     shellfs_look(r, a, path, &vf) != SH_DIR))
			continue;
		if (!nargs)
			shellfs_look(r, a, path, &vf);
		if (shown++)
			shell_write(r, 1, "\n", 1);
		if (nargs > 1) {
			shell_write(r, 1, a.p, a.n);
			shell_puts(r, 1, ":\n");
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
		sh_ls_show(r, path, all, lng, one, hum);
	}
	return st;
}

/* ---- files ----------------------------------------------------------- */

int
shellfile_chmod(struct sh_run *r, int ac, struct sh_arg *av)
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
		int vf, k = shellfs_look(r, av[i], path, &vf);
		if (k == SH_NONE) {
			shell_err(r, "shell.err.chmod_noent", av[0], av[i]);
			st = 1;
		} else if (k == SH_VFILE) {
			r->pv->f[vf].exec = (uint8_t)x;
		}
	}
	return st;
}

int
shellfile_rm(struct sh_run *r, int ac, struct sh_arg *av)
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
		k = shellfs_look(r, av[i], path, &vf);
		if (k == SH_NONE && !force) {
			shell_err(r, "shell.err.rm_noent", av[0], av[i]);
			st = 1;
		} else if (vf >= 0) {
			shellfs_free(r->pv, vf);
		}
		/* the device's own files "go" too, but stay listed: a gap
		 * the attacker's next ls shows, accepted for no state */
	}
	return st;
}

/* cp/mv SRC DST: a written file is copied; a binary becomes a file of its
 * size whose bytes are not kept (the Mirai "cp /bin/busybox x; >x"). */
int
shellfile_cp(struct sh_run *r, int ac, struct sh_arg *av)
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
	k = shellfs_look(r, a[0], src, &vf);
	if (k == SH_NONE || k == SH_DIR) {
		shell_err(r, "shell.err.cp_noent", av[0], a[0]);
		return 1;
	}
	d = shellfs_look(r, a[1], dst, &dv);
	dl = strlen(dst);
	if (d == SH_DIR) {
		const char *b = strrchr(src, '/') + 1;
		if (dl + 1 + strlen(b) >= SH_PATH)
			return 1;
		if (dl > 1)
			dst[dl++] = '/';
		memcpy(dst + dl, b, strlen(b) + 1);
	}
	if (!dl || !shellfs_parent_ok(r->pv, dst) ||
	        (dv = shellfs_create(r->pv, dst, 0)) < 0) {
		shell_err(r, "shell.err.cp_create", av[0], a[1]);
		return 1;
	}
	if (k == SH_VFILE && (vf = shellfs_find(r->pv, src)) >= 0) {
		struct sh_vfile *s = &r->pv->f[vf];
		uint8_t tmp[sizeof r->pv->pool];
		size_t n = s->len;
		memcpy(tmp, r->pv->pool + s->off, n);
		shellfs_append(r, dv, tmp, n);
		r->pv->f[dv].size = s->size;
		r->pv->f[dv].lost |= s->lost;
		r->pv->f[dv].exec = s->exec;
		if (shell_eq(av[0], "mv"))
			shellfs_free(r->pv, vf);
	} else if (k == SH_FILE) {
		const uint8_t *p;
		size_t n = shellfs_pdata(src, &p);
		shellfs_append(r, dv, p, n);
	} else {
		r->pv->f[dv].size = (uint32_t)shellfs_bin_size(src, NULL, NULL);
		r->pv->f[dv].lost = 1;
		r->pv->f[dv].exec = 1;
	}
	return 0;
}

int
shellfile_mkdir(struct sh_run *r, int ac, struct sh_arg *av)
{
	int st = 0, parents = 0;

	for (int i = 1; i < ac; i++)
		if (shell_eq(av[i], "-p"))
			parents = 1;
	for (int i = 1; i < ac; i++) {
		char path[SH_PATH];
		int vf, k;
		if (av[i].n > 1 && av[i].p[0] == '-')
			continue;
		k = shellfs_look(r, av[i], path, &vf);
		if (k != SH_NONE) {
			if (!parents) {
				shell_err(r, "shell.err.mkdir_exist", av[0],
				        av[i]);
				st = 1;
			}
		} else if (!shellfs_parent_ok(r->pv, path) ||
		           shellfs_create(r->pv, path, 1) < 0) {
			shell_err(r, "shell.err.mkdir_noent", av[0], av[i]);
			st = 1;
		}
	}
	return st;
}

int
shellfile_touch(struct sh_run *r, int ac, struct sh_arg *av)
{
	int st = 0;

	for (int i = 1; i < ac; i++) {
		char path[SH_PATH];
		int vf, k;
		if (av[i].n > 1 && av[i].p[0] == '-')
			continue;
		k = shellfs_look(r, av[i], path, &vf);
		if (k == SH_NONE &&
		        (!shellfs_parent_ok(r->pv, path) ||
		                shellfs_create(r->pv, path, 0) < 0)) {
			shell_err(r, "shell.err.touch_noent", av[0], av[i]);
			st = 1;
		}
	}
	return st;
}
