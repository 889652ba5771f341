/* shell_awk.c: the awk bots pipe into after a login (the fake shell's
 * applet, src/shell_cmd.c; with the shell's language only): `awk [-F SEP]
 * 'PROGRAM' [FILE...]`, the program one or more `[PATTERN] { print ITEMS }`
 * rules (`;` and blanks between), ITEMS fields ($N, $NF, $0), NR, NF and
 * "strings", a comma putting a space between two, juxtaposition none;
 * PATTERN `NR OP N` or `FNR OP N` (OP one of == != < <= > >=) or none. That
 * covers `awk '{print $4,$5;}'` and `awk 'FNR == 2 {print $2;}'` of the
 * common SSH bots. Anything else is a syntax error (shell.err.awk, %a the
 * program; a FILE that is not: shell.err.awk_noent) with the status
 * shell.awk_status (mawk 2, BusyBox 1). Compared with mawk and BusyBox's
 * awk by test/persona/test_diff_shell.py. */
#include <string.h>

#include "shell_int.h"

#define AWK_RULES 4
#define AWK_ITEMS 10

enum { A_FIELD, A_NF_FIELD, A_NR, A_NF, A_STR };

struct awk_item {
	uint8_t kind, comma; /* comma: a space before it */
	uint16_t n; /* field number; string: offset in the program */
	uint16_t len; /* string: length */
};

struct awk_rule {
	uint8_t op; /* 0: none, else the pattern's operator */
	unsigned long nr;
	struct awk_item it[AWK_ITEMS];
	uint8_t nit;
};

static size_t
awk_blank(struct sh_arg a, size_t i)
{
	while (i < a.n && (a.p[i] == ' ' || a.p[i] == '\t' || a.p[i] == ';' ||
	                          a.p[i] == '\n'))
		i++;
	return i;
}

static int
awk_is(struct sh_arg a, size_t i, const char *w)
{
	size_t n = strlen(w);
	return i + n <= a.n && memcmp(a.p + i, w, n) == 0;
}

static size_t
awk_num(struct sh_arg a, size_t *i)
{
	size_t v = 0;
	while (*i < a.n && (unsigned)(a.p[*i] - '0') < 10 && v < 100000)
		v = v * 10 + (size_t)(a.p[(*i)++] - '0');
	return v;
}

/* The program's rules into ru; how many, 0 on a syntax error. */
static int
awk_parse(struct sh_arg a, struct awk_rule *ru)
{
	static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">"};
	int nr = 0;
	size_t i = awk_blank(a, 0);

	while (i < a.n) {
		struct awk_rule *r = &ru[nr];
		if (nr == AWK_RULES)
			return 0;
		memset(r, 0, sizeof *r);
		if (awk_is(a, i, "NR") || awk_is(a, i, "FNR")) {
			i = awk_blank(a, i + (a.p[i] == 'F') + 2);
			for (size_t k = 0; k < 6; k++)
				if (awk_is(a, i, ops[k])) {
					r->op = (uint8_t)(k + 1);
					i += strlen(ops[k]);
					break;
				}
			i = awk_blank(a, i);
			if (!r->op || i >= a.n ||
			        (unsigned)(a.p[i] - '0') >= 10)
				return 0;
			r->nr = awk_num(a, &i);
			i = awk_blank(a, i);
		}
		if (i >= a.n || a.p[i] != '{')
			return 0;
		i = awk_blank(a, i + 1);
		if (!awk_is(a, i, "print"))
			return 0;
		i += 5;
		for (int comma = 0;;) {
			struct awk_item *t = &r->it[r->nit];
			while (i < a.n && (a.p[i] == ' ' || a.p[i] == '\t'))
				i++;
			if (i < a.n && a.p[i] == ',') {
				comma = 1, i++;
				continue;
			}
			if (i >= a.n || a.p[i] == ';' || a.p[i] == '}')
				break;
			if (r->nit == AWK_ITEMS)
				return 0;
			memset(t, 0, sizeof *t);
			t->comma = (uint8_t)comma;
			comma = 0;
			if (a.p[i] == '$') {
				i++;
				if (awk_is(a, i, "NF"))
					t->kind = A_NF_FIELD, i += 2;
				else if (i < a.n &&
				         (unsigned)(a.p[i] - '0') < 10)
					t->kind = A_FIELD,
					t->n = (uint16_t)awk_num(a, &i);
				else
					return 0;
			} else if (awk_is(a, i, "NR")) {
				t->kind = A_NR, i += 2;
			} else if (awk_is(a, i, "NF")) {
				t->kind = A_NF, i += 2;
			} else if (a.p[i] == '"') {
				size_t e = i + 1;
				while (e < a.n && a.p[e] != '"')
					e++;
				if (e >= a.n)
					return 0;
				t->kind = A_STR;
				t->n = (uint16_t)(i + 1);
				t->len = (uint16_t)(e - i - 1);
				i = e + 1;
			} else {
				return 0;
			}
			r->nit++;
		}
		i = awk_blank(a, i);
		if (i >= a.n || a.p[i] != '}')
			return 0;
		i = awk_blank(a, i + 1);
		nr++;
	}
	return nr;
}

/* The fields of line p[0..n) (split at sep, or at runs of blanks when sep
 * is 0) into f[0..AWK_FIELDS); their number */
#define AWK_FIELDS 32
static size_t
awk_split(const uint8_t *p, size_t n, uint8_t sep, struct sh_arg *f)
{
	size_t nf = 0, i = 0;

	while (i < n && nf < AWK_FIELDS) {
		size_t s;
		if (!sep)
			while (i < n && (p[i] == ' ' || p[i] == '\t'))
				i++;
		if (i >= n)
			break;
		s = i;
		while (i < n &&
		        (sep ? p[i] != sep : p[i] != ' ' && p[i] != '\t'))
			i++;
		f[nf].p = p + s;
		f[nf++].n = i - s;
		if (sep && i < n && ++i == n) /* "a:" has an empty last */
			f[nf].p = p + i, f[nf++].n = 0;
	}
	return nf;
}

static void
awk_line(struct sh_run *r, struct sh_arg prog, const struct awk_rule *ru,
        int nrules, const uint8_t *p, size_t n, unsigned long nr, uint8_t sep)
{
	struct sh_arg f[AWK_FIELDS];
	size_t nf = awk_split(p, n, sep, f);

	for (int k = 0; k < nrules; k++) {
		const struct awk_rule *ru1 = &ru[k];
		unsigned long w = ru1->nr;
		int op = ru1->op;
		if (op && !(op == 1         ? nr == w
		                  : op == 2 ? nr != w
		                  : op == 3 ? nr <= w
		                  : op == 4 ? nr >= w
		                  : op == 5 ? nr < w
		                            : nr > w))
			continue;
		if (!ru1->nit)
			shell_write(r, 1, p, n);
		for (int j = 0; j < ru1->nit; j++) {
			const struct awk_item *t = &ru1->it[j];
			size_t fi = t->kind == A_NF_FIELD ? nf : t->n;
			if (t->comma)
				shell_write(r, 1, " ", 1);
			if (t->kind == A_STR)
				shell_write(r, 1, prog.p + t->n, t->len);
			else if (t->kind == A_NR || t->kind == A_NF)
				shell_putu(r, 1, t->kind == A_NR ? nr : nf);
			else if (fi == 0)
				shell_write(r, 1, p, n);
			else if (fi <= nf)
				shell_write(r, 1, f[fi - 1].p, f[fi - 1].n);
		}
		shell_write(r, 1, "\n", 1);
	}
}

int
shellawk_run(struct sh_run *r, int ac, struct sh_arg *av)
{
	struct awk_rule ru[AWK_RULES];
	uint8_t sep = 0;
	int a = 1, nrules;
	unsigned long nr = 0;

	if (a < ac && av[a].n >= 2 && av[a].p[0] == '-' && av[a].p[1] == 'F') {
		if (av[a].n > 2)
			sep = av[a].p[2];
		else if (++a < ac && av[a].n)
			sep = av[a].p[0];
		a++;
	}
	if (a >= ac)
		return 2;
	nrules = awk_parse(av[a], ru);
	if (!nrules) {
		shell_err(r, "shell.err.awk", av[0], av[a]);
		return (int)shell_num("shell.awk_status", 2);
	}
	for (int i = a + 1; i <= ac; i++) {
		char path[SH_PATH];
		int vf, k;
		const uint8_t *p = r->in;
		size_t n = r->in_len, s = 0;
		if (i == ac && a + 1 < ac)
			break;
		if (i < ac) {
			k = shellfs_look(r, av[i], path, &vf);
			if (k == SH_NONE || k == SH_DIR) {
				shell_err(
				        r, "shell.err.awk_noent", av[0], av[i]);
				return (int)shell_num("shell.awk_status", 2);
			}
			n = shellfs_bytes(r, k, vf, path, &p);
		}
		for (size_t j = 0; p && j < n; j++)
			if (p[j] == '\n' || j + 1 == n) {
				size_t e = p[j] == '\n' ? j : j + 1;
				awk_line(r, av[a], ru, nrules, p + s, e - s,
				        ++nr, sep);
				s = j + 1;
			}
	}
	return 0;
}
