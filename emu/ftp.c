/* ftp.c: an FTP server (vsftpd 3.0.3 as Debian 12 ships it, by persona
 * data): the greeting, USER/PASS with the daemon's failure delay and tries,
 * what it answers before and after a login, its line limit and idle
 * time-out; passive data connections (the core's, src/conn_side.h) carry
 * listings and the persona's files. A "login" event per PASS; every other
 * line is a "command" event.
 *
 * Persona keys. Replies are wire bytes with "%" expansions: %w working
 * directory, %u user, %a client address, %t "BINARY"/"ASCII", %n a number
 * (REST's offset, a file's size), %o one in octal (the umask), %f the file
 * RETR names, %P the PASV address and port as
 * "h1,h2,h3,h4,p1,p2", %E EPSV's port, %% '%'.
 *   ftp.greeting             [required] sent on connect
 *   ftp.r.<word>             a reply (the words: below and in the persona)
 *   ftp.fixed                [repeated] "VERB reply": a fixed answer after
 *                            the login (SYST, FEAT, HELP, NOOP...)
 *   ftp.fixed_pre            [repeated] the same before it (FEAT)
 *   ftp.denied               verbs answered ftp.r.denied after a login
 *                            (space-separated: STOR DELE MKD... with
 *                            write_enable=NO)
 *   ftp.accept               [repeated] "USER:PASSWORD" ("*" for any) that
 *                            log in, as ssh.accept
 *   ftp.deny                 users refused whatever the password
 *                            (space-separated: Debian's /etc/ftpusers)
 *   ftp.home                 the working directory after a login ("%u")
 *   ftp.dir                  directories CWD enters (space-separated; "/"
 *                            and the home always)
 *   ftp.umask                SITE UMASK's value (octal, "077")
 *   ftp.fail_delay_ms        3000: a failed PASS is answered after this,
 *                            input held
 *   ftp.max_fails            3 failed logins, then close (0: no limit)
 *   ftp.idle_ms              300000: silence, then ftp.r.timeout and close
 *   ftp.accept_timeout_ms    60000: after PASV, LIST/NLST/RETR wait this
 *                            for the client's data connection (input held)
 *   ftp.data_timeout_ms      300000: a transfer that has not ended by then
 *                            gets ftp.r.data_timeout
 *   ftp.writable             directories the user may write in besides
 *                            the home (space-separated), with
 *                            write commands not in ftp.denied
 *   ftp.ids                  "<uid> <gid>" of the files the user makes,
 *                            as LIST shows them ("1000 1000")
 *   ftp.upload_max           67108864: bytes of an upload hashed (the
 *                            rest is read and counted, not hashed)
 *   ftp.list ftp.nlst        [repeated] "<directory><TAB><bytes>": what LIST
 *                            and NLST send in that working directory (none:
 *                            an empty listing)
 *
 * Events: "login" per PASS after a USER: user.name, lure.auth.password,
 * event.outcome (success only for a pair ftp.accept lists whose user
 * ftp.deny does not name). Every other line but a USER before the login
 * (its name is in the login event) is a "command":
 * lure.command (the line, CR LF cut), user.name once logged in; PORT and
 * EPRT add lure.ftp.data_ip and lure.ftp.data_port (the address the client
 * asked to be connected to: never contacted). Lines beyond FTP_LINE bytes
 * end with ftp.r.too_long and a close.
 *
 * Compared byte for byte with Debian 12's vsftpd 3.0.3-13+b2 on 127.0.0.1
 * with the stock /etc/vsftpd.conf (anonymous_enable=NO, local_enable=YES,
 * PAM with pam_listfile on /etc/ftpusers) and write_enable=YES:
 * test/persona/test_diff_ftp.py sends the same inputs to both, logged in
 * as a real account on the machine for the transfers.
 * - A line ends at LF; trailing CRs go; an empty line gets no answer; the
 *   verb is the text before the first space, any case; 4096 bytes without
 *   an LF: "500 Input line too long." and close.
 * - Before a login: USER (331 even for root or anonymous), PASS (503
 *   without a USER), QUIT, FEAT, OPTS; anything else "530 Please login
 *   with USER and PASS.". A failed PASS: about 3 s (vsftpd's 1 s and PAM's
 *   2 s) then "530 Login incorrect.", the third closes. root is refused
 *   with its right password (pam_listfile on /etc/ftpusers).
 * - After it: PWD, CWD/CDUP (ftp.dir), TYPE (ASCII until changed), MODE,
 *   STRU, REST (whole digits, else 0), OPTS, SITE UMASK/HELP/CHMOD, STAT,
 *   USER/PASS again; ftp.denied's verbs denied.
 * - PORT/EPRT are checked as vsftpd checks them (6 numbers up to 255, the
 *   client's own address, a port from 1024; EPRT's '|' fields and
 *   protocol) and answered 200; the LIST or NLST that follows gets
 *   "425 Failed to establish connection." at once, as when the client's
 *   port is closed: lure never connects out. PASV/EPSV (protocol 1, or 2
 *   over IPv6, read as atoi() does; PASV over IPv6 names 0,0,0,0) open a
 *   listener of the core on a random port from 1024 (vsftpd's
 *   pasv_min_port 0), for the client's address only; LIST, NLST and RETR
 *   then send "150", the listing (ftp.list, ftp.nlst, and what the
 *   session made there) or the persona's file (files/fs/<path>, relative
 *   to the working directory), close the data connection and send "226"
 *   ("426" when the client closed it first); with no connection by
 *   ftp.accept_timeout_ms, "425 Failed to establish connection.". A RETR
 *   of a file the persona lacks gets "550 Failed to open file." first.
 * - Uploads (STOR, APPE, STOU) where the user may store files (the home,
 *   ftp.writable, what it made; else "553 Could not create file."): "150",
 *   the bytes hashed as they come (SHA-256, up to ftp.upload_max), "226"
 *   when the client closes, and an "upload" event: file.path, file.name,
 *   file.size, file.hash.sha256 (lure.truncated past the cap instead),
 *   user.name, lure.ftp.append. The session remembers FTP_MADE files and
 *   directories it made (MKD): LIST/NLST show them (mode, umask, SITE
 *   CHMOD), SIZE, MDTM, DELE, RMD, RNFR/RNTO and CWD act on them; the
 *   persona's own files are not the user's (those fail as for another
 *   owner's).
 * Not modelled: an upload's bytes are not kept (RETR of it fails as for
 *   a missing file), nor are the session's files seen by another
 *   connection; past FTP_MADE, writes are answered but not remembered;
 *   PORT/EPRT transfers (lure never connects out); SIZE, MDTM and STAT
 *   <path> of the persona's files
 *   (answered as for a missing file); REST offsets in RETR; ".." in RETR
 *   paths; a PASV connection from another address is closed unanswered
 *   (vsftpd also answers "425 Security: Bad IP connecting."); EPSV ALL does
 *   not refuse a later PORT; a user name longer than FTP_USER bytes is cut
 *   (the login fails). */
#include <string.h>

#include "emu.h"
#include "fmt.h"
#include "hash.h"
#include "lure.h"
#include "persona.h"

#define FTP_LINE 4096 /* vsftpd's VSFTP_MAX_COMMAND_LINE, LF included */
#define FTP_USER 64 /* bytes of the user name kept */
#define FTP_CWD 160 /* bytes of the working directory */
#define FTP_REPLY 512 /* longest expanded reply */
#define FTP_LINGER_MS 20 /* input still read after a line too long */

enum ftp_data { FD_NONE, FD_PORT, FD_PASV };
/* waiting: a failed login's delay, the data connection, its transfer */
enum ftp_wait { FW_NONE, FW_FAIL, FW_ACCEPT, FW_XFER };
enum ftp_xfer { FX_LIST = 1, FX_NLST, FX_RETR, FX_STOR, FX_APPE, FX_STOU };

#define FTP_MADE 4 /* files and directories a session made, remembered */
#define FTP_NAME 60 /* bytes of such a path */

struct ftp_made {
	char path[FTP_NAME];
	uint32_t size, mtime; /* bytes; Unix time */
	uint16_t mode; /* permission bits */
	uint8_t len, dir;
};

struct ftp_state {
	int64_t idle_at, wake_at;
	uint8_t logged, fails, type_i, data, wait, user_set, user_cut, done;
	uint8_t side_open, xfer; /* the PASV connection came; what it carries */
	uint16_t user_len, cwd_len, umask, pasv_port, path_len;
	char user[FTP_USER];
	char cwd[FTP_CWD];
	char path[FTP_CWD]; /* RETR's file, as the client named it */
	struct ftp_made made[FTP_MADE];
	uint8_t up_at, rnfr; /* made[] + 1 of the upload, of RNFR; 0: none */
	uint8_t up_cut; /* the upload passed ftp.upload_max: not hashed on */
	uint64_t up_size;
	struct hash_sha256 up;
};

static void
ftp_end(struct emu_ctx *ctx, struct ftp_state *st)
{
	st->done = 1;
	emu_close(ctx);
}

/* --- replies ------------------------------------------------------------- */

static void
ftp_expand(struct emu_ctx *ctx, const struct ftp_state *st, const char *t,
        size_t tn, long long num)
{
	char out[FTP_REPLY], tmp[32];
	size_t o = 0, i;

	for (i = 0; i < tn; i++) {
		const char *s = tmp;
		size_t sl;

		if (t[i] != '%' || i + 1 >= tn) {
			if (o < sizeof out)
				out[o++] = t[i];
			continue;
		}
		switch (t[++i]) {
		case 'w': s = st->cwd, sl = st->cwd_len; break;
		case 'f': s = st->path, sl = st->path_len; break;
		case 'u': s = st->user, sl = st->user_len; break;
		case 'a': s = emu_peer_addr(ctx), sl = strlen(s); break;
		case 't':
			s = st->type_i ? "BINARY" : "ASCII", sl = strlen(s);
			break;
		case 'n':
			sl = (size_t)fmt_snprintf(tmp, sizeof tmp, "%lld", num);
			break;
		case 'o': { /* fmt has no %o */
			unsigned long long u = (unsigned long long)num;
			size_t k = sizeof tmp;

			do
				tmp[--k] = (char)('0' + (u & 7));
			while ((u >>= 3) && k > 0);
			s = tmp + k, sl = sizeof tmp - k;
			break;
		}
		case 'E':
			sl = (size_t)fmt_snprintf(
			        tmp, sizeof tmp, "%u", (unsigned)st->pasv_port);
			break;
		case 'P': {
			const char *la = emu_local_addr(ctx);
			size_t k;

			if (strchr(la, ':')) /* vsftpd over IPv6 */
				la = "0.0.0.0";

			sl = (size_t)fmt_snprintf(tmp, sizeof tmp, "%s,%u,%u",
			        la, (unsigned)(st->pasv_port >> 8),
			        (unsigned)(st->pasv_port & 255));
			for (k = 0; k < sl && k < sizeof tmp; k++)
				if (tmp[k] == '.')
					tmp[k] = ',';
			break;
		}
		default: s = t + i, sl = 1; break;
		}
		if (sl > sizeof out - o)
			sl = sizeof out - o;
		memcpy(out + o, s, sl);
		o += sl;
	}
	emu_send(ctx, out, o);
}

/* ftp.r.<word>, expanded. */
static void
ftp_say(struct emu_ctx *ctx, const struct ftp_state *st, const char *word,
        long long num)
{
	char key[40];
	size_t n;
	const char *t;

	fmt_snprintf(key, sizeof key, "ftp.r.%s", word);
	t = persona_get(key, &n);
	if (t)
		ftp_expand(ctx, st, t, n, num);
}

/* A fixed answer of ftp.fixed / ftp.fixed_pre for verb, or 0. */
static int
ftp_fixed(struct emu_ctx *ctx, const struct ftp_state *st, const char *key,
        const uint8_t *verb, size_t vn)
{
	const struct persona_kv *kv;
	size_t i = 0;

	while ((kv = persona_next(key, &i))) {
		if (kv->len > vn && kv->val[vn] == ' ' &&
		        fmt_caseeq(kv->val, (const char *)verb, vn)) {
			ftp_expand(
			        ctx, st, kv->val + vn + 1, kv->len - vn - 1, 0);
			return 1;
		}
	}
	return 0;
}

/* verb is one of the words of a space-separated value. */
static int
ftp_in_list(
        const char *list, size_t ln, const uint8_t *w, size_t wn, int anycase)
{
	size_t i = 0;

	while (list && i < ln) {
		size_t j = i;

		while (j < ln && list[j] != ' ')
			j++;
		if (j - i == wn && wn &&
		        (anycase ? fmt_caseeq(list + i, (const char *)w, wn)
		                 : !memcmp(list + i, w, wn)))
			return 1;
		i = j + 1;
	}
	return 0;
}

static int
ftp_key_has(const char *key, const uint8_t *w, size_t wn, int anycase)
{
	size_t ln;
	const char *l = persona_get(key, &ln);

	return ftp_in_list(l, l ? ln : 0, w, wn, anycase);
}

/* --- events -------------------------------------------------------------- */

static struct event *
ftp_command(struct emu_ctx *ctx, const struct ftp_state *st,
        const uint8_t *line, size_t n)
{
	struct event *e = emu_event(ctx, "command");

	event_bytes(e, "lure.command", line, n, EVENT_CAP_DEFAULT);
	if (st->logged)
		event_bytes(e, "user.name", st->user, st->user_len,
		        EVENT_CAP_DEFAULT);
	return e;
}

static int
ftp_is(const uint8_t *v, size_t vn, const char *w)
{
	size_t n = strlen(w);

	return vn == n && fmt_caseeq((const char *)v, w, n);
}

/* --- paths --------------------------------------------------------------- */

/* The home directory of the user into buf (ftp.home, %u). */
static size_t
ftp_home(const struct ftp_state *st, char *buf, size_t cap)
{
	size_t n, o = 0, i;
	const char *h = persona_get("ftp.home", &n);

	if (!h)
		h = "/", n = 1;
	for (i = 0; i < n && o < cap; i++) {
		if (h[i] == '%' && i + 1 < n && h[i + 1] == 'u') {
			size_t k = LURE_MIN(st->user_len, cap - o);

			memcpy(buf + o, st->user, k);
			o += k, i++;
		} else {
			buf[o++] = h[i];
		}
	}
	return o;
}

/* Resolve arg against the working directory into out ("/" based, no "."
 * or ".."); 0 when it does not fit. */
static size_t
ftp_resolve(const struct ftp_state *st, const uint8_t *arg, size_t an,
        char *out, size_t cap)
{
	size_t o = 0, i = 0;

	if (an && arg[0] == '~') {
		o = ftp_home(st, out, cap);
		i = 1;
	} else if (!an || arg[0] != '/') {
		o = st->cwd_len;
		memcpy(out, st->cwd, o);
	}
	while (i < an) {
		size_t j = i;

		while (j < an && arg[j] != '/')
			j++;
		if (j - i == 2 && arg[i] == '.' && arg[i + 1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else if (j > i && !(j - i == 1 && arg[i] == '.')) {
			if (o + 1 + (j - i) > cap)
				return 0;
			out[o++] = '/';
			memcpy(out + o, arg + i, j - i);
			o += j - i;
		}
		i = j + 1;
	}
	if (!o)
		out[o++] = '/';
	return o;
}

static int
ftp_is_dir(const struct ftp_state *st, const char *p, size_t n)
{
	char home[FTP_CWD];
	size_t hn = ftp_home(st, home, sizeof home);

	if ((n == 1 && p[0] == '/') || (n == hn && !memcmp(p, home, n)))
		return 1;
	for (int i = 0; i < FTP_MADE; i++)
		if (st->made[i].dir && st->made[i].len == n &&
		        !memcmp(st->made[i].path, p, n))
			return 1;
	return ftp_key_has("ftp.dir", (const uint8_t *)p, n, 0);
}

/* --- what the session wrote (write_enable=YES) --------------------------- */

/* made[] + 1 of path p, or 0 */
static int
ftp_made_at(const struct ftp_state *st, const char *p, size_t n)
{
	for (int i = 0; i < FTP_MADE; i++)
		if (st->made[i].len && st->made[i].len == n &&
		        !memcmp(st->made[i].path, p, n))
			return i + 1;
	return 0;
}

/* May the user make p: its directory is the home, one of ftp.writable or
 * one it made, and p is no directory already. */
static int
ftp_writable(const struct ftp_state *st, const char *p, size_t n)
{
	size_t d = n;

	while (d > 0 && p[d - 1] != '/')
		d--;
	if (d > 1)
		d--; /* the directory, without its last '/' */
	if (d == n || ftp_is_dir(st, p, n))
		return 0;
	return (ftp_is_dir(st, p, d) &&
	               !ftp_key_has("ftp.dir", (const uint8_t *)p, d, 0)) ||
	       ftp_key_has("ftp.writable", (const uint8_t *)p, d, 0);
}

/* Remember p (a file of size bytes, or a directory): made[] + 1, or 0
 * when full (the write is answered as done all the same). */
static int
ftp_made_add(struct ftp_state *st, const char *p, size_t n, int dir)
{
	int i = ftp_made_at(st, p, n) - 1;

	for (int k = 0; i < 0 && k < FTP_MADE; k++)
		if (!st->made[k].len)
			i = k;
	if (i < 0 || n > FTP_NAME)
		return 0;
	memcpy(st->made[i].path, p, n);
	st->made[i].len = (uint8_t)n;
	st->made[i].dir = (uint8_t)dir;
	st->made[i].size = dir ? 4096 : 0;
	st->made[i].mode = (uint16_t)((dir ? 0777 : 0666) & ~st->umask);
	st->made[i].mtime = (uint32_t)(lure_wall() / 1000);
	return i + 1;
}

/* A LIST or NLST line of made[i] into out (cap >= 128): its length. */
static size_t
ftp_made_line(const struct ftp_state *st, int i, int nlst, char *out)
{
	const struct ftp_made *m = &st->made[i];
	size_t b = m->len;
	size_t il = 0, u = 0;
	const char *ids = persona_get("ftp.ids", &il);
	struct tm tm;
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char perm[11];

	perm[0] = m->dir ? 'd' : '-';
	for (int k = 0; k < 9; k++)
		perm[1 + k] = (m->mode >> (8 - k) & 1) ? "rwx"[k % 3] : '-';
	perm[10] = 0;

	while (b > 0 && m->path[b - 1] != '/')
		b--;
	if (nlst)
		return (size_t)fmt_snprintf(
		        out, 128, "%.*s\r\n", (int)(m->len - b), m->path + b);
	if (!ids)
		ids = "1000 1000", il = 9;
	while (u < il && ids[u] != ' ')
		u++;
	fmt_gmtime(m->mtime, &tm);
	return (size_t)fmt_snprintf(out, 128,
	        "%s %4u %-8.*s %-8.*s %8u %.3s %02d %02d:%02d %.*s\r\n", perm,
	        m->dir ? 2u : 1u, (int)u, ids, (int)(il > u ? il - u - 1 : u),
	        il > u ? ids + u + 1 : ids, (unsigned)m->size,
	        mon + 3 * tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min,
	        (int)(m->len - b), m->path + b);
}

/* The working directory's listing with what the session made in it,
 * sorted as vsftpd sorts (by name); -1 when it does not fit. */
static int
ftp_list_made(struct emu_ctx *ctx, const struct ftp_state *st, int nlst,
        const char *base, size_t bn)
{
	char out[EMU_SIDE_COPY], line[128];
	size_t o = LURE_MIN(bn, sizeof out);
	int done[FTP_MADE] = {0}, any = 0;

	memcpy(out, base, o);
	for (;;) {
		int best = -1;
		for (int i = 0; i < FTP_MADE; i++) {
			const struct ftp_made *m = &st->made[i];
			size_t d = m->len;
			while (d > 0 && m->path[d - 1] != '/')
				d--;
			d = d > 1 ? d - 1 : d;
			if (!m->len || done[i] || d != st->cwd_len ||
			        memcmp(m->path, st->cwd, d))
				continue;
			if (best < 0 ||
			        strcmp(m->path, st->made[best].path) < 0)
				best = i;
		}
		if (best < 0)
			break;
		done[best] = any = 1;
		size_t l = ftp_made_line(st, best, nlst, line);
		if (l > sizeof out - o)
			return -1;
		memcpy(out + o, line, l);
		o += l;
	}
	return any ? emu_side_send(ctx, out, o) : -1;
}

/* MKD, RMD, DELE, RNFR, RNTO, SITE CHMOD, SIZE, MDTM on what the session
 * made (the persona's own files are not the user's: they fail). 1 when
 * verb was one of them. */
static int
ftp_write_cmd(struct emu_ctx *ctx, struct ftp_state *st, const uint8_t *v,
        size_t vn, const uint8_t *arg, size_t an)
{
	static const char verbs[][5] = {"MKD", "XMKD", "RMD", "XRMD", "DELE",
	        "RNFR", "RNTO", "SIZE", "MDTM"};
	char p[FTP_CWD];
	size_t n, k;
	int at, rnfr = st->rnfr;
	struct ftp_made *m;

	if (!(ftp_is(v, vn, "RNTO")))
		st->rnfr = 0;
	for (k = 0; k < sizeof verbs / sizeof verbs[0]; k++)
		if (ftp_is(v, vn, verbs[k]))
			break;
	if (k == sizeof verbs / sizeof verbs[0])
		return 0; /* not one of them: no path to resolve */
	n = an ? ftp_resolve(st, arg, an, p, sizeof p) : 0;
	at = n ? ftp_made_at(st, p, n) : 0;
	m = at ? &st->made[at - 1] : NULL;
	if (ftp_is(v, vn, "MKD") || ftp_is(v, vn, "XMKD")) {
		int ok = n && ftp_writable(st, p, n) && !ftp_made_at(st, p, n);
		if (ok)
			ftp_made_add(st, p, n, 1);
		st->path_len = (uint16_t)n;
		memcpy(st->path, p, n);
		ftp_say(ctx, st, ok ? "mkd_ok" : "mkd_fail", 0);
	} else if (ftp_is(v, vn, "RMD") || ftp_is(v, vn, "XRMD")) {
		if (m && m->dir)
			m->len = 0;
		ftp_say(ctx, st, m && m->dir ? "rmd_ok" : "rmd_fail", 0);
	} else if (ftp_is(v, vn, "DELE")) {
		if (m && !m->dir)
			m->len = 0;
		ftp_say(ctx, st, m && !m->dir ? "dele_ok" : "dele_fail", 0);
	} else if (ftp_is(v, vn, "RNFR")) {
		st->rnfr = (uint8_t)at;
		ftp_say(ctx, st, at ? "rnfr_ok" : "rnfr_fail", 0);
	} else if (ftp_is(v, vn, "RNTO")) {
		int ok = rnfr && n && n <= FTP_NAME && st->made[rnfr - 1].len &&
		         ftp_writable(st, p, n);
		st->rnfr = 0;
		if (ok) {
			memcpy(st->made[rnfr - 1].path, p, n);
			st->made[rnfr - 1].len = (uint8_t)n;
		}
		ftp_say(ctx, st,
		        !rnfr ? "rnto_first"
		        : ok  ? "rnto_ok"
		              : "rnto_fail",
		        0);
	} else if (ftp_is(v, vn, "SIZE") && m && !m->dir) {
		ftp_say(ctx, st, "size", m->size);
	} else if (ftp_is(v, vn, "MDTM") && m && !m->dir) {
		struct tm tm;
		fmt_gmtime(m->mtime, &tm); /* YYYYMMDDHHMMSS as one number */
		ftp_say(ctx, st, "mdtm",
		        ((((tm.tm_year + 1900LL) * 100 + tm.tm_mon + 1) * 100 +
		                 tm.tm_mday) *
		                        100 +
		                tm.tm_hour) *
		                        10000LL +
		                tm.tm_min * 100 + tm.tm_sec);
	} else {
		return 0;
	}
	return 1;
}

static void
ftp_cwd(struct emu_ctx *ctx, struct ftp_state *st, const uint8_t *arg,
        size_t an)
{
	char p[FTP_CWD];
	size_t n = an ? ftp_resolve(st, arg, an, p, sizeof p) : 0;

	if (!n || !ftp_is_dir(st, p, n)) {
		ftp_say(ctx, st, "cwd_bad", 0);
		return;
	}
	memcpy(st->cwd, p, n);
	st->cwd_len = (uint16_t)n;
	ftp_say(ctx, st, "cwd_ok", 0);
}

/* --- data commands (no data connection is ever made) --------------------- */

static int
ftp_num(const uint8_t *p, size_t n, long long *v)
{
	size_t i = 0;
	long long r = 0;

	while (i < n && p[i] == ' ')
		i++;
	if (i == n)
		return -1;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		r = r * 10 + (p[i] - '0');
		if (r > 99999999999999999LL)
			return -1;
	}
	*v = r;
	return 0;
}

static void
ftp_target(struct event *e, const char *ip, long long port)
{
	event_str(e, "lure.ftp.data_ip", ip);
	event_int(e, "lure.ftp.data_port", port);
}

static void
ftp_port(struct emu_ctx *ctx, struct ftp_state *st, struct event *e,
        const uint8_t *arg, size_t an)
{
	long long v[6];
	unsigned k = 0;
	size_t i = 0;
	char ip[16];

	while (k < 6 && i <= an) {
		size_t j = i;

		while (j < an && arg[j] != ',')
			j++;
		if (ftp_num(arg + i, j - i, &v[k]) || v[k] > 255)
			break;
		k++;
		i = j + 1;
	}
	if (k < 6 || i <= an) {
		ftp_say(ctx, st, "port_bad", 0);
		return;
	}
	fmt_snprintf(
	        ip, sizeof ip, "%lld.%lld.%lld.%lld", v[0], v[1], v[2], v[3]);
	ftp_target(e, ip, v[4] * 256 + v[5]);
	if (strcmp(ip, emu_peer_addr(ctx)) || v[4] * 256 + v[5] < 1024) {
		ftp_say(ctx, st, "port_bad", 0);
		return;
	}
	st->data = FD_PORT;
	ftp_say(ctx, st, "port_ok", 0);
}

static void
ftp_eprt(struct emu_ctx *ctx, struct ftp_state *st, struct event *e,
        const uint8_t *arg, size_t an)
{
	size_t f[4], nf = 0, i;
	char ip[64];
	long long port;
	int v6 = strchr(emu_peer_addr(ctx), ':') != NULL;

	for (i = 0; i < an && nf < 4; i++)
		if (arg[i] == '|')
			f[nf++] = i;
	if (!an || arg[0] != '|' || nf < 4 || f[3] != an - 1 ||
	        f[2] - f[1] - 1 >= sizeof ip) {
		ftp_say(ctx, st, "eprt_bad", 0);
		return;
	}
	if (f[1] - f[0] != 2 || arg[1] != (v6 ? '2' : '1')) {
		ftp_say(ctx, st, "eprt_proto", 0);
		return;
	}
	memcpy(ip, arg + f[1] + 1, f[2] - f[1] - 1);
	ip[f[2] - f[1] - 1] = 0;
	if (ftp_num(arg + f[2] + 1, f[3] - f[2] - 1, &port) || port > 65535) {
		ftp_say(ctx, st, "eprt_bad", 0);
		return;
	}
	ftp_target(e, ip, port);
	if (strcmp(ip, emu_peer_addr(ctx)) || port < 1024) {
		ftp_say(ctx, st, "eprt_bad_addr", 0);
		return;
	}
	st->data = FD_PORT;
	ftp_say(ctx, st, "eprt_ok", 0);
}

static void
ftp_pasv(struct emu_ctx *ctx, struct ftp_state *st, int ext, const uint8_t *arg,
        size_t an)
{
	uint16_t r;
	int v6 = strchr(emu_local_addr(ctx), ':') != NULL;
	long k = 0;
	size_t i;

	if (ext && an == 3 && fmt_caseeq((const char *)arg, "ALL", 3)) {
		ftp_say(ctx, st, "epsv_all", 0);
		return;
	}
	/* vsftpd reads the protocol as atoi() does: 1, or 2 over IPv6 */
	for (i = 0; ext && i < an && arg[i] >= '0' && arg[i] <= '9'; i++)
		k = LURE_MIN(k * 10 + (arg[i] - '0'), 1000);
	if (ext && an && k != 1 && !(k == 2 && v6)) {
		ftp_say(ctx, st, "epsv_proto", 0);
		return;
	}
	lure_random(&r, sizeof r);
	/* a listener of the core's; a test driver has none: a port that
	 * nothing listens on */
	k = emu_side_listen(ctx);
	st->pasv_port = k > 0 ? (uint16_t)k : (uint16_t)(1024 + r % 64512);
	st->side_open = 0;
	st->data = FD_PASV;
	ftp_say(ctx, st, ext ? "epsv" : "pasv", 0);
}

/* RETR's file: the persona's files/fs/<path> (relative to the working
 * directory), or NULL */
static const struct persona_file *
ftp_file(const struct ftp_state *st)
{
	char name[2 * FTP_CWD + 8] = "fs";
	size_t o = 2;

	if (st->path_len && st->path[0] != '/') {
		memcpy(name + o, st->cwd, st->cwd_len);
		o += st->cwd_len;
		name[o++] = '/';
	}
	memcpy(name + o, st->path, st->path_len);
	name[o + st->path_len] = 0;
	return st->path_len ? persona_file(name) : NULL;
}

/* A listing: the value of the repeated key (ftp.list, ftp.nlst) that
 * starts with the working directory and a tab; none: empty (vsftpd hides
 * a new home's dot files). */
static const char *
ftp_listing(const struct ftp_state *st, const char *key, size_t *n)
{
	const struct persona_kv *kv;
	size_t i = 0, w = st->cwd_len;

	while ((kv = persona_next(key, &i)))
		if (kv->len > w && kv->val[w] == '\t' &&
		        memcmp(kv->val, st->cwd, w) == 0) {
			*n = kv->len - w - 1;
			return kv->val + w + 1;
		}
	*n = 0;
	return "";
}

/* Where an upload goes (st->path): remembered in made[] (st->up_at);
 * 0 when the user may not write there. */
static int
ftp_upload_to(struct ftp_state *st)
{
	char p[FTP_CWD];
	size_t n = ftp_resolve(
	        st, (const uint8_t *)st->path, st->path_len, p, sizeof p);
	int at = n ? ftp_made_at(st, p, n) : 0;

	if (!n || !ftp_writable(st, p, n))
		return 0;
	if (!at || st->xfer != FX_APPE) {
		at = ftp_made_add(st, p, n, 0);
		if (at)
			st->made[at - 1].size = 0;
	}
	st->up_at = (uint8_t)at;
	return 1;
}

/* The upload ended: an "upload" event (file.*: its path, size and
 * hash). */
static void
ftp_uploaded(struct emu_ctx *ctx, struct ftp_state *st)
{
	struct event *e = emu_event(ctx, "upload");
	uint8_t md[32];
	char hex[65], p[FTP_CWD];
	size_t n = ftp_resolve(
	        st, (const uint8_t *)st->path, st->path_len, p, sizeof p);
	size_t b = n;

	while (b > 0 && p[b - 1] != '/')
		b--;
	hash_sha256_final(&st->up, md);
	hash_hex(md, 32, hex);
	event_bytes(e, "user.name", st->user, st->user_len, EVENT_CAP_DEFAULT);
	event_bytes(e, "file.path", p, n, EVENT_CAP_DEFAULT);
	event_bytes(e, "file.name", p + b, n - b, EVENT_CAP_DEFAULT);
	event_int(e, "file.size", (int64_t)st->up_size);
	if (!st->up_cut)
		event_str(e, "file.hash.sha256", hex);
	else
		event_bool(e, "lure.truncated", 1);
	if (st->xfer == FX_APPE)
		event_bool(e, "lure.ftp.append", 1);
	event_commit(e);
	if (st->up_at) {
		struct ftp_made *m = &st->made[st->up_at - 1];
		m->size = (uint32_t)LURE_MIN(m->size + st->up_size, UINT32_MAX);
		m->mtime = (uint32_t)(lure_wall() / 1000);
	}
	st->up_at = 0;
}

/* The data connection is there: the 150 line, the bytes, and the 226
 * once they are out (ftp_side). */
static void
ftp_send_data(struct emu_ctx *ctx, struct ftp_state *st)
{
	const struct persona_file *f = NULL;
	const void *p;
	size_t n;

	if (st->xfer >= FX_STOR) { /* an upload: the bytes come to ftp_side */
		ftp_say(ctx, st,
		        st->xfer == FX_STOU ? "stou_start" : "stor_start", 0);
		hash_sha256_init(&st->up);
		st->up_size = 0;
		st->up_cut = 0;
	} else if (st->xfer == FX_RETR) {
		f = ftp_file(st);
		p = f ? f->data : NULL, n = f ? f->len : 0;
		ftp_say(ctx, st, "retr_start", (long long)n);
		emu_side_send_const(ctx, p, n);
	} else {
		int nlst = st->xfer == FX_NLST;
		p = ftp_listing(st, nlst ? "ftp.nlst" : "ftp.list", &n);
		ftp_say(ctx, st, "list_start", 0);
		if (ftp_list_made(ctx, st, nlst, p, n) < 0)
			emu_side_send_const(ctx, p, n);
	}
	st->wait = FW_XFER;
	st->wake_at = lure_now() + persona_int("ftp.data_timeout_ms", 300000);
	emu_wake(ctx, st->wake_at - lure_now());
}

/* LIST, NLST and RETR: over the PASV connection when it comes (the
 * core's); after PORT, as when the client's port is closed. */
static void
ftp_transfer(struct emu_ctx *ctx, struct ftp_state *st, int xfer,
        const uint8_t *arg, size_t an)
{
	uint8_t d = st->data;

	if (d == FD_NONE) {
		ftp_say(ctx, st, "need_port", 0);
		return;
	}
	st->data = FD_NONE;
	st->xfer = (uint8_t)xfer;
	st->path_len = (uint16_t)LURE_MIN(an, FTP_CWD);
	memcpy(st->path, arg, st->path_len);
	if (xfer == FX_STOU && !an) /* vsftpd's name for it */
		memcpy(st->path, "STOU.1", 6), st->path_len = 6;
	if (xfer == FX_RETR && (an > FTP_CWD || !ftp_file(st))) {
		emu_side_close(ctx);
		ftp_say(ctx, st, "open_fail", 0);
	} else if (xfer >= FX_STOR && !ftp_upload_to(st)) {
		emu_side_close(ctx);
		ftp_say(ctx, st, "stor_fail", 0);
	} else if (d == FD_PORT) {
		ftp_say(ctx, st, "conn_fail", 0);
	} else if (st->side_open) {
		ftp_send_data(ctx, st);
	} else {
		st->wait = FW_ACCEPT;
		st->wake_at = lure_now() +
		              persona_int("ftp.accept_timeout_ms", 60000);
		emu_wake(ctx, st->wake_at - lure_now());
	}
}

/* --- the login ----------------------------------------------------------- */

static void
ftp_user(struct emu_ctx *ctx, struct ftp_state *st, const uint8_t *arg,
        size_t an)
{
	if (st->logged) {
		if (an == st->user_len && !memcmp(arg, st->user, an))
			ftp_say(ctx, st, "same_user", 0);
		else
			ftp_say(ctx, st, "change_user", 0);
		return;
	}
	st->user_len = (uint16_t)LURE_MIN(an, FTP_USER);
	memcpy(st->user, arg, st->user_len);
	st->user_cut = an > FTP_USER;
	st->user_set = an > 0;
	ftp_say(ctx, st, "user_ok", 0);
}

static void
ftp_pass(struct emu_ctx *ctx, struct ftp_state *st, const uint8_t *arg,
        size_t an)
{
	struct event *e;
	int ok;

	if (st->logged) {
		ftp_say(ctx, st, "already", 0);
		return;
	}
	if (!st->user_set) {
		ftp_say(ctx, st, "need_user", 0);
		return;
	}
	ok = !st->user_cut &&
	     !ftp_key_has(
	             "ftp.deny", (const uint8_t *)st->user, st->user_len, 0) &&
	     persona_accepts("ftp.accept", st->user, st->user_len, arg, an);
	e = emu_event(ctx, "login");
	event_bytes(e, "user.name", st->user, st->user_len, EVENT_CAP_DEFAULT);
	event_bytes(e, "lure.auth.password", arg, an, EVENT_CAP_DEFAULT);
	event_str(e, "event.outcome", ok ? "success" : "failure");
	if (st->user_cut)
		event_bool(e, "lure.truncated", 1);
	event_commit(e);
	st->user_set = 0;
	if (ok) {
		st->logged = 1;
		st->cwd_len = (uint16_t)ftp_home(st, st->cwd, sizeof st->cwd);
		ftp_say(ctx, st, "login_ok", 0);
		return;
	}
	if (st->fails < 255)
		st->fails++;
	st->wait = FW_FAIL;
	st->wake_at = lure_now() + persona_int("ftp.fail_delay_ms", 3000);
	emu_wake(ctx, st->wake_at - lure_now());
}

/* --- one line ------------------------------------------------------------ */

static void
ftp_site(struct emu_ctx *ctx, struct ftp_state *st, const uint8_t *arg,
        size_t an)
{
	size_t w = 0, i;
	long long m = 0;

	while (w < an && arg[w] != ' ')
		w++;
	if (ftp_is(arg, w, "HELP")) {
		ftp_say(ctx, st, "site_help", 0);
	} else if (ftp_is(arg, w, "UMASK") && w + 1 >= an) {
		ftp_say(ctx, st, "site_umask", st->umask);
	} else if (ftp_is(arg, w, "UMASK")) {
		for (i = w + 1; i < an && arg[i] >= '0' && arg[i] <= '7'; i++)
			m = (m * 8 + (arg[i] - '0')) & 0777;
		st->umask = (uint16_t)m;
		ftp_say(ctx, st, "site_umask_set", m);
	} else if (ftp_is(arg, w, "CHMOD") &&
	           persona_get("ftp.writable", NULL)) {
		/* "CHMOD <mode> <path>": the session's own files only */
		char p[FTP_CWD];
		size_t k = w + 1, n;
		int at;
		while (k < an && arg[k] != ' ')
			k++;
		if (w + 1 >= an || k >= an) {
			ftp_say(ctx, st, "chmod_args", 0);
			return;
		}
		n = ftp_resolve(st, arg + k + 1, an - k - 1, p, sizeof p);
		at = n ? ftp_made_at(st, p, n) : 0;
		for (i = w + 1; at && i < k && arg[i] >= '0' && arg[i] <= '7';
		        i++)
			m = (m * 8 + (arg[i] - '0')) & 0777;
		if (at)
			st->made[at - 1].mode = (uint16_t)m;
		ftp_say(ctx, st, at ? "chmod_ok" : "chmod_fail", 0);
	} else {
		ftp_say(ctx, st, "site_unknown", 0);
	}
}

/* The transfer a verb starts (enum ftp_xfer), or 0. */
static int
ftp_xfer_of(const uint8_t *v, size_t vn)
{
	static const char verbs[][5] = {
	        "", "LIST", "NLST", "RETR", "STOR", "APPE", "STOU"};

	for (int x = FX_LIST; x <= FX_STOU; x++)
		if (ftp_is(v, vn, verbs[x]))
			return x;
	return 0;
}

static void
ftp_logged(struct emu_ctx *ctx, struct ftp_state *st, struct event *e,
        const uint8_t *v, size_t vn, const uint8_t *arg, size_t an)
{
	long long num = 0;
	int x;

	if (ftp_is(v, vn, "PWD") || ftp_is(v, vn, "XPWD"))
		ftp_say(ctx, st, "pwd", 0);
	else if (ftp_is(v, vn, "CWD") || ftp_is(v, vn, "XCWD"))
		ftp_cwd(ctx, st, arg, an);
	else if (ftp_is(v, vn, "CDUP") || ftp_is(v, vn, "XCUP"))
		ftp_cwd(ctx, st, (const uint8_t *)"..", 2);
	else if (ftp_is(v, vn, "TYPE")) {
		if (ftp_is(arg, an, "I") || ftp_is(arg, an, "L8") ||
		        ftp_is(arg, an, "L 8"))
			st->type_i = 1, ftp_say(ctx, st, "type_i", 0);
		else if (ftp_is(arg, an, "A") || ftp_is(arg, an, "A N"))
			st->type_i = 0, ftp_say(ctx, st, "type_a", 0);
		else
			ftp_say(ctx, st, "type_bad", 0);
	} else if (ftp_is(v, vn, "MODE"))
		ftp_say(ctx, st, ftp_is(arg, an, "S") ? "mode_ok" : "mode_bad",
		        0);
	else if (ftp_is(v, vn, "STRU"))
		ftp_say(ctx, st, ftp_is(arg, an, "F") ? "stru_ok" : "stru_bad",
		        0);
	else if (ftp_is(v, vn, "REST")) {
		if (ftp_num(arg, an, &num))
			num = 0;
		ftp_say(ctx, st, "rest", num);
	} else if (ftp_key_has("ftp.denied", v, vn, 1))
		ftp_say(ctx, st, "denied", 0);
	else if (ftp_write_cmd(ctx, st, v, vn, arg, an))
		;
	else if (ftp_is(v, vn, "SIZE"))
		ftp_say(ctx, st, "size_bad", 0);
	else if (ftp_is(v, vn, "MDTM"))
		ftp_say(ctx, st, "mdtm_bad", 0);
	else if (ftp_is(v, vn, "PORT"))
		ftp_port(ctx, st, e, arg, an);
	else if (ftp_is(v, vn, "EPRT"))
		ftp_eprt(ctx, st, e, arg, an);
	else if (ftp_is(v, vn, "PASV"))
		ftp_pasv(ctx, st, 0, arg, an);
	else if (ftp_is(v, vn, "EPSV"))
		ftp_pasv(ctx, st, 1, arg, an);
	else if ((x = ftp_xfer_of(v, vn)))
		ftp_transfer(ctx, st, x, arg, an);
	else if (ftp_is(v, vn, "STAT"))
		ftp_say(ctx, st, an ? "stat_path" : "stat", 0);
	else if (ftp_is(v, vn, "SITE"))
		ftp_site(ctx, st, arg, an);
	else if (!ftp_fixed(ctx, st, "ftp.fixed", v, vn))
		ftp_say(ctx, st, "unknown", 0);
}

static void
ftp_line(struct emu_ctx *ctx, struct ftp_state *st, const uint8_t *l, size_t n)
{
	size_t vn = 0, an;
	const uint8_t *arg;
	struct event *e = NULL;

	while (vn < n && l[vn] != ' ')
		vn++;
	arg = l + (vn < n ? vn + 1 : n);
	an = vn < n ? n - vn - 1 : 0;
	if (!st->logged && ftp_is(l, vn, "USER")) { /* in the login event */
		ftp_user(ctx, st, arg, an);
		return;
	}
	if (!st->logged && st->user_set && ftp_is(l, vn, "PASS")) {
		ftp_pass(ctx, st, arg, an);
		return;
	}
	e = ftp_command(ctx, st, l, n);
	if (ftp_is(l, vn, "USER")) {
		ftp_user(ctx, st, arg, an);
	} else if (ftp_is(l, vn, "QUIT")) {
		ftp_say(ctx, st, "goodbye", 0);
		ftp_end(ctx, st);
	} else if (ftp_is(l, vn, "PASS")) {
		ftp_pass(ctx, st, arg, an);
	} else if (ftp_is(l, vn, "OPTS")) {
		ftp_say(ctx, st,
		        ftp_is(arg, an, "UTF8 ON") ? "utf8_on" : "opts_bad", 0);
	} else if (st->logged) {
		ftp_logged(ctx, st, e, l, vn, arg, an);
	} else if (!ftp_fixed(ctx, st, "ftp.fixed_pre", l, vn)) {
		ftp_say(ctx, st, "login_first", 0);
	}
	event_commit(e);
}

/* --- the contract -------------------------------------------------------- */

static void
ftp_idle(struct emu_ctx *ctx, struct ftp_state *st)
{
	int64_t ms = persona_int("ftp.idle_ms", 300000);

	if (ms > 0) {
		st->idle_at = lure_now() + ms;
		emu_timer(ctx, ms);
	}
}

static void
ftp_open(struct emu_ctx *ctx, void *state)
{
	struct ftp_state *st = state;
	size_t n;
	const char *g = persona_get("ftp.greeting", &n);
	const char *um = persona_get("ftp.umask", NULL);

	st->umask = (uint16_t)(um ? fmt_strtol(um, NULL, 8) & 0777 : 077);
	if (g)
		emu_send_const(ctx, g, n);
	ftp_idle(ctx, st);
}

static size_t
ftp_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct ftp_state *st = state;
	size_t scan = LURE_MIN(n, FTP_LINE), len;
	const uint8_t *lf = memchr(p, '\n', scan);

	if (st->done)
		return n; /* closing: what follows is not read */
	if (st->wait)
		return 0;
	if (!lf) {
		if (n < FTP_LINE)
			return 0;
		event_commit(ftp_command(ctx, st, p, FTP_LINE));
		ftp_say(ctx, st, "too_long", 0);
		/* vsftpd's exit leaves the socket to its other process for
		 * a moment: the rest of the line is read, the end is a FIN */
		st->done = 1;
		emu_timer(ctx, FTP_LINGER_MS);
		return n;
	}
	if (emu_space(ctx) < FTP_REPLY * 2)
		return 0; /* wait for the answers before to leave */
	len = (size_t)(lf - p);
	ftp_idle(ctx, st);
	while (len && p[len - 1] == '\r')
		len--;
	if (len)
		ftp_line(ctx, st, p, len);
	return (size_t)(lf - p) + 1;
}

static void
ftp_timeout(struct emu_ctx *ctx, void *state)
{
	struct ftp_state *st = state;
	int64_t now = lure_now();

	if (st->done) {
		emu_close(ctx);
		return;
	}
	if (st->wait && now >= st->wake_at) {
		uint8_t w = st->wait;

		st->wait = FW_NONE;
		if (w == FW_ACCEPT || w == FW_XFER) {
			emu_side_close(ctx);
			ftp_say(ctx, st,
			        w == FW_ACCEPT ? "conn_fail" : "data_timeout",
			        0);
		} else {
			long max = persona_int("ftp.max_fails", 3);

			ftp_say(ctx, st, "login_bad", 0);
			if (max > 0 && st->fails >= max)
				ftp_end(ctx, st);
		}
		ftp_idle(ctx, st);
		return;
	}
	if (st->idle_at && now >= st->idle_at && !st->wait) {
		ftp_say(ctx, st, "timeout", 0);
		ftp_end(ctx, st);
	}
}

/* The PASV connection came, or a transfer ended (n: bytes not sent). */
static void
ftp_side(struct emu_ctx *ctx, void *state, int ev, const uint8_t *p, size_t n)
{
	struct ftp_state *st = state;

	if (ev == EMU_SIDE_OPEN) {
		st->side_open = 1;
		if (st->wait == FW_ACCEPT)
			ftp_send_data(ctx, st);
	} else if (ev == EMU_SIDE_DATA && st->wait == FW_XFER &&
	           st->xfer >= FX_STOR) {
		uint64_t max =
		        (uint64_t)persona_int("ftp.upload_max", 67108864);
		size_t take = st->up_size >= max ? 0
		              : max - st->up_size < n
		                      ? (size_t)(max - st->up_size)
		                      : n;
		hash_sha256_update(&st->up, p, take);
		st->up_cut |= take < n;
		st->up_size += n;
	} else if (ev == EMU_SIDE_END) {
		st->side_open = 0;
		if (st->wait != FW_XFER)
			return;
		st->wait = FW_NONE;
		emu_wake(ctx, 0);
		if (st->xfer >= FX_STOR)
			ftp_uploaded(ctx, st);
		ftp_say(ctx, st,
		        n ? "xfer_fail"
		        : st->xfer != FX_LIST && st->xfer != FX_NLST
		                ? "retr_ok"
		                : "list_ok",
		        0);
		ftp_idle(ctx, st);
	}
}

const struct emulator emu_ftp = {
        .name = "ftp",
        .transports = EMU_TCP,
        .state_size = sizeof(struct ftp_state),
        .in_min = FTP_LINE,
        .on_open = ftp_open,
        .on_data = ftp_data,
        .on_timeout = ftp_timeout,
        .on_side = ftp_side,
};
