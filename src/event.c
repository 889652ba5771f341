/* event.c: one event at a time, fields kept as (key, JSON value) pairs in
 * the order they were added, in a fixed arena; encoded at commit: keys
 * sorted (the first of a repeated key wins), dotted names nested. Events
 * repeat a few shapes (the same keys added in the same order): the text
 * around the values of a shape (names, braces, commas) is remembered, so
 * encoding one seen before is copying, with no sorting nor nesting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "fmt.h"
#include "json.h"
#include "lure.h"
#include "outbox.h"

#define ARENA 16384
#define TAGS_MAX 512
/* the event's fields, then the encoder's: tags, event.sequence, event.id,
 * lure.truncated */
#define NF (EVENT_MAX_FIELDS + 4)
#define SHAPES 8
#define SHAPE_TEXT 1024

struct field {
	const char *key;
	const char *val; /* JSON text */
	size_t len;
};

struct event {
	struct field f[NF];
	size_t nf;
	char arena[ARENA];
	size_t used;
	char tags[TAGS_MAX];
	size_t tags_len;
	int truncated, open;
};

/* An encoded shape: its keys as added; the j-th value written is field
 * order[j], after text[end[j - 1]..end[j]) (end[-1] is 0), and
 * text[end[m - 1]..end[m]) closes the line. id and ts: the j of event.id
 * and @timestamp (0xff: none). The text is apart (shape_text). */
struct shape {
	const char *key[NF];
	size_t hash; /* of the key addresses */
	size_t nf; /* 0: unused */
	size_t m;
	uint8_t order[NF], id, ts;
	uint16_t end[NF + 1];
};

static struct event ev;
static struct shape shapes[SHAPES];
static size_t next_shape; /* the slot the next new shape takes */
static char shape_text[SHAPES][SHAPE_TEXT];
/* the shape being made (event_commit's cut works on its order) */
static struct shape made;
static char made_text[EVENT_LINE_MAX];
/* the two keys outbox_keys locates, compared by address while encoding */
static const char idkey[] = "event.id", tskey[] = "@timestamp";
static struct event_identity ident = {"lure", "localhost", LURE_PERSONA, "0"};
/* event.id's start: "<sensor>-<boot>- (escaped, opening quote) */
static char qid[400];
static size_t lid;
/* observer.hostname, observer.name, lure.persona as JSON strings, made
 * with qid: stamped on every event, escaped once */
static char qident[3][400];
static size_t lident[3];
static uint64_t seq;

struct action_class {
	const char *action, *kind, *category, *type;
};

/* ECS categorisation by action (JSON values). */
static const struct action_class classes[] = {
        {"connection.open", "\"event\"", "[\"network\"]",
                "[\"connection\",\"start\"]"},
        {"connection.close", "\"event\"", "[\"network\"]",
                "[\"connection\",\"end\"]"},
        {"login", "\"event\"", "[\"authentication\"]", "[\"start\"]"},
        {"request", "\"event\"", "[\"network\"]", "[\"protocol\"]"},
        {"command", "\"event\"", "[\"intrusion_detection\"]", "[\"info\"]"},
        {"exploit", "\"alert\"", "[\"intrusion_detection\"]", "[\"info\"]"},
        {"connection.refused", "\"event\"", "[\"network\"]",
                "[\"connection\",\"denied\"]"},
        {"scan", "\"event\"", "[\"network\"]", "[\"connection\",\"denied\"]"},
        {"status", "\"state\"", "[\"host\"]", "[\"info\"]"},
};

/* s as a JSON string (quotes included) in q[0..cap); its length. */
static size_t
quote(char *q, size_t cap, const char *s)
{
	struct json_escape_result r =
	        json_escape(q + 1, cap - 2, (const uint8_t *)s, strlen(s));

	q[0] = q[r.out_len + 1] = '"';
	return r.out_len + 2;
}

/* event.id's start from ident (once it is set, or at the first event) */
static void
id_prefix(void)
{
	char raw[128];

	fmt_snprintf(raw, sizeof raw, "%s-%s-", ident.sensor_id, ident.boot_id);
	lid = quote(qid, sizeof qid, raw) - 1; /* open: the sequence follows */
	lident[0] = quote(qident[0], sizeof qident[0], ident.hostname);
	lident[1] = quote(qident[1], sizeof qident[1], ident.sensor_id);
	lident[2] = quote(qident[2], sizeof qident[2], ident.persona);
}

void
event_setup(const struct event_identity *id)
{
	ident = *id;
	id_prefix();
}

const struct event_identity *
event_identity(void)
{
	return &ident;
}

uint64_t
event_count(void)
{
	return seq;
}

/* A field whose value stays where it is (a constant, or the arena). */
static void
field(struct event *e, const char *key, const char *val, size_t n)
{
	if (e->nf == EVENT_MAX_FIELDS) {
		e->truncated = 1;
		return;
	}
	e->f[e->nf].key = key;
	e->f[e->nf].val = val;
	e->f[e->nf++].len = n;
}

static void
add(struct event *e, const char *key, const char *val, size_t n)
{
	if (!e || !e->open)
		return;
	if (e->nf == EVENT_MAX_FIELDS || n > ARENA - e->used) {
		e->truncated = 1;
		return;
	}
	memcpy(e->arena + e->used, val, n);
	field(e, key, e->arena + e->used, n);
	e->used += n;
}

/* Escape as a JSON string straight into the arena. */
static void
add_string(
        struct event *e, const char *key, const void *p, size_t n, size_t cap)
{
	struct json_escape_result r;
	size_t room;
	char *dst;

	if (!e || !e->open)
		return;
	room = ARENA - e->used;
	if (room < 3 || e->nf == EVENT_MAX_FIELDS) {
		e->truncated = 1;
		return;
	}
	if (n > cap)
		n = cap, e->truncated = 1;
	dst = e->arena + e->used;
	dst[0] = '"';
	r = json_escape(dst + 1, room - 2, p, n);
	if (r.truncated)
		e->truncated = 1;
	dst[1 + r.out_len] = '"';
	field(e, key, dst, r.out_len + 2);
	e->used += r.out_len + 2;
}

/* Append s[0..n) to b[*k..cap) as far as it fits (snprintf's cut). */
static void
cat(char *b, size_t *k, size_t cap, const char *s, size_t n)
{
	n = LURE_MIN(n, cap - *k);
	memcpy(b + *k, s, n);
	*k += n;
}

struct event *
event_begin(const char *action, const char *protocol)
{
	struct event *e = &ev;
	size_t i = 0;
	char ts[32];

	e->nf = e->used = e->tags_len = 0;
	e->truncated = 0;
	e->open = 1;
	json_time(ts, lure_wall());
	event_str(e, tskey, ts);
	event_str(e, "event.action", action);
	while (i < LURE_ARRAY_LEN(classes) && strcmp(classes[i].action, action))
		i++;
	if (i < LURE_ARRAY_LEN(classes)) {
		const struct action_class *ac = &classes[i];
		field(e, "event.kind", ac->kind, strlen(ac->kind));
		field(e, "event.category", ac->category, strlen(ac->category));
		field(e, "event.type", ac->type, strlen(ac->type));
	}
	if (protocol) {
		char ds[64];
		size_t dn = 5;
		memcpy(ds, "lure.", 5);
		cat(ds, &dn, sizeof ds - 1, protocol, strlen(protocol));
		ds[dn] = 0;
		event_str(e, "event.dataset", ds);
		event_str(e, "network.protocol", protocol);
	}
	if (!lid)
		id_prefix();
	field(e, "observer.hostname", qident[0], lident[0]);
	field(e, "observer.name", qident[1], lident[1]);
	field(e, "observer.type", "\"honeypot\"", 10);
	field(e, "observer.product", "\"lure\"", 6);
	field(e, "observer.version", "\"" LURE_VERSION "\"",
	        sizeof LURE_VERSION + 1);
	field(e, "lure.persona", qident[2], lident[2]);
	return e;
}

void
event_str(struct event *e, const char *key, const char *s)
{
	add_string(e, key, s, strlen(s), EVENT_LINE_MAX);
}

void
event_bytes(
        struct event *e, const char *key, const void *p, size_t n, size_t cap)
{
	add_string(e, key, p, n, cap);
}

void
event_int(struct event *e, const char *key, int64_t v)
{
	char b[24], *q = b + sizeof b;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do
		*--q = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--q = '-';
	add(e, key, q, (size_t)(b + sizeof b - q));
}

void
event_bool(struct event *e, const char *key, int v)
{
	add(e, key, v ? "true" : "false", v ? 4 : 5);
}

void
event_raw(struct event *e, const char *key, const char *json, size_t n)
{
	add(e, key, json, n);
}

void
event_tag(struct event *e, const char *tag)
{
	struct json_escape_result r;
	size_t n;

	if (!e || !e->open)
		return;
	/* tags holds a closed array: ["a","b"]; reopen it, append, close */
	n = e->tags_len ? e->tags_len - 1 : 0;
	if (n + 5 > TAGS_MAX) {
		e->truncated = 1;
		return;
	}
	e->tags[n++] = e->tags_len ? ',' : '[';
	e->tags[n++] = '"';
	r = json_escape(e->tags + n, TAGS_MAX - n - 2, (const uint8_t *)tag,
	        strlen(tag));
	if (r.truncated) { /* keep the array as it was: no half tags */
		e->truncated = 1;
		return;
	}
	n += r.out_len;
	e->tags[n++] = '"';
	e->tags[n++] = ']';
	e->tags_len = n;
}

/* Length of the dotted segment at s (keys are short: a loop beats
 * strcspn's set-up). */
static size_t
seglen(const char *s)
{
	size_t n = 0;

	while (s[n] && s[n] != '.')
		n++;
	return n;
}

struct sink {
	char *p;
	size_t n, cap;
	int full;
};

static void
put(struct sink *s, const char *p, size_t n)
{
	if (s->full || n > s->cap - s->n) {
		s->full = 1;
		return;
	}
	memcpy(s->p + s->n, p, n);
	s->n += n;
}

/* Where the j-th value of the line goes (at off): event.id's and
 * @timestamp's, when strings, in keys (the offsets leave the quotes out). */
static void
at_key(const struct shape *sh, size_t j, const struct field *x, size_t off,
        struct outbox_keys *keys)
{
	uint16_t o = (uint16_t)(off + 1), l = (uint16_t)(x->len - 2);

	if (!keys || x->len < 2 || off + x->len > UINT16_MAX)
		return;
	if (j == sh->id)
		keys->id_off = o, keys->id_len = l;
	else if (j == sh->ts)
		keys->ts_off = o, keys->ts_len = l;
}

/* The line of shape sh (its text) with the values of f: its length, 0
 * when it would not fit in cap (newline included). */
static size_t
replay(const struct shape *sh, const char *text, const struct field *f,
        char *buf, size_t cap, struct outbox_keys *keys)
{
	size_t n = 0, t = 0, l;

	for (size_t j = 0;; j++) {
		const struct field *x;
		if (n + (l = sh->end[j] - t) >= cap)
			return 0; /* the newline must fit too */
		memcpy(buf + n, text + t, l);
		n += l;
		t = sh->end[j];
		if (j == sh->m)
			break;
		x = &f[sh->order[j]];
		if (n + x->len >= cap)
			return 0;
		at_key(sh, j, x, n, keys);
		memcpy(buf + n, x->val, x->len);
		n += x->len;
	}
	buf[n++] = '\n';
	return n;
}

/* Make the shape of f[0..nf) (made, made_text): sorted keys (a binary
 * search each, the first of a repeated key stays), and the text around
 * their values, dotted names nested. */
static void
make(const struct field *f, size_t nf)
{
	struct shape *sh = &made;
	const char *stack[16];
	size_t seg[16]; /* their lengths */
	size_t depth = 0, m = 0, j;
	int first[17];
	struct sink s = {made_text, 0, sizeof made_text, 0};

	for (size_t i = 0; i < nf; i++) {
		size_t lo = 0, hi = m;
		int c = 1;
		sh->key[i] = f[i].key;
		while (lo < hi && c) {
			size_t mid = (lo + hi) / 2;
			const char *k = f[sh->order[mid]].key;
			c = k == f[i].key ? 0 : strcmp(k, f[i].key);
			if (c < 0)
				lo = mid + 1;
			else if (c > 0)
				hi = mid;
		}
		if (!c)
			continue;
		for (j = m++; j > lo; j--)
			sh->order[j] = sh->order[j - 1];
		sh->order[lo] = (uint8_t)i;
	}
	sh->nf = nf;
	sh->m = m;
	sh->id = sh->ts = 0xff;
	first[0] = 1;
	put(&s, "{", 1);
	for (j = 0;; j++) {
		const char *k = j < m ? f[sh->order[j]].key : "";
		size_t common = 0, at = 0;

		/* how many open objects are a prefix of this key */
		while (common < depth) {
			size_t l = seg[common], i = 0;
			while (i < l && k[at + i] == stack[common][i])
				i++;
			if (i < l || k[at + l] != '.')
				break;
			at += l + 1;
			common++;
		}
		for (; depth > common; depth--)
			put(&s, "}", 1);
		if (j == m)
			break;
		/* open the remaining parent segments */
		for (;;) {
			size_t l = seglen(k + at);
			if (k[at + l] != '.' || depth == 16)
				break;
			if (!first[depth])
				put(&s, ",", 1);
			first[depth] = 0;
			put(&s, "\"", 1);
			put(&s, k + at, l);
			put(&s, "\":{", 3);
			seg[depth] = l;
			stack[depth++] = k + at;
			first[depth] = 1;
			at += l + 1;
		}
		if (!first[depth])
			put(&s, ",", 1);
		first[depth] = 0;
		put(&s, "\"", 1);
		put(&s, k + at, strlen(k + at));
		put(&s, "\":", 2);
		sh->end[j] = (uint16_t)s.n;
		if (k == idkey)
			sh->id = (uint8_t)j;
		else if (k == tskey)
			sh->ts = (uint8_t)j;
	}
	put(&s, "}", 1);
	sh->end[m] = (uint16_t)s.n; /* made_text cannot fill: keys are short */
}

/* Encode; k (when not NULL) gets where event.id and @timestamp went. */
static size_t
encode(struct event *e, char *buf, size_t cap, uint64_t sq,
        struct outbox_keys *keys)
{
	struct field *f;
	size_t nf, h = 0, j;
	struct shape *sh;
	char sqbuf[24], idj[sizeof qid + 24];
	size_t sqn;

	if (!e || !e->open || cap < 2)
		return 0;
	if (keys)
		memset(keys, 0, sizeof *keys);
	/* the encoder's fields after the event's */
	f = e->f;
	nf = e->nf;
	if (e->tags_len)
		f[nf].key = "tags", f[nf].val = e->tags,
		f[nf++].len = e->tags_len;
	sqn = fmt_dec(sqbuf, sq);
	f[nf].key = "event.sequence", f[nf].val = sqbuf, f[nf++].len = sqn;
	/* "<sensor>-<boot>-<seq>" */
	if (!lid)
		id_prefix();
	memcpy(idj, qid, lid);
	memcpy(idj + lid, sqbuf, sqn);
	idj[lid + sqn] = '"';
	f[nf].key = idkey, f[nf].val = idj, f[nf++].len = lid + sqn + 1;
	if (e->truncated)
		f[nf].key = "lure.truncated", f[nf].val = "true",
		f[nf++].len = 4;

	/* any slot may hold a shape (a hash of the key addresses picks it
	 * out): a slot chosen by the hash alone put the three shapes of an
	 * HTTP connection in one slot in some builds, and each of their
	 * events was made anew (66K instructions per request, not 38K) */
	for (j = 0; j < nf; j++)
		h = (h ^ (size_t)f[j].key) * 31;
	for (size_t i = 0; i < SHAPES; i++) {
		sh = &shapes[i];
		if (sh->hash != h || sh->nf != nf)
			continue;
		for (j = 0; j < nf && sh->key[j] == f[j].key;)
			j++;
		if (j == nf &&
		        (j = replay(sh, shape_text[i], f, buf, cap, keys)))
			return j;
	}
	make(f, nf); /* new, or too long: made is what event_commit cuts */
	made.hash = h;
	if (made.end[made.m] <= SHAPE_TEXT) { /* in place of the oldest */
		shapes[next_shape] = made;
		memcpy(shape_text[next_shape], made_text, made.end[made.m]);
		next_shape = (next_shape + 1) % SHAPES;
	}
	return replay(&made, made_text, f, buf, cap, keys);
}

size_t
event_encode(struct event *e, char *buf, size_t cap, uint64_t sq)
{
	return encode(e, buf, cap, sq, NULL);
}

uint64_t
event_commit(struct event *e)
{
	static char line[EVENT_LINE_MAX];
	struct outbox_keys k;
	size_t n;

	if (!e || !e->open)
		return 0;
	n = encode(e, line, sizeof line, seq + 1, &k);
	while (!n) {
		/* too long: drop the largest field written (the first in key
		 * order of equals; made is the last try's) until it fits */
		size_t big = NF;
		for (size_t j = 0; j < made.m; j++) {
			size_t i = made.order[j];
			if (i < e->nf &&
			        (big == NF || e->f[i].len > e->f[big].len))
				big = i;
		}
		if (big == NF)
			break;
		memmove(e->f + big, e->f + big + 1,
		        (--e->nf - big) * sizeof e->f[0]);
		e->truncated = 1;
		n = encode(e, line, sizeof line, seq + 1, &k);
	}
	e->open = 0;
	if (!n)
		return 0;
	seq++;
	outbox_push_keys(line, n, &k);
	return seq;
}

void
event_discard(struct event *e)
{
	if (e)
		e->open = 0;
}

/* --- reading the two keys back ------------------------------------------ */

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* Past the string at p (p[0] == '"'), or NULL. */
static const char *
skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Past the value at p, or NULL. */
static const char *
skip_value(const char *p, const char *end)
{
	int depth = 0;

	if (p < end && *p == '"')
		return skip_string(p, end);
	if (p < end && *p != '{' && *p != '[') { /* number, true, false, null */
		while (p < end && !strchr(",}] \t\r\n", *p))
			p++;
		return p;
	}
	while (p < end) {
		if (*p == '"') {
			if (!(p = skip_string(p, end)))
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

/* The members of the object at p (p[0] == '{'): calls back with each key
 * (quotes excluded) and value until it returns nonzero. Returns that, or -1
 * at malformed text or the end of the object. */
static int
members(const char *p, const char *end,
        int (*fn)(void *, const char *, size_t, const char *, const char *),
        void *arg)
{
	p = skip_ws(p + 1, end);
	while (p < end && *p == '"') {
		const char *key = p + 1, *kend = skip_string(p, end), *v, *vend;
		int r;
		if (!kend)
			return -1;
		p = skip_ws(kend, end);
		if (p >= end || *p != ':')
			return -1;
		v = skip_ws(p + 1, end);
		if (!(vend = skip_value(v, end)))
			return -1;
		if ((r = fn(arg, key, (size_t)(kend - 1 - key), v, vend)))
			return r;
		p = skip_ws(vend, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
	}
	return -1;
}

struct keys_walk {
	const char *line;
	struct outbox_keys *k;
};

/* A string value's place in the line; 0 when it is not a short string. */
static int
keep(const struct keys_walk *w, const char *v, const char *vend, uint16_t *off,
        uint16_t *len)
{
	if (*v != '"' || vend - w->line > UINT16_MAX)
		return 0;
	*off = (uint16_t)(v + 1 - w->line);
	*len = (uint16_t)(vend - v - 2);
	return 1;
}

static int
in_event(void *arg, const char *key, size_t kl, const char *v, const char *vend)
{
	struct keys_walk *w = arg;

	if (kl == 2 && memcmp(key, "id", 2) == 0)
		return keep(w, v, vend, &w->k->id_off, &w->k->id_len) ? 1 : -1;
	return 0;
}

static int
top(void *arg, const char *key, size_t kl, const char *v, const char *vend)
{
	struct keys_walk *w = arg;

	if (kl == 10 && memcmp(key, tskey, 10) == 0 &&
	        !keep(w, v, vend, &w->k->ts_off, &w->k->ts_len))
		return -1;
	if (kl == 5 && memcmp(key, "event", 5) == 0 &&
	        (*v != '{' || members(v, vend, in_event, w) != 1))
		return -1;
	return w->k->id_len && w->k->ts_len ? 1 : 0;
}

int
event_keys(const char *line, size_t n, struct outbox_keys *k)
{
	struct keys_walk w = {line, k};
	const char *end = line + n;

	memset(k, 0, sizeof *k);
	if (n == 0 || *line != '{')
		return -1;
	return members(line, end, top, &w) == 1 ? 0 : -1;
}
