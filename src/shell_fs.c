/* shell_fs.c: the file system the fake shell's commands see (see
 * shell_int.h): absolute paths from the cwd and "~"; the device's files
 * (the persona's files/fs/), binaries (shell.bin) and directories
 * (shell.dir, and the parents of both); the few files an attacker writes in
 * a session (a table and one byte pool in struct sh_priv); and the CPU's
 * ELF that reading a binary gives (shell.elf.*, documented in src/shell.c).
 */
#include <string.h>

#include "fmt.h"
#include "identity.h"
#include "lure.h"
#include "persona.h"
#include "shell_int.h"

/* ---- the file system: files/fs/, shell.bin, shell.dir, written files -- */

size_t
shellfs_home(const struct shell *sh, char *buf, size_t cap)
{
	size_t tl, k = 0;
	int root = strcmp(sh->user, "root") == 0;
	const char *t = shell_key(root ? "shell.home" : "shell.home_user", &tl);

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
size_t
shellfs_path(const struct shell *sh, const uint8_t *a, size_t n, char *out)
{
	char tmp[2 * SH_PATH + 2];
	size_t k = 0, o = 0;

	if (n >= SH_PATH || memchr(a, 0, n))
		return 0;
	if (n && a[0] == '~' && (n == 1 || a[1] == '/')) {
		k = shellfs_home(sh, tmp, SH_PATH);
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

const struct persona_file *
shellfs_pfile(const char *path)
{
	char name[SH_PATH + 4] = "fs";

	memcpy(name + 2, path, strlen(path) + 1);
	return persona_file(name);
}

#if LURE_SHELL_FTMPL
/* "S.CC": ms as seconds and hundredths */
static size_t
sh_secs(char *b, unsigned long long ms)
{
	return (size_t)fmt_snprintf(
	        b, 32, "%llu.%02llu", ms / 1000, ms / 10 % 100);
}

/* A shell.file_tmpl file's bytes made now: ${name} identities (a shadow
 * hash of this device's), %U the seconds since boot (the host's monotonic
 * clock, as uptime's %Y), %I the CPUs' idle seconds (shell.proc_idle
 * hundredths of a second per second), %% a percent sign. */
static size_t
sh_ftmpl(const struct persona_file *pf, const uint8_t **pp)
{
	static char x[2048], b[2048];
	size_t n = identity_expand(
	               (const char *)pf->data, pf->len, x, sizeof x),
	       o = 0;
	unsigned long long ms = lure_now();

	if (n >= sizeof x)
		n = sizeof x - 1;
	for (size_t i = 0; i < n; i++) {
		char v[32];
		size_t vl = 1;
		v[0] = x[i];
		if (x[i] == '%' && i + 1 < n) {
			switch (x[++i]) {
			case 'U': vl = sh_secs(v, ms); break;
			case 'I':
				vl = sh_secs(v,
				        ms * shell_num("shell.proc_idle", 100) /
				                100);
				break;
			case '%': break;
			default: v[1] = x[i], vl = 2;
			}
		}
		if (o + vl > sizeof b)
			break;
		memcpy(b + o, v, vl);
		o += vl;
	}
	*pp = (const uint8_t *)b;
	return o;
}

size_t
shellfs_pdata(const char *path, const uint8_t **pp)
{
	const struct persona_file *pf = shellfs_pfile(path);

	if (!pf) { /* ls -l of a path too long to look at */
		*pp = (const uint8_t *)"";
		return 0;
	}
	if (shell_listed(
	            "shell.file_tmpl", (const uint8_t *)path, strlen(path)))
		return sh_ftmpl(pf, pp);
	*pp = pf->data;
	return pf->len;
}
#endif

int
shellfs_find(const struct sh_priv *pv, const char *path)
{
	for (int i = 0; i < SH_VFILES; i++)
		if (pv->f[i].used && strcmp(pv->f[i].path, path) == 0)
			return i;
	return -1;
}

static int
sh_is_bin(const char *path)
{
	return shell_listed("shell.bin", (const uint8_t *)path, strlen(path));
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

int
shellfs_is_dir(const struct sh_priv *pv, const char *path)
{
	size_t pl = strlen(path);
	int i;

	if (pl == 1)
		return 1;
	if ((i = shellfs_find(pv, path)) >= 0)
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
			for (const char *v = kv->val; (v = fmt_strstr(v, pre));)
				if (v == kv->val || v[-1] == ' ')
					return 1;
				else
					v++;
	}
	return 0;
}

/* Does the parent directory of path exist? */
int
shellfs_parent_ok(const struct sh_priv *pv, const char *path)
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
	return shellfs_is_dir(pv, d);
}

int
shellfs_kind(const struct sh_priv *pv, const char *path, int *vf)
{
	int i = shellfs_find(pv, path);

	*vf = i;
	if (i >= 0)
		return pv->f[i].dir ? SH_DIR : SH_VFILE;
#if LURE_SHELL_DEVS
	if (shell_listed("shell.devnull", (const uint8_t *)path, strlen(path)))
		return SH_DEV;
#endif
	if (sh_is_bin(path))
		return SH_BIN;
	if (shellfs_pfile(path))
		return SH_FILE;
	return shellfs_is_dir(pv, path) ? SH_DIR : SH_NONE;
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

void
shellfs_free(struct sh_priv *pv, int i)
{
	sh_vf_unpool(pv, i);
	memset(&pv->f[i], 0, sizeof pv->f[i]);
}

/* A new empty file (or dir) at path; -1 when the table is full or the path
 * too long. An existing one is truncated. */
int
shellfs_create(struct sh_priv *pv, const char *path, int dir)
{
	int i = shellfs_find(pv, path);
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
	pv->f[i].mtime = (uint32_t)(lure_wall() / 1000);
	return i;
}

void
shellfs_append(struct sh_run *r, int fi, const uint8_t *p, size_t n)
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
	const char *interp = shell_key("shell.elf.interp", &il);
	unsigned long long size = shell_num("shell.elf.size", 0);
	unsigned long long entry = shell_num("shell.elf.entry", 0);
	unsigned type = (unsigned)shell_num("shell.elf.type", 2);
	unsigned long long base = type == 3 ? 0 : entry & ~0xffffULL;
	unsigned long long al = shell_num("shell.elf.align", 0x10000);
	unsigned long long ehs, phs, phoff, text, data, shnum = 27;
	unsigned phnum = interp ? 6 : 3;
	size_t dl;
	const char *d = shell_key("shell.elf.data", &dl);
	uint32_t x = 0x9e3779b9u;

	w.msb = d && dl == 3 && memcmp(d, "msb", 3) == 0;
	w.w64 = shell_num("shell.elf.class", 32) == 64;
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
	sh_put(&w, shell_num("shell.elf.osabi", 0), 1);
	for (int i = 0; i < 8; i++)
		sh_put(&w, 0, 1);
	sh_put(&w, type, 2);
	sh_put(&w, shell_num("shell.elf.machine", 0), 2);
	sh_put(&w, 1, 4);
	sh_puta(&w, entry);
	sh_puta(&w, phoff);
	sh_puta(&w, size - shnum * (w.w64 ? 64 : 40));
	sh_put(&w, shell_num("shell.elf.flags", 0), 4);
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

unsigned long
shellfs_bin_size(const char *path, const char **date, size_t *dl)
{
	unsigned long long s = shell_num("shell.elf.size", 0);
#if LURE_SHELL_GNU /* shell.bin_size "NAME SIZE DATE" */
	const char *b = strrchr(path, '/');
	const struct persona_kv *kv;
	size_t i = 0, n;

	b = b ? b + 1 : path;
	n = strlen(b);
	while ((kv = persona_next("shell.bin_size", &i))) {
		const char *v = kv->val, *e = v + n + 1;
		if (kv->len <= n || v[n] != ' ' || memcmp(v, b, n))
			continue;
		for (s = 0; *e >= '0' && *e <= '9'; e++)
			s = s * 10 + (unsigned)(*e - '0');
		if (date && *e == ' ')
			*date = e + 1, *dl = kv->len - (size_t)(e + 1 - v);
		return (unsigned long)s;
	}
#endif
	(void)path, (void)date, (void)dl;
	return (unsigned long)(s < 65536 ? 65536 : s);
}

/* ---- what commands ask: an argument's file, its bytes ------------------ */

/* Path of argument a into path[SH_PATH]; kind of file; vf index. */
int
shellfs_look(struct sh_run *r, struct sh_arg a, char *path, int *vf)
{
	*vf = -1;
	if (!shellfs_path(r->sh, a.p, a.n, path)) {
		path[0] = 0; /* too long, or a NUL: no such file */
		return SH_NONE;
	}
	return shellfs_kind(r->pv, path, vf);
}

#if LURE_SHELL_DEVS
/* Does reading the device never end? 1: zeros (shell.dev_zero), 2:
 * random bytes (shell.dev_random), 0: it reads empty. */
int
shellfs_dev_endless(const char *path)
{
	size_t n = strlen(path);

	return shell_listed("shell.dev_zero", (const uint8_t *)path, n)     ? 1
	       : shell_listed("shell.dev_random", (const uint8_t *)path, n) ? 2
	                                                                    : 0;
}
#endif

/* A file's bytes (a binary's first SH_BIN_OUT); returns the length. */
size_t
shellfs_bytes(struct sh_run *r, int kind, int vf, const char *path,
        const uint8_t **pp)
{
	static uint8_t elf[SH_BIN_OUT];
	const uint8_t *p = NULL;
	size_t n = 0;

	if (kind == SH_VFILE) {
		p = r->pv->pool + r->pv->f[vf].off;
		n = r->pv->f[vf].len;
	} else if (kind == SH_FILE) {
		n = shellfs_pdata(path, &p);
	} else if (kind == SH_BIN) {
		n = sh_elf(elf, sizeof elf);
		p = elf;
	}
#if LURE_SHELL_DEVS
	else if (kind == SH_DEV && shellfs_dev_endless(path)) {
		/* zeros (zero, full), else random bytes (random, urandom) */
		static uint32_t x = 2463534242u;
		int zero = shellfs_dev_endless(path) == 1;
		x ^= (uint32_t)lure_now();
		for (n = 0; n < sizeof elf; n++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			elf[n] = zero ? 0 : (uint8_t)x;
		}
		p = elf;
	}
#endif
	*pp = p;
	return n;
}

/* Print a file's bytes [off, off + max) to fd 1; returns how many. */
size_t
shellfs_print(struct sh_run *r, int kind, int vf, const char *path, size_t off,
        size_t max)
{
	const uint8_t *p;
	size_t n = shellfs_bytes(r, kind, vf, path, &p);

#if LURE_SHELL_DEVS
	if (kind == SH_DEV && n) { /* endless: its bytes again and again */
		size_t done = 0;
		while (done < max) {
			size_t k = max - done < n ? max - done : n;
			shell_write(r, 1, p, k);
			done += k;
		}
		return done;
	}
#endif
	if (off >= n)
		return 0;
	n -= off;
	if (n > max)
		n = max;
	shell_write(r, 1, p + off, n);
	return n;
}
