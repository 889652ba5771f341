/* event.c: one event at a time, fields kept as (key, JSON value) pairs in a
 * fixed arena, encoded at commit: keys sorted, dotted names nested. */
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

struct field {
	const char *key;
	const char *val; /* JSON text */
	size_t len;
};

struct event {
	struct field f[EVENT_MAX_FIELDS];
	size_t nf;
	char arena[ARENA];
	size_t used;
	char tags[TAGS_MAX];
	size_t tags_len;
	int truncated, open;
};

static struct event ev;
/* the two keys outbox_keys locates, compared by address while encoding */
static const char idkey[] = "event.id", tskey[] = "@timestamp";
static struct event_identity ident = {"lure", "localhost", LURE_PERSONA, "0"};
static uint64_t seq;

struct action_class {
	const char *action, *kind, *category, *type;
};

/* ECS categorisation by action. */
static const struct action_class classes[] = {
        {"connection.open", "event", "[\"network\"]",
                "[\"connection\",\"start\"]"},
        {"connection.close", "event", "[\"network\"]",
                "[\"connection\",\"end\"]"},
        {"login", "event", "[\"authentication\"]", "[\"start\"]"},
        {"request", "event", "[\"network\"]", "[\"protocol\"]"},
        {"command", "event", "[\"intrusion_detection\"]", "[\"info\"]"},
        {"exploit", "alert", "[\"intrusion_detection\"]", "[\"info\"]"},
        {"connection.refused", "event", "[\"network\"]",
                "[\"connection\",\"denied\"]"},
        {"scan", "event", "[\"network\"]", "[\"connection\",\"denied\"]"},
        {"status", "state", "[\"host\"]", "[\"info\"]"},
};

void
event_setup(const struct event_identity *id)
{
	ident = *id;
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

/* Fields stay sorted by key: a binary search finds where a key goes, or
 * that it is there already (the first writer wins). Returns the index, or
 * -1 for a duplicate. */
static long
find_slot(const struct field *f, size_t nf, const char *key)
{
	size_t lo = 0, hi = nf;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = f[mid].key == key ? 0 : strcmp(f[mid].key, key);
		if (c == 0)
			return -1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo;
}

static void
insert_at(struct field *f, size_t *nf, long at, const char *key,
        const char *val, size_t n)
{
	/* member by member (a few dozen fields): the compiler makes a whole
	 * struct copy loop a memmove call, and musl's (the static build's)
	 * costs a tenth of all the work of a request here */
	for (size_t i = *nf; i > (size_t)at; i--) {
		f[i].key = f[i - 1].key;
		f[i].val = f[i - 1].val;
		f[i].len = f[i - 1].len;
	}
	f[at].key = key;
	f[at].val = val;
	f[at].len = n;
	(*nf)++;
}

static void
add(struct event *e, const char *key, const char *val, size_t n)
{
	long at;

	if (!e || !e->open || (at = find_slot(e->f, e->nf, key)) < 0)
		return;
	if (e->nf == EVENT_MAX_FIELDS || n > ARENA - e->used) {
		e->truncated = 1;
		return;
	}
	memcpy(e->arena + e->used, val, n);
	insert_at(e->f, &e->nf, at, key, e->arena + e->used, n);
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
	long at;

	if (!e || !e->open || (at = find_slot(e->f, e->nf, key)) < 0)
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
	insert_at(e->f, &e->nf, at, key, dst, r.out_len + 2);
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
	const struct action_class *ac = NULL;
	char ts[32];

	e->nf = e->used = e->tags_len = 0;
	e->truncated = 0;
	e->open = 1;
	for (size_t i = 0; i < LURE_ARRAY_LEN(classes); i++)
		if (strcmp(classes[i].action, action) == 0)
			ac = &classes[i];
	json_time(ts, lure_wall());
	event_str(e, tskey, ts);
	event_str(e, "event.action", action);
	if (ac) {
		event_str(e, "event.kind", ac->kind);
		event_raw(e, "event.category", ac->category,
		        strlen(ac->category));
		event_raw(e, "event.type", ac->type, strlen(ac->type));
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
	event_str(e, "observer.hostname", ident.hostname);
	event_str(e, "observer.name", ident.sensor_id);
	event_str(e, "observer.type", "honeypot");
	event_str(e, "observer.product", "lure");
	event_str(e, "observer.version", LURE_VERSION);
	event_str(e, "lure.persona", ident.persona);
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

static void
extra(struct field *f, size_t *nf, const char *key, const char *val, size_t n)
{
	long at = find_slot(f, *nf, key);

	if (at >= 0)
		insert_at(f, nf, at, key, val, n);
}

/* Encode; k (when not NULL) gets where event.id and @timestamp went. */
static size_t
encode(struct event *e, char *buf, size_t cap, uint64_t sq,
        struct outbox_keys *keys)
{
	struct field f[EVENT_MAX_FIELDS + 4];
	const char *stack[16];
	size_t seg[16]; /* their lengths */
	size_t depth = 0, nf;
	int first[17];
	struct sink s = {buf, 0, cap - 1, 0};
	char sqbuf[24], id[128];
	size_t idn, sqn;
	char idj[2 * sizeof id + 2];
	struct json_escape_result r;

	if (!e || !e->open || cap < 2)
		return 0;
	if (keys)
		memset(keys, 0, sizeof *keys);
	nf = e->nf;
	memcpy(f, e->f, nf * sizeof f[0]);
	if (e->tags_len)
		extra(f, &nf, "tags", e->tags, e->tags_len);
	sqn = fmt_dec(sqbuf, sq);
	extra(f, &nf, "event.sequence", sqbuf, sqn);
	/* "<sensor>-<boot>-<seq>", cut to fit id as snprintf would */
	idn = 0;
	cat(id, &idn, sizeof id - 1, ident.sensor_id, strlen(ident.sensor_id));
	cat(id, &idn, sizeof id - 1, "-", 1);
	cat(id, &idn, sizeof id - 1, ident.boot_id, strlen(ident.boot_id));
	cat(id, &idn, sizeof id - 1, "-", 1);
	cat(id, &idn, sizeof id - 1, sqbuf, sqn);
	idj[0] = '"';
	r = json_escape(idj + 1, sizeof idj - 2, (const uint8_t *)id, idn);
	idj[r.out_len + 1] = '"';
	extra(f, &nf, idkey, idj, r.out_len + 2);
	if (e->truncated)
		extra(f, &nf, "lure.truncated", "true", 4);

	first[0] = 1;
	put(&s, "{", 1);
	for (size_t i = 0; i < nf; i++) {
		const char *k = f[i].key;
		size_t common = 0, at = 0;

		/* how many open objects are a prefix of this key */
		while (common < depth) {
			size_t l = seg[common], j = 0;
			while (j < l && k[at + j] == stack[common][j])
				j++;
			if (j < l || k[at + l] != '.')
				break;
			at += l + 1;
			common++;
		}
		for (; depth > common; depth--)
			put(&s, "}", 1);
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
		if (keys && f[i].len >= 2 && s.n + f[i].len <= UINT16_MAX) {
			/* string values: the offsets leave the quotes out */
			if (k == idkey) {
				keys->id_off = (uint16_t)(s.n + 1);
				keys->id_len = (uint16_t)(f[i].len - 2);
			} else if (k == tskey) {
				keys->ts_off = (uint16_t)(s.n + 1);
				keys->ts_len = (uint16_t)(f[i].len - 2);
			}
		}
		put(&s, f[i].val, f[i].len);
	}
	for (; depth > 0; depth--)
		put(&s, "}", 1);
	put(&s, "}", 1);
	if (s.full)
		return 0;
	buf[s.n++] = '\n';
	return s.n;
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
	while (!n && e->nf > 0) {
		/* too long: drop the largest field until it fits */
		size_t big = 0;
		for (size_t i = 1; i < e->nf; i++)
			if (e->f[i].len > e->f[big].len)
				big = i;
		memmove(e->f + big, e->f + big + 1,
		        (--e->nf - big) * sizeof e->f[0]); /* stays sorted */
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
