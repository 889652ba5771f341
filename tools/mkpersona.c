/* mkpersona: turn emu/personas/<name>/ into C tables (build-time tool).
 * usage: mkpersona <persona-dir> <name> > persona_data.c
 * Reads persona.conf, then every other *.conf in the directory in name
 * order (see src/persona.h for the syntax), and embeds every regular file
 * under files/ (recursively: "doc/page/login.asp") as a byte array. Exits 2
 * on a syntax error, naming file and line. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void
die(const char *file, int line, const char *msg)
{
	fprintf(stderr, "mkpersona: %s:%d: %s\n", file, line, msg);
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
static char ports[256][128];

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
			char tr[8], emu[64], opt[8] = "";
			int nf = sscanf(
			        v, "%u %7s %63s %7s", &port, tr, emu, opt);
			if (nf < 3 || port == 0 || port > 65535 ||
			        (strcmp(tr, "tcp") && strcmp(tr, "udp")) ||
			        (nf == 4 &&
			                (strcmp(opt, "tls") || tr[0] != 't')))
				die(path, line,
				        "port: want \"<1-65535> tcp|udp "
				        "<emulator> [tls]\" (tls: tcp only)");
			if (nports == 256)
				die(path, line, "too many ports");
			snprintf(ports[nports++], sizeof ports[0],
			        "{%u, %s, \"%s\", %d}", port,
			        tr[0] == 't' ? "EMU_TCP" : "EMU_UDP", emu,
			        nf == 4);
		}
		n = decode(v, path, line);
		printf("\t{\"%s\", %zu, ", k, strlen(k));
		emit_bytes((unsigned char *)v, n);
		printf(", %zu},\n", n);
		nkv++;
	}
	fclose(f);
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

static int
conf_name(const struct dirent *de)
{
	size_t n = strlen(de->d_name);
	return de->d_name[0] != '.' && n > 5 &&
	       strcmp(de->d_name + n - 5, ".conf") == 0 &&
	       strcmp(de->d_name, "persona.conf") != 0;
}

int
main(int argc, char **argv)
{
	char path[4096];
	struct dirent **confs;
	int nconfs;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: mkpersona DIR NAME\n");
		return 2;
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
	printf("\t{0, 0, 0, 0}};\nconst size_t persona_nkv = %zu;\n\n", nkv);
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
