/* shell_parse.c: the fake shell's parser. One line into commands and
 * their words (src/shell_int.h: struct sh_parse), the way sh splits it:
 * quotes and backslashes, $NAME ${...} $? $$ $0 and $((...)) (with the
 * language), $(...) and `...` run a level down (the executing pass only:
 * p->subst), ~, redirections, ; & && || | and newlines between commands,
 * "case WORD in" and its pattern lists (the ")" and ";;" of case items
 * are commands' ends of their own), bash's brace expansion on the
 * personas that ask for it (shell.brace), syntax errors with the token
 * that caused them. Running the commands, compound ones included, is
 * src/shell.c's. */
#include <string.h>

#include "fmt.h"
#include "identity.h"
#include "lure.h"
#include "shell_int.h"

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

static void
sh_emit_u(struct sh_parse *p, size_t v)
{
	char d[24];

	sh_emit(p, d, (size_t)fmt_snprintf(d, sizeof d, "%zu", v));
}

/* $NAME, ${NAME}, $?, $$, $0: the session's variables first */
static void
sh_var(struct sh_run *r, struct sh_parse *p, const uint8_t *v, size_t n)
{
	char b[SH_PATH];
	size_t l;
	const char *s = LURE_SHELL_LANG ? shellvar_get(r->pv, v, n) : NULL;

	if (n == 1 && v[0] == '?') {
		sh_emit_u(p, r->sh->last_status);
		return;
	}
#define SH_IS(lit) (n == sizeof lit - 1 && memcmp(v, lit, n) == 0)
	if (s) { /* the session set it */
	} else if (SH_IS("HOME")) {
		shellfs_home(r->sh, b, sizeof b);
		s = b;
	} else if (SH_IS("PWD")) {
		s = r->sh->cwd;
	} else if (SH_IS("USER") || SH_IS("LOGNAME")) {
		s = r->sh->user;
	} else if (SH_IS("0")) {
		s = shell_name(r, &l);
	} else if (SH_IS("PATH")) {
		s = shell_key("shell.path", &l);
	} else if (SH_IS("SHELL")) {
		s = shell_key("shell.path_sh", &l);
	} else if (SH_IS("$") && (s = shell_key("shell.pid", &l))) {
		identity_expand(s, l, b, sizeof b);
		s = b;
	}
#if LURE_SHELL_ENV
	else if ((s = shellenv_get(r, v, n, b, sizeof b))) { /* $MAIL... */
	}
#endif
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

/* $(...) or `...` at s[i]: when the pass executes, its text runs a level
 * down and its stdout (trailing newlines cut) goes into the word; $((...))
 * is worked out (src/shell_lang.c). Returns the index after it. */
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

	if (!p->subst)
		return end;
	if (s[i] == '(' && i + 1 < n && s[i + 1] == '(') { /* $((...)) */
		char d[24];
		if (LURE_SHELL_LANG && end - i >= 4 && s[end - 1] == ')' &&
		        s[end - 2] == ')')
			sh_emit(p, d,
			        shell_arith(r, s + i + 2, end - i - 4, d));
		return end;
	}
	if (lv + 1 >= SH_DEPTH)
		return end;
	b = end > a && end <= n && s[end - 1] == (s[i] == '`' ? '`' : ')')
	            ? end - 1
	            : end;
	caplen[lv] = 0;
	r->sink[1] = SINK_PIPE;
	r->pipe = cap[lv];
	r->pipe_len = &caplen[lv];
	shell_sub(r, s + a, b > a ? b - a : 0);
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
		/* ${NAME} ${#NAME} ${NAME-w} ${NAME=w} ${NAME+w}, and with
		 * ':' (empty counts as unset) */
		size_t st = p->used, k = i + 2, l;
		const uint8_t *nm;
		int len, set;
		for (j = k; j < n && s[j] != '}'; j++)
			;
		len = LURE_SHELL_LANG && k + 1 < j && s[k] == '#';
		k += (size_t)len;
		nm = s + k;
		l = shellvar_name(nm, j - k);
		if (!l && k < j)
			l = 1; /* ${?} ${$} ${0} */
		sh_var(r, p, nm, l);
		set = p->used > st ||
		      (LURE_SHELL_LANG && shellvar_get(r->pv, nm, l));
		k += l;
		if (len) {
			l = p->used - st;
			p->used = st;
			sh_emit_u(p, l);
		} else if (LURE_SHELL_LANG && k < j) {
			uint8_t op;
			if (s[k] == ':') {
				k++;
				set = p->used > st;
			}
			op = k < j ? s[k++] : 0;
			if (op == '+' || ((op == '-' || op == '=') && !set)) {
				p->used = st;
				while (k < j && (op != '+' || set))
					k = s[k] == '$'
					            ? sh_dollar(r, p, s, j, k)
					            : (sh_emit(p, s + k, 1),
					                      k + 1);
				if (op == '=')
					shellvar_set(r->pv, nm, l, p->text + st,
					        p->used - st);
			}
		}
		return j < n ? j + 1 : n;
	}
	if (s[i + 1] == '?' || s[i + 1] == '$' ||
	        (s[i + 1] >= '0' && s[i + 1] <= '9')) {
		sh_var(r, p, s + i + 1, 1);
		return i + 2;
	}
	j = i + 1 + shellvar_name(s + i + 1, n - i - 1);
	if (j == i + 1) {
		sh_emit(p, "$", 1);
		return i + 1;
	}
	sh_var(r, p, s + i + 1, j - i - 1);
	return j;
}

/* One word from s[*i] (not a blank or an operator) into p->w; returns its
 * index, -1 when the word table is full (the word is still consumed), -2
 * when it expanded to nothing unquoted (no word, as in sh). */
static int
sh_word(struct sh_run *r, struct sh_parse *p, const uint8_t *s, size_t n,
        size_t *ip)
{
	size_t i = *ip, start = p->used;
	int quoted = 0;

	if (LURE_SHELL_LANG && s[i] == '~' &&
	        (i + 1 == n || s[i + 1] == '/' || s[i + 1] == ' ' ||
	                s[i + 1] == '\t' || sh_is_op(s[i + 1]))) {
		char b[SH_PATH];
		sh_emit(p, b, shellfs_home(r->sh, b, sizeof b));
		i++;
	}
	while (i < n && s[i] != ' ' && s[i] != '\t' && !sh_is_op(s[i])) {
		uint8_t c = s[i];
		quoted |= c == '\\' || c == '\'' || c == '"';
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
	if (LURE_SHELL_LANG && !quoted && p->used == start)
		return -2; /* an unquoted word that expands to nothing */
	if (p->nw >= SH_ARGS) {
		p->used = start;
		return -1;
	}
	p->redir[p->nw] = 0;
	p->w[p->nw].off = (uint16_t)start;
	p->w[p->nw].len = (uint16_t)(p->used - start);
	return (int)p->nw++;
}

static const char *const sh_kws[] = {"if", "then", "elif", "else", "fi", "case",
        "esac", ";;", "for", "while", "until", "do", "done", "break",
        "continue", NULL};

int
shellparse_kw(struct sh_arg a)
{
	for (int k = 0; sh_kws[k]; k++)
		if (shell_eq(a, sh_kws[k]))
			return k;
	return -1;
}

#if LURE_SHELL_BRACE /* the personas that set shell.brace (Makefile) */
/* A {x..y} range's ends (numbers or single letters): 1 with *lo, *hi. */
static int
sh_range(const uint8_t *t, size_t n, long *lo, long *hi)
{
	size_t d = 0;
	long v[2];

	while (d + 1 < n && !(t[d] == '.' && t[d + 1] == '.'))
		d++;
	if (d + 1 >= n)
		return 0;
	for (int k = 0; k < 2; k++) {
		const uint8_t *a = k ? t + d + 2 : t;
		size_t an = k ? n - d - 2 : d, i = a[0] == '-';
		if (an == 1 && ((a[0] | 32) >= 'a' && (a[0] | 32) <= 'z')) {
			v[k] = -1000 - a[0]; /* a letter */
			continue;
		}
		if (an <= i || an - i > 6)
			return 0;
		for (v[k] = 0; i < an; i++) {
			if (a[i] < '0' || a[i] > '9')
				return 0;
			v[k] = v[k] * 10 + a[i] - '0';
		}
		if (a[0] == '-')
			v[k] = -v[k];
	}
	if ((v[0] <= -1000) != (v[1] <= -1000))
		return 0;
	*lo = v[0];
	*hi = v[1];
	return 1;
}

/* bash's brace expansion (shell.brace) of word w, typed as it is (no
 * quote, $ or `): its first {a,b,...} or {x..y} group into a word per
 * item in place, again on each, as far as the word table holds. */
static void
sh_brace(struct sh_parse *p, size_t w)
{
	for (size_t k = w; k < p->nw && k < w + SH_ARGS; k++) {
		const uint8_t *t = p->text + p->w[k].off;
		size_t n = p->w[k].len, o = 0, c = 0, depth = 0,
		       it[SH_ARGS + 1];
		size_t ni;
		long lo = 0, hi = 0, step;
		int range;
		for (size_t i = 0; i < n && !c; i++)
			if (t[i] == '{' && depth++ == 0)
				o = i;
			else if (t[i] == '}' && depth && --depth == 0)
				c = i;
		if (!c)
			continue;
		/* the items' starts, past its commas at the group's depth */
		ni = 0;
		it[ni++] = o + 1;
		depth = 0;
		for (size_t i = o + 1; i < c && ni < SH_ARGS; i++)
			if (t[i] == '{')
				depth++;
			else if (t[i] == '}')
				depth--;
			else if (t[i] == ',' && !depth)
				it[ni++] = i + 1;
		it[ni] = c + 1;
		if (ni == 1 && !sh_range(t + o + 1, c - o - 1, &lo, &hi))
			continue; /* {a}, {}: a word as it is */
		range = ni == 1;
		step = lo <= hi ? 1 : -1;
		if (range)
			ni = (size_t)((hi - lo) * step + 1);
		/* room for every word (a range's items: 7 bytes at most) */
		if (p->nw + ni - 1 > SH_ARGS ||
		        ni * (o + n - c - 1 + (range ? 7 : 0)) + (c - o) >
		                sizeof p->text - p->used)
			return;
		memmove(&p->w[k + ni], &p->w[k + 1],
		        (p->nw - k - 1) * sizeof p->w[0]);
		memmove(&p->redir[k + ni], &p->redir[k + 1], p->nw - k - 1);
		memset(&p->redir[k], 0, ni);
		for (size_t j = 0; j < ni; j++) {
			size_t start = p->used;
			long v = lo + (long)j * step;
			char b[8];
			sh_emit(p, t, o);
			if (!range)
				sh_emit(p, t + it[j], it[j + 1] - it[j] - 1);
			else if (v <= -1000) /* a letter */
				sh_emit(p, (b[0] = (char)(-1000 - v), b), 1);
			else
				sh_emit(p, b,
				        (size_t)fmt_snprintf(
				                b, sizeof b, "%ld", v));
			sh_emit(p, t + c + 1, n - c - 1);
			p->w[k + j].off = (uint16_t)start;
			p->w[k + j].len = (uint16_t)(p->used - start);
		}
		p->nw += ni - 1;
		k--; /* the first item again: its own groups */
	}
}
#endif

const char shellparse_newline[] = "newline", shellparse_eof[] = "newline";

/* End the command being read at byte i with separator sep; the next one
 * starts at byte i + ol. 0, or -1 when the table is full. */
static int
sh_next_cmd(struct sh_parse *p, struct sh_cmd **c, size_t i, size_t ol, int sep)
{
	(*c)->sep = (uint8_t)sep;
	(*c)->w1 = (uint8_t)p->nw;
	(*c)->s1 = (uint16_t)i;
	if (p->nc + 1 >= SH_CMDS)
		return -1;
	*c = &p->c[++p->nc];
	memset(*c, 0, sizeof **c);
	(*c)->out_w = (*c)->err_w = -1;
	(*c)->w0 = (uint8_t)p->nw;
	(*c)->s0 = (uint16_t)(i + ol);
	return 0;
}

#if LURE_SHELL_LANG
/* Is word w of p the text t? */
static int
sh_wis(const struct sh_parse *p, size_t w, const char *t)
{
	return p->w[w].len == strlen(t) &&
	       memcmp(p->text + p->w[w].off, t, p->w[w].len) == 0;
}
#endif

/* Split s[0..n) into commands. Returns 0, or -1 on a syntax error with the
 * unexpected token in *bad (*badn bytes). */
int
shellparse_split(struct sh_run *r, struct sh_parse *p, const uint8_t *s,
        size_t n, const char **bad, size_t *badn)
{
	struct sh_cmd *c;
	int empty = 1; /* current command has no word and no redirection */
#if LURE_SHELL_LANG
	int kw, wi;
	int pat = p->pat, incase = 0; /* a case pattern is due; cases open */
	int ntok = 0, bar = 1; /* the command's tokens; a "|" before this */
	int lead = 0, casew = 0; /* its leading reserved words; case's */
#endif

	p->nw = p->nc = p->used = 0; /* p->subst and p->pat are the caller's */
	c = &p->c[0];
	memset(c, 0, sizeof *c);
	c->out_w = c->err_w = -1;
	for (size_t i = 0; i < n;) {
		uint8_t ch = s[i];
		if (ch == ' ' || ch == '\t' || ch == '\r') {
			i++;
		} else if (ch == '#') { /* at a word's start: a comment */
			break;
#if LURE_SHELL_LANG
		} else if (pat && (ch == '|' || (ch == '(' && empty))) {
			i++; /* between patterns; before the first */
			bar = 1;
		} else if (pat && ch == ')') {
			if (empty) {
				*bad = (const char *)s + i;
				*badn = 1;
				return -1;
			}
			if (sh_next_cmd(p, &c, i, 1, SEP_PAT) < 0)
				break;
			i++;
			pat = ntok = lead = casew = 0;
			empty = 1;
		} else if (ch == ';' && i + 1 < n && s[i + 1] == ';' &&
		           (incase || p->subst)) {
			/* ";;" ends a case item: a command of its own */
			size_t w0 = p->used;
			if (!empty && sh_next_cmd(p, &c, i, 0, SEP_SEMI) < 0)
				break;
			sh_emit(p, ";;", 2);
			p->redir[p->nw] = 0;
			p->w[p->nw].off = (uint16_t)w0;
			p->w[p->nw++].len = 2;
			if (sh_next_cmd(p, &c, i + 2, 0, SEP_SEMI) < 0)
				break;
			i += 2;
			empty = pat = bar = 1;
			ntok = lead = casew = 0;
#endif
		} else if (ch == ';' || ch == '&' || ch == '|' || ch == '\n') {
			int sep = ch == ';' || ch == '\n' ? SEP_SEMI
			          : ch == '&'             ? SEP_BG
			                                  : SEP_PIPE;
			size_t ol = 1;
			if (ch == ';' && i + 1 < n && s[i + 1] == ';') {
				/* ";;" out of a case */
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
			if (sh_next_cmd(p, &c, i, ol, sep) < 0)
				break;
			i += ol;
			empty = 1;
#if LURE_SHELL_LANG
			ntok = lead = casew = 0;
#endif
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
				/* the input's end: ash's "end of file" */
				*bad = LURE_SHELL_LANG && i >= n
				               ? shellparse_eof
				       : i >= n || s[i] == '\n'
				               ? shellparse_newline
				               : (const char *)s + i;
				*badn = *bad != (const char *)s + i ? 7 : 1;
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
#if LURE_SHELL_LANG
			size_t i0 = i;
			if (pat && !bar) { /* two patterns with no "|" */
				while (i < n && s[i] != ' ' && s[i] != '\t' &&
				        !sh_is_op(s[i]))
					i++;
				*bad = (const char *)s + i0;
				*badn = i - i0;
				p->pat = 2; /* shell.err.syntax_pat */
				return -1;
			}
			bar = 0;
			ntok++;
#endif
#if LURE_SHELL_LANG
			wi =
#endif
			        sh_word(r, p, s, n, &i);
			empty = 0;
#if LURE_SHELL_LANG
			/* "case WORD in" (after reserved words only) ends a
			 * command, then a pattern list is due; "esac" in its
			 * place ends the case */
			kw = wi >= 0 ? shellparse_kw((struct sh_arg){
			                       p->text + p->w[wi].off,
			                       p->w[wi].len})
			             : -1;
#if LURE_SHELL_BRACE
			if (p->subst && wi >= 0) { /* the key built it in */
				size_t j = i0; /* a word typed as it is */
				while (j < i && !memchr("'\"$`\\~", s[j], 6))
					j++;
				if (j == i)
					sh_brace(p, (size_t)wi);
			}
#endif
			lead += kw >= 0 && ntok == lead + 1;
			if (kw == KW_CASE && ntok == lead)
				casew = ntok;
			if (p->subst) {
			} else if (pat && ntok == 1 && kw == KW_ESAC) {
				pat = 0;
				incase--;
			} else if (casew && ntok == casew + 2 && wi >= 0 &&
			           sh_wis(p, (size_t)wi, "in")) {
				if (sh_next_cmd(p, &c, i, 0, SEP_SEMI) < 0)
					break;
				empty = pat = bar = 1;
				ntok = lead = casew = 0;
				incase++;
			}
#endif
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
