/* mkpersona: turn emu/personas/<name>/ into C tables (build-time tool).
 * usage: mkpersona <persona-dir> <name> [emulator...] > persona_data.c
 *        mkpersona --keys [emulator...]   (list the declared keys)
 * Reads persona.conf, then every other *.conf in the directory in name
 * order (see src/persona.h for the syntax) but the one named by the
 * environment's MKPERSONA_SKIP, and embeds every regular file
 * under files/ (recursively: "doc/page/login.asp") as a byte array.
 *
 * Every key must be declared by a module that reads it: emu/<e>.c for each
 * emulator named (the Makefile passes EMUS) and the files in mods[] below,
 * paths relative to the top of the tree. A declaration is a line of the
 * file's first comment, after the line that says "Persona keys", of the
 * form " *   key[ key...]  what it does": three spaces after the star,
 * then keys (lower-case words joined by dots, separated by a space or
 * ", "; a key without a dot needs two spaces after it). A word <port> is
 * any port of the persona that the declaring emulator serves, any other
 * <word> one word (banner.<port>, http.head.<kind>). "[required]" on the
 * line makes its keys required (per port for a <port> key), "[repeated]"
 * lets them appear more than once (else a second one is an error: only the
 * first is read). A TLS module's keys are required only when a port is
 * marked tls or starttls.
 * Exits 2 on a syntax error, an unknown key, a key repeated that may not
 * be, or a required key missing, naming file and line ("file:line: unknown
 * key "telnet.baner" (did you mean telnet.banner?)"). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void
die(const char *file, int line, const char *msg)
{
	if (line)
		fprintf(stderr, "%s:%d: %s\n", file, line, msg);
	else
		fprintf(stderr, "%s: %s\n", file, msg);
	exit(2);
}

static void
emit_bytes(const unsigned char *p, size_t n)
{
	printf("\"");
	for (size_t i = 0; i < n; i++) {
		printf("\\%03o", p[i]);
		if (i % 32 == 31 && i + 1 < n)
			printf("\"\n\t\"");
	}
	printf("\"");
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a value in place: bare rest of line, or a quoted C string. */
static size_t
decode(char *v, const char *file, int line)
{
	size_t n = 0;
	char *s = v;

	if (*s != '"') {
		n = strlen(s);
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		return n;
	}
	for (s++; *s && *s != '"'; s++) {
		if (*s != '\\') {
			v[n++] = *s;
			continue;
		}
		switch (*++s) {
		case 'r': v[n++] = '\r'; break;
		case 'n': v[n++] = '\n'; break;
		case 't': v[n++] = '\t'; break;
		case '0': v[n++] = 0; break;
		case '\\': v[n++] = '\\'; break;
		case '"': v[n++] = '"'; break;
		case 'x': {
			int a = hexval(s[1]), b = a < 0 ? -1 : hexval(s[2]);
			if (a < 0 || b < 0)
				die(file, line, "bad \\x escape");
			v[n++] = (char)(a * 16 + b);
			s += 2;
			break;
		}
		default: die(file, line, "unknown escape");
		}
	}
	if (*s != '"')
		die(file, line, "unterminated string");
	for (s++; *s == ' ' || *s == '\t'; s++)
		;
	if (*s && *s != '\n')
		die(file, line, "text after closing quote");
	return n;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t nkv, nports;
/* every distinct key once, each NUL-terminated: persona_keys[] (an entry
 * holds a 16-bit offset into it, not a pointer: 16 bytes on 64-bit
 * targets, not 24) */
static char keyblob[65536];
static size_t keyblob_len;

static size_t
key_offset(const char *k, const char *path, int line)
{
	size_t kl = strlen(k);

	for (size_t o = 0; o < keyblob_len; o += strlen(keyblob + o) + 1)
		if (strcmp(keyblob + o, k) == 0)
			return o;
	if (keyblob_len + kl + 1 > sizeof keyblob)
		die(path, line, "more than 64 KiB of keys");
	memcpy(keyblob + keyblob_len, k, kl + 1);
	keyblob_len += kl + 1;
	return keyblob_len - kl - 1;
}
static char ports[256][128];
static struct {
	unsigned port;
	char emu[64];
	int tls;
} pinfo[256];

/* Every key read, where, for the checks. */
static struct kvpos {
	char *key, *file;
	int line;
} * kvs;

static void
conf(const char *path)
{
	char buf[65536];
	int line = 0;
	FILE *f;

	if (!(f = fopen(path, "r"))) {
		fprintf(stderr, "mkpersona: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(buf, sizeof buf, f)) {
		char *k = buf, *v;
		size_t n;

		line++;
		if (!strchr(buf, '\n') && !feof(f))
			die(path, line, "line too long");
		buf[strcspn(buf, "\r\n")] = 0;
		while (*k == ' ' || *k == '\t')
			k++;
		if (!*k || *k == '#')
			continue;
		v = k + strcspn(k, " \t");
		if (*v)
			*v++ = 0;
		while (*v == ' ' || *v == '\t')
			v++;
		for (char *c = k; *c; c++)
			if (!(*c == '.' || *c == '_' ||
			            (*c >= 'a' && *c <= 'z') ||
			            (*c >= '0' && *c <= '9')))
				die(path, line, "bad key (use [a-z0-9._])");
		if (strcmp(k, "port") == 0) {
			unsigned port;
			char tr[8], emu[64], opt[12] = "";
			int nf = sscanf(
			        v, "%u %7s %63s %11s", &port, tr, emu, opt);
			int tls = nf < 4                     ? 0
			          : !strcmp(opt, "tls")      ? 1
			          : !strcmp(opt, "starttls") ? 2
			                                     : -1;
			if (nf < 3 || port == 0 || port > 65535 ||
			        (strcmp(tr, "tcp") && strcmp(tr, "udp")) ||
			        (nf == 4 && (tls < 0 || tr[0] != 't')))
				die(path, line,
				        "port: want \"<1-65535> tcp|udp "
				        "<emulator> [tls|starttls]\" (tcp "
				        "only)");
			if (nports == 256)
				die(path, line, "too many ports");
			pinfo[nports].port = port;
			memcpy(pinfo[nports].emu, emu, sizeof emu);
			pinfo[nports].tls = tls;
			snprintf(ports[nports++], sizeof ports[0],
			        "{%u, %s, \"%s\", %d}", port,
			        tr[0] == 't' ? "EMU_TCP" : "EMU_UDP", emu, tls);
		}
		if (nkv == 65000) /* src/persona.c keeps indexes in 16 bits */
			die(path, line, "more than 65,000 entries");
		if (!(kvs = realloc(kvs, (nkv + 1) * sizeof *kvs)) ||
		        !(kvs[nkv].key = strdup(k)) ||
		        !(kvs[nkv].file = strdup(path)))
			die(path, line, "out of memory");
		kvs[nkv].line = line;
		n = decode(v, path, line);
		printf("\t{.key = %zu, .klen = %zu, .val = ",
		        key_offset(k, path, line), strlen(k));
		emit_bytes((unsigned char *)v, n);
		printf(", .len = %zu},\n", n);
		nkv++;
	}
	fclose(f);
}

/* --- key declarations ----------------------------------------------------- */

/* The modules besides the emulators that read persona keys, each declaring
 * them in its first comment (the Makefile's PERSONA_KEYS lists them too, as
 * dependencies). */
enum { M_EMU, M_CORE, M_TLS };
static const struct {
	const char *path;
	int kind;
} mods[] = {
        {"src/persona.h", M_CORE}, /* persona.conf itself: port, hostname */
        {"src/identity.h", M_CORE}, /* identity.<name> */
        {"src/shell.c", M_CORE}, /* shell.* */
        {"src/certgen.c", M_TLS}, /* tls.cert.*: used with a tls port */
        {"src/conn_tls.c", M_TLS}, /* tls.handshake_timeout */
        {"src/ntlm.c", M_CORE}, /* ntlm.*: smb, rdp, tds */
};

enum { F_REQ = 1, F_REP = 2 };
static struct decl {
	char key[96];
	const char *file, *emu; /* emu: the emulator, NULL for a module */
	int line, flags, kind;
} decls[1024];
static size_t ndecls;
static int errors;

static void
err(const char *file, int line, const char *fmt, const char *a, const char *b)
{
	if (line)
		fprintf(stderr, "%s:%d: ", file, line);
	else
		fprintf(stderr, "%s: ", file);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	errors++;
}

/* Length of the key at s (0: none): [a-z0-9_] words or <word>s joined by
 * dots; *dots counts the dots. */
static size_t
key_len(const char *s, int *dots)
{
	size_t i = 0;

	*dots = 0;
	for (;;) {
		size_t w = i;
		if (s[i] == '<') {
			for (i++; s[i] >= 'a' && s[i] <= 'z'; i++)
				;
			if (s[i] != '>' || i == w + 1)
				return 0;
			i++;
		} else {
			while ((s[i] >= 'a' && s[i] <= 'z') ||
			        (s[i] >= '0' && s[i] <= '9') || s[i] == '_')
				i++;
			if (i == w)
				return 0;
		}
		if (s[i] != '.')
			return i;
		i++;
		(*dots)++;
	}
}

/* The flags of "[required]", "[repeated]", "[required, repeated]" in s. */
static int
flags_of(const char *s)
{
	int fl = 0;

	for (const char *b = strchr(s, '['); b; b = strchr(b + 1, '[')) {
		const char *p = b + 1;
		int f = 0;
		for (;;) {
			if (strncmp(p, "required", 8) == 0)
				f |= F_REQ, p += 8;
			else if (strncmp(p, "repeated", 8) == 0)
				f |= F_REP, p += 8;
			else
				break;
			if (*p == ']') {
				fl |= f;
				break;
			}
			if (strncmp(p, ", ", 2) != 0)
				break;
			p += 2;
		}
	}
	return fl;
}

static void
declare(const char *path, const char *emu, int kind)
{
	char buf[1024];
	int line = 0, in = 0;
	FILE *f;

	if (!(f = fopen(path, "r"))) {
		fprintf(stderr,
		        "mkpersona: %s: %s (run from the top of the "
		        "tree)\n",
		        path, strerror(errno));
		exit(2);
	}
	while (fgets(buf, sizeof buf, f)) {
		char *s = buf + 2;
		size_t sp = 0, n;
		int dots, flags, last;

		line++;
		buf[strcspn(buf, "\n")] = 0;
		if (strncmp(buf, line == 1 ? "/*" : " *", 2) != 0)
			break;
		last = strstr(buf + 2, "*/") != NULL;
		if (strstr(buf, "Persona keys"))
			in = 1;
		while (s[sp] == ' ' && sp < 4)
			sp++;
		if (!in || line == 1 || sp != 3 ||
		        !(n = key_len(s + sp, &dots)) ||
		        (s[sp + n] && s[sp + n] != ' ' && s[sp + n] != ',') ||
		        (!dots && strncmp(s + sp + n, "  ", 2) != 0)) {
			if (last)
				break;
			continue;
		}
		s += sp;
		flags = flags_of(s);
		for (;;) {
			if (ndecls == sizeof decls / sizeof decls[0] ||
			        n >= sizeof decls[0].key)
				die(path, line, "too many or too long keys");
			memcpy(decls[ndecls].key, s, n);
			decls[ndecls].key[n] = 0;
			decls[ndecls].file = path;
			decls[ndecls].emu = emu;
			decls[ndecls].line = line;
			decls[ndecls].flags = flags;
			decls[ndecls++].kind = kind;
			if (!dots)
				break;
			s += n;
			if (s[0] == ' ' && s[1] != ' ')
				s += 1;
			else if (s[0] == ',' && s[1] == ' ')
				s += 2;
			else
				break;
			if (!(n = key_len(s, &dots)) || !dots ||
			        (s[n] && s[n] != ' ' && s[n] != ','))
				break;
		}
		if (last)
			break;
	}
	fclose(f);
}

/* Is port p served by emulator emu (NULL: any emulator)? */
static int
port_of(unsigned p, const char *emu)
{
	for (size_t i = 0; i < nports; i++)
		if (pinfo[i].port == p && (!emu || !strcmp(pinfo[i].emu, emu)))
			return 1;
	return 0;
}

/* Does key match declaration d? A <port> word must be a port of d's
 * emulator, and port itself when port is not 0. */
static int
match(const char *key, const struct decl *d, unsigned port)
{
	const char *p = d->key, *k = key;

	for (;;) {
		size_t pl = strcspn(p, "."), kl = strcspn(k, ".");
		if (*p == '<') {
			char *end;
			unsigned long v = strtoul(k, &end, 10);
			if (!kl)
				return 0;
			if (strncmp(p, "<port>", 6) == 0 &&
			        (end != k + kl || *k == '0' || v > 65535 ||
			                !port_of((unsigned)v, d->emu) ||
			                (port && v != port)))
				return 0;
		} else if (pl != kl || memcmp(p, k, kl) != 0) {
			return 0;
		}
		p += pl;
		k += kl;
		if (!*p || !*k)
			return !*p && !*k;
		p++;
		k++;
	}
}

/* Levenshtein distance, for "did you mean". */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[128];

	if (la >= 128 || lb >= 128)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j],
			       best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* d's key with its <word>s taken from key where the word counts agree. */
static void
spell(const struct decl *d, const char *key, char *out, size_t cap)
{
	const char *p = d->key, *k = key;
	size_t o = 0;

	for (;;) {
		size_t pl = strcspn(p, "."), kl = strcspn(k, ".");
		const char *w = *p == '<' && kl ? k : p;
		size_t wl = w == k ? kl : pl;
		if (o + wl + 2 >= cap)
			break;
		memcpy(out + o, w, wl);
		o += wl;
		p += pl;
		k += kl;
		if (!*p)
			break;
		out[o++] = *p++;
		if (*k)
			k++;
	}
	out[o] = 0;
}

static int
tls_port(void)
{
	for (size_t i = 0; i < nports; i++)
		if (pinfo[i].tls)
			return 1;
	return 0;
}

static void
check_unknown(size_t i, char **emus, int nemus)
{
	const char *key = kvs[i].key;
	char best[128] = "", s[128], why[160] = "";
	size_t bd = (size_t)-1, d;
	const struct decl *bdecl = NULL;
	FILE *f;

	for (size_t j = 0; j < ndecls; j++) {
		spell(&decls[j], key, s, sizeof s);
		if ((d = distance(key, s)) < bd) {
			bd = d;
			bdecl = &decls[j];
			snprintf(best, sizeof best, "%s", s);
		}
	}
	if (bd <= 3 && bd * 3 <= strlen(key) && strcmp(best, key) != 0) {
		snprintf(why, sizeof why, " (did you mean %s?)", best);
	} else if (bdecl && strcmp(best, key) == 0) { /* a <port> misfit */
		if (bdecl->emu)
			snprintf(why, sizeof why,
			        " (not a port of emulator %s here)",
			        bdecl->emu);
		else
			snprintf(why, sizeof why,
			        " (not a port of this persona)");
	} else { /* an emulator's key, that emulator not in this persona */
		int pl = (int)strcspn(key, "."), used = 0;
		for (int e = 0; e < nemus; e++)
			used |= (int)strlen(emus[e]) == pl &&
			        !strncmp(emus[e], key, (size_t)pl);
		snprintf(s, sizeof s, "emu/%.*s.c", pl, key);
		if (!used && (f = fopen(s, "r"))) {
			fclose(f);
			snprintf(why, sizeof why,
			        " (emulator %.*s serves no port here)", pl,
			        key);
		}
	}
	err(kvs[i].file, kvs[i].line, "unknown key \"%s\"%s", key, why);
}

static void
check(const char *dir, char **emus, int nemus)
{
	char path[4096], file[4200];

	for (size_t i = 0; i < nkv; i++) {
		int found = 0, flags = 0;
		for (size_t j = 0; j < ndecls; j++)
			if (match(kvs[i].key, &decls[j], 0)) {
				found = 1;
				flags |= decls[j].flags;
			}
		if (!found) {
			check_unknown(i, emus, nemus);
			continue;
		}
		if (flags & F_REP) /* declared [repeated] anywhere */
			continue;
		for (size_t j = 0; j < i; j++)
			if (strcmp(kvs[j].key, kvs[i].key) == 0) {
				snprintf(path, sizeof path, "%s:%d",
				        kvs[j].file, kvs[j].line);
				err(kvs[i].file, kvs[i].line,
				        "key \"%s\" given twice (first at %s): "
				        "only the first is read",
				        kvs[i].key, path);
				break;
			}
	}
	for (size_t j = 0; j < ndecls; j++) {
		const struct decl *d = &decls[j];
		unsigned want[257];
		size_t nw = 0;

		if (!(d->flags & F_REQ) || (d->kind == M_TLS && !tls_port()))
			continue;
		if (strstr(d->key, "<port>")) {
			for (size_t p = 0; p < nports; p++)
				if (!d->emu || !strcmp(pinfo[p].emu, d->emu))
					want[nw++] = pinfo[p].port;
		} else {
			want[nw++] = 0;
		}
		for (size_t w = 0; w < nw; w++) {
			size_t i = 0;
			char k[128];
			while (i < nkv && !match(kvs[i].key, d, want[w]))
				i++;
			if (i < nkv)
				continue;
			if (!want[w]) {
				snprintf(k, sizeof k, "%.96s", d->key);
			} else { /* the port in place of <port> */
				const char *lt = strstr(d->key, "<port>");
				snprintf(k, sizeof k, "%.*s%u%s",
				        (int)(lt - d->key), d->key, want[w],
				        lt + 6);
			}
			/* where it belongs: <first word>.conf if the persona
			 * has one, else persona.conf */
			snprintf(file, sizeof file, "%s/%.*s.conf", dir,
			        (int)strcspn(k, "."), k);
			FILE *f = fopen(file, "r");
			if (f)
				fclose(f);
			else
				snprintf(file, sizeof file, "%s/persona.conf",
				        dir);
			snprintf(path, sizeof path, "%s:%d", d->file, d->line);
			err(file, 0,
			        "missing required key \"%s\" (declared at %s)",
			        k, path);
		}
	}
}

static char *names[4096];
static size_t nnames;

/* Collect regular files under root/rel, names relative to root. */
static void
walk(const char *root, const char *rel)
{
	char path[8200], sub[4096];
	struct dirent *de;
	struct stat st;
	DIR *d;

	snprintf(path, sizeof path, "%s/%s", root, rel);
	if (!(d = opendir(path)))
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "",
		        de->d_name);
		snprintf(path, sizeof path, "%s/%s", root, sub);
		if (stat(path, &st) < 0)
			die(path, 0, strerror(errno));
		if (S_ISDIR(st.st_mode))
			walk(root, sub);
		else if (S_ISREG(st.st_mode)) {
			if (nnames == sizeof names / sizeof names[0])
				die(path, 0, "too many files");
			names[nnames++] = strdup(sub);
		}
	}
	closedir(d);
}

/* *.conf but persona.conf (read first) and $MKPERSONA_SKIP (the
 * Makefile's: shell_lang.conf in a build without the shell's language) */
static int
conf_name(const struct dirent *de)
{
	size_t n = strlen(de->d_name);
	const char *skip = getenv("MKPERSONA_SKIP");
	return de->d_name[0] != '.' && n > 5 &&
	       strcmp(de->d_name + n - 5, ".conf") == 0 &&
	       strcmp(de->d_name, "persona.conf") != 0 &&
	       !(skip && strcmp(de->d_name, skip) == 0);
}

int
main(int argc, char **argv)
{
	char path[4096];
	struct dirent **confs;
	int nconfs, keys = argc > 1 && strcmp(argv[1], "--keys") == 0;
	int first = keys ? 2 : 3;
	FILE *f;

	if (argc < 3 && !keys) {
		fprintf(stderr, "usage: mkpersona DIR NAME [EMULATOR...]\n"
		                "       mkpersona --keys [EMULATOR...]\n");
		return 2;
	}
	for (int i = first; i < argc; i++) {
		static char epath[64][128];
		if (i - first == 64 || strlen(argv[i]) > 100)
			die(argv[i], 0, "too many or too long emulator names");
		snprintf(
		        epath[i - first], sizeof epath[0], "emu/%s.c", argv[i]);
		declare(epath[i - first], argv[i], M_EMU);
	}
	for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++)
		declare(mods[i].path, NULL, mods[i].kind);
	if (keys) {
		for (size_t i = 0; i < ndecls; i++)
			printf("%s:%d: %s%s%s\n", decls[i].file, decls[i].line,
			        decls[i].key,
			        decls[i].flags & F_REQ ? " [required]" : "",
			        decls[i].flags & F_REP ? " [repeated]" : "");
		return 0;
	}
	printf("/* generated by tools/mkpersona from %s: do not edit */\n",
	        argv[1]);
	printf("#include \"persona.h\"\n#include \"emu.h\"\n\n");
	printf("const char persona_name[] = \"%s\";\n\n", argv[2]);
	printf("const struct persona_kv persona_kv[] = {\n");
	snprintf(path, sizeof path, "%s/persona.conf", argv[1]);
	conf(path);
	nconfs = scandir(argv[1], &confs, conf_name, alphasort);
	for (int i = 0; i < nconfs; i++) {
		snprintf(path, sizeof path, "%s/%s", argv[1], confs[i]->d_name);
		conf(path);
	}
	check(argv[1], argv + first, argc - first);
	if (errors)
		return 2;
	printf("\t{0, 0, 0, 0}};\nconst size_t persona_nkv = %zu;\n", nkv);
	printf("const char persona_keys[] =");
	for (size_t o = 0; o < keyblob_len; o += strlen(keyblob + o) + 1)
		printf("\n\t\"%s\\0\"", keyblob + o);
	printf(keyblob_len ? ";\n\n" : " \"\";\n\n");
	printf("const struct persona_port persona_ports[] = {\n");
	for (size_t i = 0; i < nports; i++)
		printf("\t%s,\n", ports[i]);
	printf("\t{0, 0, 0, 0}};\nconst size_t persona_nports = %zu;\n\n",
	        nports);

	snprintf(path, sizeof path, "%s/files", argv[1]);
	walk(path, "");
	qsort(names, nnames, sizeof names[0], cmp);
	for (size_t i = 0; i < nnames; i++) {
		static unsigned char data[1 << 20];
		size_t n;
		snprintf(path, sizeof path, "%s/files/%s", argv[1], names[i]);
		if (!(f = fopen(path, "rb")))
			die(path, 0, strerror(errno));
		n = fread(data, 1, sizeof data, f);
		if (!feof(f))
			die(path, 0, "file larger than 1 MiB");
		fclose(f);
		printf("static const unsigned char file%zu[] =\n\t", i);
		emit_bytes(data, n);
		printf(";\n");
	}
	printf("const struct persona_file persona_files[] = {\n");
	for (size_t i = 0; i < nnames; i++)
		printf("\t{\"%s\", file%zu, sizeof file%zu - 1},\n", names[i],
		        i, i);
	printf("\t{0, 0, 0}};\nconst size_t persona_nfiles = %zu;\n", nnames);
	return 0;
}
