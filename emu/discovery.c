/* discovery.c: answer XML-over-UDP discovery probes (ONVIF WS-Discovery on
 * 3702, Hikvision SADP on 37020) with the device's own description. Each
 * datagram is logged as a "request" event; it is answered only when it holds
 * the element the persona requires and the words of the filtered element all
 * belong to the device. Elements are found by local name (any namespace
 * prefix; namespaces themselves are not resolved). Persona keys, per port:
 *
 *   discovery.<port>.reply "file"        [required] the answer template
 *                                        (files/)
 *   discovery.<port>.require "ELEMENT"   answer only datagrams holding it
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
 * Answers are larger than probes and UDP sources can be forged, so a sensor
 * must not become a reflector: at most discovery.rate answers per second
 * (default 10, all sources together); probes beyond it are logged with
 * lure.discovery.limited and not answered.
 *   discovery.rate                       answers per second (10) */
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
static int64_t disc_window; /* lure_now() second of the current window */
static long disc_sent; /* answers in it */

/* May one more answer go out this second? */
static int
disc_rate_ok(void)
{
	int64_t now = lure_now() / 1000;

	if (now != disc_window) {
		disc_window = now;
		disc_sent = 0;
	}
	if (disc_sent >= persona_int("discovery.rate", 10))
		return 0;
	disc_sent++;
	return 1;
}

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

static void
disc_answer(struct emu_ctx *ctx, struct span echo)
{
	static char tpl[DISC_OUT_MAX], out[DISC_OUT_MAX];
	char esc[DISC_ECHO_MAX * 6];
	size_t fn, tn, en, on;
	const char *fname = disc_key(ctx, "reply", &fn);
	const struct persona_file *f;
	char name[128];

	if (!fname || fn >= sizeof name)
		return;
	memcpy(name, fname, fn);
	name[fn] = 0;
	if (!(f = persona_file(name)))
		return;
	tn = identity_expand((const char *)f->data, f->len, tpl, sizeof tpl);
	if (tn >= sizeof tpl)
		return; /* cut: never send half a document */
	en = echo.p ? disc_escape(echo, esc, sizeof esc) : 0;
	disc_msgno++;
	on = disc_expand(ctx, tpl, tn, esc, en, out, sizeof out);
	if (on)
		emu_send(ctx, out, on);
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
	int found = 0, answer = req != NULL;

	(void)state;
	if (req) {
		disc_find(p, n, req, &found);
		answer = found;
	}
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
	if (answer && !disc_rate_ok()) {
		answer = 0;
		event_bool(e, "lure.discovery.limited", 1);
	}
	if (answer)
		disc_answer(ctx, echo);
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
