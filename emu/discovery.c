/* discovery.c: answer XML-over-UDP discovery probes (ONVIF WS-Discovery on
 * 3702, Hikvision SADP on 37020) with the device's own description. Each
 * datagram is logged as a "request" event; it is answered only when it is
 * one well-formed XML element (tags balanced, one root, no text outside it,
 * nothing but <?..?> and comments beside it, at most 16 deep) whose elements
 * from the root down have the local names the persona requires, the last in
 * the persona's namespace, and the words of the filtered element all belong
 * to the device. Elements are found by local name (any namespace prefix);
 * the namespace of the last required one is the nearest xmlns declaration
 * of its prefix on it or its ancestors. Persona keys, per port:
 *
 *   discovery.<port>.reply "file"        [required] the answer template
 *                                        (files/)
 *   discovery.<port>.require "E1 E2..."  the root element E1 holds E2,
 *     which holds...: answer only such datagrams (none without the key)
 *   discovery.<port>.ns "URI"            the last of them is in namespace URI
 *   discovery.<port>.words "ELEMENT w..." when ELEMENT is present, each of its
 *     whitespace-separated words (prefix before ':' dropped) must be one of
 *     the w... (WS-Discovery Types), else no answer
 *   discovery.<port>.echo "ELEMENT"      its text is %E in the answer
 *
 * The template is first expanded with identity_expand() (${serial}...), then
 * line by line: %E the echoed text (XML-escaped), %M a fresh UUID, %A the
 * local address the datagram reached, %4 the same when it is IPv4, %H that
 * address as a URL host ([v6]), %G a gateway beside it (x.y.z.1, or
 * x.y.z.254 when the address is x.y.z.1; IPv4 only), %m the identity "mac"
 * with '-' separators, %B the boot time (UTC, "YYYY-MM-DD HH:MM:SS"; the
 * host's boot: wall clock minus monotonic clock), %I the boot time in
 * seconds, %N a message number (1, 2, ... per process), %% a '%'. A line
 * whose placeholder has no value is left out. The answer must fit one
 * datagram.
 *
 * Answers are larger than probes and UDP sources can be forged: the core
 * (src/udpguard.h) lets an answer out only within the source's byte budget
 * and rates; one it refuses is logged with lure.discovery.limited and
 * lure.discovery.answered false. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "emu.h"
#include "event.h"
#include "fmt.h"
#include "identity.h"
#include "lure.h"
#include "persona.h"

#define DISC_OUT_MAX 8192 /* one answer, after expansion */
#define DISC_ECHO_MAX 128 /* echoed text, before escaping */

struct span {
	const uint8_t *p;
	size_t n;
};

static uint32_t disc_msgno;

/* --- reading the datagram ---------------------------------------------- */

static int
disc_namech(uint8_t c)
{
	return c != '>' && c != '/' && c != ' ' && c != '\t' && c != '\r' &&
	       c != '\n' && c != '<';
}

/* Text of the first element whose local name is name: from the end of its
 * start tag to the next '<', trimmed. found = 1 when the element exists
 * (even empty or self-closing). */
static struct span
disc_find(const uint8_t *p, size_t n, const char *name, int *found)
{
	size_t nl = strlen(name);
	struct span s = {NULL, 0};

	*found = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		size_t a, b, e;
		if (p[i] != '<' || p[i + 1] == '/' || p[i + 1] == '?' ||
		        p[i + 1] == '!')
			continue;
		a = i + 1;
		b = a;
		while (b < n && disc_namech(p[b]))
			b++;
		/* local name: after the last ':' of the tag name */
		for (size_t k = a; k < b; k++)
			if (p[k] == ':')
				a = k + 1;
		if (b - a != nl || memcmp(p + a, name, nl) != 0)
			continue;
		e = b;
		while (e < n && p[e] != '>')
			e++;
		if (e == n)
			return s;
		*found = 1;
		if (p[e - 1] == '/')
			return s; /* <x/> */
		e++;
		s.p = p + e;
		while (e < n && p[e] != '<')
			e++;
		s.n = (size_t)(p + e - s.p);
		while (s.n && (*s.p == ' ' || *s.p == '\t' || *s.p == '\r' ||
		                      *s.p == '\n'))
			s.p++, s.n--;
		while (s.n &&
		        (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' ||
		                s.p[s.n - 1] == '\r' || s.p[s.n - 1] == '\n'))
			s.n--;
		return s;
	}
	return s;
}

static int
disc_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Attribute name an (al bytes) in a start tag's attributes t: 1 when its
 * value is v, -1 when another, 0 when the tag has no such attribute. */
static int
disc_attr(struct span t, const char *an, size_t al, const char *v)
{
	size_t i = 0, na, nl, va;

	while (i < t.n) {
		while (i < t.n && (disc_ws(t.p[i]) || t.p[i] == '/'))
			i++;
		na = i;
		while (i < t.n && t.p[i] != '=' && !disc_ws(t.p[i]))
			i++;
		nl = i - na;
		while (i < t.n && t.p[i] != '"' && t.p[i] != '\'')
			i++;
		if (i == t.n)
			return 0;
		va = ++i; /* the value, up to the same quote */
		while (i < t.n && t.p[i] != t.p[va - 1])
			i++;
		if (nl == al && !memcmp(t.p + na, an, al))
			return i - va == strlen(v) &&
			                       !memcmp(t.p + va, v, i - va)
			               ? 1
			               : -1;
		i++;
	}
	return 0;
}

/* 1 when p[0..n) is one well-formed element whose chain of elements from the
 * root down has the local names of path ("A B C"), the last in namespace ns
 * (NULL: any). Entities and attribute syntax are not checked. */
static int
disc_xml(const uint8_t *p, size_t n, const char *path, const char *ns)
{
	struct span st[16], want[8], attrs[8], last = {NULL, 0};
	size_t i = 0, nw = 0;
	int depth = 0, roots = 0, matched = 0;
	char an[64] = "xmlns:";

	for (const char *w = path; *w && nw < 8;) {
		size_t k = strcspn(w, " ");
		if (k)
			want[nw++] = (struct span){(const uint8_t *)w, k};
		w += k + (w[k] == ' ');
	}
	if (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		i = 3; /* UTF-8 byte order mark */
	while (i < n) {
		size_t a, b, e;
		const char *end = NULL;
		struct span q;
		uint8_t quote = 0;
		int close;
		if (p[i] != '<') {
			if (!depth && !disc_ws(p[i]))
				return 0; /* text outside the root */
			i++;
			continue;
		}
		if (i + 1 < n && p[i + 1] == '?')
			end = "?>";
		else if (n - i >= 4 && !memcmp(p + i, "<!--", 4))
			end = "-->";
		if (end) {
			size_t k = strlen(end);
			for (i += 2; i + k <= n && memcmp(p + i, end, k); i++)
				;
			if (i + k > n)
				return 0;
			i += k;
			continue;
		}
		close = i + 1 < n && p[i + 1] == '/';
		a = i + 1 + (size_t)close;
		b = a;
		while (b < n && disc_namech(p[b]))
			b++;
		if (b == a || p[a] == '!') /* no DOCTYPE, no CDATA */
			return 0;
		for (e = b; e < n && (quote || p[e] != '>'); e++)
			if (!quote && (p[e] == '"' || p[e] == '\''))
				quote = p[e];
			else if (quote == p[e])
				quote = 0;
		if (e == n)
			return 0;
		q = (struct span){p + a, b - a};
		i = e + 1;
		if (close) {
			if (!depth || st[depth - 1].n != q.n ||
			        memcmp(st[depth - 1].p, q.p, q.n) != 0)
				return 0;
			if (matched >= depth)
				matched = depth - 1;
			depth--;
			continue;
		}
		if (!depth && roots++)
			return 0; /* a second root */
		{
			size_t l = q.n;
			while (l && q.p[l - 1] != ':')
				l--;
			if (matched == depth && (size_t)depth < nw &&
			        want[depth].n == q.n - l &&
			        !memcmp(want[depth].p, q.p + l, q.n - l)) {
				attrs[matched++] = (struct span){p + b, e - b};
				if ((size_t)matched == nw && !last.p)
					last = q;
			}
		}
		if (p[e - 1] == '/') { /* <q/> */
			if (matched > depth)
				matched = depth;
		} else if (depth == 16)
			return 0;
		else
			st[depth++] = q;
	}
	if (depth || !roots || !last.p)
		return 0;
	/* the namespace of last's prefix: the nearest declaration of it on
	 * the chain (the chain is every ancestor of last) */
	for (i = 0; i < last.n && last.p[i] != ':';)
		i++;
	if (i == last.n) /* no prefix: the default namespace */
		i = 0, an[5] = 0;
	else if (i > sizeof an - 7)
		return 0;
	memcpy(an + 6, last.p, i);
	for (size_t k = nw; ns && k-- > 0;) {
		int r = disc_attr(attrs[k], an, i ? 6 + i : 5, ns);
		if (r)
			return r > 0;
	}
	return !ns;
}

/* Every word of s (prefix before ':' dropped) is one of list's words. */
static int
disc_words_ok(struct span s, const char *list, size_t ln)
{
	size_t i = 0;

	while (i < s.n) {
		size_t a, b, k;
		int ok = 0;
		while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t' ||
		                          s.p[i] == '\r' || s.p[i] == '\n'))
			i++;
		if (i == s.n)
			break;
		a = i;
		while (i < s.n && s.p[i] != ' ' && s.p[i] != '\t' &&
		        s.p[i] != '\r' && s.p[i] != '\n')
			i++;
		b = i;
		for (k = a; k < b; k++)
			if (s.p[k] == ':')
				a = k + 1;
		for (size_t j = 0; j < ln && !ok;) {
			size_t w;
			while (j < ln && list[j] == ' ')
				j++;
			w = j;
			while (w < ln && list[w] != ' ')
				w++;
			ok = w > j && w - j == b - a &&
			     memcmp(list + j, s.p + a, b - a) == 0;
			j = w;
		}
		if (!ok)
			return 0;
	}
	return 1;
}

/* --- writing the answer ---------------------------------------------------- */

static const char *
disc_key(struct emu_ctx *ctx, const char *what, size_t *len)
{
	char key[48];

	fmt_snprintf(key, sizeof key, "discovery.%u.%s",
	        (unsigned)emu_port(ctx), what);
	return persona_get(key, len);
}

static int
disc_put(char *out, size_t *o, size_t cap, const char *s, size_t n)
{
	if (*o + n > cap)
		return -1;
	memcpy(out + *o, s, n);
	*o += n;
	return 0;
}

/* The echoed text is XML already (it ends before any '<'): copy it, with a
 * '&' that starts no entity reference escaped and control bytes dropped. */
static size_t
disc_escape(struct span s, char *out, size_t cap)
{
	size_t o = 0, n = LURE_MIN(s.n, DISC_ECHO_MAX);

	for (size_t i = 0; i < n; i++) {
		char c = (char)s.p[i];
		int entity = 0;
		if (c == '&') {
			size_t j = i + 1;
			if (j < n && s.p[j] == '#')
				j++;
			while (j < n && j - i < 12 &&
			        ((s.p[j] >= 'a' && s.p[j] <= 'z') ||
			                (s.p[j] >= 'A' && s.p[j] <= 'Z') ||
			                (s.p[j] >= '0' && s.p[j] <= '9')))
				j++;
			entity = j < n && s.p[j] == ';' && j > i + 1;
		}
		if (s.p[i] < 0x20 || s.p[i] == 0x7f)
			continue;
		if (disc_put(out, &o, cap, c == '&' && !entity ? "&amp;" : &c,
		            c == '&' && !entity ? 5 : 1) < 0)
			break;
	}
	return o;
}

static void
disc_uuid(char out[37])
{
	static const char hx[] = "0123456789abcdef";
	uint8_t b[16];
	size_t o = 0;

	lure_random(b, sizeof b);
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hx[b[i] >> 4];
		out[o++] = hx[b[i] & 15];
	}
	out[o] = 0;
}

/* Value of placeholder c into v (cap bytes); returns its length, 0 when it
 * has none. */
static size_t
disc_value(struct emu_ctx *ctx, char c, const char *echo, size_t echo_n,
        char *v, size_t cap)
{
	const char *la = emu_local_addr(ctx);
	int64_t boot = (lure_wall() - lure_now()) / 1000;
	struct in_addr a4;
	int n;

	switch (c) {
	case 'E':
		if (!echo_n)
			return 0;
		memcpy(v, echo, LURE_MIN(echo_n, cap));
		return LURE_MIN(echo_n, cap);
	case 'M':
		if (cap < 37)
			return 0;
		disc_uuid(v);
		return 36;
	case 'A': return (size_t)fmt_snprintf(v, cap, "%s", la);
	case '4':
		if (inet_pton(AF_INET, la, &a4) != 1)
			return 0;
		return (size_t)fmt_snprintf(v, cap, "%s", la);
	case 'H':
		return (size_t)fmt_snprintf(
		        v, cap, strchr(la, ':') ? "[%s]" : "%s", la);
	case 'G':
		if (inet_pton(AF_INET, la, &a4) != 1)
			return 0;
		{
			const uint8_t *b = (const uint8_t *)&a4;
			return (size_t)fmt_snprintf(v, cap, "%u.%u.%u.%u", b[0],
			        b[1], b[2], b[3] == 1 ? 254 : 1);
		}
	case 'm': {
		const char *m = identity_get("mac");
		size_t i;
		if (!m)
			return 0;
		for (i = 0; m[i] && i + 1 < cap; i++)
			v[i] = m[i] == ':' ? '-' : m[i];
		return i;
	}
	case 'B':
		n = fmt_utc(v, cap, boot, ' ');
		return (size_t)n < cap ? (size_t)n : 0;
	case 'I': return (size_t)fmt_snprintf(v, cap, "%lld", (long long)boot);
	case 'N':
		return (size_t)fmt_snprintf(
		        v, cap, "%lu", (unsigned long)disc_msgno);
	case '%': v[0] = '%'; return 1;
	}
	return 0;
}

/* Expand tpl (identity already expanded) line by line into out. */
static size_t
disc_expand(struct emu_ctx *ctx, const char *tpl, size_t tn, const char *echo,
        size_t echo_n, char *out, size_t cap)
{
	size_t o = 0, i = 0;

	while (i < tn) {
		size_t line = o, end = i;
		int drop = 0;
		while (end < tn && tpl[end] != '\n')
			end++;
		if (end < tn)
			end++; /* keep the newline */
		for (; i < end; i++) {
			char v[160];
			size_t vn;
			if (tpl[i] != '%' || i + 1 == end) {
				if (disc_put(out, &o, cap, tpl + i, 1) < 0)
					return 0;
				continue;
			}
			vn = disc_value(
			        ctx, tpl[++i], echo, echo_n, v, sizeof v);
			if (!vn) {
				drop = 1;
				continue;
			}
			if (disc_put(out, &o, cap, v, vn) < 0)
				return 0;
		}
		if (drop)
			o = line;
	}
	return o;
}

/* 1: answered, 0: no answer to give, -1: the core refused it. */
static int
disc_answer(struct emu_ctx *ctx, struct span echo)
{
	static char tpl[DISC_OUT_MAX], out[DISC_OUT_MAX];
	char esc[DISC_ECHO_MAX * 6];
	size_t fn, tn, en, on;
	const char *fname = disc_key(ctx, "reply", &fn);
	const struct persona_file *f;
	char name[128];

	if (!fname || fn >= sizeof name)
		return 0;
	memcpy(name, fname, fn);
	name[fn] = 0;
	if (!(f = persona_file(name)))
		return 0;
	tn = identity_expand((const char *)f->data, f->len, tpl, sizeof tpl);
	if (tn >= sizeof tpl)
		return 0; /* cut: never send half a document */
	en = echo.p ? disc_escape(echo, esc, sizeof esc) : 0;
	disc_msgno++;
	on = disc_expand(ctx, tpl, tn, esc, en, out, sizeof out);
	return on ? (emu_send(ctx, out, on) ? -1 : 1) : 0;
}

/* --- the emulator ------------------------------------------------------- */

static size_t
disc_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct event *e = emu_event(ctx, "request");
	const char *req = disc_key(ctx, "require", NULL);
	const char *words = disc_key(ctx, "words", NULL);
	const char *echo_el = disc_key(ctx, "echo", NULL);
	struct span w = {NULL, 0}, echo = {NULL, 0};
	int found = 0,
	    answer = req && disc_xml(p, n, req, disc_key(ctx, "ns", NULL));

	(void)state;
	if (words) {
		char el[64];
		size_t k = strcspn(words, " ");
		if (k < sizeof el) {
			memcpy(el, words, k);
			el[k] = 0;
			w = disc_find(p, n, el, &found);
			if (found &&
			        !disc_words_ok(w, words + k, strlen(words + k)))
				answer = 0;
		}
	}
	if (echo_el)
		echo = disc_find(p, n, echo_el, &found);
	if (answer) {
		int r = disc_answer(ctx, echo);
		if (r < 0) /* over the source's budget (src/udpguard.h) */
			event_bool(e, "lure.discovery.limited", 1);
		answer = r > 0;
	}
	if (w.n)
		event_bytes(
		        e, "lure.discovery.types", w.p, w.n, EVENT_CAP_DEFAULT);
	if (echo.n)
		event_bytes(e, "lure.discovery.id", echo.p, echo.n,
		        EVENT_CAP_DEFAULT);
	event_bool(e, "lure.discovery.answered", answer);
	event_bytes(e, "lure.payload", p, n, EVENT_CAP_PAYLOAD);
	event_int(e, "source.bytes", (int64_t)n);
	event_commit(e);
	return n;
}

const struct emulator emu_discovery = {
        .name = "discovery",
        .transports = EMU_UDP,
        .on_data = disc_data,
};
