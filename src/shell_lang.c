/* shell_lang.c: the fake shell's language beyond words and commands (see
 * src/shell.c): the session's variables (NAME=value, export, unset),
 * $((...)) arithmetic, and the test / [ builtin. Compared with bash 5.2
 * and BusyBox 1.35's ash by test/persona/test_diff_shell.py.
 *
 * Variables: up to SH_VARS bytes of "NAME=value" per session (more are
 * dropped as they come); values stop at a NUL. Not modelled: field
 * splitting (outside a for list), readonly, local, arrays.
 * Arithmetic: 64-bit integers, decimal, 0x and 0 constants, variables by
 * name (with or without $), unary - + ! ~, * / % + - << >> < <= > >= == !=
 * & ^ | && ||, parentheses; not ?: nor assignments. A syntax error or a
 * division by zero is said and ends the line (status shell.arith_status).
 * test: ! ; one operand (non-empty); -n -z -e -f -d -x -r -w -s -h -L on
 * one; = == != -eq -ne -lt -le -gt -ge between two; more operands (-a,
 * -o) are false. */
#include <string.h>

#include "shell_int.h"

/* ---- variables ------------------------------------------------------- */

size_t
shellvar_name(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == '_' || (unsigned)((p[i] | 0x20) - 'a') < 26 ||
	                        (i && (unsigned)(p[i] - '0') < 10)))
		i++;
	return i;
}

/* an exported variable starts with SH_EXPORTED (with the environment's
 * code only: Makefile SHELL_ENV) */
static char *
sv_find(struct sh_priv *pv, const uint8_t *name, size_t n)
{
	for (char *v = pv->vars; *v; v += strlen(v) + 1) {
		const char *k = v + (LURE_SHELL_ENV && *v == SH_EXPORTED);
		if (memcmp(k, name, n) == 0 && k[n] == '=')
			return v;
	}
	return NULL;
}

const char *
shellvar_get(struct sh_priv *pv, const uint8_t *name, size_t n)
{
	char *v = sv_find(pv, name, n);

	return v ? v + n + 1 + (LURE_SHELL_ENV && *v == SH_EXPORTED) : NULL;
}

#if LURE_SHELL_ENV
void
shellvar_export(struct sh_priv *pv, const uint8_t *name, size_t n)
{
	char *e = sv_find(pv, name, n), *end;

	if (!e || *e == SH_EXPORTED)
		return;
	for (end = e; *end; end += strlen(end) + 1)
		;
	if ((size_t)(end - pv->vars) + 2 > sizeof pv->vars)
		return; /* no room for the mark: it stays the shell's */
	memmove(e + 1, e, (size_t)(end - e) + 1);
	*e = SH_EXPORTED;
}
#endif

void
shellvar_set(struct sh_priv *pv, const uint8_t *name, size_t n,
        const uint8_t *v, size_t vn)
{
	char *e = sv_find(pv, name, n);
	const uint8_t *z;
	int ex = LURE_SHELL_ENV && e && *e == SH_EXPORTED;

	if (e) {
		size_t l = strlen(e) + 1;
		memmove(e, e + l, sizeof pv->vars - (size_t)(e - pv->vars) - l);
	}
	if (!v)
		return;
	for (e = pv->vars; *e; e += strlen(e) + 1)
		;
	if ((z = memchr(v, 0, vn)))
		vn = (size_t)(z - v);
	if ((size_t)(e - pv->vars) + n + vn + 3 > sizeof pv->vars)
		return;
	memcpy(e, name, n);
	e[n] = '=';
	memcpy(e + n + 1, v, vn);
	e[n + 1 + vn] = e[n + 2 + vn] = 0;
#if LURE_SHELL_ENV
	if (ex) /* assigning keeps it exported */
		shellvar_export(pv, name, n);
#else
	(void)ex;
#endif
}

/* export NAME=value..., unset NAME... */
int
shellvar_cmd(struct sh_run *r, int ac, struct sh_arg *av)
{
	int unset = av[0].p[0] == 'u';

#if LURE_SHELL_ENV
	if (!unset && (ac == 1 || (ac == 2 && shell_eq(av[1], "-p"))))
		return shellenv_export(r);
#endif
	for (int i = 1; i < ac; i++) {
		size_t l = shellvar_name(av[i].p, av[i].n);
		if (!l)
			continue;
		if (unset)
			shellvar_set(r->pv, av[i].p, l, NULL, 0);
		else if (l < av[i].n && av[i].p[l] == '=')
			shellvar_set(r->pv, av[i].p, l, av[i].p + l + 1,
			        av[i].n - l - 1);
#if LURE_SHELL_ENV
		if (!unset)
			shellvar_export(r->pv, av[i].p, l);
#endif
	}
	return 0;
}

/* ---- $((...)) -------------------------------------------------------- */

struct ar {
	struct sh_run *r;
	const uint8_t *s;
	size_t n, i, tok; /* tok: where the last token read starts */
	int err; /* 1 syntax, 2 division by zero */
};

/* binary operators, longest first where they share a start */
static const struct {
	char op[3];
	uint8_t prec;
} ar_ops[] = {{"||", 1}, {"&&", 2}, {"|", 3}, {"^", 4}, {"&", 5}, {"==", 6},
        {"!=", 6}, {"<<", 8}, {">>", 8}, {"<=", 7}, {">=", 7}, {"<", 7},
        {">", 7}, {"+", 9}, {"-", 9}, {"*", 10}, {"/", 10}, {"%", 10}};

static int
ar_peek(struct ar *a)
{
	while (a->i < a->n &&
	        (a->s[a->i] == ' ' || a->s[a->i] == '\t' || a->s[a->i] == '\n'))
		a->i++;
	if (a->i < a->n && !a->err)
		a->tok = a->i;
	return a->i < a->n ? a->s[a->i] : -1;
}

static long long
ar_bin(struct ar *a, int min);

/* a constant: decimal, 0x hexadecimal, 0 octal (as C) */
static long long
ar_num(const uint8_t *p, size_t n, size_t *used)
{
	unsigned long long v = 0;
	unsigned base = 10, d;
	size_t i = 0;

	if (n > 1 && p[0] == '0') {
		base = (p[1] | 0x20) == 'x' ? 16 : 8;
		i = base == 16 ? 2 : 1;
	}
	for (; i < n; i++) {
		d = (unsigned)(p[i] - '0');
		if (d > 9)
			d = (unsigned)((p[i] | 0x20) - 'a') + 10;
		if (d >= base)
			break;
		v = v * base + d;
	}
	*used = i;
	return (long long)v;
}

static long long
ar_unary(struct ar *a)
{
	int c = ar_peek(a);
	size_t l;
	long long v;

	if (c < 0)
		return a->err = 1, 0;
	if (c == '(') {
		a->i++;
		v = ar_bin(a, 1);
		if (ar_peek(a) != ')')
			a->err = 1;
		a->i++;
		return v;
	}
	if (c == '-' || c == '+' || c == '!' || c == '~') {
		a->i++;
		v = ar_unary(a);
		return c == '-'   ? (long long)(0 - (unsigned long long)v)
		       : c == '!' ? !v
		       : c == '~' ? ~v
		                  : v;
	}
	if ((unsigned)(c - '0') < 10) {
		v = ar_num(a->s + a->i, a->n - a->i, &l);
		a->i += l;
		return v;
	}
	if (c == '$')
		a->i++;
	if ((l = shellvar_name(a->s + a->i, a->n - a->i))) {
		const char *s = shellvar_get(a->r->pv, a->s + a->i, l);
		size_t u;
		a->i += l;
		if (!s)
			return 0;
		v = ar_num((const uint8_t *)s + (*s == '-'), strlen(s), &u);
		return *s == '-' ? -v : v;
	}
	return a->err = 1, 0;
}

static long long
ar_bin(struct ar *a, int min)
{
	long long l = ar_unary(a), r;

	for (;;) {
		size_t k = 0, ol;
		unsigned long long ul;
		ar_peek(a);
		for (; k < sizeof ar_ops / sizeof ar_ops[0]; k++) {
			ol = ar_ops[k].op[1] ? 2 : 1;
			if (a->i + ol <= a->n &&
			        memcmp(a->s + a->i, ar_ops[k].op, ol) == 0)
				break;
		}
		if (a->err || k == sizeof ar_ops / sizeof ar_ops[0] ||
		        ar_ops[k].prec < min)
			return l;
		a->i += ol;
		r = ar_bin(a, ar_ops[k].prec + 1);
		ul = (unsigned long long)l;
		switch (ar_ops[k].op[0] * 2 + (ol == 2)) {
		case '|' * 2 + 1: l = l || r; break;
		case '&' * 2 + 1: l = l && r; break;
		case '|' * 2: l = l | r; break;
		case '^' * 2: l = l ^ r; break;
		case '&' * 2: l = l & r; break;
		case '=' * 2 + 1: l = l == r; break;
		case '!' * 2 + 1: l = l != r; break;
		case '<' * 2 + 1:
			l = ar_ops[k].op[1] == '<' ? (long long)(ul << (r & 63))
			                           : l <= r;
			break;
		case '>' * 2 + 1:
			l = ar_ops[k].op[1] == '>' ? l >> (r & 63) : l >= r;
			break;
		case '<' * 2: l = l < r; break;
		case '>' * 2: l = l > r; break;
		case '+' * 2:
			l = (long long)(ul + (unsigned long long)r);
			break;
		case '-' * 2:
			l = (long long)(ul - (unsigned long long)r);
			break;
		case '*' * 2:
			l = (long long)(ul * (unsigned long long)r);
			break;
		default: /* / % */
			if (!r)
				return a->err = 2, 0;
			if (r == -1) /* LLONG_MIN / -1 overflows */
				l = ar_ops[k].op[0] == '/' ? (long long)(0 - ul)
				                           : 0;
			else
				l = ar_ops[k].op[0] == '/' ? l / r : l % r;
		}
	}
}

/* The value of expression s[0..n) in decimal into buf (24 bytes); its
 * length. An error is said (shell.err.arith_syntax, .arith_zero: %a the
 * expression, %c its last token on) and ends the line. */
size_t
shell_arith(struct sh_run *r, const uint8_t *s, size_t n, char *buf)
{
	struct ar a = {r, s, n, 0, 0, 0};
	long long v = ar_bin(&a, 1);
	unsigned long long u;
	char d[24];
	size_t k = sizeof d;

	if (a.err || ar_peek(&a) >= 0) {
		struct sh_arg e = {s, n}, t = {s + a.tok, n - a.tok};
		while (t.n && t.p[t.n - 1] == ' ')
			t.n--;
		shell_err(r,
		        a.err == 2 ? "shell.err.arith_zero"
		                   : "shell.err.arith_syntax",
		        t, e);
		r->abort = (int)shell_num("shell.arith_status", 1);
		return 0;
	}
	u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
	do
		d[--k] = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		d[--k] = '-';
	memcpy(buf, d + k, sizeof d - k);
	return sizeof d - k;
}

/* ---- test, [ --------------------------------------------------------- */

/* a as a signed decimal into *v; 0 when it is not one */
static int
sh_int(struct sh_arg a, long long *v)
{
	size_t neg = a.n && a.p[0] == '-', u;

	*v = ar_num(a.p + neg, a.n - neg, &u);
	if (neg)
		*v = -*v;
	return a.n > neg && u == a.n - neg;
}

static int
sh_test_file(struct sh_run *r, uint8_t op, struct sh_arg a)
{
	char path[SH_PATH];
	int vf, k = shellfs_look(r, a, path, &vf);

	switch (op) {
	case 'f': return k == SH_FILE || k == SH_BIN || k == SH_VFILE;
	case 'd': return k == SH_DIR;
	case 'x':
		return k == SH_BIN || k == SH_DIR ||
		       (k == SH_VFILE && r->pv->f[vf].exec);
	case 's': return k != SH_NONE && (k != SH_VFILE || r->pv->f[vf].size);
	case 'h':
	case 'L': return 0;
	default: return k != SH_NONE; /* e r w */
	}
}

int
shell_test(struct sh_run *r, int ac, struct sh_arg *av)
{
	int neg = 0, t = 0;
	long long x, y;
	struct sh_arg av0 = av[0];

	if (av[0].p[0] == '[') {
		if (!shell_eq(av[ac - 1], "]")) {
			shell_err(r, "shell.err.test_bracket", av[0], av[0]);
			return 2;
		}
		ac--;
	}
	av++, ac--;
	while (ac > 1 && shell_eq(av[0], "!"))
		neg ^= 1, av++, ac--;
	if (ac == 1) {
		t = av[0].n > 0;
	} else if (ac == 2 && av[0].n == 2 && av[0].p[0] == '-') {
		uint8_t op = av[0].p[1];
		t = op == 'z'   ? !av[1].n
		    : op == 'n' ? av[1].n > 0
		                : sh_test_file(r, op, av[1]);
	} else if (ac == 3) {
		struct sh_arg o = av[1];
		if (shell_eq(o, "=") || shell_eq(o, "==") || shell_eq(o, "!="))
			t = (av[0].n == av[2].n &&
			            memcmp(av[0].p, av[2].p, av[0].n) == 0) ^
			    (o.p[0] == '!');
		else if (o.n == 3 && o.p[0] == '-') {
			int c = o.p[1] * 256 + o.p[2];
			for (int i = 0; i < 3; i += 2)
				if (!sh_int(av[i], i ? &y : &x)) {
					shell_err(r, "shell.err.test_int", av0,
					        av[i]);
					return 2;
				}
			t = c == 'e' * 256 + 'q'   ? x == y
			    : c == 'n' * 256 + 'e' ? x != y
			    : c == 'l' * 256 + 't' ? x < y
			    : c == 'l' * 256 + 'e' ? x <= y
			    : c == 'g' * 256 + 't' ? x > y
			    : c == 'g' * 256 + 'e' ? x >= y
			                           : 0;
		}
	}
	return !(t ^ neg);
}
